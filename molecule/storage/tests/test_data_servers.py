# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The data servers (mail_storage and storage_test_data): services, sockets, files."""

from clustered_mail_testinfra import release


def test_systemd_is_not_degraded(host):
    # "degraded" is how a ganesha that exited right after its start showed up
    assert host.run('systemctl is-system-running').stdout.strip() == 'running'


def test_the_export_services_are_enabled_and_running(host):
    for name in ('nfs-ganesha', 'smbd'):
        service = host.service(name)
        assert service.is_enabled and service.is_running, name


def test_nfs_and_smb_listen(host):
    assert host.socket('tcp://0.0.0.0:2049').is_listening or host.socket('tcp://:::2049').is_listening
    assert host.socket('tcp://0.0.0.0:445').is_listening or host.socket('tcp://:::445').is_listening


def test_rpcbind_runs_only_where_nfsv3_was_asked_for(host, nfs3_servers):
    rpcbind = host.service('rpcbind.socket')
    if host.backend.get_hostname() in nfs3_servers:
        assert rpcbind.is_running and not rpcbind.is_masked
        assert host.socket('tcp://0.0.0.0:111').is_listening
    else:
        assert rpcbind.is_masked and not rpcbind.is_running
        assert not host.socket('tcp://0.0.0.0:111').is_listening


def test_ganesha_knew_every_option_and_the_io_flusher_flag_only_on_debian_13(host):
    log = host.file('/var/log/ganesha/ganesha.log').content_string
    assert 'Unknown parameter' not in log and 'Unknown block' not in log and 'FATAL' not in log
    assert ('PR_SET_IO_FLUSHER due to EPERM, ignoring' in log) == (release(host) >= 13)


def test_configuration_files_are_root_owned_and_world_readable_only(host):
    for path in ('/etc/ganesha/ganesha.conf', '/etc/samba/smb.conf'):
        conf = host.file(path)
        assert (conf.user, conf.group, conf.mode) == ('root', 'root', 0o644), path


def test_the_export_belongs_to_the_mail_user_and_no_one_else(host):
    export = host.file('/lab/store')
    assert export.is_directory and export.user == 'vmail' and export.mode == 0o750
    config = host.file('/lab/store/config')
    assert config.is_directory and config.user == 'vmail' and config.mode == 0o750
