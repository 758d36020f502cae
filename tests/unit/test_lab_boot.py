# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plays that wait for freshly started lab containers use lab/tasks/wait_for_boot.yml.

At boot systemd-tmpfiles-setup empties /tmp (`D /tmp` in tmpfiles.d). A module
run meanwhile (`command: systemctl is-system-running --wait`) unpacks its
payload there and can lose it: `make demo` failed so on two of eight fresh
containers ("No such file or directory: /tmp/ansible_..._payload.zip"). The
shared task runs the wait with raw, which writes nothing on the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(ROOT, 'lab', 'tasks', 'wait_for_boot.yml')


def lab_playbooks():
    return sorted(p for p in glob.glob(os.path.join(ROOT, 'molecule', '**', '*.yml'), recursive=True)
                  + glob.glob(os.path.join(ROOT, 'lab', '**', '*.yml'), recursive=True) if p != SHARED)


def test_the_shared_wait_runs_raw():
    tasks = yaml.safe_load(open(SHARED))
    assert len(tasks) == 1
    assert tasks[0]['ansible.builtin.raw'] == 'systemctl is-system-running --wait'
    assert 'until' in tasks[0], 'right after docker run the bus may be missing: the wait must retry'


def test_no_play_waits_for_boot_through_a_module():
    inline = [os.path.relpath(p, ROOT) for p in lab_playbooks() if 'is-system-running --wait' in open(p).read()]
    assert inline == [], 'wait for boot with lab/tasks/wait_for_boot.yml, not a module of its own: %s' % inline


def test_the_boot_waits_include_the_shared_task():
    users = [p for p in lab_playbooks() if 'wait_for_boot.yml' in open(p).read()]
    for path in users:
        for line in open(path):
            if 'wait_for_boot.yml' in line:
                target = os.path.normpath(os.path.join(os.path.dirname(path), line.split(':', 1)[1].strip()))
                assert target == SHARED, '%s includes %s' % (os.path.relpath(path, ROOT), target)
    assert len(users) >= 7, 'the demo and the molecule scenarios wait for boot: %s' % users
