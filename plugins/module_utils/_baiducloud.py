# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This module_utils is PRIVATE to the collection: it may change at any time.
"""Baidu AI Cloud BCC: everything specific to it, for the engine.

REST API v2 on ``bcc.<region>.baidubce.com``, signed with bce-auth-v1:
``GET /v2/instance/{id}`` (the instance's normal security groups and status),
``PUT /v2/securitygroup/bind`` / ``unbind?clientToken=`` (security groups on up to
batch_size instances per call, all or nothing; a retry with the same token is safe),
with ``PUT /v2/instance/{id}?bind`` / ``?unbind`` (one security group on one
instance; 200 with an empty body; no token) as the fallback, and
``GET /v2/securityGroup`` (list, for the existence check). Writes are synchronous.
Only normal security groups are managed; enterprise security groups are neither
read nor changed.

Elastic network interfaces (network_interface_ids) are the VPC API's, on the same host:
``GET /v1/eni/{eniId}`` (its normal and enterprise groups, VPC, instance, status),
``GET /v1/eni?vpcId=`` (a VPC's ENIs, 1000 a page) and ``PUT /v1/eni/{eniId}?bindSg&clientToken=``
(the ENI's whole list of normal groups; it also removes its enterprise groups). There is no
bind or unbind of one group on an ENI: every change is that replace, one ENI per call.

Instance tags (the quarantine record store): ``PUT /v2/instance/{id}/tag?bind`` / ``?unbind`` with
``{"changeTags": [{"tagKey", "tagValue"}]}`` (the SDK's bind_instance_to_tags), one instance a call (the v3
batch AttachTags applies one tag set to every resource it names, no use for per-instance records); the
instances' tags come with the reads (``tags`` of ListInstancesByIds / GetInstance). An instance's other ENIs:
``GET /v1/eni?vpcId=`` (a VPC's ENIs with their instanceId, 1000 a page), or ``GET /v2/eni/{instanceId}`` where
the VPC is not known.

Listing (the inventory plugin, sg_binding_info's filters): ``GET /v2/instance`` (ListInstances), marker-paged, 1000 a
page, with the filters of LIST_FILTERS; the answer's InstanceModel has the name, status, VPC, IPs, tags and
``nicInfo.securityGroups``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from urllib.parse import quote, unquote_to_bytes, urlsplit

from ansible.module_utils.basic import env_fallback

from ansible_collections.multicloud.secgroup.plugins.module_utils import _credentials as credentials
from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _quarantine_record as quarantine_record
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

AUTH_VERSION = 'bce-auth-v1'
EXPIRATION = 1800                       # seconds a signature is valid, as the SDKs sign
CONTENT_TYPE = 'application/json;charset=utf-8'
# Signed when the Authorization header lists no headers (besides every x-bce-* header).
DEFAULT_SIGNED_HEADERS = ('host', 'content-length', 'content-type', 'content-md5')
LIST_PAGE = 1000                        # maxKeys of ListSecurityGroups (its maximum)
# The batch bind/unbind calls document no maximum number of instances [inferred]: a conservative
# default, and a ceiling for the option so that one body stays small.
DEFAULT_BATCH_SIZE = 10
MAX_BATCH_SIZE = 100
READ_BATCH = 100                        # instanceIds per listByInstanceId call (its documented maximum)
CLIENT_TOKEN_LENGTH = 64                # BCE clientToken: ASCII, at most 64 characters
# Normal security groups per ENI: the update call documents only "at least one"; the instance's limit of
# 10 is assumed [inferred] (the emulator's baiducloud.eni_max_security_groups).
ENI_MAX_GROUPS = 10
# Answers meaning "this endpoint has no such call" (a region or private deployment without the
# batch API): the request was not processed, so the per-instance calls are used instead.
UNSUPPORTED_CODES = ('InvalidURI', 'InvalidVersion', 'NotImplemented', 'MethodNotAllowed', 'HTTP404', 'HTTP405', 'HTTP501')
# BCE's answer to an unknown path may also be its "no such object" code [inferred], which it gives for a
# missing instance or group too: such an answer means "no such call" only when every instance the call
# named is there (GET /v2/instance/{id}).
AMBIGUOUS_MISSING_CODES = ('NoSuchObject',)

# Codes with a fixed class. Any other code: by HTTP status (429 throttled; 500, 502, 503, 504
# transient), else reported as it is. Reference section 4.
ERROR_CLASSES = {
    # The signature's timestamp is more than 30 minutes from Baidu's clock: a skewed local clock, which
    # no retry fixes (the answer says so, see CLOCK_HINT).
    'RequestExpired': transport.AUTH,
    'InternalError': transport.TRANSIENT,
    # "In progress / wrong state" (status undocumented): Terraform retries it on instance changes.
    'OperationDenied': transport.IN_PROGRESS,
    'AccessDenied': transport.AUTH,
    'InvalidAccessKeyId': transport.AUTH,
    'InvalidHTTPAuthHeader': transport.AUTH,
    'SignatureDoesNotMatch': transport.AUTH,
    # [inferred] (CREDENTIAL_INFERRED): a session token past its expiration; the credentials are renewed once.
    'InvalidSessionToken': transport.AUTH_EXPIRED,
    'SessionTokenExpired': transport.AUTH_EXPIRED,
    'SecurityGroup.BindInstanceExceededLimit': transport.QUOTA,
    'SecurityGroup.NoSecurityGroup': transport.CONFLICT,
    # "Already bound / not bound" (the emulator's codes; BCC documents none): on a batch, ambiguous about which instance.
    'SecurityGroup.AlreadyBound': transport.ALREADY,
    'SecurityGroup.NotBound': transport.ALREADY,
    'SecurityGroup.ExpiredInstanceForbiddenBind': transport.CONFLICT,
    # A group in another VPC than the ENI (the VPC API's codes, documented for its service-interface update).
    'InstanceBindNoSameVpcException': transport.INVALID,
    'Vpc.SecurityGroupsNotSameVpc': transport.INVALID,
    # A clientToken reused with other parameters: never a transient state.
    'IdempotentParameterMismatch': transport.INVALID,
    # "Gone" codes: NoSuchObject is BCC's; the others are those the Terraform provider also accepts.
    'NoSuchObject': transport.NOT_FOUND,
    'InstanceNotFound': transport.NOT_FOUND,
    'InstanceNotExist': transport.NOT_FOUND,
    'NotFound': transport.NOT_FOUND,
    'InvalidInstanceId.NotFound': transport.NOT_FOUND,
    # The tag service's documented codes (its create-tag page; the instance tag calls name none [inferred] the same).
    'TagExceptions.TagKeyInvalid': transport.INVALID,
    'TagExceptions.TagValueInvalid': transport.INVALID,
    'TagExceptions.TagKeyEmpty': transport.INVALID,
    'TagExceptions.TagEmpty': transport.INVALID,
    'TagExceptions.LimitExceeded': transport.QUOTA,
}
CLOCK_HINT = ('the request was signed with this host\'s clock, which is more than 30 minutes from %s\'s; '
              'check the system clock (NTP)')
# Instance tags. The BCC tag pages refer to the tag service's rules without stating them, and no SDK checks them:
# every number and character here is [inferred] (the emulator's baiducloud.tag_* settings serve other answers).
TAG_LIMITS = quarantine_record.TagLimits(
    max_key_len=65,                     # [inferred] assumed: no BCC page states it (AppBuilder's tags take 50)
    max_value_len=65,                   # [inferred] likewise for values
    max_tags=10,                        # [inferred] tags per instance: not published for BCC; a cautious guess
    # [inferred] letters, digits and - _ / . and space: the characters Baidu's AppBuilder tag API documents
    # (cloud.baidu.com/doc/AppBuilder/s/km8x6zywk); Chinese is allowed there too but not needed here.
    key_chars=r'[A-Za-z0-9\-_ /.]',
    value_chars=r'[A-Za-z0-9\-_ /.]',
    reserved_prefixes=(),               # none documented
)
# ENIs: a VPC's whole list is read when at least this many of its instances are asked (one call a page of
# 1000 ENIs); below it, one filtered list per instance.
ENI_VPC_LIST_MIN_INSTANCES = 2
# The values the instance list page names for its status filter: another status (Expired, say) is applied locally only,
# as what the filter does with it is not documented.
LIST_STATUSES = ('Recycled', 'Running', 'Stopped', 'Stopping', 'Starting')
# ListInstances' list-valued parameters are comma-separated (cloud.baidu.com/doc/BCC/s/Xjwvyodmx), and a tag is
# "key:value" or "key": a value holding a separator cannot be sent.
LIST_SEPARATORS = (',', ':')
THROTTLING_CODE = re.compile(r'Throttl|RateLimit|TooManyRequests|RequestLimitExceeded', re.IGNORECASE)
TRANSIENT_STATUSES = (500, 502, 503, 504)   # 504: a gateway gave up waiting; a write may have happened


def error_class(code, status):
    if code in ERROR_CLASSES:
        return ERROR_CLASSES[code]
    if status == 429 or THROTTLING_CODE.search(code):
        return transport.THROTTLED
    if status in TRANSIENT_STATUSES:
        return transport.TRANSIENT
    return transport.INVALID


# -- bce-auth-v1 -------------------------------------------------------------------------------

def uri_encode(value, keep_slash=False):
    """BCE UriEncode: the UTF-8 bytes, A-Z a-z 0-9 - . _ ~ kept, everything else %XX (upper case)."""
    if not isinstance(value, bytes):
        value = value.encode('utf-8')
    return quote(value, safe='-._~/' if keep_slash else '-._~')


def canonical_uri(path):
    """UriEncodeExceptSlash of the decoded path; ``path`` is the percent-encoded path as sent."""
    uri = uri_encode(unquote_to_bytes(path or '/'), keep_slash=True)
    return uri if uri.startswith('/') else '/' + uri


def canonical_query(params):
    """Sorted ``key=value`` pairs, each side encoded; a key without a value is ``key=``."""
    pairs = []
    for key, value in params:
        if key.lower() == 'authorization':
            continue
        pairs.append('%s=%s' % (uri_encode(key), uri_encode('' if value is None else value)))
    return '&'.join(sorted(pairs))


def canonical_headers(headers, signed_headers=None):
    """The signed header lines: ``signed_headers`` if given, else the defaults plus every x-bce-* header."""
    lines = []
    for name, value in headers.items():
        name, value = name.strip().lower(), ('%s' % value).strip()
        if not value:
            continue
        if signed_headers:
            signed = name in signed_headers
        else:
            signed = name in DEFAULT_SIGNED_HEADERS or name.startswith('x-bce-')
        if signed:
            lines.append('%s:%s' % (uri_encode(name), uri_encode(value)))
    return '\n'.join(sorted(lines))


def bce_authorization(access_key, secret_key, method, path, params, headers, timestamp,
                      expiration=EXPIRATION, signed_headers=None):
    """The Authorization header of a bce-auth-v1 request.

    path: the path as sent (percent-encoded); params: (key, value or None) pairs;
    headers: name -> value as sent; signed_headers: lower-case names to sign and list,
    or None for the SDK's empty list (the server then signs its defaults).
    """
    stamp = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(timestamp))
    prefix = '%s/%s/%s/%d' % (AUTH_VERSION, access_key, stamp, expiration)
    signing_key = hmac.new(secret_key.encode('utf-8'), prefix.encode('utf-8'), hashlib.sha256).hexdigest()
    canonical = '\n'.join([method.upper(), canonical_uri(path), canonical_query(params),
                           canonical_headers(headers, signed_headers)])
    signature = hmac.new(signing_key.encode('utf-8'), canonical.encode('utf-8'), hashlib.sha256).hexdigest()
    return '%s/%s/%s' % (prefix, ';'.join(signed_headers or []), signature)


def client_token():
    """A fresh clientToken (the SDK's form, a uuid4): one per batch write, re-sent unchanged on its retries."""
    return str(uuid.uuid4())


def instance_path(instance_id):
    """The instance's resource path; the ID is encoded whole, so '/', '?' or '%' can never escape it."""
    return '/v2/instance/' + uri_encode(instance_id)


def eni_path(eni_id):
    return '/v1/eni/' + uri_encode(eni_id)


def _present(values):
    """The non-empty values, each once, in order."""
    return list(dict.fromkeys(v for v in values if v))


# -- credentials: the BCE CLI's profiles, the BCC instance role, STS AssumeRole -----------------------------------
# Sources: baidubce/bce-cli internal/config (config.json: current, profiles[{name, mode AK|StsToken, access_key_id,
# secret_access_key, security_token, region}]; BCE_ACCESS_KEY_ID / BCE_SECRET_ACCESS_KEY / BCE_SECURITY_TOKEN fill a
# profile's empty fields; the profile is chosen by --profile only, no variable); the older Python CLIs' ~/.bce/credentials
# (INI, [default] bce_access_key_id, bce_secret_access_key, bce_session_token); the BCC page "设置IAM角色" (one role per
# instance, GET http://169.254.169.254/latest/meta-data/sts-credential, refreshed every 5 minutes); the IAM page "STS相关
# 接口" (POST /v1/credential?assumeRole&accountId=&roleName=&durationSeconds= on sts.bj.baidubce.com, at most 2 h; the
# English page says STS is whitelist-only) and bce-sdk-go services/sts/api (DEFAULT_ASSUMEROLE_DURATION_SECONDS 7200;
# Credential{AccessKeyId, SecretAccessKey, SessionToken, CreateTime, Expiration, UserId, RoleId}).
# Unverified facts: CREDENTIAL_INFERRED below.
# No variable of Baidu's own tools names a profile, a file, a role or an endpoint; the endpoints' are this collection's
# own, with the Terraform provider's prefix (as TENCENTCLOUD_METADATA_ENDPOINT).
CREDENTIAL_ENV = {'metadata_endpoint': ['BAIDUCLOUD_METADATA_ENDPOINT'], 'sts_endpoint': ['BAIDUCLOUD_STS_ENDPOINT']}
CLI_CONFIG_FILE = ('.bce', 'config.json')
LEGACY_CREDENTIALS_FILE = ('.bce', 'credentials')
DEFAULT_PROFILE = 'default'
CLI_MODES = ('AK', 'StsToken')
METADATA_ENDPOINT = 'http://169.254.169.254'
METADATA_STS_PATH = '/latest/meta-data/sts-credential'
STS_ENDPOINT = 'https://sts.bj.baidubce.com'
STS_DURATION = (1, 7200)
# This collection's notation of a Baidu role for assume_role.role_arn: Baidu has no ARN; AssumeRole takes the account ID
# and the role name (as Terraform's assume_role block does).
ROLE_NOTATION = re.compile(r'^([0-9A-Za-z]{1,64}):([^\s:/?&#]{1,64})$')
CREDENTIAL_INFERRED = {
    # The metadata answer's fields: those of an STS Credential (the page shows no answer).
    'metadata_fields': ('accessKeyId', 'secretAccessKey', 'sessionToken', 'expiration'),
    # The code BCC answers a request signed with an expired session token (none documented): renewed once.
    'expired_codes': ('InvalidSessionToken', 'SessionTokenExpired'),
    # AssumeRole's lowest durationSeconds (only the 2 h maximum is documented).
    'sts_min_duration': 1,
}


CredentialFileError = credentials.CredentialFileError


def read_cli_profile(path, text, name=None):
    """(access key, secret, token or None, profile name) of the BCE CLI's config.json profile `name` (else current)."""
    config = credentials.parse_json_file(path, text)
    if not isinstance(config, dict) or not isinstance(config.get('profiles', []), list):
        raise CredentialFileError('%s: expected an object with a "profiles" list' % path)
    name = name or config.get('current') or DEFAULT_PROFILE
    profile = next((p for p in config.get('profiles') or [] if isinstance(p, dict) and p.get('name') == name), None)
    if profile is None:
        raise LookupError('%s has no profile %r' % (path, name))
    where = "profile '%s' in %s" % (name, path)
    mode = profile.get('mode') or 'AK'
    if mode not in CLI_MODES:
        raise CredentialFileError('%s: mode %r is not supported (supported: %s)' % (where, mode, ', '.join(CLI_MODES)))
    fields = ['access_key_id', 'secret_access_key'] + (['security_token'] if mode == 'StsToken' else [])
    values = []
    for field in fields:
        value = profile.get(field)
        if not value or not isinstance(value, str):
            raise CredentialFileError('%s: %s is missing, empty or not a string' % (where, field))
        values.append(value)
    return values[0], values[1], values[2] if mode == 'StsToken' else None, name


def read_legacy_credentials(path, text, name=None):
    """(access key, secret, token or None, section) of the INI ~/.bce/credentials, section `name` (else [default])."""
    parser = credentials.parse_ini_file(path, text)
    name = name or DEFAULT_PROFILE
    if not parser.has_section(name):
        raise LookupError('%s has no section [%s]' % (path, name))
    section = dict(parser.items(name))
    where = "section [%s] of %s" % (name, path)
    key, secret = section.get('bce_access_key_id', '').strip(), section.get('bce_secret_access_key', '').strip()
    if not key or not secret:
        raise CredentialFileError('%s: bce_access_key_id and bce_secret_access_key are both required' % where)
    return key, secret, section.get('bce_session_token', '').strip() or None, name


def parse_expiration(text):
    """Epoch seconds of "2016-11-11T12:34:26Z" (fractions of a second and an explicit +00:00 allowed), else None."""
    if not isinstance(text, str):
        return None
    match = re.match(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|\+00:00)$', text.strip())
    if not match:
        return None
    return calendar.timegm(time.strptime(match.group(1), '%Y-%m-%dT%H:%M:%S'))


def credential_fields(body, what):
    """(access key, secret, token, expires_at) of an STS-shaped answer; LookupError naming `what` otherwise."""
    if not isinstance(body, dict):
        raise LookupError('%s is not a JSON object' % what)
    found = (body.get('accessKeyId'), body.get('secretAccessKey'), body.get('sessionToken'), parse_expiration(body.get('expiration')))
    if not all(found):
        raise LookupError('%s has no accessKeyId, secretAccessKey, sessionToken or expiration' % what)
    return found


def metadata_credentials(context):
    endpoint = (context.settings.get('metadata_endpoint') or METADATA_ENDPOINT).rstrip('/')
    url = endpoint + METADATA_STS_PATH
    status, text = context.http('GET', url)
    if status == 404:
        raise credentials.CredentialsNotFound('the metadata service at %s has no IAM role for this instance (HTTP 404)' % endpoint)
    try:
        body = json.loads(text) if status == 200 else None
        key, secret, token, expires_at = credential_fields(body, 'the answer of %s' % url)
    except (ValueError, LookupError) as exc:
        raise credentials.CredentialsNotFound('%s' % exc if isinstance(exc, LookupError) else
                                              'the metadata service at %s gave no credentials (HTTP %s)' % (endpoint, status))
    return credentials.Credentials(key, secret, token, expires_at,
                                   source='the BCC instance role from the metadata service at %s' % endpoint)


def cli_profile_source(context):
    path = context.path('~/' + '/'.join(CLI_CONFIG_FILE))
    return _file_source(context, path, credentials.read_private_file(context, path, 'BCE CLI configuration'), read_cli_profile)


def legacy_credentials_source(context):
    given = context.settings.get('shared_credentials_file')
    path = context.path(given or '~/' + '/'.join(LEGACY_CREDENTIALS_FILE))
    text = credentials.read_private_file(context, path, 'BCE credentials file')
    # A shared_credentials_file may be the CLI's config.json kept elsewhere: told apart by its content.
    return _file_source(context, path, text, read_cli_profile if text.lstrip().startswith('{') else read_legacy_credentials)


def _file_source(context, path, text, reader):
    shown = context.shown(path)
    try:
        key, secret, token, name = reader(shown, text, context.settings.get('profile'))
    except LookupError as exc:
        raise credentials.CredentialsNotFound('%s' % exc)
    except CredentialFileError as exc:
        raise credentials.CredentialsError('%s' % exc)
    return credentials.Credentials(key, secret, token, source="profile '%s' in %s" % (name, shown))


def instance_role_source(context):
    if not context.settings.get('instance_role'):
        raise credentials.CredentialsNotFound('instance_role not set: the metadata service is not asked')
    return metadata_credentials(context)


cli_profile_source.label = 'the BCE CLI profile (~/%s)' % '/'.join(CLI_CONFIG_FILE)
legacy_credentials_source.label = 'the credentials file (~/%s or shared_credentials_file)' % '/'.join(LEGACY_CREDENTIALS_FILE)
instance_role_source.label = 'the BCC instance role (instance_role)'


def sts_request(base_url, account_id, role_name, duration, creds, clock=time.time):
    """POST /v1/credential?assumeRole&accountId=&durationSeconds=&roleName=, signed bce-auth-v1 like every call here."""
    now = int(clock())
    host = urlsplit(base_url).netloc
    params = [('accountId', account_id), ('assumeRole', None), ('durationSeconds', str(duration)), ('roleName', role_name)]
    headers = {'Host': host, 'x-bce-date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now)),
               'Content-Type': CONTENT_TYPE, 'Content-Length': '0'}
    if creds.token:
        headers['x-bce-security-token'] = creds.token
    signed = sorted(name.lower() for name in headers)
    headers['Authorization'] = bce_authorization(creds.access_key, creds.secret, 'POST', '/v1/credential', params, headers,
                                                 now, signed_headers=signed)
    query = '&'.join(uri_encode(k) if v is None else '%s=%s' % (uri_encode(k), uri_encode(v)) for k, v in params)
    return {'method': 'POST', 'url': base_url.rstrip('/') + '/v1/credential?' + query, 'headers': headers, 'data': b''}


def sts_answer(resp):
    try:
        body = resp.json()
    except ValueError:
        body = None
    request_id = resp.headers.get('x-bce-request-id')
    if 200 <= resp.status_code < 300:
        try:
            return credential_fields(body, 'the AssumeRole answer')
        except LookupError as exc:
            raise transport.ProviderError('baiducloud', 'AssumeRole', 'MalformedResponse', '%s' % exc, request_id,
                                          resp.status_code, transport.INVALID)
    if isinstance(body, dict) and body.get('code'):
        code, message = '%s' % body['code'], '%s' % body.get('message', '')
    else:
        code, message = 'HTTP%d' % resp.status_code, 'unexpected answer (%d bytes)' % len(resp.content or b'')
    raise transport.ProviderError('baiducloud', 'AssumeRole', code, message, request_id, resp.status_code,
                                  error_class(code, resp.status_code))


def sts_credentials(context, base, role):
    """The role's credentials from Baidu's STS AssumeRole, with base; CredentialsError naming the role and the code."""
    if role.get('external_id'):
        raise credentials.CredentialsError("assume_role.external_id: Baidu AI Cloud's AssumeRole takes no external ID; remove it")
    arn = role.get('role_arn') or ''
    matched = ROLE_NOTATION.match(arn)
    if not matched:
        raise credentials.CredentialsError('assume_role.role_arn %r: with Baidu AI Cloud, write <account ID>:<role name> '
                                           '(Baidu has no role ARN; AssumeRole takes the two)' % arn)
    endpoint = context.settings.get('sts_endpoint') or STS_ENDPOINT
    duration = role.get('duration') or STS_DURATION[1]
    try:
        found = context.transport.call(transport.Call(
            'AssumeRole', lambda: sts_request(endpoint, matched.group(1), matched.group(2), duration, base, context.clock),
            sts_answer))
    except transport.ProviderError as exc:
        raise credentials.CredentialsError('STS AssumeRole of %s at %s with %s failed: %s: %s'
                                           % (arn, endpoint, base.source, exc.code, exc.message))
    return credentials.Credentials(found[0], found[1], found[2], found[3], source='role %s assumed with %s' % (arn, base.source))


# Reference section 5: mixed case, 8 characters in older IDs, 12 in newer SG and ENI IDs.
INSTANCES = planner.TargetKind('instance_ids', 'instances', 'instance_id', r'i-[A-Za-z0-9]{8,}', 'instance')
NETWORK_INTERFACES = planner.TargetKind('network_interface_ids', 'network_interfaces', 'network_interface_id',
                                        r'eni-[A-Za-z0-9]{8,}', 'network interface')
# What differs per kind, as data. Instances: their batch size is set per run (write_api, batch_size).
# ENIs: only the whole-list update, one ENI a call (batch_size 0: no bind/unbind calls).
KIND_CONSTRAINTS = {
    'network_interface_ids': planner.Constraints(min_groups=1, max_groups=ENI_MAX_GROUPS, ordered=False, batch_size=0, set_batch_size=1),
}


class BaiduCloud:
    name = 'baiducloud'
    display_name = 'Baidu AI Cloud'
    target_kinds = (INSTANCES, NETWORK_INTERFACES)
    region_pattern = r'[a-z][a-z0-9-]*'     # goes into the host name: bj, gz, su, fwh, hkg, ...
    security_group_id_pattern = r'g-[A-Za-z0-9]{8,}'
    # 1 to 10 normal SGs per instance; one SG per bind/unbind call, on batch_size instances
    # (write_api=batch) or one (per_instance). No replace-the-list call is used (see docs of the
    # module): set_batch_size 0. Set per run in __init__, from the kind (KIND_CONSTRAINTS for ENIs).
    constraints = planner.Constraints(min_groups=1, max_groups=10, ordered=False, batch_size=1, set_batch_size=0)
    # Baidu documents no BCC rate limits [inferred default]: each action starts at
    # default_rate_limit calls per second and adapts to throttling answers (429).
    rate_limits = {}
    default_rate_limit = 10.0
    # The ENI update too: its page names no state to wait for, and the emulator applies it at once [inferred].
    completion = 'sync'
    # A batch call is all or nothing: these answers are caused by one of its instances (a quota, its last group, an
    # expired instance), so the engine halves the batch until that one is alone.
    per_target_errors = (transport.QUOTA, transport.CONFLICT)
    argument_spec = dict(
        # The aliases are the Baidu AI Cloud SDK's names.
        access_key=dict(type='str', no_log=False, aliases=['access_key_id'],
                        fallback=(env_fallback, ['BAIDUCLOUD_ACCESS_KEY', 'BCE_ACCESS_KEY_ID'])),
        secret_key=dict(type='str', no_log=True, aliases=['secret_access_key'],
                        fallback=(env_fallback, ['BAIDUCLOUD_SECRET_KEY', 'BCE_SECRET_ACCESS_KEY'])),
        security_token=dict(type='str', no_log=True,
                            fallback=(env_fallback, ['BAIDUCLOUD_SESSION_TOKEN', 'BCE_SECURITY_TOKEN'])),
        region=dict(type='str', required=True, fallback=(env_fallback, ['BAIDUCLOUD_REGION', 'BCE_REGION'])),
    )
    write_argument_spec = dict(
        write_api=dict(type='str', default='batch', choices=['batch', 'per_instance']),
        batch_size=dict(type='int', default=DEFAULT_BATCH_SIZE),
    )
    option_ranges = {'batch_size': (1, MAX_BATCH_SIZE)}

    # The filters ListInstances (GET /v2/instance, cloud.baidu.com/doc/BCC/s/Xjwvyodmx) applies: different parameters
    # AND, the comma-separated values of one OR. vpc_id is not among them: vpcId "may only be combined with privateIps".
    list_filters = (
        'tags',               # tags=key:value: one pair is sent (several would be ORed), the rest re-checked locally
        'name',               # instanceNames=<name>: exact ("精确搜索")
        'status',             # status=Running,Stopped: any of them (of the five values the page names; spelled as Baidu does)
        'security_group_id',  # securityGroupIds=<group>: instances that have it
    )

    # What each credential option is, in words every provider shares: how another provider's name for it is explained.
    credential_options = {'key ID': 'access_key', 'secret': 'secret_key', 'token': 'security_token'}
    credential_environment = CREDENTIAL_ENV
    credential_features = ('profile', 'shared_credentials_file', 'instance_role', 'assume_role', 'metadata_endpoint',
                           'sts_endpoint')      # no session policy: AssumeRole's accessControlList is not offered
    assume_role_duration = STS_DURATION

    @classmethod
    def credential_sources(cls, params, settings):
        """The options and the environment (the BCE CLI's variables among them), the BCE CLI's config.json, the older
        ~/.bce/credentials, the BCC instance role when instance_role is set (Baidu has no SDK default chain)."""
        return [credentials.options_source(cls, params), cli_profile_source, legacy_credentials_source, instance_role_source]

    @classmethod
    def assume_role(cls, context, base, role):
        return sts_credentials(context, base, role)
    # Records are kept on instances; an ENI holds none: its owner instance does.
    tag_limits = {'instance_ids': TAG_LIMITS, 'network_interface_ids': None}
    owner_kinds = {'network_interface_ids': 'instance_ids'}

    @classmethod
    def secrets(cls, params):
        return [params.get('secret_key'), params.get('security_token')]

    def __init__(self, params, conn, clock=time.time):
        self.params = params
        self.transport = conn
        self.clock = clock        # signing timestamps
        self.status = {}          # instance -> status, as last read
        self.enterprise = {}      # instance or ENI -> its enterprise security groups, as last read
        self.primary_eni = {}     # instance -> the ID of its primary ENI (nicInfo.eniId), as last read
        self.enis = {}            # ENI -> {'vpc', 'instance'}, as last read
        self.group_vpc = {}       # security group -> its VPC, as described
        self.tags = {}            # instance -> {key: value}, as last read (the quarantine record store)
        self.tag_pairs = {}       # instance -> [(key, value), ...] as read: a key may come twice [inferred]
        self.instance_vpc = {}    # instance -> its VPC, as last read
        self.kind = planner.chosen_kind(self.target_kinds, params)
        self.warnings = []
        self.batch = params.get('write_api', 'batch') == 'batch'
        self.batch_read = True    # until the endpoint answers that it has no listByInstanceId
        self.lock = threading.Lock()
        size = (params.get('batch_size') or DEFAULT_BATCH_SIZE) if self.batch else 1
        self.constraints = KIND_CONSTRAINTS.get(self.kind.option) or planner.Constraints(
            min_groups=1, max_groups=10, ordered=False, batch_size=size, set_batch_size=0)
        if params.get('endpoint'):
            self.base = params['endpoint'].rstrip('/')
        else:
            self.base = 'https://bcc.%s.baidubce.com' % params['region']
        self.host = urlsplit(self.base).netloc

    # -- requests -----------------------------------------------------------
    def build(self, method, path, params, payload):
        """A freshly signed request; every header sent is signed, and listed."""
        now = int(self.clock())
        headers = {'Host': self.host, 'x-bce-date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now))}
        if payload is not None:
            headers['Content-Type'] = CONTENT_TYPE
            headers['Content-Length'] = str(len(payload))
        creds = credentials.request_credentials(self.transport, self.params, type(self))
        if creds.token:
            headers['x-bce-security-token'] = creds.token
        signed = sorted(name.lower() for name in headers)
        headers['Authorization'] = bce_authorization(creds.access_key, creds.secret, method, path, params, headers, now,
                                                     signed_headers=signed)
        query = '&'.join(uri_encode(k) if v is None else '%s=%s' % (uri_encode(k), uri_encode(v)) for k, v in params)
        url = self.base + path + ('?' + query if query else '')
        return {'method': method, 'url': url, 'headers': headers, 'data': payload}

    def answer(self, action, resp):
        """(body, request ID) of a success; a ProviderError with code, message, request ID and status otherwise."""
        request_id = resp.headers.get('x-bce-request-id')
        if 200 <= resp.status_code < 300:
            if not resp.content:
                return {}, request_id
            try:
                body = resp.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                raise transport.ProviderError(self.name, action, 'MalformedResponse', 'unexpected answer: %s' % resp.text[:200],
                                              request_id, resp.status_code, transport.INVALID)
            return body, request_id
        try:
            body = resp.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get('code'):
            code, message = '%s' % body['code'], '%s' % body.get('message', '')
            request_id = body.get('requestId') or request_id
        else:
            code, message = 'HTTP%d' % resp.status_code, 'unexpected answer: %s' % (resp.text[:200] or '(empty)')
        if code == 'RequestExpired':
            message = '%s (%s)' % (message, CLOCK_HINT % self.display_name)
        cls = error_class(code, resp.status_code)
        raise transport.ProviderError(self.name, action, code, message, request_id, resp.status_code, cls,
                                      retry_after=transport.retry_after_seconds(resp.headers) if cls == transport.THROTTLED else None)

    def call(self, action, method, path, params=(), body=None, write=False, idempotent=False):
        params = list(params)
        payload = json.dumps(body).encode('utf-8') if body is not None else None
        return self.transport.call(transport.Call(action, lambda: self.build(method, path, params, payload),
                                                  lambda resp: self.answer(action, resp), write=write, idempotent=idempotent))

    def malformed(self, action, what, request_id):
        return transport.ProviderError(self.name, action, 'MalformedResponse', 'the answer has no %s' % what,
                                       request_id, 200, transport.INVALID)

    # -- the engine's interface --------------------------------------------
    def get_instance(self, instance_id):
        """(normal SG list, status) of one instance."""
        data, request_id = self.call('GetInstance', 'GET', instance_path(instance_id))
        instance = data.get('instance')
        nic = instance.get('nicInfo') if isinstance(instance, dict) else None
        groups = nic.get('securityGroups') if isinstance(nic, dict) else None
        if not isinstance(groups, list):
            raise self.malformed('GetInstance', 'instance.nicInfo.securityGroups list', request_id)
        self.note_enterprise_groups(instance_id, nic)
        self.note_instance(instance_id, instance, 'GetInstance', request_id, tags_required=False)
        return list(groups), instance.get('status')

    def note_instance(self, instance_id, instance, action, request_id, tags_required=True):
        """Remember the instance's VPC and tags. False when the answer has no ``tags`` and tags_required: then a GET
        reads them (an answer without them must never look like an instance without a record)."""
        self.instance_vpc[instance_id] = instance.get('vpcId') or (instance.get('nicInfo') or {}).get('vpcId') or ''
        tags = instance.get('tags')
        if tags is None:
            if tags_required:
                return False
            tags = []
        if not isinstance(tags, list) or not all(isinstance(t, dict) and isinstance(t.get('tagKey'), str) for t in tags):
            raise self.malformed(action, 'tags list of {tagKey, tagValue} for instance %s' % instance_id, request_id)
        pairs = [(t['tagKey'], '%s' % (t.get('tagValue') if t.get('tagValue') is not None else '')) for t in tags]
        with self.lock:
            self.tag_pairs[instance_id] = pairs
            self.tags[instance_id] = dict(pairs)
        return True

    def note_enterprise_groups(self, instance_id, nic):
        """Remember the instance's enterprise security groups (nicInfo.enterpriseSecurityGroups): not managed, but a purge must see them;
        and its primary ENI (nicInfo.eniId), which network_interface_ids refuses."""
        enterprise = nic.get('enterpriseSecurityGroups')
        self.enterprise[instance_id] = [g for g in enterprise if isinstance(g, str)] if isinstance(enterprise, list) else []
        self.primary_eni[instance_id] = nic.get('eniId')

    def read(self, ids):
        """(current, missing) of the chosen kind's targets."""
        if self.kind is NETWORK_INTERFACES:
            return self.read_enis(ids)
        return self.read_instances(ids)

    def note_eni(self, item, action, request_id):
        """The ENI's normal groups, from a GET or list answer; its VPC, instance, status and enterprise groups remembered."""
        groups = item.get('securityGroupIds')
        if not isinstance(groups, list):
            raise self.malformed(action, 'securityGroupIds list', request_id)
        eni_id = item.get('eniId')
        enterprise = item.get('enterpriseSecurityGroupIds')
        self.enterprise[eni_id] = [g for g in enterprise if isinstance(g, str)] if isinstance(enterprise, list) else []
        self.enis[eni_id] = {'vpc': item.get('vpcId') or '', 'instance': item.get('instanceId') or None}
        self.status[eni_id] = item.get('status')
        return list(groups)

    def read_enis(self, ids):
        """The ENIs' normal groups. GET /v1/eni/{id} of the first not yet read tells its VPC; when more are left,
        that VPC's list (GET /v1/eni?vpcId=, 1000 a page) gives every one of them in it. So n ENIs in one VPC
        take 2 + n/1000 calls; a missing one (NoSuchObject) costs its own GET."""
        current, missing, pending = {}, [], list(ids)
        while pending:
            eni_id = pending.pop(0)
            try:
                data, request_id = self.call('GetEni', 'GET', eni_path(eni_id))
            except transport.ProviderError as error:
                if error.error_class != transport.NOT_FOUND:
                    raise
                missing.append(eni_id)
                continue
            if data.get('eniId') != eni_id:
                raise self.malformed('GetEni', 'eniId %s' % eni_id, request_id)
            current[eni_id] = self.note_eni(data, 'GetEni', request_id)
            vpc = self.enis[eni_id]['vpc']
            if pending and vpc:
                for item in self.pages('ListEnis', '/v1/eni', [('vpcId', vpc)], 'enis'):
                    if item.get('eniId') in pending and item.get('eniId') not in current:
                        current[item['eniId']] = self.note_eni(item, 'ListEnis', None)
                pending = [tid for tid in pending if tid not in current]
        return current, missing

    def read_instances(self, ids):
        """The instances' normal SGs and tags, READ_BATCH instances per ListInstancesByIds call (max_concurrency
        calls at a time); an instance that call does not list, or lists without nicInfo.securityGroups or tags,
        is read with GET /v2/instance/{id}, which tells a missing one apart. A chunk the call refuses as
        not found (an unknown ID, or an endpoint answering its missing call so) is read with GETs too.
        Where the endpoint has no such call (UNSUPPORTED_CODES, or "not found" for a chunk whose
        instances all exist), every instance is read with the GET from then on."""
        current, leftover, refused = {}, list(ids), []
        if self.batch_read and ids:
            leftover = []
            chunks = [list(ids[start:start + READ_BATCH]) for start in range(0, len(ids), READ_BATCH)]
            results = self.transport.map(self.list_by_ids, chunks, self.params['max_concurrency'])
            for chunk, result in zip(chunks, results):
                if isinstance(result, transport.ProviderError) and (result.code in UNSUPPORTED_CODES or result.error_class == transport.NOT_FOUND):
                    if result.code in UNSUPPORTED_CODES:
                        self.batch_read = False
                    else:
                        refused.append(chunk)
                    leftover.extend(chunk)
                    continue
                if isinstance(result, BaseException):
                    raise result
                for instance_id in chunk:
                    if instance_id in result:
                        current[instance_id], self.status[instance_id] = result[instance_id]
                    else:
                        leftover.append(instance_id)
        wanted = set(leftover)
        found, missing = self.read_each([i for i in ids if i in wanted])
        current.update(found)
        if any(not set(chunk) & set(missing) for chunk in refused):
            self.batch_read = False
        return current, missing

    def list_by_ids(self, chunk):
        """{id: (SG list, status)} of the instances of chunk that ListInstancesByIds lists with their SGs."""
        out = {}
        for instance in self.pages('ListInstancesByIds', '/v2/instance/listByInstanceId', [], 'instances',
                                   method='POST', body={'instanceIds': chunk}, token=True):
            nic = instance.get('nicInfo')
            groups = nic.get('securityGroups') if isinstance(nic, dict) else None
            # Without its tags the instance is read with the GET, which has them.
            if instance.get('id') in chunk and isinstance(groups, list) and self.note_instance(instance['id'], instance, 'ListInstancesByIds', None):
                out[instance['id']] = (list(groups), instance.get('status'))
                self.note_enterprise_groups(instance['id'], nic)
        return out

    def read_each(self, ids):
        """One GET per instance, max_concurrency at a time. After the first error that is not
        "not found" (a wrong key, say), the reads not yet sent are not sent."""
        fatal = []

        def one(instance_id):
            if fatal:
                raise fatal[0]
            try:
                return self.get_instance(instance_id)
            except transport.ProviderError as error:
                if error.error_class != transport.NOT_FOUND:
                    fatal.append(error)
                raise

        results = self.transport.map(one, ids, self.params['max_concurrency'])
        if fatal:
            raise fatal[0]
        current, missing = {}, []
        for instance_id, result in zip(ids, results):
            if isinstance(result, transport.ProviderError):
                missing.append(instance_id)
            elif isinstance(result, BaseException):
                raise result
            else:
                current[instance_id], self.status[instance_id] = result
        return current, missing

    def refusals(self, targets):
        """What Baidu AI Cloud is known to refuse, from the reads."""
        if self.kind is NETWORK_INTERFACES:
            return self.eni_refusals(targets)
        return self.instance_refusals(targets)

    def eni_refusals(self, targets):
        """For an ENI that changes: the primary ENI of its instance (nicInfo.eniId, read with the instances, 100 a
        call), whose groups are the instance's; enterprise groups on it, which the update removes; a group
        added from another VPC."""
        changing = [t for t in targets if t['before'] != t['after']]
        owners = sorted(set(self.enis[t['target_id']]['instance'] for t in changing if self.enis[t['target_id']]['instance']))
        if owners:
            self.read_instances(owners)
        refused = []
        for target in changing:
            tid = target['target_id']
            info = self.enis[tid]
            if info['instance'] and self.primary_eni.get(info['instance']) == tid:
                refused.append((tid, 'is the primary network interface of instance %s: its security groups are the instance\'s; '
                                     'use instance_ids: [%s] instead' % (info['instance'], info['instance'])))
                continue
            if self.enterprise.get(tid):
                refused.append((tid, 'has enterprise security groups (%s), which %s\'s update of an ENI\'s normal security groups '
                                     'would remove; switch it to normal security groups first (PUT /v1/eni/{eniId}?bindSg '
                                     'with the whole list, or the console), or leave it to the enterprise groups'
                                % (', '.join(self.enterprise[tid]), self.display_name)))
                continue
            for sg in target['added']:
                vpc = self.group_vpc.get(sg)
                if vpc and info['vpc'] and vpc != info['vpc']:
                    refused.append((tid, 'is in VPC %s, and security group %s is in %s; an ENI takes only groups of its own VPC '
                                         '(InstanceBindNoSameVpcException)' % (info['vpc'], sg, vpc)))
        return refused

    def instance_refusals(self, targets):
        """Expired instances cannot have SGs bound (SecurityGroup.ExpiredInstanceForbiddenBind); unbinding is allowed.
        A purge cannot leave an instance with exactly the given groups while it has enterprise security groups,
        which this module neither changes nor lists among its groups."""
        refused = [(t['target_id'], 'is Expired, and %s refuses to bind security groups to an expired instance '
                                    '(SecurityGroup.ExpiredInstanceForbiddenBind); renew it first' % self.display_name)
                   for t in targets if t['added'] and self.status.get(t['target_id']) == 'Expired']
        if self.params.get('purge') and self.params.get('state', 'present') == 'present':
            refused.extend((t['target_id'], 'has enterprise security groups (%s), which this module neither reads as its groups nor '
                                            'changes, so purge=true cannot leave it with exactly security_group_ids; switch it to '
                                            'normal security groups first (%s\'s PUT /v2/securitygroup/replace with '
                                            'securityGroupType normal, or the console), or leave purge off'
                                            % (', '.join(self.enterprise[t['target_id']]), self.display_name))
                           for t in targets if self.enterprise.get(t['target_id']))
        return refused

    def pages(self, action, path, params, key, method='GET', body=None, token=False, each=None):
        """Every item of a marker-paged list (maxKeys at its maximum), page after page. token: send a
        clientToken, as the SDK does on calls that take one (on a read it changes nothing). each: what to keep of an
        item, made as its page arrives (a page's raw answer is then let go)."""
        items, marker = [], None
        while True:
            query = ([('clientToken', client_token())] if token else []) + list(params) + [('maxKeys', str(LIST_PAGE))]
            query += [('marker', marker)] if marker else []
            data, request_id = self.call(action, method, path, query, body)
            page = data.get(key)
            if not isinstance(page, list):
                raise self.malformed(action, '%s list' % key, request_id)
            items.extend((each or (lambda item: item))(item) for item in page if isinstance(item, dict))
            next_marker = data.get('nextMarker')
            if not data.get('isTruncated') or not next_marker:
                return items
            if next_marker == marker:
                raise self.malformed(action, 'new nextMarker (the same page came back)', request_id)
            marker = next_marker

    # -- listing ------------------------------------------------------------
    @staticmethod
    def list_params(filters):
        """ListInstances' query for the filters it takes: what cannot be sent exactly is left to the local check.

        tags: one key:value pair (several are ORed by the call), never a key alone, whose meaning (any value, or an
        empty one) is not documented [inferred]; status: only when every one is among LIST_STATUSES, spelled as Baidu does."""
        def sendable(text):
            return not any(sep in text for sep in LIST_SEPARATORS)

        params = []
        pairs = [(k, v) for k, v in (filters.get('tags') or {}).items() if v is not None and sendable(k) and sendable(v)]
        if pairs:
            params.append(('tags', '%s:%s' % pairs[0]))
        if filters.get('name') and ',' not in filters['name']:
            params.append(('instanceNames', filters['name']))
        spelled = dict((s.lower(), s) for s in LIST_STATUSES)
        statuses = filters.get('status') or []
        if statuses and all(s.lower() in spelled for s in statuses):
            params.append(('status', ','.join(dict.fromkeys(spelled[s.lower()] for s in statuses))))
        if filters.get('security_group_id'):
            params.append(('securityGroupIds', filters['security_group_id']))
        return params

    def list_instances(self, filters):
        """Every instance of the region passing the pushed filters: ListInstances, 1000 a page (its maximum), marker to
        marker. Only the primary NIC comes with the answer (its groups are the instance's): no network_interfaces."""
        return self.pages('ListInstances', '/v2/instance', self.list_params(filters), 'instances', each=self.listed)

    def listed(self, item):
        """One ListInstances item as the listing gives it."""
        # An instance without a NIC yet (being created, failed) has no groups: one such must not stop the listing.
        nic = item.get('nicInfo') if isinstance(item.get('nicInfo'), dict) else {}
        groups = nic.get('securityGroups') if nic.get('securityGroups') is not None else []
        tags = item.get('tags') or []
        if not item.get('id') or not isinstance(groups, list) or not isinstance(tags, list):
            raise self.malformed('ListInstances', 'id, nicInfo.securityGroups and tags list for each instance', None)
        ips = [ip for ip in nic.get('ips') or [] if isinstance(ip, dict)]
        return {
            'instance_id': item['id'], 'instance_name': item.get('name'), 'status': item.get('status'),
            'vpc_id': item.get('vpcId') or nic.get('vpcId') or None,
            'private_ips': _present([item.get('internalIp')] + [ip.get('privateIp') for ip in ips]),
            'public_ips': _present([item.get('publicIp')] + [ip.get('eip') for ip in ips]),
            'tags': dict((t.get('tagKey'), '%s' % (t.get('tagValue') if t.get('tagValue') is not None else ''))
                         for t in tags if isinstance(t, dict) and t.get('tagKey')),
            'security_group_ids': list(groups), 'region': self.params['region'], 'kind': 'instance'}

    def describe_security_groups(self, sg_ids):
        """{id: {'name'}} of those that exist: ListSecurityGroups filtered by securityGroupIds, one call per 1000."""
        groups = self.pages('ListSecurityGroups', '/v2/securityGroup', [('securityGroupIds', ','.join(sg_ids))], 'securityGroups')
        found = dict((g.get('id'), {'name': g.get('name'), 'vpc': g.get('vpcId') or ''}) for g in groups if g.get('id') in sg_ids)
        self.group_vpc.update((sg, info['vpc']) for sg, info in found.items())
        return found

    def missing_security_groups(self, sg_ids):
        found = self.describe_security_groups(sg_ids)
        return [sg for sg in sg_ids if sg not in found]

    def bound_targets(self, sg_ids):
        """{group: [instance, ...]}: ListInstances filtered by securityGroupIds, 1000 instances a call.
        ENIs: the VPC list has no group filter, so each VPC of the groups (ListSecurityGroups) is listed whole."""
        if self.kind is NETWORK_INTERFACES:
            return self.bound_enis(sg_ids)
        instances = self.pages('ListInstances', '/v2/instance', [('securityGroupIds', ','.join(sg_ids))], 'instances')
        bound = dict((sg, []) for sg in sg_ids)
        for instance in instances:
            nic = instance.get('nicInfo') if isinstance(instance.get('nicInfo'), dict) else {}
            for sg in nic.get('securityGroups') or []:
                if sg in bound and instance.get('id') not in bound[sg]:
                    bound[sg].append(instance.get('id'))
        return bound

    def bound_enis(self, sg_ids):
        bound = dict((sg, []) for sg in sg_ids)
        vpcs = sorted(set(info['vpc'] for info in self.describe_security_groups(list(sg_ids)).values() if info['vpc']))
        for vpc in vpcs:
            for item in self.pages('ListEnis', '/v1/eni', [('vpcId', vpc)], 'enis'):
                for sg in item.get('securityGroupIds') or []:
                    if sg in bound and item.get('eniId') not in bound[sg]:
                        bound[sg].append(item.get('eniId'))
        return bound

    def apply(self, op):
        """One planned operation: one batch call (write_api=batch), else one call per instance; for an ENI, its update."""
        if op['action'] == 'set':
            return [self.update_eni(op['target_ids'][0], op['security_group_ids'])]
        if self.batch:
            try:
                return [self.apply_batch(op)]
            except transport.ProviderError as error:
                if not self.batch_api_missing(error, op):
                    raise
                with self.lock:
                    if self.batch:
                        self.batch = False
                        self.warnings.append('%s answered the batch %s call with %s (HTTP %s, request ID %s): this endpoint has no '
                                             'batch API; the per-instance calls were used instead (write_api=per_instance '
                                             'skips the attempt)' % (self.display_name, error.action, error.code,
                                                                     error.http_status, error.request_id or 'none'))
        request_ids, applied, failed = [], [], None
        for tid in op['target_ids']:
            try:
                request_ids.append(self.apply_one(op['action'], tid, op['security_group_ids'][0]))
                applied.append(tid)
            except transport.ProviderError as error:
                failed = failed or error
                if error.error_class not in self.per_target_errors:
                    break
        if failed is not None:
            # What went through is reported with the failure, which names only the instances that failed.
            failed.applied_target_ids = applied
            failed.request_ids = request_ids
            raise failed
        return request_ids

    def batch_api_missing(self, error, op):
        """Whether a batch call's error says the endpoint has no batch API (nothing was applied: the call is
        all or nothing) rather than that one of its instances or groups is gone."""
        if error.code in UNSUPPORTED_CODES:
            return True
        if error.code not in AMBIGUOUS_MISSING_CODES:
            return False
        dummy, missing = self.read_each(list(op['target_ids']))
        return not missing and not self.missing_security_groups(list(op['security_group_ids']))

    def apply_batch(self, op):
        """PUT /v2/securitygroup/{bind,unbind}?clientToken=T, all or nothing. T is made once here, so a
        retry (after a dropped answer, a 5xx) re-sends the same request: BCE answers a token it has seen
        with the same parameters without applying it twice, so the retry is safe."""
        action = {'bind': 'BatchBindSecurityGroup', 'unbind': 'BatchUnbindSecurityGroup'}[op['action']]
        body = {'instanceIds': list(op['target_ids']), 'securityGroupIds': list(op['security_group_ids']), 'securityGroupType': 'normal'}
        data, request_id = self.call(action, 'PUT', '/v2/securitygroup/' + op['action'], [('clientToken', client_token())],
                                     body, write=True, idempotent=True)
        return request_id or data.get('requestId')

    def update_eni(self, eni_id, sg_ids):
        """PUT /v1/eni/{id}?bindSg&clientToken=T with the whole list, synchronous. T is made once here, so the
        transport's retry of a lost answer re-sends the same request, which BCE does not apply twice."""
        data, request_id = self.call('UpdateEniSecurityGroups', 'PUT', eni_path(eni_id), [('bindSg', None), ('clientToken', client_token())],
                                     {'securityGroupIds': list(sg_ids)}, write=True, idempotent=True)
        return request_id or data.get('requestId')

    def apply_one(self, action, instance_id, sg_id):
        name = {'bind': 'BindSecurityGroup', 'unbind': 'UnbindSecurityGroup'}[action]
        dummy, request_id = self.call(name, 'PUT', instance_path(instance_id), [(action, None)], {'securityGroupId': sg_id}, write=True)
        return request_id

    # -- the quarantine record store: instance tags ----------------------------
    def check_tags(self, action, target_id, pairs):
        """Refuse, before any request, a key or value the declared limits do not allow, naming the instance."""
        limits = TAG_LIMITS
        for key, value in pairs:
            for what, text, most, chars in (('key', key, limits.max_key_len, limits.key_chars),
                                            ('value', value, limits.max_value_len, limits.value_chars)):
                bad = sorted(set(c for c in text if not re.match(chars, c)))
                if len(text) > most or bad or (what == 'key' and not text):
                    raise transport.ProviderError(
                        self.name, action, 'InvalidTag', 'instance %s: tag %s %r is not one %s takes (1 to %d characters of %s%s)'
                        % (target_id, what, text, self.display_name, most, chars, '; not: ' + ''.join(bad) if bad else ''),
                        error_class=transport.INVALID)

    def change_tags(self, action, target_id, pairs):
        """PUT /v2/instance/{id}/tag?bind or ?unbind with the pairs; no clientToken (none documented). Binding a pair the
        instance has, or unbinding one it lacks, changes nothing [inferred], so a retry is safe."""
        name = {'bind': 'BindInstanceTags', 'unbind': 'UnbindInstanceTags'}[action]
        data, request_id = self.call(name, 'PUT', instance_path(target_id) + '/tag', [(action, None)],
                                     {'changeTags': [{'tagKey': k, 'tagValue': v} for k, v in pairs]}, write=True, idempotent=True)
        return request_id or data.get('requestId')

    def write_tags(self, target_id, tags):
        """Add or overwrite these keys on one instance: one bind call; a key the instance has with another value is
        unbound first (one more call), as BCC may keep both values of a key [inferred]. Returns the request IDs."""
        pairs = [(k, '%s' % v) for k, v in tags.items()]
        self.check_tags('BindInstanceTags', target_id, pairs)
        if target_id not in self.tag_pairs:
            self.read_instances([target_id])
        if target_id not in self.tag_pairs:
            raise transport.ProviderError(self.name, 'GetInstance', 'NoSuchObject', 'instance %s does not exist' % target_id,
                                          error_class=transport.NOT_FOUND)
        have = self.tag_pairs[target_id]
        stale = [(k, v) for k, v in have if k in tags and (k, '%s' % tags[k]) != (k, v)]
        new = [p for p in pairs if p not in have]
        request_ids = []
        if stale:
            request_ids.append(self.change_tags('unbind', target_id, stale))
        if new:
            request_ids.append(self.change_tags('bind', target_id, new))
        with self.lock:
            kept = [p for p in have if p not in stale]
            self.tag_pairs[target_id] = kept + [p for p in new if p not in kept]
            self.tags[target_id] = dict(self.tag_pairs[target_id])
        return request_ids

    def remove_tags(self, target_id, keys):
        """Remove these keys from one instance: one unbind call naming each key with the value(s) it has (the call takes
        pairs); keys it does not have are not sent, and none left means no call. Returns the request IDs."""
        keys = set(keys)
        if target_id not in self.tag_pairs:
            self.read_instances([target_id])
        gone = [p for p in self.tag_pairs.get(target_id, []) if p[0] in keys]
        if not gone:
            return []
        request_id = self.change_tags('unbind', target_id, gone)
        with self.lock:
            self.tag_pairs[target_id] = [p for p in self.tag_pairs[target_id] if p not in gone]
            self.tags[target_id] = dict(self.tag_pairs[target_id])
        return [request_id]

    # -- every interface of an instance ----------------------------------------
    def attached_interfaces(self, instance_ids):
        """{instance: [{'network_interface_id', 'security_group_ids'}, ...]}: the ENIs attached to each instance besides
        its primary one (nicInfo.eniId, whose groups are the instance's), with their normal groups in order (an ENI with
        enterprise groups lists its normal ones, maybe none: changing it is refused by the ENI kind, naming them).
        Calls: the instances not read yet are read (100 a call); then per VPC, its list (GET /v1/eni?vpcId=, a call per
        1000 ENIs) when ENI_VPC_LIST_MIN_INSTANCES or more of its instances are asked, else one filtered list per
        instance (?vpcId=&instanceId=); an instance whose VPC is not known: GET /v2/eni/{instanceId}. A missing
        instance is left out."""
        ids = list(dict.fromkeys(instance_ids))
        unread = [i for i in ids if i not in self.primary_eni]
        if unread:
            self.read_instances(unread)
        ids = [i for i in ids if i in self.primary_eni]
        by_vpc = {}
        for iid in ids:
            by_vpc.setdefault(self.instance_vpc.get(iid) or '', []).append(iid)
        found = dict((iid, []) for iid in ids)

        def collect(items, action):
            for item in items:
                owner = item.get('instanceId')
                if owner in found and item.get('eniId') and item['eniId'] != self.primary_eni.get(owner):
                    groups = self.note_eni(item, action, None)
                    if item['eniId'] not in [e['network_interface_id'] for e in found[owner]]:
                        found[owner].append({'network_interface_id': item['eniId'], 'security_group_ids': groups})

        jobs = []
        for vpc, members in sorted(by_vpc.items()):
            if not vpc:
                jobs.extend(('instance', iid) for iid in members)
            elif len(members) >= ENI_VPC_LIST_MIN_INSTANCES:
                jobs.append(('vpc', vpc))
            else:
                jobs.extend(('filtered', iid) for iid in members)

        def run(job):
            how, what = job
            if how == 'vpc':
                return self.pages('ListEnis', '/v1/eni', [('vpcId', what)], 'enis'), 'ListEnis'
            if how == 'filtered':
                return self.pages('ListEnis', '/v1/eni', [('vpcId', self.instance_vpc[what]), ('instanceId', what)], 'enis'), 'ListEnis'
            data, request_id = self.call('ListInstanceEnis', 'GET', '/v2/eni/' + uri_encode(what), [('clientToken', client_token())])
            enis = data.get('enis')
            if not isinstance(enis, list):
                raise self.malformed('ListInstanceEnis', 'enis list', request_id)
            # This list answers for one instance: an item naming no instance is that one's.
            return [dict(e, instanceId=e.get('instanceId') or what) for e in enis if isinstance(e, dict)], 'ListInstanceEnis'

        for result in self.transport.map(run, jobs, self.params['max_concurrency']):
            if isinstance(result, BaseException):
                raise result
            collect(*result)
        return found

    def interface_owner(self, interface_ids):
        """{ENI: its instance or None}, from the ENI reads already done (none made here): an ENI not read is None."""
        return dict((eni, (self.enis.get(eni) or {}).get('instance') or None) for eni in interface_ids)
