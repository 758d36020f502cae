# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""clustered.mail.host_read: its action plugin over a real local connection, and over a fake SSH one.

What a read returns must be what ansible.builtin.command with the same argv
returns (rc, stdout, stderr, their lines, the last newline stripped), since the
roles parse it: the arguments reach the command as they are, whatever the shell
would make of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex
from unittest import mock

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader

from ansible_collections.clustered.mail.plugins.action.host_read import ActionModule, shell_command
from ansible_collections.clustered.mail.plugins.modules import host_read
from ansible_collections.clustered.mail.tests.unit.plugins.modules.module_runner import run_module

AWKWARD = ["it's", '$HOME', '*', 'a b', '"q"', '`id`', 'x\ny', '', ';', '\\']


def action(argv, connection=None, check_mode=False):
    context = PlayContext()
    context.check_mode = check_mode
    connection = connection or connection_loader.get('local', context)
    task = mock.MagicMock(args={'argv': argv}, async_val=0, check_mode=check_mode, diff=False)
    plugin = ActionModule(task, connection, context, loader=DataLoader(), templar=None, shared_loader_obj=None)
    return plugin.run(task_vars={})


def test_each_argument_reaches_the_command_as_it_is():
    result = action(['printf', '%s\\n'] + AWKWARD)
    assert result['rc'] == 0 and not result.get('failed') and result['changed'] is False
    assert result['stdout'] == '\n'.join(AWKWARD).rstrip('\n')
    assert result['stdout_lines'] == '\n'.join(AWKWARD).splitlines()


def test_the_results_are_those_of_the_module_that_runs_the_same_argv(monkeypatch):
    argv = ['/bin/sh', '-c', 'printf "one\\ntwo\\n\\n"; echo oops >&2; exit 0']
    ran = action(argv)
    module = run_module(host_read, {'argv': argv}, monkeypatch)
    for key in ('rc', 'stdout', 'stderr', 'stdout_lines', 'stderr_lines', 'changed'):
        assert ran[key] == module[key], key
    assert ran['stdout_lines'] == ['one', 'two'] and ran['stderr'] == 'oops'


def test_a_non_zero_exit_fails_the_read_and_keeps_its_output(monkeypatch):
    argv = ['/bin/sh', '-c', 'echo half; echo broken >&2; exit 3']
    ran = action(argv)
    module = run_module(host_read, {'argv': argv}, monkeypatch)
    assert ran['failed'] and module['failed']
    assert (ran['rc'], ran['stdout'], ran['stderr']) == (module['rc'], module['stdout'], module['stderr']) == (3, 'half', 'broken')


def test_it_reads_in_check_mode_too():
    assert action(['echo', 'read'], check_mode=True)['stdout'] == 'read'


def test_over_ssh_no_terminal_is_asked_for_and_the_command_is_one_quoted_line():
    connection = mock.MagicMock(transport='ssh', become=None, allow_executable=True)
    connection.has_option.side_effect = lambda name: name == 'use_tty'
    connection._shell.executable = '/bin/sh'
    connection._shell.append_command.side_effect = lambda first, second: first + '; ' + second
    connection.exec_command.return_value = (0, b'a\r\nb\r\n', b'')
    result = action(['systemctl', 'is-active', 'a b'], connection=connection)
    connection.set_option.assert_called_once_with('use_tty', False)
    sent = connection.exec_command.call_args[0][0]
    # what the host's /bin/sh -c gets: the one line, each argument quoted (ansible-core 2.19 appends '; sleep 0'
    # against an old SSH race, 2.21 no longer does)
    assert shlex.split(sent)[:2] == ['/bin/sh', '-c']
    assert shlex.split(sent)[2] in ("systemctl is-active 'a b'", "systemctl is-active 'a b'; sleep 0")
    assert result['stdout_lines'] == ['a', 'b']


def test_an_empty_argv_is_refused():
    result = action([])
    assert result['failed'] and 'argv is empty' in result['msg']
