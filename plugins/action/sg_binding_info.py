# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sg_binding_info takes the chosen provider's module_defaults group, and only its (see sg_binding)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.multicloud.secgroup.plugins.action.sg_binding import ActionModule as BindingAction


class ActionModule(BindingAction):

    module = BindingAction.module + '_info'
