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
      - Entries with C(provider), optional C(region), C(instance_ids), C(network_interface_ids) or C(zec_instance_ids)
        (Zenlayer Elastic Compute), C(security_group_ids),
        and optional C(state) (default V(present)) and C(purge) (default V(false)).
    type: list
    elements: dict
    required: true
  hosts:
    description:
      - Inventory hosts, each adding one entry built from its variables named by the other options; names looked up
        in O(hostvars) (a list, or text of names separated by commas), or the hosts' variables themselves.
      - Each host's variables are checked before any module call; an error names the host and the variable.
    type: raw
    default: []
  hostvars:
    description: The C(hostvars) of the play, where the names in O(hosts) are looked up.
    type: dict
  variable_prefix:
    description: Put before the names of these options in error messages (the role's V(sg_bindings_)), so that they
      name the variable to fix.
    type: str
    default: ''
  options:
    description:
      - Module options per cloud, checked (keys among the clouds, each value a mapping of
        M(multicloud.secgroup.sg_binding) options) and used to know whether a host without a region gets one.
    type: dict
    default: {}
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
    description:
      - The host variable holding the security groups the host wants (a list, or text of IDs separated by commas);
        O(security_group_ids) when unset.
      - Not C(security_group_ids), which an inventory may set to the groups an instance has now.
    type: str
    default: sg_bindings_wanted_group_ids
  security_group_ids:
    description: The security groups for hosts that do not set O(groups_var) (a list, or text of IDs separated by commas).
    type: raw
    default: []
  state:
    description: The state for the hosts' entries.
    type: str
    default: present
  purge:
    description: The purge flag for the hosts' entries (a boolean, or its text such as V(false) from a survey).
    type: raw
    default: false
  quarantine_records:
    description:
      - The records of the P(multicloud.secgroup.sg_quarantine#role) role's file store (path to record). Targets under
        an active record (the instance, and each interface it records) are left out of the batches and listed in
        their batch's C(quarantined); a batch left without targets keeps only that list.
    type: raw
    default: {}
  include_quarantined:
    description: Keep the quarantined targets in the batches (change them on purpose).
    type: raw
    default: false
'''

EXAMPLES = r'''
- name: One sg_binding call per cloud, region and wanted list
  multicloud.secgroup.sg_binding:
    provider: "{{ item.provider }}"
    region: "{{ item.region | default(omit) }}"
    instance_ids: "{{ item.instance_ids }}"
    security_group_ids: "{{ item.security_group_ids }}"
  loop: "{{ [] | multicloud.secgroup.sg_binding_batches(hosts=ansible_play_hosts, hostvars=hostvars) }}"
  run_once: true
  delegate_to: localhost
'''

RETURN = r'''
_value:
  description: One entry per module call, with C(provider), C(region) (or none), the target option, C(security_group_ids),
    C(state) and C(purge), and C(quarantined) where targets were left out. Module options from O(options) are not in
    it (they may hold credentials).
  type: list
  elements: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.multicloud.secgroup.plugins.plugin_utils._role_inputs import (
    as_bool, as_list, check_options, host_targets, quarantined_targets)

TARGET_OPTIONS = ('instance_ids', 'network_interface_ids', 'zec_instance_ids')
# One switch for both record stores (file records are the role's, tag records the module's).
BINDINGS_REFUSED_OPTIONS = {'quarantined': 'set sg_bindings_include_quarantined instead (true changes quarantined instances)'}


def _host_entries(targets, groups_var, security_group_ids, state, purge):
    entries = []
    for target in targets:
        groups = target['variables'].get(groups_var)
        entries.append({'provider': target['provider'], 'region': target['region'], 'instance_ids': [target['instance_id']],
                        'security_group_ids': as_list(security_group_ids if groups is None else groups,
                                                      'host %s: %s' % (target['host'], groups_var)),
                        'state': state, 'purge': purge})
    return entries


def sg_binding_batches(entries, hosts=None, instance_id_var='instance_id', provider_var='cloud', region_var='cloud_region',
                       groups_var='sg_bindings_wanted_group_ids', security_group_ids=None, state='present', purge=False,
                       hostvars=None, variable_prefix='', options=None, quarantine_records=None, include_quarantined=False):
    options = check_options(options, variable_prefix + 'options', BINDINGS_REFUSED_OPTIONS)
    held = {} if as_bool(include_quarantined, variable_prefix + 'include_quarantined') else quarantined_targets(quarantine_records)
    purge = as_bool(purge, variable_prefix + 'purge')
    security_group_ids = as_list(security_group_ids, variable_prefix + 'security_group_ids')
    targets = host_targets(hosts, hostvars, variable_prefix + 'hosts', instance_id_var, provider_var, region_var, options)
    batches = []
    index = {}
    owner = {}      # (provider, region, target) -> the batch it went to first
    everything = as_list(entries, variable_prefix + 'entries') + _host_entries(targets, groups_var, security_group_ids, state, purge)
    for position, entry in enumerate(everything):
        if not isinstance(entry, dict) or not entry.get('provider'):
            raise AnsibleFilterError('sg_binding_batches: entry %d has no provider' % position)
        given = [option for option in TARGET_OPTIONS if entry.get(option) is not None]
        if len(given) != 1:
            raise AnsibleFilterError('sg_binding_batches: entry %d must have exactly one of %s' % (position, ', '.join(TARGET_OPTIONS)))
        option = given[0]
        groups = as_list(entry.get('security_group_ids'), 'entry %d: security_group_ids' % position)
        key = (entry['provider'], entry.get('region'), option, tuple(groups), entry.get('state', 'present'),
               as_bool(entry.get('purge', False), 'entry %d: purge' % position))
        if key not in index:
            index[key] = len(batches)
            batches.append(dict((name, value) for name, value in (
                ('provider', key[0]), ('region', key[1]), (option, []), ('security_group_ids', groups),
                ('state', key[4]), ('purge', key[5])) if value is not None))
        batch = batches[index[key]]
        for target in as_list(entry[option], 'entry %d: %s' % (position, option)):
            target = '%s' % target
            other = owner.setdefault((key[0], key[1], target), index[key])
            if other != index[key] and (key[5] or batches[other]['purge']):
                raise AnsibleFilterError('sg_binding_batches: %s %s is wanted with purge in two different ways (%s and %s); '
                                         'list it once' % (key[0], target, ', '.join(batches[other]['security_group_ids']),
                                                           ', '.join(groups)))
            if (key[0], target) in held:
                if target not in batch.setdefault('quarantined', []):
                    batch['quarantined'].append(target)
            elif target not in batch[option]:
                batch[option].append(target)
    return batches


class FilterModule(object):
    def filters(self):
        return {'sg_binding_batches': sg_binding_batches}
