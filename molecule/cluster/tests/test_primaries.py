# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host state of every primary (mail_primaries) after the faults, run by verify_host_state.yml.

Fault 3 unmounted the store on one primary and started it again: every
primary must be back with the store mounted and every mail unit tied to it.
CLUSTER_TEST_STORE is the store path, CLUSTER_TEST_ADDRESSES maps each
primary to its cluster address (NAME=ADDRESS ...).
"""

import pytest

from clustered_mail_testinfra import env, listens, release, unit_properties


@pytest.fixture
def store():
    return env('CLUSTER_TEST_STORE')


@pytest.fixture
def mount_unit(host, store):
    return host.check_output('systemd-escape --path --suffix=mount %s', store)


def mail_units(host):
    # the units that run the mail daemons on each release, plus Debian 12's postfix.service wrapper
    return (['postfix@-.service'] if release(host) == 12 else []) + ['postfix.service', 'dovecot.service']


def test_the_store_is_mounted_by_its_enabled_unit(host, store, mount_unit):
    props = unit_properties(host, mount_unit, 'ActiveState', 'UnitFileState', 'Where')
    assert props == {'ActiveState': 'active', 'UnitFileState': 'enabled', 'Where': store}
    assert host.mount_point(store).exists


def test_the_store_is_the_shared_volume(host, store):
    # the bind mount's source: the same directory (device and inode) as the shared volume at /lab/store
    same = host.check_output('stat -c %s %s %s', '%d:%i', store, '/lab/store').split()
    assert len(same) == 2 and same[0] == same[1], same


@pytest.mark.parametrize('prop', ['Requires', 'BindsTo', 'After'])
def test_each_mail_unit_requires_is_bound_to_and_comes_after_the_store(host, mount_unit, prop):
    for unit in mail_units(host):
        assert mount_unit in unit_properties(host, unit, prop)[prop].split(), '%s %s' % (unit, prop)


@pytest.mark.parametrize('name', ['postfix', 'dovecot', 'clustered-mail-homes', 'clustered-mail-lmtp-firewall'])
def test_the_mail_services_the_homes_agent_and_the_lmtp_firewall_are_enabled_and_active(host, name):
    service = host.service(name)
    assert service.is_enabled and service.is_running, name


@pytest.mark.parametrize('port', [25, 587, 465, 143, 993])
def test_smtp_submission_and_imap_listen_beyond_localhost(host, port):
    assert listens(host, port), host.socket.get_listening_sockets()


def test_lmtp_listens_on_the_cluster_address_only(host, hostname):
    address = dict(pair.split('=', 1) for pair in env('CLUSTER_TEST_ADDRESSES').split())[hostname]
    assert listens(host, 24) == ['tcp://%s:24' % address]


def test_the_postfix_queue_is_on_local_disk_not_on_the_store(host, store):
    queue = host.check_output('postconf -h queue_directory')
    assert host.check_output('findmnt -n -o TARGET -T %s', queue) != store
