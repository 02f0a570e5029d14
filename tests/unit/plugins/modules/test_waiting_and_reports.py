# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 20: the engine's waiting, write states and failure reports, against the emulator, in-process."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

import pytest

from ansible.module_utils.common import warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.module_utils import _zenlayer, _alicloud
from ansible_collections.multicloud.secgroup.plugins.modules import alicloud_sg_binding, baiducloud_sg_binding
from ansible_collections.multicloud.secgroup.plugins.modules import tencentcloud_sg_binding, zenlayer_sg_binding

SECRET = 'Issue-20-Secret-Never-Shown'
MAIN = {'tencentcloud': tencentcloud_sg_binding.main, 'alicloud': alicloud_sg_binding.main, 'baiducloud': baiducloud_sg_binding.main,
        'zenlayer': zenlayer_sg_binding.main}
CREDENTIALS = {
    'tencentcloud': dict(secret_id='AKIDissue20000001', secret_key=SECRET, region='ap-guangzhou'),
    'alicloud': dict(access_key='LTAI5tIssue200001', secret_key=SECRET, region='cn-hangzhou'),
    'baiducloud': dict(access_key='bdissue200000001', secret_key=SECRET, region='bj'),
    'zenlayer': dict(access_key_id='zlissue200000001', access_key_password=SECRET),
}
TC = ['ins-%08d' % n for n in range(1, 4)]
TC_SG = ['sg-%08d' % n for n in range(1, 5)]
ALI = ['i-issue2000%d' % n for n in range(1, 4)]
ALI_SG = ['sg-issue2000%d' % n for n in range(1, 5)]
BD = ['i-%08d' % n for n in range(1, 4)]
BD_SG = ['g-%08d' % n for n in range(1, 5)]
ZL = ['81000000000000000%d' % n for n in range(1, 4)]
ZL_SG = ['71000000000000000%d' % n for n in range(1, 5)]


def seed(provider, lists):
    """A seed of one cloud: its credentials, the four groups, and one instance per list (in the order given)."""
    cred = CREDENTIALS[provider]
    key = cred.get('secret_id') or cred.get('access_key') or cred.get('access_key_id')
    doc = {'credentials': [{'access_key': key, 'secret_key': SECRET}]}
    if provider == 'tencentcloud':
        doc['security_groups'] = [{'id': g, 'region': 'ap-guangzhou'} for g in TC_SG]
        doc['instances'] = [{'id': TC[n], 'region': 'ap-guangzhou', 'security_groups': groups} for n, groups in enumerate(lists)]
    elif provider == 'alicloud':
        doc['security_groups'] = [{'id': g, 'region': 'cn-hangzhou', 'vpc_id': 'vpc-issue20'} for g in ALI_SG]
        doc['instances'] = [{'id': ALI[n], 'region': 'cn-hangzhou', 'vpc_id': 'vpc-issue20', 'security_groups': groups}
                            for n, groups in enumerate(lists)]
    elif provider == 'baiducloud':
        doc['security_groups'] = [{'id': g} for g in BD_SG]
        doc['instances'] = [{'id': BD[n], 'security_groups': groups} for n, groups in enumerate(lists)]
    else:
        doc['security_groups'] = [{'id': g} for g in ZL_SG]
        doc['instances'] = [{'id': ZL[n], 'security_groups': groups} for n, groups in enumerate(lists)]
    return {provider: doc}


@pytest.fixture
def cloud(running):
    warnings._global_warnings.clear()       # process-wide: each run reports its own only
    running.emulator.reset()
    running.emulator.update_settings({'record_history': True})
    return running


def run(cloud, provider, capsys, **args):
    base = dict(CREDENTIALS[provider], endpoint=cloud.endpoints[provider], retry_delay=0.01, retry_max_delay=0.05)
    base.update(args)
    started = time.monotonic()
    with patch_module_args(dict(base, _ansible_check_mode=False, _ansible_diff=False)):
        with pytest.raises(SystemExit):
            MAIN[provider]()
    out = capsys.readouterr().out
    assert SECRET not in out
    result = json.loads(out)
    result['elapsed'] = time.monotonic() - started
    return result


def writes(cloud, provider):
    return [e for e in cloud.emulator.requests(provider) if e.get('write')]


def groups(cloud, provider, tid):
    return [i for i in cloud.emulator.state()[provider]['instances'] if i['id'] == tid][0]['security_groups']


def history_lists(cloud, provider, tid):
    return [change['after'] for change in cloud.emulator.state_history(provider) if change['target'] == tid]


# -- item 1: one deadline for the whole task ------------------------------------------------------------

def test_a_stuck_instance_fails_at_wait_timeout_not_twice_that(cloud, capsys):
    """Before: applied_state started a fresh wait_timeout after the first ran out (4.4 s here for wait_timeout 2)."""
    cloud.emulator.seed(seed('tencentcloud', [[TC_SG[0]]]))
    cloud.emulator.update_settings({'tencentcloud': {'async_delay_reads': 10 ** 6}})
    result = run(cloud, 'tencentcloud', capsys, instance_ids=TC[:1], security_group_ids=[TC_SG[1]], wait_timeout=2)
    assert result['failed'] and result['error']['code'] == 'WaitTimeout'
    assert result['elapsed'] < 3.5
    # Item 4: the write was accepted, so something changed (or may have).
    assert result['changed'] and result['instances'][0]['after'] == [TC_SG[0], TC_SG[1]]
    assert 'partially applied: %s now has [%s, %s]' % (TC[0], TC_SG[0], TC_SG[1]) in result['msg'].split('\n')[0]


# -- item 2: eventual clouds ------------------------------------------------------------------------------

@pytest.fixture
def short_window(monkeypatch):
    """The old fixed visibility window, shortened so that a lag longer than it stays quick to test: the code
    under test must not depend on it (it no longer has one)."""
    monkeypatch.setattr(_zenlayer.ZenlayerCloud, 'visibility_timeout', 0.5, raising=False)
    monkeypatch.setattr(_alicloud.AliCloud, 'visibility_timeout', 0.5, raising=False)


def test_zenlayer_a_late_bind_is_awaited_before_the_unbind_that_depends_on_it(cloud, capsys, short_window):
    """Before: purge [A] -> [B] with writes applied later than the window unbound A before B showed."""
    cloud.emulator.seed(seed('zenlayer', [[ZL_SG[0]]]))
    cloud.emulator.update_settings({'zenlayer': {'write_apply_delay_s': 1.5}})
    result = run(cloud, 'zenlayer', capsys, instance_ids=ZL[:1], security_group_ids=[ZL_SG[1]], purge=True, wait_timeout=10)
    assert not result.get('failed'), result['msg']
    assert [] not in history_lists(cloud, 'zenlayer', ZL[0])           # never without a group on the way
    assert groups(cloud, 'zenlayer', ZL[0]) == [ZL_SG[1]] and result['instances'][0]['after'] == [ZL_SG[1]]
    assert [e['action'] for e in writes(cloud, 'zenlayer')] == ['AssociateSecurityGroupInstance', 'UnAssociateSecurityGroupInstance']


def test_zenlayer_purge_of_two_at_the_limit_keeps_the_limit_whatever_the_lag(cloud, capsys, short_window):
    """Before: purge [A, B] -> [C, D] (limit 2) with late writes failed with EXCEED_LIMIT, leaving [B]."""
    cloud.emulator.seed(seed('zenlayer', [[ZL_SG[0], ZL_SG[1]]]))
    cloud.emulator.update_settings({'zenlayer': {'write_apply_delay_s': 1.0}})
    result = run(cloud, 'zenlayer', capsys, instance_ids=ZL[:1], security_group_ids=[ZL_SG[2], ZL_SG[3]], purge=True, wait_timeout=20)
    assert not result.get('failed'), result['msg']
    assert sorted(groups(cloud, 'zenlayer', ZL[0])) == [ZL_SG[2], ZL_SG[3]]
    assert len(writes(cloud, 'zenlayer')) == 4


def test_alicloud_stale_reads_do_not_make_an_accepted_write_be_sent_again(cloud, capsys, short_window):
    """Before: a bind whose reads lagged more than the window was re-sent, answered AlreadyExists, and failed."""
    cloud.emulator.seed(seed('alicloud', [[ALI_SG[0]]]))
    cloud.emulator.update_settings({'alicloud': {'stale_reads_s': 1.5}})
    result = run(cloud, 'alicloud', capsys, instance_ids=ALI[:1], security_group_ids=[ALI_SG[1]], wait_timeout=10)
    assert not result.get('failed'), result['msg']
    assert result['instances'][0]['after'] == [ALI_SG[0], ALI_SG[1]] and len(writes(cloud, 'alicloud')) == 1


def test_alicloud_an_already_member_answer_confirms_the_target(cloud, capsys):
    """The cloud says the group is there (a lost-but-applied write sent again): success, and after shows it, although
    the reads lag behind. Before: AlreadyExists was ambiguous, re-read, re-sent, and failed with an after lacking it."""
    cloud.emulator.seed(seed('alicloud', [[ALI_SG[0]]]))
    cloud.emulator.update_settings({'alicloud': {'stale_reads_s': 30}})
    state = cloud.emulator.clouds['alicloud']
    state._set_groups(state._primary_eni(ALI[0]), [ALI_SG[0], ALI_SG[1]])     # applied, the reads show it in 30 s
    result = run(cloud, 'alicloud', capsys, instance_ids=ALI[:1], security_group_ids=[ALI_SG[1]], wait_timeout=2)
    assert not result.get('failed'), result['msg']
    assert result['instances'][0]['after'] == [ALI_SG[0], ALI_SG[1]]
    assert [e['error_code'] for e in writes(cloud, 'alicloud')] == ['InvalidInstanceId.AlreadyExists']
    assert "answered is already so" in json.dumps(result["warnings"])


@pytest.mark.parametrize('provider', ['alicloud', 'zenlayer', 'baiducloud'])
def test_another_group_order_costs_no_wait(cloud, capsys, provider):
    """Before: on an eventual cloud, a list in another order than planned was waited on for the whole window (15 s)."""
    first, sgs, ids = {'alicloud': (ALI_SG, ALI_SG, ALI), 'zenlayer': (ZL_SG, ZL_SG, ZL), 'baiducloud': (BD_SG, BD_SG, BD)}[provider]
    cloud.emulator.seed(seed(provider, [[first[0]]]))
    cloud.emulator.update_settings({provider: {'group_order': 'reverse'}})
    result = run(cloud, provider, capsys, instance_ids=ids[:1], security_group_ids=[sgs[1]])
    assert not result.get('failed'), result['msg']
    assert sorted(result['instances'][0]['after']) == sorted([sgs[0], sgs[1]]) and result['elapsed'] < 5


# -- item 3 and 6: Tencent failure reports -----------------------------------------------------------

def test_tencent_a_failed_batch_does_not_hide_the_other_accepted_one(cloud, capsys):
    """Before: settled() raised on the first FAILED instance; the other, still OPERATING, was reported with its old list."""
    cloud.emulator.seed(seed('tencentcloud', [[TC_SG[2]], [TC_SG[3]]]))
    cloud.emulator.update_settings({'tencentcloud': {'fail_next_operation': 'disk busy', 'async_delay_reads': 3}})
    # Two calls in one wave: bind sg-3 to the first instance, sg-2 to the second; the first accepted one fails.
    result = run(cloud, 'tencentcloud', capsys, instance_ids=TC[:2], security_group_ids=[TC_SG[2], TC_SG[3]], max_concurrency=1)
    assert result['failed'] and result['error']['code'] == 'LatestOperationState.FAILED'
    true = [groups(cloud, 'tencentcloud', tid) for tid in TC[:2]]
    assert [i['after'] for i in result['instances']] == true
    changed = [tid for tid, now in zip(TC[:2], true) if len(now) == 2]
    assert len(changed) == 1 and result['changed']
    assert result['msg'].split('\n')[0].endswith('partially applied: %s now has [%s]' % (changed[0], ', '.join(
        groups(cloud, 'tencentcloud', changed[0]))))


def test_tencent_when_the_only_write_failed_the_message_says_nothing_changed(cloud, capsys):
    cloud.emulator.seed(seed('tencentcloud', [[TC_SG[0]]]))
    cloud.emulator.update_settings({'tencentcloud': {'fail_next_operation': 'disk busy'}})
    result = run(cloud, 'tencentcloud', capsys, instance_ids=TC[:1], security_group_ids=[TC_SG[1]])
    assert result['failed'] and not result['changed'] and result['msg'].endswith('; nothing was changed')
    assert 'after changes had started' not in result['msg']
    assert "could not" not in json.dumps(result.get("warnings", [])), result['warnings']


def test_tencent_a_lost_answer_under_an_operation_state_lag_is_not_sent_again(cloud, capsys):
    """Before: the read after the lost answer still showed the previous LatestOperation* fields and list: settled on
    the old list, and the bind was sent again."""
    cloud.emulator.seed(seed('tencentcloud', [[TC_SG[0]]]))
    cloud.emulator.update_settings({'tencentcloud': {'operation_state_lag_reads': 2}})
    cloud.emulator.add_fault({'provider': 'tencentcloud', 'action': 'AssociateSecurityGroups', 'kind': 'commit_then_drop', 'count': 1})
    result = run(cloud, 'tencentcloud', capsys, instance_ids=TC[:1], security_group_ids=[TC_SG[1]], timeout=2)
    assert not result.get('failed'), result['msg']
    assert len(writes(cloud, 'tencentcloud')) == 1 and result['instances'][0]['after'] == [TC_SG[0], TC_SG[1]]


# -- item 5 and 6: one target does not spoil a batch ---------------------------------------------------

def test_baidu_a_concurrent_bind_on_one_instance_does_not_fail_the_batch(cloud, capsys, monkeypatch):
    """Before: SecurityGroup.AlreadyBound (duplicate_bind: error) failed the whole task although the goal was reachable."""
    from ansible_collections.multicloud.secgroup.plugins.module_utils._baiducloud import BaiduCloud
    cloud.emulator.seed(seed('baiducloud', [[BD_SG[0]]] * 3))
    cloud.emulator.update_settings({'baiducloud': {'duplicate_bind': 'error'}})
    real = BaiduCloud.missing_security_groups

    def and_a_concurrent_binder(self, sg_ids):      # after our read, before our write
        cloud.emulator.clouds['baiducloud'].instances[BD[1]]['security_groups'].append(BD_SG[1])
        return real(self, sg_ids)
    monkeypatch.setattr(BaiduCloud, 'missing_security_groups', and_a_concurrent_binder)
    result = run(cloud, 'baiducloud', capsys, instance_ids=BD, security_group_ids=[BD_SG[1]])
    assert not result.get('failed'), result['msg']
    assert all(groups(cloud, 'baiducloud', tid) == [BD_SG[0], BD_SG[1]] for tid in BD)
    assert result['operations'] == [{'action': 'bind', 'security_group_ids': [BD_SG[1]], 'instance_ids': [BD[0], BD[2]]}]


@pytest.mark.parametrize('write_api', ['batch', 'per_instance_fallback'])
def test_baidu_a_quota_on_one_instance_names_it_and_the_others_proceed(cloud, capsys, write_api):
    """Before: the batch's 413 failed all three instances and named them all; after a fallback to the per-instance
    calls, the two that went through were missing from operations and request_ids."""
    cloud.emulator.seed(seed('baiducloud', [[BD_SG[0]]] * 3))
    settings = {'limit_by_instance': {BD[1]: 1}}
    if write_api != 'batch':
        settings['batch_api'] = 'absent'
    cloud.emulator.update_settings({'baiducloud': settings})
    result = run(cloud, 'baiducloud', capsys, instance_ids=BD, security_group_ids=[BD_SG[1]])
    assert result['failed'] and result['error']['code'] == 'SecurityGroup.BindInstanceExceededLimit' and result['changed']
    first_line = result['msg'].split('\n')[0]
    assert 'instance(s) %s:' % BD[1] in first_line and BD[0] + ',' not in first_line.split(':')[0]
    assert [groups(cloud, 'baiducloud', tid) for tid in BD] == [[BD_SG[0], BD_SG[1]], [BD_SG[0]], [BD_SG[0], BD_SG[1]]]
    assert [i['after'] for i in result['instances']] == [[BD_SG[0], BD_SG[1]], [BD_SG[0]], [BD_SG[0], BD_SG[1]]]
    assert sorted(tid for op in result['operations'] for tid in op['instance_ids']) == [BD[0], BD[2]]
    accepted = [e for e in writes(cloud, 'baiducloud') if e['error_code'] is None]
    assert sorted(result['request_ids']) == sorted(e['request_id'] for e in accepted)


def test_tencent_a_quota_on_one_instance_of_a_call_names_it_and_the_others_proceed(cloud, capsys):
    """Before: LimitExceeded on one instance refused the whole 100-instance call."""
    cloud.emulator.seed(seed('tencentcloud', [[], [TC_SG[0]], []]))
    cloud.emulator.update_settings({'tencentcloud': {'max_security_groups_per_instance': 1}})     # the second is full
    result = run(cloud, 'tencentcloud', capsys, instance_ids=TC, security_group_ids=[TC_SG[1]])
    assert result['failed'] and result['error']['code'] == 'LimitExceeded.AssociateUSGLimitExceeded' and result['changed']
    assert result['msg'].startswith('Tencent Cloud failed binding %s to instance(s) %s:' % (TC_SG[1], TC[1]))
    assert [groups(cloud, 'tencentcloud', tid) for tid in TC] == [[TC_SG[1]], [TC_SG[0]], [TC_SG[1]]]
    assert [i['after'] for i in result['instances']] == [[TC_SG[1]], [TC_SG[0]], [TC_SG[1]]]


# -- item 7: a write answered 5xx every time fails in bounded time ---------------------------------------

def test_a_write_answered_with_a_server_error_every_time_is_given_up_sooner_than_a_lost_one(cloud, capsys):
    """Before: `retries` (8) rounds of re-reading and re-sending, each after a backoff pause."""
    cloud.emulator.seed(seed('zenlayer', [[ZL_SG[0]]]))
    cloud.emulator.add_fault({'provider': 'zenlayer', 'action': 'AssociateSecurityGroupInstance', 'kind': 'server_error', 'count': 100})
    result = run(cloud, 'zenlayer', capsys, instance_ids=ZL[:1], security_group_ids=[ZL_SG[1]], retries=8)
    assert result['failed'] and 'still not applied after 3 retries' in result['msg'] and not result['changed']
    assert len(writes(cloud, 'zenlayer')) == 4
