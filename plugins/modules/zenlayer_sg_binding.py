#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: zenlayer_sg_binding
short_description: Bind and unbind security groups on Zenlayer Cloud VM instances and Elastic Compute vNICs
version_added: 0.1.0
description:
  - Binds security groups to, or unbinds them from, Zenlayer Cloud VM instances (the C(vm) service of API 2.0), idempotently.
  - With O(network_interface_ids) or O(zec_instance_ids), sets the security group of Zenlayer Elastic Compute (the C(zec) service)
    vNICs instead; see the notes on Elastic Compute. The rest of this description is about VM instances.
  - Reads the instances with C(DescribeInstances), 100 instances a call, plans the change, and writes only what differs.
    Instances that are not found are reported together, by ID, before any write.
  - Checks the security groups to bind with C(DescribeSecurityGroups), 100 a call. Before any write, and in check mode
    too, the task fails naming each instance that would change but is not C(RUNNING) or C(STOPPED) (for example
    C(BOOTING)), and each security group to bind or to unbind that is not C(Available) (the groups to unbind are
    described too, only when there are some); Zenlayer Cloud refuses both. The status is compared without regard to
    case, as the documentation spells it both C(Available) and C(AVAILABLE).
  - Binds and unbinds with C(AssociateSecurityGroupInstance) and C(UnAssociateSecurityGroupInstance), one security group
    on one instance per call, several instances at a time (O(max_concurrency)).
  - An instance has at most 2 security groups at every step. The module orders each instance's binds and unbinds so
    that it never holds more than 2 (a purge from C([A, B]) to C([C, D]) unbinds A, binds C, unbinds B, binds D; from
    C([A]) to C([B]) it binds B before it unbinds A), and refuses a request that would leave an instance with more than
    2, naming it, before any write. The limit of 2 is documented as hard, so O(max_security_groups) above 2 is refused.
  - O(purge=true) with an empty O(security_group_ids) unbinds every group of every listed instance; it is refused before
    any request unless O(allow_no_groups=true).
  - Zenlayer Cloud applies these changes asynchronously and has nothing to poll. The module reads the instances again
    until each shows the changes it made (its groups bound or unbound; other groups and their order do not matter),
    before the next change of the same instance and, with O(wait=true), before it reports what it read, all within
    O(wait_timeout) counted from the first write.
  - A bind answered "already bound" or an unbind answered "not bound" is taken as done on its one instance. A write
    whose answer is lost is never taken at its word nor failed on. The module reads the instances back and decides from
    what they really have.
  - With O(purge=true) the groups an instance keeps stay in place and new ones are added after them; Zenlayer Cloud gives
    the order no meaning.
  - Zenlayer Cloud has no regions for this service; there is no C(region) option.
  - Quarantine (M(multicloud.secgroup.sg_quarantine_record), O(quarantined)) - the tags of vm and zec instances come with
    their C(DescribeInstances) (an answer without the field is read with the resource manager's C(DescribeResourceTags),
    one call per instance). A record is written and removed with the resource manager's C(ModifyResourceTags)
    (C(POST /api/v2/zrm), version 2025-10-14), one call per instance; C(TagBindResources) puts one tag on many
    resources, of no use for records that differ per instance. Keys and values of 1 to 64 characters are documented;
    the characters (letters, digits, spaces and C(_.:/=+-@)) and 20 tags per instance are assumed. A vNIC holds no
    record (its zec instance does). Isolating 100 vm instances with the record in tags takes 1 read, 100 tag writes and
    205 calls for their groups (306; 206 with the record in a file); 100 zec instances with a Secondary vNIC each take
    1 read, 1 C(DescribeNetworkInterfaces), 100 tag writes, 103 and 103 calls for the instances' and the vNICs' groups
    (308; 208 with the record in a file). Restoring costs the same less the interface listing.
  - A zec instance's other interfaces (O(multicloud.secgroup.sg_binding_info#module:interfaces)) are its Secondary vNICs
    (its Primary vNIC is the zec instance itself), with their one group, or none where one has none of its own (it then
    has its VPC's, and cannot be set back to none), read with C(DescribeNetworkInterfaces) filtered by C(nicType=Secondary), 1000
    a call, or one call per instance where the account has more pages of them than instances asked. A vm instance has
    none, as the vm service binds groups to the instance, and its network interfaces have none of their own.
  - Requests are signed with ZC2-HMAC-SHA256 by the module itself; no Zenlayer Cloud SDK is needed.
attributes:
  action_group:
    support: full
    membership:
      - multicloud.secgroup.zenlayer
      - multicloud.secgroup.all
    description: Use C(group/multicloud.secgroup.zenlayer) or C(group/multicloud.secgroup.all) in O(ignore:module_defaults).
extends_documentation_fragment:
  - multicloud.secgroup.common
  - multicloud.secgroup.common.wait
  - multicloud.secgroup.common.no_groups
  - multicloud.secgroup.common.attributes
  - multicloud.secgroup.common.credentials
options:
  instance_ids:
    description:
      - The VM instances (the C(vm) service) to change, for example C("802452345504925912").
      - Exactly one of O(instance_ids), O(network_interface_ids) and O(zec_instance_ids) is required.
    type: list
    elements: str
    required: false
  network_interface_ids:
    description:
      - The Elastic Compute (C(zec)) vNICs to change, primary or not; each has exactly one security group.
      - Exactly one of O(instance_ids), O(network_interface_ids) and O(zec_instance_ids) is required.
      - Results are under RV(network_interfaces), each with C(network_interface_id).
    type: list
    elements: str
    required: false
  zec_instance_ids:
    description:
      - The Elastic Compute (C(zec)) instances to change, through their C(Primary) vNIC (the instance's security group,
        as the Terraform provider's C(security_group_id) of a zec instance); their other vNICs are left alone.
      - Exactly one of O(instance_ids), O(network_interface_ids) and O(zec_instance_ids) is required.
      - Results are under RV(zec_instances), each with C(zec_instance_id).
    type: list
    elements: str
    required: false
  access_key_id:
    description:
      - The AccessKey ID.
      - If not set, the environment variable E(ZENLAYERCLOUD_ACCESS_KEY_ID) is used (as by the Terraform provider).
      - Not needed when the zeno CLI's variables E(ZENLAYER_ACCESS_KEY_ID) and E(ZENLAYER_ACCESS_KEY_SECRET) are set, or
        its C(~/.zenlayer/credentials.json) has the profile (O(profile), E(ZENLAYER_PROFILE), else the CLI's current
        profile); they are tried in that order.
    type: str
  access_key_password:
    description:
      - The AccessKey Password. Never logged or returned.
      - If not set, the environment variable E(ZENLAYERCLOUD_ACCESS_KEY_PASSWORD) is used (as by the Terraform provider).
      - Not needed when another source has the key pair (see O(access_key_id)).
    type: str
notes:
  - B(IDs.) Zenlayer Cloud IDs are strings of 8 to 19 decimal digits, for example C("802452345504925912"); anything else
    is refused before any request. The module never turns them into numbers (18 and 19 digit IDs do not survive a
    floating-point number).
  - B(Quote IDs in YAML.) An unquoted ID is read by YAML as an integer. The module accepts it and uses its digits
    exactly, so C(802452345504925912) works. But YAML reads some digit strings as something else before the module sees
    them. C(01234567012345670) (a leading zero, only digits 0 to 7) is an octal number, so a different ID arrives.
    C(1_234_567_8) loses its underscores. Other tools on the way, such as JSON in JavaScript or C(jq), round
    integers above 2^53. Quoted (C("802452345504925912")), an ID arrives as written.
  - B(Never turn O(validate_certs) off.) The ZC2-HMAC-SHA256 signature covers only the host, the content type and the
    body. The C(X-ZC-Action) header is not signed, so anyone able to change a request in transit could replay a signed
    bind as an unbind. Only TLS with a verified certificate prevents that.
  - B(Assumptions.) Zenlayer Cloud does not document several facts the module depends on; each is kept in one place in
    the module's code (C(INFERRED) in C(plugins/module_utils/_zenlayer.py)). No floor of security groups per instance
    is assumed, so the last one may be unbound (Zenlayer Cloud has the final word; the module binds before it unbinds,
    so only a task that asks for no group at all leaves an instance bare; if Zenlayer Cloud refuses it, the failure
    names the instance that would have been left without any group). No rate limit is published. The
    module starts at 20 calls per second of each action (set O(rate_limit) to change it), slows down for every
    concurrent request when Zenlayer Cloud answers C(REQUEST_LIMIT_EXCEEDED), and speeds up again within seconds. Changes
    are asynchronous, with no bound published, so an accepted change is awaited in C(DescribeInstances) until
    O(wait_timeout) (counted from the first write), and a change that depends on it (the next one on the same
    instance) is sent only once it shows; one that does not show by then fails the task, reported as accepted.
    The answers to a duplicate bind and to an unbind of a group that is not bound are undocumented. An error code that
    says so (one containing C(ALREADY), C(DUPLICATE), C(NOT_ASSOCIATED), C(NOT_BOUND), C(NOT_APPLIED) or
    C(NOT_ATTACHED)) is taken as the instance already being so (each call has one instance), even before the reads
    show it. The authentication error codes are unpublished. Any HTTP 401, and any 403 whose code does not start
    with C(OPERATION_DENIED_), is treated as an authentication failure and not retried.
  - C(REQUEST_LIMIT_EXCEEDED) (HTTP 429) is retried with backoff. C(SERVICE_TEMPORARY_UNAVAILABLE),
    C(INTERNAL_SERVER_ERROR), C(REQUEST_TIMED_OUT) and other HTTP 5xx answers are retried for reads. For writes,
    the module reads the instances back first. C(OPERATION_DENIED_INSTANCE_STATUS) (an instance between states) is
    retried with backoff. Every other error is reported with Zenlayer Cloud's code, message, request ID and HTTP status.
  - The requests go to C(https://console.zenlayer.com/api/v2/vm) with API version C(2023-03-13); O(endpoint) replaces
    the scheme and host.
  - B(Elastic Compute (zec).) Zenlayer's current compute product has no bind or unbind call. Each vNIC has exactly one
    security group, set with C(ModifyNetworkInterfaceAttribute{nicId, securityGroupId}), which replaces the one it
    had (a switch; the same group again is a documented success). So with O(network_interface_ids) or O(zec_instance_ids) a target
    has exactly one group. O(state=present) with O(purge=true) and one group is the switch, one call per vNIC that
    differs. O(state=present) without O(purge) binds the group only onto a vNIC that has no group of its own, and is
    refused, naming the vNIC, before any write when the vNIC has another group (there is no second slot; switch it with
    O(purge=true)). O(state=absent) of the group a vNIC has is refused before any write, explaining there is no unbind
    (switch it instead); of a group it does not have, it changes nothing. Two or more groups, and
    O(max_security_groups) above 1, are refused. A vNIC created without a group inherits its VPC's default group; it
    reads as having none of its own (C(sg_binding_info) shows the VPC's default group as
    C(vpc_default_security_group_id)). The requests go to C(https://console.zenlayer.com/api/v2/zec) with API version
    C(2025-09-01), signed the same way. It reads with C(DescribeNetworkInterfaces) (100 vNICs a call), C(DescribeInstances) for
    O(zec_instance_ids), C(DescribeSecurityGroups) for the groups to set. A switch is handled like the vm writes, it is
    awaited in the reads until O(wait_timeout). C(INVALID_NIC_NOT_FOUND) and C(INVALID_SECURITY_GROUP_NOT_FOUND) are
    reported as not found; C(INVALID_NIC_STATUS) is a refusal, not retried.
  - B(Why options, not a module of their own.) The vNICs are reached with the same credentials, endpoint, signature and
    C(module_defaults) group as the VM instances, and the collection names a module after a cloud, not after one of its
    services. O(network_interface_ids) has the name the other clouds' modules, M(multicloud.secgroup.sg_binding) and the
    C(sg_bindings) role give network interfaces, so one inventory entry means the same on every cloud (Zenlayer calls
    them C(nicId)). O(zec_instance_ids) is separate from O(instance_ids) because the two services' instances are
    different resources, and a VM instance binds up to 2 groups where a zec instance has one.
  - B(Elastic Compute assumptions) (in C(INFERRED)). The format of zec IDs is not documented (letters, digits, C(-) and
    C(_) are accepted, up to 64); nor which vNIC states refuse a switch (the module leaves that to Zenlayer Cloud's
    C(INVALID_NIC_STATUS)); nor the largest C(pageSize) of C(DescribeNetworkInterfaces) (1000 assumed, as for the vm
    calls; a smaller cap is followed page by page).
seealso:
  - name: ModifyNetworkInterfaceAttribute
    description: Zenlayer Cloud API documentation (Elastic Compute).
    link: https://docs.console.zenlayer.com/api-reference/compute/zec/network-interface/modifynetworkinterfaceattribute
  - name: AssociateSecurityGroupInstance
    description: Zenlayer Cloud API documentation.
    link: https://docs.console.zenlayer.com/api-reference/compute/vm/security-group/associatesecuritygroupinstance
  - name: Signature method ZC2-HMAC-SHA256
    description: Zenlayer Cloud API documentation.
    link: https://docs.console.zenlayer.com/api-reference/api-introduction/instruction/signature
author:
  - multicloud.secgroup developers (@multicloud-secgroup)
'''

EXAMPLES = r'''
- name: A fleet from a stale inventory - change the others, list what was left out
  multicloud.secgroup.zenlayer_sg_binding:
    instance_ids: "{{ fleet_instance_ids }}"
    security_group_ids: ["791721259766392536"]
    on_missing: skip      # deleted instances: listed in missing_instance_ids, with a warning
    on_refused: skip      # STOPPING, BOOTING, ...: listed in refused_instance_ids, with a warning

- name: Bind the web security group to two instances (other groups stay)
  multicloud.secgroup.zenlayer_sg_binding:
    instance_ids: ["802452345504925912", "802452345504925913"]
    security_group_ids: ["791721259766392536"]

- name: Make these the only groups of an instance (never more than 2 on the way)
  multicloud.secgroup.zenlayer_sg_binding:
    instance_ids: ["802452345504925912"]
    security_group_ids: ["791721259766392537", "791721259766392538"]
    purge: true

- name: Unbind a security group
  multicloud.secgroup.zenlayer_sg_binding:
    instance_ids: ["802452345504925912"]
    security_group_ids: ["791721259766392537"]
    state: absent

- name: Switch the security group of two Elastic Compute vNICs (one group per vNIC)
  multicloud.secgroup.zenlayer_sg_binding:
    network_interface_ids: [nic-5Cw7dYpo, nic-6Dx8eZqp]
    security_group_ids: ["791721259766392537"]
    purge: true

- name: Switch the security group of an Elastic Compute instance (its Primary vNIC)
  multicloud.secgroup.zenlayer_sg_binding:
    zec_instance_ids: ["1376547826181738497"]
    security_group_ids: ["791721259766392537"]
    purge: true

- name: Credentials once for every task of the group
  module_defaults:
    group/multicloud.secgroup.zenlayer:
      access_key_id: "{{ vault_zenlayer_access_key_id }}"
      access_key_password: "{{ vault_zenlayer_access_key_password }}"
  block:
    - name: Preview the change without making it
      multicloud.secgroup.zenlayer_sg_binding:
        instance_ids: "{{ groups['web'] | map('extract', hostvars, 'zenlayer_instance_id') | map('string') | list }}"
        security_group_ids: ["791721259766392536"]
      check_mode: true
      diff: true
      register: preview
'''

RETURN = r'''
network_interfaces:
  type: list
  elements: dict
  returned: with O(network_interface_ids), on success, and on failure once the vNICs have been read
  description:
    - One item per vNIC in O(network_interface_ids), in the same order, except those skipped (O(on_missing)); on
      failure, what each vNIC really has. Its keys are those of RV(instances), with C(network_interface_id) for
      C(instance_id); each list has at most one group (none for a vNIC that inherits its VPC's).
zec_instances:
  type: list
  elements: dict
  returned: with O(zec_instance_ids), on success, and on failure once the instances have been read
  description:
    - One item per zec instance in O(zec_instance_ids), in the same order, except those skipped (O(on_missing)), with the
      group of its Primary vNIC. Its keys are those of RV(instances), with C(zec_instance_id) for C(instance_id).
instances:
  type: list
  elements: dict
  returned: with O(instance_ids), on success, and on failure once the instances have been read
  description:
    - One item per instance in O(instance_ids), in the same order, except those skipped (O(on_missing), O(on_refused)).
    - On failure, what each instance really has.
  contains:
    instance_id:
      type: str
      description: The instance ID, as a string.
      sample: "802452345504925912"
    before:
      type: list
      elements: str
      description: The security groups before the task.
      sample: ["791721259766392536"]
    after:
      type: list
      elements: str
      description:
        - The security groups after the task, read back; in check mode, or with O(wait=false), the planned ones.
      sample: ["791721259766392536", "791721259766392537"]
    added:
      type: list
      elements: str
      description: The security groups in RV(instances[].after) that were not in RV(instances[].before).
      sample: ["791721259766392537"]
    removed:
      type: list
      elements: str
      description: The security groups in RV(instances[].before) that are not in RV(instances[].after).
      sample: []
operations:
  type: list
  elements: dict
  returned: always
  description:
    - The API calls made (or, in check mode, that would be made), in order; calls on different instances may have run
      at the same time.
    - V(bind) and V(unbind) stand for C(AssociateSecurityGroupInstance) and C(UnAssociateSecurityGroupInstance).
    - For zec targets, V(set) (and V(bind) onto a vNIC without a group of its own) stands for
      C(ModifyNetworkInterfaceAttribute), one vNIC a call, listed under C(network_interface_ids) or C(zec_instance_ids).
  sample: [{action: bind, security_group_ids: ["791721259766392537"], instance_ids: ["802452345504925912"]}]
request_ids:
  type: list
  elements: str
  returned: always
  description: The C(requestId) of every write call that was answered with success.
  sample: [T1B80EBC3-7C55-48CC-910C-345D79B795DB]
diff:
  type: dict
  returned: when diff mode is on
  description: The security groups of each instance before and after, keyed by instance ID.
  sample: {before: {"802452345504925912": ["791721259766392536"]},
           after: {"802452345504925912": ["791721259766392536", "791721259766392537"]}}
error:
  type: dict
  returned: on failure
  description: The failed API call, when the failure came from Zenlayer Cloud.
  contains:
    provider:
      type: str
      description: Always V(zenlayer).
    action:
      type: str
      description:
        - The API call that failed, one of V(DescribeInstances), V(DescribeSecurityGroups),
          V(AssociateSecurityGroupInstance), V(UnAssociateSecurityGroupInstance); for zec targets also
          V(DescribeNetworkInterfaces), V(ModifyNetworkInterfaceAttribute).
      sample: AssociateSecurityGroupInstance
    code:
      type: str
      description:
        - Zenlayer Cloud's error code; C(HTTP<status>) when the answer had none; C(MalformedResponse) for an answer
          without the expected fields; C(ConnectionError) or C(Timeout) for network failures.
      sample: OPERATION_DENIED_INSTANCE_NOT_SUPPORT_SECURITY_GROUP
    message:
      type: str
      description: Zenlayer Cloud's error message.
    request_id:
      type: str
      description: The C(requestId) of the failed call, for Zenlayer Cloud support.
    http_status:
      type: int
      description: The HTTP status of the answer.
      sample: 403
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
    - The instances that were not found (C(missing_network_interface_ids), C(missing_zec_instance_ids) for the zec
      options).
    - With O(on_missing=skip), the instances left out; they are in no other result.
  returned: when instances were not found, and always with O(on_missing=skip)
  type: list
  elements: str
missing_security_group_ids:
  type: list
  elements: str
  returned: when security groups were not found
  description: The security groups to bind that were not found.
refused_instance_ids:
  type: list
  elements: str
  returned: when such instances were found, and always with O(on_refused=skip)
  description:
    - The instances whose change Zenlayer Cloud is known to refuse, each named in the message with the reason (not
      C(RUNNING) or C(STOPPED), or a security group to bind that is not C(Available)).
    - With O(on_refused=skip), the instances left out (each named with its reason in a warning); they are in no other
      result.
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
from ansible_collections.multicloud.secgroup.plugins.module_utils._zenlayer import ZenlayerCloud


def main():
    run_module(ZenlayerCloud)


if __name__ == '__main__':
    main()
