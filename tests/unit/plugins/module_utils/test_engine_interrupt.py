# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report of a run stopped by a signal (_engine.interrupted), on a provider whose cloud is a dict: which writes
count as accepted, which as unknown, and what each target is said to have when the read back works, fails or lags."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport


class DictCloud:
    name = 'dict'
    display_name = 'Dict Cloud'
    constraints = planner.Constraints(min_groups=0, max_groups=5)
    target_kinds = (planner.TargetKind('instance_ids', 'instances', 'instance_id', r'i-[a-z0-9]{4}', 'instance'),)
    completion = 'sync'

    def __init__(self, cloud, read_error=None):
        self.cloud = cloud
        self.read_error = read_error
        self.transport = transport.Transport('dict', session=object())

    def read(self, ids):
        if self.read_error:
            raise self.read_error
        return dict((i, list(self.cloud[i])) for i in ids), []

    def apply(self, op):
        raise AssertionError('not called')


class LaterCloud(DictCloud):
    """Writes complete later; this one's never show within the wait."""
    completion = 'task'

    def settle(self, expected, deadline):
        return None


def bind(sg, *ids):
    return {'action': 'bind', 'security_group_ids': [sg], 'target_ids': list(ids)}


def stopped_run(cloud, exc, provider=None):
    provider = provider or DictCloud(cloud)
    run = engine.Engine(provider, {'instance_ids': ['i-aaaa', 'i-bbbb', 'i-cccc'], 'security_group_ids': ['sg-2'],
                                   'state': 'present', 'purge': False}, False)
    run.before = {'i-aaaa': ['sg-1'], 'i-bbbb': ['sg-1'], 'i-cccc': ['sg-1']}
    return run, engine.interrupted(run, exc)


def test_answered_writes_are_accepted_and_those_in_flight_or_stopped_midway_are_unknown_those_stopped_unsent_not():
    cloud = {'i-aaaa': ['sg-1', 'sg-2'], 'i-bbbb': ['sg-1', 'sg-2'], 'i-cccc': ['sg-1']}
    provider = DictCloud(cloud)
    stopped = transport.ProviderError('dict', 'Bind', 'Interrupted', 'not sent', error_class=transport.STOPPED)
    midway = transport.ProviderError('dict', 'Bind', 'Interrupted', 'not sent', error_class=transport.AMBIGUOUS)
    refused = transport.ProviderError('dict', 'Bind', 'Nope', 'refused', error_class=transport.INVALID)
    answered = [(bind('sg-2', 'i-aaaa'), ['req-1']), (bind('sg-2', 'i-bbbb'), midway), (bind('sg-9', 'i-cccc'), refused),
                (bind('sg-3', 'i-cccc'), stopped)]
    exc = transport.Interrupted('SIGTERM', provider.apply, answered, [bind('sg-2', 'i-cccc')])
    run, failure = stopped_run(cloud, exc, provider)
    assert failure['interrupted'] and failure['changed'] and 'interrupted by SIGTERM' in failure['msg']
    assert '1 write(s) accepted, 2 with an unknown outcome' in failure['msg'] and '(as read back)' in failure['msg']
    assert run.operations_done == [bind('sg-2', 'i-aaaa')] and run.request_ids == ['req-1']
    assert failure['unknown_operations'] == [{'action': 'bind', 'security_group_ids': ['sg-2'], 'instance_ids': ['i-bbbb']},
                                             {'action': 'bind', 'security_group_ids': ['sg-2'], 'instance_ids': ['i-cccc']}]
    assert [t['after'] for t in failure['instances']] == [['sg-1', 'sg-2'], ['sg-1', 'sg-2'], ['sg-1']]     # as read
    assert sum('may have applied it' in w for w in run.warnings) == 2
    assert provider.transport.stop.is_set()


def test_when_the_read_back_fails_the_report_is_the_state_before_plus_the_accepted_writes():
    provider = DictCloud({}, read_error=transport.ProviderError('dict', 'Describe', 'Throttled', 'slow down', error_class=transport.THROTTLED))
    exc = transport.Interrupted('SIGINT', provider.apply, [(bind('sg-2', 'i-aaaa', 'i-bbbb'), ['req-1'])], [])
    run, failure = stopped_run({}, exc, provider)
    assert [t['after'] for t in failure['instances']] == [['sg-1', 'sg-2'], ['sg-1', 'sg-2'], ['sg-1']]
    assert '(the state before plus the accepted writes)' in failure['msg'] and failure['changed']
    assert any('could not read the instances back after the interrupt (Throttled slow down)' in w for w in run.warnings)


def test_on_a_cloud_whose_writes_show_later_an_accepted_write_not_yet_visible_is_reported_and_flagged():
    provider = LaterCloud({'i-aaaa': ['sg-1'], 'i-bbbb': ['sg-1'], 'i-cccc': ['sg-1']})
    exc = transport.Interrupted('SIGINT', provider.apply, [(bind('sg-2', 'i-aaaa'), ['req-1'])], [])
    run, failure = stopped_run(None, exc, provider)
    assert [t['after'] for t in failure['instances']] == [['sg-1', 'sg-2'], ['sg-1'], ['sg-1']]
    assert any('instance i-aaaa: after shows the accepted changes' in w for w in run.warnings)


@pytest.mark.parametrize('exc', [KeyboardInterrupt(), transport.Interrupted('SIGINT')])
def test_an_interrupt_outside_the_writes_reports_the_state_before_and_reads_nothing(exc):
    provider = DictCloud({}, read_error=AssertionError('no read without a write'))
    dummy, failure = stopped_run({}, exc, provider)
    assert failure['msg'].startswith('interrupted by SIGINT: no write was started after it; 0 write(s) accepted')
    assert not failure['changed'] and [t['after'] for t in failure['instances']] == [['sg-1']] * 3


def test_an_interrupt_before_the_targets_were_read_changed_nothing():
    failure = engine.interrupted(None, transport.Interrupted('SIGTERM'))
    assert failure == {'interrupted': True, 'changed': False, 'msg': 'interrupted by SIGTERM before any change; nothing was changed'}
