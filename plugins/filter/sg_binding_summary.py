# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: sg_binding_summary
short_description: Count, per cloud, the targets a loop of sg_binding calls changed, left unchanged or failed on
version_added: 0.1.0
description:
  - Takes the registered result of a loop of M(multicloud.secgroup.sg_binding) calls (each item being an entry of
    P(multicloud.secgroup.sg_binding_batches#filter)) and counts, per provider, the targets changed, unchanged and
    failed, with each failure's message.
  - A target of a failed call counts as failed unless the failure's read-back shows it in the wanted state.
  - A target left alone because it is quarantined (the batch's C(quarantined), from the role's file records, or the
    module's C(quarantined), from tag records) is listed under C(quarantined) and not counted.
  - A target the call skipped (the module's C(missing_instance_ids), C(refused_instance_ids) and their
    C(_network_interface_ids) forms, with the module option C(on_missing) or
    the module option C(on_refused) set to V(skip)) counts as skipped, and is listed under
    C(missing) or C(refused).
author:
  - multicloud.secgroup developers (@multicloud-secgroup)
options:
  _input:
    description: The registered loop result (its C(results) list).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Summarise
  ansible.builtin.set_fact:
    summary: "{{ bound | multicloud.secgroup.sg_binding_summary }}"
'''

RETURN = r'''
_value:
  description: Per provider, C(changed), C(unchanged), C(skipped) and C(failed) counts, C(failures) (C(msg) and the
    target IDs), the skipped target IDs in C(missing) and C(refused), and those left alone in C(quarantined).
  type: dict
'''

TARGETS = (('instances', 'instance_id', 'instance_ids'), ('network_interfaces', 'network_interface_id', 'network_interface_ids'),
           ('zec_instances', 'zec_instance_id', 'zec_instance_ids'))
# Why a module skipped targets (its on_missing / on_refused = skip): the result key is <reason>_<target option>.
SKIP_REASONS = ('missing', 'refused')


def _wanted(groups, batch):
    wanted = batch.get('security_group_ids') or []
    if batch.get('state') == 'absent':
        return not any(sg in groups for sg in wanted)
    if batch.get('purge'):
        return sorted(groups) == sorted(wanted)
    return all(sg in groups for sg in wanted)


def sg_binding_summary(registered):
    summary = {}
    for result in (registered or {}).get('results') or []:
        batch = result.get('item') or {}
        counts = summary.setdefault(batch.get('provider', '?'), {'changed': 0, 'unchanged': 0, 'skipped': 0, 'failed': 0,
                                                                 'failures': [], 'missing': [], 'refused': [], 'quarantined': []})
        # Left alone under an active quarantine: by the role (file records) or by the module (tag records).
        quarantined = list(batch.get('quarantined') or []) + list(result.get('quarantined') or [])
        counts['quarantined'].extend(target for target in quarantined if target not in counts['quarantined'])
        reported = dict((item.get(id_key), item) for key, id_key, dummy in TARGETS for item in result.get(key) or [])
        option = next((option for dummy, dummy2, option in TARGETS if batch.get(option) is not None), 'instance_ids')
        skipped = dict((target, reason) for reason in SKIP_REASONS for target in result.get('%s_%s' % (reason, option)) or [])
        failed_ids = []
        for target in batch.get(option) or []:
            item = reported.get(target)
            if target in quarantined:
                continue
            if target in skipped:
                counts['skipped'] += 1
                counts[skipped[target]].append(target)
            elif item is None or (result.get('failed') and not _wanted(item.get('after') or [], batch)):
                counts['failed'] += 1
                failed_ids.append(target)
            elif item.get('before') != item.get('after'):
                counts['changed'] += 1
            else:
                counts['unchanged'] += 1
        if result.get('failed'):
            counts['failures'].append({'msg': result.get('msg', ''), option: failed_ids})
    return summary


class FilterModule(object):
    def filters(self):
        return {'sg_binding_summary': sg_binding_summary}
