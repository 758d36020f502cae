# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host state of the DNS servers (mail_dns), run by verify_host_state.yml over docker exec.

BIND_TEST_PRIMARY names the DNS primary: only it holds the update key.
"""

import pytest

from clustered_mail_testinfra import env, listens


@pytest.fixture
def primary(host):
    return host.backend.get_hostname() == env('BIND_TEST_PRIMARY')


def test_named_is_enabled_and_running(host):
    named = host.service('named')
    assert named.is_enabled and named.is_running


def test_named_listens_on_port_53_beyond_localhost_over_udp_and_tcp(host):
    for proto in ('tcp', 'udp'):
        assert listens(host, 53, proto), '%s: %s' % (proto, host.socket.get_listening_sockets())


def test_named_conf_is_root_owned_and_readable_by_bind_only_for_the_keys(host):
    conf = host.file('/etc/bind/named.conf')
    assert (conf.user, conf.group, conf.mode) == ('root', 'bind', 0o644)
    key = host.file('/etc/bind/clustered-mail-tsig.key')
    assert (key.user, key.group, key.mode) == ('root', 'bind', 0o640)


def test_the_update_key_is_only_on_the_primary(host, primary):
    text = host.file('/etc/bind/clustered-mail-tsig.key').content_string
    assert ('key "mail-cluster-transfer"' in text) == primary
    assert 'key "mail-cluster-xfr"' in text  # transfers and NOTIFY: every server


def test_zone_files_are_named_checkzone_clean(host, primary):
    if not primary:
        pytest.skip('a secondary keeps its copies in its own format')
    names = host.check_output('ls /var/lib/bind').split()
    zones = [n[3:] for n in names if n.startswith('db.') and not n.endswith('.jnl')]
    assert 'example.com' in zones
    for zone in zones:
        assert host.run('named-checkzone -q %s /var/lib/bind/db.%s', zone, zone).rc == 0, zone
