# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Network failures on every provider module. Answers cut off after the headers (the emulator's truncate fault: the request is processed, then the body
stops short of its Content-Length and the connection closes), on every provider module: a write cut off this
way may have been applied, so it is read back and reported as applied, never re-sent blindly (a Baidu batch is
re-sent with its clientToken); a read cut off this way is retried."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import time

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.modules import (alicloud_sg_binding, baiducloud_sg_binding, tencentcloud_sg_binding,
                                                                     zenlayer_sg_binding)

SECRET = 'Cut-Off-Secret-Never-Shown'
ZL = ['70000000000000000%d' % n for n in range(1, 4)], ['80000000000000000%d' % n for n in range(1, 3)]
FAST = {'retry_delay': 0.01, 'retry_max_delay': 0.05}

# Per cloud: module, seed, credentials, instances, groups (the first bound), and the write and read actions.
CLOUDS = {
    'tencentcloud': dict(
        main=tencentcloud_sg_binding.main,
        seed={'credentials': [{'access_key': 'AKIDcutoff000001', 'secret_key': SECRET}],
              'security_groups': [{'id': 'sg-0000000%d' % n, 'region': 'ap-guangzhou'} for n in range(1, 4)],
              'instances': [{'id': 'ins-0000000%d' % n, 'region': 'ap-guangzhou', 'security_groups': ['sg-00000001']} for n in (1, 2)]},
        args={'secret_id': 'AKIDcutoff000001', 'secret_key': SECRET, 'region': 'ap-guangzhou'},
        instances=['ins-00000001', 'ins-00000002'], groups=['sg-00000001', 'sg-00000002'],
        write='AssociateSecurityGroups', read='DescribeInstances'),
    'alicloud': dict(
        main=alicloud_sg_binding.main,
        seed={'credentials': [{'access_key': 'LTAI5tCutOff00001', 'secret_key': SECRET}],
              'security_groups': [{'id': 'sg-0000000%d' % n, 'vpc_id': 'vpc-cutoff00001'} for n in range(1, 4)],
              'instances': [{'id': 'i-0000000%d' % n, 'vpc_id': 'vpc-cutoff00001', 'security_groups': ['sg-00000001']} for n in (1, 2)]},
        args={'access_key': 'LTAI5tCutOff00001', 'secret_key': SECRET, 'region': 'cn-hangzhou'},
        instances=['i-00000001', 'i-00000002'], groups=['sg-00000001', 'sg-00000002'],
        write='JoinSecurityGroup', read='DescribeInstances'),
    'baiducloud': dict(
        main=baiducloud_sg_binding.main,
        seed={'credentials': [{'access_key': 'bdcutoff00000001', 'secret_key': SECRET}],
              'security_groups': [{'id': 'g-0000000%d' % n} for n in range(1, 4)],
              'instances': [{'id': 'i-0000000%d' % n, 'security_groups': ['g-00000001']} for n in (1, 2)]},
        args={'access_key': 'bdcutoff00000001', 'secret_key': SECRET, 'region': 'bj', 'write_api': 'per_instance'},
        instances=['i-00000001', 'i-00000002'], groups=['g-00000001', 'g-00000002'],
        write='BindSecurityGroup', read='ListInstancesByIds'),
    'zenlayer': dict(
        main=zenlayer_sg_binding.main,
        seed={'credentials': [{'access_key': 'AKID-ZL-CUTOFF', 'secret_key': SECRET}],
              'security_groups': [{'id': sg} for sg in ZL[0]],
              'instances': [{'id': vm, 'status': 'RUNNING', 'security_groups': [ZL[0][0]]} for vm in ZL[1]]},
        args={'access_key_id': 'AKID-ZL-CUTOFF', 'access_key_password': SECRET},
        instances=ZL[1], groups=ZL[0][:2],
        write='AssociateSecurityGroupInstance', read='DescribeInstances'),
}


@pytest.fixture
def cloud(running):
    running.emulator.reset()
    running.emulator.seed(dict((name, spec['seed']) for name, spec in CLOUDS.items()))
    return running


def run(cloud, name, **args):
    spec = CLOUDS[name]
    params = dict(spec['args'], endpoint=cloud.endpoints[name], instance_ids=spec['instances'], security_group_ids=[spec['groups'][1]])
    params.update(FAST)
    params.update(args)
    with patch_module_args(dict(params, _ansible_check_mode=False, _ansible_diff=False)):
        with pytest.raises(SystemExit):
            spec['main']()


def result(capsys):
    out = capsys.readouterr().out
    assert SECRET not in out
    return json.loads(out)


def calls(cloud, name, action):
    return [(e['fault'], e['status']) for e in cloud.emulator.requests(name) if e['action'] == action]


def groups(cloud, name, instance_id):
    return [i for i in cloud.emulator.state()[name]['instances'] if i['id'] == instance_id][0]['security_groups']


@pytest.mark.parametrize('name', sorted(CLOUDS))
def test_a_write_whose_answer_is_cut_off_is_read_back_and_reported_applied_not_resent(cloud, capsys, name):
    spec = CLOUDS[name]
    cloud.emulator.add_fault({'provider': name, 'action': spec['write'], 'kind': 'truncate'})
    run(cloud, name)
    out = result(capsys)
    assert not out.get('failed'), out
    assert out['changed'] and [i['after'] for i in out['instances']] == [spec['groups']] * 2
    assert all(groups(cloud, name, iid) == spec['groups'] for iid in spec['instances'])
    writes = calls(cloud, name, spec['write'])
    assert writes[0] == ('truncate', 200)
    # One write per operation, the cut-off one included: it was not sent again.
    assert len(writes) == len(out['operations']), writes
    assert "re-reading" in json.dumps(out["warnings"]) and "may have been applied" in json.dumps(out["warnings"])
    assert spec['instances'][0] in json.dumps(out['operations'])


@pytest.mark.parametrize('name', sorted(CLOUDS))
def test_a_read_whose_answer_is_cut_off_is_retried(cloud, capsys, name):
    spec = CLOUDS[name]
    cloud.emulator.add_fault({'provider': name, 'action': spec['read'], 'kind': 'truncate'})
    run(cloud, name)
    out = result(capsys)
    assert not out.get('failed') and out['changed'], out
    assert calls(cloud, name, spec['read'])[:2] == [('truncate', 200), (None, 200)]


def test_a_baidu_batch_whose_answer_is_cut_off_is_resent_with_its_token_and_applied_once(cloud, capsys):
    spec = CLOUDS['baiducloud']
    cloud.emulator.update_settings({'record_history': True})
    cloud.emulator.add_fault({'provider': 'baiducloud', 'action': 'BatchBindSecurityGroup', 'kind': 'truncate'})
    run(cloud, 'baiducloud', write_api='batch')
    out = result(capsys)
    assert not out.get('failed') and out['changed'], out
    sent = [e for e in cloud.emulator.requests('baiducloud') if e['action'] == 'BatchBindSecurityGroup']
    assert [(e['fault'], e['status']) for e in sent] == [('truncate', 200), (None, 200)]
    assert sent[0]['change']['token'] == sent[1]['change']['token']
    assert len(cloud.emulator.state_history('baiducloud')) == 2      # each instance changed once
    assert [i['after'] for i in out['instances']] == [spec['groups']] * 2 and out['request_ids'] == [sent[1]['request_id']]


def test_a_host_name_that_does_not_resolve_fails_fast_and_names_the_host_and_the_options(cloud, capsys):
    # .invalid never resolves (RFC 6761): a mistyped region gives the same NXDOMAIN.
    start = time.monotonic()
    run(cloud, 'baiducloud', endpoint='http://bcc.no-such-region.invalid', retry_delay=0.5, retry_max_delay=20)
    elapsed = time.monotonic() - start
    out = result(capsys)
    assert out['failed'] and out['error']['code'] == 'NameResolutionError'
    assert 'bcc.no-such-region.invalid' in out['msg'] and 'region' in out['msg'] and 'endpoint' in out['msg']
    assert 'may have been applied' not in out['msg'] and elapsed < 5, elapsed
    assert cloud.emulator.requests('baiducloud') == []


def test_a_refused_connection_is_retried_and_never_taken_for_an_applied_write(cloud, capsys):
    with socket.socket() as closed:
        closed.bind(('127.0.0.1', 0))
        port = closed.getsockname()[1]
    run(cloud, 'tencentcloud', endpoint='http://127.0.0.1:%d' % port, retries=2)
    out = result(capsys)
    assert out['failed'] and out['error']['code'] == 'ConnectionError' and 'nothing was sent' in out['msg']
    assert 'may have been applied' not in out['msg']


@pytest.mark.parametrize('name', ['baiducloud', 'zenlayer'])
def test_a_throttling_answer_s_retry_after_is_waited_for(cloud, capsys, name):
    cloud.emulator.update_settings({'throttle_retry_after_s': 1})
    cloud.emulator.add_fault({'provider': name, 'action': CLOUDS[name]['read'], 'kind': 'throttle'})
    start = time.monotonic()
    run(cloud, name, retry_max_delay=5)
    elapsed = time.monotonic() - start
    out = result(capsys)
    assert not out.get('failed') and out['changed'], out
    assert calls(cloud, name, CLOUDS[name]['read'])[:2] == [('throttle', 429), (None, 200)] and elapsed >= 1.0
