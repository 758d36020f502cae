# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every DNS record of the cluster, derived from the model of ``_cluster``.

Private to the collection; playbooks use the ``clustered.mail.dns_zones``,
``clustered.mail.dns_errors`` and ``clustered.mail.dns_serial`` filters.

API
---
``dns_zones(model, default_ttl=3600, soa=None, extra_records=None, dkim_records=None) -> list``
    One dict per zone, forward zones first (the cluster domain, then the other
    mail domains), then reverse zones::

        {'name': 'example.com', 'kind': 'forward' | 'reverse', 'ttl': 3600,
         'soa': {'mname': 'ns1.example.com.', 'rname': 'hostmaster.example.com.',
                 'refresh': 3600, 'retry': 600, 'expire': 1209600, 'minimum': 300},
         'records': [{'owner': '@', 'ttl': 60, 'type': 'MX', 'value': '10 primary1.example.com.'}, ...],
         'hash': '<sha256 of everything above>'}

    ``owner`` is relative to the zone ('@' for the apex); ``value`` is zone-file
    presentation text. Raises ``DnsError`` (a ``ClusterError``) on any problem.

``dns_errors(model, default_ttl=3600, soa=None, extra_records=None, dkim_records=None) -> list``
    The cross-field checks as messages naming the variable: no DNS server,
    reverse zones that miss an address or overlap, names used twice, a CNAME
    next to other data or used as an MX/NS target, user names unusable as DNS
    labels, bad extra records, TTL/timer bounds.

``next_serial(previous_serial, previous_hash, new_hash, today) -> int``
    The SOA serial: unchanged while the content hash is unchanged (so a second
    run changes nothing), else ``YYYYMMDD00`` or, when that would not increase
    the serial (RFC 1982 arithmetic), the previous serial plus one.

``tsig_errors(keys) -> list``
    The TSIG keys bind_dns installs, each ``{'name', 'name_var', 'secret',
    'secret_var', 'algorithm'}``: messages naming the variable (never the
    secret) for a bad name, an unknown algorithm, a secret that is not base64
    or is shorter than the HMAC output (RFC 8945 section 6), two keys sharing
    a name or a secret.

``zone_state(text) -> {'serial': int|None, 'hash': str|None}``
    Reads back the header line the bind_dns zone template writes
    (``; clustered.mail zone=... serial=... hash=...``).

``zone_serves(zone, text) -> bool``
    True when ``text`` is a zone file that lost that header (named wrote it
    back after dynamic updates: drain, undrain, move_user, the health timer)
    and still holds exactly the zone's records, SOA serial aside. bind_dns
    then leaves it as it is, so a drain followed by an undrain does not make
    the next run rewrite the zone. Needs dnspython on the controller; without
    it, or when the file cannot be read, the answer is False (rewrite).

What is published (TTL ``ttl`` = mail_cluster_ttl for the rotating records):

- every mail domain: NS (each mail_dns host), MX (``hosts``: each primary at
  its tier; ``round_robin``: the mail name at mail_cluster_mx_preference),
  backup MX last at its preference, SPF TXT, ``_dmarc`` TXT, one A/AAAA set
  per service name, ``<user>.pop`` CNAME to the home primary (placement);
  with DKIM signing on (``model['dkim']['signing']``), one
  ``<selector>._domainkey`` TXT per published selector, at mail_cluster_ttl
  so that a rotation waits one such TTL. ``dkim_records`` is the ``records``
  list of ``clustered.mail.dkim_keys`` (``{domain, selector, name, value}``),
  passed in as data: the derivation reads no file;
- the cluster domain also: one A/AAAA set per host name, and the mail name
  with every primary address (round robin);
- reverse zones: one PTR per address of every host (several per host), to
  the mail name for primaries (it resolves back to each of them), else to the
  host's own name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import ipaddress
import json
import re

from ansible_collections.clustered.mail.plugins.module_utils._cluster import ClusterError, is_dns_name, pop_name
from ansible_collections.clustered.mail.plugins.module_utils._dns_query import HAS_DNSPYTHON, dnspython

DEFAULT_SOA = {'refresh': 3600, 'retry': 600, 'expire': 1209600, 'minimum': 300}
SOA_BOUNDS = {'refresh': (60, 2419200), 'retry': (60, 2419200), 'expire': (3600, 4838400), 'minimum': (0, 86400)}
DEFAULT_TTL_BOUNDS = (5, 604800)
EXTRA_TYPES = ('A', 'AAAA', 'CAA', 'CNAME', 'MX', 'NS', 'PTR', 'SRV', 'TXT')
TYPE_ORDER = ('NS', 'MX', 'TXT', 'CAA', 'SRV', 'A', 'AAAA', 'CNAME', 'PTR')
_OWNER_LABEL = re.compile(r'^(\*|[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)$')
_POP_LABEL = re.compile(r'^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$')
_STATE = re.compile(r'^; clustered\.mail zone=(\S+) serial=(\d+) hash=([0-9a-f]{64})\s*$', re.M)
# TSIG algorithms bind_dns accepts, and the bytes of their HMAC output: the
# shortest secret accepted (RFC 8945 section 6: at least as long as the output).
TSIG_BYTES = {'hmac-sha256': 32, 'hmac-sha384': 48, 'hmac-sha512': 64}
_KEY_NAME = re.compile(r'^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$')
_SOA_SERIAL = re.compile(r'\bSOA\s+\S+\s+\S+\s+\(?\s*(\d+)', re.I)


class DnsError(ClusterError):
    """The records cannot be derived; ``errors`` lists why."""


def _abs(name):
    return name.rstrip('.') + '.'


def _relative(fqdn, zone):
    if fqdn == zone:
        return '@'
    return fqdn[:-len(zone) - 1]


def _txt(text):
    """TXT presentation: quoted, escaped, split in 255-byte strings."""
    data = text.encode('utf-8')
    chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b'']
    out = []
    for chunk in chunks:
        s = chunk.decode('utf-8', 'replace').replace('\\', '\\\\').replace('"', '\\"')
        out.append('"%s"' % s)
    return ' '.join(out)


def _reverse_network(entry):
    """A reverse zone entry (network or *.arpa name) as an ip_network on an octet/nibble boundary."""
    text = str(entry).strip().lower().rstrip('.')
    if text.endswith('.in-addr.arpa'):
        octets = text[:-len('.in-addr.arpa')].split('.')[::-1]
        if not 1 <= len(octets) <= 3:
            raise ValueError('an in-addr.arpa zone has 1 to 3 labels')
        return ipaddress.ip_network('%s/%d' % ('.'.join(octets + ['0'] * (4 - len(octets))), 8 * len(octets)))
    if text.endswith('.ip6.arpa'):
        nibbles = text[:-len('.ip6.arpa')].split('.')[::-1]
        if not 1 <= len(nibbles) <= 31 or any(len(n) != 1 for n in nibbles):
            raise ValueError('an ip6.arpa zone has 1 to 31 one-nibble labels')
        full = ''.join(nibbles) + '0' * (32 - len(nibbles))
        groups = [full[i:i + 4] for i in range(0, 32, 4)]
        return ipaddress.ip_network('%s/%d' % (':'.join(groups), 4 * len(nibbles)))
    net = ipaddress.ip_network(text)
    step = 8 if net.version == 4 else 4
    if net.prefixlen % step or not 0 < net.prefixlen < net.max_prefixlen:
        raise ValueError('the prefix length must be a multiple of %d (no RFC 2317 classless zones)' % step)
    return net


def reverse_zone_name(net):
    """The *.arpa zone name of an octet/nibble-aligned network."""
    if net.version == 4:
        octets = str(net.network_address).split('.')[:net.prefixlen // 8]
        return '.'.join(reversed(octets)) + '.in-addr.arpa'
    nibbles = net.network_address.exploded.replace(':', '')[:net.prefixlen // 4]
    return '.'.join(reversed(nibbles)) + '.ip6.arpa'


def _all_addresses(model):
    for host in model['hosts'].values():
        for addr in host['addresses']:
            yield host, addr


def reverse_networks(model, errors):
    """The reverse zones as networks, given or derived (/24 per IPv4, /64 per IPv6)."""
    nets = []
    if model['reverse_zones'] is None:
        for _host, addr in _all_addresses(model):
            ip = ipaddress.ip_address(addr)
            net = ipaddress.ip_network('%s/%d' % (addr, 24 if ip.version == 4 else 64), strict=False)
            if net not in nets:
                nets.append(net)
        return nets
    for entry in model['reverse_zones']:
        try:
            net = _reverse_network(entry)
        except ValueError as exc:
            errors.append('mail_cluster_reverse_zones on all: %r is not a reverse zone (%s); give a network such as'
                          ' 192.0.2.0/24 or 2001:db8::/64, or a name such as 2.0.192.in-addr.arpa' % (entry, exc))
            continue
        for other in nets:
            if net.version == other.version and net.overlaps(other):
                errors.append('mail_cluster_reverse_zones on all: %s and %s overlap; list each address range once'
                              % (reverse_zone_name(other), reverse_zone_name(net)))
                break
        else:
            nets.append(net)
    for host, addr in _all_addresses(model):
        ip = ipaddress.ip_address(addr)
        if not any(ip.version == n.version and ip in n for n in nets):
            errors.append('mail_cluster_reverse_zones on all: address %s of host %s is in none of the reverse zones;'
                          ' add its network (e.g. %s) so it gets a PTR'
                          % (addr, host['name'], ipaddress.ip_network('%s/%d' % (addr, 24 if ip.version == 4 else 64), strict=False)))
    return nets


def _owner_ok(owner):
    return owner == '@' or all(_OWNER_LABEL.match(label) for label in owner.split('.'))


def _sort_key(record):
    labels = [] if record['owner'] == '@' else record['owner'].split('.')[::-1]
    labels = [(0, int(x), '') if x.isdigit() else (1, 0, x) for x in labels]
    return (labels, TYPE_ORDER.index(record['type']) if record['type'] in TYPE_ORDER else 99, record['value'])


class _Zone(object):
    def __init__(self, name, kind):
        self.name = name
        self.kind = kind
        self.records = []
        self.purpose = {}

    def add(self, owner_fqdn, rtype, value, ttl, purpose=None):
        owner = _relative(owner_fqdn, self.name)
        record = {'owner': owner, 'ttl': ttl, 'type': rtype, 'value': value}
        if record not in self.records:
            self.records.append(record)
        if purpose is not None:
            self.purpose.setdefault(owner, [])
            if purpose not in self.purpose[owner]:
                self.purpose[owner].append(purpose)


def _address_type(addr):
    return 'AAAA' if ':' in addr else 'A'


def _add_dkim(model, by_name, dkim_records, errors):
    """The DKIM key records of every published selector (none while signing is off)."""
    if not model.get('dkim', {}).get('signing') or not dkim_records:
        return
    if isinstance(dkim_records, (str, dict)) or not isinstance(dkim_records, (list, tuple)):
        errors.append('dkim records=%r: must be the records list of clustered.mail.dkim_keys' % (dkim_records,))
        return
    for index, rec in enumerate(dkim_records):
        where = 'dkim record %d' % index
        if not isinstance(rec, dict) or not {'domain', 'selector', 'value'} <= set(rec):
            errors.append('%s=%r: must be a mapping with domain, selector and value (from clustered.mail.dkim_keys)'
                          % (where, rec))
            continue
        domain, selector, value = rec['domain'], rec['selector'], rec['value']
        zone = by_name.get(domain)
        if zone is None or zone.kind != 'forward':
            errors.append('%s: %r is not one of mail_cluster_domains (%s); clustered.mail.dkim_keys was given other '
                          'domains than the inventory' % (where, domain, ', '.join(model['domains'])))
        elif not isinstance(selector, str) or '.' in selector or not is_dns_name(selector):
            errors.append('%s: selector %r of %s is not one DNS label' % (where, selector, domain))
        elif not isinstance(value, str) or not value.startswith('v=DKIM1;') or '"' in value or '\\' in value \
                or '\n' in value:
            errors.append('%s: the value for %s._domainkey.%s is not a DKIM key record (v=DKIM1; ...)'
                          % (where, selector, domain))
        else:
            zone.add('%s._domainkey.%s' % (selector, domain), 'TXT', _txt(value), model['ttl'],
                     'the DKIM key of selector %s' % selector)


def _build(model, default_ttl, soa, extra_records, dkim_records=None):
    errors = []
    ttl = model['ttl']
    hosts = model['hosts']
    domain = model['domain']
    if not model['groups']['mail_dns']:
        errors.append('group mail_dns is empty: add at least one host to it (the first is the primary DNS server)')
    if not isinstance(default_ttl, int) or isinstance(default_ttl, bool) or \
            not DEFAULT_TTL_BOUNDS[0] <= default_ttl <= DEFAULT_TTL_BOUNDS[1]:
        errors.append('bind_dns_default_ttl=%r: must be an integer between %d and %d' % ((default_ttl,) + DEFAULT_TTL_BOUNDS))
        default_ttl = 3600
    timers = dict(DEFAULT_SOA)
    for key, value in (soa or {}).items():
        if value is None:
            continue  # an unset sub-option (role argument specs fill them with None)
        if key not in DEFAULT_SOA:
            errors.append('bind_dns_soa.%s: unknown key; allowed: %s' % (key, ', '.join(sorted(DEFAULT_SOA))))
        elif not isinstance(value, int) or isinstance(value, bool) or not SOA_BOUNDS[key][0] <= value <= SOA_BOUNDS[key][1]:
            errors.append('bind_dns_soa.%s=%r: must be an integer between %d and %d' % ((key, value) + SOA_BOUNDS[key]))
        else:
            timers[key] = value
    if timers['retry'] >= timers['refresh'] or timers['expire'] <= timers['refresh']:
        errors.append('bind_dns_soa: need retry < refresh < expire (got retry=%(retry)s, refresh=%(refresh)s, expire=%(expire)s)' % timers)
    ns_fqdns = [hosts[h]['fqdn'] for h in model['groups']['mail_dns']]
    primary = model['dns_primary']
    soa_rr = {
        'mname': _abs(hosts[primary]['fqdn']) if primary else '.',
        'rname': _abs(model['hostmaster']),
    }
    soa_rr.update(timers)

    zones = []
    for name in model['domains']:
        zone = _Zone(name, 'forward')
        for ns in ns_fqdns:
            zone.add(name, 'NS', _abs(ns), default_ttl)
        if model['mx_style'] == 'round_robin':
            zone.add(name, 'MX', '%d %s' % (model['mx_preference'], _abs(model['mail_fqdn'])), ttl)
        else:
            for host in model['services']['smtp']:
                zone.add(name, 'MX', '%d %s' % (hosts[host]['mx_tier'], _abs(hosts[host]['fqdn'])), ttl)
        for host in model['groups']['mail_backup_mx']:
            zone.add(name, 'MX', '%d %s' % (model['backup_mx_preference'], _abs(hosts[host]['fqdn'])), ttl)
        if model['spf']:
            zone.add(name, 'TXT', _txt(model['spf']), default_ttl)
        if model['dmarc']:
            zone.add('_dmarc.' + name, 'TXT', _txt(model['dmarc']), default_ttl)
        if name == domain:
            for host in hosts.values():
                for addr in host['addresses']:
                    zone.add(host['fqdn'], _address_type(addr), addr, default_ttl, 'the name of host %s' % host['name'])
            for host in model['services']['smtp']:
                for addr in hosts[host]['addresses']:
                    zone.add(model['mail_fqdn'], _address_type(addr), addr, ttl, 'mail_cluster_mail_name')
        for service, members in sorted(model['services'].items()):
            for host in members:
                for addr in hosts[host]['addresses']:
                    zone.add('%s.%s' % (service, name), _address_type(addr), addr, ttl, 'service %s in mail_cluster_services' % service)
        zones.append(zone)
    by_name = dict((z.name, z) for z in zones)

    if model['placement'] != 'none':
        for index, user in enumerate(model['users']):
            labels = user['name'].split('.')
            if not all(_POP_LABEL.match(label) for label in labels):
                errors.append('mail_cluster_users[%d] (%s): name %r cannot be a DNS name for its %s.pop CNAME'
                              ' (mail_cluster_placement=%s); use letters, digits, - and _ only'
                              % (index, user['address'], user['name'], user['name'], model['placement']))
                continue
            if user['home'] and user['domain'] in by_name:
                by_name[user['domain']].add(pop_name(user), 'CNAME',
                                            _abs(user['home_fqdn']), ttl, 'the placement CNAME of %s' % user['address'])

    for net in reverse_networks(model, errors):
        zone = _Zone(reverse_zone_name(net), 'reverse')
        for ns in ns_fqdns:
            zone.add(zone.name, 'NS', _abs(ns), default_ttl)
        for host in hosts.values():
            target = model['mail_fqdn'] if 'smtp' in host['services'] else host['fqdn']
            for addr in host['addresses']:
                ip = ipaddress.ip_address(addr)
                if ip.version == net.version and ip in net:
                    zone.add(ip.reverse_pointer, 'PTR', _abs(target), default_ttl)
        zones.append(zone)
        by_name[zone.name] = zone

    _add_dkim(model, by_name, dkim_records, errors)
    _add_extra(by_name, extra_records, default_ttl, errors)
    _check_names(zones, errors)
    result = []
    for zone in zones:
        data = {
            'name': zone.name,
            'kind': zone.kind,
            'ttl': default_ttl,
            'soa': dict(soa_rr),
            'records': sorted(zone.records, key=_sort_key),
        }
        data['hash'] = hashlib.sha256(json.dumps(data, sort_keys=True).encode('utf-8')).hexdigest()
        result.append(data)
    return result, errors


def _add_extra(by_name, extra_records, default_ttl, errors):
    if not extra_records:
        return
    if not isinstance(extra_records, dict):
        errors.append('bind_dns_extra_records=%r: must be a mapping of zone name to a list of {name, type, value, ttl}' % (extra_records,))
        return
    for zone_name, records in extra_records.items():
        zone = by_name.get(str(zone_name).lower().rstrip('.'))
        if zone is None:
            errors.append('bind_dns_extra_records.%s: not a zone served here (%s)' % (zone_name, ', '.join(sorted(by_name))))
            continue
        if isinstance(records, (str, dict)) or not isinstance(records, (list, tuple)):
            errors.append('bind_dns_extra_records.%s: must be a list of {name, type, value, ttl}' % zone_name)
            continue
        for index, rec in enumerate(records):
            where = 'bind_dns_extra_records.%s[%d]' % (zone_name, index)
            if not isinstance(rec, dict) or set(rec) - {'name', 'type', 'value', 'ttl'} or not {'name', 'type', 'value'} <= set(rec):
                errors.append('%s: must be a mapping with name, type, value (and optional ttl)' % where)
                continue
            owner = str(rec['name']).lower().rstrip('.')
            rtype = str(rec['type']).upper()
            value = rec['value']
            rttl = rec.get('ttl', default_ttl)
            if owner.endswith('.' + zone.name) or owner == zone.name:
                owner = _relative(owner, zone.name)
            if not _owner_ok(owner):
                errors.append('%s.name=%r: must be a name relative to the zone (or @)' % (where, rec['name']))
            elif rtype not in EXTRA_TYPES:
                errors.append('%s.type=%r: must be one of %s' % (where, rec['type'], ', '.join(EXTRA_TYPES)))
            elif not isinstance(value, str) or not value.strip() or '\n' in value or '\r' in value:
                errors.append('%s.value=%r: must be one line of zone-file text' % (where, value))
            elif not isinstance(rttl, int) or isinstance(rttl, bool) or not 0 <= rttl <= 2147483647:
                errors.append('%s.ttl=%r: must be an integer number of seconds' % (where, rttl))
            else:
                if rtype == 'TXT' and not value.lstrip().startswith('"'):
                    value = _txt(value)
                fqdn = zone.name if owner == '@' else '%s.%s' % (owner, zone.name)
                purpose = 'bind_dns_extra_records.%s' % zone_name if rtype in ('A', 'AAAA', 'CNAME') else None
                zone.add(fqdn, rtype, value.strip(), rttl, purpose)


def _check_names(zones, errors):
    cnames = {}
    for zone in zones:
        for owner, purposes in sorted(zone.purpose.items()):
            if len(purposes) > 1:
                fqdn = zone.name if owner == '@' else '%s.%s' % (owner, zone.name)
                errors.append('%s is used twice: as %s; give each its own name (mail_cluster_host_name,'
                              ' mail_cluster_mail_name, mail_cluster_services)' % (fqdn, ' and as '.join(purposes)))
        for record in zone.records:
            if record['type'] == 'CNAME':
                fqdn = zone.name if record['owner'] == '@' else '%s.%s' % (record['owner'], zone.name)
                cnames[fqdn] = zone
                others = [r['type'] for r in zone.records if r['owner'] == record['owner'] and r['type'] != 'CNAME']
                if others or record['owner'] == '@':
                    errors.append('%s is a CNAME and also has %s records: a CNAME must be alone at its name'
                                  % (fqdn, ', '.join(sorted(set(others)) or ['SOA/NS'])))
    for zone in zones:
        for record in zone.records:
            if record['type'] in ('MX', 'NS'):
                target = record['value'].split()[-1].rstrip('.')
                if target in cnames:
                    errors.append('%s target %s of %s is a CNAME: MX and NS targets must have A/AAAA records'
                                  ' (rename the host, mail name or user that collides)'
                                  % (record['type'], target, zone.name if record['owner'] == '@' else record['owner']))


def dns_errors(model, default_ttl=3600, soa=None, extra_records=None, dkim_records=None):
    """Every cross-field problem of the DNS data, as messages naming the variable; [] when valid."""
    return _build(model, default_ttl, soa, extra_records, dkim_records)[1]


def dns_zones(model, default_ttl=3600, soa=None, extra_records=None, dkim_records=None):
    """Every zone with its records (see the module docstring); raises DnsError listing every problem."""
    zones, errors = _build(model, default_ttl, soa, extra_records, dkim_records)
    if errors:
        raise DnsError(errors)
    return zones


def _secret_bytes(secret):
    """Length in bytes of a base64 secret, or None when it is not base64."""
    text = ''.join(str(secret or '').split())
    try:
        return len(base64.b64decode(text, validate=True)) if text else None
    except (binascii.Error, ValueError):
        return None


def tsig_errors(keys):
    """Every problem of the TSIG keys, as messages naming the variable and the fix; [] when valid."""
    errors = []
    for key in keys:
        algorithm = key.get('algorithm')
        if algorithm not in TSIG_BYTES:
            errors.append('%s: the algorithm of %s must be one of %s'
                          % (algorithm, key['secret_var'], ', '.join(sorted(TSIG_BYTES))))
            continue
        if not _KEY_NAME.match(str(key.get('name') or '')) or len(str(key.get('name'))) > 253:
            errors.append('%s=%s: must be a DNS-style key name (letters, digits, hyphens, dots)'
                          % (key['name_var'], key.get('name')))
        fix = ('use the secret printed by `tsig-keygen -a %s %s` (vault it), or leave %s unset and the controller'
               ' generates one beside the cluster CA' % (algorithm, key.get('name'), key['secret_var']))
        size = _secret_bytes(key.get('secret'))
        if size is None:
            errors.append('%s is not a base64 secret: %s' % (key['secret_var'], fix))
        elif size < TSIG_BYTES[algorithm]:
            errors.append('%s is %d bytes, shorter than the %d-byte output of %s (RFC 8945 section 6): %s'
                          % (key['secret_var'], size, TSIG_BYTES[algorithm], algorithm, fix))
    for index, key in enumerate(keys):
        for other in keys[index + 1:]:
            if str(key.get('name')).lower().rstrip('.') == str(other.get('name')).lower().rstrip('.'):
                errors.append('%s and %s are both %s: the keys must have different names'
                              % (key['name_var'], other['name_var'], key.get('name')))
            if key.get('secret') and ''.join(str(key['secret']).split()) == ''.join(str(other.get('secret')).split()):
                errors.append('%s and %s are the same secret: each key needs its own (leave both unset to have'
                              ' them generated)' % (key['secret_var'], other['secret_var']))
    return errors


def next_serial(previous_serial, previous_hash, new_hash, today):
    """SOA serial for ``new_hash``: unchanged content keeps its serial; otherwise it increases."""
    if previous_serial is not None and previous_hash == new_hash:
        return int(previous_serial)
    base = int(str(today)[:8]) * 100
    if previous_serial is None:
        return base
    previous_serial = int(previous_serial)
    if 0 < (base - previous_serial) % 2 ** 32 < 2 ** 31:
        return base
    return (previous_serial + 1) % 2 ** 32


def zone_state(text):
    """The serial and content hash recorded in a zone file written by bind_dns (None when unknown)."""
    if not text:
        return {'serial': None, 'hash': None}
    match = _STATE.search(text)
    if match:
        return {'serial': int(match.group(2)), 'hash': match.group(3)}
    # A file rewritten by named (dynamic updates) lost the header: keep its serial, force a new one.
    match = _SOA_SERIAL.search(text)
    return {'serial': int(match.group(1)) if match else None, 'hash': None}


def _rrsets(zone_obj):
    """{(owner, type): (ttl, set of rdata)} of a dnspython zone, the SOA serial set to 0."""
    dns = dnspython()
    out = {}
    for name, node in zone_obj.nodes.items():
        for rdataset in node.rdatasets:
            rdatas = set(rdataset)
            if rdataset.rdtype == dns.rdatatype.SOA:
                rdatas = set(rdata.replace(serial=0) for rdata in rdatas)
            out[(name, rdataset.rdtype)] = (rdataset.ttl, rdatas)
    return out


def zone_serves(zone, text):
    """True when a header-less zone file holds exactly ``zone``'s records (see the module docstring)."""
    # Without dnspython the answer is False: a file named rewrote is written again.
    if not HAS_DNSPYTHON or not text or zone_state(text)['hash'] is not None:
        return False
    dns = dnspython()
    origin = dns.name.from_text(zone['name'])
    try:
        served = dns.zone.from_text(text, origin=origin, relativize=False, check_origin=False)
        wanted = dns.zone.Zone(origin, relativize=False)
        soa = zone['soa']
        records = [{'owner': '@', 'ttl': zone['ttl'], 'type': 'SOA',
                    'value': '%s %s 0 %s %s %s %s' % (soa['mname'], soa['rname'], soa['refresh'], soa['retry'],
                                                      soa['expire'], soa['minimum'])}] + list(zone['records'])
        for record in records:
            rdtype = dns.rdatatype.from_text(record['type'])
            rdataset = wanted.find_rdataset(dns.name.from_text(record['owner'], origin), rdtype, create=True)
            rdata = dns.rdata.from_text(dns.rdataclass.IN, rdtype, record['value'], origin=origin, relativize=False)
            rdataset.add(rdata, record['ttl'])
    except (dns.exception.DNSException, ValueError, KeyError):
        return False
    return _rrsets(served) == _rrsets(wanted)
