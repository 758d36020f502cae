# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.clustered.mail.plugins.filter.files import file_entries, systemd_dropins


def test_a_directory_then_its_dropin_per_unit():
    entries = systemd_dropins(['dovecot.service', 'postfix@.service'], 'store.conf', '[Unit]\n')
    assert [(e['path'], e['state']) for e in entries] == [
        ('/etc/systemd/system/dovecot.service.d', 'directory'),
        ('/etc/systemd/system/dovecot.service.d/store.conf', 'file'),
        ('/etc/systemd/system/postfix@.service.d', 'directory'),
        ('/etc/systemd/system/postfix@.service.d/store.conf', 'file'),
    ]
    assert entries[0]['mode'] == '0755' and entries[1]['mode'] == '0644' and entries[1]['content'] == '[Unit]\n'
    assert {e['owner'] for e in entries} == {'root'}


@pytest.mark.parametrize('name', ['', 'store', '../store.conf'])
def test_the_dropin_name_is_a_plain_conf_file(name):
    with pytest.raises(AnsibleFilterError, match='plain file name ending in .conf'):
        systemd_dropins(['dovecot.service'], name, '')


def test_file_entries_pair_names_with_contents():
    entries = file_entries(['a.py', 'b.py'], '/usr/local/lib/x', ['A\n', 'B'], mode='0600')
    assert entries == [
        {'path': '/usr/local/lib/x/a.py', 'state': 'file', 'content': 'A\n', 'owner': 'root', 'group': 'root', 'mode': '0600'},
        {'path': '/usr/local/lib/x/b.py', 'state': 'file', 'content': 'B', 'owner': 'root', 'group': 'root', 'mode': '0600'},
    ]


def test_file_entries_refuse_a_missing_content_or_a_path():
    with pytest.raises(AnsibleFilterError, match='2 names but 1 contents'):
        file_entries(['a.py', 'b.py'], '/x', ['A'])
    with pytest.raises(AnsibleFilterError, match='not a plain file name'):
        file_entries(['../a.py'], '/x', ['A'])


def test_file_set_differs_names_the_entries_a_read_does_not_show_as_they_must_be():
    import hashlib

    from ansible_collections.clustered.mail.plugins.filter.files import file_set_differs

    entries = [{'path': '/etc/a', 'content': 'a\n', 'owner': 'root', 'group': 'bind', 'mode': '0644'},
               {'path': '/etc/b', 'content': 'b\n', 'mode': '0600'},
               {'path': '/etc/c', 'content': 'c\n'}]
    digest = hashlib.sha256(b'a\n').hexdigest()
    read = ['path /etc/a file root:0 bind:104 644 %s' % digest,
            'path /etc/b file root:0 root:0 644 %s' % hashlib.sha256(b'b\n').hexdigest()]
    # b has another mode, c no line at all
    assert file_set_differs(entries, read) == ['/etc/b', '/etc/c']
    assert file_set_differs(entries[:1], read) == []
