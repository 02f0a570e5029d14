# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This module_utils is PRIVATE to the collection: it may change at any time.
"""The planner: from current and desired security-group lists to a plan, as plain data.

Pure: no I/O, no Ansible. Check mode, diff mode and the real run all use the
same plan, so they cannot disagree.

A plan is a dict::

    {'targets': [{'target_id', 'before', 'after', 'added', 'removed'}, ...],
     'operations': [{'action': 'bind' | 'unbind', 'security_group_ids': [sg],
                     'target_ids': [...]},
                    {'action': 'set', 'security_group_ids': [sg, ...],
                     'target_ids': [...]}, ...]}

A target is whatever holds security groups: an instance, or a network interface
on clouds that bind groups to those (see TargetKind). Operations run in list
order. Every operation keeps each of its targets within [min_groups,
max_groups], and the last one leaves each target at its ``after`` list.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class Constraints:
    """What a provider allows.

    min_groups/max_groups: SGs an instance must keep at every step.
    ordered: the list order is meaningful (priority), so purge must reproduce it.
    batch_size: instances one bind/unbind call takes; 0 if the provider has no
        such calls (every change is then a replace of the whole list).
    set_batch_size: instances one replace-the-whole-list call takes; 0 if the
        provider has no such call.
    max_groups_origin: who set max_groups, for messages (the provider by default).
    bounds_note: appended to a refusal for the bounds (how to do it instead, say).
    """

    def __init__(self, min_groups=0, max_groups=5, ordered=False, batch_size=1, set_batch_size=0, max_groups_origin='the provider',
                 bounds_note=''):
        if min_groups < 0 or max_groups < max(min_groups, 1) or batch_size < 0 or set_batch_size < 0 or batch_size + set_batch_size == 0:
            raise ValueError('inconsistent constraints')
        self.min_groups = min_groups
        self.max_groups = max_groups
        self.ordered = ordered
        self.batch_size = batch_size
        self.set_batch_size = set_batch_size
        self.max_groups_origin = max_groups_origin
        self.bounds_note = bounds_note


class TargetKind:
    """One kind of target a provider binds security groups to, as data.

    option: the module option listing the IDs (instance_ids); result_key: where the
    result lists them (instances); id_key: the ID's key in each item (instance_id);
    pattern: a regular expression an ID must match whole; word: for messages (instance).
    """

    def __init__(self, option, result_key, id_key, pattern, word):
        self.option = option
        self.result_key = result_key
        self.id_key = id_key
        self.pattern = pattern
        self.word = word


def chosen_kind(kinds, params):
    """The kind whose option the task set (the first kind when none is set)."""
    for kind in kinds:
        if params.get(kind.option) is not None:
            return kind
    return kinds[0]


class PlanError(Exception):
    """A request that cannot be carried out; raised before anything is written."""

    def __init__(self, msg, target_id=None):
        super(PlanError, self).__init__(msg)
        self.target_id = target_id


def _duplicates(items):
    seen, dups = set(), []
    for item in items:
        if item in seen and item not in dups:
            dups.append(item)
        seen.add(item)
    return dups


def _desired_after(before, wanted, state, purge, exact_order, ordered=True):
    """The list an instance ends with. exact_order: purge reproduces the wanted order (ordered
    providers, or a replace call); otherwise the kept groups stay in place and new ones are
    appended, which is what bind and unbind calls produce. Where order means nothing (not
    ordered), a list that already has exactly the wanted groups is left as it is."""
    if state == 'absent':
        return [sg for sg in before if sg not in wanted]
    if purge and not ordered and sorted(before) == sorted(wanted):
        return list(before)
    if purge and exact_order:
        return list(wanted)
    kept = [sg for sg in before if sg in wanted] if purge else list(before)
    return kept + [sg for sg in wanted if sg not in before]


def _steps(before, after, limits, rank):
    """Per-instance bind/unbind steps from before to after, never leaving the bounds.

    Binds go first while there is room, so an instance at its floor gains a
    group before it loses one; unbinds make room when it is at its ceiling.
    Within each kind, steps follow the global rank, so that instances needing
    the same steps list them in the same order and can share calls.
    """
    adds = sorted((sg for sg in after if sg not in before), key=lambda sg: rank[('bind', sg)])
    removes = sorted((sg for sg in before if sg not in after), key=lambda sg: rank[('unbind', sg)])
    count = len(before)
    steps = []
    while adds or removes:
        if adds and count < limits.max_groups:
            steps.append(('bind', adds.pop(0)))
            count += 1
        elif removes and count > limits.min_groups:
            steps.append(('unbind', removes.pop(0)))
            count -= 1
        else:
            return None
    return steps


def _rank(current, wanted):
    """A global order of steps: binds in the wanted order, then unbinds in order of first appearance."""
    rank = {}
    for sg in wanted:
        rank[('bind', sg)] = len(rank)
    for groups in current.values():
        for sg in groups:
            rank.setdefault(('bind', sg), len(rank))
    for groups in current.values():
        for sg in groups:
            rank.setdefault(('unbind', sg), len(rank))
    for sg in wanted:
        rank.setdefault(('unbind', sg), len(rank))
    return rank


def _merge(chains, limits, rank):
    """Interleave per-instance step chains into batched operations.

    Each round sends the lowest-ranked step heading any chain, for every
    instance whose chain it heads, in calls of at most batch_size instances.
    When every chain follows the global rank (no bounds pressure), each step
    therefore needs exactly one call per batch.
    """
    ops = []
    while any(chains.values()):
        step = min((chain[0] for chain in chains.values() if chain), key=lambda s: rank[s])
        members = [iid for iid, chain in chains.items() if chain and chain[0] == step]
        for start in range(0, len(members), limits.batch_size):
            ops.append({'action': step[0], 'security_group_ids': [step[1]],
                        'target_ids': members[start:start + limits.batch_size]})
        for iid in members:
            chains[iid].pop(0)
    return ops


def _set_operations(targets, limits):
    groups = {}
    order = []
    for target in targets:
        key = tuple(target['after'])
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(target['target_id'])
    ops = []
    for key in order:
        members = groups[key]
        for start in range(0, len(members), limits.set_batch_size):
            ops.append({'action': 'set', 'security_group_ids': list(key),
                        'target_ids': members[start:start + limits.set_batch_size]})
    return ops


def plan(current, wanted, state, purge, limits, word='instance'):
    """Plan the change of every instance.

    current: mapping target ID -> current SG list (provider order), in the
        order the targets should be reported.
    wanted: the SGs to bind (state=present) or unbind (state=absent).
    Raises PlanError for a request that cannot be met, before any write.
    """
    if state not in ('present', 'absent'):
        raise PlanError('state must be present or absent, got %r' % (state,))
    dups = _duplicates(wanted)
    if dups:
        raise PlanError('security_group_ids lists %s more than once; each security group may appear once' % ', '.join(dups))
    # A replace call cannot express an empty list; unbind calls can. Without bind/unbind calls, every change is a replace.
    use_set = limits.set_batch_size > 0 and (limits.batch_size == 0 or (purge and state == 'present' and len(wanted) > 0))
    note = '; %s' % limits.bounds_note if limits.bounds_note else ''
    targets = []
    for iid, before in current.items():
        before = list(before)
        after = _desired_after(before, wanted, state, purge, limits.ordered or use_set, limits.ordered)
        # An instance left as it is is never refused, even outside the bounds (no groups at all, say).
        if after != before and len(after) > limits.max_groups:
            raise PlanError('%s %s would have %d security groups (%s); %s allows at most %d per %s%s'
                            % (word, iid, len(after), ', '.join(after), limits.max_groups_origin, limits.max_groups, word, note), iid)
        if after != before and len(after) < limits.min_groups:
            raise PlanError('%s %s would have %d security group(s) left; the provider requires at least %d per %s%s'
                            % (word, iid, len(after), limits.min_groups, word, note), iid)
        if after != before and not after and use_set:
            raise PlanError('%s %s would have no security group left; the provider has no call that removes its last one'
                            % (word, iid), iid)
        targets.append({'target_id': iid, 'before': before, 'after': after,
                        'added': [sg for sg in after if sg not in before],
                        'removed': [sg for sg in before if sg not in after]})

    changing = [t for t in targets if t['before'] != t['after']]
    if use_set:
        replace = _set_operations(changing, limits)
        # Replace calls may take fewer targets than bind/unbind calls (one ENI against 100, on Tencent Cloud): the
        # steps are sent instead when they reach every list, within the bounds and in order, in fewer calls.
        steps = _step_operations(changing, current, wanted, limits) if limits.batch_size else None
        return {'targets': targets, 'operations': steps if steps is not None and len(steps) < len(replace) else replace}

    return {'targets': targets, 'operations': _step_operations(changing, current, wanted, limits, word, purge)}


def _step_operations(changing, current, wanted, limits, word=None, purge=True):
    """The bind/unbind operations that take every changing target to its list. With word (a plan without a replace call),
    an unreachable list raises PlanError naming it; without, it answers None."""
    rank = _rank(current, wanted)
    chains = {}
    for target in changing:
        steps = _steps(target['before'], target['after'], limits, rank)
        if steps is not None and limits.ordered and purge and _replay(target['before'], steps) != target['after']:
            if word is None:
                return None
            raise PlanError('%s %s cannot reach the order [%s] with bind and unbind calls, and the provider has no '
                            'call that replaces the whole list' % (word, target['target_id'], ', '.join(target['after'])),
                            target['target_id'])
        if steps is None:
            if word is None:
                return None
            raise PlanError('%s %s cannot go from [%s] to [%s] one security group at a time within %d..%d groups, '
                            'and the provider has no call that replaces the whole list'
                            % (word, target['target_id'], ', '.join(target['before']), ', '.join(target['after']),
                               limits.min_groups, limits.max_groups), target['target_id'])
        if steps:
            chains[target['target_id']] = steps
    return _merge(chains, limits, rank)


def _replay(before, steps):
    groups = list(before)
    for action, sg in steps:
        if action == 'bind':
            groups.append(sg)
        else:
            groups.remove(sg)
    return groups


def apply_operation(groups, operation):
    """The SG list of one instance after one operation (bind appends: lowest priority)."""
    action = operation['action']
    if action == 'set':
        return list(operation['security_group_ids'])
    sg = operation['security_group_ids'][0]
    if action == 'bind':
        return groups if sg in groups else groups + [sg]
    return [g for g in groups if g != sg]


class Schedule:
    """The order the operations may be sent in: each target's operations one at a time, in plan order.

    An operation is ready once every target it still has is done with its operations before it (answered, and
    awaited where the cloud shows writes later): so at every instant each target has had a prefix of its steps
    applied, each within the bounds, whatever order the answers come in. A target that failed is dropped from its
    later operations. Pure bookkeeping, linear in the targets an operation touches.
    """

    def __init__(self, operations):
        self.operations = operations
        self.chains = {}           # target -> indices of its operations, in plan order
        for index, op in enumerate(operations):
            for tid in op['target_ids']:
                self.chains.setdefault(tid, []).append(index)
        self.position = dict((tid, 0) for tid in self.chains)    # target -> its next operation, in its chain
        self.busy = set()          # targets with an operation sent and not done
        self.dropped = set()
        self.released = set()
        self.ready = []            # indices, in plan order, released by the last call

    def _head(self, tid):
        chain = self.chains[tid]
        pos = self.position[tid]
        return chain[pos] if pos < len(chain) else None

    def _consider(self, index):
        if index is None or index in self.released:
            return
        live = [tid for tid in self.operations[index]['target_ids'] if tid not in self.dropped]
        if live and all(self._head(tid) == index and tid not in self.busy for tid in live):
            self.released.add(index)
            self.ready.append(index)

    def start(self):
        """The operations ready at the start: (index, operation with its live targets)."""
        for tid in self.chains:
            self._consider(self._head(tid))
        return self.take()

    def take(self):
        """The operations released since the last call, in plan order, each with its live targets only; their
        targets are busy until done or dropped."""
        out = []
        for index in sorted(self.ready):
            op = self.operations[index]
            ids = [tid for tid in op['target_ids'] if tid not in self.dropped]
            self.busy.update(ids)
            out.append((index, dict(op, target_ids=ids)))
        self.ready = []
        return out

    def has_next(self, tid):
        """Whether the target has an operation after the one in progress."""
        chain = self.chains.get(tid, ())
        return self.position.get(tid, 0) + 1 < len(chain)

    def done(self, target_ids):
        """These targets are done with their current operation: their next ones may be released."""
        for tid in target_ids:
            self.busy.discard(tid)
            self.position[tid] += 1
            self._consider(self._head(tid))

    def drop(self, target_ids):
        """These targets failed: none of their later operations is sent; operations waiting only for them go ahead."""
        for tid in target_ids:
            self.busy.discard(tid)
            self.dropped.add(tid)
            for index in self.chains[tid][self.position[tid] + 1:]:
                self._consider(index)


def simulate(current, operations):
    """Replay operations over current (target ID -> list): the lists after each."""
    state = dict((iid, list(groups)) for iid, groups in current.items())
    for operation in operations:
        for iid in operation['target_ids']:
            state[iid] = apply_operation(state[iid], operation)
    return state
