# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This module_utils is PRIVATE to the collection: it may change at any time.
"""The provider-neutral engine: read, plan, apply, verify, report.

A provider (one module_utils file per cloud) is a class with:

* ``name``, ``display_name``, ``constraints`` (a planner.Constraints),
  ``target_kinds`` (planner.TargetKind tuple: what it binds groups to, as data),
  ``security_group_id_pattern``, ``region_pattern`` (optional; matched whole),
  ``argument_spec`` (its own options; an option named ``*endpoint`` must be a URL);
* ``completion``: ``'sync'`` (a write is done when answered), ``'task'`` (the
  provider's ``settle`` polls an operation state) or ``'eventual'`` (changes show
  shortly, with nothing to poll: the engine re-reads until they show, for at most
  the provider's ``visibility_timeout`` seconds, then re-plans from what it read).
  The last two add the ``wait`` options;
* ``rate_limits`` (action -> published calls per second) and
  ``default_rate_limit`` (calls per second per action where none is published);
* ``secrets(params)``: the secret option values, redacted from every message;
* ``__init__(params, transport)``;
* ``read(ids)``: ``(current, missing)`` where current maps each found target to
  its SG list in provider order;
* ``missing_security_groups(sg_ids)``: those that do not exist;
* ``apply(operation)``: perform one planned operation, return its request IDs;
* ``settle(expected, deadline)`` (``'task'`` only): wait until the writes to the
  targets in ``expected`` (target -> the SG list it should have) have completed;
  return their SG lists as read.

Optional:

* ``not_found_note``: appended to the message listing targets that were not found;
* ``write_argument_spec``: options of the binding module only (how to write), not of sg_binding_info;
* ``option_ranges``: option -> (low, high) for its integer options, checked like the common ones;
* ``warnings``: a list the provider appends to during the run (a fallback it took, say); reported;
* ``constraints`` may be set per run in ``__init__`` (from an option such as a batch size);

For sg_binding_info (``_generic.py``):

* ``status``: target -> its status as the last ``read`` saw it;
* ``describe_security_groups(sg_ids)``: ``{id: {'name': ...}}`` of those that exist, batched;
* ``bound_targets(sg_ids)`` (optional): ``{sg: [target, ...]}`` through the cloud's list filtered
  by group, in a bounded number of calls; without it the reverse question is refused.

* ``refusals(targets)``: called with every planned target, after
  ``missing_security_groups``; ``(target_id, reason)`` for each the provider
  already knows the cloud will refuse; the task then fails before any write, in
  check mode too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import math
import re
import signal
import threading
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, _load_params, missing_required_lib

from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

COMMON_ARGUMENT_SPEC = dict(
    security_group_ids=dict(type='list', elements='str', required=True),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    purge=dict(type='bool', default=False),
    endpoint=dict(type='str'),
    validate_certs=dict(type='bool', default=True),
    timeout=dict(type='float', default=30.0),
    retries=dict(type='int', default=8),
    retry_delay=dict(type='float', default=0.5),
    retry_max_delay=dict(type='float', default=20.0),
    max_concurrency=dict(type='int', default=8),
    max_security_groups=dict(type='int'),
    rate_limit=dict(type='float'),
)

WAIT_ARGUMENT_SPEC = dict(
    wait=dict(type='bool', default=True),
    wait_timeout=dict(type='int', default=300),
)

# Errors of a read that say nothing about the state (it could not be read): retried, then given up.
UNREAD = (transport.THROTTLED, transport.TRANSIENT, transport.AMBIGUOUS, transport.UNSENT, transport.IN_PROGRESS)

# Rounds of apply-then-verify before giving up on a state that keeps drifting.
CONVERGE_ROUNDS = 3
# After an interrupt: how long the targets are read back for the report, in seconds; past it (or if the read
# fails), the report shows the last state known.
INTERRUPT_READ_BACK_S = 4.0
# The signals that stop a run (docs/reliability.md, "Interrupts").
STOP_SIGNALS = ('SIGINT', 'SIGTERM')
# Upper bounds that keep odd but numeric input from overflowing sockets, sleeps and thread pools.
MAX_SECONDS = 86400.0
MAX_CONCURRENCY = 256
# An endpoint is scheme://host[:port][/]: a path, query, credentials or an odd host would be sent
# somewhere else than the user meant, or fail inside the HTTP library with a message naming no option.
ENDPOINT_PATTERN = (r'https?://(?P<host>[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?'
                    r'|\[(?P<ipv6>[0-9A-Fa-f:.]+)\])(:(?P<port>[0-9]{1,5}))?/?')


class EngineFailure(Exception):
    """A failure to report with fail_json; carries the extra result keys."""

    def __init__(self, msg, **extra):
        super(EngineFailure, self).__init__(msg)
        self.extra = extra


def argument_spec(provider):
    spec = dict((kind.option, dict(type='list', elements='str', required=len(provider.target_kinds) == 1))
                for kind in provider.target_kinds)
    spec.update(COMMON_ARGUMENT_SPEC)
    if provider.completion != 'sync':
        spec.update(WAIT_ARGUMENT_SPEC)
    spec.update(provider.argument_spec)
    spec.update(getattr(provider, 'write_argument_spec', {}))
    return spec


def module_options(provider):
    """AnsibleModule's keyword arguments for a binding module of this provider."""
    options = dict(argument_spec=argument_spec(provider), supports_check_mode=True)
    if len(provider.target_kinds) > 1:
        names = [kind.option for kind in provider.target_kinds]
        options.update(mutually_exclusive=[names], required_one_of=[names])
    return options


def new_module(**options):
    """AnsibleModule(**options), first refusing, by name, numbers that ansible-core's own checks
    mishandle: a list given for a number is read as a Decimal tuple (``[0, [1], 2]`` becomes 100, and
    ``[2**63, None, None]`` raises OverflowError), and an infinite value for a whole number raises too."""
    raw = _load_params()
    if not isinstance(raw, dict):     # argument_spec introspection (validate-modules) has no parameters
        return AnsibleModule(**options)
    bad = sorted(name for name, spec in options['argument_spec'].items()
                 if spec.get('type') in ('int', 'float') and not_a_number(raw.get(name), spec['type']))
    if not bad:
        return AnsibleModule(**options)
    # Parsed with those options taken as they are, only to fail naming them.
    spec = dict(options['argument_spec'])
    spec.update((name, dict(spec[name], type='raw')) for name in bad)
    module = AnsibleModule(**dict(options, argument_spec=spec))
    reasons = []
    for name in bad:
        value = raw[name]
        if isinstance(value, (list, tuple, dict, set)):
            reasons.append('%s: %r is a %s, not a number' % (name, value, type(value).__name__))
        else:
            reasons.append('%s: %r is infinite, not a whole number' % (name, value))
    module.fail_json(msg='; '.join(reasons) + '; give a single number')


def not_a_number(value, kind):
    if isinstance(value, (list, tuple, dict, set)):
        return True
    if kind != 'int':
        return False
    try:
        return not isinstance(value, bool) and math.isinf(float(value))
    except (TypeError, ValueError, OverflowError):
        return False


def endpoint_problem(value):
    """Why value is not an endpoint URL, or None."""
    match = re.fullmatch(ENDPOINT_PATTERN, value)
    if not match:
        return 'must be a URL of the form https://host[:port], with no path, query or credentials'
    if match.group('port') is not None and not 0 < int(match.group('port')) < 65536:
        return 'has a port outside 1-65535'
    if match.group('ipv6') is not None:
        try:
            ipaddress.IPv6Address(match.group('ipv6'))
        except ValueError:
            return 'has an invalid IPv6 address'
    return None


def validate(params, provider):
    """Refuse bad input before any request: (option, value, rule) in every message."""
    kind = planner.chosen_kind(provider.target_kinds, params)
    checks = ((kind.option, kind.pattern), ('security_group_ids', provider.security_group_id_pattern))
    for option, pattern in checks:
        if params.get(option) is None:
            # AnsibleModule takes an explicit null as given, for required= and required_one_of= alike.
            raise EngineFailure('%s: a list of IDs is required (it may be empty); %s was given'
                                % (' or '.join(k.option for k in provider.target_kinds) if option == kind.option else option, params.get(option)))
        seen = set()
        for value in params[option]:
            if not isinstance(value, str) or not re.fullmatch(pattern, value):
                raise EngineFailure('%s: %r is not a valid %s ID; it must match %s' % (option, value, provider.display_name, pattern))
            if value in seen:
                raise EngineFailure('%s: %r is listed more than once; list each ID once' % (option, value))
            seen.add(value)
    for option in ('timeout', 'retry_delay', 'retry_max_delay', 'rate_limit'):
        value = params.get(option)
        if value is not None and not (math.isfinite(value) and 0 < value <= MAX_SECONDS):
            raise EngineFailure('%s: %r must be a number greater than 0 and at most %d' % (option, value, MAX_SECONDS))
    ranges = [('retries', 0, 1000), ('max_concurrency', 1, MAX_CONCURRENCY), ('wait_timeout', 1, MAX_SECONDS),
              ('max_security_groups', max(1, provider.constraints.min_groups), 1000)]
    ranges.extend((option, low, high) for option, (low, high) in sorted(getattr(provider, 'option_ranges', {}).items()))
    for option, low, high in ranges:
        if isinstance(params.get(option), bool):
            raise EngineFailure('%s: %r is not a number; give an integer between %d and %d' % (option, params[option], low, high))
        if params.get(option) is not None and not low <= params[option] <= high:
            raise EngineFailure('%s: %r must be between %d and %d' % (option, params[option], low, high))
    region_pattern = getattr(provider, 'region_pattern', None)
    if region_pattern and not re.fullmatch(region_pattern, params.get('region') or ''):
        raise EngineFailure('region: %r is not a valid %s region; it must match %s'
                            % (params.get('region'), provider.display_name, region_pattern))
    for option, spec in sorted(argument_spec(provider).items()):
        value = params.get(option)
        if spec.get('type') != 'str' or not value:
            continue
        if option.endswith('endpoint') and endpoint_problem(value):
            raise EngineFailure('%s: %r %s' % (option, value, endpoint_problem(value)))
        # Credentials go into HTTP headers: a stray newline would be echoed back by the HTTP library,
        # and anything but ASCII cannot be sent there at all.
        shown = 'the value (not shown: it is secret)' if spec.get('no_log') else repr(value)
        if value != value.strip() or re.search(r'[\x00-\x1f\x7f]', value):
            raise EngineFailure('%s: %s contains whitespace at an end or control characters such as a newline; '
                                'remove them' % (option, shown))
        if re.search(r'[^\x20-\x7e]', value):
            raise EngineFailure('%s: %s contains characters outside printable ASCII; API credentials and names never '
                                'do (check for a pasted typographic quote or dash)' % (option, shown))


def constraints(params, provider):
    """The provider's constraints, with max_security_groups when the user's quota differs."""
    limits = provider.constraints
    if params.get('max_security_groups') is None:
        return limits
    return planner.Constraints(min_groups=limits.min_groups, max_groups=params['max_security_groups'], ordered=limits.ordered,
                               batch_size=limits.batch_size, set_batch_size=limits.set_batch_size)


def waves(operations):
    """Split operations into waves that touch disjoint targets, keeping each target's order."""
    out = []
    last_wave = {}
    for op in operations:
        pos = max([last_wave.get(tid, -1) for tid in op['target_ids']] + [-1]) + 1
        if pos == len(out):
            out.append([])
        out[pos].append(op)
        for tid in op['target_ids']:
            last_wave[tid] = pos
    return out


def took_effect(op, groups):
    """Whether a target's SG list shows the operation applied."""
    if op['action'] == 'set':
        return groups == op['security_group_ids']
    present = op['security_group_ids'][0] in groups
    return present if op['action'] == 'bind' else not present


def unique(groups):
    out = []
    for sg in groups:
        if sg not in out:
            out.append(sg)
    return out


class Engine:
    """One run of a binding module against one provider."""

    def __init__(self, provider, params, check_mode, clock=None):
        self.provider = provider
        self.params = params
        self.check_mode = check_mode
        self.clock = clock or time.monotonic
        self.kind = planner.chosen_kind(provider.target_kinds, params)
        self.request_ids = []
        self.warnings = []
        self.operations_done = []
        self.unknown_operations = []   # writes whose answer was lost: maybe applied, maybe still in progress
        self.before = {}
        self.constraints = constraints(params, provider)

    def run(self):
        params = self.params
        ids = params[self.kind.option]
        wanted = params['security_group_ids']
        if params['purge'] and params['state'] == 'absent':
            self.warnings.append('purge is ignored with state=absent: only the listed security groups are unbound')
        current = self.read(ids)
        self.before = current
        plan = self.plan(current, wanted)
        if plan['operations']:
            self.check_groups_exist(plan)
        self.check_refusals(plan)
        if not self.check_mode and plan['operations']:
            final = self.converge(plan, wanted)
        elif plan['operations']:
            final = dict((t['target_id'], t['after']) for t in plan['targets'])
        else:
            final = current
        return self.report(current, final, plan)

    def read_targets(self, ids):
        """provider.read, with each list cleaned of groups the cloud lists twice (warned once each)."""
        current, missing = self.provider.read(ids)
        for tid, groups in current.items():
            once = unique(groups)
            if once != groups:
                warning = ('%s %s: %s lists security group(s) %s more than once; each is counted once'
                           % (self.kind.word, tid, self.provider.display_name,
                              ', '.join(sg for sg in once if groups.count(sg) > 1)))
                if warning not in self.warnings:
                    self.warnings.append(warning)
                current[tid] = once
        return current, missing

    def read(self, ids):
        current, missing = self.read_targets(ids)
        if missing:
            raise EngineFailure('%s: %s not found in %s%s%s; nothing was changed'
                                % (self.kind.option, ', '.join(missing), self.provider.display_name, self.where(),
                                   getattr(self.provider, 'not_found_note', '')),
                                **{'missing_' + self.kind.option: list(missing)})
        return dict((tid, current[tid]) for tid in ids)

    def where(self):
        region = self.params.get('region')
        return ' region %s' % region if region else ''

    def plan(self, current, wanted, consequence='nothing was changed'):
        try:
            return planner.plan(current, wanted, self.params['state'], self.params['purge'], self.constraints, self.kind.word)
        except planner.PlanError as exc:
            raise EngineFailure('%s; %s' % (exc, consequence))

    def check_refusals(self, plan):
        refusals = getattr(self.provider, 'refusals', None)
        refused = refusals(plan['targets']) if refusals and plan['targets'] else []
        if refused:
            raise EngineFailure('%s; nothing was changed' % '; '.join('%s %s: %s' % (self.kind.word, tid, reason) for tid, reason in refused),
                                **{'refused_' + self.kind.option: [tid for tid, dummy in refused]})

    def check_groups_exist(self, plan):
        to_add = []
        for target in plan['targets']:
            to_add.extend(sg for sg in target['added'] if sg not in to_add)
        missing = self.provider.missing_security_groups(to_add) if to_add else []
        if missing:
            raise EngineFailure('security_group_ids: %s not found in %s%s; nothing was changed'
                                % (', '.join(missing), self.provider.display_name, self.where()),
                                missing_security_group_ids=list(missing))

    def deadline(self):
        return self.clock() + self.params.get('wait_timeout', 300)

    def settle(self, expected, deadline):
        """Wait until the targets in expected show the outcome of our writes; their lists as read, or None.

        'eventual' clouds are read until each target shows its expected list; a target that
        does not within the provider's visibility_timeout (a write that was lost, or someone
        else's change) is handed back as it is, and the caller's re-plan decides.
        """
        if self.provider.completion == 'task':
            return self.provider.settle(expected, deadline)
        if self.provider.completion != 'eventual':
            return None
        ids = sorted(expected)

        def step():
            current, missing = self.read_targets(ids)
            if missing:
                raise EngineFailure('%s: %s disappeared while being changed' % (self.kind.option, ', '.join(missing)))
            return all(current[tid] == expected[tid] for tid in ids), current

        deadline = min(deadline, self.clock() + self.provider.visibility_timeout)
        dummy, current = transport.poll(step, deadline, self.clock, self.provider.transport.sleep)
        return current

    def execute(self, operations, deadline, state):
        """Run the operations wave by wave.

        A write whose outcome is unknown (dropped answer, transient error) ends the
        run early without failing: it is returned as (operation, error), and
        converge() reads back and plans what is missing. Otherwise returns None.
        """
        unsettled = set()
        expected = dict(state)
        for wave in waves(operations):
            touched = set(tid for op in wave for tid in op['target_ids'])
            if unsettled & touched:
                self.settle(dict((tid, expected[tid]) for tid in sorted(unsettled & touched)), deadline)
                unsettled -= touched
            results = self.provider.transport.map(self.provider.apply, wave, self.params['max_concurrency'])
            failure = None
            for op, result in zip(wave, results):
                if isinstance(result, BaseException):
                    if not isinstance(result, transport.ProviderError):
                        raise result
                    if result.error_class in (transport.AMBIGUOUS, transport.TRANSIENT):
                        self.unknown_operations.append(op)
                    failure = failure or (op, result)
                else:
                    self.request_ids.extend(result or [])
                    self.operations_done.append(op)
                    expected.update(planner.simulate(expected, [op]))
            unsettled |= touched
            if failure:
                op, error = failure
                if error.error_class in (transport.AMBIGUOUS, transport.TRANSIENT):
                    self.warnings.append('%s; re-reading the %ss to learn what was applied' % (self.describe_error(op, error), self.kind.word))
                    return failure
                raise EngineFailure(self.describe_error(op, error), error=error.to_dict())
        return None

    def describe_error(self, op, error):
        return ('%s failed %s: %s %s (request ID %s)'
                % (self.provider.display_name, self.describe_operation(op), error.code, error.message, error.request_id or 'none'))

    def verify(self, expected, deadline):
        ids = sorted(expected)
        read_back = self.settle(expected, deadline)
        if read_back is None or set(read_back) != set(ids):
            read_back, missing = self.read_targets(ids)
            if missing:
                raise EngineFailure('%s: %s disappeared while being changed' % (self.kind.option, ', '.join(missing)))
        return read_back

    def record_unknown(self, unknown, state):
        """Count a write whose answer was lost as done when the targets show it applied."""
        op, error = unknown
        if all(tid in state and took_effect(op, state[tid]) for tid in op['target_ids']):
            self.operations_done.append(op)
            self.warnings.append('the answer to %s was lost (%s), but the %ss show it applied; it has no request ID'
                                 % (self.describe_operation(op), error.code, self.kind.word))

    def describe_operation(self, op):
        what = {'bind': 'binding %s to', 'unbind': 'unbinding %s from', 'set': 'setting [%s] on'}[op['action']]
        return '%s %s(s) %s' % (what % ', '.join(op['security_group_ids']), self.kind.word, ', '.join(op['target_ids']))

    def converge(self, plan, wanted):
        """Apply, read back, and re-plan while the read-back state differs from the plan.

        A round that ended on a write of unknown outcome is followed by a backoff
        pause, at most `retries` times; a round whose writes all succeeded but whose
        state still differs (someone else changing the targets) at most CONVERGE_ROUNDS times.
        """
        deadline = self.deadline()
        wait = self.params.get('wait', True)
        conn = self.provider.transport
        state = dict((t['target_id'], t['before']) for t in plan['targets'])
        unknown_rounds = drift_rounds = 0
        while plan['operations']:
            changed_ids = sorted(set(tid for op in plan['operations'] for tid in op['target_ids']))
            round_start = len(self.operations_done)
            try:
                unknown = self.execute(plan['operations'], deadline, state)
                if not wait and unknown is None:
                    state.update(dict((t['target_id'], t['after']) for t in plan['targets']))
                    self.warnings.append('wait is false: after is the planned state, not read back')
                    return state
                # After a write of unknown outcome, wait for the truth even with wait=false.
                planned = dict((t['target_id'], t['after']) for t in plan['targets'])
                state.update(self.verify(dict((tid, planned[tid]) for tid in changed_ids), deadline))
            except transport.ProviderError as error:
                failure = EngineFailure('%s %s failed after changes had started: %s: %s (request ID %s)'
                                        % (self.provider.display_name, error.action, error.code, error.message, error.request_id or 'none'),
                                        error=error.to_dict())
                failure.extra[self.kind.result_key] = self.applied_state(state, changed_ids, self.operations_done[round_start:], deadline)
                raise failure
            except EngineFailure as failure:
                failure.extra[self.kind.result_key] = self.applied_state(state, changed_ids, self.operations_done[round_start:], deadline)
                raise
            if unknown is not None:
                self.record_unknown(unknown, state)
            try:
                plan = self.plan(dict((t['target_id'], state[t['target_id']]) for t in plan['targets']), wanted,
                                 'the %ss were changed by something else meanwhile; %s shows what they have'
                                 % (self.kind.word, self.kind.result_key))
            except EngineFailure as failure:
                failure.extra[self.kind.result_key] = self.result_targets(self.before, state)
                raise
            if not plan['operations']:
                break
            if unknown is not None:
                op, error = unknown
                if unknown_rounds >= self.params['retries']:
                    # The last writes' answers may have been lost, or the reads may not show them yet: awaited, then read.
                    raise EngineFailure('%s; still not applied after %d retries' % (self.describe_error(op, error), unknown_rounds),
                                        error=error.to_dict(), **{self.kind.result_key: self.applied_state(
                                            state, changed_ids, self.operations_done[round_start:], deadline)})
                conn.sleep(conn.backoff.delay(unknown_rounds))
                unknown_rounds += 1
            else:
                drift_rounds += 1
                if drift_rounds >= CONVERGE_ROUNDS:
                    raise EngineFailure('the %ss did not reach the planned security groups after %d rounds of changes; '
                                        'something else may be changing them' % (self.kind.word, drift_rounds),
                                        **{self.kind.result_key: self.applied_state(
                                            state, changed_ids, self.operations_done[round_start:], deadline)})
                self.warnings.append('the state read back differed from the plan; applying the remaining changes')
        return state

    def applied_state(self, state, changed_ids, done, deadline):
        """What is really on each target after a failure: our accepted writes, and those whose answer
        was lost (they may still be in progress), awaited within a wait_timeout of its own (the task's
        may be spent), then read back; or, if that read fails, the last state known."""
        accepted = planner.simulate(state, done)
        lost = [op for op in self.unknown_operations if op not in done]
        expected = planner.simulate(accepted, lost)     # what to wait for; lost writes may never show
        touched = sorted(set(tid for op in list(done) + lost for tid in op['target_ids']))
        deadline = max(deadline, self.deadline())
        unconfirmed = []
        for attempt in (1, 2):
            try:
                if touched:
                    self.settle(dict((tid, expected[tid]) for tid in touched), deadline)
                break
            except (transport.ProviderError, EngineFailure) as exc:
                unread = isinstance(exc, transport.ProviderError) and exc.error_class in UNREAD
                if unread and attempt == 1:
                    continue        # the reads failed, not our writes: once more
                self.warnings.append('could not wait for the accepted changes to complete after the failure (%s)' % (exc,))
                if unread:
                    # A read now may still show the lists from before the accepted writes.
                    unconfirmed = sorted(set(tid for op in done for tid in op['target_ids']))
        try:
            read_back, dummy = self.read_targets(sorted(set(changed_ids) | set(touched)))
            known = dict(state)
            known.update(read_back)
            for tid in unconfirmed:
                if known[tid] != accepted[tid]:
                    known[tid] = accepted[tid]
                    self.warnings.append('%s %s: after shows the accepted changes, which the reads could not confirm; '
                                         'the cloud may still have failed them' % (self.kind.word, tid))
            for op in lost:
                if not all(tid in known and took_effect(op, known[tid]) for tid in op['target_ids']):
                    self.warnings.append('the answer to %s was lost and the %ss do not show it; the cloud may still apply it '
                                         'after this task' % (self.describe_operation(op), self.kind.word))
        except transport.ProviderError as exc:
            self.warnings.append('could not read the %ss back after the failure (%s %s); '
                                 'after shows the last state known' % (self.kind.word, exc.code, exc.message))
            known = accepted
            for op in lost:
                self.warnings.append('the answer to %s was lost and the %ss could not be read back; the cloud may have applied it'
                                     % (self.describe_operation(op), self.kind.word))
        return self.result_targets(self.before, known)

    def result_targets(self, before, after):
        out = []
        for tid in self.params[self.kind.option]:
            b, a = list(before[tid]), list(after[tid])
            out.append({self.kind.id_key: tid, 'before': b, 'after': a,
                        'added': [sg for sg in a if sg not in b], 'removed': [sg for sg in b if sg not in a]})
        return out

    def public_operations(self, operations):
        """Operations as the module returns them: the target list under the kind's option name."""
        return [{'action': op['action'], 'security_group_ids': list(op['security_group_ids']), self.kind.option: list(op['target_ids'])}
                for op in operations]

    def report(self, current, final, plan):
        targets = self.result_targets(current, final)
        # Check mode reports the operations in the order a real run sends them: wave by wave.
        operations = [op for wave in waves(plan['operations']) for op in wave] if self.check_mode else self.operations_done
        result = {'changed': bool(plan['operations']), self.kind.result_key: targets, 'request_ids': self.request_ids,
                  'operations': self.public_operations(operations)}
        result['diff'] = {'before': dict((t[self.kind.id_key], t['before']) for t in targets),
                          'after': dict((t[self.kind.id_key], t['after']) for t in targets)}
        return result


def insecure_tls_warning(params):
    """The run-time warning for validate_certs=false, or None when every endpoint is plain http:// (nothing to verify)."""
    if params.get('validate_certs', True):
        return None
    given = [value for option, value in params.items() if option.endswith('endpoint') and value]
    if params.get('endpoint') and all(value.lower().startswith('http://') for value in given):
        return None
    return ('validate_certs is false: the TLS certificate of the endpoint is not verified, so anyone on the network path can '
            'read the signed requests and forge the answers; trust a private CA with the REQUESTS_CA_BUNDLE environment '
            'variable instead')


def transport_for(provider_class, params, secrets):
    return transport.Transport(
        provider_class.name, timeout=params['timeout'], validate_certs=params['validate_certs'],
        max_retries=params['retries'], backoff=transport.Backoff(params['retry_delay'], params['retry_max_delay']),
        rate_limits=provider_class.rate_limits, default_rate=params.get('rate_limit') or provider_class.default_rate_limit,
        rate_ceiling=params.get('rate_limit'), secrets=secrets)


class StopSignals:
    """While a module runs, SIGINT and SIGTERM raise transport.Interrupted in the main thread: the writes stop
    and the task fails with a report. Once quiet (the report is being made), further signals are ignored."""

    def __init__(self):
        self.previous = {}
        self.quiet = False

    def __call__(self, signum, unused_frame):
        if not self.quiet:
            raise transport.Interrupted(signal.Signals(signum).name)

    def install(self):
        if threading.current_thread() is threading.main_thread():     # the only thread that may set handlers
            for name in STOP_SIGNALS:
                signum = getattr(signal, name)
                previous = signal.signal(signum, self)
                self.previous[signum] = signal.SIG_DFL if previous is None else previous
        return self

    def restore(self):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def read_back_within(engine, accepted, seconds):
    """The targets' lists after an interrupt, within seconds: first waited for until those in accepted (target
    -> its list with our accepted writes) show them, as after any write (settle), then read. (lists, None), or
    (None, why not). The stop flag ended every pause; these reads pause again, and retry once at most."""
    conn = engine.provider.transport
    conn.timeout = min(conn.timeout, seconds)
    conn.max_retries = min(conn.max_retries, 1)
    conn.sleep = conn.limiter.sleep = time.sleep
    deadline = engine.clock() + seconds
    answer = {}

    def read():
        try:
            if accepted:
                engine.settle(accepted, deadline)
        except (transport.ProviderError, EngineFailure):
            pass        # the read below says what there is
        try:
            answer['state'] = engine.read_targets(sorted(engine.before))[0]
        except Exception as exc:  # pylint: disable=broad-except
            answer['error'] = exc

    reader = threading.Thread(target=read)
    reader.daemon = True       # a read still running at exit must not keep the process
    reader.start()
    reader.join(seconds)
    if 'state' in answer:
        return answer['state'], None
    error = answer.get('error')
    if isinstance(error, transport.ProviderError):
        return None, '%s %s' % (error.code, error.message)
    return None, ('%s' % error) if error is not None else ('no answer within %s seconds' % seconds)


def interrupted(engine, exc):
    """The failure of a run stopped by a signal: what each target has (read back if it can be within
    INTERRUPT_READ_BACK_S, else the state before plus the accepted writes) and the writes whose answer
    was still awaited (they may or may not be applied)."""
    name = transport.interrupt_signal(exc)
    if engine is None or not engine.before:
        return {'interrupted': True, 'changed': False, 'msg': 'interrupted by %s before any change; nothing was changed' % name}
    engine.provider.transport.stop.set()
    unknown = []
    if getattr(exc, 'work', None) == engine.provider.apply:
        for op, result in exc.completed:
            if not isinstance(result, BaseException):
                engine.operations_done.append(op)
                engine.request_ids.extend(result or [])
            elif isinstance(result, transport.ProviderError) and result.error_class in (transport.AMBIGUOUS, transport.TRANSIENT):
                unknown.append(op)      # map() says AMBIGUOUS of an operation stopped after some of its writes
        unknown.extend(exc.in_flight)
    known = planner.simulate(engine.before, engine.operations_done)
    source = 'the state before plus the accepted writes'
    if engine.operations_done or unknown:
        touched = sorted(set(tid for op in engine.operations_done for tid in op['target_ids']))
        read_back, why_not = read_back_within(engine, dict((tid, known[tid]) for tid in touched), INTERRUPT_READ_BACK_S)
        if read_back is None:
            engine.warnings.append('could not read the %ss back after the interrupt (%s); after shows the last state known'
                                   % (engine.kind.word, why_not))
            for op in engine.unknown_operations:
                if op not in engine.operations_done:
                    engine.warnings.append('the answer to %s was lost and the %ss could not be read back; the cloud may have applied it'
                                           % (engine.describe_operation(op), engine.kind.word))
        else:
            source = 'as read back'
            for tid, groups in read_back.items():
                if tid in touched and groups != known[tid] and engine.provider.completion != 'sync':
                    # Not visible yet, or failed later: the accepted state is the better guess, and said to be one.
                    engine.warnings.append('%s %s: after shows the accepted changes, which the reads could not confirm; '
                                           'the cloud may still have failed them' % (engine.kind.word, tid))
                elif tid in known:
                    known[tid] = groups
    for op in unknown:
        engine.warnings.append('the answer to %s was still awaited when the task stopped; the cloud may have applied it'
                               % engine.describe_operation(op))
    targets = engine.result_targets(engine.before, known)
    return {'interrupted': True, 'msg': 'interrupted by %s: no write was started after it; %d write(s) accepted, %d with an '
                                        'unknown outcome (in flight); %s shows what each %s has (%s)'
                                        % (name, len(engine.operations_done), len(unknown), engine.kind.result_key, engine.kind.word, source),
            'changed': bool(engine.operations_done) or any(t['before'] != t['after'] for t in targets),
            'unknown_operations': engine.public_operations(unknown), engine.kind.result_key: targets}


def run_module(provider_class, module=None):
    """Entry point of a binding module: every failure becomes fail_json, never a traceback; SIGINT and
    SIGTERM stop the writes and fail the task with a report (the previous handlers are restored after)."""
    signals = StopSignals()
    try:
        _run_module(provider_class, module, signals)
    finally:
        signals.restore()


def _run_module(provider_class, module, signals):
    if module is None:
        module = new_module(**module_options(provider_class))
    if not transport.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=str(transport.REQUESTS_IMPORT_ERROR))
    params = module.params
    secrets = [s for s in provider_class.secrets(params) if s]
    conn = None
    engine = None
    failure = None
    tls_warning = insecure_tls_warning(params)
    if tls_warning:
        module.warn(tls_warning)
    signals.install()
    try:
        validate(params, provider_class)
        conn = transport_for(provider_class, params, secrets)
        engine = Engine(provider_class(params, conn), params, module.check_mode)
        result = engine.run()
    except (KeyboardInterrupt, transport.Interrupted) as exc:
        signals.quiet = True        # a second signal must not cut the report short
        failure = interrupted(engine, exc)
    except EngineFailure as exc:
        failure = dict(exc.extra, msg=str(exc))
    except transport.ProviderError as error:
        failure = {'msg': '%s %s failed: %s: %s (request ID %s)%s'
                          % (provider_class.display_name, error.action, error.code, error.message, error.request_id or 'none',
                             '' if engine and engine.operations_done else '; nothing was changed'),
                   'error': error.to_dict()}
    except Exception as exc:  # pylint: disable=broad-except
        failure = {'msg': 'unexpected error (a bug in multicloud.secgroup, please report it): %s: %s' % (type(exc).__name__, exc),
                   'exception': traceback.format_exc()}
    finally:
        signals.quiet = True        # the outcome is known: a signal now must not turn the report into a traceback
        if conn is not None:
            conn.close()
    for warning in (engine.warnings + getattr(engine.provider, 'warnings', [])) if engine is not None else []:
        module.warn(redact(warning, secrets))
    if failure is not None:
        failure.setdefault('request_ids', engine.request_ids if engine else [])
        failure.setdefault('operations', engine.public_operations(engine.operations_done) if engine else [])
        if engine is not None and engine.before and engine.kind.result_key not in failure:
            # Before any write, or after one whose effect could not be read back: the last state known.
            known = planner.simulate(engine.before, engine.operations_done)
            failure[engine.kind.result_key] = engine.result_targets(engine.before, known)
        module.fail_json(**redact(failure, secrets))
    if not module._diff:
        result.pop('diff')
    module.exit_json(**redact(result, secrets))


def redact(value, secrets):
    """value with every secret replaced, however deep in lists and dicts it hides."""
    if isinstance(value, dict):
        return dict((k, redact(v, secrets)) for k, v in value.items())
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        return transport.redact_text(value, secrets)
    return value
