#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: sg_binding
short_description: Bind and unbind security groups on any supported cloud, chosen with O(provider)
version_added: 0.1.0
description:
  - The binding module of the cloud named by O(provider), in one module, so that one task can serve hosts on several
    clouds (O(provider) and the IDs taken from host variables).
  - It takes the chosen provider module's options under the same names, with the same types, defaults and environment
    variables, and returns exactly what that module returns, in check mode and diff mode too. See
    M(multicloud.secgroup.tencentcloud_sg_binding), M(multicloud.secgroup.alicloud_sg_binding),
    M(multicloud.secgroup.baiducloud_sg_binding) and M(multicloud.secgroup.zenlayer_sg_binding) for how each cloud is
    read and written.
  - Only the chosen provider's environment variables are read, so credentials of several clouds can be set at once (as
    when an AWX job template has credentials of several clouds attached).
  - An option the chosen provider does not have (for example O(wait) with V(baiducloud)) is refused before any request,
    naming the option and the provider.
author:
  - multicloud.secgroup developers (@multicloud-secgroup)
extends_documentation_fragment:
  - multicloud.secgroup.common
  - multicloud.secgroup.common.attributes
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
      - The instances to change.
      - Required, except with V(alicloud), V(baiducloud) and V(tencentcloud), which take this or O(network_interface_ids), and
        V(zenlayer), which takes this, O(network_interface_ids) or O(zec_instance_ids).
      - Each ID is checked against the provider's ID format before any request is sent.
      - An empty list changes nothing.
    type: list
    elements: str
    required: false
  network_interface_ids:
    description:
      - Providers V(alicloud), V(baiducloud), V(tencentcloud), V(zenlayer).
      - Secondary elastic network interfaces to change, instead of O(instance_ids); the result lists them under
        RV(network_interfaces).
      - On V(zenlayer), Elastic Compute (C(zec)) vNICs, primary or not; one security group per vNIC, switched with
        O(purge=true). See M(multicloud.secgroup.zenlayer_sg_binding).
    type: list
    elements: str
  zec_instance_ids:
    description:
      - Provider V(zenlayer).
      - Elastic Compute (C(zec)) instances to change through their Primary vNIC, instead of O(instance_ids); the result
        lists them under RV(zec_instances).
    type: list
    elements: str
  wait:
    description:
      - Providers V(tencentcloud), V(alicloud), V(zenlayer) (whose changes complete after the answer). Default V(true)
        there.
      - Wait until every change shows as complete, and report the security groups read back.
      - With V(false), RV(instances[].after) is the planned state, not read back.
    type: bool
  wait_timeout:
    description:
      - Providers V(tencentcloud), V(alicloud), V(zenlayer). Default V(300) there.
      - How long to wait for changes to complete, in seconds, counted from the first write, or from the first wait for a
        target the cloud cannot change yet (busy, or in a state that ends on its own), whichever comes first; one bound
        on the whole task from then on.
    type: int
  allow_no_groups:
    description:
      - Providers V(tencentcloud), V(zenlayer) (which let an instance have no security group). Default V(false) there.
      - Allow O(purge=true) with an empty O(security_group_ids), which unbinds every security group from every listed
        instance; without it, that combination is refused before any request.
    type: bool
  write_api:
    description:
      - Providers V(baiducloud). Default V(batch) there.
      - V(batch) writes with the batch calls C(PUT /v2/securitygroup/bind) and C(unbind) (one security group on up to
        O(batch_size) instances per call, all or nothing, with a C(clientToken) so a retried call is not applied twice),
        and falls back to the per-instance calls when the endpoint answers that it has no such call.
      - V(per_instance) writes with C(PUT /v2/instance/{instanceId}?bind) and C(?unbind), one instance per call.
    type: str
    choices: [batch, per_instance]
  batch_size:
    description:
      - Providers V(baiducloud). Default V(10) there.
      - At most this many instances per batch call (O(write_api=batch)), between 1 and 100. Baidu AI Cloud documents no
        maximum; the default is conservative.
    type: int
notes:
  - Options whose description names no providers apply to every provider, with the default shown.
  - C(module_defaults) set for a cloud's group (for example C(group/multicloud.secgroup.tencentcloud)) reach this
    module whatever its O(provider), so options of that cloud that the chosen provider does not have are refused. For
    plays across several clouds, give each cloud's credentials in its own environment variables (they are read only
    for the chosen provider), and use C(group/multicloud.secgroup.all) for the options every provider has.
seealso:
  - module: multicloud.secgroup.sg_binding_info
  - module: multicloud.secgroup.tencentcloud_sg_binding
  - module: multicloud.secgroup.alicloud_sg_binding
  - module: multicloud.secgroup.baiducloud_sg_binding
  - module: multicloud.secgroup.zenlayer_sg_binding
'''

EXAMPLES = r'''
- name: One task for hosts on several clouds (provider, region and instance ID from host variables)
  hosts: web
  gather_facts: false
  tasks:
    - name: Bind each host's web group
      multicloud.secgroup.sg_binding:
        provider: "{{ cloud }}"
        region: "{{ cloud_region }}"
        instance_ids: ["{{ instance_id }}"]
        security_group_ids: ["{{ web_security_group }}"]
      delegate_to: localhost

- name: Defaults for every module of the collection, and each cloud's own
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/multicloud.secgroup.all:
      timeout: 20
      retries: 5
    group/multicloud.secgroup.tencentcloud:
      region: ap-guangzhou        # reaches sg_binding only with provider tencentcloud
    group/multicloud.secgroup.alicloud:
      region: cn-hangzhou         # reaches sg_binding only with provider alicloud
  tasks:
    - name: Exactly these groups on a Tencent Cloud instance, in priority order
      multicloud.secgroup.sg_binding:
        provider: tencentcloud
        region: ap-guangzhou
        instance_ids: [ins-2zvpghhc]
        security_group_ids: [sg-9id3l839, sg-5275dorp]
        purge: true
        on_missing: skip          # an instance terminated since the inventory was made: left out, with a warning

    - name: Bind to a secondary network interface on Alibaba Cloud (credentials from ALICLOUD_*)
      multicloud.secgroup.sg_binding:
        provider: alicloud
        region: cn-hangzhou
        network_interface_ids: [eni-bp17pdijfczax1huji6z]
        security_group_ids: [sg-bp67acfmxazb4ph1wxyz]

    - name: Unbind a group on Baidu AI Cloud (credentials from BAIDUCLOUD_* or BCE_*)
      multicloud.secgroup.sg_binding:
        provider: baiducloud
        region: bj
        instance_ids: [i-YufwpQAe]
        security_group_ids: [g-nky7qeom]
        state: absent
'''

RETURN = r'''
instances:
  description:
    - One item per instance in O(instance_ids), in the same order, except those skipped (O(on_missing),
      O(on_refused)). On failure, what each instance really has.
    - Exactly what the chosen provider's module returns.
  returned: success, and on failure once the instances have been read
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance ID.
      type: str
      sample: ins-2zvpghhc
    before:
      description: The security groups before the task, in the provider's order.
      type: list
      elements: str
      sample: [sg-5275dorp]
    after:
      description: The security groups after the task (read back), or predicted in check mode.
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
operations:
  description:
    - The write calls made (or, in check mode, that would be made), in the order sent.
    - V(bind), V(unbind) and V(set) stand for the provider's bind, unbind and replace-the-list calls.
  returned: always
  type: list
  elements: dict
  sample: [{action: bind, security_group_ids: [sg-9id3l839], instance_ids: [ins-2zvpghhc, ins-915zrb0p]}]
request_ids:
  description: The request ID of every write call whose answer arrived, in order.
  returned: always
  type: list
  elements: str
diff:
  description: The security groups of each instance before and after, keyed by instance ID.
  returned: when diff mode is on
  type: dict
  sample: {before: {ins-2zvpghhc: [sg-5275dorp]}, after: {ins-2zvpghhc: [sg-5275dorp, sg-9id3l839]}}
error:
  description: The failed API call, when the failure came from the cloud.
  returned: on failure
  type: dict
  contains:
    provider:
      description: The provider.
      type: str
    action:
      description: The API action that failed.
      type: str
    code:
      description: The cloud's error code.
      type: str
    message:
      description: The cloud's error message.
      type: str
    request_id:
      description: The request ID of the failed call, for the cloud's support.
      type: str
    http_status:
      description: The HTTP status of the answer.
      type: int
network_interfaces:
  description:
    - With O(network_interface_ids), one item per network interface, with the same keys as RV(instances), keyed by
      C(network_interface_id) instead of C(instance_id).
  returned: success with O(network_interface_ids), and on failure once they have been read
  type: list
  elements: dict
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
missing_security_group_ids:
  description: The security groups to bind that were not found.
  returned: when security groups were not found
  type: list
  elements: str
refused_instance_ids:
  description:
    - The instances the cloud is known to refuse the change for (their state), before any write.
    - With O(on_refused=skip), the instances left out (each named with its reason in a warning); they are in no other
      result.
  returned: when instances were refused, and always with O(on_refused=skip)
  type: list
  elements: str
zec_instances:
  description:
    - With O(zec_instance_ids) (V(zenlayer)), one item per zec instance, with the same keys as RV(instances), keyed by
      C(zec_instance_id).
  returned: success with O(zec_instance_ids), and on failure once they have been read
  type: list
  elements: dict
missing_network_interface_ids:
  description:
    - With O(network_interface_ids), the network interfaces that were not found.
    - With O(on_missing=skip), the network interfaces left out; they are in no other result.
  returned: when network interfaces were not found, and always with O(on_missing=skip) and O(network_interface_ids)
  type: list
  elements: str
refused_network_interface_ids:
  description:
    - With O(network_interface_ids), the network interfaces the cloud is known to refuse the change for, before any write.
    - With O(on_refused=skip), the network interfaces left out (each named with its reason in a warning); they are in no
      other result.
  returned: when network interfaces were refused, and always with O(on_refused=skip) and O(network_interface_ids)
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

from ansible_collections.multicloud.secgroup.plugins.module_utils._generic import run_binding


def main():
    run_binding()


if __name__ == '__main__':
    main()
