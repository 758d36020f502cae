# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mail_roundtrip against a scripted SMTP server and a scripted IMAP server that share a 'store'."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


import pytest

from ansible_collections.clustered.mail.plugins.modules import mail_roundtrip
from ansible_collections.clustered.mail.tests.unit.plugins.modules.module_runner import run_module
from ansible_collections.clustered.mail.tests.unit.plugins.fake_servers import LineServer


class Store(object):
    """What the fake SMTP server delivered, as the fake IMAP server sees it."""

    def __init__(self, deliver=True, accept_rcpt=True):
        self.deliver = deliver
        self.accept_rcpt = accept_rcpt
        self.messages = []
        self.deleted = []
        self._data = None

    def smtp(self, line):
        if self._data is not None:
            if line == ".":
                if self.deliver:
                    self.messages.append("\n".join(self._data))
                self._data = None
                return ["250 2.0.0 Ok: queued as TEST"]
            self._data.append(line)
            return []
        verb = line.split(" ")[0].upper()
        if verb == "EHLO":
            return ["250-mx.test", "250 PIPELINING"]
        if verb == "RCPT":
            return ["250 2.1.5 Ok"] if self.accept_rcpt else ["550 5.1.1 User unknown"]
        if verb == "DATA":
            self._data = []
            return ["354 End data with <CR><LF>.<CR><LF>"]
        if verb == "QUIT":
            return ["221 bye"]
        return ["250 Ok"]

    def imap(self, line):
        tag, _, rest = line.partition(" ")
        verb = rest.split(" ")[0].upper()
        if verb == "CAPABILITY":
            return ["* CAPABILITY IMAP4rev1", tag + " OK done"]
        if verb == "LOGIN":
            return [tag + " OK logged in"]
        if verb == "SELECT":
            return ["* %d EXISTS" % len(self.messages), tag + " OK [READ-WRITE] done"]
        if verb == "SEARCH":
            token = rest.split(" ")[-1].strip('"')
            hits = [str(i + 1) for i, m in enumerate(self.messages) if token in m]
            return ["* SEARCH " + " ".join(hits), tag + " OK done"]
        if verb == "STORE":
            self.deleted.append(rest.split(" ")[1])
            return [tag + " OK done"]
        if verb == "EXPUNGE":
            return [tag + " OK done"]
        if verb == "LOGOUT":
            return ["* BYE", tag + " OK bye"]
        return [tag + " OK"]


@pytest.fixture
def cluster():
    made = []

    def make(**kwargs):
        store = Store(**kwargs)
        smtp = LineServer("220 p1.test ESMTP", store.smtp)
        imap = LineServer("* OK [CAPABILITY IMAP4rev1] ready", store.imap)
        made.extend([smtp, imap])
        return store, smtp, imap
    yield make
    for server in made:
        server.close()


def run(monkeypatch, **args):
    return run_module(mail_roundtrip, args, monkeypatch)


def base(smtp, imap, **extra):
    args = dict(smtp_host="127.0.0.1", smtp_port=smtp.port, imap_host="127.0.0.1", imap_port=imap.port,
                imap_tls="none", username="alice@example.test", password="secret", timeout=2)
    args.update(extra)
    return args


def test_message_is_sent_found_and_deleted(monkeypatch, cluster):
    store, smtp, imap = cluster()
    r = run(monkeypatch, **base(smtp, imap))
    assert r["failed"] is False, r.get("msg")
    assert r["token"] in store.messages[0]
    assert r["smtp_response"].startswith("250")
    assert store.deleted == ["1"] and r["changed"] is False


def test_kept_message_is_a_change(monkeypatch, cluster):
    store, smtp, imap = cluster()
    r = run(monkeypatch, **base(smtp, imap, keep=True))
    assert r["failed"] is False and r["changed"] is True and store.deleted == []


def test_accepted_but_never_delivered_fails_with_token(monkeypatch, cluster):
    store, smtp, imap = cluster(deliver=False)
    r = run(monkeypatch, **base(smtp, imap, timeout=0.5))
    assert r["failed"] is True
    assert "did not appear in the INBOX of alice@example.test" in r["msg"] and r["token"] in r["msg"]


def test_refused_recipient_fails_at_sending(monkeypatch, cluster):
    store, smtp, imap = cluster(accept_rcpt=False)
    r = run(monkeypatch, **base(smtp, imap))
    assert r["failed"] is True and "sending to 127.0.0.1" in r["msg"] and "550" in r["msg"]


def test_check_mode_sends_nothing(monkeypatch, cluster):
    store, smtp, imap = cluster()
    r = run(monkeypatch, _ansible_check_mode=True, **base(smtp, imap))
    assert r["failed"] is False and r["changed"] is False and store.messages == [] and smtp.seen == []
