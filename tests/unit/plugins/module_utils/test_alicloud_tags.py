# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Alibaba Cloud's quarantine hooks (tags, the interfaces of an instance, an interface's owner) against the emulator,
with the calls each one sends counted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import sys

import pytest
import requests

from ansible_collections.multicloud.secgroup.plugins.module_utils import _alicloud as ali
from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

AK = 'LTAItags000000000001'
SECRET = 'Ali-Tags-Secret-Never-Shown'
REGION = 'cn-hangzhou'
VPC = 'vpc-bp1tags0000000001'
GROUPS = ['sg-bp1tags00000000%02d' % n for n in range(1, 4)]


@pytest.fixture(scope='module')
def emulator():
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy'):
        os.environ.pop(var, None)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..'))
    from emulator import start  # pylint: disable=import-outside-toplevel
    running = start()
    yield running
    running.stop()


def seed(emulator, instances, enis=(), **settings):
    emulator.emulator.reset()
    emulator.emulator.seed({'alicloud': {
        'credentials': [{'access_key': AK, 'secret_key': SECRET}],
        'security_groups': [{'id': sg, 'region': REGION, 'vpc_id': VPC} for sg in GROUPS],
        'instances': [dict(dict(region=REGION, vpc_id=VPC, security_groups=[GROUPS[0]]), **ins) for ins in instances],
        'network_interfaces': [dict(dict(region=REGION, vpc_id=VPC), **eni) for eni in enis]}})
    if settings:
        emulator.emulator.update_settings({'alicloud': settings})
    emulator.emulator.clear_requests()


def provider(emulator, **params):
    base = dict(access_key=AK, secret_key=SECRET, region=REGION, endpoint=emulator.endpoints['alicloud'], timeout=10,
                validate_certs=True, retries=2, retry_delay=0.01, retry_max_delay=0.05, rate_limit=None, max_concurrency=4,
                wait_timeout=30)
    base.update(params)
    return ali.AliCloud(base, engine.transport_for(ali.AliCloud, base, [SECRET]))


def calls(emulator, action=None):
    return [e['action'] for e in emulator.emulator.requests('alicloud') if action in (None, e['action'])]


def state(emulator, kind='instances'):
    return dict((item['id'], item.get('tags', {})) for item in emulator.emulator.state()['alicloud'][kind])


def test_tag_limits_are_data_and_can_never_form_a_url():
    limits = ali.AliCloud.tag_limits
    assert (limits.max_key_len, limits.max_value_len, limits.max_tags) == (128, 128, 20)
    assert limits.reserved_prefixes == ('aliyun', 'acs:')
    assert re.fullmatch(limits.value_chars + '+', 'sgq v1 2026-12-07T12:00:00+00:00 [a],(b);c@d=e')
    assert not re.match(limits.key_chars, '/') and not re.match(limits.value_chars, '/')     # so no http:// can be formed


def test_read_fills_tags_and_write_and_remove_change_them(emulator):
    seed(emulator, [dict(id='i-bp1tags000000000001', tags={'env': 'prod'}), dict(id='i-bp1tags000000000002')])
    ids = ['i-bp1tags000000000001', 'i-bp1tags000000000002']
    cloud = provider(emulator, instance_ids=ids)
    cloud.read(ids)
    assert cloud.tags == {ids[0]: {'env': 'prod'}, ids[1]: {}}
    assert calls(emulator) == ['DescribeInstances']            # no extra call: DescribeInstances returns Tags
    record = dict(('sgq:%d' % n, 'part %d' % n) for n in range(19))
    cloud.write_tags(ids[0], record)
    assert calls(emulator, 'TagResources') == ['TagResources']       # 19 tags: one call (20 a call)
    assert state(emulator)[ids[0]] == dict(record, env='prod') == cloud.tags[ids[0]]
    cloud.remove_tags(ids[0], list(record) + ['absent'])
    assert calls(emulator, 'UntagResources') == ['UntagResources']
    assert state(emulator)[ids[0]] == {'env': 'prod'} == cloud.tags[ids[0]]


def test_the_same_tags_on_many_targets_are_batched_fifty_a_call(emulator):
    ids = ['i-bp1many%012d' % n for n in range(120)]
    seed(emulator, [dict(id=iid) for iid in ids])
    cloud = provider(emulator)
    cloud.write_tags_many(dict((iid, {'sgq': 'same'}) for iid in ids))
    assert calls(emulator, 'TagResources') == ['TagResources'] * 3
    cloud.remove_tags_many(dict((iid, ['sgq']) for iid in ids))
    assert calls(emulator, 'UntagResources') == ['UntagResources'] * 3
    assert all(tags == {} for tags in state(emulator).values())


def test_the_21st_tag_is_refused_and_named(emulator):
    seed(emulator, [dict(id='i-bp1full000000000001', tags=dict(('k%d' % n, 'v') for n in range(20)))])
    with pytest.raises(transport.ProviderError) as err:
        provider(emulator).write_tags('i-bp1full000000000001', {'sgq': 'x'})
    assert err.value.code == 'OperationDenied.QuotaExceed' and err.value.error_class == transport.QUOTA
    assert err.value.failed_target_ids == ['i-bp1full000000000001'] and err.value.request_id


def test_a_missing_instance_is_not_found(emulator):
    seed(emulator, [dict(id='i-bp1here000000000001')])
    with pytest.raises(transport.ProviderError) as err:
        provider(emulator).write_tags('i-bp1gone000000000001', {'k': 'v'})
    assert err.value.code == 'InvalidResourceId.NotFound' and err.value.error_class == transport.NOT_FOUND


def test_a_tag_request_changed_after_signing_is_refused(emulator):
    seed(emulator, [dict(id='i-bp1sign000000000001')])
    cloud = provider(emulator)
    query = {'RegionId': REGION, 'ResourceType': 'instance', 'ResourceId.1': 'i-bp1sign000000000001', 'Tag.1.Key': 'k', 'Tag.1.Value': 'v'}
    req = cloud.build('TagResources', query)
    tampered = requests.post(req['url'].replace('Tag.1.Value=v', 'Tag.1.Value=w'), headers=req['headers'], data=req['data'], timeout=10)
    assert tampered.json()['Code'] == 'SignatureDoesNotMatch'
    assert state(emulator)['i-bp1sign000000000001'] == {}


def test_attached_interfaces_come_from_the_read_and_one_call_per_100_enis(emulator):
    ids = ['i-bp1enis%012d' % n for n in range(100)]
    enis = [dict(id='eni-bp1sec%012d' % n, instance_id=iid, type='Secondary', security_groups=[GROUPS[1], GROUPS[2]], tags={'n': '1'})
            for n, iid in enumerate(ids) if n % 2 == 0]
    seed(emulator, [dict(id=iid) for iid in ids], enis)
    cloud = provider(emulator, instance_ids=ids)
    cloud.read(ids)
    emulator.emulator.clear_requests()
    out = cloud.attached_interfaces(ids)
    assert out[ids[0]] == [{'network_interface_id': 'eni-bp1sec000000000000', 'security_group_ids': [GROUPS[1], GROUPS[2]]}]
    assert out[ids[1]] == []
    # 50 secondary ENIs, known from DescribeInstances' NetworkInterfaces: one DescribeNetworkInterfaces by ID.
    assert calls(emulator) == ['DescribeNetworkInterfaces']
    assert cloud.interface_owner(['eni-bp1sec000000000002']) == {'eni-bp1sec000000000002': ids[2]}
    assert cloud.tags['eni-bp1sec000000000002'] == {'n': '1'}
    assert calls(emulator) == ['DescribeNetworkInterfaces']


def test_attached_interfaces_of_unread_instances_and_none_at_all(emulator):
    seed(emulator, [dict(id='i-bp1bare000000000001')])
    cloud = provider(emulator)
    assert cloud.attached_interfaces(['i-bp1bare000000000001', 'i-bp1gone000000000001']) == {'i-bp1bare000000000001': []}
    assert calls(emulator) == ['DescribeInstances']             # no ENI call when no instance has a secondary ENI


def test_eni_targets_read_their_tags_their_owner_and_its_tags(emulator):
    seed(emulator, [dict(id='i-bp1owner00000000001', tags={'sgq': 'record'})],
         [dict(id='eni-bp1target000000001', instance_id='i-bp1owner00000000001', type='Secondary', security_groups=[GROUPS[0]],
               tags={'e': '1'})])
    cloud = provider(emulator, network_interface_ids=['eni-bp1target000000001'])
    cloud.read(['eni-bp1target000000001'])
    assert cloud.tags == {'eni-bp1target000000001': {'e': '1'}}
    assert cloud.interface_owner(['eni-bp1target000000001']) == {'eni-bp1target000000001': 'i-bp1owner00000000001'}
    assert cloud.instance_tags(['i-bp1owner00000000001']) == {'i-bp1owner00000000001': {'sgq': 'record'}}
    assert calls(emulator) == ['DescribeNetworkInterfaces', 'DescribeInstances']
    cloud.write_tags('eni-bp1target000000001', {'sgq': 'x'})
    assert state(emulator, 'network_interfaces')['eni-bp1target000000001'] == {'e': '1', 'sgq': 'x'}
    assert [e['action'] for e in emulator.emulator.requests('alicloud')][-1] == 'TagResources'


def test_isolate_and_restore_100_instances_call_counts(emulator):
    """The tag-store calls of a quarantine of 100 instances (a record of 3 tags each, different per instance) and of its
    restore: read (DescribeInstances, tags included), write records, remove records. The binding itself is the engine's."""
    ids = ['i-bp1cnt%013d' % n for n in range(100)]
    seed(emulator, [dict(id=iid) for iid in ids])
    cloud = provider(emulator, instance_ids=ids)
    cloud.read(ids)
    cloud.write_tags_many(dict((iid, {'sgq': 'v1', 'sgq:groups': iid, 'sgq:at': '2026-12-07T12:00:00+00:00'}) for iid in ids))
    isolate = calls(emulator)
    emulator.emulator.clear_requests()
    cloud.read(ids)
    cloud.remove_tags_many(dict((iid, ['sgq', 'sgq:groups', 'sgq:at']) for iid in ids))
    restore = calls(emulator)
    assert (isolate.count('DescribeInstances'), isolate.count('TagResources')) == (1, 100)
    assert (restore.count('DescribeInstances'), restore.count('UntagResources')) == (1, 2)


def test_a_restore_run_again_sends_no_untag_call(emulator):
    seed(emulator, [dict(id='i-bp1again00000000001', tags={'sgq': 'x', 'env': 'prod'})])
    cloud = provider(emulator)
    cloud.read_instances(['i-bp1again00000000001'])
    assert len(cloud.remove_tags('i-bp1again00000000001', ['sgq', 'sgq:1'])) == 1
    assert state(emulator)['i-bp1again00000000001'] == {'env': 'prod'}
    emulator.emulator.clear_requests()
    assert cloud.remove_tags('i-bp1again00000000001', ['sgq', 'sgq:1']) == []
    assert calls(emulator) == []


def test_a_tag_write_whose_answer_was_lost_is_sent_again(emulator):
    seed(emulator, [dict(id='i-bp1retry00000000001')])
    emulator.emulator.add_fault({'provider': 'alicloud', 'action': 'TagResources', 'kind': 'commit_then_drop'})
    emulator.emulator.add_fault({'provider': 'alicloud', 'action': 'UntagResources', 'kind': 'throttle'})
    cloud = provider(emulator)
    cloud.write_tags('i-bp1retry00000000001', {'sgq': 'x'})
    cloud.remove_tags('i-bp1retry00000000001', ['sgq'])
    assert calls(emulator) == ['TagResources', 'TagResources', 'UntagResources', 'UntagResources']
    assert state(emulator)['i-bp1retry00000000001'] == {}


def test_an_instance_answer_without_its_enis_costs_one_eni_query_for_that_instance(emulator):
    ids = ['i-bp1nolist0000000001', 'i-bp1nolist0000000002']
    seed(emulator, [dict(id=iid) for iid in ids],
         [dict(id='eni-bp1nolist000000001', instance_id=ids[0], type='Secondary', security_groups=[GROUPS[1]])],
         describe_instances_lists_enis=False)
    out = provider(emulator).attached_interfaces(ids)
    assert out == {ids[0]: [{'network_interface_id': 'eni-bp1nolist000000001', 'security_group_ids': [GROUPS[1]]}], ids[1]: []}
    assert calls(emulator) == ['DescribeInstances'] + ['DescribeNetworkInterfaces'] * 3
