# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real ansible-playbook runs against the emulator, outside ansible-test (run by `make pytest`):

- at -vvvv, every binding module (each provider's own, sg_binding and sg_binding_info per provider) on failing tasks
  (bad credentials with a session token, a cloud error, bad input) and on tasks that warn: no secret value appears
  in stdout or stderr, and `invocation` shows every secret option as VALUE_SPECIFIED_IN_NO_LOG_PARAMETER;
- TLS through ansible's module environment: the emulator serving HTTPS with a throwaway CA fails by default, passes
  with REQUESTS_CA_BUNDLE set by the play's `environment:`, and with validate_certs=false (warning shown).

Outputs are kept in tests/output/playbooks/ for `make secrets-scan`.
"""

import json
import os
import re
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))
sys.path.insert(0, os.path.join(ROOT, 'scripts'))

import playbook_runner as pr  # noqa: E402  pylint: disable=wrong-import-position
from emulator import start  # noqa: E402  pylint: disable=wrong-import-position
from scan_secrets import forms  # noqa: E402  pylint: disable=wrong-import-position

KEY_IDS = {'tencentcloud': 'AKIDvvvv00000001', 'alicloud': 'LTAI5tVvvv00001', 'baiducloud': 'bdvvvv0000000001',
           'zenlayer': 'AKID-ZL-VVVV'}
CREDENTIALS = {
    'tencentcloud': {'secret_key': 'Tc-Vvvv-Secret-Never-Shown'},
    'alicloud': {'secret_key': 'Ali-Vvvv-Secret-Never-Shown'},
    'baiducloud': {'secret_key': 'Bd-Vvvv-Secret-Never-Shown'},
    'zenlayer': {'secret_key': 'Zl-Vvvv-Password-Never-Shown'},
}
WRONG = {'secret_key': 'Wrong-Vvvv-Secret-Never-Shown', 'security_token': 'Vvvv-Session-Token-Never-Shown'}
SECRET_VALUES = [c['secret_key'] for c in CREDENTIALS.values()] + list(WRONG.values())
MASK = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
NO_LOG_OPTIONS = ('secret_key', 'security_token', 'access_key_password')


def seeds():
    return dict((name, pr.seed(name, KEY_IDS[name], CREDENTIALS[name]['secret_key'], instances=2, groups=3, bound=1))
                for name in pr.PROVIDERS)


@pytest.fixture(scope='module')
def emulator():
    for var in pr.PROXY_VARIABLES:
        os.environ.pop(var, None)
    running = start(seeds())
    yield running
    running.stop()


def module_runs(name, endpoint):
    """(fully qualified module, base options) for each module that talks to provider `name`."""
    spec = pr.PROVIDERS[name]
    base = dict(spec['options'](KEY_IDS[name], CREDENTIALS[name]['secret_key']), endpoint=endpoint, retries=0, retry_delay=0.05)
    return [('multicloud.secgroup.' + spec['module'], base),
            ('multicloud.secgroup.sg_binding', dict(base, provider=name)),
            ('multicloud.secgroup.sg_binding_info', dict(base, provider=name))]


def tasks_for(name, admin, endpoint):
    """The failing and warning tasks for provider `name`, each registered as its own variable."""
    spec = pr.PROVIDERS[name]
    instances = [spec['instance'] % 1]
    groups = [spec['group'] % 2]
    tasks = []
    for module, base in module_runs(name, endpoint):
        info = module.endswith('_info')
        target = {'instance_ids': instances} if info else {'instance_ids': instances, 'security_group_ids': groups}
        wrong = dict(base, **target)
        wrong[spec['secret_option']] = WRONG['secret_key']
        if spec['token_option']:
            wrong[spec['token_option']] = WRONG['security_token']
        tasks.append(('bad credentials', module, wrong, None))
        # The cloud's own server error on the first read (retries=0), added through the admin API just before.
        fault = {'provider': name, 'action': '*', 'kind': 'server_error', 'count': 1}
        tasks.append(('cloud error', module, dict(base, **target), fault))
        tasks.append(('bad input', module, dict(base, instance_ids=['not an id'], **({} if info else {'security_group_ids': groups})),
                      None))
        if not info:
            # A real change, its undoing with a warning (purge is ignored with state=absent), then validate_certs=false on
            # an https endpoint where nothing listens (warns, then fails).
            tasks.append(('change', module, dict(base, **target), None))
            tasks.append(('warning', module, dict(base, state='absent', purge=True, **target), None))
            tasks.append(('insecure', module, dict(base, endpoint='https://127.0.0.1:9', validate_certs=False, **target), None))
    out = []
    for label, module, args, fault in tasks:
        if fault:
            out.append({'name': 'Fault for %s %s' % (name, label), 'ansible.builtin.uri': {
                'url': admin + '/faults', 'method': 'POST', 'body_format': 'json', 'body': fault}})
        out.append({'name': '%s %s %s' % (name, module.split('.')[-1], label), module: args, 'ignore_errors': True,
                    'label': (name, module, label, args)})
    return out


def displayed_results(stdout):
    """{task name: the result the default callback printed at -vvvv}, where `invocation` is (registered results lose it)."""
    found = {}
    task = None
    lines = iter(stdout.splitlines())
    for line in lines:
        header = re.match(r'^TASK \[(.*)\] \*+$', line)
        if header:
            task = header.group(1)
        elif re.match(r'^(fatal: \[localhost\]: FAILED!|ok: \[localhost\]|changed: \[localhost\]) => \{$', line):
            body = ['{']
            for more in lines:
                body.append(more)
                if more == '}':
                    break
            found[task] = json.loads('\n'.join(body))
    return found


def test_vvvv_failures_and_warnings_show_no_secret(emulator, tmp_path):
    tasks = []
    labels = {}
    for name in sorted(pr.PROVIDERS):
        for task in tasks_for(name, emulator.endpoints['admin'], emulator.endpoints[name]):
            if 'label' in task:
                task['register'] = 'r%d' % len(labels)
                labels[task['register']] = task.pop('label')
            tasks.append(task)
    results_file = tmp_path / 'results.json'
    collect = '{{ {%s} | to_json }}' % ', '.join("'%s': %s" % (reg, reg) for reg in sorted(labels))
    tasks.append({'name': 'Keep the results', 'ansible.builtin.copy': {'content': collect, 'dest': str(results_file)}})
    playbook = tmp_path / 'vvvv.yml'
    playbook.write_text(json.dumps([{'name': 'Failures and warnings at -vvvv', 'hosts': 'localhost', 'gather_facts': False,
                                     'tasks': tasks}], indent=1))
    proc = pr.run('secrets-vvvv', playbook, tmp_path, verbosity=4)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    output = proc.stdout + proc.stderr
    for secret in SECRET_VALUES:
        for form in forms(secret):
            assert form not in output, 'a secret (as %r) is in the -vvvv output' % form[:4]
    assert MASK in proc.stdout and '[WARNING]' in output
    results = json.loads(results_file.read_text())
    displayed = displayed_results(proc.stdout)
    for reg, (name, module, label, args) in labels.items():
        result = results[reg]
        text = json.dumps(result)
        assert not any(secret in text for secret in SECRET_VALUES), (name, module, label)
        if label == 'change':
            assert result['changed'] and not result.get('failed'), (name, module, result.get('msg'))
            continue
        if label == 'warning':
            assert 'purge is ignored' in json.dumps(result.get('warnings')), (name, module)
            assert result['changed'] and not result.get('failed'), (name, module, result.get('msg'))
        else:
            assert result.get('failed'), (name, module, label)
        if label == 'insecure':
            assert 'validate_certs is false' in json.dumps(result.get('warnings')), (name, module)
        invocation = displayed['%s %s %s' % (name, module.split('.')[-1], label)]['invocation']['module_args']
        for option in NO_LOG_OPTIONS:
            if option in args:
                assert invocation[option] == MASK, (name, module, label, option)
        if label in ('bad credentials', 'cloud error'):
            # The cloud's own answer (an auth error; the injected server error), not a refusal or a connection failure.
            assert result['error']['request_id'] and result['error']['code'] not in ('TLSError', 'ConnectionError'), (name, module, label)
    # Every provider, and each of its three modules, met every label.
    assert len(labels) == len(pr.PROVIDERS) * (3 * 3 + 2 * 3)


TLS_CASES = ('default', 'requests_ca_bundle', 'validate_certs_false')


def tls_play(tmp_path, running, case):
    """One play per case, each provider's own module; the CA bundle reaches the module only through `environment:`."""
    tasks = []
    for name in sorted(pr.PROVIDERS):
        module, base = module_runs(name, running.endpoints[name])[0]
        spec = pr.PROVIDERS[name]
        args = dict(base, instance_ids=[spec['instance'] % 1], security_group_ids=[spec['group'] % 3], retries=3,
                    validate_certs=case != 'validate_certs_false', state='present' if case != 'validate_certs_false' else 'absent')
        tasks.append({'name': '%s %s' % (case, name), module: args, 'register': 'result', 'ignore_errors': True})
        tasks.append({'name': 'Record %s %s' % (case, name), 'ansible.builtin.lineinfile': {
            'path': str(tmp_path / 'tls-results.jsonl'), 'create': True,
            'line': "{{ {'case': '%s', 'provider': '%s', 'failed': result.failed | default(false), 'changed': result.changed, "
                    "'msg': result.msg | default(''), 'warnings': result.warnings | default([])} | to_json }}" % (case, name)}})
    play = {'name': 'TLS ' + case, 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}
    if case == 'requests_ca_bundle':
        play['environment'] = {'REQUESTS_CA_BUNDLE': running.ca_bundle}
    return play


def test_tls_through_the_module_environment(tmp_path):
    """Default: fails clearly; REQUESTS_CA_BUNDLE in the play's environment: binds; validate_certs=false: unbinds, warns."""
    running = start(seeds(), tls=True)
    try:
        playbook = tmp_path / 'tls.yml'
        playbook.write_text(json.dumps([tls_play(tmp_path, running, case) for case in TLS_CASES], indent=1))
        env = pr.playbook_env(tmp_path)
        for var in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
            env.pop(var, None)
        proc = pr.run('tls', playbook, tmp_path, env=env)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        results = [json.loads(line) for line in (tmp_path / 'tls-results.jsonl').read_text().splitlines()]
        state = running.emulator.state()
    finally:
        running.stop()
    assert [(r['case'], r['provider']) for r in results] == [(case, name) for case in TLS_CASES for name in sorted(pr.PROVIDERS)]
    for result in results:
        if result['case'] == 'default':
            assert result['failed'] and not result['changed'], result
            for words in ('TLSError', 'CERTIFICATE_VERIFY_FAILED', 'REQUESTS_CA_BUNDLE', 'validate_certs', 'nothing was changed'):
                assert words in result['msg'], (words, result)
        else:
            assert result['changed'] and not result['failed'], result
            assert ('validate_certs is false' in json.dumps(result['warnings'])) == (result['case'] == 'validate_certs_false'), result
    assert '[WARNING]: validate_certs is false' in proc.stdout + proc.stderr
    for name in pr.PROVIDERS:     # bound with the CA bundle, unbound without verification
        assert state[name]['instances'][0]['security_groups'] == [pr.PROVIDERS[name]['group'] % 1], name
