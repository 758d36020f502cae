# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host state of the storage scenario (pytest-testinfra), run by verify.yml.

verify.yml runs each file against the containers of its group
(--hosts=docker://NAME,...) and passes what the inventory decides in the
environment, so these files name no host and copy no inventory value.
"""

import os

import pytest


@pytest.fixture
def store():
    return os.environ['STORAGE_TEST_STORE']


@pytest.fixture
def nfs3_servers():
    return os.environ['STORAGE_TEST_NFS3_SERVERS'].split()


def release(host):
    return int(host.system_info.release.split('.')[0])


def unit_properties(host, unit, *names):
    out = host.check_output('systemctl show --property=%s %s', ','.join(names), unit)
    return dict(line.split('=', 1) for line in out.splitlines())
