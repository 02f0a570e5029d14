# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Baidu AI Cloud credential sources against the emulator (HOME an empty directory, no credential variables): the BCE
CLI's ~/.bce/config.json (AK, StsToken), the older ~/.bce/credentials, the BCC instance role (sts-credential), STS
AssumeRole on top, a session token expiring mid-run renewed once, the message listing every source tried."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys

import pytest

from ansible_collections.multicloud.secgroup.plugins.module_utils import _baiducloud as baidu
from ansible_collections.multicloud.secgroup.plugins.module_utils import _credentials as credentials
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

AK = 'ak0123456789abcdef0123456789ab01'
SK = 'sk-secret-for-the-credential-tests'
ACCOUNT = 'dc9b5191440d4f93851ddffb4e942b75'
INSTANCE = 'i-YufwpQAe'
SG = 'g-aaaa0001'


@pytest.fixture(scope='module')
def running():
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy'):
        os.environ.pop(var, None)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..'))
    from emulator import start  # pylint: disable=import-outside-toplevel
    emulator = start()
    yield emulator
    emulator.stop()


@pytest.fixture
def emu(running):
    running.emulator.reset()
    running.emulator.seed({'baiducloud': {
        'credentials': [{'access_key': AK, 'secret_key': SK}],
        'security_groups': [{'id': SG, 'region': 'bj', 'vpc_id': 'vpc-one'}],
        'instances': [{'id': INSTANCE, 'region': 'bj', 'status': 'Running', 'vpc_id': 'vpc-one', 'security_groups': [SG]}],
        'iam_roles': [{'name': 'BccRole', 'account_id': ACCOUNT, 'instance': True}, {'name': 'Deploy', 'account_id': ACCOUNT}]}})
    running.emulator.clear_requests()
    return running


def write_private(path, data, mode=0o600):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(str(path), 'w') as handle:
        handle.write(data if isinstance(data, str) else json.dumps(data))
    os.chmod(str(path), mode)


def resolve(emu, home, **extra):
    url = emu.endpoints['baiducloud']
    params = dict(region='bj', endpoint=url, max_concurrency=2, instance_ids=[INSTANCE], access_key=None, secret_key=None,
                  security_token=None, write_api='batch', batch_size=10)
    params.update(extra)
    conn = transport.Transport('baiducloud', timeout=5, max_retries=0, secrets=[])
    registered = []
    held = credentials.for_module(baidu.BaiduCloud, params, conn, registered.append, environ={}, home=str(home))
    return baidu.BaiduCloud(params, conn), held, registered


def actions(emu):
    return [(e['action'], e['error_code']) for e in emu.emulator.requests('baiducloud')]


def test_bce_cli_profile(emu, tmp_path):
    write_private(tmp_path / '.bce' / 'config.json', {'current': 'prod', 'profiles': [
        {'name': 'prod', 'mode': 'AK', 'access_key_id': AK, 'secret_access_key': SK, 'region': 'bj'}]})
    cloud, held, registered = resolve(emu, tmp_path)
    assert cloud.read([INSTANCE])[0][INSTANCE] == [SG]
    assert held.current().source == "profile 'prod' in ~/.bce/config.json" and SK in registered
    assert held.context.asked == [] and not [a for a in actions(emu) if a[0] == 'Metadata']


def test_legacy_credentials_file(emu, tmp_path):
    write_private(tmp_path / '.bce' / 'credentials', '[default]\nbce_access_key_id = %s\nbce_secret_access_key = %s\n' % (AK, SK))
    cloud, held, dummy = resolve(emu, tmp_path)
    assert cloud.read([INSTANCE])[0][INSTANCE] == [SG]
    assert held.current().source == "profile 'default' in ~/.bce/credentials"


def test_instance_role_then_assume_role(emu, tmp_path):
    url, md = emu.endpoints['baiducloud'], emu.endpoints['baiducloud_metadata']
    cloud, held, registered = resolve(emu, tmp_path, instance_role='auto', metadata_endpoint=md, sts_endpoint=url,
                                      assume_role=dict(role_arn='%s:Deploy' % ACCOUNT, duration=3600))
    assert cloud.read([INSTANCE])[0][INSTANCE] == [SG]
    current = held.current()
    assert current.source == ('role %s:Deploy assumed with the BCC instance role from the metadata service at %s'
                              % (ACCOUNT, md))
    assert current.token in registered and current.secret in registered
    assert [a for a, dummy in actions(emu)][:3] == ['Metadata', 'AssumeRole', 'ListInstancesByIds']


def test_expired_session_token_renewed_once(emu, tmp_path):
    md = emu.endpoints['baiducloud_metadata']
    emu.emulator.update_settings({'baiducloud': {'temporary_credentials_ttl_s': 1000}})
    cloud, held, dummy = resolve(emu, tmp_path, instance_role='auto', metadata_endpoint=md)
    cloud.read([INSTANCE])
    # The cloud's clock passes the token's expiration (within a signature's 1800 s validity, the skew check off).
    emu.emulator.update_settings({'clock_offset_s': 1001, 'baiducloud': {'timestamp_window_s': 100000}})
    assert cloud.read([INSTANCE])[0][INSTANCE] == [SG]
    reads = [a for a in actions(emu) if a[0] == 'ListInstancesByIds']
    assert reads == [('ListInstancesByIds', None), ('ListInstancesByIds', 'InvalidSessionToken'), ('ListInstancesByIds', None)]
    assert held.fetches == 2


def test_nothing_found(emu, tmp_path):
    with pytest.raises(credentials.CredentialsNotFound) as err:
        resolve(emu, tmp_path)
    message = str(err.value)
    assert '(2) the BCE CLI profile (~/.bce/config.json): ~/.bce/config.json absent' in message
    assert '(3) the credentials file (~/.bce/credentials or shared_credentials_file): ~/.bce/credentials absent' in message
    assert '(4) the BCC instance role (instance_role): instance_role not set: the metadata service is not asked' in message
    assert 'BCE_ACCESS_KEY_ID' in message


@pytest.mark.parametrize('name, content, message', [
    ('config.json', {'current': 'p', 'profiles': [{'name': 'p', 'mode': 'StsToken', 'access_key_id': AK,
                                                   'secret_access_key': SK}]}, 'security_token is missing'),
    ('config.json', {'current': 'p', 'profiles': [{'name': 'p', 'mode': 'OAuth'}]}, "mode 'OAuth' is not supported"),
    ('credentials', '[default]\nbce_access_key_id = %s\n' % AK, 'bce_secret_access_key are both required'),
    ('credentials', 'bce_secret_access_key = %s\n' % SK, 'is not a valid INI file (MissingSectionHeaderError)'),
], ids=['sts-without-token', 'unknown-mode', 'legacy-without-secret', 'legacy-without-section'])  # no secret in test names
def test_bad_files_refused_naming_them(emu, tmp_path, name, content, message):
    write_private(tmp_path / '.bce' / name, content)
    with pytest.raises(credentials.CredentialsError) as err:
        resolve(emu, tmp_path)
    assert message in str(err.value) and '~/.bce/' + name in str(err.value) and SK not in str(err.value)


@pytest.mark.parametrize('role, message', [
    (dict(role_arn='acs:ram::1:role/x'), 'write <account ID>:<role name>'),
    (dict(role_arn='%s:Deploy' % ACCOUNT, external_id='x'), 'takes no external ID'),
    (dict(role_arn='%s:Nobody' % ACCOUNT), 'STS AssumeRole of %s:Nobody' % ACCOUNT),
    (dict(role_arn='%s:Deploy' % ACCOUNT, policy='{}'), 'takes no session policy'),
    (dict(role_arn='%s:Deploy' % ACCOUNT, duration=7201), 'between 1 and 7200'),
])
def test_assume_role_refusals(emu, tmp_path, role, message):
    url = emu.endpoints['baiducloud']
    with pytest.raises(credentials.CredentialsError) as err:
        resolve(emu, tmp_path, access_key=AK, secret_key=SK, sts_endpoint=url, assume_role=role)
    assert message in str(err.value) and SK not in str(err.value)


def test_endpoints_from_the_environment(emu, tmp_path):
    url, md = emu.endpoints['baiducloud'], emu.endpoints['baiducloud_metadata']
    params = dict(region='bj', endpoint=url, max_concurrency=2, instance_ids=[INSTANCE], access_key=None, secret_key=None,
                  security_token=None, write_api='batch', batch_size=10, instance_role='auto',
                  assume_role=dict(role_arn='%s:Deploy' % ACCOUNT))
    conn = transport.Transport('baiducloud', timeout=5, max_retries=0, secrets=[])
    held = credentials.for_module(baidu.BaiduCloud, params, conn, lambda s: None, home=str(tmp_path),
                                  environ={'BAIDUCLOUD_METADATA_ENDPOINT': md, 'BAIDUCLOUD_STS_ENDPOINT': url})
    assert baidu.BaiduCloud(params, conn).read([INSTANCE])[0][INSTANCE] == [SG]
    assert held.current().source.startswith('role %s:Deploy assumed with the BCC instance role' % ACCOUNT)
