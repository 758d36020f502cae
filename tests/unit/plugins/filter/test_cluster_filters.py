# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.clustered.mail.plugins.filter.cluster import FilterModule
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import inventory, set_all

F = FilterModule().filters()


def test_filters_exposed():
    assert set(F) == {'cluster_model', 'cluster_errors', 'public_model', 'dns_errors', 'dns_zones', 'dns_serial',
                      'dns_zone_serves'}


def test_model_and_zones_and_serial():
    hostvars, groups = inventory()
    model = F['cluster_model'](hostvars, groups)
    zones = F['dns_zones'](model, default_ttl=600)
    assert zones[0]['name'] == 'example.com' and zones[0]['ttl'] == 600
    serial = F['dns_serial'](zones[0], '', '20250301')
    assert serial == 2025030100
    header = '; clustered.mail zone=example.com serial=%d hash=%s\n' % (serial, zones[0]['hash'])
    assert F['dns_serial'](zones[0], header, '20250302') == serial
    # named wrote the zone back after a drain and an undrain: same records, no header, its own serial
    import dns.name
    import dns.zone
    soa = zones[0]['soa']
    text = '@ %d IN SOA %s %s 2025030103 %d %d %d %d\n' % (zones[0]['ttl'], soa['mname'], soa['rname'], soa['refresh'],
                                                         soa['retry'], soa['expire'], soa['minimum'])
    text += ''.join('%s %d IN %s %s\n' % (r['owner'], r['ttl'], r['type'], r['value']) for r in zones[0]['records'])
    dumped = dns.zone.from_text(text, origin=dns.name.from_text('example.com'), relativize=False).to_text()
    assert F['dns_zone_serves'](zones[0], dumped)
    assert F['dns_serial'](zones[0], dumped, '20250302') == 2025030103  # kept: the file is not rewritten
    assert not F['dns_zone_serves'](zones[1], dumped)
    assert F['dns_serial'](zones[1], dumped, '20250302') == 2025030200


def test_errors_and_failures_name_the_variable():
    hostvars, groups = set_all(*inventory(), mail_cluster_ttl=2)
    assert F['cluster_errors'](hostvars, groups) == ['mail_cluster_ttl=2 on all: must be between 5 and 86400 (seconds)']
    assert F['dns_errors'](hostvars, groups) == F['cluster_errors'](hostvars, groups)
    with pytest.raises(AnsibleFilterError, match='mail_cluster_ttl=2'):
        F['cluster_model'](hostvars, groups)
    hostvars, groups = inventory()
    assert F['dns_errors'](hostvars, groups, default_ttl=1) == ['bind_dns_default_ttl=1: must be an integer between 5 and 604800']
    with pytest.raises(AnsibleFilterError, match='bind_dns_default_ttl=1'):
        F['dns_zones'](F['cluster_model'](hostvars, groups), default_ttl=1)
    with pytest.raises(AnsibleFilterError, match='today'):
        F['dns_serial']({'hash': 'x'}, '')
