# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Alibaba Cloud emulator: the ECS metadata service (token-protected mode) and STS AssumeRole, checked with the
official credentials library's own providers (alibabacloud-credentials: EcsRamRoleCredentialsProvider,
RamRoleArnCredentialsProvider), and temporary credentials that expire (InvalidSecurityToken.Expired)."""

import json
import urllib.error
import urllib.request

import pytest
from alibabacloud_credentials.exceptions import CredentialException
from alibabacloud_credentials.provider import EcsRamRoleCredentialsProvider, RamRoleArnCredentialsProvider

from test_alicloud import AK, SK, I_RUN, ApiError, TeaClient, TeaEcsClient, host_of, open_api_models, seed

ROLE = 'EcsRoleEmu'
ACCOUNT = '1234567890123456'
ASSUMED = 'DeployRole'
ARN = 'acs:ram::%s:role/%s' % (ACCOUNT, ASSUMED)


def credential_seed(**role_extra):
    doc = seed()
    doc['alicloud']['ram_roles'] = [dict({'name': ROLE, 'account_id': ACCOUNT, 'instance': True}),
                                    dict({'name': ASSUMED, 'account_id': ACCOUNT}, **role_extra)]
    return doc


@pytest.fixture
def ali(emulator, admin):
    admin.seed(credential_seed())
    return emulator.endpoints['alicloud']


@pytest.fixture
def md(emulator, ali):
    """The metadata service's own port."""
    return emulator.endpoints['alicloud_metadata']


def ecs_provider(url, **kwargs):
    """The library's ECS RAM role provider, its fixed 100.100.100.200 replaced by the emulator (a private attribute:
    the library offers no endpoint setting) and its background refresher off."""
    provider = EcsRamRoleCredentialsProvider(async_update_enabled=False, **kwargs)
    provider._EcsRamRoleCredentialsProvider__metadata_service_host = url     # pylint: disable=protected-access
    return provider


def works(url, creds):
    """DescribeInstances signed (V3) with these temporary credentials."""
    client = TeaClient(url)
    config = open_api_models.Config(access_key_id=creds.get_access_key_id(), access_key_secret=creds.get_access_key_secret(),
                                    security_token=creds.get_security_token(), region_id='cn-hangzhou',
                                    endpoint=host_of(url), protocol='http')
    client.client = TeaEcsClient(config)
    return client.call('DescribeInstances', RegionId='cn-hangzhou', InstanceIds=json.dumps([I_RUN]))


def test_ecs_ram_role_provider_named_role_token_mode(ali, md, admin):
    creds = ecs_provider(md, role_name=ROLE, disable_imds_v1=True).get_credentials()
    assert creds.get_access_key_id().startswith('STS.') and creds.get_security_token()
    assert [i['InstanceId'] for i in works(ali, creds)['Instances']['Instance']] == [I_RUN]
    log = [(r['method'], r['path'], r['action']) for r in admin.requests('alicloud')]
    assert ('PUT', '/latest/api/token', 'Metadata') in log
    assert ('GET', '/latest/meta-data/ram/security-credentials/' + ROLE, 'Metadata') in log


def test_ecs_ram_role_provider_finds_the_role(ali, md):
    creds = ecs_provider(md).get_credentials()       # no role name: the service lists it
    assert works(ali, creds)['Instances']['Instance']


def test_required_token_mode_refuses_a_plain_get(ali, md, admin):
    admin.settings(alicloud={'metadata_token_mode': 'required'})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(md + '/latest/meta-data/ram/security-credentials/' + ROLE, timeout=5)
    assert err.value.code == 403
    assert ecs_provider(md, role_name=ROLE).get_credentials().get_security_token()


def test_absent_token_mode(ali, md, admin):
    admin.settings(alicloud={'metadata_token_mode': 'absent'})
    # The library falls back to a plain GET unless IMDSv1 is disabled.
    assert ecs_provider(md, role_name=ROLE).get_credentials().get_security_token()
    with pytest.raises(CredentialException):
        ecs_provider(md, role_name=ROLE, disable_imds_v1=True).get_credentials()


def test_unknown_role_and_bad_token(ali, md):
    with pytest.raises(CredentialException):
        ecs_provider(md, role_name='NotThisOne', disable_imds_v1=True).get_credentials()
    req = urllib.request.Request(md + '/latest/meta-data/ram/security-credentials/' + ROLE,
                                 headers={'X-aliyun-ecs-metadata-token': 'forged'})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=5)
    assert err.value.code == 401


def test_ram_role_arn_provider_signed_v1(ali, admin):
    provider = RamRoleArnCredentialsProvider(access_key_id=AK, access_key_secret=SK, role_arn=ARN,
                                             role_session_name='emu-check', sts_endpoint=ali)
    creds = provider.get_credentials()
    assert works(ali, creds)['Instances']['Instance']
    assert [r['action'] for r in admin.requests('alicloud') if r['action'] == 'AssumeRole'] == ['AssumeRole']


def test_assume_role_chained_from_the_instance_role(ali, md):
    base = ecs_provider(md, role_name=ROLE)
    creds = RamRoleArnCredentialsProvider(credentials_provider=base, role_arn=ARN, sts_endpoint=ali).get_credentials()
    assert works(ali, creds)['Instances']['Instance']


@pytest.mark.parametrize('arn, extra, code', [
    ('acs:ram::%s:role/Nobody' % ACCOUNT, {}, 'EntityNotExist.Role'),
    ('not-an-arn', {}, 'InvalidParameter.RoleArn'),
    (ARN, {'external_id': 'abc-123'}, 'NoPermission'),
    (ARN, {'trusted_access_keys': ['LTAIsomeoneelse']}, 'NoPermission'),
])
def test_assume_role_errors(emulator, admin, arn, extra, code):
    admin.seed(credential_seed(**extra))
    url = emulator.endpoints['alicloud']
    with pytest.raises(CredentialException) as err:
        RamRoleArnCredentialsProvider(access_key_id=AK, access_key_secret=SK, role_arn=arn, sts_endpoint=url).get_credentials()
    assert code in str(err.value)


def test_assume_role_duration_above_the_roles_maximum(ali):
    with pytest.raises(CredentialException) as err:
        RamRoleArnCredentialsProvider(access_key_id=AK, access_key_secret=SK, role_arn=ARN, duration_seconds=7200,
                                      sts_endpoint=ali).get_credentials()
    assert 'InvalidParameter.DurationSeconds' in str(err.value)


def test_temporary_credentials_expire(ali, md, admin):
    admin.settings(alicloud={'temporary_credentials_ttl_s': 60})
    creds = ecs_provider(md, role_name=ROLE).get_credentials()
    works(ali, creds)
    admin.settings(clock_offset_s=61)
    with pytest.raises(ApiError) as err:
        works(ali, creds)
    assert 'InvalidSecurityToken.Expired' in str(err.value)
