# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`ansible-inventory --list` of the instances inventory on N instances per cloud, as a user runs it (issue 24).

    python benchmarks/bench_inventory.py [--sizes 10000] [--providers tencentcloud,zenlayer] [--latency-ms 0] [--json OUT]

The emulator runs as a process of its own (python tests/emulator), seeded through its admin API with N instances per
cloud in one region (names, tags, addresses). For each cloud alone, then the four together in one file, prints the
calls per action from the emulator's request log against the pages the API needs (PAGES), the wall time of
ansible-inventory, its peak RSS (the child's ru_maxrss) and the hosts it listed.
"""

import argparse
import collections
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV_BIN = os.path.dirname(sys.executable)

# name: (credential options, region or None, seed of n instances, the listing calls n instances need)
PROVIDERS = {
    'tencentcloud': ({'secret_id': 'AKIDbenchinv0001', 'secret_key': 'bench-inventory-secret'}, 'ap-guangzhou',
                     lambda n: {'credentials': [{'access_key': 'AKIDbenchinv0001', 'secret_key': 'bench-inventory-secret'}],
                                'security_groups': [{'id': 'sg-benchin1', 'region': 'ap-guangzhou'}],
                                'instances': [{'id': 'ins-%08d' % i, 'region': 'ap-guangzhou', 'name': 'tc-%d' % i, 'status': 'RUNNING',
                                               'security_groups': ['sg-benchin1'], 'tags': {'role': 'web' if i % 2 else 'db'},
                                               'private_ips': ['10.0.%d.%d' % (i // 250, i % 250)]} for i in range(n)]},
                     lambda n: {'DescribeInstances': max(1, math.ceil(n / 100.0))}),
    'alicloud': ({'access_key': 'LTAIbenchinv00001', 'secret_key': 'bench-inventory-secret'}, 'cn-hangzhou',
                 lambda n: {'credentials': [{'access_key': 'LTAIbenchinv00001', 'secret_key': 'bench-inventory-secret'}],
                            'security_groups': [{'id': 'sg-benchinv00001', 'region': 'cn-hangzhou', 'vpc_id': 'vpc-benchinv0001'}],
                            'instances': [{'id': 'i-benchinv%08d' % i, 'region': 'cn-hangzhou', 'name': 'ali-%d' % i,
                                           'vpc_id': 'vpc-benchinv0001', 'security_groups': ['sg-benchinv00001'],
                                           'tags': {'role': 'web' if i % 2 else 'db'}, 'private_ips': ['10.1.%d.%d' % (i // 250, i % 250)]}
                                          for i in range(n)]},
                 lambda n: {'DescribeInstances': max(1, math.ceil(n / 100.0))}),
    'baiducloud': ({'access_key': 'bdbenchinv000001', 'secret_key': 'bench-inventory-secret'}, 'bj',
                   lambda n: {'credentials': [{'access_key': 'bdbenchinv000001', 'secret_key': 'bench-inventory-secret'}],
                              'security_groups': [{'id': 'g-benchinv01', 'region': 'bj'}],
                              'instances': [{'id': 'i-bi%07d' % i, 'region': 'bj', 'name': 'bd-%d' % i, 'status': 'Running',
                                             'security_groups': ['g-benchinv01'], 'tags': {'role': 'web' if i % 2 else 'db'}}
                                            for i in range(n)]},
                   lambda n: {'ListInstances': max(1, math.ceil(n / 1000.0))}),
    'zenlayer': ({'access_key_id': 'AKID-ZL-BENCHINV', 'access_key_password': 'bench-inventory-secret'}, None,
                 lambda n: {'credentials': [{'access_key': 'AKID-ZL-BENCHINV', 'secret_key': 'bench-inventory-secret'}],
                            'security_groups': [{'id': '700000000000009001'}],
                            'instances': [{'id': '8%017d' % i, 'name': 'zl-%d' % i, 'status': 'RUNNING',
                                           'security_groups': ['700000000000009001'], 'tags': {'role': 'web' if i % 2 else 'db'}}
                                          for i in range(n)]},
                 # The vm service's pages, and one page of the Elastic Compute service (no zec instance seeded).
                 lambda n: {'DescribeInstances': max(1, math.ceil(n / 1000.0)) + 1}),
}


def admin(url, method, path, body=None):
    data = None if body is None else json.dumps(body).encode('utf-8')
    req = urllib.request.Request(url + path, data=data, method=method, headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=600) as resp:  # nosec - loopback only
        return json.loads(resp.read().decode('utf-8') or 'null')


def start_emulator(work):
    endpoints = os.path.join(work, 'endpoints.json')
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, 'tests', 'emulator'), '--endpoints-file', endpoints],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not os.path.exists(endpoints):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit('the emulator did not start')
        time.sleep(0.1)
    time.sleep(0.2)
    with open(endpoints) as handle:
        return proc, json.load(handle)


def inventory_file(work, names, endpoints):
    providers = []
    for name in names:
        credentials, region, dummy, dummy = PROVIDERS[name]
        entry = dict(credentials, provider=name, endpoint=endpoints[name], retry_delay=0.05)
        if region:
            entry['regions'] = [region]
        providers.append(entry)
    path = os.path.join(work, '%s.instances.yml' % '-'.join(names))
    with open(path, 'w') as handle:
        json.dump({'plugin': 'multicloud.secgroup.instances', 'providers': providers,
                   'keyed_groups': [{'key': 'security_group_ids', 'prefix': 'sg'}]}, handle)
    return path


def run_inventory(work, path):
    """(seconds, peak RSS in MB, hosts) of one ansible-inventory --list in a process of its own."""
    tree = os.path.join(work, 'collections')
    env = dict((k, v) for k, v in os.environ.items() if 'proxy' not in k.lower())
    env.update(ANSIBLE_COLLECTIONS_PATH=tree, ANSIBLE_INVENTORY_UNPARSED_FAILED='True', ANSIBLE_HOME=os.path.join(work, 'home'))
    out = os.path.join(work, 'inventory.json')
    script = ('import resource, subprocess, sys, time; t = time.monotonic(); rc = subprocess.call(sys.argv[1:]); '
              'print(rc, time.monotonic() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)')
    cmd = [sys.executable, '-c', script, os.path.join(VENV_BIN, 'ansible-inventory'), '-i', path, '--list', '--output', out]
    answer = subprocess.run(cmd, env=env, cwd=work, capture_output=True, text=True, check=True)
    rc, seconds, rss_kb = answer.stdout.split()
    if rc != '0':
        raise SystemExit('ansible-inventory failed:\n%s' % answer.stderr)
    with open(out) as handle:
        hosts = len(json.load(handle)['_meta']['hostvars'])
    return float(seconds), int(rss_kb) / 1024.0, hosts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--sizes', default='10000')
    parser.add_argument('--providers', default=','.join(PROVIDERS))
    parser.add_argument('--latency-ms', type=float, default=0.0)
    parser.add_argument('--json', help='write the results here as JSON')
    opts = parser.parse_args()
    names = opts.providers.split(',')
    work = tempfile.mkdtemp(prefix='bench-inventory-')
    os.makedirs(os.path.join(work, 'collections', 'ansible_collections', 'multicloud'))
    os.symlink(ROOT, os.path.join(work, 'collections', 'ansible_collections', 'multicloud', 'secgroup'))
    emulator, endpoints = start_emulator(work)
    results = []
    try:
        if opts.latency_ms:
            admin(endpoints['admin'], 'POST', '/settings', {'latency_ms': opts.latency_ms})
        for size in [int(s) for s in opts.sizes.split(',')]:
            admin(endpoints['admin'], 'POST', '/reset')
            admin(endpoints['admin'], 'POST', '/seed', dict((name, PROVIDERS[name][2](size)) for name in names))
            for group in [[name] for name in names] + ([names] if len(names) > 1 else []):
                admin(endpoints['admin'], 'DELETE', '/requests')
                seconds, rss, hosts = run_inventory(work, inventory_file(work, group, endpoints))
                calls = collections.Counter((e['provider'], e['action']) for e in admin(endpoints['admin'], 'GET', '/requests')['requests'])
                expected = collections.Counter(dict(((name, action), count) for name in group
                                                    for action, count in PROVIDERS[name][3](size).items()))
                row = {'providers': group, 'instances_per_cloud': size, 'hosts': hosts, 'seconds': round(seconds, 2),
                       'peak_rss_mb': round(rss, 1), 'calls': dict(('%s %s' % k, v) for k, v in sorted(calls.items())),
                       'pages': dict(('%s %s' % k, v) for k, v in sorted(expected.items())), 'calls_are_pages': calls == expected}
                results.append(row)
                print('%-45s N=%-6d hosts=%-6d %6.2f s  %6.1f MB  calls %s  pages %s  %s'
                      % ('+'.join(group), size, hosts, seconds, rss, row['calls'], row['pages'],
                         'ok' if row['calls_are_pages'] else 'MORE CALLS THAN PAGES'))
                sys.stdout.flush()
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    if opts.json:
        with open(opts.json, 'w') as handle:
            json.dump(results, handle, indent=1)
    return 0 if all(row['calls_are_pages'] for row in results) else 1


if __name__ == '__main__':
    sys.exit(main())
