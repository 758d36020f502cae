# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.clustered.mail.plugins.module_utils._cluster import build_cluster
from ansible_collections.clustered.mail.plugins.module_utils._mail import tls_names
from ansible_collections.clustered.mail.plugins.module_utils._webmail import (
    WebmailError, webmail_config, webmail_errors,
)
from ansible_collections.clustered.mail.tests.unit.plugins.module_utils.cluster_fixtures import (
    inventory, set_all,
)


WEB = {'web1': ['192.0.2.31'], 'web2': ['192.0.2.32']}


def model_with(**values):
    """Shape 5 plus two webmail hosts (group mail_webmail)."""
    hostvars, groups = inventory()
    for host, addresses in WEB.items():
        hostvars[host] = dict(hostvars['ns1'], mail_cluster_addresses=addresses)
    groups['mail_webmail'] = list(WEB)
    groups['all'] += list(WEB)
    return build_cluster(*set_all(hostvars, groups, **values))


def test_default_services_use_imap_and_submission_names():
    # Unlisted services: smtp and imap on every primary, submission with smtp.
    config = webmail_config(model_with(), 'web1')
    assert config == {
        'imap_host': 'tls://imap.example.com:143',
        'smtp_host': 'tls://submission.example.com:587',
        'server_name': 'webmail.example.com',
        'server_aliases': ['web1.example.com'],
        'username_domain': 'example.com',
        'ipv6': False,
        'product_name': 'Webmail example.com',
    }


def test_service_names_follow_the_model_services():
    # The choice is made on the model's services alone, whichever hosts run them.
    model = model_with()
    model['services'] = {'smtp': ['primary1'], 'imap': ['primary3'], 'webmail': ['web1']}
    assert webmail_config(model, 'web1')['smtp_host'] == 'tls://smtp.example.com:587'
    model['services'] = {'pop3': ['primary1'], 'webmail': ['web1']}
    config = webmail_config(model, 'web1')
    assert config['imap_host'] == 'tls://mail.example.com:143'
    assert config['smtp_host'] == 'tls://mail.example.com:587'
    model['services'] = {'smtp': [], 'submission': [], 'imap': [], 'webmail': ['web1']}
    assert webmail_config(model, 'web1')['smtp_host'] == 'tls://mail.example.com:587'


def test_names_are_in_the_servers_certificates():
    # Roundcube verifies the IMAP/submission servers against the cluster CA: the
    # names it connects to must be in the certificates the CA issues them.
    model = model_with(mail_cluster_services={'smtp': ['primary2'], 'imap': ['primary3']})
    config = webmail_config(model, 'web2')
    imap_name = config['imap_host'].split('//')[1].rsplit(':', 1)[0]
    smtp_name = config['smtp_host'].split('//')[1].rsplit(':', 1)[0]
    assert 'DNS:%s' % imap_name in tls_names(model, 'primary3')
    assert 'DNS:%s' % smtp_name in tls_names(model, 'primary2')
    for host in WEB:
        assert 'DNS:%s' % config['server_name'] in tls_names(model, host)


def test_product_name_given_is_kept():
    assert webmail_config(model_with(), 'web1', 'Mail of Example')['product_name'] == 'Mail of Example'
    assert webmail_config(model_with(), 'web1', '')['product_name'] == 'Webmail example.com'


def test_other_domain_follows_the_model():
    model = model_with(mail_cluster_domain='Example.ORG')
    config = webmail_config(model, 'web2')
    assert config['server_name'] == 'webmail.example.org'
    assert config['imap_host'] == 'tls://imap.example.org:143'
    assert config['username_domain'] == 'example.org'
    assert config['server_aliases'] == ['web2.example.org']


def test_ipv6_follows_the_host_addresses():
    hostvars, groups = inventory()
    hostvars['web1'] = dict(hostvars['ns1'], mail_cluster_addresses=['192.0.2.31', '2001:db8::31'])
    groups['mail_webmail'] = ['web1']
    model = build_cluster(hostvars, groups)
    assert webmail_config(model, 'web1')['ipv6'] is True


def test_host_outside_mail_webmail_is_refused():
    model = model_with()
    for host in ('primary1', 'client', 'nowhere'):
        errors = webmail_errors(model, host)
        assert len(errors) == 1
        assert host in errors[0] and 'mail_webmail' in errors[0]
        with pytest.raises(WebmailError) as err:
            webmail_config(model, host)
        assert err.value.errors == errors


def test_webmail_host_left_out_of_the_webmail_service_is_refused():
    model = model_with(mail_cluster_services={'webmail': ['web1']})
    assert webmail_errors(model, 'web1') == []
    errors = webmail_errors(model, 'web2')
    assert len(errors) == 1
    assert 'mail_cluster_services.webmail (web1)' in errors[0] and 'webmail.example.com' in errors[0]


def test_model_without_domain_is_refused():
    model = dict(model_with(), domain=None)
    with pytest.raises(WebmailError, match='mail_cluster_domain'):
        webmail_config(model, 'web1')
