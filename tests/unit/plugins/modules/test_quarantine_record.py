# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sg_quarantine_record, and the tags, quarantine and interfaces of sg_binding_info, with an in-memory provider that has the
tag hooks (the emulator tests of each cloud are with that cloud's provider)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.common import warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.module_utils import _generic as generic
from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _quarantine_record as qr
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport
from ansible_collections.multicloud.secgroup.plugins.modules import sg_binding_info, sg_quarantine_record

SECRET = 'Memory-Secret-Never-Shown'
LIMITS = qr.TagLimits(127, 255, 10, r'[A-Za-z0-9 +\-=._:/@]', r'[A-Za-z0-9 +\-=._:/@]', ('qcloud',))
INSTANCES = planner.TargetKind('instance_ids', 'instances', 'instance_id', r'i-[a-z0-9]{4}', 'instance')
INTERFACES = planner.TargetKind('network_interface_ids', 'network_interfaces', 'network_interface_id', r'eni-[a-z0-9]{4}',
                                'network interface')


class TagCloudBase:
    """Instances with groups and tags, in dicts; every hook the spec names but attached_interfaces."""

    name = 'memory'
    display_name = 'Memory Cloud'
    constraints = planner.Constraints(min_groups=1, max_groups=5, batch_size=1)
    target_kinds = (INSTANCES, INTERFACES)
    security_group_id_pattern = r'sg-[a-z0-9]{4}'
    rate_limits = {}
    default_rate_limit = None
    completion = 'sync'
    argument_spec = dict(secret=dict(type='str', no_log=True, required=True))
    tag_limits = LIMITS
    groups = {}
    tags_of = {}
    interfaces = {}
    calls = []
    fail_write = {}

    def __init__(self, params, conn):
        self.transport = conn
        self.kind = planner.chosen_kind(self.target_kinds, params)
        self.tags = {}
        self.status = {}

    @classmethod
    def secrets(cls, params):
        return [params.get('secret')]

    def read(self, ids):
        self.calls.append(('read', tuple(ids)))
        found = dict((i, list(self.groups[i])) for i in ids if i in self.groups)
        self.tags = dict((i, dict(self.tags_of.get(i, {}))) for i in found)
        self.status = dict((i, 'RUNNING') for i in found)
        return found, [i for i in ids if i not in found]

    def describe_security_groups(self, sg_ids):
        return dict((sg, {'name': 'name-' + sg}) for sg in sg_ids)

    def write_tags(self, tid, tags):
        self.calls.append(('write_tags', tid, tuple(sorted(tags))))
        if tid in self.fail_write:
            raise self.fail_write[tid]
        self.tags_of.setdefault(tid, {}).update(tags)
        return ['req-w-' + tid]

    def remove_tags(self, tid, keys):
        self.calls.append(('remove_tags', tid, tuple(keys)))
        for key in keys:
            self.tags_of.get(tid, {}).pop(key, None)
        return 'req-r-' + tid       # one ID, not a list: taken as one


class TagCloud(TagCloudBase):
    """With attached_interfaces."""

    def attached_interfaces(self, ids):
        self.calls.append(('attached_interfaces', tuple(ids)))
        return dict((i, self.interfaces.get(i, [])) for i in ids)


class BatchTagCloud(TagCloud):
    def write_tags_many(self, tags):
        self.calls.append(('write_tags_many', tuple(sorted(tags))))
        for tid, values in tags.items():
            self.tags_of.setdefault(tid, {}).update(values)
        return ['req-many']


class NoTagCloud(TagCloud):
    tag_limits = None


class NoInterfacesCloud(TagCloudBase):
    """A cloud whose interface listing is not there yet."""


def record(iid='i-aaaa', **changes):
    out = {'instance_id': iid, 'security_group_ids': ['sg-0001', 'sg-0002'], 'quarantine_group_ids': ['sg-0009'],
           'network_interfaces': [{'network_interface_id': 'eni-aaaa', 'security_group_ids': ['sg-0003']}],
           'isolated_at': '2026-12-07T12:00:00+00:00', 'reason': 'INC-4711'}
    out.update(changes)
    return out


@pytest.fixture
def cloud(monkeypatch):
    monkeypatch.setattr(generic, 'PROVIDERS', {'memory': TagCloud})
    TagCloudBase.groups = {'i-aaaa': ['sg-0001', 'sg-0002'], 'i-bbbb': ['sg-0001'], 'i-cccc': ['sg-0001']}
    TagCloudBase.tags_of = {'i-aaaa': {'Name': 'web1'}, 'i-bbbb': {}}
    TagCloudBase.interfaces = {'i-aaaa': [{'network_interface_id': 'eni-aaaa', 'security_group_ids': ['sg-0003']}]}
    TagCloudBase.calls = []
    TagCloudBase.fail_write = {}
    return TagCloudBase


def use(monkeypatch, cls):
    monkeypatch.setattr(generic, 'PROVIDERS', {'memory': cls})


def run(main, args, capsys, check_mode=False, diff=True):
    warnings._global_warnings.clear()  # pylint: disable=protected-access
    args = dict(dict(provider='memory', secret=SECRET), **args)
    with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)):
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    assert SECRET not in out
    return json.loads(out)


def record_run(args, capsys, **kw):
    return run(sg_quarantine_record.main, args, capsys, **kw)


def writes(calls):
    return [c for c in calls if c[0] != 'read']


def test_a_record_is_written_as_tags_and_read_back_by_sg_binding_info(cloud, capsys):
    result = record_run(dict(records=[record(), record('i-bbbb', reason=None, network_interfaces=[])]), capsys)
    assert result['changed'] and result['written'] == ['i-aaaa', 'i-bbbb'] and result['kept'] == [] and result['missing'] == []
    assert result['records'] == [record(), record('i-bbbb', reason=None, network_interfaces=[])]
    assert result['request_ids'] == ['req-w-i-aaaa', 'req-w-i-bbbb']
    assert result['diff'] == {'before': {'i-aaaa': None, 'i-bbbb': None},
                              'after': {'i-aaaa': record(), 'i-bbbb': record('i-bbbb', reason=None, network_interfaces=[])}}
    assert cloud.tags_of['i-aaaa']['Name'] == 'web1' and cloud.tags_of['i-aaaa']['sg-quarantine'] == '2026-12-07T12:00:00+00:00'
    assert cloud.calls[0] == ('read', ('i-aaaa', 'i-bbbb'))
    info = run(sg_binding_info.main, dict(instance_ids=['i-aaaa', 'i-cccc']), capsys)
    assert info['instances'][0]['quarantine'] == record() and info['instances'][0]['tags']['Name'] == 'web1'
    assert info['instances'][1]['quarantine'] is None and info['instances'][1]['tags'] == {}
    assert 'network_interfaces' not in info['instances'][0]


def test_the_first_record_wins_and_a_second_run_changes_nothing(cloud, capsys):
    record_run(dict(records=[record()]), capsys)
    del cloud.calls[:]
    again = record_run(dict(records=[record(reason='another controller', security_group_ids=['sg-0009'])]), capsys)
    assert not again['changed'] and again['kept'] == ['i-aaaa'] and again['written'] == []
    assert again['records'] == [record()] and writes(cloud.calls) == []


def test_check_mode_predicts_and_writes_nothing(cloud, capsys):
    result = record_run(dict(records=[record()]), capsys, check_mode=True)
    assert result['changed'] and result['written'] == ['i-aaaa'] and result['records'] == [record()]
    assert writes(cloud.calls) == [] and 'sg-quarantine' not in cloud.tags_of['i-aaaa']
    assert 'diff' not in record_run(dict(records=[record()]), capsys, check_mode=True, diff=False)


def test_absent_removes_the_record_tags_only(cloud, capsys):
    record_run(dict(records=[record()]), capsys)
    for check_mode in (True, False):
        del cloud.calls[:]
        result = record_run(dict(state='absent', instance_ids=['i-aaaa', 'i-bbbb', 'i-zzzz']), capsys, check_mode=check_mode)
        assert result['changed'] and result['removed'] == ['i-aaaa'] and result['missing'] == ['i-zzzz'] and result['records'] == []
        assert result['diff'] == {'before': {'i-aaaa': record(), 'i-bbbb': None}, 'after': {'i-aaaa': None, 'i-bbbb': None}}
    assert cloud.tags_of['i-aaaa'] == {'Name': 'web1'}
    assert writes(cloud.calls) == [('remove_tags', 'i-aaaa', ('sg-quarantine', 'sg-quarantine-1', 'sg-quarantine-reason'))]
    assert result['request_ids'] == ['req-r-i-aaaa']
    assert not record_run(dict(state='absent', instance_ids=['i-aaaa']), capsys)['changed']


def test_the_time_defaults_to_now_in_utc(cloud, capsys):
    given = record()
    del given['isolated_at']
    result = record_run(dict(records=[given]), capsys)
    assert result['records'][0]['isolated_at'].endswith('+00:00')


def test_batched_writes_where_the_provider_batches(cloud, capsys, monkeypatch):
    use(monkeypatch, BatchTagCloud)
    result = record_run(dict(records=[record(), record('i-bbbb')]), capsys)
    assert result['request_ids'] == ['req-many'] and writes(cloud.calls) == [('write_tags_many', ('i-aaaa', 'i-bbbb'))]


@pytest.mark.parametrize('args, message', [
    (dict(records=[record('i-AAAA')]), "records[0].instance_id: 'i-AAAA' is not a valid Memory Cloud instance ID; it must match"),
    (dict(records=[record(), record()]), "records[1].instance_id: 'i-aaaa' has another record in records"),
    (dict(records=[record(security_group_ids=['sg-0001', 'sg/../x'])]), "records[0].security_group_ids: 'sg/../x' is not a valid"),
    (dict(records=[record(quarantine_group_ids=['x'])]), "records[0].quarantine_group_ids: 'x' is not a valid"),
    (dict(records=[record(network_interfaces=[{'network_interface_id': 'eni-A', 'security_group_ids': []}])]),
     "records[0].network_interfaces[0].network_interface_id: 'eni-A' is not a valid Memory Cloud network interface ID"),
    (dict(records=[record(isolated_at='yesterday')]), "records[0].isolated_at: 'yesterday' is not a time of the form"),
    (dict(records=[record(isolated_at='2026-12-07T12:00:00')]), 'with its UTC offset'),
    (dict(records=[record(reason='x' * 257)]), 'records[0].reason: 257 characters; give at most 256, on one line'),
    (dict(records=[record(reason='a\nb')]), 'records[0].reason: 3 characters with control characters such as a newline'),
    (dict(records=[dict(record(), restored=True)]), 'restored'),
    (dict(records=[record()], instance_ids=['i-aaaa']), 'state=present: records lists the records to write'),
    (dict(state='absent', records=[record()]), 'state=absent: instance_ids lists the instances'),
    (dict(state='absent', instance_ids=['i-aaaa', 'i-aaaa']), "instance_ids: 'i-aaaa' is listed more than once"),
    (dict(records=[record()], instance_kind='zec_instance'), "instance_kind: 'zec_instance' is not a kind of instance of provider memory"),
    (dict(records=[record()], timeout=0), 'timeout: 0.0 must be a number greater than 0'),
    (dict(records=[record(security_group_ids=['sg-%04d' % n for n in range(60)])]),
     'instance i-aaaa: its quarantine record needs 5 tags (540 characters of data, 255 a tag), more than the 10'),
])
def test_bad_input_is_refused_before_any_request(cloud, capsys, args, message):
    if 'sg-0059' in json.dumps(args):
        cloud.tag_limits = LIMITS._replace(max_tags=3)
        message = message.replace('the 10', 'the 3')
    try:
        result = record_run(args, capsys)
    finally:
        cloud.tag_limits = LIMITS
    assert result['failed'] and message in result['msg'], result['msg']
    assert cloud.calls == []


def test_a_record_that_does_not_fit_beside_the_instances_own_tags_is_refused_before_any_write(cloud, capsys):
    cloud.tags_of['i-aaaa'] = dict(('user-%d' % n, 'v') for n in range(8))
    result = record_run(dict(records=[record('i-bbbb'), record()]), capsys)
    assert result['failed'] and 'instance i-aaaa: its quarantine record needs 3 tags' in result['msg']
    assert 'besides the 8 tags it has' in result['msg'] and 'nothing was written' in result['msg']
    assert writes(cloud.calls) == []


def test_a_provider_that_cannot_tag_names_itself_and_the_file_store(cloud, capsys, monkeypatch):
    use(monkeypatch, NoTagCloud)
    result = record_run(dict(records=[record()]), capsys)
    assert result['failed'] and result['msg'] == ("provider memory (Memory Cloud) cannot keep a quarantine record in the tags of its "
                                                  "instances; use the sg_quarantine role's file record store "
                                                  "(sg_quarantine_record_store: file)")
    assert cloud.calls == []


def test_an_unreadable_record_is_never_overwritten_and_is_removed_on_absent(cloud, capsys):
    damaged = qr.encode(record(), LIMITS)
    del damaged['sg-quarantine-1']
    cloud.tags_of['i-aaaa'].update(damaged)
    result = record_run(dict(records=[record('i-bbbb'), record()]), capsys)
    assert result['failed'] and 'instance i-aaaa: its tags carry a quarantine record that cannot be read' in result['msg']
    assert writes(cloud.calls) == []
    info = run(sg_binding_info.main, dict(instance_ids=['i-aaaa']), capsys)
    assert info['instances'][0]['quarantine'] is None and 'sg-quarantine-reason' in info['instances'][0]['quarantine_error']
    removed = record_run(dict(state='absent', instance_ids=['i-aaaa']), capsys)
    assert removed['removed'] == ['i-aaaa'] and 'could not be read' in json.dumps(removed['warnings'])
    assert cloud.tags_of['i-aaaa'] == {'Name': 'web1'}


def test_a_failed_write_names_what_was_done_and_masks_secrets(cloud, capsys):
    cloud.fail_write = {'i-bbbb': transport.ProviderError('memory', 'TagResources', 'QuotaExceeded', 'no room, key ' + SECRET, 'req-f', 400,
                                                          transport.FAILED)}
    result = record_run(dict(records=[record(), record('i-bbbb')]), capsys)
    assert result['failed'] and result['changed'] and result['written'] == ['i-aaaa']
    assert ('writing the quarantine record of instance(s) i-bbbb failed: instance i-bbbb: Memory Cloud TagResources: QuotaExceeded: '
            'no room, key ********') in result['msg']
    assert 'done for i-aaaa' in result['msg']


def test_a_lost_answer_says_to_run_again(cloud, capsys):
    cloud.fail_write = {'i-aaaa': transport.ProviderError('memory', 'TagResources', 'ReadTimeout', 'no answer', None, None,
                                                          transport.AMBIGUOUS)}
    result = record_run(dict(records=[record()]), capsys)
    assert result['failed'] and 'the answer was lost for i-aaaa: run the task again, it reads the tags first' in result['msg']


def test_info_lists_each_instances_interfaces(cloud, capsys):
    info = run(sg_binding_info.main, dict(instance_ids=['i-aaaa', 'i-bbbb'], interfaces=True), capsys)
    assert [i['network_interfaces'] for i in info['instances']] == [
        [{'network_interface_id': 'eni-aaaa', 'security_group_ids': ['sg-0003']}], []]
    assert ('attached_interfaces', ('i-aaaa', 'i-bbbb')) in cloud.calls


@pytest.mark.parametrize('args, message', [
    (dict(network_interface_ids=['eni-aaaa'], interfaces=True), 'interfaces: true lists the network interfaces of instances'),
    (dict(instance_ids=['i-aaaa'], interfaces=True), 'interfaces: Memory Cloud (provider memory) cannot list the network interfaces'),
])
def test_info_interfaces_is_refused_before_any_request_where_it_cannot_be_answered(cloud, capsys, monkeypatch, args, message):
    use(monkeypatch, NoInterfacesCloud)
    result = run(sg_binding_info.main, args, capsys)
    assert result['failed'] and message in result['msg'] and cloud.calls == []
