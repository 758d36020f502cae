# Runs inside demo-client (docker exec -i demo-client python3 - ...): sends one
# mail by SMTP to the primary DNS named first, reads it back by IMAP through
# another primary, and prints what each server said. Demo transcript only;
# the collection's own check is clustered.mail.mail_roundtrip.
import imaplib
import smtplib
import ssl
import sys
import time
import uuid

smtp_host, imap_host, user, password, ca = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=ca)
token = uuid.uuid4().hex[:12]
msg = ("From: demo@example.org\r\nTo: %s\r\nSubject: clustered.mail demo %s\r\n\r\n"
       "Sent to %s, read back from %s.\r\n" % (user, token, smtp_host, imap_host))
with smtplib.SMTP(smtp_host, 25, timeout=30) as smtp:
    print("  SMTP %s answered EHLO as %s" % (smtp_host, smtp.ehlo()[1].decode().splitlines()[0]))
    smtp.starttls(context=ctx)
    smtp.ehlo()
    smtp.mail("demo@example.org")
    smtp.rcpt(user)
    code, answer = smtp.data(msg)
    print("  SMTP %s accepted: %d %s" % (smtp_host, code, answer.decode()))
imap = imaplib.IMAP4(imap_host, 143, timeout=30)
imap.starttls(ssl_context=ctx)
imap.login(user, password)
print("  IMAP %s: logged in as %s over %s" % (imap_host, user, imap.sock.version()))
deadline = time.time() + 30
while True:
    imap.select("INBOX")
    found = imap.search(None, "SUBJECT", token)[1][0].split()
    if found or time.time() > deadline:
        break
    time.sleep(0.2)
if not found:
    sys.exit("  IMAP %s: the message %s did not arrive" % (imap_host, token))
subject = imap.fetch(found[0], "(BODY[HEADER.FIELDS (SUBJECT)])")[1][0][1].decode().strip()
print("  IMAP %s: found '%s'" % (imap_host, subject))
imap.store(found[0], "+FLAGS", "\\Deleted")
imap.expunge()
imap.logout()
