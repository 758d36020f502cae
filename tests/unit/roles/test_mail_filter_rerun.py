# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mail_filter and mail_filter_redis on a rerun: one read, then only the steps whose thing differs.

mail_filter_redis reads whether the host is a container, systemd's state of
Redis and of its firewall unit, and the firewall's files and the container
drop-in (owner, group, mode, sha256); mail_filter reads the postfix group, the
milter socket's directory and the configuration checker. The scripts run here
under bash on real files in a temporary directory (fake systemctl and
systemd-detect-virt); the roles' conditions are decided by Ansible's Templar on
what they print, with the lines the roles expect computed as the roles do.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os

import pytest

from ansible_collections.clustered.mail.tests.unit.roles.task_files import (ROOT, change_by_hand, make_entries, run_script, runs, systemctl, task,
                                                                         template)

FIREWALL = 'roles/mail_filter_redis/tasks/firewall.yml'
REDIS = 'roles/mail_filter_redis/tasks/redis.yml'
RSPAMD = 'roles/mail_filter/tasks/rspamd.yml'
NAMES = 'Name the files of the Redis firewall and of Redis\'s container drop-in, and how each must read back'
REDIS_READ = 'Ask systemd whether this host is a container, and how Redis, its firewall and their files are'
WRITE_FIREWALL = 'Write the Redis firewall rules (validated with nft -c) and the unit that loads them'
LOAD_FIREWALL = 'Load the Redis firewall now and at boot'
DROPIN = 'Let Redis start in a container (no user namespace)'
START_REDIS = 'Start and enable Redis'
MAIN = 'roles/mail_filter/tasks/main.yml'
RSPAMD_READ = ("Ask whether rspamd runs, and whether the postfix group, the milter socket's directory and the rspamd"
               " configuration checker are in place")
START_RSPAMD = 'Start and enable rspamd'
CHECKER = 'Install the rspamd configuration checker'
GROUP = "Create the postfix group, which may reach rspamd's milter socket"
MILTER_DIR = "Create the directory of rspamd's milter socket (rspamd and the postfix group only)"
def sha256(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


RUNNING = {'clustered-mail-redis-firewall': ('active', 'enabled'), 'redis-server': ('active', 'enabled')}


def entries(tmp_path):
    """The role's two sets of files, moved under tmp_path and owned by whoever runs the tests."""
    user, group = os.popen('id -un').read().strip(), os.popen('id -gn').read().strip()
    return {
        'firewall': [
            {'path': str(tmp_path / 'etc'), 'state': 'directory', 'owner': user, 'group': group, 'mode': '0755'},
            {'path': str(tmp_path / 'etc' / 'redis.nft'), 'content': 'table inet clustered_mail_redis {}\n',
             'owner': user, 'group': group, 'mode': '0644', 'validate': 'nft -c -f %s'},
        ],
        'container': [
            {'path': str(tmp_path / 'redis-server.service.d'), 'state': 'directory', 'owner': user, 'group': group,
             'mode': '0755'},
            {'path': str(tmp_path / 'redis-server.service.d' / 'c.conf'), 'content': '[Service]\nPrivateUsers=false\n',
             'owner': user, 'group': group, 'mode': '0644'},
        ],
    }



def expected(files):
    fact = task(FIREWALL, NAMES)[0]['ansible.builtin.set_fact']['__mail_filter_redis_expected']
    return template(FIREWALL, NAMES, fact, __mail_filter_redis_entries=files)


def redis_read(tmp_path, files, units=None, container=True):
    script = task(FIREWALL, REDIS_READ)[1]['__mail_filter_redis_state_script']
    paths = [entry['path'] for group in files.values() for entry in group]
    return run_script(tmp_path, script, ['clustered-mail-redis-firewall', 'redis-server', '--'] + paths, {
        'systemctl': systemctl(RUNNING if units is None else units),
        'systemd-detect-virt': 'exit %d\n' % (0 if container else 1),
    })


def redis_facts(files, lines, **extra):
    return dict({'__mail_filter_redis_files': files, '__mail_filter_redis_expected': expected(files),
                 '__mail_filter_redis_state': {'stdout_lines': lines}, 'mail_filter_redis_firewall': True,
                 '__mail_filter_redis_firewall_unit': {'changed': False},
                 '__mail_filter_redis_dropins': {'changed': False}}, **extra)


@pytest.fixture
def converged(tmp_path):
    files = entries(tmp_path)
    make_entries(files['firewall'] + files['container'])
    return files


def test_the_expected_lines_name_each_entry_as_the_read_prints_it(tmp_path, converged):
    lines = redis_read(tmp_path, converged)
    assert lines[:3] == ['container', 'unit clustered-mail-redis-firewall active enabled', 'unit redis-server active enabled']
    assert lines[3:] == expected(converged)['firewall'] + expected(converged)['container']
    assert lines[4] == 'path %s file %s %s 644 %s' % (converged['firewall'][1]['path'], converged['firewall'][1]['owner'],
                                                     converged['firewall'][1]['group'], sha256(converged['firewall'][1]['content']))


def test_a_converged_redis_host_skips_every_step_the_read_answers(tmp_path, converged):
    facts = redis_facts(converged, redis_read(tmp_path, converged))
    for path, name in [(FIREWALL, WRITE_FIREWALL), (FIREWALL, LOAD_FIREWALL), (REDIS, DROPIN), (REDIS, START_REDIS)]:
        assert not runs(path, name, **facts), name


@pytest.mark.parametrize('change', ['content', 'mode', 'missing'])
def test_a_firewall_file_unlike_the_role_s_is_written(tmp_path, converged, change):
    change_by_hand(converged['firewall'][1]['path'], change)
    facts = redis_facts(converged, redis_read(tmp_path, converged))
    assert runs(FIREWALL, WRITE_FIREWALL, **facts)
    assert not runs(REDIS, DROPIN, **facts)


def test_the_drop_in_is_written_in_a_container_only(tmp_path):
    files = entries(tmp_path)
    make_entries(files['firewall'])
    assert runs(REDIS, DROPIN, **redis_facts(files, redis_read(tmp_path, files)))
    assert not runs(REDIS, DROPIN, **redis_facts(files, redis_read(tmp_path, files, container=False)))


@pytest.mark.parametrize('unit', ['clustered-mail-redis-firewall', 'redis-server'])
@pytest.mark.parametrize('state', [('inactive', 'enabled'), ('active', 'disabled'), ('inactive', '')])
def test_a_stopped_disabled_or_missing_unit_is_started_and_enabled(tmp_path, converged, unit, state):
    facts = redis_facts(converged, redis_read(tmp_path, converged, units=dict(RUNNING, **{unit: state})))
    assert runs(FIREWALL, LOAD_FIREWALL, **facts) == (unit == 'clustered-mail-redis-firewall')
    assert runs(REDIS, START_REDIS, **facts) == (unit == 'redis-server')


def test_new_units_are_loaded_and_started(tmp_path, converged):
    lines = redis_read(tmp_path, converged)
    assert runs(FIREWALL, LOAD_FIREWALL, **redis_facts(converged, lines, __mail_filter_redis_firewall_unit={'changed': True}))
    assert runs(REDIS, START_REDIS, **redis_facts(converged, lines, __mail_filter_redis_dropins={'changed': True}))


def test_check_mode_on_a_new_host_does_not_start_a_firewall_not_yet_installed(tmp_path):
    files = entries(tmp_path)
    facts = redis_facts(files, redis_read(tmp_path, files, units={}), ansible_check_mode=True,
                        __mail_filter_redis_firewall_unit={'changed': True})
    assert not runs(FIREWALL, LOAD_FIREWALL, **facts)


CHECKER_PATH = '/usr/local/sbin/clustered-mail-rspamd-check'


def rspamd_read(tmp_path, milter_dir, checker, groups='postfix', rspamd=('active', 'enabled')):
    script = task(RSPAMD, RSPAMD_READ)[1]['__mail_filter_state_script']
    getent = 'for g in %s; do [ "$2" = "$g" ] && { echo "$g:x:101:"; exit 0; }; done; exit 2\n' % groups
    units = {'rspamd': rspamd} if rspamd else {}
    return run_script(tmp_path, script, ['postfix', milter_dir, checker], {'getent': getent, 'systemctl': systemctl(units)})


def rspamd_facts(lines, milter_dir):
    return {'__mail_filter_state': {'stdout_lines': lines},
            '__mail_filter_model': {'spam_filter': {'milter_dir': milter_dir}}}


def test_rspamd_read_names_the_group_directory_and_checker(tmp_path):
    milter = tmp_path / 'rspamd'
    milter.mkdir()
    milter.chmod(0o750)
    checker = tmp_path / 'check'
    checker.write_text('#!/bin/sh\n')
    checker.chmod(0o755)
    lines = rspamd_read(tmp_path, str(milter), str(checker))
    user, group = os.popen('id -un').read().strip(), os.popen('id -gn').read().strip()
    assert lines == ['unit rspamd active enabled', 'group postfix', 'path %s directory %s %s 750' % (milter, user, group),
                     'path %s file %s %s 755 %s' % (checker, user, group, sha256('#!/bin/sh\n'))]
    assert rspamd_read(tmp_path, str(tmp_path / 'none'), str(tmp_path / 'none'), groups='', rspamd=None) == [
        'unit rspamd inactive ']


def test_a_converged_mx_node_skips_the_group_directory_and_checker(tmp_path):
    milter = '/var/spool/postfix/rspamd'
    with open(os.path.join(ROOT, 'roles', 'mail_filter', 'files', 'clustered-mail-rspamd-check')) as handle:
        content = handle.read()
    lines = ['unit rspamd active enabled', 'group postfix', 'path %s directory _rspamd postfix 750' % milter,
             'path %s file root root 755 %s' % (CHECKER_PATH, sha256(content))]
    facts = dict(rspamd_facts(lines, milter), __mail_filter_checker=content, __mail_filter_here=True)
    for name in (CHECKER, GROUP, MILTER_DIR):
        assert not runs(RSPAMD, name, **facts), name
    assert not runs(MAIN, START_RSPAMD, **facts)


@pytest.mark.parametrize('state', [('inactive', 'enabled'), ('active', 'disabled'), None])
def test_rspamd_stopped_disabled_or_new_is_started_and_enabled(tmp_path, state):
    lines = rspamd_read(tmp_path, str(tmp_path / 'none'), str(tmp_path / 'none'), rspamd=state)
    assert runs(MAIN, START_RSPAMD, **dict(rspamd_facts(lines, '/none'), __mail_filter_here=True))


@pytest.mark.parametrize('missing', [0, 1, 2])
def test_each_of_the_three_runs_alone_when_it_differs(missing):
    milter = '/var/spool/postfix/rspamd'
    content = '#!/bin/sh\n'
    lines = ['group postfix', 'path %s directory _rspamd postfix 750' % milter,
             'path %s file root root 755 %s' % (CHECKER_PATH, sha256(content))]
    lines[missing] = lines[missing].replace('postfix', 'other').replace(' 755 ', ' 775 ')
    facts = dict(rspamd_facts(lines, milter), __mail_filter_checker=content)
    assert [runs(RSPAMD, name, **facts) for name in (GROUP, MILTER_DIR, CHECKER)] == [i == missing for i in range(3)]
