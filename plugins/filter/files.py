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

from ansible.errors import AnsibleFilterError


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


class FilterModule(object):
    def filters(self):
        return {
            'file_entries': file_entries,
            'systemd_dropins': systemd_dropins,
        }
