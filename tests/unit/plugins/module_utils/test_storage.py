# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess
import shutil

import pytest

from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster
from ansible_collections.clustered.mail.plugins.module_utils._storage import (
    _md4, export_clients, mount_option_errors, mount_options, mount_source, mount_unit_name, nfs_server_protocols,
    nfs_version_errors, nt_hash, storage_errors, storage_export,
)
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import (
    inventory, set_all,
)


def model_of(**cluster):
    return build_cluster(*set_all(*inventory(), **cluster)) if cluster else build_cluster(*inventory())


def test_export_clients_are_every_primary_address_in_order():
    assert export_clients(model_of()) == ['192.0.2.11', '192.0.2.12', '198.51.100.12', '192.0.2.13', '2001:db8::11']


def test_export_clients_follow_mail_primaries():
    hostvars, groups = inventory()
    groups['mail_primaries'] = ['primary2']
    assert export_clients(build_cluster(hostvars, groups)) == ['192.0.2.12', '198.51.100.12']


def test_export_clients_extras_are_appended_once():
    assert export_clients(model_of(), ['10.0.0.0/24', '192.0.2.11', ' 10.0.0.0/24 '])[-1] == '10.0.0.0/24'
    assert export_clients(model_of(), ['10.0.0.0/24', '192.0.2.11']).count('192.0.2.11') == 1


def test_data_server_and_ids():
    export = storage_export(model_of(mail_cluster_vmail_uid=6000, mail_cluster_store_path='/var/mail/store/'))
    assert export['server'] == 'store'
    assert export['server_address'] == '192.0.2.10'
    assert (export['uid'], export['gid'], export['store_path']) == (6000, 5000, '/var/mail/store')


def test_no_data_server():
    hostvars, groups = inventory(mail_cluster_store_shared=True)  # e.g. a NAS the inventory does not manage
    groups['mail_storage'] = []
    model = build_cluster(hostvars, groups)
    assert storage_export(model)['server'] is None
    assert mount_source(model, 'nfs') == ''
    assert storage_errors(model, 'nfs') == [
        'storage_mount_source is empty and group mail_storage has no host: add the data server to mail_storage'
        ' or set storage_mount_source (storage_mount_type=nfs)']
    assert storage_errors(model, 'nfs', '192.0.2.99:/srv/mail') == []


def test_mount_sources():
    model = model_of()
    assert mount_source(model, 'nfs') == '192.0.2.10:/srv/mail'
    assert mount_source(model, 'cifs', 'store') == '//192.0.2.10/store'
    assert mount_source(model, 'bind') == ''
    assert mount_source(model, 'bind', source='/lab/store') == '/lab/store'
    assert mount_source(model, 'nfs', source='nas:/export') == 'nas:/export'


def test_mount_source_ipv6_only_server_is_bracketed():
    hostvars, groups = inventory()
    hostvars['store']['mail_cluster_addresses'] = ['2001:db8::10']
    model = build_cluster(hostvars, groups)
    assert mount_source(model, 'nfs') == '[2001:db8::10]:/srv/mail'
    assert mount_source(model, 'cifs') == '//[2001:db8::10]/mail'


@pytest.mark.parametrize('mount_type, source, fragment', [
    ('nfs4', '', "storage_mount_type='nfs4'"),
    ('bind', '', 'storage_mount_source is empty: storage_mount_type=bind'),
    ('bind', 'lab/store', "storage_mount_source='lab/store'"),
    ('bind', '/srv/mail/', 'is mail_cluster_store_path itself'),
])
def test_storage_errors_name_the_variable(mount_type, source, fragment):
    errors = storage_errors(model_of(), mount_type, source)
    assert len(errors) == 1 and fragment in errors[0], errors


def test_storage_errors_extra_clients():
    assert storage_errors(model_of(), extra_clients=['10.0.0.0/8', '2001:db8::1']) == []
    errors = storage_errors(model_of(), extra_clients=['everyone'])
    assert errors == ["storage_server_extra_clients: 'everyone' is not an IP address or network"]


def test_valid_settings_have_no_errors():
    assert storage_errors(model_of(), 'bind', '/lab/store') == []
    assert storage_errors(model_of(), 'nfs') == []
    assert storage_errors(model_of(), 'cifs') == []
    assert storage_errors(model_of()) == []


@pytest.mark.parametrize('path, unit', [
    ('/srv/mail', 'srv-mail.mount'),
    ('/srv/mail/', 'srv-mail.mount'),
    ('//srv//mail', 'srv-mail.mount'),
    ('/', '-.mount'),
    ('/var/vmail-store', 'var-vmail\\x2dstore.mount'),
    ('/srv/.mail', 'srv-.mail.mount'),
    ('/.hidden', '\\x2ehidden.mount'),
    ('/srv/mail store', 'srv-mail\\x20store.mount'),
    ('/srv/m\u00e4il', 'srv-m\\xc3\\xa4il.mount'),
])
def test_mount_unit_name(path, unit):
    assert mount_unit_name(path) == unit


@pytest.mark.skipif(shutil.which('systemd-escape') is None, reason='systemd-escape not installed')
@pytest.mark.parametrize('path', ['/srv/mail', '/var/vmail-store', '/.hidden/x', '/srv/mail store', '/a:b_c.d'])
def test_mount_unit_name_matches_systemd(path):
    expected = subprocess.check_output(['systemd-escape', '--path', '--suffix=mount', path]).decode().strip()
    assert mount_unit_name(path) == expected


@pytest.mark.parametrize('data, digest', [
    (b'', '31d6cfe0d16ae931b73c59d7e0c089c0'),
    (b'a', 'bde52cb31de33e46245e05fbdbd6fb24'),
    (b'abc', 'a448017aaf21d8525fc10ae87aa6729d'),
    (b'message digest', 'd9130a8164549fe818874806e1c7014b'),
    (b'12345678901234567890123456789012345678901234567890123456789012345678901234567890',
     'e33b4ddc9c38f2199c3e7b164fcc0536'),
])
def test_md4_rfc1320_vectors(data, digest):
    assert _md4(data).hex() == digest


def test_nt_hash():
    assert nt_hash('password') == '8846F7EAEE8FB117AD06BDD830B7586C'
    assert nt_hash('') == '31D6CFE0D16AE931B73C59D7E0C089C0'


def test_nfs_versions_default_is_v4_1_and_later_without_rpcbind():
    assert nfs_server_protocols(['4.1', '4.2']) == {
        'versions': ['4.1', '4.2'], 'protocols': [4], 'minor_versions': [1, 2], 'rpcbind': False}


def test_nfs_versions_with_v3_need_rpcbind():
    # YAML gives numbers for unquoted 3 and 4.1; duplicates and order do not matter
    assert nfs_server_protocols([4.2, 3, '4.1', '3']) == {
        'versions': ['3', '4.1', '4.2'], 'protocols': [3, 4], 'minor_versions': [1, 2], 'rpcbind': True}
    assert nfs_server_protocols(['3']) == {'versions': ['3'], 'protocols': [3], 'minor_versions': [], 'rpcbind': True}
    assert nfs_server_protocols(['4.0'])['minor_versions'] == [0]


@pytest.mark.parametrize('versions, message', [
    ([], 'storage_server_nfs_versions=[]: list the NFS versions to serve'),
    ('4.1', "storage_server_nfs_versions='4.1': list the NFS versions to serve"),
    ([4], 'storage_server_nfs_versions: 4 is ambiguous; list the NFSv4 minor versions'),
    (['4.1', 2], 'storage_server_nfs_versions: 2 is not an NFS version; choose from 3, 4.0, 4.1, 4.2'),
    (['4.3'], "storage_server_nfs_versions: '4.3' is not an NFS version"),
])
def test_nfs_version_errors_name_the_variable(versions, message):
    errors = nfs_version_errors(versions)
    assert len(errors) == 1 and errors[0].startswith(message)


def test_nfs_version_errors_accept_every_known_version():
    assert nfs_version_errors(['3', 4.0, 4.1, '4.2']) == []


def test_nfs_mount_pins_the_version():
    assert mount_options('nfs') == ['hard', 'noatime', 'nordirplus', 'actimeo=60', 'vers=4.2']
    assert mount_options('nfs', ['soft', 'soft'], 4.1) == ['soft', 'vers=4.1']


def test_cifs_mount_is_always_sealed():
    assert mount_options('cifs') == ['vers=3.1.1', 'file_mode=0660', 'dir_mode=0770', 'seal']
    assert mount_options('cifs', ['vers=3.0', 'seal']) == ['vers=3.0', 'seal']


def test_bind_mount_has_no_pinned_options():
    assert mount_options('bind') == []
    assert mount_options('bind', ['ro']) == ['ro']


@pytest.mark.parametrize('mount_type, options, version, message', [
    ('nfs', ['vers=3'], '4.2', 'storage_mount_options: vers=3 would override the pinned NFS version'),
    ('nfs', ['nfsvers=4'], '4.2', 'storage_mount_options: nfsvers=4 would override'),
    ('nfs', ['minorversion=0'], '4.2', 'storage_mount_options: minorversion=0 would override'),
    ('nfs', [], '4', "storage_mount_nfs_version='4': choose one of 3, 4.0, 4.1, 4.2"),
    ('cifs', ['noseal'], '4.2', 'storage_mount_options: noseal is refused'),
    ('cifs', ['vers=2.1'], '4.2', 'storage_mount_options: vers=2.1 cannot encrypt (seal needs SMB 3)'),
])
def test_mount_option_errors_name_the_variable(mount_type, options, version, message):
    errors = mount_option_errors(mount_type, options, version)
    assert len(errors) == 1 and errors[0].startswith(message)


def test_mount_option_errors_check_the_server_versions():
    assert mount_option_errors('nfs', [], '4.2', ['4.1', '4.2']) == []
    assert mount_option_errors('nfs', [], '3', ['4.1', '4.2']) == [
        'storage_mount_nfs_version=3: the data server serves only 4.1, 4.2 (storage_server_nfs_versions);'
        ' mount one of those']
    assert mount_option_errors('cifs', ['vers=3.1.1'], '4.2', ['4.1']) == []
