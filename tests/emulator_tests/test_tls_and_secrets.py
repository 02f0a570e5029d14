# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's HTTPS mode (throwaway CA) and its admin API keeping the credentials' secrets out of its answers."""

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from emulator import start

EMULATOR_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'emulator')
SEED = {'tencentcloud': {'credentials': [{'access_key': 'AKIDmasking00001', 'secret_key': 'Masking-Secret-Never-Shown',
                                          'security_token': 'Masking-Token-Never-Shown'}]}}


def get(url, context=None):
    with urllib.request.urlopen(url, timeout=10, context=context) as resp:  # nosec - loopback only
        return resp.status, resp.read().decode('utf-8')


def test_the_admin_api_masks_the_credentials_secrets():
    running = start(SEED)
    try:
        status, body = get(running.endpoints['admin'] + '/state')
        assert status == 200
        assert json.loads(body)['tencentcloud']['credentials'] == [
            {'access_key': 'AKIDmasking00001', 'secret_key': '********', 'security_token': '********'}]
        assert 'Never-Shown' not in body
        req = urllib.request.Request(running.endpoints['admin'] + '/seed', data=json.dumps(SEED).encode(), method='POST')
        with urllib.request.urlopen(req, timeout=10) as resp:  # nosec - loopback only
            assert b'Never-Shown' not in resp.read()
        # In-process, the state keeps them (the signature checks need them).
        assert running.emulator.state()['tencentcloud']['credentials'][0]['secret_key'] == 'Masking-Secret-Never-Shown'
    finally:
        running.stop()


def test_tls_serves_the_clouds_over_https_with_the_throwaway_ca():
    running = start(tls=True)
    try:
        directory = running.tls.directory
        assert sorted(os.listdir(directory)) == ['ca.pem', 'server.key', 'server.pem']
        assert oct(os.stat(os.path.join(directory, 'server.key')).st_mode & 0o777) == '0o600'
        assert running.endpoints['admin'].startswith('http://')
        trusted = ssl.create_default_context(cafile=running.ca_bundle)
        for name in ('tencentcloud', 'alicloud', 'baiducloud', 'zenlayer'):
            url = running.endpoints[name]
            assert url.startswith('https://127.0.0.1:'), url
            with pytest.raises(urllib.error.URLError) as failure:
                get(url + '/', ssl.create_default_context())          # the system CAs do not know it
            assert 'CERTIFICATE_VERIFY_FAILED' in str(failure.value)
            localhost = url.replace('127.0.0.1', 'localhost')
            for where in (url, localhost):
                try:
                    get(where + '/', trusted)
                except urllib.error.HTTPError as answer:             # the cloud's own error: TLS itself worked
                    assert answer.code < 600
        assert running.handshake_failures('tencentcloud') >= 1
    finally:
        running.stop()
    assert not os.path.exists(directory)


def test_the_command_line_writes_the_ca_bundle_into_the_endpoints_file(tmp_path):
    endpoints_file = tmp_path / 'endpoints.json'
    proc = subprocess.Popen([sys.executable, EMULATOR_DIR, '--endpoints-file', str(endpoints_file), '--tls'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while not endpoints_file.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
        endpoints = json.loads(endpoints_file.read_text())
        assert os.path.isfile(endpoints['ca_bundle'])
        assert all(endpoints[name].startswith('https://') for name in ('tencentcloud', 'alicloud', 'baiducloud', 'zenlayer'))
        status, body = get(endpoints['admin'] + '/health')
        assert status == 200 and json.loads(body)['ok']
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert not os.path.exists(os.path.dirname(endpoints['ca_bundle']))
