#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dkim_keys
short_description: Keep the cluster's DKIM keys on the controller, and rotate them in three steps
version_added: 0.2.0
description:
  - Manages one directory per mail domain, O(path)/<domain>/ (mode V(0700)), beside the cluster CA. Each holds one
    RSA-2048 private key per selector, C(<selector>.key) (PKCS#8 PEM, mode V(0600)), and C(state.json) saying which
    selector signs and which are published in DNS.
  - A key the user put there (an unencrypted RSA PEM key named C(<selector>.key)) is used as it is, never replaced.
  - Run it on the controller (C(delegate_to=localhost), C(run_once=true)); the signer's role installs the key it
    returns, and C(clustered.mail.bind_dns) publishes the records it returns.
  - Rotation is three runs, each at least one DNS TTL after the one before; O(state=publish) a new selector beside
    the signing one, O(state=switch) signing to it (the old stays published so that mail signed a moment ago still
    verifies), O(state=retire) the old one. C(clustered.mail.dkim_rotate) runs them in order.
  - Results carry only file paths, selectors and public keys; private key material is never returned or logged.
author:
  - clustered.mail contributors (@clustered-mail)
requirements:
  - cryptography (on the controller)
extends_documentation_fragment:
  - clustered.mail.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports what would change and writes nothing. A key that would be generated has no record yet, so its
        record is left out of RV(records).
      - The collection's tasks run it with C(check_mode=false), as the cluster CA's tasks; it only touches the
        controller, and without it a check run of a new cluster could not show the DKIM records it would serve.
  diff_mode:
    support: none
options:
  path:
    description:
      - The directory of the DKIM keys, one subdirectory per domain; created (mode V(0700)) when missing.
      - The collection passes C(<cluster_ca_dir>/dkim).
    type: path
    required: true
  domains:
    description: The mail domains (lower case, no trailing dot); every one gets a signing key.
    type: list
    elements: str
    required: true
  selector:
    description:
      - With O(state=present), the selector of a domain's first key (a domain that has a key keeps its selectors).
        The collection passes C(mail_cluster_dkim_selector).
      - With O(state=publish), the new selector, required; a selector once retired cannot be published again.
      - With O(state=switch), the published selector that signs from now on; optional when exactly one selector
        was published after the signing one.
      - With O(state=retire), the one selector to stop publishing; by default every selector published before the
        signing one (those that signed before it), never one waiting to sign.
      - One DNS label (lower-case letters, digits, inner hyphens).
    type: str
  state:
    description:
      - V(present) every domain has a signing key; nothing changes for a domain that has one.
      - V(publish) rotation step 1, a new key under O(selector), published beside the signing one.
      - V(switch) rotation step 2, the new selector signs; the old one stays published.
      - V(retire) rotation step 3, the old selector is no longer published (its key file stays, unused).
    type: str
    choices: [present, publish, switch, retire]
    default: present
seealso:
  - module: clustered.mail.dns_consistency
"""

EXAMPLES = r"""
- name: Every domain has a signing key
  clustered.mail.dkim_keys:
    path: "{{ cluster_ca_dir }}/dkim"
    domains: "{{ __model.domains }}"
    selector: "{{ mail_cluster_dkim_selector }}"
  delegate_to: localhost
  run_once: true
  check_mode: false
  register: __dkim

- name: Rotation step 1, publish a new key beside the signing one
  clustered.mail.dkim_keys:
    path: "{{ cluster_ca_dir }}/dkim"
    domains: [example.com]
    selector: s20260101
    state: publish
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
key_files:
  description: Every published key, per domain; the signing one has RV(key_files[].signing=true).
  returned: always
  type: list
  elements: dict
  contains:
    domain:
      description: The mail domain.
      type: str
    selector:
      description: The selector.
      type: str
    private_key:
      description: Path of the private key on the controller (its content is never returned).
      type: str
    signing:
      description: Whether this key signs outgoing mail.
      type: bool
  sample: [{domain: example.com, selector: mail, private_key: /inv/.clustered_mail_ca/dkim/example.com/mail.key,
            signing: true}]
records:
  description: The TXT record of every published selector, per domain (what C(clustered.mail.bind_dns) serves).
  returned: always
  type: list
  elements: dict
  contains:
    domain:
      description: The mail domain.
      type: str
    selector:
      description: The selector.
      type: str
    name:
      description: The record's owner name, C(<selector>._domainkey.<domain>), no trailing dot.
      type: str
    value:
      description: The record's text, C(v=DKIM1; k=rsa; p=<base64 DER SubjectPublicKeyInfo>), not yet split.
      type: str
  sample: [{domain: example.com, selector: mail, name: mail._domainkey.example.com, value: "v=DKIM1; k=rsa; p=MIIB..."}]
state:
  description: Per domain, the state after the run (signing selector, published and retired selectors).
  returned: always
  type: dict
  sample: {example.com: {signing: mail, published: [mail], retired: []}}
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.clustered.mail.plugins.module_utils import _dkim

try:
    from cryptography import __version__ as _unused_cryptography_version  # noqa: F401
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()


def main():
    # On the controller (delegate_to=localhost) the action plugin of the same name runs _dkim.keep in its own
    # process; this module runs where the task is sent anywhere else.
    module = AnsibleModule(argument_spec=_dkim.ARGUMENT_SPEC, supports_check_mode=True)
    if CRYPTOGRAPHY_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    try:
        result = _dkim.keep(module.params['path'], module.params['domains'], module.params['selector'],
                            module.params['state'], module.check_mode)
    except _dkim.DkimError as exc:
        module.fail_json(msg=str(exc), changed=exc.changed)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
