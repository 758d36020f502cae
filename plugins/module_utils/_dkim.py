# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DKIM keys, their rotation state and their DNS records: the plain logic.

Private to the collection (``_``-prefixed). ``clustered.mail.dkim_keys`` runs
it on the controller against ``<cluster_ca_dir>/dkim/<domain>/``; the zone
derivation (``_dns_records``) and verify use the records it returns.

Per domain the state is a small dict (stored as ``state.json``)::

    {'signing': 's1', 'published': ['s1', 's2'], 'retired': ['s0']}

- ``signing``   the selector whose key signs outgoing mail (always published);
- ``published`` the selectors whose public keys are in DNS, in order;
- ``retired``   selectors no longer published; never used again, so that a
  retired (possibly leaked) key cannot come back by accident.

Rotation is three steps, each a pure function here (:func:`plan`):
``publish`` a new selector beside the signing one, wait one TTL, ``switch``
signing to it (the old stays published so mail signed a moment ago still
verifies), later ``retire`` the old one.

Private key material never leaves this module except as bytes written to a
file; results carry only paths, selectors and public keys.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import re
import stat
import tempfile

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - reported by the module with missing_required_lib
    HAS_CRYPTOGRAPHY = False

KEY_BITS = 2048
STATE_FILE = 'state.json'
KEY_SUFFIX = '.key'
TXT_CHUNK = 255  # RFC 1035 section 3.3.14: one <character-string> is at most 255 bytes

# A selector is one DNS label (RFC 6376 allows dotted selectors; one label keeps file names and records simple).
_LABEL = re.compile(r'^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$')
_DOMAIN = re.compile(r'^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$')
STATES = ('present', 'publish', 'switch', 'retire')


class DkimError(Exception):
    """A problem a person must fix; the message says what and how (changed: whether files were written before it)."""

    def __init__(self, message, changed=False):
        super(DkimError, self).__init__(message)
        self.changed = changed


# The options of clustered.mail.dkim_keys, for its module and its action plugin (which runs keep() on the controller).
ARGUMENT_SPEC = dict(
    path=dict(type='path', required=True),
    domains=dict(type='list', elements='str', required=True),
    selector=dict(type='str'),
    state=dict(type='str', choices=list(STATES), default='present'),
)


def selector_error(selector, variable='selector'):
    """None, or a message saying why ``selector`` is not a usable DKIM selector."""
    if not isinstance(selector, str) or not _LABEL.match(selector):
        return ('%s=%r: a DKIM selector must be one DNS label: lower-case letters, digits and inner hyphens, '
                'at most 63 characters (e.g. "mail" or "s20260101")' % (variable, selector))
    return None


def domain_error(domain, variable='domains'):
    """None, or a message saying why ``domain`` is not a usable mail domain name."""
    if not isinstance(domain, str) or not _DOMAIN.match(domain):
        return ('%s: %r is not a domain name in lower case without a trailing dot (e.g. "example.com")'
                % (variable, domain))
    return None


def record_name(selector, domain):
    """The owner name of a selector's key record (no trailing dot)."""
    return '%s._domainkey.%s' % (selector, domain)


def generate_private_key_pem():
    """A new RSA private key (PKCS#8 PEM, unencrypted): the format rspamd and OpenDKIM read."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_key_b64(private_pem):
    """Base64 of the DER SubjectPublicKeyInfo of an RSA private key in PEM (the p= of the record).

    Raises DkimError when the PEM is not an unencrypted RSA private key."""
    try:
        key = serialization.load_pem_private_key(private_pem, password=None)
    except (ValueError, TypeError) as exc:
        # The exception text never holds key material, only what was wrong with it.
        raise DkimError('not an unencrypted PEM private key (%s)' % exc)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DkimError('not an RSA key; DKIM with k=rsa needs one')
    if key.key_size < 1024:
        raise DkimError('an RSA key of %d bits; DKIM verifiers reject keys under 1024 bits' % key.key_size)
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode('ascii')


def txt_value(public_b64):
    """The DKIM key record's text (RFC 6376 section 3.6.1)."""
    return 'v=DKIM1; k=rsa; p=%s' % public_b64


def split_txt(value, limit=TXT_CHUNK):
    """A TXT value as the list of <=limit-byte strings one record carries (joined again by the reader)."""
    data = value.encode('ascii')
    return [data[i:i + limit].decode('ascii') for i in range(0, len(data), limit)] or ['']


_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def join_txt(presentation):
    """The text of one TXT record from its presentation form (``"part one" "part two"``), its strings joined."""
    parts = _QUOTED.findall(presentation)
    if not parts:
        return presentation
    return ''.join(re.sub(r'\\(.)', r'\1', part) for part in parts)


def tags(value):
    """The tag=value pairs of a DKIM key record, whitespace removed from the values (RFC 6376 section 3.2)."""
    result = {}
    for part in value.split(';'):
        if '=' in part:
            name, _sep, val = part.partition('=')
            result[name.strip()] = re.sub(r'\s+', '', val)
    return result


def record_matches(served, public_b64):
    """Whether a served record (the joined TXT strings) carries exactly this public key."""
    found = tags(served)
    return (found.get('v', 'DKIM1') == 'DKIM1' and found.get('k', 'rsa') == 'rsa'
            and found.get('p') == public_b64)


def empty_state():
    return {'signing': None, 'published': [], 'retired': []}


def state_error(state):
    """None, or what is wrong with a state read from state.json."""
    if not isinstance(state, dict):
        return 'is not a JSON object'
    signing, published, retired = state.get('signing'), state.get('published'), state.get('retired', [])
    if not isinstance(published, list) or not isinstance(retired, list):
        return 'needs "published" and "retired" to be lists'
    for selector in [signing] + published + retired:
        if selector_error(selector):
            return 'names %r, which is not a selector' % (selector,)
    if signing not in published:
        return 'says %r signs but does not publish it' % (signing,)
    if set(published) & set(retired):
        return 'lists %s as both published and retired' % sorted(set(published) & set(retired))
    return None


def plan(state, op, selector, keys_on_disk):
    """The next state of one domain, and the selectors whose key must be generated.

    ``state`` is the current state (None when the domain has no state file),
    ``op`` one of STATES, ``selector`` the option given (the first selector for
    ``present``; the new one for ``publish``; optional for ``switch`` and
    ``retire``), ``keys_on_disk`` the selectors that have a ``.key`` file.
    Returns ``(new_state, generate)``; raises DkimError with a message a person can act on."""
    keys_on_disk = set(keys_on_disk)
    stored = state is not None
    if not stored:
        state = _adopt(selector, keys_on_disk)
    new = {'signing': state['signing'], 'published': list(state['published']),
           'retired': list(state.get('retired', []))}
    generate = [s for s in new['published'] if s not in keys_on_disk]
    if stored and generate:
        # A published key that vanished is not silently replaced: DNS and signer would disagree for a TTL.
        raise DkimError('the key of the published selector %r is missing (%s%s); put it back, or remove %s '
                        'to start again with a new key' % (generate[0], generate[0], KEY_SUFFIX, STATE_FILE))
    if op == 'present':
        return new, generate
    if op == 'publish':
        if selector is None:
            raise DkimError('state=publish needs the new selector (dkim_selector)')
        if selector in new['retired']:
            raise DkimError('selector %r was retired; a rotation needs a selector never used before' % selector)
        if selector not in new['published']:
            new['published'].append(selector)
            if selector not in keys_on_disk:
                generate.append(selector)
        return new, generate
    # ``published`` is in publication order: newer than the signing selector means waiting to sign,
    # older means signed before and waiting to retire. Reruns of switch and retire are then no-ops.
    at = new['published'].index(new['signing'])
    waiting, old = new['published'][at + 1:], new['published'][:at]
    if op == 'switch':
        if selector is None:
            if len(waiting) > 1:
                raise DkimError('several selectors were published after the signing one (%s); say which one '
                                'signs (dkim_selector)' % ', '.join(waiting))
            if not waiting:
                return new, generate  # switched already (a rerun): nothing to do
            selector = waiting[0]
        if selector not in new['published']:
            raise DkimError('selector %r is not published; publish it (state=publish) and wait one TTL '
                            'before it signs' % selector)
        new['signing'] = selector
        return new, generate
    if op == 'retire':
        if selector is not None and selector == new['signing']:
            raise DkimError('selector %r signs; switch to another selector before retiring it' % selector)
        if selector is not None and selector not in new['published']:
            return new, generate  # not published (retired already): nothing to do
        gone = old if selector is None else [selector]
        new['published'] = [s for s in new['published'] if s not in gone]
        new['retired'].extend(s for s in gone if s not in new['retired'])
        return new, [s for s in generate if s not in gone]
    raise DkimError('state must be one of %s, not %r' % (', '.join(STATES), op))


def _adopt(selector, keys_on_disk):
    """The state of a domain without a state file: a key the user supplied, or a new one."""
    if selector in keys_on_disk or not keys_on_disk:
        chosen = selector
    elif len(keys_on_disk) == 1:
        chosen = next(iter(keys_on_disk))
    else:
        raise DkimError('there are several keys (%s) and no %s to say which one signs; remove the others or '
                        'name the signing one as the selector' % (', '.join(sorted(keys_on_disk)), STATE_FILE))
    if chosen is None:
        raise DkimError('the domain has no key yet and no selector was given (mail_cluster_dkim_selector)')
    return {'signing': chosen, 'published': [chosen], 'retired': []}


def _read(path):
    with open(path, 'rb') as handle:
        return handle.read()


def _write_private(path, data):
    """Write a file readable by its owner only, atomically: it never exists with a wider mode."""
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=os.path.dirname(path))
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class _Domain(object):
    """One domain's directory: what is there, and what the run will make of it."""

    def __init__(self, base, domain):
        self.domain = domain
        self.dir = os.path.join(base, domain)
        self.state_path = os.path.join(self.dir, STATE_FILE)
        self.state = None
        self.keys = set()
        if os.path.isdir(self.dir):
            self.keys = set(name[:-len(KEY_SUFFIX)] for name in os.listdir(self.dir)
                            if name.endswith(KEY_SUFFIX) and not name.startswith('.')
                            and selector_error(name[:-len(KEY_SUFFIX)]) is None)
            if os.path.exists(self.state_path):
                try:
                    self.state = json.loads(_read(self.state_path).decode('utf-8'))
                except (ValueError, UnicodeDecodeError) as exc:
                    raise DkimError('%s is not JSON (%s); fix it or remove it' % (self.state_path, exc))
                problem = state_error(self.state)
                if problem:
                    raise DkimError('%s %s; fix it or remove it' % (self.state_path, problem))

    def key_path(self, selector):
        return os.path.join(self.dir, selector + KEY_SUFFIX)


def keep(base, domains, selector, op, check_mode):
    """What clustered.mail.dkim_keys does under ``base`` (its options; check_mode writes nothing).

    Returns {changed, key_files, records, state}; raises DkimError (with ``changed``) on a problem. Every
    domain is planned before anything is written: a problem in one domain changes no domain."""
    domains = [d.lower().rstrip('.') for d in domains]
    errors = [e for e in (domain_error(d) for d in domains) if e]
    if len(set(domains)) != len(domains):
        errors.append('domains: %s listed more than once' % sorted(d for d in set(domains) if domains.count(d) > 1))
    if selector is not None and selector_error(selector):
        errors.append(selector_error(selector))
    if op == 'publish' and selector is None:
        errors.append('state=publish needs selector, the new selector to publish')
    if errors:
        raise DkimError('; '.join(errors))

    plans = []
    for domain in domains:
        try:
            current = _Domain(base, domain)
            new, generate = plan(current.state, op, selector, current.keys)
            publics = {}
            for sel in new['published']:
                if sel not in generate:
                    try:
                        publics[sel] = public_key_b64(_read(current.key_path(sel)))
                    except (IOError, OSError) as exc:
                        raise DkimError('cannot read %s: %s' % (current.key_path(sel), exc))
                    except DkimError as exc:
                        raise DkimError('%s is %s; replace it with an RSA key (2048 bits) in PEM'
                                        % (current.key_path(sel), exc))
        except DkimError as exc:
            errors.append('%s: %s' % (domain, exc))
            continue
        plans.append((current, new, generate, publics))
    if errors:
        raise DkimError('; '.join(errors))

    changed = False
    keys, records, states = [], [], {}
    try:
        for current, new, generate, publics in plans:
            state_text = (json.dumps(new, indent=2, sort_keys=True) + '\n').encode('utf-8')
            if not os.path.isdir(base):
                changed = True
                if not check_mode:
                    os.makedirs(base)
                    os.chmod(base, 0o700)
            if not os.path.isdir(current.dir):
                changed = True
                if not check_mode:
                    os.makedirs(current.dir)
                    os.chmod(current.dir, 0o700)
            elif _mode(current.dir) != 0o700:
                changed = True
                if not check_mode:
                    os.chmod(current.dir, 0o700)
            for sel in generate:
                changed = True
                if not check_mode:
                    pem = generate_private_key_pem()
                    _write_private(current.key_path(sel), pem)
                    publics[sel] = public_key_b64(pem)
            for sel in new['published']:
                path = current.key_path(sel)
                if sel not in generate and _mode(path) != 0o600:
                    # A key the user supplied is kept, but not readable by others.
                    changed = True
                    if not check_mode:
                        os.chmod(path, 0o600)
            if current.state is None or not os.path.exists(current.state_path) or _read(current.state_path) != state_text:
                changed = True
                if not check_mode:
                    _write_private(current.state_path, state_text)
            states[current.domain] = new
            for sel in new['published']:
                keys.append({'domain': current.domain, 'selector': sel, 'private_key': current.key_path(sel),
                             'signing': sel == new['signing']})
                if sel in publics:
                    records.append({'domain': current.domain, 'selector': sel,
                                    'name': record_name(sel, current.domain),
                                    'value': txt_value(publics[sel])})
    except (IOError, OSError) as exc:
        raise DkimError('cannot write the DKIM keys under %s: %s' % (base, exc), changed=changed)
    return {'changed': changed, 'key_files': keys, 'records': records, 'state': states}
