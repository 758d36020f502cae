# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Postfix's postscreen and milter settings on the MX nodes, from the model."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster
from ansible_collections.clustered.mail.plugins.module_utils._filter import mx_postfix
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import inventory, set_all


def test_every_mx_node_gets_postscreen_and_the_milter():
    model = build_cluster(*inventory())
    for host in ('primary1', 'backup'):
        got = mx_postfix(model, host)
        assert got['postscreen'] and got['milter']
        cf = dict(got['main_cf'])
        # rspamd's UNIX socket, relative to the queue directory: chrooted smtpd and cleanup both reach it.
        assert cf['smtpd_milters'] == 'unix:rspamd/milter.sock'
        assert cf['non_smtpd_milters'] == '$smtpd_milters'
        assert cf['milter_default_action'] == 'accept'
        assert cf['postscreen_greet_action'] == 'enforce'
        assert 'postscreen_dnsbl_sites' not in cf
        assert got['master_cf'].startswith('smtp      inet  n       -       y       -       1       postscreen\n')


def test_a_primary_without_smtp_gets_neither():
    hostvars, groups = set_all(*inventory(), mail_cluster_services={'smtp': ['primary2']})
    assert mx_postfix(build_cluster(hostvars, groups), 'primary1') == {'postscreen': False, 'milter': False, 'main_cf': [],
                                                                       'master_cf': ''}


def test_filter_off_keeps_postscreen():
    got = mx_postfix(build_cluster(*set_all(*inventory(), mail_cluster_spam_filter=False,
                                            mail_cluster_postscreen_dnsbl_sites=['zen.spamhaus.org*2'])), 'backup')
    assert got['postscreen'] and not got['milter']
    cf = dict(got['main_cf'])
    assert 'smtpd_milters' not in cf
    assert cf['postscreen_dnsbl_sites'] == 'zen.spamhaus.org*2' and cf['postscreen_dnsbl_action'] == 'enforce'


def test_tempfail_when_asked():
    model = build_cluster(*set_all(*inventory(), mail_cluster_spam_filter_default_action='tempfail'))
    assert dict(mx_postfix(model, 'primary3')['main_cf'])['milter_default_action'] == 'tempfail'


def test_the_cluster_s_own_hosts_skip_postscreen():
    # The health round probes port 25 with a 5 s timeout; postscreen's pregreet wait is 6 s.
    model = build_cluster(*inventory())
    access = dict(mx_postfix(model, 'primary1')['main_cf'])['postscreen_access_list']
    assert access.startswith('permit_mynetworks, cidr:{')
    for host in model['hosts'].values():
        for address in host['addresses']:
            assert '{%s/%d permit}' % (address, 128 if ':' in address else 32) in access
    assert '2001:db8::11/128 permit' in access and '192.0.2.1/32 permit' in access
