# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' inputs checked on the controller, before any module call: lists that may arrive as text (``-e var=a,b``,
an AWX survey) and the inventory hosts' variables, each error naming the host and the variable to fix.

What differs between clouds (their names, which need a region and from which environment variables) is read from
the modules' own provider declarations, so a role refuses exactly what the module would.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.multicloud.secgroup.plugins.module_utils import _generic as generic

PROVIDER_NAMES = tuple(generic.PROVIDERS)
# Every option of M(multicloud.secgroup.sg_binding): the keys a role's per-cloud options may have.
BINDING_OPTIONS = tuple(sorted(generic.union_spec(generic.binding_spec)))


def as_list(value, variable):
    """A list variable as a list: text is taken as items separated by commas or white space (a survey answer,
    ``-e var=a,b``), never as its characters; None is empty; anything else is refused naming the variable."""
    if value is None:
        return []
    if isinstance(value, str):
        return re.findall(r'[^\s,]+', value)
    if is_sequence(value):
        return list(value)
    raise AnsibleFilterError('%s: expected a list (or text of items separated by commas), got %s %r'
                             % (variable, type(value).__name__, value))


def as_bool(value, variable):
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise AnsibleFilterError('%s: %r is not a boolean (true or false)' % (variable, value)) from None


def region_required(provider):
    return 'region' in generic.PROVIDERS[provider].argument_spec


def default_region(provider, options):
    """The region a module call on `provider` gets when the host sets none: the role's per-cloud options, else the
    provider's environment variables (read here, on the controller, where the role's module calls run)."""
    if (options or {}).get('region'):
        return options['region']
    fallback = generic.PROVIDERS[provider].argument_spec.get('region', {}).get('fallback')
    for name in (fallback[1] if fallback else []):
        if os.environ.get(name):
            return os.environ[name]
    return None


def check_options(options, variable, refused=None):
    """The role's per-cloud module options: keyed by a known cloud, each a mapping of sg_binding options.
    refused: option -> why the role does not take it."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise AnsibleFilterError('%s: expected a mapping of cloud to module options, got %s' % (variable, type(options).__name__))
    for provider, values in options.items():
        if provider not in PROVIDER_NAMES:
            raise AnsibleFilterError("%s: '%s' is not one of %s" % (variable, provider, ', '.join(PROVIDER_NAMES)))
        if not isinstance(values, dict):
            raise AnsibleFilterError('%s.%s: expected a mapping of module options, got %s' % (variable, provider, type(values).__name__))
        unknown = sorted(set(values) - set(BINDING_OPTIONS))
        if unknown:
            raise AnsibleFilterError('%s.%s: %s not an option of multicloud.secgroup.sg_binding'
                                     % (variable, provider, ', '.join(unknown) + (' is' if len(unknown) == 1 else ' are')))
        for option in sorted(set(values) & set(refused or {})):
            raise AnsibleFilterError('%s.%s: %s is not taken here: %s' % (variable, provider, option, refused[option]))
    return options


def host_names(hosts, hostvars, hosts_variable, groups=None):
    """The hosts named in `hosts` (a list, or text of names separated by commas), each a host or, when `groups` is
    given, an inventory group standing for its hosts. A name that is neither, or a group without hosts, is refused
    naming it: a mistyped group must not read as "nothing to do"."""
    names = []
    for name in as_list(hosts, hosts_variable):
        if isinstance(name, dict) or (hostvars is not None and name in hostvars):
            found = [name]
        elif groups is not None and name in groups:
            found = list(groups[name] or [])
            if not found:
                raise AnsibleFilterError("%s: inventory group '%s' has no hosts" % (hosts_variable, name))
        else:
            raise AnsibleFilterError("%s: '%s' is not an inventory host%s" % (hosts_variable, name, ' or group' if groups is not None else ''))
        names.extend(found)
    return names


def host_targets(hosts, hostvars, hosts_variable, instance_id_var, provider_var, region_var, options=None, groups=None):
    """For each inventory host named in `hosts` (see host_names): its name, provider, region (None when unset, for a
    cloud without regions or one whose region comes from `options` or the environment) and instance ID, each variable
    checked before any module call."""
    targets = []
    for name in host_names(hosts, hostvars, hosts_variable, groups):
        if isinstance(name, dict):
            # Already the host's variables (hostvars extracted by the caller).
            variables, name = name, name.get('inventory_hostname', '?')
        else:
            variables = hostvars[name]
        provider = variables.get(provider_var)
        if not provider:
            raise AnsibleFilterError('host %s: %s is not set' % (name, provider_var))
        if provider not in PROVIDER_NAMES:
            raise AnsibleFilterError("host %s: cloud '%s' is not one of %s (variable %s)"
                                     % (name, provider, ', '.join(PROVIDER_NAMES), provider_var))
        instance_id = variables.get(instance_id_var)
        if instance_id is None or instance_id == '':
            raise AnsibleFilterError('host %s: %s is not set' % (name, instance_id_var))
        if isinstance(instance_id, (dict, list)):
            raise AnsibleFilterError('host %s: %s must be one instance ID, not %s' % (name, instance_id_var, type(instance_id).__name__))
        region = (variables.get(region_var) or None) if region_required(provider) else None
        if region_required(provider) and not region and not default_region(provider, (options or {}).get(provider)):
            raise AnsibleFilterError('host %s: %s is not set (cloud %s needs a region)' % (name, region_var, provider))
        targets.append({'host': name, 'variables': variables, 'provider': provider, 'region': region,
                        'instance_id': '%s' % instance_id})
    return targets


def quarantined_targets(records):
    """From the quarantine role's file records (path -> record, or a list): {(provider, target ID): instance ID} for
    every instance (or zec instance) under an active record and each interface it records."""
    held = {}
    for record in (records.values() if isinstance(records, dict) else records or []):
        if not isinstance(record, dict) or record.get('restored') or not record.get('provider') or not record.get('instance_id'):
            continue
        instance = '%s' % record['instance_id']
        held[(record['provider'], instance)] = instance
        for nic in record.get('network_interfaces') or []:
            held[(record['provider'], '%s' % nic.get('network_interface_id'))] = instance
    return held
