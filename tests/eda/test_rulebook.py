# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Event-Driven Ansible rulebook extensions/eda/rulebooks/sg_quarantine.yml, run by ansible-rulebook by its FQCN
against the emulator (`make eda`, which installs ansible-rulebook into .venv-eda and runs this file with it):

- an event posted to the webhook isolates the instance it names: its groups become the quarantine group, with the
  record of its groups written first;
- a duplicate within the throttle window runs nothing (one playbook run, no more write requests to the cloud);
- a malformed event (a field missing, or text with braces that ansible-playbook would template) runs nothing and is
  logged;
- an Alertmanager notification isolates the instance of each firing alert (here Zenlayer's: no region, an ID of
  digits), ignores resolved alerts and logs a firing alert that names no instance;
- the lock: a webhook event and an alert naming one instance at once run one after the other, and the record keeps
  the groups the instance had;
- every event of a list (valid, missing fields, nulls, wrong types, braces) is either isolated or logged, exactly once
  (the same conditions, actions replaced by a log line).

Without ansible-rulebook (or Java) in the running venv the live tests are skipped, saying why; with
MULTICLOUD_SECGROUP_EDA_REQUIRED=1 (what `make eda` sets) it fails instead, so the make target really runs it.
The structural tests (the AWX variant matches the rulebook) need only PyYAML. Every process started is ended,
whatever happens; the rulebook's output is kept in tests/output/eda/ for `make secrets-scan`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import re

import pytest
import yaml

from urllib.error import HTTPError
from urllib.request import Request, urlopen

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

import playbook_runner as pr  # noqa: E402  pylint: disable=wrong-import-position
from emulator import start  # noqa: E402  pylint: disable=wrong-import-position

RULEBOOKS = os.path.join(ROOT, 'extensions', 'eda', 'rulebooks')
OUTPUT_DIR = os.path.join(ROOT, 'tests', 'output', 'eda')
BIN = os.path.dirname(sys.executable)
RULEBOOK_BIN = os.path.join(BIN, 'ansible-rulebook')
REQUIRED = os.environ.get('MULTICLOUD_SECGROUP_EDA_REQUIRED') == '1'
MALFORMED = 'sg_quarantine: ignored a malformed event'
# Each wait is bounded; the whole live test ends in a few of them.
STARTUP_S = 90
RUN_S = 180
QUIET_S = 4
FAILED_RUN = re.compile(r'(failed|unreachable)=[1-9]')

TOKEN = 'Eda-Webhook-Token-Never-Shown-5b1e'
KEY_IDS = {'tencentcloud': 'AKIDedarulebook1', 'zenlayer': 'AKID-ZL-EDARULEBOOK'}
SECRETS = {'tencentcloud': 'Tc-Eda-Secret-Never-Shown-c41d', 'zenlayer': 'Zl-Eda-Password-Never-Shown-0e9a'}
ENV_CREDENTIALS = {
    'TENCENTCLOUD_SECRET_ID': KEY_IDS['tencentcloud'], 'TENCENTCLOUD_SECRET_KEY': SECRETS['tencentcloud'],
    'ZENLAYERCLOUD_ACCESS_KEY_ID': KEY_IDS['zenlayer'], 'ZENLAYERCLOUD_ACCESS_KEY_PASSWORD': SECRETS['zenlayer'],
}
TC_INSTANCE, TC_OTHER = 'ins-eda00001', 'ins-eda00002'
ZL_INSTANCE = '800000000000000077'
SEED = {
    'tencentcloud': {
        'credentials': [{'access_key': KEY_IDS['tencentcloud'], 'secret_key': SECRETS['tencentcloud']}],
        'security_groups': [{'id': 'sg-web00001', 'region': 'ap-guangzhou', 'name': 'web'},
                            {'id': 'sg-ssh00001', 'region': 'ap-guangzhou', 'name': 'ssh'},
                            {'id': 'sg-quar0001', 'region': 'ap-guangzhou', 'name': 'quarantine'}],
        'instances': [{'id': TC_INSTANCE, 'region': 'ap-guangzhou', 'status': 'RUNNING',
                       'security_groups': ['sg-web00001', 'sg-ssh00001']},
                      {'id': TC_OTHER, 'region': 'ap-guangzhou', 'status': 'RUNNING', 'security_groups': ['sg-web00001']}],
    },
    'zenlayer': {
        'credentials': [{'access_key': KEY_IDS['zenlayer'], 'secret_key': SECRETS['zenlayer']}],
        'security_groups': [{'id': '700000000000000001', 'name': 'web'}, {'id': '700000000000000009', 'name': 'quarantine'}],
        'instances': [{'id': ZL_INSTANCE, 'status': 'RUNNING', 'security_groups': ['700000000000000001']}],
    },
}
QUARANTINE = {'tencentcloud': ['sg-quar0001'], 'zenlayer': ['700000000000000009']}


def load(name):
    with open(os.path.join(RULEBOOKS, name)) as handle:
        return yaml.safe_load(handle)


# --- structure: needs only PyYAML --------------------------------------------------------------------------------

def test_the_awx_variant_has_the_same_sources_conditions_throttles_and_locks():
    """sg_quarantine_awx.yml differs from sg_quarantine.yml only in the action: run_job_template (without the raw
    event) instead of run_playbook, with the same lock and extra vars."""
    local, awx = load('sg_quarantine.yml'), load('sg_quarantine_awx.yml')
    assert len(local) == len(awx) == 1
    assert {k: v for k, v in local[0].items() if k != 'rules'} == {k: v for k, v in awx[0].items() if k != 'rules'}
    assert [r['name'] for r in local[0]['rules']] == [r['name'] for r in awx[0]['rules']]
    runs = 0
    for mine, theirs in zip(local[0]['rules'], awx[0]['rules']):
        assert mine['condition'] == theirs['condition'], mine['name']
        assert mine.get('throttle') == theirs.get('throttle'), mine['name']
        if 'run_playbook' not in mine['action']:
            assert mine['action'] == theirs['action'], mine['name']
            continue
        runs += 1
        playbook, job = mine['action']['run_playbook'], theirs['action']['run_job_template']
        assert playbook['name'] == 'multicloud.secgroup.sg_quarantine'
        assert job['lock'] == playbook['lock']
        assert job['job_args'] == {'extra_vars': playbook['extra_vars']}
        assert job['include_events'] is False
    assert runs == 2


def test_every_isolating_rule_is_throttled_per_instance_and_locked():
    for rule in load('sg_quarantine.yml')[0]['rules']:
        if 'run_playbook' not in rule['action']:
            assert 'debug' in rule['action'] and MALFORMED in rule['action']['debug']['msg'], rule['name']
            continue
        throttle = rule['throttle']
        assert throttle['once_within'] == '5 minutes'
        assert [a.rsplit('.', 1)[1] for a in throttle['group_by_attributes']] == ['provider', 'instance_id']
        prefix = throttle['group_by_attributes'][0].rsplit('.', 1)[0]
        assert rule['action']['run_playbook']['lock'] == '{{ %s.provider }}:{{ %s.instance_id }}' % (prefix, prefix)
        assert rule['action']['run_playbook']['extra_vars']['sg_quarantine_action'] == 'isolate'


# --- live: ansible-rulebook, the collection's playbook, the emulator ---------------------------------------------

def missing_tools():
    """Why the live test cannot run here, or None."""
    if not os.path.exists(RULEBOOK_BIN):
        return 'ansible-rulebook is not installed in this venv (%s); `make eda` installs it into .venv-eda' % BIN
    for tool in ('ansible-galaxy', 'ansible-playbook'):
        if not os.path.exists(os.path.join(BIN, tool)):
            return '%s is not installed next to ansible-rulebook (%s)' % (tool, BIN)
    if not (shutil.which('java') or os.environ.get('JAVA_HOME')):
        return 'no Java runtime (ansible-rulebook needs Java 17: apt-get install openjdk-17-jre-headless)'
    return None


def free_port():
    sock = socket.socket()
    try:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]
    finally:
        sock.close()


def descendants(pid):
    """Every process below `pid` (ansible-runner starts ansible-playbook in a session of its own)."""
    children = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as handle:
                stat = handle.read()
        except (IOError, OSError):
            continue
        ppid = int(stat.rsplit(')', 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop(proc):
    """End the rulebook and everything it started: SIGTERM, then SIGKILL after 15 s."""
    if proc.poll() is None:
        family = descendants(proc.pid)
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except OSError:
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            family += descendants(proc.pid)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait(timeout=15)
        for pid in family:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def post(port, body, token=TOKEN, path='sg_quarantine'):
    data = body if isinstance(body, bytes) else json.dumps(body).encode('utf-8')
    request = Request('http://127.0.0.1:%d/%s' % (port, path), data=data, method='POST',
                      headers={'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token})
    try:
        with urlopen(request, timeout=10) as response:
            return response.status
    except HTTPError as exc:
        return exc.code


class Rulebook(object):
    """ansible-rulebook running the collection's rulebook, its output in a log file."""

    def __init__(self, base, running, rulebook='multicloud.secgroup.sg_quarantine', label='sg_quarantine_rulebook'):
        self.base = base
        self.log = os.path.join(OUTPUT_DIR, label + '.log')
        self.webhook, self.alertmanager = free_port(), free_port()
        self.records = os.path.join(str(base), 'records')
        inventory = {'all': {'hosts': {'localhost': {
            'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
            'sg_quarantine_record_dir': self.records,
            'sg_quarantine_options': {cloud: {'endpoint': running.endpoints[cloud]} for cloud in QUARANTINE},
        }}}}
        variables = {'sg_quarantine_webhook_host': '127.0.0.1', 'sg_quarantine_webhook_port': self.webhook,
                     'sg_quarantine_alertmanager_port': self.alertmanager, 'sg_quarantine_webhook_token': TOKEN,
                     'sg_quarantine_group_ids': QUARANTINE}
        for name, doc in (('inventory.yml', inventory), ('vars.yml', variables)):
            with open(os.path.join(str(base), name), 'w') as handle:
                yaml.safe_dump(doc, handle)
        env = pr.playbook_env(base, PATH=BIN + os.pathsep + os.environ.get('PATH', ''), **ENV_CREDENTIALS)
        if not os.path.isdir(OUTPUT_DIR):
            os.makedirs(OUTPUT_DIR)
        self.out = open(self.log, 'w')
        self.proc = subprocess.Popen(
            [RULEBOOK_BIN, '-r', rulebook, '-i', 'inventory.yml', '--vars', 'vars.yml', '-v'],
            cwd=str(base), env=env, stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True)

    def text(self):
        with open(self.log) as handle:
            return handle.read()

    def count(self, marker):
        return self.text().count(marker)

    def wait_for(self, what, check, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                pytest.fail('ansible-rulebook ended (rc %s) while waiting for %s:\n%s' % (self.proc.returncode, what, self.text()[-6000:]))
            if FAILED_RUN.search(self.text()):
                pytest.fail('a playbook run failed while waiting for %s:\n%s' % (what, self.text()[-6000:]))
            value = check()
            if value:
                return value
            time.sleep(0.25)
        pytest.fail('no %s within %d s; ansible-rulebook said:\n%s' % (what, timeout, self.text()[-6000:]))

    def listening(self):
        for port in (self.webhook, self.alertmanager):
            try:
                socket.create_connection(('127.0.0.1', port), timeout=1).close()
            except (IOError, OSError):
                return False
        return True

    def close(self):
        try:
            stop(self.proc)
        finally:
            self.out.close()


def groups_of(running, cloud, instance):
    return [i['security_groups'] for i in running.emulator.state()[cloud]['instances'] if i['id'] == instance][0]


def writes(running):
    """The write requests every cloud answered so far (the reads of a run are not counted)."""
    clouds = running.emulator.clouds
    return [e for e in running.emulator.requests() if e['action'] in clouds[e['provider']].write_actions]


@pytest.fixture
def emulator():
    running = start(SEED)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def rulebook(emulator, tmp_path):
    reason = missing_tools()
    if reason:
        if REQUIRED:
            pytest.fail(reason + ' (MULTICLOUD_SECGROUP_EDA_REQUIRED=1)')
        pytest.skip(reason)
    running = Rulebook(tmp_path, emulator)
    try:
        running.wait_for('webhook listening', running.listening, STARTUP_S)
        yield running
    finally:
        running.close()


def test_an_event_isolates_once_a_duplicate_and_a_malformed_one_run_nothing(emulator, rulebook):
    """The live scenario of the module docstring, in one ansible-rulebook process, then the lock."""
    started = time.time()
    assert post(rulebook.webhook, {'provider': 'tencentcloud', 'region': 'ap-guangzhou'}, token='wrong-token') == 401
    event = {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': TC_INSTANCE, 'reason': 'INC-4711 beacon'}
    assert post(rulebook.webhook, event) == 200

    # Isolated: the quarantine group only, its record (the groups it had, in order) written first.
    rulebook.wait_for('isolation', lambda: groups_of(emulator, 'tencentcloud', TC_INSTANCE) == ['sg-quar0001'], RUN_S)
    rulebook.wait_for('the end of the playbook run', lambda: rulebook.count('PLAY RECAP') == 1, RUN_S)
    with open(os.path.join(rulebook.records, 'tencentcloud_ap-guangzhou_%s.json' % TC_INSTANCE)) as handle:
        record = json.load(handle)
    assert record['security_group_ids'] == ['sg-web00001', 'sg-ssh00001']
    assert record['quarantine_group_ids'] == ['sg-quar0001']
    assert groups_of(emulator, 'tencentcloud', TC_OTHER) == ['sg-web00001']
    first_writes = len(writes(emulator))
    assert first_writes >= 1
    isolated_in = time.time() - started

    # A duplicate within the window, then malformed events; the malformed ones come from the same source, after the
    # duplicate, so once they are logged the duplicate has been matched (and throttled).
    assert post(rulebook.webhook, dict(event, reason='INC-4711 again')) == 200
    malformed = [
        {'provider': 'tencentcloud', 'region': 'ap-guangzhou'},                                  # no instance
        {'provider': 'tencentcloud', 'instance_id': TC_OTHER},                                   # no region
        {'provider': 'aws', 'region': 'us-east-1', 'instance_id': TC_OTHER},                     # not a cloud of ours
        {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': TC_OTHER,
         'reason': "{{ lookup('ansible.builtin.pipe', 'id') }}"},                               # would be templated
        {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': TC_OTHER,
         'quarantine_group_ids': ['sg-web00001', '{{ x }}']},
        [TC_OTHER],                                                                              # not an object
    ]
    for body in malformed:
        assert post(rulebook.webhook, body) == 200, body
    assert post(rulebook.webhook, b'{"provider": ') == 400                                       # not JSON
    rulebook.wait_for('the malformed events logged', lambda: rulebook.count(MALFORMED) >= len(malformed), RUN_S)
    time.sleep(QUIET_S)     # a run the duplicate would have started would have begun by now
    text = rulebook.text()
    assert text.count(MALFORMED) == len(malformed)
    assert text.count('PLAY [') == 1, 'the duplicate or a malformed event ran the playbook'
    assert len(writes(emulator)) == first_writes
    assert groups_of(emulator, 'tencentcloud', TC_OTHER) == ['sg-web00001']
    assert groups_of(emulator, 'tencentcloud', TC_INSTANCE) == ['sg-quar0001']
    assert os.listdir(rulebook.records) == ['tencentcloud_ap-guangzhou_%s.json' % TC_INSTANCE]

    # Alertmanager: one notification with a firing alert (Zenlayer: no region, an ID of digits), a resolved alert
    # (ignored) and a firing alert that names no instance (logged).
    notification = {
        'version': '4', 'status': 'firing', 'receiver': 'eda-quarantine', 'groupKey': '{}:{alertname="C2Beacon"}',
        'alerts': [
            {'status': 'firing', 'labels': {'alertname': 'C2Beacon', 'provider': 'zenlayer', 'instance_id': ZL_INSTANCE},
             'annotations': {'summary': 'beacon'}, 'fingerprint': '0a1b2c3d4e5f6a7b'},
            {'status': 'resolved', 'labels': {'alertname': 'C2Beacon', 'provider': 'tencentcloud',
                                              'region': 'ap-guangzhou', 'instance_id': TC_OTHER}},
            {'status': 'firing', 'labels': {'alertname': 'C2Beacon', 'provider': 'tencentcloud'}},
        ],
    }
    assert post(rulebook.alertmanager, notification) == 200
    rulebook.wait_for('isolation from the alert', lambda: groups_of(emulator, 'zenlayer', ZL_INSTANCE) == QUARANTINE['zenlayer'], RUN_S)
    rulebook.wait_for('the end of the second run', lambda: rulebook.count('PLAY RECAP') == 2, RUN_S)
    rulebook.wait_for('the nameless alert logged', lambda: rulebook.count(MALFORMED) == len(malformed) + 1, RUN_S)
    assert groups_of(emulator, 'tencentcloud', TC_OTHER) == ['sg-web00001']
    assert sorted(os.listdir(rulebook.records)) == ['tencentcloud_ap-guangzhou_%s.json' % TC_INSTANCE, 'zenlayer_%s.json' % ZL_INSTANCE]
    isolated_all_in = time.time() - started

    # The lock: the webhook and an alert name one instance at once (two rules, two throttles): the two runs come one
    # after the other, never interleaved, and the second keeps the record the first wrote (the groups the instance had).
    before = rulebook.text()
    assert post(rulebook.webhook, {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': TC_OTHER}) == 200
    assert post(rulebook.alertmanager, {'version': '4', 'status': 'firing', 'alerts': [
        {'status': 'firing', 'labels': {'alertname': 'C2Beacon', 'provider': 'tencentcloud', 'region': 'ap-guangzhou',
                                        'instance_id': TC_OTHER}}]}) == 200
    rulebook.wait_for('both runs about one instance', lambda: rulebook.count('PLAY RECAP') == 4, RUN_S)
    markers = re.findall(r'^PLAY (?:RECAP|\[)', rulebook.text()[len(before):], re.M)
    assert markers == ['PLAY [', 'PLAY RECAP'] * 2, 'the runs about one instance overlapped: %r' % markers
    assert groups_of(emulator, 'tencentcloud', TC_OTHER) == ['sg-quar0001']
    with open(os.path.join(rulebook.records, 'tencentcloud_ap-guangzhou_%s.json' % TC_OTHER)) as handle:
        assert json.load(handle)['security_group_ids'] == ['sg-web00001']

    text = rulebook.text()
    for secret in [TOKEN] + list(SECRETS.values()):
        assert secret not in text, 'a secret is in the rulebook output'
    print('eda: first isolation %.1f s after its event; webhook and alert isolations %.1f s; with the lock %.1f s'
          % (isolated_in, isolated_all_in, time.time() - started))


# Events and what the rulebook must make of them: 'valid' (the isolating rule) or 'malformed' (the logging rule).
# The conditions are spelled twice (a rule and its negation); every event must land in exactly one.
WEBHOOK_CASES = [
    ('valid', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-1'}),
    ('valid', {'provider': 'alicloud', 'region': 'cn-hangzhou', 'instance_id': 'i-bp1abc', 'reason': 'INC-1 (c2) #7'}),
    ('valid', {'provider': 'baiducloud', 'region': 'bj', 'instance_id': 'i-AbC123', 'quarantine_group_ids': ['g-q1']}),
    ('valid', {'provider': 'zenlayer', 'instance_id': '800000000000000001'}),
    ('valid', {'provider': 'zenlayer', 'region': 'ignored', 'instance_id': '800000000000000002'}),
    ('valid', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-7', 'quarantine_group_ids': 'sg-q1'}),
    ('valid', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-8', 'reason': 42}),
    ('valid', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-2',
               'quarantine_group_ids': ['sg-q1', 'sg-q2'], 'reason': 'alert 42', 'extra': {'any': 'thing'}}),
    ('malformed', {}),
    ('malformed', {'provider': 'tencentcloud'}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou'}),
    ('malformed', {'region': 'ap-guangzhou', 'instance_id': 'ins-3'}),
    ('malformed', {'provider': 'tencentcloud', 'instance_id': 'ins-3'}),
    ('malformed', {'provider': 'TencentCloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-3'}),
    ('malformed', {'provider': 'aws', 'region': 'us-east-1', 'instance_id': 'i-3'}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': ''}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-{{ x }}'}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins 3'}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': ['ins-3']}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': None}),
    ('malformed', {'provider': None, 'region': 'ap-guangzhou', 'instance_id': 'ins-3'}),
    ('malformed', {'provider': 'tencentcloud', 'region': None, 'instance_id': 'ins-3'}),
    ('malformed', {'provider': 'zenlayer', 'region': None, 'instance_id': '800000000000000003'}),
    ('malformed', {'provider': 'zenlayer', 'region': '{{ x }}', 'instance_id': '800000000000000003'}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-3', 'reason': None}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-3', 'reason': ['a']}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'AP_GUANGZHOU', 'instance_id': 'ins-3'}),
    ('malformed', {'provider': 'tencentcloud', 'region': '{{ x }}', 'instance_id': 'ins-3'}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-3', 'reason': '{{ x }}'}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-3', 'reason': '{% if %}'}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-3', 'reason': ''}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-3', 'reason': 'x' * 201}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-3', 'quarantine_group_ids': []}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-3',
                   'quarantine_group_ids': ['sg-q1', '{{ x }}']}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-3', 'quarantine_group_ids': 'sg {x}'}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-3', 'quarantine_group_ids': ['sg-q1', '']}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-3', 'quarantine_group_ids': None}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-3', 'quarantine_group_ids': {'a': 'b'}}),
    ('malformed', {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-3', 'quarantine_group_ids': [['sg-q1']]}),
    ('malformed', ['ins-3']),
    ('malformed', 'ins-3'),
]
ALERT_CASES = [
    ('valid', {'status': 'firing', 'labels': {'alertname': 'C2Beacon', 'provider': 'tencentcloud', 'region': 'ap-guangzhou',
                                              'instance_id': 'ins-9', 'severity': 'critical'}}),
    ('valid', {'status': 'firing', 'labels': {'alertname': 'C2Beacon', 'provider': 'zenlayer', 'instance_id': '800000000000000009'}}),
    ('ignored', {'status': 'resolved', 'labels': {'alertname': 'C2Beacon', 'provider': 'tencentcloud', 'region': 'ap-guangzhou',
                                                  'instance_id': 'ins-9'}}),
    ('ignored', {'status': 'resolved', 'labels': {}}),
    ('malformed', {'status': 'firing', 'labels': {'alertname': 'C2Beacon'}}),
    ('malformed', {'status': 'firing', 'labels': {'alertname': 'C2Beacon', 'provider': 'tencentcloud', 'instance_id': 'ins-9'}}),
    ('malformed', {'status': 'firing', 'labels': {'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-9'}}),
    ('malformed', {'status': 'firing', 'labels': {'alertname': '{{ x }}', 'provider': 'tencentcloud', 'region': 'ap-guangzhou',
                                                  'instance_id': 'ins-9'}}),
    ('malformed', {'status': 'firing', 'labels': {'alertname': 'C2', 'provider': 'tencentcloud', 'region': 'ap-guangzhou',
                                                  'instance_id': 'ins {{ x }}'}}),
    ('malformed', {'status': 'firing', 'labels': {'alertname': 'C2', 'provider': 'zenlayer', 'region': '{{ x }}',
                                                  'instance_id': '800000000000000009'}}),
    ('malformed', {'status': 'firing', 'labels': {'alertname': None, 'provider': 'tencentcloud', 'region': 'ap-guangzhou',
                                                  'instance_id': 'ins-9'}}),
    ('malformed', {'labels': {'alertname': 'C2', 'provider': 'tencentcloud', 'region': 'ap-guangzhou', 'instance_id': 'ins-9'}}),
    ('malformed', {'status': None, 'labels': {'alertname': 'C2'}}),
]


def classifying_rulebook(path):
    """The rulebook with each action replaced by a line naming the rule's class and the event's probe: the same
    sources and conditions, nothing run."""
    doc = load('sg_quarantine.yml')
    for rule in doc[0]['rules']:
        kind = 'malformed' if 'debug' in rule['action'] else 'valid'
        probe = '{{ event.meta.endpoint if event.meta.endpoint is defined else event.labels.probe }}'
        rule['action'] = {'debug': {'msg': 'CLASSIFIED %s %s END' % (kind, probe)}}
        rule.pop('throttle', None)
    with open(path, 'w') as handle:
        yaml.safe_dump(doc, handle, sort_keys=False)


def test_every_event_is_either_isolated_or_logged_as_malformed(emulator, tmp_path):
    """Each rule's condition and its spelled-out negation split every event in two: an event is isolated (valid) or
    logged as malformed, never both, never neither; resolved alerts are ignored."""
    reason = missing_tools()
    if reason:
        if REQUIRED:
            pytest.fail(reason + ' (MULTICLOUD_SECGROUP_EDA_REQUIRED=1)')
        pytest.skip(reason)
    path = os.path.join(str(tmp_path), 'classify.yml')
    classifying_rulebook(path)
    rulebook = Rulebook(tmp_path, emulator, rulebook=path, label='classify_rulebook')
    try:
        rulebook.wait_for('webhook listening', rulebook.listening, STARTUP_S)
        expected = {}
        for n, (kind, body) in enumerate(WEBHOOK_CASES):
            expected['w%d' % n] = kind
            assert post(rulebook.webhook, body, path='w%d' % n) == 200, body
        alerts = []
        for n, (kind, alert) in enumerate(ALERT_CASES):
            alert = copy.deepcopy(alert)
            alert['labels']['probe'] = 'a%d' % n
            expected['a%d' % n] = kind
            alerts.append(alert)
        assert post(rulebook.alertmanager, {'version': '4', 'status': 'firing', 'alerts': alerts}) == 200
        expected['notanotification'] = 'malformed'
        assert post(rulebook.alertmanager, {'provider': 'tencentcloud', 'instance_id': 'ins-1'}, path='notanotification') == 200
        wanted = sum(1 for kind in expected.values() if kind != 'ignored')
        rulebook.wait_for('every event classified', lambda: rulebook.count('CLASSIFIED ') >= wanted, RUN_S)
        time.sleep(1)
        seen = {}
        for line in rulebook.text().splitlines():
            if line.startswith('CLASSIFIED '):
                kind, probe = line.split()[1:3]
                seen.setdefault(probe, []).append(kind)
    finally:
        rulebook.close()
    wrong = dict((probe, (kind, seen.get(probe, []))) for probe, kind in expected.items()
                 if seen.get(probe, []) != ([] if kind == 'ignored' else [kind]))
    assert not wrong, 'events classified wrongly (expected, got): %r' % wrong
