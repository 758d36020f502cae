#!/usr/bin/python3
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Mail bursts and mailbox counts for the molecule scenario "cluster" (runs on the client).

  send TAG COUNT RCPT HOST[,HOST...] [--delay S]
      COUNT messages to RCPT, subject "TAG <i>", each offered to the hosts in
      turn (round robin, like equal-preference MX records); a host that does
      not answer or fails mid-transaction is skipped and the message offered
      to the next one, as a sending MTA would. Prints JSON: how many were
      accepted (250 after DATA), by which host, and the failures seen.
  count TAG HOST USER PASSWORD CA
      over IMAP+STARTTLS (verified against CA): the distinct subjects of the
      INBOX messages tagged TAG, and how many messages carry them (a message
      whose 250 was lost with a dying server is offered again elsewhere, so a
      duplicate is legitimate; a missing subject is a lost message). JSON.
"""

import argparse
import imaplib
import json
import smtplib
import ssl
import time


def cmd_send(args):
    hosts = args.hosts.split(',')
    accepted_by, accepted, failures, lost = {}, [], [], []
    for i in range(args.count):
        subject = '%s %d' % (args.tag, i)
        done = False
        for attempt in range(len(hosts) * 3):
            host = hosts[(i + attempt) % len(hosts)]
            try:
                # 30 s: postscreen holds a new client 6 s (pregreet test) before smtpd greets it
                with smtplib.SMTP(host, 25, local_hostname='client.example.org', timeout=30) as smtp:
                    smtp.sendmail('burst@example.org', [args.rcpt],
                                  'From: burst@example.org\r\nTo: %s\r\nSubject: %s\r\n\r\nburst\r\n' % (args.rcpt, subject))
                accepted_by[host] = accepted_by.get(host, 0) + 1
                accepted.append(subject)
                done = True
                break
            except (OSError, smtplib.SMTPException) as e:
                failures.append('%s: %s: %s' % (subject, host, e))
                time.sleep(0.2)
        if not done:
            lost.append(subject)
        time.sleep(args.delay)
    return {'sent': args.count, 'accepted': len(accepted), 'accepted_subjects': accepted,
            'accepted_by': accepted_by, 'not_accepted': lost, 'failures': failures}


def cmd_count(args):
    ctx = ssl.create_default_context(cafile=args.ca)
    imap = imaplib.IMAP4(args.host, 143, timeout=30)
    imap.starttls(ssl_context=ctx)
    imap.login(args.user, args.password)
    imap.select('INBOX', readonly=True)
    typ, data = imap.search(None, 'SUBJECT', '"%s "' % args.tag)
    nums = data[0].split() if typ == 'OK' and data[0] else []
    subjects = []
    for num in nums:
        header = imap.fetch(num, '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')[1][0][1].decode()
        subjects.append(header.split(':', 1)[1].strip())
    imap.logout()
    return {'messages': len(nums), 'subjects': sorted(set(subjects)), 'count': len(set(subjects))}


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest='cmd', required=True)
    send = sub.add_parser('send')
    send.add_argument('tag')
    send.add_argument('count', type=int)
    send.add_argument('rcpt')
    send.add_argument('hosts')
    send.add_argument('--delay', type=float, default=0.1)
    count = sub.add_parser('count')
    for name in ('tag', 'host', 'user', 'password', 'ca'):
        count.add_argument(name)
    args = parser.parse_args()
    print(json.dumps(cmd_send(args) if args.cmd == 'send' else cmd_count(args)))


if __name__ == '__main__':
    main()
