# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a role's read scripts and decide its `when:` as Ansible does, without a host.

The roles read a host's state in one step and act only where it differs (a round
trip less per step on every rerun). These helpers load a task from its file with
the vars and conditions of the blocks around it, run a script under bash with
fake commands on PATH, and evaluate the conditions with Ansible's own Templar.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import subprocess

import yaml

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _trusted(value):
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    if isinstance(value, dict):
        return dict((key, _trusted(item)) for key, item in value.items())
    return value


def _find(tasks, name, outer_vars, outer_when):
    for task in tasks:
        when = task.get('when', [])
        when = outer_when + (when if isinstance(when, list) else [when])
        task_vars = dict(outer_vars, **(task.get('vars') or {}))
        if task.get('name') == name:
            return task, task_vars, when
        for key in ('block', 'rescue', 'always'):
            found = _find(task.get(key) or [], name, task_vars, when)
            if found:
                return found
    return None


def task(path, name):
    """The task called `name` in the role file `path` (from the collection root), with the vars and
    the `when` conditions of the blocks around it: (task, vars, [condition, ...])."""
    with open(os.path.join(ROOT, path)) as handle:
        found = _find(yaml.safe_load(handle), name, {}, [])
    assert found, '%s has no task %r' % (path, name)
    return found


def runs(path, name, **facts):
    """Whether the task's conditions (and those of its blocks) all hold, given these variables."""
    _task, task_vars, when = task(path, name)
    variables = dict(_trusted(task_vars), ansible_check_mode=False)
    variables.update(facts)
    templar = Templar(loader=DataLoader(), variables=variables)
    return all(templar.evaluate_conditional(trust_as_template(str(cond))) for cond in when)


def template(path, name, expression, **facts):
    """An expression evaluated with the task's vars (and those of its blocks) and these variables."""
    _task, task_vars, _when = task(path, name)
    variables = dict(_trusted(task_vars), ansible_check_mode=False)
    variables.update(facts)
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(expression))


def fake_commands(tmp_path, scripts):
    """A directory for PATH with one bash script per command (name -> script body)."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    for command, body in scripts.items():
        fake = bin_dir / command
        fake.write_text('#!/bin/bash\n' + body)
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return str(bin_dir)


def run_script(tmp_path, script, args, scripts):
    """Run `script` as its task does (bash -c SCRIPT NAME ARGS...) with the fake commands first on PATH."""
    env = dict(os.environ, PATH=fake_commands(tmp_path, scripts) + ':' + os.environ['PATH'])
    proc = subprocess.run(['/bin/bash', '-c', script, 'script'] + list(args),
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


# A systemctl for is-active/is-enabled: each unit's states from a dict, as `systemctl is-active UNIT` prints one line
# ("inactive" for a unit it does not know) and `systemctl is-enabled UNIT` prints nothing for a missing unit (systemd 252).
def systemctl(units):
    lines = ''.join('  %s) active=%s enabled=%s ;;\n' % (unit, active, enabled) for unit, (active, enabled) in units.items())
    return ('what=$1 unit=$2\n'
            'case "$unit" in\n%s  *) active=inactive enabled= ;;\nesac\n'
            'if [ "$what" = is-active ]; then echo "$active"; [ "$active" = active ]; exit; fi\n'
            'if [ -z "$enabled" ]; then echo "Failed to get unit file state" >&2; exit 1; fi\n'
            'echo "$enabled"; [ "$enabled" = enabled ]\n') % lines


def make_entries(files):
    """Make file_set entries on disk as file_set makes them (directories, files with their content and mode)."""
    for entry in files:
        if entry.get('state') == 'directory':
            os.makedirs(entry['path'], exist_ok=True)
        else:
            with open(entry['path'], 'w') as handle:
                handle.write(entry['content'])
        os.chmod(entry['path'], int(entry['mode'], 8))


def change_by_hand(path, change):
    """Make an installed file unlike what its role wrote, as an operator's edit would: 'content' (a line
    appended), 'mode' (0600), 'missing' (removed) or 'link' (replaced by a symlink to a copy)."""
    if change == 'content':
        with open(path, 'a') as handle:
            handle.write('# edited by hand\n')
    elif change == 'mode':
        os.chmod(path, 0o600)
    elif change == 'missing':
        os.unlink(path)
    elif change == 'link':
        os.rename(path, path + '.real')
        os.symlink(path + '.real', path)
    else:
        raise ValueError(change)
