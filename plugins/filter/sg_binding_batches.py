# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: sg_binding_batches
short_description: Group wanted security-group bindings into the fewest module calls
version_added: 0.1.0
description:
  - Merges binding entries (and, optionally, the wanted groups of inventory hosts) into one entry per cloud, region,
    target kind, security group list, state and purge, each listing every target ID once, in first-seen order.
  - Each result is the argument set of one M(multicloud.secgroup.sg_binding) call, so a fleet of N instances on one
    cloud that want the same groups takes one module call, which batches its API calls as the cloud allows.
  - Used by the P(multicloud.secgroup.sg_bindings#role) role.
author:
  - multicloud.secgroup developers (@multicloud-secgroup)
options:
  _input:
    description:
      - Entries with C(provider), optional C(region), C(instance_ids) or C(network_interface_ids), C(security_group_ids),
        and optional C(state) (default V(present)) and C(purge) (default V(false)).
    type: list
    elements: dict
    required: true
  hosts:
    description:
      - Host variables of inventory hosts (for example C(ansible_play_hosts | map('extract', hostvars))), each adding one
        entry built from the variables named by the other options.
    type: list
    elements: dict
    default: []
  instance_id_var:
    description: The host variable holding the host's instance ID.
    type: str
    default: instance_id
  provider_var:
    description: The host variable holding the host's cloud (a O(multicloud.secgroup.sg_binding#module:provider) value).
    type: str
    default: cloud
  region_var:
    description: The host variable holding the host's region (unset for clouds without regions).
    type: str
    default: cloud_region
  groups_var:
    description: The host variable holding the security groups the host wants; O(security_group_ids) when unset.
    type: str
    default: security_group_ids
  security_group_ids:
    description: The security groups for hosts that do not set O(groups_var).
    type: list
    elements: str
    default: []
  state:
    description: The state for the hosts' entries.
    type: str
    default: present
  purge:
    description: The purge flag for the hosts' entries.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: One sg_binding call per cloud, region and wanted list
  multicloud.secgroup.sg_binding:
    provider: "{{ item.provider }}"
    region: "{{ item.region | default(omit) }}"
    instance_ids: "{{ item.instance_ids }}"
    security_group_ids: "{{ item.security_group_ids }}"
  loop: "{{ [] | multicloud.secgroup.sg_binding_batches(hosts=ansible_play_hosts | map('extract', hostvars)) }}"
  run_once: true
  delegate_to: localhost
'''

RETURN = r'''
_value:
  description: One entry per module call, with C(provider), C(region) (or none), the target option, C(security_group_ids),
    C(state) and C(purge).
  type: list
  elements: dict
'''

from ansible.errors import AnsibleFilterError

TARGET_OPTIONS = ('instance_ids', 'network_interface_ids')


def _host_entries(hosts, instance_id_var, provider_var, region_var, groups_var, security_group_ids, state, purge):
    entries = []
    for host in hosts:
        name = host.get('inventory_hostname', '?')
        instance_id = host.get(instance_id_var)
        provider = host.get(provider_var)
        if not instance_id or not provider:
            raise AnsibleFilterError('sg_binding_batches: host %s has no %s' % (name, instance_id_var if not instance_id else provider_var))
        groups = host.get(groups_var)
        entries.append({'provider': provider, 'region': host.get(region_var), 'instance_ids': ['%s' % instance_id],
                        'security_group_ids': list(security_group_ids if groups is None else groups),
                        'state': state, 'purge': purge})
    return entries


def sg_binding_batches(entries, hosts=None, instance_id_var='instance_id', provider_var='cloud', region_var='cloud_region',
                       groups_var='security_group_ids', security_group_ids=None, state='present', purge=False):
    batches = []
    index = {}
    owner = {}      # (provider, region, target) -> the batch it went to first
    everything = list(entries or []) + _host_entries(hosts or [], instance_id_var, provider_var, region_var, groups_var,
                                                     security_group_ids or [], state, purge)
    for position, entry in enumerate(everything):
        if not isinstance(entry, dict) or not entry.get('provider'):
            raise AnsibleFilterError('sg_binding_batches: entry %d has no provider' % position)
        options = [option for option in TARGET_OPTIONS if entry.get(option) is not None]
        if len(options) != 1:
            raise AnsibleFilterError('sg_binding_batches: entry %d must have exactly one of %s' % (position, ', '.join(TARGET_OPTIONS)))
        option = options[0]
        groups = list(entry.get('security_group_ids') or [])
        key = (entry['provider'], entry.get('region'), option, tuple(groups), entry.get('state', 'present'), bool(entry.get('purge', False)))
        if key not in index:
            index[key] = len(batches)
            batches.append({'provider': key[0], 'region': key[1], option: [], 'security_group_ids': groups,
                            'state': key[4], 'purge': key[5]})
        batch = batches[index[key]]
        for target in entry[option]:
            target = '%s' % target
            other = owner.setdefault((key[0], key[1], target), index[key])
            if other != index[key] and (key[5] or batches[other]['purge']):
                raise AnsibleFilterError('sg_binding_batches: %s %s is wanted with purge in two different ways (%s and %s); '
                                         'list it once' % (key[0], target, ', '.join(batches[other]['security_group_ids']),
                                                           ', '.join(groups)))
            if target not in batch[option]:
                batch[option].append(target)
    return batches


class FilterModule(object):
    def filters(self):
        return {'sg_binding_batches': sg_binding_batches}
