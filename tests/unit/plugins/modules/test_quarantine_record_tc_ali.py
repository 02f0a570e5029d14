# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sg_quarantine_record, sg_binding_info and a binding module's quarantined: skip with Tencent Cloud and Alibaba Cloud
on the emulator: records written as the clouds' tags through their tag calls, read back, kept, removed; the secondary
ENIs listed; the calls counted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import json
import os
import sys

import pytest

from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.module_utils import _quarantine_record as quarantine_record
from ansible_collections.multicloud.secgroup.plugins.modules import (alicloud_sg_binding, sg_binding_info, sg_quarantine_record,
                                                                     tencentcloud_sg_binding)

SECRET = 'Tc-Ali-Quarantine-Secret-Never-Shown'

CLOUDS = {
    'tencentcloud': {
        'region': 'ap-guangzhou', 'auth': {'secret_id': 'AKIDquar00000001', 'secret_key': SECRET},
        'groups': ['sg-quar%04d' % n for n in range(1, 5)],
        'instances': ['ins-quar%04d' % n for n in range(1, 4)],
        'eni': 'eni-quar0001', 'binding': tencentcloud_sg_binding,
    },
    'alicloud': {
        'region': 'cn-hangzhou', 'auth': {'access_key': 'LTAIquar00000001', 'secret_key': SECRET},
        'groups': ['sg-bp1quar00000000%02d' % n for n in range(1, 5)],
        'instances': ['i-bp1quar0000000000%02d' % n for n in range(1, 4)],
        'eni': 'eni-bp1quar000000000001', 'binding': alicloud_sg_binding,
    },
}


@pytest.fixture(scope='module')
def emulator():
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy'):
        os.environ.pop(var, None)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..'))
    from emulator import start  # pylint: disable=import-outside-toplevel
    running = start()
    yield running
    running.stop()


@pytest.fixture(params=sorted(CLOUDS))
def cloud(request, emulator):
    name = request.param
    c = CLOUDS[name]
    emulator.emulator.reset()
    groups = [dict(id=sg, region=c['region']) for sg in c['groups']]
    if name == 'alicloud':
        groups = [dict(sg, vpc_id='vpc-quar00001') for sg in groups]
    instances = [dict(id=iid, region=c['region'], vpc_id='vpc-quar00001', security_groups=c['groups'][:2]) for iid in c['instances']]
    instances[0]['tags'] = {'Name': 'web1'}
    eni = dict(id=c['eni'], region=c['region'], vpc_id='vpc-quar00001', instance_id=c['instances'][0], security_groups=[c['groups'][2]])
    if name == 'alicloud':
        eni['type'] = 'Secondary'
    creds = [{'access_key': list(c['auth'].values())[0], 'secret_key': SECRET}]
    emulator.emulator.seed({name: {'credentials': creds, 'security_groups': groups, 'instances': instances, 'network_interfaces': [eni]}})
    emulator.emulator.clear_requests()
    return dict(c, name=name, endpoint=emulator.endpoints[name], emulator=emulator)


def run(main, cloud, capsys, check_mode=False, **args):
    module_warnings._global_warnings.clear()  # pylint: disable=protected-access
    base = dict(cloud['auth'], region=cloud['region'], endpoint=cloud['endpoint'], retry_delay=0.05, retry_max_delay=0.2)
    if main is not cloud['binding'].main:
        base['provider'] = cloud['name']
    with patch_module_args(dict(base, _ansible_check_mode=check_mode, _ansible_diff=True, **args)):
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    assert SECRET not in out
    return json.loads(out)


def record(cloud, n=0, **changes):
    out = {'instance_id': cloud['instances'][n], 'security_group_ids': cloud['groups'][:2], 'quarantine_group_ids': [cloud['groups'][3]],
           'network_interfaces': [], 'isolated_at': '2026-12-07T12:00:00+00:00', 'reason': 'INC-4711 ssh brute force'}
    out.update(changes)
    return out


def calls(cloud):
    return collections.Counter(e['action'] for e in cloud['emulator'].emulator.requests(cloud['name']))


def emulator_tags(cloud):
    return dict((i['id'], i.get('tags', {})) for i in cloud['emulator'].emulator.state()[cloud['name']]['instances'])


def test_records_are_written_read_kept_and_removed_as_the_clouds_tags(cloud, capsys):
    eni_record = record(cloud, network_interfaces=[{'network_interface_id': cloud['eni'], 'security_group_ids': [cloud['groups'][2]]}])
    records = [eni_record, record(cloud, 1, reason=None)]
    result = run(sg_quarantine_record.main, cloud, capsys, records=records)
    assert result['changed'] and result['written'] == cloud['instances'][:2] and result['records'] == records
    tags = emulator_tags(cloud)
    assert tags[cloud['instances'][0]]['Name'] == 'web1'
    assert quarantine_record.decode(tags[cloud['instances'][0]]) == eni_record
    assert quarantine_record.decode(tags[cloud['instances'][1]]) == records[1]
    # Every tag within the cloud's limits, as the emulator enforces them; one tag call per instance (records differ).
    write = 'TagResources'
    assert calls(cloud)[write] == 2 and calls(cloud)['DescribeInstances'] == 1

    cloud['emulator'].emulator.clear_requests()
    again = run(sg_quarantine_record.main, cloud, capsys, records=[record(cloud, reason='another controller')])
    assert not again['changed'] and again['kept'] == [cloud['instances'][0]] and again['records'] == [eni_record]
    assert calls(cloud)[write] == 0

    info = run(sg_binding_info.main, cloud, capsys, instance_ids=cloud['instances'], interfaces=True)
    by_id = dict((i['instance_id'], i) for i in info['instances'])
    assert by_id[cloud['instances'][0]]['quarantine'] == eni_record and by_id[cloud['instances'][2]]['quarantine'] is None
    assert by_id[cloud['instances'][0]]['network_interfaces'] == [{'network_interface_id': cloud['eni'],
                                                                  'security_group_ids': [cloud['groups'][2]]}]
    assert by_id[cloud['instances'][1]]['network_interfaces'] == []

    cloud['emulator'].emulator.clear_requests()
    removed = run(sg_quarantine_record.main, cloud, capsys, state='absent', instance_ids=cloud['instances'])
    assert removed['changed'] and removed['removed'] == cloud['instances'][:2]
    assert emulator_tags(cloud) == {cloud['instances'][0]: {'Name': 'web1'}, cloud['instances'][1]: {}, cloud['instances'][2]: {}}
    assert calls(cloud)['DescribeInstances'] == 1
    assert not run(sg_quarantine_record.main, cloud, capsys, state='absent', instance_ids=cloud['instances'])['changed']


def test_a_binding_run_leaves_a_quarantined_instance_and_its_eni_alone(cloud, capsys):
    run(sg_quarantine_record.main, cloud, capsys, records=[record(cloud)])
    bound = run(cloud['binding'].main, cloud, capsys, instance_ids=cloud['instances'][:2], security_group_ids=[cloud['groups'][0]],
                purge=True)
    assert bound['quarantined'] == [cloud['instances'][0]]
    state = dict((i['id'], i['security_groups']) for i in cloud['emulator'].emulator.state()[cloud['name']]['instances'])
    assert state[cloud['instances'][0]] == cloud['groups'][:2] and state[cloud['instances'][1]] == [cloud['groups'][0]]
    eni = run(cloud['binding'].main, cloud, capsys, network_interface_ids=[cloud['eni']], security_group_ids=[cloud['groups'][0]],
              purge=True)
    assert eni['quarantined'] == [cloud['eni']] and not eni['changed']
