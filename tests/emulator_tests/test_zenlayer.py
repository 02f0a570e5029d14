# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Zenlayer emulator, driven by the official zenlayercloud-sdk-python."""

import http.client
import json
import re
from unittest import mock

import pytest

from emulator import zenlayer
from emulator.core import Request, SettingsError

zc_common = pytest.importorskip('zenlayercloud.common.abstract_client')
from zenlayercloud.common.config import Config  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.common.credential import Credential  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.common.excpetion.zenlayer_cloud_sdk_exception import ZenlayerCloudSdkException  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.vm.v20230313 import models as models_2023  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.vm.v20230313 import vm_client as vm_client_2023  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.vm.v20260401 import models as models_2026  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.vm.v20260401 import vm_client as vm_client_2026  # noqa: E402  pylint: disable=wrong-import-position

AK, SK = 'AKID-ZL-TEST', 'zl-secret-password'
SG_WEB, SG_DB, SG_SSH, SG_NEW = '791721259766392536', '791721259766392537', '791721259766392538', '791721259766392539'
VM_A, VM_B, VM_BOOT, VM_NOSG, VM_FULL = '802452345504925912', '802452345504925913', '802452345504925914', '802452345504925915', '802452345504925916'
UNKNOWN_SG, UNKNOWN_VM = '111111111111111111', '222222222222222222'
REQUEST_ID = re.compile(r'^T[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$')

SEED = {
    'credentials': [{'access_key': AK, 'secret_key': SK}],
    'security_groups': [
        {'id': SG_WEB, 'name': 'web', 'status': 'Available', 'is_default': True},
        {'id': SG_DB, 'name': 'db', 'status': 'Available', 'is_default': False},
        {'id': SG_SSH, 'name': 'ssh-admin', 'status': 'Available', 'is_default': False},
        {'id': SG_NEW, 'name': 'creating', 'status': 'Creating', 'is_default': False},
    ],
    'instances': [
        {'id': VM_A, 'name': 'app-1', 'zone': 'SEL-A', 'status': 'RUNNING', 'security_groups': [SG_WEB]},
        {'id': VM_B, 'name': 'app-2', 'zone': 'FRA-A', 'status': 'STOPPED', 'security_groups': []},
        {'id': VM_BOOT, 'name': 'booting', 'status': 'BOOTING', 'security_groups': []},
        {'id': VM_NOSG, 'name': 'legacy', 'status': 'RUNNING', 'unsupported_security_group': True, 'security_groups': []},
        {'id': VM_FULL, 'name': 'full', 'status': 'RUNNING', 'security_groups': [SG_WEB, SG_DB]},
    ],
}

CLIENTS = {'2023-03-13': (vm_client_2023, models_2023), '2026-04-01': (vm_client_2026, models_2026)}


@pytest.fixture
def zl(emulator, admin):
    admin.seed({'zenlayer': SEED})
    return emulator


def host_of(running):
    return running.endpoints['zenlayer'].split('//', 1)[1]


def client(running, version='2023-03-13', ak=AK, sk=SK, retries=0):
    module = CLIENTS[version][0]
    config = Config(scheme='http', domain=host_of(running), request_timeout=10,
                    rate_limit_max_retries=retries, rate_limit_retry_duration=lambda index: 0.01)
    return module.VmClient(Credential(ak, sk), config)


def model(name, version='2023-03-13', **fields):
    obj = getattr(CLIENTS[version][1], name + 'Request')()
    for key, value in fields.items():
        setattr(obj, key, value)
    return obj


def call(running, action, version='2023-03-13', **fields):
    return getattr(client(running, version), action)(model(action, version, **fields))


def sdk_error(running, action, version='2023-03-13', **fields):
    with pytest.raises(ZenlayerCloudSdkException) as err:
        call(running, action, version, **fields)
    return err.value


def bindings(admin):
    return dict((i['id'], i['security_groups']) for i in admin.state()['zenlayer']['instances'])


class _Captured(Exception):
    pass


def sdk_signed_request(running, action, body_model, ak=AK, sk=SK, timestamp=None):
    """The request the SDK itself builds and signs (nothing is sent)."""
    captured = []

    def fake_send(self, req):
        captured.append(req)
        raise _Captured()

    patches = [mock.patch.object(zc_common.AbstractClient, '_send_request', fake_send)]
    if timestamp is not None:
        patches.append(mock.patch.object(zc_common.time, 'time', return_value=timestamp))
    for patch in patches:
        patch.start()
    try:
        with pytest.raises(_Captured):
            getattr(client(running, ak=ak, sk=sk), action)(body_model)
    finally:
        for patch in patches:
            patch.stop()
    return captured[0]


def send_raw(running, headers, body, path='/api/v2/vm', method='POST'):
    conn = http.client.HTTPConnection(host_of(running), timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for key, value in headers.items():
            conn.putheader(key, value)
        data = body.encode('utf-8') if isinstance(body, str) else body
        conn.putheader('Content-Length', str(len(data)))
        conn.endheaders(data)
        resp = conn.getresponse()
        return resp.status, resp.getheader('Content-Type'), json.loads(resp.read().decode('utf-8'))
    finally:
        conn.close()


def send_raw_status_body(running, headers, body):
    status, unused_ctype, obj = send_raw(running, headers, body)
    return status, obj


def signed_raw(running, action='DescribeSecurityGroups', fields=None, **kwargs):
    req = sdk_signed_request(running, action, model(action, **(fields or {})), **kwargs)
    return dict(req.header), req.data


# -- the SDK drives every action ------------------------------------------------

@pytest.mark.parametrize('version', sorted(CLIENTS))
def test_associate_and_unassociate_through_sdk(zl, admin, version):
    resp = call(zl, 'AssociateSecurityGroupInstance', version, securityGroupId=SG_DB, instanceId=VM_A)
    assert REQUEST_ID.match(resp.requestId)
    assert bindings(admin)[VM_A] == [SG_WEB, SG_DB]
    resp = call(zl, 'UnAssociateSecurityGroupInstance', version, securityGroupId=SG_WEB, instanceId=VM_A)
    assert REQUEST_ID.match(resp.requestId)
    assert bindings(admin)[VM_A] == [SG_DB]
    log = admin.requests('zenlayer')
    assert [(e['action'], e['status']) for e in log] == [('AssociateSecurityGroupInstance', 200), ('UnAssociateSecurityGroupInstance', 200)]
    assert log[-1]['request_id'] == resp.requestId


def test_stopped_instance_can_be_bound(zl, admin):
    call(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_SSH, instanceId=VM_B)
    assert bindings(admin)[VM_B] == [SG_SSH]


@pytest.mark.parametrize('action', ['AssociateSecurityGroupInstance', 'UnAssociateSecurityGroupInstance'])
@pytest.mark.parametrize('fields, status, code', [
    ({'securityGroupId': SG_DB}, 400, 'INVALID_PARAMETER'),
    ({'securityGroupId': '', 'instanceId': VM_A}, 400, 'INVALID_PARAMETER'),
    ({'securityGroupId': UNKNOWN_SG, 'instanceId': UNKNOWN_VM}, 404, 'INVALID_SECURITY_GROUP_NOT_FOUND'),
    ({'securityGroupId': SG_NEW, 'instanceId': UNKNOWN_VM}, 403, 'OPERATION_DENIED_SECURITY_GROUP_STATUS_NOT_AVAILABLE'),
    ({'securityGroupId': SG_DB, 'instanceId': UNKNOWN_VM}, 404, 'INVALID_INSTANCE_NOT_FOUND'),
    ({'securityGroupId': SG_DB, 'instanceId': VM_BOOT}, 403, 'OPERATION_DENIED_INSTANCE_STATUS'),
])
def test_binding_errors_in_documented_order(zl, admin, action, fields, status, code):
    before = bindings(admin)
    err = sdk_error(zl, action, **fields)
    assert err.code == code and REQUEST_ID.match(err.request_id)
    assert admin.requests('zenlayer')[-1]['status'] == status
    assert admin.requests('zenlayer')[-1]['error_code'] == code
    assert bindings(admin) == before


def test_unsupported_instance_and_limit(zl, admin):
    assert sdk_error(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_DB,
                     instanceId=VM_NOSG).code == 'OPERATION_DENIED_INSTANCE_NOT_SUPPORT_SECURITY_GROUP'
    assert sdk_error(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_SSH,
                     instanceId=VM_FULL).code == 'OPERATION_DENIED_INSTANCE_SECURITY_GROUP_EXCEED_LIMIT'
    assert [e['status'] for e in admin.requests('zenlayer')] == [403, 403]
    assert bindings(admin)[VM_FULL] == [SG_WEB, SG_DB] and bindings(admin)[VM_NOSG] == []


def test_duplicate_bind_and_unbind_not_bound_policies(zl, admin):
    # Default 'noop': success and nothing changes, even at the limit.
    call(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_DB, instanceId=VM_FULL)
    call(zl, 'UnAssociateSecurityGroupInstance', securityGroupId=SG_SSH, instanceId=VM_A)
    assert bindings(admin)[VM_FULL] == [SG_WEB, SG_DB] and bindings(admin)[VM_A] == [SG_WEB]
    admin.settings(zenlayer={'duplicate_bind': 'error', 'unbind_not_bound': 'error'})
    assert sdk_error(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_DB,
                     instanceId=VM_FULL).code == 'OPERATION_DENIED_SECURITY_GROUP_ALREADY_ASSOCIATED'
    assert sdk_error(zl, 'UnAssociateSecurityGroupInstance', securityGroupId=SG_SSH,
                     instanceId=VM_A).code == 'OPERATION_DENIED_SECURITY_GROUP_NOT_ASSOCIATED'
    assert bindings(admin)[VM_FULL] == [SG_WEB, SG_DB] and bindings(admin)[VM_A] == [SG_WEB]
    admin.settings(zenlayer={'duplicate_bind': 'bogus'})
    assert sdk_error(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_DB, instanceId=VM_FULL).code == 'INTERNAL_SERVER_ERROR'


def test_unbind_last_setting(zl, admin):
    call(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_DB, instanceId=VM_B)
    admin.settings(zenlayer={'unbind_last': 'refuse'})
    call(zl, 'UnAssociateSecurityGroupInstance', securityGroupId=SG_WEB, instanceId=VM_FULL)     # one is left: allowed
    assert sdk_error(zl, 'UnAssociateSecurityGroupInstance', securityGroupId=SG_DB,
                     instanceId=VM_B).code == 'OPERATION_DENIED_INSTANCE_LAST_SECURITY_GROUP'
    assert bindings(admin)[VM_B] == [SG_DB] and bindings(admin)[VM_FULL] == [SG_DB]
    admin.settings(zenlayer={'unbind_last': 'allow'})
    call(zl, 'UnAssociateSecurityGroupInstance', securityGroupId=SG_DB, instanceId=VM_B)
    assert bindings(admin)[VM_B] == []
    admin.settings(zenlayer={'unbind_last': 'bogus'})
    assert sdk_error(zl, 'UnAssociateSecurityGroupInstance', securityGroupId=SG_WEB, instanceId=VM_A).code == 'INTERNAL_SERVER_ERROR'


def test_group_status_case_setting(zl, admin):
    admin.settings(zenlayer={'group_status_case': 'upper'})
    found = call(zl, 'DescribeSecurityGroups', securityGroupIds=[SG_WEB, SG_NEW]).dataSet
    assert [g.securityGroupStatus for g in found] == ['AVAILABLE', 'CREATING']
    call(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_DB, instanceId=VM_A)      # still bindable
    seed = dict(SEED, security_groups=[dict(g, status='AVAILABLE') for g in SEED['security_groups'] if g['id'] == SG_SSH])
    admin.seed({'zenlayer': dict(seed, instances=[i for i in SEED['instances'] if i['id'] == VM_B])})
    admin.settings(zenlayer={'group_status_case': 'as_seeded'})
    assert call(zl, 'DescribeSecurityGroups', securityGroupIds=[SG_SSH]).dataSet[0].securityGroupStatus == 'AVAILABLE'
    call(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_SSH, instanceId=VM_B)      # upper case as seeded: bindable


def test_max_security_groups_per_instance_setting(zl, admin):
    admin.settings(zenlayer={'max_security_groups_per_instance': 3})
    call(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_SSH, instanceId=VM_FULL)
    assert bindings(admin)[VM_FULL] == [SG_WEB, SG_DB, SG_SSH]
    admin.settings(zenlayer={'max_security_groups_per_instance': 1})
    assert sdk_error(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_DB,
                     instanceId=VM_A).code == 'OPERATION_DENIED_INSTANCE_SECURITY_GROUP_EXCEED_LIMIT'


@pytest.mark.parametrize('version', sorted(CLIENTS))
def test_describe_instances(zl, version):
    resp = call(zl, 'DescribeInstances', version, instanceIds=[VM_A, UNKNOWN_VM, VM_FULL])
    assert resp.totalCount == 2 and REQUEST_ID.match(resp.requestId)
    assert [(i.instanceId, i.instanceStatus, i.securityGroupIds) for i in resp.dataSet] == [
        (VM_A, 'RUNNING', [SG_WEB]), (VM_FULL, 'RUNNING', [SG_WEB, SG_DB])]
    first = resp.dataSet[0]
    assert (first.instanceName, first.zoneId) == ('app-1', 'SEL-A')
    assert first.systemDisk.diskId and first.nic.wanName and first.tags.tags == [] and first.dataDisks == []
    assert call(zl, 'DescribeInstances', version, instanceIds=[UNKNOWN_VM]).totalCount == 0


def test_describe_instances_paging_and_filters(zl):
    page = call(zl, 'DescribeInstances', pageSize=2, pageNum=2)
    assert page.totalCount == 5 and [i.instanceId for i in page.dataSet] == [VM_BOOT, VM_NOSG]
    assert call(zl, 'DescribeInstances', pageSize=2, pageNum=4).dataSet == []
    assert [i.instanceId for i in call(zl, 'DescribeInstances', securityGroupId=SG_WEB).dataSet] == [VM_A, VM_FULL]
    assert [i.instanceId for i in call(zl, 'DescribeInstances', instanceStatus='STOPPED').dataSet] == [VM_B]
    assert [i.instanceId for i in call(zl, 'DescribeInstances', instanceName='app*').dataSet] == [VM_A, VM_B]
    assert [i.instanceId for i in call(zl, 'DescribeInstances', instanceName='app').dataSet] == []
    assert [i.instanceId for i in call(zl, 'DescribeInstances', zoneId='FRA-A').dataSet] == [VM_B]
    assert sdk_error(zl, 'DescribeInstances', pageSize=1001).code == 'INVALID_PARAMETER'
    assert sdk_error(zl, 'DescribeInstances', instanceIds=[str(n) for n in range(101)]).code == 'INVALID_PARAMETER'


def test_describe_instances_status(zl):
    resp = call(zl, 'DescribeInstancesStatus', instanceIds=[VM_BOOT, UNKNOWN_VM, VM_B])
    assert resp.totalCount == 2
    assert [(s.instanceId, s.instanceStatus) for s in resp.dataSet] == [(VM_B, 'STOPPED'), (VM_BOOT, 'BOOTING')]
    assert call(zl, 'DescribeInstancesStatus', pageSize=1).totalCount == 5


@pytest.mark.parametrize('version', sorted(CLIENTS))
def test_describe_security_groups_derives_instance_ids(zl, admin, version):
    resp = call(zl, 'DescribeSecurityGroups', version)
    assert resp.totalCount == 4
    groups = dict((g.securityGroupId, g) for g in resp.dataSet)
    assert groups[SG_WEB].instanceIds == [VM_A, VM_FULL] and groups[SG_WEB].isDefault is True
    assert groups[SG_NEW].securityGroupStatus == 'Creating' and groups[SG_DB].securityGroupStatus == 'Available'
    call(zl, 'AssociateSecurityGroupInstance', version, securityGroupId=SG_SSH, instanceId=VM_B)
    resp = call(zl, 'DescribeSecurityGroups', version, securityGroupIds=[SG_SSH, UNKNOWN_SG])
    assert resp.totalCount == 1 and resp.dataSet[0].instanceIds == [VM_B] and resp.dataSet[0].securityGroupName == 'ssh-admin'
    page = call(zl, 'DescribeSecurityGroups', version, pageSize=3, pageNum=2)
    assert page.totalCount == 4 and [g.securityGroupId for g in page.dataSet] == [SG_NEW]
    assert [g.securityGroupId for g in call(zl, 'DescribeSecurityGroups', version, securityGroupName='ssh*').dataSet] == [SG_SSH]
    assert call(zl, 'DescribeSecurityGroups', version, securityGroupIds=[UNKNOWN_SG]).dataSet == []


# -- envelopes and routing (raw requests signed by the SDK's own signer) ---------------

def test_envelopes_are_exact(zl):
    headers, body = signed_raw(zl, 'DescribeSecurityGroups', {'securityGroupIds': [SG_DB]})
    status, ctype, obj = send_raw(zl, headers, body)
    assert (status, ctype, sorted(obj)) == (200, 'application/json', ['requestId', 'response'])
    assert obj['response']['requestId'] == obj['requestId'] and REQUEST_ID.match(obj['requestId'])
    headers, body = signed_raw(zl, 'AssociateSecurityGroupInstance', {'securityGroupId': UNKNOWN_SG, 'instanceId': VM_A})
    status, ctype, obj = send_raw(zl, headers, body)
    assert (status, ctype, sorted(obj)) == (404, 'application/json', ['code', 'message', 'requestId'])
    assert obj['code'] == 'INVALID_SECURITY_GROUP_NOT_FOUND' and REQUEST_ID.match(obj['requestId'])


def test_action_header_is_case_insensitive_and_unsigned(zl, admin):
    headers, body = signed_raw(zl, 'AssociateSecurityGroupInstance', {'securityGroupId': SG_DB, 'instanceId': VM_B})
    headers['x-zc-action'] = 'associatesecuritygroupinstance'
    assert send_raw(zl, headers, body)[0] == 200
    # Action and version are not signed: the same signature serves the unbind (a documented Zenlayer property).
    headers['x-zc-action'] = 'UnAssociateSecurityGroupInstance'
    headers['x-zc-version'] = '2026-04-01'
    assert send_raw(zl, headers, body)[0] == 200
    assert [e['action'] for e in admin.requests('zenlayer')] == ['AssociateSecurityGroupInstance', 'UnAssociateSecurityGroupInstance']
    assert bindings(admin)[VM_B] == []


@pytest.mark.parametrize('change, status, code', [
    ({'path': '/api/v2/bmc'}, 404, 'INVALID_SERVICE_NOT_FOUND'),
    ({'method': 'PUT'}, 405, 'INVALID_REQUEST_METHOD'),
    ({'x-zc-version': '2022-11-20'}, 400, 'INVALID_VERSION'),
    ({'x-zc-action': 'RebootInstances'}, 400, 'INVALID_ACTION'),
])
def test_routing_errors(zl, change, status, code):
    headers, body = signed_raw(zl)
    path, method = change.pop('path', '/api/v2/vm'), change.pop('method', 'POST')
    if method != 'POST':  # the method is part of the canonical request
        headers['Authorization'] = headers['Authorization'].rsplit('=', 1)[0] + '=' + zenlayer.signature(
            SK, headers['x-zc-timestamp'], headers['Content-Type'], headers['host'], body.encode(), method)
    headers.update(change)
    got = send_raw(zl, headers, body, path=path, method=method)
    assert (got[0], got[2]['code']) == (status, code)


def test_body_must_be_a_json_object(zl):
    headers = signed_raw(zl)[0]
    for body in ('', '[1]', 'not json'):
        headers['Authorization'] = headers['Authorization'].rsplit('=', 1)[0] + '=' + zenlayer.signature(
            SK, headers['x-zc-timestamp'], headers['Content-Type'], headers['host'], body.encode())
        status, obj = send_raw_status_body(zl, headers, body)
        assert (status, obj['code']) == (400, 'INVALID_PARAMETER')


# -- authentication -----------------------------------------------------------

def test_wrong_secret_and_unknown_key_through_sdk(zl, admin):
    with pytest.raises(ZenlayerCloudSdkException) as err:
        client(zl, sk='wrong-password').AssociateSecurityGroupInstance(
            model('AssociateSecurityGroupInstance', securityGroupId=SG_DB, instanceId=VM_B))
    assert err.value.code == 'INVALID_SIGNATURE' and REQUEST_ID.match(err.value.request_id)
    with pytest.raises(ZenlayerCloudSdkException) as err:
        client(zl, ak='AKID-NOBODY').DescribeInstances(model('DescribeInstances'))
    assert err.value.code == 'INVALID_ACCESS_KEY'
    assert [(e['status'], e['error_code']) for e in admin.requests('zenlayer')] == [(401, 'INVALID_SIGNATURE'), (401, 'INVALID_ACCESS_KEY')]
    assert bindings(admin)[VM_B] == []


def test_stale_timestamp_and_window_setting(zl, admin):
    admin.settings(clock_offset_s=400)
    assert sdk_error(zl, 'DescribeInstances').code == 'SIGNATURE_EXPIRED'
    admin.settings(clock_offset_s=-400)
    assert sdk_error(zl, 'DescribeInstances').code == 'SIGNATURE_EXPIRED'
    assert admin.requests('zenlayer')[-1]['status'] == 401
    admin.settings(zenlayer={'timestamp_window_s': 600})
    assert call(zl, 'DescribeInstances').totalCount == 5
    admin.settings(clock_offset_s=200, zenlayer={'timestamp_window_s': 300})
    assert call(zl, 'DescribeInstances').totalCount == 5


def test_tampered_body_is_rejected(zl, admin):
    headers, body = signed_raw(zl, 'AssociateSecurityGroupInstance', {'securityGroupId': SG_DB, 'instanceId': VM_B})
    assert body == '{"securityGroupId": "%s", "instanceId": "%s"}' % (SG_DB, VM_B)
    status, obj = send_raw_status_body(zl, headers, body.replace(VM_B, VM_A))
    assert (status, obj['code']) == (401, 'INVALID_SIGNATURE')
    # Re-serialising the same JSON compactly changes the bytes, so it must fail too.
    status, obj = send_raw_status_body(zl, headers, json.dumps(json.loads(body), separators=(',', ':')))
    assert (status, obj['code']) == (401, 'INVALID_SIGNATURE')
    assert bindings(admin) == dict((i['id'], i['security_groups']) for i in SEED['instances'])
    assert send_raw(zl, headers, body)[0] == 200


def test_host_and_content_type_are_signed(zl):
    headers, body = signed_raw(zl)
    port = headers['host'].rsplit(':', 1)[1]
    bad_host = dict(headers, host='localhost:' + port)
    assert send_raw(zl, bad_host, body)[2]['code'] == 'INVALID_SIGNATURE'
    charset = dict(headers, **{'Content-Type': 'application/json; charset=utf-8'})
    assert send_raw(zl, charset, body)[2]['code'] == 'INVALID_SIGNATURE'
    charset['Authorization'] = headers['Authorization'].rsplit('=', 1)[0] + '=' + zenlayer.signature(
        SK, headers['x-zc-timestamp'], charset['Content-Type'], headers['host'], body.encode())
    assert send_raw(zl, charset, body)[0] == 200


@pytest.mark.parametrize('change', [
    {'Authorization': None},
    {'Authorization': 'Bearer some-token'},
    {'Authorization': 'ZC2-HMAC-SHA256 Credential=%s, Signature=abc' % AK},
    {'x-zc-timestamp': None},
    {'x-zc-timestamp': 'yesterday'},
    {'x-zc-signature-method': 'HMAC-SHA1'},
])
def test_malformed_auth(zl, change):
    headers, body = signed_raw(zl)
    for key, value in change.items():
        headers.pop(key)
        if value is not None:
            headers[key] = value
    status, obj = send_raw_status_body(zl, headers, body)
    assert (status, obj['code'], sorted(obj)) == (401, 'INVALID_AUTHORIZATION', ['code', 'message', 'requestId'])


def test_auth_checked_before_faults(zl, admin):
    admin.fault(provider='zenlayer', kind='throttle')
    with pytest.raises(ZenlayerCloudSdkException) as err:
        client(zl, sk='wrong').DescribeInstances(model('DescribeInstances'))
    assert err.value.code == 'INVALID_SIGNATURE'
    assert admin.requests('zenlayer')[-1]['status'] == 401


# -- the reference's SDK-computed test vectors ---------------------------------------

VECTORS = [
    # (name, secret, timestamp, host, content type, body, SHA-256(body) or None, SHA-256(canonical request) or None, signature)
    ('V1', 'SECRET-TEST', 1700000000, 'console.zenlayer.com', 'application/json',
     '{"securityGroupId": "sg-1", "instanceId": "ins-1"}',
     '7f145baed2680b95abe461bc56d496b33473f55f9a7fc1942fe5584268cc5e2d',
     '79ce7ff074ad7104c58bfdc07ca8834c1999c72bef129956a2f1b0d8892ec8ad',
     'a907a8ccb198b61f1386d4b51da26992e086635a0ca6d17935b3f07ea27196b7'),
    ('V2', 'my-access-key-password', 1712345678, 'console.zenlayer.com', 'application/json',
     '{"securityGroupId": "1234567890123456789", "instanceId": "9876543210987654321"}',
     '971735c7e75bde5d2335a2df706ee7644d659d3ba50fc3e8faf7c3d7e140bfb9',
     '62c8ec110e78bd178afe00bafa93adbdb7d9f680859b5d08a4f01b32876f1a03',
     '876b0e2562e4695dbf86393945214f806b156e3d96de001d692d810e9e0e0976'),
    ('V3', 'SECRET-TEST', 1700000000, '127.0.0.1:8080', 'application/json',
     '{"instanceIds": ["ins-1", "ins-2"], "pageSize": 100, "pageNum": 1}',
     'd1a99271e89b794d5b698f6d3bd0531919abd5e4f63d6d3c75ff18b296740096',
     'dde37f2e64d868e0c8f1d52cb90469b530d0dd2a37c2c16c23a0c1ff8fa00a32',
     '9a020d5db43ef915e81cfe1c278a90cb1dded54de0c13a7f6e02ccbc7cfd9797'),
    ('V4', 'SECRET-TEST', 1700000000, 'console.zenlayer.com', 'application/json', '{}',
     '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', None,
     '5674fffe3625ac803b8d3f443ba03c878d398ce24576002decd90350a425db6f'),
    ('V5', 'Gu5t9xGARNpq86cd98joQYCN3', 1673361177, 'console.zenlayer.com', 'application/json; charset=utf-8',
     '{"pageSize":10,"pageNum":1,"zoneId":"HKG-A"}', None, None,
     'efb356c32e55c781e10dc676da59462c22596d82e91c57803666243379555b2f'),
]


@pytest.mark.parametrize('vector', VECTORS, ids=[v[0] for v in VECTORS])
def test_reference_vectors(vector):
    secret, timestamp, host, ctype, body, body_hash, canon_hash, expected = vector[1:]
    raw = body.encode('utf-8')
    if body_hash:
        assert zenlayer.hashed_payload(raw) == body_hash
    canon = zenlayer.canonical_request('POST', ctype, host, raw)
    if canon_hash:
        assert zenlayer.hashlib.sha256(canon.encode()).hexdigest() == canon_hash
    assert zenlayer.signature(secret, str(timestamp), ctype, host, raw) == expected


def test_v5_with_plain_json_differs():
    assert zenlayer.signature('Gu5t9xGARNpq86cd98joQYCN3', '1673361177', 'application/json', 'console.zenlayer.com',
                              b'{"pageSize":10,"pageNum":1,"zoneId":"HKG-A"}').startswith('9fdd5117')


def test_vectors_pass_authenticate_and_match_the_sdk(zl):
    """V1-V3 rebuilt by the SDK's own client with a frozen clock, then verified by the emulator."""
    cloud = zl.emulator.clouds['zenlayer']
    for name, action, fields, ak, sk, ts, expected in (
            ('V1', 'AssociateSecurityGroupInstance', {'securityGroupId': 'sg-1', 'instanceId': 'ins-1'},
             'AKID-TEST', 'SECRET-TEST', 1700000000, VECTORS[0][-1]),
            ('V2', 'UnAssociateSecurityGroupInstance', {'securityGroupId': '1234567890123456789', 'instanceId': '9876543210987654321'},
             'my-access-key-id', 'my-access-key-password', 1712345678, VECTORS[1][-1])):
        req = sdk_signed_request(zl, action, model(action, **fields), ak=ak, sk=sk, timestamp=ts)
        req.header['host'] = 'console.zenlayer.com'
        authorization = zc_common.AbstractClient(Credential(ak, sk))._build_zc2_authorization(req)
        assert authorization == 'ZC2-HMAC-SHA256 Credential=%s, SignedHeaders=content-type;host, Signature=%s' % (ak, expected), name
        req.header['Authorization'] = authorization
        cloud.credentials = {ak: {'access_key': ak, 'secret_key': sk}}
        with mock.patch.object(cloud, 'now', return_value=ts + 10):
            assert cloud.authenticate(_as_request(req), action) is None, name
            tampered = _as_request(req, body=req.data.replace('1', '2'))
            assert json.loads(cloud.authenticate(tampered, action).body)['code'] == 'INVALID_SIGNATURE'


def _as_request(sdk_req, body=None):
    import email.message  # pylint: disable=import-outside-toplevel
    headers = email.message.Message()
    for key, value in sdk_req.header.items():
        headers[key] = value
    return Request('POST', '/api/v2/vm', headers, (body or sdk_req.data).encode('utf-8'), ('127.0.0.1', 0))


# -- faults -------------------------------------------------------------------

def test_throttle_fault_and_sdk_retry(zl, admin):
    admin.fault(provider='zenlayer', action='DescribeInstances', kind='throttle')
    err = sdk_error(zl, 'DescribeInstances')
    assert err.code == 'REQUEST_LIMIT_EXCEEDED' and REQUEST_ID.match(err.request_id)
    assert admin.requests('zenlayer')[-1]['status'] == 429
    admin.fault(provider='zenlayer', action='DescribeInstances', kind='throttle', count=2)
    assert client(zl, retries=3).DescribeInstances(model('DescribeInstances')).totalCount == 5
    assert [e['status'] for e in admin.requests('zenlayer')][-3:] == [429, 429, 200]


@pytest.mark.parametrize('kind, status, code', [
    ('server_error', 503, 'SERVICE_TEMPORARY_UNAVAILABLE'),
    ('in_progress', 403, 'OPERATION_DENIED_INSTANCE_STATUS'),
])
def test_transient_faults(zl, admin, kind, status, code):
    admin.fault(provider='zenlayer', action='AssociateSecurityGroupInstance', kind=kind)
    err = sdk_error(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_DB, instanceId=VM_B)
    assert err.code == code
    assert (admin.requests('zenlayer')[-1]['status'], admin.requests('zenlayer')[-1]['fault']) == (status, kind)
    assert bindings(admin)[VM_B] == []
    call(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_DB, instanceId=VM_B)
    assert bindings(admin)[VM_B] == [SG_DB]


def test_reset_fault_is_a_network_error_and_changes_nothing(zl, admin):
    admin.fault(provider='zenlayer', kind='reset')
    assert sdk_error(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_DB, instanceId=VM_B).code == 'NETWORK_ERROR'
    assert bindings(admin)[VM_B] == []


def test_commit_then_drop_applies_the_change(zl, admin):
    admin.fault(provider='zenlayer', action='AssociateSecurityGroupInstance', kind='commit_then_drop')
    assert sdk_error(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_DB, instanceId=VM_B).code == 'NETWORK_ERROR'
    assert bindings(admin)[VM_B] == [SG_DB]
    assert admin.requests('zenlayer')[-1]['fault'] == 'commit_then_drop'


def test_enforced_rate_limit_throttles(zl, admin):
    admin.settings(enforce_rate_limits=True)
    codes = []
    for unused_attempt in range(60):
        try:
            call(zl, 'DescribeInstancesStatus')
            codes.append('ok')
        except ZenlayerCloudSdkException as exc:
            codes.append(exc.code)
    assert codes[0] == 'ok' and 'REQUEST_LIMIT_EXCEEDED' in codes
    assert zenlayer.ZenlayerCloud.rate_limits['AssociateSecurityGroupInstance'] == 20


# -- seed ---------------------------------------------------------------------

def test_snapshot_round_trips(zl, admin):
    call(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_SSH, instanceId=VM_A)
    state = admin.state()['zenlayer']
    assert admin.seed({'zenlayer': state})['zenlayer'] == state
    assert state['instances'][0]['security_groups'] == [SG_WEB, SG_SSH]
    assert state['instances'][3]['unsupported_security_group'] is True
    assert state['security_groups'][0]['is_default'] is True


@pytest.mark.parametrize('section, needle', [
    ({'instances': [{'id': 802452345504925912}]}, 'instances[0]'),
    ({'security_groups': [{'id': 'sg-1'}]}, 'security_groups[0]'),
    ({'instances': [{'id': '1', 'security_groups': ['9']}]}, 'instances[0]'),
    ({'instances': [{'id': '1', 'status': 'running'}]}, 'instances[0]'),
    ({'instances': [{'id': '1', 'region': 'x'}]}, 'region'),
    ({'credentials': [{'access_key': 'a'}]}, 'credentials[0]'),
    ({'security_groups': [{'id': '1'}, {'id': '2'}, {'id': '3'}], 'instances': [{'id': '4', 'security_groups': ['1', '2', '3']}]},
     'max_security_groups_per_instance'),
])
def test_malformed_seed_is_rejected(section, needle):
    cloud = zenlayer.ZenlayerCloud(mock.Mock())
    with pytest.raises(SettingsError) as err:
        cloud.seed(section)
    assert needle in str(err.value)


def test_request_ids_are_fresh(zl):
    ids = set(call(zl, 'DescribeSecurityGroups').requestId for unused_call in range(3))
    assert len(ids) == 3


# -- eventual consistency: visibility_delay_reads -------------------------------

def listed(running, instance_id):
    answer = call(running, 'DescribeInstances', instanceIds=[instance_id])
    return answer.dataSet[0].securityGroupIds


def group_members(running, sg_id):
    return call(running, 'DescribeSecurityGroups', securityGroupIds=[sg_id]).dataSet[0].instanceIds


def test_a_write_shows_after_the_set_number_of_describe_instances_answers(zl, admin):
    admin.settings(zenlayer={'visibility_delay_reads': 2})
    call(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_DB, instanceId=VM_A)
    assert bindings(admin)[VM_A] == [SG_WEB, SG_DB]           # applied at once
    assert group_members(zl, SG_DB) == [VM_FULL]              # not yet shown, and not counted
    assert listed(zl, VM_A) == [SG_WEB]
    assert listed(zl, VM_B) == []                             # another instance's answer does not count
    assert listed(zl, VM_A) == [SG_WEB]
    assert listed(zl, VM_A) == [SG_WEB, SG_DB]
    assert group_members(zl, SG_DB) == [VM_A, VM_FULL]


def test_a_second_write_keeps_the_oldest_shown_list_and_restarts_the_count(zl, admin):
    admin.settings(zenlayer={'visibility_delay_reads': 1})
    call(zl, 'UnAssociateSecurityGroupInstance', securityGroupId=SG_WEB, instanceId=VM_FULL)
    call(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_SSH, instanceId=VM_FULL)
    # The limit is checked on the real list (1 group), not the shown one (2).
    assert bindings(admin)[VM_FULL] == [SG_DB, SG_SSH]
    assert call(zl, 'DescribeInstances', instanceIds=[VM_FULL], securityGroupId=SG_WEB).totalCount == 1
    assert listed(zl, VM_FULL) == [SG_DB, SG_SSH]


def test_no_op_writes_change_nothing_shown(zl, admin):
    admin.settings(zenlayer={'visibility_delay_reads': 3})
    call(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_WEB, instanceId=VM_A)
    call(zl, 'UnAssociateSecurityGroupInstance', securityGroupId=SG_DB, instanceId=VM_A)
    assert listed(zl, VM_A) == [SG_WEB]
    assert zl.emulator.clouds['zenlayer'].stale == {}


@pytest.mark.parametrize('value', [-1, 'two', True, 1.5])
def test_a_bad_visibility_delay_is_an_internal_error(zl, admin, value):
    admin.settings(zenlayer={'visibility_delay_reads': value})
    err = sdk_error(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_DB, instanceId=VM_A)
    assert err.code == 'INTERNAL_SERVER_ERROR' and 'visibility_delay_reads' in err.message
    assert bindings(admin)[VM_A] == [SG_WEB]


def test_a_seed_forgets_what_was_not_shown_yet(zl, admin):
    admin.settings(zenlayer={'visibility_delay_reads': 5})
    call(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_DB, instanceId=VM_A)
    admin.seed({'zenlayer': SEED})
    assert listed(zl, VM_A) == [SG_WEB]
    call(zl, 'AssociateSecurityGroupInstance', securityGroupId=SG_SSH, instanceId=VM_A)
    admin.seed({'zenlayer': dict(SEED, instances=[dict(SEED['instances'][0], security_groups=[SG_DB])])})
    assert listed(zl, VM_A) == [SG_DB]
