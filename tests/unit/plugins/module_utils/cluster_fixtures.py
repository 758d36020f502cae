# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Small inventories (hostvars, groups) shared by the unit tests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

HASH = '{SHA512-CRYPT}$6$salt$hash'


def inventory(**cluster):
    """Shape 5: two DNS servers, a data server, three primaries, a backup MX."""
    common = {'mail_cluster_domain': 'example.com'}
    common.update(cluster)
    hosts = {
        'ns1': ['192.0.2.1'],
        'ns2': ['192.0.2.2'],
        'store': ['192.0.2.10'],
        'primary1': ['192.0.2.11', '2001:db8::11'],
        'primary2': ['192.0.2.12', '198.51.100.12'],
        'primary3': ['192.0.2.13'],
        'backup': ['203.0.113.50'],
    }
    hostvars = {}
    for host, addresses in hosts.items():
        hv = copy.deepcopy(common)
        hv['mail_cluster_addresses'] = addresses
        hostvars[host] = hv
    groups = {
        'all': list(hosts) + ['client'],
        'mail_dns': ['ns1', 'ns2'],
        'mail_storage': ['store'],
        'mail_primaries': ['primary1', 'primary2', 'primary3'],
        'mail_backup_mx': ['backup'],
    }
    hostvars['client'] = {'ansible_host': '192.0.2.99'}
    return hostvars, groups


def set_all(hostvars, groups, **values):
    """Set cluster-wide variables the way group_vars/all does: on every host."""
    for hv in hostvars.values():
        hv.update(copy.deepcopy(values))
    return hostvars, groups
