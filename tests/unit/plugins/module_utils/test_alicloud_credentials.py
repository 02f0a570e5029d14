# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Alibaba Cloud credential sources against the emulator (HOME an empty directory, no credential variables): the aliyun
CLI's config.json (AK, ChainableRamRoleArn), credentials.ini, the ECS RAM role (token-protected metadata service), STS
AssumeRole chained from each, credentials that expire mid-run renewed once, the message listing every source tried,
profile files refused naming them; the metadata service never asked unless instance_role is set."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys

import pytest

from ansible_collections.multicloud.secgroup.plugins.module_utils import _alicloud as ali_mod
from ansible_collections.multicloud.secgroup.plugins.module_utils import _credentials as credentials
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

AK = 'LTAI5tEmulatorKey0000001'
SK = 'EmulatorSecret00000000000000001'
I_RUN = 'i-bp1runrunrunrunrun01'
SG = 'sg-bp1aaaaaaaaaaaaaaaa01'
VPC = 'vpc-bp1emulator00000001'
ROLE = 'EcsRoleEmu'
ACCOUNT = '1234567890123456'
ASSUMED = 'DeployRole'
ARN = 'acs:ram::%s:role/%s' % (ACCOUNT, ASSUMED)


@pytest.fixture(scope='module')
def running():
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy'):
        os.environ.pop(var, None)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..'))
    from emulator import start  # pylint: disable=import-outside-toplevel
    emulator = start()
    yield emulator
    emulator.stop()


class Admin(object):
    def __init__(self, emulator):
        self.emulator = emulator

    def settings(self, **changes):
        self.emulator.update_settings(changes)

    def requests(self, provider):
        return self.emulator.requests(provider)


@pytest.fixture
def admin(running):
    running.emulator.reset()
    running.emulator.seed({'alicloud': {
        'credentials': [{'access_key': AK, 'secret_key': SK}],
        'security_groups': [{'id': SG, 'region': 'cn-hangzhou', 'vpc_id': VPC}],
        'instances': [{'id': I_RUN, 'region': 'cn-hangzhou', 'vpc_id': VPC, 'security_groups': [SG]}],
        'ram_roles': [{'name': ROLE, 'account_id': ACCOUNT, 'instance': True}, {'name': ASSUMED, 'account_id': ACCOUNT}]}})
    running.emulator.clear_requests()
    return Admin(running.emulator)


@pytest.fixture
def ali(running, admin):
    return running.endpoints['alicloud']


@pytest.fixture
def md(running, admin):
    """The metadata service's own port."""
    return running.endpoints['alicloud_metadata']


def module_params(url, **extra):
    params = dict(region='cn-hangzhou', endpoint=url, max_concurrency=2, instance_ids=[I_RUN], access_key=None,
                  secret_key=None, security_token=None, validate_certs=True)
    params.update(extra)
    return params


def resolve(url, home, environ=None, **extra):
    """(provider, held credentials, registered secrets, transport) as a module run resolves them."""
    registered = []
    conn = transport.Transport('alicloud', timeout=5, max_retries=0, secrets=[])
    params = module_params(url, **extra)
    held = credentials.for_module(ali_mod.AliCloud, params, conn, registered.append, environ=environ or {}, home=str(home))
    return ali_mod.AliCloud(params, conn), held, registered, conn


def write_private(path, text):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(str(path), 'w') as handle:
        handle.write(text)
    os.chmod(str(path), 0o600)


def cli_config(current, *profiles):
    return json.dumps({'current': current, 'profiles': list(profiles)})


def describe(provider):
    return provider.describe_instances([I_RUN])


def test_module_from_an_aliyun_cli_profile(ali, tmp_path, admin):
    write_private(tmp_path / '.aliyun' / 'config.json',
                  cli_config('prod', {'name': 'prod', 'mode': 'AK', 'access_key_id': AK, 'access_key_secret': SK}))
    provider, held, registered, conn = resolve(ali, tmp_path)
    assert I_RUN in describe(provider)
    assert held.current().source == "profile 'prod' in ~/.aliyun/config.json"
    assert SK in registered
    assert not [r for r in admin.requests('alicloud') if r['action'] == 'Metadata']
    assert held.context.asked == []


def test_module_from_the_instance_role_then_assume_role(ali, md, tmp_path, admin):
    provider, held, registered, conn = resolve(ali, tmp_path, instance_role='auto', metadata_endpoint=md, sts_endpoint=ali,
                                               assume_role=dict(role_arn=ARN, session_name='chained'))
    assert I_RUN in describe(provider)
    current = held.current()
    assert current.source.startswith('role %s assumed with ECS RAM role' % ARN) and current.access_key.startswith('STS.')
    assert current.secret in registered and current.token in registered
    asked = [(r['action'], r['method'], r['path']) for r in admin.requests('alicloud')]
    assert asked[:4] == [('Metadata', 'PUT', '/latest/api/token'), ('Metadata', 'GET', '/latest/meta-data/ram/security-credentials/'),
                         ('Metadata', 'GET', '/latest/meta-data/ram/security-credentials/' + ROLE), ('AssumeRole', 'POST', '/')]


def test_module_from_a_ram_role_arn_profile(ali, tmp_path):
    write_private(tmp_path / '.aliyun' / 'config.json', cli_config(
        'base', {'name': 'base', 'mode': 'AK', 'access_key_id': AK, 'access_key_secret': SK},
        {'name': 'deploy', 'mode': 'ChainableRamRoleArn', 'source_profile': 'base', 'ram_role_arn': ARN,
         'ram_session_name': 'from-profile'}))
    provider, held, dummy, dummy = resolve(ali, tmp_path, {'ALIBABA_CLOUD_PROFILE': 'deploy'}, sts_endpoint=ali)
    assert I_RUN in describe(provider)
    assert held.current().source == "role %s assumed with profile 'base' in ~/.aliyun/config.json" % ARN


def test_environment_role_name_and_sdk_ini(ali, md, tmp_path):
    write_private(tmp_path / '.alibabacloud' / 'credentials.ini', '[default]\ntype = ecs_ram_role\nrole_name = %s\n' % ROLE)
    provider, held, dummy, dummy = resolve(ali, tmp_path, metadata_endpoint=md)
    assert I_RUN in describe(provider)
    assert held.current().source.startswith("ECS RAM role '%s'" % ROLE)


def test_expired_mid_run_is_renewed_once(ali, md, tmp_path, admin):
    provider, held, dummy, conn = resolve(ali, tmp_path, instance_role=ROLE, metadata_endpoint=md)
    describe(provider)
    # The cloud's clock passes the credentials' Expiration (its signature-time check off: only the token expires).
    admin.settings(clock_offset_s=3601, alicloud={'timestamp_window_s': 0})
    assert I_RUN in describe(provider)
    codes = [r['error_code'] for r in admin.requests('alicloud') if r['action'] == 'DescribeInstances']
    assert codes == [None, 'InvalidSecurityToken.Expired', None]
    assert held.fetches == 2


def test_a_failed_renewal_is_reported_with_the_expired_answer(ali, md, tmp_path, admin):
    provider, held, dummy, conn = resolve(ali, tmp_path, instance_role=ROLE, metadata_endpoint=md)
    admin.settings(clock_offset_s=3601, alicloud={'timestamp_window_s': 0})
    held.context.settings['metadata_endpoint'] = 'http://127.0.0.1:9'     # the renewal finds nothing
    with pytest.raises(transport.ProviderError) as err:
        describe(provider)
    assert err.value.code == 'InvalidSecurityToken.Expired'
    assert 'renewing the credentials failed' in str(err.value)
    assert 'metadata service unreachable at http://127.0.0.1:9' in str(err.value)
    codes = [r['error_code'] for r in admin.requests('alicloud') if r['action'] == 'DescribeInstances']
    assert codes == ['InvalidSecurityToken.Expired']


def test_nothing_found_lists_every_source(ali, tmp_path):
    with pytest.raises(credentials.CredentialsNotFound) as err:
        resolve(ali, tmp_path)
    message = str(err.value)
    assert '(1) options access_key/secret_key: access_key (or ALICLOUD_ACCESS_KEY or ALIBABA_CLOUD_ACCESS_KEY_ID)' in message
    assert '(2) the aliyun CLI profile (~/.aliyun/config.json): ~/.aliyun/config.json absent' in message
    assert '(3) the credentials file' in message and '~/.alibabacloud/credentials.ini absent' in message
    assert '(4) the ECS RAM role (instance_role): instance_role (or ALIBABA_CLOUD_ECS_METADATA) not set' in message
    assert 'ALIBABA_CLOUD_PROFILE' in message and 'ALIBABA_CLOUD_ECS_METADATA' in message


def test_metadata_unreachable_is_a_reason_not_a_stall(tmp_path):
    with pytest.raises(credentials.CredentialsNotFound) as err:
        resolve('http://127.0.0.1:9', tmp_path, instance_role='auto', metadata_endpoint='http://127.0.0.1:9')
    assert 'metadata service unreachable at http://127.0.0.1:9/latest/api/token' in str(err.value)


def test_bad_profile_files_are_refused_naming_them(ali, tmp_path):
    path = tmp_path / '.aliyun' / 'config.json'
    write_private(path, cli_config('p', {'name': 'p', 'mode': 'AK', 'access_key_id': AK, 'access_key_secret': SK}))
    os.chmod(str(path), 0o644)
    with pytest.raises(credentials.CredentialsError) as err:
        resolve(ali, tmp_path)
    assert '~/.aliyun/config.json' in str(err.value) and 'chmod 600' in str(err.value) and SK not in str(err.value)
    write_private(path, '{"current": "p", "profiles": [{"name": "p", "mode": "AK", "access_key_id": "%s", ' % SK)
    with pytest.raises(credentials.CredentialsError) as err:
        resolve(ali, tmp_path)
    assert str(err.value) == '~/.aliyun/config.json is not valid JSON'


def test_sts_error_names_the_role_and_code(ali, tmp_path):
    with pytest.raises(credentials.CredentialsError) as err:
        resolve(ali, tmp_path, access_key=AK, secret_key=SK, sts_endpoint=ali,
                assume_role=dict(role_arn='acs:ram::%s:role/Nobody' % ACCOUNT))
    assert 'EntityNotExist.Role' in str(err.value) and 'acs:ram::%s:role/Nobody' % ACCOUNT in str(err.value)
    assert SK not in str(err.value)


# -- the parsers alone ---------------------------------------------------------------------------------------

def test_cli_modes():
    text = cli_config('ak', {'name': 'ak', 'mode': 'AK', 'access_key_id': 'A', 'access_key_secret': 'S'},
                      {'name': 'sts', 'mode': 'StsToken', 'access_key_id': 'A', 'access_key_secret': 'S', 'sts_token': 'T'},
                      {'name': 'ecs', 'mode': 'EcsRamRole', 'ram_role_name': 'R'},
                      {'name': 'arn', 'mode': 'RamRoleArn', 'access_key_id': 'A', 'access_key_secret': 'S',
                       'ram_role_arn': ARN, 'ram_session_name': 'n', 'expired_seconds': 1800, 'external_id': 'x'},
                      {'name': 'loop', 'mode': 'ChainableRamRoleArn', 'source_profile': 'loop', 'ram_role_arn': ARN},
                      {'name': 'sso', 'mode': 'CloudSSO'})
    assert ali_mod.read_cli_profile('f', text) == {'kind': 'static', 'access_key': 'A', 'secret': 'S', 'token': None,
                                                   'source': "profile 'ak' in f"}
    assert ali_mod.read_cli_profile('f', text, 'sts')['token'] == 'T'
    assert ali_mod.read_cli_profile('f', text, 'ecs') == {'kind': 'instance_role', 'role': 'R', 'source': "profile 'ecs' in f"}
    arn = ali_mod.read_cli_profile('f', text, 'arn')
    assert (arn['kind'], arn['role_arn'], arn['duration'], arn['external_id']) == ('assume_role', ARN, 1800, 'x')
    with pytest.raises(ali_mod.CredentialFileError, match="profile 'loop': source_profile loops"):
        ali_mod.read_cli_profile('f', text, 'loop')
    with pytest.raises(ali_mod.CredentialFileError, match="mode 'CloudSSO' is not supported here"):
        ali_mod.read_cli_profile('f', text, 'sso')
    with pytest.raises(ali_mod.CredentialFileError, match="f has no profile 'nope'"):
        ali_mod.read_cli_profile('f', text, 'nope')
    with pytest.raises(ali_mod.CredentialFileError, match="profile 'x' in f: access_key_secret is missing or empty"):
        ali_mod.read_cli_profile('f', cli_config('x', {'name': 'x', 'access_key_id': 'A'}))


def test_sdk_ini_types():
    text = ('[default]\ntype = access_key\naccess_key_id = A\naccess_key_secret = S # a comment\n'
            '[arn]\ntype = ram_role_arn\naccess_key_id = A\naccess_key_secret = S\nrole_arn = %s\n'
            '[ecs]\ntype = ecs_ram_role\n[rsa]\ntype = rsa_key_pair\n' % ARN)
    assert ali_mod.read_sdk_profile('f', text)['secret'] == 'S'
    assert ali_mod.read_sdk_profile('f', text, 'arn')['role_arn'] == ARN
    assert ali_mod.read_sdk_profile('f', text, 'ecs')['role'] == 'auto'
    with pytest.raises(ali_mod.CredentialFileError, match="type 'rsa_key_pair' is not supported here"):
        ali_mod.read_sdk_profile('f', text, 'rsa')
    with pytest.raises(ali_mod.CredentialFileError) as err:
        ali_mod.read_sdk_profile('f', 'access_key_secret = TopSecretValue\n')
    assert str(err.value) == 'f is not a valid INI file (MissingSectionHeaderError)'


@pytest.mark.parametrize('kwargs, message', [
    (dict(role_arn='arn:aws:iam::1:role/x'), 'is not a RAM role ARN'),
    (dict(session_name='a b'), 'session_name'),
    (dict(duration=600), 'outside 900-43200'),
    (dict(policy='x' * 2049), 'at most 2048'),
])
def test_assume_role_refused_before_any_request(kwargs, message):
    args = dict(role_arn=ARN, session_name='ok', duration=900)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        role_arn, session_name, duration = args.pop('role_arn'), args.pop('session_name'), args.pop('duration')
        ali_mod.assume_role_query(role_arn, session_name, duration, **args)


def test_options_the_cloud_has():
    settings = credentials.settings(ali_mod.AliCloud, dict(assume_role=dict(policy='{}')),
                                    {'ALIBABA_CLOUD_ROLE_ARN': ARN, 'ALIBABA_CLOUD_STS_ENDPOINT': 'http://sts.example'})
    assert settings['assume_role']['role_arn'] == ARN and settings['sts_endpoint'] == 'http://sts.example'


def test_the_cli_profile_can_be_disabled_as_the_library_does(ali, tmp_path):
    write_private(tmp_path / '.aliyun' / 'config.json',
                  cli_config('p', {'name': 'p', 'mode': 'AK', 'access_key_id': AK, 'access_key_secret': SK}))
    with pytest.raises(credentials.CredentialsNotFound, match=r'\(2\) the aliyun CLI profile .*: ALIBABA_CLOUD_CLI_PROFILE_DISABLED is true'):
        resolve(ali, tmp_path, {'ALIBABA_CLOUD_CLI_PROFILE_DISABLED': 'true'})


def test_endpoints_from_the_environment(ali, md, tmp_path):
    provider, held, dummy, dummy = resolve(ali, tmp_path, {'ALIBABA_CLOUD_METADATA_ENDPOINT': md, 'ALIBABA_CLOUD_STS_ENDPOINT': ali,
                                                           'ALIBABA_CLOUD_ECS_METADATA': ROLE, 'ALIBABA_CLOUD_ROLE_ARN': ARN})
    assert I_RUN in describe(provider)
    assert held.current().source == "role %s assumed with ECS RAM role '%s' from the metadata service at %s" % (ARN, ROLE, md)
