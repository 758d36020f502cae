#!/usr/bin/env python3
"""A client that connects to <user>.pop.<domain> verifies the home's certificate under that name.

    pop_tls.py --dns ADDR --name alice.pop.example.com --ca CA [--expect-home FQDN]

Follows the CNAME and the home's A record at the given authoritative server
(no resolver cache in between), connects to IMAP there, and does STARTTLS
checking the certificate against the cluster CA for the pop name. As a
control, the same connection must be refused under a name the certificate
does not cover. Prints a JSON report; exits 1 when a check fails.
"""
import argparse
import imaplib
import json
import ssl
import sys

import dns.message
import dns.query
import dns.rdatatype


def ask(server, name, rtype):
    answer = dns.query.tcp(dns.message.make_query(name.rstrip('.') + '.', rtype), server, timeout=3).answer
    wanted = dns.rdatatype.from_text(rtype)
    return [r.to_text().rstrip('.') for s in answer if s.rdtype == wanted for r in s]


def starttls(address, server_name, ca):
    client = imaplib.IMAP4(address, 143, timeout=10)
    try:
        # imaplib checks the name it connected to; the pop name is what a client uses.
        context = ssl.create_default_context(cafile=ca)
        client.host = server_name
        client.starttls(ssl_context=context)
        client.capability()
        client.logout()
        return None
    except (ssl.SSLError, ssl.CertificateError, OSError, imaplib.IMAP4.error) as exc:
        return str(exc)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--dns', required=True)
    parser.add_argument('--name', required=True)
    parser.add_argument('--ca', required=True)
    parser.add_argument('--expect-home')
    args = parser.parse_args()
    report = {'failures': []}
    home = ask(args.dns, args.name, 'CNAME')
    report['cname'] = home
    if len(home) != 1:
        report['failures'].append('%s has %d CNAMEs at %s' % (args.name, len(home), args.dns))
    elif args.expect_home and home[0] != args.expect_home.rstrip('.'):
        report['failures'].append('%s points at %s, not %s' % (args.name, home[0], args.expect_home))
    if home:
        addresses = ask(args.dns, home[0], 'A')
        report['address'] = addresses
        error = starttls(addresses[0], args.name, args.ca) if addresses else 'no address'
        report['verified'] = error is None
        if error:
            report['failures'].append('TLS to %s as %s did not verify: %s' % (home[0], args.name, error))
        control = starttls(addresses[0], 'not-covered.example.invalid', args.ca) if addresses else None
        report['control_refused'] = control is not None
        if control is None:
            report['failures'].append('the control name not-covered.example.invalid verified too: the check proves nothing')
    print(json.dumps(report, indent=1, sort_keys=True))
    return 1 if report['failures'] else 0


if __name__ == '__main__':
    sys.exit(main())
