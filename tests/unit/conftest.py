# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: multicloud.secgroup developers
"""Make ``ansible_collections.multicloud.secgroup`` importable for plain pytest.

Under ansible-test (or in any ``.../ansible_collections/multicloud/secgroup``
tree) the directory above ``ansible_collections`` is put on ``sys.path``.
In a plain checkout a temporary tree with a symlink to the checkout is used,
so edits are seen live and nothing is written into the repository.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

_NAMESPACE = 'multicloud'
_NAME = 'secgroup'
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _collections_parent():
    """Return a directory that contains ``ansible_collections/<ns>/<name>``."""
    grandparent = os.path.dirname(os.path.dirname(_ROOT))

    if os.path.basename(grandparent) == 'ansible_collections':
        return os.path.dirname(grandparent)

    tree = tempfile.mkdtemp(prefix='multicloud-secgroup-pytest-')
    atexit.register(shutil.rmtree, tree, True)
    namespace_dir = os.path.join(tree, 'ansible_collections', _NAMESPACE)
    os.makedirs(namespace_dir)
    os.symlink(_ROOT, os.path.join(namespace_dir, _NAME))

    return tree


_PARENT = _collections_parent()

if _PARENT not in sys.path:
    sys.path.insert(0, _PARENT)
