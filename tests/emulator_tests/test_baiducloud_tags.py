# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Baidu AI Cloud emulator's instance tag calls and an instance's ENI list, driven by the official
bce-python-sdk's BccClient (bind_instance_to_tags, unbind_instance_from_tags, list_instance_enis)."""

import copy

import pytest

from baidubce.auth.bce_credentials import BceCredentials
from baidubce.bce_client_configuration import BceClientConfiguration
from baidubce.exception import BceHttpClientError
from baidubce.retry.retry_policy import NoRetryPolicy
from baidubce.services.bcc.bcc_client import BccClient
from baidubce.services.bcc.bcc_model import TagModel

from emulator_tests.test_baiducloud import AK, SK, seed_doc


def tag_seed():
    doc = copy.deepcopy(seed_doc())
    doc['baiducloud']['instances'][0]['tags'] = {'owner': 'web team'}
    doc['baiducloud']['network_interfaces'] = [
        {'id': 'eni-primary001', 'vpc_id': 'vpc-one', 'instance_id': 'i-YufwpQAe', 'primary': True},
        {'id': 'eni-second0001', 'vpc_id': 'vpc-one', 'instance_id': 'i-YufwpQAe', 'security_groups': ['g-aaaa0001']},
        {'id': 'eni-loose00001', 'vpc_id': 'vpc-one', 'security_groups': ['g-bbbb0002']},
    ]
    return doc


@pytest.fixture(name='bcc')
def seeded_admin(admin):
    admin.seed(tag_seed())
    return admin


def client(emulator):
    config = BceClientConfiguration(credentials=BceCredentials(AK, SK), endpoint=emulator.endpoints['baiducloud'])
    config.retry_policy = NoRetryPolicy()
    return BccClient(config)


def tags_of(sdk, instance_id):
    return [(t.tag_key, t.tag_value) for t in sdk.get_instance(instance_id).instance.tags]


def failure(call):
    with pytest.raises(BceHttpClientError) as err:
        call()
    return err.value.last_error.status_code, err.value.last_error.code


def test_bind_and_unbind_through_the_sdk_show_in_get_and_list_by_ids(emulator, bcc):
    sdk = client(emulator)
    assert tags_of(sdk, 'i-YufwpQAe') == [('owner', 'web team')]
    sdk.bind_instance_to_tags('i-YufwpQAe', [TagModel('sgq-0', 'a/b.c_d-e'), TagModel('sgq-1', '')])
    assert tags_of(sdk, 'i-YufwpQAe') == [('owner', 'web team'), ('sgq-0', 'a/b.c_d-e'), ('sgq-1', '')]
    listed = sdk.list_instance_by_instance_ids(['i-YufwpQAe'])
    assert [(t.tag_key, t.tag_value) for t in listed.instances[0].tags] == tags_of(sdk, 'i-YufwpQAe')
    sdk.unbind_instance_from_tags('i-YufwpQAe', [TagModel('sgq-0', 'a/b.c_d-e'), TagModel('sgq-1', '')])
    assert tags_of(sdk, 'i-YufwpQAe') == [('owner', 'web team')]
    entry = bcc.requests('baiducloud')[-2]
    assert (entry['action'], entry['status']) == ('UnbindInstanceTags', 200)


def test_the_tag_rules_answer_the_tag_services_codes(emulator, bcc):
    sdk = client(emulator)
    assert failure(lambda: sdk.bind_instance_to_tags('i-YufwpQAe', [])) == (400, 'TagExceptions.TagEmpty')
    assert failure(lambda: sdk.bind_instance_to_tags('i-YufwpQAe', [TagModel('', 'x')])) == (400, 'TagExceptions.TagKeyEmpty')
    assert failure(lambda: sdk.bind_instance_to_tags('i-YufwpQAe', [TagModel('k' * 66, 'x')])) == (400, 'TagExceptions.TagKeyInvalid')
    assert failure(lambda: sdk.bind_instance_to_tags('i-YufwpQAe', [TagModel('k', 'v' * 66)])) == (400, 'TagExceptions.TagValueInvalid')
    assert failure(lambda: sdk.bind_instance_to_tags('i-YufwpQAe', [TagModel('k', 'a:b')])) == (400, 'TagExceptions.TagValueInvalid')
    many = [TagModel('k%d' % n, 'v') for n in range(10)]
    assert failure(lambda: sdk.bind_instance_to_tags('i-YufwpQAe', many)) == (413, 'TagExceptions.LimitExceeded')
    assert tags_of(sdk, 'i-YufwpQAe') == [('owner', 'web team')]          # all or nothing
    assert failure(lambda: sdk.bind_instance_to_tags('i-Nothere9', [TagModel('k', 'v')])) == (404, 'NoSuchObject')
    bcc.settings(baiducloud={'max_tags_per_instance': 11, 'tag_max_key_len': 66})
    sdk.bind_instance_to_tags('i-YufwpQAe', many[:9] + [TagModel('k' * 66, 'v')])
    assert len(tags_of(sdk, 'i-YufwpQAe')) == 11


@pytest.mark.parametrize('mode, after', [
    ('overwrite', [('owner', 'ops')]),
    ('add', [('owner', 'web team'), ('owner', 'ops')]),
    ('error', [('owner', 'web team')]),
])
def test_a_key_bound_again_with_another_value_follows_tag_same_key(emulator, bcc, mode, after):
    sdk = client(emulator)
    bcc.settings(baiducloud={'tag_same_key': mode})
    if mode == 'error':
        assert failure(lambda: sdk.bind_instance_to_tags('i-YufwpQAe', [TagModel('owner', 'ops')]))[0] == 400
    else:
        sdk.bind_instance_to_tags('i-YufwpQAe', [TagModel('owner', 'ops')])
    assert tags_of(sdk, 'i-YufwpQAe') == after
    sdk.bind_instance_to_tags('i-YufwpQAe', [TagModel(k, v) for k, v in after])     # the same pairs again: nothing changes
    assert tags_of(sdk, 'i-YufwpQAe') == after


def test_unbind_matches_the_pair_or_the_key_and_an_absent_pair_follows_tag_unbind_absent(emulator, bcc):
    sdk = client(emulator)
    sdk.unbind_instance_from_tags('i-YufwpQAe', [TagModel('owner', 'someone else')])
    assert tags_of(sdk, 'i-YufwpQAe') == [('owner', 'web team')]
    bcc.settings(baiducloud={'tag_unbind_absent': 'error'})
    assert failure(lambda: sdk.unbind_instance_from_tags('i-YufwpQAe', [TagModel('owner', 'someone else')])) == (404, 'NoSuchObject')
    bcc.settings(baiducloud={'tag_unbind_match': 'key'})
    sdk.unbind_instance_from_tags('i-YufwpQAe', [TagModel('owner', 'someone else')])
    assert tags_of(sdk, 'i-YufwpQAe') == []


def test_list_by_ids_can_leave_the_tags_out(emulator, bcc):
    sdk = client(emulator)
    bcc.settings(baiducloud={'list_by_ids_tags': 'absent'})
    raw = sdk.list_instance_by_instance_ids(['i-YufwpQAe'])
    assert 'tags' not in vars(raw.instances[0])
    assert tags_of(sdk, 'i-YufwpQAe') == [('owner', 'web team')]


def test_an_instances_enis_through_the_sdk(emulator, bcc):
    sdk = client(emulator)
    enis = sdk.list_instance_enis('i-YufwpQAe').enis
    assert [(e.eni_id, e.instance_id, e.security_group_ids) for e in enis] == [
        ('eni-primary001', 'i-YufwpQAe', ['g-aaaa0001']), ('eni-second0001', 'i-YufwpQAe', ['g-aaaa0001'])]
    assert sdk.list_instance_enis('i-Two00002').enis == []
    assert failure(lambda: sdk.list_instance_enis('i-Nothere9')) == (404, 'NoSuchObject')


def test_tags_seed_as_a_mapping_or_pairs_and_survive_the_state_round_trip(emulator, bcc):
    state = bcc.state()['baiducloud']
    assert [i for i in state['instances'] if i['id'] == 'i-YufwpQAe'][0]['tags'] == [{'key': 'owner', 'value': 'web team'}]
    bcc.seed({'baiducloud': {'credentials': tag_seed()['baiducloud']['credentials'], 'security_groups': state['security_groups'],
                             'instances': state['instances']}})
    assert tags_of(client(emulator), 'i-YufwpQAe') == [('owner', 'web team')]
