#!/usr/bin/env python3
"""imap_hold.py HOST USER PASSWORD SECONDS: log in over STARTTLS, select INBOX, stay connected."""
import imaplib
import ssl
import sys
import time

host, user, password, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
imap = imaplib.IMAP4(host)
imap.starttls(ssl_context=context)
imap.login(user, password)
imap.select('INBOX')
time.sleep(seconds)
try:
    imap.logout()
except (imaplib.IMAP4.abort, OSError):
    pass  # kicked: the session ended on the server side
print('held %s at %s' % (user, host))
