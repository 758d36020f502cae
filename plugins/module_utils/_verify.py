# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ``clustered.mail.verify`` checks, derived from the cluster model and its zones.

Private to the collection; playbooks use the ``clustered.mail.verify_plan`` filter.

``verify_plan(model, zones) -> dict``::

    dns_servers   [first address of each mail_dns host]   (asked directly)
    zones         [every zone name]                      (serials must agree)
    rotation      [{'name', 'type', 'expected': [values], 'queries'}]  every
                  forward RRset of A, AAAA or MX with two or more records: the
                  round-robin sets whose rotation dns_rotation observes (its
                  ``sets``), each asked ``queries`` times per server: three
                  rounds of the set, at least ROTATION_MIN_QUERIES
    records       [{'name', 'type'}]   the rotating RRsets, which must agree on
                  every server and whose TTL must not exceed max_ttl (other
                  records use the longer default TTL; equal serials cover them)
    addresses     [every address of every cluster host]  (forward-confirmed PTR)
    mx_domains    [every mail domain]
    max_ttl       mail_cluster_ttl (the rotating records must not exceed it)
    closed        [{'host', 'address', 'service', 'port'}]  ports of services a
                  primary does not run (mail_cluster_services): must not answer
    probes        [{'host', 'address', 'service', 'protocol', 'tls', 'port',
                    'capabilities'}] every mail endpoint: SMTP 25 (STARTTLS
                  offered), submission 587 (STARTTLS, then AUTH) and 465
                  (implicit TLS, RFC 8314, then AUTH), IMAP 143
                  (STARTTLS) and 993, POP3 110 (STLS) and 995 on the hosts of
                  each service; SMTP 25 on each backup MX
    webmail       [{'host', 'address', 'url'}]  every webmail host, reached by
                  address under https://webmail.<domain>/ (its certificate's
                  name): verify logs in there and lists the INBOX

Values are in the form dns_rotation expects: no trailing dots.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustered.mail.plugins.module_utils._webmail import server_name

ROTATING_TYPES = ('A', 'AAAA', 'MX')
# Queries per server for a rotating set: enough to see a small set rotate several times.
ROTATION_MIN_QUERIES = 12

# service -> the endpoints a client uses for it: (protocol, tls, port, capabilities)
ENDPOINTS = {
    'smtp': (
        ('smtp', 'none', 25, ['STARTTLS', 'PIPELINING']),
    ),
    'submission': (
        ('submission', 'starttls', 587, ['AUTH']),
        ('submission', 'implicit', 465, ['AUTH']),
    ),
    'imap': (
        ('imap', 'starttls', 143, ['IMAP4REV1']),
        ('imap', 'implicit', 993, ['IMAP4REV1']),
    ),
    'pop3': (
        ('pop3', 'starttls', 110, ['UIDL']),
        ('pop3', 'implicit', 995, ['UIDL']),
    ),
}
BACKUP_MX_ENDPOINTS = (('smtp', 'none', 25, ['STARTTLS']),)


def _fqdn(owner, zone):
    if owner == '@':
        return zone
    if owner.endswith('.'):
        return owner[:-1]
    return '%s.%s' % (owner, zone)


def _value(record):
    return record['value'][:-1] if record['value'].endswith('.') else record['value']


def _probe(host, address, service, endpoint):
    protocol, tls, port, caps = endpoint
    return {'host': host, 'address': address, 'service': service, 'protocol': protocol,
            'tls': tls, 'port': port, 'capabilities': list(caps)}


def verify_plan(model, zones):
    hosts = model['hosts']
    rrsets = {}
    for zone in zones:
        if zone['kind'] != 'forward':
            continue
        for record in zone['records']:
            if record['type'] in ROTATING_TYPES:
                key = (_fqdn(record['owner'], zone['name']), record['type'])
                rrsets.setdefault(key, []).append(_value(record))
    rotation = [{'name': name, 'type': rtype, 'expected': sorted(values),
                 'queries': max(3 * len(values), ROTATION_MIN_QUERIES)}
                for (name, rtype), values in sorted(rrsets.items()) if len(values) > 1]
    records = [{'name': r['name'], 'type': r['type']} for r in rotation]

    addresses = []
    for host in hosts.values():
        for addr in host['addresses']:
            if addr not in addresses:
                addresses.append(addr)

    probes = []
    for service, endpoints in sorted(ENDPOINTS.items()):
        for host in model['services'].get(service, []):
            for endpoint in endpoints:
                probes.append(_probe(host, hosts[host]['addresses'][0], service, endpoint))
    for host in model['groups']['mail_backup_mx']:
        for endpoint in BACKUP_MX_ENDPOINTS:
            probes.append(_probe(host, hosts[host]['addresses'][0], 'backup_mx', endpoint))
    # The ports of the services a primary does not run must be closed there
    # (what it runs, not what it serves now: a drained host still runs).
    closed = []
    for host in model['groups']['mail_primaries']:
        for service, endpoints in sorted(ENDPOINTS.items()):
            if service not in hosts[host].get('services', ENDPOINTS):
                for endpoint in endpoints:
                    closed.append({'host': host, 'address': hosts[host]['addresses'][0], 'service': service,
                                   'port': endpoint[2]})

    # Every webmail host is logged in to by address, under the name its certificate gives.
    webmail = [{'host': host, 'address': hosts[host]['addresses'][0], 'url': 'https://%s/' % server_name(model)}
               for host in model['services'].get('webmail', [])]

    return {
        'dns_servers': [hosts[h]['addresses'][0] for h in model['groups']['mail_dns']],
        'zones': [zone['name'] for zone in zones],
        'rotation': rotation,
        'records': records,
        'addresses': addresses,
        'mx_domains': list(model['domains']),
        'max_ttl': model['ttl'],
        'probes': probes,
        'closed': closed,
        'webmail': webmail,
    }
