# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The script of clustered.mail.service_check, run as its one task runs it.

One step reads the units and tries the ports and sockets (a round trip less per
role on every run). Here it runs under bash with a fake systemctl on PATH, a
listening and a closed TCP port and a UNIX socket: what it prints is what the
role's fail step reports, which the last tests render as Ansible does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import stat
import subprocess

import yaml

from ansible_collections.clustered.mail.tests.unit.plugins.fake_servers import closed_port
from ansible_collections.clustered.mail.tests.unit.roles.task_files import runs, template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TASKS = os.path.join(ROOT, 'roles', 'service_check', 'tasks', 'main.yml')
FAIL = 'Fail on a unit that is not active, or a port or socket that does not answer'


def script():
    task = yaml.safe_load(open(TASKS))[0]
    return task['vars']['__service_check_script']


def fake_systemctl(tmp_path, states):
    """A systemctl whose is-active prints each unit's state from `states` (a unit -> states
    file of one state per call: the last one stays), as the real one prints one line per unit."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for unit, sequence in states.items():
        (tmp_path / unit).write_text('\n'.join(sequence) + '\n')
    fake = bin_dir / 'systemctl'
    fake.write_text('#!/bin/bash\n'
                    'shift\n'
                    'for unit in "$@"; do\n'
                    '  f=%s/$unit\n'
                    '  head -n 1 "$f"\n'
                    '  if [ "$(wc -l < "$f")" -gt 1 ]; then sed -i 1d "$f"; fi\n'
                    'done\n' % tmp_path)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return str(bin_dir)


def run(tmp_path, states, what, endpoints, timeout=2):
    env = dict(os.environ, PATH=fake_systemctl(tmp_path, states) + ':' + os.environ['PATH'])
    units = ' '.join(states)
    proc = subprocess.run(['/bin/bash', '-c', script(), 'service_check', str(timeout), what, units] + endpoints,
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def listening():
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(8)
    return server


def test_active_units_and_answering_endpoints_print_nothing(tmp_path):
    server = listening()
    path = str(tmp_path / 'milter.sock')
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(path)
    unix.listen(1)
    try:
        out = run(tmp_path, {'named.service': ['active'], 'redis.service': ['active']}, 'all',
                  ['127.0.0.1 %d' % server.getsockname()[1], 'unix ' + path])
    finally:
        server.close()
        unix.close()
    assert out == []


def test_a_dead_unit_and_a_silent_port_and_socket_are_named(tmp_path):
    port = closed_port()
    out = run(tmp_path, {'named.service': ['failed'], 'ssh.service': ['active']}, 'all',
              ['127.0.0.1 %d' % port, 'unix %s' % (tmp_path / 'none.sock')], timeout=1)
    assert out == ['unit named.service failed', 'endpoint 127.0.0.1:%d' % port, 'endpoint %s' % (tmp_path / 'none.sock')]


def test_a_unit_still_starting_is_waited_for(tmp_path):
    out = run(tmp_path, {'nfs-ganesha.service': ['activating', 'active']}, 'all', [], timeout=10)
    assert out == []


def test_a_unit_starting_past_the_timeout_is_reported_as_it_is(tmp_path):
    out = run(tmp_path, {'rspamd.service': ['activating']}, 'all', [], timeout=1)
    assert out == ['unit rspamd.service activating']


def test_check_mode_reads_the_units_only(tmp_path):
    out = run(tmp_path, {'postfix.service': ['inactive']}, 'units', ['127.0.0.1 %d' % closed_port()], timeout=1)
    assert out == ['unit postfix.service inactive']


def problems(stdout_lines, rc=0, check_mode=False):
    facts = {'__service_check': {'stdout_lines': stdout_lines, 'rc': rc, 'stderr': 'bash: oops'},
             'ansible_check_mode': check_mode, 'inventory_hostname': 'mail1', 'service_check_timeout': 30}
    return runs('roles/service_check/tasks/main.yml', FAIL, **facts), template(
        'roles/service_check/tasks/main.yml', FAIL, '{{ __service_check_problems }}', **facts)


def test_the_fail_step_names_every_dead_unit_and_every_silent_endpoint_at_once():
    fails, found = problems(['unit named.service failed', 'unit redis.service activating',
                             'endpoint 127.0.0.1:53', 'endpoint /run/x.sock'])
    assert fails
    assert found == ['named.service on mail1 is failed right after the run started it; see `journalctl -u named.service`'
                     ' on that host',
                     'redis.service on mail1 is activating right after the run started it; see `journalctl -u'
                     ' redis.service` on that host',
                     'nothing answers on 127.0.0.1:53, /run/x.sock on mail1 after 30 s; see the journal of the unit'
                     ' that should listen there']


def test_the_fail_step_passes_when_the_script_printed_nothing():
    assert problems([]) == (False, [])


def test_the_fail_step_reports_the_script_failing_itself():
    assert problems([], rc=2) == (True, ['the service check itself failed on mail1: bash: oops'])


def test_in_check_mode_a_unit_not_yet_started_is_no_failure_but_a_failed_one_is():
    assert problems(['unit postfix.service inactive', 'unit dovecot.service unknown'], check_mode=True) == (False, [])
    fails, found = problems(['unit postfix.service failed'], check_mode=True)
    assert fails and found[0].startswith('postfix.service on mail1 is failed')
    assert problems(['unit postfix.service inactive'])[0]
