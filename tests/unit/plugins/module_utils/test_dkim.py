# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import pytest

pytest.importorskip('cryptography')

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from ansible_collections.clustered.mail.plugins.module_utils import _dkim  # noqa: E402
from ansible_collections.clustered.mail.plugins.module_utils._dkim import DkimError, plan  # noqa: E402


@pytest.fixture(scope='module')
def pem():
    return _dkim.generate_private_key_pem()


def test_a_generated_key_is_rsa_2048_pkcs8(pem):
    assert pem.startswith(b'-----BEGIN PRIVATE KEY-----')
    key = serialization.load_pem_private_key(pem, password=None)
    assert key.key_size == 2048


def test_the_record_carries_the_der_subject_public_key_info(pem):
    key = serialization.load_pem_private_key(pem, password=None)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    p = _dkim.public_key_b64(pem)
    assert base64.b64decode(p) == der
    assert _dkim.txt_value(p) == 'v=DKIM1; k=rsa; p=' + p
    assert _dkim.record_name('mail', 'example.com') == 'mail._domainkey.example.com'


def test_a_non_rsa_or_broken_key_is_refused_without_echoing_it():
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(DkimError, match='not an RSA key'):
        _dkim.public_key_b64(ec_pem)
    with pytest.raises(DkimError, match='not an unencrypted PEM private key') as info:
        _dkim.public_key_b64(b'-----BEGIN PRIVATE KEY-----\nSECRETSTUFF\n-----END PRIVATE KEY-----\n')
    assert 'SECRETSTUFF' not in str(info.value)


def test_long_values_split_into_255_byte_strings_and_join_back(pem):
    value = _dkim.txt_value(_dkim.public_key_b64(pem))
    parts = _dkim.split_txt(value)
    assert len(value) > 255 and len(parts) == 2
    assert all(len(p.encode()) <= 255 for p in parts) and ''.join(parts) == value
    assert _dkim.split_txt('short') == ['short']


def test_a_served_record_matches_only_its_own_key(pem):
    p = _dkim.public_key_b64(pem)
    assert _dkim.record_matches('v=DKIM1; k=rsa; p=' + p, p)
    assert _dkim.record_matches('v=DKIM1;k=rsa; p=%s %s' % (p[:100], p[100:]), p)  # whitespace in p= is folded
    assert not _dkim.record_matches('v=DKIM1; k=rsa; p=' + p[:-4] + 'AAAA', p)
    assert not _dkim.record_matches('v=DKIM1; k=rsa; p=', p)  # a revoked key
    assert not _dkim.record_matches('v=DKIM1; k=ed25519; p=' + p, p)


@pytest.mark.parametrize('selector', ['mail', 's20260101', 'a', 'x-1'])
def test_selectors_that_are_one_dns_label(selector):
    assert _dkim.selector_error(selector) is None


@pytest.mark.parametrize('selector', ['', 'Mail', '-a', 'a-', 'a.b', 'a_b', '../x', 'a' * 64, None, 3])
def test_selectors_that_are_not_refused_naming_the_variable(selector):
    assert _dkim.selector_error(selector, 'mail_cluster_dkim_selector').startswith('mail_cluster_dkim_selector=')


@pytest.mark.parametrize('domain', ['', 'example', 'Example.com', 'example.com.', '../etc', 'a/b.com', None])
def test_domains_that_are_not_refused(domain):
    assert 'is not a domain name' in _dkim.domain_error(domain)


def test_a_new_domain_gets_the_first_selector():
    assert plan(None, 'present', 'mail', set()) == ({'signing': 'mail', 'published': ['mail'], 'retired': []},
                                                     ['mail'])


def test_a_key_the_user_supplied_is_adopted_not_generated():
    assert plan(None, 'present', 'mail', {'mine'}) == ({'signing': 'mine', 'published': ['mine'], 'retired': []},
                                                       [])
    assert plan(None, 'present', 'mail', {'mail', 'other'})[1] == []
    with pytest.raises(DkimError, match='several keys'):
        plan(None, 'present', 'mail', {'a', 'b'})


def test_present_is_a_no_op_for_a_domain_with_a_key():
    state = {'signing': 'old', 'published': ['old'], 'retired': []}
    assert plan(state, 'present', 'mail', {'old'}) == (state, [])


def test_a_published_key_that_vanished_is_an_error_not_replaced():
    with pytest.raises(DkimError, match="'old' is missing"):
        plan({'signing': 'old', 'published': ['old'], 'retired': []}, 'present', 'mail', set())


def test_rotation_publish_switch_retire():
    state = {'signing': 'a', 'published': ['a'], 'retired': []}
    state, generate = plan(state, 'publish', 'b', {'a'})
    assert state == {'signing': 'a', 'published': ['a', 'b'], 'retired': []} and generate == ['b']
    assert plan(state, 'publish', 'b', {'a', 'b'}) == (state, [])  # a rerun publishes nothing new
    state, generate = plan(state, 'switch', None, {'a', 'b'})
    assert state == {'signing': 'b', 'published': ['a', 'b'], 'retired': []} and generate == []
    assert plan(state, 'switch', None, {'a', 'b'})[0] == state  # so is a rerun of the switch
    assert plan(state, 'switch', 'b', {'a', 'b'})[0] == state
    state, generate = plan(state, 'retire', None, {'a', 'b'})
    assert state == {'signing': 'b', 'published': ['b'], 'retired': ['a']} and generate == []
    assert plan(state, 'retire', None, {'a', 'b'})[0] == state


def test_rotation_mistakes_are_refused_with_the_fix():
    state = {'signing': 'a', 'published': ['a'], 'retired': ['old']}
    with pytest.raises(DkimError, match='was retired'):
        plan(state, 'publish', 'old', {'a'})
    with pytest.raises(DkimError, match='needs the new selector'):
        plan(state, 'publish', None, {'a'})
    with pytest.raises(DkimError, match="'c' is not published"):
        plan(state, 'switch', 'c', {'a'})
    with pytest.raises(DkimError, match="'a' signs"):
        plan(state, 'retire', 'a', {'a'})
    two = {'signing': 'a', 'published': ['a', 'b', 'c'], 'retired': []}
    with pytest.raises(DkimError, match='several selectors were published after'):
        plan(two, 'switch', None, {'a', 'b', 'c'})


def test_retire_before_switch_keeps_the_selector_waiting_to_sign():
    state = {'signing': 'a', 'published': ['a', 'b'], 'retired': []}
    assert plan(state, 'retire', None, {'a', 'b'})[0] == state


def test_retire_one_selector_keeps_the_others():
    state = {'signing': 'a', 'published': ['a', 'b', 'c'], 'retired': []}
    assert plan(state, 'retire', 'b', {'a', 'b', 'c'})[0] == {'signing': 'a', 'published': ['a', 'c'],
                                                              'retired': ['b']}


@pytest.mark.parametrize('state, problem', [
    ([], 'not a JSON object'),
    ({'signing': 'a', 'published': 'a'}, 'lists'),
    ({'signing': 'a', 'published': ['b']}, 'does not publish it'),
    ({'signing': 'A', 'published': ['A']}, 'not a selector'),
    ({'signing': 'a', 'published': ['a'], 'retired': ['a']}, 'both published and retired'),
])
def test_a_broken_state_file_is_named(state, problem):
    assert problem in _dkim.state_error(state)
    assert _dkim.state_error({'signing': 'a', 'published': ['a'], 'retired': []}) is None


def test_txt_presentation_is_joined_back():
    assert _dkim.join_txt('"v=DKIM1; k=rsa; p=AB" "CD"') == 'v=DKIM1; k=rsa; p=ABCD'
    assert _dkim.join_txt('"a\\"b" "c\\\\d"') == 'a"bc\\d'
