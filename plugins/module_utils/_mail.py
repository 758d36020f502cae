# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Mail maps: ONE derivation of the cluster's users, aliases and domains.

Private to the collection: playbooks reach it through the
``clustered.mail.mail_maps`` / ``clustered.mail.mail_errors`` filters.

Input is the cluster model of ``_cluster.build_cluster`` (the one
normalisation of the inventory). From its users, aliases and domains this
module derives, in one pass, everything the mail hosts need:

- Dovecot's passdb and userdb (one passwd-file: address, hash, vmail ids,
  home on the shared store);
- Postfix's virtual mailbox domains, virtual mailbox map and virtual alias
  map on the primaries;
- the backup MX's relay domains, relay_recipient_maps (every address and
  every alias, so an unknown recipient is rejected at RCPT) and its transport
  map (every domain to every primary);
- the names and addresses a host's TLS certificate must cover.

Because every list comes from the same ``mailboxes``/``aliases`` pass, the
backup MX can never accept an address the primaries would reject, nor reject
one they would accept.

API
---
``mail_errors(model) -> list[str]``  problems the cluster model does not catch
    but a mail map would break on (a password hash that is not a hash, is
    not of a strong scheme (``STRONG_SCHEMES``), or contains ':' or a line
    break); [] when valid.
``mail_maps(model) -> dict``  the maps below; raises :class:`MailError`.
``tls_names(model, host) -> list[str]``  subjectAltName entries for a host.
``apply_homes(model, homes) -> dict``  the model with the homes moved by
    ``move_user`` (``homes.json`` on the DNS primary) in force.
``move_plan(model, homes, user, to) -> dict``  a checked move of one user's
    home and the new ``homes.json`` content; raises :class:`MailError`.
``proxy_fields(model, host, user, dovecot_series) -> str``  the passdb extra
    fields that send ``user`` from ``host`` to its home ('' at home).

Home primaries (``mail_cluster_placement`` explicit or hash): every primary
keeps serving every address, but Dovecot on a primary that is not the user's
home proxies IMAP, POP3 and LMTP to the home (``proxy=y host=<home address>``),
so one user is served by one backend at a time and the per-host INDEX/CONTROL
stay coherent. The fields are decided per host here, at render time, rather
than with ``proxy_maybe`` at login time: the home's own line carries no proxy
field at all, so the home can never proxy its own users -- whichever of its
addresses (IPv4, IPv6, 127.0.0.1, Postfix's unix socket for LMTP) a
connection arrives on, and even while another primary's map is stale during
a move (the worst case is one refused extra hop, never a loop).

``mail_maps`` returns::

    domains            ['example.com', ...]
    mailboxes          [{'address', 'name', 'domain', 'home', 'maildir'}]
    aliases            [{'alias', 'address'}]          (alias -> mailbox)
    passwd_file        ['user@dom:{HASH}...:5000:5000::/srv/mail/dom/user::', ...]
                       (with ``host``: proxy extra fields appended for users
                       homed elsewhere, see ``proxy_fields``)
    virtual_mailboxes  [('user@dom', 'dom/user/Maildir/'), ...]
    virtual_aliases    [('alias@dom', 'user@dom'), ...]
    relay_recipients   [('user@dom', 'OK'), ('alias@dom', 'OK'), ...]
    relay_domains      ['example.com', ...]
    transport          [('example.com', '[192.0.2.11]:25,[192.0.2.12]:25'), ...]
    tls_policy         [('[192.0.2.11]:25', 'secure match=primary1.example.com'), ...]
                       (the backup MX verifies each primary's certificate and name)
    sender_logins      [('user@dom', 'user@dom'), ('alias@dom', 'user@dom'), ...]
                       (smtpd_sender_login_maps: who may send as each address)
    tls                {'protocols', 'ciphers', 'suites'}  Mozilla "intermediate"
    primaries          [{'host', 'address', 'nexthop'}]   (the smtp hosts)
    proxy              {'enabled', 'trusted_networks', 'lmtp_listen', 'lmtp_port'}
                       (with ``host``: what Dovecot's proxy needs on it)
    homes              [{'address', 'home', 'home_fqdn', 'home_address'}]
    runs               (with ``host``) what runs on it, see ``host_plan``
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import re

from ansible_collections.clustered.mail.plugins.module_utils._cluster import is_dns_name, plain_copy, pop_name

# Schemes that store the password itself, not a hash: refused, the inventory
# contract says hashes only.
CLEARTEXT_SCHEMES = ('PLAIN', 'CLEAR', 'CLEARTEXT', 'PLAIN-TRUNC')
# The password schemes accepted (Dovecot's password-schemes docs): slow, salted
# hashes that Dovecot 2.3 and 2.4 both verify. Anything else ({MD5}, {SHA},
# {SSHA512}, {PLAIN.BASE64}, $1$ md5crypt, $5$ ...) is refused: fast to brute
# force, and 2.4 refuses its weak schemes at login. Scheme -> the crypt
# prefixes its hash must start with. CRYPT is libc's crypt(3) (libxcrypt on
# Debian 12 and 13): SHA512-CRYPT, bcrypt and yescrypt ($y$) there.
STRONG_SCHEMES = {
    'SHA512-CRYPT': ('$6$',),
    'BLF-CRYPT': ('$2y$', '$2b$'),
    'ARGON2I': ('$argon2i$',),
    'ARGON2ID': ('$argon2id$',),
    'CRYPT': ('$6$', '$2y$', '$2b$', '$y$'),
}
# A bare crypt string (no {SCHEME}) -> the scheme Dovecot must be told (see dovecot_hash).
BARE_CRYPT = (('$argon2id$', 'ARGON2ID'), ('$argon2i$', 'ARGON2I'), ('$6$', 'CRYPT'), ('$2y$', 'CRYPT'),
              ('$2b$', 'CRYPT'), ('$y$', 'CRYPT'))
HASH_FIX = 'make one with `doveadm pw -s SHA512-CRYPT` (or BLF-CRYPT, ARGON2ID)'
_SCHEME = re.compile(r'^\{([A-Za-z0-9._-]+)\}(.+)$')
_CRYPT = re.compile(r'^\$[0-9a-z]+\$.+$')
# TLS on Postfix and Dovecot, every role alike: Mozilla's "intermediate"
# configuration (TLS 1.2 with ECDHE and AEAD suites only, and TLS 1.3 with
# its own suites, all AEAD), https://wiki.mozilla.org/Security/Server_Side_TLS.
# Mozilla leaves the choice of cipher to the client (no server preference).
TLS = {
    'min_protocol': 'TLSv1.2',
    'ciphers': ':'.join((
        'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
        'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
        'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
    )),
    'suites': 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256',
}
SMTP_PORT = 25
LMTP_PORT = 24
# Backend ports of the proxy hop. Dovecot 2.3's LMTP proxy crashes (signal 11,
# seen on 2.3.19.1) when no port is given for a delivery that arrived on
# Postfix's unix socket, and a passdb port applies to every protocol: so on 2.3
# the port is chosen by service with a %{if} expansion. 2.4 picks the right
# default port per protocol by itself.
_PORT_23 = 'port=%{if;%s;eq;lmtp;24;%{if;%s;eq;pop3;110;143}}'
# One hop is expected (a non-home primary to the home). A map that is stale
# for a moment during a move can add one more; proxy_ttl stops anything
# longer, and Dovecot refuses a hop back to itself ("Proxying loops").
PROXY_TTL = 2
# Seconds the proxy waits to connect to the home (IMAP, POP3 and LMTP). A dead
# home must fail a delivery fast (451, deferred), so it is deferred before the
# homes agent's flushes once the user is re-homed, rather than minutes later.
PROXY_TIMEOUT = 3
# The hop is encrypted with STARTTLS (the password crosses it). Dovecot 2.4
# verifies the home's certificate against the cluster CA (ssl_client_ca_file)
# and its name (host=, the home's FQDN; hostip= spares a DNS lookup). Dovecot
# 2.3's login processes run chrooted and cannot read a client CA file, so 2.3
# encrypts the hop without verifying the peer (docs/placement.md).
PROXY_TLS = {'2.3': 'starttls=any-cert', '2.4': 'starttls=yes'}
# A user handed over between two live primaries is *parked* on both for a few
# seconds (clustered-mail-homes): its line proxies to a port nobody listens on,
# so IMAP and POP3 answer "temporarily unavailable" and LMTP 451 (Postfix
# defers), rather than two backends serving the user or the two proxying to
# each other (Dovecot answers a proxy loop with a permanent 554).
PARKED = 'proxy=y host=127.0.0.1 port=9 proxy_timeout=1 proxy_ttl=%d' % PROXY_TTL
# The health account of each primary (clustered.mail.health logs in, appends,
# reads back and expunges): one per primary, never proxied, its mailbox on the
# store beside the domains, so a probe exercises that primary's own mount.
HEALTH_USER = 'clustered-health'
HEALTH_DIR = '.clustered-health'
DOVECOT_SERIES = ('2.3', '2.4')


class MailError(ValueError):
    """The users in the model cannot be turned into mail maps; ``errors`` lists why."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(MailError, self).__init__('\n'.join(self.errors))


def _where(model, user):
    for index, item in enumerate(model.get('users') or []):
        if item is user:
            return 'mail_cluster_users[%d] (%s)' % (index, user['address'])
    return 'mail_cluster_users (%s)' % user['address']


def mail_errors(model):
    """Every problem that would corrupt a mail map; [] when the users are usable."""
    errors = []
    for user in model.get('users') or []:
        where = _where(model, user)
        password_hash = user.get('password_hash')
        if not isinstance(password_hash, str):
            errors.append('%s.password_hash on all: is required' % where)
            continue
        if ':' in password_hash or '\n' in password_hash or '\r' in password_hash:
            errors.append("%s.password_hash on all: must not contain ':' or a line break"
                          " (it is one field of Dovecot's passwd-file)" % where)
            continue
        problem = _weak_hash(password_hash)
        if problem:
            errors.append('%s.password_hash on all: %s; %s' % (where, problem, HASH_FIX))
    return errors


def _weak_hash(password_hash):
    """Why ``password_hash`` is not a strong hash Dovecot verifies, or None (see STRONG_SCHEMES)."""
    scheme = _SCHEME.match(password_hash)
    if scheme:
        name, value = scheme.group(1).upper(), scheme.group(2)
        if name.split('.')[0] in CLEARTEXT_SCHEMES:
            return '{%s} stores the password in clear, not a hash' % scheme.group(1)
        if name not in STRONG_SCHEMES:
            return '{%s} is not an accepted scheme (only %s)' % (scheme.group(1), ', '.join(sorted(STRONG_SCHEMES)))
        if not value.startswith(STRONG_SCHEMES[name]):
            return '{%s} must be followed by a hash starting with %s' % (name, ' or '.join(STRONG_SCHEMES[name]))
        return None
    if not _CRYPT.match(password_hash):
        return 'must be a hash, "{SCHEME}..." or a crypt string such as "$6$...", not a password'
    if not any(password_hash.startswith(entry[0]) for entry in BARE_CRYPT):
        return 'the crypt string "%s..." is not of a strong scheme (only %s)' % (
            password_hash[:password_hash.index('$', 1) + 1], ', '.join(entry[0] for entry in BARE_CRYPT))
    return None


def _nexthop(address, port=SMTP_PORT):
    return '[%s]:%d' % (address, port)


def primaries(model, port=SMTP_PORT):
    """Every primary that receives mail (the smtp hosts) with the address the backup MX delivers to (its first,
    IPv4 preferred)."""
    result = []
    for host in model.get('services', {}).get('smtp', model['groups']['mail_primaries']):
        addresses = model['hosts'][host]['addresses']
        address = addresses[0] if addresses else None
        result.append({'host': host, 'address': address, 'nexthop': _nexthop(address, port) if address else None})
    return result


def dovecot_hash(password_hash):
    """The hash as Dovecot's passwd-file must see it on 2.3 and 2.4 alike.

    A bare crypt string ($6$...) needs a scheme prefix: Dovecot 2.3 assumed
    CRYPT for passwd-file, but 2.4's default scheme is PLAIN, under which the
    hash itself would be taken as the password. Argon2 is not crypt(3)'s:
    it gets its own scheme.
    """
    if _SCHEME.match(password_hash):
        return password_hash
    for prefix, scheme in BARE_CRYPT:
        if password_hash.startswith(prefix):
            return '{%s}%s' % (scheme, password_hash)
    return '{CRYPT}' + password_hash


def _first_address(model, host):
    addresses = model['hosts'][host]['addresses']
    return addresses[0] if addresses else None


def _check_series(dovecot_series):
    if dovecot_series not in DOVECOT_SERIES:
        raise MailError(['dovecot_series=%r: must be one of %s' % (dovecot_series, ', '.join(DOVECOT_SERIES))])


def proxy_to(model, home, dovecot_series='2.4'):
    """Passdb extra fields that send a user to primary ``home``, for a Dovecot of ``dovecot_series``."""
    _check_series(dovecot_series)
    address = _first_address(model, home)
    if dovecot_series == '2.3':
        fields = ['proxy=y', 'host=%s' % address, _PORT_23]
    else:
        fields = ['proxy=y', 'host=%s' % model['hosts'][home]['fqdn'], 'hostip=%s' % address]
    fields.extend([PROXY_TLS[dovecot_series], 'proxy_ttl=%d' % PROXY_TTL, 'proxy_timeout=%d' % PROXY_TIMEOUT])
    return ' '.join(fields)


def proxy_fields(model, host, user, dovecot_series='2.4'):
    """Passdb extra fields on ``host`` for ``user`` (a model user): proxy to its home, or '' at home."""
    _check_series(dovecot_series)
    home = user.get('home')
    if model.get('placement', 'none') == 'none' or not home or home == host:
        return ''
    return proxy_to(model, home, dovecot_series)


def health_account(model, host):
    """The health account of primary ``host``: its login and its home on the store."""
    return {'user': '%s@%s' % (HEALTH_USER, model['hosts'][host]['fqdn']),
            'home': '%s/%s/%s' % (model['store_path'], HEALTH_DIR, host)}


def ssha512(password, salt_seed):
    """Dovecot's {SSHA512} of ``password``, with a salt derived from ``salt_seed`` (stable: idempotent)."""
    salt = hashlib.sha256(('%s\0%s' % (salt_seed, password)).encode('utf-8')).digest()[:16]
    digest = hashlib.sha512(password.encode('utf-8') + salt).digest()
    return '{SSHA512}' + base64.b64encode(digest + salt).decode('ascii')


def homes_agent(model, host, dovecot_series='2.4'):
    """The configuration of ``clustered-mail-homes`` on primary ``host`` (no secrets in it).

    The agent follows each user's ``<user>.pop`` CNAME at the authoritative
    servers and appends ``proxy`` (the fields for that home, '' for this host)
    to the user's line of the base passwd-file. Everything it needs is decided
    here: it only looks names up and copies strings.
    """
    _check_series(dovecot_series)
    primaries = model['groups']['mail_primaries']
    dns = [model['dns_primary']] + list(model['dns_secondaries']) if model.get('dns_primary') else []
    users = [u for u in model['users'] if u.get('home')]
    return {
        'host': host,
        'self_fqdn': model['hosts'][host]['fqdn'],
        'dns_servers': [_first_address(model, h) for h in dns if _first_address(model, h)],
        'zones': sorted(set(u['domain'] for u in users if u['domain'] in model['domains'])),
        'homes': dict((model['hosts'][p]['fqdn'], '' if p == host else proxy_to(model, p, dovecot_series))
                      for p in primaries),
        'parked': PARKED,
        # to tell a live old home (hand over after a hold) from a dead one (at once)
        'addresses': dict((model['hosts'][p]['fqdn'], _first_address(model, p)) for p in primaries),
        # 'home' is only the agent's fallback when DNS never answered (a cluster
        # without DNS servers has no moves and no drains): the inventory's home,
        # so the configuration does not change when move_user or a drain does.
        'users': [{'address': u['address'], 'pop': pop_name(u),
                   'home': model['hosts'][u.get('inventory_home') or u['home']]['fqdn'],
                   'index': '%s/%s' % (u['domain'], u['name'])} for u in users],
    }


def host_plan(model, host):
    """What runs on primary ``host``, from the services it is listed under (``mail_cluster_services``).

    ``postfix`` on the smtp and submission hosts; ``dovecot`` on the mailbox
    hosts (imap, pop3: IMAP/POP3, LMTP and the homes agent) and on the
    submission hosts, whose Postfix authenticates through it (``protocols``
    is then empty: no IMAP or POP3 listener). ``delivery`` is Postfix's
    virtual_transport: Dovecot's local LMTP on a mailbox host, else LMTP over
    the cluster network to the mailbox hosts (tried in order; each proxies to
    the user's home), the list rotated per host to spread the load.
    """
    runs = set(model['hosts'][host].get('services') or [])
    mailbox = host in model.get('mailbox_hosts', model['groups']['mail_primaries'])
    postfix = bool(runs & {'smtp', 'submission'})
    dovecot = mailbox or 'submission' in runs
    protocols = [p for p in ('imap', 'pop3') if p in runs] + (['lmtp'] if mailbox else [])
    if mailbox:
        delivery = 'lmtp:unix:private/dovecot-lmtp'
    else:
        homes = list(model.get('mailbox_hosts') or [])
        index = model['groups']['mail_primaries'].index(host) if homes else 0
        homes = homes[index % len(homes):] + homes[:index % len(homes)] if homes else []
        delivery = 'lmtp:' + ', '.join('inet:[%s]:%d' % (_first_address(model, h), LMTP_PORT) for h in homes)
    daemons = (('dovecot', dovecot), ('postfix', postfix), ('clustered-mail-homes', mailbox))
    return {
        'smtp': 'smtp' in runs,
        'submission': 'submission' in runs,
        'imap': 'imap' in runs,
        'pop3': 'pop3' in runs,
        'mailbox': mailbox,
        'postfix': postfix,
        'dovecot': dovecot,
        'protocols': protocols,
        'delivery': delivery,
        'units': [u for u, on in daemons if on],
        'stopped': [u for u, on in daemons if not on],
    }


def proxy_settings(model, host):
    """What Dovecot on ``host`` needs for the proxy: who may hand it sessions, where LMTP listens."""
    enabled = (model.get('placement', 'none') != 'none'
               and host in model.get('mailbox_hosts', model['groups']['mail_primaries']))
    trusted = []
    for primary in model['groups']['mail_primaries']:
        for address in model['hosts'][primary]['addresses']:
            if address not in trusted:
                trusted.append(address)
    return {
        'enabled': enabled,
        # Proxies pass the client's address and the hop count (ID / XCLIENT).
        'trusted_networks': trusted if enabled else [],
        # The inet LMTP listener the other primaries proxy deliveries to:
        # the host's cluster addresses only, never the wildcard.
        'lmtp_listen': list(model['hosts'][host]['addresses']) if enabled else [],
        'lmtp_port': LMTP_PORT,
    }


def _home_overrides(homes):
    """The ``homes`` mapping of a homes.json document (or the mapping itself)."""
    if not homes:
        return {}
    if isinstance(homes, dict) and isinstance(homes.get('homes'), dict):
        homes = homes['homes']
    if not isinstance(homes, dict):
        raise MailError(['homes=%r: must be a mapping of address to primary (homes.json)' % (homes,)])
    return dict((str(k).lower(), v) for k, v in homes.items())


def apply_homes(model, homes):
    """A copy of ``model`` with the homes kept by move_user (``homes.json``) in force.

    Entries for unknown addresses or hosts no longer primaries are ignored
    (the inventory changed since), as drained.json ignores them; with
    placement ``none`` homes do not exist and the model is returned unchanged.
    Each user gets ``inventory_home`` (its home from the inventory alone) and
    ``moved`` (True when the override is in force).
    """
    overrides = _home_overrides(homes)
    result = plain_copy(model)
    if result.get('placement', 'none') == 'none':
        return result
    primaries = result['groups']['mail_primaries']
    for user in result['users']:
        user.setdefault('inventory_home', user['home'])
        wanted = overrides.get(user['address'])
        if wanted in primaries:
            user['home'] = wanted
            user['home_fqdn'] = result['hosts'][wanted]['fqdn']
        user['moved'] = user['home'] != user['inventory_home']
    return result


def move_plan(model, homes, user, to):
    """Check a move of ``user`` to primary ``to``; return the plan, or raise MailError naming the fix.

    ``to`` may be the inventory name, host name or FQDN of a primary. The plan::

        address, from, to, to_fqdn, to_address, changed (bool),
        homes  the new homes.json mapping (address -> host): an entry is kept
               only while it differs from the inventory's home, so moving a
               user back to its inventory home clears the override.
    """
    errors = []
    placement = model.get('placement', 'none')
    if placement == 'none':
        errors.append('mail_cluster_placement=none on all: users have no home primary to move; set'
                      ' mail_cluster_placement to hash or explicit in group_vars/all and rerun clustered.mail.site first')
    wanted = str(user or '').strip().lower()
    found = None
    if not wanted:
        errors.append('user is not set: run with -e user=ADDRESS, one of mail_cluster_users (%s)'
                      % ', '.join(u['address'] for u in model['users']))
    else:
        if '@' not in wanted and model.get('domain'):
            wanted = '%s@%s' % (wanted, model['domain'])
        found = [u for u in model['users'] if u['address'] == wanted]
        found = found[0] if found else None
        if found is None:
            errors.append('user=%s: not an address of mail_cluster_users (%s); give the mailbox address, not an alias'
                          % (user, ', '.join(u['address'] for u in model['users'])))
    primaries = model['groups']['mail_primaries']
    target = str(to or '').strip().lower().rstrip('.')
    host = None
    if not target:
        errors.append('to is not set: run with -e to=HOST, one of mail_primaries (%s)' % ', '.join(primaries))
    else:
        match = [h for h in primaries
                 if target in (h.lower(), model['hosts'][h]['host_name'], model['hosts'][h]['fqdn'])]
        host = match[0] if match else None
        if host is None:
            errors.append('to=%s: not a host of mail_primaries (%s); give an inventory name, host name or FQDN'
                          % (to, ', '.join(primaries)))
    if errors:
        raise MailError(errors)
    current = apply_homes(model, homes)
    now = [u for u in current['users'] if u['address'] == found['address']][0]
    overrides = dict((k, v) for k, v in _home_overrides(homes).items()
                     if k in [u['address'] for u in model['users']] and v in primaries)
    if host == found['home']:
        overrides.pop(found['address'], None)
    else:
        overrides[found['address']] = host
    return {
        'address': found['address'],
        'name': found['name'],
        'domain': found['domain'],
        'from': now['home'],
        'from_address': _first_address(model, now['home']) if now['home'] else None,
        'to': host,
        'to_fqdn': model['hosts'][host]['fqdn'],
        'to_address': _first_address(model, host),
        'cname': pop_name(found),
        'changed': now['home'] != host,
        'homes': dict(sorted(overrides.items())),
    }


def mail_maps(model, port=SMTP_PORT, host=None, dovecot_series='2.4', health_password=None):
    """All mail maps from one pass over the model's users (see the module docstring).

    With ``host`` (a primary), the passwd-file lines carry the proxy fields
    for that host and ``proxy`` says how its Dovecot must listen and trust;
    ``base_file`` is the same file without proxy fields (what
    ``clustered-mail-homes`` starts from), and with ``health_password`` both
    end with the host's health account.
    """
    errors = mail_errors(model)
    if errors:
        raise MailError(errors)
    if host is not None and host not in model['groups']['mail_primaries']:
        raise MailError(['host=%s: not a host of mail_primaries (%s)' % (host, ', '.join(model['groups']['mail_primaries']))])
    store = model['store_path']
    uid, gid = model['vmail_uid'], model['vmail_gid']
    mailboxes, aliases = [], []
    for user in model['users']:
        home = '%s/%s/%s' % (store, user['domain'], user['name'])
        mailboxes.append({
            'address': user['address'],
            'name': user['name'],
            'domain': user['domain'],
            'home': home,
            'maildir': '%s/Maildir' % home,
            'password_hash': dovecot_hash(user['password_hash']),
            'proxy': proxy_fields(model, host, user, dovecot_series) if host else '',
        })
        for alias in user['aliases']:
            aliases.append({'alias': alias, 'address': user['address']})
    passwd = ['%s:%s:%d:%d::%s::' % (m['address'], m['password_hash'], uid, gid, m['home']) for m in mailboxes]
    if host is not None and health_password:
        account = health_account(model, host)
        passwd.append('%s:%s:%d:%d::%s::' % (account['user'], ssha512(health_password, account['user']),
                                             uid, gid, account['home']))
    hops = primaries(model, port)
    nexthops = ','.join(p['nexthop'] for p in hops if p['nexthop'])
    return {
        'domains': list(model['domains']),
        'mailboxes': [dict((k, v) for k, v in m.items() if k not in ('password_hash', 'proxy')) for m in mailboxes],
        'aliases': aliases,
        'passwd_file': [line + m['proxy'] for line, m in zip(passwd, mailboxes)] + passwd[len(mailboxes):],
        'base_file': passwd,
        'virtual_mailboxes': [(m['address'], '%s/%s/Maildir/' % (m['domain'], m['name'])) for m in mailboxes],
        'virtual_aliases': [(a['alias'], a['address']) for a in aliases],
        'relay_recipients': [(m['address'], 'OK') for m in mailboxes] + [(a['alias'], 'OK') for a in aliases],
        'relay_domains': list(model['domains']),
        'transport': [(domain, nexthops) for domain in model['domains']] if nexthops else [],
        # The backup MX relays to each primary by address and checks the
        # certificate it shows against the cluster CA, under the primary's name.
        'tls_policy': [(p['nexthop'], 'secure match=%s' % model['hosts'][p['host']]['fqdn'])
                       for p in hops if p['nexthop']],
        'sender_logins': sender_logins(model),
        'tls': dict(TLS),
        'primaries': hops,
        'proxy': proxy_settings(model, host) if host else {'enabled': False, 'trusted_networks': [],
                                                           'lmtp_listen': [], 'lmtp_port': LMTP_PORT},
        'runs': host_plan(model, host) if host else None,
        'homes': [{'address': u['address'], 'home': u['home'], 'home_fqdn': u['home_fqdn'],
                   'home_address': _first_address(model, u['home']) if u['home'] else None}
                  for u in model['users']],
    }


def sender_logins(model):
    """Postfix's smtpd_sender_login_maps: each address and alias -> the logins that may send as it.

    A user logs in with its address and may send as that address and as its
    aliases, nothing else (reject_sender_login_mismatch on submission).
    """
    owners = {}
    for user in model.get('users') or []:
        for address in [user['address']] + list(user.get('aliases') or []):
            logins = owners.setdefault(address, [])
            if user['address'] not in logins:
                logins.append(user['address'])
    return [(address, ','.join(logins)) for address, logins in owners.items()]


def tls_names(model, host):
    """subjectAltName entries for ``host``: its names (own, mail name, services it runs) and addresses."""
    info = model['hosts'][host]
    names = [info['fqdn']]
    if is_dns_name(str(host).lower()):
        names.append(host)
    if 'smtp' in (info.get('services') or []) and model.get('mail_fqdn'):
        names.append(model['mail_fqdn'])
    if host in model.get('mailbox_hosts', ()) and model.get('placement', 'none') != 'none':
        # Any primary may become a user's home: clients that connect to
        # <user>.pop.<domain> (a CNAME to the home) verify it under this name.
        names.extend('*.pop.%s' % d for d in sorted(set(u['domain'] for u in model['users'])))
        # A wildcard covers one label: a dotted local part needs its own name.
        names.extend(pop_name(u) for u in model['users'] if '.' in u['name'])
    for service in sorted(model.get('services') or {}):
        if host in model['services'][service] and model.get('domain'):
            names.append('%s.%s' % (service, model['domain']))
    result = []
    for name in names:
        entry = 'DNS:%s' % str(name).lower()
        if entry not in result:
            result.append(entry)
    return result + ['IP:%s' % address for address in info['addresses']]
