# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This module_utils is PRIVATE to the collection: it may change at any time.
"""A quarantine record kept on the instance itself, as cloud tags.

Pure: no I/O, no Ansible, no provider (the providers import TagLimits from here).

The record (the same dict as in the role's ``file`` store, without the store's own keys)::

    {'instance_id': str, 'security_group_ids': [str, ...], 'quarantine_group_ids': [str, ...],
     'network_interfaces': [{'network_interface_id': str, 'security_group_ids': [str, ...]}, ...],
     'isolated_at': '2026-12-07T12:00:00+00:00', 'reason': str or None}

An interface with no group of its own (an empty ``security_group_ids``) may also have ``inherited_security_group_ids``,
the groups it had instead (a Zenlayer vNIC's VPC default group); they are written after the reason (``i``, how many
interfaces, then each one's position and its list), only when some interface has them.

Its tags (every key starts with RECORD_KEY_PREFIX; docs/architecture.md, "Quarantine records in tags"):

* ``sg-quarantine``: the marker, whose value is the isolation time, readable in the console (characters the cloud
  refuses are replaced, so it may differ from the exact time kept in the data);
* ``sg-quarantine-reason``: the reason, readable, only when there is one (same rule);
* ``sg-quarantine-1`` ... ``sg-quarantine-N``: the exact record, in as few values as the cloud's value length allows.

The data is ``1`` (the format), a separator, an escape character, then ``<length><sep><crc32><sep><body>``: the body
is the record's fields as tokens joined by the separator, with every character the cloud refuses in a value, the
separator, the escape character, space and anything outside ASCII written as the escape character and two hex digits
per UTF-8 byte. The separator and escape character are the first two the cloud accepts of SEPARATORS and ESCAPES,
so the data needs letters, digits and two of those; the decoder reads them from the data, needing no limits. The time
or the reason is in the body only where its readable tag is not exactly it. The length and checksum let a record mixed
from two writers, or edited by hand, be told from a whole one.

Tags a record takes: 1 + (1 with a reason) + ceil(D / max_value_len), where D is about 25 + the length of every ID
plus one per ID and per list (each list also writes its length), plus the time (25) and the reason where the readable
tags do not hold them exactly (their escaped length). For example, an instance with 2 groups, 1 quarantine group
and no interface, IDs of 12 characters: D is about 75, so 2 tags on Tencent Cloud (values of 255) and Alibaba Cloud
(128), 3 tags on Baidu AI Cloud (65, the time too: its values refuse ``:`` and ``+``), plus 1 with a reason.
``tag_count(record, limits)`` gives the exact number.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import math
import re
import string
import zlib

RECORD_KEY_PREFIX = 'sg-quarantine'
MARKER_KEY = RECORD_KEY_PREFIX
REASON_KEY = RECORD_KEY_PREFIX + '-reason'
FORMAT = '1'
# The separator and escape character, the first the cloud accepts of each (never a hyphen: IDs are full of them).
SEPARATORS = '/._=:@~|;'
ESCAPES = '_.~=@:|;/'
HEX = '0123456789abcdef'
# The longest reason a record takes, in characters.
MAX_REASON_LENGTH = 256
# What the readable tags put for a character the cloud refuses, where it accepts one of these instead.
READABLE_SUBSTITUTES = {':': '.-_ ', '+': ' ._-'}
RECORD_FIELDS = ('instance_id', 'security_group_ids', 'network_interfaces', 'quarantine_group_ids', 'isolated_at', 'reason')
INTERFACE_FIELDS = ('network_interface_id', 'security_group_ids')
# Optional on an interface with no group of its own: the groups it inherited (a Zenlayer vNIC's VPC default group),
# which a restore sets as its own. Encoded after the reason, only when some interface has them, so a record without
# them has the same tags as before.
INHERITED_FIELD = 'inherited_security_group_ids'

TagLimits = collections.namedtuple('TagLimits', 'max_key_len max_value_len max_tags key_chars value_chars reserved_prefixes')
TagLimits.__doc__ = """What a cloud accepts in the tags of one resource.

max_key_len, max_value_len: characters; max_tags: tags per resource (the user's own included); key_chars,
value_chars: regular expression character classes of the characters accepted (r'[A-Za-z0-9 +\\-=._:/@]');
reserved_prefixes: key prefixes the cloud keeps for itself (compared ignoring case)."""


class RecordError(ValueError):
    """Tags that carry a record (a key with RECORD_KEY_PREFIX) which cannot be read back whole."""


class RecordTooBig(ValueError):
    """A record that does not fit the cloud's tag limits; raised before any write."""


def is_record_key(key):
    return key == MARKER_KEY or (isinstance(key, str) and key.startswith(RECORD_KEY_PREFIX + '-'))


def record_keys(tags):
    """The keys of tags that belong to a record, sorted."""
    return sorted(key for key in tags or {} if is_record_key(key))


def has_record(tags):
    """Whether tags carry a record, whole or not (an unreadable one still marks the instance quarantined)."""
    return bool(record_keys(tags))


def _accepts(char_class, char):
    return re.fullmatch(char_class, char) is not None


def data_alphabet(limits):
    """(separator, escape, the characters written as they are) for these limits; ValueError when too few are accepted."""
    printable = [chr(c) for c in range(0x21, 0x7f) if _accepts(limits.value_chars, chr(c))]
    sep = next((c for c in SEPARATORS if c in printable), None)
    esc = next((c for c in ESCAPES if c in printable and c != sep), None)
    if sep is None or esc is None or not all(c in printable for c in string.ascii_letters + string.digits):
        raise RecordTooBig('tag values that accept %s cannot hold a quarantine record: it needs letters, digits and two of %s'
                           % (limits.value_chars, SEPARATORS))
    return sep, esc, frozenset(c for c in printable if c not in (sep, esc))


def _escape(text, esc, raw):
    out = []
    for char in text:
        if char in raw:
            out.append(char)
        else:
            out.extend(esc + '%02x' % byte for byte in char.encode('utf-8'))
    return ''.join(out)


def _unescape(text, esc):
    data = bytearray()
    i = 0
    while i < len(text):
        if text[i] == esc:
            pair = text[i + 1:i + 3]
            if len(pair) != 2 or not all(c in HEX for c in pair.lower()):
                raise RecordError('a broken escape %r' % text[i:i + 3])
            data.append(int(pair, 16))
            i += 3
        else:
            data.extend(text[i].encode('utf-8'))
            i += 1
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        raise RecordError('escaped bytes that are not UTF-8')


def readable(text, limits):
    """text for a console: each character the cloud refuses replaced (or dropped), at most max_value_len, no space at the ends."""
    out = []
    for char in text:
        if _accepts(limits.value_chars, char):
            out.append(char)
            continue
        substitute = next((c for c in READABLE_SUBSTITUTES.get(char, '_') if _accepts(limits.value_chars, c)), None)
        if substitute is not None:
            out.append(substitute)
    return ''.join(out)[:limits.max_value_len].strip()


def check_record(record):
    """ValueError naming the field when record is not a record (the types only; the module checks the IDs)."""
    if not isinstance(record, dict):
        raise ValueError('a record must be a dict, not %s' % type(record).__name__)
    unknown = sorted(set(record) - set(RECORD_FIELDS))
    if unknown:
        raise ValueError('%s: not a field of a record (its fields are %s)' % (', '.join(unknown), ', '.join(RECORD_FIELDS)))

    def strings(name, value):
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ValueError('%s: must be a list of non-empty strings' % name)

    if not isinstance(record.get('instance_id'), str) or not record['instance_id']:
        raise ValueError('instance_id: must be a non-empty string')
    strings('security_group_ids', record.get('security_group_ids'))
    strings('quarantine_group_ids', record.get('quarantine_group_ids'))
    interfaces = record.get('network_interfaces', [])
    if not isinstance(interfaces, list):
        raise ValueError('network_interfaces: must be a list')
    for item in interfaces:
        if not isinstance(item, dict) or not set(INTERFACE_FIELDS) <= set(item) <= set(INTERFACE_FIELDS + (INHERITED_FIELD,)) \
                or not isinstance(item['network_interface_id'], str) or not item['network_interface_id']:
            raise ValueError('network_interfaces: each must be a dict of %s (and optionally %s)' % (', '.join(INTERFACE_FIELDS), INHERITED_FIELD))
        strings('network_interfaces[].security_group_ids', item['security_group_ids'])
        if INHERITED_FIELD in item:
            strings('network_interfaces[].' + INHERITED_FIELD, item[INHERITED_FIELD])
            if item[INHERITED_FIELD] and item['security_group_ids']:
                raise ValueError('network_interfaces[].%s: only for an interface with no group of its own (empty security_group_ids)'
                                 % INHERITED_FIELD)
    if not isinstance(record.get('isolated_at'), str) or not record['isolated_at']:
        raise ValueError('isolated_at: must be a non-empty string')
    if record.get('reason') is not None and not isinstance(record['reason'], str):
        raise ValueError('reason: must be a string or null')


def normalized(record):
    """The record with every field (network_interfaces [] and reason None when absent; an interface's inherited groups
    only when there are some), as decode returns it."""
    def interface(item):
        out = {'network_interface_id': item['network_interface_id'], 'security_group_ids': list(item['security_group_ids'])}
        if item.get(INHERITED_FIELD):
            out[INHERITED_FIELD] = list(item[INHERITED_FIELD])
        return out

    return {'instance_id': record['instance_id'], 'security_group_ids': list(record['security_group_ids']),
            'network_interfaces': [interface(i) for i in record.get('network_interfaces') or []],
            'quarantine_group_ids': list(record['quarantine_group_ids']), 'isolated_at': record['isolated_at'],
            'reason': record.get('reason')}


def _tokens(record, time_in_marker, reason_in_tag):
    def listed(values):
        return [str(len(values))] + list(values)

    out = [record['instance_id']] + listed(record['security_group_ids']) + [str(len(record['network_interfaces']))]
    for item in record['network_interfaces']:
        out += [item['network_interface_id']] + listed(item['security_group_ids'])
    out += listed(record['quarantine_group_ids'])
    out.append('m' if time_in_marker else 'v' + record['isolated_at'])
    if record['reason'] is None:
        out.append('n')
    else:
        out.append('r' if reason_in_tag else 'v' + record['reason'])
    inherited = [(n, item[INHERITED_FIELD]) for n, item in enumerate(record['network_interfaces']) if item.get(INHERITED_FIELD)]
    if inherited:
        # 'i', how many interfaces, then each one's position in network_interfaces and its inherited groups.
        out += ['i', str(len(inherited))]
        for n, groups in inherited:
            out += [str(n)] + listed(groups)
    return out


def encode(record, limits, instance=None, own_tags=0):
    """The record's tags, {key: value}, every one within limits; RecordTooBig (naming the instance, the size and the limit)
    when they do not fit, counting own_tags, the tags the instance already has that are no record's."""
    check_record(record)
    record = normalized(record)
    instance = instance or record['instance_id']
    sep, esc, raw = data_alphabet(limits)
    tags = {}
    marker = readable(record['isolated_at'], limits) or 'quarantined'
    tags[MARKER_KEY] = marker
    reason_tag = readable(record['reason'], limits) if record['reason'] else ''
    if reason_tag:
        tags[REASON_KEY] = reason_tag
    tokens = _tokens(record, marker == record['isolated_at'], bool(reason_tag) and reason_tag == record['reason'])
    body = sep.join(_escape(token, esc, raw) for token in tokens)
    data = FORMAT + sep + esc + str(len(body)) + sep + '%08x' % (zlib.crc32(body.encode('ascii')) & 0xffffffff) + sep + body
    chunks = int(math.ceil(len(data) / float(limits.max_value_len)))
    for n in range(chunks):
        tags[RECORD_KEY_PREFIX + '-%d' % (n + 1)] = data[n * limits.max_value_len:(n + 1) * limits.max_value_len]
    reserved = tuple(p.lower() for p in limits.reserved_prefixes or ())
    for key in sorted(tags, key=len, reverse=True):
        if len(key) > limits.max_key_len or not all(_accepts(limits.key_chars, c) for c in key) or key.lower().startswith(reserved):
            raise RecordTooBig('instance %s: the cloud refuses the quarantine record\'s tag key %s (keys of at most %d characters of %s%s)'
                               % (instance, key, limits.max_key_len, limits.key_chars,
                                  ', not starting with %s' % ', '.join(limits.reserved_prefixes) if reserved else ''))
    if len(tags) + own_tags > limits.max_tags:
        raise RecordTooBig('instance %s: its quarantine record needs %d tags (%d characters of data, %d a tag)%s, more than the %d '
                           'tags an instance can have; keep the record in the file store, or remove %s'
                           % (instance, len(tags), len(data), limits.max_value_len,
                              ' besides the %d tags it has' % own_tags if own_tags else '', limits.max_tags,
                              'some of its tags' if own_tags and len(tags) <= limits.max_tags else 'some interfaces or groups from it'))
    return tags


def tag_count(record, limits):
    """How many tags the record takes under these limits."""
    return len(encode(record, limits._replace(max_tags=10 ** 6)))


def decode(tags):
    """The record the tags carry, None when they carry none, RecordError when one is there but cannot be read whole."""
    keys = record_keys(tags)
    if not keys:
        return None
    if MARKER_KEY not in tags or RECORD_KEY_PREFIX + '-1' not in tags:
        raise RecordError('tags %s are a part of a quarantine record only (%s missing)'
                          % (', '.join(keys), MARKER_KEY if MARKER_KEY not in tags else RECORD_KEY_PREFIX + '-1'))
    first = tags[RECORD_KEY_PREFIX + '-1'] or ''
    if len(first) < 3 or first[0] != FORMAT:
        raise RecordError('%s-1 is not a record of format %s' % (RECORD_KEY_PREFIX, FORMAT))
    sep, esc = first[1], first[2]
    data, n = '', 1
    while RECORD_KEY_PREFIX + '-%d' % n in tags:
        data += tags[RECORD_KEY_PREFIX + '-%d' % n] or ''
        n += 1
    head = data[3:].split(sep, 2)
    if len(head) != 3 or not head[0].isdigit() or not re.fullmatch('[0-9a-f]{8}', head[1]):
        raise RecordError('the record\'s header is damaged')
    body = head[2][:int(head[0])]     # a longer tail: chunks left by a longer record of another writer
    if len(body) != int(head[0]) or '%08x' % (zlib.crc32(body.encode('utf-8')) & 0xffffffff) != head[1]:
        raise RecordError('the record is incomplete or was changed (its length or checksum does not match)')
    tokens = [_unescape(token, esc) for token in body.split(sep)]
    try:
        record = _parse(tokens, tags)
    except (IndexError, ValueError) as exc:
        raise RecordError('the record\'s data does not parse (%s)' % exc)
    return record


def _count(token):
    if not token.isdigit():
        raise ValueError('a count %r' % token)
    return int(token)


def _parse(tokens, tags):
    position = [0]

    def take():
        position[0] += 1
        return tokens[position[0] - 1]

    def listed():
        count = take()
        if not count.isdigit():
            raise ValueError('a count %r' % count)
        return [take() for dummy in range(int(count))]

    record = {'instance_id': take(), 'security_group_ids': listed(), 'network_interfaces': []}
    count = take()
    if not count.isdigit():
        raise ValueError('a count %r' % count)
    for dummy in range(int(count)):
        record['network_interfaces'].append({'network_interface_id': take(), 'security_group_ids': listed()})
    record['quarantine_group_ids'] = listed()
    when = take()
    record['isolated_at'] = tags[MARKER_KEY] if when == 'm' else when[1:]
    why = take()
    if why == 'r' and REASON_KEY not in tags:
        raise ValueError('%s is missing' % REASON_KEY)
    record['reason'] = None if why == 'n' else tags[REASON_KEY] if why == 'r' else why[1:]
    if position[0] < len(tokens) and tokens[position[0]] == 'i':
        take()
        for dummy in range(_count(take())):
            at = _count(take())
            item = record['network_interfaces'][at]
            if INHERITED_FIELD in item or item['security_group_ids']:
                raise ValueError('inherited groups for interface %d' % at)
            item[INHERITED_FIELD] = listed()
            if not item[INHERITED_FIELD]:
                raise ValueError('no inherited groups for interface %d' % at)
    if position[0] != len(tokens) or when[:1] not in 'mv' or why[:1] not in 'nrv' or not when or not why:
        raise ValueError('unexpected tokens')
    return record
