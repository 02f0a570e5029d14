# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Baidu AI Cloud, issue 24: the listing hook (list_filters, list_instances) against the emulator: every page, each
filter pushed (the request carries it, the answer is right), what is not sent, the cost of 10,000 instances."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
import time
import tracemalloc
from urllib.parse import parse_qsl, urlsplit

import pytest

from ansible_collections.multicloud.secgroup.plugins.module_utils import _baiducloud as baidu
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

AK = 'akListTest00000000000000000000001'
SK = 'Baidu-List-Secret-Never-Shown'
GROUPS = ['g-list%04d' % n for n in range(1, 4)]
FILTER_NAMES = ('tags', 'name', 'status', 'vpc_id', 'security_group_id')


@pytest.fixture(scope='module')
def running():
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy'):
        os.environ.pop(var, None)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..'))
    from emulator import start  # pylint: disable=import-outside-toplevel
    emulator = start()
    yield emulator
    emulator.stop()


@pytest.fixture
def emu(running):
    running.emulator.reset()
    return running


def ids(n):
    return ['i-list%05d' % k for k in range(n)]


def fleet(n):
    """n instances: every third tagged env=prod, every fifth Stopped, names web-<k>, groups spread over GROUPS."""
    return [{'id': iid, 'name': 'web-%d' % k, 'status': 'Stopped' if k % 5 == 0 else 'Running',
             'vpc_id': 'vpc-one' if k % 2 else 'vpc-two', 'security_groups': [GROUPS[k % 3]],
             'tags': {'env': 'prod', 'role': 'web'} if k % 3 == 0 else {'env': 'dev'},
             'internal_ip': '192.168.%d.%d' % (k // 250, k % 250 + 1)} for k, iid in enumerate(ids(n))]


def seed(emu, instances, **settings):
    emu.emulator.seed({'baiducloud': {
        'credentials': [{'access_key': AK, 'secret_key': SK}],
        'security_groups': [{'id': sg, 'vpc_id': 'vpc-one'} for sg in GROUPS],
        'instances': list(instances)}})
    if settings:
        emu.emulator.update_settings({'baiducloud': settings})
    emu.emulator.clear_requests()


class Recorder:
    """The query of every request the provider built, as sent."""

    def __init__(self, cloud):
        self.queries = []
        build = cloud.build

        def recorded(method, path, params, payload):
            request = build(method, path, params, payload)
            self.queries.append(dict(parse_qsl(urlsplit(request['url']).query, keep_blank_values=True)))
            return request
        cloud.build = recorded


def provider(emu, **params):
    defaults = dict(endpoint=emu.endpoints['baiducloud'], region='bj', access_key=AK, secret_key=SK, security_token=None,
                    max_concurrency=4)
    defaults.update(params)
    conn = transport.Transport('baiducloud', max_retries=2, backoff=transport.Backoff(0.001, 0.001), secrets=[SK])
    cloud = baidu.BaiduCloud(defaults, conn)
    cloud.recorder = Recorder(cloud)
    return cloud


def calls(emu):
    return [e['action'] for e in emu.emulator.requests('baiducloud')]


def listed_ids(cloud, filters=None):
    return [i['instance_id'] for i in cloud.list_instances(filters or {})]


def test_the_filters_it_pushes_are_declared_and_vpc_is_not_among_them():
    assert set(baidu.BaiduCloud.list_filters) <= set(FILTER_NAMES)
    assert set(baidu.BaiduCloud.list_filters) == {'tags', 'name', 'status', 'security_group_id'}


@pytest.mark.parametrize('count', [0, 1, 999, 1000, 1001, 2500])
def test_every_page_is_followed_with_1000_a_call(emu, count):
    seed(emu, fleet(count))
    cloud = provider(emu)
    assert listed_ids(cloud) == ids(count)
    assert calls(emu) == ['ListInstances'] * max(1, -(-count // 1000))
    assert all(q['maxKeys'] == '1000' for q in cloud.recorder.queries)
    # The marker of each page after the first is the nextMarker of the one before.
    assert [q.get('marker') for q in cloud.recorder.queries] == [None] + [ids(count)[1000 * p] for p in range(1, len(cloud.recorder.queries))]


@pytest.mark.parametrize('page,count', [(1, 5), (7, 50), (10, 30)])
def test_small_pages_are_followed_to_the_end(emu, monkeypatch, page, count):
    monkeypatch.setattr(baidu, 'LIST_PAGE', page)
    seed(emu, fleet(count))
    assert listed_ids(provider(emu)) == ids(count)
    assert len(calls(emu)) == -(-count // page)


def test_each_instance_comes_whole_in_the_cloud_order_of_its_groups(emu):
    seed(emu, [{'id': 'i-whole001', 'name': 'db one', 'status': 'Running', 'vpc_id': 'vpc-one', 'security_groups': GROUPS,
                'tags': [{'key': 'env', 'value': 'prod'}, {'key': 'empty', 'value': ''}], 'internal_ip': '10.0.0.5',
                'public_ip': '203.0.113.9'},
               {'id': 'i-whole002', 'vpc_id': '', 'security_groups': []}], group_order='reverse')
    first, second = provider(emu, region='gz').list_instances({})
    assert first == {'instance_id': 'i-whole001', 'instance_name': 'db one', 'status': 'Running', 'vpc_id': 'vpc-one',
                     'private_ips': ['10.0.0.5'], 'public_ips': ['203.0.113.9'], 'tags': {'env': 'prod', 'empty': ''},
                     'security_group_ids': list(reversed(GROUPS)), 'region': 'gz', 'kind': 'instance'}
    assert 'network_interfaces' not in first
    assert second['vpc_id'] is None and second['private_ips'] == [] and second['public_ips'] == [] and second['tags'] == {}
    assert second['security_group_ids'] == [] and second['instance_name'] == 'i-whole002'


def test_an_instance_without_a_nic_yet_is_listed_without_groups_and_a_malformed_one_is_refused(emu):
    cloud = provider(emu)
    creating = cloud.listed({'id': 'i-creating1', 'status': 'Starting', 'nicInfo': None})
    assert creating['security_group_ids'] == [] and creating['tags'] == {} and creating['private_ips'] == []
    with pytest.raises(transport.ProviderError) as err:
        cloud.listed({'id': 'i-bad00001', 'nicInfo': {'securityGroups': 'g-aaaaaaaa'}})
    assert (err.value.action, err.value.code) == ('ListInstances', 'MalformedResponse')


def test_a_tag_pair_is_pushed_and_the_answer_has_exactly_those(emu):
    seed(emu, fleet(30))
    cloud = provider(emu)
    got = cloud.list_instances({'tags': {'env': 'prod'}})
    assert cloud.recorder.queries[0]['tags'] == 'env:prod'
    assert [i['instance_id'] for i in got] == [iid for k, iid in enumerate(ids(30)) if k % 3 == 0]
    assert all(i['tags']['env'] == 'prod' for i in got)


@pytest.mark.parametrize('match', ['any', 'all'])
def test_of_several_tags_one_pair_is_sent_so_the_answer_holds_every_match_whatever_the_cloud_combines(emu, match):
    seed(emu, fleet(30), list_tags_match=match)
    cloud = provider(emu)
    got = cloud.list_instances({'tags': {'env': 'prod', 'role': 'web'}})
    assert cloud.recorder.queries[0]['tags'] == 'env:prod'
    assert set(i['instance_id'] for i in got) >= set(iid for k, iid in enumerate(ids(30)) if k % 3 == 0)


@pytest.mark.parametrize('key_only', ['any_value', 'empty_value'])
def test_a_key_alone_is_never_sent_its_meaning_being_undocumented(emu, key_only):
    seed(emu, fleet(12), list_tag_key_only=key_only)
    cloud = provider(emu)
    assert listed_ids(cloud, {'tags': {'role': None}}) == ids(12)
    assert 'tags' not in cloud.recorder.queries[0]
    # With a pair beside it, the pair goes.
    cloud.list_instances({'tags': {'role': None, 'env': 'prod'}})
    assert cloud.recorder.queries[-1]['tags'] == 'env:prod'


def test_a_tag_holding_a_separator_is_not_sent(emu):
    seed(emu, [{'id': 'i-sep00001', 'tags': {'a:b': 'c'}}, {'id': 'i-sep00002', 'tags': {'k': 'x,y'}}])
    cloud = provider(emu)
    assert listed_ids(cloud, {'tags': {'a:b': 'c', 'k': 'x,y'}}) == ['i-sep00001', 'i-sep00002']
    assert 'tags' not in cloud.recorder.queries[0]


def test_a_name_is_pushed_exactly(emu):
    seed(emu, fleet(30))
    cloud = provider(emu)
    assert listed_ids(cloud, {'name': 'web-2'}) == [ids(30)[2]]
    assert cloud.recorder.queries[0]['instanceNames'] == 'web-2'
    assert listed_ids(cloud, {'name': 'web'}) == []
    # A comma separates names in instanceNames: such a name is not sent.
    assert len(listed_ids(cloud, {'name': 'web-1,web-2'})) == 30 and 'instanceNames' not in cloud.recorder.queries[-1]


def test_statuses_are_pushed_in_baidu_spelling(emu):
    seed(emu, fleet(30))
    cloud = provider(emu)
    assert listed_ids(cloud, {'status': ['stopped']}) == [iid for k, iid in enumerate(ids(30)) if k % 5 == 0]
    assert cloud.recorder.queries[-1]['status'] == 'Stopped'
    assert listed_ids(cloud, {'status': ['RUNNING', 'Stopped', 'running']}) == ids(30)
    assert cloud.recorder.queries[-1]['status'] == 'Running,Stopped'
    # A status Baidu does not have, or one the list page does not name for its filter, is applied locally only.
    assert len(listed_ids(cloud, {'status': ['Running', 'sleeping']})) == 30 and 'status' not in cloud.recorder.queries[-1]
    assert len(listed_ids(cloud, {'status': ['expired']})) == 30 and 'status' not in cloud.recorder.queries[-1]


def test_a_security_group_is_pushed(emu):
    seed(emu, fleet(30))
    cloud = provider(emu)
    got = cloud.list_instances({'security_group_id': GROUPS[1]})
    assert cloud.recorder.queries[0]['securityGroupIds'] == GROUPS[1]
    assert [i['instance_id'] for i in got] == [iid for k, iid in enumerate(ids(30)) if k % 3 == 1]
    assert all(i['security_group_ids'] == [GROUPS[1]] for i in got)


def test_filters_combine_and_a_vpc_is_never_sent(emu):
    seed(emu, fleet(60), list_vpc_without_private_ips='error')
    cloud = provider(emu)
    got = cloud.list_instances({'tags': {'env': 'prod'}, 'status': ['Running'], 'security_group_id': GROUPS[0], 'vpc_id': 'vpc-one'})
    query = cloud.recorder.queries[0]
    assert (query['tags'], query['status'], query['securityGroupIds']) == ('env:prod', 'Running', GROUPS[0])
    assert 'vpcId' not in query
    assert [i['instance_id'] for i in got] == [iid for k, iid in enumerate(ids(60)) if k % 3 == 0 and k % 5]


def test_an_error_names_the_call_and_code_and_a_server_error_is_retried(emu):
    seed(emu, fleet(3))
    emu.emulator.add_fault({'provider': 'baiducloud', 'action': 'ListInstances', 'kind': 'server_error'})
    assert listed_ids(provider(emu)) == ids(3)
    assert calls(emu) == ['ListInstances', 'ListInstances']
    with pytest.raises(transport.ProviderError) as err:
        provider(emu, secret_key='wrong-secret').list_instances({})
    assert (err.value.action, err.value.code, err.value.error_class) == ('ListInstances', 'SignatureDoesNotMatch', transport.AUTH)


def test_ten_thousand_instances_take_ten_calls(emu):
    seed(emu, fleet(10000))
    cloud = provider(emu)
    tracemalloc.start()
    began = time.monotonic()
    got = cloud.list_instances({})
    seconds = time.monotonic() - began
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(got) == 10000 and calls(emu) == ['ListInstances'] * 10
    print('baiducloud: 10000 instances, %d calls, %.2f s, peak %.1f MiB (emulator in-process)' % (len(calls(emu)), seconds, peak / 2.0 ** 20))
