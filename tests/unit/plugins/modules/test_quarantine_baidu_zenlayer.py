# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 23 on Baidu AI Cloud and Zenlayer, through the modules against the emulator: sg_quarantine_record writes and
removes records as the clouds' tags, sg_binding_info shows them and each instance's other interfaces, and the binding
modules leave quarantined instances (and interfaces of quarantined instances) alone."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.modules import (baiducloud_sg_binding, sg_binding_info, sg_quarantine_record,
                                                                     zenlayer_sg_binding)

SECRET = 'Quarantine-Modules-Secret-Never-Shown'
BD = dict(provider='baiducloud', access_key='bdqrecord0000001', secret_key=SECRET, region='bj')
ZL = dict(provider='zenlayer', access_key_id='AKID-ZL-QRECORD', access_key_password=SECRET)
ISOLATED_AT = '2026-12-07T12:00:00+00:00'


def run(main, args, capsys, check_mode=False):
    with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=True, retry_delay=0.01, retry_max_delay=0.05)):
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    assert SECRET not in out
    return json.loads(out)


def without_provider(args):
    return dict((k, v) for k, v in args.items() if k != 'provider')


# -- Baidu AI Cloud ----------------------------------------------------------------------------------

def baidu(running):
    running.emulator.reset()
    running.emulator.seed({'baiducloud': {
        'credentials': [{'access_key': BD['access_key'], 'secret_key': SECRET}],
        'security_groups': [{'id': sg, 'vpc_id': 'vpc-one'} for sg in ('g-original', 'g-eniorig1', 'g-quarant1')],
        'instances': [{'id': 'i-web00001', 'vpc_id': 'vpc-one', 'security_groups': ['g-original'], 'tags': {'owner': 'ops'}},
                      {'id': 'i-web00002', 'vpc_id': 'vpc-one', 'security_groups': ['g-original']}],
        'network_interfaces': [
            {'id': 'eni-prim0001', 'vpc_id': 'vpc-one', 'instance_id': 'i-web00001', 'primary': True},
            {'id': 'eni-sec00001', 'vpc_id': 'vpc-one', 'instance_id': 'i-web00001', 'security_groups': ['g-eniorig1']},
            {'id': 'eni-prim0002', 'vpc_id': 'vpc-one', 'instance_id': 'i-web00002', 'primary': True}]}})
    running.emulator.clear_requests()
    return dict(BD, endpoint=running.endpoints['baiducloud'])


def baidu_tags(running, iid):
    return dict((t['key'], t['value']) for i in running.emulator.state()['baiducloud']['instances'] if i['id'] == iid for t in i['tags'])


BD_RECORD = {'instance_id': 'i-web00001', 'security_group_ids': ['g-original'], 'quarantine_group_ids': ['g-quarant1'],
             'network_interfaces': [{'network_interface_id': 'eni-sec00001', 'security_group_ids': ['g-eniorig1']}],
             'isolated_at': ISOLATED_AT, 'reason': 'INC-7 web shell'}


def test_baidu_record_in_tags_shown_by_info_and_respected_by_the_binding_module(running, capsys):
    auth = baidu(running)
    info = run(sg_binding_info.main, dict(auth, instance_ids=['i-web00001', 'i-web00002'], interfaces=True), capsys)
    assert [i.get('network_interfaces') for i in info['instances']] == [
        [{'network_interface_id': 'eni-sec00001', 'security_group_ids': ['g-eniorig1']}], []]
    assert info['instances'][0]['tags'] == {'owner': 'ops'} and info['instances'][0]['quarantine'] is None

    written = run(sg_quarantine_record.main, dict(auth, records=[BD_RECORD]), capsys)
    assert written['changed'] and written['written'] == ['i-web00001'] and written['records'] == [BD_RECORD]
    tags = baidu_tags(running, 'i-web00001')
    assert tags['owner'] == 'ops' and tags['sg-quarantine'] and len(tags) <= 10
    assert run(sg_quarantine_record.main, dict(auth, records=[dict(BD_RECORD, reason='second')]), capsys)['kept'] == ['i-web00001']

    info = run(sg_binding_info.main, dict(auth, instance_ids=['i-web00001']), capsys)
    assert info['instances'][0]['quarantine'] == BD_RECORD

    module = without_provider(auth)
    held = run(baiducloud_sg_binding.main, dict(module, instance_ids=['i-web00001', 'i-web00002'], security_group_ids=['g-quarant1'],
                                                purge=True), capsys)
    assert held['quarantined'] == ['i-web00001'] and len(held['warnings']) == 1
    eni = run(baiducloud_sg_binding.main, dict(module, network_interface_ids=['eni-sec00001'], security_group_ids=['g-quarant1'],
                                               purge=True), capsys)
    assert eni['quarantined'] == ['eni-sec00001'] and not eni['changed']
    changed = run(baiducloud_sg_binding.main, dict(module, network_interface_ids=['eni-sec00001'], security_group_ids=['g-quarant1'],
                                                   purge=True, quarantined='change'), capsys)
    assert changed['changed'] and changed['quarantined'] == []

    removed = run(sg_quarantine_record.main, dict(auth, state='absent', instance_ids=['i-web00001']), capsys)
    assert removed['removed'] == ['i-web00001'] and baidu_tags(running, 'i-web00001') == {'owner': 'ops'}


# -- Zenlayer: zec instances (and vm) ---------------------------------------------------------------------

SG_A, SG_B, SG_Q = '791721259766300001', '791721259766300002', '791721259766300003'


def zenlayer(running):
    running.emulator.reset()
    running.emulator.seed({'zenlayer': {
        'credentials': [{'access_key': ZL['access_key_id'], 'secret_key': SECRET}],
        'security_groups': [{'id': sg} for sg in (SG_A, SG_B, SG_Q)],
        'instances': [{'id': '802452345504900001', 'security_groups': [SG_A]}],
        'zec_vpcs': [{'id': 'vpc-q'}],
        'zec_instances': [{'id': 'zec-web1', 'tags': {'owner': 'ops'}}, {'id': 'zec-web2'}],
        'network_interfaces': [
            {'id': 'nic-p1', 'vpc': 'vpc-q', 'instance': 'zec-web1', 'type': 'Primary', 'security_group': SG_A},
            {'id': 'nic-s1', 'vpc': 'vpc-q', 'instance': 'zec-web1', 'type': 'Secondary', 'security_group': SG_B},
            {'id': 'nic-p2', 'vpc': 'vpc-q', 'instance': 'zec-web2', 'type': 'Primary', 'security_group': SG_A}]}})
    running.emulator.clear_requests()
    return dict(ZL, endpoint=running.endpoints['zenlayer'])


def zec_tags(running, iid):
    return dict((t['key'], t['value']) for i in running.emulator.state()['zenlayer']['zec_instances'] if i['id'] == iid for t in i['tags'])


ZEC_RECORD = {'instance_id': 'zec-web1', 'security_group_ids': [SG_A], 'quarantine_group_ids': [SG_Q],
              'network_interfaces': [{'network_interface_id': 'nic-s1', 'security_group_ids': [SG_B]}],
              'isolated_at': ISOLATED_AT, 'reason': None}


def test_zenlayer_zec_record_in_tags_shown_by_info_and_respected_by_the_binding_module(running, capsys):
    auth = zenlayer(running)
    info = run(sg_binding_info.main, dict(auth, zec_instance_ids=['zec-web1', 'zec-web2'], interfaces=True), capsys)
    found = info.get('zec_instances') or info.get('instances')
    assert [i.get('network_interfaces') for i in found] == [[{'network_interface_id': 'nic-s1', 'security_group_ids': [SG_B]}], []]

    written = run(sg_quarantine_record.main, dict(auth, instance_kind='zec_instance', records=[ZEC_RECORD]), capsys)
    assert written['written'] == ['zec-web1'] and zec_tags(running, 'zec-web1')['owner'] == 'ops'
    info = run(sg_binding_info.main, dict(auth, zec_instance_ids=['zec-web1']), capsys)
    assert (info.get('zec_instances') or info.get('instances'))[0]['quarantine'] == ZEC_RECORD

    module = without_provider(auth)
    held = run(zenlayer_sg_binding.main, dict(module, zec_instance_ids=['zec-web1', 'zec-web2'], security_group_ids=[SG_Q],
                                              purge=True), capsys)
    assert held['quarantined'] == ['zec-web1']
    nic = run(zenlayer_sg_binding.main, dict(module, network_interface_ids=['nic-s1'], security_group_ids=[SG_Q], purge=True), capsys)
    assert nic['quarantined'] == ['nic-s1'] and not nic['changed']

    removed = run(sg_quarantine_record.main, dict(auth, instance_kind='zec_instance', state='absent', instance_ids=['zec-web1']), capsys)
    assert removed['removed'] == ['zec-web1'] and zec_tags(running, 'zec-web1') == {'owner': 'ops'}


def test_zenlayer_vm_instances_have_no_interfaces_and_take_records(running, capsys):
    auth = zenlayer(running)
    info = run(sg_binding_info.main, dict(auth, instance_ids=['802452345504900001'], interfaces=True), capsys)
    assert info['instances'][0]['network_interfaces'] == []
    record = {'instance_id': '802452345504900001', 'security_group_ids': [SG_A], 'quarantine_group_ids': [SG_Q],
              'network_interfaces': [], 'isolated_at': ISOLATED_AT, 'reason': None}
    assert run(sg_quarantine_record.main, dict(auth, records=[record]), capsys)['written'] == ['802452345504900001']
    held = run(zenlayer_sg_binding.main, dict(without_provider(auth), instance_ids=['802452345504900001'], security_group_ids=[SG_Q],
                                              purge=True), capsys)
    assert held['quarantined'] == ['802452345504900001'] and not held['changed']
