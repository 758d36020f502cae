"""clustered.mail.cluster_secret: the inventory wins, else one generated secret per cluster, kept and reused."""
import base64
import os
import stat

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.clustered.mail.plugins.lookup.cluster_secret import LookupModule


class Lookup(LookupModule):
    """The plugin with its documented option defaults (no plugin loader in unit tests)."""

    def set_options(self, var_options=None, direct=None):
        self._test_options = dict({'dir': None, 'length': 32}, **(direct or {}))

    def get_option(self, option, hostvars=None):
        return self._test_options[option]


def run(tmp_path, name, **variables):
    lookup = Lookup()
    lookup._templar = None
    return lookup.run([name], variables=dict(variables, inventory_dir=str(tmp_path)))[0]


def test_tsig_secret_is_generated_once_as_64_bytes_of_base64(tmp_path):
    first = run(tmp_path, 'tsig_secret')
    # as long as the longest HMAC output bind_dns accepts (hmac-sha512), so any algorithm takes it
    assert len(base64.b64decode(first, validate=True)) == 64
    assert run(tmp_path, 'tsig_secret') == first
    path = tmp_path / '.clustered_mail_ca' / 'tsig_secret'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


def test_secrets_follow_the_ca_when_the_inventory_moves_it(tmp_path):
    # AWX: the job's container is thrown away; cluster_ca_dir points at a path that persists
    moved = tmp_path / 'persistent' / 'ca'
    secret = run(tmp_path, 'health_password', cluster_ca_dir=str(moved))
    assert (moved / 'health_password').read_text().strip() == secret
    assert not (tmp_path / '.clustered_mail_ca').exists()
    assert run(tmp_path, 'health_password', cluster_ca_dir=str(moved)) == secret
    assert run(tmp_path, 'health_password') != secret  # without it, beside the inventory


def test_transfer_and_update_keys_are_two_secrets(tmp_path):
    update = run(tmp_path, 'tsig_secret')
    transfer = run(tmp_path, 'transfer_secret')
    assert len(base64.b64decode(transfer, validate=True)) == 64
    assert transfer != update
    assert (tmp_path / '.clustered_mail_ca' / 'transfer_secret').read_text().strip() == transfer
    assert run(tmp_path, 'transfer_secret', bind_dns_transfer_secret='dGVzdA==') == 'dGVzdA=='


def test_the_inventory_variable_wins_over_the_file(tmp_path):
    run(tmp_path, 'tsig_secret')
    assert run(tmp_path, 'tsig_secret', bind_dns_tsig_secret='c2VjcmV0') == 'c2VjcmV0'
    # an empty role default does not count as set
    assert run(tmp_path, 'tsig_secret', bind_dns_tsig_secret='') != ''


def test_smb_password_is_shared_by_the_server_and_the_mount_variables(tmp_path):
    generated = run(tmp_path, 'smb_password', storage_server_smb_password='', storage_mount_cifs_password='')
    assert generated.isalnum() and len(generated) == 32
    assert run(tmp_path, 'smb_password', storage_mount_cifs_password='given') == 'given'
    assert run(tmp_path, 'smb_password', storage_server_smb_password='server',
               storage_mount_cifs_password='mount') == 'server'


def test_other_names_read_mail_cluster_variables(tmp_path):
    assert run(tmp_path, 'health_password', mail_cluster_health_password='pw') == 'pw'
    assert run(tmp_path, 'other_thing', mail_cluster_other_thing='x') == 'x'


def test_a_bad_name_is_refused(tmp_path):
    with pytest.raises(AnsibleLookupError, match='not a secret name'):
        run(tmp_path, '../escape')


def test_generation_can_be_refused_by_the_inventory(tmp_path):
    with pytest.raises(AnsibleLookupError, match='storage_server_smb_password is not set and mail_cluster_generate'):
        run(tmp_path, 'smb_password', mail_cluster_generate_secrets=False)
    assert not (tmp_path / '.clustered_mail_ca').exists()
    assert run(tmp_path, 'smb_password', storage_server_smb_password='vaulted', mail_cluster_generate_secrets='false') == 'vaulted'
