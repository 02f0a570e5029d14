# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The instances inventory as an AWX inventory source "Sourced from a Project" (docs/awx.md, section 4), run the way an
inventory update runs: ansible-inventory --list --export through ansible-runner, in a private data dir whose project
holds the inventory file (no credential in it) and the collection, with the environment the collection's credential
type injects; against the emulator. Then the sg_bindings job template playbook on an inventory group of it.

Run by `make runner` (part of `make test`). Not under tests/unit: ansible-test units must not collect it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import sys

import pytest
import yaml

import ansible_runner

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emulator import start  # noqa: E402  pylint: disable=wrong-import-position
from test_runner import injected_env  # noqa: E402  pylint: disable=wrong-import-position

CREDENTIAL = {'secret_id': 'AKIDawxinvent001', 'secret_key': 'Tc-Awx-Inventory-Secret-Never-Shown', 'region': 'ap-guangzhou'}
WEB = [{'id': 'ins-awx%05d' % n, 'region': 'ap-guangzhou', 'status': 'RUNNING', 'name': 'web-%d' % n, 'tags': {'role': 'web'},
        'security_groups': ['sg-web00001']} for n in (1, 2)]
DB = [{'id': 'ins-awxdb001', 'region': 'ap-guangzhou', 'status': 'RUNNING', 'name': 'db-1', 'tags': {'role': 'db'},
       'security_groups': ['sg-web00001']}]
SEED = {'tencentcloud': {
    'credentials': [{'access_key': CREDENTIAL['secret_id'], 'secret_key': CREDENTIAL['secret_key']}],
    'security_groups': [{'id': 'sg-web00001', 'region': 'ap-guangzhou', 'name': 'web'},
                        {'id': 'sg-ssh00001', 'region': 'ap-guangzhou', 'name': 'ssh'}],
    'instances': WEB + DB,
}}


@pytest.fixture(scope='module')
def emulator():
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy', 'no_proxy', 'NO_PROXY'):
        os.environ.pop(var, None)
    running = start()
    running.emulator.seed(SEED)
    yield running
    running.stop()


def project(base, endpoint):
    """An AWX project: inventories/tencentcloud.instances.yml (regions from the credential's region variable) and the
    collection next to it; the env/ AWX writes for a credential of our Tencent Cloud type."""
    pdd = os.path.join(str(base), 'pdd')
    collections = os.path.join(pdd, 'project', 'collections', 'ansible_collections', 'multicloud')
    os.makedirs(collections)
    os.symlink(ROOT, os.path.join(collections, 'secgroup'))
    os.makedirs(os.path.join(pdd, 'project', 'inventories'))
    source = os.path.join(pdd, 'project', 'inventories', 'tencentcloud.instances.yml')
    with open(source, 'w') as handle:
        yaml.safe_dump({'plugin': 'multicloud.secgroup.instances', 'providers': [{'provider': 'tencentcloud', 'endpoint': endpoint}],
                        'keyed_groups': [{'key': 'security_group_ids', 'prefix': 'sg'},
                                         {'key': "tags.role | default('none')", 'prefix': 'role'}]}, handle)
    os.makedirs(os.path.join(pdd, 'env'))
    envvars = injected_env('tencentcloud', CREDENTIAL)
    envvars['ANSIBLE_COLLECTIONS_PATH'] = os.path.join(pdd, 'project', 'collections')
    envvars['ANSIBLE_INVENTORY_UNPARSED_FAILED'] = 'True'        # as AWX runs an inventory update
    path = os.path.join(pdd, 'env', 'envvars')
    with open(path, 'w') as handle:
        yaml.safe_dump(envvars, handle)
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return pdd, source


def test_an_inventory_update_from_the_project_with_the_credential_type(emulator, tmp_path):
    pdd, source = project(tmp_path, emulator.endpoints['tencentcloud'])
    os.environ['PATH'] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', '')
    out, err = ansible_runner.get_inventory('list', [source], response_format='json', export=True, private_data_dir=pdd, quiet=True,
                                            host_cwd=os.path.join(pdd, 'project'))
    text = json.dumps(out) + (err or '')
    assert CREDENTIAL['secret_key'] not in text
    assert sorted(out['sg_sg_web00001']['hosts']) == ['ins-awx00001', 'ins-awx00002', 'ins-awxdb001']
    assert sorted(out['role_web']['hosts']) == ['ins-awx00001', 'ins-awx00002']
    hostvars = dict((host, dict((k, v['__ansible_unsafe'] if isinstance(v, dict) and set(v) == {'__ansible_unsafe'} else v)
                                for k, v in variables.items())) for host, variables in out['_meta']['hostvars'].items())
    assert hostvars['ins-awx00001']['cloud'] == 'tencentcloud' and hostvars['ins-awx00001']['cloud_region'] == 'ap-guangzhou'
    for name, files in ((d, f) for d, dummy, f in os.walk(pdd) if 'env' not in d.split(os.sep)):
        for filename in files:
            full = os.path.join(name, filename)
            if os.path.isfile(full) and not os.path.islink(full) and filename != 'command':
                with open(full, errors='replace') as handle:
                    assert CREDENTIAL['secret_key'] not in handle.read(), full


def test_the_sg_bindings_job_template_on_an_inventory_group(emulator, tmp_path):
    """The job of the sg_bindings template on that inventory, its survey naming the group role_web: the two web
    instances get the ssh group, the database instance is left alone; no host variable written by hand."""
    pdd, source = project(tmp_path, emulator.endpoints['tencentcloud'])
    with open(os.path.join(pdd, 'project', 'job.yml'), 'w') as handle:
        handle.write('---\n- name: Job template playbook\n  ansible.builtin.import_playbook: multicloud.secgroup.sg_bindings\n')
    extravars = {'sg_bindings_target_hosts': 'role_web', 'sg_bindings_security_group_ids': 'sg-ssh00001',
                 'sg_bindings_options': {'tencentcloud': {'endpoint': emulator.endpoints['tencentcloud']}}}
    with open(os.path.join(pdd, 'env', 'extravars'), 'w') as handle:
        yaml.safe_dump(extravars, handle)
    with open(os.path.join(pdd, 'env', 'settings'), 'w') as handle:
        yaml.safe_dump({'process_isolation': False, 'suppress_ansible_output': True}, handle)
    os.environ['PATH'] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', '')
    runner = ansible_runner.run(private_data_dir=pdd, playbook='job.yml', inventory=source, quiet=True, suppress_env_files=True)
    stdout = runner.stdout.read()
    assert runner.status == 'successful' and runner.rc == 0, stdout
    assert CREDENTIAL['secret_key'] not in stdout
    groups = dict((i['id'], i['security_groups']) for i in emulator.emulator.state()['tencentcloud']['instances'])
    assert groups == {'ins-awx00001': ['sg-web00001', 'sg-ssh00001'], 'ins-awx00002': ['sg-web00001', 'sg-ssh00001'],
                      'ins-awxdb001': ['sg-web00001']}
