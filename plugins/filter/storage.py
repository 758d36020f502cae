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
    MOUNT_TYPES, mount_option_errors, mount_options, mount_source, mount_unit_name, nfs_server_protocols,
    nfs_version_errors, nt_hash, storage_errors as _storage_errors, storage_export as _storage_export,
)


def _plain(value):
    """Ansible's lazy hostvars/groups as plain containers."""
    if hasattr(value, 'items'):
        return dict((k, value[k]) for k in value)
    return value


def storage_errors(hostvars, groups, mount_type=None, source='', extra_clients=None, cluster_vars=None,
                   nfs_versions=None, mount_options=None, nfs_version=None):
    """Cluster errors first, then the storage ones.

    The data server passes ``nfs_versions`` (storage_server_nfs_versions); a
    primary passes ``mount_options`` and ``nfs_version`` (storage_mount_*),
    checked against the data server's storage_server_nfs_versions when the
    inventory sets it.
    """
    hostvars, groups = _plain(hostvars), _plain(groups)
    errors = cluster_errors(hostvars, groups, cluster_vars)
    if errors:
        return errors
    model = build_cluster(hostvars, groups, cluster_vars)
    errors = _storage_errors(model, mount_type, source or '', extra_clients or ())
    if nfs_versions is not None:
        errors.extend(nfs_version_errors(nfs_versions))
    if mount_type is not None and (mount_options is not None or nfs_version is not None):
        server = (model['groups'].get('mail_storage') or [None])[0]
        server_versions = (hostvars.get(server) or {}).get('storage_server_nfs_versions') if server else None
        if nfs_version_errors(server_versions):
            server_versions = None  # the data server's own run reports them
        errors.extend(mount_option_errors(mount_type, mount_options or (),
                                          '4.2' if nfs_version is None else nfs_version, server_versions))
    return errors


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


def storage_nfs_protocols(versions):
    errors = nfs_version_errors(versions)
    if errors:
        raise AnsibleFilterError('; '.join(errors))
    return nfs_server_protocols(versions)


def storage_mount_options(mount_type, options=None, nfs_version='4.2'):
    if mount_type not in MOUNT_TYPES:
        raise AnsibleFilterError('storage_mount_type=%r: must be one of %s' % (mount_type, ', '.join(MOUNT_TYPES)))
    errors = mount_option_errors(mount_type, options or (), nfs_version)
    if errors:
        raise AnsibleFilterError('; '.join(errors))
    return mount_options(mount_type, options or (), nfs_version)


def storage_nt_hash(password):
    return nt_hash(password)


class FilterModule(object):
    def filters(self):
        return {
            'storage_errors': storage_errors,
            'storage_export': storage_export,
            'storage_nfs_protocols': storage_nfs_protocols,
            'storage_mount_options': storage_mount_options,
            'storage_mount_source': storage_mount_source,
            'storage_mount_unit': storage_mount_unit,
            'storage_nt_hash': storage_nt_hash,
        }
