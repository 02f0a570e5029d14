# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tencent Cloud's quarantine hooks (tags, the interfaces of an instance, an interface's owner) against the emulator,
with the calls each one sends counted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import sys

import pytest

from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _tencentcloud as tencent
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

SECRET = 'Tc-Tags-Secret-Never-Shown'
REGION = 'ap-guangzhou'
GROUPS = ['sg-tags%04d' % n for n in range(1, 4)]


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
    emulator.emulator.seed({'tencentcloud': {
        'credentials': [{'access_key': 'AKIDtags00000001', 'secret_key': SECRET}],
        'security_groups': [{'id': sg, 'region': REGION} for sg in GROUPS],
        'instances': [dict(ins, region=REGION) for ins in instances],
        'network_interfaces': [dict(eni, region=REGION) for eni in enis]}})
    if settings:
        emulator.emulator.update_settings({'tencentcloud': settings})
    emulator.emulator.clear_requests()


def provider(emulator, **params):
    base = dict(secret_id='AKIDtags00000001', secret_key=SECRET, region=REGION, endpoint=emulator.endpoints['tencentcloud'],
                timeout=10, validate_certs=True, retries=2, retry_delay=0.01, retry_max_delay=0.05, rate_limit=None,
                max_concurrency=4, wait_timeout=30)
    base.update(params)
    return tencent.TencentCloud(base, engine.transport_for(tencent.TencentCloud, base, [SECRET]))


def calls(emulator, action=None):
    return [e['action'] for e in emulator.emulator.requests('tencentcloud') if action in (None, e['action'])]


def state(emulator, kind='instances'):
    return dict((item['id'], item.get('tags', {})) for item in emulator.emulator.state()['tencentcloud'][kind])


def test_tag_limits_are_data_the_emulator_agrees_with():
    limits = tencent.TencentCloud.tag_limits
    assert (limits.max_key_len, limits.max_value_len, limits.max_tags) == (127, 255, 50)
    assert re.fullmatch(limits.key_chars + '+', 'sgq:v1/part-0_[a],(b);c>d<e@f=g+h.i')
    assert not re.match(limits.key_chars, ' ') and not re.match(limits.value_chars, '#')
    assert 'qcs:' in limits.reserved_prefixes and 'project' in limits.reserved_prefixes


def test_read_fills_tags_and_write_and_remove_change_them(emulator):
    seed(emulator, [dict(id='ins-tags0001', tags={'env': 'prod'}), dict(id='ins-tags0002')])
    cloud = provider(emulator, instance_ids=['ins-tags0001', 'ins-tags0002'])
    cloud.read(['ins-tags0001', 'ins-tags0002'])
    assert cloud.tags == {'ins-tags0001': {'env': 'prod'}, 'ins-tags0002': {}}
    assert calls(emulator) == ['DescribeInstances']            # no extra call: DescribeInstances returns Tags
    record = dict(('sgq:%d' % n, 'part-%d' % n) for n in range(12))
    ids = cloud.write_tags('ins-tags0001', record)
    assert len(ids) == 2 and calls(emulator, 'TagResources') == ['TagResources'] * 2      # 12 tags: 10 + 2
    assert state(emulator)['ins-tags0001'] == dict(record, env='prod') == cloud.tags['ins-tags0001']
    cloud.remove_tags('ins-tags0001', list(record))
    assert calls(emulator, 'UnTagResources') == ['UnTagResources'] * 2
    assert state(emulator)['ins-tags0001'] == {'env': 'prod'} == cloud.tags['ins-tags0001']


def test_the_same_tags_on_many_targets_are_batched_ten_a_call(emulator):
    ids = ['ins-many%04d' % n for n in range(25)]
    seed(emulator, [dict(id=iid) for iid in ids])
    cloud = provider(emulator)
    cloud.write_tags_many(dict((iid, {'sgq': 'same'}) for iid in ids))
    assert calls(emulator, 'TagResources') == ['TagResources'] * 3
    cloud.remove_tags_many(dict((iid, ['sgq']) for iid in ids))
    assert calls(emulator, 'UnTagResources') == ['UnTagResources'] * 3
    assert all(tags == {} for tags in state(emulator).values())
    # Different tags per instance (a record each): one call each.
    emulator.emulator.clear_requests()
    cloud.write_tags_many(dict((iid, {'sgq': iid}) for iid in ids[:5]))
    assert calls(emulator, 'TagResources') == ['TagResources'] * 5


def test_a_partial_failure_names_the_failed_targets_and_keeps_the_others(emulator):
    seed(emulator, [dict(id='ins-part0001'), dict(id='ins-part0002', tags=dict(('k%d' % n, 'v') for n in range(50)))])
    cloud = provider(emulator)
    with pytest.raises(transport.ProviderError) as err:
        cloud.write_tags_many({'ins-part0001': {'sgq': 'x'}, 'ins-part0002': {'sgq': 'x'}})
    assert err.value.code == 'LimitExceeded.ResourceAttachedTags' and err.value.failed_target_ids == ['ins-part0002']
    assert err.value.error_class == transport.QUOTA and err.value.request_id
    assert state(emulator)['ins-part0001'] == {'sgq': 'x'} == cloud.tags['ins-part0001']


@pytest.mark.parametrize('setting', ['failed_resources', 'error'])
def test_a_missing_instance_is_a_named_error(emulator, setting):
    seed(emulator, [dict(id='ins-miss0001')], tag_missing_resource=setting)
    with pytest.raises(transport.ProviderError) as err:
        provider(emulator).write_tags_many({'ins-miss0001': {'k': 'v'}, 'ins-gone0001': {'k': 'v'}})
    assert 'ins-gone0001' in err.value.failed_target_ids


def test_the_account_is_asked_once_and_a_refusal_with_it_stands(emulator):
    seed(emulator, [dict(id='ins-uin00001'), dict(id='ins-uin00002')], tag_resource_uin='owner', tag_owner_uin='200000000042')
    cloud = provider(emulator)
    cloud.write_tags('ins-uin00001', {'k': 'v'})
    emulator.emulator.update_settings({'tencentcloud': {'tag_owner_uin': '300000000043'}})    # the resources change hands
    with pytest.raises(transport.ProviderError) as err:
        cloud.write_tags('ins-uin00002', {'k': 'v'})
    assert err.value.code == 'InvalidParameterValue.UinInvalid' and err.value.failed_target_ids == ['ins-uin00002']
    assert calls(emulator) == ['TagResources', 'GetCallerIdentity', 'TagResources', 'TagResources']


def test_writes_go_to_the_tag_host_without_an_endpoint():
    cloud = tencent.TencentCloud(dict(region=REGION, secret_id='x', secret_key='y'), None)
    assert cloud.url('tag') == 'https://tag.tencentcloudapi.com/' and cloud.url('sts') == 'https://sts.tencentcloudapi.com/'
    assert cloud.tag_resource('ins-abcdefgh') == 'qcs::cvm:ap-guangzhou:uin/:instance/ins-abcdefgh'
    assert cloud.tag_resource('eni-abcdefgh') == 'qcs::vpc:ap-guangzhou:uin/:eni/eni-abcdefgh'


@pytest.mark.parametrize('endpoint, tag_url, sts_url', [
    ('https://cvm.ap-guangzhou.tencentcloudapi.com', 'https://tag.tencentcloudapi.com/', 'https://sts.tencentcloudapi.com/'),
    ('https://cvm.intl.tencentcloudapi.com', 'https://tag.intl.tencentcloudapi.com/', 'https://sts.intl.tencentcloudapi.com/'),
    ('http://127.0.0.1:8080', 'http://127.0.0.1:8080/', 'http://127.0.0.1:8080/'),
])
def test_an_endpoint_naming_a_tencent_host_is_the_cvm_products_not_the_tag_services(endpoint, tag_url, sts_url):
    cloud = tencent.TencentCloud(dict(region=REGION, secret_id='x', secret_key='y', endpoint=endpoint), None)
    assert (cloud.url('tag'), cloud.url('sts')) == (tag_url, sts_url)


def enis_for(instances, per_instance=1, primary=True):
    out = []
    for n, iid in enumerate(instances):
        if primary:
            out.append(dict(id='eni-p%07d' % n, instance_id=iid, primary=True))
        for k in range(per_instance):
            out.append(dict(id='eni-s%03d%04d' % (k, n), instance_id=iid, security_groups=[GROUPS[k % 3], GROUPS[(k + 1) % 3]],
                            tags={'n': str(k)}))
    return out


def test_attached_interfaces_one_vpc_is_listed_in_the_fewest_pages(emulator):
    ids = ['ins-vpc%05d' % n for n in range(100)]
    seed(emulator, [dict(id=iid, vpc_id='vpc-one00001') for iid in ids], enis_for(ids))
    cloud = provider(emulator, instance_ids=ids)
    cloud.read(ids)
    emulator.emulator.clear_requests()
    out = cloud.attached_interfaces(ids)
    assert out['ins-vpc00007'] == [{'network_interface_id': 'eni-s0000007', 'security_group_ids': [GROUPS[0], GROUPS[1]]}]
    assert all(len(v) == 1 for v in out.values())
    # 100 secondary ENIs in the instances' one VPC: 1 page of 100, not 20 calls of 5 instances.
    assert calls(emulator) == ['DescribeNetworkInterfaces']
    assert cloud.interface_owner(['eni-s0000042']) == {'eni-s0000042': 'ins-vpc00042'}
    assert calls(emulator) == ['DescribeNetworkInterfaces']      # from the answer read
    assert cloud.tags['eni-s0000042'] == {'n': '0'}


def test_attached_interfaces_falls_back_to_the_instance_filter_in_a_crowded_vpc(emulator):
    ids = ['ins-few%05d' % n for n in range(5)]
    crowd = ['ins-crd%05d' % n for n in range(60)]
    seed(emulator, [dict(id=iid, vpc_id='vpc-big00001') for iid in ids + crowd], enis_for(ids + crowd, per_instance=5, primary=False))
    cloud = provider(emulator)
    out = cloud.attached_interfaces(ids)            # not read before: read first
    assert [len(out[iid]) for iid in ids] == [5] * 5
    # 300 ENIs in the VPC (3 pages) against 1 call of 5 instances: the first VPC page, then the instance filter.
    assert calls(emulator) == ['DescribeInstances', 'DescribeNetworkInterfaces', 'DescribeNetworkInterfaces']


def test_attached_interfaces_of_instances_without_secondary_enis(emulator):
    seed(emulator, [dict(id='ins-bare0001')], [dict(id='eni-prim0001', instance_id='ins-bare0001', primary=True)])
    assert provider(emulator).attached_interfaces(['ins-bare0001', 'ins-nonexist']) == {'ins-bare0001': []}


def test_eni_targets_read_their_own_tags_and_their_owner(emulator):
    seed(emulator, [dict(id='ins-own00001', tags={'sgq': 'record'})], [dict(id='eni-tgt00001', instance_id='ins-own00001',
                                                                            security_groups=[GROUPS[0]], tags={'e': '1'})])
    cloud = provider(emulator, network_interface_ids=['eni-tgt00001'])
    cloud.read(['eni-tgt00001'])
    assert cloud.tags == {'eni-tgt00001': {'e': '1'}}
    assert cloud.interface_owner(['eni-tgt00001']) == {'eni-tgt00001': 'ins-own00001'}
    assert cloud.instance_tags(['ins-own00001']) == {'ins-own00001': {'sgq': 'record'}}
    assert calls(emulator) == ['DescribeNetworkInterfaces', 'DescribeInstances']
    cloud.write_tags('eni-tgt00001', {'sgq': 'x'})
    assert state(emulator, 'network_interfaces')['eni-tgt00001'] == {'e': '1', 'sgq': 'x'}


def test_isolate_and_restore_100_instances_call_counts(emulator):
    """The tag-store calls of a quarantine of 100 instances (a record of 3 tags each, different per instance), and of its
    restore: read (DescribeInstances, tags included), write records, remove records. The binding itself is the engine's."""
    ids = ['ins-cnt%05d' % n for n in range(100)]
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
    assert (restore.count('DescribeInstances'), restore.count('UnTagResources')) == (1, 10)


def test_a_restore_run_again_sends_no_untag_call(emulator):
    """Keys a target read in this run lacks are not sent: with the cloud refusing absent keys, nothing fails either."""
    seed(emulator, [dict(id='ins-again001', tags={'sgq': 'x', 'env': 'prod'}), dict(id='ins-again002')], untag_missing_key='error')
    cloud = provider(emulator)
    cloud.read(['ins-again001', 'ins-again002'])
    assert len(cloud.remove_tags_many({'ins-again001': ['sgq', 'sgq:1'], 'ins-again002': ['sgq']})) == 1
    assert calls(emulator, 'UnTagResources') == ['UnTagResources']
    assert state(emulator)['ins-again001'] == {'env': 'prod'}
    emulator.emulator.clear_requests()
    cloud.read(['ins-again001'])
    assert cloud.remove_tags('ins-again001', ['sgq', 'sgq:1']) == []
    assert calls(emulator) == ['DescribeInstances']


@pytest.mark.parametrize('many', [False, True])
def test_when_the_empty_account_is_refused_it_is_asked_once_and_the_refused_sent_again(emulator, many):
    seed(emulator, [dict(id='ins-uin%05d' % n) for n in range(12)], tag_resource_uin='owner', tag_owner_uin='200000000042')
    cloud = provider(emulator)
    ids = ['ins-uin%05d' % n for n in range(12 if many else 1)]
    cloud.write_tags_many(dict((iid, {'sgq': 'x'}) for iid in ids))
    assert all(state(emulator)[iid] == {'sgq': 'x'} for iid in ids)
    tagged = len(ids) // 10 + 1
    assert calls(emulator) == ['TagResources'] * tagged + ['GetCallerIdentity'] + ['TagResources'] * tagged
    assert cloud.tag_resource('ins-uin00000') == 'qcs::cvm:ap-guangzhou:uin/200000000042:instance/ins-uin00000'
    emulator.emulator.clear_requests()
    cloud.remove_tags_many(dict((iid, ['sgq']) for iid in ids))           # the account is known now: no second question
    assert calls(emulator) == ['UnTagResources'] * tagged
    assert all(state(emulator)[iid] == {} for iid in ids)


def test_a_throttled_tag_write_is_retried_as_it_is_idempotent(emulator):
    seed(emulator, [dict(id='ins-retry001')])
    emulator.emulator.add_fault({'provider': 'tencentcloud', 'action': 'TagResources', 'kind': 'server_error'})
    emulator.emulator.add_fault({'provider': 'tencentcloud', 'action': 'UnTagResources', 'kind': 'commit_then_drop'})
    cloud = provider(emulator)
    cloud.write_tags('ins-retry001', {'sgq': 'x'})
    cloud.remove_tags('ins-retry001', ['sgq'])          # the answer was lost after the change: sent again, no harm
    assert calls(emulator) == ['TagResources', 'TagResources', 'UnTagResources', 'UnTagResources']
    assert state(emulator)['ins-retry001'] == {}


def test_a_removal_refused_for_the_empty_account_asks_it_too(emulator):
    seed(emulator, [dict(id='ins-unt00001', tags={'sgq': 'x'})], tag_resource_uin='owner', tag_owner_uin='200000000042')
    cloud = provider(emulator)
    cloud.remove_tags('ins-unt00001', ['sgq'])
    assert calls(emulator) == ['UnTagResources', 'GetCallerIdentity', 'UnTagResources']
    assert state(emulator)['ins-unt00001'] == {}
