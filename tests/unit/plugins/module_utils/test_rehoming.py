# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One backend per mailbox: serving homes, re-homing on drain, the pop CNAMEs and who drained a primary."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.clustered.mail.plugins.module_utils._cluster import (
    ClusterError, build_cluster, cluster_errors, rendezvous_home, serving_home,
)
from ansible_collections.clustered.mail.plugins.module_utils._mail import apply_homes
from ansible_collections.clustered.mail.plugins.module_utils import _membership as m
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.test_membership import (
    FakeClient as MembershipFakeClient,
)
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import (
    HASH, inventory, set_all,
)

PRIMARIES = ['primary1', 'primary2', 'primary3']
DOMAINS = ['example.com', 'example.org']
ADDRESSES = ['u%d@%s' % (i, DOMAINS[i % 2]) for i in range(30)]


def users(count=30):
    return [{'name': 'u%d' % i, 'domain': DOMAINS[i % 2], 'password_hash': HASH} for i in range(count)]


def model(**cluster):
    hostvars, groups = inventory()
    cluster.setdefault('mail_cluster_users', users())
    set_all(hostvars, groups, mail_cluster_domains=DOMAINS, **cluster)
    return build_cluster(hostvars, groups)


def homes_of(mdl):
    return dict((u['address'], u['home']) for u in mdl['users'])


def served_full(mdl, drained=()):
    return dict((zone, dict((key, list(rr['values'])) for key, rr in sets.items()))
                for zone, sets in m.rotation_rrsets(mdl, drained).items())


def as_sets(served):
    return dict((zone, dict((key, sorted(values)) for key, values in sets.items() if values))
                for zone, sets in served.items())


def fqdn_dot(host):
    return '%s.example.com.' % host


# --- serving_home ------------------------------------------------------------

def test_serving_home_keeps_the_wanted_home_while_it_rotates():
    for address in ADDRESSES:
        for wanted in PRIMARIES:
            assert serving_home(address, wanted, PRIMARIES) == wanted
            assert serving_home(address, wanted, PRIMARIES, ()) == wanted
            assert serving_home(address, wanted, PRIMARIES, None) == wanted
            for other in PRIMARIES:
                if other != wanted:
                    assert serving_home(address, wanted, PRIMARIES, [other]) == wanted
            # a name that is not a primary is no drain at all
            assert serving_home(address, wanted, PRIMARIES, ['ns1']) == wanted


def test_serving_home_of_a_drained_home_is_the_rendezvous_choice_among_the_rotating():
    seen = set()
    for address in ADDRESSES:
        for wanted in PRIMARIES:
            rotating = [h for h in PRIMARIES if h != wanted]
            got = serving_home(address, wanted, PRIMARIES, [wanted])
            assert got != wanted and got in rotating
            assert got == rendezvous_home(address, rotating)
            # independent of the order the primaries and the drained set come in
            assert serving_home(address, wanted, list(reversed(PRIMARIES)), {wanted}) == got
            seen.add(got)
        # two drained: the one left serves everybody
        assert serving_home(address, 'primary1', PRIMARIES, ['primary1', 'primary2']) == 'primary3'
        assert serving_home(address, 'primary1', PRIMARIES, ['primary2', 'primary3']) == 'primary1'
    # the users of a drained primary are spread, not all sent to one host
    assert seen == set(PRIMARIES)


def test_serving_home_takes_drained_as_any_iterable():
    # The drained set was once re-read per primary: a generator was used up by the first.
    for address in ADDRESSES:
        for wanted in PRIMARIES:
            want = serving_home(address, wanted, PRIMARIES, [wanted])
            assert serving_home(address, wanted, PRIMARIES, (h for h in [wanted])) == want
            assert serving_home(address, wanted, PRIMARIES, iter([wanted])) == want


def test_serving_home_with_every_primary_drained_still_has_one():
    for address in ADDRESSES:
        for wanted in PRIMARIES:
            got = serving_home(address, wanted, PRIMARIES, PRIMARIES)
            assert got is not None and got == wanted
        # no wanted home (or a stale one): the rendezvous choice over all primaries
        assert serving_home(address, None, PRIMARIES, PRIMARIES) == rendezvous_home(address, PRIMARIES)
        assert serving_home(address, 'retired', PRIMARIES, PRIMARIES) == rendezvous_home(address, PRIMARIES)
        assert serving_home(address, 'retired', PRIMARIES, ['primary3']) == rendezvous_home(address, ['primary1', 'primary2'])


# --- rotation_model ------------------------------------------------------------

def test_the_fixture_spreads_users_over_every_primary():
    # Without this the drain tests below could pass vacuously.
    counts = dict((h, list(homes_of(model()).values()).count(h)) for h in PRIMARIES)
    assert all(count >= 3 for count in counts.values()), counts


@pytest.mark.parametrize('gone', PRIMARIES)
def test_draining_one_primary_moves_only_its_users_to_their_next_choice(gone):
    mdl = model()
    before = homes_of(mdl)
    rest = [h for h in PRIMARIES if h != gone]
    after = m.rotation_model(mdl, [gone])
    moved = []
    for user in after['users']:
        address = user['address']
        if before[address] == gone:
            assert user['home'] == rendezvous_home(address, rest)
            moved.append(address)
        else:
            assert user['home'] == before[address], address
        assert user['home'] != gone
        assert user['home_fqdn'] == '%s.example.com' % user['home']
    assert sorted(moved) == sorted(a for a, h in before.items() if h == gone) and moved
    assert after['groups']['mail_primaries'] == rest
    # the input model is untouched
    assert homes_of(mdl) == before and mdl['groups']['mail_primaries'] == PRIMARIES


def test_undrain_returns_everybody_to_the_original_home():
    mdl = model()
    original = [(u['address'], u['home'], u['home_fqdn']) for u in mdl['users']]
    drained = m.rotation_model(mdl, ['primary2'])
    assert [(u['address'], u['home'], u['home_fqdn']) for u in drained['users']] != original
    for undrained in ((), [], None):
        back = m.rotation_model(mdl, undrained)
        assert [(u['address'], u['home'], u['home_fqdn']) for u in back['users']] == original


def test_a_moved_home_is_the_wanted_home_under_a_drain():
    mdl = model()
    address = ADDRESSES[0]
    target = [h for h in PRIMARIES if h != mdl['users'][0]['home']][0]
    moved = apply_homes(mdl, {'homes': {address: target}})
    assert m.rotation_model(moved, ())['users'][0]['home'] == target
    rest = [h for h in PRIMARIES if h != target]
    assert m.rotation_model(moved, [target])['users'][0]['home'] == rendezvous_home(address, rest)


# --- the pop CNAMEs ------------------------------------------------------------

def test_pop_name_and_rotation_rrsets_manage_every_users_cname():
    mdl = model()
    assert m.pop_name({'name': 'alice', 'domain': 'example.org'}) == 'alice.pop.example.org'
    sets = m.rotation_rrsets(mdl, ())
    for user in mdl['users']:
        key = ('%s.pop.%s' % (user['name'], user['domain']), 'CNAME')
        assert key == (m.pop_name(user), 'CNAME')
        assert sets[user['domain']][key] == {'ttl': 60, 'values': [fqdn_dot(user['home'])]}
        other = [d for d in DOMAINS if d != user['domain']][0]
        assert key not in sets[other]
    drained = m.rotation_rrsets(mdl, ['primary1'])
    for user in mdl['users']:
        want = serving_home(user['address'], user['home'], PRIMARIES, ['primary1'])
        assert drained[user['domain']][(m.pop_name(user), 'CNAME')]['values'] == [fqdn_dot(want)]


def cname_changes(changes, kind):
    return sorted((r[0], r[3]) for c in changes.values() for r in c[kind] if r[1] == 'CNAME')


def test_zone_changes_of_a_drain_rehome_exactly_the_drained_hosts_users():
    mdl = model()
    served = served_full(mdl)
    changes = m.zone_changes(mdl, ['primary2'], served)
    on_p2 = [u for u in mdl['users'] if u['home'] == 'primary2']
    assert on_p2
    assert cname_changes(changes, 'delete') == sorted((m.pop_name(u), fqdn_dot('primary2')) for u in on_p2)
    assert cname_changes(changes, 'add') == sorted(
        (m.pop_name(u), fqdn_dot(rendezvous_home(u['address'], ['primary1', 'primary3']))) for u in on_p2)
    for zone, change in changes.items():
        for record in change['delete'] + change['add']:
            if record[1] == 'CNAME':
                assert record[0].endswith('.pop.' + zone) and record[2] == 60
    # a drain adds nothing but the new CNAMEs
    assert all(r[1] == 'CNAME' for c in changes.values() for r in c['add'])
    # applied, it is what the drained rotation serves
    assert m.zone_changes(mdl, ['primary2'], served_full(mdl, ['primary2'])) == {}
    # and the undrain puts back exactly the same CNAMEs
    back = m.zone_changes(mdl, [], served_full(mdl, ['primary2']))
    assert cname_changes(back, 'delete') == cname_changes(changes, 'add')
    assert cname_changes(back, 'add') == cname_changes(changes, 'delete')


def test_zone_changes_replace_a_cname_to_any_primary_but_leave_foreign_values():
    mdl = model()
    user = mdl['users'][0]
    key = (m.pop_name(user), 'CNAME')
    stale = [h for h in PRIMARIES if h != user['home']][0]
    served = served_full(mdl)
    served[user['domain']][key] = [fqdn_dot(stale)]
    changes = m.zone_changes(mdl, [], served)
    assert changes == {user['domain']: {'delete': [(key[0], 'CNAME', 60, fqdn_dot(stale))],
                                        'add': [(key[0], 'CNAME', 60, fqdn_dot(user['home']))]}}
    # a name that is not a primary was not published by the derivation: left alone
    served[user['domain']][key] = ['elsewhere.example.net.']
    assert m.zone_changes(mdl, [], served)[user['domain']]['delete'] == []


# --- placement none ------------------------------------------------------------

def test_placement_none_with_several_primaries_names_the_variable():
    hostvars, groups = set_all(*inventory(), mail_cluster_placement='none')
    for primaries in (PRIMARIES, PRIMARIES[:2]):
        groups['mail_primaries'] = list(primaries)
        errors = cluster_errors(hostvars, groups)
        assert len(errors) == 1 and errors[0].startswith('mail_cluster_placement=none on all:'), errors
        assert '%d primaries' % len(primaries) in errors[0]
        with pytest.raises(ClusterError, match='mail_cluster_placement'):
            build_cluster(hostvars, groups)
    groups['mail_primaries'] = ['primary1']
    set_all(hostvars, groups, mail_cluster_users=[{'name': 'a', 'password_hash': HASH}])
    one = build_cluster(hostvars, groups)
    assert one['placement'] == 'none' and one['users'][0]['home'] is None
    # no homes, no pop CNAMEs to manage
    assert not [key for sets in m.rotation_rrsets(one).values() for key in sets if key[1] == 'CNAME']


def test_placement_defaults_to_hash():
    hostvars, groups = set_all(*inventory(), mail_cluster_users=[{'name': 'a', 'password_hash': HASH}])
    mdl = build_cluster(hostvars, groups)
    assert mdl['placement'] == 'hash'
    assert mdl['users'][0]['home'] == rendezvous_home('a@example.com', PRIMARIES)


# --- apply: who drained a primary ------------------------------------------------

class FakeClient(MembershipFakeClient):
    """test_membership's fake DNS primary, answering every rrset the model asks for (CNAMEs included)."""

    def served(self, mdl):
        wanted = m.rotation_rrsets(mdl, ())
        return dict((zone, dict((key, list(self.data.get(zone, {}).get(key, []))) for key in sets))
                    for zone, sets in wanted.items())


def state_of(state_dir):
    return m.read_json(os.path.join(state_dir, m.DRAINED_FILE), None)


def health(failing=(), failures_to_drain=2, successes_to_undrain=2):
    return {'healthy': dict((h, h not in failing) for h in PRIMARIES),
            'failures_to_drain': failures_to_drain, 'successes_to_undrain': successes_to_undrain}


def health_drain(mdl, client, state, host):
    """Drain ``host`` the way the health round does (passed a probe once, then two failures)."""
    m.apply(mdl, client, state_dir=state, health=health())
    first = m.apply(mdl, client, state_dir=state, health=health([host]))
    assert host not in first['drained_after'] and first['drained_after'] == first['drained_before']
    second = m.apply(mdl, client, state_dir=state, health=health([host]))
    assert host in second['drained_after'] and host in second['by_health']
    return second


def test_health_never_undrains_a_primary_drained_by_hand(tmp_path):
    mdl = model()
    state = str(tmp_path)
    client = FakeClient(served_full(mdl))
    manual = m.apply(mdl, client, drain=['primary2'], state_dir=state)
    assert manual['by_health'] == [] and state_of(state) == {'drained': ['primary2'], 'by_health': []}
    updates = len(client.updates)
    for _round in range(10):
        result = m.apply(mdl, client, state_dir=state, health=health())
        assert result['drained_after'] == ['primary2'] and result['by_health'] == []
        assert result['changed'] is False
    # it was counted healthy all along; only who drained it keeps it out
    assert (result['counters']['primary2']['failures'], result['counters']['primary2']['successes']) == (0, 10)
    assert len(client.updates) == updates and m.served_drained(mdl, client.data) == ['primary2']
    assert state_of(state) == {'drained': ['primary2'], 'by_health': []}
    # its users are still served elsewhere
    assert 'primary2' not in result['homes'].values()


def test_health_undrains_what_it_drained_and_the_users_come_back(tmp_path):
    mdl = model()
    state = str(tmp_path)
    original = as_sets(served_full(mdl))
    client = FakeClient(served_full(mdl))
    drained = health_drain(mdl, client, state, 'primary3')
    assert drained['drained_after'] == ['primary3'] and drained['by_health'] == ['primary3']
    assert state_of(state) == {'drained': ['primary3'], 'by_health': ['primary3']}
    assert drained['homes'] == dict((a, serving_home(a, h, PRIMARIES, ['primary3'])) for a, h in homes_of(mdl).items())
    assert as_sets(client.data) == as_sets(served_full(mdl, ['primary3']))
    one = m.apply(mdl, client, state_dir=state, health=health())
    assert one['drained_after'] == ['primary3'] and one['by_health'] == ['primary3']  # hysteresis: 1 of 2
    two = m.apply(mdl, client, state_dir=state, health=health())
    assert two['drained_after'] == [] and two['by_health'] == [] and two['changed'] is True
    assert state_of(state) == {'drained': [], 'by_health': []}
    assert two['homes'] == homes_of(mdl)
    assert as_sets(client.data) == original


def test_a_manual_drain_or_undrain_takes_a_host_from_the_health_round(tmp_path):
    mdl = model()
    state = str(tmp_path)
    client = FakeClient(served_full(mdl))
    health_drain(mdl, client, state, 'primary3')
    updates = len(client.updates)
    taken = m.apply(mdl, client, drain=['primary3'], state_dir=state)
    # nothing to change in DNS, but the drain is the operator's now
    assert len(client.updates) == updates and taken['changed'] is True
    assert taken['by_health'] == [] and state_of(state) == {'drained': ['primary3'], 'by_health': []}
    for _round in range(5):
        kept = m.apply(mdl, client, state_dir=state, health=health())
    assert kept['drained_after'] == ['primary3']
    # an undrain by hand clears it from by_health as well
    health_drain(mdl, client, state, 'primary1')
    assert state_of(state) == {'drained': ['primary1', 'primary3'], 'by_health': ['primary1']}
    undrained = m.apply(mdl, client, undrain=['primary1'], state_dir=state)
    assert undrained['drained_after'] == ['primary3'] and undrained['by_health'] == []
    assert state_of(state) == {'drained': ['primary3'], 'by_health': []}


def test_health_undrains_its_own_drain_and_keeps_the_manual_one(tmp_path):
    mdl = model()
    state = str(tmp_path)
    client = FakeClient(served_full(mdl))
    m.apply(mdl, client, drain=['primary1'], state_dir=state)
    health_drain(mdl, client, state, 'primary3')
    assert state_of(state) == {'drained': ['primary1', 'primary3'], 'by_health': ['primary3']}
    for _round in range(2):
        result = m.apply(mdl, client, state_dir=state, health=health())
    assert result['drained_after'] == ['primary1'] and result['by_health'] == []
    assert result['homes'] == dict((a, serving_home(a, h, PRIMARIES, ['primary1'])) for a, h in homes_of(mdl).items())


def test_apply_reads_the_moved_homes_and_reports_serving_homes(tmp_path):
    mdl = model()
    state = str(tmp_path)
    client = FakeClient(served_full(mdl))
    user = mdl['users'][0]
    target = [h for h in PRIMARIES if h != user['home']][0]
    m.write_json(os.path.join(state, m.HOMES_FILE), {'homes': {user['address']: target}})
    result = m.apply(mdl, client, state_dir=state)
    assert result['changed'] is True and result['homes'][user['address']] == target
    assert cname_changes(dict(client.updates), 'delete') == [(m.pop_name(user), fqdn_dot(user['home']))]
    assert cname_changes(dict(client.updates), 'add') == [(m.pop_name(user), fqdn_dot(target))]
    # draining the moved-to home sends the user to its next choice among the others
    drained = m.apply(mdl, client, drain=[target], state_dir=state)
    rest = [h for h in PRIMARIES if h != target]
    assert drained['homes'][user['address']] == rendezvous_home(user['address'], rest)
    assert client.data[user['domain']][(m.pop_name(user), 'CNAME')] == [fqdn_dot(rendezvous_home(user['address'], rest))]
