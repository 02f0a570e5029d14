# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sg_bindings role against a task per host: API calls and wall time for an inventory of N hosts on two clouds.

    python benchmarks/bench_roles.py [--hosts 200] [--latency-ms 0] [--forks 5]

Half the hosts are Tencent Cloud instances, half Baidu AI Cloud instances, each wanting one group. The same
bind is run once as a task per host (sg_binding delegated to localhost) and once through the role.
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

from emulator import start  # noqa: E402  pylint: disable=wrong-import-position
from bench import admin  # noqa: E402  pylint: disable=wrong-import-position

PER_HOST = '''
- hosts: fleet
  gather_facts: false
  tasks:
    - name: Bind, one task per host
      multicloud.secgroup.sg_binding:
        provider: "{{ cloud }}"
        region: "{{ cloud_region }}"
        endpoint: "{{ endpoints[cloud] }}"
        instance_ids: ["{{ instance_id }}"]
        security_group_ids: "{{ sg_bindings_wanted_group_ids }}"
      delegate_to: localhost
'''

ROLE = '''
- hosts: fleet
  gather_facts: false
  tasks:
    - name: Bind through the role
      ansible.builtin.include_role:
        name: multicloud.secgroup.sg_bindings
      run_once: true
      vars:
        sg_bindings_hosts: "{{ ansible_play_hosts }}"
        sg_bindings_options:
          tencentcloud: {endpoint: "{{ endpoints.tencentcloud }}"}
          baiducloud: {endpoint: "{{ endpoints.baiducloud }}"}
'''


def seed(n):
    half = n // 2
    return {
        'tencentcloud': {'credentials': [{'access_key': 'AKIDbenchroles01', 'secret_key': 'bench-secret'}],
                         'security_groups': [{'id': 'sg-base0001', 'region': 'ap-guangzhou'}, {'id': 'sg-web00001', 'region': 'ap-guangzhou'}],
                         'instances': [{'id': 'ins-%08d' % i, 'region': 'ap-guangzhou', 'status': 'RUNNING', 'security_groups': ['sg-base0001']}
                                       for i in range(half)]},
        'baiducloud': {'credentials': [{'access_key': 'benchroles00001', 'secret_key': 'bench-secret'}],
                       'security_groups': [{'id': 'g-base0001'}, {'id': 'g-web00001'}],
                       'instances': [{'id': 'i-%08d' % i, 'status': 'Running', 'security_groups': ['g-base0001']} for i in range(n - half)]},
    }


def inventory(n):
    half = n // 2
    hosts = {}
    for i in range(half):
        hosts['tc-%04d' % i] = {'cloud': 'tencentcloud', 'cloud_region': 'ap-guangzhou', 'instance_id': 'ins-%08d' % i,
                                'sg_bindings_wanted_group_ids': ['sg-web00001']}
    for i in range(n - half):
        hosts['bd-%04d' % i] = {'cloud': 'baiducloud', 'cloud_region': 'bj', 'instance_id': 'i-%08d' % i,
                                'sg_bindings_wanted_group_ids': ['g-web00001']}
    return {'fleet': {'vars': {'ansible_connection': 'local'}, 'hosts': hosts}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=200)
    parser.add_argument('--latency-ms', type=int, default=0)
    parser.add_argument('--forks', type=int, default=5)
    opts = parser.parse_args()
    running = start()
    env = dict(os.environ, TENCENTCLOUD_SECRET_ID='AKIDbenchroles01', TENCENTCLOUD_SECRET_KEY='bench-secret',
               BAIDUCLOUD_ACCESS_KEY='benchroles00001', BAIDUCLOUD_SECRET_KEY='bench-secret')
    try:
        with tempfile.TemporaryDirectory() as workdir:
            os.makedirs(os.path.join(workdir, 'ansible_collections', 'multicloud'))
            os.symlink(ROOT, os.path.join(workdir, 'ansible_collections', 'multicloud', 'secgroup'))
            env['ANSIBLE_COLLECTIONS_PATH'] = workdir
            with open(os.path.join(workdir, 'inventory.json'), 'w') as handle:
                json.dump(inventory(opts.hosts), handle)
            with open(os.path.join(workdir, 'vars.json'), 'w') as handle:
                json.dump({'endpoints': running.endpoints, 'ansible_python_interpreter': sys.executable}, handle)
            base = running.endpoints['admin']
            print('| way | hosts | wall s | module runs | calls | calls per action |')
            print('|---|---|---|---|---|---|')
            for label, play in (('a task per host', PER_HOST), ('sg_bindings role', ROLE)):
                admin(base + '/reset', 'POST')
                admin(base + '/seed', 'POST', seed(opts.hosts))
                admin(base + '/settings', 'POST', {'latency_ms': opts.latency_ms})
                admin(base + '/requests', 'DELETE')
                path = os.path.join(workdir, 'play.yml')
                with open(path, 'w') as handle:
                    handle.write(play)
                started = time.time()
                proc = subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-i', os.path.join(workdir, 'inventory.json'),
                                       '-f', str(opts.forks), '-e', '@' + os.path.join(workdir, 'vars.json'), path],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, check=False)
                elapsed = time.time() - started
                if proc.returncode:
                    raise SystemExit(proc.stdout.decode('utf-8', 'replace')[-3000:])
                out = proc.stdout.decode('utf-8', 'replace')
                runs = opts.hosts if label.startswith('a task') else out.count('(item=')
                log = admin(base + '/requests')['requests']
                counts = collections.Counter('%s %s' % (e['provider'], e['action']) for e in log)
                per_action = ', '.join('%s %d' % kv for kv in sorted(counts.items()))
                print('| %s | %d | %.1f | %d | %d | %s |' % (label, opts.hosts, elapsed, runs, len(log), per_action))
    finally:
        running.stop()


if __name__ == '__main__':
    main()
