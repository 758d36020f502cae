# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Home primaries: Dovecot's proxy fields, the moved-homes override and move plans."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.clustered.mail.plugins.module_utils._cluster import ClusterError, build_cluster
from ansible_collections.clustered.mail.plugins.module_utils._dns_records import dns_zones
from ansible_collections.clustered.mail.plugins.module_utils._mail import (
    MailError, apply_homes, mail_maps, move_plan, proxy_fields,
)
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import (
    HASH, inventory, set_all,
)

PRIMARIES = ['primary1', 'primary2', 'primary3']
USERS = [
    {'name': 'alice', 'password_hash': HASH, 'home': 'primary2'},
    {'name': 'bob', 'domain': 'example.org', 'password_hash': HASH, 'home': 'primary3'},
]


def model_with(placement='explicit', users=None, primaries=None):
    hostvars, groups = inventory()
    if primaries is not None:
        groups['mail_primaries'] = list(primaries)
    return build_cluster(*set_all(hostvars, groups, mail_cluster_domains=['example.com', 'example.org'],
                                  mail_cluster_placement=placement,
                                  mail_cluster_users=USERS if users is None else users))


# placement none is refused with several primaries: it is tested with one.
USERS_WITHOUT_HOME = [dict((k, v) for k, v in u.items() if k != 'home') for u in USERS]


def line_of(maps, address):
    return [line for line in maps['passwd_file'] if line.startswith(address + ':')][0]


def extra_fields(line):
    # user:password:uid:gid:gecos:home:shell:extra
    return line.split(':', 7)[7]


@pytest.mark.parametrize('host', PRIMARIES)
def test_every_user_is_proxied_to_its_home_except_at_home(host):
    model = model_with()
    maps = mail_maps(model, host=host)
    maps23 = mail_maps(model, host=host, dovecot_series='2.3')
    for user, home, address in (('alice@example.com', 'primary2', '192.0.2.12'),
                                ('bob@example.org', 'primary3', '192.0.2.13')):
        fields = extra_fields(line_of(maps, user))
        if host == home:
            # The home's own line has no proxy field: it can never proxy its own users.
            assert fields == ''
            assert extra_fields(line_of(maps23, user)) == ''
        else:
            # 2.4 (the default): the home's FQDN for the certificate check, its address in hostip
            assert fields.split() == ['proxy=y', 'host=%s.example.com' % home, 'hostip=%s' % address,
                                      'starttls=yes', 'proxy_ttl=2', 'proxy_timeout=3']
            assert extra_fields(line_of(maps23, user)).split() == [
                'proxy=y', 'host=%s' % address, 'port=%{if;%s;eq;lmtp;24;%{if;%s;eq;pop3;110;143}}',
                'starttls=any-cert', 'proxy_ttl=2', 'proxy_timeout=3']


def test_exactly_one_primary_serves_each_user_locally():
    model = model_with(placement='hash', users=[{'name': 'u%d' % n, 'password_hash': HASH} for n in range(30)])
    local = {}
    for host in PRIMARIES:
        for line in mail_maps(model, host=host)['passwd_file']:
            if 'proxy=y' not in line:
                local.setdefault(line.split(':')[0], []).append(host)
    assert sorted(local) == sorted(u['address'] for u in model['users'])
    assert all(len(hosts) == 1 for hosts in local.values())
    # ...and it is the home the CNAME names.
    assert all(local[u['address']] == [u['home']] for u in model['users'])
    # The hash spreads the users over the primaries.
    assert len(set(h for hosts in local.values() for h in hosts)) == 3


def test_dovecot_23_gets_a_port_per_protocol():
    # 2.3's LMTP proxy crashes without a port for unix-socket deliveries, and a
    # passdb port applies to every protocol: chosen by service.
    fields = proxy_fields(model_with(), 'primary1', model_with()['users'][0], '2.3')
    assert 'port=%{if;%s;eq;lmtp;24;%{if;%s;eq;pop3;110;143}}' in fields.split()
    assert 'port=' not in proxy_fields(model_with(), 'primary1', model_with()['users'][0], '2.4')
    with pytest.raises(MailError, match='dovecot_series'):
        proxy_fields(model_with(), 'primary1', model_with()['users'][0], '3.0')


def test_proxy_settings_trust_the_primaries_and_bind_lmtp_to_the_cluster_addresses():
    proxy = mail_maps(model_with(), host='primary1')['proxy']
    assert proxy['enabled'] is True
    assert proxy['trusted_networks'] == ['192.0.2.11', '2001:db8::11', '192.0.2.12', '198.51.100.12', '192.0.2.13']
    assert proxy['lmtp_listen'] == ['192.0.2.11', '2001:db8::11']
    assert '0.0.0.0' not in proxy['lmtp_listen'] and '*' not in proxy['lmtp_listen']
    assert proxy['lmtp_port'] == 24


def test_placement_none_changes_nothing():
    with pytest.raises(ClusterError, match='mail_cluster_placement=none on all: 3 primaries'):
        model_with(placement='none')
    model = model_with(placement='none', users=USERS_WITHOUT_HOME, primaries=['primary1'])
    for host in ['primary1']:
        maps = mail_maps(model, host=host)
        assert maps['passwd_file'] == mail_maps(model)['passwd_file']
        assert all(line.endswith('::') for line in maps['passwd_file'])
        assert maps['proxy']['enabled'] is False
        assert maps['proxy']['trusted_networks'] == [] and maps['proxy']['lmtp_listen'] == []
    # ...and a homes.json left over from before does nothing either.
    assert apply_homes(model, {'homes': {'alice@example.com': 'primary1'}}) == model


def test_no_host_keeps_the_old_lines():
    maps = mail_maps(model_with())
    assert all(line.endswith('::') for line in maps['passwd_file'])
    assert maps['proxy']['enabled'] is False


def test_maps_refuse_a_host_that_is_not_a_primary():
    with pytest.raises(MailError, match='host=ns1: not a host of mail_primaries'):
        mail_maps(model_with(), host='ns1')


def test_apply_homes_moves_the_proxy_and_the_cname():
    model = apply_homes(model_with(), {'homes': {'alice@example.com': 'primary1'}})
    alice = model['users'][0]
    assert (alice['home'], alice['home_fqdn'], alice['inventory_home'], alice['moved']) == (
        'primary1', 'primary1.example.com', 'primary2', True)
    assert model['users'][1]['moved'] is False
    assert extra_fields(line_of(mail_maps(model, host='primary1'), 'alice@example.com')) == ''
    assert 'host=primary1.example.com hostip=192.0.2.11 ' in line_of(mail_maps(model, host='primary2'), 'alice@example.com')
    zone = [z for z in dns_zones(model) if z['name'] == 'example.com'][0]
    cname = [r for r in zone['records'] if r['type'] == 'CNAME' and r['owner'].startswith('alice.pop')]
    assert [r['value'] for r in cname] == ['primary1.example.com.']


def test_apply_homes_ignores_stale_entries_and_takes_the_bare_mapping():
    model = model_with()
    stale = {'gone@example.com': 'primary1', 'alice@example.com': 'retired-host'}
    assert [u['home'] for u in apply_homes(model, {'homes': stale})['users']] == ['primary2', 'primary3']
    assert apply_homes(model, {'alice@example.com': 'primary3'})['users'][0]['home'] == 'primary3'
    assert apply_homes(model, None)['users'][0]['home'] == 'primary2'
    with pytest.raises(MailError, match='homes='):
        apply_homes(model, ['alice@example.com'])


def test_move_plan_records_the_override_and_clears_it_on_the_way_back():
    model = model_with()
    plan = move_plan(model, {}, 'alice', 'primary1.example.com')
    assert plan['address'] == 'alice@example.com'
    assert (plan['from'], plan['to'], plan['to_fqdn'], plan['to_address']) == (
        'primary2', 'primary1', 'primary1.example.com', '192.0.2.11')
    assert plan['cname'] == 'alice.pop.example.com'
    assert plan['changed'] is True
    assert plan['homes'] == {'alice@example.com': 'primary1'}
    again = move_plan(model, {'homes': plan['homes']}, 'alice@example.com', 'primary1')
    assert again['changed'] is False and again['homes'] == plan['homes']
    back = move_plan(model, {'homes': plan['homes']}, 'alice@example.com', 'primary2')
    assert (back['from'], back['to'], back['changed'], back['homes']) == ('primary1', 'primary2', True, {})


def test_move_plan_keeps_other_users_and_drops_stale_entries():
    plan = move_plan(model_with(), {'homes': {'bob@example.org': 'primary1', 'gone@example.com': 'primary1'}},
                     'alice@example.com', 'primary3')
    assert plan['homes'] == {'alice@example.com': 'primary3', 'bob@example.org': 'primary1'}


def test_move_plan_under_hash_placement_uses_the_hashed_home():
    model = model_with(placement='hash', users=[{'name': 'carol', 'password_hash': HASH}])
    home = model['users'][0]['home']
    other = [h for h in PRIMARIES if h != home][0]
    assert move_plan(model, {}, 'carol', other)['homes'] == {'carol@example.com': other}
    assert move_plan(model, {}, 'carol', home)['changed'] is False


@pytest.mark.parametrize('placement, user, to, messages', [
    ('none', 'alice', 'primary1', ['mail_cluster_placement=none on all']),
    ('explicit', 'nobody@example.com', 'primary1', ['user=nobody@example.com: not an address of mail_cluster_users']),
    ('explicit', 'alice', 'ns1', ['to=ns1: not a host of mail_primaries (primary1, primary2, primary3)']),
    ('explicit', '', '', ['user is not set: run with -e user=ADDRESS', 'to is not set: run with -e to=HOST']),
    ('explicit', 'nobody', 'nowhere', ['user=nobody: not an address', 'to=nowhere: not a host']),
])
def test_move_plan_refuses_bad_input_naming_the_variable(placement, user, to, messages):
    # placement none builds only with one primary (and then without homes)
    model = model_with(placement='none', users=USERS_WITHOUT_HOME, primaries=['primary1']) if placement == 'none' \
        else model_with(placement=placement)
    with pytest.raises(MailError) as error:
        move_plan(model, {}, user, to)
    for message in messages:
        assert any(e.startswith(message) for e in error.value.errors), error.value.errors
    assert len(error.value.errors) == len(messages)
