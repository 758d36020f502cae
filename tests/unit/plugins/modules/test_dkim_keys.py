# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat

import pytest

pytest.importorskip('cryptography')

from ansible_collections.clustered.mail.plugins.module_utils import _dkim  # noqa: E402
from ansible_collections.clustered.mail.plugins.modules import dkim_keys  # noqa: E402
from ansible_collections.clustered.mail.tests.unit.plugins.modules.module_runner import run_module  # noqa: E402


def mode(path):
    return '%04o' % stat.S_IMODE(os.stat(path).st_mode)


def run(monkeypatch, base, **args):
    args.setdefault('domains', ['example.com', 'example.org'])
    return run_module(dkim_keys, dict(path=str(base), **args), monkeypatch)


def public(path):
    with open(path, 'rb') as handle:
        return _dkim.public_key_b64(handle.read())


def test_present_makes_a_signing_key_per_domain_then_changes_nothing(tmp_path, monkeypatch):
    base = tmp_path / 'dkim'
    result = run(monkeypatch, base, selector='mail')
    assert not result['failed'] and result['changed']
    assert [(k['domain'], k['selector'], k['signing']) for k in result['key_files']] == [
        ('example.com', 'mail', True), ('example.org', 'mail', True)]
    key = result['key_files'][0]['private_key']
    assert key == str(base / 'example.com' / 'mail.key')
    assert mode(str(base)) == '0700' and mode(str(base / 'example.com')) == '0700' and mode(key) == '0600'
    assert result['records'][0] == {'domain': 'example.com', 'selector': 'mail', 'name': 'mail._domainkey.example.com',
                                    'value': 'v=DKIM1; k=rsa; p=' + public(key)}
    assert result['records'][0]['value'] != result['records'][1]['value']  # a key per domain
    assert json.loads((base / 'example.com' / 'state.json').read_text()) == {
        'signing': 'mail', 'published': ['mail'], 'retired': []}
    again = run(monkeypatch, base, selector='other')
    assert not again['failed'] and again['changed'] is False
    assert again['records'] == result['records']


def test_no_private_key_material_in_the_result(tmp_path, monkeypatch):
    result = run(monkeypatch, tmp_path, selector='mail')
    with open(result['key_files'][0]['private_key']) as handle:
        body = handle.read().splitlines()[1]
    assert body not in json.dumps(result)
    assert 'PRIVATE' not in json.dumps(result)


def test_a_key_the_user_supplied_is_used_and_kept(tmp_path, monkeypatch):
    directory = tmp_path / 'example.com'
    directory.mkdir()
    supplied = directory / 'mine.key'
    pem = _dkim.generate_private_key_pem()
    supplied.write_bytes(pem)
    os.chmod(str(supplied), 0o644)
    result = run(monkeypatch, tmp_path, domains=['example.com'], selector='mail')
    assert result['changed'] and [k['selector'] for k in result['key_files']] == ['mine']
    assert supplied.read_bytes() == pem and mode(str(supplied)) == '0600'
    assert result['records'][0]['value'] == 'v=DKIM1; k=rsa; p=' + _dkim.public_key_b64(pem)
    assert not (directory / 'mail.key').exists()


def test_a_broken_supplied_key_fails_naming_the_file_and_changes_nothing(tmp_path, monkeypatch):
    directory = tmp_path / 'example.org'
    directory.mkdir()
    (directory / 'mail.key').write_text('-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n')
    result = run(monkeypatch, tmp_path, selector='mail')
    assert result['failed'] and 'example.org: %s is not an unencrypted PEM private key' % (directory / 'mail.key') \
        in result['msg']
    assert not (tmp_path / 'example.com').exists()  # planned first: the good domain was not touched either


def test_rotation_publish_switch_retire(tmp_path, monkeypatch):
    run(monkeypatch, tmp_path, selector='a')
    published = run(monkeypatch, tmp_path, selector='b', state='publish')
    assert published['changed']
    assert [(k['domain'], k['selector'], k['signing']) for k in published['key_files']] == [
        ('example.com', 'a', True), ('example.com', 'b', False), ('example.org', 'a', True), ('example.org', 'b', False)]
    assert [r['name'] for r in published['records']] == [
        'a._domainkey.example.com', 'b._domainkey.example.com', 'a._domainkey.example.org', 'b._domainkey.example.org']
    assert run(monkeypatch, tmp_path, selector='b', state='publish')['changed'] is False
    switched = run(monkeypatch, tmp_path, state='switch')
    assert switched['changed'] and [k['signing'] for k in switched['key_files']] == [False, True, False, True]
    assert switched['records'] == published['records']  # both still published
    assert run(monkeypatch, tmp_path, state='switch')['changed'] is False
    retired = run(monkeypatch, tmp_path, state='retire')
    assert retired['changed'] and [r['name'] for r in retired['records']] == [
        'b._domainkey.example.com', 'b._domainkey.example.org']
    assert retired['state']['example.com'] == {'signing': 'b', 'published': ['b'], 'retired': ['a']}
    assert run(monkeypatch, tmp_path, state='retire')['changed'] is False
    again = run(monkeypatch, tmp_path, selector='a', state='publish')
    assert again['failed'] and "selector 'a' was retired" in again['msg']


def test_check_mode_reports_and_writes_nothing(tmp_path, monkeypatch):
    result = run(monkeypatch, tmp_path / 'dkim', selector='mail', _ansible_check_mode=True)
    assert not result['failed'] and result['changed'] and result['records'] == []
    assert [k['selector'] for k in result['key_files']] == ['mail', 'mail']
    assert not (tmp_path / 'dkim').exists()


@pytest.mark.parametrize('args, message', [
    ({'selector': 'Bad_Sel'}, "selector='Bad_Sel': a DKIM selector must be one DNS label"),
    ({'selector': 'mail', 'domains': ['../etc']}, "domains: '../etc' is not a domain name"),
    ({'selector': 'mail', 'domains': ['a.com', 'A.com']}, "domains: ['a.com'] listed more than once"),
    ({'state': 'publish'}, 'state=publish needs selector'),
    ({'domains': ['example.com']}, 'no selector was given (mail_cluster_dkim_selector)'),
])
def test_bad_input_is_refused_with_the_fix(tmp_path, monkeypatch, args, message):
    result = run(monkeypatch, tmp_path, **args)
    assert result['failed'] and message in result['msg']
    assert os.listdir(str(tmp_path)) == []


def action(base, transport='local', check_mode=False, **args):
    """dkim_keys' action plugin on a fake task over a connection of this transport: its result, and the
    module calls it made (none on the controller, where it runs the same code in its own process)."""
    from unittest import mock

    from ansible.playbook.play_context import PlayContext
    from ansible_collections.clustered.mail.plugins.action.dkim_keys import ActionModule

    args = dict({'path': str(base), 'domains': ['example.com', 'example.org'], 'selector': 'mail'}, **args)
    task = mock.MagicMock(args=args, async_val=0, check_mode=check_mode, diff=False)
    connection = mock.MagicMock(transport=transport)
    connection._shell.tmpdir = None
    context = PlayContext()
    context.check_mode = check_mode
    plugin = ActionModule(task, connection, context, loader=None, templar=None, shared_loader_obj=None)
    calls = []

    def execute(module_name=None, module_args=None, task_vars=None):
        calls.append((module_name, module_args))
        return {'changed': False, 'from': 'module'}

    plugin._execute_module = execute
    return json.loads(json.dumps(plugin.run(task_vars={}))), calls


def test_on_the_controller_the_action_does_what_the_module_does_without_calling_it(tmp_path, monkeypatch):
    preview, calls = action(tmp_path / 'a', check_mode=True)
    assert calls == [] and preview['changed'] is True and not os.path.exists(str(tmp_path / 'a'))
    first, calls = action(tmp_path / 'a')
    assert calls == [] and first['changed'] is True and not first.get('failed')
    assert [key['selector'] for key in first['key_files']] == ['mail', 'mail']
    assert mode(first['key_files'][0]['private_key']) == '0600'
    again, calls = action(tmp_path / 'a')
    assert calls == [] and again['changed'] is False
    # the module, run on the same directory, returns the same keys and records
    module = run(monkeypatch, tmp_path / 'a', selector='mail')
    for key in ('key_files', 'records', 'state', 'changed'):
        assert again[key] == module[key]
    assert [record['domain'] for record in again['records']] == ['example.com', 'example.org']


def test_on_the_controller_bad_input_fails_as_the_module_does(tmp_path):
    result, calls = action(tmp_path, state='publish', selector=None)
    assert calls == [] and result['failed'] and 'state=publish needs selector' in result['msg']
    # the module's argument spec, as Ansible reports it for a module (the task fails with this message)
    from ansible.errors import AnsibleActionFail
    with pytest.raises(AnsibleActionFail, match='value of state must be one of: present, publish, switch, retire'):
        action(tmp_path, state='sideways')


def test_anywhere_else_the_action_sends_the_module(tmp_path):
    result, calls = action(tmp_path, transport='ssh')
    assert calls == [('clustered.mail.dkim_keys', {'path': str(tmp_path), 'domains': ['example.com', 'example.org'],
                                                   'selector': 'mail'})]
    assert result['from'] == 'module' and not os.path.exists(str(tmp_path / 'example.com'))
