# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The live run's probes of facts nobody documents (tests/live/probes.py), through the providers' own calls.

Not part of the collection: a module next to tests/live/protocol.yml, taking the options of sg_binding (provider,
credentials, endpoint, region, the one target) plus ``probes`` (names from probes.MODULE_PROBES) and ``burst``.
``security_group_ids`` are [a group the target has, a group it does not have]. Each probe's answer is returned under
``probes.<name>``: ``outcome`` and what the cloud said (code, HTTP status, request ID), never a credential.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import string
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _generic as generic
from ansible_collections.multicloud.secgroup.plugins.module_utils import _planner as planner
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

PROBES = ('duplicate_bind', 'unbind_not_bound', 'visibility', 'unknown_instance', 'unknown_group', 'auth_failure', 'read_burst')
OWN = ('probes', 'burst', 'visibility_timeout', 'visibility_interval')


def unknown_like(value):
    """A well-formed ID that is not `value`: its last four characters changed within their class (digit, letter)."""
    head, tail = value[:-4], value[-4:]
    out = []
    for char in tail:
        if char.isdigit():
            out.append(str((int(char) + 5) % 10))
        elif char.isalpha():
            base = 'a' if char.islower() else 'A'
            out.append(chr((ord(char) - ord(base) + 13) % 26 + ord(base)))
        else:
            out.append(char)
    return head + ''.join(out)


def error_answer(error):
    return {'code': error.code, 'http_status': error.http_status, 'request_id': error.request_id,
            'error_class': error.error_class, 'message': error.message[:300]}


class Prober:
    def __init__(self, cls, params, secrets):
        self.cls = cls
        self.params = params
        self.secrets = secrets
        self.kind = planner.chosen_kind(cls.target_kinds, params)
        self.target = params[self.kind.option][0]

    def provider(self, **overrides):
        params = dict(self.params, **overrides)
        conn = engine.transport_for(self.cls, params, self.secrets)
        return self.cls(params, conn)

    def groups(self, provider):
        current, dummy = provider.read([self.target])
        return list(current.get(self.target, []))

    def write(self, action, group, must_have):
        """A bind or unbind the planner would never send (nothing to change): the cloud's own answer to it."""
        if self.cls.name == 'baiducloud' and self.kind.option == 'network_interface_ids':
            return {'outcome': 'skipped', 'why': 'Baidu AI Cloud ENIs take only a whole list (no bind or unbind call)'}
        provider = self.provider(retries=0)
        try:
            before = self.groups(provider)
            if (group in before) != must_have:
                return {'outcome': 'skipped', 'why': 'the target does not have the state the probe needs: %s' % before}
            try:
                request_ids = provider.apply({'action': action, 'target_ids': [self.target], 'security_group_ids': [group]})
                answer = {'outcome': 'accepted', 'request_ids': [r for r in request_ids or [] if r]}
            except transport.ProviderError as error:
                answer = dict(error_answer(error), outcome='already' if error.error_class == transport.ALREADY else 'error')
            answer['groups_before'] = before
            return answer
        finally:
            provider.transport.close()

    def visibility(self, group, timeout, interval):
        """Bind `group` (the target lacks it), read until it shows; unbind it, read until that shows. The writes are
        retried as the modules retry them (another operation in progress, throttling)."""
        if self.cls.name == 'baiducloud' and self.kind.option == 'network_interface_ids':
            return {'outcome': 'skipped', 'why': 'Baidu AI Cloud ENIs take only a whole list (no bind or unbind call)'}
        provider = self.provider()
        answer = {}
        try:
            for action, shown in (('bind', lambda groups: group in groups), ('unbind', lambda groups: group not in groups)):
                before = self.groups(provider)
                if shown(before):
                    return {'outcome': 'skipped', 'why': 'the target does not have the state the probe needs: %s' % before}
                request_ids = provider.apply({'action': action, 'target_ids': [self.target], 'security_group_ids': [group]})
                start, reads, seen = time.monotonic(), 0, False
                while not seen and time.monotonic() - start <= timeout:
                    reads += 1
                    seen = shown(self.groups(provider))
                    if not seen:
                        time.sleep(interval)
                answer[action] = {'reads': reads, 'seconds': round(time.monotonic() - start, 3), 'shown': seen,
                                  'request_ids': [r for r in request_ids or [] if r]}
                if not seen:
                    break
        finally:
            provider.transport.close()
        if not all(item['shown'] for item in answer.values()):
            answer['outcome'] = 'never'
        else:
            answer['outcome'] = 'at_once' if all(item['reads'] == 1 for item in answer.values()) else 'later'
        return answer

    def unknown_instance(self):
        provider = self.provider(retries=0)
        fake = unknown_like(self.target)
        try:
            current, missing = provider.read([fake])
            outcome = 'missing' if fake in missing else ('found' if fake in current else 'neither')
            return {'outcome': outcome, 'id': fake}
        except transport.ProviderError as error:
            return dict(error_answer(error), outcome='error', id=fake)
        finally:
            provider.transport.close()

    def unknown_group(self):
        provider = self.provider(retries=0)
        fake = unknown_like(self.params['security_group_ids'][0])
        try:
            missing = provider.missing_security_groups([fake])
            return {'outcome': 'missing' if fake in missing else 'found', 'id': fake}
        except transport.ProviderError as error:
            return dict(error_answer(error), outcome='error', id=fake)
        finally:
            provider.transport.close()

    def auth_failure(self):
        option = getattr(self.cls, 'credential_options', {}).get('secret')
        if not option or not self.params.get(option):
            return {'outcome': 'skipped', 'why': 'the credentials do not come from the secret option or its variables'}
        wrong = 'liveprobe' + ''.join(random.choice(string.ascii_letters + string.digits) for dummy in range(24))
        provider = self.provider(retries=0, **{option: wrong})
        try:
            provider.read([self.target])
            return {'outcome': 'accepted'}
        except transport.ProviderError as error:
            return dict(error_answer(error), outcome='auth' if error.error_class in (transport.AUTH, transport.AUTH_EXPIRED) else 'other_error')
        finally:
            provider.transport.close()

    def read_burst(self, count):
        """`count` reads one after another, rate_limit raised so the client does not hold them back (a published
        limit still holds), no retry: the calls per second reached and the first throttling answer, if any."""
        if count <= 0:
            return {'outcome': 'skipped', 'why': 'burst is 0'}
        provider = self.provider(retries=0, rate_limit=1000.0)
        done, errors, throttled = 0, {}, None
        start = time.monotonic()
        try:
            for dummy in range(count):
                try:
                    provider.read([self.target])
                    done += 1
                except transport.ProviderError as error:
                    errors[error.code] = errors.get(error.code, 0) + 1
                    if error.error_class == transport.THROTTLED and throttled is None:
                        throttled = dict(error_answer(error), after_reads=done, after_s=round(time.monotonic() - start, 3))
        finally:
            provider.transport.close()
        elapsed = time.monotonic() - start
        return {'outcome': 'throttled' if throttled else 'not_throttled', 'reads': count, 'succeeded': done,
                'seconds': round(elapsed, 3), 'calls_per_s': round(count / elapsed, 1) if elapsed else None,
                'throttled': throttled, 'errors': errors}


def main():
    spec = generic.union_spec(generic.binding_spec)
    spec.update(probes=dict(type='list', elements='str', required=True, choices=list(PROBES)), burst=dict(type='int', default=30),
                visibility_timeout=dict(type='float', default=60.0), visibility_interval=dict(type='float', default=1.0))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=False)
    cls = generic.PROVIDERS[module.params['provider']]
    try:
        params, secrets = generic.resolve(dict((k, v) for k, v in module.params.items() if k not in OWN), cls, generic.binding_spec(cls))
    except engine.EngineFailure as exc:
        module.fail_json(msg=str(exc))
    for secret in secrets:
        module.no_log_values.add(secret)
    if len(params['security_group_ids']) != 2:
        module.fail_json(msg='security_group_ids: give 2 groups, one the target has and one it does not have')
    prober = Prober(cls, params, secrets)
    have, lack = params['security_group_ids']
    answers = {}
    for name in module.params['probes']:
        start = time.monotonic()
        try:
            if name == 'duplicate_bind':
                answer = prober.write('bind', have, True)
            elif name == 'unbind_not_bound':
                answer = prober.write('unbind', lack, False)
            elif name == 'visibility':
                answer = prober.visibility(lack, module.params['visibility_timeout'], module.params['visibility_interval'])
            elif name == 'read_burst':
                answer = prober.read_burst(module.params['burst'])
            else:
                answer = getattr(prober, name)()
        except engine.EngineFailure as exc:
            answer = {'outcome': 'error_running', 'why': str(exc)}
        except transport.ProviderError as error:
            answer = dict(error_answer(error), outcome='error_running')
        answer['probe_s'] = round(time.monotonic() - start, 3)
        answers[name] = engine.redact(answer, secrets)
    module.exit_json(changed=False, probes=answers)


if __name__ == '__main__':
    main()
