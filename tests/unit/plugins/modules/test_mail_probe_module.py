# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mail_probe module: its arguments, and fail versus report on an unhealthy endpoint."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.clustered.mail.plugins.modules import mail_probe


def run(monkeypatch, **args):
    results = {}

    def finish(failed):
        def _finish(self, **kwargs):
            results.update(kwargs, failed=failed)
            raise SystemExit(int(failed))
        return _finish

    monkeypatch.setattr(mail_probe.AnsibleModule, "exit_json", finish(False))
    monkeypatch.setattr(mail_probe.AnsibleModule, "fail_json", finish(True))
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            mail_probe.main()
    return json.loads(json.dumps(results))


def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_unhealthy_endpoint_fails_the_task_with_the_reason(monkeypatch):
    port = closed_port()
    r = run(monkeypatch, host="127.0.0.1", protocol="smtp", port=port, timeout=2)
    assert r["failed"] is True and r["changed"] is False
    assert r["msg"].startswith("127.0.0.1:%d smtp failed at connect" % port)
    assert r["healthy"] is False and r["failed_phase"] == "connect"


def test_unhealthy_endpoint_is_reported_when_asked_not_to_fail(monkeypatch):
    port = closed_port()
    r = run(monkeypatch, host="127.0.0.1", protocol="pop3", port=port, timeout=2, fail_on_unhealthy=False)
    assert r["failed"] is False and r["healthy"] is False and r["port"] == port


def test_lmtp_with_implicit_tls_is_refused(monkeypatch):
    r = run(monkeypatch, host="127.0.0.1", protocol="lmtp", tls="implicit")
    assert r["failed"] is True and "lmtp has no implicit TLS" in r["msg"]


def test_username_needs_password(monkeypatch):
    r = run(monkeypatch, host="127.0.0.1", protocol="imap", username="alice")
    assert r["failed"] is True and "password" in r["msg"]


def test_default_port_is_returned(monkeypatch):
    calls = {}

    def fake_probe(**kwargs):
        calls.update(kwargs)
        from ansible_collections.clustered.mail.plugins.module_utils._mail_probe import ProbeResult
        return ProbeResult()

    monkeypatch.setattr(mail_probe, "probe", fake_probe)
    r = run(monkeypatch, host="mx.test", protocol="imap", tls="implicit")
    assert r["failed"] is False and r["port"] == 993 and calls["port"] == 993
