# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tencent Cloud API 3.0 emulator: CVM security-group binding, VPC DescribeSecurityGroups, the VPC calls that
bind security groups to secondary elastic network interfaces (ENIs), and the tag service's calls that tag them.

One port serves all three products; the product ("service") is taken from the credential scope of
the TC3-HMAC-SHA256 Authorization header, as the real gateway derives it from the host name.
Writes are asynchronous: see ``_start_operation`` and ``_settle``. docs/emulator.md has the
settings and every assumption about undocumented behaviour.
"""

import datetime
import hashlib
import hmac
import json
import re
import time
import urllib.parse
import uuid

from .core import ApiError as CoreApiError, Cloud, Grants, Response, SettingsError, check_entry

API_VERSION = '2017-03-12'
TAG_API_VERSION = '2018-08-13'
ALGORITHM = 'TC3-HMAC-SHA256'
JSON_CONTENT = 'application/json'
FORM_CONTENT = 'application/x-www-form-urlencoded'

INSTANCE_ID = re.compile(r'^ins-[a-z0-9]{8}$')
ENI_ID = re.compile(r'^eni-[a-z0-9]{8}$')
SG_ID = re.compile(r'^sg-[a-z0-9]{8}$')
AUTHORIZATION = re.compile(
    r'^TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/\s]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z0-9]+)/tc3_request, '
    r'SignedHeaders=(?P<signed_headers>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$')

# The regions AssociateSecurityGroups documents; regions used in the seed are served too.
DEFAULT_REGIONS = [
    'ap-bangkok', 'ap-beijing', 'ap-chengdu', 'ap-chongqing', 'ap-guangzhou', 'ap-hongkong', 'ap-jakarta',
    'ap-nanjing', 'ap-seoul', 'ap-shanghai', 'ap-shanghai-fsi', 'ap-shenzhen-fsi', 'ap-singapore', 'ap-tokyo',
    'eu-frankfurt', 'na-ashburn', 'na-siliconvalley', 'sa-saopaulo',
]

CVM_ACTIONS = ('AssociateSecurityGroups', 'DisassociateSecurityGroups', 'DescribeInstances', 'ModifyInstancesAttribute')
ENI_WRITES = ('AssociateNetworkInterfaceSecurityGroups', 'DisassociateNetworkInterfaceSecurityGroups', 'ModifyNetworkInterfaceAttribute')
VPC_ACTIONS = ('DescribeSecurityGroups', 'DescribeNetworkInterfaces') + ENI_WRITES
TAG_ACTIONS = ('TagResources', 'UnTagResources', 'ModifyResourceTags')
STS_ACTIONS = ('GetCallerIdentity', 'AssumeRole')
VERSIONS = {'cvm': API_VERSION, 'vpc': API_VERSION, 'tag': TAG_API_VERSION, 'sts': '2018-08-13'}

# The tag service (tag/v20180813 SDK models and error codes; limits of the "Use Limits" page 651/13354). A resource is
# named qcs::<service>:<region>:uin/<account>:<prefix>/<id>; the emulator tags CVM instances and VPC ENIs.
TAG_RESOURCE = re.compile(r'^qcs::(?P<service>[a-z]+):(?P<region>[a-z0-9-]*):uin/(?P<uin>[0-9]*):(?P<prefix>[a-z]+)/(?P<id>[^/]+)$')
TAG_PREFIXES = {('cvm', 'instance'): 'instance', ('vpc', 'eni'): 'eni'}
TAG_RESERVED_PREFIXES = ('qcs:', 'project', '项目', 'qcloud', 'tencent')
TAG_SPECIALS = '+-=._:/@()[],;><【】（）：'
MAX_TAGS_PER_CALL = 10          # TagResources / UnTagResources: ResourceList, Tags, TagKeys "N取值范围：0~9"

# Parameters each action knows (as in the SDK models); anything else is UnknownParameter.
PARAMETERS = {
    'AssociateSecurityGroups': ('SecurityGroupIds', 'InstanceIds'),
    'DisassociateSecurityGroups': ('SecurityGroupIds', 'InstanceIds'),
    'DescribeInstances': ('InstanceIds', 'Filters', 'Offset', 'Limit'),
    'ModifyInstancesAttribute': ('InstanceIds', 'InstanceName', 'UserData', 'SecurityGroups', 'CamRoleName', 'HostName',
                                 'DisableApiTermination', 'CamRoleType', 'AutoReboot', 'EnableJumboFrame'),
    'DescribeSecurityGroups': ('SecurityGroupIds', 'Filters', 'Offset', 'Limit', 'OrderField', 'OrderDirection'),
    'DescribeNetworkInterfaces': ('NetworkInterfaceIds', 'Filters', 'Offset', 'Limit'),
    'AssociateNetworkInterfaceSecurityGroups': ('NetworkInterfaceIds', 'SecurityGroupIds'),
    'DisassociateNetworkInterfaceSecurityGroups': ('NetworkInterfaceIds', 'SecurityGroupIds'),
    'ModifyNetworkInterfaceAttribute': ('NetworkInterfaceId', 'NetworkInterfaceName', 'NetworkInterfaceDescription', 'SecurityGroupIds',
                                        'TrunkingFlag'),
    'TagResources': ('ResourceList', 'Tags'),
    'UnTagResources': ('ResourceList', 'TagKeys'),
    'ModifyResourceTags': ('Resource', 'ReplaceTags', 'DeleteTags'),
    'GetCallerIdentity': (),
    # STS AssumeRole (API 1312/48197; the SDK's AssumeRoleRequest model).
    'AssumeRole': ('RoleArn', 'RoleSessionName', 'DurationSeconds', 'Policy', 'ExternalId', 'Tags', 'SourceIdentity', 'SerialNumber',
                   'TokenCode'),
}
# The metadata service (the SDK's CVMRoleCredential): the attached role's name, then its temporary credentials.
ROLE_PATH = '/latest/meta-data/cam/security-credentials/'
ROLE_NAME = re.compile(r'^[\w+=,.@-]{1,128}$')
ROLE_SESSION_NAME = re.compile(r'^[\w+=,.@-]{2,128}$')    # [inferred] the AssumeRole page's "[\w+=,.@-]*", 2-128 characters
MAX_DURATION = 43200
# [inferred] What an expired temporary credential is answered with: the common "Token error" code (no page names another).
EXPIRED_TOKEN = ('AuthFailure.TokenFailure', 'The token has expired.')
# NetworkInterfaceState values (the SDK's NetworkInterface model). [inferred] Groups change only in ENI_CHANGEABLE_STATES;
# the others answer UnsupportedOperation.InvalidState. A seeded state with ``transition_s`` ends in ENI_TRANSITIONS' one.
ENI_STATES = ('PENDING', 'AVAILABLE', 'ATTACHING', 'DETACHING', 'DELETING', 'INUSE')
ENI_CHANGEABLE_STATES = ('AVAILABLE', 'INUSE')
ENI_TRANSITIONS = {'PENDING': 'AVAILABLE', 'ATTACHING': 'INUSE', 'DETACHING': 'AVAILABLE'}
ENI_FILTERS = ('vpc-id', 'network-interface-id', 'attachment.instance-id', 'groups.security-group-id', 'is-primary')
MODIFIABLE = ('InstanceName', 'UserData', 'SecurityGroups', 'CamRoleName', 'HostName', 'DisableApiTermination',
              'EnableJumboFrame')

# Instance states in which ModifyInstancesAttribute answers UnsupportedOperation.InstanceState<State>.
MODIFY_BLOCKING_STATES = ('PENDING', 'STARTING', 'STOPPING', 'REBOOTING', 'SHUTDOWN', 'TERMINATING', 'ENTER_RESCUE_MODE',
                          'RESCUE_MODE', 'EXIT_RESCUE_MODE', 'ENTER_SERVICE_LIVE_MIGRATE', 'SERVICE_LIVE_MIGRATE',
                          'EXIT_SERVICE_LIVE_MIGRATE')
INSTANCE_STATES = ('LAUNCH_FAILED', 'RUNNING', 'STOPPED') + MODIFY_BLOCKING_STATES
# A seeded transient state with ``transition_s`` becomes this one when that time is up.
TRANSITIONS = {'PENDING': 'RUNNING', 'STARTING': 'RUNNING', 'STOPPING': 'STOPPED', 'REBOOTING': 'RUNNING'}
# LatestOperation of a seeded busy instance (another client's operation), unless the seed names one.
OTHER_OPERATION = 'ResetInstancesType'
OPERATION_STATES = ('OPERATING', 'SUCCESS', 'FAILED')

INSTANCE_FILTERS = ('instance-id', 'security-group-id', 'instance-name', 'instance-state', 'zone', 'vpc-id', 'tag-key', 'tag-value')
TAG_FILTER = re.compile(r'^tag:(.+)$')     # tag:<key>, a value of that key
SG_FILTERS = ('security-group-id', 'security-group-name', 'project-id')

FAULT_CODES = {
    'throttle': ('RequestLimitExceeded', 'Your current request times exceed the limit; please try again later.'),
    'server_error': ('InternalError', 'An internal error occurred.'),
    'in_progress': ('MutexOperation.TaskRunning', 'An identical job is running.'),
}


# -- TC3-HMAC-SHA256, in the pieces the Signature v3 documentation names -----------

def sha256_hex(data):
    if not isinstance(data, bytes):
        data = data.encode('utf-8')
    return hashlib.sha256(data).hexdigest()


def canonical_request(method, query, headers, signed_headers, payload_hash):
    """headers: lower-case name -> value as received; signed_headers: the names, in the signed order."""
    canonical_headers = ''.join('%s:%s\n' % (name, headers[name].strip().lower()) for name in signed_headers)
    return '\n'.join((method, '/', query, canonical_headers, ';'.join(signed_headers), payload_hash))


def string_to_sign(timestamp, scope, canonical):
    return '\n'.join((ALGORITHM, str(timestamp), scope, sha256_hex(canonical)))


def signing_key(secret_key, date, service):
    key = hmac.new(('TC3' + secret_key).encode('utf-8'), date.encode('utf-8'), hashlib.sha256).digest()
    key = hmac.new(key, service.encode('utf-8'), hashlib.sha256).digest()
    return hmac.new(key, b'tc3_request', hashlib.sha256).digest()


def tc3_signature(secret_key, date, service, to_sign):
    return hmac.new(signing_key(secret_key, date, service), to_sign.encode('utf-8'), hashlib.sha256).hexdigest()


def sign(secret_key, method, host, content_type, timestamp, service, body=b'', query='', unsigned_payload=False):
    """The signature of a request signed over content-type;host, as the SDK does it."""
    date = utc_date(timestamp)
    payload = 'UNSIGNED-PAYLOAD' if unsigned_payload else (b'' if method == 'GET' else body)
    canonical = canonical_request(method, query, {'content-type': content_type, 'host': host},
                                  ['content-type', 'host'], sha256_hex(payload))
    return tc3_signature(secret_key, date, service, string_to_sign(timestamp, '%s/%s/tc3_request' % (date, service), canonical))


def utc_date(timestamp):
    return datetime.datetime.utcfromtimestamp(int(timestamp)).strftime('%Y-%m-%d')


# -- helpers -----------------------------------------------------------------------

class ApiError(CoreApiError):
    """An error answered in the Tencent envelope (always HTTP 200)."""

    def __init__(self, code, message):
        super(ApiError, self).__init__(200, code, message)


def unflatten(pairs):
    """GET parameters ``InstanceIds.0=a&Filters.0.Name=b`` back into lists and objects."""
    root = {}
    for key, value in pairs:
        node = root
        parts = key.split('.')
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ApiError('InvalidParameter', 'The parameter %s conflicts with another parameter.' % key)
        node[parts[-1]] = value

    def listify(node):
        if not isinstance(node, dict):
            return node
        if node and all(k.isdigit() for k in node):
            return [listify(node[k]) for k in sorted(node, key=int)]
        return dict((k, listify(v)) for k, v in node.items())
    return listify(root)


def camel(state):
    return ''.join(word.capitalize() for word in state.split('_'))


def iso_now():
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())


class TencentCloud(Cloud):
    name = 'tencentcloud'
    default_settings = {
        'timestamp_window_s': 300,
        'max_security_groups_per_instance': 5,
        'async_delay_reads': 1,                    # DescribeInstances answers showing OPERATING before SUCCESS
        'async_delay_ms': 0,                       # and at least this long after the write
        'show_new_list_while_operating': False,    # False: SecurityGroupIds keeps the old list until SUCCESS
        'reject_writes_while_operating': True,     # MutexOperation.TaskRunning for a write to an OPERATING instance
        'fail_next_operation': False,              # True or a message: the next accepted write ends FAILED
        'operation_state_lag_reads': 0,            # DescribeInstances answers after a write still showing the previous LatestOperation*
        'duplicate_bind': 'noop',                  # or 'error': FailedOperation.SecurityGroupActionFailed
        'unbind_not_bound': 'noop',                # or 'error': FailedOperation.SecurityGroupActionFailed
        'describe_sg_unknown_id': 'error',         # or 'omit': DescribeSecurityGroups with an unknown ID
        'describe_eni_unknown_id': 'omit',         # or 'error': DescribeNetworkInterfaces with an unknown ID (ResourceNotFound)
        'max_security_groups_per_eni': 5,          # LimitExceeded beyond it
        'write_apply_delay_s': 0,                  # > 0: an ENI write is answered at once and shows this much later
        'regions': list(DEFAULT_REGIONS),
        # Tags. [inferred] Which account segment a resource name may carry: 'any' (empty, as the Terraform provider sends it,
        # or the owner's) or 'owner' (only tag_owner_uin; anything else InvalidParameterValue.UinInvalid).
        'tag_resource_uin': 'any',
        'tag_owner_uin': '100000000001',
        # [inferred] A resource that does not exist: 'failed_resources' (listed in FailedResources, the others tagged),
        # 'error' (the whole call: InvalidParameterValue.ResourceIdInvalid) or 'accept' (tagged though nothing shows it).
        'tag_missing_resource': 'failed_resources',
        # [inferred] UnTagResources / DeleteTags of a key the resource does not have: 'ok', or 'error'
        # (ResourceNotFound.AttachedTagKeyNotFound).
        'untag_missing_key': 'ok',
        'max_tags_per_resource': 50,               # LimitExceeded.ResourceAttachedTags beyond it
        # Distinct values a tag key may have in the account (tags outlive their resources): LimitExceeded.TagValue beyond it.
        # The SDK's error list names a limit of 1000; the limits page (2026-01) states only 1,000,000 key-value pairs in
        # all (as 1000 keys x 1000 values, or 100 x 10000). 0 (the default): no limit; 1000 models the older rule.
        'max_values_per_tag_key': 0,
        # [inferred] DescribeInstances' instance-name filter: 'exact' (the whole name) or 'fuzzy' (a substring, as the
        # InvalidParameterValue.InvalidVagueName code hints). The API pages do not say which.
        'instance_name_match': 'exact',
        # Temporary credentials (the metadata service's and STS AssumeRole's): their lifetime in seconds (None: AssumeRole's
        # DurationSeconds, default 7200, and 7200 for the metadata service's [inferred]); the ExpiredTime told to the client
        # (None: the real one; a longer one makes a credential expire while the client thinks it valid); and after how many
        # requests signed with one it answers the expired-token error (None: never), for a deterministic mid-run expiry.
        'temporary_credentials_ttl_s': None,
        'temporary_credentials_advertised_ttl_s': None,
        'temporary_credentials_max_requests': None,
    }
    rate_limits = {
        'AssociateSecurityGroups': 10,
        'DisassociateSecurityGroups': 10,
        'ModifyInstancesAttribute': 10,
        'DescribeInstances': 40,
        'DescribeSecurityGroups': 100,
        'AssociateNetworkInterfaceSecurityGroups': 20,
        'DisassociateNetworkInterfaceSecurityGroups': 20,
        'DescribeNetworkInterfaces': 20,
        'ModifyNetworkInterfaceAttribute': 20,
        'TagResources': 20, 'UnTagResources': 20, 'ModifyResourceTags': 20,     # TagResources' page (651/72280); the others [inferred]
        'GetCallerIdentity': 20,
        'AssumeRole': 600,          # [inferred] the AssumeRole page: 600 a second
    }
    write_actions = ('AssociateSecurityGroups', 'DisassociateSecurityGroups', 'ModifyInstancesAttribute') + ENI_WRITES + TAG_ACTIONS

    # -- state ------------------------------------------------------------
    def reset(self):
        self.credentials = {}      # secret id -> {'access_key', 'secret_key'[, 'security_token']}; issued ones also 'expires_at'
        self.cam_roles = []        # [{'name', 'arn', 'external_id', 'attached'}]: roles to assume; attached: the metadata service's
        self.security_groups = []  # ordered list of dicts
        self.instances = []        # ordered list of dicts, each with 'operation' (None or pending dict)
        self.network_interfaces = []   # ordered list of dicts; a primary ENI shows its instance's groups
        self.delayed = []
        self.account_tags = set()  # (key, value) pairs ever created in the account: tags outlive the resources they were on

    def seed(self, data):
        self.seed_section(data, ('credentials', 'security_groups', 'instances', 'network_interfaces', 'cam_roles'))
        credentials = self.seed_credentials(data)
        roles = []
        for where, role in self.seed_entries(data, 'cam_roles'):
            check_entry(role, where, ('name',), ('arn', 'external_id', 'attached'), strings=('name', 'arn', 'external_id'))
            if not ROLE_NAME.match(role['name']):
                raise SettingsError('%s: name %r is not a CAM role name ([\\w+=,.@-], 1-128 characters)' % (where, role['name']))
            roles.append({'name': role['name'], 'arn': role.get('arn') or 'qcs::cam::uin/%s:roleName/%s' % (self.settings['tag_owner_uin'], role['name']),
                          'external_id': role.get('external_id'), 'attached': bool(role.get('attached', False))})
        groups = []
        for where, sg in self.seed_entries(data, 'security_groups'):
            check_entry(sg, where, ('id', 'region'), ('name', 'description', 'project_id', 'is_default'))
            if not SG_ID.match(sg['id']):
                raise SettingsError('%s: id %r is not sg- plus 8 lower-case letters or digits' % (where, sg['id']))
            if any(g['id'] == sg['id'] for g in groups):
                raise SettingsError('%s: duplicate id %s' % (where, sg['id']))
            groups.append({'id': sg['id'], 'region': sg['region'], 'name': sg.get('name', sg['id']),
                           'description': sg.get('description', ''), 'project_id': int(sg.get('project_id', 0)),
                           'is_default': bool(sg.get('is_default', False))})
        instances = []
        seen = set()     # a set: a 10,000-instance seed is checked in linear time
        for where, ins in self.seed_entries(data, 'instances'):
            instances.append(self._seed_instance(ins, where, groups))
            if ins['id'] in seen:
                raise SettingsError('%s: duplicate id %s' % (where, ins['id']))
            seen.add(ins['id'])
        enis = []
        for where, eni in self.seed_entries(data, 'network_interfaces'):
            enis.append(self._seed_eni(eni, where, groups, instances, enis))
        self.credentials, self.security_groups, self.instances, self.network_interfaces = credentials, groups, instances, enis
        self.cam_roles = roles
        self.delayed = []
        self.account_tags = set((k, v) for item in instances + enis for k, v in item['tags'].items())

    def _seed_eni(self, eni, where, groups, instances, enis):
        check_entry(eni, where, ('id', 'region'), ('security_groups', 'state', 'name', 'vpc_id', 'instance_id', 'primary', 'transition_s',
                                                   'tags'))
        if not ENI_ID.match(eni['id']):
            raise SettingsError('%s: id %r is not eni- plus 8 lower-case letters or digits' % (where, eni['id']))
        if any(other['id'] == eni['id'] for other in enis):
            raise SettingsError('%s: duplicate id %s' % (where, eni['id']))
        owner = eni.get('instance_id')
        instance = next((ins for ins in instances if ins['id'] == owner), None)
        if owner is not None and instance is None:
            raise SettingsError('%s: instance_id %r is not a seeded instance' % (where, owner))
        primary = bool(eni.get('primary', False))
        if primary and (instance is None or eni.get('security_groups')):
            raise SettingsError('%s: a primary ENI needs instance_id, and has its instance\'s groups (no security_groups)' % where)
        state = eni.get('state', 'INUSE' if owner else 'AVAILABLE')
        if state not in ENI_STATES:
            raise SettingsError('%s: state %r is not one of %s' % (where, state, ', '.join(ENI_STATES)))
        if eni.get('transition_s') is not None and state not in ENI_TRANSITIONS:
            raise SettingsError('%s: transition_s needs a state that ends on its own (%s), not %r' % (where, ', '.join(sorted(ENI_TRANSITIONS)), state))
        sg_ids = eni.get('security_groups') or []
        if not isinstance(sg_ids, list) or len(set(sg_ids)) != len(sg_ids):
            raise SettingsError('%s: security_groups must be a list without duplicates' % where)
        for sg_id in sg_ids:
            if not any(g['id'] == sg_id and g['region'] == eni['region'] for g in groups):
                raise SettingsError('%s: security group %r is not a seeded group of region %s' % (where, sg_id, eni['region']))
        transition = None
        if eni.get('transition_s') is not None:
            transition = {'to': ENI_TRANSITIONS[state], 'due': time.monotonic() + float(eni['transition_s'])}
        return {'id': eni['id'], 'region': eni['region'], 'name': eni.get('name', eni['id']), 'state': state, 'primary': primary,
                'vpc_id': eni.get('vpc_id', instance['vpc_id'] if instance else 'vpc-00000000'), 'instance': instance,
                'security_groups': list(sg_ids), 'transition': transition, 'tags': seed_tags(eni, where)}

    def _seed_instance(self, ins, where, groups):
        check_entry(ins, where, ('id', 'region'), (
            'security_groups', 'status', 'name', 'vpc_id', 'zone', 'latest_operation', 'latest_operation_state',
            'latest_operation_request_id', 'latest_operation_error_msg', 'busy_for_s', 'busy_after_reads', 'transition_s', 'tags',
            'private_ips', 'public_ips'))
        for key in ('private_ips', 'public_ips'):
            if not isinstance(ins.get(key, []), list) or not all(isinstance(ip, str) for ip in ins.get(key, [])):
                raise SettingsError('%s: %s must be a list of addresses' % (where, key))
        for key in ('busy_for_s', 'busy_after_reads', 'transition_s'):
            value = ins.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                raise SettingsError('%s: %s must be a number of at least 0, not %r' % (where, key, value))
        if ins.get('busy_after_reads') is not None and ins.get('busy_for_s') is None:
            raise SettingsError('%s: busy_after_reads needs busy_for_s (how long the operation lasts)' % where)
        if ins.get('transition_s') is not None and ins.get('status', 'RUNNING') not in TRANSITIONS:
            raise SettingsError('%s: transition_s needs a status that ends on its own (%s), not %r'
                                % (where, ', '.join(sorted(TRANSITIONS)), ins.get('status', 'RUNNING')))
        if ins.get('busy_for_s') is not None and ins.get('latest_operation_state') not in (None, 'OPERATING'):
            raise SettingsError('%s: busy_for_s makes the instance OPERATING; latest_operation_state %r contradicts it'
                                % (where, ins['latest_operation_state']))
        if not INSTANCE_ID.match(ins['id']):
            raise SettingsError('%s: id %r is not ins- plus 8 lower-case letters or digits' % (where, ins['id']))
        status = ins.get('status', 'RUNNING')
        if status not in INSTANCE_STATES:
            raise SettingsError('%s: status %r is not one of %s' % (where, status, ', '.join(INSTANCE_STATES)))
        sg_ids = ins.get('security_groups') or []
        if not isinstance(sg_ids, list):
            raise SettingsError('%s: security_groups must be a list' % where)
        for sg_id in sg_ids:
            if not any(g['id'] == sg_id and g['region'] == ins['region'] for g in groups):
                raise SettingsError('%s: security group %r is not a seeded group of region %s' % (where, sg_id, ins['region']))
        if len(set(sg_ids)) != len(sg_ids):
            raise SettingsError('%s: security_groups has duplicates' % where)
        op_state = ins.get('latest_operation_state')
        if op_state is not None and op_state not in OPERATION_STATES:
            raise SettingsError('%s: latest_operation_state %r is not one of %s' % (where, op_state, ', '.join(OPERATION_STATES)))
        instance = {
            'id': ins['id'], 'region': ins['region'], 'status': status, 'name': ins.get('name', 'Unnamed'),
            'vpc_id': ins.get('vpc_id', 'vpc-00000000'), 'zone': ins.get('zone', ins['region'] + '-1'),
            'security_groups': list(sg_ids), 'created': iso_now(), 'uuid': str(uuid.uuid4()),
            'latest_operation': ins.get('latest_operation'), 'latest_operation_state': op_state,
            'latest_operation_request_id': ins.get('latest_operation_request_id'),
            'latest_operation_error_msg': ins.get('latest_operation_error_msg'), 'operation': None,
            'other_operation': None, 'transition': None, 'tags': seed_tags(ins, where),
            'private_ips': list(ins.get('private_ips', [])), 'public_ips': list(ins.get('public_ips', [])),
        }
        if ins.get('transition_s') is not None:
            instance['transition'] = {'to': TRANSITIONS[status], 'due': time.monotonic() + float(ins['transition_s'])}
        if ins.get('busy_for_s') is not None:
            instance['other_operation'] = {'name': ins.get('latest_operation') or OTHER_OPERATION, 'for_s': float(ins['busy_for_s']),
                                           'after_reads': int(ins.get('busy_after_reads') or 0), 'reads': 0}
            self._start_other_operation(instance)
        elif op_state == 'OPERATING':
            # A seeded busy instance settles like one busy from a write made now.
            instance['operation'] = self._new_operation(list(sg_ids), list(sg_ids), None)
        return instance

    def _start_other_operation(self, ins):
        """Start the seeded operation of another client (busy_for_s) once busy_after_reads answers have shown the instance."""
        other = ins['other_operation']
        if other is None or other['reads'] < other['after_reads'] or ins['operation'] is not None:
            return      # not yet, or after the operation in progress (a write's)
        ins['other_operation'] = None
        ins['operation'] = dict(self._new_operation(list(ins['security_groups']), list(ins['security_groups']), None),
                                reads_needed=0, due=time.monotonic() + other['for_s'])
        ins['latest_operation'] = other['name']
        ins['latest_operation_state'] = 'OPERATING'
        ins['latest_operation_request_id'] = str(uuid.uuid4())
        ins['latest_operation_error_msg'] = ''

    def snapshot(self):
        out = {'credentials': [], 'security_groups': [], 'instances': [], 'network_interfaces': [],
               'cam_roles': [dict((k, v) for k, v in role.items() if v is not None) for role in self.cam_roles]}
        for cred in self.credentials.values():
            if cred.get('issued'):
                continue        # issued at run time (metadata, AssumeRole): not part of a seed
            entry = {'access_key': cred['access_key'], 'secret_key': cred['secret_key']}
            if cred.get('security_token'):
                entry['security_token'] = cred['security_token']
            if cred.get('policy') is not None:
                entry['policy'] = cred['policy']
            out['credentials'].append(entry)
        for sg in self.security_groups:
            out['security_groups'].append({'id': sg['id'], 'region': sg['region'], 'name': sg['name'],
                                           'description': sg['description'], 'project_id': str(sg['project_id']),
                                           'is_default': sg['is_default']})
        for ins in self.instances:
            self._settle(ins)
            entry = dict((key, ins[key]) for key in ('id', 'region', 'status', 'name', 'vpc_id', 'zone'))
            entry.update((key, list(ins[key])) for key in ('private_ips', 'public_ips') if ins[key])
            # The list the instance has once its operation (if any) is over.
            entry['security_groups'] = list(ins['security_groups'])
            for key in ('latest_operation', 'latest_operation_state', 'latest_operation_request_id', 'latest_operation_error_msg'):
                if ins[key] is not None:
                    entry[key] = ins[key]
            if ins['tags']:
                entry['tags'] = dict(ins['tags'])
            out['instances'].append(entry)
        for eni in self.network_interfaces:
            entry = {'id': eni['id'], 'region': eni['region'], 'name': eni['name'], 'state': self._eni_state(eni), 'vpc_id': eni['vpc_id'],
                     'primary': eni['primary'], 'security_groups': list(self._eni_groups(eni))}
            if eni['instance'] is not None:
                entry['instance_id'] = eni['instance']['id']
            if eni['tags']:
                entry['tags'] = dict(eni['tags'])
            out['network_interfaces'].append(entry)
        return out

    def group_lists(self):
        # The lists as they are once the running operations are over, without settling them (a read would).
        lists = dict((ins['id'], list(ins['security_groups'])) for ins in self.instances)
        lists.update((eni['id'], list(self._eni_groups(eni))) for eni in self.network_interfaces)
        return lists

    def describe_request(self, request, action):
        service = AUTHORIZATION.match(request.header('Authorization')).group('service')
        params = self._common(request, action, service)[1]
        ids = list(params.get('InstanceIds') or [])
        if action in ('AssociateNetworkInterfaceSecurityGroups', 'DisassociateNetworkInterfaceSecurityGroups'):
            return {'targets': list(params.get('NetworkInterfaceIds') or []),
                    'bind' if action.startswith('Associate') else 'unbind': list(params.get('SecurityGroupIds') or [])}
        if action == 'ModifyNetworkInterfaceAttribute':
            return {'targets': [params.get('NetworkInterfaceId')], 'set': list(params['SecurityGroupIds'])} if 'SecurityGroupIds' in params else None
        if action == 'DescribeNetworkInterfaces':
            return {'targets': list(params.get('NetworkInterfaceIds') or []) or None}
        if action in ('AssociateSecurityGroups', 'DisassociateSecurityGroups'):
            return {'targets': ids, 'bind' if action == 'AssociateSecurityGroups' else 'unbind': list(params.get('SecurityGroupIds') or [])}
        if action == 'ModifyInstancesAttribute':
            return {'targets': ids, 'set': list(params['SecurityGroups'])} if 'SecurityGroups' in params else None
        if action == 'DescribeInstances':
            return {'targets': ids or None}
        return None

    # -- requests ---------------------------------------------------------
    def identify(self, request):
        action = request.header('X-TC-Action')
        if not action and request.method == 'GET':
            action = dict(request.query_pairs()).get('Action')
        return action or None

    def _error(self, code, message, request_id=None):
        request_id = request_id or str(uuid.uuid4())
        body = {'Response': {'Error': {'Code': code, 'Message': message}, 'RequestId': request_id}}
        return Response.json(200, body, content_type=JSON_CONTENT, error_code=code, request_id=request_id)

    def authenticate(self, request, action):
        match = AUTHORIZATION.match(request.header('Authorization') or '')
        if not match:
            return self._error('AuthFailure.InvalidAuthorization', 'Authorization header is missing or malformed: '
                               'expected "TC3-HMAC-SHA256 Credential=<SecretId>/<date>/<service>/tc3_request, '
                               'SignedHeaders=content-type;host, Signature=<hex>".')
        signed_headers = match.group('signed_headers').split(';')
        if 'content-type' not in signed_headers or 'host' not in signed_headers:
            return self._error('AuthFailure.InvalidAuthorization', 'SignedHeaders must include content-type and host.')
        timestamp = request.header('X-TC-Timestamp') or ''
        if not timestamp.isdigit():
            return self._error('AuthFailure.InvalidAuthorization', 'X-TC-Timestamp is missing or not Unix seconds.')
        if abs(self.now() - int(timestamp)) > float(self.settings['timestamp_window_s']):
            return self._error('AuthFailure.SignatureExpire', 'The signature expired: X-TC-Timestamp %s is more than %s '
                               'seconds away from the server time %d.' % (timestamp, self.settings['timestamp_window_s'], self.now()))
        cred = self.credentials.get(match.group('secret_id'))
        if cred is None:
            return self._error('AuthFailure.SecretIdNotFound', 'The SecretId is not found, please ensure that your SecretId is correct.')
        if cred.get('security_token') and request.header('X-TC-Token') != cred['security_token']:
            return self._error('AuthFailure.TokenFailure', 'The X-TC-Token is missing or does not match the temporary credential.')
        if cred.get('issued'):
            cred['uses'] += 1
            limit = self.settings['temporary_credentials_max_requests']
            if self.now() >= cred['expires_at'] or (limit is not None and cred['uses'] > int(limit)):
                return self._error(*EXPIRED_TOKEN)
        headers = {}
        for name in signed_headers:
            value = request.header(name)
            if value is None:
                return self._error('AuthFailure.SignatureFailure', 'The signed header %s is missing.' % name)
            headers[name] = value
        date = match.group('date')
        if date != utc_date(timestamp):
            return self._error('AuthFailure.SignatureFailure', 'The credential scope date %s is not the UTC date of X-TC-Timestamp.' % date)
        if request.header('X-TC-Content-SHA256') == 'UNSIGNED-PAYLOAD':
            payload = 'UNSIGNED-PAYLOAD'
        else:
            payload = b'' if request.method == 'GET' else request.body
        query = request.query if request.method == 'GET' else ''
        canonical = canonical_request(request.method, query, headers, signed_headers, sha256_hex(payload))
        scope = '%s/%s/tc3_request' % (date, match.group('service'))
        expected = tc3_signature(cred['secret_key'], date, match.group('service'), string_to_sign(timestamp, scope, canonical))
        if not hmac.compare_digest(expected, match.group('signature')):
            return self._error('AuthFailure.SignatureFailure', 'The provided credentials could not be validated. '
                               'Please check your signature is correct.')
        request.access_key = match.group('secret_id')
        return None

    # -- CAM policies (syntax 2.0: version, statement [{effect, action, resource}]) ----------------------
    def parse_policy(self, doc, where):
        if not isinstance(doc, dict) or doc.get('version') != '2.0' or set(doc) - {'version', 'statement'}:
            raise SettingsError('%s: a CAM policy is {"version": "2.0", "statement": [...]}' % where)
        statements = doc.get('statement')
        statements = [statements] if isinstance(statements, dict) else statements
        if not isinstance(statements, list) or not statements:
            raise SettingsError('%s: statement must be a statement or a non-empty list of them' % where)
        allow, deny = [], []
        for n, st in enumerate(statements):
            here = '%s statement[%d]' % (where, n)
            if not isinstance(st, dict) or set(st) - {'effect', 'action', 'resource'}:
                raise SettingsError('%s: takes effect, action and resource (the emulator evaluates no condition)' % here)
            if st.get('effect') not in ('allow', 'deny'):
                raise SettingsError('%s: effect must be "allow" or "deny", not %r' % (here, st.get('effect')))
            actions = [st.get('action')] if isinstance(st.get('action'), str) else st.get('action')
            if not isinstance(actions, list) or not actions or not all(isinstance(a, str) and a for a in actions):
                raise SettingsError('%s: action must be an action or a list of them ("cvm:DescribeInstances")' % here)
            resources = [st.get('resource')] if isinstance(st.get('resource'), str) else st.get('resource')
            if resources != ['*']:
                raise SettingsError('%s: resource must be "*" or ["*"]: the emulator evaluates actions, not resources' % here)
            (allow if st['effect'] == 'allow' else deny).extend(actions)
        return Grants(allow, deny)

    def permission(self, request, action):
        # [inferred] GetCallerIdentity, like AWS's, needs no permission: its page lists no CAM action.
        if not action or action == 'GetCallerIdentity':
            return None
        match = AUTHORIZATION.match(request.header('Authorization') or '')
        return '%s:%s' % (match.group('service'), action) if match else None

    def denied(self, request, action, permission):
        # The message real CAM denials carry (seen in SDK issues); the resource is not evaluated here.
        request_id = str(uuid.uuid4())
        return self._error('AuthFailure.UnauthorizedOperation',
                           'You are not authorized to perform this operation. Check your CAM policies, and ensure that you are using '
                           'the correct access keys. [[request id:%s]you are not authorized to perform operation (%s)\n'
                           'resource (*) has no permission\n]' % (request_id, permission), request_id)

    def fault_response(self, kind, request, action):
        return self._error(*FAULT_CODES[kind])

    def dispatch(self, request, action):
        try:
            service = AUTHORIZATION.match(request.header('Authorization')).group('service')
            region, params = self._common(request, action, service)
            request_id = str(uuid.uuid4())
            result = getattr(self, '_' + action)(region, params, request_id)
        except ApiError as err:
            return self._error(err.code, err.message)
        body = dict(result or {})
        body['RequestId'] = request_id
        return Response.json(200, {'Response': body}, content_type=JSON_CONTENT, request_id=request_id)

    def _common(self, request, action, service):
        """Method, action, version, region and parameters; raises ApiError."""
        if request.method not in ('GET', 'POST'):
            raise ApiError('UnsupportedProtocol', 'Only GET and POST requests are supported.')
        served = {'cvm': CVM_ACTIONS, 'vpc': VPC_ACTIONS, 'tag': TAG_ACTIONS, 'sts': STS_ACTIONS}.get(service, ())
        if not action:
            raise ApiError('MissingParameter', 'The request is missing the X-TC-Action header.')
        if action not in served:
            raise ApiError('InvalidAction', 'The action %s of service %s is not found (this emulator serves cvm %s, vpc %s, tag %s '
                           'and sts %s).' % (action, service, ', '.join(CVM_ACTIONS), ', '.join(VPC_ACTIONS), ', '.join(TAG_ACTIONS),
                                             ', '.join(STS_ACTIONS)))
        version = request.header('X-TC-Version')
        if not version:
            raise ApiError('MissingParameter', 'The request is missing the X-TC-Version header.')
        if version != VERSIONS[service]:
            raise ApiError('NoSuchVersion', 'The API version %s does not exist; use %s.' % (version, VERSIONS[service]))
        region = request.header('X-TC-Region')
        if not region and service != 'tag':     # the tag service's pages: "Region: not required for this API"
            raise ApiError('MissingParameter', 'The request is missing the X-TC-Region header.')
        known = set(self.settings['regions']) | set(item['region'] for item in self.instances + self.security_groups + self.network_interfaces)
        if region and region not in known:
            raise ApiError('UnsupportedRegion', 'The region %s is not supported.' % region)
        content_type = (request.header('Content-Type') or '').split(';')[0].strip().lower()
        if request.method == 'GET':
            params = unflatten(request.query_pairs())
            for key in ('Action', 'Version', 'Region'):
                params.pop(key, None)
        elif content_type != JSON_CONTENT:
            raise ApiError('InvalidParameter', 'TC3-HMAC-SHA256 POST requests must be application/json, not %r.' % content_type)
        else:
            try:
                params = json.loads(request.body.decode('utf-8')) if request.body.strip() else {}
            except ValueError:
                raise ApiError('InvalidParameter', 'The request body is not valid JSON.')
        if not isinstance(params, dict):
            raise ApiError('InvalidParameter', 'The request body must be a JSON object.')
        for key in params:
            if key not in PARAMETERS[action]:
                raise ApiError('UnknownParameter', 'The parameter `%s` is not recognized.' % key)
        params['_get'] = request.method == 'GET'
        return region, params

    # -- parameter checks -------------------------------------------------
    @staticmethod
    def _string_list(params, name, required=True):
        value = params.get(name)
        if value is None:
            if required:
                raise ApiError('MissingParameter', 'The request is missing a required parameter `%s`.' % name)
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ApiError('InvalidParameter', 'The parameter `%s` must be an array of strings.' % name)
        return value

    @staticmethod
    def _integer(params, name, default):
        value = params.get(name, default)
        if params['_get'] and isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError('InvalidParameter', 'The parameter `%s` must be an integer.' % name)
        return value

    @staticmethod
    def _instance_ids(params, required=True, limit=100):
        ids = TencentCloud._string_list(params, 'InstanceIds', required)
        if ids is None:
            return None
        for instance_id in ids:
            if not INSTANCE_ID.match(instance_id):
                raise ApiError('InvalidInstanceId.Malformed', 'Invalid instance ID `%s`: use ins-xxxxxxxx, where x is a '
                               'lower-case letter or a digit.' % instance_id)
        if len(ids) > limit:
            raise ApiError('InvalidParameterValue.LimitExceeded', 'At most %d values of `InstanceIds` are allowed.' % limit)
        if required and not ids:
            raise ApiError('MissingParameter', 'The parameter `InstanceIds` must not be empty.')
        return ids

    @staticmethod
    def _filters(params, names, invalid_code):
        filters = params.get('Filters')
        if filters is None:
            return []
        if not isinstance(filters, list) or not all(isinstance(f, dict) and isinstance(f.get('Name'), str) and
                                                    isinstance(f.get('Values'), list) for f in filters):
            raise ApiError('InvalidParameter', 'Filters must be an array of {"Name": string, "Values": [string]}.')
        if len(filters) > 10:
            raise ApiError('InvalidParameterValue.LimitExceeded', 'At most 10 filters are allowed.')
        for item in filters:
            if item['Name'] not in names and not ('tag-key' in names and TAG_FILTER.match(item['Name'])):
                raise ApiError(invalid_code, 'The filter `%s` is not supported (supported here: %s).' % (item['Name'], ', '.join(names)))
            if len(item['Values']) > 5:
                raise ApiError('InvalidFilterValue.LimitExceeded', 'At most 5 values per filter are allowed.')
        return [(item['Name'], [str(v) for v in item['Values']]) for item in filters]

    # -- state helpers ----------------------------------------------------
    def _find_instances(self, region, ids):
        by_id = dict((ins['id'], ins) for ins in self.instances if ins['region'] == region)
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise ApiError('InvalidInstanceId.NotFound', 'The instance(s) %s are not found in region %s.' % (', '.join(missing), region))
        for i in ids:
            self._settle(by_id[i])      # a transient state may have ended
        return [by_id[i] for i in ids]

    def _check_security_groups(self, region, ids):
        known = set(sg['id'] for sg in self.security_groups if sg['region'] == region)
        missing = [i for i in ids if i not in known]
        if missing:
            raise ApiError('InvalidSecurityGroupId.NotFound', 'The security group(s) %s do not exist in region %s.' % (', '.join(missing), region))

    def _new_operation(self, shown_before, requested, error):
        return {'shown_before': shown_before, 'requested': requested, 'error': error, 'reads': 0,
                'reads_needed': int(self.settings['async_delay_reads']),
                'due': time.monotonic() + float(self.settings['async_delay_ms']) / 1000.0}

    def _settle(self, ins):
        """Flip a finished operation to SUCCESS or FAILED, and end a seeded transient state whose time is up."""
        transition = ins['transition']
        if transition is not None and time.monotonic() >= transition['due']:
            ins['status'] = transition['to']
            ins['transition'] = None
        op = ins['operation']
        if op is not None and op['reads'] >= op['reads_needed'] and time.monotonic() >= op['due']:
            ins['operation'] = None
            ins['latest_operation_state'] = 'FAILED' if op['error'] else 'SUCCESS'
            ins['latest_operation_error_msg'] = op['error'] or ''

    def _check_writable(self, targets):
        """All-or-nothing: a request touching a busy instance changes nothing."""
        for ins in targets:
            self._settle(ins)
        busy = [ins['id'] for ins in targets if ins['operation'] is not None]
        if busy and self.settings['reject_writes_while_operating']:
            raise ApiError('MutexOperation.TaskRunning', 'An identical job is running on instance(s) %s.' % ', '.join(busy))

    def _start_operations(self, action, request_id, changes):
        """changes: [(instance, new security-group list or None)]; all are accepted together."""
        failure = self.settings['fail_next_operation']
        error = None
        if failure:
            error = failure if isinstance(failure, str) else 'The %s operation failed (emulated).' % action
            self.settings['fail_next_operation'] = False
        lag = int(self.settings['operation_state_lag_reads'] or 0)
        for ins, new_list in changes:
            if lag > 0:
                ins['state_lag'] = {'reads': lag, 'groups': list(self._shown_list(ins)), 'fields': (
                    ins['latest_operation'], ins['latest_operation_state'], ins['latest_operation_request_id'],
                    ins['latest_operation_error_msg'])}
            shown_before = list(ins['security_groups'])
            requested = shown_before if new_list is None else list(new_list)
            ins['operation'] = self._new_operation(shown_before, requested, error)
            if not error:
                ins['security_groups'] = requested
            ins['latest_operation'] = action
            ins['latest_operation_state'] = 'OPERATING'
            ins['latest_operation_request_id'] = request_id
            ins['latest_operation_error_msg'] = ''

    # -- actions ----------------------------------------------------------
    def _bind_request(self, region, params):
        sg_ids = self._string_list(params, 'SecurityGroupIds')
        for sg_id in sg_ids:
            if not SG_ID.match(sg_id):
                raise ApiError('InvalidSgId.Malformed', 'Invalid security group ID `%s`: use sg-xxxxxxxx.' % sg_id)
        ids = self._instance_ids(params)
        if not sg_ids:
            raise ApiError('MissingParameter', 'The parameter `SecurityGroupIds` must not be empty.')
        if len(sg_ids) > 1:
            raise ApiError('InvalidParameterValue.LimitExceeded', 'Only one security group can be specified per request.')
        self._check_security_groups(region, sg_ids)
        ids = list(dict.fromkeys(ids))
        return sg_ids[0], self._find_instances(region, ids)

    def _AssociateSecurityGroups(self, region, params, request_id):  # pylint: disable=invalid-name
        sg_id, targets = self._bind_request(region, params)
        for ins in targets:
            if ins['status'] == 'PENDING':
                raise ApiError('UnsupportedOperation.InstanceStatePending', 'The instance %s is being created.' % ins['id'])
        self._check_writable(targets)
        bound = [ins['id'] for ins in targets if sg_id in ins['security_groups']]
        if bound and self.settings['duplicate_bind'] == 'error':
            raise ApiError('FailedOperation.SecurityGroupActionFailed', 'Security group operation failed: %s is already '
                           'bound to %s.' % (sg_id, ', '.join(bound)))
        limit = int(self.settings['max_security_groups_per_instance'])
        for ins in targets:
            if sg_id not in ins['security_groups'] and len(ins['security_groups']) >= limit:
                raise ApiError('LimitExceeded.AssociateUSGLimitExceeded', 'An instance can be bound with up to %d security '
                               'groups (%s).' % (limit, ins['id']))
        # The new group goes last: bind order is priority order.
        self._start_operations('AssociateSecurityGroups', request_id, [
            (ins, ins['security_groups'] + ([] if sg_id in ins['security_groups'] else [sg_id])) for ins in targets])

    def _DisassociateSecurityGroups(self, region, params, request_id):  # pylint: disable=invalid-name
        sg_id, targets = self._bind_request(region, params)
        for ins in targets:
            if ins['status'] == 'PENDING':
                raise ApiError('UnsupportedOperation', 'The instance %s is being created.' % ins['id'])
        self._check_writable(targets)
        unbound = [ins['id'] for ins in targets if sg_id not in ins['security_groups']]
        if unbound and self.settings['unbind_not_bound'] == 'error':
            raise ApiError('FailedOperation.SecurityGroupActionFailed', 'Security group operation failed: %s is not bound '
                           'to %s.' % (sg_id, ', '.join(unbound)))
        self._start_operations('DisassociateSecurityGroups', request_id, [
            (ins, [g for g in ins['security_groups'] if g != sg_id]) for ins in targets])

    def _ModifyInstancesAttribute(self, region, params, request_id):  # pylint: disable=invalid-name
        ids = self._instance_ids(params)
        attributes = [name for name in MODIFIABLE if name in params]
        if len(attributes) != 1:
            raise ApiError('InvalidParameter', 'Exactly one attribute must be modified per request (got %s).' % (
                ', '.join(attributes) or 'none'))
        attribute = attributes[0]
        new_list = new_name = None
        if attribute == 'SecurityGroups':
            new_list = self._string_list(params, 'SecurityGroups')
            for sg_id in new_list:
                if not SG_ID.match(sg_id):
                    raise ApiError('InvalidSgId.Malformed', 'Invalid security group ID `%s`: use sg-xxxxxxxx.' % sg_id)
            if len(set(new_list)) != len(new_list):
                raise ApiError('InvalidParameterValue.Duplicate', 'The parameter `SecurityGroups` has duplicate values.')
            limit = int(self.settings['max_security_groups_per_instance'])
            if len(new_list) > limit:
                raise ApiError('LimitExceeded.AssociateUSGLimitExceeded', 'An instance can be bound with up to %d security groups.' % limit)
            self._check_security_groups(region, new_list)
        elif attribute == 'InstanceName':
            new_name = params['InstanceName']
            if not isinstance(new_name, str) or not 0 < len(new_name) <= 60:
                raise ApiError('InvalidParameterValue', 'InstanceName must be 1 to 60 characters.')
        else:
            raise ApiError('UnsupportedOperation', 'The emulator modifies only SecurityGroups and InstanceName, not %s.' % attribute)
        targets = self._find_instances(region, list(dict.fromkeys(ids)))
        for ins in targets:
            if ins['status'] in MODIFY_BLOCKING_STATES:
                raise ApiError('UnsupportedOperation.InstanceState' + camel(ins['status']), 'The instance %s is in state %s, '
                               'which does not allow this operation.' % (ins['id'], ins['status']))
        self._check_writable(targets)
        if new_name is not None:
            for ins in targets:
                ins['name'] = new_name
        self._start_operations('ModifyInstancesAttribute', request_id, [(ins, new_list) for ins in targets])

    def _DescribeInstances(self, region, params, request_id):  # pylint: disable=invalid-name,unused-argument
        ids = self._instance_ids(params, required=False)
        filters = self._filters(params, INSTANCE_FILTERS, 'InvalidFilter')
        if ids and filters:
            raise ApiError('InvalidParameter', 'InstanceIds and Filters cannot be specified at the same time.')
        offset = self._integer(params, 'Offset', 0)
        limit = self._integer(params, 'Limit', 20)
        if offset < 0 or limit < 1:
            raise ApiError('InvalidParameterValue', 'Offset must be >= 0 and Limit >= 1.')
        if limit > 100:
            raise ApiError('InvalidParameterValue.LimitExceeded', 'Limit must be at most 100.')
        matches = [ins for ins in self.instances if ins['region'] == region]
        if ids:
            matches = [ins for ins in matches if ins['id'] in ids]   # unknown IDs are silently omitted
        for ins in matches:
            self._settle(ins)       # before the instance-state filter
        for name, values in filters:
            matches = [ins for ins in matches if self._instance_matches(ins, name, values)]
        page = matches[offset:offset + limit]
        return {'TotalCount': len(matches), 'InstanceSet': [self._show_instance(ins) for ins in page]}

    def _instance_matches(self, ins, name, values):
        if name == 'security-group-id':
            return any(g in values for g in self._shown_list(ins))
        if name == 'tag-key':
            return any(k in values for k in ins['tags'])
        if name == 'tag-value':
            return any(v in values for v in ins['tags'].values())
        if TAG_FILTER.match(name):
            return ins['tags'].get(TAG_FILTER.match(name).group(1)) in values
        if name == 'instance-name' and self.settings['instance_name_match'] == 'fuzzy':
            return any(value in ins['name'] for value in values)
        field = {'instance-id': 'id', 'instance-name': 'name', 'instance-state': 'status', 'zone': 'zone', 'vpc-id': 'vpc_id'}[name]
        return ins[field] in values

    def _shown_list(self, ins):
        op = ins['operation']
        if op is None:
            return ins['security_groups']
        return op['requested'] if self.settings['show_new_list_while_operating'] else op['shown_before']

    def _show_instance(self, ins):
        """One InstanceSet item; a read that shows OPERATING counts towards settling. With operation_state_lag_reads,
        the first reads after a write show the instance as it was before it (its previous LatestOperation* fields
        and list) and do not count. A read also moves a busy_after_reads operation of another client on."""
        lag = ins.get('state_lag')
        if lag and lag['reads'] > 0:
            lag['reads'] -= 1
            groups, (operation, state, request_id, message) = lag['groups'], lag['fields']
        else:
            self._settle(ins)
            if ins['operation'] is not None:
                ins['operation']['reads'] += 1
            groups, operation, state = self._shown_list(ins), ins['latest_operation'], ins['latest_operation_state']
            request_id, message = ins['latest_operation_request_id'], ins['latest_operation_error_msg']
        if ins['other_operation'] is not None:
            ins['other_operation']['reads'] += 1
            self._start_other_operation(ins)
        return {
            'InstanceId': ins['id'], 'InstanceName': ins['name'], 'InstanceState': ins['status'],
            'SecurityGroupIds': list(groups),
            'LatestOperation': operation, 'LatestOperationState': state,
            'LatestOperationRequestId': request_id,
            'LatestOperationErrorMsg': message,
            'Placement': {'Zone': ins['zone'], 'ProjectId': 0, 'HostId': None},
            'VirtualPrivateCloud': {'VpcId': ins['vpc_id'], 'SubnetId': 'subnet-00000000', 'AsVpcGateway': False,
                                    'PrivateIpAddresses': None, 'Ipv6AddressCount': None},
            'InstanceType': 'S5.MEDIUM2', 'CPU': 2, 'Memory': 2, 'InstanceChargeType': 'POSTPAID_BY_HOUR',
            # The SDK model: "PublicIpAddresses ... 注意：此字段可能返回 null" (no public address: null).
            'RestrictState': 'NORMAL', 'PrivateIpAddresses': list(ins['private_ips']),
            'PublicIpAddresses': list(ins['public_ips']) or None, 'CreatedTime': ins['created'],
            'ExpiredTime': None, 'Uuid': ins['uuid'], 'Tags': [{'Key': k, 'Value': v} for k, v in ins['tags'].items()],
            'DisableApiTermination': False,
        }

    def _DescribeSecurityGroups(self, region, params, request_id):  # pylint: disable=invalid-name,unused-argument
        ids = self._string_list(params, 'SecurityGroupIds', required=False)
        filters = self._filters(params, SG_FILTERS, 'InvalidParameter.FilterInvalidKey')
        if ids is not None and filters:
            raise ApiError('InvalidParameter.Coexist', 'SecurityGroupIds and Filters cannot be specified at the same time.')
        bounds = []
        for name, default in (('Offset', '0'), ('Limit', '20')):
            value = params.get(name, default)
            if not isinstance(value, str):   # the VPC API types Offset and Limit as strings
                raise ApiError('InvalidParameter', 'The parameter `%s` must be a string.' % name)
            if not value.isdigit():
                raise ApiError('InvalidParameterValue.Range', 'The parameter `%s` must be a non-negative integer string.' % name)
            bounds.append(int(value))
        offset, limit = bounds
        if limit > 100:
            raise ApiError('InvalidParameterValue.LimitExceeded', 'Limit must be at most 100.')
        matches = [sg for sg in self.security_groups if sg['region'] == region]
        if ids is not None:
            if len(ids) > 100:
                raise ApiError('InvalidParameterValue.LimitExceeded', 'At most 100 values of `SecurityGroupIds` are allowed.')
            for sg_id in ids:
                if not SG_ID.match(sg_id):
                    raise ApiError('InvalidParameterValue.Malformed', 'Invalid security group ID `%s`.' % sg_id)
            missing = [i for i in ids if i not in set(sg['id'] for sg in matches)]
            if missing and self.settings['describe_sg_unknown_id'] == 'error':
                raise ApiError('ResourceNotFound', 'The security group(s) %s do not exist.' % ', '.join(missing))
            matches = [sg for sg in matches if sg['id'] in ids]
        for name, values in filters:
            field = {'security-group-id': 'id', 'security-group-name': 'name', 'project-id': 'project_id'}[name]
            matches = [sg for sg in matches if str(sg[field]) in values]
        if params.get('OrderDirection') == 'DESC':
            matches = list(reversed(matches))
        return {'TotalCount': len(matches), 'SecurityGroupSet': [{
            'SecurityGroupId': sg['id'], 'SecurityGroupName': sg['name'], 'SecurityGroupDesc': sg['description'],
            'ProjectId': str(sg['project_id']), 'IsDefault': sg['is_default'], 'CreatedTime': '2024-01-01 00:00:00',
            'UpdateTime': '', 'TagSet': []} for sg in matches[offset:offset + limit]]}

    # -- secondary ENIs (VPC API) -------------------------------------------
    def _eni_groups(self, eni):
        """A primary ENI's groups are its instance's."""
        return self._shown_list(eni['instance']) if eni['primary'] else eni['security_groups']

    @staticmethod
    def _eni_state(eni):
        transition = eni['transition']
        if transition is not None and time.monotonic() >= transition['due']:
            eni['state'] = transition['to']
            eni['transition'] = None
        return eni['state']

    def _eni_ids(self, params, name='NetworkInterfaceIds', required=True):
        ids = self._string_list(params, name, required)
        if ids is None:
            return None
        for eni_id in ids:
            if not ENI_ID.match(eni_id):
                raise ApiError('InvalidParameterValue.Malformed', 'Invalid network interface ID `%s`: use eni-xxxxxxxx.' % eni_id)
        if len(ids) > 100:
            raise ApiError('InvalidParameterValue.LimitExceeded', 'At most 100 values of `%s` are allowed.' % name)
        if required and not ids:
            raise ApiError('MissingParameter', 'The parameter `%s` must not be empty.' % name)
        return ids

    def _group_ids(self, region, params):
        sg_ids = self._string_list(params, 'SecurityGroupIds')
        for sg_id in sg_ids:
            if not SG_ID.match(sg_id):
                raise ApiError('InvalidParameterValue.Malformed', 'Invalid security group ID `%s`: use sg-xxxxxxxx.' % sg_id)
        if len(sg_ids) > 100:
            raise ApiError('InvalidParameterValue.LimitExceeded', 'At most 100 values of `SecurityGroupIds` are allowed.')
        if len(set(sg_ids)) != len(sg_ids):
            raise ApiError('InvalidParameterValue.Duplicate', 'The parameter `SecurityGroupIds` has duplicate values.')
        known = set(sg['id'] for sg in self.security_groups if sg['region'] == region)
        missing = [i for i in sg_ids if i not in known]
        if missing:
            raise ApiError('ResourceNotFound', 'The security group(s) %s do not exist.' % ', '.join(missing))
        return sg_ids

    def _writable_enis(self, region, ids):
        """All or nothing: every ENI must exist, be secondary [inferred code] and in a changeable state [inferred]."""
        by_id = dict((eni['id'], eni) for eni in self.network_interfaces if eni['region'] == region)
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise ApiError('ResourceNotFound', 'The network interface(s) %s do not exist.' % ', '.join(missing))
        enis = [by_id[i] for i in dict.fromkeys(ids)]
        for eni in enis:
            if eni['primary']:
                raise ApiError('UnsupportedOperation', 'The primary network interface %s cannot be bound to security groups '
                               'with this API; change its instance %s instead.' % (eni['id'], eni['instance']['id']))
            if self._eni_state(eni) not in ENI_CHANGEABLE_STATES:
                raise ApiError('UnsupportedOperation.InvalidState', 'The network interface %s is %s.' % (eni['id'], eni['state']))
        return enis

    def _change_enis(self, changes):
        """changes: [(eni, new list)]; shown at once, or write_apply_delay_s later (each ENI's list then, as changed)."""
        for eni, new_list in changes:
            def change(eni=eni, new_list=new_list):
                eni['security_groups'] = list(new_list)
            self.apply_later(change)

    def _AssociateNetworkInterfaceSecurityGroups(self, region, params, request_id):  # pylint: disable=invalid-name,unused-argument
        enis = self._writable_enis(region, self._eni_ids(params))
        sg_ids = self._group_ids(region, params)
        limit = int(self.settings['max_security_groups_per_eni'])
        changes = []
        for eni in enis:
            # [inferred] New groups go last, in the order given: bind order is priority order, as for instances.
            new_list = eni['security_groups'] + [sg for sg in sg_ids if sg not in eni['security_groups']]
            if len(new_list) > limit:
                raise ApiError('LimitExceeded', 'A network interface can be bound with up to %d security groups (%s).' % (limit, eni['id']))
            changes.append((eni, new_list))
        self._change_enis(changes)

    def _DisassociateNetworkInterfaceSecurityGroups(self, region, params, request_id):  # pylint: disable=invalid-name,unused-argument
        enis = self._writable_enis(region, self._eni_ids(params))
        sg_ids = self._group_ids(region, params)
        self._change_enis([(eni, [sg for sg in eni['security_groups'] if sg not in sg_ids]) for eni in enis])

    def _ModifyNetworkInterfaceAttribute(self, region, params, request_id):  # pylint: disable=invalid-name,unused-argument
        eni_id = params.get('NetworkInterfaceId')
        if not isinstance(eni_id, str):
            raise ApiError('MissingParameter', 'The request is missing a required parameter `NetworkInterfaceId`.')
        self._eni_ids({'NetworkInterfaceIds': [eni_id]})
        if 'SecurityGroupIds' not in params:
            if 'NetworkInterfaceName' in params:
                self._writable_enis(region, [eni_id])[0]['name'] = str(params['NetworkInterfaceName'])
                return
            raise ApiError('UnsupportedOperation', 'The emulator modifies only SecurityGroupIds and NetworkInterfaceName.')
        eni = self._writable_enis(region, [eni_id])[0]
        sg_ids = self._group_ids(region, params)
        if len(sg_ids) > int(self.settings['max_security_groups_per_eni']):
            raise ApiError('LimitExceeded', 'A network interface can be bound with up to %s security groups.' % self.settings['max_security_groups_per_eni'])
        self._change_enis([(eni, sg_ids)])

    def _DescribeNetworkInterfaces(self, region, params, request_id):  # pylint: disable=invalid-name,unused-argument
        ids = self._eni_ids(params, required=False)
        filters = self._filters(params, ENI_FILTERS, 'InvalidParameter.FilterInvalidKey')
        if ids and filters:
            raise ApiError('InvalidParameter.Coexist', 'NetworkInterfaceIds and Filters cannot be specified at the same time.')
        offset = self._integer(params, 'Offset', 0)
        limit = self._integer(params, 'Limit', 20)
        if offset < 0 or limit < 1:
            raise ApiError('InvalidParameterValue.Range', 'Offset must be >= 0 and Limit >= 1.')
        if limit > 100:
            raise ApiError('InvalidParameterValue.LimitExceeded', 'Limit must be at most 100.')
        matches = [eni for eni in self.network_interfaces if eni['region'] == region]
        if ids:
            missing = [i for i in ids if i not in set(eni['id'] for eni in matches)]
            if missing and self.settings['describe_eni_unknown_id'] == 'error':
                raise ApiError('ResourceNotFound', 'The network interface(s) %s do not exist.' % ', '.join(missing))
            matches = [eni for eni in matches if eni['id'] in ids]
        for name, values in filters:
            matches = [eni for eni in matches if self._eni_matches(eni, name, values)]
        return {'TotalCount': len(matches), 'NetworkInterfaceSet': [self._show_eni(eni) for eni in matches[offset:offset + limit]]}

    def _eni_matches(self, eni, name, values):
        if name == 'groups.security-group-id':
            return any(g in values for g in self._eni_groups(eni))
        if name == 'is-primary':
            return ('true' if eni['primary'] else 'false') in [v.lower() for v in values]
        if name == 'attachment.instance-id':
            return eni['instance'] is not None and eni['instance']['id'] in values
        return eni['vpc_id' if name == 'vpc-id' else 'id'] in values

    def _show_eni(self, eni):
        state = self._eni_state(eni)
        attachment = None
        if eni['instance'] is not None:
            attachment = {'InstanceId': eni['instance']['id'], 'DeviceIndex': 0 if eni['primary'] else 1,
                          'InstanceAccountId': '100000000001', 'AttachTime': '2024-01-01 00:00:00'}
        return {'NetworkInterfaceId': eni['id'], 'NetworkInterfaceName': eni['name'], 'NetworkInterfaceDescription': '',
                'SubnetId': 'subnet-00000000', 'VpcId': eni['vpc_id'], 'GroupSet': list(self._eni_groups(eni)),
                'Primary': eni['primary'], 'MacAddress': '20:90:6F:00:00:01',
                'State': 'AVAILABLE' if state == 'INUSE' else state, 'NetworkInterfaceState': state,
                'PrivateIpAddressSet': [], 'Attachment': attachment, 'Zone': eni['region'] + '-1',
                'CreatedTime': '2024-01-01 00:00:00', 'Ipv6AddressSet': [], 'TagSet': [{'Key': k, 'Value': v} for k, v in eni['tags'].items()],
                'EniType': 1 if eni['primary'] else 0,
                'Business': 'cvm', 'CdcId': '', 'AttachType': 0}

    # -- temporary credentials: the metadata service and STS AssumeRole ----------------------------------
    def issue(self, duration, role):
        """New temporary credentials for role, valid for duration seconds (or the setting): (entry, ExpiredTime told)."""
        ttl = self.settings['temporary_credentials_ttl_s']
        lifetime = float(duration if ttl is None else ttl)
        advertised = self.settings['temporary_credentials_advertised_ttl_s']
        now = self.now()
        entry = {'access_key': 'AKIDtmp' + uuid.uuid4().hex[:25], 'secret_key': uuid.uuid4().hex + uuid.uuid4().hex[:8],
                 'security_token': 'tmptoken-' + uuid.uuid4().hex + uuid.uuid4().hex, 'expires_at': now + lifetime,
                 'issued': True, 'uses': 0, 'role': role['arn']}
        self.credentials[entry['access_key']] = entry
        return entry, int(now + (lifetime if advertised is None else float(advertised)))

    def metadata(self, request):
        """GET /latest/meta-data/cam/security-credentials/ names the attached role; .../<role> gives its credentials."""
        path = urllib.parse.unquote(request.path.split('?', 1)[0])
        if request.method != 'GET' or not path.startswith(ROLE_PATH):
            return Response(404, b'Not Found', content_type='text/plain')
        attached = [role for role in self.cam_roles if role['attached']]
        name = path[len(ROLE_PATH):]
        if not name:
            if not attached:
                return Response(404, b'Not Found', content_type='text/plain')
            return Response(200, attached[0]['name'].encode('utf-8'), content_type='text/plain')
        role = next((r for r in attached if r['name'] == name), None)
        if role is None:
            return Response(404, b'Not Found', content_type='text/plain')
        entry, expired_time = self.issue(7200, role)
        body = {'TmpSecretId': entry['access_key'], 'TmpSecretKey': entry['secret_key'], 'Token': entry['security_token'],
                'ExpiredTime': expired_time,
                'Expiration': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(expired_time)), 'Code': 'Success'}
        return Response.json(200, body, content_type='application/json')

    def _AssumeRole(self, region, params, request_id):  # pylint: disable=invalid-name,unused-argument
        arn = params.get('RoleArn')
        session = params.get('RoleSessionName')
        if not isinstance(arn, str) or not arn:
            raise ApiError('MissingParameter', 'The request is missing the required parameter `RoleArn`.')
        if not isinstance(session, str) or not ROLE_SESSION_NAME.match(session):
            raise ApiError('InvalidParameter.ParamError', 'RoleSessionName must be 2-128 characters of [\\w+=,.@-].')
        duration = params.get('DurationSeconds', 7200)
        if isinstance(duration, bool) or not isinstance(duration, int) or not 0 <= duration <= MAX_DURATION:
            raise ApiError('InvalidParameter.ParamError', 'DurationSeconds must be an integer from 0 to %d.' % MAX_DURATION)
        role = next((r for r in self.cam_roles if r['arn'] == arn), None)
        if role is None:
            raise ApiError('ResourceNotFound.RoleNotExist', 'The role %s does not exist.' % arn)
        if role['external_id'] is not None and params.get('ExternalId') != role['external_id']:
            raise ApiError('UnauthorizedOperation', 'The role\'s trust policy requires another ExternalId.')
        entry, expired_time = self.issue(duration or 7200, role)
        return {'Credentials': {'TmpSecretId': entry['access_key'], 'TmpSecretKey': entry['secret_key'], 'Token': entry['security_token']},
                'ExpiredTime': expired_time, 'Expiration': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(expired_time))}

    # -- STS: the caller's account (the account segment of tag resource names) ----
    def _GetCallerIdentity(self, region, params, request_id):  # pylint: disable=invalid-name,unused-argument
        uin = str(self.settings['tag_owner_uin'])
        return {'AccountId': uin, 'UserId': uin, 'PrincipalId': uin, 'Type': 'CAMUser', 'Arn': 'qcs::cam:%s:uin/%s' % (uin, uin)}

    # -- the tag service ------------------------------------------------------
    def _tag_target(self, name):
        """The instance or ENI a six-segment resource name designates, or None if there is none; ApiError if malformed."""
        if not isinstance(name, str):
            raise ApiError('InvalidParameter', 'A resource must be a string.')
        match = TAG_RESOURCE.match(name)
        if not match:
            raise ApiError('InvalidParameterValue.ResourceDescriptionError', 'The resource %s is not qcs::<service>:<region>:uin/<account>:'
                           '<prefix>/<id>.' % name)
        kind = TAG_PREFIXES.get((match.group('service'), match.group('prefix')))
        if kind is None:
            raise ApiError('InvalidParameterValue.ResourcePrefixInvalid', 'The emulator tags cvm instance and vpc eni resources, not %s/%s.'
                           % (match.group('service'), match.group('prefix')))
        uin = match.group('uin')
        if self.settings['tag_resource_uin'] == 'owner' and uin != str(self.settings['tag_owner_uin']):
            raise ApiError('InvalidParameterValue.UinInvalid', 'The account %r of %s is not the resource owner\'s.' % (uin, name))
        if uin and uin != str(self.settings['tag_owner_uin']):
            raise ApiError('InvalidParameterValue.UinInvalid', 'The account %s of %s is not the resource owner\'s.' % (uin, name))
        pool = self.instances if kind == 'instance' else self.network_interfaces
        return next((item for item in pool if item['id'] == match.group('id') and item['region'] == match.group('region')), None)

    def _tag_targets(self, params, names):
        """[(name, target or None)]; a missing one per tag_missing_resource."""
        if not isinstance(names, list) or not names:
            raise ApiError('MissingParameter', 'The parameter `ResourceList` must not be empty.')
        if len(names) > MAX_TAGS_PER_CALL:
            raise ApiError('LimitExceeded.ResourceNumPerRequest', 'At most %d resources per request.' % MAX_TAGS_PER_CALL)
        out = [(name, self._tag_target(name)) for name in dict.fromkeys(names)]
        missing = [name for name, target in out if target is None]
        if missing and self.settings['tag_missing_resource'] == 'error':
            raise ApiError('InvalidParameterValue.ResourceIdInvalid', 'The resource(s) %s do not exist.' % ', '.join(missing))
        return out

    @staticmethod
    def _check_tag_text(text, what, limit):
        kind = 'Key' if what == 'key' else 'Value'
        if not isinstance(text, str) or text == '':
            raise ApiError('InvalidParameterValue.Tag%sEmpty' % kind, 'A tag %s must not be empty.' % what)
        if len(text) > limit:
            raise ApiError('InvalidParameterValue.Tag%sLengthExceeded' % kind, 'The tag %s %r is longer than %d characters.' % (what, text, limit))
        bad = [c for c in text if not (c.isalnum() or c == ' ' or c in TAG_SPECIALS)]
        if bad or text != text.strip(' '):
            raise ApiError('InvalidParameterValue.Tag%sCharacterIllegal' % kind, 'The tag %s %r has a character that is not allowed (%s).'
                           % (what, text, ''.join(bad) or 'a space at its start or end'))

    def _tag_pairs(self, tags, name='Tags'):
        if not isinstance(tags, list) or not tags:
            raise ApiError('MissingParameter', 'The parameter `%s` must not be empty.' % name)
        if len(tags) > MAX_TAGS_PER_CALL:
            raise ApiError('LimitExceeded.TagNumPerRequest', 'At most %d tags per request.' % MAX_TAGS_PER_CALL)
        pairs = []
        for tag in tags:
            if not isinstance(tag, dict):
                raise ApiError('InvalidParameter.Tag', 'A tag must be {"TagKey", "TagValue"}.')
            key, value = tag.get('TagKey'), tag.get('TagValue')
            self._check_tag_text(key, 'key', 127)
            if any(key.startswith(prefix) for prefix in TAG_RESERVED_PREFIXES):
                raise ApiError('InvalidParameterValue.ReservedTagKey', 'The tag key %r uses a reserved prefix (%s).' % (key, ', '.join(TAG_RESERVED_PREFIXES)))
            self._check_tag_text(value, 'value', 255)
            if key in [k for k, dummy in pairs]:
                raise ApiError('InvalidParameterValue.TagKeyDuplicate', 'The tag key %r is given twice.' % key)
            pairs.append((key, value))
        return pairs

    def _tag_keys(self, keys):
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
            raise ApiError('MissingParameter', 'The parameter `TagKeys` must be a non-empty list of keys.')
        if len(keys) > MAX_TAGS_PER_CALL:
            raise ApiError('LimitExceeded.TagNumPerRequest', 'At most %d tag keys per request.' % MAX_TAGS_PER_CALL)
        return list(dict.fromkeys(keys))

    def _check_new_values(self, pairs):
        """LimitExceeded.TagValue when a pair would give its key more distinct values than max_values_per_tag_key."""
        limit = int(self.settings['max_values_per_tag_key'] or 0)
        if limit <= 0:
            return
        for key, value in pairs:
            values = set(v for k, v in self.account_tags if k == key)
            if value not in values and len(values) >= limit:
                raise ApiError('LimitExceeded.TagValue', 'The tag key %r already has %d values in the account.' % (key, limit))

    def _attach(self, target, pairs):
        """The FailedResources entry of a target that cannot take the pairs, or None once they are attached."""
        after = dict(target['tags'], **dict(pairs))
        if len(after) > int(self.settings['max_tags_per_resource']):
            return ('LimitExceeded.ResourceAttachedTags', 'The resource would have %d tags; at most %s.' % (len(after), self.settings['max_tags_per_resource']))
        target['tags'] = after
        self.account_tags.update(pairs)
        return None

    def _detach(self, target, keys):
        absent = [k for k in keys if k not in target['tags']]
        if absent and self.settings['untag_missing_key'] == 'error':
            return ('ResourceNotFound.AttachedTagKeyNotFound', 'The resource has no tag key %s.' % ', '.join(absent))
        target['tags'] = dict((k, v) for k, v in target['tags'].items() if k not in keys)
        return None

    @staticmethod
    def _failed(failures):
        return {'FailedResources': [{'Resource': name, 'Code': code, 'Message': message} for name, (code, message) in failures]}

    def _TagResources(self, region, params, request_id):  # pylint: disable=invalid-name,unused-argument
        targets = self._tag_targets(params, params.get('ResourceList'))
        pairs = self._tag_pairs(params.get('Tags'))
        self._check_new_values(pairs)
        failures = []
        for name, target in targets:
            if target is None:
                if self.settings['tag_missing_resource'] == 'failed_resources':
                    failures.append((name, ('InvalidParameterValue.ResourceIdInvalid', 'The resource does not exist.')))
                continue
            failure = self._attach(target, pairs)
            if failure:
                failures.append((name, failure))
        return self._failed(failures)

    def _UnTagResources(self, region, params, request_id):  # pylint: disable=invalid-name,unused-argument
        targets = self._tag_targets(params, params.get('ResourceList'))
        keys = self._tag_keys(params.get('TagKeys'))
        failures = []
        for name, target in targets:
            if target is None:
                if self.settings['tag_missing_resource'] == 'failed_resources':
                    failures.append((name, ('InvalidParameterValue.ResourceIdInvalid', 'The resource does not exist.')))
                continue
            failure = self._detach(target, keys)
            if failure:
                failures.append((name, failure))
        return self._failed(failures)

    def _ModifyResourceTags(self, region, params, request_id):  # pylint: disable=invalid-name,unused-argument
        """One resource: ReplaceTags and DeleteTags (each up to 10, not empty when given, no key in both)."""
        name = params.get('Resource')
        target = self._tag_target(name)
        if target is None:
            raise ApiError('InvalidParameterValue.ResourceIdInvalid', 'The resource %s does not exist.' % name)
        if params.get('ReplaceTags') is None and params.get('DeleteTags') is None:
            raise ApiError('MissingParameter', 'ReplaceTags or DeleteTags is required.')
        pairs = self._tag_pairs(params['ReplaceTags'], 'ReplaceTags') if params.get('ReplaceTags') is not None else []
        deleted = params.get('DeleteTags')
        keys = self._tag_keys([item.get('TagKey') if isinstance(item, dict) else None for item in deleted]) if deleted is not None else []
        if set(keys) & set(k for k, dummy in pairs):
            raise ApiError('InvalidParameterValue.DeleteTagsParamError', 'DeleteTags must not name a key of ReplaceTags.')
        self._check_new_values(pairs)
        before = dict(target['tags'])
        failure = self._detach(target, keys) or self._attach(target, pairs)
        if failure:
            target['tags'] = before
            raise ApiError(*failure)


def seed_tags(entry, where):
    tags = entry.get('tags') or {}
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        raise SettingsError('%s: tags must be a mapping of strings' % where)
    return dict(tags)


CLOUD = TencentCloud
