# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The primaries (mail_primaries): the store mount and how the mail units depend on it."""

import pytest

from clustered_mail_testinfra import release, unit_properties

MOUNT_UNIT = 'srv-mail.mount'


def mail_units(host):
    # the units that run the mail daemons on each release, plus Debian 12's postfix.service wrapper
    return (['postfix@-.service'] if release(host) == 12 else []) + ['postfix.service', 'dovecot.service']


def test_the_store_is_mounted_by_its_unit(host, store):
    mount = unit_properties(host, MOUNT_UNIT, 'ActiveState', 'Where')
    assert mount == {'ActiveState': 'active', 'Where': store}
    assert host.mount_point(store).exists


def test_the_store_is_the_shared_volume(host, store):
    same = host.check_output('stat -c %s %s %s', '%d:%i', store, '/lab/store').split()
    assert len(same) == 2 and same[0] == same[1], same


@pytest.mark.parametrize('prop', ['Requires', 'BindsTo', 'After'])
def test_each_mail_unit_requires_is_bound_to_and_comes_after_the_store(host, prop):
    for unit in mail_units(host):
        assert MOUNT_UNIT in unit_properties(host, unit, prop)[prop].split(), '%s %s' % (unit, prop)


def test_each_mail_unit_requires_the_mounts_for_the_store_and_is_active(host, store):
    for unit in mail_units(host):
        props = unit_properties(host, unit, 'RequiresMountsFor', 'ActiveState')
        assert store in props['RequiresMountsFor'].split() and props['ActiveState'] == 'active', unit


# storage_mount's default storage_mount_mail_units: every one gets the drop-in, used on this release or not
@pytest.mark.parametrize('unit', ['postfix.service', 'postfix@.service', 'dovecot.service'])
def test_the_drop_in_that_ties_each_mail_unit_is_root_owned(host, store, unit):
    folder = host.file('/etc/systemd/system/%s.d' % unit)
    assert folder.is_directory and (folder.user, folder.mode) == ('root', 0o755)
    dropins = [host.file('%s/%s' % (folder.path, name)) for name in folder.listdir()]
    assert [(f.user, f.group, f.mode) for f in dropins] == [('root', 'root', 0o644)] * len(dropins)
    text = '\n'.join(f.content_string for f in dropins)
    assert 'RequiresMountsFor=%s\n' % store in text and 'BindsTo=%s\n' % MOUNT_UNIT in text
