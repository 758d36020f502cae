# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host state of the lab containers (every platform), run by verify_host_state.yml.

LAB_TEST_IMAGES maps each container to the image it was started from
(NAME=REPOSITORY:RELEASE ...), as molecule.yml declares it.
"""

import pytest

from clustered_mail_testinfra import env, release

# What lab/setup's debootstrap --include put into each base image.
IMAGE_PACKAGES = ['systemd', 'systemd-sysv', 'python3', 'python3-apt', 'dbus', 'iproute2', 'procps',
                  'ca-certificates', 'sudo', 'gnupg']
# The versions each Debian release ships: a base image built from the wrong suite shows here.
RELEASE_VERSIONS = {12: {'systemd': '252.', 'python3': '3.11.'}, 13: {'systemd': '257.', 'python3': '3.13.'}}
# Units base-fixup.sh masks: they cannot run in a non-privileged container.
MASKED = ['getty@tty1.service', 'console-getty.service', 'systemd-remount-fs.service', 'systemd-udevd.service',
          'systemd-modules-load.service', 'systemd-firstboot.service', 'sys-kernel-debug.mount']


@pytest.fixture
def image_release(hostname):
    images = dict(pair.split('=', 1) for pair in env('LAB_TEST_IMAGES').split())
    return int(images[hostname].rsplit(':', 1)[1])


def test_systemd_is_pid_1(host):
    assert host.file('/proc/1/comm').content_string.strip() == 'systemd'


def test_systemd_is_fully_running_with_no_failed_unit(host):
    state = host.run('systemctl is-system-running').stdout.strip()
    failed = host.check_output('systemctl list-units --failed --no-legend --plain')
    assert (state, failed) == ('running', '')


def test_the_container_runs_the_debian_release_of_its_image(host, image_release):
    assert host.system_info.distribution == 'debian'
    assert release(host) == image_release


def test_the_image_packages_are_installed(host):
    missing = [name for name in IMAGE_PACKAGES if not host.package(name).is_installed]
    assert missing == []


def test_systemd_and_python_are_the_versions_of_that_release(host, image_release):
    for name, version in RELEASE_VERSIONS[image_release].items():
        assert host.package(name).version.startswith(version), (name, host.package(name).version)


def test_apt_uses_that_release_and_installs_no_recommends(host, image_release):
    codename = {12: 'bookworm', 13: 'trixie'}[image_release]
    sources = host.file('/etc/apt/sources.list').content_string.split('\n')
    assert [line.split()[2] for line in sources if line.startswith('deb ')] == [codename, codename + '-updates']
    assert 'APT::Install-Recommends "false";' in host.file('/etc/apt/apt.conf.d/99norecommends').content_string


@pytest.mark.parametrize('unit', MASKED)
def test_units_that_cannot_run_in_a_container_are_masked(host, unit):
    assert host.file('/etc/systemd/system/' + unit).linked_to == '/dev/null'
