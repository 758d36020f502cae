#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dns_consistency
short_description: Check that authoritative DNS servers agree and publish consistent mail records
version_added: 0.1.0
description:
  - Asks each given authoritative server directly (by IP address, recursion not requested) and checks that
  - all servers return the same SOA serial for every zone in O(zones);
  - all servers return the same RRset (records and TTL) for every name in O(records);
  - every address in O(addresses) has a PTR on every server, and every PTR target resolves on that server back to
    the address (forward-confirmed reverse DNS);
  - every MX target of every domain in O(mx_domains) resolves to addresses and is not a CNAME;
  - every TTL seen is at most O(max_ttl), when given;
  - every server serves each DKIM key record of O(dkim) as one TXT record carrying exactly that public key.
  - Returns a report of every check; fails listing the checks that did not pass.
author:
  - clustered.mail contributors (@clustered-mail)
extends_documentation_fragment:
  - clustered.mail.attributes
  - clustered.mail.attributes.read_only
  - clustered.mail.dns_query
options:
  zones:
    description:
      - Zones whose SOA serial must be the same on every server.
    type: list
    elements: str
    default: []
  records:
    description:
      - Names whose RRset must be the same on every server.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - The DNS name.
        type: str
        required: true
      type:
        description:
          - The record type.
        type: str
        default: A
  addresses:
    description:
      - Addresses that must have a forward-confirmed PTR on every server.
    type: list
    elements: str
    default: []
  mx_domains:
    description:
      - Domains whose MX targets must resolve to addresses and must not be CNAMEs.
    type: list
    elements: str
    default: []
  dkim:
    description:
      - DKIM key records every server must serve, as RV(clustered.mail.dkim_keys#module:records) returns them
        (public keys computed on the controller from the keys).
      - A server passes when the name has exactly one TXT record and its strings, joined, carry the same C(p=)
        (and C(k=rsa)) as O(dkim[].value); the record may be split in strings anywhere.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The record's name, C(<selector>._domainkey.<domain>).
        type: str
        required: true
      value:
        description: The record's text, C(v=DKIM1; k=rsa; p=...).
        type: str
        required: true
      domain:
        description: The mail domain (ignored; accepted so that the records can be passed as they are).
        type: str
      selector:
        description: The selector (ignored, as O(dkim[].domain)).
        type: str
  max_ttl:
    description:
      - The largest TTL allowed on the RRsets looked at by the O(records) and O(mx_domains) checks
        (the rotating records); not checked when omitted.
    type: int
notes:
  - Secondaries follow the primary after NOTIFY and a transfer; use C(retries)/C(until) on the task when checking
    right after a change.
seealso:
  - module: clustered.mail.dns_rotation
"""

EXAMPLES = r"""
- name: Both servers agree and every address is forward-confirmed
  clustered.mail.dns_consistency:
    servers: [192.0.2.1, 192.0.2.2]
    zones: [example.com, 2.0.192.in-addr.arpa]
    records:
      - name: mail.example.com
      - name: mail.example.com
        type: AAAA
      - name: example.com
        type: MX
    addresses: [192.0.2.11, 192.0.2.12, "2001:db8::11"]
    mx_domains: [example.com]
    max_ttl: 300
  register: dns_report
  retries: 10
  delay: 2
  until: dns_report is succeeded
"""

RETURN = r"""
checks:
  description: Every check made.
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: The kind of check, V(serial), V(rrset), V(ptr), V(mx), V(ttl) or V(dkim).
      type: str
      sample: ptr
    subject:
      description: What was checked (zone, name and type, address, domain).
      type: str
      sample: 192.0.2.11
    server:
      description: The server asked, or V(all) for agreement checks.
      type: str
      sample: 192.0.2.1
    ok:
      description: Whether the check passed.
      type: bool
      sample: true
    detail:
      description: What was found.
      type: str
      sample: 11.2.0.192.in-addr.arpa PTR mail.example.com resolves back to 192.0.2.11
serials:
  description: Zone to server to SOA serial (null when the server gave none).
  returned: always
  type: dict
  sample: {"example.com": {"192.0.2.1": 2025010100, "192.0.2.2": 2025010100}}
failed_checks:
  description: How many checks failed.
  returned: always
  type: int
  sample: 0
"""

import ipaddress

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.clustered.mail.plugins.module_utils._dkim import join_txt, record_matches, tags
from ansible_collections.clustered.mail.plugins.module_utils._dns_query import (
    DNSPYTHON_IMPORT_ERROR, QUERY_ARGUMENTS, DnsQueryError, servers_error, fqdn, normalise, query,
)

try:
    import dns.rdatatype
except ImportError:
    pass  # DNSPYTHON_IMPORT_ERROR says so


class Asker(object):
    """Non-recursive queries at one server, cached for the run."""

    def __init__(self, port, timeout, tcp):
        self.port = port
        self.timeout = timeout
        self.tcp = tcp
        self.cache = {}

    def __call__(self, server, name, rdtype):
        """(rrsets by (owner, type) -> (ttl, [records]), error or None) for one query."""
        key = (server, name.lower(), rdtype)
        if key not in self.cache:
            self.cache[key] = self._ask(server, name, rdtype)
        return self.cache[key]

    def _ask(self, server, name, rdtype):
        try:
            response = query(server, name, rdtype, port=self.port, timeout=self.timeout, tcp=self.tcp, nxdomain=True)
        except DnsQueryError as exc:
            return {}, str(exc)
        rrsets = {}
        for rrset in response.answer:
            owner = rrset.name.to_text().lower()
            rtype = dns.rdatatype.to_text(rrset.rdtype)
            records = sorted(normalise(rtype, rdata.to_text()) for rdata in rrset)
            rrsets[(owner, rtype)] = (rrset.ttl, records)
        return rrsets, None


class Checker(object):
    def __init__(self, ask, servers, max_ttl):
        self.ask = ask
        self.servers = servers
        self.max_ttl = max_ttl
        self.checks = []
        self.serials = {}

    def add(self, check, subject, server, ok, detail):
        self.checks.append({'check': check, 'subject': subject, 'server': server, 'ok': bool(ok), 'detail': detail})

    def ttl(self, subject, server, ttl):
        if self.max_ttl is not None:
            self.add('ttl', subject, server, ttl <= self.max_ttl, 'TTL %d (maximum %d)' % (ttl, self.max_ttl))

    def serial(self, zone):
        zone = fqdn(zone)
        seen = {}
        for server in self.servers:
            rrsets, error = self.ask(server, zone, 'SOA')
            soa = rrsets.get((zone, 'SOA'))
            if error or not soa:
                seen[server] = None
                self.add('serial', zone, server, False, error or '%s has no SOA for %s' % (server, zone))
            else:
                seen[server] = int(soa[1][0].split()[2])
        self.serials[zone.rstrip('.')] = seen
        values = set(seen.values())
        self.add('serial', zone, 'all', len(values) == 1 and None not in values,
                 'serials: %s' % ', '.join('%s=%s' % item for item in seen.items()))

    def rrset(self, name, rdtype):
        name = fqdn(name)
        subject = '%s %s' % (name, rdtype)
        seen = {}
        for server in self.servers:
            rrsets, error = self.ask(server, name, rdtype)
            found = rrsets.get((name, rdtype))
            if error or not found:
                self.add('rrset', subject, server, False, error or '%s has no %s records for %s' % (server, rdtype, name))
                seen[server] = None
                continue
            seen[server] = found
            self.ttl(subject, server, found[0])
        distinct = set((v[0], tuple(v[1])) if v else None for v in seen.values())
        self.add('rrset', subject, 'all', len(distinct) == 1 and None not in distinct,
                 '; '.join('%s: %s' % (s, ('TTL %d %s' % (v[0], ', '.join(v[1]))) if v else 'none') for s, v in seen.items()))

    def addresses_of(self, server, name):
        found = []
        for rdtype in ('A', 'AAAA'):
            rrsets, error = self.ask(server, name, rdtype)
            if error:
                return None, error
            if (name, 'CNAME') in rrsets:
                return None, '%s is a CNAME (to %s)' % (name, rrsets[(name, 'CNAME')][1][0])
            found.extend(rrsets.get((name, rdtype), (0, []))[1])
        return found, None

    def ptr(self, address):
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            self.add('ptr', address, 'all', False, '%r is not an IP address' % address)
            return
        pointer = ip.reverse_pointer + '.'
        for server in self.servers:
            rrsets, error = self.ask(server, pointer, 'PTR')
            targets = rrsets.get((pointer, 'PTR'), (0, []))[1]
            if error or not targets:
                self.add('ptr', str(ip), server, False, error or '%s has no PTR for %s' % (server, ip))
                continue
            for target in targets:
                back, error = self.addresses_of(server, fqdn(target))
                ok = error is None and str(ip) in back
                self.add('ptr', str(ip), server, ok, '%s PTR %s %s' % (
                    pointer, target, error or ('resolves back to %s' % ip if ok else 'resolves to %s, not %s' % (', '.join(back) or 'nothing', ip))))

    def mx(self, domain):
        domain = fqdn(domain)
        for server in self.servers:
            rrsets, error = self.ask(server, domain, 'MX')
            found = rrsets.get((domain, 'MX'))
            if error or not found:
                self.add('mx', domain, server, False, error or '%s has no MX records for %s' % (server, domain))
                continue
            self.ttl('%s MX' % domain, server, found[0])
            for record in found[1]:
                target = fqdn(record.split()[-1])
                back, error = self.addresses_of(server, target)
                self.add('mx', domain, server, error is None and bool(back), 'MX %s: %s' % (
                    record, error or ('addresses %s' % ', '.join(back) if back else 'resolves to no address')))

    def dkim(self, name, value):
        name = fqdn(name)
        public = tags(value).get('p')
        for server in self.servers:
            rrsets, error = self.ask(server, name, 'TXT')
            found = rrsets.get((name, 'TXT'), (0, []))[1]
            if error or not found:
                self.add('dkim', name, server, False, error or '%s has no TXT record for %s' % (server, name))
                continue
            served = [join_txt(text) for text in found]
            ok = len(served) == 1 and bool(public) and record_matches(served[0], public)
            self.add('dkim', name, server, ok, 'serves the key of the controller' if ok else
                     'serves %s, not the key of the controller (p=%s...)' % (' | '.join(served), (public or '')[:24]))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            QUERY_ARGUMENTS,
            zones=dict(type='list', elements='str', default=[]),
            records=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                type=dict(type='str', default='A'),
            )),
            addresses=dict(type='list', elements='str', default=[]),
            mx_domains=dict(type='list', elements='str', default=[]),
            dkim=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                value=dict(type='str', required=True),
                domain=dict(type='str'),
                selector=dict(type='str'),
            )),
            max_ttl=dict(type='int'),
        ),
        supports_check_mode=True,
    )
    if DNSPYTHON_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib('dnspython'), exception=DNSPYTHON_IMPORT_ERROR)
    p = module.params
    if servers_error(p['servers']):
        module.fail_json(msg=servers_error(p['servers']))
    for record in p['records']:
        record['type'] = record['type'].upper()
        try:
            dns.rdatatype.from_text(record['type'])
        except dns.exception.DNSException:
            module.fail_json(msg='records: %r (for %s) is not a DNS record type' % (record['type'], record['name']))
    checker = Checker(Asker(p['port'], p['timeout'], p['tcp']), p['servers'], p['max_ttl'])
    for zone in p['zones']:
        checker.serial(zone)
    for record in p['records']:
        checker.rrset(record['name'], record['type'])
    for address in p['addresses']:
        checker.ptr(address)
    for domain in p['mx_domains']:
        checker.mx(domain)
    for record in p['dkim']:
        checker.dkim(record['name'], record['value'])
    failed = [c for c in checker.checks if not c['ok']]
    result = dict(changed=False, checks=checker.checks, serials=checker.serials, failed_checks=len(failed))
    if failed:
        module.fail_json(msg='%d DNS check(s) failed: %s' % (len(failed), '; '.join(
            '%s %s at %s: %s' % (c['check'], c['subject'], c['server'], c['detail']) for c in failed)), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
