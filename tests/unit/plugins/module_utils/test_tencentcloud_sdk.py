# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Our TC3 signer against the official Tencent Cloud SDK's, byte for byte, on random requests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import types

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.multicloud.secgroup.plugins.module_utils import _tencentcloud as tencent

abstract_client = pytest.importorskip('tencentcloud.common.abstract_client')
from tencentcloud.common import credential  # noqa: E402  pylint: disable=wrong-import-position
from tencentcloud.common.http.request import RequestInternal  # noqa: E402  pylint: disable=wrong-import-position
from tencentcloud.common.profile.client_profile import ClientProfile  # noqa: E402  pylint: disable=wrong-import-position
from tencentcloud.common.profile.http_profile import HttpProfile  # noqa: E402  pylint: disable=wrong-import-position
from tencentcloud.cvm.v20170312 import cvm_client  # noqa: E402  pylint: disable=wrong-import-position
from tencentcloud.vpc.v20170312 import models as vpc_models, vpc_client  # noqa: E402  pylint: disable=wrong-import-position

ids = st.text(alphabet='abcdefghijklmnopqrstuvwxyz0123456789', min_size=8, max_size=8)
secrets = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)
hosts = st.sampled_from(['cvm.tencentcloudapi.com', 'cvm.ap-guangzhou.tencentcloudapi.com', '127.0.0.1:28473',
                         'vpc.ap-singapore.tencentcloudapi.com', 'localhost:8'])


def sdk_request(client_class, action, params, secret_id, secret_key, host, ts, token):
    real_time = abstract_client.time
    abstract_client.time = types.SimpleNamespace(time=lambda: ts)     # freeze the SDK's clock, for this call only
    try:
        profile = ClientProfile(httpProfile=HttpProfile(endpoint=host))
        client = client_class(credential.Credential(secret_id, secret_key, token), 'ap-guangzhou', profile)
        req = RequestInternal(host, 'POST', '/', header={'X-TC-TraceId': '11111111-2222-3333-4444-555555555555'})
        client._build_req_inter(action, params, req)
    finally:
        abstract_client.time = real_time
    return req


@settings(max_examples=150, deadline=None)
@given(secret_id=secrets, secret_key=secrets, host=hosts, ts=st.integers(0, 4102444800),
       action=st.sampled_from(['AssociateSecurityGroups', 'DisassociateSecurityGroups', 'DescribeInstances',
                               'ModifyInstancesAttribute', 'DescribeSecurityGroups']),
       instances=st.lists(ids.map(lambda s: 'ins-' + s), min_size=1, max_size=5),
       groups=st.lists(ids.map(lambda s: 'sg-' + s), min_size=1, max_size=5),
       token=st.one_of(st.none(), secrets))
def test_authorization_matches_the_sdk(secret_id, secret_key, host, ts, action, instances, groups, token):
    service = 'vpc' if action == 'DescribeSecurityGroups' else 'cvm'
    params = {'InstanceIds': instances, 'SecurityGroupIds': groups}
    client_class = vpc_client.VpcClient if service == 'vpc' else cvm_client.CvmClient
    req = sdk_request(client_class, action, params, secret_id, secret_key, host, ts, token)
    body = req.data if isinstance(req.data, bytes) else req.data.encode('utf-8')
    ours = tencent.tc3_authorization(secret_id, secret_key, service, req.header['Host'], ts, body)
    assert ours == req.header['Authorization']
    assert req.header['Content-Type'] == tencent.CONTENT_TYPE


@settings(max_examples=60, deadline=None)
@given(secret_id=secrets, secret_key=secrets, ts=st.integers(0, 4102444800), token=st.one_of(st.none(), secrets),
       action=st.sampled_from(['bind', 'unbind', 'set', 'read']),
       enis=st.lists(ids.map(lambda s: 'eni-' + s), min_size=1, max_size=5, unique=True),
       groups=st.lists(ids.map(lambda s: 'sg-' + s), min_size=1, max_size=5, unique=True))
def test_network_interface_requests_are_the_sdks_byte_for_byte(secret_id, secret_key, ts, token, action, enis, groups):
    """Body, Host and Authorization of each network-interface call, as the provider sends it, equal the VpcClient's."""
    sent = []

    class Recorder:
        def call(self, call):
            sent.append((call.action, call.build()))
            return {'RequestId': 'r', 'NetworkInterfaceSet': []}

        def map(self, func, items, max_workers):
            return [func(item) for item in items]

    params = dict(endpoint='https://vpc.ap-guangzhou.tencentcloudapi.com', vpc_endpoint=None, region='ap-guangzhou',
                  secret_id=secret_id, secret_key=secret_key, security_token=token, max_concurrency=2, network_interface_ids=enis)
    cloud = tencent.TencentCloud(params, Recorder(), clock=lambda: ts, sleep=lambda s: None)
    if action == 'read':
        cloud.read(enis)
    else:
        targets = enis[:1] if action == 'set' else enis
        cloud.apply({'action': action, 'security_group_ids': groups if action == 'set' else groups[:1], 'target_ids': targets})
    name, ours = sent[0]
    sdk = sdk_request(vpc_client.VpcClient, name, json.loads(ours['data']), secret_id, secret_key,
                      'vpc.ap-guangzhou.tencentcloudapi.com', ts, token)
    body = sdk.data if isinstance(sdk.data, bytes) else sdk.data.encode('utf-8')
    assert body == ours['data']
    assert ours['headers']['Host'] == sdk.header['Host'] and ours['headers']['X-TC-Action'] == sdk.header['X-TC-Action'] == name
    assert ours['headers']['X-TC-Version'] == sdk.header['X-TC-Version'] and ours['headers'].get('X-TC-Token') == sdk.header.get('X-TC-Token')
    assert ours['headers']['Authorization'] == sdk.header['Authorization']
    model = getattr(vpc_models, name + 'Request')()
    model.from_json_string(ours['data'].decode('utf-8'))       # every field we send is one the SDK's model knows
    assert dict((k, v) for k, v in json.loads(model.to_json_string()).items() if v is not None) == json.loads(ours['data'])


@settings(max_examples=100, deadline=None)
@given(secret_id=secrets, secret_key=secrets, ts=st.integers(0, 4102444800),
       action=st.sampled_from(['TagResources', 'UnTagResources']),
       instances=st.lists(ids.map(lambda s: 'qcs::cvm:ap-guangzhou:uin/:instance/ins-' + s), min_size=1, max_size=10),
       pairs=st.lists(st.tuples(secrets, secrets), min_size=1, max_size=10), token=st.one_of(st.none(), secrets))
def test_tag_service_authorization_matches_the_sdk(secret_id, secret_key, ts, action, instances, pairs, token):
    """The tag service (scope "tag", version 2018-08-13) is signed as the SDK's TagClient signs it."""
    tag_client = pytest.importorskip('tencentcloud.tag.v20180813.tag_client')
    if action == 'TagResources':
        params = {'ResourceList': instances, 'Tags': [{'TagKey': k, 'TagValue': v} for k, v in pairs]}
    else:
        params = {'ResourceList': instances, 'TagKeys': [k for k, dummy in pairs]}
    req = sdk_request(tag_client.TagClient, action, params, secret_id, secret_key, tencent.TAG_HOST, ts, token)
    assert req.header['X-TC-Version'] == tencent.API_VERSIONS['tag']
    body = req.data if isinstance(req.data, bytes) else req.data.encode('utf-8')
    assert tencent.tc3_authorization(secret_id, secret_key, 'tag', req.header['Host'], ts, body) == req.header['Authorization']
