# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The live conformance run (docs/live.md): the collection's modules and quarantine role against one disposable
instance (or ENI) per cloud, through ansible-playbook, with every step checked, the facts nobody documents probed
(tests/live/probes.py), the target's groups put back at the end whatever happened, and a JSON report.

    python tests/live/live.py [--dry-run] [--emulator] [--clouds tencentcloud,zenlayer] [--output DIR]

With MULTICLOUD_SECGROUP_LIVE=1 it runs against the real clouds the MULTICLOUD_SECGROUP_LIVE_<CLOUD>_* variables name;
without it (or with --emulator), against the local emulator (tests/emulator), on all four clouds.
"""

import argparse
import atexit
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests'))
sys.path.insert(0, os.path.join(ROOT, 'scripts'))

import probes as catalogue  # noqa: E402  pylint: disable=wrong-import-position
import scan_secrets  # noqa: E402  pylint: disable=wrong-import-position

CLOUDS = catalogue.CLOUDS
PREFIX = 'MULTICLOUD_SECGROUP_LIVE'
OUTPUT = os.path.join(ROOT, 'tests', 'output', 'live')
SCHEMA = 'multicloud.secgroup/live-report/1'
PROXY_VARIABLES = ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy')
# An environment variable whose value is a credential secret (also the key IDs named *SECRET_ID: masked too, harmless).
SECRET_VARIABLE = re.compile(r'SECRET|PASSWORD|TOKEN', re.IGNORECASE)
BANNER = '!' * 100

# The emulator's accounts, given to the modules through the clouds' usual variables as a user's would be.
EMULATOR_CREDENTIALS = {
    'tencentcloud': {'TENCENTCLOUD_SECRET_ID': 'AKIDlivecheck0001', 'TENCENTCLOUD_SECRET_KEY': 'Tc-Live-Secret-Never-In-Report'},
    'alicloud': {'ALICLOUD_ACCESS_KEY': 'LTAI5tlivecheck01', 'ALICLOUD_SECRET_KEY': 'Ali-Live-Secret-Never-In-Report'},
    'baiducloud': {'BAIDUCLOUD_ACCESS_KEY': 'bdlivecheck000001', 'BAIDUCLOUD_SECRET_KEY': 'Bd-Live-Secret-Never-In-Report'},
    'zenlayer': {'ZENLAYERCLOUD_ACCESS_KEY_ID': 'AKID-ZL-LIVECHECK', 'ZENLAYERCLOUD_ACCESS_KEY_PASSWORD': 'Zl-Live-Password-Never-In-Report'},
}
KEY_ID_VARIABLE = {'tencentcloud': 'TENCENTCLOUD_SECRET_ID', 'alicloud': 'ALICLOUD_ACCESS_KEY', 'baiducloud': 'BAIDUCLOUD_ACCESS_KEY',
                   'zenlayer': 'ZENLAYERCLOUD_ACCESS_KEY_ID'}
SECRET_VARIABLE_OF = {'tencentcloud': 'TENCENTCLOUD_SECRET_KEY', 'alicloud': 'ALICLOUD_SECRET_KEY', 'baiducloud': 'BAIDUCLOUD_SECRET_KEY',
                      'zenlayer': 'ZENLAYERCLOUD_ACCESS_KEY_PASSWORD'}

# The protocol, in order: (step ID, what it does). Task names in protocol.yml and restore.yml start with 'Step <ID>: '.
STEPS = (
    ('save', 'sg_binding_info: read and save the target\'s groups'),
    ('prepare', 'sg_binding purge to [G0] (check mode, then the real run): a known start'),
    ('bind', 'sg_binding bind G1 (check, run): G0 and G1 read back'),
    ('bind_again', 'sg_binding bind G1 again (check, run): no change, no write'),
    ('unbind', 'sg_binding unbind G1 (check, run): [G0] read back'),
    ('probes', 'live_probe: bind of G0 (bound already), unbind of G1 (not bound), bind then unbind G1 read until each shows, '
               'unknown IDs, a bad signature, a burst of reads'),
    ('purge', 'sg_binding purge to the groups in a new order (check, run): that list read back, in order where the cloud orders'),
    ('info', 'sg_binding_info of the target and of the groups (the reverse question)'),
    ('isolate_check', 'role sg_quarantine isolate in check mode: predicts [G0]'),
    ('isolate', 'role sg_quarantine isolate behind G0: [G0] read back'),
    ('unquarantine', 'role sg_quarantine restore: the purge step\'s list read back, in order'),
    ('restore', 'sg_binding purge to the saved groups, in the saved order, read back (always runs)'),
)
STEP_IDS = tuple(step for step, dummy in STEPS)


class ConfigError(Exception):
    pass


# --- the provider classes (for the ID rules) --------------------------------------------------------------

_TREE = []


def collections_tree():
    """A directory holding ansible_collections/multicloud/secgroup -> this checkout (made once, removed at exit)."""
    if not _TREE:
        base = tempfile.mkdtemp(prefix='multicloud-secgroup-live-')
        atexit.register(shutil.rmtree, base, True)
        os.makedirs(os.path.join(base, 'ansible_collections', 'multicloud'))
        os.symlink(ROOT, os.path.join(base, 'ansible_collections', 'multicloud', 'secgroup'))
        _TREE.append(base)
    return _TREE[0]


def provider_classes():
    tree = collections_tree()
    if tree not in sys.path:
        sys.path.insert(0, tree)
    from ansible_collections.multicloud.secgroup.plugins.module_utils import _generic  # pylint: disable=import-outside-toplevel
    return _generic.PROVIDERS


# --- configuration -----------------------------------------------------------------------------------------

def variable(cloud, name):
    return '%s_%s_%s' % (PREFIX, cloud.upper(), name)


def split_ids(text):
    return [part for part in re.split(r'[\s,]+', text.strip()) if part]


def kind_of(cls, option):
    return next(kind for kind in cls.target_kinds if kind.option == option)


def cloud_config(cloud, environ, cls):
    """One cloud's target, groups and region from the environment; a list of problems (each naming the variable,
    its value and the rule) when any is wrong."""
    problems = []
    instance, eni = environ.get(variable(cloud, 'INSTANCE'), '').strip(), environ.get(variable(cloud, 'ENI'), '').strip()
    if bool(instance) == bool(eni):
        problems.append('%s, %s: give exactly one of them (one disposable instance, or one ENI)%s'
                        % (variable(cloud, 'INSTANCE'), variable(cloud, 'ENI'), ': both are set' if instance else ''))
    option = 'instance_ids' if instance else 'network_interface_ids'
    target = instance or eni
    if eni and cloud == 'zenlayer':
        problems.append('%s=%r: Zenlayer vNICs take exactly one group, the protocol needs two at once; name an instance with %s'
                        % (variable(cloud, 'ENI'), eni, variable(cloud, 'INSTANCE')))
    elif target and not re.fullmatch(kind_of(cls, option).pattern, target):
        problems.append('%s=%r: not a %s %s ID (%s)' % (variable(cloud, 'INSTANCE' if instance else 'ENI'), target, cls.display_name,
                                                        kind_of(cls, option).word, kind_of(cls, option).pattern))
    raw_groups = environ.get(variable(cloud, 'GROUPS'), '')
    groups = split_ids(raw_groups)
    most = min(3, cls.constraints.max_groups)
    bad = [g for g in groups if not re.fullmatch(cls.security_group_id_pattern, g)]
    if bad:
        problems.append('%s=%r: %s not a %s security group ID (%s)'
                        % (variable(cloud, 'GROUPS'), raw_groups, ', '.join(bad), cls.display_name, cls.security_group_id_pattern))
    elif not 2 <= len(groups) <= most or len(set(groups)) != len(groups):
        problems.append('%s=%r: give 2%s distinct security group IDs separated by commas (the first also serves as the '
                        'quarantine group)' % (variable(cloud, 'GROUPS'), raw_groups, ' or 3' if most >= 3 else ''))
    region = environ.get(variable(cloud, 'REGION'), '').strip()
    if getattr(cls, 'region_pattern', None) is None:
        if region:
            problems.append('%s=%r: %s has no regions; unset it' % (variable(cloud, 'REGION'), region, cls.display_name))
        region = None
    elif not region:
        problems.append('%s is not set: the region of the %s' % (variable(cloud, 'REGION'), 'instance' if instance else 'ENI'))
    elif not re.fullmatch(cls.region_pattern, region):
        problems.append('%s=%r: not a %s region (%s)' % (variable(cloud, 'REGION'), region, cls.display_name, cls.region_pattern))
    return {'cloud': cloud, 'kind': option, 'target': target, 'groups': groups, 'region': region}, problems


def burst_setting(environ):
    raw = environ.get(PREFIX + '_BURST', '').strip()
    if not raw:
        return 30
    if not re.fullmatch(r'\d+', raw) or int(raw) > 100:
        raise ConfigError('%s_BURST=%r: a whole number of reads from 0 (no burst) to 100' % (PREFIX, raw))
    return int(raw)


def live_config(environ, only=None):
    """The clouds to run against a real account, from MULTICLOUD_SECGROUP_LIVE*; ConfigError listing every problem."""
    if environ.get(PREFIX) != '1':
        raise ConfigError('%s=%r: set it to 1 to run against a real account (nothing else enables it)' % (PREFIX, environ.get(PREFIX, '')))
    classes = provider_classes()
    chosen = split_ids(environ.get(PREFIX + '_CLOUDS', '')) or [c for c in CLOUDS if environ.get(variable(c, 'INSTANCE')) or environ.get(variable(c, 'ENI'))]
    if only:
        chosen = [c for c in chosen if c in only] if chosen else list(only)
    unknown = [c for c in chosen if c not in CLOUDS]
    if unknown:
        raise ConfigError('%s_CLOUDS: %s: not a cloud of this collection (%s)' % (PREFIX, ', '.join(unknown), ', '.join(CLOUDS)))
    if not chosen:
        raise ConfigError('no cloud to run: set %s_<CLOUD>_INSTANCE (or _ENI), _GROUPS and _REGION for at least one of %s'
                          % (PREFIX, ', '.join(c.upper() for c in CLOUDS)))
    configs, problems = [], []
    for cloud in chosen:
        config, found = cloud_config(cloud, environ, classes[cloud])
        configs.append(config)
        problems.extend(found)
    burst = burst_setting(environ)
    if problems:
        raise ConfigError('the live run is not configured; nothing was sent:\n  - ' + '\n  - '.join(problems))
    for config in configs:
        config['burst'] = burst
    return configs


def emulator_config(only=None):
    """Each cloud's seeded instance and groups in the emulator: the instance starts with group 1 (what the run saves and
    puts back); the protocol's groups are 2, 3 and 4."""
    import playbook_runner  # pylint: disable=import-outside-toplevel
    classes = provider_classes()
    configs = []
    for cloud in only or CLOUDS:
        spec = playbook_runner.PROVIDERS[cloud]
        most = min(3, classes[cloud].constraints.max_groups)
        configs.append({'cloud': cloud, 'kind': 'instance_ids', 'target': spec['instance'] % 1, 'region': spec['region'],
                        'groups': [spec['group'] % n for n in range(2, 2 + most)], 'burst': 30})
    return configs


def emulator_seed(configs):
    import playbook_runner  # pylint: disable=import-outside-toplevel
    seed = {}
    for config in configs:
        spec = playbook_runner.PROVIDERS[config['cloud']]
        creds = EMULATOR_CREDENTIALS[config['cloud']]
        seed[config['cloud']] = playbook_runner.seed(config['cloud'], creds[KEY_ID_VARIABLE[config['cloud']]],
                                                     creds[SECRET_VARIABLE_OF[config['cloud']]], instances=1, groups=4, bound=1)
        seed[config['cloud']]['instances'][0]['name'] = 'live-check'
        assert seed[config['cloud']]['instances'][0]['id'] == config['target'] == spec['instance'] % 1
    return seed


def host_vars(config, endpoint, live):
    """The `live` variable of a cloud's host in protocol.yml."""
    classes = provider_classes()
    cls = classes[config['cloud']]
    ordered = cls.constraints.ordered if config['kind'] == 'instance_ids' else kind_ordered(cls, config['kind'])
    cloud_probes = catalogue.for_cloud(config['cloud'])
    module_probes = [name for name in catalogue.MODULE_PROBES
                     if any(entry.get('probe') == name for entry in cloud_probes)]
    return {'provider': config['cloud'], 'region': config['region'], 'kind': config['kind'], 'target': config['target'],
            'groups': list(config['groups']), 'new_order': list(reversed(config['groups'])), 'endpoint': endpoint,
            'sync': cls.completion == 'sync', 'ordered': ordered, 'quarantine': config['kind'] == 'instance_ids',
            'probes': module_probes, 'burst': config['burst'],
            'visibility_timeout': 120.0 if live else 30.0, 'visibility_interval': 1.0 if live else 0.1}


def kind_ordered(cls, option):
    """Whether the cloud keeps the order of an ENI's groups (Tencent Cloud's ENI constraints say so)."""
    module = sys.modules[cls.__module__]
    kinds = getattr(module, 'KINDS', None)
    if isinstance(kinds, dict) and option in kinds:
        return kinds[option]['constraints'].ordered
    return cls.constraints.ordered


# --- dry run ---------------------------------------------------------------------------------------------

def dry_run_text(plans, mode):
    lines = ['live run, dry run (%s): nothing is sent; the steps per cloud:' % mode]
    for plan in plans:
        where = ' in %s' % plan['region'] if plan['region'] else ''
        lines.append('')
        lines.append('%s: %s %s%s, groups G0..G%d = %s' % (plan['provider'], plan['kind'].replace('_ids', ''), plan['target'], where,
                                                           len(plan['groups']) - 1, ', '.join(plan['groups'])))
        for number, (step, text) in enumerate(STEPS, 1):
            if step in ('isolate_check', 'isolate', 'unquarantine') and not plan['quarantine']:
                text = 'skipped: the quarantine role isolates instances, not ENIs'
            lines.append('  %2d. %-13s %s' % (number, step, text))
        lines.append('  probes:')
        for entry in catalogue.for_cloud(plan['provider']):
            lines.append('    %-36s %s' % (entry['id'], ('probe %s' % entry['probe']) if 'probe' in entry else 'skipped: ' + entry['skip']))
    return '\n'.join(lines)


# --- running ansible-playbook ------------------------------------------------------------------------------

def playbook_environment(live, extra):
    env = dict(os.environ)
    if not live:
        for name in PROXY_VARIABLES:
            env.pop(name, None)
    env.update(ANSIBLE_COLLECTIONS_PATH=collections_tree(), ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback'),
               ANSIBLE_CALLBACKS_ENABLED='live_steps', ANSIBLE_LIBRARY=os.path.join(HERE, 'library'), ANSIBLE_FORKS='4',
               ANSIBLE_LOCALHOST_WARNING='False', ANSIBLE_INVENTORY_UNPARSED_WARNING='False', ANSIBLE_NOCOLOR='1',
               ANSIBLE_RETRY_FILES_ENABLED='False', ANSIBLE_HOME=os.path.join(collections_tree(), 'ansible-home'),
               ANSIBLE_DEPRECATION_WARNINGS='False', ANSIBLE_PIPELINING='True')
    env.update(extra)
    return env


def quarantine_inputs(plans, record_dir):
    """The sg_quarantine role's inputs for every cloud's instance at once."""
    chosen = [p for p in plans.values() if p['quarantine']]
    targets = [dict({'provider': p['provider'], 'instance_id': p['target']}, **({'region': p['region']} if p['region'] else {})) for p in chosen]
    return {'targets': targets, 'group_ids': dict((p['provider'], [p['groups'][0]]) for p in chosen), 'record_dir': record_dir,
            'options': dict((p['provider'], {'endpoint': p['endpoint']} if p['endpoint'] else {}) for p in chosen)}


def run_playbook(playbook, hosts, env, steps_file, log_file, timeout, group_vars=None):  # pylint: disable=too-many-arguments
    """ansible-playbook on an inventory of one host per cloud; (rc, records per host in order)."""
    inventory = steps_file + '.inventory.json'
    with open(inventory, 'w') as handle:
        json.dump({'all': {'vars': group_vars or {},
                           'hosts': dict((name, {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable, 'live': live})
                                         for name, live in hosts.items())}}, handle)
    if os.path.exists(steps_file):
        os.remove(steps_file)
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', inventory, os.path.join(HERE, playbook)]
    try:
        proc = subprocess.run(cmd, env=dict(env, MULTICLOUD_SECGROUP_LIVE_STEPS=steps_file), capture_output=True, text=True,
                              timeout=timeout, check=False)
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, out, err = 124, exc.stdout or '', (exc.stderr or '') + '\nlive: ansible-playbook timed out after %d s' % timeout
    with open(log_file, 'a') as handle:
        handle.write('=== %s ===\n%s\n=== stderr ===\n%s\n' % (' '.join(cmd[1:]), out, err))
    os.remove(inventory)
    return rc, read_records(steps_file, hosts)


def read_records(steps_file, hosts):
    """The callback's records so far, per host in order; a loop item's record goes to the host of its provider (the
    role runs once for every cloud)."""
    records = dict((name, []) for name in hosts)
    if os.path.exists(steps_file):
        with open(steps_file) as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue        # a line cut short by an interrupted run
                owner = record.get('item_provider') if record.get('item_provider') in hosts else record['host']
                records.setdefault(owner, []).append(record)
    return records


# --- reading the results -----------------------------------------------------------------------------------

def by_step(records):
    """{step: [records]}: a task named 'Step <step>: ...' opens its step; the role's own tasks belong to the step open."""
    steps, current = {}, None
    for record in records:
        opened = re.match(r'Step (\w+): ', record['task'])
        if opened and opened.group(1) in STEP_IDS:
            current = opened.group(1)
        if current:
            steps.setdefault(current, []).append(record)
    return steps


def result_key(plan):
    return 'instances' if plan['kind'] == 'instance_ids' else 'network_interfaces'


def groups_read(record, plan):
    """The target's groups in a record: sg_binding's `after`, or sg_binding_info's `security_group_ids`."""
    items = record.get(result_key(plan)) or []
    item = next((i for i in items if plan['target'] in (i.get('instance_id'), i.get('network_interface_id'))), None)
    if item is None:
        return None
    return list(item['after'] if 'after' in item else item.get('security_group_ids') or [])


def same(a, b, ordered):
    if a is None or b is None:
        return False
    return list(a) == list(b) if ordered else sorted(a) == sorted(b)


def operations_of(record):
    return [(op.get('action'), tuple(op.get('security_group_ids') or ())) for op in record.get('operations') or []]


def task_summary(record):
    out = {'task': record['task'], 'check_mode': record['check_mode'], 'status': record['status'],
           'duration_s': round(record['end'] - record['start'], 3) if record.get('start') else None}
    for key in ('changed', 'operations', 'request_ids', 'attempts', 'error', 'msg', 'warnings'):
        if record.get(key) not in (None, [], ''):
            out[key] = record[key]
    if out['status'] == 'skipped':
        out.pop('msg', None)
    return out


class Checker:
    """The checks of one step: each with what was expected and what was read."""

    def __init__(self):
        self.checks = []

    def check(self, what, ok, detail=''):
        self.checks.append({'what': what, 'ok': bool(ok), 'detail': detail})
        return ok


def named(records, suffix):
    return next((r for r in records if r['task'].endswith(suffix)), None)


def compare_check_run(checker, check, run, plan):
    """Check mode must predict the real run: the same change, the same write calls, the same groups after."""
    if not check or not run:
        return checker.check('check mode and the real run both ran', False)
    checker.check('check mode predicts changed=%s' % run.get('changed'), check.get('changed') == run.get('changed'),
                  'check: %s' % check.get('changed'))
    checker.check('check mode predicts the write calls', operations_of(check) == operations_of(run),
                  'check %s, run %s' % (operations_of(check), operations_of(run)))
    return checker.check('check mode predicts the groups after', same(groups_read(check, plan), groups_read(run, plan), plan['ordered']),
                         'check %s, run %s' % (groups_read(check, plan), groups_read(run, plan)))


def check_step(step, records, plan):
    """The checks of one step from its records (a Checker)."""
    checker = Checker()
    g = plan['groups']
    failed = [r for r in records if r['status'] in ('failed', 'unreachable')]
    checker.check('every task succeeded', not failed, '; '.join('%s: %s' % (r['task'], r.get('msg', '')) for r in failed))
    check, run = named(records, ': check'), named(records, ': run')
    if step == 'save':
        checker.check('the target was found', records and groups_read(records[0], plan) is not None)
    elif step in ('prepare', 'bind', 'unbind', 'purge'):
        compare_check_run(checker, check, run, plan)
        wanted = {'prepare': [g[0]], 'bind': [g[0], g[1]], 'unbind': [g[0]], 'purge': plan['new_order']}[step]
        after = groups_read(run, plan) if run else None
        checker.check('%s read back' % wanted, same(after, wanted, plan['ordered'] and step == 'purge') if step != 'bind' else same(after, wanted, False),
                      'read %s' % after)
    elif step == 'restore':
        after = groups_read(run, plan) if run else None
        checker.check('the saved groups %s read back' % plan.get('saved'), same(after, plan.get('saved'), plan['ordered']), 'read %s' % after)
    elif step == 'bind_again':
        compare_check_run(checker, check, run, plan)
        checker.check('no change and no write call', run and not run.get('changed') and not run.get('operations'),
                      'changed %s, operations %s' % (run and run.get('changed'), run and run.get('operations')))
    elif step == 'probes':
        checker.check('the probes answered', records and (records[0]['status'] == 'skipped' or records[0].get('probes')))
    elif step == 'info':
        info = records[0] if records else {}
        checker.check('the target has the purge step\'s groups', same(groups_read(info, plan), plan['new_order'], plan['ordered']),
                      'read %s' % groups_read(info, plan))
        bindings = dict((b.get('security_group_id'), b.get(plan['kind']) or []) for b in info.get('bindings') or [])
        checker.check('by group: each group lists the target', all(plan['target'] in bindings.get(sg, []) for sg in plan['new_order']),
                      'bindings %s' % bindings)
    elif step in ('isolate_check', 'isolate', 'unquarantine') and plan['quarantine']:
        writes = [r for r in records if r.get(result_key(plan)) and any('after' in i for i in r[result_key(plan)])]
        if step == 'isolate_check':
            predicted = groups_read(writes[-1], plan) if writes else None
            checker.check('check mode predicts [G0]', predicted == [g[0]], 'predicted %s' % predicted)
        else:
            after = groups_read(writes[-1], plan) if writes else None
            wanted = [g[0]] if step == 'isolate' else plan['new_order']
            checker.check('%s read back' % wanted, same(after, wanted, plan['ordered']), 'read %s' % after)
    return checker


def calls_in(log, cloud, records):
    """The emulator's request log entries of this cloud within the records' time windows."""
    windows = [(r['start'], r['end']) for r in records if r.get('start')]
    mine = [e for e in log if e.get('provider') == cloud and any(s - 0.05 <= e.get('start', 0) <= t + 0.05 for s, t in windows)]
    by_action = {}
    for entry in mine:
        by_action[entry['action']] = by_action.get(entry['action'], 0) + 1
    errors = [{'action': e['action'], 'status': e.get('status'), 'code': e.get('error_code'), 'request_id': e.get('request_id')}
              for e in mine if e.get('error_code')]
    return {'count': len(mine), 'by_action': by_action, 'errors': errors}


def probe_answers(plan, steps):
    """Each catalogue entry of the cloud with its answer and verdict."""
    answers = {}
    probe_records = steps.get('probes') or []
    module_answers = (probe_records[0].get('probes') or {}) if probe_records else {}
    for name, answer in module_answers.items():
        answers[name] = dict(answer)
    purge = named(steps.get('purge') or [], ': run')
    if purge and purge['status'] == 'ok':
        after = groups_read(purge, plan)
        answers['group_order'] = {'outcome': 'kept' if after == plan['new_order'] else 'not_kept', 'set': plan['new_order'], 'read': after}
    bind = named(steps.get('bind') or [], ': run')
    if bind and bind['status'] == 'ok':
        after = groups_read(bind, plan) or []
        new = plan['groups'][1]
        answers['bind_position'] = {'outcome': 'last' if after[-1:] == [new] else ('first' if after[:1] == [new] else 'other'), 'read': after}
    out = []
    for entry in catalogue.for_cloud(plan['provider']):
        item = dict((k, entry[k]) for k in ('id', 'fact', 'source', 'assumed'))
        if 'skip' in entry:
            item.update(status='skipped', why=entry['skip'])
        else:
            answer = answers.get(entry['probe'])
            if answer and entry['probe'] == 'read_burst' and answer.get('outcome') == 'throttled':
                first = answer['throttled']
                rate = first['after_reads'] / first['after_s'] if first.get('after_s') else float('inf')
                answer['outcome'] = 'throttled_above' if rate >= entry['rate'] else 'throttled_below'
                answer['throttled_at_calls_per_s'] = round(rate, 1) if rate != float('inf') else None
            if answer and answer.get('outcome') == 'skipped':
                item.update(status='skipped', why=answer.get('why'))
            else:
                verdict = catalogue.judge(entry, answer)
                item.update(status='answered' if verdict != 'unanswered' else 'unanswered', answer=answer, expect=entry['expect'],
                            mismatch=verdict == 'mismatch')
        out.append(item)
    return out


# --- the report --------------------------------------------------------------------------------------------

def versions():
    import ansible  # pylint: disable=import-outside-toplevel
    import requests  # pylint: disable=import-outside-toplevel
    with open(os.path.join(ROOT, 'galaxy.yml')) as handle:
        version = re.search(r'^version:\s*(\S+)', handle.read(), re.MULTILINE)
    return {'collection': version.group(1) if version else None, 'ansible_core': ansible.__version__,
            'python': platform.python_version(), 'requests': requests.__version__, 'platform': platform.platform()}


def secret_values(environ, extra=()):
    """Every credential secret the run could know: the variables that name one (and the emulator's)."""
    values = set(v for k, v in environ.items() if SECRET_VARIABLE.search(k) and v and len(v) >= 6)
    values.update(extra)
    return sorted(values)


def redact(value, secrets):
    if isinstance(value, dict):
        return dict((k, redact(v, secrets)) for k, v in value.items())
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            for form in scan_secrets.forms(secret):
                value = value.replace(form, '********')
        return value
    return value


def leaked(text, secrets):
    return [s for s in secrets if any(form in text for form in scan_secrets.forms(s))]


REPORT_KEYS = {'schema': str, 'mode': str, 'started': str, 'finished': str, 'duration_s': (int, float), 'versions': dict,
               'ok': bool, 'clouds': list, 'mismatches': list, 'restore_failures': list, 'interrupted': (str, type(None))}
CLOUD_KEYS = {'cloud': str, 'region': (str, type(None)), 'target_kind': str, 'target': str, 'groups': list,
              'saved_groups': (list, type(None)), 'ok': bool, 'duration_s': (int, float), 'steps': list, 'probes': list, 'restore': dict}
STEP_KEYS = {'id': str, 'description': str, 'status': str, 'checks': list, 'tasks': list}
PROBE_STATUSES = ('answered', 'unanswered', 'skipped')


def validate_report(report):
    """The report's problems against its schema (an empty list when it is sound)."""
    problems = []

    def keys(obj, spec, where):
        if not isinstance(obj, dict):
            problems.append('%s: not an object' % where)
            return
        for key, kind in spec.items():
            if key not in obj:
                problems.append('%s: no %s' % (where, key))
            elif not isinstance(obj[key], kind):
                problems.append('%s.%s: %r is not %s' % (where, key, obj[key], kind))
    keys(report, REPORT_KEYS, 'report')
    if report.get('schema') != SCHEMA:
        problems.append('report.schema: %r, not %s' % (report.get('schema'), SCHEMA))
    if report.get('mode') not in ('emulator', 'live'):
        problems.append('report.mode: %r' % report.get('mode'))
    for n, cloud in enumerate(report.get('clouds') or []):
        where = 'clouds[%d]' % n
        keys(cloud, CLOUD_KEYS, where)
        if not isinstance(cloud, dict):
            continue
        if [s.get('id') for s in cloud.get('steps') or []] != list(STEP_IDS):
            problems.append('%s.steps: not the protocol\'s steps in order' % where)
        for step in cloud.get('steps') or []:
            keys(step, STEP_KEYS, '%s.steps.%s' % (where, step.get('id')))
            if step.get('status') not in ('ok', 'failed', 'skipped', 'not_run'):
                problems.append('%s.steps.%s.status: %r' % (where, step.get('id'), step.get('status')))
        for probe in cloud.get('probes') or []:
            if probe.get('status') not in PROBE_STATUSES or not probe.get('id', '').startswith(cloud.get('cloud', '?') + '.'):
                problems.append('%s.probes: %r' % (where, probe.get('id')))
            if probe.get('status') == 'skipped' and not probe.get('why'):
                problems.append('%s.probes.%s: skipped without saying why' % (where, probe.get('id')))
        if (cloud.get('restore') or {}).get('status') not in ('restored', 'failed', 'not_needed'):
            problems.append('%s.restore.status: %r' % (where, (cloud.get('restore') or {}).get('status')))
    return problems


def cloud_report(plan, records, restore_records, calls_log, started, finished):
    steps = by_step(records + restore_records)
    saved_record = (steps.get('save') or [None])[0]
    saved = groups_read(saved_record, plan) if saved_record and saved_record['status'] == 'ok' else None
    out_steps, failed_seen = [], False
    for step, description in STEPS:
        mine = steps.get(step) or []
        if not mine:
            status, checks = 'not_run', []
        elif all(r['status'] == 'skipped' for r in mine):
            status, checks = 'skipped', []
        else:
            checks = check_step(step, mine, dict(plan, saved=saved)).checks
            status = 'ok' if all(c['ok'] for c in checks) else 'failed'
        failed_seen = failed_seen or status == 'failed'
        item = {'id': step, 'description': description, 'status': status, 'checks': checks, 'tasks': [task_summary(r) for r in mine]}
        if calls_log is not None:
            item['calls'] = calls_in(calls_log, plan['provider'], mine)
        out_steps.append(item)
    restore_status = next(s for s in out_steps if s['id'] == 'restore')
    if saved is None:
        restore = {'status': 'not_needed', 'detail': 'the save step did not complete, so nothing was written'}
    elif restore_status['status'] == 'ok':
        restore = {'status': 'restored', 'groups': saved}
    else:
        restore = {'status': 'failed', 'groups': saved,
                   'detail': '; '.join(c['detail'] or c['what'] for c in restore_status['checks'] if not c['ok']) or 'the restore did not run'}
    probes = probe_answers(plan, steps)
    expected_skips = set(['isolate_check', 'isolate', 'unquarantine']) if not plan['quarantine'] else set()
    ok = all(s['status'] == 'ok' or (s['status'] == 'skipped' and s['id'] in expected_skips | set(['probes'])) for s in out_steps) \
        and restore['status'] == 'restored'
    return {'cloud': plan['provider'], 'region': plan['region'], 'target_kind': plan['kind'], 'target': plan['target'],
            'groups': plan['groups'], 'new_order': plan['new_order'], 'ordered': plan['ordered'], 'saved_groups': saved, 'ok': ok,
            'duration_s': round(finished - started, 3), 'steps': out_steps, 'probes': probes, 'restore': restore}


def restore_banner(cloud):
    r = cloud['restore']
    args = {'provider': cloud['cloud'], cloud['target_kind']: [cloud['target']], 'security_group_ids': r.get('groups') or [], 'purge': True}
    if cloud['region']:
        args['region'] = cloud['region']
    return '\n'.join([
        BANNER,
        '!!! THE LIVE RUN COULD NOT PUT BACK THE GROUPS OF %s %s: %s' % (cloud['cloud'], cloud['target'], r.get('detail')),
        '!!! It had, in this order: %s' % (', '.join(r.get('groups') or []) or '(no group)'),
        '!!! Put them back by hand, for example:',
        "!!!   ansible localhost -m multicloud.secgroup.sg_binding -a '%s'" % json.dumps(args, sort_keys=True),
        BANNER])


def summary_lines(report, path):
    lines = ['', 'live run (%s): %s in %.1f s; report %s' % (report['mode'], 'PASSED' if report['ok'] else 'FAILED',
                                                             report['duration_s'], os.path.relpath(path, ROOT))]
    for cloud in report['clouds']:
        counts = {}
        for step in cloud['steps']:
            counts[step['status']] = counts.get(step['status'], 0) + 1
        answered = [p for p in cloud['probes'] if p['status'] == 'answered']
        lines.append('  %-12s %s  steps %s; probes answered %d, skipped %d, unanswered %d; restore %s; %.1f s'
                     % (cloud['cloud'], 'ok    ' if cloud['ok'] else 'FAILED', ', '.join('%s %d' % kv for kv in sorted(counts.items())),
                        len(answered), sum(1 for p in cloud['probes'] if p['status'] == 'skipped'),
                        sum(1 for p in cloud['probes'] if p['status'] == 'unanswered'), cloud['restore']['status'], cloud['duration_s']))
        for step in cloud['steps']:
            for check in step['checks']:
                if not check['ok']:
                    lines.append('      step %s: %s FAILED: %s' % (step['id'], check['what'], check['detail']))
    for mismatch in report['mismatches']:
        lines.append('  MISMATCH %s' % mismatch)
    if report['interrupted']:
        lines.append('  INTERRUPTED: %s' % report['interrupted'])
    return lines


# --- the run -----------------------------------------------------------------------------------------------

def start_emulator(configs):
    from emulator import start  # pylint: disable=import-outside-toplevel
    return start(emulator_seed(configs))


def admin(running, method, path, body=None):
    data = json.dumps(body).encode('utf-8') if body is not None else None
    request = urllib.request.Request(running.endpoints['admin'] + path, data=data, method=method,
                                     headers={'Content-Type': 'application/json'})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as resp:
        return json.loads(resp.read().decode('utf-8'))


def saved_groups(plans, records):
    """{cloud: its plan with `saved`} for every cloud whose save step read the target."""
    saved = {}
    for name, plan in plans.items():
        save = (by_step(records.get(name, [])).get('save') or [None])[0]
        if save and save['status'] == 'ok' and groups_read(save, plan) is not None:
            saved[name] = dict(plan, saved=groups_read(save, plan))
    return saved


def protocol_then_restore(plans, env, work, log_file, live):
    """The protocol, then the restore of every cloud whose groups were saved, whatever stopped the protocol (a failed
    step, a crash, Ctrl-C): (records, restore records, what interrupted the run or None)."""
    steps_file = os.path.join(work, 'steps.jsonl')
    interrupted = None
    try:
        dummy, records = run_playbook('protocol.yml', plans, env, steps_file, log_file, 3600 if live else 600,
                                      {'quarantine': quarantine_inputs(plans, os.path.join(work, 'records'))})
    except (Exception, KeyboardInterrupt) as exc:  # pylint: disable=broad-except
        interrupted = 'the protocol stopped: %s: %s' % (type(exc).__name__, exc)
        records = read_records(steps_file, plans)
    saved = saved_groups(plans, records)
    restore_records = dict((name, []) for name in plans)
    if saved:
        print('live run: putting back the saved groups on %s ...' % ', '.join(saved), flush=True)
        try:
            dummy, restore_records = run_playbook('restore.yml', saved, env, steps_file + '.restore', log_file, 1800 if live else 300)
        except (Exception, KeyboardInterrupt) as exc:  # pylint: disable=broad-except
            interrupted = (interrupted + '; ' if interrupted else '') + 'the restore stopped: %s: %s' % (type(exc).__name__, exc)
            restore_records = read_records(steps_file + '.restore', saved)
    return records, restore_records, interrupted


def write_report(report, secrets, out_dir, stamp):
    """Redact, validate, write; the report's path. Refuses to write a report that fails its schema or holds a secret."""
    report = redact(report, secrets)
    text = json.dumps(report, indent=2, sort_keys=True)
    problems = validate_report(report) + ['a secret is still in the report' for dummy in leaked(text, secrets)]
    if problems:
        raise RuntimeError('the report is not sound: ' + '; '.join(problems))
    path = os.path.join(out_dir, 'report-%s.json' % stamp)
    with open(path, 'w') as handle:
        handle.write(text + '\n')
    return path, report


def run(configs, mode, out_dir, environ=None):
    """The protocol on every configured cloud at once (one host each), then the restore; returns (report, rc)."""
    live = mode == 'live'
    environ = dict(os.environ if environ is None else environ)
    started_at = datetime.datetime.now(datetime.timezone.utc)
    stamp = started_at.strftime('%Y%m%dT%H%M%SZ')
    os.makedirs(out_dir, exist_ok=True)
    log_file = os.path.join(out_dir, 'run-%s.log' % stamp)
    work = tempfile.mkdtemp(prefix='multicloud-secgroup-live-run-')
    running, extra_env, secrets = None, {}, secret_values(environ)
    try:
        if not live:
            running = start_emulator(configs)
            admin(running, 'POST', '/settings', {'enforce_rate_limits': True})
            for config in configs:
                extra_env.update(EMULATOR_CREDENTIALS[config['cloud']])
            secrets = secret_values(extra_env, secrets)
        endpoints = running.endpoints if running else {}
        plans = dict((c['cloud'], host_vars(c, endpoints.get(c['cloud']), live)) for c in configs)
        print('live run (%s): %s; protocol on %d cloud(s) at once ...' % (mode, ', '.join(plans), len(plans)), flush=True)
        t0 = time.time()
        records, restore_records, interrupted = protocol_then_restore(plans, playbook_environment(live, extra_env), work, log_file, live)
        t1 = time.time()
        calls_log = admin(running, 'GET', '/requests').get('requests', []) if running else None
        clouds = [cloud_report(plan, records.get(name, []), restore_records.get(name, []), calls_log, t0, t1) for name, plan in plans.items()]
    finally:
        if running is not None:
            running.stop()
        shutil.rmtree(work, ignore_errors=True)
    mismatches = ['%s: assumed %s; answered %s' % (p['id'], p['assumed'], json.dumps(p['answer'], sort_keys=True))
                  for c in clouds for p in c['probes'] if p.get('mismatch')]
    finished_at = datetime.datetime.now(datetime.timezone.utc)
    report = {'schema': SCHEMA, 'mode': mode, 'started': started_at.isoformat(), 'finished': finished_at.isoformat(),
              'duration_s': round((finished_at - started_at).total_seconds(), 3), 'versions': versions(),
              'ok': all(c['ok'] for c in clouds) and not mismatches and not interrupted, 'clouds': clouds, 'mismatches': mismatches,
              'restore_failures': [c['cloud'] for c in clouds if c['restore']['status'] == 'failed'], 'interrupted': interrupted}
    if os.path.exists(log_file):
        with open(log_file) as handle:
            text = handle.read()
        with open(log_file, 'w') as handle:
            handle.write(redact(text, secrets))
    path, report = write_report(report, secrets, out_dir, stamp)
    for line in summary_lines(report, path):
        print(line)
    for cloud in report['clouds']:
        if cloud['restore']['status'] == 'failed':
            print(restore_banner(cloud), file=sys.stderr)
    rc = 3 if report['restore_failures'] else (0 if report['ok'] else 1)
    return report, rc


def main(argv=None, environ=None):
    parser = argparse.ArgumentParser(prog='python tests/live/live.py', description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--dry-run', action='store_true', help='print the steps per cloud and send nothing')
    parser.add_argument('--emulator', action='store_true', help='run against the local emulator even with %s=1' % PREFIX)
    parser.add_argument('--clouds', help='a comma-separated subset of %s' % ','.join(CLOUDS))
    parser.add_argument('--output', default=OUTPUT, help='where the report goes (default tests/output/live)')
    args = parser.parse_args(argv)
    environ = dict(os.environ if environ is None else environ)
    only = split_ids(args.clouds or '') or None
    if only and any(c not in CLOUDS for c in only):
        print('live: --clouds %s: each must be one of %s' % (args.clouds, ', '.join(CLOUDS)), file=sys.stderr)
        return 2
    live = PREFIX in environ and not args.emulator
    try:
        configs = live_config(environ, only) if live else emulator_config(only)
    except ConfigError as exc:
        print('live: %s' % exc, file=sys.stderr)
        return 2
    mode = 'live' if live else 'emulator'
    if not live and any(k.startswith(PREFIX + '_') for k in environ):
        print('live: %s is not set (or --emulator): the %s_* variables are ignored; running against the emulator' % (PREFIX, PREFIX))
    if args.dry_run:
        plans = [host_vars(c, None, live) for c in configs]
        print(dry_run_text(plans, mode))
        return 0
    dummy, rc = run(configs, mode, args.output, environ)
    return rc


if __name__ == '__main__':
    sys.exit(main())
