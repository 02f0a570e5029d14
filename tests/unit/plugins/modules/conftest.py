# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator the module tests in this directory run against (tests/emulator, over HTTP on loopback)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import pytest

from ansible.module_utils.common import warnings as ansible_warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..'))

from emulator import start  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope='module')
def running():
    """One emulator per test module; the proxy variables are dropped (the emulator is on loopback)."""
    for var in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy'):
        os.environ.pop(var, None)
    emulator = start()
    yield emulator
    emulator.stop()


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    """ansible-core keeps warnings in a process-wide registry (a list or a dict by version); each in-process module run
    must see only its own."""
    monkeypatch.setattr(ansible_warnings, '_global_warnings', type(ansible_warnings._global_warnings)())  # pylint: disable=protected-access
