# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ONE normalisation of the inventory into a plain cluster model.

Private to the collection (``_``-prefixed): playbooks reach it through the
``clustered.mail.cluster_model`` / ``clustered.mail.cluster_errors`` filters.
The inventory contract is ``docs/inventory.md``; this module implements it.

API
---
``build_cluster(hostvars, groups, cluster_vars=None) -> dict``
    Returns the model below, or raises :class:`ClusterError` listing EVERY
    problem found (``err.errors`` is the list of messages).

``cluster_errors(hostvars, groups, cluster_vars=None) -> list[str]``
    The same checks, returned as a list (empty when the inventory is valid);
    meant for one early ``ansible.builtin.assert`` before any host changes.

``hostvars``  mapping inventory host -> its variables (Ansible's ``hostvars``).
``groups``    mapping group -> list of hosts (Ansible's ``groups``).
``cluster_vars`` the cluster-wide ``mail_cluster_*`` variables; by default
    they are read from the first cluster host's hostvars, and every other
    cluster host must agree (they belong in ``group_vars/all``).

Every message names the variable (and host or user) and says how to fix it,
e.g. ``mail_cluster_ttl=3 on all: must be between 5 and 86400``.

The model (plain dicts/lists/str/int only, so it can be returned to Jinja)::

    domain            'example.com'    (mail_cluster_domain, lower case, no dot)
    domains           ['example.com', ...]   (first is always ``domain``)
    mail_name         'mail'           mail_fqdn 'mail.example.com'
    mx_style          'hosts' | 'round_robin'
    mx_preference     10               backup_mx_preference 50
    ttl               60
    spf, dmarc        TXT strings ('' disables the record)
    dkim              {'signing': True, 'selector': 'mail'}  (mail_cluster_dkim_signing,
                      mail_cluster_dkim_selector: each domain's first selector)
    hostmaster        'hostmaster.example.com'  (SOA RNAME, DNS form, no dot)
    reverse_zones     None (derive) or the list given in the inventory
    placement         'none' | 'explicit' | 'hash'
    vmail_uid, vmail_gid, store_path
    groups            {'mail_dns': [...], 'mail_storage': [...],
                       'mail_primaries': [...], 'mail_backup_mx': [...], 'mail_webmail': [...],
                       'mail_filter_redis': [...]}
                      (inventory order; only hosts of these groups matter)
    hosts             {host: {'name', 'groups', 'addresses', 'ipv4', 'ipv6',
                              'host_name', 'fqdn', 'mx_tier' (primaries, else
                              None), 'dns_role' ('primary'|'secondary'|None),
                              'services' (the services it runs, sorted; not
                              changed by drains)}}
    dns_primary       host or None      dns_secondaries [hosts]
    services          {'smtp': [hosts], 'submission': [...], 'imap': [...], 'pop3': [...],
                       'webmail': [...] (only with mail_webmail hosts), other names: [...]}
                      (mail_cluster_services; unlisted, smtp and imap run on every
                      primary, submission on the smtp hosts, pop3 on the imap hosts,
                      webmail on the mail_webmail hosts)
    mailbox_hosts     the primaries running imap or pop3: the only possible homes
    users             [{'name', 'domain', 'address', 'aliases' (full
                        addresses), 'password_hash', 'home' (host or None),
                        'home_fqdn' (or None)}]
    state_dir         '/var/lib/clustered-mail' (bind_dns_state_dir, no trailing slash)
    homes_agent_state the homes agent's state file on each mailbox primary (fixed)
    tsig              {'key_name', 'algorithm'}  the update key (bind_dns_tsig_key_name,
                      bind_dns_tsig_algorithm; the secret is never in the model)
    min_members       1                 (mail_cluster_min_members)
    health            {'failures': 3, 'successes': 2, 'protocols': ['smtp', 'imap']}
                      (mail_cluster_health_failures, _successes, _protocols)
    spam_filter       {'enabled' (mail_cluster_spam_filter), 'hosts' (the MX nodes that run
                       rspamd: the smtp primaries, then the backup MX), 'clients' (their
                       addresses: the only ones Redis answers), 'redis' ([{'host', 'address'}]:
                       the mail_filter_redis hosts, else the data server, else the first
                       primary), 'redis_port', 'milter_dir', 'milter_socket' (rspamd's
                       milter: a UNIX socket in that directory below Postfix's queue
                       directory), 'milter' (Postfix's smtpd_milters: the same socket,
                       relative to the queue directory, so chrooted smtpd reaches it),
                       'default_action' (mail_cluster_spam_filter_default_action)}
                      (disabled: hosts, clients and redis are empty)
    postscreen_dnsbl_sites  [] (mail_cluster_postscreen_dnsbl_sites)

Addresses are normalised (``ipaddress`` compressed form), IPv4 first.
Placement ``hash`` (the default) uses rendezvous hashing (sha256 of address +
primary, highest wins): stable across runs and hosts, and adding or removing
one primary moves only the users that must move. A user's explicit ``home``
wins under ``hash`` too; under ``none`` homes are not used (``home`` is None),
which is refused with more than one primary: Dovecot must serve a mailbox
from one backend at a time. ``home`` is the *wanted* home; ``serving_home``
says which primary serves the user while some primaries are out of rotation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress
import re

GROUPS = ('mail_dns', 'mail_storage', 'mail_primaries', 'mail_backup_mx', 'mail_webmail', 'mail_filter_redis')
# The services a primary can run (mail_cluster_services): inbound SMTP (MX), submission, IMAP, POP3.
MAIL_SERVICES = ('smtp', 'submission', 'imap', 'pop3')
# A primary running one of these holds mailboxes (Dovecot, LMTP, the homes agent).
MAILBOX_SERVICES = ('imap', 'pop3')
SERVICES = MAIL_SERVICES + ('webmail',)
MX_STYLES = ('hosts', 'round_robin')
PLACEMENTS = ('none', 'explicit', 'hash')
DNS_ROLES = ('primary', 'secondary')
TTL_MIN = 5
TTL_MAX = 86400
USER_KEYS = ('name', 'domain', 'password_hash', 'aliases', 'home')
# The DNS primary's state directory (drained.json, health.json, homes.json), bind_dns_state_dir's default:
# the one place this path is written (the module defaults and the roles read it from here or from the model).
STATE_DIR = '/var/lib/clustered-mail'
# The homes agent's own state on each mailbox primary: a sibling of the same root, not configurable.
HOMES_AGENT_STATE = STATE_DIR + '-homes/state.json'
# The algorithms BIND and dnspython both sign with (bind_dns_tsig_algorithm).
TSIG_ALGORITHMS = ('hmac-sha256', 'hmac-sha384', 'hmac-sha512')
# What the health round can probe on a primary (mail_cluster_health_protocols).
HEALTH_PROTOCOLS = ('smtp', 'submission', 'imap', 'pop3')

# The spam filter (rspamd on every MX node): its milter on a UNIX socket below Postfix's queue directory, and
# the port of the Redis that holds its cluster-wide state (greylisting, rate limits, Bayes, fuzzy hashes).
# Not TCP on loopback: there every message waited about 40 ms (delayed ACK) in the milter's end-of-message
# exchange (DATA took 48 ms instead of 10 ms; README, Performance).
POSTFIX_QUEUE_DIR = '/var/spool/postfix'
FILTER_MILTER_DIR = 'rspamd'   # below POSTFIX_QUEUE_DIR
FILTER_MILTER_SOCKET = FILTER_MILTER_DIR + '/milter.sock'
FILTER_REDIS_PORT = 6379
# What Postfix does with mail when the milter does not answer (mail_cluster_spam_filter_default_action).
FILTER_DEFAULT_ACTIONS = ('accept', 'tempfail')

# Cluster-wide variables (group_vars/all). The default of mail_cluster_domain
# is None: it is required.
CLUSTER_DEFAULTS = {
    'mail_cluster_domain': None,
    'mail_cluster_domains': None,
    'mail_cluster_mail_name': 'mail',
    'mail_cluster_mx_style': 'hosts',
    'mail_cluster_mx_preference': 10,
    'mail_cluster_backup_mx_preference': 50,
    'mail_cluster_ttl': 60,
    'mail_cluster_services': None,
    'mail_cluster_users': [],
    'mail_cluster_placement': 'hash',
    'mail_cluster_spf': 'v=spf1 mx -all',
    'mail_cluster_dmarc': 'v=DMARC1; p=none',
    # DKIM: the MX tier signs outgoing mail with each domain's key (clustered.mail.dkim_keys, beside the cluster
    # CA) and bind_dns publishes <selector>._domainkey.<domain>; this selector names each domain's first key.
    'mail_cluster_dkim_signing': True,
    'mail_cluster_dkim_selector': 'mail',
    'mail_cluster_hostmaster': None,
    'mail_cluster_reverse_zones': None,
    'mail_cluster_vmail_uid': 5000,
    'mail_cluster_vmail_gid': 5000,
    'mail_cluster_store_path': '/srv/mail',
    # True: the store path is already one shared filesystem on every primary (mounted by other means).
    'mail_cluster_store_shared': False,
    # False: a secret the inventory does not set is refused instead of generated (clustered.mail.cluster_secret).
    'mail_cluster_generate_secrets': True,
    # Rotation policy: drain and health never leave fewer primaries in rotation; the health round drains after
    # that many failed rounds in a row and undrains after that many good ones, probing these protocols.
    'mail_cluster_min_members': 1,
    'mail_cluster_health_failures': 3,
    'mail_cluster_health_successes': 2,
    'mail_cluster_health_protocols': ['smtp', 'imap'],
    # The DNS primary's state (read by site, written by the day-2 playbooks and the health timer) and the
    # TSIG update key those sign with. bind_dns_ names, as before; the model makes them cluster-wide.
    'bind_dns_state_dir': STATE_DIR,
    'bind_dns_tsig_key_name': 'mail-cluster-transfer',
    'bind_dns_tsig_algorithm': 'hmac-sha256',
    # rspamd as the milter of every MX node (the smtp primaries and the backup MX), with its state in one Redis.
    'mail_cluster_spam_filter': True,
    # Postfix's milter_default_action while rspamd does not answer: accept (mail flows unscanned) or tempfail.
    'mail_cluster_spam_filter_default_action': 'accept',
    # postscreen's DNS blocklists on port 25 of every MX node ([] = none; e.g. ['zen.spamhaus.org*2']).
    'mail_cluster_postscreen_dnsbl_sites': [],
}

_LABEL = re.compile(r'^(?!-)[a-z0-9-]{1,63}(?<!-)$')
_LOCAL_PART = re.compile(r'^[a-z0-9_][a-z0-9._+-]*$')


class ClusterError(ValueError):
    """The inventory does not describe a valid cluster; ``errors`` lists why."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(ClusterError, self).__init__('\n'.join(self.errors))


def plain_copy(value):
    """A deep copy of ``value`` made of plain dicts and lists.

    Filters receive Ansible's lazy containers, and ``copy.deepcopy`` of one
    templates and re-wraps every level: 0.3 s for one small cluster model,
    half a minute for a named.conf that asked for it per zone.
    """
    if hasattr(value, 'items'):  # a dict or any mapping (no import: the health timer runs this without Ansible)
        return dict((key, plain_copy(item)) for key, item in value.items())
    if isinstance(value, tuple):
        return tuple(plain_copy(item) for item in value)
    if isinstance(value, list):
        return [plain_copy(item) for item in value]
    if isinstance(value, set):
        return set(value)
    return value


def is_dns_name(name, min_labels=1):
    """True when ``name`` (no trailing dot, lower case) is a valid host-style DNS name."""
    if not isinstance(name, str) or not name or len(name) > 253:
        return False
    labels = name.split('.')
    return len(labels) >= min_labels and all(_LABEL.match(label) for label in labels)


def _dns_name(value):
    return value.strip().rstrip('.').lower() if isinstance(value, str) else value


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _int_in(errors, var, value, low, high, where='on all'):
    if not _is_int(value) or not low <= value <= high:
        errors.append('%s=%r %s: must be an integer between %d and %d' % (var, value, where, low, high))
        return None
    return value


def rendezvous_home(address, primaries):
    """The primary that owns ``address`` under placement ``hash`` (highest sha256 wins)."""
    if not primaries:
        return None

    def weight(host):
        return hashlib.sha256(('%s\0%s' % (address.lower(), host)).encode('utf-8')).hexdigest()
    return max(sorted(primaries), key=weight)


def pop_name(user):
    """``<user>.pop.<domain>``: the name whose CNAME names the primary serving ``user`` (a model user)."""
    return '%s.pop.%s' % (user['name'], user['domain'])


def serving_home(address, wanted, primaries, drained=()):
    """The primary that serves ``address`` now.

    ``wanted`` (its inventory or moved home) while that primary is in
    rotation, else its next rendezvous choice among the primaries in rotation,
    so a drained or failed primary moves only its own users, and they come
    back when it returns. With every primary drained, all of them count (a
    mailbox is never left without a home).
    """
    drained = set(drained or ())
    rotating = [h for h in primaries if h not in drained] or list(primaries)
    if wanted in rotating:
        return wanted
    return rendezvous_home(address, rotating)


def _cluster_hosts(groups):
    seen = []
    for group in GROUPS:
        for host in groups.get(group) or []:
            if host not in seen:
                seen.append(host)
    return seen


def _read_cluster_vars(hostvars, hosts, errors):
    values = dict(CLUSTER_DEFAULTS)
    if not hosts:
        return values
    first = hostvars.get(hosts[0]) or {}
    for var in CLUSTER_DEFAULTS:
        if var in first:
            values[var] = first[var]
    # Cluster-wide means the same everywhere: a host_vars override is a mistake.
    for host in hosts[1:]:
        hv = hostvars.get(host) or {}
        for var in CLUSTER_DEFAULTS:
            if hv.get(var, CLUSTER_DEFAULTS[var]) != values[var]:
                errors.append('%s differs between hosts %s and %s: define cluster-wide variables once, in group_vars/all'
                              % (var, hosts[0], host))
    return values


def _addresses(host, hv, errors):
    raw = hv.get('mail_cluster_addresses')
    if raw is None:
        try:
            raw = [str(ipaddress.ip_address(str(hv.get('ansible_host', ''))))]
        except ValueError:
            errors.append('host %s has no address: set mail_cluster_addresses (a list of IPv4/IPv6 addresses) in host_vars/%s,'
                          ' or ansible_host to an IP address' % (host, host))
            return []
    if isinstance(raw, str) or not isinstance(raw, (list, tuple)) or not raw:
        errors.append('mail_cluster_addresses=%r on host %s: must be a non-empty list of IP addresses' % (raw, host))
        return []
    result = []
    for item in raw:
        try:
            addr = ipaddress.ip_address(str(item).strip())
        except ValueError:
            errors.append('mail_cluster_addresses on host %s: %r is not an IPv4 or IPv6 address' % (host, item))
            continue
        if addr.is_unspecified or addr.is_multicast or addr.is_link_local:
            errors.append('mail_cluster_addresses on host %s: %s cannot be published in DNS (unspecified, multicast or link-local)'
                          % (host, addr))
            continue
        if str(addr) in result:
            errors.append('mail_cluster_addresses on host %s: %s is listed twice' % (host, addr))
            continue
        result.append(str(addr))
    # IPv4 first, each family in inventory order.
    return [a for a in result if ':' not in a] + [a for a in result if ':' in a]


def _hosts(hostvars, groups, cv, domain, errors):
    hosts = {}
    owner_of = {}
    names = {}
    for host in _cluster_hosts(groups):
        hv = hostvars.get(host) or {}
        member = [g for g in GROUPS if host in (groups.get(g) or [])]
        addresses = _addresses(host, hv, errors)
        for addr in addresses:
            if addr in owner_of:
                errors.append('mail_cluster_addresses: %s is an address of both %s and %s; each address belongs to one host'
                              % (addr, owner_of[addr], host))
            else:
                owner_of[addr] = host
        host_name = _dns_name(hv.get('mail_cluster_host_name', str(host).split('.', maxsplit=1)[0]))
        if not is_dns_name(host_name) or '.' in host_name:
            errors.append('mail_cluster_host_name=%r on host %s: must be one DNS label (letters, digits, hyphens; set'
                          ' mail_cluster_host_name in host_vars/%s when the inventory name is not one)' % (host_name, host, host))
        elif host_name in names:
            errors.append('mail_cluster_host_name=%s on host %s: already the name of host %s; host names must be unique'
                          % (host_name, host, names[host_name]))
        else:
            names[host_name] = host
        mx_tier = None
        if 'mail_primaries' in member:
            if 'mail_cluster_mx_tier' in hv:
                mx_tier = _int_in(errors, 'mail_cluster_mx_tier', hv['mail_cluster_mx_tier'], 0, 65535, 'on host %s' % host)
            elif _is_int(cv['mail_cluster_mx_preference']):
                mx_tier = cv['mail_cluster_mx_preference']
        dns_role = None
        if 'mail_dns' in member:
            dns_role = hv.get('bind_dns_role')
            if dns_role is not None and dns_role not in DNS_ROLES:
                errors.append('bind_dns_role=%r on host %s: must be one of %s' % (dns_role, host, ', '.join(DNS_ROLES)))
        hosts[host] = {
            'name': host,
            'groups': member,
            'addresses': addresses,
            'ipv4': [a for a in addresses if ':' not in a],
            'ipv6': [a for a in addresses if ':' in a],
            'host_name': host_name,
            'fqdn': '%s.%s' % (host_name, domain) if domain else host_name,
            'mx_tier': mx_tier,
            'dns_role': dns_role,
        }
    return hosts


def _dns_roles(hosts, dns_hosts, errors):
    explicit = [h for h in dns_hosts if hosts[h]['dns_role'] == 'primary']
    if len(explicit) > 1:
        errors.append('bind_dns_role=primary on hosts %s: exactly one mail_dns host can be the primary' % ', '.join(explicit))
    primary = explicit[0] if explicit else (dns_hosts[0] if dns_hosts else None)
    for host in dns_hosts:
        hosts[host]['dns_role'] = 'primary' if host == primary else 'secondary'
    return primary, [h for h in dns_hosts if h != primary]


def _domains(cv, errors):
    domain = _dns_name(cv['mail_cluster_domain'])
    if domain is None:
        errors.append('mail_cluster_domain is not set: define it in group_vars/all (e.g. mail_cluster_domain: example.com)')
    elif not is_dns_name(domain, 2):
        errors.append('mail_cluster_domain=%r on all: must be a DNS name of at least two labels, e.g. example.com' % (domain,))
        domain = None
    raw = cv['mail_cluster_domains']
    if raw is None:
        return domain, [domain] if domain else []
    if isinstance(raw, str) or not isinstance(raw, (list, tuple)):
        errors.append('mail_cluster_domains=%r on all: must be a list of domain names' % (raw,))
        return domain, [domain] if domain else []
    domains = []
    for item in raw:
        name = _dns_name(item)
        if not is_dns_name(name, 2):
            errors.append('mail_cluster_domains on all: %r is not a valid domain name' % (item,))
        elif name in domains:
            errors.append('mail_cluster_domains on all: %s is listed twice' % name)
        else:
            domains.append(name)
    if domain and domain not in domains:
        errors.append('mail_cluster_domains on all: must include mail_cluster_domain (%s)' % domain)
    for name in domains:
        for other in domains:
            if name != other and name.endswith('.' + other):
                errors.append('mail_cluster_domains on all: %s is inside %s; nested mail domains would need a delegation,'
                              ' which is not supported: use separate domains' % (name, other))
    if domain in domains:
        domains.remove(domain)
        domains.insert(0, domain)
    return domain, domains


def _preferences(cv, hosts, primaries, errors):
    style = cv['mail_cluster_mx_style']
    if style not in MX_STYLES:
        errors.append('mail_cluster_mx_style=%r on all: must be one of %s' % (style, ', '.join(MX_STYLES)))
    pref = _int_in(errors, 'mail_cluster_mx_preference', cv['mail_cluster_mx_preference'], 0, 65535)
    backup = _int_in(errors, 'mail_cluster_backup_mx_preference', cv['mail_cluster_backup_mx_preference'], 0, 65535)
    tiers = dict((h, hosts[h]['mx_tier']) for h in primaries if hosts[h]['mx_tier'] is not None)
    if style == 'round_robin' and pref is not None:
        for host, tier in tiers.items():
            if tier != pref:
                errors.append('mail_cluster_mx_tier=%s on host %s: per-host tiers need mail_cluster_mx_style=hosts'
                              ' (round_robin publishes one MX name for all primaries)' % (tier, host))
    if backup is not None and tiers and backup <= max(tiers.values()):
        worst = max(tiers, key=lambda h: tiers[h])
        errors.append('mail_cluster_backup_mx_preference=%s on all: must be greater than every primary\'s MX preference'
                      ' (host %s has %s); a backup MX is used only after the primaries' % (backup, worst, tiers[worst]))
    ttl = cv['mail_cluster_ttl']
    if not _is_int(ttl) or not TTL_MIN <= ttl <= TTL_MAX:
        errors.append('mail_cluster_ttl=%r on all: must be between %d and %d (seconds)' % (ttl, TTL_MIN, TTL_MAX))
    return style, pref, backup, ttl


def _policy(cv, errors):
    """The day-2 settings: state directory, update key, rotation minimum and health thresholds."""
    state_dir = cv['bind_dns_state_dir']
    if not isinstance(state_dir, str) or not state_dir.startswith('/') or state_dir.rstrip('/') == '':
        errors.append('bind_dns_state_dir=%r on all: must be an absolute directory other than / (default %s)'
                      % (state_dir, STATE_DIR))
    else:
        state_dir = state_dir.rstrip('/')
    key_name = cv['bind_dns_tsig_key_name']
    if not isinstance(key_name, str) or not is_dns_name(_dns_name(key_name)):
        errors.append('bind_dns_tsig_key_name=%r on all: must be a DNS-style key name (letters, digits, hyphens,'
                      ' dots), e.g. %s' % (key_name, CLUSTER_DEFAULTS['bind_dns_tsig_key_name']))
    algorithm = cv['bind_dns_tsig_algorithm']
    if algorithm not in TSIG_ALGORITHMS:
        errors.append('bind_dns_tsig_algorithm=%r on all: must be one of %s' % (algorithm, ', '.join(TSIG_ALGORITHMS)))
    numbers = {}
    for var in ('mail_cluster_min_members', 'mail_cluster_health_failures', 'mail_cluster_health_successes'):
        value = cv[var]
        if isinstance(value, str) and value.strip().isdigit():  # -e mail_cluster_min_members=2 is a string
            value = int(value)
        if not _is_int(value) or value < 1:
            errors.append('%s=%r on all: must be an integer of at least 1 (default %d)' % (var, value, CLUSTER_DEFAULTS[var]))
        numbers[var] = value
    protocols = cv['mail_cluster_health_protocols']
    if (isinstance(protocols, str) or not isinstance(protocols, (list, tuple)) or not protocols
            or any(p not in HEALTH_PROTOCOLS for p in protocols)):
        errors.append('mail_cluster_health_protocols=%r on all: must be a non-empty list of %s'
                      % (protocols, ', '.join(HEALTH_PROTOCOLS)))
    else:
        protocols = list(protocols)
    return {
        'state_dir': state_dir,
        'homes_agent_state': HOMES_AGENT_STATE,
        'tsig': {'key_name': key_name, 'algorithm': algorithm},
        'min_members': numbers['mail_cluster_min_members'],
        'health': {'failures': numbers['mail_cluster_health_failures'],
                   'successes': numbers['mail_cluster_health_successes'],
                   'protocols': protocols},
    }


def _services(cv, hosts, primaries, webmail, errors):
    raw = cv['mail_cluster_services']
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        errors.append('mail_cluster_services=%r on all: must be a mapping of service name to a list of hosts' % (raw,))
        raw = {}
    given = {}
    for name, members in raw.items():
        label = _dns_name(name)
        if not is_dns_name(label) or '.' in label:
            errors.append('mail_cluster_services on all: service name %r must be one DNS label' % (name,))
            continue
        if isinstance(members, str) or not isinstance(members, (list, tuple)) or not members:
            errors.append('mail_cluster_services.%s on all: must be a non-empty list of inventory hosts' % label)
            continue
        allowed, group = hosts, ', '.join(GROUPS)
        if label in MAIL_SERVICES:
            allowed, group = primaries, 'mail_primaries'
        elif label == 'webmail':
            allowed, group = webmail, 'mail_webmail (the hosts of the webmail role)'
        for host in members:
            if host not in allowed:
                errors.append('mail_cluster_services.%s on all: %r is not a host of %s' % (label, host, group))
        given[label] = [h for h in members if h in allowed]
    # Unlisted: smtp and imap run on every primary, submission where smtp runs, pop3 where imap runs.
    services = {}
    for label, default in (('smtp', primaries), ('imap', primaries), ('submission', 'smtp'), ('pop3', 'imap')):
        services[label] = list(given.get(label, services[default] if isinstance(default, str) else default))
    if 'webmail' in given or webmail:
        services['webmail'] = list(given.get('webmail', webmail))
    for label in given:
        services.setdefault(label, given[label])
    return services


def mailbox_hosts(services, primaries):
    """The primaries that run IMAP or POP3 (inventory order): they hold the mailboxes and are the only homes."""
    return [h for h in primaries if any(h in services.get(s, ()) for s in MAILBOX_SERVICES)]


def _users(cv, domain, domains, primaries, hosts, placement, errors):
    raw = cv['mail_cluster_users']
    if raw is None:
        raw = []
    if isinstance(raw, (str, dict)) or not isinstance(raw, (list, tuple)):
        errors.append('mail_cluster_users=%r on all: must be a list of {name, domain, password_hash, aliases, home}' % (raw,))
        return []
    users = []
    taken = {}
    for index, item in enumerate(raw):
        where = 'mail_cluster_users[%d]' % index
        if not isinstance(item, dict):
            errors.append('%s on all: must be a mapping with at least name and password_hash' % where)
            continue
        unknown = sorted(set(item) - set(USER_KEYS))
        if unknown:
            errors.append('%s on all: unknown key(s) %s; allowed: %s' % (where, ', '.join(unknown), ', '.join(USER_KEYS)))
        name = item.get('name')
        name = name.strip().lower() if isinstance(name, str) else name
        if not isinstance(name, str) or not _LOCAL_PART.match(name) or '..' in name or name.endswith('.'):
            errors.append('%s.name=%r on all: must be a mail local part (letters, digits, . _ + -)' % (where, item.get('name')))
            continue
        udomain = _dns_name(item.get('domain', domain))
        address = '%s@%s' % (name, udomain)
        where = '%s (%s)' % (where, address)
        if udomain not in domains:
            errors.append('%s.domain=%r on all: must be one of mail_cluster_domains (%s)' % (where, udomain, ', '.join(domains)))
        password_hash = item.get('password_hash')
        if not isinstance(password_hash, str) or not password_hash.strip():
            errors.append('%s.password_hash on all: is required (e.g. the output of `doveadm pw -s SHA512-CRYPT`)' % where)
        aliases = []
        raw_aliases = item.get('aliases') or []
        if isinstance(raw_aliases, str) or not isinstance(raw_aliases, (list, tuple)):
            errors.append('%s.aliases on all: must be a list of local parts or addresses' % where)
            raw_aliases = []
        for alias in raw_aliases:
            alias = alias.strip().lower() if isinstance(alias, str) else alias
            if not isinstance(alias, str):
                errors.append('%s.aliases on all: %r is not a string' % (where, alias))
                continue
            local, _sep, adomain = alias.partition('@')
            adomain = adomain or udomain
            if not _LOCAL_PART.match(local) or adomain not in domains:
                errors.append('%s.aliases on all: %r must be a local part or an address in mail_cluster_domains' % (where, alias))
                continue
            aliases.append('%s@%s' % (local, adomain))
        for addr in [address] + aliases:
            if addr in taken:
                errors.append('%s on all: %s is already used by %s; every address and alias must be unique'
                              % (where, addr, taken[addr]))
            else:
                taken[addr] = address
        home = item.get('home')
        if home is not None and home not in primaries:
            errors.append('%s.home=%r on all: must be a host of mail_primaries that runs imap or pop3 (%s)' % (where, home, ', '.join(primaries)))
            home = None
        if placement == 'none':
            home = None
        elif placement == 'explicit' and home is None and item.get('home') is None:
            errors.append('%s.home on all: is required with mail_cluster_placement=explicit (a host of mail_primaries'
                          ' that runs imap or pop3)' % where)
        elif placement == 'hash' and home is None:
            home = rendezvous_home(address, primaries)
        users.append({
            'name': name,
            'domain': udomain,
            'address': address,
            'aliases': aliases,
            'password_hash': password_hash,
            'home': home,
            'home_fqdn': hosts[home]['fqdn'] if home else None,
        })
    return users


def _collect(hostvars, groups, cluster_vars):
    errors = []
    groups = groups or {}
    cluster = _cluster_hosts(groups)
    if cluster_vars is None:
        cv = _read_cluster_vars(hostvars, cluster, errors)
    else:
        cv = dict(CLUSTER_DEFAULTS)
        cv.update(dict((k, v) for k, v in cluster_vars.items() if k in CLUSTER_DEFAULTS))
    domain, domains = _domains(cv, errors)
    hosts = _hosts(hostvars, groups, cv, domain, errors)
    members = dict((g, list(groups.get(g) or [])) for g in GROUPS)
    primaries = members['mail_primaries']
    if not primaries:
        errors.append('group mail_primaries is empty: add at least one host to it in the inventory')
    if len(members['mail_storage']) > 1:
        errors.append('group mail_storage has %d hosts (%s): at most one data server is supported'
                      % (len(members['mail_storage']), ', '.join(members['mail_storage'])))
    if len(primaries) > 1 and not members['mail_storage'] and cv['mail_cluster_store_shared'] is not True:
        errors.append('group mail_storage is empty while mail_primaries has %d hosts: each primary would keep its own'
                      ' local store and the mailboxes would split; add a data server to mail_storage, or set'
                      ' mail_cluster_store_shared: true on all if mail_cluster_store_path is already one shared'
                      ' filesystem mounted on every primary' % len(primaries))
    for host in members['mail_backup_mx']:
        if host in primaries:
            errors.append('host %s is in both mail_primaries and mail_backup_mx: a backup MX relays to the primaries,'
                          ' put it in one group only' % host)
    dns_primary, dns_secondaries = _dns_roles(hosts, members['mail_dns'], errors)
    style, pref, backup, ttl = _preferences(cv, hosts, primaries, errors)
    mail_name = _dns_name(cv['mail_cluster_mail_name'])
    if not is_dns_name(mail_name):
        errors.append('mail_cluster_mail_name=%r on all: must be a DNS name relative to mail_cluster_domain, e.g. mail' % (mail_name,))
    placement = cv['mail_cluster_placement']
    if placement not in PLACEMENTS:
        errors.append('mail_cluster_placement=%r on all: must be one of %s' % (placement, ', '.join(PLACEMENTS)))
    if placement == 'none' and len(primaries) > 1:
        errors.append('mail_cluster_placement=none on all: %d primaries share one store, and Dovecot must serve each'
                      ' mailbox from one backend at a time (or UIDs and keywords split between primaries); remove the'
                      ' variable to get hash (the default), or set explicit with a home per user' % len(primaries))
    services = _services(cv, hosts, primaries, members['mail_webmail'], errors)
    for host in hosts:
        hosts[host]['services'] = [s for s in sorted(services) if host in services[s]]
    homes = mailbox_hosts(services, primaries)
    if primaries and not homes:
        errors.append('mail_cluster_services on all: no primary runs imap or pop3, so no mailbox has a home; list at'
                      ' least one host of mail_primaries under imap or pop3')
    users = _users(cv, domain, domains, homes, hosts, placement, errors)
    hostmaster = cv['mail_cluster_hostmaster']
    if hostmaster is None:
        hostmaster = 'hostmaster.%s' % domain if domain else None
    elif isinstance(hostmaster, str) and '@' in hostmaster:
        local, _sep, hdomain = hostmaster.partition('@')
        hostmaster = '%s.%s' % (local.replace('.', '\\.'), hdomain)
    hostmaster = _dns_name(hostmaster)
    if hostmaster is not None and not is_dns_name(hostmaster.replace('\\.', '-'), 2):
        errors.append('mail_cluster_hostmaster=%r on all: must be a mailbox such as hostmaster.example.com'
                      ' or hostmaster@example.com' % (cv['mail_cluster_hostmaster'],))
    for var in ('mail_cluster_spf', 'mail_cluster_dmarc'):
        if not isinstance(cv[var], str):
            errors.append('%s=%r on all: must be a string (empty to publish no record)' % (var, cv[var]))
    dkim = _dkim_settings(cv, errors)
    for var in ('mail_cluster_vmail_uid', 'mail_cluster_vmail_gid'):
        _int_in(errors, var, cv[var], 1, 4294967294)
    store = cv['mail_cluster_store_path']
    if not isinstance(store, str) or not store.startswith('/') or store.rstrip('/') == '':
        errors.append('mail_cluster_store_path=%r on all: must be an absolute path other than /' % (store,))
    reverse = cv['mail_cluster_reverse_zones']
    if reverse is not None and (isinstance(reverse, str) or not isinstance(reverse, (list, tuple))):
        errors.append('mail_cluster_reverse_zones=%r on all: must be a list of networks or reverse zone names' % (reverse,))
        reverse = None
    model = {
        'domain': domain,
        'domains': domains,
        'mail_name': mail_name,
        'mail_fqdn': '%s.%s' % (mail_name, domain) if domain and mail_name else None,
        'mx_style': style,
        'mx_preference': pref,
        'backup_mx_preference': backup,
        'ttl': ttl,
        'spf': cv['mail_cluster_spf'],
        'dmarc': cv['mail_cluster_dmarc'],
        'dkim': dkim,
        'hostmaster': hostmaster,
        'reverse_zones': list(reverse) if reverse is not None else None,
        'placement': placement,
        'vmail_uid': cv['mail_cluster_vmail_uid'],
        'vmail_gid': cv['mail_cluster_vmail_gid'],
        'store_path': store.rstrip('/') if isinstance(store, str) else store,
        'groups': members,
        'hosts': hosts,
        'dns_primary': dns_primary,
        'dns_secondaries': dns_secondaries,
        'services': services,
        'mailbox_hosts': homes,
        'users': users,
    }
    model.update(_policy(cv, errors))
    model['spam_filter'] = _spam_filter(cv, hosts, members, services, errors)
    model['postscreen_dnsbl_sites'] = _dnsbl_sites(cv, errors)
    if model['dkim']['signing'] and not model['spam_filter']['enabled']:
        # rspamd is the signer: without the filter nothing signs, so no key is published either.
        model['dkim'] = dict(model['dkim'], signing=False)
    if isinstance(cv['mail_cluster_dmarc'], str):
        errors.extend(_dmarc_errors(cv['mail_cluster_dmarc'], model['dkim']['signing'] is not False))
    return model, errors


def _first_address(host):
    """The address a cluster service of ``host`` listens on: its first IPv4, else its first IPv6."""
    return (host['ipv4'] or host['ipv6'] or [None])[0]


def _spam_filter(cv, hosts, members, services, errors):
    """Where rspamd and its Redis run, and who may reach that Redis.

    rspamd runs on every MX node: the primaries that run smtp and the backup MX. Its Redis runs on the hosts of
    mail_filter_redis when that group has hosts, else on the data server, else (shapes 1 and 2) on the first
    primary: one Redis by default, so greylisting and rate limits are the same on every MX node.
    """
    enabled = _switch(cv, 'mail_cluster_spam_filter', errors, False)
    action = cv['mail_cluster_spam_filter_default_action']
    if action not in FILTER_DEFAULT_ACTIONS:
        errors.append('mail_cluster_spam_filter_default_action=%r on all: must be one of %s'
                      % (action, ', '.join(FILTER_DEFAULT_ACTIONS)))
    mx_hosts = [h for h in members['mail_primaries'] if h in services.get('smtp', ())] + members['mail_backup_mx']
    placed = members['mail_filter_redis'] or members['mail_storage'][:1] or members['mail_primaries'][:1]
    if members['mail_filter_redis'] and not enabled:
        errors.append('group mail_filter_redis has hosts (%s) while mail_cluster_spam_filter is false on all: empty the'
                      ' group, or turn the spam filter on' % ', '.join(members['mail_filter_redis']))
    redis = [{'host': h, 'address': _first_address(hosts[h])} for h in placed if h in hosts] if enabled else []
    return {
        'enabled': enabled,
        'hosts': mx_hosts if enabled else [],
        'clients': [a for h in mx_hosts for a in hosts[h]['addresses']] if enabled else [],
        'redis': redis,
        'redis_port': FILTER_REDIS_PORT,
        'milter_dir': '%s/%s' % (POSTFIX_QUEUE_DIR, FILTER_MILTER_DIR),
        'milter_socket': '%s/%s' % (POSTFIX_QUEUE_DIR, FILTER_MILTER_SOCKET),
        'milter': 'unix:' + FILTER_MILTER_SOCKET,
        'default_action': action,
    }


def _dnsbl_sites(cv, errors):
    sites = cv['mail_cluster_postscreen_dnsbl_sites']
    if isinstance(sites, str) or not isinstance(sites, (list, tuple)) or \
            not all(isinstance(s, str) and re.match(r'^[A-Za-z0-9.-]+(=[0-9.;\[\]]+)?(\*-?[0-9]+)?$', s) for s in sites):
        errors.append('mail_cluster_postscreen_dnsbl_sites=%r on all: must be a list of DNSBL domains in'
                      ' postscreen_dnsbl_sites form, e.g. [zen.spamhaus.org*2, bl.example.org=127.0.0.2]' % (sites,))
        return []
    return list(sites)


_BOOLEAN_STRINGS = {'true': True, 'yes': True, 'on': True, '1': True,
                    'false': False, 'no': False, 'off': False, '0': False}


def _boolean(value):
    """A switch as given: -e mail_cluster_spam_filter=false on the command line is the string 'false'.
    Anything that is not a boolean or one of these words is returned as it is, for the caller to refuse."""
    if isinstance(value, str) and value.strip().lower() in _BOOLEAN_STRINGS:
        return _BOOLEAN_STRINGS[value.strip().lower()]
    return value


def _switch(cv, name, errors, invalid):
    """A cluster-wide true/false variable, read once for every switch; a value that is neither is refused
    (the message names the variable) and ``invalid`` stands in for it."""
    value = _boolean(cv[name])
    if isinstance(value, bool):
        return value
    errors.append('%s=%r on all: must be true or false (default %s)'
                  % (name, value, str(CLUSTER_DEFAULTS[name]).lower()))
    return invalid


def _dkim_settings(cv, errors):
    """mail_cluster_dkim_signing and mail_cluster_dkim_selector, checked."""
    signing = _switch(cv, 'mail_cluster_dkim_signing', errors, None)
    selector = cv['mail_cluster_dkim_selector']
    if not isinstance(selector, str) or not _LABEL.match(selector):
        errors.append('mail_cluster_dkim_selector=%r on all: a DKIM selector must be one DNS label: lower-case'
                      ' letters, digits and inner hyphens, at most 63 characters (default %s)'
                      % (selector, CLUSTER_DEFAULTS['mail_cluster_dkim_selector']))
    return {'signing': signing, 'selector': selector}


def _dmarc_errors(record, signing):
    """RFC 7489 section 6.3: v=DMARC1 first, then p=. While the cluster does not sign with DKIM, only p=none:
    forwarded mail loses SPF alignment, and with neither aligned it fails DMARC, so quarantine or reject would
    send our own users' forwarded mail to spam at the receivers. With signing on, the user's policy stands."""
    if not record:
        return []
    tags = [t.strip() for t in record.split(';') if t.strip()]
    pairs = [t.partition('=') for t in tags]
    if not pairs or pairs[0][0].strip() != 'v' or pairs[0][2].strip() != 'DMARC1':
        return ['mail_cluster_dmarc=%r on all: a DMARC record starts with v=DMARC1, e.g. "v=DMARC1; p=none"'
                ' (empty to publish none)' % (record,)]
    policy = dict((k.strip().lower(), v.strip().lower()) for k, _eq, v in pairs[1:])
    if policy.get('p') not in ('none', 'quarantine', 'reject'):
        return ['mail_cluster_dmarc=%r on all: the second tag must be p=none, p=quarantine or p=reject' % (record,)]
    strict = sorted('%s=%s' % (k, policy[k]) for k in ('p', 'sp') if policy.get(k) in ('quarantine', 'reject'))
    if strict and not signing:
        return ['mail_cluster_dmarc=%r on all: %s asks receivers to quarantine or reject mail that fails DMARC, and'
                ' nothing is DKIM-signed (mail_cluster_dkim_signing, or mail_cluster_spam_filter whose rspamd signs,'
                ' is false), so mail forwarded by others (which loses SPF alignment) would fail it; publish p=none'
                ' (the default) or set mail_cluster_dkim_signing and mail_cluster_spam_filter: true'
                % (record, ' and '.join(strict))]
    return []


def cluster_errors(hostvars, groups, cluster_vars=None):
    """Every problem with the inventory, as messages naming the variable; [] when valid."""
    return _collect(hostvars, groups, cluster_vars)[1]


def build_cluster(hostvars, groups, cluster_vars=None):
    """The cluster model (see the module docstring); raises ClusterError listing every problem."""
    model, errors = _collect(hostvars, groups, cluster_vars)
    if errors:
        raise ClusterError(errors)
    return model


# The model's keys that are secrets: dropped by public_model.
SECRET_USER_KEYS = ('password_hash',)


def public_model(model):
    """A copy of ``model`` without its secrets (every user's ``password_hash``).

    For what runs without needing them: the rotation playbooks, the health
    timer's configuration on the DNS primary (nothing secret is stored or
    logged that the consumer does not use). The rest is shared with the model.
    """
    result = dict(model)
    result['users'] = [dict((k, v) for k, v in user.items() if k not in SECRET_USER_KEYS)
                       for user in model.get('users') or []]
    return result
