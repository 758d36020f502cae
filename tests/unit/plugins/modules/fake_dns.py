# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake authoritative server for dns.query.udp/tcp, and a module runner."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random

import pytest

dns = pytest.importorskip('dns')

import dns.exception  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rrset  # noqa: E402

from ansible_collections.clustered.mail.tests.unit.plugins.modules.module_runner import run_module as _run_module  # noqa: E402


class FakeServers(object):
    """server -> {(name, type): (ttl, [records])}; `order` per server: cyclic, random, fixed."""

    def __init__(self, data, order=None, seed=1):
        self.data = data
        self.order = order or {}
        self.counter = {}
        self.random = random.Random(seed)
        self.queries = []
        self.refuse = set()
        self.timeout = set()
        self.not_authoritative = set()

    def __call__(self, query, where, timeout=None, port=53, **kwargs):
        question = query.question[0]
        name = question.name.to_text().lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((where, name, rdtype, bool(query.flags & dns.flags.RD)))
        if where in self.timeout:
            raise dns.exception.Timeout()
        response = dns.message.make_response(query)
        if where in self.refuse:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        if where not in self.not_authoritative:
            response.flags |= dns.flags.AA
        zone = self.data.get(where, {})
        key = (name, rdtype)
        if (name, 'CNAME') in zone and rdtype != 'CNAME':
            ttl, records = zone[(name, 'CNAME')]
            response.answer.append(dns.rrset.from_text_list(name, ttl, 'IN', 'CNAME', records))
            return response
        if key not in zone:
            if not any(n == name for n, _t in zone):
                response.set_rcode(dns.rcode.NXDOMAIN)
            return response
        ttl, records = zone[key]
        records = list(records)
        order = self.order.get(where, 'cyclic')
        count = self.counter.get((where, key), 0)
        self.counter[(where, key)] = count + 1
        if order == 'cyclic':
            k = count % len(records)
            records = records[k:] + records[:k]
        elif order == 'random':
            self.random.shuffle(records)
        rrset = dns.rrset.from_text_list(name, ttl, 'IN', rdtype, [])
        for text in records:
            rrset.add(dns.rdata.from_text('IN', rdtype, text), ttl)
        response.answer.append(rrset)
        return response


def run_module(module, args, monkeypatch, servers):
    monkeypatch.setattr(dns.query, 'udp', servers)
    monkeypatch.setattr(dns.query, 'tcp', servers)
    return _run_module(module, args, monkeypatch)
