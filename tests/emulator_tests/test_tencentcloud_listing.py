# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Tencent Cloud emulator's instance listing, driven by the official SDK (tencentcloud-sdk-python-cvm):
DescribeInstances with the Filters the listing hook sends, Offset/Limit pages to the end, names, tags and addresses."""

import pytest

from test_tencentcloud import SECRET_ID, SECRET_KEY, call, cvm, error_of

GZ = 'ap-guangzhou'
GROUPS = ['sg-lst00001', 'sg-lst00002']


def instances(count):
    return [{'id': 'ins-l%07d' % n, 'region': GZ, 'name': 'web-%d' % n if n % 2 else 'db-%d' % n,
             'status': 'STOPPED' if n % 3 == 0 else 'RUNNING', 'vpc_id': 'vpc-lst0000%d' % (n % 2),
             'security_groups': [GROUPS[n % 2]], 'tags': {'role': 'web' if n % 2 else 'db', 'team': 't%d' % (n % 4)},
             'private_ips': ['10.1.0.%d' % n], 'public_ips': ['198.51.100.%d' % n] if n % 2 else []} for n in range(count)]


@pytest.fixture
def tc(emulator, admin):
    admin.seed({'tencentcloud': {'credentials': [{'access_key': SECRET_ID, 'secret_key': SECRET_KEY}],
                                 'security_groups': [{'id': sg, 'region': GZ} for sg in GROUPS],
                                 'instances': instances(230)}})
    return emulator


def listed(client, filters=None, limit=100):
    """Every page through the SDK; the IDs and the calls made."""
    ids, offset, pages = [], 0, 0
    while True:
        params = {'Offset': offset, 'Limit': limit}
        if filters:
            params['Filters'] = filters
        out = call(client, 'DescribeInstances', **params)
        pages += 1
        ids.extend(item['InstanceId'] for item in out['InstanceSet'])
        offset += limit
        if offset >= out['TotalCount']:
            return ids, pages


def ids_where(test):
    return ['ins-l%07d' % n for n in range(230) if test(n)]


@pytest.mark.parametrize('limit, pages', [(100, 3), (50, 5), (20, 12), (7, 33)])
def test_pages_to_the_end_at_several_sizes(tc, limit, pages):
    assert listed(cvm(tc), limit=limit) == (ids_where(lambda n: True), pages)


def test_the_default_limit_is_20(tc):
    out = call(cvm(tc), 'DescribeInstances')
    assert out['TotalCount'] == 230 and len(out['InstanceSet']) == 20


@pytest.mark.parametrize('filters, test', [
    ([{'Name': 'vpc-id', 'Values': ['vpc-lst00001']}], lambda n: n % 2 == 1),
    ([{'Name': 'security-group-id', 'Values': [GROUPS[0]]}], lambda n: n % 2 == 0),
    ([{'Name': 'instance-name', 'Values': ['web-7']}], lambda n: n == 7),
    ([{'Name': 'instance-state', 'Values': ['STOPPED']}], lambda n: n % 3 == 0),
    ([{'Name': 'instance-state', 'Values': ['STOPPED', 'RUNNING']}], lambda n: True),           # values ORed
    ([{'Name': 'tag:role', 'Values': ['web']}], lambda n: n % 2 == 1),
    ([{'Name': 'tag:team', 'Values': ['t1', 't2']}], lambda n: n % 4 in (1, 2)),
    ([{'Name': 'tag-key', 'Values': ['team']}], lambda n: True),
    ([{'Name': 'tag-key', 'Values': ['nothing']}], lambda n: False),
    ([{'Name': 'tag:role', 'Values': ['db']}, {'Name': 'instance-state', 'Values': ['RUNNING']},         # filters ANDed
      {'Name': 'vpc-id', 'Values': ['vpc-lst00000']}], lambda n: n % 2 == 0 and n % 3 != 0),
])
def test_each_filter_through_the_sdk(tc, filters, test):
    ids, pages = listed(cvm(tc), filters)
    assert ids == ids_where(test)
    assert pages == max(1, -(-len(ids) // 100))


def test_a_listed_instance_carries_name_tags_and_addresses(tc):
    item = call(cvm(tc), 'DescribeInstances', Filters=[{'Name': 'instance-name', 'Values': ['web-1']}])['InstanceSet'][0]
    assert (item['InstanceName'], item['InstanceState'], item['VirtualPrivateCloud']['VpcId']) == ('web-1', 'RUNNING', 'vpc-lst00001')
    assert item['PrivateIpAddresses'] == ['10.1.0.1'] and item['PublicIpAddresses'] == ['198.51.100.1']
    assert sorted((t['Key'], t['Value']) for t in item['Tags']) == [('role', 'web'), ('team', 't1')]
    assert item['SecurityGroupIds'] == [GROUPS[1]]
    none = call(cvm(tc), 'DescribeInstances', Filters=[{'Name': 'instance-name', 'Values': ['db-0']}])['InstanceSet'][0]
    assert none['PublicIpAddresses'] is None        # the SDK model: may be null


@pytest.mark.parametrize('params, code', [
    ({'Filters': [{'Name': 'tag:role', 'Values': ['a', 'b', 'c', 'd', 'e', 'f']}]}, 'InvalidFilterValue.LimitExceeded'),
    ({'Filters': [{'Name': 'zone', 'Values': ['x']}] * 11}, 'InvalidParameterValue.LimitExceeded'),
    ({'Limit': 101}, 'InvalidParameterValue.LimitExceeded'),
    ({'Filters': [{'Name': 'instance-nam', 'Values': ['x']}]}, 'InvalidFilter'),
])
def test_listing_limits_through_the_sdk(tc, params, code):
    assert error_of(cvm(tc), 'DescribeInstances', **params) == code
