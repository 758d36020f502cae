# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""clustered.mail.host_read's options and results, for its module and its action plugin.

Private to the collection (``_``-prefixed).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

ARGUMENT_SPEC = dict(argv=dict(type='list', elements='str', required=True))


def read_result(rc, stdout, stderr):
    """What a read returns, as ansible.builtin.command returns it: rc, stdout and stderr without their last
    newline, their lines, never a change; failed (with msg) when the command exited other than 0."""
    stdout, stderr = stdout.rstrip('\r\n'), stderr.rstrip('\r\n')
    result = dict(changed=False, rc=rc, stdout=stdout, stderr=stderr, stdout_lines=stdout.splitlines(),
                  stderr_lines=stderr.splitlines())
    if rc != 0:
        result.update(failed=True, msg='non-zero return code')
    return result
