# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport: retries by error class, full-jitter backoff, rate limits, redaction. No real sleeping."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

import pytest
import requests

from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class FakeSession:
    """Answers each request with the next scripted item: a status code or an exception."""

    def __init__(self, script):
        self.script = list(script)
        self.sent = []

    def request(self, method, url, **kwargs):
        self.sent.append((method, url, kwargs))
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        resp = requests.Response()
        resp.status_code = item
        resp._content = b'{}'
        return resp

    def close(self):
        pass


def error_for(status):
    classes = {429: transport.THROTTLED, 409: transport.IN_PROGRESS, 503: transport.TRANSIENT,
               400: transport.INVALID, 402: transport.QUOTA}
    return transport.ProviderError('toy', 'Act', 'Code%d' % status, 'failed with key s3cr3t', 'req-%d' % status,
                                   status, classes[status])


def parse(resp):
    if resp.status_code != 200:
        raise error_for(resp.status_code)
    return 'ok'


def make(script, write=False, max_retries=4, rates=None):
    clock = FakeClock()
    session = FakeSession(script)
    conn = transport.Transport('toy', max_retries=max_retries, backoff=transport.Backoff(0.5, 4.0, rand=lambda: 1.0),
                               rate_limits=rates, secrets=['s3cr3t'], session=session, sleep=clock.sleep, clock=clock.clock)
    built = []

    def build():
        built.append(clock.now)
        return {'method': 'POST', 'url': 'https://toy.invalid/', 'headers': {}, 'data': b'{}'}
    return conn, transport.Call('Act', build, parse, write=write), clock, session, built


@pytest.mark.parametrize('write', [False, True])
def test_throttling_and_in_progress_are_retried_with_capped_backoff(write):
    conn, call, clock, session, built = make([429, 409, 429, 429, 200], write=write)
    assert conn.call(call) == 'ok'
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0]          # base * 2**n, capped at 4
    assert len(built) == 5                               # re-signed for every attempt
    assert conn.stats == {'calls': 1, 'attempts': 5, 'retries': 4}


def test_full_jitter_uses_the_random_fraction():
    backoff = transport.Backoff(1.0, 10.0, rand=lambda: 0.25)
    assert [backoff.delay(n) for n in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.5, 2.5]


def test_retries_give_up_after_max_retries():
    conn, call, clock, dummy, dummy2 = make([429] * 10, max_retries=2)
    with pytest.raises(transport.ProviderError) as err:
        conn.call(call)
    assert err.value.code == 'Code429' and len(clock.sleeps) == 2


@pytest.mark.parametrize('status', [400, 402])
def test_validation_and_quota_errors_are_never_retried(status):
    conn, call, clock, session, dummy = make([status, 200])
    with pytest.raises(transport.ProviderError):
        conn.call(call)
    assert clock.sleeps == [] and len(session.sent) == 1


def test_transient_errors_are_retried_for_reads_but_not_for_writes():
    conn, call, dummy, dummy2, dummy3 = make([503, 200])
    assert conn.call(call) == 'ok'
    conn, call, dummy, session, dummy3 = make([503, 200], write=True)
    with pytest.raises(transport.ProviderError) as err:
        conn.call(call)
    assert err.value.error_class == transport.TRANSIENT and len(session.sent) == 1


def test_a_dropped_write_is_ambiguous_and_not_resent():
    drop = requests.exceptions.ConnectionError('Connection aborted. RemoteDisconnected')
    conn, call, dummy, session, dummy2 = make([drop, 200], write=True)
    with pytest.raises(transport.ProviderError) as err:
        conn.call(call)
    assert err.value.error_class == transport.AMBIGUOUS and len(session.sent) == 1


def test_a_refused_connection_was_not_sent_and_is_retried_even_for_writes():
    refused = requests.exceptions.ConnectionError('NewConnectionError: Connection refused')
    conn, call, dummy, session, dummy2 = make([refused, 200], write=True)
    assert conn.call(call) == 'ok' and len(session.sent) == 2


def test_every_request_has_a_timeout_and_verifies_tls_by_default():
    conn, call, dummy, session, dummy2 = make([200])
    conn.call(call)
    kwargs = session.sent[0][2]
    assert kwargs['timeout'] == 30 and kwargs['verify'] is True and kwargs['allow_redirects'] is False


def test_secrets_are_redacted_from_errors():
    leak = requests.exceptions.ConnectionError('bad header Authorization: s3cr3t')
    conn, call, dummy, dummy2, dummy3 = make([leak], write=True)
    with pytest.raises(transport.ProviderError) as err:
        conn.call(call)
    assert 's3cr3t' not in str(err.value) and 's3cr3t' not in err.value.message
    conn, call, dummy, dummy2, dummy3 = make([400])
    with pytest.raises(transport.ProviderError) as err:
        conn.call(call)
    assert 's3cr3t' not in str(err.value) and '********' in err.value.message


def test_rate_limiter_spaces_calls_per_action():
    clock = FakeClock()
    limiter = transport.RateLimiter({'Write': 10, 'Read': 40}, clock=clock.clock, sleep=clock.sleep)
    for dummy in range(5):
        limiter.acquire('Write')
    assert clock.sleeps == pytest.approx([0.1] * 4)
    limiter.acquire('Other')                                  # no limit documented: no wait
    assert len(clock.sleeps) == 4
    clock.now += 10
    limiter.acquire('Write')                                  # idle time refills, but no burst beyond 1
    assert len(clock.sleeps) == 4


def test_rate_limiter_is_thread_safe_and_reserves_tokens():
    clock = FakeClock()
    lock = threading.Lock()
    waits = []

    def sleep(seconds):
        with lock:
            waits.append(seconds)
    limiter = transport.RateLimiter({'Write': 10}, clock=clock.clock, sleep=sleep)
    threads = [threading.Thread(target=limiter.acquire, args=('Write',)) for dummy in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == pytest.approx([0.1 * n for n in range(1, 8)])


def test_map_is_bounded_ordered_and_reports_each_failure():
    conn, dummy, dummy2, dummy3, dummy4 = make([])
    active = {'now': 0, 'max': 0}
    lock = threading.Lock()
    gate = threading.Event()

    def work(n):
        with lock:
            active['now'] += 1
            active['max'] = max(active['max'], active['now'])
        gate.wait(0.05)
        with lock:
            active['now'] -= 1
        if n == 3:
            raise ValueError('boom')
        return n * 2

    results = conn.map(work, range(10), max_workers=3)
    assert active['max'] <= 3
    assert [r for r in results if not isinstance(r, Exception)] == [0, 2, 4, 8, 10, 12, 14, 16, 18]
    assert isinstance(results[3], ValueError)


def test_secrets_are_redacted_in_their_quoted_forms_too():
    text = "Invalid header value: 'tok\\n' and {\"token\": \"tok\\n\"} and tok\n"
    assert transport.redact_text(text, ['tok\n']) == "Invalid header value: '********' and {\"token\": \"********\"} and ********"
