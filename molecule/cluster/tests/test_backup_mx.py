# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host state of the backup MX (mail_backup_mx) after the faults, run by verify_host_state.yml.

Fault 2 made it queue for the primaries; it must be back to an empty queue,
relaying for the cluster domains (CLUSTER_TEST_DOMAINS) and storing nothing.
"""

from clustered_mail_testinfra import env, listens


def test_postfix_is_enabled_running_and_listening_on_port_25(host):
    postfix = host.service('postfix')
    assert postfix.is_enabled and postfix.is_running
    assert listens(host, 25), host.socket.get_listening_sockets()


def test_it_runs_no_mailbox_service(host):
    assert not host.service('dovecot').is_running
    assert not listens(host, 143) and not listens(host, 993)


def test_it_relays_for_the_cluster_domains_and_is_final_for_none(host):
    assert host.check_output('postconf -h relay_domains').replace(',', ' ').split() == env('CLUSTER_TEST_DOMAINS').split()
    assert host.check_output('postconf -h virtual_mailbox_domains') == ''


def test_its_queue_was_drained_to_the_primaries(host):
    assert host.check_output('postqueue -j') == ''
