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
    but a mail map would break on (a password hash that is not a hash, or
    contains ':' or a line break); [] when valid.
``mail_maps(model) -> dict``  the maps below; raises :class:`MailError`.
``tls_names(model, host) -> list[str]``  subjectAltName entries for a host.

``mail_maps`` returns::

    domains            ['example.com', ...]
    mailboxes          [{'address', 'name', 'domain', 'home', 'maildir'}]
    aliases            [{'alias', 'address'}]          (alias -> mailbox)
    passwd_file        ['user@dom:{HASH}...:5000:5000::/srv/mail/dom/user::', ...]
    virtual_mailboxes  [('user@dom', 'dom/user/Maildir/'), ...]
    virtual_aliases    [('alias@dom', 'user@dom'), ...]
    relay_recipients   [('user@dom', 'OK'), ('alias@dom', 'OK'), ...]
    relay_domains      ['example.com', ...]
    transport          [('example.com', '[192.0.2.11]:25,[192.0.2.12]:25'), ...]
    primaries          [{'host', 'address', 'nexthop'}]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.clustered.mail.plugins.module_utils._cluster import is_dns_name

# Schemes that store the password itself, not a hash: refused, the inventory
# contract says hashes only.
CLEARTEXT_SCHEMES = ('PLAIN', 'CLEAR', 'CLEARTEXT', 'PLAIN-TRUNC')
_SCHEME = re.compile(r'^\{([A-Za-z0-9._-]+)\}(.+)$')
_CRYPT = re.compile(r'^\$[0-9a-z]+\$.+$')
SMTP_PORT = 25


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
        scheme = _SCHEME.match(password_hash)
        if scheme:
            if scheme.group(1).upper() in CLEARTEXT_SCHEMES:
                errors.append('%s.password_hash on all: {%s} stores the password in clear; use a hash,'
                              ' e.g. `doveadm pw -s SHA512-CRYPT`' % (where, scheme.group(1)))
        elif not _CRYPT.match(password_hash):
            errors.append('%s.password_hash on all: must be a hash, "{SCHEME}..." or a crypt string such as'
                          ' "$6$..." (e.g. from `doveadm pw -s SHA512-CRYPT`), not a password' % where)
    return errors


def _nexthop(address, port=SMTP_PORT):
    return '[%s]:%d' % (address, port)


def primaries(model, port=SMTP_PORT):
    """Every primary with the address the backup MX delivers to (its first, IPv4 preferred)."""
    result = []
    for host in model['groups']['mail_primaries']:
        addresses = model['hosts'][host]['addresses']
        address = addresses[0] if addresses else None
        result.append({'host': host, 'address': address, 'nexthop': _nexthop(address, port) if address else None})
    return result


def dovecot_hash(password_hash):
    """The hash as Dovecot's passwd-file must see it on 2.3 and 2.4 alike.

    A bare crypt string ($6$...) needs the {CRYPT} scheme prefix: Dovecot 2.3
    assumed CRYPT for passwd-file, but 2.4's default scheme is PLAIN, under
    which the hash itself would be taken as the password.
    """
    if _SCHEME.match(password_hash):
        return password_hash
    return '{CRYPT}' + password_hash


def mail_maps(model, port=SMTP_PORT):
    """All mail maps from one pass over the model's users (see the module docstring)."""
    errors = mail_errors(model)
    if errors:
        raise MailError(errors)
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
        })
        for alias in user['aliases']:
            aliases.append({'alias': alias, 'address': user['address']})
    hops = primaries(model, port)
    nexthops = ','.join(p['nexthop'] for p in hops if p['nexthop'])
    return {
        'domains': list(model['domains']),
        'mailboxes': [dict((k, v) for k, v in m.items() if k != 'password_hash') for m in mailboxes],
        'aliases': aliases,
        'passwd_file': ['%s:%s:%d:%d::%s::' % (m['address'], m['password_hash'], uid, gid, m['home'])
                        for m in mailboxes],
        'virtual_mailboxes': [(m['address'], '%s/%s/Maildir/' % (m['domain'], m['name'])) for m in mailboxes],
        'virtual_aliases': [(a['alias'], a['address']) for a in aliases],
        'relay_recipients': [(m['address'], 'OK') for m in mailboxes] + [(a['alias'], 'OK') for a in aliases],
        'relay_domains': list(model['domains']),
        'transport': [(domain, nexthops) for domain in model['domains']] if nexthops else [],
        'primaries': hops,
    }


def tls_names(model, host):
    """subjectAltName entries for ``host``: its names (own, mail name, services it runs) and addresses."""
    info = model['hosts'][host]
    names = [info['fqdn']]
    if is_dns_name(str(host).lower()):
        names.append(host)
    if host in model['groups']['mail_primaries'] and model.get('mail_fqdn'):
        names.append(model['mail_fqdn'])
    for service in sorted(model.get('services') or {}):
        if host in model['services'][service] and model.get('domain'):
            names.append('%s.%s' % (service, model['domain']))
    result = []
    for name in names:
        entry = 'DNS:%s' % str(name).lower()
        if entry not in result:
            result.append(entry)
    return result + ['IP:%s' % address for address in info['addresses']]
