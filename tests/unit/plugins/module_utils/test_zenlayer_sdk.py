# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Our ZC2-HMAC-SHA256 signer against the official Zenlayer Cloud SDK's, byte for byte, on random requests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from unittest import mock

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport
from ansible_collections.multicloud.secgroup.plugins.module_utils import _zenlayer as zenlayer

# The official SDK is a test-only dependency, absent from the newest-ansible-core venv.
abstract_client = pytest.importorskip('zenlayercloud.common.abstract_client')
from zenlayercloud.common.config import Config  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.common.credential import Credential  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.vm.v20230313 import models, vm_client  # noqa: E402  pylint: disable=wrong-import-position


class Captured(Exception):
    pass


def sdk_request(action, fields, access_key_id, password, domain, ts):
    """The request VmClient builds and signs with its clock frozen at ts (nothing is sent)."""
    sent = []

    def capture(self, req):
        sent.append(req)
        raise Captured()

    request = getattr(models, action + 'Request')()
    for key, value in fields.items():
        setattr(request, key, value)
    client = vm_client.VmClient(Credential(access_key_id, password), Config(domain=domain))
    with mock.patch.object(abstract_client.time, 'time', return_value=ts), \
            mock.patch.object(abstract_client.AbstractClient, '_send_request', capture):
        with pytest.raises(Captured):
            getattr(client, action)(request)
    return sent[0]


def our_request(action, body, access_key_id, password, domain, ts):
    """The request our provider builds, caught at the session."""
    session = mock.Mock()
    session.request.side_effect = Captured()
    conn = transport.Transport('zenlayer', max_retries=0, session=session, sleep=lambda s: None)
    params = dict(access_key_id=access_key_id, access_key_password=password, endpoint='https://' + domain, max_concurrency=1)
    with pytest.raises(Captured):
        zenlayer.ZenlayerCloud(params, conn, clock=lambda: ts).call(action, body)
    return session.request.call_args


digits = st.text(alphabet='0123456789', min_size=8, max_size=19)
# The SDK strips the credentials; ours are refused with surrounding whitespace before any request.
secrets = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FFF, blacklist_categories=('Cs', 'Cc')), min_size=1,
                  max_size=40).filter(lambda s: s == s.strip())
domains = st.sampled_from(['console.zenlayer.com', '127.0.0.1:8080', 'localhost:41005', 'console.zenlayer.com:443'])
actions = st.sampled_from(['AssociateSecurityGroupInstance', 'UnAssociateSecurityGroupInstance',
                           'DescribeInstances', 'DescribeSecurityGroups'])


def fields_for(action, data):
    if action.endswith('AssociateSecurityGroupInstance'):
        return {'securityGroupId': data.draw(digits), 'instanceId': data.draw(digits)}
    ids = data.draw(st.lists(digits, max_size=5))
    key = 'instanceIds' if action == 'DescribeInstances' else 'securityGroupIds'
    return {key: ids, 'pageSize': data.draw(st.integers(1, 1000)), 'pageNum': data.draw(st.integers(1, 50))}


@settings(max_examples=300, deadline=None)
@given(access_key_id=secrets, password=secrets, domain=domains, ts=st.integers(0, 4102444800), action=actions, data=st.data())
def test_our_requests_carry_the_sdks_headers_and_signature(access_key_id, password, domain, ts, action, data):
    fields = fields_for(action, data)
    sdk = sdk_request(action, fields, access_key_id, password, domain, ts)
    ours = our_request(action, fields, access_key_id, password, domain, ts)
    headers = ours.kwargs['headers']
    body = ours.kwargs['data']
    # The same bytes (json.dumps with its default separators) and the same signed headers.
    assert body == sdk.data.encode('utf-8')
    assert json.loads(body.decode('utf-8')) == fields
    assert headers['Authorization'] == sdk.header['Authorization']
    assert headers['Host'] == sdk.header['host'] == domain
    assert headers['Content-Type'] == sdk.header['Content-Type']
    for ours_name, sdk_name in (('X-ZC-Action', 'x-zc-action'), ('X-ZC-Version', 'x-zc-version'), ('X-ZC-Service', 'x-zc-service'),
                                ('X-ZC-Timestamp', 'x-zc-timestamp'), ('X-ZC-Signature-Method', 'x-zc-signature-method')):
        assert headers[ours_name] == sdk.header[sdk_name]
    assert ours.args == ('POST', 'https://%s/api/v2/vm' % domain)


@settings(max_examples=300, deadline=None)
@given(access_key_id=secrets, password=secrets, host=st.text(min_size=1, max_size=30).filter(lambda h: '\n' not in h),
       ts=st.integers(0, 4102444800), body=st.text(max_size=200),
       content_type=st.sampled_from(['application/json', 'application/json; charset=utf-8']))
def test_the_signer_matches_the_sdks_on_any_host_body_and_content_type(access_key_id, password, host, ts, body, content_type):
    req = mock.Mock(data=body, method='POST', header={'x-zc-timestamp': str(ts)})
    req.get_content_type.return_value = content_type
    req.get_host.return_value = host
    client = vm_client.VmClient(Credential(access_key_id, password))
    expected = client._build_zc2_authorization(req)
    assert zenlayer.zc2_authorization(access_key_id, password, host, ts, body.encode('utf-8'), content_type) == expected


# -- the reference's vectors (reference/zenlayer.md section 2) --------------------------------

@pytest.mark.parametrize('ak, sk, ts, host, body, content_type, signature', [
    ('AKID-TEST', 'SECRET-TEST', 1700000000, 'console.zenlayer.com', '{"securityGroupId": "sg-1", "instanceId": "ins-1"}',
     'application/json', 'a907a8ccb198b61f1386d4b51da26992e086635a0ca6d17935b3f07ea27196b7'),
    ('my-access-key-id', 'my-access-key-password', 1712345678, 'console.zenlayer.com',
     '{"securityGroupId": "1234567890123456789", "instanceId": "9876543210987654321"}', 'application/json',
     '876b0e2562e4695dbf86393945214f806b156e3d96de001d692d810e9e0e0976'),
    ('AKID-TEST', 'SECRET-TEST', 1700000000, '127.0.0.1:8080', '{"instanceIds": ["ins-1", "ins-2"], "pageSize": 100, "pageNum": 1}',
     'application/json', '9a020d5db43ef915e81cfe1c278a90cb1dded54de0c13a7f6e02ccbc7cfd9797'),
    ('AKID-TEST', 'SECRET-TEST', 1700000000, 'console.zenlayer.com', '{}', 'application/json',
     '5674fffe3625ac803b8d3f443ba03c878d398ce24576002decd90350a425db6f'),
    ('0D9UtpyKYcHxms5v', 'Gu5t9xGARNpq86cd98joQYCN3', 1673361177, 'console.zenlayer.com', '{"pageSize":10,"pageNum":1,"zoneId":"HKG-A"}',
     'application/json; charset=utf-8', 'efb356c32e55c781e10dc676da59462c22596d82e91c57803666243379555b2f'),
    ('AKID-TEST', 'SECRET-TEST', 1795341077, '127.0.0.1:18932', '{"securityGroupId": "791721259766392536", "instanceId": "802452345504925912"}',
     'application/json', 'd75e3dc0c3519e736e37f41244c4bd6f32cccc6261406e6758c5f6c12168a155'),
])
def test_reference_vectors(ak, sk, ts, host, body, content_type, signature):
    expected = 'ZC2-HMAC-SHA256 Credential=%s, SignedHeaders=content-type;host, Signature=%s' % (ak, signature)
    assert zenlayer.zc2_authorization(ak, sk, host, ts, body.encode('utf-8'), content_type) == expected


def test_v5_with_plain_json_differs():
    """The content type is signed verbatim (reference V5)."""
    signed = zenlayer.zc2_authorization('0D9UtpyKYcHxms5v', 'Gu5t9xGARNpq86cd98joQYCN3', 'console.zenlayer.com', 1673361177,
                                        b'{"pageSize":10,"pageNum":1,"zoneId":"HKG-A"}')
    assert signed.split('Signature=')[1].startswith('9fdd5117')


def test_the_action_is_not_signed():
    """Associate and UnAssociate with the same body, host and time carry the same signature (reference V1)."""
    body = {'securityGroupId': 'sg-1', 'instanceId': 'ins-1'}
    bind = our_request('AssociateSecurityGroupInstance', body, 'AKID-TEST', 'SECRET-TEST', 'console.zenlayer.com', 1700000000)
    unbind = our_request('UnAssociateSecurityGroupInstance', body, 'AKID-TEST', 'SECRET-TEST', 'console.zenlayer.com', 1700000000)
    assert bind.kwargs['headers']['Authorization'] == unbind.kwargs['headers']['Authorization']
    assert bind.kwargs['headers']['Authorization'].endswith('a907a8ccb198b61f1386d4b51da26992e086635a0ca6d17935b3f07ea27196b7')
    assert bind.kwargs['headers']['X-ZC-Action'] != unbind.kwargs['headers']['X-ZC-Action']


# -- Elastic Compute (zec): the same signer, another path and version ------------------------------

zec_ids = st.text(alphabet='0123456789abcdefghijklmnopqrstuvwxyz-', min_size=1, max_size=30)


def zec_sdk_request(action, fields, access_key_id, password, domain, ts):
    """The request ZecClient (2025-09-01) builds and signs with its clock frozen at ts (nothing is sent)."""
    from zenlayercloud.zec.v20250901 import models as zec_models, zec_client  # pylint: disable=import-outside-toplevel
    sent = []

    def capture(self, req):
        sent.append(req)
        raise Captured()

    request = getattr(zec_models, action + 'Request')()
    for key, value in fields.items():
        setattr(request, key, value)
    client = zec_client.ZecClient(Credential(access_key_id, password), Config(domain=domain))
    with mock.patch.object(abstract_client.time, 'time', return_value=ts), \
            mock.patch.object(abstract_client.AbstractClient, '_send_request', capture):
        with pytest.raises(Captured):
            getattr(client, action)(request)
    return sent[0]


def zec_fields_for(action, data):
    if action == 'ModifyNetworkInterfaceAttribute':
        return {'nicId': data.draw(zec_ids), 'securityGroupId': data.draw(digits)}
    if action == 'DescribeNetworkInterfaces' and data.draw(st.booleans()):
        paging = {'securityGroupId': data.draw(digits), 'nicType': 'Primary'}
    else:
        key = {'DescribeNetworkInterfaces': 'nicIds', 'DescribeInstances': 'instanceIds', 'DescribeVpcs': 'vpcIds',
               'DescribeSecurityGroups': 'securityGroupIds'}[action]
        paging = {key: data.draw(st.lists(zec_ids, max_size=5))}
    paging.update(pageSize=data.draw(st.integers(1, 1000)), pageNum=data.draw(st.integers(1, 50)))
    return paging


@settings(max_examples=200, deadline=None)
@given(access_key_id=secrets, password=secrets, domain=domains, ts=st.integers(0, 4102444800), data=st.data(),
       kind=st.sampled_from(['network_interface_ids', 'zec_instance_ids']),
       action=st.sampled_from(['ModifyNetworkInterfaceAttribute', 'DescribeNetworkInterfaces', 'DescribeInstances', 'DescribeVpcs',
                               'DescribeSecurityGroups']))
def test_our_zec_requests_carry_the_zec_clients_headers_and_signature(access_key_id, password, domain, ts, data, kind, action):
    fields = zec_fields_for(action, data)
    sdk = zec_sdk_request(action, fields, access_key_id, password, domain, ts)
    # The SDK writes the fields in its model's order: the same fields in the same order are the same bytes.
    fields = json.loads(sdk.data)
    session = mock.Mock()
    session.request.side_effect = Captured()
    conn = transport.Transport('zenlayer', max_retries=0, session=session, sleep=lambda s: None)
    params = {'access_key_id': access_key_id, 'access_key_password': password, 'endpoint': 'https://' + domain, 'max_concurrency': 1,
              kind: []}
    with pytest.raises(Captured):
        zenlayer.ZenlayerCloud(params, conn, clock=lambda: ts).call(action, fields)
    ours = session.request.call_args
    headers = ours.kwargs['headers']
    assert ours.kwargs['data'] == sdk.data.encode('utf-8')
    assert headers['Authorization'] == sdk.header['Authorization']
    for ours_name, sdk_name in (('X-ZC-Action', 'x-zc-action'), ('X-ZC-Version', 'x-zc-version'), ('X-ZC-Service', 'x-zc-service'),
                                ('X-ZC-Timestamp', 'x-zc-timestamp'), ('X-ZC-Signature-Method', 'x-zc-signature-method'),
                                ('Content-Type', 'Content-Type'), ('Host', 'host')):
        assert headers[ours_name] == sdk.header[sdk_name]
    assert headers['X-ZC-Version'] == '2025-09-01' and headers['X-ZC-Service'] == 'zec'
    assert ours.args == ('POST', 'https://%s/api/v2/zec' % domain) and sdk.uri == '/api/v2/zec'
