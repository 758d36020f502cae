#!/usr/bin/env python3
"""Send a mail through submission, read it back by IMAP, and verify its DKIM signature against our DNS.

Run on the controller:

    dkim_mail.py send CONFIG.json OUT.eml     send, read back, save the message as received, verify
    dkim_mail.py verify CONFIG.json IN.eml    verify a saved message again, against what DNS serves now

CONFIG: {"smtp": address, "imap": address, "user": address, "password": theirs, "ca": path,
         "dns": address of the DNS server asked (ours, directly), "selector": the selector expected to sign
         (send), "expect": "pass" or "fail" (verify; default pass)}

The key record is looked up with dnspython at CONFIG["dns"] (no recursion):
the TXT our BIND serves, not a resolver's. Prints a JSON report; exits 1 when
the outcome is not the expected one.
"""
import email
import imaplib
import json
import smtplib
import ssl
import sys
import time
import uuid
from email.message import EmailMessage

import dkim
import dns.flags
import dns.message
import dns.query
import dns.rdatatype


def dnsfunc_at(server):
    def get_txt(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode('ascii')
        query = dns.message.make_query(name, 'TXT')
        query.flags &= ~dns.flags.RD
        response = dns.query.tcp(query, server, timeout=timeout)
        for rrset in response.answer:
            if rrset.rdtype == dns.rdatatype.TXT:
                return b''.join(list(rrset)[0].strings)
        return None
    return get_txt


def send(config):
    """Submit a message as the user to the user, and return it as delivered (bytes)."""
    context = ssl.create_default_context(cafile=config['ca'])
    message_id = '<dkim-%s@%s>' % (uuid.uuid4().hex, config['user'].split('@')[1])
    msg = EmailMessage()
    msg['From'] = config['user']
    msg['To'] = config['user']
    msg['Subject'] = 'dkim probe'
    msg['Message-ID'] = message_id
    msg['Date'] = email.utils.formatdate()
    msg.set_content('signed by the cluster, verified against its DNS\n')
    with smtplib.SMTP(config['smtp'], 587, timeout=20) as smtp:
        smtp.starttls(context=context)
        smtp.login(config['user'], config['password'])
        smtp.send_message(msg)
    deadline = time.time() + 60
    while time.time() < deadline:
        client = imaplib.IMAP4(config['imap'], 143, timeout=10)
        try:
            client.starttls(ssl_context=context)
            client.login(config['user'], config['password'])
            client.select('INBOX')
            _typ, data = client.uid('SEARCH', None, 'HEADER', 'Message-ID', message_id)
            uids = data[0].split()
            if uids:
                _typ, fetched = client.uid('FETCH', uids[-1], '(BODY.PEEK[])')
                client.uid('STORE', uids[-1], '+FLAGS', '(\\Deleted)')
                client.expunge()
                return fetched[0][1]
        finally:
            try:
                client.logout()
            except (OSError, imaplib.IMAP4.error):
                pass
        time.sleep(2)
    raise SystemExit('the message %s was not delivered within 60 s' % message_id)


def check(raw, config):
    """(verified, selector, domain, logs) of the message's DKIM-Signature."""
    parsed = email.message_from_bytes(raw)
    signatures = parsed.get_all('DKIM-Signature') or []
    tags = {}
    if signatures:
        for part in signatures[0].replace('\r', '').replace('\n', '').split(';'):
            if '=' in part:
                key, _sep, value = part.partition('=')
                tags[key.strip()] = value.strip()
    verified = bool(signatures) and dkim.verify(raw, dnsfunc=dnsfunc_at(config['dns']))
    return {'signatures': len(signatures), 'selector': tags.get('s'), 'domain': tags.get('d'), 'verified': bool(verified)}


def main(mode, config_path, eml):
    with open(config_path) as handle:
        config = json.load(handle)
    if mode == 'send':
        raw = send(config)
        with open(eml, 'wb') as handle:
            handle.write(raw)
        report = check(raw, config)
        ok = report['verified'] and report['selector'] == config['selector'] \
            and report['domain'] == config['user'].split('@')[1]
    else:
        with open(eml, 'rb') as handle:
            report = check(handle.read(), config)
        ok = report['verified'] == (config.get('expect', 'pass') == 'pass')
    report['ok'] = ok
    print(json.dumps(report))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3]))
