# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module against the emulator serving HTTPS with a throwaway CA (start(tls=True)), in-process:
verification is on by default (an unknown CA fails once, clearly, and is not retried), the REQUESTS_CA_BUNDLE
environment variable makes it pass, and validate_certs=false passes with a warning."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

import pytest

from ansible.module_utils.common import warnings as ansible_warnings
from ansible_collections.multicloud.secgroup.plugins.modules import sg_binding, sg_binding_info
from ansible_collections.multicloud.secgroup.tests.unit.plugins.modules.test_sg_binding import CLOUDS, LANDED, provider_main, run

# test_sg_binding put tests/ on sys.path.
from emulator import start  # noqa: E402  pylint: disable=wrong-import-position

CA_VARIABLES = ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE')


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    """ansible-core keeps warnings in a process-wide registry; in-process runs would see each other's."""
    monkeypatch.setattr(ansible_warnings, '_global_warnings', {})


@pytest.fixture(scope='module')
def tls_running():
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy'):
        os.environ.pop(var, None)
    running = start(tls=True)
    yield running
    running.stop()
    assert not os.path.exists(running.tls.directory)     # the keys go with the emulator


@pytest.fixture
def tls_cloud(tls_running, monkeypatch):
    for var in CA_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    tls_running.emulator.reset()
    tls_running.emulator.seed(dict((name, spec['seed']) for name, spec in CLOUDS.items()))
    return tls_running


def modules(name):
    """(label, main, extra args) of every module that can talk to provider `name`."""
    return [('provider', provider_main(name), {}), ('sg_binding', sg_binding.main, {'provider': name}),
            ('sg_binding_info', sg_binding_info.main, {'provider': name})]


def task_args(running, name, label, extra, **more):
    spec = CLOUDS[name]
    args = dict(spec['credentials'], endpoint=running.endpoints[name], instance_ids=spec['instances'][:1], **extra)
    if label != 'sg_binding_info':
        args['security_group_ids'] = spec['groups'][:1]
    args.update(more)
    return args


def wait_for_failures(running, name, at_least):
    deadline = time.time() + 10
    while running.handshake_failures(name) < at_least and time.time() < deadline:
        time.sleep(0.05)
    return running.handshake_failures(name)


@pytest.mark.parametrize('name', LANDED)
def test_an_unknown_ca_fails_once_with_a_message_naming_the_ways_out(tls_cloud, capsys, name):
    for label, main, extra in modules(name):
        before = tls_cloud.handshake_failures(name)
        result = run(main, task_args(tls_cloud, name, label, extra, retries=8, retry_delay=0.05), capsys)
        assert result['failed'], label
        assert result['error']['code'] == 'TLSError', label
        for words in ('nothing was sent', 'REQUESTS_CA_BUNDLE', 'validate_certs', 'CERTIFICATE_VERIFY_FAILED'):
            assert words in result['msg'], (label, words, result['msg'])
        assert 'nothing was changed' in result['msg'] or label == 'sg_binding_info'
        # One handshake, not retried (retries=8 would have made nine).
        assert wait_for_failures(tls_cloud, name, before + 1) == before + 1, label
        time.sleep(0.3)
        assert tls_cloud.handshake_failures(name) == before + 1, label
    assert tls_cloud.emulator.requests(name) == []
    assert tls_cloud.emulator.state()[name]['instances'][0]['security_groups'] == [CLOUDS[name]['first_group']]


@pytest.mark.parametrize('variable', CA_VARIABLES)
@pytest.mark.parametrize('name', LANDED)
def test_the_ca_bundle_environment_variable_makes_it_pass(tls_cloud, capsys, monkeypatch, name, variable):
    monkeypatch.setenv(variable, tls_cloud.ca_bundle)
    spec = CLOUDS[name]
    for label, main, extra in modules(name):
        tls_cloud.emulator.seed({name: spec['seed']})
        result = run(main, task_args(tls_cloud, name, label, extra), capsys)
        assert not result.get('failed'), (label, result.get('msg'))
        assert not result.get('warnings'), label
        if label == 'sg_binding_info':
            assert result['instances'][0]['security_group_ids'] == [spec['first_group']]
        else:
            assert result['changed'] and result['instances'][0]['after'] == [spec['first_group'], spec['groups'][0]], label


# urllib3's own InsecureRequestWarning goes to the module's stderr; the module's warning is what the user sees.
@pytest.mark.filterwarnings('ignore::urllib3.exceptions.InsecureRequestWarning')
@pytest.mark.parametrize('name', LANDED)
def test_validate_certs_false_passes_with_a_warning(tls_cloud, capsys, name):
    spec = CLOUDS[name]
    for label, main, extra in modules(name):
        tls_cloud.emulator.seed({name: spec['seed']})
        result = run(main, task_args(tls_cloud, name, label, extra, validate_certs=False), capsys)
        assert not result.get('failed'), (label, result.get('msg'))
        assert 'validate_certs is false: the TLS certificate of the endpoint is not verified' in json.dumps(result['warnings']), label
        assert 'REQUESTS_CA_BUNDLE' in json.dumps(result['warnings']), label
        if label != 'sg_binding_info':
            assert result['changed'], label


@pytest.mark.parametrize('name', LANDED)
def test_validate_certs_false_on_a_plain_http_endpoint_warns_of_nothing(capsys, name):
    running = start(dict((n, s['seed']) for n, s in CLOUDS.items()))
    try:
        result = run(provider_main(name), task_args(running, name, 'provider', {}, validate_certs=False), capsys)
    finally:
        running.stop()
    assert result['changed'] and not result.get('warnings')
