# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters for rotation membership (drain/undrain).

Thin wrappers: the logic lives in plugins/module_utils/_membership.py.
Documentation is in the sidecar <filter>.yml files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.clustered.mail.plugins.module_utils._membership import (
    MembershipError, health_protocols, resolve_hosts, rotation_model as _rotation_model,
)


def health_probes(model, protocols):
    return [[host, protocol] for host in model['groups']['mail_primaries']
            for protocol in health_protocols(model, host, list(protocols))]


def rotation_model(model, drained=None):
    drained = list(drained or [])
    try:
        return _rotation_model(model, resolve_hosts(model, drained, 'drained'))
    except MembershipError as exc:
        raise AnsibleFilterError(str(exc))


def rotation_hosts(model, names, option='host'):
    if isinstance(names, str):
        names = [n for n in names.replace(',', ' ').split() if n]
    try:
        return resolve_hosts(model, names, option)
    except MembershipError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {
            'rotation_model': rotation_model,
            'rotation_hosts': rotation_hosts,
            'health_probes': health_probes,
        }
