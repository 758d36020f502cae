# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The day-2 settings in the cluster model: each default defined once (CLUSTER_DEFAULTS), checked there."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.clustered.mail.plugins.module_utils._cluster import (
    CLUSTER_DEFAULTS, STATE_DIR, ClusterError, build_cluster, cluster_errors,
)
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import inventory, set_all


def test_defaults_come_from_cluster_defaults():
    model = build_cluster(*inventory())
    assert model['state_dir'] == STATE_DIR == CLUSTER_DEFAULTS['bind_dns_state_dir'] == '/var/lib/clustered-mail'
    assert model['homes_agent_state'] == '/var/lib/clustered-mail-homes/state.json'
    assert model['tsig'] == {'key_name': 'mail-cluster-transfer', 'algorithm': 'hmac-sha256'}
    assert model['min_members'] == 1
    assert model['health'] == {'failures': 3, 'successes': 2, 'protocols': ['smtp', 'imap']}


def test_inventory_values_win():
    model = build_cluster(*set_all(*inventory(), bind_dns_state_dir='/srv/state/', bind_dns_tsig_key_name='upd-key',
                                   bind_dns_tsig_algorithm='hmac-sha512', mail_cluster_min_members=2,
                                   mail_cluster_health_failures=5, mail_cluster_health_successes=4,
                                   mail_cluster_health_protocols=['imap']))
    assert model['state_dir'] == '/srv/state'
    assert model['tsig'] == {'key_name': 'upd-key', 'algorithm': 'hmac-sha512'}
    assert model['min_members'] == 2
    assert model['health'] == {'failures': 5, 'successes': 4, 'protocols': ['imap']}


def test_extra_var_strings_of_digits_are_numbers():
    # ansible-playbook -e mail_cluster_min_members=2 passes the string '2'.
    model = build_cluster(*set_all(*inventory(), mail_cluster_min_members='2'))
    assert model['min_members'] == 2


@pytest.mark.parametrize('values, message', [
    ({'mail_cluster_min_members': 0}, 'mail_cluster_min_members=0 on all: must be an integer of at least 1 (default 1)'),
    ({'mail_cluster_min_members': 'two'}, "mail_cluster_min_members='two' on all: must be an integer of at least 1"),
    ({'mail_cluster_health_failures': True}, 'mail_cluster_health_failures=True on all: must be an integer of at least 1'),
    ({'mail_cluster_health_successes': -1}, 'mail_cluster_health_successes=-1 on all: must be an integer of at least 1'),
    ({'mail_cluster_health_protocols': 'imap'}, "mail_cluster_health_protocols='imap' on all: must be a non-empty list"),
    ({'mail_cluster_health_protocols': ['imap', 'lmtp']}, 'mail_cluster_health_protocols=[\'imap\', \'lmtp\'] on all'),
    ({'mail_cluster_health_protocols': []}, 'mail_cluster_health_protocols=[] on all: must be a non-empty list'),
    ({'bind_dns_state_dir': 'var/lib/x'}, "bind_dns_state_dir='var/lib/x' on all: must be an absolute directory"),
    ({'bind_dns_state_dir': '/'}, "bind_dns_state_dir='/' on all: must be an absolute directory other than /"),
    ({'bind_dns_tsig_key_name': 'bad key'}, "bind_dns_tsig_key_name='bad key' on all: must be a DNS-style key name"),
    ({'bind_dns_tsig_algorithm': 'hmac-md5'}, "bind_dns_tsig_algorithm='hmac-md5' on all: must be one of hmac-sha256"),
])
def test_bad_values_are_refused_naming_the_variable(values, message):
    hostvars, groups = set_all(*inventory(), **values)
    errors = cluster_errors(hostvars, groups)
    assert [e for e in errors if message in e], errors
    with pytest.raises(ClusterError):
        build_cluster(hostvars, groups)


def test_state_dir_is_cluster_wide():
    hostvars, groups = inventory()
    hostvars['ns1']['bind_dns_state_dir'] = '/srv/state'
    assert any(e.startswith('bind_dns_state_dir differs between hosts ns1 and ns2: define cluster-wide variables once,'
                            ' in group_vars/all') for e in cluster_errors(hostvars, groups))
