# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mail_probe module: its arguments, and fail versus report on an unhealthy endpoint."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket

from ansible_collections.clustered.mail.plugins.modules import mail_probe
from ansible_collections.clustered.mail.tests.unit.plugins.modules.module_runner import run_module


def run(monkeypatch, **args):
    return run_module(mail_probe, args, monkeypatch)


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
