# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Zenlayer emulator's instance listing driven by the official SDK: the vm DescribeInstances (2023-03-13) and the
zec one (2025-09-01) with tags/tagKeys, names, statuses, a group, and pageNum/pageSize to the end."""

import pytest

pytest.importorskip('zenlayercloud.common.abstract_client')
from zenlayercloud.common.config import Config  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.common.credential import Credential  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.common.excpetion.zenlayer_cloud_sdk_exception import ZenlayerCloudSdkException  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.vm.v20230313 import models as vm_models, vm_client  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.zec.v20250901 import models as zec_models, zec_client  # noqa: E402  pylint: disable=wrong-import-position

AK, SK = 'AKID-ZL-LISTING', 'zl-listing-password'
SG_A, SG_B, SG_VPC = '791721259766392536', '791721259766392537', '791721259766392538'
VPC = 'vpc-main'
VMS = ['80245234550490%04d' % k for k in range(7)]
ZECS = ['zec-list-%d' % k for k in range(7)]


def tags_of(k):
    """env=prod on even k, dev on odd; tier=front on k < 2."""
    return dict([('env', 'prod' if k % 2 == 0 else 'dev')] + ([('tier', 'front')] if k < 2 else []))


SEED = {
    'credentials': [{'access_key': AK, 'secret_key': SK}],
    'security_groups': [{'id': SG_A}, {'id': SG_B}, {'id': SG_VPC, 'is_default': True}],
    'instances': [{'id': iid, 'name': 'web-%d' % k, 'status': 'STOPPED' if k == 3 else 'RUNNING', 'tags': tags_of(k),
                   'security_groups': [SG_B] if k % 3 == 0 else [SG_A], 'private_ips': ['10.0.0.%d' % k], 'public_ips': ['198.51.100.%d' % k]}
                  for k, iid in enumerate(VMS)],
    'zec_vpcs': [{'id': VPC, 'security_group': SG_VPC}],
    'zec_instances': [{'id': iid, 'name': 'app-%d' % k, 'status': 'STOPPED' if k == 3 else 'RUNNING', 'tags': tags_of(k),
                       'private_ips': ['10.9.0.%d' % k]} for k, iid in enumerate(ZECS)],
    'network_interfaces': [{'id': 'nic-' + iid, 'vpc': VPC, 'instance': iid, 'type': 'Primary', 'security_group': SG_A} for iid in ZECS],
}


@pytest.fixture
def zl(emulator, admin):
    admin.seed({'zenlayer': SEED})
    return emulator


def config(running):
    return Config(scheme='http', domain=running.endpoints['zenlayer'].split('//', 1)[1], request_timeout=10, rate_limit_max_retries=0)


def describe(running, service, **fields):
    """(totalCount, [instanceId]) of one DescribeInstances call through the SDK; tags as [(key, value)] pairs."""
    models, module = (vm_models, vm_client.VmClient) if service == 'vm' else (zec_models, zec_client.ZecClient)
    request = models.DescribeInstancesRequest()
    for key, value in fields.items():
        setattr(request, key, [models.Tag({'key': k, 'value': v}) for k, v in value] if key == 'tags' else value)
    response = module(Credential(AK, SK), config(running)).DescribeInstances(request)
    return response.totalCount, [i.instanceId for i in response.dataSet]


def every(running, service, page_size, **fields):
    """All the ids, page after page until totalCount are in, and the number of calls."""
    found, page = [], 0
    while True:
        page += 1
        total, ids = describe(running, service, pageSize=page_size, pageNum=page, **fields)
        found += ids
        if not ids or len(found) >= total:
            return found, page


@pytest.mark.parametrize('service,ids', [('vm', VMS), ('zec', ZECS)])
@pytest.mark.parametrize('size,calls', [(1, 7), (2, 4), (3, 3), (7, 1), (1000, 1)])
def test_pages_to_the_end_at_every_size(zl, service, ids, size, calls):
    assert every(zl, service, size) == (ids, calls)


def test_the_answers_carry_what_the_inventory_reads(zl):
    request = vm_models.DescribeInstancesRequest()
    request.instanceIds = [VMS[3]]
    vm = vm_client.VmClient(Credential(AK, SK), config(zl)).DescribeInstances(request).dataSet[0]
    assert (vm.instanceName, vm.instanceStatus, vm.securityGroupIds, vm.privateIpAddresses, vm.publicIpAddresses) == (
        'web-3', 'STOPPED', [SG_B], ['10.0.0.3'], ['198.51.100.3'])
    assert [(t.key, t.value) for t in vm.tags.tags] == [('env', 'dev')]
    request = zec_models.DescribeInstancesRequest()
    request.instanceIds = [ZECS[1]]
    zec = zec_client.ZecClient(Credential(AK, SK), config(zl)).DescribeInstances(request).dataSet[0]
    assert (zec.instanceName, zec.status, zec.securityGroupId, zec.privateIpAddresses, zec.nics[0].vpcId) == (
        'app-1', 'RUNNING', SG_A, ['10.9.0.1'], VPC)
    assert [(t.key, t.value) for t in zec.tags.tags] == [('env', 'dev'), ('tier', 'front')]


@pytest.mark.parametrize('service,ids', [('vm', VMS), ('zec', ZECS)])
def test_tags_and_tag_keys_filter_both_services(zl, admin, service, ids):
    assert describe(zl, service, tags=[('env', 'prod')]) == (4, [ids[0], ids[2], ids[4], ids[6]])
    assert describe(zl, service, tagKeys=['tier']) == (2, ids[:2])
    assert describe(zl, service, tagKeys=['tier'], tags=[('env', 'prod')]) == (1, ids[:1])
    admin.settings(zenlayer={'describe_tag_filter': 'any'})
    assert describe(zl, service, tagKeys=['tier'], tags=[('env', 'prod')]) == (5, [ids[0], ids[1], ids[2], ids[4], ids[6]])
    # Under a filter, pages walk the filtered list.
    admin.settings(zenlayer={'describe_tag_filter': 'all'})
    assert every(zl, service, 3, tags=[('env', 'prod')]) == ([ids[0], ids[2], ids[4], ids[6]], 2)


def test_vm_name_status_and_group_filters(zl):
    assert describe(zl, 'vm', instanceName='web-4') == (1, [VMS[4]])
    assert describe(zl, 'vm', instanceName='web') == (0, [])
    assert describe(zl, 'vm', instanceName='web*') == (7, VMS)
    assert describe(zl, 'vm', instanceStatus='STOPPED') == (1, [VMS[3]])
    assert describe(zl, 'vm', securityGroupId=SG_B) == (3, [VMS[0], VMS[3], VMS[6]])
    assert describe(zl, 'vm', securityGroupId=SG_B, instanceStatus='RUNNING', tags=[('env', 'prod')]) == (2, [VMS[0], VMS[6]])


@pytest.mark.parametrize('mode,expected', [('exact', []), ('fuzzy', ZECS)])
def test_zec_name_and_status_filters(zl, admin, mode, expected):
    admin.settings(zenlayer={'zec_name_filter': mode})
    assert describe(zl, 'zec', name='app-5') == (1, [ZECS[5]])
    assert describe(zl, 'zec', name='app') == (len(expected), expected)
    assert describe(zl, 'zec', status='STOPPED') == (1, [ZECS[3]])


def test_a_zec_page_size_over_its_maximum_is_refused_or_capped_as_the_setting_says(zl, admin):
    admin.settings(zenlayer={'zec_max_page_size': 3})
    with pytest.raises(ZenlayerCloudSdkException) as err:
        describe(zl, 'zec', pageSize=4)
    assert err.value.code == 'INVALID_PARAMETER'
    admin.settings(zenlayer={'zec_page_size_over_max': 'clamp'})
    assert describe(zl, 'zec', pageSize=1000) == (7, ZECS[:3])
    assert every(zl, 'zec', 1000) == (ZECS, 3)
    assert describe(zl, 'vm', pageSize=1000) == (7, VMS)     # the vm maximum stays the documented 1000
    with pytest.raises(ZenlayerCloudSdkException):
        describe(zl, 'vm', pageSize=1001)


def test_malformed_tag_filters_are_refused(zl):
    for fields in ({'tagKeys': 'env'}, {'tagKeys': [1]}):
        with pytest.raises(ZenlayerCloudSdkException) as err:
            describe(zl, 'vm', **fields)
        assert err.value.code == 'INVALID_PARAMETER'
