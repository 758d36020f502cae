# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Postfix's side of the MX tier's hygiene, from the cluster model: postscreen and the rspamd milter.

Private to the collection: the roles mail_primary and backup_mx reach it
through the ``clustered.mail.mx_postfix`` filter, so both write the same
settings from one derivation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The macros rspamd reads from Postfix (rspamd's MTA integration guide).
MILTER_MAIL_MACROS = 'i {mail_addr} {client_addr} {client_name} {auth_authen}'
# master.cf on an MX node: postscreen takes port 25 and passes the clients it lets through to smtpd.
POSTSCREEN_MASTER_CF = '''\
smtp      inet  n       -       y       -       1       postscreen
smtpd     pass  -       -       y       -       -       smtpd
dnsblog   unix  -       -       y       -       0       dnsblog
tlsproxy  unix  -       -       y       -       0       tlsproxy'''


def cluster_access(model):
    """An inline cidr table (Postfix 3.7 and later) that permits every address of every cluster host."""
    rules = []
    for name in sorted(model.get('hosts') or {}):
        for address in model['hosts'][name].get('addresses') or []:
            rules.append('{%s/%d permit}' % (address, 128 if ':' in address else 32))
    return 'cidr:{%s}' % ', '.join(rules) if rules else ''


def mx_postfix(model, host):
    """What Postfix on ``host`` adds for the MX tier.

    Returns ``{'postscreen': bool, 'milter': bool, 'main_cf': [[name, value], ...], 'master_cf': str}``
    (``master_cf``: postscreen's services, '' where postscreen does not run):
    postscreen guards port 25 on every MX node (the smtp primaries and the
    backup MX); the milter is rspamd's, on the hosts of ``spam_filter.hosts``.
    """
    groups = model.get('groups') or {}
    mx = host in (groups.get('mail_backup_mx') or []) or (
        host in (groups.get('mail_primaries') or []) and host in (model.get('services') or {}).get('smtp', []))
    spam_filter = model.get('spam_filter') or {}
    milter = bool(spam_filter.get('enabled')) and host in (spam_filter.get('hosts') or [])
    main_cf = []
    if mx:
        # A client that talks before the banner is a bot: refused (pregreet test); the rest pass to smtpd.
        # The cluster's own hosts skip postscreen: the pregreet test holds a new client for
        # postscreen_greet_wait (6 s) before smtpd greets it, longer than the health round's probe waits
        # (bind_dns_health_timeout, 5 s), so the DNS primary would drain every MX node it probes on port 25.
        main_cf += [['postscreen_access_list', ', '.join(x for x in ('permit_mynetworks', cluster_access(model)) if x)],
                    ['postscreen_greet_action', 'enforce']]
        sites = model.get('postscreen_dnsbl_sites') or []
        if sites:
            main_cf += [['postscreen_dnsbl_sites', ', '.join(sites)],
                        ['postscreen_dnsbl_action', 'enforce']]
    if milter:
        main_cf += [['smtpd_milters', spam_filter['milter']],
                    ['non_smtpd_milters', '$smtpd_milters'],
                    ['milter_protocol', '6'],
                    ['milter_mail_macros', MILTER_MAIL_MACROS],
                    ['milter_default_action', spam_filter['default_action']]]
    return {'postscreen': mx, 'milter': milter, 'main_cf': main_cf, 'master_cf': POSTSCREEN_MASTER_CF if mx else ''}
