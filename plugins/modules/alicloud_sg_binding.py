#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: alicloud_sg_binding
short_description: Bind and unbind security groups on Alibaba Cloud ECS instances and elastic network interfaces
version_added: 0.1.0
description:
  - Binds security groups to, or unbinds them from, Alibaba Cloud ECS instances (O(instance_ids)) or secondary elastic
    network interfaces (ENIs, O(network_interface_ids)), idempotently. A task takes one kind of target, so exactly one of
    O(instance_ids) and O(network_interface_ids) is set.
  - Reads the instances with C(DescribeInstances) (up to 100 IDs a call, in its JSON-array C(InstanceIds)) or the ENIs
    with C(DescribeNetworkInterfaces) (up to 100 C(NetworkInterfaceId.N) a call), with token paging (C(MaxResults=100),
    then C(NextToken) while a page came back shorter than asked, so a cloud that caps the page size still gives every
    target), plans the change, and writes only what differs. Targets that are not found are reported together, by ID, before any write.
  - Checks the security groups to bind with C(DescribeSecurityGroups) (their existence, VPC and type), and refuses before
    any write, naming each target, a group in another VPC than its target, a target that would have both C(normal)
    and C(enterprise) (advanced) security groups, a target in a state that allows no change and does not end on its
    own, and a primary ENI (its security groups are its instance's, to be changed with O(instance_ids)).
  - Groups change only while an instance is C(Running) or C(Stopped) and an ENI C(Available) or C(InUse) (and the
    instance it is attached to C(Running) or C(Stopped)). A target, or an ENI's instance, in a state that ends on its
    own (C(Pending), C(Starting), C(Stopping); an ENI C(Attaching) or C(Detaching)) is waited for before any write,
    polling its status, within O(wait_timeout) (which the writes that follow share), and the change is then planned from
    the security groups it has. Check mode waits the same way (it only reads), so it plans what a real run would. If
    the wait runs out, the target is refused before any write, naming it and its state. Any other state is refused at
    once.
  - An instance in the classic network (no VPC) cannot take O(purge=true), because C(ModifyInstanceAttribute) refuses to
    change its security groups (C(InvalidNetworkType.NotSupported)), so the task is refused before any write, in check
    mode too. C(JoinSecurityGroup) and C(LeaveSecurityGroup) work there, so bind the wanted groups without O(purge),
    then unbind the others with O(state=absent).
  - Binds with C(JoinSecurityGroup) and unbinds with C(LeaveSecurityGroup), one security group on one target per call,
    several targets at a time (O(max_concurrency)). C(JoinSecurityGroup) is the operation this module was specified
    from; Alibaba Cloud's documentation now recommends the C(Modify*Attribute) calls below over it.
  - With O(purge=true) each target's whole list is replaced in one atomic call, C(ModifyInstanceAttribute) with
    C(SecurityGroupIds.N) for an instance, C(ModifyNetworkInterfaceAttribute) with C(SecurityGroupId.N) for an ENI, in
    the order given. One call cannot leave a target between two states, so swapping every group of a target with
    5 groups, or the only group of a target with 1, never passes through 6 or 0 groups, as leaving before joining
    would (C(InstanceLastSecurityGroup)).
  - A target keeps between 1 and 5 security groups (the default quota; O(max_security_groups) when yours is raised).
    A request that would leave a target outside these bounds, such as unbinding its last group, is refused before any
    write. The order of a target's security groups has no meaning on Alibaba Cloud.
  - Changes take effect shortly after Alibaba Cloud answers. The module reads the targets again until each shows the
    changes it made (its groups joined or left, or the list it set, in any order; other groups do not matter), before
    the next change of the same target and, with O(wait=true) (the default), before it reports what it read, all within
    O(wait_timeout) (see there).
  - Instance IDs look like C(i-xxxxxxxx), ENI IDs like C(eni-xxxxxxxx) and security group IDs like C(sg-xxxxxxxx), with 8
    to 30 lower-case letters or digits; anything else is refused before any request.
  - Requests are signed with ACS3-HMAC-SHA256 (signature V3) by the module itself and sent over HTTPS to
    C(ecs.<region>.aliyuncs.com) (for C(cn-hangzhou) and a few other regions, the host the official SDK uses, such as
    C(ecs-cn-hangzhou.aliyuncs.com)); no Alibaba Cloud SDK is needed.
author:
  - multicloud.secgroup developers (@multicloud-secgroup)
extends_documentation_fragment:
  - multicloud.secgroup.common
  - multicloud.secgroup.common.wait
  - multicloud.secgroup.common.attributes
  - multicloud.secgroup.common.credentials
attributes:
  action_group:
    support: full
    membership:
      - multicloud.secgroup.alicloud
      - multicloud.secgroup.all
    description: Use C(group/multicloud.secgroup.alicloud) or C(group/multicloud.secgroup.all) in O(ignore:module_defaults).
options:
  instance_ids:
    description:
      - The ECS instances to change, for example C(i-bp67acfmxazb4ph1abcd).
      - Exactly one of O(instance_ids) and O(network_interface_ids) is required.
      - An instance's security groups are those of its primary network interface.
    type: list
    elements: str
    required: false
  network_interface_ids:
    description:
      - The secondary elastic network interfaces to change, for example C(eni-bp13kd656hxambfe0abc).
      - Exactly one of O(instance_ids) and O(network_interface_ids) is required.
      - A primary network interface is refused before any write; change its instance through O(instance_ids).
    type: list
    elements: str
    required: false
  access_key:
    description:
      - The AccessKey ID.
      - If not set, the environment variable E(ALICLOUD_ACCESS_KEY) is used, then E(ALIBABA_CLOUD_ACCESS_KEY_ID).
      - O(access_key_id) is another name for it (the Alibaba Cloud SDK's).
      - Not needed when another source has credentials (O(profile), O(instance_role); see the notes on credentials).
        Without the key pair, the aliyun CLI's C(~/.aliyun/config.json), then C(~/.alibabacloud/credentials.ini), then
        the ECS RAM role (when O(instance_role) or E(ALIBABA_CLOUD_ECS_METADATA) names one) are tried, in that order.
    type: str
    aliases: [access_key_id]
  secret_key:
    description:
      - The AccessKey secret. Never logged or returned.
      - If not set, the environment variable E(ALICLOUD_SECRET_KEY) is used, then E(ALIBABA_CLOUD_ACCESS_KEY_SECRET).
      - O(access_key_secret) is another name for it (the Alibaba Cloud SDK's).
      - Not needed when another source has credentials (see O(access_key)).
    type: str
    aliases: [access_key_secret]
  security_token:
    description:
      - The security token of temporary (STS) credentials, sent as the signed C(x-acs-security-token) header. Never
        logged or returned.
      - If not set, the environment variable E(ALICLOUD_SECURITY_TOKEN) is used, then E(ALIBABA_CLOUD_SECURITY_TOKEN).
    type: str
  region:
    description:
      - The region of the targets, for example C(cn-hangzhou), C(cn-beijing) or C(ap-southeast-1).
      - The default endpoint is C(https://ecs.<region>.aliyuncs.com), or the host the official SDK maps the region to;
        O(endpoint) replaces it.
      - If not set, the environment variable E(ALICLOUD_REGION) is used, then E(ALIBABA_CLOUD_REGION_ID).
    type: str
    required: true
notes:
  - A target that C(DescribeInstances) or C(DescribeNetworkInterfaces) does not return is reported as not found. Alibaba
    Cloud gives the same empty answer to a RAM user who lacks the permission to describe it.
  - Throttling codes (any C(Throttling*)) are retried with backoff, after at least the C(x-acs-retry-after) seconds the
    answer asks for; so are server errors on reads, and C(IncorrectInstanceStatus), C(OperationConflict) and the other
    "in progress" codes. Authentication, quota and request errors are reported at once, with Alibaba Cloud's code,
    message and request ID.
  - C(InvalidInstanceId.AlreadyExists) on a bind and C(InvalidSecurityGroupAssociation.NotFound) or
    C(InstanceNotInSecurityGroup) on an unbind say that the target already is so (an earlier answer was lost, a change
    showed late, or something else changed the target). Each call has one target, so the module takes the answer as
    done for that target, even before the Describe calls show it, and says so in a warning.
  - "Assumptions (the reference marks them as inferred or unverified): Alibaba Cloud publishes no rate limit for these
    calls, so each action starts at 20 calls per second (O(rate_limit) changes it) and slows down when throttled;
    a bind of a group an ENI already has answers C(InvalidInstanceId.AlreadyExists) as for an instance; the last group
    of an ENI is refused with C(InvalidOperation.AtLeastInOneGroup); ENIs in states other than C(Available) and
    C(InUse) cannot be changed; C(Pending), C(Starting), C(Stopping), C(Attaching) and C(Detaching) end on their own
    and are awaited within O(wait_timeout) (other states are taken as lasting); changes take effect shortly, with no
    bound published, so an accepted change is awaited in the Describe calls until O(wait_timeout) (counted from the
    first write), a change that depends on it (the next one on the same target) is sent only once it shows, and one
    that does not show by then fails the task, reported as accepted."
seealso:
  - name: JoinSecurityGroup
    description: Alibaba Cloud ECS API documentation.
    link: https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-joinsecuritygroup
  - name: ModifyInstanceAttribute
    description: Alibaba Cloud ECS API documentation.
    link: https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-modifyinstanceattribute
  - name: ModifyNetworkInterfaceAttribute
    description: Alibaba Cloud ECS API documentation.
    link: https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-modifynetworkinterfaceattribute
'''

EXAMPLES = r'''
- name: A fleet from a stale inventory, with the SDK's names of the credentials
  multicloud.secgroup.alicloud_sg_binding:
    region: cn-hangzhou
    access_key_id: "{{ vault_ali_access_key_id }}"
    access_key_secret: "{{ vault_ali_access_key_secret }}"
    instance_ids: "{{ fleet_instance_ids }}"
    security_group_ids: [sg-bp67acfmxazb4ph1wxyz]
    on_missing: skip      # released instances: listed in missing_instance_ids, with a warning
    on_refused: skip      # instances Alibaba Cloud would refuse: listed in refused_instance_ids, with a warning

- name: Bind the web security group to two instances (other groups stay)
  multicloud.secgroup.alicloud_sg_binding:
    region: cn-hangzhou
    instance_ids: [i-bp67acfmxazb4ph1abcd, i-bp1hp2ji4l7hkbh3aaaa]
    security_group_ids: [sg-bp67acfmxazb4ph1wxyz]

- name: Make these the only groups of a secondary network interface (one atomic call)
  multicloud.secgroup.alicloud_sg_binding:
    region: cn-hangzhou
    network_interface_ids: [eni-bp13kd656hxambfe0abc]
    security_group_ids: [sg-bp67acfmxazb4ph1wxyz, sg-bp1fg655nh68xyz9i1ab]
    purge: true

- name: Unbind a security group (a target keeps at least one)
  multicloud.secgroup.alicloud_sg_binding:
    region: cn-hangzhou
    instance_ids: [i-bp67acfmxazb4ph1abcd]
    security_group_ids: [sg-bp1fg655nh68xyz9i1ab]
    state: absent

- name: Credentials once for every task of the group (STS credentials from a vault)
  module_defaults:
    group/multicloud.secgroup.alicloud:
      access_key: "{{ vault_alicloud_access_key }}"
      secret_key: "{{ vault_alicloud_secret_key }}"
      security_token: "{{ vault_alicloud_security_token }}"
      region: cn-beijing
  block:
    - name: Preview the change without making it
      multicloud.secgroup.alicloud_sg_binding:
        instance_ids: "{{ groups['web'] | map('extract', hostvars, 'instance_id') | list }}"
        security_group_ids: [sg-2ze0ktjl4szwycum4q2b]
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
      sample: i-bp67acfmxazb4ph1abcd
    before:
      description: The security groups before the task.
      type: list
      elements: str
      sample: [sg-bp1fg655nh68xyz9i1ab]
    after:
      description: The security groups after the task (read back), or predicted in check mode or with O(wait=false).
      type: list
      elements: str
      sample: [sg-bp1fg655nh68xyz9i1ab, sg-bp67acfmxazb4ph1wxyz]
    added:
      description: The security groups in RV(instances[].after) that were not in RV(instances[].before).
      type: list
      elements: str
      sample: [sg-bp67acfmxazb4ph1wxyz]
    removed:
      description: The security groups in RV(instances[].before) that are not in RV(instances[].after).
      type: list
      elements: str
      sample: []
network_interfaces:
  description:
    - One item per network interface in O(network_interface_ids), in the same order, except those skipped (O(on_missing),
      O(on_refused)). On failure, what each network interface really has.
  returned: with O(network_interface_ids), on success, and on failure once the network interfaces have been read
  type: list
  elements: dict
  contains:
    network_interface_id:
      description: The network interface ID.
      type: str
      sample: eni-bp13kd656hxambfe0abc
    before:
      description: The security groups before the task.
      type: list
      elements: str
      sample: [sg-bp1fg655nh68xyz9i1ab]
    after:
      description: The security groups after the task (read back), or predicted in check mode or with O(wait=false).
      type: list
      elements: str
      sample: [sg-bp67acfmxazb4ph1wxyz]
    added:
      description: The security groups in RV(network_interfaces[].after) that were not in RV(network_interfaces[].before).
      type: list
      elements: str
      sample: [sg-bp67acfmxazb4ph1wxyz]
    removed:
      description: The security groups in RV(network_interfaces[].before) that are not in RV(network_interfaces[].after).
      type: list
      elements: str
      sample: [sg-bp1fg655nh68xyz9i1ab]
operations:
  description:
    - The API calls made (or, in check mode, that would be made), in order; calls on different targets may have run at
      the same time.
    - V(bind) is C(JoinSecurityGroup), V(unbind) is C(LeaveSecurityGroup), and V(set) is C(ModifyInstanceAttribute) or
      C(ModifyNetworkInterfaceAttribute) with the whole list.
    - Each item names its target under C(instance_ids) or C(network_interface_ids), as the task did.
  returned: always
  type: list
  elements: dict
  sample: [{action: bind, security_group_ids: [sg-bp67acfmxazb4ph1wxyz], instance_ids: [i-bp67acfmxazb4ph1abcd]}]
request_ids:
  description: The C(RequestId) of every write call that succeeded.
  returned: always
  type: list
  elements: str
  sample: [473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E]
diff:
  description: The security groups of each target before and after, keyed by instance or network interface ID.
  returned: when diff mode is on
  type: dict
  sample: {before: {i-bp67acfmxazb4ph1abcd: [sg-bp1fg655nh68xyz9i1ab]},
           after: {i-bp67acfmxazb4ph1abcd: [sg-bp1fg655nh68xyz9i1ab, sg-bp67acfmxazb4ph1wxyz]}}
error:
  description: The failed API call, when the failure came from Alibaba Cloud.
  returned: on failure
  type: dict
  contains:
    provider:
      description: Always V(alicloud).
      type: str
    action:
      description:
        - The API call that failed, one of V(DescribeInstances), V(DescribeNetworkInterfaces), V(DescribeSecurityGroups),
          V(JoinSecurityGroup), V(LeaveSecurityGroup), V(ModifyInstanceAttribute), V(ModifyNetworkInterfaceAttribute).
      type: str
      sample: JoinSecurityGroup
    code:
      description:
        - Alibaba Cloud's error C(Code), or C(HTTP<status>) when the answer had none, C(ConnectionError) or C(Timeout)
          for network failures.
      type: str
      sample: InstanceSecurityGroupLimitExceeded
    message:
      description: Alibaba Cloud's error C(Message).
      type: str
    request_id:
      description: The C(RequestId) of the failed call, for Alibaba Cloud support.
      type: str
    http_status:
      description: The HTTP status of the answer.
      type: int
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
    - The instances that were not found.
    - With O(on_missing=skip), the instances left out; they are in no other result.
  returned: when instances were not found, and always with O(on_missing=skip)
  type: list
  elements: str
missing_network_interface_ids:
  description:
    - The network interfaces that were not found.
    - With O(on_missing=skip), the network interfaces left out; they are in no other result.
  returned: when network interfaces were not found, and always with O(on_missing=skip)
  type: list
  elements: str
missing_security_group_ids:
  description: The security groups to bind that were not found.
  returned: when security groups were not found
  type: list
  elements: str
refused_instance_ids:
  description:
    - The instances whose change Alibaba Cloud is known to refuse (a group in another VPC, a mix of normal and enterprise
      groups, a state other than C(Running) or C(Stopped)).
    - With O(on_refused=skip), the instances left out (each named with its reason in a warning); they are in no
      other result.
  returned: when such instances were found, and always with O(on_refused=skip)
  type: list
  elements: str
refused_network_interface_ids:
  description:
    - The network interfaces whose change Alibaba Cloud is known to refuse (a primary network interface, a group in another
      VPC, a mix of normal and enterprise groups, a state other than C(Available) or C(InUse)).
    - With O(on_refused=skip), the network interfaces left out (each named with its reason in a warning); they are in no
      other result.
  returned: when such network interfaces were found, and always with O(on_refused=skip)
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
from ansible_collections.multicloud.secgroup.plugins.module_utils._alicloud import AliCloud


def main():
    run_module(AliCloud)


if __name__ == '__main__':
    main()
