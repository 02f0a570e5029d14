# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Alibaba Cloud ECS (RPC API, Version 2014-05-26): security-group binding.

Both signature schemes are verified from the raw request: V1 (HMAC-SHA1, the
signature and its parameters in the query or form body; aliyun-python-sdk-core,
Terraform, the CLI) and V3 (ACS3-HMAC-SHA256 in the Authorization header;
alibabacloud-ecs20140526). An instance's security groups ARE its primary ENI's
groups: only ENIs hold group lists, so the instance and ENI views always agree.
Instances and ENIs carry tags (TagResources / UntagResources / ListTagResources).
See docs/emulator.md, section "Alibaba Cloud", for settings and assumptions.
"""

import base64
import calendar
import copy
import hashlib
import hmac
import json
import re
import time
import urllib.parse
import uuid

from .core import ApiError, Cloud, Grants, Response, SettingsError

API_VERSION = '2014-05-26'
V3_ALGORITHM = 'ACS3-HMAC-SHA256'
EMPTY_SHA256 = hashlib.sha256(b'').hexdigest()
CONTENT_TYPE = 'application/json;charset=utf-8'

INSTANCE_STATUSES = ('Pending', 'Running', 'Starting', 'Stopping', 'Stopped')
BINDABLE_STATUSES = ('Running', 'Stopped')
# What a transient status becomes when the seeded ``status_ends_after_s`` has passed.
STATUS_ENDS_AS = {'Pending': 'Running', 'Starting': 'Running', 'Stopping': 'Stopped'}
GROUP_TYPES = ('normal', 'enterprise')
ENI_TYPES = ('Primary', 'Secondary')
ID_PATTERNS = {
    'instance': re.compile(r'^i-[0-9a-z]{8,30}$'),
    'security group': re.compile(r'^sg-[0-9a-z]{8,30}$'),
    'network interface': re.compile(r'^eni-[0-9a-z]{8,30}$'),
}

# Documented messages (ECS API reference; POP gateway common errors).
MESSAGES = {
    'MissingParameter.RegionId': 'The specified RegionId should not be null.',
    'InvalidInstanceId.Malformed': 'The specified parameter "InstanceId" is not valid.',
    'InvalidInstanceId.NotFound': 'The specified InstanceId does not exist.',
    'InvalidSecurityGroupId.NotFound': 'The specified SecurityGroupId does not exist.',
    'InvalidEniId.NotFound': 'The specified NetworkInterfaceId does not exist.',
    'InvalidInstanceId.AlreadyExists': 'The specified instance already exists in the specified security group.',
    'InvalidInstanceId.Mismatch': 'Specified instance and security group are not in the same VPC.',
    'InvalidOperation.VpcMismatch': 'The specified network interface and security group are not in the same VPC.',
    'InvalidOperation.MultiGroupType': "The specified instance can't join different types of security group.",
    'EnterpriseGroupLimited.MutliGroupType': 'The specified security groups are not of the same type.',
    'InstanceSecurityGroupLimitExceeded': 'Exceeding the allowed amount of security groups that an instance can be in.',
    'JoinedGroupLimitExceed': 'The number of security groups exceeds the limit.',
    'SecurityGroupInstanceLimitExceeded': 'The maximum number of instances in a security group is exceeded.',
    'SecurityGroupInstanceLimitExceed': 'The maximum number of instances in a security group is exceeded.',
    'InvalidOperation.NetworkInterfaceCountExceeded':
        'The maximum number of NetworkInterface in a enterprise level security group is exceeded.',
    'IncorrectInstanceStatus': 'The current status of the resource does not support this operation.',
    'Forbidden.InstanceIsBeingCreated': 'The specified instance is being created.',
    'InvalidOperation.InvalidEcsState': 'The current status of the instance the network interface is attached to does not support this operation.',
    'InvalidNetworkType.NotSupported': 'The security groups of an instance in the classic network cannot be modified with this operation.',
    'InvalidParam.EniIdAndInstanceId.Conflict': 'The InstanceId and NetworkInterfaceId parameters are mutually exclusive.',
    'InvalidSecurityGroupAssociation.NotFound': 'The specified instance or network interface is not in the specified security group.',
    'InstanceNotInSecurityGroup': 'The specified instance is not in the specified security group.',
    'InstanceLastSecurityGroup': 'The security group can not be removed, because the instance must be in at least one security group.',
    'InvalidOperation.AtLeastInOneGroup': 'The network interface must be in at least one security group.',
    'InvalidParameter.SecurityGroupIdRepeated': 'The specified SecurityGroupIds contain duplicate values.',
    'InvalidSecurityGroupVpc.NotBelongToOneVpc': 'The specified security groups and instance are not in the same VPC.',
    'InvalidOperation.PrimaryEniOnlySupportModifyNameAndDesc':
        'The primary network interface only supports modifying the name and description.',
    'InvalidParameter.SecurityGroupType': 'The specified SecurityGroupType is not valid.',
    'DryRunOperation': 'Request validation has been passed with DryRun flag set.',
    'InvalidStatus.NotFound': 'The specified Status is not found.',
    'InvalidAction.NotFound': 'Specified api is not found, please check your url and method.',
    'InvalidVersion': 'Specified parameter Version is not valid.',
    'InvalidAccessKeyId.NotFound': 'Specified access key is not found.',
    'InvalidTimeStamp.Expired': 'Specified time stamp or date value is expired.',
    'InvalidTimeStamp.Format': 'Specified time stamp or date value is not well formatted.',
    'SignatureNonceUsed': 'Specified signature nonce was used already.',
    'InvalidSignatureMethod': 'Specified signature method is not valid.',
    'IncompleteSignature': 'The request signature does not conform to Aliyun standards.',
    'InvalidSecurityToken.Malformed': 'Specified SecurityToken is malformed.',
    'Throttling.User': 'Request was denied due to user flow control.',
    'Throttling': 'Request was denied due to request throttling.',
    'ServiceUnavailable': 'The request has failed due to a temporary failure of the server.',
    'InternalError': 'The request processing has failed due to some unknown error.',
    'OperationConflict': 'Request was denied due to conflict with a previous request.',
}

# Tags: TagResources' Tag model (alibabacloud-ecs20140526 7.11.8) and the error table of ListTagResources / TagResources.
TAG_RESOURCE_TYPES = ('instance', 'eni')
TAG_RESERVED_PREFIXES = ('aliyun', 'acs:')
TAG_FORBIDDEN = ('http://', 'https://')
MAX_TAG_RESOURCES = 50       # ResourceId.N
MAX_TAGS_PER_CALL = 20       # Tag.N, TagKey.N
MESSAGES.update({
    'NumberExceed.ResourceIds': "The ResourceIds parameter's number is exceed , Valid : 50",
    'NumberExceed.Tags': "The Tags parameter's number is exceed , Valid : 20",
    'Duplicate.TagKey': 'The Tag.N.Key contain duplicate key.',
    'InvalidResourceId.NotFound': 'The specified ResourceIds are not found in our records.',
    'InvalidResourceType.NotFound': 'The ResourceType provided does not exist in our records.',
    'InvalidTagKey.Malformed': 'The specified Tag.n.Key is not valid.',
    'InvalidTagValue.Malformed': 'The specified Tag.n.Value is not valid.',
    'OperationDenied.QuotaExceed': 'The quota of tags on resource is beyond permitted range.',
    'MissingParameter.ResourceType': 'The parameter - ResourceType should not be null',
    'MissingParameter.Tags': 'The parameter - Tags should not be null',
})

# Codes a fault can produce, with their documented HTTP statuses.
FAULT_CODES = {
    'throttle': {'Throttling.User': 400, 'Throttling': 400},
    'server_error': {'ServiceUnavailable': 503, 'InternalError': 500},
    'in_progress': {'IncorrectInstanceStatus': 403, 'OperationConflict': 403},
}


class AliError(ApiError):
    """An ECS error answer; the message defaults to the code's documented one."""

    def __init__(self, status, code, message=None):
        super(AliError, self).__init__(status, code, message if message is not None else MESSAGES.get(code, code))


def missing(name):
    return AliError(400, 'MissingParameter',
                    'The input parameter "%s" that is mandatory for processing this request is not supplied.' % name)


def invalid(name, value):
    return AliError(400, 'InvalidParameter', 'The specified parameter "%s" is not valid: %r.' % (name, value))


# -- signing: the pieces are module functions so tests can check the vectors ----

def percent_encode(text):
    """RFC 3986 encoding as both signature versions use it (space is %20, '*' is %2A, '~' stays)."""
    return urllib.parse.quote(text, safe='-_.~')


def canonical_query(pairs):
    """Sorted, percent-encoded name=value pairs joined by '&' (V1 and V3)."""
    encoded = sorted((percent_encode(k), percent_encode(v or '')) for k, v in pairs)
    return '&'.join('%s=%s' % kv for kv in encoded)


def v1_string_to_sign(method, pairs):
    """StringToSign of signature V1; ``pairs`` are all parameters except Signature."""
    return '%s&%s&%s' % (method, percent_encode('/'), percent_encode(canonical_query(pairs)))


def v1_signature(secret, string_to_sign):
    digest = hmac.new((secret + '&').encode('utf-8'), string_to_sign.encode('utf-8'), hashlib.sha1).digest()
    return base64.b64encode(digest).decode('ascii')


def v3_canonical_request(method, path, query_pairs, headers, signed_headers, body):
    """CanonicalRequest of signature V3; ``headers`` maps lower-case names to values as received."""
    header_block = ''.join('%s:%s\n' % (name, (headers.get(name) or '').strip()) for name in signed_headers)
    return '\n'.join([method, path or '/', canonical_query(query_pairs), header_block,
                      ';'.join(signed_headers), hashlib.sha256(body).hexdigest()])


def v3_string_to_sign(canonical_request):
    return '%s\n%s' % (V3_ALGORITHM, hashlib.sha256(canonical_request.encode('utf-8')).hexdigest())


def v3_signature(secret, string_to_sign):
    return hmac.new(secret.encode('utf-8'), string_to_sign.encode('utf-8'), hashlib.sha256).hexdigest()


def parse_v3_authorization(value):
    """(access key, [signed headers], signature) of an ACS3 Authorization header, or None."""
    if not value or not value.startswith(V3_ALGORITHM + ' '):
        return None
    fields = {}
    for part in value[len(V3_ALGORITHM) + 1:].split(','):
        if '=' not in part:
            return None
        key, val = part.strip().split('=', 1)
        fields[key] = val
    if not all(fields.get(k) for k in ('Credential', 'SignedHeaders', 'Signature')):
        return None
    return fields['Credential'], fields['SignedHeaders'].split(';'), fields['Signature']


def parse_timestamp(text):
    """Epoch seconds of an ISO-8601 UTC timestamp ('...Z', optionally with fractions), or None."""
    for fmt in ('%Y-%m-%dT%H:%M:%SZ', '%Y-%m-%dT%H:%M:%S.%fZ'):
        try:
            return calendar.timegm(time.strptime(text or '', fmt))
        except ValueError:
            continue
    return None


def request_params(request):
    """All parameters: query then form body (decoding '+' as space), in order."""
    pairs = [(k, v if v is not None else '') for k, v in request.query_pairs()]
    content_type = (request.header('Content-Type') or '').lower()
    if request.body and content_type.startswith('application/x-www-form-urlencoded'):
        pairs.extend(urllib.parse.parse_qsl(request.body.decode('utf-8'), keep_blank_values=True))
    return pairs


def is_v3(request):
    return (request.header('Authorization') or '').startswith('ACS3-')


def lower_headers(request):
    return dict((name.lower(), value) for name, value in request.headers.items())


# -- credentials: the ECS metadata service and STS AssumeRole (issue 25) ----------------------------
# STS is served on this cloud's port (an sts_endpoint pointed at it reaches it), the metadata service on a port of its
# own (the ``alicloud_metadata`` endpoint). Paths and fields as
# alibabacloud-credentials 1.0.12 reads them (provider/ecs_ram_role.py, ram_role_arn.py); see docs/emulator.md.
STS_VERSION = '2015-04-01'
METADATA_TOKEN_PATH = '/latest/api/token'
METADATA_ROLE_PATH = '/latest/meta-data/ram/security-credentials/'
ROLE_ARN = re.compile(r'^acs:ram::([0-9]+):role/(.+)$')
SESSION_NAME = re.compile(r'^[A-Za-z0-9.@_-]{2,64}$')
MESSAGES.update({
    'InvalidSecurityToken.Expired': 'Specified SecurityToken is expired.',
    'EntityNotExist.Role': 'The specified Role not exists.',
    'NoPermission': 'You are not authorized to do this action. You should be authorized by RAM.',
    'InvalidParameter.RoleArn': 'The parameter RoleArn is wrongly formed.',
    'InvalidParameter.RoleSessionName': 'The parameter RoleSessionName is wrongly formed.',
    'InvalidParameter.DurationSeconds': 'The Min/Max value of DurationSeconds is 15min/1hr.',
})


def _iso(epoch):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(epoch))


class CredentialServices(object):
    """The metadata service and STS of the emulated Alibaba Cloud, mixed into AliCloud."""

    credential_settings = {
        # optional: the token-protected mode is offered and a plain GET still works (the ECS default);
        # required: a GET without a valid X-aliyun-ecs-metadata-token is refused (an instance set to "enforced");
        # absent: PUT /latest/api/token answers 404 (an agent that predates the mode).
        'metadata_token_mode': 'optional',
        'temporary_credentials_ttl_s': 3600,    # lifetime of what the metadata service hands out; STS: min(DurationSeconds, this)
        'role_max_session_duration_s': 3600,    # a role's MaxSessionDuration (3600 unless raised, up to 43200)
    }

    def reset_credential_services(self):
        self.roles = {}            # role name -> {'name', 'account_id', 'instance', 'external_id', 'trusted'}
        self.issued = {}           # temporary access key -> {'secret_key', 'security_token', 'expires_at', 'role'}
        self.metadata_tokens = {}  # token -> expiry
        self.issued_count = 0

    def seed_roles(self, data):
        for where, entry in self.seed_entries(data, 'ram_roles'):
            unknown = set(entry) - set(['name', 'account_id', 'instance', 'external_id', 'trusted_access_keys'])
            if unknown or not isinstance(entry.get('name'), str) or not entry['name']:
                raise SettingsError('%s: needs a name; known keys: name, account_id, instance, external_id, '
                                    'trusted_access_keys%s' % (where, '; unknown: ' + ', '.join(sorted(unknown)) if unknown else ''))
            trusted = entry.get('trusted_access_keys')
            if trusted is not None and not (isinstance(trusted, list) and all(isinstance(k, str) for k in trusted)):
                raise SettingsError('%s: trusted_access_keys must be a list of access keys' % where)
            self.roles[entry['name']] = {'name': entry['name'], 'account_id': str(entry.get('account_id', '1234567890123456')),
                                         'instance': bool(entry.get('instance')), 'external_id': entry.get('external_id'),
                                         'trusted': trusted}
        if len([r for r in self.roles.values() if r['instance']]) > 1:
            raise SettingsError('alicloud ram_roles: at most one role is attached to the instance (instance: true)')

    def issue(self, role, lifetime):
        """New temporary credentials of a role, valid `lifetime` seconds from now."""
        self.issued_count += 1
        key = 'STS.emu%s' % uuid.uuid4().hex[:20]
        entry = {'access_key': key, 'secret_key': uuid.uuid4().hex + uuid.uuid4().hex[:8],
                 'security_token': 'CAIS' + uuid.uuid4().hex * 3, 'expires_at': int(self.now() + lifetime), 'role': role}
        self.issued[key] = entry
        return entry

    def temporary_secret(self, access_key, token):
        """The secret of issued temporary credentials; InvalidSecurityToken.* when the token is wrong or expired."""
        entry = self.issued.get(access_key)
        if entry is None:
            return None
        if token != entry['security_token']:
            raise AliError(400, 'InvalidSecurityToken.Malformed' if token else 'MissingSecurityToken')
        if self.now() >= entry['expires_at']:
            raise AliError(400, 'InvalidSecurityToken.Expired')
        return entry['secret_key']

    # -- the metadata service ---------------------------------------------------
    @staticmethod
    def metadata_action(request):
        path = request.path
        if path == METADATA_TOKEN_PATH and request.method == 'PUT':
            return 'MetadataToken'
        if path == METADATA_ROLE_PATH and request.method == 'GET':
            return 'MetadataRoleList'
        if path.startswith(METADATA_ROLE_PATH) and request.method == 'GET' and '/' not in path[len(METADATA_ROLE_PATH):]:
            return 'MetadataRoleCredentials'
        return 'MetadataNotFound'

    def metadata(self, request):
        """The metadata service, on its own port (core: ``alicloud_metadata``): plain-text answers as ECS gives them;
        statuses other than 200 are [inferred]."""
        action = self.metadata_action(request)
        mode = self.settings['metadata_token_mode']
        if mode not in ('optional', 'required', 'absent'):
            raise ApiError(500, 'InternalError', 'Emulator setting alicloud.metadata_token_mode must be optional, required or absent')
        now = self.now()
        self.metadata_tokens = dict((t, exp) for t, exp in self.metadata_tokens.items() if exp > now)
        if action == 'MetadataToken':
            if mode == 'absent':
                return Response(404, b'Not Found', 'text/plain', error_code='HTTP404')
            ttl = request.header('X-aliyun-ecs-metadata-token-ttl-seconds') or ''
            if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return Response(400, b'Bad Request', 'text/plain', error_code='HTTP400')
            token = base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode('ascii').rstrip('=')
            self.metadata_tokens[token] = now + int(ttl)
            return Response(200, token.encode('ascii'), 'text/plain')
        token = request.header('X-aliyun-ecs-metadata-token')
        if token is not None and token not in self.metadata_tokens:
            return Response(401, b'Unauthorized', 'text/plain', error_code='HTTP401')
        if token is None and mode == 'required':
            return Response(403, b'Forbidden', 'text/plain', error_code='HTTP403')
        role = next((r for r in self.roles.values() if r['instance']), None)
        if action == 'MetadataRoleList':
            if role is None:
                return Response(404, b'Not Found', 'text/plain', error_code='HTTP404')
            return Response(200, role['name'].encode('utf-8'), 'text/plain')
        name = urllib.parse.unquote(request.path[len(METADATA_ROLE_PATH):]) if action == 'MetadataRoleCredentials' else None
        if role is None or name != role['name']:
            return Response(404, b'Not Found', 'text/plain', error_code='HTTP404')
        issued = self.issue(role['name'], float(self.settings['temporary_credentials_ttl_s']))
        body = {'AccessKeyId': issued['access_key'], 'AccessKeySecret': issued['secret_key'],
                'SecurityToken': issued['security_token'], 'Expiration': _iso(issued['expires_at']),
                'LastUpdated': _iso(now), 'Code': 'Success'}
        return Response(200, json.dumps(body, indent=2).encode('utf-8'), 'text/plain')

    # -- STS AssumeRole -----------------------------------------------------------
    def do_AssumeRole(self, params, caller):  # pylint: disable=invalid-name
        arn = params.get('RoleArn')
        if not arn:
            raise missing('RoleArn')
        matched = ROLE_ARN.match(arn)
        if not matched:
            raise AliError(400, 'InvalidParameter.RoleArn')
        name = params.get('RoleSessionName')
        if not name:
            raise missing('RoleSessionName')
        if not SESSION_NAME.match(name):
            raise AliError(400, 'InvalidParameter.RoleSessionName')
        duration = params.get('DurationSeconds', '3600')
        max_duration = int(self.settings['role_max_session_duration_s'])
        if not duration.isdigit() or not 900 <= int(duration) <= max_duration:
            raise AliError(400, 'InvalidParameter.DurationSeconds')
        role = self.roles.get(matched.group(2))
        if role is None or role['account_id'] != matched.group(1):
            raise AliError(404, 'EntityNotExist.Role')
        # [inferred] a caller outside the trust policy, or a wrong ExternalId, gets NoPermission.
        if role['trusted'] is not None and caller not in role['trusted']:
            raise AliError(403, 'NoPermission')
        if role['external_id'] is not None and params.get('ExternalId') != role['external_id']:
            raise AliError(403, 'NoPermission')
        lifetime = min(int(duration), float(self.settings['temporary_credentials_ttl_s']))
        issued = self.issue(role['name'], lifetime)
        return {'AssumedRoleUser': {'Arn': 'acs:ram::%s:role/%s/%s' % (role['account_id'], role['name'].lower(), name),
                                    'AssumedRoleId': '3%015d:%s' % (self.issued_count, name)},
                'Credentials': {'AccessKeyId': issued['access_key'], 'AccessKeySecret': issued['secret_key'],
                                'SecurityToken': issued['security_token'], 'Expiration': _iso(issued['expires_at'])}}


class AliCloud(CredentialServices, Cloud):
    name = 'alicloud'
    default_settings = {
        'timestamp_window_s': 900,              # documented 15 minutes; 0 disables the check
        'check_nonce': True,                    # SignatureNonceUsed on a replayed nonce
        'max_security_groups_per_instance': 5,  # per instance or ENI; 16 by ticket
        'max_instances_per_normal_group': 2000,
        'max_enis_per_enterprise_group': 65536,
        'join_already_member': 'error',         # 'error' (InvalidInstanceId.AlreadyExists) | 'ok'
        'leave_not_member': 'error',            # 'error' (2024-07-08+) | 'legacy_error' | 'ok' (before)
        'throttle_code': 'Throttling.User',     # or 'Throttling'
        'throttle_retry_after_s': 0,            # > 0 adds the x-acs-retry-after header
        'server_error_code': 'ServiceUnavailable',  # or 'InternalError'
        'in_progress_code': 'IncorrectInstanceStatus',  # or 'OperationConflict'
        'stale_reads_s': 0,                     # > 0: Describe* show an ENI's old groups this long after a change
        # > 0: every Describe* page holds at most this many items whatever MaxResults/PageSize asks (NextToken still given)
        'page_size_cap': 0,
        'write_apply_delay_s': 0,               # > 0: a write is answered at once and takes effect this much later
        'group_order': 'keep',                  # order of groups in Describe answers: keep | reverse | shuffle
        'group_order_seed': 0,
        'max_tags_per_resource': 20,            # OperationDenied.QuotaExceed beyond it [inferred: see docs/emulator.md]
        'list_tag_page_size': 50,               # ListTagResources items a page [inferred]
        'describe_instances_lists_enis': True,  # False: DescribeInstances answers leave NetworkInterfaces out
        # DescribeInstances with Tag.N filters lists at most this many instances (0: no cap). The request model's text:
        # "the number of resources with this tag cannot exceed 1,000 ... use ListTagResources"; [inferred] that the
        # answer then stops at 1,000 matches (NextToken empty) rather than failing.
        'tag_filter_max_results': 1000,
    }
    default_settings.update(CredentialServices.credential_settings)
    # ASSUMPTION: the ECS flow-control quotas are not published per API; these are defaults.
    rate_limits = {
        'DescribeInstances': 100, 'DescribeInstanceAttribute': 100, 'DescribeNetworkInterfaces': 100,
        'DescribeSecurityGroups': 100, 'JoinSecurityGroup': 20, 'LeaveSecurityGroup': 20,
        'ModifyInstanceAttribute': 20, 'ModifyNetworkInterfaceAttribute': 20,
        'TagResources': 20, 'UntagResources': 20, 'ListTagResources': 100,
    }
    write_actions = ('JoinSecurityGroup', 'LeaveSecurityGroup', 'ModifyInstanceAttribute', 'ModifyNetworkInterfaceAttribute',
                     'TagResources', 'UntagResources')

    # -- state ------------------------------------------------------------
    def reset(self):
        self.credentials = {}      # access key -> {'access_key', 'secret_key'[, 'security_token']}
        self.groups = {}           # id -> {id, region, vpc_id, type, name}
        self.instances = {}        # id -> {id, region, vpc_id, status, name, zone}
        self.enis = {}             # id -> {id, region, vpc_id, instance_id, type, security_groups}
        self.nonces = {}           # nonce -> expiry (epoch seconds)
        self.stale = {}            # ENI id -> (groups Describe* still show, until when) after a change
        self.status_ends = {}      # instance id -> when its transient status ends (STATUS_ENDS_AS)
        self.enis_of = {}          # instance id -> its ENIs, the primary first (ENIs are only made by the seed)
        self.reset_credential_services()

    def seed(self, data):
        self.seed_section(data, ('credentials', 'security_groups', 'instances', 'network_interfaces', 'ram_roles'))
        self.reset()
        self.credentials = self.seed_credentials(data)
        self.seed_roles(data)
        for _where, sg in self.seed_entries(data, 'security_groups'):
            sg_id = self._seed_id(sg, 'security group')
            sg_type = sg.get('type', 'normal')
            if sg_type not in GROUP_TYPES:
                raise SettingsError('alicloud: security group %s: type must be one of %s' % (sg_id, ', '.join(GROUP_TYPES)))
            self.groups[sg_id] = {'id': sg_id, 'region': sg.get('region', 'cn-hangzhou'), 'vpc_id': sg.get('vpc_id'),
                                  'type': sg_type, 'name': sg.get('name', '')}
        seeded_lists = {}
        for _where, inst in self.seed_entries(data, 'instances'):
            inst_id = self._seed_id(inst, 'instance')
            status = inst.get('status', 'Running')
            if status not in INSTANCE_STATUSES:
                raise SettingsError('alicloud: instance %s: status must be one of %s' % (inst_id, ', '.join(INSTANCE_STATUSES)))
            region = inst.get('region', 'cn-hangzhou')
            self.instances[inst_id] = {'id': inst_id, 'region': region, 'vpc_id': inst.get('vpc_id'), 'status': status,
                                       'name': inst.get('name', ''), 'zone': inst.get('zone', region + '-a'),
                                       'tags': self._seed_tags(inst, 'instance ' + inst_id)}
            for key in ('private_ips', 'public_ips'):
                ips = inst.get(key, [])
                if not isinstance(ips, list) or not all(isinstance(ip, str) for ip in ips):
                    raise SettingsError('alicloud: instance %s: %s must be a list of addresses' % (inst_id, key))
                self.instances[inst_id][key] = list(ips)
            if not isinstance(inst.get('eip', ''), str):
                raise SettingsError('alicloud: instance %s: eip must be an address' % inst_id)
            self.instances[inst_id]['eip'] = inst.get('eip') or None
            ends_after = inst.get('status_ends_after_s')
            if ends_after is not None:
                if status not in STATUS_ENDS_AS or isinstance(ends_after, bool) or not isinstance(ends_after, (int, float)) or ends_after < 0:
                    raise SettingsError('alicloud: instance %s: status_ends_after_s needs a status among %s and a number >= 0'
                                        % (inst_id, ', '.join(STATUS_ENDS_AS)))
                self.status_ends[inst_id] = self.now() + ends_after
            seeded_lists[inst_id] = self._seed_group_list(inst, 'instance ' + inst_id)
        for _where, eni in self.seed_entries(data, 'network_interfaces'):
            eni_id = self._seed_id(eni, 'network interface')
            eni_type = eni.get('type', 'Secondary')
            owner = eni.get('instance_id')
            if eni_type not in ENI_TYPES:
                raise SettingsError('alicloud: network interface %s: type must be Primary or Secondary' % eni_id)
            if owner is not None and owner not in self.instances:
                raise SettingsError('alicloud: network interface %s: unknown instance_id %s' % (eni_id, owner))
            if eni_type == 'Primary' and (owner is None or self._primary_eni(owner) is not None):
                raise SettingsError('alicloud: network interface %s: a Primary ENI needs an instance_id '
                                    'whose instance has no other Primary ENI' % eni_id)
            groups = self._seed_group_list(eni, 'network interface ' + eni_id)
            if eni_type == 'Primary' and 'security_groups' in eni and 'security_groups' in self._seed_entry(data, owner):
                if groups != seeded_lists[owner]:
                    raise SettingsError('alicloud: network interface %s: its security_groups differ from instance %s\'s '
                                        '(a primary ENI\'s groups are the instance\'s groups)' % (eni_id, owner))
            if eni_type == 'Primary' and 'security_groups' not in eni:
                groups = seeded_lists[owner]
            default_region = self.instances[owner]['region'] if owner else 'cn-hangzhou'
            default_vpc = self.instances[owner]['vpc_id'] if owner else None
            self._add_eni({'id': eni_id, 'region': eni.get('region', default_region),
                           'vpc_id': eni.get('vpc_id', default_vpc), 'instance_id': owner,
                           'type': eni_type, 'security_groups': groups,
                           'tags': self._seed_tags(eni, 'network interface ' + eni_id)})
        for inst_id, groups in seeded_lists.items():
            if self._primary_eni(inst_id) is None:
                # A deterministic ID, so that a snapshot fed back to POST /seed is identical.
                eni_id = 'eni-' + hashlib.sha1(inst_id.encode('utf-8')).hexdigest()[:20]
                inst = self.instances[inst_id]
                self._add_eni({'id': eni_id, 'region': inst['region'], 'vpc_id': inst['vpc_id'],
                               'instance_id': inst_id, 'type': 'Primary', 'security_groups': groups, 'tags': {}})

    def _add_eni(self, eni):
        self.enis[eni['id']] = eni
        if eni['instance_id'] is not None:
            attached = self.enis_of.setdefault(eni['instance_id'], [])
            attached.insert(0 if eni['type'] == 'Primary' else len(attached), eni)

    @staticmethod
    def _seed_tags(entry, what):
        tags = entry.get('tags') or {}
        if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
            raise SettingsError('alicloud: %s: tags must be a mapping of strings' % what)
        return dict(tags)

    @staticmethod
    def _seed_entry(data, inst_id):
        for inst in data.get('instances') or []:
            if inst.get('id') == inst_id:
                return inst
        return {}

    def _seed_id(self, entry, kind):
        value = entry.get('id')
        if not isinstance(value, str) or not ID_PATTERNS[kind].match(value):
            raise SettingsError('alicloud: %s %r: id must match %s' % (kind, entry, ID_PATTERNS[kind].pattern))
        taken = {'instance': self.instances, 'security group': self.groups, 'network interface': self.enis}[kind]
        if value in taken:
            raise SettingsError('alicloud: duplicate %s id %s' % (kind, value))
        return value

    def _seed_group_list(self, entry, what):
        groups = entry.get('security_groups', [])
        if not isinstance(groups, list):
            raise SettingsError('alicloud: %s: security_groups must be a list' % what)
        for sg_id in groups:
            if sg_id not in self.groups:
                raise SettingsError('alicloud: %s: unknown security group %r' % (what, sg_id))
        if len(set(groups)) != len(groups):
            raise SettingsError('alicloud: %s: duplicate security groups' % what)
        return list(groups)

    def snapshot(self):
        self._advance_statuses()
        instances = []
        for inst in self.instances.values():
            out = dict((k, copy.copy(v)) for k, v in inst.items() if v is not None and v != {} and v != [])
            out['security_groups'] = list(self._primary_eni(inst['id'])['security_groups'])
            instances.append(out)
        return {
            'credentials': [dict([('access_key', c['access_key']), ('secret_key', c['secret_key'])] +
                                 ([('security_token', c['security_token'])] if c.get('security_token') else []) +
                                 ([('policy', c['policy'])] if c.get('policy') is not None else []))
                            for c in self.credentials.values()],
            'security_groups': [dict((k, v) for k, v in sg.items() if v is not None) for sg in self.groups.values()],
            'instances': instances,
            'network_interfaces': [dict((k, copy.copy(v)) for k, v in eni.items() if v is not None and v != {}) for eni in self.enis.values()],
        }

    def _primary_eni(self, inst_id):
        for eni in self.enis_of.get(inst_id, []):
            if eni['type'] == 'Primary':
                return eni
        return None

    def _set_groups(self, eni, groups):
        """Change an ENI's groups (with write_apply_delay_s, later: what was added and removed, on the list it
        has then); with stale_reads_s, Describe* keep showing the old ones for a while."""
        base, exact = list(eni['security_groups']), list(groups)
        added = [sg for sg in groups if sg not in base]
        removed = [sg for sg in base if sg not in groups]

        def change():
            current = eni['security_groups']
            self._store_groups(eni, exact if current == base else
                               [sg for sg in current if sg not in removed] + [sg for sg in added if sg not in current])
        self.apply_later(change)

    def _store_groups(self, eni, groups):
        window = float(self.settings['stale_reads_s'] or 0)
        now = self.now()
        if window > 0 and not (eni['id'] in self.stale and self.stale[eni['id']][1] > now):
            self.stale[eni['id']] = (list(eni['security_groups']), now + window)
        eni['security_groups'] = list(groups)

    def _shown_groups(self, eni):
        """The groups Describe* show: the real ones, or the old ones within a stale window."""
        stale = self.stale.get(eni['id'])
        if stale is not None and stale[1] > self.now():
            return self.shown_order(stale[0])
        return self.shown_order(eni['security_groups'])

    def _members(self, sg_id):
        return [eni for eni in self.enis.values() if sg_id in eni['security_groups']]

    # -- requests ---------------------------------------------------------
    def identify(self, request):
        # V3 carries the action only in x-acs-action; V1 in the Action parameter.
        if is_v3(request):
            return request.header('x-acs-action') or None
        return dict(request_params(request)).get('Action') or request.header('x-acs-action') or None

    def _error(self, request, err, headers=None):
        request_id = self._request_id()
        host = request.header('Host') or 'ecs.aliyuncs.com'
        body = {'RequestId': request_id, 'HostId': host, 'Code': err.code, 'Message': err.message,
                'Recommend': 'https://api.aliyun.com/troubleshoot?q=%s&product=Ecs&requestId=%s' % (err.code, request_id)}
        return Response.json(err.status, body, content_type=CONTENT_TYPE, headers=headers,
                             error_code=err.code, request_id=request_id)

    @staticmethod
    def _request_id():
        return str(uuid.uuid4()).upper()

    def authenticate(self, request, action):
        try:
            if is_v3(request):
                self._check_v3(request)
                request.access_key = parse_v3_authorization(request.header('Authorization'))[0]
            else:
                self._check_v1(request)
                request.access_key = dict(request_params(request)).get('AccessKeyId')
        except AliError as err:
            return self._error(request, err)
        return None

    # -- RAM policies (Version "1", Statement [{Effect, Action, Resource}]) ------------------------------
    def parse_policy(self, doc, where):
        if not isinstance(doc, dict) or doc.get('Version') != '1' or set(doc) - {'Version', 'Statement'}:
            raise SettingsError('%s: a RAM policy is {"Version": "1", "Statement": [...]}' % where)
        statements = doc.get('Statement')
        statements = [statements] if isinstance(statements, dict) else statements
        if not isinstance(statements, list) or not statements:
            raise SettingsError('%s: Statement must be a statement or a non-empty list of them' % where)
        allow, deny = [], []
        for n, st in enumerate(statements):
            here = '%s Statement[%d]' % (where, n)
            if not isinstance(st, dict) or set(st) - {'Effect', 'Action', 'Resource'}:
                raise SettingsError('%s: takes Effect, Action and Resource (the emulator evaluates no Condition)' % here)
            if st.get('Effect') not in ('Allow', 'Deny'):
                raise SettingsError('%s: Effect must be "Allow" or "Deny", not %r' % (here, st.get('Effect')))
            actions = [st.get('Action')] if isinstance(st.get('Action'), str) else st.get('Action')
            if not isinstance(actions, list) or not actions or not all(isinstance(a, str) and a for a in actions):
                raise SettingsError('%s: Action must be an action or a list of them ("ecs:DescribeInstances")' % here)
            resources = [st.get('Resource')] if isinstance(st.get('Resource'), str) else st.get('Resource')
            if resources != ['*']:
                raise SettingsError('%s: Resource must be "*": the emulator evaluates actions, not resources' % here)
            (allow if st['Effect'] == 'Allow' else deny).extend(actions)
        return Grants(allow, deny)

    def permission(self, request, action):
        if not action:
            return None
        return ('sts:' if action == 'AssumeRole' else 'ecs:') + action

    def denied(self, request, action, permission):
        # ECS answers a RAM denial, Describe calls included since 2025-12-20, with 403 Forbidden.RAM and an AccessDeniedDetail
        # naming the action (the "changes to the authentication mechanism" announcement); the encoded message is a stand-in.
        request_id = self._request_id()
        explicit = self.parse_policy(self.credentials[request.access_key]['policy'], 'policy').denies(permission)
        body = {'RequestId': request_id, 'HostId': request.header('Host') or 'ecs.aliyuncs.com', 'Code': 'Forbidden.RAM',
                'Message': "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
                'Recommend': 'https://api.aliyun.com/troubleshoot?q=Forbidden.RAM&product=Ecs&requestId=%s' % request_id,
                'AccessDeniedDetail': {'AuthAction': permission, 'AuthPrincipalType': 'SubUser',
                                       'AuthPrincipalDisplayName': request.access_key, 'AuthPrincipalOwnerId': '1000000000000001',
                                       'PolicyType': 'AccountLevelIdentityBasedPolicy',
                                       'NoPermissionType': 'ExplicitDeny' if explicit else 'ImplicitDeny',
                                       'EncodedDiagnosticMessage': 'emulator-' + request_id}}
        return Response.json(403, body, content_type=CONTENT_TYPE, error_code='Forbidden.RAM', request_id=request_id)

    def _check_time_and_nonce(self, stamp, nonce, stamp_name):
        when = parse_timestamp(stamp)
        if when is None:
            raise AliError(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted: %s=%r.' % (
                stamp_name, stamp))
        window = float(self.settings['timestamp_window_s'] or 0)
        now = self.now()
        if window > 0 and abs(now - when) > window:
            raise AliError(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired. %s=%s, server time %s.' % (
                stamp_name, stamp, time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now))))
        return now

    def _remember_nonce(self, nonce, now):
        if not self.settings['check_nonce']:
            return
        self.nonces = dict((n, exp) for n, exp in self.nonces.items() if exp > now)
        if nonce in self.nonces:
            raise AliError(400, 'SignatureNonceUsed')
        self.nonces[nonce] = now + 2 * max(float(self.settings['timestamp_window_s'] or 0), 900)

    def _secret(self, access_key, token):
        temporary = self.temporary_secret(access_key, token)
        if temporary is not None:
            return temporary
        cred = self.credentials.get(access_key)
        if cred is None:
            raise AliError(404, 'InvalidAccessKeyId.NotFound')
        if cred.get('security_token') and token != cred['security_token']:
            raise AliError(400, 'InvalidSecurityToken.Malformed')
        return cred['secret_key']

    def _check_v1(self, request):
        pairs = request_params(request)
        params = dict(pairs)
        for name in ('AccessKeyId', 'Signature', 'SignatureMethod', 'SignatureNonce', 'Timestamp'):
            if not params.get(name):
                raise missing(name)
        if params['SignatureMethod'] != 'HMAC-SHA1' or params.get('SignatureVersion', '1.0') != '1.0':
            raise AliError(400, 'InvalidSignatureMethod')
        now = self._check_time_and_nonce(params['Timestamp'], params['SignatureNonce'], 'Timestamp')
        secret = self._secret(params['AccessKeyId'], params.get('SecurityToken'))
        string_to_sign = v1_string_to_sign(request.method, [(k, v) for k, v in pairs if k != 'Signature'])
        if not hmac.compare_digest(v1_signature(secret, string_to_sign), params['Signature']):
            raise AliError(400, 'SignatureDoesNotMatch',
                           'Specified signature is not matched with our calculation. server string to sign is:' + string_to_sign)
        self._remember_nonce(params['SignatureNonce'], now)

    def _check_v3(self, request):
        parsed = parse_v3_authorization(request.header('Authorization'))
        if parsed is None:
            raise AliError(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards: '
                           'expected "%s Credential=...,SignedHeaders=...,Signature=...".' % V3_ALGORITHM)
        access_key, signed_headers, signature = parsed
        headers = lower_headers(request)
        required = set(['host'] + [h for h in headers if h.startswith('x-acs-')])
        if not required.issubset(signed_headers):
            raise AliError(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards: '
                           'SignedHeaders must include %s.' % ';'.join(sorted(required - set(signed_headers))))
        for name in ('x-acs-date', 'x-acs-signature-nonce', 'x-acs-action', 'x-acs-version'):
            if not headers.get(name):
                raise missing(name)
        now = self._check_time_and_nonce(headers['x-acs-date'], headers['x-acs-signature-nonce'], 'x-acs-date')
        secret = self._secret(access_key, headers.get('x-acs-security-token'))
        # The body hash is recomputed from the bytes received, so a tampered body fails.
        canonical = v3_canonical_request(request.method, request.path, request_params_query(request), headers,
                                         signed_headers, request.body)
        string_to_sign = v3_string_to_sign(canonical)
        if not hmac.compare_digest(v3_signature(secret, string_to_sign), signature):
            raise AliError(400, 'SignatureDoesNotMatch',
                           'Specified signature is not matched with our calculation. server string to sign is:' + string_to_sign)
        self._remember_nonce(headers['x-acs-signature-nonce'], now)

    def fault_response(self, kind, request, action):
        code = self.settings[{'throttle': 'throttle_code', 'server_error': 'server_error_code',
                              'in_progress': 'in_progress_code'}[kind]]
        status = FAULT_CODES[kind].get(code, 400 if kind == 'throttle' else 503)
        headers = None
        if kind == 'throttle' and int(self.settings['throttle_retry_after_s'] or 0) > 0:
            headers = {'x-acs-retry-after': str(int(self.settings['throttle_retry_after_s']))}
        return self._error(request, AliError(status, code), headers)

    def describe_request(self, request, action):
        params = dict(request_params(request))
        target = [params.get('InstanceId') or params.get('NetworkInterfaceId')]
        indexed = sorted((int(k.rsplit('.', 1)[1]), v) for k, v in params.items() if k.startswith('SecurityGroupId') and k[-1].isdigit())
        if action in ('JoinSecurityGroup', 'LeaveSecurityGroup'):
            return {'targets': target, 'bind' if action == 'JoinSecurityGroup' else 'unbind': [params.get('SecurityGroupId')]}
        if action in ('ModifyInstanceAttribute', 'ModifyNetworkInterfaceAttribute'):
            return {'targets': target, 'set': [v for dummy, v in indexed]} if indexed else None
        if action == 'DescribeInstances':
            return {'targets': json.loads(params['InstanceIds']) if params.get('InstanceIds') else None}
        if action == 'DescribeNetworkInterfaces':
            return {'targets': [v for k, v in params.items() if k.startswith('NetworkInterfaceId.')] or None}
        return None

    def _advance_statuses(self):
        now = self.now()
        for inst_id, when in list(self.status_ends.items()):
            if when <= now:
                inst = self.instances[inst_id]
                inst['status'] = STATUS_ENDS_AS.get(inst['status'], inst['status'])
                del self.status_ends[inst_id]

    def dispatch(self, request, action):
        self._advance_statuses()
        params = dict(request_params(request))
        try:
            version = request.header('x-acs-version') if is_v3(request) else params.get('Version')
            if action == 'AssumeRole':
                # STS shares this port: its own version, and the caller's access key.
                if version != STS_VERSION:
                    raise AliError(400, 'InvalidVersion', 'Specified parameter Version is not valid: %r.' % version)
                caller = parse_v3_authorization(request.header('Authorization'))[0] if is_v3(request) else params.get('AccessKeyId')
                body = self.do_AssumeRole(params, caller)
            else:
                if version != API_VERSION:
                    raise AliError(400, 'InvalidVersion', 'Specified parameter Version is not valid: %r.' % version)
                handler = getattr(self, 'do_' + (action or ''), None)
                if handler is None:
                    raise AliError(404, 'InvalidAction.NotFound')
                body = handler(params)
        except AliError as err:
            return self._error(request, err)
        request_id = self._request_id()
        body['RequestId'] = request_id
        return Response.json(200, body, content_type=CONTENT_TYPE, request_id=request_id)

    # -- lookups and rules ------------------------------------------------
    def _region_ok(self, resource, params):
        # The region comes from the endpoint; a RegionId naming another region hides the resource.
        return not params.get('RegionId') or params['RegionId'] == resource['region']

    def _instance(self, params, key='InstanceId', check_region=True):
        inst_id = params.get(key)
        if not inst_id:
            raise missing(key)
        if not ID_PATTERNS['instance'].match(inst_id):
            raise AliError(400, 'InvalidInstanceId.Malformed')
        inst = self.instances.get(inst_id)
        if inst is None or (check_region and not self._region_ok(inst, params)):
            raise AliError(404, 'InvalidInstanceId.NotFound')
        return inst

    def _eni(self, params):
        eni = self.enis.get(params.get('NetworkInterfaceId'))
        if eni is None or not self._region_ok(eni, params):
            raise AliError(404, 'InvalidEniId.NotFound')
        return eni

    def _group(self, sg_id, region):
        group = self.groups.get(sg_id)
        if group is None or group['region'] != region:
            raise AliError(404, 'InvalidSecurityGroupId.NotFound')
        return group

    @staticmethod
    def _check_status(inst):
        if inst['status'] == 'Pending':
            raise AliError(403, 'Forbidden.InstanceIsBeingCreated')
        if inst['status'] not in BINDABLE_STATUSES:
            raise AliError(403, 'IncorrectInstanceStatus')

    def _check_capacity(self, group, eni, code):
        members = [e for e in self._members(group['id']) if e['id'] != eni['id']]
        if group['type'] == 'enterprise':
            if len(members) >= int(self.settings['max_enis_per_enterprise_group']):
                raise AliError(403, 'InvalidOperation.NetworkInterfaceCountExceeded')
        elif len(set(e['instance_id'] or e['id'] for e in members)) >= int(self.settings['max_instances_per_normal_group']):
            raise AliError(403, code)

    def _join_leave_target(self, params):
        """(eni, group): the ENI named by exactly one of InstanceId / NetworkInterfaceId."""
        if not params.get('SecurityGroupId'):
            raise missing('SecurityGroupId')
        if params.get('InstanceId') and params.get('NetworkInterfaceId'):
            raise AliError(403, 'InvalidParam.EniIdAndInstanceId.Conflict')
        if params.get('NetworkInterfaceId'):
            if not params.get('RegionId'):
                raise AliError(400, 'MissingParameter.RegionId')
            eni = self._eni(params)
            inst = self.instances.get(eni['instance_id'])
        elif params.get('InstanceId'):
            inst = self._instance(params)
            eni = self._primary_eni(inst['id'])
        else:
            raise missing('InstanceId')
        group = self._group(params['SecurityGroupId'], eni['region'])
        if inst is not None:
            self._check_status(inst)
        return eni, group

    # -- actions ------------------------------------------------------------
    def do_JoinSecurityGroup(self, params):  # pylint: disable=invalid-name
        eni, group = self._join_leave_target(params)
        by_eni = bool(params.get('NetworkInterfaceId'))
        if group['vpc_id'] != eni['vpc_id']:
            raise AliError(403, 'InvalidOperation.VpcMismatch') if by_eni else AliError(400, 'InvalidInstanceId.Mismatch')
        if group['id'] in eni['security_groups']:
            if self.settings['join_already_member'] == 'ok':
                return {}
            raise AliError(403, 'InvalidInstanceId.AlreadyExists')
        if any(self.groups[sg]['type'] != group['type'] for sg in eni['security_groups']):
            raise AliError(400, 'InvalidOperation.MultiGroupType')
        if len(eni['security_groups']) >= int(self.settings['max_security_groups_per_instance']):
            raise AliError(400, 'InstanceSecurityGroupLimitExceeded')
        self._check_capacity(group, eni, 'SecurityGroupInstanceLimitExceeded')
        self._set_groups(eni, eni['security_groups'] + [group['id']])
        return {}

    def do_LeaveSecurityGroup(self, params):  # pylint: disable=invalid-name
        eni, group = self._join_leave_target(params)
        by_eni = bool(params.get('NetworkInterfaceId'))
        if group['id'] not in eni['security_groups']:
            policy = self.settings['leave_not_member']
            if policy == 'ok':
                return {}
            if policy == 'legacy_error':
                raise AliError(403, 'InstanceNotInSecurityGroup')
            raise AliError(400, 'InvalidSecurityGroupAssociation.NotFound')
        if len(eni['security_groups']) == 1:
            raise AliError(403, 'InvalidOperation.AtLeastInOneGroup') if by_eni else AliError(403, 'InstanceLastSecurityGroup')
        self._set_groups(eni, [sg for sg in eni['security_groups'] if sg != group['id']])
        return {}

    def _new_group_list(self, params, prefix, eni, vpc_error, type_error):
        """The validated replacement list from ``prefix.N`` parameters, or None when absent."""
        numbered = []
        for key, value in params.items():
            match = re.match(r'^%s\.(\d+)$' % re.escape(prefix), key)
            if match:
                numbered.append((int(match.group(1)), value))
        if not numbered:
            return None
        ids = [pair[1] for pair in sorted(numbered)]
        if len(set(ids)) != len(ids):
            raise AliError(404, 'InvalidParameter.SecurityGroupIdRepeated')
        if len(ids) > int(self.settings['max_security_groups_per_instance']):
            raise AliError(400, 'JoinedGroupLimitExceed')
        groups = [self._group(sg_id, eni['region']) for sg_id in ids]
        if any(g['vpc_id'] != eni['vpc_id'] for g in groups):
            raise vpc_error
        if len(set(g['type'] for g in groups)) > 1:
            raise type_error
        for group in groups:
            if group['id'] not in eni['security_groups']:
                self._check_capacity(group, eni, 'SecurityGroupInstanceLimitExceed')
        return ids

    def do_ModifyInstanceAttribute(self, params):  # pylint: disable=invalid-name
        inst = self._instance(params, check_region=False)
        eni = self._primary_eni(inst['id'])
        if not inst['vpc_id'] and any(re.match(r'^SecurityGroupIds\.\d+$', k) for k in params):
            raise AliError(400, 'InvalidNetworkType.NotSupported')
        ids = self._new_group_list(params, 'SecurityGroupIds', eni, AliError(404, 'InvalidSecurityGroupVpc.NotBelongToOneVpc'),
                                   AliError(403, 'EnterpriseGroupLimited.MutliGroupType'))
        if ids is not None:
            self._check_status(inst)
            self._set_groups(eni, ids)
        if 'InstanceName' in params:
            inst['name'] = params['InstanceName']
        return {}

    def do_ModifyNetworkInterfaceAttribute(self, params):  # pylint: disable=invalid-name
        if not params.get('RegionId'):
            raise AliError(400, 'MissingParameter.RegionId')
        if not params.get('NetworkInterfaceId'):
            raise missing('NetworkInterfaceId')
        eni = self._eni(params)
        has_groups = any(re.match(r'^SecurityGroupId\.\d+$', k) for k in params)
        if has_groups and eni['type'] == 'Primary':
            raise AliError(404, 'InvalidOperation.PrimaryEniOnlySupportModifyNameAndDesc')
        ids = self._new_group_list(params, 'SecurityGroupId', eni, AliError(403, 'InvalidOperation.VpcMismatch'),
                                   AliError(403, 'InvalidOperation.MultiGroupType'))
        inst = self.instances.get(eni['instance_id'])
        if ids is not None:
            if inst is not None and inst['status'] not in BINDABLE_STATUSES:
                raise AliError(400, 'InvalidOperation.InvalidEcsState')
            self._set_groups(eni, ids)
        return {}

    # -- describes ----------------------------------------------------------
    @staticmethod
    def _flag(params, name):
        return str(params.get(name, '')).lower() == 'true'

    @staticmethod
    def _json_ids(params, name):
        if name not in params:
            return None
        try:
            ids = json.loads(params[name])
        except ValueError:
            raise invalid(name, params[name])
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or len(ids) > 100:
            raise invalid(name, params[name])
        return ids

    @staticmethod
    def _int(params, name, default):
        if params.get(name) in (None, ''):
            return default
        try:
            value = int(params[name])
        except ValueError:
            raise invalid(name, params[name])
        if value < 1:
            raise invalid(name, params[name])
        return value

    def _page(self, items, params, max_cap, min_results, token_code='InvalidParameter.NextToken', page_total=True):
        """Slice ``items`` by MaxResults/NextToken (when either is sent) or PageNumber/PageSize."""
        cap = int(self.settings['page_size_cap'] or 0)
        if 'MaxResults' in params or 'NextToken' in params:
            size = min(max(self._int(params, 'MaxResults', 10), min_results), max_cap)
            size = min(size, cap) if cap > 0 else size
            start = 0
            if params.get('NextToken'):
                try:
                    start = int(base64.urlsafe_b64decode(params['NextToken'].encode('ascii')).decode('ascii').split(':')[1])
                except (ValueError, IndexError, UnicodeError):
                    raise AliError(400, token_code, 'The specified NextToken is not valid.')
            end = start + size
            token = base64.urlsafe_b64encode(('next:%d' % end).encode('ascii')).decode('ascii') if end < len(items) else ''
            meta = {'NextToken': token}
            if page_total:
                meta['TotalCount'] = len(items)
            return items[start:end], meta
        number = self._int(params, 'PageNumber', 1)
        size = self._int(params, 'PageSize', 10)
        if size > 100:
            raise invalid('PageSize', params['PageSize'])
        size = min(size, cap) if cap > 0 else size
        start = (number - 1) * size
        return items[start:start + size], {'TotalCount': len(items), 'PageNumber': number, 'PageSize': size}

    def _require_region(self, params):
        if not params.get('RegionId'):
            raise AliError(400, 'MissingParameter.RegionId')
        if self._flag(params, 'DryRun'):
            raise AliError(400, 'DryRunOperation')

    def _instance_view(self, inst, flat=False):
        eni = self._primary_eni(inst['id'])
        view = {
            'InstanceId': inst['id'], 'InstanceName': inst['name'], 'RegionId': inst['region'], 'ZoneId': inst['zone'],
            'Status': inst['status'], 'InstanceNetworkType': 'vpc' if inst['vpc_id'] else 'classic',
            'InstanceType': 'ecs.g7.large', 'Cpu': 2, 'Memory': 8192, 'Description': '',
            'SecurityGroupIds': {'SecurityGroupId': self._shown_groups(eni)},
            'VpcAttributes': {'VpcId': inst['vpc_id'] or '', 'VSwitchId': '', 'NatIpAddress': '',
                              'PrivateIpAddress': {'IpAddress': list(inst['private_ips']) if inst['vpc_id'] else []}},
            # A classic-network instance's private addresses are its InnerIpAddress (the response model).
            'InnerIpAddress': {'IpAddress': [] if inst['vpc_id'] else list(inst['private_ips'])},
            'PublicIpAddress': {'IpAddress': list(inst['public_ips'])},
            'EipAddress': {'IpAddress': inst['eip'] or '', 'AllocationId': '', 'InternetChargeType': ''},
            'OperationLocks': {'LockReason': []},
            'IoOptimized': 'optimized' if flat else True,
            'Tags': {'Tag': [{'TagKey': k, 'TagValue': v} for k, v in inst['tags'].items()]},
        }
        if not flat and self.settings['describe_instances_lists_enis']:
            view['NetworkInterfaces'] = {'NetworkInterface': [
                {'NetworkInterfaceId': e['id'], 'Type': e['type']}
                for e in self.enis_of.get(inst['id'], [])]}
        return view

    def do_DescribeInstances(self, params):  # pylint: disable=invalid-name
        self._require_region(params)
        ids = self._json_ids(params, 'InstanceIds')
        if params.get('Status') and params['Status'] not in INSTANCE_STATUSES:
            raise AliError(404, 'InvalidStatus.NotFound')
        # Tag.N.Key (and Tag.N.Value, when given): every one must match.
        tag_keys = self._numbered(params, r'^Tag\.(\d+)\.Key$')
        tag_values = self._numbered(params, r'^Tag\.(\d+)\.Value$')
        if any(n not in tag_keys for n in tag_values):
            raise AliError(400, 'InvalidTag.Mismatch', 'The specified Tag.n.Key and Tag.n.Value are not match.')
        if len(tag_keys) > 20 or any(not 1 <= n <= 20 for n in tag_keys):
            raise AliError(400, 'InvalidTagCount', 'The specified tags are beyond the permitted range (Tag.N: N 1 to 20).')
        found = []
        for inst in self.instances.values():
            if inst['region'] != params['RegionId'] or (ids is not None and inst['id'] not in ids):
                continue
            if params.get('VpcId') and inst['vpc_id'] != params['VpcId']:
                continue
            if params.get('SecurityGroupId') and params['SecurityGroupId'] not in self._shown_groups(self._primary_eni(inst['id'])):
                continue
            if params.get('Status') and inst['status'] != params['Status']:
                continue
            if params.get('ZoneId') and inst['zone'] != params['ZoneId']:
                continue
            if params.get('InstanceName') and not re.match(
                    '^' + re.escape(params['InstanceName']).replace(r'\*', '.*') + '$', inst['name']):
                continue
            if not all(key in inst['tags'] and (n not in tag_values or inst['tags'][key] == tag_values[n]) for n, key in tag_keys.items()):
                continue
            found.append(inst)
        cap = int(self.settings['tag_filter_max_results'] or 0)
        if tag_keys and cap:
            found = found[:cap]
        page, meta = self._page(found, params, 100, 10)
        meta['Instances'] = {'Instance': [self._instance_view(inst) for inst in page]}
        return meta

    def do_DescribeInstanceAttribute(self, params):  # pylint: disable=invalid-name
        return self._instance_view(self._instance(params, check_region=False), flat=True)

    def _eni_view(self, eni):
        inst = self.instances.get(eni['instance_id'])
        return {
            'NetworkInterfaceId': eni['id'], 'NetworkInterfaceName': '', 'Type': eni['type'],
            'Status': 'InUse' if inst is not None else 'Available',
            'InstanceId': eni['instance_id'] or '', 'VpcId': eni['vpc_id'] or '', 'VSwitchId': '',
            'ZoneId': inst['zone'] if inst is not None else '', 'Description': '',
            'SecurityGroupIds': {'SecurityGroupId': self._shown_groups(eni)},
            'Attachment': {'InstanceId': eni['instance_id'] or ''},
            'PrivateIpSets': {'PrivateIpSet': []}, 'Tags': {'Tag': [{'TagKey': k, 'TagValue': v} for k, v in eni['tags'].items()]},
        }

    def do_DescribeNetworkInterfaces(self, params):  # pylint: disable=invalid-name
        self._require_region(params)
        wanted = [v for k, v in params.items() if re.match(r'^NetworkInterfaceId\.\d+$', k)]
        found = []
        for eni in self.enis.values():
            view = self._eni_view(eni)
            if eni['region'] != params['RegionId'] or (wanted and eni['id'] not in wanted):
                continue
            if any(params.get(key) and view[field] != params[key]
                   for key, field in (('InstanceId', 'InstanceId'), ('VpcId', 'VpcId'), ('Type', 'Type'), ('Status', 'Status'))):
                continue
            # Documented: the SecurityGroupId filter covers secondary ENIs only.
            if params.get('SecurityGroupId') and (eni['type'] != 'Secondary' or params['SecurityGroupId'] not in self._shown_groups(eni)):
                continue
            found.append(view)
        page, meta = self._page(found, params, 500, 10)
        meta['NetworkInterfaceSets'] = {'NetworkInterfaceSet': page}
        return meta

    def do_DescribeSecurityGroups(self, params):  # pylint: disable=invalid-name
        self._require_region(params)
        ids = self._json_ids(params, 'SecurityGroupIds')
        if params.get('SecurityGroupType') and params['SecurityGroupType'] not in GROUP_TYPES:
            raise AliError(400, 'InvalidParameter.SecurityGroupType')
        found = []
        for sg in self.groups.values():
            if sg['region'] != params['RegionId'] or (ids is not None and sg['id'] not in ids):
                continue
            if params.get('SecurityGroupId') and sg['id'] != params['SecurityGroupId']:
                continue
            if any(params.get(key) and sg[field] != params[key]
                   for key, field in (('VpcId', 'vpc_id'), ('SecurityGroupType', 'type'), ('SecurityGroupName', 'name'))):
                continue
            members = self._members(sg['id'])
            found.append({'SecurityGroupId': sg['id'], 'SecurityGroupName': sg['name'], 'Description': '',
                          'SecurityGroupType': sg['type'], 'VpcId': sg['vpc_id'] or '', 'ServiceManaged': False,
                          'EcsCount': len(set(e['instance_id'] for e in members if e['instance_id'])),
                          'Tags': {'Tag': []}})
        page, meta = self._page(found, params, 100, 1, token_code='InValidParameter.NextToken', page_total=False)
        meta['RegionId'] = params['RegionId']
        meta['SecurityGroups'] = {'SecurityGroup': page}
        return meta

    # -- tags -----------------------------------------------------------------
    def _tag_resources(self, params, required=True):
        """The instances or ENIs named by ResourceId.N (ResourceType instance / eni), all of the region; errors as documented."""
        self._require_region(params)
        kind = params.get('ResourceType')
        if not kind:
            raise AliError(404, 'MissingParameter.ResourceType')
        if kind not in TAG_RESOURCE_TYPES:
            raise AliError(404, 'InvalidResourceType.NotFound', 'The ResourceType provided does not exist in our records '
                           '(the emulator tags %s): %s.' % (', '.join(TAG_RESOURCE_TYPES), kind))
        ids = [v for dummy, v in sorted((int(k.split('.')[1]), v) for k, v in params.items() if re.match(r'^ResourceId\.\d+$', k))]
        if required and not ids:
            raise missing('ResourceId.1')
        if len(ids) > MAX_TAG_RESOURCES:
            raise AliError(400, 'NumberExceed.ResourceIds')
        pool = self.instances if kind == 'instance' else self.enis
        unknown = [i for i in ids if i not in pool or pool[i]['region'] != params['RegionId']]
        if unknown:
            raise AliError(404, 'InvalidResourceId.NotFound', 'The specified ResourceIds are not found in our records: %s.' % ', '.join(unknown))
        return kind, [pool[i] for i in dict.fromkeys(ids)]

    @staticmethod
    def _numbered(params, pattern):
        """{N: value} of the parameters matching pattern (one group: N)."""
        out = {}
        for key, value in params.items():
            match = re.match(pattern, key)
            if match:
                out[int(match.group(1))] = value
        return out

    def do_TagResources(self, params):  # pylint: disable=invalid-name
        kind, targets = self._tag_resources(params)
        keys = self._numbered(params, r'^Tag\.(\d+)\.Key$')
        values = self._numbered(params, r'^Tag\.(\d+)\.Value$')
        if not keys:
            raise AliError(404, 'MissingParameter.Tags')
        if set(values) - set(keys):
            raise AliError(400, 'InvalidTag.Mismatch', 'The specified Tag.n.Key and Tag.n.Value are not match.')
        if len(keys) > MAX_TAGS_PER_CALL:
            raise AliError(400, 'NumberExceed.Tags')
        pairs = []
        for n in sorted(keys):
            key, value = keys[n], values.get(n, '')    # the documented sample sends a key without a value
            lowered = key.lower()
            if not key or len(key) > 128 or lowered.startswith(TAG_RESERVED_PREFIXES) or any(f in lowered for f in TAG_FORBIDDEN):
                raise AliError(400, 'InvalidTagKey.Malformed', 'The specified Tag.%d.Key is not valid: %r.' % (n, key))
            if len(value) > 128 or any(f in value.lower() for f in TAG_FORBIDDEN):
                raise AliError(400, 'InvalidTagValue.Malformed', 'The specified Tag.%d.Value is not valid: %r.' % (n, value))
            if key in [k for k, dummy in pairs]:
                raise AliError(400, 'Duplicate.TagKey')
            pairs.append((key, value))
        limit = int(self.settings['max_tags_per_resource'])
        for target in targets:      # all or nothing
            if len(dict(target['tags'], **dict(pairs))) > limit:
                raise AliError(400, 'OperationDenied.QuotaExceed', 'The quota of tags on resource is beyond permitted range: %s would '
                               'have more than %d tags.' % (target['id'], limit))
        for target in targets:
            target['tags'] = dict(target['tags'], **dict(pairs))
        return {}

    def do_UntagResources(self, params):  # pylint: disable=invalid-name
        kind, targets = self._tag_resources(params)
        keys = list(self._numbered(params, r'^TagKey\.(\d+)$').values())
        if len(keys) > MAX_TAGS_PER_CALL:
            raise AliError(400, 'NumberExceed.Tags')
        if not keys and not self._flag(params, 'All'):
            return {}       # [inferred] nothing named, nothing removed
        for target in targets:
            # [inferred] A key the resource does not have is not an error.
            target['tags'] = {} if not keys else dict((k, v) for k, v in target['tags'].items() if k not in keys)
        return {}

    def do_ListTagResources(self, params):  # pylint: disable=invalid-name
        kind, targets = self._tag_resources(params, required=False)
        wanted = self._numbered(params, r'^Tag\.(\d+)\.Key$')
        wanted_values = self._numbered(params, r'^Tag\.(\d+)\.Value$')
        if not targets and not wanted:
            raise missing('ResourceId.1')
        if not targets:
            pool = self.instances if kind == 'instance' else self.enis
            targets = [t for t in pool.values() if t['region'] == params['RegionId']]
        items = []
        for target in targets:
            if any(target['tags'].get(wanted[n], None) is None or (n in wanted_values and target['tags'][wanted[n]] != wanted_values[n])
                   for n in wanted):
                continue
            items.extend({'ResourceId': target['id'], 'ResourceType': kind, 'TagKey': k, 'TagValue': v} for k, v in target['tags'].items())
        size = int(self.settings['list_tag_page_size'])
        start = 0
        if params.get('NextToken'):
            try:
                start = int(base64.urlsafe_b64decode(params['NextToken'].encode('ascii')).decode('ascii').split(':')[1])
            except (ValueError, IndexError, UnicodeError):
                raise AliError(400, 'InvalidParameter.NextToken', 'The specified NextToken is not valid.')
        end = start + size
        token = base64.urlsafe_b64encode(('next:%d' % end).encode('ascii')).decode('ascii') if end < len(items) else ''
        return {'NextToken': token, 'TagResources': {'TagResource': items[start:end]}}


def request_params_query(request):
    """The query parameters only (V3 signs the query; a body is covered by its hash)."""
    return [(k, v if v is not None else '') for k, v in request.query_pairs()]


CLOUD = AliCloud
