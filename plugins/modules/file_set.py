#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: file_set
short_description: Install a set of directories and small files in one step, each file validated before it replaces the old one
version_added: 0.2.0
description:
  - Makes each entry of O(files) what it says, in order, in one call to the host; a directory with its owner, group
    and mode, or a file with exactly O(files[].content) and its owner, group and mode.
  - Where a loop of M(ansible.builtin.template), M(ansible.builtin.copy) or M(ansible.builtin.file) tasks costs
    two round trips to the host per item even when nothing changes, this costs one for the whole set; a rerun of
    C(clustered.mail.site) that changes nothing is paid for on every run.
  - The roles render their templates on the controller (C(lookup('ansible.builtin.template', ...))) and pass the
    text as O(files[].content); the module only compares and writes.
  - Every file whose content changes is first written to a temporary file beside it and checked with its
    O(files[].validate) command. If any check fails, no file of the set is replaced and the module fails with the
    command's output. Then every file is moved into place atomically.
  - The module never logs its arguments on the host (the contents may hold secrets); the task should set
    C(no_log) when a content is secret, as for M(ansible.builtin.copy).
author:
  - clustered.mail contributors (@clustered-mail)
extends_documentation_fragment:
  - clustered.mail.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports which entries would change, without writing; a validate command is not run in check mode.
  diff_mode:
    support: full
    details:
      - Returns one before/after pair per changed file (content), and the attribute changes of every entry.
options:
  files:
    description:
      - The entries, in the order they are made; a directory must come before the files in it.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the directory or file.
        type: path
        required: true
      state:
        description: V(file) makes a regular file with O(files[].content); V(directory) a directory (with its parents).
        type: str
        choices: [file, directory]
        default: file
      content:
        description: The exact text of the file (required with O(files[].state=file)).
        type: str
      owner:
        description: Owner of the entry (name or id); unchanged when not given.
        type: str
      group:
        description: Group of the entry (name or id); unchanged when not given.
        type: str
      mode:
        description: Mode of the entry, as octal digits in quotes (V('0644')); for a new entry without it, the umask.
        type: str
      validate:
        description:
          - A command that checks the new content before it replaces the file; V(%s) stands for the temporary file.
          - Run without a shell, only when the content changes.
        type: str
  known:
    description:
      - The lines of a read of the host made earlier in the run (for instance a role's C(stdout_lines)), one per
        path, as C(path <path> directory <owner>:<uid> <group>:<gid> <mode>) or C(path <path> file <owner>:<uid>
        <group>:<gid> <mode> <sha256>) with the mode in octal (C(stat -c '%U:%u %G:%g %a') and C(sha256sum), as
        the function of the P(clustered.mail.file_set_read#lookup) lookup prints them); other lines are ignored.
      - When every entry of O(files) is exactly as its line says (an entry's owner and group by name or by id),
        the action plugin returns unchanged on the controller and the host is not called; otherwise, and
        without O(known), the module runs as usual. A read must not describe a file whose content is secret.
      - The module itself ignores it.
    type: list
    elements: str
seealso:
  - module: ansible.builtin.copy
  - module: ansible.builtin.template
"""

EXAMPLES = r"""
- name: Tie the mail units to the store (a drop-in directory and a drop-in per unit, in one step)
  clustered.mail.file_set:
    files:
      - {path: /etc/systemd/system/dovecot.service.d, state: directory, owner: root, group: root, mode: "0755"}
      - path: /etc/systemd/system/dovecot.service.d/clustered-mail-store.conf
        content: "{{ lookup('ansible.builtin.template', 'store.conf.j2') }}"
        owner: root
        group: root
        mode: "0644"
  notify: Reload systemd

- name: Install named.conf, checked before it replaces the old one
  clustered.mail.file_set:
    files:
      - path: /etc/bind/named.conf
        content: "{{ lookup('ansible.builtin.template', 'named.conf.j2') }}"
        owner: root
        group: bind
        mode: "0644"
        validate: named-checkconf %s
"""

RETURN = r"""
changed_paths:
  description: The entries that were (in check mode, would be) created or changed, in the order of O(files).
  returned: success
  type: list
  elements: str
  sample: [/etc/systemd/system/dovecot.service.d/clustered-mail-store.conf]
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native


def _file_args(module, entry):
    return module.load_file_common_arguments({
        'path': entry['path'], 'owner': entry['owner'], 'group': entry['group'], 'mode': entry['mode'],
    })


def _read(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _attributes(module, entry, diffs):
    """Owner, group and mode of an existing entry; True when they changed (would change)."""
    attrs = {'before': {}, 'after': {}}
    changed = module.set_fs_attributes_if_different(_file_args(module, entry), False, attrs, expand=False)
    if changed:
        diffs.append({'before': dict(attrs['before'], path=entry['path']),
                      'after': dict(attrs['after'], path=entry['path'])})
    return changed


def _directory(module, entry, diffs):
    path = entry['path']
    if os.path.lexists(path) and not os.path.isdir(path):
        module.fail_json(msg='%s exists and is not a directory' % path, path=path)
    if not os.path.isdir(path):
        diffs.append({'before': {'path': path, 'state': 'absent'}, 'after': {'path': path, 'state': 'directory'}})
        if module.check_mode:
            return True
        try:
            os.makedirs(path)
        except OSError as exc:
            module.fail_json(msg='cannot create the directory %s: %s' % (path, to_native(exc)), path=path)
        _attributes(module, entry, [])
        return True
    return _attributes(module, entry, diffs)


def _stage(module, entry, new, staged):
    """Write the new content beside the file and validate it; an error message, or None."""
    path = entry['path']
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        module.fail_json(msg='the directory of %s does not exist (list it in files before the file)' % path, path=path)
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    staged[path] = tmp
    with os.fdopen(fd, 'wb') as handle:
        handle.write(new)
    if entry['validate']:
        if '%s' not in entry['validate']:
            module.fail_json(msg='validate must contain %%s: %s' % entry['validate'], path=path)
        rc, out, err = module.run_command(entry['validate'] % tmp)
        if rc != 0:
            return 'validation of %s failed (%s, rc %d): %s' % (path, entry['validate'], rc, (err or out).strip())
    return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type='list', elements='dict', required=True, options=dict(
                path=dict(type='path', required=True),
                state=dict(type='str', choices=['file', 'directory'], default='file'),
                content=dict(type='str'),
                owner=dict(type='str'),
                group=dict(type='str'),
                mode=dict(type='str'),
                validate=dict(type='str'),
            ), required_if=[('state', 'file', ('content',))]),
            # Compared by the action plugin on the controller (plugins/action/file_set.py); unused here.
            known=dict(type='list', elements='str'),
        ),
        supports_check_mode=True,
        # The contents may be secrets (keys, password hashes): never logged on the host.
        no_log=True,
    )
    changed_paths, diffs, failures = [], [], []
    files = []  # (entry, changed content or None)
    staged = {}  # path -> temporary file with the new content, validated
    try:
        # Directories are made in order, so that the files below can be staged in them.
        for entry in module.params['files']:
            path = entry['path']
            if entry['state'] == 'directory':
                if _directory(module, entry, diffs):
                    changed_paths.append(path)
                continue
            if os.path.lexists(path) and not os.path.isfile(path):
                module.fail_json(msg='%s exists and is not a regular file' % path, path=path)
            new = to_bytes(entry['content'], errors='surrogate_or_strict')
            old = _read(path)
            if old == new:
                files.append((entry, None))
                continue
            files.append((entry, {'before_header': path, 'after_header': path, 'after': entry['content'],
                                  'before': '' if old is None else to_native(old, errors='surrogate_or_replace')}))
            if not module.check_mode:
                error = _stage(module, entry, new, staged)
                if error:
                    failures.append(error)
        if failures:
            module.fail_json(msg='; '.join(failures) + '; no file of the set was replaced', changed_paths=changed_paths)

        for entry, content_diff in files:
            path = entry['path']
            if content_diff is not None:
                diffs.append(content_diff)
                changed_paths.append(path)
                if module.check_mode:
                    if os.path.exists(path):
                        _attributes(module, entry, diffs)
                    continue
                module.atomic_move(staged.pop(path), path)
                _attributes(module, entry, [])
            elif _attributes(module, entry, diffs):
                changed_paths.append(path)
    finally:
        for tmp in staged.values():
            if os.path.exists(tmp):
                os.unlink(tmp)

    result = dict(changed=bool(changed_paths), changed_paths=changed_paths)
    if module._diff:
        result['diff'] = diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
