# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine's own CPU: Engine.execute over a plan, with a provider whose cloud is a dict (no I/O).

    python benchmarks/bench_engine_cpu.py [--cases baidu-10000,baidu-20000,per-instance-5000] [--json]

Each case plans a purge from one group to another (bind the new one, unbind the old one: two steps per target)
and runs execute with the real Transport's workers; the CPU seconds of the process (every thread) are what the
engine's bookkeeping costs, since the provider does nothing but update a dict. bench.py runs it and stores the
figures in the results JSON (``engine_cpu``); bench_report.py renders them. Timing belongs here, never in tests.
"""

import argparse
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name -> (targets, targets per call): Baidu's batch calls (10 per call), and a cloud that writes one target per call.
CASES = {
    'baidu-10000': (10000, 10),
    'baidu-20000': (20000, 10),
    'per-instance-5000': (5000, 1),
}


def collection(root):
    """Import the collection from this checkout (ansible_collections.multicloud.secgroup), linked under root."""
    os.makedirs(os.path.join(root, 'ansible_collections', 'multicloud'))
    os.symlink(ROOT, os.path.join(root, 'ansible_collections', 'multicloud', 'secgroup'))
    sys.path.insert(0, root)
    from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine, _planner, _transport  # pylint: disable=import-outside-toplevel
    return _engine, _planner, _transport


def run_case(n, batch, modules):
    engine, planner, transport = modules

    class DictProvider(object):
        name = 'dict'
        display_name = 'Dict Cloud'
        constraints = planner.Constraints(min_groups=1, max_groups=10, batch_size=batch)
        target_kinds = (planner.TargetKind('instance_ids', 'instances', 'instance_id', r'i-[0-9]+', 'instance'),)
        completion = 'sync'

        def __init__(self, cloud):
            self.cloud = cloud
            self.transport = transport.Transport('dict', session=object())

        def apply(self, op):
            for tid in op['target_ids']:
                self.cloud[tid] = planner.apply_operation(self.cloud[tid], op)
            return ['req']

    ids = ['i-%d' % i for i in range(n)]
    cloud = dict((tid, ['g-old']) for tid in ids)
    provider = DictProvider(cloud)
    params = {'instance_ids': ids, 'security_group_ids': ['g-new'], 'state': 'present', 'purge': True,
              'max_concurrency': 8, 'wait_timeout': 300}
    run = engine.Engine(provider, params, False)
    plan = planner.plan(dict(cloud), ['g-new'], 'present', True, provider.constraints)
    start_cpu, start_wall = time.process_time(), time.monotonic()
    unknown = run.execute(plan['operations'], dict(cloud))
    cpu, wall = time.process_time() - start_cpu, time.monotonic() - start_wall
    if unknown or any(groups != ['g-new'] for groups in cloud.values()):
        raise AssertionError('the run did not reach the planned state')
    return {'n': n, 'batch_size': batch, 'operations': len(plan['operations']), 'cpu_s': round(cpu, 3), 'wall_s': round(wall, 3)}


def measure(names):
    with tempfile.TemporaryDirectory(prefix='bench-engine-cpu-') as root:
        modules = collection(root)
        return dict((name, run_case(CASES[name][0], CASES[name][1], modules)) for name in names)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--cases', default=','.join(sorted(CASES)))
    parser.add_argument('--json', action='store_true', help='print the figures as JSON only')
    opts = parser.parse_args()
    figures = measure(opts.cases.split(','))
    if opts.json:
        print(json.dumps(figures))
        return
    for name, fig in sorted(figures.items()):
        print('%-18s N=%-6d %5d operations: %7.2f s CPU, %7.2f s wall' % (name, fig['n'], fig['operations'], fig['cpu_s'], fig['wall_s']))


if __name__ == '__main__':
    main()
