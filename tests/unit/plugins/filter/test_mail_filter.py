# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.clustered.mail.plugins.filter.mail import FilterModule
from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import (
    HASH, inventory, set_all,
)

FILTERS = FilterModule().filters()


def test_filters_are_exposed():
    assert sorted(FILTERS) == ['mail_errors', 'mail_health_account', 'mail_homes', 'mail_homes_agent', 'mail_maps',
                              'mail_move_errors', 'mail_move_plan', 'mail_tls_names', 'mx_postfix']


def test_mail_errors_reports_cluster_errors_first():
    hostvars, groups = set_all(*inventory(), mail_cluster_ttl=1, mail_cluster_users=[{'name': 'a', 'password_hash': 'x'}])
    errors = FILTERS['mail_errors'](hostvars, groups)
    assert len(errors) == 1 and errors[0].startswith('mail_cluster_ttl=1')


def test_mail_errors_then_mail_checks():
    hostvars, groups = set_all(*inventory(), mail_cluster_users=[{'name': 'a', 'password_hash': 'secret'}])
    errors = FILTERS['mail_errors'](hostvars, groups)
    assert len(errors) == 1 and 'mail_cluster_users[0] (a@example.com).password_hash' in errors[0]
    hostvars, groups = set_all(*inventory(), mail_cluster_users=[{'name': 'a', 'password_hash': HASH}])
    assert FILTERS['mail_errors'](hostvars, groups) == []


def test_mail_maps_wraps_errors():
    model = build_cluster(*set_all(*inventory(), mail_cluster_users=[{'name': 'a', 'password_hash': 'secret'}]))
    with pytest.raises(AnsibleFilterError, match='password_hash'):
        FILTERS['mail_maps'](model)


def test_mail_tls_names_unknown_host():
    model = build_cluster(*inventory())
    with pytest.raises(AnsibleFilterError, match='client'):
        FILTERS['mail_tls_names'](model, 'client')
    assert FILTERS['mail_tls_names'](model, 'store')[0] == 'DNS:store.example.com'


def test_mail_homes_agent_wraps_homes_agent():
    from ansible_collections.clustered.mail.plugins.module_utils._mail import homes_agent
    model = build_cluster(*set_all(*inventory(), mail_cluster_users=[{'name': 'a', 'password_hash': HASH}]))
    assert FILTERS['mail_homes_agent'](model, 'primary2') == homes_agent(model, 'primary2', '2.4')
    assert FILTERS['mail_homes_agent'](model, 'primary2', '2.3') == homes_agent(model, 'primary2', '2.3')
    with pytest.raises(AnsibleFilterError, match='mail_homes_agent: backup is not a host of mail_primaries'):
        FILTERS['mail_homes_agent'](model, 'backup')
    with pytest.raises(AnsibleFilterError, match='mail_homes_agent: .*dovecot_series'):
        FILTERS['mail_homes_agent'](model, 'primary2', '3.0')
