# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property tests of the planner: bounds, end state, batching, no-op."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

import pytest
from hypothesis import given, settings, strategies as st, find, HealthCheck

from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner

SGS = ['sg-%d' % i for i in range(12)]


@st.composite
def scenarios(draw, with_set=None):
    min_groups = draw(st.integers(0, 2))
    max_groups = draw(st.integers(max(min_groups, 1), 6))
    limits = planner.Constraints(
        min_groups=min_groups, max_groups=max_groups, ordered=draw(st.booleans()),
        batch_size=draw(st.sampled_from([1, 2, 3, 100])),
        set_batch_size=draw(st.sampled_from([0, 1, 2, 100])) if with_set is None else (2 if with_set else 0))
    n = draw(st.integers(0, 6))
    current = {}
    for i in range(n):
        size = draw(st.integers(min_groups, max_groups))
        current['i-%d' % i] = draw(st.permutations(SGS))[:size]
    wanted = draw(st.permutations(SGS))[:draw(st.integers(0, 7))]
    state = draw(st.sampled_from(['present', 'absent']))
    purge = draw(st.booleans())
    return current, wanted, state, purge, limits


def expected_after(before, wanted, state, purge, limits=None):
    """Purge reproduces the wanted order where the provider keeps one (ordered, or a replace call);
    otherwise bind and unbind keep the remaining groups in place and append the new ones. Where
    order means nothing, the same groups in another order are no change."""
    if state == 'absent':
        return [g for g in before if g not in wanted]
    if purge and limits is not None and not limits.ordered and sorted(before) == sorted(wanted):
        return list(before)
    if purge and (limits is None or limits.ordered or (limits.set_batch_size > 0 and wanted)):
        return list(wanted)
    kept = [g for g in before if g in wanted] if purge else list(before)
    return kept + [g for g in wanted if g not in before]


def violations(current, wanted, state, purge, limits, plan):
    """Everything wrong with a plan; empty when it satisfies (a)-(d)."""
    problems = []
    lists = dict((iid, list(groups)) for iid, groups in current.items())
    targets = dict((t['target_id'], t) for t in plan['targets'])
    for op in plan['operations']:
        size = limits.set_batch_size if op['action'] == 'set' else limits.batch_size
        if len(op['target_ids']) > size or len(set(op['target_ids'])) != len(op['target_ids']):
            problems.append('batch too large or repeats an instance: %r' % op)
        if op['action'] != 'set' and len(op['security_group_ids']) != 1:
            problems.append('bind/unbind takes one group: %r' % op)
        for iid in op['target_ids']:
            groups = planner.apply_operation(lists[iid], op)
            if op['action'] != 'set' and groups == lists[iid]:
                problems.append('no-op write on %s: %r' % (iid, op))
            lists[iid] = groups
            if not limits.min_groups <= len(groups) <= limits.max_groups:   # (a)
                problems.append('%s has %d groups after %r' % (iid, len(groups), op))
    for iid, before in current.items():
        want = expected_after(before, wanted, state, purge, limits)
        target = targets[iid]
        if target['before'] != before or target['after'] != want:
            problems.append('%s: wrong before/after %r' % (iid, target))
        got = lists[iid]                                                      # (b)
        if got != want:
            problems.append('%s ends at %r, wanted %r' % (iid, got, want))
        if target['added'] != [g for g in want if g not in before] or target['removed'] != [g for g in before if g not in want]:
            problems.append('%s: wrong added/removed' % iid)
    changing = [iid for iid in current if targets[iid]['before'] != targets[iid]['after']]
    if not changing and plan['operations']:                                   # (d)
        problems.append('operations planned although nothing changes')
    return problems


def feasible(current, wanted, state, purge, limits):
    for before in current.values():
        after = expected_after(before, wanted, state, purge)
        if not limits.min_groups <= len(after) <= limits.max_groups:
            return False
    return True


def reachable(before, after, limits):
    """Brute force: can single binds and unbinds, each within the bounds, turn before into after (as sets)?"""
    start, goal = frozenset(before), frozenset(after)
    universe = start | goal
    seen, todo = set([start]), [start]
    while todo:
        groups = todo.pop()
        if groups == goal:
            return True
        for sg in universe:
            nxt = groups - set([sg]) if sg in groups else groups | set([sg])
            if limits.min_groups <= len(nxt) <= limits.max_groups and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def test_reachable_knows_a_swap_at_equal_bounds_is_impossible():
    assert not reachable(['a'], ['b'], planner.Constraints(min_groups=1, max_groups=1))
    assert reachable(['a'], ['b'], planner.Constraints(min_groups=1, max_groups=2))


@settings(max_examples=600, deadline=None)
@given(scenarios())
def test_plans_keep_bounds_and_reach_the_wanted_lists(case):
    current, wanted, state, purge, limits = case
    try:
        plan = planner.plan(current, wanted, state, purge, limits)
    except planner.PlanError as exc:
        # Refused only when the end state is out of bounds, or cannot be reached one step at a time.
        if feasible(current, wanted, state, purge, limits):
            assert limits.set_batch_size == 0 or not purge or state == 'absent' or not wanted
            assert exc.target_id in current
            if not limits.ordered:
                # Reordering without a replace call is out of scope; for sets, the refusal must be necessary.
                before = current[exc.target_id]
                assert not reachable(before, expected_after(before, wanted, state, purge, limits), limits)
        return
    assert violations(current, wanted, state, purge, limits, plan) == []


@settings(max_examples=300, deadline=None)
@given(scenarios(with_set=False))
def test_without_bounds_pressure_each_group_is_one_call_per_batch(case):        # (c)
    current, wanted, state, purge, dummy = case
    limits = planner.Constraints(min_groups=0, max_groups=50, batch_size=2)
    plan = planner.plan(current, wanted, state, purge, limits)
    need = {}
    for target in plan['targets']:
        for sg in target['added']:
            need[('bind', sg)] = need.get(('bind', sg), 0) + 1
        for sg in target['removed']:
            need[('unbind', sg)] = need.get(('unbind', sg), 0) + 1
    calls = {}
    for op in plan['operations']:
        key = (op['action'], op['security_group_ids'][0])
        calls[key] = calls.get(key, 0) + 1
    assert calls == dict((key, int(math.ceil(n / 2.0))) for key, n in need.items())


@settings(max_examples=200, deadline=None)
@given(scenarios(with_set=True))
def test_set_calls_group_instances_with_the_same_list(case):                     # (c) for replace calls
    current, wanted, state, dummy, limits = case
    if state != 'present' or not wanted or not feasible(current, wanted, state, True, limits):
        return
    plan = planner.plan(current, wanted, 'present', True, limits)
    changing = [t for t in plan['targets'] if t['before'] != t['after']]
    replace_calls = int(math.ceil(len(changing) / 2.0))
    if all(op['action'] == 'set' for op in plan['operations']):
        assert len(plan['operations']) == replace_calls
        assert all(op['security_group_ids'] == list(wanted) for op in plan['operations'])
    else:       # binds and unbinds only when they take fewer calls
        assert all(op['action'] in ('bind', 'unbind') for op in plan['operations'])
        assert len(plan['operations']) < replace_calls


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_replanning_the_end_state_is_a_no_op(case):                               # (d)
    current, wanted, state, purge, limits = case
    try:
        plan = planner.plan(current, wanted, state, purge, limits)
    except planner.PlanError:
        return
    after = dict((t['target_id'], t['after']) for t in plan['targets'])
    assert planner.plan(after, wanted, state, purge, limits)['operations'] == []


def test_swap_at_the_floor_binds_first():
    limits = planner.Constraints(min_groups=1, max_groups=10)
    plan = planner.plan({'i-1': ['sg-a']}, ['sg-b'], 'present', True, limits)
    assert [(op['action'], op['security_group_ids']) for op in plan['operations']] == [('bind', ['sg-b']), ('unbind', ['sg-a'])]


def test_swap_at_the_ceiling_unbinds_first():
    limits = planner.Constraints(min_groups=1, max_groups=2)
    plan = planner.plan({'i-1': ['sg-a', 'sg-b']}, ['sg-c', 'sg-d'], 'present', True, limits)
    assert [(op['action'], op['security_group_ids'][0]) for op in plan['operations']] == [
        ('unbind', 'sg-a'), ('bind', 'sg-c'), ('unbind', 'sg-b'), ('bind', 'sg-d')]


@pytest.mark.parametrize('current, wanted, state, purge, limits, message', [
    ({'i-1': ['sg-a']}, [], 'present', True, planner.Constraints(min_groups=1), 'i-1 would have 0 security group(s) left; the provider requires at least 1'),
    ({'i-1': ['sg-a']}, ['sg-a'], 'absent', False, planner.Constraints(min_groups=1), 'at least 1'),
    ({'i-1': ['sg-a', 'sg-b']}, ['sg-c'], 'present', False, planner.Constraints(max_groups=2),
     'i-1 would have 3 security groups (sg-a, sg-b, sg-c); the provider allows at most 2'),
    ({'i-1': []}, ['sg-a', 'sg-a'], 'present', False, planner.Constraints(), 'lists sg-a more than once'),
    ({'i-1': ['sg-a']}, ['sg-b'], 'present', True, planner.Constraints(min_groups=1, max_groups=1), 'one security group at a time within 1..1'),
    ({'i-1': ['sg-a', 'sg-b']}, ['sg-b', 'sg-a'], 'present', True, planner.Constraints(ordered=True), 'cannot reach the order'),
])
def test_infeasible_requests_are_refused_naming_instance_and_limit(current, wanted, state, purge, limits, message):
    with pytest.raises(planner.PlanError) as err:
        planner.plan(current, wanted, state, purge, limits)
    assert message in str(err.value)


def test_ordered_purge_uses_one_set_call_per_batch_of_identical_lists():
    limits = planner.Constraints(max_groups=5, ordered=True, batch_size=100, set_batch_size=100)
    current = dict(('ins-%03d' % i, ['sg-b', 'sg-a']) for i in range(150))
    plan = planner.plan(current, ['sg-a', 'sg-b'], 'present', True, limits)
    assert [len(op['target_ids']) for op in plan['operations']] == [100, 50]
    assert all(op == dict(op, action='set', security_group_ids=['sg-a', 'sg-b']) for op in plan['operations'])


def test_a_purge_sends_batched_unbinds_when_replace_calls_take_one_target_each():
    """Tencent Cloud's ENIs: Disassociate takes 100 ENIs, ModifyNetworkInterfaceAttribute one."""
    limits = planner.Constraints(max_groups=5, ordered=True, batch_size=100, set_batch_size=1)
    current = dict(('eni-%03d' % i, ['sg-a', 'sg-b']) for i in range(150))
    plan = planner.plan(current, ['sg-b'], 'present', True, limits)
    assert [(op['action'], op['security_group_ids'], len(op['target_ids'])) for op in plan['operations']] == [
        ('unbind', ['sg-a'], 100), ('unbind', ['sg-a'], 50)]
    # An order the steps cannot reach (a swap) still takes the replace calls, and so does a tie (one target).
    swap = planner.plan(dict(('eni-%03d' % i, ['sg-b', 'sg-a']) for i in range(3)), ['sg-a', 'sg-b'], 'present', True, limits)
    assert [op['action'] for op in swap['operations']] == ['set'] * 3
    assert [op['action'] for op in planner.plan({'eni-1': ['sg-a', 'sg-b']}, ['sg-b'], 'present', True, limits)['operations']] == ['set']


def test_unordered_purge_of_the_same_groups_in_another_order_changes_nothing():
    """Found by the chaos campaign (alicloud seed 1030): Alibaba Cloud (unordered, with a replace call)
    planned a ModifyInstanceAttribute, and reported changed, only to reorder the same two groups."""
    limits = planner.Constraints(min_groups=1, max_groups=5, ordered=False, batch_size=1, set_batch_size=1)
    plan = planner.plan({'i-1': ['sg-b', 'sg-a'], 'i-2': ['sg-b']}, ['sg-a', 'sg-b'], 'present', True, limits)
    assert [t['after'] for t in plan['targets']] == [['sg-b', 'sg-a'], ['sg-a', 'sg-b']]
    assert plan['operations'] == [{'action': 'set', 'security_group_ids': ['sg-a', 'sg-b'], 'target_ids': ['i-2']}]
    ordered = planner.Constraints(max_groups=5, ordered=True, batch_size=100, set_batch_size=100)
    assert planner.plan({'i-1': ['sg-b', 'sg-a']}, ['sg-a', 'sg-b'], 'present', True, ordered)['operations']


def test_additive_bind_groups_all_instances_in_one_call_per_group():
    limits = planner.Constraints(max_groups=5, batch_size=100)
    current = {'i-1': [], 'i-2': ['sg-x'], 'i-3': ['sg-y']}
    plan = planner.plan(current, ['sg-x', 'sg-y'], 'present', False, limits)
    assert plan['operations'] == [
        {'action': 'bind', 'security_group_ids': ['sg-x'], 'target_ids': ['i-1', 'i-3']},
        {'action': 'bind', 'security_group_ids': ['sg-y'], 'target_ids': ['i-1', 'i-2']},
    ]
    assert [t['after'] for t in plan['targets']] == [['sg-x', 'sg-y'], ['sg-x', 'sg-y'], ['sg-y', 'sg-x']]


def _remove_first_steps(before, after, limits, rank):
    """A deliberately broken ordering: unbind everything, then bind."""
    return [('unbind', g) for g in before if g not in after] + [('bind', g) for g in after if g not in before]


def test_the_properties_catch_a_remove_first_ordering(monkeypatch):
    monkeypatch.setattr(planner, '_steps', _remove_first_steps)

    def broken(case):
        current, wanted, state, purge, limits = case
        try:
            plan = planner.plan(current, wanted, state, purge, limits)
        except planner.PlanError:
            return False
        return bool(violations(current, wanted, state, purge, limits, plan))

    counterexample = find(scenarios(with_set=False), broken,
                          settings=settings(max_examples=2000, database=None, suppress_health_check=list(HealthCheck)))
    current, wanted, state, purge, limits = counterexample
    plan = planner.plan(current, wanted, state, purge, limits)
    assert any('groups after' in p for p in violations(current, wanted, state, purge, limits, plan))


@st.composite
def set_only_scenarios(draw):
    """A provider whose only call replaces one target's whole list (Baidu's ENI update): batch_size 0."""
    current, wanted, state, purge, limits = draw(scenarios(with_set=True))
    limits = planner.Constraints(min_groups=max(limits.min_groups, 1), max_groups=limits.max_groups, ordered=limits.ordered,
                                 batch_size=0, set_batch_size=1)
    current = dict((tid, groups) for tid, groups in current.items() if len(groups) >= limits.min_groups)
    return current, wanted, state, purge, limits


@settings(max_examples=400, deadline=None)
@given(set_only_scenarios())
def test_without_bind_calls_every_change_is_one_set_per_target_within_bounds(case):
    current, wanted, state, purge, limits = case
    try:
        plan = planner.plan(current, wanted, state, purge, limits)
    except planner.PlanError as exc:
        # Only an end state out of bounds is refused: a replace reaches any list in one call.
        assert not feasible(current, wanted, state, purge, limits) or not expected_after(current[exc.target_id], wanted, state, purge, limits)
        return
    assert violations(current, wanted, state, purge, limits, plan) == []
    changing = [t['target_id'] for t in plan['targets'] if t['before'] != t['after']]
    assert all(op['action'] == 'set' for op in plan['operations'])
    assert sorted(tid for op in plan['operations'] for tid in op['target_ids']) == sorted(changing)


def test_without_bind_calls_an_additive_bind_and_an_unbind_are_sets_of_the_whole_list():
    limits = planner.Constraints(min_groups=1, max_groups=10, batch_size=0, set_batch_size=1)
    plan = planner.plan({'eni-1': ['g-a', 'g-b']}, ['g-c'], 'present', False, limits)
    assert plan['operations'] == [{'action': 'set', 'security_group_ids': ['g-a', 'g-b', 'g-c'], 'target_ids': ['eni-1']}]
    plan = planner.plan({'eni-1': ['g-a', 'g-b']}, ['g-a'], 'absent', False, limits)
    assert plan['operations'] == [{'action': 'set', 'security_group_ids': ['g-b'], 'target_ids': ['eni-1']}]


def test_without_bind_calls_no_target_is_left_with_an_empty_list():
    limits = planner.Constraints(min_groups=0, max_groups=10, batch_size=0, set_batch_size=1)
    with pytest.raises(planner.PlanError, match='eni-1 would have no security group left'):
        planner.plan({'eni-1': ['g-a']}, ['g-a'], 'absent', False, limits, 'network interface')


def test_constraints_need_one_kind_of_write_call():
    with pytest.raises(ValueError):
        planner.Constraints(batch_size=0, set_batch_size=0)


# -- the schedule: the order the engine may send the operations in, whatever order the answers come in ----------

def run_schedule(pick, plan, current, limits, failures):
    """Play planner.Schedule against a cloud that applies each write to its targets one by one, at any moment between
    send and answer, and answers in any order (pick(options) chooses); a target may fail (when failures). Returns
    (lists, failed targets, problems)."""
    lists = dict((iid, list(groups)) for iid, groups in current.items())
    schedule = planner.Schedule(plan['operations'])
    in_flight = {}          # index -> (operation, its targets not applied yet)
    failed, problems, sent = set(), [], []

    def release(ops):
        for index, op in ops:
            busy = set(tid for other, dummy in in_flight.values() for tid in other['target_ids'])
            if busy & set(op['target_ids']):
                problems.append('%r sent while an earlier write to one of its targets is in flight' % op)
            in_flight[index] = (op, list(op['target_ids']))
            sent.append(index)

    release(schedule.start())
    while in_flight:
        index = pick(sorted(in_flight))
        op, left = in_flight[index]
        if left and pick([False, True]):
            tid = left.pop(pick(list(range(len(left)))))
            lists[tid] = planner.apply_operation(lists[tid], op)
            if not limits.min_groups <= len(lists[tid]) <= limits.max_groups:
                problems.append('%s has %d groups while %r is in flight' % (tid, len(lists[tid]), op))
            continue
        del in_flight[index]
        lost = set([pick(left)]) if failures and left and pick([False, True]) else set()
        for tid in left:
            if tid not in lost:
                lists[tid] = planner.apply_operation(lists[tid], op)
                if not limits.min_groups <= len(lists[tid]) <= limits.max_groups:
                    problems.append('%s has %d groups after %r' % (tid, len(lists[tid]), op))
        failed.update(lost)
        schedule.drop(sorted(lost))
        schedule.done([tid for tid in op['target_ids'] if tid not in lost])
        release(schedule.take())
    unsent = [i for i, op in enumerate(plan['operations']) if i not in sent and set(op['target_ids']) - failed]
    if unsent:
        problems.append('operations never sent: %r' % [plan['operations'][i] for i in unsent])
    return lists, failed, problems


@settings(max_examples=400, deadline=None)
@given(scenarios(), st.data(), st.booleans())
def test_any_completion_order_keeps_every_target_within_bounds_and_reaches_the_plan(case, data, failures):
    current, wanted, state, purge, limits = case
    try:
        plan = planner.plan(current, wanted, state, purge, limits)
    except planner.PlanError:
        return
    lists, failed, problems = run_schedule(lambda options: data.draw(st.sampled_from(options)), plan, current, limits, failures)
    assert problems == []
    for target in plan['targets']:
        if target['target_id'] not in failed:
            assert lists[target['target_id']] == target['after']
        else:       # stopped at its failed write: a prefix of its steps, the bounds checked above
            assert target['before'] != target['after']


def test_the_schedule_overlaps_steps_of_different_targets_and_keeps_each_targets_order():
    limits = planner.Constraints(min_groups=1, max_groups=2, batch_size=1)
    plan = planner.plan({'i-1': ['a'], 'i-2': ['a']}, ['b', 'c'], 'present', True, limits)
    ops = plan['operations']
    schedule = planner.Schedule(ops)
    first = schedule.start()
    assert [op['target_ids'] for dummy, op in first] == [['i-1'], ['i-2']] and all(op['action'] == 'bind' for dummy, op in first)
    schedule.done(['i-2'])          # i-2 answered first: its next step goes, i-1's waits for its own answer
    second = schedule.take()
    assert [(op['action'], op['target_ids']) for dummy, op in second] == [('unbind', ['i-2'])]
    assert schedule.take() == []
    schedule.drop(['i-1'])          # i-1 failed: its later steps are never released
    schedule.done(['i-2'])
    assert [(op['action'], op['security_group_ids'], op['target_ids']) for dummy, op in schedule.take()] == [('bind', ['c'], ['i-2'])]
    schedule.done(['i-2'])
    assert schedule.take() == [] and not schedule.has_next('i-2')


def test_a_batch_waits_for_every_target_in_it_and_goes_without_a_failed_one():
    ops = [{'action': 'bind', 'security_group_ids': ['b'], 'target_ids': ['i-1']},
           {'action': 'bind', 'security_group_ids': ['b'], 'target_ids': ['i-2']},
           {'action': 'unbind', 'security_group_ids': ['a'], 'target_ids': ['i-1', 'i-2']}]
    schedule = planner.Schedule(ops)
    assert [index for index, dummy in schedule.start()] == [0, 1]
    schedule.done(['i-1'])
    assert schedule.take() == []
    schedule.drop(['i-2'])
    assert schedule.take() == [(2, dict(ops[2], target_ids=['i-1']))]


def test_the_schedule_properties_catch_a_schedule_that_releases_too_early(monkeypatch):
    # A schedule that releases every operation at once lets a target's steps overlap: the checks must see it.
    monkeypatch.setattr(planner.Schedule, 'start', lambda self: list(enumerate(self.operations)))
    monkeypatch.setattr(planner.Schedule, 'take', lambda self: [])
    limits = planner.Constraints(min_groups=1, max_groups=2, batch_size=1)
    current = {'i-1': ['a']}
    plan = planner.plan(current, ['b', 'c'], 'present', True, limits)
    # Both binds applied before the unbind: i-1 above its ceiling.
    script = iter([0, True, 0, 2, True, 0])
    problems = run_schedule(lambda options: options[next(script, 0)] if options != [False, True] else next(script, False),
                            plan, current, limits, False)[2]
    assert any('sent while an earlier write' in p for p in problems)
    assert any('i-1 has 3 groups' in p for p in problems)
