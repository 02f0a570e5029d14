# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This module_utils is PRIVATE to the collection: it may change at any time.
"""Zenlayer Cloud "vm" and Elastic Compute ("zec") services: everything specific to them, for the engine.

API 2.0 (``POST /api/v2/vm``, the action in ``X-ZC-Action``), signed with
ZC2-HMAC-SHA256: DescribeInstances (each instance's ``securityGroupIds`` and
``instanceStatus``), DescribeSecurityGroups (existence and
``securityGroupStatus``), AssociateSecurityGroupInstance and
UnAssociateSecurityGroupInstance (one group on one instance per call). Writes
answer only a request ID and nothing can be polled: the engine re-reads until
the instances show our writes (completion 'eventual').

Elastic Compute (``POST /api/v2/zec``, version 2025-09-01, the same signing) has no
associate/unassociate calls: each vNIC has exactly one group, switched with
ModifyNetworkInterfaceAttribute{nicId, securityGroupId}. Two more target kinds reach it:
``network_interface_ids`` (vNICs, read with DescribeNetworkInterfaces) and ``zec_instance_ids`` (a zec
instance's Primary vNIC, read with the zec DescribeInstances). A run talks to one service,
chosen from the kind (SERVICES); the switch is 'eventual' like the vm writes.

Tags (the quarantine record store) are the resource manager's (``POST /api/v2/zrm``, version 2025-10-14, the
same signing): ModifyResourceTags{resourceUuid, replaceTags, deleteTagKeys} adds, overwrites and removes tags of
one instance (vm or zec) in one call; TagBindResources puts one tag on many resources, of no use for records, whose
data tags differ per instance (its ID and groups). The instances' tags come with their DescribeInstances
(``tags.tags``, vm and zec).

Listing (the inventory plugin, sg_binding_info's filters) lists both services: the vm DescribeInstances (kind
'instance') and the zec DescribeInstances (kind 'zec_instance'), each paged with pageNum/pageSize to its totalCount.
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

from ansible_collections.multicloud.secgroup.plugins.module_utils import _credentials as credentials
from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _quarantine_record as quarantine_record
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

API_VERSION = '2023-03-13'
ZEC_API_VERSION = '2025-09-01'
ZRM_API_VERSION = '2025-10-14'
CREATE_TAGS_MAX = 20                           # tags per CreateTags call (documented)
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
    # zec: the format of vNIC and instance IDs is not documented (vm IDs are decimal strings; other zec IDs are
    # prefixed, such as key-7K9AcYWv): letters, digits, '-' and '_'.
    'zec_id_pattern': r'[0-9A-Za-z][0-9A-Za-z_-]{0,63}',
    # zec: pageSize maximum of DescribeNetworkInterfaces, as documented for the vm Describe calls.
    'zec_page': 1000,
    # zec: INVALID_NIC_STATUS (400) names no state; taken as a refusal, not as a wait.
    'nic_status_class': transport.CONFLICT,
    # Tags: only the lengths are documented (zrm data types: key and value 1 to 64 characters). The characters and the
    # number of tags a resource takes are not: the usual set and 20 (the CreateTags batch) are assumed.
    'tag_chars': r'[A-Za-z0-9 _.:/=+\-@]',
    'max_tags': 20,
    # A tag quota's code is not published: a code saying a limit was exceeded is taken as a quota.
    'quota_codes': re.compile(r'EXCEED(ED)?_LIMIT|LIMIT_EXCEEDED|QUOTA'),
    # ModifyResourceTags names no "tag does not exist" answer (TagBindResources does): if it gives one, the tags are
    # made with CreateTags and the write sent once more. A CreateTags of a tag made already answers a code like these.
    'tag_exists_codes': re.compile(r'ALREADY|DUPLICATE|EXIST'),
    # zec DescribeInstances: pageSize's maximum is not documented (vm's is 1000). Should the service refuse 1000 (HTTP 400),
    # the listing starts again at zec_fallback_page, the Terraform provider's page size.
    'zec_list_page': 1000,
    'zec_fallback_page': 100,
    # zec DescribeInstances' status values are not documented (the vm's are upper case): a status filter is applied
    # locally for zec instances, never sent.
    'zec_status_pushed': False,
}
# The vm instanceStatus values (reference 3.3, the CLI enum): a status filter is sent only spelled so.
VM_STATUSES = ('PENDING', 'DEPLOYING', 'REBUILDING', 'REBOOT', 'RUNNING', 'STOPPED', 'BOOTING', 'RELEASING', 'STOPPING',
               'RECYCLE', 'RECYCLING', 'CREATE_FAILED', 'IMAGING')
LIST_PAGE = 1000                                # vm DescribeInstances pageSize maximum (documented)

# Records are kept on vm and zec instances; a vNIC holds none (its zec instance does).
TAG_LIMITS = quarantine_record.TagLimits(max_key_len=64, max_value_len=64, max_tags=INFERRED['max_tags'],
                                         key_chars=INFERRED['tag_chars'], value_chars=INFERRED['tag_chars'], reserved_prefixes=())

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
    'INVALID_NIC_NOT_FOUND': transport.NOT_FOUND,
    'INVALID_NIC_STATUS': INFERRED['nic_status_class'],
    # zrm (documented on its tag calls).
    'INVALID_RESOURCE_NOT_FOUND': transport.NOT_FOUND,
    'INVALID_RESOURCE_CAN_NOT_BOUND': transport.CONFLICT,
    'INVALID_TAG_NOT_FOUND': transport.NOT_FOUND,
}


def error_class(code, status):
    code = code.replace('.', '_').upper()
    if code in ERROR_CLASSES:
        return ERROR_CLASSES[code]
    if status == 429:
        return transport.THROTTLED
    if INFERRED['quota_codes'].search(code):
        return transport.QUOTA
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


INSTANCES = planner.TargetKind(option='instance_ids', result_key='instances', id_key='instance_id', pattern=ID_PATTERN, word='instance')
# Named as on the other clouds that bind groups to interfaces (Alibaba's module, sg_binding, the sg_bindings role).
ZEC_NICS = planner.TargetKind(option='network_interface_ids', result_key='network_interfaces', id_key='network_interface_id',
                              pattern=INFERRED['zec_id_pattern'], word='vNIC')
ZEC_INSTANCES = planner.TargetKind(option='zec_instance_ids', result_key='zec_instances', id_key='zec_instance_id',
                                   pattern=INFERRED['zec_id_pattern'], word='zec instance')

# At most 2 groups per instance (documented); one group on one instance per call; no replace call.
VM_CONSTRAINTS = planner.Constraints(min_groups=INFERRED['min_groups'], max_groups=MAX_GROUPS, ordered=False, batch_size=1,
                                     set_batch_size=0)
ONE_GROUP_NOTE = ('Zenlayer Elastic Compute gives each vNIC exactly one security group and has no unbind call: '
                  'switch it with state: present, purge: true and the one group it should have')
# zec: exactly one group per vNIC, switched by ModifyNetworkInterfaceAttribute (a "set" of one group on one vNIC).
ZEC_CONSTRAINTS = planner.Constraints(min_groups=1, max_groups=1, ordered=False, batch_size=1, set_batch_size=1, bounds_note=ONE_GROUP_NOTE)

# What each kind talks to: the service path, its API version and the bounds of a target.
SERVICES = {
    INSTANCES.option: {'service': 'vm', 'version': API_VERSION, 'constraints': VM_CONSTRAINTS},
    ZEC_NICS.option: {'service': 'zec', 'version': ZEC_API_VERSION, 'constraints': ZEC_CONSTRAINTS},
    ZEC_INSTANCES.option: {'service': 'zec', 'version': ZEC_API_VERSION, 'constraints': ZEC_CONSTRAINTS},
}


# -- credentials: the zeno CLI's profiles (zenlayer/zenlayercloud-cli internal/config, cmd/root.go) ------------------
# ~/.zenlayer/credentials.json is a map of profile name -> {access_key_id, access_key_secret, token} (written 0600);
# ~/.zenlayer/config.json names the current profile (current_profile, else "default"); ZENLAYER_PROFILE overrides it,
# ZENLAYER_ACCESS_KEY_ID / ZENLAYER_ACCESS_KEY_SECRET override the file. Zenlayer Cloud has no instance role, no metadata
# credentials and no STS: instance_role, assume_role, metadata_endpoint and sts_endpoint are refused naming the cloud.
CREDENTIAL_ENV = {'profile': ['ZENLAYER_PROFILE'], 'shared_credentials_file': []}
CLI_KEY_ENV = ('ZENLAYER_ACCESS_KEY_ID', 'ZENLAYER_ACCESS_KEY_SECRET')     # the zeno CLI's; Terraform's are the options'
CREDENTIALS_FILE = ('.zenlayer', 'credentials.json')
CONFIG_FILE = ('.zenlayer', 'config.json')
DEFAULT_PROFILE = 'default'
CREDENTIAL_INFERRED = {
    # The CLI reads no variable naming another credentials file; shared_credentials_file has none.
    'shared_credentials_file_env': None,
}


CredentialFileError = credentials.CredentialFileError


def read_cli_credentials(path, text, name):
    """(access key ID, secret) of profile `name` in the CLI's credentials.json."""
    profiles = credentials.parse_json_file(path, text, parse_int=str, parse_float=str)
    if not isinstance(profiles, dict):
        raise CredentialFileError('%s: expected an object of profiles' % path)
    profile = profiles.get(name)
    if profile is None:
        raise LookupError('%s has no profile %r' % (path, name))
    where = "profile '%s' in %s" % (name, path)
    if not isinstance(profile, dict):
        raise CredentialFileError('%s: expected an object' % where)
    key, secret = profile.get('access_key_id'), profile.get('access_key_secret')
    if not key and not secret and profile.get('token'):
        # The CLI's other method: a personal access token, sent as a bearer token instead of a ZC2-HMAC signature.
        raise CredentialFileError('%s holds a personal access token only; this collection signs with an access key '
                                  '(access_key_id and access_key_secret)' % where)
    for field, value in (('access_key_id', key), ('access_key_secret', secret)):
        if not value or not isinstance(value, str):
            raise CredentialFileError('%s: %s is missing, empty or not a string' % (where, field))
    return key, secret


def cli_environment_source(context):
    """The zeno CLI's key variables (another prefix than Terraform's, and "secret" for "password")."""
    key, secret = (context.environ.get(name) for name in CLI_KEY_ENV)
    if key and secret:
        return credentials.Credentials(key, secret, source='the environment variables %s and %s' % CLI_KEY_ENV)
    if key or secret:
        raise credentials.CredentialsError('%s is set but %s is not: give both, or neither to use another source'
                                           % (CLI_KEY_ENV if key else CLI_KEY_ENV[::-1]))
    raise credentials.CredentialsNotFound('%s and %s not set' % CLI_KEY_ENV)


cli_environment_source.label = "the zeno CLI's variables"


def current_profile(context):
    """The profile to use: profile / ZENLAYER_PROFILE, else config.json's current_profile, else "default"."""
    if context.settings.get('profile'):
        return context.settings['profile']
    path = context.path('~/' + '/'.join(CONFIG_FILE))
    try:
        with open(path, 'rb') as handle:
            config = load_json(handle.read().decode('utf-8'))
    except (OSError, ValueError, UnicodeDecodeError):
        return DEFAULT_PROFILE      # the CLI too starts from "default" when config.json is absent or unreadable
    name = config.get('current_profile') if isinstance(config, dict) else None
    return name if isinstance(name, str) and name else DEFAULT_PROFILE


def cli_profile_source(context):
    path = context.path(context.settings.get('shared_credentials_file') or '~/' + '/'.join(CREDENTIALS_FILE))
    shown = context.shown(path)
    text = credentials.read_private_file(context, path, 'zeno CLI credentials')
    name = current_profile(context)
    try:
        key, secret = read_cli_credentials(shown, text, name)
    except LookupError as exc:
        raise credentials.CredentialsNotFound('%s' % exc)
    except CredentialFileError as exc:
        raise credentials.CredentialsError('%s' % exc)
    return credentials.Credentials(key, secret, source="profile '%s' in %s" % (name, shown))


cli_profile_source.label = 'the zeno CLI profile (~/%s)' % '/'.join(CREDENTIALS_FILE)


class ZenlayerCloud:
    name = 'zenlayer'
    display_name = 'Zenlayer Cloud'
    target_kinds = (INSTANCES, ZEC_NICS, ZEC_INSTANCES)
    security_group_id_pattern = ID_PATTERN
    constraints = VM_CONSTRAINTS
    hard_max_groups = MAX_GROUPS
    hard_max_groups_by_kind = {ZEC_NICS.option: ZEC_CONSTRAINTS.max_groups, ZEC_INSTANCES.option: ZEC_CONSTRAINTS.max_groups}
    rate_limits = {}
    default_rate_limit = INFERRED['default_rate_limit']
    completion = 'eventual'
    argument_spec = dict(
        # Terraform's names; the zeno CLI's (ZENLAYER_ACCESS_KEY_*) are the next source (cli_environment_source).
        access_key_id=dict(type='str', no_log=False, fallback=(env_fallback, ['ZENLAYERCLOUD_ACCESS_KEY_ID'])),
        access_key_password=dict(type='str', no_log=True, fallback=(env_fallback, ['ZENLAYERCLOUD_ACCESS_KEY_PASSWORD'])),
    )

    # The filters the DescribeInstances calls take (vm: reference 3.3 and the SDK's vm 2023-03-13 DescribeInstancesRequest;
    # zec: the SDK's zec 2025-09-01 DescribeInstancesRequest). Neither takes a VPC (vm instances have none).
    list_filters = (
        'tags',               # tags [{key, value}] and tagKeys [key], vm and zec
        'name',               # vm instanceName (exact without a trailing '*'), zec name
        'status',             # vm instanceStatus (one value; several are applied locally); zec: local (INFERRED zec_status_pushed)
        'security_group_id',  # vm securityGroupId; zec DescribeInstances has no such filter: applied locally
    )

    # What each credential option is, in words every provider shares: how another provider's name for it is explained.
    credential_options = {'key ID': 'access_key_id', 'secret': 'access_key_password'}
    credential_environment = CREDENTIAL_ENV
    credential_features = ('profile', 'shared_credentials_file')     # no instance role, no STS

    @classmethod
    def credential_sources(cls, params, settings):
        """The CLI's order: the options and the environment, then the profile file."""
        return [credentials.options_source(cls, params), cli_environment_source, cli_profile_source]
    # Records are kept on vm and zec instances; a vNIC holds none: its zec instance does.
    tag_limits = {INSTANCES.option: TAG_LIMITS, ZEC_INSTANCES.option: TAG_LIMITS, ZEC_NICS.option: None}
    owner_kinds = {ZEC_NICS.option: ZEC_INSTANCES.option}

    @classmethod
    def secrets(cls, params):
        return [params.get('access_key_password')]

    def __init__(self, params, conn, clock=time.time):
        self.params = params
        self.transport = conn
        self.clock = clock                # signing timestamps
        self.kind = planner.chosen_kind(self.target_kinds, params)
        service = SERVICES[self.kind.option]
        self.service, self.version, self.constraints = service['service'], service['version'], service['constraints']
        self.url = (params.get('endpoint') or DEFAULT_ENDPOINT).rstrip('/') + '/api/v2/' + self.service
        self.host = urlsplit(self.url).netloc
        self.status = {}         # target -> its status, as last read
        self.nics = {}           # zec target -> its vNIC as last read: {'nic', 'vpc', 'instance'}
        self.group_status = {}            # security group -> securityGroupStatus, as last read
        self.current = {}                 # instance -> its groups, as last read
        self.tags = {}                    # instance (vm or zec) -> {key: value}, as last read
        self.nic_owner = {}               # vNIC -> its zec instance, from every vNIC read
        self.warnings = []

    # -- requests -----------------------------------------------------------
    def call(self, action, body, write=False, service=None, idempotent=False):
        """service: 'zrm' for the tag calls, 'vm' or 'zec' for the listing (each its path and version); the kind's
        service otherwise."""
        payload = json.dumps(body).encode('utf-8')
        url, name, version = self.url, self.service, self.version
        if service is not None and service != self.service:
            name, version = service, {'vm': API_VERSION, 'zec': ZEC_API_VERSION, 'zrm': ZRM_API_VERSION}[service]
            url = self.url.rsplit('/', 1)[0] + '/' + service

        def build():
            timestamp = int(self.clock())
            creds = credentials.request_credentials(self.transport, self.params, type(self))
            headers = {
                'Content-Type': CONTENT_TYPE,
                'Host': self.host,
                'X-ZC-Action': action,
                'X-ZC-Version': version,
                'X-ZC-Service': name,
                'X-ZC-Timestamp': str(timestamp),
                'X-ZC-Signature-Method': SIGNATURE_METHOD,
                'Authorization': zc2_authorization(creds.access_key, creds.secret, self.host, timestamp, payload),
            }
            return {'method': 'POST', 'url': url, 'headers': headers, 'data': payload}

        return self.transport.call(transport.Call(action, build, lambda resp: self.answer(action, resp), write=write, idempotent=idempotent))

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
        if self.kind is ZEC_NICS:
            return self.read_zec_nics(ids)
        if self.kind is ZEC_INSTANCES:
            return self.read_zec_instances(ids)
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
        self.note_tags(found, ids, 'DescribeInstances')
        return current, [iid for iid in ids if iid not in current]

    def remember_nic(self, tid, nic, status):
        """The target's one group as a list: empty for a vNIC that has none of its own (it inherits its VPC's)."""
        group = nic.get('securityGroupId')
        self.nics[tid] = {'nic': '%s' % nic.get('nicId'), 'vpc': nic.get('vpcId'), 'instance': nic.get('instanceId')}
        self.status[tid] = status
        self.current[tid] = ['%s' % group] if group else []
        return list(self.current[tid])

    def read_zec_nics(self, ids):
        found = self.describe('DescribeNetworkInterfaces', 'nicIds', ids, 'nicId')
        current = dict((nid, self.remember_nic(nid, found[nid], found[nid].get('status'))) for nid in ids if nid in found)
        self.nic_owner.update((nid, found[nid].get('instanceId')) for nid in current)
        return current, [nid for nid in ids if nid not in current]

    def read_zec_instances(self, ids):
        found = self.describe('DescribeInstances', 'instanceIds', ids, 'instanceId')
        current = {}
        for iid in ids:
            item = found.get(iid)
            if item is None:
                continue
            primary = [nic for nic in item.get('nics') or [] if isinstance(nic, dict) and nic.get('nicType') == 'Primary']
            if len(primary) != 1:
                raise self.malformed('DescribeInstances', 'one Primary vNIC for zec instance %s' % iid, item)
            current[iid] = self.remember_nic(iid, primary[0], item.get('status'))
            self.nic_owner.update(('%s' % n.get('nicId'), iid) for n in item.get('nics') or [] if isinstance(n, dict))
        self.note_tags(found, ids, 'DescribeInstances')
        return current, [iid for iid in ids if iid not in current]

    def describe_security_groups(self, sg_ids):
        """{id: {'name', 'status'}} of those that exist."""
        found = self.describe('DescribeSecurityGroups', 'securityGroupIds', sg_ids, 'securityGroupId')
        for sg, item in found.items():
            self.group_status[sg] = item.get('securityGroupStatus')
        return dict((sg, {'name': item.get('securityGroupName'), 'status': item.get('securityGroupStatus')}) for sg, item in found.items())

    def missing_security_groups(self, sg_ids):
        sg_ids = list(sg_ids)
        extra = []
        if self.kind is INSTANCES:
            # The groups on the instances read ride in the free places of the pages this check reads anyway: refusals()
            # needs the status of each group an unbind removes, and would otherwise read it with a call of its own.
            room = -len(sg_ids) % PAGE      # free places in the last page
            asked = set(sg_ids) | set(self.group_status)
            extra = sorted(set(sg for groups in self.current.values() for sg in groups) - asked)[:room]
        found = self.describe_security_groups(sg_ids + extra)
        return [sg for sg in sg_ids if sg not in found]

    def bound_targets(self, sg_ids):
        """{group: [target, ...]}: the cloud's list filtered by securityGroupId (one group a call, a page of up
        to BOUND_PAGE), the groups asked concurrently. zec: the vNICs that have the group (zec instances: their
        Primary vNICs); a vNIC inheriting its VPC's group is not listed."""
        if self.kind is INSTANCES:
            action, extra, page_size, id_field = 'DescribeInstances', {}, BOUND_PAGE, 'instanceId'
        else:
            action, page_size = 'DescribeNetworkInterfaces', INFERRED['zec_page']
            extra, id_field = ({}, 'nicId') if self.kind is ZEC_NICS else ({'nicType': 'Primary'}, 'instanceId')

        def bound_to(sg):
            targets, page = [], 1
            while True:
                data = self.call(action, dict(extra, securityGroupId=sg, pageSize=page_size, pageNum=page))
                data_set = data.get('dataSet')
                if not isinstance(data_set, list):
                    raise self.malformed(action, 'dataSet list', data)
                targets.extend('%s' % item.get(id_field) for item in data_set if isinstance(item, dict))
                if not data_set or len(targets) >= int('%s' % data.get('totalCount', 0) or 0):
                    return targets
                page += 1

        results = self.transport.map(bound_to, list(sg_ids), self.params['max_concurrency'])
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return dict(zip(sg_ids, results))

    # -- listing ------------------------------------------------------------
    @staticmethod
    def list_body(filters, service):
        """The DescribeInstances filters of one service. Tags: every one is sent (several may be ANDed or ORed [inferred]:
        the local check narrows either); a name exactly; a status only for vm, alone and in its spelling."""
        body = {}
        tags = filters.get('tags') or {}
        if any(v is None for v in tags.values()):
            body['tagKeys'] = [k for k, v in tags.items() if v is None]
        if any(v is not None for v in tags.values()):
            body['tags'] = [{'key': k, 'value': v} for k, v in tags.items() if v is not None]
        statuses = filters.get('status') or []
        if service == 'vm':
            if filters.get('name'):
                body['instanceName'] = filters['name']
            if len(statuses) == 1 and statuses[0].upper() in VM_STATUSES:
                body['instanceStatus'] = statuses[0].upper()
            if filters.get('security_group_id'):
                body['securityGroupId'] = filters['security_group_id']
        else:
            if filters.get('name'):
                body['name'] = filters['name']
            if INFERRED['zec_status_pushed'] and len(statuses) == 1:
                body['status'] = statuses[0].upper()
        return body

    def list_pages(self, service, body, page_size, each):
        """Every DescribeInstances item of one service, made by each as its page arrives: pageNum 1, 2, ... until
        totalCount items came (or an empty page, where a cloud caps pageSize lower than asked)."""
        items, page = [], 1
        while True:
            data = self.call('DescribeInstances', dict(body, pageSize=page_size, pageNum=page), service=service)
            data_set, total = data.get('dataSet'), '%s' % data.get('totalCount', 0)
            if not isinstance(data_set, list) or not total.isdigit():
                raise self.malformed('DescribeInstances', 'dataSet list and totalCount number', data)
            items.extend(each(item) for item in data_set if isinstance(item, dict))
            if not data_set or len(items) >= int(total):
                return items
            page += 1

    def list_instances(self, filters):
        """Every vm and zec instance passing the pushed filters: the vm DescribeInstances (1000 a page, documented) and the
        zec one (INFERRED zec_list_page). An item without its tags field has them read with DescribeResourceTags. zec
        instances come without network_interfaces: that nics[] lists every vNIC is not documented."""
        def one_service(service):
            if service == 'vm':
                return self.list_pages('vm', self.list_body(filters, 'vm'), LIST_PAGE, self.listed_vm)
            body = self.list_body(filters, 'zec')
            try:
                return self.list_pages('zec', body, INFERRED['zec_list_page'], self.listed_zec)
            except transport.ProviderError as error:
                if error.http_status != 400:
                    raise
                self.warnings.append('%s refused a zec DescribeInstances pageSize of %d (%s, request ID %s); listed %d a page instead'
                                     % (self.display_name, INFERRED['zec_list_page'], error.code, error.request_id or 'none',
                                        INFERRED['zec_fallback_page']))
                return self.list_pages('zec', body, INFERRED['zec_fallback_page'], self.listed_zec)

        # The two services' pages are independent: listed side by side (max_concurrency allowing), vm instances first.
        listed = []
        for result in self.transport.map(one_service, ['vm', 'zec'], self.params['max_concurrency']):
            if isinstance(result, BaseException):
                raise result
            listed += result
        unshown = [i['instance_id'] for i in listed if i['tags'] is None]
        if unshown:
            self.read_resource_tags(unshown)
            for instance in listed:
                if instance['tags'] is None:
                    instance['tags'] = dict(self.tags.get(instance['instance_id']) or {})
        return listed

    def listed_vm(self, item):
        iid = '%s' % item.get('instanceId')
        groups = item.get('securityGroupIds') or []
        if not isinstance(groups, list):
            raise self.malformed('DescribeInstances', 'securityGroupIds list for instance %s' % iid, item)
        return self.listed(item, iid, item.get('instanceStatus'), None, ['%s' % sg for sg in groups], 'instance')

    def listed_zec(self, item):
        """A zec instance: its groups are its Primary vNIC's one group (none of its own: [], it has its VPC's)."""
        iid = '%s' % item.get('instanceId')
        primary = [n for n in item.get('nics') or [] if isinstance(n, dict) and n.get('nicType') == 'Primary']
        group = item.get('securityGroupId') or (primary[0].get('securityGroupId') if primary else None)
        return self.listed(item, iid, item.get('status'), primary[0].get('vpcId') if primary else None,
                           ['%s' % group] if group else [], 'zec_instance')

    def listed(self, item, iid, status, vpc, groups, kind):
        """The listing's dict; tags None where the answer has no tags field (read after, with DescribeResourceTags)."""
        tags = None
        if 'tags' in item:
            holder = item['tags']
            tags = self.tag_dict((holder.get('tags') if isinstance(holder, dict) else holder) or [], 'DescribeInstances', iid, item)
        return {'instance_id': iid, 'instance_name': item.get('instanceName'), 'status': status, 'vpc_id': vpc,
                'private_ips': ['%s' % ip for ip in item.get('privateIpAddresses') or []],
                'public_ips': ['%s' % ip for ip in item.get('publicIpAddresses') or []],
                'tags': tags, 'security_group_ids': groups, 'region': None, 'kind': kind}

    def target_details(self, ids):
        """sg_binding_info, zec: each target's vNIC, VPC and the VPC's default group (what a vNIC without a
        group of its own has), from DescribeVpcs (100 VPCs a call)."""
        if self.kind is INSTANCES:
            return {}
        vpcs = sorted(set(self.nics[tid]['vpc'] for tid in ids if tid in self.nics and self.nics[tid]['vpc']))
        defaults = self.describe('DescribeVpcs', 'vpcIds', vpcs, 'vpcId') if vpcs else {}
        details = {}
        for tid in ids:
            nic = self.nics.get(tid)
            if nic is None:
                continue
            vpc = defaults.get('%s' % nic['vpc'], {})
            details[tid] = {'vpc_id': nic['vpc'], 'vpc_default_security_group_id': vpc.get('securityGroupId')}
            details[tid].update({'instance_id': nic['instance']} if self.kind is ZEC_NICS else {'network_interface_id': nic['nic']})
        return details

    def refusals(self, targets):
        """What Zenlayer refuses (seed page): changes on an instance that is not RUNNING or STOPPED,
        and binding or unbinding a group that is not Available."""
        refused = []
        if self.kind is not INSTANCES:
            # zec groups have no status, and which vNIC states refuse a switch is not documented.
            return refused
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
        if self.kind is not INSTANCES:
            return self.switch(op)
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

    def switch(self, op):
        """zec: a bind onto a vNIC without a group of its own, or a set of its one group, is the same switch."""
        tid, sg = op['target_ids'][0], op['security_group_ids'][0]
        data = self.call('ModifyNetworkInterfaceAttribute', {'nicId': self.nics[tid]['nic'], 'securityGroupId': sg}, write=True)
        return [data.get('requestId')]

    # -- the quarantine record store: instance tags (zrm) ----------------------
    def note_tags(self, found, ids, action):
        """Each instance's tags from its DescribeInstances item (``tags: {tags: [{key, value}]}``). An item without the
        field is read with DescribeResourceTags (one call each): a missing field must never look like no record; a null
        one is taken as no tags [inferred]."""
        unshown = []
        for iid in ids:
            item = found.get(iid)
            if item is None:
                continue
            if 'tags' not in item:
                unshown.append(iid)
                continue
            holder = item['tags']
            tags = holder.get('tags') if isinstance(holder, dict) else holder
            self.tags[iid] = self.tag_dict(tags or [], action, iid, item)
        if unshown:
            self.read_resource_tags(unshown)

    def tag_dict(self, tags, action, iid, data):
        if not isinstance(tags, list) or not all(isinstance(t, dict) and t.get('key') is not None for t in tags):
            raise self.malformed(action, 'tags list of {key, value} for instance %s' % iid, data)
        return dict(('%s' % t['key'], '%s' % (t.get('value') if t.get('value') is not None else '')) for t in tags)

    def read_resource_tags(self, ids):
        """DescribeResourceTags{resourceUuid}, one call an instance (max_concurrency at a time)."""
        def one(iid):
            data = self.call('DescribeResourceTags', {'resourceUuid': iid}, service='zrm')
            return self.tag_dict(data.get('dataSet'), 'DescribeResourceTags', iid, data)

        for iid, result in zip(ids, self.transport.map(one, list(ids), self.params['max_concurrency'])):
            if isinstance(result, BaseException):
                raise result
            self.tags[iid] = result

    def check_tags(self, target_id, tags):
        """Refuse, before any request, a key or value the documented lengths (1 to 64) or the assumed characters do not
        allow, naming the instance."""
        for key, value in tags.items():
            for what, text in (('key', key), ('value', value)):
                bad = sorted(set(c for c in text if not re.match(TAG_LIMITS.key_chars, c)))
                if not 1 <= len(text) <= TAG_LIMITS.max_key_len or bad:
                    raise transport.ProviderError(
                        self.name, 'ModifyResourceTags', 'InvalidTag', 'instance %s: tag %s %r is not one %s takes (1 to %d '
                        'characters of %s%s)' % (target_id, what, text, self.display_name, TAG_LIMITS.max_key_len, TAG_LIMITS.key_chars,
                                                 '; not: ' + ''.join(bad) if bad else ''), error_class=transport.INVALID)

    def modify_tags(self, target_id, replace=None, delete=None):
        """ModifyResourceTags on one instance; it states the end result, so sending it again is safe."""
        body = {'resourceUuid': target_id}
        if replace:
            body['replaceTags'] = [{'key': k, 'value': v} for k, v in replace.items()]
        if delete:
            body['deleteTagKeys'] = list(delete)
        return self.call('ModifyResourceTags', body, write=True, service='zrm', idempotent=True).get('requestId')

    def create_tags(self, tags):
        """CreateTags, 20 a call; where a batch is refused because one of its tags exists, each is made alone and an
        "exists" answer taken as done."""
        request_ids, pairs = [], [{'key': k, 'value': v} for k, v in tags.items()]
        for start in range(0, len(pairs), CREATE_TAGS_MAX):
            chunk = pairs[start:start + CREATE_TAGS_MAX]
            try:
                request_ids.append(self.call('CreateTags', {'tags': chunk}, write=True, service='zrm', idempotent=True).get('requestId'))
                continue
            except transport.ProviderError as error:
                if not INFERRED['tag_exists_codes'].search(error.code.upper()):
                    raise
            for pair in chunk:
                try:
                    request_ids.append(self.call('CreateTags', {'tags': [pair]}, write=True, service='zrm', idempotent=True).get('requestId'))
                except transport.ProviderError as error:
                    if not INFERRED['tag_exists_codes'].search(error.code.upper()):
                        raise
        return request_ids

    def write_tags(self, target_id, tags):
        """Add or overwrite these keys on one instance (vm or zec): one ModifyResourceTags call, none when it has them
        all already (as last read). Returns the request IDs."""
        tags = dict((k, '%s' % v) for k, v in tags.items())
        self.check_tags(target_id, tags)
        have = self.tags.get(target_id)
        if have is not None and all(have.get(k) == v for k, v in tags.items()):
            return []
        try:
            request_ids = [self.modify_tags(target_id, replace=tags)]
        except transport.ProviderError as error:
            if error.code != 'INVALID_TAG_NOT_FOUND':
                raise
            request_ids = self.create_tags(tags) + [self.modify_tags(target_id, replace=tags)]
        if have is not None:
            have.update(tags)
        return request_ids

    def remove_tags(self, target_id, keys):
        """Remove these keys from one instance: one ModifyResourceTags call with deleteTagKeys (only the keys it has, as
        last read; none left: no call). Returns the request IDs."""
        have = self.tags.get(target_id)
        keys = [k for k in dict.fromkeys(keys) if have is None or k in have]
        if not keys:
            return []
        request_id = self.modify_tags(target_id, delete=keys)
        for key in keys if have is not None else ():
            have.pop(key, None)
        return [request_id]

    # -- every interface of an instance ----------------------------------------
    def attached_interfaces(self, instance_ids):
        """{instance: [{'network_interface_id', 'security_group_ids'}, ...]}: the interfaces with groups of their own
        that the instance-level binding does not change.

        vm instances: none, with no call: the vm service binds groups to the instance (AssociateSecurityGroupInstance) and
        its interfaces (``nic: {wanName, lanName}``) have none of their own.
        zec instances (their Primary vNIC is the instance's kind): the Secondary vNICs, each with its one group, or [] where
        it has none of its own (it then has its VPC's, which no call sets back: ModifyNetworkInterfaceAttribute only
        switches to a group), such a vNIC then also with ``vpc_id`` and ``vpc_default_security_group_id`` (from DescribeVpcs,
        one call per 100 of their VPCs, none when every vNIC has a group of its own). Read with
        DescribeNetworkInterfaces filtered by nicType Secondary, 1000 a page; when the account has more pages of them
        than instances asked, one call per instance filtered by instanceId instead. So
        min(ceil(S / 1000), 1 + n) calls for S Secondary vNICs and n instances. The zec DescribeInstances' nics[] is not
        relied on: that it lists every vNIC is not documented."""
        ids = list(dict.fromkeys(instance_ids))
        if self.kind is INSTANCES or not ids:
            return dict((iid, []) for iid in ids)
        found = dict((iid, []) for iid in ids)
        page_size = INFERRED['zec_page']

        def page_of(body, page):
            data = self.call('DescribeNetworkInterfaces', dict(body, pageSize=page_size, pageNum=page))
            items = data.get('dataSet')
            total = '%s' % data.get('totalCount', 0)
            if not isinstance(items, list) or not total.isdigit():
                raise self.malformed('DescribeNetworkInterfaces', 'dataSet list and totalCount number', data)
            return [i for i in items if isinstance(i, dict)], int(total)

        def every(body):
            items, total = page_of(body, 1)
            page = 1
            while items and len(items) < total:
                page += 1
                more, total = page_of(body, page)
                if not more:
                    break
                items += more
            return items

        first, total = page_of({'nicType': 'Secondary'}, 1)
        pages = -(-total // page_size)
        if pages - 1 <= len(ids):
            items, page = list(first), 1
            while page < pages:
                page += 1
                more, dummy = page_of({'nicType': 'Secondary'}, page)
                if not more:
                    break
                items += more
        else:
            items = []
            for result in self.transport.map(lambda iid: every({'instanceId': iid, 'nicType': 'Secondary'}), ids, self.params['max_concurrency']):
                if isinstance(result, BaseException):
                    raise result
                items += result
        inheriting = []
        for nic in items:
            owner, nic_id = nic.get('instanceId'), '%s' % nic.get('nicId')
            self.nic_owner[nic_id] = owner
            if owner in found and nic.get('nicType') != 'Primary' and nic_id not in [e['network_interface_id'] for e in found[owner]]:
                group = nic.get('securityGroupId')
                found[owner].append({'network_interface_id': nic_id, 'security_group_ids': ['%s' % group] if group else []})
                if not group:
                    inheriting.append((found[owner][-1], nic.get('vpcId')))
        # A vNIC without a group of its own has its VPC's default group: one DescribeVpcs per 100 of their VPCs, none
        # when every vNIC has a group of its own.
        vpcs = sorted(set('%s' % vpc for dummy, vpc in inheriting if vpc))
        defaults = self.describe('DescribeVpcs', 'vpcIds', vpcs, 'vpcId') if vpcs else {}
        for entry, vpc in inheriting:
            group = defaults.get('%s' % vpc, {}).get('securityGroupId') if vpc else None
            entry.update({'vpc_id': vpc, 'vpc_default_security_group_id': '%s' % group if group else None})
        return found

    def interface_owner(self, interface_ids):
        """{vNIC: its zec instance or None}, from the vNIC reads already done (none made here); vm instances have no
        interface targets."""
        return dict((nic, self.nic_owner.get(nic) or None) for nic in interface_ids)
