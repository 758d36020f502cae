# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a check over many targets at once, for the modules that take a list of them.

Private to the collection: clustered.mail.mail_probe (``endpoints``) and
clustered.mail.dns_rotation (``sets``) check each target in one call, where a
loop of tasks starts the module once per target.

``in_parallel(check, targets) -> list``
    ``check(target)`` for every target, at most MAX_CONCURRENT at a time, the
    results in the order of ``targets``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor

# Each check waits on the network, not the CPU.
MAX_CONCURRENT = 16


def in_parallel(check, targets):
    targets = list(targets)
    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=min(MAX_CONCURRENT, len(targets))) as pool:
        return list(pool.map(check, targets))
