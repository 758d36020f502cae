# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mail_common's vmail_user, run in check mode against this machine's own accounts.

The group and the user are read in one step (getent); the group and user
modules run only where the host differs from the ids, home and shell asked
for, and in check mode they still say what would change. The account
``daemon`` (uid and gid 1, home /usr/sbin, shell /usr/sbin/nologin on Debian)
stands in for ``vmail``; nothing is changed (--check).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import json
import os
import pwd
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
READ = "clustered.mail.mail_common : Read the mail group and user as the host has them (getent)"
GROUP = "clustered.mail.mail_common : Create the mail group with the cluster's fixed id"
USER = "clustered.mail.mail_common : Create the mail user with the cluster's fixed id"
TASK = re.compile(r'^TASK \[(?P<name>.*)\] \**$')
STATUS = re.compile(r'^(?P<status>ok|changed|skipping|fatal|failed): \[localhost\]')


def daemon_is_as_expected():
    try:
        entry = pwd.getpwnam('daemon')
    except KeyError:
        return False
    return (entry.pw_uid, entry.pw_gid, entry.pw_dir, entry.pw_shell) == (1, 1, '/usr/sbin', '/usr/sbin/nologin')


pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not daemon_is_as_expected(),
                                reason='needs root and a Debian account daemon (1:1, /usr/sbin, nologin)')


def ansible_playbook():
    found = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    return found if os.path.exists(found) else shutil.which('ansible-playbook')


def run(tmp_path, name='daemon', uid=1, gid=1, home='/usr/sbin', times=1, site_read=None):
    """{task name: [status per run of it]} of a --check run that imports vmail_user `times` times
    (with `site_read`: the stdout of site.yml's first-play read of the host, as site registers it)."""
    playbook = tmp_path / 'vmail.yml'
    playbook.write_text('- hosts: localhost\n'
                        '  connection: local\n'
                        '  gather_facts: false\n'
                        '  tasks:\n'
                        + ''.join('    - name: Import vmail_user (%d)\n'
                                  '      ansible.builtin.import_role:\n'
                                  '        name: clustered.mail.mail_common\n'
                                  '        tasks_from: vmail_user\n' % n for n in range(times)))
    env = dict(os.environ,
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, 'build', 'collections'),
               ANSIBLE_ROLES_PATH=os.path.join(ROOT, 'roles'),
               ANSIBLE_NOCOLOR='1', ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    extra = ['-e', '__mail_common_vmail_user=%s' % name, '-e', 'mail_common_vmail_uid=%d' % uid,
             '-e', 'mail_common_vmail_gid=%d' % gid, '-e', 'mail_common_vmail_home=%s' % home,
             '-e', 'ansible_python_interpreter=%s' % sys.executable]
    if site_read is not None:
        extra += ['-e', json.dumps({'__mail_common_site_read': {'stdout': site_read, 'rc': 0}})]
    result = subprocess.run([ansible_playbook(), '-i', 'localhost,', str(playbook), '--check'] + extra,
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    statuses, task = {}, None
    for line in result.stdout.splitlines():
        found = TASK.match(line)
        if found:
            task = found.group('name')
            continue
        found = STATUS.match(line)
        if found and task:
            statuses.setdefault(task, []).append(found.group('status'))
            task = None
    return statuses


def test_an_account_as_asked_for_is_read_and_left_alone(tmp_path):
    got = run(tmp_path)
    assert got[READ] == ['ok']
    assert got[GROUP] == ['skipping']
    assert got[USER] == ['skipping']


def test_another_home_changes_the_user_only(tmp_path):
    got = run(tmp_path, home='/srv/mail')
    assert got[GROUP] == ['skipping']
    assert got[USER] == ['changed']


def test_another_uid_changes_the_user_only(tmp_path):
    got = run(tmp_path, uid=4242)
    assert got[GROUP] == ['skipping']
    assert got[USER] == ['changed']


def test_another_gid_changes_the_group_and_the_user(tmp_path):
    got = run(tmp_path, gid=4242)
    assert got[GROUP] == ['changed']
    # The user module runs too (in check mode the group still has its old id, so it has nothing to say).
    assert got[USER] != ['skipping']


def test_another_shell_changes_the_user(tmp_path):
    # root's shell is a login shell: the mail user's must be nologin.
    entry = pwd.getpwnam('root')
    got = run(tmp_path, name='root', uid=0, gid=0, home=entry.pw_dir)
    assert entry.pw_shell != '/usr/sbin/nologin'
    assert got[GROUP] == ['skipping']
    assert got[USER] == ['changed']


def test_a_missing_account_would_be_created(tmp_path):
    got = run(tmp_path, name='clustered-mail-no-such-user', uid=4242, gid=4242, home='/srv/mail')
    assert got[GROUP] == ['changed']
    assert got[USER] == ['changed']


def test_the_second_import_in_a_run_reads_nothing(tmp_path):
    got = run(tmp_path, home='/srv/mail', times=2)
    assert got[READ] == ['ok', 'skipping']
    assert got[USER] == ['changed', 'skipping']


def site_read(name):
    """What site.yml's first play reads of this machine for the account `name` (its first two lines), then packages."""
    def entry(getter, fields):
        try:
            return ':'.join(str(field) for field in fields(getter(name)))
        except KeyError:
            return ''
    group = entry(grp.getgrnam, lambda g: [g.gr_name, g.gr_passwd, g.gr_gid, ','.join(g.gr_mem)])
    passwd = entry(pwd.getpwnam, lambda p: [p.pw_name, p.pw_passwd, p.pw_uid, p.pw_gid, p.pw_gecos, p.pw_dir,
                                            p.pw_shell])
    return '%s\n%s\npostfix installed\nbind9 installed' % (group, passwd)


def test_within_site_the_first_plays_read_answers_and_nothing_is_read_again(tmp_path):
    got = run(tmp_path, site_read=site_read('daemon'))
    assert got[READ] == ['skipping']
    assert got[GROUP] == ['skipping'] and got[USER] == ['skipping']
    got = run(tmp_path, home='/srv/mail', site_read=site_read('daemon'))
    assert got[READ] == ['skipping'] and got[GROUP] == ['skipping'] and got[USER] == ['changed']


def test_within_site_an_account_the_read_did_not_find_would_be_created(tmp_path):
    got = run(tmp_path, name='clustered-mail-no-such-user', uid=4242, gid=4242, home='/srv/mail',
              site_read=site_read('clustered-mail-no-such-user'))
    assert got[READ] == ['skipping']
    assert got[GROUP] == ['changed'] and got[USER] == ['changed']
