# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where rspamd and its Redis run (the model's spam_filter), derived from the inventory."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster, cluster_errors
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import inventory, set_all


def test_filter_on_every_mx_node_with_redis_on_the_data_server():
    sf = build_cluster(*inventory())['spam_filter']
    assert sf['enabled'] is True
    assert sf['hosts'] == ['primary1', 'primary2', 'primary3', 'backup']
    assert sf['redis'] == [{'host': 'store', 'address': '192.0.2.10'}]
    # Every address of every MX node, IPv6 too; never the DNS servers or the data server itself.
    assert sf['clients'] == ['192.0.2.11', '2001:db8::11', '192.0.2.12', '198.51.100.12', '192.0.2.13', '203.0.113.50']
    assert (sf['redis_port'], sf['default_action']) == (6379, 'accept')
    # rspamd binds the socket, Postfix names it relative to its queue directory: the same file.
    assert (sf['milter_dir'], sf['milter_socket']) == ('/var/spool/postfix/rspamd', '/var/spool/postfix/rspamd/milter.sock')
    assert sf['milter'] == 'unix:rspamd/milter.sock'


def test_redis_group_wins():
    hostvars, groups = inventory()
    groups['mail_filter_redis'] = ['ns2']
    model = build_cluster(hostvars, groups)
    assert model['spam_filter']['redis'] == [{'host': 'ns2', 'address': '192.0.2.2'}]
    assert 'mail_filter_redis' in model['hosts']['ns2']['groups']


def test_redis_host_of_its_own_needs_an_address():
    hostvars, groups = inventory()
    groups['mail_filter_redis'] = ['redis1']
    hostvars['redis1'] = {'mail_cluster_domain': 'example.com', 'mail_cluster_addresses': ['2001:db8::6']}
    assert build_cluster(hostvars, groups)['spam_filter']['redis'] == [{'host': 'redis1', 'address': '2001:db8::6'}]
    del hostvars['redis1']['mail_cluster_addresses']
    assert any('host redis1 has no address' in e for e in cluster_errors(hostvars, groups))


@pytest.mark.parametrize('drop, expected', [
    (['mail_storage'], 'primary1'),                                      # shape 2: primary + backup MX
    (['mail_storage', 'mail_backup_mx', 'mail_dns'], 'primary1'),        # shape 1: standalone
])
def test_redis_on_the_first_primary_without_a_data_server(drop, expected):
    hostvars, groups = inventory()
    for group in drop:
        groups[group] = []
    groups['mail_primaries'] = ['primary1']
    assert [r['host'] for r in build_cluster(hostvars, groups)['spam_filter']['redis']] == [expected]


def test_only_smtp_primaries_run_the_filter():
    hostvars, groups = inventory()
    set_all(hostvars, groups, mail_cluster_services={'smtp': ['primary2']})
    sf = build_cluster(hostvars, groups)['spam_filter']
    assert sf['hosts'] == ['primary2', 'backup']
    assert sf['clients'] == ['192.0.2.12', '198.51.100.12', '203.0.113.50']


def test_switched_off():
    sf = build_cluster(*set_all(*inventory(), mail_cluster_spam_filter=False))['spam_filter']
    assert sf['enabled'] is False and sf['hosts'] == [] and sf['redis'] == [] and sf['clients'] == []


@pytest.mark.parametrize('values, fragment', [
    ({'mail_cluster_spam_filter': 'sometimes'}, "mail_cluster_spam_filter='sometimes' on all: must be true or false"),
    ({'mail_cluster_spam_filter_default_action': 'reject'},
     "mail_cluster_spam_filter_default_action='reject' on all: must be one of accept, tempfail"),
    ({'mail_cluster_postscreen_dnsbl_sites': 'zen.spamhaus.org'}, 'mail_cluster_postscreen_dnsbl_sites='),
    ({'mail_cluster_postscreen_dnsbl_sites': ['zen.spamhaus.org; rm -rf']}, 'mail_cluster_postscreen_dnsbl_sites='),
])
def test_bad_values_named(values, fragment):
    errors = cluster_errors(*set_all(*inventory(), **values))
    assert len(errors) == 1 and fragment in errors[0], errors


def test_redis_group_refused_with_the_filter_off():
    hostvars, groups = set_all(*inventory(), mail_cluster_spam_filter=False)
    groups['mail_filter_redis'] = ['store']
    errors = cluster_errors(hostvars, groups)
    assert len(errors) == 1 and 'group mail_filter_redis has hosts (store)' in errors[0], errors


def test_dnsbl_sites():
    model = build_cluster(*inventory())
    assert model['postscreen_dnsbl_sites'] == []
    sites = ['zen.spamhaus.org*2', 'bl.example.org=127.0.0.[2..11]*1', 'list.dnswl.org=127.0.[0..255].[1..3]*-2']
    assert build_cluster(*set_all(*inventory(), mail_cluster_postscreen_dnsbl_sites=sites))['postscreen_dnsbl_sites'] == sites


def test_a_switch_given_on_the_command_line_is_read_as_a_boolean():
    # ansible-playbook -e mail_cluster_spam_filter=false passes the string 'false' (the bench does this)
    sf = build_cluster(*set_all(*inventory(), mail_cluster_spam_filter='false'))['spam_filter']
    assert (sf['enabled'], sf['hosts'], sf['redis']) == (False, [], [])


def test_without_the_filter_nothing_signs_so_no_dkim_key_is_published():
    model = build_cluster(*set_all(*inventory(), mail_cluster_spam_filter=False))
    assert model['dkim']['signing'] is False
    assert build_cluster(*inventory())['dkim']['signing'] is True
