# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Log in to Roundcube over HTTPS as a user would, and list a mailbox.

Private to the collection: the module ``clustered.mail.webmail_login`` (used
by ``verify``) and the examples lane call it.

API
---
``login_and_list(url, user, password, cafile=None, address=None, mailbox='INBOX', expect_subjects=(),
check_redirect=False, validate_certs=True, timeout=30) -> dict``
    Verifies the web server's certificate (against ``cafile``, for the URL's
    name; ``address`` connects there instead of resolving the name, keeping
    the name for SNI and verification), fetches the login form's token, posts
    the login, then asks Roundcube for the mailbox's list (the AJAX call the
    web page makes, with the X-Roundcube-Request token). Returns
    ``{'url', 'user', 'mailbox', 'count', 'subjects', 'rowcount'}`` (and
    ``http_redirect`` with ``check_redirect``: plain HTTP must redirect to
    HTTPS). Raises :class:`Failure` naming the step that failed and why, with
    Roundcube's own message when it shows one (e.g. "Connection to storage
    server failed." when it cannot reach or verify the IMAP server), and
    when a subject of ``expect_subjects`` is not listed.

Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html
import http.client
import http.cookiejar
import json
import re
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request


class Failure(Exception):
    """A step failed: ``str(err)`` says which and why; ``err.report`` is what was seen until then."""

    def __init__(self, message, report=None):
        super(Failure, self).__init__(message)
        self.report = dict(report or {})


def _resolving(connection_class, address):
    """``connection_class`` connecting to ``address`` whatever host the URL names."""

    class Connection(connection_class):
        def connect(self):
            if address:
                self._create_connection = lambda addr, *args, **kwargs: socket.create_connection(
                    (address, addr[1]), *args, **kwargs)
            super(Connection, self).connect()

    return Connection


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, context, address):
        urllib.request.HTTPSHandler.__init__(self, context=context)
        self._address = address

    def https_open(self, req):
        return self.do_open(_resolving(http.client.HTTPSConnection, self._address), req, context=self._context)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, address):
        urllib.request.HTTPHandler.__init__(self)
        self._address = address

    def http_open(self, req):
        return self.do_open(_resolving(http.client.HTTPConnection, self._address), req)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def roundcube_message(page):
    """The message Roundcube shows on a page (display_message), if any."""
    found = re.search(r'display_message\(\s*"((?:[^"\\]|\\.)*)"', page)
    return json.loads('"%s"' % found.group(1)) if found else None


def login_token(page):
    """The CSRF token of Roundcube's login form, or None when the page has no login form."""
    found = re.search(r'<input[^>]*name="_token"[^>]*value="([^"]+)"', page) or \
        re.search(r'<input[^>]*value="([^"]+)"[^>]*name="_token"', page)
    return found.group(1) if found else None


def _fetch(opener, url, timeout, data=None, headers=None, step=''):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=dict(headers or {}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.geturl(), response.read().decode('utf-8', 'replace')
    except urllib.error.HTTPError as exc:
        # Roundcube answers a refused login with 401 and the login page carrying its message.
        message = roundcube_message(exc.read().decode('utf-8', 'replace'))
        raise Failure('%s: %s answered HTTP %s %s%s' % (
            step, url, exc.code, exc.reason, ': Roundcube says "%s"' % message if message else ''))
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise Failure('%s: the certificate of %s does not verify against the CA: %s'
                          % (step, url, reason.verify_message or reason))
        raise Failure('%s: cannot reach %s: %s' % (step, url, reason))
    except (OSError, http.client.HTTPException) as exc:
        raise Failure('%s: %s: %s' % (step, url, exc))


def _check_redirect(hostname, path, address, timeout, port=80):
    """Plain HTTP (on ``port``) must answer with a redirect to the same name over HTTPS."""
    opener = urllib.request.build_opener(_HTTPHandler(address), _NoRedirect())
    netloc = hostname if port == 80 else '%s:%d' % (hostname, port)
    url = urllib.parse.urlunparse(('http', netloc, path or '/', '', '', ''))
    try:
        opener.open(url, timeout=timeout)
    except urllib.error.HTTPError as exc:
        location = exc.headers.get('Location', '')
        if exc.code in (301, 302, 307, 308) and location.startswith('https://%s/' % hostname):
            return {'url': url, 'status': exc.code, 'location': location}
        raise Failure('http: %s answered %s with Location %r, not a redirect to https://%s/'
                      % (url, exc.code, location, hostname))
    except (urllib.error.URLError, OSError) as exc:
        raise Failure('http: cannot reach %s: %s' % (url, exc))
    raise Failure('http: %s answered without redirecting to HTTPS' % url)


def login_and_list(url, user, password, cafile=None, address=None, mailbox='INBOX', expect_subjects=(),
                   check_redirect=False, validate_certs=True, timeout=30):
    """See the module docstring."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme != 'https' or not parsed.hostname:
        raise Failure('url must be an https:// URL, e.g. https://webmail.example.com/ (got %r)' % url)
    base = url if url.endswith('/') else url + '/'
    report = {'url': base, 'user': user, 'mailbox': mailbox}
    if check_redirect:
        report['http_redirect'] = _check_redirect(parsed.hostname, parsed.path, address, timeout)

    context = ssl.create_default_context(cafile=cafile)
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(_HTTPSHandler(context, address),
                                         urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    dummy, page = _fetch(opener, base, timeout, step='login page')
    token = login_token(page)
    if not token:
        raise Failure('login page: %s has no Roundcube login form (no _token field)' % base, report)

    final_url, page = _fetch(opener, base + '?_task=login', timeout, data={
        '_token': token, '_task': 'login', '_action': 'login', '_timezone': 'UTC', '_url': '',
        '_user': user, '_pass': password,
    }, step='login')
    if 'name="_pass"' in page or '_task=mail' not in final_url + page:
        raise Failure('login: Roundcube refused %s: %s' % (user, roundcube_message(page) or 'no message (login page again)'),
                      report)

    dummy, page = _fetch(opener, base + '?' + urllib.parse.urlencode({'_task': 'mail', '_mbox': mailbox}), timeout,
                         step='mail page')
    found = re.search(r'"request_token"\s*:\s*"([^"]+)"', page)
    if not found:
        raise Failure('mail page: no request token after login (%s)' % (roundcube_message(page) or 'not a mail page'),
                      report)

    query = urllib.parse.urlencode({'_task': 'mail', '_action': 'list', '_mbox': mailbox, '_remote': '1'})
    dummy, body = _fetch(opener, base + '?' + query, timeout, headers={
        'X-Roundcube-Request': found.group(1), 'X-Requested-With': 'XMLHttpRequest'}, step='list')
    try:
        answer = json.loads(body)
    except ValueError:
        raise Failure('list: Roundcube did not answer with JSON: %r' % body[:200], report)
    script = answer.get('exec', '')
    if 'add_message_row' not in script and 'set_rowcount' not in script:
        raise Failure('list: no message list for %s: %s' % (mailbox, roundcube_message(script) or script[:200]
                                                            or 'empty answer'), report)
    subjects = [html.unescape(json.loads('"%s"' % s))
                for s in re.findall(r'"subject"\s*:\s*"((?:[^"\\]|\\.)*)"', script)]
    count = re.search(r'set_rowcount\(\s*"((?:[^"\\]|\\.)*)"', script)
    report.update({'count': len(subjects), 'subjects': subjects,
                   'rowcount': json.loads('"%s"' % count.group(1)) if count else None})
    missing = [s for s in expect_subjects if s not in subjects]
    if missing:
        report['missing'] = missing
        raise Failure('list: %s of %s lacks %s (it shows %s)' % (
            mailbox, user, ', '.join(repr(s) for s in missing), subjects), report)
    return report
