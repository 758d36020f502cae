# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.clustered.mail.plugins.modules import cluster_state_info
from ansible_collections.clustered.mail.tests.unit.plugins.modules.module_runner import run_module


def write(directory, name, content):
    with open(os.path.join(directory, name), 'w') as handle:
        handle.write(content if isinstance(content, str) else json.dumps(content))


def test_absent_files_are_empty_state(tmp_path, monkeypatch):
    state = os.path.join(str(tmp_path), 'never-written')
    result = run_module(cluster_state_info, {'state_dir': state}, monkeypatch)
    assert result == {'changed': False, 'failed': False, 'state_dir': state, 'drained': [], 'by_health': [], 'homes': {}}
    assert not os.path.exists(state)  # reading creates nothing


def test_returns_the_kept_state(tmp_path, monkeypatch):
    state = str(tmp_path)
    write(state, 'drained.json', {'drained': ['mail2', 'mail3'], 'by_health': ['mail3']})
    write(state, 'homes.json', {'homes': {'Alice@Example.com': 'mail2'}})
    write(state, 'health.json', {'mail2': {'failures': 3, 'successes': 0}})
    result = run_module(cluster_state_info, {'state_dir': state}, monkeypatch)
    assert not result['failed'] and result['changed'] is False
    assert result['drained'] == ['mail2', 'mail3'] and result['by_health'] == ['mail3']
    assert result['homes'] == {'alice@example.com': 'mail2'}


def test_check_mode_reads_the_same(tmp_path, monkeypatch):
    state = str(tmp_path)
    write(state, 'drained.json', {'drained': ['mail2'], 'by_health': []})
    result = run_module(cluster_state_info, {'state_dir': state, '_ansible_check_mode': True}, monkeypatch)
    assert not result['failed'] and result['drained'] == ['mail2']


def test_corrupt_file_fails_naming_it_and_the_fix(tmp_path, monkeypatch):
    state = str(tmp_path)
    write(state, 'drained.json', '{"drained": [')
    result = run_module(cluster_state_info, {'state_dir': state}, monkeypatch)
    assert result['failed']
    assert result['msg'].startswith(os.path.join(state, 'drained.json') + ': is not JSON')
    assert 'fix the file or remove it (clustered.mail.drain, undrain and health rewrite it' in result['msg']


def test_wrong_shape_fails(tmp_path, monkeypatch):
    state = str(tmp_path)
    write(state, 'homes.json', {'homes': ['alice@example.com']})
    result = run_module(cluster_state_info, {'state_dir': state}, monkeypatch)
    assert result['failed'] and result['msg'].startswith(os.path.join(state, 'homes.json') + ': homes must map')


def test_default_state_dir_is_the_model_default(monkeypatch):
    from ansible_collections.clustered.mail.plugins.module_utils._cluster import STATE_DIR
    result = run_module(cluster_state_info, {}, monkeypatch)
    assert result['state_dir'] == STATE_DIR


def action(state_dir):
    """The action plugin of the module, over a real local connection: one shell read, the checks on the controller."""
    from unittest import mock

    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook.play_context import PlayContext
    from ansible.plugins.loader import connection_loader

    from ansible_collections.clustered.mail.plugins.action.cluster_state_info import ActionModule

    context = PlayContext()
    task = mock.MagicMock(args={'state_dir': state_dir}, async_val=0, check_mode=False, diff=False)
    plugin = ActionModule(task, connection_loader.get('local', context), context, loader=DataLoader(), templar=None,
                          shared_loader_obj=None)
    return json.loads(json.dumps(plugin.run(task_vars={})))


CASES = {
    'never written': {},
    'kept state': {'drained.json': {'drained': ['mail2', 'mail3'], 'by_health': ['mail3']},
                   'homes.json': {'homes': {'Alice@Example.com': 'mail2', 'bob@example.com': 'mail1'}}},
    'empty files': {'drained.json': '', 'homes.json': '\n'},
    'corrupt': {'drained.json': '{"drained": ['},
    'wrong shape': {'homes.json': {'homes': ['alice@example.com']}},
    'not an object': {'drained.json': '["mail2"]'},
    'not utf-8 names': {'homes.json': {'homes': {'zoë@example.com': 'mail2'}}},
}


def test_the_action_returns_what_the_module_returns(tmp_path, monkeypatch):
    for case, files in CASES.items():
        state = str(tmp_path / case.replace(' ', '-'))
        if files:
            os.makedirs(state)
        for name, content in files.items():
            write(state, name, content)
        module = run_module(cluster_state_info, {'state_dir': state}, monkeypatch)
        ran = action(state)
        assert bool(ran.get('failed')) == module['failed'], case
        if module['failed']:
            assert ran['msg'] == module['msg'], case
        else:
            for key in ('changed', 'state_dir', 'drained', 'by_health', 'homes'):
                assert ran[key] == module[key], (case, key)


def test_a_state_file_that_cannot_be_read_fails_naming_it(tmp_path, monkeypatch):
    state = str(tmp_path)
    os.makedirs(os.path.join(state, 'drained.json'))  # even root cannot read a directory as a file
    module = run_module(cluster_state_info, {'state_dir': state}, monkeypatch)
    ran = action(state)
    prefix = os.path.join(state, 'drained.json') + ': cannot be read ('
    assert module['failed'] and module['msg'].startswith(prefix)
    assert ran['failed'] and ran['msg'].startswith(prefix) and 'fix the file or remove it' in ran['msg']
