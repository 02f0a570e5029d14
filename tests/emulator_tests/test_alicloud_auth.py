# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Alibaba Cloud emulator: signatures (reference vectors, wrong secret, stale clock, tampered
bodies, nonce replay), error envelopes, fault kinds and per-cloud settings."""

import http.client
from concurrent.futures import ThreadPoolExecutor
import json
import urllib.parse
from types import SimpleNamespace

import pytest
from aliyunsdkcore.acs_exception.exceptions import ClientException as LegacyClientException
from aliyunsdkcore.auth.composer import rpc_signature_composer
from aliyunsdkcore.utils import parameter_helper
from alibabacloud_tea_openapi import exceptions as tea_exceptions
from alibabacloud_tea_openapi.utils import Utils as TeaUtils

from emulator import alicloud
from test_alicloud import (AK, SK, REGION, I_RUN, I_STOP, SG_A, SG_B, SG_C, ApiError, LegacyClient, TeaClient,
                           clients, expect_error, groups_of, seed)

FAMILIES = ('legacy-v1', 'tea-v3', 'tea-v1')
VECTOR_AK = 'LTAI5tExampleKeyId00000'
VECTOR_SK = 'ExampleSecret000000000000000000'
VECTOR_TIME = '2024-01-01T00:00:00Z'
VECTOR_NONCE = '0123456789abcdef0123456789abcdef'


@pytest.fixture
def ali(emulator, admin):
    admin.seed(seed())
    return emulator.endpoints['alicloud']


# -- (c) the reference's SDK-computed vectors against the verifier's pieces ---------

def v1(method, params, secret=VECTOR_SK):
    return alicloud.v1_signature(secret, alicloud.v1_string_to_sign(method, list(params.items())))


V1_COMMON = {'Version': '2014-05-26', 'Format': 'JSON', 'RegionId': 'cn-hangzhou', 'Timestamp': VECTOR_TIME,
             'SignatureMethod': 'HMAC-SHA1', 'SignatureType': '', 'SignatureVersion': '1.0',
             'SignatureNonce': VECTOR_NONCE, 'AccessKeyId': VECTOR_AK}
V1_TEA = {'Format': 'json', 'Version': '2014-05-26', 'Timestamp': VECTOR_TIME, 'SignatureNonce': VECTOR_NONCE,
          'SignatureMethod': 'HMAC-SHA1', 'SignatureVersion': '1.0', 'AccessKeyId': VECTOR_AK}
JOIN = {'InstanceId': 'i-bp67acfmxazb4ph1abcd', 'SecurityGroupId': 'sg-bp67acfmxazb4ph1wxyz'}
IDS = '["i-bp67acfmxazb4ph1abcd","i-bp1hp2ji4l7hkbh3aaaa"]'
SPECIAL = 'a b*c~d+e/f \u4e2d\u6587'


@pytest.mark.parametrize('method, params, expected', [
    ('POST', dict(V1_COMMON, Action='JoinSecurityGroup', **JOIN), '5+f1sNwJj6xJWvHi8btuc6Z50cs='),               # V1-A
    ('POST', dict(V1_COMMON, Action='DescribeInstances', InstanceIds=IDS, PageSize='100'), 'qG0IY1X9Q5saM9KiwvsPFKk3Dss='),  # V1-B
    ('POST', dict(V1_TEA, Action='JoinSecurityGroup', RegionId='cn-hangzhou', **JOIN), '7Mfg5RY34OZepEOng3izdudOV1k='),      # V1-C
    ('POST', dict(V1_COMMON, Action='ModifyInstanceAttribute', InstanceId=JOIN['InstanceId'], Description=SPECIAL,
                  SignatureNonce='1' * 32), '6tRq1Ya4HERAIEri21/2rkoNOLs='),                                       # V1-D legacy
    ('POST', dict(V1_TEA, Action='ModifyInstanceAttribute', InstanceId=JOIN['InstanceId'], Description=SPECIAL,
                  SignatureNonce='2' * 32), 'uK9cfBO0+J4Zykl+fCZNVhxfuj4='),                                       # V1-D tea
])
def test_v1_reference_vectors(method, params, expected):
    assert v1(method, params) == expected


def test_v1_doc_example_and_sdk_composer():
    doc = {'AccessKeyId': 'testid', 'Action': 'DescribeRegions', 'Format': 'XML', 'SignatureMethod': 'HMAC-SHA1',
           'SignatureNonce': '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf', 'SignatureVersion': '1.0',
           'Timestamp': '2016-02-23T12:46:24Z', 'Version': '2014-05-26'}
    assert v1('GET', doc, 'testsecret') == 'OLeaidS1JvxuMvnyHOwuJ+uX5qY='
    assert alicloud.v1_string_to_sign('POST', list(dict(V1_COMMON, Action='JoinSecurityGroup', **JOIN).items())) == (
        'POST&%2F&AccessKeyId%3DLTAI5tExampleKeyId00000%26Action%3DJoinSecurityGroup%26Format%3DJSON%26InstanceId%3D'
        'i-bp67acfmxazb4ph1abcd%26RegionId%3Dcn-hangzhou%26SecurityGroupId%3Dsg-bp67acfmxazb4ph1wxyz%26SignatureMethod'
        '%3DHMAC-SHA1%26SignatureNonce%3D0123456789abcdef0123456789abcdef%26SignatureType%3D%26SignatureVersion%3D1.0'
        '%26Timestamp%3D2024-01-01T00%253A00%253A00Z%26Version%3D2014-05-26')


def test_v1_get_matches_the_legacy_composer(monkeypatch):
    # The reference's V1-B GET value (kxLu0R...) is not reproducible from the parameters it lists;
    # the legacy SDK's own composer is the reference here.
    monkeypatch.setattr(parameter_helper, 'get_iso_8061_date', lambda: VECTOR_TIME)
    monkeypatch.setattr(parameter_helper, 'get_uuid', lambda: VECTOR_NONCE)
    params = {'Version': '2014-05-26', 'Action': 'DescribeInstances', 'RegionId': 'cn-hangzhou', 'InstanceIds': IDS, 'PageSize': '100'}
    for method in ('GET', 'POST'):
        url, string_to_sign = rpc_signature_composer.get_signed_url(dict(params), VECTOR_AK, VECTOR_SK, 'JSON', method, {})
        signed = dict(urllib.parse.parse_qsl(url[2:], keep_blank_values=True))
        sent = dict((k, v) for k, v in signed.items() if k != 'Signature')
        assert alicloud.v1_string_to_sign(method, list(sent.items())) == string_to_sign
        assert v1(method, sent) == signed['Signature']


V3_HEADERS = ['accept', 'host', 'user-agent', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-credentials-provider',
              'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version']


@pytest.mark.parametrize('action, query, nonce, expected', [
    ('JoinSecurityGroup', 'InstanceId=i-bp67acfmxazb4ph1abcd&RegionId=cn-hangzhou&SecurityGroupId=sg-bp67acfmxazb4ph1wxyz',
     VECTOR_NONCE, '20832c3de1bb9582fa928fda496b777912d9586e18dbdd658320c64b4ccb43e5'),
    ('ModifyInstanceAttribute', 'InstanceId=i-bp67acfmxazb4ph1abcd&SecurityGroupIds.1=sg-bp67acfmxazb4ph1wxyz'
     '&SecurityGroupIds.2=sg-bp1fg655nh68xyz9i1ab', VECTOR_NONCE, 'b68cfb4656ab27c8d62943575d521554f9e5631bea94f47c39dbe6354060eae3'),
    ('DescribeInstances', 'InstanceIds=%5B%22i-bp67acfmxazb4ph1abcd%22%2C%22i-bp1hp2ji4l7hkbh3aaaa%22%5D&MaxResults=100'
     '&RegionId=cn-hangzhou', VECTOR_NONCE, '965be3089b4262e274ce6779c24b82b51d54ba98018ed50c40eb45a4c42d15d3'),
    ('ModifyInstanceAttribute', 'Description=a+b%2Ac~d%2Be%2Ff+%E4%B8%AD%E6%96%87&InstanceId=i-bp67acfmxazb4ph1abcd',
     '2' * 32, 'd10933835548037e603b8b873fa61313b6784cd7a8f407bf39ec655362ebe4f7'),
])
def test_v3_reference_vectors(action, query, nonce, expected):
    headers = {'accept': 'application/json', 'host': '127.0.0.1:18765',
               'user-agent': 'AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2', 'x-acs-action': action,
               'x-acs-content-sha256': alicloud.EMPTY_SHA256, 'x-acs-credentials-provider': 'static_ak',
               'x-acs-date': VECTOR_TIME, 'x-acs-signature-nonce': nonce, 'x-acs-version': '2014-05-26'}
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    canonical = alicloud.v3_canonical_request('POST', '/', pairs, headers, V3_HEADERS, b'')
    assert alicloud.v3_signature(VECTOR_SK, alicloud.v3_string_to_sign(canonical)) == expected


@pytest.mark.parametrize('date, nonce, expected', [
    ('2023-10-26T10:22:32Z', '3156853299f313e23d1673dc12e1703d', '06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0'),
    ('2023-10-26T09:01:01Z', 'd410180a5abf7fe235dd9b74aca91fc0', 'e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804'),
])
def test_v3_doc_examples(date, nonce, expected):
    headers = {'host': 'ecs.cn-shanghai.aliyuncs.com', 'x-acs-action': 'RunInstances', 'x-acs-content-sha256': alicloud.EMPTY_SHA256,
               'x-acs-date': date, 'x-acs-signature-nonce': nonce, 'x-acs-version': '2014-05-26'}
    pairs = [('ImageId', 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd'), ('RegionId', 'cn-shanghai')]
    canonical = alicloud.v3_canonical_request('POST', '/', pairs, headers, sorted(headers), b'')
    assert alicloud.v3_signature('YourAccessKeySecret', alicloud.v3_string_to_sign(canonical)) == expected


def test_pinned_sdk_requests_verify_end_to_end(ali, admin, monkeypatch):
    """The §2e snippets (pinned 2024 clock and nonce) are accepted once the clock check is off."""
    admin.settings(alicloud={'timestamp_window_s': 0})
    monkeypatch.setattr(parameter_helper, 'get_iso_8061_date', lambda: VECTOR_TIME)
    monkeypatch.setattr(parameter_helper, 'get_uuid', lambda: VECTOR_NONCE)
    monkeypatch.setattr(TeaUtils, 'get_timestamp', staticmethod(lambda: VECTOR_TIME))
    monkeypatch.setattr(TeaUtils, 'get_nonce', staticmethod(lambda: VECTOR_NONCE))
    LegacyClient(ali).call('JoinSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_B)
    admin.settings(alicloud={'check_nonce': False})  # both SDKs now reuse the pinned nonce
    TeaClient(ali).call('JoinSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_C)
    assert groups_of(admin, I_RUN) == [SG_A, SG_B, SG_C]


# -- (b) rejected requests through the SDKs ------------------------------------------

@pytest.mark.parametrize('family', FAMILIES)
def test_wrong_secret_and_unknown_key(ali, admin, family):
    bad_secret = {'legacy-v1': LegacyClient(ali, secret='wrong'), 'tea-v3': TeaClient(ali, secret='wrong'),
                  'tea-v1': TeaClient(ali, secret='wrong', v1=True)}[family]
    # The legacy SDK renames SignatureDoesNotMatch to InvalidAccessKeySecret when the server's
    # string to sign (in the message) equals its own: that checks the message format too.
    code = 'InvalidAccessKeySecret' if family == 'legacy-v1' else 'SignatureDoesNotMatch'
    expect_error(bad_secret, 'JoinSecurityGroup', code, 400, InstanceId=I_RUN, SecurityGroupId=SG_B)
    unknown = {'legacy-v1': LegacyClient(ali, access_key='LTAI5tUnknown'), 'tea-v3': TeaClient(ali, access_key='LTAI5tUnknown'),
               'tea-v1': TeaClient(ali, access_key='LTAI5tUnknown', v1=True)}[family]
    expect_error(unknown, 'JoinSecurityGroup', 'InvalidAccessKeyId.NotFound', 404, InstanceId=I_RUN, SecurityGroupId=SG_B)
    assert groups_of(admin, I_RUN) == [SG_A]


@pytest.mark.parametrize('family', FAMILIES)
def test_stale_timestamp(ali, admin, family):
    sdk = clients(ali)[family]
    admin.settings(clock_offset_s=16 * 60)
    expect_error(sdk, 'JoinSecurityGroup', 'InvalidTimeStamp.Expired', 400, InstanceId=I_RUN, SecurityGroupId=SG_B)
    admin.settings(clock_offset_s=-16 * 60)
    expect_error(sdk, 'JoinSecurityGroup', 'InvalidTimeStamp.Expired', 400, InstanceId=I_RUN, SecurityGroupId=SG_B)
    assert groups_of(admin, I_RUN) == [SG_A]
    admin.settings(clock_offset_s=14 * 60)
    sdk.call('JoinSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_B)
    admin.settings(clock_offset_s=10 ** 6, alicloud={'timestamp_window_s': 0})
    sdk.call('JoinSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_C)
    assert groups_of(admin, I_RUN) == [SG_A, SG_B, SG_C]


# -- (b) raw requests signed by the SDKs' own signers ---------------------------------

def send_raw(url, method, target, headers, body=b''):
    """(status, content type, parsed JSON body) of one raw request."""
    conn = http.client.HTTPConnection(url.split('//')[1], timeout=10)
    try:
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheader('Content-Type'), json.loads(resp.read())
    finally:
        conn.close()


def send(url, method, target, headers, body=b''):
    """(status, parsed JSON body) of one raw request."""
    answer = send_raw(url, method, target, headers, body)
    return answer[0], answer[2]


def v1_request(url, action, body_params, **query):
    """A V1 request signed by the legacy SDK's composer: (target, headers, body)."""
    params = dict({'Action': action, 'Version': '2014-05-26', 'RegionId': REGION}, **query)
    target = rpc_signature_composer.get_signed_url(params, AK, SK, 'JSON', 'POST', body_params)[0]
    headers = {'Content-Type': 'application/x-www-form-urlencoded'}
    return target, headers, urllib.parse.urlencode(body_params).encode('utf-8')


def v3_request(url, action, query, body=b'', content_type=None):
    """A V3 request signed by the Tea SDK's own get_authorization: (target, headers, body)."""
    payload = TeaUtils.hash(body, 'ACS3-HMAC-SHA256').hex()
    headers = {'host': url.split('//')[1], 'x-acs-action': action, 'x-acs-version': '2014-05-26',
               'x-acs-date': TeaUtils.get_timestamp(), 'x-acs-signature-nonce': TeaUtils.get_nonce(),
               'accept': 'application/json', 'x-acs-content-sha256': payload}
    if content_type:
        headers['content-type'] = content_type
    request = SimpleNamespace(method='POST', pathname='/', query=dict(query), headers=dict(headers))
    headers['Authorization'] = TeaUtils.get_authorization(request, 'ACS3-HMAC-SHA256', payload, AK, SK)
    return '/?' + urllib.parse.urlencode(query), headers, body


def test_tampered_v1_body(ali, admin):
    target, headers, body = v1_request(ali, 'ModifyInstanceAttribute', {'InstanceName': 'good'}, InstanceId=I_STOP)
    status, ctype, err = send_raw(ali, 'POST', target, headers, body.replace(b'good', b'evil'))
    assert (status, err['Code']) == (400, 'SignatureDoesNotMatch') and ctype == 'application/json;charset=utf-8'
    assert err['Message'].startswith('Specified signature is not matched with our calculation. server string to sign is:POST&%2F&')
    assert set(err) == {'RequestId', 'HostId', 'Code', 'Message', 'Recommend'}
    assert 'InstanceName%3Devil' in err['Message']
    status, ok = send(ali, 'POST', target, headers, body)  # untampered: accepted
    assert status == 200 and set(ok) == {'RequestId'}
    assert [i['name'] for i in admin.state()['alicloud']['instances'] if i['id'] == I_STOP] == ['good']


def test_tampered_v3_body_and_query(ali, admin):
    target, headers, body = v3_request(ali, 'ModifyInstanceAttribute', {'InstanceId': I_STOP}, b'InstanceName=good',
                                       'application/x-www-form-urlencoded')
    status, err = send(ali, 'POST', target, headers, b'InstanceName=evil')
    assert (status, err['Code']) == (400, 'SignatureDoesNotMatch')
    assert err['Message'].split('server string to sign is:')[1].startswith('ACS3-HMAC-SHA256\n')
    status, err = send(ali, 'POST', target.replace(I_STOP, I_RUN), headers, body)
    assert (status, err['Code']) == (400, 'SignatureDoesNotMatch')
    assert send(ali, 'POST', target, headers, body)[0] == 200
    assert [i['name'] for i in admin.state()['alicloud']['instances'] if i['id'] == I_STOP] == ['good']


def test_nonce_replay(ali, admin):
    for build in (lambda: v1_request(ali, 'DescribeInstances', {}),
                  lambda: v3_request(ali, 'DescribeInstances', {'RegionId': REGION})):
        target, headers, body = build()
        assert send(ali, 'POST', target, headers, body)[0] == 200
        status, err = send(ali, 'POST', target, headers, body)
        assert (status, err['Code']) == (400, 'SignatureNonceUsed')
    admin.settings(alicloud={'check_nonce': False})
    target, headers, body = v3_request(ali, 'DescribeInstances', {'RegionId': REGION})
    assert [send(ali, 'POST', target, headers, body)[0] for attempt in range(2)] == [200, 200]


def test_malformed_auth(ali):
    target, headers, body = v3_request(ali, 'DescribeInstances', {'RegionId': REGION})
    headers['Authorization'] = 'ACS3-HMAC-SHA256 Credential=%s' % AK
    status, err = send(ali, 'POST', target, headers, body)
    assert (status, err['Code']) == (400, 'IncompleteSignature')
    target, headers, body = v3_request(ali, 'DescribeInstances', {'RegionId': REGION})
    headers['Authorization'] = headers['Authorization'].replace('host;', '')
    assert send(ali, 'POST', target, headers, body)[1]['Code'] == 'IncompleteSignature'
    target, headers, body = v1_request(ali, 'DescribeInstances', {})
    status, err = send(ali, 'POST', target.split('&Signature=')[0], headers, body)
    assert (status, err['Code']) == (400, 'MissingParameter') and '"Signature"' in err['Message']
    target, headers, body = v1_request(ali, 'DescribeInstances', {})
    status, err = send(ali, 'POST', target.replace('Timestamp=', 'Timestamp=x'), headers, body)
    assert (status, err['Code']) == (400, 'InvalidTimeStamp.Format')


def test_unknown_action_and_version(ali):
    target, headers, body = v3_request(ali, 'RunInstances', {'RegionId': REGION})
    status, err = send(ali, 'POST', target, headers, body)
    assert (status, err['Code']) == (404, 'InvalidAction.NotFound')
    target, headers, body = v1_request(ali, 'DescribeInstances', {}, Version='2016-04-28')
    status, err = send(ali, 'POST', target, headers, body)
    assert (status, err['Code']) == (400, 'InvalidVersion')


def test_security_token(ali, admin):
    doc = seed()
    doc['alicloud']['credentials'] = [{'access_key': AK, 'secret_key': SK, 'security_token': 'sts-token-1'}]
    admin.seed(doc)
    expect_error(TeaClient(ali), 'DescribeInstances', 'InvalidSecurityToken.Malformed', 400, RegionId=REGION)
    from alibabacloud_ecs20140526.client import Client  # pylint: disable=import-outside-toplevel
    from alibabacloud_tea_openapi import utils_models  # pylint: disable=import-outside-toplevel
    from darabonba.runtime import RuntimeOptions  # pylint: disable=import-outside-toplevel
    from alibabacloud_ecs20140526 import models  # pylint: disable=import-outside-toplevel
    for algorithm in (None, 'v2'):
        config = utils_models.Config(access_key_id=AK, access_key_secret=SK, security_token='sts-token-1', region_id=REGION,
                                     endpoint=ali.split('//')[1], protocol='http', signature_algorithm=algorithm)
        body = Client(config).describe_instances_with_options(models.DescribeInstancesRequest(region_id=REGION), RuntimeOptions()).body
        assert len(body.instances.instance) == 4


# -- (d) faults as the SDKs see them -------------------------------------------------

def test_throttle(ali, admin):
    admin.fault(provider='alicloud', action='JoinSecurityGroup', kind='throttle', count=2)
    expect_error(LegacyClient(ali), 'JoinSecurityGroup', 'Throttling.User', 400, InstanceId=I_RUN, SecurityGroupId=SG_B)
    err = expect_error(TeaClient(ali), 'JoinSecurityGroup', 'Throttling.User', 400, InstanceId=I_RUN, SecurityGroupId=SG_B)
    assert isinstance(err.sdk_exception, tea_exceptions.ClientException)
    assert groups_of(admin, I_RUN) == [SG_A]
    admin.settings(alicloud={'throttle_retry_after_s': 2})
    admin.fault(provider='alicloud', action='JoinSecurityGroup', kind='throttle')
    err = expect_error(TeaClient(ali), 'JoinSecurityGroup', 'Throttling.User', 400, InstanceId=I_RUN, SecurityGroupId=SG_B)
    assert isinstance(err.sdk_exception, tea_exceptions.ThrottlingException) and err.sdk_exception.retry_after


def test_legacy_sdk_retries_describe_on_plain_throttling(ali, admin):
    admin.settings(alicloud={'throttle_code': 'Throttling'})
    admin.fault(provider='alicloud', action='DescribeInstances', kind='throttle')
    body = LegacyClient(ali).call('DescribeInstances', RegionId=REGION)
    assert len(body['Instances']['Instance']) == 4
    assert [(e['status'], e['error_code']) for e in admin.requests('alicloud')] == [(400, 'Throttling'), (200, None)]


def test_server_error(ali, admin):
    admin.fault(provider='alicloud', action='JoinSecurityGroup', kind='server_error')
    err = expect_error(TeaClient(ali), 'JoinSecurityGroup', 'ServiceUnavailable', 503, InstanceId=I_RUN, SecurityGroupId=SG_B)
    assert isinstance(err.sdk_exception, tea_exceptions.ServerException)
    admin.settings(alicloud={'server_error_code': 'InternalError'})
    admin.fault(provider='alicloud', action='JoinSecurityGroup', kind='server_error')
    expect_error(LegacyClient(ali), 'JoinSecurityGroup', 'InternalError', 500, InstanceId=I_RUN, SecurityGroupId=SG_B)
    assert groups_of(admin, I_RUN) == [SG_A]
    # The legacy SDK retries Describe* calls on 5xx.
    admin.fault(provider='alicloud', action='DescribeInstances', kind='server_error')
    assert len(LegacyClient(ali).call('DescribeInstances', RegionId=REGION)['Instances']['Instance']) == 4
    assert [e['status'] for e in admin.requests('alicloud')][-2:] == [500, 200]


def test_in_progress(ali, admin):
    admin.fault(provider='alicloud', action='LeaveSecurityGroup', kind='in_progress')
    expect_error(TeaClient(ali), 'LeaveSecurityGroup', 'IncorrectInstanceStatus', 403, InstanceId=I_STOP, SecurityGroupId=SG_B)
    admin.settings(alicloud={'in_progress_code': 'OperationConflict'})
    admin.fault(provider='alicloud', action='LeaveSecurityGroup', kind='in_progress')
    expect_error(LegacyClient(ali), 'LeaveSecurityGroup', 'OperationConflict', 403, InstanceId=I_STOP, SecurityGroupId=SG_B)
    assert groups_of(admin, I_STOP) == [SG_A, SG_B]


def test_reset_changes_nothing(ali, admin):
    admin.fault(provider='alicloud', action='JoinSecurityGroup', kind='reset', count=2)
    with pytest.raises(LegacyClientException) as err:
        LegacyClient(ali).call('JoinSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_B)
    assert err.value.get_error_code() == 'SDK.HttpError'
    with pytest.raises(Exception) as err:
        TeaClient(ali).call('JoinSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_B)
    assert not isinstance(err.value, ApiError)
    assert groups_of(admin, I_RUN) == [SG_A]


def test_commit_then_drop_applies(ali, admin):
    admin.fault(provider='alicloud', action='JoinSecurityGroup', kind='commit_then_drop')
    with pytest.raises(Exception) as err:
        TeaClient(ali).call('JoinSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_B)
    assert not isinstance(err.value, ApiError)
    assert groups_of(admin, I_RUN) == [SG_A, SG_B]
    expect_error(LegacyClient(ali), 'JoinSecurityGroup', 'InvalidInstanceId.AlreadyExists', 403, InstanceId=I_RUN, SecurityGroupId=SG_B)
    admin.fault(provider='alicloud', action='LeaveSecurityGroup', kind='commit_then_drop')
    with pytest.raises(LegacyClientException):
        LegacyClient(ali).call('LeaveSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_A)
    assert groups_of(admin, I_RUN) == [SG_B]


def test_rate_limit(ali, admin):
    admin.settings(enforce_rate_limits=True)
    sdk = TeaClient(ali)

    def join():
        try:
            sdk.call('JoinSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_A)
        except ApiError as err:
            return err.code
        return None
    with ThreadPoolExecutor(8) as pool:  # the bucket holds 20 (the assumed 20/s limit)
        codes = [future.result() for future in [pool.submit(join) for attempt in range(60)]]
    assert codes.count('InvalidInstanceId.AlreadyExists') >= 20 and 'Throttling.User' in codes
    assert any(e['fault'] == 'rate_limit' for e in admin.requests('alicloud'))


# -- (e) settings -------------------------------------------------------------------

def test_setting_max_security_groups(ali, admin):
    admin.settings(alicloud={'max_security_groups_per_instance': 2})
    sdk = TeaClient(ali)
    sdk.call('JoinSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_B)
    expect_error(sdk, 'JoinSecurityGroup', 'InstanceSecurityGroupLimitExceeded', 400, InstanceId=I_RUN, SecurityGroupId=SG_C)
    expect_error(sdk, 'ModifyInstanceAttribute', 'JoinedGroupLimitExceed', 400, InstanceId=I_RUN, SecurityGroupIds=[SG_A, SG_B, SG_C])
    assert groups_of(admin, I_RUN) == [SG_A, SG_B]


def test_setting_group_capacity(ali, admin):
    admin.settings(alicloud={'max_instances_per_normal_group': 1})
    sdk = LegacyClient(ali)
    sdk.call('JoinSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_C)
    expect_error(sdk, 'JoinSecurityGroup', 'SecurityGroupInstanceLimitExceeded', 403, InstanceId=I_STOP, SecurityGroupId=SG_C)
    expect_error(sdk, 'ModifyInstanceAttribute', 'SecurityGroupInstanceLimitExceed', 403, InstanceId=I_STOP, SecurityGroupIds=[SG_C])
    assert groups_of(admin, I_STOP) == [SG_A, SG_B]


def test_setting_duplicate_policies(ali, admin):
    sdk = TeaClient(ali)
    admin.settings(alicloud={'join_already_member': 'ok', 'leave_not_member': 'ok'})
    sdk.call('JoinSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_A)
    sdk.call('LeaveSecurityGroup', InstanceId=I_RUN, SecurityGroupId=SG_B)
    assert groups_of(admin, I_RUN) == [SG_A]
    admin.settings(alicloud={'leave_not_member': 'legacy_error'})
    expect_error(sdk, 'LeaveSecurityGroup', 'InstanceNotInSecurityGroup', 403, InstanceId=I_RUN, SecurityGroupId=SG_B)


def test_settings_are_listed_and_reset(admin):
    settings = admin.call('GET', '/settings')['alicloud']
    assert settings == alicloud.AliCloud.default_settings
    assert settings['max_security_groups_per_instance'] == 5 and settings['timestamp_window_s'] == 900
