# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/performance.md and its plot, from the JSON of benchmarks/bench.py.

    python benchmarks/bench_report.py benchmarks/results/<date>.json [--doc docs/performance.md]
                                      [--plot docs/performance.png | --no-plot]

Standard library, plus matplotlib for the plot (benchmarks/requirements.txt, in .venv-bench).
"""

import argparse
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCENARIOS = ('no-op', 'bind', 'unbind', 'purge')
WAYS = ('sequential', 'terraform')

# Targets of issue 14, on this machine class.
TARGET_BOUND = 1.2          # time / bound at N = 100 and 1000
TARGET_SEQ = 5.0            # sequential / ours at N = 100
TARGET_TASK = 1.3           # no-op task / ansible.builtin.ping
TARGET_THROTTLED = 0.05     # throttled / calls


def ratio(a, b):
    return a / b if b else float('inf')


def fmt(value, digits=2):
    if value is None:
        return '-'
    if value == float('inf'):
        return 'inf'
    return ('%.' + str(digits) + 'f') % value


def excess(run):
    """Calls per action beyond the minimum (and missing ones as negatives), as text."""
    ours, low = run['ours']['per_action'], run['minimum']
    parts = []
    for action in sorted(set(ours) | set(low)):
        diff = ours.get(action, 0) - low.get(action, 0)
        if diff:
            parts.append('%s %+d' % (action, diff))
    return ', '.join(parts)


def formulas(name, prov, latency_ms):
    d, acts, lim = prov['declared'], prov['actions'], prov['emulator_rate_limits']
    read = 'ceil(N / %d)' % d['read_page'] if d['read_page'] else 'N'
    lines = ['**%s** (module declares: read page %s, write batch %d, replace batch %s, groups %d..%d, completion `%s`; '
             'emulator: %s reads answering the old state after a write%s)' % (
                 name, d['read_page'] or 'none (one read per instance)', d['batch_size'], d['set_batch_size'] or 'none',
                 d['min_groups'], d['max_groups'], d['completion'], d['delay_reads'],
                 ', %d ms settle' % d['delay_ms'] if d['delay_ms'] else '')]
    lines.append('')
    removed = 'removed' in prov.get('status_checked', ())
    lines.append('- R = %s `%s`; C = ceil(%s / %d) `%s` when a group is added%s (checked before any write%s)' % (
        read, acts['read'], '(groups added + groups removed)' if removed else 'groups added', d['group_page'], acts['groups'],
        ' or removed' if removed else '',
        ': that each added group exists, and that each group an unbind removes is Available' if removed else ''))
    lines.append('- bind, unbind: W = ceil(N / %d) `%s` / `%s`' % (d['batch_size'], acts['bind'], acts['unbind']))
    if d['set_batch_size'] and acts['set']:
        lines.append('- purge: W = ceil(N / %d) `%s` (one replace call per batch)' % (d['set_batch_size'], acts['set']))
    else:
        lines.append('- purge from 1 group to 2 new ones: W = 3 x ceil(N / %d) (two binds, one unbind per instance, '
                     'in the order the floor/ceiling of %d..%d groups allows)%s' % (
                         d['batch_size'], d['min_groups'], d['max_groups'],
                         '; S = 2 x %sR reads between the 3 steps (completion `%s`: a step waits for a read showing the one '
                         'before), one wave each' % ('%d x ' % (1 + d['delay_reads']) if d['delay_reads'] else '', d['completion'])
                         if d['completion'] in ('task', 'eventual') else ''))
    if d['completion'] == 'sync':
        lines.append('- verify: V = R (a write is done when answered, but the module reports what the cloud shows: one '
                     'read-back, the product\'s verify step; the API alone would allow R + C + W); minimum = R + C + W + V')
    else:
        lines.append('- verify: V = %d x R (the read showing the end state%s); minimum = R + C + W + V' % (
            1 + d['delay_reads'], ', after %d answer(s) still showing the operation in progress or the old list' % d['delay_reads']
            if d['delay_reads'] else ''))
    limits = ', '.join('%s %s/s' % (a, lim[a]) for a in sorted(lim))
    lines.append('- bound = start-up (ping, same run) + %d ms x waves (read, the group check C, each dependent write step, S%s) '
                 '+ sum over phases (read, write%s) of max over actions of max(0, calls - burst) / limit; limits enforced: %s; '
                 'burst = one second of tokens (the emulator\'s bucket)' % (
                     latency_ms, ', %d verify read(s)' % (1 + d['delay_reads']), ', verify', limits))
    return lines


def table(runs, name):
    out = ['| N | scenario | calls | min | calls/min | throttled | ours s | bound s | time/bound | seq s | seq/ours | tf s | tf/ours '
           '| calls beyond the minimum |',
           '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|']
    for run in sorted((r for r in runs if r['provider'] == name), key=lambda r: (r['n'], SCENARIOS.index(r['scenario']))):
        ours = run['ours']
        cells = [str(run['n']), run['scenario'], str(ours['calls']), str(run['minimum_calls']),
                 fmt(ratio(ours['calls'], run['minimum_calls'])),
                 '%d (%.0f%%)' % (ours['throttled'], 100.0 * ratio(ours['throttled'], ours['calls'])),
                 fmt(ours['task_s']), fmt(run['bound']['bound_s']), fmt(ratio(ours['task_s'], run['bound']['bound_s']))]
        for way in WAYS:
            if way in run:
                cells += [fmt(run[way]['task_s']), fmt(ratio(run[way]['task_s'], ours['task_s']))]
            else:
                cells += ['failed' if way + '_error' in run else '-', '-']
        cells.append(excess(run) or '-')
        out.append('| ' + ' | '.join(cells) + ' |')
    return out


def baseline_calls(runs, name):
    out = ['| N | scenario | seq calls | seq throttled | tf calls | tf throttled |', '|---:|---|---:|---:|---:|---:|']
    for run in sorted((r for r in runs if r['provider'] == name and 'sequential' in r),
                      key=lambda r: (r['n'], SCENARIOS.index(r['scenario']))):
        seq, tf = run['sequential'], run['terraform']
        out.append('| %d | %s | %d | %d | %d | %d |' % (run['n'], run['scenario'], seq['calls'], seq['throttled'], tf['calls'], tf['throttled']))
    return out


def breakdown(ours):
    """The measured split of a task's time, from the emulator's log (bench.span), as text."""
    sp = ours.get('span')
    if not sp:
        return ''
    text = '; measured: requests %.2f s' % sp['requests_s']
    if 'writes_s' in sp:
        text += ' (reads before the first write %.2f, writes %.2f, verify after the last write %.2f)' % (
            sp['before_writes_s'], sp['writes_s'], sp['after_writes_s'])
    return text + ', the rest %.2f s outside any request (module start-up, planning, pauses between requests)' % (
        ours['task_s'] - sp['requests_s'])


# Hand computations of the bound, one case per cloud, N = 1000 at 50 ms, from the formulas above (start-up apart):
# (provider, scenario, latency chain s, rate s, how).
HAND_BOUNDS = [
    ('alicloud', 'purge', 0.20, 49.0, '4 waves (read, group check, one replace step, 1 verify read) x 0.05 = 0.20; writes: 1000 '
     'ModifyInstanceAttribute, (1000 - 20) / 20 = 49.0; reads: 10 + 1 + 10 calls, under the 100-call burst: 0'),
    ('baiducloud', 'purge', 0.30, 19.0, '6 waves (read, group check, bind, bind, unbind, verify) x 0.05 = 0.30; writes: 200 '
     'BatchBindSecurityGroup, (200 - 10) / 10 = 19.0, over 100 BatchUnbindSecurityGroup, (100 - 10) / 10 = 9.0 (own bucket, '
     'overlapped); reads: 10 + 1 and 10 calls, under the 20-call burst: 0'),
    ('tencentcloud', 'bind', 0.25, 0.0, '5 waves (read, group check, bind, 2 verify reads: OPERATING then SUCCESS) x 0.05 = 0.25; writes: '
     '10 AssociateSecurityGroups, under the 10-call burst: 0; reads: 10 + 1 and 20 calls, under the 40-call burst: 0'),
    ('zenlayer', 'purge', 0.40, 99.0, '8 waves (read, group check, bind, read, unbind, read, bind, verify) x 0.05 = 0.40; '
     'writes: 2000 AssociateSecurityGroupInstance, (2000 - 20) / 20 = 99.0, over 1000 UnAssociateSecurityGroupInstance, '
     '(1000 - 20) / 20 = 49.0 (own bucket, overlapped) and the 20 reads between steps (under the 20-call burst); reads: '
     '10 + 1 and 10 calls, under the 20-call burst: 0'),
]


def hand_checks(doc):
    """Each hand computation against the harness's bound for the same case (when this run has it)."""
    out = []
    for name, scenario, chain, rate, how in HAND_BOUNDS:
        run = next((r for r in doc['runs'] if (r['provider'], r['n'], r['scenario']) == (name, 1000, scenario)), None)
        if run is None or doc['latency_ms'] != 50:
            verdict = 'not in this run'
        else:
            b = run['bound']
            same = abs(b['latency_chain_s'] - chain) < 1e-6 and abs(b['rate_s'] - rate) < 1e-6
            verdict = ('the harness agrees (%.2f + %.2f)' if same else 'MISMATCH: the harness says %.2f + %.2f') % (
                b['latency_chain_s'], b['rate_s'])
        out.append('- %s N=1000 %s: chain %.2f s + rate %.2f s: %s; %s.' % (name, scenario, chain, rate, how, verdict))
    return out


def engine_cpu(doc):
    cpu = doc.get('engine_cpu')
    if not cpu:
        return []
    lines = ['## The engine\'s own CPU', '',
             '`benchmarks/bench_engine_cpu.py`: `Engine.execute` over a purge (bind one group, unbind another: two steps per '
             'target) with a provider whose cloud is a dict, the real transport\'s workers, no I/O; CPU seconds of the process. '
             'The bookkeeping is linear in the targets each operation touches (issue 26; before, every answer copied every '
             'target\'s list: 12.0 s, 65.8 s and 65.8 s of CPU for these three cases on this machine, 2026-12-07).', '',
             '| case | N | targets per call | operations | CPU s | wall s |', '|---|---:|---:|---:|---:|---:|']
    for name in sorted(cpu):
        c = cpu[name]
        lines.append('| %s | %d | %d | %d | %s | %s |' % (name, c['n'], c['batch_size'], c['operations'], fmt(c['cpu_s']), fmt(c['wall_s'])))
    return lines + ['']


def misses(doc):
    """Every target the figures miss, with the figures that say why."""
    out = []
    for run in doc['runs']:
        ours, where = run['ours'], '%s N=%d %s' % (run['provider'], run['n'], run['scenario'])
        decl = doc['providers'][run['provider']]['declared']
        if ours['calls'] != run['minimum_calls']:
            why = excess(run)
            if decl['completion'] == 'sync' and run['scenario'] != 'no-op':
                why += ' (reads after writes the answer already confirms: completion is sync)'
            out.append('- calls: %s made %d, minimum %d: %s' % (where, ours['calls'], run['minimum_calls'], why))
        if ours['calls'] and ratio(ours['throttled'], ours['calls']) >= TARGET_THROTTLED:
            out.append('- throttled: %s had %d of %d answers throttled' % (where, ours['throttled'], ours['calls']))
        if (run['n'] in (100, 1000) or (run['provider'], run['n']) == ('tencentcloud', 10000)) and \
                ratio(ours['task_s'], run['bound']['bound_s']) > TARGET_BOUND:
            b = run['bound']
            out.append('- time: %s took %.2f s, %.2fx the bound %.2f s (start-up %.2f + latency chain %.2f + rate %.2f)%s' % (
                where, ours['task_s'], ratio(ours['task_s'], b['bound_s']), b['bound_s'], b['startup_s'], b['latency_chain_s'], b['rate_s'],
                breakdown(ours)))
        if run['n'] == 100 and 'sequential' in run and ratio(run['sequential']['task_s'], ours['task_s']) < TARGET_SEQ:
            out.append('- vs sequential SDK loop: %s only %.2fx faster (%.2f s vs %.2f s)' % (
                where, ratio(run['sequential']['task_s'], ours['task_s']), run['sequential']['task_s'], ours['task_s']))
        if run['n'] >= 100 and 'terraform' in run and run['terraform']['task_s'] < ours['task_s']:
            out.append('- vs Terraform pattern: %s slower (%.2f s vs %.2f s)' % (where, ours['task_s'], run['terraform']['task_s']))
        for way in WAYS:
            if way + '_error' in run:
                out.append('- baseline %s failed at %s: %s' % (way, where, run[way + '_error']))
    start = doc.get('startup') or {}
    for latency, tasks in sorted((start.get('tasks_by_latency') or {}).items(), key=lambda kv: int(kv[0])):
        for module in start['modules']:
            if tasks[module]['ratio'] > TARGET_TASK:
                low = floor(start, int(latency))
                out.append('- task start-up: %s no-op %.3f s, %.2fx ansible.builtin.ping (%.3f s) at %s ms%s' % (
                    module, tasks[module]['task_s'], tasks[module]['ratio'], tasks['ping_s'], latency,
                    '; the floor (ping, requests, the latency of its requests) is %.2fx' % low[1] if low and module == start['modules'][0] else ''))
    over = doc.get('overhead') or {}
    for name in sorted(doc['providers']):
        if over.get(name + '_ratio', 0) > TARGET_TASK:
            out.append('- no-op task: %s %.2f s, %.2fx ansible.builtin.ping (%.2f s)' % (name, over[name + '_s'], over[name + '_ratio'], over['ping_s']))
    return out


PING = 'ansible.builtin.ping'


def startup_rows(doc):
    """[PING] + the start-up's modules."""
    return [PING] + list(doc['modules'])


def then_now(before, now, fmt_one):
    """A cell: the figure now, after the one at the older commit when there is one."""
    if now is None:
        return '-'
    return fmt_one(now) if before is None else '%s -> %s' % (fmt_one(before), fmt_one(now))


def floor(start, latency):
    """(seconds, / ping) a task of the first module cannot beat: ping's task, the import of requests, and one latency per
    request of its no-op (each waits for the one before); None without the figures."""
    tasks = start['tasks_by_latency'].get(str(latency))
    first = start['modules'][0] if start['modules'] else None
    proc = start['process'].get(first) if first else None
    if not tasks or proc is None or proc.get('calls') is None:
        return None
    seconds = tasks['ping_s'] + proc['imports_ms']['requests'] / 1000.0 + proc['calls'] * latency / 1000.0
    return seconds, seconds / tasks['ping_s']


def milliseconds(seconds):
    return '%.0f' % (seconds * 1000)


def startup_section(doc):
    start, before = doc['startup'], doc.get('startup_before')
    old_process = (before or {}).get('process', {})
    lines = ['## Task start-up', '',
             'What a task pays before and around its first request, against `ansible.builtin.ping` '
             '(`benchmarks/bench_startup.py`): a no-op on one instance (the generic modules with `provider: tencentcloud`, '
             'each binding module on its own cloud).%s' % (
                 ' Each cell reads *before -> now*, before being commit `%s` (`%s`), measured in the same run.'
                 % (before['commit'][:10], before['ref']) if before else ''), '',
             '- **payload**: the AnsiballZ wrapper the controller sends (kept with `ANSIBLE_KEEP_REMOTE_FILES`), the size of its '
             'zip and the files in it, ours and ansible-core\'s.',
             '- **imports**: `python -X importtime` on that wrapper, run as the task runs it (the zip\'s modules compiled from '
             'source, every task again), self times grouped into ours (`ansible_collections`), `requests` (with urllib3, '
             'charset_normalizer, idna, certifi), `ansible` and other (the interpreter\'s own); a standard module counts '
             'with the package that imported it first.',
             '- **first request**: from the spawn of that process to the emulator\'s log of its first request; **process**: '
             'its wall time, and its CPU time (user and system, which other load on the machine disturbs far less); no '
             'latency; each the fastest of %d runs (the one least disturbed by other load, as `timeit` takes).'
             % start.get('process_runs', start['runs']),
             '- **task**: a playbook of %d no-op tasks against one of %d pings, each task timed by `bench_timer`; per '
             'whole-process run the mean per task, then the median of %d runs, rounds interleaved.' % (
                 start['tasks'], start['tasks'], start['runs']) if start['tasks_by_latency'] else '', '',
             '| module | zip KiB | files ours + ansible | imports ours ms | requests ms | ansible ms | other ms | calls '
             '| first request ms | process ms | process CPU ms |',
             '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
    for module in startup_rows(start):
        proc, was = start['process'][module], old_process.get(module) or {}
        imports, was_imports = proc['imports_ms'], was.get('imports_ms') or {}
        cells = [module.replace(PING, '`%s`' % PING),
                 then_now(was.get('zip_bytes'), proc['zip_bytes'], lambda v: '%.0f' % (v / 1024.0)),
                 then_now(('%d + %d' % (was['ours_files'], was['ansible_files'])) if was else None,
                          '%d + %d' % (proc['ours_files'], proc['ansible_files']), str)]
        cells += [then_now(was_imports.get(kind), imports[kind], lambda v: '%.0f' % v) for kind in ('ours', 'requests', 'ansible', 'other')]
        cells += [str(proc['calls']) if proc.get('calls') is not None else '-',
                  then_now(was.get('first_request_s'), proc['first_request_s'], milliseconds),
                  then_now(was.get('process_s'), proc['process_s'], milliseconds),
                  then_now(was.get('process_cpu_s'), proc.get('process_cpu_s'), milliseconds)]
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    latencies = sorted(start['tasks_by_latency'], key=int)
    if latencies:
        lines += ['| module | ' + ' | '.join('%s ms: task s | / ping' % latency for latency in latencies) + ' |',
                  '|---|' + '---:|---:|' * len(latencies)]
        for module in startup_rows(start):
            cells = [module.replace(PING, '`%s`' % PING)]
            for latency in latencies:
                tasks = start['tasks_by_latency'][latency]
                was = (before or {}).get('tasks_by_latency', {}).get(latency)
                if module == PING:
                    cells += [then_now(was and was['ping_s'], tasks['ping_s'], lambda v: '%.3f' % v), '1.00']
                else:
                    cells += [then_now(was and was[module]['task_s'], tasks[module]['task_s'], lambda v: '%.3f' % v),
                              then_now(was and was[module]['ratio'], tasks[module]['ratio'], lambda v: '%.2f' % v)]
            lines.append('| ' + ' | '.join(cells) + ' |')
        lines.append('')
    lines += startup_floor(start, latencies)
    return lines


def startup_floor(start, latencies):
    """The floor under the target, from the figures: what ping pays, what requests and the requests add, what is ours."""
    first = start['modules'][0] if start['modules'] else None
    if first is None:
        return []
    proc, ping = start['process'][first], start['process'][PING]
    # Where the module's first request comes after ping's whole process: its extra imports, and the rest.
    gap = ((proc['first_request_s'] or 0) - ping['process_s']) * 1000
    extra_ansible = proc['imports_ms']['ansible'] - ping['imports_ms']['ansible']
    lines = ['**The floor.** `ansible.builtin.ping` already pays the interpreter, the AnsiballZ wrapper and its zip, and '
             'ansible-core\'s own imports (%.0f ms of imports in a %.0f ms process here). %s sends its first request %.0f ms '
             'after ping\'s process has ended: importing `requests` (%.0f ms), ours (%.0f ms: compiling the engine and one '
             'provider from the zip, as no bytecode cache survives a task), %+.0f ms of ansible-core imports against ping\'s, '
             'and the remaining %+.0f ms: argument checks, credentials, the transport, and the noise of the machine and of '
             '`-X importtime` (which inflates what it times). `requests` is the collection\'s one dependency besides '
             'ansible-core; with its import and one latency per request the no-op waits for (%s here), no task can beat%s' % (
                 sum(ping['imports_ms'].values()), ping['process_s'] * 1000, first, gap, proc['imports_ms']['requests'],
                 proc['imports_ms']['ours'], extra_ansible, gap - proc['imports_ms']['requests'] - proc['imports_ms']['ours'] - extra_ansible,
                 proc['calls'] if proc.get('calls') is not None else 'unknown', ':' if latencies else ' ping by less than that.'), '']
    for latency in latencies:
        low = floor(start, int(latency))
        tasks = start['tasks_by_latency'][latency]
        if low:
            lines.append('- %s ms of latency: floor %.3f s = ping %.3f s + requests %.3f s + %d x %.3f s, %.2fx ping; %s took '
                         '%.3f s (%.2fx), %.0f ms above the floor.' % (
                             latency, low[0], tasks['ping_s'], proc['imports_ms']['requests'] / 1000.0, proc['calls'],
                             int(latency) / 1000.0, low[1], first, tasks[first]['task_s'], tasks[first]['ratio'],
                             (tasks[first]['task_s'] - low[0]) * 1000))
    lines.append('')
    return lines


def plot(doc, path):
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    names = sorted(doc['providers'])
    fig, axes = plt.subplots(2, len(names), figsize=(4.2 * len(names), 7.5), squeeze=False)
    for col, name in enumerate(names):
        runs = sorted((r for r in doc['runs'] if r['provider'] == name and r['scenario'] == 'bind'), key=lambda r: r['n'])
        xs = [r['n'] for r in runs]
        ax = axes[0][col]
        ax.plot(xs, [r['ours']['calls'] for r in runs], 'o-', label='ours')
        ax.plot(xs, [r['minimum_calls'] for r in runs], 'k--', label='minimum')
        for way, style in zip(WAYS, ('s:', '^:')):
            pts = [(r['n'], r[way]['calls']) for r in runs if way in r]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=way + ' (SDK)')
        ax.set_title('%s: bind one group' % name)
        ax.set_ylabel('API calls')
        ax = axes[1][col]
        ax.plot(xs, [r['ours']['task_s'] for r in runs], 'o-', label='ours')
        ax.plot(xs, [r['bound']['bound_s'] for r in runs], 'k--', label='bound')
        for way, style in zip(WAYS, ('s:', '^:')):
            pts = [(r['n'], r[way]['task_s']) for r in runs if way in r]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=way + ' (SDK)')
        ax.set_ylabel('wall time (s)')
        for ax in (axes[0][col], axes[1][col]):
            ax.set_xscale('log')
            ax.set_yscale('log')
            ax.set_xlabel('instances (N)')
            ax.grid(True, which='both', alpha=0.3)
            ax.legend(fontsize=7)
    fig.suptitle('multicloud.secgroup on the emulator, %d ms latency, rate limits enforced (%s)' % (doc['latency_ms'], doc['date']))
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def processes_section(part):
    """k module processes on one account, and the limiter after a burst of throttles (bench_processes.py)."""
    if not part:
        return []
    lines = ['## Many processes, one account', '',
             'k module processes start at once, each binding one group to its own %d instances of one account, against the '
             'emulator\'s enforced limits with %d ms latency (`benchmarks/bench_processes.py`, the module run directly as '
             'AnsiballZ runs it). **throttled**: share of the calls answered with a throttling error; **total s**: first request '
             'to last answer (emulator log); **calls/limit s**: the most successful calls of one rate-limited action over its '
             'limit, the time the limit sets (a full bucket lets the first second\'s calls through, so small runs come in '
             'under it); **fairness**: the slowest process\'s wall time over the fastest\'s. '
             'Target: under 5%% throttled and total within 1.3x calls/limit at k = 8.' % (part['instances'], part['latency_ms']), '',
             '**setup**: `machine`, the processes share the temporary directory (one controller); `nodes`, each has its own (job '
             'slices on separate execution nodes or containers); `nodes, rate_limit N`, the same with `rate_limit` = the write '
             'limit / k, rounded down (the recommended setting there).', '',
             '| cloud | k | setup | calls | throttled | total s | calls/limit s | total / (calls/limit) | fairness |',
             '|---|---:|---|---:|---:|---:|---:|---:|---:|']
    order = {'machine': 0, 'nodes': 1, 'nodes-divided': 2}
    for row in sorted(part['processes'], key=lambda r: (r['provider'], order.get(r.get('setup', 'machine')), r['k'])):
        setup = row.get('setup', 'machine')
        if setup == 'nodes-divided':
            setup = 'nodes, rate_limit %g' % row['rate_limit']
        lines.append('| %s | %d | %s | %d | %.1f%% | %s | %s | %s | %s |' % (
            row['provider'], row['k'], setup, row['calls'], 100 * row['throttled_share'], fmt(row['total_s']),
            fmt(row['calls_per_limit']), fmt(row['time_per_bound']), fmt(row['fairness'])))
    lines.append('')
    s = part.get('starvation')
    if s:
        lines += ['After a burst of throttles: %s, `write_api: per_instance`, N = %d, %d throttling answers injected into %s after '
                  'its first %d calls: %.1f s, %.2fx the %.0f s its limit allows; the slowest 10 s bound %.2f instances a second '
                  '(%d calls, %d throttled).' % (s['provider'], s['n'], s['throttles'], s['action'], s['after'], s['task_s'],
                                                 s['task_per_bound'], s['bound_s'], s['slowest_10s_rate'], s['calls'], s['throttled']), '']
    return lines


def render(doc, json_rel, plot_rel):
    runs = doc['runs']
    m, v = doc['machine'], doc['versions']
    lines = ['# Performance', '',
             '<!-- Generated by benchmarks/bench_report.py from %s: edit the generator, not this file. -->' % json_rel, '',
             'What a binding task costs against the emulator (`tests/emulator`) with %d ms added to every request and each '
             "cloud's rate limits enforced (the emulator's token buckets), next to the fewest calls the API allows, the time no "
             'client could beat, and two ways users do the job today with the official SDKs. Figures from %s, mode `%s`, '
             'on %d CPU(s), Python %s, ansible-core %s (load average %s at start, %s at end: %s).' % (
                 doc['latency_ms'], doc['date'], doc['mode'], m['cpu_count'], m['python'], v.get('ansible-core'),
                 '/'.join('%.1f' % x for x in m['loadavg_start']), '/'.join('%.1f' % x for x in m.get('loadavg_end', [])),
                 'a machine shared with other jobs makes the times indicative' if m['loadavg_start'][0] > 1 else 'a quiet machine'),
             '', 'Raw figures, machine and package versions: `%s`. The whole run took %.0f s.' % (json_rel, doc.get('wall_s', 0)), '']
    if doc.get('note'):
        lines += ['Note on this run: %s (%s).' % (doc['note'], ', '.join('%s %.0f s' % kv for kv in sorted(doc.get('parts_wall_s', {}).items()))), '']
    if plot_rel:
        lines += ['![calls and time against N, bind one group](%s)' % plot_rel, '']
    lines += ['## How to reproduce', '',
              '```',
              'make bench                                   # everything below, then this page and the plot',
              'make bench BENCH_QUICK=1                     # N = 1, 10 (a few minutes)',
              'make bench BENCH_PROVIDERS=baiducloud BENCH_SIZES=1,100 LATENCY_MS=50',
              'make bench-smoke                             # what `make test` runs: Tencent, N = 1, no plot, no page',
              'python benchmarks/bench_processes.py --nodes 8 --starvation [--collection OTHER_CHECKOUT]   # k processes only',
              '```', '',
              '`benchmarks/bench.py` writes `benchmarks/results/<date>.json`; `benchmarks/bench_report.py` (in `.venv-bench`, '
              'which only holds matplotlib from `benchmarks/requirements.txt`) writes this page and `docs/performance.png`. '
              'Knobs (make variables or environment): `BENCH_PROVIDERS`, `BENCH_SIZES`, `BENCH_TENCENT_EXTRA` (sizes run on Tencent '
              'only, default 10000), `BENCH_BASELINE_SIZES` (baselines in every scenario, default 1,10,100), '
              '`BENCH_BASELINE_BIND_SIZES` (baselines for bind only, default 1000), `BENCH_MEMORY_SIZES`, `LATENCY_MS`.', '',
              '## What is measured', '',
              '- **Scenarios**, each on a freshly seeded emulator: *no-op* (bind a group every instance already has), *bind* one '
              'group, *unbind* it, *purge* from one group to a new list of two. Every run\'s end state is checked.',
              '- **Calls** per action and **throttled** answers: from the emulator\'s request log (throttled answers count as calls).',
              '- **ours s**: the module task\'s own wall time, timed by the `bench_timer` callback (`benchmarks/callback_plugins`, '
              'like `profile_tasks`). The same playbook first runs `ansible.builtin.ping`: its time is the **start-up** used in the bound.',
              '- **seq**: a careful sequential script with the official SDK: read each instance, write only what differs, one call '
              'at a time. **tf**: the Terraform providers\' pattern with the official SDK: one resource per instance-group pair (one '
              'per instance where the provider manages the whole list, for purge on clouds with a replace call), created as a write '
              'then a read, refreshed as a read, %d at a time (Terraform\'s default parallelism). Both retry throttling with backoff. '
              'Ratios **seq/ours** and **tf/ours** are how many times faster the module is (above 1: faster). The baselines run '
              'in the bench process (no Ansible start-up), at N <= 100 for every scenario and at N = 1000 for bind only (never '
              'at 10000), to keep `make bench` bounded on 2 cores.' % doc['terraform_parallelism'],
              '- **Minimum** and **bound** per cloud, computed by the harness from the page and batch sizes, bounds and completion '
              'the provider module declares (`plugins/module_utils/_<provider>.py`) and the emulator\'s limits and settings: change '
              'a batch size there and the minimum changes here. The minimum is that of the module\'s contract: the reads and writes '
              'the batch sizes allow, plus a check that added groups exist before anything is written (C), plus the read-back '
              'showing the end state (V; on a `task` or `eventual` cloud also the reads that still show the old state). The SDK '
              'baselines skip C and V, so at small N they can make fewer calls than this minimum. Which batch calls each cloud '
              'offers, and which the modules use, is in [batch_calls.md](batch_calls.md).', '',
              '## Formulas', '']
    for name in sorted(doc['providers']):
        lines += formulas(name, doc['providers'][name], doc['latency_ms']) + ['']
    lines += ['The bound adds the phases because each must wait for the one before (read, then write, then verify); within '
              'a phase, actions have their own buckets, so only the slowest counts. Beyond the initial burst a bucket '
              'refills at its limit, hence (calls - burst) / limit.', '',
              'Checked by hand, one case per cloud (the generator compares each with the harness\'s figures):', '']
    lines += hand_checks(doc) + ['', '## Results', '']
    for name in sorted(doc['providers']):
        lines += ['### %s' % name, ''] + table(runs, name) + ['', 'Baseline calls:', ''] + baseline_calls(runs, name) + ['']
    over = doc.get('overhead')
    if over:
        lines += ['## Per-task overhead', '',
                  'One playbook: a warm-up ping, then %d rounds of `ansible.builtin.ping` and a no-op of each binding module on '
                  'one instance (%d ms latency: the no-op is one read), each task timed by `bench_timer`; medians.' % (over['repeats'], over['latency_ms']), '',
                  '| task | median s | / ping |', '|---|---:|---:|', '| ansible.builtin.ping | %s | 1.00 |' % fmt(over['ping_s'], 3)]
        for name in sorted(doc['providers']):
            lines.append('| %s no-op | %s | %s |' % (name, fmt(over[name + '_s'], 3), fmt(over[name + '_ratio'])))
        lines.append('')
    if doc.get('startup'):
        lines += startup_section(doc)
    if doc.get('memory'):
        lines += ['## Peak memory of the module process', '',
                  'The module run directly (`python -m ansible_collections.multicloud.secgroup.plugins.modules.<module> args.json`, '
                  'without AnsiballZ), binding one group to N instances with latency and limits off; the figure is `VmHWM` of '
                  '`/proc/self/status` read at exit (`ru_maxrss` of the child would include the forking parent\'s pages).', '',
                  '| provider | N | peak RSS MiB |', '|---|---:|---:|']
        for entry in doc['memory']:
            lines.append('| %s | %d | %.1f |' % (entry['provider'], entry['n'], entry['peak_rss_bytes'] / 1048576.0))
        lines.append('')
    lines += engine_cpu(doc)
    miss = misses(doc)
    lines += ['## Targets', '',
              'Targets (issues 14 and 26): calls = minimum in every scenario; throttled answers under %d%%; time within %.1fx the bound at '
              'N = 100 and 1000 (and 10000 on Tencent); at N = 100 at least %dx faster than the sequential SDK loop, and faster than the Terraform pattern; '
              'a no-op task within %.1fx `ansible.builtin.ping`. Missed in this run (each with the figures that say why):' % (
                  TARGET_THROTTLED * 100, TARGET_BOUND, TARGET_SEQ, TARGET_TASK), '']
    lines += miss or ['- none']
    lines += ['', '## Where the time and the calls go', '',
              'Mechanisms behind the misses above, from the code (the tables say how much each costs in this run):', '',
              '- **Reading a time miss.** Each lists the bound\'s parts and the measured split of the task (the emulator\'s '
              'request log): requests beyond the bound\'s latency chain and rate are the client\'s pacing and waits between '
              'dependent requests; the time outside any request beyond the ping\'s start-up is the module\'s own start-up '
              '(imports), planning and CPU. Where the requests take about the bound\'s chain and rate, what is left is start-up.',
              '- **Start-up.** A task pays Ansible\'s module start-up (AnsiballZ payload, a new Python, imports of the engine '
              'and the provider) before its first request; `ansible.builtin.ping` pays the first part only. The SDK baselines '
              'run inside the bench process and pay neither, so at N = 1 and 10 they win by construction; the per-task '
              'overhead table isolates that cost.',
              '- **Read-back on a sync cloud.** Where a write is done when answered (completion `sync`, Baidu), the engine still '
              'reads the instances back, so that `after` is what the cloud shows (someone else\'s change included), not what the '
              'module assumes. The minimum counts it; with batch reads it is one call per 100 instances.',
              '- **Tencent\'s settle poll.** After writes, `_tencentcloud.settle` reads at once, again at once (the first '
              'read\'s round trip is the pause: `SETTLE_FIRST` 0), then after 0.5 s doubling; the emulator answers one read with '
              'OPERATING, then SUCCESS, so the module makes the bound\'s two verify reads with no pause between them. A task '
              'slower than a round trip costs one read per page more than a first pause of 0.5 s would.',
              '- **Settling between steps.** On an eventual cloud a target\'s next step waits until a read shows its previous '
              'one (a purge that must bind before it unbinds, Zenlayer): the engine reads the waiting targets a tenth of them at '
              'a time (at least 10, at most a page of 100), or fewer when nothing else is in flight, while the writes to the '
              'others go on. The minimum counts one read per page of targets at each step boundary (S); a tenth at a time costs '
              'up to ten per boundary, the price of starting the next steps after a tenth of the targets instead of all of '
              'them (before issue 26\'s last change, a tenth of 10 targets was one: 54 calls for a Zenlayer purge of 10 '
              'where 35 do).',
              '- **The schedule.** The engine sends each target\'s next step as soon as its previous one is answered (and, on an '
              'eventual cloud, shown), not wave after wave (`_planner.Schedule`): the binds and the unbinds of a purge (separate '
              'buckets) overlap as the bound assumes. Each target still moves one planned step at a time, so the floor and '
              'ceiling of groups hold at every instant (property-tested for any completion order). A target\'s later step goes '
              'before other targets\' first ones, and the workers (`max_concurrency`) serve the bind and the unbind calls as '
              'lanes of their own (`_transport.Stream`), so workers waiting on one rate limit never leave the other bucket idle.',
              '- **Workers.** The limiter lets a second\'s calls start at once; `max_concurrency` (16 since issue 26, 8 before) '
              'is how many run at once, so a burst of up to 16 (Tencent\'s 10 pages of 1000 instances, 10 binds, each verify '
              'read; Baidu\'s 10 batch binds of 100 instances) is one round trip, not two.',
              '- **Limits that bind.** Where a cloud writes one instance per call (Alibaba, Zenlayer, Baidu without a batch path), '
              'N writes need N / limit seconds whoever sends them: the module, the Terraform pattern and the bound meet there, '
              'so beating the Terraform pattern by 2x takes fewer calls (a batch API), not faster ones.',
              '- **Throttled answers.** Where a cloud publishes no limit the module starts at its documented default and does not '
              'climb above it unless `rate_limit` says so (`_transport.RateLimiter`). A throttling answer cuts the rate to 0.7x '
              'for every worker of the run at once, once per congestion (answers to requests reserved before the cut are the same '
              'congestion), and the rate climbs back in a straight line to the top within 5 s (`RECOVERY_S`); a `Retry-After` '
              'pauses every worker of the action. The bench above injects a burst of throttles and measures the recovery.',
              '- **Pacing.** The limiter keeps a sliding window per action: at most `rate` calls start in any second (one second '
              'plus 20 ms for network jitter), so the first second\'s calls go at once and no server semantics (token bucket, '
              'a fixed window aligned anywhere, a sliding window) sees more than its limit. Rates below 1/s space calls 1 / rate '
              'apart; a fractional rate counts as its whole part. The price against the emulator\'s token buckets, which the '
              'bound assumes: beyond the first second, a bucket lets a call through every 1 / limit seconds, the window a '
              'whole second\'s calls every 1.02 s, so k calls end up to one window later than the bucket allows (Tencent, '
              'N = 10000: 100 reads at 40/s start by 2.04 s where the bucket allows 1.5 s, and each phase pays it).',
              '- **Processes on one machine share the window.** Every module process using the same access key ID and region or '
              'endpoint keeps the window, the cuts and the pauses in one flock-locked file under the temporary directory '
              '(`multicloud.secgroup-limits-<uid>/<sha256>.json`: no key in it, stale entries expire, a crashed process leaves '
              'no lock): the forks of a play and playbooks run at once on one machine together keep the account\'s limit. '
              'Processes on other machines or in other containers (AWX job slices) do not see each other: give each '
              '`rate_limit` = the account\'s limit / their number, rounded down (docs/awx.md; the `nodes` rows above).',
              '- **Module start-up.** A no-op task pays for importing `requests`, compiling the engine and its provider from '
              'the AnsiballZ zip, and its reads (one latency each) on top of what `ansible.builtin.ping` pays; the generic '
              'modules compile only the chosen provider. The *Task start-up* section measures each part and the floor; '
              'below it the 1.3x target would need a transport without `requests`, which the collection\'s dependency rule '
              '(ansible-core and requests) chose. Between the floor and the task: compiling our code from the zip (the '
              'Tencent module imports about 300 KB of source: 28 ms of `compile()` alone, measured 2026-12-07) and the '
              'engine\'s own work before and after its request. The controller is not where it goes: ANSIBLE_DEBUG '
              'timestamps put the worker\'s part before the module runs at 31-50 ms per task for ours and 30-38 ms for '
              'ping, a few ms after it for both. Each run in the tables above is one playbook, so its task is the module\'s '
              'first there and also pays building the AnsiballZ payload (once per playbook run and module: about 150-160 ms '
              'for ours, 120-140 ms for ping, whose build is in the start-up the bound uses).', '']
    lines += processes_section(doc.get('processes'))
    lines += ['## Measured elsewhere', '',
              'Two costs have harnesses of their own, whose figures are kept with the guides they size:', '',
              '- **Inventory** (`benchmarks/bench_inventory.py`): `ansible-inventory --list` on 10,000 instances per cloud, '
              'calls checked equal to the pages each API needs, wall time and peak memory: '
              '[inventory_to_roles.md](guides/inventory_to_roles.md). Provider listing hooks alone: `benchmarks/bench_list_hooks.py`.',
              '- **Quarantine** (`benchmarks/bench_quarantine.py`): the calls of isolating and restoring 100 instances per cloud '
              'with each record store: [quarantine.md](guides/quarantine.md).', '']
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('json')
    parser.add_argument('--doc', default=os.path.join(ROOT, 'docs', 'performance.md'))
    parser.add_argument('--plot', default=os.path.join(ROOT, 'docs', 'performance.png'))
    parser.add_argument('--no-plot', action='store_true')
    opts = parser.parse_args()
    with open(opts.json) as handle:
        doc = json.load(handle)
    doc_dir = os.path.dirname(os.path.abspath(opts.doc))
    plot_rel = None
    if not opts.no_plot:
        plot(doc, opts.plot)
        plot_rel = os.path.relpath(os.path.abspath(opts.plot), doc_dir)
    json_rel = os.path.relpath(os.path.abspath(opts.json), ROOT)
    with open(opts.doc, 'w') as handle:
        handle.write(render(doc, json_rel, plot_rel))
    print('wrote %s%s' % (opts.doc, '' if opts.no_plot else ' and ' + opts.plot))


if __name__ == '__main__':
    main()
