#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: tencentcloud_sg_binding
short_description: Bind and unbind security groups on Tencent Cloud CVM instances and elastic network interfaces
version_added: 0.1.0
description:
  - Binds security groups to, or unbinds them from, Tencent Cloud CVM instances (O(instance_ids)) or secondary elastic
    network interfaces (ENIs, O(network_interface_ids)), idempotently. A task takes one kind of target, so exactly one of
    O(instance_ids) and O(network_interface_ids) is set. The rest of this description is about instances, up to the
    paragraphs on network interfaces.
  - Reads every instance's security groups with C(DescribeInstances) (100 instances a call), plans the change, and
    writes only what differs.
  - Binds and unbinds with C(AssociateSecurityGroups) and C(DisassociateSecurityGroups), one security group and up to
    100 instances per call, grouping every instance that needs the same change.
  - With O(purge=true) and a non-empty O(security_group_ids), sets each instance's exact list, in the given order, with
    C(ModifyInstancesAttribute), up to 100 instances with the same list per call. With O(purge=true) and an empty list,
    which that call cannot express, each group is unbound with C(DisassociateSecurityGroups). On Tencent Cloud the order
    of an instance's security groups is their priority. A security group bound with O(purge=false) goes last, at the
    lowest priority.
  - Binding several groups with O(purge=false) takes one C(AssociateSecurityGroups) per group, each waiting for the
    previous one to complete on the same instances (150 instances and 4 groups - 6.8 s and 26 calls against the
    emulator, where O(purge=true) with the full list takes 1.8 s and 8 calls). The module does not switch to
    C(ModifyInstancesAttribute) by itself, because that call replaces the whole list and would undo a change someone
    else made between the module's read and its write. When the instances' full list is known, O(purge=true) is the
    fast way.
  - Tencent Cloud applies these changes asynchronously. With O(wait=true) the module polls C(DescribeInstances) (0.5 s,
    then 1, 2, 4 and every 5 s, the last poll at O(wait_timeout) itself) until no instance shows C(OPERATING) and each
    shows either its latest operation as the module's own write, or another operation than the one it showed before
    that write (the module's write completed, and someone else's came after it), or already the planned list; then it
    reports what it read back. If another client changed an instance meanwhile, the module plans again from what it read.
  - A C(FAILED) operation fails the task with Tencent Cloud's error message only when it is provably the module's own
    write (its C(LatestOperationRequestId) is the RequestId of that write); the module still waits for the other
    instances' operations, within O(wait_timeout), and reports what they have. An older or someone else's failed
    operation (say a C(StopInstances) that failed last week) is not taken for the module's; after a write whose answer
    was lost, the module decides from the security groups the instance shows and sends only what is still missing,
    once the instance shows an operation after that write or 10 seconds have passed (C(DescribeInstances) may show
    the operation state from before a write for a while; the Terraform provider waits 10 seconds too).
  - An instance that would change but is busy, because another operation is in progress on it (C(LatestOperationState)
    C(OPERATING), say a C(StopInstances) of someone else) or because it is in a state that ends on its own (C(PENDING),
    C(STARTING), C(STOPPING), C(REBOOTING)), is awaited before any write, polling C(DescribeInstances) as above for at most
    O(wait_timeout) (also with O(wait=false), since the write cannot be made before), and the change is then planned from the
    security groups it has. Instances that need no change are not awaited. Check mode waits the same way (it only reads),
    so it plans what a real run would. This wait and the writes that follow share the one O(wait_timeout).
  - An instance that is still busy when O(wait_timeout) runs out, or that would change but whose C(InstanceState) cannot
    take the change and does not end on its own (C(SHUTDOWN), C(TERMINATING), and the rescue-mode and live-migration
    states), is refused before any write, in check mode too, and the task fails naming each such instance and its state
    or operation, because the write calls are all-or-nothing, so one such instance would make Tencent Cloud refuse the change
    for every instance in its call. Tencent Cloud documents this refusal (C(UnsupportedOperation.InstanceState...)) for
    C(ModifyInstancesAttribute), and for C(AssociateSecurityGroups) only for C(PENDING); that it applies to the other states
    of C(AssociateSecurityGroups) and C(DisassociateSecurityGroups) is inferred, and so is that the four awaited states end
    within minutes. Run the task again once the instances are C(RUNNING) or C(STOPPED).
  - If a write is still answered C(MutexOperation.TaskRunning) (or another "operation in progress" code) because someone
    started an operation after the module's read, the module reads the instances of that call once to find the busy ones,
    waits for them within O(wait_timeout), and sends the write again; if they are still busy then, the task fails naming
    each busy instance with its state or operation. Only when no instance of the call shows why is the write sent again
    after a backoff pause, at most O(retries) times.
  - Whether the security groups to bind exist is checked with C(DescribeSecurityGroups) (100 a call, concurrently). A
    C(ResourceNotFound) answer does not say which is missing; the module halves such a call and asks both halves
    again, concurrently, until it knows each missing ID.
  - Instance IDs look like C(ins-xxxxxxxx) and security group IDs like C(sg-xxxxxxxx) (8 lower-case letters or digits);
    anything else is refused before any request. An instance can have at most 5 security groups (the default quota;
    set O(max_security_groups) if yours was raised).
  - Network interfaces are read with the VPC API's C(DescribeNetworkInterfaces) (100 a call), bound and unbound with
    C(AssociateNetworkInterfaceSecurityGroups) and C(DisassociateNetworkInterfaceSecurityGroups) (one group and up to
    100 network interfaces a call), and, with O(purge=true), set to the exact ordered list with
    C(ModifyNetworkInterfaceAttribute) (one network interface a call), unless the binds and unbinds reach every list, in
    order, in fewer calls (a purge that only unbinds takes ceil(N/100) calls, not N). These calls go to the VPC host
    (O(vpc_endpoint)). The order of a network interface's groups is their priority, as for instances.
  - A primary network interface is refused before any write, naming its instance (its security groups are the
    instance's, which the network-interface calls do not change); use O(instance_ids) for it. A network interface that
    would change while C(PENDING), C(ATTACHING) or C(DETACHING) is awaited within O(wait_timeout); one in any other
    state than C(AVAILABLE) or C(INUSE) (C(DELETING)) is refused before any write.
  - Inferred, not documented by Tencent Cloud (kept in C(ENI_INFERRED) of the module utilities) - the network-interface
    calls answer without a task to poll, and whether C(DescribeNetworkInterfaces) shows the change at once is not said,
    so with O(wait=true) the module re-reads until each network interface shows the module's writes (within
    O(wait_timeout)); a network interface can have 5 security groups (the instance quota; set O(max_security_groups) if
    yours differs); groups change only in the states above; C(DescribeNetworkInterfaces) and
    C(ModifyNetworkInterfaceAttribute) allow 20 calls a second, as the two other calls document. Security groups are
    not tied to a VPC on Tencent Cloud, so there is no VPC check.
  - Requests are signed with TC3-HMAC-SHA256 by the module itself; no Tencent Cloud SDK is needed.
author:
  - multicloud.secgroup developers (@multicloud-secgroup)
extends_documentation_fragment:
  - multicloud.secgroup.common
  - multicloud.secgroup.common.wait
  - multicloud.secgroup.common.no_groups
  - multicloud.secgroup.common.attributes
  - multicloud.secgroup.common.credentials
attributes:
  action_group:
    support: full
    membership:
      - multicloud.secgroup.tencentcloud
      - multicloud.secgroup.all
    description: Use C(group/multicloud.secgroup.tencentcloud) or C(group/multicloud.secgroup.all) in O(ignore:module_defaults).
options:
  instance_ids:
    description:
      - The CVM instances to change, for example C(ins-2zvpghhc).
      - Exactly one of O(instance_ids) and O(network_interface_ids) is required.
      - An instance's security groups are those of its primary network interface.
    type: list
    elements: str
    required: false
  network_interface_ids:
    description:
      - The secondary elastic network interfaces to change, for example C(eni-pxir56ns) (C(eni-) and 8 lower-case letters
        or digits).
      - Exactly one of O(instance_ids) and O(network_interface_ids) is required.
      - A primary network interface is refused before any write; change its instance through O(instance_ids).
    type: list
    elements: str
    required: false
  secret_id:
    description:
      - The SecretId of the API key.
      - If not set, the environment variable E(TENCENTCLOUD_SECRET_ID) is used.
      - Without it (and its environment variable), the other credential sources are tried; see the notes.
    type: str
  secret_key:
    description:
      - The SecretKey of the API key. Never logged or returned.
      - If not set, the environment variable E(TENCENTCLOUD_SECRET_KEY) is used.
    type: str
  security_token:
    description:
      - The token of temporary (STS or CVM role) credentials. Never logged or returned.
      - If not set, the environment variable E(TENCENTCLOUD_SECURITY_TOKEN) is used, then E(TENCENTCLOUD_TOKEN).
    type: str
  region:
    description:
      - The region of the instances, for example C(ap-guangzhou).
      - The default endpoints are C(https://cvm.<region>.tencentcloudapi.com) and
        C(https://vpc.<region>.tencentcloudapi.com); O(endpoint) replaces both, and O(vpc_endpoint) the second.
      - If not set, the environment variable E(TENCENTCLOUD_REGION) is used.
    type: str
    required: true
  vpc_endpoint:
    description:
      - The endpoint URL of the VPC product, which answers C(DescribeSecurityGroups) (the existence check of the
        security groups to bind) and every network-interface call; O(endpoint) is the CVM product's, which answers the
        instance calls.
      - Set it with O(endpoint) when that names a CVM-only host, for example C(https://cvm.intl.tencentcloudapi.com)
        with C(https://vpc.intl.tencentcloudapi.com), or an internal endpoint of each product.
      - When O(endpoint) names a C(cvm.) host and this is not set, the module warns, naming the C(vpc.) host to set.
      - Defaults to O(endpoint) when that is set (one host serving both products, such as the local emulator), else to
        C(https://vpc.<region>.tencentcloudapi.com).
    type: str
seealso:
  - name: AssociateSecurityGroups
    description: Tencent Cloud API documentation.
    link: https://www.tencentcloud.com/document/api/213/33265
  - name: DisassociateSecurityGroups
    description: Tencent Cloud API documentation.
    link: https://www.tencentcloud.com/document/api/213/33253
  - name: AssociateNetworkInterfaceSecurityGroups
    description: Tencent Cloud API documentation.
    link: https://www.tencentcloud.com/document/api/215/36090
  - name: DisassociateNetworkInterfaceSecurityGroups
    description: Tencent Cloud API documentation.
    link: https://www.tencentcloud.com/document/api/215/36089
'''

EXAMPLES = r'''
- name: A fleet from a stale inventory - change the others, list what was left out
  multicloud.secgroup.tencentcloud_sg_binding:
    region: ap-guangzhou
    instance_ids: "{{ fleet_instance_ids }}"
    security_group_ids: [sg-9id3l839]
    on_missing: skip      # terminated instances: listed in missing_instance_ids, with a warning
    on_refused: skip      # STOPPING, PENDING, ...: listed in refused_instance_ids, with a warning
  register: fleet

- name: Bind the web security group to two instances (other groups stay)
  multicloud.secgroup.tencentcloud_sg_binding:
    region: ap-guangzhou
    instance_ids: [ins-2zvpghhc, ins-915zrb0p]
    security_group_ids: [sg-9id3l839]

- name: Make these the only groups, web first (highest priority)
  multicloud.secgroup.tencentcloud_sg_binding:
    region: ap-guangzhou
    instance_ids: [ins-2zvpghhc]
    security_group_ids: [sg-9id3l839, sg-5275dorp]
    purge: true

- name: Unbind a security group
  multicloud.secgroup.tencentcloud_sg_binding:
    region: ap-guangzhou
    instance_ids: [ins-2zvpghhc]
    security_group_ids: [sg-5275dorp]
    state: absent

- name: Make these the only groups of two secondary network interfaces, web first
  multicloud.secgroup.tencentcloud_sg_binding:
    region: ap-guangzhou
    network_interface_ids: [eni-pxir56ns, eni-5k56k7k7]
    security_group_ids: [sg-9id3l839, sg-5275dorp]
    purge: true

- name: Through the international-site hosts (one per product)
  multicloud.secgroup.tencentcloud_sg_binding:
    region: ap-singapore
    endpoint: https://cvm.intl.tencentcloudapi.com
    vpc_endpoint: https://vpc.intl.tencentcloudapi.com
    instance_ids: [ins-2zvpghhc]
    security_group_ids: [sg-9id3l839]

- name: Credentials once for every task of the group
  module_defaults:
    group/multicloud.secgroup.tencentcloud:
      secret_id: "{{ vault_tencent_secret_id }}"
      secret_key: "{{ vault_tencent_secret_key }}"
      region: ap-singapore
  block:
    - name: Preview the change without making it
      multicloud.secgroup.tencentcloud_sg_binding:
        instance_ids: "{{ groups['web'] | map('extract', hostvars, 'instance_id') | list }}"
        security_group_ids: [sg-9id3l839]
      check_mode: true
      diff: true
      register: preview
'''

RETURN = r'''
instances:
  description:
    - One item per instance in O(instance_ids), in the same order, except those skipped (O(on_missing), O(on_refused)).
    - On failure, what each instance really has.
  returned: with O(instance_ids), on success, and on failure once the instances have been read
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance ID.
      type: str
      sample: ins-2zvpghhc
    before:
      description: The security groups before the task, in priority order.
      type: list
      elements: str
      sample: [sg-5275dorp]
    after:
      description: The security groups after the task (read back), or predicted in check mode, in priority order.
      type: list
      elements: str
      sample: [sg-5275dorp, sg-9id3l839]
    added:
      description: The security groups in RV(instances[].after) that were not in RV(instances[].before).
      type: list
      elements: str
      sample: [sg-9id3l839]
    removed:
      description: The security groups in RV(instances[].before) that are not in RV(instances[].after).
      type: list
      elements: str
      sample: []
network_interfaces:
  description:
    - One item per network interface in O(network_interface_ids), in the same order, except those skipped (O(on_missing),
      O(on_refused)), with the same keys as RV(instances), keyed by C(network_interface_id) instead of C(instance_id).
    - On failure, what each network interface really has.
  returned: with O(network_interface_ids), on success, and on failure once the network interfaces have been read
  type: list
  elements: dict
  sample: [{network_interface_id: eni-pxir56ns, before: [sg-5275dorp], after: [sg-5275dorp, sg-9id3l839],
            added: [sg-9id3l839], removed: []}]
operations:
  description:
    - The write calls made (or, in check mode, that would be made), in the order sent; a write whose answer was lost
      but which the instances show applied is included.
    - V(bind), V(unbind) and V(set) stand for C(AssociateSecurityGroups), C(DisassociateSecurityGroups) and
      C(ModifyInstancesAttribute).
  returned: always
  type: list
  elements: dict
  sample: [{action: bind, security_group_ids: [sg-9id3l839], instance_ids: [ins-2zvpghhc, ins-915zrb0p]}]
request_ids:
  description: The RequestId of every write call that succeeded, in order.
  returned: always
  type: list
  elements: str
  sample: [6ef60bec-0242-43af-bb20-270359fb54a7]
diff:
  description: The security groups of each instance before and after, keyed by instance ID.
  returned: when diff mode is on
  type: dict
  sample: {before: {ins-2zvpghhc: [sg-5275dorp]}, after: {ins-2zvpghhc: [sg-5275dorp, sg-9id3l839]}}
error:
  description: The failed API call, when the failure came from Tencent Cloud.
  returned: on failure
  type: dict
  contains:
    provider:
      description: Always V(tencentcloud).
      type: str
    action:
      description: The API action that failed.
      type: str
      sample: AssociateSecurityGroups
    code:
      description: Tencent Cloud's error code.
      type: str
      sample: LimitExceeded.AssociateUSGLimitExceeded
    message:
      description: Tencent Cloud's error message.
      type: str
    request_id:
      description: The RequestId of the failed call, for Tencent Cloud support.
      type: str
    http_status:
      description: The HTTP status of the answer (Tencent Cloud answers errors with 200).
      type: int
interrupted:
  description: V(true) when SIGINT (Ctrl-C) or SIGTERM stopped the task; C(msg) names the signal.
  returned: when a signal stopped the task
  type: bool
  sample: true
unknown_operations:
  description:
    - When a signal stopped the task, the writes sent whose answer had not come within the 3 seconds awaited, in the
      form of RV(operations). The cloud may still apply them.
  returned: when a signal stopped the task
  type: list
  elements: dict
  sample: []
missing_instance_ids:
  description:
    - The instances that were not found.
    - With O(on_missing=skip), the instances left out; they are in no other result.
  returned: when instances were not found, and always with O(on_missing=skip)
  type: list
  elements: str
missing_network_interface_ids:
  description:
    - The network interfaces that were not found.
    - With O(on_missing=skip), the network interfaces left out; they are in no other result.
  returned: when network interfaces were not found, and always with O(on_missing=skip) and O(network_interface_ids)
  type: list
  elements: str
missing_security_group_ids:
  description: The security groups to bind that were not found.
  returned: when security groups were not found
  type: list
  elements: str
refused_instance_ids:
  description:
    - The instances that would change but whose C(InstanceState) cannot take the change, or that were still busy
      when O(wait_timeout) ran out (see the description).
    - With O(on_refused=skip), the instances left out (each named with its reason in a warning); they are in no other
      result.
  returned: when such instances were found, and always with O(on_refused=skip)
  type: list
  elements: str
refused_network_interface_ids:
  description:
    - The network interfaces refused before any write - a primary network interface, or one that would change in a state
      other than C(AVAILABLE) or C(INUSE) (still C(PENDING), C(ATTACHING) or C(DETACHING) when O(wait_timeout) ran out).
    - With O(on_refused=skip), the network interfaces left out (each named with its reason in a warning); they are in no
      other result.
  returned: when such network interfaces were found, and always with O(on_refused=skip) and O(network_interface_ids)
  type: list
  elements: str
quarantined:
  description:
    - With O(quarantined=skip), the targets left as they are because they are under quarantine (an instance whose tags carry an
      active quarantine record, or a network interface whose instance's tags do), named in one warning; they are in no other
      result.
  returned: always
  type: list
  elements: str
  sample: []
'''

from ansible_collections.multicloud.secgroup.plugins.module_utils._engine import run_module
from ansible_collections.multicloud.secgroup.plugins.module_utils._tencentcloud import TencentCloud


def main():
    run_module(TencentCloud)


if __name__ == '__main__':
    main()
