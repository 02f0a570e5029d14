# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Baselines with the clouds' official Python SDKs (test-only dependencies), for benchmarks/bench.py.

Two ways a user binds groups today, each doing the job correctly:

* ``sequential``: a careful script. For each instance, one call at a time: read it, then write only
  what differs (one call per instance and group, or one replace call where the cloud has one).
* ``terraform``: the Terraform providers' pattern. One resource per instance-group pair (one per
  instance where the provider manages the whole list), each created as a write then a read, deleted as
  a refresh read then a write, 10 resources at a time (Terraform's default -parallelism). Dependent
  steps of one instance (a cloud's floor or ceiling of groups) run in successive waves, as
  depends_on / create_before_destroy would order them.

Both retry throttling and "operation in progress" answers with exponential backoff and full jitter,
like the SDKs' and Terraform's own retry loops; nothing else is retried.
"""

import concurrent.futures
import random
import re
import time

RETRYABLE = re.compile(r'RequestLimitExceeded|Throttl|TooManyRequests|RateLimit|rate exceeded|limit.exceeded|429|TaskRunning|InProgress|Operating',
                       re.IGNORECASE)
TERRAFORM_PARALLELISM = 10


def retried(func, *args):
    """func(*args), retrying throttling and in-progress answers (0.1 s doubling to 5 s, full jitter)."""
    delay = 0.1
    for attempt in range(30):
        try:
            return func(*args)
        except Exception as exc:  # pylint: disable=broad-except
            if attempt == 29 or not RETRYABLE.search('%s %r' % (exc, exc)):
                raise
            time.sleep(random.uniform(0, delay))
            delay = min(delay * 2, 5.0)
    return None


# --- one adapter per cloud: read_one, bind, unbind and (where the API has it) set -----------------

class Tencent(object):
    has_set = True

    def __init__(self, endpoint, creds):
        from tencentcloud.common import credential  # pylint: disable=import-outside-toplevel
        from tencentcloud.common.profile.client_profile import ClientProfile  # pylint: disable=import-outside-toplevel
        from tencentcloud.common.profile.http_profile import HttpProfile  # pylint: disable=import-outside-toplevel
        from tencentcloud.cvm.v20170312 import cvm_client, models  # pylint: disable=import-outside-toplevel
        profile = ClientProfile(httpProfile=HttpProfile(protocol='http', endpoint=endpoint.split('//', 1)[1]))
        self.client = cvm_client.CvmClient(credential.Credential(creds['secret_id'], creds['secret_key']), creds['region'], profile)
        self.models = models

    def _call(self, action, **params):
        req = getattr(self.models, action + 'Request')()
        for key, value in params.items():
            setattr(req, key, value)
        return getattr(self.client, action)(req)

    def read_one(self, ident):
        """The instance's list, once its last operation has finished (the provider's own wait)."""
        while True:
            inst = self._call('DescribeInstances', InstanceIds=[ident]).InstanceSet[0]
            if inst.LatestOperationState != 'OPERATING':
                return list(inst.SecurityGroupIds)
            time.sleep(0.05)

    def bind(self, ident, sg):
        self._call('AssociateSecurityGroups', SecurityGroupIds=[sg], InstanceIds=[ident])

    def unbind(self, ident, sg):
        self._call('DisassociateSecurityGroups', SecurityGroupIds=[sg], InstanceIds=[ident])

    def set(self, ident, groups):
        self._call('ModifyInstancesAttribute', InstanceIds=[ident], SecurityGroups=list(groups))


class Alibaba(object):
    has_set = True

    def __init__(self, endpoint, creds):
        from alibabacloud_ecs20140526 import models  # pylint: disable=import-outside-toplevel
        from alibabacloud_ecs20140526.client import Client  # pylint: disable=import-outside-toplevel
        from alibabacloud_tea_openapi import utils_models  # pylint: disable=import-outside-toplevel
        from darabonba.runtime import RuntimeOptions  # pylint: disable=import-outside-toplevel
        config = utils_models.Config(access_key_id=creds['access_key'], access_key_secret=creds['secret_key'],
                                     region_id=creds['region'], endpoint=endpoint.split('//', 1)[1], protocol='http')
        self.client, self.models, self.runtime, self.region = Client(config), models, RuntimeOptions, creds['region']

    def _call(self, action, **params):
        request = getattr(self.models, action + 'Request')().from_map(params)
        method = re.sub(r'(?<!^)(?=[A-Z])', '_', action).lower() + '_with_options'
        return getattr(self.client, method)(request, self.runtime()).body.to_map()

    def read_one(self, ident):
        return list(self._call('DescribeInstanceAttribute', InstanceId=ident)['SecurityGroupIds']['SecurityGroupId'])

    def bind(self, ident, sg):
        self._call('JoinSecurityGroup', InstanceId=ident, SecurityGroupId=sg, RegionId=self.region)

    def unbind(self, ident, sg):
        self._call('LeaveSecurityGroup', InstanceId=ident, SecurityGroupId=sg, RegionId=self.region)

    def set(self, ident, groups):
        self._call('ModifyInstanceAttribute', InstanceId=ident, SecurityGroupIds=list(groups))


class Baidu(object):
    has_set = False

    def __init__(self, endpoint, creds):
        from baidubce.auth.bce_credentials import BceCredentials  # pylint: disable=import-outside-toplevel
        from baidubce.bce_client_configuration import BceClientConfiguration  # pylint: disable=import-outside-toplevel
        from baidubce.retry.retry_policy import NoRetryPolicy  # pylint: disable=import-outside-toplevel
        from baidubce.services.bcc.bcc_client import BccClient  # pylint: disable=import-outside-toplevel
        config = BceClientConfiguration(credentials=BceCredentials(creds['access_key'], creds['secret_key']), endpoint=endpoint)
        config.retry_policy = NoRetryPolicy()   # our retried() is the one retry loop, the same for every cloud
        self.client = BccClient(config)

    def read_one(self, ident):
        return list(self.client.get_instance(ident).instance.nic_info.security_groups)

    def bind(self, ident, sg):
        self.client.bind_instance_to_security_group(ident, sg)

    def unbind(self, ident, sg):
        self.client.unbind_instance_from_security_group(ident, sg)


class Zenlayer(object):
    has_set = False

    def __init__(self, endpoint, creds):
        from zenlayercloud.common.config import Config  # pylint: disable=import-outside-toplevel
        from zenlayercloud.common.credential import Credential  # pylint: disable=import-outside-toplevel
        from zenlayercloud.vm.v20230313 import models, vm_client  # pylint: disable=import-outside-toplevel
        config = Config(scheme='http', domain=endpoint.split('//', 1)[1], request_timeout=30, rate_limit_max_retries=0)
        self.client = vm_client.VmClient(Credential(creds['access_key_id'], creds['access_key_password']), config)
        self.models = models

    def _call(self, action, **fields):
        req = getattr(self.models, action + 'Request')()
        for key, value in fields.items():
            setattr(req, key, value)
        return getattr(self.client, action)(req)

    def read_one(self, ident):
        item = self._call('DescribeInstances', instanceIds=[ident]).dataSet[0]
        return list(item.securityGroupIds if hasattr(item, 'securityGroupIds') else item['securityGroupIds'])

    def bind(self, ident, sg):
        self._call('AssociateSecurityGroupInstance', securityGroupId=sg, instanceId=ident)

    def unbind(self, ident, sg):
        self._call('UnAssociateSecurityGroupInstance', securityGroupId=sg, instanceId=ident)


ADAPTERS = {'tencentcloud': Tencent, 'alicloud': Alibaba, 'baiducloud': Baidu, 'zenlayer': Zenlayer}


def steps(before, wanted, purge, state, bounds, has_set):
    """The per-instance writes from before to the wanted list: a replace call where the cloud has one
    (purge), else binds first while under the ceiling and unbinds when at it, never under the floor."""
    min_groups, max_groups = bounds
    if state == 'absent':
        after = [sg for sg in before if sg not in wanted]
    elif purge:
        after = list(wanted)
    else:
        after = list(before) + [sg for sg in wanted if sg not in before]
    if after == before or (not purge and set(after) == set(before)):
        return []
    if purge and has_set:
        return [('set', after)]
    adds = [sg for sg in after if sg not in before]
    removes = [sg for sg in before if sg not in after]
    count, out = len(before), []
    while adds or removes:
        if adds and count < max_groups:
            out.append(('bind', adds.pop(0)))
            count += 1
        elif removes and count > min_groups:
            out.append(('unbind', removes.pop(0)))
            count -= 1
        else:
            raise ValueError('no step keeps the instance within its bounds')
    return out


def _write(client, step, ident):
    kind, arg = step
    retried(getattr(client, kind), ident, arg)


def sequential(client, ids, wanted, purge, state, bounds):
    """A careful script: read each instance, write what differs, one call at a time."""
    for ident in ids:
        before = retried(client.read_one, ident)
        for step in steps(before, wanted, purge, state, bounds, client.has_set):
            _write(client, step, ident)


def terraform(client, ids, before, wanted, purge, state, bounds):
    """One resource per pair (per instance for a whole-list attribute), 10 at a time: a refresh read
    of every existing resource, then per wave each changed resource's write and read."""
    managed = [sg for sg in before if sg in wanted] + ([sg for sg in before if sg not in wanted] if purge else [])
    plans = dict((i, steps(list(before), wanted, purge, state, bounds, client.has_set)) for i in ids)
    with concurrent.futures.ThreadPoolExecutor(TERRAFORM_PARALLELISM) as pool:
        # Refresh: one read per resource already in the state (one per instance for a whole-list one).
        refresh = list(ids) if purge and client.has_set else [i for i in ids for dummy in managed]
        list(pool.map(lambda i: retried(client.read_one, i), refresh))
        depth = max([len(p) for p in plans.values()] or [0])
        for wave in range(depth):
            todo = [(i, plans[i][wave]) for i in ids if len(plans[i]) > wave]

            def apply(item):
                ident, step = item
                _write(client, step, ident)
                if step[0] != 'unbind':   # a created or updated resource is read back; a deleted one is gone
                    retried(client.read_one, ident)
            list(pool.map(apply, todo))


def run(provider, endpoint, creds, way, ids, before, wanted, purge, state, bounds):
    client = ADAPTERS[provider](endpoint, creds)
    started = time.monotonic()
    if way == 'sequential':
        sequential(client, ids, wanted, purge, state, bounds)
    else:
        terraform(client, ids, before, wanted, purge, state, bounds)
    return time.monotonic() - started
