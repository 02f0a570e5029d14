# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller side of sg_binding and sg_binding_info: the chosen provider's module_defaults group, and only its.

Those two modules belong to group/multicloud.secgroup.all only (meta/runtime.yml): were they in every cloud's group,
ansible-core would merge every cloud's group defaults into them, the last one written winning, and a Tencent Cloud
task would be sent to the endpoint and region of another cloud. Here the group of the cloud named by ``provider``
fills in the options the task, the module's own module_defaults and group/multicloud.secgroup.all left unset.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.multicloud.secgroup.plugins.module_utils import _generic as generic

COLLECTION = 'multicloud.secgroup'
# Each cloud's group in meta/runtime.yml is named as its `provider` value.
PROVIDER_GROUPS = dict((name, 'group/%s.%s' % (COLLECTION, name)) for name in generic.PROVIDERS)


def provider_group_defaults(module_defaults, provider):
    """The untemplated defaults of the provider's group: module_defaults is a list of dicts (one per level of play,
    block and task), merged in that order as ansible-core does."""
    group = PROVIDER_GROUPS.get(provider) if isinstance(provider, str) else None
    merged = {}
    if isinstance(module_defaults, dict):
        module_defaults = [module_defaults]
    for level in module_defaults or []:
        if group in level:
            merged = level[group]
    return merged


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = True
    module = COLLECTION + '.sg_binding'
    # The options a cloud's group may give this module: every one (a cloud's group is for its binding modules).
    group_options = None

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        defaults = provider_group_defaults(self._task.module_defaults, args.get('provider'))
        if defaults:
            defaults = self._templar.template(defaults)
            if not isinstance(defaults, dict):
                result.update(failed=True, msg='module_defaults: %s must be a mapping of options, got %s'
                              % (PROVIDER_GROUPS[args['provider']], type(defaults).__name__))
                return result
            if self.group_options is not None:
                defaults = dict((k, v) for k, v in defaults.items() if k in self.group_options)
            args = dict(defaults, **args)
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result.update(self._execute_module(module_name=self.module, module_args=args, task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
