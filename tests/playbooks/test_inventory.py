# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 24's "done when", as a user runs it against the emulator (`make pytest`): `ansible-inventory -i
tests/demo/demo.instances.yml --graph` shows hosts of all four clouds grouped by security group, and a play on an
inventory group using the sg_bindings role binds them with no host variable written by hand. Also: the listing's
calls, a failing region (a warning, or an error with strict), the cache (used, and never holding a credential), and
no secret in any output at -vvvv.

Outputs are kept in tests/output/playbooks/ for `make secrets-scan`.
"""

import json
import os
import re
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

import playbook_runner as pr  # noqa: E402  pylint: disable=wrong-import-position
from emulator import start  # noqa: E402  pylint: disable=wrong-import-position

DEMO = os.path.join(ROOT, 'tests', 'demo')
with open(os.path.join(DEMO, 'seed.yml')) as _handle:
    SEED = yaml.safe_load(_handle)
# The demo's made-up credentials, as the seed defines them: none may show in an output or a cache file.
SECRETS = [c['secret_key'] for section in SEED.values() for c in section['credentials']]
KEY_IDS = [c['access_key'] for section in SEED.values() for c in section['credentials']]
BINARIES = os.path.dirname(sys.executable)
SSH = {'tencentcloud': 'sg-ssh00001', 'alicloud': 'sg-alissh0001', 'baiducloud': 'g-bdssh0001', 'zenlayer': '700000000000000102'}


@pytest.fixture(scope='module')
def emulator():
    for var in pr.PROXY_VARIABLES:
        os.environ.pop(var, None)
    running = start()
    yield running
    running.stop()


@pytest.fixture
def seeded(emulator, tmp_path):
    emulator.emulator.reset()
    emulator.emulator.seed(SEED)
    endpoints = tmp_path / 'endpoints.json'
    endpoints.write_text(json.dumps(emulator.endpoints))
    emulator.endpoints_file = str(endpoints)
    return emulator


def environment(running, tmp_path, **extra):
    return pr.playbook_env(tmp_path, DEMO_ENDPOINTS_FILE=running.endpoints_file, **extra)


def run(label, cmd, running, tmp_path, check=True, **extra):
    proc = pr.subprocess.run(cmd, env=environment(running, tmp_path, **extra), cwd=str(tmp_path), capture_output=True, text=True,
                             timeout=600, check=False)
    pr.keep(label, proc.stdout, proc.stderr)
    output = proc.stdout + proc.stderr
    for secret in SECRETS:
        assert secret not in output, label
    if check:
        assert proc.returncode == 0, output
    return proc


def inventory_cmd(path, *args):
    return [os.path.join(BINARIES, 'ansible-inventory'), '-i', str(path)] + list(args)


def plain(value):
    """ansible-inventory's JSON without its markers of untrusted text (ansible-core 2.19 writes each string a plugin
    set as {"__ansible_unsafe": ...}, so that its output read back as an inventory is never templated)."""
    if isinstance(value, dict):
        if set(value) == {'__ansible_unsafe'}:
            return value['__ansible_unsafe']
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def graph(text):
    """{group: [hosts]} from ansible-inventory --graph (direct members only)."""
    groups, current = {}, None
    for line in text.splitlines():
        name = re.sub(r'^[\s|-]*', '', line).strip()
        if name.startswith('@'):
            current = groups.setdefault(name[1:].rstrip(':'), [])
        elif name and current is not None:
            current.append(name)
    return groups


def demo_copy(tmp_path, change=None, name='fleet.instances.yml'):
    """The demo inventory, changed by `change(config)`, written to tmp_path."""
    with open(os.path.join(DEMO, 'demo.instances.yml')) as handle:
        config = yaml.safe_load(handle)
    if change:
        change(config)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return path


def test_the_graph_shows_hosts_of_all_four_clouds_grouped_by_security_group(seeded, tmp_path):
    proc = run('inventory-graph', inventory_cmd(os.path.join(DEMO, 'demo.instances.yml'), '--graph'), seeded, tmp_path)
    groups = graph(proc.stdout)
    assert groups['sg_sg_web00001'] == ['tc-web-1', 'tc-web-2']
    assert groups['sg_sg_dbs00001'] == ['tc-db-1']
    assert groups['sg_sg_aliweb0001'] == ['ali-web-1', 'ali-db-1']
    assert groups['sg_g_bdweb0001'] == ['bd-web-1']
    assert groups['sg_700000000000000101'] == ['zl-web-1']
    assert sorted(groups['role_web']) == ['ali-web-1', 'bd-web-1', 'tc-web-1', 'tc-web-2', 'zl-web-1']
    assert '[WARNING]' not in proc.stderr, proc.stderr


def test_the_hosts_have_the_variables_the_roles_read(seeded, tmp_path):
    proc = run('inventory-list', inventory_cmd(os.path.join(DEMO, 'demo.instances.yml'), '--list'), seeded, tmp_path)
    hostvars = plain(json.loads(proc.stdout))['_meta']['hostvars']
    assert dict((k, hostvars['tc-web-1'][k]) for k in ('cloud', 'cloud_region', 'instance_id', 'security_group_ids', 'tags', 'status')) == {
        'cloud': 'tencentcloud', 'cloud_region': 'ap-guangzhou', 'instance_id': 'ins-app00001', 'security_group_ids': ['sg-web00001'],
        'tags': {'role': 'web'}, 'status': 'RUNNING'}
    assert hostvars['ali-web-1']['cloud_region'] == 'cn-hangzhou' and hostvars['ali-web-1']['vpc_id'] == 'vpc-demo00001'
    assert hostvars['bd-web-1']['instance_id'] == 'i-bdweb0001'
    assert hostvars['zl-web-1']['cloud'] == 'zenlayer' and 'cloud_region' not in hostvars['zl-web-1']
    # The wanted groups come from the demo's group_vars, one file per cloud; never from the plugin.
    assert dict((host, v['sg_bindings_wanted_group_ids']) for host, v in hostvars.items()) == dict(
        (host, [SSH[v['cloud']]]) for host, v in hostvars.items())


def test_a_play_on_an_inventory_group_binds_them_with_no_host_variable_written_by_hand(seeded, tmp_path):
    cmd = [os.path.join(BINARIES, 'ansible-playbook'), '-i', os.path.join(DEMO, 'demo.instances.yml'),
           os.path.join(DEMO, 'inventory_play.yml')]
    proc = run('inventory-play', cmd, seeded, tmp_path)
    state = seeded.emulator.state()
    for cloud, section in SEED.items():
        for instance in section['instances']:
            groups = next(i['security_groups'] for i in state[cloud]['instances'] if i['id'] == instance['id'])
            if instance['tags']['role'] == 'web':
                assert groups == instance['security_groups'] + [SSH[cloud]], (cloud, instance['id'], groups)
            else:
                assert groups == instance['security_groups'], (cloud, instance['id'], groups)
    assert 'failed=0' in proc.stdout
    # The play's last tasks ask sg_binding_info for the instances tagged role=web on each cloud (filters).
    summary = [line.strip() for line in proc.stdout.splitlines() if line.strip().startswith('"msg": "')]
    assert summary == ['"msg": "tencentcloud: tc-web-1 [\'sg-web00001\', \'sg-ssh00001\']; tc-web-2 [\'sg-web00001\', \'sg-ssh00001\']"',
                       '"msg": "alicloud: ali-web-1 [\'sg-aliweb0001\', \'sg-alissh0001\']"',
                       '"msg": "baiducloud: bd-web-1 [\'g-bdweb0001\', \'g-bdssh0001\']"',
                       '"msg": "zenlayer: zl-web-1 [\'700000000000000101\', \'700000000000000102\']"'], proc.stdout
    # Run again: nothing to change.
    again = run('inventory-play-again', cmd, seeded, tmp_path)
    assert 'changed=0' in again.stdout.split('PLAY RECAP')[1]


def test_a_failing_region_is_a_warning_and_the_others_are_listed(seeded, tmp_path):
    def wrong_secret(config):
        config['providers'][2]['secret_key'] = 'not-the-secret-' + SECRETS[0][:4]
    path = demo_copy(tmp_path, wrong_secret)
    proc = run('inventory-failing-region', inventory_cmd(path, '--graph', '-vvvv'), seeded, tmp_path)
    groups = graph(proc.stdout)
    assert 'bd-web-1' not in proc.stdout and 'tc-web-1' in groups['sg_sg_web00001'] and 'zl-web-1' in groups['role_web']
    err = ' '.join(proc.stderr.split())
    assert 'providers[2] (provider baiducloud region bj): Baidu AI Cloud' in err and '(request ID' in err
    assert 'its hosts are left out' in err
    for key_id in KEY_IDS:
        assert 'Credential=%s' % key_id not in proc.stdout + proc.stderr


def test_strict_makes_a_failing_region_fail_the_inventory(seeded, tmp_path):
    def strict_and_wrong(config):
        config['providers'][3]['access_key_password'] = 'wrong-password'
        config['strict'] = True
    path = demo_copy(tmp_path, strict_and_wrong)
    proc = run('inventory-strict', inventory_cmd(path, '--list'), seeded, tmp_path, check=False,
               ANSIBLE_INVENTORY_UNPARSED_FAILED='True')
    assert proc.returncode != 0
    assert 'providers[3] (provider zenlayer): Zenlayer Cloud' in ' '.join(proc.stderr.split())


def test_the_cache_is_used_and_holds_no_credential(seeded, tmp_path):
    cache = tmp_path / 'cache'

    def cached(config):
        config.update(cache=True, cache_plugin='ansible.builtin.jsonfile', cache_connection=str(cache), cache_timeout=600)
    path = demo_copy(tmp_path, cached)
    first = run('inventory-cache-1', inventory_cmd(path, '--list'), seeded, tmp_path)
    calls = len(seeded.emulator.requests())
    assert calls > 0
    files = list(cache.iterdir())
    assert len(files) == 1
    content = files[0].read_text()
    assert 'ins-app00001' in content
    for value in SECRETS + KEY_IDS:
        assert value not in content
    second = run('inventory-cache-2', inventory_cmd(path, '--list'), seeded, tmp_path)
    assert len(seeded.emulator.requests()) == calls, 'answered from the cache'
    assert json.loads(first.stdout) == json.loads(second.stdout)
    run('inventory-cache-flush', inventory_cmd(path, '--list', '--flush-cache'), seeded, tmp_path)
    assert len(seeded.emulator.requests()) > calls


def test_the_listing_makes_one_call_per_page(seeded, tmp_path):
    """One listing call per cloud for the demo's few instances (one page each), and nothing else; on Zenlayer one for
    its bare-metal and virtual machines and one for its Elastic Compute instances."""
    seeded.emulator.clear_requests()
    run('inventory-calls', inventory_cmd(os.path.join(DEMO, 'demo.instances.yml'), '--list'), seeded, tmp_path)
    by_cloud = {}
    for entry in seeded.emulator.requests():
        by_cloud.setdefault(entry['provider'], []).append(entry['action'])
    assert sorted(by_cloud) == sorted(SEED)
    assert by_cloud == {'tencentcloud': ['DescribeInstances'], 'alicloud': ['DescribeInstances'], 'baiducloud': ['ListInstances'],
                        'zenlayer': ['DescribeInstances', 'DescribeInstances']}


@pytest.mark.parametrize('size', [250])
def test_the_listing_calls_are_the_pages_the_api_needs(emulator, tmp_path, size):
    """The four clouds in one file, `size` instances each: exactly the listing pages each API needs (as
    benchmarks/bench_inventory.py counts them at 10,000), every instance a host."""
    sys.path.insert(0, os.path.join(ROOT, 'benchmarks'))
    import bench_inventory as bench  # pylint: disable=import-outside-toplevel
    emulator.emulator.reset()
    emulator.emulator.seed(dict((name, spec[2](size)) for name, spec in bench.PROVIDERS.items()))
    emulator.emulator.clear_requests()
    path = bench.inventory_file(str(tmp_path), list(bench.PROVIDERS), emulator.endpoints)
    proc = pr.subprocess.run(inventory_cmd(path, '--list'), env=pr.playbook_env(tmp_path), cwd=str(tmp_path), capture_output=True,
                             text=True, timeout=600, check=False)
    pr.keep('inventory-pages', proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)['_meta']['hostvars']) == 4 * size
    calls = {}
    for entry in emulator.emulator.requests():
        calls[(entry['provider'], entry['action'])] = calls.get((entry['provider'], entry['action']), 0) + 1
    pages = dict(((name, action), count) for name, spec in bench.PROVIDERS.items() for action, count in spec[3](size).items())
    assert calls == pages
