# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 23's call counts on Baidu AI Cloud and Zenlayer: isolating and restoring 100 instances, each with one other
interface, with the record kept in tags; each step as the quarantine takes it (the provider's read, its other interfaces,
the record written, the binding modules for the instances and the interfaces with quarantined=change as the role passes
it, the record removed), against the emulator. The file store makes the same calls less the record's (the reads carry the
tags either way)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.module_utils import _baiducloud as baidu
from ansible_collections.multicloud.secgroup.plugins.module_utils import _quarantine_record as quarantine_record
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport
from ansible_collections.multicloud.secgroup.plugins.module_utils import _zenlayer as zenlayer
from ansible_collections.multicloud.secgroup.plugins.modules import baiducloud_sg_binding, zenlayer_sg_binding

SECRET = 'Quarantine-Count-Secret-Never-Shown'
N = 100


def record(limits, iid, groups, quarantine, interfaces):
    """The record's tags, encoded for the cloud's limits: one write a call whatever their number."""
    return quarantine_record.encode({'instance_id': iid, 'security_group_ids': groups, 'quarantine_group_ids': quarantine,
                                     'network_interfaces': interfaces, 'isolated_at': '2026-12-07T12:00:00+00:00',
                                     'reason': 'INC-23'}, limits, instance=iid)


def run(main, capsys, args):
    # rate_limit: the emulator enforces none here; the default pace (20 calls a second) would only slow the test.
    with patch_module_args(dict(args, retry_delay=0.01, retry_max_delay=0.05, rate_limit=1000.0, quarantined='change')):
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    assert SECRET not in out
    result = json.loads(out)
    assert not result.get('failed'), result
    return result


class Counter:
    def __init__(self, running, cloud):
        self.running, self.cloud, self.steps = running, cloud, collections.OrderedDict()

    def step(self, name, work):
        self.running.emulator.clear_requests()
        result = work()
        log = self.running.emulator.requests(self.cloud)
        assert all(e['status'] == 200 for e in log), [e for e in log if e['status'] != 200][:3]
        self.steps[name] = dict(collections.Counter(e['action'] for e in log))
        return result

    def total(self, *names):
        return sum(sum(self.steps[n].values()) for n in names)


def hooks(running, cloud_class, name, **params):
    conn = transport.Transport(name, max_retries=2, backoff=transport.Backoff(0.001, 0.001), secrets=[SECRET])
    return cloud_class(dict(params, max_concurrency=8), conn)


# -- Baidu AI Cloud: BCC instances, each with a second ENI -------------------------------------------

BD_IDS = ['i-q%07d' % n for n in range(N)]
BD_ENIS = ['eni-q%07d' % n for n in range(N)]
BD_AUTH = dict(access_key='bdquarantine0001', secret_key=SECRET, region='bj')


def baidu_seed():
    return {'baiducloud': {
        'credentials': [{'access_key': 'bdquarantine0001', 'secret_key': SECRET}],
        'security_groups': [{'id': sg, 'vpc_id': 'vpc-one'} for sg in ('g-original', 'g-eniorig1', 'g-quarant1')],
        'instances': [{'id': iid, 'vpc_id': 'vpc-one', 'security_groups': ['g-original']} for iid in BD_IDS],
        'network_interfaces': [{'id': 'eni-p%07d' % n, 'vpc_id': 'vpc-one', 'instance_id': iid, 'primary': True} for n, iid in enumerate(BD_IDS)]
        + [{'id': eni, 'vpc_id': 'vpc-one', 'instance_id': iid, 'security_groups': ['g-eniorig1']} for eni, iid in zip(BD_ENIS, BD_IDS)]}}


def test_baidu_isolate_and_restore_100_instances_with_the_record_in_tags(running, capsys):
    running.emulator.reset()
    running.emulator.seed(baidu_seed())
    count = Counter(running, 'baiducloud')
    module = dict(BD_AUTH, endpoint=running.endpoints['baiducloud'], state='present', purge=True)

    cloud = hooks(running, baidu.BaiduCloud, 'baiducloud', endpoint=running.endpoints['baiducloud'], instance_ids=BD_IDS, **BD_AUTH)
    count.step('read', lambda: cloud.read(BD_IDS))
    assert all(cloud.tags[i] == {} for i in BD_IDS)
    found = count.step('interfaces', lambda: cloud.attached_interfaces(BD_IDS))
    assert all(found[i][0]['security_group_ids'] == ['g-eniorig1'] for i in BD_IDS)
    tags = dict((i, record(baidu.TAG_LIMITS, i, ['g-original'], ['g-quarant1'], found[i])) for i in BD_IDS)
    count.step('write record', lambda: [cloud.write_tags(i, tags[i]) for i in BD_IDS])
    count.step('bind instances', lambda: run(baiducloud_sg_binding.main, capsys, dict(module, instance_ids=BD_IDS, security_group_ids=['g-quarant1'])))
    count.step('bind interfaces', lambda: run(baiducloud_sg_binding.main, capsys, dict(module, network_interface_ids=BD_ENIS,
                                                                                       security_group_ids=['g-quarant1'])))
    again = hooks(running, baidu.BaiduCloud, 'baiducloud', endpoint=running.endpoints['baiducloud'], instance_ids=BD_IDS, **BD_AUTH)
    count.step('restore read', lambda: again.read(BD_IDS))
    assert all(quarantine_record.decode(again.tags[i])['network_interfaces'] == found[i] for i in BD_IDS)
    count.step('restore instances', lambda: run(baiducloud_sg_binding.main, capsys, dict(module, instance_ids=BD_IDS, security_group_ids=['g-original'])))
    count.step('restore interfaces', lambda: run(baiducloud_sg_binding.main, capsys, dict(module, network_interface_ids=BD_ENIS,
                                                                                          security_group_ids=['g-eniorig1'])))
    count.step('remove record', lambda: [again.remove_tags(i, quarantine_record.record_keys(again.tags[i])) for i in BD_IDS])
    state = running.emulator.state()['baiducloud']
    assert all(i['security_groups'] == ['g-original'] and i['tags'] == [] for i in state['instances'])

    steps = count.steps
    assert steps['read'] == {'ListInstancesByIds': 1}
    assert steps['interfaces'] == {'ListEnis': 1}                      # one VPC, 200 ENIs: one page
    assert steps['write record'] == {'BindInstanceTags': N}
    assert steps['remove record'] == {'UnbindInstanceTags': N}
    assert steps['restore read'] == {'ListInstancesByIds': 1}
    print('\nBaidu AI Cloud, 100 instances + 100 ENIs, tags store: %s' % json.dumps(steps))
    print('isolate %d calls (file store %d); restore %d calls (file store %d)' % (
        count.total('read', 'interfaces', 'write record', 'bind instances', 'bind interfaces'),
        count.total('read', 'interfaces', 'bind instances', 'bind interfaces'),
        count.total('restore read', 'restore instances', 'restore interfaces', 'remove record'),
        count.total('restore read', 'restore instances', 'restore interfaces')))


# -- Zenlayer: vm instances, and zec instances each with a Secondary vNIC -------------------------------

ZL_AUTH = dict(access_key_id='AKID-ZL-QUARANTINE', access_key_password=SECRET)
VM_IDS = ['8024523455049%05d' % n for n in range(N)]
ZEC_IDS = ['zec-q%04d' % n for n in range(N)]
ZEC_NICS = ['nic-s%04d' % n for n in range(N)]
SG_ORIG, SG_NIC, SG_Q = '791721259766300001', '791721259766300002', '791721259766300003'


def zenlayer_seed():
    return {'zenlayer': {
        'credentials': [{'access_key': ZL_AUTH['access_key_id'], 'secret_key': SECRET}],
        'security_groups': [{'id': sg} for sg in (SG_ORIG, SG_NIC, SG_Q)],
        'instances': [{'id': iid, 'security_groups': [SG_ORIG]} for iid in VM_IDS],
        'zec_vpcs': [{'id': 'vpc-q'}],
        'zec_instances': [{'id': iid} for iid in ZEC_IDS],
        'network_interfaces': [{'id': 'nic-p%04d' % n, 'vpc': 'vpc-q', 'instance': iid, 'type': 'Primary', 'security_group': SG_ORIG}
                               for n, iid in enumerate(ZEC_IDS)]
        + [{'id': nic, 'vpc': 'vpc-q', 'instance': iid, 'type': 'Secondary', 'security_group': SG_NIC} for nic, iid in zip(ZEC_NICS, ZEC_IDS)]}}


@pytest.mark.parametrize('kind', ['instance_ids', 'zec_instance_ids'])
def test_zenlayer_isolate_and_restore_100_instances_with_the_record_in_tags(running, capsys, kind):
    running.emulator.reset()
    running.emulator.seed(zenlayer_seed())
    count = Counter(running, 'zenlayer')
    ids = VM_IDS if kind == 'instance_ids' else ZEC_IDS
    module = dict(ZL_AUTH, endpoint=running.endpoints['zenlayer'], state='present', purge=True)

    cloud = hooks(running, zenlayer.ZenlayerCloud, 'zenlayer', endpoint=running.endpoints['zenlayer'], **dict(ZL_AUTH, **{kind: ids}))
    count.step('read', lambda: cloud.read(ids))
    found = count.step('interfaces', lambda: cloud.attached_interfaces(ids))
    assert all(found[i] == ([] if kind == 'instance_ids' else [{'network_interface_id': 'nic-s%04d' % n, 'security_group_ids': [SG_NIC]}])
               for n, i in enumerate(ids))
    tags = dict((i, record(zenlayer.TAG_LIMITS, i, [SG_ORIG], [SG_Q], found[i])) for i in ids)
    count.step('write record', lambda: [cloud.write_tags(i, tags[i]) for i in ids])
    count.step('bind instances', lambda: run(zenlayer_sg_binding.main, capsys, dict(module, security_group_ids=[SG_Q], **{kind: ids})))
    if kind == 'zec_instance_ids':
        count.step('bind interfaces', lambda: run(zenlayer_sg_binding.main, capsys, dict(module, network_interface_ids=ZEC_NICS,
                                                                                         security_group_ids=[SG_Q])))
    again = hooks(running, zenlayer.ZenlayerCloud, 'zenlayer', endpoint=running.endpoints['zenlayer'], **dict(ZL_AUTH, **{kind: ids}))
    count.step('restore read', lambda: again.read(ids))
    assert all(quarantine_record.decode(again.tags[i])['network_interfaces'] == found[i] for i in ids)
    count.step('restore instances', lambda: run(zenlayer_sg_binding.main, capsys, dict(module, security_group_ids=[SG_ORIG], **{kind: ids})))
    if kind == 'zec_instance_ids':
        count.step('restore interfaces', lambda: run(zenlayer_sg_binding.main, capsys, dict(module, network_interface_ids=ZEC_NICS,
                                                                                            security_group_ids=[SG_NIC])))
    count.step('remove record', lambda: [again.remove_tags(i, quarantine_record.record_keys(again.tags[i])) for i in ids])
    state = running.emulator.state()['zenlayer']
    holders = state['instances'] if kind == 'instance_ids' else state['zec_instances']
    assert all(h['tags'] == [] for h in holders)

    steps = count.steps
    assert steps['read'] == {'DescribeInstances': 1}
    assert steps['interfaces'] == ({} if kind == 'instance_ids' else {'DescribeNetworkInterfaces': 1})
    assert steps['write record'] == {'ModifyResourceTags': N} and steps['remove record'] == {'ModifyResourceTags': N}
    isolate = [s for s in ('read', 'interfaces', 'write record', 'bind instances', 'bind interfaces') if s in steps]
    restore = [s for s in ('restore read', 'restore instances', 'restore interfaces', 'remove record') if s in steps]
    print('\nZenlayer %s, 100 targets, tags store: %s' % (kind, json.dumps(steps)))
    print('isolate %d calls (file store %d); restore %d calls (file store %d)' % (
        count.total(*isolate), count.total(*[s for s in isolate if s != 'write record']),
        count.total(*restore), count.total(*[s for s in restore if s != 'remove record'])))
