# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' packages: one dpkg read per host and site run, however many roles the host gets.

site.yml's first play reads every package of each host it deploys to
(__mail_common_site_read); mail_common's packages.yml then asks dpkg
nothing, installs only what that read lacks, and counts what it installed for
the later roles of the run. Outside site (a playbook of one's own) it asks dpkg
itself, as before. The conditions are decided by Ansible's Templar.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import yaml

from ansible_collections.clustered.mail.tests.unit.roles.task_files import ROOT, runs, task, template

PACKAGES = 'roles/mail_common/tasks/packages.yml'
QUERY = 'Ask dpkg which of the packages are installed'
INSTALL = 'Install the missing packages'
COUNT = 'Count the packages just installed as installed, for the later roles of this run'
SITE_READ = 'Read once the mail user and the installed packages of each host, for every role of this run'

SKIPPED = {'skipped': True, 'changed': False}
HOST = {'stdout': 'bind9 installed\npostfix installed\nrspamd config-files\ndovecot-core not-installed'}


def facts(**extra):
    return dict({'mail_common_packages': ['bind9', 'postfix'], 'group_names': ['mail_primaries']}, **extra)


def missing(**extra):
    return template(PACKAGES, INSTALL, '{{ __mail_common_missing }}', **facts(**extra))


def test_site_reads_the_packages_of_every_host_it_deploys_to_after_the_checks():
    with open(os.path.join(ROOT, 'playbooks', 'site.yml')) as handle:
        first = yaml.safe_load(handle)[0]
    names = [step.get('name') for step in first['tasks']]
    assert names.index(SITE_READ) > names.index('Stop every host on any refusal')
    read = first['tasks'][names.index(SITE_READ)]
    assert read['register'] == '__mail_common_site_read'
    # the mail user it reads is mail_common's
    with open(os.path.join(ROOT, 'roles', 'mail_common', 'vars', 'main.yml')) as handle:
        assert read['clustered.mail.host_read']['argv'][-1] == yaml.safe_load(handle)['__mail_common_vmail_user']
    assert read['check_mode'] is False and read['changed_when'] is False
    # every group a later play of site deploys a role to
    deployed = set()
    with open(os.path.join(ROOT, 'playbooks', 'site.yml')) as handle:
        for play in yaml.safe_load(handle)[1:]:
            if play.get('roles'):
                deployed.update(play['hosts'].split(':'))
    assert deployed == set(read['vars']['__site_groups'])


def test_within_site_no_role_asks_dpkg_and_a_rerun_installs_nothing():
    assert not runs(PACKAGES, QUERY, **facts(__mail_common_site_read=HOST))
    assert missing(__mail_common_site_read=HOST, __mail_common_dpkg=SKIPPED) == []
    assert not runs(PACKAGES, INSTALL, **facts(__mail_common_site_read=HOST, __mail_common_dpkg=SKIPPED))


def test_within_site_what_the_read_lacks_is_installed_and_counted_for_the_later_roles():
    host = {'stdout': 'bind9 installed\npostfix config-files'}
    extra = {'__mail_common_site_read': host, '__mail_common_dpkg': SKIPPED}
    assert missing(**extra) == ['postfix']
    assert runs(PACKAGES, INSTALL, **facts(**extra))
    assert runs(PACKAGES, COUNT, **facts(**extra))
    # the count step's own value, as Ansible renders it
    counted = template(PACKAGES, COUNT, task(PACKAGES, COUNT)[0]['ansible.builtin.set_fact']
                       ['__mail_common_site_read']['stdout'], **facts(**extra))
    assert counted.splitlines() == ['bind9 installed', 'postfix config-files', 'postfix installed']
    assert missing(__mail_common_site_read={'stdout': counted}, __mail_common_dpkg=SKIPPED) == []
    assert not runs(PACKAGES, COUNT, **facts(ansible_check_mode=True, **extra))


def test_the_count_step_sets_the_fact_site_registered():
    step = task(PACKAGES, COUNT)[0]['ansible.builtin.set_fact']
    assert list(step) == ['__mail_common_site_read']


def test_a_package_counts_as_installed_only_by_its_whole_line():
    # a name that is the start of another package's, or a status that only begins with "installed"
    host = {'stdout': 'postfix-pcre installed\nbind9 installed-not\nxbind9 installed'}
    assert missing(__mail_common_site_read=host, __mail_common_dpkg=SKIPPED) == ['bind9', 'postfix']
    assert missing(__mail_common_site_read={'stdout': 'postfix installed\nbind9 installed'},
                   __mail_common_dpkg=SKIPPED) == []


def test_outside_site_or_on_a_host_site_skipped_the_role_asks_dpkg_itself():
    for before in ({}, {'__mail_common_site_read': SKIPPED}):
        assert runs(PACKAGES, QUERY, **facts(**before))
        own = {'stdout': 'bind9 installed\npostfix deinstall'}
        assert missing(__mail_common_dpkg=own, **before) == ['postfix']
        assert not runs(PACKAGES, COUNT, **facts(__mail_common_dpkg=own, **before))


def test_the_site_read_prints_the_accounts_two_lines_then_the_packages():
    with open(os.path.join(ROOT, 'playbooks', 'site.yml')) as handle:
        first = yaml.safe_load(handle)[0]
    argv = [step for step in first['tasks'] if step.get('name') == SITE_READ][0]['clustered.mail.host_read']['argv']
    lines = subprocess.run(argv[:-1] + ['root'], capture_output=True, text=True, check=True).stdout.splitlines()
    assert lines[0].startswith('root:x:0:') and lines[1].startswith('root:x:0:0:')
    assert 'bash installed' in lines[2:]
    lines = subprocess.run(argv[:-1] + ['clustered-mail-no-such-user'], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    assert lines[:2] == ['', ''] and 'bash installed' in lines[2:]
