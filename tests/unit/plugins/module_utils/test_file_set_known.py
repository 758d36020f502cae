# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""file_set's `known`: the host is called only when a read made earlier shows some entry not as it must be.

The lines are made here by the shell function the roles' reads run
(lookup('clustered.mail.file_set_read')) on real files, so the comparison is
checked against what a read prints, not against lines written by hand.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

from ansible_collections.clustered.mail.plugins.lookup.file_set_read import LookupModule
from ansible_collections.clustered.mail.plugins.module_utils._file_set import differs
from ansible_collections.clustered.mail.tests.unit.roles.task_files import change_by_hand



def read(*paths):
    # the function the roles' reads get from lookup('clustered.mail.file_set_read'), under dash as backup_mx runs it
    describe = LookupModule().run([])[0] + 'describe_paths "$@"\n'
    out = subprocess.run(['/bin/sh', '-c', describe, 'read'] + [str(path) for path in paths],
                         capture_output=True, text=True, check=True).stdout
    return ['container', 'unit x active enabled'] + out.splitlines()


USER = os.popen('id -un').read().strip()
GROUP = os.popen('id -gn').read().strip()


@pytest.fixture
def made(tmp_path):
    directory = tmp_path / 'etc'
    directory.mkdir()
    directory.chmod(0o755)
    conf = directory / 'a.conf'
    conf.write_text(u'listen = *\n\u00e9t\u00e9\n')
    conf.chmod(0o640)
    return [
        {'path': str(directory), 'state': 'directory', 'owner': USER, 'group': GROUP, 'mode': '0755'},
        {'path': str(conf), 'content': u'listen = *\n\u00e9t\u00e9\n', 'owner': USER, 'group': GROUP, 'mode': '0640',
         'validate': 'true %s'},
    ]


def test_a_set_as_read_calls_nothing(made):
    assert differs(made, read(*[entry['path'] for entry in made])) == []


def test_owner_and_group_match_by_name_or_by_id(made):
    lines = read(*[entry['path'] for entry in made])
    by_id = [dict(entry, owner=str(os.getuid()), group=str(os.getgid())) for entry in made]
    assert differs(by_id, lines) == []
    assert differs([dict(made[0], owner=str(os.getuid() + 1))], lines) == [made[0]['path']]


def test_owner_group_and_mode_may_be_left_out(made):
    bare = [{'path': entry['path'], 'state': entry.get('state', 'file'), 'content': entry.get('content')} for entry in made]
    assert differs(bare, read(*[entry['path'] for entry in made])) == []


@pytest.mark.parametrize('change', ['content', 'mode', 'owner', 'group', 'missing', 'link', 'kind', 'not octal'])
def test_each_difference_calls_the_host(made, change, tmp_path):
    conf = made[1]['path']
    if change in ('content', 'mode', 'missing', 'link'):
        change_by_hand(conf, change)
    elif change == 'owner':
        made[1]['owner'] = 'root' if USER != 'root' else 'nobody'
    elif change == 'group':
        made[1]['group'] = str(os.getgid() + 1)
    elif change == 'kind':
        made[1]['state'] = 'directory'
    else:
        made[1]['mode'] = 'u=rw,g=r'
    assert differs(made, read(*[entry['path'] for entry in made])) == [conf]


def test_a_path_the_read_did_not_describe_calls_the_host(made):
    assert differs(made, read(made[0]['path'])) == [made[1]['path']]
    assert differs(made, []) == [made[0]['path'], made[1]['path']]


def action(args, module_result=None):
    """file_set's action plugin on a fake task; what it returned, and the module calls it made."""
    from unittest import mock

    from ansible.playbook.play_context import PlayContext
    from ansible_collections.clustered.mail.plugins.action.file_set import ActionModule

    task = mock.MagicMock(args=args, async_val=0, check_mode=False, diff=False)
    connection = mock.MagicMock()
    connection._shell.tmpdir = None
    plugin = ActionModule(task, connection, PlayContext(), loader=None, templar=None, shared_loader_obj=None)
    calls = []

    def execute(module_name=None, module_args=None, task_vars=None):
        calls.append((module_name, module_args))
        return dict(module_result or {'changed': True, 'changed_paths': ['x']})

    plugin._execute_module = execute
    return plugin.run(task_vars={}), calls


def test_the_action_calls_the_module_only_when_an_entry_differs(made):
    lines = read(*[entry['path'] for entry in made])
    result, calls = action({'files': made, 'known': lines})
    assert calls == [] and result['changed'] is False and result['changed_paths'] == []
    with open(made[1]['path'], 'a') as handle:
        handle.write('# by hand\n')
    result, calls = action({'files': made, 'known': read(*[entry['path'] for entry in made])})
    # the module gets the set without `known`, and its result is the task's
    assert calls == [('clustered.mail.file_set', {'files': made})] and result['changed'] is True
    result, calls = action({'files': made})
    assert len(calls) == 1
