# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shape 6: mail_cluster_services decides what runs on each primary, and only mailbox hosts are homes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustered.mail.plugins.filter.membership import health_probes
from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster, cluster_errors
from ansible_collections.clustered.mail.plugins.module_utils._mail import host_plan, mail_maps, primaries, tls_names
from ansible_collections.clustered.mail.plugins.module_utils._membership import rotation_model, served_drained
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import (
    HASH, inventory, set_all,
)

SERVICES = {'smtp': ['primary1', 'primary2'], 'imap': ['primary3']}
USERS = [{'name': 'u%d' % i, 'password_hash': HASH} for i in range(12)]


def shape6(**values):
    values.setdefault('mail_cluster_services', SERVICES)
    values.setdefault('mail_cluster_users', USERS)
    return build_cluster(*set_all(*inventory(), **values))


def test_every_user_is_homed_on_a_mailbox_host():
    model = shape6()
    assert model['mailbox_hosts'] == ['primary3']
    assert set(u['home'] for u in model['users']) == {'primary3'}
    # an explicit home on an smtp-only host is refused, naming the fix
    errors = cluster_errors(*set_all(*inventory(), mail_cluster_services=SERVICES,
                                     mail_cluster_users=[{'name': 'a', 'password_hash': HASH, 'home': 'primary1'}]))
    assert any("home='primary1'" in e and 'runs imap or pop3 (primary3)' in e for e in errors), errors


def test_a_cluster_without_imap_or_pop3_is_refused():
    errors = cluster_errors(*set_all(*inventory(), mail_cluster_services={'imap': ['backup']}))
    assert any("mail_cluster_services.imap on all: 'backup' is not a host of mail_primaries" in e for e in errors), errors


def test_what_runs_where():
    model = shape6()
    smtp, mailbox = host_plan(model, 'primary1'), host_plan(model, 'primary3')
    assert smtp['postfix'] and smtp['smtp'] and smtp['submission']
    # Dovecot authenticates submission there, with no IMAP/POP3/LMTP listener and no homes agent
    assert smtp['dovecot'] and smtp['protocols'] == [] and not smtp['mailbox']
    assert smtp['units'] == ['dovecot', 'postfix'] and smtp['stopped'] == ['clustered-mail-homes']
    assert smtp['delivery'] == 'lmtp:inet:[192.0.2.13]:24'
    assert mailbox['protocols'] == ['imap', 'pop3', 'lmtp'] and mailbox['delivery'] == 'lmtp:unix:private/dovecot-lmtp'
    assert not mailbox['postfix'] and mailbox['stopped'] == ['postfix']
    assert mail_maps(model, host='primary1')['proxy']['enabled'] is False
    assert mail_maps(model, host='primary3')['proxy']['enabled'] is True


def test_delivery_list_is_rotated_per_host():
    hostvars, groups = inventory()
    hostvars['primary4'] = dict(hostvars['primary3'], mail_cluster_addresses=['192.0.2.14'])
    groups['mail_primaries'].append('primary4')
    model = build_cluster(*set_all(hostvars, groups, mail_cluster_services={
        'smtp': ['primary1', 'primary2'], 'imap': ['primary3', 'primary4']}))
    assert host_plan(model, 'primary1')['delivery'] == 'lmtp:inet:[192.0.2.13]:24, inet:[192.0.2.14]:24'
    assert host_plan(model, 'primary2')['delivery'] == 'lmtp:inet:[192.0.2.14]:24, inet:[192.0.2.13]:24'


def test_a_primary_in_no_service_runs_neither_daemon():
    model = shape6(mail_cluster_services={'smtp': ['primary1'], 'imap': ['primary2']})
    idle = host_plan(model, 'primary3')
    assert idle['units'] == [] and set(idle['stopped']) == {'dovecot', 'postfix', 'clustered-mail-homes'}


def test_backup_mx_relays_to_the_smtp_hosts_and_names_follow_services():
    model = shape6()
    assert [p['host'] for p in primaries(model)] == ['primary1', 'primary2']
    assert 'DNS:mail.example.com' in tls_names(model, 'primary1')
    assert 'DNS:mail.example.com' not in tls_names(model, 'primary3')
    assert 'DNS:*.pop.example.com' in tls_names(model, 'primary3')
    assert 'DNS:*.pop.example.com' not in tls_names(model, 'primary1')


def test_health_probes_only_what_a_host_serves():
    model = shape6()
    assert health_probes(model, ['smtp', 'imap']) == [['primary1', 'smtp'], ['primary2', 'smtp'], ['primary3', 'imap']]


def test_an_imap_host_in_rotation_is_not_taken_for_drained():
    model = shape6()
    served = {'example.com': {('mail.example.com', 'A'): ['192.0.2.11', '192.0.2.12', '198.51.100.12'],
                              ('imap.example.com', 'A'): ['192.0.2.13']}}
    assert served_drained(model, served) == []
    served['example.com'][('imap.example.com', 'A')] = []
    assert served_drained(model, served) == ['primary3']
    # draining an smtp host leaves the homes alone
    assert [u['home'] for u in rotation_model(model, ['primary1'])['users']] == [u['home'] for u in model['users']]
