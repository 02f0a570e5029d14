# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The least-privilege policies of extensions/policies (issue 27), against the emulator enforcing them on the credential
(the seed's ``policy``): each policy lets every operation it claims to cover succeed, read-only refuses a write with the
cloud's own authorization error naming the write, and without any one of its actions some covered operation fails with
the authorization class and a message naming that action, so no action in a policy is superfluous."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.module_utils import _alicloud, _baiducloud, _tencentcloud, _zenlayer
from ansible_collections.multicloud.secgroup.plugins.module_utils import _quarantine_record as quarantine_record
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport
from ansible_collections.multicloud.secgroup.plugins.module_utils._alicloud import TAG_LIMITS as ALI_TAGS
from ansible_collections.multicloud.secgroup.plugins.module_utils._baiducloud import TAG_LIMITS as BD_TAGS
from ansible_collections.multicloud.secgroup.plugins.module_utils._tencentcloud import TAG_LIMITS as TC_TAGS
from ansible_collections.multicloud.secgroup.plugins.module_utils._zenlayer import TAG_LIMITS as ZL_TAGS
from ansible_collections.multicloud.secgroup.plugins.modules import (alicloud_sg_binding, baiducloud_sg_binding, sg_binding_info,
                                                                     sg_quarantine_record, tencentcloud_sg_binding, zenlayer_sg_binding)

POLICIES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'extensions', 'policies')
SECRET = 'Policy-Tests-Secret-Never-Shown'
ERROR_CLASSES = {'tencentcloud': lambda code, status: _tencentcloud.error_class(code), 'alicloud': _alicloud.error_class, 'baiducloud': _baiducloud.error_class,
                 'zenlayer': _zenlayer.error_class}
ISOLATED_AT = '2026-12-07T12:00:00+00:00'


def policy(cloud, name):
    with open(os.path.join(POLICIES, cloud, name + '.json')) as handle:
        return json.load(handle)


def record(iid, groups, quarantine, interfaces=()):
    return {'instance_id': iid, 'security_group_ids': list(groups), 'quarantine_group_ids': [quarantine],
            'network_interfaces': list(interfaces), 'isolated_at': ISOLATED_AT, 'reason': 'INC-27'}


# -- each cloud: the seed, the module arguments, the operations each policy covers ---------------------------------

TC_SG = ['sg-polc%04d' % n for n in (1, 2, 3)]
TC_INS = ['ins-polc%04d' % n for n in (1, 2)]
ALI_SG = ['sg-bp1polc00000000%02d' % n for n in (1, 2, 3)]
ALI_INS = ['i-bp1polc0000000000%02d' % n for n in (1, 2)]
BD_SG = ['g-polc0001', 'g-polc0002', 'g-polc0003']
BD_INS = ['i-polc0001', 'i-polc0002']
ZL_SG = ['79172125976630000%d' % n for n in (1, 2, 3)]
ZL_VM = ['802452345504900001', '802452345504900002', '802452345504900003']


def tencent_seed():
    return {'security_groups': [{'id': sg, 'region': 'ap-guangzhou'} for sg in TC_SG],
            'instances': [{'id': TC_INS[0], 'region': 'ap-guangzhou', 'security_groups': TC_SG[:2]},
                          {'id': TC_INS[1], 'region': 'ap-guangzhou', 'security_groups': [TC_SG[2]],
                           'tags': quarantine_record.encode(record(TC_INS[1], TC_SG[:1], TC_SG[2]), TC_TAGS)}],
            'network_interfaces': [{'id': 'eni-polc0001', 'region': 'ap-guangzhou', 'instance_id': TC_INS[0],
                                    'security_groups': TC_SG[:2]}]}


def alicloud_seed():
    return {'security_groups': [{'id': sg, 'region': 'cn-hangzhou', 'vpc_id': 'vpc-polc00001'} for sg in ALI_SG],
            'instances': [{'id': ALI_INS[0], 'region': 'cn-hangzhou', 'vpc_id': 'vpc-polc00001', 'security_groups': ALI_SG[:2]},
                          {'id': ALI_INS[1], 'region': 'cn-hangzhou', 'vpc_id': 'vpc-polc00001', 'security_groups': [ALI_SG[2]],
                           'tags': quarantine_record.encode(record(ALI_INS[1], ALI_SG[:1], ALI_SG[2]), ALI_TAGS)}],
            'network_interfaces': [{'id': 'eni-bp1polc000000000001', 'region': 'cn-hangzhou', 'vpc_id': 'vpc-polc00001',
                                    'instance_id': ALI_INS[0], 'type': 'Secondary', 'security_groups': ALI_SG[:2]}]}


def baidu_seed():
    return {'security_groups': [{'id': sg, 'vpc_id': 'vpc-one'} for sg in BD_SG],
            'instances': [{'id': BD_INS[0], 'vpc_id': 'vpc-one', 'security_groups': BD_SG[:2]},
                          {'id': BD_INS[1], 'vpc_id': 'vpc-one', 'security_groups': [BD_SG[2]],
                           'tags': quarantine_record.encode(record(BD_INS[1], BD_SG[:1], BD_SG[2]), BD_TAGS)}],
            'network_interfaces': [{'id': 'eni-polc0001', 'vpc_id': 'vpc-one', 'instance_id': BD_INS[0], 'primary': True},
                                   {'id': 'eni-polc0002', 'vpc_id': 'vpc-one', 'instance_id': BD_INS[0], 'security_groups': BD_SG[:2]},
                                   {'id': 'eni-polc0003', 'vpc_id': 'vpc-one', 'instance_id': BD_INS[1], 'primary': True}]}


def zenlayer_seed():
    return {'security_groups': [{'id': sg} for sg in ZL_SG],
            'instances': [{'id': ZL_VM[0], 'security_groups': ZL_SG[:2]}, {'id': ZL_VM[2], 'security_groups': [ZL_SG[0]]},
                          {'id': ZL_VM[1], 'security_groups': [ZL_SG[2]],
                           'tags': quarantine_record.encode(record(ZL_VM[1], ZL_SG[:1], ZL_SG[2]), ZL_TAGS)}],
            'zec_vpcs': [{'id': 'vpc-p'}],
            'zec_instances': [{'id': 'zec-polc1'}],
            'network_interfaces': [{'id': 'nic-p1', 'vpc': 'vpc-p', 'instance': 'zec-polc1', 'type': 'Primary', 'security_group': ZL_SG[0]},
                                   {'id': 'nic-s1', 'vpc': 'vpc-p', 'instance': 'zec-polc1', 'type': 'Secondary',
                                    'security_group': ZL_SG[1]}]}


def ops(binding, instances, groups, eni=None, zec=None, bind_target=None):
    """(read, write): name -> (module, arguments) of every operation of the modules, roles and inventory, each run on
    fresh state: instances[0] has groups[0] and groups[1], instances[1] a quarantine record; so has eni (a vNIC of zec)."""
    read = {
        'info_instances': (sg_binding_info, {'instance_ids': [instances[0]], 'interfaces': True}),
        'info_groups': (sg_binding_info, {'security_group_ids': [groups[0]]}),
        'listing': (sg_binding_info, {}),       # listing.list_instances: the inventory plugin's call too
    }
    write = {
        'bind': (binding, {'instance_ids': [bind_target or instances[0]], 'security_group_ids': [groups[2]]}),
        'unbind': (binding, {'instance_ids': [instances[0]], 'security_group_ids': [groups[1]], 'state': 'absent'}),
        'purge': (binding, {'instance_ids': [instances[0]], 'security_group_ids': [groups[2]], 'purge': True}),
        'record_write': (sg_quarantine_record, {'records': [record(instances[0], groups[:2], groups[2])]}),
        'record_remove': (sg_quarantine_record, {'state': 'absent', 'instance_ids': [instances[1]]}),
    }
    if eni:
        read['info_interfaces'] = (sg_binding_info, {'network_interface_ids': [eni]})
        write['eni_purge'] = (binding, {'network_interface_ids': [eni], 'security_group_ids': [groups[2]], 'purge': True})
    if eni and not zec:
        write['eni_bind'] = (binding, {'network_interface_ids': [eni], 'security_group_ids': [groups[2]]})
        write['eni_unbind'] = (binding, {'network_interface_ids': [eni], 'security_group_ids': [groups[0]], 'state': 'absent'})
    if zec:
        read['info_zec'] = (sg_binding_info, {'zec_instance_ids': [zec], 'interfaces': True})
        write['zec_switch'] = (binding, {'zec_instance_ids': [zec], 'security_group_ids': [groups[2]], 'purge': True})
    return read, write


TC_READ, TC_WRITE = ops(tencentcloud_sg_binding, TC_INS, TC_SG, eni='eni-polc0001')
# The tag service refusing an empty account segment: the account asked of STS GetCallerIdentity (no CAM action [inferred]).
TC_WRITE['record_write_owner_uin'] = TC_WRITE['record_write'] + ({'tencentcloud': {'tag_resource_uin': 'owner'}},)
ZL_READ, ZL_WRITE = ops(zenlayer_sg_binding, ZL_VM, ZL_SG, eni='nic-s1', zec='zec-polc1', bind_target=ZL_VM[2])
# An answer without the tags field (read with zrm DescribeResourceTags); a tag to make before it is set (zrm CreateTags).
ZL_READ['info_tags_read_apart'] = (sg_binding_info, {'instance_ids': [ZL_VM[0]]}, {'zenlayer': {'describe_tags': 'absent'}})
ZL_WRITE['record_write_new_tag'] = ZL_WRITE['record_write'] + ({'zenlayer': {'modify_requires_created_tag': True}},)


CLOUDS = {
    'tencentcloud': dict(auth={'secret_id': 'AKIDpolicy000001', 'secret_key': SECRET, 'region': 'ap-guangzhou'},
                         seed=tencent_seed, binding=tencentcloud_sg_binding, codes=('AuthFailure.UnauthorizedOperation',),
                         ops=(TC_READ, TC_WRITE)),
    'alicloud': dict(auth={'access_key': 'LTAIpolicy000001', 'secret_key': SECRET, 'region': 'cn-hangzhou'},
                     seed=alicloud_seed, binding=alicloud_sg_binding, codes=('Forbidden.RAM',),
                     ops=ops(alicloud_sg_binding, ALI_INS, ALI_SG, eni='eni-bp1polc000000000001')),
    'baiducloud': dict(auth={'access_key': 'bdpolicy00000001', 'secret_key': SECRET, 'region': 'bj'},
                       seed=baidu_seed, binding=baiducloud_sg_binding, codes=('AccessDenied',),
                       ops=ops(baiducloud_sg_binding, BD_INS, BD_SG, eni='eni-polc0002')),
    'zenlayer': dict(auth={'access_key_id': 'AKID-ZL-POLICY', 'access_key_password': SECRET},
                     seed=zenlayer_seed, binding=zenlayer_sg_binding, codes=('PERMISSION_DENIED',),
                     ops=(ZL_READ, ZL_WRITE)),
}


def attempt(running, name, op, policy_doc, capsys, **extra_seed):
    """(result, request log) of one operation (module, arguments[, emulator settings]) run on fresh state whose
    credential carries policy_doc (None: no policy)."""
    running.emulator.reset()
    section = dict(CLOUDS[name]['seed'](), **extra_seed)
    key = list(CLOUDS[name]['auth'].values())[0]
    section['credentials'] = [dict({'access_key': key, 'secret_key': SECRET}, **({} if policy_doc is None else {'policy': policy_doc}))]
    running.emulator.seed({name: section})
    if len(op) > 2:
        running.emulator.update_settings(op[2])
    running.emulator.clear_requests()
    module, args = op[:2]
    auth = dict(CLOUDS[name]['auth'], endpoint=running.endpoints[name], retry_delay=0.01, retry_max_delay=0.05)
    if module is not CLOUDS[name]['binding']:
        auth['provider'] = name
    with patch_module_args(dict(auth, _ansible_check_mode=False, **args)):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr().out
    assert SECRET not in out
    return json.loads(out), running.emulator.requests(name)


def covered(name, kind):
    read, write = CLOUDS[name]['ops']
    return sorted(read.items()) + (sorted(write.items()) if kind == 'full' else [])


# -- each cloud's policy syntax: the actions listed, and the policy without one ------------------------------------

def actions(name, doc):
    if name == 'tencentcloud':
        return [a for st in doc['statement'] for a in st['action']]
    if name == 'alicloud':
        return [a for st in doc['Statement'] for a in st['Action']]
    if name == 'baiducloud':
        return ['%s:%s' % (e['service'], p) for e in doc['accessControlList'] for p in e['permission']]
    return list(doc['actions'])


def without(name, doc, action):
    doc = copy.deepcopy(doc)
    if name in ('tencentcloud', 'alicloud'):
        key, listed = ('statement', 'action') if name == 'tencentcloud' else ('Statement', 'Action')
        for st in doc[key]:
            st[listed] = [a for a in st[listed] if a != action]
        doc[key] = [st for st in doc[key] if st[listed]]
    elif name == 'baiducloud':
        for entry in doc['accessControlList']:
            entry['permission'] = [p for p in entry['permission'] if '%s:%s' % (entry['service'], p) != action]
        doc['accessControlList'] = [e for e in doc['accessControlList'] if e['permission']]
    else:
        doc['actions'] = [a for a in doc['actions'] if a != action]
    return doc


def assert_denied(name, result, log, permission=None):
    """A failure with the cloud's own authorization code, classed AUTH (so sent once, never retried), naming the action
    the emulator refused (``permission`` when given)."""
    denied = [e for e in log if e['error_code'] in CLOUDS[name]['codes']]
    assert result.get('failed') and len(denied) == 1, (result.get('msg'), [(e['action'], e['error_code']) for e in log])
    refused = denied[0]['permission']
    assert permission is None or refused == permission
    code = denied[0]['error_code']
    assert code in result['msg'] and result.get('error', {'code': code})['code'] == code
    assert ERROR_CLASSES[name](code, denied[0]['status']) == transport.AUTH
    named = refused.rsplit(':', 1) if name == 'baiducloud' else [refused]
    assert all(part in result['msg'] for part in named) and denied[0]['action'] in result['msg'], result['msg']
    return refused


POLICY_CASES = [(name, kind) for name in sorted(CLOUDS) for kind in ('full', 'read-only')]


@pytest.mark.parametrize('name, kind', POLICY_CASES, ids=['%s-%s' % case for case in POLICY_CASES])
def test_a_policy_lets_every_operation_it_covers_succeed(running, capsys, name, kind):
    doc = policy(name, kind)
    for opname, op in covered(name, kind):
        result, log = attempt(running, name, op, doc, capsys)
        assert not result.get('failed'), (opname, result.get('msg'))
        assert not [e for e in log if e['error_code'] in CLOUDS[name]['codes']], opname


@pytest.mark.parametrize('name, kind', POLICY_CASES, ids=['%s-%s' % case for case in POLICY_CASES])
def test_a_policy_lists_exactly_the_actions_its_operations_call(running, capsys, name, kind):
    """Without a policy, the permissions the covered operations need (the emulator names each request's) are the
    policy's actions, no more and no fewer."""
    called = set()
    for dummy, op in covered(name, kind):
        result, log = attempt(running, name, op, None, capsys)
        assert not result.get('failed'), result.get('msg')
        called.update(e['permission'] for e in log if e['permission'])
    listed = actions(name, policy(name, kind))
    assert len(listed) == len(set(listed)) and set(listed) == called


MINIMALITY_CASES = [(name, kind, action) for name, kind in POLICY_CASES for action in actions(name, policy(name, kind))]


@pytest.mark.parametrize('name, kind, action', MINIMALITY_CASES, ids=['-'.join(case) for case in MINIMALITY_CASES])
def test_without_any_one_action_an_operation_fails_naming_it(running, capsys, name, kind, action):
    doc = without(name, policy(name, kind), action)
    for dummy, op in covered(name, kind):
        result, log = attempt(running, name, op, doc, capsys)
        if result.get('failed'):
            assert_denied(name, result, log, action)
            assert not result.get('changed')
            return
    pytest.fail('every operation %s covers succeeded without %s' % (kind, action))


@pytest.mark.parametrize('name', sorted(CLOUDS))
def test_read_only_refuses_every_write_naming_the_write_action(running, capsys, name):
    doc = policy(name, 'read-only')
    for opname, op in sorted(CLOUDS[name]['ops'][1].items()):
        result, log = attempt(running, name, op, doc, capsys)
        refused = assert_denied(name, result, log)
        assert refused not in actions(name, doc), opname
        assert not result['changed'], opname


ROLES = {'tencentcloud': ('cam_roles', {'name': 'secgroup-admin'}, 'qcs::cam::uin/100000000001:roleName/secgroup-admin'),
         'alicloud': ('ram_roles', {'name': 'Deploy', 'account_id': '1234567890123456'}, 'acs:ram::1234567890123456:role/Deploy')}


@pytest.mark.parametrize('name', sorted(ROLES))
def test_assume_role_needs_only_sts_assume_role_of_the_caller(running, capsys, name):
    """assume-role.json on the credential that assumes the role (the role itself carries full.json; the emulator does not
    limit the temporary credentials it issues)."""
    key, role, arn = ROLES[name]
    read, write = CLOUDS[name]['ops']
    op = (write['bind'][0], dict(write['bind'][1], assume_role={'role_arn': arn, 'duration': 3600},
                                 sts_endpoint=running.endpoints[name]))
    doc = policy(name, 'assume-role')
    result, log = attempt(running, name, op, doc, capsys, **{key: [role]})
    assert result['changed'] and [e['action'] for e in log][0] == 'AssumeRole' and log[0]['permission'] == 'sts:AssumeRole'
    assert actions(name, doc) == ['sts:AssumeRole']
    # Every ECS / CVM and VPC action, but not sts:AssumeRole: refused before any other call.
    others = ({'version': '2.0', 'statement': [{'effect': 'allow', 'action': ['cvm:*', 'vpc:*'], 'resource': '*'}]}
              if name == 'tencentcloud' else {'Version': '1', 'Statement': [{'Effect': 'Allow', 'Action': 'ecs:*', 'Resource': '*'}]})
    result, log = attempt(running, name, op, others, capsys, **{key: [role]})
    assert_denied(name, result, log, 'sts:AssumeRole')
    assert len(log) == 1


DENY = {'tencentcloud': {'version': '2.0', 'statement': [{'effect': 'allow', 'action': ['cvm:*', 'vpc:*'], 'resource': '*'},
                                                         {'effect': 'deny', 'action': 'cvm:Associate*', 'resource': '*'}]},
        'alicloud': {'Version': '1', 'Statement': [{'Effect': 'Allow', 'Action': 'ecs:*', 'Resource': '*'},
                                                   {'Effect': 'Deny', 'Action': 'ecs:JoinSecurityGroup', 'Resource': '*'}]},
        'baiducloud': {'accessControlList': [
            {'service': 'bce:bcc', 'region': '*', 'effect': 'Allow', 'permission': ['FULL_CONTROL'], 'resource': ['*']},
            {'service': 'bce:bcc', 'region': '*', 'effect': 'Deny', 'permission': ['OPERATE'], 'resource': ['*']}]},
        'zenlayer': {'actions': ['vm:Describe*']}}
DENIED = {'tencentcloud': 'cvm:AssociateSecurityGroups', 'alicloud': 'ecs:JoinSecurityGroup', 'baiducloud': 'bce:bcc:OPERATE',
          'zenlayer': 'vm:AssociateSecurityGroupInstance'}


@pytest.mark.parametrize('name', sorted(DENY))
def test_an_explicit_deny_wins_over_a_wildcard_allow(running, capsys, name):
    """Wildcards allow the reads; the bind is denied explicitly (Zenlayer's list has no deny: not listed)."""
    result, log = attempt(running, name, CLOUDS[name]['ops'][1]['bind'], DENY[name], capsys)
    assert_denied(name, result, log, DENIED[name])
    assert ('(explicitly denied)' in result['msg']) is (name == 'alicloud')


def test_the_policies_ship_and_the_docs_point_at_them():
    """galaxy.yml's build_ignore keeps every policy file (ansible-galaxy matches each pattern against the relative path
    and the file name), and the modules' shared notes, the inventory and the guides name them."""
    import fnmatch  # pylint: disable=import-outside-toplevel
    import yaml  # pylint: disable=import-outside-toplevel
    root = os.path.join(POLICIES, '..', '..')
    with open(os.path.join(root, 'galaxy.yml')) as handle:
        ignored = yaml.safe_load(handle)['build_ignore']
    files = sorted(os.path.relpath(os.path.join(d, f), root) for d, dummy, names in os.walk(POLICIES) for f in names)
    assert len(files) == 11
    for path in files:
        assert not any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(os.path.basename(path), p) or path.startswith(p + '/')
                       for p in ignored), path
    for doc in ('plugins/doc_fragments/common.py', 'plugins/inventory/instances.py', 'docs/awx.md', 'docs/guides/credentials.md'):
        with open(os.path.join(root, doc)) as handle:
            text = handle.read()
        assert 'extensions/policies' in text and 'read-only.json' in text, doc
