# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Zenlayer emulator's resource manager (zrm, 2025-10-14) tag calls on vm and zec instances, driven by the official
ZrmClient, and the tags in the vm and zec DescribeInstances answers (VmClient, ZecClient)."""

import pytest

zc_common = pytest.importorskip('zenlayercloud.common.abstract_client')
from zenlayercloud.common.config import Config  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.common.credential import Credential  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.common.excpetion.zenlayer_cloud_sdk_exception import ZenlayerCloudSdkException  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.vm.v20230313 import models as vm_models, vm_client  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.zec.v20250901 import models as zec_models, zec_client  # noqa: E402  pylint: disable=wrong-import-position
from zenlayercloud.zrm.v20251014 import models, zrm_client  # noqa: E402  pylint: disable=wrong-import-position

AK, SK = 'AKID-ZL-TAGS', 'zl-tags-password'
VM, VM2, ZEC_VM, VPC, SG = '802452345504925912', '802452345504925913', 'zec-vm-1', 'vpc-main', '791721259766392536'

SEED = {
    'credentials': [{'access_key': AK, 'secret_key': SK}],
    'security_groups': [{'id': SG}],
    'instances': [{'id': VM, 'tags': {'owner': 'ops'}}, {'id': VM2}],
    'zec_vpcs': [{'id': VPC}],
    'zec_instances': [{'id': ZEC_VM}],
    'network_interfaces': [{'id': 'nic-p', 'vpc': VPC, 'instance': ZEC_VM, 'type': 'Primary'},
                           {'id': 'nic-s', 'vpc': VPC, 'instance': ZEC_VM, 'type': 'Secondary', 'security_group': SG}],
    'tags': [{'key': 'made', 'value': 'before'}],
}


@pytest.fixture
def zl(emulator, admin):
    admin.seed({'zenlayer': SEED})
    return emulator


def config(running):
    return Config(scheme='http', domain=running.endpoints['zenlayer'].split('//', 1)[1], request_timeout=10, rate_limit_max_retries=0)


def call(running, action, module=models, client_class=zrm_client.ZrmClient, **fields):
    request = getattr(module, action + 'Request')()
    for key, value in fields.items():
        setattr(request, key, value)
    return getattr(client_class(Credential(AK, SK), config(running)), action)(request)


def failure(running, action, **fields):
    with pytest.raises(ZenlayerCloudSdkException) as err:
        call(running, action, **fields)
    return err.value.code


def tag(key, value=None):
    made = models.Tag()
    made.key, made.value = key, value
    return made


def resource_tags(running, uuid):
    return [(t.key, t.value) for t in call(running, 'DescribeResourceTags', resourceUuid=uuid).dataSet]


def vm_tags(running, iid):
    found = call(running, 'DescribeInstances', vm_models, vm_client.VmClient, instanceIds=[iid]).dataSet[0]
    return [(t.key, t.value) for t in found.tags.tags] if getattr(found, 'tags', None) and found.tags.tags else []


def zec_instance(running, iid):
    return call(running, 'DescribeInstances', zec_models, zec_client.ZecClient, instanceIds=[iid]).dataSet[0]


def test_modify_resource_tags_adds_overwrites_and_deletes_on_vm_and_zec_instances(zl):
    call(zl, 'ModifyResourceTags', resourceUuid=VM, replaceTags=[tag('sgq-0', 'a/b'), tag('owner', 'sec')], deleteTagKeys=['absent'])
    assert resource_tags(zl, VM) == [('sgq-0', 'a/b'), ('owner', 'sec')]
    assert vm_tags(zl, VM) == resource_tags(zl, VM)
    call(zl, 'ModifyResourceTags', resourceUuid=VM, deleteTagKeys=['sgq-0'])
    assert vm_tags(zl, VM) == [('owner', 'sec')]
    call(zl, 'ModifyResourceTags', resourceUuid=ZEC_VM, replaceTags=[tag('sgq-0', 'x=1')])
    assert [(t.key, t.value) for t in zec_instance(zl, ZEC_VM).tags.tags] == [('sgq-0', 'x=1')]


@pytest.mark.parametrize('fields, code', [
    ({'resourceUuid': 'nothere'}, 'INVALID_RESOURCE_NOT_FOUND'),
    ({'resourceUuid': 'nic-s', 'replaceTags': None}, 'INVALID_RESOURCE_CAN_NOT_BOUND'),
    ({'resourceUuid': VM, 'replaceTags': [('k' * 65, 'v')]}, 'INVALID_PARAMETER'),
    ({'resourceUuid': VM, 'replaceTags': [('k', 'v' * 65)]}, 'INVALID_PARAMETER'),
    ({'resourceUuid': VM, 'replaceTags': [('k', '')]}, 'INVALID_PARAMETER'),
    ({'resourceUuid': VM, 'replaceTags': [('', 'v')]}, 'INVALID_PARAMETER'),
    ({'resourceUuid': VM, 'replaceTags': [('k', 'a,b')]}, 'INVALID_PARAMETER'),
    ({'resourceUuid': VM, 'replaceTags': [('k%d' % n, 'v') for n in range(20)]}, 'OPERATION_DENIED_RESOURCE_TAG_EXCEED_LIMIT'),
])
def test_modify_resource_tags_refusals(zl, admin, fields, code):
    if fields.get('replaceTags'):
        fields = dict(fields, replaceTags=[tag(k, v) for k, v in fields['replaceTags']])
    assert failure(zl, 'ModifyResourceTags', **fields) == code
    assert resource_tags(zl, VM) == [('owner', 'ops')]                       # nothing changed


def test_the_settings_for_what_zenlayer_does_not_document(zl, admin):
    admin.settings(zenlayer={'tag_taggable': ['zec'], 'max_tags_per_resource': 30, 'modify_requires_created_tag': True})
    assert failure(zl, 'ModifyResourceTags', resourceUuid=VM, replaceTags=[tag('made', 'before')]) == 'INVALID_RESOURCE_CAN_NOT_BOUND'
    assert failure(zl, 'ModifyResourceTags', resourceUuid=ZEC_VM, replaceTags=[tag('new', 'one')]) == 'INVALID_TAG_NOT_FOUND'
    call(zl, 'CreateTags', tags=[tag('new', 'one')])
    call(zl, 'ModifyResourceTags', resourceUuid=ZEC_VM, replaceTags=[tag('new', 'one')] + [tag('made', 'before')])
    assert len(resource_tags(zl, ZEC_VM)) == 2
    admin.settings(zenlayer={'create_existing_tag': 'error'})
    assert failure(zl, 'CreateTags', tags=[tag('new', 'one')]) == 'OPERATION_DENIED_TAG_ALREADY_EXISTS'
    assert failure(zl, 'CreateTags', tags=[tag('k%d' % n, 'v') for n in range(21)]) == 'INVALID_PARAMETER'


@pytest.mark.parametrize('shown', ['shown', 'null_when_none', 'absent'])
def test_describe_instances_shows_tags_as_describe_tags_says(zl, admin, shown):
    admin.settings(zenlayer={'describe_tags': shown})
    untagged = call(zl, 'DescribeInstances', vm_models, vm_client.VmClient, instanceIds=[VM2]).dataSet[0]
    # The SDK's model has no tags attribute at all when the answer's is null or absent.
    assert (untagged.tags.tags if shown == 'shown' else hasattr(untagged, 'tags')) in ([], False)
    assert vm_tags(zl, VM) == ([] if shown == 'absent' else [('owner', 'ops')])
    state_item = [i for i in admin.state()['zenlayer']['instances'] if i['id'] == VM][0]
    assert state_item['tags'] == [{'key': 'owner', 'value': 'ops'}]


def test_tag_bind_and_unbind_resources_and_the_tag_library(zl, admin):
    assert failure(zl, 'TagBindResources', tag=tag('never', 'made'), resourceUuids=[VM]) == 'INVALID_TAG_NOT_FOUND'
    call(zl, 'TagBindResources', tag=tag('made', 'before'), resourceUuids=[VM, VM2, ZEC_VM])
    assert resource_tags(zl, VM2) == [('made', 'before')] and ('made', 'before') in resource_tags(zl, ZEC_VM)
    listed = call(zl, 'DescribeTags', tagKeys=['made'])
    assert [(t.key, t.value, t.bindResourceCount) for t in listed.dataSet] == [('made', 'before', 3)]
    assert failure(zl, 'DeleteTags', tags=[tag('made', 'before')]) == 'OPERATION_DENIED_TAG_BOUND'
    call(zl, 'TagUnbindResources', tag=tag('made', 'before'), resourceUuids=[VM, VM2, ZEC_VM])
    assert resource_tags(zl, VM2) == []
    call(zl, 'DeleteTags', tags=[tag('made', 'before')])
    assert call(zl, 'DescribeTags', tagKeys=['made']).totalCount == 0


def test_zec_instance_nics_can_list_only_the_primary(zl, admin):
    assert sorted(n.nicType for n in zec_instance(zl, ZEC_VM).nics) == ['Primary', 'Secondary']
    admin.settings(zenlayer={'zec_instance_nics_listed': 'primary'})
    assert [n.nicType for n in zec_instance(zl, ZEC_VM).nics] == ['Primary']


def test_a_tag_call_is_signed_like_the_others(zl, admin):
    client = zrm_client.ZrmClient(Credential(AK, 'wrong-password'), config(zl))
    request = models.DescribeResourceTagsRequest()
    request.resourceUuid = VM
    with pytest.raises(ZenlayerCloudSdkException) as err:
        client.DescribeResourceTags(request)
    assert err.value.code == 'INVALID_SIGNATURE'
    entry = admin.requests('zenlayer')[-1]
    assert (entry['action'], entry['status']) == ('DescribeResourceTags', 401)
