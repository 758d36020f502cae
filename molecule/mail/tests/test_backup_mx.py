# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host state of the backup MX (mail_backup_mx): a relay for the cluster domains, their final destination nowhere.

Run by verify_host_state.yml over docker exec; MAIL_TEST_DOMAINS lists the cluster's mail domains.
"""

from clustered_mail_testinfra import env


def postconf(host, name):
    return host.check_output('postconf -h %s', name)


def test_postfix_is_enabled_and_running(host):
    postfix = host.service('postfix')
    assert postfix.is_enabled and postfix.is_running


def test_the_cluster_domains_are_relay_domains_only(host):
    assert postconf(host, 'mydestination') == 'localhost'
    assert postconf(host, 'virtual_mailbox_domains') == ''
    assert postconf(host, 'virtual_alias_domains') == ''
    assert postconf(host, 'relay_domains').replace(',', ' ').split() == env('MAIL_TEST_DOMAINS').split()


def test_recipients_are_validated_against_the_relay_map(host):
    assert 'relay_recipients' in postconf(host, 'relay_recipient_maps')
