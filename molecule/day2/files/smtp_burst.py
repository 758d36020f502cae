#!/usr/bin/env python3
"""smtp_burst.py TAG RCPT COUNT INTERVAL HOST...: one message per connection, round robin over the hosts.

Prints JSON: how many were sent and how many the servers accepted with 250
after DATA, with every non-250 answer.
"""
import json
import smtplib
import sys
import time

tag, rcpt, count, interval, hosts = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5:]
accepted, failures = 0, []
start = time.time()
for number in range(count):
    host = hosts[number % len(hosts)]
    body = 'From: burst@example.org\r\nTo: %s\r\nSubject: %s-%03d\r\nMessage-ID: <%s-%03d@example.org>\r\n\r\nmail %d\r\n' % (
        rcpt, tag, number, tag, number, number)
    try:
        smtp = smtplib.SMTP(host, 25, timeout=30)
        smtp.ehlo('burst.example.org')
        smtp.mail('burst@example.org')
        code, text = smtp.rcpt(rcpt)
        if code != 250:
            failures.append('%s RCPT %d %s' % (host, code, text))
        else:
            code, text = smtp.data(body.encode())
            if code == 250:
                accepted += 1
            else:
                failures.append('%s DATA %d %s' % (host, code, text))
        smtp.quit()
    except (smtplib.SMTPException, OSError) as exc:
        failures.append('%s %s' % (host, exc))
    time.sleep(interval)
print(json.dumps({'sent': count, 'accepted': accepted, 'failures': failures, 'start': start, 'end': time.time()}))
