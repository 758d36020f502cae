# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.clustered.mail.tests.unit.plugins.modules.fake_dns import FakeServers, run_module
from ansible_collections.clustered.mail.plugins.modules import dns_rotation

NS1, NS2 = '192.0.2.1', '192.0.2.2'
MAIL = ['192.0.2.11', '192.0.2.12', '192.0.2.13']


def servers(order1='cyclic', order2='cyclic', records=None):
    zone = {('mail.example.com.', 'A'): (60, records or MAIL),
            ('example.com.', 'MX'): (60, ['10 p1.example.com.', '10 p2.example.com.'])}
    return FakeServers({NS1: dict(zone), NS2: dict(zone)}, order={NS1: order1, NS2: order2})


def run(monkeypatch, fake, **args):
    base = {'name': 'mail.example.com', 'servers': [NS1, NS2], 'expected': MAIL}
    base.update(args)
    return run_module(dns_rotation, base, monkeypatch, fake)


def test_cyclic_on_both_servers(monkeypatch):
    fake = servers()
    result = run(monkeypatch, fake, queries=9)
    assert not result['failed'] and result['changed'] is False
    for report in result['servers']:
        assert report['rotation'] == 'cyclic' and report['set_matches'] is True
        assert report['steps'] == [1] * 8
        assert report['first_position'] == {'192.0.2.11': 3, '192.0.2.12': 3, '192.0.2.13': 3}
        assert report['chi_square']['p_value'] == 1.0
    # every query went straight to the server, without asking for recursion
    assert len(fake.queries) == 18 and not any(rd for _s, _n, _t, rd in fake.queries)
    assert [s['server'] for s in result['servers']] == [NS1, NS2]


def test_cyclic_expected_but_fixed(monkeypatch):
    result = run(monkeypatch, servers(order2='fixed'), queries=5)
    assert result['failed']
    assert '192.0.2.2: expected cyclic rotation' in result['msg'] and '192.0.2.1:' not in result['msg']
    assert result['servers'][1]['rotation'] == 'fixed'


def test_wrong_set(monkeypatch):
    result = run(monkeypatch, servers(), expected=['192.0.2.11', '192.0.2.12', '192.0.2.14'])
    assert result['failed'] and result['servers'][0]['set_matches'] is False
    assert 'missing 192.0.2.14, unexpected 192.0.2.13' in result['msg']


def test_random_uniform_passes_and_reports_chi_square(monkeypatch):
    result = run(monkeypatch, servers('random', 'random'), order='random', queries=60)
    assert not result['failed'], result['msg'] if 'msg' in result else result
    chi = result['servers'][0]['chi_square']
    assert chi['df'] == 2 and 0.001 <= chi['p_value'] <= 1
    assert sum(result['servers'][0]['first_position'].values()) == 60


def test_random_expected_but_fixed(monkeypatch):
    result = run(monkeypatch, servers('fixed', 'fixed'), order='random', queries=30)
    assert result['failed'] and 'every answer had the same order' in result['msg']


def test_random_expected_but_skewed(monkeypatch):
    # a cyclic server over 30 queries is uniform; a biased one is not: always the same first record
    fake = servers('fixed', 'random')
    fake.order[NS1] = 'fixed'
    result = run(monkeypatch, fake, order='random', queries=30, servers=[NS2])
    assert not result['failed']

    class Biased(FakeServers):
        def __call__(self, query, where, **kwargs):
            response = FakeServers.__call__(self, query, where, **kwargs)
            rrset = response.answer[0]
            items = sorted(rrset, key=lambda r: r.to_text())
            if self.random.random() < 0.5:
                items = [items[0], items[2], items[1]]
            rrset.clear()
            for item in items:
                rrset.add(item)
            return response
    result = run(monkeypatch, Biased(fake.data, order={NS1: 'fixed', NS2: 'fixed'}), order='random', queries=60)
    assert result['failed'] and 'the first position is not uniform' in result['msg']
    assert result['servers'][0]['chi_square']['p_value'] < 0.001


def test_fixed_and_any(monkeypatch):
    assert not run(monkeypatch, servers('fixed', 'fixed'), order='fixed')['failed']
    result = run(monkeypatch, servers('cyclic', 'fixed'), order='fixed')
    assert result['failed'] and '192.0.2.1: expected a fixed order, observed cyclic' in result['msg']
    assert not run(monkeypatch, servers('random', 'fixed'), order='any')['failed']


def test_mx_type_and_normalisation(monkeypatch):
    result = run(monkeypatch, servers(), name='example.com.', type='MX', expected=['10 P1.example.com.', '10 p2.example.com'])
    assert not result['failed']
    assert result['servers'][0]['answer_set'] == ['10 p1.example.com.', '10 p2.example.com.']  # names absolute


def test_single_record_needs_no_rotation(monkeypatch):
    result = run(monkeypatch, servers(records=['192.0.2.11']), expected=['192.0.2.11'])
    assert not result['failed'] and result['servers'][0]['rotation'] == 'single'


@pytest.mark.parametrize('setup, fragment', [
    ('refuse', '192.0.2.2 answered REFUSED for mail.example.com. A'),
    ('timeout', 'no answer from 192.0.2.2 within 3.0s'),
    ('not_authoritative', '192.0.2.2 is not authoritative for mail.example.com.'),
])
def test_server_errors(monkeypatch, setup, fragment):
    fake = servers()
    getattr(fake, setup).add(NS2)
    result = run(monkeypatch, fake)
    assert result['failed'] and fragment in result['msg']
    assert result['servers'][0]['failures'] == []


def test_missing_name_and_cname(monkeypatch):
    fake = servers()
    result = run(monkeypatch, fake, name='nope.example.com')
    assert result['failed'] and '192.0.2.1 answered NXDOMAIN' in result['msg']
    fake.data[NS1][('alias.example.com.', 'CNAME')] = (60, ['mail.example.com.'])
    result = run(monkeypatch, fake, name='alias.example.com', servers=[NS1])
    assert result['failed'] and 'alias.example.com. is a CNAME' in result['msg']


def test_cname_is_asked_for_itself(monkeypatch):
    # move_user waits with it until every server names the new home
    fake = servers()
    fake.data[NS1][('alice.pop.example.com.', 'CNAME')] = (60, ['P2.example.com.'])
    fake.data[NS2][('alice.pop.example.com.', 'CNAME')] = (60, ['p1.example.com.'])
    result = run(monkeypatch, fake, name='alice.pop.example.com', type='CNAME', expected=['p2.example.com.'],
                 order='any', queries=2)
    assert result['servers'][0]['answer_set'] == ['p2.example.com.'] and result['servers'][0]['failures'] == []
    assert result['failed'] and '192.0.2.2: the record set is wrong: missing p2.example.com., unexpected p1.example.com.' \
        in result['msg']
    fake.data[NS2][('alice.pop.example.com.', 'CNAME')] = (60, ['p2.example.com.'])
    assert not run(monkeypatch, fake, name='alice.pop.example.com', type='CNAME', expected=['p2.example.com'],
                   order='any', queries=2)['failed']


@pytest.mark.parametrize('args, fragment', [
    ({'queries': 1}, 'queries=1'),
    ({'servers': ['ns1.example.com']}, "'ns1.example.com' is not an IP address"),
    ({'servers': []}, 'at least one'),
])
def test_bad_arguments(monkeypatch, args, fragment):
    result = run(monkeypatch, servers(), **args)
    assert result['failed'] and fragment in result['msg']


def test_missing_dnspython(monkeypatch):
    monkeypatch.setattr(dns_rotation, 'DNSPYTHON_IMPORT_ERROR', 'Traceback: no module named dns')
    result = run(monkeypatch, servers())
    assert result['failed'] and 'Failed to import the required Python library (dnspython)' in result['msg']


@pytest.mark.parametrize('statistic, df, p', [
    (3.841459, 1, 0.05), (7.814728, 3, 0.05), (0.0, 2, 1.0), (13.81551, 2, 0.001), (1.0, 5, 0.962566),
])
def test_chi_square_p(statistic, df, p):
    assert abs(dns_rotation.chi_square_p(statistic, df) - p) < 1e-5


def test_step_between():
    assert dns_rotation.step_between(['a', 'b', 'c'], ['b', 'c', 'a']) == 1
    assert dns_rotation.step_between(['a', 'b', 'c'], ['c', 'a', 'b']) == 2
    assert dns_rotation.step_between(['a', 'b', 'c'], ['b', 'a', 'c']) is None
    assert dns_rotation.analyse([['a', 'b', 'c'], ['c', 'a', 'b'], ['b', 'c', 'a']], 'TXT', None, 'cyclic', 0.001)['rotation'] == 'cyclic'
    assert dns_rotation.analyse([['a', 'b', 'c'], ['b', 'c', 'a'], ['a', 'b', 'c']], 'TXT', None, 'cyclic', 0.001)['rotation'] == 'rotating'


def run_sets(monkeypatch, fake, sets, **args):
    base = {'sets': sets, 'servers': [NS1, NS2]}
    base.update(args)
    return run_module(dns_rotation, base, monkeypatch, fake)


MX = ['10 p1.example.com.', '10 p2.example.com.']


def test_sets_are_checked_in_one_call(monkeypatch):
    fake = servers()
    result = run_sets(monkeypatch, fake, [{'name': 'mail.example.com', 'expected': MAIL, 'queries': 9},
                                         {'name': 'example.com', 'type': 'MX', 'expected': MX, 'queries': 6}])
    assert not result['failed'], result.get('msg')
    assert [(s['name'], s['type']) for s in result['sets']] == [('mail.example.com.', 'A'), ('example.com.', 'MX')]
    for record_set in result['sets']:
        assert [r['rotation'] for r in record_set['servers']] == ['cyclic', 'cyclic']
    # each set asked each server its own number of times, in turn (the rotation of each is observed)
    assert len(fake.queries) == 2 * 9 + 2 * 6
    assert result['sets'][0]['servers'][0]['steps'] == [1] * 8


def test_every_failing_set_and_server_is_named(monkeypatch):
    result = run_sets(monkeypatch, servers(order2='fixed'),
                      [{'name': 'mail.example.com', 'expected': MAIL, 'queries': 5},
                       {'name': 'example.com', 'type': 'MX', 'expected': ['10 p1.example.com.'], 'queries': 4}])
    assert result['failed']
    assert 'mail.example.com. A: 192.0.2.2: expected cyclic rotation' in result['msg']
    assert 'example.com. MX: 192.0.2.1: ' in result['msg'] and 'unexpected 10 p2.example.com.' in result['msg']
    assert result['sets'][0]['servers'][0]['rotation'] == 'cyclic'


def test_sets_exclude_a_name_and_need_two_queries(monkeypatch):
    result = run_sets(monkeypatch, servers(), [{'name': 'mail.example.com'}], name='mail.example.com')
    assert result['failed'] and 'mutually exclusive' in result['msg']
    result = run_sets(monkeypatch, servers(), [{'name': 'mail.example.com', 'queries': 1}])
    assert result['failed'] and 'queries=1' in result['msg']
