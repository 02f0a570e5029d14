# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""python tests/emulator --endpoints-file PATH [--seed FILE] [--tls]"""

import argparse
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from emulator import start  # noqa: E402  pylint: disable=wrong-import-position
from emulator.core import SettingsError, load_seed_file  # noqa: E402  pylint: disable=wrong-import-position


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python tests/emulator',
        description='Local emulator of the Tencent Cloud, Alibaba Cloud, Baidu AI Cloud and Zenlayer APIs.')
    parser.add_argument('--endpoints-file', required=True,
                        help='where to write the JSON map of cloud name to URL once listening')
    parser.add_argument('--seed', help='a JSON or YAML seed file (see docs/emulator.md)')
    parser.add_argument('--host', default='127.0.0.1', help='loopback address to bind (default 127.0.0.1)')
    parser.add_argument('--tls', action='store_true',
                        help='serve every cloud over HTTPS with a certificate from a throwaway CA made at start-up; '
                             'the endpoints file gets the CA file as "ca_bundle" (removed on exit)')
    args = parser.parse_args(argv)

    try:
        seed = load_seed_file(args.seed) if args.seed else None
        running = start(seed, args.host, tls=args.tls)
    except (OSError, SettingsError, ValueError, ImportError) as exc:
        parser.exit(2, 'emulator: %s\n' % exc)

    endpoints = dict(running.endpoints)
    if running.ca_bundle:
        endpoints['ca_bundle'] = running.ca_bundle
    tmp = args.endpoints_file + '.tmp'
    with open(tmp, 'w') as handle:
        json.dump(endpoints, handle, indent=2, sort_keys=True)
    os.replace(tmp, args.endpoints_file)
    sys.stdout.write('emulator listening: %s\n' % json.dumps(endpoints, sort_keys=True))
    sys.stdout.flush()

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(0.5)
    running.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
