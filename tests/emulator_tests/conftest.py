# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the emulator's own tests: a running emulator and its admin API."""

import json
import os
import sys
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from emulator import start  # noqa: E402  pylint: disable=wrong-import-position

# Two SDKs mishandle NO_PROXY for 127.0.0.1; the emulator is always local.
for _var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy'):
    os.environ.pop(_var, None)


class Admin(object):
    """A tiny client of the admin API."""

    def __init__(self, url):
        self.url = url

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode('utf-8')
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=10) as resp:  # nosec - loopback only
            return json.loads(resp.read().decode('utf-8'))

    def seed(self, doc):
        return self.call('POST', '/seed', doc)

    def state(self):
        return self.call('GET', '/state')

    def settings(self, **changes):
        return self.call('POST', '/settings', changes)

    def fault(self, **spec):
        return self.call('POST', '/faults', spec)['faults'][0]

    def requests(self, provider=None):
        return self.call('GET', '/requests' + ('?provider=' + provider if provider else ''))['requests']


@pytest.fixture(scope='session')
def running_emulator():
    running = start()
    yield running
    running.stop()


@pytest.fixture
def emulator(running_emulator):
    """The running emulator, reset before each test. ``.endpoints`` has the URLs."""
    running_emulator.emulator.reset()
    return running_emulator


@pytest.fixture
def admin(emulator):
    return Admin(emulator.endpoints['admin'])
