# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tencent Cloud's listing hook (list_filters, list_instances) against the emulator: every page followed, each filter
sent as DescribeInstances takes it and answered right, the calls counted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
import time

import pytest

from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _tencentcloud as tencent
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

SECRET = 'Tc-Listing-Secret-Never-Shown'
KEY = 'AKIDlist00000001'
REGION = 'ap-guangzhou'
GROUPS = ['sg-list%04d' % n for n in range(1, 4)]
CONTRACT = ('tags', 'name', 'status', 'vpc_id', 'security_group_id')


@pytest.fixture(scope='module')
def emulator():
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy'):
        os.environ.pop(var, None)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..'))
    from emulator import start  # pylint: disable=import-outside-toplevel
    running = start()
    yield running
    running.stop()


def fleet(count):
    """count instances: every third stopped, tags role=web|db by parity, env=prod on every fifth, two VPCs, two groups."""
    out = []
    for n in range(count):
        out.append({'id': 'ins-%08d' % n, 'name': 'host-%d' % n, 'status': 'STOPPED' if n % 3 == 0 else 'RUNNING',
                    'vpc_id': 'vpc-aaaa%04d' % (n % 2), 'security_groups': [GROUPS[n % 2], GROUPS[2]] if n % 4 == 0 else [GROUPS[n % 2]],
                    'tags': dict([('role', 'web' if n % 2 else 'db')] + ([('env', 'prod')] if n % 5 == 0 else [])),
                    'private_ips': ['10.0.%d.%d' % (n // 250, n % 250)], 'public_ips': ['203.0.113.%d' % (n % 250)] if n % 2 else []})
    return out


def seed(emulator, instances, other_region=0):
    emulator.emulator.reset()
    emulator.emulator.seed({'tencentcloud': {
        'credentials': [{'access_key': KEY, 'secret_key': SECRET}],
        'security_groups': [{'id': sg, 'region': REGION} for sg in GROUPS],
        'instances': [dict(ins, region=REGION) for ins in instances] +
        [{'id': 'ins-sh%06d' % n, 'region': 'ap-shanghai'} for n in range(other_region)]}})
    emulator.emulator.clear_requests()


def provider(emulator, **params):
    base = dict(secret_id=KEY, secret_key=SECRET, region=REGION, endpoint=emulator.endpoints['tencentcloud'],
                timeout=10, validate_certs=True, retries=2, retry_delay=0.01, retry_max_delay=0.05, rate_limit=None,
                max_concurrency=4, wait_timeout=30)
    base.update(params)
    cloud = tencent.TencentCloud(base, engine.transport_for(tencent.TencentCloud, base, [SECRET]))
    sent = []
    call = cloud.call

    def spy(service, action, body, **kwargs):
        sent.append((action, body))
        return call(service, action, body, **kwargs)
    cloud.call = spy
    return cloud, sent


def calls(emulator):
    return [e['action'] for e in emulator.emulator.requests('tencentcloud')]


def test_list_filters_are_the_contract_names():
    assert set(tencent.TencentCloud.list_filters) <= set(CONTRACT)
    assert set(tencent.TencentCloud.list_filters) == set(CONTRACT)


@pytest.mark.parametrize('count', [0, 1, 99, 100, 101, 250])
def test_pages_are_followed_to_the_end_with_one_call_a_hundred(emulator, count):
    seed(emulator, fleet(count), other_region=3)
    cloud, sent = provider(emulator)
    listed = cloud.list_instances({})
    assert [i['instance_id'] for i in listed] == ['ins-%08d' % n for n in range(count)]
    assert calls(emulator) == ['DescribeInstances'] * max(1, -(-count // 100))
    assert sorted(body['Offset'] for dummy, body in sent) == list(range(0, max(1, count), 100))
    assert all(body['Limit'] == 100 and 'Filters' not in body and 'InstanceIds' not in body for dummy, body in sent)


def test_a_listed_instance_has_the_neutral_fields(emulator):
    seed(emulator, fleet(5))
    cloud, dummy = provider(emulator)
    listed = dict((i['instance_id'], i) for i in cloud.list_instances({}))
    assert listed['ins-00000000'] == {
        'instance_id': 'ins-00000000', 'instance_name': 'host-0', 'status': 'STOPPED', 'vpc_id': 'vpc-aaaa0000',
        'private_ips': ['10.0.0.0'], 'public_ips': [], 'tags': {'role': 'db', 'env': 'prod'},
        'security_group_ids': [GROUPS[0], GROUPS[2]], 'region': REGION, 'kind': 'instance'}
    assert listed['ins-00000001']['public_ips'] == ['203.0.113.1']
    assert 'network_interfaces' not in listed['ins-00000001']     # DescribeInstances does not list ENIs
    assert cloud.tags['ins-00000001'] == {'role': 'web'} and cloud.vpcs['ins-00000001'] == 'vpc-aaaa0001'


def test_the_group_order_is_the_clouds(emulator):
    seed(emulator, [{'id': 'ins-order001', 'security_groups': [GROUPS[2], GROUPS[0], GROUPS[1]]}])
    cloud, dummy = provider(emulator)
    assert cloud.list_instances({})[0]['security_group_ids'] == [GROUPS[2], GROUPS[0], GROUPS[1]]


def expected(instances, test):
    return ['ins-%08d' % n for n, ins in enumerate(instances) if test(n, ins)]


@pytest.mark.parametrize('filters, sent_filters, test', [
    ({'vpc_id': 'vpc-aaaa0001'}, [{'Name': 'vpc-id', 'Values': ['vpc-aaaa0001']}], lambda n, i: n % 2 == 1),
    ({'security_group_id': GROUPS[2]}, [{'Name': 'security-group-id', 'Values': [GROUPS[2]]}], lambda n, i: n % 4 == 0),
    ({'name': 'host-7'}, [{'Name': 'instance-name', 'Values': ['host-7']}], lambda n, i: n == 7),
    ({'status': ['stopped']}, [{'Name': 'instance-state', 'Values': ['STOPPED']}], lambda n, i: n % 3 == 0),
    ({'status': ['RUNNING', 'Stopped']}, [{'Name': 'instance-state', 'Values': ['RUNNING', 'STOPPED']}], lambda n, i: True),
    ({'tags': {'role': 'web'}}, [{'Name': 'tag:role', 'Values': ['web']}], lambda n, i: n % 2 == 1),
    ({'tags': {'env': None}}, [{'Name': 'tag-key', 'Values': ['env']}], lambda n, i: n % 5 == 0),
    ({'tags': {'role': 'db', 'env': 'prod'}, 'vpc_id': 'vpc-aaaa0000', 'status': ['STOPPED']},
     [{'Name': 'vpc-id', 'Values': ['vpc-aaaa0000']}, {'Name': 'instance-state', 'Values': ['STOPPED']},
      {'Name': 'tag:role', 'Values': ['db']}, {'Name': 'tag:env', 'Values': ['prod']}],
     lambda n, i: n % 2 == 0 and n % 5 == 0 and n % 3 == 0),
])
def test_each_filter_is_sent_and_answered_right(emulator, filters, sent_filters, test):
    instances = fleet(230)
    seed(emulator, instances)
    cloud, sent = provider(emulator)
    listed = cloud.list_instances(filters)
    assert [i['instance_id'] for i in listed] == expected(instances, test)
    assert all(body['Filters'] == sent_filters for dummy, body in sent)
    assert len(sent) == max(1, -(-len(listed) // 100))      # the filtered answer's pages only


def test_a_fuzzy_name_filter_answers_more_and_the_hook_passes_it_on(emulator):
    # [inferred] whether instance-name is exact or fuzzy; either way the name is sent, and the neutral code narrows
    seed(emulator, fleet(12))
    emulator.emulator.update_settings({'tencentcloud': {'instance_name_match': 'fuzzy'}})
    try:
        cloud, sent = provider(emulator)
        listed = cloud.list_instances({'name': 'host-1'})
    finally:
        emulator.emulator.update_settings({'tencentcloud': {'instance_name_match': 'exact'}})
    assert [i['instance_name'] for i in listed] == ['host-1', 'host-10', 'host-11']
    assert sent[0][1]['Filters'] == [{'Name': 'instance-name', 'Values': ['host-1']}]


@pytest.mark.parametrize('filters', [
    {'name': 'host-*'},                                                          # a pattern: the neutral code matches it
    {'status': ['RUNNING', 'STOPPED', 'PENDING', 'STARTING', 'STOPPING', 'REBOOTING']},   # 6 values: over 5
    {'status': ['RUNNING', 'HIBERNATED']},                                       # not a documented InstanceState
])
def test_what_the_api_cannot_take_is_not_sent(emulator, filters):
    seed(emulator, fleet(3))
    cloud, sent = provider(emulator)
    assert len(cloud.list_instances(filters)) == 3
    assert 'Filters' not in sent[0][1]


def test_key_only_tags_send_one_tag_key_filter_and_at_most_ten_filters():
    tags = dict([('k%d' % n, 'v') for n in range(9)] + [('a', None), ('b', None)])
    out = tencent.TencentCloud.listing_filters({'tags': tags, 'vpc_id': 'vpc-aaaa0000'})
    assert len(out) == 10 and out[0] == {'Name': 'vpc-id', 'Values': ['vpc-aaaa0000']}
    assert [f['Name'] for f in out[1:]] == ['tag:k%d' % n for n in range(9)]      # the tag-key filter is the 11th: cut
    assert tencent.TencentCloud.listing_filters({'tags': {'a': None, 'b': None}}) == [{'Name': 'tag-key', 'Values': ['a']}]


def test_a_listing_error_is_a_provider_error_naming_the_code(emulator):
    seed(emulator, fleet(2))
    cloud, dummy = provider(emulator, secret_key='wrong')
    with pytest.raises(transport.ProviderError) as err:
        cloud.list_instances({})
    assert err.value.code == 'AuthFailure.SignatureFailure' and err.value.action == 'DescribeInstances'
    assert SECRET not in str(err.value) and 'wrong' not in str(err.value)


def test_a_throttled_page_is_retried(emulator):
    seed(emulator, fleet(150))
    emulator.emulator.add_fault({'provider': 'tencentcloud', 'action': 'DescribeInstances', 'kind': 'throttle', 'count': 1})
    cloud, dummy = provider(emulator)
    assert len(cloud.list_instances({})) == 150
    assert calls(emulator) == ['DescribeInstances'] * 3


def test_ten_thousand_instances_are_listed_in_a_hundred_calls(emulator):
    seed(emulator, fleet(10000))
    cloud, dummy = provider(emulator, max_concurrency=10)
    start = time.monotonic()
    listed = cloud.list_instances({})
    elapsed = time.monotonic() - start
    assert len(listed) == 10000 and len(set(i['instance_id'] for i in listed)) == 10000
    assert calls(emulator) == ['DescribeInstances'] * 100
    sys.stderr.write('tencentcloud: 10000 instances, %d calls, %.2f s\n' % (len(calls(emulator)), elapsed))
