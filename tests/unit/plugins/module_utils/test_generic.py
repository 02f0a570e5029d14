# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_generic's start-up: a generic module's task imports the chosen provider only, and parses exactly what the union
of every provider's options would have given it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.module_utils import _generic as generic

SPECS = (generic.binding_spec, generic.info_spec, generic.record_spec)
PROVIDER_MODULES = ('_alicloud', '_baiducloud', '_tencentcloud', '_zenlayer')
# The directory holding ansible_collections/multicloud/secgroup (put on sys.path by conftest or ansible-test).
PARENT = os.path.abspath(os.path.join(os.path.dirname(generic.__file__), *[os.pardir] * 5))

TASKS = {
    'tencentcloud': {'secret_id': 'AKIDstartup0001', 'secret_key': 'startup-secret-tc', 'region': 'ap-guangzhou',
                     'instance_ids': ['ins-00000001']},
    'alicloud': {'access_key': 'LTAI5tStartup0001', 'secret_key': 'startup-secret-ali', 'region': 'cn-hangzhou',
                 'instance_ids': ['i-00000001']},
    'baiducloud': {'access_key': 'startupak0001', 'secret_key': 'startup-secret-bd', 'region': 'bj', 'instance_ids': ['i-00000001']},
    'zenlayer': {'access_key_id': 'AKID-ZL-STARTUP', 'access_key_password': 'startup-secret-zl',
                 'instance_ids': ['800000000000000001']},
}

# Run in a new interpreter: which provider modules a task's parsing imports.
IMPORTED = '''
import importlib, json, sys
from ansible.module_utils.testing import patch_module_args
from ansible_collections.multicloud.secgroup.plugins.module_utils import _generic as generic
spec = {}
if sys.argv[2].startswith('ansible_collections.'):
    importlib.import_module(sys.argv[2])
elif sys.argv[2] != 'none':
    with patch_module_args(json.loads(sys.argv[1])):
        spec = generic.task_spec(getattr(generic, sys.argv[2]))
names = ['%s.' % generic.__name__.rsplit('.', 1)[0] + name for name in sys.argv[3:]]
print(json.dumps({'imported': sorted(name.rsplit('.', 1)[1] for name in names if name in sys.modules), 'options': sorted(spec),
                  'stdlib': sorted(name for name in ('configparser',) if name in sys.modules)}))
'''


def imported(args, spec_of='binding_spec'):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([PARENT] + [p for p in sys.path if p]))
    proc = subprocess.run([sys.executable, '-c', IMPORTED, json.dumps(args), spec_of] + list(PROVIDER_MODULES), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout.decode())


# The inventory plugin's case is in tests/unit/plugins/inventory (ansible-test units runs module_utils tests where the
# controller's ansible packages cannot be imported).
@pytest.mark.parametrize('module', ['none', 'ansible_collections.multicloud.secgroup.plugins.modules.sg_binding'])
def test_the_providers_are_named_without_importing_them(module):
    assert imported({}, module)['imported'] == []
    assert generic.PROVIDER_OPTION['choices'] == sorted(generic.PROVIDER_NAMES)


@pytest.mark.parametrize('name', generic.PROVIDER_NAMES)
def test_each_name_is_its_providers(name):
    assert name in generic.PROVIDERS and generic.PROVIDERS[name].name == name
    assert list(generic.PROVIDERS) == list(generic.PROVIDER_NAMES) and len(generic.PROVIDERS) == 4


@pytest.mark.parametrize('name', ['awscloud', ['tencentcloud'], None, 7])
def test_an_unknown_provider_is_no_provider(name):
    assert name not in generic.PROVIDERS
    with pytest.raises(KeyError):
        generic.PROVIDERS[name]  # pylint: disable=pointless-statement
    with pytest.raises(KeyError):
        generic.provider_class(name)


@pytest.mark.parametrize('spec_of', ['binding_spec', 'info_spec', 'record_spec'])
@pytest.mark.parametrize('name', generic.PROVIDER_NAMES)
def test_a_task_imports_its_own_provider_only(name, spec_of):
    result = imported(dict(TASKS[name], provider=name), spec_of)
    assert result['imported'] == ['_' + name]
    assert result['stdlib'] == []       # a profile file's parser: imported when one is read
    assert set(result['options']) == set(generic.chosen_spec(getattr(generic, spec_of), generic.PROVIDERS[name]))


def test_another_providers_option_takes_the_union_to_name_it():
    result = imported(dict(TASKS['tencentcloud'], provider='tencentcloud', access_key_password='x'))
    assert result['imported'] == list(PROVIDER_MODULES)
    assert set(result['options']) == set(generic.union_spec(generic.binding_spec))


@pytest.mark.parametrize('provider', ['awscloud', None, ['tencentcloud']])
def test_no_known_provider_takes_the_union_to_say_which_there_are(provider):
    args = dict(TASKS['tencentcloud'], **({'provider': provider} if provider is not None else {}))
    assert imported(args)['imported'] == list(PROVIDER_MODULES)


@pytest.mark.parametrize('spec_of', SPECS)
@pytest.mark.parametrize('name', generic.PROVIDER_NAMES)
def test_the_chosen_providers_spec_is_its_part_of_the_union(spec_of, name):
    union = generic.union_spec(spec_of)
    chosen = generic.chosen_spec(spec_of, generic.PROVIDERS[name])
    assert dict((option, union[option]) for option in chosen) == chosen
    assert set(spec_of(generic.PROVIDERS[name])) | set(['provider']) <= set(chosen)


@pytest.mark.parametrize('spec_of', SPECS)
@pytest.mark.parametrize('name', generic.PROVIDER_NAMES)
def test_the_chosen_spec_and_the_union_give_the_same_params(monkeypatch, spec_of, name):
    given = dict(TASKS[name], provider=name, security_group_ids=['sg-00000001'])
    if spec_of is generic.record_spec:
        given = dict(given, state='absent')
        del given['security_group_ids']
    results = []
    for spec in (generic.task_spec, generic.union_spec):
        monkeypatch.setattr(generic, 'task_spec', spec)
        with patch_module_args(given):
            module, cls = generic.generic_module(spec_of, require_target=False)
        results.append((module.params, sorted(module.no_log_values), cls))
    assert results[0] == results[1]
    assert 'startup-secret' in ' '.join(results[0][1])
