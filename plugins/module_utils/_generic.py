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

import os
import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

try:
    from ansible.module_utils.secrets import register_secret   # ansible-core 2.22+
except ImportError:
    register_secret = None

from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport
from ansible_collections.multicloud.secgroup.plugins.module_utils._alicloud import AliCloud
from ansible_collections.multicloud.secgroup.plugins.module_utils._baiducloud import BaiduCloud
from ansible_collections.multicloud.secgroup.plugins.module_utils._tencentcloud import TencentCloud
from ansible_collections.multicloud.secgroup.plugins.module_utils._zenlayer import ZenlayerCloud

# Every provider, by its `provider` option value. A new provider is one line here.
PROVIDERS = dict((cls.name, cls) for cls in (TencentCloud, AliCloud, BaiduCloud, ZenlayerCloud))

# What sg_binding_info takes besides targets, groups and the provider's own options.
INFO_COMMON = ('endpoint', 'validate_certs', 'timeout', 'retries', 'retry_delay', 'retry_max_delay',
               'max_concurrency', 'rate_limit')

PROVIDER_OPTION = dict(type='str', required=True, choices=sorted(PROVIDERS))


def binding_spec(cls):
    return engine.argument_spec(cls)


def info_spec(cls):
    full = engine.argument_spec(cls)
    spec = dict((kind.option, dict(full[kind.option], required=False)) for kind in cls.target_kinds)
    spec['security_group_ids'] = dict(type='list', elements='str')
    spec.update((name, full[name]) for name in INFO_COMMON)
    spec.update(cls.argument_spec)
    return spec


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
        loose = dict((k, v) for k, v in present[0].items() if k not in ('default', 'fallback', 'required', 'aliases'))
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
    module = engine.new_module(argument_spec=union_spec(spec_of), supports_check_mode=True)
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
        ids = params.get(self.kind.option) or []
        asked_groups = params.get('security_group_ids') or []
        current, missing = self.provider.read(ids) if ids else ({}, [])
        status = self.provider.status
        # Optional provider hook: more about each target (its network, say) than its groups and status.
        details = self.provider.target_details(list(current)) if current and hasattr(self.provider, 'target_details') else {}
        targets = [dict({self.kind.id_key: tid, 'security_group_ids': engine.unique(current[tid]), 'status': status.get(tid)},
                        **details.get(tid, {}))
                   for tid in ids if tid in current]
        result = {'changed': False, self.kind.result_key: targets}
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
        result['security_groups'] = [{'security_group_id': sg, 'name': described[sg].get('name')} for sg in seen if sg in described]
        missing_groups = [sg for sg in asked_groups if sg not in described]
        if missing_groups and 'bindings' in result:
            result['bindings'] = [b for b in result['bindings'] if b['security_group_id'] not in missing_groups]
        result['missing'] = list(missing) + missing_groups
        return result


def run_info():
    module, cls = generic_module(info_spec, require_target=False)
    if not transport.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=str(transport.REQUESTS_IMPORT_ERROR))
    params = module.params
    secrets = [s for s in cls.secrets(params) if s]
    if engine.insecure_tls_warning(params):
        module.warn(engine.insecure_tls_warning(params))
    conn = None
    try:
        questions = [(kind.option, '%s lists the %ss whose security groups to read' % (kind.option, kind.word)) for kind in cls.target_kinds]
        if hasattr(cls, 'bound_targets'):
            questions.append(('security_group_ids', 'security_group_ids lists the security groups whose %ss to find'
                              % cls.target_kinds[0].word))
        if all(params.get(option) is None for option, dummy in questions):
            # An empty list is an answer (an empty inventory group, say); nothing at all is a mistake.
            raise engine.EngineFailure('%s: give at least one (provider %s): %s' % (' or '.join(option for option, dummy in questions), cls.name,
                                                                                    '; '.join(text for dummy, text in questions)))
        info_params = dict(params, security_group_ids=params.get('security_group_ids') or [])
        # Only the kind asked about: an empty list for every kind would make the first one the chosen
        # kind, and the IDs of the others would go unchecked.
        kind = planner.chosen_kind(cls.target_kinds, params)
        info_params[kind.option] = params.get(kind.option) or []
        engine.validate(dict(info_params, state='present', purge=False), cls)
        conn = engine.transport_for(cls, params, secrets)
        result = Inventory(cls(params, conn), params).run()
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
    module.exit_json(**engine.redact(result, secrets))
