# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tags per concern on playbooks/site.yml, read from ``ansible-playbook --list-tasks``.

Each run lists the tasks that ``--tags X`` would run (an example inventory: the
plays list their tasks whether or not a group has hosts). The checks:
- every task of a role carries a tag (a concern or ``always``), so no new task
  silently drops out of every ``--tags`` run;
- the inventory checks are ``always``: under any tag the preflight play and each
  role's validation still run, so a bad inventory is refused before a change;
- each concern tag selects its own tasks and not the other concerns' ones.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
INVENTORY = os.path.join(ROOT, 'inventory.example', '6-service-specific')
SITE = os.path.join(ROOT, 'playbooks', 'site.yml')
CONCERNS = ['dns', 'storage', 'postfix', 'dovecot', 'tls', 'proxy', 'webmail']

# One refusal per play that must run under any --tags selection.
VALIDATION = [
    'Nothing was refused, on any host',
    'clustered.mail.bind_dns : Refuse bad input before any host changes',
    'clustered.mail.storage_server : Validate the input before any host changes',
    'clustered.mail.storage_mount : Validate the input before any host changes',
    "clustered.mail.mail_primary : Check the inventory and the role's variables",
    "clustered.mail.backup_mx : Check the inventory and the role's variables",
    "clustered.mail.webmail : Check the inventory and the role's variables",
]

MAIL_CERT = "clustered.mail.mail_common : Install the host's certificate and key (and the CA certificate, for clients of the cluster)"
MAIL_USER = "clustered.mail.mail_common : Create the mail user with the cluster's fixed id"
POSTFIX_CHECKER = 'clustered.mail.mail_common : Install the Postfix configuration checker'
DOVECOT_CONF = 'clustered.mail.mail_primary : Install dovecot.conf (validated with doveconf)'
HOMES_AGENT = 'clustered.mail.mail_primary : Install the homes agent, its configuration (no secrets), its unit, and have Dovecot start with current homes'
LMTP_FIREWALL = 'clustered.mail.mail_primary : Write the LMTP firewall rules (validated with nft -c) and the unit that loads them'
MAIN_CF = 'clustered.mail.mail_primary : Set the mail name, install the virtual mailbox, alias and sender login maps, and main.cf (validated with postconf and postfix check)'
INSTALL_BIND = 'clustered.mail.bind_dns : Install BIND'
MOUNT = 'clustered.mail.storage_mount : Mount the store, now and at boot'
ROUNDCUBE = "clustered.mail.webmail : Install Roundcube's configuration (checked with php -l)"
# The package step the roles share (mail_common's): under postfix, never under webmail.
BACKUP_POSTFIX = 'clustered.mail.mail_common : Ask dpkg which of the packages are installed'

# tag: (tasks it must list, tasks it must not list)
SELECTION = {
    'dns': ([INSTALL_BIND], [MAIL_CERT, MAIL_USER, MAIN_CF, DOVECOT_CONF, MOUNT, ROUNDCUBE]),
    'storage': ([MAIL_USER, MOUNT], [INSTALL_BIND, MAIL_CERT, MAIN_CF, DOVECOT_CONF, HOMES_AGENT]),
    'postfix': ([MAIN_CF, POSTFIX_CHECKER, BACKUP_POSTFIX], [DOVECOT_CONF, MAIL_CERT, INSTALL_BIND, MOUNT, HOMES_AGENT]),
    'dovecot': ([DOVECOT_CONF, HOMES_AGENT], [MAIN_CF, MAIL_CERT, INSTALL_BIND, MOUNT, ROUNDCUBE]),
    'tls': ([MAIL_CERT, "clustered.mail.cluster_ca : Issue the host's key and certificate (on the controller)"],
            [MAIN_CF, DOVECOT_CONF, POSTFIX_CHECKER, INSTALL_BIND, MOUNT, ROUNDCUBE, BACKUP_POSTFIX]),
    'proxy': ([HOMES_AGENT, LMTP_FIREWALL], [DOVECOT_CONF, MAIN_CF, MAIL_CERT, INSTALL_BIND, MOUNT]),
    'webmail': ([ROUNDCUBE, MAIL_CERT], [MAIN_CF, DOVECOT_CONF, INSTALL_BIND, MOUNT, BACKUP_POSTFIX]),
}

TASK = re.compile(r'^ {6}(?P<name>.*?)\tTAGS: \[(?P<tags>[^\]]*)\]$')
PLAY = re.compile(r'^ {2}play #\d+ \((?P<hosts>[^)]*)\)')


def ansible_playbook():
    found = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    return found if os.path.exists(found) else shutil.which('ansible-playbook')


def list_tasks(*extra):
    """[(play hosts, task name, tags)] that site.yml would run with these options."""
    env = dict(os.environ,
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, 'build', 'collections'),
               ANSIBLE_ROLES_PATH=os.path.join(ROOT, 'roles'),
               ANSIBLE_NOCOLOR='1')
    result = subprocess.run([ansible_playbook(), '-i', INVENTORY, SITE, '--list-tasks'] + list(extra),
                            env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    tasks, hosts = [], None
    for line in result.stdout.splitlines():
        play = PLAY.match(line)
        if play:
            hosts = play.group('hosts')
            continue
        task = TASK.match(line)
        if task:
            tags = {t.strip() for t in task.group('tags').split(',') if t.strip()}
            tasks.append((hosts, task.group('name'), tags))
    assert tasks, result.stdout
    return tasks


@pytest.fixture(scope='module')
def untagged():
    return list_tasks()


def test_every_role_task_has_a_tag(untagged):
    role_tasks = [(name, tags) for hosts, name, tags in untagged if name.startswith('clustered.mail.')]
    assert role_tasks
    bare = [name for name, tags in role_tasks if not tags]
    assert not bare, 'role tasks without a tag (give them a concern tag, or always for checks): %s' % bare


def test_the_checks_are_always(untagged):
    names = {name: tags for hosts, name, tags in untagged}
    for name in VALIDATION:
        assert name in names, 'validation task not found: %s' % name
        assert 'always' in names[name], '%s is not tagged always but %s' % (name, sorted(names[name]))


@pytest.mark.parametrize('tag', CONCERNS)
def test_tag_selects_its_concern_and_keeps_the_checks(tag, untagged):
    listed = [name for hosts, name, tags in list_tasks('--tags', tag)]
    for name in VALIDATION:
        assert name in listed, '--tags %s skips the check %r: a bad inventory would not be refused' % (tag, name)
    wanted, unwanted = SELECTION[tag]
    for name in wanted:
        assert name in listed, '--tags %s does not run %r' % (tag, name)
    for name in unwanted:
        assert name not in listed, '--tags %s also runs %r' % (tag, name)
    # Everything listed is either always or carries the tag.
    tags_of = {}
    for hosts, name, tags in untagged:
        tags_of.setdefault(name, set()).update(tags)
    stray = [name for name in listed if name in tags_of and not (tags_of[name] & {tag, 'always'})]
    assert not stray, '--tags %s lists tasks of other concerns: %s' % (tag, stray)
