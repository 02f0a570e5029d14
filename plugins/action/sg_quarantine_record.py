# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sg_quarantine_record takes the chosen provider's module_defaults group, and only its (see sg_binding); of that group, only the
options it has (a cloud's group is written for its binding module too)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multicloud.secgroup.plugins.action.sg_binding import ActionModule as BindingAction
from ansible_collections.multicloud.secgroup.plugins.module_utils import _generic as generic


class ActionModule(BindingAction):

    module = BindingAction.module.replace('sg_binding', 'sg_quarantine_record')
    group_options = frozenset(generic.union_spec(generic.record_spec))
