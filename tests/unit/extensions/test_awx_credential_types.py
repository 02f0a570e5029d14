# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWX credential types in extensions/awx/credential_types agree with the providers' options: one input per
option with environment variables, injected into the first of them, secret exactly where the option is no_log."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible.module_utils.basic import env_fallback

from ansible_collections.multicloud.secgroup.plugins.module_utils import _generic as generic

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..')
TYPES_DIR = os.path.join(ROOT, 'extensions', 'awx', 'credential_types')
# Required by the modules, but a job's variables may give it instead of the credential.
JOB_OPTIONS = ('region',)
FIELD_KEYS = {'id', 'label', 'type', 'help_text', 'secret', 'multiline', 'format', 'default', 'choices'}


def load(name):
    with open(os.path.join(TYPES_DIR, name + '.yml')) as handle:
        return yaml.safe_load(handle)


def env_options(cls):
    """The provider's options read from environment variables: {option: (spec, [variables])}."""
    return dict((name, (option, option['fallback'][1])) for name, option in cls.argument_spec.items()
                if option.get('fallback') and option['fallback'][0] is env_fallback)


# Issue 25: the credential-source settings a job sets through a credential (AWX field id -> the setting whose environment
# variables the provider declares in credential_environment), after the key options, in this order.
SOURCE_FIELDS = (('profile', 'profile'), ('role_arn', 'assume_role.role_arn'), ('session_name', 'assume_role.session_name'),
                 ('external_id', 'assume_role.external_id'))


def source_fields(cls):
    """[(field id, [variables])] of the credential-source settings cls reads from the environment."""
    declared = getattr(cls, 'credential_environment', {})
    return [(field, list(declared[setting])) for field, setting in SOURCE_FIELDS if declared.get(setting)]


def test_one_definition_per_provider_and_nothing_else():
    assert sorted(os.listdir(TYPES_DIR)) == sorted('%s.yml' % name for name in generic.PROVIDERS)


@pytest.mark.parametrize('name', sorted(generic.PROVIDERS))
def test_inputs_and_injectors_follow_the_providers_options(name):
    cls = generic.PROVIDERS[name]
    definition = load(name)
    options = env_options(cls)
    assert set(definition) == {'name', 'description', 'kind', 'inputs', 'injectors'}
    assert definition['kind'] == 'cloud' and cls.display_name in definition['name']
    fields = definition['inputs']['fields']
    sources = source_fields(cls)
    assert [field['id'] for field in fields] == list(options) + [field for field, dummy in sources]
    assert set(definition['injectors']) == {'env'}
    expected = dict((variables[0], '{{ %s }}' % option) for option, (dummy, variables) in options.items())
    expected.update((variables[0], '{{ %s }}' % field) for field, variables in sources)
    assert definition['injectors']['env'] == expected
    assert definition['inputs']['required'] == [option for option, (spec, dummy) in options.items()
                                                if spec.get('required') and option not in JOB_OPTIONS]
    for field in fields:
        if field['id'] in dict(sources):
            assert set(field) <= FIELD_KEYS and field['type'] == 'string' and not field.get('secret'), field['id']
            assert field['label'] and field['help_text'], field['id']
            continue
        spec = options[field['id']][0]
        assert set(field) <= FIELD_KEYS and field['type'] == 'string' and spec['type'] == 'str', field['id']
        assert field['label'] and field['help_text'], field['id']
        assert field.get('secret', False) is bool(spec.get('no_log')), field['id']


@pytest.mark.parametrize('name', sorted(generic.PROVIDERS))
def test_no_reserved_variable_and_every_secret_is_secret(name):
    definition = load(name)
    assert not [var for var in definition['injectors']['env'] if var.startswith('ANSIBLE_')]
    secrets = set(option for option, spec in generic.PROVIDERS[name].argument_spec.items() if spec.get('no_log'))
    assert secrets and secrets == set(field['id'] for field in definition['inputs']['fields'] if field.get('secret'))


def test_the_guide_lists_every_injected_variable():
    with open(os.path.join(ROOT, 'docs', 'awx.md')) as handle:
        guide = handle.read()
    for name in generic.PROVIDERS:
        for var in load(name)['injectors']['env']:
            assert '`%s`' % var in guide, var
