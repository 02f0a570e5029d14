# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Callback of the live run (tests/live/live.py): one JSON line per task result in the file named by
MULTICLOUD_SECGROUP_LIVE_STEPS, with the host, the task, when it started and ended, and only the result fields the
report uses (never ``invocation``: the module's arguments); a loop's items each on a line of their own."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = '''
name: live_steps
type: aggregate
short_description: the live run's task results, as JSON lines
description: One JSON line per task result in the file named by MULTICLOUD_SECGROUP_LIVE_STEPS.
requirements: [enabled in callbacks_enabled]
'''

import json
import os
import time

from ansible.plugins.callback import CallbackBase

# The result fields the report reads.
KEPT = ('changed', 'failed', 'skipped', 'msg', 'operations', 'request_ids', 'instances', 'network_interfaces', 'bindings',
        'missing', 'error', 'attempts', 'warnings', 'probes', 'skip_reason', 'false_condition')


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'live_steps'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.path = os.environ.get('MULTICLOUD_SECGROUP_LIVE_STEPS')
        self.started = {}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.started[task._uuid] = time.time()

    def write(self, result, status, item=False):
        if not self.path:
            return
        task = result._task
        record = {'host': result._host.get_name(), 'task': task.get_name(), 'check_mode': bool(task.check_mode),
                  'status': status, 'start': self.started.get(task._uuid), 'end': time.time()}
        if item:
            # A loop's item: the role loops over every cloud's batches; each says its provider.
            value = result._result.get(result._result.get('ansible_loop_var', 'item'))
            record['item_provider'] = value.get('provider') if isinstance(value, dict) else None
        record.update((key, value) for key, value in result._result.items() if key in KEPT)
        with open(self.path, 'a') as handle:
            handle.write(json.dumps(record, default=str, sort_keys=True) + '\n')

    def v2_runner_on_ok(self, result):
        self.write(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self.write(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self.write(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self.write(result, 'unreachable')

    def v2_runner_item_on_ok(self, result):
        self.write(result, 'ok', item=True)

    def v2_runner_item_on_failed(self, result):
        self.write(result, 'failed', item=True)
