# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Task start-up: what a module's task pays around its first request, against ansible.builtin.ping.

    python benchmarks/bench_startup.py [--modules all] [--tasks 20] [--runs 5] [--process-runs 10]
                                       [--latency-ms 0,50] [--before GIT_REF] [--out JSON]

Run by benchmarks/bench.py (the "startup" part of its JSON); alone it writes its own JSON. Per module, a no-op task
on one Tencent Cloud instance of the emulator (the generic modules with provider tencentcloud), and
ansible.builtin.ping:

* payload: the AnsiballZ wrapper the controller sends (kept with ANSIBLE_KEEP_REMOTE_FILES), its zip's size and
  files, ours (ansible_collections) and ansible-core's;
* process: that wrapper run as the task runs it (the zip's modules compiled from source), with no latency, the fastest
  of `process_runs` runs: its wall time, when the emulator logged its first request (from the spawn), and
  `python -X importtime` self times grouped
  into ours (ansible_collections.*), requests (and urllib3, charset_normalizer, idna, certifi), ansible (ansible.*)
  and other (the interpreter's own), a standard module counted with the package that imported it first;
* tasks: a playbook of `tasks` no-op tasks against one of as many pings, each task timed by the bench_timer
  callback; per whole-process run the mean per task, then the median of `runs` runs, per latency.

With --before REF (bench.py: --startup-before) the collection as committed at REF is measured too, in the same
rounds as this checkout, so that both see the same load.
"""

import argparse
import base64
import io
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

PING = 'ansible.builtin.ping'
# The modules measured: each one's no-op task on the emulator's Tencent Cloud, from the binding module's arguments.
MODULES = ('tencentcloud_sg_binding', 'alicloud_sg_binding', 'baiducloud_sg_binding', 'zenlayer_sg_binding',
           'sg_binding', 'sg_binding_info', 'sg_quarantine_record')
# Import names that are requests or what it imports of its own.
REQUESTS = ('requests', 'urllib3', 'charset_normalizer', 'chardet', 'idna', 'certifi', 'socks', 'simplejson', 'brotli', 'zstandard')
CATEGORIES = ('ours', 'requests', 'ansible', 'other')
IMPORT_LINE = re.compile(r'import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)')


def category(name):
    if name.startswith('ansible_collections.'):
        return 'ours'
    top = name.split('.')[0]
    if top == 'ansible':
        return 'ansible'
    if top in REQUESTS:
        return 'requests'
    return None


def import_breakdown(text):
    """Self times of `-X importtime` in ms per category; a module of none (the standard library) counts for the
    nearest importer that has one, or as other."""
    rows = []
    for line in text.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            rows.append((len(match.group(3)) // 2, match.group(4), int(match.group(1))))
    totals = dict((name, 0.0) for name in CATEGORIES)
    importers = []      # (depth, category) of the rows still open: a row's importer is printed after it
    for depth, name, self_us in reversed(rows):
        while importers and importers[-1][0] >= depth:
            importers.pop()
        kind = category(name) or (importers[-1][1] if importers else 'other')
        importers.append((depth, kind))
        totals[kind] += self_us / 1000.0
    return totals


def payload(wrapper):
    """Sizes of an AnsiballZ wrapper and of its zip, with the zip's files split into ours and ansible-core's."""
    with open(wrapper) as handle:
        text = handle.read()
    data = base64.b64decode(re.search(r"zip_data='([^']*)'", text).group(1))
    out = {'wrapper_bytes': len(text.encode('utf-8')), 'zip_bytes': len(data), 'ours_files': 0, 'ours_bytes': 0,
           'ansible_files': 0, 'ansible_bytes': 0}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            kind = 'ours' if info.filename.startswith('ansible_collections/') else 'ansible'
            out[kind + '_files'] += 1
            out[kind + '_bytes'] += info.file_size
    return out


def provider_of(module):
    """The cloud of a module's no-op: a binding module's own, Tencent Cloud for the generic ones."""
    return module[:-len('_sg_binding')] if module.endswith('_sg_binding') else 'tencentcloud'


def noop_args(bench, providers, module):
    """The arguments of the module's no-op task on instance 0 of its cloud (seeded by seed())."""
    name = provider_of(module)
    spec = providers[name]
    args = bench.task_args(name, spec, 1, [spec['groups']['bind']], False, 'present')
    if not module.endswith('_sg_binding'):
        args['provider'] = name
    if module in ('sg_binding_info', 'sg_quarantine_record'):
        del args['security_group_ids']
    if module == 'sg_quarantine_record':
        args['state'] = 'absent'        # no record to remove: a read of the tags
    return args


def seed(bench, providers, names, latency_ms):
    """One instance per cloud holding the groups the no-op asks for; latency set, rate limits off (one task at a time)."""
    from bench import admin  # pylint: disable=import-outside-toplevel
    admin(bench.base + '/reset', 'POST')
    doc = {}
    for name in names:
        spec = providers[name]
        g = spec['groups']
        doc[name] = {'credentials': [{'access_key': spec['seed_key'][0], 'secret_key': spec['seed_key'][1]}],
                     'security_groups': [spec['group'](sg) for sg in (g['base'], g['bind'])],
                     'instances': [spec['instance'](0, [g['base'], g['bind']])]}
    admin(bench.base + '/seed', 'POST', doc)
    admin(bench.base + '/settings', 'POST', {'latency_ms': latency_ms, 'enforce_rate_limits': False})


def task_line(module, index):
    if module == PING:
        return '    - {name: "t%d", ansible.builtin.ping: }' % index
    return '    - name: "t%d"\n      multicloud.secgroup.%s: "{{ args_%s }}"' % (index, module, module)


def play(modules_and_counts):
    lines = ['- hosts: localhost', '  gather_facts: false', '  tasks:']
    index = 0
    for module, count in modules_and_counts:
        for dummy in range(count):
            lines.append(task_line(module, index))
            index += 1
    return '\n'.join(lines) + '\n'


def keep_wrappers(bench, providers, modules, workdir):
    """One playbook running ping and each module once with ANSIBLE_KEEP_REMOTE_FILES: {module: its AnsiballZ wrapper}."""
    remote = os.path.join(workdir, 'remote')
    env = bench.env
    bench.env = dict(env, ANSIBLE_KEEP_REMOTE_FILES='1', ANSIBLE_REMOTE_TMP=remote)
    try:
        bench.playbook(play([(PING, 1)] + [(m, 1) for m in modules]), dict(('args_' + m, noop_args(bench, providers, m)) for m in modules))
    finally:
        bench.env = env
    found = {}
    for dirpath, dummy, files in os.walk(remote):
        for name in files:
            if name.startswith('AnsiballZ_') and name.endswith('.py'):
                short = name[len('AnsiballZ_'):-len('.py')]
                found[PING if short == 'ping' else short] = os.path.join(dirpath, name)
    missing = [m for m in [PING] + list(modules) if m not in found]
    if missing:
        raise SystemExit('no AnsiballZ wrapper kept for %s under %s' % (', '.join(missing), remote))
    return found


def run_wrapper(bench, wrapper, importtime):
    """(wall s, s from the spawn to the emulator's first request or None, requests, stderr, CPU s of the process: user
    and system, which other load disturbs far less than wall time) of one run of a wrapper."""
    from bench import admin  # pylint: disable=import-outside-toplevel
    admin(bench.base + '/requests', 'DELETE')
    command = [sys.executable] + (['-X', 'importtime'] if importtime else []) + [wrapper]
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=bench.env, check=False)
    wall = time.time() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime
    result = json.loads(proc.stdout.decode('utf-8', 'replace') or '{}')
    if proc.returncode or result.get('failed') or result.get('changed'):
        raise SystemExit('%s did not run as a no-op: %s %s' % (wrapper, proc.stdout[-2000:], proc.stderr[-2000:]))
    entries = admin(bench.base + '/requests')['requests']
    first = min(e['start'] for e in entries) - started if entries else None
    return wall, first, len(entries), proc.stderr.decode('utf-8', 'replace'), cpu


def measure_processes(benches, wrappers, runs):
    """Per collection and module: payload, and over runs (rounds interleaving the collections and modules) the fastest
    wall time, first request and import self times: the run least disturbed by other load, as timeit takes."""
    samples = dict((label, dict((module, []) for module in wrappers[label])) for label in benches)
    for dummy in range(runs):
        for label, bench in sorted(benches.items()):
            for module, wrapper in sorted(wrappers[label].items()):
                wall, first, calls, dummy_err, cpu = run_wrapper(bench, wrapper, False)
                imports = import_breakdown(run_wrapper(bench, wrapper, True)[3])
                samples[label][module].append((wall, first, calls, imports, cpu))
    out = {}
    for label, modules in samples.items():
        out[label] = {}
        for module, runs_of in modules.items():
            firsts = [r[1] for r in runs_of if r[1] is not None]
            out[label][module] = dict(payload(wrappers[label][module]), process_s=min(r[0] for r in runs_of),
                                      process_cpu_s=min(r[4] for r in runs_of),
                                      first_request_s=min(firsts) if firsts else None, calls=runs_of[-1][2],
                                      imports_ms=dict((k, min(r[3][k] for r in runs_of)) for k in CATEGORIES))
    return out


def measure_tasks(benches, providers, modules, tasks, runs):
    """Per collection and module (and ping): the median over whole-process runs of the mean seconds per task; each
    round runs every collection's ping playbook and module playbooks in turn, so that a change of load hits all alike."""
    per_run = dict((label, dict((m, []) for m in [PING] + list(modules))) for label in benches)
    for dummy in range(runs):
        for label, bench in sorted(benches.items()):
            extra = dict(('args_' + m, noop_args(bench, providers, m)) for m in modules)
            for module in [PING] + list(modules):
                dummy_elapsed, timed = bench.playbook(play([(module, tasks)]), extra)
                seconds = [t['seconds'] for t in timed]
                if len(seconds) != tasks or any(t['status'] != 'ok' for t in timed):
                    raise SystemExit('%s: %d of %d tasks timed ok' % (module, len([t for t in timed if t['status'] == 'ok']), tasks))
                per_run[label][module].append(sum(seconds) / len(seconds))
    out = {}
    for label, figures in per_run.items():
        ping = statistics.median(figures[PING])
        out[label] = {'ping_s': ping, 'runs_ping_s': figures[PING]}
        for module in modules:
            task = statistics.median(figures[module])
            out[label][module] = {'task_s': task, 'ratio': task / ping, 'runs_s': figures[module]}
    return out


def run(benches, providers, modules, tasks, runs, latencies, process_runs):
    """The start-up figures of each collection (benches: label -> Bench on a tree holding it), as the results JSON
    stores them, measured in interleaved rounds."""
    any_bench = benches[sorted(benches)[0]]
    names = sorted(set(provider_of(m) for m in modules))
    docs = dict((label, {'modules': list(modules), 'tasks': tasks, 'runs': runs, 'process_runs': process_runs,
                         'latencies_ms': list(latencies), 'tasks_by_latency': {}}) for label in benches)
    seed(any_bench, providers, names, 0)
    with tempfile.TemporaryDirectory() as scratch:
        wrappers = dict((label, keep_wrappers(bench, providers, modules, os.path.join(scratch, label)))
                        for label, bench in benches.items())
        for label, figures in measure_processes(benches, wrappers, process_runs).items():
            docs[label]['process'] = figures
    for latency in latencies if tasks else []:
        seed(any_bench, providers, names, latency)
        for label, figures in measure_tasks(benches, providers, modules, tasks, runs).items():
            docs[label]['tasks_by_latency'][str(latency)] = figures
    return docs


def export(ref, into):
    """The collection as committed at ref (git archive), under into/ansible_collections/multicloud/secgroup."""
    target = os.path.join(into, 'ansible_collections', 'multicloud', 'secgroup')
    os.makedirs(target)
    commit = subprocess.run(['git', '-C', ROOT, 'rev-parse', ref], stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    archive = subprocess.run(['git', '-C', ROOT, 'archive', commit], stdout=subprocess.PIPE, check=True).stdout
    subprocess.run(['tar', '-xf', '-', '-C', target], input=archive, check=True)
    return target, commit


def measure(running, latencies, modules, tasks, runs, before=None, process_runs=None):
    """The figures of this checkout ('now'), and with before (a git ref) also of the collection as committed there
    ('before', naming the commit), measured in the same rounds."""
    import bench as harness  # pylint: disable=import-outside-toplevel
    with tempfile.TemporaryDirectory() as scratch:
        trees = {'now': ROOT}
        if before:
            trees['before'], commit = export(before, os.path.join(scratch, 'before-tree'))
        benches = {}
        for label, tree in trees.items():
            workdir = os.path.join(scratch, label)
            os.makedirs(os.path.join(workdir, 'ansible_collections', 'multicloud'))
            os.symlink(tree, os.path.join(workdir, 'ansible_collections', 'multicloud', 'secgroup'))
            benches[label] = harness.Bench(running, workdir, 0, enforce=False)
        docs = run(benches, harness.PROVIDERS, modules, tasks, runs, latencies, process_runs or max(runs, 10))
    if before:
        docs['before'].update(ref=before, commit=commit)
    return docs


def summary(doc):
    """One line per module: process, first request, imports, and the task ratio at each latency."""
    parts = []
    for module in [PING] + list(doc['modules']):
        proc = doc['process'][module]
        text = '%s: process %.0f ms (CPU %.0f ms)' % (module, proc['process_s'] * 1000, proc['process_cpu_s'] * 1000)
        if proc['first_request_s'] is not None:
            text += ', first request %.0f ms' % (proc['first_request_s'] * 1000)
        text += ', imports %s' % ' '.join('%s %.0f' % (k, proc['imports_ms'][k]) for k in CATEGORIES)
        for latency, tasks in sorted(doc['tasks_by_latency'].items(), key=lambda kv: int(kv[0])):
            text += ', %s ms: %.3f s' % (latency, tasks['ping_s'] if module == PING else tasks[module]['task_s'])
            text += '' if module == PING else ' (%.2fx)' % tasks[module]['ratio']
        parts.append(text)
    return '; '.join(parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--modules', default='all')
    parser.add_argument('--tasks', type=int, default=20)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--latency-ms', default='0,50')
    parser.add_argument('--process-runs', type=int, default=None, help='runs of each wrapper (default: runs, at least 10)')
    parser.add_argument('--before', default=None, help='also measure the collection as committed at this git ref')
    parser.add_argument('--out', default=None)
    opts = parser.parse_args()
    sys.path.insert(0, os.path.join(ROOT, 'tests'))
    sys.path.insert(0, HERE)
    from emulator import start  # pylint: disable=import-outside-toplevel
    modules = MODULES if opts.modules == 'all' else tuple(opts.modules.split(','))
    latencies = [int(x) for x in opts.latency_ms.split(',') if x.strip()]
    running = start()
    try:
        docs = measure(running, latencies, modules, opts.tasks, opts.runs, opts.before, opts.process_runs)
    finally:
        running.stop()
    doc = {'startup': docs['now']}
    if opts.before:
        doc['startup_before'] = docs['before']
    if opts.out:
        with open(opts.out, 'w') as handle:
            json.dump(doc, handle, indent=1, sort_keys=True)
    for key in sorted(doc):
        print('%s: %s' % (key, summary(doc[key])))


if __name__ == '__main__':
    main()
