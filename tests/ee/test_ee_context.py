# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The execution environment's build context, as `lab/run-tests ee` writes it.

ansible-builder create writes build/ee from execution-environment.yml; these
checks read that context (and the collection installed by the build step), so
they fail when the definition, the collection's meta/execution-environment.yml
or the pins drift apart. Building the image itself needs the base image's
registry, which the lab machines cannot reach.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
CONTEXT = os.environ.get('EE_CONTEXT', os.path.join(ROOT, 'build', 'ee'))
INSTALLED = os.environ.get('EE_INSTALLED', os.path.join(ROOT, 'build', 'installed'))


def read(*parts):
    with open(os.path.join(*parts)) as handle:
        return handle.read()


@pytest.fixture(scope='module')
def definition():
    return yaml.safe_load(read(ROOT, 'execution-environment.yml'))


@pytest.fixture(scope='module')
def galaxy():
    return yaml.safe_load(read(ROOT, 'galaxy.yml'))


def test_containerfile_builds_from_the_base_with_the_tested_core(definition):
    containerfile = read(CONTEXT, 'Containerfile')
    assert 'ARG EE_BASE_IMAGE="%s"' % definition['images']['base_image']['name'] in containerfile
    pinned = re.search(r'^ansible-core==(\S+)', read(ROOT, 'requirements-dev.txt'), re.M).group(1)
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"', containerfile, re.M).group(1).split()
    assert 'ansible-core==%s' % pinned in refs, 'the EE must run the ansible-core every scenario is tested with'
    assert 'ansible-runner' in refs
    assert 'introspect' in containerfile  # the collections' own Python needs are read while building


def test_galaxy_requirements_are_the_collection_and_its_dependencies(galaxy):
    wanted = yaml.safe_load(read(CONTEXT, '_build', 'requirements.yml'))['collections']
    by_name = dict((c['name'], c) for c in wanted)
    for name, version in galaxy['dependencies'].items():
        assert by_name[name]['version'] == version, '%s: the EE asks for another version than galaxy.yml' % name
    ours = [c for c in wanted if c.get('type') == 'file']
    assert len(ours) == 1 and ours[0]['name'] == '/build/collections/clustered-mail.tar.gz'
    # the galaxy stage copies _build to /build: the tarball must be in the context
    with tarfile.open(os.path.join(CONTEXT, '_build', 'collections', 'clustered-mail.tar.gz')) as tar:
        manifest = json.load(tar.extractfile('MANIFEST.json'))['collection_info']
        names = tar.getnames()
    assert (manifest['namespace'], manifest['name'], manifest['version']) == ('clustered', 'mail', galaxy['version'])
    assert 'meta/execution-environment.yml' in names and 'meta/ee-requirements.txt' in names


def test_introspection_finds_every_python_package_the_plugins_import():
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-builder'), 'introspect', '--sanitize',
                          INSTALLED], check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    python = yaml.safe_load(out[out.index('---'):])['python']
    found = set(re.split(r'[<>=!~ ]', line, maxsplit=1)[0].lower() for line in python)
    imported = set()
    for folder, _dirs, files in os.walk(os.path.join(ROOT, 'plugins')):
        for name in files:
            if name.endswith('.py') and re.search(r'^\s*import dns\.', read(folder, name), re.M):
                imported.add('dnspython')
    assert imported == {'dnspython'}  # the scan itself still sees the imports
    assert imported <= found, 'meta/ee-requirements.txt misses %s' % sorted(imported - found)
