# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Baidu AI Cloud, issue 23: tags with the reads, the record written and removed as instance tags, an instance's
other ENIs, an ENI's owner; against the emulator, counting the calls."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import pytest

from ansible_collections.multicloud.secgroup.plugins.module_utils import _baiducloud as baidu
from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _quarantine_record as quarantine_record
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

AK = 'akTagsTest0000000000000000000001'
SK = 'Baidu-Tags-Secret-Never-Shown'
GROUPS = ['g-tags%04d' % n for n in range(1, 5)]


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


def seed(emu, instances, enis=(), **settings):
    emu.emulator.seed({'baiducloud': {
        'credentials': [{'access_key': AK, 'secret_key': SK}],
        'security_groups': [{'id': sg, 'vpc_id': 'vpc-one'} for sg in GROUPS] + [{'id': 'g-twovpc01', 'vpc_id': 'vpc-two'}],
        'instances': [dict({'vpc_id': 'vpc-one', 'security_groups': [GROUPS[0]]}, **i) for i in instances],
        'network_interfaces': list(enis)}})
    if settings:
        emu.emulator.update_settings({'baiducloud': settings})
    emu.emulator.clear_requests()


def provider(emu, **params):
    defaults = dict(endpoint=emu.endpoints['baiducloud'], region='bj', access_key=AK, secret_key=SK, security_token=None,
                    max_concurrency=4, instance_ids=['i-x'])
    defaults.update(params)
    conn = transport.Transport('baiducloud', max_retries=2, backoff=transport.Backoff(0.001, 0.001), secrets=[SK])
    return baidu.BaiduCloud(defaults, conn)


def calls(emu):
    return [e['action'] for e in emu.emulator.requests('baiducloud')]


def tags_in_cloud(emu, instance_id):
    return [(t['key'], t['value']) for i in emu.emulator.state()['baiducloud']['instances'] if i['id'] == instance_id for t in i['tags']]


def ids(n):
    return ['i-tag%05d' % k for k in range(n)]


def test_the_tag_limits_are_declared_and_an_eni_holds_no_record():
    assert baidu.BaiduCloud.tag_limits == {'instance_ids': baidu.TAG_LIMITS, 'network_interface_ids': None}
    assert baidu.TAG_LIMITS.max_tags == 10 and baidu.BaiduCloud.owner_kinds == {'network_interface_ids': 'instance_ids'}


def test_a_record_encoded_for_the_declared_limits_goes_on_and_comes_off_whole(emu):
    seed(emu, [{'id': 'i-tag00000', 'tags': {'owner': 'ops'}}])
    cloud = provider(emu)
    cloud.read(['i-tag00000'])
    record = {'instance_id': 'i-tag00000', 'security_group_ids': [GROUPS[1], GROUPS[0]], 'quarantine_group_ids': [GROUPS[3]],
              'network_interfaces': [{'network_interface_id': 'eni-sec00001', 'security_group_ids': [GROUPS[2]]}],
              'isolated_at': '2026-12-07T12:00:00+00:00', 'reason': 'INC-42: web shell'}
    tags = quarantine_record.encode(record, baidu.TAG_LIMITS, instance='i-tag00000', own_tags=1)
    cloud.write_tags('i-tag00000', tags)
    again = provider(emu)
    again.read(['i-tag00000'])
    assert quarantine_record.decode(again.tags['i-tag00000']) == record
    again.remove_tags('i-tag00000', quarantine_record.record_keys(again.tags['i-tag00000']))
    assert tags_in_cloud(emu, 'i-tag00000') == [('owner', 'ops')]


def test_tags_come_with_the_read_of_100_instances_in_one_call(emu):
    seed(emu, [{'id': i, 'tags': {'sgq': 'v%s' % i[-1]}} if n % 2 else {'id': i} for n, i in enumerate(ids(150))])
    cloud = provider(emu)
    current, missing = cloud.read(ids(150) + ['i-nothere1'])
    assert missing == ['i-nothere1'] and len(current) == 150
    assert cloud.tags[ids(150)[1]] == {'sgq': 'v1'} and cloud.tags[ids(150)[0]] == {}
    assert calls(emu) == ['ListInstancesByIds', 'ListInstancesByIds', 'GetInstance']   # 100 + 50, then the unknown one


def test_a_list_answer_without_tags_is_read_again_with_the_get_never_taken_as_no_record(emu):
    seed(emu, [{'id': i, 'tags': {'sgq': 'on'}} for i in ids(3)], list_by_ids_tags='absent')
    cloud = provider(emu)
    cloud.read(ids(3))
    assert all(cloud.tags[i] == {'sgq': 'on'} for i in ids(3))
    assert calls(emu) == ['ListInstancesByIds'] + ['GetInstance'] * 3


def test_write_then_remove_the_record_one_call_each(emu):
    seed(emu, [{'id': 'i-tag00000', 'tags': {'owner': 'ops'}}])
    cloud = provider(emu)
    cloud.read(['i-tag00000'])
    emu.emulator.clear_requests()
    record = {'sgq-0': 'a/b', 'sgq-1': 'c d'}
    assert len(cloud.write_tags('i-tag00000', record)) == 1
    assert tags_in_cloud(emu, 'i-tag00000') == [('owner', 'ops'), ('sgq-0', 'a/b'), ('sgq-1', 'c d')]
    assert cloud.tags['i-tag00000'] == {'owner': 'ops', 'sgq-0': 'a/b', 'sgq-1': 'c d'}
    assert cloud.write_tags('i-tag00000', record) == []                    # already there: no call
    assert len(cloud.remove_tags('i-tag00000', ['sgq-0', 'sgq-1', 'sgq-9'])) == 1
    assert tags_in_cloud(emu, 'i-tag00000') == [('owner', 'ops')]
    assert cloud.remove_tags('i-tag00000', ['sgq-0']) == []
    assert calls(emu) == ['BindInstanceTags', 'UnbindInstanceTags']


@pytest.mark.parametrize('mode', ['overwrite', 'add', 'error'])
def test_a_key_with_another_value_is_unbound_first_whatever_the_cloud_does_with_a_second_value(emu, mode):
    seed(emu, [{'id': 'i-tag00000', 'tags': {'sgq-0': 'old'}}], tag_same_key=mode)
    cloud = provider(emu)
    cloud.read(['i-tag00000'])
    emu.emulator.clear_requests()
    cloud.write_tags('i-tag00000', {'sgq-0': 'new'})
    assert tags_in_cloud(emu, 'i-tag00000') == [('sgq-0', 'new')]
    assert calls(emu) == ['UnbindInstanceTags', 'BindInstanceTags']


@pytest.mark.parametrize('match', ['key_value', 'key'])
def test_remove_sends_every_value_a_key_has(emu, match):
    seed(emu, [{'id': 'i-tag00000', 'tags': [{'key': 'sgq', 'value': 'a'}, {'key': 'sgq', 'value': 'b'}]}], tag_unbind_match=match,
         tag_unbind_absent='error')
    cloud = provider(emu)
    cloud.read(['i-tag00000'])
    cloud.remove_tags('i-tag00000', ['sgq'])
    assert tags_in_cloud(emu, 'i-tag00000') == []


def test_an_unread_instance_is_read_first_and_a_missing_one_is_not_found(emu):
    seed(emu, [{'id': 'i-tag00000'}])
    cloud = provider(emu)
    cloud.write_tags('i-tag00000', {'sgq': 'x'})
    assert calls(emu) == ['ListInstancesByIds', 'BindInstanceTags']
    with pytest.raises(transport.ProviderError) as err:
        cloud.write_tags('i-nothere1', {'sgq': 'x'})
    assert err.value.error_class == transport.NOT_FOUND and 'i-nothere1' in err.value.message


@pytest.mark.parametrize('tags, what', [
    ({'k' * 66: 'v'}, "key 'kkk"),
    ({'k': 'v' * 66}, "value 'vvv"),
    ({'k': 'a:b'}, 'not: :'),
    ({'': 'v'}, "key ''"),
])
def test_a_tag_the_limits_refuse_is_refused_before_any_request_naming_the_instance(emu, tags, what):
    seed(emu, [{'id': 'i-tag00000'}])
    cloud = provider(emu)
    with pytest.raises(transport.ProviderError) as err:
        cloud.write_tags('i-tag00000', tags)
    assert err.value.code == 'InvalidTag' and 'instance i-tag00000' in err.value.message and what in err.value.message
    assert calls(emu) == []


def test_the_clouds_own_refusal_of_too_many_tags_is_a_quota(emu):
    seed(emu, [{'id': 'i-tag00000', 'tags': dict(('k%d' % n, 'v') for n in range(9))}])
    cloud = provider(emu)
    with pytest.raises(transport.ProviderError) as err:
        cloud.write_tags('i-tag00000', {'sgq-0': 'a', 'sgq-1': 'b'})
    assert (err.value.code, err.value.error_class, err.value.http_status) == ('TagExceptions.LimitExceeded', transport.QUOTA, 413)


def enis_seed():
    return [
        {'id': 'eni-prim0001', 'vpc_id': 'vpc-one', 'instance_id': 'i-tag00000', 'primary': True},
        {'id': 'eni-sec00001', 'vpc_id': 'vpc-one', 'instance_id': 'i-tag00000', 'security_groups': [GROUPS[2], GROUPS[1]]},
        {'id': 'eni-sec00002', 'vpc_id': 'vpc-one', 'instance_id': 'i-tag00000', 'security_groups': [],
         'enterprise_security_groups': ['esg-abc']},
        {'id': 'eni-prim0002', 'vpc_id': 'vpc-one', 'instance_id': 'i-tag00001', 'primary': True},
        {'id': 'eni-sec00003', 'vpc_id': 'vpc-one', 'instance_id': 'i-tag00001', 'security_groups': [GROUPS[3]]},
        {'id': 'eni-loose001', 'vpc_id': 'vpc-one', 'security_groups': [GROUPS[3]]},
        {'id': 'eni-prim0003', 'vpc_id': 'vpc-two', 'instance_id': 'i-tag00002', 'primary': True},
        {'id': 'eni-prim0004', 'vpc_id': '', 'instance_id': 'i-tag00003', 'primary': True},
        {'id': 'eni-sec00004', 'vpc_id': '', 'instance_id': 'i-tag00003', 'security_groups': [GROUPS[0]]},
    ]


def test_attached_interfaces_are_the_enis_besides_the_primary_one_with_their_groups_in_order(emu):
    seed(emu, [{'id': 'i-tag00000'}, {'id': 'i-tag00001'}, {'id': 'i-tag00002', 'vpc_id': 'vpc-two'}, {'id': 'i-tag00003', 'vpc_id': ''}],
         enis_seed())
    cloud = provider(emu)
    cloud.read(['i-tag00000', 'i-tag00001', 'i-tag00002', 'i-tag00003'])
    emu.emulator.clear_requests()
    found = cloud.attached_interfaces(['i-tag00000', 'i-tag00001', 'i-tag00002', 'i-tag00003', 'i-nothere1'])
    assert found == {
        'i-tag00000': [{'network_interface_id': 'eni-sec00001', 'security_group_ids': [GROUPS[2], GROUPS[1]]},
                       {'network_interface_id': 'eni-sec00002', 'security_group_ids': []}],
        'i-tag00001': [{'network_interface_id': 'eni-sec00003', 'security_group_ids': [GROUPS[3]]}],
        'i-tag00002': [],
        'i-tag00003': [{'network_interface_id': 'eni-sec00004', 'security_group_ids': [GROUPS[0]]}],
    }
    # vpc-one (two instances): its list; vpc-two (one): a filtered list; no VPC known: the instance's ENI list.
    # The unknown instance is read first (one listByInstanceId, then its GET).
    assert sorted(calls(emu)) == sorted(['ListInstancesByIds', 'GetInstance', 'ListEnis', 'ListEnis', 'ListInstanceEnis'])
    assert cloud.interface_owner(['eni-sec00001', 'eni-sec00003', 'eni-nothere']) == {
        'eni-sec00001': 'i-tag00000', 'eni-sec00003': 'i-tag00001', 'eni-nothere': None}
    assert cloud.enterprise['eni-sec00002'] == ['esg-abc']


def test_100_instances_in_one_vpc_take_one_call_a_1000_enis(emu):
    instances = [{'id': i} for i in ids(100)]
    enis = [{'id': 'eni-p%07d' % n, 'vpc_id': 'vpc-one', 'instance_id': i, 'primary': True} for n, i in enumerate(ids(100))]
    enis += [{'id': 'eni-s%07d' % n, 'vpc_id': 'vpc-one', 'instance_id': i, 'security_groups': [GROUPS[1]]} for n, i in enumerate(ids(100))]
    seed(emu, instances, enis)
    cloud = provider(emu)
    cloud.read(ids(100))
    emu.emulator.clear_requests()
    found = cloud.attached_interfaces(ids(100))
    assert all(found[i] == [{'network_interface_id': 'eni-s%07d' % n, 'security_group_ids': [GROUPS[1]]}] for n, i in enumerate(ids(100)))
    assert calls(emu) == ['ListEnis']


def test_an_eni_read_tells_its_owner_with_no_call_and_the_engine_finds_the_quarantined_owner_in_one(emu):
    seed(emu, [{'id': 'i-tag00000', 'tags': {'sg-quarantine': 'on'}}, {'id': 'i-tag00001'}],
         enis_seed()[:3] + [{'id': 'eni-sec00009', 'vpc_id': 'vpc-one', 'instance_id': 'i-tag00001', 'security_groups': [GROUPS[0]]}])
    cloud = provider(emu, instance_ids=None, network_interface_ids=['eni-sec00001'])
    cloud.read(['eni-sec00001', 'eni-sec00002', 'eni-sec00009'])
    emu.emulator.clear_requests()
    assert cloud.interface_owner(['eni-sec00001', 'eni-sec00009', 'eni-nothere']) == {
        'eni-sec00001': 'i-tag00000', 'eni-sec00009': 'i-tag00001', 'eni-nothere': None}
    assert calls(emu) == []
    kind = baidu.NETWORK_INTERFACES
    assert engine.quarantined_targets(cloud, kind, cloud.params, ['eni-sec00001', 'eni-sec00002', 'eni-sec00009']) == {
        'eni-sec00001': 'i-tag00000', 'eni-sec00002': 'i-tag00000'}
    assert calls(emu) == ['ListInstancesByIds']                            # the owners, with their tags


def test_no_secret_in_any_request_log_or_error(emu):
    seed(emu, [{'id': 'i-tag00000'}])
    cloud = provider(emu)
    with pytest.raises(transport.ProviderError) as err:
        cloud.write_tags('i-tag00000', dict(('k%d' % n, 'v') for n in range(11)))
    assert SK not in str(err.value) and SK not in repr(emu.emulator.requests('baiducloud'))
