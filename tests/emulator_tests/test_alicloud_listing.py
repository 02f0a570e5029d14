# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Alibaba Cloud emulator's instance listing, driven by both official SDK families and all three signing
schemes: DescribeInstances with the filters the listing hook sends (VpcId, SecurityGroupId, InstanceName, Status,
Tag.N), MaxResults/NextToken and PageNumber/PageSize to the end, names, tags and addresses."""

import pytest

from test_alicloud import AK, FAMILIES, SK, ApiError, clients

REGION = 'cn-hangzhou'
VPCS = ['vpc-bp1lst00000000000%02d' % n for n in range(2)]
GROUPS = ['sg-bp1lst000000000000%02d' % n for n in range(2)]


def iid(n):
    return 'i-bp1lst%013d' % n


def instances(count):
    return [{'id': iid(n), 'region': REGION, 'name': 'web-%d' % n if n % 2 else 'db-%d' % n,
             'status': 'Stopped' if n % 3 == 0 else 'Running', 'vpc_id': VPCS[n % 2], 'security_groups': [GROUPS[n % 2]],
             'tags': {'role': 'web' if n % 2 else 'db', 'team': 't%d' % (n % 4)},
             'private_ips': ['10.1.0.%d' % n], 'public_ips': ['198.51.100.%d' % n] if n % 2 else []} for n in range(count)]


@pytest.fixture
def ali(emulator, admin):
    admin.seed({'alicloud': {'credentials': [{'access_key': AK, 'secret_key': SK}],
                             'security_groups': [{'id': sg, 'region': REGION, 'vpc_id': VPCS[n]} for n, sg in enumerate(GROUPS)],
                             'instances': instances(230)}})
    return emulator


@pytest.fixture(params=FAMILIES)
def client(ali, request):
    return clients(ali.endpoints['alicloud'])[request.param]


def tag_params(client, tags):
    legacy = client.scheme == 'v1' and type(client).__name__ == 'LegacyClient'
    items = [dict([('Key', k)] + ([('Value', v)] if v is not None else [])) for k, v in tags]
    return {'Tag': items} if not legacy else {'Tags': items}


def listed(client, page=100, **params):
    """Every page by NextToken through the SDK; the IDs and the calls made."""
    ids, calls, token = [], 0, None
    while True:
        query = dict(params, RegionId=REGION, MaxResults=page)
        if token:
            query['NextToken'] = token
        out = client.call('DescribeInstances', **query)
        calls += 1
        ids.extend(item['InstanceId'] for item in out['Instances']['Instance'])
        token = out.get('NextToken')
        if not token:
            return ids, calls


def ids_where(test):
    return [iid(n) for n in range(230) if test(n)]


@pytest.mark.parametrize('page, calls', [(100, 3), (50, 5), (10, 23)])
def test_next_token_to_the_end_at_several_sizes(client, page, calls):
    assert listed(client, page) == (ids_where(lambda n: True), calls)


def test_page_number_and_page_size_to_the_end(client):
    ids, number = [], 1
    while True:
        out = client.call('DescribeInstances', RegionId=REGION, PageNumber=number, PageSize=100)
        ids.extend(item['InstanceId'] for item in out['Instances']['Instance'])
        if number * 100 >= out['TotalCount']:
            break
        number += 1
    assert ids == ids_where(lambda n: True) and number == 3


@pytest.mark.parametrize('params, test', [
    ({'VpcId': VPCS[1]}, lambda n: n % 2 == 1),
    ({'SecurityGroupId': GROUPS[0]}, lambda n: n % 2 == 0),
    ({'InstanceName': 'web-7'}, lambda n: n == 7),
    ({'InstanceName': 'web-1*'}, lambda n: n % 2 == 1 and str(n).startswith('1')),     # the API's wildcard
    ({'Status': 'Stopped'}, lambda n: n % 3 == 0),
    ({'VpcId': VPCS[0], 'Status': 'Running'}, lambda n: n % 2 == 0 and n % 3 != 0),
])
def test_each_filter_through_the_sdk(client, params, test):
    ids, calls = listed(client, **params)
    assert ids == ids_where(test) and calls == max(1, -(-len(ids) // 100))


@pytest.mark.parametrize('tags, test', [
    ([('role', 'web')], lambda n: n % 2 == 1),
    ([('team', None)], lambda n: True),                                    # a key alone: any value
    ([('role', 'db'), ('team', 't2')], lambda n: n % 4 == 2),              # ANDed
    ([('team', 'nothing')], lambda n: False),
])
def test_tag_filters_through_the_sdk(client, tags, test):
    ids, dummy = listed(client, **tag_params(client, tags))
    assert ids == ids_where(test)


def test_a_listed_instance_carries_name_tags_and_addresses(client):
    out = client.call('DescribeInstances', RegionId=REGION, InstanceName='web-1')
    item = out['Instances']['Instance'][0]
    assert (item['InstanceName'], item['Status'], item['VpcAttributes']['VpcId']) == ('web-1', 'Running', VPCS[1])
    assert item['VpcAttributes']['PrivateIpAddress']['IpAddress'] == ['10.1.0.1']
    assert item['PublicIpAddress']['IpAddress'] == ['198.51.100.1']
    assert sorted((t['TagKey'], t['TagValue']) for t in item['Tags']['Tag']) == [('role', 'web'), ('team', 't1')]
    assert item['SecurityGroupIds']['SecurityGroupId'] == [GROUPS[1]]


def test_an_unknown_status_is_refused(client):
    with pytest.raises(ApiError) as err:
        client.call('DescribeInstances', RegionId=REGION, Status='Deleted')
    assert (err.value.code, err.value.status) == ('InvalidStatus.NotFound', 404)


def test_a_tag_filtered_listing_stops_at_the_cap(client, admin):
    admin.settings(alicloud={'tag_filter_max_results': 50})
    ids, dummy = listed(client, **tag_params(client, [('team', None)]))
    assert ids == ids_where(lambda n: n < 50)
    assert len(listed(client)[0]) == 230          # without the tag filter: all
