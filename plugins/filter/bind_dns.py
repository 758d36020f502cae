# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters for the keys of clustered.mail.bind_dns: what the update key may change, and the keys' checks.

Thin wrappers: the logic lives in plugins/module_utils/_membership.py and
_dns_records.py. Documentation is in the sidecar <filter>.yml files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustered.mail.plugins.module_utils._dns_records import tsig_errors as _tsig_errors
from ansible_collections.clustered.mail.plugins.module_utils._membership import update_grants


def dns_update_grants(model):
    return update_grants(model)


def tsig_errors(keys):
    return _tsig_errors([dict(key) for key in keys])


class FilterModule(object):
    def filters(self):
        return {
            'dns_update_grants': dns_update_grants,
            'tsig_errors': tsig_errors,
        }
