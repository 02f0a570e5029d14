# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: sg_quarantine_plan
short_description: Plan a quarantine isolate or restore from targets, records and current groups
version_added: 0.1.0
description:
  - The decisions of the P(multicloud.secgroup.sg_quarantine#role) role, as data. Pure; the role reads and writes the
    records and calls the modules.
  - For V(isolate) - which records to write (the current groups, in provider order), which targets are already
    isolated (their record is kept), and the M(multicloud.secgroup.sg_binding) calls that purge each target to its
    quarantine groups.
  - For V(restore) - which targets have no record (an error), which were restored already, the calls that put back
    each saved list, and the groups found on each target that the restore overwrites.
author:
  - multicloud.secgroup developers (@multicloud-secgroup)
options:
  _input:
    description: Targets, each with C(provider), C(region) and C(instance_id), and optionally C(quarantine_group_ids).
    type: list
    elements: dict
    required: true
  action:
    description:
      - V(isolate) or V(restore); or V(read) for the first step, which only returns C(targets) and C(reads), the
        M(multicloud.secgroup.sg_binding_info) calls that read the targets' current groups.
    type: str
    required: true
  records:
    description: The records found, keyed by their path.
    type: dict
    required: true
  current:
    description: The registered loop of M(multicloud.secgroup.sg_binding_info) calls over the targets.
    type: dict
    required: true
  record_dir:
    description: The records' directory.
    type: str
    required: true
  quarantine_group_ids:
    description: The quarantine groups per provider; a mapping, or its YAML or JSON text (an AWX survey's answer).
    type: raw
    default: {}
  now:
    description: The time to stamp on records.
    type: str
    default: ''
  hosts:
    description:
      - Inventory hosts that are targets too; names looked up in O(hostvars) (a list, or text of names separated by
        commas), or the hosts' variables themselves.
      - Each host's variables are checked before any module call; an error names the host and the variable.
    type: raw
    default: []
  hostvars:
    description: The C(hostvars) of the play, where the names in O(hosts) are looked up.
    type: dict
  variable_prefix:
    description: Put before the names of these options in error messages (the role's V(sg_quarantine_)).
    type: str
    default: ''
  options:
    description: Module options per cloud, checked, and used to know whether a host without a region gets one.
    type: dict
    default: {}
  instance_id_var:
    description: The host variable holding the host's instance ID.
    type: str
    default: instance_id
  provider_var:
    description: The host variable holding the host's cloud.
    type: str
    default: cloud
  region_var:
    description: The host variable holding the host's region.
    type: str
    default: cloud_region
'''

EXAMPLES = r'''
- name: Plan
  ansible.builtin.set_fact:
    plan: "{{ targets | multicloud.secgroup.sg_quarantine_plan('isolate', records, current, '/var/lib/quarantine') }}"
'''

RETURN = r'''
_value:
  description: C(write) (path and record for each record to write), C(kept), C(missing), C(done), C(batches) (the
    sg_binding calls), C(overwritten) (instance ID to the groups a restore replaces) and C(targets).
  type: dict
'''

import os
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.multicloud.secgroup.plugins.plugin_utils._role_inputs import as_list, check_options, host_targets

try:
    import yaml
except ImportError:     # ansible-core requires PyYAML; kept importable for documentation tools
    yaml = None


def record_path(record_dir, target):
    name = '_'.join(part for part in (target['provider'], target.get('region') or '', target['instance_id']) if part)
    if not re.match(r'^[A-Za-z0-9._-]+$', name):
        raise AnsibleFilterError('sg_quarantine_plan: %r cannot name a record file' % name)
    return os.path.join(record_dir, name + '.json')


def _current_groups(current):
    groups = {}
    for result in (current or {}).get('results') or []:
        provider = (result.get('item') or {}).get('provider')
        for item in result.get('instances') or []:
            groups[(provider, item.get('instance_id'))] = list(item.get('security_group_ids') or [])
    return groups


# Skipping a target would report an instance isolated that is not: every target is isolated, or the run fails.
QUARANTINE_REFUSED_OPTIONS = dict((option, 'an instance that cannot be isolated fails the run rather than being skipped')
                                  for option in ('on_missing', 'on_refused'))


def _targets(targets, hosts, hostvars, variable_prefix, instance_id_var, provider_var, region_var, options):
    out = []
    for position, target in enumerate(as_list(targets, variable_prefix + 'targets')):
        if not isinstance(target, dict) or not target.get('provider') or not target.get('instance_id'):
            raise AnsibleFilterError('%stargets[%d]: expected a mapping with provider and instance_id, got %r' % (variable_prefix, position, target))
        out.append(dict(target, instance_id='%s' % target['instance_id']))
    for target in host_targets(hosts, hostvars, variable_prefix + 'hosts', instance_id_var, provider_var, region_var, options):
        out.append({'provider': target['provider'], 'region': target['region'], 'instance_id': target['instance_id']})
    return out


def _group_ids(value, variable):
    """The quarantine groups per cloud: a mapping, or its YAML or JSON text (an AWX survey's answer)."""
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value) if value.strip() else {}
        except yaml.YAMLError as exc:
            raise AnsibleFilterError('%s: %r is not YAML or JSON: %s' % (variable, value, exc))
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AnsibleFilterError('%s: expected a mapping of cloud to group IDs, got %r' % (variable, value))
    return dict((provider, as_list(groups, '%s.%s' % (variable, provider))) for provider, groups in value.items())


def _reads(targets):
    reads, index = [], {}
    for target in targets:
        key = (target['provider'], target.get('region'))
        if key not in index:
            index[key] = len(reads)
            reads.append({'provider': key[0], 'region': key[1], 'instance_ids': []})
        if target['instance_id'] not in reads[index[key]]['instance_ids']:
            reads[index[key]]['instance_ids'].append(target['instance_id'])
    return reads


def sg_quarantine_plan(targets, action, records, current, record_dir, quarantine_group_ids=None, now='', hosts=None,
                       instance_id_var='instance_id', provider_var='cloud', region_var='cloud_region', hostvars=None,
                       variable_prefix='', options=None):
    if action not in ('read', 'isolate', 'restore'):
        raise AnsibleFilterError('%saction must be isolate or restore, not %r' % (variable_prefix, action)
                                 if variable_prefix else 'sg_quarantine_plan: action must be read, isolate or restore, not %r' % (action,))
    options = check_options(options, variable_prefix + 'options', QUARANTINE_REFUSED_OPTIONS)
    quarantine_group_ids = _group_ids(quarantine_group_ids, variable_prefix + 'group_ids')
    targets = _targets(targets, hosts, hostvars, variable_prefix, instance_id_var, provider_var, region_var, options)
    if action == 'read':
        return {'targets': targets, 'reads': _reads(targets)}
    groups_now = _current_groups(current)
    plan = {'write': [], 'kept': [], 'missing': [], 'done': [], 'batches': [], 'overwritten': {}, 'targets': []}
    for target in targets:
        path = record_path(record_dir, target)
        record = (records or {}).get(path)
        active = record is not None and not record.get('restored')
        key = (target['provider'], target['instance_id'])
        plan['targets'].append(dict(target, record=path))
        if action == 'isolate':
            quarantine = target.get('quarantine_group_ids') or (quarantine_group_ids or {}).get(target['provider'])
            if not quarantine:
                raise AnsibleFilterError('sg_quarantine_plan: no quarantine group for %s %s; set %sgroup_ids.%s'
                                         % (target['provider'], target['instance_id'], variable_prefix or 'quarantine_', target['provider']))
            if active:
                plan['kept'].append(target['instance_id'])
            elif key in groups_now:
                plan['write'].append({'path': path, 'record': {
                    'provider': target['provider'], 'region': target.get('region'), 'instance_id': target['instance_id'],
                    'security_group_ids': groups_now[key], 'quarantine_group_ids': list(quarantine),
                    'isolated_at': now, 'restored': False}})
            else:
                raise AnsibleFilterError('sg_quarantine_plan: %s %s was not found, nothing was isolated'
                                         % (target['provider'], target['instance_id']))
            plan['batches'].append({'provider': target['provider'], 'region': target.get('region'),
                                    'instance_ids': [target['instance_id']], 'security_group_ids': list(quarantine),
                                    'state': 'present', 'purge': True})
        elif record is None:
            plan['missing'].append(target['instance_id'])
        elif record.get('restored'):
            plan['done'].append(target['instance_id'])
        else:
            found = groups_now.get(key)
            if found is not None and found != record.get('quarantine_group_ids'):
                plan['overwritten'][target['instance_id']] = found
            plan['batches'].append({'provider': target['provider'], 'region': target.get('region'),
                                    'instance_ids': [target['instance_id']], 'security_group_ids': list(record['security_group_ids']),
                                    'state': 'present', 'purge': True})
            overwritten = found if target['instance_id'] in plan['overwritten'] else None
            plan['write'].append({'path': path, 'record': dict(record, restored=True, restored_at=now, overwritten=overwritten)})
    return plan


class FilterModule(object):
    def filters(self):
        return {'sg_quarantine_plan': sg_quarantine_plan}
