#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: baiducloud_sg_binding
short_description: Bind and unbind security groups on Baidu AI Cloud BCC instances and elastic network interfaces
version_added: 0.1.0
description:
  - Binds normal security groups to, or unbinds them from, Baidu AI Cloud BCC instances (O(instance_ids)) or elastic
    network interfaces (ENIs, O(network_interface_ids)), idempotently. A task takes one kind of target, so exactly one
    of O(instance_ids) and O(network_interface_ids) is set.
  - ENIs have no bind or unbind of one group. Their only call, C(PUT /v1/eni/{eniId}?bindSg), replaces the ENI's
    whole list of normal security groups, one ENI per call, with a C(clientToken) (a call whose answer was lost is sent
    again with the same token). So every change of an ENI is one such call with the list it should end with; O(write_api)
    and O(batch_size) apply to instances only. An ENI keeps between 1 and 10 normal security groups (10 is assumed;
    Baidu AI Cloud documents only a minimum of one for ENIs).
  - ENIs are read with C(GET /v1/eni/{eniId}); when more are asked, the list of its VPC (C(GET /v1/eni?vpcId=), 1000 a
    page) gives every other one in that VPC, so N ENIs in one VPC take 2 + N/1000 reads.
  - Refused before any write, naming each ENI, for an ENI that would change, are an instance's primary ENI (its
    security groups are the instance's, so use O(instance_ids); found as the instance's C(nicInfo.eniId), one
    C(listByInstanceId) call per 100 instances), an ENI with enterprise security groups (the update would remove them),
    and a group of another VPC than the ENI.
  - Reads the instances with C(POST /v2/instance/listByInstanceId), 100 per call (its documented maximum), several calls
    at a time (O(max_concurrency)), plans the change, and writes only what differs. An instance that call does not list
    (or lists without its security groups) is read with C(GET /v2/instance/{instanceId}), and where the endpoint has no
    C(listByInstanceId) (it answers C(InvalidURI) or a bare 404) every instance is. Instances that are not found are
    reported together, by ID, before any write.
  - Binds and unbinds with the batch calls C(PUT /v2/securitygroup/bind) and C(PUT /v2/securitygroup/unbind) (body
    C(instanceIds), C(securityGroupIds), C(securityGroupType=normal)), one security group on up to O(batch_size)
    instances per call, so N instances take ceil(N / O(batch_size)) writes per group instead of N. A batch call is all
    or nothing. Each carries a fresh C(clientToken); a call whose answer was lost or was a server error is sent again
    with the same token, which Baidu AI Cloud answers without applying it twice.
  - A batch refused because of one of its instances (a quota reached, its last group, an expired instance) is halved,
    and the halves sent again, until that instance is alone; the task then fails naming it, after the other instances
    were changed. An answer that a group is already bound, or not bound (some other client changed an instance
    meanwhile), makes the module read the instances again and plan from what they have.
  - With O(write_api=per_instance), or when the endpoint answers the batch call with C(InvalidURI), C(InvalidVersion),
    C(NotImplemented), C(MethodNotAllowed) or a bare HTTP 404, 405 or 501 (no such call there; the module warns and
    uses the per-instance calls for the rest of the task), it binds and unbinds with C(PUT /v2/instance/{instanceId}?bind)
    and C(?unbind), one security group on one instance per call, several instances at a time. These calls carry no
    token, so a write whose answer was lost is never re-sent blindly; the module reads the instance first.
  - A batch call answered C(NoSuchObject) may mean no such call there, or a missing instance or group (Baidu AI Cloud
    documents neither), so the module reads each instance of the call and the group; when all are there it takes the
    call as missing and falls back as above, otherwise it reports the C(NoSuchObject) error. Likewise a
    C(listByInstanceId) read that fails as not found (an unknown instance ID, or no such call) is done with one
    C(GET /v2/instance/{instanceId}) per instance, so a mistyped ID lands in RV(missing_instance_ids).
  - Baidu AI Cloud applies writes at once; the module reads the instances back and reports what it read.
  - An instance keeps between 1 and 10 security groups at every step. The module orders each instance's binds and
    unbinds so that it never goes beyond these bounds (when swapping groups on an instance with 10 it unbinds one before
    binding one; on an instance with 1 it binds first), and refuses a request that would leave an instance with none
    or more than 10, naming the instance, before any write.
  - With O(purge=true) the groups an instance keeps stay in place and new ones are added after them. Baidu AI Cloud
    documents no meaning for the order of an instance's normal security groups, and the module does not reorder them.
  - An instance whose status is C(Expired) cannot have security groups bound; the task fails before any write, naming
    it. Unbinding from an expired instance is allowed.
  - Only normal security groups (C(nicInfo.securityGroups)) are read and changed; enterprise security groups are left
    alone. With O(purge=true) an instance that has enterprise security groups (C(nicInfo.enterpriseSecurityGroups)) is
    refused before any write, naming them, since it could not end with exactly O(security_group_ids).
  - Instance IDs look like C(i-xxxxxxxx) and security group IDs like C(g-xxxxxxxx) (8 or more letters or digits);
    anything else, such as an ID containing C(/) or C(?), is refused before any request.
  - Quarantine (M(multicloud.secgroup.sg_quarantine_record), O(quarantined)) - an instance's tags come with the reads
    above (C(tags) of C(listByInstanceId) and C(GET /v2/instance/{instanceId}); an instance listed without them is read
    with the C(GET)). A record is written with C(PUT /v2/instance/{instanceId}/tag?bind) and removed with C(?unbind)
    (body C(changeTags), the key with the value it has), one call per instance (a key it has with another value is
    unbound first, one more call); Baidu AI Cloud's batch tag call puts one set of tags on many resources, of no use for
    records that differ per instance. Tag keys and values of 1 to 65 letters, digits, C(-), C(_), C(/), C(.) and spaces,
    and 10 tags per instance, are assumed (the BCC pages point to rules they do not state); the record is encoded for
    them. Isolating 100 instances with one other ENI each, with the record in tags, takes 1 read, 1 C(ListEnis) (the
    ENIs of one VPC), 100 tag writes, 22 calls for the instances' groups (20 batch writes of 10) and 106 for the ENIs'
    (one update each), 231 in all (131 with the record in a file); restoring takes the same less the interface listing,
    the record removed with 100 calls (230, or 130).
  - An instance's other ENIs (O(multicloud.secgroup.sg_binding_info#module:interfaces)) are those attached to it besides
    its primary one (C(nicInfo.eniId)), read with the ENI list of its VPC (C(GET /v1/eni?vpcId=), 1000 a call) when two
    or more of its instances are asked, else the list filtered by instance, or C(GET /v2/eni/{instanceId}) where the VPC
    is not known.
  - Requests are signed with bce-auth-v1 by the module itself; no Baidu AI Cloud SDK is needed.
author:
  - multicloud.secgroup developers (@multicloud-secgroup)
extends_documentation_fragment:
  - multicloud.secgroup.common
  - multicloud.secgroup.common.attributes
  - multicloud.secgroup.common.credentials
attributes:
  action_group:
    support: full
    membership:
      - multicloud.secgroup.baiducloud
      - multicloud.secgroup.all
    description: Use C(group/multicloud.secgroup.baiducloud) or C(group/multicloud.secgroup.all) in O(ignore:module_defaults).
options:
  instance_ids:
    description:
      - The BCC instances to change, for example C(i-YufwpQAe).
      - Exactly one of O(instance_ids) and O(network_interface_ids) is required.
    type: list
    elements: str
    required: false
  network_interface_ids:
    description:
      - The elastic network interfaces to change, for example C(eni-w2d4kgc3x0y1).
      - Exactly one of O(instance_ids) and O(network_interface_ids) is required.
      - An instance's primary network interface is refused before any write; change its instance through O(instance_ids).
    type: list
    elements: str
    required: false
  access_key:
    description:
      - The Access Key ID (AK).
      - If not set, the environment variable E(BAIDUCLOUD_ACCESS_KEY) is used, then E(BCE_ACCESS_KEY_ID).
      - O(access_key_id) is another name for it (the Baidu AI Cloud SDK's).
      - Not needed when another source has credentials. Without the key pair, the BCE CLI's C(~/.bce/config.json),
        then C(~/.bce/credentials), then the BCC instance role (when O(instance_role) is set) are tried, in that order.
    type: str
    aliases: [access_key_id]
  secret_key:
    description:
      - The Secret Access Key (SK). Never logged or returned.
      - If not set, the environment variable E(BAIDUCLOUD_SECRET_KEY) is used, then E(BCE_SECRET_ACCESS_KEY).
      - O(secret_access_key) is another name for it (the Baidu AI Cloud SDK's).
      - Not needed when another source has credentials (see O(access_key)).
    type: str
    aliases: [secret_access_key]
  security_token:
    description:
      - The session token of temporary (STS) credentials, sent as the signed C(x-bce-security-token) header. Never
        logged or returned.
      - If not set, the environment variable E(BAIDUCLOUD_SESSION_TOKEN) is used, then E(BCE_SECURITY_TOKEN).
    type: str
  region:
    description:
      - The region of the instances, for example C(bj), C(gz), C(su), C(bd), C(fwh), C(hkg), C(fsh) or C(sin).
      - The default endpoint is C(https://bcc.<region>.baidubce.com); O(endpoint) replaces it.
      - If not set, the environment variable E(BAIDUCLOUD_REGION) is used, then E(BCE_REGION).
    type: str
    required: true
  write_api:
    description:
      - Which calls write. V(batch) uses C(PUT /v2/securitygroup/bind) and C(unbind) on up to O(batch_size) instances per
        call, falling back to the per-instance calls where the endpoint has no batch API. V(per_instance) uses
        C(PUT /v2/instance/{instanceId}?bind) and C(?unbind), one instance per call.
    type: str
    choices: [batch, per_instance]
    default: batch
  batch_size:
    description:
      - At most this many instances per batch call (O(write_api=batch)), between 1 and 100.
      - Baidu AI Cloud documents no maximum for the batch calls; the default is conservative. If a region refuses a
        batch as too large, lower it.
    type: int
    default: 10
notes:
  - Baidu AI Cloud documents no rate limits for BCC. The module keeps at most O(max_concurrency) calls in flight, starts
    each action at 10 calls per second (an assumption; O(rate_limit) changes it), lowers the rate for every concurrent
    call when throttled and raises it again within seconds, up to 10 (or O(rate_limit)). It retries throttling answers (HTTP 429,
    waiting at least their C(Retry-After) seconds, up to O(retry_max_delay)), C(OperationDenied) (an
    operation in progress on the instance; reads and writes) and HTTP 500, 502, 503 and 504 answers to reads, with
    backoff, at most O(retries) times. C(RequestExpired) (the request's time is more than 30 minutes from Baidu AI
    Cloud's) is not retried, and the message says to check the system clock (NTP). A batch write whose answer was lost or was a server error
    (504 included) is sent again with the same C(clientToken); a per-instance write is not sent again blindly, the
    module reads the instance back first. C(IdempotentParameterMismatch) (a token reused with other parameters) is
    never retried.
seealso:
  - name: Add an instance to a security group
    description: Baidu AI Cloud BCC API documentation.
    link: https://cloud.baidu.com/doc/BCC/s/Ojwvyoecx
  - name: Remove an instance from a security group
    description: Baidu AI Cloud BCC API documentation.
    link: https://cloud.baidu.com/doc/BCC/s/7jwvyocyw
  - name: Bind security groups (batch)
    description: Baidu AI Cloud BCC API documentation.
    link: https://cloud.baidu.com/doc/BCC/s/km7tz37v9
  - name: Unbind security groups (batch)
    description: Baidu AI Cloud BCC API documentation.
    link: https://cloud.baidu.com/doc/BCC/s/ym7tzsn23
  - name: Query instances by ID (listByInstanceId)
    description: Baidu AI Cloud BCC API documentation.
    link: https://cloud.baidu.com/doc/BCC/s/4koffviai
  - name: Query instance details
    description: Baidu AI Cloud BCC API documentation.
    link: https://cloud.baidu.com/doc/BCC/s/sjwvyoeqr
  - name: Update the normal security groups of an ENI
    description: Baidu AI Cloud VPC API documentation.
    link: https://cloud.baidu.com/doc/VPC/s/Nkknft2l0
  - name: Query an ENI
    description: Baidu AI Cloud VPC API documentation.
    link: https://cloud.baidu.com/doc/VPC/s/6kknfn5m8
'''

EXAMPLES = r'''
- name: A fleet from a stale inventory, with the SDK's names of the credentials
  multicloud.secgroup.baiducloud_sg_binding:
    region: bj
    access_key_id: "{{ vault_bce_access_key_id }}"
    secret_access_key: "{{ vault_bce_secret_access_key }}"
    instance_ids: "{{ fleet_instance_ids }}"
    security_group_ids: [g-nky7qeom]
    on_missing: skip      # released instances: listed in missing_instance_ids, with a warning
    on_refused: skip      # Expired instances: listed in refused_instance_ids, with a warning

- name: Bind the web security group to two instances (other groups stay)
  multicloud.secgroup.baiducloud_sg_binding:
    region: bj
    instance_ids: [i-YufwpQAe, i-CFQRKlT2]
    security_group_ids: [g-nky7qeom]

- name: Make these the only groups of an instance
  multicloud.secgroup.baiducloud_sg_binding:
    region: bj
    instance_ids: [i-YufwpQAe]
    security_group_ids: [g-nky7qeom, g-4NxWoxeq]
    purge: true

- name: The exact normal security groups of two secondary ENIs (one whole-list update each)
  multicloud.secgroup.baiducloud_sg_binding:
    region: bj
    network_interface_ids: [eni-w2d4kgc3x0y1, eni-cuij4grvpkyf]
    security_group_ids: [g-4NxWoxeq, g-nky7qeom]
    purge: true

- name: Bind a group to a fleet, 50 instances per batch call
  multicloud.secgroup.baiducloud_sg_binding:
    region: bj
    instance_ids: "{{ fleet_instance_ids }}"
    security_group_ids: [g-nky7qeom]
    batch_size: 50

- name: Where the batch calls are not available, write one instance per call
  multicloud.secgroup.baiducloud_sg_binding:
    region: bj
    instance_ids: [i-YufwpQAe]
    security_group_ids: [g-nky7qeom]
    write_api: per_instance

- name: Unbind a security group (an instance keeps at least one)
  multicloud.secgroup.baiducloud_sg_binding:
    region: bj
    instance_ids: [i-YufwpQAe]
    security_group_ids: [g-4NxWoxeq]
    state: absent

- name: Credentials once for every task of the group
  module_defaults:
    group/multicloud.secgroup.baiducloud:
      access_key: "{{ vault_baidu_access_key }}"
      secret_key: "{{ vault_baidu_secret_key }}"
      region: gz
  block:
    - name: Preview the change without making it
      multicloud.secgroup.baiducloud_sg_binding:
        instance_ids: "{{ groups['web'] | map('extract', hostvars, 'instance_id') | list }}"
        security_group_ids: [g-7dyv27r6pnse]
      check_mode: true
      diff: true
      register: preview
'''

RETURN = r'''
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
      sample: eni-w2d4kgc3x0y1
    before:
      description: The normal security groups before the task.
      type: list
      elements: str
      sample: [g-4NxWoxeq]
    after:
      description: The normal security groups after the task (read back), or predicted in check mode.
      type: list
      elements: str
      sample: [g-4NxWoxeq, g-nky7qeom]
    added:
      description: The security groups in RV(network_interfaces[].after) that were not in RV(network_interfaces[].before).
      type: list
      elements: str
      sample: [g-nky7qeom]
    removed:
      description: The security groups in RV(network_interfaces[].before) that are not in RV(network_interfaces[].after).
      type: list
      elements: str
      sample: []
instances:
  description:
    - One item per instance in O(instance_ids), in the same order, except those skipped (O(on_missing), O(on_refused)).
    - On failure, what each instance really has.
  returned: success, and on failure once the instances have been read
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance ID.
      type: str
      sample: i-YufwpQAe
    before:
      description: The normal security groups before the task.
      type: list
      elements: str
      sample: [g-4NxWoxeq]
    after:
      description: The normal security groups after the task (read back), or predicted in check mode.
      type: list
      elements: str
      sample: [g-4NxWoxeq, g-nky7qeom]
    added:
      description: The security groups in RV(instances[].after) that were not in RV(instances[].before).
      type: list
      elements: str
      sample: [g-nky7qeom]
    removed:
      description: The security groups in RV(instances[].before) that are not in RV(instances[].after).
      type: list
      elements: str
      sample: []
operations:
  description:
    - The API calls made (or, in check mode, that would be made), in order; calls on different instances may have run
      at the same time.
    - One entry per write call. V(bind) and V(unbind) stand for C(PUT /v2/securitygroup/bind) and C(unbind) with
      the entry's C(instance_ids) as its C(instanceIds) (O(write_api=batch)), or for C(PUT /v2/instance/{instanceId}?bind)
      and C(?unbind) on its one instance (O(write_api=per_instance)). After a fallback from the batch calls, an entry
      planned as one batch was sent as one call per instance, and lists the instances whose call succeeded.
    - An entry whose call failed is not listed; a batch call is all or nothing, so its instances were left as they were.
    - With O(network_interface_ids), every entry is V(set), that is C(PUT /v1/eni/{eniId}?bindSg) with the whole list, on the
      one network interface it names under C(network_interface_ids).
  returned: always
  type: list
  elements: dict
  sample: [{action: bind, security_group_ids: [g-nky7qeom], instance_ids: [i-YufwpQAe]}]
request_ids:
  description:
    - The C(x-bce-request-id) of every write call that succeeded, in the order of RV(operations) (one per entry with
      O(write_api=batch), unless the task fell back to the per-instance calls, which have one per instance).
  returned: always
  type: list
  elements: str
  sample: [1214cca7-4ad5-451d-9215-71cb844c0a50]
diff:
  description: The security groups of each target before and after, keyed by instance or network interface ID.
  returned: when diff mode is on
  type: dict
  sample: {before: {i-YufwpQAe: [g-4NxWoxeq]}, after: {i-YufwpQAe: [g-4NxWoxeq, g-nky7qeom]}}
error:
  description: The failed API call, when the failure came from Baidu AI Cloud.
  returned: on failure
  type: dict
  contains:
    provider:
      description: Always V(baiducloud).
      type: str
    action:
      description:
        - The API call that failed, one of V(ListInstancesByIds), V(GetInstance), V(ListSecurityGroups), V(BatchBindSecurityGroup),
          V(BatchUnbindSecurityGroup), V(BindSecurityGroup), V(UnbindSecurityGroup), V(GetEni), V(ListEnis),
          V(UpdateEniSecurityGroups).
      type: str
      sample: BindSecurityGroup
    code:
      description:
        - Baidu AI Cloud's error code, or C(HTTP<status>) when the answer had none, C(ConnectionError) or C(Timeout) for
          network failures.
      type: str
      sample: SecurityGroup.BindInstanceExceededLimit
    message:
      description: Baidu AI Cloud's error message.
      type: str
    request_id:
      description: The C(requestId) of the failed call, for Baidu AI Cloud support.
      type: str
    http_status:
      description: The HTTP status of the answer.
      type: int
      sample: 413
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
    - The instances whose change Baidu AI Cloud is known to refuse (C(Expired) instances that would get a group).
    - With O(on_refused=skip), the instances left out (each named with its reason in a warning); they are in no other
      result.
  returned: when such instances were found, and always with O(on_refused=skip)
  type: list
  elements: str
missing_network_interface_ids:
  description:
    - The network interfaces that were not found.
    - With O(on_missing=skip), the network interfaces left out; they are in no other result.
  returned: when network interfaces were not found, and always with O(on_missing=skip)
  type: list
  elements: str
refused_network_interface_ids:
  description:
    - The network interfaces whose change Baidu AI Cloud is known to refuse (an instance's primary network interface, one
      with enterprise security groups, a group of another VPC).
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
from ansible_collections.multicloud.secgroup.plugins.module_utils._baiducloud import BaiduCloud


def main():
    run_module(BaiduCloud)


if __name__ == '__main__':
    main()
