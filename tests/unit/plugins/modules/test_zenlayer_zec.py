# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""zenlayer_sg_binding, sg_binding and sg_binding_info on Zenlayer Elastic Compute (zec) vNICs, in-process
against the emulator: check, real, repeat, repeat in check; the info module's VPC default group and reverse
question; and the calls each run makes against the minimum, for 1, 100 and 1000 vNICs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import urllib.request

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.modules import sg_binding, sg_binding_info, zenlayer_sg_binding

AK, SK = 'AKID-ZL-ZEC', 'Zl-Zec-Password-Never-Shown'
SG_OLD, SG_NEW, SG_VPC = '700000000000000001', '700000000000000002', '700000000000000009'
VPC = 'vpc-zec-1'


def vnic_ids(n):
    return ['nic-%05d' % i for i in range(n)]


def seed(n, bare=0):
    """n vNICs: the first of each pair the Primary vNIC of a zec instance; the last ``bare`` without a group of their own."""
    nics = []
    for i, nid in enumerate(vnic_ids(n)):
        nic = {'id': nid, 'vpc': VPC, 'instance': 'zec-%05d' % (i // 2), 'type': 'Primary' if i % 2 == 0 else 'Secondary'}
        if i < n - bare:
            nic['security_group'] = SG_OLD
        nics.append(nic)
    return {'credentials': [{'access_key': AK, 'secret_key': SK}],
            'security_groups': [{'id': sg, 'name': name} for sg, name in ((SG_OLD, 'old'), (SG_NEW, 'new'), (SG_VPC, 'vpc-default'))],
            'zec_vpcs': [{'id': VPC, 'security_group': SG_VPC}],
            'zec_instances': [{'id': 'zec-%05d' % i} for i in range((n + 1) // 2)],
            'network_interfaces': nics}


@pytest.fixture
def zec(running):
    running.emulator.reset()
    running.emulator.settings['enforce_rate_limits'] = False
    return running


def admin(running, path):
    with urllib.request.urlopen(running.endpoints['admin'] + path, timeout=10) as resp:  # nosec - loopback only
        return json.loads(resp.read().decode('utf-8'))


def run(main, args, capsys, check_mode=False):
    with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=True)):
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    assert SK not in out
    return json.loads(out)


def base(running, **args):
    return dict(access_key_id=AK, access_key_password=SK, endpoint=running.endpoints['zenlayer'], retry_delay=0.05,
                retry_max_delay=0.2, **args)


def calls(running):
    counted = {}
    for request in admin(running, '/requests?provider=zenlayer')['requests']:
        counted[request['action']] = counted.get(request['action'], 0) + 1
    running.emulator.clear_requests()
    return counted


def groups(running):
    return dict((nic['id'], nic['security_groups']) for nic in running.emulator.state()['zenlayer']['network_interfaces'])


@pytest.mark.parametrize('main, extra', [(zenlayer_sg_binding.main, {}), (sg_binding.main, {'provider': 'zenlayer'})])
def test_check_real_repeat_and_repeat_in_check_switch_each_vnic_once(zec, capsys, main, extra):
    zec.emulator.seed({'zenlayer': seed(4, bare=1)})
    args = base(zec, network_interface_ids=vnic_ids(4), security_group_ids=[SG_NEW], purge=True, **extra)
    check = run(main, args, capsys, check_mode=True)
    assert check['changed'] and [n['after'] for n in check['network_interfaces']] == [[SG_NEW]] * 4 and groups(zec)[vnic_ids(4)[0]] == [SG_OLD]
    assert [op['action'] for op in check['operations']] == ['set'] * 4
    real = run(main, args, capsys)
    assert real['changed'] and real['operations'] == check['operations'] and real['diff'] == check['diff']
    assert groups(zec) == dict((nid, [SG_NEW]) for nid in vnic_ids(4))
    for check_mode in (False, True):
        again = run(main, args, capsys, check_mode=check_mode)
        assert not again['changed'] and again['operations'] == []


def test_a_second_group_and_absent_of_the_only_group_are_refused_before_any_write(zec, capsys):
    zec.emulator.seed({'zenlayer': seed(2)})
    second = run(zenlayer_sg_binding.main, base(zec, network_interface_ids=vnic_ids(2), security_group_ids=[SG_NEW]), capsys)
    assert second['failed'] and 'vNIC nic-00000 would have 2 security groups' in second['msg'] and 'no unbind call' in second['msg']
    absent = run(zenlayer_sg_binding.main, base(zec, network_interface_ids=vnic_ids(1), security_group_ids=[SG_OLD], state='absent'), capsys)
    assert absent['failed'] and 'would have 0 security group(s) left' in absent['msg'] and 'purge: true' in absent['msg']
    assert 'ModifyNetworkInterfaceAttribute' not in calls(zec) and groups(zec)[vnic_ids(1)[0]] == [SG_OLD]


def test_a_zec_instance_switches_its_primary_vnic_only(zec, capsys):
    zec.emulator.seed({'zenlayer': seed(2)})
    result = run(zenlayer_sg_binding.main, base(zec, zec_instance_ids=['zec-00000'], security_group_ids=[SG_NEW], purge=True), capsys)
    assert result['changed'] and result['zec_instances'][0]['after'] == [SG_NEW]
    assert groups(zec) == {'nic-00000': [SG_NEW], 'nic-00001': [SG_OLD]}


def test_a_faulted_switch_is_retried_from_the_read_back(zec, capsys):
    zec.emulator.seed({'zenlayer': seed(3)})
    zec.emulator.add_fault({'provider': 'zenlayer', 'action': 'ModifyNetworkInterfaceAttribute', 'kind': 'server_error', 'count': 1})
    result = run(zenlayer_sg_binding.main, base(zec, network_interface_ids=vnic_ids(3), security_group_ids=[SG_NEW], purge=True), capsys)
    assert result['changed'] and not result.get('failed') and groups(zec) == dict((nid, [SG_NEW]) for nid in vnic_ids(3))


def test_info_shows_each_vnic_s_vpc_default_group_and_answers_the_reverse_question(zec, capsys):
    zec.emulator.seed({'zenlayer': seed(3, bare=1)})
    info = run(sg_binding_info.main, base(zec, provider='zenlayer', network_interface_ids=vnic_ids(3)), capsys)
    assert [(n['network_interface_id'], n['security_group_ids'], n['vpc_default_security_group_id'], n['vpc_id']) for n in info['network_interfaces']] == [
        ('nic-00000', [SG_OLD], SG_VPC, VPC), ('nic-00001', [SG_OLD], SG_VPC, VPC), ('nic-00002', [], SG_VPC, VPC)]
    reverse = run(sg_binding_info.main, base(zec, provider='zenlayer', network_interface_ids=[], security_group_ids=[SG_OLD]), capsys)
    assert reverse['bindings'] == [{'security_group_id': SG_OLD, 'network_interface_ids': vnic_ids(2)}]
    by_instance = run(sg_binding_info.main, base(zec, provider='zenlayer', zec_instance_ids=[], security_group_ids=[SG_OLD]), capsys)
    assert by_instance['bindings'] == [{'security_group_id': SG_OLD, 'zec_instance_ids': ['zec-00000']}]


def pages(count):
    return -(-count // 100)


# The minimum: a read of 100 vNICs a call, one read of the zec instances of the vNICs that change, 100 a call (the
# quarantine step: their tags), one switch per vNIC that changes, a read-back of those, one DescribeSecurityGroups.
@pytest.mark.parametrize('n', [1, 100, 1000])
def test_calls_against_the_minimum(zec, capsys, n):
    bare = n // 2
    owners = {'DescribeInstances': pages((n + 1) // 2)}
    bare_owners = {'DescribeInstances': pages(len(set(i // 2 for i in range(n - bare, n))))} if bare else {}
    zec.emulator.seed({'zenlayer': seed(n, bare=bare)})
    bind = run(zenlayer_sg_binding.main, base(zec, network_interface_ids=vnic_ids(n), security_group_ids=[SG_OLD], max_concurrency=16,
                                              rate_limit=500.0), capsys)
    assert bind['changed'] == (bare > 0)
    written = {'ModifyNetworkInterfaceAttribute': bare, 'DescribeSecurityGroups': 1} if bare else {}
    assert calls(zec) == dict({'DescribeNetworkInterfaces': pages(n) + pages(bare)}, **dict(bare_owners, **written))
    purge = run(zenlayer_sg_binding.main, base(zec, network_interface_ids=vnic_ids(n), security_group_ids=[SG_NEW], purge=True,
                                               max_concurrency=16, rate_limit=500.0), capsys)
    assert purge['changed'] and calls(zec) == dict(owners, DescribeNetworkInterfaces=2 * pages(n), ModifyNetworkInterfaceAttribute=n,
                                                   DescribeSecurityGroups=1)


def test_sg_bindings_role_batches_reach_zec_vnics_and_instances(zec, capsys):
    """What the sg_bindings role does with zec entries: the batches its filter makes of them (the filter is controller code,
    tested in tests/unit/plugins/filter/test_role_filters.py with these entries), each applied with sg_binding."""
    zec.emulator.seed({'zenlayer': seed(4)})
    batches = [{'provider': 'zenlayer', 'network_interface_ids': vnic_ids(4)[1:], 'security_group_ids': [SG_NEW], 'state': 'present',
                'purge': True},
               {'provider': 'zenlayer', 'zec_instance_ids': ['zec-00000'], 'security_group_ids': [SG_NEW], 'state': 'present', 'purge': True}]
    for batch in batches:
        assert run(sg_binding.main, base(zec, **batch), capsys)['changed']
    assert groups(zec) == dict((nid, [SG_NEW]) for nid in vnic_ids(4))
