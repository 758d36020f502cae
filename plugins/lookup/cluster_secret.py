# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: cluster_secret
author: clustered.mail contributors (@clustered-mail)
version_added: 0.2.0
short_description: A cluster secret from the inventory, or generated once on the controller and reused
description:
  - Returns, for each name, the inventory variable that carries that secret when it is set (vault it there), else the
    content of C(<dir>/<name>) on the controller, creating that file once with a random secret (mode 0600, its
    directory 0700) when it does not exist.
  - The known secrets and their inventory variables are C(tsig_secret) (C(bind_dns_tsig_secret), the TSIG key that
    signs dynamic updates), C(transfer_secret) (C(bind_dns_transfer_secret), the TSIG key of zone transfers and
    NOTIFY), both generated as base64 keys of 64 random bytes (long enough for every HMAC that bind_dns accepts,
    up to hmac-sha512), C(smb_password) (C(storage_server_smb_password), then
    C(storage_mount_cifs_password); the data server and the primaries share it) and C(health_password)
    (C(mail_cluster_health_password)). Any other name reads C(mail_cluster_<name>).
  - With C(mail_cluster_generate_secrets=false) in the inventory, a secret the inventory does not set is an error
    naming its variable, for sites that keep every secret in a vault.
  - The default directory is the one of the cluster CA, C(cluster_ca_dir) when the inventory sets it, else
    C(.clustered_mail_ca) beside the inventory, so the secrets and the CA are kept, backed up and removed together.
options:
  _terms:
    description: Names of secrets, such as C(tsig_secret) or C(health_password) (letters, digits and underscores).
    required: true
    type: list
    elements: str
  dir:
    description: Controller directory of the generated secrets; default C(cluster_ca_dir), else C(<inventory_dir>/.clustered_mail_ca).
    type: path
  length:
    description: Length of a generated secret (letters and digits; the TSIG secrets are always 64 random bytes, base64).
    type: int
    default: 32
'''

EXAMPLES = r'''
- name: The TSIG key of dynamic updates, from bind_dns_tsig_secret or generated once beside the cluster CA
  ansible.builtin.set_fact:
    tsig_secret: "{{ lookup('clustered.mail.cluster_secret', 'tsig_secret') }}"
  no_log: true

- name: The TSIG key of zone transfers and NOTIFY, on every DNS server
  ansible.builtin.set_fact:
    transfer_secret: "{{ lookup('clustered.mail.cluster_secret', 'transfer_secret') }}"
  no_log: true

- name: The password of the primaries' health account
  ansible.builtin.set_fact:
    health_password: "{{ lookup('clustered.mail.cluster_secret', 'health_password') }}"
  no_log: true
'''

RETURN = r'''
_raw:
  description: One secret per name.
  type: list
  elements: str
'''

import base64
import os
import re
import secrets
import string

from ansible.errors import AnsibleLookupError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.lookup import LookupBase

from ansible_collections.clustered.mail.plugins.module_utils._cluster import CLUSTER_DEFAULTS

_NAME = re.compile(r'^[a-z0-9_]+$')
_ALPHABET = string.ascii_letters + string.digits
# A generated TSIG secret is as long as the longest HMAC output bind_dns accepts (hmac-sha512).
_TSIG_BYTES = 64


def _tsig(length):
    return base64.b64encode(secrets.token_bytes(_TSIG_BYTES)).decode()


# name -> (inventory variables that carry it, in order; generator of a new one)
_KNOWN = {
    'tsig_secret': (('bind_dns_tsig_secret',), _tsig),
    'transfer_secret': (('bind_dns_transfer_secret',), _tsig),
    'smb_password': (('storage_server_smb_password', 'storage_mount_cifs_password'), None),
    'health_password': (('mail_cluster_health_password',), None),
}


def _random(length):
    return ''.join(secrets.choice(_ALPHABET) for dummy in range(length))


class LookupModule(LookupBase):

    def _ca_dir(self, variables):
        """cluster_ca_dir when the inventory moves the CA (AWX: a path that outlives the job), else None."""
        ca_dir = variables.get('cluster_ca_dir')
        if isinstance(ca_dir, str) and self._templar:
            ca_dir = self._templar.template(ca_dir)
        return str(ca_dir) if ca_dir else None

    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        self.set_options(var_options=variables, direct=kwargs)
        directory = self.get_option('dir') or self._ca_dir(variables) or os.path.join(
            variables.get('inventory_dir') or variables.get('playbook_dir') or '.', '.clustered_mail_ca')
        result = []
        for name in terms:
            if not _NAME.match(str(name)):
                raise AnsibleLookupError('cluster_secret: %r is not a secret name (letters, digits, _)' % (name,))
            names, make = _KNOWN.get(name, (('mail_cluster_%s' % name,), None))
            given = self._given(variables, names)
            generate = variables.get('mail_cluster_generate_secrets', CLUSTER_DEFAULTS['mail_cluster_generate_secrets'])
            if isinstance(generate, str) and self._templar:
                generate = self._templar.template(generate)
            if not given and not boolean(generate):
                raise AnsibleLookupError(
                    '%s is not set and mail_cluster_generate_secrets is false: set %s in the inventory (vault it), or'
                    ' set mail_cluster_generate_secrets: true to let the controller generate it once beside the'
                    ' cluster CA' % (names[0], names[0]))
            result.append(given if given else self._generated(directory, name, make or _random))
        return result

    def _given(self, variables, names):
        for var in names:
            value = variables.get(var)
            if value and self._templar:
                value = self._templar.template(value)
            if value:
                return str(value)
        return ''

    def _generated(self, directory, name, make):
        path = os.path.join(directory, name)
        try:
            with open(path) as handle:
                value = handle.read().strip()
            if value:
                return value
        except (IOError, OSError):
            pass
        value = make(self.get_option('length'))
        try:
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another fork wrote it first: use theirs
            with open(path) as handle:
                return handle.read().strip()
        except (IOError, OSError) as exc:
            raise AnsibleLookupError('cluster_secret: cannot create %s: %s' % (path, exc))
        with os.fdopen(fd, 'w') as out:
            out.write(value + '\n')
        return value
