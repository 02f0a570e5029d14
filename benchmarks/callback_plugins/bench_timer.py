# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark-only callback: the wall time of every task, as JSON lines, into $BENCH_TIMER_FILE.

Like community.general's/ansible.posix's profile_tasks (from the task's start to its result), without
needing that collection. Enabled by benchmarks/bench.py through ANSIBLE_CALLBACKS_ENABLED.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = '''
name: bench_timer
type: aggregate
short_description: per-task wall time for benchmarks/bench.py
description: Writes one JSON line per task result (name, seconds) to the file named by BENCH_TIMER_FILE.
'''

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.started = {}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.started[task._uuid] = time.monotonic()

    def _record(self, result, status):
        task = result._task
        elapsed = time.monotonic() - self.started.get(task._uuid, time.monotonic())
        path = os.environ.get('BENCH_TIMER_FILE')
        if path:
            with open(path, 'a') as handle:
                handle.write(json.dumps({'task': task.get_name(), 'seconds': elapsed, 'status': status}) + '\n')

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')
