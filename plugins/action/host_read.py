# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""clustered.mail.host_read: a read of the host, sent as one shell command instead of as a Python module.

The arguments are quoted for the shell and run over the task's connection (with
its become), as ansible.builtin.raw sends a command; over SSH no terminal is
requested, so standard output and standard error stay apart as they do for
ansible.builtin.command, whose results (rc, stdout, stderr and their lines, the
last newline stripped) this returns.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex

from ansible.plugins.action import ActionBase

from ansible_collections.clustered.mail.plugins.module_utils._host_read import ARGUMENT_SPEC, read_result


def shell_command(argv):
    """The one shell command line that runs argv as it is (no splitting, globbing or expansion)."""
    return ' '.join(shlex.quote(arg) for arg in argv)


def read_host(action, argv):
    """Run ``argv`` on the host of ``action`` (an ActionBase, over its connection and with its become) as one quoted
    shell command line, without a terminal over SSH. Returns what the read returns (read_result: rc, stdout,
    stderr and their lines as ansible.builtin.command returns them; failed when the command exited other than 0)."""
    # ssh's -tt (its default for commands like this one) would merge standard error into standard output and
    # end every line with \r\n; a read needs neither. The connection object is this task's own.
    if action._connection.has_option('use_tty'):
        action._connection.set_option('use_tty', False)
    ran = action._low_level_execute_command(shell_command(argv), sudoable=True)
    return read_result(ran.get('rc'), ran.get('stdout', ''), ran.get('stderr', ''))


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        argv = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]['argv']
        if not argv:
            result.update(failed=True, msg='argv is empty: give the command and its arguments')
            return result
        result.update(read_host(self, argv))
        return result
