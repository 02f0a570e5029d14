# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real SIGINT and SIGTERM sent to a real module process while it binds security groups to many Baidu instances one
call each: no write starts after the signal, the process exits promptly, and its JSON failure says it was interrupted
and what each instance has (docs/reliability.md). Ctrl-C to ansible-playbook's process group is in
tests/playbooks/test_interrupt_playbook.py (a playbook process, under plain pytest)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import signal
import subprocess
import sys
import time

import pytest

import playbook_runner as pr

from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

KEY_ID = 'bdstop0000000001'
SECRET = 'Bd-Interrupt-Secret-Never-Shown'
MODULE = 'ansible_collections.multicloud.secgroup.plugins.modules.baiducloud_sg_binding'
# Scheduling noise on a loaded 2-core machine: a write counts as started after the signal only past this.
SLACK_S = 1.0
# The longest a stopped module may take to exit: the in-flight grace, the read-back bound, start-up and slack.
EXIT_BOUND_S = transport.IN_FLIGHT_GRACE_S + engine.INTERRUPT_READ_BACK_S + 3.0


def seed_doc(count):
    return {'baiducloud': pr.seed('baiducloud', KEY_ID, SECRET, instances=count, groups=2, bound=1)}


def module_args(running, count, **extra):
    args = {'access_key': KEY_ID, 'secret_key': SECRET, 'region': 'bj', 'endpoint': running.endpoints['baiducloud'],
            'instance_ids': ['i-%08d' % n for n in range(1, count + 1)], 'security_group_ids': ['g-00000002'],
            'write_api': 'per_instance'}
    args.update(extra)
    return args


@pytest.fixture
def cloud(running):
    """Baidu with 200 ms per request: writes are in flight when the signal comes (the default rate, 10 binds/s, stays)."""
    running.emulator.reset()
    running.emulator.seed(seed_doc(120))
    running.emulator.update_settings({'latency_ms': 200})
    yield running
    running.emulator.update_settings({'latency_ms': 0})


def writes(running):
    return [e for e in running.emulator.requests('baiducloud') if e['method'] == 'PUT']


def wait_for_writes(running, count, proc, limit=30.0):
    deadline = time.monotonic() + limit
    while len(writes(running)) < count:
        assert proc.poll() is None and time.monotonic() < deadline, 'the module ended or sent no write'
        time.sleep(0.02)


def settle(running, seconds):
    """Let anything still coming arrive (an orphaned process keeps writing), then every request end."""
    time.sleep(seconds)
    deadline = time.monotonic() + 10
    while running.emulator.in_flight and time.monotonic() < deadline:
        time.sleep(0.02)


def bound_groups(running):
    return dict((i['id'], i['security_groups']) for i in running.emulator.state()['baiducloud']['instances'])


def run_and_signal(running, tmp_path, signum, count=120, twice=False, in_flight=False):
    """Start the module, send signum after its 10th write (in_flight: once the next one is also in flight; twice: again
    0.5 s later, while it waits for the writes in flight), return (result, seconds to exit, time of the first signal)."""
    args_file = tmp_path / 'args.json'
    args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': module_args(running, count)}))
    env = pr.playbook_env(tmp_path)
    env['PYTHONPATH'] = env['ANSIBLE_COLLECTIONS_PATH']
    proc = subprocess.Popen([sys.executable, '-m', MODULE, str(args_file)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for_writes(running, 10, proc)
        # The first second's 10 binds go at once and are answered together; the 11th starts a window later.
        deadline = time.monotonic() + 10
        while in_flight and not running.emulator.in_flight:
            assert proc.poll() is None and time.monotonic() < deadline, 'the module ended or sent no 11th write'
            time.sleep(0.02)
        signalled = time.time()
        proc.send_signal(signum)
        if twice:
            time.sleep(0.5)
            proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=30)
        exited = time.time() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    pr.keep('interrupt-%s-%s' % (signal.Signals(signum).name, tmp_path.name), stdout, stderr)
    assert SECRET not in stdout + stderr
    assert 'Traceback' not in stderr, stderr
    return json.loads(stdout), exited, signalled


@pytest.mark.parametrize('signum, slow_write, twice', [
    (signal.SIGINT, False, False), (signal.SIGTERM, False, False), (signal.SIGINT, True, False), (signal.SIGINT, True, True)])
def test_a_signal_stops_the_writes_and_the_failure_says_what_each_instance_has(cloud, tmp_path, signum, slow_write, twice):
    if slow_write:
        # The 11th bind takes longer than the grace: still unanswered when the module reports.
        cloud.emulator.add_fault({'provider': 'baiducloud', 'action': 'BindSecurityGroup', 'kind': 'latency',
                                  'latency_ms': int(transport.IN_FLIGHT_GRACE_S * 1000) + 3000, 'after': 10})
    result, exited, signalled = run_and_signal(cloud, tmp_path, signum, twice=twice, in_flight=slow_write)
    settle(cloud, 1.0)
    sent = writes(cloud)
    late = [e for e in sent if e['start'] > signalled + SLACK_S]
    assert not late, '%d write(s) started after the signal' % len(late)
    assert exited < EXIT_BOUND_S
    assert result['failed'] and result['interrupted'] and signal.Signals(signum).name in result['msg']
    assert len(sent) < 120 and result['changed']
    truth = bound_groups(cloud)
    unknown = set(i for op in result['unknown_operations'] for i in op['instance_ids'])
    for item in result['instances']:
        if item['instance_id'] not in unknown:
            assert item['after'] == truth[item['instance_id']], item
    if slow_write:
        assert len(result['unknown_operations']) == 1 and '1 with an unknown outcome' in result['msg']
        assert 'was still awaited when the task stopped; the cloud may have applied it' in json.dumps(result['warnings'])
    else:
        assert result['unknown_operations'] == []
    if twice:
        assert exited < transport.IN_FLIGHT_GRACE_S        # the second signal ended the wait for the slow write
    done = set(i for op in result['operations'] for i in op['instance_ids'])
    assert done == set(i for i, groups in truth.items() if groups == ['g-00000001', 'g-00000002']) - unknown
    assert len(result['request_ids']) == len(done)


def test_the_module_handles_both_signals_while_it_runs_and_restores_the_handlers_after(cloud, capsys, monkeypatch):
    from ansible.module_utils.testing import patch_module_args
    from ansible_collections.multicloud.secgroup.plugins.modules import baiducloud_sg_binding

    def mine(signum, frame):
        pass
    seen = []
    send = transport.Transport._send

    def recording_send(self, call):
        seen.append((signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)))
        return send(self, call)
    monkeypatch.setattr(transport.Transport, '_send', recording_send)
    previous = signal.signal(signal.SIGTERM, mine)
    try:
        with patch_module_args(dict(module_args(cloud, 2), _ansible_check_mode=True)):
            with pytest.raises(SystemExit):
                baiducloud_sg_binding.main()
        assert signal.getsignal(signal.SIGTERM) is mine and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen and all(isinstance(on_int, engine.StopSignals) and on_term is on_int for on_int, on_term in seen)
    assert json.loads(capsys.readouterr().out)['changed']
