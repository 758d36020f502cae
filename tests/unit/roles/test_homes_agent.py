# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""roles/mail_primary/files/clustered-mail-homes: the agent that follows the pop CNAMEs.

It is a standalone script (no .py suffix, no Ansible imports): loaded from its
path. Its configuration is built here the way roles/mail_primary/tasks/homes.yml
builds it (mail_homes_agent + base/output/index_root), and its base file is the
collection's ``base_file``, so these tests also hold the two ends together.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.machinery
import importlib.util
import os
import stat
import types

import pytest

from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster
from ansible_collections.clustered.mail.plugins.module_utils._mail import homes_agent, mail_maps
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
                   'index_root': str(tmp_path / 'index'), 'interval': 2, 'timeout': 2})
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


# --- fields_of / render ------------------------------------------------------------

def test_fields_of_is_everything_after_the_seventh_colon():
    assert agent.fields_of('a@example.com:{X}h:5000:5000::/srv/mail/example.com/a::') == ''
    assert agent.fields_of('a@example.com:{X}h:5000:5000::/srv/mail/example.com/a::proxy=y host=p2 hostip=2001:db8::12'
                           ' starttls=yes') == 'proxy=y host=p2 hostip=2001:db8::12 starttls=yes'
    assert agent.fields_of('short:line') == ''


@pytest.mark.parametrize('series', ['2.3', '2.4'])
@pytest.mark.parametrize('host', ['primary1', 'primary2', 'primary3'])
def test_render_of_the_derived_homes_is_the_collections_passwd_file(tmp_path, host, series):
    mdl = model()
    config = configure(tmp_path, host, series, mdl)
    lines, placed = agent.render(config, base_of(host, series, mdl), {}, None)
    assert lines == mail_maps(mdl, host=host, dovecot_series=series, health_password=PASSWORD)['passwd_file']
    assert placed == CONFIG_HOMES


def test_render_dns_answer_wins_over_the_file_and_the_config(tmp_path):
    config = configure(tmp_path)
    base = base_of()
    current, _placed = agent.render(config, base, {ALICE: P3, BOB: P3}, None)
    lines, placed = agent.render(config, base, {ALICE: P2}, current)
    assert placed[ALICE] == P2
    assert line_of(lines, ALICE) == line_of(base, ALICE) + config['homes'][P2]
    # without an answer for bob, the current file says where he lives
    assert placed[BOB] == P3 and line_of(lines, BOB) == line_of(base, BOB) + config['homes'][P3]
    # the others, as derived
    assert (placed[CAROL], placed[DAVE]) == (P3, P1)


def test_render_without_answer_keeps_the_file_else_the_config(tmp_path):
    config = configure(tmp_path)
    base = base_of()
    current, _placed = agent.render(config, base, {ALICE: P2, CAROL: P1}, None)
    assert agent.render(config, base, {}, current) == (current, dict(CONFIG_HOMES, **{ALICE: P2, CAROL: P1}))
    lines, placed = agent.render(config, base, {}, None)
    assert placed == CONFIG_HOMES
    assert line_of(lines, ALICE) == line_of(base, ALICE)  # at home here: no proxy field
    assert line_of(lines, BOB) == line_of(base, BOB) + config['homes'][P2]


def test_render_keeps_the_current_home_when_dns_names_no_primary(tmp_path):
    config = configure(tmp_path)
    base = base_of()
    current, _placed = agent.render(config, base, {ALICE: P3}, None)
    lines, placed = agent.render(config, base, {ALICE: 'rogue.example.net'}, current)
    assert placed[ALICE] == P3 and line_of(lines, ALICE) == line_of(current, ALICE)
    # without a file, the derived home
    lines, placed = agent.render(config, base, {ALICE: 'rogue.example.net', BOB: 'ns1.example.com'}, None)
    assert (placed[ALICE], placed[BOB]) == (P1, P2)
    assert not [line for line in lines if 'rogue' in line or 'ns1' in line]


def test_render_passes_lines_of_unknown_users_through(tmp_path):
    config = configure(tmp_path)
    base = ['# a comment: kept'] + base_of()
    health = [line for line in base if line.startswith('clustered-health@primary1.example.com:')]
    assert len(health) == 1
    lines, placed = agent.render(config, base, {ALICE: P2, BOB: P3, CAROL: P2, DAVE: P3}, None)
    assert lines[0] == '# a comment: kept' and lines[-1] == health[0] == base[-1]
    assert len(lines) == len(base)
    assert sorted(placed) == sorted(CONFIG_HOMES)  # the health account is not placed
    # a health line in the current file does not confuse the next render
    again, _placed = agent.render(config, base, {}, lines)
    assert again == lines


# --- reconcile --------------------------------------------------------------------------

# alice (here) leaves for primary2, bob (primary2) arrives here, carol moves between two
# other primaries, dave stays here.
MOVES = {ALICE: P2, BOB: P1, CAROL: P2, DAVE: P1}


def prepare(tmp_path):
    config = configure(tmp_path)
    base = base_of()
    write(config['base'], base)
    current, _placed = agent.render(config, base, {}, None)
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


@pytest.fixture(autouse=True)
def old_homes_down(monkeypatch):
    """The old home of an arriving user is down (it arrives at once) unless a test makes it answer."""
    asked = []

    def answers(address, port=143, timeout=1.0):
        asked.append(address)
        return False
    monkeypatch.setattr(agent, 'answers', answers)
    return asked


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


def test_reconcile_check_reports_and_changes_nothing(tmp_path, calls, group):
    config, _base, _current = prepare(tmp_path)
    before = read(config['output'])
    report = agent.reconcile(config, MOVES, check=True)
    assert report == {'changed': True, 'homes': MOVES, 'arrived': [BOB], 'left': [ALICE], 'held': []}
    assert read(config['output']) == before
    assert all(index_exists(config, a) for a in (ALICE, BOB, CAROL, DAVE))
    assert calls == [] and group == []


def test_reconcile_writes_clears_the_arrivals_index_and_kicks_who_left(tmp_path, calls, group, monkeypatch):
    config, base, current = prepare(tmp_path)
    expected, _placed = agent.render(config, base, MOVES, current)
    seen_at_kick = []
    real_run = agent.run

    def run(argv):
        if argv[:2] == ['doveadm', 'kick']:
            # sessions end only once the file sends the user to the new home
            seen_at_kick.append(read(config['output']))
        return real_run(argv)
    monkeypatch.setattr(agent, 'run', run)
    report = agent.reconcile(config, MOVES)
    assert report == {'changed': True, 'homes': MOVES, 'arrived': [BOB], 'left': [ALICE], 'held': []}
    assert not index_exists(config, BOB)
    assert index_exists(config, ALICE) and index_exists(config, CAROL) and index_exists(config, DAVE)
    assert read(config['output']) == ''.join(line + '\n' for line in expected)
    assert calls == [['doveadm', 'kick', ALICE], ['postqueue', '-f']]
    assert seen_at_kick == [''.join(line + '\n' for line in expected)]
    info = os.stat(config['output'])
    assert stat.S_IMODE(info.st_mode) == 0o640 and info.st_gid == 4242 and info.st_uid == 0
    assert group == ['dovecot']
    assert not [name for name in os.listdir(str(tmp_path)) if name.startswith('.cluster-users.')]
    # the same answer again: nothing to do
    del calls[:]
    again = agent.reconcile(config, MOVES)
    assert again == {'changed': False, 'homes': MOVES, 'arrived': [], 'left': [], 'held': []}
    assert calls == []


def test_reconcile_first_write_has_no_arrivals_and_flushes_nothing(tmp_path, calls, group):
    config = configure(tmp_path)
    base = base_of()
    write(config['base'], base)
    os.makedirs(os.path.join(config['index_root'], 'example.com', 'alice'))
    report = agent.reconcile(config, {})
    assert report == {'changed': True, 'homes': CONFIG_HOMES, 'arrived': [], 'left': [], 'held': []}
    assert read(config['output']) == ''.join(line + '\n' for line in agent.render(config, base, {}, None)[0])
    assert index_exists(config, ALICE)
    assert calls == []


def test_reconcile_move_between_two_other_primaries_only_rewrites(tmp_path, calls, group):
    config, _base, _current = prepare(tmp_path)
    report = agent.reconcile(config, {CAROL: P2})
    assert report['changed'] is True and report['arrived'] == [] and report['left'] == []
    assert calls == [['postqueue', '-f']]
    assert all(index_exists(config, a) for a in (ALICE, BOB, CAROL, DAVE))


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


def test_reconcile_without_a_base_file_leaves_the_map_alone(tmp_path, calls, group):
    config, _base, current = prepare(tmp_path)
    os.remove(config['base'])
    report = agent.reconcile(config, MOVES)
    assert report['changed'] is False and report['error'] == 'no base file'
    assert read(config['output']) == ''.join(line + '\n' for line in current) and calls == [] and group == []
    assert all(index_exists(config, a) for a in (ALICE, BOB, CAROL, DAVE))



def test_an_arrival_from_a_live_home_is_held_then_served_here(tmp_path, calls, group, monkeypatch):
    config, base, current = prepare(tmp_path)
    config['hold'] = 5
    monkeypatch.setattr(agent, 'answers', lambda address, port=143, timeout=1.0: address == '192.0.2.12')
    holds = agent.Holds()
    first = agent.reconcile(config, MOVES, holds=holds, now=1000.0)
    # bob (from primary2, which answers) is held: still proxied there, index kept; alice leaves at once
    assert first['held'] == [BOB] and first['arrived'] == [] and first['left'] == [ALICE]
    assert agent.fields_of(line_of(read(config['output']).splitlines(), BOB)) == config['homes'][P2]
    assert index_exists(config, BOB)
    assert calls == [['doveadm', 'kick', ALICE], ['postqueue', '-f']]
    del calls[:]
    during = agent.reconcile(config, MOVES, holds=holds, now=1004.0)
    assert during['changed'] is False and during['held'] == [BOB] and calls == []
    after = agent.reconcile(config, MOVES, holds=holds, now=1005.5)
    assert after['held'] == [] and after['arrived'] == [BOB]
    assert agent.fields_of(line_of(read(config['output']).splitlines(), BOB)) == ''
    assert not index_exists(config, BOB)
    assert calls == [['postqueue', '-f']]
    del calls[:]
    # deliveries refused during the hold are retried once it is over
    agent.reconcile(config, MOVES, holds=holds, now=1012.0)
    assert calls == [['postqueue', '-f']]


def test_an_arrival_from_a_dead_home_is_not_held(tmp_path, calls, group, old_homes_down):
    config, _base, _current = prepare(tmp_path)
    config['hold'] = 5
    report = agent.reconcile(config, MOVES, holds=agent.Holds(), now=1000.0)
    assert report['held'] == [] and report['arrived'] == [BOB]
    assert old_homes_down == ['192.0.2.12']
