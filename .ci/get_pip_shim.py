# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: multicloud.secgroup developers
"""Offline stand-in for ansible-test's get-pip bootstrap script.

ansible-test creates every pip virtual environment with ``--without-pip`` and
then runs ``python quiet_pip.py --disable-pip-version-check pip==X.Y
--no-setuptools --no-wheel`` with ``GET_PIP`` pointing at
``~/.ansible/test/cache/get_pip_X_Y.py``.  When that file is missing it is
downloaded from a host that is unreachable here, so ``make venv`` copies this
script to that name instead.

Fast path: a ``pip-X.Y-py3-none-any.whl`` next to this script is used to
install itself (no network).  Fallback: ``ensurepip`` followed by
``pip install pip==X.Y``.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys

DROPPED_OPTIONS = ('--no-setuptools', '--no-wheel')
PIP_SPEC = re.compile(r'^pip==(?P<version>[0-9][0-9A-Za-z.]*)$')


def split_arguments(arguments):
    """Return the requested pip version and the remaining pip options."""
    version = None
    options = []

    for argument in arguments:
        match = PIP_SPEC.match(argument)

        if match:
            version = match.group('version')
        elif argument not in DROPPED_OPTIONS:
            options.append(argument)

    return version, options


def find_wheel(version):
    """Return the path of a matching pip wheel beside this script, or None."""
    directory = os.path.dirname(os.path.abspath(__file__))
    pattern = 'pip-%s-py3-none-any.whl' % (version or '*')
    candidates = sorted(glob.glob(os.path.join(directory, pattern)))

    return candidates[-1] if candidates else None


def run(command):
    """Run a command and return its exit status."""
    return subprocess.call(command)


def install_from_wheel(wheel):
    """Install pip from a local wheel by running pip out of that wheel."""
    return run([sys.executable, os.path.join(wheel, 'pip'), 'install', '-q', '--no-index', '--disable-pip-version-check', wheel])


def install_with_ensurepip(version, options):
    """Install pip with ensurepip, then move it to the requested version."""
    status = run([sys.executable, '-m', 'ensurepip', '--default-pip'])

    if status or not version:
        return status

    return run([sys.executable, '-m', 'pip', 'install', '-q'] + options + ['pip==%s' % version])


def main():
    """Main program entry point."""
    version, options = split_arguments(sys.argv[1:])
    wheel = find_wheel(version)

    if wheel and install_from_wheel(wheel) == 0:
        return 0

    return install_with_ensurepip(version, options)


if __name__ == '__main__':
    sys.exit(main())
