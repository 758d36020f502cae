# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters exposing the mail maps derived from the cluster model.

Thin wrappers: the logic lives in plugins/module_utils/_mail.py (on top of
_cluster.py). Documentation is in the sidecar <filter>.yml files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.clustered.mail.plugins.module_utils._cluster import (
    build_cluster, cluster_errors,
)
from ansible_collections.clustered.mail.plugins.module_utils._filter import mx_postfix
from ansible_collections.clustered.mail.plugins.module_utils._mail import (
    MailError, apply_homes, health_account, homes_agent, mail_errors as _mail_errors, mail_maps as _mail_maps, move_plan, tls_names,
)


def _plain(value):
    """Ansible's lazy hostvars/groups as plain containers."""
    if hasattr(value, 'items'):
        return dict((k, value[k]) for k in value)
    return value


def mail_errors(hostvars, groups, cluster_vars=None):
    errors = cluster_errors(_plain(hostvars), _plain(groups), cluster_vars)
    if errors:
        return errors
    return _mail_errors(build_cluster(_plain(hostvars), _plain(groups), cluster_vars))


def mail_maps(model, port=25, host=None, dovecot_series='2.4', health_password=None):
    try:
        return _mail_maps(model, port, host, dovecot_series, health_password)
    except MailError as exc:
        raise AnsibleFilterError('the mail maps cannot be derived:\n%s' % exc)


def mail_homes(model, homes=None):
    try:
        return apply_homes(model, _plain(homes))
    except MailError as exc:
        raise AnsibleFilterError('mail_homes: %s' % exc)


def _primary(filter_name, model, host):
    if host not in model.get('groups', {}).get('mail_primaries', []):
        raise AnsibleFilterError('%s: %s is not a host of mail_primaries' % (filter_name, host))
    return host


def mail_homes_agent(model, host, dovecot_series='2.4'):
    try:
        return homes_agent(model, _primary('mail_homes_agent', model, host), dovecot_series)
    except MailError as exc:
        raise AnsibleFilterError('mail_homes_agent: %s' % exc)


def mail_health_account(model, host):
    return health_account(model, _primary('mail_health_account', model, host))


def mail_move_errors(model, homes=None, user=None, to=None):
    try:
        move_plan(model, _plain(homes), user, to)
    except MailError as exc:
        return exc.errors
    return []


def mail_move_plan(model, homes=None, user=None, to=None):
    try:
        return move_plan(model, _plain(homes), user, to)
    except MailError as exc:
        raise AnsibleFilterError('the move cannot be planned:\n%s' % exc)


def mail_tls_names(model, host):
    if host not in model.get('hosts', {}):
        raise AnsibleFilterError('mail_tls_names: %s is not a host of the mail groups' % host)
    return tls_names(model, host)


class FilterModule(object):
    def filters(self):
        return {
            'mail_errors': mail_errors,
            'mail_health_account': mail_health_account,
            'mail_homes': mail_homes,
            'mail_homes_agent': mail_homes_agent,
            'mail_maps': mail_maps,
            'mail_move_errors': mail_move_errors,
            'mail_move_plan': mail_move_plan,
            'mail_tls_names': mail_tls_names,
            'mx_postfix': mx_postfix,
        }
