# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The attributes every module of the collection documents (the community.general pattern)."""

    # The descriptions; a module adds its own support level, or uses READ_ONLY.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
"""

    # For the checking modules: they only query servers, so check mode changes nothing.
    READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - The module only queries servers; it runs the same in check mode.
  diff_mode:
    support: N/A
    details:
      - The module does not change anything, so there is nothing to diff.
"""
