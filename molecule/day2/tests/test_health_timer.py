# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The health timer's unit, user and files on the DNS primary, run by verify_host_state.yml.

Run after the verify plays, so its rounds have run (as the service, started
by hand) and the drain, undrain and move_user playbooks have written state.
"""

import re

import pytest

from clustered_mail_testinfra import env, unit_properties

SERVICE = 'clustered-mail-health.service'
USER = 'clustered-mail-health'
# The model's state_dir (bind_dns_state_dir), passed by verify_host_state.yml
STATE_DIR = env('DAY2_TEST_STATE_DIR')


@pytest.fixture(scope='module')
def props(host):
    return unit_properties(host, SERVICE, 'User', 'Group', 'NoNewPrivileges', 'ProtectSystem', 'ProtectHome',
                           'PrivateTmp', 'PrivateDevices', 'ReadWritePaths', 'CapabilityBoundingSet',
                           'AmbientCapabilities', 'TimeoutStartUSec', 'RestrictAddressFamilies', 'SystemCallFilter')


def test_the_round_runs_as_its_own_user_with_no_capability(props):
    assert (props['User'], props['Group'], props['NoNewPrivileges']) == (USER, USER, 'yes')
    assert (props['CapabilityBoundingSet'], props['AmbientCapabilities']) == ('', '')


def test_the_round_sees_a_read_only_system_but_its_state_directory(props):
    wanted = {'ProtectSystem': 'strict', 'ProtectHome': 'yes', 'PrivateTmp': 'yes', 'PrivateDevices': 'yes',
              'ReadWritePaths': STATE_DIR}
    assert dict((name, props[name]) for name in wanted) == wanted


def test_the_round_is_bounded_in_time_and_in_what_it_may_call(props):
    assert props['TimeoutStartUSec'] not in ('infinity', '0')
    assert 'AF_INET' in props['RestrictAddressFamilies'].split()
    assert props['SystemCallFilter'] != ''


def test_systemd_analyze_rates_its_exposure_low(host):
    # the same unit without the sandbox scores 9.4, UNSAFE
    out = host.check_output('systemd-analyze security --no-pager %s', SERVICE)
    score = float(re.search(r'Overall exposure level for \S+ ([0-9.]+)', out).group(1))
    assert score <= 2.0, [line for line in out.splitlines() if 'Overall' in line or '✗' in line]


def test_the_state_directory_belongs_to_the_health_user(host):
    state = host.file(STATE_DIR)
    assert state.is_directory and (state.user, state.group, state.mode) == (USER, USER, 0o755)


def test_the_counters_were_written_by_the_sandboxed_round(host):
    counters = host.file(STATE_DIR + '/health.json')
    assert counters.is_file and (counters.user, counters.mode) == (USER, 0o644)


@pytest.mark.parametrize('name', ['drained.json', 'homes.json'])
def test_the_state_the_playbooks_wrote_is_world_readable_and_writable_by_its_owner_only(host, name):
    state = host.file('%s/%s' % (STATE_DIR, name))
    assert state.is_file, state.path
    assert state.user in ('root', USER) and state.mode == 0o644, (state.user, oct(state.mode))


def test_its_configuration_is_readable_by_root_and_the_health_group_only(host):
    config = host.file('/etc/clustered-mail/health.json')
    assert (config.user, config.group, config.mode) == ('root', USER, 0o640)


def test_the_script_it_runs_is_root_owned_and_read_only_to_it(host):
    exec_start = unit_properties(host, SERVICE, 'ExecStart')['ExecStart']
    script = host.file(re.search(r'argv\[\]=\S+ (\S+)', exec_start).group(1))
    assert (script.user, script.group, script.mode) == ('root', 'root', 0o644)
