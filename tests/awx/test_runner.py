# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The job-template playbook run the way AWX runs a job: an ansible-runner private data dir with the project, an
inventory, the survey's extra vars and the environment our credential types inject, against the emulator.

Run by `make runner` (part of `make test`). Not under tests/unit: ansible-test units must not collect it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import stat
import subprocess
import sys

import pytest
import yaml

import ansible_runner
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from emulator import start  # noqa: E402  pylint: disable=wrong-import-position

TASK = 'Bind, unbind or purge'
# Test credentials, as a user would type them into AWX credentials of our types. Blank fields stay out.
CREDENTIALS = {
    'tencentcloud': {'secret_id': 'AKIDawxrunner001', 'secret_key': 'Tc-Awx-Secret-Never-Shown-7f3a', 'region': 'ap-guangzhou'},
    'baiducloud': {'access_key': 'bdawxrunner00001', 'secret_key': 'Bd-Awx-Secret-Never-Shown-91c2', 'region': 'bj'},
}
SECRETS = [CREDENTIALS['tencentcloud']['secret_key'], CREDENTIALS['baiducloud']['secret_key']]
SEED = {
    'tencentcloud': {
        'credentials': [{'access_key': 'AKIDawxrunner001', 'secret_key': SECRETS[0]}],
        'security_groups': [{'id': 'sg-web00001', 'region': 'ap-guangzhou', 'name': 'web'},
                            {'id': 'sg-ssh00001', 'region': 'ap-guangzhou', 'name': 'ssh'},
                            {'id': 'sg-quar0001', 'region': 'ap-guangzhou', 'name': 'quarantine'}],
        'instances': [{'id': 'ins-awx%05d' % n, 'region': 'ap-guangzhou', 'status': 'RUNNING', 'security_groups': ['sg-web00001']}
                      for n in (1, 2)],
    },
    'baiducloud': {
        'credentials': [{'access_key': 'bdawxrunner00001', 'secret_key': SECRETS[1]}],
        'security_groups': [{'id': 'g-web00001', 'name': 'web'}, {'id': 'g-ssh00001', 'name': 'ssh'}],
        'instances': [{'id': 'i-awx00001', 'status': 'Running', 'security_groups': ['g-web00001']}],
    },
}


def injected_env(cloud, inputs):
    """What AWX puts in a job's environment for a credential of our type: each env injector rendered in a Jinja
    sandbox with the credential's non-blank inputs (a blank or missing field renders as '')."""
    with open(os.path.join(ROOT, 'extensions', 'awx', 'credential_types', cloud + '.yml')) as handle:
        definition = yaml.safe_load(handle)
    sandbox = ImmutableSandboxedEnvironment()
    namespace = dict((key, value) for key, value in inputs.items() if value)
    return dict((var, sandbox.from_string(template).render(**namespace)) for var, template in definition['injectors']['env'].items())


@pytest.fixture(scope='module')
def emulator():
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy', 'no_proxy', 'NO_PROXY'):
        os.environ.pop(var, None)
    running = start()
    yield running
    running.stop()


@pytest.fixture
def seeded(emulator):
    emulator.emulator.reset()
    emulator.emulator.seed(SEED)
    return emulator


LOCALHOST = 'localhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"\n'


def private_data_dir(base, clouds, extravars, playbook='sg_binding', inventory=LOCALHOST):
    """The layout AWX gives ansible-runner for a job: project/ (an AWX project importing one of the collection's
    playbooks, the collection installed next to it), inventory/, env/{extravars,envvars,settings}."""
    pdd = os.path.join(str(base), 'pdd')
    collections = os.path.join(pdd, 'project', 'collections', 'ansible_collections', 'multicloud')
    os.makedirs(collections)
    os.symlink(ROOT, os.path.join(collections, 'secgroup'))
    with open(os.path.join(pdd, 'project', 'job.yml'), 'w') as handle:
        handle.write('---\n- name: Job template playbook\n  ansible.builtin.import_playbook: multicloud.secgroup.%s\n' % playbook)
    os.makedirs(os.path.join(pdd, 'inventory'))
    with open(os.path.join(pdd, 'inventory', 'hosts'), 'w') as handle:
        handle.write(inventory)
    os.makedirs(os.path.join(pdd, 'env'))
    envvars = {}
    for cloud in clouds:
        envvars.update(injected_env(cloud, CREDENTIALS[cloud]))
    for name, content in (('extravars', extravars), ('envvars', envvars),
                          ('settings', {'process_isolation': False, 'suppress_ansible_output': True})):
        path = os.path.join(pdd, 'env', name)
        with open(path, 'w') as handle:
            yaml.safe_dump(content, handle)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return pdd


def run_job(pdd):
    """One job run through ansible-runner's Python API, as AWX's worker does; no env files written from kwargs."""
    os.environ['PATH'] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', '')
    runner = ansible_runner.run(private_data_dir=pdd, playbook='job.yml', quiet=True, suppress_env_files=True)
    assert runner.status == 'successful' and runner.rc == 0, runner.stdout.read()
    return runner


def task_result(runner):
    results = [event['event_data'] for event in runner.events
               if event['event'] == 'runner_on_ok' and event['event_data'].get('task') == TASK]
    assert len(results) == 1
    return results[0]


def summary(runner):
    counts = {}
    for event in runner.events:
        counts[event['event']] = counts.get(event['event'], 0) + 1
    return counts


def secret_scan(pdd):
    """{path relative to the private data dir: occurrences of any secret}, over every file but the inputs in env/
    (not following the symlink to the collection)."""
    found = {}
    for top, dummy, files in os.walk(pdd):
        rel_top = os.path.relpath(top, pdd)
        if rel_top == 'env':
            continue
        for name in files:
            with open(os.path.join(top, name), 'rb') as handle:
                data = handle.read()
            count = sum(data.count(secret.encode('utf-8')) for secret in SECRETS)
            found[os.path.join(rel_top, name)] = count
    return found


def keep_artifacts(pdd):
    """Copy the job's artifacts to tests/output/runner/ for `make secrets-scan`, but for ansible-runner's `command`
    records (the process environment, an input: checked apart by check_secrets)."""
    dest = os.path.join(ROOT, 'tests', 'output', 'runner', os.path.basename(os.path.dirname(pdd)))
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(os.path.join(pdd, 'artifacts'), dest, ignore=shutil.ignore_patterns('command'))


def check_secrets(pdd):
    """Secrets appear in no artifact but ansible-runner's `command` record of the process environment (0600),
    which it writes whatever omit_env_files says; AWX deletes the private data dir after the job."""
    keep_artifacts(pdd)
    scan = secret_scan(pdd)
    assert any(path.startswith('artifacts') and 'job_events' in path for path in scan)
    leaking = sorted(path for path, count in scan.items() if count)
    assert [os.path.basename(path) for path in leaking] in ([], ['command'] * len(leaking))
    for path in leaking:
        assert stat.S_IMODE(os.stat(os.path.join(pdd, path)).st_mode) == 0o600
    print('secret scan: %d file(s) outside env/, %d occurrence(s) of the secrets outside ansible-runner\'s '
          'command record (%d inside it)' % (len(scan), sum(count for path, count in scan.items() if path not in leaking),
                                             sum(scan[path] for path in leaking)))
    return leaking


def audit_ids(event_data):
    """The instance IDs AAP's usage report would count: the event query for the task's module, run with jq."""
    with open(os.path.join(ROOT, 'extensions', 'audit', 'event_query.yml')) as handle:
        queries = yaml.safe_load(handle)
    return jq(queries[event_data['resolved_action']]['query'], event_data['res'])


def jq(query, result):
    assert shutil.which('jq'), 'jq (Debian package jq) is needed to run the audit queries'
    out = subprocess.run(['jq', '-c', query], input=json.dumps(result), capture_output=True, text=True, check=True).stdout
    return [json.loads(line)['canonical_facts']['id'] for line in out.splitlines()]


def test_the_audit_queries_count_each_modules_targets():
    with open(os.path.join(ROOT, 'extensions', 'audit', 'event_query.yml')) as handle:
        queries = yaml.safe_load(handle)
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, 'plugins', 'modules')) if name.endswith('_sg_binding.py'))
    assert sorted(queries) == sorted('multicloud.secgroup.' + name for name in modules + ['sg_binding'])
    result = {'changed': True, 'instances': [{'instance_id': 'i-one', 'before': [], 'after': ['sg-1']},
                                             {'instance_id': 'i-two', 'before': [], 'after': ['sg-1']}]}
    enis = {'changed': False, 'network_interfaces': [{'network_interface_id': 'eni-one', 'before': [], 'after': []}]}
    for name, spec in queries.items():
        assert jq(spec['query'], result) == ['i-one', 'i-two'], name
        assert jq(spec['query'], {'failed': True, 'msg': 'bad input'}) == [], name
        if name.endswith(('.alicloud_sg_binding', '.sg_binding')):
            assert jq(spec['query'], enis) == ['eni-one'], name


def test_a_survey_job_binds_then_changes_nothing_and_keeps_secrets_out(seeded, tmp_path):
    survey = {'sg_binding_provider': 'tencentcloud', 'sg_binding_region': '', 'sg_binding_instance_ids': 'ins-awx00001,\nins-awx00002',
              'sg_binding_security_group_ids': 'sg-ssh00001', 'sg_binding_state': 'present', 'sg_binding_purge': 'false',
              'sg_binding_endpoint': seeded.endpoints['tencentcloud']}
    pdd = private_data_dir(tmp_path, ['tencentcloud'], survey)
    first = run_job(pdd)
    result = task_result(first)
    assert result['res']['changed'] and result['resolved_action'] == 'multicloud.secgroup.sg_binding'
    assert [(i['instance_id'], i['before'], i['after']) for i in result['res']['instances']] == [
        ('ins-awx%05d' % n, ['sg-web00001'], ['sg-web00001', 'sg-ssh00001']) for n in (1, 2)]
    assert audit_ids(result) == ['ins-awx00001', 'ins-awx00002']
    again = run_job(pdd)
    assert not task_result(again)['res']['changed']
    assert first.stats['changed'] == {'localhost': 1} and 'localhost' not in again.stats['changed']
    print('first run: events %s, stats %s; re-run: events %s, stats %s' % (summary(first), first.stats, summary(again), again.stats))
    check_secrets(pdd)


def test_two_clouds_credentials_at_once_the_generic_module_picks_the_providers(seeded, tmp_path):
    done = {}
    for cloud, ids, group in (('tencentcloud', ['ins-awx00001'], 'sg-ssh00001'), ('baiducloud', ['i-awx00001'], 'g-ssh00001')):
        survey = {'sg_binding_provider': cloud, 'sg_binding_instance_ids': ids, 'sg_binding_security_group_ids': [group],
                  'sg_binding_state': 'present', 'sg_binding_endpoint': seeded.endpoints[cloud]}
        pdd = private_data_dir(tmp_path / cloud, ['tencentcloud', 'baiducloud'], survey)
        with open(os.path.join(pdd, 'env', 'envvars')) as handle:
            assert set(['TENCENTCLOUD_SECRET_KEY', 'BAIDUCLOUD_SECRET_KEY']) <= set(yaml.safe_load(handle))
        result = task_result(run_job(pdd))
        assert result['res']['changed'] and [i['instance_id'] for i in result['res']['instances']] == ids
        assert result['res']['instances'][0]['after'][-1] == group
        done[cloud] = check_secrets(pdd)
    assert sorted(done) == ['baiducloud', 'tencentcloud']


def test_a_quarantine_survey_job_isolates_then_restores(seeded, tmp_path):
    """sg_quarantine.yml from its survey's answers (quarantine groups as YAML text), records kept outside the job."""
    inventory = LOCALHOST + '[compromised]\nweb1 instance_id=ins-awx00001 cloud=tencentcloud cloud_region=ap-guangzhou\n'
    groups = {}
    for action in ('isolate', 'restore'):
        survey = {'sg_quarantine_action': action, 'sg_quarantine_target_hosts': 'compromised',
                  'sg_quarantine_group_ids': '{tencentcloud: [sg-quar0001]}',
                  'sg_quarantine_record_dir': str(tmp_path / 'records'),
                  'sg_quarantine_options': {'tencentcloud': {'endpoint': seeded.endpoints['tencentcloud']}}}
        pdd = private_data_dir(tmp_path / action, ['tencentcloud'], survey, playbook='sg_quarantine', inventory=inventory)
        runner = run_job(pdd)
        assert runner.stats['changed'], action
        instances = seeded.emulator.state()['tencentcloud']['instances']
        groups[action] = [i['security_groups'] for i in instances if i['id'] == 'ins-awx00001'][0]
        check_secrets(pdd)
    assert groups == {'isolate': ['sg-quar0001'], 'restore': ['sg-web00001']}
    assert os.listdir(str(tmp_path / 'records')) == ['tencentcloud_ap-guangzhou_ins-awx00001.json']


def test_a_quarantine_survey_job_keeps_its_record_in_tags_and_another_job_restores(seeded, tmp_path):
    """The survey's default store under AWX: two jobs, each in its own private data directory (another execution node,
    another container), nothing kept between them but the instance's tags."""
    inventory = LOCALHOST + '[compromised]\nweb1 instance_id=ins-awx00001 cloud=tencentcloud cloud_region=ap-guangzhou\n'
    groups = {}
    for action in ('isolate', 'restore'):
        survey = {'sg_quarantine_action': action, 'sg_quarantine_target_hosts': 'compromised',
                  'sg_quarantine_group_ids': '{tencentcloud: [sg-quar0001]}', 'sg_quarantine_record_store': 'tags',
                  'sg_quarantine_reason': 'INC-2001', 'sg_quarantine_flush_group_ids': '{}', 'sg_quarantine_flush_seconds': 10,
                  'sg_quarantine_options': {'tencentcloud': {'endpoint': seeded.endpoints['tencentcloud']}}}
        pdd = private_data_dir(tmp_path / action, ['tencentcloud'], survey, playbook='sg_quarantine', inventory=inventory)
        runner = run_job(pdd)
        assert runner.status == 'successful' and runner.stats['changed'], action
        instances = seeded.emulator.state()['tencentcloud']['instances']
        groups[action] = [i['security_groups'] for i in instances if i['id'] == 'ins-awx00001'][0]
        check_secrets(pdd)
    assert groups == {'isolate': ['sg-quar0001'], 'restore': ['sg-web00001']}


def credential_type_play(tmp_path, collection, *extra):
    """playbooks/awx_credential_types.yml run by FQCN with a stand-in for <collection>.credential_type that records
    its arguments in received.jsonl; returns (the process, the records)."""
    tree = tmp_path / 'collections' / 'ansible_collections'
    namespace, name = collection.split('.')
    fake = tree / namespace / name / 'plugins' / 'modules'
    fake.mkdir(parents=True)
    (tree / namespace / name / 'galaxy.yml').write_text('namespace: %s\nname: %s\nversion: 0.0.1\n' % (namespace, name))
    record = tmp_path / 'received.jsonl'
    (fake / 'credential_type.py').write_text(
        '#!/usr/bin/python\nimport json\nfrom ansible.module_utils.basic import AnsibleModule\n'
        'module = AnsibleModule(argument_spec=dict(name=dict(), description=dict(), kind=dict(), inputs=dict(type="dict"),'
        ' injectors=dict(type="dict"), state=dict(default="present")))\n'
        'with open(%r, "a") as handle:\n    handle.write(json.dumps(module.params) + "\\n")\n'
        'module.exit_json(changed=True)\n' % str(record))
    (tree / 'multicloud').mkdir()
    os.symlink(ROOT, str(tree / 'multicloud' / 'secgroup'))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path / 'collections'), ANSIBLE_LOCALHOST_WARNING='False',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='False')
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
                           'multicloud.secgroup.awx_credential_types'] + list(extra),
                          env=env, check=False, capture_output=True, text=True, cwd=str(tmp_path))
    received = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    return proc, received


@pytest.mark.parametrize('collection, extra', [
    ('awx.awx', []),
    ('ansible.controller', ['-e', 'awx_credential_types_collection=ansible.controller']),
], ids=['awx.awx by default', 'ansible.controller when chosen'])
def test_the_credential_type_play_passes_the_definitions_unrendered(tmp_path, collection, extra):
    """Against a stand-in for awx.awx's or ansible.controller's credential_type (the only one installed): every
    definition arrives as in its file, injector templates untouched."""
    proc, received = credential_type_play(tmp_path, collection, *extra)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    expected = []
    for name in sorted(os.listdir(os.path.join(ROOT, 'extensions', 'awx', 'credential_types'))):
        with open(os.path.join(ROOT, 'extensions', 'awx', 'credential_types', name)) as handle:
            expected.append(dict(yaml.safe_load(handle), state='present'))
    assert sorted(received, key=lambda d: d['name']) == sorted(expected, key=lambda d: d['name'])


def test_the_credential_type_play_refuses_an_unknown_collection(tmp_path):
    """A collection other than the two is refused before any credential type is written, naming option and value."""
    proc, received = credential_type_play(tmp_path, 'awx.awx', '-e', 'awx_credential_types_collection=community.awx')
    assert proc.returncode != 0 and received == []
    assert 'awx_credential_types_collection: community.awx is not supported: use awx.awx (AWX) or ansible.controller' \
        in proc.stdout
