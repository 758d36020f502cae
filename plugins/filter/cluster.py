# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters exposing the cluster model and the DNS records derived from it.

Thin wrappers: the logic lives in plugins/module_utils/_cluster.py and
_dns_records.py. Documentation is in the sidecar <filter>.yml files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.clustered.mail.plugins.module_utils._cluster import (
    ClusterError, build_cluster, cluster_errors as _cluster_errors, public_model as _public_model,
)
from ansible_collections.clustered.mail.plugins.module_utils._dns_records import (
    dns_errors as _dns_errors, dns_zones as _dns_zones, next_serial, zone_serves, zone_state,
)


def _plain(value):
    """Ansible's lazy hostvars/groups (and tagged values) as plain containers."""
    if hasattr(value, 'items'):
        return dict((k, value[k]) for k in value)
    return value


def cluster_model(hostvars, groups, cluster_vars=None):
    try:
        return build_cluster(_plain(hostvars), _plain(groups), cluster_vars)
    except ClusterError as exc:
        raise AnsibleFilterError('the inventory does not describe a valid mail cluster:\n%s' % exc)


def public_model(model):
    return _public_model(model)


def cluster_errors(hostvars, groups, cluster_vars=None):
    return _cluster_errors(_plain(hostvars), _plain(groups), cluster_vars)


def dns_errors(hostvars, groups, default_ttl=3600, soa=None, extra_records=None, cluster_vars=None, dkim_records=None):
    errors = _cluster_errors(_plain(hostvars), _plain(groups), cluster_vars)
    if errors:
        return errors
    model = build_cluster(_plain(hostvars), _plain(groups), cluster_vars)
    return _dns_errors(model, default_ttl, soa, extra_records, dkim_records)


def dns_zones(model, default_ttl=3600, soa=None, extra_records=None, dkim_records=None):
    try:
        return _dns_zones(model, default_ttl, soa, extra_records, dkim_records)
    except ClusterError as exc:
        raise AnsibleFilterError('the DNS records cannot be derived:\n%s' % exc)


def dns_serial(zone, previous='', today=None):
    if today is None:
        raise AnsibleFilterError('dns_serial needs today, e.g. now(utc=true, fmt="%Y%m%d")')
    state = zone_state(previous)
    if zone_serves(zone, previous):  # named rewrote the file after updates, and serves what we would write
        return state['serial']
    return next_serial(state['serial'], state['hash'], zone['hash'], today)


def dns_zone_serves(zone, previous=''):
    return zone_serves(zone, previous)


class FilterModule(object):
    def filters(self):
        return {
            'cluster_model': cluster_model,
            'cluster_errors': cluster_errors,
            'public_model': public_model,
            'dns_errors': dns_errors,
            'dns_zones': dns_zones,
            'dns_serial': dns_serial,
            'dns_zone_serves': dns_zone_serves,
        }
