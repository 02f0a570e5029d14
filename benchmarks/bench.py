# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""API calls and wall time of a binding task against the emulator.

    python benchmarks/bench.py [--provider tencentcloud] [--sizes 1,150,1000] [--latency-ms 0] [--enforce-rate-limits]

For each size it seeds that many instances, then runs one bind task and the same
task again (a no-op) with ansible-playbook (and, where the provider lists purge_groups,
a purge to that list and its no-op), and prints the calls per action from
the emulator's request log and the task's wall time. Timing belongs here, not in tests.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from emulator import start  # noqa: E402  pylint: disable=wrong-import-position

# Per provider: seed of n instances, the module, its arguments, and the group to bind.
PROVIDERS = {
    'tencentcloud': {
        'module': 'multicloud.secgroup.tencentcloud_sg_binding',
        'credentials': {'secret_id': 'AKIDbench0000001', 'secret_key': 'bench-secret', 'region': 'ap-guangzhou'},
        'seed': lambda n: {'tencentcloud': {
            'credentials': [{'access_key': 'AKIDbench0000001', 'secret_key': 'bench-secret'}],
            'security_groups': [{'id': 'sg-base0001', 'region': 'ap-guangzhou'}, {'id': 'sg-bind0001', 'region': 'ap-guangzhou'}],
            'instances': [{'id': 'ins-%08d' % i, 'region': 'ap-guangzhou', 'status': 'RUNNING',
                           'security_groups': ['sg-base0001']} for i in range(n)]}},
        'ids': lambda n: ['ins-%08d' % i for i in range(n)],
        'group': 'sg-bind0001',
    },
    'baiducloud': {
        'module': 'multicloud.secgroup.baiducloud_sg_binding',
        'credentials': {'access_key': 'benchak0001', 'secret_key': 'bench-secret', 'region': 'bj'},
        'seed': lambda n: {'baiducloud': {
            'credentials': [{'access_key': 'benchak0001', 'secret_key': 'bench-secret'}],
            'security_groups': [{'id': 'g-base0001', 'region': 'bj'}, {'id': 'g-bind0001', 'region': 'bj'}],
            'instances': [{'id': 'i-%08d' % i, 'region': 'bj', 'status': 'Running',
                           'security_groups': ['g-base0001']} for i in range(n)]}},
        'ids': lambda n: ['i-%08d' % i for i in range(n)],
        'group': 'g-bind0001',
    },
    'alicloud': {
        'module': 'multicloud.secgroup.alicloud_sg_binding',
        'credentials': {'access_key': 'LTAI5tBench0000001', 'secret_key': 'bench-secret', 'region': 'cn-hangzhou'},
        'seed': lambda n: {'alicloud': {
            'credentials': [{'access_key': 'LTAI5tBench0000001', 'secret_key': 'bench-secret'}],
            'security_groups': [{'id': sg, 'vpc_id': 'vpc-bench0001'} for sg in ('sg-base0001', 'sg-bind0001', 'sg-only0001')],
            'instances': [{'id': 'i-%08d' % i, 'vpc_id': 'vpc-bench0001', 'security_groups': ['sg-base0001']} for i in range(n)]}},
        'ids': lambda n: ['i-%08d' % i for i in range(n)],
        'group': 'sg-bind0001',
        # A third run: purge: true to this list (one replace call per instance), then its no-op.
        'purge_groups': ['sg-only0001'],
    },
    'zenlayer': {
        'module': 'multicloud.secgroup.zenlayer_sg_binding',
        'credentials': {'access_key_id': 'AKID-ZL-BENCH', 'access_key_password': 'bench-password'},
        'seed': lambda n: {'zenlayer': {
            'credentials': [{'access_key': 'AKID-ZL-BENCH', 'secret_key': 'bench-password'}],
            'security_groups': [{'id': '70000000000000000%d' % i} for i in range(1, 5)],
            'instances': [{'id': '%018d' % (8 * 10 ** 17 + i), 'status': 'RUNNING',
                           'security_groups': ['700000000000000001']} for i in range(n)]}},
        'ids': lambda n: ['%018d' % (8 * 10 ** 17 + i) for i in range(n)],
        'group': '700000000000000002',
        # A purge of both groups for two others (a swap): unbind, bind, unbind, bind on every instance.
        'purge_groups': ['700000000000000003', '700000000000000004'],
    },
}

PLAYBOOK = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - name: bind
      {module}: "{{{{ task_args }}}}"
'''


def admin(url, method='GET', body=None):
    data = None if body is None else json.dumps(body).encode('utf-8')
    req = urllib.request.Request(url, data=data, method=method, headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=30) as resp:  # nosec - loopback only
        return json.loads(resp.read().decode('utf-8'))


def run_task(workdir, spec, args):
    with open(os.path.join(workdir, 'vars.json'), 'w') as handle:
        json.dump({'task_args': args}, handle)
    start_time = time.time()
    proc = subprocess.run(
        [sys.executable, '-m', 'ansible.cli.playbook', '-i', 'localhost,', '-c', 'local',
         '-e', 'ansible_python_interpreter=' + sys.executable, '-e', '@' + os.path.join(workdir, 'vars.json'),
         os.path.join(workdir, 'playbook.yml')],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=workdir), check=False)
    elapsed = time.time() - start_time
    if proc.returncode:
        raise SystemExit(proc.stdout.decode('utf-8', 'replace')[-3000:])
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--provider', default='tencentcloud', choices=sorted(PROVIDERS))
    parser.add_argument('--sizes', default='1,150,1000')
    parser.add_argument('--latency-ms', type=int, default=0)
    parser.add_argument('--enforce-rate-limits', action='store_true', help="the emulator answers over each cloud's limits with throttling")
    opts = parser.parse_args()
    spec = PROVIDERS[opts.provider]
    running = start()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            os.makedirs(os.path.join(workdir, 'ansible_collections', 'multicloud'))
            os.symlink(ROOT, os.path.join(workdir, 'ansible_collections', 'multicloud', 'secgroup'))
            with open(os.path.join(workdir, 'playbook.yml'), 'w') as handle:
                handle.write(PLAYBOOK.format(module=spec['module']))
            base = running.endpoints['admin']
            print('| instances | run | wall s | calls | throttled | calls per action |')
            print('|---|---|---|---|---|---|')
            for size in [int(s) for s in opts.sizes.split(',')]:
                admin(base + '/reset', 'POST')
                admin(base + '/seed', 'POST', spec['seed'](size))
                admin(base + '/settings', 'POST', {'latency_ms': opts.latency_ms, 'enforce_rate_limits': opts.enforce_rate_limits})
                args = dict(spec['credentials'], endpoint=running.endpoints[opts.provider],
                            instance_ids=spec['ids'](size), security_group_ids=[spec['group']])
                runs = [('bind', args), ('no-op', args)]
                if spec.get('purge_groups'):
                    purge = dict(args, security_group_ids=spec['purge_groups'], purge=True)
                    runs += [('purge', purge), ('purge no-op', purge)]
                for label, task_args in runs:
                    admin(base + '/requests', 'DELETE')
                    elapsed = run_task(workdir, spec, task_args)
                    log = admin(base + '/requests?provider=' + opts.provider)['requests']
                    counts = collections.Counter(entry['action'] for entry in log)
                    per_action = ', '.join('%s %d' % kv for kv in sorted(counts.items()))
                    throttled = len([entry for entry in log if entry.get('fault') == 'rate_limit'])
                    print('| %d | %s | %.2f | %d | %d | %s |' % (size, label, elapsed, len(log), throttled, per_action))
    finally:
        running.stop()


if __name__ == '__main__':
    main()
