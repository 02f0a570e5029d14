# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Two ansible-playbook runs at once on overlapping instances, every provider at the same time (one inventory host
per provider, forks=4), against one emulator with latency: additive binds of different groups; a bind and an unbind
of the same group; two purges to different lists. Each pair is repeated with random start offsets (seeded).

Checked, per provider:
- the final state of every instance is one that some order of the two tasks produces: the two serial outcomes are
  measured first by running the same tasks one after the other (in-process, same emulator);
- neither task fails (each goal can always be met) and each reports its own goal as reached: its `instances` after-lists
  contain what it bound, lack what it unbound, are exactly what it purged to;
- how often the two tasks' API calls really overlapped is printed (`-s`), so a run where nothing overlapped shows.

Run by `make pytest`. Outputs kept in tests/output/playbooks/ for `make secrets-scan`.
"""

import json
import os
import random
import sys
import time

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

import playbook_runner as pr  # noqa: E402  pylint: disable=wrong-import-position
from emulator import start  # noqa: E402  pylint: disable=wrong-import-position

SEED = int(os.environ.get('CONCURRENCY_SEED', '15'))
REPEATS = int(os.environ.get('CONCURRENCY_REPEATS', '3'))
LATENCY_MS = 60
MAX_OFFSET_S = 1.0
KEY_IDS = {'tencentcloud': 'AKIDconcurrent01', 'alicloud': 'LTAI5tConcurrent1', 'baiducloud': 'bdconcurrent0001',
           'zenlayer': 'AKID-ZL-CONCURRENT'}
CREDENTIALS = {'tencentcloud': {'secret_key': 'Tc-Concurrent-Secret-Never-Shown'},
               'alicloud': {'secret_key': 'Ali-Concurrent-Secret-Never-Shown'},
               'baiducloud': {'secret_key': 'Bd-Concurrent-Secret-Never-Shown'},
               'zenlayer': {'secret_key': 'Zl-Concurrent-Password-Never-Shown'}}


def group(name, n):
    return pr.PROVIDERS[name]['group'] % n


def instance(name, n):
    return pr.PROVIDERS[name]['instance'] % n


# Scenario: (task A, task B), each (state, purge, group numbers). Zenlayer allows 2 groups per instance and 0 at least:
# its instances start with none, the others with group 1.
SCENARIOS = {
    'additive_binds': (('present', False, (2,)), ('present', False, (3,))),
    'bind_and_unbind': (('present', False, (2,)), ('absent', False, (2,))),
    'two_purges': (('present', True, (2, 3)), ('present', True, (4,))),
}
ORDER = sorted(SCENARIOS)


def instance_numbers(scenario, which):
    """Each scenario has its own 4 instances; A takes the first 3, B the last 3 (2 in common)."""
    base = 4 * ORDER.index(scenario)
    return tuple(base + n for n in ((1, 2, 3), (2, 3, 4))[which])


def bound_at_start(name):
    return 0 if name == 'zenlayer' else 1


def seed_all():
    return dict((name, pr.seed(name, KEY_IDS[name], CREDENTIALS[name]['secret_key'], instances=4 * len(SCENARIOS), groups=4,
                               bound=bound_at_start(name))) for name in pr.PROVIDERS)


def task_args(name, endpoint, scenario, which):
    state, purge, groups = SCENARIOS[scenario][which]
    spec = pr.PROVIDERS[name]
    return dict(spec['options'](KEY_IDS[name], CREDENTIALS[name]['secret_key']), provider=name, endpoint=endpoint,
                instance_ids=[instance(name, n) for n in instance_numbers(scenario, which)],
                security_group_ids=[group(name, n) for n in groups], state=state, purge=purge, retry_delay=0.05, retry_max_delay=0.5)


@pytest.fixture(scope='module')
def emulator(tmp_path_factory):
    for var in pr.PROXY_VARIABLES:
        os.environ.pop(var, None)
    tree = pr.collections_tree(tmp_path_factory.mktemp('collections'))
    if tree not in sys.path:
        sys.path.insert(0, tree)
    running = start(seed_all())
    yield running
    running.stop()


def groups_now(running):
    return dict((name, dict((i['id'], i['security_groups']) for i in running.emulator.state()[name]['instances']))
                for name in pr.PROVIDERS)


@pytest.fixture(scope='module')
def serial(emulator):
    """{provider: {instance: [groups after A then B, groups after B then A]}}, measured by running the tasks one after
    the other, in-process, without latency (the scenarios' instances are disjoint, so all A's then all B's is A then B
    on every instance)."""
    outcomes = {}
    emulator.emulator.update_settings({'latency_ms': 0})
    for order in ((0, 1), (1, 0)):
        emulator.emulator.reset()
        emulator.emulator.seed(seed_all())
        for which in order:
            for scenario in ORDER:
                for name in sorted(pr.PROVIDERS):
                    result = serial_run(task_args(name, emulator.endpoints[name], scenario, which))
                    assert not result.get('failed'), (scenario, name, result.get('msg'))
        for name, instances in groups_now(emulator).items():
            for iid, groups in instances.items():
                outcomes.setdefault(name, {}).setdefault(iid, []).append(groups)
    return outcomes


def serial_run(args):
    """One in-process module run, its JSON read from a redirected stdout."""
    import io  # pylint: disable=import-outside-toplevel
    from contextlib import redirect_stdout  # pylint: disable=import-outside-toplevel
    from ansible.module_utils.testing import patch_module_args  # pylint: disable=import-outside-toplevel
    from ansible_collections.multicloud.secgroup.plugins.modules import sg_binding  # pylint: disable=import-outside-toplevel
    out = io.StringIO()
    with redirect_stdout(out), patch_module_args(dict(args, _ansible_check_mode=False, _ansible_diff=False)):
        try:
            sg_binding.main()
        except SystemExit:
            pass
    return json.loads(out.getvalue())


PLAYBOOK = [{
    'name': 'One task per provider and scenario, all at once',
    'hosts': 'all',
    'gather_facts': False,
    'tasks': [
        {'name': 'Start', 'ansible.builtin.set_fact': {'started': '{{ now().timestamp() }}'}},
        {'name': 'The task', 'register': 'result', 'ignore_errors': True, 'multicloud.secgroup.sg_binding': dict(
            (option, '{{ task.%s | default(omit) }}' % option)
            for option in ('provider', 'endpoint', 'instance_ids', 'security_group_ids', 'state', 'purge', 'retry_delay',
                           'retry_max_delay', 'secret_id', 'secret_key', 'access_key', 'access_key_id', 'access_key_password',
                           'region'))},
        {'name': 'Keep the result', 'ansible.builtin.copy': {
            'dest': '{{ out_dir }}/{{ inventory_hostname }}.json',
            'content': "{{ {'started': started | float, 'ended': now().timestamp(), 'result': result} | to_json }}"}},
    ],
}]


def host(scenario, name):
    return '%s-%s' % (scenario, name)


def write_run(base, label, running, which):
    """The inventory (one host per scenario and provider, its task in host vars) and output dir of run A (0) or B (1)."""
    out_dir = base / label
    out_dir.mkdir()
    hosts = {}
    for scenario in ORDER:
        for name in pr.PROVIDERS:
            hosts[host(scenario, name)] = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
                                           'task': task_args(name, running.endpoints[name], scenario, which), 'out_dir': str(out_dir)}
    inventory = base / (label + '.yml')
    inventory.write_text(yaml.safe_dump({'all': {'hosts': hosts}}))
    return inventory, out_dir


def goal_met(name, task, after):
    state, purge, numbers = task
    if purge:
        return sorted(after) == sorted(group(name, n) for n in numbers)
    return all((group(name, n) in after) == (state == 'present') for n in numbers)


def overlapped(a, b):
    return a['started'] < b['ended'] and b['started'] < a['ended']


FIGURES = {}


@pytest.mark.parametrize('repeat', range(REPEATS))
def test_two_playbooks_at_once(emulator, serial, tmp_path, repeat):
    rand = random.Random('%s-%s' % (SEED, repeat))
    playbook = tmp_path / 'concurrent.yml'
    playbook.write_text(json.dumps(PLAYBOOK, indent=1))
    env = pr.playbook_env(tmp_path, ANSIBLE_FORKS=str(len(SCENARIOS) * len(pr.PROVIDERS)))
    emulator.emulator.reset()
    emulator.emulator.seed(seed_all())
    emulator.emulator.update_settings({'latency_ms': LATENCY_MS})
    runs = [write_run(tmp_path, 'AB'[which], emulator, which) for which in (0, 1)]
    offset = rand.uniform(0, MAX_OFFSET_S)
    first = rand.randrange(2)          # which of the two starts first
    procs = {first: pr.popen(playbook, tmp_path, inventory=runs[first][0], env=env)}
    time.sleep(offset)
    procs[1 - first] = pr.popen(playbook, tmp_path, inventory=runs[1 - first][0], env=env)
    outputs = {}
    for which, proc in sorted(procs.items()):
        stdout, stderr = proc.communicate(timeout=300)
        pr.keep('concurrency-%d-%s' % (repeat, 'AB'[which]), stdout, stderr)
        assert proc.returncode == 0, stdout[-3000:] + stderr[-3000:]
        outputs[which] = dict((h, json.loads((runs[which][1] / (h + '.json')).read_text())) for h in
                              [host(s, n) for s in ORDER for n in pr.PROVIDERS])
    final = groups_now(emulator)
    for scenario in ORDER:
        figures = FIGURES.setdefault(scenario, {'pairs': 0, 'overlapping': 0, 'orders seen': set()})
        for name in sorted(pr.PROVIDERS):
            where = '%s, repeat %d (%s started %.2f s after %s), %s' % (scenario, repeat, 'AB'[1 - first], offset, 'AB'[first], name)
            for which in (0, 1):
                result = outputs[which][host(scenario, name)]['result']
                # Neither goal is ever out of reach, so neither task may fail on the other's change.
                assert not result.get('failed'), (where, 'AB'[which], result.get('msg'))
                seen = dict((item['instance_id'], item['after']) for item in result['instances'])
                assert sorted(seen) == sorted(instance(name, n) for n in instance_numbers(scenario, which)), where
                for iid, after in seen.items():
                    assert goal_met(name, SCENARIOS[scenario][which], after), (where, 'AB'[which], iid, after)
            figures['pairs'] += 1
            figures['overlapping'] += int(overlapped(outputs[0][host(scenario, name)], outputs[1][host(scenario, name)]))
            for n in set(instance_numbers(scenario, 0) + instance_numbers(scenario, 1)):
                iid = instance(name, n)
                assert final[name][iid] in serial[name][iid], (where, iid, final[name][iid], serial[name][iid])
                if serial[name][iid][0] != serial[name][iid][1]:
                    figures['orders seen'].add('AB' if final[name][iid] == serial[name][iid][0] else 'BA')
    print('\nconcurrency repeat %d (offset %.2f s): %s' % (repeat, offset, json.dumps(
        dict((k, dict(v, **{'orders seen': sorted(v['orders seen'])})) for k, v in FIGURES.items()), sort_keys=True)))
