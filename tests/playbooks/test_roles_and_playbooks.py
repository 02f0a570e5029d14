# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles and the collection's playbooks run as a new user runs them (ansible-playbook, an inventory of hosts on
the four clouds, extra vars on the command line) against the emulator, outside ansible-test (`make pytest`):

- a clean run of each playbook and of each role prints no [WARNING] nor deprecation, on the ansible-core of the
  running venv and, when present, on the newest one (NEWEST_VENV, default .venv-newest of this checkout, which
  `make test` creates before pytest);
- extra vars that would replace every host's variables are refused by name; role lists given as text are read as
  items; a host's bad variable is named with the host, before any module call.

Outputs are kept in tests/output/playbooks/ for `make secrets-scan`.
"""

import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

import playbook_runner as pr  # noqa: E402  pylint: disable=wrong-import-position
from emulator import start  # noqa: E402  pylint: disable=wrong-import-position

KEY_IDS = {'tencentcloud': 'AKIDroleuser0001', 'alicloud': 'LTAI5troleuser01', 'baiducloud': 'bdroleuser000001',
           'zenlayer': 'AKID-ZL-ROLEUSER'}
SECRETS = {'tencentcloud': 'Tc-Roleuser-Secret-Never-Shown', 'alicloud': 'Ali-Roleuser-Secret-Never-Shown',
           'baiducloud': 'Bd-Roleuser-Secret-Never-Shown', 'zenlayer': 'Zl-Roleuser-Password-Never-Shown'}
ENV_CREDENTIALS = {
    'tencentcloud': {'TENCENTCLOUD_SECRET_ID': KEY_IDS['tencentcloud'], 'TENCENTCLOUD_SECRET_KEY': SECRETS['tencentcloud']},
    'alicloud': {'ALICLOUD_ACCESS_KEY': KEY_IDS['alicloud'], 'ALICLOUD_SECRET_KEY': SECRETS['alicloud']},
    'baiducloud': {'BAIDUCLOUD_ACCESS_KEY': KEY_IDS['baiducloud'], 'BAIDUCLOUD_SECRET_KEY': SECRETS['baiducloud']},
    'zenlayer': {'ZENLAYERCLOUD_ACCESS_KEY_ID': KEY_IDS['zenlayer'], 'ZENLAYERCLOUD_ACCESS_KEY_PASSWORD': SECRETS['zenlayer']},
}
HOSTS_PER_CLOUD = 2
PREFIX = {'tencentcloud': 'tc', 'alicloud': 'al', 'baiducloud': 'bd', 'zenlayer': 'zl'}


def ansible_playbooks():
    """(label, ansible-playbook) for this venv's ansible-core, and the newest one's when that venv exists."""
    found = [('current', os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'))]
    candidates = [os.environ.get('NEWEST_VENV'), os.path.join(ROOT, '.venv-newest')]
    newest = next((path for path in candidates if path and os.path.exists(os.path.join(path, 'bin', 'ansible-playbook'))), None)
    if newest:
        found.append(('newest', os.path.join(newest, 'bin', 'ansible-playbook')))
    return found


def group(name, n):
    return pr.PROVIDERS[name]['group'] % n


def instance(name, n):
    return pr.PROVIDERS[name]['instance'] % n


@pytest.fixture(scope='module')
def emulator():
    for var in pr.PROXY_VARIABLES:
        os.environ.pop(var, None)
    running = start()
    yield running
    running.stop()


@pytest.fixture
def seeded(emulator):
    emulator.emulator.reset()
    emulator.emulator.seed(dict((name, pr.seed(name, KEY_IDS[name], SECRETS[name], instances=HOSTS_PER_CLOUD + 1, groups=4, bound=1))
                                for name in pr.PROVIDERS))
    return emulator


def inventory(tmp_path, wanted=None, extra=''):
    """An inventory of HOSTS_PER_CLOUD hosts per cloud, in groups per cloud and `fleet`; each host wants groups 1 and
    2 (or `wanted[name]`), and has `security_group_ids` as an inventory plugin would set it: what it has now."""
    lines = ['[fleet:children]'] + ['%s_hosts' % name for name in pr.PROVIDERS] + ['']
    for name in pr.PROVIDERS:
        lines.append('[%s_hosts]' % name)
        for n in range(1, HOSTS_PER_CLOUD + 1):
            region = pr.PROVIDERS[name]['region']
            wanted_ids = (wanted or {}).get(name) or [group(name, 1), group(name, 2)]
            lines.append("%s-%d cloud=%s instance_id=%s %s sg_bindings_wanted_group_ids='%s' security_group_ids='%s'"
                         % (PREFIX[name], n, name, instance(name, n), 'cloud_region=%s' % region if region else '',
                            json.dumps(wanted_ids), json.dumps([group(name, 1)])))
        lines.append('')
    path = tmp_path / 'inventory.ini'
    path.write_text('\n'.join(lines) + extra)
    return path


def options(running):
    return dict((name, {'endpoint': running.endpoints[name], 'retry_delay': 0.05}) for name in pr.PROVIDERS)


def run(label, tmp_path, playbook, inventory_path, extra_vars, binary=None, check=True, home=None):
    """ansible-playbook as a user runs it (extra vars as -e JSON, credentials in the environment); returns
    (rc, stdout + stderr)."""
    cmd = [binary or ansible_playbooks()[0][1], str(playbook), '-i', str(inventory_path) if inventory_path else 'localhost,', '-c', 'local']
    for value in extra_vars:
        cmd += ['-e', value if isinstance(value, str) else json.dumps(value)]
    env = pr.playbook_env(tmp_path, ANSIBLE_DEPRECATION_WARNINGS='True', ANSIBLE_LOCALHOST_WARNING='True',
                          ANSIBLE_INVENTORY_UNPARSED_WARNING='True')
    for values in ENV_CREDENTIALS.values():
        env.update(values)
    if home:
        env['HOME'] = home
    proc = pr.subprocess.run(cmd, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=600, check=False)
    pr.keep(label, proc.stdout, proc.stderr)
    output = proc.stdout + proc.stderr
    if check:
        assert proc.returncode == 0, output
    return proc.returncode, output


def assert_no_warning(output):
    assert '[WARNING]' not in output and '[DEPRECATION' not in output, output


def groups_of(running, name):
    return dict((i['id'], i['security_groups']) for i in running.emulator.state()[name]['instances'])


ROLES_PLAYBOOK = '''---
- name: Both roles, explicit entries and targets
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Bind one group on every cloud
      ansible.builtin.include_role:
        name: multicloud.secgroup.sg_bindings
      vars:
        sg_bindings_entries: {entries}
        sg_bindings_options: {options}
    - name: Isolate one instance per cloud
      ansible.builtin.include_role:
        name: multicloud.secgroup.sg_quarantine
      vars:
        sg_quarantine_targets: {targets}
        sg_quarantine_group_ids: {quarantine}
        sg_quarantine_record_dir: {record_dir}
        sg_quarantine_options: {options}
'''


@pytest.mark.parametrize('label,binary', ansible_playbooks())
def test_each_playbook_and_role_runs_without_a_warning(seeded, tmp_path, label, binary):
    inv = inventory(tmp_path)
    opts = options(seeded)
    records = str(tmp_path / 'records' / 'not-made-yet')
    done = {}
    # sg_bindings: every host's wanted groups, purged.
    dummy, out = run('roles-%s-sg_bindings' % label, tmp_path, 'multicloud.secgroup.sg_bindings', inv,
                     [{'sg_bindings_options': opts, 'sg_bindings_purge': 'true'}], binary)
    assert_no_warning(out)
    for name in pr.PROVIDERS:
        done[name] = groups_of(seeded, name)
        assert [done[name][instance(name, n)] for n in range(1, HOSTS_PER_CLOUD + 1)] == [[group(name, 1), group(name, 2)]] * HOSTS_PER_CLOUD
    # sg_quarantine: isolate (with a flush phase), sg_bindings over the isolated fleet, then restore, into a record
    # directory that does not exist yet.
    quarantine = dict((name, [group(name, 4)]) for name in pr.PROVIDERS)
    flush = dict((name, [group(name, 3)]) for name in pr.PROVIDERS)
    for action in ('isolate', 'sg_bindings', 'restore'):
        if action == 'sg_bindings':
            dummy, out = run('roles-%s-sg_bindings-quarantined' % label, tmp_path, 'multicloud.secgroup.sg_bindings', inv,
                             [{'sg_bindings_options': opts, 'sg_bindings_purge': 'true', 'sg_bindings_quarantine_record_dir': records}], binary)
            assert_no_warning(out)
            assert ' '.join(out.split()).count('left alone, quarantined') == 1, out
        else:
            dummy, out = run('roles-%s-sg_quarantine-%s' % (label, action), tmp_path, 'multicloud.secgroup.sg_quarantine', inv,
                             [{'sg_quarantine_action': action, 'sg_quarantine_target_hosts': 'fleet', 'sg_quarantine_options': opts,
                               'sg_quarantine_group_ids': json.dumps(quarantine), 'sg_quarantine_record_dir': records,
                               'sg_quarantine_flush_group_ids': json.dumps(flush), 'sg_quarantine_flush_seconds': 1}], binary)
            assert_no_warning(out)
        wanted = (lambda name: quarantine[name]) if action != 'restore' else (lambda name: [group(name, 1), group(name, 2)])
        for name in pr.PROVIDERS:
            assert groups_of(seeded, name)[instance(name, 1)] == wanted(name), (action, name)
    # sg_binding: one cloud, IDs as survey text.
    dummy, out = run('roles-%s-sg_binding' % label, tmp_path, 'multicloud.secgroup.sg_binding', None,
                     [{'sg_binding_provider': 'tencentcloud', 'sg_binding_region': 'ap-guangzhou',
                       'sg_binding_instance_ids': '%s,\n%s' % (instance('tencentcloud', 1), instance('tencentcloud', 3)),
                       'sg_binding_security_group_ids': group('tencentcloud', 3), 'sg_binding_endpoint': seeded.endpoints['tencentcloud']}], binary)
    assert_no_warning(out)
    assert groups_of(seeded, 'tencentcloud')[instance('tencentcloud', 3)] == [group('tencentcloud', 1), group('tencentcloud', 3)]
    # Both roles straight from a play, explicit entries and targets.
    playbook = tmp_path / 'roles.yml'
    playbook.write_text(ROLES_PLAYBOOK.format(
        entries=json.dumps([{'provider': name, 'region': pr.PROVIDERS[name]['region'], 'instance_ids': [instance(name, 3)],
                             'security_group_ids': [group(name, 3)]} for name in pr.PROVIDERS]),
        targets=json.dumps([{'provider': name, 'region': pr.PROVIDERS[name]['region'], 'instance_id': instance(name, 3)}
                            for name in pr.PROVIDERS]),
        quarantine=json.dumps(quarantine), record_dir=json.dumps(str(tmp_path / 'records2')), options=json.dumps(opts)))
    dummy, out = run('roles-%s-direct' % label, tmp_path, playbook, None, [], binary)
    assert_no_warning(out)
    for name in pr.PROVIDERS:
        assert groups_of(seeded, name)[instance(name, 3)] == quarantine[name]


def test_a_stray_extra_var_no_longer_rewrites_every_hosts_groups(seeded, tmp_path):
    """The old collision: security_group_ids given as an extra var (an AWX workflow survey passes it to every job)
    was read as every host's wanted groups; with purge, every instance lost its other groups."""
    inv = inventory(tmp_path)
    stray = {'security_group_ids': [group('tencentcloud', 3)], 'sg_binding_security_group_ids': [group('tencentcloud', 3)]}
    dummy, out = run('roles-stray-extra-var', tmp_path, 'multicloud.secgroup.sg_bindings', inv,
                     [dict(stray, sg_bindings_options=options(seeded), sg_bindings_purge=True)])
    for name in pr.PROVIDERS:
        assert groups_of(seeded, name)[instance(name, 1)] == [group(name, 1), group(name, 2)], out


@pytest.mark.parametrize('playbook,names', [
    ('sg_bindings', ['cloud', 'sg_bindings_wanted_group_ids']),
    ('sg_quarantine', ['instance_id', 'cloud_region']),
])
def test_the_playbooks_refuse_extra_vars_that_shadow_host_variables(seeded, tmp_path, playbook, names):
    inv = inventory(tmp_path)
    shadow = {'cloud': 'tencentcloud', 'instance_id': instance('tencentcloud', 1), 'cloud_region': 'ap-guangzhou',
              'sg_bindings_wanted_group_ids': [group('tencentcloud', 3)]}
    extra = dict((name, shadow[name]) for name in names)
    extra.update(sg_bindings_options=options(seeded), sg_quarantine_options=options(seeded), sg_quarantine_target_hosts='fleet',
                 sg_quarantine_group_ids={'tencentcloud': [group('tencentcloud', 4)]}, sg_quarantine_record_dir=str(tmp_path / 'r'))
    seeded.emulator.clear_requests()
    rc, out = run('roles-shadow-%s' % playbook, tmp_path, 'multicloud.secgroup.' + playbook, inv, [extra], check=False)
    assert rc != 0
    assert 'extra var(s) %s would replace the variable of that name of every host' % ', '.join(
        n for n in ['instance_id', 'cloud', 'cloud_region', 'sg_bindings_wanted_group_ids'] if n in names) in ' '.join(out.split()), out
    assert seeded.emulator.requests() == []


def test_role_lists_given_as_text_are_items_not_characters(seeded, tmp_path):
    inv = inventory(tmp_path)
    opts = options(seeded)
    playbook = tmp_path / 'text_lists.yml'
    playbook.write_text('''---
- name: Role lists from -e text
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Bindings
      ansible.builtin.include_role:
        name: multicloud.secgroup.sg_bindings
    - name: Quarantine
      ansible.builtin.include_role:
        name: multicloud.secgroup.sg_quarantine
''')
    dummy, out = run('roles-text-lists', tmp_path, playbook, inv, [
        'sg_bindings_hosts=tc-1,bd-2', 'sg_quarantine_hosts=al-1', 'sg_bindings_purge=true',
        {'sg_bindings_options': opts, 'sg_quarantine_options': opts, 'sg_quarantine_record_dir': str(tmp_path / 'r'),
         'sg_quarantine_group_ids': '{alicloud: [%s]}' % group('alicloud', 4)}])
    assert_no_warning(out)
    assert groups_of(seeded, 'tencentcloud')[instance('tencentcloud', 1)] == [group('tencentcloud', 1), group('tencentcloud', 2)]
    assert groups_of(seeded, 'baiducloud')[instance('baiducloud', 2)] == [group('baiducloud', 1), group('baiducloud', 2)]
    assert groups_of(seeded, 'baiducloud')[instance('baiducloud', 1)] == [group('baiducloud', 1)]
    assert groups_of(seeded, 'alicloud')[instance('alicloud', 1)] == [group('alicloud', 4)]


@pytest.mark.parametrize('host_line,message', [
    ('web-3 cloud=tencent instance_id=ins-00000001 cloud_region=ap-guangzhou',
     "host web-3: cloud 'tencent' is not one of tencentcloud, alicloud, baiducloud, zenlayer (variable cloud)"),
    ('db-1 cloud=tencentcloud instance_id=ins-00000001', 'host db-1: cloud_region is not set'),
    ('db-2 cloud=baiducloud cloud_region=bj', 'host db-2: instance_id is not set'),
])
def test_a_bad_host_variable_is_named_with_the_host_before_any_call(seeded, tmp_path, host_line, message):
    inv = inventory(tmp_path, extra='[bad]\n%s\n' % host_line)
    seeded.emulator.clear_requests()
    for playbook, extra in (('sg_bindings', {'sg_bindings_target_hosts': 'bad'}),
                            ('sg_quarantine', {'sg_quarantine_target_hosts': 'bad', 'sg_quarantine_record_dir': str(tmp_path / 'r')})):
        rc, out = run('roles-bad-host-%s' % playbook, tmp_path, 'multicloud.secgroup.' + playbook, inv, [extra], check=False)
        assert rc != 0 and message in out, out
    assert seeded.emulator.requests() == []


@pytest.mark.parametrize('name', ['sg_binding', 'sg_bindings', 'sg_quarantine'])
def test_each_survey_variable_is_prefixed_with_its_playbook_and_used_by_it(name):
    """Prefixed, an answer an AWX workflow passes to every job sets nothing but this playbook's variables."""
    with open(os.path.join(ROOT, 'extensions', 'awx', 'surveys', name + '.json'), encoding='utf-8') as handle:
        variables = [question['variable'] for question in json.load(handle)['spec']]
    with open(os.path.join(ROOT, 'playbooks', name + '.yml'), encoding='utf-8') as handle:
        playbook = handle.read()
    with open(os.path.join(ROOT, 'roles', name, 'defaults', 'main.yml') if name != 'sg_binding' else os.devnull, encoding='utf-8') as handle:
        role_defaults = handle.read()
    for variable in variables:
        assert variable.startswith(name + '_'), variable
        assert variable in playbook or variable + ':' in role_defaults, variable


@pytest.mark.parametrize('target_hosts,message', [
    ('compromized', "sg_quarantine_hosts: 'compromized' is not an inventory host or group"),
    ('fleet,nobody', "sg_quarantine_hosts: 'nobody' is not an inventory host or group"),
    ('', 'sg_quarantine_target_hosts is empty and so is sg_quarantine_targets'),
])
def test_a_mistyped_or_empty_target_fails_before_any_request_naming_it(seeded, tmp_path, target_hosts, message):
    """The typo that used to end ok=7 failed=0 with an empty summary, during an incident."""
    inv = inventory(tmp_path)
    seeded.emulator.clear_requests()
    for action in ('isolate', 'restore'):
        rc, out = run('roles-typo-%s' % action, tmp_path, 'multicloud.secgroup.sg_quarantine', inv,
                      [{'sg_quarantine_action': action, 'sg_quarantine_target_hosts': target_hosts, 'sg_quarantine_options': options(seeded),
                        'sg_quarantine_group_ids': {'tencentcloud': [group('tencentcloud', 4)]}, 'sg_quarantine_record_dir': str(tmp_path / 'r')}],
                      check=False)
        assert rc != 0 and message in ' '.join(out.split()), out
    assert seeded.emulator.requests() == []


@pytest.mark.parametrize('label,binary', ansible_playbooks())
def test_the_tags_store_restores_from_another_controller_with_an_empty_home(seeded, tmp_path, label, binary):
    """Isolate on one controller, restore on another whose home directory is empty: the record comes from the
    instances' tags only. Both runs print no warning; sg_bindings in between leaves the instances alone."""
    inv = inventory(tmp_path)
    opts = options(seeded)
    quarantine = dict((name, [group(name, 4)]) for name in pr.PROVIDERS)
    before = dict((name, groups_of(seeded, name)) for name in pr.PROVIDERS)
    for action, home in (('isolate', 'controller-a'), ('sg_bindings', 'controller-a'), ('restore', 'controller-b')):
        (tmp_path / home).mkdir(exist_ok=True)
        if action == 'sg_bindings':
            cmd = ('multicloud.secgroup.sg_bindings', [{'sg_bindings_options': opts, 'sg_bindings_purge': 'true'}])
        else:
            cmd = ('multicloud.secgroup.sg_quarantine', [{'sg_quarantine_action': action, 'sg_quarantine_target_hosts': 'fleet',
                                                          'sg_quarantine_options': opts, 'sg_quarantine_group_ids': json.dumps(quarantine),
                                                          'sg_quarantine_record_store': 'tags', 'sg_quarantine_reason': 'INC-7'}])
        dummy, out = run('roles-%s-tags-%s' % (label, action), tmp_path, cmd[0], inv, cmd[1], binary, home=str(tmp_path / home))
        if action == 'sg_bindings':
            assert ' '.join(out.split()).count('left alone, quarantined') == 1, out
        else:
            assert_no_warning(out)
        assert not os.path.exists(str(tmp_path / home / '.multicloud_secgroup')), 'a record file was written'
        for name in pr.PROVIDERS:
            for n in range(1, HOSTS_PER_CLOUD + 1):
                wanted = before[name][instance(name, n)] if action == 'restore' else quarantine[name]
                assert groups_of(seeded, name)[instance(name, n)] == wanted, (action, name, n)
