# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""bind_dns on a rerun: one read on the DNS primary, the steps after it only where something differs.

zones.yml's one step asks named's state and the frozen zones, and also systemd's
state of named and of the health timer and the health round's user and group:
service.yml and health_timer.yml start, enable and create only what is not yet
as it must be. The script runs here under bash with fake systemctl, getent and
rndc; the conditions are decided by Ansible's Templar on what it prints.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os

import pytest

from ansible_collections.clustered.mail.tests.unit.roles.task_files import change_by_hand, make_entries, run_script, runs, systemctl, task, template

ZONES = 'roles/bind_dns/tasks/zones.yml'
SERVICE = 'roles/bind_dns/tasks/service.yml'
HEALTH = 'roles/bind_dns/tasks/health_timer.yml'
READ = 'Ask whether named is running, and which zones an interrupted run left frozen'
TIMER = 'clustered-mail-health.timer'
USER = 'clustered-mail-health'
START_NAMED = 'Start named and enable it at boot'
GROUP = "Create the health round's system group"
MAKE_USER = "Create the health round's system user (no login, no home)"
START_TIMER = 'Start the health timer and enable it at boot'
INSTALL = "Install the health round's state directory, its code and its units"


def fakes(units, group=None, passwd=None, running=True, frozen=()):
    """systemctl, getent and rndc as on a host with these units, health user and group, and named."""
    return {
        'systemctl': systemctl(units),
        'getent': ('case "$1 $2" in\n'
                   '  "group %s") %s ;;\n'
                   '  "passwd %s") %s ;;\n'
                   '  *) exit 2 ;;\nesac\n') % (USER, 'echo "%s"' % group if group else 'exit 2',
                                               USER, 'echo "%s"' % passwd if passwd else 'exit 2'),
        'rndc': ('[ "$1" = status ] && exit %d\n' % (0 if running else 1)
                 + 'case "$2" in\n%s  *) echo "frozen: no" ;;\nesac\n'
                 % ''.join('  %s) echo "frozen: yes" ;;\n' % zone for zone in frozen)),
    }


def read(tmp_path, paths=(), **host):
    script = task(ZONES, READ)[1]['__bind_dns_named_state_script']
    args = ['named', TIMER, USER] + list(paths) + ['--', 'example.com', '0.30.172.in-addr.arpa']
    return run_script(tmp_path, script, args, fakes(**host))


CONVERGED = dict(units={'named': ('active', 'enabled'), TIMER: ('active', 'enabled')},
                 group='%s:x:995:' % USER, passwd='%s:x:995:995::/nonexistent:/usr/sbin/nologin' % USER)


def facts(lines, units_changed=False, **extra):
    return dict({'__bind_dns_named_state': {'stdout_lines': lines}, '__bind_dns_service': 'named',
                 '__bind_dns_health_units': {'changed': units_changed}, 'bind_dns_health_timer': True}, **extra)


def test_the_read_prints_units_user_group_and_frozen_zones(tmp_path):
    assert read(tmp_path, frozen=['example.com'], **CONVERGED) == [
        'unit named active enabled', 'unit %s active enabled' % TIMER,
        'group 995', 'user 995 /nonexistent /usr/sbin/nologin', 'running', 'frozen example.com']


def test_the_read_of_a_new_host_names_nothing_it_lacks(tmp_path):
    assert read(tmp_path, units={}, running=False) == ['unit named inactive ', 'unit %s inactive ' % TIMER]


def test_a_file_others_may_not_read_is_described_without_its_sha256(tmp_path):
    secret = tmp_path / 'health.json'
    secret.write_text('{"key_secret": "s3cret"}\n')
    secret.chmod(0o640)
    lines = read(tmp_path, paths=[str(secret)], **CONVERGED)
    assert 'path %s file root root 640' % secret in lines


def test_a_converged_primary_skips_every_step_the_read_answers(tmp_path):
    lines = read(tmp_path, **CONVERGED)
    for path, name in [(SERVICE, START_NAMED), (HEALTH, GROUP), (HEALTH, MAKE_USER), (HEALTH, START_TIMER)]:
        assert not runs(path, name, **facts(lines)), name


@pytest.mark.parametrize('units', [{'named': ('inactive', 'enabled')}, {'named': ('active', 'disabled')}])
def test_named_stopped_or_disabled_is_started_and_enabled(tmp_path, units):
    lines = read(tmp_path, **dict(CONVERGED, units=dict(CONVERGED['units'], **units)))
    assert runs(SERVICE, START_NAMED, **facts(lines))
    assert not runs(HEALTH, START_TIMER, **facts(lines))


def test_a_secondary_or_a_run_without_the_read_starts_named():
    assert runs(SERVICE, START_NAMED, __bind_dns_service='named')


@pytest.mark.parametrize('timer', [('inactive', 'enabled'), ('active', 'disabled'), ('inactive', '')])
def test_a_stopped_disabled_or_missing_timer_is_started(tmp_path, timer):
    lines = read(tmp_path, **dict(CONVERGED, units=dict(CONVERGED['units'], **{TIMER: timer})))
    assert runs(HEALTH, START_TIMER, **facts(lines))


def test_new_timer_units_reload_and_start_the_timer(tmp_path):
    assert runs(HEALTH, START_TIMER, **facts(read(tmp_path, **CONVERGED), units_changed=True))


def test_check_mode_on_a_new_host_does_not_start_a_timer_not_yet_installed(tmp_path):
    lines = read(tmp_path, units={}, running=False)
    assert not runs(HEALTH, START_TIMER, ansible_check_mode=True, **facts(lines, units_changed=True))


def test_a_missing_group_and_user_are_created(tmp_path):
    lines = read(tmp_path, **dict(CONVERGED, group=None, passwd=None))
    assert runs(HEALTH, GROUP, **facts(lines))
    assert runs(HEALTH, MAKE_USER, **facts(lines))


@pytest.mark.parametrize('passwd', [
    None,
    '%s:x:995:100::/nonexistent:/usr/sbin/nologin' % USER,  # another primary group
    '%s:x:995:995::/home/health:/usr/sbin/nologin' % USER,  # a home
    '%s:x:995:995::/nonexistent:/bin/bash' % USER,  # a login shell
])
def test_a_user_unlike_the_role_s_is_set_right(tmp_path, passwd):
    lines = read(tmp_path, **dict(CONVERGED, passwd=passwd))
    assert not runs(HEALTH, GROUP, **facts(lines))
    assert runs(HEALTH, MAKE_USER, **facts(lines))


def test_without_the_read_every_step_runs():
    bare = {'__bind_dns_service': 'named', '__bind_dns_health_units': {'changed': False}, 'bind_dns_health_timer': True}
    for name in (GROUP, MAKE_USER, START_TIMER):
        assert runs(HEALTH, name, **bare), name


def health_files(tmp_path):
    """A state directory, a code directory with a module, and a unit, as health_timer.yml lists them."""
    user, group = os.popen('id -un').read().strip(), os.popen('id -gn').read().strip()
    lib = tmp_path / 'lib'
    return str(lib), [
        {'path': str(tmp_path / 'state'), 'state': 'directory', 'owner': user, 'group': group, 'mode': '0755'},
        {'path': str(lib / 'code'), 'state': 'directory', 'owner': user, 'group': group, 'mode': '0755'},
        {'path': str(lib / 'code' / '_cluster.py'), 'content': 'STATE_DIR = 1\n', 'owner': user, 'group': group,
         'mode': '0644'},
        {'path': str(tmp_path / 'clustered-mail-health.timer'), 'content': '[Timer]\nOnCalendar=minutely\n',
         'owner': user, 'group': group, 'mode': '0644'},
    ]



def health_read(tmp_path, lib, files):
    # As zones.yml passes them: the state directory, the library with all below it (a trailing /), a unit.
    return read(tmp_path, paths=[files[0]['path'], lib + '/', files[3]['path']], **CONVERGED)


def test_the_read_describes_the_health_files_and_all_below_the_library(tmp_path):
    lib, files = health_files(tmp_path)
    make_entries(files)
    lines = [line for line in health_read(tmp_path, lib, files) if line.startswith('path ')]
    owner = '%s %s' % (files[0]['owner'], files[0]['group'])
    assert lines == [
        'path %s directory %s 755' % (files[0]['path'], owner),
        'path %s directory %s 755' % (lib, owner),
        'path %s directory %s 755' % (files[1]['path'], owner),
        'path %s file %s 644 %s' % (files[2]['path'], owner, hashlib.sha256(b'STATE_DIR = 1\n').hexdigest()),
        'path %s file %s 644 %s' % (files[3]['path'], owner, hashlib.sha256(b'[Timer]\nOnCalendar=minutely\n').hexdigest()),
    ]


def test_health_files_as_they_must_be_are_not_written_again(tmp_path):
    lib, files = health_files(tmp_path)
    make_entries(files)
    lines = health_read(tmp_path, lib, files)
    assert not runs(HEALTH, INSTALL, **facts(lines, __bind_dns_health_files=files))


@pytest.mark.parametrize('change', ['content', 'mode', 'missing', 'state directory'])
def test_a_health_file_unlike_the_role_s_is_written(tmp_path, change):
    lib, files = health_files(tmp_path)
    make_entries(files)
    if change == 'state directory':
        os.chmod(files[0]['path'], 0o700)
    else:
        change_by_hand(files[3 if change == 'missing' else 2]['path'], change)
    lines = health_read(tmp_path, lib, files)
    assert runs(HEALTH, INSTALL, **facts(lines, __bind_dns_health_files=files))


def test_without_the_read_the_health_files_are_written():
    assert runs(HEALTH, INSTALL, __bind_dns_health_files=[], bind_dns_health_timer=True)


REMOVE = ['Look for the health timer', 'Stop and disable the health timer', "Remove the health timer's files",
          'Look for the state directory', 'Give the state directory back to root',
          "Remove the health round's system user and group", "Remove the health round's system group"]
TIMER_UNIT = '/etc/systemd/system/clustered-mail-health.timer'
STATE_DIR = '/var/lib/clustered-mail'


def off(lines, **extra):
    return facts(lines, bind_dns_health_timer=False, __bind_dns_health_lib='/usr/local/lib/clustered-mail',
                 __bind_dns_model={'state_dir': STATE_DIR}, **extra)


def leftovers(lines):
    files = "Remove the health timer's files"
    return template(HEALTH, files, task(HEALTH, files)[0]['loop'], **off(lines))


def test_with_the_timer_off_a_clean_primary_skips_every_removal_step():
    lines = ['unit named active enabled', 'unit %s inactive ' % TIMER, 'path %s directory root root 755' % STATE_DIR,
             'running']
    assert [name for name in REMOVE if runs(HEALTH, name, **off(lines))] == [name for name in REMOVE if 'files' in name]
    assert leftovers(lines) == []


def test_with_the_timer_off_what_is_left_is_removed_and_only_that():
    lines = ['unit %s active enabled' % TIMER, 'group 995', 'user 995 /nonexistent /usr/sbin/nologin',
             'path %s directory clustered-mail-health clustered-mail-health 755' % STATE_DIR,
             'path %s file root root 644 abc' % TIMER_UNIT, 'path /etc/clustered-mail/health.json file root 995 640']
    assert [name for name in REMOVE if runs(HEALTH, name, **off(lines))] == [name for name in REMOVE if 'Look' not in name]
    assert leftovers(lines) == [TIMER_UNIT, '/etc/clustered-mail/health.json']


def test_with_the_timer_off_and_no_read_every_removal_step_runs():
    bare = {'bind_dns_health_timer': False, '__bind_dns_health_lib': '/usr/local/lib/clustered-mail',
            '__bind_dns_health_timer_unit': {'stat': {'exists': True}}, '__bind_dns_state_dir_stat': {'stat': {'exists': True}}}
    assert [name for name in REMOVE if runs(HEALTH, name, **bare)] == REMOVE
    assert len(template(HEALTH, "Remove the health timer's files", task(HEALTH, "Remove the health timer's files")[0]['loop'],
                        **bare)) == 4


CONFIG = 'roles/bind_dns/tasks/config.yml'
WRITE_CONF = 'Write named.conf, checked by named-checkconf before it replaces the old one'
CONF_TEXT = 'include "/etc/bind/clustered-mail-tsig.key";\noptions { recursion no; };\n'


def conf_facts(line):
    return dict(facts(['unit named active enabled', line, 'running']), __bind_dns_conf='/etc/bind/named.conf',
                __bind_dns_conf_text=CONF_TEXT)


def test_named_conf_as_it_must_be_is_not_written_again():
    line = 'path /etc/bind/named.conf file root bind 644 ' + hashlib.sha256(CONF_TEXT.encode()).hexdigest()
    assert not runs(CONFIG, WRITE_CONF, **conf_facts(line))


@pytest.mark.parametrize('line', [
    'path /etc/bind/named.conf file root bind 644 ' + hashlib.sha256(b'options { };\n').hexdigest(),  # other content
    'path /etc/bind/named.conf file root root 644 ' + hashlib.sha256(CONF_TEXT.encode()).hexdigest(),  # other group
    'path /etc/bind/named.conf file root bind 664 ' + hashlib.sha256(CONF_TEXT.encode()).hexdigest(),  # other mode
    'frozen example.com',  # no named.conf
])
def test_named_conf_unlike_the_role_s_is_written(line):
    assert runs(CONFIG, WRITE_CONF, **conf_facts(line))


def test_a_secondary_always_writes_named_conf():
    assert runs(CONFIG, WRITE_CONF, __bind_dns_conf='/etc/bind/named.conf', __bind_dns_conf_text=CONF_TEXT)
