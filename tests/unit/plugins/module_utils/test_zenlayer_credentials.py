# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Zenlayer credential sources: the options and the zeno CLI's environment variables, its ~/.zenlayer/credentials.json
profiles (ZENLAYER_PROFILE, config.json's current_profile), files refused naming them, and the options Zenlayer Cloud
does not have (instance role, STS) refused naming the cloud; a read against the emulator signed with what was found."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys

import pytest

from ansible_collections.multicloud.secgroup.plugins.module_utils import _credentials as credentials
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport
from ansible_collections.multicloud.secgroup.plugins.module_utils import _zenlayer as zenlayer

AK, SK = 'AKID-ZL-CREDENTIALS', 'Zenlayer-Credentials-Secret-Never-Shown'
SG = '791721259766392536'
VM = '802452345504900001'


@pytest.fixture(scope='module')
def running():
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy'):
        os.environ.pop(var, None)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..'))
    from emulator import start  # pylint: disable=import-outside-toplevel
    emulator = start()
    yield emulator
    emulator.stop()


@pytest.fixture
def url(running):
    running.emulator.reset()
    running.emulator.seed({'zenlayer': {'credentials': [{'access_key': AK, 'secret_key': SK}],
                                        'security_groups': [{'id': SG}],
                                        'instances': [{'id': VM, 'security_groups': [SG]}]}})
    return running.endpoints['zenlayer']


def write_private(path, data, mode=0o600):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(str(path), 'w') as handle:
        handle.write(data if isinstance(data, str) else json.dumps(data))
    os.chmod(str(path), mode)


def resolve(url, home, environ=None, **extra):
    params = dict(endpoint=url, max_concurrency=2, instance_ids=[VM], access_key_id=None, access_key_password=None)
    params.update(extra)
    conn = transport.Transport('zenlayer', timeout=5, max_retries=0, secrets=[])
    registered = []
    held = credentials.for_module(zenlayer.ZenlayerCloud, params, conn, registered.append, environ=environ or {}, home=str(home))
    return zenlayer.ZenlayerCloud(params, conn), held, registered


def test_profile_from_config_current_profile(url, tmp_path):
    write_private(tmp_path / '.zenlayer' / 'credentials.json',
                  {'default': {'access_key_id': 'other', 'access_key_secret': 'other'},
                   'prod': {'access_key_id': AK, 'access_key_secret': SK}})
    write_private(tmp_path / '.zenlayer' / 'config.json', {'current_profile': 'prod', 'profiles': {}}, 0o644)
    cloud, held, registered = resolve(url, tmp_path)
    current, dummy = cloud.read([VM])
    assert current[VM] == [SG]
    assert held.current().source == "profile 'prod' in ~/.zenlayer/credentials.json" and SK in registered


def test_zenlayer_profile_variable_and_cli_key_variables(url, tmp_path):
    write_private(tmp_path / '.zenlayer' / 'credentials.json', {'ci': {'access_key_id': AK, 'access_key_secret': SK}})
    assert resolve(url, tmp_path, {'ZENLAYER_PROFILE': 'ci'})[1].current().source.startswith("profile 'ci'")
    # The CLI's key variables come before the file, as its flags > environment > file order has them.
    cloud, held, dummy = resolve(url, tmp_path, {'ZENLAYER_ACCESS_KEY_ID': AK, 'ZENLAYER_ACCESS_KEY_SECRET': SK,
                                                 'ZENLAYER_PROFILE': 'missing'})
    assert cloud.read([VM])[0][VM] == [SG]
    assert held.current().source == 'the environment variables ZENLAYER_ACCESS_KEY_ID and ZENLAYER_ACCESS_KEY_SECRET'
    with pytest.raises(credentials.CredentialsError, match='ZENLAYER_ACCESS_KEY_SECRET is set but ZENLAYER_ACCESS_KEY_ID is not'):
        resolve(url, tmp_path, {'ZENLAYER_ACCESS_KEY_SECRET': SK})


def test_nothing_found_lists_the_sources(url, tmp_path):
    with pytest.raises(credentials.CredentialsNotFound) as err:
        resolve(url, tmp_path)
    message = str(err.value)
    assert ('(1) options access_key_id/access_key_password: access_key_id (or ZENLAYERCLOUD_ACCESS_KEY_ID) and '
            'access_key_password (or ZENLAYERCLOUD_ACCESS_KEY_PASSWORD) not set') in message
    assert "(2) the zeno CLI's variables: ZENLAYER_ACCESS_KEY_ID and ZENLAYER_ACCESS_KEY_SECRET not set" in message
    assert "(3) the zeno CLI profile (~/.zenlayer/credentials.json): ~/.zenlayer/credentials.json absent" in message
    write_private(tmp_path / '.zenlayer' / 'credentials.json', {'default': {'access_key_id': AK, 'access_key_secret': SK}})
    with pytest.raises(credentials.CredentialsNotFound, match="~/.zenlayer/credentials.json has no profile 'prod'"):
        resolve(url, tmp_path, profile='prod')


@pytest.mark.parametrize('content, mode, message', [
    ({'default': {'access_key_id': AK, 'access_key_secret': SK}}, 0o644, 'may be read or written by others'),
    ('{"default": {"access_key_secret": "%s"' % SK, 0o600, 'is not valid JSON'),
    ({'default': {'token': SK}}, 0o600, 'holds a personal access token only'),
    ({'default': {'access_key_id': AK}}, 0o600, 'access_key_secret is missing'),
], ids=['readable-by-others', 'not-json', 'token-only', 'no-secret'])  # ids: the test names (junit) never carry a secret
def test_bad_files_refused_naming_them(url, tmp_path, content, mode, message):
    write_private(tmp_path / '.zenlayer' / 'credentials.json', content, mode)
    with pytest.raises(credentials.CredentialsError) as err:
        resolve(url, tmp_path)
    assert message in str(err.value) and '~/.zenlayer/credentials.json' in str(err.value) and SK not in str(err.value)


@pytest.mark.parametrize('option, value', [
    ('instance_role', 'auto'), ('metadata_endpoint', 'http://127.0.0.1:9'), ('sts_endpoint', 'http://127.0.0.1:9'),
    ('assume_role', {'role_arn': 'x'}),
])
def test_what_zenlayer_lacks_is_refused_naming_the_cloud(url, tmp_path, option, value):
    with pytest.raises(credentials.CredentialsError) as err:
        resolve(url, tmp_path, **{option: value, 'access_key_id': AK, 'access_key_password': SK})
    assert 'Zenlayer' in str(err.value) and option in str(err.value)
