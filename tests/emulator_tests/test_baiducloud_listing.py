# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Baidu AI Cloud emulator's instance list (GET /v2/instance) driven by the official bce-python-sdk's
BccClient.list_instances: marker and maxKeys, and each filter (cloud.baidu.com/doc/BCC/s/Xjwvyodmx)."""

import pytest

from baidubce.auth.bce_credentials import BceCredentials
from baidubce.bce_client_configuration import BceClientConfiguration
from baidubce.exception import BceHttpClientError
from baidubce.retry.retry_policy import NoRetryPolicy
from baidubce.services.bcc.bcc_client import BccClient

AK = 'akListSdk000000000000000000000001'
SK = 'sk-list-secret-for-the-emulator'
GROUPS = ['g-lsdk0001', 'g-lsdk0002']


def seed_doc(n=9):
    """i-lsdk000k: name app-k, Stopped when k % 3 == 0, tags env=prod on even k and tier (any value) on k < 3."""
    instances = []
    for k in range(n):
        tags = [{'key': 'env', 'value': 'prod' if k % 2 == 0 else 'dev'}]
        if k < 3:
            tags.append({'key': 'tier', 'value': '' if k == 0 else 'front'})
        instances.append({'id': 'i-lsdk%04d' % k, 'name': 'app-%d' % k, 'status': 'Stopped' if k % 3 == 0 else 'Running',
                          'vpc_id': 'vpc-a' if k < 5 else 'vpc-b', 'security_groups': [GROUPS[k % 2]], 'tags': tags,
                          'internal_ip': '10.0.0.%d' % (k + 1), 'public_ip': '203.0.113.%d' % (k + 1) if k == 1 else ''})
    return {'baiducloud': {'credentials': [{'access_key': AK, 'secret_key': SK}],
                           'security_groups': [{'id': sg, 'vpc_id': 'vpc-a'} for sg in GROUPS], 'instances': instances}}


@pytest.fixture(name='bcc')
def seeded(admin):
    admin.seed(seed_doc())
    return admin


def client(emulator):
    config = BceClientConfiguration(credentials=BceCredentials(AK, SK), endpoint=emulator.endpoints['baiducloud'])
    config.retry_policy = NoRetryPolicy()
    return BccClient(config)


def ids(response):
    return [i.id for i in response.instances]


def every(sdk, **filters):
    """Page with the SDK's marker and max_keys until is_truncated is false."""
    found, marker, pages = [], None, 0
    while True:
        response = sdk.list_instances(marker=marker, **filters)
        found += ids(response)
        pages += 1
        if not response.is_truncated:
            return found, pages
        marker = response.next_marker


@pytest.mark.parametrize('max_keys,pages', [(1, 9), (2, 5), (4, 3), (9, 1), (1000, 1), (5000, 1)])
def test_marker_pages_to_the_end_at_every_size(emulator, bcc, max_keys, pages):
    assert every(client(emulator), max_keys=max_keys) == (['i-lsdk%04d' % k for k in range(9)], pages)


def test_an_answer_has_what_the_inventory_reads(emulator, bcc):
    response = client(emulator).list_instances(max_keys=2)
    assert (response.max_keys, response.is_truncated, response.next_marker) == (2, True, 'i-lsdk0002')
    second = response.instances[1]
    assert (second.name, second.status, second.vpc_id, second.internal_ip, second.public_ip) == (
        'app-1', 'Running', 'vpc-a', '10.0.0.2', '203.0.113.2')
    assert second.nic_info.security_groups == [GROUPS[1]] and second.nic_info.ips[0].private_ip == '10.0.0.2'
    assert [(t.tag_key, t.tag_value) for t in second.tags] == [('env', 'dev'), ('tier', 'front')]
    last = client(emulator).list_instances(marker='i-lsdk0008')
    assert not last.is_truncated and getattr(last, 'next_marker', None) is None and ids(last) == ['i-lsdk0008']


def test_each_filter_and_their_and(emulator, bcc):
    sdk = client(emulator)
    assert ids(sdk.list_instances(tags='env:prod')) == ['i-lsdk0000', 'i-lsdk0002', 'i-lsdk0004', 'i-lsdk0006', 'i-lsdk0008']
    assert ids(sdk.list_instances(instance_names='app-3,app-7')) == ['i-lsdk0003', 'i-lsdk0007']
    assert ids(sdk.list_instances(instance_names='app')) == []
    assert ids(sdk.list_instances(fuzzy_instance_name='p-1')) == ['i-lsdk0001']
    assert ids(sdk.list_instances(status='Stopped')) == ['i-lsdk0000', 'i-lsdk0003', 'i-lsdk0006']
    assert ids(sdk.list_instances(status='Stopped,Running')) == ['i-lsdk%04d' % k for k in range(9)]
    assert ids(sdk.list_instances(security_group_ids=GROUPS[1])) == ['i-lsdk0001', 'i-lsdk0003', 'i-lsdk0005', 'i-lsdk0007']
    assert ids(sdk.list_instances(vpc_id='vpc-b', private_ips='10.0.0.6,10.0.0.1')) == ['i-lsdk0005']
    assert ids(sdk.list_instances(tags='env:prod', status='Stopped', security_group_ids=GROUPS[0])) == ['i-lsdk0000', 'i-lsdk0006']
    # Paging under a filter: the marker walks the filtered list.
    assert every(sdk, tags='env:prod', max_keys=2) == (['i-lsdk0000', 'i-lsdk0002', 'i-lsdk0004', 'i-lsdk0006', 'i-lsdk0008'], 3)


@pytest.mark.parametrize('match,expected', [('any', ['i-lsdk0000', 'i-lsdk0001', 'i-lsdk0002', 'i-lsdk0004', 'i-lsdk0006', 'i-lsdk0008']),
                                            ('all', ['i-lsdk0002'])])
def test_several_tags_are_ored_as_documented_or_anded(emulator, bcc, match, expected):
    bcc.settings(baiducloud={'list_tags_match': match})
    assert ids(client(emulator).list_instances(tags='env:prod,tier:front')) == expected


@pytest.mark.parametrize('mode,expected', [('any_value', ['i-lsdk0000', 'i-lsdk0001', 'i-lsdk0002']), ('empty_value', ['i-lsdk0000'])])
def test_a_tag_key_alone_matches_as_the_setting_says(emulator, bcc, mode, expected):
    bcc.settings(baiducloud={'list_tag_key_only': mode})
    assert ids(client(emulator).list_instances(tags='tier')) == expected


def test_a_vpc_without_private_ips_as_the_setting_says(emulator, bcc):
    sdk = client(emulator)
    assert len(ids(sdk.list_instances(vpc_id='vpc-b'))) == 9          # ignored
    bcc.settings(baiducloud={'list_vpc_without_private_ips': 'filtered'})
    assert ids(sdk.list_instances(vpc_id='vpc-b')) == ['i-lsdk%04d' % k for k in range(5, 9)]
    bcc.settings(baiducloud={'list_vpc_without_private_ips': 'error'})
    with pytest.raises(BceHttpClientError) as err:
        sdk.list_instances(vpc_id='vpc-b')
    assert (err.value.last_error.status_code, err.value.last_error.code) == (400, 'InvalidHTTPRequest')


def test_names_exact_and_fuzzy_together_and_over_100_values_are_refused(emulator, bcc):
    sdk = client(emulator)
    for call in (lambda: sdk.list_instances(instance_names='app-1', fuzzy_instance_name='app'),
                 lambda: sdk.list_instances(instance_ids=','.join('i-x%07d' % k for k in range(101)))):
        with pytest.raises(BceHttpClientError) as err:
            call()
        assert (err.value.last_error.status_code, err.value.last_error.code) == (400, 'InvalidHTTPRequest')
