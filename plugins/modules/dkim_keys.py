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

import json
import os
import stat
import tempfile
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.clustered.mail.plugins.module_utils import _dkim

try:
    from cryptography import __version__ as _unused_cryptography_version  # noqa: F401
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()


def _read(path):
    with open(path, 'rb') as handle:
        return handle.read()


def _write_private(path, data):
    """Write a file readable by its owner only, atomically: it never exists with a wider mode."""
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=os.path.dirname(path))
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class _Domain(object):
    """One domain's directory: what is there, and what the run will make of it."""

    def __init__(self, module, base, domain):
        self.module, self.domain = module, domain
        self.dir = os.path.join(base, domain)
        self.state_path = os.path.join(self.dir, _dkim.STATE_FILE)
        self.state = None
        self.keys = set()
        if os.path.isdir(self.dir):
            self.keys = set(name[:-len(_dkim.KEY_SUFFIX)] for name in os.listdir(self.dir)
                            if name.endswith(_dkim.KEY_SUFFIX) and not name.startswith('.')
                            and _dkim.selector_error(name[:-len(_dkim.KEY_SUFFIX)]) is None)
            if os.path.exists(self.state_path):
                try:
                    self.state = json.loads(_read(self.state_path).decode('utf-8'))
                except (ValueError, UnicodeDecodeError) as exc:
                    raise _dkim.DkimError('%s is not JSON (%s); fix it or remove it' % (self.state_path, exc))
                problem = _dkim.state_error(self.state)
                if problem:
                    raise _dkim.DkimError('%s %s; fix it or remove it' % (self.state_path, problem))

    def key_path(self, selector):
        return os.path.join(self.dir, selector + _dkim.KEY_SUFFIX)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            domains=dict(type='list', elements='str', required=True),
            selector=dict(type='str'),
            state=dict(type='str', choices=list(_dkim.STATES), default='present'),
        ),
        supports_check_mode=True,
    )
    if CRYPTOGRAPHY_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    base, op, selector = module.params['path'], module.params['state'], module.params['selector']
    domains = [d.lower().rstrip('.') for d in module.params['domains']]

    errors = [e for e in (_dkim.domain_error(d) for d in domains) if e]
    if len(set(domains)) != len(domains):
        errors.append('domains: %s listed more than once' % sorted(d for d in set(domains) if domains.count(d) > 1))
    if selector is not None and _dkim.selector_error(selector):
        errors.append(_dkim.selector_error(selector))
    if op == 'publish' and selector is None:
        errors.append('state=publish needs selector, the new selector to publish')
    if errors:
        module.fail_json(msg='; '.join(errors))

    # Plan every domain before writing anything: a problem in one domain changes no domain.
    plans = []
    for domain in domains:
        try:
            current = _Domain(module, base, domain)
            new, generate = _dkim.plan(current.state, op, selector, current.keys)
            publics = {}
            for sel in new['published']:
                if sel not in generate:
                    try:
                        publics[sel] = _dkim.public_key_b64(_read(current.key_path(sel)))
                    except (IOError, OSError) as exc:
                        raise _dkim.DkimError('cannot read %s: %s' % (current.key_path(sel), to_native(exc)))
                    except _dkim.DkimError as exc:
                        raise _dkim.DkimError('%s is %s; replace it with an RSA key (2048 bits) in PEM'
                                              % (current.key_path(sel), exc))
        except _dkim.DkimError as exc:
            errors.append('%s: %s' % (domain, exc))
            continue
        plans.append((current, new, generate, publics))
    if errors:
        module.fail_json(msg='; '.join(errors))

    changed = False
    keys, records, states = [], [], {}
    try:
        for current, new, generate, publics in plans:
            state_text = (json.dumps(new, indent=2, sort_keys=True) + '\n').encode('utf-8')
            if not os.path.isdir(base):
                changed = True
                if not module.check_mode:
                    os.makedirs(base)
                    os.chmod(base, 0o700)
            if not os.path.isdir(current.dir):
                changed = True
                if not module.check_mode:
                    os.makedirs(current.dir)
                    os.chmod(current.dir, 0o700)
            elif _mode(current.dir) != 0o700:
                changed = True
                if not module.check_mode:
                    os.chmod(current.dir, 0o700)
            for sel in generate:
                changed = True
                if not module.check_mode:
                    pem = _dkim.generate_private_key_pem()
                    _write_private(current.key_path(sel), pem)
                    publics[sel] = _dkim.public_key_b64(pem)
            for sel in new['published']:
                path = current.key_path(sel)
                if sel not in generate and _mode(path) != 0o600:
                    # A key the user supplied is kept, but not readable by others.
                    changed = True
                    if not module.check_mode:
                        os.chmod(path, 0o600)
            if current.state is None or not os.path.exists(current.state_path) or _read(current.state_path) != state_text:
                changed = True
                if not module.check_mode:
                    _write_private(current.state_path, state_text)
            states[current.domain] = new
            for sel in new['published']:
                keys.append({'domain': current.domain, 'selector': sel, 'private_key': current.key_path(sel),
                             'signing': sel == new['signing']})
                if sel in publics:
                    records.append({'domain': current.domain, 'selector': sel,
                                    'name': _dkim.record_name(sel, current.domain),
                                    'value': _dkim.txt_value(publics[sel])})
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot write the DKIM keys under %s: %s' % (base, to_native(exc)), changed=changed)

    module.exit_json(changed=changed, key_files=keys, records=records, state=states)


if __name__ == '__main__':
    main()
