#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: zenlayer_sg_binding
short_description: Bind and unbind security groups on Zenlayer Cloud VM instances
version_added: 0.1.0
description:
  - Binds security groups to, or unbinds them from, Zenlayer Cloud VM instances (the C(vm) service of API 2.0), idempotently.
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
options:
  access_key_id:
    description:
      - The AccessKey ID.
      - If not set, the environment variable E(ZENLAYERCLOUD_ACCESS_KEY_ID) is used (as by the Terraform provider).
    type: str
    required: true
  access_key_password:
    description:
      - The AccessKey Password. Never logged or returned.
      - If not set, the environment variable E(ZENLAYERCLOUD_ACCESS_KEY_PASSWORD) is used (as by the Terraform provider).
    type: str
    required: true
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
    concurrent request when Zenlayer Cloud answers C(REQUEST_LIMIT_EXCEEDED), and speeds up again slowly. Changes
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
seealso:
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
instances:
  type: list
  elements: dict
  returned: success, and on failure once the instances have been read
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
          V(AssociateSecurityGroupInstance), V(UnAssociateSecurityGroupInstance).
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
    - The instances that were not found.
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
'''

from ansible_collections.multicloud.secgroup.plugins.module_utils._engine import run_module
from ansible_collections.multicloud.secgroup.plugins.module_utils._zenlayer import ZenlayerCloud


def main():
    run_module(ZenlayerCloud)


if __name__ == '__main__':
    main()
