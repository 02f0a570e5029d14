# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Zenlayer, issue 24: the listing hook (list_filters, list_instances) against the emulator: vm and zec instances, every
page, each filter pushed (the request carries it, the answer is right), the [inferred] answers, 10,000 instances."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys
import time
import tracemalloc

import pytest

from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport
from ansible_collections.multicloud.secgroup.plugins.module_utils import _zenlayer as zenlayer

AK, SK = 'AKID-ZL-LIST', 'Zenlayer-List-Secret-Never-Shown'
SG_A, SG_B, SG_VPC = '791721259766392536', '791721259766392537', '791721259766392538'
VPC = 'vpc-main'
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


def vm_ids(n):
    return ['8024523455%08d' % k for k in range(n)]


def zec_ids(n):
    return ['zec-%05d' % k for k in range(n)]


def vm_fleet(n):
    """Every third tagged env=prod, role=web; every fifth STOPPED; groups A, or A and B on odd ones."""
    return [{'id': iid, 'name': 'vm-%d' % k, 'status': 'STOPPED' if k % 5 == 0 else 'RUNNING',
             'security_groups': [SG_A, SG_B] if k % 2 else [SG_A], 'private_ips': ['10.1.%d.%d' % (k // 250, k % 250 + 1)],
             'tags': {'env': 'prod', 'role': 'web'} if k % 3 == 0 else {'env': 'dev'}} for k, iid in enumerate(vm_ids(n))]


def zec_fleet(n):
    return [{'id': iid, 'name': 'zec-%d' % k, 'status': 'STOPPED' if k % 5 == 0 else 'RUNNING',
             'tags': {'env': 'prod', 'role': 'web'} if k % 3 == 0 else {'env': 'dev'}} for k, iid in enumerate(zec_ids(n))]


def seed(emu, vms=(), zecs=(), **settings):
    """Each zec instance gets a Primary vNIC in VPC with group B on even ones, none of its own (the VPC's) on odd ones."""
    nics = [dict({'id': 'nicp-' + z['id'], 'vpc': VPC, 'instance': z['id'], 'type': 'Primary'},
                 **({'security_group': SG_B} if k % 2 == 0 else {})) for k, z in enumerate(zecs)]
    emu.emulator.seed({'zenlayer': {
        'credentials': [{'access_key': AK, 'secret_key': SK}],
        'security_groups': [{'id': SG_A}, {'id': SG_B}, {'id': SG_VPC, 'is_default': True}],
        'instances': list(vms), 'zec_vpcs': [{'id': VPC, 'security_group': SG_VPC}], 'zec_instances': list(zecs),
        'network_interfaces': nics}})
    if settings:
        emu.emulator.update_settings({'zenlayer': settings})
    emu.emulator.clear_requests()


def provider(emu, **params):
    defaults = dict(endpoint=emu.endpoints['zenlayer'], access_key_id=AK, access_key_password=SK, max_concurrency=4)
    defaults.update(params)
    conn = transport.Transport('zenlayer', max_retries=2, backoff=transport.Backoff(0.001, 0.001), secrets=[SK])
    return zenlayer.ZenlayerCloud(defaults, conn)


def requests(emu):
    """(service, action) of each request the emulator answered."""
    return [(e['path'].rsplit('/', 1)[-1], e['action']) for e in emu.emulator.requests('zenlayer')]


def bodies(cloud):
    """Record the body of each call: [(service, action, body)] (the two services are listed side by side: in any order)."""
    sent, call = [], cloud.call

    def recorded(action, body, **kwargs):
        sent.append((kwargs.get('service') or cloud.service, action, json.loads(json.dumps(body))))
        return call(action, body, **kwargs)
    cloud.call = recorded
    return sent


def listed(cloud, filters=None):
    return [(i['kind'], i['instance_id']) for i in cloud.list_instances(filters or {})]


def test_the_filters_it_pushes_are_declared_and_vpc_is_not_among_them():
    assert set(zenlayer.ZenlayerCloud.list_filters) <= set(FILTER_NAMES)
    assert set(zenlayer.ZenlayerCloud.list_filters) == {'tags', 'name', 'status', 'security_group_id'}


@pytest.mark.parametrize('vms,zecs', [(0, 0), (1, 0), (0, 1), (1000, 1000), (1001, 999), (2500, 1)])
def test_both_services_are_listed_to_the_end_with_1000_a_call(emu, vms, zecs):
    seed(emu, vm_fleet(vms), zec_fleet(zecs))
    cloud = provider(emu)
    sent = bodies(cloud)
    assert listed(cloud) == [('instance', i) for i in vm_ids(vms)] + [('zec_instance', i) for i in zec_ids(zecs)]

    def pages(n):
        return max(1, -(-n // 1000))
    assert sorted(requests(emu)) == [('vm', 'DescribeInstances')] * pages(vms) + [('zec', 'DescribeInstances')] * pages(zecs)
    assert sorted((s, b['pageNum'], b['pageSize']) for s, a, b in sent) == (
        [('vm', p, 1000) for p in range(1, pages(vms) + 1)] + [('zec', p, 1000) for p in range(1, pages(zecs) + 1)])


@pytest.mark.parametrize('page,count', [(1, 4), (7, 50), (10, 30)])
def test_small_pages_are_followed_to_the_end(emu, monkeypatch, page, count):
    monkeypatch.setattr(zenlayer, 'LIST_PAGE', page)
    monkeypatch.setitem(zenlayer.INFERRED, 'zec_list_page', page)
    seed(emu, vm_fleet(count), zec_fleet(count))
    assert listed(provider(emu)) == [('instance', i) for i in vm_ids(count)] + [('zec_instance', i) for i in zec_ids(count)]
    assert len(requests(emu)) == 2 * -(-count // page)


def test_each_instance_comes_whole(emu):
    seed(emu, [{'id': vm_ids(1)[0], 'name': 'edge one', 'status': 'RUNNING', 'security_groups': [SG_B, SG_A],
                'private_ips': ['10.0.0.5'], 'public_ips': ['198.51.100.7'], 'tags': {'env': 'prod'}}],
         [{'id': 'zec-a', 'name': 'zec one', 'status': 'STOPPED', 'private_ips': ['10.2.0.1'], 'tags': {}},
          {'id': 'zec-b'}])
    vm, zec_a, zec_b = provider(emu).list_instances({})
    assert vm == {'instance_id': vm_ids(1)[0], 'instance_name': 'edge one', 'status': 'RUNNING', 'vpc_id': None,
                  'private_ips': ['10.0.0.5'], 'public_ips': ['198.51.100.7'], 'tags': {'env': 'prod'},
                  'security_group_ids': [SG_B, SG_A], 'region': None, 'kind': 'instance'}
    assert zec_a == {'instance_id': 'zec-a', 'instance_name': 'zec one', 'status': 'STOPPED', 'vpc_id': VPC,
                     'private_ips': ['10.2.0.1'], 'public_ips': [], 'tags': {}, 'security_group_ids': [SG_B],
                     'region': None, 'kind': 'zec_instance'}
    # A vNIC without a group of its own has its VPC's, which is not the instance's own: none listed.
    assert zec_b['security_group_ids'] == [] and 'network_interfaces' not in zec_b


def test_tags_are_pushed_to_both_services(emu):
    seed(emu, vm_fleet(12), zec_fleet(12))
    cloud = provider(emu)
    sent = bodies(cloud)
    got = listed(cloud, {'tags': {'env': 'prod', 'role': None}})
    assert [b['tags'] for s, a, b in sent] == [[{'key': 'env', 'value': 'prod'}]] * 2
    assert [b['tagKeys'] for s, a, b in sent] == [['role']] * 2
    assert got == [('instance', i) for k, i in enumerate(vm_ids(12)) if k % 3 == 0] + \
        [('zec_instance', i) for k, i in enumerate(zec_ids(12)) if k % 3 == 0]


def test_if_the_cloud_ors_the_tags_the_answer_still_holds_every_match(emu):
    seed(emu, vm_fleet(12), zec_fleet(12), describe_tag_filter='any')
    got = set(listed(provider(emu), {'tags': {'env': 'prod', 'role': None}}))
    assert got >= set([('instance', i) for k, i in enumerate(vm_ids(12)) if k % 3 == 0] +
                      [('zec_instance', i) for k, i in enumerate(zec_ids(12)) if k % 3 == 0])


@pytest.mark.parametrize('mode', ['exact', 'fuzzy'])
def test_a_name_is_pushed_to_both_services(emu, mode):
    seed(emu, vm_fleet(12), zec_fleet(12), zec_name_filter=mode)
    cloud = provider(emu)
    sent = bodies(cloud)
    got = listed(cloud, {'name': 'vm-1'})
    assert sorted((s, b.get('instanceName'), b.get('name')) for s, a, b in sent) == [('vm', 'vm-1', None), ('zec', None, 'vm-1')]
    assert got == [('instance', vm_ids(12)[1])]
    # zec's name filter: an exact name finds it whichever way the service matches.
    assert ('zec_instance', zec_ids(12)[1]) in listed(cloud, {'name': 'zec-1'})


def test_one_vm_status_is_pushed_in_its_spelling_several_or_zec_ones_are_not(emu):
    seed(emu, vm_fleet(10), zec_fleet(10))
    cloud = provider(emu)
    sent = bodies(cloud)
    got = listed(cloud, {'status': ['stopped']})
    assert [b.get('instanceStatus') for s, a, b in sent if s == 'vm'] == ['STOPPED']
    assert [b.get('status') for s, a, b in sent if s == 'zec'] == [None]
    assert [i for k, i in got if k == 'instance'] == [vm_ids(10)[0], vm_ids(10)[5]]
    assert len([i for k, i in got if k == 'zec_instance']) == 10          # applied locally by the neutral code
    del sent[:]
    assert len(listed(cloud, {'status': ['RUNNING', 'STOPPED']})) == 20
    assert [b.get('instanceStatus') for s, a, b in sent] == [None, None]


def test_a_group_is_pushed_to_the_vm_service(emu):
    seed(emu, vm_fleet(10), zec_fleet(4))
    cloud = provider(emu)
    sent = bodies(cloud)
    got = cloud.list_instances({'security_group_id': SG_B})
    assert sorted((s, b.get('securityGroupId')) for s, a, b in sent) == [('vm', SG_B), ('zec', None)]
    vms = [i for i in got if i['kind'] == 'instance']
    assert [i['instance_id'] for i in vms] == [i for k, i in enumerate(vm_ids(10)) if k % 2]
    assert all(SG_B in i['security_group_ids'] for i in vms)


def test_a_zec_page_size_the_service_refuses_is_retried_at_100_with_a_warning(emu):
    seed(emu, [], zec_fleet(250), zec_max_page_size=100, zec_page_size_over_max='error')
    cloud = provider(emu)
    assert listed(cloud) == [('zec_instance', i) for i in zec_ids(250)]
    assert sorted(requests(emu)) == [('vm', 'DescribeInstances')] + [('zec', 'DescribeInstances')] * 4
    assert 'refused a zec DescribeInstances pageSize of 1000 (INVALID_PARAMETER' in cloud.warnings[0]


def test_a_zec_page_size_the_service_caps_is_followed_by_its_total(emu):
    seed(emu, [], zec_fleet(250), zec_max_page_size=100, zec_page_size_over_max='clamp')
    cloud = provider(emu)
    assert listed(cloud) == [('zec_instance', i) for i in zec_ids(250)]
    assert len(requests(emu)) == 1 + 3 and not cloud.warnings


@pytest.mark.parametrize('shown', ['null_when_none', 'absent'])
def test_tags_missing_from_the_answer_are_read_or_taken_as_none(emu, shown):
    seed(emu, vm_fleet(3), zec_fleet(2), describe_tags=shown)
    got = provider(emu).list_instances({})
    assert [i['tags'] for i in got] == [{'env': 'prod', 'role': 'web'}, {'env': 'dev'}, {'env': 'dev'},
                                        {'env': 'prod', 'role': 'web'}, {'env': 'dev'}]
    reads = [a for s, a in requests(emu) if a == 'DescribeResourceTags']
    assert len(reads) == (5 if shown == 'absent' else 0)


def test_an_error_names_the_call_and_code_and_a_throttle_is_retried(emu):
    seed(emu, vm_fleet(2), zec_fleet(1))
    emu.emulator.add_fault({'provider': 'zenlayer', 'action': 'DescribeInstances', 'kind': 'throttle'})
    assert len(listed(provider(emu))) == 3
    with pytest.raises(transport.ProviderError) as err:
        provider(emu, access_key_password='wrong').list_instances({})
    assert (err.value.action, err.value.code, err.value.error_class) == ('DescribeInstances', 'INVALID_SIGNATURE', transport.AUTH)


def test_ten_thousand_instances_of_each_service_take_ten_calls_each(emu):
    seed(emu, vm_fleet(10000), zec_fleet(10000))
    cloud = provider(emu)
    tracemalloc.start()
    began = time.monotonic()
    got = cloud.list_instances({})
    seconds = time.monotonic() - began
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(got) == 20000
    assert sorted(requests(emu)) == [('vm', 'DescribeInstances')] * 10 + [('zec', 'DescribeInstances')] * 10
    print('zenlayer: 10000 vm + 10000 zec instances, %d calls, %.2f s, peak %.1f MiB (emulator in-process)'
          % (len(requests(emu)), seconds, peak / 2.0 ** 20))
