# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() with arguments and return what it would have printed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args


def run_module(module, args, monkeypatch):
    """The module's result dict, with 'failed' set by exit_json/fail_json."""
    results = {}

    def finish(failed):
        def _finish(self, **kwargs):
            results.update(kwargs, failed=failed)
            raise SystemExit(int(failed))
        return _finish

    monkeypatch.setattr(module.AnsibleModule, 'exit_json', finish(False))
    monkeypatch.setattr(module.AnsibleModule, 'fail_json', finish(True))
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(json.dumps(results))
