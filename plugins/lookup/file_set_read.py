# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: file_set_read
author: clustered.mail contributors (@clustered-mail)
version_added: 0.2.0
short_description: The shell function with which a read describes files for clustered.mail.file_set's known
description:
  - Returns the text of a POSIX shell function, C(describe_paths), that prints one line per path it is given that
    exists as a plain directory or file (not a link), as O(clustered.mail.file_set#module:known) compares them -
    C(path <path> directory <owner>:<uid> <group>:<gid> <mode>) or C(path <path> file <owner>:<uid> <group>:<gid>
    <mode> <sha256>).
  - A role's read step puts it at the top of its script and calls C(describe_paths) with the paths of its
    M(clustered.mail.file_set) steps, so one round trip reads them all; the steps then pass the read's lines as
    O(clustered.mail.file_set#module:known). Never describe a file whose content is secret.
options: {}
'''

EXAMPLES = r'''
- name: Read the unit state and describe the role's files, in one step
  ansible.builtin.command:
    argv: ["/bin/sh", "-c", "{{ lookup('clustered.mail.file_set_read') }}\ndescribe_paths \"$@\"", "read", /etc/example.conf]
  register: example_read
  changed_when: false
  check_mode: false

- name: Write the file only when the read shows it not as it must be
  clustered.mail.file_set:
    known: "{{ example_read.stdout_lines }}"
    files:
      - {path: /etc/example.conf, content: "x = 1\n", owner: root, group: root, mode: "0644"}
'''

RETURN = r'''
_raw:
  description: The shell function, one string.
  type: list
  elements: str
'''

from ansible.plugins.lookup import LookupBase

from ansible_collections.clustered.mail.plugins.module_utils._file_set import DESCRIBE_PATHS


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        return [DESCRIBE_PATHS]
