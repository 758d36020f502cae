# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host state of the DNS servers (mail_dns) after the day-2 operations, run by verify_host_state.yml.

DAY2_TEST_DNS_PRIMARY names the DNS primary: the health timer runs there and nowhere else.
"""

from clustered_mail_testinfra import env, listens


def test_named_is_enabled_and_running(host):
    named = host.service('named')
    assert named.is_enabled and named.is_running


def test_named_answers_on_port_53_beyond_localhost(host):
    assert listens(host, 53, 'udp') and listens(host, 53, 'tcp'), host.socket.get_listening_sockets()


def test_the_health_timer_is_enabled_and_waiting_on_the_primary_only(host, hostname):
    timer = host.service('clustered-mail-health.timer')
    if hostname == env('DAY2_TEST_DNS_PRIMARY'):
        assert timer.is_enabled and timer.is_running
    else:
        # two timers would count every failure twice
        assert not host.file('/etc/systemd/system/clustered-mail-health.timer').exists
        assert not timer.is_running
