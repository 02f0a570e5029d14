# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ctrl-C in a terminal running ansible-playbook: the signal reaches the controller, its worker and the module (the
whole foreground process group). The controller quits at once; the module must stop writing too, not go on as an
orphan (docs/reliability.md, "Interrupts"). A real playbook process, so it runs under plain pytest (`make pytest`);
the module-process cases are in tests/unit/plugins/modules/test_interrupt.py."""

from __future__ import absolute_import, division, print_function

import json
import os
import signal
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

import playbook_runner as pr  # noqa: E402  pylint: disable=wrong-import-position
from emulator import start  # noqa: E402  pylint: disable=wrong-import-position

KEY_ID = 'bdstop0000000002'
SECRET = 'Bd-Interrupt-Playbook-Secret-Never-Shown'
INSTANCES = 120
# Scheduling noise on a loaded 2-core machine: a write counts as started after the signal only past this.
SLACK_S = 1.0
# _transport.IN_FLIGHT_GRACE_S (3) + _engine.INTERRUPT_READ_BACK_S (4) + start-up and slack: an orphan would write on.
EXIT_BOUND_S = 10.0


@pytest.fixture
def cloud():
    """Baidu with 200 ms per request: writes are in flight when the signal comes (the default rate, 10 binds/s, stays)."""
    for var in pr.PROXY_VARIABLES:
        os.environ.pop(var, None)
    running = start()
    running.emulator.seed({'baiducloud': pr.seed('baiducloud', KEY_ID, SECRET, instances=INSTANCES, groups=2, bound=1)})
    running.emulator.update_settings({'latency_ms': 200})
    yield running
    running.stop()


def writes(running):
    return [e for e in running.emulator.requests('baiducloud') if e['method'] == 'PUT']


def test_ctrl_c_in_ansible_playbook_stops_the_module_writing(cloud, tmp_path):
    args = {'access_key': KEY_ID, 'secret_key': SECRET, 'region': 'bj', 'endpoint': cloud.endpoints['baiducloud'],
            'instance_ids': ['i-%08d' % n for n in range(1, INSTANCES + 1)], 'security_group_ids': ['g-00000002'],
            'write_api': 'per_instance'}
    playbook = tmp_path / 'bind.yml'
    playbook.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False,
                                     'tasks': [{'multicloud.secgroup.baiducloud_sg_binding': args}]}]))
    proc = subprocess.Popen(pr.command(playbook), env=pr.playbook_env(tmp_path), cwd=str(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(writes(cloud)) < 10:
            assert proc.poll() is None and time.monotonic() < deadline, 'the module ended or sent no write: %s' % (proc.communicate(),)
            time.sleep(0.02)
        signalled = time.time()
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    pr.keep('interrupt-playbook', stdout, stderr)
    assert SECRET not in stdout + stderr
    time.sleep(EXIT_BOUND_S)      # an orphaned module would still be writing now
    late = [e for e in writes(cloud) if e['start'] > signalled + SLACK_S]
    assert not late, '%d write(s) started after the signal' % len(late)
    assert len(writes(cloud)) < INSTANCES
