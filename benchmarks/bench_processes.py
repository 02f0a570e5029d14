# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Many module processes against one account's rate limits, and the adaptive limiter after a burst of throttles.

    python benchmarks/bench_processes.py [--providers all] [--ks 1,2,4,8] [--instances 40] [--latency-ms 50]
                                         [--collection ROOT] [--starvation] [--out results.json]

Processes: for every cloud and k, k binding-module processes start at once (the module run directly with its
arguments file, as ansible-playbook's AnsiballZ runs it), each binding one group to its own `--instances`
instances of one account, against the emulator with its rate limits enforced and `--latency-ms` on every request.
Measured from the emulator's request log: calls, throttled answers, the span from the first request to the last
answer (total time), and calls/limit (the most calls of one rate-limited action divided by its limit: the time no
set of clients can beat); fairness is the slowest process's wall time over the fastest's.

Nodes (--nodes k): k processes that cannot share the coordination file (each its own TMPDIR, as AWX job slices on k
execution nodes), first at the default rate, then with rate_limit = the write action's limit / k, rounded down.

Starvation (--starvation): Baidu AI Cloud, `write_api: per_instance`, N = 200, 12 throttling answers injected
into BindSecurityGroup after its first 20 calls: task time against calls/limit (200 / 10 per second), and the
slowest 10-second stretch of successful binds.

--collection runs another checkout's code (the "before" figures: main's). bench.py runs this in `make bench` (k = 2 on
Tencent Cloud with 5 instances each in `--smoke`).
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
sys.path.insert(0, HERE)

from emulator import start  # noqa: E402  pylint: disable=wrong-import-position
import bench  # noqa: E402  pylint: disable=wrong-import-position

STARVATION = {'provider': 'baiducloud', 'n': 200, 'action': 'BindSecurityGroup', 'throttles': 12, 'after': 20}


def collection_tree(workdir, root):
    """A collections path in workdir whose multicloud.secgroup is root."""
    os.makedirs(os.path.join(workdir, 'ansible_collections', 'multicloud'), exist_ok=True)
    link = os.path.join(workdir, 'ansible_collections', 'multicloud', 'secgroup')
    if not os.path.islink(link):
        os.symlink(os.path.abspath(root), link)
    return workdir


def seed(base, name, spec, count, latency_ms):
    bench.admin(base + '/reset', 'POST')
    g = spec['groups']
    bench.admin(base + '/seed', 'POST', {name: {
        'credentials': [{'access_key': spec['seed_key'][0], 'secret_key': spec['seed_key'][1]}],
        'security_groups': [spec['group'](sg) for sg in (g['base'], g['bind'])],
        'instances': [spec['instance'](i, [g['base']]) for i in range(count)]}})
    bench.admin(base + '/settings', 'POST', {'latency_ms': latency_ms, 'enforce_rate_limits': True})
    bench.admin(base + '/requests', 'DELETE')


def launch(workdir, running, name, spec, ids, tag, extra=None, tmpdir=None):
    args = dict(spec['credentials'], endpoint=running.endpoints[name], security_group_ids=[spec['groups']['bind']],
                instance_ids=ids, **(extra or {}))
    path = os.path.join(workdir, 'args-%s.json' % tag)
    with open(path, 'w') as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': args}, handle)
    env = dict(os.environ, PYTHONPATH=workdir)
    if tmpdir:
        os.makedirs(tmpdir, exist_ok=True)
        env['TMPDIR'] = tmpdir
    out = open(os.path.join(workdir, 'out-%s.json' % tag), 'w+b')   # pylint: disable=consider-using-with
    proc = subprocess.Popen([sys.executable, '-m', 'ansible_collections.multicloud.secgroup.plugins.modules.' + spec['module'], path],
                            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    return proc, out, time.monotonic()


def finish_all(procs):
    """Wait for every (process, output, start) at once: each one's wall time, taken when it exits (not when its turn to
    be waited for comes)."""
    ended = {}
    while len(ended) < len(procs):
        for pos, (proc, dummy, dummy2) in enumerate(procs):
            if pos not in ended and proc.poll() is not None:
                ended[pos] = time.monotonic()
        time.sleep(0.01)
    seconds = []
    for pos, (proc, out, started) in enumerate(procs):
        out.seek(0)
        text = out.read().decode('utf-8', 'replace')
        out.close()
        if proc.returncode or '"changed": true' not in text:
            raise SystemExit('module process failed (%s): %s' % (proc.returncode, text[-2000:]))
        seconds.append(ended[pos] - started)
    return seconds


def from_log(base, name, limits):
    entries = bench.admin(base + '/requests?provider=' + name)['requests']
    throttled = [e for e in entries if e.get('fault') in ('rate_limit', 'throttle')]
    ok = collections.Counter(e['action'] for e in entries if e not in throttled)
    per_limit = dict((a, ok[a] / float(limits[a])) for a in ok if limits.get(a))
    span = (max(e['end'] for e in entries) - min(e['start'] for e in entries)) if entries else 0.0
    return entries, {'calls': len(entries), 'throttled': len(throttled),
                     'throttled_share': len(throttled) / float(len(entries)) if entries else 0.0,
                     'per_action': dict(ok), 'calls_per_limit': max(per_limit.values() or [0.0]), 'total_s': span}


def processes(running, workdir, name, k, instances, latency_ms, setup='machine'):
    """setup: 'machine' (the processes share the temporary directory, as on one controller), 'nodes' (each its own,
    as slices on k execution nodes), 'nodes-divided' (each its own, with rate_limit = the write limit / k, rounded down)."""
    spec = bench.PROVIDERS[name]
    base = running.endpoints['admin']
    seed(base, name, spec, k * instances, latency_ms)
    limits = dict(running.emulator.clouds[name].rate_limits)
    extra = {'rate_limit': float(max(1, limits[spec['actions']['bind']] // k))} if setup == 'nodes-divided' else None
    started = time.monotonic()
    procs = [launch(workdir, running, name, spec, [spec['instance'](p * instances + i, [])['id'] for i in range(instances)], p,
                    extra, os.path.join(workdir, 'node-%d' % p) if setup != 'machine' else None)
             for p in range(k)]
    walls = finish_all(procs)
    wall = time.monotonic() - started
    dummy, out = from_log(base, name, limits)
    state = bench.admin(base + '/state')[name]['instances']
    wrong = [i['id'] for i in state if spec['groups']['bind'] not in i['security_groups']]
    if wrong:
        raise SystemExit('%s k=%d: %d instance(s) lack the group, e.g. %s' % (name, k, len(wrong), wrong[0]))
    out.update(provider=name, k=k, instances=instances, wall_s=wall, process_s=walls, setup=setup, rate_limit=(extra or {}).get('rate_limit'),
               fairness=max(walls) / min(walls),
               time_per_bound=out['total_s'] / out['calls_per_limit'] if out['calls_per_limit'] else None)
    return out


def starvation(running, workdir, latency_ms):
    case = STARVATION
    name = case['provider']
    spec = bench.PROVIDERS[name]
    base = running.endpoints['admin']
    seed(base, name, spec, case['n'], latency_ms)
    bench.admin(base + '/faults', 'POST', [{'provider': name, 'action': case['action'], 'kind': 'throttle',
                                            'count': case['throttles'], 'after': case['after']}])
    proc = launch(workdir, running, name, spec, [spec['instance'](i, [])['id'] for i in range(case['n'])], 'starve',
                  {'write_api': 'per_instance'})
    seconds = finish_all([proc])[0]
    bench.admin(base + '/faults', 'DELETE')
    limit = running.emulator.clouds[name].rate_limits[case['action']]
    entries, out = from_log(base, name, dict(running.emulator.clouds[name].rate_limits))
    binds = sorted(e['end'] for e in entries if e['action'] == case['action'] and not e.get('fault'))
    # The slowest 10 s of the run (or its whole write phase when shorter): successful binds per second.
    slowest = min([len([t for t in binds if s <= t < s + 10.0]) / 10.0 for s in binds if s + 10.0 <= binds[-1]] or
                  [len(binds) / max(1e-9, binds[-1] - binds[0])])
    out.update(case, task_s=seconds, bound_s=case['n'] / float(limit), slowest_10s_rate=slowest)
    out['task_per_bound'] = seconds / out['bound_s']
    return out


def run(running, workdir, providers, ks, instances, latency_ms, with_starvation, nodes_k=None, log=print):
    """The results on a running emulator, the module code from workdir's collections path:
    {'processes': [...], 'starvation': {...} or None, settings}. nodes_k: also that many processes as on separate
    machines, without and with rate_limit divided between them."""
    doc = {'latency_ms': latency_ms, 'instances': instances, 'processes': [], 'starvation': None}
    for name in providers:
        for k, setup in [(k, 'machine') for k in ks] + [(nodes_k, s) for s in ('nodes', 'nodes-divided') if nodes_k]:
            row = processes(running, workdir, name, k, instances, latency_ms, setup)
            doc['processes'].append(row)
            log('processes %-12s k=%d %-13s %4d calls, %4.1f%% throttled, %6.2f s (calls/limit %5.2f s, %.2fx), fairness %.2f' % (
                name, k, setup, row['calls'], 100 * row['throttled_share'], row['total_s'], row['calls_per_limit'],
                row['time_per_bound'] or 0, row['fairness']))
    if with_starvation:
        doc['starvation'] = s = starvation(running, workdir, latency_ms)
        log('starvation %s N=%d, %d throttles: %.1f s (%.1fx of %.0f s), slowest 10 s at %.2f binds/s' % (
            s['provider'], s['n'], s['throttles'], s['task_s'], s['task_per_bound'], s['bound_s'], s['slowest_10s_rate']))
    return doc


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--providers', default='all')
    parser.add_argument('--ks', default='1,2,4,8')
    parser.add_argument('--instances', type=int, default=40)
    parser.add_argument('--latency-ms', type=int, default=50)
    parser.add_argument('--collection', default=ROOT, help='the collection checkout to run (default: this one)')
    parser.add_argument('--starvation', action='store_true')
    parser.add_argument('--nodes', type=int, default=0, help='also this many processes as on separate machines')
    parser.add_argument('--out')
    opts = parser.parse_args()
    names = sorted(bench.PROVIDERS) if opts.providers == 'all' else opts.providers.split(',')
    running = start()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            collection_tree(workdir, opts.collection)
            doc = run(running, workdir, names, [int(k) for k in opts.ks.split(',') if k], opts.instances, opts.latency_ms,
                      opts.starvation, opts.nodes)
    finally:
        running.stop()
    doc['collection'] = os.path.abspath(opts.collection)
    if opts.out:
        with open(opts.out, 'w') as handle:
            json.dump(doc, handle, indent=1, sort_keys=True)


if __name__ == '__main__':
    main()
