# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""in_parallel: every target checked, at once, the results in the targets' order."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from ansible_collections.clustered.mail.plugins.module_utils import _concurrent


def test_results_keep_the_order_of_the_targets():
    # The first target finishes last: the order is the targets', not the finishing one.
    assert _concurrent.in_parallel(lambda t: time.sleep(0.05 * (3 - t)) or t * 10, [0, 1, 2]) == [0, 10, 20]


def test_targets_run_at_the_same_time_up_to_the_limit():
    running, peak, lock = [0], [0], threading.Lock()

    def check(target):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return target

    targets = list(range(_concurrent.MAX_CONCURRENT + 4))
    assert _concurrent.in_parallel(check, targets) == targets
    assert 1 < peak[0] <= _concurrent.MAX_CONCURRENT


def test_no_target_no_check():
    assert _concurrent.in_parallel(lambda t: 1 / 0, []) == []
