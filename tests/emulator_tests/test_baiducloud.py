# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Baidu AI Cloud BCC emulator, driven by the official bce-python-sdk."""

import calendar
import http.client
import json
import time
import urllib.error
import urllib.parse
import uuid

import pytest

from baidubce import utils as bce_utils
from baidubce.auth import bce_v1_signer
from baidubce.auth.bce_credentials import BceCredentials
from baidubce.bce_client_configuration import BceClientConfiguration
from baidubce.exception import BceHttpClientError
from baidubce.retry.retry_policy import NoRetryPolicy
from baidubce.services.bcc.bcc_client import BccClient

from emulator import baiducloud

AK = 'ak0123456789abcdef0123456789ab01'
SK = 'sk-secret-for-the-emulator-tests'
STS_AK = 'ALTAKsessionkey0001'
STS_SK = 'sts-secret'
TOKEN = 'session-token-abc'

SGS = ['g-aaaa0001', 'g-bbbb0002', 'g-cccc0003', 'g-dddd0004', 'g-eeee0005']
FULL_SGS = ['g-full%04d' % n for n in range(10)]


def seed_doc():
    groups = [{'id': sg, 'region': 'bj', 'vpc_id': 'vpc-one', 'name': 'sg%d' % n} for n, sg in enumerate(SGS)]
    groups.append({'id': 'g-othervpc1', 'region': 'bj', 'vpc_id': 'vpc-two', 'name': 'other'})
    groups += [{'id': sg, 'region': 'bj', 'vpc_id': 'vpc-one', 'name': sg} for sg in FULL_SGS]
    return {'baiducloud': {
        'credentials': [{'access_key': AK, 'secret_key': SK},
                        {'access_key': STS_AK, 'secret_key': STS_SK, 'security_token': TOKEN}],
        'security_groups': groups,
        'instances': [
            {'id': 'i-YufwpQAe', 'region': 'bj', 'status': 'Running', 'vpc_id': 'vpc-one', 'name': 'web',
             'security_groups': ['g-aaaa0001'], 'enterprise_security_groups': []},
            {'id': 'i-Two00002', 'region': 'bj', 'status': 'Stopped', 'vpc_id': 'vpc-one',
             'security_groups': ['g-aaaa0001', 'g-bbbb0002']},
            {'id': 'i-Expired3', 'region': 'bj', 'status': 'Expired', 'vpc_id': 'vpc-one', 'security_groups': ['g-aaaa0001']},
            {'id': 'i-Full0004', 'region': 'bj', 'status': 'Running', 'vpc_id': 'vpc-one', 'security_groups': list(FULL_SGS)},
            {'id': 'i-Esg00005', 'region': 'gz', 'status': 'Running', 'vpc_id': 'vpc-two', 'security_groups': [],
             'enterprise_security_groups': ['esg-ub0q1p72pbmh']},
        ],
    }}


@pytest.fixture(name='bcc')
def seeded_admin(admin):
    """The admin client, with the test seed loaded."""
    admin.seed(seed_doc())
    return admin


def client(emulator, ak=AK, sk=SK, retry=True):
    config = BceClientConfiguration(credentials=BceCredentials(ak, sk), endpoint=emulator.endpoints['baiducloud'])
    if not retry:
        config.retry_policy = NoRetryPolicy()
    return BccClient(config)


def sgs_of(admin, instance_id, key='security_groups'):
    return [i for i in admin.state()['baiducloud']['instances'] if i['id'] == instance_id][0][key]


def server_error(excinfo):
    err = excinfo.value.last_error
    return err.status_code, err.code


def raw(emulator, method, path, params=None, body=b'', ak=AK, sk=SK, sign_body=None, extra=None, auth=None, signed_extra=None):
    """A request signed by the SDK's own signer, sent with http.client; ``sign_body`` (if given) is what was signed."""
    host = emulator.endpoints['baiducloud'].split('//')[1]
    signed = body if sign_body is None else sign_body
    headers = {b'Host': host.encode(), b'Content-Length': str(len(signed)).encode(), b'x-bce-date': bce_utils.get_canonical_time()}
    headers.update(signed_extra or {})
    if auth is None:
        auth = bce_v1_signer.sign(BceCredentials(ak, sk), method.encode(), path.encode(), headers, params)
    headers[b'Authorization'] = auth
    headers[b'Content-Length'] = str(len(body)).encode()
    headers.update(extra or {})
    query = bce_utils.get_canonical_querystring(params, False).decode() if params else ''
    return send(host, method, path + ('?' + query if query else ''), headers, body)


def send(host, method, target, headers, body):
    conn = http.client.HTTPConnection(host, timeout=10)
    conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    for key, value in headers.items():
        conn.putheader(key.decode() if isinstance(key, bytes) else key, value.decode() if isinstance(value, bytes) else value)
    conn.endheaders()
    if body:
        conn.send(body)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, resp, data


def assert_error(result, status, code):
    got_status, resp, data = result
    body = json.loads(data.decode())
    assert (got_status, body['code']) == (status, code)
    assert set(body) == set(('requestId', 'code', 'message'))
    assert body['requestId'] == resp.getheader('x-bce-request-id')
    assert resp.getheader('Content-Type') == 'application/json;charset=UTF-8'
    uuid.UUID(body['requestId'])


BIND_BODY = json.dumps({'securityGroupId': 'g-bbbb0002'}).encode()


# -- (a) every action through the official SDK ---------------------------------------------------

def test_bind_appends_and_answers_empty_200(emulator, bcc):
    resp = client(emulator).bind_instance_to_security_group('i-YufwpQAe', 'g-bbbb0002')
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001', 'g-bbbb0002']
    uuid.UUID(resp.metadata.bce_request_id)
    entry = bcc.requests('baiducloud')[-1]
    assert (entry['action'], entry['status'], entry['request_id']) == ('BindSecurityGroup', 200, resp.metadata.bce_request_id)
    status, http_resp, data = raw(emulator, 'PUT', '/v2/instance/i-YufwpQAe', {'bind': None},
                                  json.dumps({'securityGroupId': 'g-cccc0003'}).encode())
    assert (status, data) == (200, b'')
    assert http_resp.getheader('Content-Type') == 'application/json;charset=UTF-8'
    uuid.UUID(http_resp.getheader('x-bce-request-id'))


def test_unbind_removes(emulator, bcc):
    client(emulator).unbind_instance_from_security_group('i-Two00002', 'g-aaaa0001')
    assert sgs_of(bcc, 'i-Two00002') == ['g-bbbb0002']
    assert bcc.requests('baiducloud')[-1]['action'] == 'UnbindSecurityGroup'


@pytest.mark.usefixtures('bcc')
def test_get_instance(emulator):
    resp = client(emulator).get_instance('i-YufwpQAe')
    assert resp.instance.id == 'i-YufwpQAe' and resp.instance.status == 'Running' and resp.instance.vpc_id == 'vpc-one'
    assert resp.instance.nic_info.security_groups == ['g-aaaa0001']
    assert resp.instance.nic_info.enterprise_security_groups == []
    esg = client(emulator).get_instance('i-Esg00005', contains_failed=True)   # unknown params are ignored
    assert esg.instance.nic_info.enterprise_security_groups == ['esg-ub0q1p72pbmh']
    with pytest.raises(BceHttpClientError) as err:
        client(emulator).get_instance('i-Missing1')
    assert server_error(err) == (404, 'NoSuchObject')


def test_list_security_groups_pages_with_next_marker(emulator, bcc):
    bcc_client = client(emulator)
    seen, marker, pages = [], None, 0
    while True:
        page = bcc_client.list_security_groups(vpc_id='vpc-one', marker=marker, max_keys=4)
        pages += 1
        seen += [g.id for g in page.security_groups]
        assert page.max_keys == 4 and page.marker == (marker or '')
        if not page.is_truncated:
            assert 'nextMarker' not in json.loads(page.raw_data)
            break
        marker = page.next_marker
        assert marker > seen[-1]
    assert seen == sorted(SGS + FULL_SGS) and pages == 4
    assert bcc.requests('baiducloud')[-1]['action'] == 'ListSecurityGroups'


def test_list_security_groups_filters(emulator, bcc):
    bcc_client = client(emulator)

    def ids(resp):
        return [g.id for g in resp.security_groups]
    assert ids(bcc_client.list_security_groups(instance_id='i-Two00002')) == ['g-aaaa0001', 'g-bbbb0002']
    assert ids(bcc_client.list_security_groups(vpc_id='vpc-two')) == ['g-othervpc1']
    assert ids(bcc_client.list_security_groups(security_group_id='g-cccc0003')) == ['g-cccc0003']
    assert ids(bcc_client.list_security_groups(security_group_ids='g-cccc0003,g-dddd0004,g-nope')) == ['g-cccc0003', 'g-dddd0004']
    first = bcc_client.list_security_groups()
    assert len(first.security_groups) == len(SGS) + len(FULL_SGS) + 1 and first.max_keys == 1000 and first.is_truncated is False
    group = first.security_groups[0]
    assert (group.id, group.vpc_id, group.rules, group.tags) == ('g-aaaa0001', 'vpc-one', [], [])
    with pytest.raises(BceHttpClientError) as err:
        bcc_client.list_security_groups(instance_id='i-Missing1')
    assert server_error(err) == (404, 'NoSuchObject')
    bcc.settings(baiducloud={'list_unknown_instance': 'empty'})
    assert ids(bcc_client.list_security_groups(instance_id='i-Missing1')) == []


def test_get_security_group_detail(emulator, bcc):
    detail = client(emulator).get_security_group_detail('g-aaaa0001')
    assert (detail.id, detail.name, detail.vpc_id, detail.bind_instance_num) == ('g-aaaa0001', 'sg0', 'vpc-one', 3)
    assert bcc.requests('baiducloud')[-1]['action'] == 'GetSecurityGroup'
    with pytest.raises(BceHttpClientError) as err:
        client(emulator).get_security_group_detail('g-missing01')
    assert server_error(err) == (404, 'NoSuchObject')


def test_replace_normal_and_enterprise(emulator, bcc):
    bcc_client = client(emulator)
    resp = bcc_client.replace_sg(['i-YufwpQAe', 'i-Two00002'], ['g-cccc0003', 'g-dddd0004'], 'normal', client_token='tok-1')
    assert resp.request_id == resp.metadata.bce_request_id
    assert sgs_of(bcc, 'i-YufwpQAe') == sgs_of(bcc, 'i-Two00002') == ['g-cccc0003', 'g-dddd0004']
    assert bcc.requests('baiducloud')[-1]['action'] == 'ReplaceSecurityGroups'
    bcc_client.replace_sg(['i-YufwpQAe', 'i-Two00002'], ['g-cccc0003', 'g-dddd0004'], 'normal', client_token='tok-1')
    with pytest.raises(BceHttpClientError) as err:
        bcc_client.replace_sg(['i-YufwpQAe'], ['g-eeee0005'], 'normal', client_token='tok-1')
    assert server_error(err) == (403, 'IdempotentParameterMismatch')
    bcc_client.replace_sg(['i-YufwpQAe'], ['esg-newgroup0001'], 'enterprise')
    assert sgs_of(bcc, 'i-YufwpQAe') == [] and sgs_of(bcc, 'i-YufwpQAe', 'enterprise_security_groups') == ['esg-newgroup0001']
    for args, expected in (((['i-Missing1'], ['g-aaaa0001'], 'normal'), (404, 'NoSuchObject')),
                           ((['i-Two00002'], ['g-missing01'], 'normal'), (404, 'NoSuchObject')),
                           ((['i-Two00002'], FULL_SGS + ['g-aaaa0001'], 'normal'), (413, 'SecurityGroup.BindInstanceExceededLimit')),
                           ((['i-Two00002'], [], 'normal'), (400, 'SecurityGroup.NoSecurityGroup')),
                           ((['i-Expired3'], ['g-bbbb0002'], 'normal'), (403, 'SecurityGroup.ExpiredInstanceForbiddenBind')),
                           ((['i-Two00002'], ['g-bbbb0002'], 'bogus'), (400, 'InappropriateJSON'))):
        with pytest.raises(BceHttpClientError) as err:
            bcc_client.replace_sg(*args)
        assert server_error(err) == expected
    assert sgs_of(bcc, 'i-Two00002') == ['g-cccc0003', 'g-dddd0004']


# -- documented failures -------------------------------------------------------------------------

@pytest.mark.parametrize('call, instance, sg, expected', [
    ('bind', 'i-Missing1', 'g-bbbb0002', (404, 'NoSuchObject')),
    ('bind', 'i-YufwpQAe', 'g-missing01', (404, 'NoSuchObject')),
    ('unbind', 'i-Missing1', 'g-aaaa0001', (404, 'NoSuchObject')),
    ('unbind', 'i-YufwpQAe', 'g-missing01', (404, 'NoSuchObject')),
    ('bind', 'i-Expired3', 'g-bbbb0002', (403, 'SecurityGroup.ExpiredInstanceForbiddenBind')),
    ('bind', 'i-Full0004', 'g-aaaa0001', (413, 'SecurityGroup.BindInstanceExceededLimit')),
    ('unbind', 'i-YufwpQAe', 'g-aaaa0001', (400, 'SecurityGroup.NoSecurityGroup')),
])
def test_documented_errors(emulator, bcc, call, instance, sg, expected):
    before = bcc.state()
    method = client(emulator).bind_instance_to_security_group if call == 'bind' else client(emulator).unbind_instance_from_security_group
    with pytest.raises(BceHttpClientError) as err:
        method(instance, sg)
    assert server_error(err) == expected
    assert err.value.last_error.request_id == bcc.requests('baiducloud')[-1]['request_id']
    assert bcc.state() == before


def test_stopped_instance_may_bind(emulator, bcc):
    client(emulator).bind_instance_to_security_group('i-Two00002', 'g-cccc0003')
    assert sgs_of(bcc, 'i-Two00002') == ['g-aaaa0001', 'g-bbbb0002', 'g-cccc0003']


def test_bad_bodies(emulator, bcc):
    assert_error(raw(emulator, 'PUT', '/v2/instance/i-YufwpQAe', {'bind': None}, b'{"securityGroupId": '), 400, 'MalformedJSON')
    for body in (b'[]', b'{}', b'{"securityGroupId": 7}', b'{"securityGroupId": ""}'):
        assert_error(raw(emulator, 'PUT', '/v2/instance/i-YufwpQAe', {'unbind': None}, body), 400, 'InappropriateJSON')
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001']


def test_unknown_routes_and_path_tricks_are_no_such_object(emulator, bcc):
    with pytest.raises(BceHttpClientError) as err:
        client(emulator).get_instance('i-YufwpQAe%2F..%2F..%2FsecurityGroup')
    assert server_error(err) == (404, 'NoSuchObject')
    with pytest.raises(BceHttpClientError) as err:
        client(emulator).bind_instance_to_security_group('i-abc%2F..%2Fi-YufwpQAe', 'g-bbbb0002')
    assert server_error(err) == (404, 'NoSuchObject')
    for path in ('/v2/instance/i-YufwpQAe%2F', '/v2/instance/i-YufwpQAe/..', '/v2/securityGroup/g-aaaa0001%2F..',
                 '/v2/instance/..%2Finstance%2Fi-YufwpQAe', '/v1/instance/i-YufwpQAe', '/v2/instance/'):
        assert_error(raw(emulator, 'GET', path), 404, 'NoSuchObject')
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001']


def test_seed_is_validated_and_round_trips(bcc):
    state = bcc.state()['baiducloud']
    assert bcc.seed({'baiducloud': state})['baiducloud'] == state
    for bad, fragment in (({'instances': [{'id': 'i-1', 'security_groups': ['g-nope']}]}, 'instances[0]'),
                          ({'security_groups': [{'id': 'g-1'}, {'id': 'g-1'}]}, 'security_groups[1]'),
                          ({'instances': [{'id': 'i-1', 'status': 'Sleeping'}]}, 'instances[0]'),
                          ({'credentials': [{'access_key': 'a'}]}, 'credentials[0]'),
                          ({'instances': [{'id': 'i-1', 'colour': 'red'}]}, 'instances[0]')):
        with pytest.raises(urllib.error.HTTPError) as err:
            bcc.seed({'baiducloud': bad})
        assert err.value.code == 400 and fragment in json.loads(err.value.read().decode())['error']


# -- (b) authentication --------------------------------------------------------------------------

def test_wrong_secret_unknown_key_and_malformed_header(emulator, bcc):
    with pytest.raises(BceHttpClientError) as err:
        client(emulator, sk='wrong-secret').bind_instance_to_security_group('i-YufwpQAe', 'g-bbbb0002')
    assert server_error(err) == (400, 'SignatureDoesNotMatch')
    with pytest.raises(BceHttpClientError) as err:
        client(emulator, ak='unknown-ak').get_instance('i-YufwpQAe')
    assert server_error(err) == (403, 'InvalidAccessKeyId')
    for auth in (b'', b'bce-auth-v1/' + AK.encode(), b'AWS4-HMAC-SHA256 Credential=x', b'bce-auth-v1/%s/yesterday/1800//%s' % (AK.encode(), b'0' * 64)):
        assert_error(raw(emulator, 'GET', '/v2/instance/i-YufwpQAe', auth=auth), 400, 'InvalidHTTPAuthHeader')
    assert [e['status'] for e in bcc.requests('baiducloud')] == [400, 403, 400, 400, 400, 400]
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001']


def test_tampered_body_is_rejected(emulator, bcc):
    # bce-auth-v1 signs no body hash, only Content-Length: a body of another length is caught
    tampered = json.dumps({'securityGroupId': 'g-othervpc1'}).encode()
    assert_error(raw(emulator, 'PUT', '/v2/instance/i-YufwpQAe', {'bind': None}, tampered, sign_body=BIND_BODY),
                 400, 'SignatureDoesNotMatch')
    # ... as is a changed signed header, or a changed query
    assert_error(raw(emulator, 'PUT', '/v2/instance/i-YufwpQAe', {'bind': None}, BIND_BODY,
                     extra={b'Host': b'bcc.bj.baidubce.com'}), 400, 'SignatureDoesNotMatch')
    host = emulator.endpoints['baiducloud'].split('//')[1]
    headers = {b'Host': host.encode(), b'Content-Length': b'33', b'x-bce-date': bce_utils.get_canonical_time()}
    headers[b'Authorization'] = bce_v1_signer.sign(BceCredentials(AK, SK), b'PUT', b'/v2/instance/i-YufwpQAe', headers, {'bind': None})
    assert_error(send(host, 'PUT', '/v2/instance/i-YufwpQAe?unbind=', headers, BIND_BODY), 400, 'SignatureDoesNotMatch')
    assert_error(send(host, 'PUT', '/v2/instance/i-Two00002?bind=', headers, BIND_BODY), 400, 'SignatureDoesNotMatch')
    assert_error(raw(emulator, 'PUT', '/v2/instance/i-YufwpQAe', {'bind': None}, BIND_BODY,
                     extra={b'x-bce-date': b'2015-04-27T08:23:49Z'}), 400, 'RequestExpired')
    assert_error(raw(emulator, 'PUT', '/v2/instance/i-Two00002', {'bind': None}, BIND_BODY, sign_body=BIND_BODY,
                     extra={b'x-bce-extra': b'unsigned'}), 400, 'SignatureDoesNotMatch')
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001']
    assert raw(emulator, 'PUT', '/v2/instance/i-YufwpQAe', {'bind': None}, BIND_BODY)[0] == 200


def test_stale_timestamp_is_request_expired(emulator, bcc):
    bcc.settings(clock_offset_s=3600)
    with pytest.raises(BceHttpClientError) as err:
        client(emulator, retry=False).get_instance('i-YufwpQAe')
    assert server_error(err) == (400, 'RequestExpired')
    bcc.settings(clock_offset_s=-1000)
    assert client(emulator).get_instance('i-YufwpQAe').instance.id == 'i-YufwpQAe'
    bcc.settings(baiducloud={'timestamp_window_s': 300})
    with pytest.raises(BceHttpClientError) as err:
        client(emulator, retry=False).get_instance('i-YufwpQAe')
    assert server_error(err) == (400, 'RequestExpired')


def test_go_sdk_form_explicit_signed_headers_and_bare_query(emulator, bcc):
    host = emulator.endpoints['baiducloud'].split('//')[1]
    stamp = bce_utils.get_canonical_time()
    headers = {b'Host': host.encode(), b'Content-Length': str(len(BIND_BODY)).encode(),
               b'Content-Type': b'application/json;charset=utf-8', b'x-bce-date': stamp}
    signed = [b'content-length', b'content-type', b'host', b'x-bce-date']
    auth = bce_v1_signer.sign(BceCredentials(AK, SK), b'PUT', b'/v2/instance/i-YufwpQAe', headers, {'bind': None},
                              headers_to_sign=signed)
    assert b'/content-length;content-type;host;x-bce-date/' in auth
    headers[b'Authorization'] = auth
    headers[b'x-bce-not-signed'] = b'ignored in the explicit form'
    status, _resp, data = send(host, 'PUT', '/v2/instance/i-YufwpQAe?bind', headers, BIND_BODY)
    assert (status, data) == (200, b'')
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001', 'g-bbbb0002']
    # the explicit list is what is checked: a changed Content-Type breaks it
    headers[b'Content-Type'] = b'text/plain'
    assert_error(send(host, 'PUT', '/v2/instance/i-YufwpQAe?bind', headers, BIND_BODY), 400, 'SignatureDoesNotMatch')


@pytest.mark.usefixtures('bcc')
def test_session_credentials_need_the_security_token(emulator):
    sts = client(emulator, ak=STS_AK, sk=STS_SK)
    with pytest.raises(BceHttpClientError) as err:
        sts.get_instance('i-YufwpQAe')
    assert server_error(err) == (403, 'AccessDenied')
    # BccClient never sends the token itself (reference section 6), so add it through the SDK's own request path
    resp = sts._send_request(b'GET', b'/instance/i-YufwpQAe', headers={b'x-bce-security-token': TOKEN.encode()})  # pylint: disable=protected-access
    assert resp.instance.id == 'i-YufwpQAe'
    with pytest.raises(BceHttpClientError) as err:
        sts._send_request(b'GET', b'/instance/i-YufwpQAe', headers={b'x-bce-security-token': b'other'})  # pylint: disable=protected-access
    assert server_error(err) == (403, 'AccessDenied')


# -- (c) the SDK-computed vectors of the reference (section 2.2) ---------------------------------

VEC_AK, VEC_SK, VEC_TS = '0123456789abcdef0123456789abcdef', 'fedcba9876543210fedcba9876543210', '2015-04-27T08:23:49Z'
VEC_PREFIX = 'bce-auth-v1/%s/%s/1800' % (VEC_AK, VEC_TS)
BJ = [('Host', 'bcc.bj.baidubce.com'), ('Content-Length', '33'), ('x-bce-date', VEC_TS)]
GET_HDRS = [('Host', 'bcc.bj.baidubce.com'), ('Content-Length', '0'), ('x-bce-date', VEC_TS)]
DATE_LINE = 'x-bce-date:2015-04-27T08%3A23%3A49Z'
VECTORS = [
    ('PUT', '/v2/instance/i-YufwpQAe', 'bind', BJ, [], 'd27adac3904b0f490e4e45de06259d7f4bcac2068460472c25fec869fda52860',
     'PUT\n/v2/instance/i-YufwpQAe\nbind=\ncontent-length:33\nhost:bcc.bj.baidubce.com\n' + DATE_LINE),
    ('PUT', '/v2/instance/i-YufwpQAe', 'bind=', BJ + [('Content-Type', 'application/json;charset=utf-8')], [],
     '5337192f6d8dd2db125fd413d01bc72711fe2c9eb81a25df5f36e418b87487b3',
     'PUT\n/v2/instance/i-YufwpQAe\nbind=\ncontent-length:33\ncontent-type:application%2Fjson%3Bcharset%3Dutf-8\n'
     'host:bcc.bj.baidubce.com\n' + DATE_LINE),
    ('PUT', '/v2/instance/i-YufwpQAe', 'unbind', BJ, ['host', 'x-bce-date'], '6af9cfaa82ab4cb0e6298a60dc4c18f566a0b041e3fa97f028323ecd8589a59a',
     'PUT\n/v2/instance/i-YufwpQAe\nunbind=\nhost:bcc.bj.baidubce.com\n' + DATE_LINE),
    ('GET', '/v2/instance/i-YufwpQAe', '', GET_HDRS, [], 'b9aa2aa21e79f4b18d24898858d2dab8e345a9b452779918ec5d387345c98b16',
     'GET\n/v2/instance/i-YufwpQAe\n\ncontent-length:0\nhost:bcc.bj.baidubce.com\n' + DATE_LINE),
    ('GET', '/v2/securityGroup', 'instanceId=i-YufwpQAe&maxKeys=2&marker=g-abc/def', GET_HDRS, [],
     'bb75757e27c8e2ce3feeb71e0334410313884c9f86f8e930bfb219484e7567e3',
     'GET\n/v2/securityGroup\ninstanceId=i-YufwpQAe&marker=g-abc%2Fdef&maxKeys=2\ncontent-length:0\nhost:bcc.bj.baidubce.com\n' + DATE_LINE),
    ('PUT', '/v2/instance/i-YufwpQAe', 'bind=', [('Host', '127.0.0.1:8765')] + BJ[1:], [],
     '47d3b7c3b5cd8fc11b3c38f6798256a29a9540f16f916f26d0d2653425f94acd',
     'PUT\n/v2/instance/i-YufwpQAe\nbind=\ncontent-length:33\nhost:127.0.0.1%3A8765\n' + DATE_LINE),
]


def test_signing_key_vector():
    assert baiducloud.signing_key(VEC_SK, VEC_PREFIX) == '7f80a63f89d5bf6ad014e369761efc9bcc57c60736e0a2c436ee81746ae72fe6'


@pytest.mark.parametrize('method, path, query, headers, signed, expected_sig, expected_canonical', VECTORS)
def test_reference_vectors(method, path, query, headers, signed, expected_sig, expected_canonical):
    canonical = baiducloud.canonical_request(method, baiducloud.canonical_uris(path)[0], query, headers, signed)
    assert canonical == expected_canonical
    assert baiducloud.signature(VEC_SK, VEC_PREFIX, canonical) == expected_sig
    parsed = baiducloud.parse_authorization('%s/%s/%s' % (VEC_PREFIX, ';'.join(signed), expected_sig))
    assert parsed == (VEC_AK, VEC_TS, 1800, signed, expected_sig)
    # and the SDK agrees on the same input
    ts = calendar.timegm(time.strptime(VEC_TS, '%Y-%m-%dT%H:%M:%SZ'))
    params = dict((k, v if v else None) for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True))
    sdk_auth = bce_v1_signer.sign(BceCredentials(VEC_AK, VEC_SK), method.encode(), path.encode(),
                                  dict((k.encode(), v.encode()) for k, v in headers), params, timestamp=ts,
                                  headers_to_sign=[h.encode() for h in signed] or None)
    assert sdk_auth.decode().endswith('/' + expected_sig)


# -- (d) faults ----------------------------------------------------------------------------------

def test_throttle_fault_is_429_not_retried(emulator, bcc):
    bcc.fault(provider='baiducloud', action='BindSecurityGroup', kind='throttle')
    with pytest.raises(BceHttpClientError) as err:
        client(emulator).bind_instance_to_security_group('i-YufwpQAe', 'g-bbbb0002')
    assert server_error(err) == (429, 'TooManyRequests')
    assert len(bcc.requests('baiducloud')) == 1 and sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001']


def test_server_error_fault_is_retried_by_the_sdk(emulator, bcc):
    bcc.fault(provider='baiducloud', action='BindSecurityGroup', kind='server_error')
    client(emulator).bind_instance_to_security_group('i-YufwpQAe', 'g-bbbb0002')
    log = bcc.requests('baiducloud')
    assert [(e['status'], e['error_code']) for e in log] == [(500, 'InternalError'), (200, None)]
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001', 'g-bbbb0002']
    bcc.settings(baiducloud={'server_error_status': 503})
    bcc.fault(provider='baiducloud', action='GetInstance', kind='server_error')
    with pytest.raises(BceHttpClientError) as err:
        client(emulator, retry=False).get_instance('i-YufwpQAe')
    assert server_error(err) == (503, 'InternalError')


def test_a_504_server_error_is_a_bare_gateway_page(emulator, bcc):
    bcc.settings(baiducloud={'server_error_status': 504})
    bcc.fault(provider='baiducloud', action='GetInstance', kind='server_error')
    status, resp, data = raw(emulator, 'GET', '/v2/instance/i-YufwpQAe')
    assert (status, resp.getheader('Content-Type'), resp.getheader('x-bce-request-id')) == (504, 'text/html', None)
    assert b'504 Gateway Time-out' in data
    entry = bcc.requests('baiducloud')[-1]
    assert (entry['status'], entry['error_code'], entry['fault']) == (504, 'HTTP504', 'server_error')
    assert client(emulator).get_instance('i-YufwpQAe').instance.id == 'i-YufwpQAe'   # the fault is spent


def test_in_progress_fault(emulator, bcc):
    bcc.fault(provider='baiducloud', action='UnbindSecurityGroup', kind='in_progress')
    with pytest.raises(BceHttpClientError) as err:
        client(emulator).unbind_instance_from_security_group('i-Two00002', 'g-aaaa0001')
    assert server_error(err) == (409, 'OperationDenied')
    assert sgs_of(bcc, 'i-Two00002') == ['g-aaaa0001', 'g-bbbb0002']


def test_reset_fault_changes_nothing(emulator, bcc):
    bcc.fault(provider='baiducloud', action='BindSecurityGroup', kind='reset')
    with pytest.raises(BceHttpClientError) as err:
        client(emulator, retry=False).bind_instance_to_security_group('i-YufwpQAe', 'g-bbbb0002')
    assert isinstance(err.value.last_error, (ConnectionError, http.client.HTTPException, OSError))
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001']


def test_commit_then_drop_applies_the_change(emulator, bcc):
    bcc.fault(provider='baiducloud', action='BindSecurityGroup', kind='commit_then_drop')
    with pytest.raises(BceHttpClientError) as err:
        client(emulator, retry=False).bind_instance_to_security_group('i-YufwpQAe', 'g-bbbb0002')
    assert isinstance(err.value.last_error, (ConnectionError, http.client.HTTPException, OSError))
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001', 'g-bbbb0002']
    # with its default retries the SDK resends; the duplicate bind is a no-op by default
    bcc.fault(provider='baiducloud', action='BindSecurityGroup', kind='commit_then_drop')
    client(emulator).bind_instance_to_security_group('i-YufwpQAe', 'g-cccc0003')
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001', 'g-bbbb0002', 'g-cccc0003']
    assert [e['fault'] for e in bcc.requests('baiducloud')[-2:]] == ['commit_then_drop', None]


def test_rate_limits_when_enforced(emulator, bcc):
    bcc_client = client(emulator)
    for dummy in range(12):
        bcc_client.get_security_group_detail('g-aaaa0001')
    bcc.settings(enforce_rate_limits=True)
    with pytest.raises(BceHttpClientError) as err:
        for dummy in range(baiducloud.CLOUD.rate_limits['GetSecurityGroup'] * 3):
            bcc_client.get_security_group_detail('g-aaaa0001')
    assert server_error(err) == (429, 'TooManyRequests')
    assert bcc.requests('baiducloud')[-1]['fault'] == 'rate_limit'


# -- (e) settings --------------------------------------------------------------------------------

def test_duplicate_bind_and_unbind_not_bound_policies(emulator, bcc):
    bcc_client = client(emulator)
    bcc_client.bind_instance_to_security_group('i-Two00002', 'g-aaaa0001')
    bcc_client.unbind_instance_from_security_group('i-Two00002', 'g-cccc0003')
    assert sgs_of(bcc, 'i-Two00002') == ['g-aaaa0001', 'g-bbbb0002']
    bcc.settings(baiducloud={'duplicate_bind': 'error', 'unbind_not_bound': 'error'})
    with pytest.raises(BceHttpClientError) as err:
        bcc_client.bind_instance_to_security_group('i-Two00002', 'g-aaaa0001')
    assert server_error(err) == (400, 'SecurityGroup.AlreadyBound')
    with pytest.raises(BceHttpClientError) as err:
        bcc_client.unbind_instance_from_security_group('i-Two00002', 'g-cccc0003')
    assert server_error(err) == (400, 'SecurityGroup.NotBound')
    assert sgs_of(bcc, 'i-Two00002') == ['g-aaaa0001', 'g-bbbb0002']
    bcc.settings(baiducloud={'duplicate_bind': 'eror'})
    with pytest.raises(BceHttpClientError) as err:
        client(emulator, retry=False).bind_instance_to_security_group('i-Two00002', 'g-aaaa0001')
    assert server_error(err) == (500, 'InternalError') and 'duplicate_bind' in str(err.value.last_error)


def test_limit_and_no_security_group_status_settings(emulator, bcc):
    bcc.settings(baiducloud={'max_security_groups_per_instance': 2, 'no_security_group_status': 403})
    bcc_client = client(emulator)
    with pytest.raises(BceHttpClientError) as err:
        bcc_client.bind_instance_to_security_group('i-Two00002', 'g-cccc0003')
    assert server_error(err) == (413, 'SecurityGroup.BindInstanceExceededLimit')
    with pytest.raises(BceHttpClientError) as err:
        bcc_client.unbind_instance_from_security_group('i-YufwpQAe', 'g-aaaa0001')
    assert server_error(err) == (403, 'SecurityGroup.NoSecurityGroup')
    assert bcc.call('GET', '/settings')['baiducloud']['max_security_groups_per_instance'] == 2


# -- batch bind/unbind (PUT /v2/securitygroup/{bind,unbind}?clientToken=) -------------------------

def test_batch_bind_and_unbind_through_the_sdk(emulator, bcc):
    bcc_client = client(emulator)
    resp = bcc_client.bind_sg(['i-YufwpQAe', 'i-Two00002'], ['g-cccc0003', 'g-dddd0004'], 'normal', client_token='tok-b1')
    assert resp.request_id == resp.metadata.bce_request_id
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001', 'g-cccc0003', 'g-dddd0004']
    assert sgs_of(bcc, 'i-Two00002') == ['g-aaaa0001', 'g-bbbb0002', 'g-cccc0003', 'g-dddd0004']
    entry = bcc.requests('baiducloud')[-1]
    assert (entry['action'], entry['method'], entry['path']) == ('BatchBindSecurityGroup', 'PUT', '/v2/securitygroup/bind')
    bcc_client.unbind_sg(['i-YufwpQAe', 'i-Two00002'], ['g-cccc0003'], 'normal')      # the SDK makes a token up
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001', 'g-dddd0004']
    assert sgs_of(bcc, 'i-Two00002') == ['g-aaaa0001', 'g-bbbb0002', 'g-dddd0004']
    assert bcc.requests('baiducloud')[-1]['action'] == 'BatchUnbindSecurityGroup'
    bcc_client.bind_sg(['i-Esg00005'], ['esg-another00001'], 'enterprise')
    assert sgs_of(bcc, 'i-Esg00005', 'enterprise_security_groups') == ['esg-ub0q1p72pbmh', 'esg-another00001']


def test_batch_client_token_replays_and_mismatches(emulator, bcc):
    bcc_client = client(emulator)
    bcc_client.bind_sg(['i-YufwpQAe'], ['g-cccc0003'], 'normal', client_token='tok-same')
    # someone else unbinds it; the same token and body is answered again without binding again
    bcc_client.unbind_sg(['i-YufwpQAe'], ['g-cccc0003'], 'normal', client_token='tok-other')
    bcc_client.bind_sg(['i-YufwpQAe'], ['g-cccc0003'], 'normal', client_token='tok-same')
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001']
    for call, args in ((bcc_client.bind_sg, (['i-YufwpQAe'], ['g-dddd0004'], 'normal')),        # another body
                       (bcc_client.unbind_sg, (['i-YufwpQAe'], ['g-cccc0003'], 'normal')),      # another action
                       (bcc_client.replace_sg, (['i-YufwpQAe'], ['g-cccc0003'], 'normal'))):
        with pytest.raises(BceHttpClientError) as err:
            call(*args, client_token='tok-same')
        assert server_error(err) == (403, 'IdempotentParameterMismatch')
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001']
    # 24 hours after it was last seen the token is forgotten, and the same call applies again
    cloud = emulator.emulator.clouds['baiducloud']
    signature_, seen = cloud.client_tokens['tok-same']
    cloud.client_tokens['tok-same'] = (signature_, seen - baiducloud.CLIENT_TOKEN_TTL_S - 1)
    bcc_client.bind_sg(['i-YufwpQAe'], ['g-cccc0003'], 'normal', client_token='tok-same')
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001', 'g-cccc0003']
    assert_error(raw(emulator, 'PUT', '/v2/securitygroup/bind', {'clientToken': 'x' * 65},
                     json.dumps({'instanceIds': ['i-YufwpQAe'], 'securityGroupIds': ['g-dddd0004'],
                                 'securityGroupType': 'normal'}).encode()), 400, 'InvalidHTTPRequest')


@pytest.mark.parametrize('call, instances, groups, expected', [
    ('bind', ['i-YufwpQAe', 'i-Missing1'], ['g-cccc0003'], (404, 'NoSuchObject')),
    ('bind', ['i-YufwpQAe'], ['g-cccc0003', 'g-missing01'], (404, 'NoSuchObject')),
    ('bind', ['i-YufwpQAe', 'i-Expired3'], ['g-cccc0003'], (403, 'SecurityGroup.ExpiredInstanceForbiddenBind')),
    ('bind', ['i-YufwpQAe', 'i-Full0004'], ['g-cccc0003'], (413, 'SecurityGroup.BindInstanceExceededLimit')),
    ('bind', ['i-YufwpQAe', 'i-Two00002'], FULL_SGS, (413, 'SecurityGroup.BindInstanceExceededLimit')),
    ('unbind', ['i-Two00002', 'i-YufwpQAe'], ['g-aaaa0001'], (400, 'SecurityGroup.NoSecurityGroup')),
    ('bind', [], ['g-cccc0003'], (400, 'InappropriateJSON')),
    ('bind', ['i-YufwpQAe'], [], (400, 'InappropriateJSON')),
])
def test_batch_calls_are_all_or_nothing(emulator, bcc, call, instances, groups, expected):
    before = bcc.state()
    bcc_client = client(emulator)
    with pytest.raises(BceHttpClientError) as err:
        getattr(bcc_client, call + '_sg')(instances, groups, 'normal')
    assert server_error(err) == expected
    assert bcc.state() == before        # the instances before the failing one were not changed either


def test_batch_size_limit_type_and_absent_setting(emulator, bcc):
    bcc.settings(baiducloud={'batch_max_instances': 1})
    bcc_client = client(emulator)
    with pytest.raises(BceHttpClientError) as err:
        bcc_client.bind_sg(['i-YufwpQAe', 'i-Two00002'], ['g-cccc0003'], 'normal')
    assert server_error(err) == (400, 'InappropriateJSON') and 'at most 1' in str(err.value.last_error)
    with pytest.raises(BceHttpClientError) as err:
        bcc_client.bind_sg(['i-YufwpQAe'], ['g-cccc0003'], 'bogus')
    assert server_error(err) == (400, 'InappropriateJSON')
    bcc.settings(baiducloud={'batch_api': 'absent'})
    with pytest.raises(BceHttpClientError) as err:
        bcc_client.bind_sg(['i-YufwpQAe'], ['g-cccc0003'], 'normal')
    assert server_error(err) == (404, 'InvalidURI')
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001']


def test_batch_commit_then_drop_retried_with_the_same_token_applies_once(emulator, bcc):
    bcc.fault(provider='baiducloud', action='BatchBindSecurityGroup', kind='commit_then_drop')
    # the SDK retries the dropped answer with the same clientToken; the token replays the first result
    client(emulator).bind_sg(['i-YufwpQAe'], ['g-cccc0003'], 'normal', client_token='tok-drop')
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001', 'g-cccc0003']
    log = bcc.requests('baiducloud')[-2:]
    expected = [('BatchBindSecurityGroup', 'commit_then_drop', 200), ('BatchBindSecurityGroup', None, 200)]
    assert [(e['action'], e['fault'], e['status']) for e in log] == expected


def test_list_instances_by_ids_through_the_sdk(emulator, bcc):
    bcc_client = client(emulator)
    resp = bcc_client.list_instance_by_instance_ids(['i-Two00002', 'i-Missing1', 'i-YufwpQAe'])
    assert [i.id for i in resp.instances] == ['i-Two00002', 'i-YufwpQAe'] and resp.is_truncated is False
    assert resp.instances[0].nic_info.security_groups == ['g-aaaa0001', 'g-bbbb0002'] and resp.instances[0].status == 'Stopped'
    assert bcc.requests('baiducloud')[-1]['action'] == 'ListInstancesByIds'
    first = bcc_client.list_instance_by_instance_ids(['i-Two00002', 'i-YufwpQAe', 'i-Full0004'], max_keys=2)
    assert [i.id for i in first.instances] == ['i-Two00002', 'i-YufwpQAe'] and first.next_marker == 'i-Full0004'
    rest = bcc_client.list_instance_by_instance_ids(['i-Two00002', 'i-YufwpQAe', 'i-Full0004'], marker=first.next_marker, max_keys=2)
    assert [i.id for i in rest.instances] == ['i-Full0004'] and rest.is_truncated is False
    for ids in ([], ['i-%08d' % n for n in range(101)]):
        with pytest.raises(BceHttpClientError) as err:
            bcc_client.list_instance_by_instance_ids(ids)
        assert server_error(err) == (400, 'InappropriateJSON')
    bcc.settings(baiducloud={'list_by_ids_api': 'absent'})
    with pytest.raises(BceHttpClientError) as err:
        bcc_client.list_instance_by_instance_ids(['i-Two00002'])
    assert server_error(err) == (404, 'InvalidURI')


def test_an_absent_api_answers_as_missing_api_answer_says_and_list_by_ids_may_refuse_an_unknown_id(emulator, bcc):
    bcc_client = client(emulator)
    bcc.settings(baiducloud={'batch_api': 'absent', 'list_by_ids_api': 'absent', 'missing_api_answer': 'NoSuchObject'})
    with pytest.raises(BceHttpClientError) as err:
        bcc_client.bind_sg(['i-YufwpQAe'], ['g-cccc0003'], 'normal')
    assert server_error(err) == (404, 'NoSuchObject') and '/v2/securitygroup/bind' in str(err.value.last_error)
    with pytest.raises(BceHttpClientError) as err:
        bcc_client.list_instance_by_instance_ids(['i-Two00002'])
    assert server_error(err) == (404, 'NoSuchObject')
    assert sgs_of(bcc, 'i-YufwpQAe') == ['g-aaaa0001']
    bcc.settings(baiducloud={'list_by_ids_api': 'served', 'list_by_ids_unknown': 'error'})
    with pytest.raises(BceHttpClientError) as err:
        bcc_client.list_instance_by_instance_ids(['i-Two00002', 'i-Missing1'])
    assert server_error(err) == (404, 'NoSuchObject') and 'i-Missing1' in str(err.value.last_error)
    assert [i.id for i in bcc_client.list_instance_by_instance_ids(['i-Two00002']).instances] == ['i-Two00002']
