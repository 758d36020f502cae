# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.clustered.mail.plugins.module_utils._dns_query import DnsQueryError, ask, fqdn, normalise
from ansible_collections.clustered.mail.tests.unit.plugins.modules.fake_dns import FakeServers

NS1 = '192.0.2.1'


def test_fqdn_has_exactly_one_trailing_dot():
    assert fqdn('Mail.Example.com') == fqdn('mail.example.com.') == fqdn('mail.example.com..') == 'mail.example.com.'


@pytest.mark.parametrize('rdtype, given, expected', [
    ('A', ' 192.0.2.1 ', '192.0.2.1'),
    ('AAAA', '2001:DB8:0:0:0:0:0:11', '2001:db8::11'),
    ('MX', '10   P1.Example.com', '10 p1.example.com.'),  # the one rule: names absolute, with their dot
    ('MX', '10 p1.example.com.', '10 p1.example.com.'),
    ('CNAME', 'p2.example.com', 'p2.example.com.'),
    ('PTR', 'mail.example.com.', 'mail.example.com.'),
    ('SRV', '0 5 993 IMAP.example.com', '0 5 993 imap.example.com.'),
    ('SOA', 'NS1.example.com. hostmaster.example.com. 1 2 3 4 5', 'ns1.example.com. hostmaster.example.com. 1 2 3 4 5'),
    ('TXT', '"v=spf1 MX -all"', '"v=spf1 MX -all"'),  # text is compared as given
])
def test_normalise(rdtype, given, expected):
    assert normalise(rdtype, given) == expected


def test_ask_returns_the_served_order_and_names_what_is_wrong(monkeypatch):
    import dns.query
    fake = FakeServers({NS1: {('mail.example.com.', 'A'): (60, ['192.0.2.12', '192.0.2.11']),
                              ('alice.pop.example.com.', 'CNAME'): (60, ['P2.example.com.'])}}, order={NS1: 'fixed'})
    monkeypatch.setattr(dns.query, 'udp', fake)
    monkeypatch.setattr(dns.query, 'tcp', fake)
    assert ask(NS1, 'mail.example.com', 'A') == ['192.0.2.12', '192.0.2.11']
    assert ask(NS1, 'alice.pop.example.com', 'CNAME', tcp=True) == ['p2.example.com.']
    assert fake.queries[-1] == (NS1, 'alice.pop.example.com.', 'CNAME', False)  # never recursive
    with pytest.raises(DnsQueryError, match=r'192.0.2.1: alice.pop.example.com. is a CNAME, not A records'):
        ask(NS1, 'alice.pop.example.com', 'A')
    with pytest.raises(DnsQueryError, match=r'192.0.2.1 answered NXDOMAIN for nope.example.com. A'):
        ask(NS1, 'nope.example.com', 'A')
    fake.not_authoritative.add(NS1)
    with pytest.raises(DnsQueryError, match=r'192.0.2.1 is not authoritative for mail.example.com. \(no AA flag\)'):
        ask(NS1, 'mail.example.com', 'A')
