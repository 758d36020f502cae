#!/usr/bin/python3
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Outside-in SMTP and IMAP probes for the molecule scenario "mail".

Runs on the client container with the standard library only and prints one
JSON object; the verify playbook asserts on it. TLS is always verified
against the cluster CA (--ca).

  send HOST PORT FROM RCPT[,RCPT...] SUBJECT [--count N]
      plain SMTP (port 25): the reply of every command, and how many messages
      were accepted
  relay HOST PORT FROM RCPT      the RCPT reply for a recipient (no DATA)
  submit HOST PORT USER PASSWORD FROM RCPT SUBJECT
      submission: AUTH without TLS (must be refused), AUTH with a wrong
      password over TLS (refused), then AUTH over STARTTLS and send
  imap HOST USER PASSWORD SUBJECT   count INBOX messages whose subject
      contains SUBJECT, over IMAPS (993) and over IMAP+STARTTLS (143); also
      the POP3 message count over POP3S (995) and POP3+STLS (110)
  header HOST USER PASSWORD SUBJECT NAME
      the NAME header fields of the INBOX messages whose subject contains
      SUBJECT, over IMAPS, one list per message
"""

import argparse
import base64
import email
import imaplib
import json
import poplib
import smtplib
import socket
import ssl
import sys
import uuid


def context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


# The GTUBE test string: every spam filter refuses a message that carries it.
GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'


def message(sender, rcpt, subject, gtube=False):
    # The subject in the body too: greylisting remembers a body that passed, and each probe must be new to it.
    return ('From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@mailprobe>\r\n\r\n'
            'clustered.mail probe: %s\r\n%s' % (sender, rcpt, subject, uuid.uuid4(), subject,
                                                 GTUBE + '\r\n' if gtube else ''))


def reply(code_msg):
    code, msg = code_msg
    return {'code': code, 'msg': msg.decode('utf-8', 'replace') if isinstance(msg, bytes) else str(msg)}


def cmd_send(args):
    rcpts = args.rcpt.split(',')
    accepted, results = 0, []
    for index in range(args.count):
        rcpt = rcpts[index % len(rcpts)]
        smtp = smtplib.SMTP(args.host, args.port, local_hostname='client.example.org', timeout=30)
        try:
            smtp.ehlo()
            mail = reply(smtp.mail(args.sender))
            rcpt_reply = reply(smtp.rcpt(rcpt))
            data = None
            if rcpt_reply['code'] == 250:
                try:
                    data = reply(smtp.data(message(args.sender, rcpt, '%s %d' % (args.subject, index), args.gtube)))
                except smtplib.SMTPDataError as exc:
                    data = {'code': exc.smtp_code, 'msg': exc.smtp_error.decode('utf-8', 'replace')}
                if data['code'] == 250:
                    accepted += 1
            results.append({'rcpt': rcpt, 'mail': mail, 'rcpt_reply': rcpt_reply, 'data': data})
        finally:
            smtp.quit()
    return {'accepted': accepted, 'sent': args.count, 'results': results}


def cmd_pregreet(args):
    """Talk before the banner, as spam bots do, then try to send: postscreen must refuse the mail.

    What the server answers to the early EHLO (smtpd answers it, postscreen
    swallows it) is drained; then EHLO, MAIL and RCPT are sent one by one.
    """
    sock = socket.create_connection((args.host, args.port), timeout=30)
    buf = [b'']

    def line(timeout):
        sock.settimeout(timeout)
        while b'\n' not in buf[0]:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            buf[0] += chunk
        got, buf[0] = buf[0].split(b'\n', 1)
        return got.decode('utf-8', 'replace').rstrip('\r')

    def read(timeout=30):
        got = []
        while True:
            try:
                text = line(timeout)
            except socket.timeout:
                text = None
            if text is None:
                break
            got.append(text)
            if len(text) < 4 or text[3] != '-':
                break
        return {'code': int(got[-1][:3]) if got and got[-1][:3].isdigit() else None, 'msg': '\n'.join(got)}

    try:
        sock.sendall(b'EHLO pregreet.example.org\r\n')
        banner = read()
        early = read(timeout=3)
        sock.sendall(b'EHLO pregreet.example.org\r\n')
        ehlo = read()
        sock.sendall(('MAIL FROM:<%s>\r\n' % args.sender).encode())
        mail = read()
        sock.sendall(('RCPT TO:<%s>\r\n' % args.rcpt).encode())
        rcpt = read()
        sock.sendall(b'QUIT\r\n')
    except OSError as exc:
        return {'error': str(exc)}
    finally:
        sock.close()
    return {'banner': banner, 'early': early, 'ehlo': ehlo, 'mail': mail, 'rcpt': rcpt}


def cmd_relay(args):
    smtp = smtplib.SMTP(args.host, args.port, local_hostname='client.example.org', timeout=30)
    try:
        smtp.ehlo()
        mail = reply(smtp.mail(args.sender))
        rcpt = reply(smtp.rcpt(args.rcpt))
        smtp.rset()
    finally:
        smtp.quit()
    return {'mail': mail, 'rcpt': rcpt}


def cmd_submit(args):
    out = {}
    token = base64.b64encode(('\0%s\0%s' % (args.user, args.password)).encode()).decode()
    # 1. Without TLS: AUTH must not be offered, and must be refused when tried.
    smtp = smtplib.SMTP(args.host, args.port, local_hostname='client.example.org', timeout=30)
    try:
        smtp.ehlo()
        out['plain_auth_offered'] = smtp.has_extn('auth')
        out['plain_starttls_offered'] = smtp.has_extn('starttls')
        out['plain_auth'] = reply(smtp.docmd('AUTH', 'PLAIN ' + token))
        out['plain_mail'] = reply(smtp.mail(args.sender))
    finally:
        smtp.close()
    # 2. Over TLS with a wrong password: refused.
    smtp = smtplib.SMTP(args.host, args.port, local_hostname='client.example.org', timeout=30)
    try:
        smtp.starttls(context=context(args.ca))
        smtp.ehlo()
        try:
            smtp.login(args.user, args.password + '-wrong')
            out['wrong_password'] = {'code': 235, 'msg': 'accepted'}
        except smtplib.SMTPAuthenticationError as exc:
            out['wrong_password'] = {'code': exc.smtp_code, 'msg': exc.smtp_error.decode('utf-8', 'replace')}
    finally:
        smtp.close()
    # 3. Over TLS with the right password: accepted, and the message is sent.
    smtp = smtplib.SMTP(args.host, args.port, local_hostname='client.example.org', timeout=30)
    try:
        smtp.starttls(context=context(args.ca))
        out['tls_version'] = smtp.sock.version()
        smtp.ehlo()
        out['tls_auth_offered'] = smtp.has_extn('auth')
        out['login'] = reply(smtp.login(args.user, args.password))
        refused = smtp.sendmail(args.sender, [args.rcpt], message(args.sender, args.rcpt, args.subject))
        out['sent'] = not refused
    finally:
        smtp.quit()
    return out


def search(imap, subject):
    """The numbers of the INBOX messages whose subject contains SUBJECT (read-only)."""
    imap.select('INBOX', readonly=True)
    typ, data = imap.search(None, 'SUBJECT', '"%s"' % subject)
    if typ != 'OK':
        raise RuntimeError('IMAP SEARCH failed: %r' % (data,))
    return data[0].split()


def count(imap, subject):
    return len(search(imap, subject))


def cmd_imap(args):
    out = {}
    imap = imaplib.IMAP4_SSL(args.host, 993, ssl_context=context(args.ca), timeout=30)
    try:
        imap.login(args.user, args.password)
        out['imaps'] = count(imap, args.subject)
        out['imaps_tls'] = imap.sock.version()
    finally:
        imap.logout()
    imap = imaplib.IMAP4(args.host, 143, timeout=30)
    try:
        # Cleartext login is refused before STARTTLS.
        try:
            imap.login(args.user, args.password)
            out['plain_login'] = 'accepted'
        except imaplib.IMAP4.error as exc:
            out['plain_login'] = 'refused: %s' % exc
        imap.starttls(ssl_context=context(args.ca))
        imap.login(args.user, args.password)
        out['starttls'] = count(imap, args.subject)
    finally:
        imap.logout()
    pop = poplib.POP3_SSL(args.host, 995, context=context(args.ca), timeout=30)
    try:
        pop.user(args.user)
        pop.pass_(args.password)
        out['pop3s'] = pop.stat()[0]
    finally:
        pop.quit()
    pop = poplib.POP3(args.host, 110, timeout=30)
    try:
        # Cleartext USER/PASS is refused before STLS.
        try:
            pop.user(args.user)
            pop.pass_(args.password)
            out['pop3_plain_login'] = 'accepted'
        except poplib.error_proto as exc:
            out['pop3_plain_login'] = 'refused: %s' % exc
    finally:
        pop.quit()
    pop = poplib.POP3(args.host, 110, timeout=30)
    try:
        pop.stls(context=context(args.ca))
        pop.user(args.user)
        pop.pass_(args.password)
        out['pop3_stls'] = pop.stat()[0]
    finally:
        pop.quit()
    return out


def cmd_header(args):
    imap = imaplib.IMAP4_SSL(args.host, 993, ssl_context=context(args.ca), timeout=30)
    try:
        imap.login(args.user, args.password)
        messages = []
        for num in search(imap, args.subject):
            typ, fetched = imap.fetch(num, '(BODY.PEEK[HEADER])')
            if typ != 'OK':
                raise RuntimeError('IMAP FETCH failed: %r' % (fetched,))
            parsed = email.message_from_bytes(fetched[0][1])
            messages.append([' '.join(str(value).split()) for value in parsed.get_all(args.name, [])])
    finally:
        imap.logout()
    return {'messages': messages}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--ca', default='/etc/ssl/clustered-mail/ca.crt')
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('send')
    for name in ('host', 'port', 'sender', 'rcpt', 'subject'):
        p.add_argument(name, type=int if name == 'port' else str)
    p.add_argument('--count', type=int, default=1)
    p.add_argument('--gtube', action='store_true', help='carry the GTUBE test string (spam)')
    p = sub.add_parser('pregreet')
    for name in ('host', 'port', 'sender', 'rcpt'):
        p.add_argument(name, type=int if name == 'port' else str)
    p = sub.add_parser('relay')
    for name in ('host', 'port', 'sender', 'rcpt'):
        p.add_argument(name, type=int if name == 'port' else str)
    p = sub.add_parser('submit')
    for name in ('host', 'port', 'user', 'password', 'sender', 'rcpt', 'subject'):
        p.add_argument(name, type=int if name == 'port' else str)
    p = sub.add_parser('imap')
    for name in ('host', 'user', 'password', 'subject'):
        p.add_argument(name)
    p = sub.add_parser('header')
    for name in ('host', 'user', 'password', 'subject', 'name'):
        p.add_argument(name)
    args = parser.parse_args()
    result = globals()['cmd_' + args.command](args)
    json.dump(result, sys.stdout, sort_keys=True)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
