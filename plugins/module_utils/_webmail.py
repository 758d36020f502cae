# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Webmail (Roundcube) settings derived from the cluster model.

Private to the collection: playbooks reach it through the
``clustered.mail.webmail_config`` filter; the role ``clustered.mail.webmail``
only renders what this returns.

API
---
``webmail_errors(model, host) -> list[str]``
    Why ``host`` cannot serve the cluster's webmail; [] when it can: it must
    be a host of the group ``mail_webmail`` and of the service ``webmail``
    (by default every host of that group).

``server_name(model) -> str``
    ``webmail.<domain>``: the name Roundcube serves HTTPS under.

``webmail_config(model, host, product_name=None) -> dict``
    Raises :class:`WebmailError` (``err.errors``) when ``webmail_errors``
    finds a problem, else returns::

        imap_host       'tls://imap.<domain>:143'  (STARTTLS; mail.<domain>
                        when no host runs a service named imap)
        smtp_host       'tls://submission.<domain>:587', else smtp.<domain>,
                        else mail.<domain> (STARTTLS on the submission port)
        server_name     'webmail.<domain>'
        server_aliases  [the host's own FQDN] (its certificate names it too)
        username_domain '<domain>' (a login without @ means a user there)
        ipv6            True when the host has an IPv6 address (listen on it too)
        product_name    the given name, or 'Webmail <domain>'

The names are the service names the DNS role publishes
(``<service>.<domain>`` for every service of ``mail_cluster_services``), and
the names the cluster CA puts in the servers' certificates, so Roundcube can
verify the IMAP and submission servers against the cluster CA.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

IMAP_PORT = 143
SUBMISSION_PORT = 587


class WebmailError(ValueError):
    """The model cannot give ``host`` a webmail configuration; ``errors`` lists why."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(WebmailError, self).__init__('\n'.join(self.errors))


def _service_name(model, wanted):
    """``<service>.<domain>`` of the first of ``wanted`` some host runs, else the mail name."""
    services = model.get('services') or {}
    for service in wanted:
        if services.get(service):
            return '%s.%s' % (service, model['domain'])
    return 'mail.%s' % model['domain']


def server_name(model):
    """The name Roundcube serves HTTPS under: ``webmail.<domain>`` (the DNS role publishes it)."""
    return 'webmail.%s' % model['domain']


def webmail_errors(model, host):
    """Problems that keep ``host`` from serving the webmail of ``model``; [] when none."""
    errors = []
    domain = model.get('domain')
    if not domain:
        errors.append('mail_cluster_domain is not set: define it in group_vars/all (e.g. mail_cluster_domain: example.com)')
    if host not in (model.get('groups') or {}).get('mail_webmail', []) or host not in (model.get('hosts') or {}):
        errors.append('host %s is not in the inventory group mail_webmail: add it there (the webmail hosts are that'
                      ' group, and webmail.<domain> points at them)' % host)
    elif host not in (model.get('services') or {}).get('webmail', []):
        errors.append('host %s is in mail_webmail but not in mail_cluster_services.webmail (%s): webmail.%s does not'
                      ' point at it and its certificate would not name it; add it to mail_cluster_services.webmail,'
                      ' or leave webmail out of mail_cluster_services to serve it from every mail_webmail host'
                      % (host, ', '.join((model.get('services') or {}).get('webmail', [])) or 'empty', domain or '<domain>'))
    return errors


def webmail_config(model, host, product_name=None):
    """Roundcube's server settings for ``host`` (see the module docstring)."""
    errors = webmail_errors(model, host)
    if errors:
        raise WebmailError(errors)
    domain = model['domain']
    name = server_name(model)
    fqdn = model['hosts'][host]['fqdn']
    return {
        'imap_host': 'tls://%s:%d' % (_service_name(model, ('imap',)), IMAP_PORT),
        'smtp_host': 'tls://%s:%d' % (_service_name(model, ('submission', 'smtp')), SUBMISSION_PORT),
        'server_name': name,
        'server_aliases': [fqdn] if fqdn != name else [],
        'username_domain': domain,
        'ipv6': bool(model['hosts'][host].get('ipv6')),
        'product_name': product_name or 'Webmail %s' % domain,
    }
