# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This module_utils is PRIVATE to the collection: it may change at any time.
"""Zenlayer Cloud "vm" service: everything specific to it, for the engine.

API 2.0 (``POST /api/v2/vm``, the action in ``X-ZC-Action``), signed with
ZC2-HMAC-SHA256: DescribeInstances (each instance's ``securityGroupIds`` and
``instanceStatus``), DescribeSecurityGroups (existence and
``securityGroupStatus``), AssociateSecurityGroupInstance and
UnAssociateSecurityGroupInstance (one group on one instance per call). Writes
answer only a request ID and nothing can be polled: the engine re-reads until
the instances show our writes (completion 'eventual').
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import json
import re
import time
from urllib.parse import urlsplit

from ansible.module_utils.basic import env_fallback

from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

API_VERSION = '2023-03-13'
SERVICE = 'vm'
DEFAULT_ENDPOINT = 'https://console.zenlayer.com'
CONTENT_TYPE = 'application/json'
SIGNATURE_METHOD = 'ZC2-HMAC-SHA256'
SIGNED_HEADERS = 'content-type;host'
BOUND_PAGE = 1000                 # pageSize of a DescribeInstances by security group (its maximum)
PAGE = 100                                     # instanceIds / securityGroupIds per Describe call (documented maximum)
MAX_GROUPS = 2                                 # per instance: documented ("at most 2"), a hard limit, not a quota
ID_PATTERN = r'[0-9]{8,19}'                    # decimal strings; 18-19 digits do not survive a float
BINDABLE_INSTANCE_STATUSES = ('RUNNING', 'STOPPED')
# The docs spell the bindable group status "Available" (DescribeSecurityGroups example) and "AVAILABLE"
# (DeleteSecurityGroup): compared without regard to case.
SG_AVAILABLE = 'AVAILABLE'

# Facts the reference marks [inference] or unverified, each used from here only (and named in the module's docs).
INFERRED = {
    # Whether an instance may be left without any security group is not documented: no floor is assumed
    # (the planner binds before it unbinds, so only a task asking for no group at all leaves none). If the
    # cloud refuses to unbind the last group, the failure says so, naming the instance.
    'min_groups': 0,
    # No rate limit is published: the starting calls per second of each action (adapting to throttling answers),
    # overridable with rate_limit.
    'default_rate_limit': 20.0,
    # No answer to a duplicate bind, or to an unbind of an unbound group, is documented. A code that only says
    # "it is already so / already not so" confirms the one target of the call.
    'idempotency_codes': re.compile(r'ALREADY|DUPLICATE|NOT_ASSOCIATED|NOT_BOUND|NOT_APPLIED|NOT_ATTACHED'),
    # Authentication error codes are not published: any 401, and any 403 that is not OPERATION_DENIED_*.
    'auth_statuses': (401, 403),
}

# Codes with a fixed class; reference section 4. Dotted legacy codes (Go SDK) are matched as UPPER_SNAKE.
ERROR_CLASSES = {
    'REQUEST_LIMIT_EXCEEDED': transport.THROTTLED,
    'SERVICE_TEMPORARY_UNAVAILABLE': transport.TRANSIENT,
    'INTERNAL_SERVER_ERROR': transport.TRANSIENT,
    'REQUEST_TIMED_OUT': transport.TRANSIENT,
    # The instance is between states: nothing was done, try again later.
    'OPERATION_DENIED_INSTANCE_STATUS': transport.IN_PROGRESS,
    'OPERATION_DENIED_SECURITY_GROUP_STATUS_NOT_AVAILABLE': transport.CONFLICT,
    'OPERATION_DENIED_INSTANCE_NOT_SUPPORT_SECURITY_GROUP': transport.CONFLICT,
    'OPERATION_DENIED_INSTANCE_SECURITY_GROUP_EXCEED_LIMIT': transport.QUOTA,
    'INVALID_SECURITY_GROUP_NOT_FOUND': transport.NOT_FOUND,
    'INVALID_INSTANCE_NOT_FOUND': transport.NOT_FOUND,
    'OPERATION_FAILED_RESOURCE_NOT_FOUND': transport.NOT_FOUND,
}


def error_class(code, status):
    code = code.replace('.', '_').upper()
    if code in ERROR_CLASSES:
        return ERROR_CLASSES[code]
    if status == 429:
        return transport.THROTTLED
    if INFERRED['idempotency_codes'].search(code):
        return transport.ALREADY
    if status is not None and status >= 500:
        return transport.TRANSIENT
    if status in INFERRED['auth_statuses'] and not code.startswith('OPERATION_DENIED_'):
        return transport.AUTH
    return transport.INVALID


def zc2_authorization(access_key_id, access_key_password, host, timestamp, payload, content_type=CONTENT_TYPE):
    """The Authorization header of a ZC2-HMAC-SHA256 request.

    Only the content type, the host and the body are signed (canonical URI '/', empty
    query), with the raw password as the key: action, version and path are not.
    """
    canonical = '\n'.join(['POST', '/', '', 'content-type:%s\nhost:%s\n' % (content_type, host), SIGNED_HEADERS,
                           hashlib.sha256(payload).hexdigest()])
    to_sign = '\n'.join([SIGNATURE_METHOD, str(timestamp), hashlib.sha256(canonical.encode('utf-8')).hexdigest()])
    signature = hmac.new(access_key_password.encode('utf-8'), to_sign.encode('utf-8'), hashlib.sha256).hexdigest()
    return '%s Credential=%s, SignedHeaders=%s, Signature=%s' % (SIGNATURE_METHOD, access_key_id, SIGNED_HEADERS, signature)


def load_json(text):
    """JSON with every number kept as its text: an ID sent unquoted stays exact."""
    return json.loads(text, parse_int=str, parse_float=str)


def _chunks(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


class ZenlayerCloud:
    name = 'zenlayer'
    display_name = 'Zenlayer Cloud'
    target_kinds = (planner.TargetKind(option='instance_ids', result_key='instances', id_key='instance_id',
                                       pattern=ID_PATTERN, word='instance'),)
    security_group_id_pattern = ID_PATTERN
    # At most 2 groups per instance (documented); one group on one instance per call; no replace call.
    constraints = planner.Constraints(min_groups=INFERRED['min_groups'], max_groups=MAX_GROUPS, ordered=False, batch_size=1,
                                      set_batch_size=0)
    hard_max_groups = MAX_GROUPS
    rate_limits = {}
    default_rate_limit = INFERRED['default_rate_limit']
    completion = 'eventual'
    argument_spec = dict(
        access_key_id=dict(type='str', required=True, no_log=False, fallback=(env_fallback, ['ZENLAYERCLOUD_ACCESS_KEY_ID'])),
        access_key_password=dict(type='str', required=True, no_log=True,
                                 fallback=(env_fallback, ['ZENLAYERCLOUD_ACCESS_KEY_PASSWORD'])),
    )

    # What each credential option is, in words every provider shares: how another provider's name for it is explained.
    credential_options = {'key ID': 'access_key_id', 'secret': 'access_key_password'}

    @classmethod
    def secrets(cls, params):
        return [params.get('access_key_password')]

    def __init__(self, params, conn, clock=time.time):
        self.params = params
        self.transport = conn
        self.clock = clock                # signing timestamps
        self.url = (params.get('endpoint') or DEFAULT_ENDPOINT).rstrip('/') + '/api/v2/' + SERVICE
        self.host = urlsplit(self.url).netloc
        self.status = {}         # instance -> instanceStatus, as last read
        self.group_status = {}            # security group -> securityGroupStatus, as last read
        self.current = {}                 # instance -> its groups, as last read
        self.warnings = []

    # -- requests -----------------------------------------------------------
    def call(self, action, body, write=False):
        payload = json.dumps(body).encode('utf-8')

        def build():
            timestamp = int(self.clock())
            headers = {
                'Content-Type': CONTENT_TYPE,
                'Host': self.host,
                'X-ZC-Action': action,
                'X-ZC-Version': API_VERSION,
                'X-ZC-Service': SERVICE,
                'X-ZC-Timestamp': str(timestamp),
                'X-ZC-Signature-Method': SIGNATURE_METHOD,
                'Authorization': zc2_authorization(self.params['access_key_id'], self.params['access_key_password'],
                                                   self.host, timestamp, payload),
            }
            return {'method': 'POST', 'url': self.url, 'headers': headers, 'data': payload}

        return self.transport.call(transport.Call(action, build, lambda resp: self.answer(action, resp), write=write))

    def answer(self, action, resp):
        """The inner ``response`` object of a success; a ProviderError with code, message, request ID and status otherwise."""
        try:
            body = load_json(resp.text)
        except ValueError:
            body = None
        if resp.status_code == 200:
            inner = body.get('response') if isinstance(body, dict) else None
            if not isinstance(inner, dict):
                # A write may have been applied whatever the answer says.
                raise transport.ProviderError(self.name, action, 'MalformedResponse', 'unexpected answer: %s' % resp.text[:200],
                                              body.get('requestId') if isinstance(body, dict) else None, 200, transport.AMBIGUOUS)
            return inner
        if resp.status_code == 403 and resp.headers.get('cf-mitigated') == 'challenge':
            raise transport.ProviderError(self.name, action, 'SECURITY_CHALLENGE', 'the request was stopped by a security '
                                          'challenge (HTTP 403), a network-layer block, not an API error', None, 403, transport.FAILED)
        if isinstance(body, dict) and body.get('code'):
            code, message, request_id = '%s' % body['code'], '%s' % body.get('message', ''), body.get('requestId')
        else:
            code, message, request_id = 'HTTP%d' % resp.status_code, 'unexpected answer: %s' % (resp.text[:200] or '(empty)'), None
        cls = error_class(code, resp.status_code)
        raise transport.ProviderError(self.name, action, code, message, request_id, resp.status_code, cls,
                                      retry_after=transport.retry_after_seconds(resp.headers) if cls == transport.THROTTLED else None)

    def malformed(self, action, what, data):
        return transport.ProviderError(self.name, action, 'MalformedResponse', 'the answer has no %s' % what,
                                       data.get('requestId'), 200, transport.INVALID)

    def describe(self, action, id_field, ids, id_key):
        """Every item of ``action`` for ``ids`` (100 a call, the calls running concurrently), keyed by ``id_key``."""
        def chunk_items(chunk):
            items, page = [], 1
            while True:
                data = self.call(action, {id_field: chunk, 'pageSize': PAGE, 'pageNum': page})
                data_set = data.get('dataSet')
                if not isinstance(data_set, list):
                    raise self.malformed(action, 'dataSet list', data)
                items.extend(item for item in data_set if isinstance(item, dict))
                total = '%s' % data.get('totalCount', 0)
                if not total.isdigit():
                    raise self.malformed(action, 'totalCount number', data)
                # One page holds them all, unless the cloud caps pageSize lower than documented.
                if not data_set or len(items) >= int(total):
                    return items
                page += 1

        found = {}
        for result in self.transport.map(chunk_items, _chunks(list(ids), PAGE), self.params['max_concurrency']):
            if isinstance(result, Exception):
                raise result
            for item in result:
                found['%s' % item.get(id_key)] = item
        return found

    # -- the engine's interface --------------------------------------------
    def read(self, ids):
        found = self.describe('DescribeInstances', 'instanceIds', ids, 'instanceId')
        current = {}
        for iid in ids:
            item = found.get(iid)
            if item is None:
                continue
            groups = item.get('securityGroupIds')
            if groups is None:
                groups = []
            if not isinstance(groups, list):
                raise self.malformed('DescribeInstances', 'securityGroupIds list for instance %s' % iid, item)
            current[iid] = ['%s' % sg for sg in groups]
            self.current[iid] = list(current[iid])
            self.status[iid] = item.get('instanceStatus')
        return current, [iid for iid in ids if iid not in current]

    def describe_security_groups(self, sg_ids):
        """{id: {'name', 'status'}} of those that exist."""
        found = self.describe('DescribeSecurityGroups', 'securityGroupIds', sg_ids, 'securityGroupId')
        for sg, item in found.items():
            self.group_status[sg] = item.get('securityGroupStatus')
        return dict((sg, {'name': item.get('securityGroupName'), 'status': item.get('securityGroupStatus')}) for sg, item in found.items())

    def missing_security_groups(self, sg_ids):
        found = self.describe_security_groups(sg_ids)
        return [sg for sg in sg_ids if sg not in found]

    def bound_targets(self, sg_ids):
        """{group: [instance, ...]}: DescribeInstances filtered by securityGroupId (one group a call,
        BOUND_PAGE instances a page), the groups asked concurrently."""
        def bound_to(sg):
            instances, page = [], 1
            while True:
                data = self.call('DescribeInstances', {'securityGroupId': sg, 'pageSize': BOUND_PAGE, 'pageNum': page})
                data_set = data.get('dataSet')
                if not isinstance(data_set, list):
                    raise self.malformed('DescribeInstances', 'dataSet list', data)
                instances.extend('%s' % item.get('instanceId') for item in data_set if isinstance(item, dict))
                if not data_set or len(instances) >= int('%s' % data.get('totalCount', 0) or 0):
                    return instances
                page += 1

        results = self.transport.map(bound_to, list(sg_ids), self.params['max_concurrency'])
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return dict(zip(sg_ids, results))

    def refusals(self, targets):
        """What Zenlayer refuses (seed page): changes on an instance that is not RUNNING or STOPPED,
        and binding or unbinding a group that is not Available."""
        refused = []
        changing = [t for t in targets if t['before'] != t['after']]
        unread = sorted(set(sg for t in changing for sg in t['removed'] if sg not in self.group_status))
        if unread:
            self.describe_security_groups(unread)
        for target in changing:
            status = self.status.get(target['target_id'])
            if status not in BINDABLE_INSTANCE_STATUSES:
                refused.append((target['target_id'], 'is %s; %s changes security groups only on RUNNING or STOPPED instances '
                                                     '(OPERATION_DENIED_INSTANCE_STATUS)' % (status, self.display_name)))
            for verb, groups in (('bound', target['added']), ('unbound', target['removed'])):
                for sg in groups:
                    group_status = self.group_status.get(sg)
                    # An unbound group the describe did not list is left to the cloud's answer.
                    if (verb == 'bound' or sg in self.group_status) and ('%s' % group_status).upper() != SG_AVAILABLE:
                        refused.append((target['target_id'], 'security group %s is %s, and only an Available one can be %s '
                                                             '(OPERATION_DENIED_SECURITY_GROUP_STATUS_NOT_AVAILABLE)'
                                                             % (sg, group_status, verb)))
        return refused

    def apply(self, op):
        action = {'bind': 'AssociateSecurityGroupInstance', 'unbind': 'UnAssociateSecurityGroupInstance'}[op['action']]
        sg, iid = op['security_group_ids'][0], op['target_ids'][0]
        try:
            data = self.call(action, {'securityGroupId': sg, 'instanceId': iid}, write=True)
        except transport.ProviderError as error:
            if op['action'] == 'unbind' and self.current.get(iid) == [sg] and error.error_class in (transport.INVALID, transport.CONFLICT):
                raise transport.ProviderError(
                    self.name, action, error.code, '%s; instance %s would have been left without any security group, which %s '
                    'may refuse: bind the group it should keep first (state: present, purge: true)' % (error.message, iid, self.display_name),
                    error.request_id, error.http_status, error.error_class)
            raise
        return [data.get('requestId')]
