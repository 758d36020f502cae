# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's metadata agrees with itself and with the code.

- every role's ``min_ansible_version`` is the lower bound of ``requires_ansible``;
- ``galaxy.yml`` depends on exactly the collections the roles, playbooks and
  plugins call (by FQCN or import), and the README names each of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
OWN = {'ansible.builtin', 'clustered.mail'}
# A module key, a filter, a lookup or a role given by FQCN in YAML; an import in Python.
# A collection namespace starts with a letter; a variable such as __model.dkim.signing in an assert list is not one.
YAML_FQCN = re.compile(r'(?:^\s*-?\s*|\|\s*|lookup\(\s*[\'"]|name:\s*)([a-z][a-z0-9_]*\.[a-z0-9_]+)\.[a-z0-9_]+\b', re.M)
PY_IMPORT = re.compile(r'ansible_collections\.([a-z0-9_]+)\.([a-z0-9_]+)\.')


def load(path):
    with open(os.path.join(ROOT, path)) as handle:
        return yaml.safe_load(handle)


def used_collections():
    used = set()
    for path in glob.glob(os.path.join(ROOT, 'roles', '**', '*.yml'), recursive=True) \
            + glob.glob(os.path.join(ROOT, 'playbooks', '**', '*.yml'), recursive=True):
        with open(path) as handle:
            used.update(YAML_FQCN.findall(handle.read()))
    for path in glob.glob(os.path.join(ROOT, 'plugins', '**', '*.py'), recursive=True):
        with open(path) as handle:
            used.update('%s.%s' % m for m in PY_IMPORT.findall(handle.read()))
    return used - OWN


def test_min_ansible_version_is_the_lower_bound_of_requires_ansible():
    required = load('meta/runtime.yml')['requires_ansible']
    lower = re.search(r'>=\s*(\d+)\.(\d+)', required)
    assert lower, required
    lower = '%s.%s' % lower.groups()
    metas = glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'main.yml'))
    assert len(metas) >= 8
    wrong = {}
    for path in metas:
        version = str(load(path)['galaxy_info'].get('min_ansible_version'))
        if version != lower:
            wrong[os.path.relpath(path, ROOT)] = version
    assert not wrong, 'min_ansible_version must be %s (requires_ansible %s): %s' % (lower, required, wrong)


def test_galaxy_dependencies_are_exactly_the_collections_used():
    declared = set((load('galaxy.yml').get('dependencies') or {}).keys())
    used = used_collections()
    assert 'community.crypto' in used  # the scan works: cluster_ca calls it
    assert declared == used, 'galaxy.yml dependencies %s, but the code uses %s' % (sorted(declared), sorted(used))


def test_readme_names_each_dependency():
    with open(os.path.join(ROOT, 'README.md')) as handle:
        readme = handle.read()
    for name in (load('galaxy.yml').get('dependencies') or {}):
        assert '`%s`' % name in readme, 'README.md does not name the dependency %s' % name
