# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host state of the primaries (mail_primaries) after the day-2 operations, run by verify_host_state.yml.

After drains with stop_services and the undrains, every primary runs its
services again. DAY2_TEST_ADDRESSES maps each primary to its cluster address
(NAME=ADDRESS ...).
"""

import pytest

from clustered_mail_testinfra import env, unit_properties


@pytest.mark.parametrize('name', ['postfix', 'dovecot', 'clustered-mail-homes', 'clustered-mail-lmtp-firewall'])
def test_the_mail_services_the_homes_agent_and_the_lmtp_firewall_are_enabled_and_active(host, name):
    service = host.service(name)
    assert service.is_enabled and service.is_running, name


def test_the_homes_agent_may_write_dovecots_configuration_only(host):
    props = unit_properties(host, 'clustered-mail-homes.service', 'ProtectSystem', 'ReadWritePaths', 'ProtectHome',
                            'NoNewPrivileges', 'Restart')
    assert props == {'ProtectSystem': 'full', 'ReadWritePaths': '/etc/dovecot', 'ProtectHome': 'yes',
                     'NoNewPrivileges': 'yes', 'Restart': 'always'}


def test_the_users_file_with_the_password_hashes_is_root_only(host):
    base = host.file('/etc/dovecot/cluster-users.base')
    assert (base.user, base.group, base.mode) == ('root', 'root', 0o600)


def test_the_homes_agent_configuration_is_root_owned(host):
    config = host.file('/etc/clustered-mail/homes.json')
    assert (config.user, config.group, config.mode) == ('root', 'root', 0o644)


def test_lmtp_listens_on_the_cluster_address_only_behind_the_firewall_table(host, hostname):
    address = dict(pair.split('=', 1) for pair in env('DAY2_TEST_ADDRESSES').split())[hostname]
    lmtp = [s for s in host.socket.get_listening_sockets() if s.startswith('tcp://') and s.endswith(':24')]
    assert lmtp == ['tcp://%s:24' % address]
    assert host.run('nft list table inet clustered_mail_lmtp').rc == 0
