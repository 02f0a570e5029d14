# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_listing: filters checked before any request (naming option, value and rule), only a provider's own filters sent,
and every filter applied again, with the same meaning pushed or local."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.multicloud.secgroup.plugins.module_utils import _listing as listing
from ansible_collections.multicloud.secgroup.plugins.module_utils._tencentcloud import TencentCloud


class Pushing:
    """A provider whose listing takes tags and name server-side, and applies them loosely (a name as a substring, as
    some clouds do): what it was sent is recorded."""

    name = 'fake'
    display_name = 'Fake Cloud'
    security_group_id_pattern = r'sg-[0-9a-z]{8}'
    list_filters = ('tags', 'name')

    def __init__(self, instances):
        self.instances = instances
        self.sent = []

    def list_instances(self, filters):
        self.sent.append(filters)
        name = filters.get('name')
        return [i for i in self.instances if name is None or name in i['instance_name']]


def instance(iid, name='web-1', status='RUNNING', vpc='vpc-1', groups=('sg-00000001',), tags=None):
    return {'instance_id': iid, 'instance_name': name, 'status': status, 'vpc_id': vpc, 'private_ips': ['10.0.0.1'],
            'public_ips': [], 'tags': dict(tags or {}), 'security_group_ids': list(groups), 'region': 'r', 'kind': 'instance'}


FLEET = [
    instance('i-1', 'web-1', tags={'role': 'web', 'env': 'prod'}),
    instance('i-2', 'web-10', status='Stopped', tags={'role': 'web'}),
    instance('i-3', 'db-1', vpc='vpc-2', groups=('sg-00000002',), tags={'role': 'db', 'env': ''}),
    instance('i-4', 'Web-1', tags={}),
]


def ids(found):
    return [i['instance_id'] for i in found]


@pytest.mark.parametrize('filters, expected', [
    ({}, ['i-1', 'i-2', 'i-3', 'i-4']),
    ({'tags': {'role': 'web'}}, ['i-1', 'i-2']),
    ({'tags': {'role': 'web', 'env': 'prod'}}, ['i-1']),
    ({'tags': {'env': None}}, ['i-1', 'i-3']),
    ({'name': 'web-1'}, ['i-1']),                       # exact: not web-10, not Web-1
    ({'name': 'web-*'}, ['i-1', 'i-2']),                # a pattern, case-sensitive
    ({'name': '[wW]eb-1'}, ['i-1', 'i-4']),
    ({'status': ['running']}, ['i-1', 'i-3', 'i-4']),   # without regard to case
    ({'status': ['STOPPED', 'RUNNING']}, ['i-1', 'i-2', 'i-3', 'i-4']),
    ({'vpc_id': 'vpc-2'}, ['i-3']),
    ({'security_group_id': 'sg-00000002'}, ['i-3']),
    ({'tags': {'role': 'web'}, 'status': ['RUNNING']}, ['i-1']),
])
def test_every_filter_is_applied_with_one_meaning(filters, expected):
    provider = Pushing(FLEET)
    checked = listing.check_filters(filters, Pushing)
    assert ids(listing.list_instances(provider, checked)) == expected


def test_only_the_providers_own_filters_are_sent_and_a_pattern_never():
    provider = Pushing(FLEET)
    filters = listing.check_filters({'tags': {'role': 'web'}, 'name': 'web-1', 'status': 'RUNNING', 'vpc_id': 'vpc-1'}, Pushing)
    assert ids(listing.list_instances(provider, filters)) == ['i-1']
    assert provider.sent == [{'tags': {'role': 'web'}, 'name': 'web-1'}]
    assert listing.local(filters, Pushing) == ['status', 'vpc_id']
    pattern = listing.check_filters({'name': 'web-*'}, Pushing)
    listing.list_instances(provider, pattern)
    assert provider.sent[-1] == {}
    assert listing.local(pattern, Pushing) == ['name']


def test_a_loose_server_side_match_is_narrowed():
    """The cloud answers web-10 for name web-1 (a substring match): it is not kept."""
    provider = Pushing(FLEET)
    assert ids(listing.list_instances(provider, {'name': 'web-1'})) == ['i-1']


def test_a_provider_without_list_filters_gets_none():
    assert listing.pushed({'tags': {'a': 'b'}, 'status': ['RUNNING']}, type('Bare', (), {})) == {}


def test_a_provider_without_a_listing_call_is_named():
    bare = type('Bare', (), {'name': 'bare', 'display_name': 'Bare Cloud'})()
    with pytest.raises(listing.ListingUnsupported, match=r'^Bare Cloud \(provider bare\) cannot list its instances yet$'):
        listing.list_instances(bare, {})


@pytest.mark.parametrize('filters, message', [
    ('role=web', "filters: 'role=web' is a str; give a mapping of tags, name, status, vpc_id, security_group_id"),
    ({'label': 'x', 'zone': 'y'}, 'filters: label, zone: not a filter; the filters are tags, name, status, vpc_id, security_group_id'),
    ({'tags': ['role=web']}, "filters.tags: ['role=web'] is a list; give a mapping of tag key to value (null for any value)"),
    ({'tags': {'tier': 1}}, 'filters.tags.tier: 1 is a int, not text; quote it'),
    ({'tags': {'role': ''}}, 'filters.tags.role: an empty string matches nothing; give a value or leave the filter out'),
    ({'name': 'a\nb'}, "filters.name: 'a\\nb' is longer than 1024 characters or has control characters such as a newline"),
    ({'status': []}, 'filters.status: []; give a status or a non-empty list of statuses'),
    ({'status': ['RUNNING', 3]}, 'filters.status[1]: 3 is a int, not text; quote it'),
    ({'security_group_id': 'web'}, "filters.security_group_id: 'web' is not a valid Tencent Cloud security group ID; it must match "
                                   + TencentCloud.security_group_id_pattern),
])
def test_bad_filters_are_refused_naming_option_value_and_rule(filters, message):
    with pytest.raises(listing.FilterError) as caught:
        listing.check_filters(filters, TencentCloud)
    assert str(caught.value) == message


def test_filters_are_normalised():
    assert listing.check_filters(None, TencentCloud) == {}
    assert listing.check_filters({'status': 'RUNNING', 'name': None, 'tags': {'a': None}}, TencentCloud) == {
        'status': ['RUNNING'], 'tags': {'a': None}}
