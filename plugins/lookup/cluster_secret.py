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
  - Returns, for each name, the inventory variable C(mail_cluster_<name>) when it is set (vault it there), else the
    content of C(<dir>/<name>) on the controller, creating that file once with a random secret (mode 0600, its
    directory 0700) when it does not exist.
  - The default directory is the one of the cluster CA, C(.clustered_mail_ca) beside the inventory, so the secrets
    and the CA are kept, backed up and removed together.
options:
  _terms:
    description: Names of secrets, such as C(health_password) (letters, digits and underscores).
    required: true
    type: list
    elements: str
  dir:
    description: Controller directory of the generated secrets; default C(<inventory_dir>/.clustered_mail_ca).
    type: path
  length:
    description: Length of a generated secret (letters and digits).
    type: int
    default: 32
'''

EXAMPLES = r'''
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

import os
import re
import secrets
import string

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

_NAME = re.compile(r'^[a-z0-9_]+$')
_ALPHABET = string.ascii_letters + string.digits


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        self.set_options(var_options=variables, direct=kwargs)
        directory = self.get_option('dir') or os.path.join(
            variables.get('inventory_dir') or variables.get('playbook_dir') or '.', '.clustered_mail_ca')
        result = []
        for name in terms:
            if not _NAME.match(str(name)):
                raise AnsibleLookupError('cluster_secret: %r is not a secret name (letters, digits, _)' % (name,))
            given = variables.get('mail_cluster_%s' % name)
            if given:
                result.append(self._templar.template(given) if self._templar else given)
                continue
            result.append(self._generated(directory, name))
        return result

    def _generated(self, directory, name):
        path = os.path.join(directory, name)
        try:
            with open(path) as handle:
                value = handle.read().strip()
            if value:
                return value
        except (IOError, OSError):
            pass
        value = ''.join(secrets.choice(_ALPHABET) for dummy in range(self.get_option('length')))
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
