# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sg_binding and sg_binding_info against the emulator, in-process: the generic module gives exactly the
provider module's results; only the chosen provider's options and environment variables are used."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.module_utils import _generic as generic
from ansible_collections.multicloud.secgroup.plugins.module_utils import _listing as listing
from ansible_collections.multicloud.secgroup.plugins.modules import sg_binding, sg_binding_info


SECRETS = {'tencentcloud': 'Tc-Secret-Key-Never-Shown', 'baiducloud': 'Bd-Secret-Key-Never-Shown',
           'alicloud': 'Ali-Secret-Key-Never-Shown', 'zenlayer': 'Zl-Password-Never-Shown'}
ZL_GROUPS = ['7000000000000000%02d' % n for n in range(1, 5)]
ZL_INSTANCES = ['8000000000000%05d' % n for n in range(1, 151)]

# Per provider: a seed, the provider module, credentials, and scenarios (args, without credentials).
CLOUDS = {
    'tencentcloud': {
        'seed': {'credentials': [{'access_key': 'AKIDgeneric00001', 'secret_key': SECRETS['tencentcloud']}],
                 'security_groups': [{'id': 'sg-%08d' % n, 'region': 'ap-guangzhou', 'name': 'group-%d' % n} for n in range(1, 5)],
                 'instances': [{'id': 'ins-%08d' % n, 'region': 'ap-guangzhou', 'status': 'RUNNING', 'security_groups': ['sg-00000001']}
                               for n in range(1, 151)]},
        'credentials': {'secret_id': 'AKIDgeneric00001', 'secret_key': SECRETS['tencentcloud'], 'region': 'ap-guangzhou',
                        'retry_delay': 0.05, 'retry_max_delay': 0.2},
        'env': {'TENCENTCLOUD_SECRET_ID': 'AKIDgeneric00001', 'TENCENTCLOUD_SECRET_KEY': SECRETS['tencentcloud'],
                'TENCENTCLOUD_REGION': 'ap-guangzhou'},
        'module': 'tencentcloud_sg_binding',
        'instances': ['ins-00000001', 'ins-00000002'],
        'groups': ['sg-00000002', 'sg-00000003'],
        'foreign': {'access_key': 'AKexample'},
        'ids': lambda n: ['ins-%08d' % i for i in range(1, n + 1)],
    },
    'baiducloud': {
        'seed': {'credentials': [{'access_key': 'bdgeneric0000001', 'secret_key': SECRETS['baiducloud']}],
                 'security_groups': [{'id': 'g-%08d' % n, 'name': 'group-%d' % n} for n in range(1, 5)],
                 'instances': [{'id': 'i-%08d' % n, 'status': 'Running', 'security_groups': ['g-00000001']} for n in range(1, 151)]},
        'credentials': {'access_key': 'bdgeneric0000001', 'secret_key': SECRETS['baiducloud'], 'region': 'bj',
                        'retry_delay': 0.05, 'retry_max_delay': 0.2},
        'env': {'BAIDUCLOUD_ACCESS_KEY': 'bdgeneric0000001', 'BAIDUCLOUD_SECRET_KEY': SECRETS['baiducloud'], 'BAIDUCLOUD_REGION': 'bj'},
        'module': 'baiducloud_sg_binding',
        'instances': ['i-00000001', 'i-00000002'],
        'groups': ['g-00000002', 'g-00000003'],
        'foreign': {'wait': True},
        'ids': lambda n: ['i-%08d' % i for i in range(1, n + 1)],
    },
    'alicloud': {
        'seed': {'credentials': [{'access_key': 'LTAI5tGeneric0001', 'secret_key': SECRETS['alicloud']}],
                 'security_groups': [{'id': 'sg-%08d' % n, 'vpc_id': 'vpc-generic0001', 'name': 'group-%d' % n} for n in range(1, 5)],
                 'instances': [{'id': 'i-%08d' % n, 'vpc_id': 'vpc-generic0001', 'security_groups': ['sg-00000001']}
                               for n in range(1, 151)]},
        'credentials': {'access_key': 'LTAI5tGeneric0001', 'secret_key': SECRETS['alicloud'], 'region': 'cn-hangzhou',
                        'retry_delay': 0.05, 'retry_max_delay': 0.2},
        'env': {'ALICLOUD_ACCESS_KEY': 'LTAI5tGeneric0001', 'ALICLOUD_SECRET_KEY': SECRETS['alicloud'], 'ALICLOUD_REGION': 'cn-hangzhou'},
        'module': 'alicloud_sg_binding',
        'instances': ['i-00000001', 'i-00000002'],
        'groups': ['sg-00000002', 'sg-00000003'],
        'foreign': {'secret_id': 'AKIDexample'},
        'ids': lambda n: ['i-%08d' % i for i in range(1, n + 1)],
    },
    'zenlayer': {
        'seed': {'credentials': [{'access_key': 'AKID-ZL-GENERIC', 'secret_key': SECRETS['zenlayer']}],
                 'security_groups': [{'id': sg, 'name': 'group-%d' % (n + 1)} for n, sg in enumerate(ZL_GROUPS)],
                 'instances': [{'id': vm, 'status': 'RUNNING', 'security_groups': [ZL_GROUPS[0]]} for vm in ZL_INSTANCES]},
        'credentials': {'access_key_id': 'AKID-ZL-GENERIC', 'access_key_password': SECRETS['zenlayer'],
                        'retry_delay': 0.05, 'retry_max_delay': 0.2},
        'env': {'ZENLAYERCLOUD_ACCESS_KEY_ID': 'AKID-ZL-GENERIC', 'ZENLAYERCLOUD_ACCESS_KEY_PASSWORD': SECRETS['zenlayer']},
        'module': 'zenlayer_sg_binding',
        'instances': ZL_INSTANCES[:2],
        'groups': ZL_GROUPS[1:3],
        'foreign': {'region': 'ap-guangzhou'},
        'ids': lambda n: ZL_INSTANCES[:n],
    },
}
for _name, _spec in CLOUDS.items():
    _spec['first_group'] = _spec['seed']['security_groups'][0]['id']
LANDED = sorted(CLOUDS)


@pytest.fixture
def cloud(running):
    running.emulator.reset()
    running.emulator.seed(dict((name, spec['seed']) for name, spec in CLOUDS.items()))
    return running


def run(main, args, capsys, check_mode=False, diff=True):
    with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)):
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    for secret in SECRETS.values():
        assert secret not in out
    return json.loads(out)


def provider_main(name):
    module = __import__('ansible_collections.multicloud.secgroup.plugins.modules.' + CLOUDS[name]['module'], fromlist=['main'])
    return module.main


def comparable(result):
    """The result without what differs between any two runs: request IDs, and the order of the operations on
    different targets (each target's own operations keep their order; a real run sends each target's next one as
    soon as its previous one is answered)."""
    out = dict((k, v) for k, v in result.items() if k not in ('request_ids', 'invocation'))
    if 'operations' in out:
        per_target = {}
        for op in out['operations']:
            key = json.dumps(sorted((k, v) for k, v in op.items() if k.endswith('_ids') and k != 'security_group_ids'))
            per_target.setdefault(key, []).append(op)
        out['operations'] = sorted(per_target.items())
    return out


def _admin(running, path):
    import urllib.request
    with urllib.request.urlopen(running.endpoints['admin'] + path, timeout=10) as resp:  # nosec - loopback only
        return resp.read().decode('utf-8')


@pytest.mark.parametrize('name', LANDED)
def test_sg_binding_gives_exactly_the_provider_modules_results(cloud, capsys, name):
    spec = CLOUDS[name]
    base = dict(spec['credentials'], endpoint=cloud.endpoints[name], instance_ids=spec['instances'])
    scenarios = [dict(security_group_ids=spec['groups']),
                 dict(security_group_ids=spec['groups'][:1], state='absent'),
                 dict(security_group_ids=list(reversed(spec['groups'])), purge=True),
                 dict(security_group_ids=['%s99999' % spec['groups'][0][:-5]])]         # unknown group: a failure
    for scenario in scenarios:
        results = {}
        for label, main, extra in (('provider', provider_main(name), {}), ('generic', sg_binding.main, {'provider': name})):
            cloud.emulator.reset()
            cloud.emulator.seed({name: spec['seed']})
            args = dict(base, **dict(scenario, **extra))
            results[label] = [comparable(run(main, args, capsys, check_mode=True)), comparable(run(main, args, capsys)),
                              comparable(run(main, args, capsys)), comparable(run(main, args, capsys, check_mode=True))]
        assert results['generic'] == results['provider'], scenario
        check, real = results['generic'][0], results['generic'][1]
        assert check.get('diff', {}).get('after') == real.get('diff', {}).get('after')


@pytest.mark.parametrize('name', LANDED)
def test_only_the_chosen_providers_environment_is_read(cloud, capsys, monkeypatch, name):
    for other in CLOUDS.values():
        for var, value in other['env'].items():
            monkeypatch.setenv(var, value)
    spec = CLOUDS[name]
    result = run(sg_binding.main, dict(provider=name, endpoint=cloud.endpoints[name], instance_ids=spec['instances'][:1],
                                       security_group_ids=spec['groups'][:1], retry_delay=0.05), capsys)
    assert result['changed'] and not result.get('failed')
    for other, secret in SECRETS.items():
        assert other == name or secret not in json.dumps(result)


def test_a_blank_secret_variable_is_no_secret(cloud, capsys, monkeypatch):
    """AWX sets the variable of a blank optional credential field to '' (here the session token)."""
    spec = CLOUDS['tencentcloud']
    for var, value in dict(spec['env'], TENCENTCLOUD_SECURITY_TOKEN='').items():
        monkeypatch.setenv(var, value)
    result = run(sg_binding.main, dict(provider='tencentcloud', endpoint=cloud.endpoints['tencentcloud'],
                                       instance_ids=spec['instances'][:1], security_group_ids=spec['groups'][:1], retry_delay=0.05), capsys)
    assert result['changed'] and not result.get('failed')
    assert result['instances'][0]['instance_id'] == spec['instances'][0]
    assert result['instances'][0]['after'] == [spec['first_group'], spec['groups'][0]]


@pytest.mark.parametrize('name', LANDED)
def test_an_option_of_another_provider_is_refused_naming_it(cloud, capsys, name):
    spec = CLOUDS[name]
    option = sorted(spec['foreign'])[0]
    args = dict(spec['credentials'], provider=name, endpoint=cloud.endpoints[name], instance_ids=spec['instances'],
                security_group_ids=spec['groups'], **spec['foreign'])
    result = run(sg_binding.main, args, capsys)
    expected = {'tencentcloud': 'access_key: provider tencentcloud (Tencent Cloud) calls it secret_id',
                'alicloud': 'secret_id: provider alicloud (Alibaba Cloud) calls it access_key',
                'baiducloud': 'wait: not an option of provider baiducloud (Baidu AI Cloud); remove it',
                'zenlayer': 'region: not an option of provider zenlayer (Zenlayer Cloud); remove it'}
    assert result['failed'] and result['msg'] == expected[name], option
    assert json.loads(_admin(cloud, '/requests?provider=' + name))['requests'] == []


@pytest.mark.parametrize('name, given, expected', [
    ('baiducloud', {'secret_id': 'x'}, 'secret_id: provider baiducloud (Baidu AI Cloud) calls it access_key'),
    ('zenlayer', {'secret_key': 'x'}, 'secret_key: provider zenlayer (Zenlayer Cloud) calls it access_key_password'),
    ('tencentcloud', {'access_key_password': 'x', 'foo_bar': None, 'write_api': 'batch'},
     'access_key_password: provider tencentcloud (Tencent Cloud) calls it secret_key; '
     'write_api: not an option of provider tencentcloud (Tencent Cloud); remove it'),
    ('zenlayer', {'secret_access_key': 'x'}, 'secret_access_key: provider zenlayer (Zenlayer Cloud) calls it access_key_password'),
    ('tencentcloud', {'access_key_id': 'x'}, 'access_key_id: provider tencentcloud (Tencent Cloud) calls it secret_id'),
])
def test_another_providers_name_of_a_credential_is_explained(cloud, capsys, name, given, expected):
    """Issue 21: an option a provider spells differently says its name there."""
    spec = CLOUDS[name]
    args = dict(spec['credentials'], provider=name, endpoint=cloud.endpoints[name], instance_ids=spec['instances'],
                security_group_ids=spec['groups'])
    args.update((k, v) for k, v in given.items() if v is not None)
    result = run(sg_binding.main, args, capsys)
    assert result['failed'] and result['msg'] == expected
    assert json.loads(_admin(cloud, '/requests?provider=' + name))['requests'] == []


@pytest.mark.parametrize('name, renamed', [('alicloud', {'access_key': 'access_key_id', 'secret_key': 'access_key_secret'}),
                                           ('baiducloud', {'access_key': 'access_key_id', 'secret_key': 'secret_access_key'})])
def test_the_sdk_names_of_the_credentials_are_accepted(cloud, capsys, name, renamed):
    """Issue 21: Alibaba Cloud's and Baidu AI Cloud's SDK names, in the provider module and in sg_binding, the secret still masked."""
    spec = CLOUDS[name]
    args = dict(spec['credentials'], endpoint=cloud.endpoints[name], instance_ids=spec['instances'][:1], security_group_ids=spec['groups'][:1])
    for option, alias in renamed.items():
        args[alias] = args.pop(option)
    for main, extra in ((provider_main(name), {}), (sg_binding.main, {'provider': name})):
        cloud.emulator.reset()
        cloud.emulator.seed({name: spec['seed']})
        result = run(main, dict(args, **extra), capsys)
        assert result['changed'] and not result.get('failed'), result
    own = run(provider_main(name), dict(args, access_key=args['access_key_id']), capsys)
    assert own['failed'] and own['msg'] == ('access_key, access_key_id: both given, and they are one option (access_key_id is another name '
                                            'of access_key); give one')
    both = run(sg_binding.main, dict(args, provider=name, access_key=args['access_key_id']), capsys)
    assert both['failed'] and both['msg'] == ('access_key, access_key_id: both given, and provider %s takes them as one option '
                                              '(access_key_id is another name of access_key); give one' % name)


def test_a_missing_credential_names_the_option_and_the_provider(cloud, capsys, monkeypatch):
    monkeypatch.delenv('BAIDUCLOUD_ACCESS_KEY', raising=False)
    monkeypatch.delenv('BCE_ACCESS_KEY_ID', raising=False)
    result = run(sg_binding.main, dict(provider='baiducloud', secret_key='x', region='bj', instance_ids=[],
                                       security_group_ids=[]), capsys)
    # Half a key pair is refused, not passed over for another source (it would authenticate as someone else).
    assert result['failed'] and result['msg'] == ('Baidu AI Cloud: secret_key (or BAIDUCLOUD_SECRET_KEY or BCE_SECRET_ACCESS_KEY) is set '
                                                  'but access_key (or BAIDUCLOUD_ACCESS_KEY or BCE_ACCESS_KEY_ID) is not: give both, '
                                                  'or neither to use another source')


@pytest.mark.parametrize('name', LANDED)
def test_a_missing_credential_of_a_provider_module_names_its_environment_variables(cloud, capsys, monkeypatch, name):
    """Issue 21: not AnsibleModule's "missing required arguments: secret_id", which names no environment variable."""
    for other in CLOUDS.values():
        for var in other['env']:
            monkeypatch.delenv(var, raising=False)
    for var in ('ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_REGION_ID', 'BCE_ACCESS_KEY_ID',
                'BCE_SECRET_ACCESS_KEY', 'BCE_REGION'):
        monkeypatch.delenv(var, raising=False)
    spec = CLOUDS[name]
    credentials = dict(spec['credentials'])
    # The region is required; the key pair is one credential source among several (issue 25), refused when half given.
    expected = {'tencentcloud': 'region (or TENCENTCLOUD_REGION) is not set',
                'alicloud': 'region (or ALICLOUD_REGION or ALIBABA_CLOUD_REGION_ID) is not set',
                'baiducloud': 'region (or BAIDUCLOUD_REGION or BCE_REGION) is not set',
                'zenlayer': None}[name]
    half = {'tencentcloud': 'secret_key (or TENCENTCLOUD_SECRET_KEY) is set but secret_id (or TENCENTCLOUD_SECRET_ID) is not',
            'alicloud': 'secret_key (or ALICLOUD_SECRET_KEY or ALIBABA_CLOUD_ACCESS_KEY_SECRET) is set but access_key (or '
                        'ALICLOUD_ACCESS_KEY or ALIBABA_CLOUD_ACCESS_KEY_ID) is not',
            'baiducloud': 'secret_key (or BAIDUCLOUD_SECRET_KEY or BCE_SECRET_ACCESS_KEY) is set but access_key (or '
                          'BAIDUCLOUD_ACCESS_KEY or BCE_ACCESS_KEY_ID) is not',
            'zenlayer': 'access_key_password (or ZENLAYERCLOUD_ACCESS_KEY_PASSWORD) is set but access_key_id (or '
                        'ZENLAYERCLOUD_ACCESS_KEY_ID) is not'}[name]
    region = credentials.get('region')
    for option in ('secret_id', 'access_key', 'access_key_id', 'region'):
        credentials.pop(option, None)
    args = dict(credentials, endpoint=cloud.endpoints[name], instance_ids=spec['instances'], security_group_ids=spec['groups'])
    if expected:
        result = run(provider_main(name), args, capsys)
        assert result['failed'] and result['msg'] == expected
        generic_result = run(sg_binding.main, dict(args, provider=name), capsys)
        assert generic_result['failed'] and generic_result['msg'] == '%s; provider %s requires it' % (expected, name)
        args['region'] = region
    for main, extra in ((provider_main(name), {}), (sg_binding.main, {'provider': name})):
        result = run(main, dict(args, **extra), capsys)
        assert result['failed'] and half in result['msg'] and 'give both, or neither to use another source' in result['msg']
    assert json.loads(_admin(cloud, '/requests?provider=' + name))['requests'] == []


def test_the_union_keeps_every_providers_option_type_and_no_log():
    for spec_of in (generic.binding_spec, generic.info_spec):
        union = generic.union_spec(spec_of)
        for cls in generic.PROVIDERS.values():
            for name, option in spec_of(cls).items():
                assert union[name]['type'] == option['type']
                assert bool(union[name].get('no_log')) >= bool(option.get('no_log'))


@pytest.mark.parametrize('name', LANDED)
@pytest.mark.parametrize('size, calls', [(1, {'tencentcloud': {'DescribeInstances': 1, 'DescribeSecurityGroups': 1},
                                              'alicloud': {'DescribeInstances': 1, 'DescribeSecurityGroups': 1},
                                              'baiducloud': {'ListInstancesByIds': 1, 'ListSecurityGroups': 1},
                                              'zenlayer': {'DescribeInstances': 1, 'DescribeSecurityGroups': 1}}),
                                         (150, {'tencentcloud': {'DescribeInstances': 2, 'DescribeSecurityGroups': 1},
                                                'alicloud': {'DescribeInstances': 2, 'DescribeSecurityGroups': 1},
                                                'baiducloud': {'ListInstancesByIds': 2, 'ListSecurityGroups': 1},
                                                'zenlayer': {'DescribeInstances': 2, 'DescribeSecurityGroups': 1}})])
def test_info_reads_in_the_fewest_calls(cloud, capsys, name, size, calls):
    spec = CLOUDS[name]
    _admin_delete(cloud)
    ids = spec['ids'](size)
    result = run(sg_binding_info.main, dict(spec['credentials'], provider=name, endpoint=cloud.endpoints[name], instance_ids=ids),
                 capsys, check_mode=True)
    assert not result['changed'] and [item['instance_id'] for item in result['instances']] == ids
    assert [item['security_group_ids'] for item in result['instances']] == [[spec['first_group']]] * size
    assert result['security_groups'] == [{'security_group_id': spec['first_group'], 'name': 'group-1'}]
    log = json.loads(_admin(cloud, '/requests?provider=' + name))['requests']
    counted = {}
    for entry in log:
        counted[entry['action']] = counted.get(entry['action'], 0) + 1
    assert counted == calls[name]


@pytest.mark.parametrize('name', LANDED)
def test_info_answers_the_reverse_question_and_lists_unknown_ids(cloud, capsys, name):
    spec = CLOUDS[name]
    first = spec['first_group']
    unknown_group = spec['groups'][0][:-5] + '77777'
    unknown_instance = spec['instances'][0][:-5] + '99999'
    result = run(sg_binding_info.main, dict(spec['credentials'], provider=name, endpoint=cloud.endpoints[name],
                                            instance_ids=[spec['instances'][0], unknown_instance],
                                            security_group_ids=[first, spec['groups'][0], unknown_group]), capsys)
    assert not result['changed']
    assert result['missing'] == [unknown_instance, unknown_group]
    bindings = dict((b['security_group_id'], b['instance_ids']) for b in result['bindings'])
    assert bindings == {first: spec['ids'](150), spec['groups'][0]: []}
    assert [g['security_group_id'] for g in result['security_groups']] == [first, spec['groups'][0]]


def _admin_delete(running):
    import urllib.request
    req = urllib.request.Request(running.endpoints['admin'] + '/requests', method='DELETE')
    with urllib.request.urlopen(req, timeout=10) as resp:  # nosec - loopback only
        resp.read()


@pytest.mark.parametrize('module, spec_of', [(sg_binding, generic.binding_spec), (sg_binding_info, generic.info_spec)])
def test_the_docs_name_every_providers_options_and_environment_variables(module, spec_of):
    import yaml
    from ansible_collections.multicloud.secgroup.plugins.doc_fragments.common import ModuleDocFragment
    documented = dict(yaml.safe_load(ModuleDocFragment.PROVIDER_CREDENTIALS)['options'])
    documented.update(yaml.safe_load(module.DOCUMENTATION)['options'])
    union = generic.union_spec(spec_of)
    for name in union:
        owners = [provider for provider, cls in generic.PROVIDERS.items() if name in spec_of(cls)]
        text = ' '.join(documented[name]['description']) if name in documented else None
        if name in ('provider', 'instance_ids') or len(owners) == len(generic.PROVIDERS):
            continue        # every provider's: from the common fragment
        assert text is not None, name
        for provider in owners:
            assert 'V(%s)' % provider in text, (name, provider)
            fallback = spec_of(generic.PROVIDERS[provider])[name].get('fallback')
            for var in fallback[1] if fallback else []:
                assert 'E(%s)' % var in text, (name, var)
    assert documented['provider']['choices'] == sorted(generic.PROVIDERS)


@pytest.mark.parametrize('name', LANDED)
def test_info_rides_out_a_throttling_burst(cloud, capsys, name):
    spec = CLOUDS[name]
    read_action = 'ListInstancesByIds' if name == 'baiducloud' else 'DescribeInstances'
    cloud.emulator.add_fault({'provider': name, 'action': read_action, 'kind': 'throttle', 'count': 3})
    _admin_delete(cloud)
    result = run(sg_binding_info.main, dict(spec['credentials'], provider=name, endpoint=cloud.endpoints[name],
                                            instance_ids=spec['instances'][:1]), capsys)
    assert not result.get('failed') and result['instances'][0]['security_group_ids'] == [spec['first_group']]
    log = json.loads(_admin(cloud, '/requests?provider=' + name))['requests']
    assert len([entry for entry in log if entry['action'] == read_action]) == 4      # 3 throttled, then the answer


@pytest.mark.parametrize('name, stopping', [('tencentcloud', 'SHUTDOWN'), ('zenlayer', 'STOPPING')])
def test_a_stale_fleet_is_changed_but_for_the_terminated_and_the_stopping(cloud, capsys, name, stopping):
    """Issue 21: one terminated instance and one in a state that allows no change (Tencent awaits STOPPING, so SHUTDOWN
    there), skipped; the others changed, in check mode too."""
    spec = CLOUDS[name]
    seed = json.loads(json.dumps(spec['seed'], default=str))
    seed['instances'][1]['status'] = stopping
    cloud.emulator.reset()
    cloud.emulator.seed({name: seed})
    gone = spec['instances'][0][:-5] + '99999'
    fleet = spec['ids'](3)
    args = dict(spec['credentials'], provider=name, endpoint=cloud.endpoints[name], instance_ids=[fleet[0], gone, fleet[1], fleet[2]],
                security_group_ids=spec['groups'][:1], on_missing='skip', on_refused='skip')
    for check_mode in (True, False):
        result = run(sg_binding.main, args, capsys, check_mode=check_mode)
        assert result['changed'] and not result.get('failed')
        assert result['missing_instance_ids'] == [gone] and result['refused_instance_ids'] == [fleet[1]]
        assert [t['instance_id'] for t in result['instances']] == [fleet[0], fleet[2]]
        assert sorted(result['diff']['after']) == sorted([fleet[0], fleet[2]])
        assert [tid for op in result['operations'] for tid in op['instance_ids']] == [fleet[0], fleet[2]]
        warnings = json.dumps(result['warnings'])
        assert gone in warnings and fleet[1] in warnings and stopping in warnings
    default = run(sg_binding.main, dict(args, on_missing='fail', on_refused='fail'), capsys)
    assert default['failed'] and default['missing_instance_ids'] == [gone] and 'on_missing=skip' in default['msg']


@pytest.mark.parametrize('name', LANDED)
def test_info_with_nothing_to_ask_lists_the_region(cloud, capsys, name):
    """Issue 24 (it used to fail, issue 21): neither IDs nor filters lists the region's instances; an empty list of IDs
    is still an empty answer, never every instance."""
    spec = CLOUDS[name]
    _admin_delete(cloud)
    result = run(sg_binding_info.main, dict(spec['credentials'], provider=name, endpoint=cloud.endpoints[name]), capsys)
    if listing.can_list(generic.PROVIDERS[name]):
        assert not result.get('failed'), result
        assert [i['instance_id'] for i in result['instances']] == [i['id'] for i in spec['seed']['instances']]
        assert all(i['security_group_ids'] == [spec['first_group']] for i in result['instances'])
    else:
        assert result['failed'] and result['msg'] == ('%s (provider %s) cannot list its instances yet; give instance_ids (or '
                                                      'security_group_ids)' % (generic.PROVIDERS[name].display_name, name))
        assert json.loads(_admin(cloud, '/requests?provider=' + name))['requests'] == []
    _admin_delete(cloud)
    empty = run(sg_binding_info.main, dict(spec['credentials'], provider=name, endpoint=cloud.endpoints[name], instance_ids=[]), capsys)
    assert not empty.get('failed') and empty['instances'] == []
    assert json.loads(_admin(cloud, '/requests?provider=' + name))['requests'] == []


@pytest.mark.parametrize('name, given, expected', [
    ('tencentcloud', {'access_key_password': 'Leaky-Secret-Value-123'},
     'access_key_password: not an option of this module; remove it (its credential options are secret_id, secret_key, security_token)'),
    ('zenlayer', {'secret_key': 'Leaky-Secret-Value-123', 'region': 'ap-guangzhou'},
     'region, secret_key: not an option of this module; remove them (its credential options are access_key_id, access_key_password)'),
])
def test_another_clouds_option_to_a_provider_module_is_refused_without_its_value(cloud, capsys, name, given, expected):
    """Issue 21: AnsibleModule's "Unsupported parameters" returned the value in invocation, another cloud's secret included."""
    spec = CLOUDS[name]
    args = dict(spec['credentials'], endpoint=cloud.endpoints[name], instance_ids=spec['instances'], security_group_ids=spec['groups'], **given)
    with patch_module_args(dict(args, _ansible_check_mode=False, _ansible_diff=False)):
        with pytest.raises(SystemExit):
            provider_main(name)()
    out = capsys.readouterr().out
    assert 'Leaky-Secret-Value-123' not in out
    result = json.loads(out)
    assert result['failed'] and result['msg'] == expected
    assert json.loads(_admin(cloud, '/requests?provider=' + name))['requests'] == []
