# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster
from ansible_collections.clustered.mail.plugins.module_utils._dns_records import dns_zones
from ansible_collections.clustered.mail.plugins.module_utils import _membership as m
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import HASH, inventory, set_all


def model(**cluster):
    hostvars, groups = inventory()
    set_all(hostvars, groups, mail_cluster_domains=['example.com', 'example.org'], **cluster)
    return build_cluster(hostvars, groups)


def served_full(mdl, drained=()):
    return dict((zone, dict((key, list(rr['values'])) for key, rr in sets.items()))
                for zone, sets in m.rotation_rrsets(mdl, drained).items())


def records(mdl, zone_name):
    zone = [z for z in dns_zones(mdl) if z['name'] == zone_name][0]
    return set((r['owner'], r['type'], r['value']) for r in zone['records'])


def test_rotation_model_removes_only_rotation():
    mdl = model()
    drained = m.rotation_model(mdl, ['primary2'])
    assert mdl['groups']['mail_primaries'] == ['primary1', 'primary2', 'primary3']  # input untouched
    before, after = records(mdl, 'example.com'), records(drained, 'example.com')
    gone = before - after
    assert gone == {('mail', 'A', '192.0.2.12'), ('mail', 'A', '198.51.100.12'),
                    ('@', 'MX', '10 primary2.example.com.'),
                    ('smtp', 'A', '192.0.2.12'), ('smtp', 'A', '198.51.100.12'),
                    ('imap', 'A', '192.0.2.12'), ('imap', 'A', '198.51.100.12'),
                    ('pop3', 'A', '192.0.2.12'), ('pop3', 'A', '198.51.100.12'),
                    ('submission', 'A', '192.0.2.12'), ('submission', 'A', '198.51.100.12')}
    assert not after - before
    # its own name and PTR stay
    assert ('primary2', 'A', '192.0.2.12') in after
    org = records(mdl, 'example.org') - records(drained, 'example.org')
    assert ('@', 'MX', '10 primary2.example.com.') in org and ('smtp', 'A', '192.0.2.12') in org


def test_round_robin_mx_is_not_touched():
    mdl = model(mail_cluster_mx_style='round_robin')
    gone = records(mdl, 'example.com') - records(m.rotation_model(mdl, ['primary1']), 'example.com')
    assert not [r for r in gone if r[1] == 'MX']
    assert ('mail', 'AAAA', '2001:db8::11') in gone


def test_service_name_never_emptied():
    mdl = model(mail_cluster_services={'imap': ['primary3'], 'smtp': ['primary1', 'primary3']})
    after = m.rotation_model(mdl, ['primary3'])
    assert after['services'] == {'imap': ['primary3'], 'pop3': ['primary3'], 'smtp': ['primary1'],
                                 'submission': ['primary1']}


def test_resolve_hosts_by_any_name_and_error_names_option():
    mdl = model()
    assert m.resolve_hosts(mdl, ['PRIMARY2', 'primary2.example.com.', 'primary1']) == ['primary2', 'primary1']
    with pytest.raises(m.MembershipError, match=r'^host=ns1: not a host of mail_primaries \(primary1, primary2, primary3\)'):
        m.resolve_hosts(mdl, ['ns1'], 'host')


def test_served_drained():
    mdl = model()
    assert m.served_drained(mdl, served_full(mdl)) == []
    assert m.served_drained(mdl, served_full(mdl, ['primary3'])) == ['primary3']
    assert m.served_drained(mdl, {}) == ['primary1', 'primary2', 'primary3']


def test_plan_min_members():
    mdl = model()
    assert m.plan(mdl, [], ['primary2'], (), 2) == ['primary2']
    with pytest.raises(m.MembershipError) as err:
        m.plan(mdl, ['primary2'], ['primary1'], (), 2)
    assert 'refusing to drain primary1' in str(err.value) and 'min_members=2' in str(err.value)
    # undraining below the minimum is always allowed; already drained is no new drain
    assert m.plan(mdl, ['primary1', 'primary2'], (), ['primary1'], 3) == ['primary2']
    assert m.plan(mdl, ['primary1', 'primary2'], ['primary1'], (), 2) == ['primary1', 'primary2']
    with pytest.raises(m.MembershipError, match='min_members=0'):
        m.plan(mdl, [], (), (), 0)


def test_zone_changes_idempotent_and_together():
    mdl = model()
    served = served_full(mdl)
    assert m.zone_changes(mdl, [], served) == {}
    changes = m.zone_changes(mdl, ['primary2'], served)
    assert sorted(changes) == ['example.com', 'example.org']
    com = changes['example.com']
    assert com['add'] == []
    assert ('mail.example.com', 'A', 60, '192.0.2.12') in com['delete']
    assert ('example.com', 'MX', 60, '10 primary2.example.com.') in com['delete']
    assert ('smtp.example.com', 'A', 60, '198.51.100.12') in com['delete']
    assert m.zone_changes(mdl, ['primary2'], served_full(mdl, ['primary2'])) == {}
    back = m.zone_changes(mdl, [], served_full(mdl, ['primary2']))
    assert back['example.com']['delete'] == [] and len(back['example.com']['add']) == len(com['delete'])


def test_zone_changes_leave_foreign_records():
    mdl = model()
    served = served_full(mdl)
    served['example.com'][('example.com', 'MX')].append('50 backup.example.com.')
    served['example.com'][('example.com', 'MX')].append('5 other.example.net.')
    changes = m.zone_changes(mdl, ['primary1'], served)
    deleted = [r[3] for r in changes['example.com']['delete'] if r[1] == 'MX']
    assert deleted == ['10 primary1.example.com.']


def test_health_step_hysteresis():
    # One healthy round first: a primary that never passed a probe is not in service yet.
    counters, to_drain, _up = m.health_step({}, {'primary1': True, 'primary2': True}, [], 3, 2)
    assert to_drain == []
    drains = []
    for _run in range(3):
        counters, to_drain, to_undrain = m.health_step(counters, {'primary1': True, 'primary2': False}, [], 3, 2)
        drains.append(to_drain)
    assert drains == [[], [], ['primary2']]
    assert counters == {'primary1': {'failures': 0, 'successes': 4, 'seen': True},
                        'primary2': {'failures': 3, 'successes': 0, 'seen': True}}
    # a flap resets: one success then a failure does not undrain
    counters, _d, up = m.health_step(counters, {'primary2': True}, ['primary2'], 3, 2)
    assert up == [] and counters == {'primary2': {'failures': 0, 'successes': 1, 'seen': True}}
    counters, _d, up = m.health_step(counters, {'primary2': False}, ['primary2'], 3, 2)
    assert up == [] and counters['primary2'] == {'failures': 1, 'successes': 0, 'seen': True}
    counters, _d, up = m.health_step(counters, {'primary2': True}, ['primary2'], 3, 2)
    counters, _d, up = m.health_step(counters, {'primary2': True}, ['primary2'], 3, 2)
    assert up == ['primary2']
    with pytest.raises(m.MembershipError, match='failures_to_drain=0'):
        m.health_step({}, {}, [], 0, 1)


def test_health_step_never_drains_a_primary_not_yet_in_service():
    counters = {}
    for _run in range(5):
        counters, to_drain, _up = m.health_step(counters, {'primary1': False}, [], 2, 2)
        assert to_drain == []
    assert counters['primary1'] == {'failures': 5, 'successes': 0, 'seen': False}
    counters, to_drain, _up = m.health_step(counters, {'primary1': True}, [], 2, 2)
    for _run in range(2):
        counters, to_drain, _up = m.health_step(counters, {'primary1': False}, [], 2, 2)
    assert to_drain == ['primary1']


def test_health_plan_holds_back_at_minimum():
    mdl = model()
    drained, held = m.health_plan(mdl, [], ['primary3', 'primary1', 'primary2'], [], 1)
    assert drained == ['primary1', 'primary3'] and held == ['primary2']


def test_state_files(tmp_path):
    path = os.path.join(str(tmp_path), 'sub', 'drained.json')
    assert m.read_json(path, 'missing') == 'missing'
    m.write_json(path, {'drained': ['primary2']})
    assert m.read_json(path, None) == {'drained': ['primary2']}
    assert oct(os.stat(path).st_mode & 0o777) == '0o644'


class FakeClient(object):
    def __init__(self, served):
        self.data = served
        self.updates = []

    def served(self, mdl):
        return self.data

    def update(self, zone, change):
        self.updates.append((zone, change))
        for owner, rtype, _ttl, value in change['delete']:
            self.data[zone][(owner, rtype)].remove(value)
        for owner, rtype, _ttl, value in change['add']:
            self.data[zone].setdefault((owner, rtype), []).append(value)


def test_apply_drain_check_mode_and_state(tmp_path):
    mdl = model()
    state = str(tmp_path)
    client = FakeClient(served_full(mdl))
    result = m.apply(mdl, client, drain=['primary2'], check_mode=True, state_dir=state)
    assert result['changed'] and result['members_after'] == ['primary1', 'primary3'] and client.updates == []
    assert not os.path.exists(os.path.join(state, 'drained.json'))
    result = m.apply(mdl, client, drain=['primary2'], state_dir=state)
    assert result['changed'] and [z for z, _c in client.updates] == ['example.com', 'example.org']
    # drained by hand: not in by_health, so the health round will not undrain it
    assert m.read_json(os.path.join(state, 'drained.json'), None) == {'drained': ['primary2'], 'by_health': []}
    again = m.apply(mdl, client, drain=['primary2'], state_dir=state)
    assert again['changed'] is False and len(client.updates) == 2
    assert again['drained_before'] == ['primary2']


def test_apply_health_drains_after_n_and_holds_minimum(tmp_path):
    mdl = model()
    state = str(tmp_path)
    client = FakeClient(served_full(mdl))
    # A healthy round first: primaries are drained only once they were in service.
    m.apply(mdl, client, min_members=2, state_dir=state,
            health={'healthy': {'primary1': True, 'primary2': True, 'primary3': True},
                    'failures_to_drain': 2, 'successes_to_undrain': 1})
    health = {'healthy': {'primary1': False, 'primary2': False, 'primary3': True},
              'failures_to_drain': 2, 'successes_to_undrain': 1}
    first = m.apply(mdl, client, min_members=2, state_dir=state, health=health)
    assert first['drained_after'] == [] and first['changed'] is False
    second = m.apply(mdl, client, min_members=2, state_dir=state, health=health)
    assert second['drained_after'] == ['primary1'] and second['held'] == ['primary2']
    assert m.served_drained(mdl, client.data) == ['primary1']
    health['healthy']['primary1'] = True
    third = m.apply(mdl, client, min_members=2, state_dir=state, health=health)
    # primary1 is back, which makes room: the still failing primary2 is drained now
    assert third['drained_after'] == ['primary2'] and third['held'] == []
    assert third['members_after'] == ['primary1', 'primary3']


def test_apply_names_a_broken_homes_file(tmp_path):
    mdl = model()
    with open(os.path.join(str(tmp_path), 'homes.json'), 'w') as handle:
        handle.write('["not", "a", "mapping"]')
    with pytest.raises(m.MembershipError, match=r'/homes.json: must be a JSON object, not list; fix the file or remove'):
        m.apply(mdl, FakeClient(served_full(mdl)), state_dir=str(tmp_path))


def test_apply_names_a_corrupt_drained_file(tmp_path):
    # A drained.json that is not JSON is not taken for "nothing drained": the round would undrain by accident.
    mdl = model()
    with open(os.path.join(str(tmp_path), 'drained.json'), 'w') as handle:
        handle.write('{"drained": ["primary2"')
    with pytest.raises(m.MembershipError, match=r'/drained.json: is not JSON .*clustered.mail.drain, undrain and health'):
        m.apply(mdl, FakeClient(served_full(mdl)), state_dir=str(tmp_path))


def test_read_state_absent_and_kept(tmp_path):
    state = str(tmp_path)
    assert m.read_state(os.path.join(state, 'missing')) == {'drained': [], 'by_health': [], 'homes': {}}
    m.write_json(os.path.join(state, 'drained.json'), {'drained': ['primary2'], 'by_health': ['primary2']})
    m.write_json(os.path.join(state, 'homes.json'), {'homes': {'Alice@Example.com': 'primary1'}})
    assert m.read_state(state) == {'drained': ['primary2'], 'by_health': ['primary2'],
                                   'homes': {'alice@example.com': 'primary1'}}


@pytest.mark.parametrize('name, content, problem', [
    ('drained.json', '{"drained": "primary2"}', 'drained must be a list of inventory names'),
    ('drained.json', '[]', 'must be a JSON object, not list'),
    ('homes.json', '{"homes": {"alice@example.com": 1}}', 'homes must map addresses to inventory names'),
    ('homes.json', 'not json', 'is not JSON'),
])
def test_read_state_refuses_what_no_writer_writes(tmp_path, name, content, problem):
    with open(os.path.join(str(tmp_path), name), 'w') as handle:
        handle.write(content)
    with pytest.raises(m.MembershipError) as err:
        m.read_state(str(tmp_path))
    assert str(err.value).startswith(os.path.join(str(tmp_path), name) + ': ')
    assert problem in str(err.value) and 'fix the file or remove it' in str(err.value)


def _granted(mdl):
    return set((g['name'].rstrip('.'), t) for grants in m.update_grants(mdl).values() for g in grants for t in g['types'])


def test_update_grants_are_exactly_what_membership_changes():
    users = [{'name': 'alice', 'password_hash': HASH}, {'name': 'bob', 'domain': 'example.org', 'password_hash': HASH}]
    mdl = model(mail_cluster_users=users, mail_cluster_placement='hash')
    grants = m.update_grants(mdl)
    # forward zones only: a reverse zone grants nothing, so the update key cannot touch a PTR
    assert sorted(grants) == ['example.com', 'example.org']
    granted = _granted(mdl)
    assert ('example.com', 'MX') in granted and ('mail.example.com', 'A') in granted
    assert ('alice.pop.example.com', 'CNAME') in granted and ('bob.pop.example.org', 'CNAME') in granted
    assert ('smtp.example.org', 'AAAA') in granted
    # never the delegation, the SOA, a host's own name, an MX below the apex or a TXT
    assert not [g for g in granted if g[1] in ('NS', 'SOA', 'TXT', 'PTR')]
    assert not [g for g in granted if g[1] == 'MX' and g[0] not in mdl['domains']]
    assert not [g for g in granted if g[0].startswith('primary')]
    # every grant is in its own zone, names absolute
    for zone, zone_grants in grants.items():
        assert all(g['name'].endswith(zone + '.') for g in zone_grants)
    # and every change a drain, an undrain or a home move makes is granted
    served = served_full(mdl)
    for drained in (['primary1'], ['primary2', 'primary3'], ['primary1', 'primary2']):
        for changes in (m.zone_changes(mdl, drained, served), m.zone_changes(mdl, [], served_full(mdl, drained))):
            touched = set((r[0], r[1]) for c in changes.values() for r in c['delete'] + c['add'])
            assert touched and touched <= granted


def test_update_grants_follow_the_users():
    assert not [g for g in _granted(model()) if g[1] == 'CNAME']  # no users, no placement names
    robin = model(mail_cluster_mx_style='round_robin')
    assert ('example.com', 'MX') in _granted(robin)
