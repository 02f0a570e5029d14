# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Calls and time of baiducloud_sg_binding on N ENIs (bind one group, purge to two), from the emulator's request log.

    python benchmarks/bench_baidu_enis.py [--sizes 1,100,1000]

The module runs as a process of its own (as Ansible runs it), against a fresh emulator seeded with N ENIs in one VPC
owned by up to 100 instances. Prints one line per size and task: the calls per action, their sum and the wall time.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from emulator import start  # noqa: E402  pylint: disable=wrong-import-position

KEY, SECRET = 'bench0000000001', 'bench-secret'
GROUPS = ('g-base0001', 'g-bind0001', 'g-new00001', 'g-new00002')


def seed(n):
    return {'baiducloud': {
        'credentials': [{'access_key': KEY, 'secret_key': SECRET}],
        'security_groups': [{'id': g, 'vpc_id': 'vpc-one'} for g in GROUPS],
        'instances': [{'id': 'i-owner%03d' % k, 'vpc_id': 'vpc-one', 'security_groups': [GROUPS[0]]} for k in range(min(n, 100))],
        'network_interfaces': [{'id': 'eni-%08d' % i, 'vpc_id': 'vpc-one', 'instance_id': 'i-owner%03d' % (i % 100),
                                'security_groups': [GROUPS[0]]} for i in range(n)]}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', default='1,100,1000')
    sizes = [int(s) for s in parser.parse_args().sizes.split(',')]
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY'):
        os.environ.pop(var, None)
    tree = tempfile.mkdtemp()
    os.makedirs(os.path.join(tree, 'ansible_collections', 'multicloud'))
    os.symlink(ROOT, os.path.join(tree, 'ansible_collections', 'multicloud', 'secgroup'))
    running = start()
    try:
        for n in sizes:
            for task in ('bind', 'purge'):
                running.emulator.reset()
                running.emulator.seed(seed(n))
                args = {'access_key': KEY, 'secret_key': SECRET, 'region': 'bj', 'endpoint': running.endpoints['baiducloud'],
                        'network_interface_ids': ['eni-%08d' % i for i in range(n)], 'purge': task == 'purge',
                        'security_group_ids': [GROUPS[1]] if task == 'bind' else list(GROUPS[2:])}
                started = time.time()
                proc = subprocess.run([sys.executable, '-m', 'ansible_collections.multicloud.secgroup.plugins.modules.baiducloud_sg_binding'],
                                      input=json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode('utf-8'), capture_output=True, check=False,
                                      env=dict(os.environ, PYTHONPATH=tree))
                elapsed = time.time() - started
                result = json.loads(proc.stdout.decode('utf-8'))
                if result.get('failed'):
                    raise SystemExit('%d %s failed: %s' % (n, task, result.get('msg')))
                calls = collections.Counter(e['action'] for e in running.emulator.requests('baiducloud'))
                print('%5d %-5s %5d calls %7.2f s  %s' % (n, task, sum(calls.values()), elapsed, dict(sorted(calls.items()))), flush=True)
    finally:
        running.stop()


if __name__ == '__main__':
    main()
