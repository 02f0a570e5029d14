# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Tencent Cloud emulator, driven by the official Python SDK (tencentcloud-sdk-python-*).

Signing, transport and faults are in test_tencentcloud_auth.py.
"""

import json
import time
import uuid

import pytest

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client, models as cvm_models
from tencentcloud.vpc.v20170312 import vpc_client, models as vpc_models

SECRET_ID = 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE'
SECRET_KEY = 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE'
GZ = 'ap-guangzhou'
SGP = 'ap-singapore'


def seed_doc():
    sgs = [{'id': i, 'region': GZ, 'name': i[3:]} for i in (
        'sg-9id3l839', 'sg-5275dorp', 'sg-web00001', 'sg-db000001', 'sg-app00001', 'sg-ops00001')]
    sgs.append({'id': 'sg-sgp00001', 'region': SGP, 'name': 'singapore'})
    return {'tencentcloud': {
        'credentials': [{'access_key': SECRET_ID, 'secret_key': SECRET_KEY}],
        'security_groups': sgs,
        'instances': [
            {'id': 'ins-2zvpghhc', 'region': GZ, 'status': 'RUNNING', 'name': 'web', 'zone': 'ap-guangzhou-3',
             'vpc_id': 'vpc-abcdefgh', 'security_groups': ['sg-5275dorp']},
            {'id': 'ins-915zrb0p', 'region': GZ, 'status': 'STOPPED', 'security_groups': []},
            {'id': 'ins-pending1', 'region': GZ, 'status': 'PENDING', 'security_groups': []},
            {'id': 'ins-full0001', 'region': GZ, 'security_groups': [
                'sg-9id3l839', 'sg-5275dorp', 'sg-web00001', 'sg-db000001', 'sg-app00001']},
            {'id': 'ins-sgp00001', 'region': SGP, 'security_groups': ['sg-sgp00001']},
        ]}}


@pytest.fixture
def tc(emulator, admin):
    admin.seed(seed_doc())
    return emulator


def profile(emulator, method='POST', language='en-US'):
    endpoint = emulator.endpoints['tencentcloud'].split('//', 1)[1]
    return ClientProfile(httpProfile=HttpProfile(protocol='http', endpoint=endpoint, reqMethod=method), language=language)


def cvm(emulator, region=GZ, secret_id=SECRET_ID, secret_key=SECRET_KEY, token=None, method='POST'):
    return cvm_client.CvmClient(credential.Credential(secret_id, secret_key, token), region, profile(emulator, method))


def vpc(emulator, region=GZ, method='POST'):
    return vpc_client.VpcClient(credential.Credential(SECRET_ID, SECRET_KEY), region, profile(emulator, method))


def call(client, action, **params):
    """Call an action through the SDK's typed model and method; answer the response as a dict."""
    models = vpc_models if isinstance(client, vpc_client.VpcClient) else cvm_models
    req = getattr(models, action + 'Request')()
    req.from_json_string(json.dumps(params))
    return json.loads(getattr(client, action)(req).to_json_string())


def error_of(client, action, **params):
    with pytest.raises(TencentCloudSDKException) as err:
        call(client, action, **params)
    uuid.UUID(err.value.get_request_id())
    return err.value.get_code()


def describe(client, ids):
    out = call(client, 'DescribeInstances', InstanceIds=ids, Limit=100)
    return dict((i['InstanceId'], i) for i in out['InstanceSet'])


def state_lists(admin):
    return dict((i['id'], i['security_groups']) for i in admin.state()['tencentcloud']['instances'])


# -- the actions -------------------------------------------------------------------

def test_associate_is_asynchronous_and_appends(tc, admin):
    client = cvm(tc)
    resp = call(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-web00001'], InstanceIds=['ins-2zvpghhc', 'ins-915zrb0p'])
    request_id = resp['RequestId']
    uuid.UUID(request_id)
    assert state_lists(admin)['ins-2zvpghhc'] == ['sg-5275dorp', 'sg-web00001']
    assert state_lists(admin)['ins-915zrb0p'] == ['sg-web00001']
    first = describe(client, ['ins-2zvpghhc', 'ins-915zrb0p'])
    for ins in first.values():
        assert (ins['LatestOperation'], ins['LatestOperationState'], ins['LatestOperationRequestId']) == (
            'AssociateSecurityGroups', 'OPERATING', request_id)
    assert first['ins-2zvpghhc']['SecurityGroupIds'] == ['sg-5275dorp']   # old list until SUCCESS
    second = describe(client, ['ins-2zvpghhc', 'ins-915zrb0p'])
    assert second['ins-2zvpghhc']['LatestOperationState'] == 'SUCCESS'
    assert second['ins-2zvpghhc']['SecurityGroupIds'] == ['sg-5275dorp', 'sg-web00001']
    assert second['ins-915zrb0p']['SecurityGroupIds'] == ['sg-web00001']
    logged = [e for e in admin.requests('tencentcloud') if e['action'] == 'AssociateSecurityGroups']
    assert logged[0]['request_id'] == request_id and logged[0]['status'] == 200


def test_disassociate(tc, admin):
    client = cvm(tc)
    resp = call(client, 'DisassociateSecurityGroups', SecurityGroupIds=['sg-web00001'], InstanceIds=['ins-full0001'])
    assert state_lists(admin)['ins-full0001'] == ['sg-9id3l839', 'sg-5275dorp', 'sg-db000001', 'sg-app00001']
    ins = describe(client, ['ins-full0001'])['ins-full0001']
    assert (ins['LatestOperation'], ins['LatestOperationRequestId']) == ('DisassociateSecurityGroups', resp['RequestId'])
    assert describe(client, ['ins-full0001'])['ins-full0001']['SecurityGroupIds'] == state_lists(admin)['ins-full0001']


def test_modify_instances_attribute_replaces_list_and_order(tc, admin):
    client = cvm(tc)
    resp = call(client, 'ModifyInstancesAttribute', InstanceIds=['ins-full0001', 'ins-2zvpghhc'],
                SecurityGroups=['sg-app00001', 'sg-9id3l839'])
    assert state_lists(admin)['ins-full0001'] == ['sg-app00001', 'sg-9id3l839']
    assert state_lists(admin)['ins-2zvpghhc'] == ['sg-app00001', 'sg-9id3l839']
    ins = describe(client, ['ins-full0001'])['ins-full0001']
    assert (ins['LatestOperation'], ins['LatestOperationState'], ins['LatestOperationRequestId']) == (
        'ModifyInstancesAttribute', 'OPERATING', resp['RequestId'])
    assert describe(client, ['ins-full0001'])['ins-full0001']['SecurityGroupIds'] == ['sg-app00001', 'sg-9id3l839']


def test_modify_instance_name_and_one_attribute_rule(tc, admin):
    client = cvm(tc)
    call(client, 'ModifyInstancesAttribute', InstanceIds=['ins-915zrb0p'], InstanceName='renamed')
    assert describe(client, ['ins-915zrb0p'])['ins-915zrb0p']['InstanceName'] == 'renamed'
    assert error_of(client, 'ModifyInstancesAttribute', InstanceIds=['ins-2zvpghhc'], InstanceName='x',
                    SecurityGroups=['sg-9id3l839']) == 'InvalidParameter'
    assert error_of(client, 'ModifyInstancesAttribute', InstanceIds=['ins-2zvpghhc']) == 'InvalidParameter'


@pytest.mark.parametrize('action,params,code', [
    ('AssociateSecurityGroups', {'SecurityGroupIds': ['sg-9id3l839'], 'InstanceIds': ['ins-1122']}, 'InvalidInstanceId.Malformed'),
    ('AssociateSecurityGroups', {'SecurityGroupIds': ['sg-ide32'], 'InstanceIds': ['ins-2zvpghhc']}, 'InvalidSgId.Malformed'),
    ('AssociateSecurityGroups', {'SecurityGroupIds': ['sg-9id3l839'], 'InstanceIds': ['ins-notthere']}, 'InvalidInstanceId.NotFound'),
    ('AssociateSecurityGroups', {'SecurityGroupIds': ['sg-notthere'], 'InstanceIds': ['ins-2zvpghhc']}, 'InvalidSecurityGroupId.NotFound'),
    ('AssociateSecurityGroups', {'SecurityGroupIds': ['sg-sgp00001'], 'InstanceIds': ['ins-2zvpghhc']}, 'InvalidSecurityGroupId.NotFound'),
    ('AssociateSecurityGroups', {'SecurityGroupIds': ['sg-9id3l839'], 'InstanceIds': ['ins-sgp00001']}, 'InvalidInstanceId.NotFound'),
    ('AssociateSecurityGroups', {'SecurityGroupIds': ['sg-9id3l839', 'sg-web00001'], 'InstanceIds': ['ins-2zvpghhc']},
     'InvalidParameterValue.LimitExceeded'),
    ('AssociateSecurityGroups', {'SecurityGroupIds': ['sg-9id3l839'], 'InstanceIds': ['ins-%08d' % i for i in range(101)]},
     'InvalidParameterValue.LimitExceeded'),
    ('AssociateSecurityGroups', {'SecurityGroupIds': ['sg-ops00001'], 'InstanceIds': ['ins-full0001']}, 'LimitExceeded.AssociateUSGLimitExceeded'),
    ('AssociateSecurityGroups', {'SecurityGroupIds': ['sg-9id3l839'], 'InstanceIds': ['ins-pending1']},
     'UnsupportedOperation.InstanceStatePending'),
    ('AssociateSecurityGroups', {'InstanceIds': ['ins-2zvpghhc']}, 'MissingParameter'),
    ('DisassociateSecurityGroups', {'SecurityGroupIds': ['sg-5275dorp', 'sg-web00001'], 'InstanceIds': ['ins-2zvpghhc']},
     'InvalidParameterValue.LimitExceeded'),
    ('DisassociateSecurityGroups', {'SecurityGroupIds': ['sg-5275dorp'], 'InstanceIds': ['ins-notthere']}, 'InvalidInstanceId.NotFound'),
    ('DisassociateSecurityGroups', {'SecurityGroupIds': ['sg-5275dorp'], 'InstanceIds': ['ins-2zv']}, 'InvalidInstanceId.Malformed'),
    ('ModifyInstancesAttribute', {'InstanceIds': ['ins-2zvpghhc'], 'SecurityGroups': ['sg-9id3l839', 'sg-9id3l839']},
     'InvalidParameterValue.Duplicate'),
    ('ModifyInstancesAttribute', {'InstanceIds': ['ins-2zvpghhc'], 'SecurityGroups': [
        'sg-9id3l839', 'sg-5275dorp', 'sg-web00001', 'sg-db000001', 'sg-app00001', 'sg-ops00001']}, 'LimitExceeded.AssociateUSGLimitExceeded'),
    ('ModifyInstancesAttribute', {'InstanceIds': ['ins-2zvpghhc'], 'SecurityGroups': ['sg-notthere']}, 'InvalidSecurityGroupId.NotFound'),
    ('ModifyInstancesAttribute', {'InstanceIds': ['ins-pending1'], 'SecurityGroups': ['sg-9id3l839']},
     'UnsupportedOperation.InstanceStatePending'),
    ('DescribeInstances', {'InstanceIds': ['ins-2zvpghhc'], 'Limit': 101}, 'InvalidParameterValue.LimitExceeded'),
    ('DescribeInstances', {'InstanceIds': ['ins-2zvpghhc'], 'Filters': [{'Name': 'zone', 'Values': ['x']}]}, 'InvalidParameter'),
    ('DescribeInstances', {'Filters': [{'Name': 'no-such-filter', 'Values': ['x']}]}, 'InvalidFilter'),
    ('DescribeInstances', {'InstanceIds': ['i-2zvpghhc']}, 'InvalidInstanceId.Malformed'),
])
def test_documented_errors_change_nothing(tc, admin, action, params, code):
    before = admin.state()
    assert error_of(cvm(tc), action, **params) == code
    assert admin.state() == before


def test_write_to_an_operating_instance_is_all_or_nothing(tc, admin):
    client = cvm(tc)
    call(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-web00001'], InstanceIds=['ins-2zvpghhc'])
    before = state_lists(admin)
    assert error_of(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-db000001'],
                    InstanceIds=['ins-915zrb0p', 'ins-2zvpghhc']) == 'MutexOperation.TaskRunning'
    assert state_lists(admin) == before
    describe(client, ['ins-2zvpghhc'])   # one read shows OPERATING, so the operation can finish
    call(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-db000001'], InstanceIds=['ins-915zrb0p', 'ins-2zvpghhc'])
    assert state_lists(admin)['ins-2zvpghhc'] == ['sg-5275dorp', 'sg-web00001', 'sg-db000001']


def test_describe_instances_paging_and_unknown_ids(emulator, admin):
    doc = seed_doc()
    doc['tencentcloud']['instances'] = [{'id': 'ins-page%04d' % i, 'region': GZ, 'security_groups': []} for i in range(25)]
    doc['tencentcloud']['instances'].append({'id': 'ins-sgp00001', 'region': SGP, 'security_groups': []})
    admin.seed(doc)
    client = cvm(emulator)
    ids = ['ins-page%04d' % i for i in range(25)] + ['ins-unknown1', 'ins-sgp00001']
    first = call(client, 'DescribeInstances', InstanceIds=ids)
    assert first['TotalCount'] == 25 and len(first['InstanceSet']) == 20   # Limit defaults to 20 even with InstanceIds
    rest = call(client, 'DescribeInstances', InstanceIds=ids, Offset=20, Limit=100)
    assert [i['InstanceId'] for i in first['InstanceSet'] + rest['InstanceSet']] == ids[:25]
    empty = call(client, 'DescribeInstances', InstanceIds=['ins-unknown1'])
    assert (empty['TotalCount'], empty['InstanceSet']) == (0, [])
    assert call(client, 'DescribeInstances', Limit=100)['TotalCount'] == 25
    assert call(cvm(emulator, region=SGP), 'DescribeInstances')['TotalCount'] == 1


def test_describe_instances_fields_and_filters(tc):
    client = cvm(tc)
    ins = describe(client, ['ins-2zvpghhc'])['ins-2zvpghhc']
    assert ins['InstanceName'] == 'web' and ins['InstanceState'] == 'RUNNING'
    assert ins['Placement']['Zone'] == 'ap-guangzhou-3' and ins['VirtualPrivateCloud']['VpcId'] == 'vpc-abcdefgh'
    assert ins['SecurityGroupIds'] == ['sg-5275dorp']

    def ids(*filters):
        out = call(client, 'DescribeInstances', Filters=[{'Name': n, 'Values': v} for n, v in filters], Limit=100)
        return sorted(i['InstanceId'] for i in out['InstanceSet'])
    assert ids(('security-group-id', ['sg-5275dorp'])) == ['ins-2zvpghhc', 'ins-full0001']
    assert ids(('security-group-id', ['sg-5275dorp']), ('instance-name', ['web'])) == ['ins-2zvpghhc']
    assert ids(('instance-state', ['STOPPED', 'PENDING'])) == ['ins-915zrb0p', 'ins-pending1']
    assert ids(('instance-id', ['ins-sgp00001'])) == []   # other region


def test_describe_security_groups(tc, admin):
    client = vpc(tc)
    out = call(client, 'DescribeSecurityGroups', SecurityGroupIds=['sg-9id3l839'])
    assert out['TotalCount'] == 1
    sg = out['SecurityGroupSet'][0]
    assert (sg['SecurityGroupId'], sg['SecurityGroupName'], sg['ProjectId']) == ('sg-9id3l839', '9id3l839', '0')
    page = call(client, 'DescribeSecurityGroups', Offset='2', Limit='3')
    assert page['TotalCount'] == 6 and [g['SecurityGroupId'] for g in page['SecurityGroupSet']] == [
        'sg-web00001', 'sg-db000001', 'sg-app00001']
    assert call(client, 'DescribeSecurityGroups', Filters=[{'Name': 'security-group-name', 'Values': ['web00001']}])['TotalCount'] == 1
    assert error_of(client, 'DescribeSecurityGroups', SecurityGroupIds=['sg-notthere']) == 'ResourceNotFound'
    assert error_of(client, 'DescribeSecurityGroups', SecurityGroupIds=['sg-sgp00001']) == 'ResourceNotFound'
    assert error_of(client, 'DescribeSecurityGroups', SecurityGroupIds=['sg-bad']) == 'InvalidParameterValue.Malformed'
    assert error_of(client, 'DescribeSecurityGroups', Limit='101') == 'InvalidParameterValue.LimitExceeded'
    assert error_of(client, 'DescribeSecurityGroups', SecurityGroupIds=['sg-9id3l839'],
                    Filters=[{'Name': 'security-group-id', 'Values': ['sg-9id3l839']}]) == 'InvalidParameter.Coexist'
    assert error_of(client, 'DescribeSecurityGroups', Filters=[{'Name': 'nope', 'Values': ['x']}]) == 'InvalidParameter.FilterInvalidKey'
    with pytest.raises(TencentCloudSDKException) as err:
        client.call_json('DescribeSecurityGroups', {'Limit': 5})   # the VPC API types Limit as a string
    assert err.value.get_code() == 'InvalidParameter'
    admin.settings(tencentcloud={'describe_sg_unknown_id': 'omit'})
    out = call(client, 'DescribeSecurityGroups', SecurityGroupIds=['sg-notthere', 'sg-9id3l839'])
    assert [g['SecurityGroupId'] for g in out['SecurityGroupSet']] == ['sg-9id3l839']


# -- settings ----------------------------------------------------------------------

def test_duplicate_bind_and_unbind_not_bound_policies(tc, admin):
    client = cvm(tc)
    call(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-5275dorp'], InstanceIds=['ins-2zvpghhc'])   # noop by default
    assert state_lists(admin)['ins-2zvpghhc'] == ['sg-5275dorp']
    call(client, 'DisassociateSecurityGroups', SecurityGroupIds=['sg-web00001'], InstanceIds=['ins-915zrb0p'])
    assert state_lists(admin)['ins-915zrb0p'] == []
    admin.settings(tencentcloud={'duplicate_bind': 'error', 'unbind_not_bound': 'error', 'reject_writes_while_operating': False})
    assert error_of(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-5275dorp'],
                    InstanceIds=['ins-2zvpghhc']) == 'FailedOperation.SecurityGroupActionFailed'
    assert error_of(client, 'DisassociateSecurityGroups', SecurityGroupIds=['sg-web00001'],
                    InstanceIds=['ins-915zrb0p', 'ins-full0001']) == 'FailedOperation.SecurityGroupActionFailed'
    assert 'sg-web00001' in state_lists(admin)['ins-full0001']   # all or nothing


def test_max_security_groups_per_instance(tc, admin):
    client = cvm(tc)
    admin.settings(tencentcloud={'max_security_groups_per_instance': 1})
    assert error_of(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-web00001'],
                    InstanceIds=['ins-2zvpghhc']) == 'LimitExceeded.AssociateUSGLimitExceeded'
    admin.settings(tencentcloud={'max_security_groups_per_instance': 6})
    call(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-ops00001'], InstanceIds=['ins-full0001'])
    assert len(state_lists(admin)['ins-full0001']) == 6


def test_async_delay_reads_and_show_new_list(tc, admin):
    client = cvm(tc)
    admin.settings(tencentcloud={'async_delay_reads': 3, 'show_new_list_while_operating': True})
    call(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-web00001'], InstanceIds=['ins-2zvpghhc'])
    seen = [describe(client, ['ins-2zvpghhc'])['ins-2zvpghhc'] for read in range(4)]
    assert [i['LatestOperationState'] for i in seen] == ['OPERATING'] * 3 + ['SUCCESS']
    assert all(i['SecurityGroupIds'] == ['sg-5275dorp', 'sg-web00001'] for i in seen)


def test_async_delay_reads_zero_settles_at_once(tc, admin):
    client = cvm(tc)
    admin.settings(tencentcloud={'async_delay_reads': 0})
    call(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-web00001'], InstanceIds=['ins-2zvpghhc'])
    assert describe(client, ['ins-2zvpghhc'])['ins-2zvpghhc']['LatestOperationState'] == 'SUCCESS'
    call(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-db000001'], InstanceIds=['ins-2zvpghhc'])   # not busy


def test_async_delay_ms(tc, admin):
    client = cvm(tc)
    admin.settings(tencentcloud={'async_delay_ms': 1000})
    start = time.time()
    call(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-web00001'], InstanceIds=['ins-2zvpghhc'])
    states = [describe(client, ['ins-2zvpghhc'])['ins-2zvpghhc']['LatestOperationState'] for read in range(3)]
    if time.time() - start < 0.9:   # reads done well within the delay
        assert states == ['OPERATING'] * 3
    time.sleep(max(0, 1.05 - (time.time() - start)))
    assert describe(client, ['ins-2zvpghhc'])['ins-2zvpghhc']['LatestOperationState'] == 'SUCCESS'


def test_writes_while_operating_allowed_when_setting_off(tc, admin):
    client = cvm(tc)
    admin.settings(tencentcloud={'reject_writes_while_operating': False})
    call(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-web00001'], InstanceIds=['ins-2zvpghhc'])
    second = call(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-db000001'], InstanceIds=['ins-2zvpghhc'])
    assert state_lists(admin)['ins-2zvpghhc'] == ['sg-5275dorp', 'sg-web00001', 'sg-db000001']
    assert describe(client, ['ins-2zvpghhc'])['ins-2zvpghhc']['LatestOperationRequestId'] == second['RequestId']


def test_fail_next_operation(tc, admin):
    client = cvm(tc)
    admin.settings(tencentcloud={'fail_next_operation': 'security group service unavailable'})
    resp = call(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-web00001'], InstanceIds=['ins-2zvpghhc'])
    assert describe(client, ['ins-2zvpghhc'])['ins-2zvpghhc']['LatestOperationState'] == 'OPERATING'
    ins = describe(client, ['ins-2zvpghhc'])['ins-2zvpghhc']
    assert (ins['LatestOperationState'], ins['LatestOperationErrorMsg'], ins['LatestOperationRequestId']) == (
        'FAILED', 'security group service unavailable', resp['RequestId'])
    assert ins['SecurityGroupIds'] == ['sg-5275dorp'] and state_lists(admin)['ins-2zvpghhc'] == ['sg-5275dorp']
    assert admin.call('GET', '/settings')['tencentcloud']['fail_next_operation'] is False   # one operation only
    call(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-web00001'], InstanceIds=['ins-2zvpghhc'])
    describe(client, ['ins-2zvpghhc'])
    assert describe(client, ['ins-2zvpghhc'])['ins-2zvpghhc']['LatestOperationState'] == 'SUCCESS'


def test_seeded_operating_instance_is_busy(emulator, admin):
    doc = seed_doc()
    doc['tencentcloud']['instances'][0].update(latest_operation='StopInstances', latest_operation_state='OPERATING')
    admin.seed(doc)
    client = cvm(emulator)
    assert error_of(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-web00001'],
                    InstanceIds=['ins-2zvpghhc']) == 'MutexOperation.TaskRunning'
    assert describe(client, ['ins-2zvpghhc'])['ins-2zvpghhc']['LatestOperation'] == 'StopInstances'
    assert describe(client, ['ins-2zvpghhc'])['ins-2zvpghhc']['LatestOperationState'] == 'SUCCESS'


def test_seed_validation_and_round_trip(emulator, admin):
    import urllib.error
    admin.seed(seed_doc())
    state = admin.state()
    admin.seed({'tencentcloud': state['tencentcloud']})
    assert admin.state() == state
    bad_docs = [
        {'instances': [{'id': 'ins-bad', 'region': GZ}]},
        {'instances': [{'id': 'ins-2zvpghhc', 'region': GZ, 'security_groups': ['sg-9id3l839']}]},
        {'security_groups': [{'id': 'sg-9id3l839'}]},
        {'instances': [{'id': 'ins-2zvpghhc', 'region': GZ, 'status': 'FLYING'}]},
        {'credentials': [{'access_key': 'AKID'}]},
    ]
    for bad in bad_docs:
        with pytest.raises(urllib.error.HTTPError) as err:
            admin.seed({'tencentcloud': bad})
        assert err.value.code == 400
        assert 'tencentcloud' in json.loads(err.value.read())['error']
    assert admin.state() == state


def test_seeded_busy_for_s_and_busy_after_reads(emulator, admin):
    doc = seed_doc()
    doc['tencentcloud']['instances'][0].update(busy_for_s=0.6)
    doc['tencentcloud']['instances'][1].update(busy_for_s=30, busy_after_reads=1, latest_operation='StartInstances')
    admin.seed(doc)
    client = cvm(emulator)
    shown = describe(client, ['ins-2zvpghhc', 'ins-915zrb0p'])
    assert shown['ins-2zvpghhc']['LatestOperationState'] == 'OPERATING'
    assert shown['ins-2zvpghhc']['LatestOperation'] == 'ResetInstancesType'            # the default name
    assert shown['ins-915zrb0p']['LatestOperationState'] is None                        # not yet: after one read
    for iid in ('ins-2zvpghhc', 'ins-915zrb0p'):
        assert error_of(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-web00001'], InstanceIds=[iid]) == 'MutexOperation.TaskRunning'
    # Reads do not end it: only the time does.
    assert describe(client, ['ins-2zvpghhc'])['ins-2zvpghhc']['LatestOperationState'] == 'OPERATING'
    time.sleep(0.7)
    assert describe(client, ['ins-2zvpghhc'])['ins-2zvpghhc']['LatestOperationState'] == 'SUCCESS'
    call(client, 'AssociateSecurityGroups', SecurityGroupIds=['sg-web00001'], InstanceIds=['ins-2zvpghhc'])
    busy = describe(client, ['ins-915zrb0p'])['ins-915zrb0p']
    assert (busy['LatestOperation'], busy['LatestOperationState']) == ('StartInstances', 'OPERATING')


def test_seeded_transition_s_ends_a_transient_state(emulator, admin):
    doc = seed_doc()
    doc['tencentcloud']['instances'][0].update(status='STOPPING', transition_s=0.5)
    doc['tencentcloud']['instances'][2].update(transition_s=0.5)                        # PENDING
    admin.seed(doc)
    client = cvm(emulator)
    assert error_of(client, 'ModifyInstancesAttribute', InstanceIds=['ins-2zvpghhc'],
                    SecurityGroups=['sg-web00001']) == 'UnsupportedOperation.InstanceStateStopping'
    filtered = call(client, 'DescribeInstances', Filters=[{'Name': 'instance-state', 'Values': ['STOPPING']}])
    assert [i['InstanceId'] for i in filtered['InstanceSet']] == ['ins-2zvpghhc']
    time.sleep(0.6)
    shown = describe(client, ['ins-2zvpghhc', 'ins-pending1'])
    assert (shown['ins-2zvpghhc']['InstanceState'], shown['ins-pending1']['InstanceState']) == ('STOPPED', 'RUNNING')
    call(client, 'ModifyInstancesAttribute', InstanceIds=['ins-2zvpghhc'], SecurityGroups=['sg-web00001'])
    assert call(client, 'DescribeInstances', Filters=[{'Name': 'instance-state', 'Values': ['STOPPING']}])['InstanceSet'] == []


@pytest.mark.parametrize('extra, words', [
    ({'busy_for_s': -1}, 'busy_for_s must be a number of at least 0'),
    ({'busy_for_s': 'soon'}, 'busy_for_s must be a number'),
    ({'busy_after_reads': 1}, 'busy_after_reads needs busy_for_s'),
    ({'transition_s': 1}, 'transition_s needs a status that ends on its own'),          # RUNNING
    ({'busy_for_s': 1, 'latest_operation_state': 'SUCCESS'}, 'contradicts'),
])
def test_busy_and_transition_seed_fields_are_checked(emulator, admin, extra, words):
    import urllib.error
    with pytest.raises(urllib.error.HTTPError) as err:
        admin.seed({'tencentcloud': {'instances': [dict({'id': 'ins-2zvpghhc', 'region': GZ}, **extra)]}})
    assert err.value.code == 400 and words in json.loads(err.value.read())['error']


# -- secondary ENIs (VPC API) ------------------------------------------------------

def eni_doc():
    doc = seed_doc()
    doc['tencentcloud']['network_interfaces'] = [
        {'id': 'eni-pxir56ns', 'region': GZ, 'instance_id': 'ins-2zvpghhc', 'security_groups': ['sg-9id3l839']},
        {'id': 'eni-5k56k7k7', 'region': GZ, 'security_groups': []},
        {'id': 'eni-primary1', 'region': GZ, 'instance_id': 'ins-2zvpghhc', 'primary': True},
        {'id': 'eni-deleting', 'region': GZ, 'state': 'DELETING', 'security_groups': []},
    ]
    return doc


def eni_groups(admin, eni_id):
    return next(e['security_groups'] for e in admin.state()['tencentcloud']['network_interfaces'] if e['id'] == eni_id)


def test_sdk_binds_and_unbinds_network_interfaces_in_batches(tc, admin):
    admin.seed(eni_doc())
    client = vpc(tc)
    call(client, 'AssociateNetworkInterfaceSecurityGroups', NetworkInterfaceIds=['eni-pxir56ns', 'eni-5k56k7k7'],
         SecurityGroupIds=['sg-web00001', 'sg-db000001'])
    assert eni_groups(admin, 'eni-pxir56ns') == ['sg-9id3l839', 'sg-web00001', 'sg-db000001']
    assert eni_groups(admin, 'eni-5k56k7k7') == ['sg-web00001', 'sg-db000001']
    call(client, 'DisassociateNetworkInterfaceSecurityGroups', NetworkInterfaceIds=['eni-pxir56ns', 'eni-5k56k7k7'],
         SecurityGroupIds=['sg-web00001'])
    assert eni_groups(admin, 'eni-5k56k7k7') == ['sg-db000001']
    call(client, 'ModifyNetworkInterfaceAttribute', NetworkInterfaceId='eni-pxir56ns', SecurityGroupIds=['sg-db000001', 'sg-9id3l839'])
    assert eni_groups(admin, 'eni-pxir56ns') == ['sg-db000001', 'sg-9id3l839']


def test_sdk_describes_network_interfaces_by_id_and_by_group_filter(tc, admin):
    admin.seed(eni_doc())
    client = vpc(tc)
    answer = call(client, 'DescribeNetworkInterfaces', NetworkInterfaceIds=['eni-pxir56ns', 'eni-primary1', 'eni-unknown1'], Limit=100)
    items = dict((item['NetworkInterfaceId'], item) for item in answer['NetworkInterfaceSet'])
    assert sorted(items) == ['eni-primary1', 'eni-pxir56ns'] and answer['TotalCount'] == 2
    assert items['eni-pxir56ns']['GroupSet'] == ['sg-9id3l839'] and not items['eni-pxir56ns']['Primary']
    assert items['eni-pxir56ns']['Attachment']['InstanceId'] == 'ins-2zvpghhc'
    assert items['eni-primary1']['Primary'] and items['eni-primary1']['GroupSet'] == ['sg-5275dorp']   # the instance's
    filtered = call(client, 'DescribeNetworkInterfaces', Filters=[{'Name': 'groups.security-group-id', 'Values': ['sg-5275dorp', 'sg-9id3l839']},
                                                                  {'Name': 'is-primary', 'Values': ['false']}])
    assert [item['NetworkInterfaceId'] for item in filtered['NetworkInterfaceSet']] == ['eni-pxir56ns']
    admin.settings(tencentcloud={'describe_eni_unknown_id': 'error'})
    assert error_of(client, 'DescribeNetworkInterfaces', NetworkInterfaceIds=['eni-unknown1']) == 'ResourceNotFound'


@pytest.mark.parametrize('action, params, code', [
    ('AssociateNetworkInterfaceSecurityGroups', {'NetworkInterfaceIds': ['eni-primary1'], 'SecurityGroupIds': ['sg-web00001']}, 'UnsupportedOperation'),
    ('AssociateNetworkInterfaceSecurityGroups', {'NetworkInterfaceIds': ['eni-deleting'], 'SecurityGroupIds': ['sg-web00001']},
     'UnsupportedOperation.InvalidState'),
    ('AssociateNetworkInterfaceSecurityGroups', {'NetworkInterfaceIds': ['eni-unknown1'], 'SecurityGroupIds': ['sg-web00001']}, 'ResourceNotFound'),
    ('AssociateNetworkInterfaceSecurityGroups', {'NetworkInterfaceIds': ['eni-pxir56ns'], 'SecurityGroupIds': ['sg-unknown1']}, 'ResourceNotFound'),
    ('AssociateNetworkInterfaceSecurityGroups', {'NetworkInterfaceIds': ['eni-%08d' % n for n in range(101)], 'SecurityGroupIds': ['sg-web00001']},
     'InvalidParameterValue.LimitExceeded'),
    ('AssociateNetworkInterfaceSecurityGroups', {'NetworkInterfaceIds': ['eni-pxir56ns'],
                                                 'SecurityGroupIds': ['sg-5275dorp', 'sg-web00001', 'sg-db000001', 'sg-app00001', 'sg-ops00001']},
     'LimitExceeded'),
    ('ModifyNetworkInterfaceAttribute', {'NetworkInterfaceId': 'eni-pxir56ns',
                                         'SecurityGroupIds': ['sg-9id3l839', 'sg-5275dorp', 'sg-web00001', 'sg-db000001', 'sg-app00001',
                                                              'sg-ops00001']}, 'LimitExceeded'),
    ('DisassociateNetworkInterfaceSecurityGroups', {'NetworkInterfaceIds': ['eni-bad'], 'SecurityGroupIds': ['sg-web00001']},
     'InvalidParameterValue.Malformed'),
    ('DescribeNetworkInterfaces', {'NetworkInterfaceIds': ['eni-pxir56ns'], 'Filters': [{'Name': 'vpc-id', 'Values': ['vpc-abcdefgh']}]},
     'InvalidParameter.Coexist'),
    ('DescribeNetworkInterfaces', {'Limit': 101}, 'InvalidParameterValue.LimitExceeded'),
])
def test_sdk_network_interface_errors(tc, admin, action, params, code):
    admin.seed(eni_doc())
    before = admin.state()['tencentcloud']['network_interfaces']
    assert error_of(vpc(tc), action, **params) == code
    assert admin.state()['tencentcloud']['network_interfaces'] == before       # all or nothing


def test_eni_writes_can_show_later(tc, admin):
    admin.seed(eni_doc())
    admin.settings(tencentcloud={'write_apply_delay_s': 0.5})
    call(vpc(tc), 'AssociateNetworkInterfaceSecurityGroups', NetworkInterfaceIds=['eni-5k56k7k7'], SecurityGroupIds=['sg-web00001'])
    shown = call(vpc(tc), 'DescribeNetworkInterfaces', NetworkInterfaceIds=['eni-5k56k7k7'])
    assert shown['NetworkInterfaceSet'][0]['GroupSet'] == []
    time.sleep(0.6)
    shown = call(vpc(tc), 'DescribeNetworkInterfaces', NetworkInterfaceIds=['eni-5k56k7k7'])
    assert shown['NetworkInterfaceSet'][0]['GroupSet'] == ['sg-web00001']
