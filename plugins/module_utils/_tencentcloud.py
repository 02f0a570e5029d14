# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This module_utils is PRIVATE to the collection: it may change at any time.
"""Tencent Cloud CVM: everything specific to it, for the engine.

API 3.0 (version 2017-03-12), TC3-HMAC-SHA256 signing. Two kinds of target: CVM instances
(AssociateSecurityGroups / DisassociateSecurityGroups / ModifyInstancesAttribute / DescribeInstances;
asynchronous: completion shows in DescribeInstances' LatestOperationState) and secondary elastic
network interfaces (VPC AssociateNetworkInterfaceSecurityGroups / DisassociateNetworkInterfaceSecurityGroups /
ModifyNetworkInterfaceAttribute / DescribeNetworkInterfaces; answered with no task to poll: the engine
re-reads until they show). Groups are checked with VPC DescribeSecurityGroups.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import json
import time
from urllib.parse import urlsplit

from ansible.module_utils.basic import env_fallback

from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

API_VERSION = '2017-03-12'
CONTENT_TYPE = 'application/json'
PAGE = 100                       # InstanceIds / SecurityGroupIds per Describe call, and Limit
FILTER_VALUES = 5                # values of one filter
POLL_FIRST, POLL_MAX = 0.5, 5.0  # seconds between LatestOperationState polls
# [inferred] Seconds after a write during which DescribeInstances may still show the previous LatestOperation* fields:
# the Terraform provider "cannot catch LatestOperationState change immediately after modification returns" and
# sleeps 10 s. Only a write whose answer was lost (no RequestId to wait for) waits this long for a sign of it.
OPERATION_STATE_LAG_S = 10.0

# InstanceStates in which Tencent Cloud refuses a security-group change, so the task refuses the
# instance before any write. ModifyInstancesAttribute documents UnsupportedOperation.InstanceState<State>
# for each of them; AssociateSecurityGroups documents it for PENDING only. That Associate and
# Disassociate refuse the others too is [inferred] (reference sections 3.1, 3.2, 3.4).
REFUSED_STATES = ('PENDING', 'STARTING', 'STOPPING', 'REBOOTING', 'SHUTDOWN', 'TERMINATING', 'ENTER_RESCUE_MODE',
                  'RESCUE_MODE', 'EXIT_RESCUE_MODE', 'ENTER_SERVICE_LIVE_MIGRATE', 'SERVICE_LIVE_MIGRATE',
                  'EXIT_SERVICE_LIVE_MIGRATE')

# Of those, the states that end on their own in one that takes the change (PENDING -> RUNNING, STARTING ->
# RUNNING, STOPPING -> STOPPED, REBOOTING -> RUNNING): an instance to change in one of them is awaited within
# wait_timeout, like one whose LatestOperationState is OPERATING, instead of refused. The reference's error
# table says to wait for these (UnsupportedOperation.InstanceState{Pending,Starting,Stopping,Rebooting}: "wait
# for a stable InstanceState"); that they end within minutes is [inferred]. SHUTDOWN, TERMINATING and the
# rescue-mode and live-migration states end only by someone's action, or in deletion: still refused.
AWAITED_STATES = ('PENDING', 'STARTING', 'STOPPING', 'REBOOTING')

# Secondary ENIs: facts the API documentation does not state, kept here and named in the module's documentation.
ENI_INFERRED = {
    # Groups per ENI: the instance quota (5) is assumed; max_security_groups overrides it.
    'max_groups': 5,
    # The ENI calls return a RequestId only (no task for DescribeVpcTaskResult): whether DescribeNetworkInterfaces shows
    # the change at once is not documented, so the engine re-reads until it does ('eventual').
    'completion': 'eventual',
    # NetworkInterfaceState values in which the groups can be changed, and those that end on their own (awaited within
    # wait_timeout); DELETING (or anything else) is refused before any write.
    'changeable_states': ('AVAILABLE', 'INUSE'),
    'transient_states': ('PENDING', 'ATTACHING', 'DETACHING'),
    # Calls per second: Associate/Disassociate publish 20; DescribeNetworkInterfaces and ModifyNetworkInterfaceAttribute
    # are assumed to have the VPC API's usual 20.
    'rate_limits': {'AssociateNetworkInterfaceSecurityGroups': 20, 'DisassociateNetworkInterfaceSecurityGroups': 20,
                    'DescribeNetworkInterfaces': 20, 'ModifyNetworkInterfaceAttribute': 20},
}

# Error code -> class. Matched on the full code, then on its prefix before the first dot.
ERROR_CLASSES = {
    'RequestLimitExceeded': transport.THROTTLED,
    'MutexOperation.TaskRunning': transport.IN_PROGRESS,
    'UnsupportedOperation.MutexOperationTaskRunning': transport.IN_PROGRESS,
    'OperationDenied.MutexTaskRunning': transport.IN_PROGRESS,
    'OperationDenied.InstanceOperationInProgress': transport.IN_PROGRESS,
    'ResourceInUse': transport.IN_PROGRESS,
    'UnsupportedOperation.InstanceStatePending': transport.IN_PROGRESS,
    'UnsupportedOperation.InstanceStateStarting': transport.IN_PROGRESS,
    'UnsupportedOperation.InstanceStateStopping': transport.IN_PROGRESS,
    'UnsupportedOperation.InstanceStateRebooting': transport.IN_PROGRESS,
    'InternalError': transport.TRANSIENT,
    'InternalServerError': transport.TRANSIENT,
    'ServiceUnavailable': transport.TRANSIENT,
    'ResourceUnavailable': transport.TRANSIENT,
    'FailedOperation.SecurityGroupActionFailed': transport.AMBIGUOUS,
    'SecGroupActionFailure': transport.AMBIGUOUS,
    'AuthFailure': transport.AUTH,
    'UnauthorizedOperation': transport.AUTH,
    'LimitExceeded': transport.QUOTA,
    'ResourceNotFound': transport.NOT_FOUND,
    'InvalidSecurityGroupId.NotFound': transport.NOT_FOUND,
    'InvalidInstanceId.NotFound': transport.NOT_FOUND,
    'InvalidNetworkInterfaceId.NotFound': transport.NOT_FOUND,
}


def error_class(code):
    if code in ERROR_CLASSES:
        return ERROR_CLASSES[code]
    return ERROR_CLASSES.get(code.split('.', 1)[0], transport.INVALID)


def tc3_authorization(secret_id, secret_key, service, host, timestamp, payload, content_type=CONTENT_TYPE,
                      method='POST', query=''):
    """The Authorization header of a TC3-HMAC-SHA256 request (signed headers: content-type;host)."""
    date = time.strftime('%Y-%m-%d', time.gmtime(timestamp))
    canonical = '\n'.join([method, '/', query, 'content-type:%s\nhost:%s\n' % (content_type, host),
                           'content-type;host', hashlib.sha256(payload).hexdigest()])
    scope = '%s/%s/tc3_request' % (date, service)
    to_sign = '\n'.join(['TC3-HMAC-SHA256', str(timestamp), scope, hashlib.sha256(canonical.encode('utf-8')).hexdigest()])

    def _hmac(key, msg):
        return hmac.new(key, msg.encode('utf-8'), hashlib.sha256).digest()

    key = _hmac(_hmac(_hmac(('TC3' + secret_key).encode('utf-8'), date), service), 'tc3_request')
    signature = hmac.new(key, to_sign.encode('utf-8'), hashlib.sha256).hexdigest()
    return 'TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=content-type;host, Signature=%s' % (secret_id, scope, signature)


def cvm_endpoint_warning(params):
    """The run-time warning for an endpoint naming a CVM host (cvm.*) without vpc_endpoint: the VPC calls
    (DescribeSecurityGroups) would go to the CVM host, which does not serve them; or None."""
    endpoint = params.get('endpoint')
    if not endpoint or params.get('vpc_endpoint'):
        return None
    parts = urlsplit(endpoint)
    if not (parts.hostname or '').lower().startswith('cvm.'):
        return None
    return ('endpoint %s is a CVM host, and the VPC calls (DescribeSecurityGroups, which checks the groups to bind) would be sent '
            'there too; set vpc_endpoint to the VPC host, for example %s://vpc.%s' % (endpoint, parts.scheme, parts.netloc[len('cvm.'):]))


def _chunks(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


INSTANCES = planner.TargetKind('instance_ids', 'instances', 'instance_id', r'ins-[a-z0-9]{8}', 'instance')
NETWORK_INTERFACES = planner.TargetKind('network_interface_ids', 'network_interfaces', 'network_interface_id', r'eni-[a-z0-9]{8}',
                                        'network interface')

# What differs between the kinds, as data: bounds, order, batch sizes and completion. Instances: one SG and up to 100
# instances per Associate/Disassociate, ModifyInstancesAttribute replaces the whole ordered list of up to 100 instances.
# ENIs: Associate/Disassociate take up to 100 ENIs (and groups; the planner sends one group a call),
# ModifyNetworkInterfaceAttribute replaces one ENI's ordered list.
KINDS = {
    'instance_ids': {'constraints': planner.Constraints(min_groups=0, max_groups=5, ordered=True, batch_size=100, set_batch_size=100),
                     'completion': 'task'},
    'network_interface_ids': {'constraints': planner.Constraints(min_groups=0, max_groups=ENI_INFERRED['max_groups'], ordered=True,
                                                                 batch_size=PAGE, set_batch_size=1),
                              'completion': ENI_INFERRED['completion']},
}


class TencentCloud:
    name = 'tencentcloud'
    display_name = 'Tencent Cloud'
    target_kinds = (INSTANCES, NETWORK_INTERFACES)
    security_group_id_pattern = r'sg-[a-z0-9]{8}'
    region_pattern = r'[a-z]{2}-[a-z0-9-]+'    # goes into the host name: ap-guangzhou, na-siliconvalley, ...
    # The instances' (the class's: its wait options); a run on ENIs takes KINDS['network_interface_ids'] in __init__.
    constraints = KINDS['instance_ids']['constraints']
    rate_limits = dict({'AssociateSecurityGroups': 10, 'DisassociateSecurityGroups': 10, 'ModifyInstancesAttribute': 10,
                        'DescribeInstances': 40, 'DescribeSecurityGroups': 100}, **ENI_INFERRED['rate_limits'])
    default_rate_limit = None     # every action used has a limit above
    completion = KINDS['instance_ids']['completion']     # LatestOperationState in DescribeInstances
    # A 100-instance call is all or nothing: a quota answer is caused by one of its instances, so the engine halves the call.
    per_target_errors = (transport.QUOTA,)
    argument_spec = dict(
        secret_id=dict(type='str', required=True, no_log=False, fallback=(env_fallback, ['TENCENTCLOUD_SECRET_ID'])),
        secret_key=dict(type='str', required=True, no_log=True, fallback=(env_fallback, ['TENCENTCLOUD_SECRET_KEY'])),
        security_token=dict(type='str', no_log=True,
                            fallback=(env_fallback, ['TENCENTCLOUD_SECURITY_TOKEN', 'TENCENTCLOUD_TOKEN'])),
        region=dict(type='str', required=True, fallback=(env_fallback, ['TENCENTCLOUD_REGION'])),
        vpc_endpoint=dict(type='str'),
    )

    # What each credential option is, in words every provider shares: how another provider's name for it is explained.
    credential_options = {'key ID': 'secret_id', 'secret': 'secret_key', 'token': 'security_token'}

    @classmethod
    def secrets(cls, params):
        return [params.get('secret_key'), params.get('security_token')]

    def __init__(self, params, conn, clock=time.time, sleep=time.sleep, monotonic=time.monotonic):
        self.params = params
        self.transport = conn
        self.clock = clock            # signing timestamps
        self.monotonic = monotonic    # the engine's deadline clock
        self.sleep = sleep
        self.last_request = {}    # instance -> RequestId of our last write to it, when its answer arrived
        self.seen_request = {}    # instance -> LatestOperationRequestId as last read before our write
        self.unknown_since = {}   # instance -> when a write to it whose answer was lost was sent
        self.status = {}          # instance -> InstanceState, as read
        self.warnings = [w for w in [cvm_endpoint_warning(params)] if w]
        self.operation = {}       # instance -> (LatestOperation, LatestOperationState, LatestOperationRequestId), as read
        self.kind = planner.chosen_kind(self.target_kinds, params)
        self.constraints = KINDS[self.kind.option]['constraints']
        self.completion = KINDS[self.kind.option]['completion']
        self.interfaces = {}      # ENI -> {'primary', 'instance'} as last read

    # -- requests -----------------------------------------------------------
    def url(self, service):
        """vpc_endpoint for the VPC product, else endpoint for both, else the region's public host."""
        endpoint = self.params.get('endpoint')
        if service == 'vpc' and self.params.get('vpc_endpoint'):
            endpoint = self.params['vpc_endpoint']
        if endpoint:
            return endpoint.rstrip('/') + '/'
        return 'https://%s.%s.tencentcloudapi.com/' % (service, self.params['region'])

    def call(self, service, action, body, write=False, awaits_in_progress=False):
        url = self.url(service)
        host = urlsplit(url).netloc
        payload = json.dumps(body).encode('utf-8')

        def build():
            timestamp = int(self.clock())
            headers = {
                'Content-Type': CONTENT_TYPE,
                'Host': host,
                'X-TC-Action': action,
                'X-TC-Version': API_VERSION,
                'X-TC-Timestamp': str(timestamp),
                'X-TC-Region': self.params['region'],
                'X-TC-Language': 'en-US',
                'X-TC-RequestClient': 'multicloud.secgroup',
                'Authorization': tc3_authorization(self.params['secret_id'], self.params['secret_key'], service,
                                                   host, timestamp, payload),
            }
            if self.params.get('security_token'):
                headers['X-TC-Token'] = self.params['security_token']
            return {'method': 'POST', 'url': url, 'headers': headers, 'data': payload}

        def parse(resp):
            try:
                data = resp.json()['Response']
            except (ValueError, KeyError, TypeError):
                data = None
            if not isinstance(data, dict):
                cls = transport.TRANSIENT if resp.status_code >= 500 else transport.INVALID
                raise transport.ProviderError(self.name, action, 'HTTP%d' % resp.status_code,
                                              'unexpected answer: %s' % resp.text[:200], None, resp.status_code, cls)
            error = data.get('Error')
            if error:
                code = error.get('Code', 'Unknown')
                raise transport.ProviderError(self.name, action, code, error.get('Message', ''), data.get('RequestId'),
                                              resp.status_code, error_class(code))
            return data

        return self.transport.call(transport.Call(action, build, parse, write=write, awaits_in_progress=awaits_in_progress))

    # -- the engine's interface --------------------------------------------
    def describe(self, ids):
        """DescribeInstances for every ID, 100 a call, the calls running concurrently."""
        def page(chunk):
            return self.call('cvm', 'DescribeInstances', {'InstanceIds': chunk, 'Offset': 0, 'Limit': PAGE})

        found = {}
        for data in self.transport.map(page, _chunks(list(ids), PAGE), self.params['max_concurrency']):
            if isinstance(data, Exception):
                raise data
            for item in data.get('InstanceSet') or []:
                if isinstance(item, dict) and item.get('InstanceId'):
                    found[item['InstanceId']] = item
        return found

    def read(self, ids):
        if self.kind is NETWORK_INTERFACES:
            return self.read_interfaces(ids)
        found = self.describe(ids)
        self.remember(found)
        current = dict((iid, list(item.get('SecurityGroupIds') or [])) for iid, item in found.items())
        return current, [iid for iid in ids if iid not in found]

    def found_in_chunks(self, describe, ids):
        """{id: item} of those that exist: describe(chunk) for chunks of 100 asked concurrently. A not-found answer
        does not say which ID is missing: such a chunk is halved and both halves asked again, down to single IDs."""
        found = {}
        chunks = _chunks(list(ids), PAGE)
        while chunks:
            results = self.transport.map(describe, chunks, self.params['max_concurrency'])
            halves = []
            for chunk, result in zip(chunks, results):
                if isinstance(result, transport.ProviderError) and result.error_class == transport.NOT_FOUND:
                    if len(chunk) > 1:
                        middle = (len(chunk) + 1) // 2
                        halves.extend([chunk[:middle], chunk[middle:]])
                elif isinstance(result, BaseException):
                    raise result
                else:
                    found.update((key, value) for key, value in result.items() if key in chunk)
            chunks = halves
        return found

    def describe_interfaces(self, chunk):
        """{ENI: item} of DescribeNetworkInterfaces for up to 100 IDs (unknown ones left out, or the chunk answered
        ResourceNotFound)."""
        data = self.call('vpc', 'DescribeNetworkInterfaces', {'NetworkInterfaceIds': chunk, 'Offset': 0, 'Limit': PAGE})
        return dict((item['NetworkInterfaceId'], item) for item in data.get('NetworkInterfaceSet') or []
                    if isinstance(item, dict) and item.get('NetworkInterfaceId'))

    def read_interfaces(self, ids):
        found = self.found_in_chunks(self.describe_interfaces, ids)
        current = {}
        for eni, item in found.items():
            current[eni] = list(item.get('GroupSet') or [])
            self.status[eni] = item.get('NetworkInterfaceState') or item.get('State')
            self.interfaces[eni] = {'primary': bool(item.get('Primary')), 'instance': (item.get('Attachment') or {}).get('InstanceId')}
        return current, [eni for eni in ids if eni not in found]

    def remember(self, found):
        """Record what the instances read show besides their lists (DescribeInstances items by ID)."""
        for iid, item in found.items():
            self.status[iid] = item.get('InstanceState')
            self.seen_request[iid] = item.get('LatestOperationRequestId')
            self.operation[iid] = (item.get('LatestOperation'), item.get('LatestOperationState'), item.get('LatestOperationRequestId'))

    def busy(self, iid):
        """Whether the instance, as last read, cannot take a change yet but will: OPERATING, or in AWAITED_STATES
        (not in a state refused for good: waiting would not help)."""
        state = self.status.get(iid)
        if state in REFUSED_STATES:
            return state in AWAITED_STATES
        return self.operation.get(iid, (None, None, None))[1] == 'OPERATING'

    def describe_busy(self, iid):
        """What keeps the instance busy, as last read: its transient state and/or the operation in progress."""
        operation, state, request_id = self.operation.get(iid, (None, None, None))
        what = []
        if self.status.get(iid) in AWAITED_STATES:
            what.append('InstanceState %s' % self.status[iid])
        if state == 'OPERATING':
            what.append('operation %s OPERATING (request ID %s)' % (operation or 'unnamed', request_id or 'none'))
        return ' and '.join(what)

    def wait_until_ready(self, iids, deadline):
        """Poll the instances just read busy until none is (or the deadline); (their lists as last read, those still busy)."""
        pending = list(iids)
        lists = {}
        first = [True]

        def step():
            if first[0]:          # they were just read
                first[0] = False
                return False, None
            found = self.describe(pending)
            self.remember(found)
            lists.update((iid, list(item.get('SecurityGroupIds') or [])) for iid, item in found.items() if iid in pending)
            # One that disappeared is no longer awaited: the write names it as not found.
            pending[:] = [iid for iid in pending if iid in found and self.busy(iid)]
            return not pending, None

        transport.poll(step, deadline, self.monotonic, self.sleep, POLL_FIRST, POLL_MAX)
        return lists, pending

    def await_ready(self, targets, deadline):
        """Wait for the instances to change that are busy (see busy), so that they are changed rather than refused or
        answered MutexOperation.TaskRunning; their lists as read then. One still busy at the deadline is refused."""
        if self.kind is NETWORK_INTERFACES:
            return self.await_interfaces(targets, deadline)
        busy = [target['target_id'] for target in targets if self.busy(target['target_id'])]
        if not busy:
            return {}
        lists, dummy = self.wait_until_ready(busy, deadline)
        return lists

    def refusals(self, targets):
        """Instances to change whose InstanceState cannot take the change (REFUSED_STATES), or still busy after await_ready.

        One such instance would fail the whole all-or-nothing batch it is in, retried in vain.
        """
        if self.kind is NETWORK_INTERFACES:
            return self.interface_refusals(targets)
        refused = []
        waited = 'after waiting wait_timeout (%s s)' % self.params.get('wait_timeout')
        for target in targets:
            iid = target['target_id']
            state = self.status.get(iid)
            if target['before'] == target['after']:
                continue
            if state in REFUSED_STATES:
                now = 'is still %s %s' % (state, waited) if state in AWAITED_STATES else 'is %s' % state
                refused.append((iid, '%s, and %s refuses security-group changes to an instance in that state '
                                '(UnsupportedOperation.InstanceState%s); run the task again once it is RUNNING or STOPPED'
                                % (now, self.display_name, ''.join(word.capitalize() for word in state.split('_')))))
            elif self.busy(iid):
                refused.append((iid, 'still has another operation in progress %s: %s, and %s refuses changes meanwhile '
                                '(MutexOperation.TaskRunning); run the task again once it is over, or raise wait_timeout'
                                % (waited, self.describe_busy(iid), self.display_name)))
        return refused

    def await_interfaces(self, targets, deadline):
        """Wait for the secondary ENIs to change that are in a state that ends on its own (ENI_INFERRED); their lists as read
        then. One still in it at the deadline is left to refusals."""
        waiting = [t['target_id'] for t in targets if not self.interfaces[t['target_id']]['primary']
                   and self.status.get(t['target_id']) in ENI_INFERRED['transient_states']]
        if not waiting:
            return {}
        lists = {}

        def step():
            current, dummy = self.read_interfaces(waiting)
            lists.update(current)
            waiting[:] = [eni for eni in waiting if eni in current and self.status.get(eni) in ENI_INFERRED['transient_states']]
            return not waiting, None

        transport.poll(step, deadline, self.monotonic, self.sleep, POLL_FIRST, POLL_MAX)
        return lists

    def interface_refusals(self, targets):
        """A primary ENI (always: its groups are its instance's, and the ENI calls refuse it), and an ENI to change whose
        state allows no change (ENI_INFERRED)."""
        refused = []
        for target in targets:
            eni = target['target_id']
            info = self.interfaces[eni]
            if info['primary']:
                refused.append((eni, 'is the primary network interface of instance %s: its security groups are the '
                                     "instance's, which the network-interface calls do not change; use instance_ids: [%s] instead"
                                % (info['instance'], info['instance'])))
                continue
            state = self.status.get(eni)
            if target['before'] != target['after'] and state not in ENI_INFERRED['changeable_states']:
                still = ('still %s after waiting wait_timeout (%s s)' % (state, self.params.get('wait_timeout'))
                         if state in ENI_INFERRED['transient_states'] else state)
                refused.append((eni, 'is %s, and %s changes the security groups of a network interface only while it is %s '
                                     '(UnsupportedOperation.InvalidState)'
                                % (still, self.display_name, ' or '.join(ENI_INFERRED['changeable_states']))))
        return refused

    def describe_groups(self, chunk):
        """{id: {'name'}} of the chunk's groups; ResourceNotFound (a ProviderError) if any does not exist."""
        data = self.call('vpc', 'DescribeSecurityGroups', {'SecurityGroupIds': chunk, 'Offset': '0', 'Limit': str(PAGE)})
        return dict((item.get('SecurityGroupId'), {'name': item.get('SecurityGroupName')})
                    for item in data.get('SecurityGroupSet') or [] if isinstance(item, dict) and item.get('SecurityGroupId'))

    def describe_security_groups(self, sg_ids):
        """{id: {'name'}} of those that exist. Chunks of 100 asked concurrently. ResourceNotFound does not
        say which ID is missing: a chunk answered so is halved and both halves asked again, concurrently,
        down to single IDs."""
        return self.found_in_chunks(self.describe_groups, sg_ids)

    def missing_security_groups(self, sg_ids):
        found = self.describe_security_groups(sg_ids)
        return [sg for sg in sg_ids if sg not in found]

    def bound_targets(self, sg_ids):
        """{group: [target, ...]}: DescribeInstances filtered by security-group-id, or DescribeNetworkInterfaces filtered
        by groups.security-group-id and is-primary false (a primary ENI's groups are its instance's), 5 values a filter,
        100 targets a page; the pages after the first run concurrently."""
        if self.kind is NETWORK_INTERFACES:
            service, action, set_key, id_key, groups_key = 'vpc', 'DescribeNetworkInterfaces', 'NetworkInterfaceSet', 'NetworkInterfaceId', 'GroupSet'
        else:
            service, action, set_key, id_key, groups_key = 'cvm', 'DescribeInstances', 'InstanceSet', 'InstanceId', 'SecurityGroupIds'
        bound = dict((sg, []) for sg in sg_ids)
        for chunk in _chunks(list(sg_ids), FILTER_VALUES):
            def page(offset, chunk=chunk):
                if self.kind is NETWORK_INTERFACES:
                    filters = [{'Name': 'groups.security-group-id', 'Values': chunk}, {'Name': 'is-primary', 'Values': ['false']}]
                else:
                    filters = [{'Name': 'security-group-id', 'Values': chunk}]
                return self.call(service, action, {'Filters': filters, 'Offset': offset, 'Limit': PAGE})
            first = page(0)
            pages = [first] + self.transport.map(page, range(PAGE, int(first.get('TotalCount') or 0), PAGE),
                                                 self.params['max_concurrency'])
            for data in pages:
                if isinstance(data, Exception):
                    raise data
                for item in data.get(set_key) or []:
                    for sg in item.get(groups_key) or []:
                        if sg in chunk and item.get(id_key) not in bound[sg]:
                            bound[sg].append(item.get(id_key))
        return bound

    def apply(self, op):
        if self.kind is NETWORK_INTERFACES:
            return self.apply_interfaces(op)
        if op['action'] == 'set':
            action, body = 'ModifyInstancesAttribute', {'InstanceIds': op['target_ids'], 'SecurityGroups': op['security_group_ids']}
        else:
            action = 'AssociateSecurityGroups' if op['action'] == 'bind' else 'DisassociateSecurityGroups'
            body = {'SecurityGroupIds': op['security_group_ids'], 'InstanceIds': op['target_ids']}
        try:
            data = self.write(action, body, op['target_ids'])
        except transport.ProviderError as error:
            for iid in op['target_ids']:
                self.last_request.pop(iid, None)
                if error.error_class in (transport.AMBIGUOUS, transport.TRANSIENT):
                    self.unknown_since[iid] = self.monotonic()
            raise
        for iid in op['target_ids']:
            self.last_request[iid] = data.get('RequestId')
            self.unknown_since.pop(iid, None)
        return [data.get('RequestId')]

    def apply_interfaces(self, op):
        """ModifyNetworkInterfaceAttribute (one ENI's whole ordered list), or Associate/Disassociate NetworkInterfaceSecurityGroups
        (one group on up to 100 ENIs). An "in progress" answer is retried by the transport after a backoff pause."""
        if op['action'] == 'set':
            action, body = 'ModifyNetworkInterfaceAttribute', {'NetworkInterfaceId': op['target_ids'][0],
                                                               'SecurityGroupIds': op['security_group_ids']}
        else:
            action = 'AssociateNetworkInterfaceSecurityGroups' if op['action'] == 'bind' else 'DisassociateNetworkInterfaceSecurityGroups'
            body = {'NetworkInterfaceIds': op['target_ids'], 'SecurityGroupIds': op['security_group_ids']}
        return [self.call('vpc', action, body, write=True).get('RequestId')]

    def write(self, action, body, iids):
        """Send a write; an "in progress" answer (someone started an operation on an instance since we read it)
        is waited out: one read finds the busy instance(s), which are awaited within wait_timeout, then the
        write is sent again. Only when no instance shows why is it retried after a backoff pause, as before."""
        deadline = None
        blind = 0
        while True:
            try:
                return self.call('cvm', action, body, write=True, awaits_in_progress=True)
            except transport.ProviderError as error:
                if error.error_class != transport.IN_PROGRESS:
                    raise
                if deadline is None:
                    deadline = self.monotonic() + self.params.get('wait_timeout', 300)
                found = self.describe(iids)
                self.remember(found)
                busy = [iid for iid in iids if iid in found and self.busy(iid)]
                if busy:
                    dummy, still = self.wait_until_ready(busy, deadline)
                    if still:
                        raise self.explained(error, 'still busy after waiting wait_timeout (%s s): %s' % (
                            self.params.get('wait_timeout', 300), '; '.join('%s: %s' % (iid, self.describe_busy(iid)) for iid in still)))
                    continue
                if blind >= self.transport.max_retries:
                    raise self.explained(error, 'no instance of the request showed an operation in progress or a transient state when read')
                self.sleep(self.transport.backoff.delay(blind))
                blind += 1

    def explained(self, error, why):
        """error with why appended to its message."""
        return transport.ProviderError(self.name, error.action, error.code, '%s (%s)' % (error.message, why), error.request_id,
                                       error.http_status, error.error_class, error.retry_after)

    def settle(self, expected, deadline):
        """Poll until each instance's change is over; return the lists read.

        An instance is settled when it is not OPERATING and its latest operation is our last
        write to it, or another one than the one it showed before that write (ours completed,
        possibly overtaken by someone else's), or it already shows the expected list. After a
        write of unknown outcome (no RequestId came back) the same holds, except that our
        request cannot be recognised: until OPERATION_STATE_LAG_S after it, the fields from
        before it do not settle the instance. FAILED is ours only when its RequestId is our
        write's; then the other instances are still awaited, and a ProviderError naming the
        failed ones (failed_target_ids) is raised at the end; an instance whose latest failed
        operation is not ours is settled with the list read, and the engine re-plans. Polls
        until the deadline itself, the last sleep cut to it.
        """
        pending = sorted(expected)
        lists = {}
        failures = []

        def step():
            found = self.describe(pending)
            still = []
            for iid in pending:
                item = found.get(iid)
                if item is None:
                    continue
                failure = self.failure(iid, item)
                if failure is not None:
                    failures.append((iid, failure))
                    self.last_request.pop(iid, None)       # over: a later settle reads what it has
                elif self.settled(iid, item, expected[iid]):
                    lists[iid] = list(item.get('SecurityGroupIds') or [])
                    self.seen_request[iid] = item.get('LatestOperationRequestId')
                    self.unknown_since.pop(iid, None)
                else:
                    still.append(iid)
            pending[:] = still
            return not still, still

        done, still = transport.poll(step, deadline, self.monotonic, self.sleep, POLL_FIRST, POLL_MAX)
        if failures:
            error = failures[0][1]
            error.failed_target_ids = [iid for iid, dummy in failures]
            if len(failures) > 1:
                error.message += ' (and on %s)' % ', '.join(iid for iid, dummy in failures[1:])
            raise error
        if not done:
            raise transport.ProviderError(self.name, 'DescribeInstances', 'WaitTimeout',
                                          'instance(s) %s still show an operation in progress, or not yet our change, '
                                          'after wait_timeout' % ', '.join(still), None, None, transport.FAILED)
        return lists

    def failure(self, iid, item):
        """The ProviderError of our own write to this instance if the instance shows it FAILED, else None."""
        latest = item.get('LatestOperationRequestId')
        if item.get('LatestOperationState') != 'FAILED' or latest is None or latest != self.last_request.get(iid):
            return None
        return transport.ProviderError(
            self.name, item.get('LatestOperation') or 'DescribeInstances', 'LatestOperationState.FAILED',
            'the change on instance %s failed: %s' % (iid, item.get('LatestOperationErrorMsg') or 'no reason given'),
            latest, None, transport.FAILED)

    def settled(self, iid, item, expected):
        """Whether the instance's change is over (see settle)."""
        if item.get('LatestOperationState') == 'OPERATING':
            return False
        latest = item.get('LatestOperationRequestId')
        ours = self.last_request.get(iid)
        if ours is None and iid not in self.unknown_since:
            return True
        if latest != self.seen_request.get(iid) or list(item.get('SecurityGroupIds') or []) == expected:
            return True
        if ours is None:
            return self.monotonic() - self.unknown_since[iid] >= OPERATION_STATE_LAG_S
        return latest == ours
