#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dns_rotation
short_description: Check that authoritative DNS servers rotate a round-robin record set
version_added: 0.1.0
description:
  - Queries one name and type repeatedly and directly at each given authoritative server (by IP address, recursion
    not requested, no caching resolver in between), and reports per server the answer set, whether it equals the
    expected set, how often each record came first, and the rotation observed.
  - V(cyclic) rotation means each answer is the previous one rotated by one position (always in the same direction).
    V(random) rotation is judged with a chi-square test of the first position against a uniform distribution.
  - Fails with a message naming the server and what was wrong when the set or the rotation is not as expected.
  - With O(sets) instead of O(name), checks several record sets at once, concurrently, in one call (a loop of tasks
    starts the module once per set); the task fails naming every set and server that failed.
author:
  - clustered.mail contributors (@clustered-mail)
extends_documentation_fragment:
  - clustered.mail.attributes
  - clustered.mail.attributes.read_only
  - clustered.mail.dns_query
options:
  sets:
    description:
      - Several record sets to check concurrently (each set's queries to a server still follow one another, so its
        rotation is observed); O(order), O(min_p_value) and the query options apply to each.
      - Mutually exclusive with O(name) and O(expected); O(type) and O(queries) apply to O(name) only (each set has
        its own).
    type: list
    elements: dict
    version_added: 0.3.0
    suboptions:
      name:
        description: As O(name).
        type: str
        required: true
      type:
        description: As O(type).
        type: str
        default: A
        choices: [A, AAAA, MX, NS, TXT, PTR, SRV, CNAME]
      queries:
        description: As O(queries).
        type: int
        default: 12
      expected:
        description: As O(expected).
        type: list
        elements: str
  name:
    description:
      - The DNS name to query, for example V(mail.example.com). Required unless O(sets) is given.
    type: str
  type:
    description:
      - The record type to query.
      - V(CNAME) asks for the alias itself (one record, so no rotation is checked); with O(expected) and C(until),
        it waits for a CNAME to name a new target (as the C(clustered.mail.move_user) playbook does).
    type: str
    default: A
    choices: [A, AAAA, MX, NS, TXT, PTR, SRV, CNAME]
  queries:
    description:
      - How many queries to send to each server (at least 2).
      - For O(order=random), use several times the number of records so the chi-square test has data.
    type: int
    default: 12
  order:
    description:
      - The rotation expected.
      - V(cyclic) - each answer is the previous one rotated by one (BIND C(rrset-order cyclic)).
      - V(random) - the first position is not significantly different from uniform (p-value at least O(min_p_value)),
        and the order is not always the same.
      - V(fixed) - every answer has the same order.
      - V(any) - no rotation check; only the set is checked.
    type: str
    default: cyclic
    choices: [cyclic, random, fixed, any]
  expected:
    description:
      - The record set expected, in presentation form (for example V(192.0.2.11) or V(10 mail.example.com)). Order
        does not matter. IP addresses are compared in normalised form, names in lower case and absolute (the trailing
        dot may be left out; the answers report it).
      - When omitted, only the rotation and the stability of the set are checked.
    type: list
    elements: str
  min_p_value:
    description:
      - For O(order=random), the smallest acceptable p-value of the chi-square test of the first position.
    type: float
    default: 0.001
notes:
  - Run it close to the servers (for example C(delegate_to) a client host), since every query goes to the servers directly.
  - Other clients querying the same name at the same time can make a V(cyclic) server look irregular.
seealso:
  - module: clustered.mail.dns_consistency
"""

EXAMPLES = r"""
- name: The mail name rotates on every authoritative server
  clustered.mail.dns_rotation:
    name: mail.example.com
    type: A
    servers:
      - 192.0.2.1
      - 192.0.2.2
    expected:
      - 192.0.2.11
      - 192.0.2.12
      - 192.0.2.13
    order: cyclic
    queries: 9

- name: Random order is roughly uniform over 60 queries
  clustered.mail.dns_rotation:
    name: mail.example.com
    servers: [192.0.2.1]
    order: random
    queries: 60
  register: rotation
"""

RETURN = r"""
sets:
  description: With O(sets), one entry per set in their order, with its C(name), C(type) and C(servers) (as RV(servers)).
  returned: with O(sets)
  type: list
  elements: dict
  version_added: 0.3.0
servers:
  description: One report per server, in the order of O(servers).
  returned: with O(name)
  type: list
  elements: dict
  contains:
    server:
      description: The server address.
      type: str
      sample: 192.0.2.1
    answers:
      description: Each answer in the order received (records in presentation form).
      type: list
      elements: list
      sample: [["192.0.2.11", "192.0.2.12"], ["192.0.2.12", "192.0.2.11"]]
    answer_set:
      description: The sorted set of records seen.
      type: list
      elements: str
      sample: ["192.0.2.11", "192.0.2.12"]
    set_matches:
      description: Whether the set equals O(expected) (null when O(expected) is not given).
      type: bool
      sample: true
    first_position:
      description: How many times each record came first.
      type: dict
      sample: {"192.0.2.11": 6, "192.0.2.12": 6}
    steps:
      description: For each answer after the first, the rotation from the previous one (positions; null when it is not a rotation).
      type: list
      elements: int
      sample: [1, 1, 1]
    rotation:
      description:
        - The rotation observed. V(cyclic) (rotation by one, one direction), V(fixed) (same order every time),
          V(rotating) (rotations of varying step), V(shuffled) (not always a rotation), V(single) (one record),
          V(none) (no answers).
      type: str
      sample: cyclic
    chi_square:
      description: Chi-square test of the first position against a uniform distribution.
      type: dict
      contains:
        statistic:
          description: The statistic.
          type: float
        df:
          description: Degrees of freedom.
          type: int
        p_value:
          description: The p-value (1.0 when there is only one record).
          type: float
      sample: {"statistic": 0.0, "df": 1, "p_value": 1.0}
    failures:
      description: What is wrong on this server; empty when it passed.
      type: list
      elements: str
      sample: []
"""

import math

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.clustered.mail.plugins.module_utils._concurrent import in_parallel
from ansible_collections.clustered.mail.plugins.module_utils._dns_query import (
    DNSPYTHON_IMPORT_ERROR, QUERY_ARGUMENTS, DnsQueryError, servers_error, ask, fqdn, normalise,
)

TYPES = ['A', 'AAAA', 'MX', 'NS', 'TXT', 'PTR', 'SRV', 'CNAME']


def chi_square_p(statistic, df):
    """Upper tail of the chi-square distribution (regularised upper incomplete gamma Q(df/2, x/2))."""
    if df <= 0:
        return 1.0
    a, x = df / 2.0, statistic / 2.0
    if x <= 0:
        return 1.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        ap = a
        for dummy in range(10000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_front) * h)


def step_between(previous, current):
    """k when current is previous rotated left by k positions, else None."""
    if sorted(previous) != sorted(current):
        return None
    for k in range(len(previous)):
        if previous[k:] + previous[:k] == current:
            return k
    return None


def analyse(answers, rdtype, expected, order, min_p_value):
    """The report of one server from its answers (lists of records, in order)."""
    report = {'answers': answers, 'answer_set': [], 'set_matches': None, 'first_position': {},
              'steps': [], 'rotation': 'none', 'chi_square': None, 'failures': []}
    if not answers:
        return report
    sets = set(tuple(sorted(a)) for a in answers)
    answer_set = sorted(set(r for a in answers for r in a))
    report['answer_set'] = answer_set
    if len(sets) > 1:
        report['failures'].append('the record set changed between queries: %s' % ' / '.join(', '.join(s) for s in sorted(sets)))
    if expected is not None:
        wanted = sorted(set(normalise(rdtype, e) for e in expected))
        report['set_matches'] = answer_set == wanted
        if not report['set_matches']:
            missing = sorted(set(wanted) - set(answer_set))
            extra = sorted(set(answer_set) - set(wanted))
            report['failures'].append('the record set is wrong: missing %s, unexpected %s'
                                      % (', '.join(missing) or 'nothing', ', '.join(extra) or 'nothing'))
    first = dict((r, 0) for r in answer_set)
    for answer in answers:
        first[answer[0]] += 1
    report['first_position'] = first
    n = len(answer_set)
    expected_count = len(answers) / float(n)
    statistic = sum((count - expected_count) ** 2 / expected_count for count in first.values())
    report['chi_square'] = {'statistic': round(statistic, 6), 'df': n - 1, 'p_value': round(chi_square_p(statistic, n - 1), 6)}
    steps = [step_between(a, b) for a, b in zip(answers, answers[1:])]
    report['steps'] = steps
    if n == 1:
        report['rotation'] = 'single'
    elif steps and all(s == 0 for s in steps):
        report['rotation'] = 'fixed'
    elif steps and (all(s == 1 for s in steps) or all(s == n - 1 for s in steps)):
        report['rotation'] = 'cyclic'
    elif all(s is not None for s in steps):
        report['rotation'] = 'rotating'
    else:
        report['rotation'] = 'shuffled'
    if n == 1 or order == 'any' or len(sets) > 1:
        return report
    if order == 'cyclic' and report['rotation'] != 'cyclic':
        report['failures'].append('expected cyclic rotation (each answer the previous one rotated by one), observed %s'
                                  ' (steps %s)' % (report['rotation'], steps))
    elif order == 'fixed' and report['rotation'] != 'fixed':
        report['failures'].append('expected a fixed order, observed %s (steps %s)' % (report['rotation'], steps))
    elif order == 'random':
        if report['rotation'] == 'fixed':
            report['failures'].append('expected random order, but every answer had the same order')
        elif report['chi_square']['p_value'] < min_p_value:
            report['failures'].append('expected random order, but the first position is not uniform: chi-square %.3f,'
                                      ' df %d, p-value %.6f < %s (counts %s)'
                                      % (statistic, n - 1, report['chi_square']['p_value'], min_p_value, first))
    return report


def check(name, rtype, queries, expected, p):
    """(reports per server, failures) of one record set, each server asked `queries` times in turn."""
    reports = []
    failed = []
    for server in p['servers']:
        answers = []
        error = None
        for dummy in range(queries):
            try:
                answers.append(ask(server, name, rtype, p['port'], p['timeout'], p['tcp']))
            except DnsQueryError as exc:
                error = str(exc)
                break
        report = analyse(answers, rtype, expected, p['order'], p['min_p_value'])
        if error:
            report['failures'].insert(0, error)
        report = dict([('server', server)] + list(report.items()))
        reports.append(report)
        failed.extend('%s: %s' % (server, f) for f in report['failures'])
    return reports, failed


def main():
    set_spec = dict(
        name=dict(type='str', required=True),
        type=dict(type='str', default='A', choices=TYPES),
        queries=dict(type='int', default=12),
        expected=dict(type='list', elements='str'),
    )
    module = AnsibleModule(
        argument_spec=dict(
            QUERY_ARGUMENTS,
            sets=dict(type='list', elements='dict', options=set_spec),
            name=dict(type='str'),
            type=dict(type='str', default='A', choices=TYPES),
            queries=dict(type='int', default=12),
            order=dict(type='str', default='cyclic', choices=['cyclic', 'random', 'fixed', 'any']),
            expected=dict(type='list', elements='str'),
            min_p_value=dict(type='float', default=0.001),
        ),
        required_one_of=[['name', 'sets']],
        mutually_exclusive=[['sets', 'name'], ['sets', 'expected']],
        supports_check_mode=True,
    )
    if DNSPYTHON_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib('dnspython'), exception=DNSPYTHON_IMPORT_ERROR)
    p = module.params
    sets = p['sets'] if p['sets'] is not None else [dict((k, p[k]) for k in set_spec)]
    for record_set in sets:
        if record_set['queries'] < 2:
            module.fail_json(msg='queries=%d: at least 2 queries are needed to observe a rotation' % record_set['queries'])
    if servers_error(p['servers']):
        module.fail_json(msg=servers_error(p['servers']))

    def one(record_set):
        name = fqdn(record_set['name'])
        reports, failed = check(name, record_set['type'], record_set['queries'], record_set['expected'], p)
        return name, record_set['type'], reports, failed

    checked = in_parallel(one, sets)
    failures = ['%s %s: %s' % (name, rtype, '; '.join(failed)) for name, rtype, reports, failed in checked if failed]
    if p['sets'] is None:
        result = dict(changed=False, servers=checked[0][2])
    else:
        result = dict(changed=False, sets=[dict(name=name, type=rtype, servers=reports) for name, rtype, reports, dummy in checked])
    if failures:
        module.fail_json(msg=' | '.join(failures), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
