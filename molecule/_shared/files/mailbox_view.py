#!/usr/bin/env python3
"""What an IMAP client sees of one mailbox, through each primary: the same, or not?

A client that round robin sends to another primary keeps its cached UIDs and
keywords; if any primary shows a different UIDVALIDITY, another UID for a
message or other keywords, the client flags or expunges the wrong message.

    mailbox_view.py --user U --password P --ca CA --host A --host B ...
        [--keyword KW --through A --subject-tag TAG]   set KW on the TAG messages through A first
        [--expect FILE]                                compare with an earlier run's output too
        [--min-messages N]

Prints one JSON document: the view through each host (UIDVALIDITY, and per
Message-ID its UID and flags) and the differences; exits 1 when there is any
difference (between hosts, or against --expect), 2 on a connection error.
"""
import argparse
import imaplib
import json
import re
import ssl
import sys

_FETCH = re.compile(rb'UID (\d+).*FLAGS \(([^)]*)\)', re.S)


def connect(host, user, password, ca):
    client = imaplib.IMAP4(host, 143, timeout=20)
    client.starttls(ssl_context=ssl.create_default_context(cafile=ca))
    client.login(user, password)
    return client


def view(host, user, password, ca):
    client = connect(host, user, password, ca)
    try:
        typ, data = client.select('INBOX', readonly=True)
        if typ != 'OK':
            raise imaplib.IMAP4.error('SELECT INBOX: %s' % data)
        uidvalidity = int(client.untagged_responses.get('UIDVALIDITY', [b'0'])[0])
        typ, data = client.uid('FETCH', '1:*', '(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID SUBJECT)])')
        messages = {}
        for item in data or []:
            if not isinstance(item, tuple):
                continue
            meta, header = item
            found = _FETCH.search(meta)
            fields = dict((k.strip().lower(), v.strip()) for k, _sep, v in
                          (line.partition(':') for line in header.decode('utf-8', 'replace').splitlines()) if v)
            # Keyed by Message-ID; a message without one (a bare test mail) by its subject.
            msgid = fields.get('message-id') or ('subject:' + fields['subject'] if 'subject' in fields else None)
            if found and msgid:
                messages[msgid] = {'uid': int(found.group(1)),
                                   'flags': sorted(f for f in found.group(2).decode().split() if f != '\\Recent')}
        return {'uidvalidity': uidvalidity, 'messages': messages}
    finally:
        client.logout()


def set_keyword(host, user, password, ca, keyword, tag):
    client = connect(host, user, password, ca)
    try:
        client.select('INBOX')
        typ, data = client.uid('SEARCH', 'SUBJECT', tag)
        uids = data[0].split() if data and data[0] else []
        for uid in uids:
            client.uid('STORE', uid, '+FLAGS', '(%s)' % keyword)
        return len(uids)
    finally:
        client.logout()


def differences(reference_name, reference, name, other):
    found = []
    if reference['uidvalidity'] != other['uidvalidity']:
        found.append('UIDVALIDITY %s=%d, %s=%d' % (reference_name, reference['uidvalidity'], name, other['uidvalidity']))
    for msgid in sorted(set(reference['messages']) | set(other['messages'])):
        a, b = reference['messages'].get(msgid), other['messages'].get(msgid)
        if a is None or b is None:
            found.append('%s only through %s' % (msgid, reference_name if b is None else name))
        elif a != b:
            found.append('%s: %s=%s, %s=%s' % (msgid, reference_name, a, name, b))
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--user', required=True)
    parser.add_argument('--password', required=True)
    parser.add_argument('--ca', required=True)
    parser.add_argument('--host', action='append', required=True)
    parser.add_argument('--keyword')
    parser.add_argument('--through')
    parser.add_argument('--subject-tag')
    parser.add_argument('--expect')
    parser.add_argument('--min-messages', type=int, default=1)
    args = parser.parse_args()
    report = {'views': {}, 'differences': []}
    try:
        if args.keyword:
            report['keyword_set_on'] = set_keyword(args.through, args.user, args.password, args.ca,
                                                   args.keyword, args.subject_tag)
        for host in args.host:
            report['views'][host] = view(host, args.user, args.password, args.ca)
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        report['error'] = str(exc)
        print(json.dumps(report, indent=1, sort_keys=True))
        return 2
    first = args.host[0]
    for host in args.host[1:]:
        report['differences'] += differences(first, report['views'][first], host, report['views'][host])
    if args.expect:
        with open(args.expect) as handle:
            before = json.load(handle)
        # Messages delivered since are not compared: what was there must be unchanged.
        for host, earlier in before['views'].items():
            now = report['views'][first]
            kept = {'uidvalidity': now['uidvalidity'],
                    'messages': dict((k, v) for k, v in now['messages'].items() if k in earlier['messages'])}
            report['differences'] += ['since --expect (%s): %s' % (host, d)
                                      for d in differences('before', earlier, 'now', kept)]
    count = len(report['views'][first]['messages'])
    if count < args.min_messages:
        report['differences'].append('%d messages, expected at least %d' % (count, args.min_messages))
    if args.keyword and not report.get('keyword_set_on'):
        report['differences'].append('no message with subject %r to set %s on' % (args.subject_tag, args.keyword))
    if args.keyword and not any(args.keyword in m['flags'] for m in report['views'][first]['messages'].values()):
        report['differences'].append('keyword %s is not shown through %s' % (args.keyword, first))
    report['same'] = not report['differences']
    print(json.dumps(report, indent=1, sort_keys=True))
    return 0 if report['same'] else 1


if __name__ == '__main__':
    sys.exit(main())
