# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The live run's own logic, without a cloud or the emulator (`make live` runs the whole of it on the emulator):
configuration checks, the restore when a step fails or the run is interrupted, the report's redaction and schema,
the dry run, the step checks, and a probe for every fact the providers mark as inferred."""

import importlib
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import live  # noqa: E402  pylint: disable=wrong-import-position
import probes  # noqa: E402  pylint: disable=wrong-import-position

SECRET = 'Tc-Unit-Live-Secret-Never-In-Report'
TARGET = 'ins-abcdefgh'
GROUPS = ['sg-aaaaaaa1', 'sg-aaaaaaa2', 'sg-aaaaaaa3']
SAVED = ['sg-saved002', 'sg-saved001']


def env(**extra):
    base = {'MULTICLOUD_SECGROUP_LIVE': '1', 'MULTICLOUD_SECGROUP_LIVE_TENCENTCLOUD_INSTANCE': TARGET,
            'MULTICLOUD_SECGROUP_LIVE_TENCENTCLOUD_GROUPS': ','.join(GROUPS),
            'MULTICLOUD_SECGROUP_LIVE_TENCENTCLOUD_REGION': 'ap-guangzhou'}
    base.update(extra)
    return dict((k, v) for k, v in base.items() if v is not None)


# --- configuration -----------------------------------------------------------------------------------------

def test_a_valid_configuration():
    configs = live.live_config(env())
    assert configs == [{'cloud': 'tencentcloud', 'kind': 'instance_ids', 'target': TARGET, 'groups': GROUPS,
                        'region': 'ap-guangzhou', 'burst': 30}]


@pytest.mark.parametrize('extra, message', [
    ({'MULTICLOUD_SECGROUP_LIVE': None}, "MULTICLOUD_SECGROUP_LIVE='': set it to 1"),
    ({'MULTICLOUD_SECGROUP_LIVE': 'yes'}, "MULTICLOUD_SECGROUP_LIVE='yes': set it to 1"),
    ({'MULTICLOUD_SECGROUP_LIVE_TENCENTCLOUD_INSTANCE': None}, 'no cloud to run'),
    ({'MULTICLOUD_SECGROUP_LIVE_TENCENTCLOUD_ENI': 'eni-abcdefgh'}, 'give exactly one of them'),
    ({'MULTICLOUD_SECGROUP_LIVE_TENCENTCLOUD_INSTANCE': 'i-abc'}, "TENCENTCLOUD_INSTANCE='i-abc': not a Tencent Cloud instance ID"),
    ({'MULTICLOUD_SECGROUP_LIVE_TENCENTCLOUD_GROUPS': 'sg-aaaaaaa1'}, "GROUPS='sg-aaaaaaa1': give 2 or 3 distinct security group IDs"),
    ({'MULTICLOUD_SECGROUP_LIVE_TENCENTCLOUD_GROUPS': 'sg-aaaaaaa1,sg-aaaaaaa1'}, 'give 2 or 3 distinct'),
    ({'MULTICLOUD_SECGROUP_LIVE_TENCENTCLOUD_GROUPS': 'sg-aaaaaaa1,g-bad'}, 'g-bad not a Tencent Cloud security group ID'),
    ({'MULTICLOUD_SECGROUP_LIVE_TENCENTCLOUD_REGION': None}, 'TENCENTCLOUD_REGION is not set'),
    ({'MULTICLOUD_SECGROUP_LIVE_TENCENTCLOUD_REGION': 'Guangzhou'}, "REGION='Guangzhou': not a Tencent Cloud region"),
    ({'MULTICLOUD_SECGROUP_LIVE_CLOUDS': 'tencentcloud,aws'}, 'aws: not a cloud of this collection'),
    ({'MULTICLOUD_SECGROUP_LIVE_BURST': '500'}, "BURST='500': a whole number of reads from 0 (no burst) to 100"),
    ({'MULTICLOUD_SECGROUP_LIVE_ZENLAYER_INSTANCE': '800000000000000001', 'MULTICLOUD_SECGROUP_LIVE_ZENLAYER_GROUPS': '70000001,70000002,70000003'},
     "ZENLAYER_GROUPS='70000001,70000002,70000003': give 2 distinct"),
    ({'MULTICLOUD_SECGROUP_LIVE_ZENLAYER_INSTANCE': '800000000000000001', 'MULTICLOUD_SECGROUP_LIVE_ZENLAYER_GROUPS': '70000001,70000002',
      'MULTICLOUD_SECGROUP_LIVE_ZENLAYER_REGION': 'asia-east-1'}, "ZENLAYER_REGION='asia-east-1': Zenlayer Cloud has no regions"),
    ({'MULTICLOUD_SECGROUP_LIVE_ZENLAYER_ENI': 'nic-1', 'MULTICLOUD_SECGROUP_LIVE_ZENLAYER_GROUPS': '70000001,70000002'},
     'Zenlayer vNICs take exactly one group'),
])
def test_a_bad_configuration_is_refused_naming_variable_value_and_rule(extra, message):
    with pytest.raises(live.ConfigError) as info:
        live.live_config(env(**extra))
    assert message in str(info.value)


def test_every_problem_is_listed_at_once():
    with pytest.raises(live.ConfigError) as info:
        live.live_config(env(MULTICLOUD_SECGROUP_LIVE_TENCENTCLOUD_GROUPS='x', MULTICLOUD_SECGROUP_LIVE_TENCENTCLOUD_REGION=None))
    assert 'nothing was sent' in str(info.value)
    assert str(info.value).count('\n  - ') == 2


def test_a_bad_configuration_exits_2_before_anything(capsys, monkeypatch):
    monkeypatch.setattr(live, 'run', lambda *a, **k: pytest.fail('nothing may run'))
    assert live.main([], environ=env(MULTICLOUD_SECGROUP_LIVE_TENCENTCLOUD_GROUPS='sg-aaaaaaa1')) == 2
    assert 'GROUPS' in capsys.readouterr().err


# --- dry run -------------------------------------------------------------------------------------------------

def test_dry_run_prints_the_steps_and_sends_nothing(capsys, monkeypatch):
    monkeypatch.setattr(live, 'run', lambda *a, **k: pytest.fail('a dry run sends nothing'))
    monkeypatch.setattr(live, 'start_emulator', lambda *a, **k: pytest.fail('a dry run starts nothing'))
    assert live.main(['--dry-run'], environ=env()) == 0
    out = capsys.readouterr().out
    assert 'dry run (live): nothing is sent' in out
    assert 'tencentcloud: instance %s in ap-guangzhou, groups G0..G2 = %s' % (TARGET, ', '.join(GROUPS)) in out
    assert [line.split()[1] for line in out.splitlines() if line[:4].strip().rstrip('.').isdigit()] == list(live.STEP_IDS)
    assert 'tencentcloud.duplicate_bind' in out and 'skipped: ' in out


def test_dry_run_without_the_switch_shows_the_emulator_run(capsys):
    assert live.main(['--dry-run'], environ={}) == 0
    out = capsys.readouterr().out
    assert 'dry run (emulator)' in out
    assert all('\n%s: instance ' % cloud in out for cloud in live.CLOUDS)
    assert 'zenlayer: instance 800000000000000001, groups G0..G1' in out   # at most 2 groups there


def test_dry_run_of_an_eni_skips_the_quarantine(capsys):
    assert live.main(['--dry-run'], environ=env(MULTICLOUD_SECGROUP_LIVE_TENCENTCLOUD_INSTANCE=None,
                                                MULTICLOUD_SECGROUP_LIVE_TENCENTCLOUD_ENI='eni-abcdefgh')) == 0
    out = capsys.readouterr().out
    assert out.count('skipped: the quarantine role isolates instances, not ENIs') == 3


# --- restore, whatever happens ---------------------------------------------------------------------------------

def record(task, status='ok', **result):
    return dict({'host': 'tencentcloud', 'task': task, 'check_mode': task.endswith(': check'), 'status': status,
                 'start': 1000.0, 'end': 1001.0}, **result)


class FakePlaybooks:
    """run_playbook's stand-in: the protocol saves SAVED then fails at prepare (or raises), the restore ends as told."""

    def __init__(self, restore_after, protocol_raises=False):
        self.restore_after = restore_after
        self.protocol_raises = protocol_raises
        self.calls = []

    def __call__(self, playbook, hosts, env_, steps_file, log_file, timeout, group_vars=None):
        self.calls.append((playbook, json.loads(json.dumps(hosts))))
        if playbook == 'protocol.yml':
            lines = [record("Step save: read the target's groups", instances=[{'instance_id': TARGET, 'security_group_ids': SAVED}]),
                     record('Step prepare: check', changed=True, instances=[{'instance_id': TARGET, 'before': SAVED, 'after': GROUPS[:1]}])]
            with open(steps_file, 'w') as handle:
                handle.write(''.join(json.dumps(line) + '\n' for line in lines))
            if self.protocol_raises:
                raise KeyboardInterrupt()
            with open(steps_file, 'a') as handle:
                handle.write(json.dumps(record('Step prepare: run', 'failed', msg='Tencent Cloud failed, key %s' % SECRET)) + '\n')
            return 2, live.read_records(steps_file, hosts)
        status = 'ok' if self.restore_after == SAVED else 'failed'
        return 0, {'tencentcloud': [record('Step restore: run', status, changed=True, msg='' if status == 'ok' else 'throttled',
                                           instances=[{'instance_id': TARGET, 'before': GROUPS[:1], 'after': self.restore_after}])]}


def run_live(tmp_path, monkeypatch, fake):
    monkeypatch.setattr(live, 'run_playbook', fake)
    environ = env(TENCENTCLOUD_SECRET_KEY=SECRET, TENCENTCLOUD_SECRET_ID='AKIDunitlive0001')
    return live.run(live.live_config(environ), 'live', str(tmp_path), environ)


def test_a_failed_step_still_puts_the_saved_groups_back_in_order(tmp_path, monkeypatch, capsys):
    fake = FakePlaybooks(restore_after=SAVED)
    report, rc = run_live(tmp_path, monkeypatch, fake)
    assert [c[0] for c in fake.calls] == ['protocol.yml', 'restore.yml']
    assert fake.calls[1][1]['tencentcloud']['saved'] == SAVED
    cloud = report['clouds'][0]
    assert cloud['restore'] == {'status': 'restored', 'groups': SAVED}
    assert [s['status'] for s in cloud['steps']][:3] == ['ok', 'failed', 'not_run']
    assert rc == 1 and not report['ok']
    assert '!!!' not in capsys.readouterr().err


def test_an_interrupted_protocol_still_puts_the_saved_groups_back(tmp_path, monkeypatch):
    fake = FakePlaybooks(restore_after=SAVED, protocol_raises=True)
    report, rc = run_live(tmp_path, monkeypatch, fake)
    assert [c[0] for c in fake.calls] == ['protocol.yml', 'restore.yml']
    assert report['interrupted'].startswith('the protocol stopped: KeyboardInterrupt')
    assert report['clouds'][0]['restore']['status'] == 'restored' and rc == 1


def test_a_failed_restore_is_loud_and_exits_3(tmp_path, monkeypatch, capsys):
    report, rc = run_live(tmp_path, monkeypatch, FakePlaybooks(restore_after=GROUPS[:1]))
    assert rc == 3 and report['restore_failures'] == ['tencentcloud']
    err = capsys.readouterr().err
    assert 'THE LIVE RUN COULD NOT PUT BACK THE GROUPS OF tencentcloud %s' % TARGET in err
    assert 'It had, in this order: %s' % ', '.join(SAVED) in err
    assert '"security_group_ids": ["sg-saved002", "sg-saved001"]' in err


def test_the_report_holds_no_secret_and_passes_its_schema(tmp_path, monkeypatch):
    run_live(tmp_path, monkeypatch, FakePlaybooks(restore_after=SAVED))
    reports = [name for name in os.listdir(str(tmp_path)) if name.startswith('report-')]
    assert len(reports) == 1
    with open(os.path.join(str(tmp_path), reports[0])) as handle:
        text = handle.read()
    assert SECRET not in text and 'key ********' in text
    assert live.validate_report(json.loads(text)) == []


def test_redaction_covers_every_form_of_a_secret():
    secret = 'p@ss/word+Secret=1'
    report = {'a': ['x %s y' % secret, {'b': 'url p%40ss%2Fword%2BSecret%3D1'}], 'n': 3}
    out = live.redact(report, [secret])
    assert not live.leaked(json.dumps(out), [secret])
    assert out['n'] == 3 and out['a'][0] == 'x ******** y'


def test_the_schema_check_names_what_is_wrong():
    problems = live.validate_report({'schema': 'other', 'mode': 'cloud', 'clouds': [{'cloud': 'tencentcloud', 'steps': [],
                                                                                     'probes': [{'id': 'x.y', 'status': 'skipped'}]}]})
    text = '; '.join(problems)
    assert "report.schema: 'other'" in text and "report.mode: 'cloud'" in text and 'report: no versions' in text
    assert "clouds[0].steps: not the protocol's steps in order" in text and "clouds[0].probes: 'x.y'" in text


# --- step checks and probes ------------------------------------------------------------------------------------

PLAN = {'provider': 'tencentcloud', 'kind': 'instance_ids', 'target': TARGET, 'groups': GROUPS, 'new_order': GROUPS[::-1],
        'ordered': True, 'quarantine': True, 'region': 'ap-guangzhou'}


def binding(task, after, operations, changed=True):
    return record(task, changed=changed, operations=operations, instances=[{'instance_id': TARGET, 'before': [], 'after': after}])


def test_check_mode_must_predict_the_real_run():
    ops = [{'action': 'set', 'security_group_ids': GROUPS[::-1]}]
    good = live.check_step('purge', [binding('Step purge: check', GROUPS[::-1], ops), binding('Step purge: run', GROUPS[::-1], ops)], PLAN)
    assert all(c['ok'] for c in good.checks)
    bad = live.check_step('purge', [binding('Step purge: check', GROUPS[::-1], ops[:0]), binding('Step purge: run', GROUPS, ops)], PLAN)
    failed = [c['what'] for c in bad.checks if not c['ok']]
    assert failed == ['check mode predicts the write calls', 'check mode predicts the groups after', '%s read back' % GROUPS[::-1]]


def test_order_counts_only_where_the_cloud_orders():
    steps = [binding('Step purge: check', GROUPS, []), binding('Step purge: run', GROUPS, [])]
    assert [c['what'] for c in live.check_step('purge', steps, PLAN).checks if not c['ok']] == ['%s read back' % GROUPS[::-1]]
    assert all(c['ok'] for c in live.check_step('purge', steps, dict(PLAN, ordered=False)).checks)


def test_a_bind_again_that_writes_fails():
    again = binding('Step bind_again: run', GROUPS[:2], [{'action': 'bind', 'security_group_ids': GROUPS[1:2]}])
    checks = live.check_step('bind_again', [dict(again, task='Step bind_again: check'), again], PLAN).checks
    assert [c['what'] for c in checks if not c['ok']] == ['no change and no write call']


@pytest.mark.parametrize('after_reads, after_s, outcome, mismatch', [(50, 1.0, 'throttled_above', False), (5, 1.0, 'throttled_below', True)])
def test_a_burst_throttled_below_the_assumed_rate_is_a_mismatch(after_reads, after_s, outcome, mismatch):
    steps = {'probes': [record('Step probes: x', probes={'read_burst': {'outcome': 'throttled', 'throttled': {
        'after_reads': after_reads, 'after_s': after_s, 'code': 'RequestLimitExceeded'}}})]}
    burst = next(p for p in live.probe_answers(PLAN, steps) if p['id'] == 'tencentcloud.read_burst')
    assert burst['answer']['outcome'] == outcome and burst['mismatch'] is mismatch


def test_probe_answers_from_the_steps():
    steps = {'bind': [binding('Step bind: run', [GROUPS[1], GROUPS[0]], [])], 'purge': [binding('Step purge: run', GROUPS[::-1], [])],
             'probes': [record('Step probes: x', probes={'duplicate_bind': {'outcome': 'already', 'code': 'FailedOperation'}})]}
    answers = dict((p['id'], p) for p in live.probe_answers(PLAN, steps))
    assert answers['tencentcloud.bind_position']['answer']['outcome'] == 'first' and answers['tencentcloud.bind_position']['mismatch']
    assert answers['tencentcloud.group_order']['answer']['outcome'] == 'kept' and not answers['tencentcloud.group_order']['mismatch']
    assert answers['tencentcloud.duplicate_bind']['mismatch']
    assert answers['tencentcloud.unknown_group']['status'] == 'unanswered'
    assert answers['tencentcloud.tags']['status'] == 'skipped' and answers['tencentcloud.tags']['why']


def test_role_items_go_to_their_cloud(tmp_path):
    path = str(tmp_path / 'steps.jsonl')
    with open(path, 'w') as handle:
        for line in (record('Step isolate: the role'), dict(record('role : Apply'), item_provider='alicloud'), dict(record('other'), host='alicloud')):
            handle.write(json.dumps(line) + '\n')
        handle.write('{"cut sh')
    records = live.read_records(path, {'tencentcloud': {}, 'alicloud': {}})
    assert [r['task'] for r in records['tencentcloud']] == ['Step isolate: the role']
    assert [r['task'] for r in records['alicloud']] == ['role : Apply', 'other']


# --- every inferred fact has a probe ----------------------------------------------------------------------------

@pytest.mark.parametrize('cloud', probes.CLOUDS)
def test_every_inferred_entry_of_the_provider_has_a_probe_or_a_reason(cloud):
    live.provider_classes()
    module = importlib.import_module('ansible_collections.multicloud.secgroup.plugins.module_utils._%s' % cloud)
    keys = set('%s.%s' % (name, key) for name in ('INFERRED', 'ENI_INFERRED', 'CREDENTIAL_INFERRED') for key in getattr(module, name, {}))
    covered = set(key for entry in probes.for_cloud(cloud) for key in entry['keys'])
    assert keys - covered == set()
    assert covered - keys == set()


def test_catalogue_entries_are_sound():
    ids = [entry['id'] for entry in probes.CATALOGUE]
    assert len(ids) == len(set(ids))
    for entry in probes.CATALOGUE:
        assert ('probe' in entry) != ('skip' in entry), entry['id']
        assert entry.get('probe', 'duplicate_bind') in probes.KINDS
        assert entry['fact'] and entry['assumed'] and entry['source']
