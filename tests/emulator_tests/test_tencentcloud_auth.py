# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Tencent Cloud emulator: TC3 signature vectors, authentication, transport, faults and rate limits."""

import concurrent.futures
import json
import time
import uuid

import pytest
import requests

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.sign import Sign
from tencentcloud.cvm.v20170312 import cvm_client, models as cvm_models

from emulator import tencentcloud as tc3

SECRET_ID = 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE'
SECRET_KEY = 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE'
STS_ID = 'AKIDstsTemporaryKey0000000000000001'
STS_KEY = 'temporary-secret-key'
STS_TOKEN = 'EXAMPLETOKEN-abc123'
GZ = 'ap-guangzhou'


def seed_doc(token=None):
    creds = [{'access_key': SECRET_ID, 'secret_key': SECRET_KEY}]
    if token:
        creds = [{'access_key': SECRET_ID, 'secret_key': SECRET_KEY, 'security_token': token}]
    return {'tencentcloud': {
        'credentials': creds + [{'access_key': STS_ID, 'secret_key': STS_KEY, 'security_token': STS_TOKEN}],
        'security_groups': [{'id': 'sg-9id3l839', 'region': GZ}, {'id': 'sg-5275dorp', 'region': GZ}],
        'instances': [{'id': 'ins-2zvpghhc', 'region': GZ, 'security_groups': []},
                      {'id': 'ins-915zrb0p', 'region': GZ, 'security_groups': []}]}}


@pytest.fixture
def tc(emulator, admin):
    admin.seed(seed_doc())
    return emulator


def endpoint(emulator):
    return emulator.endpoints['tencentcloud'].split('//', 1)[1]


def cvm(emulator, secret_id=SECRET_ID, secret_key=SECRET_KEY, token=None, method='POST'):
    http = HttpProfile(protocol='http', endpoint=endpoint(emulator), reqMethod=method)
    return cvm_client.CvmClient(credential.Credential(secret_id, secret_key, token), GZ, ClientProfile(httpProfile=http))


def associate(client, sg='sg-9id3l839', ids=('ins-2zvpghhc',)):
    req = cvm_models.AssociateSecurityGroupsRequest()
    req.SecurityGroupIds = [sg]
    req.InstanceIds = list(ids)
    return client.AssociateSecurityGroups(req)


def sdk_code(func, *args):
    with pytest.raises(TencentCloudSDKException) as err:
        func(*args)
    return err.value.get_code()


def sdk_signed(client, action, params):
    """Headers and body exactly as the SDK's own signer builds them."""
    req = RequestInternal(client._get_endpoint(), client.profile.httpProfile.reqMethod, '/')  # pylint: disable=protected-access
    client._build_req_inter(action, params, req)  # pylint: disable=protected-access
    return req


def send(emulator, req, body=None, headers=None):
    """Send a signed RequestInternal raw, optionally with another body or extra headers."""
    all_headers = dict(req.header)
    all_headers.update(headers or {})
    url = emulator.endpoints['tencentcloud'] + '/'
    if req.method == 'GET':
        resp = requests.get(url + '?' + req.data, headers=all_headers, timeout=10)
    else:
        resp = requests.post(url, data=req.data if body is None else body, headers=all_headers, timeout=10)
    assert resp.status_code == 200 and resp.headers['Content-Type'] == 'application/json'
    return resp.json()['Response']


def error_code(response):
    uuid.UUID(response['RequestId'])
    return response.get('Error', {}).get('Code')


def bound(admin):
    return dict((i['id'], i['security_groups']) for i in admin.state()['tencentcloud']['instances'])


# -- SDK-computed test vectors (reference §2) ----------------------------------------

V1_BODY = '{"SecurityGroupIds": ["sg-9id3l839"], "InstanceIds": ["ins-2zvpghhc", "ins-915zrb0p"]}'
V2_BODY = '{"InstanceIds": ["ins-2zvpghhc"], "Offset": 0, "Limit": 100}'
VECTORS = [
    # name, method, host, action, region, timestamp, service, body or query, language, token, signature
    ('V1', 'POST', 'cvm.tencentcloudapi.com', 'AssociateSecurityGroups', GZ, 1700000000, 'cvm', V1_BODY, 'zh-CN', None,
     '97f89838d51c7f13f02e35c168a0459f77b85450103303f876873b35b01daa0d'),
    ('V2', 'POST', 'cvm.intl.tencentcloudapi.com', 'DescribeInstances', 'ap-singapore', 1735689599, 'cvm', V2_BODY, 'en-US',
     'EXAMPLETOKEN-abc123', '1fb8acbc78e5943e7b04c452a05fa2860c0d3399883c837e4db70c2a1a941f24'),
    ('V3', 'POST', 'cvm.ap-guangzhou.tencentcloudapi.com', 'DisassociateSecurityGroups', GZ, 1551113065, 'cvm',
     '{"SecurityGroupIds": ["sg-9id3l839"], "InstanceIds": ["ins-2zvpghhc"]}', 'en-US', None,
     'c5ccdf911d313a785d5a2aeab4085b6c6b57c95785103a4271798b3fd81bd810'),
    ('V4', 'POST', 'vpc.tencentcloudapi.com', 'DescribeSecurityGroups', GZ, 1700000000, 'vpc',
     '{"SecurityGroupIds": ["sg-9id3l839"]}', 'en-US', None, '3eea47dad20866c3d64d817ee9ee5d00d94475254d578fce1078945c6e75bcb3'),
    ('V5', 'POST', 'cvm.tencentcloudapi.com', 'ModifyInstancesAttribute', GZ, 1700000000, 'cvm',
     '{"InstanceIds": ["ins-2zvpghhc"], "SecurityGroups": ["sg-9id3l839", "sg-5275dorp"]}', 'en-US', None,
     '2e3406d8c34c4f659e2e24962a3c97076adf5c9fe3263cbb44e9bd4baf4be3c6'),
    ('GET', 'GET', 'cvm.tencentcloudapi.com', 'AssociateSecurityGroups', GZ, 1700000000, 'cvm',
     'SecurityGroupIds.0=sg-9id3l839&InstanceIds.0=ins-2zvpghhc', 'en-US', None,
     '48e03a06988aeb406e3309c12eed826f8e80064eca7d753df48a0484a5993738'),
]


def vector_signature(method, host, timestamp, service, data):
    content_type = tc3.FORM_CONTENT if method == 'GET' else tc3.JSON_CONTENT
    if method == 'GET':
        return tc3.sign(SECRET_KEY, method, host, content_type, timestamp, service, query=data)
    return tc3.sign(SECRET_KEY, method, host, content_type, timestamp, service, body=data.encode('utf-8'))


@pytest.mark.parametrize('vector', VECTORS, ids=[v[0] for v in VECTORS])
def test_sdk_vectors_match_the_verifier(vector):
    method, host, timestamp, service, data, signature = vector[1], vector[2], vector[5], vector[6], vector[7], vector[10]
    assert vector_signature(method, host, timestamp, service, data) == signature


def test_vector_pieces_and_doc_example():
    assert tc3.sha256_hex(V1_BODY) == '4572e46725da7b7c07c4d5b8eef1ac5c5e5438900ad9826db0fa7f2115fc286a'
    headers = {'content-type': 'application/json', 'host': 'cvm.tencentcloudapi.com'}
    canonical = tc3.canonical_request('POST', '', headers, ['content-type', 'host'], tc3.sha256_hex(V1_BODY))
    assert tc3.sha256_hex(canonical) == 'c19ff68790e93c9ed204561228f6f514d8e14fb513f1bf2ae6ed4b4f0f07130c'
    assert tc3.sha256_hex(V2_BODY) == 'f2ef881af949ab5285469f794fc5b41822dd449de1fc3fd89da383fde26fedd8'
    headers['host'] = 'cvm.intl.tencentcloudapi.com'
    canonical = tc3.canonical_request('POST', '', headers, ['content-type', 'host'], tc3.sha256_hex(V2_BODY))
    assert tc3.sha256_hex(canonical) == '73119e0ad0d870a3875cb834adeae2298f433eb7e1e76243fa6185b5efa4a8a4'
    doc_body = json.dumps({'Limit': 1, 'Filters': [{'Values': [u'\u672a\u547d\u540d'], 'Name': 'instance-name'}]}).encode()
    assert tc3.sign(SECRET_KEY, 'POST', 'cvm.tencentcloudapi.com', 'application/json; charset=utf-8', 1551113065, 'cvm',
                    body=doc_body) == '72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168'
    assert tc3.utc_date(1735689599) == '2024-12-31' and tc3.utc_date(1735689600) == '2025-01-01'


@pytest.mark.parametrize('vector', VECTORS, ids=[v[0] for v in VECTORS])
def test_vectors_replayed_against_the_emulator(emulator, admin, vector):
    """The exact SDK-signed requests of the reference, sent with their Host header, are accepted."""
    method, host, action, region, timestamp, service, data, language, token, signature = vector[1:]
    admin.seed(seed_doc(token))
    admin.settings(clock_offset_s=timestamp - time.time())
    date = tc3.utc_date(timestamp)
    headers = {'Host': host, 'Content-Type': tc3.FORM_CONTENT if method == 'GET' else tc3.JSON_CONTENT,
               'X-TC-Action': action, 'X-TC-Timestamp': str(timestamp), 'X-TC-Version': '2017-03-12',
               'X-TC-Region': region, 'X-TC-Language': language, 'X-TC-RequestClient': 'SDK_PYTHON_3.1.178',
               'Authorization': 'TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, SignedHeaders=content-type;host, '
                                'Signature=%s' % (SECRET_ID, date, service, signature)}
    if token:
        headers['X-TC-Token'] = token
    url = emulator.endpoints['tencentcloud'] + '/'
    if method == 'GET':
        resp = requests.get(url + '?' + data, headers=headers, timeout=10)
    else:
        resp = requests.post(url, data=data.encode('utf-8'), headers=headers, timeout=10)
    assert resp.status_code == 200 and resp.headers['Content-Type'] == 'application/json'
    assert 'Error' not in resp.json()['Response'], resp.json()


# -- authentication ---------------------------------------------------------------

def test_wrong_secret_is_signature_failure(tc, admin):
    assert sdk_code(associate, cvm(tc, secret_key='wrong-secret')) == 'AuthFailure.SignatureFailure'
    assert bound(admin)['ins-2zvpghhc'] == []


def test_unknown_secret_id(tc):
    assert sdk_code(associate, cvm(tc, secret_id='AKIDunknown')) == 'AuthFailure.SecretIdNotFound'


@pytest.mark.parametrize('offset', [301, -301])
def test_stale_timestamp_is_signature_expire(tc, admin, offset):
    admin.settings(clock_offset_s=offset)
    assert sdk_code(associate, cvm(tc)) == 'AuthFailure.SignatureExpire'
    admin.settings(clock_offset_s=offset - (10 if offset > 0 else -10), tencentcloud={'timestamp_window_s': 400})
    associate(cvm(tc))


def test_tampered_body_is_signature_failure(tc, admin):
    req = sdk_signed(cvm(tc), 'AssociateSecurityGroups', {'SecurityGroupIds': ['sg-9id3l839'], 'InstanceIds': ['ins-2zvpghhc']})
    tampered = req.data.replace('ins-2zvpghhc', 'ins-915zrb0p')
    assert error_code(send(tc, req, body=tampered)) == 'AuthFailure.SignatureFailure'
    assert bound(admin) == {'ins-2zvpghhc': [], 'ins-915zrb0p': []}
    assert error_code(send(tc, req)) is None   # the untouched request passes
    assert bound(admin)['ins-2zvpghhc'] == ['sg-9id3l839']


def test_host_with_port_and_content_type_are_signed(tc):
    req = sdk_signed(cvm(tc), 'DescribeInstances', {})
    assert error_code(send(tc, req, headers={'Host': '127.0.0.1'})) == 'AuthFailure.SignatureFailure'
    assert error_code(send(tc, req, headers={'Content-Type': 'application/json; charset=utf-8'})) == 'AuthFailure.SignatureFailure'


@pytest.mark.parametrize('authorization', [
    None, 'garbage', 'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/cvm/tc3_request, Signature=abc',
    'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/cvm/tc3_request, SignedHeaders=host, Signature=' + '0' * 64,
])
def test_malformed_authorization(tc, authorization):
    req = sdk_signed(cvm(tc), 'DescribeInstances', {})
    if authorization is None:
        del req.header['Authorization']
    else:
        req.header['Authorization'] = authorization
    assert error_code(send(tc, req)) == 'AuthFailure.InvalidAuthorization'


def test_scope_date_must_be_the_utc_date_of_the_timestamp(tc):
    """A request consistently signed with a local (non-UTC) date is rejected, as the docs warn."""
    req = sdk_signed(cvm(tc), 'DescribeInstances', {})
    timestamp = req.header['X-TC-Timestamp']
    wrong_date = tc3.utc_date(int(timestamp) - 86400)
    headers = {'content-type': req.header['Content-Type'], 'host': req.header['Host']}
    canonical = tc3.canonical_request('POST', '', headers, ['content-type', 'host'], tc3.sha256_hex(req.data))
    to_sign = tc3.string_to_sign(timestamp, '%s/cvm/tc3_request' % wrong_date, canonical)
    signature = Sign.sign_tc3(SECRET_KEY, wrong_date, 'cvm', to_sign)   # the SDK's own key chain
    req.header['Authorization'] = ('TC3-HMAC-SHA256 Credential=%s/%s/cvm/tc3_request, SignedHeaders=content-type;host, '
                                   'Signature=%s' % (SECRET_ID, wrong_date, signature))
    assert error_code(send(tc, req)) == 'AuthFailure.SignatureFailure'


def test_sts_token(tc, admin):
    associate(cvm(tc, STS_ID, STS_KEY, STS_TOKEN))
    assert sdk_code(associate, cvm(tc, STS_ID, STS_KEY, 'wrong-token')) == 'AuthFailure.TokenFailure'
    assert sdk_code(associate, cvm(tc, STS_ID, STS_KEY)) == 'AuthFailure.TokenFailure'
    assert [e['error_code'] for e in admin.requests('tencentcloud')] == [None, 'AuthFailure.TokenFailure', 'AuthFailure.TokenFailure']


def test_unsigned_payload(tc, admin):
    client = cvm(tc)
    client.profile.unsignedPayload = True
    associate(client)
    assert bound(admin)['ins-2zvpghhc'] == ['sg-9id3l839']


# -- transport and routing -----------------------------------------------------------

def test_get_requests_via_the_sdk(tc, admin):
    client = cvm(tc, method='GET')
    associate(client, ids=('ins-2zvpghhc', 'ins-915zrb0p'))
    assert bound(admin) == {'ins-2zvpghhc': ['sg-9id3l839'], 'ins-915zrb0p': ['sg-9id3l839']}
    req = cvm_models.DescribeInstancesRequest()
    req.InstanceIds = ['ins-2zvpghhc']
    req.Limit = 1
    out = client.DescribeInstances(req)
    assert out.TotalCount == 1 and out.InstanceSet[0].InstanceId == 'ins-2zvpghhc'
    assert [e['method'] for e in admin.requests('tencentcloud')] == ['GET', 'GET']


def test_errors_are_http_200_json_and_the_sdk_raises_them(tc):
    req = sdk_signed(cvm(tc), 'AssociateSecurityGroups', {'SecurityGroupIds': ['sg-9id3l839'], 'InstanceIds': ['ins-notthere']})
    resp = requests.post(tc.endpoints['tencentcloud'] + '/', data=req.data, headers=req.header, timeout=10)
    assert resp.status_code == 200 and resp.headers['Content-Type'] == 'application/json'
    body = resp.json()['Response']
    assert body['Error']['Code'] == 'InvalidInstanceId.NotFound' and body['Error']['Message']
    with pytest.raises(TencentCloudSDKException) as err:
        associate(cvm(tc), ids=['ins-notthere'])
    assert err.value.get_code() == 'InvalidInstanceId.NotFound'
    assert err.value.get_request_id() != body['RequestId']   # fresh request IDs


@pytest.mark.parametrize('change,code', [
    ({'X-TC-Action': 'RunInstances'}, 'InvalidAction'),
    ({'X-TC-Action': 'DescribeSecurityGroups'}, 'InvalidAction'),   # a vpc action signed for the cvm service
    ({'X-TC-Version': '2020-01-01'}, 'NoSuchVersion'),
    ({'X-TC-Region': 'mars-north-1'}, 'UnsupportedRegion'),
])
def test_routing_errors(tc, change, code):
    client = cvm(tc)
    req = sdk_signed(client, 'DescribeInstances', {})
    assert error_code(send(tc, req, headers=change)) == code


def test_missing_region_and_unknown_parameter(tc):
    client = cvm_client.CvmClient(credential.Credential(SECRET_ID, SECRET_KEY), '',
                                  ClientProfile(httpProfile=HttpProfile(protocol='http', endpoint=endpoint(tc))))
    assert sdk_code(client.call_json, 'DescribeInstances', {}) == 'MissingParameter'
    assert sdk_code(cvm(tc).call_json, 'DescribeInstances', {'InstanceIdz': ['ins-2zvpghhc']}) == 'UnknownParameter'


# -- faults and rate limits ----------------------------------------------------------

@pytest.mark.parametrize('kind,code', [
    ('throttle', 'RequestLimitExceeded'), ('server_error', 'InternalError'), ('in_progress', 'MutexOperation.TaskRunning')])
def test_error_faults(tc, admin, kind, code):
    admin.fault(provider='tencentcloud', action='AssociateSecurityGroups', kind=kind)
    assert sdk_code(associate, cvm(tc)) == code
    assert bound(admin)['ins-2zvpghhc'] == []
    associate(cvm(tc))
    assert bound(admin)['ins-2zvpghhc'] == ['sg-9id3l839']


def test_reset_fault_is_a_network_error_and_changes_nothing(tc, admin):
    admin.fault(provider='tencentcloud', kind='reset')
    assert sdk_code(associate, cvm(tc)) == 'ClientNetworkError'
    assert bound(admin)['ins-2zvpghhc'] == []


def test_commit_then_drop_applies_the_change(tc, admin):
    admin.fault(provider='tencentcloud', action='AssociateSecurityGroups', kind='commit_then_drop')
    assert sdk_code(associate, cvm(tc)) == 'ClientNetworkError'
    assert bound(admin)['ins-2zvpghhc'] == ['sg-9id3l839']
    entry = admin.requests('tencentcloud')[-1]
    assert entry['fault'] == 'commit_then_drop' and entry['request_id']
    req = cvm_models.DescribeInstancesRequest()
    req.InstanceIds = ['ins-2zvpghhc']
    ins = cvm(tc).DescribeInstances(req).InstanceSet[0]
    assert (ins.LatestOperationState, ins.LatestOperationRequestId) == ('OPERATING', entry['request_id'])


def test_rate_limits(tc, admin):
    assert tc3.CLOUD.rate_limits == {'AssociateSecurityGroups': 10, 'DisassociateSecurityGroups': 10,
                                     'ModifyInstancesAttribute': 10, 'DescribeInstances': 40, 'DescribeSecurityGroups': 100,
                                     'AssociateNetworkInterfaceSecurityGroups': 20, 'DisassociateNetworkInterfaceSecurityGroups': 20,
                                     'DescribeNetworkInterfaces': 20, 'ModifyNetworkInterfaceAttribute': 20,
                                     'TagResources': 20, 'UnTagResources': 20, 'ModifyResourceTags': 20, 'GetCallerIdentity': 20,
                                     'AssumeRole': 600}
    admin.settings(enforce_rate_limits=True)
    req = sdk_signed(cvm(tc), 'DescribeInstances', {})

    def burst(thread):  # pylint: disable=unused-argument
        with requests.Session() as session:   # one signed request, replayed
            return [error_code(session.post(tc.endpoints['tencentcloud'] + '/', data=req.data, headers=req.header,
                                            timeout=10).json()['Response']) for call in range(10)]
    with concurrent.futures.ThreadPoolExecutor(10) as pool:   # 100 calls in well under a second
        codes = sum(pool.map(burst, range(10)), [])
    assert codes.count(None) >= 40 and 'RequestLimitExceeded' in codes
    assert set(codes) == set([None, 'RequestLimitExceeded'])
    admin.settings(enforce_rate_limits=False)
    assert error_code(send(tc, req)) is None
