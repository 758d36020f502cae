# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""clustered.mail.cluster_state_info: the state files read by one shell command, their checks made on the controller.

bind_dns, mail_primary and verify read the kept state on the DNS primary on
every run. Sent as a Python module, that read cost a module packed, sent and
run by a new Python; here one quoted command (clustered.mail.host_read's way)
prints each state file in base64, and the controller parses and checks the
texts with the same code the module runs (plugins/module_utils/_membership.py,
state_from_texts), so the results and the errors are the module's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii

from ansible.plugins.action import ActionBase

from ansible_collections.clustered.mail.plugins.action.host_read import read_host
from ansible_collections.clustered.mail.plugins.module_utils._membership import (
    STATE_FILES, STATE_INFO_ARGUMENT_SPEC, MembershipError, _state_error, state_from_texts,
)

# For each file: "<name> -" when it does not exist, "<name> <base64>" (empty for an empty file), or
# "<name> ! <why>" when it exists but cannot be read.
READ_SCRIPT = '''dir=$1; shift
for name in "$@"; do
  if [ ! -e "$dir/$name" ]; then
    echo "$name -"
  elif text=$(base64 -w0 "$dir/$name" 2>&1); then
    echo "$name $text"
  else
    echo "$name ! $text" | tr -d '\\n'; echo
  fi
done'''


def parse_read(state_dir, stdout):
    """{name: text or None} from what READ_SCRIPT printed; a file it could not read raises MembershipError."""
    texts = {}
    for line in stdout.splitlines():
        name, _sep, rest = line.partition(' ')
        if name not in STATE_FILES:
            continue
        if rest == '-':
            texts[name] = None
        elif rest.startswith('! '):
            raise _state_error(state_dir, name, 'cannot be read (%s)' % rest[2:])
        else:
            try:
                texts[name] = base64.b64decode(rest, validate=True).decode('utf-8')
            except (binascii.Error, ValueError) as exc:
                raise _state_error(state_dir, name, 'cannot be read (%s)' % exc)
    missing = [name for name in STATE_FILES if name not in texts]
    if missing:
        raise MembershipError('the read of %s printed nothing for %s' % (state_dir, ', '.join(missing)))
    return texts


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        state_dir = self.validate_argument_spec(argument_spec=STATE_INFO_ARGUMENT_SPEC)[1]['state_dir']
        read = read_host(self, ['/bin/sh', '-c', READ_SCRIPT, 'cluster_state_info', state_dir] + list(STATE_FILES))
        if read['rc'] != 0:
            result.update(failed=True, msg='the read of %s on the host failed (rc %s): %s'
                          % (state_dir, read['rc'], read['stderr']))
            return result
        try:
            state = state_from_texts(state_dir, parse_read(state_dir, read['stdout']))
        except MembershipError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result.update(changed=False, state_dir=state_dir, **state)
        return result
