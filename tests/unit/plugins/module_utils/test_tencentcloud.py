# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tencent Cloud: TC3 signing against the reference vectors, and error classes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys
import time

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _tencentcloud as tencent
from ansible_collections.multicloud.secgroup.plugins.module_utils._tencentcloud import TencentCloud
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport
from ansible_collections.multicloud.secgroup.plugins.modules import tencentcloud_sg_binding

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
    # The VPC API's codes of the network-interface calls.
    ('UnsupportedOperation.MutexOperationTaskRunning', transport.IN_PROGRESS),
    ('OperationDenied.MutexTaskRunning', transport.IN_PROGRESS),
    ('InvalidNetworkInterfaceId.NotFound', transport.NOT_FOUND),
    ('UnsupportedOperation.InvalidState', transport.INVALID),
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
    defaults = dict(endpoint=None, vpc_endpoint=None, region='ap-guangzhou', secret_id=SECRET_ID, secret_key=SECRET_KEY,
                    security_token=None, max_concurrency=8)
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


def test_network_interface_writes_go_to_the_vpc_host_with_the_eni_calls():
    ok = {'RequestId': 'r'}
    cloud, conn = provider([ok, ok, ok], network_interface_ids=['eni-00000001'], vpc_endpoint='https://vpc.internal.example')
    assert cloud.completion == 'eventual' and cloud.constraints.set_batch_size == 1 and cloud.constraints.batch_size == 100
    assert tencent.TencentCloud.completion == 'task'        # the class keeps the instances' (its wait options)
    cloud.apply({'action': 'bind', 'security_group_ids': ['sg-00000001'], 'target_ids': ['eni-00000001', 'eni-00000002']})
    cloud.apply({'action': 'unbind', 'security_group_ids': ['sg-00000001'], 'target_ids': ['eni-00000001']})
    cloud.apply({'action': 'set', 'security_group_ids': ['sg-00000002', 'sg-00000001'], 'target_ids': ['eni-00000001']})
    assert [(c[0], c[1], c[3], c[4]) for c in conn.calls] == [
        ('AssociateNetworkInterfaceSecurityGroups', {'NetworkInterfaceIds': ['eni-00000001', 'eni-00000002'], 'SecurityGroupIds': ['sg-00000001']},
         'https://vpc.internal.example/', True),
        ('DisassociateNetworkInterfaceSecurityGroups', {'NetworkInterfaceIds': ['eni-00000001'], 'SecurityGroupIds': ['sg-00000001']},
         'https://vpc.internal.example/', True),
        ('ModifyNetworkInterfaceAttribute', {'NetworkInterfaceId': 'eni-00000001', 'SecurityGroupIds': ['sg-00000002', 'sg-00000001']},
         'https://vpc.internal.example/', True)]


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


def instance(iid='ins-00000001', state='SUCCESS', request='older', groups=(), **extra):
    item = {'InstanceId': iid, 'InstanceState': 'RUNNING', 'LatestOperationState': state, 'LatestOperationRequestId': request,
            'SecurityGroupIds': list(groups)}
    item.update(extra)
    return {'InstanceSet': [item]}


BIND = {'action': 'bind', 'security_group_ids': ['sg-00000001'], 'target_ids': ['ins-00000001']}


def test_settle_waits_for_our_request_then_reads_the_lists():
    cloud, conn = provider([
        instance(request='older'),
        {'RequestId': 'ours'},
        instance(request='older'),
        instance(state='OPERATING', request='ours'),
        instance(request='ours', groups=['sg-00000001']),
    ])
    cloud.read(['ins-00000001'])
    cloud.apply(BIND)
    assert cloud.settle({'ins-00000001': ['sg-00000001']}, deadline=float('inf')) == {'ins-00000001': ['sg-00000001']}
    assert len(conn.calls) == 5


def test_settle_accepts_the_expected_list_when_the_cloud_reports_another_request_id():
    cloud, conn = provider([
        instance(request='task-9'),
        {'RequestId': 'ours'},
        instance(request='task-9'),
        instance(request='task-9', groups=['sg-00000001']),
    ])
    cloud.read(['ins-00000001'])
    cloud.apply(BIND)
    assert cloud.settle({'ins-00000001': ['sg-00000001']}, deadline=float('inf')) == {'ins-00000001': ['sg-00000001']}
    assert len(conn.calls) == 4


def test_settle_reports_a_failed_operation_with_its_message():
    cloud, dummy = provider([
        instance(request='older'),
        {'RequestId': 'ours'},
        instance(state='FAILED', request='ours', LatestOperation='AssociateSecurityGroups', LatestOperationErrorMsg='disk busy'),
    ])
    cloud.read(['ins-00000001'])
    cloud.apply(BIND)
    with pytest.raises(transport.ProviderError) as err:
        cloud.settle({'ins-00000001': ['sg-00000001']}, deadline=float('inf'))
    assert err.value.code == 'LatestOperationState.FAILED' and 'disk busy' in err.value.message
    assert err.value.request_id == 'ours' and err.value.action == 'AssociateSecurityGroups'


# -- issue 8, item 1: an old FAILED operation is not ours ----------------------------------------

STALE_FAILURE = dict(state='FAILED', request='stop-last-week', LatestOperation='StopInstances',
                     LatestOperationErrorMsg='stop failed last week')


def test_an_old_failed_operation_is_not_taken_for_ours_after_a_write_of_unknown_outcome():
    # Before the fix: "StopInstances failed ... stop failed last week" (any FAILED state was ours when no RequestId came back).
    reset = transport.ProviderError('tencentcloud', 'AssociateSecurityGroups', 'ConnectionError', 'reset',
                                    error_class=transport.AMBIGUOUS)
    cloud, conn = provider([instance(**STALE_FAILURE), reset] + [instance(**STALE_FAILURE)] * 7)
    clock = FakeClock()
    cloud.monotonic, cloud.sleep = clock.monotonic, clock.sleep
    cloud.read(['ins-00000001'])
    with pytest.raises(transport.ProviderError):
        cloud.apply(BIND)
    # Decided from what the instance shows once the operation state cannot be lagging any more: not operating,
    # without the group (the engine re-plans and binds it).
    assert cloud.settle({'ins-00000001': ['sg-00000001']}, deadline=float('inf')) == {'ins-00000001': []}
    # Polls at 0, 0 (SETTLE_FIRST), 0.5, 1.5, 3.5, 7.5 and 12.5 s: the seventh is past the lag.
    assert clock.now >= tencent.OPERATION_STATE_LAG_S and len(conn.calls) == 9


def test_a_failed_operation_of_someone_else_after_ours_is_not_ours():
    cloud, dummy = provider([
        instance(request='older'),
        {'RequestId': 'ours'},
        instance(state='FAILED', request='theirs', LatestOperation='StopInstances', groups=['sg-00000001']),
    ])
    cloud.read(['ins-00000001'])
    cloud.apply(BIND)
    assert cloud.settle({'ins-00000001': ['sg-00000001']}, deadline=float('inf')) == {'ins-00000001': ['sg-00000001']}


class FakeClock:
    """monotonic() and sleep() of a clock that only moves when slept on."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class FakeTencent:
    """A scripted CVM behind RespondingTransport: writes are asynchronous (OPERATING for one read, as in the
    emulator), faults raise before anything is applied, on_read(fake, reads) may change things as another client."""

    def __init__(self, instances, groups=('sg-00000001', 'sg-00000002', 'sg-00000003'), clock=None):
        self.instances = instances     # id -> dict(groups, state, op, opstate, request, msg, reads_left)
        self.groups = set(groups)
        self.faults = {}               # action -> [exception, ...]
        self.calls = []
        self.reads = 0
        self.on_read = None
        self.clock = clock
        self.read_times = []
        self.maps = []
        self.sleep = clock.sleep if clock else (lambda s: None)
        self.backoff = transport.Backoff(rand=lambda: 0.0)

    def write(self, action, iids, change, request='ours'):
        for iid in iids:
            ins = self.instances[iid]
            ins.update(groups=change(ins['groups']), op=action, opstate='OPERATING', request=request, reads_left=1, msg='')

    def respond(self, action, body):
        self.calls.append((action, body))
        if self.faults.get(action):
            raise self.faults[action].pop(0)
        if action == 'DescribeInstances':
            self.reads += 1
            if self.clock:
                self.read_times.append(self.clock.now)
            if self.on_read:
                self.on_read(self, self.reads)
            out = []
            for iid in body['InstanceIds']:
                ins = self.instances.get(iid)
                if ins is None:
                    continue
                if ins['opstate'] == 'OPERATING' and ins.get('reads_left', 0) <= 0:
                    ins['opstate'] = 'SUCCESS'
                ins['reads_left'] = ins.get('reads_left', 0) - 1
                out.append({'InstanceId': iid, 'InstanceState': ins['state'], 'SecurityGroupIds': list(ins['groups']),
                            'LatestOperation': ins['op'], 'LatestOperationState': ins['opstate'],
                            'LatestOperationRequestId': ins['request'], 'LatestOperationErrorMsg': ins['msg']})
            return {'InstanceSet': out}
        if action == 'DescribeSecurityGroups':
            missing = [sg for sg in body['SecurityGroupIds'] if sg not in self.groups]
            if missing:
                raise transport.ProviderError('tencentcloud', action, 'ResourceNotFound', 'not found', 'r-nf',
                                              error_class=transport.NOT_FOUND)
            return {'SecurityGroupSet': [{'SecurityGroupId': sg} for sg in body['SecurityGroupIds']]}
        sg = (body.get('SecurityGroupIds') or [None])[0]
        request = 'ours-%d' % len(self.calls)
        if action == 'AssociateSecurityGroups':
            self.write(action, body['InstanceIds'], lambda groups: groups + [sg], request)
        elif action == 'DisassociateSecurityGroups':
            self.write(action, body['InstanceIds'], lambda groups: [g for g in groups if g != sg], request)
        else:
            self.write(action, body['InstanceIds'], lambda groups: list(body['SecurityGroups']), request)
        return {'RequestId': request}

    def call(self, call):
        request = call.build()
        return self.respond(call.action, json.loads(request['data']))

    def map(self, func, items, max_workers):
        self.maps.append(len(items))
        out = []
        for item in items:
            try:
                out.append(func(item))
            except transport.ProviderError as exc:
                out.append(exc)
        return out

    def stream(self, func, max_workers):
        return InlineStream(func)


class InlineStream:
    """transport.Stream's interface in the caller's thread: each item runs when its answer is asked for, in order."""

    def __init__(self, func):
        self.func = func
        self.queue = []
        self.count = 0

    def submit(self, item, priority=0, lane=None):
        self.queue.append(item)
        self.count += 1

    def outstanding(self):
        return self.count

    def next(self):
        item = self.queue.pop(0)
        try:
            return item, self.func(item)
        except transport.ProviderError as exc:
            return item, exc

    def ack(self):
        self.count -= 1

    def interrupt(self, exc):
        raise exc

    def close(self):
        pass


def running(groups=(), state='RUNNING', **extra):
    ins = dict(groups=list(groups), state=state, op=None, opstate=None, request=None, msg=None)
    ins.update(extra)
    return ins


def run_engine(fake, check_mode=False, clock=None, **params):
    values = dict((name, spec.get('default')) for name, spec in engine.argument_spec(TencentCloud).items())
    values.update(region='ap-guangzhou', secret_id=SECRET_ID, secret_key=SECRET_KEY, retry_delay=0.01)
    values.update(params)
    clock = clock or FakeClock()
    cloud = tencent.TencentCloud(values, fake, clock=lambda: 1700000000, sleep=clock.sleep, monotonic=clock.monotonic)
    return engine.Engine(cloud, values, check_mode, clock=clock.monotonic).run()


def test_an_old_failed_operation_does_not_fail_a_retried_bind():
    fake = FakeTencent({'ins-00000001': running(op='StopInstances', opstate='FAILED', request='stop-last-week',
                                                msg='stop failed last week')})
    fake.faults['AssociateSecurityGroups'] = [transport.ProviderError(
        'tencentcloud', 'AssociateSecurityGroups', 'ConnectionError', 'Connection reset by peer', error_class=transport.AMBIGUOUS)]
    result = run_engine(fake, instance_ids=['ins-00000001'], security_group_ids=['sg-00000001'])
    assert result['changed'] and result['instances'][0]['after'] == ['sg-00000001']
    writes = [c for c in fake.calls if c[0] == 'AssociateSecurityGroups']
    assert len(writes) == 2 and len(result['request_ids']) == 1     # re-sent once, after reading back


# -- issue 8, item 2: someone else's change while ours completes -------------------------------

def test_someone_elses_change_while_ours_completes_is_no_timeout():
    # Before the fix: WaitTimeout at wait_timeout, although our bind was applied and the cloud showed SUCCESS.
    clock = FakeClock()
    fake = FakeTencent({'ins-00000001': running(groups=['sg-00000002'])}, clock=clock)

    def other_client(fake, reads):
        if reads == 3:   # our bind is OPERATING; another client unbinds sg-00000002 from the same instance
            fake.write('DisassociateSecurityGroups', ['ins-00000001'], lambda groups: [g for g in groups if g != 'sg-00000002'],
                       'theirs')

    fake.on_read = other_client
    result = run_engine(fake, clock=clock, instance_ids=['ins-00000001'], security_group_ids=['sg-00000001'], wait_timeout=60)
    assert result['changed'] and result['instances'][0]['after'] == ['sg-00000001']
    assert [c[0] for c in fake.calls].count('AssociateSecurityGroups') == 1
    assert clock.now < 5     # settled on the first reads after both operations were over, not at wait_timeout


# -- issue 8, item 10: waiting lasts until the deadline itself -----------------------------------

def test_settle_polls_until_the_deadline_itself():
    # Before the fix: reads at 0, 0.5 and 1.5 s, then gave up because the next 2 s sleep crossed the deadline.
    clock = FakeClock()
    fake = FakeTencent({'ins-00000001': running(opstate='OPERATING', request='ours', reads_left=1000)}, clock=clock)
    cloud = tencent.TencentCloud(dict(max_concurrency=8, endpoint=None, region='ap-guangzhou', secret_id=SECRET_ID,
                                      secret_key=SECRET_KEY), fake, clock=lambda: 1700000000, sleep=clock.sleep,
                                 monotonic=clock.monotonic)
    with pytest.raises(transport.ProviderError) as err:
        cloud.settle({'ins-00000001': []}, deadline=2.0)
    assert err.value.code == 'WaitTimeout' and 'ins-00000001' in err.value.message
    # The second read at once (tencent.SETTLE_FIRST), then 0.5 s, doubling, the last pause cut to the deadline.
    assert fake.read_times == [0.0, 0.0, 0.5, 1.5, 2.0] and clock.now == 2.0


# -- issue 8, item 6: instances that cannot take the change are refused before any write ---------

@pytest.mark.parametrize('check_mode', [True, False])
def test_an_instance_that_cannot_change_is_refused_before_any_write(check_mode):
    # Before the fix: check mode said changed; the real run sent 9 Associate calls over ~32 s and failed.
    # (A state that ends on its own, such as PENDING, is now awaited first: see the issue 20 tests.)
    fake = FakeTencent({'ins-00000001': running(), 'ins-00000002': running(state='SHUTDOWN'),
                        'ins-00000003': running(state='STOPPING', groups=['sg-00000001'])})
    with pytest.raises(engine.EngineFailure) as err:
        run_engine(fake, check_mode=check_mode, instance_ids=['ins-00000001', 'ins-00000002', 'ins-00000003'],
                   security_group_ids=['sg-00000001'])
    message = str(err.value)
    assert 'instance ins-00000002: is SHUTDOWN' in message and 'UnsupportedOperation.InstanceStateShutdown' in message
    assert 'ins-00000003' not in message      # nothing to change on it
    assert err.value.extra['refused_instance_ids'] == ['ins-00000002']
    assert [c[0] for c in fake.calls] == ['DescribeInstances', 'DescribeSecurityGroups']


def test_refusals_cover_every_state_that_cannot_change_and_only_those():
    for state in tencent.REFUSED_STATES + ('RUNNING', 'STOPPED'):
        fake = FakeTencent({'ins-00000001': running(state=state)})
        cloud = tencent.TencentCloud(dict(max_concurrency=8, endpoint=None, region='ap-guangzhou', secret_id=SECRET_ID,
                                          secret_key=SECRET_KEY), fake, clock=lambda: 1700000000)
        cloud.read(['ins-00000001'])
        refused = cloud.refusals([{'target_id': 'ins-00000001', 'before': [], 'after': ['sg-00000001'],
                                   'added': ['sg-00000001'], 'removed': []},
                                  {'target_id': 'ins-00000001', 'before': [], 'after': [], 'added': [], 'removed': []}])
        assert [tid for tid, dummy in refused] == (['ins-00000001'] if state in tencent.REFUSED_STATES else [])  # the changing one
        if state == 'EXIT_SERVICE_LIVE_MIGRATE':
            assert refused[0][0] == 'ins-00000001' and '(UnsupportedOperation.InstanceStateExitServiceLiveMigrate)' in refused[0][1]


# -- group existence: halved and asked concurrently --------------------------------------------

@pytest.mark.parametrize('count, missing, calls, rounds', [
    (2, ['sg-00000001'], 3, [1, 2]),
    (8, ['sg-00000005'], 7, [1, 2, 2, 2]),
    (100, ['sg-00000042'], 15, [1, 2, 2, 2, 2, 2, 2, 2]),
    (100, [], 1, [1]),
    (150, ['sg-00000007', 'sg-00000120'], 28, [2, 4, 4, 4, 4, 4, 4, 2]),   # 100 + 50
])
def test_missing_groups_are_found_by_halving_concurrently(count, missing, calls, rounds):
    # Before: 1 call, then one call per ID of the chunk, one after the other (100 groups, 1 missing: 101 calls).
    ids = ['sg-%08d' % n for n in range(count)]
    fake = FakeTencent({}, groups=[sg for sg in ids if sg not in missing])
    cloud = tencent.TencentCloud(dict(max_concurrency=8, endpoint=None, region='ap-guangzhou', secret_id=SECRET_ID,
                                      secret_key=SECRET_KEY), fake, clock=lambda: 1700000000)
    assert cloud.missing_security_groups(ids) == missing
    assert len(fake.calls) == calls and fake.maps == rounds
    assert all(len(body['SecurityGroupIds']) <= 100 for dummy, body in fake.calls)


# -- vpc_endpoint ----------------------------------------------------------------------------

@pytest.mark.parametrize('endpoint, vpc_endpoint, cvm_url, vpc_url', [
    (None, None, 'https://cvm.ap-guangzhou.tencentcloudapi.com/', 'https://vpc.ap-guangzhou.tencentcloudapi.com/'),
    ('https://cvm.intl.tencentcloudapi.com', None, 'https://cvm.intl.tencentcloudapi.com/', 'https://cvm.intl.tencentcloudapi.com/'),
    ('https://cvm.internal.tencentcloudapi.com', 'https://vpc.internal.tencentcloudapi.com/',
     'https://cvm.internal.tencentcloudapi.com/', 'https://vpc.internal.tencentcloudapi.com/'),
    (None, 'http://127.0.0.1:9000', 'https://cvm.ap-guangzhou.tencentcloudapi.com/', 'http://127.0.0.1:9000/'),
])
def test_vpc_endpoint_replaces_the_vpc_host_only(endpoint, vpc_endpoint, cvm_url, vpc_url):
    cloud, conn = provider([{'InstanceSet': []}, {'SecurityGroupSet': [{'SecurityGroupId': 'sg-00000001'}]}],
                           endpoint=endpoint, vpc_endpoint=vpc_endpoint)
    cloud.read(['ins-00000001'])
    cloud.missing_security_groups(['sg-00000001'])
    (dummy, body, headers, url, dummy2), (dummy3, vpc_body, vpc_headers, url2, dummy4) = conn.calls
    assert (url, url2) == (cvm_url, vpc_url)
    assert vpc_headers['Host'] == vpc_url.split('/')[2]
    assert vpc_headers['Authorization'] == tencent.tc3_authorization(
        SECRET_ID, SECRET_KEY, 'vpc', vpc_url.split('/')[2], 1700000000, json.dumps(vpc_body).encode('utf-8'))


@pytest.mark.parametrize('bad', ['vpc.tencentcloudapi.com', 'https://vpc.tencentcloudapi.com/path', 'ftp://x'])
def test_a_bad_vpc_endpoint_is_refused_naming_the_option(bad):
    params = dict((name, spec.get('default')) for name, spec in engine.argument_spec(TencentCloud).items())
    params.update(instance_ids=['ins-00000001'], security_group_ids=['sg-00000001'], region='ap-guangzhou',
                  secret_id=SECRET_ID, secret_key=SECRET_KEY, vpc_endpoint=bad)
    with pytest.raises(engine.EngineFailure) as err:
        engine.validate(params, TencentCloud)
    assert str(err.value) == 'vpc_endpoint: %r must be a URL of the form https://host[:port], with no path, query or credentials' % bad


@pytest.mark.parametrize('endpoint, vpc_endpoint, suggested', [
    ('https://cvm.tencentcloudapi.com', None, 'https://vpc.tencentcloudapi.com'),
    ('https://cvm.ap-guangzhou.tencentcloudapi.com/', None, 'https://vpc.ap-guangzhou.tencentcloudapi.com'),
    ('https://CVM.internal.tencentcloudapi.com:8443', None, 'https://vpc.internal.tencentcloudapi.com:8443'),
    ('https://cvm.intl.tencentcloudapi.com', 'https://vpc.intl.tencentcloudapi.com', None),
    ('https://tencent-proxy.example.com', None, None),
    ('http://127.0.0.1:9000', None, None),
    (None, None, None),
])
def test_a_cvm_endpoint_without_vpc_endpoint_is_warned_about(endpoint, vpc_endpoint, suggested):
    cloud, dummy = provider([], endpoint=endpoint, vpc_endpoint=vpc_endpoint)
    if suggested is None:
        assert cloud.warnings == []
    else:
        assert cloud.warnings == ['endpoint %s is a CVM host, and the VPC calls (DescribeSecurityGroups, which checks the groups to '
                                  'bind) would be sent there too; set vpc_endpoint to the VPC host, for example %s' % (endpoint, suggested)]


# -- issue 20: a busy or transitioning instance is awaited, against the emulator -----------------

EMU_SECRET = 'Tc-Busy-Secret-Never-Shown'
EMU_GROUPS = ['sg-busy%04d' % n for n in range(1, 4)]


@pytest.fixture(scope='module')
def emulator():
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy'):
        os.environ.pop(var, None)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..'))
    from emulator import start  # pylint: disable=import-outside-toplevel
    running = start()
    yield running
    running.stop()


def seed(emulator, *instances):
    """Seed instances (seed entries, the region added) and the groups; clear the request log."""
    emulator.emulator.reset()
    emulator.emulator.seed({'tencentcloud': {
        'credentials': [{'access_key': 'AKIDbusy00000001', 'secret_key': EMU_SECRET}],
        'security_groups': [{'id': sg, 'region': 'ap-guangzhou'} for sg in EMU_GROUPS],
        'instances': [dict(ins, region='ap-guangzhou') for ins in instances]}})
    emulator.emulator.clear_requests()


def run_module(emulator, capsys, check_mode=False, **args):
    """tencentcloud_sg_binding run in-process against the emulator: (result, seconds it took)."""
    base = dict(secret_id='AKIDbusy00000001', secret_key=EMU_SECRET, region='ap-guangzhou', endpoint=emulator.endpoints['tencentcloud'],
                security_group_ids=[EMU_GROUPS[0]], retry_delay=0.05, retry_max_delay=0.2)
    base.update(args)
    started = time.monotonic()
    with patch_module_args(dict(base, _ansible_check_mode=check_mode)):
        with pytest.raises(SystemExit):
            tencentcloud_sg_binding.main()
    took = time.monotonic() - started
    out = capsys.readouterr().out
    assert EMU_SECRET not in out
    return json.loads(out), took


def log(emulator, action=None):
    return [(e['action'], e['error_code']) for e in emulator.emulator.requests('tencentcloud') if action in (None, e['action'])]


def emu_groups(emulator):
    return dict((ins['id'], ins['security_groups']) for ins in emulator.emulator.state()['tencentcloud']['instances'])


def test_one_busy_instance_among_150_is_awaited_then_written_in_the_minimum_writes(emulator, capsys):
    # Before the fix: the first batch of 100 was answered MutexOperation.TaskRunning and re-sent blindly with
    # jittered backoff (up to 9 times, ~71 s at the defaults) while the module had read the instance OPERATING.
    ids = ['ins-busy%04d' % n for n in range(150)]
    seed(emulator, *[dict(id=iid, busy_for_s=2) if iid == ids[42] else dict(id=iid) for iid in ids])
    result, took = run_module(emulator, capsys, instance_ids=ids)
    assert result['changed'] and not result.get('failed'), result.get('msg')
    assert log(emulator, 'AssociateSecurityGroups') == [('AssociateSecurityGroups', None)] * 2       # 100 + 50, both accepted
    assert not any(code for dummy, code in log(emulator))                                              # no MutexOperation at all
    assert all(groups == [EMU_GROUPS[0]] for groups in emu_groups(emulator).values())
    assert 2 <= took < 8      # the 2 s operation, awaited with the 0.5 s .. 5 s poll; not a backoff schedule


@pytest.mark.parametrize('check_mode', [False, True])
def test_a_transient_state_is_awaited_then_the_change_made(emulator, capsys, check_mode):
    # Before the fix: refused before any write ("is STOPPING ... run the task again once it is RUNNING or STOPPED").
    seed(emulator, dict(id='ins-busy0001', status='STOPPING', transition_s=1.5), dict(id='ins-busy0002'))
    result, took = run_module(emulator, capsys, check_mode=check_mode, instance_ids=['ins-busy0001', 'ins-busy0002'])
    assert result['changed'] and not result.get('failed'), result.get('msg')
    assert [i['after'] for i in result['instances']] == [[EMU_GROUPS[0]]] * 2
    assert result['operations'] == [{'action': 'bind', 'security_group_ids': [EMU_GROUPS[0]],
                                     'instance_ids': ['ins-busy0001', 'ins-busy0002']}]
    assert log(emulator, 'AssociateSecurityGroups') == ([] if check_mode else [('AssociateSecurityGroups', None)])
    assert 1.5 <= took < 6
    # Check mode waited too (reads only), and planned what the real run did.
    assert [i['status'] for i in emulator.emulator.state()['tencentcloud']['instances']] == ['STOPPED', 'RUNNING']


@pytest.mark.parametrize('check_mode', [False, True])
def test_a_wait_that_runs_out_fails_before_any_write_naming_the_instance_and_its_state(emulator, capsys, check_mode):
    # Before the fix: the OPERATING instance failed the whole batch after 9 MutexOperation answers, in a message
    # listing every instance of the batch; the STOPPING one was refused without waiting.
    seed(emulator, dict(id='ins-busy0001', busy_for_s=60, latest_operation='StopInstances'),
         dict(id='ins-busy0002', status='REBOOTING', transition_s=60), dict(id='ins-busy0003'),
         dict(id='ins-busy0004', busy_for_s=60, security_groups=[EMU_GROUPS[0]]))      # busy, but nothing to change
    result, took = run_module(emulator, capsys, check_mode=check_mode, wait_timeout=1,
                              instance_ids=['ins-busy0001', 'ins-busy0002', 'ins-busy0003', 'ins-busy0004'])
    assert result['failed'] and result['refused_instance_ids'] == ['ins-busy0001', 'ins-busy0002']
    message = result['msg']
    assert ('instance ins-busy0001: still has another operation in progress after waiting wait_timeout (1 s): '
            'operation StopInstances OPERATING (request ID ') in message
    assert 'instance ins-busy0002: is still REBOOTING after waiting wait_timeout (1 s)' in message
    assert 'ins-busy0003' not in message and 'ins-busy0004' not in message and message.endswith('nothing was changed (on_refused=skip changes the others)')
    assert not [entry for entry in log(emulator) if entry[0] != 'DescribeInstances' and entry[0] != 'DescribeSecurityGroups']
    assert 1 <= took < 4


def test_a_busy_race_during_the_write_is_awaited_and_the_write_sent_again(emulator, capsys):
    # Another client starts an operation on ins-busy0002 right after our read. Before the fix: re-sent blindly
    # with jittered backoff, nothing read in between.
    seed(emulator, dict(id='ins-busy0001'), dict(id='ins-busy0002', busy_for_s=1.5, busy_after_reads=1))
    result, took = run_module(emulator, capsys, instance_ids=['ins-busy0001', 'ins-busy0002'])
    assert result['changed'] and not result.get('failed'), result.get('msg')
    calls = log(emulator)
    first = calls.index(('AssociateSecurityGroups', 'MutexOperation.TaskRunning'))
    assert calls[first + 1:first + 3] == [('DescribeInstances', None)] * 2    # which is busy; then polled until it is not
    assert log(emulator, 'AssociateSecurityGroups') == [('AssociateSecurityGroups', 'MutexOperation.TaskRunning'),
                                                        ('AssociateSecurityGroups', None)]
    assert all(groups == [EMU_GROUPS[0]] for groups in emu_groups(emulator).values())
    assert 1.5 <= took < 6


def test_a_busy_race_that_outlasts_wait_timeout_names_the_busy_instance(emulator, capsys):
    seed(emulator, dict(id='ins-busy0001'), dict(id='ins-busy0002', busy_for_s=60, busy_after_reads=1), dict(id='ins-busy0003'))
    result, took = run_module(emulator, capsys, wait_timeout=1, instance_ids=['ins-busy0001', 'ins-busy0002', 'ins-busy0003'])
    assert result['failed'] and result['error']['code'] == 'MutexOperation.TaskRunning'
    busy = result['msg'].split('(still busy after waiting wait_timeout (1 s): ', 1)[1]
    assert busy.startswith('ins-busy0002: operation ResetInstancesType OPERATING (request ID ')
    assert 'ins-busy0001' not in busy and 'ins-busy0003' not in busy
    assert result['error']['request_id'] and result['error']['request_id'] in result['msg']
    assert log(emulator, 'AssociateSecurityGroups') == [('AssociateSecurityGroups', 'MutexOperation.TaskRunning')]   # not re-sent
    assert [i['after'] for i in result['instances']] == [[], [], []]
    assert 1 <= took < 4


def test_an_in_progress_answer_no_instance_explains_is_retried_after_a_read(emulator, capsys):
    # The cloud says busy, but no instance shows it (the operation ended meanwhile): read, backoff, re-send.
    seed(emulator, dict(id='ins-busy0001'))
    emulator.emulator.add_fault({'provider': 'tencentcloud', 'action': 'AssociateSecurityGroups', 'kind': 'in_progress', 'count': 2})
    result, dummy = run_module(emulator, capsys, instance_ids=['ins-busy0001'])
    assert result['changed'] and not result.get('failed')
    writes = [entry for entry in log(emulator) if entry[0] != 'DescribeSecurityGroups'][1:]
    assert writes[:5] == [('AssociateSecurityGroups', 'MutexOperation.TaskRunning'), ('DescribeInstances', None),
                          ('AssociateSecurityGroups', 'MutexOperation.TaskRunning'), ('DescribeInstances', None),
                          ('AssociateSecurityGroups', None)]
    emulator.emulator.add_fault({'provider': 'tencentcloud', 'action': 'AssociateSecurityGroups', 'kind': 'in_progress', 'count': 5})
    result, dummy = run_module(emulator, capsys, instance_ids=['ins-busy0001'], security_group_ids=[EMU_GROUPS[1]], retries=2)
    assert result['failed'] and 'no instance of the request showed an operation in progress or a transient state' in result['msg']
