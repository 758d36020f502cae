# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether a clustered.mail.file_set would change anything, from a read of the host made earlier in the run.

The roles read a host's state in one step; such a read may also describe
paths, one line each, as the shell `stat -c '%U %G %a'` and `sha256sum` print them:

    path <path> directory <owner>:<uid> <group>:<gid> <mode>
    path <path> file <owner>:<uid> <group>:<gid> <mode> <sha256 of the content>

(as `stat -c '%U:%u %G:%g %a'` prints them; an entry's owner and group match by
name or by id; the mode in octal without a leading zero; a path that does not exist, or is
neither a plain directory nor a plain file, has no line). file_set's action
plugin calls the host only when some entry is not as such a line says it is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib


# The shell function that prints those lines (POSIX sh, GNU stat and sha256sum), for the roles' reads:
# lookup('clustered.mail.file_set_read') returns it; a read defines it and calls `describe_paths PATH...`.
DESCRIBE_PATHS = r"""describe_paths() {
  for path in "$@"; do
    if [ -d "$path" ] && [ ! -L "$path" ]; then
      echo "path $path directory $(stat -c '%U:%u %G:%g %a' "$path")"
    elif [ -f "$path" ] && [ ! -L "$path" ]; then
      echo "path $path file $(stat -c '%U:%u %G:%g %a' "$path") $(sha256sum < "$path" | cut -d ' ' -f 1)"
    fi
  done
}
"""


def _as_read(lines):
    found = {}
    for line in lines or []:
        fields = line.split(' ')
        if len(fields) >= 6 and fields[0] == 'path' and fields[2] in ('directory', 'file'):
            found[fields[1]] = fields[2:]
    return found


def _mode(value):
    try:
        return int(str(value), 8)
    except ValueError:
        return None


def differs(entries, lines):
    """The paths of file_set `entries` that the read `lines` do not show exactly as the entry makes them
    (every path that has no line, and any entry whose mode is not octal digits, counts as differing)."""
    found = _as_read(lines)
    out = []
    for entry in entries:
        path = entry['path']
        kind = entry.get('state') or 'file'
        have = found.get(path)
        expected = have is not None and have[0] == kind
        if expected and kind == 'file':
            content = entry.get('content')
            expected = (content is not None and len(have) == 5
                        and hashlib.sha256(content.encode('utf-8', 'surrogateescape')).hexdigest() == have[4])
        for index, key in ((1, 'owner'), (2, 'group')):
            if expected and entry.get(key) is not None:
                expected = str(entry[key]) in have[index].rsplit(':', 1)
        if expected and entry.get('mode') is not None:
            expected = _mode(entry['mode']) is not None and _mode(entry['mode']) == _mode(have[3])
        if not expected:
            out.append(path)
    return out
