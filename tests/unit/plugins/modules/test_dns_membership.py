# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.clustered.mail.tests.unit.plugins.modules.fake_dns import run_module

import dns.message  # noqa: E402
import dns.opcode  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdata  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rrset  # noqa: E402
import dns.flags  # noqa: E402
import dns.tsig  # noqa: E402

from ansible_collections.clustered.mail.plugins.modules import dns_membership
from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster
from ansible_collections.clustered.mail.plugins.module_utils._membership import rotation_rrsets
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import inventory

SECRET = 'dGVzdC1vbmx5LWtleS1mb3ItbW9sZWN1bGUtYmluZC0='


class UpdatableServer(object):
    """One authoritative server: answers queries, applies signed UPDATE messages."""

    def __init__(self, data):
        self.data = data  # {(owner., type): [values]}
        self.updates = []
        self.rcode = dns.rcode.NOERROR
        self.key_name = 'mail-cluster-transfer.'  # the update key it knows

    def __call__(self, message, where, timeout=None, port=53, **kwargs):
        # Through the wire, as named sees it: names absolute, the TSIG signature checked.
        keyring = dns.tsig.Key(self.key_name, SECRET, 'hmac-sha256')
        message = dns.message.from_wire(message.to_wire(), keyring=keyring)
        response = dns.message.make_response(message)
        if message.opcode() == dns.opcode.UPDATE:
            self.updates.append({'zone': message.question[0].name.to_text(), 'signed': message.had_tsig,
                                 'keyname': str(message.keyname),
                                 'rrsets': [r.to_text() for r in message.authority]})
            if self.rcode != dns.rcode.NOERROR:
                response.set_rcode(self.rcode)
                return response
            for rrset in message.authority:
                key = (rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype))
                values = self.data.setdefault(key, [])
                for rdata in rrset:
                    text = rdata.to_text()
                    if rrset.deleting == dns.rdataclass.NONE:
                        if text in values:
                            values.remove(text)
                    elif text not in values:
                        values.append(text)
            return response
        response.flags |= dns.flags.AA
        question = message.question[0]
        key = (question.name.to_text(), dns.rdatatype.to_text(question.rdtype))
        values = self.data.get(key)
        if values:
            rrset = dns.rrset.from_text_list(key[0], 60, 'IN', key[1], values)
            response.answer.append(rrset)
        return response


def model():
    hostvars, groups = inventory()
    return build_cluster(hostvars, groups)


def full_server(mdl, drained=()):
    data = {}
    for sets in rotation_rrsets(mdl, drained).values():
        for (owner, rtype), rrset in sets.items():
            data[(owner + '.', rtype)] = list(rrset['values'])
    return UpdatableServer(data)


def run(monkeypatch, server, tmp_path, **args):
    base = {'model': model(), 'key_secret': SECRET, 'state_dir': str(tmp_path)}
    base.update(args)
    return run_module(dns_membership, base, monkeypatch, server)


def test_drain_sends_one_signed_update_and_is_idempotent(monkeypatch, tmp_path):
    server = full_server(model())
    result = run(monkeypatch, server, tmp_path, state='drained', hosts=['primary2.example.com'], _ansible_diff=True)
    assert not result['failed'], result
    assert result['changed'] is True
    assert result['members_before'] == ['primary1', 'primary2', 'primary3']
    assert result['members_after'] == ['primary1', 'primary3']
    assert result['diff']['after'] == 'members: primary1, primary3\n'
    assert len(server.updates) == 1 and server.updates[0]['zone'] == 'example.com.'
    assert server.updates[0]['signed'] and server.updates[0]['keyname'] == 'mail-cluster-transfer.'
    text = ' '.join(server.updates[0]['rrsets'])
    assert 'mail.example.com. 0 NONE A 192.0.2.12' in text and 'example.com. 0 NONE MX 10 primary2.example.com.' in text
    assert '192.0.2.12' not in server.data[('mail.example.com.', 'A')]
    assert '10 primary2.example.com.' not in server.data[('example.com.', 'MX')]
    with open(os.path.join(str(tmp_path), 'drained.json')) as handle:
        assert json.load(handle) == {'drained': ['primary2'], 'by_health': []}
    again = run(monkeypatch, server, tmp_path, state='drained', hosts=['primary2'])
    assert again['changed'] is False and len(server.updates) == 1


def test_check_mode_sends_nothing(monkeypatch, tmp_path):
    server = full_server(model())
    result = run(monkeypatch, server, tmp_path, state='drained', hosts=['primary1'], _ansible_check_mode=True)
    assert result['changed'] is True and server.updates == []
    assert result['updates']['example.com']['delete']
    assert not os.path.exists(os.path.join(str(tmp_path), 'drained.json'))


def test_undrain_adds_back(monkeypatch, tmp_path):
    server = full_server(model(), ['primary3'])
    result = run(monkeypatch, server, tmp_path, state='rotating', hosts=['primary3'])
    assert result['changed'] and result['drained_before'] == ['primary3'] and result['drained_after'] == []
    assert '192.0.2.13' in server.data[('mail.example.com.', 'A')]
    assert '10 primary3.example.com.' in server.data[('example.com.', 'MX')]


def test_minimum_refused_naming_the_option(monkeypatch, tmp_path):
    server = full_server(model(), ['primary1'])
    result = run(monkeypatch, server, tmp_path, state='drained', hosts=['primary2', 'primary3'], min_members=2)
    assert result['failed'] and 'min_members=2' in result['msg'] and 'refusing to drain primary2, primary3' in result['msg']
    assert server.updates == []


def test_unset_options_come_from_the_model(monkeypatch, tmp_path):
    # mail_cluster_min_members, the update key's name and the state directory: the model's, not literals.
    hostvars, groups = inventory(mail_cluster_min_members=3, bind_dns_tsig_key_name='upd-key',
                                 bind_dns_state_dir=str(tmp_path / 'kept'))
    mdl = build_cluster(hostvars, groups)
    server = full_server(mdl)
    server.key_name = 'upd-key.'
    args = {'model': mdl, 'key_secret': SECRET, 'state': 'drained', 'hosts': ['primary2']}
    refused = run_module(dns_membership, args, monkeypatch, server)
    assert refused['failed'] and 'fewer than min_members=3 (mail_cluster_min_members)' in refused['msg']
    args['min_members'] = 2  # an option given wins
    result = run_module(dns_membership, args, monkeypatch, server)
    assert not result['failed'], result
    assert server.updates[0]['keyname'] == 'upd-key.'
    assert os.path.exists(str(tmp_path / 'kept' / 'drained.json'))


def test_unknown_host_and_refused_update(monkeypatch, tmp_path):
    server = full_server(model())
    result = run(monkeypatch, server, tmp_path, state='drained', hosts=['ns1'])
    assert result['failed'] and result['msg'].startswith('hosts=ns1: not a host of mail_primaries')
    server.rcode = dns.rcode.NOTAUTH
    result = run(monkeypatch, server, tmp_path, state='drained', hosts=['primary1'])
    assert result['failed'] and 'refused the update of zone example.com: NOTAUTH' in result['msg']
    assert 'bind_dns_tsig_secret' in result['msg']


def test_health_state(monkeypatch, tmp_path):
    server = full_server(model())
    # In service first (one healthy round): only then can a failure drain it.
    healthy = dict(state='health', health={'primary1': True, 'primary2': True, 'primary3': True}, failures_to_drain=2)
    assert run(monkeypatch, server, tmp_path, **healthy)['changed'] is False
    args = dict(state='health', health={'primary1': True, 'primary2': 'false', 'primary3': True}, failures_to_drain=2)
    assert run(monkeypatch, server, tmp_path, **args)['changed'] is False
    second = run(monkeypatch, server, tmp_path, **args)
    assert second['changed'] and second['drained_after'] == ['primary2']
    assert second['counters']['primary2'] == {'failures': 2, 'successes': 0, 'seen': True}
    args['health']['primary2'] = True
    assert run(monkeypatch, server, tmp_path, **args)['changed'] is False
    assert run(monkeypatch, server, tmp_path, **args)['drained_after'] == []


@pytest.mark.parametrize('bad', [{'model': {'hosts': {}}}, {'model': {}}])
def test_bad_model(monkeypatch, tmp_path, bad):
    result = run(monkeypatch, full_server(model()), tmp_path, state='drained', hosts=['primary1'], **bad)
    assert result['failed'] and result['msg'].startswith('model: not a cluster model')


def test_missing_dnspython(monkeypatch, tmp_path):
    monkeypatch.setattr(dns_membership, 'HAS_DNSPYTHON', False)
    monkeypatch.setattr(dns_membership, 'DNSPYTHON_IMPORT_ERROR', 'Traceback: no module named dns')
    server = full_server(model())
    result = run(monkeypatch, server, tmp_path, state='drained', hosts=['primary2'])
    assert result['failed'] and 'Failed to import the required Python library (dnspython)' in result['msg']
    assert server.updates == []
