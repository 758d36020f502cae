# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

import pytest

from ansible_collections.clustered.mail.plugins.module_utils._cluster import (
    ClusterError, build_cluster, cluster_errors, plain_copy, rendezvous_home,
)
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import (
    HASH, inventory, set_all,
)


def errors_of(hostvars, groups):
    errors = cluster_errors(hostvars, groups)
    with pytest.raises(ClusterError) as exc:
        build_cluster(hostvars, groups)
    assert exc.value.errors == errors
    return errors


def one_error(hostvars, groups, *fragments):
    errors = errors_of(hostvars, groups)
    assert len(errors) == 1, errors
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def test_defaults():
    model = build_cluster(*inventory())
    assert model['domain'] == 'example.com'
    assert model['domains'] == ['example.com']
    assert model['mail_fqdn'] == 'mail.example.com'
    assert (model['mx_style'], model['mx_preference'], model['backup_mx_preference'], model['ttl']) == ('hosts', 10, 50, 60)
    assert model['hostmaster'] == 'hostmaster.example.com'
    # hash is the default: one backend per mailbox (issue "one backend per mailbox")
    assert model['placement'] == 'hash'
    assert model['users'] == []
    assert model['services'] == dict((s, ['primary1', 'primary2', 'primary3']) for s in ('smtp', 'submission', 'imap', 'pop3'))
    assert model['mailbox_hosts'] == ['primary1', 'primary2', 'primary3']
    assert model['dns_primary'] == 'ns1' and model['dns_secondaries'] == ['ns2']
    assert 'client' not in model['hosts']
    p1 = model['hosts']['primary1']
    assert p1['fqdn'] == 'primary1.example.com'
    assert p1['ipv4'] == ['192.0.2.11'] and p1['ipv6'] == ['2001:db8::11']
    assert p1['mx_tier'] == 10 and p1['groups'] == ['mail_primaries']
    assert model['hosts']['ns1']['mx_tier'] is None
    assert model['store_path'] == '/srv/mail' and model['vmail_uid'] == 5000


def test_shape1_one_host_in_every_group():
    hostvars = {'mx': {'mail_cluster_domain': 'example.org', 'ansible_host': '192.0.2.5'}}
    groups = dict((g, ['mx']) for g in ('mail_dns', 'mail_storage', 'mail_primaries'))
    model = build_cluster(hostvars, groups)
    assert model['hosts']['mx']['groups'] == ['mail_dns', 'mail_storage', 'mail_primaries']
    assert model['hosts']['mx']['addresses'] == ['192.0.2.5']
    assert model['hosts']['mx']['dns_role'] == 'primary'


def test_addresses_normalised_ipv4_first():
    hostvars, groups = inventory()
    hostvars['primary1']['mail_cluster_addresses'] = ['2001:DB8:0::11', '192.0.2.11']
    assert build_cluster(hostvars, groups)['hosts']['primary1']['addresses'] == ['192.0.2.11', '2001:db8::11']


def test_explicit_cluster_vars_and_host_name():
    hostvars, groups = inventory()
    hostvars['primary1']['mail_cluster_host_name'] = 'mx-a'
    hostvars['ns2']['bind_dns_role'] = 'primary'
    model = build_cluster(hostvars, groups, {'mail_cluster_domain': 'example.net', 'mail_cluster_ttl': 30})
    assert model['hosts']['primary1']['fqdn'] == 'mx-a.example.net'
    assert model['ttl'] == 30
    assert model['dns_primary'] == 'ns2' and model['dns_secondaries'] == ['ns1']


def test_users_explicit_and_aliases():
    hostvars, groups = set_all(*inventory(), mail_cluster_domains=['example.com', 'example.org'], mail_cluster_placement='explicit',
                               mail_cluster_users=[
                                   {'name': 'Alice', 'password_hash': HASH, 'aliases': ['postmaster', 'al@example.org'], 'home': 'primary2'},
                                   {'name': 'bob', 'domain': 'example.org', 'password_hash': HASH, 'home': 'primary1'},
    ])
    users = build_cluster(hostvars, groups)['users']
    assert users[0] == {'name': 'alice', 'domain': 'example.com', 'address': 'alice@example.com',
                        'aliases': ['postmaster@example.com', 'al@example.org'], 'password_hash': HASH,
                        'home': 'primary2', 'home_fqdn': 'primary2.example.com'}
    assert users[1]['address'] == 'bob@example.org' and users[1]['home'] == 'primary1'


def test_placement_none_ignores_home():
    # placement none is only allowed with a single primary (see test_placement_none_refused_with_several_primaries)
    hostvars, groups = set_all(*inventory(), mail_cluster_placement='none',
                               mail_cluster_users=[{'name': 'a', 'password_hash': HASH, 'home': 'primary1'}])
    groups['mail_primaries'] = ['primary1']
    assert build_cluster(hostvars, groups)['users'][0]['home'] is None
    # ...while the default (hash) keeps the given home
    hostvars, groups = set_all(*inventory(), mail_cluster_users=[{'name': 'a', 'password_hash': HASH, 'home': 'primary1'}])
    assert build_cluster(hostvars, groups)['users'][0]['home'] == 'primary1'


def test_placement_none_refused_with_several_primaries():
    hostvars, groups = set_all(*inventory(), mail_cluster_placement='none')
    one_error(hostvars, groups, 'mail_cluster_placement=none on all', '3 primaries', 'one backend at a time')
    groups['mail_primaries'] = ['primary1', 'primary2']
    one_error(hostvars, groups, 'mail_cluster_placement=none on all', '2 primaries')
    groups['mail_primaries'] = ['primary1']
    assert cluster_errors(hostvars, groups) == []
    assert build_cluster(hostvars, groups)['placement'] == 'none'


def test_placement_hash_is_stable_and_moves_few():
    users = [{'name': 'user%d' % i, 'password_hash': HASH} for i in range(60)]
    hostvars, groups = set_all(*inventory(), mail_cluster_placement='hash', mail_cluster_users=users)
    first = dict((u['address'], u['home']) for u in build_cluster(hostvars, groups)['users'])
    again = dict((u['address'], u['home']) for u in build_cluster(hostvars, groups)['users'])
    assert first == again
    assert set(first.values()) == {'primary1', 'primary2', 'primary3'}
    # Removing a primary moves only its own users (rendezvous hashing).
    for address, home in first.items():
        moved = rendezvous_home(address, ['primary1', 'primary2'])
        assert moved == home or home == 'primary3'
    # A given home wins under hash: that is how a user is moved.
    users[0]['home'] = 'primary3'
    hostvars, groups = set_all(hostvars, groups, mail_cluster_users=users)
    assert build_cluster(hostvars, groups)['users'][0]['home'] == 'primary3'


def test_rendezvous_independent_of_order():
    assert rendezvous_home('a@example.com', ['x', 'y', 'z']) == rendezvous_home('A@example.com', ['z', 'y', 'x'])
    assert rendezvous_home('a@example.com', []) is None


@pytest.mark.parametrize('values, fragments', [
    ({'mail_cluster_ttl': 3}, ('mail_cluster_ttl=3 on all', 'between 5 and 86400')),
    ({'mail_cluster_ttl': 86401}, ('mail_cluster_ttl=86401',)),
    ({'mail_cluster_ttl': '60'}, ('mail_cluster_ttl=\'60\'',)),
    ({'mail_cluster_mx_style': 'dns'}, ('mail_cluster_mx_style=\'dns\'', 'hosts, round_robin')),
    ({'mail_cluster_mx_preference': -1}, ('mail_cluster_mx_preference=-1',)),
    ({'mail_cluster_backup_mx_preference': 10}, ('mail_cluster_backup_mx_preference=10', 'greater than', 'primary1')),
    ({'mail_cluster_backup_mx_preference': 5}, ('mail_cluster_backup_mx_preference=5',)),
    ({'mail_cluster_placement': 'random'}, ('mail_cluster_placement=\'random\'',)),
    ({'mail_cluster_mail_name': 'mail_1'}, ('mail_cluster_mail_name=\'mail_1\'',)),
    ({'mail_cluster_domain': 'localhost'}, ('mail_cluster_domain=\'localhost\'',)),
    ({'mail_cluster_domains': ['example.org']}, ('must include mail_cluster_domain',)),
    ({'mail_cluster_domains': 'example.com'}, ('mail_cluster_domains=',)),
    ({'mail_cluster_domains': ['example.com', 'ex ample.org']}, ('mail_cluster_domains', 'ex ample.org')),
    ({'mail_cluster_domains': ['example.com', 'example.com']}, ('listed twice',)),
    ({'mail_cluster_domains': ['example.com', 'lists.example.com']}, ('lists.example.com is inside example.com',)),
    ({'mail_cluster_services': {'smtp': ['nope']}}, ('mail_cluster_services.smtp', "'nope'")),
    ({'mail_cluster_services': {'smtp': []}}, ('mail_cluster_services.smtp', 'non-empty')),
    ({'mail_cluster_services': {'s_mtp': ['primary1']}}, ('service name', 's_mtp')),
    ({'mail_cluster_services': []}, ('mail_cluster_services=[]',)),
    ({'mail_cluster_spf': None}, ('mail_cluster_spf=None',)),
    # DKIM signing off: a strict DMARC policy would quarantine our own users' forwarded mail (RFC 7489)
    ({'mail_cluster_dkim_signing': False, 'mail_cluster_dmarc': 'v=DMARC1; p=quarantine'},
     ('p=quarantine asks receivers', 'nothing is DKIM-signed', 'publish p=none')),
    # rspamd is the signer: with the spam filter off nothing signs either
    ({'mail_cluster_spam_filter': False, 'mail_cluster_dmarc': 'v=DMARC1; p=reject'},
     ('p=reject asks receivers', 'mail_cluster_spam_filter whose rspamd signs')),
    ({'mail_cluster_dkim_signing': 'false', 'mail_cluster_dmarc': 'v=DMARC1;p=REJECT; rua=mailto:d@example.com'},
     ('p=reject asks',)),
    ({'mail_cluster_dkim_signing': False, 'mail_cluster_dmarc': 'v=DMARC1; p=none; sp=reject'}, ('sp=reject asks',)),
    ({'mail_cluster_dkim_signing': 'maybe'}, ("mail_cluster_dkim_signing='maybe' on all", 'true or false')),
    ({'mail_cluster_dkim_selector': 'Mail_1'}, ("mail_cluster_dkim_selector='Mail_1' on all", 'one DNS label')),
    ({'mail_cluster_dkim_selector': 'a.b'}, ("mail_cluster_dkim_selector='a.b'",)),
    ({'mail_cluster_dmarc': 'p=none'}, ('starts with v=DMARC1',)),
    ({'mail_cluster_dmarc': 'v=DMARC1; rua=mailto:d@example.com'}, ('second tag must be p=none',)),
    ({'mail_cluster_hostmaster': 'nobody'}, ('mail_cluster_hostmaster=\'nobody\'',)),
    ({'mail_cluster_vmail_uid': 0}, ('mail_cluster_vmail_uid=0',)),
    ({'mail_cluster_store_path': 'srv/mail'}, ('mail_cluster_store_path',)),
    ({'mail_cluster_reverse_zones': '192.0.2.0/24'}, ('mail_cluster_reverse_zones',)),
    ({'mail_cluster_users': {'name': 'a'}}, ('mail_cluster_users=',)),
    ({'mail_cluster_users': ['a']}, ('mail_cluster_users[0] on all',)),
    ({'mail_cluster_users': [{'name': 'a b', 'password_hash': HASH}]}, ('mail_cluster_users[0].name=\'a b\'',)),
    ({'mail_cluster_users': [{'name': 'a'}]}, ('mail_cluster_users[0] (a@example.com).password_hash', 'required')),
    ({'mail_cluster_users': [{'name': 'a', 'password_hash': HASH, 'pasword': 1}]}, ('unknown key(s) pasword',)),
    ({'mail_cluster_users': [{'name': 'a', 'password_hash': HASH, 'domain': 'example.net'}]}, ('.domain=\'example.net\'',)),
    ({'mail_cluster_users': [{'name': 'a', 'password_hash': HASH, 'aliases': 'x'}]}, ('.aliases on all',)),
    ({'mail_cluster_users': [{'name': 'a', 'password_hash': HASH, 'aliases': ['x@example.net']}]}, ('x@example.net',)),
    ({'mail_cluster_users': [{'name': 'a', 'password_hash': HASH, 'aliases': [3]}]}, ('3 is not a string',)),
    ({'mail_cluster_users': [{'name': 'a', 'password_hash': HASH}, {'name': 'b', 'password_hash': HASH, 'aliases': ['a']}]},
     ('mail_cluster_users[1] (b@example.com)', 'a@example.com is already used by a@example.com')),
    ({'mail_cluster_users': [{'name': 'a', 'password_hash': HASH, 'home': 'ns1'}]}, ('.home=\'ns1\'', 'mail_primaries')),
    ({'mail_cluster_placement': 'explicit', 'mail_cluster_users': [{'name': 'a', 'password_hash': HASH}]},
     ('.home on all', 'mail_cluster_placement=explicit')),
])
def test_cluster_wide_errors(values, fragments):
    one_error(*set_all(*inventory(), **values), *fragments)


@pytest.mark.parametrize('dmarc', ['v=DMARC1; p=quarantine', 'v=DMARC1; p=reject; sp=reject; rua=mailto:d@example.com'])
def test_with_dkim_signing_on_the_users_dmarc_policy_stands(dmarc):
    model = build_cluster(*set_all(*inventory(), mail_cluster_dmarc=dmarc))
    assert model['dmarc'] == dmarc and model['dkim'] == {'signing': True, 'selector': 'mail'}


def test_dkim_settings_in_the_model():
    model = build_cluster(*set_all(*inventory(), mail_cluster_dkim_signing='no', mail_cluster_dkim_selector='s2026'))
    assert model['dkim'] == {'signing': False, 'selector': 's2026'}


def test_missing_domain():
    hostvars, groups = inventory()
    for hv in hostvars.values():
        hv.pop('mail_cluster_domain', None)
    errors = errors_of(hostvars, groups)
    assert any('mail_cluster_domain is not set' in e for e in errors)


def test_cluster_wide_variable_defined_per_host():
    hostvars, groups = inventory()
    hostvars['primary2']['mail_cluster_ttl'] = 30
    one_error(hostvars, groups, 'mail_cluster_ttl differs between hosts ns1 and primary2', 'group_vars/all')


def test_no_address():
    hostvars, groups = inventory()
    del hostvars['primary3']['mail_cluster_addresses']
    hostvars['primary3']['ansible_host'] = 'primary3.lab'
    one_error(hostvars, groups, 'host primary3 has no address', 'mail_cluster_addresses')


def test_ansible_host_used_when_ip():
    hostvars, groups = inventory()
    del hostvars['primary3']['mail_cluster_addresses']
    hostvars['primary3']['ansible_host'] = '192.0.2.33'
    assert build_cluster(hostvars, groups)['hosts']['primary3']['addresses'] == ['192.0.2.33']


@pytest.mark.parametrize('addresses, fragment', [
    ('192.0.2.11', 'must be a non-empty list'),
    ([], 'must be a non-empty list'),
    (['192.0.2.300'], "'192.0.2.300' is not an IPv4 or IPv6 address"),
    (['0.0.0.0'], 'cannot be published'),
    (['fe80::1'], 'cannot be published'),
    (['192.0.2.13', '192.0.2.13'], 'listed twice'),
])
def test_bad_addresses(addresses, fragment):
    hostvars, groups = inventory()
    hostvars['primary3']['mail_cluster_addresses'] = addresses
    one_error(hostvars, groups, 'mail_cluster_addresses', 'host primary3', fragment)


def test_duplicate_address_between_hosts():
    hostvars, groups = inventory()
    hostvars['primary3']['mail_cluster_addresses'] = ['192.0.2.12']
    one_error(hostvars, groups, '192.0.2.12 is an address of both primary2 and primary3')


def test_host_names():
    hostvars, groups = inventory()
    hostvars['primary3']['mail_cluster_host_name'] = 'primary2'
    one_error(hostvars, groups, 'mail_cluster_host_name=primary2 on host primary3', 'unique')
    hostvars['primary3']['mail_cluster_host_name'] = 'bad_name'
    one_error(hostvars, groups, "mail_cluster_host_name='bad_name' on host primary3")


def test_tiers():
    hostvars, groups = inventory()
    hostvars['primary3']['mail_cluster_mx_tier'] = 20
    model = build_cluster(hostvars, groups)
    assert [model['hosts'][h]['mx_tier'] for h in groups['mail_primaries']] == [10, 10, 20]
    hostvars['primary3']['mail_cluster_mx_tier'] = 50
    one_error(hostvars, groups, 'mail_cluster_backup_mx_preference=50', 'host primary3 has 50')
    hostvars['primary3']['mail_cluster_mx_tier'] = 70000
    one_error(hostvars, groups, 'mail_cluster_mx_tier=70000 on host primary3')
    hostvars['primary3']['mail_cluster_mx_tier'] = 20
    set_all(hostvars, groups, mail_cluster_mx_style='round_robin')
    one_error(hostvars, groups, 'mail_cluster_mx_tier=20 on host primary3', 'mail_cluster_mx_style=hosts')


def test_groups():
    hostvars, groups = inventory()
    groups['mail_primaries'] = []
    errors = errors_of(hostvars, groups)
    assert any('group mail_primaries is empty' in e for e in errors)
    hostvars, groups = inventory()
    groups['mail_storage'] = ['store', 'ns2']
    one_error(hostvars, groups, 'group mail_storage has 2 hosts')
    hostvars, groups = inventory()
    groups['mail_backup_mx'] = ['backup', 'primary1']
    one_error(hostvars, groups, 'host primary1 is in both mail_primaries and mail_backup_mx')
    hostvars, groups = inventory()
    hostvars['ns1']['bind_dns_role'] = 'primary'
    hostvars['ns2']['bind_dns_role'] = 'primary'
    one_error(hostvars, groups, 'bind_dns_role=primary on hosts ns1, ns2')
    hostvars['ns2']['bind_dns_role'] = 'master'
    one_error(hostvars, groups, "bind_dns_role='master' on host ns2")


def test_hostmaster_email_form():
    model = build_cluster(*set_all(*inventory(), mail_cluster_hostmaster='dns.admin@example.net'))
    assert model['hostmaster'] == 'dns\\.admin.example.net'


def test_all_errors_reported_at_once():
    hostvars, groups = set_all(*inventory(), mail_cluster_ttl=1, mail_cluster_mx_style='x', mail_cluster_placement='y')
    assert len(cluster_errors(hostvars, groups)) == 3


def test_several_primaries_without_a_data_server_are_refused_unless_the_store_is_shared():
    hostvars, groups = inventory()
    groups['mail_storage'] = []
    errors = cluster_errors(hostvars, groups)
    assert any('group mail_storage is empty while mail_primaries has 3 hosts' in e and 'mail_cluster_store_shared' in e
               for e in errors), errors
    hostvars, groups = inventory(mail_cluster_store_shared=True)
    groups['mail_storage'] = []
    assert cluster_errors(hostvars, groups) == []
    # one primary keeps its store on its own disk (shape 1)
    hostvars, groups = inventory()
    groups['mail_storage'] = []
    groups['mail_primaries'] = ['primary1']
    assert cluster_errors(hostvars, groups) == []


class _LazyDict(Mapping):
    """Stands for Ansible's lazy template containers: a Mapping that is not a dict."""

    def __init__(self, data):
        self._data = data

    def __getitem__(self, key):
        value = self._data[key]
        return _LazyDict(value) if isinstance(value, dict) else value

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)


def test_plain_copy_gives_plain_independent_containers():
    source = {'hosts': {'p1': {'addresses': ['192.0.2.1'], 'pair': ('a', 'b')}}, 'set': {1, 2}}
    copied = plain_copy(_LazyDict(source))
    assert copied == source
    assert type(copied) is dict and type(copied['hosts']['p1']) is dict
    assert type(copied['hosts']['p1']['pair']) is tuple
    copied['hosts']['p1']['addresses'].append('192.0.2.2')
    copied['set'].add(3)
    assert source['hosts']['p1']['addresses'] == ['192.0.2.1'] and source['set'] == {1, 2}
