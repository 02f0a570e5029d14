# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tencent Cloud: TC3 signing against the reference vectors, and error classes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.multicloud.secgroup.plugins.module_utils import _tencentcloud as tencent
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

SECRET_ID = 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE'
SECRET_KEY = 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE'


def signature(header):
    return header.rsplit('Signature=', 1)[1]


# The vectors of reference/tencentcloud.md section 2, computed by the official SDK.
@pytest.mark.parametrize('service, host, ts, body, expected', [
    ('cvm', 'cvm.tencentcloudapi.com', 1700000000,
     '{"SecurityGroupIds": ["sg-9id3l839"], "InstanceIds": ["ins-2zvpghhc", "ins-915zrb0p"]}',
     '97f89838d51c7f13f02e35c168a0459f77b85450103303f876873b35b01daa0d'),
    ('cvm', 'cvm.intl.tencentcloudapi.com', 1735689599,
     '{"InstanceIds": ["ins-2zvpghhc"], "Offset": 0, "Limit": 100}',
     '1fb8acbc78e5943e7b04c452a05fa2860c0d3399883c837e4db70c2a1a941f24'),
    ('cvm', 'cvm.ap-guangzhou.tencentcloudapi.com', 1551113065,
     '{"SecurityGroupIds": ["sg-9id3l839"], "InstanceIds": ["ins-2zvpghhc"]}',
     'c5ccdf911d313a785d5a2aeab4085b6c6b57c95785103a4271798b3fd81bd810'),
    ('vpc', 'vpc.tencentcloudapi.com', 1700000000, '{"SecurityGroupIds": ["sg-9id3l839"]}',
     '3eea47dad20866c3d64d817ee9ee5d00d94475254d578fce1078945c6e75bcb3'),
    ('cvm', 'cvm.tencentcloudapi.com', 1700000000,
     '{"InstanceIds": ["ins-2zvpghhc"], "SecurityGroups": ["sg-9id3l839", "sg-5275dorp"]}',
     '2e3406d8c34c4f659e2e24962a3c97076adf5c9fe3263cbb44e9bd4baf4be3c6'),
])
def test_reference_vectors(service, host, ts, body, expected):
    header = tencent.tc3_authorization(SECRET_ID, SECRET_KEY, service, host, ts, body.encode('utf-8'))
    assert signature(header) == expected
    assert header.startswith('TC3-HMAC-SHA256 Credential=%s/' % SECRET_ID)
    assert ', SignedHeaders=content-type;host, Signature=' in header


def test_reference_get_vector_and_published_doc_example():
    header = tencent.tc3_authorization(SECRET_ID, SECRET_KEY, 'cvm', 'cvm.tencentcloudapi.com', 1700000000, b'',
                                       content_type='application/x-www-form-urlencoded', method='GET',
                                       query='SecurityGroupIds.0=sg-9id3l839&InstanceIds.0=ins-2zvpghhc')
    assert signature(header) == '48e03a06988aeb406e3309c12eed826f8e80064eca7d753df48a0484a5993738'
    body = '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    header = tencent.tc3_authorization(SECRET_ID, SECRET_KEY, 'cvm', 'cvm.tencentcloudapi.com', 1551113065,
                                       body.encode('utf-8'), content_type='application/json; charset=utf-8')
    assert signature(header) == '72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168'


def test_scope_date_is_the_utc_date():
    header = tencent.tc3_authorization(SECRET_ID, SECRET_KEY, 'cvm', 'h', 1735689599, b'{}')
    assert 'Credential=%s/2024-12-31/cvm/tc3_request' % SECRET_ID in header
    header = tencent.tc3_authorization(SECRET_ID, SECRET_KEY, 'cvm', 'h', 1735689600, b'{}')
    assert 'Credential=%s/2025-01-01/cvm/tc3_request' % SECRET_ID in header


@pytest.mark.parametrize('code, cls', [
    ('RequestLimitExceeded', transport.THROTTLED),
    ('RequestLimitExceeded.UinLimitExceeded', transport.THROTTLED),
    ('MutexOperation.TaskRunning', transport.IN_PROGRESS),
    ('OperationDenied.InstanceOperationInProgress', transport.IN_PROGRESS),
    ('InternalError', transport.TRANSIENT),
    ('InternalError.Something', transport.TRANSIENT),
    ('FailedOperation.SecurityGroupActionFailed', transport.AMBIGUOUS),
    ('AuthFailure.SignatureFailure', transport.AUTH),
    ('LimitExceeded.AssociateUSGLimitExceeded', transport.QUOTA),
    ('InvalidSecurityGroupId.NotFound', transport.NOT_FOUND),
    ('InvalidParameterValue.LimitExceeded', transport.INVALID),
    ('UnsupportedOperation.InstanceStateIsolating', transport.INVALID),
    ('UnsupportedOperation.InstanceStatePending', transport.IN_PROGRESS),
])
def test_error_classes(code, cls):
    assert tencent.error_class(code) == cls


class RecordingTransport:
    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def call(self, call):
        request = call.build()
        self.calls.append((call.action, json.loads(request['data']), request['headers'], request['url'], call.write))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def map(self, func, items, max_workers):
        assert max_workers == 8
        out = []
        for item in items:
            try:
                out.append(func(item))
            except transport.ProviderError as exc:
                out.append(exc)
        return out


def provider(answers, **params):
    defaults = dict(endpoint=None, region='ap-guangzhou', secret_id=SECRET_ID, secret_key=SECRET_KEY, security_token=None,
                    max_concurrency=8)
    defaults.update(params)
    conn = RecordingTransport(answers)
    return tencent.TencentCloud(defaults, conn, clock=lambda: 1700000000, sleep=lambda s: None), conn


def test_reads_go_in_pages_of_100_with_limit_100_and_report_missing():
    ids = ['ins-%08d' % n for n in range(150)]
    page1 = {'InstanceSet': [{'InstanceId': i, 'SecurityGroupIds': ['sg-00000001']} for i in ids[:100]]}
    page2 = {'InstanceSet': [{'InstanceId': i, 'SecurityGroupIds': []} for i in ids[100:149]]}
    cloud, conn = provider([page1, page2])
    current, missing = cloud.read(ids)
    assert missing == [ids[149]] and len(current) == 149
    assert [len(c[1]['InstanceIds']) for c in conn.calls] == [100, 50]
    assert all(c[1]['Limit'] == 100 for c in conn.calls)
    action, dummy, headers, url, write = conn.calls[0]
    assert url == 'https://cvm.ap-guangzhou.tencentcloudapi.com/' and not write
    assert headers['X-TC-Language'] == 'en-US' and headers['X-TC-Region'] == 'ap-guangzhou'
    assert headers['Host'] == 'cvm.ap-guangzhou.tencentcloudapi.com'


def test_endpoint_override_signs_host_with_port_and_token_is_sent():
    cloud, conn = provider([{'InstanceSet': []}], endpoint='http://127.0.0.1:8080', security_token='tok')
    cloud.read(['ins-00000001'])
    headers = conn.calls[0][2]
    assert conn.calls[0][3] == 'http://127.0.0.1:8080/'
    assert headers['Host'] == '127.0.0.1:8080' and headers['X-TC-Token'] == 'tok'
    assert headers['Authorization'] == tencent.tc3_authorization(
        SECRET_ID, SECRET_KEY, 'cvm', '127.0.0.1:8080', 1700000000, json.dumps(conn.calls[0][1]).encode('utf-8'))


def test_unknown_group_in_a_batch_is_found_by_asking_one_by_one():
    not_found = transport.ProviderError('tencentcloud', 'DescribeSecurityGroups', 'ResourceNotFound', 'x',
                                        error_class=transport.NOT_FOUND)
    cloud, conn = provider([not_found, {'SecurityGroupSet': [{'SecurityGroupId': 'sg-00000001'}]}, not_found])
    assert cloud.missing_security_groups(['sg-00000001', 'sg-00000002']) == ['sg-00000002']
    assert [c[1]['SecurityGroupIds'] for c in conn.calls] == [['sg-00000001', 'sg-00000002'], ['sg-00000001'], ['sg-00000002']]
    assert conn.calls[0][1]['Limit'] == '100'     # the VPC API takes strings


def test_writes_map_to_the_three_actions():
    ok = {'RequestId': 'r'}
    cloud, conn = provider([ok, ok, ok])
    cloud.apply({'action': 'bind', 'security_group_ids': ['sg-00000001'], 'target_ids': ['ins-00000001']})
    cloud.apply({'action': 'unbind', 'security_group_ids': ['sg-00000001'], 'target_ids': ['ins-00000001']})
    cloud.apply({'action': 'set', 'security_group_ids': ['sg-00000002', 'sg-00000001'], 'target_ids': ['ins-00000001']})
    assert [(c[0], c[1], c[4]) for c in conn.calls] == [
        ('AssociateSecurityGroups', {'SecurityGroupIds': ['sg-00000001'], 'InstanceIds': ['ins-00000001']}, True),
        ('DisassociateSecurityGroups', {'SecurityGroupIds': ['sg-00000001'], 'InstanceIds': ['ins-00000001']}, True),
        ('ModifyInstancesAttribute', {'InstanceIds': ['ins-00000001'], 'SecurityGroups': ['sg-00000002', 'sg-00000001']}, True)]


def test_settle_waits_for_our_request_then_reads_the_lists():
    cloud, conn = provider([
        {'RequestId': 'ours'},
        {'InstanceSet': [{'InstanceId': 'ins-00000001', 'LatestOperationState': 'SUCCESS', 'LatestOperationRequestId': 'older',
                          'SecurityGroupIds': []}]},
        {'InstanceSet': [{'InstanceId': 'ins-00000001', 'LatestOperationState': 'OPERATING', 'LatestOperationRequestId': 'ours',
                          'SecurityGroupIds': []}]},
        {'InstanceSet': [{'InstanceId': 'ins-00000001', 'LatestOperationState': 'SUCCESS', 'LatestOperationRequestId': 'ours',
                          'SecurityGroupIds': ['sg-00000001']}]},
    ])
    cloud.apply({'action': 'bind', 'security_group_ids': ['sg-00000001'], 'target_ids': ['ins-00000001']})
    assert cloud.settle({'ins-00000001': ['sg-00000001']}, deadline=float('inf')) == {'ins-00000001': ['sg-00000001']}
    assert len(conn.calls) == 4


def test_settle_gives_up_at_the_deadline():
    busy = {'InstanceSet': [{'InstanceId': 'ins-00000001', 'LatestOperationState': 'OPERATING'}]}
    cloud, dummy = provider([busy] * 10)
    cloud.monotonic = lambda: 100.0
    with pytest.raises(transport.ProviderError) as err:
        cloud.settle({'ins-00000001': []}, deadline=100.2)
    assert err.value.code == 'WaitTimeout' and 'ins-00000001' in err.value.message


def test_settle_accepts_the_expected_list_when_the_cloud_reports_another_request_id():
    cloud, conn = provider([
        {'RequestId': 'ours'},
        {'InstanceSet': [{'InstanceId': 'ins-00000001', 'LatestOperationState': 'SUCCESS', 'LatestOperationRequestId': 'task-9',
                          'SecurityGroupIds': []}]},
        {'InstanceSet': [{'InstanceId': 'ins-00000001', 'LatestOperationState': 'SUCCESS', 'LatestOperationRequestId': 'task-9',
                          'SecurityGroupIds': ['sg-00000001']}]},
    ])
    cloud.apply({'action': 'bind', 'security_group_ids': ['sg-00000001'], 'target_ids': ['ins-00000001']})
    assert cloud.settle({'ins-00000001': ['sg-00000001']}, deadline=float('inf')) == {'ins-00000001': ['sg-00000001']}
    assert len(conn.calls) == 3


def test_settle_reports_a_failed_operation_with_its_message():
    cloud, dummy = provider([
        {'RequestId': 'ours'},
        {'InstanceSet': [{'InstanceId': 'ins-00000001', 'LatestOperationState': 'FAILED', 'LatestOperationRequestId': 'ours',
                          'LatestOperation': 'AssociateSecurityGroups', 'LatestOperationErrorMsg': 'disk busy'}]},
    ])
    cloud.apply({'action': 'bind', 'security_group_ids': ['sg-00000001'], 'target_ids': ['ins-00000001']})
    with pytest.raises(transport.ProviderError) as err:
        cloud.settle({'ins-00000001': ['sg-00000001']}, deadline=float('inf'))
    assert err.value.code == 'LatestOperationState.FAILED' and 'disk busy' in err.value.message
    assert err.value.request_id == 'ours' and err.value.action == 'AssociateSecurityGroups'
