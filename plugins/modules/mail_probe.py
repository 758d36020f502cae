#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: mail_probe
short_description: Health probe for an SMTP, submission, LMTP, IMAP or POP3 endpoint
version_added: 0.1.0
description:
  - Connects to one mail endpoint the way a client would, over plain TCP, STARTTLS or implicit TLS.
  - Checks the greeting banner and the capabilities offered, and can log in with a user name and password.
  - Returns what it saw, the time each phase took, and a failure reason naming the phase that failed.
  - Read-only. Fails the task when the endpoint is unhealthy, unless O(fail_on_unhealthy=false), which lets a
    health check count failures itself.
  - With O(endpoints) instead of O(host), probes several endpoints at once, concurrently, in one call (a loop of
    tasks starts the module once per endpoint); the task fails when any of them is unhealthy, naming each.
author:
  - clustered.mail contributors (@clustered-mail)
extends_documentation_fragment:
  - clustered.mail.attributes
  - clustered.mail.attributes.read_only
options:
  endpoints:
    description:
      - Several endpoints to probe concurrently, without logging in; the other options apply to each.
      - Mutually exclusive with O(host), O(protocol), O(port), O(banner_regex) and O(username); O(tls) and
        O(capabilities) apply to O(host) only (each endpoint has its own).
    type: list
    elements: dict
    version_added: 0.3.0
    suboptions:
      host:
        description: As O(host).
        type: str
        required: true
      protocol:
        description: As O(protocol).
        type: str
        required: true
        choices: [smtp, submission, lmtp, imap, pop3]
      tls:
        description: As O(tls).
        type: str
        default: none
        choices: [none, starttls, implicit]
      port:
        description: As O(port).
        type: int
      capabilities:
        description: As O(capabilities).
        type: list
        elements: str
        default: []
      banner_regex:
        description: As O(banner_regex).
        type: str
  host:
    description:
      - The host name or address to connect to.
    type: str
  protocol:
    description:
      - The protocol spoken by the endpoint; required with O(host).
      - V(submission) is SMTP on the submission port; use it with O(username) to check SASL.
    type: str
    choices: [smtp, submission, lmtp, imap, pop3]
  tls:
    description:
      - V(none) - plain TCP.
      - V(starttls) - plain TCP upgraded with STARTTLS (STLS for POP3); fails if the server does not offer it.
      - V(implicit) - TLS from the first byte (SMTPS 465, IMAPS 993, POP3S 995).
    type: str
    default: none
    choices: [none, starttls, implicit]
  port:
    description:
      - The port. Defaults to the protocol's well-known port for the chosen O(tls) mode.
    type: int
  timeout:
    description:
      - Seconds to wait for the connection and for each answer.
    type: float
    default: 10
  helo_name:
    description:
      - The name sent with EHLO or LHLO.
    type: str
    default: probe.invalid
  username:
    description:
      - Log in as this user after the capabilities are read. Omit to skip the login.
    type: str
  password:
    description:
      - The password for O(username).
    type: str
  write:
    description:
      - With O(protocol=imap) and O(username), after the login APPEND a message to the INBOX, read it back by UID
        and expunge exactly that UID (UID EXPUNGE). A healthy answer then means the mail store is mounted,
        writable and answering, not only that the server greets.
      - The message is the probe's own and is removed again; use a dedicated account (the primaries' health account).
    type: bool
    default: false
  validate_certs:
    description:
      - Verify the server certificate and its name when TLS is used.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle to verify the server certificate with, for example the cluster CA.
    type: path
  min_tls_version:
    description:
      - The oldest TLS version the probe accepts.
    type: str
    default: TLSv1.2
    choices: [TLSv1.2, TLSv1.3]
  banner_regex:
    description:
      - A regular expression the greeting banner must match (searched, not anchored).
    type: str
  capabilities:
    description:
      - Capabilities the server must offer (after TLS, when TLS is used), for example V(STARTTLS), V(AUTH),
        V(PIPELINING), V(IDLE), V(AUTH=PLAIN). Compared case-insensitively; V(AUTH) matches V(AUTH PLAIN LOGIN).
    type: list
    elements: str
    default: []
  fail_on_unhealthy:
    description:
      - Fail the task when the endpoint is unhealthy. With V(false) the result reports RV(healthy=false) and the
        reason, and the task succeeds.
    type: bool
    default: true
notes:
  - Uses only the Python standard library (smtplib, imaplib, poplib, ssl).
seealso:
  - module: clustered.mail.dns_rotation
"""

EXAMPLES = r"""
- name: SMTP answers with a banner and offers STARTTLS
  clustered.mail.mail_probe:
    host: mail1.example.com
    protocol: smtp
    capabilities: [STARTTLS, PIPELINING]

- name: Submission logs in over STARTTLS, verified against the cluster CA
  clustered.mail.mail_probe:
    host: mail1.example.com
    protocol: submission
    tls: starttls
    ca_path: /etc/ssl/certs/clustered-mail-ca.pem
    username: alice@example.com
    password: "{{ vault_alice_password }}"
  no_log: true

- name: Count an IMAPS failure without failing the play
  clustered.mail.mail_probe:
    host: 192.0.2.12
    protocol: imap
    tls: implicit
    validate_certs: false
    fail_on_unhealthy: false
  register: imap_health
"""

RETURN = r"""
endpoints:
  description:
    - With O(endpoints), the result of each endpoint in their order, each with the keys below and RV(port).
    - The top-level keys are then RV(healthy) (all of them), RV(failure) (each failure, separated by V(; )) and
      RV(failed_phase) (the first failure's).
  returned: with O(endpoints)
  type: list
  elements: dict
  version_added: 0.3.0
healthy:
  description: Whether every phase of the probe succeeded.
  returned: always
  type: bool
  sample: true
banner:
  description: The greeting the server sent.
  returned: always
  type: str
  sample: 220 mail1.example.com ESMTP Postfix
capabilities:
  description: The capabilities the server offered, upper-cased (after TLS when TLS was used).
  returned: always
  type: list
  elements: str
  sample: [8BITMIME, AUTH PLAIN LOGIN, PIPELINING, STARTTLS]
tls:
  description: The negotiated TLS version and cipher, or null without TLS.
  returned: always
  type: dict
  sample: {version: TLSv1.3, cipher: TLS_AES_256_GCM_SHA384}
authenticated:
  description: Whether the login succeeded; null when no login was asked for.
  returned: always
  type: bool
  sample: true
timings_ms:
  description: Milliseconds spent in each phase (connect, tls, capabilities, login) and in total.
  returned: always
  type: dict
  sample: {connect: 3.1, tls: 12.4, capabilities: 1.2, login: 20.5, total: 37.9}
failure:
  description: Why the endpoint is unhealthy, naming host, port, protocol and phase; null when healthy.
  returned: always
  type: str
  sample: "192.0.2.12:143 imap failed at starttls: STARTTLS is not offered (capabilities: ['IMAP4REV1'])"
failed_phase:
  description: The phase that failed (connect, banner, ehlo, starttls, capabilities, login, connection), or null.
  returned: always
  type: str
  sample: connect
port:
  description: The port that was probed.
  returned: with O(host)
  type: int
  sample: 587
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clustered.mail.plugins.module_utils._concurrent import in_parallel
from ansible_collections.clustered.mail.plugins.module_utils._mail_probe import (
    PROTOCOLS,
    TLS_MODES,
    default_port,
    probe,
)


def probe_all(endpoints, p):
    """Each endpoint's result (as_dict() plus its port), probed concurrently, in the order given."""
    def one(endpoint):
        port = endpoint["port"] or default_port(endpoint["protocol"], endpoint["tls"])
        result = probe(
            host=endpoint["host"], protocol=endpoint["protocol"], tls=endpoint["tls"], port=port, timeout=p["timeout"],
            helo_name=p["helo_name"], validate_certs=p["validate_certs"], ca_path=p["ca_path"],
            banner_regex=endpoint["banner_regex"], capabilities=endpoint["capabilities"],
            min_tls_version=p["min_tls_version"],
        ).as_dict()
        result.update(port=port)
        return result

    return in_parallel(one, endpoints)


def main():
    endpoint_spec = dict(
        host=dict(type="str", required=True),
        protocol=dict(type="str", required=True, choices=list(PROTOCOLS)),
        tls=dict(type="str", default="none", choices=list(TLS_MODES)),
        port=dict(type="int"),
        capabilities=dict(type="list", elements="str", default=[]),
        banner_regex=dict(type="str"),
    )
    module = AnsibleModule(
        argument_spec=dict(
            endpoints=dict(type="list", elements="dict", options=endpoint_spec),
            host=dict(type="str"),
            protocol=dict(type="str", choices=list(PROTOCOLS)),
            tls=dict(type="str", default="none", choices=list(TLS_MODES)),
            port=dict(type="int"),
            timeout=dict(type="float", default=10.0),
            helo_name=dict(type="str", default="probe.invalid"),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            write=dict(type="bool", default=False),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            min_tls_version=dict(type="str", default="TLSv1.2", choices=["TLSv1.2", "TLSv1.3"]),
            banner_regex=dict(type="str"),
            capabilities=dict(type="list", elements="str", default=[]),
            fail_on_unhealthy=dict(type="bool", default=True),
        ),
        required_together=[["username", "password"], ["host", "protocol"]],
        required_one_of=[["host", "endpoints"]],
        mutually_exclusive=[["endpoints", name] for name in ("host", "protocol", "port", "banner_regex", "username")],
        supports_check_mode=True,
    )
    p = module.params
    for endpoint in p["endpoints"] or [dict(p)]:
        if endpoint["protocol"] == "lmtp" and endpoint["tls"] == "implicit":
            module.fail_json(msg="protocol=lmtp has no implicit TLS: use tls=none or tls=starttls")
    if p["write"] and (p["protocol"] != "imap" or not p["username"]):
        module.fail_json(msg="write=true needs protocol=imap and a username (the account the probe writes to)")

    if p["endpoints"] is not None:
        results = probe_all(p["endpoints"], p)
        failures = [r["failure"] for r in results if r["failure"]]
        result = dict(changed=False, endpoints=results, healthy=not failures,
                      failure="; ".join(failures) or None,
                      failed_phase=next((r["failed_phase"] for r in results if r["failure"]), None))
    else:
        port = p["port"] or default_port(p["protocol"], p["tls"])
        result = probe(
            host=p["host"], protocol=p["protocol"], tls=p["tls"], port=port, timeout=p["timeout"],
            helo_name=p["helo_name"], username=p["username"], password=p["password"],
            validate_certs=p["validate_certs"], ca_path=p["ca_path"], banner_regex=p["banner_regex"],
            capabilities=p["capabilities"], min_tls_version=p["min_tls_version"], write=p["write"],
        ).as_dict()
        result.update(changed=False, port=port)
    if result["failure"] and p["fail_on_unhealthy"]:
        module.fail_json(msg=result["failure"], **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
