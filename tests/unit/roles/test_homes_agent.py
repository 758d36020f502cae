# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""roles/mail_primary/files/clustered-mail-homes: the agent that follows the pop CNAMEs.

It is a standalone script (no .py suffix, no Ansible imports): loaded from its
path. Its configuration is built here the way roles/mail_primary/tasks/homes.yml
builds it (mail_homes_agent + base/output/index_root/interval/timeout/hold/state),
and its base file is the collection's ``base_file``, so these tests also hold the
two ends together. Time is passed to reconcile() as ``now``; the old homes' TCP
probe (answers), doveadm/postqueue (run) and the dovecot group are faked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.machinery
import importlib.util
import json
import os
import socket
import stat
import types

import pytest

from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster
from ansible_collections.clustered.mail.plugins.module_utils._mail import PARKED, homes_agent, mail_maps
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import (
    HASH, inventory, set_all,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCRIPT = os.path.join(ROOT, 'roles', 'mail_primary', 'files', 'clustered-mail-homes')


def load_agent():
    loader = importlib.machinery.SourceFileLoader('clustered_mail_homes', SCRIPT)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


agent = load_agent()

P1, P2, P3 = 'primary1.example.com', 'primary2.example.com', 'primary3.example.com'
ALICE, BOB, CAROL, DAVE = 'alice@example.com', 'bob@example.org', 'carol@example.com', 'dave@example.com'
USERS = [
    {'name': 'alice', 'password_hash': HASH, 'home': 'primary1'},
    {'name': 'bob', 'domain': 'example.org', 'password_hash': HASH, 'home': 'primary2'},
    {'name': 'carol', 'password_hash': HASH, 'home': 'primary3'},
    {'name': 'dave', 'password_hash': HASH, 'home': 'primary1'},
]
CONFIG_HOMES = {ALICE: P1, BOB: P2, CAROL: P3, DAVE: P1}
PASSWORD = 'health-pw'


def model():
    return build_cluster(*set_all(*inventory(), mail_cluster_domains=['example.com', 'example.org'],
                                  mail_cluster_placement='explicit', mail_cluster_users=USERS))


def configure(tmp_path, host='primary1', series='2.4', mdl=None):
    config = homes_agent(mdl or model(), host, series)
    config.update({'base': str(tmp_path / 'cluster-users.base'), 'output': str(tmp_path / 'cluster-users'),
                   'index_root': str(tmp_path / 'index'), 'interval': 2, 'timeout': 2, 'hold': 5,
                   'state': str(tmp_path / 'state' / 'state.json')})
    return config


def base_of(host='primary1', series='2.4', mdl=None):
    return mail_maps(mdl or model(), host=host, dovecot_series=series, health_password=PASSWORD)['base_file']


def line_of(lines, address):
    return [line for line in lines if line.startswith(address + ':')][0]


def write(path, lines):
    with open(str(path), 'w') as handle:
        handle.write(''.join(line + '\n' for line in lines))


def read(path):
    with open(str(path)) as handle:
        return handle.read()


# --- fields_of / shown / render ---------------------------------------------------------

HOLD = 5  # seconds; what tasks/homes.yml sets for an interval of 2 (interval * 2 + 1)
T0 = 1000.0
REAL_ANSWERS = agent.answers  # before the autouse fixture replaces it


def derived(config):
    """What Ansible decided: each user's configured home."""
    return dict((user['address'], user['home']) for user in config['users'])


def text(lines):
    return ''.join(line + '\n' for line in lines)


def output_line(config, address):
    return line_of(read(config['output']).splitlines(), address)


def state(config):
    with open(config['state']) as handle:
        return json.load(handle)


def test_fields_of_is_everything_after_the_seventh_colon():
    assert agent.fields_of('a@example.com:{X}h:5000:5000::/srv/mail/example.com/a::') == ''
    assert agent.fields_of('a@example.com:{X}h:5000:5000::/srv/mail/example.com/a::proxy=y host=p2 hostip=2001:db8::12'
                           ' starttls=yes') == 'proxy=y host=p2 hostip=2001:db8::12 starttls=yes'
    assert agent.fields_of('short:line') == ''


def test_the_configuration_has_what_the_hand_over_needs(tmp_path):
    config = configure(tmp_path)
    assert config['parked'] == PARKED and 'port=9' in PARKED
    assert config['parked'] not in config['homes'].values()
    assert config['addresses'] == {P1: '192.0.2.11', P2: '192.0.2.12', P3: '192.0.2.13'}
    assert derived(config) == CONFIG_HOMES


@pytest.mark.parametrize('series', ['2.3', '2.4'])
@pytest.mark.parametrize('host', ['primary1', 'primary2', 'primary3'])
def test_render_of_the_derived_homes_is_the_collections_passwd_file(tmp_path, host, series):
    mdl = model()
    config = configure(tmp_path, host, series, mdl)
    lines = agent.render(config, base_of(host, series, mdl), derived(config))
    assert lines == mail_maps(mdl, host=host, dovecot_series=series, health_password=PASSWORD)['passwd_file']
    # and the file reads back as the homes it was rendered from
    now_shown = agent.shown(config, lines)
    assert dict((address, now_shown[address]) for address in CONFIG_HOMES) == CONFIG_HOMES


def test_render_gives_each_user_the_fields_of_what_it_shows(tmp_path):
    config = configure(tmp_path)
    base = base_of()
    lines = agent.render(config, base, {ALICE: agent.PARKED, BOB: P1, CAROL: P2})
    assert line_of(lines, ALICE) == line_of(base, ALICE) + config['parked']
    assert line_of(lines, BOB) == line_of(base, BOB)  # here: no proxy field
    assert line_of(lines, CAROL) == line_of(base, CAROL) + config['homes'][P2]
    assert line_of(lines, DAVE) == line_of(base, DAVE)  # shows nothing: passes through
    assert len(lines) == len(base)


def test_render_passes_lines_of_unknown_users_through(tmp_path):
    config = configure(tmp_path)
    base = ['# a comment: kept'] + base_of()
    health = [line for line in base if line.startswith('clustered-health@primary1.example.com:')]
    assert len(health) == 1
    show = {ALICE: P2, BOB: P3, CAROL: agent.PARKED, DAVE: P3}
    lines = agent.render(config, base, show)
    assert lines[0] == '# a comment: kept' and lines[-1] == health[0] == base[-1]
    assert len(lines) == len(base)
    # a health line in the file does not confuse what the users show
    now_shown = agent.shown(config, lines)
    assert dict((address, now_shown[address]) for address in show) == show


def test_shown_reads_a_home_parked_or_unknown_from_the_fields(tmp_path):
    config = configure(tmp_path)
    base = base_of()
    lines = agent.render(config, base, {ALICE: P1, BOB: P2, CAROL: agent.PARKED})
    lines = [line + 'proxy=y host=gone.example.com' if line.startswith(DAVE + ':') else line for line in lines]
    now_shown = agent.shown(config, lines)
    assert [now_shown[a] for a in (ALICE, BOB, CAROL, DAVE)] == [P1, P2, agent.PARKED, None]
    assert agent.shown(config, None) == {}


# --- wanted_homes -----------------------------------------------------------------------

def test_wanted_homes_dns_answer_wins(tmp_path):
    config = configure(tmp_path)
    now_shown = {ALICE: P3, BOB: P3, CAROL: agent.PARKED}
    parks = {BOB: {'home': P3, 'since': T0}, CAROL: {'home': P1, 'since': T0}}
    answer = {ALICE: P2, BOB: P1, CAROL: P2, DAVE: P3}
    assert agent.wanted_homes(config, answer, now_shown, parks) == answer


def test_wanted_homes_without_an_answer_a_park_then_the_file_then_the_config(tmp_path):
    config = configure(tmp_path)
    now_shown = {ALICE: P3, BOB: P3, CAROL: agent.PARKED, DAVE: None}
    parks = {BOB: {'home': P1, 'since': T0}}
    # alice: the file; bob: where his park goes; carol: parked is no home, so the config; dave: the config
    assert agent.wanted_homes(config, {}, now_shown, parks) == {ALICE: P3, BOB: P1, CAROL: P3, DAVE: P1}
    assert agent.wanted_homes(config, {}, {}, {}) == CONFIG_HOMES


def test_wanted_homes_keeps_the_known_home_when_dns_names_no_primary(tmp_path):
    config = configure(tmp_path)
    answer = {ALICE: 'rogue.example.net', BOB: 'ns1.example.com', CAROL: 'rogue.example.net',
              DAVE: 'primary4.example.com'}
    now_shown = {ALICE: P2, CAROL: agent.PARKED}
    parks = {BOB: {'home': P3, 'since': T0}}
    assert agent.wanted_homes(config, answer, now_shown, parks) == {ALICE: P2, BOB: P3, CAROL: P3, DAVE: P1}


# --- state --------------------------------------------------------------------------------

def test_state_round_trips_and_a_bad_state_file_is_no_state(tmp_path):
    config = configure(tmp_path)
    assert agent.load_state(config) == ({}, None)
    agent.save_state(config, {ALICE: {'home': P2, 'since': T0}}, T0 + 11)
    assert agent.load_state(config) == ({ALICE: {'home': P2, 'since': T0}}, T0 + 11)
    assert state(config) == {'parks': {ALICE: {'home': P2, 'since': T0}}, 'flush_at': T0 + 11}
    assert os.listdir(os.path.dirname(config['state'])) == ['state.json']
    write(config['state'], ['{not json'])
    assert agent.load_state(config) == ({}, None)


# --- answers ------------------------------------------------------------------------------

def test_answers_is_whether_the_old_home_accepts_a_connection():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        assert REAL_ANSWERS('127.0.0.1', port=port, timeout=1.0) is True
    finally:
        listener.close()
    assert REAL_ANSWERS('127.0.0.1', port=port, timeout=1.0) is False
    assert REAL_ANSWERS('not an address', port=port, timeout=0.2) is False


# --- reconcile --------------------------------------------------------------------------

# alice (here) leaves for primary2, bob (primary2) arrives here, carol moves between two
# other primaries, dave stays here.
MOVES = {ALICE: P2, BOB: P1, CAROL: P2, DAVE: P1}


def prepare(tmp_path):
    """primary1 with the file Ansible's homes give, and an index for every user."""
    config = configure(tmp_path)
    base = base_of()
    write(config['base'], base)
    current = agent.render(config, base, derived(config))
    write(config['output'], current)
    for address in (ALICE, BOB, CAROL, DAVE):
        user = [u for u in config['users'] if u['address'] == address][0]
        index = os.path.join(config['index_root'], user['index'])
        os.makedirs(index)
        write(os.path.join(index, 'dovecot.index'), ['x'])
    return config, base, current


def index_exists(config, address):
    user = [u for u in config['users'] if u['address'] == address][0]
    return os.path.isdir(os.path.join(config['index_root'], user['index']))


class OldHomes(object):
    """agent.answers: the addresses in ``live`` accept connections; every probe is recorded."""

    def __init__(self):
        self.live = set()
        self.asked = []

    def __call__(self, address, port=143, timeout=1.0):
        self.asked.append(address)
        return address in self.live


@pytest.fixture(autouse=True)
def old_homes_down(monkeypatch):
    """The old home of an arriving user is down (it arrives at once) unless a test adds it to ``live``."""
    old_homes = OldHomes()
    monkeypatch.setattr(agent, 'answers', old_homes)
    return old_homes


@pytest.fixture
def calls(monkeypatch):
    recorded = []

    def fake_run(argv):
        recorded.append(list(argv))
        return 0, ''
    monkeypatch.setattr(agent, 'run', fake_run)
    return recorded


@pytest.fixture
def group(monkeypatch):
    asked = []

    def getgrnam(name):
        asked.append(name)
        return types.SimpleNamespace(gr_gid=4242)
    monkeypatch.setattr(agent, 'grp', types.SimpleNamespace(getgrnam=getgrnam))
    return asked


def report_of(homes, arrived=(), left=(), held=(), changed=True):
    return {'changed': changed, 'homes': dict(CONFIG_HOMES, **homes), 'arrived': list(arrived),
            'left': list(left), 'held': list(held)}


def test_reconcile_first_write_parks_nobody_and_flushes_nothing(tmp_path, calls, group, old_homes_down):
    config = configure(tmp_path)
    base = base_of()
    write(config['base'], base)
    for index in ('example.com/alice', 'example.org/bob'):
        os.makedirs(os.path.join(config['index_root'], index))
    old_homes_down.live.update(config['addresses'].values())  # even with every old home up
    report = agent.reconcile(config, MOVES, now=T0)
    assert report == report_of(MOVES)
    assert read(config['output']) == text(agent.render(config, base, MOVES))
    assert config['parked'] not in read(config['output'])
    assert index_exists(config, ALICE) and index_exists(config, BOB)
    assert calls == [] and old_homes_down.asked == []
    assert agent.load_state(config) == ({}, None)


def test_a_user_leaving_is_parked_kicked_once_parked_then_proxied(tmp_path, calls, group, old_homes_down,
                                                                   monkeypatch):
    config, base, _current = prepare(tmp_path)
    parked = text(agent.render(config, base, dict(CONFIG_HOMES, **{ALICE: agent.PARKED})))
    seen_at_kick = []
    recording_run = agent.run

    def run(argv):
        if argv[:2] == ['doveadm', 'kick']:
            # sessions end only once the file refuses the user here
            seen_at_kick.append(read(config['output']))
        return recording_run(argv)
    monkeypatch.setattr(agent, 'run', run)
    report = agent.reconcile(config, {ALICE: P2}, now=T0)
    assert report == report_of({ALICE: P2}, left=[ALICE], held=[ALICE])
    assert output_line(config, ALICE) == line_of(base, ALICE) + config['parked']
    assert read(config['output']) == parked
    assert calls == [['doveadm', 'kick', ALICE], ['postqueue', '-f']]
    assert seen_at_kick == [parked]
    assert state(config) == {'parks': {ALICE: {'home': P2, 'since': T0}}, 'flush_at': T0 + 2 * HOLD + 1}
    assert old_homes_down.asked == []  # leaving: nothing to probe
    assert all(index_exists(config, a) for a in (ALICE, BOB, CAROL, DAVE))
    info = os.stat(config['output'])
    assert stat.S_IMODE(info.st_mode) == 0o640 and info.st_gid == 4242 and info.st_uid == 0
    assert group == ['dovecot']
    assert not [name for name in os.listdir(str(tmp_path)) if name.startswith('.cluster-users.')]
    assert os.listdir(os.path.dirname(config['state'])) == ['state.json']
    # during the hold (DNS silent now: the park remembers where alice goes)
    del calls[:]
    during = agent.reconcile(config, {}, now=T0 + HOLD - 0.5)
    assert during == report_of({ALICE: P2}, held=[ALICE], changed=False)
    assert read(config['output']) == parked and calls == []
    # the hold is over: proxied to her new home, not kicked again
    after = agent.reconcile(config, {ALICE: P2}, now=T0 + HOLD)
    assert after == report_of({ALICE: P2})
    assert output_line(config, ALICE) == line_of(base, ALICE) + config['homes'][P2]
    assert read(config['output']) == text(agent.render(config, base, dict(CONFIG_HOMES, **{ALICE: P2})))
    assert calls == [['postqueue', '-f']]
    assert state(config)['parks'] == {}
    assert index_exists(config, ALICE)


def test_an_arrival_from_a_live_home_is_parked_then_served_here(tmp_path, calls, group, old_homes_down,
                                                                 monkeypatch):
    config, base, _current = prepare(tmp_path)
    old_homes_down.live.add(config['addresses'][P2])
    report = agent.reconcile(config, {BOB: P1}, now=T0)
    assert report == report_of({BOB: P1}, held=[BOB])
    assert old_homes_down.asked == ['192.0.2.12']
    assert output_line(config, BOB) == line_of(base, BOB) + config['parked']
    assert index_exists(config, BOB)
    assert calls == [['postqueue', '-f']]  # nobody to kick: bob was not served here
    assert state(config)['parks'] == {BOB: {'home': P1, 'since': T0}}
    del calls[:]
    during = agent.reconcile(config, {BOB: P1}, now=T0 + HOLD - 0.5)
    assert during == report_of({BOB: P1}, held=[BOB], changed=False)
    assert index_exists(config, BOB) and calls == []
    # the hold is over: the index goes before the file serves bob here
    index_at_write = []
    real_write = agent.write_atomic

    def write_atomic(path, lines, group='dovecot'):
        index_at_write.append(index_exists(config, BOB))
        return real_write(path, lines, group)
    monkeypatch.setattr(agent, 'write_atomic', write_atomic)
    after = agent.reconcile(config, {BOB: P1}, now=T0 + HOLD)
    assert after == report_of({BOB: P1}, arrived=[BOB])
    assert output_line(config, BOB) == line_of(base, BOB)
    assert not index_exists(config, BOB) and index_at_write == [False]
    assert all(index_exists(config, a) for a in (ALICE, CAROL, DAVE))
    assert calls == [['postqueue', '-f']]
    assert old_homes_down.asked == ['192.0.2.12']  # probed once, when the move was seen
    assert state(config)['parks'] == {}


def test_an_arrival_from_a_dead_home_is_served_at_once(tmp_path, calls, group, old_homes_down):
    config, base, _current = prepare(tmp_path)
    report = agent.reconcile(config, {BOB: P1}, now=T0)
    assert report == report_of({BOB: P1}, arrived=[BOB])
    assert old_homes_down.asked == [config['addresses'][P2]] == ['192.0.2.12']
    assert output_line(config, BOB) == line_of(base, BOB)
    assert not index_exists(config, BOB)
    assert all(index_exists(config, a) for a in (ALICE, CAROL, DAVE))
    assert calls == [['postqueue', '-f']]
    assert agent.load_state(config) == ({}, T0 + 2 * HOLD + 1)
    # the same answer again, no park: nothing to do
    del calls[:]
    again = agent.reconcile(config, {BOB: P1}, now=T0 + 1)
    assert again == report_of({BOB: P1}, changed=False) and calls == []


@pytest.mark.parametrize('old_home_up', [False, True])
def test_a_move_between_two_other_primaries_switches_directly(tmp_path, calls, group, old_homes_down,
                                                               old_home_up):
    config, base, _current = prepare(tmp_path)
    if old_home_up:
        old_homes_down.live.update(config['addresses'].values())
    report = agent.reconcile(config, {CAROL: P2}, now=T0)
    assert report == report_of({CAROL: P2})  # up or down, carol's old home is not asked to hand over here
    assert output_line(config, CAROL) == line_of(base, CAROL) + config['homes'][P2]
    assert calls == [['postqueue', '-f']]
    assert all(index_exists(config, a) for a in (ALICE, BOB, CAROL, DAVE))
    assert agent.load_state(config)[0] == {}


def test_reconcile_hands_over_every_kind_of_move_at_once(tmp_path, calls, group):
    config, base, _current = prepare(tmp_path)
    report = agent.reconcile(config, MOVES, now=T0)
    assert report == report_of(MOVES, arrived=[BOB], left=[ALICE], held=[ALICE])
    assert read(config['output']) == text(agent.render(config, base, dict(MOVES, **{ALICE: agent.PARKED})))
    assert calls == [['doveadm', 'kick', ALICE], ['postqueue', '-f']]
    assert not index_exists(config, BOB)
    assert all(index_exists(config, a) for a in (ALICE, CAROL, DAVE))
    del calls[:]
    during = agent.reconcile(config, MOVES, now=T0 + 1)
    assert during == report_of(MOVES, held=[ALICE], changed=False) and calls == []
    after = agent.reconcile(config, MOVES, now=T0 + HOLD)
    assert after == report_of(MOVES)
    assert read(config['output']) == text(agent.render(config, base, MOVES))
    assert calls == [['postqueue', '-f']]


def test_a_park_whose_target_changes_during_the_hold_is_held_again(tmp_path, calls, group):
    config, base, _current = prepare(tmp_path)
    agent.reconcile(config, {ALICE: P2}, now=T0)
    del calls[:]
    moved_on = agent.reconcile(config, {ALICE: P3}, now=T0 + 3)
    assert moved_on == report_of({ALICE: P3}, held=[ALICE], changed=False)
    assert state(config)['parks'] == {ALICE: {'home': P3, 'since': T0 + 3}}
    # the first hold would be over by now: still parked, and not kicked again
    still = agent.reconcile(config, {ALICE: P3}, now=T0 + HOLD + 1)
    assert still == report_of({ALICE: P3}, held=[ALICE], changed=False)
    assert output_line(config, ALICE) == line_of(base, ALICE) + config['parked']
    assert calls == []
    after = agent.reconcile(config, {ALICE: P3}, now=T0 + 3 + HOLD)
    assert after == report_of({ALICE: P3})
    assert output_line(config, ALICE) == line_of(base, ALICE) + config['homes'][P3]
    assert calls == [['postqueue', '-f']]


def test_a_line_found_parked_without_state_is_parked_again_from_now(tmp_path, calls, group):
    config, base, _current = prepare(tmp_path)
    agent.reconcile(config, {ALICE: P2}, now=T0)
    os.remove(config['state'])
    del calls[:]
    again = agent.reconcile(config, {ALICE: P2}, now=T0 + 10)
    assert again == report_of({ALICE: P2}, held=[ALICE], changed=False)
    assert output_line(config, ALICE) == line_of(base, ALICE) + config['parked']
    assert state(config)['parks'] == {ALICE: {'home': P2, 'since': T0 + 10}}
    assert calls == []
    still = agent.reconcile(config, {ALICE: P2}, now=T0 + 10 + HOLD - 0.5)
    assert still['held'] == [ALICE] and output_line(config, ALICE) == line_of(base, ALICE) + config['parked']
    after = agent.reconcile(config, {ALICE: P2}, now=T0 + 10 + HOLD)
    assert after == report_of({ALICE: P2})
    assert output_line(config, ALICE) == line_of(base, ALICE) + config['homes'][P2]
    assert calls == [['postqueue', '-f']]


def test_a_line_found_parked_without_state_arrives_only_after_the_hold(tmp_path, calls, group, old_homes_down):
    config, base, _current = prepare(tmp_path)
    write(config['output'], agent.render(config, base, dict(CONFIG_HOMES, **{BOB: agent.PARKED})))
    report = agent.reconcile(config, {BOB: P1}, now=T0)
    assert report == report_of({BOB: P1}, held=[BOB], changed=False)
    assert index_exists(config, BOB) and calls == [] and old_homes_down.asked == []
    after = agent.reconcile(config, {BOB: P1}, now=T0 + HOLD)
    assert after == report_of({BOB: P1}, arrived=[BOB])
    assert output_line(config, BOB) == line_of(base, BOB)
    assert not index_exists(config, BOB)


def test_postqueue_flushes_at_a_change_and_once_more_after_twice_the_hold(tmp_path, calls, group):
    config, _base, _current = prepare(tmp_path)
    agent.reconcile(config, {CAROL: P2}, now=T0)
    assert calls == [['postqueue', '-f']]
    assert state(config) == {'parks': {}, 'flush_at': T0 + 2 * HOLD + 1}
    del calls[:]
    same = agent.reconcile(config, {CAROL: P2}, now=T0 + 2 * HOLD + 0.5)
    assert same == report_of({CAROL: P2}, changed=False) and calls == []
    flush = agent.reconcile(config, {CAROL: P2}, now=T0 + 2 * HOLD + 1)
    assert flush == report_of({CAROL: P2}, changed=False)
    assert calls == [['postqueue', '-f']]
    assert state(config) == {'parks': {}, 'flush_at': None}
    del calls[:]
    for later in (T0 + 2 * HOLD + 2, T0 + 1000):
        agent.reconcile(config, {CAROL: P2}, now=later)
    assert calls == []


def test_reconcile_check_reports_and_changes_nothing(tmp_path, calls, group):
    config, _base, _current = prepare(tmp_path)
    before = read(config['output'])
    report = agent.reconcile(config, MOVES, check=True, now=T0)
    assert report == report_of(MOVES, arrived=[BOB], left=[ALICE], held=[ALICE])
    assert read(config['output']) == before and not os.path.exists(config['state'])
    assert all(index_exists(config, a) for a in (ALICE, BOB, CAROL, DAVE))
    assert calls == [] and group == []
    # with a park and a flush due in the state file, both over
    agent.reconcile(config, {ALICE: P2}, now=T0)
    before, saved = read(config['output']), read(config['state'])
    del calls[:]
    del group[:]
    report = agent.reconcile(config, MOVES, check=True, now=T0 + 100)
    assert report == report_of(MOVES, arrived=[BOB])
    assert read(config['output']) == before and read(config['state']) == saved
    assert all(index_exists(config, a) for a in (ALICE, BOB, CAROL, DAVE))
    assert calls == [] and group == []


def test_reconcile_without_a_base_file_leaves_the_map_alone(tmp_path, calls, group, old_homes_down):
    config, _base, current = prepare(tmp_path)
    os.remove(config['base'])
    report = agent.reconcile(config, MOVES, now=T0)
    assert report == {'changed': False, 'homes': {}, 'arrived': [], 'left': [], 'held': [], 'error': 'no base file'}
    assert read(config['output']) == text(current) and calls == [] and group == []
    assert all(index_exists(config, a) for a in (ALICE, BOB, CAROL, DAVE))
    assert not os.path.exists(config['state']) and old_homes_down.asked == []


# --- lookup ---------------------------------------------------------------------------------

SOA = 'ns1.example.com. hostmaster.example.com. %d 3600 600 86400 60'


class FakeAsk(object):
    def __init__(self, answers, failing=()):
        self.answers = answers  # server -> {(name, type): [texts]}
        self.failing = set(failing)
        self.asked = []

    def __call__(self, server, name, rtype, timeout):
        self.asked.append((server, name, rtype))
        if server in self.failing:
            raise agent.Unanswered('%s %s at %s: timed out' % (name, rtype, server))
        return list(self.answers.get(server, {}).get((name, rtype), []))


def answers(serial, cnames):
    data = {('example.com', 'SOA'): [SOA % serial], ('example.org', 'SOA'): [SOA % (serial + 1)]}
    for pop, target in cnames.items():
        data[(pop, 'CNAME')] = [target]
    return data


def test_lookup_follows_the_first_server_that_answers(tmp_path, monkeypatch):
    config = configure(tmp_path)
    assert config['dns_servers'] == ['192.0.2.1', '192.0.2.2'] and config['zones'] == ['example.com', 'example.org']
    cnames = {'alice.pop.example.com': 'PRIMARY2.example.com.', 'bob.pop.example.org': 'primary1.example.com.',
              'carol.pop.example.com': 'primary3.example.com.'}  # dave: no CNAME (yet)
    fake = FakeAsk({'192.0.2.2': answers(7, cnames)}, failing=['192.0.2.1'])
    monkeypatch.setattr(agent, 'ask', fake)
    serials, homes = agent.lookup(config, None)
    assert serials == {'example.com': '7', 'example.org': '8'}
    assert homes == {ALICE: P2, BOB: P1, CAROL: P3}
    assert fake.asked[0] == ('192.0.2.1', 'example.com', 'SOA')
    assert [a for a in fake.asked if a[0] == '192.0.2.1'] == [('192.0.2.1', 'example.com', 'SOA')]
    # the same serials: the CNAMEs are not asked again, and nothing changed
    del fake.asked[:]
    assert agent.lookup(config, serials) == (serials, None)
    assert not [a for a in fake.asked if a[2] == 'CNAME']
    # a new serial: asked again
    fake.answers['192.0.2.2'] = answers(9, dict(cnames, **{'dave.pop.example.com': 'primary2.example.com.'}))
    serials2, homes2 = agent.lookup(config, serials)
    assert serials2 == {'example.com': '9', 'example.org': '10'} and homes2[DAVE] == P2


def test_lookup_without_any_answer_keeps_what_it_had(tmp_path, monkeypatch):
    config = configure(tmp_path)
    monkeypatch.setattr(agent, 'ask', FakeAsk({}, failing=config['dns_servers']))
    assert agent.lookup(config, {'example.com': '3'}) == ({'example.com': '3'}, None)
    # a server without the zone (no SOA) is no answer either
    monkeypatch.setattr(agent, 'ask', FakeAsk({'192.0.2.1': {}, '192.0.2.2': {}}))
    assert agent.lookup(config, None) == (None, None)
    # a CNAME question that fails half-way: the next server is asked from the start
    fake = FakeAsk({'192.0.2.1': answers(4, {}), '192.0.2.2': answers(5, {'alice.pop.example.com': P3 + '.'})})

    def flaky(server, name, rtype, timeout):
        if server == '192.0.2.1' and rtype == 'CNAME':
            raise agent.Unanswered('refused')
        return fake(server, name, rtype, timeout)
    monkeypatch.setattr(agent, 'ask', flaky)
    assert agent.lookup(config, None) == ({'example.com': '5', 'example.org': '6'}, {ALICE: P3})


# --- ask, against a fake authoritative server -----------------------------------------------

def test_ask_takes_authoritative_answers_only(monkeypatch):
    fake_dns = pytest.importorskip('ansible_collections.clustered.mail.tests.unit.plugins.modules.fake_dns')
    import dns.query
    servers = fake_dns.FakeServers({
        '192.0.2.1': {('alice.pop.example.com.', 'CNAME'): (60, ['primary2.example.com.'])},
        '192.0.2.2': {('alice.pop.example.com.', 'CNAME'): (60, ['primary3.example.com.'])},
    })
    servers.not_authoritative.add('192.0.2.2')
    servers.refuse.add('192.0.2.3')
    servers.timeout.add('192.0.2.4')
    monkeypatch.setattr(dns.query, 'udp', servers)
    monkeypatch.setattr(dns.query, 'tcp', servers)
    assert agent.ask('192.0.2.1', 'alice.pop.example.com', 'CNAME', 1) == ['primary2.example.com.']
    assert agent.ask('192.0.2.1', 'bob.pop.example.com', 'CNAME', 1) == []
    # recursion is not asked for: the agent talks to the authoritative servers
    assert servers.queries[0][3] is False
    for server, why in (('192.0.2.2', 'not authoritative'), ('192.0.2.3', 'REFUSED'), ('192.0.2.4', 'alice')):
        with pytest.raises(agent.Unanswered, match=why):
            agent.ask(server, 'alice.pop.example.com', 'CNAME', 1)


def test_a_park_towards_a_host_no_longer_a_primary_is_dropped(tmp_path):
    config = configure(tmp_path)
    parks = {BOB: {'home': 'primary9.example.com', 'since': T0}}
    # no DNS answer: the known home is the file's, never the vanished target
    assert agent.wanted_homes(config, {}, {BOB: P2}, parks)[BOB] == P2


def test_a_clock_stepped_back_never_stretches_a_hold(tmp_path, calls, group):
    config, _base, _current = prepare(tmp_path)
    agent.reconcile(config, {ALICE: P2}, now=T0)
    # the clock steps back an hour: the park counts from the new now, at most HOLD seconds
    back = T0 - 3600
    assert agent.reconcile(config, {ALICE: P2}, now=back)['held'] == [ALICE]
    assert agent.reconcile(config, {ALICE: P2}, now=back + HOLD)['held'] == []


def test_an_old_home_without_an_address_is_taken_for_dead():
    assert REAL_ANSWERS(None) is False and REAL_ANSWERS('') is False
