# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""postfix_master_cf against ansible-core's own replace and blockinfile.

mail_primary and backup_mx used to edit master.cf with one replace and two
blockinfile steps; they now compute the file with this filter and write it in
one step. On a host those steps wrote, the filter must give the same bytes
(else the upgrade restarts Postfix, and the rerun after a cold run would
differ): each case runs the real modules on a file and compares.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError
from ansible.modules import blockinfile, replace

from ansible_collections.clustered.mail.plugins.filter.files import postfix_master_cf

from ansible_collections.clustered.mail.tests.unit.plugins.modules.module_runner import run_module

DEBIAN = (
    '# ==========================================================================\n'
    '# service type  private unpriv  chroot  wakeup  maxproc command + args\n'
    '# ==========================================================================\n'
    'smtp      inet  n       -       y       -       -       smtpd\n'
    '#smtp      inet  n       -       y       -       1       postscreen\n'
    '#smtpd     pass  -       -       y       -       -       smtpd\n'
    'pickup    unix  n       -       y       60      1       pickup\n'
    'cleanup   unix  n       -       y       -       0       cleanup\n'
)
A = '# {mark} clustered.mail.test a'
B = '# {mark} clustered.mail.test b'


def with_modules(path, text, blocks, monkeypatch):
    """What the replace step and then one blockinfile step per block leave in the file."""
    path.write_text(text)
    result = run_module(replace, {'path': str(path), 'regexp': r'^(smtp\s+inet\s.*\ssmtpd)\s*$', 'replace': r'#\1'},
                        monkeypatch)
    assert not result['failed'], result
    for item in blocks:
        result = run_module(blockinfile, {'path': str(path), 'marker': item['marker'], 'block': item['block'],
                                          'state': 'present' if item['block'] else 'absent'}, monkeypatch)
        assert not result['failed'], result
    return path.read_text()


CASES = {
    'fresh Debian file: commented, blocks appended in order': (DEBIAN, [
        {'marker': A, 'block': 'smtpd     pass  -       -       y       -       -       smtpd\n'},
        {'marker': B, 'block': 'submission inet n - y - - smtpd\n  -o syslog_name=postfix/submission'}]),
    'no newline at the end': (DEBIAN.rstrip('\n'), [{'marker': A, 'block': 'x unix - - n - - smtp\n'}]),
    'a block removed': (DEBIAN + '# BEGIN clustered.mail.test a\nold\n# END clustered.mail.test a\ntail\n', [
        {'marker': A, 'block': ''}]),
    'a block replaced in place': (DEBIAN + '# BEGIN clustered.mail.test a\nold\n# END clustered.mail.test a\ntail\n', [
        {'marker': A, 'block': 'new 1\nnew 2\n'}, {'marker': B, 'block': 'b\n'}]),
    'markers in the wrong order': ('x\n# END clustered.mail.test a\nmid\n# BEGIN clustered.mail.test a\ny\n', [
        {'marker': A, 'block': 'a\n'}]),
    'only a begin marker': ('x\n# BEGIN clustered.mail.test a\ny\n', [{'marker': A, 'block': 'a\n'}]),
    'an absent block that is not there': (DEBIAN, [{'marker': A, 'block': ''}]),
    'nothing to comment out': ('#' + DEBIAN.lstrip('#'), [{'marker': A, 'block': 'a'}]),
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_the_filter_writes_what_replace_and_blockinfile_write(case, tmp_path, monkeypatch):
    text, blocks = CASES[case]
    expected = with_modules(tmp_path / 'master.cf', text, blocks, monkeypatch)
    assert postfix_master_cf(text, blocks) == expected


def test_a_written_file_stays_the_same():
    text, blocks = CASES['fresh Debian file: commented, blocks appended in order']
    once = postfix_master_cf(text, blocks)
    assert '\n#smtp      inet  n       -       y       -       -       smtpd\n' in once
    assert postfix_master_cf(once, blocks) == once


def test_a_marker_without_mark_is_refused():
    with pytest.raises(AnsibleFilterError, match='must contain {mark}'):
        postfix_master_cf(DEBIAN, [{'marker': '# clustered.mail', 'block': 'x'}])
