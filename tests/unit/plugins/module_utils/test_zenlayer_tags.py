# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Zenlayer, issue 23: tags with the vm and zec reads, the record written and removed with the resource manager's
ModifyResourceTags, a zec instance's Secondary vNICs, a vNIC's owner; against the emulator, counting the calls."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import pytest

from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _quarantine_record as quarantine_record
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport
from ansible_collections.multicloud.secgroup.plugins.module_utils import _zenlayer as zenlayer

AK, SK = 'AKID-ZL-HOOKS', 'Zenlayer-Tags-Secret-Never-Shown'
SG_A, SG_B, SG_VPC = '791721259766392536', '791721259766392537', '791721259766392538'
VPC = 'vpc-main'


@pytest.fixture(scope='module')
def running():
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy'):
        os.environ.pop(var, None)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..'))
    from emulator import start  # pylint: disable=import-outside-toplevel
    emulator = start()
    yield emulator
    emulator.stop()


@pytest.fixture
def emu(running):
    running.emulator.reset()
    return running


def vm_ids(n):
    return ['8024523455049%05d' % k for k in range(n)]


def zec_ids(n):
    return ['zec-%04d' % k for k in range(n)]


def seed(emu, vms=(), zecs=(), secondaries=(), **settings):
    """vms / zecs: (id, tags) pairs; each zec instance gets a Primary vNIC; secondaries: (nic, instance, group or None)."""
    nics = [{'id': 'nicp-' + iid, 'vpc': VPC, 'instance': iid, 'type': 'Primary', 'security_group': SG_A} for iid, dummy in zecs]
    nics += [dict({'id': nic, 'vpc': VPC, 'instance': iid, 'type': 'Secondary'}, **({'security_group': sg} if sg else {}))
             for nic, iid, sg in secondaries]
    emu.emulator.seed({'zenlayer': {
        'credentials': [{'access_key': AK, 'secret_key': SK}],
        'security_groups': [{'id': SG_A}, {'id': SG_B}, {'id': SG_VPC, 'is_default': True}],
        'instances': [{'id': iid, 'security_groups': [SG_A], 'tags': tags} for iid, tags in vms],
        'zec_vpcs': [{'id': VPC, 'security_group': SG_VPC}],
        'zec_instances': [{'id': iid, 'tags': tags} for iid, tags in zecs],
        'network_interfaces': nics}})
    if settings:
        emu.emulator.update_settings({'zenlayer': settings})
    emu.emulator.clear_requests()


def provider(emu, **params):
    defaults = dict(endpoint=emu.endpoints['zenlayer'], access_key_id=AK, access_key_password=SK, max_concurrency=4)
    defaults.update(params)
    conn = transport.Transport('zenlayer', max_retries=2, backoff=transport.Backoff(0.001, 0.001), secrets=[SK])
    return zenlayer.ZenlayerCloud(defaults, conn)


def calls(emu):
    return [e['action'] for e in emu.emulator.requests('zenlayer')]


def cloud_tags(emu, iid):
    state = emu.emulator.state()['zenlayer']
    return dict((t['key'], t['value']) for i in state['instances'] + state['zec_instances'] if i['id'] == iid for t in i['tags'])


def test_the_tag_limits_are_declared_per_kind_and_a_vnic_belongs_to_a_zec_instance():
    assert zenlayer.ZenlayerCloud.tag_limits == {'instance_ids': zenlayer.TAG_LIMITS, 'zec_instance_ids': zenlayer.TAG_LIMITS,
                                                 'network_interface_ids': None}
    assert (zenlayer.TAG_LIMITS.max_key_len, zenlayer.TAG_LIMITS.max_value_len) == (64, 64)       # documented
    assert zenlayer.ZenlayerCloud.owner_kinds == {'network_interface_ids': 'zec_instance_ids'}


@pytest.mark.parametrize('kind', ['instance_ids', 'zec_instance_ids'])
def test_a_record_encoded_for_the_declared_limits_goes_on_and_comes_off_whole(emu, kind):
    iid = vm_ids(1)[0] if kind == 'instance_ids' else 'zec-0000'
    seed(emu, vms=[(vm_ids(1)[0], {'owner': 'ops'})], zecs=[('zec-0000', {'owner': 'ops'})])
    cloud = provider(emu, **{kind: [iid]})
    cloud.read([iid])
    record = {'instance_id': iid, 'security_group_ids': [SG_B, SG_A], 'quarantine_group_ids': [SG_VPC],
              'network_interfaces': [] if kind == 'instance_ids' else [{'network_interface_id': 'nic-s1', 'security_group_ids': [SG_B]}],
              'isolated_at': '2026-12-07T12:00:00+00:00', 'reason': 'INC-42: web shell, café'}
    tags = quarantine_record.encode(record, zenlayer.TAG_LIMITS, instance=iid, own_tags=1)
    cloud.write_tags(iid, tags)
    again = provider(emu, **{kind: [iid]})
    again.read([iid])
    assert quarantine_record.decode(again.tags[iid]) == record
    again.remove_tags(iid, quarantine_record.record_keys(again.tags[iid]))
    assert cloud_tags(emu, iid) == {'owner': 'ops'}


def test_vm_tags_come_with_the_read_100_a_call(emu):
    vms = [(iid, {'sgq': str(n)} if n % 3 == 0 else None) for n, iid in enumerate(vm_ids(150))]
    seed(emu, vms=vms)
    cloud = provider(emu, instance_ids=vm_ids(1))
    current, missing = cloud.read(vm_ids(150) + ['99999999'])
    assert missing == ['99999999'] and len(current) == 150
    assert cloud.tags[vm_ids(150)[3]] == {'sgq': '3'} and cloud.tags[vm_ids(150)[1]] == {}
    assert calls(emu) == ['DescribeInstances', 'DescribeInstances']


@pytest.mark.parametrize('shown, extra', [('shown', []), ('null_when_none', []), ('absent', ['DescribeResourceTags'] * 2)])
def test_an_answer_without_the_tags_field_is_read_with_describe_resource_tags(emu, shown, extra):
    seed(emu, vms=[(vm_ids(2)[0], {'sgq': 'on'}), (vm_ids(2)[1], None)], describe_tags=shown)
    cloud = provider(emu, instance_ids=vm_ids(1))
    cloud.read(vm_ids(2))
    assert cloud.tags == {vm_ids(2)[0]: {'sgq': 'on'}, vm_ids(2)[1]: {}}
    assert calls(emu) == ['DescribeInstances'] + extra


def test_zec_instance_tags_come_with_the_read(emu):
    seed(emu, zecs=[('zec-0000', {'sgq': 'z'}), ('zec-0001', None)])
    cloud = provider(emu, zec_instance_ids=['zec-0000'])
    cloud.read(['zec-0000', 'zec-0001'])
    assert cloud.tags == {'zec-0000': {'sgq': 'z'}, 'zec-0001': {}} and calls(emu) == ['DescribeInstances']


@pytest.mark.parametrize('kind', ['instance_ids', 'zec_instance_ids'])
def test_write_then_remove_the_record_one_call_each(emu, kind):
    iid = vm_ids(1)[0] if kind == 'instance_ids' else 'zec-0000'
    seed(emu, vms=[(vm_ids(1)[0], {'owner': 'ops'})], zecs=[('zec-0000', {'owner': 'ops'})])
    cloud = provider(emu, **{kind: [iid]})
    cloud.read([iid])
    emu.emulator.clear_requests()
    record = {'sgq-0': 'a/b=c', 'sgq-1': '2026-12-07T12:00:00+00:00'}
    assert len(cloud.write_tags(iid, record)) == 1
    assert cloud_tags(emu, iid) == dict(record, owner='ops') and cloud.tags[iid] == dict(record, owner='ops')
    assert cloud.write_tags(iid, record) == []
    assert len(cloud.remove_tags(iid, ['sgq-0', 'sgq-1', 'sgq-9'])) == 1
    assert cloud_tags(emu, iid) == {'owner': 'ops'} and cloud.remove_tags(iid, ['sgq-0']) == []
    assert calls(emu) == ['ModifyResourceTags', 'ModifyResourceTags']
    sent = list(emu.emulator.requests('zenlayer'))
    assert all(e['path'] == '/api/v2/zrm' for e in sent)


def test_an_instance_not_read_is_written_without_a_read(emu):
    seed(emu, vms=[(vm_ids(1)[0], None)])
    cloud = provider(emu, instance_ids=vm_ids(1))
    cloud.write_tags(vm_ids(1)[0], {'sgq': 'x'})
    cloud.remove_tags(vm_ids(1)[0], ['sgq'])
    assert calls(emu) == ['ModifyResourceTags', 'ModifyResourceTags'] and cloud_tags(emu, vm_ids(1)[0]) == {}


@pytest.mark.parametrize('create_existing', ['noop', 'error'])
def test_where_modify_wants_made_tags_they_are_made_then_written(emu, create_existing):
    seed(emu, vms=[(vm_ids(1)[0], {'sgq-0': 'a'})], modify_requires_created_tag=True, create_existing_tag=create_existing)
    cloud = provider(emu, instance_ids=vm_ids(1))
    cloud.write_tags(vm_ids(1)[0], {'sgq-0': 'a', 'sgq-1': 'b'})
    assert cloud_tags(emu, vm_ids(1)[0]) == {'sgq-0': 'a', 'sgq-1': 'b'}
    expected = ['ModifyResourceTags', 'CreateTags', 'ModifyResourceTags']
    if create_existing == 'error':       # the batch names a made tag: each is made alone, "exists" taken as done
        expected = ['ModifyResourceTags', 'CreateTags', 'CreateTags', 'CreateTags', 'ModifyResourceTags']
    assert calls(emu) == expected


@pytest.mark.parametrize('tags, what', [
    ({'k' * 65: 'v'}, "key 'kkk"),
    ({'k': 'v' * 65}, "value 'vvv"),
    ({'k': ''}, "value ''"),
    ({'k': 'a,b'}, 'not: ,'),
])
def test_a_tag_outside_the_limits_is_refused_before_any_request_naming_the_instance(emu, tags, what):
    seed(emu, vms=[(vm_ids(1)[0], None)])
    cloud = provider(emu, instance_ids=vm_ids(1))
    with pytest.raises(transport.ProviderError) as err:
        cloud.write_tags(vm_ids(1)[0], tags)
    assert err.value.code == 'InvalidTag' and 'instance %s' % vm_ids(1)[0] in err.value.message and what in err.value.message
    assert calls(emu) == []


@pytest.mark.parametrize('settings, code, cls', [
    ({'tag_taggable': ['zec']}, 'INVALID_RESOURCE_CAN_NOT_BOUND', transport.CONFLICT),
    ({'max_tags_per_resource': 1}, 'OPERATION_DENIED_RESOURCE_TAG_EXCEED_LIMIT', transport.QUOTA),
])
def test_the_clouds_refusals_keep_their_code_and_class(emu, settings, code, cls):
    seed(emu, vms=[(vm_ids(1)[0], {'owner': 'ops'})], **settings)
    cloud = provider(emu, instance_ids=vm_ids(1))
    with pytest.raises(transport.ProviderError) as err:
        cloud.write_tags(vm_ids(1)[0], {'sgq': 'x'})
    assert (err.value.code, err.value.error_class) == (code, cls) and SK not in str(err.value)
    with pytest.raises(transport.ProviderError) as err:
        cloud.write_tags('nothere', {'sgq': 'x'})
    assert (err.value.code, err.value.error_class) == ('INVALID_RESOURCE_NOT_FOUND', transport.NOT_FOUND)


def test_vm_instances_have_no_interfaces_of_their_own_and_cost_no_call(emu):
    seed(emu, vms=[(iid, None) for iid in vm_ids(3)])
    cloud = provider(emu, instance_ids=vm_ids(1))
    assert cloud.attached_interfaces(vm_ids(3)) == dict((iid, []) for iid in vm_ids(3)) and calls(emu) == []


@pytest.mark.parametrize('nics_listed', ['all', 'primary'])
def test_zec_attached_interfaces_are_the_secondary_vnics_in_one_call_and_their_vpcs_default_in_one_more(emu, nics_listed):
    seed(emu, zecs=[(iid, None) for iid in zec_ids(3)],
         secondaries=[('nic-s1', 'zec-0000', SG_B), ('nic-s2', 'zec-0000', None), ('nic-s3', 'zec-0002', SG_A), ('nic-loose', None, SG_A)],
         zec_instance_nics_listed=nics_listed)
    cloud = provider(emu, zec_instance_ids=zec_ids(1))
    cloud.read(zec_ids(3))
    emu.emulator.clear_requests()
    assert cloud.attached_interfaces(zec_ids(3) + ['zec-none']) == {
        'zec-0000': [{'network_interface_id': 'nic-s1', 'security_group_ids': [SG_B]},
                     # No group of its own: its VPC's default group, which it has instead (for the quarantine's restore).
                     {'network_interface_id': 'nic-s2', 'security_group_ids': [], 'vpc_id': 'vpc-main',
                      'vpc_default_security_group_id': SG_VPC}],
        'zec-0001': [],
        'zec-0002': [{'network_interface_id': 'nic-s3', 'security_group_ids': [SG_A]}],
        'zec-none': []}
    assert calls(emu) == ['DescribeNetworkInterfaces', 'DescribeVpcs']
    assert cloud.interface_owner(['nic-s1', 'nic-s3', 'nic-loose', 'nic-unknown']) == {
        'nic-s1': 'zec-0000', 'nic-s3': 'zec-0002', 'nic-loose': None, 'nic-unknown': None}


def test_an_account_with_more_pages_of_secondary_vnics_than_instances_asked_is_read_per_instance(emu, monkeypatch):
    monkeypatch.setitem(zenlayer.INFERRED, 'zec_page', 2)
    secondaries = [('nic-%02d' % n, 'zec-%04d' % (n % 5), SG_B) for n in range(12)]
    seed(emu, zecs=[(iid, None) for iid in zec_ids(5)], secondaries=secondaries)
    cloud = provider(emu, zec_instance_ids=zec_ids(1))
    found = cloud.attached_interfaces(['zec-0001', 'zec-0003'])           # 6 pages of 2, 2 instances: per instance
    assert [e['network_interface_id'] for e in found['zec-0001']] == ['nic-01', 'nic-06', 'nic-11']
    assert [e['network_interface_id'] for e in found['zec-0003']] == ['nic-03', 'nic-08']
    per_instance = list(emu.emulator.requests('zenlayer'))[1:]
    assert len(per_instance) == 2 + 1                                      # zec-0001 has 3 vNICs: two pages
    emu.emulator.clear_requests()
    everyone = cloud.attached_interfaces(zec_ids(5))                        # 6 pages, 5 instances: the account's list
    assert sum(len(v) for v in everyone.values()) == 12 and calls(emu) == ['DescribeNetworkInterfaces'] * 6


def test_a_vnic_read_tells_its_owner_and_the_engine_finds_the_quarantined_zec_instance_in_one_call(emu):
    seed(emu, zecs=[('zec-0000', {'sg-quarantine': 'on'}), ('zec-0001', None)],
         secondaries=[('nic-s1', 'zec-0000', SG_B), ('nic-s2', 'zec-0001', SG_B), ('nic-loose', None, SG_A)])
    cloud = provider(emu, network_interface_ids=['nic-s1'])
    cloud.read(['nic-s1', 'nicp-zec-0000', 'nic-s2', 'nic-loose'])
    emu.emulator.clear_requests()
    assert cloud.interface_owner(['nic-s1', 'nicp-zec-0000', 'nic-loose']) == {'nic-s1': 'zec-0000', 'nicp-zec-0000': 'zec-0000',
                                                                               'nic-loose': None}
    assert calls(emu) == []
    found = engine.quarantined_targets(cloud, zenlayer.ZEC_NICS, cloud.params, ['nic-s1', 'nicp-zec-0000', 'nic-s2', 'nic-loose'])
    assert found == {'nic-s1': 'zec-0000', 'nicp-zec-0000': 'zec-0000'}
    assert calls(emu) == ['DescribeInstances']                             # the owners (zec), with their tags


def test_no_instance_asked_is_no_call(emu):
    seed(emu)
    assert provider(emu, zec_instance_ids=['zec-0000']).attached_interfaces([]) == {} and calls(emu) == []
