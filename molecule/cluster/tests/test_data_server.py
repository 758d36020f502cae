# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host state of the data server (mail_storage) after the faults, run by verify_host_state.yml.

The inventory asks for NFS only (storage_server_protocols: [nfs]), NFSv4.1+.
"""

from clustered_mail_testinfra import listens


def test_systemd_is_not_degraded(host):
    assert host.run('systemctl is-system-running').stdout.strip() == 'running'


def test_nfs_ganesha_is_enabled_running_and_listening(host):
    ganesha = host.service('nfs-ganesha')
    assert ganesha.is_enabled and ganesha.is_running
    assert listens(host, 2049), host.socket.get_listening_sockets()


def test_what_was_not_asked_for_does_not_run_smb_and_rpcbind(host):
    assert not host.service('smbd').is_running and not listens(host, 445)
    assert not host.service('rpcbind.socket').is_running and not listens(host, 111)


def test_the_export_belongs_to_the_mail_user_and_no_one_else(host):
    export = host.file('/lab/store')
    assert export.is_directory and (export.user, export.mode) == ('vmail', 0o750)
