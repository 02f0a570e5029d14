# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The guide's table of the filters each cloud applies server-side says what each provider declares (list_filters),
one row per provider that lists, so the documentation cannot drift from the code."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.multicloud.secgroup.plugins.module_utils import _generic as generic
from ansible_collections.multicloud.secgroup.plugins.module_utils import _listing as listing

GUIDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'docs', 'guides', 'inventory_to_roles.md')


def table_rows():
    """{provider: (sent, local)} from the rows after the guide's listing-table marker."""
    with open(GUIDE) as handle:
        text = handle.read()
    rows = {}
    lines = text.split('<!-- listing-table', 1)[1].split('\n')[1:]
    while lines and not lines[0].strip():
        lines.pop(0)
    assert lines[0].startswith('| cloud |') and lines[1].startswith('|---')
    for line in lines[2:]:
        if not line.startswith('|'):
            break
        cells = [cell.strip() for cell in line.strip('|').split('|')]
        names = [re.findall(r'`([a-z_]+)`', cell) for cell in cells]
        rows[names[0][0]] = (names[2], names[3])
    return rows


def test_the_guide_says_which_filters_each_cloud_applies():
    rows = table_rows()
    listing_providers = sorted(name for name, cls in generic.PROVIDERS.items() if listing.can_list(cls))
    # A row for every provider that lists; a row may come before its provider's listing hook is merged.
    assert set(listing_providers) <= set(rows) <= set(generic.PROVIDERS)
    for name in listing_providers:
        taken = list(generic.PROVIDERS[name].list_filters)
        assert set(taken) <= set(listing.FILTER_NAMES), name
        sent, local = rows[name]
        assert sorted(sent) == sorted(taken), name
        assert sorted(local) == sorted(set(listing.FILTER_NAMES) - set(taken)), name
