# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host state of the storage scenario (pytest-testinfra), run by verify_host_state.yml.

molecule/_shared/tasks/testinfra.yml runs each file against the containers of
its group (--hosts=docker://NAME,...) and passes what the inventory decides in
the environment, so these files name no host and copy no inventory value.
"""

import pytest

from clustered_mail_testinfra import env


@pytest.fixture
def store():
    return env('STORAGE_TEST_STORE')


@pytest.fixture
def nfs3_servers():
    return env('STORAGE_TEST_NFS3_SERVERS').split()
