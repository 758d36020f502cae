# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters exposing the shared mail store derived from the cluster model.

Thin wrappers: the logic lives in plugins/module_utils/_storage.py (on top of
_cluster.py). Documentation is in the sidecar <filter>.yml files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.clustered.mail.plugins.module_utils._cluster import (
    build_cluster, cluster_errors,
)
from ansible_collections.clustered.mail.plugins.module_utils._storage import (
    MOUNT_TYPES, mount_source, mount_unit_name, nt_hash, storage_errors as _storage_errors,
    storage_export as _storage_export,
)


def _plain(value):
    """Ansible's lazy hostvars/groups as plain containers."""
    if hasattr(value, 'items'):
        return dict((k, value[k]) for k in value)
    return value


def storage_errors(hostvars, groups, mount_type=None, source='', extra_clients=None, cluster_vars=None):
    errors = cluster_errors(_plain(hostvars), _plain(groups), cluster_vars)
    if errors:
        return errors
    model = build_cluster(_plain(hostvars), _plain(groups), cluster_vars)
    return _storage_errors(model, mount_type, source or '', extra_clients or ())


def storage_export(model, extra_clients=None):
    if not isinstance(model, dict) or 'groups' not in model or 'hosts' not in model:
        raise AnsibleFilterError('storage_export needs the cluster model: hostvars | clustered.mail.cluster_model(groups)')
    return _storage_export(model, extra_clients or ())


def storage_mount_source(model, mount_type, share='mail', source=''):
    if mount_type not in MOUNT_TYPES:
        raise AnsibleFilterError('storage_mount_type=%r: must be one of %s' % (mount_type, ', '.join(MOUNT_TYPES)))
    result = mount_source(model, mount_type, share, source or '')
    if not result:
        raise AnsibleFilterError('storage_mount_source cannot be derived for storage_mount_type=%s: set it, or put'
                                 ' the data server in group mail_storage' % mount_type)
    return result


def storage_mount_unit(path):
    if not isinstance(path, str) or not path.startswith('/'):
        raise AnsibleFilterError('storage_mount_unit needs an absolute path, got %r' % (path,))
    return mount_unit_name(path)


def storage_nt_hash(password):
    return nt_hash(password)


class FilterModule(object):
    def filters(self):
        return {
            'storage_errors': storage_errors,
            'storage_export': storage_export,
            'storage_mount_source': storage_mount_source,
            'storage_mount_unit': storage_mount_unit,
            'storage_nt_hash': storage_nt_hash,
        }
