# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by every scenario's host-state tests (pytest-testinfra).

molecule/_shared/tasks/testinfra.yml puts this folder on PYTHONPATH and
loads this module as a plugin (-p clustered_mail_testinfra): tests import
the helpers from here, and the fixtures below are there for every file.
"""

import os

import pytest


def release(host):
    """The Debian release of the host, as a number (12, 13)."""
    return int(host.system_info.release.split('.')[0])


def unit_properties(host, unit, *names):
    """systemctl show for these properties of one unit, as a dict."""
    out = host.check_output('systemctl show --property=%s %s', ','.join(names), unit)
    return dict(line.split('=', 1) for line in out.splitlines())


def env(name):
    """A value the verify play passes from the inventory; a clear error when the play did not."""
    try:
        return os.environ[name]
    except KeyError:
        raise pytest.UsageError('%s is not set: pass it in __testinfra_env of the scenario\'s '
                                'verify_host_state.yml (molecule/_shared/tasks/testinfra.yml)' % name) from None


def listens(host, port, proto='tcp'):
    """Whether anything listens on this port beyond the loopback addresses."""
    return [s for s in host.socket.get_listening_sockets()
            if s.startswith(proto + '://') and s.endswith(':%d' % port) and '://127.' not in s and '://::1' not in s]


@pytest.fixture
def hostname(host):
    """The inventory name of the host under test (its container's name)."""
    return host.backend.get_hostname()
