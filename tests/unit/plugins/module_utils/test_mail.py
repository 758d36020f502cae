# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster
from ansible_collections.clustered.mail.plugins.module_utils._mail import (
    MailError, mail_errors, mail_maps, primaries, tls_names,
)
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import (
    HASH, inventory, set_all,
)

USERS = [
    {'name': 'alice', 'password_hash': HASH, 'aliases': ['postmaster', 'sales@example.org']},
    {'name': 'bob', 'domain': 'example.org', 'password_hash': '$6$salt$hash'},
]


def model_with(users=None, **values):
    values.setdefault('mail_cluster_domains', ['example.com', 'example.org'])
    values['mail_cluster_users'] = USERS if users is None else users
    return build_cluster(*set_all(*inventory(), **values))


def test_one_pass_feeds_every_map():
    maps = mail_maps(model_with())
    assert maps['domains'] == ['example.com', 'example.org']
    assert maps['relay_domains'] == maps['domains']
    assert [m['address'] for m in maps['mailboxes']] == ['alice@example.com', 'bob@example.org']
    assert maps['aliases'] == [
        {'alias': 'postmaster@example.com', 'address': 'alice@example.com'},
        {'alias': 'sales@example.org', 'address': 'alice@example.com'},
    ]
    assert maps['virtual_mailboxes'] == [
        ('alice@example.com', 'example.com/alice/Maildir/'),
        ('bob@example.org', 'example.org/bob/Maildir/'),
    ]
    assert maps['virtual_aliases'] == [
        ('postmaster@example.com', 'alice@example.com'),
        ('sales@example.org', 'alice@example.com'),
    ]
    # The backup MX accepts exactly what the primaries accept: mailboxes and aliases.
    accepted = set(k for k, _v in maps['virtual_mailboxes']) | set(k for k, _v in maps['virtual_aliases'])
    assert set(k for k, _v in maps['relay_recipients']) == accepted
    assert all(v == 'OK' for _k, v in maps['relay_recipients'])


def test_passwd_file_lines_carry_hash_ids_and_home_on_the_store():
    maps = mail_maps(model_with(mail_cluster_store_path='/var/mail/cluster/', mail_cluster_vmail_uid=6000,
                                mail_cluster_vmail_gid=6001))
    assert maps['passwd_file'] == [
        'alice@example.com:%s:6000:6001::/var/mail/cluster/example.com/alice::' % HASH,
        # A bare crypt string gets {CRYPT}: Dovecot 2.4 would read it as PLAIN.
        'bob@example.org:{CRYPT}$6$salt$hash:6000:6001::/var/mail/cluster/example.org/bob::',
    ]
    assert maps['mailboxes'][0]['home'] == '/var/mail/cluster/example.com/alice'
    assert maps['mailboxes'][0]['maildir'] == '/var/mail/cluster/example.com/alice/Maildir'
    # Hashes stay in the passwd-file only.
    assert all('password_hash' not in m for m in maps['mailboxes'])
    assert all(len(line.split(':')) == 8 for line in maps['passwd_file'])


def test_transport_goes_to_every_primary_ipv4_first():
    maps = mail_maps(model_with())
    hops = '[192.0.2.11]:25,[192.0.2.12]:25,[192.0.2.13]:25'
    assert maps['transport'] == [('example.com', hops), ('example.org', hops)]
    assert [p['host'] for p in maps['primaries']] == ['primary1', 'primary2', 'primary3']


def test_transport_follows_a_new_primary_and_a_port():
    hostvars, groups = set_all(*inventory(), mail_cluster_users=USERS, mail_cluster_domains=['example.com', 'example.org'])
    hostvars['primary4'] = dict(hostvars['primary1'], mail_cluster_addresses=['2001:db8::14'])
    groups['mail_primaries'].append('primary4')
    maps = mail_maps(build_cluster(hostvars, groups), port=2525)
    assert maps['transport'][0][1].split(',')[-1] == '[2001:db8::14]:2525'
    assert len(maps['transport'][0][1].split(',')) == 4


def test_no_users_gives_empty_maps_but_domains():
    maps = mail_maps(model_with(users=[]))
    assert maps['passwd_file'] == [] and maps['relay_recipients'] == [] and maps['virtual_aliases'] == []
    assert [d for d, _hop in maps['transport']] == ['example.com', 'example.org']


@pytest.mark.parametrize('bad, fragment', [
    ('{PLAIN}secret', 'stores the password in clear'),
    ('{clear}secret', 'stores the password in clear'),
    ('secret', 'must be a hash'),
    ('{SHA512-CRYPT}$6$a:b', "must not contain ':'"),
    ('$6$salt$hash\nbob:x', 'line break'),
])
def test_bad_hashes_are_rejected_naming_the_variable(bad, fragment):
    users = [dict(USERS[0]), dict(USERS[1], password_hash=bad)]
    model = model_with(users=users)
    errors = mail_errors(model)
    assert len(errors) == 1, errors
    assert errors[0].startswith('mail_cluster_users[1] (bob@example.org).password_hash'), errors[0]
    assert fragment in errors[0]
    with pytest.raises(MailError) as exc:
        mail_maps(model)
    assert exc.value.errors == errors


def test_good_hashes_pass():
    for good in ('{SHA512-CRYPT}$6$x$y', '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA', '$y$j9T$salt$hash',
                 '{SSHA512}abc+/=='):
        assert mail_errors(model_with(users=[{'name': 'a', 'password_hash': good}])) == []


def test_tls_names():
    model = model_with()
    assert tls_names(model, 'primary1') == [
        'DNS:primary1.example.com', 'DNS:primary1', 'DNS:mail.example.com',
        # placement hash (the default): clients of <user>.pop.<domain> reach any primary
        'DNS:*.pop.example.com', 'DNS:*.pop.example.org', 'DNS:imap.example.com',
        'DNS:pop3.example.com', 'DNS:smtp.example.com', 'DNS:submission.example.com',
        'IP:192.0.2.11', 'IP:2001:db8::11',
    ]
    assert tls_names(model, 'backup') == ['DNS:backup.example.com', 'DNS:backup', 'IP:203.0.113.50']


def test_tls_names_skip_an_inventory_name_that_is_not_a_dns_name():
    hostvars, groups = inventory()
    hostvars['backup_mx'] = hostvars.pop('backup')
    hostvars['backup_mx']['mail_cluster_host_name'] = 'backup'
    groups['mail_backup_mx'] = ['backup_mx']
    groups['all'] = [h if h != 'backup' else 'backup_mx' for h in groups['all']]
    model = build_cluster(hostvars, groups)
    assert tls_names(model, 'backup_mx') == ['DNS:backup.example.com', 'IP:203.0.113.50']


def test_primaries_without_address_have_no_nexthop():
    model = model_with()
    model['hosts']['primary3']['addresses'] = []
    assert primaries(model)[2] == {'host': 'primary3', 'address': None, 'nexthop': None}
    assert '192.0.2.13' not in mail_maps(model)['transport'][0][1]


def test_tls_names_name_dotted_users_a_wildcard_cannot_cover():
    users = [{'name': 'john.doe', 'password_hash': '$6$x$y'}, {'name': 'alice', 'password_hash': '$6$x$y'}]
    names = tls_names(model_with(users=users), 'primary1')
    assert 'DNS:john.doe.pop.example.com' in names and 'DNS:*.pop.example.com' in names
    assert 'DNS:alice.pop.example.com' not in names
