# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sg_quarantine role's API calls per cloud: isolate then restore N instances, with each record store.

    python benchmarks/bench_quarantine.py [--instances 100] [--stores file,tags] [--clouds ...] [--interfaces 0]

For each cloud and store: seed N instances with two groups each (and, with --interfaces K, K secondary network
interfaces per instance on the clouds whose emulator seeds them, each with its own group), isolate them all in one
run of the role, then restore them all in a second run with an empty home directory (the tags store reads its records
from the instances only), counting the emulator's request log (GET /requests) of each run per action.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import playbook_runner as pr  # noqa: E402  pylint: disable=wrong-import-position
from emulator import start  # noqa: E402  pylint: disable=wrong-import-position
from bench import admin  # noqa: E402  pylint: disable=wrong-import-position

KEYS = {'tencentcloud': ('AKIDbenchquar001', 'TENCENTCLOUD_SECRET_ID', 'TENCENTCLOUD_SECRET_KEY'),
        'alicloud': ('LTAI5tbenchquar1', 'ALICLOUD_ACCESS_KEY', 'ALICLOUD_SECRET_KEY'),
        'baiducloud': ('benchquar0000001', 'BAIDUCLOUD_ACCESS_KEY', 'BAIDUCLOUD_SECRET_KEY'),
        'zenlayer': ('AKID-ZL-BENCHQUA', 'ZENLAYERCLOUD_ACCESS_KEY_ID', 'ZENLAYERCLOUD_ACCESS_KEY_PASSWORD')}
SECRET = 'bench-quarantine-secret'
# Secondary interfaces the emulator seeds with an instance_id, per cloud: (ID format, extra fields).
NICS = {'tencentcloud': ('eni-%08d', {'region': 'ap-guangzhou'}),
        'alicloud': ('eni-%08d', {'type': 'Secondary'}),
        'baiducloud': ('eni-%08d', {})}

PLAY = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Quarantine through the role
      ansible.builtin.include_role:
        name: multicloud.secgroup.sg_quarantine
      vars:
        sg_quarantine_action: "{{ action }}"
        sg_quarantine_targets: "{{ targets }}"
        sg_quarantine_group_ids: "{{ quarantine }}"
        sg_quarantine_record_store: "{{ store }}"
        sg_quarantine_options: "{{ options }}"
'''


def seed(name, n, interfaces):
    doc = pr.seed(name, KEYS[name][0], SECRET, instances=n, groups=4, bound=2)
    if interfaces and name in NICS:
        pattern, extra = NICS[name]
        doc['network_interfaces'] = [dict(extra, id=pattern % (i * interfaces + k), instance_id=pr.PROVIDERS[name]['instance'] % i,
                                          security_groups=[pr.PROVIDERS[name]['group'] % 3])
                                     for i in range(1, n + 1) for k in range(interfaces)]
        if name == 'alicloud':
            for nic in doc['network_interfaces']:
                nic['vpc_id'] = 'vpc-concurrent01'
    return doc


def run(name, store, action, n, running, workdir, home):
    targets = [{'provider': name, 'region': pr.PROVIDERS[name]['region'], 'instance_id': pr.PROVIDERS[name]['instance'] % i}
               for i in range(1, n + 1)]
    extra = {'action': action, 'targets': targets, 'store': store, 'ansible_python_interpreter': sys.executable,
             'quarantine': {name: [pr.PROVIDERS[name]['group'] % 4]},
             'options': {name: {'endpoint': running.endpoints[name], 'retry_delay': 0.05}}}
    with open(os.path.join(workdir, 'vars.json'), 'w') as handle:
        json.dump(extra, handle)
    env = pr.playbook_env(workdir, HOME=home)
    env[KEYS[name][1]], env[KEYS[name][2]] = KEYS[name][0], SECRET
    admin(running.endpoints['admin'] + '/requests', 'DELETE')
    started = time.time()
    proc = subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-i', 'localhost,', '-c', 'local',
                           '-e', '@' + os.path.join(workdir, 'vars.json'), os.path.join(workdir, 'play.yml')],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=workdir, check=False)
    elapsed = time.time() - started
    if proc.returncode:
        raise SystemExit(proc.stdout.decode('utf-8', 'replace')[-4000:])
    log = admin(running.endpoints['admin'] + '/requests')['requests']
    return elapsed, collections.Counter(entry['action'] for entry in log)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--instances', type=int, default=100)
    parser.add_argument('--stores', default='file,tags')
    parser.add_argument('--clouds', default=','.join(pr.PROVIDERS))
    parser.add_argument('--interfaces', type=int, default=0, help='secondary interfaces per instance')
    opts = parser.parse_args()
    for var in pr.PROXY_VARIABLES:
        os.environ.pop(var, None)
    running = start()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            with open(os.path.join(workdir, 'play.yml'), 'w') as handle:
                handle.write(PLAY)
            print('| cloud | store | instances | interfaces each | isolate calls | restore calls | isolate s | restore s '
                  '| calls per action (isolate; restore) |')
            print('|---|---|---|---|---|---|---|---|---|')
            for name in opts.clouds.split(','):
                for store in opts.stores.split(','):
                    admin(running.endpoints['admin'] + '/reset', 'POST')
                    admin(running.endpoints['admin'] + '/seed', 'POST', {name: seed(name, opts.instances, opts.interfaces)})
                    # Two controllers: the restore runs with another, empty home directory.
                    homes = [tempfile.mkdtemp(dir=workdir) for dummy in range(2)]
                    iso_s, iso = run(name, store, 'isolate', opts.instances, running, workdir, homes[0])
                    if store == 'file':
                        homes[1] = homes[0]    # the file store restores only where its records are
                    res_s, res = run(name, store, 'restore', opts.instances, running, workdir, homes[1])
                    per = '; '.join(', '.join('%s %d' % kv for kv in sorted(c.items())) for c in (iso, res))
                    print('| %s | %s | %d | %d | %d | %d | %.1f | %.1f | %s |' % (
                        name, store, opts.instances, opts.interfaces if name in NICS else 0, sum(iso.values()), sum(res.values()),
                        iso_s, res_s, per))
                    sys.stdout.flush()
    finally:
        running.stop()


if __name__ == '__main__':
    main()
