# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host state of rspamd's Redis (on the data server in this scenario).

Run by verify_host_state.yml over docker exec.
"""


def test_redis_is_enabled_and_running(host):
    service = host.service('redis-server')
    assert service.is_enabled and service.is_running


def test_redis_config_holds_the_password_for_root_and_redis_only(host):
    f = host.file('/etc/redis/redis.conf')
    assert (f.user, f.group, f.mode) == ('root', 'redis', 0o640)
    assert f.contains('^requirepass ')
    assert f.contains('^protected-mode yes')


def test_redis_listens_on_its_addresses_never_the_wildcard(host):
    out = host.check_output('ss -Hltn sport = :6379')
    addresses = sorted(line.split()[3].rsplit(':', 1)[0] for line in out.splitlines() if line.strip())
    assert addresses and '127.0.0.1' in addresses
    assert not set(addresses) & {'0.0.0.0', '*', '[::]'}, addresses


def test_redis_firewall_is_loaded_and_enabled(host):
    assert host.service('clustered-mail-redis-firewall').is_enabled
    assert host.run('nft list table inet clustered_mail_redis').rc == 0
