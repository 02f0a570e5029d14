# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run ansible-playbook on the collection as a user would (a collections tree linking to this checkout), for the
tests that need a real playbook process: tests/secrets and tests/concurrency.

Each run's output is kept under tests/output/playbooks/ (OUTPUT_DIR), where `make secrets-scan` looks for secrets.
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT_DIR = os.path.join(ROOT, 'tests', 'output', 'playbooks')
PROXY_VARIABLES = ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy')


def collections_tree(base):
    """base/collections/ansible_collections/multicloud/secgroup -> this checkout; returns base/collections."""
    tree = os.path.join(str(base), 'collections')
    namespace = os.path.join(tree, 'ansible_collections', 'multicloud')
    if not os.path.isdir(namespace):
        os.makedirs(namespace)
        os.symlink(ROOT, os.path.join(namespace, 'secgroup'))
    return tree


def playbook_env(base, **extra):
    env = dict((k, v) for k, v in os.environ.items() if k not in PROXY_VARIABLES)
    env.update(ANSIBLE_COLLECTIONS_PATH=collections_tree(base), ANSIBLE_LOCALHOST_WARNING='False',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='False', ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0',
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_HOME=os.path.join(str(base), 'ansible-home'),
               ANSIBLE_RETRY_FILES_ENABLED='False')
    env.update(extra)
    return env


def command(playbook, inventory=None, verbosity=0, extra_vars_file=None):
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), str(playbook)]
    cmd += ['-i', str(inventory) if inventory else 'localhost,', '-c', 'local']
    if verbosity:
        cmd.append('-' + 'v' * verbosity)
    if extra_vars_file:
        cmd += ['-e', '@' + str(extra_vars_file)]
    return cmd


def keep(label, stdout, stderr):
    """Write a run's stdout and stderr to tests/output/playbooks/<label>.log (for the secret scan); return the path."""
    if not os.path.isdir(OUTPUT_DIR):
        os.makedirs(OUTPUT_DIR)
    path = os.path.join(OUTPUT_DIR, re.sub(r'[^A-Za-z0-9_.-]+', '_', label) + '.log')
    with open(path, 'w') as handle:
        handle.write('=== stdout ===\n%s\n=== stderr ===\n%s\n' % (stdout, stderr))
    return path


def run(label, playbook, base, inventory=None, verbosity=0, extra_vars_file=None, env=None, timeout=300):
    """Run to completion; returns the CompletedProcess (text), its output kept under `label`."""
    proc = subprocess.run(command(playbook, inventory, verbosity, extra_vars_file), env=env or playbook_env(base),
                          cwd=str(base), capture_output=True, text=True, timeout=timeout, check=False)
    keep(label, proc.stdout, proc.stderr)
    return proc


def popen(playbook, base, inventory=None, verbosity=0, extra_vars_file=None, env=None):
    return subprocess.Popen(command(playbook, inventory, verbosity, extra_vars_file), env=env or playbook_env(base),
                            cwd=str(base), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# Per provider: its module, ID makers, region and how credentials become module options. The tests that use this
# table give their own credential values (so the secret scan knows them by their definitions).
PROVIDERS = {
    'tencentcloud': {
        'module': 'tencentcloud_sg_binding', 'instance': 'ins-%08d', 'group': 'sg-%08d', 'region': 'ap-guangzhou',
        'instance_extra': {'region': 'ap-guangzhou', 'status': 'RUNNING'}, 'group_extra': {'region': 'ap-guangzhou'},
        'options': lambda key_id, secret: {'secret_id': key_id, 'secret_key': secret, 'region': 'ap-guangzhou'},
        'token_option': 'security_token', 'secret_option': 'secret_key',
    },
    'alicloud': {
        'module': 'alicloud_sg_binding', 'instance': 'i-%08d', 'group': 'sg-%08d', 'region': 'cn-hangzhou',
        'instance_extra': {'vpc_id': 'vpc-concurrent01'}, 'group_extra': {'vpc_id': 'vpc-concurrent01'},
        'options': lambda key_id, secret: {'access_key': key_id, 'secret_key': secret, 'region': 'cn-hangzhou'},
        'token_option': 'security_token', 'secret_option': 'secret_key',
    },
    'baiducloud': {
        'module': 'baiducloud_sg_binding', 'instance': 'i-%08d', 'group': 'g-%08d', 'region': 'bj',
        'instance_extra': {'status': 'Running'}, 'group_extra': {},
        'options': lambda key_id, secret: {'access_key': key_id, 'secret_key': secret, 'region': 'bj'},
        'token_option': 'security_token', 'secret_option': 'secret_key',
    },
    'zenlayer': {
        'module': 'zenlayer_sg_binding', 'instance': '8000000000000%05d', 'group': '7000000000000000%02d', 'region': None,
        'instance_extra': {'status': 'RUNNING'}, 'group_extra': {},
        'options': lambda key_id, secret: {'access_key_id': key_id, 'access_key_password': secret},
        'token_option': None, 'secret_option': 'access_key_password',
    },
}


def seed(name, key_id, secret, instances, groups, bound):
    """A seed for provider `name`: `groups` security groups, `instances` instances each bound to the first `bound`."""
    spec = PROVIDERS[name]
    group_ids = [spec['group'] % n for n in range(1, groups + 1)]
    return {'credentials': [{'access_key': key_id, 'secret_key': secret}],
            'security_groups': [dict(spec['group_extra'], id=g, name='group-%d' % n) for n, g in enumerate(group_ids, 1)],
            'instances': [dict(spec['instance_extra'], id=spec['instance'] % n, security_groups=group_ids[:bound])
                          for n in range(1, instances + 1)]}
