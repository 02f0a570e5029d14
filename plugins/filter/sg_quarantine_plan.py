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
  - Empty targets, and a name in O(hosts) that is neither a host nor a group of the inventory (or a group without
    hosts), are refused naming what was given, before any module call.
  - For V(isolate) - which records to write (the current groups in provider order, and each interface's own groups),
    which targets are already isolated (their record is kept, from whichever store), and the
    M(multicloud.secgroup.sg_binding) calls that purge each target and each of its interfaces to its quarantine
    groups, after the calls to the flush groups where O(flush_group_ids) names some for its cloud.
  - For V(restore) - which targets have no record (an error), which were restored already (file store), the calls
    that put back each saved list (the instance's and each interface's), and the groups found that the restore
    overwrites.
  - An interface recorded with no group of its own (a Zenlayer vNIC that had its VPC's default group) is restored to
    the groups it inherited, recorded at isolation when the read gave them (C(inherited)); otherwise its restore fails
    naming it and its instance's record is kept (C(unrestorable)).
author:
  - multicloud.secgroup developers (@multicloud-secgroup)
options:
  _input:
    description:
      - Targets, each with C(provider), C(region) and C(instance_id) (or C(zec_instance_id), a Zenlayer Elastic Compute
        instance), and optionally C(quarantine_group_ids) and C(flush_group_ids).
    type: list
    elements: dict
    required: true
  action:
    description:
      - V(isolate) or V(restore); or V(read) for the first step, which only returns C(targets) and C(reads), the
        M(multicloud.secgroup.sg_binding_info) calls that read the targets' current groups.
    type: str
    required: true
  then:
    description: With O(action=read), the action that follows (V(isolate) or V(restore)), named in errors.
    type: str
  records:
    description: The records found in the record directory, keyed by their path (file store).
    type: dict
    required: true
  current:
    description:
      - The registered loop of M(multicloud.secgroup.sg_binding_info) calls over the targets (their groups, their
        interfaces' and, for the tags store, the decoded C(quarantine) record).
    type: dict
    required: true
  record_dir:
    description: The records' directory.
    type: str
    required: true
  record_store:
    description:
      - V(file) (one JSON file per target in O(record_dir)) or V(tags) (the record kept as tags on the instance).
      - V(tags) is refused, naming the V(file) store, for a cloud or target kind whose module cannot tag.
    type: str
    default: file
  reason:
    description: Put in each new record (an incident or ticket reference).
    type: str
  quarantine_group_ids:
    description: The quarantine groups per provider; a mapping, or its YAML or JSON text (an AWX survey's answer).
    type: raw
    default: {}
  flush_group_ids:
    description:
      - Per cloud, the groups each newly isolated target and its interfaces get first, for O(flush_seconds), before
        the quarantine groups; a mapping, or its YAML or JSON text. A cloud not named has no flush phase.
    type: raw
    default: {}
  flush_seconds:
    description: How long the flush groups stay, in seconds (returned as C(flush_seconds) after checking).
    type: raw
    default: 10
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
  groups:
    description: The C(groups) of the play; a name in O(hosts) that is a group stands for its hosts.
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
  description:
    - C(write) (path and record for each record file to write), C(tag_writes) and C(tag_removals) (per cloud,
      region and instance kind, the records to write as tags or the targets whose record tags go), C(kept),
      C(missing), C(unreadable) (target ID to why its record tags cannot be read), C(done), C(flush) and C(batches)
      (the sg_binding calls of the two phases), C(flush_seconds), C(overwritten) (target or interface ID to the
      groups a restore replaces), C(owners) (each target and interface ID to its instance), C(inherited) (the
      interfaces a restore gives the groups they inherited, each with a message), C(unrestorable) (interface ID to why
      it cannot be restored) and C(targets).
  type: dict
'''

import os
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.multicloud.secgroup.plugins.plugin_utils._role_inputs import (
    PROVIDER_NAMES, as_list, check_options, generic, host_targets)

try:
    import yaml
except ImportError:     # ansible-core requires PyYAML; kept importable for documentation tools
    yaml = None

# Target kinds the role isolates: the module option, the result key of sg_binding_info and the target's key.
KINDS = {
    'instance': ('instance_ids', 'instances', 'instance_id'),
    'zec_instance': ('zec_instance_ids', 'zec_instances', 'zec_instance_id'),
}
STORES = ('file', 'tags')
# In a record, the groups an interface with none of its own had instead (_quarantine_record.INHERITED_FIELD).
INHERITED = 'inherited_security_group_ids'


def record_path(record_dir, target):
    kind = 'zec' if target.get('kind') == 'zec_instance' else ''
    name = '_'.join(part for part in (target['provider'], target.get('region') or '', kind, target['instance_id']) if part)
    if not re.match(r'^[A-Za-z0-9._-]+$', name):
        raise AnsibleFilterError('sg_quarantine_plan: %r cannot name a record file' % name)
    return os.path.join(record_dir, name + '.json')


def _found(current):
    """(provider, kind, target ID) -> the sg_binding_info item of each target read (its groups, and where asked
    its network_interfaces, tags and decoded quarantine record)."""
    found = {}
    for result in (current or {}).get('results') or []:
        provider = (result.get('item') or {}).get('provider')
        for kind, (dummy, result_key, id_key) in KINDS.items():
            for item in result.get(result_key) or []:
                found[(provider, kind, '%s' % item.get(id_key))] = item
    return found


# Skipping a target would report an instance isolated that is not: every target is isolated, or the run fails.
QUARANTINE_REFUSED_OPTIONS = dict([(option, 'an instance that cannot be isolated fails the run rather than being skipped')
                                   for option in ('on_missing', 'on_refused')]
                                  + [('quarantined', 'the quarantine always changes quarantined instances (it isolates and restores them)')])


def _targets(targets, hosts, hostvars, groups, variable_prefix, instance_id_var, provider_var, region_var, options):
    out, seen = [], set()
    for position, target in enumerate(as_list(targets, variable_prefix + 'targets')):
        if not isinstance(target, dict) or not target.get('provider') or not (target.get('instance_id') or target.get('zec_instance_id')):
            raise AnsibleFilterError('%stargets[%d]: expected a mapping with provider and instance_id (or zec_instance_id), got %r'
                                     % (variable_prefix, position, target))
        if target['provider'] not in PROVIDER_NAMES:
            raise AnsibleFilterError("%stargets[%d]: provider '%s' is not one of %s"
                                     % (variable_prefix, position, target['provider'], ', '.join(PROVIDER_NAMES)))
        if target.get('instance_id') and target.get('zec_instance_id'):
            raise AnsibleFilterError('%stargets[%d]: give instance_id or zec_instance_id, not both' % (variable_prefix, position))
        # The read step's targets come back with their kind already set.
        kind = target.get('kind') or ('zec_instance' if target.get('zec_instance_id') else 'instance')
        if kind not in KINDS:
            raise AnsibleFilterError('%stargets[%d]: kind must be one of %s, not %r' % (variable_prefix, position, ', '.join(KINDS), kind))
        if kind == 'zec_instance' and target['provider'] != 'zenlayer':
            raise AnsibleFilterError('%stargets[%d]: zec_instance_id is for provider zenlayer, not %s' % (variable_prefix, position, target['provider']))
        clean = dict((k, v) for k, v in target.items() if k != 'zec_instance_id')
        out.append(dict(clean, instance_id='%s' % (target.get('instance_id') or target['zec_instance_id']), kind=kind))
    for target in host_targets(hosts, hostvars, variable_prefix + 'hosts', instance_id_var, provider_var, region_var, options, groups):
        out.append({'provider': target['provider'], 'region': target['region'], 'instance_id': target['instance_id'], 'kind': 'instance'})
    unique = []
    for target in out:
        key = (target['provider'], target['kind'], target['instance_id'])
        if key not in seen:
            seen.add(key)
            unique.append(target)
    return unique


def _group_ids(value, variable):
    """Security groups per cloud: a mapping, or its YAML or JSON text (an AWX survey's answer)."""
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value) if value.strip() else {}
        except yaml.YAMLError as exc:
            raise AnsibleFilterError('%s: %r is not YAML or JSON: %s' % (variable, value, exc))
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AnsibleFilterError('%s: expected a mapping of cloud to group IDs, got %r' % (variable, value))
    for provider in value:
        if provider not in PROVIDER_NAMES:
            raise AnsibleFilterError("%s: '%s' is not one of %s" % (variable, provider, ', '.join(PROVIDER_NAMES)))
    return dict((provider, as_list(groups, '%s.%s' % (variable, provider))) for provider, groups in value.items())


def can_tag(provider, kind='instance'):
    """Whether the provider's module can keep a record in the tags of this kind of target: what
    multicloud.secgroup.sg_quarantine_record checks before any request (tag limits for the kind, and the tag calls)."""
    cls = generic.PROVIDERS[provider]
    limits = getattr(cls, 'tag_limits', None)
    if isinstance(limits, dict):    # per target kind, by its option
        limits = limits.get(KINDS[kind][0])
    return limits is not None and all(hasattr(cls, hook) for hook in ('write_tags', 'remove_tags'))


def can_list_interfaces(provider):
    """Whether sg_binding_info can list the interfaces attached to the provider's instances (interfaces: true)."""
    return hasattr(generic.PROVIDERS[provider], 'attached_interfaces')


def _reads(targets):
    reads, index = [], {}
    for target in targets:
        option = KINDS[target['kind']][0]
        key = (target['provider'], target.get('region'), option)
        if key not in index:
            index[key] = len(reads)
            reads.append({'provider': key[0], 'region': key[1], option: [], 'interfaces': can_list_interfaces(key[0])})
        reads[index[key]][option].append(target['instance_id'])
    return reads


def _interfaces(item):
    """Each interface read, with its own groups and, for one with none of its own, the groups it inherited where the
    read gives them (on Zenlayer, the vNIC's VPC default group)."""
    out = []
    for nic in (item or {}).get('network_interfaces') or []:
        entry = {'network_interface_id': '%s' % nic['network_interface_id'], 'security_group_ids': list(nic.get('security_group_ids') or [])}
        if not entry['security_group_ids'] and nic.get('vpc_default_security_group_id'):
            entry[INHERITED] = ['%s' % nic['vpc_default_security_group_id']]
        out.append(entry)
    return out


def _inherited_note(provider, nic_id, groups):
    if provider == 'zenlayer':
        return ("vNIC %s had no group of its own before isolation (it used its VPC's default group %s); Zenlayer cannot return "
                "a vNIC to that, so it now has %s as its own" % (nic_id, ', '.join(groups), ', '.join(groups)))
    return ('network interface %s had no group of its own before isolation (it used the groups it inherited, %s); the cloud '
            'cannot return it to that, so it now has them as its own' % (nic_id, ', '.join(groups)))


def _batch(target, kind_option, ids, groups):
    return {'provider': target['provider'], 'region': target.get('region'), kind_option: list(ids),
            'security_group_ids': list(groups), 'state': 'present', 'purge': True}


def _isolation_batches(target, record, groups, attached):
    """The calls that make the target and every interface of its record carry `groups`; interfaces no longer attached
    (when the read lists them) are left out."""
    batches = [_batch(target, KINDS[target['kind']][0], [target['instance_id']], groups)]
    nics = [nic['network_interface_id'] for nic in record.get('network_interfaces') or []]
    if attached is not None:
        nics = [nic for nic in nics if nic in attached]
    if nics:
        batches.append(_batch(target, 'network_interface_ids', nics, groups))
    return batches


def _refuse_store(targets, store, variable_prefix):
    if store not in STORES:
        raise AnsibleFilterError('%srecord_store must be file or tags, not %r' % (variable_prefix, store))
    if store == 'tags':
        for target in targets:
            if not can_tag(target['provider'], target['kind']):
                raise AnsibleFilterError('%srecord_store: tags: %s cannot keep tags on its %s %s (the module has no tag support for it); '
                                         'use %srecord_store: file' % (variable_prefix, target['provider'], target['kind'].replace('_', ' '),
                                                                       target['instance_id'], variable_prefix))


def _flush_seconds(value, variable):
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError('%s: %r is not a number of seconds' % (variable, value)) from None
    if seconds < 0:
        raise AnsibleFilterError('%s: %r is negative' % (variable, value))
    return int(seconds) if seconds == int(seconds) else seconds


def sg_quarantine_plan(targets, action, records, current, record_dir, quarantine_group_ids=None, now='', hosts=None,
                       instance_id_var='instance_id', provider_var='cloud', region_var='cloud_region', hostvars=None,
                       variable_prefix='', options=None, groups=None, record_store='file', reason=None,
                       flush_group_ids=None, flush_seconds=10, then=None):
    if action not in ('read', 'isolate', 'restore'):
        raise AnsibleFilterError('%saction must be isolate or restore, not %r' % (variable_prefix, action)
                                 if variable_prefix else 'sg_quarantine_plan: action must be read, isolate or restore, not %r' % (action,))
    if action == 'read' and then is not None and then not in ('isolate', 'restore'):
        raise AnsibleFilterError('%saction must be isolate or restore, not %r' % (variable_prefix, then))
    doing = then if action == 'read' else action
    options = check_options(options, variable_prefix + 'options', QUARANTINE_REFUSED_OPTIONS)
    quarantine_group_ids = _group_ids(quarantine_group_ids, variable_prefix + 'group_ids')
    flush_group_ids = _group_ids(flush_group_ids, variable_prefix + 'flush_group_ids')
    flush_seconds = _flush_seconds(flush_seconds, variable_prefix + 'flush_seconds')
    given = targets
    targets = _targets(targets, hosts, hostvars, groups, variable_prefix, instance_id_var, provider_var, region_var, options)
    if not targets:
        raise AnsibleFilterError('%s: no instance to %s: %stargets is %s and %shosts is %s; nothing was done'
                                 % (variable_prefix.rstrip('_') or 'sg_quarantine_plan', doing or 'isolate or restore',
                                    variable_prefix, _given(given), variable_prefix, _given(hosts)))
    _refuse_store(targets, record_store, variable_prefix)
    reason = reason or None
    if reason is not None and not isinstance(reason, str):
        raise AnsibleFilterError('%sreason: expected text (an incident or ticket reference), got %s' % (variable_prefix, type(reason).__name__))
    if action == 'read':
        return {'targets': targets, 'reads': _reads(targets)}
    found = _found(current)
    plan = {'write': [], 'kept': [], 'missing': [], 'done': [], 'flush': [], 'batches': [], 'overwritten': {}, 'targets': [],
            'tag_writes': [], 'tag_removals': [], 'owners': {}, 'flush_seconds': flush_seconds, 'record_store': record_store,
            'unreadable': {}, 'inherited': [], 'unrestorable': {}}
    tag_writes, tag_removals = {}, {}
    for target in targets:
        path = record_path(record_dir, target)
        item = found.get((target['provider'], target['kind'], target['instance_id']))
        if record_store == 'tags':
            record = (item or {}).get('quarantine')
            active = bool(record)
            if (item or {}).get('quarantine_error'):
                # Record tags edited or removed by hand: never recorded over (its groups may be the only copy).
                plan['unreadable'][target['instance_id']] = item['quarantine_error']
                continue
        else:
            record = (records or {}).get(path)
            active = record is not None and not record.get('restored')
        plan['targets'].append(dict(target, record=path if record_store == 'file' else None))
        plan['owners'][target['instance_id']] = target['instance_id']
        attached = None if item is None or 'network_interfaces' not in item else [nic['network_interface_id'] for nic in _interfaces(item)]
        if action == 'isolate':
            quarantine = target.get('quarantine_group_ids') or quarantine_group_ids.get(target['provider'])
            if not quarantine:
                raise AnsibleFilterError('sg_quarantine_plan: no quarantine group for %s %s; set %sgroup_ids.%s'
                                         % (target['provider'], target['instance_id'], variable_prefix or 'quarantine_', target['provider']))
            if item is None and not active:
                raise AnsibleFilterError('sg_quarantine_plan: %s %s was not found, nothing was isolated'
                                         % (target['provider'], target['instance_id']))
            if active:
                plan['kept'].append(target['instance_id'])
            else:
                record = {'instance_id': target['instance_id'], 'security_group_ids': list(item.get('security_group_ids') or []),
                          'network_interfaces': _interfaces(item), 'quarantine_group_ids': list(quarantine),
                          'isolated_at': now, 'reason': reason}
                if record_store == 'file':
                    file_record = dict(record, provider=target['provider'], region=target.get('region'), restored=False)
                    if target['kind'] != 'instance':
                        file_record['kind'] = target['kind']
                    plan['write'].append({'path': path, 'record': file_record})
                else:
                    key = (target['provider'], target.get('region'), target['kind'])
                    if key not in tag_writes:
                        tag_writes[key] = {'provider': key[0], 'region': key[1], 'instance_kind': key[2], 'records': []}
                        plan['tag_writes'].append(tag_writes[key])
                    tag_writes[key]['records'].append(record)
                flush = target.get('flush_group_ids') or flush_group_ids.get(target['provider'])
                if flush:
                    # Only a target recorded now: one already isolated is never opened to the flush groups again.
                    plan['flush'].extend(_isolation_batches(target, record, flush, attached))
            for nic in record.get('network_interfaces') or []:
                plan['owners'][nic['network_interface_id']] = target['instance_id']
            plan['batches'].extend(_isolation_batches(target, record, record.get('quarantine_group_ids') if active else quarantine, attached))
        elif record is None:
            plan['missing'].append(target['instance_id'])
        elif not active:
            plan['done'].append(target['instance_id'])
        else:
            expected = [list(record.get('quarantine_group_ids') or [])]
            flush = target.get('flush_group_ids') or flush_group_ids.get(target['provider'])
            if flush:
                expected.append(list(flush))
            found_now = (item or {}).get('security_group_ids')
            overwritten = None
            if item is not None and found_now not in expected:
                overwritten = plan['overwritten'][target['instance_id']] = list(found_now)
            nic_now = dict((nic['network_interface_id'], nic['security_group_ids']) for nic in _interfaces(item))
            batches = [_batch(target, KINDS[target['kind']][0], [target['instance_id']], record['security_group_ids'])]
            for nic in record.get('network_interfaces') or []:
                nic_id = nic['network_interface_id']
                plan['owners'][nic_id] = target['instance_id']
                if nic_id in nic_now and nic_now[nic_id] not in expected:
                    plan['overwritten'][nic_id] = list(nic_now[nic_id])
                groups = list(nic['security_group_ids'])
                if not groups:
                    # No group of its own: no call returns it to that; it gets the groups it inherited, as its own.
                    groups = list(nic.get(INHERITED) or [])
                    if not groups:
                        plan['unrestorable'][nic_id] = (
                            'network interface %s of %s had no group of its own before isolation, and its record does not say which '
                            'groups it inherited (the read did not give them); it keeps the quarantine groups and the record is kept: '
                            'set its groups by hand' % (nic_id, target['instance_id']))
                        continue
                    plan['inherited'].append({'network_interface_id': nic_id, 'instance_id': target['instance_id'],
                                              'security_group_ids': groups, 'msg': _inherited_note(target['provider'], nic_id, groups)})
                batches.append(_batch(target, 'network_interface_ids', [nic_id], groups))
            plan['batches'].extend(batches)
            if record_store == 'file':
                plan['write'].append({'path': path, 'record': dict(record, restored=True, restored_at=now, overwritten=overwritten)})
            else:
                key = (target['provider'], target.get('region'), target['kind'])
                if key not in tag_removals:
                    tag_removals[key] = {'provider': key[0], 'region': key[1], 'instance_kind': key[2], 'instance_ids': []}
                    plan['tag_removals'].append(tag_removals[key])
                tag_removals[key]['instance_ids'].append(target['instance_id'])
    return plan


def _given(value):
    if value is None or value == '' or value == []:
        return 'empty'
    return repr(value)


class FilterModule(object):
    def filters(self):
        return {'sg_quarantine_plan': sg_quarantine_plan}
