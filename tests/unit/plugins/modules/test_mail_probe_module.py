# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mail_probe module: its arguments, and fail versus report on an unhealthy endpoint."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustered.mail.plugins.modules import mail_probe
from ansible_collections.clustered.mail.tests.unit.plugins.fake_servers import LineServer, closed_port
from ansible_collections.clustered.mail.tests.unit.plugins.modules.module_runner import run_module


def run(monkeypatch, **args):
    return run_module(mail_probe, args, monkeypatch)


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


def smtp_server():
    def reply(line):
        verb = line.split(" ")[0].upper()
        if verb == "EHLO":
            return ["250-mx.test", "250 PIPELINING"]
        return ["221 bye"] if verb == "QUIT" else ["250 ok"]
    return LineServer("220 mx.test ESMTP", reply)


def test_endpoints_are_all_probed_in_one_call_and_each_failure_is_named(monkeypatch):
    server = smtp_server()
    first, second = closed_port(), closed_port()
    try:
        r = run(monkeypatch, timeout=2, endpoints=[
            {"host": "127.0.0.1", "protocol": "smtp", "port": server.port, "capabilities": ["PIPELINING"]},
            {"host": "127.0.0.1", "protocol": "imap", "port": first},
            {"host": "127.0.0.1", "protocol": "pop3", "tls": "implicit", "port": second},
        ])
    finally:
        server.close()
    assert r["failed"] is True and r["healthy"] is False
    assert [e["healthy"] for e in r["endpoints"]] == [True, False, False]
    assert [e["port"] for e in r["endpoints"]] == [server.port, first, second]
    assert "127.0.0.1:%d imap failed at connect" % first in r["msg"]
    assert "127.0.0.1:%d pop3 failed at connect" % second in r["msg"]
    assert r["failed_phase"] == "connect"


def test_endpoints_all_healthy_pass(monkeypatch):
    servers = [smtp_server(), smtp_server()]
    try:
        r = run(monkeypatch, endpoints=[{"host": "127.0.0.1", "protocol": "smtp", "port": s.port, "capabilities": ["PIPELINING"]}
                                        for s in servers])
    finally:
        for s in servers:
            s.close()
    assert r["failed"] is False and r["healthy"] is True and r["failure"] is None
    assert [e["banner"] for e in r["endpoints"]] == ["mx.test ESMTP"] * 2


def test_an_endpoint_wants_capabilities_it_lacks(monkeypatch):
    server = smtp_server()
    try:
        r = run(monkeypatch, endpoints=[{"host": "127.0.0.1", "protocol": "smtp", "port": server.port, "capabilities": ["STARTTLS"]}])
    finally:
        server.close()
    assert r["failed"] is True and r["endpoints"][0]["failed_phase"] == "capabilities"


def test_endpoints_exclude_host_and_a_login(monkeypatch):
    endpoint = [{"host": "127.0.0.1", "protocol": "smtp"}]
    r = run(monkeypatch, endpoints=endpoint, host="127.0.0.1", protocol="smtp")
    assert r["failed"] is True and "mutually exclusive" in r["msg"]
    r = run(monkeypatch, endpoints=endpoint, username="alice", password="secret")
    assert r["failed"] is True and "mutually exclusive" in r["msg"]
    r = run(monkeypatch, endpoints=[{"host": "127.0.0.1", "protocol": "lmtp", "tls": "implicit"}])
    assert r["failed"] is True and "lmtp has no implicit TLS" in r["msg"]


def test_a_host_needs_a_protocol(monkeypatch):
    r = run(monkeypatch, host="127.0.0.1")
    assert r["failed"] is True and "protocol" in r["msg"]
