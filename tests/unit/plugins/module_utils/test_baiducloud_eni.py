# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Baidu AI Cloud ENIs (network_interface_ids): reads, the whole-list update, refusals, bytes against the SDK."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from hypothesis import given, settings, strategies as st

from ansible.module_utils.six.moves.urllib.parse import parse_qsl, urlsplit

from ansible_collections.multicloud.secgroup.plugins.module_utils import _baiducloud as baidu
from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport
from ansible_collections.multicloud.secgroup.tests.unit.plugins.module_utils.test_baiducloud import (
    Answer, error, ids, provider, sdk_bytes, sdk_sign, secrets)

baidubce = pytest.importorskip('baidubce')
from baidubce.auth.bce_credentials import BceCredentials  # noqa: E402  pylint: disable=wrong-import-position
from baidubce.bce_client_configuration import BceClientConfiguration  # noqa: E402  pylint: disable=wrong-import-position
from baidubce.http import bce_http_client  # noqa: E402  pylint: disable=wrong-import-position
from baidubce import utils as sdk_utils  # noqa: E402  pylint: disable=wrong-import-position
from baidubce.services.eni.eni_client import EniClient  # noqa: E402  pylint: disable=wrong-import-position


def eni(eni_id, groups, vpc='vpc-one', instance_id='i-Owner001', enterprise=(), status='inuse'):
    return {'eniId': eni_id, 'vpcId': vpc, 'instanceId': instance_id, 'status': status, 'securityGroupIds': list(groups),
            'enterpriseSecurityGroupIds': list(enterprise)}


def eni_provider(answers, **params):
    return provider(answers, network_interface_ids=['eni-x'], **params)


def test_the_eni_kind_plans_whole_list_updates_one_eni_a_call():
    cloud, dummy = eni_provider({}, batch_size=40)
    assert cloud.kind.option == 'network_interface_ids' and cloud.kind.result_key == 'network_interfaces'
    limits = cloud.constraints
    assert (limits.min_groups, limits.max_groups, limits.batch_size, limits.set_batch_size) == (1, baidu.ENI_MAX_GROUPS, 0, 1)
    assert provider({}, batch_size=40)[0].constraints.batch_size == 40        # instances keep their batch size


def test_reading_many_enis_is_one_get_then_the_vpcs_list_and_a_get_per_missing_one():
    wanted = ['eni-%08d' % n for n in range(1500)]
    page1 = [eni(e, ['g-aaaaaaaa']) for e in wanted[:1000]]
    page2 = [eni(e, ['g-aaaaaaaa']) for e in wanted[1000:1499]]
    cloud, session = eni_provider({
        ('GET', '/v1/eni/' + wanted[0]): Answer(200, eni(wanted[0], ['g-aaaaaaaa'])),
        ('GET', '/v1/eni'): [Answer(200, {'enis': page1, 'isTruncated': True, 'nextMarker': wanted[1000]}),
                             Answer(200, {'enis': page2, 'isTruncated': False})],
        ('GET', '/v1/eni/' + wanted[1499]): error(404, 'NoSuchObject'),
    })
    current, missing = cloud.read(wanted)
    assert missing == [wanted[1499]] and len(current) == 1499 and current[wanted[7]] == ['g-aaaaaaaa']
    sent = [(r['method'], r['path']) for r in session.requests]
    assert sent == [('GET', '/v1/eni/' + wanted[0]), ('GET', '/v1/eni'), ('GET', '/v1/eni'), ('GET', '/v1/eni/' + wanted[1499])]
    assert dict(parse_qsl(session.requests[1]['query'])) == {'vpcId': 'vpc-one', 'maxKeys': '1000'}
    assert dict(parse_qsl(session.requests[2]['query']))['marker'] == wanted[1000]
    assert cloud.status[wanted[3]] == 'inuse'


def test_one_eni_is_one_get():
    cloud, session = eni_provider({('GET', '/v1/eni/eni-00000001'): Answer(200, eni('eni-00000001', ['g-aaaaaaaa']))})
    assert cloud.read(['eni-00000001']) == ({'eni-00000001': ['g-aaaaaaaa']}, [])
    assert len(session.requests) == 1


def test_an_eni_answer_without_its_group_list_is_malformed():
    cloud, dummy = eni_provider({('GET', '/v1/eni/eni-00000001'): Answer(200, {'eniId': 'eni-00000001'})})
    with pytest.raises(transport.ProviderError) as err:
        cloud.read(['eni-00000001'])
    assert err.value.code == 'MalformedResponse' and 'securityGroupIds' in err.value.message


def test_an_update_is_a_put_with_bind_sg_a_client_token_and_the_whole_list_resent_unchanged_after_a_lost_answer():
    lost = transport.requests.exceptions.ConnectionError(ConnectionResetError('dropped after sending'))
    cloud, session = eni_provider({('PUT', '/v1/eni/eni-00000001'): [lost, Answer(200, b'', 'req-u')]})
    assert cloud.apply({'action': 'set', 'security_group_ids': ['g-aaaaaaaa', 'g-bbbbbbbb'], 'target_ids': ['eni-00000001']}) == ['req-u']
    first, second = session.requests
    assert first['data'] == second['data'] == json.dumps({'securityGroupIds': ['g-aaaaaaaa', 'g-bbbbbbbb']}).encode('utf-8')
    assert first['query'] == second['query'] and first['query'].startswith('bindSg&clientToken=')


def refusal_case(enis, instances):
    """A provider that has read the ENIs and described the groups; instances: owner -> its primary ENI."""
    answers = {('POST', '/v2/instance/listByInstanceId'): Answer(200, {'instances': [
        {'id': iid, 'status': 'Running', 'nicInfo': {'securityGroups': ['g-aaaaaaaa'], 'eniId': primary}, 'tags': []}
        for iid, primary in instances.items()]})}
    cloud, session = eni_provider(answers)
    for item in enis:
        cloud.note_eni(item, 'GetEni', None)
    cloud.group_vpc.update({'g-aaaaaaaa': 'vpc-one', 'g-bbbbbbbb': 'vpc-one', 'g-othervpc': 'vpc-two'})
    return cloud, session


def test_refusals_name_the_primary_eni_s_instance_enterprise_groups_and_a_group_of_another_vpc():
    cloud, session = refusal_case([eni('eni-primary1', ['g-aaaaaaaa']), eni('eni-esg00001', [], enterprise=['esg-abcdefgh']),
                                   eni('eni-vpc00001', ['g-aaaaaaaa']), eni('eni-fine0001', ['g-aaaaaaaa']),
                                   eni('eni-same0001', ['g-aaaaaaaa'], instance_id='i-Other001')],
                                  {'i-Owner001': 'eni-primary1', 'i-Other001': 'eni-same0001'})
    current = dict((e, ['g-aaaaaaaa']) for e in cloud.enis)
    plan = planner.plan(current, ['g-bbbbbbbb'], 'present', False, cloud.constraints, 'network interface')
    plan['targets'][2]['added'] = ['g-othervpc']          # as if g-othervpc were wanted for this one
    refused = dict(cloud.refusals(plan['targets']))
    assert set(refused) == set(['eni-primary1', 'eni-esg00001', 'eni-vpc00001', 'eni-same0001'])
    assert refused['eni-primary1'].startswith('is the primary network interface of instance i-Owner001') and \
        'use instance_ids: [i-Owner001] instead' in refused['eni-primary1']
    assert 'esg-abcdefgh' in refused['eni-esg00001'] and 'remove' in refused['eni-esg00001']
    assert 'is in VPC vpc-one, and security group g-othervpc is in vpc-two' in refused['eni-vpc00001']
    # the owners' primary ENIs: one listByInstanceId call for both instances
    assert [(r['method'], r['path']) for r in session.requests] == [('POST', '/v2/instance/listByInstanceId')]


def test_unchanged_enis_cost_no_instance_read():
    cloud, session = refusal_case([eni('eni-primary1', ['g-aaaaaaaa'])], {'i-Owner001': 'eni-primary1'})
    plan = planner.plan({'eni-primary1': ['g-aaaaaaaa']}, ['g-aaaaaaaa'], 'present', False, cloud.constraints)
    assert cloud.refusals(plan['targets']) == [] and session.requests == []


def test_bound_enis_are_listed_per_vpc_of_the_groups():
    cloud, session = eni_provider({
        ('GET', '/v2/securityGroup'): Answer(200, {'securityGroups': [{'id': 'g-aaaaaaaa', 'vpcId': 'vpc-one'},
                                                                      {'id': 'g-bbbbbbbb', 'vpcId': 'vpc-one'}]}),
        ('GET', '/v1/eni'): Answer(200, {'enis': [eni('eni-00000001', ['g-aaaaaaaa']), eni('eni-00000002', ['g-bbbbbbbb', 'g-aaaaaaaa'])]}),
    })
    assert cloud.bound_targets(['g-aaaaaaaa', 'g-bbbbbbbb']) == {'g-aaaaaaaa': ['eni-00000001', 'eni-00000002'], 'g-bbbbbbbb': ['eni-00000002']}
    assert len(session.requests) == 2


# -- byte for byte against the SDK's EniClient -----------------------------------------------------

class Captured(Exception):
    pass


def eni_sdk_capture(ak, sk, ts, call):
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
            call(EniClient(config))
    finally:
        bce_http_client._send_http_request, sdk_utils.get_canonical_time = original
    method, uri, headers, body = sent[0]
    headers = dict((k.decode('utf-8') if isinstance(k, bytes) else k, v.decode('utf-8') if isinstance(v, bytes) else str(v))
                   for k, v in headers.items())
    parts = urlsplit(uri.decode('utf-8'))
    return method.decode('utf-8'), parts.path, parse_qsl(parts.query, keep_blank_values=True), headers, sdk_bytes(body) if body else None


@settings(max_examples=60, deadline=None)
@given(ak=secrets, sk=secrets, ts=st.integers(946684800, 4102444800), token=st.text(alphabet='abcdef0123456789-', min_size=1, max_size=64),
       eni_id=ids, vpc=ids, sgs=st.lists(ids, min_size=1, max_size=4, unique=True), action=st.sampled_from(['update', 'get', 'list']))
def test_eni_requests_equal_the_sdks(ak, sk, ts, token, eni_id, vpc, sgs, action):
    eni_id, sg_ids = 'eni-' + eni_id, ['g-' + g for g in sgs]
    calls = {'update': lambda c: c.update_eni_security_group(eni_id, sg_ids, client_token=token),
             'get': lambda c: c.get_eni_details(eni_id),
             'list': lambda c: c.list_eni('vpc-' + vpc, max_keys=1000)}
    method, path, query, headers, body = eni_sdk_capture(ak, sk, ts, calls[action])
    cloud, session = provider({}, clock=lambda: ts, access_key=ak, secret_key=sk, endpoint='http://127.0.0.1:8765',
                              network_interface_ids=[eni_id])
    original, baidu.client_token = baidu.client_token, lambda: token
    try:
        with pytest.raises(Exception):
            if action == 'update':
                cloud.apply({'action': 'set', 'security_group_ids': sg_ids, 'target_ids': [eni_id]})
            elif action == 'get':
                cloud.read([eni_id])
            else:
                cloud.pages('ListEnis', '/v1/eni', [('vpcId', 'vpc-' + vpc)], 'enis')
    finally:
        baidu.client_token = original
    ours = session.requests[0]
    assert (ours['method'], ours['path']) == (method, path)
    assert sorted(parse_qsl(ours['query'], keep_blank_values=True)) == sorted(query)
    assert ours['data'] == body
    sent = dict(ours['headers'])
    authorization = sent.pop('Authorization')
    signed = authorization.rsplit('/', 2)[1].split(';')
    assert authorization == sdk_sign(ak, sk, method, path, [(k, v or None) for k, v in query], sent, ts, signed)
    sdk_authorization = headers.pop('Authorization')
    assert sdk_authorization == baidu.bce_authorization(ak, sk, method, path, [(k, v or None) for k, v in query], headers, ts)
