# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rotation membership: which primaries answer for the mail names, and how to change it.

Private to the collection. Used by the ``clustered.mail.dns_membership`` module,
the ``clustered.mail.rotation_model`` filter (bind_dns writes zone files that
honour drained primaries) and the health timer script that bind_dns installs.
It imports nothing from Ansible so the timer script can use it on the DNS primary.

A *drained* primary is out of rotation: its addresses leave the round-robin
mail name, its MX leaves every mail domain (``hosts`` style; ``round_robin``
publishes one MX to the mail name, which already follows), and it leaves the
service names (``smtp``/``imap``/``pop3``/... in every domain) -- except that
a service name is never emptied: when every host of a service is drained, the
name keeps them all (it cannot be served better by answering nothing). Its own
host name and its PTR stay. Its users move: each ``<user>.pop`` CNAME names the
user's *serving* home (``_cluster.serving_home``: the wanted home while it is in
rotation, else the next rendezvous choice), so draining a primary moves only its
users, and undraining moves them back. The primaries follow those CNAMEs
(``clustered-mail-homes``): DNS is the director.

Who drained a primary is kept too (``drained.json``: ``drained`` and
``by_health``): the health round undrains only what the health round drained,
so a primary drained by hand stays drained until it is undrained by hand.

API
---
``rotation_model(model, drained)``  the model with ``drained`` out of rotation;
    ``dns_zones`` of it is what the zones must serve.
``rotation_rrsets(model, drained)``  ``{zone: {(owner_fqdn, type): {'ttl', 'values'}}}``
    of the names whose records depend on membership.
``update_grants(model)``  ``{zone: [{'name': fqdn., 'types': [...]}]}``: exactly the
    names and types the updates here may change (drain, undrain, move_user, the
    health round), which bind_dns grants the update key (``update-policy``).
``resolve_hosts(model, names, option)``  inventory names of primaries given by
    inventory name, host name or FQDN; ``MembershipError`` naming ``option``.
``health_protocols(model, host, protocols)``  what the health round probes on a primary.
``served_drained(model, served)``  primaries whose addresses the served mail name lacks.
``plan(model, drained_now, drain, undrain, min_members)``  the new drained set;
    refuses (``MembershipError`` naming ``min_members``) to go below the minimum.
``zone_changes(model, drained, served)``  per zone, the records to delete and add.
``health_step(counters, healthy, drained, failures_to_drain, successes_to_undrain)``
    new consecutive-failure/success counters and the hosts to drain and undrain.
``read_state(state_dir)``  the drained list and the moved homes kept on the DNS primary
    (absent file: empty; a corrupt one: ``MembershipError`` naming the file and the fix).
``apply(...)``  the whole change against a DNS primary with dnspython: read the
    served rrsets, plan, one TSIG-signed UPDATE per zone, keep the state files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile

from ansible_collections.clustered.mail.plugins.module_utils._cluster import (
    CLUSTER_DEFAULTS, STATE_DIR, plain_copy, pop_name, serving_home,
)
from ansible_collections.clustered.mail.plugins.module_utils._dns_query import (
    HAS_DNSPYTHON, DnsQueryError, dnspython, normalise, query, records,
)
from ansible_collections.clustered.mail.plugins.module_utils._dns_records import dns_zones
from ansible_collections.clustered.mail.plugins.module_utils._mail import MailError, apply_homes

DRAINED_FILE = 'drained.json'
HEALTH_FILE = 'health.json'
HOMES_FILE = 'homes.json'
# The files of the kept state that cluster_state_info reads, and its options (for its module and its action plugin).
STATE_FILES = (DRAINED_FILE, HOMES_FILE)
STATE_INFO_ARGUMENT_SPEC = dict(state_dir=dict(type='path', default=STATE_DIR))


class MembershipError(ValueError):
    """A membership change that must not (or cannot) be made; the message says why."""


def _fqdn(zone, owner):
    return zone if owner == '@' else '%s.%s' % (owner, zone)


def rotation_model(model, drained):
    """A copy of ``model`` with the ``drained`` primaries out of rotation (see the module docstring)."""
    drained = set(drained or [])
    primaries = model['groups']['mail_primaries']
    result = plain_copy(model)
    result['groups']['mail_primaries'] = [h for h in primaries if h not in drained]
    for service, members in model['services'].items():
        kept = [h for h in members if h not in drained]
        result['services'][service] = kept or list(members)
    for user in result['users']:
        if user.get('home'):
            user['home'] = serving_home(user['address'], user['home'], model['mailbox_hosts'], drained)
            user['home_fqdn'] = model['hosts'][user['home']]['fqdn']
    return result


def _managed_names(model):
    names = {model['mail_fqdn']: ('A', 'AAAA')}
    for domain in model['domains']:
        names[domain] = ('MX',)
        for service in model['services']:
            names['%s.%s' % (service, domain)] = ('A', 'AAAA')
    for user in model['users']:
        if user.get('home'):
            names[pop_name(user)] = ('CNAME',)
    return names


def rotation_rrsets(model, drained=()):
    """The rrsets that depend on membership, as served when ``drained`` are out of rotation."""
    managed = _managed_names(model)
    full = {}
    for zone in dns_zones(model):
        if zone['kind'] != 'forward':
            continue
        sets = {}
        for owner, types in managed.items():
            if owner == zone['name'] or owner.endswith('.' + zone['name']):
                for rtype in types:
                    sets[(owner, rtype)] = {'ttl': model['ttl'], 'values': []}
        full[zone['name']] = sets
    for zone in dns_zones(rotation_model(model, drained)):
        sets = full.get(zone['name'])
        if sets is None:
            continue
        for record in zone['records']:
            key = (_fqdn(zone['name'], record['owner']), record['type'])
            if key in sets:
                sets[key]['ttl'] = record['ttl']
                sets[key]['values'].append(normalise(record['type'], record['value']))
    for sets in full.values():
        for key in list(sets):
            sets[key]['values'] = sorted(set(sets[key]['values']))
    return full


def update_grants(model):
    """Per forward zone, the names and types ``apply`` may change, for the update key's ``update-policy``.

    The same set of rrsets that ``served`` reads and ``zone_changes`` writes, so
    the key can change nothing else: no NS, no SOA, no MX outside the domains'
    apexes, no name the membership does not manage. Zones with nothing to
    grant (reverse zones) are absent.
    """
    result = {}
    for zone, sets in rotation_rrsets(model, ()).items():
        names = {}
        for owner, rtype in sets:
            names.setdefault(owner, set()).add(rtype)
        if names:
            result[zone] = [{'name': owner + '.', 'types': sorted(types)} for owner, types in sorted(names.items())]
    return result


def resolve_hosts(model, names, option='hosts'):
    """Inventory names of the primaries given by inventory name, host name or FQDN."""
    primaries = model['groups']['mail_primaries']
    result = []
    for name in names or []:
        wanted = str(name).strip().lower().rstrip('.')
        found = [h for h in primaries
                 if wanted in (h.lower(), model['hosts'][h]['host_name'], model['hosts'][h]['fqdn'])]
        if not found:
            raise MembershipError('%s=%s: not a host of mail_primaries (%s); give an inventory name, host name or FQDN'
                                  % (option, name, ', '.join(primaries)))
        if found[0] not in result:
            result.append(found[0])
    return result


def health_protocols(model, host, protocols):
    """The ``protocols`` (mail_cluster_health_protocols) that primary ``host`` serves: only those are probed."""
    runs = model['hosts'][host].get('services')
    return [p for p in protocols if runs is None or p in runs]


def served_drained(model, served):
    """Primaries out of rotation as served: none of their addresses is in the A/AAAA sets of the names they serve
    (the mail name for the smtp hosts, ``<service>.<domain>`` for each service they run)."""
    zone = model['domain']
    result = []
    for host in model['groups']['mail_primaries']:
        services = model['hosts'][host].get('services') or []
        names = ['%s.%s' % (s, zone) for s in services] + ([model['mail_fqdn']] if 'smtp' in services else [])
        answering = set()
        for name in names:
            for rtype in ('A', 'AAAA'):
                answering.update(served.get(zone, {}).get((name, rtype), []))
        if names and not answering & set(model['hosts'][host]['addresses']):
            result.append(host)
    return result


def plan(model, drained_now, drain=(), undrain=(), min_members=1):
    """The drained set after draining ``drain`` and undraining ``undrain``; refuses to go below ``min_members``."""
    primaries = model['groups']['mail_primaries']
    if not isinstance(min_members, int) or isinstance(min_members, bool) or min_members < 1:
        raise MembershipError('min_members=%r: must be an integer of at least 1 (mail_cluster_min_members)' % (min_members,))
    drained = [h for h in primaries if (h in drained_now or h in drain) and h not in undrain]
    newly = [h for h in drained if h not in drained_now]
    rotating = [h for h in primaries if h not in drained]
    if newly and len(rotating) < min_members:
        raise MembershipError(
            'refusing to drain %s: %d of %d primaries would stay in rotation (%s), fewer than min_members=%d'
            ' (mail_cluster_min_members); undrain another primary first or lower the minimum'
            % (', '.join(newly), len(rotating), len(primaries), ', '.join(rotating) or 'none', min_members))
    return drained


def zone_changes(model, drained, served):
    """Per zone, ``{'delete': [(owner, type, ttl, value)], 'add': [...]}`` to serve ``drained``.

    Only values the derivation can publish are deleted, so records added by
    hand or by ``bind_dns_extra_records`` at the same names are left alone.
    """
    full = rotation_rrsets(model, ())
    wanted = rotation_rrsets(model, drained)
    # A placement CNAME may name any primary (a stale one too, after mail_cluster_services changed).
    homes = set(normalise('CNAME', model['hosts'][h]['fqdn']) for h in model['groups']['mail_primaries'])
    changes = {}
    for zone, sets in wanted.items():
        delete, add = [], []
        for key, rrset in sorted(sets.items()):
            have = set(served.get(zone, {}).get(key, []))
            possible = homes if key[1] == 'CNAME' else set(full[zone][key]['values'])
            want = set(rrset['values'])
            delete.extend((key[0], key[1], rrset['ttl'], v) for v in sorted((have & possible) - want))
            add.extend((key[0], key[1], rrset['ttl'], v) for v in sorted(want - have))
        if delete or add:
            changes[zone] = {'delete': delete, 'add': add}
    return changes


def health_step(counters, healthy, drained, failures_to_drain, successes_to_undrain):
    """Count consecutive results per host; return ``(counters, to_drain, to_undrain)``.

    A failure resets the success count and a success the failure count, so a
    flapping primary neither drains nor undrains (hysteresis). A primary is
    drained only once it has passed a probe at least once (``seen``). Only hosts in
    ``healthy`` are counted; counters of hosts no longer probed are dropped.
    """
    for var, value in (('failures_to_drain', failures_to_drain), ('successes_to_undrain', successes_to_undrain)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise MembershipError('%s=%r: must be an integer of at least 1' % (var, value))
    new = {}
    to_drain, to_undrain = [], []
    for host in sorted(healthy):
        old = (counters or {}).get(host) or {}
        # A primary that has never passed a probe is not in service yet (site
        # installs the timer before it deploys the primaries): never drain it.
        seen = bool(old.get('seen', False)) or bool(healthy[host])
        if healthy[host]:
            count = {'failures': 0, 'successes': int(old.get('successes', 0)) + 1, 'seen': seen}
        else:
            count = {'failures': int(old.get('failures', 0)) + 1, 'successes': 0, 'seen': seen}
        new[host] = count
        if host in drained and count['successes'] >= successes_to_undrain:
            to_undrain.append(host)
        elif host not in drained and count['failures'] >= failures_to_drain and seen:
            to_drain.append(host)
    # Drain the longest-failing first: when the minimum stops some, those are the ones kept.
    to_drain.sort(key=lambda h: (-new[h]['failures'], h))
    return new, to_drain, to_undrain


def health_plan(model, drained_now, to_drain, to_undrain, min_members):
    """Like ``plan`` but drains only as many as the minimum allows; returns ``(drained, held)``."""
    drained = plan(model, drained_now, (), to_undrain, min_members)
    held = []
    for host in to_drain:
        try:
            drained = plan(model, drained, [host], (), min_members)
        except MembershipError:
            held.append(host)
    return drained, held


# --- state files on the DNS primary ---------------------------------------

def read_json(path, default):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return default


# Who writes each state file: the fix named when one is not what it should be.
_WRITERS = {
    DRAINED_FILE: 'clustered.mail.drain, undrain and health rewrite it',
    HOMES_FILE: 'clustered.mail.move_user rewrites it',
}


def _state_error(state_dir, name, problem):
    return MembershipError('%s: %s; fix the file or remove it (%s; a removed %s means %s)'
                           % (os.path.join(state_dir, name), problem, _WRITERS[name], name,
                              'no primary drained' if name == DRAINED_FILE else 'no user moved'))


def read_state_texts(state_dir):
    """The text of each state file in ``state_dir`` ({name: text}; None for a file that does not exist)."""
    texts = {}
    for name in STATE_FILES:
        path = os.path.join(state_dir, name)
        try:
            with open(path) as handle:
                texts[name] = handle.read()
        except (IOError, OSError) as exc:
            if not os.path.exists(path):
                texts[name] = None
                continue
            raise _state_error(state_dir, name, 'cannot be read (%s)' % exc)
    return texts


def _parse_state_file(state_dir, name, text):
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _state_error(state_dir, name, 'is not JSON (%s)' % exc)
    if not isinstance(data, dict):
        raise _state_error(state_dir, name, 'must be a JSON object, not %s' % type(data).__name__)
    return data


def _names(state_dir, name, data, key):
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _state_error(state_dir, name, '%s must be a list of inventory names, not %r' % (key, value))
    return value


def read_state(state_dir):
    """The state kept in ``state_dir`` on the DNS primary, as the readers need it (see state_from_texts)."""
    return state_from_texts(state_dir, read_state_texts(state_dir))


def state_from_texts(state_dir, texts):
    """The state, from the texts of the state files of ``state_dir`` ({name: text, None when missing}).

    ``{'drained': [...], 'by_health': [...], 'homes': {address: host}}``. A file
    that does not exist (or is empty) is empty state; one that is not what its
    writer writes raises ``MembershipError`` naming the file and the fix.
    """
    drained = _parse_state_file(state_dir, DRAINED_FILE, texts.get(DRAINED_FILE))
    homes = _parse_state_file(state_dir, HOMES_FILE, texts.get(HOMES_FILE))
    moved = homes.get('homes', {}) if 'homes' in homes else homes
    if not isinstance(moved, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in moved.items()):
        raise _state_error(state_dir, HOMES_FILE, 'homes must map addresses to inventory names, not %r' % (moved,))
    return {
        'drained': _names(state_dir, DRAINED_FILE, drained, 'drained'),
        'by_health': _names(state_dir, DRAINED_FILE, drained, 'by_health'),
        'homes': dict((address.lower(), host) for address, host in moved.items()),
    }


def write_json(path, data):
    """Replace ``path`` atomically (write a temporary file, then rename)."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    handle, tmp = tempfile.mkstemp(dir=directory, prefix='.tmp-')
    with os.fdopen(handle, 'w') as out:
        json.dump(data, out, indent=1, sort_keys=True)
        out.write('\n')
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)


# --- DNS ---------------------------------------------------------------------

class DnsClient(object):
    """Reads rrsets from and sends TSIG-signed updates to one authoritative server."""

    def __init__(self, server, key_name, key_secret, key_algorithm=CLUSTER_DEFAULTS['bind_dns_tsig_algorithm'],
                 port=53, timeout=5.0):
        if not HAS_DNSPYTHON:
            raise MembershipError('dnspython is required (python3-dnspython on Debian)')
        self.server = server
        self.port = port
        self.timeout = timeout
        self.key = dnspython().tsig.Key(key_name, key_secret, key_algorithm) if key_secret else None

    def rrset(self, name, rtype):
        try:
            response = query(self.server, name, rtype, port=self.port, timeout=self.timeout, tcp=True, nxdomain=True)
        except DnsQueryError as exc:
            if 'not authoritative' in str(exc):
                raise MembershipError('%s: point server at the DNS primary' % exc)
            raise MembershipError(str(exc))
        return sorted(records(response, name, rtype) or [])

    def served(self, model):
        result = {}
        for zone, sets in rotation_rrsets(model, ()).items():
            result[zone] = dict((key, self.rrset(key[0], key[1])) for key in sets)
        return result

    def update(self, zone, change):
        """One UPDATE message for the zone: every delete and add together."""
        if self.key is None:
            raise MembershipError('key_secret is empty: dynamic updates need the TSIG key (bind_dns_tsig_secret)')
        dns = dnspython()
        message = dns.update.UpdateMessage(zone + '.', keyring=self.key)
        for owner, rtype, _ttl, value in change['delete']:
            message.delete(owner + '.', rtype, value)
        for owner, rtype, ttl, value in change['add']:
            message.add(owner + '.', ttl, rtype, value)
        try:
            response = dns.query.tcp(message, self.server, timeout=self.timeout, port=self.port)
        except (dns.exception.DNSException, OSError) as exc:
            raise MembershipError('update of zone %s at %s failed: %s' % (zone, self.server, exc))
        if response.rcode() != dns.rcode.NOERROR:
            raise MembershipError('%s refused the update of zone %s: %s (check bind_dns_tsig_key_name and'
                                  ' bind_dns_tsig_secret, the update key; the zones grant it only the names of'
                                  ' update_grants, so after adding users or domains rerun site first)'
                                  % (self.server, zone, dns.rcode.to_text(response.rcode())))


def _describe(model, drained):
    return sorted(h for h in model['groups']['mail_primaries'] if h not in drained)


def apply(model, client, drain=(), undrain=(), min_members=1, check_mode=False, state_dir=None, health=None):
    """Make the DNS primary serve the wanted membership; returns a result dict.

    ``health`` (optional): ``{'healthy': {host: bool}, 'failures_to_drain': N,
    'successes_to_undrain': M}``; then ``drain``/``undrain`` come from the
    counters kept in ``state_dir``, and only primaries the health round
    drained itself are undrained. The homes moved by move_user
    (``homes.json`` in ``state_dir``) are in force for the CNAMEs. Raises
    ``MembershipError``.
    """
    state_before = read_state(state_dir) if state_dir else {}
    if state_dir:
        try:
            model = apply_homes(model, state_before['homes'])
        except MailError as exc:
            raise _state_error(state_dir, HOMES_FILE, str(exc))
    served = client.served(model)
    drained_before = served_drained(model, served)
    path = os.path.join(state_dir, DRAINED_FILE) if state_dir else None
    by_health_before = [h for h in state_before.get('by_health') or [] if h in drained_before]
    result = {'held': [], 'counters': None}
    if health is not None:
        counters_path = os.path.join(state_dir, HEALTH_FILE) if state_dir else None
        counters = read_json(counters_path, {}) if counters_path else {}
        counters, to_drain, to_undrain = health_step(counters, health['healthy'], drained_before,
                                                     health['failures_to_drain'], health['successes_to_undrain'])
        # A primary drained by hand stays drained: health undoes only its own drains.
        to_undrain = [h for h in to_undrain if h in by_health_before]
        drained_after, held = health_plan(model, drained_before, to_drain, to_undrain, min_members)
        by_health = [h for h in drained_after if h in by_health_before or h not in drained_before]
        result.update(held=held, counters=counters)
        if counters_path and not check_mode:
            write_json(counters_path, counters)
    else:
        drained_after = plan(model, drained_before, drain, undrain, min_members)
        # Drained or undrained by hand: from now on it is the operator's.
        by_health = [h for h in by_health_before if h in drained_after and h not in drain]
    changes = zone_changes(model, drained_after, served)
    if changes and not check_mode:
        for zone in sorted(changes):
            client.update(zone, changes[zone])
    state_changed = False
    if path:
        state = {'drained': drained_after, 'by_health': by_health}
        if state_before.get('drained', []) != drained_after or (state_before.get('by_health') or []) != by_health:
            state_changed = True
            if not check_mode:
                write_json(path, state)
    result.update(
        by_health=by_health,
        homes=dict((u['address'], u['home']) for u in rotation_model(model, drained_after)['users'] if u.get('home')),
        changed=bool(changes) or state_changed,
        drained_before=drained_before,
        drained_after=drained_after,
        members_before=_describe(model, drained_before),
        members_after=_describe(model, drained_after),
        updates=dict((zone, {'delete': [' '.join(map(str, r)) for r in c['delete']],
                             'add': [' '.join(map(str, r)) for r in c['add']]}) for zone, c in changes.items()),
    )
    return result
