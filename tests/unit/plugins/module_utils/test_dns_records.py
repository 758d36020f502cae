# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import ipaddress

import pytest

from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster
from ansible_collections.clustered.mail.plugins.module_utils._dns_records import (
    DnsError, dns_errors, dns_zones, next_serial, reverse_zone_name, tsig_errors, zone_serves, zone_state,
)
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import (
    HASH, inventory, set_all,
)


def model(hostvars_groups=None, **cluster):
    hostvars, groups = hostvars_groups or inventory()
    if cluster:
        set_all(hostvars, groups, **cluster)
    return build_cluster(hostvars, groups)


def zones_of(m, **kwargs):
    return dict((z['name'], z) for z in dns_zones(m, **kwargs))


def rr(zone, owner, rtype):
    return sorted((r['value'], r['ttl']) for r in zone['records'] if r['owner'] == owner and r['type'] == rtype)


def values(zone, owner, rtype):
    return sorted(v for v, _ttl in rr(zone, owner, rtype))


def test_zone_list_and_soa():
    zones = dns_zones(model(mail_cluster_domains=['example.com', 'example.org']))
    names = [z['name'] for z in zones]
    assert names[:2] == ['example.com', 'example.org']
    assert set(names[2:]) == {'2.0.192.in-addr.arpa', '100.51.198.in-addr.arpa', '113.0.203.in-addr.arpa',
                              '0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa'}
    soa = zones[0]['soa']
    assert soa == {'mname': 'ns1.example.com.', 'rname': 'hostmaster.example.com.',
                   'refresh': 3600, 'retry': 600, 'expire': 1209600, 'minimum': 300}
    for zone in zones:
        assert values(zone, '@', 'NS') == ['ns1.example.com.', 'ns2.example.com.']


def test_mx_style_hosts():
    z = zones_of(model())['example.com']
    assert rr(z, '@', 'MX') == [('10 primary1.example.com.', 60), ('10 primary2.example.com.', 60),
                                ('10 primary3.example.com.', 60), ('50 backup.example.com.', 60)]
    # the MX targets resolve (glue in the zone)
    assert values(z, 'primary2', 'A') == ['192.0.2.12', '198.51.100.12']
    assert values(z, 'backup', 'A') == ['203.0.113.50']


def test_mx_style_round_robin():
    z = zones_of(model(mail_cluster_mx_style='round_robin', mail_cluster_mx_preference=5,
                       mail_cluster_backup_mx_preference=90))['example.com']
    assert rr(z, '@', 'MX') == [('5 mail.example.com.', 60), ('90 backup.example.com.', 60)]


def test_round_robin_mail_name_every_primary_address():
    z = zones_of(model(mail_cluster_ttl=30))['example.com']
    assert rr(z, 'mail', 'A') == [('192.0.2.11', 30), ('192.0.2.12', 30), ('192.0.2.13', 30), ('198.51.100.12', 30)]
    assert rr(z, 'mail', 'AAAA') == [('2001:db8::11', 30)]
    assert values(z, 'ns1', 'A') == ['192.0.2.1']


def test_tiers_and_backup_last():
    hostvars, groups = inventory()
    hostvars['primary3']['mail_cluster_mx_tier'] = 20
    z = zones_of(model((hostvars, groups)))['example.com']
    assert values(z, '@', 'MX') == ['10 primary1.example.com.', '10 primary2.example.com.',
                                    '20 primary3.example.com.', '50 backup.example.com.']


def test_other_domain_points_into_cluster_domain():
    z = zones_of(model(mail_cluster_domains=['example.com', 'example.org']))['example.org']
    assert values(z, '@', 'MX')[0] == '10 primary1.example.com.'
    assert values(z, 'mail', 'A') == []
    assert values(z, 'smtp', 'A') == ['192.0.2.11', '192.0.2.12', '192.0.2.13', '198.51.100.12']


def test_services_shape6():
    hostvars, groups = inventory()
    hostvars['web'] = dict(hostvars['store'], mail_cluster_addresses=['192.0.2.31'])
    groups['mail_webmail'] = ['web']
    z = zones_of(model((hostvars, groups), mail_cluster_services={'smtp': ['primary1'], 'imap': ['primary2', 'primary3']}))
    z = z['example.com']
    assert values(z, 'smtp', 'A') == ['192.0.2.11'] and values(z, 'smtp', 'AAAA') == ['2001:db8::11']
    assert values(z, 'submission', 'A') == ['192.0.2.11']  # unlisted: where smtp runs
    assert values(z, 'imap', 'A') == ['192.0.2.12', '192.0.2.13', '198.51.100.12']
    assert values(z, 'pop3', 'A') == values(z, 'imap', 'A')  # unlisted: where imap runs
    assert values(z, 'webmail', 'A') == ['192.0.2.31']  # the mail_webmail hosts
    # only the smtp hosts receive mail: MX and the mail name
    assert values(z, 'mail', 'A') == ['192.0.2.11'] and values(z, '@', 'MX') == ['10 primary1.example.com.', '50 backup.example.com.']


def test_spf_dmarc_and_long_txt():
    z = zones_of(model())['example.com']
    assert values(z, '@', 'TXT') == ['"v=spf1 mx -all"']
    assert values(z, '_dmarc', 'TXT') == ['"v=DMARC1; p=none"']
    z = zones_of(model(mail_cluster_dmarc='v=DMARC1; p=none; rua=mailto:dmarc@example.com'))['example.com']
    assert values(z, '_dmarc', 'TXT') == ['"v=DMARC1; p=none; rua=mailto:dmarc@example.com"']
    long_spf = 'v=spf1 ' + ' '.join('ip4:192.0.2.%d' % i for i in range(40)) + ' -all'
    z = zones_of(model(mail_cluster_spf=long_spf, mail_cluster_dmarc=''))['example.com']
    txt = values(z, '@', 'TXT')[0]
    assert len(long_spf) > 510 and txt.count('" "') == 2 and txt.replace('" "', '').strip('"') == long_spf
    assert values(z, '_dmarc', 'TXT') == []


# A 2048-bit key's record is ~410 bytes: longer than one TXT string.
P = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA' + 'x' * 340 + 'IDAQAB'


def dkim(domain, selector, p=P):
    return {'domain': domain, 'selector': selector, 'name': '%s._domainkey.%s' % (selector, domain),
            'value': 'v=DKIM1; k=rsa; p=' + p}


def test_dkim_records_are_served_per_published_selector_split_in_255_byte_strings():
    records = [dkim('example.com', 'mail'), dkim('example.com', 's2', P[::-1]), dkim('example.org', 'mail')]
    zones = zones_of(model(mail_cluster_domains=['example.com', 'example.org']), dkim_records=records)
    com, org = zones['example.com'], zones['example.org']
    (txt, ttl), = rr(com, 'mail._domainkey', 'TXT')
    strings = txt[1:-1].split('" "')
    assert ttl == 60 and len(strings) == 2 and all(len(x) <= 255 for x in strings)  # rotation waits one mail_cluster_ttl
    assert ''.join(strings) == records[0]['value']
    assert values(com, 's2._domainkey', 'TXT')[0].replace('" "', '').strip('"') == records[1]['value']
    assert len(rr(org, 'mail._domainkey', 'TXT')) == 1 and rr(org, 's2._domainkey', 'TXT') == []


def test_dkim_records_change_the_zone_hash_only_when_they_change():
    m = model()
    plain = zones_of(m)['example.com']['hash']
    one = zones_of(m, dkim_records=[dkim('example.com', 'mail')])['example.com']['hash']
    assert one != plain and one == zones_of(m, dkim_records=[dkim('example.com', 'mail')])['example.com']['hash']
    assert one != zones_of(m, dkim_records=[dkim('example.com', 'mail', P[::-1])])['example.com']['hash']


def test_no_dkim_record_while_signing_is_off():
    zones = zones_of(model(mail_cluster_dkim_signing=False), dkim_records=[dkim('example.com', 'mail')])
    assert not [r for z in zones.values() for r in z['records'] if '_domainkey' in r['owner']]


@pytest.mark.parametrize('record, fragment', [
    (dkim('example.net', 'mail'), "'example.net' is not one of mail_cluster_domains (example.com)"),
    (dkim('example.com', 'a.b'), "selector 'a.b' of example.com is not one DNS label"),
    (dict(dkim('example.com', 'mail'), value='p=x'), 'is not a DKIM key record'),
    (dict(dkim('example.com', 'mail'), value='v=DKIM1; p="x'), 'is not a DKIM key record'),
    ({'domain': 'example.com'}, 'must be a mapping with domain, selector and value'),
])
def test_bad_dkim_records_are_refused(record, fragment):
    errors = dns_errors(model(), dkim_records=[record])
    assert len(errors) == 1 and fragment in errors[0], errors


def test_pop_cnames_by_placement():
    users = [{'name': 'alice', 'password_hash': HASH, 'home': 'primary2'},
             {'name': 'bob', 'domain': 'example.org', 'password_hash': HASH, 'home': 'primary3'}]
    zones = zones_of(model(mail_cluster_domains=['example.com', 'example.org'], mail_cluster_users=users,
                           mail_cluster_placement='explicit'))
    assert rr(zones['example.com'], 'alice.pop', 'CNAME') == [('primary2.example.com.', 60)]
    assert values(zones['example.org'], 'bob.pop', 'CNAME') == ['primary3.example.com.']
    # hash is the default now: an explicit home wins under it too
    default = zones_of(model(mail_cluster_users=users[:1]))['example.com']
    assert rr(default, 'alice.pop', 'CNAME') == [('primary2.example.com.', 60)]
    # placement none (allowed with one primary only) publishes no CNAME
    hostvars, groups = inventory()
    groups['mail_primaries'] = ['primary1']
    none = zones_of(model((hostvars, groups), mail_cluster_placement='none',
                          mail_cluster_users=[dict(users[0], home='primary1')]))['example.com']
    assert not [r for r in none['records'] if r['type'] == 'CNAME']
    hashed = zones_of(model(mail_cluster_users=[{'name': 'carol', 'password_hash': HASH}], mail_cluster_placement='hash'))
    assert len(values(hashed['example.com'], 'carol.pop', 'CNAME')) == 1


def test_ptr_for_every_address_multi_address_hosts():
    """bertvv/ansible-role-bind#209: a host with several addresses gets a PTR for each."""
    m = model()
    zones = zones_of(m)
    ptrs = {}
    for zone in zones.values():
        if zone['kind'] == 'reverse':
            for r in zone['records']:
                if r['type'] == 'PTR':
                    ptrs.setdefault('%s.%s' % (r['owner'], zone['name']), []).append(r['value'])
    expected = {}
    for host in m['hosts'].values():
        for addr in host['addresses']:
            expected[ipaddress.ip_address(addr).reverse_pointer] = host
    assert set(ptrs) == set(expected)
    forward = zones['example.com']
    for name, targets in ptrs.items():
        assert len(targets) == 1
        host = expected[name]
        target = targets[0]
        assert target == ('mail.example.com.' if 'mail_primaries' in host['groups'] else host['fqdn'] + '.')
        # forward-confirmed: the target resolves back to every address of that host
        owner = target[:-len('.example.com.')]
        for addr in host['addresses']:
            assert addr in values(forward, owner, 'AAAA' if ':' in addr else 'A')
    assert values(zones['100.51.198.in-addr.arpa'], '12', 'PTR') == ['mail.example.com.']
    assert values(zones['0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa'], '1.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0', 'PTR') == ['mail.example.com.']


def test_reverse_zones_given():
    zones = zones_of(model(mail_cluster_reverse_zones=['192.0.2.0/24', '51.198.in-addr.arpa', '203.0.113.0/24', '2001:db8::/32']))
    assert set(zones) >= {'2.0.192.in-addr.arpa', '51.198.in-addr.arpa', '113.0.203.in-addr.arpa', '8.b.d.0.1.0.0.2.ip6.arpa'}
    assert values(zones['51.198.in-addr.arpa'], '12.100', 'PTR') == ['mail.example.com.']


@pytest.mark.parametrize('net, name', [
    ('10.0.0.0/8', '10.in-addr.arpa'),
    ('2001:db8:1::/48', '1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa'),
])
def test_reverse_zone_name(net, name):
    assert reverse_zone_name(ipaddress.ip_network(net)) == name


def test_hash_stable_and_content_sensitive():
    first = [z['hash'] for z in dns_zones(model())]
    assert first == [z['hash'] for z in dns_zones(model())]
    changed = dns_zones(model(mail_cluster_ttl=61))
    assert changed[0]['hash'] != first[0]
    # a zone whose content did not change keeps its hash
    assert changed[-1]['hash'] == first[-1] or changed[-1]['name'] != dns_zones(model())[-1]['name']


def test_soa_timers():
    zone = dns_zones(model(), soa={'refresh': 7200, 'retry': None})[0]
    assert zone['soa']['refresh'] == 7200 and zone['soa']['retry'] == 600


def test_records_sorted_apex_first():
    z = zones_of(model())['example.com']
    assert z['records'][0]['owner'] == '@' and z['records'][0]['type'] == 'NS'


def test_extra_records():
    z = zones_of(model(), extra_records={'example.com': [{'name': 'www', 'type': 'a', 'value': '192.0.2.80'},
                                                         {'name': 'www.example.com.', 'type': 'AAAA', 'value': '2001:db8::80'},
                                                         {'name': '@', 'type': 'TXT', 'value': 'hello', 'ttl': 10}]})['example.com']
    assert values(z, 'www', 'A') == ['192.0.2.80'] and values(z, 'www', 'AAAA') == ['2001:db8::80']
    assert ('"hello"', 10) in rr(z, '@', 'TXT')


def errors(m=None, **kwargs):
    errs = dns_errors(m or model(), **kwargs)
    if errs:
        with pytest.raises(DnsError):
            dns_zones(m or model(), **kwargs)
    return errs


def one(errs, *fragments):
    assert len(errs) == 1, errs
    for fragment in fragments:
        assert fragment in errs[0], errs[0]


def test_no_dns_servers():
    hostvars, groups = inventory()
    groups['mail_dns'] = []
    one(errors(model((hostvars, groups))), 'group mail_dns is empty')


def test_name_used_twice():
    hostvars, groups = inventory()
    hostvars['store']['mail_cluster_host_name'] = 'mail'
    one(errors(model((hostvars, groups))), 'mail.example.com is used twice', 'host store', 'mail_cluster_mail_name')
    hostvars['store']['mail_cluster_host_name'] = 'imap'
    one(errors(model((hostvars, groups))), 'imap.example.com is used twice', 'service imap')


def test_mx_target_is_cname():
    users = [{'name': 'alice', 'password_hash': HASH, 'home': 'primary1'}]
    m = model(mail_cluster_mx_style='round_robin', mail_cluster_mail_name='alice.pop',
              mail_cluster_users=users, mail_cluster_placement='explicit')
    errs = errors(m)
    assert any('MX target alice.pop.example.com of example.com is a CNAME' in e for e in errs), errs
    assert any('alice.pop.example.com is a CNAME and also has A, AAAA records' in e for e in errs), errs


def test_extra_cname_as_mx_target():
    errs = errors(extra_records={'example.com': [{'name': 'primary9', 'type': 'CNAME', 'value': 'primary1'},
                                                 {'name': '@', 'type': 'MX', 'value': '20 primary9.example.com.'}]})
    one(errs, 'MX target primary9.example.com', 'is a CNAME')


def test_user_name_not_a_label():
    m = model(mail_cluster_users=[{'name': 'a+b', 'password_hash': HASH}], mail_cluster_placement='hash')
    one(errors(m), 'mail_cluster_users[0] (a+b@example.com)', "name 'a+b'", '.pop CNAME')


@pytest.mark.parametrize('zones, fragment', [
    (['192.0.2.0/25'], "'192.0.2.0/25' is not a reverse zone"),
    (['192.0.2.0/24', '192.0.0.0/16', '203.0.113.0/24', '198.51.100.0/24', '2001:db8::/64'], 'overlap'),
    (['x.in-addr.arpa'], 'is not a reverse zone'),
    (['2.0.192.in-addr.arpa', '203.0.113.0/24', '198.51.100.0/24'], 'address 2001:db8::11 of host primary1 is in none'),
])
def test_reverse_zone_errors(zones, fragment):
    errs = errors(model(mail_cluster_reverse_zones=zones))
    assert errs and all(e.startswith('mail_cluster_reverse_zones on all: ') for e in errs)
    assert any(fragment in e for e in errs), errs


@pytest.mark.parametrize('kwargs, fragment', [
    ({'default_ttl': 1}, 'bind_dns_default_ttl=1'),
    ({'soa': {'refresh': 10}}, 'bind_dns_soa.refresh=10'),
    ({'soa': {'refersh': 3600}}, 'bind_dns_soa.refersh: unknown key'),
    ({'soa': {'retry': 7200}}, 'retry < refresh < expire'),
    ({'extra_records': ['x']}, 'bind_dns_extra_records=[\'x\']'),
    ({'extra_records': {'example.net': []}}, 'bind_dns_extra_records.example.net: not a zone served here'),
    ({'extra_records': {'example.com': {'name': 'x'}}}, 'must be a list'),
    ({'extra_records': {'example.com': [{'name': 'x', 'type': 'A'}]}}, 'bind_dns_extra_records.example.com[0]: must be a mapping'),
    ({'extra_records': {'example.com': [{'name': 'a b', 'type': 'A', 'value': '1.2.3.4'}]}}, ".name='a b'"),
    ({'extra_records': {'example.com': [{'name': 'x', 'type': 'HINFO', 'value': 'x'}]}}, ".type='HINFO'"),
    ({'extra_records': {'example.com': [{'name': 'x', 'type': 'A', 'value': '1.2.3.4\nevil IN A 1.1.1.1'}]}}, 'one line'),
    ({'extra_records': {'example.com': [{'name': 'x', 'type': 'A', 'value': '1.2.3.4', 'ttl': -1}]}}, '.ttl=-1'),
    ({'extra_records': {'example.com': [{'name': 'mail', 'type': 'A', 'value': '192.0.2.99'}]}}, 'mail.example.com is used twice'),
])
def test_role_input_errors(kwargs, fragment):
    one(errors(**kwargs), fragment)


def test_next_serial():
    assert next_serial(None, None, 'h1', '20250101') == 2025010100
    assert next_serial(2025010100, 'h1', 'h1', '20260101') == 2025010100  # unchanged content: unchanged serial
    assert next_serial(2025010100, 'h1', 'h2', '20250101') == 2025010101  # same day: +1
    assert next_serial(2025010105, 'h1', 'h2', '20250102') == 2025010200  # new day
    assert next_serial(2099010100, None, 'h2', '20250102') == 2099010101  # never goes back
    assert next_serial(4294967295, 'x', 'h2', '20250102') == 2025010200  # RFC 1982: the date is "greater"
    assert next_serial(3000000000, 'x', 'h2', '20250102') == 3000000001  # RFC 1982: the date is "smaller"
    assert next_serial(4294967295, 'x', 'h2', '21500101') == 0  # wraps


def test_zone_state():
    text = '; managed\n; clustered.mail zone=example.com serial=2025010101 hash=%s\n$TTL 60\n' % ('a' * 64)
    assert zone_state(text) == {'serial': 2025010101, 'hash': 'a' * 64}
    assert zone_state('') == {'serial': None, 'hash': None}
    dumped = '$ORIGIN .\n$TTL 3600\nexample.com IN SOA ns1.example.com. hostmaster.example.com. (\n 2025010107 ; serial\n'
    assert zone_state(dumped) == {'serial': 2025010107, 'hash': None}


SMALL_ZONE = {
    'name': 'example.com', 'kind': 'forward', 'ttl': 3600, 'hash': 'b' * 64,
    'soa': {'mname': 'ns1.example.com.', 'rname': 'hostmaster.example.com.',
            'refresh': 3600, 'retry': 600, 'expire': 1209600, 'minimum': 300},
    'records': [
        {'owner': '@', 'ttl': 3600, 'type': 'NS', 'value': 'ns1.example.com.'},
        {'owner': '@', 'ttl': 60, 'type': 'MX', 'value': '10 primary1.example.com.'},
        {'owner': '@', 'ttl': 60, 'type': 'MX', 'value': '10 primary2.example.com.'},
        {'owner': '@', 'ttl': 3600, 'type': 'TXT', 'value': '"v=spf1 mx -all"'},
        {'owner': 'mail', 'ttl': 60, 'type': 'A', 'value': '192.0.2.11'},
        {'owner': 'mail', 'ttl': 60, 'type': 'A', 'value': '192.0.2.12'},
        {'owner': 'mail', 'ttl': 60, 'type': 'AAAA', 'value': '2001:db8::11'},
        {'owner': 'ns1', 'ttl': 3600, 'type': 'A', 'value': '192.0.2.53'},
        {'owner': 'primary1', 'ttl': 60, 'type': 'A', 'value': '192.0.2.11'},
        {'owner': 'primary2', 'ttl': 60, 'type': 'A', 'value': '192.0.2.12'},
        {'owner': 'alice.pop', 'ttl': 60, 'type': 'CNAME', 'value': 'primary2.example.com.'},
    ],
}

# What `rndc freeze` leaves after dynamic updates (named 9.18's relative
# masterfile style): no header, the served serial, names relative to $ORIGIN.
NAMED_DUMP = """$ORIGIN .
$TTL 3600	; 1 hour
example.com		IN SOA	ns1.example.com. hostmaster.example.com. (
				2025010103 ; serial
				3600       ; refresh (1 hour)
				600        ; retry (10 minutes)
				1209600    ; expire (2 weeks)
				300        ; minimum (5 minutes)
				)
			NS	ns1.example.com.
$TTL 60	; 1 minute
			MX	10 primary1.example.com.
			MX	10 primary2.example.com.
$TTL 3600	; 1 hour
			TXT	"v=spf1 mx -all"
$ORIGIN example.com.
$TTL 60	; 1 minute
alice.pop		CNAME	primary2
mail			A	192.0.2.11
			A	192.0.2.12
			AAAA	2001:DB8:0:0:0:0:0:11
$TTL 3600	; 1 hour
ns1			A	192.0.2.53
$TTL 60	; 1 minute
primary1		A	192.0.2.11
primary2		A	192.0.2.12
"""


def test_zone_serves_a_file_named_wrote_back_with_the_same_records():
    # a drain then an undrain: named rewrote the file (no header, serial +3), the records are ours
    assert zone_serves(SMALL_ZONE, NAMED_DUMP)
    assert zone_state(NAMED_DUMP) == {'serial': 2025010103, 'hash': None}


@pytest.mark.parametrize('edit', [
    ('\t\t\tA\t192.0.2.12\n', ''),  # a primary still drained out of the mail name
    ('primary2\t\tA\t192.0.2.12', 'primary2\t\tA\t192.0.2.13'),  # another address
    ('alice.pop\t\tCNAME\tprimary2', 'alice.pop\t\tCNAME\tprimary1'),  # a moved home
    ('$TTL 60\t; 1 minute\nalice', '$TTL 300\nalice'),  # another TTL
    ('600        ; retry', '900        ; retry'),  # another SOA timer
    ('ns1\t\t\tA\t192.0.2.53\n', 'ns1\t\t\tA\t192.0.2.53\nextra\t\t\tA\t192.0.2.99\n'),  # one more
])
def test_zone_serves_refuses_any_other_record_set(edit):
    assert edit[0] in NAMED_DUMP
    assert not zone_serves(SMALL_ZONE, NAMED_DUMP.replace(edit[0], edit[1], 1))


def test_zone_serves_leaves_headed_empty_and_unreadable_files_to_the_hash():
    headed = '; clustered.mail zone=example.com serial=2025010101 hash=%s\n' % ('b' * 64) + NAMED_DUMP
    assert not zone_serves(SMALL_ZONE, headed)  # our own file: the content hash decides
    assert not zone_serves(SMALL_ZONE, '')
    assert not zone_serves(SMALL_ZONE, 'example.com IN SOA (((')
    assert not zone_serves(dict(SMALL_ZONE, records=[{'owner': '@', 'ttl': 60, 'type': 'MX', 'value': 'bad'}]),
                           NAMED_DUMP)


def test_zone_serves_every_derived_zone_once_named_rewrote_it():
    # every zone of the full model, written back by named in another layout, is recognised
    import dns.name
    import dns.zone
    for zone in dns_zones(model(mail_cluster_domains=['example.com', 'example.org'])):
        soa = zone['soa']
        ours = '$ORIGIN %s.\n@ %d IN SOA %s %s 2025010107 %d %d %d %d\n' % (
            zone['name'], zone['ttl'], soa['mname'], soa['rname'], soa['refresh'], soa['retry'], soa['expire'],
            soa['minimum'])
        ours += ''.join('%s %d IN %s %s\n' % (r['owner'], r['ttl'], r['type'], r['value']) for r in zone['records'])
        origin = dns.name.from_text(zone['name'])
        rewritten = dns.zone.from_text(ours, origin=origin, relativize=False).to_text()
        assert zone_serves(zone, rewritten), zone['name']
        assert not zone_serves(dict(zone, records=zone['records'][1:]), rewritten), zone['name']


def _key(var, name, secret, algorithm='hmac-sha256'):
    return {'name': name, 'name_var': var + '_name', 'secret': secret, 'secret_var': var, 'algorithm': algorithm}


SECRET_32 = base64.b64encode(b'u' * 32).decode()
SECRET_64 = base64.b64encode(b't' * 64).decode()


def test_tsig_keys_valid():
    assert tsig_errors([_key('bind_dns_tsig_secret', 'upd', SECRET_32),
                        _key('bind_dns_transfer_secret', 'xfr', SECRET_64, 'hmac-sha512')]) == []


def test_tsig_secret_shorter_than_the_hmac_is_refused_naming_the_variable():
    # 16 base64 characters (12 bytes) were accepted before
    errors = tsig_errors([_key('bind_dns_tsig_secret', 'upd', 'c2VjcmV0c2VjcmV0')])
    assert len(errors) == 1
    assert 'bind_dns_tsig_secret is 12 bytes, shorter than the 32-byte output of hmac-sha256' in errors[0]
    assert 'tsig-keygen -a hmac-sha256 upd' in errors[0] and 'c2VjcmV0' not in errors[0]
    # 32 bytes are enough for sha256, not for sha512
    assert tsig_errors([_key('bind_dns_transfer_secret', 'xfr', SECRET_32, 'hmac-sha512')])[0].startswith(
        'bind_dns_transfer_secret is 32 bytes, shorter than the 64-byte output of hmac-sha512')


@pytest.mark.parametrize('secret', ['', 'not base64!', 'abc'])
def test_tsig_secret_not_base64_is_refused(secret):
    errors = tsig_errors([_key('bind_dns_tsig_secret', 'upd', secret)])
    assert errors == ['bind_dns_tsig_secret is not a base64 secret: use the secret printed by'
                      ' `tsig-keygen -a hmac-sha256 upd` (vault it), or leave bind_dns_tsig_secret unset and the'
                      ' controller generates one beside the cluster CA']


def test_tsig_keys_must_differ_and_be_named_and_known():
    errors = tsig_errors([_key('bind_dns_tsig_secret', 'same', SECRET_32),
                          _key('bind_dns_transfer_secret', 'Same.', SECRET_32)])
    assert any('bind_dns_tsig_secret_name and bind_dns_transfer_secret_name are both same' in e for e in errors)
    assert any('bind_dns_tsig_secret and bind_dns_transfer_secret are the same secret' in e for e in errors)
    assert tsig_errors([_key('v', 'bad name', SECRET_32)]) == [
        'v_name=bad name: must be a DNS-style key name (letters, digits, hyphens, dots)']
    assert 'must be one of hmac-sha256' in tsig_errors([_key('v', 'k', SECRET_32, 'hmac-md5')])[0]
