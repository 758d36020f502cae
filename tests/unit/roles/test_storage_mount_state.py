# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The state read of clustered.mail.storage_mount, run as its task runs it.

One step tells the role what is mounted on the store, the state of its mount
unit and, for a bind mount, whether the store is the source: the bare
mountpoint, the mount and the final check all act on what it prints (a rerun
reads nothing else). Here it runs under bash with the real findmnt and stat and
a fake systemctl on PATH.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import stat
import subprocess

import pytest
import yaml

from ansible_collections.clustered.mail.plugins.lookup.file_set_read import LookupModule
from ansible_collections.clustered.mail.plugins.module_utils._file_set import differs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VARS = os.path.join(ROOT, 'roles', 'storage_mount', 'vars', 'main.yml')

pytestmark = pytest.mark.skipif(not (shutil.which('findmnt') and shutil.which('stat')), reason='needs findmnt and stat')


def script():
    # The one template expression of the script: the describer file_set's known compares with.
    text = yaml.safe_load(open(VARS))['__storage_mount_state_script']
    return text.replace("{{ lookup('clustered.mail.file_set_read') }}", LookupModule().run([])[0])


def fake_systemctl(tmp_path, active, enabled):
    """A systemctl that answers is-active and is-enabled as given (enabled None: prints nothing, as
    systemd 252 does for a unit that does not exist)."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / 'systemctl'
    fake.write_text('#!/bin/bash\n'
                    'case $1 in\n'
                    '  is-active) echo %s; [ %s = active ] ;;\n'
                    '  is-enabled) %s ;;\n'
                    'esac\n' % (active, active, 'echo %s' % enabled if enabled else 'exit 1'))
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return str(bin_dir)


def run(tmp_path, store, source='', active='active', enabled='enabled', paths=()):
    env = dict(os.environ, PATH=fake_systemctl(tmp_path, active, enabled) + ':' + os.environ['PATH'])
    proc = subprocess.run(['/bin/bash', '-c', script(), 'storage_mount', str(store), 'srv-mail.mount', str(source)]
                          + [str(path) for path in paths],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    return proc


def state(proc):
    """The task's parsing: dict(stdout_lines | reject('match', 'path ') | map('split', ' ', 1))."""
    assert proc.returncode == 0, proc.stderr
    return dict(line.split(' ', 1) for line in proc.stdout.splitlines() if not line.startswith('path '))


def test_nothing_mounted_on_a_bare_directory(tmp_path):
    store = tmp_path / 'store'
    store.mkdir()
    got = state(run(tmp_path, store, active='inactive', enabled=None))
    assert got == {'fstype': '-', 'unit': 'inactive '}
    assert got['unit'].split()[:2] != ['active', 'enabled']


def test_nothing_mounted_where_the_store_does_not_exist_yet(tmp_path):
    got = state(run(tmp_path, tmp_path / 'none', active='inactive', enabled='disabled'))
    assert got == {'fstype': '-', 'unit': 'inactive disabled'}


def test_a_mountpoint_gives_its_filesystem_type(tmp_path):
    wanted = subprocess.run(['findmnt', '--mountpoint', '/', '--noheadings', '--output', 'FSTYPE'],
                            capture_output=True, text=True, check=True).stdout.strip()
    got = state(run(tmp_path, '/'))
    assert got == {'fstype': wanted, 'unit': 'active enabled'}
    assert got['fstype'] != '-'
    assert got['unit'].split()[:2] == ['active', 'enabled']


def test_bind_the_store_is_the_source(tmp_path):
    store = tmp_path / 'store'
    store.mkdir()
    assert state(run(tmp_path, store, source=store))['bind'] == 'same'


def test_bind_another_directory_is_not_the_source(tmp_path):
    store, source = tmp_path / 'store', tmp_path / 'source'
    store.mkdir()
    source.mkdir()
    assert state(run(tmp_path, store, source=source))['bind'] == 'different'


def test_bind_a_missing_store_or_source_is_not_the_source(tmp_path):
    store = tmp_path / 'store'
    store.mkdir()
    assert state(run(tmp_path, tmp_path / 'none', source=store))['bind'] == 'different'
    assert state(run(tmp_path, store, source=tmp_path / 'none'))['bind'] == 'different'


def test_bind_a_symlink_to_the_source_is_not_the_source(tmp_path):
    # stat does not follow it: a link at the store is not the bound directory.
    source = tmp_path / 'source'
    source.mkdir()
    (tmp_path / 'store').symlink_to(source)
    assert state(run(tmp_path, tmp_path / 'store', source=source))['bind'] == 'different'


def test_no_bind_line_for_other_types(tmp_path):
    assert 'bind' not in state(run(tmp_path, tmp_path))


def test_a_findmnt_error_fails_the_step(tmp_path):
    bin_dir = fake_systemctl(tmp_path, 'active', 'enabled')
    with open(os.path.join(bin_dir, 'findmnt'), 'w') as handle:
        handle.write('#!/bin/sh\necho "findmnt: cannot read /proc/self/mountinfo" >&2\nexit 4\n')
    os.chmod(os.path.join(bin_dir, 'findmnt'), 0o755)
    env = dict(os.environ, PATH=bin_dir + ':' + os.environ['PATH'])
    proc = subprocess.run(['/bin/bash', '-c', script(), 'storage_mount', str(tmp_path), 'srv-mail.mount', ''],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 4
    assert proc.stdout == ''
    assert 'mountinfo' in proc.stderr


def test_the_unit_and_drop_ins_are_described_for_file_set_s_known(tmp_path):
    unit = tmp_path / 'srv-mail.mount'
    unit.write_text('[Mount]\n')
    unit.chmod(0o644)
    proc = run(tmp_path, tmp_path / 'none', active='inactive', enabled=None, paths=[unit, tmp_path / 'absent.conf'])
    lines = proc.stdout.splitlines()
    assert state(proc) == {'fstype': '-', 'unit': 'inactive '}
    entry = {'path': str(unit), 'content': '[Mount]\n', 'mode': '0644'}
    assert [line.split()[:3] for line in lines if line.startswith('path ')] == [['path', str(unit), 'file']]
    assert differs([entry], lines) == []
    assert differs([dict(entry, content='[Mount]\nWhat=x\n')], lines) == [str(unit)]
