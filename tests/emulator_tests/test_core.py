# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator core with a toy cloud: faults, limits, log, settings, admin API."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from emulator import cloud_classes
from emulator.core import Cloud, Emulator, Response, Running, SettingsError


class ToyCloud(Cloud):
    name = 'toy'
    default_settings = {'flag': False}
    rate_limits = {'Write': 2}

    def reset(self):
        self.items = []

    def seed(self, data):
        self.items = list(data.get('items', []))

    def snapshot(self):
        return {'items': list(self.items)}

    def identify(self, request):
        return request.header('X-Action')

    def authenticate(self, request, action):
        if request.header('X-Key') != 'good':
            return Response.json(401, {'code': 'Auth'}, error_code='Auth')
        return None

    def dispatch(self, request, action):
        if action == 'Write':
            self.items.append(request.json())
        return Response.json(200, {'items': self.items}, request_id='r1')

    def fault_response(self, kind, request, action):
        return Response.json(429 if kind == 'throttle' else 503, {'code': kind}, error_code=kind)


@pytest.fixture
def toy():
    running = Running(Emulator([ToyCloud]))
    yield running
    running.stop()


def call(running, action, body=None, key='good'):
    url = running.endpoints['toy']
    conn = http.client.HTTPConnection(url.split('//')[1], timeout=5)
    conn.request('POST', '/', body=json.dumps(body), headers={'X-Action': action, 'X-Key': key})
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read() or b'null')


def admin(running, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(running.endpoints['admin'] + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


def test_dispatch_auth_and_log(toy):
    assert call(toy, 'Write', {'a': 1}) == (200, {'items': [{'a': 1}]})
    assert call(toy, 'Write', {'a': 2}, key='bad')[0] == 401
    log = admin(toy, 'GET', '/requests')['requests']
    assert [(e['action'], e['status'], e['error_code']) for e in log] == [('Write', 200, None), ('Write', 401, 'Auth')]
    assert log[0]['end'] >= log[0]['start']


def test_faults_fire_count_times_after_skip(toy):
    admin(toy, 'POST', '/faults', {'provider': 'toy', 'action': 'Write', 'kind': 'throttle', 'count': 2, 'after': 1})
    statuses = [call(toy, 'Write', {})[0] for dummy in range(4)]
    assert statuses == [200, 429, 429, 200]
    assert admin(toy, 'GET', '/faults')['faults'] == []


def test_commit_then_drop_applies_and_closes(toy):
    admin(toy, 'POST', '/faults', {'provider': 'toy', 'kind': 'commit_then_drop'})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        call(toy, 'Write', {'x': 1})
    assert admin(toy, 'GET', '/state')['toy'] == {'items': [{'x': 1}]}


def test_truncate_applies_then_sends_headers_and_a_body_cut_short(toy):
    admin(toy, 'POST', '/faults', {'provider': 'toy', 'kind': 'truncate'})
    conn = http.client.HTTPConnection(toy.endpoints['toy'].split('//')[1], timeout=5)
    conn.request('POST', '/', body=json.dumps({'x': 1}), headers={'X-Action': 'Write', 'X-Key': 'good'})
    resp = conn.getresponse()
    full = json.dumps({'items': [{'x': 1}]}).encode()
    assert resp.status == 200 and int(resp.getheader('Content-Length')) == len(full) + 16
    with pytest.raises(http.client.IncompleteRead) as cut:
        resp.read()
    assert cut.value.partial == full[:len(full) // 2]
    assert admin(toy, 'GET', '/state')['toy'] == {'items': [{'x': 1}]}
    assert [(e['fault'], e['status']) for e in admin(toy, 'GET', '/requests')['requests']] == [('truncate', 200)]


def test_reset_fault_does_not_apply(toy):
    admin(toy, 'POST', '/faults', {'provider': 'toy', 'kind': 'reset'})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        call(toy, 'Write', {'x': 1})
    assert admin(toy, 'GET', '/state')['toy'] == {'items': []}


def test_rate_limit_enforced_only_when_enabled(toy):
    assert [call(toy, 'Write', {})[0] for dummy in range(4)] == [200] * 4
    admin(toy, 'POST', '/settings', {'enforce_rate_limits': True})
    statuses = [call(toy, 'Write', {})[0] for dummy in range(4)]
    assert statuses[:2] == [200, 200] and 429 in statuses


def test_bad_admin_input_is_a_400(toy):
    for path, body in (('/settings', {'nope': 1}), ('/settings', {'toy': {'nope': 1}}),
                       ('/faults', {'provider': 'toy', 'kind': 'explode'}), ('/seed', {'mars': {}})):
        with pytest.raises(urllib.error.HTTPError) as err:
            admin(toy, 'POST', path, body)
        assert err.value.code == 400


def test_settings_merge_and_reset():
    emulator = Emulator([ToyCloud])
    emulator.update_settings({'latency_ms': 5, 'toy': {'flag': True}})
    assert emulator.get_settings()['toy'] == {'flag': True}
    emulator.reset()
    assert emulator.get_settings()['latency_ms'] == 0 and emulator.get_settings()['toy'] == {'flag': False}
    with pytest.raises(SettingsError):
        emulator.update_settings({'toy': 3})


class GroupToy(ToyCloud):
    """Instances with group lists: what the state history follows."""

    write_actions = ('Bind',)

    def reset(self):
        self.groups = {'i-1': ['g-1']}

    def snapshot(self):
        return {'instances': [{'id': iid, 'security_groups': list(groups)} for iid, groups in self.groups.items()]}

    def describe_request(self, request, action):
        body = request.json()
        return {'targets': [body['instance']], 'bind': [body['group']]} if action == 'Bind' else {'targets': None}

    def dispatch(self, request, action):
        if action == 'Bind':
            body = request.json()
            self.groups[body['instance']].append(body['group'])
        return Response.json(200, {}, request_id='r1')


def test_record_history_logs_changes_and_what_each_request_is_about():
    running = Running(Emulator([GroupToy]))
    try:
        call(running, 'Bind', {'instance': 'i-1', 'group': 'g-2'})           # not recorded: the setting is off
        assert admin(running, 'GET', '/history')['history'] == [] and 'change' not in admin(running, 'GET', '/requests')['requests'][0]
        admin(running, 'POST', '/settings', {'record_history': True})
        call(running, 'List')
        admin(running, 'POST', '/faults', {'provider': 'toy', 'kind': 'reset'})
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            call(running, 'Bind', {'instance': 'i-1', 'group': 'g-3'})       # never processed: no change
        call(running, 'Bind', {'instance': 'i-1', 'group': 'g-4'})
        log = admin(running, 'GET', '/requests')['requests']
        assert [(e['action'], e['write'], e['change']) for e in log[1:]] == [
            ('List', False, {'targets': None}), ('Bind', True, {'targets': ['i-1'], 'bind': ['g-3']}),
            ('Bind', True, {'targets': ['i-1'], 'bind': ['g-4']})]
        history = admin(running, 'GET', '/history?provider=toy')['history']
        assert [(h['seq'], h['target'], h['before'], h['after']) for h in history] == [(4, 'i-1', ['g-1', 'g-2'], ['g-1', 'g-2', 'g-4'])]
        assert running.emulator.in_flight == 0
        admin(running, 'DELETE', '/requests')
        assert admin(running, 'GET', '/history')['history'] == []
    finally:
        running.stop()


# -- the emulator as a user's tool: YAML seeds, state fed back, the command line ------------------------------

TENCENT_SEED_YAML = '''
tencentcloud:
  credentials:
    - {access_key: AKIDyamlseed0001, secret_key: Yaml-Seed-Secret-Kept}
  security_groups:
    - {id: sg-yaml0001, region: ap-guangzhou}
  instances:
    - {id: ins-yaml0001, region: ap-guangzhou, security_groups: [sg-yaml0001]}
'''


@pytest.fixture
def real():
    import emulator as package  # pylint: disable=import-outside-toplevel
    running = package.start()
    yield running
    running.stop()


def post_raw(running, path, text, content_type=None):
    headers = {'Content-Type': content_type} if content_type else {}
    req = urllib.request.Request(running.endpoints['admin'] + path, data=text.encode('utf-8'), method='POST', headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize('content_type', ['application/yaml', 'text/yaml', None, 'application/json'])
def test_post_seed_takes_yaml_by_content_type_or_sniffed(real, content_type):
    status, state = post_raw(real, '/seed', TENCENT_SEED_YAML, content_type)
    assert status == 200, state
    assert [i['id'] for i in state['tencentcloud']['instances']] == ['ins-yaml0001']
    assert state['tencentcloud']['credentials'][0]['secret_key'] == '********'
    assert real.emulator.state()['tencentcloud']['credentials'][0]['secret_key'] == 'Yaml-Seed-Secret-Kept'


def test_post_seed_names_a_body_neither_json_nor_yaml(real):
    status, answer = post_raw(real, '/seed', 'tencentcloud: [unclosed', 'application/yaml')
    assert status == 400 and answer['error'].startswith('body is not JSON or YAML:'), answer


def test_get_state_fed_back_to_post_seed_keeps_the_seeded_secrets(real):
    post_raw(real, '/seed', TENCENT_SEED_YAML, 'application/yaml')
    state = admin(real, 'GET', '/state')
    assert state['tencentcloud']['credentials'][0]['secret_key'] == '********'
    state['tencentcloud']['instances'][0]['security_groups'] = []
    answer = admin(real, 'POST', '/seed', state)
    assert answer['tencentcloud']['instances'][0]['security_groups'] == []
    assert real.emulator.state()['tencentcloud']['credentials'][0]['secret_key'] == 'Yaml-Seed-Secret-Kept'
    # A masked secret for a key that was never seeded cannot be kept: refused, naming it.
    state['tencentcloud']['credentials'][0]['access_key'] = 'AKIDneverseeded1'
    status, answer = post_raw(real, '/seed', json.dumps(state))
    assert status == 400
    assert answer['error'] == ("tencentcloud credentials[0]: secret_key is masked (********) and no seeded credential with access_key "
                               "'AKIDneverseeded1' has one to keep; give the secret")


def free_base_port(count=5):
    """A base port whose `count` successors were free a moment ago."""
    for dummy in range(50):
        probe = socket.socket()
        probe.bind(('127.0.0.1', 0))
        base = probe.getsockname()[1]
        probe.close()
        if base + count > 65535:
            continue
        sockets = []
        try:
            for offset in range(count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(('127.0.0.1', base + offset))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    pytest.skip('no run of free ports found')


def launch(tmp_path, *args):
    package = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'emulator')
    return subprocess.Popen([sys.executable, package, '--endpoints-file', str(tmp_path / 'endpoints.json')] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path, proc, seconds=20):
    deadline = time.time() + seconds
    while not path.exists():
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.05)


@pytest.mark.parametrize('sig', ['SIGTERM', 'SIGINT'])
def test_the_endpoints_file_is_written_whole_on_fixed_ports_and_removed_at_exit(tmp_path, sig):
    base = free_base_port(12)
    proc = launch(tmp_path, '--port', str(base))
    try:
        wait_for(tmp_path / 'endpoints.json', proc)
        endpoints = json.loads((tmp_path / 'endpoints.json').read_text())
        # The clouds, the admin API, then the metadata services of the clouds that have one, in the clouds' order.
        names = ['tencentcloud', 'alicloud', 'baiducloud', 'zenlayer', 'admin'] + [
            cls.name + '_metadata' for cls in cloud_classes() if cls.metadata is not None]
        assert 'tencentcloud_metadata' in names
        assert endpoints == dict(zip(names, ['http://127.0.0.1:%d' % (base + n) for n in range(len(names))]))
        assert os.listdir(str(tmp_path)) == ['endpoints.json']      # no temporary file left behind
        with urllib.request.urlopen(endpoints['admin'] + '/health', timeout=5) as resp:
            assert json.loads(resp.read())['ok']
    finally:
        proc.send_signal(getattr(signal, sig))
        proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert os.listdir(str(tmp_path)) == []


def test_a_taken_port_is_a_clear_error(tmp_path):
    base = free_base_port()
    holder = socket.socket()
    holder.bind(('127.0.0.1', base + 2))
    holder.listen(1)
    try:
        proc = launch(tmp_path, '--port', str(base))
        dummy, err = proc.communicate(timeout=20)
    finally:
        holder.close()
    assert proc.returncode == 2
    assert 'emulator: cannot listen on 127.0.0.1 port %d for baiducloud (base %d + 2): Address already in use' % (base + 2, base) in err, err
    assert not (tmp_path / 'endpoints.json').exists()
