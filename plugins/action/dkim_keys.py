# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""clustered.mail.dkim_keys, run in the controller's own process when the task runs on the controller.

The keys live on the controller (delegate_to=localhost), where packing the
module, starting a Python for it and importing cryptography again cost about
a quarter of a second per call, three calls a site run. There the action
checks the options against the module's argument spec and runs the same code
(plugins/module_utils/_dkim.py, keep) itself; on any other host it sends the
module as always.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.clustered.mail.plugins.module_utils import _dkim


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        if self._connection.transport != 'local':
            result.update(self._execute_module(module_name='clustered.mail.dkim_keys', module_args=self._task.args,
                                               task_vars=task_vars))
            return result
        params = self.validate_argument_spec(argument_spec=_dkim.ARGUMENT_SPEC)[1]
        if not _dkim.HAS_CRYPTOGRAPHY:
            result.update(failed=True, msg='clustered.mail.dkim_keys needs the Python library cryptography on the'
                                           ' controller (pip install cryptography)')
            return result
        try:
            result.update(_dkim.keep(params['path'], params['domains'], params['selector'], params['state'],
                                     self._play_context.check_mode))
        except _dkim.DkimError as exc:
            result.update(failed=True, msg=str(exc), changed=exc.changed)
        return result
