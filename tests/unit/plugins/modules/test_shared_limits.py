# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A module run keeps its rate limits in the machine's shared file, and without a usable temporary directory
keeps its own, saying why in the debug log only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.modules import tencentcloud_sg_binding

KEY, SECRET = 'AKIDlimits000001', 'Limits-Secret-Never-Written'


@pytest.fixture
def cloud(running):
    running.emulator.reset()
    running.emulator.seed({'tencentcloud': {
        'credentials': [{'access_key': KEY, 'secret_key': SECRET}],
        'security_groups': [{'id': 'sg-0000000%d' % n, 'region': 'ap-guangzhou'} for n in (1, 2)],
        'instances': [{'id': 'ins-00000001', 'region': 'ap-guangzhou', 'security_groups': ['sg-00000001']}]}})
    return running


def run(cloud, capsys, monkeypatch):
    notes = []
    monkeypatch.setattr(AnsibleModule, 'debug', lambda self, msg: notes.append(msg))
    params = dict(secret_id=KEY, secret_key=SECRET, region='ap-guangzhou', endpoint=cloud.endpoints['tencentcloud'],
                  instance_ids=['ins-00000001'], security_group_ids=['sg-00000002'], _ansible_check_mode=False, _ansible_diff=False)
    with patch_module_args(params):
        with pytest.raises(SystemExit):
            tencentcloud_sg_binding.main()
    out = capsys.readouterr().out
    assert SECRET not in out
    return json.loads(out), notes


def test_a_run_keeps_its_limits_in_a_private_shared_file_without_any_key(cloud, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))
    result, notes = run(cloud, capsys, monkeypatch)
    assert result['changed'] and notes == []
    folder = tmp_path / ('multicloud.secgroup-limits-%d' % os.getuid())
    files = list(folder.iterdir())
    assert len(files) == 1
    text = files[0].read_text()
    assert 'DescribeInstances' in text and KEY not in text and SECRET not in text


def test_without_a_usable_temporary_directory_the_run_limits_itself_and_says_so_in_the_debug_log(cloud, capsys, monkeypatch, tmp_path):
    blocker = tmp_path / 'not-a-directory'
    blocker.write_text('')
    monkeypatch.setattr(tempfile, 'tempdir', str(blocker))
    result, notes = run(cloud, capsys, monkeypatch)
    assert result['changed'] and 'warnings' not in result
    assert len(notes) == 1 and 'rate limits kept by this process only' in notes[0] and KEY not in notes[0]
