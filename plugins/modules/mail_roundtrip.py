#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: mail_roundtrip
short_description: Send a mail by SMTP to one server and read it back by IMAP from another
version_added: 0.1.0
description:
  - Sends one message carrying a unique token by SMTP to O(smtp_host), then polls the INBOX of O(username) by IMAP on
    O(imap_host) until the message appears or O(timeout) runs out.
  - On a cluster whose primaries share one store, sending through one primary and reading through another proves
    that delivery, the shared store and the IMAP service work together.
  - The message is deleted again unless O(keep=true), by UID (C(UID EXPUNGE), RFC 4315), so messages the user
    marked deleted stay where they are. A server without UIDPLUS keeps the probe marked deleted, with a warning.
author:
  - clustered.mail contributors (@clustered-mail)
extends_documentation_fragment:
  - clustered.mail.attributes
attributes:
  check_mode:
    support: full
    details:
      - In check mode nothing is sent; the module reports that it would send one message.
  diff_mode:
    support: none
options:
  smtp_host:
    description: The server to send to.
    type: str
    required: true
  smtp_port:
    description: The SMTP port (25 for delivery as an MX receives it, 587 for submission with O(smtp_login=true)).
    type: int
    default: 25
  smtp_tls:
    description: Use STARTTLS on the SMTP connection.
    type: bool
    default: false
  smtp_login:
    description: Authenticate the SMTP session as O(username) (submission).
    type: bool
    default: false
  imap_host:
    description: The server to read from.
    type: str
    required: true
  imap_port:
    description: The IMAP port; defaults to 993 with O(imap_tls=implicit), else 143.
    type: int
  imap_tls:
    description: How the IMAP connection is protected.
    type: str
    default: starttls
    choices: [none, starttls, implicit]
  username:
    description: The IMAP (and SASL) login.
    type: str
    required: true
  password:
    description: The password of O(username).
    type: str
    required: true
  recipient:
    description: The envelope and header recipient; defaults to O(username).
    type: str
  sender:
    description: The envelope and header sender.
    type: str
    default: roundtrip@clustered-mail.invalid
  timeout:
    description: Seconds to wait for the message to appear.
    type: float
    default: 30
  keep:
    description: Leave the message in the mailbox.
    type: bool
    default: false
  validate_certs:
    description: Verify server certificates.
    type: bool
    default: true
  ca_path:
    description: CA bundle to verify certificates with.
    type: path
"""

EXAMPLES = r"""
- name: Mail sent to primary 1 is read back from primary 2
  clustered.mail.mail_roundtrip:
    smtp_host: 192.0.2.11
    imap_host: 192.0.2.12
    username: alice@example.com
    password: "{{ vault_alice_password }}"
    ca_path: /etc/ssl/certs/clustered-mail-ca.pem
  no_log: true
"""

RETURN = r"""
token:
  description: The unique token carried in the subject and an X-Clustered-Mail-Roundtrip header.
  returned: success
  type: str
  sample: 3f1c2d…
smtp_response:
  description: What the SMTP server answered at the end of DATA.
  returned: success and not check mode
  type: str
  sample: 250 2.0.0 Ok queued as 4Xb…
delivered_after_s:
  description: Seconds from the end of DATA until IMAP showed the message.
  returned: success and not check mode
  type: float
  sample: 0.42
removed:
  description: Whether the probe message was expunged again (false with O(keep=true) or without UIDPLUS).
  returned: success and not check mode
  type: bool
  sample: true
"""

import imaplib
import smtplib
import time
import uuid
from email.message import EmailMessage

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clustered.mail.plugins.module_utils._mail_probe import tls_context

HEADER = "X-Clustered-Mail-Roundtrip"


def send(p, token, ctx):
    msg = EmailMessage()
    msg["From"] = p["sender"]
    msg["To"] = p["recipient"]
    msg["Subject"] = "clustered.mail roundtrip %s" % token
    msg[HEADER] = token
    msg.set_content("Sent by clustered.mail.mail_roundtrip to %s, read back from %s.\n" % (p["smtp_host"], p["imap_host"]))
    with smtplib.SMTP(p["smtp_host"], p["smtp_port"], timeout=30) as smtp:
        smtp.ehlo("roundtrip.invalid")
        if p["smtp_tls"]:
            smtp.starttls(context=ctx)
            smtp.ehlo("roundtrip.invalid")
        if p["smtp_login"]:
            smtp.login(p["username"], p["password"])
        smtp.mail(p["sender"])
        code, answer = smtp.rcpt(p["recipient"])
        if code != 250:
            raise smtplib.SMTPRecipientsRefused({p["recipient"]: (code, answer)})
        code, answer = smtp.data(msg.as_bytes())
        if code != 250:
            raise smtplib.SMTPDataError(code, answer)
    return "%d %s" % (code, answer.decode("utf-8", "replace"))


def imap_connect(p, ctx):
    if p["imap_tls"] == "implicit":
        imap = imaplib.IMAP4_SSL(p["imap_host"], p["imap_port"], ssl_context=ctx, timeout=30)
    else:
        imap = imaplib.IMAP4(p["imap_host"], p["imap_port"], timeout=30)
        if p["imap_tls"] == "starttls":
            imap.starttls(ssl_context=ctx)
    imap.login(p["username"], p["password"])
    return imap


def find(imap, token):
    """The UIDs of the messages carrying ``token`` (UIDs, not sequence numbers: they never shift)."""
    imap.select("INBOX")
    typ, data = imap.uid("SEARCH", "HEADER", HEADER, token)
    return data[0].split() if typ == "OK" and data and data[0] else []


def remove(imap, uids):
    """Delete only the probe's own messages: UID EXPUNGE (RFC 4315), never a plain EXPUNGE, which would also
    remove every message the user had marked \\Deleted. Without UIDPLUS the probe is left marked for the
    user's client to expunge; returns whether it is gone."""
    uid_set = b",".join(uids).decode("ascii")
    imap.uid("STORE", uid_set, "+FLAGS.SILENT", "(\\Deleted \\Seen)")
    # Asked after login: servers such as Dovecot list UIDPLUS only to a logged-in client.
    typ, data = imap.capability()
    if typ != "OK" or b"UIDPLUS" not in b" ".join(d for d in data if d).upper().split():
        return False
    typ, data = imap.uid("EXPUNGE", uid_set)
    return typ == "OK"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            smtp_host=dict(type="str", required=True),
            smtp_port=dict(type="int", default=25),
            smtp_tls=dict(type="bool", default=False),
            smtp_login=dict(type="bool", default=False),
            imap_host=dict(type="str", required=True),
            imap_port=dict(type="int"),
            imap_tls=dict(type="str", default="starttls", choices=["none", "starttls", "implicit"]),
            username=dict(type="str", required=True),
            password=dict(type="str", required=True, no_log=True),
            recipient=dict(type="str"),
            sender=dict(type="str", default="roundtrip@clustered-mail.invalid"),
            timeout=dict(type="float", default=30.0),
            keep=dict(type="bool", default=False),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = dict(module.params)
    p["recipient"] = p["recipient"] or p["username"]
    p["imap_port"] = p["imap_port"] or (993 if p["imap_tls"] == "implicit" else 143)
    token = uuid.uuid4().hex
    if module.check_mode:
        module.exit_json(changed=False, token=token, msg="check mode: would send one message")
    ctx = tls_context(p["validate_certs"], p["ca_path"])
    try:
        smtp_response = send(p, token, ctx)
    except (smtplib.SMTPException, OSError) as e:
        module.fail_json(msg="sending to %s:%d failed: %s" % (p["smtp_host"], p["smtp_port"], e), token=token)
    sent = time.monotonic()
    try:
        imap = imap_connect(p, ctx)
    except (imaplib.IMAP4.error, OSError) as e:
        module.fail_json(msg="IMAP login to %s:%d failed: %s" % (p["imap_host"], p["imap_port"], e), token=token,
                         smtp_response=smtp_response)
    try:
        found = []
        while True:
            found = find(imap, token)
            if found or time.monotonic() - sent > p["timeout"]:
                break
            time.sleep(0.2)
        elapsed = round(time.monotonic() - sent, 3)
        if not found:
            module.fail_json(msg="message %s accepted by %s (%s) did not appear in the INBOX of %s on %s within %ss"
                             % (token, p["smtp_host"], smtp_response, p["username"], p["imap_host"], p["timeout"]),
                             token=token, smtp_response=smtp_response)
        removed = False if p["keep"] else remove(imap, found)
        imap.logout()
    except (imaplib.IMAP4.error, OSError) as e:
        module.fail_json(msg="reading from %s:%d failed: %s" % (p["imap_host"], p["imap_port"], e), token=token)
    # A kept message changes the mailbox; a deleted one leaves it as it was.
    if not p["keep"] and not removed:
        module.warn("%s does not offer UIDPLUS: the probe message %s is marked \\Deleted, not expunged (a plain "
                    "EXPUNGE would also remove the user's own deleted messages)" % (p["imap_host"], token))
    module.exit_json(changed=p["keep"] or not removed, token=token, smtp_response=smtp_response,
                     delivered_after_s=elapsed, removed=removed)


if __name__ == "__main__":
    main()
