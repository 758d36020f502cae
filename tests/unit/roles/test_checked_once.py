# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A role skips its own checks only where site.yml's first play has run them.

site.yml passes ``__<role>_checked_by_site: true`` to each role it deploys, and the
role's ``tasks/main.yml`` then skips ``validate.yml`` (its checks and the facts
they set ran once already, in the preflight play). That is only safe when the
preflight runs that role's checks on every host of the role's play, under the
same condition. Read from the YAML, so a new play or a changed group list that
breaks it fails here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SITE = os.path.join(ROOT, 'playbooks', 'site.yml')
ROLES = os.path.join(ROOT, 'roles')


def site():
    with open(SITE) as f:
        return yaml.safe_load(f)


def preflight_checks():
    """{role: (groups, when)} of the preflight play's loop."""
    loop = next(t for t in site()[0]['tasks'] if t.get('loop_control', {}).get('loop_var') == '__preflight')['loop']
    return {item['role']: (set(item.get('groups') or [item['group']]), item.get('when')) for item in loop}


def deployed_roles():
    """[(play hosts as a set of groups, role name, role entry)] of every play after the first."""
    found = []
    for play in site()[1:]:
        for entry in play.get('roles', []):
            found.append((set(play['hosts'].split(':')), entry['role'].split('.')[-1], entry))
    return found


def test_every_deployed_role_is_marked_checked():
    roles = deployed_roles()
    assert roles
    for hosts, role, entry in roles:
        assert entry.get('vars', {}).get('__%s_checked_by_site' % role) is True, (
            'site.yml deploys %s without __%s_checked_by_site: its checks would run twice' % (role, role))


def test_a_role_marked_checked_was_checked_on_every_host_of_its_play():
    checks = preflight_checks()
    for hosts, role, entry in deployed_roles():
        assert role in checks, 'the preflight play does not run the checks of %s' % role
        groups, when = checks[role]
        assert hosts == groups, (
            '%s is deployed on %s but checked first on %s' % (role, sorted(hosts), sorted(groups)))
        # A role deployed only under a condition is checked under the same one.
        if 'when' in entry:
            assert when is not None and entry['when'] in when, (
                '%s is deployed when %r but checked when %r' % (role, entry['when'], when))


def test_each_role_skips_its_checks_only_on_its_own_flag():
    for hosts, role, entry in deployed_roles():
        with open(os.path.join(ROLES, role, 'tasks', 'main.yml')) as f:
            tasks = yaml.safe_load(f)
        include = next(t for t in tasks if (t.get('ansible.builtin.include_tasks') or {}).get('file') == 'validate.yml')
        assert include['when'] == 'not (__%s_checked_by_site | default(false))' % role, include.get('when')
        assert 'always' in include['tags'] and 'always' in include['ansible.builtin.include_tasks']['apply']['tags']
        # Nothing else in any role reads or sets the flag (set by a role, it would skip the checks).
        uses = []
        for top, dirs, files in os.walk(ROLES):
            for name in files:
                with open(os.path.join(top, name), errors='replace') as f:
                    uses += [os.path.join(top, name)] * len(re.findall(r'__%s_checked_by_site\b' % role, f.read()))
        assert uses == [os.path.join(ROLES, role, 'tasks', 'main.yml')], uses
