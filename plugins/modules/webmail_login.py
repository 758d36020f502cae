#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: webmail_login
short_description: Log in to Roundcube over HTTPS and list a mailbox, as a user would
version_added: 0.2.0
description:
  - Fetches Roundcube's login form, logs in as O(username), then asks for the list of O(mailbox) the way the web page
    does (its AJAX call, with Roundcube's request token). Returns the subjects it lists.
  - The web server's certificate is verified for the name in O(url), against O(ca_path) (for example the cluster CA).
    O(address) connects to one webmail host by address while keeping that name, so every host behind a round-robin
    name can be checked, and the name need not resolve on the controller.
  - Fails naming the step (login page, login, mail page, list) and Roundcube's own message when it shows one, for
    example C(Connection to storage server failed.) when Roundcube cannot reach or verify the IMAP server.
  - Read-only. Logging in makes Roundcube start a session; no mail is changed.
author:
  - clustered.mail contributors (@clustered-mail)
extends_documentation_fragment:
  - clustered.mail.attributes
  - clustered.mail.attributes.read_only
options:
  url:
    description:
      - Roundcube's HTTPS address, for example V(https://webmail.example.com/).
    type: str
    required: true
  address:
    description:
      - Connect to this address instead of resolving the name in O(url); the name is still sent (SNI, Host) and
        verified.
    type: str
  username:
    description:
      - The user to log in as.
    type: str
    required: true
  password:
    description:
      - The password of O(username).
    type: str
    required: true
  mailbox:
    description:
      - The mailbox to list.
    type: str
    default: INBOX
  expect_subjects:
    description:
      - Fail unless the list shows a message with each of these subjects.
    type: list
    elements: str
    default: []
  check_redirect:
    description:
      - Also check that plain HTTP on the same name answers with a redirect to HTTPS.
    type: bool
    default: false
  validate_certs:
    description:
      - Verify the web server's certificate and its name.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle to verify the web server's certificate with, for example the cluster CA.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP answer.
    type: float
    default: 30
notes:
  - Uses only the Python standard library.
seealso:
  - module: clustered.mail.mail_roundtrip
"""

EXAMPLES = r"""
- name: Roundcube on web1 logs alice in and lists her INBOX
  clustered.mail.webmail_login:
    url: https://webmail.example.com/
    address: 192.0.2.30
    ca_path: "{{ inventory_dir }}/.clustered_mail_ca/ca.crt"
    username: alice@example.com
    password: "{{ vault_alice_password }}"
    check_redirect: true
  no_log: true
"""

RETURN = r"""
count:
  description: How many messages the list shows.
  returned: success
  type: int
  sample: 3
subjects:
  description: The subjects the list shows.
  returned: success
  type: list
  elements: str
  sample: [Hello]
rowcount:
  description: Roundcube's own row count text.
  returned: success
  type: str
  sample: Messages 1 to 3 of 3
http_redirect:
  description: The plain HTTP answer, with O(check_redirect=true).
  returned: success and O(check_redirect=true)
  type: dict
  sample: {url: "http://webmail.example.com/", status: 301, location: "https://webmail.example.com/"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clustered.mail.plugins.module_utils._webmail_login import Failure, login_and_list


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            address=dict(type="str"),
            username=dict(type="str", required=True),
            password=dict(type="str", required=True, no_log=True),
            mailbox=dict(type="str", default="INBOX"),
            expect_subjects=dict(type="list", elements="str", default=[]),
            check_redirect=dict(type="bool", default=False),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            timeout=dict(type="float", default=30.0),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        report = login_and_list(p["url"], p["username"], p["password"], cafile=p["ca_path"], address=p["address"],
                                mailbox=p["mailbox"], expect_subjects=p["expect_subjects"],
                                check_redirect=p["check_redirect"], validate_certs=p["validate_certs"],
                                timeout=p["timeout"])
    except Failure as exc:
        module.fail_json(msg="webmail %s%s: %s" % (p["url"], " at %s" % p["address"] if p["address"] else "", exc),
                         **exc.report)
    module.exit_json(changed=False, **report)


if __name__ == "__main__":
    main()
