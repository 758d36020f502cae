# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters that lay out entries for clustered.mail.file_set.

Documentation is in the sidecar <filter>.yml files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.clustered.mail.plugins.module_utils._file_set import differs


def systemd_dropins(units, name, content, unit_dir='/etc/systemd/system', mode='0644'):
    """For each unit, its drop-in directory (root, 0755) and then the drop-in file ``name`` holding ``content``."""
    if not name or '/' in name or not name.endswith('.conf'):
        raise AnsibleFilterError('systemd_dropins: the drop-in name must be a plain file name ending in .conf, got %r' % name)
    entries = []
    for unit in units:
        directory = posixpath.join(unit_dir, '%s.d' % unit)
        entries.append({'path': directory, 'state': 'directory', 'owner': 'root', 'group': 'root', 'mode': '0755'})
        entries.append({'path': posixpath.join(directory, name), 'state': 'file', 'content': content,
                        'owner': 'root', 'group': 'root', 'mode': mode})
    return entries


def file_entries(names, directory, contents, owner='root', group='root', mode='0644'):
    """Files ``directory/<name>`` with the matching item of ``contents`` (a list in the order of ``names``)."""
    names, contents = list(names), list(contents)
    if len(names) != len(contents):
        raise AnsibleFilterError('file_entries: %d names but %d contents' % (len(names), len(contents)))
    for name in names:
        if not name or '/' in name:
            raise AnsibleFilterError('file_entries: %r is not a plain file name' % name)
    return [{'path': posixpath.join(directory, name), 'state': 'file', 'content': content,
             'owner': owner, 'group': group, 'mode': mode} for name, content in zip(names, contents)]


# Debian's plain smtpd service on port 25 (not its commented postscreen line).
DEBIAN_SMTPD = re.compile(r'^(smtp\s+inet\s.*\ssmtpd)\s*$', re.MULTILINE)


def postfix_master_cf(text, blocks):
    """master.cf ``text`` with Debian's smtpd on port 25 commented out and each marked block set.

    Each item of ``blocks`` is ``{'marker': '# {mark} ...', 'block': text}``: the lines between
    ``marker`` with BEGIN and with END are replaced by ``block`` (appended at the end the first
    time), or removed with their markers where ``block`` is empty. The edits are those of
    ansible.builtin.replace and ansible.builtin.blockinfile (defaults), so a file they wrote
    comes out the same, and one step can write the whole file.
    """
    text = DEBIAN_SMTPD.sub(r'#\1', text)
    for item in blocks:
        marker = item.get('marker') or ''
        if '{mark}' not in marker:
            raise AnsibleFilterError('postfix_master_cf: the marker must contain {mark}, got %r' % marker)
        begin, end = marker.replace('{mark}', 'BEGIN') + '\n', marker.replace('{mark}', 'END') + '\n'
        block = item.get('block') or ''
        if block and not block.endswith('\n'):
            block += '\n'
        lines = text.splitlines(True)
        found = [i for i, line in enumerate(lines) if line == begin], [i for i, line in enumerate(lines) if line == end]
        block_lines = [begin] + block.splitlines(True) + [end] if block else []
        if found[0] and found[1]:
            first, last = sorted((found[0][-1], found[1][-1]))
            lines[first:last + 1] = []
        else:
            first = len(lines)
        if first > 0 and not lines[first - 1].endswith('\n'):
            lines[first - 1] += '\n'
        lines[first:first] = block_lines
        text = ''.join(lines)
    return text


def file_set_differs(entries, known):
    """The paths of the file_set ``entries`` that the read ``known`` does not show as they must be: those
    clustered.mail.file_set given the same ``known`` would call the host for."""
    return differs(list(entries), list(known))


class FilterModule(object):
    def filters(self):
        return {
            'file_entries': file_entries,
            'file_set_differs': file_set_differs,
            'postfix_master_cf': postfix_master_cf,
            'systemd_dropins': systemd_dropins,
        }
