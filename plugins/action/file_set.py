# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""clustered.mail.file_set, with no call to the host when a read made earlier in the run shows every entry as it must be.

Given O(known) (the lines of such a read, plugins/module_utils/_file_set.py),
the entries are compared on the controller; only when one differs, or has no
line, does the module run on the host (and then compares, validates and writes
as always). Without O(known) the module always runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.clustered.mail.plugins.module_utils._file_set import differs


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        known = args.pop('known', None)
        if known is not None and isinstance(args.get('files'), list) and not differs(args['files'], known):
            result.update(changed=False, changed_paths=[], msg='every entry is as the read of the host shows it')
            if self._task.diff:
                result['diff'] = []
            return result
        result.update(self._execute_module(module_name='clustered.mail.file_set', module_args=args, task_vars=task_vars))
        return result
