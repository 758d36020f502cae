# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Probe one mail endpoint (SMTP, submission, LMTP, IMAP, POP3) the way a client would.

Private to the collection. ``probe(**params)`` connects over plain TCP,
STARTTLS or implicit TLS, reads the banner, asks for the capabilities,
optionally logs in, and returns a ``ProbeResult``: what was seen, timings of
each phase in milliseconds, and ``failure`` (``None`` when healthy) naming the
phase that went wrong and why. It never raises for a protocol or network error;
the caller decides what a failure means (the mail_probe module fails, a health
check counts it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import imaplib
import poplib
import re
import smtplib
import socket
import ssl
import time
import uuid

PROTOCOLS = ("smtp", "submission", "lmtp", "imap", "pop3")
TLS_MODES = ("none", "starttls", "implicit")
DEFAULT_PORTS = {
    ("smtp", "none"): 25, ("smtp", "starttls"): 25, ("smtp", "implicit"): 465,
    ("submission", "none"): 587, ("submission", "starttls"): 587, ("submission", "implicit"): 465,
    ("lmtp", "none"): 24, ("lmtp", "starttls"): 24,
    ("imap", "none"): 143, ("imap", "starttls"): 143, ("imap", "implicit"): 993,
    ("pop3", "none"): 110, ("pop3", "starttls"): 110, ("pop3", "implicit"): 995,
}


class ProbeFailure(Exception):
    """A phase of the probe failed; ``phase`` names it for the report."""

    def __init__(self, phase, reason):
        super(ProbeFailure, self).__init__("%s: %s" % (phase, reason))
        self.phase = phase
        self.reason = reason


class ProbeResult(object):
    def __init__(self):
        self.banner = None
        self.capabilities = []
        self.tls = None  # {"version": ..., "cipher": ...} once TLS is up
        self.authenticated = None  # None: no login asked
        self.timings = {}
        self.failure = None
        self.phase = None

    def as_dict(self):
        return dict(
            healthy=self.failure is None,
            banner=self.banner,
            capabilities=self.capabilities,
            tls=self.tls,
            authenticated=self.authenticated,
            timings_ms=self.timings,
            failure=self.failure,
            failed_phase=self.phase,
        )


def default_port(protocol, tls):
    return DEFAULT_PORTS[(protocol, tls)]


def tls_context(validate_certs=True, ca_path=None, min_version="TLSv1.2"):
    ctx = ssl.create_default_context(cafile=ca_path) if validate_certs else ssl._create_unverified_context()
    ctx.minimum_version = getattr(ssl.TLSVersion, min_version.replace(".", "_"))
    return ctx


def _tls_info(sock):
    if sock is None or not hasattr(sock, "version"):
        return None
    cipher = sock.cipher()
    return {"version": sock.version(), "cipher": cipher[0] if cipher else None}


class _Clock(object):
    def __init__(self, timings):
        self.timings = timings
        self.start = time.monotonic()
        self.last = self.start

    def mark(self, phase):
        now = time.monotonic()
        self.timings[phase] = round((now - self.last) * 1000.0, 1)
        self.last = now

    def total(self):
        self.timings["total"] = round((time.monotonic() - self.start) * 1000.0, 1)


def _smtp(p, result, clock, ctx):
    cls = smtplib.SMTP_SSL if p["tls"] == "implicit" else (smtplib.LMTP if p["protocol"] == "lmtp" else smtplib.SMTP)
    kwargs = dict(timeout=p["timeout"])
    if p["tls"] == "implicit":
        kwargs["context"] = ctx
    client = cls(**kwargs)  # no host given: connect() below, so the banner is ours to read
    # smtplib takes the TLS server name (SNI and certificate check) from the
    # host given to the constructor, which we leave empty to read the banner.
    client._host = p["host"]
    try:
        try:
            code, banner = client.connect(p["host"], p["port"])
        except (socket.error, smtplib.SMTPException, ssl.SSLError) as e:
            raise ProbeFailure("connect", str(e))
        clock.mark("connect")
        result.banner = banner.decode("utf-8", "replace") if isinstance(banner, bytes) else str(banner)
        if code != 220:
            raise ProbeFailure("banner", "server greeted with %s %s" % (code, result.banner))
        if p["tls"] == "implicit":
            result.tls = _tls_info(client.sock)
        code, _msg = client.ehlo(p["helo_name"])  # LMTP sends LHLO here
        if code != 250:
            raise ProbeFailure("ehlo", "EHLO/LHLO answered %s" % code)
        if p["tls"] == "starttls":
            if not client.has_extn("starttls"):
                raise ProbeFailure("starttls", "STARTTLS is not offered (capabilities: %s)" % sorted(client.esmtp_features))
            try:
                client.starttls(context=ctx)
            except (smtplib.SMTPException, ssl.SSLError, socket.error) as e:
                raise ProbeFailure("starttls", str(e))
            result.tls = _tls_info(client.sock)
            clock.mark("tls")
            client.ehlo(p["helo_name"])
        result.capabilities = sorted(k.upper() for k in client.esmtp_features)
        clock.mark("capabilities")
        if p["username"]:
            try:
                client.login(p["username"], p["password"])
                result.authenticated = True
            except smtplib.SMTPNotSupportedError:
                result.authenticated = False
                raise ProbeFailure("login", "AUTH is not offered on this connection")
            except smtplib.SMTPAuthenticationError as e:
                result.authenticated = False
                raise ProbeFailure("login", "authentication refused: %s %s" % (e.smtp_code, e.smtp_error.decode("utf-8", "replace")))
            clock.mark("login")
        try:
            client.quit()
        except smtplib.SMTPException:
            pass
    finally:
        try:
            client.close()
        except Exception:  # pragma: no cover - closing a dead socket
            pass


def _imap(p, result, clock, ctx):
    try:
        if p["tls"] == "implicit":
            client = imaplib.IMAP4_SSL(p["host"], p["port"], ssl_context=ctx, timeout=p["timeout"])
        else:
            client = imaplib.IMAP4(p["host"], p["port"], timeout=p["timeout"])
    except (socket.error, imaplib.IMAP4.error, ssl.SSLError) as e:
        raise ProbeFailure("connect", str(e))
    clock.mark("connect")
    try:
        result.banner = client.welcome.decode("utf-8", "replace")
        if not result.banner.startswith("* OK"):
            raise ProbeFailure("banner", "server greeted with %s" % result.banner)
        if p["tls"] == "implicit":
            result.tls = _tls_info(client.sock)
        if p["tls"] == "starttls":
            if "STARTTLS" not in client.capabilities:
                raise ProbeFailure("starttls", "STARTTLS is not offered (capabilities: %s)" % sorted(client.capabilities))
            try:
                client.starttls(ssl_context=ctx)
            except (imaplib.IMAP4.error, ssl.SSLError, socket.error) as e:
                raise ProbeFailure("starttls", str(e))
            result.tls = _tls_info(client.sock)
            clock.mark("tls")
        typ, data = client.capability()
        if typ != "OK":
            raise ProbeFailure("capabilities", "CAPABILITY answered %s" % typ)
        result.capabilities = sorted(data[0].decode("ascii", "replace").upper().split()) if data and data[0] else []
        clock.mark("capabilities")
        if p["username"]:
            try:
                client.login(p["username"], p["password"])
                result.authenticated = True
            except imaplib.IMAP4.error as e:
                result.authenticated = False
                raise ProbeFailure("login", "authentication refused: %s" % e)
            clock.mark("login")
            if p.get("write"):
                _imap_write(client, clock)
            client.logout()
        else:
            client.logout()
    finally:
        try:
            client.shutdown()
        except Exception:  # pragma: no cover
            pass


def _imap_ok(phase, answer):
    typ, data = answer
    if typ != "OK":
        raise ProbeFailure(phase, "%s %s" % (typ, data))
    return data


def _imap_write(client, clock):
    """APPEND a message, read it back by UID, and expunge exactly that UID (UIDPLUS)."""
    token = "clustered-health-%s" % uuid.uuid4().hex
    message = ("From: <health@clustered.mail.invalid>\r\nSubject: %s\r\n"
               "Message-ID: <%s@clustered.mail.invalid>\r\n\r\nhealth probe\r\n" % (token, token)).encode("ascii")
    try:
        _imap_ok("append", client.append("INBOX", None, None, message))
        clock.mark("append")
        _imap_ok("select", client.select("INBOX"))
        found = _imap_ok("fetch", client.uid("SEARCH", "HEADER", "Message-ID", token))
        uids = found[0].split() if found and found[0] else []
        if len(uids) != 1:
            raise ProbeFailure("fetch", "the appended message %s was found %d times" % (token, len(uids)))
        body = _imap_ok("fetch", client.uid("FETCH", uids[0], "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
        if token.encode("ascii") not in b"".join(part[1] if isinstance(part, tuple) else b"" for part in body):
            raise ProbeFailure("fetch", "UID %s does not read back as %s" % (uids[0].decode(), token))
        clock.mark("fetch")
        _imap_ok("expunge", client.uid("STORE", uids[0], "+FLAGS.SILENT", "(\\Deleted)"))
        _imap_ok("expunge", client.uid("EXPUNGE", uids[0]))
        clock.mark("expunge")
    except imaplib.IMAP4.error as e:
        raise ProbeFailure("write", str(e))


def _pop3(p, result, clock, ctx):
    try:
        if p["tls"] == "implicit":
            client = poplib.POP3_SSL(p["host"], p["port"], context=ctx, timeout=p["timeout"])
        else:
            client = poplib.POP3(p["host"], p["port"], timeout=p["timeout"])
    except (socket.error, poplib.error_proto, ssl.SSLError) as e:
        raise ProbeFailure("connect", str(e))
    clock.mark("connect")
    try:
        result.banner = client.getwelcome().decode("utf-8", "replace")
        if not result.banner.startswith("+OK"):
            raise ProbeFailure("banner", "server greeted with %s" % result.banner)
        if p["tls"] == "implicit":
            result.tls = _tls_info(client.sock)
        try:
            caps = client.capa()
        except poplib.error_proto as e:
            raise ProbeFailure("capabilities", "CAPA refused: %s" % e)
        if p["tls"] == "starttls":
            if "STLS" not in caps:
                raise ProbeFailure("starttls", "STLS is not offered (capabilities: %s)" % sorted(caps))
            try:
                client.stls(context=ctx)
            except (poplib.error_proto, ssl.SSLError, socket.error) as e:
                raise ProbeFailure("starttls", str(e))
            result.tls = _tls_info(client.sock)
            clock.mark("tls")
            caps = client.capa()
        result.capabilities = sorted(k.upper() for k in caps)
        clock.mark("capabilities")
        if p["username"]:
            try:
                client.user(p["username"])
                client.pass_(p["password"])
                result.authenticated = True
            except poplib.error_proto as e:
                result.authenticated = False
                raise ProbeFailure("login", "authentication refused: %s" % e)
            clock.mark("login")
        client.quit()
    finally:
        try:
            client.close()
        except Exception:  # pragma: no cover
            pass


_HANDLERS = {"smtp": _smtp, "submission": _smtp, "lmtp": _smtp, "imap": _imap, "pop3": _pop3}


def probe(host, protocol, tls="none", port=None, timeout=10.0, helo_name="probe.invalid",
          username=None, password=None, validate_certs=True, ca_path=None,
          banner_regex=None, capabilities=None, min_tls_version="TLSv1.2", write=False):
    """Probe one endpoint; return a ProbeResult (never raises for network or protocol errors).

    ``write`` (IMAP, with a login): APPEND a message to the INBOX, read it
    back and expunge that one UID, so the probe proves the store is mounted,
    writable and answering, not only that a banner comes back.
    """
    if write and (protocol != "imap" or not username):
        raise ValueError("write needs protocol imap and a username")
    if protocol not in PROTOCOLS:
        raise ValueError("protocol must be one of %s" % ", ".join(PROTOCOLS))
    if tls not in TLS_MODES:
        raise ValueError("tls must be one of %s" % ", ".join(TLS_MODES))
    if (protocol, tls) not in DEFAULT_PORTS:
        raise ValueError("protocol %s has no %s TLS mode" % (protocol, tls))
    params = dict(host=host, protocol=protocol, tls=tls, port=port or default_port(protocol, tls),
                  timeout=timeout, helo_name=helo_name, username=username, password=password, write=write)
    result = ProbeResult()
    clock = _Clock(result.timings)
    ctx = tls_context(validate_certs, ca_path, min_tls_version) if tls != "none" else None
    try:
        _HANDLERS[protocol](params, result, clock, ctx)
        if banner_regex and not re.search(banner_regex, result.banner or ""):
            raise ProbeFailure("banner", "banner %r does not match %r" % (result.banner, banner_regex))
        missing = [c for c in (capabilities or []) if c.upper() not in result.capabilities
                   and not any(have.startswith(c.upper() + " ") or have.startswith(c.upper() + "=")
                               for have in result.capabilities)]
        if missing:
            raise ProbeFailure("capabilities", "missing %s (offered: %s)" % (", ".join(missing), ", ".join(result.capabilities)))
    except ProbeFailure as e:
        result.failure = "%s:%s %s failed at %s: %s" % (host, params["port"], protocol, e.phase, e.reason)
        result.phase = e.phase
    except (socket.error, ssl.SSLError, EOFError) as e:
        result.failure = "%s:%s %s failed: %s" % (host, params["port"], protocol, e)
        result.phase = "connection"
    clock.total()
    return result
