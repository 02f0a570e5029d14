# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""network_interface_ids on baiducloud_sg_binding, sg_binding and sg_binding_info against the emulator: calls counted,
refusals before any write, faults on the update, check mode and repeats."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.modules import baiducloud_sg_binding, sg_binding, sg_binding_info

SECRET = 'Bd-Eni-Secret-Never-Shown'
GROUPS = ['g-%08d' % n for n in range(1, 13)]


def seed(count=3, **extra):
    enis = [{'id': 'eni-%08d' % n, 'vpc_id': 'vpc-one', 'instance_id': 'i-owner001', 'security_groups': [GROUPS[0]]} for n in range(count)]
    enis.append({'id': 'eni-primary1', 'vpc_id': 'vpc-one', 'instance_id': 'i-owner001', 'primary': True})
    enis.append({'id': 'eni-esgonly1', 'vpc_id': 'vpc-one', 'enterprise_security_groups': ['esg-abcdefgh'], 'security_groups': []})
    doc = {'credentials': [{'access_key': 'bdeni00000000001', 'secret_key': SECRET}],
           'security_groups': [{'id': sg, 'vpc_id': 'vpc-one'} for sg in GROUPS] + [{'id': 'g-othervpc', 'vpc_id': 'vpc-two'}],
           'instances': [{'id': 'i-owner001', 'vpc_id': 'vpc-one', 'security_groups': [GROUPS[0]]}],
           'network_interfaces': enis}
    doc.update(extra)
    return {'baiducloud': doc}


@pytest.fixture
def cloud(running):
    running.emulator.reset()
    running.emulator.seed(seed())
    return running


def run(cloud, capsys, main=baiducloud_sg_binding.main, check_mode=False, **args):
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    base = dict(access_key='bdeni00000000001', secret_key=SECRET, region='bj', endpoint=cloud.endpoints['baiducloud'],
                retry_delay=0.01, retry_max_delay=0.05)
    base.update(args)
    with patch_module_args(dict(base, _ansible_check_mode=check_mode, _ansible_diff=True)):
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    assert SECRET not in out
    return json.loads(out)


def actions(cloud):
    return [e['action'] for e in cloud.emulator.requests('baiducloud')]


def groups(cloud, eni_id):
    return [e for e in cloud.emulator.state()['baiducloud']['network_interfaces'] if e['id'] == eni_id][0]['security_groups']


ENIS = ['eni-00000000', 'eni-00000001', 'eni-00000002']


def test_bind_check_real_repeat_and_repeat_in_check(cloud, capsys):
    args = dict(network_interface_ids=ENIS, security_group_ids=[GROUPS[1]])
    checked = run(cloud, capsys, check_mode=True, **args)
    assert checked['changed'] and [t['after'] for t in checked['network_interfaces']] == [GROUPS[:2]] * 3
    assert all(a in ('GetEni', 'ListEnis', 'ListSecurityGroups', 'ListInstancesByIds') for a in actions(cloud))
    cloud.emulator.clear_requests()
    result = run(cloud, capsys, **args)
    assert result['changed'] and result['operations'] == checked['operations']
    assert result['operations'][0] == {'action': 'set', 'security_group_ids': GROUPS[:2], 'network_interface_ids': [ENIS[0]]}
    assert [groups(cloud, e) for e in ENIS] == [GROUPS[:2]] * 3 and len(result['request_ids']) == 3
    # reads: one GET and the VPC's list; the owners' tags (the quarantine step): one listByInstanceId; groups: one list;
    # owners' primary ENIs: one listByInstanceId; writes: one per ENI; read-back: one GET and the list
    assert sorted(actions(cloud)) == sorted(['GetEni', 'ListEnis', 'ListSecurityGroups'] + ['ListInstancesByIds'] * 2
                                            + ['UpdateEniSecurityGroups'] * 3 + ['GetEni', 'ListEnis'])
    for check_mode in (False, True):
        cloud.emulator.clear_requests()
        again = run(cloud, capsys, check_mode=check_mode, **args)
        # nothing to change: no owner is read for the quarantine step
        assert not again['changed'] and again['operations'] == [] and actions(cloud) == ['GetEni', 'ListEnis']


def test_unbind_and_purge_are_whole_list_updates(cloud, capsys):
    run(cloud, capsys, network_interface_ids=ENIS[:1], security_group_ids=GROUPS[1:3])
    result = run(cloud, capsys, network_interface_ids=ENIS[:1], security_group_ids=[GROUPS[0]], state='absent')
    assert result['network_interfaces'][0]['after'] == GROUPS[1:3] and groups(cloud, ENIS[0]) == GROUPS[1:3]
    result = run(cloud, capsys, network_interface_ids=ENIS[:1], security_group_ids=[GROUPS[3]], purge=True)
    assert result['operations'] == [{'action': 'set', 'security_group_ids': [GROUPS[3]], 'network_interface_ids': [ENIS[0]]}]
    assert groups(cloud, ENIS[0]) == [GROUPS[3]]


def test_the_last_group_and_more_than_ten_are_refused_before_any_write(cloud, capsys):
    last = run(cloud, capsys, network_interface_ids=ENIS[:1], security_group_ids=[GROUPS[0]], state='absent')
    assert last['failed'] and 'network interface eni-00000000 would have 0 security group(s) left' in last['msg']
    many = run(cloud, capsys, network_interface_ids=ENIS[:1], security_group_ids=GROUPS[1:11])
    assert many['failed'] and 'at most 10 per network interface' in many['msg']
    assert 'UpdateEniSecurityGroups' not in actions(cloud)


@pytest.mark.parametrize('eni_id, groups_to_bind, reason', [
    ('eni-primary1', [GROUPS[1]], 'is the primary network interface of instance i-owner001'),
    ('eni-esgonly1', [GROUPS[1]], 'has enterprise security groups (esg-abcdefgh)'),
    ('eni-00000000', ['g-othervpc'], 'is in VPC vpc-one, and security group g-othervpc is in vpc-two'),
])
def test_refusals_come_before_any_write_in_check_mode_too(cloud, capsys, eni_id, groups_to_bind, reason):
    for check_mode in (True, False):
        result = run(cloud, capsys, check_mode=check_mode, network_interface_ids=[eni_id], security_group_ids=groups_to_bind)
        assert result['failed'] and reason in result['msg'] and result['refused_network_interface_ids'] == [eni_id]
    assert 'UpdateEniSecurityGroups' not in actions(cloud)


def test_a_missing_eni_is_reported_by_id_before_any_write(cloud, capsys):
    result = run(cloud, capsys, network_interface_ids=[ENIS[0], 'eni-gone0001'], security_group_ids=[GROUPS[1]])
    assert result['failed'] and result['missing_network_interface_ids'] == ['eni-gone0001']
    assert 'UpdateEniSecurityGroups' not in actions(cloud)


@pytest.mark.parametrize('kind', ['commit_then_drop', 'reset', 'server_error', 'throttle', 'in_progress', 'truncate'])
def test_faults_on_the_update_end_with_every_eni_right_and_no_double_apply(cloud, capsys, kind):
    cloud.emulator.update_settings({'record_history': True})
    cloud.emulator.add_fault({'provider': 'baiducloud', 'action': 'UpdateEniSecurityGroups', 'kind': kind, 'after': 1})
    result = run(cloud, capsys, network_interface_ids=ENIS, security_group_ids=[GROUPS[1]])
    assert not result.get('failed'), result['msg']
    assert [groups(cloud, e) for e in ENIS] == [GROUPS[:2]] * 3
    assert [t['after'] for t in result['network_interfaces']] == [GROUPS[:2]] * 3


def test_sg_binding_and_sg_binding_info_take_network_interface_ids(cloud, capsys):
    result = run(cloud, capsys, main=sg_binding.main, provider='baiducloud', network_interface_ids=ENIS[:2], security_group_ids=[GROUPS[1]])
    assert result['changed'] and [t['network_interface_id'] for t in result['network_interfaces']] == ENIS[:2]
    cloud.emulator.clear_requests()
    info = run(cloud, capsys, main=sg_binding_info.main, provider='baiducloud', network_interface_ids=ENIS + ['eni-gone0001'],
               security_group_ids=[GROUPS[1]])
    assert [(t['network_interface_id'], t['security_group_ids'], t['status']) for t in info['network_interfaces']] == \
        [(ENIS[0], GROUPS[:2], 'inuse'), (ENIS[1], GROUPS[:2], 'inuse'), (ENIS[2], GROUPS[:1], 'inuse')]
    assert info['bindings'] == [{'security_group_id': GROUPS[1], 'network_interface_ids': ENIS[:2]}]
    assert 'eni-gone0001' in json.dumps(info['missing'])
    # 1 GET + 1 list for the ENIs, 1 GET for the unknown one; the reverse question: 1 group list + 1 VPC list; names: 1 group list
    assert sorted(actions(cloud)) == ['GetEni', 'GetEni', 'ListEnis', 'ListEnis', 'ListSecurityGroups', 'ListSecurityGroups']
