# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.clustered.mail.tests.unit.plugins.modules.fake_dns import FakeServers, run_module
from ansible_collections.clustered.mail.plugins.modules import dns_consistency

NS1, NS2 = '192.0.2.1', '192.0.2.2'
SOA = 'ns1.example.com. hostmaster.example.com. %d 3600 600 1209600 300'
ZONE = {
    ('example.com.', 'SOA'): (3600, [SOA % 2025010100]),
    ('2.0.192.in-addr.arpa.', 'SOA'): (3600, [SOA % 2025010100]),
    ('example.com.', 'MX'): (60, ['10 p1.example.com.', '10 p2.example.com.', '50 backup.example.com.']),
    ('mail.example.com.', 'A'): (60, ['192.0.2.11', '192.0.2.12']),
    ('mail.example.com.', 'AAAA'): (60, ['2001:db8::11']),
    ('p1.example.com.', 'A'): (3600, ['192.0.2.11']),
    ('p1.example.com.', 'AAAA'): (3600, ['2001:db8::11']),
    ('p2.example.com.', 'A'): (3600, ['192.0.2.12']),
    ('backup.example.com.', 'A'): (3600, ['192.0.2.50']),
    ('11.2.0.192.in-addr.arpa.', 'PTR'): (3600, ['mail.example.com.']),
    ('12.2.0.192.in-addr.arpa.', 'PTR'): (3600, ['mail.example.com.']),
    ('50.2.0.192.in-addr.arpa.', 'PTR'): (3600, ['backup.example.com.']),
    ('1.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.', 'PTR'): (3600, ['mail.example.com.']),
}
ARGS = {
    'servers': [NS1, NS2],
    'zones': ['example.com', '2.0.192.in-addr.arpa'],
    'records': [{'name': 'mail.example.com'}, {'name': 'mail.example.com', 'type': 'aaaa'}, {'name': 'example.com', 'type': 'MX'}],
    'addresses': ['192.0.2.11', '192.0.2.12', '192.0.2.50', '2001:db8::11'],
    'mx_domains': ['example.com'],
    'max_ttl': 300,
}


def fake():
    return FakeServers({NS1: copy.deepcopy(ZONE), NS2: copy.deepcopy(ZONE)}, order={NS1: 'fixed', NS2: 'fixed'})


def run(monkeypatch, fake_servers, **args):
    base = copy.deepcopy(ARGS)
    base.update(args)
    return run_module(dns_consistency, base, monkeypatch, fake_servers)


def failing(result):
    return [(c['check'], c['subject'], c['server']) for c in result['checks'] if not c['ok']]


def test_all_consistent(monkeypatch):
    result = run(monkeypatch, fake())
    assert not result['failed'], result.get('msg')
    assert result['failed_checks'] == 0 and result['changed'] is False
    assert result['serials'] == {'example.com': {NS1: 2025010100, NS2: 2025010100},
                                 '2.0.192.in-addr.arpa': {NS1: 2025010100, NS2: 2025010100}}
    kinds = set(c['check'] for c in result['checks'])
    assert kinds == {'serial', 'rrset', 'ptr', 'mx', 'ttl'}
    ptr = [c for c in result['checks'] if c['check'] == 'ptr' and c['subject'] == '2001:db8::11']
    assert len(ptr) == 2 and 'resolves back to 2001:db8::11' in ptr[0]['detail']


def test_serial_disagrees(monkeypatch):
    servers = fake()
    servers.data[NS2][('example.com.', 'SOA')] = (3600, [SOA % 2025010101])
    result = run(monkeypatch, servers)
    assert result['failed'] and failing(result) == [('serial', 'example.com.', 'all')]
    assert '192.0.2.1=2025010100, 192.0.2.2=2025010101' in result['msg']


def test_rrset_disagrees(monkeypatch):
    servers = fake()
    servers.data[NS2][('mail.example.com.', 'A')] = (60, ['192.0.2.11'])
    result = run(monkeypatch, servers)
    # 192.0.2.12 is no longer forward-confirmed on that server either
    assert failing(result) == [('rrset', 'mail.example.com. A', 'all'), ('ptr', '192.0.2.12', NS2)]
    servers = fake()
    servers.data[NS2][('mail.example.com.', 'A')] = (30, ['192.0.2.11', '192.0.2.12'])
    assert failing(run(monkeypatch, servers)) == [('rrset', 'mail.example.com. A', 'all')]


def test_ptr_missing_or_not_confirmed(monkeypatch):
    servers = fake()
    del servers.data[NS1][('12.2.0.192.in-addr.arpa.', 'PTR')]
    servers.data[NS2][('50.2.0.192.in-addr.arpa.', 'PTR')] = (3600, ['mail.example.com.'])
    result = run(monkeypatch, servers)
    assert failing(result) == [('ptr', '192.0.2.12', NS1), ('ptr', '192.0.2.50', NS2)]
    assert '192.0.2.1 answered NXDOMAIN' not in result['msg']
    assert 'has no PTR for 192.0.2.12' in result['msg'] or 'NXDOMAIN' in result['msg']
    assert 'resolves to 192.0.2.11, 192.0.2.12, 2001:db8::11, not 192.0.2.50' in result['msg']


def test_mx_target_cname_or_unresolved(monkeypatch):
    servers = fake()
    for zone in servers.data.values():
        del zone[('p2.example.com.', 'A')]
        zone[('p2.example.com.', 'CNAME')] = (3600, ['p1.example.com.'])
        del zone[('backup.example.com.', 'A')]
        zone[('backup.example.com.', 'TXT')] = (3600, ['"no address"'])
    result = run(monkeypatch, servers, addresses=[])
    assert sorted(set(failing(result))) == [('mx', 'example.com.', NS1), ('mx', 'example.com.', NS2)]
    assert 'p2.example.com. is a CNAME (to p1.example.com.)' in result['msg']
    assert 'MX 50 backup.example.com.: resolves to no address' in result['msg']


def test_ttl_above_maximum(monkeypatch):
    result = run(monkeypatch, fake(), max_ttl=30)
    assert result['failed'] and set(c[0] for c in failing(result)) == {'ttl'}
    assert 'TTL 60 (maximum 30)' in result['msg']
    assert not run(monkeypatch, fake(), max_ttl=None)['failed']


def test_server_down(monkeypatch):
    servers = fake()
    servers.timeout.add(NS2)
    result = run(monkeypatch, servers, records=[], addresses=[], mx_domains=[], zones=['example.com'])
    assert result['failed'] and result['serials'] == {'example.com': {NS1: 2025010100, NS2: None}}
    assert 'no answer from 192.0.2.2' in result['msg']


@pytest.mark.parametrize('args, fragment', [
    ({'servers': ['ns1']}, "'ns1' is not an IP address"),
    ({'records': [{'name': 'x', 'type': 'BOGUS'}]}, "'BOGUS' (for x) is not a DNS record type"),
    ({'addresses': ['nope']}, "'nope' is not an IP address"),
])
def test_bad_arguments(monkeypatch, args, fragment):
    result = run(monkeypatch, fake(), **args)
    assert result['failed'] and fragment in result['msg']


def test_missing_dnspython(monkeypatch):
    monkeypatch.setattr(dns_consistency, 'DNSPYTHON_IMPORT_ERROR', 'Traceback')
    result = run(monkeypatch, fake())
    assert result['failed'] and 'dnspython' in result['msg']


KEY = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA' + 'k' * 340 + 'IDAQAB'
DKIM = [{'domain': 'example.com', 'selector': 'mail', 'name': 'mail._domainkey.example.com',
         'value': 'v=DKIM1; k=rsa; p=' + KEY}]


def served_dkim(value):
    value = value.encode()
    return ' '.join('"%s"' % value[i:i + 255].decode() for i in range(0, len(value), 255))


def with_dkim(value_ns1, value_ns2):
    servers = fake()
    for server, value in ((NS1, value_ns1), (NS2, value_ns2)):
        if value is not None:
            servers.data[server][('mail._domainkey.example.com.', 'TXT')] = (60, [served_dkim(value)])
    return servers


def test_dkim_records_served_by_every_server_pass(monkeypatch):
    value = DKIM[0]['value']
    result = run(monkeypatch, with_dkim(value, value), dkim=DKIM)
    assert not result['failed'], result.get('msg')
    assert [(c['server'], c['ok']) for c in result['checks'] if c['check'] == 'dkim'] == [(NS1, True), (NS2, True)]


@pytest.mark.parametrize('ns2, detail', [
    (None, 'has no TXT record for mail._domainkey.example.com.'),
    ('v=DKIM1; k=rsa; p=' + KEY[:-8] + 'AAAAAAAA', 'not the key of the controller'),
    ('v=DKIM1; k=rsa; p=', 'not the key of the controller'),
])
def test_a_server_without_the_controllers_key_fails(monkeypatch, ns2, detail):
    result = run(monkeypatch, with_dkim(DKIM[0]['value'], ns2), dkim=DKIM)
    assert result['failed'] and failing(result) == [('dkim', 'mail._domainkey.example.com.', NS2)]
    assert detail in result['msg']
