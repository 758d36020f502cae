#!/usr/bin/python3
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Attacks on the mail tier from a host outside the cluster (issue 14's attack lane).

Each attack is one attempt against one host and port, judged from what the
server answered; nothing is assumed. Prints a JSON list of
{"id", "what", "refused", "seen"} (the playbook reports each with
molecule/_shared/tasks/attack.yml); with --lines, prints the lines
"ATTACK refused | <id> | <what>" instead and exits 1 if any was accepted.

    attack_mail.py relay HOST...                   1: relay to a foreign domain
    attack_mail.py auth-plain HOST...              2: AUTH before STARTTLS on 587
    attack_mail.py tls HOST:PORT:MODE...           3: TLS 1.0, 1.1, a non-AEAD TLS 1.2 suite
    attack_mail.py sender --user U --password P --as ADDR HOST:PORT:MODE...
                                                   4: MAIL FROM another user's address after AUTH
    attack_mail.py legit --user U --password P --as ADDR --rcpt R HOST:PORT:MODE...
                                                   the control of 4: sending as one's own address works
    attack_mail.py brute --user U --password P [--tries N] HOST
                                                   5: N wrong AUTH at once: the anvil limit answers 4xx
    attack_mail.py lmtp HOST...                    11: LMTP (port 24) from outside
MODE is starttls (SMTP 25/587) or implicit (465, 993).
"""

import argparse
import base64
import json
import re
import smtplib
import socket
import ssl
import subprocess
import sys
import threading

HELO = 'attacker.example.org'
TIMEOUT = 10
# Longer than Dovecot's largest auth penalty (15 s).
AUTH_TIMEOUT = 40
# Non-AEAD TLS 1.2 suites (CBC with SHA-1/SHA-2 MACs), for ECDSA and RSA certificates alike.
NON_AEAD = ('ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA:'
            'ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:AES128-SHA256:AES128-SHA:@SECLEVEL=0')


def _context():
    # The attacker does not care whose certificate it is.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _smtp(host, port, mode, timeout=TIMEOUT):
    if mode == 'implicit':
        smtp = smtplib.SMTP_SSL(host, port, local_hostname=HELO, timeout=timeout, context=_context())
        smtp.ehlo()
    else:
        smtp = smtplib.SMTP(host, port, local_hostname=HELO, timeout=timeout)
        smtp.ehlo()
        if mode == 'starttls':
            smtp.starttls(context=_context())
            smtp.ehlo()
    return smtp


def _reply(answer):
    code, msg = answer
    return '%d %s' % (code, msg.decode('utf-8', 'replace') if isinstance(msg, bytes) else msg)


def _close(smtp):
    try:
        smtp.close()
    except Exception:  # pylint: disable=broad-except
        pass


def relay(host):
    """1: an outsider relays to a foreign domain; refused unless RCPT is accepted."""
    smtp = _smtp(host, 25, 'none')
    try:
        mail = smtp.mail('outsider@example.org')
        rcpt = smtp.rcpt('victim@example.org')
        return not 200 <= rcpt[0] < 300, 'MAIL %s; RCPT %s' % (_reply(mail), _reply(rcpt))
    finally:
        _close(smtp)


def auth_plain(host, user='alice@example.com', password='x'):
    """2: AUTH on 587 before STARTTLS; refused unless the server takes the credentials (235) or asks for more (334)."""
    smtp = _smtp(host, 587, 'none')
    try:
        offered = smtp.has_extn('auth')
        token = base64.b64encode(('\0%s\0%s' % (user, password)).encode()).decode()
        answer = smtp.docmd('AUTH', 'PLAIN ' + token)
        return answer[0] not in (235, 334) and not offered, 'AUTH offered: %s; AUTH PLAIN: %s' % (offered, _reply(answer))
    finally:
        _close(smtp)


def tls_attempt(host, port, mode, variant):
    """3: a weak TLS handshake with openssl s_client; refused unless a cipher was agreed."""
    argv = ['openssl', 's_client', '-connect', '%s:%s' % (host, port), '-servername', host]
    if mode == 'starttls':
        argv += ['-starttls', 'imap' if str(port) == '143' else 'smtp']
    if variant == 'tls1':
        argv += ['-tls1', '-cipher', 'DEFAULT:@SECLEVEL=0']
    elif variant == 'tls1_1':
        argv += ['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0']
    else:
        argv += ['-tls1_2', '-cipher', NON_AEAD]
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=TIMEOUT * 2, check=False)
        out = proc.stdout.decode('utf-8', 'replace')
    except subprocess.TimeoutExpired:
        return True, 'no handshake within %ds' % (TIMEOUT * 2)
    agreed = re.search(r'Cipher is (\S+)', out)
    protocol = re.search(r'Protocol\s*:\s*(\S+)', out)
    accepted = bool(agreed and agreed.group(1) != '(NONE)')
    seen = 'rc=%d, %s, %s' % (proc.returncode, agreed.group(0) if agreed else 'no cipher',
                               protocol.group(0) if protocol else 'no protocol')
    alert = re.search(r'alert [a-z ]+|no protocols available|no ciphers available|wrong version number', out)
    if alert and not accepted:
        seen += ', ' + alert.group(0)
    return not accepted, seen


def sender(host, port, mode, user, password, address):
    """4: after AUTH as ``user``, MAIL FROM another user's ``address``; refused unless RCPT and DATA pass."""
    smtp = _smtp(host, port, mode)
    try:
        try:
            smtp.login(user, password)
        except smtplib.SMTPException as exc:
            return False, 'the attack could not run: %s did not log in (%s)' % (user, exc)
        mail = smtp.mail(address)
        if not 200 <= mail[0] < 300:
            return True, 'MAIL %s' % _reply(mail)
        rcpt = smtp.rcpt(user)
        if not 200 <= rcpt[0] < 300:
            return True, 'MAIL %s; RCPT %s' % (_reply(mail), _reply(rcpt))
        data = smtp.data(('From: <%s>\r\nTo: <%s>\r\nSubject: forged sender\r\n\r\nforged\r\n' % (address, user)).encode())
        return not 200 <= data[0] < 300, 'MAIL %s; RCPT %s; DATA %s' % (_reply(mail), _reply(rcpt), _reply(data))
    finally:
        _close(smtp)


def legit(host, port, mode, user, password, address, rcpt):
    """Not an attack: the control beside attack 4 (``user`` sends as its own ``address`` and is accepted)."""
    smtp = _smtp(host, port, mode)
    try:
        smtp.login(user, password)
        body = 'From: <%s>\r\nTo: <%s>\r\nSubject: own address\r\n\r\nlegit\r\n' % (address, rcpt)
        refused = smtp.sendmail(address, [rcpt], body.encode())
        return not refused, 'sent as %s on %s:%d' % (address, host, port)
    finally:
        _close(smtp)


def _auth(smtp, user, password):
    token = base64.b64encode(('\0%s\0%s' % (user, password)).encode()).decode()
    code, msg = smtp.docmd('AUTH', 'PLAIN ' + token)
    return code, '%d %s' % (code, msg.decode('utf-8', 'replace'))


def brute(host, user, password, tries):
    """5: ``tries`` wrong passwords at once on 587, each on its own STARTTLS connection, as a guesser would;
    refused only if Postfix's anvil limit answered some of them 4xx ("too many ...") and none was accepted,
    and the right password is refused right after.

    At once, because Dovecot delays each failed AUTH from one address more (its auth penalty), and Postfix
    gives up waiting after 10 s (454): one guess after another never reaches the limit, so a sequential run
    would be judged by Dovecot's brake, not anvil's.
    """
    sessions, answers = [], []
    try:
        for attempt in range(1, tries + 1):
            try:
                sessions.append(_smtp(host, 587, 'starttls', AUTH_TIMEOUT))
            except smtplib.SMTPResponseException as exc:  # 421 at connect: too many connections (anvil)
                answers.append((exc.smtp_code, '%d %s' % (exc.smtp_code, exc.smtp_error.decode('utf-8', 'replace'))))
        threads = [threading.Thread(target=lambda i, sm: answers.append(_guarded_auth(sm, user, '%s-wrong%d' % (password, i))),
                                    args=(i, sm)) for i, sm in enumerate(sessions)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for smtp in sessions:
            _close(smtp)
    codes = sorted(code for code, _text in answers)
    if 235 in codes:
        return False, 'a wrong password was accepted'
    limited = [text for code, text in answers if 400 <= code < 500 and 'too many' in text.lower()]
    if not limited:
        return False, '%d wrong AUTH at once, none stopped by a rate limit (codes %s)' % (tries, codes)
    try:
        smtp = _smtp(host, 587, 'starttls', AUTH_TIMEOUT)
        try:
            code, after = _auth(smtp, user, password)
        finally:
            _close(smtp)
    except smtplib.SMTPResponseException as exc:
        code, after = exc.smtp_code, '%d %s' % (exc.smtp_code, exc.smtp_error.decode('utf-8', 'replace'))
    return code != 235, '%d wrong AUTH at once: codes %s, e.g. "%s"; then the right password: %s' % (
        tries, codes, limited[0], after)


def _guarded_auth(smtp, user, password):
    try:
        return _auth(smtp, user, password)
    except smtplib.SMTPResponseException as exc:
        return exc.smtp_code, '%d %s' % (exc.smtp_code, exc.smtp_error.decode('utf-8', 'replace'))
    except (smtplib.SMTPException, OSError) as exc:
        return 0, 'no answer: %s' % exc


def lmtp(host):
    """11: LMTP on port 24 from outside; refused unless the server greets and takes LHLO."""
    try:
        sock = socket.create_connection((host, 24), timeout=5)
    except (OSError, socket.timeout) as exc:
        return True, 'connect: %s' % exc
    try:
        sock.settimeout(5)
        banner = sock.recv(512).decode('utf-8', 'replace').strip()
        if not banner.startswith('220'):
            return True, 'banner: %r' % banner
        sock.sendall(b'LHLO attacker.example.org\r\n')
        answer = sock.recv(1024).decode('utf-8', 'replace').strip()
        return not answer.startswith('250'), 'banner %r; LHLO %r' % (banner, answer.splitlines()[0] if answer else '')
    except (OSError, socket.timeout) as exc:
        return True, 'no greeting: %s' % exc
    finally:
        sock.close()


def _guard(func, *args):
    """Run one attempt against a live service: an SMTP error reply is a refusal; a service that cannot be
    reached at all proves nothing, so it counts as not refused (the attack did not run)."""
    try:
        return func(*args)
    except smtplib.SMTPResponseException as exc:
        msg = exc.smtp_error.decode('utf-8', 'replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return True, '%d %s' % (exc.smtp_code, msg)
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        return False, 'the attack could not run (%s: %s)' % (type(exc).__name__, exc)


def _endpoint(text):
    host, port, mode = text.rsplit(':', 2)
    return host, int(port), mode


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--lines', action='store_true', help='print ATTACK lines, exit 1 if any was accepted')
    sub = parser.add_subparsers(dest='attack', required=True)
    for name in ('relay', 'auth-plain', 'lmtp'):
        sub.add_parser(name).add_argument('hosts', nargs='+')
    sub.add_parser('tls').add_argument('endpoints', nargs='+')
    p = sub.add_parser('sender')
    p.add_argument('--user', required=True)
    p.add_argument('--password', required=True)
    p.add_argument('--as', dest='address', required=True)
    p.add_argument('endpoints', nargs='+')
    p = sub.add_parser('legit')
    p.add_argument('--user', required=True)
    p.add_argument('--password', required=True)
    p.add_argument('--as', dest='address', required=True)
    p.add_argument('--rcpt', required=True)
    p.add_argument('endpoints', nargs='+')
    p = sub.add_parser('brute')
    p.add_argument('--user', required=True)
    p.add_argument('--password', required=True)
    p.add_argument('--tries', type=int, default=15)
    p.add_argument('hosts', nargs='+')
    args = parser.parse_args()

    results = []

    def record(attack_id, what, outcome):
        results.append({'id': attack_id, 'what': what, 'refused': bool(outcome[0]), 'seen': outcome[1]})

    if args.attack == 'relay':
        for host in args.hosts:
            record(1, 'relay outsider@example.org -> victim@example.org through %s:25' % host, _guard(relay, host))
    elif args.attack == 'auth-plain':
        for host in args.hosts:
            record(2, 'AUTH PLAIN before STARTTLS on %s:587' % host, _guard(auth_plain, host))
    elif args.attack == 'tls':
        names = {'tls1': 'TLS 1.0', 'tls1_1': 'TLS 1.1', 'non_aead': 'a non-AEAD TLS 1.2 suite (CBC)'}
        for endpoint in args.endpoints:
            host, port, mode = _endpoint(endpoint)
            for variant in ('tls1', 'tls1_1', 'non_aead'):
                record(3, '%s handshake with %s:%d' % (names[variant], host, port),
                       _guard(tls_attempt, host, port, mode, variant))
    elif args.attack == 'sender':
        for endpoint in args.endpoints:
            host, port, mode = _endpoint(endpoint)
            record(4, '%s sends as %s after AUTH on %s:%d' % (args.user, args.address, host, port),
                   _guard(sender, host, port, mode, args.user, args.password, args.address))
    elif args.attack == 'legit':
        out = []
        for endpoint in args.endpoints:
            host, port, mode = _endpoint(endpoint)
            try:
                ok, seen = legit(host, port, mode, args.user, args.password, args.address, args.rcpt)
            except (smtplib.SMTPException, OSError) as exc:
                ok, seen = False, '%s: %s' % (type(exc).__name__, exc)
            out.append({'endpoint': endpoint, 'accepted': ok, 'seen': seen})
        print(json.dumps(out))
        return 0 if all(o['accepted'] for o in out) else 1
    elif args.attack == 'brute':
        for host in args.hosts:
            record(5, 'brute-force AUTH (%d wrong passwords at once) on %s:587' % (args.tries, host),
                   _guard(brute, host, args.user, args.password, args.tries))
    elif args.attack == 'lmtp':
        for host in args.hosts:
            record(11, 'LMTP from outside to %s:24' % host, _guard(lmtp, host))

    if args.lines:
        for r in results:
            print('ATTACK %s | %d | %s' % ('refused' if r['refused'] else 'ACCEPTED', r['id'], r['what']))
        return 0 if all(r['refused'] for r in results) else 1
    print(json.dumps(results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
