# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Our ACS3-HMAC-SHA256 signer and requests against the official V2.0 SDK's, byte for byte, on random requests.

The SDK (alibabacloud-ecs20140526 on alibabacloud-tea-openapi) builds each request with a frozen
clock, nonce and User-Agent; its HTTP send is replaced by a capture. Then:

* our signer, given the SDK's method, query and headers, returns the SDK's Authorization header;
* our provider, given the same clock and nonce, sends the same action, query and headers, except
  the SDK's own ``x-acs-credentials-provider`` (which it signs like any other header).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import json
import time

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.multicloud.secgroup.plugins.module_utils import _alicloud as ali
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

# The official SDK is a test-only dependency, absent from the newest-ansible-core venv.
ecs_client = pytest.importorskip('alibabacloud_ecs20140526.client')
from alibabacloud_ecs20140526 import models as ecs_models  # noqa: E402  pylint: disable=wrong-import-position
from alibabacloud_tea_openapi import utils_models as open_api_models  # noqa: E402  pylint: disable=wrong-import-position
from alibabacloud_tea_openapi.utils import Utils  # noqa: E402  pylint: disable=wrong-import-position
from darabonba.exceptions import UnretryableException  # noqa: E402  pylint: disable=wrong-import-position
from darabonba.core import DaraCore  # noqa: E402  pylint: disable=wrong-import-position
from darabonba.runtime import RuntimeOptions  # noqa: E402  pylint: disable=wrong-import-position


class Captured(Exception):
    def __init__(self, request):
        super(Captured, self).__init__('captured')
        self.request = request


def capture(req, runtime):
    raise Captured(req)


def frozen(stamp, nonce):
    """The SDK's clock, nonce and User-Agent frozen, and its HTTP send replaced by a capture."""
    patch = pytest.MonkeyPatch()
    patch.setattr(Utils, 'get_timestamp', staticmethod(lambda: stamp))
    patch.setattr(Utils, 'get_nonce', staticmethod(lambda: nonce))
    patch.setattr(Utils, 'get_user_agent', staticmethod(lambda ua: ali.USER_AGENT))
    patch.setattr(DaraCore, 'do_action', staticmethod(capture))
    return patch


def sdk_request(ak, sk, token, host, stamp, nonce, method_name, request):
    """The request the SDK would send (a DaraRequest)."""
    config = open_api_models.Config(access_key_id=ak, access_key_secret=sk, security_token=token,
                                    region_id='cn-hangzhou', endpoint=host, protocol='https')
    patch = frozen(stamp, nonce)
    try:
        with pytest.raises(UnretryableException) as caught:
            getattr(ecs_client.Client(config), method_name)(request, RuntimeOptions())
    finally:
        patch.undo()
    return caught.value.inner_exception.request


class NoSession:
    def close(self):
        pass


def our_request(ak, sk, token, host, stamp, nonce, kind, region, call):
    """The request our provider builds for the same call: (action, query) captured from provider.call."""
    params = dict(access_key=ak, secret_key=sk, security_token=token, region=region, endpoint='https://' + host,
                  max_concurrency=1, instance_ids=None, network_interface_ids=None)
    params[kind] = []
    when = calendar.timegm(time.strptime(stamp, '%Y-%m-%dT%H:%M:%SZ'))
    cloud = ali.AliCloud(params, transport.Transport('alicloud', session=NoSession()), clock=lambda: when, nonce=lambda: nonce)
    sent = []

    def fake_call(action, query, write=False):
        sent.append(cloud.build(action, dict(query)))
        raise Captured(None)

    cloud.call = fake_call
    with pytest.raises(Captured):
        call(cloud)
    return sent[0]


keys = st.text(alphabet='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', min_size=8, max_size=30)
secrets = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)
hosts = st.sampled_from(['ecs-cn-hangzhou.aliyuncs.com', 'ecs.cn-beijing.aliyuncs.com', '127.0.0.1:18765',
                         'ecs.ap-southeast-1.aliyuncs.com', 'localhost:8'])
stamps = st.integers(0, 4102444799).map(lambda t: time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(t)))
nonces = st.text(alphabet='0123456789abcdef', min_size=32, max_size=32)
suffix = st.text(alphabet='abcdefghijklmnopqrstuvwxyz0123456789', min_size=8, max_size=30)
instance_ids = suffix.map(lambda s: 'i-' + s)
eni_ids = suffix.map(lambda s: 'eni-' + s)
sg_ids = suffix.map(lambda s: 'sg-' + s)
regions = st.sampled_from(['cn-hangzhou', 'cn-beijing', 'ap-southeast-1', 'eu-central-1', 'cn-shanghai-finance-1'])
tokens = st.one_of(st.none(), secrets)


def sdk_call(kind, action, target, groups, region, chunk):
    """(SDK method name, SDK request model) for one of our calls."""
    if action in ('JoinSecurityGroup', 'LeaveSecurityGroup'):
        model = ecs_models.JoinSecurityGroupRequest if action == 'JoinSecurityGroup' else ecs_models.LeaveSecurityGroupRequest
        args = {'instance_id' if kind == 'instance_ids' else 'network_interface_id': target}
        return ('join_security_group_with_options' if action == 'JoinSecurityGroup' else 'leave_security_group_with_options',
                model(region_id=region, security_group_id=groups[0], **args))
    if action == 'set' and kind == 'instance_ids':
        return 'modify_instance_attribute_with_options', ecs_models.ModifyInstanceAttributeRequest(
            instance_id=target, security_group_ids=groups)
    if action == 'set':
        return 'modify_network_interface_attribute_with_options', ecs_models.ModifyNetworkInterfaceAttributeRequest(
            region_id=region, network_interface_id=target, security_group_id=groups)
    if kind == 'instance_ids':
        return 'describe_instances_with_options', ecs_models.DescribeInstancesRequest(
            region_id=region, instance_ids=json.dumps(chunk, separators=(',', ':')), max_results=ali.PAGE)
    return 'describe_network_interfaces_with_options', ecs_models.DescribeNetworkInterfacesRequest(
        region_id=region, network_interface_id=chunk, max_results=ali.PAGE)


def provider_call(action, target, groups, chunk):
    if action in ('JoinSecurityGroup', 'LeaveSecurityGroup'):
        op = {'action': 'bind' if action == 'JoinSecurityGroup' else 'unbind', 'security_group_ids': groups[:1], 'target_ids': [target]}
        return lambda cloud: cloud.apply(op)
    if action == 'set':
        return lambda cloud: cloud.apply({'action': 'set', 'security_group_ids': groups, 'target_ids': [target]})
    return lambda cloud: cloud.read(chunk)


@settings(max_examples=300, deadline=None)
@given(ak=keys, sk=secrets, token=tokens, host=hosts, stamp=stamps, nonce=nonces, region=regions,
       kind=st.sampled_from(['instance_ids', 'network_interface_ids']),
       action=st.sampled_from(['JoinSecurityGroup', 'LeaveSecurityGroup', 'set', 'describe']),
       instances=st.lists(instance_ids, min_size=1, max_size=100, unique=True),
       enis=st.lists(eni_ids, min_size=1, max_size=100, unique=True),
       groups=st.lists(sg_ids, min_size=1, max_size=5, unique=True))
def test_requests_match_the_sdk(ak, sk, token, host, stamp, nonce, region, kind, action, instances, enis, groups):
    chunk = instances if kind == 'instance_ids' else enis
    target = chunk[0]
    method_name, model = sdk_call(kind, action, target, groups, region, chunk)
    theirs = sdk_request(ak, sk, token, host, stamp, nonce, method_name, model)
    ours = our_request(ak, sk, token, host, stamp, nonce, kind, region, provider_call(action, target, groups, chunk))

    # Our signer on the SDK's own request gives the SDK's signature.
    assert ali.acs3_authorization(theirs.method, theirs.pathname, theirs.query,
                                  dict((k, v) for k, v in theirs.headers.items() if k != 'Authorization'),
                                  theirs.headers['x-acs-content-sha256'], ak, sk) == theirs.headers['Authorization']
    # Our request is the SDK's: method, path, query (so the same action parameters) and headers.
    sdk_headers = dict((k, v) for k, v in theirs.headers.items() if k not in ('Authorization', 'x-acs-credentials-provider'))
    our_headers = dict((k, v) for k, v in ours['headers'].items() if k != 'Authorization')
    assert our_headers == sdk_headers
    assert ours['method'] == theirs.method == 'POST' and ours['data'] == b''
    assert ours['url'] == 'https://%s/?%s' % (host, ali.canonical_query(theirs.query))
    # ... and our signature over it is what the SDK would compute for those headers.
    assert ours['headers']['Authorization'] == ali.acs3_authorization('POST', '/', theirs.query, our_headers,
                                                                      ali.EMPTY_SHA256, ak, sk)


@settings(max_examples=300, deadline=None)
@given(ak=keys, sk=secrets, token=tokens, host=hosts, stamp=stamps, nonce=nonces,
       query=st.dictionaries(st.text(alphabet='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.', min_size=1, max_size=20),
                             st.text(max_size=30), max_size=8))
def test_any_query_signs_as_the_sdk(ak, sk, token, host, stamp, nonce, query):
    """Arbitrary parameter values (spaces, '+', '*', '~', '/', non-ASCII) through the generic call_api."""
    client = ecs_client.Client(open_api_models.Config(access_key_id=ak, access_key_secret=sk, security_token=token,
                                                      region_id='cn-hangzhou', endpoint=host))
    params = open_api_models.Params(action='ModifyInstanceAttribute', version=ali.API_VERSION, protocol='HTTPS', pathname='/',
                                    method='POST', auth_type='AK', style='RPC', req_body_type='formData', body_type='json')
    patch = frozen(stamp, nonce)
    try:
        with pytest.raises(UnretryableException) as caught:
            client.call_api(params, open_api_models.OpenApiRequest(query=dict(query)), RuntimeOptions())
    finally:
        patch.undo()
    theirs = caught.value.inner_exception.request
    headers = dict((k, v) for k, v in theirs.headers.items() if k != 'Authorization')
    assert ali.acs3_authorization('POST', '/', theirs.query, headers, ali.EMPTY_SHA256, ak, sk) == theirs.headers['Authorization']


def test_the_endpoint_map_is_the_sdks():
    client = ecs_client.Client(open_api_models.Config(access_key_id='a', access_key_secret='b', region_id='cn-beijing'))
    assert ali.ENDPOINTS == client._endpoint_map
    for region in ('cn-beijing', 'ap-southeast-1', 'cn-hangzhou', 'cn-wuhan', 'eu-west-1-oxs'):
        sdk = ecs_client.Client(open_api_models.Config(access_key_id='a', access_key_secret='b', region_id=region))
        assert ali.endpoint_host(region) == sdk._endpoint
