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
    """What the fake SMTP server delivered, as the fake IMAP server sees it: messages with UIDs and flags.

    A plain EXPUNGE removes every message marked \\Deleted, as a real server does; UID EXPUNGE only the UIDs given.
    """

    def __init__(self, deliver=True, accept_rcpt=True, uidplus=True, existing=()):
        self.deliver = deliver
        self.accept_rcpt = accept_rcpt
        self.uidplus = uidplus
        # (uid, text, flags) of what the user already had, e.g. a message they marked deleted
        self.mailbox = [[uid, text, set(flags)] for uid, text, flags in existing]
        self.next_uid = max([m[0] for m in self.mailbox] + [0]) + 1
        self.delivered = []
        self.commands = []
        self.logged_in = False
        self._data = None

    def smtp(self, line):
        if self._data is not None:
            if line == ".":
                if self.deliver:
                    text = "\n".join(self._data)
                    self.delivered.append(text)
                    self.mailbox.append([self.next_uid, text, set()])
                    self.next_uid += 1
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

    def uids(self):
        return [m[0] for m in self.mailbox]

    def imap(self, line):
        tag, _, rest = line.partition(" ")
        words = rest.split(" ")
        verb = words[0].upper()
        self.commands.append(rest)
        if verb == "CAPABILITY":  # like Dovecot: UIDPLUS is listed only after login
            return ["* CAPABILITY IMAP4rev1" + (" UIDPLUS" if self.uidplus and self.logged_in else ""), tag + " OK done"]
        if verb == "LOGIN":
            self.logged_in = True
            return [tag + " OK logged in"]
        if verb == "SELECT":
            return ["* %d EXISTS" % len(self.mailbox), tag + " OK [READ-WRITE] done"]
        if verb == "UID" and words[1].upper() == "SEARCH":
            token = words[-1].strip('"')
            return ["* SEARCH " + " ".join(str(m[0]) for m in self.mailbox if token in m[1]), tag + " OK done"]
        if verb == "UID" and words[1].upper() == "STORE":
            wanted = set(int(u) for u in words[2].split(","))
            for message in self.mailbox:
                if message[0] in wanted:
                    message[2].update(f.strip("()") for f in words[4:])
            return [tag + " OK done"]
        if verb == "UID" and words[1].upper() == "EXPUNGE" and self.uidplus:
            wanted = set(int(u) for u in words[2].split(","))
            self.mailbox = [m for m in self.mailbox if not (m[0] in wanted and "\\Deleted" in m[2])]
            return [tag + " OK done"]
        if verb == "EXPUNGE":
            self.mailbox = [m for m in self.mailbox if "\\Deleted" not in m[2]]
            return [tag + " OK done"]
        if verb == "LOGOUT":
            return ["* BYE", tag + " OK bye"]
        return [tag + " BAD unknown command"]


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
    assert r["token"] in store.delivered[0]
    assert r["smtp_response"].startswith("250")
    assert store.mailbox == [] and r["removed"] is True and r["changed"] is False


def test_only_the_probe_is_expunged_never_the_users_deleted_mail(monkeypatch, cluster):
    # RFC 4315: a plain EXPUNGE would also remove the message the user marked deleted and had not expunged yet.
    store, smtp, imap = cluster(existing=[(7, "the user's own message", ["\\Deleted"])])
    r = run(monkeypatch, **base(smtp, imap))
    assert r["failed"] is False and r["removed"] is True, r.get("msg")
    assert store.uids() == [7]
    assert not any(c.upper() == "EXPUNGE" for c in store.commands)


def test_without_uidplus_the_probe_stays_marked_and_nothing_else_goes(monkeypatch, cluster):
    store, smtp, imap = cluster(uidplus=False, existing=[(7, "the user's own message", ["\\Deleted"])])
    warnings = []
    monkeypatch.setattr(mail_roundtrip.AnsibleModule, "warn", lambda self, text: warnings.append(text))
    r = run(monkeypatch, **base(smtp, imap))
    assert r["failed"] is False and r["removed"] is False and r["changed"] is True, r.get("msg")
    assert store.uids() == [7, 8] and "\\Deleted" in store.mailbox[1][2]
    assert len(warnings) == 1 and "UIDPLUS" in warnings[0] and r["token"] in warnings[0]


def test_kept_message_is_a_change(monkeypatch, cluster):
    store, smtp, imap = cluster()
    r = run(monkeypatch, **base(smtp, imap, keep=True))
    assert r["failed"] is False and r["changed"] is True and store.uids() == [1] and store.mailbox[0][2] == set()


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
    assert r["failed"] is False and r["changed"] is False and store.delivered == [] and smtp.seen == []
