# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure parts of `make bench` (bench/run.py and its play clock, bench/callback_plugins).

bench/run.py is a script, not a package: loaded from its path. Nothing here
starts a container or times anything; the figures are made up.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os
import sys
import types
import warnings

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, 'bench')


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# run.py imports its sibling accept.py, as `python bench/run.py` finds it.
sys.path.insert(0, BENCH)
run = load('bench_run', os.path.join(BENCH, 'run.py'))
play_clock = load('bench_play_times', os.path.join(BENCH, 'callback_plugins', 'bench_play_times.py'))

TIMES = {'plays': [{'name': 'Check the inventory', 'start': 100.0},
                   {'name': 'Authoritative DNS', 'start': 110.0},
                   {'name': 'Verify the managed hosts', 'start': 150.0},
                   {'name': 'Verify DNS from the outside', 'start': 155.0}],
         'end': 170.0}
VERIFY = {'Verify the managed hosts', 'Verify DNS from the outside'}


def test_play_seconds_end_each_play_at_the_next_start_and_the_last_at_the_end():
    assert run.play_seconds(TIMES) == [('Check the inventory', 10.0), ('Authoritative DNS', 40.0),
                                       ('Verify the managed hosts', 5.0), ('Verify DNS from the outside', 15.0)]


def test_split_site_gives_verify_from_its_first_play_and_the_rest_of_the_wall_time_to_the_roles():
    roles, verify = run.split_site(TIMES, VERIFY, 75.0)
    assert verify == pytest.approx(20.0)
    assert roles == pytest.approx(55.0)   # start-up before the first play counts to the roles


def test_split_site_without_a_verify_play_leaves_verify_unknown():
    assert run.split_site({'plays': TIMES['plays'][:2], 'end': 150.0}, VERIFY, 60.0) == (60.0, None)


def test_verify_play_names_are_verify_yml_s_and_none_is_a_site_play():
    names = run.verify_play_names()
    with open(os.path.join(ROOT, 'playbooks', 'site.yml')) as f:
        site = {p['name'].strip() for p in yaml.safe_load(f) if 'hosts' in p}
    assert 'Verify the managed hosts' in names
    assert not names & site   # else the roles/verify boundary would fall inside the roles


def test_cpu_seconds_adds_user_and_system_time():
    before = types.SimpleNamespace(ru_utime=1.5, ru_stime=0.5)
    after = types.SimpleNamespace(ru_utime=11.5, ru_stime=2.5)
    assert run.cpu_seconds(before, after) == pytest.approx(12.0)


def converge(primaries, lane, cold, rerun, cold_cpu, rerun_cpu):
    """A converge record as run.converge makes it; verify is a fifth of each site time."""
    hosts = len(run.nodes(primaries))
    record = {'primaries': primaries, 'hosts': hosts, 'settings': 'tuned', 'lane': lane, 'rerun_changed': 0}
    for key, wall, cpu in (('cold', cold, cold_cpu), ('rerun', rerun, rerun_cpu)):
        record.update({'%s_s' % key: wall, '%s_roles_s' % key: wall * 0.8, '%s_verify_s' % key: wall * 0.2,
                       '%s_cpu_s' % key: cpu, '%s_cpu_per_host_s' % key: round(cpu / hosts, 2),
                       '%s_tasks' % key: [('a task', 1.0)]})
    return record


BASE = [converge(2, 'docker', 300.0, 120.0, 100.0, 50.0), converge(2, 'ssh', 200.0, 40.0, 80.0, 20.0)]
SCALE = [converge(4, 'docker', 360.0, 150.0, 140.0, 70.0), converge(4, 'ssh', 240.0, 50.0, 126.0, 29.4)]


def test_lane_summary_gives_rerun_over_cold_for_the_roles_and_the_whole_site():
    ssh = run.lane_summary(BASE, SCALE, 'ssh')
    assert ssh['cold_roles_s'] == 160.0 and ssh['cold_verify_s'] == 40.0
    assert ssh['ratio_rerun_cold_roles'] == 0.2
    assert ssh['ratio_rerun_cold_site'] == 0.2
    assert ssh['ratio_rerun_cold_cpu'] == 0.25   # 20 CPU s / 80


def test_lane_summary_gives_cpu_per_host_and_its_ratio_between_lab_sizes():
    ssh = run.lane_summary(BASE, SCALE, 'ssh')
    assert (ssh['cold_cpu_per_host_s'], ssh['scale_cold_cpu_per_host_s']) == (16.0, 18.0)   # 80 s / 5 hosts, 126 s / 7
    assert ssh['ratio_cpu_per_host_scale'] == 1.12
    assert ssh['ratio_cpu_per_host_scale_rerun'] == 1.05   # 4.2 / 4.0
    assert ssh['ratio_scale'] == 1.2


def test_lane_summary_keeps_the_lanes_apart():
    docker = run.lane_summary(BASE, SCALE, 'docker')
    assert (docker['runs'], docker['cold_s'], docker['ratio_rerun_cold_site']) == (1, 300.0, 0.4)


def test_medians_leave_out_missing_figures():
    assert run.median([{'x': 1.0}, {'x': None}, {'x': 3.0}], 'x') == 2.0
    assert run.median([{'x': None}], 'x') is None


def test_summarise_keeps_the_earlier_figures_from_docker_exec_and_adds_the_lanes_and_goals():
    s = run.summarise({'converge': {'base': BASE, 'scale': SCALE, 'settings': []}})
    assert (s['cold_s'], s['rerun_s'], s['ratio_rerun_cold'], s['ratio_scale']) == (300.0, 120.0, 0.4, 1.2)
    assert set(s['lanes']) == {'docker', 'ssh'}
    assert s['goals'] == {'rerun_cold_roles': 0.25, 'rerun_cold_site': 0.35, 'cpu_per_host_scale': 1.15, 'filter_on_off': 0.7}


def test_the_lanes_table_shows_each_lane_and_the_goals():
    table = '\n'.join(run.lanes_table(run.summarise({'converge': {'base': BASE, 'scale': SCALE, 'settings': []}})['lanes']))
    assert '| measure | docker exec | SSH | goal |' in table
    assert '| ratio rerun / cold, roles only | 0.4 | 0.2 | <= 0.25 |' in table
    assert '200.0 s (160.0 + 40.0)' in table


def inventory_file(path):
    with open(path) as f:
        return yaml.safe_load(f)


@pytest.mark.parametrize('primaries', [2, 4])
def test_the_host_lists_say_nothing_of_how_hosts_are_reached(primaries):
    groups = inventory_file(os.path.join(BENCH, 'inventory', 'primaries-%d.yml' % primaries))['all']
    assert list(groups) == ['children']
    hosts = {name: hostvars for group in groups['children'].values() for name, hostvars in group['hosts'].items()}
    assert sorted(hosts) == sorted(node[0] for node in run.nodes(primaries))
    assert all(set(hostvars) == {'mail_cluster_addresses'} for hostvars in hosts.values())


@pytest.mark.parametrize('lane', ['docker', 'ssh'])
def test_a_lane_composes_how_each_listed_host_is_reached_and_lists_none(lane):
    args = run.inventory(2, lane)
    assert args[0::2] == ['-i', '-i'] and args[3].endswith(os.path.join('lanes', '%s.yml' % lane))
    reach = inventory_file(args[3])
    # Host vars composed per host: a group var template would be rendered with
    # the delegating host's names when verify delegates from localhost.
    assert reach['plugin'] == 'ansible.builtin.constructed' and reach['strict'] is True
    assert set(reach) == {'plugin', 'strict', 'compose'}   # no hosts: the host list has one source
    assert {'ansible_connection', 'ansible_host'} <= set(reach['compose'])


@pytest.mark.parametrize('lane, expected', [
    ('docker', {'ansible_connection': 'community.docker.docker', 'ansible_host': 'bench-mail3'}),
    ('ssh', {'ansible_connection': 'ansible.builtin.ssh', 'ansible_host': '172.30.70.33', 'ansible_user': 'root'}),
])
def test_a_lane_gives_each_host_its_own_literal_connection_vars(lane, expected):
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader

    with warnings.catch_warnings():   # once is enough; again only warns that it was
        warnings.simplefilter('ignore', UserWarning)
        init_plugin_loader()   # the auto inventory plugin finds constructed through it
    hosts = InventoryManager(loader=DataLoader(), sources=run.inventory(4, lane)[1::2])
    composed = hosts.get_host('mail3').get_vars()
    assert {key: composed.get(key) for key in expected} == expected


def test_the_ssh_lane_gets_the_bench_key_known_hosts_and_a_short_control_path():
    env = run.ansible_env('tuned', 'ssh', '/tmp/plays.json')
    assert env['ANSIBLE_PRIVATE_KEY_FILE'] == run.SSH_KEY
    assert 'StrictHostKeyChecking=accept-new' in env['ANSIBLE_SSH_COMMON_ARGS']
    assert run.KNOWN_HOSTS in env['ANSIBLE_SSH_COMMON_ARGS']
    assert env['ANSIBLE_SSH_CONTROL_PATH_DIR'].startswith(run.WORK)
    assert 'ANSIBLE_PRIVATE_KEY_FILE' not in run.ansible_env('tuned', 'docker', '/tmp/plays.json')


def test_the_play_clock_writes_each_play_and_the_end(tmp_path, monkeypatch):
    path = tmp_path / 'plays.json'
    monkeypatch.setenv('BENCH_PLAY_TIMES', str(path))
    clock = play_clock.CallbackModule()
    for name in ('Authoritative DNS ', 'Verify the managed hosts'):
        clock.v2_playbook_on_play_start(types.SimpleNamespace(get_name=lambda name=name: name))
    clock.v2_playbook_on_stats(None)
    times = json.loads(path.read_text())
    assert [p['name'] for p in times['plays']] == ['Authoritative DNS', 'Verify the managed hosts']
    assert times['plays'][0]['start'] <= times['plays'][1]['start'] <= times['end']


class _Unanswered(Exception):
    pass


def _asker(failures):
    calls = []

    def ask(*args):
        calls.append(args)
        if len(calls) <= failures:
            raise _Unanswered('no answer from %s within 3.0s' % args[0])
        return ['172.30.70.31']
    return ask, calls


def test_an_unanswered_dns_query_is_asked_again_and_counted():
    ask, calls = _asker(2)
    unanswered = []
    assert run.ask_again(ask, _Unanswered, 'mail.example.test.', unanswered) == ['172.30.70.31']
    assert len(calls) == 3 and len(unanswered) == 2


def test_a_dns_query_unanswered_every_time_still_fails_the_phase():
    ask, calls = _asker(99)
    unanswered = []
    with pytest.raises(_Unanswered):
        run.ask_again(ask, _Unanswered, 'mail.example.test.', unanswered)
    assert len(calls) == 3 and len(unanswered) == 3


def test_mail_lost_with_the_filter_on_or_off_fails_the_bench():
    ok = {'lost': 0, 'rejected': 0}
    assert run.losses({'filter': {'on': ok, 'off': ok, 'ratio_accepted': 0.8}}) == []
    found = run.losses({'filter': {'on': ok, 'off': {'lost': 2, 'rejected': 0}, 'ratio_accepted': 0.8}})
    assert len(found) == 1 and found[0].startswith('filter off: 2 accepted but not in the store')


def test_mail_lost_in_the_filter_saturated_burst_fails_the_bench():
    ok = {'lost': 0, 'rejected': 0}
    saturated = {'senders': 16, 'on': {'lost': 0, 'rejected': 3, 'rejections': ['x']}, 'off': ok}
    found = run.losses({'filter': {'on': ok, 'off': ok, 'saturated': saturated}})
    assert len(found) == 1 and found[0].startswith('filter on, 16 senders: 0 accepted but not in the store, 3 rejected')
