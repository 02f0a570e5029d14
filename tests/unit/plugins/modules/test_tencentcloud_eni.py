# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tencentcloud_sg_binding and sg_binding_info on secondary ENIs (network_interface_ids), against the emulator:
results, refusals before any write, calls counted against the minimum, bounds never crossed mid-change."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.modules import sg_binding, sg_binding_info, tencentcloud_sg_binding

SECRET = 'Tc-Eni-Secret-Never-Shown'
GZ = 'ap-guangzhou'
GROUPS = ['sg-%08d' % n for n in range(1, 8)]
ENIS = ['eni-%08d' % n for n in range(1, 1001)]
CREDENTIALS = {'secret_id': 'AKIDeni000000001', 'secret_key': SECRET, 'region': GZ, 'retry_delay': 0.05, 'retry_max_delay': 0.2,
               'wait_timeout': 20}


def seed(count=3, groups=None, **extra):
    enis = [dict({'id': eni, 'region': GZ, 'instance_id': 'ins-00000001', 'security_groups': list(groups or [GROUPS[0]])}, **extra)
            for eni in ENIS[:count]]
    enis.append({'id': 'eni-primary1', 'region': GZ, 'instance_id': 'ins-00000001', 'primary': True})
    return {'tencentcloud': {
        'credentials': [{'access_key': CREDENTIALS['secret_id'], 'secret_key': SECRET}],
        'security_groups': [{'id': sg, 'region': GZ, 'name': 'group-%s' % sg[-1]} for sg in GROUPS],
        'instances': [{'id': 'ins-00000001', 'region': GZ, 'security_groups': [GROUPS[0]]}],
        'network_interfaces': enis}}


@pytest.fixture
def cloud(running):
    running.emulator.reset()
    running.emulator.seed(seed())
    running.emulator.update_settings({'record_history': True})
    return running


def run(main, args, capsys, check_mode=False):
    with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=True)):
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    assert SECRET not in out
    return json.loads(out)


def binding(cloud, capsys, check_mode=False, **args):
    return run(tencentcloud_sg_binding.main, dict(CREDENTIALS, endpoint=cloud.endpoints['tencentcloud'], **args), capsys, check_mode)


def calls(cloud):
    counted = {}
    for entry in cloud.emulator.requests('tencentcloud'):
        counted[entry['action']] = counted.get(entry['action'], 0) + 1
    return counted


def lists(cloud):
    return dict((e['id'], e['security_groups']) for e in cloud.emulator.state()['tencentcloud']['network_interfaces'])


def test_bind_reports_network_interfaces_then_repeats_unchanged(cloud, capsys):
    args = dict(network_interface_ids=ENIS[:2], security_group_ids=[GROUPS[1]])
    check = binding(cloud, capsys, check_mode=True, **args)
    assert check['changed'] and lists(cloud)[ENIS[0]] == [GROUPS[0]]
    assert check['operations'] == [{'action': 'bind', 'security_group_ids': [GROUPS[1]], 'network_interface_ids': ENIS[:2]}]
    result = binding(cloud, capsys, **args)
    assert result['changed']
    assert [(t['network_interface_id'], t['before'], t['after']) for t in result['network_interfaces']] == [
        (eni, [GROUPS[0]], [GROUPS[0], GROUPS[1]]) for eni in ENIS[:2]]
    assert lists(cloud)[ENIS[1]] == [GROUPS[0], GROUPS[1]]
    assert not binding(cloud, capsys, **args)['changed']
    assert not binding(cloud, capsys, check_mode=True, **args)['changed']


def test_purge_to_another_order_replaces_the_list_of_each_interface(cloud, capsys):
    result = binding(cloud, capsys, network_interface_ids=ENIS[:2], security_group_ids=[GROUPS[2], GROUPS[0]], purge=True)
    assert result['changed'] and lists(cloud)[ENIS[0]] == [GROUPS[2], GROUPS[0]]
    assert [op['action'] for op in result['operations']] == ['set', 'set']
    assert calls(cloud).get('ModifyNetworkInterfaceAttribute') == 2


def test_unbind_to_no_group(cloud, capsys):
    result = binding(cloud, capsys, network_interface_ids=[ENIS[0]], security_group_ids=[GROUPS[0]], state='absent')
    assert result['changed'] and lists(cloud)[ENIS[0]] == []
    assert calls(cloud).get('DisassociateNetworkInterfaceSecurityGroups') == 1


def test_a_primary_interface_is_refused_naming_its_instance_before_any_write(cloud, capsys):
    result = binding(cloud, capsys, network_interface_ids=[ENIS[0], 'eni-primary1'], security_group_ids=[GROUPS[1]])
    assert result['failed']
    assert 'network interface eni-primary1: is the primary network interface of instance ins-00000001' in result['msg']
    assert 'use instance_ids: [ins-00000001] instead' in result['msg']
    assert not [e for e in cloud.emulator.requests('tencentcloud') if e['action'].startswith(('Associate', 'Disassociate', 'Modify'))]


def test_an_interface_being_deleted_is_refused_and_one_attaching_is_awaited(cloud, capsys):
    doc = seed(0)
    doc['tencentcloud']['network_interfaces'] += [
        {'id': 'eni-deleting', 'region': GZ, 'state': 'DELETING', 'security_groups': [GROUPS[0]]},
        {'id': 'eni-attachin', 'region': GZ, 'instance_id': 'ins-00000001', 'state': 'ATTACHING', 'transition_s': 1,
         'security_groups': [GROUPS[0]]}]
    cloud.emulator.seed(doc)
    refused = binding(cloud, capsys, network_interface_ids=['eni-deleting'], security_group_ids=[GROUPS[1]])
    assert refused['failed'] and 'eni-deleting: is DELETING' in refused['msg'] and 'AVAILABLE or INUSE' in refused['msg']
    awaited = binding(cloud, capsys, network_interface_ids=['eni-attachin'], security_group_ids=[GROUPS[1]])
    assert awaited['changed'] and lists(cloud)['eni-attachin'] == [GROUPS[0], GROUPS[1]]


def test_unknown_interfaces_are_reported_together(cloud, capsys):
    result = binding(cloud, capsys, network_interface_ids=[ENIS[0], 'eni-unknown1', 'eni-unknown2'], security_group_ids=[GROUPS[1]])
    assert result['failed'] and 'eni-unknown1' in result['msg'] and 'eni-unknown2' in result['msg']


@pytest.mark.parametrize('unknown_id', ['omit', 'error'])
def test_unknown_interfaces_are_found_whichever_way_describe_answers(cloud, capsys, unknown_id):
    cloud.emulator.update_settings({'tencentcloud': {'describe_eni_unknown_id': unknown_id}})
    result = binding(cloud, capsys, network_interface_ids=[ENIS[0], 'eni-unknown1'], security_group_ids=[GROUPS[1]], on_missing='skip')
    assert result['changed'] and lists(cloud)[ENIS[0]] == [GROUPS[0], GROUPS[1]]


def test_eventual_writes_are_awaited_until_they_show(cloud, capsys):
    cloud.emulator.update_settings({'tencentcloud': {'write_apply_delay_s': 1.0}})
    result = binding(cloud, capsys, network_interface_ids=ENIS[:2], security_group_ids=[GROUPS[1]])
    assert result['changed'] and [t['after'] for t in result['network_interfaces']] == [[GROUPS[0], GROUPS[1]]] * 2
    assert calls(cloud).get('AssociateNetworkInterfaceSecurityGroups') == 1


def test_the_interface_group_quota_is_never_crossed_mid_change(cloud, capsys):
    cloud.emulator.seed(seed(2, groups=GROUPS[:5]))
    result = binding(cloud, capsys, network_interface_ids=ENIS[:2], security_group_ids=GROUPS[2:7], purge=True)
    assert result['changed'] and lists(cloud)[ENIS[0]] == GROUPS[2:7]
    for change in cloud.emulator.state_history('tencentcloud'):
        assert len(change['after'] or []) <= 5


@pytest.mark.parametrize('fault', ['server_error', 'commit_then_drop', 'throttle'])
@pytest.mark.parametrize('action, args', [
    ('AssociateNetworkInterfaceSecurityGroups', dict(security_group_ids=[GROUPS[1]])),
    ('DisassociateNetworkInterfaceSecurityGroups', dict(security_group_ids=[GROUPS[0]], state='absent')),
    ('ModifyNetworkInterfaceAttribute', dict(security_group_ids=[GROUPS[1], GROUPS[0]], purge=True)),
])
def test_faults_on_every_write_path_end_in_the_wanted_state(cloud, capsys, fault, action, args):
    cloud.emulator.add_fault({'provider': 'tencentcloud', 'action': action, 'kind': fault, 'count': 1})
    result = binding(cloud, capsys, network_interface_ids=ENIS[:2], **args)
    assert not result.get('failed'), result.get('msg')
    want = {'AssociateNetworkInterfaceSecurityGroups': [GROUPS[0], GROUPS[1]], 'DisassociateNetworkInterfaceSecurityGroups': [],
            'ModifyNetworkInterfaceAttribute': [GROUPS[1], GROUPS[0]]}[action]
    assert lists(cloud)[ENIS[0]] == want and lists(cloud)[ENIS[1]] == want


@pytest.mark.parametrize('size', [1, 100, 1000])
def test_calls_against_the_minimum(cloud, capsys, size):
    cloud.emulator.seed(seed(size))
    cloud.emulator.update_settings({'tencentcloud': {'max_security_groups_per_eni': 5}})
    bind = binding(cloud, capsys, network_interface_ids=ENIS[:size], security_group_ids=[GROUPS[1]], max_concurrency=10)
    assert bind['changed']
    pages = -(-size // 100)
    # read, the owner's tags (one instance: the quarantine step), check the group, one Associate per 100, read back.
    assert calls(cloud) == {'DescribeNetworkInterfaces': 2 * pages, 'DescribeInstances': 1, 'DescribeSecurityGroups': 1,
                            'AssociateNetworkInterfaceSecurityGroups': pages}
    cloud.emulator.clear_requests()
    purge = binding(cloud, capsys, network_interface_ids=ENIS[:size], security_group_ids=[GROUPS[1]], purge=True, max_concurrency=10)
    assert purge['changed'] and lists(cloud)[ENIS[size - 1]] == [GROUPS[1]]
    # One Disassociate per 100 ENIs, not one replace per ENI (equal for one ENI: the replace is kept).
    write = 'ModifyNetworkInterfaceAttribute' if size == 1 else 'DisassociateNetworkInterfaceSecurityGroups'
    assert calls(cloud) == {'DescribeNetworkInterfaces': 2 * pages, 'DescribeInstances': 1, write: pages}


def test_sg_binding_gives_the_provider_modules_results(cloud, capsys):
    args = dict(CREDENTIALS, endpoint=cloud.endpoints['tencentcloud'], network_interface_ids=ENIS[:2], security_group_ids=[GROUPS[1]])
    generic = run(sg_binding.main, dict(args, provider='tencentcloud'), capsys, check_mode=True)
    own = run(tencentcloud_sg_binding.main, args, capsys, check_mode=True)
    drop = ('invocation', 'request_ids')
    assert dict((k, v) for k, v in generic.items() if k not in drop) == dict((k, v) for k, v in own.items() if k not in drop)


def test_info_reads_interfaces_and_answers_the_reverse_question_without_primary_ones(cloud, capsys):
    base = dict(CREDENTIALS, provider='tencentcloud', endpoint=cloud.endpoints['tencentcloud'])
    for key in ('retry_delay', 'retry_max_delay', 'wait_timeout'):
        base.pop(key)
    result = run(sg_binding_info.main, dict(base, network_interface_ids=[ENIS[0], 'eni-unknown1']), capsys)
    assert [(i['network_interface_id'], i['security_group_ids']) for i in result['network_interfaces']] == [(ENIS[0], [GROUPS[0]])]
    assert result['missing'] == ['eni-unknown1']
    reverse = run(sg_binding_info.main, dict(base, network_interface_ids=[], security_group_ids=[GROUPS[0], GROUPS[1]]), capsys)
    bindings = dict((b['security_group_id'], b['network_interface_ids']) for b in reverse['bindings'])
    assert bindings == {GROUPS[0]: ENIS[:3], GROUPS[1]: []}
