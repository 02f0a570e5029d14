# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The binding modules against the minimum, the bound and two SDK baselines, on the emulator.

    python benchmarks/bench.py [--providers all] [--sizes 1,10,100,1000] [--tencent-extra 10000]
                               [--latency-ms 50] [--baseline-sizes 1,10,100] [--baseline-bind-sizes 1000]
                               [--out benchmarks/results/<date>.json] [--quick | --smoke]

For every provider, size N and scenario (no-op, bind one group, unbind it, purge to a new list) the
emulator is reset and seeded, its latency set and the cloud's rate limits enforced, then:

* ours: a playbook of ansible.builtin.ping then the module task, each task timed by the bench_timer
  callback (the ping is the module start-up of that run);
* the SDK baselines of bench_sdk.py (sequential loop, Terraform pattern), same emulator, same state;

each run's calls per action and throttled answers come from the emulator's request log, and the final
state is checked. The minimum calls and the bound are computed from what the provider module declares
(read page, batch sizes, completion) and the emulator's limits and settings, never typed in here. Also:
the per-task overhead (a no-op of each binding module on one instance against ansible.builtin.ping in
one playbook), the task start-up of every module (benchmarks/bench_startup.py: payload, imports, first request,
20 no-op tasks against 20 pings, optionally also for an older commit), the peak memory of the module process at
the largest sizes, and k module processes on one account plus the limiter after a burst of throttles
(bench_processes.py). Timing belongs here,
never in tests. benchmarks/bench_report.py turns the JSON into docs/performance.md and the plot.
"""

import argparse
import collections
import datetime
import importlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests'))
sys.path.insert(0, HERE)

from emulator import start  # noqa: E402  pylint: disable=wrong-import-position
import bench_sdk  # noqa: E402  pylint: disable=wrong-import-position
import bench_processes  # noqa: E402  pylint: disable=wrong-import-position
import bench_startup  # noqa: E402  pylint: disable=wrong-import-position

SCENARIOS = ('no-op', 'bind', 'unbind', 'purge')

# Per provider: the module, its credentials (and the SDKs'), the seed of n instances holding a list,
# and the API's action names per role (names only: every number comes from the provider module).
PROVIDERS = {
    'tencentcloud': {
        'module': 'tencentcloud_sg_binding', 'region_key': 'region',
        'credentials': {'secret_id': 'AKIDbench0000001', 'secret_key': 'bench-secret', 'region': 'ap-guangzhou'},
        'seed_key': ('AKIDbench0000001', 'bench-secret'),
        'instance': lambda i, groups: {'id': 'ins-%08d' % i, 'region': 'ap-guangzhou', 'status': 'RUNNING', 'security_groups': groups},
        'group': lambda sg: {'id': sg, 'region': 'ap-guangzhou'},
        'groups': {'base': 'sg-base0001', 'bind': 'sg-bind0001', 'new': ['sg-new00001', 'sg-new00002']},
        'actions': {'read': 'DescribeInstances', 'groups': 'DescribeSecurityGroups', 'bind': 'AssociateSecurityGroups',
                    'unbind': 'DisassociateSecurityGroups', 'set': 'ModifyInstancesAttribute'},
    },
    'alicloud': {
        'module': 'alicloud_sg_binding',
        'credentials': {'access_key': 'LTAI5tBench0000001', 'secret_key': 'bench-secret', 'region': 'cn-hangzhou'},
        'seed_key': ('LTAI5tBench0000001', 'bench-secret'),
        'instance': lambda i, groups: {'id': 'i-%08d' % i, 'vpc_id': 'vpc-bench0001', 'security_groups': groups},
        'group': lambda sg: {'id': sg, 'vpc_id': 'vpc-bench0001'},
        'groups': {'base': 'sg-base0001', 'bind': 'sg-bind0001', 'new': ['sg-new00001', 'sg-new00002']},
        'actions': {'read': 'DescribeInstances', 'groups': 'DescribeSecurityGroups', 'bind': 'JoinSecurityGroup',
                    'unbind': 'LeaveSecurityGroup', 'set': 'ModifyInstanceAttribute'},
    },
    'baiducloud': {
        'module': 'baiducloud_sg_binding',
        'credentials': {'access_key': 'benchak0001', 'secret_key': 'bench-secret', 'region': 'bj'},
        'seed_key': ('benchak0001', 'bench-secret'),
        'instance': lambda i, groups: {'id': 'i-%08d' % i, 'region': 'bj', 'status': 'Running', 'security_groups': groups},
        'group': lambda sg: {'id': sg, 'region': 'bj'},
        'groups': {'base': 'g-base0001', 'bind': 'g-bind0001', 'new': ['g-new00001', 'g-new00002']},
        # The module's defaults: batch reads (listByInstanceId) and batch writes (write_api: batch).
        'actions': {'read': 'ListInstancesByIds', 'groups': 'ListSecurityGroups', 'bind': 'BatchBindSecurityGroup',
                    'unbind': 'BatchUnbindSecurityGroup', 'set': None},
    },
    'zenlayer': {
        'module': 'zenlayer_sg_binding',
        'credentials': {'access_key_id': 'AKID-ZL-BENCH', 'access_key_password': 'bench-password'},
        'seed_key': ('AKID-ZL-BENCH', 'bench-password'),
        'instance': lambda i, groups: {'id': '%018d' % (8 * 10 ** 17 + i), 'status': 'RUNNING', 'security_groups': groups},
        'group': lambda sg: {'id': sg},
        'groups': {'base': '700000000000000001', 'bind': '700000000000000002', 'new': ['700000000000000003', '700000000000000004']},
        'actions': {'read': 'DescribeInstances', 'groups': 'DescribeSecurityGroups', 'bind': 'AssociateSecurityGroupInstance',
                    'unbind': 'UnAssociateSecurityGroupInstance', 'set': None},
        # Before any write the module checks that each group an unbind removes is Available (_zenlayer.refusals).
        'status_checked': ('added', 'removed'),
    },
}

PLAYBOOK = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - name: start-up
      ansible.builtin.ping:
    - name: task
      multicloud.secgroup.{module}: "{{{{ task_args }}}}"
'''

# Runs a module as __main__ and prints its peak RSS (VmHWM: the high-water mark of this process's own
# memory since exec) to stderr when it exits, as modules do through sys.exit.
PEAK_RSS = (
    "import atexit, runpy, sys\n"
    "def peak():\n"
    "    with open('/proc/self/status') as f:\n"
    "        sys.stderr.write([l for l in f if l.startswith('VmHWM:')][0])\n"
    "atexit.register(peak)\n"
    "name = sys.argv.pop(1)\n"
    "runpy.run_module(name, run_name='__main__', alter_sys=True)\n"
)


# --- the emulator's admin API -------------------------------------------------------------------

def admin(url, method='GET', body=None):
    data = None if body is None else json.dumps(body).encode('utf-8')
    req = urllib.request.Request(url, data=data, method=method, headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=120) as resp:  # nosec - loopback only
        return json.loads(resp.read().decode('utf-8'))


# --- what the provider module declares ----------------------------------------------------------

def provider_class(name):
    mod = importlib.import_module('ansible_collections.multicloud.secgroup.plugins.module_utils._' + name)
    for value in vars(mod).values():
        if isinstance(value, type) and getattr(value, 'name', None) == name and hasattr(value, 'constraints'):
            return mod, value
    raise SystemExit('no provider class in module_utils/_%s.py' % name)


def declared(name, settings):
    """The numbers the minimum and the bound use: the provider module's page and batch sizes, bounds
    and completion, and the emulator's settings of delayed visibility."""
    mod, cls = provider_class(name)
    cons = cls.constraints
    batch = cons.batch_size
    # A batch write path may be an option with a default (e.g. batch_size) or a module constant.
    spec_default = (cls.argument_spec.get('batch_size') or {}).get('default')
    for candidate in (spec_default, getattr(mod, 'BATCH_SIZE', None), getattr(mod, 'DEFAULT_BATCH_SIZE', None)):
        if isinstance(candidate, int) and candidate > batch:
            batch = candidate
    # IDs per read call (PAGE, or READ_BATCH where reads by ID are a batch call); none declared: one read per instance
    page = getattr(mod, 'PAGE', None) or getattr(mod, 'READ_BATCH', None)
    cloud = settings.get(name, {})
    delay_reads = int(cloud.get('async_delay_reads', 0) or 0) + int(cloud.get('visibility_delay_reads', 0) or 0)
    return {
        'read_page': page, 'group_page': page or getattr(mod, 'LIST_PAGE', 1),
        'batch_size': batch, 'set_batch_size': cons.set_batch_size,
        'min_groups': cons.min_groups, 'max_groups': cons.max_groups, 'ordered': cons.ordered,
        'completion': cls.completion, 'delay_reads': delay_reads,
        'delay_ms': int(cloud.get('async_delay_ms', 0) or 0),
        'default_rate_limit': cls.default_rate_limit, 'module_rate_limits': dict(cls.rate_limits),
    }


def scenario_states(spec, scenario):
    """(list every instance starts with, the task's groups, purge, state, the list it must end with)."""
    g = spec['groups']
    if scenario == 'no-op':
        return [g['base'], g['bind']], [g['bind']], False, 'present', [g['base'], g['bind']]
    if scenario == 'bind':
        return [g['base']], [g['bind']], False, 'present', [g['base'], g['bind']]
    if scenario == 'unbind':
        return [g['base'], g['bind']], [g['bind']], False, 'absent', [g['base']]
    return [g['base']], list(g['new']), True, 'present', list(g['new'])


def status_checked(spec):
    """Which groups the module checks before any write: the added ones everywhere, the removed ones where declared."""
    return spec.get('status_checked', ('added',))


def minimum(name, spec, decl, scenario, n):
    """The fewest calls per action the API allows for the scenario, and the dependent waves."""
    before, wanted, purge, state, dummy = scenario_states(spec, scenario)
    acts = spec['actions']
    reads = int(math.ceil(n / float(decl['read_page']))) if decl['read_page'] else n
    steps = bench_sdk.steps(before, wanted, purge, state, (decl['min_groups'], decl['max_groups']),
                            decl['set_batch_size'] > 0 and acts['set'] is not None)
    calls = collections.Counter({acts['read']: reads})
    phases = [{acts['read']: reads}]
    checked = 0
    kinds = status_checked(spec)
    added = [sg for sg in wanted if sg not in before] if any(kind in ('bind', 'set') for kind, dummy in steps) else []
    removed = [sg for sg in before if (sg in wanted) == (state == 'absent')] if any(kind in ('unbind', 'set') for kind, dummy in steps) else []
    to_check = (added if 'added' in kinds else []) + (removed if 'removed' in kinds else [])
    if to_check:
        checks = int(math.ceil(len(to_check) / float(decl['group_page'])))
        calls[acts['groups']] += checks
        phases[0][acts['groups']] = checks
        # A wave of its own: which groups change is known from the read only, and none is written before they are checked.
        checked = 1
    writes = collections.Counter()
    for kind, dummy in steps:
        per_call = decl['set_batch_size'] if kind == 'set' else decl['batch_size']
        writes[acts[kind]] += int(math.ceil(n / float(per_call)))
    calls.update(writes)
    waves = 1 + checked + len(steps)
    if steps:
        phase = dict(writes)
        between = len(steps) - 1 if decl['completion'] in ('task', 'eventual') else 0
        if between:
            # A target's next step waits for a read showing its previous one (the engine's await): the reads a
            # verify takes, once per step boundary.
            shown = between * reads * (1 + decl['delay_reads'])
            calls[acts['read']] += shown
            phase[acts['read']] = shown
            waves += between * (1 + decl['delay_reads'])
        phases.append(phase)
        # The read-back: the module reports what the cloud shows, not what it assumes (verify, in every
        # cloud's contract, also sync ones); plus the reads that still show the operation or the old list.
        verify = reads * (1 + decl['delay_reads'])
        calls[acts['read']] += verify
        phases.append({acts['read']: verify})
        waves += 1 + decl['delay_reads']
    return dict(calls), phases, waves


def bound(phases, waves, decl, limits, latency_s, startup_s, had_writes):
    """No client beats: start-up + one latency per dependent wave + per phase the slowest action's
    wait for tokens beyond the bucket's initial burst (the emulator's buckets hold one second)."""
    rate = 0.0
    for phase in phases:
        rate += max([max(0.0, calls - max(1.0, limits[a])) / limits[a] for a, calls in phase.items() if limits.get(a)] or [0.0])
    settle = decl['delay_ms'] / 1000.0 if had_writes else 0.0
    chain = waves * latency_s + settle
    return {'startup_s': startup_s, 'latency_chain_s': chain, 'rate_s': rate, 'bound_s': startup_s + chain + rate}


def span(entries, write_actions):
    """Where the requests' time went, from the emulator's log (wall clock of each request): requests_s from the first
    request's start to the last one's end, split into before the first write, the writes (first start to last end,
    reads between them included) and after the last write (the verify reads)."""
    first, last = min(e['start'] for e in entries), max(e['end'] or e['start'] for e in entries)
    writes = [e for e in entries if e['action'] in write_actions]
    out = {'requests_s': round(last - first, 3)}
    if writes:
        w_first, w_last = min(e['start'] for e in writes), max(e['end'] or e['start'] for e in writes)
        out.update(before_writes_s=round(w_first - first, 3), writes_s=round(w_last - w_first, 3), after_writes_s=round(last - w_last, 3))
    return out


# --- running things ---------------------------------------------------------------------------

class Bench(object):
    def __init__(self, running, workdir, latency_ms, enforce=True):
        self.running, self.workdir, self.latency_ms, self.enforce = running, workdir, latency_ms, enforce
        self.base = running.endpoints['admin']
        self.env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=workdir, ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback_plugins'),
                        ANSIBLE_CALLBACKS_ENABLED='bench_timer', ANSIBLE_STDOUT_CALLBACK='default')

    def prepare(self, name, spec, n, groups, latency_ms=None, enforce=None):
        admin(self.base + '/reset', 'POST')
        g = spec['groups']
        every = [g['base'], g['bind']] + list(g['new'])
        admin(self.base + '/seed', 'POST', {name: {
            'credentials': [{'access_key': spec['seed_key'][0], 'secret_key': spec['seed_key'][1]}],
            'security_groups': [spec['group'](sg) for sg in every],
            'instances': [spec['instance'](i, list(groups)) for i in range(n)]}})
        admin(self.base + '/settings', 'POST', {'latency_ms': self.latency_ms if latency_ms is None else latency_ms,
                                                'enforce_rate_limits': self.enforce if enforce is None else enforce})
        admin(self.base + '/requests', 'DELETE')

    def log(self, name, spec=None):
        entries = admin(self.base + '/requests?provider=' + name)['requests']
        per_action = collections.Counter(e['action'] for e in entries)
        throttled = len([e for e in entries if e.get('fault') == 'rate_limit'])
        out = {'calls': len(entries), 'throttled': throttled, 'per_action': dict(per_action)}
        if spec is not None and entries:
            out['span'] = span(entries, [spec['actions'][k] for k in ('bind', 'unbind', 'set') if spec['actions'].get(k)])
        return out

    def check(self, name, spec, n, final, ordered):
        state = admin(self.base + '/state')[name]['instances']
        ids = set(spec['instance'](i, [])['id'] for i in range(n))
        wrong = [i['id'] for i in state if i['id'] in ids and
                 (list(i['security_groups']) != final if ordered else sorted(i['security_groups']) != sorted(final))]
        if wrong:
            raise SystemExit('%s: %d instance(s) end with the wrong groups, e.g. %s' % (name, len(wrong), wrong[0]))

    def playbook(self, text, extra_vars):
        path = os.path.join(self.workdir, 'play.yml')
        with open(path, 'w') as handle:
            handle.write(text)
        with open(os.path.join(self.workdir, 'vars.json'), 'w') as handle:
            json.dump(extra_vars, handle)
        timer = os.path.join(self.workdir, 'timer.jsonl')
        if os.path.exists(timer):
            os.unlink(timer)
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, '-m', 'ansible.cli.playbook', '-i', 'localhost,', '-c', 'local',
             '-e', 'ansible_python_interpreter=' + sys.executable, '-e', '@' + os.path.join(self.workdir, 'vars.json'), path],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(self.env, BENCH_TIMER_FILE=timer), check=False)
        elapsed = time.monotonic() - started
        if proc.returncode:
            raise SystemExit(proc.stdout.decode('utf-8', 'replace')[-3000:])
        with open(timer) as handle:
            tasks = [json.loads(line) for line in handle]
        return elapsed, tasks

    def task_args(self, name, spec, n, wanted, purge, state):
        args = dict(spec['credentials'], endpoint=self.running.endpoints[name], security_group_ids=wanted,
                    instance_ids=[spec['instance'](i, [])['id'] for i in range(n)])
        if purge:
            args['purge'] = True
        if state != 'present':
            args['state'] = state
        return args

    def ours(self, name, spec, decl, n, scenario):
        before, wanted, purge, state, final = scenario_states(spec, scenario)
        self.prepare(name, spec, n, before)
        elapsed, tasks = self.playbook(PLAYBOOK.format(module=spec['module']),
                                       {'task_args': self.task_args(name, spec, n, wanted, purge, state)})
        out = self.log(name, spec)
        self.check(name, spec, n, final, decl['ordered'])
        out.update(startup_s=tasks[0]['seconds'], task_s=tasks[1]['seconds'], playbook_s=elapsed)
        return out

    def baseline(self, name, spec, decl, n, scenario, way):
        before, wanted, purge, state, final = scenario_states(spec, scenario)
        self.prepare(name, spec, n, before)
        seconds = bench_sdk.run(name, self.running.endpoints[name], spec['credentials'], way, [spec['instance'](i, [])['id'] for i in range(n)],
                                before, wanted, purge, state, (decl['min_groups'], decl['max_groups']))
        out = self.log(name)
        self.check(name, spec, n, final, decl['ordered'])
        out['task_s'] = seconds
        return out

    def memory(self, name, spec, n):
        """Peak RSS of the module process (the module run directly with its arguments file, without
        AnsiballZ), binding one group to n instances: VmHWM of /proc/self/status at exit (ru_maxrss would
        include the forking parent's pages). Latency and limits off: memory does not depend on them."""
        before, wanted, purge, state, dummy = scenario_states(spec, 'bind')
        self.prepare(name, spec, n, before, latency_ms=0, enforce=False)
        path = os.path.join(self.workdir, 'args.json')
        with open(path, 'w') as handle:
            json.dump({'ANSIBLE_MODULE_ARGS': self.task_args(name, spec, n, wanted, purge, state)}, handle)
        with open(os.path.join(self.workdir, 'module.out'), 'wb') as out:
            proc = subprocess.run([sys.executable, '-c', PEAK_RSS, 'ansible_collections.multicloud.secgroup.plugins.modules.' + spec['module'], path],
                                  stdout=out, stderr=subprocess.PIPE, env=dict(self.env, PYTHONPATH=self.workdir), check=False)
        with open(os.path.join(self.workdir, 'module.out')) as handle:
            result = handle.read()
        if proc.returncode or '"changed": true' not in result:
            raise SystemExit('memory run of %s failed: %s %s' % (spec['module'], result[-2000:], proc.stderr[-2000:]))
        return int(proc.stderr.decode('ascii').strip().splitlines()[-1].split()[1]) * 1024   # VmHWM is in kB

    def overhead(self, names, repeats):
        """One playbook: ping, then per round a no-op of each binding module on one instance and a ping."""
        admin(self.base + '/reset', 'POST')
        seed, tasks, extra = {}, [], {}
        for name in names:
            spec = PROVIDERS[name]
            g = spec['groups']
            seed[name] = {'credentials': [{'access_key': spec['seed_key'][0], 'secret_key': spec['seed_key'][1]}],
                          'security_groups': [spec['group'](sg) for sg in (g['base'], g['bind'])],
                          'instances': [spec['instance'](0, [g['base'], g['bind']])]}
            extra['args_' + name] = self.task_args(name, spec, 1, [g['bind']], False, 'present')
        admin(self.base + '/seed', 'POST', seed)
        admin(self.base + '/settings', 'POST', {'latency_ms': self.latency_ms, 'enforce_rate_limits': self.enforce})
        lines = ['- hosts: localhost', '  gather_facts: false', '  tasks:',
                 '    - {name: warm-up, ansible.builtin.ping: }']
        for rnd in range(repeats):
            lines.append('    - {name: "ping %d", ansible.builtin.ping: }' % rnd)
            for name in names:
                lines.append('    - name: "%s %d"' % (name, rnd))
                lines.append('      multicloud.secgroup.%s: "{{ args_%s }}"' % (PROVIDERS[name]['module'], name))
        dummy, timed = self.playbook('\n'.join(lines) + '\n', extra)
        out = {'ping_s': statistics.median([t['seconds'] for t in timed if t['task'].startswith('ping ')])}
        for name in names:
            out[name + '_s'] = statistics.median([t['seconds'] for t in timed if t['task'].startswith(name + ' ')])
            out[name + '_ratio'] = out[name + '_s'] / out['ping_s']
        out['latency_ms'] = self.latency_ms
        out['repeats'] = repeats
        return out


def versions():
    out = {}
    for dist in ('ansible-core', 'requests', 'tencentcloud-sdk-python-common', 'alibabacloud-ecs20140526', 'bce-python-sdk',
                 'zenlayercloud-sdk-python', 'matplotlib'):
        try:
            from importlib import metadata  # pylint: disable=import-outside-toplevel
            out[dist] = metadata.version(dist)
        except Exception:  # pylint: disable=broad-except
            out[dist] = None
    return out


def save(path, doc):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w') as handle:
        json.dump(doc, handle, indent=1, sort_keys=True)


def parse_sizes(text):
    return [int(s) for s in text.split(',') if s.strip()]


def engine_cpu(cases):
    """bench_engine_cpu.py's figures (CPU seconds of Engine.execute per case), in a process of its own, after the
    emulator has stopped so that nothing else runs on the CPUs it measures."""
    out = subprocess.run([sys.executable, os.path.join(HERE, 'bench_engine_cpu.py'), '--cases', cases, '--json'],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--providers', default=os.environ.get('BENCH_PROVIDERS') or 'all')
    parser.add_argument('--sizes', default=os.environ.get('BENCH_SIZES') or '1,10,100,1000')
    parser.add_argument('--tencent-extra', default=os.environ.get('BENCH_TENCENT_EXTRA', '10000'), help='sizes run on Tencent only')
    parser.add_argument('--scenarios', default=','.join(SCENARIOS))
    parser.add_argument('--latency-ms', type=int, default=int(os.environ.get('LATENCY_MS') or 50))
    parser.add_argument('--baseline-sizes', default=os.environ.get('BENCH_BASELINE_SIZES', '1,10,100'), help='baselines, every scenario')
    parser.add_argument('--baseline-bind-sizes', default=os.environ.get('BENCH_BASELINE_BIND_SIZES', '1000'), help='baselines, bind only')
    parser.add_argument('--memory-sizes', default=os.environ.get('BENCH_MEMORY_SIZES', '1000'), help='+ every --tencent-extra on Tencent')
    parser.add_argument('--repeats', type=int, default=5, help='rounds of the per-task overhead playbook')
    parser.add_argument('--process-ks', default=os.environ.get('BENCH_PROCESS_KS', '1,2,4,8'),
                        help='concurrent module processes on one account (bench_processes.py)')
    parser.add_argument('--process-instances', type=int, default=40, help='instances each of those processes binds')
    parser.add_argument('--startup-modules', default=os.environ.get('BENCH_STARTUP_MODULES') or 'all')
    parser.add_argument('--startup-tasks', type=int, default=20, help='no-op tasks per start-up playbook')
    parser.add_argument('--startup-runs', type=int, default=5, help='whole-process runs of each start-up playbook')
    parser.add_argument('--startup-before', default=os.environ.get('BENCH_STARTUP_BEFORE') or None,
                        help='git ref whose start-up is measured too (the figures before a change)')
    parser.add_argument('--engine-cpu', default=os.environ.get('BENCH_ENGINE_CPU', 'baidu-10000,baidu-20000,per-instance-5000'),
                        help="bench_engine_cpu.py's cases ('' for none)")
    parser.add_argument('--out', default=None)
    parser.add_argument('--quick', action='store_true', help='N = 1, 10 only, baselines at both, memory at 10')
    parser.add_argument('--smoke', action='store_true', help='Tencent, N = 1: every code path once (make test)')
    opts = parser.parse_args()
    if opts.smoke:
        opts.providers, opts.sizes, opts.tencent_extra, opts.baseline_sizes, opts.baseline_bind_sizes = 'tencentcloud', '1', '', '1', ''
        opts.memory_sizes, opts.repeats, opts.engine_cpu = '1', 1, 'baidu-10000'
        opts.process_ks, opts.process_instances = '2', 5
        opts.startup_modules, opts.startup_tasks, opts.startup_runs, opts.startup_before = 'tencentcloud_sg_binding', 2, 1, None
    elif opts.quick:
        opts.sizes, opts.tencent_extra, opts.baseline_sizes, opts.baseline_bind_sizes, opts.memory_sizes = '1,10', '', '1,10', '', '10'
        opts.startup_tasks, opts.startup_runs = 10, 3
        opts.engine_cpu = 'baidu-10000'
    names = sorted(PROVIDERS) if opts.providers == 'all' else opts.providers.split(',')
    scenarios = opts.scenarios.split(',')
    day = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d')
    out_path = opts.out or os.path.join(HERE, 'results', day + '.json')
    started = time.monotonic()
    running = start()
    doc = {'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'), 'latency_ms': opts.latency_ms,
           'enforce_rate_limits': True, 'mode': 'smoke' if opts.smoke else 'quick' if opts.quick else 'full',
           'machine': {'cpu_count': os.cpu_count(), 'python': platform.python_version(), 'platform': platform.platform(),
                       'loadavg_start': os.getloadavg()},
           'versions': versions(), 'terraform_parallelism': bench_sdk.TERRAFORM_PARALLELISM,
           'providers': {}, 'runs': []}
    try:
        with tempfile.TemporaryDirectory() as workdir:
            os.makedirs(os.path.join(workdir, 'ansible_collections', 'multicloud'))
            os.symlink(ROOT, os.path.join(workdir, 'ansible_collections', 'multicloud', 'secgroup'))
            sys.path.insert(0, workdir)
            bench = Bench(running, workdir, opts.latency_ms)
            settings = admin(bench.base + '/settings')
            for name in names:
                spec = PROVIDERS[name]
                decl = declared(name, settings)
                limits = dict(running.emulator.clouds[name].rate_limits)
                doc['providers'][name] = {'declared': decl, 'emulator_rate_limits': limits, 'actions': spec['actions'],
                                          'status_checked': list(status_checked(spec))}
                sizes = parse_sizes(opts.sizes) + (parse_sizes(opts.tencent_extra) if name == 'tencentcloud' else [])
                for n in sizes:
                    for scenario in scenarios:
                        calls_min, phases, waves = minimum(name, spec, decl, scenario, n)
                        run = {'provider': name, 'n': n, 'scenario': scenario, 'minimum': calls_min,
                               'minimum_calls': sum(calls_min.values()), 'waves': waves}
                        ours = bench.ours(name, spec, decl, n, scenario)
                        run['ours'] = ours
                        run['bound'] = bound(phases, waves, decl, limits, opts.latency_ms / 1000.0, ours['startup_s'],
                                             len(phases) > 1)
                        ways = []
                        if n in parse_sizes(opts.baseline_sizes) or (scenario == 'bind' and n in parse_sizes(opts.baseline_bind_sizes)):
                            ways = ['sequential', 'terraform']
                        for way in ways:
                            try:
                                run[way] = bench.baseline(name, spec, decl, n, scenario, way)
                            except Exception as exc:  # pylint: disable=broad-except
                                if opts.smoke:
                                    raise
                                # One baseline failing must not lose the rest of a long run: reported, not hidden.
                                run[way + '_error'] = '%s: %s' % (type(exc).__name__, str(exc)[:300])
                                print('%s baseline failed: %s' % (way, run[way + '_error']), flush=True)
                        ways = [way for way in ways if way in run]
                        doc['runs'].append(run)
                        save(out_path + '.partial', doc)
                        print('%-12s N=%-5d %-7s ours %7.2f s %5d calls (min %d, %d throttled), bound %6.2f s%s' % (
                            name, n, scenario, ours['task_s'], ours['calls'], run['minimum_calls'], ours['throttled'],
                            run['bound']['bound_s'], ''.join(', %s %.2f s' % (w, run[w]['task_s']) for w in ways)), flush=True)
            doc['overhead'] = bench.overhead(names, opts.repeats)
            print('overhead: ' + json.dumps(doc['overhead']), flush=True)
            startup_modules = bench_startup.MODULES if opts.startup_modules == 'all' else tuple(opts.startup_modules.split(','))
            # No latency (the module's own cost), and the run's (what a task costs against a cloud).
            startup_latencies = [0] if opts.smoke else sorted(set([0, opts.latency_ms]))
            startups = bench_startup.measure(running, startup_latencies, startup_modules, opts.startup_tasks, opts.startup_runs,
                                             opts.startup_before, process_runs=1 if opts.smoke else None)
            doc['startup'] = startups['now']
            print('startup: ' + bench_startup.summary(doc['startup']), flush=True)
            if opts.startup_before:
                doc['startup_before'] = startups['before']
                print('startup at %s: %s' % (opts.startup_before, bench_startup.summary(doc['startup_before'])), flush=True)
            doc['memory'] = []
            for name in names:
                sizes = parse_sizes(opts.memory_sizes) + (parse_sizes(opts.tencent_extra) if name == 'tencentcloud' else [])
                for n in sizes:
                    rss = bench.memory(name, PROVIDERS[name], n)
                    doc['memory'].append({'provider': name, 'n': n, 'scenario': 'bind', 'peak_rss_bytes': rss})
                    print('memory %-12s N=%-5d %.1f MiB' % (name, n, rss / 1048576.0), flush=True)
            # Many processes on one account, and the limiter after a burst of throttles (not in --smoke: ~25 s).
            doc['processes'] = bench_processes.run(running, workdir, names, parse_sizes(opts.process_ks), opts.process_instances,
                                                   opts.latency_ms, with_starvation=not opts.smoke and 'baiducloud' in names,
                                                   nodes_k=None if opts.smoke else max(parse_sizes(opts.process_ks)),
                                                   log=lambda line: print(line, flush=True))
    finally:
        running.stop()
    if opts.engine_cpu:
        doc['engine_cpu'] = engine_cpu(opts.engine_cpu)
        print('engine CPU: ' + json.dumps(doc['engine_cpu']), flush=True)
    doc['machine']['loadavg_end'] = os.getloadavg()
    doc['wall_s'] = time.monotonic() - started
    save(out_path, doc)
    if os.path.exists(out_path + '.partial'):
        os.unlink(out_path + '.partial')
    print('wrote %s in %.0f s' % (out_path, doc['wall_s']))


if __name__ == '__main__':
    main()
