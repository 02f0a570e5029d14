# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Seeded chaos runs of the binding modules against the emulator (docs/reliability.md).

Each run is a pure function of (provider, seed): a random starting state, a random task and a
random fault schedule. The module runs in-process against the emulator over HTTP; then the
invariants are checked against the emulator's true state, its state history and its request log.

    python tests/chaos/chaos.py --provider tencentcloud --seed 17          # one run, in detail
    python tests/chaos/chaos.py --provider all --runs 500 --summary out.json
    python tests/chaos/chaos.py --provider baiducloud --runs 100 --interrupt   # SIGINT/SIGTERM at a random moment
"""

from __future__ import absolute_import, division, print_function

import argparse
import atexit
import contextlib
import io
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from emulator import start  # noqa: E402  pylint: disable=wrong-import-position
from emulator.core import FAULT_KINDS  # noqa: E402  pylint: disable=wrong-import-position

# The kinds the first campaigns drew, in their order, so that each seed stays the same run; kinds added
# since are drawn by their own functions, from random streams of their own (see extra_faults).
FIRST_KINDS = ('throttle', 'server_error', 'in_progress', 'reset', 'commit_then_drop', 'latency')
assert set(FIRST_KINDS) <= set(FAULT_KINDS)


def _importable():
    """ansible_collections.multicloud.secgroup importable from a plain checkout (as tests/unit/conftest.py does)."""
    try:
        import ansible_collections.multicloud.secgroup.plugins.module_utils._engine  # noqa: F401  pylint: disable=unused-import
        return
    except ImportError:
        pass
    tree = tempfile.mkdtemp(prefix='multicloud-secgroup-chaos-')
    atexit.register(shutil.rmtree, tree, True)
    os.makedirs(os.path.join(tree, 'ansible_collections', 'multicloud'))
    os.symlink(ROOT, os.path.join(tree, 'ansible_collections', 'multicloud', 'secgroup'))
    sys.path.insert(0, tree)


_importable()

from ansible.module_utils.common import warnings as ansible_warnings  # noqa: E402  pylint: disable=wrong-import-position
from ansible.module_utils.testing import patch_module_args  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine  # noqa: E402
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport  # noqa: E402

PROVIDERS = ('tencentcloud', 'alicloud', 'baiducloud', 'zenlayer')
INVARIANTS = ('outcome', 'bounds', 'no_blind_resend', 'changed', 'time_bound', 'no_secret')
SECRET = {'tencentcloud': 'Tc-Chaos-Secret-Never-Shown', 'alicloud': 'Ali-Chaos-Secret-Never-Shown',
          'baiducloud': 'Bd-Chaos-Secret-Never-Shown', 'zenlayer': 'Zl-Chaos-Password-Never-Shown'}
SLACK_S = 2.0   # scheduling noise on a loaded 2-core machine, added to every run's time bound
INTERRUPT_SLACK_S = 0.5     # the same noise between sending a signal and a write the emulator logs as started

# Per cloud: bounds (the emulator's defaults, which are the documented quotas), whether order is priority,
# the statuses in which it accepts changes and some in which it refuses them, its read and write actions.
CLOUDS = {
    'tencentcloud': {'min': 0, 'max': 5, 'ordered': True, 'ok': ('RUNNING', 'STOPPED'),
                     'refusing': ('STOPPING', 'REBOOTING', 'PENDING', 'STARTING'),
                     'reads': ('DescribeInstances', 'DescribeSecurityGroups'),
                     'writes': ('AssociateSecurityGroups', 'DisassociateSecurityGroups', 'ModifyInstancesAttribute'),
                     'wait': True},
    'alicloud': {'min': 1, 'max': 5, 'ordered': False, 'ok': ('Running', 'Stopped'), 'refusing': ('Starting', 'Stopping', 'Pending'),
                 'reads': ('DescribeInstances', 'DescribeNetworkInterfaces', 'DescribeSecurityGroups'),
                 'writes': ('JoinSecurityGroup', 'LeaveSecurityGroup', 'ModifyInstanceAttribute', 'ModifyNetworkInterfaceAttribute'),
                 'wait': True},
    'baiducloud': {'min': 1, 'max': 10, 'ordered': False, 'ok': ('Running', 'Stopped'), 'refusing': ('Expired',),
                   'reads': ('ListInstancesByIds', 'GetInstance', 'ListSecurityGroups'),
                   'writes': ('BatchBindSecurityGroup', 'BatchUnbindSecurityGroup', 'BindSecurityGroup', 'UnbindSecurityGroup'),
                   'wait': False},
    'zenlayer': {'min': 0, 'max': 2, 'ordered': False, 'ok': ('RUNNING', 'STOPPED'), 'refusing': ('BOOTING', 'REBOOT', 'STOPPING'),
                 'reads': ('DescribeInstances', 'DescribeSecurityGroups'),
                 'writes': ('AssociateSecurityGroupInstance', 'UnAssociateSecurityGroupInstance'), 'wait': True},
}


def _fast_poll(original):
    """The engine's and Tencent's polling, one tenth of the real pauses (same algorithm), so runs are fast."""
    def poll(step, deadline, clock=time.monotonic, sleep=time.sleep, first=0.5, cap=5.0, then=None):
        return original(step, deadline, clock, sleep, first / 10.0, cap / 10.0, None if then is None else then / 10.0)
    return poll


@contextlib.contextmanager
def fast_polling():
    """The fast polling for the length of one run only (other tests in the same process keep the real one)."""
    real = transport.poll
    transport.poll = _fast_poll(real)
    try:
        yield
    finally:
        transport.poll = real


# -- the random pieces of a run ---------------------------------------------------------------------------

def _ids(provider, kind, n):
    if provider == 'tencentcloud':
        return {'sg': 'sg-c%07d' % n, 'ins': 'ins-c%07d' % n}[kind]
    if provider == 'alicloud':
        return {'sg': 'sg-chaos%08d' % n, 'ins': 'i-chaos%08d' % n, 'eni': 'eni-chaos%08d' % n}[kind]
    if provider == 'baiducloud':
        return {'sg': 'g-chaos%03d' % n, 'ins': 'i-chaos%03d' % n, 'eni': 'eni-chaos%03d' % n}[kind]
    return {'sg': '7100000000000000%02d' % n, 'ins': '8100000000000000%02d' % n}[kind]


def scenario(provider, seed, vnics=True):
    """The run of this seed: seed document, settings, module arguments, check mode, faults (vnics: Zenlayer may draw
    a run on zec vNICs)."""
    rng = random.Random('%s:%d' % (provider, seed))
    spec = CLOUDS[provider]
    kind = 'eni' if provider == 'alicloud' and rng.random() < 0.5 else 'ins'
    n_groups = rng.randint(2, min(spec['max'] + 2, 7))
    groups = [_ids(provider, 'sg', n) for n in range(1, n_groups + 1)]
    n_targets = rng.randint(1, 6)

    def group_list():
        size = rng.randint(max(spec['min'], 0), min(spec['max'], n_groups))
        return rng.sample(groups, size)

    def status():
        return rng.choice(spec['refusing']) if rng.random() < 0.12 else rng.choice(spec['ok'])

    cred = {'access_key': 'AKIDchaos%s' % provider[:4], 'secret_key': SECRET[provider]}
    section = {'credentials': [cred]}
    settings = {}
    if provider == 'tencentcloud':
        section['security_groups'] = [{'id': g, 'region': 'ap-guangzhou'} for g in groups]
        section['instances'] = [{'id': _ids(provider, 'ins', n), 'region': 'ap-guangzhou', 'status': status(), 'security_groups': group_list()}
                                for n in range(1, n_targets + 1)]
        settings = {'async_delay_reads': rng.choice((0, 1, 1, 2)), 'fail_next_operation': rng.random() < 0.2}
        tencent_busy(provider, seed, section['instances'])
    elif provider == 'alicloud':
        section['security_groups'] = [{'id': g, 'region': 'cn-hangzhou', 'vpc_id': 'vpc-chaos'} for g in groups]
        if kind == 'ins':
            section['instances'] = [{'id': _ids(provider, 'ins', n), 'region': 'cn-hangzhou', 'vpc_id': 'vpc-chaos', 'status': status(),
                                     'security_groups': group_list()} for n in range(1, n_targets + 1)]
        else:
            section['instances'] = [{'id': _ids(provider, 'ins', 1), 'region': 'cn-hangzhou', 'vpc_id': 'vpc-chaos', 'status': status(),
                                     'security_groups': group_list()}]
            section['network_interfaces'] = [{'id': _ids(provider, 'eni', n), 'instance_id': _ids(provider, 'ins', 1), 'type': 'Secondary',
                                              'security_groups': group_list()} for n in range(1, n_targets + 1)]
        settings = {'stale_reads_s': rng.choice((0, 0, 0, 0.1))}
    elif provider == 'baiducloud':
        section['security_groups'] = [{'id': g} for g in groups]
        section['instances'] = [{'id': _ids(provider, 'ins', n), 'status': status(), 'security_groups': group_list()}
                                for n in range(1, n_targets + 1)]
    else:
        section['security_groups'] = [{'id': g} for g in groups]
        section['instances'] = [{'id': _ids(provider, 'ins', n), 'status': status(), 'security_groups': group_list()}
                                for n in range(1, n_targets + 1)]
        settings = {'visibility_delay_reads': rng.choice((0, 0, 1, 2))}
    ids = [_ids(provider, kind, n) for n in range(1, n_targets + 1)]
    targets = rng.sample(ids, rng.randint(1, len(ids)))
    state = rng.choice(('present', 'present', 'absent'))
    purge = state == 'present' and rng.random() < 0.4
    wanted = rng.sample(groups, rng.randint(1, min(spec['max'] if purge else 3, spec['max'], n_groups)))
    if rng.random() < 0.05:
        wanted.append(_ids(provider, 'sg', 99))            # a group that does not exist
    retries = rng.randint(1, 4)
    timeout = rng.choice((0.3, 0.5))
    args = {'security_group_ids': wanted, 'state': state, 'purge': purge, 'retries': retries, 'timeout': timeout,
            'retry_delay': 0.01, 'retry_max_delay': rng.choice((0.02, 0.05)), 'max_concurrency': rng.choice((1, 4, 8)),
            'instance_ids' if kind == 'ins' else 'network_interface_ids': targets}
    if spec['wait']:
        args['wait_timeout'] = rng.choice((1, 2))
    if provider == 'tencentcloud':
        args.update(secret_id=cred['access_key'], secret_key=cred['secret_key'], region='ap-guangzhou')
    elif provider == 'alicloud':
        args.update(access_key=cred['access_key'], secret_key=cred['secret_key'], region='cn-hangzhou')
    elif provider == 'baiducloud':
        args.update(access_key=cred['access_key'], secret_key=cred['secret_key'], region='bj')
    else:
        args.update(access_key_id=cred['access_key'], access_key_password=cred['secret_key'])
    # Any of the cloud's calls, used by this kind of target or not (the seeds of the defects found stay the same runs).
    reads, writes = spec['reads'], spec['writes']
    faults = []
    for dummy in range(rng.choice((0, 1, 2, 2, 3, 4))):
        fault_kind = rng.choice(FIRST_KINDS)
        # "in progress" is a cloud's answer to a write meeting another operation, never to a read.
        action = rng.choice((() if fault_kind == 'in_progress' else ('*',) + reads) + writes + writes)
        fault = {'provider': provider, 'action': action, 'kind': fault_kind, 'after': rng.randint(0, 3),
                 'count': rng.randint(2, 6) if fault_kind == 'throttle' else rng.randint(1, 2)}
        if fault_kind == 'latency':
            fault['latency_ms'] = int(timeout * 1000) + rng.choice((-150, 100))   # under or past the timeout
        faults.append(fault)
    check_mode = rng.random() < 0.25
    lag_draws(provider, seed, args, settings, section)
    if provider == 'baiducloud':
        # Batch writes (one clientToken each) and the per-instance calls; a cloud without the batch
        # call now and then, which the module must fall back from.
        args.update(write_api=rng.choice(('batch', 'batch', 'per_instance')), batch_size=rng.choice((1, 2, 10)))
        if rng.random() < 0.1:
            settings['batch_api'] = 'absent'
        settings.update(baidu_missing_api(provider, seed))
    faults.extend(extra_faults(provider, seed, reads, writes))
    draw_assumptions(provider, seed, kind, section, settings)
    kind = baidu_enis(provider, seed, kind, section, args, faults)
    if provider == 'tencentcloud':
        kind = tencent_enis(seed, section, settings, args, faults) or kind
    sc = {'provider': provider, 'seed': seed, 'kind': kind, 'seed_doc': {provider: section}, 'settings': settings,
          'args': args, 'check_mode': check_mode, 'faults': faults}
    return zec_draw(sc) if vnics else sc


# Each kind of target: (its option, result key, ID key).
KINDS = {'ins': ('instance_ids', 'instances', 'instance_id'), 'eni': ('network_interface_ids', 'network_interfaces', 'network_interface_id'),
         'nic': ('network_interface_ids', 'network_interfaces', 'network_interface_id')}
# Zenlayer seeds that found a defect on VM instances (test_chaos.py FOUND, docs/reliability.md): they stay instance runs.
INSTANCE_DEFECT_SEEDS = (41, 67)
# The zec calls standing for the vm calls a drawn fault names.
ZEC_ACTIONS = {'DescribeInstances': 'DescribeNetworkInterfaces', 'AssociateSecurityGroupInstance': 'ModifyNetworkInterfaceAttribute',
               'UnAssociateSecurityGroupInstance': 'ModifyNetworkInterfaceAttribute'}


def zec_draw(sc):
    """A third of the Zenlayer runs on Elastic Compute vNICs (kind 'nic', one group each, none for some), drawn from a
    generator of its own (the other draws of a seed stay the same): the same task on vNICs, one group wanted, and the
    drawn faults moved to the zec calls."""
    rng = random.Random('zenlayer:%d:zec' % sc['seed'])
    if sc['provider'] != 'zenlayer' or sc['seed'] in INSTANCE_DEFECT_SEEDS or rng.random() >= 1 / 3.0:
        return sc
    section, args = sc['seed_doc']['zenlayer'], sc['args']
    groups = [g['id'] for g in section['security_groups']]
    nics = ['nic-chaos%02d' % n for n in range(1, len(section['instances']) + 1)]
    section['zec_vpcs'] = [{'id': 'vpc-chaos', 'security_group': groups[0]}]
    section['zec_instances'] = [{'id': 'zec-chaos01'}]
    section['network_interfaces'] = [
        {'id': nid, 'vpc': 'vpc-chaos', 'instance': 'zec-chaos01' if n < 2 else None, 'type': 'Primary' if n == 0 else 'Secondary',
         'status': 'ATTACHING' if rng.random() < 0.1 else 'IN_USE', 'security_group': rng.choice(groups + [None])}
        for n, nid in enumerate(nics)]
    for entry in section['network_interfaces']:
        if entry['instance'] is None:
            del entry['instance']
        if entry['security_group'] is None:
            del entry['security_group']
    del args['instance_ids']
    args['network_interface_ids'] = rng.sample(nics, rng.randint(1, len(nics)))
    args['security_group_ids'] = args['security_group_ids'][:1] if rng.random() < 0.9 else args['security_group_ids']
    for fault in sc['faults']:
        fault['action'] = ZEC_ACTIONS.get(fault['action'], fault['action'])
    return dict(sc, kind='nic')


TENCENT_ENI_ACTIONS = {'AssociateSecurityGroups': 'AssociateNetworkInterfaceSecurityGroups',
                       'DisassociateSecurityGroups': 'DisassociateNetworkInterfaceSecurityGroups',
                       'ModifyInstancesAttribute': 'ModifyNetworkInterfaceAttribute', 'DescribeInstances': 'DescribeNetworkInterfaces'}


def tencent_enis(seed, section, settings, args, faults):
    """Some Tencent runs on secondary ENIs instead (issue 22), from a generator of their own: the instances' lists become
    ENIs' (some unattached, some in a state that ends within the run or not, now and then a primary one among the
    targets, which is refused), the faults hit the ENI calls, and writes show at once or late. Answers 'eni' or None."""
    rng = random.Random('tencentcloud:%d:enis' % seed)
    if rng.random() >= 0.35:
        return None
    owner = section['instances'][0]['id']
    enis = []
    for n, instance in enumerate(section['instances']):
        eni = {'id': 'eni-c%07d' % (n + 1), 'region': 'ap-guangzhou', 'security_groups': list(instance['security_groups'])}
        if rng.random() < 0.5:
            eni['instance_id'] = owner
        draw = rng.random()
        if draw < 0.1:
            eni['state'] = 'DELETING'
        elif draw < 0.2:
            eni.update(state=rng.choice(('PENDING', 'DETACHING')), transition_s=rng.choice((0.2, 0.8, 4)))
        enis.append(eni)
    targets = ['eni-c%07d' % int(tid[len('ins-c'):]) for tid in args.pop('instance_ids')]
    if rng.random() < 0.1:
        enis.append({'id': 'eni-cprimary', 'region': 'ap-guangzhou', 'instance_id': owner, 'primary': True})
        targets.append('eni-cprimary')
    section['network_interfaces'] = enis
    args['network_interface_ids'] = targets
    for fault in faults:
        fault['action'] = TENCENT_ENI_ACTIONS.get(fault['action'], fault['action'])
    if rng.random() < 0.3:
        settings['write_apply_delay_s'] = rng.choice((0.3, 1.0, 3.0))
        args['wait_timeout'] = rng.randint(1, 4)
    return 'eni'


def extra_faults(provider, seed, reads, writes):
    """Faults of the kinds added after the first campaigns: an answer cut off after its headers (truncate),
    on a read or a write, in one run out of three."""
    rng = random.Random('%s:%d:truncate' % (provider, seed))
    if rng.random() >= 1 / 3.0:
        return []
    return [{'provider': provider, 'action': rng.choice(('*',) + reads + writes + writes), 'kind': 'truncate',
             'after': rng.randint(0, 3), 'count': rng.randint(1, 2)}]


# The instance calls a Baidu fault was drawn on, and the ENI calls it lands on in an ENI run.
BAIDU_ENI_ACTIONS = {'GetInstance': ('GetEni',), 'ListInstancesByIds': ('ListInstancesByIds', 'ListEnis'),
                     'BatchBindSecurityGroup': ('UpdateEniSecurityGroups',), 'BatchUnbindSecurityGroup': ('UpdateEniSecurityGroups',),
                     'BindSecurityGroup': ('UpdateEniSecurityGroups',), 'UnbindSecurityGroup': ('UpdateEniSecurityGroups',)}


def baidu_enis(provider, seed, kind, section, args, faults):
    """Turn four Baidu runs out of ten into ENI runs (network_interface_ids): the instances' lists become those of secondary
    ENIs in one VPC, attached to the first instance, and the faults drawn on instance calls land on the ENI calls. Drawn
    from a generator of its own, so the instance runs of every seed stay as they were. Returns the run's kind."""
    rng = random.Random('%s:%d:enis' % (provider, seed))
    if provider != 'baiducloud' or rng.random() >= 0.4:
        return kind
    for group in section['security_groups']:
        group['vpc_id'] = 'vpc-chaos'
    section['network_interfaces'] = [{'id': _ids(provider, 'eni', n + 1), 'vpc_id': 'vpc-chaos', 'instance_id': _ids(provider, 'ins', 1),
                                      'security_groups': list(inst['security_groups'])} for n, inst in enumerate(section['instances'])]
    args['network_interface_ids'] = [_ids(provider, 'eni', int(tid[-3:])) for tid in args.pop('instance_ids')]
    for fault in faults:
        if fault['action'] in BAIDU_ENI_ACTIONS:
            fault['action'] = rng.choice(BAIDU_ENI_ACTIONS[fault['action']])
    return 'eni'


def baidu_missing_api(provider, seed):
    """How a Baidu endpoint answers a call it does not have (InvalidURI, or NoSuchObject like a missing
    instance), and now and then no listByInstanceId."""
    rng = random.Random('%s:%d:missing-api' % (provider, seed))
    settings = {'missing_api_answer': rng.choice(('InvalidURI', 'NoSuchObject'))}
    if rng.random() < 0.1:
        settings['list_by_ids_api'] = 'absent'
    return settings


def draw_assumptions(provider, seed, kind, section, settings):
    """The other plausible behaviour where a cloud's documentation is silent or was assumed (docs/emulator.md), drawn
    from a generator of its own so that the rest of each seed's run stays as it was."""
    rng = random.Random('%s:%d:assumptions' % (provider, seed))
    if provider == 'alicloud':
        # Pages shorter than asked; transient states that end (or not) within the run; the classic network.
        settings['page_size_cap'] = rng.choice((0, 0, 1, 2))
        for inst in section['instances']:
            if inst['status'] in ('Starting', 'Stopping', 'Pending') and rng.random() < 0.7:
                inst['status_ends_after_s'] = rng.choice((0.1, 0.5, 3))
        if kind == 'ins' and rng.random() < 0.1:
            for entry in section['security_groups'] + section['instances']:
                entry.pop('vpc_id', None)
    elif provider == 'zenlayer':
        settings.update(group_status_case=rng.choice(('as_seeded', 'upper')), duplicate_bind=rng.choice(('noop', 'error')),
                        unbind_not_bound=rng.choice(('noop', 'error')), unbind_last=rng.choice(('allow', 'allow', 'refuse')))


def tencent_busy(provider, seed, instances):
    """Some Tencent instances busy with another client's operation (from the start, or from after the module's
    first read: a race with its write), or in a transient state that ends (STOPPING -> STOPPED, ...); some for
    longer than wait_timeout. Drawn from a random of their own, so the other draws of a seed stay the same."""
    rng = random.Random('%s:%d:busy' % (provider, seed))
    for instance in instances:
        if rng.random() < 0.15:
            instance.update(busy_for_s=rng.choice((0.2, 0.6, 1.5, 4)), busy_after_reads=rng.choice((0, 0, 1, 2)))
        if instance['status'] in ('RUNNING', 'STOPPED') and rng.random() < 0.1:
            instance.update(status=rng.choice(('PENDING', 'STARTING', 'STOPPING', 'REBOOTING')), transition_s=rng.choice((0.2, 0.8, 4)))


def busy_resends(log):
    """Tencent writes sent again after a MutexOperation.TaskRunning answer with no read of their instances in between
    (the module must find and await the busy instance, not retry blindly)."""
    out = []
    log = sorted(log, key=lambda e: e['start'])
    for n, first in enumerate(log):
        if first.get('write') and first['error_code'] == 'MutexOperation.TaskRunning':
            targets = set((first.get('change') or {}).get('targets') or [])
            later = [e for e in log[n + 1:] if e['start'] >= first['end']]
            for second in later:
                if not second.get('write') and second['error_code'] is None and targets & set((second.get('change') or {}).get('targets') or targets):
                    break
                if second.get('write') and targets & set((second.get('change') or {}).get('targets') or []):
                    out.append('request %d re-sent request %d\'s write after MutexOperation.TaskRunning without reading its instances'
                               % (second['seq'], first['seq']))
                    break
    return out


def lag_draws(provider, seed, args, settings, section):
    """Issue 20's draws, from a generator of their own (the other draws of a seed stay the same): writes applied late
    and reads lagging on both sides of wait_timeout (lags of 0.5 to 3 s against wait_timeout of 1 to 5 s: the old
    fixed 15 s window, scaled down), other group orders on unordered clouds, Tencent's operation-state lag, and a
    concurrent binder meeting a Baidu batch."""
    rng = random.Random('%s:%d:lags' % (provider, seed))
    if provider in ('alicloud', 'zenlayer', 'baiducloud') and rng.random() < 0.3:
        settings['group_order'] = rng.choice(('reverse', 'shuffle'))
        settings['group_order_seed'] = seed
    if provider in ('alicloud', 'zenlayer') and rng.random() < 0.3:
        settings['write_apply_delay_s'] = rng.choice((0.5, 1.0, 2.0, 3.0))
        if provider == 'alicloud' and rng.random() < 0.5:
            settings['stale_reads_s'] = rng.choice((0.5, 1.0, 3.0))
        args['wait_timeout'] = rng.randint(1, 5)
    if provider == 'tencentcloud' and rng.random() < 0.3:
        settings['operation_state_lag_reads'] = rng.randint(1, 3)
    if provider == 'baiducloud' and args['state'] == 'present' and rng.random() < 0.2:
        # Another client binds a group the task binds to one of its instances, between the task's read and its write.
        lists = dict((item['id'], item['security_groups']) for item in section['instances'])
        candidates = [(tid, sg) for tid in args['instance_ids'] for sg in args['security_group_ids']
                      if sg not in lists[tid] and sg in [g['id'] for g in section['security_groups']]]
        if candidates:
            settings['concurrent_bind'] = list(rng.choice(candidates))
            settings['duplicate_bind'] = 'error'


# -- running it -----------------------------------------------------------------------------------------

def _main(provider):
    module = __import__('ansible_collections.multicloud.secgroup.plugins.modules.%s_sg_binding' % provider, fromlist=['main'])
    return module.main


def true_lists(emulator, provider, kind):
    """{target id: its true group list} for the run's kind of target."""
    state = emulator.state()[provider]
    key = 'instances' if kind == 'ins' else 'network_interfaces'
    return dict((item['id'], list(item['security_groups'])) for item in state.get(key) or [])


def run_once(running, sc, details=False):
    """Run one scenario; returns (record, violations), and with details what the checks saw."""
    emulator = running.emulator
    provider = sc['provider']
    emulator.reset()
    emulator.update_settings({'record_history': True})
    emulator.seed(sc['seed_doc'])
    if sc['settings']:
        emulator.update_settings({provider: sc['settings']})
    if sc.get('latency_ms'):
        emulator.update_settings({'latency_ms': sc['latency_ms']})
    for fault in sc['faults']:
        emulator.add_fault(fault)
    initial = true_lists(emulator, provider, sc['kind'])
    args = dict(sc['args'], endpoint=running.endpoints[provider], _ansible_check_mode=sc['check_mode'], _ansible_diff=False)
    out = io.StringIO()
    # ansible-core keeps module warnings process-wide: each run reports its own only (a warning of an earlier run
    # naming the same target would pass for a declaration of this one).
    getattr(ansible_warnings, '_global_warnings', {}).clear()
    started = time.monotonic()
    with patch_module_args(args), contextlib.redirect_stdout(out), fast_polling():
        try:
            _main(provider)()
        except SystemExit:
            pass
    returned = time.time()
    elapsed = time.monotonic() - started
    text = out.getvalue()
    # A request the module gave up on (its timeout) may still be in the emulator: let it finish before
    # the log is read and the next run seeds, or it would change the next run's state.
    drain = time.monotonic() + 10
    while emulator.in_flight and time.monotonic() < drain:
        time.sleep(0.01)
    log = emulator.requests(provider)
    history = emulator.state_history(provider)
    # The truth the module could have reported: the state when it returned. A change made later comes from
    # a request it had given up on (no module can know of it); it still counts for the bounds.
    final = dict(initial)
    late = [change for change in history if change['time'] > returned]
    for change in history:
        if change['time'] <= returned and change['target'] in final:
            final[change['target']] = list(change['after'] or [])
    emulator.clear_faults()
    try:
        result = json.loads(text)
    except ValueError:
        result = {'failed': True, 'msg': 'no JSON result: %r' % text[-500:]}
    violations = check(sc, result, text, initial, final, log, history, elapsed)
    faults = {}
    for entry in log:
        if entry['fault']:
            faults[entry['fault']] = faults.get(entry['fault'], 0) + 1
    if provider == 'tencentcloud' and sc['settings'].get('fail_next_operation') and not emulator.get_settings()[provider]['fail_next_operation']:
        faults['failed_operation'] = 1
    record = {'seed': sc['seed'], 'kind': sc['kind'], 'failed': bool(result.get('failed')), 'changed': bool(result.get('changed')),
              'check_mode': sc['check_mode'], 'requests': len(log), 'writes': sum(1 for e in log if e.get('write')),
              'state_changes': len(history), 'faults': faults, 'elapsed_s': round(elapsed, 3), 'msg': result.get('msg'),
              'bound_use': elapsed / time_bound(sc, initial), 'late_changes': len(late),
              'uncertain': any(uncertain(result, tid) for tid in initial)}
    if details:
        return record, violations, {'result': result, 'log': log, 'initial': initial, 'final': final, 'returned': returned}
    return record, violations


# -- the invariants -------------------------------------------------------------------------------------

def _unique(groups):
    out = []
    for g in groups:
        if g not in out:
            out.append(g)
    return out


def satisfies(provider, before, after, args):
    """after is what the task asks for, given before."""
    wanted = _unique(args['security_group_ids'])
    if args['state'] == 'absent':
        return set(after) == set(before) - set(wanted)
    if args['purge']:
        return after == wanted if CLOUDS[provider]['ordered'] else set(after) == set(wanted)
    return set(after) == set(before) | set(wanted)


def time_bound(sc, initial):
    """The longest a run may take: every call retried `retries` times, each try up to `timeout` plus the
    longest backoff (also the longest Retry-After pause) plus the longest wait of the adaptive rate limiter (its
    window at the floor rate); the calls are the reads, the group check, and the planned writes, again for each
    of the `retries` re-plans after a write of unknown outcome and the drift rounds; plus two waits of `wait_timeout` per round
    (settling, and the read-back after a failure)."""
    a = sc['args']
    targets = a.get('instance_ids') or a.get('network_interface_ids') or a.get('network_interface_ids')
    writes_planned = sum(len(_unique(a['security_group_ids'])) + len(initial[tid]) for tid in targets)
    per_call = (a['retries'] + 1) * (a['timeout'] + a['retry_max_delay'] + transport.RateLimiter.MAX_WINDOW)
    calls = 4 + (writes_planned + 2) * (a['retries'] + 1 + engine.CONVERGE_ROUNDS)
    return per_call * calls + 2 * a.get('wait_timeout', 0) * (a['retries'] + 1 + engine.CONVERGE_ROUNDS) + SLACK_S


def uncertain(result, tid):
    """The failure says it could not learn the outcome of a write to tid: one whose answer was lost, when
    nothing could be read back or the reads did not show it yet (writes applied late, reads lagging), or an
    accepted one the reads could not confirm. No module can know; its after is then the last state known
    (lost) or the accepted one."""
    return any(tid in str(w) and ('may have applied it' in str(w) or 'may still have failed' in str(w)
                                  or 'may still apply it' in str(w))
               for w in result.get('warnings') or [])


def check(sc, result, text, initial, final, log, history, elapsed):
    provider, args = sc['provider'], sc['args']
    spec = CLOUDS[provider]
    option, key, id_key = KINDS[sc['kind']]
    # A zec vNIC has one group, or none of its own.
    low, high = (0, 1) if sc['kind'] == 'nic' else (spec['min'], spec['max'])
    targets = args[option]
    failed = bool(result.get('failed'))
    out = []

    def violation(name, detail):
        out.append({'invariant': name, 'detail': detail})

    # (1) the task ends in the wanted state and says so, or fails and reports the true state.
    if 'unexpected error' in (result.get('msg') or '') or 'no JSON result' in (result.get('msg') or ''):
        violation('outcome', 'crash: %s' % result.get('msg'))
    reported = dict((t[id_key], t) for t in result.get(key) or [])

    def same(one, other):
        """Equal lists; as sets where the order means nothing (a cloud may answer in any order)."""
        if one is None or other is None or spec['ordered']:
            return one == other
        return sorted(one) == sorted(other)

    others = [tid for tid in initial if tid not in targets and not same(initial[tid], final.get(tid))]
    if others:
        violation('outcome', 'targets not in the task changed: %s' % others)
    if not failed:
        for tid in targets:
            planned = reported.get(tid, {}).get('after')
            if not same(reported.get(tid, {}).get('before'), initial[tid]):
                violation('outcome', '%s: reported before %s, was %s' % (tid, reported.get(tid, {}).get('before'), initial[tid]))
            if sc['check_mode']:
                if planned is None or not satisfies(provider, initial[tid], planned, args):
                    violation('outcome', '%s: check mode plans %s from %s' % (tid, planned, initial[tid]))
            else:
                if not satisfies(provider, initial[tid], final[tid], args):
                    violation('outcome', '%s: succeeded but has %s (from %s)' % (tid, final[tid], initial[tid]))
                if not same(planned, final[tid]):
                    violation('outcome', '%s: reported after %s, true %s' % (tid, planned, final[tid]))
    elif key in result:
        for tid in targets:
            if not same(reported.get(tid, {}).get('after'), final[tid]) and not uncertain(result, tid):
                violation('outcome', '%s: failed reporting after %s, true %s' % (tid, reported.get(tid, {}).get('after'), final[tid]))
    elif any(not same(initial[tid], final[tid]) for tid in targets):
        violation('outcome', 'failed without %s although the state changed' % key)
    if sc['check_mode'] and (history or any(e.get('write') for e in log)):
        violation('outcome', 'check mode sent %d write(s)' % sum(1 for e in log if e.get('write')))

    # (2) bounds, in every state the history went through.
    for change in history:
        after = change['after'] or []
        if not low <= len(after) <= high or len(set(after)) != len(after):
            violation('bounds', 'request %d left %s with %s' % (change['seq'], change['target'], after))

    # (3) a write that may have taken effect is never sent again for the same target and change unless a read
    # answered between the two (and so could show it missing).
    def seen_read(entry, tid):
        change = entry.get('change') or {}
        return (not entry.get('write') and entry['status'] is not None and entry['error_code'] is None
                and entry['fault'] not in ('commit_then_drop', 'truncate') and entry['end'] - entry['start'] < args['timeout']
                and (change.get('targets') is None or tid in change['targets']))

    # An ENI write answered "in progress" was not applied: the transport sends it again after a pause, with no state to read.
    for detail in busy_resends(log) if provider == 'tencentcloud' and sc['kind'] == 'ins' else []:
        violation('no_blind_resend', detail)
    undescribed = [e['seq'] for e in log if e.get('write') and not (e.get('change') or {}).get('targets')]
    if undescribed:
        violation('no_blind_resend', 'write request(s) %s not described in the request log' % undescribed)
    # Ordered by the time each was sent (the log is in order of answers); a read counts when it was sent
    # after the first write and answered before the second was sent.
    writes = sorted((e for e in log if e.get('write')), key=lambda e: e['start'])
    reads = [e for e in log if not e.get('write')]
    for n, second in enumerate(writes):
        change = second.get('change') or {}
        for first in writes[:n]:
            if first['status'] is None or first['error_code'] is not None:
                continue        # refused or never processed: sending it again is no repeat
            earlier = first.get('change') or {}
            if earlier.get('token') and earlier.get('token') == change.get('token'):
                continue        # the same idempotency token: the cloud applies it once (bounds and outcome check that)
            for tid in set(change.get('targets') or []) & set(earlier.get('targets') or []):
                for what in ('bind', 'unbind', 'set'):
                    if what in change and change[what] == earlier.get(what) and not any(
                            seen_read(r, tid) and r['start'] >= first['start'] and r['end'] <= second['start'] for r in reads):
                        violation('no_blind_resend', 'request %d re-sent %s %s to %s after request %d, with no read in between'
                                  % (second['seq'], what, change[what], tid, first['seq']))

    # (4) changed is true exactly when the state changed (check mode: when a real run would change it); a failed
    # run that changed the state says changed too.
    if failed and not sc['check_mode'] and not result.get('changed') and any(
            not same(initial[tid], final[tid]) and not uncertain(result, tid) for tid in targets):
        violation('changed', 'failed with changed=false, but the state changed')
    if not failed:
        if sc['check_mode']:
            would = any(not satisfies(provider, initial[tid], initial[tid], args) for tid in targets)
            if bool(result.get('changed')) != would:
                violation('changed', 'check mode says changed=%s, a real run would change: %s' % (result.get('changed'), would))
        elif bool(result.get('changed')) != any(not same(initial[tid], final[tid]) for tid in initial):
            violation('changed', 'changed=%s, state changed: %s' % (result.get('changed'), initial != final))

    # (5) the run ends within the bound its options give.
    bound = time_bound(sc, initial)
    if elapsed > bound:
        violation('time_bound', 'took %.2f s, bound %.2f s' % (elapsed, bound))

    # (6) no secret in whatever the module printed (result, messages, warnings, exceptions).
    if SECRET[provider] in text:
        violation('no_secret', 'the secret key appears in the result')
    return out


# -- interrupts: SIGINT or SIGTERM at a random moment ----------------------------------------------------


def interrupt_scenario(provider, seed):
    """The run of this seed (scenario()) with every request slowed by a random latency and a signal sent to
    the main thread a random time after the module starts: while it reads, writes, waits or has finished."""
    # Instance runs only: a zec run has one write per vNIC, too few for the signals to land among writes.
    sc = scenario(provider, seed, vnics=False)
    rng = random.Random('interrupt:%s:%d' % (provider, seed))
    sc['latency_ms'] = rng.choice((50, 100, 200))
    sc['interrupt'] = {'signal': rng.choice(('SIGINT', 'SIGTERM')), 'after_s': round(rng.uniform(0.0, 0.6), 3)}
    return sc


def run_interrupted(running, sc):
    """Run an interrupt scenario; returns (record, violations). The driver ignores the signal itself (the module
    installs its own handlers while it runs), so one that comes before the module set them or after it restored
    them is only counted."""
    emulator = running.emulator
    signum = getattr(signal, sc['interrupt']['signal'])
    main = threading.main_thread().ident
    sent = []
    outside = []        # the driver's handler ran: the module's were not set

    def interrupt():
        sent.append(time.time())
        signal.pthread_kill(main, signum)

    previous = signal.signal(signum, lambda *args: outside.append(True))
    timer = threading.Timer(sc['interrupt']['after_s'], interrupt)
    try:
        timer.start()
        record, violations, details = run_once(running, sc, details=True)
    finally:
        timer.cancel()
        timer.join()
        signal.signal(signum, previous)
    emulator.update_settings({'latency_ms': 0})
    record['interrupted'] = bool(details['result'].get('interrupted'))
    record['interrupted_writing'] = record['interrupted'] and any(e.get('write') for e in details['log'])
    record['signal_outside_run'] = not sent or bool(outside)
    if not record['signal_outside_run']:
        violations.extend(check_interrupt(sc, details, sent[0]))
    return record, violations


def check_interrupt(sc, details, signalled):
    """What an interrupt must do: no write starts after it, the failure says so, names the signal and shows the
    true state (or flags a target unknown; check() compares), changed is right, and the module returns within
    the in-flight grace plus the read-back bound."""
    out = []
    result = details['result']
    late = [e['seq'] for e in details['log'] if e.get('write') and e['start'] > signalled + INTERRUPT_SLACK_S]
    if late:
        out.append({'invariant': 'stops_writes', 'detail': 'write request(s) %s started after the signal' % late})
    if result.get('interrupted'):
        if not result.get('failed') or sc['interrupt']['signal'] not in (result.get('msg') or ''):
            out.append({'invariant': 'interrupt_report', 'detail': 'not a failure naming %s: %s' % (sc['interrupt']['signal'], result.get('msg'))})
        initial, final = details['initial'], details['final']
        targets = sc['args'].get('instance_ids') or sc['args'].get('network_interface_ids')
        if not any(uncertain(result, tid) for tid in targets) and bool(result.get('changed')) != (initial != final):
            out.append({'invariant': 'interrupt_report', 'detail': 'changed=%s, state changed: %s' % (result.get('changed'), initial != final)})
    bound = transport.IN_FLIGHT_GRACE_S + engine.INTERRUPT_READ_BACK_S + SLACK_S
    if details['returned'] - signalled > bound:
        out.append({'invariant': 'exit_bound', 'detail': 'returned %.2f s after the signal, bound %.2f s' % (details['returned'] - signalled, bound)})
    return out


def interrupt_campaign(running, provider, seeds, verbose=False):
    """Summary of the interrupt runs of these seeds for one provider."""
    started = time.monotonic()
    summary = {'provider': provider, 'runs': 0, 'interrupted_runs': 0, 'interrupted_after_writes': 0, 'signals_outside_run': 0,
               'writes': 0, 'violations': []}
    for seed in seeds:
        sc = interrupt_scenario(provider, seed)
        record, violations = run_interrupted(running, sc)
        summary['runs'] += 1
        summary['interrupted_runs'] += record['interrupted']
        summary['interrupted_after_writes'] += record['interrupted_writing']
        summary['signals_outside_run'] += record['signal_outside_run']
        summary['writes'] += record['writes']
        for v in violations:
            summary['violations'].append(dict(v, seed=seed, repro=repro(provider, seed) + ' --interrupt'))
        if verbose:
            print(json.dumps({'scenario': sc, 'record': record, 'violations': violations}, indent=1, default=str))
        elif violations:
            print('VIOLATION %s seed %d: %s\n  reproduce: %s --interrupt' % (provider, seed, violations, repro(provider, seed)), file=sys.stderr)
    summary['wall_time_s'] = round(time.monotonic() - started, 1)
    return summary


# -- campaigns ------------------------------------------------------------------------------------------

def repro(provider, seed):
    return 'python tests/chaos/chaos.py --provider %s --seed %d' % (provider, seed)


def campaign(running, provider, seeds, verbose=False):
    """Summary of the runs of these seeds for one provider."""
    started = time.monotonic()
    summary = {'provider': provider, 'runs': 0, 'runs_by_kind': {}, 'failed_runs': 0, 'changed_runs': 0, 'check_mode_runs': 0,
               'requests': 0, 'writes': 0, 'state_changes': 0, 'faults_injected': {}, 'invariant_checks': {}, 'violations': [],
               'failed_after_writes': 0, 'late_changes': 0, 'declared_uncertain': 0, 'longest_run_s': 0.0, 'most_of_time_bound_used': 0.0}
    for seed in seeds:
        sc = scenario(provider, seed)
        record, violations = run_once(running, sc)
        summary['runs'] += 1
        summary['runs_by_kind'][record['kind']] = summary['runs_by_kind'].get(record['kind'], 0) + 1
        summary['failed_runs'] += record['failed']
        summary['failed_after_writes'] += record['failed'] and record['writes'] > 0
        summary['late_changes'] += record['late_changes']
        summary['declared_uncertain'] += record['uncertain']
        summary['most_of_time_bound_used'] = max(summary['most_of_time_bound_used'], record['bound_use'])
        summary['changed_runs'] += record['changed']
        summary['check_mode_runs'] += record['check_mode']
        for field in ('requests', 'writes', 'state_changes'):
            summary[field] += record[field]
        for kind, count in record['faults'].items():
            summary['faults_injected'][kind] = summary['faults_injected'].get(kind, 0) + count
        for name in INVARIANTS:
            summary['invariant_checks'][name] = summary['invariant_checks'].get(name, 0) + 1
        summary['longest_run_s'] = max(summary['longest_run_s'], record['elapsed_s'])
        for v in violations:
            summary['violations'].append(dict(v, seed=seed, repro=repro(provider, seed)))
        if verbose:
            print(json.dumps({'scenario': sc, 'record': record, 'violations': violations}, indent=1, default=str))
        elif violations:
            print('VIOLATION %s seed %d: %s\n  reproduce: %s' % (provider, seed, violations, repro(provider, seed)), file=sys.stderr)
    summary['wall_time_s'] = round(time.monotonic() - started, 1)
    summary['longest_run_s'] = round(summary['longest_run_s'], 2)
    summary['most_of_time_bound_used'] = round(summary['most_of_time_bound_used'], 3)
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--provider', default='all', choices=('all',) + PROVIDERS)
    parser.add_argument('--seed', type=int, help='one run, printed in detail')
    parser.add_argument('--runs', type=int, default=500, help='runs per provider (seeds first-seed .. first-seed+runs-1)')
    parser.add_argument('--first-seed', type=int, default=0)
    parser.add_argument('--summary', help='write the summary JSON here')
    parser.add_argument('--interrupt', action='store_true', help='the interrupt runs: SIGINT or SIGTERM at a random moment')
    opts = parser.parse_args(argv)
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy'):
        os.environ.pop(var, None)
    providers = PROVIDERS if opts.provider == 'all' else (opts.provider,)
    seeds = [opts.seed] if opts.seed is not None else list(range(opts.first_seed, opts.first_seed + opts.runs))
    running = start()
    started = time.monotonic()
    try:
        summaries = [(interrupt_campaign if opts.interrupt else campaign)(running, p, seeds, verbose=opts.seed is not None)
                     for p in providers]
    finally:
        running.stop()
    doc = {'seeds': [seeds[0], seeds[-1]], 'wall_time_s': round(time.monotonic() - started, 1), 'providers': summaries,
           'violations': sum(len(s['violations']) for s in summaries)}
    for s in summaries:
        if opts.interrupt:
            print('%-12s runs %4d (interrupted %3d, of them after writes %3d; signal outside the run %3d)  violations %d  %.0f s'
                  % (s['provider'], s['runs'], s['interrupted_runs'], s['interrupted_after_writes'], s['signals_outside_run'],
                     len(s['violations']), s['wall_time_s']))
            continue
        print('%-12s runs %4d (failed %3d, check mode %3d)  faults %s  violations %d  %.0f s'
              % (s['provider'], s['runs'], s['failed_runs'], s['check_mode_runs'], sum(s['faults_injected'].values()),
                 len(s['violations']), s['wall_time_s']))
    if opts.summary:
        os.makedirs(os.path.dirname(os.path.abspath(opts.summary)), exist_ok=True)
        with open(opts.summary, 'w') as handle:
            json.dump(doc, handle, indent=1, sort_keys=True)
        print('summary: %s' % opts.summary)
    return 1 if doc['violations'] else 0


if __name__ == '__main__':
    sys.exit(main())
