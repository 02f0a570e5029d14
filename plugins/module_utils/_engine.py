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
  shortly, with nothing to poll: the engine re-reads until our writes show, until
  the task's deadline). The last two add the ``wait`` options;
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
  return their SG lists as read. When some ended failed, it still waits for the
  others, then raises a ProviderError whose ``failed_target_ids`` names them.

An "already so" answer (a bind of a group the target has, an unbind of one it lacks) is
classed ``transport.ALREADY``: for a one-target write it confirms that target.

Optional:

* ``not_found_note``: appended to the message listing targets that were not found;
* ``write_argument_spec``: options of the binding module only (how to write), not of sg_binding_info;
* ``option_ranges``: option -> (low, high) for its integer options, checked like the common ones;
* ``hard_max_groups``: the most groups a target can ever have (a documented limit no quota raises);
  ``max_security_groups`` above it is refused; ``hard_max_groups_by_kind`` (kind option -> limit) where a
  kind's limit differs;
* ``warnings``: a list the provider appends to during the run (a fallback it took, say); reported;
* ``constraints`` may be set per run in ``__init__`` (from an option such as a batch size);
* credentials (``_credentials.py``): ``credential_sources(params, settings)``, ``assume_role(context, base, role)``,
  ``credential_environment``, ``credential_features``, ``assume_role_duration``; the signer asks
  ``_credentials.request_credentials(self.transport, self.params, type(self))`` at each attempt, and the error table
  classes the cloud's "credential expired" codes ``transport.AUTH_EXPIRED``;
* ``credential_options``: meaning -> option name (``{'key ID': 'secret_id', 'secret': ..., 'token': ...}``), the
  meanings shared by every provider: sg_binding tells a user who gives another provider's name what this one calls it;
* a class whose ``constraints.min_groups`` is 0 gets the ``allow_no_groups`` option: without it, purge to an
  empty list is refused before any request;
* ``await_ready(targets, deadline)``: called with the planned targets that would change, after the
  read and before anything else (in check mode too); waits, until the deadline (``wait_timeout``
  from then), for those the cloud cannot change yet but will be able to soon (another operation in
  progress, a transient state); returns ``{target: SG list}`` as read for each it waited for (the
  engine plans again from them), or ``{}``. One still not ready at the deadline is left to ``refusals``;
* ``per_target_errors``: error classes a batch call answers because of one of its targets (a
  quota reached on one instance, say): the engine halves such a batch until that target is alone;
* a ProviderError from ``apply`` may carry ``applied_target_ids`` and ``request_ids``: the
  targets of the operation it wrote before failing (a provider that writes target by target);

For sg_binding_info (``_generic.py``):

* ``status``: target -> its status as the last ``read`` saw it;
* ``describe_security_groups(sg_ids)``: ``{id: {'name': ...}}`` of those that exist, batched;
* ``target_details(ids)`` (optional): ``{target: {field: value}}``, more fields for each target read (its
  network, say);
* ``bound_targets(sg_ids)`` (optional): ``{sg: [target, ...]}`` through the cloud's list filtered
  by group, in a bounded number of calls; without it the reverse question is refused.
* ``list_filters`` and ``list_instances(filters)`` (optional; ``_listing.py`` says what they give): the
  region's instances, for sg_binding_info's ``filters`` and the inventory plugin.

Quarantine (optional; docs/architecture.md, "Quarantine records in tags"):

* ``tags``: after ``read``, ``{target: {key: value}}`` for every instance-like target found; a target whose tags carry
  a quarantine record (``_quarantine_record.has_record``) is left alone with ``quarantined=skip``. Without it, no
  target is ever taken as quarantined;
* ``interface_owner(interface_ids)``: ``{interface: owning instance or None}`` from the last ``read``: an interface
  target is quarantined when its owner is; the owners of the interfaces the plan would change (none on a no-op run)
  are read (their tags) with a second provider object of the owner's kind, ``owner_kinds`` (interface kind option -> owner kind option, default
  ``{'network_interface_ids': 'instance_ids'}``);
* ``attached_interfaces(instance_ids)`` (sg_binding_info ``interfaces``): ``{instance: [{'network_interface_id',
  'security_group_ids'}, ...]}``, the interfaces that carry their own groups.

* ``refusals(targets)``: called with every planned target, after
  ``missing_security_groups``; ``(target_id, reason)`` for each the provider
  already knows the cloud will refuse; the task then fails before any write, in
  check mode too, or with ``on_refused=skip`` goes on without them (``read`` does the
  same for targets not found, with ``on_missing``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import math
import os
import re
import signal
import threading
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, _load_params, env_fallback, missing_required_lib

try:
    from ansible.module_utils.secrets import register_secret   # ansible-core 2.22+
except ImportError:
    register_secret = None

from ansible_collections.multicloud.secgroup.plugins.module_utils import _credentials as credentials
from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _quarantine_record as quarantine_record
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
    max_concurrency=dict(type='int', default=16),
    max_security_groups=dict(type='int'),
    rate_limit=dict(type='float'),
    on_missing=dict(type='str', default='fail', choices=['fail', 'skip']),
    on_refused=dict(type='str', default='fail', choices=['fail', 'skip']),
    quarantined=dict(type='str', default='skip', choices=['skip', 'change']),
)

# An interface kind's owner kind, where the provider does not say (owner_kinds).
DEFAULT_OWNER_KINDS = {'network_interface_ids': 'instance_ids'}

WAIT_ARGUMENT_SPEC = dict(
    wait=dict(type='bool', default=True),
    wait_timeout=dict(type='int', default=300),
)

# For providers that let a target have no group at all (constraints.min_groups 0): purge to an empty list
# strips every group, so it must be asked for explicitly.
NO_GROUPS_ARGUMENT_SPEC = dict(
    allow_no_groups=dict(type='bool', default=False),
)

# Errors of a read that say nothing about the state (it could not be read): retried, then given up.
UNREAD = (transport.THROTTLED, transport.TRANSIENT, transport.AMBIGUOUS, transport.UNSENT, transport.IN_PROGRESS)

# Rounds of apply-then-verify before giving up on a state that keeps drifting.
CONVERGE_ROUNDS = 3
# Rounds of re-planning after a write answered with a server error, which the read-back settles (a lost answer
# gets `retries` rounds: the write may still be on its way).
ANSWERED_ERROR_ROUNDS = 3

# The state of one write on one target (docs/architecture.md, "Writes, waiting and failure reports").
PLANNED = 'planned'        # in the plan, not sent yet
SENT = 'sent'              # sent, no answer yet
ACCEPTED = 'accepted'      # answered success; may not show yet ('task', 'eventual')
UNKNOWN = 'unknown'        # no usable answer (lost, server error): maybe applied, maybe later, maybe never
CONFIRMED = 'confirmed'    # shows applied (read, settled, or 'sync'), or the cloud answered the target already is so
FAILED = 'failed'          # refused, failed in the cloud, or, for an unknown one, not shown and planned again

# After an interrupt: how long the targets are read back for the report, in seconds; past it (or if the read
# fails), the report shows the last state known.
INTERRUPT_READ_BACK_S = 4.0
# The signals that stop a run (docs/reliability.md, "Interrupts").
STOP_SIGNALS = ('SIGINT', 'SIGTERM')
# Targets awaited together between two of their writes on a 'task' or 'eventual' cloud: a tenth of the targets, at
# most one read page (100 IDs on every supported cloud), so that waiting costs about ten reads per step while the
# first targets' next steps start early; at least AWAIT_MIN (a read of one target costs what a read of ten does, and
# a burst's answers come together); fewer when nothing else is in flight.
AWAIT_BATCH = 100
AWAIT_SHARE = 10
AWAIT_MIN = 10
# Upper bounds that keep odd but numeric input from overflowing sockets, sleeps and thread pools.
MAX_SECONDS = 86400.0
MAX_CONCURRENCY = 256
# An endpoint is scheme://host[:port][/]: a path, query, credentials or an odd host would be sent
# somewhere else than the user meant, or fail inside the HTTP library with a message naming no option.
ENDPOINT_PATTERN = (r'https?://(?P<host>[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?'
                    r'|\[(?P<ipv6>[0-9A-Fa-f:.]+)\])(:(?P<port>[0-9]{1,5}))?/?')


class Write:
    """One operation sent to the cloud, and the state of each of its targets."""

    def __init__(self, op):
        self.op = op
        self.states = dict((tid, PLANNED) for tid in op['target_ids'])
        self.error = None
        self.by_answer = False     # confirmed by the cloud's "already so" answer, not by a read
        self.rank = None           # its priority in execute's stream

    def mark(self, state, target_ids=None):
        for tid in self.states if target_ids is None else target_ids:
            self.states[tid] = state

    def targets(self, *states):
        return [tid for tid in self.op['target_ids'] if self.states[tid] in states]


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
    if provider.constraints.min_groups == 0:
        spec.update(NO_GROUPS_ARGUMENT_SPEC)
    spec.update(credentials_spec())
    spec.update(provider.argument_spec)
    spec.update(getattr(provider, 'write_argument_spec', {}))
    # The key pair is one source among several (profile files, instance role): never required by itself.
    for option in getattr(provider, 'credential_options', {}).values():
        if option in spec:
            spec[option] = dict(spec[option], required=False)
    return spec


def credentials_spec():
    """The credential options every module has (_credentials.ARGUMENT_SPEC), a copy per module."""
    return dict((name, dict(option, options=dict((k, dict(v)) for k, v in option['options'].items())) if 'options' in option else dict(option))
                for name, option in credentials.ARGUMENT_SPEC.items())


def module_options(provider):
    """AnsibleModule's keyword arguments for a binding module of this provider."""
    options = dict(argument_spec=argument_spec(provider), supports_check_mode=True)
    if len(provider.target_kinds) > 1:
        names = [kind.option for kind in provider.target_kinds]
        options.update(mutually_exclusive=[names], required_one_of=[names])
    return options


def new_module(credentials=None, **options):
    """AnsibleModule(**options), first refusing, by name, numbers that ansible-core's own checks
    mishandle: a list given for a number is read as a Decimal tuple (``[0, [1], 2]`` becomes 100, and
    ``[2**63, None, None]`` raises OverflowError), and an infinite value for a whole number raises too.

    An option the module does not have is refused without its value (AnsibleModule would return it in
    ``invocation``: another cloud's secret option, say), with the module's own credential options
    (``credentials``: their names) when given."""
    raw = _load_params()
    if not isinstance(raw, dict):     # argument_spec introspection (validate-modules) has no parameters
        return AnsibleModule(**options)
    names = set(options['argument_spec'])
    names.update(alias for spec in options['argument_spec'].values() for alias in spec.get('aliases') or [])
    unknown = sorted(name for name in raw if name not in names and not name.startswith('_ansible_'))
    bad = sorted(name for name, spec in options['argument_spec'].items()
                 if (spec.get('type') in ('int', 'float') and not_a_number(raw.get(name), spec['type']))
                 or (spec.get('type') == 'dict' and raw.get(name) is not None and dict_problem(raw[name], spec)))
    # The spec with the options ansible-core would choke on taken as they are (raw): to fail naming something else first.
    loose = dict(options['argument_spec'])
    loose.update((name, dict(loose[name], type='raw', options=None)) for name in bad)
    if unknown:
        spec = dict(loose)
        spec.update((name, dict(type='raw', no_log=True)) for name in unknown)
        module = AnsibleModule(**dict(options, argument_spec=spec))
        module.fail_json(msg='%s: not an option of this module; remove %s%s'
                         % (', '.join(unknown), 'it' if len(unknown) == 1 else 'them',
                            ' (its credential options are %s)' % ', '.join(credentials) if credentials else ''))
    doubled = [(name, alias) for name, spec in sorted(options['argument_spec'].items()) for alias in spec.get('aliases') or []
               if raw.get(name) is not None and raw.get(alias) is not None]
    if doubled:
        # AnsibleModule would only warn and take one of them, and later messages would name the other.
        AnsibleModule(**dict(options, argument_spec=loose)).fail_json(
            msg='; '.join('%s, %s: both given, and they are one option (%s is another name of %s); give one'
                          % (name, alias, alias, name) for name, alias in doubled))
    unset = [name for name, spec in sorted(options['argument_spec'].items()) if spec.get('required') and is_unset(name, spec, raw)]
    if unset:
        # AnsibleModule would say "missing required arguments: secret_id", naming no environment variable.
        spec = dict(loose)
        spec.update((name, dict(spec[name], required=False)) for name in unset)
        module = AnsibleModule(**dict(options, argument_spec=spec))
        module.fail_json(msg='; '.join(unset_message(name, spec[name]) for name in unset))
    if not bad:
        return AnsibleModule(**options)
    # Parsed with those options taken as they are, only to fail naming them.
    module = AnsibleModule(**dict(options, argument_spec=loose))
    reasons = []
    for name in bad:
        value = raw[name]
        if options['argument_spec'][name].get('type') == 'dict':
            reasons.append(dict_problem(value, options['argument_spec'][name]) % name)
        elif isinstance(value, (list, tuple, dict, set)):
            reasons.append('%s: %r is a %s, not a number' % (name, value, type(value).__name__))
        else:
            reasons.append('%s: %r is infinite, not a whole number' % (name, value))
    module.fail_json(msg='; '.join(reasons) + ('; give a single number' if any('not a dictionary' not in r for r in reasons) else ''))


def dict_problem(value, spec):
    """Why value cannot be the dict option of spec (ansible-core would say "dictionary requested" naming no option,
    before masking the no_log values, or raise on an infinite whole number in it), as a message with %s for the
    option's name; or None."""
    suboptions = spec.get('options') or {}
    if not isinstance(value, dict):
        return '%%s: %r is a %s, not a dictionary of %s' % (value, type(value).__name__, ', '.join(sorted(suboptions)))
    for sub, option in sorted(suboptions.items()):
        if option.get('type') in ('int', 'float') and not_a_number(value.get(sub), option['type']):
            shown = value[sub]
            what = 'a %s' % type(shown).__name__ if isinstance(shown, (list, tuple, dict, set)) else 'infinite'
            return '%%s.%s: %r is %s, not a number' % (sub, shown, what)
    return None


def environment_variables(option):
    """The environment variables an option falls back to, in the order they are tried."""
    fallback = option.get('fallback')
    return list(fallback[1]) if fallback and fallback[0] is env_fallback else []


def is_unset(name, option, params):
    """Neither given (by its name or an alias) nor in one of its environment variables."""
    return (all(params.get(alias) is None for alias in [name] + list(option.get('aliases') or []))
            and not any(var in os.environ for var in environment_variables(option)))


def unset_message(name, option):
    """'secret_id (or TENCENTCLOUD_SECRET_ID) is not set', from the option's own fallback."""
    variables = environment_variables(option)
    return '%s%s is not set' % (name, ' (or %s)' % ' or '.join(variables) if variables else '')


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
    hard_max = getattr(provider, 'hard_max_groups_by_kind', {}).get(kind.option, getattr(provider, 'hard_max_groups', None))
    wanted_max = params.get('max_security_groups')
    if hard_max is not None and isinstance(wanted_max, int) and not isinstance(wanted_max, bool) and wanted_max > hard_max:
        raise EngineFailure('max_security_groups: %r is above %s\'s hard limit of %d security groups per %s, which no quota '
                            'raises; give %d or less' % (wanted_max, provider.display_name, hard_max, kind.word, hard_max))
    if (params.get('purge') and params.get('state') == 'present' and params.get('security_group_ids') == []
            and provider.constraints.min_groups == 0 and not params.get('allow_no_groups')):
        raise EngineFailure('purge: true with an empty security_group_ids would unbind every security group from every %s '
                            'listed in %s; set allow_no_groups: true if that is what you want' % (kind.word, kind.option))
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
    strings = []
    for option, spec in sorted(argument_spec(provider).items()):
        strings.append((option, spec, params.get(option)))
        if spec.get('options') and isinstance(params.get(option), dict):
            strings.extend(('%s.%s' % (option, sub), subspec, params[option].get(sub)) for sub, subspec in sorted(spec['options'].items()))
    for option, spec, value in strings:
        if spec.get('type') not in ('str', 'path') or not value or not isinstance(value, str):
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
                               batch_size=limits.batch_size, set_batch_size=limits.set_batch_size,
                               max_groups_origin="the task's max_security_groups (%s's default quota is %d)" % (provider.display_name, limits.max_groups),
                               bounds_note=limits.bounds_note)


def owner_kind(provider, kind):
    """The kind of the instance a target of this kind belongs to (an interface's), or None for an instance-like kind."""
    option = getattr(provider, 'owner_kinds', DEFAULT_OWNER_KINDS).get(kind.option)
    return next((k for k in provider.target_kinds if k.option == option), None)


def quarantined_targets(provider, kind, params, ids):
    """The targets among ids (found by the last read) that carry a quarantine record, or whose owner does, in the order
    given: {target: owner or None}. Costs no call for instance-like targets (their tags come with the read); one read of
    the owners for interfaces, only when some have an owner."""
    owner = owner_kind(provider, kind)
    if owner is None:
        tags = getattr(provider, 'tags', None) or {}
        return dict((tid, None) for tid in ids if quarantine_record.has_record(tags.get(tid)))
    if not ids or not hasattr(provider, 'interface_owner'):
        return {}
    owners = provider.interface_owner(list(ids))
    owner_ids = unique([owners[tid] for tid in ids if owners.get(tid)])
    if not owner_ids:
        return {}
    reader = type(provider)(dict(params, **dict([(k.option, None) for k in provider.target_kinds], **{owner.option: owner_ids})),
                            provider.transport)
    reader.read(owner_ids)
    tags = getattr(reader, 'tags', None) or {}
    return dict((tid, owners[tid]) for tid in ids if owners.get(tid) and quarantine_record.has_record(tags.get(owners[tid])))


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


def unique_writes(writes):
    """The writes, each once, in the order first seen (they are not hashable by value, so by identity)."""
    seen, out = set(), []
    for write in writes:
        if id(write) not in seen:
            seen.add(id(write))
            out.append(write)
    return out


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
        self.writes = []           # every Write, in the order sent
        self.uncertain = []        # the writes answered with an unknown outcome (supersede looks at these only)
        self.deadline_at = None    # wait_timeout from the first wait or write: one bound on the whole task
        self.before = {}
        self.constraints = constraints(params, provider)
        # Targets left out with on_missing/on_refused=skip: result key -> IDs. They are in no result list but their own.
        self.skipped = {}

    def run(self):
        params = self.params
        ids = params[self.kind.option]
        wanted = params['security_group_ids']
        if params['purge'] and params['state'] == 'absent':
            self.warnings.append('purge is ignored with state=absent: only the listed security groups are unbound')
        current = self.read(ids)
        self.before = current
        current, plan = self.await_ready(current, wanted)
        self.before = current
        if plan['operations']:
            self.check_groups_exist(plan)
        plan = self.check_refusals(plan)
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
        found = '%s: %s not found in %s%s%s' % (self.kind.option, ', '.join(missing), self.provider.display_name, self.where(),
                                                getattr(self.provider, 'not_found_note', ''))
        if missing and self.params.get('on_missing') != 'skip':
            raise EngineFailure('%s; nothing was changed (on_missing=skip changes the others)' % found,
                                **{'missing_' + self.kind.option: list(missing)})
        if self.params.get('on_missing') == 'skip':
            self.skip('missing_' + self.kind.option, missing, '%s; skipped (on_missing=skip)' % found)
        present = [tid for tid in ids if tid not in missing]
        if self.params.get('quarantined', 'skip') == 'skip':
            held = quarantined_targets(self.provider, self.kind, self.params, self.would_change(current, present))
            self.skipped['quarantined'] = [tid for tid in present if tid in held]
            if held:
                owner = owner_kind(self.provider, self.kind)
                names = ', '.join('%s (%s %s)' % (tid, owner.word, held[tid]) if held[tid] else tid for tid in present if tid in held)
                self.warnings.append('%s(s) %s: quarantined (a quarantine record, tags %s*, on %s); left as they are '
                                     '(quarantined=skip; quarantined=change changes them)'
                                     % (self.kind.word, names, quarantine_record.RECORD_KEY_PREFIX,
                                        'the %s it belongs to' % owner.word if owner else 'it'))
            present = [tid for tid in present if tid not in held]
        else:
            self.skipped['quarantined'] = []
        return dict((tid, current[tid]) for tid in present)

    def would_change(self, current, ids):
        """The targets among ids that the plan changes: only those can release a quarantine, and an interface's owner
        is read for them only. All of them when the plan itself fails (the run fails on it right after)."""
        if owner_kind(self.provider, self.kind) is None:
            return ids      # instance tags came with the read: checking every target costs nothing
        try:
            plan = self.plan(dict((tid, current[tid]) for tid in ids), self.params['security_group_ids'])
        except EngineFailure:
            return ids
        changing = set(t['target_id'] for t in plan['targets'] if t['added'] or t['removed'] or t['before'] != t['after'])
        return [tid for tid in ids if tid in changing]

    def skip(self, key, ids, warning):
        self.skipped[key] = list(ids)
        if ids:
            self.warnings.append(warning)

    def where(self):
        region = self.params.get('region')
        return ' region %s' % region if region else ''

    def plan(self, current, wanted, consequence='nothing was changed'):
        try:
            return planner.plan(current, wanted, self.params['state'], self.params['purge'], self.constraints, self.kind.word)
        except planner.PlanError as exc:
            raise EngineFailure('%s; %s' % (exc, consequence))

    def await_ready(self, current, wanted):
        """(current, plan), after the provider's await_ready (optional) waited for the targets to change that
        cannot take a change yet; planned again from what they have then."""
        plan = self.plan(current, wanted)
        await_ready = getattr(self.provider, 'await_ready', None)
        changing = [target for target in plan['targets'] if target['before'] != target['after']]
        if await_ready is None or not changing:
            return current, plan
        read_back = await_ready(changing, self.deadline())
        if not read_back:
            return current, plan
        current = dict(current)
        current.update((tid, unique(groups)) for tid, groups in read_back.items() if tid in current)
        return current, self.plan(current, wanted)

    def check_refusals(self, plan):
        """The plan without the targets the provider knows the cloud will refuse, with on_refused=skip;
        with on_refused=fail, a failure naming them."""
        refusals = getattr(self.provider, 'refusals', None)
        refused = refusals(plan['targets']) if refusals and plan['targets'] else []
        reasons = '; '.join('%s %s: %s' % (self.kind.word, tid, reason) for tid, reason in refused)
        refused_ids = [tid for tid, dummy in refused]
        if refused and self.params.get('on_refused') != 'skip':
            raise EngineFailure('%s; nothing was changed (on_refused=skip changes the others)' % reasons,
                                **{'refused_' + self.kind.option: refused_ids})
        if self.params.get('on_refused') == 'skip':
            self.skip('refused_' + self.kind.option, refused_ids, '%s; skipped (on_refused=skip)' % reasons)
        if not refused:
            return plan
        # The planner plans each target on its own: planning the others again leaves their changes as they were.
        return self.plan(dict((t['target_id'], t['before']) for t in plan['targets'] if t['target_id'] not in refused_ids),
                         self.params['security_group_ids'])

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
        """The task's one deadline: wait_timeout seconds after the first wait for a target (await_ready) or the
        first write (converge), whichever comes first."""
        if self.deadline_at is None:
            self.deadline_at = self.clock() + self.params.get('wait_timeout', 300)
        return self.deadline_at

    @property
    def operations_done(self):
        """The operations applied, in the order sent, on the targets where they were accepted or show applied."""
        done = []
        for write in self.writes:
            ids = write.targets(ACCEPTED, CONFIRMED)
            if ids:
                done.append(dict(write.op, target_ids=ids))
        return done

    def changed(self):
        return any(write.targets(ACCEPTED, CONFIRMED) for write in self.writes)

    def open_writes(self, target_ids, states):
        wanted = set(target_ids)
        return [write for write in self.writes if wanted & set(write.targets(*states))]

    def shows(self, tid, groups, writes):
        """Whether a target's list shows these writes of ours applied, in the order sent: each group they bind or
        unbind present or absent as the last of them left it; a set equal (as a set where order means nothing).
        Someone else's groups do not matter."""
        present = {}
        exact = None
        for write in writes:
            if write.states.get(tid) not in (ACCEPTED, CONFIRMED):
                continue
            op = write.op
            if op['action'] == 'set':
                present = dict((sg, True) for sg in op['security_group_ids'])
                exact = list(op['security_group_ids'])
            else:
                present[op['security_group_ids'][0]] = op['action'] == 'bind'
        if exact is not None and not self.constraints.ordered and sorted(groups) != sorted(exact):
            return False
        if exact is not None and self.constraints.ordered and [sg for sg in groups if sg in exact] != exact:
            return False
        return all((sg in groups) == wanted for sg, wanted in present.items())

    def await_writes(self, target_ids, expected, states=(ACCEPTED,), waiting=None):
        """The waiting rule: every ACCEPTED write to these targets is awaited, until the task's deadline, before
        anything else is sent to them or they are reported; those that show become CONFIRMED. Returns the lists
        read while waiting (target -> list), possibly for some targets only. states: also UNKNOWN on a 'task'
        cloud's failure report (its operation state says when a write whose answer was lost is over). waiting:
        the open writes to these targets, when the caller knows them (execute), instead of a search of every write."""
        if waiting is None:
            waiting = self.open_writes(target_ids, states)
        if not waiting:
            return {}
        ids = sorted(set(tid for write in waiting for tid in write.targets(*states)) & set(target_ids))
        if self.provider.completion == 'task':
            try:
                lists = self.provider.settle(dict((tid, expected[tid]) for tid in ids), self.deadline()) or {}
            except transport.ProviderError as error:
                failed = set(getattr(error, 'failed_target_ids', ()))
                for write in waiting:
                    write.mark(FAILED, [tid for tid in write.targets(ACCEPTED) if tid in failed])
                raise
        elif self.provider.completion == 'eventual':
            lists = self.await_visible(ids, waiting)
        else:
            lists = {}
        for write in waiting:
            write.mark(CONFIRMED, [tid for tid in write.targets(ACCEPTED) if tid in ids])
        return lists

    def awaited(self):
        """The writes awaited: the accepted ones; on a 'task' cloud also those whose answer was lost (its operation
        state says when they are over, even without their request ID)."""
        return (ACCEPTED, UNKNOWN) if self.provider.completion == 'task' else (ACCEPTED,)

    def await_visible(self, ids, waiting):
        """'eventual' clouds: read until every target shows our accepted writes, until the task's deadline."""
        def step():
            current, missing = self.read_targets(ids)
            if missing:
                raise EngineFailure('%s: %s disappeared while being changed' % (self.kind.option, ', '.join(missing)))
            return all(self.shows(tid, current[tid], waiting) for tid in ids), current

        shown, current = transport.poll(step, self.deadline(), self.clock, self.provider.transport.sleep)
        if not shown:
            late = [tid for tid in ids if not self.shows(tid, current[tid], waiting)]
            raise EngineFailure('%s accepted the changes to %s(s) %s, but its reads do not show them after wait_timeout (%s s); '
                                'raise wait_timeout, or run the task again later'
                                % (self.provider.display_name, self.kind.word, ', '.join(late), self.params.get('wait_timeout', 300)))
        return current

    def execute(self, operations, state):
        """Send the operations in the planner's Schedule: each target's next operation as soon as its previous
        one is answered and, where the cloud shows writes later ('task', 'eventual'), awaited. The targets whose
        next operation waits are awaited together, a tenth of the targets at a time (at least AWAIT_MIN, at most a read
        page) or when nothing else is in flight, while the writes to the others go on. Independent steps (the binds and unbinds of a purge, which
        have their own rate limits) so overlap, and each target still moves one planned step at a time.

        Returns the writes of unknown outcome (a lost answer, a server error, or an "already so" answer to a
        batch: ambiguous about which target): converge() reads back and plans what is missing; once one comes,
        no further operation is released (those sent are answered first). A batch refused with one of the
        provider's per-target error classes is halved until the refused target is alone; the writes to the
        other targets go on, and the refusal is raised at the end.
        """
        expected = dict(state)
        schedule = planner.Schedule(operations)
        expected.update(self.await_writes(list(schedule.chains), expected))
        run = {'refused': None, 'stop': False, 'halted': False, 'failures': [], 'unknown': []}
        awaiting = {}           # target -> its accepted write, awaited before its next operation
        sent = {}               # id(operation dict) -> its Write
        batch = min(AWAIT_BATCH, max(AWAIT_MIN, -(-len(schedule.chains) // AWAIT_SHARE)))
        stream = self.provider.transport.stream(self.provider.apply, self.params['max_concurrency'])

        def send(ops):
            # Later steps first (then plan order): a target's next step goes before other targets' first ones, so
            # that each step's calls start early; one lane per action, so that the workers waiting on the binds'
            # rate limit leave some for the unbinds (each its own limit on every supported cloud).
            for rank, op in ops:
                if not isinstance(rank, tuple):
                    rank = (-max(schedule.position[tid] for tid in op['target_ids']), rank)
                write = Write(op)
                write.rank = rank
                self.writes.append(write)
                write.mark(SENT)
                sent[id(op)] = write
                stream.submit(op, rank, op['action'])

        try:
            send(schedule.start())
            while stream.outstanding() or (awaiting and not run['halted']):
                if awaiting and not run['halted'] and (not stream.outstanding() or len(awaiting) >= batch):
                    ids = sorted(awaiting)
                    try:
                        expected.update(self.await_writes(ids, expected, waiting=unique_writes(awaiting.values())))
                    except (transport.ProviderError, EngineFailure) as exc:
                        run['failures'].append(exc)     # raised once the writes sent are answered
                        run['halted'] = True
                        continue
                    awaiting.clear()
                    schedule.done(ids)
                    send(schedule.take())
                    continue
                op, result = stream.next()
                write = sent.pop(id(op))
                self.answered(write, result, expected, schedule, awaiting, run, send)
                stream.ack()
                if not run['halted']:
                    send(schedule.take())
        except (KeyboardInterrupt, transport.Interrupted) as exc:
            stream.interrupt(exc)
        finally:
            stream.close()
        if run['failures']:
            raise run['failures'][0]
        refused, unknown = run['refused'], run['unknown']
        if run['stop'] or (unknown and refused is not None):
            # The task fails anyway: the writes of unknown outcome are reported with it, not sent again.
            raise self.refusal(refused)
        if unknown:
            for write in unknown:
                self.warnings.append('%s; re-reading the %ss to learn what was applied'
                                     % (self.describe_error(write.op, write.error), self.kind.word))
            return unknown
        if refused is not None:
            raise self.refusal(refused)
        return []

    def answered(self, write, result, expected, schedule, awaiting, run, send):
        """Record one write's answer: its targets' states, what they are expected to show, and which of them are done
        (their next operation may go), awaited (they have a next one, and the cloud shows writes later) or dropped."""
        if not isinstance(result, BaseException):
            self.accepted(write, write.targets(SENT), result, expected, schedule, awaiting)
            self.supersede(write)
            return
        if not isinstance(result, transport.ProviderError):
            write.mark(FAILED, write.targets(SENT))
            schedule.drop(write.op['target_ids'])
            run['failures'].append(result)     # a bug: raised once the writes sent are answered
            run['halted'] = True
            return
        write.error = result
        applied = [tid for tid in getattr(result, 'applied_target_ids', ()) if tid in write.states]
        if applied:
            # A provider that wrote target by target: those that went through are applied.
            self.accepted(write, applied, getattr(result, 'request_ids', None), expected, schedule, awaiting)
        halves = self.after_error(write, result)
        send([(write.rank, half) for half in halves])
        if write.targets(UNKNOWN):
            run['unknown'].append(write)
            run['halted'] = True
        elif write.targets(FAILED) and not halves:
            run['refused'] = run['refused'] or write
            schedule.drop(write.targets(FAILED))
            if result.error_class not in self.per_target_errors():
                run['stop'] = run['halted'] = True
        for tid in write.targets(CONFIRMED):
            if tid not in applied:          # confirmed by the cloud's "already so" answer
                schedule.done([tid])

    def accepted(self, write, ids, request_ids, expected, schedule, awaiting):
        self.request_ids.extend(request_ids or [])
        sync = self.provider.completion == 'sync'
        write.mark(CONFIRMED if sync else ACCEPTED, ids)
        for tid in ids:
            expected[tid] = planner.apply_operation(expected[tid], write.op)
            if sync or not schedule.has_next(tid):
                schedule.done([tid])
            else:
                awaiting[tid] = write

    def record_interrupt(self, exc):
        """The writes an interrupt stopped (transport.Interrupted from the writes' Stream): those answered and not yet
        recorded are accepted (or failed), those in flight or stopped after some of their writes (an AMBIGUOUS answer) unknown, those
        never started not sent (FAILED: they changed nothing)."""
        if getattr(exc, 'work', None) != self.provider.apply:
            return
        sent = [write for write in self.writes if write.targets(SENT)]
        by_op = dict((id(write.op), write) for write in self.writes)
        for op, result in list(exc.completed) + [(op, None) for op in exc.in_flight]:
            write = by_op.get(id(op))
            if write is None:
                write = Write(op)
                self.writes.append(write)
            elif write not in sent:
                continue        # its answer was recorded before the interrupt
            else:
                sent.remove(write)
            if result is None or (isinstance(result, transport.ProviderError)
                                  and result.error_class in (transport.AMBIGUOUS, transport.TRANSIENT)):
                write.mark(UNKNOWN)
            elif isinstance(result, BaseException):
                write.mark(FAILED)
            else:
                self.request_ids.extend(result or [])
                write.mark(CONFIRMED if self.provider.completion == 'sync' else ACCEPTED)
        for write in sent:      # never started
            write.mark(FAILED, write.targets(SENT))

    def refusal(self, write):
        return EngineFailure(self.describe_error(dict(write.op, target_ids=write.targets(FAILED)), write.error), error=write.error.to_dict())

    def supersede(self, write):
        """An earlier write of unknown outcome that this one repeated is over: it is not counted or awaited."""
        for earlier in self.uncertain:
            if earlier is not write and (earlier.op['action'], earlier.op['security_group_ids']) == \
                    (write.op['action'], write.op['security_group_ids']):
                earlier.mark(FAILED, [tid for tid in earlier.targets(UNKNOWN) if tid in write.states])

    def per_target_errors(self):
        return getattr(self.provider, 'per_target_errors', ())

    def after_error(self, write, error):
        """Classify one write's error: its targets' new state; the halves of a batch to send again."""
        ids = write.targets(SENT)
        if error.error_class == transport.ALREADY and len(ids) == 1:
            # The cloud says this one target already is so: authoritative, whatever its reads show yet.
            write.mark(CONFIRMED, ids)
            write.by_answer = True
            self.request_ids.extend([error.request_id] if error.request_id else [])
            self.warnings.append('%s answered %s to %s (%s); taken as already done'
                                 % (self.provider.display_name, error.code, self.describe_operation(write.op), error.message))
            return []
        if error.error_class in (transport.AMBIGUOUS, transport.TRANSIENT, transport.ALREADY):
            write.mark(UNKNOWN, ids)
            self.uncertain.append(write)
            return []
        write.mark(FAILED, ids)
        if error.error_class in self.per_target_errors() and len(ids) > 1:
            middle = (len(ids) + 1) // 2
            return [dict(write.op, target_ids=ids[:middle]), dict(write.op, target_ids=ids[middle:])]
        return []

    def describe_error(self, op, error):
        return ('%s failed %s: %s %s (request ID %s)'
                % (self.provider.display_name, self.describe_operation(op), error.code, error.message, error.request_id or 'none'))

    def read_back(self, ids, expected):
        """The targets' lists once our accepted writes to them are awaited: as read, with the writes the cloud
        confirmed by its answer laid over where its reads do not show them yet."""
        ids = sorted(ids)
        lists = self.await_writes(ids, expected, self.awaited())
        if set(lists) != set(ids):
            lists, missing = self.read_targets(ids)
            if missing:
                raise EngineFailure('%s: %s disappeared while being changed' % (self.kind.option, ', '.join(missing)))
        return self.overlay(dict((tid, lists[tid]) for tid in ids), (CONFIRMED,))

    def overlay(self, lists, states):
        """lists with our writes in these states that the cloud answered for but its reads do not show, laid over (warned)."""
        for write in self.writes:
            for tid in write.targets(*states):
                if tid in lists and (write.by_answer or write.states[tid] == ACCEPTED) and not self.shows(tid, lists[tid], [write]):
                    lists[tid] = planner.apply_operation(lists[tid], write.op)
                    what = self.describe_operation(dict(write.op, target_ids=[tid]))
                    self.warn_once('%s %s: after shows %s, which %s answered is already so, although its reads do not show it yet'
                                   % (self.kind.word, tid, what, self.provider.display_name) if write.by_answer else
                                   '%s %s: after shows the accepted %s, which the reads could not confirm; the cloud may still '
                                   'have failed it' % (self.kind.word, tid, what))
        return lists

    def warn_once(self, warning):
        if warning not in self.warnings:
            self.warnings.append(warning)

    def resolve_unknown(self, unknown, state):
        """Writes of unknown outcome: those the targets show are applied (CONFIRMED, warned); the others stay
        UNKNOWN (they may still come) and are planned again. An "already so" answer to a batch applied nothing
        (a batch is all or nothing): its targets are re-planned from what they show."""
        for write in unknown:
            if write.error.error_class == transport.ALREADY:
                write.mark(FAILED)
                continue
            for tid in write.targets(UNKNOWN):
                if tid in state and took_effect(write.op, state[tid]):
                    write.mark(CONFIRMED, [tid])
            if write.targets(CONFIRMED):
                self.warnings.append('the answer to %s was lost (%s), but the %ss show it applied; it has no request ID'
                                     % (self.describe_operation(dict(write.op, target_ids=write.targets(CONFIRMED))),
                                        write.error.code, self.kind.word))

    def describe_operation(self, op):
        what = {'bind': 'binding %s to', 'unbind': 'unbinding %s from', 'set': 'setting [%s] on'}[op['action']]
        return '%s %s(s) %s' % (what % ', '.join(op['security_group_ids']), self.kind.word, ', '.join(op['target_ids']))

    def converge(self, plan, wanted):
        """Apply, read back, and re-plan while the read-back state differs from the plan, all within the task's
        one deadline (wait_timeout from the first wait or write).

        A round that ended on writes of unknown outcome is followed by a backoff pause, at most `retries` times
        after a lost answer and ANSWERED_ERROR_ROUNDS times after a server error; a round whose writes all
        succeeded but whose state still differs (someone else changing the targets) at most CONVERGE_ROUNDS times.
        """
        self.deadline()
        wait = self.params.get('wait', True)
        conn = self.provider.transport
        state = dict((t['target_id'], t['before']) for t in plan['targets'])
        unknown_rounds = drift_rounds = 0
        while plan['operations']:
            changed_ids = sorted(set(tid for op in plan['operations'] for tid in op['target_ids']))
            first = len(self.writes)
            try:
                unknown = self.execute(plan['operations'], state)
                if not wait and not unknown:
                    state.update(dict((t['target_id'], t['after']) for t in plan['targets']))
                    self.warnings.append('wait is false: after is the planned state, not read back')
                    return state
                # After a write of unknown outcome, wait for the truth even with wait=false.
                # What the targets should show if every write of the round took effect (the lost ones too).
                expected = planner.simulate(state, [dict(w.op, target_ids=w.targets(ACCEPTED, CONFIRMED, UNKNOWN))
                                                    for w in self.writes[first:]])
                state.update(self.read_back(changed_ids, expected))
            except transport.ProviderError as error:
                raise self.failure('%s %s failed: %s: %s (request ID %s)' % (self.provider.display_name, error.action, error.code,
                                                                             error.message, error.request_id or 'none'),
                                   state, error=error.to_dict())
            except EngineFailure as failure:
                raise self.failure(str(failure), state, **failure.extra)
            self.resolve_unknown(unknown, state)
            try:
                plan = self.plan(dict((t['target_id'], state[t['target_id']]) for t in plan['targets']), wanted,
                                 'the %ss were changed by something else meanwhile; %s shows what they have'
                                 % (self.kind.word, self.kind.result_key))
            except EngineFailure as failure:
                failure.extra[self.kind.result_key] = self.result_targets(self.before, state)
                failure.extra['changed'] = self.changed()
                raise
            if not plan['operations']:
                break
            lost = [write for write in unknown if write.error.error_class != transport.ALREADY]
            if lost:
                error = lost[0].error
                rounds = self.params['retries'] if any(w.error.error_class == transport.AMBIGUOUS for w in lost) else \
                    min(self.params['retries'], ANSWERED_ERROR_ROUNDS)
                if unknown_rounds >= rounds or self.clock() >= self.deadline():
                    raise self.failure('%s; still not applied after %d retries' % (self.describe_error(lost[0].op, error), unknown_rounds),
                                       state, error=error.to_dict())
                conn.sleep(min(conn.backoff.delay(unknown_rounds), max(0.0, self.deadline() - self.clock())))
                unknown_rounds += 1
            else:
                drift_rounds += 1
                if drift_rounds >= CONVERGE_ROUNDS:
                    raise self.failure('the %ss did not reach the planned security groups after %d rounds of changes; '
                                       'something else may be changing them' % (self.kind.word, drift_rounds), state)
                self.warnings.append('the state read back differed from the plan; applying the remaining changes')
        return state

    def failure(self, msg, state, **extra):
        """The failure to raise after writes: what every target has (the open writes awaited first, within the
        task's deadline), changed, and a first line that says what was applied."""
        known = self.applied_state(state)
        targets = self.result_targets(self.before, known)
        partial = ['%s now has [%s]' % (t[self.kind.id_key], ', '.join(t['after'])) for t in targets if t['after'] != t['before']]
        changed = self.changed() or bool(partial)
        msg = '%s; %s' % (msg, 'partially applied: %s' % '; '.join(partial) if partial else
                          'nothing was changed' if not changed else 'the accepted changes left every %s as it was' % self.kind.word)
        extra[self.kind.result_key] = targets
        extra['changed'] = changed
        return EngineFailure(msg, **extra)

    def applied_state(self, state):
        """What is really on each target after a failure: the accepted writes awaited (and, on a 'task' cloud,
        those whose answer was lost: the operation state says when they are over) until the task's deadline,
        then read back; an accepted write the reads do not show is laid over, warned; or, if the reads
        fail, the last state known with the accepted writes."""
        accepted = planner.simulate(state, [dict(w.op, target_ids=w.targets(ACCEPTED)) for w in self.writes])
        touched = sorted(set(tid for write in self.writes for tid in write.states))
        awaited = self.awaited()
        lost = self.open_writes(touched, (UNKNOWN,))
        pending = sorted(set(tid for write in self.open_writes(touched, awaited) for tid in write.targets(*awaited)))
        if pending and self.clock() < self.deadline():      # past it, the read below tells what shows
            expected = planner.simulate(accepted, [dict(w.op, target_ids=w.targets(UNKNOWN)) for w in lost])
            for attempt in (1, 2):
                try:
                    self.await_writes(pending, expected, awaited)
                    break
                except (transport.ProviderError, EngineFailure) as exc:
                    unread = isinstance(exc, transport.ProviderError) and exc.error_class in UNREAD
                    if unread and attempt == 1 and self.clock() < self.deadline():
                        continue        # the reads failed, not our writes: once more
                    if self.open_writes(pending, (ACCEPTED,)):
                        self.warnings.append('could not confirm the accepted changes after the failure (%s)' % (exc,))
                    break
        try:
            read, dummy = self.read_targets(touched)
            known = dict(state)
            known.update(read)
            self.overlay(known, (ACCEPTED, CONFIRMED))
            for write in lost:
                for tid in write.targets(UNKNOWN):
                    if tid in known and took_effect(write.op, known[tid]):
                        write.mark(CONFIRMED, [tid])
                    else:
                        self.warnings.append('the answer to %s was lost and the %ss do not show it; the cloud may still apply it '
                                             'after this task' % (self.describe_operation(dict(write.op, target_ids=[tid])), self.kind.word))
        except transport.ProviderError as exc:
            self.warnings.append('could not read the %ss back after the failure (%s %s); '
                                 'after shows the last state known' % (self.kind.word, exc.code, exc.message))
            known = accepted
            for write in lost:
                self.warnings.append('the answer to %s was lost and the %ss could not be read back; the cloud may have applied it'
                                     % (self.describe_operation(write.op), self.kind.word))
        return known

    def result_targets(self, before, after):
        out = []
        left_out = set(tid for ids in self.skipped.values() for tid in ids)
        for tid in self.params[self.kind.option]:
            if tid in left_out:
                continue
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
        # Check mode reports the operations wave by wave: an order a real run may send them in (it sends each target's
        # next one as soon as its previous one is done, so the order of different targets' operations depends on the answers).
        operations = [op for wave in waves(plan['operations']) for op in wave] if self.check_mode else self.operations_done
        result = {'changed': bool(plan['operations']), self.kind.result_key: targets, 'request_ids': self.request_ids,
                  'operations': self.public_operations(operations)}
        result['diff'] = {'before': dict((t[self.kind.id_key], t['before']) for t in targets),
                          'after': dict((t[self.kind.id_key], t['after']) for t in targets)}
        result.update(self.skipped)
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


def transport_for(provider_class, params, secrets, register=None):
    """The run's transport, with its credentials resolved (conn.credentials) before any API request: an
    EngineFailure listing every source tried when none has any. secrets (a list) grows with every secret fetched;
    register(secret) masks each one in the module's output (secret_registrar)."""
    conn = transport.Transport(
        provider_class.name, timeout=params['timeout'], validate_certs=params['validate_certs'],
        max_retries=params['retries'], backoff=transport.Backoff(params['retry_delay'], params['retry_max_delay']),
        rate_limits=provider_class.rate_limits, default_rate=params.get('rate_limit') or provider_class.default_rate_limit,
        rate_ceiling=params.get('rate_limit'), secrets=secrets, connections=params.get('max_concurrency'))

    def remember(secret):
        if secret and secret not in secrets:
            secrets.append(secret)
        if register is not None:
            register(secret)
    try:
        held = credentials.for_module(provider_class, params, conn, remember, endpoint_problem=endpoint_problem)
        # One rate-limit window per account and endpoint for every process of this machine (forks, playbooks run at once).
        # The key just resolved, not current(): that would fetch credentials about to expire once more before any request.
        key = held.credentials.access_key if held is not None and held.credentials is not None else None
        conn.share_limits(key, params.get('region'), params.get('endpoint'))
    except (credentials.CredentialsNotFound, credentials.CredentialsError) as exc:
        conn.close()
        raise EngineFailure('%s: %s' % (provider_class.display_name, conn.redact(exc)))
    except BaseException:
        conn.close()
        raise
    return conn


def secret_registrar(module):
    """register(secret): a secret fetched at run time (temporary credentials) masked like a no_log value, and by
    ansible-core's own registry where it has one (ansible-core 2.22+), before anything can print it."""
    def register(secret):
        if not secret:
            return
        if register_secret is not None:
            register_secret(secret)
        module.no_log_values.add(secret)
    return register


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


def read_back_within(engine, seconds):
    """The targets' lists after an interrupt, within seconds: the accepted writes first awaited as after any
    write (the task's deadline cut to these seconds), then read. (lists, None), or (None, why not). The stop
    flag ended every pause; these reads pause again, and retry once at most."""
    conn = engine.provider.transport
    conn.timeout = min(conn.timeout, seconds)
    conn.max_retries = min(conn.max_retries, 1)
    conn.sleep = conn.limiter.sleep = time.sleep
    engine.deadline_at = min(engine.deadline(), engine.clock() + seconds)
    answer = {}

    def read():
        try:
            touched = sorted(set(tid for write in engine.writes for tid in write.targets(ACCEPTED)))
            engine.await_writes(touched, planner.simulate(engine.before, engine.operations_done))
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
    engine.record_interrupt(exc)
    unknown = [dict(write.op, target_ids=write.targets(UNKNOWN)) for write in engine.writes if write.targets(UNKNOWN)]
    known = planner.simulate(engine.before, engine.operations_done)
    source = 'the state before plus the accepted writes'
    if engine.operations_done or unknown:
        touched = set(tid for op in engine.operations_done for tid in op['target_ids'])
        read_back, why_not = read_back_within(engine, INTERRUPT_READ_BACK_S)
        if read_back is None:
            engine.warnings.append('could not read the %ss back after the interrupt (%s); after shows the last state known'
                                   % (engine.kind.word, why_not))
        else:
            source = 'as read back'
            for tid, groups in read_back.items():
                if tid in touched and not engine.shows(tid, groups, engine.writes):
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
            'changed': engine.changed() or any(t['before'] != t['after'] for t in targets),
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
        module = new_module(credentials=[option for dummy, option in sorted(getattr(provider_class, 'credential_options', {}).items())],
                            **module_options(provider_class))
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
        conn = transport_for(provider_class, params, secrets, secret_registrar(module))
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
            for note in conn.limit_notes():
                module.debug(note)
            conn.close()
    for warning in (engine.warnings + getattr(engine.provider, 'warnings', [])) if engine is not None else []:
        module.warn(redact(warning, secrets))
    if failure is not None:
        failure.setdefault('changed', bool(engine and engine.changed()))
        failure.setdefault('request_ids', engine.request_ids if engine else [])
        failure.setdefault('operations', engine.public_operations(engine.operations_done) if engine else [])
        failure.update(engine.skipped if engine else {})
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
