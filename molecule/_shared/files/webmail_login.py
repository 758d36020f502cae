#!/usr/bin/env python3
"""Log in to Roundcube over HTTPS as a user would, and list the INBOX.

    webmail_login.py --url https://webmail.example.com/ --user alice@example.com \\
        --password PW --cafile CA [--resolve ADDR] [--expect-subject S ...] [--check-http]

Verifies the web server's certificate against the cluster CA for the URL's
name (``--resolve`` connects to ADDR instead of resolving the name, keeping the
name for SNI and verification), fetches the login form's token, posts the
login, then asks Roundcube for the INBOX list (the AJAX call the web page makes,
with the X-Roundcube-Request token) and prints a JSON report with the subjects
it sees. ``--check-http`` also checks that plain HTTP redirects to HTTPS.
Exits 1, saying why, when a step fails or an expected subject is missing;
Roundcube's own message is reported (e.g. "Connection to storage server
failed." when it cannot reach or verify the IMAP server).

Standard library only.
"""
import argparse
import html
import http.client
import http.cookiejar
import json
import re
import socket
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 30


class Failure(Exception):
    """A step failed; the message says which and why."""


def resolving(connection_class, address):
    """``connection_class`` connecting to ``address`` whatever host the URL names."""

    class Connection(connection_class):
        def connect(self):
            if address:
                self._create_connection = lambda addr, *args, **kwargs: socket.create_connection(
                    (address, addr[1]), *args, **kwargs)
            super().connect()

    return Connection


class HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, context, address):
        super().__init__(context=context)
        self._address = address

    def https_open(self, req):
        return self.do_open(resolving(http.client.HTTPSConnection, self._address), req, context=self._context)


class HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, address):
        super().__init__()
        self._address = address

    def http_open(self, req):
        return self.do_open(resolving(http.client.HTTPConnection, self._address), req)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(opener, url, data=None, headers=None, step=''):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=dict(headers or {}))
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
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


def roundcube_message(page):
    """The message Roundcube shows on a page (display_message), if any."""
    found = re.search(r'display_message\(\s*"((?:[^"\\]|\\.)*)"', page)
    return json.loads('"%s"' % found.group(1)) if found else None


def login_token(page):
    found = re.search(r'<input[^>]*name="_token"[^>]*value="([^"]+)"', page) or \
        re.search(r'<input[^>]*value="([^"]+)"[^>]*name="_token"', page)
    return found.group(1) if found else None


def check_http(args, parsed):
    """Plain HTTP must answer with a redirect to the same name over HTTPS."""
    opener = urllib.request.build_opener(HTTPHandler(args.resolve), NoRedirect())
    url = urllib.parse.urlunparse(('http', parsed.hostname, parsed.path or '/', '', '', ''))
    try:
        opener.open(url, timeout=TIMEOUT)
    except urllib.error.HTTPError as exc:
        location = exc.headers.get('Location', '')
        if exc.code in (301, 302, 307, 308) and location.startswith('https://%s/' % parsed.hostname):
            return {'url': url, 'status': exc.code, 'location': location}
        raise Failure('http: %s answered %s with Location %r, not a redirect to https://%s/'
                      % (url, exc.code, location, parsed.hostname))
    except (urllib.error.URLError, OSError) as exc:
        raise Failure('http: cannot reach %s: %s' % (url, exc))
    raise Failure('http: %s answered without redirecting to HTTPS' % url)


def run(args):
    parsed = urllib.parse.urlparse(args.url)
    if parsed.scheme != 'https' or not parsed.hostname:
        raise Failure('--url must be an https:// URL, e.g. https://webmail.example.com/')
    base = args.url if args.url.endswith('/') else args.url + '/'
    report = {'url': base, 'user': args.user, 'mailbox': args.mailbox}
    if args.check_http:
        report['http_redirect'] = check_http(args, parsed)

    context = ssl.create_default_context(cafile=args.cafile)
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(HTTPSHandler(context, args.resolve), urllib.request.HTTPCookieProcessor(jar))

    dummy, page = fetch(opener, base, step='login page')
    token = login_token(page)
    if not token:
        raise Failure('login page: %s has no Roundcube login form (no _token field)' % base)

    final_url, page = fetch(opener, base + '?_task=login', data={
        '_token': token, '_task': 'login', '_action': 'login', '_timezone': 'UTC', '_url': '',
        '_user': args.user, '_pass': args.password,
    }, step='login')
    if 'name="_pass"' in page or '_task=mail' not in final_url + page:
        raise Failure('login: Roundcube refused %s: %s' % (args.user, roundcube_message(page) or 'no message (login page again)'))

    dummy, page = fetch(opener, base + '?' + urllib.parse.urlencode({'_task': 'mail', '_mbox': args.mailbox}),
                        step='mail page')
    found = re.search(r'"request_token"\s*:\s*"([^"]+)"', page)
    if not found:
        raise Failure('mail page: no request token after login (%s)' % (roundcube_message(page) or 'not a mail page'))
    request_token = found.group(1)

    query = urllib.parse.urlencode({'_task': 'mail', '_action': 'list', '_mbox': args.mailbox, '_remote': '1'})
    dummy, body = fetch(opener, base + '?' + query, headers={
        'X-Roundcube-Request': request_token, 'X-Requested-With': 'XMLHttpRequest'}, step='list')
    try:
        answer = json.loads(body)
    except ValueError:
        raise Failure('list: Roundcube did not answer with JSON: %r' % body[:200])
    script = answer.get('exec', '')
    if 'add_message_row' not in script and 'set_rowcount' not in script:
        message = re.search(r'display_message\(\s*"((?:[^"\\]|\\.)*)"', script)
        raise Failure('list: no message list for %s: %s' % (
            args.mailbox, json.loads('"%s"' % message.group(1)) if message else script[:200] or 'empty answer'))
    subjects = [html.unescape(json.loads('"%s"' % s))
                for s in re.findall(r'"subject"\s*:\s*"((?:[^"\\]|\\.)*)"', script)]
    count = re.search(r'set_rowcount\(\s*"((?:[^"\\]|\\.)*)"', script)
    report.update({'count': len(subjects), 'subjects': subjects,
                   'rowcount': json.loads('"%s"' % count.group(1)) if count else None})
    missing = [s for s in args.expect_subject if s not in subjects]
    if missing:
        report['missing'] = missing
        raise Failure('list: %s of %s lacks %s (it shows %s)' % (
            args.mailbox, args.user, ', '.join(repr(s) for s in missing), subjects), report)
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--url', required=True, help='Roundcube URL, e.g. https://webmail.example.com/')
    parser.add_argument('--user', required=True)
    parser.add_argument('--password', required=True)
    parser.add_argument('--cafile', required=True, help='CA certificate the web server must verify against')
    parser.add_argument('--resolve', metavar='ADDR', help="connect to ADDR instead of resolving the URL's name")
    parser.add_argument('--mailbox', default='INBOX')
    parser.add_argument('--expect-subject', action='append', default=[], metavar='S',
                        help='fail unless a message with this subject is listed (repeatable)')
    parser.add_argument('--check-http', action='store_true', help='also check that plain HTTP redirects to HTTPS')
    args = parser.parse_args()
    try:
        report = run(args)
    except Failure as exc:
        out = dict(exc.args[1]) if len(exc.args) > 1 else {'url': args.url, 'user': args.user}
        out.update({'ok': False, 'error': exc.args[0]})
        print(json.dumps(out, indent=2))
        print('webmail_login: %s' % exc.args[0], file=sys.stderr)
        return 1
    report['ok'] = True
    print(json.dumps(report, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
