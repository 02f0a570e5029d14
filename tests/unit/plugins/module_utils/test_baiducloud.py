# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Baidu AI Cloud: bce-auth-v1 against the reference vectors and the official SDK, paths, errors, calls."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import json
import threading
import time

import pytest
from hypothesis import given, settings, strategies as st

from ansible.module_utils.six.moves.urllib.parse import parse_qsl, unquote, urlsplit

from ansible_collections.multicloud.secgroup.plugins.module_utils import _baiducloud as baidu
from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

# The official SDK is a test-only dependency, absent from the newest-ansible-core venv.
baidubce = pytest.importorskip('baidubce')
from baidubce import utils as sdk_utils  # noqa: E402  pylint: disable=wrong-import-position
from baidubce.auth import bce_v1_signer  # noqa: E402  pylint: disable=wrong-import-position
from baidubce.auth.bce_credentials import BceCredentials  # noqa: E402  pylint: disable=wrong-import-position
from baidubce.bce_client_configuration import BceClientConfiguration  # noqa: E402  pylint: disable=wrong-import-position
from baidubce.http import bce_http_client  # noqa: E402  pylint: disable=wrong-import-position
from baidubce.services.bcc.bcc_client import BccClient  # noqa: E402  pylint: disable=wrong-import-position

AK = '0123456789abcdef0123456789abcdef'
SK = 'fedcba9876543210fedcba9876543210'
STAMP = '2015-04-27T08:23:49Z'
TS = calendar.timegm(time.strptime(STAMP, '%Y-%m-%dT%H:%M:%SZ'))
BODY = '{"securityGroupId": "g-nky7qeom"}'
PREFIX = 'bce-auth-v1/%s/%s/1800/' % (AK, STAMP)


# -- the reference's SDK-computed vectors (reference/baiducloud.md section 2.2) ------------------

@pytest.mark.parametrize('method, path, params, headers, signed, expected', [
    ('PUT', '/v2/instance/i-YufwpQAe', [('bind', None)],
     {'Host': 'bcc.bj.baidubce.com', 'Content-Length': '33', 'x-bce-date': STAMP}, None,
     '/d27adac3904b0f490e4e45de06259d7f4bcac2068460472c25fec869fda52860'),
    ('PUT', '/v2/instance/i-YufwpQAe', [('bind', None)],
     {'Host': 'bcc.bj.baidubce.com', 'Content-Length': '33', 'x-bce-date': STAMP,
      'Content-Type': 'application/json;charset=utf-8'}, None,
     '/5337192f6d8dd2db125fd413d01bc72711fe2c9eb81a25df5f36e418b87487b3'),
    ('PUT', '/v2/instance/i-YufwpQAe', [('unbind', None)],
     {'Host': 'bcc.bj.baidubce.com', 'Content-Length': '33', 'x-bce-date': STAMP}, ['host', 'x-bce-date'],
     'host;x-bce-date/6af9cfaa82ab4cb0e6298a60dc4c18f566a0b041e3fa97f028323ecd8589a59a'),
    ('GET', '/v2/instance/i-YufwpQAe', [],
     {'Host': 'bcc.bj.baidubce.com', 'Content-Length': '0', 'x-bce-date': STAMP}, None,
     '/b9aa2aa21e79f4b18d24898858d2dab8e345a9b452779918ec5d387345c98b16'),
    ('GET', '/v2/securityGroup', [('instanceId', 'i-YufwpQAe'), ('maxKeys', '2'), ('marker', 'g-abc/def')],
     {'Host': 'bcc.bj.baidubce.com', 'Content-Length': '0', 'x-bce-date': STAMP}, None,
     '/bb75757e27c8e2ce3feeb71e0334410313884c9f86f8e930bfb219484e7567e3'),
    ('PUT', '/v2/instance/i-YufwpQAe', [('bind', None)],
     {'Host': '127.0.0.1:8765', 'Content-Length': '33', 'x-bce-date': STAMP}, None,
     '/47d3b7c3b5cd8fc11b3c38f6798256a29a9540f16f916f26d0d2653425f94acd'),
])
def test_reference_vectors(method, path, params, headers, signed, expected):
    assert baidu.bce_authorization(AK, SK, method, path, params, headers, TS, signed_headers=signed) == PREFIX + expected


def test_a_query_key_without_value_signs_as_key_equals():
    headers = {'Host': 'bcc.bj.baidubce.com', 'x-bce-date': STAMP}
    signed = baidu.bce_authorization(AK, SK, 'PUT', '/v2/instance/i-YufwpQAe', [('bind', None)], headers, TS)
    assert signed == baidu.bce_authorization(AK, SK, 'PUT', '/v2/instance/i-YufwpQAe', [('bind', '')], headers, TS)
    assert signed != baidu.bce_authorization(AK, SK, 'PUT', '/v2/instance/i-YufwpQAe', [('unbind', None)], headers, TS)


# -- encoding, and IDs in paths ----------------------------------------------------------------

@pytest.mark.parametrize('value, keep_slash, encoded', [
    ('AZaz09-._~', False, 'AZaz09-._~'),
    ('a b+c', False, 'a%20b%2Bc'),
    ('2015-04-27T08:23:49Z', False, '2015-04-27T08%3A23%3A49Z'),
    ('application/json;charset=utf-8', False, 'application%2Fjson%3Bcharset%3Dutf-8'),
    ('/v2/a b', True, '/v2/a%20b'),
    (u'\u00e9/', False, '%C3%A9%2F'),
])
def test_uri_encode(value, keep_slash, encoded):
    assert baidu.uri_encode(value, keep_slash) == encoded


@pytest.mark.parametrize('instance_id, path', [
    ('i-YufwpQAe', '/v2/instance/i-YufwpQAe'),
    ('i-abc/../x', '/v2/instance/i-abc%2F..%2Fx'),
    ('i-abcdefgh?x=1', '/v2/instance/i-abcdefgh%3Fx%3D1'),
    ('i-abcdefgh#frag', '/v2/instance/i-abcdefgh%23frag'),
    ('i-abc%2F', '/v2/instance/i-abc%252F'),
])
def test_instance_ids_are_encoded_whole_into_the_path(instance_id, path):
    assert baidu.instance_path(instance_id) == path
    assert unquote(path.rsplit('/', 1)[1]) == instance_id


@pytest.mark.parametrize('bad', ['i-abc/../x', 'i-abcdefgh?x=1', 'i-abcdefg', 'i-abcdefgh/', 'i-abcdefgh\n', 'g-abcdefgh', ''])
def test_bad_instance_ids_are_refused_before_any_request(bad):
    params = dict(instance_ids=['i-YufwpQAe', bad], security_group_ids=['g-nky7qeom'], timeout=30.0, retry_delay=0.5,
                  retry_max_delay=20.0, retries=8, max_concurrency=8, endpoint=None)
    with pytest.raises(engine.EngineFailure) as err:
        engine.validate(params, baidu.BaiduCloud)
    assert 'instance_ids: %r is not a valid Baidu AI Cloud ID; it must match i-[A-Za-z0-9]{8,}' % bad in str(err.value)


def test_a_built_url_keeps_an_encoded_id_inside_its_path_segment():
    cloud, dummy = provider([])
    request = cloud.build('PUT', baidu.instance_path('i-abc/../x?bind'), [('unbind', None)], b'{}')
    parts = urlsplit(request['url'])
    assert parts.path == '/v2/instance/i-abc%2F..%2Fx%3Fbind' and parts.query == 'unbind'


# -- a fake HTTP session under the real Transport ------------------------------------------------

class Answer:
    def __init__(self, status=200, body=b'', request_id='req-1'):
        self.status_code = status
        self.content = body if isinstance(body, bytes) else json.dumps(body).encode('utf-8')
        self.text = self.content.decode('utf-8')
        self.headers = {'x-bce-request-id': request_id}

    def json(self):
        return json.loads(self.text)


def error(status, code, message='it failed', request_id='req-err'):
    return Answer(status, {'requestId': request_id, 'code': code, 'message': message}, request_id)


class Session:
    """Answers by (method, path) from a dict of lists (popped in turn), records every request."""

    def __init__(self, answers, delay=0.0):
        self.answers = answers
        self.requests = []
        self.delay = delay
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0

    def request(self, method, url, headers=None, data=None, **kwargs):
        parts = urlsplit(url)
        with self.lock:
            self.requests.append({'method': method, 'url': url, 'path': parts.path, 'query': parts.query,
                                  'headers': dict(headers), 'data': data})
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            queue = self.answers.get((method, parts.path))
            answer = queue.pop(0) if isinstance(queue, list) else queue
        time.sleep(self.delay)
        with self.lock:
            self.in_flight -= 1
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self):
        pass


def provider(answers, delay=0.0, clock=lambda: TS, batch_read=True, **params):
    """A provider over a fake session; batch_read=False: reads with one GET per instance (as on an endpoint
    without listByInstanceId)."""
    defaults = dict(endpoint=None, region='bj', access_key=AK, secret_key=SK, security_token=None, max_concurrency=8)
    defaults.update(params)
    session = Session(answers, delay)
    conn = transport.Transport('baiducloud', max_retries=2, backoff=transport.Backoff(0.001, 0.001), session=session,
                               sleep=lambda s: None)
    cloud = baidu.BaiduCloud(defaults, conn, clock=clock)
    cloud.batch_read = batch_read
    return cloud, session


def instance(groups, status='Running'):
    nic = {'securityGroups': groups, 'enterpriseSecurityGroups': []}
    return Answer(200, {'instance': {'id': 'x', 'status': status, 'nicInfo': nic}})


def test_reads_run_concurrently_within_max_concurrency_and_collect_the_unknown():
    ids = ['i-%08d' % n for n in range(12)]
    answers = dict((('GET', '/v2/instance/' + i), instance(['g-%08d' % n])) for n, i in enumerate(ids))
    answers[('GET', '/v2/instance/' + ids[3])] = error(404, 'NoSuchObject')
    answers[('GET', '/v2/instance/' + ids[7])] = error(404, 'NoSuchObject')
    cloud, session = provider(answers, delay=0.02, max_concurrency=4, batch_read=False)
    current, missing = cloud.read(ids)
    assert missing == [ids[3], ids[7]]
    assert current[ids[0]] == ['g-00000000'] and len(current) == 10
    assert len(session.requests) == 12 and 2 <= session.most_in_flight <= 4
    first = session.requests[0]
    assert first['url'].startswith('https://bcc.bj.baidubce.com/v2/instance/i-') and first['data'] is None
    assert first['headers']['Host'] == 'bcc.bj.baidubce.com'
    assert first['headers']['Authorization'].startswith(PREFIX + 'host;x-bce-date/')


def test_reads_stop_sending_after_an_authentication_failure():
    ids = ['i-%08d' % n for n in range(6)]
    answers = dict((('GET', '/v2/instance/' + i), error(400, 'SignatureDoesNotMatch')) for i in ids)
    cloud, session = provider(answers, max_concurrency=1, batch_read=False)
    with pytest.raises(transport.ProviderError) as err:
        cloud.read(ids)
    assert err.value.code == 'SignatureDoesNotMatch' and err.value.error_class == transport.AUTH
    assert len(session.requests) == 1


def test_a_malformed_instance_answer_is_an_error_not_a_traceback():
    cloud, dummy = provider({('GET', '/v2/instance/i-YufwpQAe'): Answer(200, {'instance': {'status': 'Running'}})}, batch_read=False)
    with pytest.raises(transport.ProviderError) as err:
        cloud.read(['i-YufwpQAe'])
    assert err.value.code == 'MalformedResponse' and 'nicInfo.securityGroups' in err.value.message


def test_expired_instances_are_refused_only_for_binds():
    cloud, dummy = provider({('GET', '/v2/instance/i-expired1'): instance(['g-aaaaaaaa', 'g-bbbbbbbb'], 'Expired'),
                             ('GET', '/v2/instance/i-running1'): instance(['g-aaaaaaaa'])}, batch_read=False)
    current, dummy = cloud.read(['i-expired1', 'i-running1'])
    bind = planner.plan(current, ['g-cccccccc'], 'present', False, cloud.constraints)
    assert [iid for iid, why in cloud.refusals(bind['targets'])] == ['i-expired1']
    assert 'SecurityGroup.ExpiredInstanceForbiddenBind' in cloud.refusals(bind['targets'])[0][1]
    unbind = planner.plan(current, ['g-bbbbbbbb'], 'absent', False, cloud.constraints)
    assert cloud.refusals(unbind['targets']) == []


def test_missing_security_groups_is_one_filtered_list_call_following_next_marker():
    pages = [Answer(200, {'marker': '', 'isTruncated': True, 'nextMarker': 'g-cccccccc', 'maxKeys': 1000,
                          'securityGroups': [{'id': 'g-aaaaaaaa'}]}),
             Answer(200, {'marker': 'g-cccccccc', 'isTruncated': False, 'maxKeys': 1000, 'securityGroups': []})]
    cloud, session = provider({('GET', '/v2/securityGroup'): pages})
    assert cloud.missing_security_groups(['g-aaaaaaaa', 'g-bbbbbbbb']) == ['g-bbbbbbbb']
    queries = [dict(parse_qsl(r['query'])) for r in session.requests]
    assert queries == [{'securityGroupIds': 'g-aaaaaaaa,g-bbbbbbbb', 'maxKeys': '1000'},
                       {'securityGroupIds': 'g-aaaaaaaa,g-bbbbbbbb', 'maxKeys': '1000', 'marker': 'g-cccccccc'}]


def test_a_marker_that_does_not_move_ends_the_listing_with_an_error():
    page = Answer(200, {'isTruncated': True, 'nextMarker': 'g-cccccccc', 'securityGroups': []})
    cloud, session = provider({('GET', '/v2/securityGroup'): page})
    with pytest.raises(transport.ProviderError) as err:
        cloud.missing_security_groups(['g-aaaaaaaa'])
    assert err.value.code == 'MalformedResponse' and len(session.requests) == 2


@pytest.mark.parametrize('action', ['bind', 'unbind'])
def test_writes_are_signed_puts_with_the_group_in_the_body_and_an_empty_answer(action):
    cloud, session = provider({('PUT', '/v2/instance/i-YufwpQAe'): Answer(200, b'', 'req-write')},
                              security_token='session-token-1', endpoint='http://127.0.0.1:8765/', write_api='per_instance')
    assert cloud.apply({'action': action, 'security_group_ids': ['g-nky7qeom'], 'target_ids': ['i-YufwpQAe']}) == ['req-write']
    sent = session.requests[0]
    assert sent['url'] == 'http://127.0.0.1:8765/v2/instance/i-YufwpQAe?' + action
    assert json.loads(sent['data'].decode('utf-8')) == {'securityGroupId': 'g-nky7qeom'}
    headers = sent['headers']
    assert headers['x-bce-security-token'] == 'session-token-1' and headers['Host'] == '127.0.0.1:8765'
    assert headers['Content-Length'] == str(len(sent['data'])) and headers['Content-Type'] == baidu.CONTENT_TYPE
    assert headers['x-bce-date'] == STAMP
    assert headers['Authorization'].startswith(PREFIX + 'content-length;content-type;host;x-bce-date;x-bce-security-token/')


def test_a_failed_write_is_not_retried_and_reports_code_message_request_id_and_status():
    cloud, session = provider({('PUT', '/v2/instance/i-YufwpQAe'): error(500, 'InternalError', 'boom', 'req-500')}, write_api='per_instance')
    with pytest.raises(transport.ProviderError) as err:
        cloud.apply({'action': 'bind', 'security_group_ids': ['g-nky7qeom'], 'target_ids': ['i-YufwpQAe']})
    assert err.value.to_dict() == {'provider': 'baiducloud', 'action': 'BindSecurityGroup', 'code': 'InternalError',
                                   'message': 'boom', 'request_id': 'req-500', 'http_status': 500}
    assert len(session.requests) == 1


def test_throttled_requests_are_re_signed_and_retried_even_for_writes_after_their_retry_after():
    clock = iter(range(TS, TS + 100))
    throttled = error(429, 'TooManyRequests')
    throttled.headers['Retry-After'] = '3'
    answers = [throttled, error(429, 'TooManyRequests'), Answer(200, b'', 'req-ok')]
    cloud, session = provider({('PUT', '/v2/instance/i-YufwpQAe'): answers}, write_api='per_instance')
    slept = []
    cloud.transport.sleep = slept.append
    cloud.transport.backoff = transport.Backoff(0.001, 10.0)     # Retry-After is honoured up to the backoff's cap
    cloud.clock = lambda: next(clock)
    assert cloud.apply({'action': 'unbind', 'security_group_ids': ['g-nky7qeom'], 'target_ids': ['i-YufwpQAe']}) == ['req-ok']
    dates = [r['headers']['x-bce-date'] for r in session.requests]
    assert len(dates) == 3 and len(set(dates)) == 3
    assert slept[0] == 3 and slept[1] <= 0.002      # the first answer's Retry-After; the second has none: the 1 ms backoff


def test_an_expired_request_is_a_skewed_clock_failed_at_once_with_the_ntp_hint():
    answers = [error(400, 'RequestExpired', 'Request has expired. Timestamp date is 2015-04-27T08:23:49Z'), Answer(200, b'', 'req-ok')]
    cloud, session = provider({('PUT', '/v2/instance/i-YufwpQAe'): answers}, write_api='per_instance')
    with pytest.raises(transport.ProviderError) as err:
        cloud.apply({'action': 'unbind', 'security_group_ids': ['g-nky7qeom'], 'target_ids': ['i-YufwpQAe']})
    assert err.value.code == 'RequestExpired' and err.value.error_class == transport.AUTH and len(session.requests) == 1
    assert 'check the system clock (NTP)' in err.value.message and 'Timestamp date is 2015-04-27' in err.value.message


# -- error classification (reference section 4) ----------------------------------------------

@pytest.mark.parametrize('status, code, cls', [
    (429, 'TooManyRequests', transport.THROTTLED),
    (400, 'RequestLimitExceeded', transport.THROTTLED),
    (403, 'Throttling.User', transport.THROTTLED),
    (400, 'RequestExpired', transport.AUTH),
    (500, 'InternalError', transport.TRANSIENT),
    (502, 'HTTP502', transport.TRANSIENT),
    (503, 'ServiceUnavailable', transport.TRANSIENT),
    (504, 'HTTP504', transport.TRANSIENT),
    (504, 'GatewayTimeout', transport.TRANSIENT),
    (400, 'SignatureDoesNotMatch', transport.AUTH),
    (403, 'InvalidAccessKeyId', transport.AUTH),
    (403, 'AccessDenied', transport.AUTH),
    (404, 'NoSuchObject', transport.NOT_FOUND),
    (404, 'InvalidVersion', transport.INVALID),
    (413, 'SecurityGroup.BindInstanceExceededLimit', transport.QUOTA),
    (403, 'SecurityGroup.ExpiredInstanceForbiddenBind', transport.CONFLICT),
    (400, 'SecurityGroup.NoSecurityGroup', transport.CONFLICT),
    (403, 'SecurityGroup.NoSecurityGroup', transport.CONFLICT),
    (409, 'OperationDenied', transport.IN_PROGRESS),
    (400, 'OperationDenied', transport.IN_PROGRESS),
    (400, 'MalformedJSON', transport.INVALID),
])
def test_error_classes(status, code, cls):
    assert baidu.error_class(code, status) == cls


@pytest.mark.parametrize('answer, code, message, request_id, cls', [
    (Answer(502, b'<html>Bad Gateway</html>', 'req-h'), 'HTTP502', 'unexpected answer: <html>Bad Gateway</html>', 'req-h',
     transport.TRANSIENT),
    (Answer(403, b'', 'req-e'), 'HTTP403', 'unexpected answer: (empty)', 'req-e', transport.INVALID),
    (Answer(200, b'not json', 'req-j'), 'MalformedResponse', 'unexpected answer: not json', 'req-j', transport.INVALID),
    (Answer(400, {'requestId': 'req-body', 'code': 'InvalidHTTPAuthHeader', 'message': 'bad header'}, 'req-head'),
     'InvalidHTTPAuthHeader', 'bad header', 'req-body', transport.AUTH),
])
def test_answers_that_are_errors(answer, code, message, request_id, cls):
    cloud, dummy = provider({})
    with pytest.raises(transport.ProviderError) as err:
        cloud.answer('GetInstance', answer)
    assert (err.value.code, err.value.message, err.value.request_id, err.value.http_status, err.value.error_class) == (
        code, message, request_id, answer.status_code, cls)


def test_operation_denied_is_retried_on_a_bind_and_a_read():
    # Issue 8 item 4. Before: OperationDenied was INVALID, so the bind and the read failed on their first attempt.
    path = '/v2/instance/i-YufwpQAe'
    denied = error(409, 'OperationDenied', 'The instance is being operated on, please retry later.')
    cloud, session = provider({('PUT', path): [denied, denied, Answer(200, b'', 'req-bind')],
                               ('GET', path): [denied, instance(['g-nky7qeom'])]}, write_api='per_instance', batch_read=False)
    assert cloud.apply({'action': 'bind', 'security_group_ids': ['g-nky7qeom'], 'target_ids': ['i-YufwpQAe']}) == ['req-bind']
    assert cloud.read(['i-YufwpQAe']) == ({'i-YufwpQAe': ['g-nky7qeom']}, [])
    assert [r['method'] for r in session.requests] == ['PUT', 'PUT', 'PUT', 'GET', 'GET']


def test_a_bare_504_is_transient_retried_on_reads_and_not_resent_on_writes():
    # Issue 8 item 4. Before: a 504 without a Baidu envelope was INVALID: the read failed on its first attempt.
    path = '/v2/instance/i-YufwpQAe'
    gateway = Answer(504, b'<html>504 Gateway Time-out</html>', 'req-gw')
    cloud, session = provider({('GET', path): [gateway, instance(['g-nky7qeom'])], ('PUT', path): [gateway]}, write_api='per_instance',
                              batch_read=False)
    assert cloud.read(['i-YufwpQAe']) == ({'i-YufwpQAe': ['g-nky7qeom']}, [])
    with pytest.raises(transport.ProviderError) as err:
        cloud.apply({'action': 'bind', 'security_group_ids': ['g-nky7qeom'], 'target_ids': ['i-YufwpQAe']})
    assert (err.value.code, err.value.http_status, err.value.error_class) == ('HTTP504', 504, transport.TRANSIENT)
    assert [r['method'] for r in session.requests] == ['GET', 'GET', 'PUT']


def test_success_bodies_may_be_empty():
    cloud, dummy = provider({})
    assert cloud.answer('BindSecurityGroup', Answer(200, b'', 'req-empty')) == ({}, 'req-empty')
    assert cloud.answer('GetInstance', Answer(200, {'instance': {}}, 'r')) == ({'instance': {}}, 'r')


# -- byte for byte against the official SDK (bce-python-sdk), frozen clock ---------------------

def sdk_bytes(value):
    return value.encode('utf-8') if not isinstance(value, bytes) else value


def sdk_sign(ak, sk, method, path, params, headers, ts, headers_to_sign=None):
    """The SDK's signer over the same request. Its canonical URI is the path it is given: give it
    UriEncodeExceptSlash of the decoded path, as the documented algorithm (and the Go SDK) do."""
    sdk_path = sdk_utils.normalize_string(unquote(path), False)
    sdk_headers = dict((sdk_bytes(k), sdk_bytes(v)) for k, v in headers.items())
    sdk_params = dict((sdk_bytes(k), None if v is None else sdk_bytes(v)) for k, v in params)
    to_sign = [sdk_bytes(h) for h in headers_to_sign] if headers_to_sign else None
    return bce_v1_signer.sign(BceCredentials(ak, sk), sdk_bytes(method), sdk_path, sdk_headers, sdk_params,
                              ts, 1800, to_sign).decode('utf-8')


printable = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
anything = st.text(max_size=20)
secrets = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)
header_names = st.text(alphabet='abcdefghijklmnopqrstuvwxyz-', min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(ak=secrets, sk=secrets, method=st.sampled_from(['GET', 'PUT', 'POST', 'DELETE']),
       segments=st.lists(anything, min_size=1, max_size=4),
       params=st.dictionaries(anything.filter(lambda k: k.lower() != 'authorization'), st.one_of(st.none(), anything), max_size=4),
       bce_headers=st.dictionaries(header_names.map(lambda n: 'x-bce-' + n), printable, max_size=3),
       other_headers=st.dictionaries(header_names.filter(lambda n: not n.startswith('x-bce-')), printable, max_size=3),
       ts=st.integers(1, 4102444800), explicit=st.booleans())
def test_the_signer_matches_the_sdk_on_random_requests(ak, sk, method, segments, params, bce_headers, other_headers, ts, explicit):
    headers = dict(other_headers)
    headers.update(bce_headers)
    headers['Host'] = 'bcc.bj.baidubce.com'
    path = '/' + '/'.join(baidu.uri_encode(s) for s in segments)
    pairs = list(params.items())
    # An explicit list names every x-bce-* header (the SDK signs them whatever the list says).
    signed = sorted(set(['host'] + [h for h in headers if h.startswith('x-bce-')] + list(other_headers)[:1])) if explicit else None
    ours = baidu.bce_authorization(ak, sk, method, path, pairs, headers, ts, signed_headers=signed)
    assert ours == sdk_sign(ak, sk, method, path, pairs, headers, ts, signed)


ids = st.text(alphabet='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', min_size=8, max_size=14)


@settings(max_examples=200, deadline=None)
@given(ak=secrets, sk=secrets, ts=st.integers(946684800, 4102444800), token=st.one_of(st.none(), secrets),
       endpoint=st.sampled_from([None, 'http://127.0.0.1:8765', 'https://bcc.gz.baidubce.com', 'http://localhost:80/']),
       action=st.sampled_from(['bind', 'unbind', 'get', 'list']), iid=ids, sgs=st.lists(ids, min_size=1, max_size=3))
def test_our_requests_carry_the_authorization_the_sdk_computes(ak, sk, ts, token, endpoint, action, iid, sgs):
    cloud, dummy = provider({}, clock=lambda: ts, access_key=ak, secret_key=sk, security_token=token, endpoint=endpoint)
    if action in ('bind', 'unbind'):
        request = cloud.build('PUT', baidu.instance_path('i-' + iid), [(action, None)],
                              json.dumps({'securityGroupId': 'g-' + sgs[0]}).encode('utf-8'))
    elif action == 'get':
        request = cloud.build('GET', baidu.instance_path('i-' + iid), [], None)
    else:
        request = cloud.build('GET', '/v2/securityGroup', [('securityGroupIds', ','.join('g-' + s for s in sgs)),
                                                           ('maxKeys', '1000')], None)
    headers = dict(request['headers'])
    authorization = headers.pop('Authorization')
    signed = authorization.rsplit('/', 2)[1].split(';')
    assert signed == sorted(h.lower() for h in headers)         # every header sent is signed
    parts = urlsplit(request['url'])
    params = [(k, v or None) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    assert authorization == sdk_sign(ak, sk, request['method'], parts.path, params, headers, ts, signed)
    assert headers['x-bce-date'] == time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(ts))
    assert ('x-bce-security-token' in headers) == bool(token)


class Captured(Exception):
    pass


@settings(max_examples=100, deadline=None)
@given(ak=secrets, sk=secrets, ts=st.integers(946684800, 4102444800), iid=ids, sg=ids,
       call=st.sampled_from(['bind', 'unbind', 'get_instance', 'list_security_groups', 'get_security_group_detail']))
def test_the_sdk_client_requests_verify_with_our_signer(ak, sk, ts, iid, sg, call):
    """What BccClient itself sends (empty signed-header list) carries the signature our signer computes."""
    sent = []

    def capture(conn, http_method, uri, headers, body, send_buf_size):
        sent.append((http_method, uri, dict(headers)))
        raise Captured()

    original = (bce_http_client._send_http_request, sdk_utils.get_canonical_time)
    frozen = original[1](ts)
    bce_http_client._send_http_request = capture
    sdk_utils.get_canonical_time = lambda timestamp=0: frozen
    try:
        config = BceClientConfiguration(credentials=BceCredentials(ak, sk), endpoint='http://127.0.0.1:8765')
        config.retry_policy = baidubce.retry.retry_policy.NoRetryPolicy()
        client = BccClient(config)
        calls = {'bind': lambda: client.bind_instance_to_security_group('i-' + iid, 'g-' + sg),
                 'unbind': lambda: client.unbind_instance_from_security_group('i-' + iid, 'g-' + sg),
                 'get_instance': lambda: client.get_instance('i-' + iid),
                 'list_security_groups': lambda: client.list_security_groups(instance_id='i-' + iid, max_keys=2, marker='g-' + sg),
                 'get_security_group_detail': lambda: client.get_security_group_detail('g-' + sg)}
        with pytest.raises(Exception):
            calls[call]()
    finally:
        bce_http_client._send_http_request, sdk_utils.get_canonical_time = original
    method, uri, headers = sent[0]
    method, uri = method.decode('utf-8'), uri.decode('utf-8')
    headers = dict((k.decode('utf-8') if isinstance(k, bytes) else k, v.decode('utf-8') if isinstance(v, bytes) else str(v))
                   for k, v in headers.items())
    authorization = headers.pop('Authorization')
    parts = urlsplit(uri)
    params = [(k, v or None) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    assert authorization == baidu.bce_authorization(ak, sk, method, parts.path, params, headers, ts)


# -- batch writes and reads ---------------------------------------------------------------------

def listed(ids, groups=('g-aaaaaaaa',), status='Running'):
    return Answer(200, {'marker': '', 'isTruncated': False, 'maxKeys': 1000,
                        'instances': [{'id': i, 'status': status, 'nicInfo': {'securityGroups': list(groups)}, 'tags': []} for i in ids]})


def test_reads_are_one_list_by_ids_call_per_100_instances_and_gets_for_the_unlisted():
    ids = ['i-%08d' % n for n in range(205)]
    listing = [listed(ids[:100]), listed(ids[100:199]),
               Answer(200, {'instances': [{'id': ids[200], 'status': 'Running', 'nicInfo': {}}]})]     # no SG list: GET it
    cloud, session = provider({('POST', '/v2/instance/listByInstanceId'): listing,
                               ('GET', '/v2/instance/' + ids[199]): error(404, 'NoSuchObject'),
                               ('GET', '/v2/instance/' + ids[200]): instance(['g-bbbbbbbb'], 'Expired'),
                               ('GET', '/v2/instance/' + ids[201]): error(404, 'NoSuchObject'),
                               ('GET', '/v2/instance/' + ids[202]): instance(['g-bbbbbbbb']),
                               ('GET', '/v2/instance/' + ids[203]): instance(['g-bbbbbbbb']),
                               ('GET', '/v2/instance/' + ids[204]): instance(['g-bbbbbbbb'])}, max_concurrency=1)
    current, missing = cloud.read(ids)
    assert missing == [ids[199], ids[201]] and len(current) == 203
    assert current[ids[0]] == ['g-aaaaaaaa'] and current[ids[200]] == ['g-bbbbbbbb'] and cloud.status[ids[200]] == 'Expired'
    posts = [r for r in session.requests if r['method'] == 'POST']
    bodies = [{'instanceIds': ids[:100]}, {'instanceIds': ids[100:200]}, {'instanceIds': ids[200:]}]
    assert [json.loads(r['data'].decode('utf-8')) for r in posts] == bodies
    queries = [dict(parse_qsl(r['query'])) for r in posts]
    assert all(set(q) == set(['clientToken', 'maxKeys']) and q['maxKeys'] == '1000' for q in queries)
    assert len(set(q['clientToken'] for q in queries)) == 3
    assert sorted(r['path'] for r in session.requests if r['method'] == 'GET') == sorted('/v2/instance/' + i for i in ids[199:])


def test_a_list_by_ids_page_is_followed_by_next_marker():
    pages = [Answer(200, {'isTruncated': True, 'nextMarker': 'i-bbbbbbbb', 'instances': [
        {'id': 'i-aaaaaaaa', 'nicInfo': {'securityGroups': ['g-aaaaaaaa']}, 'tags': []}]}), listed(['i-bbbbbbbb'])]
    cloud, session = provider({('POST', '/v2/instance/listByInstanceId'): pages})
    assert cloud.read(['i-aaaaaaaa', 'i-bbbbbbbb']) == ({'i-aaaaaaaa': ['g-aaaaaaaa'], 'i-bbbbbbbb': ['g-aaaaaaaa']}, [])
    assert dict(parse_qsl(session.requests[1]['query']))['marker'] == 'i-bbbbbbbb'


@pytest.mark.parametrize('answer', [error(404, 'InvalidURI'), Answer(404, b'', 'req-404'), error(405, 'MethodNotAllowed')])
def test_reads_fall_back_to_gets_where_there_is_no_list_by_ids_and_stay_there(answer):
    cloud, session = provider({('POST', '/v2/instance/listByInstanceId'): answer,
                               ('GET', '/v2/instance/i-aaaaaaaa'): instance(['g-aaaaaaaa'])})
    assert cloud.read(['i-aaaaaaaa']) == ({'i-aaaaaaaa': ['g-aaaaaaaa']}, [])
    assert cloud.read(['i-aaaaaaaa']) == ({'i-aaaaaaaa': ['g-aaaaaaaa']}, [])
    assert [r['method'] for r in session.requests] == ['POST', 'GET', 'GET']


def test_a_list_by_ids_auth_failure_is_reported_not_worked_around():
    cloud, session = provider({('POST', '/v2/instance/listByInstanceId'): error(400, 'SignatureDoesNotMatch')})
    with pytest.raises(transport.ProviderError) as err:
        cloud.read(['i-aaaaaaaa'])
    assert err.value.code == 'SignatureDoesNotMatch' and len(session.requests) == 1


def batch_op(action='bind', targets=('i-aaaaaaaa', 'i-bbbbbbbb')):
    return {'action': action, 'security_group_ids': ['g-nky7qeom'], 'target_ids': list(targets)}


@pytest.mark.parametrize('action', ['bind', 'unbind'])
def test_a_batch_write_is_one_put_with_a_client_token_and_the_sdk_body(action):
    cloud, session = provider({('PUT', '/v2/securitygroup/' + action): Answer(200, {'requestId': 'req-b'}, 'req-b')})
    assert cloud.apply(batch_op(action)) == ['req-b']
    sent = session.requests[0]
    assert sent['data'] == json.dumps({'instanceIds': ['i-aaaaaaaa', 'i-bbbbbbbb'], 'securityGroupIds': ['g-nky7qeom'],
                                       'securityGroupType': 'normal'}).encode('utf-8')
    token = dict(parse_qsl(sent['query']))['clientToken']
    assert set(dict(parse_qsl(sent['query']))) == set(['clientToken']) and 0 < len(token) <= baidu.CLIENT_TOKEN_LENGTH


@pytest.mark.parametrize('failure', [ConnectionResetError('dropped after sending'), error(500, 'InternalError'),
                                     Answer(504, b'<html>504</html>', 'req-gw')])
def test_a_batch_write_of_unknown_outcome_is_resent_with_the_same_token(failure):
    if isinstance(failure, Exception):
        failure = transport.requests.exceptions.ConnectionError(failure)
    cloud, session = provider({('PUT', '/v2/securitygroup/bind'): [failure, Answer(200, {'requestId': 'req-2'}, 'req-2')]})
    assert cloud.apply(batch_op()) == ['req-2']
    first, second = session.requests
    assert first['url'] == second['url'] and first['data'] == second['data'] and 'clientToken=' in first['url']


def test_a_token_mismatch_is_permanent_and_not_resent():
    cloud, session = provider({('PUT', '/v2/securitygroup/bind'): error(403, 'IdempotentParameterMismatch')})
    with pytest.raises(transport.ProviderError) as err:
        cloud.apply(batch_op())
    assert err.value.error_class == transport.INVALID and len(session.requests) == 1


def test_a_refused_batch_is_not_split_or_resent():
    cloud, session = provider({('PUT', '/v2/securitygroup/bind'): error(413, 'SecurityGroup.BindInstanceExceededLimit')})
    with pytest.raises(transport.ProviderError) as err:
        cloud.apply(batch_op())
    assert err.value.action == 'BatchBindSecurityGroup' and len(session.requests) == 1 and cloud.batch


def test_without_a_batch_api_the_operation_is_sent_per_instance_with_one_warning():
    cloud, session = provider({('PUT', '/v2/securitygroup/unbind'): error(404, 'InvalidURI', request_id='req-404'),
                               ('PUT', '/v2/instance/i-aaaaaaaa'): Answer(200, b'', 'req-a'),
                               ('PUT', '/v2/instance/i-bbbbbbbb'): Answer(200, b'', 'req-b')})
    assert cloud.apply(batch_op('unbind')) == ['req-a', 'req-b']
    assert cloud.apply(batch_op('unbind', ['i-aaaaaaaa'])) == ['req-a']
    assert [(r['path'], r['query']) for r in session.requests] == [
        ('/v2/securitygroup/unbind', session.requests[0]['query']), ('/v2/instance/i-aaaaaaaa', 'unbind'),
        ('/v2/instance/i-bbbbbbbb', 'unbind'), ('/v2/instance/i-aaaaaaaa', 'unbind')]
    assert len(cloud.warnings) == 1 and 'InvalidURI' in cloud.warnings[0] and 'req-404' in cloud.warnings[0]


def groups_listed(ids):
    return Answer(200, {'marker': '', 'isTruncated': False, 'maxKeys': 1000, 'securityGroups': [{'id': g, 'name': g} for g in ids]})


def test_a_batch_answered_no_such_object_while_its_instances_and_group_exist_means_no_batch_api():
    cloud, session = provider({('PUT', '/v2/securitygroup/bind'): error(404, 'NoSuchObject', request_id='req-404'),
                               ('GET', '/v2/instance/i-aaaaaaaa'): instance(['g-aaaaaaaa']),
                               ('GET', '/v2/instance/i-bbbbbbbb'): instance(['g-aaaaaaaa']),
                               ('GET', '/v2/securityGroup'): groups_listed(['g-nky7qeom']),
                               ('PUT', '/v2/instance/i-aaaaaaaa'): Answer(200, b'', 'req-a'),
                               ('PUT', '/v2/instance/i-bbbbbbbb'): Answer(200, b'', 'req-b')}, max_concurrency=1)
    assert cloud.apply(batch_op()) == ['req-a', 'req-b']
    assert cloud.apply(batch_op('bind', ['i-bbbbbbbb'])) == ['req-b']       # no batch attempt any more
    assert [(r['method'], r['path']) for r in session.requests] == [
        ('PUT', '/v2/securitygroup/bind'), ('GET', '/v2/instance/i-aaaaaaaa'), ('GET', '/v2/instance/i-bbbbbbbb'), ('GET', '/v2/securityGroup'),
        ('PUT', '/v2/instance/i-aaaaaaaa'), ('PUT', '/v2/instance/i-bbbbbbbb'), ('PUT', '/v2/instance/i-bbbbbbbb')]
    assert len(cloud.warnings) == 1 and 'NoSuchObject' in cloud.warnings[0] and 'req-404' in cloud.warnings[0]


@pytest.mark.parametrize('gone', ['instance', 'group'])
def test_a_batch_answered_no_such_object_for_a_missing_instance_or_group_is_reported_not_sent_per_instance(gone):
    cloud, session = provider({('PUT', '/v2/securitygroup/bind'): error(404, 'NoSuchObject', request_id='req-404'),
                               ('GET', '/v2/instance/i-aaaaaaaa'): instance(['g-aaaaaaaa']),
                               ('GET', '/v2/instance/i-bbbbbbbb'): error(404, 'NoSuchObject') if gone == 'instance' else instance([]),
                               ('GET', '/v2/securityGroup'): groups_listed([] if gone == 'group' else ['g-nky7qeom'])})
    with pytest.raises(transport.ProviderError) as err:
        cloud.apply(batch_op())
    assert err.value.action == 'BatchBindSecurityGroup' and err.value.code == 'NoSuchObject' and err.value.request_id == 'req-404'
    assert not [r for r in session.requests if r['method'] == 'PUT' and r['path'].startswith('/v2/instance/')]
    assert cloud.batch and cloud.warnings == []


def test_a_list_by_ids_that_fails_on_an_unknown_id_is_read_with_gets_and_the_unknown_is_missing():
    cloud, session = provider({('POST', '/v2/instance/listByInstanceId'): [error(404, 'NoSuchObject'), error(404, 'NoSuchObject')],
                               ('GET', '/v2/instance/i-aaaaaaaa'): instance(['g-aaaaaaaa']),
                               ('GET', '/v2/instance/i-bbbbbbbb'): error(404, 'NoSuchObject')})
    assert cloud.read(['i-aaaaaaaa', 'i-bbbbbbbb']) == ({'i-aaaaaaaa': ['g-aaaaaaaa']}, ['i-bbbbbbbb'])
    assert cloud.batch_read         # the call exists: it refused the unknown ID
    assert cloud.read(['i-aaaaaaaa', 'i-bbbbbbbb']) == ({'i-aaaaaaaa': ['g-aaaaaaaa']}, ['i-bbbbbbbb'])
    assert [r['method'] for r in session.requests] == ['POST', 'GET', 'GET'] * 2


def test_a_list_by_ids_answered_not_found_for_instances_that_exist_is_a_missing_call_and_not_tried_again():
    cloud, session = provider({('POST', '/v2/instance/listByInstanceId'): error(404, 'NoSuchObject'),
                               ('GET', '/v2/instance/i-aaaaaaaa'): instance(['g-aaaaaaaa'])})
    assert cloud.read(['i-aaaaaaaa']) == ({'i-aaaaaaaa': ['g-aaaaaaaa']}, [])
    assert cloud.read(['i-aaaaaaaa']) == ({'i-aaaaaaaa': ['g-aaaaaaaa']}, [])
    assert [r['method'] for r in session.requests] == ['POST', 'GET', 'GET'] and not cloud.batch_read


def test_a_purge_is_refused_on_an_instance_with_enterprise_groups_read_either_way():
    with_esg = Answer(200, {'instances': [{'id': 'i-aaaaaaaa', 'status': 'Running', 'tags': [],
                                           'nicInfo': {'securityGroups': [], 'enterpriseSecurityGroups': ['esg-ub0q1p72pbmh']}}]})
    esg_instance = Answer(200, {'instance': {'id': 'i-bbbbbbbb', 'status': 'Running',
                                             'nicInfo': {'securityGroups': ['g-aaaaaaaa'], 'enterpriseSecurityGroups': ['esg-7dyv27r6pnse']}}})
    cloud, session = provider({('POST', '/v2/instance/listByInstanceId'): with_esg,
                               ('GET', '/v2/instance/i-bbbbbbbb'): esg_instance,
                               ('GET', '/v2/instance/i-cccccccc'): instance(['g-aaaaaaaa'])}, purge=True, state='present')
    cloud.read(['i-aaaaaaaa', 'i-bbbbbbbb', 'i-cccccccc'])
    targets = [{'target_id': t, 'before': ['g-aaaaaaaa'], 'after': ['g-aaaaaaaa'], 'added': [], 'removed': []}
               for t in ('i-aaaaaaaa', 'i-bbbbbbbb', 'i-cccccccc')]
    refused = cloud.refusals(targets)
    assert [tid for tid, dummy in refused] == ['i-aaaaaaaa', 'i-bbbbbbbb']      # even with nothing to change
    assert 'esg-ub0q1p72pbmh' in refused[0][1] and 'purge' in refused[0][1] and 'replace' in refused[0][1]
    cloud.params['purge'] = False
    assert cloud.refusals(targets) == []


def test_write_api_and_batch_size_set_the_plan_batch():
    assert provider({})[0].constraints.batch_size == baidu.DEFAULT_BATCH_SIZE
    assert provider({}, batch_size=40)[0].constraints.batch_size == 40
    assert provider({}, batch_size=40, write_api='per_instance')[0].constraints.batch_size == 1
    with pytest.raises(engine.EngineFailure) as err:
        engine.validate(dict(instance_ids=[], security_group_ids=[], region='bj', batch_size=101, timeout=30.0, retries=1,
                             max_concurrency=8), baidu.BaiduCloud)
    assert str(err.value) == 'batch_size: 101 must be between 1 and 100'


# -- the batch calls byte for byte against the SDK's bind_sg / unbind_sg / list_instance_by_instance_ids

def sdk_capture(ak, sk, ts, call):
    """(method, path, query pairs, headers, body) of what BccClient sends for call(client), frozen clock."""
    sent = []

    def capture(conn, http_method, uri, headers, body, send_buf_size):
        sent.append((http_method, uri, dict(headers), body))
        raise Captured()

    original = (bce_http_client._send_http_request, sdk_utils.get_canonical_time)
    frozen = original[1](ts)
    bce_http_client._send_http_request = capture
    sdk_utils.get_canonical_time = lambda timestamp=0: frozen
    try:
        config = BceClientConfiguration(credentials=BceCredentials(ak, sk), endpoint='http://127.0.0.1:8765')
        config.retry_policy = baidubce.retry.retry_policy.NoRetryPolicy()
        with pytest.raises(Exception):
            call(BccClient(config))
    finally:
        bce_http_client._send_http_request, sdk_utils.get_canonical_time = original
    method, uri, headers, body = sent[0]
    headers = dict((k.decode('utf-8') if isinstance(k, bytes) else k, v.decode('utf-8') if isinstance(v, bytes) else str(v))
                   for k, v in headers.items())
    parts = urlsplit(uri.decode('utf-8'))
    return method.decode('utf-8'), parts.path, parse_qsl(parts.query, keep_blank_values=True), headers, sdk_bytes(body)


@settings(max_examples=60, deadline=None)
@given(ak=secrets, sk=secrets, ts=st.integers(946684800, 4102444800), token=st.text(alphabet='abcdef0123456789-', min_size=1, max_size=64),
       instances=st.lists(ids, min_size=1, max_size=5, unique=True), sgs=st.lists(ids, min_size=1, max_size=3, unique=True),
       action=st.sampled_from(['bind', 'unbind', 'list']))
def test_batch_requests_equal_the_sdks(ak, sk, ts, token, instances, sgs, action):
    instance_ids, sg_ids = ['i-' + i for i in instances], ['g-' + g for g in sgs]
    if action == 'list':
        sdk = sdk_capture(ak, sk, ts, lambda c: c.list_instance_by_instance_ids(instance_ids, max_keys=1000, client_token=token))
    else:
        sdk = sdk_capture(ak, sk, ts, lambda c: getattr(c, action + '_sg')(instance_ids, sg_ids, 'normal', client_token=token))
    cloud, session = provider({}, clock=lambda: ts, access_key=ak, secret_key=sk, endpoint='http://127.0.0.1:8765')
    original, baidu.client_token = baidu.client_token, lambda: token
    try:
        with pytest.raises(Exception):
            if action == 'list':
                cloud.read(instance_ids)
            else:
                cloud.apply({'action': action, 'security_group_ids': sg_ids, 'target_ids': instance_ids})
    finally:
        baidu.client_token = original
    ours = session.requests[0]
    method, path, query, headers, body = sdk
    assert (ours['method'], ours['path']) == (method, path)
    assert sorted(parse_qsl(ours['query'], keep_blank_values=True)) == sorted(query)
    assert ours['data'] == body
    # every header the SDK signs by default is signed by ours too, with the same values; ours lists them
    sent = dict(ours['headers'])
    authorization = sent.pop('Authorization')
    signed = authorization.rsplit('/', 2)[1].split(';')
    assert set(['host', 'content-length', 'x-bce-date']) <= set(signed) == set(h.lower() for h in sent)
    assert (sent['Host'], sent['Content-Length'], sent['x-bce-date']) == (headers['Host'], headers['Content-Length'], headers['x-bce-date'])
    assert authorization == sdk_sign(ak, sk, method, path, [(k, v or None) for k, v in query], sent, ts, signed)
    # and what the SDK sends verifies with our signer
    sdk_authorization = headers.pop('Authorization')
    assert sdk_authorization == baidu.bce_authorization(ak, sk, method, path, [(k, v or None) for k, v in query], headers, ts)
