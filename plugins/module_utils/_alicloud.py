# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This module_utils is PRIVATE to the collection: it may change at any time.
"""Alibaba Cloud ECS: everything specific to it, for the engine.

RPC API version 2014-05-26 on ``ecs.<region>.aliyuncs.com``, signed with
ACS3-HMAC-SHA256 (signature V3, the current SDK's default): every parameter in
the query of a ``POST /`` with an empty body, the action and version in the
``x-acs-action`` / ``x-acs-version`` headers. Two kinds of target: ECS
instances and secondary elastic network interfaces (ENIs). Writes are
JoinSecurityGroup / LeaveSecurityGroup (one group on one target) and, for a
purge, ModifyInstanceAttribute / ModifyNetworkInterfaceAttribute (the whole
list at once). Changes "take effect shortly": the engine re-reads until the
targets show them. Tags (the quarantine record) are written with TagResources /
UntagResources and read with the instances and ENIs (Describe* return them).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import hashlib
import hmac
import json
import re
import time
import uuid
from urllib.parse import quote, urlsplit

from ansible.module_utils.basic import env_fallback

from ansible_collections.multicloud.secgroup.plugins.module_utils import _credentials as credentials
from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _quarantine_record as quarantine_record
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

API_VERSION = '2014-05-26'
ALGORITHM = 'ACS3-HMAC-SHA256'
EMPTY_SHA256 = hashlib.sha256(b'').hexdigest()
USER_AGENT = 'multicloud.secgroup'
PAGE = 100                 # IDs per Describe call (InstanceIds, NetworkInterfaceId.N, SecurityGroupIds) and page size
# DescribeInstances' Status values (the request model, alibabacloud-ecs20140526 7.11.8; reference 3.3): one is sent.
INSTANCE_STATUSES = ('Pending', 'Running', 'Starting', 'Stopping', 'Stopped')
# DescribeInstances takes Tag.N for N 1 to 20 (request model; reference 3.3).
LIST_TAGS = 20
# The request model on Tag.N.Key: "the number of resources with this tag cannot exceed 1,000 ... use ListTagResources".
# [inferred] Beyond it the answer stops short (what it does is not documented): a tag-filtered listing that reaches this
# many instances is not trusted, and the region is listed again without the tag filters.
TAG_FILTER_CAP = 1000

# Tags. TagResources' Tag model (alibabacloud-ecs20140526 7.11.8, TagResourcesRequestTag): a key is 1-128 characters,
# does not start with aliyun or acs: and does not contain http:// or https://; a value is 0-128 characters without
# http:// or https://. No character set is documented beyond that; the classes below leave out "/" (so neither URL
# prefix can ever be formed) and keep what the other clouds accept. [inferred] 20 tags per resource: TagResources takes
# Tag.N for N 1 to 20, and the VPC TagResources page states "up to 20 tags to each instance"; ECS' own "Tag limits"
# section was not found in the sources at hand. [inferred] The reserved prefixes are refused whatever their case.
TAG_LIMITS = quarantine_record.TagLimits(
    max_key_len=128, max_value_len=128, max_tags=20,
    key_chars=r'[A-Za-z0-9 +\-=._:@,;()\[\]]', value_chars=r'[A-Za-z0-9 +\-=._:@,;()\[\]]',
    reserved_prefixes=('aliyun', 'acs:'))
# TagResources / UntagResources: ResourceId.N 1-50, Tag.N / TagKey.N 1-20 (the SDK models; NumberExceed.ResourceIds,
# NumberExceed.Tags beyond them). ResourceType: instance, or eni for an ENI.
TAG_RESOURCES_PER_CALL = 50
TAGS_PER_CALL = 20

# Regions whose ECS endpoint is not ecs.<region>.aliyuncs.com: the _endpoint_map of
# alibabacloud-ecs20140526 7.11.8 (verified in code; a unit test compares them).
ENDPOINTS = {
    'cn-hangzhou': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-shanghai-finance-1': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-shenzhen-finance-1': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-north-2-gov-1': 'ecs.aliyuncs.com',
    'ap-northeast-2-pop': 'ecs.aliyuncs.com',
    'cn-beijing-finance-pop': 'ecs.aliyuncs.com',
    'cn-beijing-gov-1': 'ecs.aliyuncs.com',
    'cn-beijing-nu16-b01': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-edge-1': 'ecs.cn-qingdao-nebula.aliyuncs.com',
    'cn-fujian': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-haidian-cm12-c01': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-hangzhou-bj-b01': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-hangzhou-finance': 'ecs.aliyuncs.com',
    'cn-hangzhou-internal-prod-1': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-hangzhou-internal-test-1': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-hangzhou-internal-test-2': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-hangzhou-internal-test-3': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-hangzhou-test-306': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-hongkong-finance-pop': 'ecs.aliyuncs.com',
    'cn-huhehaote-nebula-1': 'ecs.cn-qingdao-nebula.aliyuncs.com',
    'cn-shanghai-et15-b01': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-shanghai-et2-b01': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-shanghai-inner': 'ecs.aliyuncs.com',
    'cn-shanghai-internal-test-1': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-shenzhen-inner': 'ecs.aliyuncs.com',
    'cn-shenzhen-st4-d01': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-shenzhen-su18-b01': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-wuhan': 'ecs.aliyuncs.com',
    'cn-yushanfang': 'ecs.aliyuncs.com',
    'cn-zhangbei': 'ecs.aliyuncs.com',
    'cn-zhangbei-na61-b01': 'ecs-cn-hangzhou.aliyuncs.com',
    'cn-zhangjiakou-na62-a01': 'ecs.cn-zhangjiakou.aliyuncs.com',
    'cn-zhengzhou-nebula-1': 'ecs.cn-qingdao-nebula.aliyuncs.com',
    'eu-west-1-oxs': 'ecs.cn-shenzhen-cloudstone.aliyuncs.com',
    'rus-west-1-pop': 'ecs.aliyuncs.com',
}

# The states in which a target's groups can be changed: instances per the seed page
# (JoinSecurityGroup: "Stopped or Running"); ENIs per the DescribeNetworkInterfaces
# status list, Available (detached) and InUse (attached) being the stable ones [inferred].
# An ENI's groups change only while the instance it is attached to is changeable too.
CHANGEABLE_STATUSES = {'instance_ids': ('Running', 'Stopped'), 'network_interface_ids': ('Available', 'InUse')}

# Facts the reference marks [inferred] or [unverified], kept here and named in the module's documentation:
INFERRED = {
    # ECS publishes no per-API rate limit: calls per second of each action.
    'default_rate_limit': 20,
    # The "already a member" code of a join by NetworkInterfaceId is undocumented; the instance's is assumed.
    'eni_already_member': 'InvalidInstanceId.AlreadyExists',
    # "Must keep one group" for an ENI (documented without a description).
    'eni_last_group': 'InvalidOperation.AtLeastInOneGroup',
    # States that end on their own (creation, start, stop; an ENI attaching or detaching): a write waits for
    # them within wait_timeout. Any other state that allows no change (Deleting, say) is refused before any write.
    'transient_statuses': {'instance_ids': ('Pending', 'Starting', 'Stopping'), 'network_interface_ids': ('Attaching', 'Detaching')},
}

# Error code -> class (reference section 4). Any other code: Throttling* is throttled, a 5xx
# transient, anything else a permanent error in the request.
ERROR_CLASSES = {
    'Rejected.Throttling': transport.THROTTLED,
    'InternalError': transport.TRANSIENT,
    'UnknownError': transport.TRANSIENT,
    'ServiceUnavailable': transport.TRANSIENT,
    'RequestTimeout': transport.TRANSIENT,
    'IncorrectInstanceStatus': transport.IN_PROGRESS,
    'Forbidden.InstanceIsBeingCreated': transport.IN_PROGRESS,
    'InvalidStatus.EniOrInstanceIsBeingCreated': transport.IN_PROGRESS,
    'InvalidOperation.InvalidEcsState': transport.IN_PROGRESS,
    'InvalidOperation.InvalidEniState': transport.IN_PROGRESS,
    'OperationConflict': transport.IN_PROGRESS,
    'LastTokenProcessing': transport.IN_PROGRESS,
    'OperationFailed.LastTokenProcessing': transport.IN_PROGRESS,
    'IdempotentProcessing': transport.IN_PROGRESS,
    'InvalidOperation.Conflict': transport.IN_PROGRESS,
    # "It is already so / already not so" (after a lost answer, a late change or a concurrent one):
    # the reference classes it as success, and each call has one target, so it confirms that target.
    'InvalidInstanceId.AlreadyExists': transport.ALREADY,
    'InvalidSecurityGroupAssociation.NotFound': transport.ALREADY,
    'InstanceNotInSecurityGroup': transport.ALREADY,
    'SignatureDoesNotMatch': transport.AUTH,
    'IncompleteSignature': transport.AUTH,
    'InvalidAccessKeyId.NotFound': transport.AUTH,
    'InvalidAccessKeyId.Inactive': transport.AUTH,
    'InvalidTimeStamp.Expired': transport.AUTH,
    'InvalidTimeStamp.Format': transport.AUTH,
    'SignatureNonceUsed': transport.AUTH,
    'InvalidSecurityToken.Expired': transport.AUTH_EXPIRED,     # temporary credentials: renewed once
    'InvalidSecurityToken.Malformed': transport.AUTH,
    'Forbidden.RAM': transport.AUTH,
    'NoPermission': transport.AUTH,
    'Forbidden.SubUser': transport.AUTH,
    'Forbidden.NotSupportRAM': transport.AUTH,
    'InstanceSecurityGroupLimitExceeded': transport.QUOTA,
    'JoinedGroupLimitExceed': transport.QUOTA,
    'SecurityGroupInstanceLimitExceeded': transport.QUOTA,
    'SecurityGroupInstanceLimitExceed': transport.QUOTA,
    'AclLimitExceed': transport.QUOTA,
    'InvalidOperation.NetworkInterfaceCountExceeded': transport.QUOTA,
    'InvalidOperation.EniCountExceeded': transport.QUOTA,
    'InvalidInstanceId.NotFound': transport.NOT_FOUND,
    'InvalidEniId.NotFound': transport.NOT_FOUND,
    'InvalidSecurityGroupId.NotFound': transport.NOT_FOUND,
    'InstanceLastSecurityGroup': transport.CONFLICT,
    'InvalidOperation.AtLeastInOneGroup': transport.CONFLICT,
    'InvalidInstanceId.Mismatch': transport.CONFLICT,
    'InvalidOperation.VpcMismatch': transport.CONFLICT,
    'InvalidSecurityGroupVpc.NotBelongToOneVpc': transport.CONFLICT,
    'InvalidOperation.MultiGroupType': transport.CONFLICT,
    'EnterpriseGroupLimited.MutliGroupType': transport.CONFLICT,
    'InstanceLockedForSecurity': transport.CONFLICT,
    'InvalidOperation.PrimaryEniOnlySupportModifyNameAndDesc': transport.CONFLICT,
    # Tags (the error tables of TagResources / ListTagResources).
    'InvalidResourceId.NotFound': transport.NOT_FOUND,
    'OperationDenied.QuotaExceed': transport.QUOTA,
    'QuotaExceed.Tags': transport.QUOTA,
    'NoPermission.Tag': transport.AUTH,
}


def error_class(code, status):
    if code in ERROR_CLASSES:
        return ERROR_CLASSES[code]
    if 'Throttling' in code:
        return transport.THROTTLED
    if status is not None and status >= 500:
        return transport.TRANSIENT
    return transport.INVALID


# -- ACS3-HMAC-SHA256 ----------------------------------------------------------------------------

def percent_encode(value):
    """RFC 3986: A-Z a-z 0-9 - _ . ~ kept, everything else %XX of its UTF-8 bytes (space %20, * %2A)."""
    return quote(value, safe='-_.~')


def canonical_query(query):
    """Sorted ``name=value`` pairs, both percent-encoded; also the query sent on the wire."""
    return '&'.join('%s=%s' % (percent_encode(k), percent_encode(v)) for k, v in sorted(query.items()))


def acs3_authorization(method, path, query, headers, payload_hash, access_key, secret_key):
    """The Authorization header: every header given is signed (names lower-cased, values trimmed)."""
    signed = sorted(name.lower() for name in headers)
    lowered = dict((name.lower(), ('%s' % value).strip()) for name, value in headers.items())
    canonical = '\n'.join([method, path or '/', canonical_query(query),
                           ''.join('%s:%s\n' % (name, lowered[name]) for name in signed),
                           ';'.join(signed), payload_hash])
    to_sign = '%s\n%s' % (ALGORITHM, hashlib.sha256(canonical.encode('utf-8')).hexdigest())
    signature = hmac.new(secret_key.encode('utf-8'), to_sign.encode('utf-8'), hashlib.sha256).hexdigest()
    return '%s Credential=%s,SignedHeaders=%s,Signature=%s' % (ALGORITHM, access_key, ';'.join(signed), signature)


def retry_after(headers):
    """Seconds of x-acs-retry-after (a positive integer, as the V2.0 SDK reads it), or None."""
    value = (headers or {}).get('x-acs-retry-after') or ''
    return int(value) if value.isdigit() and int(value) > 0 else None


def endpoint_host(region):
    return ENDPOINTS.get(region, 'ecs.%s.aliyuncs.com' % region)


# -- credentials: profile files, the ECS RAM role, STS AssumeRole --------------------------------
# Facts from alibabacloud-credentials 1.0.12 (provider/default.py, cli_profile.py, profile.py, ecs_ram_role.py,
# ram_role_arn.py, utils/auth_util.py) unless marked; the unverified ones are in CREDENTIAL_INFERRED below.
# The default chain of the SDK: environment, (OIDC), the CLI's config.json, credentials.ini, the ECS RAM role, a
# credentials URI. OIDC and the URI are not offered here; the ECS RAM role is asked only when named (never probed).
CREDENTIAL_ENV = {
    'access_key': ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALICLOUD_ACCESS_KEY'],
    'secret_key': ['ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALICLOUD_SECRET_KEY'],
    'security_token': ['ALIBABA_CLOUD_SECURITY_TOKEN', 'ALICLOUD_SECURITY_TOKEN'],
    'profile': ['ALIBABA_CLOUD_PROFILE', 'ALICLOUD_PROFILE'],
    'shared_credentials_file': ['ALIBABA_CLOUD_CREDENTIALS_FILE'],
    # The SDK's role-name variable; Terraform's deprecated name for the same thing.
    'instance_role': ['ALIBABA_CLOUD_ECS_METADATA', 'ALICLOUD_ECS_ROLE_NAME'],
    'role_arn': ['ALIBABA_CLOUD_ROLE_ARN', 'ALICLOUD_ASSUME_ROLE_ARN'],
    'session_name': ['ALIBABA_CLOUD_ROLE_SESSION_NAME', 'ALICLOUD_ASSUME_ROLE_SESSION_NAME'],
    'duration': ['ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION'],
    # The aliyun CLI reads it (its config tests); the credentials library takes sts_endpoint only as an argument.
    'sts_endpoint': ['ALIBABA_CLOUD_STS_ENDPOINT'],
    # This collection's own (no Alibaba tool names the metadata address), like TENCENTCLOUD_METADATA_ENDPOINT.
    'metadata_endpoint': ['ALIBABA_CLOUD_METADATA_ENDPOINT'],
}
CLI_CONFIG_FILE = ('.aliyun', 'config.json')               # under the home directory
SDK_CREDENTIALS_FILE = ('.alibabacloud', 'credentials.ini')
DEFAULT_PROFILE = 'default'                                # credentials.ini; config.json falls back to its "current"
METADATA_ENDPOINT = 'http://100.100.100.200'
METADATA_ROLE_PATH = '/latest/meta-data/ram/security-credentials/'
METADATA_TOKEN_PATH = '/latest/api/token'
METADATA_TOKEN_TTL = 21600          # X-aliyun-ecs-metadata-token-ttl-seconds (1-21600; the SDK asks the maximum)
STS_ENDPOINT = 'https://sts.aliyuncs.com'
STS_VERSION = '2015-04-01'
STS_DURATION = (900, 43200)         # DurationSeconds; at most the role's MaxSessionDuration (3600 unless raised)
STS_DEFAULT_DURATION = 3600         # RamRoleArnCredentialsProvider.DEFAULT_DURATION_SECONDS
# RoleSessionName: "^[a-zA-Z0-9.@\-_]+$" (the STS troubleshooting page), 2 to 64 characters [inferred: sts_limits].
SESSION_NAME_PATTERN = r'[A-Za-z0-9.@_-]{2,64}'
DEFAULT_SESSION_NAME = 'multicloud-secgroup'
# What ECS (and STS) answer a request signed with an STS token past its Expiration: renew once, then retry.
CREDENTIAL_EXPIRED_CODES = ('InvalidSecurityToken.Expired',)
# The AssumeRole error codes (the API page's error table and the STS troubleshooting page).
STS_ERROR_CLASSES = {
    'NoPermission': transport.AUTH,                     # no sts:AssumeRole on the role, or a root account's key
    'EntityNotExist.Role': transport.NOT_FOUND,
    'InvalidParameter.RoleArn': transport.INVALID,
    'InvalidParameter.RoleSessionName': transport.INVALID,
    'InvalidParameter.DurationSeconds': transport.INVALID,
    'InvalidParameter.PolicyGrammar': transport.INVALID,
    'InvalidParameter.PolicySize': transport.INVALID,
    'InvalidParameter.ExternalId': transport.INVALID,
    'MissingSecurityToken': transport.AUTH,
}
CLI_MODES = ('AK', 'StsToken', 'RamRoleArn', 'EcsRamRole', 'ChainableRamRoleArn')
INI_TYPES = ('access_key', 'ram_role_arn', 'ecs_ram_role')
CREDENTIAL_INFERRED = {
    # No variable of Alibaba's tools names the metadata address: ALIBABA_CLOUD_METADATA_ENDPOINT is this collection's.
    'metadata_endpoint_env': 'ALIBABA_CLOUD_METADATA_ENDPOINT',
    # Token-protected mode: when PUT /latest/api/token answers an HTTP error (an older agent), the SDK falls back
    # to a plain GET unless ALIBABA_CLOUD_IMDSV1_DISABLED is true; so do we. When it cannot be reached at all, nothing
    # more is asked (the SDK would try the GET too; here that would only double the wait).
    'imds_v1_fallback': True,
    # AssumeRole codes not in the troubleshooting page at hand (which has NoPermission, MissingSecurityToken,
    # InvalidParameter.RoleSessionName / .DurationSeconds / .PolicyGrammar): recalled from the API page, not re-read.
    'sts_codes': ('EntityNotExist.Role', 'InvalidParameter.RoleArn', 'InvalidParameter.ExternalId', 'InvalidParameter.PolicySize'),
    # The refusals before any request: RoleSessionName up to 64 characters (older pages: 2-32), ExternalId 2-1224 of
    # A-Za-z0-9=,.@:/-_, Policy at most 2048 characters, the RoleArn form acs:ram::<account ID>:role/<name>.
    'sts_limits': {'session_name': 64, 'external_id': 1224, 'policy': 2048},
}


CredentialFileError = credentials.CredentialFileError


def read_cli_profile(path, text, name=None):
    """The profile of the aliyun CLI's config.json named `name` (else the file's "current"), as a plan (plan_of)."""
    config = credentials.parse_json_file(path, text)
    if not isinstance(config, dict) or not isinstance(config.get('profiles', []), list):
        raise CredentialFileError('%s: expected an object with a "profiles" list' % path)
    profiles = dict((p.get('name'), p) for p in config.get('profiles') or [] if isinstance(p, dict) and p.get('name'))
    chosen = name or config.get('current') or DEFAULT_PROFILE
    return _cli_plan(path, profiles, chosen, [])


def _cli_plan(path, profiles, name, seen):
    if name in seen:
        raise CredentialFileError('%s: profile %r: source_profile loops (%s)' % (path, name, ' -> '.join(seen + [name])))
    profile = profiles.get(name)
    if profile is None:
        raise CredentialFileError('%s has no profile %r' % (path, name))
    where = "profile '%s' in %s" % (name, path)
    mode = profile.get('mode') or 'AK'
    if mode not in CLI_MODES:
        raise CredentialFileError('%s: mode %r is not supported here (supported: %s)' % (where, mode, ', '.join(CLI_MODES)))
    if mode == 'EcsRamRole':
        return {'kind': 'instance_role', 'role': _text(profile, 'ram_role_name', where, required=False) or 'auto', 'source': where}
    if mode == 'ChainableRamRoleArn':
        base = _cli_plan(path, profiles, _text(profile, 'source_profile', where), seen + [name])
    else:
        base = {'kind': 'static', 'access_key': _text(profile, 'access_key_id', where),
                'secret': _text(profile, 'access_key_secret', where),
                'token': _text(profile, 'sts_token', where) if mode == 'StsToken' else None, 'source': where}
    if mode in ('AK', 'StsToken'):
        return base
    duration = profile.get('expired_seconds') or None
    if duration is not None and (not isinstance(duration, int) or isinstance(duration, bool)):
        raise CredentialFileError('%s: expired_seconds must be an integer' % where)
    return {'kind': 'assume_role', 'base': base, 'source': where,
            'role_arn': _text(profile, 'ram_role_arn', where), 'session_name': profile.get('ram_session_name') or None,
            'duration': duration, 'policy': profile.get('policy') or None, 'external_id': profile.get('external_id') or None}


def read_sdk_profile(path, text, name=None):
    """The section `name` (else "default") of the credentials library's credentials.ini, as a plan (plan_of)."""
    parser = credentials.parse_ini_file(path, text)
    name = name or DEFAULT_PROFILE
    if not parser.has_section(name):
        raise CredentialFileError('%s has no section [%s]' % (path, name))
    # The library drops what follows a "#" in a value (profile.py _load_ini).
    section = dict((k, v.split('#')[0].strip()) for k, v in parser.items(name))
    where = "profile '%s' in %s" % (name, path)
    kind = section.get('type')
    if kind not in INI_TYPES:
        raise CredentialFileError('%s: type %r is not supported here (supported: %s)' % (where, kind, ', '.join(INI_TYPES)))
    if kind == 'ecs_ram_role':
        return {'kind': 'instance_role', 'role': section.get('role_name') or 'auto', 'source': where}
    base = {'kind': 'static', 'access_key': _text(section, 'access_key_id', where),
            'secret': _text(section, 'access_key_secret', where), 'token': None, 'source': where}
    if kind == 'access_key':
        return base
    return {'kind': 'assume_role', 'base': base, 'source': where, 'role_arn': _text(section, 'role_arn', where),
            'session_name': section.get('role_session_name') or None, 'duration': None,
            'policy': section.get('policy') or None, 'external_id': None}


def _text(data, key, where, required=True):
    value = data.get(key)
    if value is None or value == '':
        if required:
            raise CredentialFileError('%s: %s is missing or empty' % (where, key))
        return None
    if not isinstance(value, str):
        raise CredentialFileError('%s: %s must be a string' % (where, key))
    return value


def parse_expiration(text):
    """Epoch seconds of an ISO-8601 UTC time "2017-11-01T05:20:01Z" (the metadata service's and STS' Expiration)."""
    try:
        return calendar.timegm(time.strptime(text, '%Y-%m-%dT%H:%M:%SZ'))
    except (TypeError, ValueError):
        return None


def metadata_credentials(request, endpoint, role, imds_v1=True, ttl=METADATA_TOKEN_TTL):
    """The ECS RAM role's temporary credentials from the metadata service, token-protected first.

    request(method, url, headers) -> (status, text), raising OSError when the service cannot be reached (one short
    attempt, no retry). role: a name, or 'auto' for the one the service lists. Returns a dict with access_key,
    secret, token, expires_at (epoch seconds) and the role; raises CredentialFileError-free LookupError(reason)."""
    base = endpoint.rstrip('/')
    status, token = request('PUT', base + METADATA_TOKEN_PATH, {'X-aliyun-ecs-metadata-token-ttl-seconds': str(ttl)})
    headers = {}
    if status == 200 and token:
        headers['X-aliyun-ecs-metadata-token'] = token.strip()
    elif not imds_v1:
        raise LookupError('the metadata service at %s answered HTTP %s to PUT %s, and ALIBABA_CLOUD_IMDSV1_DISABLED is '
                          'true' % (base, status, METADATA_TOKEN_PATH))
    if role == 'auto':
        status, text = request('GET', base + METADATA_ROLE_PATH, headers)
        names = [line.strip() for line in (text or '').splitlines() if line.strip()] if status == 200 else []
        if not names:
            raise LookupError('the metadata service at %s names no RAM role attached to this instance (HTTP %s)' % (base, status))
        role = names[0]
    if not re.match(r'^[A-Za-z0-9._@-]{1,64}$', role):
        raise LookupError('instance_role %r is not a RAM role name (letters, digits, . _ @ -)' % role)
    status, text = request('GET', base + METADATA_ROLE_PATH + role, headers)
    if status == 404:
        raise LookupError("the metadata service at %s has no RAM role '%s' on this instance (HTTP 404)" % (base, role))
    try:
        body = json.loads(text) if status == 200 else None
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get('Code') != 'Success':
        raise LookupError("the metadata service at %s gave no credentials for RAM role '%s' (HTTP %s%s)"
                          % (base, role, status, ', Code %s' % body.get('Code') if isinstance(body, dict) else ''))
    found = dict(access_key=body.get('AccessKeyId'), secret=body.get('AccessKeySecret'), token=body.get('SecurityToken'),
                 expires_at=parse_expiration(body.get('Expiration')), role=role)
    if not (found['access_key'] and found['secret'] and found['token'] and found['expires_at']):
        raise LookupError("the metadata service at %s answered for RAM role '%s' without AccessKeyId, AccessKeySecret, "
                          'SecurityToken or Expiration' % (base, role))
    return found


def assume_role_query(role_arn, session_name, duration, external_id=None, policy=None):
    """AssumeRole's parameters, refused before any request when they break the documented rules."""
    if not re.match(r'^acs:ram::[0-9]+:role/[^\s]+$', role_arn or ''):
        raise ValueError("assume_role.role_arn %r is not a RAM role ARN (acs:ram::<account ID>:role/<role name>)" % role_arn)
    if not re.match('^%s$' % SESSION_NAME_PATTERN, session_name or ''):
        raise ValueError('assume_role.session_name %r must be 2 to 64 of A-Z a-z 0-9 . @ - _' % session_name)
    if not STS_DURATION[0] <= duration <= STS_DURATION[1]:
        raise ValueError('assume_role.duration %s is outside %d-%d seconds (DurationSeconds)' % (duration, STS_DURATION[0], STS_DURATION[1]))
    query = {'RoleArn': role_arn, 'RoleSessionName': session_name, 'DurationSeconds': str(duration)}
    if external_id:
        if not re.match(r'^[A-Za-z0-9=,.@:/_-]{2,1224}$', external_id):
            raise ValueError('assume_role.external_id must be 2 to 1224 of A-Z a-z 0-9 = , . @ : / - _')
        query['ExternalId'] = external_id
    if policy:
        if len(policy) > 2048:
            raise ValueError('assume_role.policy is %d characters; AssumeRole takes at most 2048' % len(policy))
        query['Policy'] = policy
    return query


def sts_request(base_url, query, access_key, secret, token, clock=time.time, nonce=lambda: uuid.uuid4().hex):
    """A signed ``POST /?<query>`` for STS AssumeRole (ACS3-HMAC-SHA256, like every other call of this module)."""
    host = urlsplit(base_url).netloc
    headers = {'host': host, 'accept': 'application/json', 'user-agent': USER_AGENT, 'x-acs-action': 'AssumeRole',
               'x-acs-version': STS_VERSION, 'x-acs-date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(clock())),
               'x-acs-signature-nonce': nonce(), 'x-acs-content-sha256': EMPTY_SHA256}
    if token:
        headers['x-acs-accesskey-id'] = access_key
        headers['x-acs-security-token'] = token
    headers['Authorization'] = acs3_authorization('POST', '/', query, headers, EMPTY_SHA256, access_key, secret)
    return {'method': 'POST', 'url': '%s/?%s' % (base_url.rstrip('/'), canonical_query(query)), 'headers': headers, 'data': b''}


def denial_message(body):
    """An error answer's Message; a RAM denial's names the action it lacks only in AccessDeniedDetail (AuthAction), so
    that is added, with whether a policy denied it or none allowed it."""
    message = '%s' % body.get('Message', '')
    detail = body.get('AccessDeniedDetail')
    if isinstance(detail, dict) and detail.get('AuthAction'):
        message += ' Missing permission: %s%s.' % (detail['AuthAction'], ' (explicitly denied)'
                                                   if detail.get('NoPermissionType') == 'ExplicitDeny' else '')
    return message


def sts_answer(resp):
    """The Credentials of an AssumeRole answer as a dict (access_key, secret, token, expires_at); a ProviderError otherwise."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if 200 <= resp.status_code < 300 and isinstance(body, dict) and isinstance(body.get('Credentials'), dict):
        cred = body['Credentials']
        found = dict(access_key=cred.get('AccessKeyId'), secret=cred.get('AccessKeySecret'), token=cred.get('SecurityToken'),
                     expires_at=parse_expiration(cred.get('Expiration')))
        if all(found.values()):
            return found
        raise transport.ProviderError('alicloud', 'AssumeRole', 'MalformedResponse', 'the answer has no complete Credentials',
                                      body.get('RequestId'), resp.status_code, transport.INVALID)
    if isinstance(body, dict) and body.get('Code'):
        code, message, request_id = '%s' % body['Code'], denial_message(body), body.get('RequestId')
    else:
        code, message, request_id = 'HTTP%d' % resp.status_code, 'unexpected answer (%d bytes)' % len(resp.content or b''), None
    klass = STS_ERROR_CLASSES.get(code) or error_class(code, resp.status_code)
    raise transport.ProviderError('alicloud', 'AssumeRole', code, message, request_id, resp.status_code, klass,
                                  retry_after=retry_after(resp.headers))


def assume_role(conn, base, role_arn, session_name=None, duration=None, external_id=None, policy=None,
                endpoint=None, clock=time.time):
    """STS AssumeRole with the `base` credentials (dict with access_key, secret, token): the role's credentials."""
    query = assume_role_query(role_arn, session_name or DEFAULT_SESSION_NAME, duration or STS_DEFAULT_DURATION,
                              external_id, policy)
    url = (endpoint or STS_ENDPOINT).rstrip('/')
    return conn.call(transport.Call('AssumeRole',
                                    lambda: sts_request(url, query, base['access_key'], base['secret'], base.get('token'), clock),
                                    sts_answer))


def tag_dict(item):
    """{key: value} of an item's Tags.Tag list of {'TagKey', 'TagValue'} (DescribeInstances, DescribeNetworkInterfaces)."""
    return dict((tag.get('TagKey'), tag.get('TagValue') or '') for tag in _list_at(item, 'Tags', 'Tag') or []
                if isinstance(tag, dict) and tag.get('TagKey') is not None)


def _same(values):
    """[(value, [keys having it, in order])] of a {key: value} dict, the values compared as given."""
    out = []
    for key, value in values.items():
        for seen, keys in out:
            if seen == value:
                keys.append(key)
                break
        else:
            out.append((value, [key]))
    return out


def _unique(listed):
    """The listing dicts, each instance once (token pages do not repeat one; this keeps it so), None (no ID) left out."""
    out = {}
    for item in listed:
        if item is not None:
            out.setdefault(item['instance_id'], item)
    return list(out.values())


def _chunks(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


def _list_at(data, *path):
    """data[path[0]][path[1]]..., when that is a list; None otherwise."""
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, list) else None


def plan_credentials(context, plan):
    """Credentials of a profile's plan (read_cli_profile / read_sdk_profile): its keys, its ECS RAM role, or the role it
    assumes with its base (a ChainableRamRoleArn chain included)."""
    if plan['kind'] == 'static':
        return credentials.Credentials(plan['access_key'], plan['secret'], plan['token'], source=plan['source'])
    if plan['kind'] == 'instance_role':
        return instance_role_credentials(context, plan['role'], via=plan['source'])
    base = plan_credentials(context, plan['base'])
    credentials.register_all(context, base)
    return sts_credentials(context, base, dict(role_arn=plan['role_arn'], session_name=plan['session_name'],
                                               duration=plan['duration'], external_id=plan['external_id'],
                                               policy=plan['policy']), via=plan['source'])


def instance_role_credentials(context, role, via=None):
    endpoint = context.settings.get('metadata_endpoint') or METADATA_ENDPOINT
    imds_v1 = (context.environ.get('ALIBABA_CLOUD_IMDSV1_DISABLED') or '').lower() != 'true'
    try:
        found = metadata_credentials(context.http, endpoint, role, imds_v1=imds_v1)
    except LookupError as exc:
        raise credentials.CredentialsNotFound('%s' % exc)
    return credentials.Credentials(found['access_key'], found['secret'], found['token'], found['expires_at'],
                                   source="ECS RAM role '%s' from the metadata service at %s%s"
                                   % (found['role'], endpoint, ' (%s)' % via if via else ''))


def sts_credentials(context, base, role, via=None):
    """AssumeRole with base (Credentials): the role's Credentials; CredentialsError naming the role and the code."""
    endpoint = context.settings.get('sts_endpoint') or STS_ENDPOINT
    arn = role.get('role_arn')
    try:
        found = assume_role(context.transport, dict(access_key=base.access_key, secret=base.secret, token=base.token),
                            arn, role.get('session_name'), role.get('duration'), role.get('external_id'), role.get('policy'),
                            endpoint=endpoint, clock=context.clock)
    except ValueError as exc:
        raise credentials.CredentialsError('%s%s' % (exc, ' (%s)' % via if via else ''))
    except transport.ProviderError as exc:
        raise credentials.CredentialsError('STS AssumeRole of %s at %s with %s failed: %s: %s'
                                           % (arn, endpoint, base.source, exc.code, exc.message))
    return credentials.Credentials(found['access_key'], found['secret'], found['token'], found['expires_at'],
                                   source='role %s assumed with %s' % (arn, base.source))


def profile_name(context):
    return context.settings.get('profile')


def cli_profile_source(context):
    if (context.environ.get('ALIBABA_CLOUD_CLI_PROFILE_DISABLED') or '').lower() == 'true':
        raise credentials.CredentialsNotFound('ALIBABA_CLOUD_CLI_PROFILE_DISABLED is true')     # as the library skips it
    path = context.path('~/' + '/'.join(CLI_CONFIG_FILE))
    text = credentials.read_private_file(context, path, 'aliyun CLI configuration')
    return _profile_source(context, path, text, read_cli_profile)


def sdk_profile_source(context):
    given = context.settings.get('shared_credentials_file')
    path = context.path(given or '~/' + '/'.join(SDK_CREDENTIALS_FILE))
    text = credentials.read_private_file(context, path, 'Alibaba Cloud credentials file')
    # A shared_credentials_file may be the CLI's config.json (moved elsewhere): told apart by its content.
    return _profile_source(context, path, text, read_cli_profile if text.lstrip().startswith('{') else read_sdk_profile)


def _profile_source(context, path, text, reader):
    shown = context.shown(path)
    try:
        plan = reader(shown, text, profile_name(context))
    except CredentialFileError as exc:
        message = '%s' % exc
        if ' has no profile ' in message or ' has no section ' in message:
            raise credentials.CredentialsNotFound(message)
        raise credentials.CredentialsError(message)
    return plan_credentials(context, plan)


cli_profile_source.label = 'the aliyun CLI profile (~/%s)' % '/'.join(CLI_CONFIG_FILE)
sdk_profile_source.label = 'the credentials file (~/%s or ALIBABA_CLOUD_CREDENTIALS_FILE)' % '/'.join(SDK_CREDENTIALS_FILE)


def instance_role_source(context):
    role = context.settings.get('instance_role')
    if not role:
        raise credentials.CredentialsNotFound('instance_role (or ALIBABA_CLOUD_ECS_METADATA) not set: the metadata '
                                              'service is not asked')
    return instance_role_credentials(context, role)


instance_role_source.label = 'the ECS RAM role (instance_role)'


INSTANCES = planner.TargetKind(option='instance_ids', result_key='instances', id_key='instance_id',
                               pattern=r'i-[0-9a-z]{8,30}', word='instance')
NETWORK_INTERFACES = planner.TargetKind(option='network_interface_ids', result_key='network_interfaces',
                                        id_key='network_interface_id', pattern=r'eni-[0-9a-z]{8,30}',
                                        word='network interface')


class AliCloud:
    name = 'alicloud'
    display_name = 'Alibaba Cloud'
    target_kinds = (INSTANCES, NETWORK_INTERFACES)
    security_group_id_pattern = r'sg-[0-9a-z]{8,30}'
    region_pattern = r'[a-z]{2,}(-[a-z0-9]+)+'      # goes into the host name: cn-hangzhou, ap-southeast-1, ...
    # 1 to 5 groups per target (the default quota); Join/Leave take one group and one target;
    # the Modify*Attribute calls replace one target's whole list. The order of a target's groups means nothing.
    constraints = planner.Constraints(min_groups=1, max_groups=5, ordered=False, batch_size=1, set_batch_size=1)
    tag_limits = TAG_LIMITS
    # The filters DescribeInstances applies server-side (reference 3.3 and the request model):
    list_filters = (
        'tags',                 # Tag.N.Key / Tag.N.Value, N 1 to 20, all ANDed; a key without a value: any value [inferred]
        'name',                 # InstanceName (exact; its only pattern character, *, is never sent)
        'status',               # Status: one value
        'vpc_id',               # VpcId
        'security_group_id',    # SecurityGroupId (the primary ENI's groups, which are the instance's)
    )
    rate_limits = {}
    default_rate_limit = INFERRED['default_rate_limit']
    # An unknown ID and a RAM user who may not describe it get the same empty answer.
    not_found_note = ' (or not visible to these credentials: Alibaba Cloud answers a RAM user without Describe permission the same way)'
    completion = 'eventual'
    argument_spec = dict(
        # The aliases are the Alibaba Cloud SDK's names.
        access_key=dict(type='str', no_log=False, aliases=['access_key_id'],
                        fallback=(env_fallback, ['ALICLOUD_ACCESS_KEY', 'ALIBABA_CLOUD_ACCESS_KEY_ID'])),
        secret_key=dict(type='str', no_log=True, aliases=['access_key_secret'],
                        fallback=(env_fallback, ['ALICLOUD_SECRET_KEY', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET'])),
        security_token=dict(type='str', no_log=True,
                            fallback=(env_fallback, ['ALICLOUD_SECURITY_TOKEN', 'ALIBABA_CLOUD_SECURITY_TOKEN'])),
        region=dict(type='str', required=True, fallback=(env_fallback, ['ALICLOUD_REGION', 'ALIBABA_CLOUD_REGION_ID'])),
    )

    # What each credential option is, in words every provider shares: how another provider's name for it is explained.
    credential_options = {'key ID': 'access_key', 'secret': 'secret_key', 'token': 'security_token'}
    # The other sources (_credentials.py; the facts above CREDENTIAL_ENV): the credentials library's default chain.
    credential_environment = dict([(name, CREDENTIAL_ENV[name]) for name in credentials.OPTIONS if name != 'assume_role'] +
                                  [('assume_role.role_arn', CREDENTIAL_ENV['role_arn']),
                                   ('assume_role.session_name', CREDENTIAL_ENV['session_name']),
                                   ('assume_role.duration', CREDENTIAL_ENV['duration'])])
    credential_features = credentials.OPTIONS + ('assume_role.policy',)
    assume_role_duration = STS_DURATION

    @classmethod
    def credential_sources(cls, params, settings):
        """The credentials library's order (provider/default.py): the options and the environment, the CLI's
        config.json, credentials.ini, the ECS RAM role (asked only when instance_role names one)."""
        return [credentials.options_source(cls, params), cli_profile_source, sdk_profile_source, instance_role_source]

    @classmethod
    def assume_role(cls, context, base, role):
        return sts_credentials(context, base, role)

    @classmethod
    def secrets(cls, params):
        return [params.get('secret_key'), params.get('security_token')]

    def __init__(self, params, conn, clock=time.time, nonce=lambda: uuid.uuid4().hex):
        self.params = params
        self.transport = conn
        self.clock = clock        # x-acs-date
        self.nonce = nonce        # x-acs-signature-nonce
        self.kind = planner.chosen_kind(self.target_kinds, params)
        if params.get('endpoint'):
            self.base = params['endpoint'].rstrip('/')
        else:
            self.base = 'https://' + endpoint_host(params['region'])
        self.host = urlsplit(self.base).netloc
        self.targets = {}         # target -> {'status', 'vpc', 'type', 'instance'} as last read
        self.groups = {}          # security group -> {'name', 'vpc', 'type'} as described
        self.status = {}          # target -> Status, as last read
        self.instance_status = {}  # instance an ENI is attached to -> its Status, as last read
        self.warnings = []
        self.monotonic = time.monotonic
        self.tags = {}            # target (instance or ENI) -> {key: value}, as last read
        self.instances = {}       # instance -> {'status', 'secondary': [ENI, ...]} from any DescribeInstances answer
        self.interfaces = {}      # ENI -> {'instance', 'type', 'groups'} from any DescribeNetworkInterfaces answer

    # -- requests -----------------------------------------------------------
    def build(self, action, query):
        """A freshly signed ``POST /?<query>`` with an empty body."""
        headers = {
            'host': self.host,
            'accept': 'application/json',
            'user-agent': USER_AGENT,
            'x-acs-action': action,
            'x-acs-version': API_VERSION,
            'x-acs-date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(self.clock())),
            'x-acs-signature-nonce': self.nonce(),
            'x-acs-content-sha256': EMPTY_SHA256,
        }
        creds = credentials.request_credentials(self.transport, self.params, type(self))
        if creds.token:
            headers['x-acs-accesskey-id'] = creds.access_key
            headers['x-acs-security-token'] = creds.token
        headers['Authorization'] = acs3_authorization('POST', '/', query, headers, EMPTY_SHA256, creds.access_key, creds.secret)
        return {'method': 'POST', 'url': '%s/?%s' % (self.base, canonical_query(query)), 'headers': headers, 'data': b''}

    def answer(self, action, resp):
        """The body of a success; a ProviderError with Code, Message, RequestId and status otherwise."""
        try:
            body = resp.json()
        except ValueError:
            body = None
        if 200 <= resp.status_code < 300 and isinstance(body, dict):
            return body
        if isinstance(body, dict) and body.get('Code'):
            code, message, request_id = '%s' % body['Code'], denial_message(body), body.get('RequestId')
        else:
            code, message, request_id = 'HTTP%d' % resp.status_code, 'unexpected answer: %s' % (resp.text[:200] or '(empty)'), None
        if 200 <= resp.status_code < 300:
            raise transport.ProviderError(self.name, action, 'MalformedResponse', message, request_id, resp.status_code,
                                          transport.INVALID)
        raise transport.ProviderError(self.name, action, code, message, request_id, resp.status_code,
                                      error_class(code, resp.status_code), retry_after=retry_after(resp.headers))

    def call(self, action, query, write=False, idempotent=False):
        query = dict(query)
        return self.transport.call(transport.Call(action, lambda: self.build(action, query),
                                                  lambda resp: self.answer(action, resp), write=write, idempotent=idempotent))

    def malformed(self, action, what, request_id):
        return transport.ProviderError(self.name, action, 'MalformedResponse', 'the answer has no %s' % what,
                                       request_id, 200, transport.INVALID)

    def each_chunk(self, func, ids):
        """func(chunk) for every PAGE IDs, the calls running concurrently; the results in order."""
        results = self.transport.map(func, _chunks(list(ids), PAGE), self.params['max_concurrency'])
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return results

    # -- reads --------------------------------------------------------------
    def describe_instances(self, chunk):
        # Token paging (PageSize is deprecated): a page shorter than asked is followed to the last one.
        query = {'RegionId': self.params['region'], 'InstanceIds': json.dumps(chunk, separators=(',', ':'))}
        items, request_id = self.pages('DescribeInstances', query, ('Instances', 'Instance'), len(chunk))
        found = {}
        for item in items:
            groups = _list_at(item, 'SecurityGroupIds', 'SecurityGroupId')
            if groups is None:
                raise self.malformed('DescribeInstances', 'SecurityGroupIds.SecurityGroupId list', request_id)
            vpc = (item.get('VpcAttributes') or {}).get('VpcId') or ''
            iid = item.get('InstanceId')
            found[iid] = (groups, {'status': item.get('Status'), 'vpc': vpc, 'type': None, 'instance': None,
                                   'network': item.get('InstanceNetworkType') or ('vpc' if vpc else 'classic')})
            self.remember_instance(item)
        return found

    # -- listing (the inventory plugin and sg_binding_info) ---------------------
    def list_instances(self, filters):
        """Every instance of the region passing the filters sent (listing_query), as the neutral listing dicts:
        DescribeInstances, MaxResults 100, NextToken to the last page. Tag filters are sent alone (TAG_FILTER_CAP bounds
        what the tag lookup finds, before any other filter); an answer that reaches the cap is listed again without them."""
        filters = filters or {}
        tagged = self.listing_query(filters, tags=True)
        if tagged is not None:
            items, dummy = self.pages('DescribeInstances', tagged, ('Instances', 'Instance'), float('inf'), each=self.listed)
            if len(items) < TAG_FILTER_CAP:
                return _unique(items)
        items, dummy = self.pages('DescribeInstances', self.listing_query(filters, tags=False), ('Instances', 'Instance'),
                                  float('inf'), each=self.listed)
        return _unique(items)

    def listing_query(self, filters, tags):
        """The DescribeInstances query: with tags, the Tag.N filters only (None when there are none); else the others.
        A name with the API's wildcard (*) is not sent, nor more than one status, nor one that is not a documented
        Status (matched without regard to case). The neutral code re-checks every filter."""
        query = {'RegionId': self.params['region']}
        if tags:
            pairs = list((filters.get('tags') or {}).items())[:LIST_TAGS]
            if not pairs:
                return None
            for n, (key, value) in enumerate(pairs):
                query['Tag.%d.Key' % (n + 1)] = key
                if value is not None:
                    query['Tag.%d.Value' % (n + 1)] = value
            return query
        for name, key in (('VpcId', 'vpc_id'), ('SecurityGroupId', 'security_group_id')):
            if filters.get(key):
                query[name] = filters[key]
        name = filters.get('name')
        if name and not any(char in name for char in '*?['):
            query['InstanceName'] = name
        statuses = set(('%s' % status).casefold() for status in filters.get('status') or [])
        known = [status for status in INSTANCE_STATUSES if status.casefold() in statuses]
        if len(statuses) == 1 and known:
            query['Status'] = known[0]
        return query

    def listed(self, item):
        """The neutral listing dict of one Instances.Instance item (remembered: tags, status, ENIs). Its NetworkInterfaces
        carry no groups: no network_interfaces. None for an item without an ID."""
        if not item.get('InstanceId'):
            return None
        self.remember_instance(item)
        vpc = (item.get('VpcAttributes') or {}).get('VpcId') or None
        private = _list_at(item, 'VpcAttributes', 'PrivateIpAddress', 'IpAddress') or []
        if not private:     # a classic-network instance's addresses
            private = _list_at(item, 'InnerIpAddress', 'IpAddress') or []
        public = list(_list_at(item, 'PublicIpAddress', 'IpAddress') or [])
        eip = (item.get('EipAddress') or {}).get('IpAddress')
        if eip and eip not in public:
            public.append(eip)
        return {
            'instance_id': item['InstanceId'],
            'instance_name': item.get('InstanceName'),
            'status': item.get('Status'),
            'vpc_id': vpc,
            'private_ips': list(private),
            'public_ips': public,
            'tags': tag_dict(item),
            'security_group_ids': list(_list_at(item, 'SecurityGroupIds', 'SecurityGroupId') or []),
            'region': self.params['region'],
            'kind': 'instance',
        }

    def remember_instance(self, item):
        """Record what an Instances.Instance item shows besides its groups (tags, status, secondary ENIs)."""
        iid = item.get('InstanceId')
        self.tags[iid] = tag_dict(item)
        listed = _list_at(item, 'NetworkInterfaces', 'NetworkInterface')
        # None: the answer did not list the instance's ENIs; attached_interfaces then asks DescribeNetworkInterfaces.
        self.instances[iid] = {'status': item.get('Status'), 'secondary': None if listed is None else [
            eni.get('NetworkInterfaceId') for eni in listed if isinstance(eni, dict) and eni.get('Type') == 'Secondary']}

    def pages(self, action, query, path, wanted, each=None):
        """The items at ``path`` of every page (MaxResults/NextToken) until ``wanted`` IDs are seen or the last page;
        each(item) instead of the item when given (a page is then not kept)."""
        query = dict(query, MaxResults=str(PAGE))
        items = []
        while True:
            data = self.call(action, query)
            page = _list_at(data, *path)
            if page is None:
                raise self.malformed(action, '%s list' % '.'.join(path), data.get('RequestId'))
            items.extend(each(item) if each else item for item in page if isinstance(item, dict))
            token = data.get('NextToken')
            if not token or len(items) >= wanted:
                return items, data.get('RequestId')
            if token == query.get('NextToken'):
                raise self.malformed(action, 'new NextToken (the same page came back)', data.get('RequestId'))
            query['NextToken'] = token

    def describe_network_interfaces(self, chunk):
        query = {'RegionId': self.params['region']}
        query.update(('NetworkInterfaceId.%d' % (n + 1), eni) for n, eni in enumerate(chunk))
        items, request_id = self.pages('DescribeNetworkInterfaces', query, ('NetworkInterfaceSets', 'NetworkInterfaceSet'), len(chunk))
        found = {}
        for item in items:
            groups = _list_at(item, 'SecurityGroupIds', 'SecurityGroupId')
            if groups is None:
                raise self.malformed('DescribeNetworkInterfaces', 'SecurityGroupIds.SecurityGroupId list', request_id)
            eni = item.get('NetworkInterfaceId')
            found[eni] = (groups, {'status': item.get('Status'), 'vpc': item.get('VpcId') or '', 'type': item.get('Type'),
                                   'instance': item.get('InstanceId') or None, 'network': 'vpc'})
            self.tags[eni] = tag_dict(item)
            self.interfaces[eni] = {'instance': item.get('InstanceId') or None, 'type': item.get('Type'), 'groups': list(groups)}
        return found

    def read(self, ids):
        describe = self.describe_instances if self.kind is INSTANCES else self.describe_network_interfaces
        found = {}
        for part in self.each_chunk(describe, ids):
            found.update(part)
        current = {}
        for target in ids:
            if target in found:
                groups, info = found[target]
                current[target] = list(groups)
                self.targets[target] = dict(info, groups=list(groups))
                self.status[target] = info['status']
        return current, [target for target in ids if target not in found]

    def describe_security_groups(self, sg_ids):
        """{id: {'name', 'vpc', 'type'}} of those that exist: DescribeSecurityGroups, 100 a call, concurrently."""
        def describe(chunk):
            query = {'RegionId': self.params['region'], 'SecurityGroupIds': json.dumps(chunk, separators=(',', ':'))}
            items, dummy = self.pages('DescribeSecurityGroups', query, ('SecurityGroups', 'SecurityGroup'), len(chunk))
            return dict((item.get('SecurityGroupId'), {'name': item.get('SecurityGroupName'), 'vpc': item.get('VpcId') or '',
                                                       'type': item.get('SecurityGroupType')}) for item in items)

        found = {}
        for part in self.each_chunk(describe, sg_ids):
            found.update(part)
        return found

    def missing_security_groups(self, sg_ids):
        """The groups to add and those the targets have (their type tells whether a target would mix
        normal and enterprise groups), described in one pass."""
        wanted = list(sg_ids)
        for target in self.targets.values():
            wanted.extend(sg for sg in target['groups'] if sg not in wanted)
        self.groups.update(self.describe_security_groups(wanted))
        return [sg for sg in sg_ids if sg not in self.groups]

    def bound_targets(self, sg_ids):
        """{group: [target, ...]}: DescribeInstances (the primary ENI's groups) or DescribeNetworkInterfaces
        (secondary ENIs) filtered by SecurityGroupId, one group a filter, 100 targets a page; the groups
        are asked concurrently."""
        if self.kind is INSTANCES:
            action, path, id_key = 'DescribeInstances', ('Instances', 'Instance'), 'InstanceId'
        else:
            action, path, id_key = 'DescribeNetworkInterfaces', ('NetworkInterfaceSets', 'NetworkInterfaceSet'), 'NetworkInterfaceId'

        def bound_to(sg):
            items, dummy = self.pages(action, {'RegionId': self.params['region'], 'SecurityGroupId': sg}, path, float('inf'))
            return [item.get(id_key) for item in items]

        results = self.transport.map(bound_to, list(sg_ids), self.params['max_concurrency'])
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return dict(zip(sg_ids, results))

    # -- refusals and writes ------------------------------------------------
    def replaces_lists(self):
        """Whether the plan replaces whole lists (ModifyInstanceAttribute / ModifyNetworkInterfaceAttribute), as the planner
        does for a purge to a non-empty list on a provider with a replace call."""
        return bool(self.params.get('purge') and self.params.get('state') == 'present' and self.params.get('security_group_ids'))

    def read_instance_statuses(self, instance_ids):
        """The statuses of the instances the ENIs are attached to (DescribeInstances, 100 a call)."""
        found = {}
        for part in self.each_chunk(self.describe_instances, sorted(set(instance_ids))):
            found.update(part)
        for iid in instance_ids:
            self.instance_status[iid] = found[iid][1]['status'] if iid in found else None

    def blocking(self, tid):
        """(kind option, ID, status) of the target and, for an attached ENI, its instance, where the status allows no change now."""
        info = self.targets[tid]
        out = []
        if info['status'] not in CHANGEABLE_STATUSES[self.kind.option]:
            out.append((self.kind.option, tid, info['status']))
        owner = info['instance']
        if self.kind is NETWORK_INTERFACES and owner and self.instance_status.get(owner) not in CHANGEABLE_STATUSES['instance_ids']:
            out.append(('instance_ids', owner, self.instance_status.get(owner)))
        return out

    def describe_blocking(self, tid, option, rid, status, waited=''):
        word = 'instance' if option == 'instance_ids' else 'network interface'
        whose = '' if rid == tid else ' (network interface %s is attached to it)' % tid
        return '%s %s%s is %s%s' % (word, rid, whose, 'still ' if waited else '', status or 'not found') + waited

    def refusals(self, targets):
        """What Alibaba Cloud is known to refuse, from the reads: a primary ENI (always), and for a
        target that changes, a classic-network instance to purge, a status that allows no change and
        does not end on its own (or one that does, still there after await_ready), a group in another VPC, a
        mix of types."""
        out = []
        changing = [t['target_id'] for t in targets if t['before'] != t['after']]
        owners = [self.targets[tid]['instance'] for tid in changing if self.kind is NETWORK_INTERFACES and self.targets[tid]['instance']]
        if owners:
            self.read_instance_statuses(owners)
        for target in targets:
            tid = target['target_id']
            info = self.targets[tid]
            if info['type'] == 'Primary':
                out.append((tid, 'is the primary network interface of instance %s: its security groups are the '
                                 "instance's; use instance_ids: [%s] instead" % (info['instance'], info['instance'])))
                continue
            if target['before'] == target['after']:
                continue
            if self.kind is INSTANCES and info.get('network') == 'classic' and self.replaces_lists():
                out.append((tid, 'is in the classic network, where ModifyInstanceAttribute cannot change security groups '
                                 '(InvalidNetworkType.NotSupported), and purge replaces the whole list with it; '
                                 'JoinSecurityGroup and LeaveSecurityGroup work there: bind the wanted groups with purge: false, '
                                 'then unbind the others with state: absent'))
                continue
            waited = ' after waiting wait_timeout (%s s)' % self.params.get('wait_timeout', 300)
            blocking = self.blocking(tid)
            for option, rid, status in blocking:
                out.append((tid, '%s; %s changes security groups only while the %s is %s (%s)'
                            % (self.describe_blocking(tid, option, rid, status, waited if status in INFERRED['transient_statuses'][option] else ''),
                               self.display_name,
                               'instance' if option == 'instance_ids' else 'network interface',
                               ' or '.join(CHANGEABLE_STATUSES[option]),
                               'IncorrectInstanceStatus' if option == 'instance_ids' else 'InvalidOperation.InvalidEniState')))
            if blocking:
                continue
            for sg in target['added']:
                vpc = self.groups[sg]['vpc']
                if vpc != info['vpc']:
                    out.append((tid, 'is in VPC %s, and security group %s is in %s; only groups of the same VPC can be joined (%s)'
                                % (info['vpc'] or '(classic network)', sg, vpc or 'the classic network',
                                   'InvalidInstanceId.Mismatch' if self.kind is INSTANCES else 'InvalidOperation.VpcMismatch')))
            types = sorted(set(self.groups[sg]['type'] for sg in target['after'] if sg in self.groups))
            if len(types) > 1:
                out.append((tid, 'would have both normal and enterprise security groups (%s), which %s refuses '
                                 '(InvalidOperation.MultiGroupType)'
                            % (', '.join('%s: %s' % (sg, self.groups[sg]['type']) for sg in target['after'] if sg in self.groups),
                               self.display_name)))
        return out

    def ending(self, tid):
        """Whether everything that blocks a change of the target now is in a state that ends on its own."""
        blocking = self.blocking(tid)
        return bool(blocking) and all(b[2] in INFERRED['transient_statuses'][b[0]] for b in blocking)

    def await_ready(self, targets, deadline):
        """Wait for the targets to change (and the instances their ENIs are attached to) that are in a state that
        ends on its own, so that they are changed rather than refused; their lists as read then. One still in it at
        the deadline, or in a state that does not end, is left to refusals."""
        ids = [t['target_id'] for t in targets if t['target_id'] in self.targets and self.targets[t['target_id']]['type'] != 'Primary']
        owners = [self.targets[tid]['instance'] for tid in ids if self.kind is NETWORK_INTERFACES and self.targets[tid]['instance']]
        if owners:
            self.read_instance_statuses(owners)
        waiting = [tid for tid in ids if self.ending(tid)]
        if not waiting:
            return {}
        lists = {}

        def step():
            current, dummy = self.read(waiting)
            lists.update(current)
            owners = [self.targets[tid]['instance'] for tid in waiting if self.kind is NETWORK_INTERFACES and self.targets[tid]['instance']]
            if owners:
                self.read_instance_statuses(owners)
            waiting[:] = [tid for tid in waiting if tid in current and self.ending(tid)]
            return not waiting, None

        transport.poll(step, deadline, self.monotonic, self.transport.sleep)
        return lists

    def apply(self, op):
        target = op['target_ids'][0]
        if op['action'] == 'set':
            if self.kind is INSTANCES:
                action, query, prefix = 'ModifyInstanceAttribute', {'InstanceId': target}, 'SecurityGroupIds'
            else:
                action, prefix = 'ModifyNetworkInterfaceAttribute', 'SecurityGroupId'
                query = {'RegionId': self.params['region'], 'NetworkInterfaceId': target}
            query.update(('%s.%d' % (prefix, n + 1), sg) for n, sg in enumerate(op['security_group_ids']))
        else:
            action = 'JoinSecurityGroup' if op['action'] == 'bind' else 'LeaveSecurityGroup'
            query = {'RegionId': self.params['region'], 'SecurityGroupId': op['security_group_ids'][0],
                     ('InstanceId' if self.kind is INSTANCES else 'NetworkInterfaceId'): target}
        return [self.call(action, query, write=True).get('RequestId')]

    # -- tags (the quarantine record) and the interfaces of an instance ------------------------------
    def write_tags(self, target_id, tags):
        """Add or overwrite these tags on one instance or ENI; the request IDs."""
        return self.write_tags_many({target_id: tags})

    def write_tags_many(self, tags_by_target):
        """TagResources: the targets of one type with the same tags 50 a call, 20 tags a call; the calls run concurrently."""
        calls = []
        for tags, targets in _same(dict((tid, sorted(tags.items())) for tid, tags in tags_by_target.items() if tags)):
            for part in _chunks(tags, TAGS_PER_CALL):
                query = {}
                for n, (key, value) in enumerate(part):
                    query.update({'Tag.%d.Key' % (n + 1): key, 'Tag.%d.Value' % (n + 1): value})
                calls.extend((chunk, query, dict(part)) for chunk in self.tag_chunks(targets))
        return self.tag_calls('TagResources', calls)

    def remove_tags(self, target_id, keys):
        return self.remove_tags_many({target_id: keys})

    def remove_tags_many(self, keys_by_target):
        """UntagResources: the targets of one type losing the same keys 50 a call, 20 keys a call; concurrently. A key that a
        target read in this run does not have is not sent (a restore run again sends nothing)."""
        calls = []
        keys_by_target = dict((tid, [key for key in keys if tid not in self.tags or key in self.tags[tid]])
                              for tid, keys in keys_by_target.items())
        for keys, targets in _same(dict((tid, sorted(set(keys))) for tid, keys in keys_by_target.items() if keys)):
            for part in _chunks(keys, TAGS_PER_CALL):
                query = dict(('TagKey.%d' % (n + 1), key) for n, key in enumerate(part))
                calls.extend((chunk, query, part) for chunk in self.tag_chunks(targets))
        return self.tag_calls('UntagResources', calls)

    @staticmethod
    def tag_chunks(targets):
        """The targets split by ResourceType (instance / eni), TAG_RESOURCES_PER_CALL a chunk."""
        enis = [t for t in targets if t.startswith('eni-')]
        others = [t for t in targets if not t.startswith('eni-')]
        return _chunks(others, TAG_RESOURCES_PER_CALL) + _chunks(enis, TAG_RESOURCES_PER_CALL)

    def tag_calls(self, action, calls):
        """Send [(targets, query, change)] concurrently, keeping self.tags in step; a failed call raises (once all are over)
        a ProviderError naming every target of the failed calls (failed_target_ids); the request IDs otherwise."""
        def send(item):
            targets, query, dummy = item
            query = dict(query, RegionId=self.params['region'], ResourceType='eni' if targets[0].startswith('eni-') else 'instance')
            query.update(('ResourceId.%d' % (n + 1), target) for n, target in enumerate(targets))
            return self.call(action, query, write=True, idempotent=True)

        request_ids, errors, failed = [], [], []
        for (targets, dummy, change), data in zip(calls, self.transport.map(send, calls, self.params.get('max_concurrency', 10))):
            if isinstance(data, transport.ProviderError):
                errors.append(data)
                failed.extend(targets)
                continue
            if isinstance(data, BaseException):
                raise data
            request_ids.append(data.get('RequestId'))
            for target in targets:
                if action == 'TagResources':
                    self.tags.setdefault(target, {}).update(change)
                else:
                    for key in change:
                        self.tags.get(target, {}).pop(key, None)
        transport.raise_first(errors, failed)
        return request_ids

    def read_instances(self, instance_ids):
        """DescribeInstances (100 a call, concurrently) for the instances not seen in any answer yet."""
        unread = sorted(set(iid for iid in instance_ids if iid and iid not in self.instances))
        if unread:
            self.each_chunk(self.describe_instances, unread)

    def instance_tags(self, instance_ids):
        """{instance: tags} (the owners of ENI targets, say): from the answers read, else DescribeInstances, 100 a call."""
        self.read_instances(instance_ids)
        return dict((iid, self.tags[iid]) for iid in instance_ids if iid in self.instances)

    def attached_interfaces(self, instance_ids):
        """{instance: [{'network_interface_id', 'security_group_ids'}]}: the secondary ENIs of each instance (the primary's
        groups are the instance's). DescribeInstances lists an instance's ENIs with their Type, so the secondary ones are
        known from the read; their groups are read now from DescribeNetworkInterfaces by NetworkInterfaceId.N, 100 a call (none
        when no instance has one). Instances not read yet are read first (DescribeInstances, 100 a call); an answer that does
        not list an instance's ENIs at all costs one DescribeNetworkInterfaces by InstanceId for that instance."""
        self.read_instances(instance_ids)
        ids = [iid for iid in dict.fromkeys(instance_ids) if iid in self.instances]
        unlisted = [iid for iid in ids if self.instances[iid]['secondary'] is None]
        for iid, found in zip(unlisted, self.transport.map(self.secondary_of, unlisted, self.params.get('max_concurrency', 10))):
            if isinstance(found, BaseException):
                raise found
            self.instances[iid]['secondary'] = found
        enis = [eni for iid in ids for eni in self.instances[iid]['secondary']]
        if enis:        # read now, not from an earlier answer: the lists are what a record saves
            self.each_chunk(self.describe_network_interfaces, enis)
        return dict((iid, [{'network_interface_id': eni, 'security_group_ids': list(self.interfaces[eni]['groups'])}
                           for eni in self.instances[iid]['secondary'] if eni in self.interfaces]) for iid in ids)

    def secondary_of(self, iid):
        """The secondary ENIs of one instance whose DescribeInstances answer listed none: DescribeNetworkInterfaces by
        InstanceId and Type Secondary (one instance a call: InstanceId takes one value), every page."""
        query = {'RegionId': self.params['region'], 'InstanceId': iid, 'Type': 'Secondary'}
        items, dummy = self.pages('DescribeNetworkInterfaces', query, ('NetworkInterfaceSets', 'NetworkInterfaceSet'), float('inf'))
        return [item.get('NetworkInterfaceId') for item in items if item.get('InstanceId') == iid]

    def interface_owner(self, interface_ids):
        """{ENI: its instance or None}, from the ENIs read (those not read yet: DescribeNetworkInterfaces, 100 a call)."""
        unread = [eni for eni in interface_ids if eni not in self.interfaces]
        if unread:
            self.each_chunk(self.describe_network_interfaces, unread)
        return dict((eni, (self.interfaces.get(eni) or {}).get('instance')) for eni in interface_ids)
