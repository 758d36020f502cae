# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""webmail_login against a scripted Roundcube over HTTPS: the same requests a browser's page makes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.server
import json
import threading
import urllib.parse

import pytest

from ansible_collections.clustered.mail.plugins.module_utils import _webmail_login
from ansible_collections.clustered.mail.plugins.modules import webmail_login
from ansible_collections.clustered.mail.tests.unit.plugins.fake_servers import self_signed
from ansible_collections.clustered.mail.tests.unit.plugins.modules.module_runner import run_module

NAME = "webmail.example.test"
LOGIN_PAGE = '<form><input type="hidden" name="_token" value="tok123"><input name="_pass" type="password"></form>'


class Roundcube(object):
    """A scripted Roundcube: one user, a session cookie, a request token, an INBOX of subjects."""

    def __init__(self, password="secret", subjects=("Hello",), imap_down=False):
        self.password = password
        self.subjects = list(subjects)
        self.imap_down = imap_down
        self.requests = []

    def handler(self):
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, code, body, headers=()):
                data = body.encode()
                self.send_response(code)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                app.requests.append(("GET", self.path, self.headers.get("Host")))
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                logged_in = "roundcube_sessauth=ok" in (self.headers.get("Cookie") or "")
                if query.get("_action") == ["list"]:
                    if not logged_in or self.headers.get("X-Roundcube-Request") != "req456":
                        return self.reply(403, "forbidden")
                    rows = "".join('this.add_message_row(%d,{"subject":%s});' % (i, json.dumps(s))
                                   for i, s in enumerate(app.subjects))
                    return self.reply(200, json.dumps({"exec": rows + 'this.set_rowcount("Messages 1 to %d of %d");'
                                                       % (len(app.subjects), len(app.subjects))}))
                if query.get("_task") == ["mail"] and logged_in:
                    return self.reply(200, '<script>rcmail.set_env({"request_token":"req456"});</script>')
                return self.reply(200, LOGIN_PAGE)

            def do_POST(self):
                form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                app.requests.append(("POST", self.path, self.headers.get("Host")))
                if form.get("_token") != ["tok123"]:
                    return self.reply(200, LOGIN_PAGE)
                if app.imap_down:
                    return self.reply(401, LOGIN_PAGE + '<script>rcmail.display_message("Connection to storage server'
                                      ' failed.","error");</script>')
                if form.get("_pass") != [app.password]:
                    return self.reply(401, LOGIN_PAGE + '<script>rcmail.display_message("Login failed.","warning");'
                                      '</script>')
                return self.reply(302, "", [("Location", "/?_task=mail"),
                                            ("Set-Cookie", "roundcube_sessauth=ok; path=/")])

        return Handler


class PlainRedirect(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(301)
        self.send_header("Location", "https://%s/" % NAME)
        self.send_header("Content-Length", "0")
        self.end_headers()


def serve(handler, context=None):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def webmail(tmp_path):
    made = []

    def make(names=(NAME,), **kwargs):
        context, ca = self_signed(tmp_path, names)
        app = Roundcube(**kwargs)
        server = serve(app.handler(), context)
        made.append(server)
        return app, server.server_address[1], ca
    yield make
    for server in made:
        server.shutdown()
        server.server_close()


def args(port, ca, **extra):
    # The name is kept for the certificate and Host; the connection goes to the address.
    result = dict(url="https://%s:%d/" % (NAME, port), address="127.0.0.1", username="alice@example.test",
                  password="secret", ca_path=ca, timeout=5)
    result.update(extra)
    return result


def test_logs_in_by_address_under_the_name_and_lists_the_inbox(monkeypatch, webmail):
    app, port, ca = webmail(subjects=["Hello", "Re: Hello"])
    r = run_module(webmail_login, args(port, ca, expect_subjects=["Re: Hello"]), monkeypatch)
    assert r["failed"] is False, r.get("msg")
    assert r["subjects"] == ["Hello", "Re: Hello"] and r["count"] == 2 and r["rowcount"] == "Messages 1 to 2 of 2"
    assert r["changed"] is False
    # login page, login (its redirect followed), mail page, list
    assert [m for m, p, h in app.requests] == ["GET", "POST", "GET", "GET", "GET"]
    assert all(h == "%s:%d" % (NAME, port) for m, p, h in app.requests)


def test_a_missing_subject_fails_and_lists_what_is_there(monkeypatch, webmail):
    app, port, ca = webmail(subjects=["Hello"])
    r = run_module(webmail_login, args(port, ca, expect_subjects=["Never sent"]), monkeypatch)
    assert r["failed"] is True and "lacks 'Never sent'" in r["msg"] and r["subjects"] == ["Hello"]


def test_a_wrong_password_fails_with_roundcubes_message(monkeypatch, webmail):
    app, port, ca = webmail(password="other")
    r = run_module(webmail_login, args(port, ca), monkeypatch)
    assert r["failed"] is True and r["msg"].startswith("webmail https://%s:%d/ at 127.0.0.1: login:" % (NAME, port))
    assert 'Roundcube says "Login failed."' in r["msg"] and "secret" not in json.dumps(r)


def test_roundcube_without_imap_says_so(monkeypatch, webmail):
    app, port, ca = webmail(imap_down=True)
    r = run_module(webmail_login, args(port, ca), monkeypatch)
    assert r["failed"] is True and "Connection to storage server failed." in r["msg"]


def test_a_certificate_for_another_name_is_refused(monkeypatch, webmail):
    app, port, ca = webmail(names=("other.example.test",))
    r = run_module(webmail_login, args(port, ca), monkeypatch)
    assert r["failed"] is True and "does not verify against the CA" in r["msg"] and app.requests == []


def test_plain_http_must_redirect_to_https():
    plain = serve(PlainRedirect)
    try:
        # The redirect is checked on port 80 by default; here on the plain server's port.
        report = _webmail_login._check_redirect(NAME, "/", "127.0.0.1", 5, port=plain.server_address[1])
        assert report["status"] == 301 and report["location"] == "https://%s/" % NAME
        refused = serve(http.server.SimpleHTTPRequestHandler)
        with pytest.raises(_webmail_login.Failure):
            _webmail_login._check_redirect("127.0.0.1", "/", None, 5, port=refused.server_address[1])
        refused.shutdown()
        refused.server_close()
    finally:
        plain.shutdown()
        plain.server_close()


def test_not_an_https_url_is_refused(monkeypatch):
    r = run_module(webmail_login, dict(url="http://%s/" % NAME, username="a", password="b"), monkeypatch)
    assert r["failed"] is True and "must be an https:// URL" in r["msg"]
