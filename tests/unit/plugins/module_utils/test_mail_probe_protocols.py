# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mail_probe against small scripted servers on loopback (no real mail server needed)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import socket

import pytest

from ansible_collections.clustered.mail.plugins.module_utils import _mail_probe as mp
from ansible_collections.clustered.mail.tests.unit.plugins.fake_servers import LineServer, self_signed


def smtp_reply(auth_ok=True, offer_starttls=True, offer_auth=True):
    def reply(line):
        verb = line.split(" ")[0].upper()
        if verb in ("EHLO", "LHLO"):
            caps = ["250-mx.test", "250-PIPELINING", "250-SIZE 10240000"]
            if offer_starttls:
                caps.append("250-STARTTLS")
            if offer_auth:
                caps.append("250-AUTH PLAIN LOGIN")
            caps.append("250 8BITMIME")
            return caps
        if verb == "AUTH":
            user = base64.b64decode(line.split(" ")[2]).split(b"\0")
            ok = auth_ok and user[1] == b"alice" and user[2] == b"secret"
            return ["235 2.7.0 Authentication successful" if ok else "535 5.7.8 Authentication failed"]
        if verb == "QUIT":
            return ["221 bye"]
        return ["502 no"]
    return reply


@pytest.fixture
def servers():
    made = []
    yield lambda *a: made.append(LineServer(*a)) or made[-1]
    for s in made:
        s.close()


def test_smtp_healthy_reports_banner_capabilities_and_timings(servers):
    s = servers("220 mx.test ESMTP Postfix", smtp_reply())
    r = mp.probe("127.0.0.1", "smtp", port=s.port, capabilities=["pipelining", "AUTH"], banner_regex="Postfix")
    assert r.failure is None, r.failure
    assert r.banner == "mx.test ESMTP Postfix"
    assert "STARTTLS" in r.capabilities and "AUTH" in r.capabilities
    assert set(r.timings) >= {"connect", "capabilities", "total"}
    assert r.authenticated is None
    assert s.seen[0].upper().startswith("EHLO PROBE.INVALID")


def test_smtp_login_success_and_refusal(servers):
    good = servers("220 mx.test ESMTP", smtp_reply())
    r = mp.probe("127.0.0.1", "submission", port=good.port, username="alice", password="secret")
    assert r.failure is None and r.authenticated is True
    bad = servers("220 mx.test ESMTP", smtp_reply(auth_ok=False))
    r = mp.probe("127.0.0.1", "submission", port=bad.port, username="alice", password="wrong")
    assert r.authenticated is False and r.phase == "login"
    assert "535" in r.failure


def test_smtp_login_without_auth_offered_is_a_login_failure(servers):
    s = servers("220 mx.test ESMTP", smtp_reply(offer_auth=False))
    r = mp.probe("127.0.0.1", "submission", port=s.port, username="alice", password="secret")
    assert r.phase == "login" and "not offered" in r.failure


def test_smtp_missing_capability_and_bad_banner(servers):
    s = servers("220 mx.test ESMTP", smtp_reply())
    r = mp.probe("127.0.0.1", "smtp", port=s.port, capabilities=["SMTPUTF8"])
    assert r.phase == "capabilities" and "SMTPUTF8" in r.failure
    r = mp.probe("127.0.0.1", "smtp", port=s.port, banner_regex="^Exim")
    assert r.phase == "banner"


def test_smtp_busy_greeting_is_a_banner_failure(servers):
    s = servers("421 4.3.2 too busy", smtp_reply())
    r = mp.probe("127.0.0.1", "smtp", port=s.port)
    assert r.phase in ("connect", "banner") and "421" in r.failure


def test_starttls_not_offered_is_reported(servers):
    s = servers("220 mx.test ESMTP", smtp_reply(offer_starttls=False))
    r = mp.probe("127.0.0.1", "smtp", tls="starttls", port=s.port, validate_certs=False)
    assert r.phase == "starttls" and "not offered" in r.failure


def test_connection_refused_names_host_port_and_phase():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here now
    r = mp.probe("127.0.0.1", "imap", port=port, timeout=2)
    assert r.phase == "connect"
    assert r.failure.startswith("127.0.0.1:%d imap failed at connect" % port)
    assert r.as_dict()["healthy"] is False


def imap_reply(line):
    tag, _, rest = line.partition(" ")
    verb = rest.split(" ")[0].upper()
    if verb == "CAPABILITY":
        return ["* CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN", tag + " OK done"]
    if verb == "LOGIN":
        ok = [a.strip('"') for a in rest.split(" ")[1:3]] == ["alice", "secret"]
        return [tag + (" OK logged in" if ok else " NO [AUTHENTICATIONFAILED] bad")]
    if verb == "LOGOUT":
        return ["* BYE", tag + " OK bye"]
    return [tag + " BAD"]


def test_imap_capabilities_and_login(servers):
    s = servers("* OK [CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN] Dovecot ready.", imap_reply)
    r = mp.probe("127.0.0.1", "imap", port=s.port, capabilities=["IDLE", "AUTH=PLAIN"], username="alice", password="secret")
    assert r.failure is None, r.failure
    assert r.authenticated is True and "IDLE" in r.capabilities
    r = mp.probe("127.0.0.1", "imap", port=s.port, username="alice", password="nope")
    assert r.phase == "login" and r.authenticated is False


def test_imap_starttls_not_offered(servers):
    s = servers("* OK [CAPABILITY IMAP4rev1] ready", imap_reply)
    r = mp.probe("127.0.0.1", "imap", tls="starttls", port=s.port, validate_certs=False)
    assert r.phase == "starttls"


def pop3_reply(line):
    verb = line.split(" ")[0].upper()
    if verb == "CAPA":
        return ["+OK", "TOP", "UIDL", "USER", "."]
    if verb == "USER":
        return ["+OK"]
    if verb == "PASS":
        return ["+OK logged in" if line.split(" ")[1] == "secret" else "-ERR [AUTH] failed"]
    if verb == "QUIT":
        return ["+OK bye"]
    return ["-ERR"]


def test_pop3_login_and_capabilities(servers):
    s = servers("+OK Dovecot ready.", pop3_reply)
    r = mp.probe("127.0.0.1", "pop3", port=s.port, capabilities=["UIDL"], username="alice", password="secret")
    assert r.failure is None, r.failure
    assert r.capabilities == ["TOP", "UIDL", "USER"]
    r = mp.probe("127.0.0.1", "pop3", port=s.port, username="alice", password="bad")
    assert r.phase == "login"
    r = mp.probe("127.0.0.1", "pop3", tls="starttls", port=s.port, validate_certs=False)
    assert r.phase == "starttls"


@pytest.mark.parametrize("protocol,tls,port", [
    ("smtp", "none", 25), ("submission", "starttls", 587), ("imap", "implicit", 993),
    ("pop3", "implicit", 995), ("pop3", "none", 110), ("lmtp", "none", 24),
])
def test_default_ports(protocol, tls, port):
    assert mp.default_port(protocol, tls) == port


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError):
        mp.probe("127.0.0.1", "gopher")
    with pytest.raises(ValueError):
        mp.probe("127.0.0.1", "lmtp", tls="implicit")


def tls_smtp_reply(line):
    if line.split(" ")[0].upper() == "STARTTLS":
        return ["220 2.0.0 Ready to start TLS", LineServer.START_TLS]
    return smtp_reply()(line)


def test_smtp_starttls_verifies_the_certificate_for_the_address(servers, tmp_path):
    ctx, ca = self_signed(tmp_path)
    s = servers("220 mx.test ESMTP", tls_smtp_reply, ctx)
    r = mp.probe("127.0.0.1", "submission", tls="starttls", port=s.port, ca_path=ca,
                 username="alice", password="secret", capabilities=["AUTH"])
    assert r.failure is None, r.failure
    assert r.tls["version"] in ("TLSv1.2", "TLSv1.3") and r.authenticated is True
    assert "STARTTLS" in s.seen


def test_smtp_starttls_rejects_a_certificate_for_another_name(servers, tmp_path):
    ctx, ca = self_signed(tmp_path, names=("mx.elsewhere.test",))
    s = servers("220 mx.test ESMTP", tls_smtp_reply, ctx)
    r = mp.probe("127.0.0.1", "smtp", tls="starttls", port=s.port, ca_path=ca)
    assert r.phase == "starttls" and "certificate" in r.failure.lower()


def test_smtps_implicit_tls(servers, tmp_path):
    ctx, ca = self_signed(tmp_path)
    s = LineServer("220 mx.test ESMTP", smtp_reply(), ctx, implicit=True)
    try:
        r = mp.probe("127.0.0.1", "smtp", tls="implicit", port=s.port, ca_path=ca)
    finally:
        s.close()
    assert r.failure is None, r.failure
    assert r.tls is not None


def test_imaps_implicit_tls(tmp_path):
    ctx, ca = self_signed(tmp_path)
    s = LineServer("* OK [CAPABILITY IMAP4rev1] ready", imap_reply, ctx, implicit=True)
    try:
        r = mp.probe("127.0.0.1", "imap", tls="implicit", port=s.port, ca_path=ca, username="alice", password="secret")
    finally:
        s.close()
    assert r.failure is None, r.failure
    assert r.tls is not None and r.authenticated is True
