# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A run_once task that runs a module on a managed host is delegated (delegate_to).

ansible-core hands the facts a run_once task returns to every host of the play
(ansible/ansible#77219), the Python interpreter it discovered on the host it
ran on included. In a play with gather_facts: false (clustered.mail.dkim_rotate,
the day-2 playbooks) the other hosts would then run their modules with that
interpreter: a Debian 13 host sent to Debian 12's /usr/bin/python3.11 (shown
with ansible-core 2.21.5 on two lab containers). A delegated task keeps what it
discovered with the host it was delegated to. Actions that run no module on a
host (set_fact, assert, ...) discover nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# Actions that run no module on a managed host, so discover no interpreter.
NO_MODULE = {'set_fact', 'assert', 'debug', 'fail', 'include_tasks', 'import_tasks', 'include_role', 'import_role',
             'pause', 'meta', 'add_host', 'group_by', 'include_vars'}
# Task keywords (everything else on a task is its action).
KEYWORDS = {'name', 'run_once', 'delegate_to', 'delegate_facts', 'register', 'when', 'vars', 'changed_when',
            'failed_when', 'become', 'become_user', 'check_mode', 'no_log', 'loop', 'loop_control', 'tags', 'until',
            'retries', 'delay', 'environment', 'notify', 'args', 'ignore_errors', 'listen', 'any_errors_fatal',
            'throttle', 'timeout', 'diff', 'block', 'rescue', 'always', 'with_items', 'with_dict', 'apply'}


def task_files():
    return sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'tasks', '*.yml'))
                  + glob.glob(os.path.join(ROOT, 'roles', '*', 'handlers', '*.yml'))
                  + glob.glob(os.path.join(ROOT, 'playbooks', '*.yml')))


def tasks_of(path):
    data = yaml.safe_load(open(path)) or []
    if path.startswith(os.path.join(ROOT, 'playbooks')):
        for play in data:
            for section in ('pre_tasks', 'tasks', 'post_tasks', 'handlers'):
                for task in walk(play.get(section)):
                    yield task
    else:
        for task in walk(data):
            yield task


def walk(tasks):
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        for section in ('block', 'rescue', 'always'):
            for inner in walk(task.get(section)):
                yield inner
        if 'block' not in task:
            yield task


def action(task):
    names = [key for key in task if key not in KEYWORDS]
    return names[0] if names else None


def offenders(paths):
    found = []
    for path in paths:
        for task in tasks_of(path):
            name = action(task)
            if not task.get('run_once') or name is None or name.split('.')[-1] in NO_MODULE:
                continue
            if not task.get('delegate_to'):
                found.append('%s: %s (%s)' % (os.path.relpath(path, ROOT), task.get('name'), name))
    return found


def test_every_run_once_module_task_is_delegated():
    assert offenders(task_files()) == []


@pytest.mark.parametrize('task, bad', [
    ({'name': 'run', 'ansible.builtin.command': 'true', 'run_once': True}, True),
    ({'name': 'read', 'clustered.mail.cluster_state_info': {}, 'run_once': True, 'register': 'x'}, True),
    ({'name': 'read', 'clustered.mail.cluster_state_info': {}, 'delegate_to': 'ns1', 'run_once': True}, False),
    ({'name': 'model', 'ansible.builtin.set_fact': {'a': 1}, 'run_once': True}, False),
    ({'name': 'read', 'ansible.builtin.slurp': {'src': '/x'}}, False),
])
def test_the_check_itself(tmp_path, task, bad):
    path = tmp_path / 'tasks.yml'
    path.write_text(yaml.safe_dump([{'name': 'group', 'block': [task]}]))
    assert bool(offenders([str(path)])) is bad
