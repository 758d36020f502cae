# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Asking an authoritative DNS server, and comparing what it answers.

Private to the collection: the one DNS query helper of dns_rotation,
dns_consistency and dns_membership (through ``_membership``, which the health
timer also runs without Ansible, so this file imports nothing from Ansible).

The trailing dot, one rule: every name is absolute, with exactly one trailing
dot: the names asked for and the owners (``fqdn``), and the names inside
record values (``normalise``), which dynamic updates need as they are (a name
without its dot would be relative to the zone). Users may write either.

API
---
``fqdn(name) -> str``
    ``name`` in lower case with exactly one trailing dot.

``normalise(rdtype, text) -> str``
    Presentation text comparable across servers, the derivation and user
    input: whitespace collapsed; A and AAAA in ``ipaddress`` form; the types
    that end with a name (CNAME, MX, NS, PTR, SRV) in lower case with that
    name absolute (one trailing dot); SOA in lower case; any other type as
    given.

``query(server, name, rdtype, port=53, timeout=3.0, tcp=False, nxdomain=False) -> dns.message.Message``
    One non-recursive query (over UDP, again over TCP when truncated; or over
    TCP). Raises ``DnsQueryError`` (a ``ValueError``) naming the server, the
    name and the type on a timeout, a network error, an rcode other than
    NOERROR (NXDOMAIN is accepted when ``nxdomain``), or a missing AA flag.

``records(response, name, rdtype) -> list | None``
    The normalised records of ``name``/``rdtype`` in the answer, in the order
    served; None when the answer has no such rrset.

``ask(server, name, rdtype, port=53, timeout=3.0, tcp=False) -> list``
    ``query`` then ``records``; raises ``DnsQueryError`` when there are none,
    saying whether the name is a CNAME instead.

``QUERY_ARGUMENTS``
    The argument spec the modules share for ``servers``, ``port``,
    ``timeout`` and ``tcp``.

``servers_error(servers) -> str | None``
    Why ``servers`` cannot be asked (none given, or one is not an IP address).

``dnspython() -> module``
    The ``dns`` package with the submodules the collection uses, imported on
    the first call rather than with this file: Ansible loads every filter file
    of the collection in each worker that templates one of its filters, and
    with them this file, and importing dnspython costs tens of milliseconds
    there, in every such task on every host, where only the DNS steps need it.
    ``HAS_DNSPYTHON`` says whether it is installed without importing it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import ipaddress

# Whether dnspython is installed, found without importing it (see dnspython()).
HAS_DNSPYTHON = importlib.util.find_spec('dns') is not None
# The modules report missing_required_lib('dnspython') with it.
DNSPYTHON_IMPORT_ERROR = None if HAS_DNSPYTHON else "No module named 'dns' (python3-dnspython on Debian)"

ENDS_WITH_NAME = ('CNAME', 'MX', 'NS', 'PTR', 'SRV')


QUERY_ARGUMENTS = dict(
    servers=dict(type='list', elements='str', required=True),
    port=dict(type='int', default=53),
    timeout=dict(type='float', default=3),
    tcp=dict(type='bool', default=False),
)


def dnspython():
    """dnspython, imported on first use (see the module docstring); ImportError when it is not installed."""
    # pylint: disable=import-outside-toplevel
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.query
    import dns.rcode
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
    import dns.tsig
    import dns.update
    import dns.zone
    return dns


class DnsQueryError(ValueError):
    """A query that got no usable answer; the message names the server, the name and the type."""


def servers_error(servers):
    """Why the authoritative servers cannot be asked, or None."""
    if not servers:
        return 'servers: give at least one authoritative server address'
    for server in servers:
        try:
            ipaddress.ip_address(server)
        except ValueError:
            return 'servers: %r is not an IP address; query authoritative servers by address' % server
    return None


def fqdn(name):
    return str(name).rstrip('.').lower() + '.'


def normalise(rdtype, text):
    """Presentation text comparable across answers and with user input (see the module docstring)."""
    text = ' '.join(str(text).split())
    if rdtype in ('A', 'AAAA'):
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            return text
    if rdtype in ENDS_WITH_NAME:
        return text.lower().rstrip('.') + '.'
    if rdtype == 'SOA':
        return text.lower()
    return text


def query(server, name, rdtype, port=53, timeout=3.0, tcp=False, nxdomain=False):
    """One non-recursive query at one authoritative server (see the module docstring)."""
    dns = dnspython()
    message = dns.message.make_query(fqdn(name), rdtype)
    message.flags &= ~dns.flags.RD
    try:
        if tcp:
            response = dns.query.tcp(message, server, timeout=timeout, port=port)
        else:
            response = dns.query.udp(message, server, timeout=timeout, port=port)
            if response.flags & dns.flags.TC:
                response = dns.query.tcp(message, server, timeout=timeout, port=port)
    except dns.exception.Timeout:
        raise DnsQueryError('no answer from %s within %ss for %s %s' % (server, timeout, fqdn(name), rdtype))
    except (dns.exception.DNSException, OSError) as exc:
        raise DnsQueryError('query %s %s at %s failed: %s' % (fqdn(name), rdtype, server, exc))
    rcode = response.rcode()
    if rcode != dns.rcode.NOERROR and not (nxdomain and rcode == dns.rcode.NXDOMAIN):
        raise DnsQueryError('%s answered %s for %s %s' % (server, dns.rcode.to_text(rcode), fqdn(name), rdtype))
    if not response.flags & dns.flags.AA:
        raise DnsQueryError('%s is not authoritative for %s (no AA flag)' % (server, fqdn(name)))
    return response


def records(response, name, rdtype):
    """The normalised records of one rrset of the answer, in the order served (None when absent)."""
    dns = dnspython()
    qname = dns.name.from_text(fqdn(name))
    wanted = dns.rdatatype.from_text(rdtype)
    for rrset in response.answer:
        if rrset.name == qname and rrset.rdtype == wanted and rrset.rdclass == dns.rdataclass.IN:
            return [normalise(rdtype, rdata.to_text()) for rdata in rrset]
    return None


def ask(server, name, rdtype, port=53, timeout=3.0, tcp=False):
    """The records of ``name``/``rdtype`` at ``server``, in the order served; raises DnsQueryError."""
    response = query(server, name, rdtype, port=port, timeout=timeout, tcp=tcp)
    found = records(response, name, rdtype)
    if found is not None:
        return found
    if rdtype != 'CNAME' and records(response, name, 'CNAME'):
        raise DnsQueryError('%s: %s is a CNAME, not %s records' % (server, fqdn(name), rdtype))
    raise DnsQueryError('%s has no %s records for %s' % (server, rdtype, fqdn(name)))
