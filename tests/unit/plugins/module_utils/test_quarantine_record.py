# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Quarantine records in tags: decode(encode(r)) == r and every tag within the cloud's limits, for a range of limits and for
every provider that declares its own (tag_limits)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.multicloud.secgroup.plugins.module_utils import _quarantine_record as qr
from ansible_collections.multicloud.secgroup.plugins.module_utils._generic import PROVIDERS

# Like each cloud's (the providers declare the real ones): Alibaba-like, Tencent-like, Baidu-like [inferred].
ALIBABA_LIKE = qr.TagLimits(128, 128, 20, r'[^\x00-\x1f]', r'[^\x00-\x1f]', ('aliyun', 'acs:'))
TENCENT_LIKE = qr.TagLimits(127, 255, 50, r'[A-Za-z0-9 +\-=._:/@()\[\]]', r'[A-Za-z0-9 +\-=._:/@()\[\]]', ('qcloud', 'tencent', 'project'))
BAIDU_LIKE = qr.TagLimits(65, 65, 10, r'[A-Za-z0-9\-_ /.\u4e00-\u9fff]', r'[A-Za-z0-9\-_ /.\u4e00-\u9fff]', ())
NAMED = {'alibaba-like': ALIBABA_LIKE, 'tencent-like': TENCENT_LIKE, 'baidu-like': BAIDU_LIKE}


def declared():
    """Every provider's tag_limits: one TagLimits, or one per target kind (a dict; None where a kind cannot tag)."""
    out = {}
    for name, cls in sorted(PROVIDERS.items()):
        limits = getattr(cls, 'tag_limits', None)
        for kind, value in sorted(limits.items()) if isinstance(limits, dict) else [('', limits)]:
            if isinstance(value, qr.TagLimits):
                out[('provider %s %s' % (name, kind)).strip()] = value
    return out


DECLARED = declared()
PUNCTUATION = '+-=._:/@()[]~|;,'


def limits():
    """Limits in a range around the clouds': lengths, counts, and which punctuation is accepted."""
    def build(max_len, max_value, accepted):
        chars = '[A-Za-z0-9%s]' % re.escape(''.join(accepted))
        return qr.TagLimits(max_len, max_value, 10 ** 4, chars, chars, ('aliyun', 'acs:'))
    return st.one_of(st.sampled_from(list(NAMED.values()) + list(DECLARED.values())),
                     st.builds(build, st.integers(min_value=24, max_value=200), st.integers(min_value=8, max_value=300),
                               st.sets(st.sampled_from(PUNCTUATION), min_size=3).filter(lambda s: len(s & set(qr.SEPARATORS)) >= 2
                                                                                        and len(s & set(qr.SEPARATORS + qr.ESCAPES)) >= 2
                                                                                        and '-' in s)))


ID = st.text(alphabet=st.characters(blacklist_categories=('Cs',)), min_size=1, max_size=30)
CLOUD_ID = st.from_regex(r'(sg|ins|i|eni|g)-[a-z0-9]{8}|[0-9]{18}', fullmatch=True)
TIME = st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()) | st.just('2026-12-07T12:00:00+00:00')
REASON = st.none() | st.text(max_size=qr.MAX_REASON_LENGTH) | st.just('INC-4711 ransomware on web1')


def records(ids=CLOUD_ID, max_groups=5, max_interfaces=3):
    groups = st.lists(ids, max_size=max_groups)
    return st.fixed_dictionaries({
        'instance_id': ids, 'security_group_ids': groups, 'quarantine_group_ids': groups,
        # An interface with groups of its own, or one with none that inherited some (a Zenlayer vNIC's VPC default group).
        'network_interfaces': st.lists(st.fixed_dictionaries({'network_interface_id': ids, 'security_group_ids': groups})
                                       | st.fixed_dictionaries({'network_interface_id': ids, 'security_group_ids': st.just([]),
                                                                qr.INHERITED_FIELD: st.lists(ids, max_size=2)}),
                                       max_size=max_interfaces),
        'isolated_at': TIME, 'reason': REASON})


def assert_within(tags, limits):
    assert len(tags) <= limits.max_tags
    for key, value in tags.items():
        assert qr.is_record_key(key)
        assert 0 < len(key) <= limits.max_key_len and all(re.fullmatch(limits.key_chars, c) for c in key), key
        assert not key.lower().startswith(tuple(p.lower() for p in limits.reserved_prefixes))
        assert 0 < len(value) <= limits.max_value_len and all(re.fullmatch(limits.value_chars, c) for c in value), (key, value)
        assert value == value.strip(), (key, value)


def round_trip(record, limits):
    big = limits._replace(max_tags=10 ** 6)
    tags = qr.encode(record, big)
    assert_within(tags, big)
    assert qr.decode(tags) == qr.normalized(record)
    # The user's own tags beside it change nothing.
    assert qr.decode(dict(tags, Name='web1', env='prod')) == qr.normalized(record)
    return tags


@settings(max_examples=300, deadline=None)
@given(record=records(), limits=limits())
def test_cloud_ids_round_trip_within_every_limit(record, limits):
    round_trip(record, limits)


@settings(max_examples=200, deadline=None)
@given(record=records(ids=ID, max_groups=3, max_interfaces=2), limits=limits())
def test_any_text_round_trips_exactly(record, limits):
    round_trip(record, limits)


@pytest.mark.parametrize('name', sorted(set(NAMED) | set(DECLARED)))
def test_each_clouds_limits(name):
    limits = dict(NAMED, **DECLARED)[name]

    @settings(max_examples=150, deadline=None)
    @given(record=records())
    def check(record):
        tags = round_trip(record, limits)
        # The user's own tags share the cloud's maximum: a record too big for what is left is refused before any write.
        room = limits.max_tags - len(tags)
        assert qr.encode(record, limits, own_tags=room) == tags
        expected = 'instance %s: its quarantine record needs %d tags' % (re.escape(record['instance_id']), len(tags))
        with pytest.raises(qr.RecordTooBig, match=expected):
            qr.encode(record, limits, own_tags=room + 1)
    check()


def test_the_record_is_readable_in_the_console_where_the_characters_allow():
    record = {'instance_id': 'ins-2zvpghhc', 'security_group_ids': ['sg-9id3l839', 'sg-5275dorp'], 'network_interfaces': [],
              'quarantine_group_ids': ['sg-quarant1'], 'isolated_at': '2026-12-07T12:00:00+00:00', 'reason': 'INC-4711 ransomware'}
    tencent = qr.encode(record, TENCENT_LIKE)
    assert tencent['sg-quarantine'] == '2026-12-07T12:00:00+00:00'
    assert tencent['sg-quarantine-reason'] == 'INC-4711 ransomware'
    assert sorted(tencent) == ['sg-quarantine', 'sg-quarantine-1', 'sg-quarantine-reason']
    assert 'ins-2zvpghhc/2/sg-9id3l839/sg-5275dorp/0/1/sg-quarant1/m/r' in tencent['sg-quarantine-1']
    # Baidu-like values refuse ':' and '+': the marker shows the time as near as they allow, the data keeps it exact.
    baidu = qr.encode(record, BAIDU_LIKE)
    assert baidu['sg-quarantine'] == '2026-12-07T12.00.00 00.00'
    assert qr.decode(baidu)['isolated_at'] == '2026-12-07T12:00:00+00:00'
    assert len(baidu) == qr.tag_count(record, BAIDU_LIKE) == 4
    assert qr.tag_count(dict(record, reason=None), ALIBABA_LIKE) == 2


def test_tag_counts_stay_small():
    """What docs/architecture.md states: a record of n groups and k interfaces, with IDs of 12 characters."""
    def record(n, k):
        ids = ['sg-%09d' % i for i in range(n)]
        return {'instance_id': 'ins-12345678', 'security_group_ids': ids, 'quarantine_group_ids': ids[:1],
                'network_interfaces': [{'network_interface_id': 'eni-%08d' % i, 'security_group_ids': ids} for i in range(k)],
                'isolated_at': '2026-12-07T12:00:00+00:00', 'reason': None}
    assert qr.tag_count(record(2, 0), TENCENT_LIKE) == 2
    assert qr.tag_count(record(2, 0), ALIBABA_LIKE) == 2
    assert qr.tag_count(record(2, 0), BAIDU_LIKE) == 3
    assert qr.tag_count(record(5, 2), ALIBABA_LIKE) == 4
    assert qr.tag_count(record(5, 2), TENCENT_LIKE) == 3


@pytest.mark.parametrize('damage', ['drop-chunk', 'edit-chunk', 'drop-marker', 'other-header'])
def test_a_damaged_record_is_an_error_not_a_record(damage):
    record = {'instance_id': 'i-abcdefgh', 'security_group_ids': ['sg-%08d' % i for i in range(5)], 'network_interfaces': [],
              'quarantine_group_ids': ['sg-qqqqqqqq'], 'isolated_at': '2026-12-07T12:00:00+00:00', 'reason': None}
    tags = qr.encode(record, BAIDU_LIKE)
    assert len(tags) >= 3
    if damage == 'drop-chunk':
        del tags['sg-quarantine-2']
    elif damage == 'edit-chunk':
        tags['sg-quarantine-2'] = tags['sg-quarantine-2'].replace('0', '1', 1)
    elif damage == 'drop-marker':
        del tags['sg-quarantine']
    else:
        tags['sg-quarantine-1'] = 'x' + tags['sg-quarantine-1']
    assert qr.has_record(tags)
    with pytest.raises(qr.RecordError):
        qr.decode(tags)


def test_chunks_left_by_a_longer_record_do_not_spoil_a_shorter_one():
    long_record = {'instance_id': 'i-abcdefgh', 'security_group_ids': ['sg-%08d' % i for i in range(5)], 'network_interfaces': [],
                   'quarantine_group_ids': ['sg-qqqqqqqq'], 'isolated_at': '2026-12-07T12:00:00+00:00', 'reason': None}
    short = dict(long_record, security_group_ids=['sg-00000001'])
    mixed = dict(qr.encode(long_record, BAIDU_LIKE), **qr.encode(short, BAIDU_LIKE))
    assert qr.decode(mixed) == short


def test_no_record_and_the_users_own_tags():
    assert qr.decode({}) is None and qr.decode({'Name': 'web', 'sg-quarantined-by': 'someone'}) is None
    assert not qr.has_record({'sg-quarantinex': '1'})


def test_limits_that_cannot_hold_a_record_are_named():
    letters_only = qr.TagLimits(128, 128, 20, r'[A-Za-z0-9\-]', r'[A-Za-z0-9\-]', ())
    record = {'instance_id': 'i-1', 'security_group_ids': [], 'quarantine_group_ids': [], 'isolated_at': 't', 'reason': None}
    with pytest.raises(qr.RecordTooBig, match='needs letters, digits and two of'):
        qr.encode(record, letters_only)
    short_keys = TENCENT_LIKE._replace(max_key_len=12)
    with pytest.raises(qr.RecordTooBig, match='instance i-1: the cloud refuses the quarantine record\'s tag key sg-quarantine'):
        qr.encode(record, short_keys)
    reserved = TENCENT_LIKE._replace(reserved_prefixes=('SG-',))
    with pytest.raises(qr.RecordTooBig, match='not starting with SG-'):
        qr.encode(record, reserved)


@pytest.mark.parametrize('record, message', [
    ([], 'a record must be a dict'),
    ({'instance_id': 'i-1', 'security_group_ids': [], 'quarantine_group_ids': [], 'isolated_at': 't', 'restored': True},
     'restored: not a field of a record'),
    ({'instance_id': '', 'security_group_ids': [], 'quarantine_group_ids': [], 'isolated_at': 't'}, 'instance_id: must be'),
    ({'instance_id': 'i-1', 'security_group_ids': 'sg-1', 'quarantine_group_ids': [], 'isolated_at': 't'}, 'security_group_ids: must be'),
    ({'instance_id': 'i-1', 'security_group_ids': [], 'quarantine_group_ids': [], 'isolated_at': 't', 'network_interfaces': [{}]},
     'network_interfaces: each must be'),
    ({'instance_id': 'i-1', 'security_group_ids': [], 'quarantine_group_ids': [], 'isolated_at': 't', 'reason': 5}, 'reason: must be'),
    ({'instance_id': 'i-1', 'security_group_ids': [], 'quarantine_group_ids': [], 'isolated_at': 't',
      'network_interfaces': [{'network_interface_id': 'n-1', 'security_group_ids': [], qr.INHERITED_FIELD: 'sg-1'}]},
     'network_interfaces\\[\\].inherited_security_group_ids: must be'),
    ({'instance_id': 'i-1', 'security_group_ids': [], 'quarantine_group_ids': [], 'isolated_at': 't',
      'network_interfaces': [{'network_interface_id': 'n-1', 'security_group_ids': ['sg-2'], qr.INHERITED_FIELD: ['sg-1']}]},
     'only for an interface with no group of its own'),
])
def test_a_malformed_record_is_refused_naming_the_field(record, message):
    with pytest.raises(ValueError, match=message):
        qr.encode(record, TENCENT_LIKE)


def test_inherited_groups_round_trip_and_leave_other_records_as_they_were():
    plain = {'instance_id': 'zec-1', 'security_group_ids': ['1'], 'quarantine_group_ids': ['3'], 'isolated_at': '2026-12-07T12:00:00+00:00',
             'network_interfaces': [{'network_interface_id': 'nic-a', 'security_group_ids': ['2']},
                                    {'network_interface_id': 'nic-b', 'security_group_ids': []}]}
    # Without inherited groups (or with an empty list of them) the tags are those of the format before them.
    empty = dict(plain, network_interfaces=[plain['network_interfaces'][0], dict(plain['network_interfaces'][1], **{qr.INHERITED_FIELD: []})])
    assert qr.encode(empty, TENCENT_LIKE) == qr.encode(plain, TENCENT_LIKE)
    assert 'i' not in qr.decode(qr.encode(plain, TENCENT_LIKE))['network_interfaces'][1]
    inherited = dict(plain, network_interfaces=[plain['network_interfaces'][0],
                                                dict(plain['network_interfaces'][1], **{qr.INHERITED_FIELD: ['4']})])
    decoded = qr.decode(qr.encode(inherited, TENCENT_LIKE))
    assert decoded['network_interfaces'] == inherited['network_interfaces']


def test_inherited_groups_for_an_interface_with_its_own_are_an_error():
    tags = qr.encode({'instance_id': 'zec-1', 'security_group_ids': ['1'], 'quarantine_group_ids': ['3'], 'isolated_at': 'now',
                      'network_interfaces': [{'network_interface_id': 'nic-b', 'security_group_ids': [], qr.INHERITED_FIELD: ['4']}]},
                     TENCENT_LIKE)
    # Rewritten as if interface 0 had a group of its own: the data no longer parses.
    sep, esc = tags['sg-quarantine-1'][1], tags['sg-quarantine-1'][2]
    body = sep.join(['zec-1', '1', '1', '1', 'nic-b', '1', '9', '1', '3', 'm', 'n', 'i', '1', '0', '1', '4'])
    import zlib
    data = '1' + sep + esc + str(len(body)) + sep + '%08x' % (zlib.crc32(body.encode('ascii')) & 0xffffffff) + sep + body
    with pytest.raises(qr.RecordError, match='inherited groups for interface 0'):
        qr.decode({'sg-quarantine': 'now', 'sg-quarantine-1': data})
