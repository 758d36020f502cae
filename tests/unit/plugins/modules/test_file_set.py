# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.clustered.mail.plugins.modules import file_set
from ansible_collections.clustered.mail.tests.unit.plugins.modules.module_runner import run_module


def mode(path):
    return '%04o' % stat.S_IMODE(os.stat(path).st_mode)


def entries(tmp_path, content='a = 1\n', validate=None):
    directory = os.path.join(str(tmp_path), 'unit.d')
    return [
        {'path': directory, 'state': 'directory', 'mode': '0755'},
        {'path': os.path.join(directory, 'one.conf'), 'content': content, 'mode': '0644', 'validate': validate},
        {'path': os.path.join(directory, 'two.conf'), 'content': 'secret\n', 'mode': '0600'},
    ]


def test_creates_the_set_then_changes_nothing(tmp_path, monkeypatch):
    files = entries(tmp_path)
    result = run_module(file_set, {'files': files}, monkeypatch)
    assert not result['failed'] and result['changed']
    assert result['changed_paths'] == [f['path'] for f in files]
    assert mode(files[0]['path']) == '0755' and mode(files[1]['path']) == '0644' and mode(files[2]['path']) == '0600'
    with open(files[1]['path']) as handle:
        assert handle.read() == 'a = 1\n'
    again = run_module(file_set, {'files': files}, monkeypatch)
    assert not again['failed'] and again['changed'] is False and again['changed_paths'] == []
    assert sorted(os.listdir(files[0]['path'])) == ['one.conf', 'two.conf']  # no temporary file left


def test_a_changed_mode_or_content_is_put_back_and_diffed(tmp_path, monkeypatch):
    files = entries(tmp_path)
    run_module(file_set, {'files': files}, monkeypatch)
    os.chmod(files[2]['path'], 0o644)
    with open(files[1]['path'], 'w') as handle:
        handle.write('a = 2\n')
    result = run_module(file_set, {'files': files, '_ansible_diff': True}, monkeypatch)
    assert result['changed_paths'] == [files[1]['path'], files[2]['path']]
    assert mode(files[2]['path']) == '0600'
    content = [d for d in result['diff'] if 'before_header' in d]
    assert content == [{'before_header': files[1]['path'], 'after_header': files[1]['path'],
                        'before': 'a = 2\n', 'after': 'a = 1\n'}]
    assert {'before': {'path': files[2]['path'], 'mode': '0644'},
            'after': {'path': files[2]['path'], 'mode': '0600'}} in result['diff']


def test_check_mode_reports_and_writes_nothing(tmp_path, monkeypatch):
    files = entries(tmp_path)
    result = run_module(file_set, {'files': files, '_ansible_check_mode': True}, monkeypatch)
    assert not result['failed'] and result['changed']
    assert result['changed_paths'] == [f['path'] for f in files]
    assert not os.path.exists(files[0]['path'])
    run_module(file_set, {'files': files}, monkeypatch)
    with open(files[1]['path'], 'w') as handle:
        handle.write('a = 2\n')
    result = run_module(file_set, {'files': files, '_ansible_check_mode': True}, monkeypatch)
    assert result['changed_paths'] == [files[1]['path']]
    with open(files[1]['path']) as handle:
        assert handle.read() == 'a = 2\n'


def test_a_failed_validation_replaces_no_file(tmp_path, monkeypatch):
    files = entries(tmp_path)
    run_module(file_set, {'files': files}, monkeypatch)
    changed = entries(tmp_path, content='a = 3\n', validate='/bin/false %s')
    changed[2]['content'] = 'other\n'
    result = run_module(file_set, {'files': changed}, monkeypatch)
    assert result['failed']
    assert result['msg'].startswith('validation of %s failed (/bin/false %%s, rc 1)' % files[1]['path'])
    assert result['msg'].endswith('no file of the set was replaced')
    for entry, text in ((files[1], 'a = 1\n'), (files[2], 'secret\n')):
        with open(entry['path']) as handle:
            assert handle.read() == text
    assert sorted(os.listdir(files[0]['path'])) == ['one.conf', 'two.conf']


def test_validate_sees_the_new_content(tmp_path, monkeypatch):
    files = entries(tmp_path, content='good\n', validate='grep -q good %s')
    result = run_module(file_set, {'files': files}, monkeypatch)
    assert not result['failed'] and result['changed']


def test_a_file_without_its_directory_fails_naming_it(tmp_path, monkeypatch):
    path = os.path.join(str(tmp_path), 'missing', 'x.conf')
    result = run_module(file_set, {'files': [{'path': path, 'content': 'x'}]}, monkeypatch)
    assert result['failed'] and 'the directory of %s does not exist' % path in result['msg']


def test_a_directory_where_a_file_belongs_fails(tmp_path, monkeypatch):
    result = run_module(file_set, {'files': [{'path': str(tmp_path), 'content': 'x'}]}, monkeypatch)
    assert result['failed'] and result['msg'] == '%s exists and is not a regular file' % tmp_path
