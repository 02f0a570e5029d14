#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: sg_binding_info
short_description: Read which security groups are bound to instances, on any supported cloud
version_added: 0.1.0
description:
  - Reads the security groups of instances, in the provider's order, with each instance's status and each group's
    name, on the cloud named by O(provider). Changes nothing.
  - With O(security_group_ids), also answers the reverse question, which instances each of these groups is bound to,
    with the cloud's instance list filtered by security group.
  - Unknown instance or security group IDs are listed in RV(missing); they are not a failure.
  - With O(filters), or with none of O(instance_ids), O(network_interface_ids), O(zec_instance_ids) and
    O(security_group_ids), lists the region's instances (those that pass the filters) with the cloud's listing call,
    following its pages to the end, and answers for each of them; see O(filters).
  - An empty list of IDs is a valid question, answered with empty results (an empty inventory group, say), never with
    every instance.
  - Uses the same reads, pagination, retries, rate limits and error shapes as the binding modules, and the fewest calls
    the cloud's API allows. For N instances and G distinct groups -
  - V(tencentcloud) makes ceil(N/100) C(DescribeInstances) (or C(DescribeNetworkInterfaces)) and ceil(G/100)
    C(DescribeSecurityGroups) calls;
  - V(alicloud) makes ceil(N/100) C(DescribeInstances) (or C(DescribeNetworkInterfaces)) and ceil(G/100)
    C(DescribeSecurityGroups) calls;
  - V(baiducloud) makes ceil(N/100) C(ListInstancesByIds) calls (C(POST /v2/instance/listByInstanceId); one
    C(GetInstance) per instance it does not list, or per instance where the endpoint has no such call) and ceil(G/1000)
    C(ListSecurityGroups) calls; for N network interfaces, one C(GetEni) per VPC they are in plus ceil(N/1000)
    C(ListEnis) calls of those VPCs (C(GET /v1/eni?vpcId=)), and one C(GetEni) per network interface not found;
  - V(zenlayer) makes ceil(N/100) C(DescribeInstances) and ceil(G/100) C(DescribeSecurityGroups) calls.
  - The reverse question, for B bound instances, costs ceil(B/100) C(DescribeInstances) calls per 5 groups on
    V(tencentcloud) (with O(network_interface_ids), C(DescribeNetworkInterfaces) filtered to secondary network
    interfaces, as many calls), ceil(B/100) calls per group on V(alicloud), ceil(B/1000) C(ListInstances) calls on V(baiducloud)
    and ceil(B/1000) C(DescribeInstances) calls per group on V(zenlayer). For network interfaces on V(baiducloud), one
    C(ListSecurityGroups) call and every network interface of the groups' VPCs, 1000 a C(ListEnis) call (that list has
    no group filter).
  - V(zenlayer) Elastic Compute (O(network_interface_ids), O(zec_instance_ids)) makes ceil(N/100) C(DescribeNetworkInterfaces) (or zec
    C(DescribeInstances)) calls, ceil(V/100) C(DescribeVpcs) calls for the V distinct VPCs (each vNIC's VPC default
    group), and ceil(B/1000) C(DescribeNetworkInterfaces) calls per group for the reverse question.
  - Each instance's (and zec instance's) tags come with the same reads, as RV(instances[].tags), with the quarantine record they
    carry decoded in RV(instances[].quarantine) (see M(multicloud.secgroup.sg_quarantine_record)); a cloud whose instance
    description does not return tags reads them with more calls, counted in that provider's binding module.
  - O(interfaces=true) adds, per instance, the network interfaces that carry their own security groups, with the calls of
    each provider's interface listing (see each provider's binding module for the count).
author:
  - multicloud.secgroup developers (@multicloud-secgroup)
extends_documentation_fragment:
  - multicloud.secgroup.common.info_attributes
  - multicloud.secgroup.common.provider_credentials
  - multicloud.secgroup.common.credentials
attributes:
  action_group:
    support: full
    membership:
      - multicloud.secgroup.all
    description:
      - Use C(group/multicloud.secgroup.all) in O(ignore:module_defaults) for options every cloud has.
      - The group of a cloud (for example C(group/multicloud.secgroup.tencentcloud)) reaches this module only when
        O(provider) names that cloud, so each cloud's group can hold its own O(endpoint), O(region) and credentials in the
        same play. It fills in only the options that the task, this module's own O(ignore:module_defaults) entry and
        C(group/multicloud.secgroup.all) leave unset.
options:
  provider:
    description:
      - The cloud.
    type: str
    required: true
    choices: [alicloud, baiducloud, tencentcloud, zenlayer]
  instance_ids:
    description:
      - The instances to describe.
    type: list
    elements: str
  network_interface_ids:
    description:
      - Providers V(alicloud), V(baiducloud), V(tencentcloud), V(zenlayer). Network interfaces to describe, instead of O(instance_ids); results are then
        under RV(network_interfaces), and O(security_group_ids) asks which network interfaces each group is bound to.
      - On V(zenlayer), Elastic Compute (C(zec)) vNICs, each with its VPC and the VPC's default group; a vNIC that
        inherits its VPC's group is not listed by O(security_group_ids).
    type: list
    elements: str
  zec_instance_ids:
    description:
      - Provider V(zenlayer). Elastic Compute (C(zec)) instances to describe (the group of their Primary vNIC), instead of
        O(instance_ids); results are then under RV(zec_instances), and O(security_group_ids) asks which zec instances'
        Primary vNICs have each group.
    type: list
    elements: str
  security_group_ids:
    description:
      - Security groups whose bound instances to list in RV(bindings).
    type: list
    elements: str
  filters:
    description:
      - Select the instances by listing them rather than by ID, as the P(multicloud.secgroup.instances#inventory)
        inventory does; every filter given must match. Refused together with O(instance_ids), O(network_interface_ids)
        or O(zec_instance_ids).
      - A dictionary of
      - C(tags) - tags the instance must have, key to value; a null value matches any value of that key;
      - C(name) - the instance name, exactly; with C(*), C(?) or C([) a shell-style pattern (case-sensitive), applied to
        the listing, never sent to the cloud;
      - C(status) - a status or a list of statuses to keep, for example C(RUNNING), compared without regard to case;
      - C(vpc_id) - the VPC the instance is in;
      - C(security_group_id) - a security group the instance has (among its own security groups).
      - Any other key is refused, naming it, before any request.
      - Each filter is sent to the cloud's listing call where the cloud takes it server-side, and every filter is applied
        again to what it answers, so the meaning is the same on every cloud.
      - On V(zenlayer), bare-metal and virtual machine instances are listed in RV(instances), Elastic Compute instances in
        RV(zec_instances).
    type: dict
  interfaces:
    description:
      - With O(instance_ids) (or O(zec_instance_ids)), also list each instance's network interfaces that carry their own
        security groups, in RV(instances[].network_interfaces) - those the instance-level binding does not change (on
        V(tencentcloud) and V(alicloud) the secondary network interfaces, the primary's groups being the instance's; on
        V(baiducloud) the network interfaces attached to the instance; on V(zenlayer) the secondary vNICs of a zec instance,
        and none for a vm instance, whose groups are the instance's only).
      - Refused with O(network_interface_ids), and with a provider that cannot list them, before any request.
    type: bool
    default: false
  endpoint:
    description:
      - The API endpoint URL, for example a private endpoint or the local emulator (C(http://127.0.0.1:PORT)).
      - Scheme, host and port only (C(https://host[:port])); a path, query or user name in it is refused.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the endpoint.
      - To trust a private CA or a TLS-inspecting proxy, set the E(REQUESTS_CA_BUNDLE) environment variable to its CA
        bundle (for example with the play's C(environment) keyword) instead of turning this off.
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
seealso:
  - module: multicloud.secgroup.sg_binding
'''

EXAMPLES = r'''
- name: What groups do these instances have?
  multicloud.secgroup.sg_binding_info:
    provider: tencentcloud
    region: ap-guangzhou
    instance_ids: [ins-2zvpghhc, ins-915zrb0p]
  register: bound

- name: Which instances are tagged role=web and running, and what groups do they have?
  multicloud.secgroup.sg_binding_info:
    provider: alicloud
    region: cn-hangzhou
    filters:
      tags: {role: web}
      status: [Running]
  register: web_hosts

- name: Every instance of the region
  multicloud.secgroup.sg_binding_info:
    provider: zenlayer
  register: fleet

- name: Which instances is the web group bound to?
  multicloud.secgroup.sg_binding_info:
    provider: baiducloud
    region: bj
    security_group_ids: [g-nky7qeom]
  register: web
'''

RETURN = r'''
instances:
  description:
    - One item per instance found, in the order of O(instance_ids); when listing (O(filters), or no IDs), one per
      instance listed, in the cloud's order.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance ID.
      type: str
      sample: ins-2zvpghhc
    instance_name:
      description: Its name.
      type: str
      returned: when listing
      sample: web-1
    vpc_id:
      description: Its VPC (null where it has none).
      type: str
      returned: when listing
    private_ips:
      description: Its private IP addresses.
      type: list
      elements: str
      returned: when listing
    public_ips:
      description: Its public IP addresses.
      type: list
      elements: str
      returned: when listing
    security_group_ids:
      description: Its security groups, in the provider's order (priority order on Tencent Cloud).
      type: list
      elements: str
      sample: [sg-9id3l839, sg-5275dorp]
    status:
      description: Its status as the cloud reports it.
      type: str
      sample: RUNNING
    tags:
      description:
        - Its tags, key to value, as the cloud lists them (the quarantine record's among them).
        - Returned by the providers that read tags.
      type: dict
      returned: when the provider reads tags
      sample: {Name: web1, sg-quarantine: "2026-12-07T12:00:00+00:00"}
    quarantine:
      description:
        - The quarantine record its tags carry, or null; the same fields as a record of
          M(multicloud.secgroup.sg_quarantine_record).
      type: dict
      returned: when the provider reads tags
      sample:
        instance_id: ins-2zvpghhc
        security_group_ids: [sg-9id3l839, sg-5275dorp]
        network_interfaces: []
        quarantine_group_ids: [sg-quarant1]
        isolated_at: "2026-12-07T12:00:00+00:00"
        reason: INC-4711
    quarantine_error:
      description:
        - Set when its tags carry a quarantine record that cannot be read whole (a tag removed or edited by hand, or two
          writers at once); RV(instances[].quarantine) is then null, and the binding modules still take the instance as
          quarantined.
      type: str
      returned: when such a record is found
    network_interfaces:
      description:
        - With O(interfaces=true), its network interfaces that carry their own security groups, each with
          C(network_interface_id) and C(security_group_ids) (in the provider's order).
        - On V(zenlayer), a secondary vNIC without a group of its own has an empty C(security_group_ids), and also
          C(vpc_id) and C(vpc_default_security_group_id), the group of its VPC that it has instead.
      type: list
      elements: dict
      returned: with O(interfaces=true), or when listing where the cloud's listing gives them
security_groups:
  description: Every security group seen (bound to the instances, or asked about), with its name.
  returned: always
  type: list
  elements: dict
  contains:
    security_group_id:
      description: The security group ID.
      type: str
    name:
      description: Its name.
      type: str
network_interfaces:
  description:
    - With O(network_interface_ids), one item per network interface found, like RV(instances) with
      C(network_interface_id).
    - On V(zenlayer) (Elastic Compute vNICs), also C(instance_id) (the zec instance it is attached to, or null),
      C(vpc_id) and C(vpc_default_security_group_id) (the group of its VPC, which a vNIC without a group of its own
      has; its C(security_group_ids) is then empty).
  returned: with O(network_interface_ids)
  type: list
  elements: dict
zec_instances:
  description:
    - With O(zec_instance_ids) (V(zenlayer)), one item per zec instance found, like RV(instances) with C(zec_instance_id),
      and C(network_interface_id) (its Primary vNIC), C(vpc_id) and C(vpc_default_security_group_id), and like RV(instances)
      C(tags), C(quarantine) and, with O(interfaces=true), C(network_interfaces) (its secondary vNICs).
    - When listing on V(zenlayer), one item per zec instance listed, with the fields of a listed item of RV(instances).
  returned: with O(zec_instance_ids), or when listing on V(zenlayer)
  type: list
  elements: dict
bindings:
  description: For each group of O(security_group_ids) that exists, the instances it is bound to.
  returned: when O(security_group_ids) is set
  type: list
  elements: dict
  contains:
    security_group_id:
      description: The security group ID.
      type: str
    instance_ids:
      description: The instances it is bound to.
      type: list
      elements: str
missing:
  description: The instance and security group IDs that were asked about and not found.
  returned: always
  type: list
  elements: str
'''

from ansible_collections.multicloud.secgroup.plugins.module_utils._generic import run_info


def main():
    run_info()


if __name__ == '__main__':
    main()
