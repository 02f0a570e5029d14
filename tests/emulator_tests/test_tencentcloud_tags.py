# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Tencent Cloud emulator's tag service (version 2018-08-13), driven by the official tag SDK
(tencentcloud-sdk-python-tag): TagResources, UnTagResources, ModifyResourceTags, their limits and error codes,
and the tags DescribeInstances and DescribeNetworkInterfaces return."""

import json
import types

import pytest

from tencentcloud.common import abstract_client, credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.tag.v20180813 import models as tag_models, tag_client

from test_tencentcloud import GZ, SECRET_ID, SECRET_KEY, call, cvm, profile, seed_doc, vpc

INS = 'ins-2zvpghhc'
OTHER = 'ins-915zrb0p'
ENI = 'eni-sec00001'


def resource(target, uin='', region=GZ):
    service, prefix = ('vpc', 'eni') if target.startswith('eni-') else ('cvm', 'instance')
    return 'qcs::%s:%s:uin/%s:%s/%s' % (service, region, uin, prefix, target)


@pytest.fixture
def tc(emulator, admin):
    doc = seed_doc()
    doc['tencentcloud']['network_interfaces'] = [{'id': ENI, 'region': GZ, 'instance_id': INS, 'security_groups': ['sg-web00001']}]
    admin.seed(doc)
    return emulator


def tag(emulator, region=GZ):
    return tag_client.TagClient(credential.Credential(SECRET_ID, SECRET_KEY), region, profile(emulator))


def tag_call(client, action, **params):
    req = getattr(tag_models, action + 'Request')()
    req.from_json_string(json.dumps(params))
    return json.loads(getattr(client, action)(req).to_json_string())


def tag_error(client, action, **params):
    with pytest.raises(TencentCloudSDKException) as err:
        tag_call(client, action, **params)
    return err.value.get_code()


def state_tags(admin, target):
    state = admin.state()['tencentcloud']
    return next(item.get('tags', {}) for item in state['instances'] + state['network_interfaces'] if item['id'] == target)


def test_tag_and_untag_resources_show_in_the_describes(tc, admin):
    client = tag(tc)
    out = tag_call(client, 'TagResources', ResourceList=[resource(INS), resource(OTHER), resource(ENI)],
                   Tags=[{'TagKey': 'sgq', 'TagValue': 'v1 2026-12-07T12:00:00+00:00'}, {'TagKey': 'n', 'TagValue': '1'}])
    assert out['FailedResources'] == []
    shown = call(cvm(tc), 'DescribeInstances', InstanceIds=[INS], Limit=100)['InstanceSet'][0]['Tags']
    assert shown == [{'Key': 'sgq', 'Value': 'v1 2026-12-07T12:00:00+00:00'}, {'Key': 'n', 'Value': '1'}]
    eni = call(vpc(tc), 'DescribeNetworkInterfaces', NetworkInterfaceIds=[ENI])['NetworkInterfaceSet'][0]
    assert eni['TagSet'] == [{'Key': 'sgq', 'Value': 'v1 2026-12-07T12:00:00+00:00'}, {'Key': 'n', 'Value': '1'}]
    tag_call(client, 'TagResources', ResourceList=[resource(INS)], Tags=[{'TagKey': 'n', 'TagValue': '2'}])     # overwritten
    assert state_tags(admin, INS) == {'sgq': 'v1 2026-12-07T12:00:00+00:00', 'n': '2'}
    out = tag_call(client, 'UnTagResources', ResourceList=[resource(INS), resource(OTHER)], TagKeys=['sgq', 'absent'])
    assert out['FailedResources'] == []
    assert state_tags(admin, INS) == {'n': '2'} and state_tags(admin, OTHER) == {'n': '1'}
    assert state_tags(admin, ENI) == {'sgq': 'v1 2026-12-07T12:00:00+00:00', 'n': '1'}


def test_the_tag_service_needs_no_region(tc, admin):
    tag_call(tag(tc, region=''), 'TagResources', ResourceList=[resource(INS)], Tags=[{'TagKey': 'k', 'TagValue': 'v'}])
    assert state_tags(admin, INS) == {'k': 'v'}


@pytest.mark.parametrize('tags, code', [
    ([{'TagKey': 'qcs:x', 'TagValue': 'v'}], 'InvalidParameterValue.ReservedTagKey'),
    ([{'TagKey': 'project-x', 'TagValue': 'v'}], 'InvalidParameterValue.ReservedTagKey'),
    ([{'TagKey': 'qcloud1', 'TagValue': 'v'}], 'InvalidParameterValue.ReservedTagKey'),
    ([{'TagKey': 'k' * 128, 'TagValue': 'v'}], 'InvalidParameterValue.TagKeyLengthExceeded'),
    ([{'TagKey': 'k', 'TagValue': 'v' * 256}], 'InvalidParameterValue.TagValueLengthExceeded'),
    ([{'TagKey': 'k#', 'TagValue': 'v'}], 'InvalidParameterValue.TagKeyCharacterIllegal'),
    ([{'TagKey': ' k', 'TagValue': 'v'}], 'InvalidParameterValue.TagKeyCharacterIllegal'),
    ([{'TagKey': 'k', 'TagValue': 'v '}], 'InvalidParameterValue.TagValueCharacterIllegal'),
    ([{'TagKey': 'k', 'TagValue': ''}], 'InvalidParameterValue.TagValueEmpty'),
    ([{'TagKey': '', 'TagValue': 'v'}], 'InvalidParameterValue.TagKeyEmpty'),
    ([{'TagKey': 'k', 'TagValue': 'a'}, {'TagKey': 'k', 'TagValue': 'b'}], 'InvalidParameterValue.TagKeyDuplicate'),
    ([{'TagKey': 'k%d' % n, 'TagValue': 'v'} for n in range(11)], 'LimitExceeded.TagNumPerRequest'),
])
def test_tag_limits_are_refused_with_the_sdk_error_codes(tc, admin, tags, code):
    assert tag_error(tag(tc), 'TagResources', ResourceList=[resource(INS)], Tags=tags) == code
    assert state_tags(admin, INS) == {}


def test_the_documented_characters_and_lengths_are_accepted(tc, admin):
    key, value = 'k' * 127, 'a b+-=._:/@()[],;><' + 'v' * 236
    tag_call(tag(tc), 'TagResources', ResourceList=[resource(INS)], Tags=[{'TagKey': key, 'TagValue': value}])
    assert state_tags(admin, INS) == {key: value}


def test_eleven_resources_are_refused_and_the_51st_tag_fails_that_resource_only(tc, admin):
    client = tag(tc)
    assert tag_error(client, 'TagResources', ResourceList=[resource('ins-%08d' % n) for n in range(11)],
                     Tags=[{'TagKey': 'k', 'TagValue': 'v'}]) == 'LimitExceeded.ResourceNumPerRequest'
    for start in range(0, 50, 10):
        tag_call(client, 'TagResources', ResourceList=[resource(INS)],
                 Tags=[{'TagKey': 'k%d' % n, 'TagValue': 'v'} for n in range(start, start + 10)])
    out = tag_call(client, 'TagResources', ResourceList=[resource(INS), resource(OTHER)], Tags=[{'TagKey': 'new', 'TagValue': 'v'}])
    assert [(f['Resource'], f['Code']) for f in out['FailedResources']] == [(resource(INS), 'LimitExceeded.ResourceAttachedTags')]
    assert len(state_tags(admin, INS)) == 50 and state_tags(admin, OTHER) == {'new': 'v'}


@pytest.mark.parametrize('setting, expected', [
    ('failed_resources', 'partial'), ('error', 'InvalidParameterValue.ResourceIdInvalid'), ('accept', 'accepted')])
def test_a_missing_resource_per_setting(tc, admin, setting, expected):
    admin.settings(tencentcloud={'tag_missing_resource': setting})
    params = dict(ResourceList=[resource(INS), resource('ins-missing1')], Tags=[{'TagKey': 'k', 'TagValue': 'v'}])
    if expected == 'partial':
        out = tag_call(tag(tc), 'TagResources', **params)
        assert [(f['Resource'], f['Code']) for f in out['FailedResources']] == [
            (resource('ins-missing1'), 'InvalidParameterValue.ResourceIdInvalid')]
        assert state_tags(admin, INS) == {'k': 'v'}
    elif expected == 'accepted':
        assert tag_call(tag(tc), 'TagResources', **params)['FailedResources'] == []
    else:
        assert tag_error(tag(tc), 'TagResources', **params) == expected
        assert state_tags(admin, INS) == {}


@pytest.mark.parametrize('setting, uin, ok', [
    ('any', '', True), ('any', '100000000001', True), ('any', '200000000002', False),
    ('owner', '', False), ('owner', '100000000001', True),
])
def test_the_account_segment_per_setting(tc, admin, setting, uin, ok):
    admin.settings(tencentcloud={'tag_resource_uin': setting})
    params = dict(ResourceList=[resource(INS, uin=uin)], Tags=[{'TagKey': 'k', 'TagValue': 'v'}])
    if ok:
        tag_call(tag(tc), 'TagResources', **params)
        assert state_tags(admin, INS) == {'k': 'v'}
    else:
        assert tag_error(tag(tc), 'TagResources', **params) == 'InvalidParameterValue.UinInvalid'


def test_malformed_resource_names(tc):
    client = tag(tc)
    tags = [{'TagKey': 'k', 'TagValue': 'v'}]
    assert tag_error(client, 'TagResources', ResourceList=['ins-2zvpghhc'], Tags=tags) == 'InvalidParameterValue.ResourceDescriptionError'
    assert tag_error(client, 'TagResources', ResourceList=['qcs::cos:ap-guangzhou:uin/:bucket/x'], Tags=tags) == \
        'InvalidParameterValue.ResourcePrefixInvalid'


def test_untag_of_a_key_not_there_per_setting(tc, admin):
    admin.settings(tencentcloud={'untag_missing_key': 'error'})
    out = tag_call(tag(tc), 'UnTagResources', ResourceList=[resource(INS)], TagKeys=['absent'])
    assert [f['Code'] for f in out['FailedResources']] == ['ResourceNotFound.AttachedTagKeyNotFound']


def test_modify_resource_tags_replaces_and_deletes_in_one_call(tc, admin):
    client = tag(tc)
    tag_call(client, 'TagResources', ResourceList=[resource(INS)], Tags=[{'TagKey': 'a', 'TagValue': '1'}, {'TagKey': 'b', 'TagValue': '2'}])
    tag_call(client, 'ModifyResourceTags', Resource=resource(INS), ReplaceTags=[{'TagKey': 'a', 'TagValue': '9'}], DeleteTags=[{'TagKey': 'b'}])
    assert state_tags(admin, INS) == {'a': '9'}
    assert tag_error(client, 'ModifyResourceTags', Resource=resource(INS), ReplaceTags=[{'TagKey': 'a', 'TagValue': '1'}],
                     DeleteTags=[{'TagKey': 'a'}]) == 'InvalidParameterValue.DeleteTagsParamError'


def test_a_tag_key_has_a_bounded_number_of_values_in_the_account(tc, admin):
    """Tags outlive the resources they were on: values pile up in the account until max_values_per_tag_key."""
    admin.settings(tencentcloud={'max_values_per_tag_key': 2})
    client = tag(tc)
    for value in ('1', '2'):
        tag_call(client, 'TagResources', ResourceList=[resource(INS)], Tags=[{'TagKey': 'k', 'TagValue': value}])
        tag_call(client, 'UnTagResources', ResourceList=[resource(INS)], TagKeys=['k'])
    assert tag_error(client, 'TagResources', ResourceList=[resource(INS)], Tags=[{'TagKey': 'k', 'TagValue': '3'}]) == 'LimitExceeded.TagValue'
    tag_call(client, 'TagResources', ResourceList=[resource(INS)], Tags=[{'TagKey': 'k', 'TagValue': '1'}])    # an old value is fine


def test_the_tag_service_is_signed_with_its_own_scope_and_version(tc, admin, monkeypatch):
    """The SDK signs tag calls with service "tag" and version 2018-08-13; our signer gives the same signature (frozen clock),
    and a request of the wrong version or signed for another service is refused."""
    from emulator import tencentcloud as tc3   # pylint: disable=import-outside-toplevel
    monkeypatch.setattr(abstract_client, 'time', types.SimpleNamespace(time=lambda: 1700000000))
    client = tag(tc)
    req = RequestInternal(client._get_endpoint(), 'POST', '/', header={'X-TC-TraceId': '11111111-2222-3333-4444-555555555555'})
    body = tag_models.TagResourcesRequest()
    body.from_json_string(json.dumps({'ResourceList': [resource(INS)], 'Tags': [{'TagKey': 'k', 'TagValue': 'v'}]}))
    client._build_req_inter('TagResources', body._serialize(), req)  # pylint: disable=protected-access
    assert req.header['X-TC-Version'] == '2018-08-13'
    assert '/2023-11-14/tag/tc3_request, ' in req.header['Authorization']
    ours = tc3.sign(SECRET_KEY, 'POST', req.header['Host'], req.header['Content-Type'], 1700000000, 'tag', req.data.encode('utf-8'))
    assert req.header['Authorization'].endswith('Signature=' + ours)


def test_describe_instances_filters_by_tag(tc):
    tag_call(tag(tc), 'TagResources', ResourceList=[resource(INS)], Tags=[{'TagKey': 'sg-quarantine', 'TagValue': '2026-12-07'}])
    client = cvm(tc)

    def found(name, values):
        out = call(client, 'DescribeInstances', Filters=[{'Name': name, 'Values': values}], Limit=100)
        return [i['InstanceId'] for i in out['InstanceSet']]
    assert found('tag-key', ['sg-quarantine']) == [INS]
    assert found('tag:sg-quarantine', ['2026-12-07']) == [INS]
    assert found('tag:sg-quarantine', ['other']) == []
    assert found('tag-value', ['2026-12-07']) == [INS]
