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
