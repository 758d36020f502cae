# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.clustered.mail.plugins.filter.storage import FilterModule
from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import (
    inventory, set_all,
)

FILTERS = FilterModule().filters()


def test_filters_are_exposed():
    assert sorted(FILTERS) == ['storage_errors', 'storage_export', 'storage_mount_options', 'storage_mount_source',
                               'storage_mount_unit', 'storage_nfs_protocols', 'storage_nt_hash']


def test_storage_errors_reports_cluster_errors_first():
    hostvars, groups = set_all(*inventory(), mail_cluster_vmail_uid=0)
    errors = FILTERS['storage_errors'](hostvars, groups, 'bind', '')
    assert len(errors) == 1 and errors[0].startswith('mail_cluster_vmail_uid=0')


def test_storage_errors_then_storage_checks():
    hostvars, groups = inventory()
    assert FILTERS['storage_errors'](hostvars, groups, 'bind', '') == [
        'storage_mount_source is empty: storage_mount_type=bind needs the directory to bind'
        ' (in the lab, the shared volume /lab/store)']
    assert FILTERS['storage_errors'](hostvars, groups, 'bind', '/lab/store') == []
    assert FILTERS['storage_errors'](hostvars, groups, None, None, ['nope']) == [
        "storage_server_extra_clients: 'nope' is not an IP address or network"]


def test_storage_export():
    export = FILTERS['storage_export'](build_cluster(*inventory()), ['10.1.0.0/16'])
    assert export['clients'][-1] == '10.1.0.0/16' and export['server'] == 'store'
    with pytest.raises(AnsibleFilterError, match='cluster_model'):
        FILTERS['storage_export']({'nope': 1})


def test_storage_mount_source():
    model = build_cluster(*inventory())
    assert FILTERS['storage_mount_source'](model, 'nfs') == '192.0.2.10:/srv/mail'
    assert FILTERS['storage_mount_source'](model, 'bind', source='/lab/store') == '/lab/store'
    with pytest.raises(AnsibleFilterError, match='storage_mount_source cannot be derived'):
        FILTERS['storage_mount_source'](model, 'bind')
    with pytest.raises(AnsibleFilterError, match='storage_mount_type'):
        FILTERS['storage_mount_source'](model, 'sshfs')


def test_storage_mount_unit_and_nt_hash():
    assert FILTERS['storage_mount_unit']('/srv/mail') == 'srv-mail.mount'
    with pytest.raises(AnsibleFilterError, match='absolute path'):
        FILTERS['storage_mount_unit']('srv/mail')
    assert FILTERS['storage_nt_hash']('password') == '8846F7EAEE8FB117AD06BDD830B7586C'


def test_storage_errors_checks_the_server_nfs_versions():
    hostvars, groups = inventory()
    assert FILTERS['storage_errors'](hostvars, groups, nfs_versions=['4.1', '4.2']) == []
    assert FILTERS['storage_errors'](hostvars, groups, nfs_versions=[4]) == [
        'storage_server_nfs_versions: 4 is ambiguous; list the NFSv4 minor versions to serve, e.g. "4.1", "4.2"']


def test_storage_errors_checks_the_mount_against_the_data_server():
    hostvars, groups = inventory()
    assert FILTERS['storage_errors'](hostvars, groups, 'nfs', '', mount_options=[], nfs_version='4.2') == []
    hostvars['store']['storage_server_nfs_versions'] = ['4.1']
    assert FILTERS['storage_errors'](hostvars, groups, 'nfs', '', mount_options=[], nfs_version='4.2') == [
        'storage_mount_nfs_version=4.2: the data server serves only 4.1 (storage_server_nfs_versions);'
        ' mount one of those']
    # a broken list on the data server is reported by its own run, not here
    hostvars['store']['storage_server_nfs_versions'] = ['5']
    assert FILTERS['storage_errors'](hostvars, groups, 'nfs', '', mount_options=[], nfs_version='4.2') == []


def test_storage_nfs_protocols_filter():
    assert FILTERS['storage_nfs_protocols'](['4.2', 4.1]) == {
        'versions': ['4.1', '4.2'], 'protocols': [4], 'minor_versions': [1, 2], 'rpcbind': False}
    with pytest.raises(AnsibleFilterError, match='storage_server_nfs_versions'):
        FILTERS['storage_nfs_protocols']([])


def test_storage_mount_options_filter():
    assert FILTERS['storage_mount_options']('nfs', [], '4.1')[-1] == 'vers=4.1'
    assert FILTERS['storage_mount_options']('cifs')[-1] == 'seal'
    with pytest.raises(AnsibleFilterError, match='storage_mount_nfs_version'):
        FILTERS['storage_mount_options']('nfs', ['nfsvers=3'], '4.2')
    with pytest.raises(AnsibleFilterError, match='storage_mount_type'):
        FILTERS['storage_mount_options']('smbfs')
