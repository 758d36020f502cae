# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host state of the primaries (mail_primaries): the configuration meant for their release.

Run by verify_host_state.yml over docker exec; MAIL_TEST_STORE is the inventory's store path.
"""

import os

import yaml
from clustered_mail_testinfra import env, release


def doveconf(host, name):
    return host.check_output('doveconf -h %s', name)


def postconf(host, name):
    return host.check_output('postconf -h %s', name)


def test_postfix_and_dovecot_are_enabled_and_running(host):
    for name in ('postfix', 'dovecot'):
        service = host.service(name)
        assert service.is_enabled and service.is_running, name


def test_dovecot_has_the_shared_storage_settings_and_requires_tls_1_2(host):
    wanted = {'mmap_disable': 'yes', 'mail_fsync': 'always', 'lock_method': 'fcntl', 'mail_nfs_storage': 'yes',
              'mail_nfs_index': 'no', 'ssl': 'required', 'ssl_min_protocol': 'TLSv1.2'}
    assert dict((name, doveconf(host, name)) for name in wanted) == wanted


def test_debian_12_speaks_dovecot_2_3_and_debian_13_dovecot_2_4(host):
    if release(host) >= 13:
        assert doveconf(host, 'mail_driver') == 'maildir'
    else:
        assert doveconf(host, 'mail_location').startswith('maildir:~/Maildir:INDEX=/var/lib/dovecot/cluster/index/')


def test_postfix_guards_against_smuggling_and_offers_auth_only_after_tls(host):
    assert postconf(host, 'smtpd_forbid_bare_newline') == 'normalize'
    assert postconf(host, 'smtpd_tls_auth_only') == 'yes'


def test_the_postfix_queue_is_on_local_disk_not_on_the_store(host):
    queue = postconf(host, 'queue_directory')
    store = env('MAIL_TEST_STORE')
    assert host.check_output('findmnt -n -o TARGET -T %s', queue) != host.check_output('findmnt -n -o TARGET -T %s', store)
    assert host.mount_point(store).exists


def test_postfix_delivers_to_dovecot_at_most_n_at_a_time_per_recipient(host):
    # The role's default (this scenario keeps it); a recipient limit of 1 makes the
    # concurrency limit count per recipient (docs/accept-path.md measures why).
    defaults = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'mail_primary', 'defaults', 'main.yml')
    with open(defaults) as f:
        wanted = yaml.safe_load(f)['mail_primary_lmtp_recipient_concurrency']
    assert postconf(host, 'lmtp_destination_recipient_limit') == '1'
    assert postconf(host, 'lmtp_destination_concurrency_limit') == str(wanted)
