# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Baidu AI Cloud BCC (API v2): binding normal security groups to instances.

Signatures are bce-auth-v1, verified from the raw request in both the Python
SDK form (empty signed-header list: the defaults plus every x-bce-* header)
and the Go SDK form (an explicit list). See docs/emulator.md for the served
actions, settings and the assumptions made where Baidu documents nothing.
"""

import calendar
import copy
import hashlib
import hmac
import json
import re
import time
import urllib.parse
import uuid

from .core import ApiError, Cloud, Grants, Response, SettingsError, check_entry

CONTENT_TYPE = 'application/json;charset=UTF-8'
AUTH_VERSION = 'bce-auth-v1'
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
# Headers signed when the Authorization header names none (besides every x-bce-* header).
DEFAULT_SIGNED_HEADERS = ('host', 'content-length', 'content-type', 'content-md5')
UNRESERVED = frozenset(b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~')
INSTANCE_STATUSES = ('Running', 'Starting', 'Stopping', 'Stopped', 'Deleted', 'Scaling', 'Expired', 'Error',
                     'SnapshotProcessing', 'ImageProcessing', 'ChangeVpc', 'Recycled', 'Restarting',
                     'Reinstalling', 'Deleting', 'Failed')
SG_TYPES = ('normal', 'enterprise')
CLIENT_TOKEN_TTL_S = 24 * 3600      # BCE keeps a clientToken 24 h after it last saw it
CLIENT_TOKEN_MAX = 64               # ASCII characters
BATCH_ACTIONS = {'bind': 'BatchBindSecurityGroup', 'unbind': 'BatchUnbindSecurityGroup', 'replace': 'ReplaceSecurityGroups'}
CREATED_TIME = '2024-01-01T00:00:00Z'
ENI_STATUSES = ('available', 'inuse', 'attaching', 'detaching')   # GET /v1/eni/{eniId}'s documented values


# -- bce-auth-v1 pieces (public so the tests can check them against the SDK's vectors) --------

def uri_encode(value, keep_slash=False):
    """Baidu's UriEncode: unreserved bytes as is, everything else %XX (upper case)."""
    if not isinstance(value, bytes):
        value = value.encode('utf-8')
    out = []
    for byte in bytearray(value):
        if byte in UNRESERVED or (keep_slash and byte == 0x2f):
            out.append(chr(byte))
        else:
            out.append('%%%02X' % byte)
    return ''.join(out)


def canonical_query(raw_query):
    """``k=v`` pairs re-encoded and sorted; a key without a value is ``k=``; no ``authorization``."""
    items = []
    for item in raw_query.split('&') if raw_query else []:
        if not item:
            continue
        key, _sep, value = item.partition('=')
        key = urllib.parse.unquote_to_bytes(key)
        if key.lower() == b'authorization':
            continue
        items.append(uri_encode(key) + '=' + uri_encode(urllib.parse.unquote_to_bytes(value)))
    return '&'.join(sorted(items))


def canonical_headers(headers, signed_headers):
    """The signed header lines. ``headers``: (name, value) pairs; ``signed_headers``: names, or empty for the defaults."""
    wanted = set(name.lower() for name in signed_headers)
    lines = {}
    for name, value in headers:
        name = name.strip().lower()
        value = value.strip()
        if not value or name in lines:
            continue
        if (name in wanted) if wanted else (name in DEFAULT_SIGNED_HEADERS or name.startswith('x-bce-')):
            lines[name] = uri_encode(name) + ':' + uri_encode(value)
    return '\n'.join(sorted(lines.values()))


def canonical_request(method, canonical_uri, raw_query, headers, signed_headers):
    return '\n'.join((method.upper(), canonical_uri, canonical_query(raw_query),
                      canonical_headers(headers, signed_headers)))


def signing_key(secret_key, auth_prefix):
    """The hex string of HMAC-SHA256(SK, 'bce-auth-v1/{ak}/{ts}/{exp}'): the key of the next step."""
    return hmac.new(secret_key.encode('utf-8'), auth_prefix.encode('utf-8'), hashlib.sha256).hexdigest()


def signature(secret_key, auth_prefix, canonical):
    key = signing_key(secret_key, auth_prefix)
    return hmac.new(key.encode('ascii'), canonical.encode('utf-8'), hashlib.sha256).hexdigest()


def canonical_uris(raw_path):
    """The canonical URIs a genuine client may have signed.

    The documented one is UriEncodeExceptSlash of the decoded path (what the Go SDK
    signs). The Python SDK signs the path bytes it sends, unencoded; for real ids
    both are the same string.
    """
    documented = uri_encode(urllib.parse.unquote_to_bytes(raw_path or '/'), keep_slash=True)
    if not documented.startswith('/'):
        documented = '/' + documented
    return [documented] if raw_path == documented else [documented, raw_path]


AUTH_RE = re.compile(r'^bce-auth-v1/([^/]+)/(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)/(\d+)/([a-z0-9;\-_.]*)/([0-9a-f]{64})$')


def parse_authorization(value):
    """(access_key, timestamp, expiration_s, [signed headers], signature), or None when malformed."""
    match = AUTH_RE.match((value or '').strip())
    if not match:
        return None
    access_key, stamp, expiration, signed, sig = match.groups()
    return access_key, stamp, int(expiration), [h for h in signed.split(';') if h], sig


def parse_time(stamp):
    try:
        return calendar.timegm(time.strptime(stamp, TIME_FORMAT))
    except ValueError:
        return None


def seed_tags(tags, where):
    """An instance's tags as [[key, value], ...]: seeded as a mapping, or as [{key, value}] (a key may repeat)."""
    if tags is None:
        return []
    if isinstance(tags, dict):
        tags = [{'key': k, 'value': v} for k, v in tags.items()]
    if not isinstance(tags, list) or not all(isinstance(t, dict) and set(t) == {'key', 'value'} and isinstance(t['key'], str)
                                             and isinstance(t['value'], str) for t in tags):
        raise SettingsError('%s: tags must be a mapping of strings or a list of {key, value} strings' % where)
    return [[t['key'], t['value']] for t in tags]


# -- the cloud -----------------------------------------------------------------------------------

def not_found(what, ident):
    return ApiError(404, 'NoSuchObject', 'The specified object is not found or resource do not exist. %s %s' % (what, ident))


def route(method, raw_path, query_keys):
    """(action, resource id or None). Path segments are split before decoding, so an
    encoded '/' stays inside an id and can never reach another resource."""
    parts = raw_path.split('/')
    if len(parts) >= 3 and parts[:3] == ['', 'v1', 'eni']:
        return route_eni(method, parts[3:], query_keys)
    if len(parts) < 3 or parts[0] != '' or parts[1] != 'v2':
        return 'Unknown', None
    parts = parts[2:]
    ident = urllib.parse.unquote(parts[1]) if len(parts) == 2 else None
    if parts == ['instance', 'listByInstanceId'] and method == 'POST':
        return 'ListInstancesByIds', None
    if len(parts) == 3 and parts[0] == 'instance' and parts[1] and parts[2] == 'tag' and method == 'PUT' \
            and ('bind' in query_keys) != ('unbind' in query_keys):
        return ('BindInstanceTags' if 'bind' in query_keys else 'UnbindInstanceTags'), urllib.parse.unquote(parts[1])
    if len(parts) == 2 and parts[0] == 'eni' and parts[1] and method == 'GET':
        return 'ListInstanceEnis', ident
    if len(parts) == 2 and parts[0] == 'instance' and parts[1]:
        if method == 'GET':
            return 'GetInstance', ident
        if method == 'PUT' and ('bind' in query_keys) != ('unbind' in query_keys):
            return ('BindSecurityGroup' if 'bind' in query_keys else 'UnbindSecurityGroup'), ident
    if parts == ['instance'] and method == 'GET':
        return 'ListInstances', None
    if parts == ['securityGroup'] and method == 'GET':
        return 'ListSecurityGroups', None
    if len(parts) == 2 and parts[0] == 'securityGroup' and parts[1] and method == 'GET':
        return 'GetSecurityGroup', ident
    if len(parts) == 2 and parts[0] == 'securitygroup' and parts[1] in BATCH_ACTIONS and method == 'PUT':
        return BATCH_ACTIONS[parts[1]], None
    return 'Unknown', None


def route_eni(method, parts, query_keys):
    """The VPC API's ENI calls under /v1/eni."""
    if not parts and method == 'GET':
        return 'ListEnis', None
    if len(parts) == 1 and parts[0]:
        ident = urllib.parse.unquote(parts[0])
        if method == 'GET':
            return 'GetEni', ident
        if method == 'PUT' and 'bindSg' in query_keys:
            return 'UpdateEniSecurityGroups', ident
    return 'Unknown', None


# -- IAM policies: the ACL syntax {"accessControlList": [{service, region, effect, permission, resource}]} -------------
# [inferred] Which permission of which service each call needs: BCC's and VPC's IAM pages name READ (read-only), OPERATE
# (operations) and FULL_CONTROL per service, not per API; the reads are taken as READ, the writes as OPERATE, ENIs as VPC's.
ACL_PERMISSIONS = {
    'GetInstance': ('bce:bcc', 'READ'), 'ListInstances': ('bce:bcc', 'READ'), 'ListInstancesByIds': ('bce:bcc', 'READ'),
    'ListSecurityGroups': ('bce:bcc', 'READ'), 'GetSecurityGroup': ('bce:bcc', 'READ'), 'ListInstanceEnis': ('bce:bcc', 'READ'),
    'BindSecurityGroup': ('bce:bcc', 'OPERATE'), 'UnbindSecurityGroup': ('bce:bcc', 'OPERATE'),
    'BatchBindSecurityGroup': ('bce:bcc', 'OPERATE'), 'BatchUnbindSecurityGroup': ('bce:bcc', 'OPERATE'),
    'ReplaceSecurityGroups': ('bce:bcc', 'OPERATE'), 'BindInstanceTags': ('bce:bcc', 'OPERATE'),
    'UnbindInstanceTags': ('bce:bcc', 'OPERATE'),
    'GetEni': ('bce:vpc', 'READ'), 'ListEnis': ('bce:vpc', 'READ'), 'UpdateEniSecurityGroups': ('bce:vpc', 'OPERATE'),
}
ACL_PERMISSION_NAMES = ('READ', 'OPERATE', 'FULL_CONTROL')


# -- credentials: the BCC metadata service and STS AssumeRole (issue 25) -----------------------------------------
# STS on this cloud's port (point sts_endpoint at it), the metadata service on a port of its own (``baiducloud_metadata``).
# The answer fields are STS' Credential (bce-sdk-go services/sts/api); the metadata answer's shape and the expired-token code are [inferred] (docs/emulator.md).
METADATA_STS_PATH = '/latest/meta-data/sts-credential'


def _iso(epoch):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(epoch))


class CredentialServices(object):
    """The metadata service and STS of the emulated Baidu AI Cloud, mixed into BaiduCloud."""

    credential_settings = {
        'temporary_credentials_ttl_s': 3600,     # lifetime of what the metadata service hands out; STS: min(durationSeconds, this)
        'expired_token_code': 'InvalidSessionToken',    # [inferred] the answer to an expired session token (403)
    }

    def reset_credential_services(self):
        self.roles = {}       # role name -> {'name', 'account_id', 'instance', 'trusted'}
        self.issued = {}      # temporary access key -> {'access_key', 'secret_key', 'security_token', 'expires_at'}

    def seed_roles(self, data):
        for where, entry in self.seed_entries(data, 'iam_roles'):
            check_entry(entry, where, ('name',), ('account_id', 'instance', 'trusted_access_keys'), strings=('name', 'account_id'))
            trusted = entry.get('trusted_access_keys')
            if trusted is not None and not (isinstance(trusted, list) and all(isinstance(k, str) for k in trusted)):
                raise SettingsError('%s: trusted_access_keys must be a list of access keys' % where)
            self.roles[entry['name']] = {'name': entry['name'], 'account_id': entry.get('account_id', 'dc9b5191440d4f93851ddffb4e942b75'),
                                         'instance': bool(entry.get('instance')), 'trusted': trusted}
        if len([r for r in self.roles.values() if r['instance']]) > 1:
            raise SettingsError('baiducloud iam_roles: a BCC instance has at most one IAM role (instance: true)')

    def issue(self, lifetime):
        key = uuid.uuid4().hex
        entry = {'access_key': key, 'secret_key': uuid.uuid4().hex, 'security_token': 'ZjQ' + uuid.uuid4().hex * 3,
                 'created': self.now(), 'expires_at': int(self.now() + lifetime)}
        self.issued[key] = entry
        return entry

    def credential_model(self, entry):
        return {'accessKeyId': entry['access_key'], 'secretAccessKey': entry['secret_key'], 'sessionToken': entry['security_token'],
                'createTime': _iso(entry['created']), 'expiration': _iso(entry['expires_at'])}

    def check_expiry(self, access_key):
        entry = self.issued.get(access_key)
        if entry is not None and self.now() >= entry['expires_at']:
            raise ApiError(403, self.settings['expired_token_code'], 'The session token has expired.')

    def metadata(self, request):
        """The metadata service, on its own port (core: ``baiducloud_metadata``)."""
        action = 'MetadataStsCredential' if request.path == METADATA_STS_PATH and request.method == 'GET' else None
        role = next((r for r in self.roles.values() if r['instance']), None)
        if action != 'MetadataStsCredential' or role is None:
            return Response(404, b'Not Found', 'text/plain', error_code='HTTP404')
        entry = self.issue(float(self.settings['temporary_credentials_ttl_s']))
        return Response.json(200, self.credential_model(entry))

    def assume_role(self, request, caller):
        query = dict(request.query_pairs())
        account, name = query.get('accountId'), query.get('roleName')
        if not account or not name:
            raise ApiError(400, 'InvalidParameter', 'accountId and roleName are required.')
        duration = query.get('durationSeconds') or '7200'
        if not duration.isdigit() or not 0 < int(duration) <= 7200:
            raise ApiError(400, 'InvalidParameter', 'durationSeconds must be at most 7200.')
        role = self.roles.get(name)
        if role is None or role['account_id'] != account:
            raise ApiError(404, 'NoSuchObject', 'The role does not exist.')
        if role['trusted'] is not None and caller not in role['trusted']:
            raise ApiError(403, 'AccessDenied', 'Access denied.')
        entry = self.issue(min(int(duration), float(self.settings['temporary_credentials_ttl_s'])))
        return dict(self.credential_model(entry), userId=caller, roleId=name)


class BaiduCloud(CredentialServices, Cloud):
    name = 'baiducloud'
    default_settings = {
        'timestamp_window_s': 1800,                 # allowed skew of x-bce-date and the auth timestamp
        'max_security_groups_per_instance': 10,     # documented limit (413 BindInstanceExceededLimit)
        'duplicate_bind': 'noop',                   # 'noop' (200) or 'error' (400 SecurityGroup.AlreadyBound)
        'unbind_not_bound': 'noop',                 # 'noop' (200) or 'error' (400 SecurityGroup.NotBound)
        'no_security_group_status': 400,            # status of SecurityGroup.NoSecurityGroup: 400 (bind page) or 403 (unbind page)
        'list_unknown_instance': 'error',           # ListSecurityGroups?instanceId=<unknown>: 'error' (404) or 'empty'
        'server_error_status': 500,                 # status of the server_error fault: 500, 502, 503, or 504 (bare)
        'batch_api': 'served',                      # batch bind/unbind: 'served', or 'absent' (answered as missing_api_answer says)
        'batch_max_instances': 100,                 # instanceIds per batch bind/unbind (undocumented: an assumption)
        'list_by_ids_api': 'served',                # POST /v2/instance/listByInstanceId: 'served', or 'absent' (as missing_api_answer says)
        'missing_api_answer': 'InvalidURI',         # an absent API's answer (undocumented): 404 'InvalidURI' or 404 'NoSuchObject'
        'list_by_ids_unknown': 'omit',              # listByInstanceId naming an unknown ID (undocumented): 'omit' it, or 'error' (404 NoSuchObject)
        'limit_by_instance': {},                    # instance id -> its own group limit (a quota reached on one instance)
        'concurrent_bind': None,                    # [instance id, group id]: another client binds it just before the next write
        'group_order': 'keep',                      # order of groups in the answers: keep | reverse | shuffle
        'group_order_seed': 0,
        # ENIs (the VPC API): the update documents only "at least one group"; its limit, and its answers to
        # a primary ENI or a group of another VPC, are assumptions.
        'eni_max_security_groups': 10,              # normal groups per ENI [inferred] (413 BindInstanceExceededLimit above it)
        'eni_primary_update': 'error',              # bindSg on an instance's primary ENI: 'error' (400 EniPrimaryNotSupported) or 'applied'
        'eni_list_requires_vpc': True,              # GET /v1/eni without vpcId: 400 (the SDK always sends it)
        # Instance tags: the BCC pages refer to the tag service's rules without stating them; every value is an assumption.
        'tag_max_key_len': 65,                      # [inferred] 400 TagExceptions.TagKeyInvalid above it
        'tag_max_value_len': 65,                    # [inferred] 400 TagExceptions.TagValueInvalid above it
        'tag_chars': r'[A-Za-z0-9\-_ /.\u4e00-\u9fff]',  # [inferred] one character a key or value may hold
        'max_tags_per_instance': 10,                # [inferred] 413 TagExceptions.LimitExceeded above it
        'tag_same_key': 'overwrite',                # binding a key the instance has with another value: 'overwrite', 'add' (both kept) or 'error'
        'tag_unbind_match': 'key_value',            # unbind removes the pair named ('key_value') or every value of the key ('key')
        'tag_unbind_absent': 'noop',                # unbinding a pair the instance lacks: 'noop' (200) or 'error' (404 NoSuchObject)
        'list_by_ids_tags': 'shown',                # listByInstanceId answers carry each instance's tags: 'shown' or 'absent'
        # ListInstances (GET /v2/instance) filters: the doc says the values of one parameter are ORed; the rest is assumed.
        'list_tags_match': 'any',                   # several tags terms: 'any' (documented OR) or 'all'
        'list_tag_key_only': 'any_value',           # [inferred] a "key" term without ':': 'any_value' or 'empty_value'
        'list_vpc_without_private_ips': 'ignored',  # [inferred] vpcId without privateIps: 'ignored', 'filtered' or 'error' (400)
    }
    default_settings.update(CredentialServices.credential_settings)
    # Baidu documents no BCC rate limits: these are assumptions (see docs/emulator.md).
    rate_limits = {
        'BindSecurityGroup': 10, 'UnbindSecurityGroup': 10, 'ReplaceSecurityGroups': 10,
        'BatchBindSecurityGroup': 10, 'BatchUnbindSecurityGroup': 10,
        'GetInstance': 20, 'ListInstances': 20, 'ListInstancesByIds': 20, 'ListSecurityGroups': 20, 'GetSecurityGroup': 20,
        'GetEni': 20, 'ListEnis': 20, 'UpdateEniSecurityGroups': 10, 'ListInstanceEnis': 20,
        'BindInstanceTags': 10, 'UnbindInstanceTags': 10,
    }
    write_actions = ('BindSecurityGroup', 'UnbindSecurityGroup', 'ReplaceSecurityGroups', 'BatchBindSecurityGroup',
                     'BatchUnbindSecurityGroup', 'UpdateEniSecurityGroups', 'BindInstanceTags', 'UnbindInstanceTags')

    # -- state ------------------------------------------------------------
    def reset(self):
        self.credentials = {}       # access_key -> {access_key, secret_key[, security_token]}
        self.security_groups = {}   # id -> {id, region, vpc_id, name, desc}
        self.instances = {}         # id -> {id, region, status, vpc_id, name, security_groups, enterprise_security_groups}
        self.network_interfaces = {}  # id -> {id, region, vpc_id, instance_id, primary, status, security_groups, enterprise_security_groups}
        self.client_tokens = {}     # clientToken -> (request fingerprint, last seen) of the batch calls
        self.reset_credential_services()

    def seed(self, data):
        self.seed_section(data, ('credentials', 'security_groups', 'instances', 'network_interfaces', 'iam_roles'))
        credentials = self.seed_credentials(data)
        groups = {}
        for where, group in self.seed_entries(data, 'security_groups'):
            check_entry(group, where, ('id',), strings=('region', 'vpc_id', 'name', 'desc'))
            entry = copy.deepcopy(group)
            if entry['id'] in groups:
                raise SettingsError('%s: duplicate id %s' % (where, entry['id']))
            entry.setdefault('region', 'bj')
            entry.setdefault('vpc_id', '')
            entry.setdefault('name', entry['id'])
            entry.setdefault('desc', '')
            groups[entry['id']] = entry
        instances = {}
        for where, inst in self.seed_entries(data, 'instances'):
            check_entry(inst, where, ('id',), optional=('tags',), strings=('region', 'status', 'vpc_id', 'name', 'internal_ip', 'public_ip'),
                        string_lists=('security_groups', 'enterprise_security_groups'))
            entry = copy.deepcopy(inst)
            if entry['id'] in instances:
                raise SettingsError('%s: duplicate id %s' % (where, entry['id']))
            entry.setdefault('region', 'bj')
            entry.setdefault('status', 'Running')
            entry.setdefault('vpc_id', '')
            entry.setdefault('name', entry['id'])
            entry.setdefault('security_groups', [])
            entry.setdefault('enterprise_security_groups', [])
            entry['tags'] = seed_tags(entry.get('tags'), where)
            if entry['status'] not in INSTANCE_STATUSES:
                raise SettingsError('%s: status %r is not one of %s' % (where, entry['status'], ', '.join(INSTANCE_STATUSES)))
            for key in ('security_groups', 'enterprise_security_groups'):
                if len(set(entry[key])) != len(entry[key]):
                    raise SettingsError('%s: %s has duplicates' % (where, key))
            missing = [sg for sg in entry['security_groups'] if sg not in groups]
            if missing:
                raise SettingsError('%s: unknown security group(s) %s' % (where, ', '.join(missing)))
            instances[entry['id']] = entry
        enis = self.seed_enis(data, groups, instances)
        self.reset_credential_services()
        self.seed_roles(data)
        self.credentials, self.security_groups, self.instances, self.network_interfaces = credentials, groups, instances, enis
        self.client_tokens = {}

    def seed_enis(self, data, groups, instances):
        """ENIs: a primary one (primary: true) is its instance's NIC: its groups are the instance's, and it is the
        instance's nicInfo.eniId."""
        enis = {}
        for where, eni in self.seed_entries(data, 'network_interfaces'):
            check_entry(eni, where, ('id',), optional=('primary',), strings=('region', 'vpc_id', 'instance_id', 'status', 'name'),
                        string_lists=('security_groups', 'enterprise_security_groups'))
            if not isinstance(eni.get('primary', False), bool):
                raise SettingsError('%s: primary must be true or false' % where)
            entry = copy.deepcopy(eni)
            if entry['id'] in enis:
                raise SettingsError('%s: duplicate id %s' % (where, entry['id']))
            entry.setdefault('region', 'bj')
            entry.setdefault('vpc_id', '')
            entry.setdefault('instance_id', '')
            entry.setdefault('primary', False)
            entry.setdefault('status', 'inuse' if entry['instance_id'] else 'available')
            entry.setdefault('name', entry['id'])
            entry.setdefault('security_groups', [])
            entry.setdefault('enterprise_security_groups', [])
            if entry['status'] not in ENI_STATUSES:
                raise SettingsError('%s: status %r is not one of %s' % (where, entry['status'], ', '.join(ENI_STATUSES)))
            if entry['instance_id'] and entry['instance_id'] not in instances:
                raise SettingsError('%s: unknown instance %s' % (where, entry['instance_id']))
            if entry['primary'] and (not entry['instance_id'] or entry['security_groups']):
                raise SettingsError('%s: a primary ENI names its instance_id, and has that instance\'s groups (no security_groups)' % where)
            if entry['primary'] and any(e['primary'] and e['instance_id'] == entry['instance_id'] for e in enis.values()):
                raise SettingsError('%s: instance %s has a primary ENI already' % (where, entry['instance_id']))
            missing = [sg for sg in entry['security_groups'] if sg not in groups]
            if missing or len(set(entry['security_groups'])) != len(entry['security_groups']):
                raise SettingsError('%s: unknown or repeated security group(s) in %s' % (where, entry['security_groups']))
            enis[entry['id']] = entry
        return enis

    def snapshot(self):
        return {
            'credentials': [dict(c) for c in self.credentials.values()],
            'security_groups': [dict(g) for g in self.security_groups.values()],
            'instances': [dict(copy.deepcopy(i), tags=[{'key': k, 'value': v} for k, v in i['tags']]) for i in self.instances.values()],
            'network_interfaces': [dict(copy.deepcopy(e), security_groups=list(self._eni_groups(e))) for e in self.network_interfaces.values()],
        }

    # -- requests ---------------------------------------------------------
    def identify(self, request):
        if request.path == '/v1/credential' and request.method == 'POST' and 'assumeRole' in dict(request.query_pairs()):
            return 'AssumeRole'
        return route(request.method, request.path, set(k for k, _v in request.query_pairs()))[0]

    def authenticate(self, request, action):
        request_id = str(uuid.uuid4())
        try:
            self._verify(request)
        except ApiError as err:
            return self._error(err, request_id)
        return None

    def _verify(self, request):
        auth = parse_authorization(request.header('Authorization'))
        if auth is None:
            raise ApiError(400, 'InvalidHTTPAuthHeader', 'The Authorization header you provided is invalid.')
        access_key, stamp, expiration, signed_headers, sig = auth
        cred = self.credentials.get(access_key) or self.issued.get(access_key)
        if cred is None:
            raise ApiError(403, 'InvalidAccessKeyId', 'The Access Key ID you provided does not exist in our records.')
        now = self.now()
        window = float(self.settings['timestamp_window_s'])
        signed_at = parse_time(stamp)
        if signed_at is None:
            raise ApiError(400, 'InvalidHTTPAuthHeader', 'The Authorization header you provided is invalid.')
        date = request.header('x-bce-date')
        dated = parse_time(date) if date else signed_at
        if now > signed_at + expiration or signed_at > now + window or dated is None or abs(now - dated) > window:
            raise ApiError(400, 'RequestExpired', 'Request has expired. Timestamp date is %s' % (date or stamp))
        prefix = '%s/%s/%s/%d' % (AUTH_VERSION, access_key, stamp, expiration)
        headers = [(name, str(value)) for name, value in request.headers.items()]
        expected = [signature(cred['secret_key'], prefix, canonical_request(request.method, uri, request.query, headers, signed_headers))
                    for uri in canonical_uris(request.path)]
        if not any(hmac.compare_digest(sig, e) for e in expected):
            raise ApiError(400, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.')
        if cred.get('security_token'):
            # Session credentials: the token must be sent, and signed (x-bce-* headers are signed by default).
            token = request.header('x-bce-security-token')
            if token != cred['security_token'] or (signed_headers and 'x-bce-security-token' not in signed_headers):
                raise ApiError(403, 'AccessDenied', 'Access denied: missing or invalid x-bce-security-token.')
        self.check_expiry(access_key)
        request.access_key = access_key

    def parse_policy(self, doc, where):
        if not isinstance(doc, dict) or set(doc) - {'id', 'accessControlList'}:
            raise SettingsError('%s: an IAM policy is {"accessControlList": [...]} (and an optional id)' % where)
        entries = doc.get('accessControlList')
        if not isinstance(entries, list) or not entries:
            raise SettingsError('%s: accessControlList must be a non-empty list' % where)
        allow, deny = [], []
        for n, entry in enumerate(entries):
            here = '%s accessControlList[%d]' % (where, n)
            if not isinstance(entry, dict) or set(entry) - {'eid', 'service', 'region', 'effect', 'permission', 'resource'}:
                raise SettingsError('%s: takes eid, service, region, effect, permission and resource' % here)
            if not isinstance(entry.get('service'), str) or not entry['service'].startswith('bce:'):
                raise SettingsError('%s: service must be a service name such as "bce:bcc"' % here)
            if entry.get('effect') not in ('Allow', 'Deny'):
                raise SettingsError('%s: effect must be "Allow" or "Deny", not %r' % (here, entry.get('effect')))
            perms = entry.get('permission')
            if not isinstance(perms, list) or not perms or not all(p in ACL_PERMISSION_NAMES for p in perms):
                raise SettingsError('%s: permission must be a non-empty list of %s' % (here, ', '.join(ACL_PERMISSION_NAMES)))
            if entry.get('region', '*') != '*' or entry.get('resource') != ['*']:
                raise SettingsError('%s: region must be "*" and resource ["*"]: the emulator evaluates services and permissions, '
                                    'not regions or resources' % here)
            names = ['%s:%s' % (entry['service'], '*' if p == 'FULL_CONTROL' else p) for p in perms]
            (allow if entry['effect'] == 'Allow' else deny).extend(names)
        return Grants(allow, deny)

    def permission(self, request, action):
        needed = ACL_PERMISSIONS.get(action)
        return '%s:%s' % needed if needed else None

    def denied(self, request, action, permission):
        # [inferred] AccessDenied 403 is the common code; the wording naming the permission and call is the emulator's.
        service, name = permission.rsplit(':', 1)
        return self._error(ApiError(403, 'AccessDenied', 'Access denied. The request %s needs permission %s of service %s.'
                                    % (action, name, service)), str(uuid.uuid4()))

    def describe_request(self, request, action):
        ident = route(request.method, request.path, set(k for k, _v in request.query_pairs()))[1]
        if action in ('BindSecurityGroup', 'UnbindSecurityGroup'):
            return {'targets': [ident], 'bind' if action == 'BindSecurityGroup' else 'unbind': [self._sg_id_from_body(request)]}
        if action == 'ReplaceSecurityGroups':
            body = self._json_body(request)
            return {'targets': list(body.get('instanceIds') or []), 'set': list(body.get('securityGroupIds') or [])}
        if action in ('BatchBindSecurityGroup', 'BatchUnbindSecurityGroup'):
            body = self._json_body(request)
            what = 'bind' if action == 'BatchBindSecurityGroup' else 'unbind'
            return {'targets': list(body.get('instanceIds') or []), what: list(body.get('securityGroupIds') or []),
                    'token': dict(request.query_pairs()).get('clientToken')}
        if action == 'ListInstancesByIds':
            return {'targets': list(self._json_body(request).get('instanceIds') or [])}
        if action == 'GetInstance':
            return {'targets': [ident]}
        if action in ('GetEni', 'ListInstanceEnis', 'BindInstanceTags', 'UnbindInstanceTags'):
            return {'targets': [ident]}
        if action == 'UpdateEniSecurityGroups':
            return {'targets': [ident], 'set': list(self._json_body(request).get('securityGroupIds') or []),
                    'token': dict(request.query_pairs()).get('clientToken')}
        return None

    def dispatch(self, request, action):
        request_id = str(uuid.uuid4())
        if action == 'AssumeRole':
            try:
                body = self.assume_role(request, parse_authorization(request.header('Authorization'))[0])
            except ApiError as err:
                return self._error(err, request_id)
            return Response.json(200, body, content_type=CONTENT_TYPE, headers={'x-bce-request-id': request_id}, request_id=request_id)
        _action, ident = route(request.method, request.path, set(k for k, _v in request.query_pairs()))
        handlers = {
            'BindSecurityGroup': self._bind, 'UnbindSecurityGroup': self._unbind, 'GetInstance': self._get_instance,
            'ListSecurityGroups': self._list_security_groups, 'GetSecurityGroup': self._get_security_group,
            'ReplaceSecurityGroups': self._replace, 'ListInstances': self._list_instances,
            'BatchBindSecurityGroup': self._batch_bind, 'BatchUnbindSecurityGroup': self._batch_unbind,
            'ListInstancesByIds': self._list_instances_by_ids,
            'GetEni': self._get_eni, 'ListEnis': self._list_enis, 'UpdateEniSecurityGroups': self._update_eni,
            'ListInstanceEnis': self._list_instance_enis,
            'BindInstanceTags': self._bind_tags, 'UnbindInstanceTags': self._unbind_tags,
        }
        if action in self.write_actions and self.settings['concurrent_bind']:
            self._concurrent_bind()
        try:
            if action not in handlers:
                raise ApiError(404, 'NoSuchObject', 'The requested resource does not exist: %s %s' % (request.method, request.path))
            body = handlers[action](request, ident, request_id)
        except ApiError as err:
            return self._error(err, request_id)
        if body is None:   # bind/unbind: 200 with an empty body
            return Response(200, b'', content_type=CONTENT_TYPE, headers={'x-bce-request-id': request_id}, request_id=request_id)
        return Response.json(200, body, content_type=CONTENT_TYPE, headers={'x-bce-request-id': request_id}, request_id=request_id)

    def fault_response(self, kind, request, action):
        request_id = str(uuid.uuid4())
        if kind == 'throttle':
            # Baidu documents no throttling code: 429 TooManyRequests is the project's convention.
            err = ApiError(429, 'TooManyRequests', 'Request rate exceeded, please retry later.')
        elif kind == 'in_progress':
            err = ApiError(409, 'OperationDenied', 'The instance is being operated on, please retry later.')
        elif int(self.settings['server_error_status']) == 504:
            # A gateway that gave up waiting answers with its own page, not a BCE envelope.
            return Response(504, b'<html><body><h1>504 Gateway Time-out</h1></body></html>', content_type='text/html',
                            error_code='HTTP504', request_id=request_id)
        else:
            err = ApiError(int(self.settings['server_error_status']), 'InternalError',
                           'We encountered an internal error. Please try again.')
        return self._error(err, request_id)

    @staticmethod
    def _error(err, request_id):
        body = {'requestId': request_id, 'code': err.code, 'message': err.message}
        return Response.json(err.status, body, content_type=CONTENT_TYPE, headers={'x-bce-request-id': request_id},
                             error_code=err.code, request_id=request_id)

    # -- actions ----------------------------------------------------------
    @staticmethod
    def _json_body(request):
        try:
            body = json.loads(request.body.decode('utf-8'))
        except ValueError as exc:
            raise ApiError(400, 'MalformedJSON', 'The JSON you provided was not well-formed.') from exc
        if not isinstance(body, dict):
            raise ApiError(400, 'InappropriateJSON', 'The JSON you provided was well-formed and valid, but not appropriate for this operation.')
        return body

    def _sg_id_from_body(self, request):
        sg_id = self._json_body(request).get('securityGroupId')
        if not isinstance(sg_id, str) or not sg_id:
            raise ApiError(400, 'InappropriateJSON', 'securityGroupId must be a non-empty string.')
        return sg_id

    def _instance(self, ident):
        if ident not in self.instances:
            raise not_found('instance', ident)
        return self.instances[ident]

    def _group(self, ident):
        if ident not in self.security_groups:
            raise not_found('securityGroup', ident)
        return self.security_groups[ident]

    def _no_security_group(self):
        return ApiError(int(self.settings['no_security_group_status']), 'SecurityGroup.NoSecurityGroup',
                        'No security group associated for the instance.')

    def _concurrent_bind(self):
        """Another client's bind, once, just before the next write is processed (the write then meets it)."""
        instance_id, sg_id = self.settings['concurrent_bind']
        self.settings['concurrent_bind'] = None
        instance = self.instances.get(instance_id)
        if instance is not None and sg_id in self.security_groups and sg_id not in instance['security_groups']:
            instance['security_groups'].append(sg_id)

    def _limit(self, instance):
        return int((self.settings['limit_by_instance'] or {}).get(instance['id'], self.settings['max_security_groups_per_instance']))

    def _too_many(self):
        return ApiError(413, 'SecurityGroup.BindInstanceExceededLimit', 'Quota exceeds limit when binding instance to security group.')

    @staticmethod
    def _expired():
        return ApiError(403, 'SecurityGroup.ExpiredInstanceForbiddenBind', 'Instance already expired when binding to security group.')

    def _bind(self, request, ident, _request_id):
        sg_id = self._sg_id_from_body(request)
        instance = self._instance(ident)
        self._group(sg_id)
        if instance['status'] == 'Expired':
            raise self._expired()
        if sg_id in instance['security_groups']:
            if self.policy('duplicate_bind', 'InternalError') == 'error':
                raise ApiError(400, 'SecurityGroup.AlreadyBound', 'The security group %s is already bound to %s.' % (sg_id, ident))
            return None
        if len(instance['security_groups']) >= self._limit(instance):
            raise self._too_many()
        instance['security_groups'].append(sg_id)
        return None

    def _unbind(self, request, ident, _request_id):
        sg_id = self._sg_id_from_body(request)
        instance = self._instance(ident)
        self._group(sg_id)
        if sg_id not in instance['security_groups']:
            if self.policy('unbind_not_bound', 'InternalError') == 'error':
                raise ApiError(400, 'SecurityGroup.NotBound', 'The security group %s is not bound to %s.' % (sg_id, ident))
            return None
        if len(instance['security_groups']) <= 1:
            raise self._no_security_group()
        instance['security_groups'].remove(sg_id)
        return None

    def _get_instance(self, _request, ident, _request_id):
        return {'instance': self._instance_model(self._instance(ident))}

    @staticmethod
    def _max_keys(query):
        try:
            max_keys = int(query.get('maxKeys') or 1000)
        except ValueError as exc:
            raise ApiError(400, 'InvalidHTTPRequest', 'maxKeys must be an integer.') from exc
        return min(1000, max(1, max_keys))

    @staticmethod
    def _list_values(query, name, most=100):
        """A comma-separated list parameter (at most 100 values, documented), or None when absent."""
        if not query.get(name):
            return None
        values = [v for v in query[name].split(',') if v]
        if len(values) > most:
            raise ApiError(400, 'InvalidHTTPRequest', '%s lists %d values; at most %d.' % (name, len(values), most))
        return values

    def _tag_term_matches(self, term, pairs):
        """One tags term, "key:value" (split at the first ':') or "key" (list_tag_key_only: any value, or an empty one)."""
        key, sep, value = term.partition(':')
        if not sep:
            mode = self.settings['list_tag_key_only']
            if mode not in ('any_value', 'empty_value'):
                raise ApiError(500, 'InternalError', 'Emulator setting baiducloud.list_tag_key_only must be any_value or empty_value.')
            return any(k == key and (mode == 'any_value' or v == '') for k, v in pairs)
        return [key, value] in pairs

    def _listed(self, inst, query):
        """Whether ListInstances' filters keep the instance: different parameters AND, the values of one OR (documented)."""
        checks = (
            ('instanceIds', lambda values: inst['id'] in values),
            ('instanceNames', lambda values: inst['name'] in values),
            ('securityGroupIds', lambda values: set(values) & set(inst['security_groups'])),
            ('status', lambda values: inst['status'] in values),
            ('zoneName', lambda values: 'cn-%s-a' % inst['region'] in values),
            ('privateIps', lambda values: inst.get('internal_ip') in values),
        )
        for name, keeps in checks:
            values = self._list_values(query, name)
            if values is not None and not keeps(values):
                return False
        tags = self._list_values(query, 'tags')
        if tags is not None:
            match = self.settings['list_tags_match']
            if match not in ('any', 'all'):
                raise ApiError(500, 'InternalError', 'Emulator setting baiducloud.list_tags_match must be any or all.')
            found = [self._tag_term_matches(term, inst['tags']) for term in tags]
            if not (any(found) if match == 'any' else all(found)):
                return False
        if query.get('fuzzyInstanceName') and query['fuzzyInstanceName'] not in inst['name']:
            return False
        if query.get('internalIp') and inst.get('internal_ip') != query['internalIp']:
            return False
        if query.get('vpcId') and (query.get('privateIps') or self.settings['list_vpc_without_private_ips'] == 'filtered'):
            return inst['vpc_id'] == query['vpcId']
        return True

    def _list_instances(self, request, _ident, _request_id):
        """GET /v2/instance (cloud.baidu.com/doc/BCC/s/Xjwvyodmx) with its filters, in id order; the marker is the
        first id of a page. Names in instanceNames are exact, fuzzyInstanceName a substring [inferred], and the two
        together are refused (documented; the code is an assumption). vpcId is documented only with privateIps; alone it
        is handled as list_vpc_without_private_ips says."""
        query = dict(request.query_pairs())
        marker = query.get('marker') or ''
        max_keys = self._max_keys(query)
        if query.get('instanceNames') and query.get('fuzzyInstanceName'):
            raise ApiError(400, 'InvalidHTTPRequest', 'instanceNames and fuzzyInstanceName cannot be used together.')
        alone = self.settings['list_vpc_without_private_ips']
        if alone not in ('ignored', 'filtered', 'error'):
            raise ApiError(500, 'InternalError', 'Emulator setting baiducloud.list_vpc_without_private_ips must be ignored, filtered or error.')
        if query.get('vpcId') and not query.get('privateIps') and alone == 'error':
            raise ApiError(400, 'InvalidHTTPRequest', 'vpcId must be used with privateIps.')
        ids = [i for i in sorted(self.instances) if self._listed(self.instances[i], query)]
        ids = [i for i in ids if i >= marker]
        body = {'marker': marker, 'maxKeys': max_keys, 'isTruncated': len(ids) > max_keys,
                'instances': [self._instance_model(self.instances[i]) for i in ids[:max_keys]]}
        if body['isTruncated']:
            body['nextMarker'] = ids[max_keys]
        return body

    def _missing_api(self, request):
        """The answer of an API this deployment does not have (missing_api_answer)."""
        answer = self.settings['missing_api_answer']
        if answer == 'InvalidURI':
            return ApiError(404, 'InvalidURI', 'The requested URI does not represent any resource on our server.')
        if answer == 'NoSuchObject':
            return ApiError(404, 'NoSuchObject', 'The requested resource does not exist: %s %s' % (request.method, request.path))
        return ApiError(500, 'InternalError', 'Emulator setting baiducloud.missing_api_answer must be "InvalidURI" or "NoSuchObject".')

    def _list_instances_by_ids(self, request, _ident, _request_id):
        """POST /v2/instance/listByInstanceId, body {"instanceIds": [...]} (at most 100, documented): the
        instances in the order asked, unknown ids left out or refused (list_by_ids_unknown, an assumption),
        paged like the other lists; the marker is the first id of a page."""
        if self.settings['list_by_ids_api'] == 'absent':
            raise self._missing_api(request)
        ids = self._json_body(request).get('instanceIds')
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
            raise ApiError(400, 'InappropriateJSON', 'instanceIds must be a non-empty list of ids.')
        if len(ids) > 100:
            raise ApiError(400, 'InappropriateJSON', 'instanceIds lists %d instances; at most 100.' % len(ids))
        query = dict(request.query_pairs())
        marker = query.get('marker') or ''
        max_keys = self._max_keys(query)
        unknown = [i for i in ids if i not in self.instances]
        if unknown and self.settings['list_by_ids_unknown'] == 'error':
            raise not_found('instance', unknown[0])
        ids = [i for i in dict.fromkeys(ids) if i in self.instances]
        if marker:
            ids = ids[ids.index(marker):] if marker in ids else []
        body = {'marker': marker, 'maxKeys': max_keys, 'isTruncated': len(ids) > max_keys,
                'instances': [self._instance_model(self.instances[i]) for i in ids[:max_keys]]}
        if self.settings['list_by_ids_tags'] == 'absent':
            for item in body['instances']:
                del item['tags']
        if body['isTruncated']:
            body['nextMarker'] = ids[max_keys]
        return body

    def _instance_model(self, inst):
        zone = 'cn-%s-a' % inst['region']
        return {
            'id': inst['id'], 'name': inst['name'], 'hostname': inst['name'], 'instanceType': 'N5', 'spec': 'bcc.g5.c2m8',
            'status': inst['status'], 'desc': '', 'paymentTiming': 'Postpaid', 'createTime': CREATED_TIME,
            'zoneName': zone, 'vpcId': inst['vpc_id'], 'tags': [{'tagKey': k, 'tagValue': v} for k, v in inst['tags']],
            'internalIp': inst.get('internal_ip', ''), 'publicIp': inst.get('public_ip', ''),
            'nicInfo': {'vpcId': inst['vpc_id'], 'status': 'available', 'eniId': self._primary_eni_id(inst['id']),
                        'ips': [{'privateIp': inst.get('internal_ip', ''), 'eip': inst.get('public_ip', ''), 'primary': 'true'}],
                        'securityGroups': self.shown_order(inst['security_groups']),
                        'enterpriseSecurityGroups': list(inst['enterprise_security_groups'])},
        }

    def _group_model(self, group):
        return {'id': group['id'], 'name': group['name'], 'desc': group['desc'], 'vpcId': group['vpc_id'],
                'createdTime': CREATED_TIME, 'tags': [], 'rules': []}

    def _list_security_groups(self, request, _ident, _request_id):
        query = dict(request.query_pairs())
        marker = query.get('marker') or ''
        max_keys = self._max_keys(query)
        groups = sorted(self.security_groups)   # listed in id order; the marker is the first id of a page
        if query.get('instanceId'):
            instance = self.instances.get(query['instanceId'])
            if instance is None and self.settings['list_unknown_instance'] == 'error':
                raise not_found('instance', query['instanceId'])
            groups = [g for g in groups if instance is not None and g in instance['security_groups']]
        if query.get('vpcId'):
            groups = [g for g in groups if self.security_groups[g]['vpc_id'] == query['vpcId']]
        if query.get('securityGroupId'):
            groups = [g for g in groups if g == query['securityGroupId']]
        if query.get('securityGroupIds'):
            wanted = set(query['securityGroupIds'].split(','))
            groups = [g for g in groups if g in wanted]
        groups = [g for g in groups if g >= marker]
        body = {'marker': marker, 'maxKeys': max_keys, 'isTruncated': len(groups) > max_keys,
                'securityGroups': [self._group_model(self.security_groups[g]) for g in groups[:max_keys]]}
        if body['isTruncated']:
            body['nextMarker'] = groups[max_keys]
        return body

    def _get_security_group(self, _request, ident, _request_id):
        body = self._group_model(self._group(ident))
        body['sgVersion'] = 0
        body['bindInstanceNum'] = sum(1 for i in self.instances.values() if ident in i['security_groups'])
        return body

    def _batch_body(self, request):
        """(instance ids, SG ids, type) of a batch call's body; 400 InappropriateJSON when malformed."""
        body = self._json_body(request)
        instance_ids, sg_ids, sg_type = body.get('instanceIds'), body.get('securityGroupIds'), body.get('securityGroupType')
        for value in (instance_ids, sg_ids):
            if not isinstance(value, list) or not all(isinstance(i, str) and i for i in value):
                raise ApiError(400, 'InappropriateJSON', 'instanceIds and securityGroupIds must be lists of ids.')
        if not instance_ids or sg_type not in SG_TYPES:
            raise ApiError(400, 'InappropriateJSON', 'instanceIds must not be empty; securityGroupType is normal or enterprise.')
        return instance_ids, sg_ids, sg_type

    def _seen_token(self, request, action, fingerprint):
        """The clientToken of a batch call, or None; True when it was seen (within 24 h) with the same
        action and body: the call is then answered again without being applied again."""
        token = dict(request.query_pairs()).get('clientToken')
        if not token:
            return None, False
        if len(token) > CLIENT_TOKEN_MAX or not all(32 < ord(c) < 127 for c in token):
            raise ApiError(400, 'InvalidHTTPRequest', 'clientToken must be at most %d printable ASCII characters.' % CLIENT_TOKEN_MAX)
        now = self.now()
        seen = self.client_tokens.get(token)
        if seen is None or now - seen[1] > CLIENT_TOKEN_TTL_S:
            return token, False
        if seen[0] != [action, fingerprint]:
            raise ApiError(403, 'IdempotentParameterMismatch', 'The clientToken was already used with other parameters.')
        self.client_tokens[token] = (seen[0], now)
        return token, True

    def _remember_token(self, token, action, fingerprint):
        if token:
            self.client_tokens[token] = ([action, fingerprint], self.now())

    def _replace(self, request, _ident, request_id):
        instance_ids, sg_ids, sg_type = self._batch_body(request)
        fingerprint = json.dumps([instance_ids, sg_ids, sg_type])
        token, seen = self._seen_token(request, 'replace', fingerprint)
        if seen:
            return {'requestId': request_id}
        sg_ids = list(dict.fromkeys(sg_ids))
        instances = [self._instance(i) for i in instance_ids]
        if not sg_ids:
            raise self._no_security_group()
        if sg_type == 'normal':
            for sg_id in sg_ids:
                self._group(sg_id)
            if len(sg_ids) > int(self.settings['max_security_groups_per_instance']):
                raise self._too_many()
        if any(i['status'] == 'Expired' for i in instances):
            raise self._expired()
        # replace switches the instance to the given type: the other list is emptied
        for instance in instances:
            instance['security_groups'] = list(sg_ids) if sg_type == 'normal' else []
            instance['enterprise_security_groups'] = list(sg_ids) if sg_type == 'enterprise' else []
        self._remember_token(token, 'replace', fingerprint)
        return {'requestId': request_id}

    def _batch(self, request, request_id, action):
        """Batch bind/unbind: every instance gets (loses) every SG, or nothing changes at all.
        Every check runs on every instance before the first change."""
        if self.settings['batch_api'] == 'absent':
            raise self._missing_api(request)
        if self.settings['batch_api'] != 'served':
            raise ApiError(500, 'InternalError', 'Emulator setting baiducloud.batch_api must be "served" or "absent".')
        instance_ids, sg_ids, sg_type = self._batch_body(request)
        if not sg_ids:
            raise ApiError(400, 'InappropriateJSON', 'securityGroupIds must not be empty.')
        limit = int(self.settings['batch_max_instances'])
        if len(instance_ids) > limit:
            raise ApiError(400, 'InappropriateJSON', 'instanceIds lists %d instances; at most %d per call.' % (len(instance_ids), limit))
        fingerprint = json.dumps([instance_ids, sg_ids, sg_type])
        token, seen = self._seen_token(request, action, fingerprint)
        if seen:
            return {'requestId': request_id}
        instance_ids, sg_ids = list(dict.fromkeys(instance_ids)), list(dict.fromkeys(sg_ids))
        instances = [self._instance(i) for i in instance_ids]
        key = 'security_groups' if sg_type == 'normal' else 'enterprise_security_groups'
        if sg_type == 'normal':
            for sg_id in sg_ids:
                self._group(sg_id)
        after = {}
        for instance in instances:
            groups = list(instance[key])
            if action == 'bind':
                if instance['status'] == 'Expired':
                    raise self._expired()
                for sg_id in sg_ids:
                    if sg_id in groups:
                        if self.policy('duplicate_bind', 'InternalError') == 'error':
                            raise ApiError(400, 'SecurityGroup.AlreadyBound', 'The security group %s is already bound to %s.' % (sg_id, instance['id']))
                    else:
                        groups.append(sg_id)
                if sg_type == 'normal' and len(groups) > self._limit(instance):
                    raise self._too_many()
            else:
                for sg_id in sg_ids:
                    if sg_id not in groups:
                        if self.policy('unbind_not_bound', 'InternalError') == 'error':
                            raise ApiError(400, 'SecurityGroup.NotBound', 'The security group %s is not bound to %s.' % (sg_id, instance['id']))
                    else:
                        groups.remove(sg_id)
                if sg_type == 'normal' and not groups and instance[key]:
                    raise self._no_security_group()
            after[instance['id']] = groups
        for instance in instances:
            instance[key] = after[instance['id']]
        self._remember_token(token, action, fingerprint)
        return {'requestId': request_id}

    # -- ENIs (the VPC API) --------------------------------------------------
    def _primary_eni_id(self, instance_id):
        return next((e['id'] for e in self.network_interfaces.values() if e['primary'] and e['instance_id'] == instance_id), '')

    def _eni_groups(self, eni):
        """A primary ENI's groups are its instance's."""
        return self.instances[eni['instance_id']]['security_groups'] if eni['primary'] else eni['security_groups']

    def _eni(self, ident):
        if ident not in self.network_interfaces:
            raise not_found('eni', ident)
        return self.network_interfaces[ident]

    def _eni_model(self, eni):
        return {'eniId': eni['id'], 'name': eni['name'], 'description': '', 'vpcId': eni['vpc_id'], 'subnetId': '',
                'zoneName': 'cn-%s-a' % eni['region'], 'macAddress': 'fa:16:3e:00:00:00', 'status': eni['status'],
                'instanceId': eni['instance_id'], 'privateIpSet': [], 'ipv6PrivateIpSet': [], 'createdTime': CREATED_TIME, 'tags': [],
                'securityGroupIds': self.shown_order(self._eni_groups(eni)),
                'enterpriseSecurityGroupIds': list(eni['enterprise_security_groups'])}

    def _get_eni(self, _request, ident, _request_id):
        return self._eni_model(self._eni(ident))

    def _list_enis(self, request, _ident, _request_id):
        """GET /v1/eni?vpcId= (required), optionally instanceId, in id order; the marker is the first id of a page."""
        query = dict(request.query_pairs())
        if not query.get('vpcId') and self.settings['eni_list_requires_vpc']:
            raise ApiError(400, 'InvalidHTTPRequest', 'vpcId is required.')
        marker = query.get('marker') or ''
        max_keys = self._max_keys(query)
        ids = sorted(i for i, e in self.network_interfaces.items()
                     if (not query.get('vpcId') or e['vpc_id'] == query['vpcId'])
                     and (not query.get('instanceId') or e['instance_id'] == query['instanceId']) and i >= marker)
        body = {'marker': marker, 'maxKeys': max_keys, 'isTruncated': len(ids) > max_keys,
                'enis': [self._eni_model(self.network_interfaces[i]) for i in ids[:max_keys]]}
        if body['isTruncated']:
            body['nextMarker'] = ids[max_keys]
        return body

    def _update_eni(self, request, ident, _request_id):
        """PUT /v1/eni/{id}?bindSg&clientToken=: the ENI's normal groups become exactly the list; its enterprise groups
        are removed (documented). At least one group (documented); the rest of the checks are assumptions."""
        sg_ids = self._json_body(request).get('securityGroupIds')
        if not isinstance(sg_ids, list) or not all(isinstance(i, str) and i for i in sg_ids):
            raise ApiError(400, 'InappropriateJSON', 'securityGroupIds must be a list of ids.')
        fingerprint = json.dumps([ident, sg_ids])
        token, seen = self._seen_token(request, 'bindSg', fingerprint)
        if seen:
            return None
        eni = self._eni(ident)
        sg_ids = list(dict.fromkeys(sg_ids))
        if not sg_ids:
            raise self._no_security_group()
        for sg_id in sg_ids:
            if self._group(sg_id)['vpc_id'] != eni['vpc_id']:
                raise ApiError(400, 'InstanceBindNoSameVpcException', 'The security group %s and the ENI %s are not in the same vpc.' % (sg_id, ident))
        if len(sg_ids) > int(self.settings['eni_max_security_groups']):
            raise self._too_many()
        if eni['status'] in ('attaching', 'detaching'):
            raise ApiError(409, 'OperationDenied', 'The ENI %s is %s, please retry later.' % (ident, eni['status']))
        if eni['primary']:
            if self.settings['eni_primary_update'] != 'applied':
                raise ApiError(400, 'EniPrimaryNotSupported', 'The primary ENI of an instance cannot be changed; use the instance.')
            self.instances[eni['instance_id']]['security_groups'] = sg_ids
        else:
            eni['security_groups'] = sg_ids
        eni['enterprise_security_groups'] = []
        self._remember_token(token, 'bindSg', fingerprint)
        return None

    def _list_instance_enis(self, _request, ident, _request_id):
        """BCC's GET /v2/eni/{instanceId}: the instance's ENIs, its primary one included (unpaged, as documented)."""
        self._instance(ident)
        return {'enis': [self._eni_model(e) for i, e in sorted(self.network_interfaces.items()) if e['instance_id'] == ident]}

    # -- instance tags -----------------------------------------------------------
    def _change_tags(self, request, ident):
        """The instance and the pairs of a tag call's body ({"changeTags": [{tagKey, tagValue}]}), checked."""
        tags = self._json_body(request).get('changeTags')
        if not isinstance(tags, list) or not tags:
            raise ApiError(400, 'TagExceptions.TagEmpty', 'Tag should not be empty.')
        pairs = []
        chars = re.compile(r'^%s*$' % self.settings['tag_chars'])
        for tag in tags:
            if not isinstance(tag, dict):
                raise ApiError(400, 'TagExceptions.TagEmpty', 'Tag should not be empty.')
            key, value = tag.get('tagKey'), tag.get('tagValue', '')
            if not isinstance(key, str) or not key:
                raise ApiError(400, 'TagExceptions.TagKeyEmpty', 'Tag key should not be empty.')
            value = '' if value is None else value
            if len(key) > int(self.settings['tag_max_key_len']) or not chars.match(key):
                raise ApiError(400, 'TagExceptions.TagKeyInvalid', 'Tag key contains invalid characters or length exceeds limit.')
            if not isinstance(value, str) or len(value) > int(self.settings['tag_max_value_len']) or not chars.match(value):
                raise ApiError(400, 'TagExceptions.TagValueInvalid', 'Tag value contains invalid characters or length exceeds limit.')
            pairs.append([key, value])
        return self._instance(ident), pairs

    def _bind_tags(self, request, ident, _request_id):
        """PUT /v2/instance/{id}/tag?bind: 200 with an empty body, as documented; all or nothing."""
        instance, pairs = self._change_tags(request, ident)
        mode = self.settings['tag_same_key']
        if mode not in ('overwrite', 'add', 'error'):
            raise ApiError(500, 'InternalError', 'Emulator setting baiducloud.tag_same_key must be overwrite, add or error.')
        tags = [list(t) for t in instance['tags']]
        for key, value in pairs:
            if [key, value] in tags:
                continue
            if any(k == key for k, _v in tags):
                if mode == 'error':
                    raise ApiError(400, 'TagExceptions.TagKeyInvalid', 'The instance already has tag key %s with another value.' % key)
                if mode == 'overwrite':
                    tags = [t for t in tags if t[0] != key]
            tags.append([key, value])
        if len(tags) > int(self.settings['max_tags_per_instance']):
            raise ApiError(413, 'TagExceptions.LimitExceeded', 'Limit exceeded for current request.')
        instance['tags'] = tags
        return None

    def _unbind_tags(self, request, ident, _request_id):
        """PUT /v2/instance/{id}/tag?unbind: 200 with an empty body."""
        instance, pairs = self._change_tags(request, ident)
        by_key = self.settings['tag_unbind_match'] == 'key'
        before = [list(t) for t in instance['tags']]
        gone = []
        for key, value in pairs:    # each pair is looked for among the tags the instance had before the call
            hit = [t for t in before if t[0] == key and (by_key or t[1] == value)]
            if not hit and self.policy('tag_unbind_absent', 'InternalError') == 'error':
                raise not_found('tag', '%s:%s' % (key, value))
            gone.extend(hit)
        instance['tags'] = [t for t in before if t not in gone]
        return None

    def _batch_bind(self, request, _ident, request_id):
        return self._batch(request, request_id, 'bind')

    def _batch_unbind(self, request, _ident, request_id):
        return self._batch(request, request_id, 'unbind')


CLOUD = BaiduCloud
