# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""python tests/emulator --endpoints-file PATH [--seed FILE] [--tls] [--port BASE]"""

import argparse
import json
import os
import signal
import sys
import tempfile
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
    parser.add_argument('--port', type=int, metavar='BASE',
                        help='listen on fixed ports: each cloud on BASE + its position (tencentcloud, alicloud, '
                             'baiducloud, zenlayer), the admin API on BASE + 4, the metadata services after it (default: free ports)')
    args = parser.parse_args(argv)
    if args.port is not None and not 0 < args.port <= 65535 - 4:
        parser.exit(2, 'emulator: --port %d: the base port must be between 1 and 65531\n' % args.port)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        seed = load_seed_file(args.seed) if args.seed else None
        running = start(seed, args.host, tls=args.tls, port=args.port)
    except (OSError, SettingsError, ValueError, ImportError) as exc:
        parser.exit(2, 'emulator: %s\n' % exc)

    try:
        endpoints = dict(running.endpoints)
        if running.ca_bundle:
            endpoints['ca_bundle'] = running.ca_bundle
        write_atomically(args.endpoints_file, json.dumps(endpoints, indent=2, sort_keys=True))
        sys.stdout.write('emulator listening: %s\n' % json.dumps(endpoints, sort_keys=True))
        sys.stdout.flush()
        while not stop.is_set():
            stop.wait(0.5)
    finally:
        running.stop()
        # A stale endpoints file would point the next user at ports nothing listens on.
        if os.path.exists(args.endpoints_file):
            os.remove(args.endpoints_file)
    return 0


def write_atomically(path, text):
    """Write through a temporary file in the same directory, renamed over `path`: a reader never sees half a file."""
    handle, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(handle, 'w') as out:
            out.write(text)
        os.chmod(tmp, 0o644)    # mkstemp makes it 0600; it holds URLs only, for any local client
        os.replace(tmp, path)
    except BaseException:
        os.remove(tmp)
        raise


if __name__ == '__main__':
    sys.exit(main())
