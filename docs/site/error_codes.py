# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: multicloud.secgroup developers
"""Print the troubleshooting guide's error-code tables as Markdown, from each provider's ERROR_CLASSES.

The tables are generated so that they cannot drift from what the modules really do with a code.
Usage: python docs/site/error_codes.py <tree with ansible_collections/multicloud/secgroup>
"""

import importlib
import sys

CLOUDS = (
    ('tencentcloud', 'Tencent Cloud'),
    ('alicloud', 'Alibaba Cloud'),
    ('baiducloud', 'Baidu AI Cloud'),
    ('zenlayer', 'Zenlayer Cloud'),
)

# What each class of error means to the user and what to do about it.
ADVICE = {
    'throttled': ('The API rejected the request before processing it (rate limit).',
                  'Retried automatically with backoff (`retries`, `retry_delay`, `retry_max_delay`). '
                  'If it still fails, lower `rate_limit` or `max_concurrency`, or spread the plays out.'),
    'in_progress': ('Another operation holds the instance, or it is between states.',
                    'Retried automatically after waiting (Tencent Cloud: the module reads which instance is busy '
                    'and waits for it, within `wait_timeout`). If it persists, wait for the instance to be '
                    'running or stopped and for other changes to finish, then run again.'),
    'transient': ('Server trouble on the cloud side.',
                  'Reads are retried; a write may have happened, so the module re-reads before deciding. '
                  'Run the task again: it only writes what still differs.'),
    'ambiguous': ('The cloud may or may not have applied the change.',
                  'Never taken as done or as failed: the module re-reads the instances and reports what '
                  'they really have. Check `instances` in the result.'),
    'already': ('The target already is so: the group is already bound, or not bound.',
                'Nothing to do: on a call with one target it counts as done; on a batch the module re-reads the '
                'instances and plans again. Another client may be changing the same instances.'),
    'auth': ('Credentials, signature or permissions were refused.',
             'Check the key ID and secret (and session token and its expiry), the clock of the controller, '
             'and that the account or policy may describe instances and change their security groups.'),
    'quota': ('A limit on groups per instance (or instances per group) would be exceeded.',
              'Remove groups first (`state: absent` or `purge: true`), or raise the quota with the cloud; '
              '`max_security_groups` refuses such plans before any request.'),
    'not_found': ('An instance, interface or security group does not exist in that region/account.',
                  'Check the IDs and `region`; the message names the ID the cloud did not find.'),
    'conflict': ('The change is not allowed in the current state (last group, VPC mismatch, group type).',
                 'Not retried. Fix the wanted list (for example keep at least one group, use groups of the '
                 'instance\'s VPC) and run again.'),
    'invalid': ('The cloud refused a parameter.', 'Not retried. Read the message; report it if the module built it.'),
}


def main(tree):
    """Print one Markdown table per cloud."""
    sys.path.insert(0, tree)
    for name, title in CLOUDS:
        mod = importlib.import_module('ansible_collections.multicloud.secgroup.plugins.module_utils._%s' % name)
        print('### %s\n' % title)
        print('| code | class | meaning | what to do |')
        print('|---|---|---|---|')
        for code, klass in mod.ERROR_CLASSES.items():
            meaning, todo = ADVICE.get(klass, ('', ''))
            print('| `%s` | %s | %s | %s |' % (code, klass, meaning, todo))
        print('\nA code not in this table is classed `invalid` (on Tencent Cloud, after trying the part before '
              'the first dot): not retried, reported as the cloud sent it.\n')


if __name__ == '__main__':
    main(sys.argv[1])
