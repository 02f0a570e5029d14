# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 15, bad input: the six modules' argument handling under generated argument sets.

Each example is a valid argument set for one module with one to three mutations (an option
given a wrong type, an odd string or list, a number out of range, removed, or a foreign option
added), run in-process with the transport replaced by a recorder: a request is built, signed and
prepared by requests as for sending, recorded, and answered with a canned "not found" error, so
nothing touches the network and every run ends at its first call.

Invariants: no traceback (no ``exception`` key, no "unexpected error"); a run that fails before
any request names an option in its message, and with a single mutation names the mutated option;
a run that reaches the transport had valid parameters by rules restated here (IDs matching the
provider's pattern, once each; finite numbers in range; endpoints of the form scheme://host[:port]);
the test secret never appears in the output.

Examples per module: the hypothesis profile named by FUZZ_PROFILE. `ci` (the default, what `make test`
runs three times: units, newest units, plain pytest) tries 200 argument sets per module, about 12 s for
the six modules on the 2-core machine; `full` (`make fuzz`, FUZZ_PROFILE=full) tries 1000 per module,
about 60 s. FUZZ_EXAMPLES=n overrides either. fuzz_corpus.json holds the argument sets that
found defects and other interesting cases; test_corpus replays each.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import io
import ipaddress
import json
import math
import os
import re
from unittest import mock

import pytest
import requests
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible.module_utils.testing import patch_module_args

from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _generic as generic
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport
from ansible_collections.multicloud.secgroup.plugins.modules import (alicloud_sg_binding, baiducloud_sg_binding, sg_binding,
                                                                     sg_binding_info, sg_quarantine_record, tencentcloud_sg_binding,
                                                                     zenlayer_sg_binding)

# The gate's examples are the same on every run (derandomized): a new find must not turn CI red at random;
# `make fuzz` explores at random, and what it finds goes into fuzz_corpus.json.
settings.register_profile('ci', max_examples=200, derandomize=True)
settings.register_profile('full', max_examples=1000)
PROFILE = settings.get_profile(os.environ.get('FUZZ_PROFILE') or 'ci')
EXAMPLES = int(os.environ.get('FUZZ_EXAMPLES') or PROFILE.max_examples)
SECRET = 'Fuzz-Secret-Key-Never-Shown'
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fuzz_corpus.json')
NO_LOG = ('secret_key', 'security_token', 'access_key_password')
ENV_PREFIXES = ('TENCENTCLOUD_', 'ALICLOUD_', 'ALIBABA_CLOUD_', 'BAIDUCLOUD_', 'BCE_', 'ZENLAYERCLOUD_')

# Per provider: valid credentials, one valid target ID and group ID, and an ID maker for long lists.
VALID = {
    'tencentcloud': dict(creds=dict(secret_id='AKIDfuzz0001', secret_key=SECRET, region='ap-guangzhou'),
                         target='ins-0000abcd', group='sg-0000abcd', ids=lambda n: ['ins-%08d' % i for i in range(n)], eni='eni-0000abcd'),
    'alicloud': dict(creds=dict(access_key='LTAI5tFuzz0001', secret_key=SECRET, region='cn-hangzhou'),
                     target='i-0000abcd', group='sg-0000abcd', ids=lambda n: ['i-%08d' % i for i in range(n)]),
    'baiducloud': dict(creds=dict(access_key='bdfuzz0000000001', secret_key=SECRET, region='bj'),
                       target='i-0000ABcd', group='g-0000ABcd', ids=lambda n: ['i-%08d' % i for i in range(n)], eni='eni-0000ABcd'),
    'zenlayer': dict(creds=dict(access_key_id='AKID-ZL-FUZZ', access_key_password=SECRET),
                     target='800000000000000001', group='700000000000000001', ids=lambda n: ['8%017d' % i for i in range(n)]),
}

MODULES = {
    'tencentcloud_sg_binding': (tencentcloud_sg_binding.main, 'tencentcloud'),
    'alicloud_sg_binding': (alicloud_sg_binding.main, 'alicloud'),
    'baiducloud_sg_binding': (baiducloud_sg_binding.main, 'baiducloud'),
    'zenlayer_sg_binding': (zenlayer_sg_binding.main, 'zenlayer'),
    'sg_binding': (sg_binding.main, None),
    'sg_binding_info': (sg_binding_info.main, None),
    'sg_quarantine_record': (sg_quarantine_record.main, None),
}

ODD_STRINGS = ['', ' ', '\n', '\t', '\x00', '\x7f', 'é', '\u2019', '\u202e', '\ud7ff', '\U0001f600', '/', '?', '#', '&', '%2F', '%00', '..',
               '../..', '*', ',', '"', "'", '\\', '{{ x }}', 'None', 'null', 'true', '0', '-1', 'nan', 'inf', '1e400', 'a' * 5000]
ODD_ENDPOINTS = ['http://127.0.0.1:1', 'https://host.example', 'https://host.example/', 'https://host.example/path', 'https://h/?x=1',
                 'https://h#frag', 'https://user:pass@h', 'https://%s@h' % SECRET, 'ftp://h', 'http://', 'https://', 'h', '//h',
                 ' http://h', 'http://h ', 'http://h\n', 'http://h\r\nX-Injected: 1', 'http://[::1]:8080', 'http://[::1', 'http://h:99999',
                 'http://h:0', 'http://h:abc', 'http://h:', 'http://ho st', 'http://h%2F', 'http://h\\@evil', 'http://bücher.example',
                 'http://h..', 'http://-h', 'HTTP://H', 'http://h:8080/', 'http://a_b.example', 'javascript:alert(1)']
ODD_NUMBERS = [0, -1, -0.0, 0.0, 1e-300, 1, 2, 3, 7, 1000, 1001, 256, 257, 86400, 86401, 2 ** 31, 2 ** 63, 2 ** 64, 10 ** 30, 1e300,
               float('nan'), float('inf'), float('-inf'), True, False, '30', '0', '-5', 'nan', 'inf', '-inf', '1e400', '0x10', '1_000', ' 5 ',
               '', 'abc', [], {}, [1], None]


def id_mutants(valid):
    """Valid-looking IDs broken in the ways a typo or an injection would break them."""
    cut = len(valid) // 2
    out = [valid + s for s in ('/', '?', '%2F', '/..', ' ', '\n', '#', '&x=1', '\x00', 'é', '\u200b')]
    out += [s + valid for s in ('../', ' ', '/', '%2F')]
    out += [valid[:cut] + s + valid[cut:] for s in ('/', '?', '%2F', '..', ' ', '\n', '%')]
    out += [valid.upper(), valid[:-1], valid + '0' * 40, valid[:3]]
    return out


def scalars():
    return st.one_of(st.none(), st.booleans(), st.integers(min_value=-2 ** 70, max_value=2 ** 70),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12), st.sampled_from(ODD_STRINGS))


def junk():
    return st.one_of(scalars(), st.lists(scalars(), max_size=4), st.dictionaries(st.text(max_size=4), scalars(), max_size=3))


def id_lists(provider, valid):
    elem = st.one_of(st.just(valid), st.sampled_from(id_mutants(valid)), st.sampled_from(ODD_STRINGS), scalars(),
                     st.lists(st.just(valid), max_size=2), st.dictionaries(st.just('id'), st.just(valid), max_size=1))
    return st.one_of(
        st.lists(elem, max_size=6),
        st.just([]),
        st.just([valid, valid]),                                                  # a duplicate
        st.integers(min_value=101, max_value=1200).map(VALID[provider]['ids']),  # huge, all valid
        st.integers(min_value=2, max_value=200).map(lambda n: VALID[provider]['ids'](n) + [valid.upper()]),
        st.just(valid + ',' + valid), st.just(valid), junk())


def option_values(name, spec_option, provider):
    """Odd values for one option, by its name and type."""
    valid = VALID[provider]
    if name in ('security_group_ids',):
        return id_lists(provider, valid['group'])
    if name == 'network_interface_ids' and 'eni' in valid:
        return id_lists(provider, valid['eni'])
    if name.endswith('_ids'):
        return id_lists(provider, valid['target'])
    if name.endswith('endpoint'):
        return st.one_of(st.sampled_from(ODD_ENDPOINTS), st.sampled_from(ODD_STRINGS), junk(),
                         st.text(max_size=20).map(lambda s: 'https://' + s))
    if spec_option.get('type') in ('int', 'float'):
        return st.one_of(st.sampled_from(ODD_NUMBERS), junk())
    if name in ('on_missing', 'on_refused', 'quarantined'):
        return st.one_of(st.sampled_from(spec_option.get('choices') or ['fail', 'skip']),
                         st.sampled_from(['Skip', 'ignore', 'skip ', 'yes', 'Change']),
                         st.sampled_from(ODD_STRINGS), junk())
    if name == 'region':
        return st.one_of(st.sampled_from(['ap-guangzhou', 'cn-hangzhou', 'bj', 'AP-GUANGZHOU', 'ap-guangzhou.evil.com', 'ap-guangzhou/x',
                                          'bj?', 'bj#', '../bj', 'x', 'a-', '-', 'bj\n']), st.sampled_from(ODD_STRINGS), junk())
    return st.one_of(st.sampled_from(ODD_STRINGS), junk(), st.text(max_size=30))


FOREIGN = ['foo', 'provider', 'access_key', 'secret_id', 'access_key_id', 'region', 'wait', 'wait_timeout', 'network_interface_ids',
           'zec_instance_ids',
           'instance_id', 'InstanceIds', 'vpc_endpoint', 'security_group_id', 'purge', 'name', 'on_missing', 'on_refused', 'quarantined',
           'interfaces']


def base_args(module, provider):
    valid = VALID[provider]
    args = dict(valid['creds'], instance_ids=[valid['target']], security_group_ids=[valid['group']])
    if module in ('sg_binding', 'sg_binding_info', 'sg_quarantine_record'):
        args['provider'] = provider
    if module == 'sg_quarantine_record':
        del args['instance_ids'], args['security_group_ids']
        args['records'] = [{'instance_id': valid['target'], 'security_group_ids': [valid['group']], 'quarantine_group_ids': [valid['group']],
                            'isolated_at': '2026-12-07T12:00:00+00:00', 'reason': 'INC-1'}]
    return args


def module_spec(module, provider):
    cls = generic.PROVIDERS[provider]
    if module == 'sg_binding':
        return generic.union_spec(generic.binding_spec)
    if module == 'sg_binding_info':
        return generic.union_spec(generic.info_spec)
    if module == 'sg_quarantine_record':
        return generic.union_spec(generic.record_spec)
    return engine.argument_spec(cls)


@st.composite
def argument_sets(draw, module):
    """(args, mutated option names): a valid set with one to three mutations."""
    provider = MODULES[module][1] or draw(st.sampled_from(sorted(VALID)))
    args = base_args(module, provider)
    spec = module_spec(module, provider)
    mutated = []
    for dummy in range(draw(st.integers(min_value=1, max_value=3))):
        how = draw(st.sampled_from(['value', 'value', 'value', 'drop', 'foreign']))
        if how == 'drop':
            name = draw(st.sampled_from(sorted(args)))
            del args[name]
        elif how == 'foreign':
            name = draw(st.sampled_from(FOREIGN))
            args[name] = draw(junk() if name in spec else option_values(name, {}, provider))
        else:
            name = draw(st.sampled_from(sorted(spec)))
            args[name] = draw(option_values(name, spec[name], provider))
        mutated.append(name)
    return args, sorted(set(mutated))


class Recorder:
    """Stands in for Transport._send: builds, signs and prepares each request, records it, answers 'not found'."""

    def __init__(self):
        self.requests = []
        self.params = []

    def send(self, conn, call):
        req = call.build()
        # What requests and http.client would do with it before a byte leaves: a bad URL or header fails here.
        try:
            prepared = requests.Request(req['method'], req['url'], headers=req.get('headers'), data=req.get('data')).prepare()
        except requests.exceptions.RequestException as exc:
            raise transport.ProviderError(conn.provider, call.action, 'RequestError', conn.redact(exc), error_class=transport.INVALID)
        for key, value in prepared.headers.items():
            ('%s: %s' % (key, value)).encode('latin-1')
        prepared.url.encode('ascii')
        self.requests.append((call.action, prepared.method, prepared.url))
        raise transport.ProviderError(conn.provider, call.action, 'ResourceNotFound', 'canned answer of the fuzz test', 'req-fuzz', 404,
                                      transport.NOT_FOUND)

    def transport_for(self, provider_class, params, secrets, *rest):
        self.params.append((provider_class, dict(params)))
        return REAL_TRANSPORT_FOR(provider_class, params, secrets, *rest)


REAL_TRANSPORT_FOR = engine.transport_for


def run(module, args):
    """The module's result (parsed JSON) and the recorder."""
    recorder = Recorder()
    out = io.StringIO()

    def send(conn, call):
        return recorder.send(conn, call)

    with mock.patch.object(transport.Transport, '_send', send), \
            mock.patch.object(engine, 'transport_for', recorder.transport_for), \
            patch_module_args(dict(args, _ansible_check_mode=False, _ansible_diff=True)), contextlib.redirect_stdout(out):
        with pytest.raises(SystemExit):
            MODULES[module][0]()
    text = out.getvalue()
    if SECRET in args.values():
        assert SECRET not in text
    return json.loads(text), recorder, text


ENDPOINT = re.compile(r'https?://((?P<name>[\w-]+(\.[\w-]+)*\.?)|\[(?P<ipv6>[0-9A-Fa-f:.]+)\])(:(?P<port>[0-9]+))?/?', re.ASCII)


def valid_endpoint(value):
    match = ENDPOINT.fullmatch(value)
    if not match or (match.group('port') is not None and not 0 < int(match.group('port')) <= 65535):
        return False
    if match.group('name'):
        return all(label and not label.startswith('-') and not label.endswith('-') for label in match.group('name').rstrip('.').split('.'))
    try:
        ipaddress.ip_address(match.group('ipv6'))
    except ValueError:
        return False
    return ':' in match.group('ipv6')


def assert_valid(cls, params):
    """The rules a parameter set must meet to reach the transport, restated independently of engine.validate."""
    kinds = [kind for kind in cls.target_kinds if params.get(kind.option) is not None]
    assert len(kinds) <= 1
    for option, pattern in [(kind.option, kind.pattern) for kind in kinds] + [('security_group_ids', cls.security_group_id_pattern)]:
        values = params.get(option) or []
        assert len(values) == len(set(values)), (option, values)
        for value in values:
            assert isinstance(value, str) and re.fullmatch(pattern, value), (option, value)
    for option in ('timeout', 'retry_delay', 'retry_max_delay', 'rate_limit', 'retries', 'max_concurrency', 'wait_timeout',
                   'max_security_groups'):
        value = params.get(option)
        if value is not None:
            assert not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value), (option, value)
            assert value >= 0 if option == 'retries' else value > 0, (option, value)
    for option, value in params.items():
        if isinstance(value, str):
            assert re.fullmatch(r'[\x20-\x7e]*', value) and value == value.strip(), (option, value)
        if option.endswith('endpoint') and value:
            assert valid_endpoint(value), (option, value)
    if getattr(cls, 'region_pattern', None):
        assert re.fullmatch(cls.region_pattern, params['region']), params['region']


def option_names(module):
    names = set()
    for provider in VALID:
        names.update(module_spec(module, provider))
    return names


def check(module, args, mutated):
    result, recorder, text = run(module, args)
    assert 'exception' not in result, result.get('exception')
    assert 'unexpected error' not in result.get('msg', ''), result['msg']
    assert 'Traceback' not in text
    for cls, params in recorder.params:
        assert_valid(cls, params)
    if not recorder.params:
        # Refused before a transport was even made, so before any request.
        assert recorder.requests == []
        # A short secret (secret_key: 's') is masked wherever it occurs, option names included: nothing left to check.
        masked = '********' in result.get('msg', '') and any(args.get(name) not in (None, SECRET) for name in NO_LOG)
        # ansible-core 2.21 itself refuses a NUL character while logging the invocation, before the module's code runs.
        core_refusal = result.get('msg', '').startswith('Failed to log to syslog')
        if result.get('failed') and not masked and not core_refusal:
            msg = result['msg']
            named = [name for name in option_names(module) | set(args) if re.search(r'\b%s\b' % re.escape(name), msg)]
            assert named, msg
            # A provider that cannot tag refuses sg_quarantine_record whatever the other options are (naming the provider).
            no_tags = 'cannot keep a quarantine record in the tags' in msg
            if len(mutated) == 1 and not no_tags:
                assert mutated[0] in msg, (mutated, msg)
    return result, recorder


@pytest.fixture(scope='module', autouse=True)
def clean_environment():
    """No credential or region from the machine's environment: every option comes from the argument set."""
    with mock.patch.dict(os.environ, dict((k, v) for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)), clear=True):
        yield


def fuzz_test(module):
    @settings(max_examples=EXAMPLES, derandomize=PROFILE.derandomize, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(case=argument_sets(module))
    def test(case):
        check(module, *case)
    test.__name__ = 'test_fuzz_' + module
    test.__doc__ = 'Generated argument sets for %s: the invariants of the module docstring.' % module
    return test


test_fuzz_tencentcloud_sg_binding = fuzz_test('tencentcloud_sg_binding')
test_fuzz_alicloud_sg_binding = fuzz_test('alicloud_sg_binding')
test_fuzz_baiducloud_sg_binding = fuzz_test('baiducloud_sg_binding')
test_fuzz_zenlayer_sg_binding = fuzz_test('zenlayer_sg_binding')
test_fuzz_sg_binding = fuzz_test('sg_binding')
test_fuzz_sg_binding_info = fuzz_test('sg_binding_info')
test_fuzz_sg_quarantine_record = fuzz_test('sg_quarantine_record')


def load_corpus():
    with open(CORPUS) as handle:
        corpus = json.load(handle)
    return [pytest.param(case, id=case['id']) for case in corpus]


def decode(value, provider):
    """JSON has no nan or inf: the corpus writes them as {"float": "nan"}; {"ids": n} is n valid IDs."""
    if isinstance(value, dict) and set(value) == {'float'}:
        return float(value['float'])
    if isinstance(value, dict) and set(value) == {'ids'}:
        return VALID[provider]['ids'](value['ids'])
    if isinstance(value, dict):
        return dict((k, decode(v, provider)) for k, v in value.items())
    if isinstance(value, list):
        return [decode(v, provider) for v in value]
    return value


@pytest.mark.parametrize('case', load_corpus())
def test_corpus(case):
    """Each seed case keeps the invariants and has the outcome it records: refused (the message has every word of `refused`),
    sent (a request reached the transport), or ok (success with no request)."""
    module = case['module']
    provider = case.get('provider') or MODULES[module][1]
    args = dict(base_args(module, provider), **decode(case['args'], provider))
    for name in case.get('drop', []):
        del args[name]
    result, recorder = check(module, args, case.get('mutated', []))
    if case['expect'] == 'refused':
        assert result.get('failed') and not recorder.requests, result
        for word in case['refused']:
            assert word in result['msg'], (word, result['msg'])
    elif case['expect'] == 'sent':
        assert recorder.requests, result
    else:
        assert not result.get('failed') and not recorder.requests, result
