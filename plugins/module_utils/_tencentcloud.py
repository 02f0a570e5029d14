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
re-reads until they show). Groups are checked with VPC DescribeSecurityGroups. Tags (the quarantine record) are written and
removed with the tag service (version 2018-08-13: TagResources / UnTagResources) and read with the instances and ENIs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import json
import os
import time
from urllib.parse import quote, urlsplit

from ansible.module_utils.basic import env_fallback

from ansible_collections.multicloud.secgroup.plugins.module_utils import _credentials as credentials
from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _quarantine_record as quarantine_record
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

API_VERSION = '2017-03-12'
# The tag service's version and host: the SDK's TagClient (tencentcloud-sdk-python-tag 3.1.109, _apiVersion, _endpoint);
# its API pages name only tag.tencentcloudapi.com ("Domain name for API request"), no regional host.
API_VERSIONS = {'cvm': API_VERSION, 'vpc': API_VERSION, 'tag': '2018-08-13', 'sts': '2018-08-13'}
TAG_HOST = 'tag.tencentcloudapi.com'
# STS GetCallerIdentity (API page 1312/66098: sts.tencentcloudapi.com, 2018-08-13, 20/s): AccountId is the root account's UIN.
STS_HOST = 'sts.tencentcloudapi.com'
CONTENT_TYPE = 'application/json'
PAGE = 100                       # InstanceIds / SecurityGroupIds per Describe call, and Limit
FILTER_VALUES = 5                # values of one filter
MAX_FILTERS = 10                 # Filters of one DescribeInstances call (reference 3.3, SDK model: "Filters的上限为10")
# InstanceState values (reference 3.3, from tccli's api.json InstanceStatus): a status filter is sent as instance-state
# only when every value is one of them (upper case); any other is left to the local filter.
INSTANCE_STATES = ('PENDING', 'LAUNCH_FAILED', 'RUNNING', 'STOPPED', 'STARTING', 'STOPPING', 'REBOOTING', 'SHUTDOWN',
                   'TERMINATING', 'ENTER_RESCUE_MODE', 'RESCUE_MODE', 'EXIT_RESCUE_MODE', 'ENTER_SERVICE_LIVE_MIGRATE',
                   'SERVICE_LIVE_MIGRATE', 'EXIT_SERVICE_LIVE_MIGRATE')
POLL_FIRST, POLL_MAX = 0.5, 5.0  # seconds between LatestOperationState polls
# After our writes, the task can be over as soon as one read has seen it: the second poll follows the first at once (its
# round trip is the pause), then POLL_FIRST, doubling. The emulator (async_delay_reads 1) settles on that second read;
# the reference gives no duration, so a slower task costs one read per page more than a pause would.
SETTLE_FIRST = 0.0
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

# Tags. Limits from the tag service's "Use Limits" page (tencentcloud.com/document/product/651/13354, updated 2025-09-02):
# 50 tags per resource; key 1-127 and value 1-255 Unicode characters; letters, digits, spaces (not first or last) and
# + - = . _ : / @ ( ) [ ] , ; > <; keys starting with qcs:, project or 项目 are reserved. The SDK's error list
# (tag/v20180813/errorcodes.py, InvalidParameter.ReservedTagKey) names qcloud, tencent and project: both sets are refused.
# The space is left out of the classes: a value split across numbered tags could start or end with one. A value cannot be
# empty (InvalidParameterValue.TagValueEmpty).
TAG_LIMITS = quarantine_record.TagLimits(
    max_key_len=127, max_value_len=255, max_tags=50,
    key_chars=r'[A-Za-z0-9+\-=._:/@()\[\],;><]', value_chars=r'[A-Za-z0-9+\-=._:/@()\[\],;><]',
    reserved_prefixes=('qcs:', 'project', '项目', 'qcloud', 'tencent'))
# TagResources and UnTagResources: ResourceList, Tags and TagKeys "N取值范围：0~9" each (SDK models), i.e. up to 10;
# 20 calls a second (TagResources page 651/72280: "默认接口请求频率限制:20次/秒"; UnTagResources [inferred] the same).
TAG_RESOURCES_PER_CALL = 10
TAGS_PER_CALL = 10
# The six-segment resource name qcs::<service>:<region>:uin/<account>:<prefix>/<id>. [inferred] The account may be left
# empty: the Terraform provider (tencentcloudstack, tccommon.BuildTagResourceName) sends "uin/:" for every service but COS,
# which is how every Terraform tag change is made; no API page says so. Should the service refuse it (with one of
# UIN_REFUSED, [inferred] codes), the account is asked once (STS GetCallerIdentity) and the refused targets sent again with
# it. The ENI's prefix (vpc, eni) is from the
# "resources that support tags" page (651/89122) [inferred: not re-checked against a live answer].
TAG_RESOURCE = {'instance': ('cvm', 'instance'), 'eni': ('vpc', 'eni')}
UIN_REFUSED = ('InvalidParameterValue.UinInvalid', 'InvalidParameterValue.ResourceDescriptionError')

# Credentials (docs/credentials.md, Tencent Cloud). The order follows the SDK's DefaultCredentialProvider
# (tencentcloud-sdk-python-common credential.py: environment, ~/.tencentcloud/credentials then /etc/tencentcloud/credentials,
# CVM role) with the Terraform provider's tccli profile files before the SDK's (reference section 6 (c)); the CVM role only
# when asked for (instance_role or TENCENTCLOUD_CAM_ROLE_NAME), where the SDK would probe it.
CREDENTIAL_ENVIRONMENT = {
    'profile': ('TENCENTCLOUD_PROFILE', 'TCCLI_PROFILE'),
    'shared_credentials_file': ('TENCENTCLOUD_SHARED_CREDENTIALS_DIR',),
    'instance_role': ('TENCENTCLOUD_CAM_ROLE_NAME',),
    # This collection's own names: no Tencent tool has a variable for these endpoints.
    'metadata_endpoint': ('TENCENTCLOUD_METADATA_ENDPOINT',),
    'sts_endpoint': ('TENCENTCLOUD_STS_ENDPOINT',),
    # Terraform's names first, then tccli's (TENCENTCLOUD_ROLE_ARN, TENCENTCLOUD_ROLE_SESSION_NAME).
    'assume_role.role_arn': ('TENCENTCLOUD_ASSUME_ROLE_ARN', 'TENCENTCLOUD_ROLE_ARN'),
    'assume_role.session_name': ('TENCENTCLOUD_ASSUME_ROLE_SESSION_NAME', 'TENCENTCLOUD_ROLE_SESSION_NAME'),
    'assume_role.duration': ('TENCENTCLOUD_ASSUME_ROLE_SESSION_DURATION',),
    'assume_role.external_id': ('TENCENTCLOUD_ASSUME_ROLE_EXTERNAL_ID',),
}
TCCLI_DIR = '~/.tccli'                           # Terraform's default for TENCENTCLOUD_SHARED_CREDENTIALS_DIR, and tccli's
SDK_CREDENTIAL_FILES = ('~/.tencentcloud/credentials', '/etc/tencentcloud/credentials')    # the SDK's ProfileCredential
METADATA_ENDPOINT = 'http://metadata.tencentyun.com'      # the SDK's CVMRoleCredential._metadata_endpoint
ROLE_PATH = '/latest/meta-data/cam/security-credentials/'
# STS AssumeRole (API 1312/48197): DurationSeconds 0-43200, the SDK's STSAssumeRoleCredential default 7200; RoleSessionName
# [\w+=,.@-]{2,128} [inferred from the API page's wording; refused by STS otherwise].
ASSUME_ROLE_DURATION = (0, 43200)
DEFAULT_DURATION = 7200

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
    # [inferred] What an expired temporary credential (STS or CVM role token) is answered with: the common code for a bad
    # token ("Token error"); no page names an expiry code. Renewed once, then the request sent once more.
    'AuthFailure.TokenFailure': transport.AUTH_EXPIRED,
    'AuthFailure': transport.AUTH,
    'UnauthorizedOperation': transport.AUTH,
    'LimitExceeded': transport.QUOTA,
    'ResourceNotFound': transport.NOT_FOUND,
    'InvalidSecurityGroupId.NotFound': transport.NOT_FOUND,
    'InvalidInstanceId.NotFound': transport.NOT_FOUND,
    'InvalidNetworkInterfaceId.NotFound': transport.NOT_FOUND,
    # The tag service (tag/v20180813/errorcodes.py): a resource whose tags are being changed by another request.
    'FailedOperation.ResourceTagProcessing': transport.IN_PROGRESS,
    'LimitExceeded.ResourceAttachedTags': transport.QUOTA,
    'LimitExceeded.TagKey': transport.QUOTA,
    'LimitExceeded.TagValue': transport.QUOTA,
    'LimitExceeded.Quota': transport.QUOTA,
    'LimitExceeded.ResourceNumPerRequest': transport.INVALID,
    'LimitExceeded.TagNumPerRequest': transport.INVALID,
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


def service_url(params, service):
    """vpc_endpoint for the VPC product, sts_endpoint for STS, else endpoint for all, else the region's public host. The tag
    service and STS have one host each: an endpoint naming a Tencent Cloud host (cvm.intl.tencentcloudapi.com, say) is the CVM
    product's, so they keep their own (on the intl site the SDK's rootDomain form, tag.intl.tencentcloudapi.com [inferred]);
    any other endpoint (a proxy, the emulator) serves them too."""
    endpoint = params.get('endpoint')
    if service == 'vpc' and params.get('vpc_endpoint'):
        endpoint = params['vpc_endpoint']
    if service == 'sts' and params.get('sts_endpoint'):
        return params['sts_endpoint'].rstrip('/') + '/'
    if service in ('tag', 'sts'):
        parts = urlsplit(endpoint or '')
        host = (parts.hostname or '').lower()
        if not endpoint or host.endswith('tencentcloudapi.com'):
            own = TAG_HOST if service == 'tag' else STS_HOST
            if '.intl.' in '.%s' % host:
                own = own.replace('.tencentcloudapi.com', '.intl.tencentcloudapi.com')
            return '%s://%s/' % (parts.scheme or 'https', own)
    if endpoint:
        return endpoint.rstrip('/') + '/'
    return 'https://%s.%s.tencentcloudapi.com/' % (service, params['region'])


def signed_call(conn, url, service, action, body, region, credentials_of, clock=time.time, write=False, awaits_in_progress=False,
                idempotent=False):
    """One API 3.0 call through the transport, signed (TC3-HMAC-SHA256) with credentials_of() at each attempt: the
    credentials in use then, refreshed when they expire."""
    host = urlsplit(url).netloc
    payload = json.dumps(body).encode('utf-8')

    def build():
        timestamp = int(clock())
        creds = credentials_of()
        headers = {
            'Content-Type': CONTENT_TYPE,
            'Host': host,
            'X-TC-Action': action,
            'X-TC-Version': API_VERSIONS[service],
            'X-TC-Timestamp': str(timestamp),
            'X-TC-Region': region,
            'X-TC-Language': 'en-US',
            'X-TC-RequestClient': 'multicloud.secgroup',
            'Authorization': tc3_authorization(creds.access_key, creds.secret, service, host, timestamp, payload),
        }
        if creds.token:
            headers['X-TC-Token'] = creds.token
        return {'method': 'POST', 'url': url, 'headers': headers, 'data': payload}

    def parse(resp):
        try:
            data = resp.json()['Response']
        except (ValueError, KeyError, TypeError):
            data = None
        if not isinstance(data, dict):
            cls = transport.TRANSIENT if resp.status_code >= 500 else transport.INVALID
            raise transport.ProviderError(TencentCloud.name, action, 'HTTP%d' % resp.status_code,
                                          'unexpected answer: %s' % resp.text[:200], None, resp.status_code, cls)
        error = data.get('Error')
        if error:
            code = error.get('Code', 'Unknown')
            raise transport.ProviderError(TencentCloud.name, action, code, error.get('Message', ''), data.get('RequestId'),
                                          resp.status_code, error_class(code))
        return data

    return conn.call(transport.Call(action, build, parse, write=write, awaits_in_progress=awaits_in_progress, idempotent=idempotent))


def _profile_name(settings):
    return settings.get('profile') or 'default'


def tccli_source(settings):
    """tccli's <dir>/<profile>.credential: JSON with secretId, secretKey and an optional token."""
    profile = _profile_name(settings)

    @credentials.named('tccli profile %r' % profile)
    def source(context):
        folder = context.path(settings.get('shared_credentials_file') or TCCLI_DIR)
        path = os.path.join(folder, '%s.credential' % profile)
        text = credentials.read_private_file(context, path, "tccli profile %r" % profile)
        try:
            data = json.loads(text)
        except ValueError:
            raise credentials.CredentialsError('%s (tccli profile %r) is not JSON' % (context.shown(path), profile))
        if not isinstance(data, dict):
            raise credentials.CredentialsError('%s (tccli profile %r) is not a JSON object' % (context.shown(path), profile))
        if data.get('type') == 'cvm-role' and not data.get('secretId'):
            raise credentials.CredentialsNotFound('%s is a CVM role profile (type cvm-role): set instance_role' % context.shown(path))
        key, secret = data.get('secretId'), data.get('secretKey')
        for field, value in (('secretId', key), ('secretKey', secret), ('token', data.get('token'))):
            if value is not None and not isinstance(value, str):
                raise credentials.CredentialsError('%s (tccli profile %r): %s is not a string' % (context.shown(path), profile, field))
        if not key or not secret:
            raise credentials.CredentialsError('%s (tccli profile %r) has no %s' % (
                context.shown(path), profile, ' and '.join(f for f, v in (('secretId', key), ('secretKey', secret)) if not v)))
        return credentials.Credentials(key, secret, data.get('token') or None,
                                       source="tccli profile %r in %s" % (profile, context.shown(path)))
    return source


def sdk_file_source(settings):
    """The SDK's INI file, ~/.tencentcloud/credentials else /etc/tencentcloud/credentials: section [<profile>] (the SDK
    reads [default]) with secret_id and secret_key."""
    profile = _profile_name(settings)

    @credentials.named('SDK credentials file, section [%s]' % profile)
    def source(context):
        missing = []
        for candidate in SDK_CREDENTIAL_FILES:
            path = context.path(candidate)
            try:
                text = credentials.read_private_file(context, path, 'the SDK credentials file')
            except credentials.CredentialsNotFound as exc:
                missing.append(exc.reason)
                continue
            import configparser  # pylint: disable=import-outside-toplevel  # only a task reading this file pays for it
            parser = configparser.ConfigParser(interpolation=None)
            try:
                parser.read_string(text)
            except configparser.Error as exc:
                raise credentials.CredentialsError('%s (the SDK credentials file) is not an INI file: line %s'
                                                   % (context.shown(path), getattr(exc, 'lineno', '?')))
            if not parser.has_section(profile):
                raise credentials.CredentialsNotFound('%s has no section [%s]' % (context.shown(path), profile))
            key = parser.get(profile, 'secret_id', fallback='').strip()
            secret = parser.get(profile, 'secret_key', fallback='').strip()
            if not key or not secret:
                raise credentials.CredentialsError('%s, section [%s], has no %s' % (
                    context.shown(path), profile, ' and '.join(f for f, v in (('secret_id', key), ('secret_key', secret)) if not v)))
            return credentials.Credentials(key, secret, source='section [%s] of %s' % (profile, context.shown(path)))
        raise credentials.CredentialsNotFound('; '.join(missing))
    return source


def cvm_role_source(settings):
    """The CVM role's temporary credentials from the metadata service (asked only when instance_role is set): the role
    named, or with 'auto' the one the service names."""
    role = settings.get('instance_role')

    @credentials.named('CVM role %s' % ('(instance_role not set)' if not role else repr(role)))
    def source(context):
        if not role:
            raise credentials.CredentialsNotFound('instance_role (or TENCENTCLOUD_CAM_ROLE_NAME) not set, so the metadata service '
                                                  'was not asked')
        base = (settings.get('metadata_endpoint') or METADATA_ENDPOINT).rstrip('/') + ROLE_PATH
        name = role
        if role == 'auto':
            status, text = context.http('GET', base)
            names = [line.strip() for line in text.splitlines() if line.strip()] if status == 200 else []
            if not names:
                raise credentials.CredentialsNotFound('the metadata service at %s names no CAM role (HTTP %d): attach one to '
                                                      'the instance' % (base, status))
            name = names[0]
        url = base + quote(name, safe='')
        status, text = context.http('GET', url)
        if status == 404:
            raise credentials.CredentialsNotFound('the metadata service at %s has no CAM role %r (HTTP 404)' % (base, name))
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if status != 200 or not isinstance(data, dict) or data.get('Code') != 'Success':
            raise credentials.CredentialsNotFound('the metadata service answered %s for CAM role %r (HTTP %d)%s' % (
                url, name, status, ', Code %s' % data.get('Code') if isinstance(data, dict) and isinstance(data.get('Code'), str) else ''))
        key, secret, token = data.get('TmpSecretId'), data.get('TmpSecretKey'), data.get('Token')
        if not all(isinstance(v, str) and v for v in (key, secret, token)):
            raise credentials.CredentialsNotFound('the metadata service answered %s without TmpSecretId, TmpSecretKey and Token' % url)
        for secret_value in (secret, token):
            context.register(secret_value)
        return credentials.Credentials(key, secret, token, expires_at=_epoch(data.get('ExpiredTime')),
                                       source='CVM role %r from the metadata service at %s' % (name, base))
    return source


def _epoch(value):
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


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


def tag_dict(items):
    """{key: value} of a [{'Key', 'Value'}] list (DescribeInstances' Tags, DescribeNetworkInterfaces' TagSet)."""
    return dict((item.get('Key'), item.get('Value')) for item in items or [] if isinstance(item, dict) and item.get('Key') is not None)


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
                        'DescribeInstances': 40, 'DescribeSecurityGroups': 100, 'TagResources': 20, 'UnTagResources': 20,
                        'GetCallerIdentity': 20},
                       **ENI_INFERRED['rate_limits'])
    default_rate_limit = None     # every action used has a limit above
    completion = KINDS['instance_ids']['completion']     # LatestOperationState in DescribeInstances
    # A 100-instance call is all or nothing: a quota answer is caused by one of its instances, so the engine halves the call.
    per_target_errors = (transport.QUOTA,)
    tag_limits = TAG_LIMITS
    # The filters DescribeInstances applies server-side (reference 3.3 and the SDK's DescribeInstancesRequest.Filters):
    list_filters = (
        'tags',                 # tag:<key> (that value) and tag-key (the key, any value); each its own filter, ANDed
        'name',                 # instance-name; [inferred] exact or looser (not documented), the neutral code narrows it
        'status',               # instance-state, up to 5 values ORed
        'vpc_id',               # vpc-id
        'security_group_id',    # security-group-id
    )
    argument_spec = dict(
        secret_id=dict(type='str', no_log=False, fallback=(env_fallback, ['TENCENTCLOUD_SECRET_ID'])),
        secret_key=dict(type='str', no_log=True, fallback=(env_fallback, ['TENCENTCLOUD_SECRET_KEY'])),
        security_token=dict(type='str', no_log=True,
                            fallback=(env_fallback, ['TENCENTCLOUD_SECURITY_TOKEN', 'TENCENTCLOUD_TOKEN'])),
        region=dict(type='str', required=True, fallback=(env_fallback, ['TENCENTCLOUD_REGION'])),
        vpc_endpoint=dict(type='str'),
    )

    # What each credential option is, in words every provider shares: how another provider's name for it is explained.
    credential_options = {'key ID': 'secret_id', 'secret': 'secret_key', 'token': 'security_token'}

    # -- credentials (docs/credentials.md) ------------------------------------
    credential_environment = CREDENTIAL_ENVIRONMENT
    credential_features = ('profile', 'shared_credentials_file', 'instance_role', 'assume_role', 'assume_role.policy',
                           'metadata_endpoint', 'sts_endpoint')
    assume_role_duration = ASSUME_ROLE_DURATION

    @classmethod
    def credential_sources(cls, params, settings):
        return [credentials.options_source(cls, params), tccli_source(settings), sdk_file_source(settings), cvm_role_source(settings)]

    @classmethod
    def assume_role(cls, context, base, role):
        """STS AssumeRole (2018-08-13) signed with base: the role's temporary credentials, until ExpiredTime."""
        body = {'RoleArn': role['role_arn'], 'RoleSessionName': role['session_name'],
                'DurationSeconds': role['duration'] if role.get('duration') is not None else DEFAULT_DURATION}
        if role.get('external_id'):
            body['ExternalId'] = role['external_id']
        if role.get('policy'):
            body['Policy'] = role['policy']
        params = dict(context.params, sts_endpoint=context.settings.get('sts_endpoint'))
        data = signed_call(context.transport, service_url(params, 'sts'), 'sts', 'AssumeRole', body, params['region'],
                           lambda: base, clock=context.clock)
        answer = data.get('Credentials') if isinstance(data.get('Credentials'), dict) else {}
        key, secret, token = answer.get('TmpSecretId'), answer.get('TmpSecretKey'), answer.get('Token')
        if not all(isinstance(v, str) and v for v in (key, secret, token)):
            raise credentials.CredentialsError('STS AssumeRole of %s answered without TmpSecretId, TmpSecretKey and Token (request ID %s)'
                                               % (role['role_arn'], data.get('RequestId')))
        for value in (secret, token):
            context.register(value)
        return credentials.Credentials(key, secret, token, expires_at=_epoch(data.get('ExpiredTime')),
                                       source='role %s assumed with %s' % (role['role_arn'], base.source))

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
        self.tags = {}            # target (instance or ENI) -> {key: value}, as last read
        self.vpcs = {}            # instance -> VpcId, as last read
        self.account = ''         # the account segment of tag resource names: empty until the tag service asks for it

    # -- requests -----------------------------------------------------------
    def url(self, service):
        return service_url(self.params, service)

    def call(self, service, action, body, write=False, awaits_in_progress=False, idempotent=False):
        return signed_call(self.transport, self.url(service), service, action, body, self.params['region'],
                           lambda: credentials.request_credentials(self.transport, self.params, type(self)), clock=self.clock,
                           write=write, awaits_in_progress=awaits_in_progress, idempotent=idempotent)

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

    # -- listing (the inventory plugin and sg_binding_info) ---------------------
    def list_instances(self, filters):
        """Every instance of the region passing the filters sent (listing_filters), as the neutral listing dicts:
        DescribeInstances with Filters, Limit 100, the pages after the first asked concurrently from its TotalCount."""
        return self.list_pages(self.listing_filters(filters or {}))

    @staticmethod
    def listing_filters(filters):
        """The Filters of DescribeInstances for the neutral filters: at most MAX_FILTERS, the rest left to the neutral
        code (which re-checks every filter). A key-only tag is a tag-key filter; as two filters of one name are not
        documented to be ANDed, only the first such key is sent. A name pattern, statuses that are not all documented
        InstanceStates, or more than 5 of them, are not sent."""
        out = []
        for name, key in (('vpc-id', 'vpc_id'), ('security-group-id', 'security_group_id')):
            if filters.get(key):
                out.append({'Name': name, 'Values': [filters[key]]})
        name = filters.get('name')
        if name and not any(char in name for char in '*?['):
            out.append({'Name': 'instance-name', 'Values': [name]})
        states = sorted(set(('%s' % state).upper() for state in filters.get('status') or []))
        if states and len(states) <= FILTER_VALUES and all(state in INSTANCE_STATES for state in states):
            out.append({'Name': 'instance-state', 'Values': states})
        tags = filters.get('tags') or {}
        out.extend({'Name': 'tag:%s' % key, 'Values': [value]} for key, value in tags.items() if value is not None)
        out.extend([{'Name': 'tag-key', 'Values': [key]} for key, value in tags.items() if value is None][:1])
        return out[:MAX_FILTERS]

    def list_pages(self, filters):
        """The listing dicts of every page (Offset/Limit 100), once each: the first page's TotalCount tells which
        offsets to ask, concurrently; a later TotalCount that grew asks for the pages it adds. Each page is made listing
        dicts as it arrives (the answers' other fields are not kept: 10,000 instances in a few MB)."""
        def page(offset):
            body = {'Offset': offset, 'Limit': PAGE}
            if filters:
                body['Filters'] = filters
            data = self.call('cvm', 'DescribeInstances', body)
            found = dict((item['InstanceId'], item) for item in data.get('InstanceSet') or []
                         if isinstance(item, dict) and item.get('InstanceId'))
            self.remember(found)
            return {'TotalCount': data.get('TotalCount'), 'InstanceSet': [self.listed(item) for item in found.values()]}

        pages = [page(0)]
        asked = PAGE
        total = int(pages[0].get('TotalCount') or 0)
        while asked < total:
            offsets = list(range(asked, total, PAGE))
            more = self.transport.map(page, offsets, self.params.get('max_concurrency', 10))
            for data in more:
                if isinstance(data, BaseException):
                    raise data
                total = max(total, int(data.get('TotalCount') or 0))
            pages.extend(more)
            asked = offsets[-1] + PAGE
        items = {}
        for data in pages:
            for item in data['InstanceSet']:
                items.setdefault(item['instance_id'], item)
        return list(items.values())

    def listed(self, item):
        """The neutral listing dict of one InstanceSet item. DescribeInstances does not list the ENIs: no network_interfaces."""
        return {
            'instance_id': item['InstanceId'],
            'instance_name': item.get('InstanceName'),
            'status': item.get('InstanceState'),
            'vpc_id': (item.get('VirtualPrivateCloud') or {}).get('VpcId'),
            'private_ips': list(item.get('PrivateIpAddresses') or []),
            'public_ips': list(item.get('PublicIpAddresses') or []),     # null when the instance has none
            'tags': tag_dict(item.get('Tags')),
            'security_group_ids': list(item.get('SecurityGroupIds') or []),
            'region': self.params['region'],
            'kind': 'instance',
        }

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
            self.tags[eni] = tag_dict(item.get('TagSet'))
        return current, [eni for eni in ids if eni not in found]

    def remember(self, found):
        """Record what the instances read show besides their lists (DescribeInstances items by ID)."""
        for iid, item in found.items():
            self.tags[iid] = tag_dict(item.get('Tags'))
            self.vpcs[iid] = (item.get('VirtualPrivateCloud') or {}).get('VpcId')
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

        done, still = transport.poll(step, deadline, self.monotonic, self.sleep, SETTLE_FIRST, POLL_MAX, POLL_FIRST)
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

    # -- tags (the quarantine record) and the interfaces of an instance ------------------------------
    def tag_resource(self, target_id):
        """The six-segment name of an instance or ENI for the tag service, the account empty until the service asks for it
        (TAG_RESOURCE, with_account)."""
        service, prefix = TAG_RESOURCE['eni' if target_id.startswith('eni-') else 'instance']
        return 'qcs::%s:%s:uin/%s:%s/%s' % (service, self.params['region'], self.account, prefix, target_id)

    def write_tags(self, target_id, tags):
        """Add or overwrite these tags on one instance or ENI; the request IDs."""
        return self.write_tags_many({target_id: tags})

    def write_tags_many(self, tags_by_target):
        """TagResources: the targets with the same tags 10 a call, 10 tags a call; the calls run concurrently."""
        return self.with_account(self.write_tags_once, tags_by_target)

    def remove_tags_many(self, keys_by_target):
        """UnTagResources: the targets losing the same keys 10 a call, 10 keys a call; the calls run concurrently. A key that a
        target read in this run does not have is not sent (a restore run again sends nothing); one not read is sent, and a
        key it lacks is not an error [inferred; the emulator's untag_missing_key setting has both answers]."""
        return self.with_account(self.remove_tags_once, keys_by_target)

    def with_account(self, send, by_target):
        """send(by_target); if the tag service refuses the empty account segment (UIN_REFUSED), the account is asked once
        (GetCallerIdentity) and the refused targets are sent again with it."""
        try:
            return send(by_target)
        except transport.ProviderError as error:
            if self.account or error.code not in UIN_REFUSED or not getattr(error, 'failed_target_ids', None):
                raise
            first = error
        data = self.call('sts', 'GetCallerIdentity', {})
        self.account = '%s' % (data.get('AccountId') or '')
        if not self.account:
            raise first
        request_ids = send(dict((tid, by_target[tid]) for tid in first.failed_target_ids if tid in by_target))
        return [first.request_id] + request_ids if first.request_id else request_ids

    def write_tags_once(self, tags_by_target):
        calls = []
        for tags, targets in _same(dict((tid, sorted(tags.items())) for tid, tags in tags_by_target.items() if tags)):
            for part in _chunks(tags, TAGS_PER_CALL):
                calls.extend((chunk, {'Tags': [{'TagKey': k, 'TagValue': v} for k, v in part]}, dict(part))
                             for chunk in _chunks(targets, TAG_RESOURCES_PER_CALL))
        return self.tag_calls('TagResources', calls)

    def remove_tags(self, target_id, keys):
        return self.remove_tags_many({target_id: keys})

    def remove_tags_once(self, keys_by_target):
        calls = []
        keys_by_target = dict((tid, [key for key in keys if tid not in self.tags or key in self.tags[tid]])
                              for tid, keys in keys_by_target.items())
        for keys, targets in _same(dict((tid, sorted(set(keys))) for tid, keys in keys_by_target.items() if keys)):
            for part in _chunks(keys, TAGS_PER_CALL):
                calls.extend((chunk, {'TagKeys': part}, part) for chunk in _chunks(targets, TAG_RESOURCES_PER_CALL))
        return self.tag_calls('UnTagResources', calls)

    def tag_calls(self, action, calls):
        """Send [(targets, body, change)] concurrently; keep self.tags in step with what was applied. A target named in
        FailedResources (a partial failure), or in a call that failed, raises a ProviderError naming every failed target
        (failed_target_ids) once all calls are over; the request IDs otherwise."""
        def send(item):
            targets, body, dummy = item
            return self.call('tag', action, dict(body, ResourceList=[self.tag_resource(t) for t in targets]), write=True,
                             idempotent=True)

        request_ids, errors, failed = [], [], []
        for (targets, dummy, change), data in zip(calls, self.transport.map(send, calls, self.params.get('max_concurrency', 10))):
            if isinstance(data, transport.ProviderError):
                errors.append(data)
                failed.extend(targets)
                continue
            if isinstance(data, BaseException):
                raise data
            request_ids.append(data.get('RequestId'))
            refused = dict((str(item.get('Resource') or '').rsplit('/', 1)[-1], item) for item in data.get('FailedResources') or []
                           if isinstance(item, dict))
            for target in targets:
                if target in refused:
                    failed.append(target)
                    errors.append(transport.ProviderError(self.name, action, refused[target].get('Code') or 'FailedResource',
                                                          '%s: %s' % (target, refused[target].get('Message') or 'refused'),
                                                          data.get('RequestId'), 200, error_class(refused[target].get('Code') or '')))
                elif action == 'TagResources':
                    self.tags.setdefault(target, {}).update(change)
                else:
                    for key in change:
                        self.tags.get(target, {}).pop(key, None)
        transport.raise_first(errors, failed)
        return request_ids

    def instance_tags(self, instance_ids):
        """{instance: tags} of instances not read yet (the owners of ENI targets): DescribeInstances, 100 a call."""
        wanted = [iid for iid in instance_ids if iid and iid not in self.tags]
        if wanted:
            self.remember(self.describe(wanted))
        return dict((iid, self.tags[iid]) for iid in instance_ids if iid in self.tags)

    def attached_interfaces(self, instance_ids):
        """{instance: [{'network_interface_id', 'security_group_ids'}]}: the secondary ENIs of each instance (a primary ENI's
        groups are the instance's). DescribeNetworkInterfaces filtered by is-primary false and either vpc-id (the instances'
        VPCs, 5 a filter) or attachment.instance-id (5 a filter), whichever needs fewer pages of 100: the VPC query's first
        page tells how many ENIs it would list. Instances not read yet are read first (DescribeInstances, 100 a call)."""
        ids = list(dict.fromkeys(instance_ids))
        unread = [iid for iid in ids if iid not in self.vpcs]
        if unread:
            self.remember(self.describe(unread))
        ids = [iid for iid in ids if iid in self.vpcs]
        out = dict((iid, []) for iid in ids)
        if not ids:
            return out
        by_instance_calls = (len(ids) + FILTER_VALUES - 1) // FILTER_VALUES
        vpcs = sorted(set(self.vpcs[iid] for iid in ids if self.vpcs[iid]))
        items = None
        if vpcs and len(vpcs) <= FILTER_VALUES:
            first = self.interface_page([{'Name': 'vpc-id', 'Values': vpcs}], 0)
            pages = (int(first.get('TotalCount') or 0) + PAGE - 1) // PAGE
            if pages <= 1 + by_instance_calls:
                items = self.interface_pages([{'Name': 'vpc-id', 'Values': vpcs}], first)
        if items is None:
            items = []
            for chunk in _chunks(ids, FILTER_VALUES):
                items.extend(self.interface_pages([{'Name': 'attachment.instance-id', 'Values': chunk}]))
        for item in items:
            owner = (item.get('Attachment') or {}).get('InstanceId')
            eni = item.get('NetworkInterfaceId')
            if owner in out and not item.get('Primary') and eni not in [e['network_interface_id'] for e in out[owner]]:
                out[owner].append({'network_interface_id': eni, 'security_group_ids': list(item.get('GroupSet') or [])})
                self.interfaces[eni] = {'primary': False, 'instance': owner}
                self.tags[eni] = tag_dict(item.get('TagSet'))
                self.status[eni] = item.get('NetworkInterfaceState') or item.get('State')
        return out

    def interface_page(self, filters, offset):
        return self.call('vpc', 'DescribeNetworkInterfaces', {'Filters': filters + [{'Name': 'is-primary', 'Values': ['false']}],
                                                              'Offset': offset, 'Limit': PAGE})

    def interface_pages(self, filters, first=None):
        """The items of every page of DescribeNetworkInterfaces with these filters; the pages after the first concurrently."""
        first = first if first is not None else self.interface_page(filters, 0)
        pages = [first] + self.transport.map(lambda offset: self.interface_page(filters, offset),
                                             range(PAGE, int(first.get('TotalCount') or 0), PAGE), self.params.get('max_concurrency', 10))
        items = []
        for data in pages:
            if isinstance(data, BaseException):
                raise data
            items.extend(item for item in data.get('NetworkInterfaceSet') or [] if isinstance(item, dict))
        return items

    def interface_owner(self, interface_ids):
        """{ENI: its instance or None}, from the ENIs read (those not read yet are read: DescribeNetworkInterfaces, 100 a call)."""
        unread = [eni for eni in interface_ids if eni not in self.interfaces]
        if unread:
            self.read_interfaces(unread)
        return dict((eni, self.interfaces[eni]['instance'] if eni in self.interfaces else None) for eni in interface_ids)


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
