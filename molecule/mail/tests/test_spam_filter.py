# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host state of the MX nodes (mail_primaries, mail_backup_mx): rspamd as Postfix's milter, postscreen on port 25.

Run by verify_host_state.yml over docker exec.
"""

# rspamd's milter: a UNIX socket below Postfix's queue directory; Postfix names it relative to that directory.
MILTER_DIR = '/var/spool/postfix/rspamd'
MILTER = 'unix:rspamd/milter.sock'


def listeners(host, port):
    """The local addresses listening on TCP ``port``."""
    out = host.check_output('ss -Hltn sport = :%s', str(port))
    return sorted(line.split()[3] for line in out.splitlines() if line.strip())


def test_rspamd_is_enabled_and_running(host):
    service = host.service('rspamd')
    assert service.is_enabled and service.is_running


def test_rspamd_local_config_is_readable_by_rspamd_only(host):
    for name in ('local.d/redis.conf', 'local.d/actions.conf', 'local.d/greylist.conf', 'local.d/worker-proxy.inc',
                 'local.d/worker-controller.inc', 'override.d/options.inc'):
        f = host.file('/etc/rspamd/' + name)
        assert (f.user, f.group, f.mode) == ('root', '_rspamd', 0o640), name


def test_milter_is_a_socket_only_rspamd_and_postfix_reach(host):
    directory = host.file(MILTER_DIR)
    assert (directory.is_directory, directory.user, directory.group, directory.mode) == (True, '_rspamd', 'postfix', 0o750)
    assert host.file(MILTER_DIR + '/milter.sock').is_socket
    connect = "runuser -u %s -- python3 -c 'import socket; socket.socket(socket.AF_UNIX).connect(\"%s/milter.sock\")'"
    assert host.run(connect, 'postfix', MILTER_DIR).rc == 0
    assert host.run(connect, 'nobody', MILTER_DIR).rc != 0   # any other local user: no way in
    assert listeners(host, 11332) == []   # no TCP milter any more


def test_controller_listens_on_loopback_only(host):
    assert listeners(host, 11334) == ['127.0.0.1:11334']


def test_postfix_passes_mail_to_the_milter(host):
    assert host.check_output('postconf -h smtpd_milters') == MILTER
    assert host.check_output('postconf -h milter_protocol') == '6'
    assert host.check_output('postconf -h milter_default_action') == 'accept'


def test_port_25_is_postscreen(host):
    assert host.check_output('postconf -M smtp/inet').split()[-1] == 'postscreen'
    assert host.check_output('postconf -M smtpd/pass').split()[-1] == 'smtpd'
    assert host.check_output('postconf -h postscreen_greet_action') == 'enforce'


def test_postscreen_lets_the_cluster_s_own_hosts_through_and_tests_everyone_else(host):
    # The health round probes port 25 from the DNS primary with a 5 s timeout, and the backup MX relays
    # here: postscreen's 6 s pregreet pause must not hold cluster hosts. The client is no cluster host.
    access = host.check_output('postconf -h postscreen_access_list')
    first, table = access.split(', ', 1)
    assert first == 'permit_mynetworks' and table.startswith('cidr:{')
    for address in ('172.30.30.10', '172.30.30.11', '172.30.30.12', '172.30.30.20'):   # store, p1, p2, backup
        assert host.run('postmap -q %s %s', address, table).stdout.strip() == 'permit', address
    assert host.run('postmap -q %s %s', '172.30.30.30', table).rc == 1   # the client
