# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""public_model: what the rotation playbooks and the health timer keep of the model (no secret)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.clustered.mail.plugins.filter.cluster import FilterModule
from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster, public_model
from ansible_collections.clustered.mail.plugins.module_utils._dns_records import dns_zones
from ansible_collections.clustered.mail.plugins.module_utils._mail import apply_homes, health_account, homes_agent
from ansible_collections.clustered.mail.plugins.module_utils._membership import rotation_model, rotation_rrsets
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import inventory, set_all

SECRET = '{SHA512-CRYPT}$6$only-a-test$secret-hash-that-must-not-leak'


def model():
    return build_cluster(*set_all(*inventory(), mail_cluster_users=[
        {'name': 'alice', 'password_hash': SECRET, 'aliases': ['postmaster']},
        {'name': 'bob', 'password_hash': SECRET, 'home': 'primary3'},
    ]))


def test_no_password_hash_anywhere_in_it():
    public = public_model(model())
    assert SECRET not in json.dumps(public)
    assert all('password_hash' not in user for user in public['users'])


def test_everything_else_is_kept():
    full = model()
    public = public_model(full)
    assert [dict(u, password_hash=SECRET) for u in public['users']] == full['users']
    assert dict(public, users=None) == dict(full, users=None)


def test_the_model_itself_is_not_changed():
    full = model()
    public_model(full)
    assert all(user['password_hash'] == SECRET for user in full['users'])


def test_rotation_derives_the_same_records_from_it():
    """The health round and the playbooks change DNS from the public model: the same zones and rrsets."""
    full, public = model(), public_model(model())
    assert dns_zones(rotation_model(public, ['primary2'])) == dns_zones(rotation_model(full, ['primary2']))
    assert rotation_rrsets(public, ['primary1']) == rotation_rrsets(full, ['primary1'])
    homes = {'homes': {'alice@example.com': 'primary2'}}
    assert apply_homes(public, homes)['users'][0]['home'] == apply_homes(full, homes)['users'][0]['home'] == 'primary2'
    assert health_account(public, 'primary1') == health_account(full, 'primary1')
    assert homes_agent(public, 'primary1') == homes_agent(full, 'primary1')


def test_exposed_as_a_filter():
    assert FilterModule().filters()['public_model'](model()) == public_model(model())
