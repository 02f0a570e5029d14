# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""baiducloud_sg_binding's batch writes (PUT /v2/securitygroup/{bind,unbind}?clientToken=) against the
emulator, in-process: calls per batch, all or nothing, a retry with the same token, the fallback."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.modules import baiducloud_sg_binding


SECRET = 'Bd-Batch-Secret-Never-Shown'
IDS = ['i-%08d' % n for n in range(1, 26)]
SEED = {'baiducloud': {
    'credentials': [{'access_key': 'bdbatch000000001', 'secret_key': SECRET}],
    'security_groups': [{'id': 'g-%08d' % n} for n in range(1, 5)],
    'instances': [{'id': iid, 'security_groups': ['g-00000001']} for iid in IDS]}}


@pytest.fixture
def cloud(running):
    running.emulator.reset()
    running.emulator.seed(SEED)
    return running


def run(cloud, capsys, check_mode=False, **args):
    base = dict(access_key='bdbatch000000001', secret_key=SECRET, region='bj', endpoint=cloud.endpoints['baiducloud'],
                retry_delay=0.01, retry_max_delay=0.05)
    base.update(args)
    with patch_module_args(dict(base, _ansible_check_mode=check_mode, _ansible_diff=True)):
        with pytest.raises(SystemExit):
            baiducloud_sg_binding.main()
    out = capsys.readouterr().out
    assert SECRET not in out
    return json.loads(out)


def writes(cloud):
    return [e for e in cloud.emulator.requests('baiducloud') if e['method'] == 'PUT']


def groups(cloud, iid):
    return [i for i in cloud.emulator.state()['baiducloud']['instances'] if i['id'] == iid][0]['security_groups']


def test_n_instances_take_ceil_n_over_batch_size_writes_one_operation_each(cloud, capsys):
    checked = run(cloud, capsys, check_mode=True, instance_ids=IDS, security_group_ids=['g-00000002'])
    cloud.emulator.clear_requests()
    result = run(cloud, capsys, instance_ids=IDS, security_group_ids=['g-00000002'])
    sent = writes(cloud)
    assert [e['action'] for e in sent] == ['BatchBindSecurityGroup'] * 3 and all(e['path'] == '/v2/securitygroup/bind' for e in sent)
    assert result['changed'] and result['operations'] == checked['operations']
    assert [op['instance_ids'] for op in result['operations']] == [IDS[:10], IDS[10:20], IDS[20:]]
    assert sorted(result['request_ids']) == sorted(e['request_id'] for e in sent)
    assert all(i['after'] == ['g-00000001', 'g-00000002'] for i in result['instances'])
    assert result['diff'] == checked['diff']
    # batch_size, and the unbind side
    cloud.emulator.clear_requests()
    result = run(cloud, capsys, instance_ids=IDS, security_group_ids=['g-00000002'], state='absent', batch_size=25)
    assert [e['action'] for e in writes(cloud)] == ['BatchUnbindSecurityGroup'] and len(result['request_ids']) == 1
    assert result['operations'] == [{'action': 'unbind', 'security_group_ids': ['g-00000002'], 'instance_ids': IDS}]
    assert groups(cloud, IDS[24]) == ['g-00000001']


def test_per_instance_writes_one_call_per_instance(cloud, capsys):
    result = run(cloud, capsys, instance_ids=IDS[:3], security_group_ids=['g-00000002'], write_api='per_instance')
    assert [e['action'] for e in writes(cloud)] == ['BindSecurityGroup'] * 3
    assert [op['instance_ids'] for op in result['operations']] == [[iid] for iid in IDS[:3]]


def test_a_batch_answer_lost_after_commit_is_resent_with_the_same_token_and_applied_once(cloud, capsys):
    cloud.emulator.add_fault({'provider': 'baiducloud', 'action': 'BatchBindSecurityGroup', 'kind': 'commit_then_drop'})
    result = run(cloud, capsys, instance_ids=IDS[:4], security_group_ids=['g-00000002'])
    sent = writes(cloud)
    expected = [('BatchBindSecurityGroup', 'commit_then_drop', 200), ('BatchBindSecurityGroup', None, 200)]
    assert [(e['action'], e['fault'], e['status']) for e in sent] == expected
    assert not result.get('failed') and result['changed'] and 'Baidu' not in json.dumps(result.get('warnings', []))  # nothing to warn of
    assert result['operations'] == [{'action': 'bind', 'security_group_ids': ['g-00000002'], 'instance_ids': IDS[:4]}]
    assert result['request_ids'] == [sent[1]['request_id']]
    assert all(groups(cloud, iid) == ['g-00000001', 'g-00000002'] for iid in IDS[:4])


def test_a_server_error_on_a_batch_is_retried_with_the_same_token(cloud, capsys):
    cloud.emulator.add_fault({'provider': 'baiducloud', 'action': 'BatchUnbindSecurityGroup', 'kind': 'server_error'})
    run(cloud, capsys, instance_ids=IDS[:2], security_group_ids=['g-00000002'])
    cloud.emulator.clear_requests()
    result = run(cloud, capsys, instance_ids=IDS[:2], security_group_ids=['g-00000002'], state='absent')
    sent = writes(cloud)
    assert [(e['action'], e['status']) for e in sent] == [('BatchUnbindSecurityGroup', 500), ('BatchUnbindSecurityGroup', 200)]
    assert result['changed'] and len(result['request_ids']) == 1 and groups(cloud, IDS[0]) == ['g-00000001']


def test_a_batch_refused_for_one_instance_is_halved_until_that_one_is_alone(cloud, capsys):
    # The emulator allows 2 groups where the module expects 10: the second instance's bind is refused, and so
    # is the whole call, the first instance's bind included (all or nothing). The module then halves the batch:
    # the first instance gets its group, and the failure names the second only.
    run(cloud, capsys, instance_ids=IDS[1:2], security_group_ids=['g-00000002'])
    cloud.emulator.update_settings({'baiducloud': {'max_security_groups_per_instance': 2}})
    cloud.emulator.clear_requests()
    result = run(cloud, capsys, instance_ids=IDS[:2], security_group_ids=['g-00000003'])
    assert result['failed'] and result['error']['code'] == 'SecurityGroup.BindInstanceExceededLimit' and result['changed']
    assert result['error']['action'] == 'BatchBindSecurityGroup'
    assert 'instance(s) %s:' % IDS[1] in result['msg'] and IDS[0] + ':' not in result['msg']
    assert result['operations'] == [{'action': 'bind', 'security_group_ids': ['g-00000003'], 'instance_ids': [IDS[0]]}]
    assert len(result['request_ids']) == 1
    assert [i['after'] for i in result['instances']] == [['g-00000001', 'g-00000003'], ['g-00000001', 'g-00000002']]
    assert groups(cloud, IDS[0]) == ['g-00000001', 'g-00000003']
    sent = writes(cloud)
    assert [e['action'] for e in sent] == ['BatchBindSecurityGroup'] * 3
    # the whole batch first, then its two halves, which go out at once (either may be logged first)
    assert sent[0]['error_code'] == 'SecurityGroup.BindInstanceExceededLimit'
    assert sorted([e['error_code'] or '' for e in sent[1:]]) == ['', 'SecurityGroup.BindInstanceExceededLimit']


@pytest.mark.parametrize('answer', ['InvalidURI', 'NoSuchObject'])
def test_without_the_batch_api_it_falls_back_to_per_instance_calls_and_warns(cloud, capsys, answer):
    cloud.emulator.update_settings({'baiducloud': {'batch_api': 'absent', 'missing_api_answer': answer}})
    result = run(cloud, capsys, instance_ids=IDS[:12], security_group_ids=['g-00000002'])
    actions = [e['action'] for e in writes(cloud)]
    # One refused batch per operation already under way at most, then per-instance calls only.
    assert actions.count('BindSecurityGroup') == 12 and 1 <= actions.count('BatchBindSecurityGroup') <= 2
    assert result['changed'] and len(result['request_ids']) == 12
    assert [op['instance_ids'] for op in result['operations']] == [IDS[:10], IDS[10:12]]
    # (in-process runs may carry other tests' warnings along: only ours are counted)
    ours = [w for w in result['warnings'] if 'batch API' in json.dumps(w) and answer in json.dumps(w)]
    assert len(ours) == 1 and answer in json.dumps(ours) and 'per-instance calls were used' in json.dumps(ours)
    assert all(groups(cloud, iid) == ['g-00000001', 'g-00000002'] for iid in IDS[:12])


def test_a_token_mismatch_is_permanent(cloud, capsys, monkeypatch):
    from ansible_collections.multicloud.secgroup.plugins.module_utils import _baiducloud as baidu
    monkeypatch.setattr(baidu, 'client_token', lambda: 'tok-fixed-0001')
    run(cloud, capsys, instance_ids=IDS[:1], security_group_ids=['g-00000002'])
    cloud.emulator.clear_requests()
    result = run(cloud, capsys, instance_ids=IDS[:1], security_group_ids=['g-00000003'])
    assert result['failed'] and result['error']['code'] == 'IdempotentParameterMismatch'
    assert [e['error_code'] for e in writes(cloud)] == ['IdempotentParameterMismatch']     # sent once, never retried
    assert groups(cloud, IDS[0]) == ['g-00000001', 'g-00000002']


@pytest.mark.parametrize('size', [0, 101, -1])
def test_batch_size_out_of_range_is_refused_before_any_request(cloud, capsys, size):
    result = run(cloud, capsys, instance_ids=IDS[:1], security_group_ids=['g-00000002'], batch_size=size)
    assert result['failed'] and result['msg'] == 'batch_size: %r must be between 1 and 100' % size
    assert cloud.emulator.requests('baiducloud') == []


def test_a_skewed_clock_fails_at_once_saying_to_check_ntp(cloud, capsys):
    cloud.emulator.update_settings({'clock_offset_s': 3600})
    result = run(cloud, capsys, instance_ids=IDS[:2], security_group_ids=['g-00000002'], retry_delay=0.5, retry_max_delay=20)
    sent = cloud.emulator.requests('baiducloud')
    assert result['failed'] and result['error']['code'] == 'RequestExpired' and 'check the system clock (NTP)' in result['msg']
    assert [e['error_code'] for e in sent] == ['RequestExpired']


def test_a_batch_naming_a_deleted_instance_is_reported_not_taken_for_a_missing_batch_api(cloud, capsys, monkeypatch):
    # The instance disappears between the read and the write: the batch answers NoSuchObject, like an endpoint
    # without the batch API may; a GET of each instance tells them apart.
    from ansible_collections.multicloud.secgroup.plugins.module_utils import _baiducloud as baidu
    real = baidu.BaiduCloud.apply_batch

    def delete_then_apply(provider, op):
        with cloud.emulator.lock:
            cloud.emulator.clouds['baiducloud'].instances.pop(IDS[1], None)
        return real(provider, op)
    monkeypatch.setattr(baidu.BaiduCloud, 'apply_batch', delete_then_apply)
    result = run(cloud, capsys, instance_ids=IDS[:3], security_group_ids=['g-00000002'])
    assert result['failed'] and result['error']['code'] == 'NoSuchObject' and result['error']['action'] == 'BatchBindSecurityGroup'
    sent = writes(cloud)
    assert [e['action'] for e in sent] == ['BatchBindSecurityGroup']           # no per-instance writes
    assert sent[0]['request_id'] not in json.dumps(result.get('warnings', []))   # no "no batch API" warning
    assert groups(cloud, IDS[0]) == ['g-00000001']


@pytest.mark.parametrize('mode', ['omit', 'error'])
def test_a_mistyped_instance_id_lands_in_missing_instance_ids_however_list_by_ids_answers_it(cloud, capsys, mode):
    cloud.emulator.update_settings({'baiducloud': {'list_by_ids_unknown': mode}})
    result = run(cloud, capsys, instance_ids=IDS[:2] + ['i-mistyped1'], security_group_ids=['g-00000002'])
    assert result['failed'] and result['missing_instance_ids'] == ['i-mistyped1'] and 'i-mistyped1 not found' in result['msg']
    assert not result.get('changed') and writes(cloud) == []


def test_a_purge_on_an_instance_with_enterprise_groups_is_refused_before_any_write(cloud, capsys):
    seed = json.loads(json.dumps(SEED))
    seed['baiducloud']['instances'].append({'id': 'i-esg00001', 'security_groups': ['g-00000001'],
                                            'enterprise_security_groups': ['esg-ub0q1p72pbmh']})
    cloud.emulator.seed(seed)
    result = run(cloud, capsys, instance_ids=[IDS[0], 'i-esg00001'], security_group_ids=['g-00000001'], purge=True)
    assert result['failed'] and result['refused_instance_ids'] == ['i-esg00001']
    assert 'esg-ub0q1p72pbmh' in result['msg'] and 'purge' in result['msg'] and writes(cloud) == []
    result = run(cloud, capsys, instance_ids=['i-esg00001'], security_group_ids=['g-00000002'])      # no purge: a bind is fine
    assert result['changed'] and groups(cloud, 'i-esg00001') == ['g-00000001', 'g-00000002']
