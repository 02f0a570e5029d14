# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This module_utils is PRIVATE to the collection: it may change at any time.
"""Listing instances with filters, for the inventory plugin and sg_binding_info: checking the filters, choosing
those a provider's listing call takes, and applying every filter again to what it answers.

A provider that can list declares (docs/architecture.md):

* ``list_filters``: the names of FILTER_NAMES its listing call applies server-side;
* ``list_instances(filters)``: every instance (all pages), with only those filters sent to the API; each a dict with
  ``instance_id``, ``instance_name``, ``status``, ``vpc_id``, ``private_ips``, ``public_ips``, ``tags``,
  ``security_group_ids`` (the cloud's order), ``region`` (None without regions), ``kind`` ('instance' or
  'zec_instance') and, where the listing answer has them, ``network_interfaces``.

Semantics, the same pushed or local (a pushed filter that the cloud applies more loosely, a name matched as a
substring say, is narrowed here):

* ``tags``: {key: value} (that tag with that value) or {key: None} (that tag, any value); every one must match;
* ``name``: the instance name, exactly; with ``*``, ``?`` or ``[`` a shell-style pattern (case-sensitive),
  which is applied here only, never sent;
* ``status``: any of these statuses, compared without regard to case (RUNNING and Running are one);
* ``vpc_id``: the instance's VPC, exactly;
* ``security_group_id``: a group among the instance's own ``security_group_ids``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import re

FILTER_NAMES = ('tags', 'name', 'status', 'vpc_id', 'security_group_id')
GLOB_CHARACTERS = ('*', '?', '[')
# What a listed instance has, as the inventory and sg_binding_info give it.
INSTANCE_FIELDS = ('instance_id', 'instance_name', 'status', 'vpc_id', 'private_ips', 'public_ips', 'tags', 'security_group_ids')
# Longest filter value taken: names and tags are far shorter on every cloud.
MAX_LENGTH = 1024


class FilterError(ValueError):
    """A filter that cannot be used; the message names the option, the value and the rule."""


class ListingUnsupported(Exception):
    """The provider has no listing call wired in."""


def is_glob(name):
    return any(char in name for char in GLOB_CHARACTERS)


def _text(where, value):
    if not isinstance(value, str):
        raise FilterError('%s: %r is a %s, not text; quote it' % (where, value, type(value).__name__))
    if not value:
        raise FilterError('%s: an empty string matches nothing; give a value or leave the filter out' % where)
    if len(value) > MAX_LENGTH or re.search(r'[\x00-\x1f\x7f]', value):
        raise FilterError('%s: %r is longer than %d characters or has control characters such as a newline'
                          % (where, value[:40], MAX_LENGTH))
    return value


def check_filters(filters, cls, where='filters'):
    """The filters, checked and normalised (status always a list), or a FilterError naming option, value and rule.
    cls is the provider class (its security group ID pattern)."""
    if filters is None:
        return {}
    if not isinstance(filters, dict):
        raise FilterError('%s: %r is a %s; give a mapping of %s' % (where, filters, type(filters).__name__, ', '.join(FILTER_NAMES)))
    unknown = sorted('%s' % name for name in filters if name not in FILTER_NAMES)
    if unknown:
        raise FilterError('%s: %s: not a filter; the filters are %s' % (where, ', '.join(unknown), ', '.join(FILTER_NAMES)))
    out = {}
    tags = filters.get('tags')
    if tags is not None:
        if not isinstance(tags, dict):
            raise FilterError('%s.tags: %r is a %s; give a mapping of tag key to value (null for any value)'
                              % (where, tags, type(tags).__name__))
        out['tags'] = {}
        for key, value in tags.items():
            _text('%s.tags' % where, key)
            out['tags'][key] = None if value is None else _text('%s.tags.%s' % (where, key), value)
    if filters.get('name') is not None:
        out['name'] = _text('%s.name' % where, filters['name'])
    status = filters.get('status')
    if status is not None:
        statuses = [status] if isinstance(status, str) else status
        if not isinstance(statuses, list) or not statuses:
            raise FilterError('%s.status: %r; give a status or a non-empty list of statuses' % (where, status))
        out['status'] = [_text('%s.status[%d]' % (where, n), value) for n, value in enumerate(statuses)]
    if filters.get('vpc_id') is not None:
        out['vpc_id'] = _text('%s.vpc_id' % where, filters['vpc_id'])
    if filters.get('security_group_id') is not None:
        value = filters['security_group_id']
        _text('%s.security_group_id' % where, value)
        if not re.fullmatch(cls.security_group_id_pattern, value):
            raise FilterError('%s.security_group_id: %r is not a valid %s security group ID; it must match %s'
                              % (where, value, cls.display_name, cls.security_group_id_pattern))
        out['security_group_id'] = value
    return out


def pushed(filters, cls):
    """The filters the provider's listing call takes (its list_filters): a name pattern is never sent."""
    server = set(getattr(cls, 'list_filters', ()))
    out = dict((name, value) for name, value in filters.items() if name in server)
    if 'name' in out and is_glob(out['name']):
        del out['name']
    return out


def local(filters, cls):
    """The names of the filters applied here only (not sent to the provider)."""
    sent = pushed(filters, cls)
    return [name for name in FILTER_NAMES if name in filters and name not in sent]


def matches(instance, filters):
    """Whether a listed instance passes every filter."""
    tags = instance.get('tags') or {}
    for key, value in (filters.get('tags') or {}).items():
        if key not in tags or (value is not None and tags[key] != value):
            return False
    name = filters.get('name')
    if name is not None:
        have = instance.get('instance_name') or ''
        if not (fnmatch.fnmatchcase(have, name) if is_glob(name) else have == name):
            return False
    if 'status' in filters and ('%s' % (instance.get('status') or '')).casefold() not in [s.casefold() for s in filters['status']]:
        return False
    if 'vpc_id' in filters and instance.get('vpc_id') != filters['vpc_id']:
        return False
    if 'security_group_id' in filters and filters['security_group_id'] not in (instance.get('security_group_ids') or []):
        return False
    return True


def can_list(cls):
    return hasattr(cls, 'list_instances')


def list_instances(provider, filters):
    """The provider's instances that pass the (checked) filters, in the cloud's order. Raises ListingUnsupported for a
    provider without a listing call, and the provider's ProviderError as it comes."""
    if not can_list(provider):
        raise ListingUnsupported('%s (provider %s) cannot list its instances yet' % (provider.display_name, provider.name))
    return [instance for instance in provider.list_instances(pushed(filters, type(provider))) if matches(instance, filters)]
