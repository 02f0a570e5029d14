# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Zenlayer Cloud "vm" service (API 2.0): security-group binding of VM instances; the
Elastic Compute "zec" service (``POST /api/v2/zec``, 2025-09-01): one group per vNIC, switched
with ModifyNetworkInterfaceAttribute; and the resource manager "zrm" (``POST /api/v2/zrm``,
2025-10-14): tags on vm and zec instances (ModifyResourceTags and the SDK's other tag calls).

``POST /api/v2/vm`` with the action in ``X-ZC-Action`` and the version in
``X-ZC-Version`` (2023-03-13 or 2026-04-01, identical for these actions),
signed with ZC2-HMAC-SHA256. Success is HTTP 200
``{"requestId": R, "response": {"requestId": R, ...}}``; errors are non-200
``{"requestId", "code", "message"}``. See docs/emulator.md, "Zenlayer Cloud".
"""

import hashlib
import hmac
import re
import uuid

from .core import ApiError, Cloud, Grants, Response, SettingsError, check_entry

SERVICE_PATH = '/api/v2/vm'
API_VERSIONS = ('2023-03-13', '2026-04-01')
SIGNATURE_METHOD = 'ZC2-HMAC-SHA256'
SIGNED_HEADERS = 'content-type;host'

ACTIONS = (
    'AssociateSecurityGroupInstance',
    'UnAssociateSecurityGroupInstance',
    'DescribeInstances',
    'DescribeInstancesStatus',
    'DescribeSecurityGroups',
)
ZEC_SERVICE_PATH = '/api/v2/zec'
ZEC_API_VERSIONS = ('2025-09-01',)
ZEC_ACTIONS = (
    'DescribeNetworkInterfaces',
    'ModifyNetworkInterfaceAttribute',
    'DescribeInstances',
    'DescribeSecurityGroups',
    'DescribeVpcs',
)
ZRM_SERVICE_PATH = '/api/v2/zrm'
ZRM_API_VERSIONS = ('2025-10-14',)
ZRM_ACTIONS = (
    'CreateTags',
    'DeleteTags',
    'DescribeTags',
    'DescribeResourceTags',
    'ModifyResourceTags',
    'TagBindResources',
    'TagUnbindResources',
)
TAG_MAX_LEN = 64            # documented (zrm data types, Tag): key and value 1 to 64 characters
CREATE_TAGS_MAX = 20        # documented: CreateTags takes at most 20 tags
_ACTION_BY_LOWER = dict((name.lower(), name) for name in ACTIONS + ZEC_ACTIONS + ZRM_ACTIONS)
# [inferred] The vNIC states a switch is accepted in (the docs name only the code INVALID_NIC_STATUS).
ZEC_SWITCHABLE_NIC_STATUSES = ('AVAILABLE', 'IN_USE')
ZEC_NIC_STATUSES = ZEC_SWITCHABLE_NIC_STATUSES + ('CREATING', 'ATTACHING', 'DETACHING', 'DELETING')
ZEC_NIC_TYPES = ('Primary', 'Secondary')

INSTANCE_STATUSES = ('PENDING', 'DEPLOYING', 'REBUILDING', 'REBOOT', 'RUNNING', 'STOPPED', 'BOOTING',
                     'RELEASING', 'STOPPING', 'RECYCLE', 'RECYCLING', 'CREATE_FAILED', 'IMAGING')
BINDABLE_INSTANCE_STATUSES = ('RUNNING', 'STOPPED')
SG_AVAILABLE = 'Available'

MAX_IDS_PER_DESCRIBE = 100
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 1000
DEFAULT_CREATE_TIME = '2024-01-01T00:00:00Z'

_AUTH_RE = re.compile(r'^ZC2-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-fA-F]+)\s*$')
_NUMERIC_ID_RE = re.compile(r'^[0-9]{1,32}$')


# -- ZC2-HMAC-SHA256, as the official SDKs compute it --------------------------

def hashed_payload(body):
    """Lowercase hex SHA-256 of the raw body bytes."""
    return hashlib.sha256(body).hexdigest()


def canonical_request(method, content_type, host, body):
    """Canonical URI is always '/', the query always empty; only content-type and host are signed."""
    canonical_headers = 'content-type:%s\nhost:%s\n' % (content_type, host)
    return '\n'.join((method, '/', '', canonical_headers, SIGNED_HEADERS, hashed_payload(body)))


def string_to_sign(timestamp, canon):
    return '%s\n%s\n%s' % (SIGNATURE_METHOD, timestamp, hashlib.sha256(canon.encode('utf-8')).hexdigest())


def signature(secret, timestamp, content_type, host, body, method='POST'):
    """The hex signature; the key is the raw access-key password (no derivation)."""
    sts = string_to_sign(timestamp, canonical_request(method, content_type, host, body))
    return hmac.new(secret.encode('utf-8'), sts.encode('utf-8'), hashlib.sha256).hexdigest()


def parse_authorization(value):
    """(access_key_id, signed_headers, signature) of a ZC2 Authorization header, or None."""
    match = _AUTH_RE.match(value or '')
    return match.groups() if match else None


def new_request_id():
    return 'T' + str(uuid.uuid4()).upper()


def _error(status, code, message, request_id=None):
    request_id = request_id or new_request_id()
    return Response.json(status, {'requestId': request_id, 'code': code, 'message': message},
                         error_code=code, request_id=request_id)


def _success(fields=None):
    request_id = new_request_id()
    inner = {'requestId': request_id}
    inner.update(fields or {})
    return Response.json(200, {'requestId': request_id, 'response': inner}, request_id=request_id)


# -- request parameter helpers ------------------------------------------------

def _required_id(params, name):
    value = params.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, 'INVALID_PARAMETER', 'Parameter %s is required and must be a non-empty string.' % name)
    return value


def _optional_str(params, name):
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, 'INVALID_PARAMETER', 'Parameter %s must be a string.' % name)
    return value


def _optional_ids(params, name):
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ApiError(400, 'INVALID_PARAMETER', 'Parameter %s must be a list of strings.' % name)
    if len(value) > MAX_IDS_PER_DESCRIBE:
        raise ApiError(400, 'INVALID_PARAMETER', 'Parameter %s accepts at most %d IDs.' % (name, MAX_IDS_PER_DESCRIBE))
    return value or None  # an empty list filters nothing


def _paging(params, most=MAX_PAGE_SIZE, over='error'):
    page_num = params.get('pageNum')
    page_size = params.get('pageSize')
    page_num = 1 if page_num is None else page_num
    page_size = DEFAULT_PAGE_SIZE if page_size is None else page_size
    for name, value in (('pageNum', page_num), ('pageSize', page_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ApiError(400, 'INVALID_PARAMETER', 'Parameter %s must be a positive integer.' % name)
    if page_size > most:
        if over != 'clamp':
            raise ApiError(400, 'INVALID_PARAMETER', 'Parameter pageSize must be at most %d.' % most)
        page_size = most
    return page_num, page_size


def _page(items, params, most=MAX_PAGE_SIZE, over='error'):
    page_num, page_size = _paging(params, most, over)
    start = (page_num - 1) * page_size
    return {'totalCount': len(items), 'dataSet': items[start:start + page_size]}


def _name_matches(pattern, name):
    """A trailing '*' makes the name filter fuzzy (substring), otherwise it is exact."""
    if pattern is None:
        return True
    if pattern.endswith('*'):
        return pattern[:-1] in (name or '')
    return pattern == name


# -- seed validation ----------------------------------------------------------

def seed_tags(tags, where):
    """Tags seeded as a mapping or as [{key, value}], kept as [[key, value]] (one value a key on a resource)."""
    if tags is None:
        return []
    if isinstance(tags, dict):
        tags = [{'key': k, 'value': v} for k, v in tags.items()]
    if not isinstance(tags, list) or not all(isinstance(t, dict) and set(t) == {'key', 'value'} and isinstance(t['key'], str)
                                             and isinstance(t['value'], str) for t in tags):
        raise SettingsError('%s: tags must be a mapping of strings or a list of {key, value} strings' % where)
    return [[t['key'], t['value']] for t in tags]


def tag_list(pairs):
    return [{'key': k, 'value': v} for k, v in pairs]


def _check_id(value, where):
    """Checked in place of check_entry's non-empty-string check, for the hint about YAML numbers."""
    if not isinstance(value, str) or not _NUMERIC_ID_RE.match(value):
        raise SettingsError('%s: id %r must be a string of decimal digits (Zenlayer IDs are numeric '
                            'strings; quote them in YAML)' % (where, value))


class ZenlayerCloud(Cloud):
    name = 'zenlayer'
    default_settings = {
        'timestamp_window_s': 300,              # undocumented by Zenlayer: assumed +-5 minutes
        'duplicate_bind': 'noop',               # 'noop' (success, nothing changes) or 'error'
        'unbind_not_bound': 'noop',             # 'noop' (success, nothing changes) or 'error'
        'max_security_groups_per_instance': 2,  # documented: at most 2 per instance
        # "Asynchronous" changes (reference section 7): after a write, this many DescribeInstances answers
        # naming the instance still show its list from before the write.
        'visibility_delay_reads': 0,
        # How DescribeSecurityGroups spells securityGroupStatus: 'as_seeded' or 'upper' (AVAILABLE, as DeleteSecurityGroup's
        # doc spells it). The bind and unbind checks compare without regard to case.
        'group_status_case': 'as_seeded',
        # 'allow' (undocumented; assumed) or 'refuse': unbinding an instance's last group answers an error (made-up code).
        'unbind_last': 'allow',
        # [inferred] Writes answered at once that take effect this many seconds later ("asynchronous" changes).
        'write_apply_delay_s': 0,
        'group_order': 'keep',                  # order of groups in DescribeInstances: keep | reverse | shuffle
        'group_order_seed': 0,
        # [inferred] zec: what DescribeNetworkInterfaces shows as securityGroupId for a vNIC without a group of its
        # own: 'none' (null) or 'vpc_default' (the group of its VPC, which it inherits).
        'zec_inherited_group_shown': 'none',
        # Tags (zrm). The docs state only the 1-64 lengths; the rest are assumptions, one setting per plausible answer.
        'tag_chars': r'[A-Za-z0-9 _.:/=+\-@]',     # [inferred] one character a key or value may hold (400 INVALID_PARAMETER)
        'max_tags_per_resource': 20,                # [inferred] above it: 403 OPERATION_DENIED_RESOURCE_TAG_EXCEED_LIMIT (made up)
        'tag_taggable': ['vm', 'zec'],              # [inferred] the instance kinds zrm tags; others: 404 INVALID_RESOURCE_CAN_NOT_BOUND
        'modify_requires_created_tag': False,       # [inferred] ModifyResourceTags of a pair not made by CreateTags: 404 INVALID_TAG_NOT_FOUND
        'create_existing_tag': 'noop',              # [inferred] CreateTags of an existing pair: 'noop' or 'error' (400, made-up code)
        'tag_bind_max_resources': 100,              # [inferred] resourceUuids per TagBindResources / TagUnbindResources (400 above)
        # [inferred] How DescribeInstances (vm and zec) shows tags: 'shown' ({"tags": [..]}, empty too), 'null_when_none'
        # (null for an instance without tags) or 'absent' (no tags field at all).
        'describe_tags': 'shown',
        # [inferred] Which vNICs the zec DescribeInstances lists in nics[]: 'all' or 'primary' (only the Primary one).
        'zec_instance_nics_listed': 'all',
        # DescribeInstances filters tagKeys [key] and tags [{key, value}]: whether several must all match or any one
        # [inferred] ('all' or 'any'); a key and a pair are one list of conditions.
        'describe_tag_filter': 'all',
        # [inferred] zec DescribeInstances: how 'name' matches ('exact', or 'fuzzy': a substring), its pageSize maximum
        # (vm's is documented as 1000) and what a larger one gets ('error': 400 INVALID_PARAMETER, or 'clamp').
        'zec_name_filter': 'exact',
        'zec_max_page_size': 1000,
        'zec_page_size_over_max': 'error',
    }
    # Zenlayer publishes no numbers: an assumed 20 requests per second per action.
    rate_limits = dict((action, 20) for action in ACTIONS + ZEC_ACTIONS + ZRM_ACTIONS)
    write_actions = ('AssociateSecurityGroupInstance', 'UnAssociateSecurityGroupInstance', 'ModifyNetworkInterfaceAttribute',
                     'CreateTags', 'DeleteTags', 'ModifyResourceTags', 'TagBindResources', 'TagUnbindResources')

    # -- state ------------------------------------------------------------
    def reset(self):
        self.credentials = {}       # access key id -> credential entry
        self.security_groups = {}   # id -> {'id', 'name', 'status', 'is_default', 'description', 'create_time'}
        self.instances = {}         # id -> {'id', 'status', 'name', 'zone', 'unsupported_security_group', ...}
        self.stale = {}             # id -> [list shown by Describe calls, DescribeInstances answers left to show it]
        self.zec_vpcs = {}          # id -> {'id', 'name', 'security_group'}: the VPC's default group (or None)
        self.zec_instances = {}     # id -> {'id', 'name', 'status', 'zone'}
        self.nics = {}              # id -> {'id', 'name', 'instance', 'vpc', 'type', 'status', 'security_groups': [] or [one]}
        self.tag_library = []       # [[key, value]]: the tags made (CreateTags, or bound); vm and zec instances hold 'tags' too

    def seed(self, data):
        self.seed_section(data, ('credentials', 'security_groups', 'instances', 'zec_vpcs', 'zec_instances', 'network_interfaces', 'tags'))
        credentials, groups, instances = self.seed_credentials(data), {}, {}
        for where, entry in self.seed_entries(data, 'security_groups'):
            check_entry(entry, where, (), ('id', 'name', 'status', 'is_default', 'description', 'create_time'))
            _check_id(entry.get('id'), where)
            if entry['id'] in groups:
                raise SettingsError('%s: duplicate security group id %s' % (where, entry['id']))
            group = {'id': entry['id'], 'name': entry.get('name', entry['id']), 'status': entry.get('status', SG_AVAILABLE),
                     'is_default': entry.get('is_default', False), 'description': entry.get('description', ''),
                     'create_time': entry.get('create_time', DEFAULT_CREATE_TIME)}
            if not isinstance(group['status'], str) or not isinstance(group['is_default'], bool):
                raise SettingsError('%s: status must be a string and is_default a boolean' % where)
            groups[group['id']] = group
        limit = self.settings['max_security_groups_per_instance']
        for where, entry in self.seed_entries(data, 'instances'):
            check_entry(entry, where, (), ('id', 'status', 'name', 'zone', 'unsupported_security_group',
                                           'security_groups', 'create_time', 'tags'), string_lists=('private_ips', 'public_ips'))
            _check_id(entry.get('id'), where)
            if entry['id'] in instances:
                raise SettingsError('%s: duplicate instance id %s' % (where, entry['id']))
            instance = {'id': entry['id'], 'status': entry.get('status', 'RUNNING'), 'name': entry.get('name', entry['id']),
                        'zone': entry.get('zone', 'SEL-A'),
                        'unsupported_security_group': entry.get('unsupported_security_group', False),
                        'security_groups': list(entry.get('security_groups') or []),
                        'create_time': entry.get('create_time', DEFAULT_CREATE_TIME), 'tags': seed_tags(entry.get('tags'), where)}
            instance.update((key, list(entry[key])) for key in ('private_ips', 'public_ips') if key in entry)
            if instance['status'] not in INSTANCE_STATUSES:
                raise SettingsError('%s: status %r is not one of %s' % (where, instance['status'], ', '.join(INSTANCE_STATUSES)))
            if not isinstance(instance['unsupported_security_group'], bool):
                raise SettingsError('%s: unsupported_security_group must be a boolean' % where)
            bound = instance['security_groups']
            unknown = [sg for sg in bound if sg not in groups]
            if unknown or len(set(bound)) != len(bound):
                raise SettingsError('%s: security_groups must be distinct seeded security group ids (bad: %s)' % (
                    where, ', '.join(str(sg) for sg in unknown) or 'duplicates'))
            if len(bound) > limit:
                raise SettingsError('%s: %d security groups exceed max_security_groups_per_instance=%d' % (
                    where, len(bound), limit))
            instances[instance['id']] = instance
        zec = self.seed_zec(data, groups)
        library = seed_tags(data.get('tags'), '%s tags' % self.name)
        for holder in list(instances.values()) + list(zec[1].values()):
            library += [t for t in holder['tags'] if t not in library]
        self.credentials, self.security_groups, self.instances = credentials, groups, instances
        self.zec_vpcs, self.zec_instances, self.nics = zec
        self.tag_library = [t for n, t in enumerate(library) if t not in library[:n]]
        self.stale = {}

    def seed_zec(self, data, groups):
        vpcs, instances, nics = {}, {}, {}
        for where, entry in self.seed_entries(data, 'zec_vpcs'):
            check_entry(entry, where, ('id',), ('name', 'security_group'), strings=('id', 'name'))
            if entry.get('security_group') is not None and entry['security_group'] not in groups:
                raise SettingsError('%s: security_group must be a seeded security group id' % where)
            vpcs[entry['id']] = {'id': entry['id'], 'name': entry.get('name', entry['id']), 'security_group': entry.get('security_group')}
        for where, entry in self.seed_entries(data, 'zec_instances'):
            check_entry(entry, where, ('id',), ('name', 'status', 'zone', 'tags'), strings=('id', 'name', 'status', 'zone'),
                        string_lists=('private_ips', 'public_ips'))
            instances[entry['id']] = {'id': entry['id'], 'name': entry.get('name', entry['id']), 'status': entry.get('status', 'RUNNING'),
                                      'zone': entry.get('zone', 'SEL-A'), 'tags': seed_tags(entry.get('tags'), where)}
            instances[entry['id']].update((key, list(entry[key])) for key in ('private_ips', 'public_ips') if key in entry)
        for where, entry in self.seed_entries(data, 'network_interfaces'):
            check_entry(entry, where, ('id', 'vpc'), ('name', 'instance', 'type', 'status', 'security_group'),
                        strings=('id', 'vpc', 'name', 'type', 'status'))
            nic = {'id': entry['id'], 'name': entry.get('name', entry['id']), 'instance': entry.get('instance'), 'vpc': entry['vpc'],
                   'type': entry.get('type', 'Secondary'), 'status': entry.get('status', 'IN_USE'),
                   'security_groups': [entry['security_group']] if entry.get('security_group') is not None else []}
            if nic['vpc'] not in vpcs or (nic['instance'] is not None and nic['instance'] not in instances):
                raise SettingsError('%s: vpc (and instance, if given) must be seeded zec_vpcs / zec_instances ids' % where)
            if nic['type'] not in ZEC_NIC_TYPES or nic['status'] not in ZEC_NIC_STATUSES:
                raise SettingsError('%s: type must be one of %s and status one of %s' % (where, ', '.join(ZEC_NIC_TYPES), ', '.join(ZEC_NIC_STATUSES)))
            if any(sg not in groups for sg in nic['security_groups']):
                raise SettingsError('%s: security_group must be a seeded security group id' % where)
            if nic['id'] in nics:
                raise SettingsError('%s: duplicate network interface id %s' % (where, nic['id']))
            nics[nic['id']] = nic
        for iid in instances:
            if [nic['type'] for nic in nics.values() if nic['instance'] == iid].count('Primary') != 1:
                raise SettingsError('%s: zec instance %s must have exactly one Primary network interface' % (self.name, iid))
        return vpcs, instances, nics

    def snapshot(self):
        return {
            'credentials': [dict(entry) for entry in self.credentials.values()],
            'security_groups': [dict(group) for group in self.security_groups.values()],
            'instances': [dict(instance, security_groups=list(instance['security_groups']), tags=tag_list(instance['tags']))
                          for instance in self.instances.values()],
            'zec_vpcs': [dict(vpc) for vpc in self.zec_vpcs.values()],
            'zec_instances': [dict(instance, tags=tag_list(instance['tags'])) for instance in self.zec_instances.values()],
            'tags': tag_list(self.tag_library),
            'network_interfaces': [dict(nic, security_groups=list(nic['security_groups'])) for nic in self.nics.values()],
        }

    # -- requests ---------------------------------------------------------
    def identify(self, request):
        action = request.header('X-ZC-Action')
        if action is None:
            return None
        return _ACTION_BY_LOWER.get(action.strip().lower(), action)

    def authenticate(self, request, action):
        auth = request.header('Authorization')
        parsed = parse_authorization(auth)
        if parsed is None:
            return _error(401, 'INVALID_AUTHORIZATION',
                          'The Authorization header is missing or is not "ZC2-HMAC-SHA256 Credential=..., '
                          'SignedHeaders=content-type;host, Signature=...".')
        access_key, signed_headers, received = parsed
        timestamp = request.header('X-ZC-Timestamp')
        method = request.header('X-ZC-Signature-Method')
        if signed_headers.lower() != SIGNED_HEADERS:
            return _error(401, 'INVALID_AUTHORIZATION', 'SignedHeaders must be content-type;host.')
        if method != SIGNATURE_METHOD:
            return _error(401, 'INVALID_AUTHORIZATION', 'X-ZC-Signature-Method must be ZC2-HMAC-SHA256.')
        if timestamp is None or not timestamp.strip().isdigit():
            return _error(401, 'INVALID_AUTHORIZATION', 'X-ZC-Timestamp must be Unix seconds.')
        credential = self.credentials.get(access_key)
        if credential is None:
            return _error(401, 'INVALID_ACCESS_KEY', 'The access key %s does not exist.' % access_key)
        if abs(self.now() - int(timestamp)) > float(self.settings['timestamp_window_s']):
            return _error(401, 'SIGNATURE_EXPIRED', 'The request timestamp %s is outside the allowed window of %s seconds.' % (
                timestamp, self.settings['timestamp_window_s']))
        expected = signature(credential['secret_key'], timestamp, request.header('Content-Type', ''),
                             request.header('Host', ''), request.body, request.method)
        if not hmac.compare_digest(expected, received.lower()):
            return _error(401, 'INVALID_SIGNATURE', 'The request signature does not match.')
        request.access_key = access_key
        return None

    # [inferred] No public Zenlayer document describes sub-user permission policies: the policy is the emulator's own
    # {"actions": ["vm:DescribeInstances", ...]} (service path segment and action), its denial a 403 of its own.
    def parse_policy(self, doc, where):
        actions = doc.get('actions') if isinstance(doc, dict) and set(doc) <= {'actions', 'description'} else None
        if not isinstance(actions, list) or not actions or not all(isinstance(a, str) and ':' in a for a in actions):
            raise SettingsError('%s: a Zenlayer policy (the emulator\'s own format) is {"actions": ["vm:DescribeInstances", ...]}' % where)
        return Grants(actions)

    def permission(self, request, action):
        service = request.path.rstrip('/').rsplit('/', 1)[-1]
        return '%s:%s' % (service, action) if action else None

    def denied(self, request, action, permission):
        return _error(403, 'PERMISSION_DENIED', 'The access key is not allowed to perform %s.' % permission)

    def fault_response(self, kind, request, action):
        if kind == 'throttle':
            return _error(429, 'REQUEST_LIMIT_EXCEEDED', 'Request limit exceeded, please try again later.')
        if kind == 'server_error':
            return _error(503, 'SERVICE_TEMPORARY_UNAVAILABLE', 'Service temporarily unavailable, please try again later.')
        # in_progress: Zenlayer has no dedicated code; an instance in a transitional state is the closest.
        return _error(403, 'OPERATION_DENIED_INSTANCE_STATUS', 'Operations on the instance with current status are not supported.')

    def describe_request(self, request, action):
        params = request.json()
        if action in ('AssociateSecurityGroupInstance', 'UnAssociateSecurityGroupInstance'):
            return {'targets': [params.get('instanceId')],
                    'bind' if action == 'AssociateSecurityGroupInstance' else 'unbind': [params.get('securityGroupId')]}
        if action == 'ModifyNetworkInterfaceAttribute':
            return {'targets': [params.get('nicId')], 'set': [params.get('securityGroupId')]}
        if action == 'DescribeInstances':
            return {'targets': list(params.get('instanceIds') or []) or None}
        if action == 'DescribeNetworkInterfaces':
            return {'targets': list(params.get('nicIds') or []) or None}
        if action in ('ModifyResourceTags', 'DescribeResourceTags'):
            return {'targets': [params.get('resourceUuid')]}
        if action in ('TagBindResources', 'TagUnbindResources'):
            return {'targets': list(params.get('resourceUuids') or [])}
        return None

    def dispatch(self, request, action):
        try:
            if request.method != 'POST':
                raise ApiError(405, 'INVALID_REQUEST_METHOD', 'Only POST is supported.')
            path = request.path.rstrip('/')
            services = {SERVICE_PATH: ('_', API_VERSIONS, ACTIONS), ZEC_SERVICE_PATH: ('_zec_', ZEC_API_VERSIONS, ZEC_ACTIONS),
                        ZRM_SERVICE_PATH: ('_zrm_', ZRM_API_VERSIONS, ZRM_ACTIONS)}
            if path not in services:
                raise ApiError(404, 'INVALID_SERVICE_NOT_FOUND', 'No service at %s; this emulator serves %s.'
                               % (request.path, ', '.join(sorted(services))))
            prefix, versions, actions = services[path]
            version = request.header('X-ZC-Version')
            if version not in versions:
                raise ApiError(400, 'INVALID_VERSION', 'X-ZC-Version %r is not supported (%s).' % (version, ', '.join(versions)))
            if action not in actions:
                raise ApiError(400, 'INVALID_ACTION', 'Action %r is not supported.' % action)
            try:
                params = request.json()
            except ValueError:
                params = None
            if not isinstance(params, dict):
                raise ApiError(400, 'INVALID_PARAMETER', 'The request body must be a JSON object.')
            handler = getattr(self, prefix + action)
            return _success(handler(params))
        except ApiError as exc:
            return _error(exc.status, exc.code, exc.message)

    # -- actions ----------------------------------------------------------
    def _check_binding(self, params, associate):
        """The documented checks, in the documented order; returns (group id, instance)."""
        sg_id = _required_id(params, 'securityGroupId')
        instance_id = _required_id(params, 'instanceId')
        group = self.security_groups.get(sg_id)
        if group is None:
            raise ApiError(404, 'INVALID_SECURITY_GROUP_NOT_FOUND', 'Security group does not exist.')
        if group['status'].upper() != SG_AVAILABLE.upper():
            raise ApiError(403, 'OPERATION_DENIED_SECURITY_GROUP_STATUS_NOT_AVAILABLE', 'Status of security group should be `Available`.')
        instance = self.instances.get(instance_id)
        if instance is None:
            raise ApiError(404, 'INVALID_INSTANCE_NOT_FOUND', 'Instance does not exist.')
        if instance['status'] not in BINDABLE_INSTANCE_STATUSES:
            raise ApiError(403, 'OPERATION_DENIED_INSTANCE_STATUS', 'Operations on the instance with current status are not supported.')
        if associate and instance['unsupported_security_group']:
            raise ApiError(403, 'OPERATION_DENIED_INSTANCE_NOT_SUPPORT_SECURITY_GROUP', 'Instance not support security groups.')
        return sg_id, instance

    def _AssociateSecurityGroupInstance(self, params):  # pylint: disable=invalid-name
        sg_id, instance = self._check_binding(params, associate=True)
        bound = instance['security_groups']
        if sg_id in bound:
            if self.policy('duplicate_bind', 'INTERNAL_SERVER_ERROR') == 'error':
                # Not a Zenlayer code: the emulator's strict mode only.
                raise ApiError(403, 'OPERATION_DENIED_SECURITY_GROUP_ALREADY_ASSOCIATED',
                               'The security group is already applied on the instance (emulator strict mode).')
            return {}
        if len(bound) >= int(self.settings['max_security_groups_per_instance']):
            raise ApiError(403, 'OPERATION_DENIED_INSTANCE_SECURITY_GROUP_EXCEED_LIMIT',
                           'Quantity of security groups applied in an instance exceeds the limit.')
        self._change(instance, lambda groups: groups if sg_id in groups else groups + [sg_id])
        return {}

    def _UnAssociateSecurityGroupInstance(self, params):  # pylint: disable=invalid-name
        sg_id, instance = self._check_binding(params, associate=False)
        bound = instance['security_groups']
        if sg_id not in bound:
            if self.policy('unbind_not_bound', 'INTERNAL_SERVER_ERROR') == 'error':
                # Not a Zenlayer code: the emulator's strict mode only.
                raise ApiError(403, 'OPERATION_DENIED_SECURITY_GROUP_NOT_ASSOCIATED',
                               'The security group is not applied on the instance (emulator strict mode).')
            return {}
        if len(bound) == 1 and self.settings['unbind_last'] != 'allow':
            if self.settings['unbind_last'] != 'refuse':
                raise ApiError(500, 'INTERNAL_SERVER_ERROR', 'Emulator setting zenlayer.unbind_last must be "allow" or "refuse", '
                                                             'not %r.' % (self.settings['unbind_last'],))
            # Not a Zenlayer code: the emulator's strict mode only.
            raise ApiError(403, 'OPERATION_DENIED_INSTANCE_LAST_SECURITY_GROUP',
                           'An instance must keep at least one security group (emulator strict mode).')
        self._change(instance, lambda groups: [sg for sg in groups if sg != sg_id])
        return {}

    def _change(self, instance, new_list):
        """Change the instance's list now, or write_apply_delay_s later (then on the list it has by then)."""
        self._delay_reads()

        def change():
            self._written(instance)
            instance['security_groups'][:] = new_list(list(instance['security_groups']))
        self.apply_later(change)

    def _delay_reads(self):
        delay = self.settings['visibility_delay_reads']
        if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
            raise ApiError(500, 'INTERNAL_SERVER_ERROR', 'Emulator setting zenlayer.visibility_delay_reads must be an '
                                                         'integer >= 0, not %r.' % (delay,))
        return delay

    def _written(self, instance):
        """Called before a change: Describe calls keep showing the list they showed until now."""
        delay = self._delay_reads()
        if delay:
            self.stale[instance['id']] = [self._visible(instance), delay]

    def _visible(self, instance):
        """The security groups Describe calls show for the instance."""
        stale = self.stale.get(instance['id'])
        return list(stale[0]) if stale else list(instance['security_groups'])

    def _filtered_instances(self, params, check_filters=True):
        ids = _optional_ids(params, 'instanceIds')
        filters = {}
        if check_filters:
            for name in ('instanceStatus', 'securityGroupId', 'instanceName', 'zoneId'):
                filters[name] = _optional_str(params, name)
        found = []
        for instance in self.instances.values():
            if ids is not None and instance['id'] not in ids:
                continue  # unknown IDs are simply omitted
            if filters.get('instanceStatus') is not None and instance['status'] != filters['instanceStatus']:
                continue
            if filters.get('securityGroupId') is not None and filters['securityGroupId'] not in self._visible(instance):
                continue
            if filters.get('zoneId') is not None and instance['zone'] != filters['zoneId']:
                continue
            if not _name_matches(filters.get('instanceName'), instance['name']):
                continue
            if check_filters and not self._tags_match(params, instance['tags']):
                continue
            found.append(instance)
        return found

    def _tags_match(self, params, pairs):
        """DescribeInstances' tagKeys [key] and tags [{key, value}] (vm and zec), as describe_tag_filter says."""
        keys, tags = params.get('tagKeys'), params.get('tags')
        if keys is not None and (not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys)):
            raise ApiError(400, 'INVALID_PARAMETER', 'Parameter tagKeys must be a list of strings.')
        if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, dict) and isinstance(t.get('key'), str)
                                                                       and isinstance(t.get('value', ''), (str, type(None))) for t in tags)):
            raise ApiError(400, 'INVALID_PARAMETER', 'Parameter tags must be a list of Tag {key, value}.')
        wanted = [(k, None) for k in keys or []] + [(t['key'], t.get('value')) for t in tags or []]
        if not wanted:
            return True
        mode = self.settings['describe_tag_filter']
        if mode not in ('all', 'any'):
            raise ApiError(500, 'INTERNAL_SERVER_ERROR', 'Emulator setting zenlayer.describe_tag_filter must be all or any.')
        found = [any(k == key and (value is None or v == value) for k, v in pairs) for key, value in wanted]
        return all(found) if mode == 'all' else any(found)

    def _DescribeInstances(self, params):  # pylint: disable=invalid-name
        answer = _page(self._filtered_instances(params), params)
        answer['dataSet'] = [self._instance_info(instance) for instance in answer['dataSet']]
        for item in answer['dataSet']:
            stale = self.stale.get(item['instanceId'])
            if stale:
                stale[1] -= 1
                if not stale[1]:
                    del self.stale[item['instanceId']]
        return answer

    def _DescribeInstancesStatus(self, params):  # pylint: disable=invalid-name
        items = [{'instanceId': i['id'], 'instanceStatus': i['status']} for i in self._filtered_instances(params, check_filters=False)]
        return _page(items, params)

    def _DescribeSecurityGroups(self, params):  # pylint: disable=invalid-name
        ids = _optional_ids(params, 'securityGroupIds')
        name = _optional_str(params, 'securityGroupName')
        items = [self._security_group_info(group) for group in self.security_groups.values()
                 if (ids is None or group['id'] in ids) and _name_matches(name, group['name'])]
        return _page(items, params)

    def _instance_info(self, instance):
        # The full InstanceInfo shape, nested objects included (the SDK models expect them).
        info = {
            'instanceId': instance['id'], 'zoneId': instance['zone'], 'instanceName': instance['name'],
            'instanceType': 'z2a.cpu.1', 'cpuCount': 1, 'memory': 2, 'imageId': 'ubuntu-22.04', 'imageName': 'Ubuntu 22.04',
            'instanceChargeType': 'POSTPAID', 'internetMaxBandwidthOut': 100, 'internetChargeType': 'ByBandwidth',
            'period': None, 'publicIpAddresses': list(instance.get('public_ips', [])), 'publicIpv6Addresses': [],
            'privateIpAddresses': list(instance.get('private_ips', [])),
            'subnetId': None, 'createTime': instance['create_time'], 'expiredTime': None,
            'resourceGroupId': None, 'resourceGroupName': None, 'instanceStatus': instance['status'],
            'trafficPackageSize': None, 'securityGroupIds': self.shown_order(self._visible(instance)),
            'systemDisk': {'diskId': instance['id'] + '1', 'diskSize': 20, 'diskCategory': 'Standard NVMe SSD'},
            'dataDisks': [], 'autoRenew': False, 'keyId': None,
            'nic': {'wanName': 'wan0', 'lanName': 'lan0'},
        }
        return self._with_tags(info, instance)

    def _with_tags(self, info, holder):
        """The tags field of a Describe answer, as describe_tags says."""
        shown = self.settings['describe_tags']
        if shown not in ('shown', 'null_when_none', 'absent'):
            raise ApiError(500, 'INTERNAL_SERVER_ERROR', 'Emulator setting zenlayer.describe_tags must be shown, null_when_none or absent.')
        if shown == 'shown' or (shown == 'null_when_none' and holder['tags']):
            info['tags'] = {'tags': tag_list(holder['tags'])}
        elif shown == 'null_when_none':
            info['tags'] = None
        return info

    def _status_spelling(self, status):
        case = self.settings['group_status_case']
        if case not in ('as_seeded', 'upper'):
            raise ApiError(500, 'INTERNAL_SERVER_ERROR', 'Emulator setting zenlayer.group_status_case must be "as_seeded" or "upper", '
                                                         'not %r.' % (case,))
        return status.upper() if case == 'upper' else status

    def _security_group_info(self, group):
        bound = [instance['id'] for instance in self.instances.values() if group['id'] in self._visible(instance)]
        return {
            'securityGroupId': group['id'], 'securityGroupName': group['name'],
            'securityGroupStatus': self._status_spelling(group['status']), 'createTime': group['create_time'],
            'description': group['description'], 'instanceIds': bound, 'ruleInfos': [],
            'isDefault': group['is_default'],
        }

    # -- zec ----------------------------------------------------------------

    def _zec_ModifyNetworkInterfaceAttribute(self, params):  # pylint: disable=invalid-name
        """The switch: the vNIC's one group becomes securityGroupId; the same group again is a documented success."""
        nic = self.nics.get(_required_id(params, 'nicId'))
        if nic is None:
            raise ApiError(404, 'INVALID_NIC_NOT_FOUND', 'The network interface does not exist.')
        _optional_str(params, 'name')
        sg_id = _optional_str(params, 'securityGroupId')
        if sg_id is not None and sg_id not in self.security_groups:
            raise ApiError(404, 'INVALID_SECURITY_GROUP_NOT_FOUND', 'Security group does not exist.')
        if nic['status'] not in ZEC_SWITCHABLE_NIC_STATUSES:
            raise ApiError(400, 'INVALID_NIC_STATUS', 'The network interface status %s does not support this operation.' % nic['status'])
        if params.get('name') is not None:
            nic['name'] = params['name']
        if sg_id is not None and nic['security_groups'] != [sg_id]:
            self._change(nic, lambda groups: [sg_id])
        return {}

    def _zec_visible(self, nic):
        """The vNIC's group as Describe calls show it (an inherited one per zec_inherited_group_shown)."""
        groups = self._visible(nic)
        shown = self.settings['zec_inherited_group_shown']
        if shown not in ('none', 'vpc_default'):
            raise ApiError(500, 'INTERNAL_SERVER_ERROR', 'Emulator setting zenlayer.zec_inherited_group_shown must be "none" or '
                                                         '"vpc_default", not %r.' % (shown,))
        if not groups and shown == 'vpc_default':
            return self.zec_vpcs[nic['vpc']]['security_group']
        return groups[0] if groups else None

    def _nic_info(self, nic):
        stale = self.stale.get(nic['id'])
        group = self._zec_visible(nic)
        if stale:
            stale[1] -= 1
            if not stale[1]:
                del self.stale[nic['id']]
        return {'nicId': nic['id'], 'name': nic['name'], 'status': nic['status'], 'nicType': nic['type'], 'regionId': 'asia-east-1',
                'nicSubnetType': 'IPv4', 'publicIpList': [], 'privateIpList': [], 'primaryIpv4': None, 'primaryIpv6': None,
                'ipv6Cidr': None, 'secondaryIpv4s': [], 'macAddress': None, 'instanceId': nic['instance'], 'vpcId': nic['vpc'],
                'subnetId': None, 'createTime': DEFAULT_CREATE_TIME, 'updateTime': None, 'resourceGroup': None,
                'securityGroupId': group, 'tags': None}

    def _zec_DescribeNetworkInterfaces(self, params):  # pylint: disable=invalid-name
        ids = _optional_ids(params, 'nicIds')
        filters = dict((name, _optional_str(params, name)) for name in ('instanceId', 'vpcId', 'nicType', 'status', 'securityGroupId'))
        fields = {'instanceId': 'instance', 'vpcId': 'vpc', 'nicType': 'type', 'status': 'status'}
        found = [nic for nic in self.nics.values() if (ids is None or nic['id'] in ids)
                 and all(filters[name] is None or nic[field] == filters[name] for name, field in fields.items())
                 and (filters['securityGroupId'] is None or self._visible(nic) == [filters['securityGroupId']])]
        page = _page(found, params)
        page['dataSet'] = [self._nic_info(nic) for nic in page['dataSet']]
        return page

    def _zec_name_matches(self, name, instance):
        mode = self.settings['zec_name_filter']
        if mode not in ('exact', 'fuzzy'):
            raise ApiError(500, 'INTERNAL_SERVER_ERROR', 'Emulator setting zenlayer.zec_name_filter must be exact or fuzzy.')
        return name is None or (name in instance['name'] if mode == 'fuzzy' else name == instance['name'])

    def _zec_DescribeInstances(self, params):  # pylint: disable=invalid-name
        ids = _optional_ids(params, 'instanceIds')
        name, status, zone = (_optional_str(params, key) for key in ('name', 'status', 'zoneId'))
        kept = [i for i in self.zec_instances.values() if (ids is None or i['id'] in ids) and self._zec_name_matches(name, i)
                and (status is None or i['status'] == status) and (zone is None or i['zone'] == zone) and self._tags_match(params, i['tags'])]
        over = self.settings['zec_page_size_over_max']
        if over not in ('error', 'clamp'):
            raise ApiError(500, 'INTERNAL_SERVER_ERROR', 'Emulator setting zenlayer.zec_page_size_over_max must be error or clamp.')
        found = _page(kept, params, int(self.settings['zec_max_page_size']), over)
        items = []
        listed = self.settings['zec_instance_nics_listed']
        if listed not in ('all', 'primary'):
            raise ApiError(500, 'INTERNAL_SERVER_ERROR', 'Emulator setting zenlayer.zec_instance_nics_listed must be all or primary.')
        on_page = dict((instance['id'], []) for instance in found['dataSet'])
        for nic in self.nics.values():
            if nic['instance'] in on_page:
                on_page[nic['instance']].append(nic)
        for instance in found['dataSet']:
            nics = [self._nic_info(nic) for nic in on_page[instance['id']]]
            primary = [nic for nic in nics if nic['nicType'] == 'Primary'][0]
            items.append(self._with_tags({
                'instanceId': instance['id'], 'instanceName': instance['name'], 'zoneId': instance['zone'],
                'instanceType': 'z2a.cpu.1', 'cpu': 1, 'memory': 2, 'status': instance['status'],
                'securityGroupId': primary['securityGroupId'], 'subnetId': None, 'nics': nics if listed == 'all' else [primary],
                'publicIpAddresses': list(instance.get('public_ips', [])), 'privateIpAddresses': list(instance.get('private_ips', [])),
                'createTime': DEFAULT_CREATE_TIME}, instance))
        return {'totalCount': found['totalCount'], 'dataSet': items}

    def _zec_DescribeSecurityGroups(self, params):  # pylint: disable=invalid-name
        ids = _optional_ids(params, 'securityGroupIds')
        name = _optional_str(params, 'securityGroupName')
        items = [{'securityGroupId': group['id'], 'securityGroupName': group['name'], 'scope': 'Global', 'createTime': group['create_time'],
                  'isDefault': group['is_default'],
                  'vpcIds': [vpc['id'] for vpc in self.zec_vpcs.values() if vpc['security_group'] == group['id']],
                  'nicIdList': [nic['id'] for nic in self.nics.values() if self._visible(nic) == [group['id']]],
                  'natIdList': [], 'loadBalancerIdList': [], 'haVipIdList': []}
                 for group in self.security_groups.values() if (ids is None or group['id'] in ids) and _name_matches(name, group['name'])]
        return _page(items, params)

    def _zec_DescribeVpcs(self, params):  # pylint: disable=invalid-name
        ids = _optional_ids(params, 'vpcIds')
        items = [{'vpcId': vpc['id'], 'name': vpc['name'], 'cidrBlock': '10.0.0.0/16', 'secondaryCidrBlocks': [], 'ipv6CidrBlock': None,
                  'mtu': 1500, 'isDefault': False, 'createTime': DEFAULT_CREATE_TIME, 'usageIpv4Count': 0, 'usageIpv6Count': 0,
                  'securityGroupId': vpc['security_group'], 'dnsZoneIds': [], 'resourceGroup': None, 'tags': None}
                 for vpc in self.zec_vpcs.values() if ids is None or vpc['id'] in ids]
        return _page(items, params)

    # -- zrm: tags --------------------------------------------------------------

    def _tag_of(self, tag, where):
        """[key, value] of a Tag parameter: key 1-64 characters (required), value 1-64 (optional), of tag_chars."""
        if not isinstance(tag, dict):
            raise ApiError(400, 'INVALID_PARAMETER', 'Parameter %s must be a Tag {key, value}.' % where)
        key, value = tag.get('key'), tag.get('value')
        chars = re.compile(r'^%s*$' % self.settings['tag_chars'])
        if not isinstance(key, str) or not 1 <= len(key) <= TAG_MAX_LEN or not chars.match(key):
            raise ApiError(400, 'INVALID_PARAMETER', 'Parameter %s.key must be 1 to %d allowed characters.' % (where, TAG_MAX_LEN))
        if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= TAG_MAX_LEN or not chars.match(value)):
            raise ApiError(400, 'INVALID_PARAMETER', 'Parameter %s.value must be 1 to %d allowed characters.' % (where, TAG_MAX_LEN))
        return [key, value or '']

    def _tags_param(self, params, name, required=False, most=None):
        tags = params.get(name)
        if tags is None and not required:
            return []
        if not isinstance(tags, list) or (required and not tags) or (most and len(tags) > most):
            raise ApiError(400, 'INVALID_PARAMETER', 'Parameter %s must be a list of Tag%s.' % (name, ' (at most %d)' % most if most else ''))
        return [self._tag_of(tag, '%s[%d]' % (name, n)) for n, tag in enumerate(tags)]

    def _resource(self, uuid):
        """The vm or zec instance a resourceUuid names; 404 INVALID_RESOURCE_NOT_FOUND, or INVALID_RESOURCE_CAN_NOT_BOUND
        for a kind zrm does not tag (tag_taggable)."""
        kind, holder = ('vm', self.instances.get(uuid)) if uuid in self.instances else ('zec', self.zec_instances.get(uuid))
        if holder is None:
            if uuid in self.nics or uuid in self.security_groups or uuid in self.zec_vpcs:
                kind, holder = 'other', {}
            else:
                raise ApiError(404, 'INVALID_RESOURCE_NOT_FOUND', 'Resources do not exist.')
        if kind not in (self.settings['tag_taggable'] or []):
            raise ApiError(404, 'INVALID_RESOURCE_CAN_NOT_BOUND', 'Resources cannot be bound.')
        return holder

    def _set_tags(self, holder, tags):
        if len(tags) > int(self.settings['max_tags_per_resource']):
            # Not a Zenlayer code: the docs name no limit, nor its error.
            raise ApiError(403, 'OPERATION_DENIED_RESOURCE_TAG_EXCEED_LIMIT', 'Quantity of tags bound to a resource exceeds the limit '
                                                                              '(emulator assumption).')
        holder['tags'] = tags
        self.tag_library += [t for t in tags if t not in self.tag_library]

    def _zrm_ModifyResourceTags(self, params):  # pylint: disable=invalid-name
        """replaceTags added or overwritten (one value a key), deleteTagKeys removed (an absent key is nothing), in one step."""
        holder = self._resource(_required_id(params, 'resourceUuid'))
        replace = self._tags_param(params, 'replaceTags')
        delete = params.get('deleteTagKeys') or []
        if not isinstance(delete, list) or not all(isinstance(k, str) for k in delete):
            raise ApiError(400, 'INVALID_PARAMETER', 'Parameter deleteTagKeys must be a list of strings.')
        if self.settings['modify_requires_created_tag'] and any(t not in self.tag_library for t in replace):
            raise ApiError(404, 'INVALID_TAG_NOT_FOUND', 'Tag does not exist.')
        keys = [k for k, _v in replace]
        tags = [t for t in holder['tags'] if t[0] not in delete and t[0] not in keys] + replace
        self._set_tags(holder, tags)
        return {}

    def _zrm_DescribeResourceTags(self, params):  # pylint: disable=invalid-name
        holder = self._resource(_required_id(params, 'resourceUuid'))
        return {'totalCount': len(holder['tags']),
                'dataSet': [{'key': k, 'value': v, 'createdDate': '2025-10-14 15:57:24'} for k, v in holder['tags']]}

    def _zrm_CreateTags(self, params):  # pylint: disable=invalid-name
        tags = self._tags_param(params, 'tags', required=True, most=CREATE_TAGS_MAX)
        if any(t in self.tag_library for t in tags) and self.policy('create_existing_tag', 'INTERNAL_SERVER_ERROR') == 'error':
            # Not a Zenlayer code: the docs say only that a duplicate pair is not allowed.
            raise ApiError(400, 'OPERATION_DENIED_TAG_ALREADY_EXISTS', 'Duplicate key-value tags are not allowed (emulator assumption).')
        self.tag_library += [t for t in tags if t not in self.tag_library]
        return {}

    def _zrm_DeleteTags(self, params):  # pylint: disable=invalid-name
        tags = self._tags_param(params, 'tags', required=True)
        holders = list(self.instances.values()) + list(self.zec_instances.values())
        if any(t in h['tags'] for t in tags for h in holders):
            # Not a Zenlayer code: the console says a tag with resources bound cannot be deleted.
            raise ApiError(403, 'OPERATION_DENIED_TAG_BOUND', 'Tags can only be deleted if they have no resources bound (emulator assumption).')
        self.tag_library = [t for t in self.tag_library if t not in tags]
        return {}

    def _zrm_DescribeTags(self, params):  # pylint: disable=invalid-name
        keys = params.get('tagKeys')
        wanted = self._tags_param(params, 'tags')
        holders = list(self.instances.values()) + list(self.zec_instances.values())
        items = [{'key': k, 'value': v, 'bindResourceCount': sum(1 for h in holders if [k, v] in h['tags']), 'createdDate': '2025-10-14 15:56:36'}
                 for k, v in self.tag_library if (not keys or k in keys) and (not wanted or [k, v] in wanted)]
        return _page(items, params)

    def _tag_and_resources(self, params):
        tag = self._tag_of(params.get('tag'), 'tag')
        uuids = params.get('resourceUuids')
        if not isinstance(uuids, list) or not uuids or not all(isinstance(u, str) for u in uuids):
            raise ApiError(400, 'INVALID_PARAMETER', 'Parameter resourceUuids must be a non-empty list of strings.')
        if len(uuids) > int(self.settings['tag_bind_max_resources']):
            raise ApiError(400, 'INVALID_PARAMETER', 'Parameter resourceUuids accepts at most %d IDs.' % int(self.settings['tag_bind_max_resources']))
        return tag, [self._resource(u) for u in uuids]

    def _zrm_TagBindResources(self, params):  # pylint: disable=invalid-name
        """One made tag onto many resources, all or nothing; a key a resource has takes the new value [inferred]."""
        tag, holders = self._tag_and_resources(params)
        if tag not in self.tag_library:
            raise ApiError(404, 'INVALID_TAG_NOT_FOUND', 'Tag does not exist.')
        after = [[t for t in h['tags'] if t[0] != tag[0]] + [tag] for h in holders]
        for tags in after:          # every check before the first change
            self._set_tags({}, tags)
        for holder, tags in zip(holders, after):
            self._set_tags(holder, tags)
        return {}

    def _zrm_TagUnbindResources(self, params):  # pylint: disable=invalid-name
        tag, holders = self._tag_and_resources(params)
        for holder in holders:
            holder['tags'] = [t for t in holder['tags'] if t != tag]
        return {}


CLOUD = ZenlayerCloud
