# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How a binding task stops on SIGINT or SIGTERM (docs/reliability.md, "Interrupts"): Baidu, N instances bound one
call each (write_api: per_instance, the default 10 calls/s), the signal sent after S seconds to the module process
alone, or to ansible-playbook's process group (a terminal's Ctrl-C). Prints, per case: seconds from the signal to the
process's exit, writes started after the signal, writes in all, and whether stdout was a JSON result.

    python benchmarks/interrupt.py [--instances 300] [--after 9] [--latency-ms 100] [--repo PATH]

--repo runs another checkout's collection (for a before/after comparison) with this checkout's emulator.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests'))

import playbook_runner as pr  # noqa: E402  pylint: disable=wrong-import-position
from emulator import start  # noqa: E402  pylint: disable=wrong-import-position

KEY_ID = 'bdstop0000000001'
SECRET = 'Bd-Interrupt-Secret-Never-Shown'


def writes(running):
    return [e for e in running.emulator.requests('baiducloud') if e['method'] == 'PUT']


def one(running, repo, base, how, signum, count, after, latency_ms):
    running.emulator.reset()
    running.emulator.seed({'baiducloud': pr.seed('baiducloud', KEY_ID, SECRET, instances=count, groups=2, bound=1)})
    running.emulator.update_settings({'latency_ms': latency_ms})
    args = {'access_key': KEY_ID, 'secret_key': SECRET, 'region': 'bj', 'endpoint': running.endpoints['baiducloud'],
            'instance_ids': ['i-%08d' % n for n in range(1, count + 1)], 'security_group_ids': ['g-00000002'],
            'write_api': 'per_instance'}
    tree = os.path.join(base, 'collections', 'ansible_collections', 'multicloud')
    if not os.path.isdir(tree):
        os.makedirs(tree)
        os.symlink(repo, os.path.join(tree, 'secgroup'))
    env = pr.playbook_env(base)
    if how == 'module':
        args_file = os.path.join(base, 'args.json')
        with open(args_file, 'w', encoding='utf-8') as handle:
            json.dump({'ANSIBLE_MODULE_ARGS': args}, handle)
        env['PYTHONPATH'] = env['ANSIBLE_COLLECTIONS_PATH']
        cmd = [sys.executable, '-m', 'ansible_collections.multicloud.secgroup.plugins.modules.baiducloud_sg_binding', args_file]
    else:
        playbook = os.path.join(base, 'bind.yml')
        with open(playbook, 'w', encoding='utf-8') as handle:
            json.dump([{'hosts': 'localhost', 'gather_facts': False, 'tasks': [{'multicloud.secgroup.baiducloud_sg_binding': args}]}], handle)
        cmd = pr.command(playbook)
    proc = subprocess.Popen(cmd, env=env, cwd=base, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    while not writes(running):
        time.sleep(0.01)
    time.sleep(after)
    signalled = time.time()
    if how == 'module':
        proc.send_signal(signum)
    else:
        os.killpg(proc.pid, signum)
    stdout, dummy = proc.communicate()
    exited = time.time() - signalled
    time.sleep(count / 10.0 + 5 if how == 'playbook' else 1)      # an orphaned module writes on meanwhile
    while running.emulator.in_flight:
        time.sleep(0.05)
    sent = writes(running)
    try:
        json.loads(stdout)
        result = 'JSON'
    except ValueError:
        result = 'none'
    return {'case': '%s %s' % (how, signal.Signals(signum).name), 'exit_s': round(exited, 2), 'writes_after_signal':
            sum(1 for e in sent if e['start'] > signalled), 'writes': len(sent), 'stdout': result}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--instances', type=int, default=300)
    parser.add_argument('--after', type=float, default=9.0, help='seconds after the first write')
    parser.add_argument('--latency-ms', type=int, default=100)
    parser.add_argument('--repo', default=ROOT)
    opts = parser.parse_args()
    for var in pr.PROXY_VARIABLES:
        os.environ.pop(var, None)
    running = start()
    try:
        for how, signum in (('module', signal.SIGINT), ('module', signal.SIGTERM), ('playbook', signal.SIGINT)):
            base = tempfile.mkdtemp(prefix='interrupt-bench-')
            print(json.dumps(one(running, os.path.abspath(opts.repo), base, how, signum, opts.instances, opts.after, opts.latency_ms)))
            sys.stdout.flush()
    finally:
        running.stop()


if __name__ == '__main__':
    main()
