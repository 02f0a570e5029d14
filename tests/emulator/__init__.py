# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Local emulator of the Tencent Cloud, Alibaba Cloud, Baidu AI Cloud and Zenlayer APIs.

Run it with ``python tests/emulator --endpoints-file PATH``; from Python tests,
``start(seed)`` returns a running instance (see docs/emulator.md).
"""

import importlib

from .core import CLOUD_NAMES, Emulator, Running


def cloud_classes():
    """The Cloud subclass of each cloud module, in CLOUD_NAMES order."""
    classes = []
    for name in CLOUD_NAMES:
        module = importlib.import_module('.' + name, __name__)
        classes.append(module.CLOUD)
    return classes


def start(seed=None, host='127.0.0.1', tls=False, port=None):
    """Start every cloud and the admin API on free loopback ports, or from a fixed base `port` (each cloud on
    port + its position in CLOUD_NAMES, the admin API on the next one; OSError naming the port when one is taken).

    tls=True: the clouds serve HTTPS with a certificate from a CA made now (``running.ca_bundle``; see tls.py).
    """
    emulator = Emulator(cloud_classes())
    if seed:
        emulator.seed(seed)
    authority = None
    if tls:
        from .tls import ThrowawayCA  # pylint: disable=import-outside-toplevel
        authority = ThrowawayCA(host)
    try:
        return Running(emulator, host, authority, port)
    except Exception:
        if authority is not None:
            authority.remove()
        raise
