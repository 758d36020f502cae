#!/usr/bin/env python3
"""Check from outside that every DNS server serves each domain's DKIM keys, as the controller holds them.

    dkim_served.py CONFIG.json

CONFIG: {"key_dir": "<cluster_ca_dir>/dkim", "servers": [address], "domains": [domain],
         "expect": {"signing": selector, "published": [selectors], "retired": [selectors]}}  (same for every domain)

Independent of the collection's code: the public key is computed here from
each <selector>.key with cryptography, and each server is asked directly with
dnspython (no recursion, over TCP). Checks, each a failure line when broken:
  - state.json names the expected signing, published and retired selectors;
  - every published selector's key file exists (mode 0600) and every server
    answers <selector>._domainkey.<domain> with exactly one TXT record whose
    strings (each at most 255 bytes) joined are "v=DKIM1; k=rsa; p=<that key>";
  - every retired selector is served by no server (no TXT record).
Prints a JSON report; exits 1 when any check failed.
"""
import base64
import json
import os
import stat
import sys

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
from cryptography.hazmat.primitives import serialization


def public_b64(path):
    with open(path, 'rb') as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode('ascii')


def txt_at(server, name):
    """(rcode text, [[bytes strings] per TXT record]) as the server answers, authoritative only."""
    query = dns.message.make_query(name, 'TXT')
    query.flags &= ~dns.flags.RD
    response = dns.query.tcp(query, server, timeout=5)
    if not response.flags & dns.flags.AA:
        return 'not authoritative', []
    records = []
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.TXT and rrset.name.to_text().rstrip('.').lower() == name:
            records.extend(list(rdata.strings) for rdata in rrset)
    return dns.rcode.to_text(response.rcode()), records


def main(path):
    with open(path) as handle:
        config = json.load(handle)
    expect = config['expect']
    failures, report = [], []
    for domain in config['domains']:
        directory = os.path.join(config['key_dir'], domain)
        try:
            with open(os.path.join(directory, 'state.json')) as handle:
                state = json.load(handle)
        except (OSError, ValueError) as exc:
            failures.append('%s: no readable state.json (%s)' % (domain, exc))
            continue
        for field in ('signing', 'published', 'retired'):
            if field in expect and state.get(field) != expect[field]:
                failures.append('%s: state.json %s is %r, expected %r' % (domain, field, state.get(field), expect[field]))
        for selector in state.get('published', []):
            key = os.path.join(directory, selector + '.key')
            mode = stat.S_IMODE(os.stat(key).st_mode)
            if mode != 0o600:
                failures.append('%s: mode %04o, expected 0600' % (key, mode))
            wanted = 'v=DKIM1; k=rsa; p=' + public_b64(key)
            name = '%s._domainkey.%s' % (selector, domain)
            for server in config['servers']:
                rcode, records = txt_at(server, name)
                joined = [b''.join(strings).decode('ascii', 'replace') for strings in records]
                long_strings = [len(s) for strings in records for s in strings if len(s) > 255]
                ok = rcode == 'NOERROR' and joined == [wanted] and not long_strings
                report.append({'name': name, 'server': server, 'ok': ok, 'strings': [len(s) for r in records for s in r]})
                if not ok:
                    failures.append('%s at %s: %s %s, expected exactly the key of %s' % (
                        name, server, rcode, joined or 'no TXT record', key))
        for selector in state.get('retired', []):
            name = '%s._domainkey.%s' % (selector, domain)
            for server in config['servers']:
                rcode, records = txt_at(server, name)
                report.append({'name': name, 'server': server, 'ok': not records, 'retired': True})
                if records:
                    failures.append('%s at %s: a retired selector is still served' % (name, server))
    print(json.dumps({'checks': report, 'failures': failures}, indent=1))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
