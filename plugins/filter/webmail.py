# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter exposing the webmail settings derived from the cluster model.

A thin wrapper: the logic lives in plugins/module_utils/_webmail.py.
Documentation is in the sidecar webmail_config.yml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.clustered.mail.plugins.module_utils._webmail import (
    WebmailError, webmail_config as _webmail_config,
)


def webmail_config(model, host, product_name=None):
    try:
        return _webmail_config(model, host, product_name)
    except WebmailError as exc:
        raise AnsibleFilterError('webmail_config: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {
            'webmail_config': webmail_config,
        }
