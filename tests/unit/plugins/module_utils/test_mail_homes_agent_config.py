# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""proxy_to, the health account, {SSHA512}, the homes agent's configuration and the base passwd-file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json

import pytest

from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster
from ansible_collections.clustered.mail.plugins.module_utils._mail import (
    MailError, apply_homes, health_account, homes_agent, mail_maps, proxy_fields, proxy_to, ssha512, tls_names,
)
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import (
    HASH, inventory, set_all,
)

PRIMARIES = ['primary1', 'primary2', 'primary3']
ADDRESS = {'primary1': '192.0.2.11', 'primary2': '192.0.2.12', 'primary3': '192.0.2.13'}
PORT_23 = 'port=%{if;%s;eq;lmtp;24;%{if;%s;eq;pop3;110;143}}'
USERS = [
    {'name': 'alice', 'password_hash': HASH, 'home': 'primary2'},
    {'name': 'bob', 'domain': 'example.org', 'password_hash': '$6$bobsalt$bobhash', 'home': 'primary3'},
    {'name': 'carol', 'password_hash': '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA'},
]


def model_with(users=None, primaries=None, **values):
    hostvars, groups = inventory()
    if primaries is not None:
        groups['mail_primaries'] = list(primaries)
    values.setdefault('mail_cluster_domains', ['example.com', 'example.org'])
    values['mail_cluster_users'] = USERS if users is None else users
    return build_cluster(*set_all(hostvars, groups, **values))


def fields_of(line):
    return line.split(':', 7)[7]


def check_ssha512(hashed, password):
    assert hashed.startswith('{SSHA512}')
    raw = base64.b64decode(hashed[len('{SSHA512}'):])
    digest, salt = raw[:64], raw[64:]
    assert len(salt) >= 8
    return hashlib.sha512(password.encode('utf-8') + salt).digest() == digest


# --- proxy_to -------------------------------------------------------------------

@pytest.mark.parametrize('home', PRIMARIES)
def test_proxy_to_per_dovecot_series(home):
    model = model_with()
    assert proxy_to(model, home, '2.3') == 'proxy=y host=%s %s starttls=any-cert proxy_ttl=2 proxy_timeout=3' % (ADDRESS[home], PORT_23)
    assert proxy_to(model, home, '2.4') == 'proxy=y host=%s.example.com hostip=%s starttls=yes proxy_ttl=2 proxy_timeout=3' % (
        home, ADDRESS[home])
    assert proxy_to(model, home) == proxy_to(model, home, '2.4')
    with pytest.raises(MailError, match='dovecot_series'):
        proxy_to(model, home, '2.2')


def test_proxy_to_uses_the_first_address_ipv4_first():
    hostvars, groups = inventory()
    hostvars['primary1']['mail_cluster_addresses'] = ['2001:db8::11', '192.0.2.11']
    model = build_cluster(hostvars, groups)
    assert 'hostip=192.0.2.11 ' in proxy_to(model, 'primary1', '2.4')
    assert 'host=192.0.2.11 ' in proxy_to(model, 'primary1', '2.3')


@pytest.mark.parametrize('series', ['2.3', '2.4'])
def test_proxy_fields_are_proxy_to_the_home(series):
    model = model_with()
    for user in model['users']:
        for host in PRIMARIES:
            want = '' if host == user['home'] else proxy_to(model, user['home'], series)
            assert proxy_fields(model, host, user, series) == want


# --- the health account and its hash ------------------------------------------------

def test_health_account_per_primary():
    model = model_with()
    assert health_account(model, 'primary2') == {'user': 'clustered-health@primary2.example.com',
                                                 'home': '/srv/mail/.clustered-health/primary2'}
    other = model_with(mail_cluster_store_path='/data/mail/')
    assert health_account(other, 'primary1')['home'] == '/data/mail/.clustered-health/primary1'


def test_ssha512_is_dovecots_salted_sha512_and_stable():
    hashed = ssha512('s3cret pass', 'clustered-health@primary1.example.com')
    assert check_ssha512(hashed, 's3cret pass')
    assert not check_ssha512(hashed, 's3cret pasS')
    assert hashed == ssha512('s3cret pass', 'clustered-health@primary1.example.com')
    # another seed salts differently; another password hashes differently
    assert hashed != ssha512('s3cret pass', 'clustered-health@primary2.example.com')
    assert check_ssha512(ssha512('s3cret pass', 'clustered-health@primary2.example.com'), 's3cret pass')
    assert hashed != ssha512('other', 'clustered-health@primary1.example.com')
    assert ':' not in hashed and '\n' not in hashed
    assert check_ssha512(ssha512(u'p\u00e4ss', 'seed'), u'p\u00e4ss')


# --- mail_maps: base_file and the health line -------------------------------------------

@pytest.mark.parametrize('series', ['2.3', '2.4'])
@pytest.mark.parametrize('host', PRIMARIES)
def test_base_file_is_the_passwd_file_without_proxy_fields(host, series):
    model = model_with()
    maps = mail_maps(model, host=host, dovecot_series=series, health_password='pw-%s' % host)
    users = model['users']
    assert len(maps['base_file']) == len(users) + 1 == len(maps['passwd_file'])
    for user, base, line in zip(users, maps['base_file'], maps['passwd_file']):
        assert base.startswith(user['address'] + ':') and fields_of(base) == ''
        assert line == base + proxy_fields(model, host, user, series)
    account = health_account(model, host)
    health_line = maps['base_file'][-1]
    assert maps['passwd_file'][-1] == health_line  # never proxied
    name, hashed, uid, gid, gecos, home, shell, extra = health_line.split(':')
    assert (name, uid, gid, gecos, home, shell, extra) == (account['user'], '5000', '5000', '', account['home'], '', '')
    assert check_ssha512(hashed, 'pw-%s' % host)
    # the health account is no mailbox: no map of Postfix or the backup MX knows it
    assert account['user'] not in [m['address'] for m in maps['mailboxes']]
    assert account['user'] not in [r[0] for r in maps['relay_recipients']]
    assert account['user'] not in [v[0] for v in maps['virtual_mailboxes']]


def test_no_health_line_without_a_password_or_without_a_host():
    model = model_with()
    assert len(mail_maps(model, host='primary1')['base_file']) == len(model['users'])
    assert len(mail_maps(model, host='primary1', health_password='')['passwd_file']) == len(model['users'])
    maps = mail_maps(model, health_password='pw')
    assert len(maps['passwd_file']) == len(model['users']) and maps['base_file'] == maps['passwd_file']
    assert not [line for line in maps['passwd_file'] if 'clustered-health' in line]


# --- tls_names: the pop wildcard ------------------------------------------------------------

def test_tls_names_cover_the_pop_names_on_primaries_only():
    model = model_with()
    for host in PRIMARIES:
        names = tls_names(model, host)
        assert 'DNS:*.pop.example.com' in names and 'DNS:*.pop.example.org' in names
    assert not [n for n in tls_names(model, 'backup') + tls_names(model, 'store') if '.pop.' in n]
    # only the domains that have users
    only_com = model_with(users=[USERS[0]])
    assert [n for n in tls_names(only_com, 'primary1') if '.pop.' in n] == ['DNS:*.pop.example.com']
    none = model_with(users=[dict(USERS[0], home='primary1')], primaries=['primary1'], mail_cluster_placement='none')
    assert not [n for n in tls_names(none, 'primary1') if '.pop.' in n]


# --- homes_agent ------------------------------------------------------------------------------

@pytest.mark.parametrize('series', ['2.3', '2.4'])
@pytest.mark.parametrize('host', PRIMARIES)
def test_homes_agent_maps_every_primary_to_its_proxy_fields(host, series):
    model = model_with()
    config = homes_agent(model, host, series)
    assert config['host'] == host and config['self_fqdn'] == '%s.example.com' % host
    assert sorted(config['homes']) == ['%s.example.com' % p for p in PRIMARIES]
    for primary in PRIMARIES:
        fields = config['homes']['%s.example.com' % primary]
        assert fields == ('' if primary == host else proxy_to(model, primary, series))
    assert config['dns_servers'] == ['192.0.2.1', '192.0.2.2']  # the DNS primary first
    assert config['zones'] == ['example.com', 'example.org']
    assert config['users'] == [
        {'address': 'alice@example.com', 'pop': 'alice.pop.example.com', 'home': 'primary2.example.com',
         'index': 'example.com/alice'},
        {'address': 'bob@example.org', 'pop': 'bob.pop.example.org', 'home': 'primary3.example.com',
         'index': 'example.org/bob'},
        {'address': 'carol@example.com', 'pop': 'carol.pop.example.com',
         'home': model['users'][2]['home_fqdn'], 'index': 'example.com/carol'},
    ]
    assert model['users'][2]['home_fqdn'] in config['homes']


def test_homes_agent_carries_no_secret():
    model = model_with()
    for host in PRIMARIES:
        for series in ('2.3', '2.4'):
            text = json.dumps(homes_agent(model, host, series))
            for user in model['users']:
                assert user['password_hash'] not in text
            assert 'bobhash' not in text and 'argon2id' not in text and 'SHA512' not in text
            assert 'password' not in text


def test_homes_agent_falls_back_to_the_inventory_home_and_refuses_a_bad_series():
    # A move (homes.json) changes DNS, not the agent's configuration: its fallback is the inventory's home,
    # so a site run after move_user changes nothing on the primaries.
    plain = model_with()
    moved = apply_homes(plain, {'homes': {'alice@example.com': 'primary1'}})
    assert moved['users'][0]['home'] == 'primary1' != plain['users'][0]['home']
    assert homes_agent(moved, 'primary3') == homes_agent(plain, 'primary3')
    assert homes_agent(moved, 'primary3')['users'][0]['home'] == plain['users'][0]['home_fqdn']
    with pytest.raises(MailError, match='dovecot_series'):
        homes_agent(moved, 'primary1', '3.0')
