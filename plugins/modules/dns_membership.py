#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dns_membership
short_description: Drain primaries out of DNS rotation and put them back, with TSIG-signed dynamic updates
version_added: 0.2.0
description:
  - Changes which mail primaries answer for the cluster's rotating names, on the primary authoritative server, with
    TSIG-signed dynamic updates (RFC 2136). The secondaries follow through NOTIFY and IXFR.
  - A drained primary leaves the round-robin mail name (A and AAAA), its MX in every mail domain (C(hosts) style;
    with C(round_robin) the one MX points at the mail name, which already follows) and the service names
    (C(smtp), C(imap), C(pop3), ... in every domain). A service name is never emptied; when every host of a service
    is drained the name keeps them all. Host names and PTRs stay.
  - Each user's placement CNAME C(<user>.pop.<domain>) names the primary that serves the mailbox, the user's home
    while it is in rotation, else its next rendezvous choice, so a drain moves only the drained primary's users
    and an undrain moves them back. The homes moved by C(clustered.mail.move_user) (C(homes.json) in O(state_dir))
    are in force. The primaries follow these CNAMEs (C(clustered-mail-homes)).
  - The updates are signed with the update key of C(clustered.mail.bind_dns), which each zone's C(update-policy)
    lets change only the names and types this module manages (P(clustered.mail.dns_update_grants#filter)).
  - Every change to one zone goes in ONE update message, so the mail name, the MX set and the service names of a
    zone change together.
  - What to add and remove is derived from the cluster model (the same derivation as the zone files), so only host
    names are given. The current membership is read from what the server serves; nothing is sent when it is
    already as wanted.
  - Refuses to leave fewer than O(min_members) primaries in rotation.
  - With O(state_dir), keeps the drained primaries in C(drained.json) there (the C(clustered.mail.bind_dns) role
    reads it, so a later C(site) run does not undrain them), who drained them (V(health) only undrains the
    primaries that V(health) drained, so a drain by hand sticks) and, with O(state=health), the consecutive probe
    results in C(health.json).
author:
  - clustered.mail contributors (@clustered-mail)
requirements:
  - dnspython
extends_documentation_fragment:
  - clustered.mail.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads what is served and reports the updates it would send; sends nothing and writes no state file.
  diff_mode:
    support: full
    details:
      - The diff is the list of primaries in rotation before and after.
options:
  model:
    description:
      - The cluster model, C(hostvars | clustered.mail.cluster_model(groups)).
    type: dict
    required: true
  state:
    description:
      - V(drained) takes O(hosts) out of rotation, V(rotating) puts them back.
      - V(health) drains and undrains by O(health) results counted over runs in O(state_dir) (hysteresis), as far
        as O(min_members) allows; primaries it would drain but may not are returned in RV(held). It undrains only
        primaries it drained itself.
      - V(synced) changes no membership and brings the served records in line with the kept state, for example the
        placement CNAMEs after C(homes.json) changed.
    type: str
    required: true
    choices: [drained, rotating, health, synced]
  hosts:
    description:
      - Primaries to drain or undrain, by inventory name, host name or FQDN. Required with O(state=drained) and
        O(state=rotating).
    type: list
    elements: str
    default: []
  health:
    description:
      - For O(state=health), whether each primary is healthy now (inventory name to boolean), for example from
        M(clustered.mail.mail_probe) with O(clustered.mail.mail_probe#module:fail_on_unhealthy=false).
    type: dict
    default: {}
  failures_to_drain:
    description:
      - For O(state=health), consecutive failed probes after which a primary is drained.
      - Default the model's C(health.failures) (C(mail_cluster_health_failures), 3 unless set).
    type: int
  successes_to_undrain:
    description:
      - For O(state=health), consecutive healthy probes after which a drained primary is undrained.
      - Default the model's C(health.successes) (C(mail_cluster_health_successes), 2 unless set).
    type: int
  min_members:
    description:
      - The fewest primaries that must stay in rotation. A drain that would leave fewer is refused (O(state=drained))
        or held back (O(state=health)).
      - Default the model's C(min_members) (C(mail_cluster_min_members), 1 unless set).
    type: int
  server:
    description: Address of the primary authoritative server (it takes the updates).
    type: str
    default: 127.0.0.1
  port:
    description: Its DNS port.
    type: int
    default: 53
  timeout:
    description: Seconds to wait for each answer.
    type: float
    default: 5
  key_name:
    description:
      - Name of the update key, the TSIG key allowed to update the zones.
      - Default the model's C(tsig.key_name) (C(bind_dns_tsig_key_name), C(mail-cluster-transfer) unless set).
    type: str
  key_secret:
    description: Its secret (C(bind_dns_tsig_secret)); not the transfer key's.
    type: str
    required: true
  key_algorithm:
    description:
      - Its algorithm.
      - Default the model's C(tsig.algorithm) (C(bind_dns_tsig_algorithm), C(hmac-sha256) unless set).
    type: str
    choices: [hmac-sha256, hmac-sha384, hmac-sha512]
  state_dir:
    description:
      - Directory for C(drained.json) and C(health.json) on the host the module runs on (the DNS primary). Empty to
        keep no state (then a later C(site) run puts drained primaries back).
      - Default the model's C(state_dir) (C(bind_dns_state_dir), C(/var/lib/clustered-mail) unless set).
    type: path
seealso:
  - module: clustered.mail.dns_rotation
  - module: clustered.mail.mail_probe
"""

EXAMPLES = r"""
- name: Drain mail2 (run on the DNS primary)
  clustered.mail.dns_membership:
    model: "{{ hostvars | clustered.mail.cluster_model(groups) }}"
    hosts: [mail2]
    state: drained
    key_secret: "{{ bind_dns_tsig_secret }}"

- name: Put it back
  clustered.mail.dns_membership:
    model: "{{ hostvars | clustered.mail.cluster_model(groups) }}"
    hosts: [mail2]
    state: rotating
    key_secret: "{{ bind_dns_tsig_secret }}"

- name: Drain after the model's failures_to_drain failed probes in a row, undrain after successes_to_undrain good ones
  clustered.mail.dns_membership:
    model: "{{ hostvars | clustered.mail.cluster_model(groups) }}"
    state: health
    health: {mail1: true, mail2: false}
    key_secret: "{{ bind_dns_tsig_secret }}"
"""

RETURN = r"""
members_before:
  description: Primaries in rotation before, as served.
  returned: success
  type: list
  elements: str
  sample: [mail1, mail2]
members_after:
  description: Primaries in rotation after (in check mode, what would be).
  returned: success
  type: list
  elements: str
  sample: [mail1]
drained_before:
  description: Primaries out of rotation before.
  returned: success
  type: list
  elements: str
  sample: []
drained_after:
  description: Primaries out of rotation after.
  returned: success
  type: list
  elements: str
  sample: [mail2]
updates:
  description: Per zone, the records deleted and added (one update message per zone).
  returned: success
  type: dict
  sample: {"example.com": {"delete": ["mail.example.com A 60 192.0.2.12", "example.com MX 60 10 mail2.example.com."],
           "add": []}}
by_health:
  description: The drained primaries that the health round drained (and may undrain); the others were drained by hand.
  returned: success
  type: list
  elements: str
  sample: []
homes:
  description: Each user's serving home after the change (address to inventory name), as the placement CNAMEs name it.
  returned: success
  type: dict
  sample: {alice@example.com: mail1}
held:
  description: With O(state=health), primaries that failed often enough to be drained but were kept for O(min_members).
  returned: success
  type: list
  elements: str
  sample: []
counters:
  description: With O(state=health), the consecutive failures and successes of each primary.
  returned: success
  type: dict
  sample: {"mail1": {"failures": 0, "successes": 4}, "mail2": {"failures": 3, "successes": 0}}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.clustered.mail.plugins.module_utils._cluster import CLUSTER_DEFAULTS, TSIG_ALGORITHMS, ClusterError
from ansible_collections.clustered.mail.plugins.module_utils._dns_query import DNSPYTHON_IMPORT_ERROR, HAS_DNSPYTHON
from ansible_collections.clustered.mail.plugins.module_utils._membership import DnsClient, MembershipError, apply, resolve_hosts


# Option, its place in the cluster model, and the inventory variable behind it.
_FROM_MODEL = (
    ('failures_to_drain', ('health', 'failures'), 'mail_cluster_health_failures'),
    ('successes_to_undrain', ('health', 'successes'), 'mail_cluster_health_successes'),
    ('min_members', ('min_members',), 'mail_cluster_min_members'),
    ('key_name', ('tsig', 'key_name'), 'bind_dns_tsig_key_name'),
    ('key_algorithm', ('tsig', 'algorithm'), 'bind_dns_tsig_algorithm'),
    ('state_dir', ('state_dir',), 'bind_dns_state_dir'),
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            model=dict(type='dict', required=True),
            state=dict(type='str', required=True, choices=['drained', 'rotating', 'health', 'synced']),
            hosts=dict(type='list', elements='str', default=[]),
            health=dict(type='dict', default={}),
            failures_to_drain=dict(type='int'),
            successes_to_undrain=dict(type='int'),
            min_members=dict(type='int'),
            server=dict(type='str', default='127.0.0.1'),
            port=dict(type='int', default=53),
            timeout=dict(type='float', default=5.0),
            key_name=dict(type='str', no_log=False),
            key_secret=dict(type='str', required=True, no_log=True),
            key_algorithm=dict(type='str', choices=list(TSIG_ALGORITHMS)),
            state_dir=dict(type='path'),
        ),
        required_if=[('state', 'drained', ['hosts']), ('state', 'rotating', ['hosts']), ('state', 'health', ['health'])],
        supports_check_mode=True,
    )
    if not HAS_DNSPYTHON:
        module.fail_json(msg=missing_required_lib('dnspython'), exception=DNSPYTHON_IMPORT_ERROR)
    p = dict(module.params)
    model = p['model']
    # Unset options come from the model, which has them from the inventory or CLUSTER_DEFAULTS.
    for option, path, var in _FROM_MODEL:
        if p[option] is None:
            value = model
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            p[option] = CLUSTER_DEFAULTS[var] if value is None else value
    try:
        hosts = resolve_hosts(model, p['hosts'], 'hosts')
        health = None
        if p['state'] == 'health':
            healthy = dict((resolve_hosts(model, [name], 'health')[0], module.boolean(value))
                           for name, value in p['health'].items())
            health = {'healthy': healthy,
                      'failures_to_drain': p['failures_to_drain'],
                      'successes_to_undrain': p['successes_to_undrain']}
        client = DnsClient(p['server'], p['key_name'], p['key_secret'], p['key_algorithm'], p['port'], p['timeout'])
        result = apply(model, client,
                       drain=hosts if p['state'] == 'drained' else (),
                       undrain=hosts if p['state'] == 'rotating' else (),
                       min_members=p['min_members'], check_mode=module.check_mode,
                       state_dir=p['state_dir'] or None, health=health)
    except (MembershipError, ClusterError) as exc:
        module.fail_json(msg=str(exc))
    except (KeyError, TypeError) as exc:
        module.fail_json(msg='model: not a cluster model from clustered.mail.cluster_model (%s: %s)'
                         % (type(exc).__name__, exc))
    if module._diff:
        result['diff'] = {
            'before': 'members: %s\n' % ', '.join(result['members_before']),
            'after': 'members: %s\n' % ', '.join(result['members_after']),
            'before_header': 'rotation', 'after_header': 'rotation',
        }
    module.exit_json(**result)


if __name__ == '__main__':
    main()
