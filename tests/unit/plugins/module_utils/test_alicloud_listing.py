# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Alibaba Cloud's listing hook (list_filters, list_instances) against the emulator: NextToken followed to the last
page, each filter sent as DescribeInstances takes it and answered right, the tag-filter cap, the calls counted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
import time

import pytest

from ansible_collections.multicloud.secgroup.plugins.module_utils import _alicloud as ali
from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

AK = 'LTAIlist000000000001'
SECRET = 'Ali-Listing-Secret-Never-Shown'
REGION = 'cn-hangzhou'
VPCS = ['vpc-bp1list000000000%02d' % n for n in range(2)]
GROUPS = ['sg-bp1list00000000%02d' % n for n in range(1, 4)]
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


def iid(n):
    return 'i-bp1list%012d' % n


def fleet(count):
    """count instances: every third Stopped, tags role=web|db by parity, env=prod on every fifth, two VPCs (each group in
    its VPC: the first two groups in VPC 0, the third in VPC 1)."""
    out = []
    for n in range(count):
        vpc = n % 2
        out.append({'id': iid(n), 'name': 'host-%d' % n, 'status': 'Stopped' if n % 3 == 0 else 'Running', 'vpc_id': VPCS[vpc],
                    'security_groups': [GROUPS[2]] if vpc else ([GROUPS[0], GROUPS[1]] if n % 4 == 0 else [GROUPS[0]]),
                    'tags': dict([('role', 'web' if n % 2 else 'db')] + ([('env', 'prod')] if n % 5 == 0 else [])),
                    'private_ips': ['10.0.%d.%d' % (n // 250, n % 250)], 'public_ips': ['203.0.113.%d' % (n % 250)] if n % 2 else []})
    return out


def seed(emulator, instances, other_region=0, **settings):
    emulator.emulator.reset()
    emulator.emulator.seed({'alicloud': {
        'credentials': [{'access_key': AK, 'secret_key': SECRET}],
        'security_groups': [{'id': sg, 'region': REGION, 'vpc_id': VPCS[1 if sg == GROUPS[2] else 0]} for sg in GROUPS],
        'instances': [dict(ins, region=REGION) for ins in instances] +
        [{'id': 'i-2zelist%012d' % n, 'region': 'cn-beijing'} for n in range(other_region)]}})
    if settings:
        emulator.emulator.update_settings({'alicloud': settings})
    emulator.emulator.clear_requests()


def provider(emulator, **params):
    base = dict(access_key=AK, secret_key=SECRET, region=REGION, endpoint=emulator.endpoints['alicloud'], timeout=10,
                validate_certs=True, retries=2, retry_delay=0.01, retry_max_delay=0.05, rate_limit=None, max_concurrency=4,
                wait_timeout=30)
    base.update(params)
    cloud = ali.AliCloud(base, engine.transport_for(ali.AliCloud, base, [SECRET]))
    sent = []
    call = cloud.call

    def spy(action, query, **kwargs):
        sent.append((action, dict(query)))
        return call(action, query, **kwargs)
    cloud.call = spy
    return cloud, sent


def calls(emulator):
    return [e['action'] for e in emulator.emulator.requests('alicloud')]


def filters_of(query):
    return dict((k, v) for k, v in query.items() if k not in ('RegionId', 'MaxResults', 'NextToken'))


def test_list_filters_are_the_contract_names():
    assert set(ali.AliCloud.list_filters) == set(CONTRACT)


@pytest.mark.parametrize('count', [0, 1, 99, 100, 101, 250])
def test_pages_are_followed_to_the_end_with_one_call_a_hundred(emulator, count):
    seed(emulator, fleet(count), other_region=3)
    cloud, sent = provider(emulator)
    listed = cloud.list_instances({})
    assert [i['instance_id'] for i in listed] == [iid(n) for n in range(count)]
    assert calls(emulator) == ['DescribeInstances'] * max(1, -(-count // 100))
    assert all(q['MaxResults'] == '100' and q['RegionId'] == REGION and not filters_of(q) for dummy, q in sent)
    assert 'NextToken' not in sent[0][1] and all(q.get('NextToken') for dummy, q in sent[1:])


def test_pages_shorter_than_asked_are_still_followed(emulator):
    seed(emulator, fleet(45), page_size_cap=10)
    cloud, dummy = provider(emulator)
    assert len(cloud.list_instances({})) == 45
    assert len(calls(emulator)) == 5


def test_a_listed_instance_has_the_neutral_fields(emulator):
    seed(emulator, fleet(3) + [{'id': 'i-bp1classic0000000001', 'vpc_id': None, 'private_ips': ['10.1.1.1'],
                                'eip': '198.51.100.7', 'security_groups': []}])
    cloud, dummy = provider(emulator)
    listed = dict((i['instance_id'], i) for i in cloud.list_instances({}))
    assert listed[iid(0)] == {
        'instance_id': iid(0), 'instance_name': 'host-0', 'status': 'Stopped', 'vpc_id': VPCS[0],
        'private_ips': ['10.0.0.0'], 'public_ips': [], 'tags': {'role': 'db', 'env': 'prod'},
        'security_group_ids': [GROUPS[0], GROUPS[1]], 'region': REGION, 'kind': 'instance'}
    assert listed[iid(1)]['public_ips'] == ['203.0.113.1']
    # classic network: the addresses are InnerIpAddress; an EIP is a public address
    assert listed['i-bp1classic0000000001']['private_ips'] == ['10.1.1.1']
    assert listed['i-bp1classic0000000001']['public_ips'] == ['198.51.100.7']
    assert listed['i-bp1classic0000000001']['vpc_id'] is None
    assert 'network_interfaces' not in listed[iid(1)]       # the answer's ENIs carry no groups
    assert cloud.tags[iid(1)] == {'role': 'web'} and cloud.instances[iid(1)]['status'] == 'Running'


def expected(instances, test):
    return [iid(n) for n, ins in enumerate(instances) if test(n, ins)]


@pytest.mark.parametrize('filters, sent_query, test', [
    ({'vpc_id': VPCS[1]}, {'VpcId': VPCS[1]}, lambda n, i: n % 2 == 1),
    ({'security_group_id': GROUPS[1]}, {'SecurityGroupId': GROUPS[1]}, lambda n, i: n % 4 == 0),
    ({'name': 'host-7'}, {'InstanceName': 'host-7'}, lambda n, i: n == 7),
    ({'status': ['stopped']}, {'Status': 'Stopped'}, lambda n, i: n % 3 == 0),
    ({'vpc_id': VPCS[0], 'status': ['Running'], 'security_group_id': GROUPS[0]},
     {'VpcId': VPCS[0], 'Status': 'Running', 'SecurityGroupId': GROUPS[0]}, lambda n, i: n % 2 == 0 and n % 3 != 0),
    ({'tags': {'role': 'web'}}, {'Tag.1.Key': 'role', 'Tag.1.Value': 'web'}, lambda n, i: n % 2 == 1),
    ({'tags': {'env': None}}, {'Tag.1.Key': 'env'}, lambda n, i: n % 5 == 0),
    ({'tags': {'role': 'db', 'env': 'prod'}}, {'Tag.1.Key': 'role', 'Tag.1.Value': 'db', 'Tag.2.Key': 'env', 'Tag.2.Value': 'prod'},
     lambda n, i: n % 10 == 0),
    # tags are sent alone: the others are left to the neutral code (here: all of VPC 0's, tagged or not, filtered later)
    ({'tags': {'env': 'prod'}, 'vpc_id': VPCS[0]}, {'Tag.1.Key': 'env', 'Tag.1.Value': 'prod'}, lambda n, i: n % 5 == 0),
])
def test_each_filter_is_sent_and_answered_right(emulator, filters, sent_query, test):
    instances = fleet(230)
    seed(emulator, instances)
    cloud, sent = provider(emulator)
    listed = cloud.list_instances(filters)
    assert [i['instance_id'] for i in listed] == expected(instances, test)
    assert all(filters_of(q) == sent_query for dummy, q in sent)
    assert len(sent) == max(1, -(-len(listed) // 100))


@pytest.mark.parametrize('filters', [
    {'name': 'host-*'},                      # the API's wildcard: never sent (the neutral code matches patterns)
    {'status': ['Running', 'Stopped']},      # Status takes one value
    {'status': ['Deleted']},                 # not a documented Status (the API would answer InvalidStatus.NotFound)
])
def test_what_the_api_cannot_take_is_not_sent(emulator, filters):
    seed(emulator, fleet(3))
    cloud, sent = provider(emulator)
    assert len(cloud.list_instances(filters)) == 3
    assert filters_of(sent[0][1]) == {}


def test_at_most_twenty_tags_are_sent():
    cloud = ali.AliCloud(dict(access_key=AK, secret_key=SECRET, region=REGION, max_concurrency=1), None)
    query = cloud.listing_query({'tags': dict(('k%02d' % n, 'v') for n in range(25))}, tags=True)
    assert sorted(k for k in query if k.endswith('.Key')) == sorted('Tag.%d.Key' % n for n in range(1, 21))


def test_a_tagged_listing_that_reaches_the_cap_is_listed_again_without_tags(emulator):
    instances = fleet(30)
    seed(emulator, instances, tag_filter_max_results=10)
    cloud, sent = provider(emulator)
    original = ali.TAG_FILTER_CAP
    ali.TAG_FILTER_CAP = 10
    try:
        listed = cloud.list_instances({'tags': {'role': 'web'}, 'vpc_id': VPCS[1]})
    finally:
        ali.TAG_FILTER_CAP = original
    # 15 carry the tag; the tagged answer stopped at 10 (the cap): the region again, VpcId sent, tags left to the neutral code
    assert [filters_of(q) for dummy, q in sent] == [{'Tag.1.Key': 'role', 'Tag.1.Value': 'web'}, {'VpcId': VPCS[1]}]
    assert [i['instance_id'] for i in listed] == expected(instances, lambda n, i: n % 2 == 1)


def test_the_emulator_caps_tag_filtered_listings_at_1000_by_default(emulator):
    assert emulator.emulator.clouds['alicloud'].default_settings['tag_filter_max_results'] == ali.TAG_FILTER_CAP == 1000


def test_a_listing_error_is_a_provider_error_naming_the_code(emulator):
    seed(emulator, fleet(2))
    cloud, dummy = provider(emulator, secret_key='wrong')
    with pytest.raises(transport.ProviderError) as err:
        cloud.list_instances({})
    assert err.value.code == 'SignatureDoesNotMatch' and err.value.action == 'DescribeInstances'
    assert SECRET not in str(err.value) and 'wrong' not in str(err.value)


def test_a_throttled_page_is_retried(emulator):
    seed(emulator, fleet(150))
    emulator.emulator.add_fault({'provider': 'alicloud', 'action': 'DescribeInstances', 'kind': 'throttle', 'count': 1, 'after': 1})
    cloud, dummy = provider(emulator)
    assert len(cloud.list_instances({})) == 150
    assert calls(emulator) == ['DescribeInstances'] * 3


def test_ten_thousand_instances_are_listed_in_a_hundred_calls(emulator):
    seed(emulator, fleet(10000))
    cloud, dummy = provider(emulator)
    start = time.monotonic()
    listed = cloud.list_instances({})
    elapsed = time.monotonic() - start
    assert len(listed) == 10000 and len(set(i['instance_id'] for i in listed)) == 10000
    assert calls(emulator) == ['DescribeInstances'] * 100
    sys.stderr.write('alicloud: 10000 instances, %d calls, %.2f s\n' % (len(calls(emulator)), elapsed))
