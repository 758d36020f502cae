#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cluster_state_info
short_description: Read the day-2 state kept on the DNS primary, the drained primaries and the moved homes
version_added: 0.2.0
description:
  - Reads the state that the day-2 playbooks and the health timer keep on the DNS primary, in O(state_dir)
    (C(bind_dns_state_dir)), and returns it as the roles and playbooks need it, so C(site) honours it and C(verify)
    and C(move_user) know it.
  - C(drained.json) lists the primaries out of DNS rotation (RV(drained)) and which of them the health round drained
    (RV(by_health)); C(clustered.mail.dns_membership) writes it (the drain, undrain and health playbooks, the health
    timer).
  - C(homes.json) maps the users moved by C(clustered.mail.move_user) to their new home (RV(homes)).
  - A file that does not exist is empty state (no primary drained, no user moved). A file that exists but is not
    what its writer writes (not JSON, or of the wrong shape) fails the module with a message naming the file and the
    fix; the state is never guessed.
  - Run it on the DNS primary (C(delegate_to) the model's C(dns_primary)). It changes nothing.
  - Its action plugin reads the files with one shell command (as M(clustered.mail.host_read) does, each file in
    base64) and checks them on the controller with this module's own code, so no Python module is sent or started
    for a read that every C(site) run makes; the results and the errors are the same.
author:
  - clustered.mail contributors (@clustered-mail)
extends_documentation_fragment:
  - clustered.mail.attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads files; it runs the same in check mode, so a check run sees the kept state.
  diff_mode:
    support: none
    details:
      - The module does not change anything, so there is nothing to diff.
options:
  state_dir:
    description:
      - The state directory on the host the module runs on, the cluster model's C(state_dir)
        (C(hostvars | clustered.mail.cluster_model(groups)), from C(bind_dns_state_dir)).
    type: path
    default: /var/lib/clustered-mail
seealso:
  - module: clustered.mail.dns_membership
"""

EXAMPLES = r"""
- name: Read the drained primaries and the moved homes on the DNS primary
  clustered.mail.cluster_state_info:
    state_dir: "{{ __model.state_dir }}"
  delegate_to: "{{ __model.dns_primary }}"
  run_once: true
  register: __state
  vars:
    __model: "{{ hostvars | clustered.mail.cluster_model(groups) | clustered.mail.public_model }}"

- name: Apply them to the model
  ansible.builtin.set_fact:
    __placed: >-
      {{ hostvars | clustered.mail.cluster_model(groups) | clustered.mail.mail_homes(__state.homes)
         | clustered.mail.rotation_model(__state.drained) | clustered.mail.public_model }}
"""

RETURN = r"""
state_dir:
  description: The directory read.
  returned: success
  type: str
  sample: /var/lib/clustered-mail
drained:
  description: The primaries out of rotation (inventory names), from C(drained.json); empty when it does not exist.
  returned: success
  type: list
  elements: str
  sample: [mail2]
by_health:
  description: Those of RV(drained) that the health round drained (it undrains only these).
  returned: success
  type: list
  elements: str
  sample: []
homes:
  description:
    - The users moved by C(clustered.mail.move_user), address (lower case) to inventory name of the new home, from
      C(homes.json); empty when it does not exist.
  returned: success
  type: dict
  sample: {alice@example.com: mail2}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clustered.mail.plugins.module_utils._membership import (
    STATE_INFO_ARGUMENT_SPEC, MembershipError, read_state,
)


def main():
    module = AnsibleModule(argument_spec=STATE_INFO_ARGUMENT_SPEC, supports_check_mode=True)
    state_dir = module.params['state_dir']
    try:
        state = read_state(state_dir)
    except MembershipError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, state_dir=state_dir, **state)


if __name__ == '__main__':
    main()
