# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The options every binding module shares (plugins/module_utils/_engine.py COMMON_ARGUMENT_SPEC).
    DOCUMENTATION = r'''
options:
  instance_ids:
    description:
      - The instances to change.
      - Each ID is checked against the provider's ID format before any request is sent.
      - An empty list changes nothing.
    type: list
    elements: str
    required: true
  security_group_ids:
    description:
      - With O(state=present), the security groups to bind; with O(state=absent), the security groups to unbind.
      - With O(state=present) and O(purge=true), each instance ends with exactly these security groups, in this order
        where the provider gives the order a meaning (priority).
      - Each ID is checked against the provider's ID format before any request is sent.
    type: list
    elements: str
    required: true
  state:
    description:
      - V(present) binds the security groups in O(security_group_ids) that are not bound yet.
      - V(absent) unbinds those of O(security_group_ids) that are bound, and leaves the others alone.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), also unbind every security group that is not in O(security_group_ids).
      - Ignored with O(state=absent).
    type: bool
    default: false
  endpoint:
    description:
      - The API endpoint URL, for example a private endpoint or the local emulator (C(http://127.0.0.1:PORT)).
      - Defaults to the provider's public endpoint.
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
      - Seconds to wait for each HTTP request; more than 0 and at most 86400.
    type: float
    default: 30
  retries:
    description:
      - How many times a request is retried after throttling, an operation in progress, or (for reads) a transient
        server error. Errors in the request itself, authentication and quota errors are never retried.
      - A TLS failure (an untrusted certificate, or an C(http://) endpoint given as C(https://)) is not retried, since
        nothing was sent. Set the E(REQUESTS_CA_BUNDLE) environment variable to a private CA's bundle rather than turning
        O(validate_certs) off.
      - A connection that could not be made (refused, or timed out while connecting) is retried like throttling, even for
        a write, since nothing was sent. A host name that does not resolve is retried twice at most, quickly, then
        reported naming the host (check the C(region) option, if the module has one, and O(endpoint)). A connection
        that broke after the request was sent (no answer, or an answer cut short) may have been applied; a read is
        retried, a write is never sent again blindly; the module reads the targets back and reports what was applied.
      - From 0 to 1000.
    type: int
    default: 8
  retry_delay:
    description:
      - Base of the exponential backoff between retries, in seconds. Each wait is a random time between 0 and
        O(retry_delay) * 2^attempt, capped at O(retry_max_delay) (full jitter).
    type: float
    default: 0.5
  retry_max_delay:
    description:
      - The longest wait between two retries, in seconds; also the longest wait a cloud's retry-after answer can impose.
    type: float
    default: 20
  max_concurrency:
    description:
      - How many API calls may run at once, from 1 to 256.
      - Each API action is also kept under its rate limit (see O(rate_limit)).
    type: int
    default: 16
  rate_limit:
    description:
      - The most calls per second of each API action, for all the task's requests together. At most that many calls
        start in any one second, so the first second's calls go at once.
      - Where the provider publishes a rate limit for an action, that limit is kept anyway and O(rate_limit) can only
        lower it. Where it publishes none, each action starts at the provider's documented default and adapts. A
        throttling answer lowers the rate for every concurrent request of the task at once, once per burst of
        throttling, and the rate climbs back within seconds, never above O(rate_limit) when it is set, else never above
        the default (probing above it costs throttled requests; set O(rate_limit) to allow more). A C(Retry-After) from
        the cloud holds every request of that action.
      - The tasks running at once on one machine with the same access key ID and region or endpoint (forks, parallel
        playbooks) share each action's rate through a file in the temporary directory, which holds no key; each counts
        the others' calls against its own O(rate_limit). Where that directory cannot be used, each task keeps its own.
      - Runs on other machines or in other containers (AWX jobs and job slices, each in its own execution environment)
        cannot share it; give each a O(rate_limit) of the account's limit divided by their number, rounded down.
    type: float
  max_security_groups:
    description:
      - The most security groups an instance may have, when your account's quota differs from the provider's documented
        default (Tencent Cloud 5, Alibaba Cloud 5, Baidu AI Cloud 10, Zenlayer Cloud 2). A request beyond it is refused
        before any write.
      - Zenlayer Cloud's 2 is a hard limit, not a quota; a value above it is refused.
      - The cloud still has the final word; its quota error is reported as it comes.
    type: int
  on_missing:
    description:
      - What to do when some of the listed instances (or network interfaces) are not found, for example because they were
        terminated since the inventory was made.
      - V(fail) fails the task before any write, naming them in the message and in RV(missing_instance_ids) (or
        C(missing_network_interface_ids)).
      - V(skip) changes the others, and lists the ones left out in RV(missing_instance_ids) (or
        C(missing_network_interface_ids)), with a warning naming them. Check mode plans the same.
      - Skipped targets are not in RV(instances) (or C(network_interfaces)), RV(operations) or the diff.
    type: str
    choices: [fail, skip]
    default: fail
  on_refused:
    description:
      - What to do when some of the instances (or network interfaces) that would change are in a state the cloud refuses
        the change in (see the module's description, for example C(STOPPING)).
      - V(fail) fails the task before any write, naming each and its state in the message and in
        RV(refused_instance_ids) (or C(refused_network_interface_ids)).
      - V(skip) changes the others, and lists the ones left out in RV(refused_instance_ids) (or
        C(refused_network_interface_ids)), with a warning naming each and its state. Check mode plans the same.
      - Skipped targets are not in RV(instances) (or C(network_interfaces)), RV(operations) or the diff; run the task
        again once they are in a state that takes the change.
    type: str
    choices: [fail, skip]
    default: fail
  quarantined:
    description:
      - What to do with a target under quarantine - an instance whose tags carry an active quarantine record (written by
        the C(sg_quarantine) role with C(sg_quarantine_record_store=tags), or by M(multicloud.secgroup.sg_quarantine_record)),
        or a network interface whose instance carries one.
      - V(skip) leaves them as they are and lists them in RV(quarantined), with one warning naming them, so that a fleet
        run (the C(sg_bindings) role, a scheduled drift correction) never releases a quarantined instance. Check mode plans
        the same.
      - V(change) changes them like any other target; the C(sg_quarantine) role uses it to isolate and restore.
      - The tags come with the read of the instances, at no extra call on clouds whose instance description returns them
        (see the module's description); for network interfaces, the instances they belong to are read once more (their tags),
        only with V(skip) and when some network interface has an instance. A cloud whose tags the module does not read
        never reports a target as quarantined.
    type: str
    choices: [skip, change]
    default: skip
notes:
  - Every task reads the instances' current security groups first and sends no write when nothing needs to change.
  - Check mode and the real run are computed from the same plan; in check mode RV(instances[].after) is the predicted state.
  - When an API call fails after changes have started, the failure lists in RV(instances) what each instance really has
    (read back), so nothing is left unknown.
  - If the answer to a write is lost (for example the connection drops), the module reads the instances back and finishes
    the job from what it finds, instead of sending the write blindly again.
  - SIGINT (Ctrl-C) and SIGTERM stop the writes, no new write starts; writes already sent are awaited for up to
    3 seconds, the instances are read back for up to 4 seconds, and the task fails with C(interrupted=true), a message
    naming the signal, what each instance has in RV(instances) (read back, else the state before plus the accepted
    writes), and C(unknown_operations), the writes whose answer was still awaited.
'''

    # For providers whose writes complete asynchronously.
    WAIT = r'''
options:
  wait:
    description:
      - Wait until every change shows as complete, and report the security groups read back.
        The module polls every 0.5 seconds at first, then less and less often, up to every 5 seconds, until
        O(wait_timeout) itself.
      - With V(false), RV(instances[].after) is the planned state, not read back. Changes that must follow one
        another on the same instance still wait for each other.
    type: bool
    default: true
  wait_timeout:
    description:
      - How long to wait for changes to complete, in seconds, counted from the first write, or from the first wait
        for a target the cloud cannot change yet (busy, or in a state that ends on its own), whichever comes first.
        One bound on the whole task from then on, failure reports included. On clouds whose changes only take effect shortly
        (Alibaba Cloud, Zenlayer Cloud), an accepted change that the reads do not show by then fails the task; the
        result then shows it as accepted, with C(changed=true).
    type: int
    default: 300
'''

    # For providers that let an instance have no security group at all.
    NO_GROUPS = r'''
options:
  allow_no_groups:
    description:
      - Allow O(purge=true) with an empty O(security_group_ids), which unbinds every security group from every listed
        instance. Without it, that combination is refused before any request, as a likely mistake (an empty list from
        an undefined variable, say).
    type: bool
    default: false
'''

    ATTRIBUTES = r'''
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    support: full
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  idempotent:
    support: full
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
'''

    # For the read-only module.
    INFO_ATTRIBUTES = r'''
attributes:
  check_mode:
    support: full
    description: Can run in check_mode; it changes nothing in any mode.
  diff_mode:
    support: N/A
    description: Changes nothing, so there is no diff.
  idempotent:
    support: full
    description:
      - Changes nothing.
'''

    # The credential sources every module has (plugins/module_utils/_credentials.py); each cloud's page docs/credentials.md.
    CREDENTIALS = r'''
options:
  profile:
    description:
      - The profile to read from the cloud's own CLI or SDK profile files, when no key pair is given by option or
        environment variable.
      - Tencent Cloud reads C(~/.tccli/<profile>.credential) (tccli), and without a profile C(~/.tencentcloud/credentials)
        (the SDK's INI file, section C([default])). The other clouds read their CLI's files; see the credentials page of
        each cloud.
      - "If not set, the cloud's own variable: Tencent Cloud E(TENCENTCLOUD_PROFILE), then E(TCCLI_PROFILE); Alibaba Cloud
        E(ALIBABA_CLOUD_PROFILE), then E(ALICLOUD_PROFILE); Zenlayer Cloud E(ZENLAYER_PROFILE)."
      - A profile file that others may read or write, or that cannot be parsed, is refused naming the file.
    type: str
  shared_credentials_file:
    description:
      - Where the profile files are, instead of their default place under the home directory.
      - For Tencent Cloud the directory of the tccli files (E(TENCENTCLOUD_SHARED_CREDENTIALS_DIR)); for the other clouds
        the file itself (Alibaba Cloud E(ALIBABA_CLOUD_CREDENTIALS_FILE)).
    type: path
  instance_role:
    description:
      - Take temporary credentials of the role attached to the instance the task runs on, from the cloud's metadata
        service; V(auto) asks the metadata service for the role's name.
      - "The metadata service is asked only when this is set (or the cloud's variable for it, Tencent Cloud
        E(TENCENTCLOUD_CAM_ROLE_NAME), Alibaba Cloud E(ALIBABA_CLOUD_ECS_METADATA)): a task never probes it on its own."
      - The credentials are fetched again before they expire, during a long task.
      - Not available with Zenlayer Cloud, which has no instance roles.
    type: str
  assume_role:
    description:
      - Assume a role through the cloud's STS with the credentials found (options, environment, profile or instance
        role), and use the role's temporary credentials; they are fetched again before they expire.
      - Not available with Zenlayer Cloud, which has no STS.
    type: dict
    suboptions:
      role_arn:
        description:
          - The role to assume, for example C(qcs::cam::uin/100000000001:roleName/secgroup-admin).
          - "If not set, Tencent Cloud E(TENCENTCLOUD_ASSUME_ROLE_ARN), then E(TENCENTCLOUD_ROLE_ARN); Alibaba Cloud
            E(ALIBABA_CLOUD_ROLE_ARN)."
        type: str
      session_name:
        description:
          - The role session's name, shown in the cloud's audit log. Defaults to C(multicloud-secgroup).
          - "If not set, Tencent Cloud E(TENCENTCLOUD_ASSUME_ROLE_SESSION_NAME), then E(TENCENTCLOUD_ROLE_SESSION_NAME);
            Alibaba Cloud E(ALIBABA_CLOUD_ROLE_SESSION_NAME)."
        type: str
      duration:
        description:
          - Seconds the temporary credentials last; within the cloud's range (Tencent Cloud 0-43200, default 7200;
            Alibaba Cloud 900-43200).
          - If not set, Tencent Cloud E(TENCENTCLOUD_ASSUME_ROLE_SESSION_DURATION).
        type: int
      external_id:
        description:
          - The external ID the role's trust policy requires.
          - If not set, Tencent Cloud E(TENCENTCLOUD_ASSUME_ROLE_EXTERNAL_ID).
        type: str
      policy:
        description:
          - A session policy (JSON) that narrows the role's permissions for this task.
        type: str
  metadata_endpoint:
    description:
      - The metadata service's URL (C(http://host[:port])), for tests, private clouds or a proxy. Defaults to the
        cloud's own address (Tencent Cloud C(http://metadata.tencentyun.com)).
      - Asked with short timeouts and without retries.
    type: str
  sts_endpoint:
    description:
      - The STS endpoint URL for O(assume_role), for tests, private clouds or a proxy. Defaults to the cloud's public
        STS host (Tencent Cloud C(https://sts.tencentcloudapi.com)).
    type: str
notes:
  - "Credentials are taken from the first source that has them, in the cloud's own order: the key options (and their
    environment variables), the profile files, then the instance role when asked for; O(assume_role) applies on top of
    whichever answered. When none has any, the task fails before any request, listing every source tried and why it
    had nothing."
  - Secrets fetched at run time (temporary credentials) are masked in the task's output like the key options.
  - "Least privilege: the collection ships each cloud's policy in C(extensions/policies/<cloud>/) - C(full.json) for the
    binding modules, M(multicloud.secgroup.sg_quarantine_record) and the roles, C(read-only.json) for
    M(multicloud.secgroup.sg_binding_info) and the C(multicloud.secgroup.instances) inventory, C(assume-role.json) for a
    key that only assumes a role with O(assume_role). A missing permission fails the task with the cloud's authorization
    error, naming the action. C(extensions/policies/README.md) lists each action and which feature needs it."
'''

    # The credential and provider-specific options of the modules whose provider is chosen at run time.
    PROVIDER_CREDENTIALS = r'''
options:
  secret_id:
    description:
      - Providers V(tencentcloud) (unless another credential source has the key pair).
      - The SecretId of the API key.
      - If not set, the environment variable E(TENCENTCLOUD_SECRET_ID) is used.
    type: str
  secret_key:
    description:
      - Providers V(tencentcloud), V(alicloud), V(baiducloud) (unless another credential source has the key pair).
      - The SecretKey (V(tencentcloud)), AccessKey secret (V(alicloud)) or Secret Access Key (V(baiducloud)). Never
        logged or returned.
      - If not set, the environment variables with V(tencentcloud) E(TENCENTCLOUD_SECRET_KEY); with V(alicloud)
        E(ALICLOUD_SECRET_KEY), then E(ALIBABA_CLOUD_ACCESS_KEY_SECRET); with V(baiducloud) E(BAIDUCLOUD_SECRET_KEY),
        then E(BCE_SECRET_ACCESS_KEY) are used.
    type: str
  security_token:
    description:
      - Providers V(tencentcloud), V(alicloud), V(baiducloud).
      - The token of temporary (STS) credentials. Never logged or returned.
      - If not set, the environment variables with V(tencentcloud) E(TENCENTCLOUD_SECURITY_TOKEN), then
        E(TENCENTCLOUD_TOKEN); with V(alicloud) E(ALICLOUD_SECURITY_TOKEN), then E(ALIBABA_CLOUD_SECURITY_TOKEN); with
        V(baiducloud) E(BAIDUCLOUD_SESSION_TOKEN), then E(BCE_SECURITY_TOKEN) are used.
    type: str
  access_key:
    description:
      - Providers V(alicloud), V(baiducloud) (unless another credential source has the key pair).
      - The AccessKey ID (V(alicloud)) or Access Key ID (V(baiducloud)).
      - If not set, the environment variables with V(alicloud) E(ALICLOUD_ACCESS_KEY), then
        E(ALIBABA_CLOUD_ACCESS_KEY_ID); with V(baiducloud) E(BAIDUCLOUD_ACCESS_KEY), then E(BCE_ACCESS_KEY_ID) are
        used.
    type: str
  access_key_id:
    description:
      - Providers V(zenlayer) (unless another credential source has the key pair).
      - The access key ID.
      - If not set, the environment variable E(ZENLAYERCLOUD_ACCESS_KEY_ID) is used.
      - With V(alicloud) and V(baiducloud), another name of O(access_key) (their SDKs' name).
    type: str
  access_key_secret:
    description:
      - With V(alicloud), another name of O(secret_key) (the Alibaba Cloud SDK's name). Never logged or returned.
    type: str
  secret_access_key:
    description:
      - With V(baiducloud), another name of O(secret_key) (the Baidu AI Cloud SDK's name). Never logged or returned.
    type: str
  access_key_password:
    description:
      - Providers V(zenlayer) (unless another credential source has the key pair).
      - The access key password. Never logged or returned.
      - If not set, the environment variable E(ZENLAYERCLOUD_ACCESS_KEY_PASSWORD) is used.
    type: str
  region:
    description:
      - Providers V(tencentcloud), V(alicloud), V(baiducloud) (required).
      - The region of the instances, for example C(ap-guangzhou) (V(tencentcloud)), C(cn-hangzhou) (V(alicloud)) or
        C(bj) (V(baiducloud)).
      - If not set, the environment variables with V(tencentcloud) E(TENCENTCLOUD_REGION); with V(alicloud)
        E(ALICLOUD_REGION), then E(ALIBABA_CLOUD_REGION_ID); with V(baiducloud) E(BAIDUCLOUD_REGION), then
        E(BCE_REGION) are used.
    type: str
  vpc_endpoint:
    description:
      - Providers V(tencentcloud).
      - The endpoint URL of Tencent Cloud's VPC product, which answers C(DescribeSecurityGroups); defaults to
        O(endpoint) when that is set, else to C(https://vpc.<region>.tencentcloudapi.com).
    type: str
'''
