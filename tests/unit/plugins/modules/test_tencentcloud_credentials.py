# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 25, Tencent Cloud: every credential source against the emulator (tccli profile, SDK file, CVM role from the
metadata service, STS AssumeRole on top of each), expiring credentials renewed once, the "nothing found" message, and the
Tencent SDK's own CVMRoleCredential and STSAssumeRoleCredential as the independent check of the emulator's answers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import urllib.request

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.modules import sg_binding, sg_binding_info, tencentcloud_sg_binding

SECRET = 'Tc-Base-Secret-Never-Shown'
ROLE = 'secgroup-ops'
ROLE_ARN = 'qcs::cam::uin/100000000001:roleName/secgroup-admin'
SEED = {'credentials': [{'access_key': 'AKIDbase00000001', 'secret_key': SECRET}],
        'cam_roles': [{'name': ROLE, 'attached': True}, {'name': 'secgroup-admin', 'arn': ROLE_ARN, 'external_id': 'ext-42'}],
        'security_groups': [{'id': 'sg-%08d' % n, 'region': 'ap-guangzhou'} for n in range(1, 4)],
        'instances': [{'id': 'ins-%08d' % n, 'region': 'ap-guangzhou', 'status': 'RUNNING', 'security_groups': ['sg-00000001']}
                      for n in range(1, 41)]}
# Every variable a Tencent source reads: unset, so only what a test sets is seen.
VARIABLES = ('TENCENTCLOUD_SECRET_ID', 'TENCENTCLOUD_SECRET_KEY', 'TENCENTCLOUD_SECURITY_TOKEN', 'TENCENTCLOUD_TOKEN', 'TENCENTCLOUD_REGION',
             'TENCENTCLOUD_PROFILE', 'TCCLI_PROFILE', 'TENCENTCLOUD_SHARED_CREDENTIALS_DIR', 'TENCENTCLOUD_CAM_ROLE_NAME',
             'TENCENTCLOUD_METADATA_ENDPOINT', 'TENCENTCLOUD_STS_ENDPOINT', 'TENCENTCLOUD_ASSUME_ROLE_ARN', 'TENCENTCLOUD_ROLE_ARN',
             'TENCENTCLOUD_ASSUME_ROLE_SESSION_NAME', 'TENCENTCLOUD_ROLE_SESSION_NAME', 'TENCENTCLOUD_ASSUME_ROLE_SESSION_DURATION',
             'TENCENTCLOUD_ASSUME_ROLE_EXTERNAL_ID')


@pytest.fixture
def cloud(running, tmp_path, monkeypatch):
    """A fresh emulator state, HOME an empty directory, no credential variable set."""
    running.emulator.reset()
    running.emulator.seed({'tencentcloud': SEED})
    for var in VARIABLES:
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / 'home'
    home.mkdir()
    monkeypatch.setenv('HOME', str(home))
    running.home = home
    admin(running, '/requests', method='DELETE')
    return running


def admin(running, path, body=None, method=None):
    data = json.dumps(body).encode('utf-8') if body is not None else None
    req = urllib.request.Request(running.endpoints['admin'] + path, data=data, method=method or ('POST' if data else 'GET'),
                                 headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=10) as resp:  # nosec - loopback only
        return json.loads(resp.read().decode('utf-8'))


def issued_secrets(running):
    creds = running.emulator.clouds['tencentcloud'].credentials.values()
    return [c[k] for c in creds if c.get('issued') for k in ('secret_key', 'security_token')]


def run(main, args, capsys, running):
    with patch_module_args(dict(args, _ansible_check_mode=False, _ansible_diff=False)):
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    # Neither the base secret nor any secret the metadata service or STS handed out shows, anywhere in the result.
    for secret in [SECRET] + issued_secrets(running):
        assert secret not in out
    return json.loads(out)


def base_args(running, **extra):
    args = dict(region='ap-guangzhou', endpoint=running.endpoints['tencentcloud'], instance_ids=['ins-00000001', 'ins-00000002'],
                security_group_ids=['sg-00000002'], retry_delay=0.01, retry_max_delay=0.05)
    args.update(extra)
    return args


def write_private(path, text, mode=0o600):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(str(path), mode)


def actions(running):
    return [entry['action'] for entry in admin(running, '/requests?provider=tencentcloud')['requests']]


def test_a_tccli_profile_file_authenticates(cloud, capsys, monkeypatch):
    write_private(cloud.home / '.tccli' / 'prod.credential', json.dumps({'secretId': 'AKIDbase00000001', 'secretKey': SECRET}))
    monkeypatch.setenv('TCCLI_PROFILE', 'prod')
    result = run(tencentcloud_sg_binding.main, base_args(cloud), capsys, cloud)
    assert result['changed'] and not result.get('failed'), result
    assert 'Metadata' not in actions(cloud)     # no instance_role: the metadata service is never asked


def test_the_profile_option_and_the_shared_directory(cloud, capsys, tmp_path):
    write_private(tmp_path / 'creds' / 'ops.credential', json.dumps({'secretId': 'AKIDbase00000001', 'secretKey': SECRET}))
    result = run(sg_binding.main, base_args(cloud, provider='tencentcloud', profile='ops',
                                            shared_credentials_file=str(tmp_path / 'creds')), capsys, cloud)
    assert result['changed'] and not result.get('failed'), result


def test_the_sdk_credentials_file_authenticates(cloud, capsys):
    write_private(cloud.home / '.tencentcloud' / 'credentials', '[default]\nsecret_id = AKIDbase00000001\nsecret_key = %s\n' % SECRET)
    result = run(tencentcloud_sg_binding.main, base_args(cloud), capsys, cloud)
    assert result['changed'] and not result.get('failed'), result


@pytest.mark.parametrize('mode, content, expected', [
    (0o644, json.dumps({'secretId': 'AKIDbase00000001', 'secretKey': SECRET}), 'may be read or written by others (mode 0644)'),
    (0o600, '{"secretId": "AKIDbase00000001", "secretKey": "%s"' % SECRET, 'is not JSON'),
    (0o600, json.dumps({'secretId': 'AKIDbase00000001'}), 'has no secretKey'),
], ids=['readable-by-others', 'not-json', 'no-secret-key'])  # no secret in test names (junit)
def test_a_bad_profile_file_is_refused_naming_it_never_echoing_it(cloud, capsys, mode, content, expected):
    write_private(cloud.home / '.tccli' / 'default.credential', content, mode)
    result = run(tencentcloud_sg_binding.main, base_args(cloud), capsys, cloud)
    assert result['failed'] and '~/.tccli/default.credential' in result['msg'] and expected in result['msg'], result['msg']
    assert actions(cloud) == []


def test_nothing_found_lists_every_source_in_order_and_asks_nothing(cloud, capsys):
    result = run(tencentcloud_sg_binding.main, base_args(cloud), capsys, cloud)
    msg = result['msg']
    assert result['failed'] and msg.startswith('Tencent Cloud: no credentials found; tried, in order: (1) options secret_id/secret_key: '
                                               'secret_id (or TENCENTCLOUD_SECRET_ID) and secret_key (or TENCENTCLOUD_SECRET_KEY) not set; '
                                               "(2) tccli profile 'default': ~/.tccli/default.credential absent; "
                                               '(3) SDK credentials file, section [default]: ~/.tencentcloud/credentials absent; '
                                               '/etc/tencentcloud/credentials absent; (4) CVM role (instance_role not set): instance_role '
                                               '(or TENCENTCLOUD_CAM_ROLE_NAME) not set, so the metadata service was not asked'), msg
    for var in ('TENCENTCLOUD_PROFILE', 'TCCLI_PROFILE', 'TENCENTCLOUD_SHARED_CREDENTIALS_DIR', 'TENCENTCLOUD_CAM_ROLE_NAME',
                'TENCENTCLOUD_ASSUME_ROLE_ARN'):
        assert var in msg
    assert actions(cloud) == []


def test_an_unreachable_metadata_service_is_named_in_a_few_seconds(cloud, capsys):
    import socket
    import time
    with socket.socket() as listener:       # a port that accepts nothing: connection refused at once
        listener.bind(('127.0.0.1', 0))
        port = listener.getsockname()[1]
    start = time.monotonic()
    result = run(tencentcloud_sg_binding.main, base_args(cloud, instance_role=ROLE, metadata_endpoint='http://127.0.0.1:%d' % port),
                 capsys, cloud)
    assert time.monotonic() - start < 10
    assert result['failed'] and ("(4) CVM role '%s': metadata service unreachable at http://127.0.0.1:%d/latest/meta-data/cam/"
                                 "security-credentials/%s: ConnectionError" % (ROLE, port, ROLE)) in result['msg'], result['msg']


def test_the_cvm_role_from_the_metadata_service(cloud, capsys):
    result = run(tencentcloud_sg_binding.main, base_args(cloud, instance_role=ROLE, metadata_endpoint=cloud.endpoints['tencentcloud_metadata']),
                 capsys, cloud)
    assert result['changed'] and not result.get('failed'), result
    tmp = [c for c in cloud.emulator.clouds['tencentcloud'].credentials.values() if c.get('issued')]
    assert len(tmp) == 1 and tmp[0]['uses'] > 0 and tmp[0]['role'].endswith(':roleName/%s' % ROLE)


def test_instance_role_auto_asks_the_role_name_and_the_variable_works(cloud, capsys, monkeypatch):
    monkeypatch.setenv('TENCENTCLOUD_CAM_ROLE_NAME', 'auto')
    monkeypatch.setenv('TENCENTCLOUD_METADATA_ENDPOINT', cloud.endpoints['tencentcloud_metadata'])
    result = run(sg_binding_info.main, dict(provider='tencentcloud', region='ap-guangzhou', endpoint=cloud.endpoints['tencentcloud'],
                                            instance_ids=['ins-00000003']), capsys, cloud)
    assert not result.get('failed'), result
    paths = [e['path'] for e in admin(cloud, '/requests?provider=tencentcloud')['requests'] if e['action'] == 'Metadata']
    assert paths == ['/latest/meta-data/cam/security-credentials/', '/latest/meta-data/cam/security-credentials/%s' % ROLE]


@pytest.mark.parametrize('base', ['options', 'profile', 'instance_role'])
def test_assume_role_on_top_of_each_source(cloud, capsys, monkeypatch, base):
    extra = dict(assume_role=dict(role_arn=ROLE_ARN, external_id='ext-42', duration=3600), sts_endpoint=cloud.endpoints['tencentcloud'])
    if base == 'options':
        extra.update(secret_id='AKIDbase00000001', secret_key=SECRET)
    elif base == 'profile':
        write_private(cloud.home / '.tccli' / 'default.credential', json.dumps({'secretId': 'AKIDbase00000001', 'secretKey': SECRET}))
    else:
        # The CVM role's credentials sign the AssumeRole call: a chain of two temporary credentials.
        extra.update(instance_role=ROLE, metadata_endpoint=cloud.endpoints['tencentcloud_metadata'])
    result = run(tencentcloud_sg_binding.main, base_args(cloud, **extra), capsys, cloud)
    assert result['changed'] and not result.get('failed'), result
    assert actions(cloud).count('AssumeRole') == 1
    assumed = [c for c in cloud.emulator.clouds['tencentcloud'].credentials.values() if c.get('role') == ROLE_ARN]
    # Every API call after AssumeRole is signed with the role's credentials (the emulator counts their uses).
    assert len(assumed) == 1 and assumed[0]['uses'] == len(actions(cloud)) - actions(cloud).index('AssumeRole') - 1


def test_assume_role_from_the_environment_and_sts_errors(cloud, capsys, monkeypatch):
    monkeypatch.setenv('TENCENTCLOUD_ASSUME_ROLE_ARN', ROLE_ARN)
    monkeypatch.setenv('TENCENTCLOUD_STS_ENDPOINT', cloud.endpoints['tencentcloud'])
    args = base_args(cloud, secret_id='AKIDbase00000001', secret_key=SECRET)
    result = run(tencentcloud_sg_binding.main, args, capsys, cloud)
    # The role's trust policy wants an external ID: the STS error, naming the call, before any change.
    assert result['failed'] and 'AssumeRole failed: UnauthorizedOperation' in result['msg'] and 'nothing was changed' in result['msg']
    monkeypatch.setenv('TENCENTCLOUD_ASSUME_ROLE_EXTERNAL_ID', 'ext-42')
    monkeypatch.setenv('TENCENTCLOUD_ASSUME_ROLE_SESSION_DURATION', '99999')
    result = run(tencentcloud_sg_binding.main, args, capsys, cloud)
    assert result['failed'] and result['msg'] == 'Tencent Cloud: assume_role.duration: 99999 must be between 0 and 43200 seconds for Tencent Cloud'
    monkeypatch.setenv('TENCENTCLOUD_ASSUME_ROLE_SESSION_DURATION', '900')
    result = run(tencentcloud_sg_binding.main, args, capsys, cloud)
    assert result['changed'] and not result.get('failed'), result


def test_credentials_that_expire_mid_task_are_renewed_once(cloud, capsys):
    # Each issued credential is refused as expired after 3 requests: the run renews it (the metadata service again) and
    # sends the refused request once more, as often as that happens, never twice for one request.
    admin(cloud, '/settings', {'tencentcloud': {'temporary_credentials_max_requests': 3}})
    ids = ['ins-%08d' % n for n in range(1, 41)]
    result = run(tencentcloud_sg_binding.main, base_args(cloud, instance_ids=ids, instance_role=ROLE, max_concurrency=1,
                                                         metadata_endpoint=cloud.endpoints['tencentcloud_metadata']), capsys, cloud)
    assert result['changed'] and not result.get('failed'), result
    log = admin(cloud, '/requests?provider=tencentcloud')['requests']
    expired = [e for e in log if e['error_code'] == 'AuthFailure.TokenFailure']
    fetches = [e for e in log if e['action'] == 'Metadata']
    assert expired and len(fetches) == len(expired) + 1
    for entry in expired:       # the request after each expired one is the metadata fetch, then the same action again
        after = [e for e in log if e['seq'] > entry['seq']]
        assert after[0]['action'] == 'Metadata' and after[1]['action'] == entry['action'] and after[1]['error_code'] is None


def test_a_credential_that_stays_expired_is_not_retried_blindly(cloud, capsys):
    admin(cloud, '/settings', {'tencentcloud': {'temporary_credentials_max_requests': 0}})
    result = run(tencentcloud_sg_binding.main, base_args(cloud, instance_role=ROLE, metadata_endpoint=cloud.endpoints['tencentcloud_metadata']),
                 capsys, cloud)
    assert result['failed'] and 'AuthFailure.TokenFailure' in result['msg']
    log = admin(cloud, '/requests?provider=tencentcloud')['requests']
    assert [e['action'] for e in log] == ['Metadata', 'DescribeInstances', 'Metadata', 'DescribeInstances']


def test_credentials_about_to_expire_are_fetched_again_before_a_request(cloud, capsys):
    # The metadata service says they expire in 200 s: within the refresh margin (300 s), so each request fetches anew.
    admin(cloud, '/settings', {'tencentcloud': {'temporary_credentials_advertised_ttl_s': 200}})
    result = run(tencentcloud_sg_binding.main, base_args(cloud, instance_role=ROLE, metadata_endpoint=cloud.endpoints['tencentcloud_metadata']),
                 capsys, cloud)
    assert result['changed'] and not result.get('failed'), result
    log = admin(cloud, '/requests?provider=tencentcloud')['requests']
    api = [e for e in log if e['action'] != 'Metadata']
    assert len([e for e in log if e['action'] == 'Metadata']) == len(api) + 1 and not any(e['error_code'] for e in api)


def test_options_zenlayer_lacks_are_refused_naming_the_cloud(cloud, capsys):
    result = run(sg_binding.main, dict(provider='zenlayer', access_key_id='AKID-ZL', access_key_password='x', instance_ids=[],
                                       security_group_ids=[], instance_role='ops'), capsys, cloud)
    assert result['failed'] and 'instance_role: Zenlayer Cloud (provider zenlayer) has no instance role' in result['msg'], result['msg']


# -- the Tencent SDK's own providers against the emulator: the independent check of its metadata and STS answers ------------

def test_the_sdks_cvm_role_credential_reads_the_emulators_metadata_service(cloud, monkeypatch):
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.cvm.v20170312 import cvm_client, models
    # The SDK's address is a class attribute (no option): pointed at the emulator for this test only.
    monkeypatch.setattr(credential.CVMRoleCredential, '_role_endpoint',
                        cloud.endpoints['tencentcloud_metadata'] + '/latest/meta-data/cam/security-credentials/')
    cred = credential.CVMRoleCredential()
    assert cred.get_role_name() == ROLE            # the listing answers the role's name, as the SDK expects
    assert cred.get_credential() is cred and cred.secret_id.startswith('AKIDtmp') and cred.token
    client = cvm_client.CvmClient(cred, 'ap-guangzhou', ClientProfile(httpProfile=HttpProfile(
        protocol='http', endpoint=cloud.endpoints['tencentcloud'].split('://', 1)[1])))
    request = models.DescribeInstancesRequest()
    request.InstanceIds = ['ins-00000001']
    answer = client.DescribeInstances(request)     # signed with the role's key and token: the emulator accepts it
    assert answer.InstanceSet[0].InstanceId == 'ins-00000001'


def test_the_sdks_sts_assume_role_credential_gets_the_emulators_answer(cloud, monkeypatch):
    from tencentcloud.common import credential
    from tencentcloud.common.profile import http_profile
    # STSAssumeRoleCredential takes a host and speaks HTTPS; the emulator here is plain HTTP.
    original = http_profile.HttpProfile.__init__

    def plain_http(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.scheme = 'http'
    monkeypatch.setattr(http_profile.HttpProfile, '__init__', plain_http)
    cloud.emulator.clouds['tencentcloud'].cam_roles[1]['external_id'] = None     # the SDK sends no ExternalId
    cred = credential.STSAssumeRoleCredential('AKIDbase00000001', SECRET, ROLE_ARN, 'sdk-check', 1800,
                                              endpoint=cloud.endpoints['tencentcloud'].split('://', 1)[1])
    secret_id, secret_key, token = cred.get_credential_info()
    issued = cloud.emulator.clouds['tencentcloud'].credentials[secret_id]
    assert issued['role'] == ROLE_ARN and issued['secret_key'] == secret_key and issued['security_token'] == token


def test_sg_quarantine_record_takes_the_instance_role_too(cloud, capsys):
    from ansible_collections.multicloud.secgroup.plugins.modules import sg_quarantine_record
    result = run(sg_quarantine_record.main, dict(provider='tencentcloud', region='ap-guangzhou', endpoint=cloud.endpoints['tencentcloud'],
                                                 state='absent', instance_ids=['ins-00000001'], instance_role=ROLE,
                                                 metadata_endpoint=cloud.endpoints['tencentcloud_metadata']), capsys, cloud)
    assert not result.get('failed') and not result['changed'], result
    assert actions(cloud)[0] == 'Metadata'
