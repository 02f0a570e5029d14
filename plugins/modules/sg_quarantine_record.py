#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: sg_quarantine_record
short_description: Keep quarantine records on the instances themselves, as cloud tags, on any supported cloud
version_added: 0.1.0
description:
  - Writes or removes the record of a quarantine (the security groups an instance and each of its network interfaces had,
    in order, the quarantine groups, the time and a reason) as tags on the instance, on the cloud named by O(provider).
    Any controller, job or execution node can then restore from it, and responders see it in the cloud console. The
    C(sg_quarantine) role uses it with C(sg_quarantine_record_store=tags).
  - With O(state=present), each record of O(records) is written unless its instance already carries a record - the first
    record wins, whoever wrote it - and that instance is listed in RV(kept). With O(state=absent), the record tags of
    O(instance_ids) are removed (the restore is done).
  - The tags are C(sg-quarantine) (the time, readable in the console), C(sg-quarantine-reason) (the reason, readable,
    when there is one) and C(sg-quarantine-1) to C(sg-quarantine-N) (the exact record, split to fit the cloud's value
    length; characters the cloud refuses are escaped, with a checksum). A record with G groups in all and I network
    interfaces takes 2 or 3 tags on most instances, more on clouds with short tag values; the instance's own tags share
    the cloud's maximum per instance, and a record that does not fit fails the task before any write, naming the
    instance, the tags needed and the limit.
  - A record that cannot be read whole (a tag edited or removed by hand) fails O(state=present) for that instance
    before any write; O(state=absent) removes its tags all the same, with a warning. The binding modules take such an
    instance as quarantined (their C(quarantined) option).
  - Every value is checked before any request - instance, group and network interface IDs against the provider's
    formats, C(isolated_at) of a record as a time with its UTC offset, its C(reason) at most 256 characters on one
    line - and a record too big for the cloud's tags is refused then too.
  - A provider that cannot tag the instances of the kind asked about fails the task before any request, naming the
    provider; keep those records in the role's C(file) record store.
  - Calls - the instances are read once, with the reads of the binding modules (their tags come with them where the cloud's
    instance description returns them), then each instance's tags are written or removed with the cloud's tag calls,
    batched where the cloud batches; see each provider's binding module for the calls and their counts.
author:
  - multicloud.secgroup developers (@multicloud-secgroup)
extends_documentation_fragment:
  - multicloud.secgroup.common.provider_credentials
  - multicloud.secgroup.common.credentials
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    support: full
    description: Returns the records before and after, by instance, in diff mode.
  idempotent:
    support: full
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
  action_group:
    support: full
    membership:
      - multicloud.secgroup.all
    description:
      - Use C(group/multicloud.secgroup.all) in O(ignore:module_defaults) for options every cloud has.
      - The group of a cloud (for example C(group/multicloud.secgroup.tencentcloud)) reaches this module only when
        O(provider) names that cloud, and only with the options this module has. It fills in only the options that the
        task, this module's own O(ignore:module_defaults) entry and C(group/multicloud.secgroup.all) leave unset.
options:
  provider:
    description:
      - The cloud.
    type: str
    required: true
    choices: [alicloud, baiducloud, tencentcloud, zenlayer]
  state:
    description:
      - V(present) writes each record of O(records) on its instance, unless the instance already carries one.
      - V(absent) removes the record tags of each instance of O(instance_ids).
    type: str
    choices: [present, absent]
    default: present
  records:
    description:
      - With O(state=present), the records to write, one per instance.
      - Each record is a dictionary of
      - C(instance_id) (required) - the instance (of O(instance_kind));
      - C(security_group_ids) (required) - the groups it had before the quarantine, in the provider's order;
      - C(network_interfaces) (default none) - each network interface of the instance that carries its own groups, as
        C(network_interface_id) and C(security_group_ids) (its groups before the quarantine, in order), and, for one with
        no group of its own (an empty C(security_group_ids)), optionally C(inherited_security_group_ids), the groups it
        had instead (a Zenlayer vNIC's VPC default group);
      - C(quarantine_group_ids) (required) - the quarantine groups;
      - C(isolated_at) - when it was isolated, with its UTC offset (C(2026-12-07T12:00:00+00:00)); defaults to now, in UTC;
      - C(reason) - an incident or ticket reference, at most 256 characters on one line.
      - Any other key is refused, naming it (the role's C(file) store keeps more, such as C(restored)).
    type: list
    elements: dict
  instance_ids:
    description:
      - With O(state=absent), the instances (of O(instance_kind)) whose record to remove.
    type: list
    elements: str
  instance_kind:
    description:
      - Which instances the IDs are; V(zec_instance) is a Zenlayer Elastic Compute instance (provider V(zenlayer)).
    type: str
    choices: [instance, zec_instance]
    default: instance
  endpoint:
    description:
      - The API endpoint URL, for example a private endpoint or the local emulator (C(http://127.0.0.1:PORT)).
      - Scheme, host and port only (C(https://host[:port])); a path, query or user name in it is refused.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the endpoint.
      - V(false) lets anyone on the network path read the requests and forge the answers; the module then warns. Use it
        only against a test endpoint.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each HTTP request.
    type: float
    default: 30
  retries:
    description:
      - How many times a request is retried after throttling, an operation in progress or a transient server error.
    type: int
    default: 8
  retry_delay:
    description:
      - Base of the exponential backoff between retries, in seconds (full jitter).
    type: float
    default: 0.5
  retry_max_delay:
    description:
      - The longest wait between two retries, in seconds.
    type: float
    default: 20
  max_concurrency:
    description:
      - How many API calls may run at once.
    type: int
    default: 16
  rate_limit:
    description:
      - The most calls per second of each API action; see the binding modules.
    type: float
notes:
  - Two controllers writing a record on the same instance at the same moment - the last write wins; both records hold the
    groups read before either changed them, since the role writes the record before any change.
  - A write whose answer was lost may or may not have been applied; the task fails saying so, and a second run reads the
    tags first (the record is then RV(kept) or written).
seealso:
  - module: multicloud.secgroup.sg_binding_info
    description: Reads the records back, per instance, in RV(multicloud.secgroup.sg_binding_info#module:instances[].quarantine).
  - module: multicloud.secgroup.sg_binding
'''

EXAMPLES = r'''
- name: Keep the record of an isolation on the instance itself
  multicloud.secgroup.sg_quarantine_record:
    provider: alicloud
    region: cn-hangzhou
    records:
      - instance_id: i-bp67acfmxazb4ph0a001
        security_group_ids: [sg-bp67acfmxazb4ph0w001, sg-bp67acfmxazb4ph0w002]
        network_interfaces:
          - network_interface_id: eni-bp67acfmxazb4ph0e001
            security_group_ids: [sg-bp67acfmxazb4ph0w003]
        quarantine_group_ids: [sg-bp67acfmxazb4ph0q001]
        reason: INC-4711
  register: recorded

- name: The restore is done, remove the record
  multicloud.secgroup.sg_quarantine_record:
    provider: alicloud
    region: cn-hangzhou
    state: absent
    instance_ids: [i-bp67acfmxazb4ph0a001]
'''

RETURN = r'''
records:
  description:
    - The records on the instances after the task (predicted in check mode), in the order asked, one per instance that has one.
    - With O(state=present), the one written, or the one the instance already carried (RV(kept)).
  returned: always
  type: list
  elements: dict
  sample:
    - instance_id: i-bp67acfmxazb4ph0a001
      security_group_ids: [sg-bp67acfmxazb4ph0w001, sg-bp67acfmxazb4ph0w002]
      network_interfaces: []
      quarantine_group_ids: [sg-bp67acfmxazb4ph0q001]
      isolated_at: "2026-12-07T12:00:00+00:00"
      reason: INC-4711
written:
  description: The instances whose record was written (would be, in check mode).
  returned: always
  type: list
  elements: str
kept:
  description: With O(state=present), the instances that already carried a record, kept as it was (the first record wins).
  returned: always
  type: list
  elements: str
removed:
  description: With O(state=absent), the instances whose record tags were removed (would be, in check mode).
  returned: always
  type: list
  elements: str
missing:
  description: The instances not found; nothing is written for them.
  returned: always
  type: list
  elements: str
request_ids:
  description: The request IDs of the tag writes.
  returned: always
  type: list
  elements: str
'''

from ansible_collections.multicloud.secgroup.plugins.module_utils._generic import run_record


def main():
    run_record()


if __name__ == '__main__':
    main()
