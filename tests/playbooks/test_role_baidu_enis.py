# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sg_bindings role with a Baidu AI Cloud entry of network_interface_ids, run by ansible-playbook against the emulator."""

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import playbook_runner as pr  # noqa: E402  pylint: disable=wrong-import-position
from test_roles_and_playbooks import KEY_IDS, SECRETS, assert_no_warning, emulator, run  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

ENIS = ['eni-role%04d' % n for n in range(1, 4)]


def test_sg_bindings_binds_baidu_enis_in_one_call_per_eni_and_reports_them(emulator, tmp_path):  # pylint: disable=redefined-outer-name
    section = pr.seed('baiducloud', KEY_IDS['baiducloud'], SECRETS['baiducloud'], instances=1, groups=3, bound=1)
    for group in section['security_groups']:
        group['vpc_id'] = 'vpc-role0001'
    section['network_interfaces'] = [{'id': eni, 'vpc_id': 'vpc-role0001', 'security_groups': ['g-00000001']} for eni in ENIS]
    emulator.emulator.reset()
    emulator.emulator.seed({'baiducloud': section})
    entries = [{'provider': 'baiducloud', 'region': 'bj', 'network_interface_ids': ENIS, 'security_group_ids': ['g-00000002']}]
    playbook = tmp_path / 'enis.yml'
    playbook.write_text('''---
- name: Baidu ENIs through the role
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Bind one group on three ENIs
      ansible.builtin.include_role:
        name: multicloud.secgroup.sg_bindings
      vars:
        sg_bindings_entries: %s
        sg_bindings_options: %s
''' % (json.dumps(entries), json.dumps({'baiducloud': {'endpoint': emulator.endpoints['baiducloud'], 'retry_delay': 0.05}})))
    dummy, out = run('role-baidu-enis', tmp_path, playbook, None, [])
    assert_no_warning(out)
    state = dict((e['id'], e['security_groups']) for e in emulator.emulator.state()['baiducloud']['network_interfaces'])
    assert [state[eni] for eni in ENIS] == [['g-00000001', 'g-00000002']] * 3
    updates = [e for e in emulator.emulator.requests('baiducloud') if e['action'] == 'UpdateEniSecurityGroups']
    assert len(updates) == 3 and "'changed': 3" in out.replace('"', "'")
