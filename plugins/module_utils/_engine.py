# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This module_utils is PRIVATE to the collection: it may change at any time.
"""The provider-neutral engine: read, plan, apply, verify, report.

A provider (one module_utils file per cloud) is a class with:

* ``name``, ``constraints`` (a planner.Constraints), ``instance_id_pattern``,
  ``security_group_id_pattern`` (regular expressions), ``rate_limits``
  (action -> calls per second), ``argument_spec`` (its own options),
  ``asynchronous`` (True when writes complete later: adds wait/wait_timeout);
* ``secrets(params)``: the secret option values, redacted from every message;
* ``__init__(params, transport)``;
* ``read(instance_ids)``: ``(current, missing)`` where current maps each found
  instance to its SG list in provider order;
* ``missing_security_groups(sg_ids)``: those that do not exist;
* ``apply(operation)``: perform one planned operation, return its request IDs;
* ``settle(expected, deadline)``: wait until the writes to the instances in
  ``expected`` (instance -> the SG list it should have once they complete) have
  completed; return their SG lists as read, or None if nothing was read.

Optional:

* ``refusals(targets)``: for the planned targets that change, ``(instance_id,
  reason)`` for each the provider already knows it will refuse (from what
  ``read`` saw); the task then fails before any write, in check mode too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

COMMON_ARGUMENT_SPEC = dict(
    instance_ids=dict(type='list', elements='str', required=True),
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
)

ASYNC_ARGUMENT_SPEC = dict(
    wait=dict(type='bool', default=True),
    wait_timeout=dict(type='int', default=300),
)

# Rounds of apply-then-verify before giving up on a state that keeps drifting.
CONVERGE_ROUNDS = 3


class EngineFailure(Exception):
    """A failure to report with fail_json; carries the extra result keys."""

    def __init__(self, msg, **extra):
        super(EngineFailure, self).__init__(msg)
        self.extra = extra


def argument_spec(provider):
    spec = dict(COMMON_ARGUMENT_SPEC)
    if provider.asynchronous:
        spec.update(ASYNC_ARGUMENT_SPEC)
    spec.update(provider.argument_spec)
    return spec


def validate(params, provider):
    """Refuse bad input before any request: (option, value, rule) in every message."""
    checks = (('instance_ids', provider.instance_id_pattern), ('security_group_ids', provider.security_group_id_pattern))
    for option, pattern in checks:
        seen = set()
        for value in params[option]:
            if not re.match(pattern + r'\Z', value or ''):
                raise EngineFailure('%s: %r is not a valid %s ID; it must match %s' % (option, value, provider.display_name, pattern))
            if value in seen:
                raise EngineFailure('%s: %r is listed more than once; list each ID once' % (option, value))
            seen.add(value)
    for option in ('timeout', 'retry_delay', 'retry_max_delay'):
        if params[option] <= 0:
            raise EngineFailure('%s: %r must be greater than 0' % (option, params[option]))
    for option, low in (('retries', 0), ('max_concurrency', 1), ('wait_timeout', 1),
                        ('max_security_groups', max(1, provider.constraints.min_groups))):
        if params.get(option) is not None and params[option] < low:
            raise EngineFailure('%s: %r must be at least %d' % (option, params[option], low))
    if params['endpoint'] and not re.match(r'https?://[^/?#\s]+/?\Z', params['endpoint']):
        raise EngineFailure('endpoint: %r must be a URL of the form https://host[:port]' % (params['endpoint'],))
    region_pattern = getattr(provider, 'region_pattern', None)
    if region_pattern and not re.match(region_pattern + r'\Z', params.get('region') or ''):
        raise EngineFailure('region: %r is not a valid %s region; it must match %s'
                            % (params.get('region'), provider.display_name, region_pattern))
    # Credentials go into HTTP headers: a stray newline would be echoed back by the HTTP library.
    for option, spec in sorted(provider.argument_spec.items()):
        value = params.get(option)
        if spec.get('type') == 'str' and value and (value != value.strip() or re.search(r'[\x00-\x1f\x7f]', value)):
            shown = 'the value (not shown: it is secret)' if spec.get('no_log') else repr(value)
            raise EngineFailure('%s: %s contains whitespace at an end or control characters such as a newline; '
                                'remove them' % (option, shown))


def constraints(params, provider):
    """The provider's constraints, with max_security_groups when the user's quota differs."""
    limits = provider.constraints
    if params.get('max_security_groups') is None:
        return limits
    return planner.Constraints(min_groups=limits.min_groups, max_groups=params['max_security_groups'], ordered=limits.ordered,
                               batch_size=limits.batch_size, set_batch_size=limits.set_batch_size)


def waves(operations):
    """Split operations into waves that touch disjoint instances, keeping each instance's order."""
    out = []
    last_wave = {}
    for op in operations:
        pos = max([last_wave.get(iid, -1) for iid in op['instance_ids']] + [-1]) + 1
        if pos == len(out):
            out.append([])
        out[pos].append(op)
        for iid in op['instance_ids']:
            last_wave[iid] = pos
    return out


class Engine:
    """One run of a binding module against one provider."""

    def __init__(self, provider, params, check_mode, clock=time.monotonic):
        self.provider = provider
        self.params = params
        self.check_mode = check_mode
        self.clock = clock
        self.request_ids = []
        self.warnings = []
        self.operations_done = []
        self.before = {}
        self.constraints = constraints(params, provider)

    def run(self):
        params = self.params
        ids = params['instance_ids']
        wanted = params['security_group_ids']
        if params['purge'] and params['state'] == 'absent':
            self.warnings.append('purge is ignored with state=absent: only the listed security groups are unbound')
        current = self.read(ids)
        self.before = current
        plan = self.plan(current, wanted)
        if plan['operations']:
            self.check_refusals(plan)
            self.check_groups_exist(plan)
        if not self.check_mode and plan['operations']:
            final = self.converge(plan, wanted)
        elif plan['operations']:
            final = dict((t['instance_id'], t['after']) for t in plan['targets'])
        else:
            final = current
        return self.report(current, final, plan)

    def read(self, ids):
        current, missing = self.provider.read(ids)
        if missing:
            raise EngineFailure('instance_ids: %s not found in %s%s; nothing was changed'
                                % (', '.join(missing), self.provider.display_name, self.where()),
                                missing_instance_ids=list(missing))
        return dict((iid, current[iid]) for iid in ids)

    def where(self):
        region = self.params.get('region')
        return ' region %s' % region if region else ''

    def plan(self, current, wanted, consequence='nothing was changed'):
        try:
            return planner.plan(current, wanted, self.params['state'], self.params['purge'], self.constraints)
        except planner.PlanError as exc:
            raise EngineFailure('%s; %s' % (exc, consequence))

    def check_refusals(self, plan):
        refusals = getattr(self.provider, 'refusals', None)
        refused = refusals([t for t in plan['targets'] if t['before'] != t['after']]) if refusals else []
        if refused:
            raise EngineFailure('%s; nothing was changed' % '; '.join('instance %s: %s' % item for item in refused),
                                refused_instance_ids=[iid for iid, dummy in refused])

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

    def execute(self, operations, deadline, state):
        """Run the operations wave by wave.

        A write whose outcome is unknown (dropped answer, transient error) ends the
        run early without failing: it is returned as (operation, error), and
        converge() reads back and plans what is missing. Otherwise returns None.
        """
        unsettled = set()
        expected = dict(state)
        for wave in waves(operations):
            touched = set(iid for op in wave for iid in op['instance_ids'])
            if unsettled & touched:
                self.provider.settle(dict((iid, expected[iid]) for iid in sorted(unsettled & touched)), deadline)
                unsettled -= touched
            results = self.provider.transport.map(self.provider.apply, wave, self.params['max_concurrency'])
            failure = None
            for op, result in zip(wave, results):
                if isinstance(result, BaseException):
                    if not isinstance(result, transport.ProviderError):
                        raise result
                    failure = failure or (op, result)
                else:
                    self.request_ids.extend(result or [])
                    self.operations_done.append(op)
                    expected.update(planner.simulate(expected, [op]))
            unsettled |= touched
            if failure:
                op, error = failure
                if error.error_class in (transport.AMBIGUOUS, transport.TRANSIENT):
                    self.warnings.append('%s; re-reading the instances to learn what was applied' % self.describe_error(op, error))
                    return failure
                raise EngineFailure(self.describe_error(op, error), error=error.to_dict())
        return None

    def describe_error(self, op, error):
        what = {'bind': 'binding %s to', 'unbind': 'unbinding %s from', 'set': 'setting [%s] on'}[op['action']]
        return ('%s failed %s instance(s) %s: %s %s (request ID %s)'
                % (self.provider.display_name, what % ', '.join(op['security_group_ids']), ', '.join(op['instance_ids']),
                   error.code, error.message, error.request_id or 'none'))

    def verify(self, expected, deadline):
        ids = sorted(expected)
        read_back = self.provider.settle(expected, deadline)
        if read_back is None or set(read_back) != set(ids):
            read_back, missing = self.provider.read(ids)
            if missing:
                raise EngineFailure('instance_ids: %s disappeared while being changed' % ', '.join(missing))
        return read_back

    def converge(self, plan, wanted):
        """Apply, read back, and re-plan while the read-back state differs from the plan.

        A round that ended on a write of unknown outcome is followed by a backoff
        pause, at most `retries` times; a round whose writes all succeeded but whose
        state still differs (someone else changing the instances) at most CONVERGE_ROUNDS times.
        """
        deadline = self.deadline()
        wait = self.params.get('wait', True) or not self.provider.asynchronous
        conn = self.provider.transport
        state = dict((t['instance_id'], t['before']) for t in plan['targets'])
        unknown_rounds = drift_rounds = 0
        while plan['operations']:
            changed_ids = sorted(set(iid for op in plan['operations'] for iid in op['instance_ids']))
            round_start = len(self.operations_done)
            try:
                unknown = self.execute(plan['operations'], deadline, state)
                if not wait and unknown is None:
                    state.update(dict((t['instance_id'], t['after']) for t in plan['targets']))
                    self.warnings.append('wait is false: after is the planned state, not read back')
                    return state
                # After a write of unknown outcome, wait for the truth even with wait=false.
                planned = dict((t['instance_id'], t['after']) for t in plan['targets'])
                state.update(self.verify(dict((iid, planned[iid]) for iid in changed_ids), deadline))
            except transport.ProviderError as error:
                failure = EngineFailure('%s %s failed after changes had started: %s: %s (request ID %s)'
                                        % (self.provider.display_name, error.action, error.code, error.message, error.request_id or 'none'),
                                        error=error.to_dict())
                failure.extra['instances'] = self.applied_state(state, changed_ids, self.operations_done[round_start:])
                raise failure
            except EngineFailure as failure:
                failure.extra['instances'] = self.applied_state(state, changed_ids, self.operations_done[round_start:])
                raise
            try:
                plan = self.plan(dict((t['instance_id'], state[t['instance_id']]) for t in plan['targets']), wanted,
                                 'the instances were changed by something else meanwhile; instances shows what they have')
            except EngineFailure as failure:
                failure.extra['instances'] = self.result_instances(self.before, state)
                raise
            if not plan['operations']:
                break
            if unknown is not None:
                op, error = unknown
                if unknown_rounds >= self.params['retries']:
                    raise EngineFailure('%s; still not applied after %d retries' % (self.describe_error(op, error), unknown_rounds),
                                        error=error.to_dict(), instances=self.result_instances(self.before, state))
                conn.sleep(conn.backoff.delay(unknown_rounds))
                unknown_rounds += 1
            else:
                drift_rounds += 1
                if drift_rounds >= CONVERGE_ROUNDS:
                    raise EngineFailure('the instances did not reach the planned security groups after %d rounds of changes; '
                                        'something else may be changing them' % drift_rounds,
                                        instances=self.result_instances(self.before, state))
                self.warnings.append('the state read back differed from the plan; applying the remaining changes')
        return state

    def applied_state(self, state, changed_ids, done):
        """What is really on each instance after a failure: read back, or the last known state."""
        try:
            read_back, dummy = self.provider.read(changed_ids)
            known = dict(state)
            known.update(read_back)
        except transport.ProviderError as exc:
            self.warnings.append('could not read the instances back after the failure (%s %s); '
                                 'after shows the last state known' % (exc.code, exc.message))
            known = planner.simulate(state, done)
        return self.result_instances(self.before, known)

    def result_instances(self, before, after):
        out = []
        for iid in self.params['instance_ids']:
            b, a = list(before[iid]), list(after[iid])
            out.append({'instance_id': iid, 'before': b, 'after': a,
                        'added': [sg for sg in a if sg not in b], 'removed': [sg for sg in b if sg not in a]})
        return out

    def report(self, current, final, plan):
        instances = self.result_instances(current, final)
        changed = bool(plan['operations'])
        result = {'changed': changed, 'instances': instances, 'request_ids': self.request_ids,
                  'operations': plan['operations'] if self.check_mode else self.operations_done}
        result['diff'] = {'before': dict((i['instance_id'], i['before']) for i in instances),
                          'after': dict((i['instance_id'], i['after']) for i in instances)}
        return result


def run_module(provider_class, module=None):
    """Entry point of a binding module: every failure becomes fail_json, never a traceback."""
    if module is None:
        module = AnsibleModule(argument_spec=argument_spec(provider_class), supports_check_mode=True)
    if not transport.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=str(transport.REQUESTS_IMPORT_ERROR))
    params = module.params
    secrets = [s for s in provider_class.secrets(params) if s]
    conn = None
    engine = None
    failure = None
    try:
        validate(params, provider_class)
        conn = transport.Transport(
            provider_class.name, timeout=params['timeout'], validate_certs=params['validate_certs'],
            max_retries=params['retries'], backoff=transport.Backoff(params['retry_delay'], params['retry_max_delay']),
            rate_limits=provider_class.rate_limits, secrets=secrets)
        engine = Engine(provider_class(params, conn), params, module.check_mode)
        result = engine.run()
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
        if conn is not None:
            conn.close()
    for warning in engine.warnings if engine is not None else []:
        module.warn(redact(warning, secrets))
    if failure is not None:
        failure.setdefault('request_ids', engine.request_ids if engine else [])
        failure.setdefault('operations', engine.operations_done if engine else [])
        if engine is not None and engine.before and 'instances' not in failure:
            # Before any write, or after one whose effect could not be read back: the last state known.
            known = planner.simulate(engine.before, engine.operations_done)
            failure['instances'] = engine.result_instances(engine.before, known)
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
