# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Zenlayer Cloud: requests, answers, error classes, refusals and constraints of the provider."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import threading
import time

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport
from ansible_collections.multicloud.secgroup.plugins.module_utils import _zenlayer as zenlayer

AK, SK, TS = 'AKID-ZL-UNIT', 'unit-password', 1700000000
SG_A, SG_B, SG_C, SG_D = '791721259766392536', '791721259766392537', '791721259766392538', '791721259766392539'
VM_1, VM_2 = '802452345504925912', '9223372036854775809'     # the second is above 2**63


class Answer:
    def __init__(self, status=200, body=None, headers=None, text=None):
        self.status_code = status
        self.text = text if text is not None else json.dumps(body)
        self.headers = headers or {}


def ok(fields=None, request_id='T-OK'):
    inner = {'requestId': request_id}
    inner.update(fields or {})
    return Answer(200, {'requestId': request_id, 'response': inner})


def error(status, code, message='it failed', request_id='T-ERR'):
    return Answer(status, {'requestId': request_id, 'code': code, 'message': message})


def instance(iid, groups, status='RUNNING'):
    return {'instanceId': iid, 'instanceStatus': status, 'securityGroupIds': groups, 'instanceName': 'x', 'tags': {'tags': []}}


class Session:
    """Answers each action from a list (popped in turn) or a function of the request body; records every request."""

    def __init__(self, answers, delay=0.0):
        self.answers = answers
        self.requests = []
        self.delay = delay
        self.lock = threading.Lock()
        self.in_flight = self.most_in_flight = 0

    def request(self, method, url, headers=None, data=None, **kwargs):
        action = headers['X-ZC-Action']
        body = json.loads(data.decode('utf-8'))
        with self.lock:
            self.requests.append({'method': method, 'url': url, 'action': action, 'headers': dict(headers), 'data': data,
                                  'body': body})
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            source = self.answers[action]
            answer = source.pop(0) if isinstance(source, list) else source(body)
        time.sleep(self.delay)
        with self.lock:
            self.in_flight -= 1
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self):
        pass


def provider(answers, delay=0.0, **params):
    defaults = dict(endpoint=None, access_key_id=AK, access_key_password=SK, max_concurrency=8)
    defaults.update(params)
    session = Session(answers, delay)
    conn = transport.Transport('zenlayer', max_retries=2, backoff=transport.Backoff(0.001, 0.001), session=session,
                               sleep=lambda s: None)
    return zenlayer.ZenlayerCloud(defaults, conn, clock=lambda: TS), session


def describe_instances(known):
    """A DescribeInstances that knows the instances in ``known`` (id -> item) and pages as asked."""
    def answer(body):
        items = [known[i] for i in body['instanceIds'] if i in known]
        start = (body['pageNum'] - 1) * body['pageSize']
        return ok({'totalCount': len(items), 'dataSet': items[start:start + body['pageSize']]})
    return answer


# -- reads ---------------------------------------------------------------------------------------

def test_reads_take_100_instances_a_call_with_page_size_set_and_collect_the_unknown():
    ids = ['%018d' % (10 ** 17 + n) for n in range(250)]
    known = dict((i, instance(i, [SG_A])) for i in ids if not i.endswith(('7', '9')))
    cloud, session = provider({'DescribeInstances': describe_instances(known)}, delay=0.02, max_concurrency=2)
    current, missing = cloud.read(ids)
    assert missing == [i for i in ids if i.endswith(('7', '9'))]
    assert len(current) == 200 and current[ids[0]] == [SG_A]
    bodies = [r['body'] for r in session.requests]
    assert sorted(len(b['instanceIds']) for b in bodies) == [50, 100, 100]
    assert all(b['pageSize'] == 100 and b['pageNum'] == 1 for b in bodies)
    assert session.most_in_flight == 2
    assert sorted(i for b in bodies for i in b['instanceIds']) == ids


def test_a_capped_page_size_is_followed_to_the_last_page():
    ids = ['%018d' % (10 ** 17 + n) for n in range(30)]
    known = dict((i, instance(i, [])) for i in ids)

    def capped(body):
        return describe_instances(known)(dict(body, pageSize=20))

    cloud, session = provider({'DescribeInstances': capped})
    current, missing = cloud.read(ids)
    assert missing == [] and len(current) == 30
    assert [r['body']['pageNum'] for r in session.requests] == [1, 2]


def test_ids_stay_strings_even_when_the_answer_has_them_unquoted():
    text = ('{"requestId": "T1", "response": {"requestId": "T1", "totalCount": 1, "dataSet": [{"instanceId": %s, '
            '"instanceStatus": "RUNNING", "securityGroupIds": [%s, 1.5e18], "tags": null}]}}' % (VM_2, SG_A))
    cloud, dummy = provider({'DescribeInstances': [Answer(200, text=text)]})
    current, missing = cloud.read([VM_2])
    assert current == {VM_2: [SG_A, '1.5e18']} and missing == []


@pytest.mark.parametrize('inner, what', [
    ({'totalCount': 1}, 'dataSet list'),
    ({'totalCount': 'many', 'dataSet': [instance(VM_1, [])]}, 'totalCount number'),
    ({'totalCount': 1, 'dataSet': [instance(VM_1, SG_A)]}, 'securityGroupIds list for instance %s' % VM_1),
])
def test_malformed_instance_answers_are_errors_not_tracebacks(inner, what):
    cloud, dummy = provider({'DescribeInstances': [ok(inner)]})
    with pytest.raises(transport.ProviderError) as err:
        cloud.read([VM_1])
    assert err.value.code == 'MalformedResponse' and err.value.message == 'the answer has no %s' % what


def test_an_instance_without_security_groups_reads_as_an_empty_list():
    item = instance(VM_1, None)
    cloud, dummy = provider({'DescribeInstances': [ok({'totalCount': 1, 'dataSet': [item]})]})
    assert cloud.read([VM_1]) == ({VM_1: []}, [])


def test_missing_security_groups_takes_100_a_call_and_remembers_their_status():
    sgs = ['%018d' % (7 * 10 ** 17 + n) for n in range(120)]

    def answer(body):
        items = [{'securityGroupId': sg, 'securityGroupStatus': 'Available' if sg != sgs[5] else 'Deleting'}
                 for sg in body['securityGroupIds'] if sg not in (sgs[1], sgs[110])]
        return ok({'totalCount': len(items), 'dataSet': items})

    cloud, session = provider({'DescribeSecurityGroups': answer})
    assert cloud.missing_security_groups(sgs) == [sgs[1], sgs[110]]
    assert sorted(len(r['body']['securityGroupIds']) for r in session.requests) == [20, 100]
    assert all(r['body']['pageSize'] == 100 for r in session.requests)
    assert cloud.group_status[sgs[5]] == 'Deleting' and cloud.group_status[sgs[0]] == 'Available'


# -- refusals -------------------------------------------------------------------------------------

def test_refusals_name_each_instance_not_running_or_stopped_and_each_group_not_available():
    known = {VM_1: instance(VM_1, [SG_A], 'BOOTING'), VM_2: instance(VM_2, [SG_A], 'STOPPED'),
             '12345678': instance('12345678', [SG_B], 'RELEASING')}
    cloud, dummy = provider({'DescribeInstances': describe_instances(known),
                             'DescribeSecurityGroups': [ok({'totalCount': 1, 'dataSet': [
                                 {'securityGroupId': SG_B, 'securityGroupStatus': 'Creating'}]})]})
    current, dummy = cloud.read([VM_1, VM_2, '12345678'])
    plan = planner.plan(current, [SG_B], 'present', False, cloud.constraints)
    assert cloud.missing_security_groups([SG_B]) == []
    refused = cloud.refusals(plan['targets'])
    # 12345678 already has SG_B: nothing changes there, so its status does not matter.
    assert [iid for iid, dummy in refused] == [VM_1, VM_1, VM_2]
    assert 'is BOOTING; Zenlayer Cloud changes security groups only on RUNNING or STOPPED instances' in refused[0][1]
    assert refused[1][1] == ('security group %s is Creating, and only an Available one can be bound '
                             '(OPERATION_DENIED_SECURITY_GROUP_STATUS_NOT_AVAILABLE)' % SG_B)


@pytest.mark.parametrize('spelling', ['Available', 'AVAILABLE', 'available'])
def test_an_unbind_is_refused_for_the_instance_status_and_a_group_not_available(spelling):
    known = {VM_1: instance(VM_1, [SG_A, SG_B], 'STOPPING'), VM_2: instance(VM_2, [SG_A], 'RUNNING'),
             '12345678': instance('12345678', [SG_C], 'RUNNING')}
    cloud, session = provider({'DescribeInstances': describe_instances(known),
                               'DescribeSecurityGroups': [ok({'totalCount': 2, 'dataSet': [
                                   {'securityGroupId': SG_A, 'securityGroupStatus': spelling},
                                   {'securityGroupId': SG_C, 'securityGroupStatus': 'DELETING'}]})]})
    current, dummy = cloud.read([VM_1, VM_2, '12345678'])
    plan = planner.plan(current, [SG_A, SG_C], 'absent', False, cloud.constraints)
    refused = cloud.refusals(plan['targets'])
    assert [iid for iid, dummy in refused] == [VM_1, '12345678']
    assert refused[1][1] == ('security group %s is DELETING, and only an Available one can be unbound '
                             '(OPERATION_DENIED_SECURITY_GROUP_STATUS_NOT_AVAILABLE)' % SG_C)
    # The groups to unbind are described once, together.
    assert [r['body']['securityGroupIds'] for r in session.requests if r['action'] == 'DescribeSecurityGroups'] == [[SG_A, SG_C]]


def test_the_groups_a_purge_removes_ride_in_the_existence_check_so_refusals_read_nothing_more():
    known = {VM_1: instance(VM_1, [SG_A], 'RUNNING'), VM_2: instance(VM_2, [SG_B], 'RUNNING')}
    statuses = [{'securityGroupId': sg, 'securityGroupStatus': 'Available'} for sg in (SG_A, SG_B, SG_C, SG_D)]

    def describe_groups(body):
        items = [item for item in statuses if item['securityGroupId'] in body['securityGroupIds']]
        return ok({'totalCount': len(items), 'dataSet': items})

    cloud, session = provider({'DescribeInstances': describe_instances(known), 'DescribeSecurityGroups': describe_groups})
    current, dummy = cloud.read([VM_1, VM_2])
    plan = planner.plan(current, [SG_C, SG_D], 'present', True, cloud.constraints)
    assert cloud.missing_security_groups([SG_C, SG_D]) == []
    assert cloud.refusals(plan['targets']) == []
    asked = [r['body']['securityGroupIds'] for r in session.requests if r['action'] == 'DescribeSecurityGroups']
    assert asked == [[SG_C, SG_D, SG_A, SG_B]]


def test_the_existence_check_takes_no_more_pages_for_the_groups_riding_along():
    many = ['7%017d' % n for n in range(150)]
    known = dict(('8%017d' % n, instance('8%017d' % n, [sg], 'RUNNING')) for n, sg in enumerate(many))
    cloud, session = provider({'DescribeInstances': describe_instances(known),
                               'DescribeSecurityGroups': lambda body: ok({'totalCount': 0, 'dataSet': []})})
    cloud.read(sorted(known))
    assert cloud.missing_security_groups([SG_C]) == [SG_C]
    asked = [r['body']['securityGroupIds'] for r in session.requests if r['action'] == 'DescribeSecurityGroups']
    assert len(asked) == 1 and len(asked[0]) == 100 and asked[0][0] == SG_C


# -- constraints (at most 2 groups, the inferred floor) --------------------------------------

def test_a_swap_of_two_groups_interleaves_and_never_holds_more_than_two():
    plan = planner.plan({VM_1: [SG_A, SG_B]}, [SG_C, SG_D], 'present', True, zenlayer.ZenlayerCloud.constraints)
    steps = [(op['action'], op['security_group_ids'][0]) for op in plan['operations']]
    assert steps == [('unbind', SG_A), ('bind', SG_C), ('unbind', SG_B), ('bind', SG_D)]
    assert all(len(op['target_ids']) == 1 for op in plan['operations'])


def test_a_swap_of_one_group_binds_first_so_the_instance_is_never_bare():
    plan = planner.plan({VM_1: [SG_A]}, [SG_B], 'present', True, zenlayer.ZenlayerCloud.constraints)
    assert [(op['action'], op['security_group_ids'][0]) for op in plan['operations']] == [('bind', SG_B), ('unbind', SG_A)]


def test_a_third_group_is_refused_before_any_write():
    with pytest.raises(planner.PlanError) as err:
        planner.plan({VM_1: [SG_A, SG_B]}, [SG_C], 'present', False, zenlayer.ZenlayerCloud.constraints)
    assert 'would have 3 security groups' in str(err.value) and 'at most 2 per instance' in str(err.value)


def test_the_floor_is_the_inferred_one_and_lets_the_last_group_go():
    assert zenlayer.ZenlayerCloud.constraints.min_groups == zenlayer.INFERRED['min_groups'] == 0
    plan = planner.plan({VM_1: [SG_A]}, [SG_A], 'absent', False, zenlayer.ZenlayerCloud.constraints)
    assert plan['targets'][0]['after'] == []


@pytest.mark.parametrize('value, valid', [
    ('12345678', True), ('1234567890123456789', True), ('0000000000000000001', True), (VM_2, True),
    ('1234567', False), ('12345678901234567890', False), ('1.5e+18', False), ('+12345678', False), (' 12345678', False),
    ('12345678\n', False), ('sg-12345678', False), (u'\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668', False),
])
def test_id_pattern(value, valid):
    assert bool(re.fullmatch(zenlayer.ID_PATTERN, value)) == valid
    assert zenlayer.ZenlayerCloud.security_group_id_pattern == zenlayer.ZenlayerCloud.target_kinds[0].pattern == zenlayer.ID_PATTERN


# -- writes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize('action, name', [('bind', 'AssociateSecurityGroupInstance'), ('unbind', 'UnAssociateSecurityGroupInstance')])
def test_a_write_is_one_signed_call_for_one_group_on_one_instance(action, name):
    cloud, session = provider({name: [ok(request_id='T-W')]}, endpoint='http://127.0.0.1:41005/')
    assert cloud.apply({'action': action, 'security_group_ids': [SG_A], 'target_ids': [VM_2]}) == ['T-W']
    sent = session.requests[0]
    assert sent['method'] == 'POST' and sent['url'] == 'http://127.0.0.1:41005/api/v2/vm'
    assert sent['data'] == ('{"securityGroupId": "%s", "instanceId": "%s"}' % (SG_A, VM_2)).encode('utf-8')
    headers = sent['headers']
    assert headers['X-ZC-Action'] == name and headers['X-ZC-Version'] == zenlayer.API_VERSION == '2023-03-13'
    assert headers['Host'] == '127.0.0.1:41005' and headers['Content-Type'] == 'application/json'
    assert headers['X-ZC-Timestamp'] == str(TS) and headers['X-ZC-Signature-Method'] == 'ZC2-HMAC-SHA256'
    assert headers['Authorization'] == zenlayer.zc2_authorization(AK, SK, '127.0.0.1:41005', TS, sent['data'])


def test_the_default_endpoint_is_the_global_console_host():
    cloud, session = provider({'DescribeSecurityGroups': [ok({'totalCount': 0, 'dataSet': []})]})
    cloud.missing_security_groups([SG_A])
    assert session.requests[0]['url'] == 'https://console.zenlayer.com/api/v2/vm'
    assert session.requests[0]['headers']['Host'] == 'console.zenlayer.com'


def test_throttling_is_retried_even_for_writes_and_re_signed():
    clock = iter(range(TS, TS + 10))
    cloud, session = provider({'AssociateSecurityGroupInstance': [error(429, 'REQUEST_LIMIT_EXCEEDED'), ok(request_id='T-2')]})
    cloud.clock = lambda: next(clock)
    assert cloud.apply({'action': 'bind', 'security_group_ids': [SG_A], 'target_ids': [VM_1]}) == ['T-2']
    stamps = [r['headers']['X-ZC-Timestamp'] for r in session.requests]
    assert stamps == [str(TS), str(TS + 1)]


def test_a_throttling_answer_s_retry_after_is_honoured():
    throttled = error(429, 'REQUEST_LIMIT_EXCEEDED')
    throttled.headers['Retry-After'] = '2'
    cloud, session = provider({'AssociateSecurityGroupInstance': [throttled, ok(request_id='T-2')]})
    slept = []
    cloud.transport.sleep, cloud.transport.backoff = slept.append, transport.Backoff(0.001, 10.0)
    assert cloud.apply({'action': 'bind', 'security_group_ids': [SG_A], 'target_ids': [VM_1]}) == ['T-2']
    assert slept == [2]


@pytest.mark.parametrize('answer', [
    # "Not bound" does not answer a bind: it says nothing about this write.
    error(403, 'OPERATION_DENIED_SECURITY_GROUP_NOT_ASSOCIATED'),
    error(503, 'SERVICE_TEMPORARY_UNAVAILABLE'),
    Answer(200, text='<html>gateway</html>'),
])
def test_a_write_of_unknown_outcome_is_not_sent_again_by_the_transport(answer):
    """Never re-sent by the transport: an "already so" answer confirms the one target (ALREADY), the others make the engine re-read."""
    cloud, session = provider({'AssociateSecurityGroupInstance': [answer, ok()]})
    with pytest.raises(transport.ProviderError) as err:
        cloud.apply({'action': 'bind', 'security_group_ids': [SG_A], 'target_ids': [VM_1]})
    assert err.value.error_class in (transport.ALREADY, transport.AMBIGUOUS, transport.TRANSIENT)
    assert len(session.requests) == 1


@pytest.mark.parametrize('action, code', [
    ('bind', 'OPERATION_DENIED_SECURITY_GROUP_ALREADY_ASSOCIATED'),
    ('bind', 'Operation.Denied.Duplicate.Binding'),
    ('unbind', 'OPERATION_DENIED_SECURITY_GROUP_NOT_ASSOCIATED'),
    ('unbind', 'INVALID_SECURITY_GROUP_NOT_BOUND'),
])
def test_an_already_so_answer_is_classed_already_for_the_engine(action, code):
    """The engine takes ALREADY as the one target of the call already being so (never re-sent, never a failure)."""
    name = {'bind': 'AssociateSecurityGroupInstance', 'unbind': 'UnAssociateSecurityGroupInstance'}[action]
    cloud, session = provider({name: [error(403, code, 'it is so', 'T-SO')]})
    with pytest.raises(transport.ProviderError) as err:
        cloud.apply({'action': action, 'security_group_ids': [SG_A], 'target_ids': [VM_1]})
    assert (err.value.error_class, err.value.code, err.value.request_id) == (transport.ALREADY, code, 'T-SO')
    assert len(session.requests) == 1


def test_a_refused_unbind_of_the_last_group_says_the_instance_would_have_none():
    cloud, dummy = provider({'DescribeInstances': describe_instances({VM_1: instance(VM_1, [SG_A]), VM_2: instance(VM_2, [SG_A, SG_B])}),
                             'UnAssociateSecurityGroupInstance': lambda body: error(403, 'OPERATION_DENIED_LAST_SECURITY_GROUP', 'no', 'T-L')})
    cloud.read([VM_1, VM_2])
    with pytest.raises(transport.ProviderError) as err:
        cloud.apply({'action': 'unbind', 'security_group_ids': [SG_A], 'target_ids': [VM_1]})
    assert (err.value.code, err.value.request_id) == ('OPERATION_DENIED_LAST_SECURITY_GROUP', 'T-L')
    assert err.value.message == ('no; instance %s would have been left without any security group, which Zenlayer Cloud may refuse: '
                                 'bind the group it should keep first (state: present, purge: true)' % VM_1)
    with pytest.raises(transport.ProviderError) as err:
        cloud.apply({'action': 'unbind', 'security_group_ids': [SG_A], 'target_ids': [VM_2]})
    assert err.value.message == 'no'


def test_a_failed_write_reports_code_message_request_id_and_status():
    cloud, dummy = provider({'AssociateSecurityGroupInstance': [error(403, 'OPERATION_DENIED_INSTANCE_NOT_SUPPORT_SECURITY_GROUP',
                                                                      'Instance not support security groups.', 'T-NS')]})
    with pytest.raises(transport.ProviderError) as err:
        cloud.apply({'action': 'bind', 'security_group_ids': [SG_A], 'target_ids': [VM_1]})
    assert err.value.to_dict() == {'provider': 'zenlayer', 'action': 'AssociateSecurityGroupInstance',
                                   'code': 'OPERATION_DENIED_INSTANCE_NOT_SUPPORT_SECURITY_GROUP',
                                   'message': 'Instance not support security groups.', 'request_id': 'T-NS', 'http_status': 403}
    assert err.value.error_class == transport.CONFLICT


# -- answers and error classes (reference section 4) ----------------------------------------

@pytest.mark.parametrize('status, code, cls', [
    (429, 'REQUEST_LIMIT_EXCEEDED', transport.THROTTLED),
    (400, 'REQUEST_LIMIT_EXCEEDED', transport.THROTTLED),
    (429, 'HTTP429', transport.THROTTLED),
    (503, 'SERVICE_TEMPORARY_UNAVAILABLE', transport.TRANSIENT),
    (500, 'INTERNAL_SERVER_ERROR', transport.TRANSIENT),
    (504, 'REQUEST_TIMED_OUT', transport.TRANSIENT),
    (502, 'HTTP502', transport.TRANSIENT),
    (500, 'SOMETHING_NEW', transport.TRANSIENT),
    (403, 'OPERATION_DENIED_INSTANCE_STATUS', transport.IN_PROGRESS),
    (403, 'Operation.Denied.Instance.Status', transport.IN_PROGRESS),
    (403, 'OPERATION_DENIED_SECURITY_GROUP_STATUS_NOT_AVAILABLE', transport.CONFLICT),
    (403, 'OPERATION_DENIED_INSTANCE_NOT_SUPPORT_SECURITY_GROUP', transport.CONFLICT),
    (403, 'OPERATION_DENIED_INSTANCE_SECURITY_GROUP_EXCEED_LIMIT', transport.QUOTA),
    (404, 'INVALID_SECURITY_GROUP_NOT_FOUND', transport.NOT_FOUND),
    (404, 'INVALID_INSTANCE_NOT_FOUND', transport.NOT_FOUND),
    (404, 'Invalid.Instance.Not.Found', transport.NOT_FOUND),
    (404, 'OPERATION_FAILED_RESOURCE_NOT_FOUND', transport.NOT_FOUND),
    (403, 'OPERATION_DENIED_SECURITY_GROUP_ALREADY_ASSOCIATED', transport.ALREADY),
    (403, 'OPERATION_DENIED_SECURITY_GROUP_NOT_ASSOCIATED', transport.ALREADY),
    (400, 'INVALID_SECURITY_GROUP_ALREADY_BOUND', transport.ALREADY),
    (409, 'DUPLICATE_ASSOCIATION', transport.ALREADY),
    (401, 'INVALID_SIGNATURE', transport.AUTH),
    (401, 'SIGNATURE_EXPIRED', transport.AUTH),
    (403, 'ACCESS_DENIED', transport.AUTH),
    (403, 'OPERATION_DENIED_SOMETHING_ELSE', transport.INVALID),
    (400, 'INVALID_PARAMETER', transport.INVALID),
    (451, 'HTTP451', transport.INVALID),
])
def test_error_classes(status, code, cls):
    assert zenlayer.error_class(code, status) == cls


@pytest.mark.parametrize('answer, code, message, request_id, cls', [
    (error(404, 'INVALID_INSTANCE_NOT_FOUND', 'Instance does not exist.', 'T-404'), 'INVALID_INSTANCE_NOT_FOUND',
     'Instance does not exist.', 'T-404', transport.NOT_FOUND),
    (Answer(502, text='<html>Bad Gateway</html>'), 'HTTP502', 'unexpected answer: <html>Bad Gateway</html>', None, transport.TRANSIENT),
    (Answer(401, text=''), 'HTTP401', 'unexpected answer: (empty)', None, transport.AUTH),
    (Answer(403, text='<html>challenge</html>', headers={'cf-mitigated': 'challenge'}), 'SECURITY_CHALLENGE',
     'the request was stopped by a security challenge (HTTP 403), a network-layer block, not an API error', None, transport.FAILED),
    (Answer(200, {'requestId': 'T-NR'}), 'MalformedResponse', 'unexpected answer: {"requestId": "T-NR"}', 'T-NR', transport.AMBIGUOUS),
    (Answer(200, text='[1]'), 'MalformedResponse', 'unexpected answer: [1]', None, transport.AMBIGUOUS),
])
def test_answers_that_are_errors(answer, code, message, request_id, cls):
    cloud, dummy = provider({})
    with pytest.raises(transport.ProviderError) as err:
        cloud.answer('DescribeInstances', answer)
    assert (err.value.code, err.value.message, err.value.request_id, err.value.http_status, err.value.error_class) == (
        code, message, request_id, answer.status_code, cls)


def test_a_success_is_the_inner_response():
    cloud, dummy = provider({})
    assert cloud.answer('AssociateSecurityGroupInstance', ok(request_id='T-IN')) == {'requestId': 'T-IN'}


def test_the_password_is_the_only_secret_and_inferred_facts_live_in_one_place():
    assert zenlayer.ZenlayerCloud.secrets({'access_key_id': AK, 'access_key_password': SK}) == [SK]
    spec = zenlayer.ZenlayerCloud.argument_spec
    assert spec['access_key_password']['no_log'] is True and spec['access_key_id']['no_log'] is False
    assert spec['access_key_id']['fallback'][1] == ['ZENLAYERCLOUD_ACCESS_KEY_ID']
    assert spec['access_key_password']['fallback'][1] == ['ZENLAYERCLOUD_ACCESS_KEY_PASSWORD']
    assert 'region' not in spec
    assert zenlayer.ZenlayerCloud.default_rate_limit == zenlayer.INFERRED['default_rate_limit']
    assert zenlayer.ZenlayerCloud.rate_limits == {} and zenlayer.ZenlayerCloud.completion == 'eventual'


# -- through the engine ---------------------------------------------------------------------------

def engine_params(**changes):
    params = dict(instance_ids=[VM_1], security_group_ids=[SG_A], state='present', purge=False, endpoint=None, validate_certs=True,
                  timeout=30.0, retries=8, retry_delay=0.5, retry_max_delay=20.0, max_concurrency=8, max_security_groups=None,
                  rate_limit=None, wait=True, wait_timeout=300, access_key_id=AK, access_key_password=SK)
    params.update(changes)
    return params


def test_the_options_are_the_common_ones_with_wait_and_without_region():
    spec = engine.argument_spec(zenlayer.ZenlayerCloud)
    assert 'region' not in spec and spec['wait']['default'] is True
    assert engine.module_options(zenlayer.ZenlayerCloud)['required_one_of'] == [['instance_ids', 'network_interface_ids', 'zec_instance_ids']]
    assert set(zenlayer.ZenlayerCloud.argument_spec) == set(['access_key_id', 'access_key_password'])


@pytest.mark.parametrize('option, bad', [
    ('instance_ids', '1234567'), ('instance_ids', '12345678901234567890'), ('instance_ids', '1.5e+18'),
    ('instance_ids', '80245234550492591/'), ('security_group_ids', 'sg-12345678'), ('security_group_ids', '7917212597663925 '),
])
def test_malformed_ids_are_refused_before_any_request(option, bad):
    with pytest.raises(engine.EngineFailure) as err:
        engine.validate(engine_params(**{option: [bad]}), zenlayer.ZenlayerCloud)
    assert str(err.value) == '%s: %r is not a valid Zenlayer Cloud ID; it must match [0-9]{8,19}' % (option, bad)


def test_19_digit_ids_pass_validation_untouched():
    params = engine_params(instance_ids=[VM_2, '12345678'], security_group_ids=['1234567890123456789'])
    engine.validate(params, zenlayer.ZenlayerCloud)
    assert params['instance_ids'] == [VM_2, '12345678']


# -- Elastic Compute (zec): one group per vNIC, switched ---------------------------------------------

NIC_1, NIC_2, NIC_BARE = 'nic-primary-1', 'nic-second-2', 'nic-bare-3'
ZEC_VM = 'zec-instance-1'
VPC_1, SG_VPC = 'vpc-1', '791721259766392540'


class ZecFake:
    """The zec calls over vNICs (nic -> {'sg', 'vpc', 'instance', 'type'}); a switch shows at once."""

    def __init__(self, nics):
        self.nics = nics

    def nic_info(self, nid):
        nic = self.nics[nid]
        return {'nicId': nid, 'status': 'IN_USE', 'nicType': nic['type'], 'vpcId': nic['vpc'], 'instanceId': nic['instance'],
                'securityGroupId': nic['sg']}

    @staticmethod
    def page(items, body):
        start = (body['pageNum'] - 1) * body['pageSize']
        return ok({'totalCount': len(items), 'dataSet': items[start:start + body['pageSize']]})

    def describe_nics(self, body):
        if 'securityGroupId' in body:
            items = [self.nic_info(n) for n in sorted(self.nics) if self.nics[n]['sg'] == body['securityGroupId']
                     and body.get('nicType', self.nics[n]['type']) == self.nics[n]['type']]
        else:
            items = [self.nic_info(n) for n in body['nicIds'] if n in self.nics]
        return self.page(items, body)

    def describe_instances(self, body):
        items = [{'instanceId': iid, 'status': 'RUNNING', 'tags': {'tags': []},
                  'nics': [self.nic_info(n) for n in sorted(self.nics) if self.nics[n]['instance'] == iid]}
                 for iid in body['instanceIds'] if any(nic['instance'] == iid for nic in self.nics.values())]
        return self.page(items, body)

    def modify(self, body):
        self.nics[body['nicId']]['sg'] = body['securityGroupId']
        return ok()

    def answers(self):
        return {'DescribeNetworkInterfaces': self.describe_nics, 'DescribeInstances': self.describe_instances,
                'ModifyNetworkInterfaceAttribute': self.modify,
                'DescribeSecurityGroups': lambda body: self.page([{'securityGroupId': sg} for sg in body['securityGroupIds']], body),
                'DescribeVpcs': lambda body: self.page([{'vpcId': v, 'securityGroupId': SG_VPC} for v in body['vpcIds']], body)}


def zec_nics(**groups):
    nics = {NIC_1: {'sg': SG_A, 'vpc': VPC_1, 'instance': ZEC_VM, 'type': 'Primary'},
            NIC_2: {'sg': SG_B, 'vpc': VPC_1, 'instance': ZEC_VM, 'type': 'Secondary'},
            NIC_BARE: {'sg': None, 'vpc': VPC_1, 'instance': None, 'type': 'Secondary'}}
    for nid, sg in groups.items():
        nics[nid]['sg'] = sg
    return nics


def run_zec(fake, check_mode=False, **params):
    values = dict((name, spec.get('default')) for name, spec in engine.argument_spec(zenlayer.ZenlayerCloud).items())
    values.update(access_key_id=AK, access_key_password=SK, retry_delay=0.01, security_group_ids=[SG_C])
    values.update(params)
    engine.validate(values, zenlayer.ZenlayerCloud)
    cloud, session = provider(fake.answers(), **dict((k, values[k]) for k in ('max_concurrency',)))
    cloud.params.update(values)
    cloud.__init__(cloud.params, cloud.transport, clock=lambda: TS)
    return engine.Engine(cloud, values, check_mode).run(), session


def writes(session):
    return [(r['action'], r['body']) for r in session.requests if r['action'] == 'ModifyNetworkInterfaceAttribute']


def test_a_zec_kind_talks_to_the_zec_service_with_its_version_and_the_one_group_bounds():
    cloud, session = provider(ZecFake(zec_nics()).answers(), network_interface_ids=[NIC_1])
    assert cloud.read([NIC_1, 'nic-gone']) == ({NIC_1: [SG_A]}, ['nic-gone'])
    request = session.requests[0]
    assert request['url'] == 'https://console.zenlayer.com/api/v2/zec' and request['action'] == 'DescribeNetworkInterfaces'
    assert request['headers']['X-ZC-Version'] == '2025-09-01' and request['headers']['X-ZC-Service'] == 'zec'
    assert request['body'] == {'nicIds': [NIC_1, 'nic-gone'], 'pageSize': 100, 'pageNum': 1}
    assert (cloud.constraints.min_groups, cloud.constraints.max_groups, cloud.constraints.set_batch_size) == (1, 1, 1)
    vm_cloud, dummy = provider({}, instance_ids=[VM_1])
    assert vm_cloud.url.endswith('/api/v2/vm') and vm_cloud.constraints is zenlayer.VM_CONSTRAINTS


def test_a_vnic_without_a_group_of_its_own_reads_as_none():
    cloud, dummy = provider(ZecFake(zec_nics()).answers(), network_interface_ids=[NIC_BARE])
    assert cloud.read([NIC_BARE]) == ({NIC_BARE: []}, [])


def test_purge_with_one_group_is_one_switch_per_vnic_and_a_repeat_sends_nothing():
    fake = ZecFake(zec_nics())
    result, session = run_zec(fake, network_interface_ids=[NIC_1, NIC_2, NIC_BARE], purge=True)
    assert result['changed'] and [n['after'] for n in result['network_interfaces']] == [[SG_C]] * 3
    assert sorted(body['nicId'] for dummy, body in writes(session)) == sorted([NIC_1, NIC_2, NIC_BARE])
    assert all(body['securityGroupId'] == SG_C and set(body) == {'nicId', 'securityGroupId'} for dummy, body in writes(session))
    again, session = run_zec(fake, network_interface_ids=[NIC_1, NIC_2, NIC_BARE], purge=True)
    assert not again['changed'] and writes(session) == []


def test_a_bind_onto_a_vnic_without_a_group_is_the_switch_and_one_with_a_group_is_left_alone_when_it_is_the_same():
    fake = ZecFake(zec_nics())
    result, session = run_zec(fake, network_interface_ids=[NIC_BARE, NIC_1], security_group_ids=[SG_A])
    assert [n['after'] for n in result['network_interfaces']] == [[SG_A], [SG_A]]
    assert writes(session) == [('ModifyNetworkInterfaceAttribute', {'nicId': NIC_BARE, 'securityGroupId': SG_A})]


def test_a_second_group_on_a_vnic_is_refused_before_any_write_naming_the_vnic_and_the_switch():
    fake = ZecFake(zec_nics())
    with pytest.raises(engine.EngineFailure) as err:
        run_zec(fake, network_interface_ids=[NIC_2])
    assert 'vNIC %s would have 2 security groups (%s, %s)' % (NIC_2, SG_B, SG_C) in str(err.value)
    assert 'no unbind call' in str(err.value) and 'purge: true' in str(err.value)
    assert fake.nics[NIC_2]['sg'] == SG_B


def test_absent_of_the_only_group_is_refused_explaining_there_is_no_unbind_and_absent_of_another_is_nothing():
    fake = ZecFake(zec_nics())
    with pytest.raises(engine.EngineFailure) as err:
        run_zec(fake, network_interface_ids=[NIC_1], security_group_ids=[SG_A], state='absent')
    assert ('vNIC %s would have 0 security group(s) left; the provider requires at least 1 per vNIC; %s'
            % (NIC_1, zenlayer.ONE_GROUP_NOTE)) in str(err.value)
    result, session = run_zec(fake, network_interface_ids=[NIC_1], security_group_ids=[SG_C], state='absent')
    assert not result['changed'] and writes(session) == []


def test_two_groups_or_a_quota_above_one_are_refused_for_vnics():
    with pytest.raises(engine.EngineFailure) as err:
        run_zec(ZecFake(zec_nics()), network_interface_ids=[NIC_1], security_group_ids=[SG_C, SG_D], purge=True)
    assert 'would have 2 security groups' in str(err.value)
    with pytest.raises(engine.EngineFailure) as err:
        engine.validate(engine_params(instance_ids=None, network_interface_ids=[NIC_1], max_security_groups=2), zenlayer.ZenlayerCloud)
    assert "hard limit of 1 security groups per vNIC" in str(err.value)


def test_a_zec_instance_is_its_primary_vnic():
    fake = ZecFake(zec_nics())
    result, session = run_zec(fake, zec_instance_ids=[ZEC_VM], purge=True)
    assert result['zec_instances'] == [{'zec_instance_id': ZEC_VM, 'before': [SG_A], 'after': [SG_C], 'added': [SG_C], 'removed': [SG_A]}]
    assert writes(session) == [('ModifyNetworkInterfaceAttribute', {'nicId': NIC_1, 'securityGroupId': SG_C})]
    assert fake.nics[NIC_2]['sg'] == SG_B


def test_the_reverse_question_lists_vnics_or_primary_vnics_instances_by_group():
    fake = ZecFake(zec_nics(**{NIC_2: SG_A}))
    cloud, session = provider(fake.answers(), network_interface_ids=[])
    assert cloud.bound_targets([SG_A]) == {SG_A: [NIC_1, NIC_2]}
    assert session.requests[0]['body'] == {'securityGroupId': SG_A, 'pageSize': 1000, 'pageNum': 1}
    cloud, session = provider(fake.answers(), zec_instance_ids=[])
    assert cloud.bound_targets([SG_A]) == {SG_A: [ZEC_VM]}
    assert session.requests[0]['body']['nicType'] == 'Primary'


def test_target_details_show_each_vnic_s_vpc_default_group_in_one_describe_vpcs():
    cloud, session = provider(ZecFake(zec_nics()).answers(), network_interface_ids=[NIC_1, NIC_BARE])
    cloud.read([NIC_1, NIC_BARE])
    assert cloud.target_details([NIC_1, NIC_BARE]) == {
        NIC_1: {'vpc_id': VPC_1, 'vpc_default_security_group_id': SG_VPC, 'instance_id': ZEC_VM},
        NIC_BARE: {'vpc_id': VPC_1, 'vpc_default_security_group_id': SG_VPC, 'instance_id': None}}
    assert [r['action'] for r in session.requests] == ['DescribeNetworkInterfaces', 'DescribeVpcs']


def test_zec_error_codes():
    assert zenlayer.error_class('INVALID_NIC_NOT_FOUND', 404) == transport.NOT_FOUND
    assert zenlayer.error_class('INVALID_NIC_STATUS', 400) == zenlayer.INFERRED['nic_status_class']


ZEC_POOL = [SG_A, SG_B, SG_C]


@settings(max_examples=400, deadline=None)
@given(before=st.dictionaries(st.sampled_from(['n1', 'n2', 'n3', 'n4']), st.lists(st.sampled_from(ZEC_POOL), max_size=1), min_size=1),
       wanted=st.lists(st.sampled_from(ZEC_POOL), unique=True, max_size=2), state=st.sampled_from(['present', 'absent']), purge=st.booleans())
def test_a_vnic_never_holds_two_groups_and_is_only_ever_switched(before, wanted, state, purge):
    """Property: every planned call is one switch of one vNIC to one group; no vNIC ever holds two groups or loses its
    only one, mid-change or after; a plan is refused only when the end state would break the rule."""
    def end(groups):
        if state == 'absent':
            return [sg for sg in groups if sg not in wanted]
        return list(wanted) if purge else groups + [sg for sg in wanted if sg not in groups]

    breaks_the_rule = any(end(groups) != groups and len(end(groups)) != 1 for groups in before.values())
    try:
        plan = planner.plan(before, wanted, state, purge, zenlayer.ZEC_CONSTRAINTS, 'vNIC')
    except planner.PlanError as error:
        assert breaks_the_rule and zenlayer.ONE_GROUP_NOTE in str(error)
        return
    assert not breaks_the_rule
    lists = dict((nid, list(groups)) for nid, groups in before.items())
    for op in plan['operations']:
        assert op['action'] in ('bind', 'set') and len(op['target_ids']) == 1 and len(op['security_group_ids']) == 1
        if op['action'] == 'bind':
            assert lists[op['target_ids'][0]] == []
        lists[op['target_ids'][0]] = list(op['security_group_ids'])
        assert all(len(groups) <= 1 for groups in lists.values())
        assert all(lists[nid] for nid in lists if before[nid])
    assert lists == dict((t['target_id'], t['after']) for t in plan['targets'])
