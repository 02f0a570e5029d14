# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sg_binding_info with filters, or with neither IDs nor filters (issue 24): the region's instances listed. The real
provider classes against the emulator (security group names, tags' quarantine records), with a canned listing call, so
that the neutral side is tested apart from each cloud's listing (tested with each provider)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.module_utils import _generic as generic
from ansible_collections.multicloud.secgroup.plugins.module_utils._tencentcloud import TencentCloud
from ansible_collections.multicloud.secgroup.plugins.module_utils._zenlayer import ZenlayerCloud
from ansible_collections.multicloud.secgroup.plugins.modules import sg_binding_info

SECRET = 'Tc-Listing-Secret-Never-Shown'
ZL_SECRET = 'Zl-Listing-Password-Never-Shown'
SEED = {
    'tencentcloud': {'credentials': [{'access_key': 'AKIDlisting00001', 'secret_key': SECRET}],
                     'security_groups': [{'id': 'sg-0000000%d' % n, 'region': 'ap-guangzhou', 'name': 'group-%d' % n} for n in (1, 2, 3)],
                     'instances': [{'id': 'ins-0000000%d' % n, 'region': 'ap-guangzhou', 'status': 'RUNNING', 'vpc_id': 'vpc-00000001',
                                    'security_groups': ['sg-00000001']} for n in (1, 2)],
                     'network_interfaces': [{'id': 'eni-00000009', 'region': 'ap-guangzhou', 'vpc_id': 'vpc-00000001',
                                             'instance_id': 'ins-00000001', 'security_groups': ['sg-00000002']}]},
    'zenlayer': {'credentials': [{'access_key': 'AKID-ZL-LISTING', 'secret_key': ZL_SECRET}],
                 'security_groups': [{'id': '70000000000000000%d' % n, 'name': 'zl-group-%d' % n} for n in (1, 2)],
                 'instances': []},
}
TC = {'provider': 'tencentcloud', 'secret_id': 'AKIDlisting00001', 'secret_key': SECRET, 'region': 'ap-guangzhou',
      'retry_delay': 0.05}
ZL = {'provider': 'zenlayer', 'access_key_id': 'AKID-ZL-LISTING', 'access_key_password': ZL_SECRET, 'retry_delay': 0.05}
RECORD_TAGS = {'sg-quarantine': '2026-12-07T12:00:00+00:00'}


def listed(iid, name, groups, tags=None, status='RUNNING', kind='instance', interfaces=None):
    out = {'instance_id': iid, 'instance_name': name, 'status': status, 'vpc_id': 'vpc-00000001', 'private_ips': ['10.0.0.7'],
           'public_ips': [], 'tags': dict(tags or {}), 'security_group_ids': list(groups), 'region': 'ap-guangzhou', 'kind': kind}
    if interfaces is not None:
        out['network_interfaces'] = interfaces
    return out


LISTING = {
    'tencentcloud': [listed('ins-00000001', 'web-1', ['sg-00000001', 'sg-00000002'], {'role': 'web'}),
                     listed('ins-00000002', 'web-2', ['sg-00000001'], {'role': 'web'}, status='STOPPED'),
                     listed('ins-00000003', 'db-1', ['sg-00000003'], {'role': 'db'},
                            interfaces=[{'network_interface_id': 'eni-00000001', 'security_group_ids': ['sg-00000003']}])],
    'zenlayer': [listed('800000000000000001', 'zl-web', ['700000000000000001'], {'role': 'web'}),
                 listed('zec-0001', 'zl-zec', ['700000000000000002'], kind='zec_instance')],
}
SENT = []
WARNINGS = []


def fake(cls, taken):
    class Fake(cls):
        list_filters = taken

        def list_instances(self, filters):
            SENT.append((self.name, filters))
            self.warnings = list(WARNINGS)
            return copy.deepcopy(LISTING[self.name])
    return Fake


@pytest.fixture
def cloud(running, monkeypatch):
    running.emulator.reset()
    running.emulator.seed(SEED)
    providers = dict(generic.PROVIDERS, tencentcloud=fake(TencentCloud, ('tags',)), zenlayer=fake(ZenlayerCloud, ('status',)))
    monkeypatch.setattr(generic, 'PROVIDERS', providers)
    del SENT[:]
    return running


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            sg_binding_info.main()
    out = capsys.readouterr().out
    assert SECRET not in out and ZL_SECRET not in out
    return json.loads(out)


def test_neither_ids_nor_filters_lists_every_instance_of_the_region(cloud, capsys):
    result = run(dict(TC, endpoint=cloud.endpoints['tencentcloud']), capsys)
    assert not result.get('failed'), result
    assert SENT == [('tencentcloud', {})]
    assert [i['instance_id'] for i in result['instances']] == ['ins-00000001', 'ins-00000002', 'ins-00000003']
    first = result['instances'][0]
    assert first == {'instance_id': 'ins-00000001', 'security_group_ids': ['sg-00000001', 'sg-00000002'], 'status': 'RUNNING',
                     'instance_name': 'web-1', 'vpc_id': 'vpc-00000001', 'private_ips': ['10.0.0.7'], 'public_ips': [],
                     'tags': {'role': 'web'}, 'quarantine': None}
    assert result['instances'][2]['network_interfaces'] == [{'network_interface_id': 'eni-00000001', 'security_group_ids': ['sg-00000003']}]
    assert result['security_groups'] == [{'security_group_id': 'sg-00000001', 'name': 'group-1'},
                                         {'security_group_id': 'sg-00000002', 'name': 'group-2'},
                                         {'security_group_id': 'sg-00000003', 'name': 'group-3'}]
    assert result['missing'] == []


def test_filters_answer_which_instances_and_their_groups(cloud, capsys):
    result = run(dict(TC, endpoint=cloud.endpoints['tencentcloud'], filters={'tags': {'role': 'web'}, 'status': ['running']}), capsys)
    assert SENT == [('tencentcloud', {'tags': {'role': 'web'}})]          # status is applied locally on this cloud
    assert [(i['instance_id'], i['security_group_ids']) for i in result['instances']] == [('ins-00000001', ['sg-00000001', 'sg-00000002'])]
    assert [g['security_group_id'] for g in result['security_groups']] == ['sg-00000001', 'sg-00000002']


def test_filters_with_the_reverse_question(cloud, capsys):
    result = run(dict(TC, endpoint=cloud.endpoints['tencentcloud'], filters={'name': 'db-*'}, security_group_ids=['sg-00000002']),
                 capsys)
    assert [i['instance_id'] for i in result['instances']] == ['ins-00000003']
    assert result['bindings'] == [{'security_group_id': 'sg-00000002', 'instance_ids': []}]


def test_zenlayer_lists_zec_instances_apart(cloud, capsys):
    result = run(dict(ZL, endpoint=cloud.endpoints['zenlayer'], filters={'status': 'running'}), capsys)
    assert not result.get('failed'), result
    assert SENT == [('zenlayer', {'status': ['running']})]
    assert [i['instance_id'] for i in result['instances']] == ['800000000000000001']
    assert [i['zec_instance_id'] for i in result['zec_instances']] == ['zec-0001']
    assert 'instance_id' not in result['zec_instances'][0]
    assert [g['security_group_id'] for g in result['security_groups']] == ['700000000000000001', '700000000000000002']


def test_a_quarantine_record_in_the_tags_is_read(cloud, capsys, monkeypatch):
    with_record = copy.deepcopy(LISTING['tencentcloud'])
    with_record[0]['tags'].update(RECORD_TAGS)
    monkeypatch.setitem(LISTING, 'tencentcloud', with_record)
    result = run(dict(TC, endpoint=cloud.endpoints['tencentcloud'], filters={'name': 'web-1'}), capsys)
    assert result['instances'][0]['quarantine'] is None and 'quarantine_error' in result['instances'][0]


def test_the_providers_warnings_are_returned(cloud, capsys):
    WARNINGS.append('a page size was refused; listed 100 a page instead')
    try:
        result = run(dict(ZL, endpoint=cloud.endpoints['zenlayer']), capsys)
    finally:
        del WARNINGS[:]
    assert 'a page size was refused; listed 100 a page instead' in json.dumps(result['warnings'])


def test_interfaces_of_listed_instances(cloud, capsys):
    """interfaces: true: the listing's own network_interfaces where it gives them, else the provider's attached_interfaces."""
    result = run(dict(TC, endpoint=cloud.endpoints['tencentcloud'], filters={}, interfaces=True), capsys)
    assert not result.get('failed'), result
    by_id = dict((i['instance_id'], i.get('network_interfaces')) for i in result['instances'])
    assert by_id == {'ins-00000001': [{'network_interface_id': 'eni-00000009', 'security_group_ids': ['sg-00000002']}],
                     'ins-00000002': [],
                     'ins-00000003': [{'network_interface_id': 'eni-00000001', 'security_group_ids': ['sg-00000003']}]}


def test_an_empty_list_of_ids_is_still_an_empty_answer(cloud, capsys):
    result = run(dict(TC, endpoint=cloud.endpoints['tencentcloud'], instance_ids=[]), capsys)
    assert result['instances'] == [] and SENT == []


def test_security_group_ids_alone_is_still_the_reverse_question(cloud, capsys):
    result = run(dict(TC, endpoint=cloud.endpoints['tencentcloud'], security_group_ids=['sg-00000001']), capsys)
    assert SENT == [] and result['instances'] == []
    assert result['bindings'] == [{'security_group_id': 'sg-00000001', 'instance_ids': ['ins-00000001', 'ins-00000002']}]


@pytest.mark.parametrize('extra, message', [
    ({'filters': {'tags': {'role': 'web'}}, 'instance_ids': ['ins-00000001']},
     'filters selects instances by listing them, and instance_ids names them; give one or the other'),
    ({'filters': {'tags': {'tier': 1}}}, 'filters.tags.tier: 1 is a int, not text; quote it'),
    ({'filters': {'security_group_id': 'g-1'}},
     "filters.security_group_id: 'g-1' is not a valid Tencent Cloud security group ID; it must match " + TencentCloud.security_group_id_pattern),
])
def test_bad_filters_are_refused_before_any_request(cloud, capsys, extra, message):
    result = run(dict(TC, endpoint=cloud.endpoints['tencentcloud'], **extra), capsys)
    assert result['failed'] and result['msg'] == message
    assert SENT == []
    assert json.loads(_admin(cloud, '/requests?provider=tencentcloud'))['requests'] == []


def test_a_provider_that_cannot_list_says_so(running, capsys, monkeypatch):
    running.emulator.reset()
    running.emulator.seed(SEED)
    attrs = dict((k, v) for k, v in vars(TencentCloud).items() if k not in ('list_instances', 'list_filters', '__dict__', '__weakref__'))
    monkeypatch.setattr(generic, 'PROVIDERS', dict(generic.PROVIDERS, tencentcloud=type('TencentCloud', (), attrs)))
    result = run(dict(TC, endpoint=running.endpoints['tencentcloud']), capsys)
    assert result['failed'] and result['msg'] == ('Tencent Cloud (provider tencentcloud) cannot list its instances yet; give instance_ids '
                                                  '(or security_group_ids)')


def _admin(running, path):
    import urllib.request
    with urllib.request.urlopen(running.endpoints['admin'] + path, timeout=10) as resp:  # nosec - loopback only
        return resp.read().decode('utf-8')
