# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cluster model: computed once per site run, not once per role and host.

Each computation of ``hostvars | clustered.mail.cluster_model(groups)`` reads
every host's variables, so one per role and host made each added host cost more
than the one before. site.yml's first play computes it once (run_once: a fact of
every host, __site_cluster_model) after the inventory passed cluster_errors
(__preflight_cluster_errors); the roles take those when they are defined and
compute their own otherwise (a playbook of one's own). Read from the YAML and
decided by Ansible's Templar.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import yaml

from ansible_collections.clustered.mail.tests.unit.roles.task_files import ROOT, task, template

SITE_MODEL = '__site_cluster_model if __site_cluster_model is defined else hostvars | clustered.mail.cluster_model(groups)'
SITE_ERRORS = ('__preflight_cluster_errors if __preflight_cluster_errors is defined'
               ' else hostvars | clustered.mail.cluster_errors(groups)')
MODEL = {'domain': 'example.org'}


def role_files():
    for dirpath, _dirs, files in os.walk(os.path.join(ROOT, 'roles')):
        for name in files:
            if name.endswith('.yml') and os.sep + 'tasks' in dirpath:
                path = os.path.join(dirpath, name)
                with open(path) as handle:
                    yield os.path.relpath(path, ROOT), ' '.join(handle.read().split())


def test_every_role_takes_the_model_and_the_errors_site_computed():
    computations = 0
    for path, text in role_files():
        for call, guarded in (('hostvars | clustered.mail.cluster_model(groups)', SITE_MODEL),
                              ('hostvars | clustered.mail.cluster_errors(groups)', SITE_ERRORS)):
            computations += text.count(call)
            assert text.count(call) == text.count(guarded), '%s computes %s without taking site.yml\'s' % (path, call)
    assert computations >= 10


def test_site_computes_the_model_once_for_every_host_before_the_role_checks():
    with open(os.path.join(ROOT, 'playbooks', 'site.yml')) as handle:
        tasks = yaml.safe_load(handle)[0]['tasks']
    names = [t['name'] for t in tasks]
    step = tasks[names.index('Compute the cluster model once, for every role of this run')]
    assert step['run_once'] is True and step['no_log'] is True
    assert re.sub(r'\s+', ' ', step['ansible.builtin.set_fact']['__site_cluster_model']) == \
        '{{ hostvars | clustered.mail.cluster_model(groups) }}'
    assert step['when'] == '__preflight_cluster_errors | length == 0'
    assert names.index('The inventory describes a valid mail cluster') < names.index(step['name']) \
        < names.index('Run the checks of each role on the hosts that get it')


def test_a_role_given_the_site_model_reads_no_hostvars():
    # No hostvars or groups among the variables: computing the model here would fail.
    derive, _vars, _when = task('roles/mail_primary/tasks/validate.yml', 'Derive the cluster model')
    for path, name, expression in (
            ('roles/mail_primary/tasks/validate.yml', 'Derive the cluster model',
             derive['ansible.builtin.set_fact']['__mail_primary_model']),
            ('roles/storage_mount/tasks/validate.yml', 'Derive the store, its unit and its source from the cluster model',
             '{{ __storage_mount_model }}'),
            ('roles/cluster_ca/tasks/main.yml', "Issue the host's key and certificate (on the controller)",
             '{{ __cluster_ca_model }}')):
        found = template(path, name, expression, __site_cluster_model=MODEL)
        assert found['domain'] == 'example.org', path
    assert template('roles/mail_filter/tasks/validate.yml', 'The inventory describes a valid mail cluster',
                    '{{ __mail_filter_errors }}', __preflight_cluster_errors=[]) == []
