# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.clustered.mail.plugins.filter.membership import FilterModule
from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import inventory

FILTERS = FilterModule().filters()


def test_rotation_model_by_short_name():
    mdl = build_cluster(*inventory())
    out = FILTERS['rotation_model'](mdl, ['primary2.example.com'])
    assert out['groups']['mail_primaries'] == ['primary1', 'primary3']
    assert FILTERS['rotation_model'](mdl, None)['groups']['mail_primaries'] == ['primary1', 'primary2', 'primary3']
    with pytest.raises(AnsibleFilterError, match='drained=nope: not a host of mail_primaries'):
        FILTERS['rotation_model'](mdl, ['nope'])


def test_rotation_hosts_from_a_string():
    mdl = build_cluster(*inventory())
    assert FILTERS['rotation_hosts'](mdl, 'primary3, primary1') == ['primary3', 'primary1']
    with pytest.raises(AnsibleFilterError, match=r'^host=ns2: not a host'):
        FILTERS['rotation_hosts'](mdl, 'ns2')
