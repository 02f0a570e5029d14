# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers of the Alibaba Cloud emulator tests: a seed and the two official SDK families.

Each client's ``call(action, **params)`` takes the API's own parameter names (lists for
repeat lists) and returns the response body as a dict, or raises :class:`ApiError` with
what the SDK reported.
"""

import importlib
import json
import re

from aliyunsdkcore.acs_exception.exceptions import ServerException as LegacyServerException
from aliyunsdkcore.client import AcsClient
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as TeaEcsClient
from alibabacloud_tea_openapi import exceptions as tea_exceptions
from alibabacloud_tea_openapi import utils_models as open_api_models
from darabonba.runtime import RuntimeOptions

AK = 'LTAI5tEmulatorKey0000001'
SK = 'EmulatorSecret00000000000000001'
REGION = 'cn-hangzhou'

VPC = 'vpc-bp1emulator00000001'
OTHER_VPC = 'vpc-bp1emulator00000002'
SG_A, SG_B, SG_C, SG_D, SG_E, SG_F = ('sg-bp1aaaaaaaaaaaaaaaa%02d' % n for n in range(1, 7))
SG_ENT = 'sg-bp1eeeeeeeeeeeeeeee01'
SG_OTHER_VPC = 'sg-bp1vvvvvvvvvvvvvvvv01'
SG_BEIJING = 'sg-2zebbbbbbbbbbbbbbbb01'
I_RUN = 'i-bp1runrunrunrunrun01'
I_STOP = 'i-bp1stopstopstopstop1'
I_PEND = 'i-bp1pendpendpendpend1'
I_STARTING = 'i-bp1startstartstart01'
ENI_SEC = 'eni-bp1secsecsecsecsec1'
ENI_FREE = 'eni-bp1freefreefreefre1'
ENI_RUN_PRIMARY = 'eni-bp1primaryprimary01'


def seed():
    groups = [{'id': sg, 'region': REGION, 'vpc_id': VPC, 'type': 'normal', 'name': sg[-4:]}
              for sg in (SG_A, SG_B, SG_C, SG_D, SG_E, SG_F)]
    groups += [{'id': SG_ENT, 'region': REGION, 'vpc_id': VPC, 'type': 'enterprise', 'name': 'ent'},
               {'id': SG_OTHER_VPC, 'region': REGION, 'vpc_id': OTHER_VPC, 'type': 'normal', 'name': 'other'},
               {'id': SG_BEIJING, 'region': 'cn-beijing', 'vpc_id': VPC, 'type': 'normal', 'name': 'bj'}]
    return {'alicloud': {
        'credentials': [{'access_key': AK, 'secret_key': SK}],
        'security_groups': groups,
        'instances': [
            {'id': I_RUN, 'region': REGION, 'vpc_id': VPC, 'status': 'Running', 'name': 'web-1',
             'zone': 'cn-hangzhou-h', 'security_groups': [SG_A]},
            {'id': I_STOP, 'region': REGION, 'vpc_id': VPC, 'status': 'Stopped', 'name': 'web-2',
             'security_groups': [SG_A, SG_B]},
            {'id': I_PEND, 'region': REGION, 'vpc_id': VPC, 'status': 'Pending', 'security_groups': [SG_A]},
            {'id': I_STARTING, 'region': REGION, 'vpc_id': VPC, 'status': 'Starting', 'security_groups': [SG_A]},
        ],
        'network_interfaces': [
            {'id': ENI_RUN_PRIMARY, 'instance_id': I_RUN, 'type': 'Primary'},
            {'id': ENI_SEC, 'region': REGION, 'vpc_id': VPC, 'instance_id': I_RUN, 'type': 'Secondary',
             'security_groups': [SG_A]},
            {'id': ENI_FREE, 'region': REGION, 'vpc_id': VPC, 'type': 'Secondary', 'security_groups': [SG_B]},
        ],
    }}


class ApiError(Exception):
    def __init__(self, code, status, request_id, message, sdk_exception):
        super(ApiError, self).__init__('%s %s %s' % (status, code, message))
        self.code = code
        self.status = status
        self.request_id = request_id
        self.message = message
        self.sdk_exception = sdk_exception


def host_of(url):
    return url.split('//', 1)[1]


# The legacy SDK names some repeat-list setters after the list, not the parameter.
LEGACY_SETTERS = {
    ('ModifyInstanceAttribute', 'SecurityGroupIds'): 'set_SecurityGroupIdss',
    ('ModifyNetworkInterfaceAttribute', 'SecurityGroupId'): 'set_SecurityGroupIds',
    ('DescribeNetworkInterfaces', 'NetworkInterfaceId'): 'set_NetworkInterfaceIds',
}


class LegacyClient(object):
    """aliyun-python-sdk-core + aliyun-python-sdk-ecs: signature V1, plain HTTP by default."""

    scheme = 'v1'

    def __init__(self, url, access_key=AK, secret=SK, region=REGION, **client_options):
        self.host = host_of(url)
        self.client = AcsClient(access_key, secret, region, **client_options)

    def call(self, action, **params):
        module = importlib.import_module('aliyunsdkecs.request.v20140526.%sRequest' % action)
        request = getattr(module, action + 'Request')()
        request.set_endpoint(self.host)
        for name, value in params.items():
            setter = getattr(request, LEGACY_SETTERS.get((action, name), 'set_' + name), None)
            if setter is None:  # e.g. RegionId, which the client otherwise fills in from its own region
                request.add_query_param(name, value)
            else:
                setter(value)
        try:
            return json.loads(self.client.do_action_with_exception(request))
        except LegacyServerException as exc:
            raise ApiError(exc.get_error_code(), exc.get_http_status(), exc.get_request_id(), exc.get_error_msg(), exc)


class TeaClient(object):
    """alibabacloud-ecs20140526 (Tea / V2.0 SDK): signature V3 by default, V1 with signature_algorithm='v2'."""

    def __init__(self, url, access_key=AK, secret=SK, v1=False):
        self.scheme = 'v1' if v1 else 'v3'
        config = open_api_models.Config(access_key_id=access_key, access_key_secret=secret, region_id=REGION,
                                        endpoint=host_of(url), protocol='http')
        if v1:
            config.signature_algorithm = 'v2'
        self.client = TeaEcsClient(config)

    def call(self, action, **params):
        request = getattr(ecs_models, action + 'Request')().from_map(params)
        method = re.sub(r'(?<!^)(?=[A-Z])', '_', action).lower() + '_with_options'
        try:
            return getattr(self.client, method)(request, RuntimeOptions()).body.to_map()
        except tea_exceptions.AlibabaCloudException as exc:
            raise ApiError(exc.code, exc.status_code, exc.request_id, exc.message, exc)


def clients(url):
    """One client per SDK family and signature scheme."""
    return {'legacy-v1': LegacyClient(url), 'tea-v3': TeaClient(url), 'tea-v1': TeaClient(url, v1=True)}


# -- fixtures -------------------------------------------------------------------

import pytest  # noqa: E402  pylint: disable=wrong-import-position,wrong-import-order

FAMILIES = ('legacy-v1', 'tea-v3', 'tea-v1')


@pytest.fixture
def ali(emulator, admin):
    """The seeded emulator's alicloud URL."""
    admin.seed(seed())
    return emulator.endpoints['alicloud']


@pytest.fixture(params=FAMILIES)
def client(request, ali):
    return clients(ali)[request.param]


@pytest.fixture
def tea(ali):
    return TeaClient(ali)


def groups_of(admin, resource_id):
    state = admin.state()['alicloud']
    for entry in state['instances'] + state['network_interfaces']:
        if entry['id'] == resource_id:
            return entry['security_groups']
    raise KeyError(resource_id)


def expect_error(client_, action, code, status, **params):
    with pytest.raises(ApiError) as err:
        client_.call(action, **params)
    assert (err.value.code, err.value.status) == (code, status), err.value
    return err.value


# -- JoinSecurityGroup / LeaveSecurityGroup ------------------------------------

def test_join_then_leave_instance(client, admin):
    body = client.call('JoinSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_B)
    assert re.match(r'^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$', body['RequestId'])
    assert groups_of(admin, I_RUN) == [SG_A, SG_B]
    assert groups_of(admin, ENI_RUN_PRIMARY) == [SG_A, SG_B]  # one source of truth
    found = client.call('DescribeInstances', RegionId=REGION, InstanceIds=json.dumps([I_RUN]))
    assert found['Instances']['Instance'][0]['SecurityGroupIds']['SecurityGroupId'] == [SG_A, SG_B]
    client.call('LeaveSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_A)
    assert groups_of(admin, I_RUN) == [SG_B]
    log = [(e['action'], e['status']) for e in admin.requests('alicloud')]
    assert log == [('JoinSecurityGroup', 200), ('DescribeInstances', 200), ('LeaveSecurityGroup', 200)]
    assert admin.requests('alicloud')[0]['request_id'] == body['RequestId']


def test_join_stopped_instance_and_idempotency_codes(client, admin):
    client.call('JoinSecurityGroup', InstanceId=I_STOP, SecurityGroupId=SG_C)
    assert groups_of(admin, I_STOP) == [SG_A, SG_B, SG_C]
    expect_error(client, 'JoinSecurityGroup', 'InvalidInstanceId.AlreadyExists', 403, InstanceId=I_STOP, SecurityGroupId=SG_C)
    expect_error(client, 'LeaveSecurityGroup', 'InvalidSecurityGroupAssociation.NotFound', 400,
                 InstanceId=I_STOP, SecurityGroupId=SG_D)
    expect_error(client, 'LeaveSecurityGroup', 'InstanceLastSecurityGroup', 403, InstanceId=I_RUN, SecurityGroupId=SG_A)
    assert groups_of(admin, I_STOP) == [SG_A, SG_B, SG_C] and groups_of(admin, I_RUN) == [SG_A]


def test_join_rules(tea, admin):
    for sg in (SG_B, SG_C, SG_D, SG_E):
        tea.call('JoinSecurityGroup', InstanceId=I_RUN, SecurityGroupId=sg)
    expect_error(tea, 'JoinSecurityGroup', 'InstanceSecurityGroupLimitExceeded', 400, InstanceId=I_RUN, SecurityGroupId=SG_F)
    assert groups_of(admin, I_RUN) == [SG_A, SG_B, SG_C, SG_D, SG_E]
    expect_error(tea, 'JoinSecurityGroup', 'InvalidInstanceId.Mismatch', 400, InstanceId=I_STOP, SecurityGroupId=SG_OTHER_VPC)
    expect_error(tea, 'JoinSecurityGroup', 'InvalidOperation.MultiGroupType', 400, InstanceId=I_STOP, SecurityGroupId=SG_ENT)
    expect_error(tea, 'JoinSecurityGroup', 'Forbidden.InstanceIsBeingCreated', 403, InstanceId=I_PEND, SecurityGroupId=SG_B)
    expect_error(tea, 'JoinSecurityGroup', 'IncorrectInstanceStatus', 403, InstanceId=I_STARTING, SecurityGroupId=SG_B)
    expect_error(tea, 'JoinSecurityGroup', 'InvalidInstanceId.NotFound', 404, InstanceId='i-bp1nosuchinstance0001', SecurityGroupId=SG_B)
    expect_error(tea, 'JoinSecurityGroup', 'InvalidInstanceId.Malformed', 400, InstanceId='web-1', SecurityGroupId=SG_B)
    expect_error(tea, 'JoinSecurityGroup', 'InvalidSecurityGroupId.NotFound', 404, InstanceId=I_STOP, SecurityGroupId='sg-bp1nosuchgroup000001')
    expect_error(tea, 'JoinSecurityGroup', 'InvalidSecurityGroupId.NotFound', 404, InstanceId=I_STOP, SecurityGroupId=SG_BEIJING)
    expect_error(tea, 'JoinSecurityGroup', 'InvalidInstanceId.NotFound', 404, RegionId='cn-beijing', InstanceId=I_STOP, SecurityGroupId=SG_C)
    expect_error(tea, 'JoinSecurityGroup', 'InvalidParam.EniIdAndInstanceId.Conflict', 403,
                 InstanceId=I_RUN, NetworkInterfaceId=ENI_SEC, RegionId=REGION, SecurityGroupId=SG_B)
    expect_error(tea, 'JoinSecurityGroup', 'MissingParameter', 400, SecurityGroupId=SG_B)
    expect_error(tea, 'JoinSecurityGroup', 'MissingParameter.RegionId', 400, NetworkInterfaceId=ENI_SEC, SecurityGroupId=SG_B)
    assert groups_of(admin, I_STOP) == [SG_A, SG_B]


def test_join_leave_network_interface(client, admin):
    client.call('JoinSecurityGroup', NetworkInterfaceId=ENI_SEC, RegionId=REGION, SecurityGroupId=SG_C)
    assert groups_of(admin, ENI_SEC) == [SG_A, SG_C] and groups_of(admin, I_RUN) == [SG_A]
    enis = client.call('DescribeNetworkInterfaces', RegionId=REGION, NetworkInterfaceId=[ENI_SEC])
    assert enis['NetworkInterfaceSets']['NetworkInterfaceSet'][0]['SecurityGroupIds']['SecurityGroupId'] == [SG_A, SG_C]
    client.call('LeaveSecurityGroup', NetworkInterfaceId=ENI_SEC, RegionId=REGION, SecurityGroupId=SG_A)
    assert groups_of(admin, ENI_SEC) == [SG_C]
    expect_error(client, 'LeaveSecurityGroup', 'InvalidOperation.AtLeastInOneGroup', 403,
                 NetworkInterfaceId=ENI_SEC, RegionId=REGION, SecurityGroupId=SG_C)
    expect_error(client, 'JoinSecurityGroup', 'InvalidOperation.VpcMismatch', 403,
                 NetworkInterfaceId=ENI_SEC, RegionId=REGION, SecurityGroupId=SG_OTHER_VPC)
    expect_error(client, 'JoinSecurityGroup', 'InvalidEniId.NotFound', 404,
                 NetworkInterfaceId='eni-bp1nosuchenienosuch1', RegionId=REGION, SecurityGroupId=SG_C)


def test_primary_eni_is_the_instance_view(tea, admin):
    tea.call('JoinSecurityGroup', NetworkInterfaceId=ENI_RUN_PRIMARY, RegionId=REGION, SecurityGroupId=SG_B)
    attr = tea.call('DescribeInstanceAttribute', InstanceId=I_RUN)
    assert attr['SecurityGroupIds']['SecurityGroupId'] == [SG_A, SG_B] == groups_of(admin, I_RUN)


# -- describes --------------------------------------------------------------------

def instance_ids(body):
    return [i['InstanceId'] for i in body['Instances']['Instance']]


def test_describe_instances(client):
    body = client.call('DescribeInstances', RegionId=REGION, InstanceIds=json.dumps([I_STOP, 'i-bp1nosuchinstance0001', I_RUN]))
    assert instance_ids(body) == [I_RUN, I_STOP]
    first = body['Instances']['Instance'][0]
    assert first['VpcAttributes']['VpcId'] == VPC and first['Status'] == 'Running' and first['ZoneId'] == 'cn-hangzhou-h'
    assert first['InstanceName'] == 'web-1' and first['InstanceNetworkType'] == 'vpc'
    assert [n['NetworkInterfaceId'] for n in first['NetworkInterfaces']['NetworkInterface']] == [ENI_RUN_PRIMARY, ENI_SEC]
    assert instance_ids(client.call('DescribeInstances', RegionId=REGION, InstanceIds='[]')) == []
    page = client.call('DescribeInstances', RegionId=REGION, PageNumber=2, PageSize=1)
    assert instance_ids(page) == [I_STOP] and (page['TotalCount'], page['PageNumber'], page['PageSize']) == (4, 2, 1)
    assert instance_ids(client.call('DescribeInstances', RegionId=REGION, Status='Stopped')) == [I_STOP]
    assert instance_ids(client.call('DescribeInstances', RegionId=REGION, SecurityGroupId=SG_B)) == [I_STOP]
    assert instance_ids(client.call('DescribeInstances', RegionId='cn-beijing')) == []
    expect_error(client, 'DescribeInstances', 'InvalidParameter', 400, RegionId=REGION, InstanceIds='i-bp1runrunrunrunrun01')
    expect_error(client, 'DescribeInstances', 'DryRunOperation', 400, RegionId=REGION, DryRun=True)


def test_describe_instances_token_paging(admin, ali):
    doc = seed()
    doc['alicloud']['instances'] += [{'id': 'i-bp1bulk%013d' % n, 'vpc_id': VPC, 'security_groups': [SG_C]} for n in range(21)]
    admin.seed(doc)
    for sdk in (TeaClient(ali), LegacyClient(ali)):
        seen, token, pages = [], None, 0
        while True:
            params = {'RegionId': REGION, 'MaxResults': 10}
            if token:
                params['NextToken'] = token
            body = sdk.call('DescribeInstances', **params)
            seen += instance_ids(body)
            pages += 1
            token = body.get('NextToken')
            if not token:
                break
        assert pages == 3 and len(seen) == 25 == len(set(seen))
        expect_error(sdk, 'DescribeInstances', 'InvalidParameter.NextToken', 400, RegionId=REGION, NextToken='bogus!')
    expect_error(TeaClient(ali), 'DescribeInstances', 'MissingParameter.RegionId', 400)


def test_page_size_cap_shortens_every_page_and_keeps_the_token(admin, ali):
    doc = seed()
    doc['alicloud']['instances'] += [{'id': 'i-bp1bulk%013d' % n, 'vpc_id': VPC, 'security_groups': [SG_C]} for n in range(21)]
    admin.seed(doc)
    admin.settings(alicloud={'page_size_cap': 10})
    sdk = TeaClient(ali)
    first = sdk.call('DescribeInstances', RegionId=REGION, MaxResults=100)
    assert len(instance_ids(first)) == 10 and first['NextToken']
    second = sdk.call('DescribeInstances', RegionId=REGION, MaxResults=100, NextToken=first['NextToken'])
    assert len(instance_ids(second)) == 10 and set(instance_ids(first)).isdisjoint(instance_ids(second))
    legacy = sdk.call('DescribeInstances', RegionId=REGION, PageSize=100)
    assert len(instance_ids(legacy)) == 10 and legacy['TotalCount'] == 25 and legacy['PageSize'] == 10


def test_describe_instance_attribute(client):
    body = client.call('DescribeInstanceAttribute', InstanceId=I_STOP)
    assert body['InstanceId'] == I_STOP and body['Status'] == 'Stopped'
    assert body['SecurityGroupIds']['SecurityGroupId'] == [SG_A, SG_B] and body['VpcAttributes']['VpcId'] == VPC
    expect_error(client, 'DescribeInstanceAttribute', 'InvalidInstanceId.NotFound', 404, InstanceId='i-bp1nosuchinstance0001')


def test_describe_network_interfaces(client):
    def ids(**params):
        body = client.call('DescribeNetworkInterfaces', RegionId=REGION, **params)
        return [e['NetworkInterfaceId'] for e in body['NetworkInterfaceSets']['NetworkInterfaceSet']]
    assert ids(InstanceId=I_RUN) == [ENI_RUN_PRIMARY, ENI_SEC]
    assert ids(NetworkInterfaceId=[ENI_FREE, ENI_SEC]) == [ENI_SEC, ENI_FREE]
    assert ids(SecurityGroupId=SG_A) == [ENI_SEC]  # documented: secondary ENIs only
    assert ids(Type='Secondary', Status='Available') == [ENI_FREE]
    body = client.call('DescribeNetworkInterfaces', RegionId=REGION, InstanceId=I_STOP)
    primary = body['NetworkInterfaceSets']['NetworkInterfaceSet'][0]
    assert primary['Type'] == 'Primary' and primary['SecurityGroupIds']['SecurityGroupId'] == [SG_A, SG_B]
    assert body['TotalCount'] == 1


def test_describe_security_groups(client):
    def ids(body):
        return [g['SecurityGroupId'] for g in body['SecurityGroups']['SecurityGroup']]
    body = client.call('DescribeSecurityGroups', RegionId=REGION, SecurityGroupIds=json.dumps([SG_ENT, 'sg-bp1nosuchgroup000001']))
    assert ids(body) == [SG_ENT] and body['SecurityGroups']['SecurityGroup'][0]['SecurityGroupType'] == 'enterprise'
    assert ids(client.call('DescribeSecurityGroups', RegionId=REGION, VpcId=OTHER_VPC)) == [SG_OTHER_VPC]
    assert ids(client.call('DescribeSecurityGroups', RegionId='cn-beijing')) == [SG_BEIJING]
    assert ids(client.call('DescribeSecurityGroups', RegionId=REGION, SecurityGroupType='enterprise')) == [SG_ENT]
    seen, token = [], None
    while True:
        params = {'RegionId': REGION, 'MaxResults': 3}
        if token:
            params['NextToken'] = token
        body = client.call('DescribeSecurityGroups', **params)
        assert 'TotalCount' not in body or body['TotalCount'] is None
        seen += ids(body)
        token = body.get('NextToken')
        if not token:
            break
    assert len(seen) == 8 and SG_BEIJING not in seen
    expect_error(client, 'DescribeSecurityGroups', 'InvalidParameter.SecurityGroupType', 400, RegionId=REGION, SecurityGroupType='basic')
    expect_error(client, 'DescribeSecurityGroups', 'InValidParameter.NextToken', 400, RegionId=REGION, NextToken='bogus!')


# -- ModifyInstanceAttribute / ModifyNetworkInterfaceAttribute ------------------

def test_modify_instance_attribute(client, admin):
    client.call('ModifyInstanceAttribute', InstanceId=I_STOP, SecurityGroupIds=[SG_D, SG_C])
    assert groups_of(admin, I_STOP) == [SG_D, SG_C]
    client.call('ModifyInstanceAttribute', InstanceId=I_STOP, InstanceName='renamed')
    assert groups_of(admin, I_STOP) == [SG_D, SG_C]
    assert client.call('DescribeInstanceAttribute', InstanceId=I_STOP)['InstanceName'] == 'renamed'
    for params, code, status in (
            ({'SecurityGroupIds': [SG_A, SG_A]}, 'InvalidParameter.SecurityGroupIdRepeated', 404),
            ({'SecurityGroupIds': [SG_A, SG_B, SG_C, SG_D, SG_E, SG_F]}, 'JoinedGroupLimitExceed', 400),
            ({'SecurityGroupIds': [SG_A, SG_OTHER_VPC]}, 'InvalidSecurityGroupVpc.NotBelongToOneVpc', 404),
            ({'SecurityGroupIds': [SG_A, SG_ENT]}, 'EnterpriseGroupLimited.MutliGroupType', 403),
            ({'SecurityGroupIds': ['sg-bp1nosuchgroup000001']}, 'InvalidSecurityGroupId.NotFound', 404)):
        expect_error(client, 'ModifyInstanceAttribute', code, status, InstanceId=I_STOP, **params)
    expect_error(client, 'ModifyInstanceAttribute', 'IncorrectInstanceStatus', 403, InstanceId=I_STARTING, SecurityGroupIds=[SG_B])
    expect_error(client, 'ModifyInstanceAttribute', 'InvalidInstanceId.NotFound', 404, InstanceId='i-bp1nosuchinstance0001',
                 SecurityGroupIds=[SG_B])
    assert groups_of(admin, I_STOP) == [SG_D, SG_C] and groups_of(admin, I_STARTING) == [SG_A]


def test_modify_network_interface_attribute(client, admin):
    client.call('ModifyNetworkInterfaceAttribute', RegionId=REGION, NetworkInterfaceId=ENI_SEC, SecurityGroupId=[SG_C, SG_B])
    assert groups_of(admin, ENI_SEC) == [SG_C, SG_B] and groups_of(admin, I_RUN) == [SG_A]
    expect_error(client, 'ModifyNetworkInterfaceAttribute', 'InvalidOperation.PrimaryEniOnlySupportModifyNameAndDesc', 404,
                 RegionId=REGION, NetworkInterfaceId=ENI_RUN_PRIMARY, SecurityGroupId=[SG_B])
    expect_error(client, 'ModifyNetworkInterfaceAttribute', 'InvalidOperation.VpcMismatch', 403,
                 RegionId=REGION, NetworkInterfaceId=ENI_SEC, SecurityGroupId=[SG_OTHER_VPC])
    expect_error(client, 'ModifyNetworkInterfaceAttribute', 'InvalidOperation.MultiGroupType', 403,
                 RegionId=REGION, NetworkInterfaceId=ENI_SEC, SecurityGroupId=[SG_A, SG_ENT])
    expect_error(client, 'ModifyNetworkInterfaceAttribute', 'InvalidParameter.SecurityGroupIdRepeated', 404,
                 RegionId=REGION, NetworkInterfaceId=ENI_SEC, SecurityGroupId=[SG_A, SG_A])
    expect_error(client, 'ModifyNetworkInterfaceAttribute', 'InvalidEniId.NotFound', 404,
                 RegionId=REGION, NetworkInterfaceId='eni-bp1nosuchenienosuch1', SecurityGroupId=[SG_A])
    assert groups_of(admin, ENI_SEC) == [SG_C, SG_B] and groups_of(admin, I_RUN) == [SG_A]


def test_modify_network_interface_needs_region(tea):
    expect_error(tea, 'ModifyNetworkInterfaceAttribute', 'MissingParameter.RegionId', 400, NetworkInterfaceId=ENI_SEC, SecurityGroupId=[SG_A])


# -- seed -------------------------------------------------------------------------

def test_snapshot_round_trips(admin, ali):
    TeaClient(ali).call('JoinSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_C)
    state = admin.state()['alicloud']
    assert admin.seed({'alicloud': state})['alicloud'] == state
    auto = [e for e in state['network_interfaces'] if e.get('instance_id') == I_STOP]
    assert len(auto) == 1 and auto[0]['type'] == 'Primary' and auto[0]['security_groups'] == [SG_A, SG_B]


@pytest.mark.parametrize('mutate, needle', [
    (lambda s: s['instances'].append({'id': 'web-1'}), 'web-1'),
    (lambda s: s['instances'].append({'id': 'i-bp1brokenbroken0001', 'security_groups': ['sg-bp1nosuchgroup000001']}),
     'sg-bp1nosuchgroup000001'),
    (lambda s: s['instances'].append({'id': 'i-bp1brokenbroken0001', 'status': 'running'}), 'i-bp1brokenbroken0001'),
    (lambda s: s['security_groups'].append({'id': 'sg-bp1brokenbroken001', 'type': 'advanced'}), 'sg-bp1brokenbroken001'),
    (lambda s: s['network_interfaces'].append({'id': 'eni-bp1brokenbroken0001', 'instance_id': I_STOP, 'type': 'Primary',
                                               'security_groups': [SG_C]}), 'eni-bp1brokenbroken0001'),
])
def test_malformed_seed_is_rejected(admin, mutate, needle):
    import urllib.error  # pylint: disable=import-outside-toplevel
    doc = seed()
    mutate(doc['alicloud'])
    with pytest.raises(urllib.error.HTTPError) as err:
        admin.seed(doc)
    assert err.value.code == 400 and needle in json.loads(err.value.read())['error']


def test_stale_reads_show_the_old_groups_for_a_while(tea, admin, emulator):
    """stale_reads_s: Describe* keep showing an ENI's old groups after a change; writes see the real ones."""
    admin.settings(alicloud={'stale_reads_s': 30})

    def shown_instance():
        found = tea.call('DescribeInstances', RegionId=REGION, InstanceIds=json.dumps([I_RUN]))
        return found['Instances']['Instance'][0]['SecurityGroupIds']['SecurityGroupId']

    def shown_eni():
        found = tea.call('DescribeNetworkInterfaces', RegionId=REGION, NetworkInterfaceId=[ENI_SEC])
        return found['NetworkInterfaceSets']['NetworkInterfaceSet'][0]['SecurityGroupIds']['SecurityGroupId']

    tea.call('JoinSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_B)
    tea.call('ModifyNetworkInterfaceAttribute', RegionId=REGION, NetworkInterfaceId=ENI_SEC, SecurityGroupId=[SG_C])
    assert groups_of(admin, I_RUN) == [SG_A, SG_B] and groups_of(admin, ENI_SEC) == [SG_C]
    assert shown_instance() == [SG_A] and shown_eni() == [SG_A]
    # A second change within the window still shows the list from before the first one.
    tea.call('JoinSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_C)
    assert shown_instance() == [SG_A]
    # The write path sees the truth: a repeated join is refused although reads do not show the group yet.
    expect_error(tea, 'JoinSecurityGroup', 'InvalidInstanceId.AlreadyExists', 403, InstanceId=I_RUN, SecurityGroupId=SG_B)
    # Once the window is over, reads show the real lists.
    admin.settings(clock_offset_s=31)
    assert shown_instance() == [SG_A, SG_B, SG_C] and shown_eni() == [SG_C]


def test_modify_instance_attribute_refuses_classic_network_groups_and_join_works_there(admin, ali):
    doc = seed()
    doc['alicloud']['security_groups'] += [{'id': 'sg-bp1classic00000001'}, {'id': 'sg-bp1classic00000002'}]
    doc['alicloud']['instances'].append({'id': 'i-bp1classic000000001', 'security_groups': ['sg-bp1classic00000001']})
    admin.seed(doc)
    sdk = TeaClient(ali)
    expect_error(sdk, 'ModifyInstanceAttribute', 'InvalidNetworkType.NotSupported', 400, InstanceId='i-bp1classic000000001',
                 SecurityGroupIds=['sg-bp1classic00000002'])
    sdk.call('ModifyInstanceAttribute', InstanceId='i-bp1classic000000001', InstanceName='renamed')    # other attributes: fine
    sdk.call('JoinSecurityGroup', RegionId=REGION, InstanceId='i-bp1classic000000001', SecurityGroupId='sg-bp1classic00000002')
    assert groups_of(admin, 'i-bp1classic000000001') == ['sg-bp1classic00000001', 'sg-bp1classic00000002']


def test_a_transient_status_ends_after_the_seeded_seconds(admin, ali, emulator):
    doc = seed()
    doc['alicloud']['instances'].append({'id': 'i-bp1stopping00000001', 'vpc_id': VPC, 'status': 'Stopping',
                                         'status_ends_after_s': 30, 'security_groups': [SG_A]})
    admin.seed(doc)
    sdk = TeaClient(ali)
    expect_error(sdk, 'JoinSecurityGroup', 'IncorrectInstanceStatus', 403, RegionId=REGION, InstanceId='i-bp1stopping00000001',
                 SecurityGroupId=SG_B)
    admin.settings(clock_offset_s=31)
    sdk = TeaClient(ali)
    sdk.call('JoinSecurityGroup', RegionId=REGION, InstanceId='i-bp1stopping00000001', SecurityGroupId=SG_B)
    assert [i['status'] for i in admin.state()['alicloud']['instances'] if i['id'] == 'i-bp1stopping00000001'] == ['Stopped']


def test_status_ends_after_s_needs_a_transient_status(admin):
    doc = seed()
    doc['alicloud']['instances'].append({'id': 'i-bp1running000000009', 'vpc_id': VPC, 'status_ends_after_s': 3})
    with pytest.raises(Exception) as err:
        admin.seed(doc)
    assert 'status_ends_after_s' in err.value.read().decode('utf-8')
