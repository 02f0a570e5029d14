# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 21: module_defaults groups of two clouds in one play, through a real ansible-playbook run against the emulator.

sg_binding and sg_binding_info take the group of the cloud named by `provider` and no other's (before, every
cloud's group reached them and the last one written won: a Tencent Cloud task went to Alibaba Cloud's endpoint);
the task's own options win over the group; group/multicloud.secgroup.all still reaches them; the provider modules
keep their own group.
"""

import json
import os
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

import playbook_runner as pr  # noqa: E402  pylint: disable=wrong-import-position
from emulator import start  # noqa: E402  pylint: disable=wrong-import-position

SECRETS = {'tencentcloud': 'Tc-Defaults-Secret-Never-Shown', 'alicloud': 'Ali-Defaults-Secret-Never-Shown'}
KEY_IDS = {'tencentcloud': 'AKIDdefaults0001', 'alicloud': 'LTAI5tDefaults001'}


@pytest.fixture(scope='module')
def emulator():
    for var in pr.PROXY_VARIABLES:
        os.environ.pop(var, None)
    running = start(dict((name, pr.seed(name, KEY_IDS[name], SECRETS[name], instances=2, groups=3, bound=1)) for name in SECRETS))
    yield running
    running.stop()


def requests_of(running, name):
    import urllib.request
    with urllib.request.urlopen(running.endpoints['admin'] + '/requests?provider=' + name, timeout=10) as resp:  # nosec - loopback
        return json.loads(resp.read().decode('utf-8'))['requests']


def test_each_cloud_s_group_reaches_the_generic_modules_only_for_that_cloud(emulator, tmp_path):
    tc, ali = pr.PROVIDERS['tencentcloud'], pr.PROVIDERS['alicloud']
    # wait_timeout and purge are options of the binding modules only: sg_binding_info leaves them out of the group.
    tc_options = dict(tc['options'](KEY_IDS['tencentcloud'], SECRETS['tencentcloud']), endpoint='{{ tc_endpoint }}', wait_timeout=60,
                      purge=False)
    ali_options = dict(ali['options'](KEY_IDS['alicloud'], SECRETS['alicloud']), endpoint=emulator.endpoints['alicloud'])
    out = str(tmp_path / 'results.json')
    play = {
        'hosts': 'localhost', 'gather_facts': False,
        'vars': {'tc_endpoint': emulator.endpoints['tencentcloud']},
        # Tencent Cloud's group first, Alibaba Cloud's last: the order in which the last group used to win.
        'module_defaults': {'group/multicloud.secgroup.tencentcloud': tc_options,
                            'group/multicloud.secgroup.alicloud': ali_options,
                            'group/multicloud.secgroup.all': {'retry_delay': 0.05, 'retries': 2}},
        'tasks': [
            {'name': 'Tencent Cloud through sg_binding', 'register': 'tc_generic',
             'multicloud.secgroup.sg_binding': {'provider': 'tencentcloud', 'instance_ids': [tc['instance'] % 1],
                                                'security_group_ids': [tc['group'] % 2]}},
            {'name': 'Alibaba Cloud through sg_binding', 'register': 'ali_generic',
             'multicloud.secgroup.sg_binding': {'provider': 'alicloud', 'instance_ids': [ali['instance'] % 1],
                                                'security_group_ids': [ali['group'] % 2]}},
            {'name': 'Tencent Cloud through sg_binding_info', 'register': 'tc_info',
             'multicloud.secgroup.sg_binding_info': {'provider': 'tencentcloud', 'instance_ids': [tc['instance'] % 1]}},
            {'name': 'Tencent Cloud through sg_quarantine_record', 'register': 'tc_record', 'ignore_errors': True,
             'multicloud.secgroup.sg_quarantine_record': {'provider': 'tencentcloud', 'state': 'absent', 'instance_ids': [tc['instance'] % 1]}},
            {'name': 'Tencent Cloud through its own module', 'register': 'tc_own',
             'multicloud.secgroup.tencentcloud_sg_binding': {'instance_ids': [tc['instance'] % 2], 'security_group_ids': [tc['group'] % 3]}},
            {'name': 'The task\'s own region wins over the group', 'register': 'tc_explicit', 'ignore_errors': True,
             'multicloud.secgroup.sg_binding': {'provider': 'tencentcloud', 'region': 'ap-shanghai', 'instance_ids': [tc['instance'] % 1],
                                                'security_group_ids': [tc['group'] % 3]}},
            {'name': 'Keep the results', 'ansible.builtin.copy': {
                'dest': out, 'content': '{{ {"tc_generic": tc_generic, "ali_generic": ali_generic, "tc_info": tc_info, "tc_record": tc_record, '
                                        '"tc_own": tc_own, "tc_explicit": tc_explicit} | to_json }}'}},
        ],
    }
    playbook = tmp_path / 'module_defaults.yml'
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    proc = pr.run('module_defaults_routing', playbook, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(open(out).read())
    for secret in SECRETS.values():
        assert secret not in proc.stdout + proc.stderr + json.dumps(results)
    assert results['tc_generic']['changed'], results['tc_generic']
    assert results['tc_generic']['instances'][0]['after'] == [tc['group'] % 1, tc['group'] % 2]
    assert results['ali_generic']['changed'], results['ali_generic']
    assert results['tc_info']['instances'][0]['security_group_ids'] == [tc['group'] % 1, tc['group'] % 2]
    # sg_quarantine_record takes the group's credentials and endpoint, and none of its binding options (wait_timeout, purge): it
    # reaches the cloud, or refuses a cloud whose tags it cannot write yet, naming the file store.
    record = results['tc_record']
    assert (not record.get('failed') and record['removed'] == []) or 'cannot keep a quarantine record' in record['msg'], record
    assert results['tc_own']['changed'], results['tc_own']
    assert results['tc_explicit']['failed']
    assert 'not found in Tencent Cloud region ap-shanghai' in results['tc_explicit']['msg']
    # Each cloud was asked only by its own tasks, with group/all's retries (no retry needed here, so none made).
    assert {r['action'] for r in requests_of(emulator, 'tencentcloud')} >= {'DescribeInstances', 'AssociateSecurityGroups'}
    assert {r['action'] for r in requests_of(emulator, 'alicloud')} >= {'DescribeInstances'}
