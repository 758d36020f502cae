# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The options of the modules that ask authoritative servers (module_utils/_dns_query.QUERY_ARGUMENTS)."""

    DOCUMENTATION = r"""
options:
  servers:
    description:
      - The authoritative servers to ask, as IP addresses. Each is asked directly (recursion not requested, no caching
        resolver in between) and checked on its own.
    type: list
    elements: str
    required: true
  port:
    description:
      - The DNS port of the servers.
    type: int
    default: 53
  timeout:
    description:
      - Timeout of each query, in seconds.
    type: float
    default: 3
  tcp:
    description:
      - Query over TCP instead of UDP (a truncated UDP answer is asked again over TCP either way).
      - Servers with response rate limiting (BIND C(rate-limit), as C(clustered.mail.bind_dns) sets up) drop most
        identical UDP answers to one client beyond a few per second, so many repeated queries over UDP time out; TCP is
        not rate-limited, and a server orders an rrset the same way over both.
    type: bool
    default: false
requirements:
  - dnspython
"""
