# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The facts the providers and the emulator take as true without a page that says so ([inferred], assumed), each with
the probe of the live run that answers it, or why it has none.

Each entry: ``id`` (``<cloud>.<name>``), ``fact``, ``source`` (where the assumption is written), ``assumed`` (what the
collection and the emulator take as true), ``keys`` (the entries of the provider's INFERRED, ENI_INFERRED or
CREDENTIAL_INFERRED dicts it covers: tests/live/test_live.py checks that every entry of those dicts has a probe), and
either ``probe`` (its kind, see below) with ``expect`` (the outcomes consistent with the assumption) or ``skip`` (why
the live run does not try it).

Probe kinds: ``duplicate_bind``, ``unbind_not_bound``, ``visibility`` (a bind, then reads until it shows; the same
for an unbind), ``unknown_instance``, ``unknown_group``, ``auth_failure``, ``read_burst`` (tests/live/library/live_probe.py,
through the provider's own calls); ``group_order`` and ``bind_position`` (read from the protocol's purge and bind steps).
"""

CLOUDS = ('tencentcloud', 'alicloud', 'baiducloud', 'zenlayer')

# Probes sent by tests/live/library/live_probe.py, in this order.
MODULE_PROBES = ('duplicate_bind', 'unbind_not_bound', 'visibility', 'unknown_instance', 'unknown_group', 'auth_failure', 'read_burst')
STEP_PROBES = ('group_order', 'bind_position')
KINDS = MODULE_PROBES + STEP_PROBES

TAGS = 'writes tags on the instance; the live run leaves tags alone (the quarantine step keeps its record in a file)'
STS = 'needs an STS role to assume (and would exercise the credential chain, not the bindings)'
IMDS = 'needs the run to be on a cloud instance with an instance role'
EXPIRY = 'needs temporary credentials that expire during the run'
TRANSIENT = 'needs the instance or interface in a transient state (starting, stopping, attaching): the run never changes it'
QUOTA = 'needs more groups than the quota allows on one target: the run names 2 or 3'
ZEC = 'Zenlayer Elastic Compute vNICs take exactly one group, so the protocol (two groups at once) cannot run on them'
NO_GROUP = 'would leave the instance without any security group; a disposable instance, but its traffic would then follow the cloud default'


def _probe(cloud, name, kind, fact, source, assumed, expect, keys=()):
    return {'id': '%s.%s' % (cloud, name), 'cloud': cloud, 'fact': fact, 'source': source, 'assumed': assumed,
            'probe': kind, 'expect': list(expect), 'keys': list(keys)}


def _skip(cloud, name, fact, source, assumed, why, keys=()):
    return {'id': '%s.%s' % (cloud, name), 'cloud': cloud, 'fact': fact, 'source': source, 'assumed': assumed,
            'skip': why, 'keys': list(keys)}


def _common(cloud, module, emulator, duplicate, unbound, completion, ordered, rate, read_action):  # pylint: disable=too-many-arguments
    """The probes every cloud gets: the answers to writes that change nothing, unknown IDs, a bad signature, a burst of
    reads, how soon a write shows, and whether the order of groups is kept."""
    src = 'plugins/module_utils/_%s.py' % module
    out = [
        _probe(cloud, 'duplicate_bind', 'duplicate_bind', 'the answer to a bind of a group the target already has', '%s; %s' % (src, emulator),
               duplicate[0], duplicate[1], duplicate[2] if len(duplicate) > 2 else ()),
        _probe(cloud, 'unbind_not_bound', 'unbind_not_bound', 'the answer to an unbind of a group the target does not have',
               '%s; %s' % (src, emulator), unbound[0], unbound[1], unbound[2] if len(unbound) > 2 else ()),
        _probe(cloud, 'unknown_instance', 'unknown_instance', 'a read naming a well-formed ID that does not exist', emulator,
               'left out of the answer (reported missing), not an error for the whole call', ['missing']),
        _probe(cloud, 'unknown_group', 'unknown_group', 'a group read naming a well-formed ID that does not exist', emulator,
               'reported missing, not an error for the whole call', ['missing']),
        _probe(cloud, 'auth_failure', 'auth_failure', 'the answer to a request signed with a wrong secret', '%s; %s' % (src, emulator),
               'an error classed as an authentication failure (not retried)', ['auth']),
        _probe(cloud, 'read_burst', 'read_burst', 'the rate of %s calls the cloud takes before throttling' % read_action, src,
               '%s calls a second' % rate[1], ['not_throttled', 'throttled_above'],
               ['INFERRED.default_rate_limit'] if cloud in ('alicloud', 'zenlayer') else ()),
        _probe(cloud, 'visibility', 'visibility', 'how soon a read shows an accepted write', '%s; %s' % (src, emulator),
               completion[0], completion[1], completion[2] if len(completion) > 2 else ()),
        _probe(cloud, 'group_order', 'group_order', 'whether a target keeps its groups in the order they were set', '%s; %s' % (src, emulator),
               'kept (the order is the priority)' if ordered else 'not meaningful on this cloud (either answer is fine)',
               ['kept'] if ordered else ['kept', 'not_kept']),
    ]
    out[5]['rate'] = rate[0]
    return out


_GROUPS = (
    # --- Tencent Cloud ----------------------------------------------------------------------------------------
    _common('tencentcloud', 'tencentcloud', 'docs/emulator.md "Tencent Cloud" assumptions',
            ('accepted, nothing changes (the emulator\'s duplicate_bind: noop; no "already" code in the error table)', ['accepted']),
            ('accepted, nothing changes (the emulator\'s unbind_not_bound: noop)', ['accepted']),
            ('instances: a task, polled until done (shows once LatestOperationState says so); ENIs: shows shortly '
             '(ENI_INFERRED completion "eventual")', ['at_once', 'later'], ['ENI_INFERRED.completion']),
            True, (40, '40 (DescribeInstances; 20 for DescribeNetworkInterfaces, ENI_INFERRED rate_limits)'), 'DescribeInstances')
    + [
        _probe('tencentcloud', 'bind_position', 'bind_position', 'where AssociateSecurityGroups puts the new group in the list',
               'docs/emulator.md "Tencent Cloud" assumptions', 'last', ['last']),
        _skip('tencentcloud', 'eni_max_groups', 'groups an ENI takes', 'plugins/module_utils/_tencentcloud.py ENI_INFERRED',
              '5 (the instance quota)', QUOTA, ['ENI_INFERRED.max_groups']),
        _skip('tencentcloud', 'eni_states', 'the ENI states that allow a change and those that end on their own',
              'plugins/module_utils/_tencentcloud.py ENI_INFERRED', 'AVAILABLE, INUSE change; PENDING, ATTACHING, DETACHING end',
              TRANSIENT, ['ENI_INFERRED.changeable_states', 'ENI_INFERRED.transient_states']),
        _skip('tencentcloud', 'eni_rate_limits', 'calls a second of the ENI calls', 'plugins/module_utils/_tencentcloud.py ENI_INFERRED',
              '20 each', 'the writes are not sent in bursts (that would cost throttled writes); the read burst measures '
              'DescribeNetworkInterfaces when an ENI is configured', ['ENI_INFERRED.rate_limits']),
        _skip('tencentcloud', 'operation_state_lag', 'how long DescribeInstances shows the previous LatestOperation* after a write',
              'plugins/module_utils/_tencentcloud.py OPERATION_STATE_LAG_S', '10 s at most',
              'only matters for a write whose answer was lost; the visibility probe times the normal case'),
        _skip('tencentcloud', 'refused_states', 'that Associate and Disassociate refuse the same instance states as Modify',
              'plugins/module_utils/_tencentcloud.py REFUSED_STATES', 'the same states', TRANSIENT),
        _skip('tencentcloud', 'instance_name_match', 'whether the instance-name filter matches a part of the name',
              'docs/emulator.md instance_name_match', 'exact',
              'the modules apply the name filter again to what the cloud answers: its server-side meaning changes no result'),
        _skip('tencentcloud', 'tags', 'the tag calls: the account segment, a missing resource, a missing key, UnTagResources\' rate',
              'plugins/module_utils/_tencentcloud.py, docs/emulator.md tag_*', 'see the tag settings', TAGS),
        _skip('tencentcloud', 'expired_token', 'the code of an expired temporary credential', 'plugins/module_utils/_tencentcloud.py',
              'AuthFailure.TokenFailure', EXPIRY),
        _skip('tencentcloud', 'assume_role', 'RoleSessionName\'s rule and the AssumeRole codes', 'plugins/module_utils/_tencentcloud.py',
              '[\\w+=,.@-]{2,128}', STS),
    ],
    # --- Alibaba Cloud ----------------------------------------------------------------------------------------
    _common('alicloud', 'alicloud', 'docs/emulator.md "Alibaba Cloud" assumptions',
            ('InvalidInstanceId.AlreadyExists, classed "already" (the ENI\'s code is assumed to be the instance\'s)', ['already'],
             ['INFERRED.eni_already_member']),
            ('an "already" code (InvalidSecurityGroupAssociation.NotFound or InstanceNotInSecurityGroup)', ['already', 'accepted']),
            ('shows shortly: re-read until it does', ['at_once', 'later']),
            False, (20, '20 (INFERRED default_rate_limit; the emulator: 100 for Describe*)'), 'DescribeInstances')
    + [
        _skip('alicloud', 'eni_last_group', 'the code of a leave that would leave an ENI without a group',
              'plugins/module_utils/_alicloud.py INFERRED', 'InvalidOperation.AtLeastInOneGroup', NO_GROUP, ['INFERRED.eni_last_group']),
        _skip('alicloud', 'transient_statuses', 'the statuses that end on their own', 'plugins/module_utils/_alicloud.py INFERRED',
              'Pending, Starting, Stopping; ENIs Attaching, Detaching', TRANSIENT, ['INFERRED.transient_statuses']),
        _skip('alicloud', 'tags', 'tag limits, reserved prefixes, ListTagResources\' page, the tag-filter cap',
              'plugins/module_utils/_alicloud.py, docs/emulator.md', '20 tags, aliyun/acs: in any case, 50 a page, 1000', TAGS),
        _skip('alicloud', 'metadata_endpoint_env', 'the variable naming the metadata address', 'plugins/module_utils/_alicloud.py CREDENTIAL_INFERRED',
              'ALIBABA_CLOUD_METADATA_ENDPOINT (this collection\'s)', IMDS, ['CREDENTIAL_INFERRED.metadata_endpoint_env']),
        _skip('alicloud', 'imds_v1_fallback', 'the plain GET after a failed metadata token PUT', 'plugins/module_utils/_alicloud.py CREDENTIAL_INFERRED',
              'as the SDK does', IMDS, ['CREDENTIAL_INFERRED.imds_v1_fallback']),
        _skip('alicloud', 'sts', 'AssumeRole\'s codes and limits', 'plugins/module_utils/_alicloud.py CREDENTIAL_INFERRED',
              'EntityNotExist.Role, ...; session name 64, external ID 1224, policy 2048', STS,
              ['CREDENTIAL_INFERRED.sts_codes', 'CREDENTIAL_INFERRED.sts_limits']),
    ],
    # --- Baidu AI Cloud ---------------------------------------------------------------------------------------
    _common('baiducloud', 'baiducloud', 'docs/emulator.md "Baidu AI Cloud" assumptions',
            ('accepted, nothing changes (the emulator\'s duplicate_bind: noop); SecurityGroup.AlreadyBound also handled', ['accepted', 'already']),
            ('accepted, nothing changes (the emulator\'s unbind_not_bound: noop); SecurityGroup.NotBound also handled', ['accepted', 'already']),
            ('synchronous: shows at once', ['at_once']),
            False, (10, '10 (default_rate_limit; the emulator: 20 for reads)'), 'ListInstancesByIds')
    + [
        _skip('baiducloud', 'batch_max_instances', 'the most instances a batch bind takes', 'plugins/module_utils/_baiducloud.py',
              '100 (10 by default)', 'needs more than 100 instances'),
        _skip('baiducloud', 'eni_max_groups', 'normal groups an ENI takes', 'plugins/module_utils/_baiducloud.py ENI_MAX_GROUPS', '10', QUOTA),
        _skip('baiducloud', 'missing_api_answer', 'how an endpoint without the batch or list-by-IDs call answers',
              'plugins/module_utils/_baiducloud.py, docs/emulator.md missing_api_answer', 'InvalidURI (or NoSuchObject)',
              'the public endpoints have both calls; a warning in the protocol\'s results would show a fallback'),
        _skip('baiducloud', 'tags', 'tag lengths, characters, count and the unbind rules', 'plugins/module_utils/_baiducloud.py TAG_LIMITS',
              '65, 65, 10', TAGS),
        _skip('baiducloud', 'metadata_fields', 'the fields of the metadata credential answer', 'plugins/module_utils/_baiducloud.py CREDENTIAL_INFERRED',
              'accessKeyId, secretAccessKey, sessionToken, expiration', IMDS, ['CREDENTIAL_INFERRED.metadata_fields']),
        _skip('baiducloud', 'expired_codes', 'the code of an expired session token', 'plugins/module_utils/_baiducloud.py CREDENTIAL_INFERRED',
              'InvalidSessionToken, SessionTokenExpired', EXPIRY, ['CREDENTIAL_INFERRED.expired_codes']),
        _skip('baiducloud', 'sts_min_duration', 'AssumeRole\'s lowest durationSeconds', 'plugins/module_utils/_baiducloud.py CREDENTIAL_INFERRED',
              '1', STS, ['CREDENTIAL_INFERRED.sts_min_duration']),
    ],
    # --- Zenlayer Cloud ---------------------------------------------------------------------------------------
    _common('zenlayer', 'zenlayer', 'docs/emulator.md "Zenlayer Cloud" assumptions',
            ('accepted, nothing changes (the emulator\'s duplicate_bind: noop); a code matching INFERRED idempotency_codes is handled',
             ['accepted', 'already'], ['INFERRED.idempotency_codes']),
            ('accepted, nothing changes; a code matching INFERRED idempotency_codes is handled', ['accepted', 'already']),
            ('shows shortly: re-read until it does', ['at_once', 'later']),
            False, (20, '20 (INFERRED default_rate_limit)'), 'DescribeInstances')
    + [
        _skip('zenlayer', 'min_groups', 'whether an instance may be left with no group', 'plugins/module_utils/_zenlayer.py INFERRED',
              'yes (no floor)', NO_GROUP, ['INFERRED.min_groups']),
        _skip('zenlayer', 'auth_statuses', 'which HTTP statuses mean an authentication failure', 'plugins/module_utils/_zenlayer.py INFERRED',
              '401, and 403 not OPERATION_DENIED_*', 'answered by zenlayer.auth_failure (its status and code are recorded)',
              ['INFERRED.auth_statuses']),
        _skip('zenlayer', 'zec', 'zec ID format, page sizes, status filter, INVALID_NIC_STATUS', 'plugins/module_utils/_zenlayer.py INFERRED',
              'see INFERRED', ZEC, ['INFERRED.zec_id_pattern', 'INFERRED.zec_page', 'INFERRED.nic_status_class', 'INFERRED.zec_list_page',
                                    'INFERRED.zec_fallback_page', 'INFERRED.zec_status_pushed']),
        _skip('zenlayer', 'tags', 'tag characters, count, quota and "exists" codes', 'plugins/module_utils/_zenlayer.py INFERRED',
              'see INFERRED', TAGS, ['INFERRED.tag_chars', 'INFERRED.max_tags', 'INFERRED.quota_codes', 'INFERRED.tag_exists_codes']),
        _skip('zenlayer', 'shared_credentials_file_env', 'a variable naming another credentials file',
              'plugins/module_utils/_zenlayer.py CREDENTIAL_INFERRED', 'none', 'a fact about the CLI, not the API',
              ['CREDENTIAL_INFERRED.shared_credentials_file_env']),
    ]
)
CATALOGUE = tuple(entry for group in _GROUPS for entry in group)


def for_cloud(cloud):
    return [entry for entry in CATALOGUE if entry['cloud'] == cloud]


def judge(entry, answer):
    """The probe's verdict from its answer (a dict with ``outcome``): ``match`` or ``mismatch``, or ``unanswered``."""
    if not answer or answer.get('outcome') in (None, 'error_running'):
        return 'unanswered'
    return 'match' if answer['outcome'] in entry['expect'] else 'mismatch'
