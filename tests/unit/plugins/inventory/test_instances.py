# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The instances inventory plugin in-process, over fake listings of the real provider classes (their options,
environment variables, checks and transport; only list_instances is canned): host variables, hostnames, compose,
groups and keyed_groups, strict, the cache (which never holds a credential), a failing region, bad input refused
before any request, and no secret in any message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import importlib
import os

import pytest
import yaml

from ansible.module_utils import _internal as module_internal

from ansible_collections.multicloud.secgroup.plugins.module_utils import _generic as generic
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport
from ansible_collections.multicloud.secgroup.plugins.module_utils._alicloud import AliCloud
from ansible_collections.multicloud.secgroup.plugins.module_utils._baiducloud import BaiduCloud
from ansible_collections.multicloud.secgroup.plugins.module_utils._tencentcloud import TencentCloud
from ansible_collections.multicloud.secgroup.plugins.module_utils._zenlayer import ZenlayerCloud


class Controller:
    """The controller code these tests use, imported by the fixture below."""


ctl = Controller()


@pytest.fixture(autouse=True, scope='module')
def controller_code():
    """Importing controller code marks the process as the controller for good, after which module warnings go to the
    display instead of a module's result: imported here, and the flag put back for the module tests run later."""
    was_controller = module_internal.is_controller
    ctl.C = importlib.import_module('ansible.constants')
    errors = importlib.import_module('ansible.errors')
    ctl.AnsibleError, ctl.AnsibleParserError = errors.AnsibleError, errors.AnsibleParserError
    ctl.InventoryData = importlib.import_module('ansible.inventory.data').InventoryData
    ctl.DataLoader = importlib.import_module('ansible.parsing.dataloader').DataLoader
    ctl.fragment_loader = importlib.import_module('ansible.plugins.loader').fragment_loader
    ctl.get_docstring = importlib.import_module('ansible.utils.plugin_docs').get_docstring
    ctl.Display = importlib.import_module('ansible.utils.display').Display
    ctl.instances = importlib.import_module('ansible_collections.multicloud.secgroup.plugins.inventory.instances')
    yield
    module_internal.is_controller = was_controller


SECRETS = {'tencentcloud': 'Tc-Inventory-Secret-Never-Shown', 'alicloud': 'Ali-Inventory-Secret-Never-Shown',
           'baiducloud': 'Bd-Inventory-Secret-Never-Shown', 'zenlayer': 'Zl-Inventory-Password-Never-Shown'}
CREDENTIALS = {
    'tencentcloud': {'secret_id': 'AKIDinventory001', 'secret_key': SECRETS['tencentcloud']},
    'alicloud': {'access_key': 'LTAI5tInventory01', 'secret_key': SECRETS['alicloud']},
    'baiducloud': {'access_key': 'bdinventory00001', 'secret_key': SECRETS['baiducloud']},
    'zenlayer': {'access_key_id': 'AKID-ZL-INVENTORY', 'access_key_password': SECRETS['zenlayer']},
}


def vm(iid, name, groups, region, tags=None, status='RUNNING', private=('10.0.0.1',), public=(), vpc='vpc-00000001', kind='instance',
       interfaces=None):
    out = {'instance_id': iid, 'instance_name': name, 'status': status, 'vpc_id': vpc, 'private_ips': list(private),
           'public_ips': list(public), 'tags': dict(tags or {}), 'security_group_ids': list(groups), 'region': region, 'kind': kind}
    if interfaces is not None:
        out['network_interfaces'] = interfaces
    return out


# Per cloud and region, what the fake listing answers (in the cloud's order).
FLEET = {
    ('tencentcloud', 'ap-guangzhou'): [
        vm('ins-00000001', 'web-1', ['sg-00000001', 'sg-00000002'], 'ap-guangzhou', {'role': 'web', 'Name': 'tc-web-1'},
           public=('203.0.113.1',)),
        vm('ins-00000002', 'db-1', ['sg-00000003'], 'ap-guangzhou', {'role': 'db'}, status='STOPPED',
           interfaces=[{'network_interface_id': 'eni-00000001', 'security_group_ids': ['sg-00000003']}]),
    ],
    ('tencentcloud', 'ap-shanghai'): [vm('ins-00000003', 'web-2', ['sg-00000001'], 'ap-shanghai', {'role': 'web'})],
    ('alicloud', 'cn-hangzhou'): [vm('i-00000001', 'web-1', ['sg-00000009'], 'cn-hangzhou', {'role': 'web'})],
    ('baiducloud', 'bj'): [vm('i-00000001', 'bd-web', ['g-00000001'], 'bj', {'role': 'web'}, status='Running')],
    ('zenlayer', None): [vm('800000000000000001', 'zl-web', ['700000000000000001'], None, {'role': 'web'}),
                         vm('zec-abc', 'zl-zec', ['700000000000000002'], None, kind='zec_instance')],
}


class Recorder:
    calls = []         # (cloud, region, filters sent)
    failing = {}       # (cloud, region) -> ProviderError
    params = []        # the provider's resolved options, per listing
    warning = {}       # (cloud, region) -> a warning the provider gives while listing


def fake(cls, filters_taken):
    class Fake(cls):
        list_filters = filters_taken

        def list_instances(self, filters):
            region = self.params.get('region')
            Recorder.calls.append((self.name, region, filters))
            Recorder.params.append(self.params)
            # The transport is real: a fake listing counts one call on it.
            self.transport.stats['calls'] += 1
            if (self.name, region) in Recorder.failing:
                raise Recorder.failing[(self.name, region)]
            if (self.name, region) in Recorder.warning:
                self.warnings = [Recorder.warning[(self.name, region)]]
            return copy.deepcopy(FLEET.get((self.name, region), []))
    Fake.__name__ = cls.__name__
    return Fake


@pytest.fixture(autouse=True)
def fake_providers(monkeypatch):
    fakes = {'tencentcloud': fake(TencentCloud, ('tags', 'status')), 'alicloud': fake(AliCloud, ('tags', 'name', 'vpc_id')),
             'baiducloud': fake(BaiduCloud, ()), 'zenlayer': fake(ZenlayerCloud, ('status',))}
    monkeypatch.setattr(generic, 'PROVIDERS', fakes)
    prefixes = ('TENCENTCLOUD_', 'ALICLOUD_', 'ALIBABA_CLOUD_', 'BAIDUCLOUD_', 'BCE_', 'ZENLAYERCLOUD_')
    for var in [v for v in list(os.environ) if v.startswith(prefixes)]:
        monkeypatch.delenv(var)
    Recorder.calls = []
    Recorder.failing = {}
    Recorder.params = []
    Recorder.warning = {}
    return fakes


def definitions():
    """The plugin's options as ansible-core reads them from its documentation (with the constructed and
    inventory_cache fragments), so that parse() reads the file and checks the options exactly as in a real run."""
    doc = ctl.get_docstring(ctl.instances.__file__, ctl.fragment_loader, collection_name='multicloud.secgroup')[0]
    ctl.C.config.initialize_plugin_configuration_definitions('inventory', NAME, doc['options'])


NAME = 'multicloud.secgroup.instances'


def parse(config, tmp_path, cache=True, name='fleet.instances.yml'):
    """Parse a config file written from `config` (tmp_path/cache is the file cache's directory)."""
    definitions()
    plugin = ctl.instances.InventoryModule()
    plugin._load_name = plugin.ansible_name = NAME
    plugin._redirected_names = [NAME]
    if config.get('cache'):
        config = dict({'cache_plugin': 'jsonfile', 'cache_connection': str(tmp_path / 'cache')}, **config)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(dict(config, plugin=NAME)))
    inventory = ctl.InventoryData()
    plugin.parse(inventory, ctl.DataLoader(), str(path), cache=cache)
    try:
        plugin.update_cache_if_changed()        # as the inventory manager does after each source
    except AttributeError:                      # no cache configured: as the inventory manager, nothing to write
        pass
    return inventory


def entry(name, **extra):
    return dict(CREDENTIALS[name], provider=name, **extra)


def every_cloud():
    return [entry('tencentcloud', regions=['ap-guangzhou', 'ap-shanghai']), entry('alicloud', region='cn-hangzhou'),
            entry('baiducloud', regions=['bj']), entry('zenlayer')]


def host_vars(inventory, name):
    return inventory.get_host(name).get_vars()


def groups(inventory):
    return dict((name, sorted(h.name for h in group.get_hosts())) for name, group in inventory.groups.items()
                if name not in ('all', 'ungrouped'))


def test_hosts_of_every_cloud_with_the_variables_the_roles_read(tmp_path):
    inventory = parse({'providers': every_cloud(), 'hostnames': ['tag:Name', 'instance_name']}, tmp_path)
    assert sorted(inventory.hosts) == ['bd-web', 'db-1', 'tc-web-1', 'web-1', 'web-2', 'zl-web', 'zl-zec']
    tc = host_vars(inventory, 'tc-web-1')
    assert dict((k, tc[k]) for k in ('cloud', 'cloud_region', 'instance_id', 'instance_kind', 'security_group_ids', 'instance_name',
                                     'status', 'vpc_id', 'private_ips', 'public_ips', 'tags')) == {
        'cloud': 'tencentcloud', 'cloud_region': 'ap-guangzhou', 'instance_id': 'ins-00000001', 'instance_kind': 'instance',
        'security_group_ids': ['sg-00000001', 'sg-00000002'], 'instance_name': 'web-1', 'status': 'RUNNING',
        'vpc_id': 'vpc-00000001', 'private_ips': ['10.0.0.1'], 'public_ips': ['203.0.113.1'], 'tags': {'role': 'web', 'Name': 'tc-web-1'}}
    assert 'network_interfaces' not in tc
    assert host_vars(inventory, 'db-1')['network_interfaces'] == [{'network_interface_id': 'eni-00000001',
                                                                  'security_group_ids': ['sg-00000003']}]
    # Tencent Cloud's web-1 is named by its Name tag, so Alibaba Cloud's web-1 has the name.
    assert host_vars(inventory, 'web-1')['cloud'] == 'alicloud'
    zl = host_vars(inventory, 'zl-web')
    assert zl['cloud'] == 'zenlayer' and 'cloud_region' not in zl and zl['instance_id'] == '800000000000000001'
    zec = host_vars(inventory, 'zl-zec')
    assert zec['instance_kind'] == 'zec_instance' and zec['zec_instance_id'] == 'zec-abc' and 'instance_id' not in zec
    # The wanted groups are never set: the roles read sg_bindings_wanted_group_ids.
    assert not any('sg_bindings_wanted_group_ids' in host_vars(inventory, h) for h in inventory.hosts)


def test_keyed_groups_by_security_group_compose_and_groups(tmp_path):
    inventory = parse({'providers': every_cloud(), 'hostnames': ['instance_name'],
                       'keyed_groups': [{'key': 'security_group_ids', 'prefix': 'sg'}, {'key': 'cloud', 'prefix': 'cloud'}],
                       'compose': {'ansible_host': '(public_ips + private_ips) | first'},
                       'groups': {'web': "tags.role | default('') == 'web'"}}, tmp_path)
    found = groups(inventory)
    by_sg = dict((name, hosts) for name, hosts in found.items() if name.startswith('sg_'))
    assert by_sg == {'sg_sg_00000001': ['web-1', 'web-2'], 'sg_sg_00000002': ['web-1'], 'sg_sg_00000003': ['db-1'],
                     'sg_sg_00000009': ['i-00000001'], 'sg_g_00000001': ['bd-web'], 'sg_700000000000000001': ['zl-web'],
                     'sg_700000000000000002': ['zl-zec']}
    assert found['cloud_zenlayer'] == ['zl-web', 'zl-zec']
    assert found['web'] == ['bd-web', 'i-00000001', 'web-1', 'web-2', 'zl-web']
    assert host_vars(inventory, 'web-1')['ansible_host'] == '203.0.113.1'
    assert host_vars(inventory, 'db-1')['ansible_host'] == '10.0.0.1'


def test_groups_may_use_composed_variables(tmp_path):
    inventory = parse({'providers': [entry('tencentcloud', region='ap-guangzhou')], 'compose': {'tier': "tags.role | default('x')"},
                       'keyed_groups': [{'key': 'tier', 'prefix': 'tier'}], 'groups': {'databases': "tier == 'db'"}}, tmp_path)
    found = groups(inventory)
    assert found['tier_web'] == ['ins-00000001'] and found['tier_db'] == ['ins-00000002'] and found['databases'] == ['ins-00000002']


@pytest.mark.parametrize('hostnames, expected', [
    (['instance_id'], ['ins-00000001', 'ins-00000002']),
    (['instance_name'], ['web-1', 'db-1']),
    (['public_ip', 'private_ip'], ['203.0.113.1', '10.0.0.1']),
    (['tag:Name'], ['tc-web-1', 'ins-00000002']),          # no Name tag: the instance ID
    (['private_ip'], ['10.0.0.1', 'ins-00000002']),         # taken by the first: the instance ID
])
def test_hostnames_first_that_exists_and_is_free(hostnames, expected, tmp_path):
    inventory = parse({'providers': [entry('tencentcloud', region='ap-guangzhou')], 'hostnames': hostnames}, tmp_path)
    assert list(inventory.hosts) == expected


def test_one_instance_id_on_two_clouds_gets_the_clouds_name(tmp_path):
    inventory = parse({'providers': [entry('alicloud', region='cn-hangzhou'), entry('baiducloud', region='bj')]}, tmp_path)
    assert list(inventory.hosts) == ['i-00000001', 'baiducloud_i-00000001']
    assert host_vars(inventory, 'baiducloud_i-00000001')['instance_id'] == 'i-00000001'


def test_filters_are_sent_where_the_cloud_takes_them_and_applied_everywhere(tmp_path):
    filters = {'tags': {'role': 'web'}, 'status': ['running']}
    inventory = parse({'providers': [dict(e, filters=filters) for e in every_cloud()], 'hostnames': ['instance_name']}, tmp_path)
    # Alibaba Cloud's web-1 finds its name taken by Tencent Cloud's: named by its ID.
    assert sorted(inventory.hosts) == ['bd-web', 'i-00000001', 'web-1', 'web-2', 'zl-web']
    # The sources are listed at once: compared in any order; the hosts keep the sources' order.
    expected = [('tencentcloud', 'ap-guangzhou', filters), ('tencentcloud', 'ap-shanghai', filters),
                ('alicloud', 'cn-hangzhou', {'tags': {'role': 'web'}}), ('baiducloud', 'bj', {}), ('zenlayer', None, {'status': ['running']})]
    assert sorted(Recorder.calls, key=repr) == sorted(expected, key=repr)


def test_credentials_and_regions_from_the_modules_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv('TENCENTCLOUD_SECRET_ID', 'AKIDinventory001')
    monkeypatch.setenv('TENCENTCLOUD_SECRET_KEY', SECRETS['tencentcloud'])
    monkeypatch.setenv('TENCENTCLOUD_REGION', 'ap-shanghai')
    monkeypatch.setenv('ALIBABA_CLOUD_ACCESS_KEY_ID', 'LTAI5tInventory01')
    monkeypatch.setenv('ALIBABA_CLOUD_ACCESS_KEY_SECRET', SECRETS['alicloud'])
    inventory = parse({'providers': [{'provider': 'tencentcloud'}, {'provider': 'alicloud', 'regions': ['cn-hangzhou']}]}, tmp_path)
    assert list(inventory.hosts) == ['ins-00000003', 'i-00000001']


def test_options_may_be_templates(monkeypatch, tmp_path):
    monkeypatch.setenv('INVENTORY_TEST_ENDPOINT', 'http://127.0.0.1:18765')
    monkeypatch.setenv('INVENTORY_TEST_SECRET', SECRETS['zenlayer'])
    zl = dict(entry('zenlayer'), endpoint="{{ lookup('env', 'INVENTORY_TEST_ENDPOINT') }}",
              access_key_password="{{ lookup('env', 'INVENTORY_TEST_SECRET') }}")
    tc = entry('tencentcloud', regions=["{{ 'ap-' ~ 'shanghai' }}"])
    inventory = parse({'providers': [zl, tc]}, tmp_path)
    zl_params = next(p for p in Recorder.params if p.get('access_key_id'))
    assert zl_params['endpoint'] == 'http://127.0.0.1:18765'
    assert zl_params['access_key_password'] == SECRETS['zenlayer']
    assert ('tencentcloud', 'ap-shanghai') in [call[:2] for call in Recorder.calls]
    assert '800000000000000001' in inventory.hosts


def test_a_failing_region_does_not_hide_the_others(capsys, tmp_path):
    Recorder.failing[('tencentcloud', 'ap-guangzhou')] = transport.ProviderError(
        'Tencent Cloud', 'DescribeInstances', 'AuthFailure.SignatureFailure', 'The provided credentials could not be validated.',
        request_id='req-1', http_status=200, error_class=transport.AUTH)
    inventory = parse({'providers': every_cloud(), 'cache': True}, tmp_path)
    assert 'ins-00000001' not in inventory.hosts and 'ins-00000003' in inventory.hosts and '800000000000000001' in inventory.hosts
    err = ' '.join(capsys.readouterr().err.split())
    assert ('providers[0] (provider tencentcloud region ap-guangzhou): Tencent Cloud DescribeInstances failed: '
            'AuthFailure.SignatureFailure: The provided credentials could not be validated. (request ID req-1); its hosts are left out'
            ) in err
    assert 'the inventory cache was not written' in err
    assert cached(tmp_path) == [], 'a partial listing is never cached'


def test_the_providers_warnings_are_shown_naming_the_source(capsys, tmp_path):
    Recorder.warning[('zenlayer', None)] = 'Zenlayer Cloud refused a zec DescribeInstances pageSize of 1000; listed 100 a page instead'
    inventory = parse({'providers': every_cloud()}, tmp_path)
    assert '800000000000000001' in inventory.hosts
    err = ' '.join(capsys.readouterr().err.split())
    assert 'providers[3] (provider zenlayer): Zenlayer Cloud refused a zec DescribeInstances pageSize of 1000' in err


def test_an_entry_without_credentials_is_reported_and_the_others_listed(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv('HOME', str(tmp_path))       # no profile file either
    inventory = parse({'providers': [{'provider': 'tencentcloud', 'region': 'ap-guangzhou'}, entry('zenlayer')]}, tmp_path)
    assert '800000000000000001' in inventory.hosts and 'ins-00000001' not in inventory.hosts
    err = ' '.join(capsys.readouterr().err.split())
    assert 'providers[0] (provider tencentcloud region ap-guangzhou): Tencent Cloud: ' in err
    assert [call[0] for call in Recorder.calls] == ['zenlayer']
    with pytest.raises(ctl.AnsibleError, match=r'^providers\[0\] \(provider tencentcloud region ap-guangzhou\): Tencent Cloud: '):
        parse({'providers': [{'provider': 'tencentcloud', 'region': 'ap-guangzhou'}], 'strict': True}, tmp_path)


def test_strict_makes_a_failing_region_an_error(tmp_path):
    Recorder.failing[('zenlayer', None)] = transport.ProviderError('Zenlayer Cloud', 'DescribeInstances', 'ConnectionError',
                                                                   'could not connect to 127.0.0.1:1, nothing was sent', error_class=transport.UNSENT)
    with pytest.raises(ctl.AnsibleError, match=r'^providers\[3\] \(provider zenlayer\): Zenlayer Cloud DescribeInstances failed: ConnectionError'):
        parse({'providers': every_cloud(), 'strict': True}, tmp_path)


def test_strict_makes_a_failing_compose_an_error(tmp_path):
    config = {'providers': [entry('tencentcloud', region='ap-guangzhou')], 'compose': {'x': 'no_such_variable.attribute'}}
    assert 'x' not in host_vars(parse(config, tmp_path), 'ins-00000001')
    with pytest.raises(ctl.AnsibleError):
        parse(dict(config, strict=True), tmp_path)


def cached(tmp_path):
    """The cache files' contents."""
    where = tmp_path / 'cache'
    return [p.read_text() for p in sorted(where.iterdir())] if where.exists() else []


def test_the_cache_is_used_and_never_holds_a_credential(tmp_path):
    config = {'providers': every_cloud(), 'cache': True, 'keyed_groups': [{'key': 'security_group_ids', 'prefix': 'sg'}]}
    first = parse(config, tmp_path)
    assert len(Recorder.calls) == 5 and len(cached(tmp_path)) == 1
    written = cached(tmp_path)[0]
    assert 'ins-00000001' in written
    for credentials in CREDENTIALS.values():
        for value in credentials.values():
            assert value not in written
    Recorder.calls = []
    second = parse(config, tmp_path)
    assert Recorder.calls == [] and list(second.hosts) == list(first.hosts)
    assert groups(second) == groups(first)
    assert host_vars(second, 'ins-00000002') == host_vars(first, 'ins-00000002')
    # --flush-cache (cache=False from the inventory manager): listed again, and the cache refreshed.
    parse(config, tmp_path, cache=False)
    assert len(Recorder.calls) == 5 and len(cached(tmp_path)) == 1
    # Another filter is another key: not answered from the cache.
    Recorder.calls = []
    parse(dict(config, providers=[dict(e, filters={'status': ['RUNNING']}) for e in every_cloud()]), tmp_path)
    assert len(Recorder.calls) == 5 and len(cached(tmp_path)) == 2


@pytest.mark.parametrize('providers, message', [
    ([{'provider': 'aws'}], "providers[0].provider: 'aws' is not one of alicloud, baiducloud, tencentcloud, zenlayer"),
    (['tencentcloud'], "providers[0]: 'tencentcloud' is not a mapping"),
    ([entry('zenlayer', regions=['sg'])], 'providers[0].regions: Zenlayer Cloud (provider zenlayer) has no regions; remove it'),
    ([entry('zenlayer', region='sg')], 'providers[0]: region: not an option of provider zenlayer (Zenlayer Cloud); remove it'),
    ([dict(entry('tencentcloud', region='ap-guangzhou'), access_key='x')],
     'providers[0]: access_key: provider tencentcloud (Tencent Cloud) calls it secret_id'),
    ([entry('tencentcloud', region='ap-guangzhou', regions=['ap-shanghai'])],
     'providers[0]: region and regions both given; give the regions in regions'),
    ([entry('tencentcloud', regions=[])], 'providers[0].regions: []; give a non-empty list of region names'),
    ([entry('tencentcloud', regions=['ap-guangzhou', 'ap-guangzhou'])], 'providers[0].regions: '),
    ([entry('tencentcloud')], 'providers[0]: region (or TENCENTCLOUD_REGION) is not set; provider tencentcloud requires it'),
    ([entry('tencentcloud', regions=['Guangzhou'])], "providers[0]: region: 'Guangzhou' is not a valid Tencent Cloud region"),
    ([entry('tencentcloud', region='ap-guangzhou', timeout='soon')], "providers[0]: argument 'timeout' is of type"),
    ([entry('tencentcloud', region='ap-guangzhou', retries=5000)], 'providers[0]: retries: 5000 must be between 0 and 1000'),
    ([entry('tencentcloud', region='ap-guangzhou', endpoint='http://127.0.0.1:1/path')],
     "providers[0]: endpoint: 'http://127.0.0.1:1/path' must be a URL of the form https://host[:port]"),
    ([entry('alicloud', region='cn-hangzhou', filters={'label': 'web'})], 'providers[0].filters: label: not a filter'),
    ([entry('tencentcloud', region='ap-guangzhou'), entry('zenlayer', filters={'security_group_id': 'sg-1'})],
     "providers[1].filters.security_group_id: 'sg-1' is not a valid Zenlayer Cloud security group ID"),
])
def test_bad_input_is_refused_before_any_request(providers, message, tmp_path):
    with pytest.raises(ctl.AnsibleParserError) as caught:
        parse({'providers': providers}, tmp_path)
    assert str(caught.value).startswith(message)
    assert Recorder.calls == []


def test_bad_hostnames_are_refused_before_any_request(tmp_path):
    with pytest.raises(ctl.AnsibleParserError, match=r"^hostnames\[1\]: 'dns_name' is not one of instance_id, instance_name"):
        parse({'providers': every_cloud(), 'hostnames': ['instance_name', 'dns_name']}, tmp_path)
    assert Recorder.calls == []


def test_a_secret_in_a_bad_value_is_never_shown(tmp_path):
    bad = dict(entry('tencentcloud', region='ap-guangzhou'), secret_key=SECRETS['tencentcloud'] + '\n')
    with pytest.raises(ctl.AnsibleParserError) as caught:
        parse({'providers': [bad]}, tmp_path)
    assert 'secret_key: the value (not shown: it is secret)' in str(caught.value)
    assert SECRETS['tencentcloud'] not in str(caught.value)
    listed = dict(entry('tencentcloud', region='ap-guangzhou'), secret_key=[SECRETS['tencentcloud']])
    with pytest.raises(ctl.AnsibleParserError) as caught:
        parse({'providers': [listed]}, tmp_path)
    assert SECRETS['tencentcloud'] not in str(caught.value)


def test_no_secret_at_the_highest_verbosity(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(ctl.Display(), 'verbosity', 4)
    Recorder.failing[('alicloud', 'cn-hangzhou')] = transport.ProviderError(
        'Alibaba Cloud', 'DescribeInstances', 'InvalidAccessKeyId.NotFound', 'echo of %s' % SECRETS['alicloud'], error_class=transport.AUTH)
    parse({'providers': every_cloud(), 'hostnames': ['instance_name']}, tmp_path)
    out = capsys.readouterr()
    text = out.out + out.err
    assert 'instance(s) in 1 call(s)' in text
    for secret in SECRETS.values():
        assert secret not in text


def test_the_docs_list_every_providers_options():
    import yaml
    doc = yaml.safe_load(ctl.instances.DOCUMENTATION)['options']['providers']['suboptions']
    for cls in generic.PROVIDERS.values():
        spec = ctl.instances.provider_spec(cls)
        names = set(spec) | set(alias for option in spec.values() for alias in option.get('aliases') or [])
        assert names <= set(doc), sorted(names - set(doc))
        for name, option in spec.items():
            assert doc[name]['type'] == option['type'], name
            if option.get('no_log'):
                assert 'Never logged' in ' '.join(doc[name]['description']), name
    assert set(doc['filters']['suboptions']) == set(ctl.instances.listing.FILTER_NAMES)


def test_verify_file_takes_only_instances_files(tmp_path):
    plugin = ctl.instances.InventoryModule()
    for name, expected in (('a.instances.yml', True), ('a.instances.yaml', True), ('instances.yml', False), ('a.aws_ec2.yml', False)):
        path = tmp_path / name
        path.write_text('plugin: multicloud.secgroup.instances\n')
        assert plugin.verify_file(str(path)) is expected


IMPORTS = '''
import importlib, json, sys
importlib.import_module('ansible_collections.multicloud.secgroup.plugins.inventory.instances')
print(json.dumps(sorted(name for name in sys.modules if name.rsplit('.', 1)[-1] in sys.argv[1:] and 'multicloud' in name)))
'''


def test_importing_the_plugin_imports_no_provider():
    """The plugin loads the providers its sources name when it parses them, not when Ansible imports it."""
    import json
    import subprocess
    import sys
    parent = os.path.abspath(os.path.join(os.path.dirname(generic.__file__), *[os.pardir] * 5))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([parent] + [p for p in sys.path if p]))
    proc = subprocess.run([sys.executable, '-c', IMPORTS, '_alicloud', '_baiducloud', '_tencentcloud', '_zenlayer'],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout.decode()) == []
