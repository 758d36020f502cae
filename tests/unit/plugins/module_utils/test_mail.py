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
    ('{PLAIN.BASE64}c2VjcmV0', 'stores the password in clear'),
    ('secret', 'must be a hash'),
    ('{SHA512-CRYPT}$6$a:b', "must not contain ':'"),
    ('$6$salt$hash\nbob:x', 'line break'),
    # weak schemes: fast hashes, refused by Dovecot 2.4 at login
    ('{MD5}X03MO1qnZdYdgyfeuILPmQ==', '{MD5} is not an accepted scheme'),
    ('{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', '{SHA} is not an accepted scheme'),
    ('{SSHA512}abc+/==', '{SSHA512} is not an accepted scheme'),
    ('{MD5-CRYPT}$1$salt$hash', '{MD5-CRYPT} is not an accepted scheme'),
    ('$1$salt$hash', 'the crypt string "$1$..." is not of a strong scheme'),
    ('$5$salt$hash', 'the crypt string "$5$..." is not of a strong scheme'),
    ('{CRYPT}$1$salt$hash', '{CRYPT} must be followed by a hash starting with'),
    ('{CRYPT}abJnggxhB/yWI', '{CRYPT} must be followed by a hash starting with'),
    ('{SHA512-CRYPT}$1$salt$hash', '{SHA512-CRYPT} must be followed by a hash starting with $6$'),
    ('{ARGON2ID}$argon2i$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA', 'starting with $argon2id$'),
])
def test_bad_hashes_are_rejected_naming_the_variable_and_the_fix(bad, fragment):
    users = [dict(USERS[0]), dict(USERS[1], password_hash=bad)]
    model = model_with(users=users)
    errors = mail_errors(model)
    assert len(errors) == 1, errors
    assert errors[0].startswith('mail_cluster_users[1] (bob@example.org).password_hash'), errors[0]
    assert fragment in errors[0]
    if 'line break' not in fragment and "':'" not in fragment:
        assert 'doveadm pw -s SHA512-CRYPT' in errors[0]
    with pytest.raises(MailError) as exc:
        mail_maps(model)
    assert exc.value.errors == errors


@pytest.mark.parametrize('good, dovecot', [
    ('{SHA512-CRYPT}$6$x$y', '{SHA512-CRYPT}$6$x$y'),
    ('{sha512-crypt}$6$x$y', '{sha512-crypt}$6$x$y'),
    ('{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuu', '{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuu'),
    ('{BLF-CRYPT}$2b$05$abcdefghijklmnopqrstuu', '{BLF-CRYPT}$2b$05$abcdefghijklmnopqrstuu'),
    ('{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$c2FsdA$aGFzaA', '{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$c2FsdA$aGFzaA'),
    ('{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA', '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA'),
    ('{CRYPT}$6$x$y', '{CRYPT}$6$x$y'),
    ('{CRYPT}$y$j9T$salt$hash', '{CRYPT}$y$j9T$salt$hash'),
    # bare crypt strings get the scheme Dovecot 2.4 needs (its default is PLAIN)
    ('$6$x$y', '{CRYPT}$6$x$y'),
    ('$2y$05$abcdefghijklmnopqrstuu', '{CRYPT}$2y$05$abcdefghijklmnopqrstuu'),
    ('$2b$05$abcdefghijklmnopqrstuu', '{CRYPT}$2b$05$abcdefghijklmnopqrstuu'),
    ('$y$j9T$salt$hash', '{CRYPT}$y$j9T$salt$hash'),
    # argon2 is not crypt(3)'s: its own scheme
    ('$argon2i$v=19$m=32768,t=4,p=1$c2FsdA$aGFzaA', '{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$c2FsdA$aGFzaA'),
    ('$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA', '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA'),
])
def test_strong_hashes_pass_with_the_scheme_dovecot_needs(good, dovecot):
    model = model_with(users=[{'name': 'a', 'password_hash': good}])
    assert mail_errors(model) == []
    assert mail_maps(model)['passwd_file'][0].split(':')[1] == dovecot


def test_sender_logins_let_a_user_send_as_its_address_and_aliases_only():
    maps = mail_maps(model_with())
    assert maps['sender_logins'] == [
        ('alice@example.com', 'alice@example.com'),
        ('postmaster@example.com', 'alice@example.com'),
        ('sales@example.org', 'alice@example.com'),
        ('bob@example.org', 'bob@example.org'),
    ]


def test_backup_mx_verifies_each_primary_under_its_name():
    maps = mail_maps(model_with())
    assert maps['tls_policy'] == [
        ('[192.0.2.11]:25', 'secure match=primary1.example.com'),
        ('[192.0.2.12]:25', 'secure match=primary2.example.com'),
        ('[192.0.2.13]:25', 'secure match=primary3.example.com'),
    ]
    # every nexthop of the transport has its policy
    hops = maps['transport'][0][1].split(',')
    assert [k for k, _v in maps['tls_policy']] == hops
    assert mail_maps(model_with(), port=2525)['tls_policy'][0][0] == '[192.0.2.11]:2525'


def test_tls_is_mozilla_intermediate_aead_only():
    tls = mail_maps(model_with())['tls']
    assert tls['min_protocol'] == 'TLSv1.2'
    ciphers = tls['ciphers'].split(':')
    assert ciphers and all(c.startswith('ECDHE-') and ('GCM' in c or 'CHACHA20-POLY1305' in c) for c in ciphers)
    assert set(tls['suites'].split(':')) == {'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384',
                                              'TLS_CHACHA20_POLY1305_SHA256'}


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
