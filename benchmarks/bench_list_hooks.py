# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Calls, time and peak memory of a provider's listing hook (list_instances) on N instances.

    python benchmarks/bench_list_hooks.py [--providers tencentcloud,alicloud,baiducloud,zenlayer] [--sizes 10000] [--latency-ms 0]

The emulator runs as a process of its own (python tests/emulator), seeded through its admin API with N instances of one
region (names, tags, two VPCs, addresses); the hook runs in this process. Prints one line per provider and size: the
calls per action from the emulator's request log, the wall time of list_instances, this process's peak Python allocation
during it (tracemalloc) and peak RSS, and the emulator's peak RSS (VmHWM).
"""

import argparse
import collections
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

PROVIDERS = {
    # name: (module, class, credential params, seed of n instances)
    'tencentcloud': ('_tencentcloud', 'TencentCloud', {'secret_id': 'AKIDbench0000001', 'secret_key': 'bench-secret', 'region': 'ap-guangzhou'},
                     lambda n: {'credentials': [{'access_key': 'AKIDbench0000001', 'secret_key': 'bench-secret'}],
                                'security_groups': [{'id': 'sg-bench001', 'region': 'ap-guangzhou'}],
                                'instances': [{'id': 'ins-%08d' % i, 'region': 'ap-guangzhou', 'name': 'host-%d' % i,
                                               'vpc_id': 'vpc-bench00%d' % (i % 2), 'security_groups': ['sg-bench001'],
                                               'tags': {'role': 'web' if i % 2 else 'db'}, 'private_ips': ['10.0.%d.%d' % (i // 250, i % 250)]}
                                              for i in range(n)]}),
    'alicloud': ('_alicloud', 'AliCloud', {'access_key': 'LTAIbench00000001', 'secret_key': 'bench-secret', 'region': 'cn-hangzhou'},
                 lambda n: {'credentials': [{'access_key': 'LTAIbench00000001', 'secret_key': 'bench-secret'}],
                            'security_groups': [{'id': 'sg-bp1bench0000000001', 'region': 'cn-hangzhou', 'vpc_id': 'vpc-bp1bench000000000'}],
                            'instances': [{'id': 'i-bp1bench%011d' % i, 'region': 'cn-hangzhou', 'name': 'host-%d' % i,
                                           'vpc_id': 'vpc-bp1bench000000000', 'security_groups': ['sg-bp1bench0000000001'],
                                           'tags': {'role': 'web' if i % 2 else 'db'}, 'private_ips': ['10.0.%d.%d' % (i // 250, i % 250)]}
                                          for i in range(n)]}),
    'baiducloud': ('_baiducloud', 'BaiduCloud', {'access_key': 'akbench000000000000000000000001', 'secret_key': 'bench-secret', 'region': 'bj',
                                                 'security_token': None},
                   lambda n: {'credentials': [{'access_key': 'akbench000000000000000000000001', 'secret_key': 'bench-secret'}],
                              'security_groups': [{'id': 'g-bench0001', 'vpc_id': 'vpc-bench000'}],
                              'instances': [{'id': 'i-bench%06d' % i, 'name': 'host-%d' % i, 'vpc_id': 'vpc-bench00%d' % (i % 2),
                                             'security_groups': ['g-bench0001'], 'tags': {'role': 'web' if i % 2 else 'db'},
                                             'internal_ip': '10.0.%d.%d' % (i // 250, i % 250)} for i in range(n)]}),
    # Zenlayer: half vm instances, half zec instances (each with its Primary vNIC), n in all.
    'zenlayer': ('_zenlayer', 'ZenlayerCloud', {'access_key_id': 'AKID-ZL-BENCH', 'access_key_password': 'bench-secret'},
                 lambda n: {'credentials': [{'access_key': 'AKID-ZL-BENCH', 'secret_key': 'bench-secret'}],
                            'security_groups': [{'id': '791721259766392536'}],
                            'instances': [{'id': '80245234%010d' % i, 'name': 'host-%d' % i, 'security_groups': ['791721259766392536'],
                                           'tags': {'role': 'web' if i % 2 else 'db'}, 'private_ips': ['10.0.%d.%d' % (i // 250, i % 250)]}
                                          for i in range(n - n // 2)],
                            'zec_vpcs': [{'id': 'vpc-bench'}],
                            'zec_instances': [{'id': 'zec-%06d' % i, 'name': 'zec-%d' % i, 'tags': {'role': 'web' if i % 2 else 'db'},
                                               'private_ips': ['10.1.%d.%d' % (i // 250, i % 250)]} for i in range(n // 2)],
                            'network_interfaces': [{'id': 'nic-%06d' % i, 'vpc': 'vpc-bench', 'instance': 'zec-%06d' % i, 'type': 'Primary',
                                                    'security_group': '791721259766392536'} for i in range(n // 2)]}),
}


def collections_path():
    """A temporary tree with ansible_collections/multicloud/secgroup -> this checkout."""
    tree = tempfile.mkdtemp(prefix='bench-list-hooks-')
    os.makedirs(os.path.join(tree, 'ansible_collections', 'multicloud'))
    os.symlink(ROOT, os.path.join(tree, 'ansible_collections', 'multicloud', 'secgroup'))
    return tree


def admin(url, method, path, body=None):
    data = None if body is None else json.dumps(body).encode('utf-8')
    req = urllib.request.Request(url + path, data=data, method=method, headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=600) as resp:  # nosec - loopback only
        return json.loads(resp.read().decode('utf-8'))


def peak_rss_kb(pid):
    with open('/proc/%d/status' % pid) as status:
        for line in status:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    return None


def run(name, n, latency_ms):
    from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine  # pylint: disable=import-outside-toplevel
    module_name, class_name, creds, seed = PROVIDERS[name]
    module = __import__('ansible_collections.multicloud.secgroup.plugins.module_utils.%s' % module_name, fromlist=[class_name])
    cls = getattr(module, class_name)
    work = tempfile.mkdtemp(prefix='bench-list-hooks-emu-')
    endpoints_file = os.path.join(work, 'endpoints.json')
    env = dict((k, v) for k, v in os.environ.items() if k.lower() not in ('http_proxy', 'https_proxy', 'all_proxy'))
    emu = subprocess.Popen([sys.executable, os.path.join(ROOT, 'tests', 'emulator'), '--endpoints-file', endpoints_file],
                           stdout=subprocess.DEVNULL, env=env)
    try:
        while not os.path.exists(endpoints_file):
            time.sleep(0.1)
        endpoints = json.load(open(endpoints_file))
        admin(endpoints['admin'], 'POST', '/seed', {name: seed(n)})
        admin(endpoints['admin'], 'POST', '/settings', {'latency_ms': latency_ms})
        admin(endpoints['admin'], 'DELETE', '/requests')
        params = dict(creds, endpoint=endpoints[name], timeout=60, validate_certs=True, retries=3, retry_delay=0.05,
                      retry_max_delay=1, rate_limit=None, max_concurrency=10, wait_timeout=60)
        cloud = cls(params, engine.transport_for(cls, params, cls.secrets(params)))
        tracemalloc.start()
        start = time.monotonic()
        listed = cloud.list_instances({})
        elapsed = time.monotonic() - start
        dummy, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(listed) == n, (name, len(listed), n)
        calls = collections.Counter(e['action'] for e in admin(endpoints['admin'], 'GET', '/requests?provider=' + name)['requests'])
        return {'provider': name, 'instances': n, 'calls': dict(calls), 'total_calls': sum(calls.values()), 'seconds': round(elapsed, 2),
                'client_peak_alloc_mb': round(peak / 1e6, 1), 'client_peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
                'emulator_peak_rss_mb': round((peak_rss_kb(emu.pid) or 0) / 1024.0, 1), 'latency_ms': latency_ms}
    finally:
        emu.terminate()
        emu.wait(30)
        shutil.rmtree(work, True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--providers', default=','.join(PROVIDERS))
    parser.add_argument('--sizes', default='10000')
    parser.add_argument('--latency-ms', type=int, default=0, help='added by the emulator to every request')
    args = parser.parse_args()
    sys.path.insert(0, collections_path())
    for name in args.providers.split(','):
        for n in (int(s) for s in args.sizes.split(',')):
            sys.stdout.write(json.dumps(run(name, n, args.latency_ms), sort_keys=True) + '\n')
            sys.stdout.flush()


if __name__ == '__main__':
    main()
