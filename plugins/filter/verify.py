# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The verify_plan filter: what clustered.mail.verify checks (logic in module_utils/_verify.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustered.mail.plugins.module_utils._verify import verify_plan


class FilterModule(object):
    def filters(self):
        return {'verify_plan': verify_plan}
