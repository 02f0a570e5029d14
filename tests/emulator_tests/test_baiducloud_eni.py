# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Baidu AI Cloud emulator's ENI calls (the VPC API), driven by the official bce-python-sdk's EniClient."""

import copy

import pytest

from baidubce.auth.bce_credentials import BceCredentials
from baidubce.bce_client_configuration import BceClientConfiguration
from baidubce.exception import BceHttpClientError
from baidubce.retry.retry_policy import NoRetryPolicy
from baidubce.services.eni.eni_client import EniClient

from emulator_tests.test_baiducloud import AK, SK, FULL_SGS, seed_doc


def eni_seed():
    doc = copy.deepcopy(seed_doc())
    doc['baiducloud']['network_interfaces'] = [
        {'id': 'eni-second0001', 'vpc_id': 'vpc-one', 'instance_id': 'i-YufwpQAe', 'security_groups': ['g-aaaa0001']},
        {'id': 'eni-primary001', 'vpc_id': 'vpc-one', 'instance_id': 'i-YufwpQAe', 'primary': True},
        {'id': 'eni-esg0000001', 'vpc_id': 'vpc-one', 'security_groups': [], 'enterprise_security_groups': ['esg-ub0q1p72pbmh']},
        {'id': 'eni-busy000001', 'vpc_id': 'vpc-one', 'instance_id': 'i-Two00002', 'status': 'attaching', 'security_groups': ['g-aaaa0001']},
        {'id': 'eni-other00001', 'vpc_id': 'vpc-two', 'security_groups': ['g-othervpc1']},
    ]
    return doc


@pytest.fixture(name='bcc')
def seeded_admin(admin):
    admin.seed(eni_seed())
    return admin


def client(emulator):
    config = BceClientConfiguration(credentials=BceCredentials(AK, SK), endpoint=emulator.endpoints['baiducloud'])
    config.retry_policy = NoRetryPolicy()
    return EniClient(config)


def groups_of(admin, eni_id):
    return [e for e in admin.state()['baiducloud']['network_interfaces'] if e['id'] == eni_id][0]['security_groups']


def code_of(call):
    with pytest.raises(BceHttpClientError) as err:
        call()
    return err.value.last_error.status_code, err.value.last_error.code


def test_get_and_list_through_the_sdk(emulator, bcc):
    sdk = client(emulator)
    got = sdk.get_eni_details('eni-second0001')
    assert (got.eni_id, got.vpc_id, got.instance_id, got.status, got.security_group_ids) == \
        ('eni-second0001', 'vpc-one', 'i-YufwpQAe', 'inuse', ['g-aaaa0001'])
    listed = sdk.list_eni('vpc-one', max_keys=2)
    assert [e.eni_id for e in listed.enis] == ['eni-busy000001', 'eni-esg0000001'] and listed.is_truncated
    rest = sdk.list_eni('vpc-one', marker=listed.next_marker)
    assert [e.eni_id for e in rest.enis] == ['eni-primary001', 'eni-second0001'] and not rest.is_truncated
    # the primary ENI shows its instance's groups, and is the instance's nicInfo.eniId
    assert sdk.get_eni_details('eni-primary001').security_group_ids == ['g-aaaa0001']
    assert code_of(lambda: sdk.get_eni_details('eni-nothere01')) == (404, 'NoSuchObject')


def test_update_replaces_the_whole_list_and_removes_enterprise_groups(emulator, bcc):
    sdk = client(emulator)
    sdk.update_eni_security_group('eni-second0001', ['g-bbbb0002', 'g-cccc0003'])
    assert groups_of(bcc, 'eni-second0001') == ['g-bbbb0002', 'g-cccc0003']
    sdk.update_eni_security_group('eni-esg0000001', ['g-aaaa0001'])
    state = [e for e in bcc.state()['baiducloud']['network_interfaces'] if e['id'] == 'eni-esg0000001'][0]
    assert (state['security_groups'], state['enterprise_security_groups']) == (['g-aaaa0001'], [])
    entry = bcc.requests('baiducloud')[-1]
    assert (entry['action'], entry['status']) == ('UpdateEniSecurityGroups', 200)


def test_the_same_client_token_is_not_applied_twice_and_with_other_groups_is_a_mismatch(emulator, bcc):
    sdk = client(emulator)
    sdk.update_eni_security_group('eni-second0001', ['g-bbbb0002'], client_token='tok-1')
    sdk.update_eni_security_group('eni-second0001', ['g-bbbb0002'], client_token='tok-1')
    assert groups_of(bcc, 'eni-second0001') == ['g-bbbb0002']
    assert code_of(lambda: sdk.update_eni_security_group('eni-second0001', ['g-cccc0003'], client_token='tok-1')) == \
        (403, 'IdempotentParameterMismatch')


@pytest.mark.parametrize('eni_id, groups, status, code', [
    ('eni-second0001', [], 400, 'SecurityGroup.NoSecurityGroup'),
    ('eni-second0001', ['g-othervpc1'], 400, 'InstanceBindNoSameVpcException'),
    ('eni-second0001', ['g-nothere01'], 404, 'NoSuchObject'),
    ('eni-nothere01', ['g-aaaa0001'], 404, 'NoSuchObject'),
    ('eni-second0001', FULL_SGS + ['g-aaaa0001'], 413, 'SecurityGroup.BindInstanceExceededLimit'),
    ('eni-busy000001', ['g-bbbb0002'], 409, 'OperationDenied'),
    ('eni-primary001', ['g-bbbb0002'], 400, 'EniPrimaryNotSupported'),
])
def test_refused_updates_change_nothing(emulator, bcc, eni_id, groups, status, code):
    before = bcc.state()['baiducloud']
    assert code_of(lambda: client(emulator).update_eni_security_group(eni_id, groups)) == (status, code)
    assert bcc.state()['baiducloud'] == before


def test_settings_change_the_assumed_limit_and_the_primary_eni_answer(emulator, bcc):
    bcc.settings(baiducloud={'eni_max_security_groups': 1, 'eni_primary_update': 'applied'})
    sdk = client(emulator)
    assert code_of(lambda: sdk.update_eni_security_group('eni-second0001', ['g-aaaa0001', 'g-bbbb0002'])) == \
        (413, 'SecurityGroup.BindInstanceExceededLimit')
    sdk.update_eni_security_group('eni-primary001', ['g-bbbb0002'])
    assert [i for i in bcc.state()['baiducloud']['instances'] if i['id'] == 'i-YufwpQAe'][0]['security_groups'] == ['g-bbbb0002']


def test_a_list_without_vpc_id_is_refused(emulator, bcc):
    assert code_of(lambda: client(emulator).list_eni('')) == (400, 'InvalidHTTPRequest')
