# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Engine.execute's schedule with a provider whose cloud is a dict: steps of different targets overlap, each target's
steps stay in order (and, where writes show later, wait until they show), and the bookkeeping is linear."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal
import threading

import pytest

from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport


class DictCloud:
    name = 'dict'
    display_name = 'Dict Cloud'
    target_kinds = (planner.TargetKind('instance_ids', 'instances', 'instance_id', r'i-[0-9]+', 'instance'),)
    completion = 'sync'

    def __init__(self, cloud, batch_size=1, completion='sync'):
        self.constraints = planner.Constraints(min_groups=1, max_groups=2, batch_size=batch_size)
        self.completion = completion
        self.cloud = cloud
        self.shown = dict((tid, list(groups)) for tid, groups in cloud.items())    # what reads show ('eventual')
        self.transport = transport.Transport('dict', session=object())
        self.lock = threading.Lock()
        self.log = []           # ('write', op) and ('read', ids), in order
        self.problems = []

    def read(self, ids):
        with self.lock:
            self.log.append(('read', tuple(ids)))
            found = dict((tid, list(self.shown[tid])) for tid in ids)
            # Shown from the next read on: a write becomes visible one read after it is applied.
            self.shown.update((tid, list(self.cloud[tid])) for tid in ids)
        return found, []

    def apply(self, op):
        with self.lock:
            self.log.append(('write', op))
            for tid in op['target_ids']:
                if self.completion == 'eventual' and self.shown[tid] != self.cloud[tid]:
                    self.problems.append('%r sent before %s showed the previous write' % (op, tid))
                self.cloud[tid] = planner.apply_operation(self.cloud[tid], op)
                if not 1 <= len(self.cloud[tid]) <= 2:
                    self.problems.append('%s has %r' % (tid, self.cloud[tid]))
        return ['req']


def new_engine(provider, ids, wanted, purge=True):
    params = {'instance_ids': ids, 'security_group_ids': wanted, 'state': 'present', 'purge': purge,
              'max_concurrency': 4, 'wait_timeout': 30}
    return engine.Engine(provider, params, False)


def test_a_targets_next_step_goes_as_soon_as_its_previous_one_is_answered_while_others_are_in_flight():
    cloud = {'i-1': ['a'], 'i-2': ['a']}
    provider = DictCloud(cloud)
    released = threading.Event()
    plain_apply = provider.apply

    def apply(op):
        # i-1's first bind is answered only once i-2 has moved on to its unbind: impossible with waves in series.
        if op['target_ids'] == ['i-1'] and op['action'] == 'bind' and op['security_group_ids'] == ['b']:
            if not released.wait(10):
                raise AssertionError('i-2 waited for i-1')
        if op['target_ids'] == ['i-2'] and op['action'] == 'unbind':
            released.set()
        return plain_apply(op)

    provider.apply = apply
    run = new_engine(provider, ['i-1', 'i-2'], ['b', 'c'])
    plan = planner.plan(dict(cloud), ['b', 'c'], 'present', True, provider.constraints)
    assert run.execute(plan['operations'], dict(cloud)) == []
    assert released.is_set() and provider.problems == []
    assert cloud == {'i-1': ['b', 'c'], 'i-2': ['b', 'c']}
    assert len(run.operations_done) == 6


def test_on_an_eventual_cloud_a_targets_next_step_waits_until_a_read_shows_its_previous_one():
    cloud = dict(('i-%d' % i, ['a']) for i in range(40))
    provider = DictCloud(cloud, completion='eventual')
    provider.transport.sleep = lambda seconds: None       # the poll's pauses: nothing to wait for here
    run = new_engine(provider, sorted(cloud), ['b', 'c'])
    plan = planner.plan(dict(cloud), ['b', 'c'], 'present', True, provider.constraints)
    assert run.execute(plan['operations'], dict(cloud)) == []
    assert provider.problems == []
    assert all(groups == ['b', 'c'] for groups in cloud.values())
    # The targets waiting are read together (a tenth of them, or all when nothing else is in flight), not one by one.
    reads = [entry for entry in provider.log if entry[0] == 'read']
    # Each read shows a write one read late here: two reads per batch awaited, fewer than one per target and step.
    assert len(reads) < 2 * len(cloud) and any(len(ids) > 1 for dummy, ids in reads)


def test_a_few_targets_answered_together_are_awaited_with_one_read_not_one_each():
    cloud = dict(('i-%d' % i, ['a']) for i in range(10))
    provider = DictCloud(cloud, completion='eventual')
    provider.transport.sleep = lambda seconds: None
    run = new_engine(provider, sorted(cloud), ['b', 'c'])
    plan = planner.plan(dict(cloud), ['b', 'c'], 'present', True, provider.constraints)
    assert run.execute(plan['operations'], dict(cloud)) == []
    assert provider.problems == [] and all(groups == ['b', 'c'] for groups in cloud.values())
    # Ten targets are fewer than AWAIT_MIN: each step's awaited targets are read together once every write is answered
    # (two reads, a write showing one read late here), not a tenth (one target) at a time.
    reads = [ids for kind, ids in provider.log if kind == 'read']
    assert all(len(ids) == len(cloud) for ids in reads) and len(reads) <= 2 * 2


def test_batches_stay_batches_and_each_waits_for_its_targets_previous_step():
    cloud = dict(('i-%02d' % i, ['a']) for i in range(25))
    provider = DictCloud(cloud, batch_size=10)
    run = new_engine(provider, sorted(cloud), ['b', 'c'])
    plan = planner.plan(dict(cloud), ['b', 'c'], 'present', True, provider.constraints)
    assert run.execute(plan['operations'], dict(cloud)) == []
    writes = [op for kind, op in provider.log if kind == 'write']
    assert sorted(len(op['target_ids']) for op in writes) == sorted(len(op['target_ids']) for op in plan['operations'])
    assert provider.problems == [] and all(groups == ['b', 'c'] for groups in cloud.values())


@pytest.mark.parametrize('n, batch', [(60, 10), (240, 10), (120, 1)])
def test_the_bookkeeping_handles_each_target_a_bounded_number_of_times_per_operation_on_it(n, batch, monkeypatch):
    # Before the fix every answer copied every target's list (planner.simulate over the whole state): n x operations.
    handled = {'lists': 0}
    plain_simulate, plain_apply = planner.simulate, planner.apply_operation

    def simulate(current, operations):
        handled['lists'] += len(current)
        return plain_simulate(current, operations)

    def apply_operation(groups, operation):
        handled['lists'] += 1
        return plain_apply(groups, operation)

    monkeypatch.setattr(planner, 'simulate', simulate)
    monkeypatch.setattr(planner, 'apply_operation', apply_operation)
    cloud = dict(('i-%d' % i, ['a']) for i in range(n))
    provider = DictCloud(cloud, batch_size=batch)
    run = new_engine(provider, sorted(cloud), ['b'])
    plan = planner.plan(dict(cloud), ['b'], 'present', True, provider.constraints)
    handled['lists'] = 0
    assert run.execute(plan['operations'], dict(cloud)) == []
    assert len(plan['operations']) == 2 * n // batch
    target_operations = sum(len(op['target_ids']) for op in plan['operations'])
    # The provider's own apply_operation calls (one per target and operation) are counted too.
    assert handled['lists'] <= 2 * target_operations + n
    assert all(groups == ['b'] for groups in cloud.values())


def test_a_write_of_unknown_outcome_stops_the_release_of_further_steps():
    cloud = {'i-1': ['a'], 'i-2': ['a']}
    provider = DictCloud(cloud)
    plain_apply = provider.apply

    def apply(op):
        if op['target_ids'] == ['i-1'] and op['action'] == 'bind':
            raise transport.ProviderError('dict', 'Bind', 'Reset', 'lost', error_class=transport.AMBIGUOUS)
        return plain_apply(op)

    provider.apply = apply
    run = new_engine(provider, ['i-1', 'i-2'], ['b', 'c'])
    plan = planner.plan(dict(cloud), ['b', 'c'], 'present', True, provider.constraints)
    unknown = run.execute(plan['operations'], dict(cloud))
    assert [w.op['target_ids'] for w in unknown] == [['i-1']]
    # Nothing more is sent to i-1; i-2 may have gone on with what was released before the answer came, in order.
    i1 = [op for kind, op in provider.log if kind == 'write' and op['target_ids'] == ['i-1']]
    assert i1 == [] and provider.problems == []
    assert not [w for w in run.writes if w.targets(engine.SENT)]


def test_an_interrupt_while_writes_stream_stops_the_sending_and_classes_every_write(monkeypatch):
    monkeypatch.setattr(transport, 'IN_FLIGHT_GRACE_S', 0.2)
    cloud = dict(('i-%d' % i, ['a']) for i in range(6))
    provider = DictCloud(cloud)
    release = threading.Event()
    plain_apply = provider.apply

    def apply(op):
        if op['target_ids'] == ['i-0']:
            release.wait(10)        # in flight when the interrupt comes
        return plain_apply(op)

    provider.apply = apply
    run = new_engine(provider, sorted(cloud), ['b', 'c'])
    run.params['max_concurrency'] = 2
    plan = planner.plan(dict(cloud), ['b', 'c'], 'present', True, provider.constraints)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(transport.Interrupted) as caught:
        run.execute(plan['operations'], dict(cloud))
    release.set()
    timer.join()
    assert caught.value.signal_name == 'SIGINT' and provider.transport.stop.is_set()
    run.record_interrupt(caught.value)
    states = [state for write in run.writes for state in write.states.values()]
    assert engine.SENT not in states and engine.PLANNED not in states
    assert [w.op['target_ids'] for w in run.writes if w.targets(engine.UNKNOWN)] == [['i-0']]
    # Every write the cloud received is accepted or unknown; those never started changed nothing (failed).
    received = [op for kind, op in provider.log if kind == 'write']
    done = [w.op for w in run.writes if w.targets(engine.CONFIRMED)]
    assert all(op in received for op in done) and provider.problems == []
