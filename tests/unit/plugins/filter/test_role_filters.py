# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' filters: their inputs checked before any module call, errors naming the host and variable to fix."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import os

import pytest
import yaml

from ansible.module_utils import _internal as module_internal

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
HOSTVARS = {
    'web-1': {'cloud': 'tencentcloud', 'cloud_region': 'ap-guangzhou', 'instance_id': 'ins-00000001',
              'sg_bindings_wanted_group_ids': ['sg-00000001'], 'security_group_ids': ['sg-00000009']},
    'web-2': {'cloud': 'tencentcloud', 'cloud_region': 'ap-guangzhou', 'instance_id': 'ins-00000002',
              'sg_bindings_wanted_group_ids': 'sg-00000001, sg-00000002'},
    'web-3': {'cloud': 'tencent', 'cloud_region': 'ap-guangzhou', 'instance_id': 'ins-00000003'},
    'db-1': {'cloud': 'tencentcloud', 'instance_id': 'ins-00000004'},
    'db-2': {'cloud': 'baiducloud', 'cloud_region': 'bj'},
    'zl-1': {'cloud': 'zenlayer', 'instance_id': '800000000000000001', 'cloud_region': 'ignored'},
}


# Set by the fixture below: the filters are controller code, imported only while these tests run.
AnsibleFilterError = sg_binding_batches = sg_binding_summary = sg_quarantine_plan = role_inputs = None


@pytest.fixture(autouse=True, scope='module')
def controller_code():
    """Importing controller code (ansible.errors) marks the process as the controller for good, after which module
    warnings go to the display instead of the module's result: put the flag back for the module tests run later."""
    global AnsibleFilterError, sg_binding_batches, sg_binding_summary, sg_quarantine_plan, role_inputs  # pylint: disable=global-statement
    was_controller = module_internal.is_controller
    AnsibleFilterError = importlib.import_module('ansible.errors').AnsibleFilterError
    prefix = 'ansible_collections.multicloud.secgroup.plugins.'
    sg_binding_batches = importlib.import_module(prefix + 'filter.sg_binding_batches').sg_binding_batches
    sg_binding_summary = importlib.import_module(prefix + 'filter.sg_binding_summary').sg_binding_summary
    sg_quarantine_plan = importlib.import_module(prefix + 'filter.sg_quarantine_plan').sg_quarantine_plan
    role_inputs = importlib.import_module(prefix + 'plugin_utils._role_inputs')
    yield
    module_internal.is_controller = was_controller


def batches(hosts, **kwargs):
    return sg_binding_batches([], hosts=hosts, hostvars=HOSTVARS, variable_prefix='sg_bindings_', **kwargs)


def test_the_wanted_groups_come_from_the_role_prefixed_variable_never_from_security_group_ids():
    assert batches(['web-1', 'web-2']) == [
        {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_ids': ['ins-00000001'], 'security_group_ids': ['sg-00000001'],
         'state': 'present', 'purge': False},
        {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_ids': ['ins-00000002'],
         'security_group_ids': ['sg-00000001', 'sg-00000002'], 'state': 'present', 'purge': False}]


@pytest.mark.parametrize('hosts', ['web-1,web-2', 'web-1, web-2', ['web-1', 'web-2']])
def test_hosts_given_as_text_are_host_names_not_characters(hosts):
    assert [b['instance_ids'] for b in batches(hosts)] == [['ins-00000001'], ['ins-00000002']]


@pytest.mark.parametrize('host,message', [
    ('web-3', "host web-3: cloud 'tencent' is not one of tencentcloud, alicloud, baiducloud, zenlayer (variable cloud)"),
    ('db-1', 'host db-1: cloud_region is not set (cloud tencentcloud needs a region)'),
    ('db-2', 'host db-2: instance_id is not set'),
    ('g', "sg_bindings_hosts: 'g' is not an inventory host"),
])
def test_a_bad_host_is_named_with_the_variable_to_fix(host, message, monkeypatch):
    monkeypatch.delenv('TENCENTCLOUD_REGION', raising=False)
    with pytest.raises(AnsibleFilterError) as caught:
        batches([host])
    assert str(caught.value) == message
    with pytest.raises(AnsibleFilterError) as caught:
        sg_quarantine_plan([], 'read', {}, {}, '/tmp/r', hosts=[host], hostvars=HOSTVARS, variable_prefix='sg_quarantine_')
    assert str(caught.value) == message.replace('sg_bindings_', 'sg_quarantine_')


def test_a_host_without_region_is_accepted_when_the_cloud_gets_one_elsewhere(monkeypatch):
    monkeypatch.delenv('TENCENTCLOUD_REGION', raising=False)
    assert batches(['db-1'], options={'tencentcloud': {'region': 'ap-shanghai'}})[0].get('region') is None
    monkeypatch.setenv('TENCENTCLOUD_REGION', 'ap-shanghai')
    assert batches(['db-1'])[0].get('region') is None


def test_a_cloud_without_regions_gets_none_whatever_the_host_says():
    assert 'region' not in batches(['zl-1'])[0]


@pytest.mark.parametrize('options,message', [
    ({'tencent': {}}, "sg_bindings_options: 'tencent' is not one of tencentcloud, alicloud, baiducloud, zenlayer"),
    ({'tencentcloud': {'endpiont': 'http://x'}}, 'sg_bindings_options.tencentcloud: endpiont is not an option of multicloud.secgroup.sg_binding'),
    ({'tencentcloud': 'x'}, 'sg_bindings_options.tencentcloud: expected a mapping of module options, got str'),
])
def test_per_cloud_options_are_checked_by_name(options, message):
    with pytest.raises(AnsibleFilterError) as caught:
        batches(['web-1'], options=options)
    assert str(caught.value) == message


def test_text_lists_and_booleans_from_extra_vars():
    assert sg_binding_batches('', hosts='', hostvars=HOSTVARS, security_group_ids='sg-1,sg-2', purge='false') == []
    out = batches('web-1', groups_var='unset', security_group_ids='sg-00000003,sg-00000004', purge='true')
    assert out[0]['security_group_ids'] == ['sg-00000003', 'sg-00000004'] and out[0]['purge'] is True
    assert batches(['web-1'], purge='false')[0]['purge'] is False     # bool('false') would purge
    with pytest.raises(AnsibleFilterError) as caught:
        batches(['web-1'], purge='maybe')
    assert str(caught.value) == "sg_bindings_purge: 'maybe' is not a boolean (true or false)"
    with pytest.raises(AnsibleFilterError) as caught:
        batches({'web-1': 1})
    assert str(caught.value).startswith('sg_bindings_hosts: expected a list (or text of items separated by commas), got dict')


def test_quarantine_groups_as_survey_text_and_targets_checked():
    targets = [{'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-00000001'}]
    current = {'results': [{'item': {'provider': 'tencentcloud'},
                            'instances': [{'instance_id': 'ins-00000001', 'security_group_ids': ['sg-00000001']}]}]}
    plan = sg_quarantine_plan(targets, 'isolate', {}, current, '/tmp/r', quarantine_group_ids='{tencentcloud: [sg-quar0001]}')
    assert plan['batches'][0]['security_group_ids'] == ['sg-quar0001']
    with pytest.raises(AnsibleFilterError) as caught:
        sg_quarantine_plan('ins-1', 'isolate', {}, current, '/tmp/r', variable_prefix='sg_quarantine_')
    assert str(caught.value).startswith("sg_quarantine_targets[0]: expected a mapping with provider and instance_id (or zec_instance_id), got 'ins-1'")
    with pytest.raises(AnsibleFilterError) as caught:
        sg_quarantine_plan(targets, 'isolate', {}, current, '/tmp/r', quarantine_group_ids='[a', variable_prefix='sg_quarantine_')
    assert str(caught.value).startswith("sg_quarantine_group_ids: '[a' is not YAML or JSON")


def test_the_summary_lists_skipped_targets_per_cloud():
    registered = {'results': [{
        'item': {'provider': 'tencentcloud', 'instance_ids': ['ins-1', 'ins-2', 'ins-3', 'ins-4'], 'security_group_ids': ['sg-1'],
                 'state': 'present', 'purge': False},
        'changed': True, 'missing_instance_ids': ['ins-2'], 'refused_instance_ids': ['ins-3'],
        'instances': [{'instance_id': 'ins-1', 'before': [], 'after': ['sg-1']},
                      {'instance_id': 'ins-4', 'before': ['sg-1'], 'after': ['sg-1']}]}]}
    assert sg_binding_summary(registered) == {'tencentcloud': {
        'changed': 1, 'unchanged': 1, 'skipped': 2, 'failed': 0, 'failures': [], 'missing': ['ins-2'], 'refused': ['ins-3'],
        'quarantined': []}}


def test_zec_entries_are_batched_by_target_kind():
    """The batches tests/unit/plugins/modules/test_zenlayer_zec.py applies to the emulator."""
    nics = ['nic-%08d' % n for n in range(4)]
    entries = [{'provider': 'zenlayer', 'network_interface_ids': nics[1:3], 'security_group_ids': ['sg-new'], 'purge': True},
               {'provider': 'zenlayer', 'network_interface_ids': nics[3:], 'security_group_ids': ['sg-new'], 'purge': True},
               {'provider': 'zenlayer', 'zec_instance_ids': ['zec-00000'], 'security_group_ids': ['sg-new'], 'purge': True}]
    assert sg_binding_batches(entries) == [
        {'provider': 'zenlayer', 'network_interface_ids': nics[1:], 'security_group_ids': ['sg-new'], 'state': 'present', 'purge': True},
        {'provider': 'zenlayer', 'zec_instance_ids': ['zec-00000'], 'security_group_ids': ['sg-new'], 'state': 'present', 'purge': True}]


def test_quarantined_is_not_a_per_cloud_option_of_the_roles():
    with pytest.raises(AnsibleFilterError, match='sg_bindings_options.tencentcloud: quarantined is not taken here: set sg_bindings_include_quarantined'):
        batches(['web-1'], options={'tencentcloud': {'quarantined': 'change'}})
    with pytest.raises(AnsibleFilterError, match='sg_quarantine_options.tencentcloud: quarantined is not taken here'):
        sg_quarantine_plan([dict(TC, instance_id='ins-1')], 'read', {}, {}, '/tmp/r', options={'tencentcloud': {'quarantined': 'skip'}},
                           variable_prefix='sg_quarantine_')


def test_the_quarantine_refuses_options_that_would_skip_an_instance():
    with pytest.raises(AnsibleFilterError, match='on_refused is not taken here: an instance that cannot be isolated fails the run'):
        role_inputs.check_options({'tencentcloud': {'on_refused': 'skip'}}, 'sg_quarantine_options', importlib.import_module(
            'ansible_collections.multicloud.secgroup.plugins.filter.sg_quarantine_plan').QUARANTINE_REFUSED_OPTIONS)


def test_the_role_module_tasks_pass_every_option_of_the_module_by_name():
    """The roles name each module option (no templated args); one the module gains must be added to the tasks."""
    passed = {}
    for role in ('sg_bindings', 'sg_quarantine'):
        tasks = os.path.join(ROOT, 'roles', role, 'tasks')
        for name in sorted(os.listdir(tasks)):
            with open(os.path.join(tasks, name), encoding='utf-8') as handle:
                loaded = yaml.safe_load(handle)
            for task in loaded:
                for module in ('multicloud.secgroup.sg_binding', 'multicloud.secgroup.sg_binding_info',
                               'multicloud.secgroup.sg_quarantine_record'):
                    if module in task:
                        assert isinstance(task[module], dict), task['name']
                        passed.setdefault((role, module), set()).update(task[module])
    binding = set(role_inputs.BINDING_OPTIONS)
    assert binding <= passed[('sg_bindings', 'multicloud.secgroup.sg_binding')]
    # The quarantine changes instances, zec instances and their interfaces, and never skips one.
    assert binding - set(['allow_no_groups', 'on_missing', 'on_refused']) <= passed[
        ('sg_quarantine', 'multicloud.secgroup.sg_binding')]
    generic = role_inputs.generic
    # filters selects instances by listing them; the quarantine reads the instances (and zec instances) it is given, by ID.
    info = set(generic.union_spec(generic.info_spec)) - set(['network_interface_ids', 'security_group_ids', 'filters'])
    assert info <= passed[('sg_quarantine', 'multicloud.secgroup.sg_binding_info')]
    assert set(generic.union_spec(generic.record_spec)) <= passed[('sg_quarantine', 'multicloud.secgroup.sg_quarantine_record')]


# The quarantine plan: targets, the two stores, interfaces, the flush phase.

TC = {'provider': 'tencentcloud', 'region': 'ap-guangzhou'}
GROUPS = {'compromised': ['web-1', 'web-2'], 'empty': [], 'all': ['web-1', 'web-2', 'web-3', 'db-1', 'db-2', 'zl-1']}


def read_result(*items, **kwargs):
    """A registered loop of sg_binding_info calls on Tencent Cloud, one instance item each."""
    return {'results': [{'item': {'provider': kwargs.get('provider', 'tencentcloud')}, kwargs.get('key', 'instances'): list(items)}]}


def instance(iid, groups, nics=None, quarantine=None):
    item = {'instance_id': iid, 'security_group_ids': groups}
    if nics is not None:
        item['network_interfaces'] = [{'network_interface_id': nic, 'security_group_ids': sgs} for nic, sgs in nics]
    if quarantine is not None:
        item['quarantine'] = quarantine or None
    return item


@pytest.mark.parametrize('targets,hosts,message', [
    ([], [], "sg_quarantine: no instance to isolate: sg_quarantine_targets is empty and sg_quarantine_hosts is empty; nothing was done"),
    (None, '', "sg_quarantine: no instance to isolate: sg_quarantine_targets is empty and sg_quarantine_hosts is empty; nothing was done"),
    ([], 'compromized', "sg_quarantine_hosts: 'compromized' is not an inventory host or group"),
    ([], 'web-1,empty', "sg_quarantine_hosts: inventory group 'empty' has no hosts"),
])
def test_an_empty_or_unresolvable_target_fails_before_any_call_naming_what_was_given(targets, hosts, message):
    with pytest.raises(AnsibleFilterError) as caught:
        sg_quarantine_plan(targets, 'read', {}, {}, '/tmp/r', hosts=hosts, hostvars=HOSTVARS, groups=GROUPS,
                           variable_prefix='sg_quarantine_', then='isolate')
    assert str(caught.value) == message


@pytest.mark.parametrize('hosts', ['compromised', 'compromised, web-1', ['compromised']])
def test_a_group_stands_for_its_hosts_once_each_and_text_is_names_never_characters(hosts):
    read = sg_quarantine_plan([], 'read', {}, {}, '/tmp/r', hosts=hosts, hostvars=HOSTVARS, groups=GROUPS, variable_prefix='sg_quarantine_')
    assert [dict((k, v) for k, v in r.items() if k != 'interfaces') for r in read['reads']] == [dict(TC, instance_ids=['ins-00000001', 'ins-00000002'])]


def test_isolate_records_every_interface_in_order_and_changes_each():
    current = read_result(instance('ins-1', ['sg-b', 'sg-a'], nics=[('eni-2', ['sg-c']), ('eni-1', ['sg-a', 'sg-c'])]))
    plan = sg_quarantine_plan([dict(TC, instance_id='ins-1')], 'isolate', {}, current, '/tmp/r',
                              quarantine_group_ids={'tencentcloud': ['sg-q']}, now='2026-12-07T12:00:00+00:00', reason='INC-7')
    assert plan['write'] == [{'path': '/tmp/r/tencentcloud_ap-guangzhou_ins-1.json', 'record': {
        'instance_id': 'ins-1', 'security_group_ids': ['sg-b', 'sg-a'],
        'network_interfaces': [{'network_interface_id': 'eni-2', 'security_group_ids': ['sg-c']},
                               {'network_interface_id': 'eni-1', 'security_group_ids': ['sg-a', 'sg-c']}],
        'quarantine_group_ids': ['sg-q'], 'isolated_at': '2026-12-07T12:00:00+00:00', 'reason': 'INC-7',
        'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'restored': False}}]
    assert plan['batches'] == [
        dict(TC, instance_ids=['ins-1'], security_group_ids=['sg-q'], state='present', purge=True),
        dict(TC, network_interface_ids=['eni-2', 'eni-1'], security_group_ids=['sg-q'], state='present', purge=True)]
    assert plan['owners'] == {'ins-1': 'ins-1', 'eni-2': 'ins-1', 'eni-1': 'ins-1'}
    assert plan['flush'] == [] and plan['tag_writes'] == []


def test_restore_puts_every_interface_back_and_names_what_it_overwrites():
    record = {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-1', 'security_group_ids': ['sg-b', 'sg-a'],
              'network_interfaces': [{'network_interface_id': 'eni-2', 'security_group_ids': ['sg-c']},
                                     {'network_interface_id': 'eni-1', 'security_group_ids': ['sg-a', 'sg-c']}],
              'quarantine_group_ids': ['sg-q'], 'restored': False}
    current = read_result(instance('ins-1', ['sg-q'], nics=[('eni-2', ['sg-q', 'sg-x']), ('eni-1', ['sg-f'])]))
    plan = sg_quarantine_plan([dict(TC, instance_id='ins-1')], 'restore', {'/tmp/r/tencentcloud_ap-guangzhou_ins-1.json': record},
                              current, '/tmp/r', flush_group_ids={'tencentcloud': ['sg-f']}, now='t')
    assert plan['batches'] == [
        dict(TC, instance_ids=['ins-1'], security_group_ids=['sg-b', 'sg-a'], state='present', purge=True),
        dict(TC, network_interface_ids=['eni-2'], security_group_ids=['sg-c'], state='present', purge=True),
        dict(TC, network_interface_ids=['eni-1'], security_group_ids=['sg-a', 'sg-c'], state='present', purge=True)]
    # The flush groups are a state the role itself leaves (a run stopped between the phases): not overwritten.
    assert plan['overwritten'] == {'eni-2': ['sg-q', 'sg-x']}
    assert plan['write'][0]['record']['restored'] is True


def test_the_flush_phase_comes_first_for_new_records_only():
    current = read_result(instance('ins-1', ['sg-a'], nics=[('eni-1', ['sg-b'])]), instance('ins-2', ['sg-q'], nics=[]))
    kept = {'/tmp/r/tencentcloud_ap-guangzhou_ins-2.json': {'provider': 'tencentcloud', 'instance_id': 'ins-2', 'security_group_ids': ['sg-a'],
                                                            'network_interfaces': [], 'quarantine_group_ids': ['sg-q'], 'restored': False}}
    plan = sg_quarantine_plan([dict(TC, instance_id='ins-1'), dict(TC, instance_id='ins-2')], 'isolate', kept, current, '/tmp/r',
                              quarantine_group_ids={'tencentcloud': ['sg-q']}, flush_group_ids='{tencentcloud: [sg-f]}', flush_seconds='30')
    assert plan['kept'] == ['ins-2'] and [w['record']['instance_id'] for w in plan['write']] == ['ins-1']
    assert plan['flush'] == [dict(TC, instance_ids=['ins-1'], security_group_ids=['sg-f'], state='present', purge=True),
                             dict(TC, network_interface_ids=['eni-1'], security_group_ids=['sg-f'], state='present', purge=True)]
    assert [b.get('instance_ids') or b.get('network_interface_ids') for b in plan['batches']] == [['ins-1'], ['eni-1'], ['ins-2']]
    assert plan['flush_seconds'] == 30
    for bad, message in (('-1', "sg_quarantine_flush_seconds: '-1' is negative"), ('soon', "sg_quarantine_flush_seconds: 'soon' is not a number")):
        with pytest.raises(AnsibleFilterError, match=message):
            sg_quarantine_plan([dict(TC, instance_id='ins-1')], 'isolate', {}, current, '/tmp/r', variable_prefix='sg_quarantine_',
                               quarantine_group_ids={'tencentcloud': ['sg-q']}, flush_seconds=bad)


def test_zec_instances_are_targets_of_their_own_kind():
    current = read_result({'zec_instance_id': '9001', 'security_group_ids': ['70'], 'network_interfaces': [
        {'network_interface_id': '9001-nic2', 'security_group_ids': ['71']}]}, provider='zenlayer', key='zec_instances')
    target = {'provider': 'zenlayer', 'zec_instance_id': 9001}
    read = sg_quarantine_plan([target], 'read', {}, {}, '/tmp/r')
    assert [dict((k, v) for k, v in r.items() if k != 'interfaces') for r in read['reads']] == [
        {'provider': 'zenlayer', 'region': None, 'zec_instance_ids': ['9001']}]
    # As the role runs it: the read step's targets go to the plan.
    plan = sg_quarantine_plan(read['targets'], 'isolate', {}, current, '/tmp/r', quarantine_group_ids={'zenlayer': ['79']})
    assert plan['write'][0]['path'] == '/tmp/r/zenlayer_zec_9001.json' and plan['write'][0]['record']['kind'] == 'zec_instance'
    assert plan['batches'] == [{'provider': 'zenlayer', 'region': None, 'zec_instance_ids': ['9001'], 'security_group_ids': ['79'],
                                'state': 'present', 'purge': True},
                               {'provider': 'zenlayer', 'region': None, 'network_interface_ids': ['9001-nic2'], 'security_group_ids': ['79'],
                                'state': 'present', 'purge': True}]
    with pytest.raises(AnsibleFilterError, match='zec_instance_id is for provider zenlayer, not alicloud'):
        sg_quarantine_plan([{'provider': 'alicloud', 'zec_instance_id': '1'}], 'read', {}, {}, '/tmp/r', variable_prefix='sg_quarantine_')


def can_tag_everywhere(monkeypatch):
    for cls in role_inputs.generic.PROVIDERS.values():
        monkeypatch.setattr(cls, 'tag_limits', {'instance_ids': object()}, raising=False)
        for hook in ('write_tags', 'remove_tags'):
            monkeypatch.setattr(cls, hook, lambda *args: None, raising=False)


def test_the_tags_store_reads_the_record_from_the_instance(monkeypatch):
    can_tag_everywhere(monkeypatch)
    record = {'instance_id': 'ins-2', 'security_group_ids': ['sg-a', 'sg-b'], 'network_interfaces': [{'network_interface_id': 'eni-9',
              'security_group_ids': ['sg-c']}], 'quarantine_group_ids': ['sg-q'], 'isolated_at': 't0', 'reason': None}
    current = read_result(instance('ins-1', ['sg-a'], nics=[], quarantine={}), instance('ins-2', ['sg-q'], nics=[('eni-9', ['sg-q'])], quarantine=record))
    targets = [dict(TC, instance_id='ins-1'), dict(TC, instance_id='ins-2')]
    plan = sg_quarantine_plan(targets, 'isolate', {}, current, '/tmp/r', quarantine_group_ids={'tencentcloud': ['sg-q']}, record_store='tags',
                              now='t1', reason='INC-9')
    assert plan['write'] == [] and plan['kept'] == ['ins-2']
    assert plan['tag_writes'] == [dict(TC, instance_kind='instance', records=[{
        'instance_id': 'ins-1', 'security_group_ids': ['sg-a'], 'network_interfaces': [], 'quarantine_group_ids': ['sg-q'],
        'isolated_at': 't1', 'reason': 'INC-9'}])]
    # Restore from a second controller: nothing on its disk, the record comes from the tags only.
    plan = sg_quarantine_plan(targets, 'restore', {}, current, '/nowhere', record_store='tags', now='t2')
    assert plan['write'] == [] and plan['unreadable'] == {}
    assert plan['missing'] == ['ins-1']
    assert plan['batches'] == [dict(TC, instance_ids=['ins-2'], security_group_ids=['sg-a', 'sg-b'], state='present', purge=True),
                               dict(TC, network_interface_ids=['eni-9'], security_group_ids=['sg-c'], state='present', purge=True)]
    assert plan['tag_removals'] == [dict(TC, instance_kind='instance', instance_ids=['ins-2'])]


def test_the_tags_store_is_refused_for_a_cloud_that_cannot_tag_naming_the_file_store(monkeypatch):
    can_tag_everywhere(monkeypatch)
    monkeypatch.setattr(role_inputs.generic.PROVIDERS['baiducloud'], 'tag_limits', None, raising=False)
    with pytest.raises(AnsibleFilterError) as caught:
        sg_quarantine_plan([{'provider': 'baiducloud', 'region': 'bj', 'instance_id': 'i-1'}], 'read', {}, {}, '/tmp/r',
                           record_store='tags', variable_prefix='sg_quarantine_')
    assert str(caught.value) == ('sg_quarantine_record_store: tags: baiducloud cannot keep tags on its instance i-1 (the module has no tag '
                                 'support for it); use sg_quarantine_record_store: file')
    # Limits for instances only: a zec instance cannot keep its record in tags.
    with pytest.raises(AnsibleFilterError, match='zenlayer cannot keep tags on its zec instance 9001'):
        sg_quarantine_plan([{'provider': 'zenlayer', 'zec_instance_id': '9001'}], 'read', {}, {}, '/tmp/r', record_store='tags',
                           variable_prefix='sg_quarantine_')
    with pytest.raises(AnsibleFilterError, match='record_store must be file or tags'):
        sg_quarantine_plan([dict(TC, instance_id='ins-1')], 'read', {}, {}, '/tmp/r', record_store='disk', variable_prefix='sg_quarantine_')


# sg_bindings and the quarantine.

RECORDS = {
    '/r/tencentcloud_ap-guangzhou_ins-00000001.json': {
        'provider': 'tencentcloud', 'instance_id': 'ins-00000001', 'restored': False,
        'network_interfaces': [{'network_interface_id': 'eni-00000001', 'security_group_ids': []}]},
    '/r/tencentcloud_ap-guangzhou_ins-00000002.json': {'provider': 'tencentcloud', 'instance_id': 'ins-00000002', 'restored': True},
    '/r/alicloud_cn-hangzhou_ins-00000001.json': {'provider': 'alicloud', 'instance_id': 'ins-00000001', 'restored': False},
}


def test_sg_bindings_leaves_quarantined_instances_and_their_interfaces_alone():
    entries = [dict(TC, instance_ids=['ins-00000001', 'ins-00000002', 'ins-00000003'], security_group_ids=['sg-1'], purge=True),
               dict(TC, instance_ids=['ins-00000004'], security_group_ids=['sg-2'], state='absent'),
               dict(TC, network_interface_ids=['eni-00000001'], security_group_ids=['sg-1']),
               dict({'provider': 'alicloud', 'region': 'cn-hangzhou'}, instance_ids=['ins-00000001'], security_group_ids=['sg-2'], state='absent')]
    out = sg_binding_batches(entries, quarantine_records=RECORDS)
    assert out == [dict(TC, instance_ids=['ins-00000002', 'ins-00000003'], security_group_ids=['sg-1'], state='present', purge=True,
                        quarantined=['ins-00000001']),
                   dict(TC, instance_ids=['ins-00000004'], security_group_ids=['sg-2'], state='absent', purge=False),
                   dict(TC, network_interface_ids=[], security_group_ids=['sg-1'], state='present', purge=False, quarantined=['eni-00000001']),
                   {'provider': 'alicloud', 'region': 'cn-hangzhou', 'instance_ids': [], 'security_group_ids': ['sg-2'], 'state': 'absent',
                    'purge': False, 'quarantined': ['ins-00000001']}]
    assert [b.get('quarantined') for b in sg_binding_batches(entries, quarantine_records=RECORDS, include_quarantined='true')] == [None] * 4
    assert batches(['web-1', 'web-2'], quarantine_records=RECORDS)[0] == dict(TC, instance_ids=[], security_group_ids=['sg-00000001'],
                                                                              state='present', purge=False, quarantined=['ins-00000001'])


def test_the_summary_lists_the_quarantined_targets_apart():
    registered = {'results': [
        {'item': dict(TC, instance_ids=['ins-2'], security_group_ids=['sg-1'], state='present', purge=True, quarantined=['ins-1']),
         'changed': True, 'instances': [{'instance_id': 'ins-2', 'before': [], 'after': ['sg-1']}]},
        {'item': dict(TC, instance_ids=['ins-3', 'ins-4'], security_group_ids=['sg-1'], state='present', purge=True),
         'changed': False, 'quarantined': ['ins-4'], 'instances': [{'instance_id': 'ins-3', 'before': ['sg-1'], 'after': ['sg-1']}]},
        {'item': dict(TC, instance_ids=[], security_group_ids=['sg-1'], state='present', purge=True, quarantined=['ins-5']), 'skipped': True}]}
    summary = sg_binding_summary(registered)['tencentcloud']
    assert (summary['changed'], summary['unchanged'], summary['failed'], summary['quarantined']) == (1, 1, 0, ['ins-1', 'ins-4', 'ins-5'])


def test_a_record_whose_tags_cannot_be_read_is_never_recorded_over(monkeypatch):
    can_tag_everywhere(monkeypatch)
    item = instance('ins-1', ['sg-q'], nics=[], quarantine={})
    item['quarantine_error'] = 'tags sg-quarantine-1: checksum mismatch'
    for action in ('isolate', 'restore'):
        plan = sg_quarantine_plan([dict(TC, instance_id='ins-1')], action, {}, read_result(item), '/tmp/r', record_store='tags',
                                  quarantine_group_ids={'tencentcloud': ['sg-q']})
        assert plan['unreadable'] == {'ins-1': 'tags sg-quarantine-1: checksum mismatch'}
        assert plan['batches'] == [] and plan['tag_writes'] == [] and plan['tag_removals'] == []


def test_each_read_asks_for_the_interfaces_where_the_cloud_lists_them(monkeypatch):
    monkeypatch.delattr(role_inputs.generic.PROVIDERS['baiducloud'], 'attached_interfaces', raising=False)
    monkeypatch.setattr(role_inputs.generic.PROVIDERS['tencentcloud'], 'attached_interfaces', lambda *args: {}, raising=False)
    read = sg_quarantine_plan([dict(TC, instance_id='ins-1'), {'provider': 'baiducloud', 'region': 'bj', 'instance_id': 'i-1'}],
                              'read', {}, {}, '/tmp/r')
    assert [(r['provider'], r['interfaces']) for r in read['reads']] == [('tencentcloud', True), ('baiducloud', False)]


ZL = {'provider': 'zenlayer', 'region': None}


def test_a_vnic_without_a_group_of_its_own_is_recorded_with_the_group_it_inherited_and_restored_to_it():
    current = read_result({'zec_instance_id': '9001', 'security_group_ids': ['70'], 'network_interfaces': [
        {'network_interface_id': 'nic-2', 'security_group_ids': ['71']},
        {'network_interface_id': 'nic-3', 'security_group_ids': [], 'vpc_id': 'vpc-1', 'vpc_default_security_group_id': '74'}]},
        provider='zenlayer', key='zec_instances')
    targets = sg_quarantine_plan([{'provider': 'zenlayer', 'zec_instance_id': '9001'}], 'read', {}, {}, '/tmp/r')['targets']
    isolate = sg_quarantine_plan(targets, 'isolate', {}, current, '/tmp/r', quarantine_group_ids={'zenlayer': ['79']})
    record = isolate['write'][0]['record']
    # The exact truth (no group of its own) and what it used instead.
    assert record['network_interfaces'] == [
        {'network_interface_id': 'nic-2', 'security_group_ids': ['71']},
        {'network_interface_id': 'nic-3', 'security_group_ids': [], 'inherited_security_group_ids': ['74']}]
    assert isolate['batches'][1] == dict(ZL, network_interface_ids=['nic-2', 'nic-3'], security_group_ids=['79'], state='present', purge=True)
    quarantined = read_result({'zec_instance_id': '9001', 'security_group_ids': ['79'], 'network_interfaces': [
        {'network_interface_id': 'nic-2', 'security_group_ids': ['79']}, {'network_interface_id': 'nic-3', 'security_group_ids': ['79']}]},
        provider='zenlayer', key='zec_instances')
    restore = sg_quarantine_plan(targets, 'restore', {'/tmp/r/zenlayer_zec_9001.json': record}, quarantined, '/tmp/r', now='t')
    assert restore['batches'] == [
        dict(ZL, zec_instance_ids=['9001'], security_group_ids=['70'], state='present', purge=True),
        dict(ZL, network_interface_ids=['nic-2'], security_group_ids=['71'], state='present', purge=True),
        dict(ZL, network_interface_ids=['nic-3'], security_group_ids=['74'], state='present', purge=True)]
    assert restore['inherited'] == [{'network_interface_id': 'nic-3', 'instance_id': '9001', 'security_group_ids': ['74'], 'msg':
                                     "vNIC nic-3 had no group of its own before isolation (it used its VPC's default group 74); "
                                     "Zenlayer cannot return a vNIC to that, so it now has 74 as its own"}]
    assert restore['unrestorable'] == {} and restore['overwritten'] == {}
    assert restore['write'][0]['record']['restored'] is True


def test_an_interface_recorded_with_no_group_and_nothing_inherited_fails_naming_it_and_the_rest_is_restored():
    record = {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-1', 'security_group_ids': ['sg-a'],
              'network_interfaces': [{'network_interface_id': 'eni-1', 'security_group_ids': []},
                                     {'network_interface_id': 'eni-2', 'security_group_ids': ['sg-c']}],
              'quarantine_group_ids': ['sg-q'], 'restored': False}
    current = read_result(instance('ins-1', ['sg-q'], nics=[('eni-1', ['sg-q']), ('eni-2', ['sg-q'])]))
    plan = sg_quarantine_plan([dict(TC, instance_id='ins-1')], 'restore', {'/tmp/r/tencentcloud_ap-guangzhou_ins-1.json': record},
                              current, '/tmp/r', now='t')
    # No call to leave it without a group: it keeps the quarantine group, and the role keeps the record (owners -> ins-1).
    assert plan['batches'] == [dict(TC, instance_ids=['ins-1'], security_group_ids=['sg-a'], state='present', purge=True),
                               dict(TC, network_interface_ids=['eni-2'], security_group_ids=['sg-c'], state='present', purge=True)]
    assert list(plan['unrestorable']) == ['eni-1'] and 'network interface eni-1 of ins-1 had no group of its own' in plan['unrestorable']['eni-1']
    assert plan['owners']['eni-1'] == 'ins-1' and plan['inherited'] == []


def test_an_interface_read_without_groups_and_without_an_inherited_group_is_recorded_as_it_is():
    current = read_result(instance('ins-1', ['sg-a'], nics=[('eni-1', [])]))
    plan = sg_quarantine_plan([dict(TC, instance_id='ins-1')], 'isolate', {}, current, '/tmp/r', quarantine_group_ids={'tencentcloud': ['sg-q']})
    assert plan['write'][0]['record']['network_interfaces'] == [{'network_interface_id': 'eni-1', 'security_group_ids': []}]
