# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Alibaba Cloud emulator's tag calls (TagResources, UntagResources, ListTagResources), driven by both official
SDK families and all three signing schemes, and the tags DescribeInstances / DescribeNetworkInterfaces return."""

import pytest

from test_alicloud import ENI_SEC, FAMILIES, I_RUN, I_STOP, REGION, ApiError, clients, seed


def tag_params(family, ids, tags=None, keys=None, kind='instance', **extra):
    """The request parameters of a tag call in the SDK family's own names (the legacy SDK names repeat lists in the plural)."""
    params = dict(RegionId=REGION, ResourceType=kind, **extra)
    legacy = family == 'legacy-v1'
    if ids is not None:
        params['ResourceIds' if legacy else 'ResourceId'] = list(ids)
    if tags is not None:
        params['Tags' if legacy else 'Tag'] = [{'Key': k, 'Value': v} for k, v in tags]
    if keys is not None:
        params['TagKeys' if legacy else 'TagKey'] = list(keys)
    return params


@pytest.fixture
def ali(emulator, admin):
    admin.seed(seed())
    return emulator.endpoints['alicloud']


@pytest.fixture(params=FAMILIES)
def family(request):
    return request.param


def tags_in_state(admin, resource_id):
    state = admin.state()['alicloud']
    for entry in state['instances'] + state['network_interfaces']:
        if entry['id'] == resource_id:
            return entry.get('tags', {})
    raise KeyError(resource_id)


def instance_tags(client, iid):
    out = client.call('DescribeInstances', RegionId=REGION, InstanceIds='["%s"]' % iid)
    return dict((t['TagKey'], t['TagValue']) for t in out['Instances']['Instance'][0]['Tags']['Tag'])


def error_code(client, action, **params):
    with pytest.raises(ApiError) as err:
        client.call(action, **params)
    return err.value.code, err.value.status


def test_tag_untag_and_list_through_every_sdk(ali, admin, family):
    client = clients(ali)[family]
    client.call('TagResources', **tag_params(family, [I_RUN, I_STOP], tags=[('sgq', 'v1 2026-12-07T12:00:00+00:00'), ('empty', '')]))
    assert tags_in_state(admin, I_RUN) == tags_in_state(admin, I_STOP) == {'sgq': 'v1 2026-12-07T12:00:00+00:00', 'empty': ''}
    assert instance_tags(client, I_RUN) == {'sgq': 'v1 2026-12-07T12:00:00+00:00', 'empty': ''}
    client.call('TagResources', **tag_params(family, [I_RUN], tags=[('sgq', 'v2')]))       # an existing key is overwritten
    listed = client.call('ListTagResources', **tag_params(family, [I_RUN, I_STOP]))
    assert sorted((t['ResourceId'], t['TagKey'], t['TagValue']) for t in listed['TagResources']['TagResource']) == [
        (I_RUN, 'empty', ''), (I_RUN, 'sgq', 'v2'), (I_STOP, 'empty', ''), (I_STOP, 'sgq', 'v1 2026-12-07T12:00:00+00:00')]
    client.call('UntagResources', **tag_params(family, [I_RUN, I_STOP], keys=['sgq', 'absent']))   # a key not there is no error
    assert tags_in_state(admin, I_RUN) == tags_in_state(admin, I_STOP) == {'empty': ''}


def test_an_eni_is_tagged_with_resource_type_eni_and_describe_shows_it(ali, admin, family):
    client = clients(ali)[family]
    client.call('TagResources', **tag_params(family, [ENI_SEC], tags=[('k', 'v')], kind='eni'))
    out = client.call('DescribeNetworkInterfaces', RegionId=REGION, NetworkInterfaceId=[ENI_SEC])
    item = out['NetworkInterfaceSets']['NetworkInterfaceSet'][0]
    assert item['Tags']['Tag'] == [{'TagKey': 'k', 'TagValue': 'v'}]
    assert error_code(client, 'TagResources', **tag_params(family, [ENI_SEC], tags=[('k', 'v')])) == ('InvalidResourceId.NotFound', 404)


@pytest.mark.parametrize('tags, code', [
    ([('aliyun-x', 'v')], 'InvalidTagKey.Malformed'),
    ([('ACS:x', 'v')], 'InvalidTagKey.Malformed'),
    ([('see http://x', 'v')], 'InvalidTagKey.Malformed'),
    ([('k' * 129, 'v')], 'InvalidTagKey.Malformed'),
    ([('k', 'v' * 129)], 'InvalidTagValue.Malformed'),
    ([('k', 'https://x')], 'InvalidTagValue.Malformed'),
    ([('k', 'a'), ('k', 'b')], 'Duplicate.TagKey'),
    ([('k%d' % n, 'v') for n in range(21)], 'NumberExceed.Tags'),
])
def test_tag_limits_are_refused_with_the_documented_codes(ali, admin, tags, code):
    client = clients(ali)['tea-v3']
    assert error_code(client, 'TagResources', **tag_params('tea-v3', [I_RUN], tags=tags))[0] == code
    assert tags_in_state(admin, I_RUN) == {}


def test_128_characters_and_an_empty_value_are_accepted(ali, admin):
    client = clients(ali)['tea-v3']
    client.call('TagResources', **tag_params('tea-v3', [I_RUN], tags=[('k' * 128, 'v' * 128), ('e', '')]))
    assert tags_in_state(admin, I_RUN) == {'k' * 128: 'v' * 128, 'e': ''}


def test_too_many_resources_and_too_many_tags_on_a_resource(ali, admin):
    client = clients(ali)['tea-v3']
    assert error_code(client, 'TagResources', **tag_params('tea-v3', ['i-missing%04d' % n for n in range(51)], tags=[('k', 'v')])) == (
        'NumberExceed.ResourceIds', 400)
    client.call('TagResources', **tag_params('tea-v3', [I_RUN], tags=[('k%d' % n, 'v') for n in range(20)]))
    # The 21st tag: all or nothing, I_STOP (which has room) is left untouched too.
    assert error_code(client, 'TagResources', **tag_params('tea-v3', [I_STOP, I_RUN], tags=[('new', 'v')])) == (
        'OperationDenied.QuotaExceed', 400)
    assert tags_in_state(admin, I_STOP) == {}
    client.call('TagResources', **tag_params('tea-v3', [I_RUN], tags=[('k0', 'overwritten')]))      # an overwrite adds nothing
    admin.settings(alicloud={'max_tags_per_resource': 21})
    client.call('TagResources', **tag_params('tea-v3', [I_RUN], tags=[('new', 'v')]))
    assert len(tags_in_state(admin, I_RUN)) == 21


def test_missing_resource_type_region_and_unknown_resources(ali):
    client = clients(ali)['tea-v3']
    assert error_code(client, 'TagResources', **tag_params('tea-v3', [I_RUN], tags=[('k', 'v')], kind='disk')) == (
        'InvalidResourceType.NotFound', 404)
    assert error_code(client, 'TagResources', **tag_params('tea-v3', [I_RUN, 'i-doesnotexist1'], tags=[('k', 'v')])) == (
        'InvalidResourceId.NotFound', 404)
    params = tag_params('tea-v3', [I_RUN], tags=[('k', 'v')])
    params['RegionId'] = 'cn-beijing'
    assert error_code(client, 'TagResources', **params) == ('InvalidResourceId.NotFound', 404)


def test_list_tag_resources_pages_with_next_token(ali, admin):
    client = clients(ali)['tea-v3']
    admin.settings(alicloud={'list_tag_page_size': 3})
    client.call('TagResources', **tag_params('tea-v3', [I_RUN, I_STOP], tags=[('a', '1'), ('b', '2')]))
    first = client.call('ListTagResources', **tag_params('tea-v3', [I_RUN, I_STOP]))
    assert len(first['TagResources']['TagResource']) == 3 and first['NextToken']
    second = client.call('ListTagResources', **tag_params('tea-v3', [I_RUN, I_STOP], NextToken=first['NextToken']))
    assert len(second['TagResources']['TagResource']) == 1 and not second['NextToken']
    by_tag = client.call('ListTagResources', **tag_params('tea-v3', None, tags=[('a', '1')]))
    assert set(t['ResourceId'] for t in by_tag['TagResources']['TagResource']) == {I_RUN, I_STOP}


def test_describe_instances_filters_by_tag(ali, family):
    client = clients(ali)[family]
    client.call('TagResources', **tag_params(family, [I_RUN], tags=[('sg-quarantine', '2026-12-07')]))

    def found(**tag):
        params = dict(RegionId=REGION)
        params['Tags' if family == 'legacy-v1' else 'Tag'] = [tag]
        out = client.call('DescribeInstances', **params)
        return [i['InstanceId'] for i in out['Instances']['Instance']]
    assert found(Key='sg-quarantine') == [I_RUN]
    assert found(Key='sg-quarantine', Value='2026-12-07') == [I_RUN]
    assert found(Key='sg-quarantine', Value='other') == []
