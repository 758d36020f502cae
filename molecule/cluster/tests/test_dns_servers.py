# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host state of the DNS servers (mail_dns) after the faults, run by verify_host_state.yml.

CLUSTER_TEST_DNS_PRIMARY names the DNS primary: it alone holds the update key and runs the health timer.
"""

import pytest

from clustered_mail_testinfra import env, listens


@pytest.fixture
def primary(hostname):
    return hostname == env('CLUSTER_TEST_DNS_PRIMARY')


def test_named_is_enabled_and_running(host):
    named = host.service('named')
    assert named.is_enabled and named.is_running


def test_named_answers_on_port_53_beyond_localhost(host):
    assert listens(host, 53, 'udp') and listens(host, 53, 'tcp'), host.socket.get_listening_sockets()


def test_the_health_timer_runs_on_the_primary_only(host, primary):
    timer = host.service('clustered-mail-health.timer')
    if primary:
        assert timer.is_enabled and timer.is_running
    else:
        # two timers would count every failure twice
        assert not host.file('/etc/systemd/system/clustered-mail-health.timer').exists and not timer.is_running
    assert host.file('/etc/clustered-mail/health.json').exists == primary


def test_the_update_key_is_only_on_the_primary(host, primary):
    key = host.file('/etc/bind/clustered-mail-tsig.key')
    assert (key.user, key.group, key.mode) == ('root', 'bind', 0o640)
    assert ('key "mail-cluster-transfer"' in key.content_string) == primary
