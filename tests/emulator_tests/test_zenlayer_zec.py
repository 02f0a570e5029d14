# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Zenlayer emulator's Elastic Compute (zec) service, driven by the official ZecClient (2025-09-01),
and the zenlayer provider's zec target kinds run through the engine against it (calls counted)."""

import pytest

from emulator.core import SettingsError

zc_common = pytest.importorskip('zenlayercloud.common.abstract_client')
from zenlayercloud.common.config import Config  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.common.credential import Credential  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.common.excpetion.zenlayer_cloud_sdk_exception import ZenlayerCloudSdkException  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.zec.v20250901 import models, zec_client  # noqa: E402  pylint: disable=wrong-import-position

AK, SK = 'AKID-ZL-ZEC', 'zl-zec-password'
SG_WEB, SG_DB, SG_VPC = '791721259766392536', '791721259766392537', '791721259766392538'
VPC, ZEC_VM = 'vpc-main', 'zec-vm-1'
NIC_PRIMARY, NIC_SECOND, NIC_BARE, NIC_BUSY = 'nic-primary', 'nic-second', 'nic-bare', 'nic-busy'

SEED = {
    'credentials': [{'access_key': AK, 'secret_key': SK}],
    'security_groups': [{'id': SG_WEB, 'name': 'web'}, {'id': SG_DB, 'name': 'db'}, {'id': SG_VPC, 'name': 'vpc-default', 'is_default': True}],
    'zec_vpcs': [{'id': VPC, 'security_group': SG_VPC}],
    'zec_instances': [{'id': ZEC_VM, 'name': 'app'}],
    'network_interfaces': [
        {'id': NIC_PRIMARY, 'vpc': VPC, 'instance': ZEC_VM, 'type': 'Primary', 'security_group': SG_WEB},
        {'id': NIC_SECOND, 'vpc': VPC, 'instance': ZEC_VM, 'type': 'Secondary', 'security_group': SG_DB},
        {'id': NIC_BARE, 'vpc': VPC},
        {'id': NIC_BUSY, 'vpc': VPC, 'status': 'ATTACHING', 'security_group': SG_WEB},
    ],
}


@pytest.fixture
def zl(emulator, admin):
    admin.seed({'zenlayer': SEED})
    return emulator


def client(running):
    host = running.endpoints['zenlayer'].split('//', 1)[1]
    config = Config(scheme='http', domain=host, request_timeout=10, rate_limit_max_retries=0)
    return zec_client.ZecClient(Credential(AK, SK), config)


def call(running, action, **fields):
    request = getattr(models, action + 'Request')()
    for key, value in fields.items():
        setattr(request, key, value)
    return getattr(client(running), action)(request)


def nic_groups(admin):
    return dict((nic['id'], nic['security_groups']) for nic in admin.state()['zenlayer']['network_interfaces'])


def test_the_sdk_reads_vnics_instances_vpcs_and_groups(zl):
    nics = call(zl, 'DescribeNetworkInterfaces', nicIds=[NIC_PRIMARY, NIC_BARE, 'nic-unknown'], pageSize=100, pageNum=1)
    assert nics.totalCount == 2 and [(n.nicId, n.securityGroupId, n.vpcId) for n in nics.dataSet] == [
        (NIC_PRIMARY, SG_WEB, VPC), (NIC_BARE, None, VPC)]
    instances = call(zl, 'DescribeInstances', instanceIds=[ZEC_VM])
    assert instances.dataSet[0].securityGroupId == SG_WEB and sorted(n.nicType for n in instances.dataSet[0].nics) == ['Primary', 'Secondary']
    assert call(zl, 'DescribeVpcs', vpcIds=[VPC]).dataSet[0].securityGroupId == SG_VPC
    group = call(zl, 'DescribeSecurityGroups', securityGroupIds=[SG_WEB]).dataSet[0]
    assert sorted(group.nicIdList) == [NIC_BUSY, NIC_PRIMARY]
    by_group = call(zl, 'DescribeNetworkInterfaces', securityGroupId=SG_WEB, nicType='Primary', pageSize=1000, pageNum=1)
    assert [n.instanceId for n in by_group.dataSet] == [ZEC_VM]


def test_the_switch_replaces_the_one_group_and_a_repeat_is_a_success(zl, admin):
    call(zl, 'ModifyNetworkInterfaceAttribute', nicId=NIC_PRIMARY, securityGroupId=SG_DB)
    call(zl, 'ModifyNetworkInterfaceAttribute', nicId=NIC_PRIMARY, securityGroupId=SG_DB)
    call(zl, 'ModifyNetworkInterfaceAttribute', nicId=NIC_BARE, securityGroupId=SG_WEB)
    groups = nic_groups(admin)
    assert groups[NIC_PRIMARY] == [SG_DB] and groups[NIC_BARE] == [SG_WEB]
    writes = [r for r in admin.requests('zenlayer') if r['action'] == 'ModifyNetworkInterfaceAttribute']
    assert [r['path'] for r in writes] == ['/api/v2/zec'] * 3 and all(r['status'] == 200 for r in writes)


@pytest.mark.parametrize('fields, status, code', [
    ({'nicId': 'nic-unknown', 'securityGroupId': SG_DB}, 404, 'INVALID_NIC_NOT_FOUND'),
    ({'nicId': NIC_PRIMARY, 'securityGroupId': '111111111111111111'}, 404, 'INVALID_SECURITY_GROUP_NOT_FOUND'),
    ({'nicId': NIC_BUSY, 'securityGroupId': SG_DB}, 400, 'INVALID_NIC_STATUS'),
])
def test_the_documented_errors_of_the_switch(zl, admin, fields, status, code):
    with pytest.raises(ZenlayerCloudSdkException) as err:
        call(zl, 'ModifyNetworkInterfaceAttribute', **fields)
    assert err.value.code == code and err.value.request_id.startswith('T')
    assert admin.requests('zenlayer')[-1]['status'] == status
    assert nic_groups(admin)[NIC_PRIMARY] == [SG_WEB]


def test_vm_actions_are_not_served_on_the_zec_path_nor_zec_versions_on_the_vm_path(zl):
    zec = client(zl)
    with pytest.raises(ZenlayerCloudSdkException) as err:
        zec._api_call('AssociateSecurityGroupInstance', models.ModifyNetworkInterfaceAttributeRequest())  # pylint: disable=protected-access
    assert err.value.code == 'INVALID_ACTION'
    zec._service = 'vm'  # pylint: disable=protected-access
    with pytest.raises(ZenlayerCloudSdkException) as err:
        zec.DescribeInstances(models.DescribeInstancesRequest())
    assert err.value.code == 'INVALID_VERSION'


def test_an_inherited_group_is_shown_as_the_setting_says(zl, admin):
    assert call(zl, 'DescribeNetworkInterfaces', nicIds=[NIC_BARE]).dataSet[0].securityGroupId is None
    admin.settings(zenlayer={'zec_inherited_group_shown': 'vpc_default'})
    assert call(zl, 'DescribeNetworkInterfaces', nicIds=[NIC_BARE]).dataSet[0].securityGroupId == SG_VPC


def test_a_switch_shows_late_with_visibility_delay_reads(zl, admin):
    admin.settings(zenlayer={'visibility_delay_reads': 1})
    call(zl, 'ModifyNetworkInterfaceAttribute', nicId=NIC_PRIMARY, securityGroupId=SG_DB)
    assert call(zl, 'DescribeNetworkInterfaces', nicIds=[NIC_PRIMARY]).dataSet[0].securityGroupId == SG_WEB
    assert call(zl, 'DescribeNetworkInterfaces', nicIds=[NIC_PRIMARY]).dataSet[0].securityGroupId == SG_DB


@pytest.mark.parametrize('change, message', [
    ({'network_interfaces': [{'id': 'n1', 'vpc': 'vpc-none'}]}, 'must be seeded zec_vpcs'),
    ({'network_interfaces': [{'id': 'n1', 'vpc': VPC, 'type': 'Tertiary'}]}, 'type must be one of'),
    ({'network_interfaces': [{'id': NIC_SECOND, 'vpc': VPC, 'instance': ZEC_VM}]}, 'exactly one Primary'),
    ({'zec_vpcs': [{'id': VPC, 'security_group': '1234'}]}, 'seeded security group'),
])
def test_seed_mistakes_are_refused(emulator, change, message):
    with pytest.raises(SettingsError) as err:
        emulator.emulator.clouds['zenlayer'].seed(dict(SEED, **change))
    assert message in str(err.value)
