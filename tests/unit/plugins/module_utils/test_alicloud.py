# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Alibaba Cloud: ACS3 signing against the reference vectors, error classes, reads, refusals and writes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
from urllib.parse import parse_qsl, urlsplit

import pytest

from ansible_collections.multicloud.secgroup.plugins.module_utils import _alicloud as ali
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

AK = 'LTAI5tExampleKeyId00000'
SK = 'ExampleSecret000000000000000000'
SDK_UA = 'AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2'


def sdk_headers(action, nonce='0123456789abcdef0123456789abcdef'):
    return {'accept': 'application/json', 'host': '127.0.0.1:18765', 'user-agent': SDK_UA, 'x-acs-action': action,
            'x-acs-content-sha256': ali.EMPTY_SHA256, 'x-acs-credentials-provider': 'static_ak',
            'x-acs-date': '2024-01-01T00:00:00Z', 'x-acs-signature-nonce': nonce, 'x-acs-version': '2014-05-26'}


# The V3 vectors of reference/alicloud.md section 2d, produced by the official V2.0 SDK.
@pytest.mark.parametrize('action, query, nonce, expected', [
    ('JoinSecurityGroup', {'InstanceId': 'i-bp67acfmxazb4ph1abcd', 'RegionId': 'cn-hangzhou', 'SecurityGroupId': 'sg-bp67acfmxazb4ph1wxyz'},
     '0123456789abcdef0123456789abcdef', '20832c3de1bb9582fa928fda496b777912d9586e18dbdd658320c64b4ccb43e5'),
    ('ModifyInstanceAttribute', {'InstanceId': 'i-bp67acfmxazb4ph1abcd', 'SecurityGroupIds.1': 'sg-bp67acfmxazb4ph1wxyz',
                                 'SecurityGroupIds.2': 'sg-bp1fg655nh68xyz9i1ab'},
     '0123456789abcdef0123456789abcdef', 'b68cfb4656ab27c8d62943575d521554f9e5631bea94f47c39dbe6354060eae3'),
    ('DescribeInstances', {'InstanceIds': '["i-bp67acfmxazb4ph1abcd","i-bp1hp2ji4l7hkbh3aaaa"]', 'MaxResults': '100',
                           'RegionId': 'cn-hangzhou'},
     '0123456789abcdef0123456789abcdef', '965be3089b4262e274ce6779c24b82b51d54ba98018ed50c40eb45a4c42d15d3'),
    ('ModifyInstanceAttribute', {'Description': u'a b*c~d+e/f \u4e2d\u6587', 'InstanceId': 'i-bp67acfmxazb4ph1abcd'},
     '2' * 32, 'd10933835548037e603b8b873fa61313b6784cd7a8f407bf39ec655362ebe4f7'),
])
def test_reference_vectors(action, query, nonce, expected):
    header = ali.acs3_authorization('POST', '/', query, sdk_headers(action, nonce), ali.EMPTY_SHA256, AK, SK)
    assert header == ('ACS3-HMAC-SHA256 Credential=%s,SignedHeaders=accept;host;user-agent;x-acs-action;x-acs-content-sha256;'
                      'x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=%s' % (AK, expected))


def test_reference_canonical_query_of_special_characters():
    assert ali.canonical_query({'InstanceId': 'i-bp67acfmxazb4ph1abcd', 'Description': u'a b*c~d+e/f \u4e2d\u6587'}) == (
        'Description=a%20b%2Ac~d%2Be%2Ff%20%E4%B8%AD%E6%96%87&InstanceId=i-bp67acfmxazb4ph1abcd')


@pytest.mark.parametrize('region, host', [
    ('cn-beijing', 'ecs.cn-beijing.aliyuncs.com'),
    ('cn-hangzhou', 'ecs-cn-hangzhou.aliyuncs.com'),
    ('ap-southeast-1', 'ecs.ap-southeast-1.aliyuncs.com'),
    ('cn-wuhan', 'ecs.aliyuncs.com'),
])
def test_endpoint_hosts(region, host):
    assert ali.endpoint_host(region) == host


@pytest.mark.parametrize('code, status, cls', [
    ('Throttling', 400, transport.THROTTLED),
    ('Throttling.User', 400, transport.THROTTLED),
    ('Throttling.Api.Concurrency', 503, transport.THROTTLED),
    ('Rejected.Throttling', 400, transport.THROTTLED),
    ('ServiceUnavailable', 503, transport.TRANSIENT),
    ('InternalError', 500, transport.TRANSIENT),
    ('RequestTimeout', 504, transport.TRANSIENT),
    ('SomethingNew', 502, transport.TRANSIENT),
    ('IncorrectInstanceStatus', 403, transport.IN_PROGRESS),
    ('OperationConflict', 403, transport.IN_PROGRESS),
    ('InvalidOperation.InvalidEniState', 400, transport.IN_PROGRESS),
    ('InvalidInstanceId.AlreadyExists', 403, transport.ALREADY),
    ('InvalidSecurityGroupAssociation.NotFound', 400, transport.ALREADY),
    ('InstanceNotInSecurityGroup', 403, transport.ALREADY),
    ('SignatureDoesNotMatch', 400, transport.AUTH),
    ('InvalidAccessKeyId.NotFound', 404, transport.AUTH),
    ('InvalidSecurityToken.Malformed', 400, transport.AUTH),
    ('Forbidden.RAM', 403, transport.AUTH),
    ('InstanceSecurityGroupLimitExceeded', 400, transport.QUOTA),
    ('JoinedGroupLimitExceed', 400, transport.QUOTA),
    ('InvalidInstanceId.NotFound', 404, transport.NOT_FOUND),
    ('InvalidSecurityGroupId.NotFound', 404, transport.NOT_FOUND),
    ('InstanceLastSecurityGroup', 403, transport.CONFLICT),
    ('InvalidOperation.AtLeastInOneGroup', 403, transport.CONFLICT),
    ('EnterpriseGroupLimited.MutliGroupType', 403, transport.CONFLICT),
    ('InvalidParameter.SecurityGroupIdRepeated', 404, transport.INVALID),
    ('MissingParameter.RegionId', 400, transport.INVALID),
])
def test_error_classes(code, status, cls):
    assert ali.error_class(code, status) == cls


# -- a fake HTTP session under the real Transport ------------------------------------------------

class Answer:
    def __init__(self, status=200, body=None, headers=None):
        self.status_code = status
        self.text = body if isinstance(body, str) else json.dumps(body if body is not None else {})
        self.headers = headers or {}

    def json(self):
        return json.loads(self.text)


def ok(request_id='req-ok', **body):
    return Answer(200, dict(body, RequestId=request_id))


def error(status, code, message='it failed', request_id='req-err'):
    return Answer(status, {'RequestId': request_id, 'HostId': 'ecs.aliyuncs.com', 'Code': code, 'Message': message,
                           'Recommend': 'https://api.aliyun.com/troubleshoot?q=%s' % code})


class Session:
    """Answers by action from a dict of answers or lists (popped in turn), or a function of the query."""

    def __init__(self, answers):
        self.answers = answers
        self.requests = []
        self.lock = threading.Lock()

    def request(self, method, url, headers=None, data=None, **kwargs):
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        action = headers['x-acs-action']
        with self.lock:
            self.requests.append({'method': method, 'url': url, 'action': action, 'query': query, 'headers': dict(headers),
                                  'data': data})
            answer = self.answers[action]
            if isinstance(answer, list):
                answer = answer.pop(0)
        if callable(answer):
            answer = answer(query)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self):
        pass


def provider(answers, kind='instance_ids', **params):
    defaults = dict(endpoint=None, region='cn-hangzhou', access_key=AK, secret_key=SK, security_token=None, max_concurrency=4,
                    instance_ids=None, network_interface_ids=None)
    defaults[kind] = []
    defaults.update(params)
    session = Session(answers)
    conn = transport.Transport('alicloud', max_retries=2, backoff=transport.Backoff(0.001, 0.001), session=session,
                               sleep=lambda s: None)
    return ali.AliCloud(defaults, conn, clock=lambda: 1704067200, nonce=lambda: 'n' * 32), session


def instance(iid, groups, status='Running', vpc='vpc-one'):
    return {'InstanceId': iid, 'Status': status, 'VpcAttributes': {'VpcId': vpc},
            'SecurityGroupIds': {'SecurityGroupId': list(groups)}}


def eni(eid, groups, status='InUse', vpc='vpc-one', kind='Secondary', owner='i-owner000001'):
    return {'NetworkInterfaceId': eid, 'Status': status, 'VpcId': vpc, 'Type': kind, 'InstanceId': owner,
            'SecurityGroupIds': {'SecurityGroupId': list(groups)}}


def group(sg, vpc='vpc-one', kind='normal'):
    return {'SecurityGroupId': sg, 'VpcId': vpc, 'SecurityGroupType': kind}


def describe_instances_from(instances):
    def answer(query):
        ids = json.loads(query['InstanceIds'])
        return ok(Instances={'Instance': [i for i in instances if i['InstanceId'] in ids]}, TotalCount=len(ids))
    return answer


# -- requests ------------------------------------------------------------------------------------

def test_requests_are_signed_posts_to_the_regional_endpoint_with_the_query_only():
    cloud, session = provider({'DescribeInstances': describe_instances_from([instance('i-aaaaaaaa01', ['sg-aaaaaaaa01'])])})
    cloud.read(['i-aaaaaaaa01'])
    sent = session.requests[0]
    assert sent['method'] == 'POST' and sent['data'] == b''
    assert sent['url'].startswith('https://ecs-cn-hangzhou.aliyuncs.com/?InstanceIds=%5B%22i-aaaaaaaa01%22%5D&MaxResults=100&RegionId=cn-hangzhou')
    assert sent['query'] == {'InstanceIds': '["i-aaaaaaaa01"]', 'MaxResults': '100', 'RegionId': 'cn-hangzhou'}
    headers = sent['headers']
    assert headers['x-acs-date'] == '2024-01-01T00:00:00Z' and headers['x-acs-signature-nonce'] == 'n' * 32
    assert headers['x-acs-version'] == '2014-05-26' and headers['host'] == 'ecs-cn-hangzhou.aliyuncs.com'
    assert 'x-acs-security-token' not in headers
    expected = ali.acs3_authorization('POST', '/', sent['query'], dict((k, v) for k, v in headers.items() if k != 'Authorization'),
                                      ali.EMPTY_SHA256, AK, SK)
    assert headers['Authorization'] == expected


def test_sts_credentials_send_and_sign_the_token():
    cloud, session = provider({'DescribeInstances': describe_instances_from([])}, security_token='sts-token-value',
                              endpoint='http://127.0.0.1:8080/')
    cloud.read(['i-aaaaaaaa01'])
    headers = session.requests[0]['headers']
    assert headers['x-acs-security-token'] == 'sts-token-value' and headers['x-acs-accesskey-id'] == AK
    assert 'x-acs-security-token' in headers['Authorization'].split('SignedHeaders=')[1].split(',')[0].split(';')
    assert session.requests[0]['url'].startswith('http://127.0.0.1:8080/?') and headers['host'] == '127.0.0.1:8080'


# -- reads ---------------------------------------------------------------------------------------

def test_instances_are_read_100_a_call_and_the_unknown_reported():
    ids = ['i-bulk%06d' % n for n in range(250)]
    known = [instance(i, ['sg-aaaaaaaa01']) for i in ids if not i.endswith('7')]
    cloud, session = provider({'DescribeInstances': describe_instances_from(known)})
    current, missing = cloud.read(ids)
    assert sorted(len(json.loads(r['query']['InstanceIds'])) for r in session.requests) == [50, 100, 100]
    assert missing == [i for i in ids if i.endswith('7')]
    assert len(current) == 225 and current[ids[0]] == ['sg-aaaaaaaa01']


def test_network_interfaces_are_read_with_a_repeat_list_and_token_paging():
    ids = ['eni-aaaaaaaa%02d' % n for n in range(12)]
    pages = [ok(NetworkInterfaceSets={'NetworkInterfaceSet': [eni(e, ['sg-aaaaaaaa01']) for e in ids[:10]]}, NextToken='tok'),
             ok(NetworkInterfaceSets={'NetworkInterfaceSet': [eni(e, ['sg-aaaaaaaa01']) for e in ids[10:11]]}, NextToken='')]
    cloud, session = provider({'DescribeNetworkInterfaces': pages}, kind='network_interface_ids')
    current, missing = cloud.read(ids)
    assert missing == [ids[11]] and len(current) == 11
    first, second = session.requests[0]['query'], session.requests[1]['query']
    assert first['NetworkInterfaceId.1'] == ids[0] and first['NetworkInterfaceId.12'] == ids[11]
    assert first['MaxResults'] == '100' and 'NextToken' not in first and second['NextToken'] == 'tok'


@pytest.mark.parametrize('body, what', [
    ({'Instances': {}}, 'Instances.Instance list'),
    ({'Instances': {'Instance': [{'InstanceId': 'i-aaaaaaaa01', 'SecurityGroupIds': {}}]}}, 'SecurityGroupIds.SecurityGroupId list'),
])
def test_a_malformed_answer_is_an_error_not_a_traceback(body, what):
    cloud, dummy = provider({'DescribeInstances': ok(**body)})
    with pytest.raises(transport.ProviderError) as err:
        cloud.read(['i-aaaaaaaa01'])
    assert err.value.code == 'MalformedResponse' and what in err.value.message


def test_errors_carry_code_message_request_id_and_status_and_auth_is_not_retried():
    cloud, session = provider({'DescribeInstances': error(400, 'SignatureDoesNotMatch', 'server string to sign is:x', 'req-42')})
    with pytest.raises(transport.ProviderError) as err:
        cloud.read(['i-aaaaaaaa01'])
    assert err.value.to_dict() == {'provider': 'alicloud', 'action': 'DescribeInstances', 'code': 'SignatureDoesNotMatch',
                                   'message': 'server string to sign is:x', 'request_id': 'req-42', 'http_status': 400}
    assert len(session.requests) == 1


def test_throttling_and_server_errors_on_reads_are_retried():
    answers = [error(400, 'Throttling.User'), error(503, 'ServiceUnavailable'), describe_instances_from([])]
    cloud, session = provider({'DescribeInstances': answers})
    assert cloud.read(['i-aaaaaaaa01']) == ({}, ['i-aaaaaaaa01'])
    assert len(session.requests) == 3


def test_a_next_token_that_comes_back_is_an_error_not_a_loop():
    page = ok(NetworkInterfaceSets={'NetworkInterfaceSet': []}, NextToken='same')
    cloud, session = provider({'DescribeNetworkInterfaces': [page, page]}, kind='network_interface_ids')
    with pytest.raises(transport.ProviderError) as err:
        cloud.read(['eni-aaaaaaaa01'])
    assert err.value.code == 'MalformedResponse' and 'NextToken' in err.value.message and len(session.requests) == 2


def test_an_answer_that_is_not_json_is_reported_with_its_status():
    cloud, dummy = provider({'DescribeInstances': Answer(502, '<html>bad gateway</html>')})
    with pytest.raises(transport.ProviderError) as err:
        cloud.read(['i-aaaaaaaa01'])
    assert err.value.code == 'HTTP502' and err.value.error_class == transport.TRANSIENT and 'bad gateway' in err.value.message


def test_groups_are_described_with_those_the_targets_have_and_the_unknown_reported():
    cloud, session = provider({
        'DescribeInstances': describe_instances_from([instance('i-aaaaaaaa01', ['sg-kept000001'])]),
        'DescribeSecurityGroups': ok(SecurityGroups={'SecurityGroup': [group('sg-kept000001'), group('sg-new0000001')]},
                                     NextToken=''),
    })
    cloud.read(['i-aaaaaaaa01'])
    assert cloud.missing_security_groups(['sg-new0000001', 'sg-gone000001']) == ['sg-gone000001']
    query = session.requests[-1]['query']
    assert json.loads(query['SecurityGroupIds']) == ['sg-new0000001', 'sg-gone000001', 'sg-kept000001']
    assert query['MaxResults'] == '100' and query['RegionId'] == 'cn-hangzhou'


# -- refusals ------------------------------------------------------------------------------------

def target(tid, before, after):
    return {'target_id': tid, 'before': before, 'after': after, 'added': [sg for sg in after if sg not in before],
            'removed': [sg for sg in before if sg not in after]}


def test_refusals_for_instances():
    cloud, dummy = provider({
        'DescribeInstances': describe_instances_from([
            instance('i-starting01', ['sg-aaaaaaaa01'], status='Starting'),
            instance('i-other0vpc1', ['sg-aaaaaaaa01'], vpc='vpc-two'),
            instance('i-mixed00001', ['sg-aaaaaaaa01']),
            instance('i-fine000001', ['sg-aaaaaaaa01']),
            instance('i-stilled001', ['sg-aaaaaaaa01'], status='Stopping'),
            instance('i-oddstate01', ['sg-aaaaaaaa01'], status='Expired'),
        ]),
        'DescribeSecurityGroups': ok(SecurityGroups={'SecurityGroup': [
            group('sg-aaaaaaaa01'), group('sg-bbbbbbbb01'), group('sg-ent0000001', kind='enterprise')]}),
    })
    cloud.read(['i-starting01', 'i-other0vpc1', 'i-mixed00001', 'i-fine000001', 'i-stilled001', 'i-oddstate01'])
    assert cloud.missing_security_groups(['sg-bbbbbbbb01', 'sg-ent0000001']) == []
    refused = cloud.refusals([
        target('i-starting01', ['sg-aaaaaaaa01'], ['sg-aaaaaaaa01', 'sg-bbbbbbbb01']),
        target('i-other0vpc1', ['sg-aaaaaaaa01'], ['sg-aaaaaaaa01', 'sg-bbbbbbbb01']),
        target('i-mixed00001', ['sg-aaaaaaaa01'], ['sg-aaaaaaaa01', 'sg-ent0000001']),
        target('i-fine000001', ['sg-aaaaaaaa01'], ['sg-aaaaaaaa01', 'sg-bbbbbbbb01']),
        # A target that does not change is never refused, whatever its state.
        target('i-stilled001', ['sg-aaaaaaaa01'], ['sg-aaaaaaaa01']),
        target('i-oddstate01', ['sg-aaaaaaaa01'], ['sg-aaaaaaaa01', 'sg-bbbbbbbb01']),
    ])
    # Refusals come after await_ready: a state that ends on its own still there is refused as such; one that does not end too.
    assert [tid for tid, dummy in refused] == ['i-starting01', 'i-other0vpc1', 'i-mixed00001', 'i-oddstate01']
    reasons = dict(refused)
    assert reasons['i-oddstate01'] == ('instance i-oddstate01 is Expired; Alibaba Cloud changes security groups only while the '
                                       'instance is Running or Stopped (IncorrectInstanceStatus)')
    assert reasons['i-other0vpc1'] == ('is in VPC vpc-two, and security group sg-bbbbbbbb01 is in vpc-one; only groups of the '
                                       'same VPC can be joined (InvalidInstanceId.Mismatch)')
    assert 'both normal and enterprise' in reasons['i-mixed00001'] and 'sg-ent0000001: enterprise' in reasons['i-mixed00001']
    assert reasons['i-starting01'] == ('instance i-starting01 is still Starting after waiting wait_timeout (300 s); Alibaba Cloud '
                                       'changes security groups only while the instance is Running or Stopped (IncorrectInstanceStatus)')
    assert cloud.warnings == []


def test_refusals_for_network_interfaces():
    cloud, session = provider({
        'DescribeNetworkInterfaces': ok(NetworkInterfaceSets={'NetworkInterfaceSet': [
            eni('eni-primary001', ['sg-aaaaaaaa01'], kind='Primary', owner='i-owner000001'),
            eni('eni-detach001', ['sg-aaaaaaaa01'], status='Detaching', owner=''),
            eni('eni-free00001', ['sg-aaaaaaaa01'], status='Available', vpc='vpc-two', owner=''),
            eni('eni-delete001', ['sg-aaaaaaaa01'], status='Deleting', owner=''),
            eni('eni-onstart01', ['sg-aaaaaaaa01'], owner='i-starting01'),
            eni('eni-ongone001', ['sg-aaaaaaaa01'], owner='i-released01'),
        ]}),
        'DescribeInstances': describe_instances_from([instance('i-starting01', ['sg-aaaaaaaa01'], status='Starting')]),
        'DescribeSecurityGroups': ok(SecurityGroups={'SecurityGroup': [group('sg-aaaaaaaa01'), group('sg-bbbbbbbb01')]}),
    }, kind='network_interface_ids')
    ids = ['eni-primary001', 'eni-detach001', 'eni-free00001', 'eni-delete001', 'eni-onstart01', 'eni-ongone001']
    cloud.read(ids)
    cloud.missing_security_groups(['sg-bbbbbbbb01'])
    refused = dict(cloud.refusals([
        # A primary ENI is refused even when nothing would change.
        target('eni-primary001', ['sg-aaaaaaaa01'], ['sg-aaaaaaaa01']),
    ] + [target(e, ['sg-aaaaaaaa01'], ['sg-aaaaaaaa01', 'sg-bbbbbbbb01']) for e in ids[1:]]))
    assert sorted(refused) == ['eni-delete001', 'eni-detach001', 'eni-free00001', 'eni-ongone001', 'eni-onstart01', 'eni-primary001']
    assert refused['eni-onstart01'].startswith('instance i-starting01 (network interface eni-onstart01 is attached to it) is still '
                                               'Starting after waiting wait_timeout (300 s)')
    assert refused['eni-primary001'] == ("is the primary network interface of instance i-owner000001: its security groups are the "
                                         "instance's; use instance_ids: [i-owner000001] instead")
    assert refused['eni-delete001'] == ('network interface eni-delete001 is Deleting; Alibaba Cloud changes security groups only '
                                        'while the network interface is Available or InUse (InvalidOperation.InvalidEniState)')
    assert refused['eni-ongone001'].startswith('instance i-released01 (network interface eni-ongone001 is attached to it) is not found')
    assert 'InvalidOperation.VpcMismatch' in refused['eni-free00001']
    # The instances of the ENIs to change are read once, together: only those attached.
    reads = [json.loads(r['query']['InstanceIds']) for r in session.requests if r['action'] == 'DescribeInstances']
    assert reads == [['i-released01', 'i-starting01']]
    assert cloud.warnings == []


# -- writes --------------------------------------------------------------------------------------

@pytest.mark.parametrize('kind, op, action, query', [
    ('instance_ids', {'action': 'bind', 'security_group_ids': ['sg-bbbbbbbb01'], 'target_ids': ['i-aaaaaaaa01']},
     'JoinSecurityGroup', {'RegionId': 'cn-hangzhou', 'SecurityGroupId': 'sg-bbbbbbbb01', 'InstanceId': 'i-aaaaaaaa01'}),
    ('instance_ids', {'action': 'unbind', 'security_group_ids': ['sg-bbbbbbbb01'], 'target_ids': ['i-aaaaaaaa01']},
     'LeaveSecurityGroup', {'RegionId': 'cn-hangzhou', 'SecurityGroupId': 'sg-bbbbbbbb01', 'InstanceId': 'i-aaaaaaaa01'}),
    ('network_interface_ids', {'action': 'bind', 'security_group_ids': ['sg-bbbbbbbb01'], 'target_ids': ['eni-aaaaaaaa01']},
     'JoinSecurityGroup', {'RegionId': 'cn-hangzhou', 'SecurityGroupId': 'sg-bbbbbbbb01', 'NetworkInterfaceId': 'eni-aaaaaaaa01'}),
    ('instance_ids', {'action': 'set', 'security_group_ids': ['sg-bbbbbbbb01', 'sg-cccccccc01'], 'target_ids': ['i-aaaaaaaa01']},
     'ModifyInstanceAttribute', {'InstanceId': 'i-aaaaaaaa01', 'SecurityGroupIds.1': 'sg-bbbbbbbb01',
                                 'SecurityGroupIds.2': 'sg-cccccccc01'}),
    ('network_interface_ids', {'action': 'set', 'security_group_ids': ['sg-bbbbbbbb01'], 'target_ids': ['eni-aaaaaaaa01']},
     'ModifyNetworkInterfaceAttribute', {'RegionId': 'cn-hangzhou', 'NetworkInterfaceId': 'eni-aaaaaaaa01',
                                         'SecurityGroupId.1': 'sg-bbbbbbbb01'}),
])
def test_writes(kind, op, action, query):
    cloud, session = provider({action: ok('req-write')}, kind=kind)
    assert cloud.apply(op) == ['req-write']
    assert [(r['action'], r['query']) for r in session.requests] == [(action, query)]


@pytest.mark.parametrize('code, status, sends', [
    ('Throttling.User', 400, 3),          # retried up to max_retries (2)
    ('IncorrectInstanceStatus', 403, 3),
    ('InvalidInstanceId.AlreadyExists', 403, 1),   # already so: never re-sent; it confirms the one target
    ('ServiceUnavailable', 503, 1),
    ('InstanceLastSecurityGroup', 403, 1),
])
def test_write_errors_are_retried_only_when_safe(code, status, sends):
    cloud, session = provider({'JoinSecurityGroup': error(status, code)})
    with pytest.raises(transport.ProviderError) as err:
        cloud.apply({'action': 'bind', 'security_group_ids': ['sg-bbbbbbbb01'], 'target_ids': ['i-aaaaaaaa01']})
    assert err.value.code == code and err.value.http_status == status and err.value.request_id == 'req-err'
    assert len(session.requests) == sends


def test_x_acs_retry_after_is_passed_to_the_transport():
    throttled = error(400, 'Throttling.User')
    throttled.headers = {'x-acs-retry-after': '3'}
    slept = []
    cloud, dummy = provider({'JoinSecurityGroup': [throttled, ok('req-write')]})
    cloud.transport.sleep = slept.append
    cloud.transport.backoff = transport.Backoff(0.001, 10.0)   # the wait asked for is capped at retry_max_delay
    assert cloud.apply({'action': 'bind', 'security_group_ids': ['sg-bbbbbbbb01'], 'target_ids': ['i-aaaaaaaa01']}) == ['req-write']
    assert slept == [3]


@pytest.mark.parametrize('headers, seconds', [({'x-acs-retry-after': '7'}, 7), ({'x-acs-retry-after': '0'}, None),
                                              ({'x-acs-retry-after': '-1'}, None), ({'x-acs-retry-after': 'soon'}, None), ({}, None)])
def test_retry_after(headers, seconds):
    assert ali.retry_after(headers) == seconds
