# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The binding modules' quarantined option (skip | change) with an in-memory provider that reads tags."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.common import warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _quarantine_record as qr

LIMITS = qr.TagLimits(127, 255, 50, r'[A-Za-z0-9 +\-=._:/@]', r'[A-Za-z0-9 +\-=._:/@]', ())
INSTANCES = planner.TargetKind('instance_ids', 'instances', 'instance_id', r'i-[a-z0-9]{4}', 'instance')
INTERFACES = planner.TargetKind('network_interface_ids', 'network_interfaces', 'network_interface_id', r'eni-[a-z0-9]{4}', 'network interface')


def record_tags(iid):
    return qr.encode({'instance_id': iid, 'security_group_ids': ['sg-0001'], 'quarantine_group_ids': ['sg-0009'],
                      'isolated_at': '2026-12-07T12:00:00+00:00', 'reason': 'INC-1'}, LIMITS)


class TaggedProvider:
    """Instances and interfaces in dicts; the instances' tags come with their read, like on every cloud."""

    name = 'memory'
    display_name = 'Memory Cloud'
    constraints = planner.Constraints(min_groups=1, max_groups=3, batch_size=5)
    target_kinds = (INSTANCES, INTERFACES)
    security_group_id_pattern = r'sg-[a-z0-9]{4}'
    rate_limits = {}
    default_rate_limit = None
    completion = 'sync'
    argument_spec = dict(secret=dict(type='str', no_log=True, required=True))
    tag_limits = LIMITS
    cloud = {}
    instance_tags = {}
    owners = {}
    calls = []

    def __init__(self, params, conn):
        self.transport = conn
        self.kind = planner.chosen_kind(self.target_kinds, params)
        self.tags = {}

    @classmethod
    def secrets(cls, params):
        return [params.get('secret')]

    def read(self, ids):
        self.calls.append(('read', self.kind.option, tuple(ids)))
        found = dict((i, list(self.cloud[i])) for i in ids if i in self.cloud and i.startswith('i-' if self.kind is INSTANCES else 'eni-'))
        if self.kind is INSTANCES:
            self.tags = dict((i, dict(self.instance_tags.get(i, {}))) for i in found)
        return found, [i for i in ids if i not in found]

    def interface_owner(self, ids):
        self.calls.append(('interface_owner', tuple(ids)))
        return dict((i, self.owners.get(i)) for i in ids)

    def missing_security_groups(self, sg_ids):
        return []

    def apply(self, op):
        self.calls.append((op['action'], tuple(op['security_group_ids']), tuple(op['target_ids'])))
        for tid in op['target_ids']:
            self.cloud[tid] = planner.apply_operation(self.cloud[tid], op)
        return ['req-1']


class UntaggedProvider(TaggedProvider):
    """A cloud whose tags the module does not read."""

    def read(self, ids):
        found, missing = TaggedProvider.read(self, ids)
        del self.tags
        return found, missing


@pytest.fixture
def cloud():
    TaggedProvider.cloud = {'i-aaaa': ['sg-0001'], 'i-bbbb': ['sg-0009'], 'i-cccc': ['sg-0001'],
                            'eni-aaaa': ['sg-0001'], 'eni-bbbb': ['sg-0009'], 'eni-cccc': ['sg-0001']}
    TaggedProvider.instance_tags = {'i-aaaa': {'Name': 'web1'}, 'i-bbbb': dict(record_tags('i-bbbb'), Name='web2')}
    TaggedProvider.owners = {'eni-aaaa': 'i-aaaa', 'eni-bbbb': 'i-bbbb', 'eni-cccc': None}
    TaggedProvider.calls = []
    return TaggedProvider


def run(args, capsys, check_mode=False, provider=TaggedProvider):
    # ansible-core keeps the warnings of every module run in the process: only this run's are wanted.
    warnings._global_warnings.clear()  # pylint: disable=protected-access
    args = dict(dict(secret='s3cr3t-value'), **args)
    args.update(_ansible_check_mode=check_mode, _ansible_diff=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            engine.run_module(provider)
    return json.loads(capsys.readouterr().out)


def writes(calls):
    return [c for c in calls if c[0] in ('bind', 'unbind', 'set')]


@pytest.mark.parametrize('check_mode', [False, True])
def test_a_quarantined_instance_is_left_alone_by_default_and_named_once(cloud, capsys, check_mode):
    result = run(dict(instance_ids=['i-aaaa', 'i-bbbb', 'i-cccc'], security_group_ids=['sg-0002'], purge=True), capsys,
                 check_mode=check_mode)
    assert result['quarantined'] == ['i-bbbb']
    assert [t['instance_id'] for t in result['instances']] == ['i-aaaa', 'i-cccc']
    assert 'i-bbbb' not in result['diff']['before'] and all('i-bbbb' not in op['instance_ids'] for op in result['operations'])
    warnings = json.dumps(result['warnings'])
    assert warnings.count('quarantine record') == 1
    assert ('instance(s) i-bbbb: quarantined (a quarantine record, tags sg-quarantine*, on it); left as they are '
            '(quarantined=skip; quarantined=change changes them)') in warnings
    assert writes(cloud.calls) == ([] if check_mode else [('bind', ('sg-0002',), ('i-aaaa', 'i-cccc')),
                                                          ('unbind', ('sg-0001',), ('i-aaaa', 'i-cccc'))])
    assert cloud.cloud['i-bbbb'] == ['sg-0009']
    # The tags came with the one read: no other call.
    assert [c for c in cloud.calls if c[0] == 'read'][0] == ('read', 'instance_ids', ('i-aaaa', 'i-bbbb', 'i-cccc'))


def test_quarantined_change_changes_them_like_the_others(cloud, capsys):
    result = run(dict(instance_ids=['i-aaaa', 'i-bbbb'], security_group_ids=['sg-0002'], purge=True, quarantined='change'), capsys)
    assert result['quarantined'] == [] and result['changed']
    assert cloud.cloud['i-bbbb'] == ['sg-0002'] and 'quarantine' not in json.dumps(result.get('warnings', []))


def test_an_unreadable_record_still_marks_the_instance_quarantined(cloud, capsys):
    damaged = record_tags('i-aaaa')
    del damaged['sg-quarantine-1']
    cloud.instance_tags['i-aaaa'] = damaged
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0002']), capsys)
    assert result['quarantined'] == ['i-aaaa'] and not result['changed'] and writes(cloud.calls) == []


def test_an_interface_whose_instance_is_quarantined_is_left_alone(cloud, capsys):
    result = run(dict(network_interface_ids=['eni-aaaa', 'eni-bbbb', 'eni-cccc'], security_group_ids=['sg-0002']), capsys)
    assert result['quarantined'] == ['eni-bbbb']
    assert [t['network_interface_id'] for t in result['network_interfaces']] == ['eni-aaaa', 'eni-cccc']
    assert 'network interface(s) eni-bbbb (instance i-bbbb): quarantined (a quarantine record, tags sg-quarantine*, on the instance ' \
           'it belongs to)' in json.dumps(result['warnings'])
    # One more read: the owners, by the owner kind, the detached interface's (None) left out.
    reads = [c for c in cloud.calls if c[0] in ('read', 'interface_owner')]
    assert reads[:3] == [('read', 'network_interface_ids', ('eni-aaaa', 'eni-bbbb', 'eni-cccc')),
                         ('interface_owner', ('eni-aaaa', 'eni-bbbb', 'eni-cccc')),
                         ('read', 'instance_ids', ('i-aaaa', 'i-bbbb'))]
    assert cloud.cloud['eni-bbbb'] == ['sg-0009'] and cloud.cloud['eni-aaaa'] == ['sg-0001', 'sg-0002']


def test_interfaces_without_instances_cost_no_extra_read(cloud, capsys):
    result = run(dict(network_interface_ids=['eni-cccc'], security_group_ids=['sg-0002']), capsys)
    assert result['quarantined'] == []
    # The owners are asked, none has one: no read of instances.
    first = [c[:2] for c in cloud.calls if c[0] in ('read', 'interface_owner')][:2]
    assert first == [('read', 'network_interface_ids'), ('interface_owner', ('eni-cccc',))]
    assert not [c for c in cloud.calls if c[1] == 'instance_ids']


def test_quarantined_change_reads_no_owner(cloud, capsys):
    run(dict(network_interface_ids=['eni-bbbb'], security_group_ids=['sg-0002'], quarantined='change'), capsys)
    assert not [c for c in cloud.calls if c[0] == 'interface_owner' or c[1] == 'instance_ids']


def test_a_provider_that_reads_no_tags_never_reports_a_quarantine(cloud, capsys):
    result = run(dict(instance_ids=['i-bbbb'], security_group_ids=['sg-0002']), capsys, provider=UntaggedProvider)
    assert result['quarantined'] == [] and result['changed']


ZEC_INSTANCES = planner.TargetKind('zec_instance_ids', 'zec_instances', 'zec_instance_id', r'z-[a-z0-9]{4}', 'zec instance')


class OwnerKindProvider(TaggedProvider):
    """Interfaces owned by another kind than instance_ids (Zenlayer's zec vNICs by zec instances)."""

    target_kinds = (INSTANCES, INTERFACES, ZEC_INSTANCES)
    owner_kinds = {'network_interface_ids': 'zec_instance_ids'}

    def read(self, ids):
        self.calls.append(('read', self.kind.option, tuple(ids)))
        found = dict((i, list(self.cloud[i])) for i in ids if i in self.cloud)
        self.tags = dict((i, dict(self.instance_tags.get(i, {}))) for i in found) if self.kind is ZEC_INSTANCES else {}
        return found, [i for i in ids if i not in found]


def test_an_interfaces_owner_is_read_as_the_kind_the_provider_names(cloud, capsys):
    cloud.cloud['z-bbbb'] = ['sg-0009']
    cloud.instance_tags['z-bbbb'] = record_tags('z-bbbb')
    cloud.owners = {'eni-aaaa': None, 'eni-bbbb': 'z-bbbb'}
    result = run(dict(network_interface_ids=['eni-aaaa', 'eni-bbbb'], security_group_ids=['sg-0002']), capsys, provider=OwnerKindProvider)
    assert result['quarantined'] == ['eni-bbbb']
    assert ('read', 'zec_instance_ids', ('z-bbbb',)) in cloud.calls
    assert 'network interface(s) eni-bbbb (zec instance z-bbbb)' in json.dumps(result['warnings'])


def test_quarantined_is_an_option_of_every_binding_module_and_refused_when_odd(cloud, capsys):
    assert engine.argument_spec(TaggedProvider)['quarantined'] == dict(type='str', default='skip', choices=['skip', 'change'])
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0002'], quarantined='ignore'), capsys)
    assert result['failed'] and 'quarantined' in result['msg'] and cloud.calls == []
