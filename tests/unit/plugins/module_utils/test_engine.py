# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine with an in-memory provider: read, plan, apply, verify, report, fail."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport
from ansible_collections.multicloud.secgroup.plugins.module_utils._baiducloud import BaiduCloud
from ansible_collections.multicloud.secgroup.plugins.module_utils._tencentcloud import TencentCloud

SECRET = 'TopSecretKey123'


class MemoryProvider:
    """A provider whose cloud is a dict; records calls and fails on request."""

    name = 'memory'
    display_name = 'Memory Cloud'
    constraints = planner.Constraints(min_groups=1, max_groups=3, batch_size=2)
    target_kinds = (planner.TargetKind('instance_ids', 'instances', 'instance_id', r'i-[a-z0-9]{4}', 'instance'),)
    security_group_id_pattern = r'sg-[a-z0-9]{4}'
    rate_limits = {}
    default_rate_limit = None
    completion = 'sync'
    argument_spec = dict(secret=dict(type='str', no_log=True, required=True))
    cloud = {}
    groups = set()
    calls = []
    fail = {}        # (action, sg) -> (error_class, commit)

    def __init__(self, params, conn):
        self.transport = conn

    @classmethod
    def secrets(cls, params):
        return [params.get('secret')]

    def read(self, ids):
        self.calls.append(('read', tuple(ids)))
        found = dict((i, list(self.cloud[i])) for i in ids if i in self.cloud)
        return found, [i for i in ids if i not in self.cloud]

    def missing_security_groups(self, sg_ids):
        self.calls.append(('groups', tuple(sg_ids)))
        return [sg for sg in sg_ids if sg not in self.groups]

    def apply(self, op):
        self.calls.append((op['action'], tuple(op['security_group_ids']), tuple(op['target_ids'])))
        key = (op['action'], op['security_group_ids'][0])
        planned = self.fail.get(key, (None, False))
        if isinstance(planned, list):            # a list: one outcome per call
            planned = planned.pop(0) if planned else (None, False)
        else:
            self.fail.pop(key, None)
        error_class, commit = planned
        if error_class == 'crash':
            raise KeyError('a bug')
        if error_class is None or commit:
            for iid in op['target_ids']:
                self.cloud[iid] = planner.apply_operation(self.cloud[iid], op)
        if error_class:
            raise transport.ProviderError('memory', 'Bind', 'Boom', 'it broke, key ' + SECRET, 'req-x', 500, error_class)
        return ['req-%d' % len(self.calls)]

    def settle(self, expected, deadline):
        return None


@pytest.fixture
def cloud():
    MemoryProvider.cloud = {'i-aaaa': ['sg-0001'], 'i-bbbb': ['sg-0001', 'sg-0002'], 'i-cccc': ['sg-0003']}
    MemoryProvider.groups = set(['sg-0001', 'sg-0002', 'sg-0003', 'sg-0004'])
    MemoryProvider.calls = []
    MemoryProvider.fail = {}
    return MemoryProvider


def run(args, check_mode=False, diff=True, capsys=None, provider=None):
    args = dict(dict(secret=SECRET), **args)
    args.update(_ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            engine.run_module(provider or MemoryProvider)
    out = capsys.readouterr().out
    assert SECRET not in out and args['secret'].strip() not in out
    result = json.loads(out)
    result['rc'] = exit_info.value.code
    return result


def writes(calls):
    return [c for c in calls if c[0] in ('bind', 'unbind', 'set')]


def test_check_real_repeat_and_repeat_in_check(cloud, capsys):
    args = dict(instance_ids=['i-aaaa', 'i-bbbb', 'i-cccc'], security_group_ids=['sg-0004'])
    check = run(args, check_mode=True, capsys=capsys)
    assert check['changed'] and writes(cloud.calls) == []
    real = run(args, capsys=capsys)
    assert real['changed'] and real['diff'] == check['diff']
    assert real['diff']['after']['i-bbbb'] == ['sg-0001', 'sg-0002', 'sg-0004']
    # One bind of sg-0004 for three instances, in calls of at most 2.
    assert writes(cloud.calls) == [('bind', ('sg-0004',), ('i-aaaa', 'i-bbbb')), ('bind', ('sg-0004',), ('i-cccc',))]
    assert len(real['request_ids']) == 2
    cloud.calls = []
    again = run(args, capsys=capsys)
    assert not again['changed'] and writes(cloud.calls) == [] and again['operations'] == []
    assert cloud.calls == [('read', ('i-aaaa', 'i-bbbb', 'i-cccc'))]    # a no-op is one read, nothing else
    assert not run(args, check_mode=True, capsys=capsys)['changed']


def test_result_lists_before_after_added_removed(cloud, capsys):
    result = run(dict(instance_ids=['i-bbbb'], security_group_ids=['sg-0003'], purge=True), capsys=capsys)
    assert result['instances'] == [{'instance_id': 'i-bbbb', 'before': ['sg-0001', 'sg-0002'], 'after': ['sg-0003'],
                                    'added': ['sg-0003'], 'removed': ['sg-0001', 'sg-0002']}]
    assert cloud.cloud['i-bbbb'] == ['sg-0003']


def test_no_diff_key_without_diff_mode(cloud, capsys):
    assert 'diff' not in run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0002']), diff=False, capsys=capsys)


@pytest.mark.parametrize('args, message', [
    (dict(instance_ids=['i-AAAA'], security_group_ids=['sg-0001']), "instance_ids: 'i-AAAA' is not a valid Memory Cloud ID; it must match"),
    (dict(instance_ids=['i-aaaa'], security_group_ids=['sg-1/..']), "security_group_ids: 'sg-1/..' is not a valid"),
    (dict(instance_ids=['i-aaaa', 'i-aaaa'], security_group_ids=['sg-0001']), "instance_ids: 'i-aaaa' is listed more than once"),
    (dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0001'], timeout=0), 'timeout: 0.0 must be a number greater than 0 and at most 86400'),
    (dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0001'], endpoint='ftp://x'), "endpoint: 'ftp://x' must be a URL"),
    (dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0001'], state='absent'), 'i-aaaa would have 0 security group(s) left'),
])
def test_bad_input_is_refused_before_any_request(cloud, capsys, args, message):
    result = run(args, capsys=capsys)
    assert result['failed'] and message in result['msg']
    assert writes(cloud.calls) == []


def test_unknown_instances_and_groups_are_reported_together(cloud, capsys):
    result = run(dict(instance_ids=['i-zzzz', 'i-aaaa', 'i-yyyy'], security_group_ids=['sg-0002']), capsys=capsys)
    assert result['failed'] and result['missing_instance_ids'] == ['i-zzzz', 'i-yyyy']
    assert 'i-zzzz, i-yyyy not found in Memory Cloud; nothing was changed' in result['msg']
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-9999', 'sg-0001', 'sg-8888']), capsys=capsys)
    assert result['failed'] and result['missing_security_group_ids'] == ['sg-9999', 'sg-8888']
    assert writes(cloud.calls) == []


def test_a_failed_write_reports_error_and_what_was_applied(cloud, capsys):
    cloud.fail[('unbind', 'sg-0001')] = (transport.QUOTA, False)
    result = run(dict(instance_ids=['i-aaaa', 'i-cccc'], security_group_ids=['sg-0004'], purge=True), capsys=capsys)
    assert result['failed']
    assert result['error'] == {'provider': 'memory', 'action': 'Bind', 'code': 'Boom', 'message': 'it broke, key ********',
                               'request_id': 'req-x', 'http_status': 500}
    assert 'Memory Cloud failed unbinding sg-0001 from instance(s) i-aaaa: Boom' in result['msg']
    # The bind of sg-0004 went through before the unbind failed: the result says so.
    assert result['instances'][0] == {'instance_id': 'i-aaaa', 'before': ['sg-0001'], 'after': ['sg-0001', 'sg-0004'],
                                      'added': ['sg-0004'], 'removed': []}
    # The unbind on i-cccc ran in the same wave and succeeded: reported too, with its request ID.
    assert result['instances'][1]['after'] == ['sg-0004'] and len(result['request_ids']) == 2


def test_an_ambiguous_write_is_resolved_by_reading_back(cloud, capsys):
    cloud.fail[('bind', 'sg-0004')] = (transport.AMBIGUOUS, True)       # applied, answer lost
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004']), capsys=capsys)
    assert result['changed'] and not result.get('failed')
    assert result['instances'][0]['after'] == ['sg-0001', 'sg-0004']
    assert writes(cloud.calls) == [('bind', ('sg-0004',), ('i-aaaa',))]     # not sent twice
    assert 're-reading the instances' in json.dumps(result['warnings'])


def test_an_ambiguous_write_that_did_not_apply_is_sent_again(cloud, capsys):
    cloud.fail[('bind', 'sg-0004')] = (transport.AMBIGUOUS, False)
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004']), capsys=capsys)
    assert result['changed'] and result['instances'][0]['after'] == ['sg-0001', 'sg-0004']
    assert len(writes(cloud.calls)) == 2


def test_waves_keep_each_instance_in_order_and_run_disjoint_calls_together():
    ops = [{'action': 'bind', 'security_group_ids': ['a'], 'target_ids': ['1', '2']},
           {'action': 'bind', 'security_group_ids': ['a'], 'target_ids': ['3']},
           {'action': 'unbind', 'security_group_ids': ['b'], 'target_ids': ['2']},
           {'action': 'unbind', 'security_group_ids': ['c'], 'target_ids': ['4']}]
    assert engine.waves(ops) == [[ops[0], ops[1], ops[3]], [ops[2]]]


def test_no_instances_is_a_no_op_without_requests(cloud, capsys):
    result = run(dict(instance_ids=[], security_group_ids=['sg-0001']), capsys=capsys)
    assert not result['changed'] and result['instances'] == [] and cloud.calls == [('read', ())]


def test_purge_with_absent_warns_and_unbinds_only_the_listed_groups(cloud, capsys):
    result = run(dict(instance_ids=['i-bbbb'], security_group_ids=['sg-0002'], state='absent', purge=True), capsys=capsys)
    assert result['changed'] and result['instances'][0]['after'] == ['sg-0001']
    assert 'purge is ignored with state=absent' in json.dumps(result['warnings'])


class AsyncMemoryProvider(MemoryProvider):
    completion = 'task'


def test_with_wait_false_a_write_of_unknown_outcome_is_still_read_back(cloud, capsys):
    cloud.fail[('bind', 'sg-0004')] = (transport.TRANSIENT, False)       # not applied
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004'], wait=False), capsys=capsys,
                 provider=AsyncMemoryProvider)
    assert result['changed'] and result['instances'][0]['after'] == ['sg-0001', 'sg-0004']
    assert len(writes(cloud.calls)) == 2 and cloud.cloud['i-aaaa'] == ['sg-0001', 'sg-0004']


def test_transient_write_errors_are_retried_with_backoff_then_reported_with_the_error(cloud, capsys, monkeypatch):
    backoffs = []
    monkeypatch.setattr(transport.Backoff, 'delay', lambda self, attempt: backoffs.append(attempt) or 0.0)
    cloud.fail[('bind', 'sg-0004')] = [(transport.TRANSIENT, False)] * 2
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004']), capsys=capsys)
    assert result['changed'] and len(writes(cloud.calls)) == 3 and backoffs == [0, 1]
    cloud.fail[('bind', 'sg-0004')] = [(transport.TRANSIENT, False)] * 5
    cloud.cloud['i-bbbb'] = ['sg-0001']
    result = run(dict(instance_ids=['i-bbbb'], security_group_ids=['sg-0004'], retries=1), capsys=capsys)
    assert result['failed'] and result['error']['code'] == 'Boom' and result['error']['request_id'] == 'req-x'
    assert 'still not applied after 1 retries' in result['msg']
    assert result['instances'][0]['after'] == ['sg-0001']


def test_an_unexpected_exception_is_a_clear_failure_not_a_traceback(cloud, capsys):
    cloud.fail[('bind', 'sg-0004')] = ('crash', False)
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004']), capsys=capsys)
    assert result['failed'] and result['msg'].startswith('unexpected error (a bug in multicloud.secgroup')
    assert 'KeyError' in result['msg'] and result['instances'][0]['before'] == ['sg-0001']


def test_failures_after_the_read_list_the_instances(cloud, capsys):
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-9999']), capsys=capsys)
    assert result['failed'] and result['instances'] == [
        {'instance_id': 'i-aaaa', 'before': ['sg-0001'], 'after': ['sg-0001'], 'added': [], 'removed': []}]
    assert result['operations'] == [] and result['request_ids'] == []


@pytest.mark.parametrize('secret', ['abc\n', ' abc', 'abc\x00def'])
def test_credentials_with_control_characters_are_refused_without_showing_them(cloud, capsys, secret):
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004'], secret=secret), capsys=capsys)
    assert result['failed'] and result['msg'].startswith('secret: the value (not shown: it is secret) contains whitespace')
    assert cloud.calls == []


def test_max_security_groups_raises_the_quota(cloud, capsys):
    cloud.cloud['i-aaaa'] = ['sg-0001', 'sg-0002', 'sg-0003']
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004']), capsys=capsys)
    assert result['failed'] and 'at most 3 per instance' in result['msg']
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004'], max_security_groups=4), capsys=capsys)
    assert result['changed'] and len(result['instances'][0]['after']) == 4


@pytest.mark.parametrize('provider_class', [TencentCloud, BaiduCloud])
@pytest.mark.parametrize('region', ['bj/../x', 'evil.com#', 'BJ', '', 'gz.attacker.example', 'attacker.example/x?'])
def test_a_region_that_would_change_the_host_is_refused(provider_class, region):
    params = dict((name, spec.get('default')) for name, spec in engine.argument_spec(provider_class).items())
    params.update(instance_ids=[], security_group_ids=[], region=region)
    with pytest.raises(engine.EngineFailure) as err:
        engine.validate(params, provider_class)
    assert str(err.value).startswith('region: %r is not a valid %s region; it must match' % (region, provider_class.display_name))


# -- issue 8 regressions, and target kinds --------------------------------------------------

class LaggingMemoryProvider(MemoryProvider):
    """Writes are accepted at once but show on reads only once settled: 'task' completes
    them in settle(), 'eventual' after `lag` further reads."""

    completion = 'task'
    lag = 10 ** 6     # 'task': never shows until settled
    pending = []      # [(op, reads left)]

    def read(self, ids):
        shown = []
        for op, left in self.pending:
            if left <= 0:
                shown.append(op)
        for op in shown:
            self.pending.remove((op, 0))
            for tid in op['target_ids']:
                self.cloud[tid] = planner.apply_operation(self.cloud[tid], op)
        self.pending[:] = [(op, left - 1) for op, left in self.pending]
        return MemoryProvider.read(self, ids)

    def apply(self, op):
        key = (op['action'], op['security_group_ids'][0])
        if key in self.fail:
            return MemoryProvider.apply(self, op)
        self.calls.append((op['action'], tuple(op['security_group_ids']), tuple(op['target_ids'])))
        self.pending.append((op, self.lag))
        return ['req-%d' % len(self.calls)]

    def settle(self, expected, deadline):
        self.pending[:] = [(op, 0) for op, dummy in self.pending]
        return None


class EventualMemoryProvider(LaggingMemoryProvider):
    completion = 'eventual'
    lag = 2


class SLEEPS:
    """The sleeps of the engine's transport in these tests: none by default."""

    @staticmethod
    def sleep(seconds):
        return None


@pytest.fixture
def lagging(cloud, monkeypatch):
    LaggingMemoryProvider.pending = []
    real = engine.transport_for

    def sleep(seconds):
        return SLEEPS.sleep(seconds)      # looked up at each call: a test may replace SLEEPS.sleep

    def no_real_sleep(*args, **kwargs):
        conn = real(*args, **kwargs)
        conn.sleep = sleep
        return conn
    monkeypatch.setattr(engine, 'transport_for', no_real_sleep)
    return cloud


def test_after_a_failure_instances_shows_the_accepted_writes_once_complete(lagging, capsys):
    # Item 3: in the second wave the unbind on i-aaaa is accepted (and completes later) while the
    # unbind on i-cccc fails with a quota error: instances must show the accepted one.
    lagging.fail[('unbind', 'sg-0003')] = (transport.QUOTA, False)
    result = run(dict(instance_ids=['i-aaaa', 'i-cccc'], security_group_ids=['sg-0004'], purge=True), capsys=capsys,
                 provider=LaggingMemoryProvider)
    assert result['failed'] and result['error']['code'] == 'Boom'
    assert [op['security_group_ids'] for op in result['operations']] == [['sg-0004'], ['sg-0001']]
    assert result['instances'][0]['after'] == ['sg-0004']                  # the accepted unbind, waited for and read
    assert result['instances'][1]['after'] == ['sg-0003', 'sg-0004']


def test_an_eventual_cloud_is_read_until_the_change_shows(lagging, capsys):
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004']), capsys=capsys, provider=EventualMemoryProvider)
    assert result['changed'] and result['instances'][0]['after'] == ['sg-0001', 'sg-0004']
    assert [c[0] for c in lagging.calls] == ['read', 'groups', 'bind', 'read', 'read', 'read']
    assert 'wait_timeout' in engine.argument_spec(EventualMemoryProvider)


def test_an_eventual_cloud_waits_between_dependent_writes(lagging, capsys):
    lagging.cloud['i-aaaa'] = ['sg-0001', 'sg-0002', 'sg-0003']
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004'], purge=True), capsys=capsys,
                 provider=EventualMemoryProvider)
    assert result['changed'] and result['instances'][0]['after'] == ['sg-0004']
    kinds = [c[0] for c in lagging.calls]
    # At the ceiling of 3: unbind, then the next write only once the unbind shows.
    assert kinds[:6] == ['read', 'groups', 'unbind', 'read', 'read', 'read']


def test_a_write_whose_answer_was_lost_but_applied_is_in_operations(cloud, capsys):
    # Item 8: it was applied, so it is one of the calls made.
    cloud.fail[('bind', 'sg-0004')] = (transport.AMBIGUOUS, True)
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004']), capsys=capsys)
    assert result['operations'] == [{'action': 'bind', 'security_group_ids': ['sg-0004'], 'instance_ids': ['i-aaaa']}]
    assert 'was lost (Boom), but the instances show it applied' in json.dumps(result['warnings'])


def test_check_mode_lists_the_operations_in_an_order_the_real_run_may_send_them(cloud, capsys):
    # Item 8: the plan order here differs from the wave order (i-cccc's unbind runs with i-aaaa's). The real run sends
    # each target's next operation once its previous one is answered, so only each target's own order is fixed.
    args = dict(instance_ids=['i-aaaa', 'i-bbbb', 'i-cccc'], security_group_ids=['sg-0004'], purge=True)
    check = run(args, check_mode=True, capsys=capsys)
    real = run(args, capsys=capsys)
    assert [op['security_group_ids'] for op in check['operations']][2:] == [['sg-0001'], ['sg-0003'], ['sg-0002']]
    assert sorted(map(json.dumps, check['operations'])) == sorted(map(json.dumps, real['operations'])) and len(real['operations']) == 5

    def per_target(operations):
        return dict((tid, [(op['action'], op['security_group_ids']) for op in operations if tid in op['instance_ids']])
                    for tid in args['instance_ids'])
    assert per_target(check['operations']) == per_target(real['operations'])


def test_a_group_the_cloud_lists_twice_is_counted_once(cloud, capsys):
    # Item 9: no duplicate unbind, no duplicate in removed.
    cloud.cloud['i-bbbb'] = ['sg-0001', 'sg-0001', 'sg-0002']
    result = run(dict(instance_ids=['i-bbbb'], security_group_ids=['sg-0001'], state='absent'), capsys=capsys)
    assert result['instances'][0]['before'] == ['sg-0001', 'sg-0002'] and result['instances'][0]['removed'] == ['sg-0001']
    assert writes(cloud.calls) == [('unbind', ('sg-0001',), ('i-bbbb',))]
    assert 'lists security group(s) sg-0001 more than once' in json.dumps(result['warnings'])


@pytest.mark.parametrize('option, value', [
    ('timeout', float('nan')), ('timeout', float('inf')), ('retry_delay', float('-inf')), ('retry_max_delay', 1e308),
    ('rate_limit', 0.0), ('max_concurrency', 10 ** 6), ('retries', -1),
])
def test_odd_numbers_are_refused_naming_the_option(cloud, capsys, option, value):
    # Item 7: these were ValueError/OverflowError tracebacks reported as bugs.
    result = run({'instance_ids': ['i-aaaa'], 'security_group_ids': ['sg-0004'], option: value}, capsys=capsys)
    assert result['failed'] and result['msg'].startswith('%s: ' % option) and 'bug' not in result['msg']
    assert cloud.calls == []


@pytest.mark.parametrize('secret', ['caf\u00e9-key', 'key-\u2013-dash', '\u5bc6\u94a5'])
def test_credentials_outside_ascii_are_refused_without_showing_them(cloud, capsys, secret):
    # Item 7: a non-Latin-1 character was a UnicodeEncodeError traceback.
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004'], secret=secret), capsys=capsys)
    assert result['failed'] and result['msg'].startswith('secret: the value (not shown: it is secret) contains characters outside')
    assert secret not in json.dumps(result, ensure_ascii=False) and cloud.calls == []


class TwoKindProvider(MemoryProvider):
    target_kinds = (planner.TargetKind('instance_ids', 'instances', 'instance_id', r'i-[a-z0-9]{4}', 'instance'),
                    planner.TargetKind('network_interface_ids', 'network_interfaces', 'network_interface_id',
                                       r'i-[a-z0-9]{4}|eni-[a-z0-9]{4}', 'network interface'))


def test_an_alternation_pattern_is_matched_whole(cloud, capsys):
    result = run(dict(network_interface_ids=['i-aaaa/../../x?y'], security_group_ids=['sg-0004']), capsys=capsys,
                 provider=TwoKindProvider)
    assert result['failed'] and result['msg'].startswith("network_interface_ids: 'i-aaaa/../../x?y' is not a valid")
    assert cloud.calls == []


def test_target_kinds_name_the_result_the_diff_and_the_operations(cloud, capsys):
    result = run(dict(network_interface_ids=['i-aaaa'], security_group_ids=['sg-0004']), capsys=capsys, provider=TwoKindProvider)
    assert result['network_interfaces'][0]['network_interface_id'] == 'i-aaaa' and 'instances' not in result
    assert result['operations'] == [{'action': 'bind', 'security_group_ids': ['sg-0004'], 'network_interface_ids': ['i-aaaa']}]
    assert result['diff']['after'] == {'i-aaaa': ['sg-0001', 'sg-0004']}
    result = run(dict(network_interface_ids=['i-zzzz'], security_group_ids=['sg-0004']), capsys=capsys, provider=TwoKindProvider)
    assert result['missing_network_interface_ids'] == ['i-zzzz'] and 'network_interface_ids: i-zzzz not found' in result['msg']


@pytest.mark.parametrize('args', [dict(), dict(instance_ids=['i-aaaa'], network_interface_ids=['i-bbbb'])])
def test_both_or_neither_target_option_is_refused(cloud, capsys, args):
    result = run(dict(args, security_group_ids=['sg-0004']), capsys=capsys, provider=TwoKindProvider)
    assert result['failed'] and 'instance_ids' in result['msg'] and 'network_interface_ids' in result['msg']
    assert cloud.calls == []


@pytest.fixture
def fake_clock(monkeypatch):
    """The engine's clock and the transport's sleeps on a clock that moves only when slept on."""
    clock = {'now': 0.0}

    class FakeTime:
        monotonic = staticmethod(lambda: clock['now'])
    monkeypatch.setattr(engine, 'time', FakeTime)
    monkeypatch.setattr(SLEEPS, 'sleep', lambda seconds: clock.__setitem__('now', clock['now'] + seconds))
    return clock


def test_an_eventual_cloud_does_not_wait_for_a_lost_write_to_show(lagging, capsys, fake_clock):
    # A write whose answer was lost and which was never applied never shows: the engine re-plans after a backoff
    # pause (and the cloud's "already so" answer would confirm it if it came late), not after wait_timeout (300 s).
    clock = fake_clock
    lagging.fail[('bind', 'sg-0004')] = (transport.AMBIGUOUS, False)
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004']), capsys=capsys, provider=EventualMemoryProvider)
    assert result['changed'] and result['instances'][0]['after'] == ['sg-0001', 'sg-0004']
    assert len(writes(lagging.calls)) == 2
    assert clock['now'] < 5


def test_a_provider_note_follows_the_targets_not_found(cloud, capsys, monkeypatch):
    monkeypatch.setattr(MemoryProvider, 'not_found_note', ' (or hidden from these credentials)', raising=False)
    result = run(dict(instance_ids=['i-zzzz'], security_group_ids=['sg-0004']), capsys=capsys)
    assert result['msg'] == ('instance_ids: i-zzzz not found in Memory Cloud (or hidden from these credentials); nothing was changed '
                             '(on_missing=skip changes the others)')


# -- found by the chaos campaign (tests/chaos, docs/reliability.md) -------------------------------------

class LateWriteProvider(LaggingMemoryProvider):
    """The first write's answer is lost (a timeout) and it reaches the cloud only after the read that
    follows; the write sent again then fails for good (the cloud is busy with the first)."""

    late = []

    def apply(self, op):
        self.calls.append((op['action'], tuple(op['security_group_ids']), tuple(op['target_ids'])))
        if not self.late:
            self.late.append(op)
            raise transport.ProviderError('memory', 'Bind', 'Timeout', 'no answer', None, None, transport.AMBIGUOUS)
        self.pending.extend((late, self.lag) for late in self.late)
        raise transport.ProviderError('memory', 'Bind', 'Busy', 'an operation is in progress', 'req-busy', 400, transport.FAILED)


def test_a_write_whose_answer_was_lost_is_awaited_before_the_failure_is_reported(lagging, capsys):
    """tencentcloud seed 1009: the lost write was still in progress when the task failed, and instances
    showed the list from before it although the cloud ended with the change."""
    LateWriteProvider.late = []
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004']), capsys=capsys, provider=LateWriteProvider)
    assert result['failed'] and result['error']['code'] == 'Busy'
    assert lagging.cloud['i-aaaa'] == ['sg-0001', 'sg-0004']
    assert result['instances'][0]['after'] == ['sg-0001', 'sg-0004']


class ThrottledSettleProvider(LaggingMemoryProvider):
    """Writes are accepted (and complete in the cloud), but every poll for their completion is throttled."""

    def settle(self, expected, deadline):
        raise transport.ProviderError('memory', 'Describe', 'Throttled', 'slow down', 'req-t', 200, transport.THROTTLED)


def test_accepted_writes_that_reads_could_not_confirm_are_reported_as_accepted(lagging, capsys):
    """tencentcloud seed 2008: the polls after an accepted unbind were throttled past the retries; the
    one read that then got through still showed the operation running with the list from before, and
    instances reported that list although the unbind completed."""
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004']), capsys=capsys, provider=ThrottledSettleProvider)
    assert result['failed'] and result['error']['code'] == 'Throttled'
    assert result['instances'][0]['after'] == ['sg-0001', 'sg-0004']
    assert any('the reads could not confirm' in str(w) for w in result['warnings'])


# -- on_missing / on_refused: a stale fleet -------------------------------------------------------------

def refuse_cccc(self, targets):
    return [(t['target_id'], 'is STOPPING') for t in targets if t['target_id'] == 'i-cccc' and t['before'] != t['after']]


def test_a_missing_instance_fails_the_task_by_default_and_says_how_to_skip_it(cloud, capsys):
    result = run(dict(instance_ids=['i-aaaa', 'i-zzzz'], security_group_ids=['sg-0004']), capsys=capsys)
    assert result['failed'] and result['missing_instance_ids'] == ['i-zzzz']
    assert result['msg'] == 'instance_ids: i-zzzz not found in Memory Cloud; nothing was changed (on_missing=skip changes the others)'
    assert writes(cloud.calls) == []


@pytest.mark.parametrize('check_mode', [True, False])
def test_on_missing_skip_changes_the_others_and_lists_the_missing(cloud, capsys, check_mode):
    args = dict(instance_ids=['i-aaaa', 'i-zzzz', 'i-bbbb', 'i-yyyy'], security_group_ids=['sg-0004'], on_missing='skip')
    result = run(args, check_mode=check_mode, capsys=capsys)
    assert result['changed'] and not result.get('failed')
    assert result['missing_instance_ids'] == ['i-zzzz', 'i-yyyy']
    assert [t['instance_id'] for t in result['instances']] == ['i-aaaa', 'i-bbbb']
    assert sorted(result['diff']['after']) == ['i-aaaa', 'i-bbbb']
    assert result['operations'] == [{'action': 'bind', 'security_group_ids': ['sg-0004'], 'instance_ids': ['i-aaaa', 'i-bbbb']}]
    assert 'instance_ids: i-zzzz, i-yyyy not found in Memory Cloud; skipped (on_missing=skip)' in json.dumps(result['warnings'])
    assert writes(cloud.calls) == ([] if check_mode else [('bind', ('sg-0004',), ('i-aaaa', 'i-bbbb'))])


def test_on_missing_skip_with_nothing_missing_returns_an_empty_list(cloud, capsys):
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004'], on_missing='skip'), capsys=capsys)
    assert result['changed'] and result['missing_instance_ids'] == []


def test_a_refused_instance_fails_the_task_by_default_and_says_how_to_skip_it(cloud, capsys, monkeypatch):
    monkeypatch.setattr(MemoryProvider, 'refusals', refuse_cccc, raising=False)
    result = run(dict(instance_ids=['i-aaaa', 'i-cccc'], security_group_ids=['sg-0004']), capsys=capsys)
    assert result['failed'] and result['refused_instance_ids'] == ['i-cccc']
    assert result['msg'] == 'instance i-cccc: is STOPPING; nothing was changed (on_refused=skip changes the others)'
    assert writes(cloud.calls) == []


@pytest.mark.parametrize('check_mode', [True, False])
def test_on_refused_skip_changes_the_others_and_lists_the_refused(cloud, capsys, monkeypatch, check_mode):
    monkeypatch.setattr(MemoryProvider, 'refusals', refuse_cccc, raising=False)
    args = dict(instance_ids=['i-aaaa', 'i-cccc', 'i-bbbb'], security_group_ids=['sg-0004'], on_refused='skip', on_missing='skip')
    result = run(args, check_mode=check_mode, capsys=capsys)
    assert result['changed'] and not result.get('failed')
    assert result['refused_instance_ids'] == ['i-cccc'] and result['missing_instance_ids'] == []
    assert [t['instance_id'] for t in result['instances']] == ['i-aaaa', 'i-bbbb']
    assert sorted(result['diff']['before']) == ['i-aaaa', 'i-bbbb']
    assert result['operations'] == [{'action': 'bind', 'security_group_ids': ['sg-0004'], 'instance_ids': ['i-aaaa', 'i-bbbb']}]
    assert 'instance i-cccc: is STOPPING; skipped (on_refused=skip)' in json.dumps(result['warnings'])
    assert cloud.cloud['i-cccc'] == ['sg-0003']
    assert writes(cloud.calls) == ([] if check_mode else [('bind', ('sg-0004',), ('i-aaaa', 'i-bbbb'))])


def test_on_refused_skip_with_every_instance_refused_changes_nothing(cloud, capsys, monkeypatch):
    monkeypatch.setattr(MemoryProvider, 'refusals', refuse_cccc, raising=False)
    result = run(dict(instance_ids=['i-cccc'], security_group_ids=['sg-0004'], on_refused='skip'), capsys=capsys)
    assert not result['changed'] and result['instances'] == [] and result['refused_instance_ids'] == ['i-cccc']
    assert writes(cloud.calls) == []


def test_a_failure_after_skipping_still_lists_what_was_skipped(cloud, capsys):
    cloud.fail[('bind', 'sg-0004')] = (transport.QUOTA, False)
    result = run(dict(instance_ids=['i-aaaa', 'i-zzzz'], security_group_ids=['sg-0004'], on_missing='skip'), capsys=capsys)
    assert result['failed'] and result['missing_instance_ids'] == ['i-zzzz']
    assert [t['instance_id'] for t in result['instances']] == ['i-aaaa']


def test_a_limit_from_max_security_groups_is_named_as_the_task_s_option(cloud, capsys):
    """Issue 21: not "the provider allows at most 2" when the 2 came from the task."""
    result = run(dict(instance_ids=['i-bbbb'], security_group_ids=['sg-0004'], max_security_groups=2), capsys=capsys)
    assert result['failed'] and result['msg'] == ("instance i-bbbb would have 3 security groups (sg-0001, sg-0002, sg-0004); the task's "
                                                  "max_security_groups (Memory Cloud's default quota is 3) allows at most 2 per instance; "
                                                  "nothing was changed")
    result = run(dict(instance_ids=['i-bbbb'], security_group_ids=['sg-0003', 'sg-0004']), capsys=capsys)
    assert result['failed'] and 'would have 4 security groups (sg-0001, sg-0002, sg-0003, sg-0004); the provider allows at most 3' in result['msg']
    assert writes(cloud.calls) == []


class HardLimitProvider(MemoryProvider):
    """A cloud whose limit of 3 groups is documented as hard, and whose targets may have no group."""
    hard_max_groups = 3
    constraints = planner.Constraints(min_groups=0, max_groups=3, batch_size=2)


def test_max_security_groups_above_a_hard_limit_is_refused_naming_option_value_and_limit(cloud, capsys):
    args = dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0002'], max_security_groups=4)
    result = run(args, capsys=capsys, provider=HardLimitProvider)
    assert result['failed'] and result['msg'] == ("max_security_groups: 4 is above Memory Cloud's hard limit of 3 security groups per "
                                                  "instance, which no quota raises; give 3 or less")
    assert cloud.calls == []
    assert not run(dict(args, max_security_groups=3), capsys=capsys, provider=HardLimitProvider).get('failed')
    # Without a declared hard limit, a quota above the default is the user's to know.
    assert not run(args, capsys=capsys).get('failed')


def test_allow_no_groups_exists_only_where_a_target_may_have_no_group():
    assert 'allow_no_groups' in engine.argument_spec(HardLimitProvider)
    assert engine.argument_spec(HardLimitProvider)['allow_no_groups'] == dict(type='bool', default=False)
    assert 'allow_no_groups' not in engine.argument_spec(MemoryProvider)
    assert 'allow_no_groups' in engine.argument_spec(TencentCloud) and 'allow_no_groups' not in engine.argument_spec(BaiduCloud)


def test_purge_to_no_group_is_refused_before_any_request_unless_allowed(cloud, capsys):
    args = dict(instance_ids=['i-aaaa', 'i-bbbb'], security_group_ids=[], purge=True)
    for check_mode in (True, False):
        result = run(args, check_mode=check_mode, capsys=capsys, provider=HardLimitProvider)
        assert result['failed'] and result['msg'] == ('purge: true with an empty security_group_ids would unbind every security group '
                                                      'from every instance listed in instance_ids; set allow_no_groups: true if that '
                                                      'is what you want')
    assert cloud.calls == []
    result = run(dict(args, allow_no_groups=True), capsys=capsys, provider=HardLimitProvider)
    assert result['changed'] and cloud.cloud['i-aaaa'] == [] and cloud.cloud['i-bbbb'] == []
    # state=absent of listed groups is explicit, and purge with a list is a replacement: neither needs it.
    cloud.cloud['i-aaaa'] = ['sg-0001']
    assert not run(dict(args, purge=False, state='absent', security_group_ids=['sg-0001']), capsys=capsys,
                   provider=HardLimitProvider).get('failed')


# -- issue 20: the optional await_ready hook --------------------------------------------------

class AwaitingProvider(MemoryProvider):
    """Memory Cloud where i-bbbb is busy: await_ready waits for it, meanwhile someone else unbinds sg-0002 from it."""

    completion = 'eventual'
    visibility_timeout = 1
    awaited = []

    def await_ready(self, targets, deadline):
        self.awaited.append(([t['target_id'] for t in targets], deadline is not None))
        if not any(t['target_id'] == 'i-bbbb' for t in targets):
            return {}
        self.cloud['i-bbbb'] = ['sg-0001']
        return {'i-bbbb': ['sg-0001', 'sg-0001']}      # a duplicate the cloud listed: counted once


@pytest.mark.parametrize('check_mode', [False, True])
def test_await_ready_is_given_the_targets_to_change_and_the_plan_is_made_from_what_it_read(cloud, capsys, check_mode):
    AwaitingProvider.awaited = []
    args = dict(instance_ids=['i-aaaa', 'i-bbbb', 'i-cccc'], security_group_ids=['sg-0001', 'sg-0003'], purge=True)
    result = run(args, check_mode=check_mode, capsys=capsys, provider=AwaitingProvider)
    assert AwaitingProvider.awaited == [(['i-aaaa', 'i-bbbb', 'i-cccc'], True)]
    # Planned from i-bbbb as awaited (['sg-0001']), not as first read (['sg-0001', 'sg-0002']): no unbind of sg-0002.
    assert [i['before'] for i in result['instances']] == [['sg-0001'], ['sg-0001'], ['sg-0003']]
    assert sorted(result['operations'], key=str) == [
        {'action': 'bind', 'security_group_ids': ['sg-0001'], 'instance_ids': ['i-cccc']},
        {'action': 'bind', 'security_group_ids': ['sg-0003'], 'instance_ids': ['i-aaaa', 'i-bbbb']}]


def test_await_ready_is_not_called_when_nothing_changes(cloud, capsys):
    AwaitingProvider.awaited = []
    result = run(dict(instance_ids=['i-bbbb'], security_group_ids=['sg-0001']), capsys=capsys, provider=AwaitingProvider)
    assert not result['changed'] and AwaitingProvider.awaited == []


# -- issue 20: waiting, write states and failure reports ---------------------------------------------------

class ConcurrentEventualProvider(EventualMemoryProvider):
    """An eventual cloud on which another playbook binds sg-0003 to the same instances as our write goes out."""

    def apply(self, op):
        for tid in op['target_ids']:
            self.cloud[tid] = planner.apply_operation(self.cloud[tid], {'action': 'bind', 'security_group_ids': ['sg-0003']})
        return EventualMemoryProvider.apply(self, op)


def test_an_eventual_cloud_waits_for_our_change_not_for_the_whole_list(lagging, capsys, fake_clock):
    """Before: the wait wanted the list to equal our plan, and the other playbook's group kept it waiting the whole
    15 s window (19 s for 50 instances on Alibaba Cloud and Zenlayer, 2.3 s on the other clouds)."""
    lagging.cloud['i-aaaa'] = ['sg-0001']
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004']), capsys=capsys, provider=ConcurrentEventualProvider)
    assert result['changed'] and sorted(result['instances'][0]['after']) == ['sg-0001', 'sg-0003', 'sg-0004']
    assert fake_clock['now'] < 5 and len(writes(lagging.calls)) == 1


class ReversedEventualProvider(EventualMemoryProvider):
    def read(self, ids):
        found, missing = EventualMemoryProvider.read(self, ids)
        return dict((tid, groups[::-1]) for tid, groups in found.items()), missing


def test_an_eventual_cloud_compares_lists_ignoring_order_where_order_means_nothing(lagging, capsys, fake_clock):
    """Before: a cloud answering in another order cost the whole 15 s window on every wait."""
    lagging.cloud['i-aaaa'] = ['sg-0001', 'sg-0002', 'sg-0003']
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004', 'sg-0002'], purge=True), capsys=capsys,
                 provider=ReversedEventualProvider)
    assert result['changed'] and sorted(result['instances'][0]['after']) == ['sg-0002', 'sg-0004']
    assert fake_clock['now'] < 5


def test_an_accepted_write_that_never_shows_fails_at_the_one_deadline(lagging, capsys, fake_clock, monkeypatch):
    """An eventual cloud whose reads never show an accepted write: failed at wait_timeout after the first write
    (not twice that, nor at a window of its own), changed (the cloud accepted it), after shows the accepted change."""
    monkeypatch.setattr(EventualMemoryProvider, 'lag', 10 ** 6)
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004'], wait_timeout=40), capsys=capsys,
                 provider=EventualMemoryProvider)
    assert result['failed'] and 'do not show them after wait_timeout (40 s)' in result['msg']
    assert 40 <= fake_clock['now'] <= 41 and result['changed'] and len(writes(lagging.calls)) == 1
    assert result['instances'][0]['after'] == ['sg-0001', 'sg-0004']
    assert result['msg'].split('\n')[0].endswith('partially applied: i-aaaa now has [sg-0001, sg-0004]')


def test_a_failure_after_accepted_writes_is_changed_and_says_what_was_applied_first(cloud, capsys):
    """Before: changed was false on every failure, and only instances said what had been applied."""
    cloud.fail[('unbind', 'sg-0001')] = (transport.QUOTA, False)
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004'], purge=True), capsys=capsys)
    assert result['failed'] and result['changed']
    assert result['msg'] == ('Memory Cloud failed unbinding sg-0001 from instance(s) i-aaaa: Boom it broke, key ******** (request ID '
                             'req-x); partially applied: i-aaaa now has [sg-0001, sg-0004]')
    cloud.cloud['i-bbbb'] = ['sg-0001']
    cloud.fail[('bind', 'sg-0004')] = (transport.QUOTA, False)
    result = run(dict(instance_ids=['i-bbbb'], security_group_ids=['sg-0004']), capsys=capsys)
    assert result['failed'] and not result['changed'] and result['msg'].endswith('; nothing was changed')


def test_a_server_error_gets_fewer_rounds_than_a_lost_answer(cloud, capsys, monkeypatch):
    """Before: a write answered 5xx every time was re-planned and re-sent `retries` times, like a lost answer."""
    monkeypatch.setattr(transport.Backoff, 'delay', lambda self, attempt: 0.0)
    cloud.fail[('bind', 'sg-0004')] = [(transport.TRANSIENT, False)] * 20
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004'], retries=8), capsys=capsys)
    assert result['failed'] and len(writes(cloud.calls)) == 1 + engine.ANSWERED_ERROR_ROUNDS and not result['changed']
    cloud.calls[:] = []
    cloud.fail[('bind', 'sg-0004')] = [(transport.AMBIGUOUS, False)] * 20
    result = run(dict(instance_ids=['i-aaaa'], security_group_ids=['sg-0004'], retries=8), capsys=capsys)
    assert result['failed'] and len(writes(cloud.calls)) == 9 and 'still not applied after 8 retries' in result['msg']


class BatchQuotaProvider(MemoryProvider):
    """Binds in batches of up to 4, all or nothing; i-cccc is at a quota of its own."""

    constraints = planner.Constraints(min_groups=1, max_groups=3, batch_size=4)
    per_target_errors = (transport.QUOTA,)

    def apply(self, op):
        self.calls.append((op['action'], tuple(op['security_group_ids']), tuple(op['target_ids'])))
        if 'i-cccc' in op['target_ids']:
            raise transport.ProviderError('memory', 'Bind', 'Quota', 'one instance is at its quota', 'req-q', 400, transport.QUOTA)
        for iid in op['target_ids']:
            self.cloud[iid] = planner.apply_operation(self.cloud[iid], op)
        return ['req-%d' % len(self.calls)]


def test_a_per_target_refusal_in_a_batch_is_narrowed_to_its_target(cloud, capsys):
    cloud.cloud.update({'i-dddd': ['sg-0001'], 'i-eeee': ['sg-0001']})
    ids = ['i-aaaa', 'i-bbbb', 'i-cccc', 'i-dddd', 'i-eeee']
    result = run(dict(instance_ids=ids, security_group_ids=['sg-0004']), capsys=capsys, provider=BatchQuotaProvider)
    assert result['failed'] and result['changed'] and result['error']['code'] == 'Quota'
    assert result['msg'].startswith('Memory Cloud failed binding sg-0004 to instance(s) i-cccc: Quota')
    assert [i['instance_id'] for i in result['instances'] if 'sg-0004' in i['after']] == ['i-aaaa', 'i-bbbb', 'i-dddd', 'i-eeee']
    # 4 + 1 in the plan; the refused batch of 4 halved twice: [a, b] [c, d] -> [c] [d].
    assert len(writes(cloud.calls)) == 6


class OneByOneProvider(MemoryProvider):
    constraints = planner.Constraints(min_groups=1, max_groups=3, batch_size=1)


def test_every_lost_but_applied_write_is_in_operations(cloud, capsys):
    """Before: of 3 writes whose answers were lost but which were applied, operations listed 1 (check mode: 3)."""
    cloud.fail[('bind', 'sg-0004')] = [(transport.AMBIGUOUS, True)] * 3
    args = dict(instance_ids=['i-aaaa', 'i-bbbb', 'i-cccc'], security_group_ids=['sg-0004'])
    result = run(args, capsys=capsys, provider=OneByOneProvider)
    assert result['changed'] and len(writes(cloud.calls)) == 3
    assert [op['instance_ids'] for op in result['operations']] == [['i-aaaa'], ['i-bbbb'], ['i-cccc']]
