# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The provider modules against the emulator set to the other plausible behaviour of each cloud where the
documentation is silent or the module used to assume one: the module must be right under both."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.modules import alicloud_sg_binding, tencentcloud_sg_binding, zenlayer_sg_binding

ALI_SECRET, ZL_SECRET, TC_SECRET = 'Ali-Secret-Never-Shown', 'Zl-Password-Never-Shown', 'Tc-Secret-Never-Shown'
ALI_GROUPS = ['sg-%08d' % n for n in range(1, 4)]
ZL_GROUPS = ['7000000000000000%02d' % n for n in range(1, 4)]
ZL_VM = ['8000000000000%05d' % n for n in range(1, 4)]


def run(main, args, capsys, check_mode=False):
    # ansible-core keeps warnings process-wide: each run starts without those of the runs before.
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=True)):
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    for secret in (ALI_SECRET, ZL_SECRET, TC_SECRET):
        assert secret not in out
    return json.loads(out)


def warnings(result):
    """The warning texts (ansible-core 2.19 wraps each in a summary)."""
    return [w['event']['msg'] if isinstance(w, dict) else w for w in result.get('warnings', [])]


def calls(running, provider, action=None):
    return [e for e in running.emulator.requests(provider) if action in (None, e['action'])]


# -- Alibaba Cloud ------------------------------------------------------------------------------

def ali_seed(instances, groups=None, enis=()):
    return {'credentials': [{'access_key': 'LTAI5tAssume0001', 'secret_key': ALI_SECRET}],
            'security_groups': groups or [{'id': sg, 'vpc_id': 'vpc-assume0001'} for sg in ALI_GROUPS],
            'instances': instances, 'network_interfaces': list(enis)}


def ali_args(running, **args):
    return dict(dict(access_key='LTAI5tAssume0001', secret_key=ALI_SECRET, region='cn-hangzhou', endpoint=running.endpoints['alicloud'],
                     retry_delay=0.05, retry_max_delay=0.2), **args)


@pytest.fixture
def ali(running):
    running.emulator.reset()
    return running


@pytest.mark.parametrize('cap, reads', [(0, 1), (10, 10)])
def test_alicloud_reads_every_page_when_the_page_size_is_not_honoured(ali, capsys, cap, reads):
    ids = ['i-%08d' % n for n in range(1, 101)]
    ali.emulator.seed({'alicloud': ali_seed([{'id': i, 'vpc_id': 'vpc-assume0001', 'security_groups': [ALI_GROUPS[0]]} for i in ids])})
    ali.emulator.update_settings({'alicloud': {'page_size_cap': cap}})
    result = run(alicloud_sg_binding.main, ali_args(ali, instance_ids=ids, security_group_ids=[ALI_GROUPS[0]]), capsys)
    assert not result.get('failed'), result['msg']
    assert result['changed'] is False and len(result['instances']) == 100
    # One call per 100 instances when pages are honoured; every page followed by its NextToken when not.
    assert len(calls(ali, 'alicloud', 'DescribeInstances')) == reads


@pytest.mark.parametrize('cap, reads', [(0, 1), (10, 2)])
def test_alicloud_reads_every_page_of_network_interfaces_too(ali, capsys, cap, reads):
    enis = ['eni-%08d' % n for n in range(1, 13)]
    ali.emulator.seed({'alicloud': ali_seed([{'id': 'i-owner0001', 'vpc_id': 'vpc-assume0001', 'security_groups': [ALI_GROUPS[0]]}],
                                            enis=[{'id': e, 'instance_id': 'i-owner0001', 'security_groups': [ALI_GROUPS[0]]} for e in enis])})
    ali.emulator.update_settings({'alicloud': {'page_size_cap': cap}})
    result = run(alicloud_sg_binding.main, ali_args(ali, network_interface_ids=enis, security_group_ids=[ALI_GROUPS[0]]), capsys)
    assert not result.get('failed'), result['msg']
    assert len(calls(ali, 'alicloud', 'DescribeNetworkInterfaces')) == reads


def test_alicloud_purge_of_a_classic_instance_is_refused_before_any_write_in_check_mode_too(ali, capsys):
    groups = [{'id': sg} for sg in ALI_GROUPS]       # classic-network groups: no VPC
    ali.emulator.seed({'alicloud': ali_seed([{'id': 'i-classic001', 'security_groups': [ALI_GROUPS[0]]},
                                             {'id': 'i-classic002', 'security_groups': [ALI_GROUPS[1]]}], groups=groups)})
    args = ali_args(ali, instance_ids=['i-classic001', 'i-classic002'], security_group_ids=[ALI_GROUPS[1]], purge=True)
    for check_mode in (True, False):
        result = run(alicloud_sg_binding.main, args, capsys, check_mode=check_mode)
        assert result['failed'] and result['refused_instance_ids'] == ['i-classic001']
        assert 'instance i-classic001: is in the classic network' in result['msg'] and 'InvalidNetworkType.NotSupported' in result['msg']
        assert 'with purge: false' in result['msg'] and 'state: absent' in result['msg']
    assert not [e for e in calls(ali, 'alicloud') if e['action'] not in ('DescribeInstances', 'DescribeSecurityGroups')]
    # What the message advises works there: Join, then Leave.
    for extra in (dict(security_group_ids=[ALI_GROUPS[1]]), dict(security_group_ids=[ALI_GROUPS[0]], state='absent')):
        result = run(alicloud_sg_binding.main, ali_args(ali, instance_ids=['i-classic001'], **extra), capsys)
        assert not result.get('failed'), result['msg']
    assert result['instances'][0]['after'] == [ALI_GROUPS[1]]


def eni_on(instance_status, ends_after=None):
    inst = {'id': 'i-owner0001', 'vpc_id': 'vpc-assume0001', 'status': instance_status, 'security_groups': [ALI_GROUPS[0]]}
    if ends_after is not None:
        inst['status_ends_after_s'] = ends_after
    return ali_seed([inst], enis=[{'id': 'eni-second001', 'instance_id': 'i-owner0001', 'security_groups': [ALI_GROUPS[0]]}])


def test_alicloud_an_eni_whose_instance_is_starting_is_awaited_then_changed(ali, capsys):
    for check_mode in (True, False):
        # Check mode waits the same way (it only reads), so it plans what the real run does.
        ali.emulator.seed({'alicloud': eni_on('Starting', ends_after=2)})
        args = ali_args(ali, network_interface_ids=['eni-second001'], security_group_ids=[ALI_GROUPS[1]])
        result = run(alicloud_sg_binding.main, args, capsys, check_mode=check_mode)
        assert result['changed'] and not result.get('failed'), result['msg']
        assert result['network_interfaces'][0]['after'] == [ALI_GROUPS[0], ALI_GROUPS[1]]
    # Waited for, not hammered: no write was refused for the instance's state.
    assert [e['status'] for e in calls(ali, 'alicloud', 'JoinSecurityGroup')] == [200]


@pytest.mark.parametrize('check_mode', [True, False])
def test_alicloud_a_wait_that_runs_out_names_the_eni_and_its_instance_and_sends_nothing(ali, capsys, check_mode):
    ali.emulator.seed({'alicloud': eni_on('Stopping')})
    args = ali_args(ali, network_interface_ids=['eni-second001'], security_group_ids=[ALI_GROUPS[1]], wait_timeout=2)
    result = run(alicloud_sg_binding.main, args, capsys, check_mode=check_mode)
    assert result['failed'] and result['refused_network_interface_ids'] == ['eni-second001']
    assert ('network interface eni-second001: instance i-owner0001 (network interface eni-second001 is attached to it) is still '
            'Stopping after waiting wait_timeout (2 s)') in result['msg']
    assert not calls(ali, 'alicloud', 'JoinSecurityGroup')


# -- Zenlayer Cloud -----------------------------------------------------------------------------

def zl_seed(instances, group_status='Available'):
    return {'credentials': [{'access_key': 'AKID-ZL-ASSUME', 'secret_key': ZL_SECRET}],
            'security_groups': [{'id': sg, 'status': group_status} for sg in ZL_GROUPS],
            'instances': [{'id': vm, 'status': 'RUNNING', 'security_groups': groups} for vm, groups in instances]}


def zl_args(running, **args):
    return dict(dict(access_key_id='AKID-ZL-ASSUME', access_key_password=ZL_SECRET, endpoint=running.endpoints['zenlayer'],
                     retry_delay=0.05, retry_max_delay=0.2), **args)


@pytest.fixture
def zl(running):
    running.emulator.reset()
    return running


def test_zenlayer_a_group_answered_as_available_in_capitals_is_bindable(zl, capsys):
    zl.emulator.seed({'zenlayer': zl_seed([(ZL_VM[0], [])])})
    zl.emulator.update_settings({'zenlayer': {'group_status_case': 'upper'}})
    args = zl_args(zl, instance_ids=[ZL_VM[0]], security_group_ids=[ZL_GROUPS[0]])
    for check_mode in (True, False):
        result = run(zenlayer_sg_binding.main, args, capsys, check_mode=check_mode)
        assert not result.get('failed'), result['msg']
        assert result['changed'] and result['instances'][0]['after'] == [ZL_GROUPS[0]]


@pytest.mark.parametrize('state, before', [('present', []), ('absent', [ZL_GROUPS[0], ZL_GROUPS[1]])])
def test_zenlayer_an_already_so_answer_is_success_for_that_instance(zl, capsys, state, before):
    # A stale read (the cloud shows the list from before the previous task's write) makes the module send a write that is
    # already so; the cloud answers an error for it instead of a no-op.
    zl.emulator.seed({'zenlayer': zl_seed([(ZL_VM[0], before)])})
    zl.emulator.update_settings({'zenlayer': {'duplicate_bind': 'error', 'unbind_not_bound': 'error', 'visibility_delay_reads': 2}})
    args = zl_args(zl, instance_ids=[ZL_VM[0]], security_group_ids=[ZL_GROUPS[0]], state=state)
    first = run(zenlayer_sg_binding.main, dict(args, wait=False), capsys)
    assert first['changed'] and not first.get('failed')
    result = run(zenlayer_sg_binding.main, args, capsys)
    assert not result.get('failed'), result['msg']
    code = 'ALREADY_ASSOCIATED' if state == 'present' else 'NOT_ASSOCIATED'
    assert any(code in w and 'taken as already done' in w for w in warnings(result)), warnings(result)
    assert not any('lost' in w or 're-reading' in w for w in warnings(result)), warnings(result)
    assert result['instances'][0]['after'] == ([ZL_GROUPS[0]] if state == 'present' else [ZL_GROUPS[1]])
    assert len(result['request_ids']) == 1


def test_zenlayer_a_refused_unbind_of_the_last_group_names_the_instance_and_says_why(zl, capsys):
    zl.emulator.seed({'zenlayer': zl_seed([(ZL_VM[0], [ZL_GROUPS[0]]), (ZL_VM[1], [ZL_GROUPS[0], ZL_GROUPS[1]])])})
    zl.emulator.update_settings({'zenlayer': {'unbind_last': 'refuse'}})
    # A swap binds first: the instance is never left bare, so the refusal never comes.
    swap = run(zenlayer_sg_binding.main, zl_args(zl, instance_ids=[ZL_VM[0]], security_group_ids=[ZL_GROUPS[2]], purge=True), capsys)
    assert not swap.get('failed'), swap['msg']
    result = run(zenlayer_sg_binding.main, zl_args(zl, instance_ids=ZL_VM[:2], security_group_ids=[ZL_GROUPS[2], ZL_GROUPS[0]],
                                                   state='absent'), capsys)
    assert result['failed'] and result['error']['code'] == 'OPERATION_DENIED_INSTANCE_LAST_SECURITY_GROUP'
    assert 'instance %s would have been left without any security group' % ZL_VM[0] in result['msg']
    assert dict((i['instance_id'], i['after']) for i in result['instances']) == {ZL_VM[0]: [ZL_GROUPS[2]], ZL_VM[1]: [ZL_GROUPS[1]]}


def test_zenlayer_unbinding_a_group_that_is_not_available_is_refused_in_check_mode_too(zl, capsys):
    zl.emulator.seed({'zenlayer': zl_seed([(ZL_VM[0], [ZL_GROUPS[0]])], group_status='Deleting')})
    args = zl_args(zl, instance_ids=[ZL_VM[0]], security_group_ids=[ZL_GROUPS[0]], state='absent')
    for check_mode in (True, False):
        result = run(zenlayer_sg_binding.main, args, capsys, check_mode=check_mode)
        assert result['failed'] and result['refused_instance_ids'] == [ZL_VM[0]]
        assert 'security group %s is Deleting, and only an Available one can be unbound' % ZL_GROUPS[0] in result['msg']
    assert not calls(zl, 'zenlayer', 'UnAssociateSecurityGroupInstance')


def test_zenlayer_max_security_groups_above_the_documented_two_is_refused_before_any_request(zl, capsys):
    zl.emulator.seed({'zenlayer': zl_seed([(ZL_VM[0], [ZL_GROUPS[0]])])})
    zl.emulator.update_settings({'zenlayer': {'max_security_groups_per_instance': 3}})
    result = run(zenlayer_sg_binding.main, zl_args(zl, instance_ids=[ZL_VM[0]], security_group_ids=ZL_GROUPS, max_security_groups=3), capsys)
    assert result['failed'] and result['msg'].startswith("max_security_groups: 3 is above Zenlayer Cloud's hard limit of 2")
    assert not calls(zl, 'zenlayer')


def test_zenlayer_purge_to_no_group_needs_allow_no_groups(zl, capsys):
    zl.emulator.seed({'zenlayer': zl_seed([(ZL_VM[0], [ZL_GROUPS[0]]), (ZL_VM[1], [ZL_GROUPS[1]])])})
    args = zl_args(zl, instance_ids=ZL_VM[:2], security_group_ids=[], purge=True)
    result = run(zenlayer_sg_binding.main, args, capsys)
    assert result['failed'] and 'allow_no_groups: true' in result['msg'] and not calls(zl, 'zenlayer')
    result = run(zenlayer_sg_binding.main, dict(args, allow_no_groups=True), capsys)
    assert result['changed'] and [i['after'] for i in result['instances']] == [[], []]


# -- Tencent Cloud ------------------------------------------------------------------------------

def test_tencentcloud_an_endpoint_naming_a_cvm_host_alone_is_warned_about_at_run_time(running, capsys):
    running.emulator.reset()
    running.emulator.seed({'tencentcloud': {
        'credentials': [{'access_key': 'AKIDassume000001', 'secret_key': TC_SECRET}],
        'security_groups': [{'id': 'sg-00000001', 'region': 'ap-guangzhou'}],
        'instances': [{'id': 'ins-00000001', 'region': 'ap-guangzhou', 'status': 'RUNNING', 'security_groups': ['sg-00000001']}]}})
    args = dict(secret_id='AKIDassume000001', secret_key=TC_SECRET, region='ap-guangzhou', instance_ids=['ins-00000001'],
                security_group_ids=['sg-00000001'], endpoint='http://cvm.invalid')
    # No such host (.invalid never resolves): the first read fails, and the warning is there all the same.
    result = run(tencentcloud_sg_binding.main, dict(args, timeout=2, retries=0), capsys)
    assert any('set vpc_endpoint to the VPC host, for example http://vpc.invalid' in w for w in warnings(result)), result
    result = run(tencentcloud_sg_binding.main, dict(args, endpoint=running.endpoints['tencentcloud']), capsys)
    assert not result.get('failed') and not warnings(result)
