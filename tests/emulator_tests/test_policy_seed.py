# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A credential's ``policy`` in the seed (issue 27): each cloud's own syntax checked at seed time (a 400 naming the
entry and the rule), a JSON file's path read, the document kept in the state (fed back, it is kept), and the policy
evaluated as the clouds do: wildcards, an explicit deny winning, anything not allowed denied."""

import json
import os
import urllib.error
import urllib.request

import pytest

from emulator.core import Grants

POLICIES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'extensions', 'policies')
KEYS = {'tencentcloud': 'AKIDpolicyseed01', 'alicloud': 'LTAIpolicyseed01', 'baiducloud': 'bdpolicyseed0001', 'zenlayer': 'AKID-ZL-POLSEED'}


def post(admin, path, body):
    req = urllib.request.Request(admin.url + path, data=json.dumps(body).encode('utf-8'), method='POST',
                                 headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:  # nosec - loopback only
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def with_policy(cloud, policy):
    return {cloud: {'credentials': [{'access_key': KEYS[cloud], 'secret_key': 'Policy-Seed-Secret', 'policy': policy}]}}


@pytest.mark.parametrize('cloud', sorted(KEYS))
@pytest.mark.parametrize('kind', ['full', 'read-only'])
def test_each_policy_file_seeds_by_path_and_shows_in_the_state(admin, cloud, kind):
    path = os.path.join(POLICIES, cloud, kind + '.json')
    status, state = post(admin, '/seed', with_policy(cloud, path))
    assert status == 200, state
    with open(path) as handle:
        document = json.load(handle)
    cred = state[cloud]['credentials'][0]
    assert cred['policy'] == document and cred['secret_key'] == '********'
    # GET /state fed back to POST /seed keeps the policy (and the masked secret).
    status, again = post(admin, '/seed', admin.state())
    assert status == 200 and again[cloud]['credentials'][0]['policy'] == document


BAD = [
    ('tencentcloud', {'version': '1.0', 'statement': []}, 'a CAM policy is {"version": "2.0"'),
    ('tencentcloud', {'version': '2.0', 'statement': [{'effect': 'allow', 'action': 'cvm:*', 'resource': 'qcs::cvm:::instance/*'}]},
     'statement[0]: resource must be "*" or ["*"]'),
    ('tencentcloud', {'version': '2.0', 'statement': [{'effect': 'Allow', 'action': 'cvm:*', 'resource': '*'}]},
     "statement[0]: effect must be \"allow\" or \"deny\", not 'Allow'"),
    ('tencentcloud', {'version': '2.0', 'statement': [{'effect': 'allow', 'action': [], 'resource': '*'}]}, 'statement[0]: action must be'),
    ('tencentcloud', {'version': '2.0', 'statement': [{'effect': 'allow', 'action': 'cvm:*', 'resource': '*', 'condition': {}}]},
     'the emulator evaluates no condition'),
    ('alicloud', {'Version': '1', 'Statement': [{'Effect': 'allow', 'Action': 'ecs:*', 'Resource': '*'}]},
     "Statement[0]: Effect must be \"Allow\" or \"Deny\", not 'allow'"),
    ('alicloud', {'version': '2.0', 'statement': []}, 'a RAM policy is {"Version": "1"'),
    ('baiducloud', {'accessControlList': [{'service': 'bce:bcc', 'region': 'bj', 'effect': 'Allow', 'permission': ['READ'],
                                           'resource': ['*']}]}, 'region must be "*" and resource ["*"]'),
    ('baiducloud', {'accessControlList': [{'service': 'bce:bcc', 'region': '*', 'effect': 'Allow', 'permission': ['WRITE'],
                                           'resource': ['*']}]}, 'permission must be a non-empty list of READ, OPERATE, FULL_CONTROL'),
    ('zenlayer', {'Version': '1'}, 'a Zenlayer policy (the emulator\'s own format) is {"actions"'),
    ('zenlayer', '/nonexistent/policy.json', 'policy file /nonexistent/policy.json cannot be read as JSON'),
    ('zenlayer', 42, 'policy must be a policy document (a mapping) or the path of a JSON file'),
]


@pytest.mark.parametrize('cloud, policy, message', BAD, ids=['%s-%d' % (case[0], n) for n, case in enumerate(BAD)])
def test_a_bad_policy_is_a_400_naming_the_entry_and_the_rule(admin, cloud, policy, message):
    status, answer = post(admin, '/seed', with_policy(cloud, policy))
    assert status == 400 and answer['error'].startswith('%s credentials[0]' % cloud) and message in answer['error'], answer


def test_grants_wildcards_explicit_deny_and_implicit_deny():
    grants = Grants(['cvm:Describe*', 'vpc:?escribeSecurityGroups', 'tag:*'], deny=['tag:UnTag*'])
    assert grants.allows('cvm:DescribeInstances') and grants.allows('vpc:DescribeSecurityGroups')
    assert grants.allows('tag:TagResources') and not grants.allows('tag:UnTagResources') and grants.denies('tag:UnTagResources')
    assert not grants.allows('cvm:AssociateSecurityGroups') and not grants.denies('cvm:AssociateSecurityGroups')
    assert not grants.allows('cvm:describeinstances') and not Grants([]).allows('cvm:DescribeInstances')
