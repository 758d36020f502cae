# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bench's play clock: each play's name and start time, and the end of the run, as JSON.

bench/run.py enables it (ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins,
ANSIBLE_CALLBACKS_ENABLED) and names the file in BENCH_PLAY_TIMES; it splits
a site run into the roles' plays and verify's by these boundaries. Times are
time.monotonic(), comparable only with each other.
"""

from __future__ import annotations

DOCUMENTATION = """
name: bench_play_times
type: aggregate
short_description: write each play's start time to the JSON file BENCH_PLAY_TIMES
description:
  - For bench/run.py only. Not part of the collection.
requirements:
  - the environment variable BENCH_PLAY_TIMES names the file to write
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_play_times'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plays = []

    def v2_playbook_on_play_start(self, play):
        self._plays.append({'name': play.get_name().strip(), 'start': time.monotonic()})

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get('BENCH_PLAY_TIMES')
        if path:
            with open(path, 'w') as f:
                json.dump({'plays': self._plays, 'end': time.monotonic()}, f, indent=1)
