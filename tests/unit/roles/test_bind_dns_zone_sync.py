# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""bind_dns: a rerun with every zone as named serves it freezes nothing.

zones.yml reads the zone files once with named's journal synced into them
(rndc sync: named goes on taking updates) and writes nothing in that pass; only
when a zone differs are the files frozen, read again and replaced, then thawed.
A check run, or one where named does not run, reads and writes in one pass and
freezes nothing, as before. The read script runs here with a fake rndc; the
conditions are decided by Ansible's Templar.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.clustered.mail.plugins.filter.files import file_set_differs
from ansible_collections.clustered.mail.plugins.lookup.file_set_read import LookupModule
from ansible_collections.clustered.mail.tests.unit.roles.task_files import ROOT, run_script, runs, task, template

ZONES = 'roles/bind_dns/tasks/zones.yml'
ZONE_FILES = 'roles/bind_dns/tasks/zone_files.yml'
FIRST = "Read the zone files (named's updates synced into them while it runs) and render those that differ"
DECIDE = 'Decide whether a zone file must be replaced while named runs'
REPLACE = 'Write the zone files (frozen while they are read again and replaced)'
THAW = 'Thaw the zones (named reloads the files and takes updates again)'
READ = 'Read the installed zone files (a new zone has none yet), the zones synced or frozen first when named runs'
WRITE = 'Write those zone files, each checked by named-checkzone before it replaces the old one'


def named_running(lines):
    with open(os.path.join(ROOT, 'roles', 'bind_dns', 'vars', 'main.yml')) as handle:
        expression = yaml.safe_load(handle)['__bind_dns_named_running']
    return template(ZONES, DECIDE, expression, __bind_dns_named_state={'stdout_lines': lines})


def first_pass(running, check_mode):
    facts = {'__bind_dns_named_running': running, 'ansible_check_mode': check_mode}
    return (template(ZONES, FIRST, '{{ __bind_dns_read_mode }}', **facts),
            template(ZONES, FIRST, '{{ __bind_dns_write | bool }}', **facts))


def test_named_counts_as_running_when_the_state_read_says_so():
    assert named_running(['unit named active enabled', 'running']) is True
    assert named_running(['unit named inactive enabled']) is False


@pytest.mark.parametrize('running, check_mode, expected', [
    (True, False, ('sync', False)),  # a real run: read synced, write nothing in this pass
    (False, False, ('read', True)),  # named not running: nothing to freeze, write now
    (True, True, ('read', True)),  # check mode: neither sync nor freeze (no change to the host), report here
])
def test_the_first_pass_syncs_and_only_reads_while_named_runs(running, check_mode, expected):
    assert first_pass(running, check_mode) == expected


ZONE = {'path': '/var/lib/bind/db.example.com', 'content': '$ORIGIN example.com.\n', 'owner': 'root', 'group': 'bind',
        'mode': '0644'}
def read_as(entry):
    """The zone read's lines for a file exactly as `entry` makes it."""
    import hashlib
    return ['path %s file root:0 bind:104 644 %s' % (entry['path'], hashlib.sha256(entry['content'].encode()).hexdigest())]


@pytest.mark.parametrize('running, check_mode, files, read, replace', [
    (True, False, [], [], False),  # no zone rendered
    (True, False, [ZONE], read_as(ZONE), False),  # every zone as named serves it: no freeze, no thaw
    (True, False, [ZONE], read_as(dict(ZONE, content='$ORIGIN example.com.\n; by hand\n')), True),
    (True, False, [ZONE], [], True),  # a new zone: no file yet
    (False, False, [ZONE], [], False),  # written by the first pass
    (True, True, [ZONE], [], False),
])
def test_only_a_zone_that_differs_while_named_runs_is_frozen_replaced_and_thawed(running, check_mode, files, read,
                                                                                  replace):
    facts = {'__bind_dns_named_running': running, 'ansible_check_mode': check_mode, '__bind_dns_zone_files': files,
             '__bind_dns_zone_read': {'stdout_lines': read}}
    # the step's own expression, its filter called as the function it is (the unit tests load no collection)
    expression = task(ZONES, DECIDE)[0]['ansible.builtin.set_fact']['__bind_dns_replace_zones']
    call = '__bind_dns_zone_files | clustered.mail.file_set_differs(__bind_dns_zone_read.stdout_lines)'
    assert call in expression
    expression = expression.replace(call, 'differs(__bind_dns_zone_files, __bind_dns_zone_read.stdout_lines)')
    assert template(ZONES, DECIDE, expression, differs=file_set_differs, **facts) is replace
    # the thaw belongs to the replacement: it runs exactly when the freeze may have
    assert runs(ZONES, REPLACE, __bind_dns_replace_zones=replace) is replace
    assert runs(ZONES, THAW, __bind_dns_replace_zones=replace) is replace
    assert task(ZONES, REPLACE)[1]['__bind_dns_read_mode'] == 'freeze'


def test_the_write_step_writes_only_in_the_pass_told_to():
    files = {'__bind_dns_zone_files': [ZONE]}
    assert not runs(ZONE_FILES, WRITE, __bind_dns_write=False, **files)
    assert runs(ZONE_FILES, WRITE, __bind_dns_write=True, **files)
    assert not runs(ZONE_FILES, WRITE, __bind_dns_write=True, __bind_dns_zone_files=[])


@pytest.mark.parametrize('mode, rndc_calls', [('sync', ['sync']), ('freeze', ['freeze']), ('read', [])])
def test_the_read_asks_named_to_sync_or_freeze_as_told_and_waits_for_the_journal(tmp_path, mode, rndc_calls):
    zones = tmp_path / 'zones'
    zones.mkdir()
    (zones / 'db.example.com').write_text('$ORIGIN example.com.\n')
    # a journal newer than its zone file: named writes the file after rndc returns (here: rndc writes it)
    (zones / 'db.example.com.jnl').write_text('journal')
    os.utime(str(zones / 'db.example.com'), (1, 1))
    log = tmp_path / 'rndc.log'
    rndc = 'echo "$*" >> %s\ntouch %s\n' % (log, zones / 'db.example.com')
    script = task(ZONE_FILES, READ)[1]['__bind_dns_read_script'].replace(
        "{{ lookup('clustered.mail.file_set_read') }}", LookupModule().run([])[0])
    lines = run_script(tmp_path, script, [mode, str(zones), 'example.com', 'example.org'], {'rndc': rndc})
    assert (log.read_text().split() if log.exists() else []) == rndc_calls
    assert lines[0].startswith('example.com ') and lines[0] != 'example.com -'
    assert lines[1] == 'example.org -'
