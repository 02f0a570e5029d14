# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The binding modules of Alibaba Cloud, Baidu AI Cloud and Zenlayer authenticating without key options, HOME an empty
directory and no credential variable set: from each cloud's CLI profile file, from the instance role served by the
emulator's metadata service and through assume_role chained from it; every secret fetched at run time absent from the
module's output at -vvvv; no credentials: the failure lists the sources tried."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.modules import (alicloud_sg_binding, baiducloud_sg_binding,
                                                                     zenlayer_sg_binding)

SECRET = 'Seeded-Secret-Never-Shown-0001'
ACCOUNT_ALI, ACCOUNT_BD = '1234567890123456', 'dc9b5191440d4f93851ddffb4e942b75'
CLOUDS = {
    'alicloud': dict(module=alicloud_sg_binding, key='LTAI5tCredModuleKey01', region='cn-hangzhou',
                     instance='i-bp1credcredcredcred01', groups=['sg-bp1credcredcredcr01', 'sg-bp1credcredcredcr02'],
                     file=('.aliyun', 'config.json'), role_arn='acs:ram::%s:role/Deploy' % ACCOUNT_ALI,
                     roles=('ram_roles', [{'name': 'EcsRole', 'account_id': ACCOUNT_ALI, 'instance': True},
                                          {'name': 'Deploy', 'account_id': ACCOUNT_ALI}])),
    'baiducloud': dict(module=baiducloud_sg_binding, key='ak0123456789abcdef0123456789cred', region='bj',
                       instance='i-CredMod1', groups=['g-credmod01', 'g-credmod02'], file=('.bce', 'config.json'),
                       role_arn='%s:Deploy' % ACCOUNT_BD,
                       roles=('iam_roles', [{'name': 'BccRole', 'account_id': ACCOUNT_BD, 'instance': True},
                                            {'name': 'Deploy', 'account_id': ACCOUNT_BD}])),
    'zenlayer': dict(module=zenlayer_sg_binding, key='AKID-ZL-CRED-MODULE', region=None, instance='802452345504900077',
                     groups=['791721259766392601', '791721259766392602'], file=('.zenlayer', 'credentials.json')),
}
VARIABLE_PREFIXES = ('ALICLOUD_', 'ALIBABA_CLOUD_', 'BAIDUCLOUD_', 'BCE_', 'ZENLAYER')


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))
    for name in list(os.environ):
        if name.startswith(VARIABLE_PREFIXES):
            monkeypatch.delenv(name)
    return tmp_path


def seed(running, name):
    c = CLOUDS[name]
    running.emulator.reset()
    groups = [dict(id=sg) for sg in c['groups']]
    instance = dict(id=c['instance'], security_groups=c['groups'][:1])
    if c['region']:
        groups = [dict(g, region=c['region'], vpc_id='vpc-cred0001') for g in groups]
        instance.update(region=c['region'], vpc_id='vpc-cred0001')
    section = {'credentials': [{'access_key': c['key'], 'secret_key': SECRET}], 'security_groups': groups, 'instances': [instance]}
    if 'roles' in c:
        section[c['roles'][0]] = c['roles'][1]
    running.emulator.seed({name: section})
    running.emulator.clear_requests()


def profile_file(name, home):
    c = CLOUDS[name]
    if name == 'alicloud':
        data = {'current': 'ops', 'profiles': [{'name': 'ops', 'mode': 'AK', 'access_key_id': c['key'], 'access_key_secret': SECRET}]}
    elif name == 'baiducloud':
        data = {'current': 'ops', 'profiles': [{'name': 'ops', 'mode': 'AK', 'access_key_id': c['key'], 'secret_access_key': SECRET}]}
    else:
        data = {'ops': {'access_key_id': c['key'], 'access_key_secret': SECRET}}
    path = os.path.join(str(home), *c['file'])
    os.makedirs(os.path.dirname(path))
    with open(path, 'w') as handle:
        json.dump(data, handle)
    os.chmod(path, 0o600)


def run(running, name, capsys, **args):
    c = CLOUDS[name]
    base = dict(instance_ids=[c['instance']], security_group_ids=c['groups'], state='present', purge=False,
                endpoint=running.endpoints[name], retry_delay=0.05, retry_max_delay=0.2, _ansible_verbosity=4)
    if c['region']:
        base['region'] = c['region']
    with patch_module_args(dict(base, **args)):
        with pytest.raises(SystemExit):
            c['module'].main()
    out = capsys.readouterr().out
    fetched = running.emulator.clouds[name].__dict__.get('issued', {}).values()
    for secret in [SECRET] + [v for e in fetched for v in (e['secret_key'], e['security_token'])]:
        assert secret not in out
    return json.loads(out)


@pytest.mark.parametrize('name', sorted(CLOUDS))
def test_from_the_cli_profile_file(running, home, capsys, name):
    seed(running, name)
    profile_file(name, home)
    result = run(running, name, capsys, profile='ops')
    assert result.get('failed') is not True and result['changed'] is True, result


@pytest.mark.parametrize('name', ['alicloud', 'baiducloud'])
def test_from_the_instance_role_and_through_assume_role(running, home, capsys, name):
    seed(running, name)
    url, md = running.endpoints[name], running.endpoints[name + '_metadata']
    result = run(running, name, capsys, instance_role='auto', metadata_endpoint=md)
    assert result['changed'] is True, result
    seed(running, name)
    result = run(running, name, capsys, instance_role='auto', metadata_endpoint=md, sts_endpoint=url,
                 assume_role=dict(role_arn=CLOUDS[name]['role_arn'], duration=3600))
    assert result['changed'] is True, result
    actions = [e['action'] for e in running.emulator.requests(name)]
    assert 'AssumeRole' in actions and len(running.emulator.clouds[name].issued) == 2


@pytest.mark.parametrize('name', sorted(CLOUDS))
def test_nothing_found(running, home, capsys, name):
    seed(running, name)
    result = run(running, name, capsys)
    assert result['failed'] is True and 'no credentials found; tried, in order: (1)' in result['msg']
    assert not list(running.emulator.requests(name))      # nothing asked, not even the metadata service
