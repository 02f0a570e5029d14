# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This module_utils is PRIVATE to the collection: it may change at any time.
"""Modules whose cloud is chosen at run time: sg_binding and sg_binding_info.

Both parse the union of every provider's options with no defaults, environment
fallbacks or requirements, then resolve them for the chosen provider exactly as
its own module would (its defaults, its environment variables only, its required
options), refuse what that provider does not have, and run the same engine.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import re
import traceback
from collections.abc import Mapping

from ansible.module_utils.basic import _load_params, env_fallback, missing_required_lib

try:
    from ansible.module_utils.secrets import register_secret   # ansible-core 2.22+
except ImportError:
    register_secret = None

from ansible_collections.multicloud.secgroup.plugins.module_utils import _credentials as credentials
from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _listing as listing
from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _quarantine_record as quarantine_record
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

# Every provider's `provider` option value, in the order the union takes their options. A new provider is a name
# here and a branch in provider_class.
PROVIDER_NAMES = ('tencentcloud', 'alicloud', 'baiducloud', 'zenlayer')


def provider_class(name):
    """The class of provider `name`, imported now: a task compiles its own cloud's code only (AnsiballZ ships the code
    of every provider, as it finds these imports)."""
    # pylint: disable=import-outside-toplevel
    if name == 'tencentcloud':
        from ansible_collections.multicloud.secgroup.plugins.module_utils._tencentcloud import TencentCloud as cls
    elif name == 'alicloud':
        from ansible_collections.multicloud.secgroup.plugins.module_utils._alicloud import AliCloud as cls
    elif name == 'baiducloud':
        from ansible_collections.multicloud.secgroup.plugins.module_utils._baiducloud import BaiduCloud as cls
    elif name == 'zenlayer':
        from ansible_collections.multicloud.secgroup.plugins.module_utils._zenlayer import ZenlayerCloud as cls
    else:
        raise KeyError(name)
    return cls


class Providers(Mapping):
    """Every provider class by its name, each imported when first looked up (names and membership import none)."""

    def __getitem__(self, name):
        if name not in self:
            raise KeyError(name)
        return provider_class(name)

    def __contains__(self, name):
        return isinstance(name, str) and name in PROVIDER_NAMES

    def __iter__(self):
        return iter(PROVIDER_NAMES)

    def __len__(self):
        return len(PROVIDER_NAMES)


PROVIDERS = Providers()

# What sg_binding_info takes besides targets, groups and the provider's own options.
INFO_COMMON = ('endpoint', 'validate_certs', 'timeout', 'retries', 'retry_delay', 'retry_max_delay',
               'max_concurrency', 'rate_limit') + credentials.OPTIONS

PROVIDER_OPTION = dict(type='str', required=True, choices=sorted(PROVIDER_NAMES))

# sg_binding_info's filters, as the inventory plugin's: checked key by key by _listing.check_filters (ansible-core's
# own suboption checks can fail before masking no_log values, or with a traceback for a value of the wrong type).
FILTERS_OPTION = dict(type='dict')


def binding_spec(cls):
    return engine.argument_spec(cls)


# sg_binding_info's own options, the same for every provider.
INFO_OPTIONS = dict(
    security_group_ids=dict(type='list', elements='str'),
    interfaces=dict(type='bool', default=False),
    filters=FILTERS_OPTION,
)


def info_spec(cls):
    full = engine.argument_spec(cls)
    spec = dict((kind.option, dict(full[kind.option], required=False)) for kind in cls.target_kinds)
    spec.update((name, dict(option)) for name, option in INFO_OPTIONS.items())
    spec.update((name, full[name]) for name in INFO_COMMON)
    spec.update((name, full[name]) for name in cls.argument_spec)
    return spec


def loose_of(option):
    """An option as the union parses it: the resolution supplies its default, fallback and requirement."""
    return dict((k, v) for k, v in option.items() if k not in ('default', 'fallback', 'required', 'aliases'))


def union_spec(spec_of):
    """Every option of every provider, as parsed before the provider is known. An option every
    provider has keeps its common default, and stays required if every provider requires it without
    an environment fallback; otherwise the resolution supplies defaults, fallbacks and requirements.
    no_log where any provider has it."""
    classes = list(PROVIDERS.values())
    specs = [spec_of(cls) for cls in classes]
    targets = set(kind.option for cls in classes for kind in cls.target_kinds)
    union = {'provider': dict(PROVIDER_OPTION, choices=sorted(cls.name for cls in classes))}
    for name in sorted(set(name for spec in specs for name in spec)):
        present = [spec[name] for spec in specs if name in spec]
        loose = loose_of(present[0])
        for other in present[1:]:
            if (other.get('type'), other.get('elements'), other.get('choices')) != (loose.get('type'), loose.get('elements'), loose.get('choices')):
                raise ValueError('option %s differs in type between providers' % name)
        if any(option.get('no_log') for option in present):
            loose['no_log'] = True
        if len(present) == len(specs):
            defaults = set(repr(option.get('default')) for option in present)
            if len(defaults) == 1 and present[0].get('default') is not None:
                loose['default'] = present[0]['default']
            if name not in targets and all(option.get('required') and not option.get('fallback') for option in present):
                loose['required'] = True
        union[name] = loose
    # A provider's alias may be another provider's option (access_key_id): each alias is an option of the union,
    # and resolve() gives its value to the chosen provider's option.
    for spec in specs:
        for name, option in sorted(spec.items()):
            for alias in option.get('aliases') or []:
                known = union.setdefault(alias, dict((k, v) for k, v in option.items() if k in ('type', 'elements', 'no_log')))
                if (known.get('type'), known.get('elements')) != (option.get('type'), option.get('elements')):
                    raise ValueError('alias %s differs in type from the option of that name' % alias)
                if option.get('no_log'):
                    known['no_log'] = True
    return union


def chosen_spec(spec_of, cls):
    """The part of the union that provider cls has, made from cls alone: its options as the union parses them, each
    alias an option of its own, and the defaults and requirements of the options every provider has from the
    engine and the generic modules (unit tests check it is the union's part)."""
    spec = spec_of(cls)
    chosen = {'provider': dict(PROVIDER_OPTION, choices=sorted(PROVIDERS))}
    for name, option in spec.items():
        chosen[name] = loose_of(option)
        if any(option == shared.get(name) for shared in (engine.COMMON_ARGUMENT_SPEC, INFO_OPTIONS, RECORD_OPTIONS)):
            chosen[name].update((k, option[k]) for k in ('default', 'required') if k in option)
    for name, option in sorted(spec.items()):
        for alias in option.get('aliases') or []:
            chosen.setdefault(alias, dict((k, v) for k, v in option.items() if k in ('type', 'elements', 'no_log')))
    return chosen


def task_spec(spec_of):
    """What the task's AnsibleModule parses: the chosen provider's part of the union where the task names a provider
    and gives only its options (the other providers are never imported), else the whole union (which names the
    provider an option belongs to, or the providers there are)."""
    raw = _load_params()
    name = raw.get('provider') if isinstance(raw, dict) else None
    if isinstance(name, str) and name in PROVIDERS:
        spec = chosen_spec(spec_of, PROVIDERS[name])
        if all(key in spec or key.startswith('_ansible_') for key in raw):
            return spec
    return union_spec(spec_of)


def other_name(name, cls):
    """What provider cls calls a credential option that another provider names `name`, or None."""
    for other in PROVIDERS.values():
        for meaning, option in sorted(getattr(other, 'credential_options', {}).items()):
            if name == option or name in (other.argument_spec[option].get('aliases') or []):
                if getattr(cls, 'credential_options', {}).get(meaning):
                    return cls.credential_options[meaning]
    return None


def foreign_message(names, cls):
    clauses = []
    for name in names:
        mine = other_name(name, cls)
        if mine:
            clauses.append('%s: provider %s (%s) calls it %s' % (name, cls.name, cls.display_name, mine))
        else:
            clauses.append('%s: not an option of provider %s (%s); remove it' % (name, cls.name, cls.display_name))
    return '; '.join(clauses)


def resolve(params, cls, spec, require_target=True):
    """The chosen provider's params from the union's: its defaults and environment variables (and no
    other provider's), its required options; an option it does not have is refused by name."""
    params = dict(params)
    for name, option in sorted(spec.items()):
        for alias in option.get('aliases') or []:
            if params.get(alias) is None or alias in spec:
                continue
            if params.get(name) is not None:
                raise engine.EngineFailure('%s, %s: both given, and provider %s takes them as one option (%s is another name of %s); '
                                           'give one' % (name, alias, cls.name, alias, name))
            params[name], params[alias] = params[alias], None
    foreign = sorted(name for name, value in params.items() if name != 'provider' and name not in spec and value is not None)
    if foreign:
        raise engine.EngineFailure(foreign_message(foreign, cls))
    resolved, secrets, missing = {}, [], []
    for name, option in spec.items():
        value = params.get(name)
        fallback = option.get('fallback')
        if value is None and fallback and fallback[0] is env_fallback:
            value = next((os.environ[var] for var in fallback[1] if var in os.environ), None)
        if value is None:
            value = option.get('default')
        if value is None and option.get('required'):
            missing.append(name)
        if value and option.get('no_log'):
            # Not an empty one (AWX injects a blank optional field as ''): masking '' would mangle every string.
            secrets.append(value)
        resolved[name] = value
    if missing:
        unset = '; '.join(engine.unset_message(name, spec[name]) for name in sorted(missing))
        raise engine.EngineFailure('%s; provider %s requires %s' % (unset, cls.name, 'it' if len(missing) == 1 else 'them'))
    kinds = [kind.option for kind in cls.target_kinds]
    given = [name for name in kinds if resolved.get(name) is not None]
    if len(kinds) > 1 and len(given) > 1:
        raise engine.EngineFailure('parameters are mutually exclusive: %s' % '|'.join(kinds))
    if len(kinds) > 1 and not given and require_target:
        raise engine.EngineFailure('one of the following is required: %s' % ', '.join(kinds))
    return resolved, secrets


def generic_module(spec_of, require_target=True):
    """An AnsibleModule over the union of the providers' options, resolved for the chosen one:
    (module, provider class); failures are fail_json naming the option."""
    module = engine.new_module(argument_spec=task_spec(spec_of), supports_check_mode=True)
    cls = PROVIDERS[module.params['provider']]
    try:
        params, secrets = resolve(module.params, cls, spec_of(cls), require_target)
    except engine.EngineFailure as exc:
        module.fail_json(msg=str(exc))
    for secret in secrets:
        # Values read from the environment after AnsibleModule parsed its own: masked like no_log values.
        if register_secret is not None:
            register_secret(secret)
        module.no_log_values.add(secret)
    module.params = params
    return module, cls


def run_binding():
    """sg_binding: the chosen provider's binding module, through the same engine."""
    module, cls = generic_module(binding_spec)
    engine.run_module(cls, module)


class Inventory:
    """sg_binding_info: the targets' groups and status, the groups' names, and the reverse question."""

    def __init__(self, provider, params):
        self.provider = provider
        self.params = params
        self.kind = planner.chosen_kind(provider.target_kinds, params)

    def run(self):
        params = self.params
        if params.get('filters') is not None:
            return self.run_listing()
        ids = params.get(self.kind.option) or []
        asked_groups = params.get('security_group_ids') or []
        current, missing = self.provider.read(ids) if ids else ({}, [])
        status = self.provider.status
        # Optional provider hook: more about each target (its network, say) than its groups and status.
        details = self.provider.target_details(list(current)) if current and hasattr(self.provider, 'target_details') else {}
        targets = [dict({self.kind.id_key: tid, 'security_group_ids': engine.unique(current[tid]), 'status': status.get(tid)},
                        **details.get(tid, {}))
                   for tid in ids if tid in current]
        tags = getattr(self.provider, 'tags', None)
        if engine.owner_kind(self.provider, self.kind) is None and tags is not None:
            for target in targets:
                target.update(tags_and_record(tags.get(target[self.kind.id_key]) or {}))
        if params.get('interfaces') and targets:
            attached = self.provider.attached_interfaces([t[self.kind.id_key] for t in targets])
            for target in targets:
                target['network_interfaces'] = [interface_item(item) for item in attached.get(target[self.kind.id_key]) or []]
        result = {'changed': False, self.kind.result_key: targets}
        return self.answer(result, targets, asked_groups, missing)

    def answer(self, result, targets, asked_groups, missing, groups_of=None):
        """result with the reverse question answered, the groups seen named, and what was not found."""
        if asked_groups:
            bound = getattr(self.provider, 'bound_targets', None)
            if bound is None:
                raise engine.EngineFailure('security_group_ids: %s cannot list the %ss a security group is bound to in a bounded '
                                           'number of calls; ask about %s instead' % (self.provider.display_name, self.kind.word,
                                                                                      self.kind.option))
            bindings = bound(asked_groups)
            result['bindings'] = [{'security_group_id': sg, self.kind.option: bindings.get(sg, [])} for sg in asked_groups]
        seen = []
        for groups in [asked_groups] + [t['security_group_ids'] for t in targets]:
            seen.extend(sg for sg in groups if sg not in seen)
        described = self.provider.describe_security_groups(seen) if seen else {}
        for reader, groups in groups_of or []:
            # Groups of another kind's targets (a zec instance's), described by a reader of that kind.
            more = engine.unique([sg for sg in groups if sg not in seen])
            seen.extend(more)
            described.update(reader.describe_security_groups(more) if more else {})
        result['security_groups'] = [{'security_group_id': sg, 'name': described[sg].get('name')} for sg in seen if sg in described]
        missing_groups = [sg for sg in asked_groups if sg not in described]
        if missing_groups and 'bindings' in result:
            result['bindings'] = [b for b in result['bindings'] if b['security_group_id'] not in missing_groups]
        result['missing'] = list(missing) + missing_groups
        return result

    def run_listing(self):
        """The region's instances that pass the filters (every one without filters), with what the listing says of them:
        instance-like kinds only, each under its own result key."""
        params = self.params
        listed = listing.list_instances(self.provider, params['filters'])
        kinds = [kind for kind in self.provider.target_kinds if engine.owner_kind(self.provider, kind) is None]
        by_kind = dict((kind.id_key[:-3], (kind, [])) for kind in kinds)
        for item in listed:
            kind, targets = by_kind[item.get('kind') or 'instance']
            target = {kind.id_key: item['instance_id'], 'security_group_ids': list(item.get('security_group_ids') or []),
                      'status': item.get('status'), 'instance_name': item.get('instance_name'), 'vpc_id': item.get('vpc_id'),
                      'private_ips': list(item.get('private_ips') or []), 'public_ips': list(item.get('public_ips') or [])}
            target.update(tags_and_record(item.get('tags') or {}))
            if 'network_interfaces' in item:
                target['network_interfaces'] = [interface_item(nic) for nic in item['network_interfaces']]
            targets.append(target)
        result = {'changed': False}
        readers = []
        for kind, targets in by_kind.values():
            result[kind.result_key] = targets
            reader = self.provider if kind is self.kind else self.reader(kind, [t[kind.id_key] for t in targets])
            if kind is not self.kind:
                readers.append((reader, [sg for t in targets for sg in t['security_group_ids']]))
            unlisted = [t for t in targets if 'network_interfaces' not in t]
            if params.get('interfaces') and unlisted and hasattr(reader, 'attached_interfaces'):
                attached = reader.attached_interfaces([t[kind.id_key] for t in unlisted])
                for target in unlisted:
                    target['network_interfaces'] = [interface_item(nic) for nic in attached.get(target[kind.id_key]) or []]
        return self.answer(result, result[self.kind.result_key], params.get('security_group_ids') or [], [], readers)

    def reader(self, kind, ids):
        """A provider object of another kind on the same connection (a Zenlayer zec instance's service, say)."""
        options = dict(self.params, **dict((k.option, None) for k in self.provider.target_kinds))
        options[kind.option] = ids
        return type(self.provider)(options, self.provider.transport)


# What an interface of sg_binding_info's interfaces may say besides its groups: for one without a group of its own
# (a Zenlayer vNIC), its VPC and that VPC's default group, which it has instead.
INTERFACE_EXTRAS = ('vpc_id', 'vpc_default_security_group_id')


def interface_item(item):
    out = {'network_interface_id': item['network_interface_id'], 'security_group_ids': list(item['security_group_ids'])}
    out.update((key, item[key]) for key in INTERFACE_EXTRAS if key in item)
    return out


def tags_and_record(tags):
    """An instance's tags and its quarantine record (None without one; with an unreadable one, None and why)."""
    out = {'tags': dict(tags), 'quarantine': None}
    try:
        out['quarantine'] = quarantine_record.decode(tags)
    except quarantine_record.RecordError as exc:
        out['quarantine_error'] = 'tags %s: %s' % (', '.join(quarantine_record.record_keys(tags)), exc)
    return out


def interfaces_problem(cls, params):
    """Why interfaces: true cannot be answered for this question, or None."""
    if not params.get('interfaces'):
        return None
    kind = planner.chosen_kind(cls.target_kinds, params)
    if engine.owner_kind(cls, kind) is not None:
        return 'interfaces: true lists the network interfaces of instances; %s lists network interfaces already' % kind.option
    if not hasattr(cls, 'attached_interfaces'):
        return 'interfaces: %s (provider %s) cannot list the network interfaces attached to its %ss yet' % (
            cls.display_name, cls.name, kind.word)
    return None


def run_info():
    module, cls = generic_module(info_spec, require_target=False)
    if not transport.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=str(transport.REQUESTS_IMPORT_ERROR))
    params = module.params
    secrets = [s for s in cls.secrets(params) if s]
    if engine.insecure_tls_warning(params):
        module.warn(engine.insecure_tls_warning(params))
    conn = provider = None
    try:
        given = [kind.option for kind in cls.target_kinds if params.get(kind.option) is not None]
        if params.get('filters') is not None and given:
            raise engine.EngineFailure('filters selects instances by listing them, and %s names them; give one or the other'
                                       % ' and '.join(given))
        if not given and (params.get('filters') is not None or params.get('security_group_ids') is None):
            # Neither IDs nor filters: every instance of the region, listed.
            try:
                params = dict(params, filters=listing.check_filters(params.get('filters'), cls))
            except listing.FilterError as exc:
                raise engine.EngineFailure(str(exc))
            if not listing.can_list(cls):
                raise engine.EngineFailure('%s (provider %s) cannot list its instances yet; give instance_ids (or security_group_ids)'
                                           % (cls.display_name, cls.name))
        info_params = dict(params, security_group_ids=params.get('security_group_ids') or [])
        # Only the kind asked about: an empty list for every kind would make the first one the chosen
        # kind, and the IDs of the others would go unchecked.
        kind = planner.chosen_kind(cls.target_kinds, params)
        info_params[kind.option] = params.get(kind.option) or []
        engine.validate(dict(info_params, state='present', purge=False), cls)
        if interfaces_problem(cls, params):
            raise engine.EngineFailure(interfaces_problem(cls, params))
        conn = engine.transport_for(cls, params, secrets, engine.secret_registrar(module))
        provider = cls(params, conn)
        result = Inventory(provider, params).run()
    except engine.EngineFailure as exc:
        module.fail_json(**engine.redact(dict(exc.extra, msg=str(exc)), secrets))
    except transport.ProviderError as error:
        module.fail_json(**engine.redact({'msg': '%s %s failed: %s: %s (request ID %s)' % (
            cls.display_name, error.action, error.code, error.message, error.request_id or 'none'), 'error': error.to_dict()}, secrets))
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg='unexpected error (a bug in multicloud.secgroup, please report it): %s: %s' % (type(exc).__name__, exc),
                         exception=traceback.format_exc())
    finally:
        if conn is not None:
            conn.close()
    for warning in getattr(provider, 'warnings', None) or []:
        # What the provider fell back to while reading (a listing page size the cloud refused, say).
        module.warn(engine.redact(warning, secrets))
    module.exit_json(**engine.redact(result, secrets))


# sg_quarantine_record --------------------------------------------------------------------------------------------

# The instance kinds a record may be about, by their instance_kind value (a kind's id_key without _id).
INSTANCE_KINDS = ('instance', 'zec_instance')
# The record store that every provider has: the sg_quarantine role's files on the controller.
FILE_STORE_NOTE = "use the sg_quarantine role's file record store (sg_quarantine_record_store: file)"
ISOLATED_AT_PATTERN = r'[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([+-][0-9]{2}:[0-9]{2})'


# sg_quarantine_record's own options, the same for every provider.
RECORD_OPTIONS = dict(
    state=dict(type='str', default='present', choices=['present', 'absent']),
    # Checked field by field in check_records (ansible-core's own suboption checks can fail before masking no_log values).
    records=dict(type='list', elements='dict'),
    instance_ids=dict(type='list', elements='str'),
    instance_kind=dict(type='str', default='instance', choices=list(INSTANCE_KINDS)),
)


def record_spec(cls):
    full = engine.argument_spec(cls)
    spec = dict((name, dict(option)) for name, option in RECORD_OPTIONS.items())
    spec.update((name, full[name]) for name in INFO_COMMON)
    spec.update((name, full[name]) for name in cls.argument_spec)
    return spec


def record_kind(cls, params):
    """The target kind of the instances the task is about (instance_kind), or an EngineFailure naming what there is."""
    kinds = [kind for kind in cls.target_kinds if engine.owner_kind(cls, kind) is None]
    for kind in kinds:
        if kind.id_key == params['instance_kind'] + '_id':
            return kind
    raise engine.EngineFailure('instance_kind: %r is not a kind of instance of provider %s (%s); it has %s'
                               % (params['instance_kind'], cls.name, cls.display_name, ', '.join(k.id_key[:-3] for k in kinds)))


def record_limits(provider, kind):
    """The provider's TagLimits for this kind; an EngineFailure naming the provider and the file store where it has none."""
    limits = getattr(provider, 'tag_limits', None)
    if isinstance(limits, dict):
        limits = limits.get(kind.option)
    hooks = [name for name in ('write_tags', 'remove_tags') if not hasattr(provider, name)]
    if limits is None or hooks:
        raise engine.EngineFailure('provider %s (%s) cannot keep a quarantine record in the tags of its %ss%s; %s'
                                   % (provider.name, provider.display_name, kind.word,
                                      ' (no %s)' % ', '.join(hooks) if limits is not None else '', FILE_STORE_NOTE))
    return limits


def check_records(cls, kind, records):
    """The records, complete (isolated_at now where not given), or an EngineFailure naming the record, field, value and rule."""
    interface_kinds = [k for k in cls.target_kinds if engine.owner_kind(cls, k) is kind]
    out, seen = [], set()
    for n, given in enumerate(records):
        where = 'records[%d]' % n
        record = dict(given) if isinstance(given, dict) else given
        if isinstance(record, dict) and record.get('isolated_at') is None:
            record['isolated_at'] = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
        if isinstance(record, dict):
            record.setdefault('network_interfaces', [])
            record.setdefault('reason', None)
        try:
            quarantine_record.check_record(record)
        except ValueError as exc:
            raise engine.EngineFailure('%s: %s' % (where, exc))
        iid = record['instance_id']
        if not re.fullmatch(kind.pattern, iid):
            raise engine.EngineFailure('%s.instance_id: %r is not a valid %s %s ID; it must match %s'
                                       % (where, iid, cls.display_name, kind.word, kind.pattern))
        if iid in seen:
            raise engine.EngineFailure('%s.instance_id: %r has another record in records; give one record per %s' % (where, iid, kind.word))
        seen.add(iid)
        groups = [('security_group_ids', record['security_group_ids']), ('quarantine_group_ids', record['quarantine_group_ids'])]
        groups.extend(('network_interfaces[%d].%s' % (i, field), item.get(field) or [])
                      for i, item in enumerate(record['network_interfaces'])
                      for field in ('security_group_ids', quarantine_record.INHERITED_FIELD))
        for field, values in groups:
            for value in values:
                if not re.fullmatch(cls.security_group_id_pattern, value):
                    raise engine.EngineFailure('%s.%s: %r is not a valid %s security group ID; it must match %s'
                                               % (where, field, value, cls.display_name, cls.security_group_id_pattern))
        for i, item in enumerate(record['network_interfaces']):
            if not interface_kinds:
                raise engine.EngineFailure('%s.network_interfaces: %s has no network interfaces with groups of their own on its %ss; '
                                           'give an empty list' % (where, cls.display_name, kind.word))
            if not any(re.fullmatch(k.pattern, item['network_interface_id']) for k in interface_kinds):
                raise engine.EngineFailure('%s.network_interfaces[%d].network_interface_id: %r is not a valid %s %s ID; it must match %s'
                                           % (where, i, item['network_interface_id'], cls.display_name, interface_kinds[0].word,
                                              interface_kinds[0].pattern))
        when = record['isolated_at']
        try:
            valid_time = re.fullmatch(ISOLATED_AT_PATTERN, when) and datetime.datetime.fromisoformat(when)
        except ValueError:
            valid_time = False
        if not valid_time:
            raise engine.EngineFailure('%s.isolated_at: %r is not a time of the form 2026-12-07T12:00:00+00:00 (with its UTC offset)'
                                       % (where, when))
        reason = record['reason']
        if reason is not None and (len(reason) > quarantine_record.MAX_REASON_LENGTH or re.search(r'[\x00-\x1f\x7f]', reason)):
            raise engine.EngineFailure('%s.reason: %d characters%s; give at most %d, on one line'
                                       % (where, len(reason), ' with control characters such as a newline'
                                          if re.search(r'[\x00-\x1f\x7f]', reason) else '', quarantine_record.MAX_REASON_LENGTH))
        out.append(quarantine_record.normalized(record))
    return out


class RecordTask:
    """sg_quarantine_record: write records as tags (the first one wins) or remove them, through the provider's tag hooks."""

    def __init__(self, cls, params, secrets, check_mode, register=None):
        self.cls = cls
        self.params = params
        self.check_mode = check_mode
        self.kind = record_kind(cls, params)
        self.records = check_records(cls, self.kind, params['records']) if params['state'] == 'present' else None
        self.ids = [r['instance_id'] for r in self.records] if self.records is not None else list(params['instance_ids'])
        provider_params = dict(params, **dict((k.option, None) for k in cls.target_kinds))
        provider_params[self.kind.option] = self.ids
        engine.validate(dict(provider_params, security_group_ids=[], state='present', purge=False), cls)
        self.request_ids = []
        self.warnings = []
        self.provider = None
        self.conn = None
        # Made before any request, so that a provider without tags and a record too big are refused first.
        provider = cls(provider_params, None)
        self.limits = record_limits(provider, self.kind)
        for record in self.records or []:
            try:
                quarantine_record.encode(record, self.limits)
            except quarantine_record.RecordTooBig as exc:
                raise engine.EngineFailure('%s; nothing was written' % exc)
        self.conn = engine.transport_for(cls, params, secrets, register)
        self.provider = cls(provider_params, self.conn)

    def run(self):
        current, missing = self.provider.read(self.ids) if self.ids else ({}, [])
        tags = getattr(self.provider, 'tags', None) or {}
        before, after, changes = {}, {}, {}
        kept, problems = [], []
        for tid in self.ids:
            if tid not in current:
                continue
            have = tags.get(tid) or {}
            try:
                before[tid] = quarantine_record.decode(have)
            except quarantine_record.RecordError as exc:
                before[tid] = None
                if self.records is not None:
                    problems.append('%s %s: its tags carry a quarantine record that cannot be read (%s); nothing was written: check its '
                                    'tags %s, then remove them (state=absent) or leave the instance as it is'
                                    % (self.kind.word, tid, exc, ', '.join(quarantine_record.record_keys(have))))
                else:
                    self.warnings.append('%s %s: its quarantine record could not be read (%s); its tags are removed all the same'
                                         % (self.kind.word, tid, exc))
            if self.records is None:
                after[tid] = None
                if quarantine_record.has_record(have):
                    changes[tid] = quarantine_record.record_keys(have)
            elif quarantine_record.has_record(have):
                after[tid] = before[tid]
                kept.append(tid)
            else:
                record = next(r for r in self.records if r['instance_id'] == tid)
                own = len([key for key in have if not quarantine_record.is_record_key(key)])
                try:
                    changes[tid] = quarantine_record.encode(record, self.limits, own_tags=own)
                except quarantine_record.RecordTooBig as exc:
                    problems.append('%s' % exc)
                after[tid] = record
        if problems:
            raise engine.EngineFailure('; '.join(problems) + '; nothing was written', missing=list(missing))
        done = self.apply(changes) if changes and not self.check_mode else list(changes)
        key = 'written' if self.records is not None else 'removed'
        result = {'changed': bool(done), 'records': [after[tid] for tid in self.ids if after.get(tid)],
                  'written': [], 'kept': kept, 'removed': [], 'missing': list(missing), 'request_ids': self.request_ids,
                  'diff': {'before': before, 'after': after}}
        result[key] = [tid for tid in self.ids if tid in done]
        return result

    def apply(self, changes):
        """Write or remove the tags of each instance, batched where the provider batches; the instances done, or an
        EngineFailure naming those done and those that failed."""
        writing = self.records is not None
        many = getattr(self.provider, 'write_tags_many' if writing else 'remove_tags_many', None)
        if many is not None:
            try:
                self.request_ids.extend(request_ids_of(many(changes)))
            except transport.ProviderError as error:
                raise self.failure([], dict((tid, error) for tid in changes), writing)
            return list(changes)
        one = self.provider.write_tags if writing else self.provider.remove_tags
        items = [(tid, changes[tid]) for tid in self.ids if tid in changes]
        results = self.provider.transport.map(lambda item: one(*item), items, self.params['max_concurrency'])
        done, failed = [], {}
        for (tid, dummy), outcome in zip(items, results):
            if isinstance(outcome, transport.ProviderError):
                failed[tid] = outcome
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                done.append(tid)
                self.request_ids.extend(request_ids_of(outcome))
        if failed:
            raise self.failure(done, failed, writing)
        return done

    def failure(self, done, failed, writing):
        what = 'writing the quarantine record of' if writing else 'removing the quarantine record of'
        errors = '; '.join('%s %s: %s %s: %s: %s (request ID %s)'
                           % (self.kind.word, tid, self.cls.display_name, error.action, error.code, error.message, error.request_id or 'none')
                           for tid, error in sorted(failed.items()))
        lost = [tid for tid, error in sorted(failed.items()) if error.error_class in engine.UNREAD]
        msg = '%s %s(s) %s failed: %s; done for %s' % (what, self.kind.word, ', '.join(sorted(failed)), errors, ', '.join(done) or 'none')
        if lost:
            msg += '; the answer was lost for %s: run the task again, it reads the tags first' % ', '.join(lost)
        return engine.EngineFailure(msg, changed=bool(done), request_ids=self.request_ids, **{'written' if writing else 'removed': done})


def request_ids_of(answer):
    """A tag hook's answer as a list of request IDs: a list, one ID, or None."""
    if answer is None:
        return []
    return [answer] if isinstance(answer, str) else list(answer)


def run_record():
    """sg_quarantine_record: every failure is fail_json naming what to do, secrets masked."""
    module, cls = generic_module(record_spec, require_target=False)
    if not transport.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=str(transport.REQUESTS_IMPORT_ERROR))
    params = module.params
    secrets = [s for s in cls.secrets(params) if s]
    if engine.insecure_tls_warning(params):
        module.warn(engine.insecure_tls_warning(params))
    task = None
    try:
        if params['state'] == 'present' and (params.get('records') is None or params.get('instance_ids') is not None):
            raise engine.EngineFailure('state=present: records lists the records to write (each names its instance), and instance_ids is '
                                       'for state=absent; give records only')
        if params['state'] == 'absent' and (params.get('instance_ids') is None or params.get('records') is not None):
            raise engine.EngineFailure('state=absent: instance_ids lists the instances whose record to remove (the restore is done); '
                                       'give instance_ids only')
        task = RecordTask(cls, params, secrets, module.check_mode, engine.secret_registrar(module))
        result = task.run()
    except engine.EngineFailure as exc:
        result = dict(exc.extra, msg=str(exc), failed=True)
    except transport.ProviderError as error:
        result = {'msg': '%s %s failed: %s: %s (request ID %s); nothing was written' % (
            cls.display_name, error.action, error.code, error.message, error.request_id or 'none'), 'error': error.to_dict(), 'failed': True}
    except Exception as exc:  # pylint: disable=broad-except
        result = {'msg': 'unexpected error (a bug in multicloud.secgroup, please report it): %s: %s' % (type(exc).__name__, exc),
                  'exception': traceback.format_exc(), 'failed': True}
    finally:
        if task is not None and task.conn is not None:
            task.conn.close()
    for warning in (task.warnings + getattr(task.provider, 'warnings', [])) if task is not None else []:
        module.warn(engine.redact(warning, secrets))
    if result.pop('failed', False):
        result.setdefault('changed', False)
        module.fail_json(**engine.redact(result, secrets))
    if not module._diff:
        result.pop('diff')
    module.exit_json(**engine.redact(result, secrets))
