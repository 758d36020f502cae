# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""verify_plan: the checks follow the inventory (rotation sets, PTR addresses, probes per service)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster
from ansible_collections.clustered.mail.plugins.module_utils._dns_records import dns_zones
from ansible_collections.clustered.mail.plugins.module_utils._verify import verify_plan


def inventory(**cluster):
    hostvars = {
        'ns1': {'mail_cluster_addresses': ['192.0.2.2']},
        'store': {'mail_cluster_addresses': ['192.0.2.20']},
        'mail1': {'mail_cluster_addresses': ['192.0.2.11', '2001:db8::11']},
        'mail2': {'mail_cluster_addresses': ['192.0.2.12']},
        'mx2': {'mail_cluster_addresses': ['198.51.100.20']},
    }
    for hv in hostvars.values():
        hv['mail_cluster_domain'] = 'example.com'
        hv.update(cluster)
    groups = {'all': list(hostvars), 'mail_dns': ['ns1'], 'mail_storage': ['store'],
              'mail_primaries': ['mail1', 'mail2'], 'mail_backup_mx': ['mx2']}
    return hostvars, groups


def plan(**cluster):
    model = build_cluster(*inventory(**cluster))
    return verify_plan(model, dns_zones(model))


def rotation(p):
    return dict(((r['name'], r['type']), r['expected']) for r in p['rotation'])


def test_hosts_style_rotates_mail_name_and_mx_set_with_backup():
    rot = rotation(plan())
    assert rot[('mail.example.com', 'A')] == ['192.0.2.11', '192.0.2.12']
    assert rot[('example.com', 'MX')] == ['10 mail1.example.com', '10 mail2.example.com', '50 mx2.example.com']
    # a single AAAA is not a rotation
    assert ('mail.example.com', 'AAAA') not in rot


def test_each_rotating_set_is_asked_three_rounds_and_at_least_twelve_times():
    model = build_cluster(*inventory())
    zones = dns_zones(model)
    forward = next(z for z in zones if z['kind'] == 'forward' and z['name'] == 'example.com')
    forward['records'] = forward['records'] + [{'owner': 'big', 'ttl': 60, 'type': 'A', 'value': '192.0.2.%d' % i}
                                               for i in range(31, 36)]
    queries = dict(((r['name'], r['type']), r['queries']) for r in verify_plan(model, zones)['rotation'])
    assert queries[('mail.example.com', 'A')] == 12      # 2 records: three rounds would be only 6
    assert queries[('example.com', 'MX')] == 12          # 3 records
    assert queries[('big.example.com', 'A')] == 15       # 5 records: three rounds


def test_records_checked_for_low_ttl_are_exactly_the_rotating_sets():
    p = plan()
    assert sorted((r['name'], r['type']) for r in p['records']) == sorted(rotation(p))


def test_round_robin_style_has_one_primary_mx_name():
    rot = rotation(plan(mail_cluster_mx_style='round_robin'))
    assert rot[('example.com', 'MX')] == ['10 mail.example.com', '50 mx2.example.com']


def test_every_address_needs_a_ptr_and_servers_are_addresses():
    p = plan()
    assert set(p['addresses']) == {'192.0.2.2', '192.0.2.20', '192.0.2.11', '2001:db8::11', '192.0.2.12', '198.51.100.20'}
    assert p['dns_servers'] == ['192.0.2.2']
    assert 'example.com' in p['zones'] and '2.0.192.in-addr.arpa' in p['zones']
    assert p['max_ttl'] == 60


def test_probes_cover_each_service_on_its_hosts():
    p = plan(mail_cluster_services={'smtp': ['mail1'], 'imap': ['mail2'], 'pop3': ['mail2']})
    by = {}
    for probe in p['probes']:
        by.setdefault((probe['host'], probe['protocol'], probe['tls']), probe)
    assert ('mail1', 'smtp', 'none') in by and ('mail1', 'submission', 'starttls') in by
    assert ('mail2', 'smtp', 'none') not in by
    assert ('mail2', 'imap', 'implicit') in by and by[('mail2', 'imap', 'implicit')]['port'] == 993
    assert ('mail1', 'imap', 'starttls') not in by
    assert ('mx2', 'smtp', 'none') in by and by[('mx2', 'smtp', 'none')]['service'] == 'backup_mx'
    assert by[('mail1', 'submission', 'starttls')]['capabilities'] == ['AUTH']
    # submission is offered on 587 (STARTTLS) and 465 (implicit TLS, RFC 8314)
    assert by[('mail1', 'submission', 'implicit')]['port'] == 465
    assert ('mail2', 'submission', 'implicit') not in by


def test_port_465_is_closed_where_submission_does_not_run_and_open_where_it_does():
    p = plan(mail_cluster_services={'smtp': ['mail1'], 'submission': ['mail1'], 'imap': ['mail2']})
    closed = set((c['host'], c['service'], c['port']) for c in p['closed'])
    assert ('mail2', 'submission', 465) in closed and ('mail2', 'submission', 587) in closed
    assert not [c for c in closed if c[0] == 'mail1' and c[2] in (465, 587)]
    probes = set((x['host'], x['port']) for x in p['probes'])
    assert ('mail1', 465) in probes and ('mail2', 465) not in probes


def test_ports_of_services_a_primary_does_not_run_must_be_closed():
    p = plan(mail_cluster_services={'smtp': ['mail1'], 'imap': ['mail2']})
    closed = set((c['host'], c['service'], c['port']) for c in p['closed'])
    assert ('mail1', 'imap', 143) in closed and ('mail1', 'imap', 993) in closed and ('mail1', 'pop3', 110) in closed
    assert ('mail2', 'smtp', 25) in closed and ('mail2', 'submission', 587) in closed
    assert not [c for c in closed if (c[0], c[1]) in (('mail1', 'smtp'), ('mail2', 'imap'), ('mail2', 'pop3'))]
    # every primary runs everything by default: nothing must be closed
    assert plan()['closed'] == []


def test_every_webmail_host_is_logged_in_to_by_address_under_the_webmail_name():
    hostvars, groups = inventory()
    hostvars['web1'] = {'mail_cluster_addresses': ['192.0.2.31'], 'mail_cluster_domain': 'example.com'}
    hostvars['web2'] = {'mail_cluster_addresses': ['192.0.2.32'], 'mail_cluster_domain': 'example.com'}
    groups['all'] += ['web1', 'web2']
    groups['mail_webmail'] = ['web1', 'web2']
    model = build_cluster(hostvars, groups)
    assert verify_plan(model, dns_zones(model))['webmail'] == [
        {'host': 'web1', 'address': '192.0.2.31', 'url': 'https://webmail.example.com/'},
        {'host': 'web2', 'address': '192.0.2.32', 'url': 'https://webmail.example.com/'},
    ]
    assert plan()['webmail'] == []  # no mail_webmail hosts: nothing to log in to
