# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mail_primary on a rerun: what its one read (read.yml) lets the later steps leave alone.

The read describes the files of the file_set steps that pass it as `known`
(never a file with a secret), and says whether the homes agent runs; the agent's
--once step runs only where the users, the agent or its configuration changed,
or the agent does not run. Conditions are decided by Ansible's Templar.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.clustered.mail.tests.unit.roles.task_files import ROOT, runs, task

TASKS = os.path.join(ROOT, 'roles', 'mail_primary', 'tasks')
READ = 'Read the mail store, Dovecot\'s version, Postfix\'s defaults and master.cf, and describe the role\'s files'
HOMES = 'roles/mail_primary/tasks/homes.yml'
ONCE = 'Write the passwd-file for the homes DNS publishes now'

CHANGED, UNCHANGED = {'changed': True}, {'changed': False}


def described():
    return task('roles/mail_primary/tasks/read.yml', READ)[0]['clustered.mail.host_read']['argv'][8:]


def file_set_steps():
    """(task name, [literal paths of its entries]) of every file_set step in the role that passes known."""
    found = []

    def walk(tasks):
        for step in tasks or []:
            for key in ('block', 'rescue', 'always'):
                walk(step.get(key))
            args = step.get('clustered.mail.file_set')
            if args and 'known' in args:
                entries = args['files'] if isinstance(args['files'], list) else []
                found.append((step['name'], [entry['path'] for entry in entries]))
    for name in sorted(os.listdir(TASKS)):
        with open(os.path.join(TASKS, name)) as handle:
            walk(yaml.safe_load(handle))
    return found


def test_the_read_describes_every_literal_path_of_the_steps_that_pass_known_and_no_secret():
    paths = described()
    steps = file_set_steps()
    assert len(steps) == 6
    for name, entries in steps:
        missing = [path for path in entries if path not in paths]
        assert not missing, '%s: %s not described by read.yml' % (name, missing)
    for secret in ('/etc/dovecot/cluster-users.base', '/etc/dovecot/cluster-users'):
        assert secret not in paths
    assert not any(path.endswith('.key') for path in paths)


def facts(**extra):
    return dict({'ansible_check_mode': False, '__mail_primary_users_base': UNCHANGED,
                 '__mail_primary_homes_units': UNCHANGED, '__mail_primary_host': {'homes_agent': 'active'},
                 '__mail_primary_maps': {'runs': {'mailbox': True}}}, **extra)


def test_a_rerun_with_the_agent_running_and_nothing_changed_leaves_the_passwd_file_to_it():
    assert not runs(HOMES, ONCE, **facts())


@pytest.mark.parametrize('extra', [
    {'__mail_primary_users_base': CHANGED},
    {'__mail_primary_homes_units': CHANGED},
    {'__mail_primary_host': {'homes_agent': 'inactive'}},
    {'__mail_primary_host': {'homes_agent': 'failed'}},
    {'__mail_primary_host': {}},
], ids=['users', 'agent files', 'agent stopped', 'agent failed', 'not read'])
def test_the_agent_writes_it_once_when_its_input_changed_or_it_does_not_run(extra):
    assert runs(HOMES, ONCE, **facts(**extra))
    assert not runs(HOMES, ONCE, **facts(ansible_check_mode=True, **extra))
