# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What loading the collection's filters costs every task that uses one.

ansible-core resolves a filter of a collection by loading every file of its
plugins/filter directory, in each worker process (a fork of a controller that
has not loaded them). Whatever those files import at load time is paid on every
such task of every host: dnspython (some 40 ms) is imported on first use, by
``_dns_query.dnspython()``, only in the steps that ask or update DNS.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import pytest

FILTERS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))), 'plugins', 'filter')


def loaded_after_every_filter_file():
    """The top-level packages a fresh interpreter has imported after importing every filter file."""
    names = sorted(f[:-3] for f in os.listdir(FILTERS) if f.endswith('.py') and not f.startswith('_'))
    code = ('import sys\n'
            + ''.join('import ansible_collections.clustered.mail.plugins.filter.%s\n' % name for name in names)
            + 'print(" ".join(sorted(set(m.split(".")[0] for m in sys.modules))))\n')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))  # where pytest finds the collection
    out = subprocess.run([sys.executable, '-c', code], check=True, capture_output=True, text=True, env=env).stdout
    return names, out.split()


def test_every_filter_file_loads_without_importing_dnspython():
    pytest.importorskip('dns')  # installed, so only this collection's code could import it
    names, loaded = loaded_after_every_filter_file()
    assert 'cluster' in names and 'membership' in names and 'bind_dns' in names
    assert 'dns' not in loaded


def test_the_dns_steps_still_get_dnspython():
    pytest.importorskip('dns')
    from ansible_collections.clustered.mail.plugins.module_utils._dns_query import HAS_DNSPYTHON, dnspython
    dns = dnspython()
    assert HAS_DNSPYTHON
    assert dns.rdatatype.from_text('MX') == dns.rdatatype.MX
    assert dns.update.UpdateMessage and dns.tsig.Key and dns.zone.Zone
