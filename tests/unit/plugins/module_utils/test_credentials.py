# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The provider-neutral credential sources (issue 25): resolution order and its message, settings per cloud, profile
file checks, refresh before expiry (once, thread-safe) and the transport's single renewal on an expired answer."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import threading

import pytest

from ansible.module_utils.basic import env_fallback

from ansible_collections.multicloud.secgroup.plugins.module_utils import _credentials as credentials
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport


class Cloud:
    """A provider's credential data, nothing else."""
    name = 'demo'
    display_name = 'Demo Cloud'
    argument_spec = dict(key_id=dict(type='str', fallback=(env_fallback, ['DEMO_KEY_ID'])),
                         key_secret=dict(type='str', no_log=True, fallback=(env_fallback, ['DEMO_SECRET'])),
                         token=dict(type='str', no_log=True))
    credential_options = {'key ID': 'key_id', 'secret': 'key_secret', 'token': 'token'}
    credential_environment = {'profile': ('DEMO_PROFILE',), 'instance_role': ('DEMO_ROLE',), 'assume_role.role_arn': ('DEMO_ROLE_ARN',),
                              'assume_role.duration': ('DEMO_DURATION',)}
    credential_features = ('profile', 'instance_role', 'assume_role')
    assume_role_duration = (900, 3600)


class Bare:
    """A cloud without profiles, roles or STS (like Zenlayer Cloud)."""
    name = 'bare'
    display_name = 'Bare Cloud'
    argument_spec = Cloud.argument_spec
    credential_options = Cloud.credential_options


def failing(label, reason):
    @credentials.named(label)
    def source(context):
        raise credentials.CredentialsNotFound(reason)
    return source


def giving(label, found):
    @credentials.named(label)
    def source(context):
        return found
    return source


def test_credentials_never_show_their_secrets():
    creds = credentials.Credentials('AKID1', 'the-secret', 'the-token', 100, source='somewhere')
    assert 'the-secret' not in repr(creds) and 'the-token' not in repr(creds) and 'AKID1' in repr(creds)
    assert creds == credentials.Credentials('AKID1', 'the-secret', 'the-token', 100, source='somewhere')
    assert creds.expires_within(10, 90) and not creds.expires_within(10, 89)
    assert not credentials.Credentials('a', 'b').expires_within(10 ** 9, 0)


def test_the_first_source_with_credentials_wins_and_its_secrets_are_registered_first():
    seen = []
    context = credentials.Context({}, register=seen.append)
    found = credentials.Credentials('AKID', 's3cret', 'tok3n')
    assert credentials.resolve([failing('one', 'nothing'), giving('two', found), giving('three', None)], context) is found
    assert seen == ['s3cret', 'tok3n']


def test_nothing_found_lists_every_source_in_order_with_its_reason():
    context = credentials.Context({})
    with pytest.raises(credentials.CredentialsNotFound) as caught:
        credentials.resolve([failing('options', 'not set'), failing('profile', '~/.x absent'), failing('role', 'not asked')],
                            context, 'Environment variables read: A, B')
    assert str(caught.value) == ('no credentials found; tried, in order: (1) options: not set; (2) profile: ~/.x absent; '
                                 '(3) role: not asked. Environment variables read: A, B')


def test_a_refusal_stops_the_resolution():
    @credentials.named('bad')
    def bad(context):
        raise credentials.CredentialsError('~/.x (profile) may be read or written by others')
    with pytest.raises(credentials.CredentialsError):
        credentials.resolve([bad, giving('never', credentials.Credentials('a', 'b'))], credentials.Context({}))


def test_the_options_source_names_the_options_and_their_variables():
    source = credentials.options_source(Cloud, {})
    with pytest.raises(credentials.CredentialsNotFound) as caught:
        source(credentials.Context({}))
    assert caught.value.reason == 'key_id (or DEMO_KEY_ID) and key_secret (or DEMO_SECRET) not set'
    with pytest.raises(credentials.CredentialsError) as half:
        credentials.options_source(Cloud, {'key_id': 'AKID'})(credentials.Context({}))
    assert str(half.value) == ('key_id (or DEMO_KEY_ID) is set but key_secret (or DEMO_SECRET) is not: give both, or neither to '
                               'use another source')
    found = credentials.options_source(Cloud, {'key_id': 'AKID', 'key_secret': 's', 'token': ''})(credentials.Context({}))
    assert (found.access_key, found.secret, found.token) == ('AKID', 's', None)


def test_settings_come_from_the_task_then_the_clouds_variables():
    env = {'DEMO_PROFILE': 'prod', 'DEMO_ROLE_ARN': 'arn:role', 'DEMO_DURATION': '1800', 'DEMO_ROLE': ''}
    resolved = credentials.settings(Cloud, {'profile': None, 'assume_role': None}, env)
    assert resolved['profile'] == 'prod' and resolved['instance_role'] is None      # a blank variable (AWX) is no setting
    assert resolved['assume_role'] == {'role_arn': 'arn:role', 'session_name': 'multicloud-secgroup', 'duration': 1800,
                                       'external_id': None, 'policy': None}
    assert resolved['origin']['profile'] == 'DEMO_PROFILE'
    assert credentials.settings(Cloud, {'profile': 'mine'}, env)['profile'] == 'mine'


@pytest.mark.parametrize('cls, params, env, message', [
    (Bare, {'instance_role': 'ops'}, {}, 'instance_role: Bare Cloud (provider bare) has no instance role; remove it'),
    (Bare, {'assume_role': {'role_arn': 'x'}}, {}, 'assume_role: Bare Cloud (provider bare) has no STS to assume a role with; remove it'),
    (Cloud, {'assume_role': {'role_arn': 'x', 'policy': '{}'}}, {}, 'assume_role.policy: Demo Cloud (provider demo) takes no session '
                                                                    'policy; remove it'),
    (Cloud, {'assume_role': {'session_name': 'me'}}, {}, 'assume_role.role_arn is not set (nor DEMO_ROLE_ARN): the role to assume'),
    (Cloud, {'assume_role': {'role_arn': 'x', 'duration': 60}}, {}, 'assume_role.duration: 60 must be between 900 and 3600 seconds '
                                                                    'for Demo Cloud'),
    (Cloud, {}, {'DEMO_ROLE_ARN': 'x', 'DEMO_DURATION': 'long'}, "assume_role.duration: 'long' (from DEMO_DURATION) is not a whole "
                                                                 "number of seconds"),
])
def test_settings_a_cloud_cannot_take_are_refused_naming_it(cls, params, env, message):
    with pytest.raises(credentials.CredentialsError) as caught:
        credentials.settings(cls, params, env)
    assert str(caught.value) == message


def test_an_endpoint_from_the_environment_is_checked():
    class WithEndpoint(Cloud):
        credential_environment = {'metadata_endpoint': ('DEMO_METADATA',)}
        credential_features = ('metadata_endpoint',)
    with pytest.raises(credentials.CredentialsError) as caught:
        credentials.settings(WithEndpoint, {}, {'DEMO_METADATA': 'ftp://x'}, lambda value: 'is not http' if 'ftp' in value else None)
    assert str(caught.value) == "metadata_endpoint: 'ftp://x' (from DEMO_METADATA) is not http"


@pytest.mark.parametrize('mode, kind, expected', [
    (0o600, 'file', None),
    (0o640, 'file', 'may be read or written by others (mode 0640)'),
    (0o602, 'file', 'may be read or written by others (mode 0602)'),
    (0o700, 'dir', 'is not a regular file'),
])
def test_a_credential_file_must_be_private_and_is_never_echoed(tmp_path, mode, kind, expected):
    path = tmp_path / 'creds'
    if kind == 'dir':
        path.mkdir()
    else:
        path.write_text('secret-content')
    os.chmod(str(path), mode)
    context = credentials.Context({}, home=str(tmp_path))
    if expected is None:
        assert credentials.read_private_file(context, str(path), 'a profile') == 'secret-content'
        return
    with pytest.raises(credentials.CredentialsError) as caught:
        credentials.read_private_file(context, str(path), 'a profile')
    assert '~/creds (a profile)' in str(caught.value) and expected in str(caught.value) and 'secret-content' not in str(caught.value)


def test_an_absent_file_is_not_found_shown_under_home(tmp_path):
    context = credentials.Context({}, home=str(tmp_path))
    with pytest.raises(credentials.CredentialsNotFound) as caught:
        credentials.read_private_file(context, context.path('~/.x/y'), 'a profile')
    assert caught.value.reason == '~/.x/y absent'


def test_the_metadata_getter_names_the_url_when_nothing_answers():
    import socket
    with socket.socket() as listener:
        listener.bind(('127.0.0.1', 0))
        port = listener.getsockname()[1]
    context = credentials.Context({})
    url = 'http://127.0.0.1:%d/latest/x' % port
    with pytest.raises(credentials.CredentialsNotFound) as caught:
        context.http('GET', url)
    assert caught.value.reason == 'metadata service unreachable at %s: ConnectionError' % url and context.asked == [url]


def test_assume_role_wraps_any_source_and_registers_the_base_secret_before_the_sts_call():
    seen = []
    base = credentials.Credentials('AKIDbase', 'base-secret', source='the options')

    def hook(context, given, role):
        assert seen == ['base-secret'] and given is base and role == {'role_arn': 'arn'}
        return credentials.Credentials('AKIDtmp', 'tmp-secret', 'tmp-token', 10, source='role arn')
    context = credentials.Context({}, settings={'assume_role': {'role_arn': 'arn'}}, register=seen.append)
    source = credentials.assume_role(giving('options', base), hook)
    assert credentials.label_of(source) == 'options'
    assert credentials.resolve([source], context).access_key == 'AKIDtmp'
    assert seen == ['base-secret', 'tmp-secret', 'tmp-token']


class Clock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_refreshed_once_before_they_expire_by_every_worker_at_once():
    clock = Clock()
    lock = threading.Lock()
    issued = []

    def fetch():
        with lock:
            issued.append(len(issued))
            return credentials.Credentials('AKID%d' % len(issued), 's%d' % len(issued), 't', clock.now + 600)
    held = credentials.RefreshingCredentials(fetch, margin=300, clock=clock)
    assert held.current().access_key == 'AKID1'
    clock.now += 299
    assert held.current().access_key == 'AKID1'        # 301 s left: still good
    clock.now += 2
    results = []
    threads = [threading.Thread(target=lambda: results.append(held.current().access_key)) for dummy in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ['AKID2'] * 16 and held.fetches == 2


def test_renewed_once_after_an_expired_answer_even_by_many_workers():
    count = {'n': 0}

    def fetch():
        count['n'] += 1
        return credentials.Credentials('AKID%d' % count['n'], 's', 't')
    held = credentials.RefreshingCredentials(fetch)
    barrier = threading.Barrier(2)
    order = threading.Lock()
    outcomes = []

    def worker():
        held.current()              # both sign with AKID1, both get "expired"
        barrier.wait()
        with order:                 # one after the other: the second finds the first one's renewal
            outcomes.append((held.renew(), held.credentials.access_key))
    threads = [threading.Thread(target=worker) for dummy in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == [(True, 'AKID2'), (True, 'AKID2')] and count['n'] == 2


def test_static_credentials_renewed_to_the_same_ones_are_not_retried():
    held = credentials.RefreshingCredentials(lambda: credentials.Credentials('AKID', 's'))
    held.current()
    assert held.renew() is False


class FakeResponse:
    def __init__(self, code):
        self.code = code


def expired_transport(answers, renew):
    """A Transport whose requests answer the codes in answers, in order (None: success)."""
    conn = transport.Transport('demo', secrets=['s3cret'], sleep=lambda s: None)
    conn.credentials = renew
    sent = []

    def send(call):
        sent.append(call.action)
        code = answers.pop(0)
        if code is None:
            return 'ok'
        raise transport.ProviderError('demo', call.action, code, 'token expired', error_class=transport.AUTH_EXPIRED)
    conn._send = send  # pylint: disable=protected-access
    return conn, sent


class Renewer:
    def __init__(self, outcome):
        self.outcome = outcome
        self.calls = 0

    def renew(self):
        self.calls += 1
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def test_the_transport_renews_once_and_sends_the_request_once_more():
    renewer = Renewer(True)
    conn, sent = expired_transport(['Expired', None], renewer)
    assert conn.call(transport.Call('Write', None, None, write=True)) == 'ok'
    assert sent == ['Write', 'Write'] and renewer.calls == 1
    renewer = Renewer(True)
    conn, sent = expired_transport(['Expired', 'Expired', None], renewer)
    with pytest.raises(transport.ProviderError):
        conn.call(transport.Call('Write', None, None, write=True))
    assert sent == ['Write', 'Write'] and renewer.calls == 1       # never a loop


def test_a_failed_renewal_is_told_with_the_expired_answer_and_no_secret():
    renewer = Renewer(credentials.CredentialsNotFound('metadata service unreachable at http://x: timed out, s3cret'))
    conn, sent = expired_transport(['Expired'], renewer)
    with pytest.raises(transport.ProviderError) as caught:
        conn.call(transport.Call('Read', None, None))
    assert sent == ['Read'] and caught.value.message == ('token expired; renewing the credentials failed: metadata service unreachable '
                                                         'at http://x: timed out, ********')
    conn, sent = expired_transport(['Expired'], Renewer(False))
    with pytest.raises(transport.ProviderError) as caught:
        conn.call(transport.Call('Read', None, None))
    assert sent == ['Read'] and caught.value.message == 'token expired'


def test_a_provider_without_credential_options_gets_none_and_request_credentials_falls_back_to_the_options():
    class Nothing:
        pass
    assert credentials.for_module(Nothing, {}, None, None) is None
    creds = credentials.request_credentials(None, {'key_id': 'AKID', 'key_secret': 's', 'token': 't'}, Cloud)
    assert (creds.access_key, creds.secret, creds.token) == ('AKID', 's', 't')


def test_for_module_resolves_before_any_request_and_sets_the_transport(tmp_path):
    conn = transport.Transport('demo')
    seen = []
    held = credentials.for_module(Cloud, {'key_id': 'AKID', 'key_secret': 's3', 'validate_certs': True}, conn, seen.append, environ={},
                                  home=str(tmp_path))
    assert conn.credentials is held and held.current().secret == 's3' and seen == ['s3'] and held.fetches == 1
    with pytest.raises(credentials.CredentialsNotFound) as caught:
        credentials.for_module(Cloud, {'validate_certs': True}, conn, seen.append, environ={}, home=str(tmp_path))
    assert str(caught.value).startswith('no credentials found; tried, in order: (1) options key_id/key_secret:')
    assert 'Environment variables read: DEMO_KEY_ID, DEMO_SECRET, DEMO_PROFILE, DEMO_ROLE, DEMO_ROLE_ARN, DEMO_DURATION' in str(caught.value)
