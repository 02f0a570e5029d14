# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport: retries by error class, full-jitter backoff, rate limits, redaction. No real sleeping."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal
import threading
import time

import socket

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError, ProtocolError

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


class RecordingBackoff(transport.Backoff):
    """Backoff at its maximum, remembering each delay (the limiter's own waits are separate sleeps)."""

    def __init__(self):
        super(RecordingBackoff, self).__init__(0.5, 4.0, rand=lambda: 1.0)
        self.delays = []

    def delay(self, attempt):
        value = super(RecordingBackoff, self).delay(attempt)
        self.delays.append(value)
        return value


def make(script, write=False, max_retries=4, rates=None):
    clock = FakeClock()
    session = FakeSession(script)
    conn = transport.Transport('toy', max_retries=max_retries, backoff=RecordingBackoff(),
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
    assert conn.backoff.delays == [0.5, 1.0, 2.0, 4.0]   # base * 2**n, capped at 4
    assert len(built) == 5                               # re-signed for every attempt
    assert conn.stats == {'calls': 1, 'attempts': 5, 'retries': 4}


def test_a_caller_that_awaits_in_progress_itself_gets_it_at_once_and_throttling_is_still_retried():
    # Tencent reads which instance is busy and waits for it (issue 20); a blind jittered retry would only cost time.
    conn, call, clock, session, built = make([429, 409, 200])
    call.awaits_in_progress = True
    with pytest.raises(transport.ProviderError) as err:
        conn.call(call)
    assert err.value.error_class == transport.IN_PROGRESS and len(built) == 2 and conn.backoff.delays == [0.5]
    assert transport.Call('Act', None, None).awaits_in_progress is False


def test_full_jitter_uses_the_random_fraction():
    backoff = transport.Backoff(1.0, 10.0, rand=lambda: 0.25)
    assert [backoff.delay(n) for n in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.5, 2.5]


def test_retries_give_up_after_max_retries():
    conn, call, clock, dummy, dummy2 = make([429] * 10, max_retries=2)
    with pytest.raises(transport.ProviderError) as err:
        conn.call(call)
    assert err.value.code == 'Code429' and len(conn.backoff.delays) == 2


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


def refused():
    """requests' error for a refused connection, chained as urllib3 2.x chains it."""
    reason = NewConnectionError(None, 'Failed to establish a new connection: [Errno 111] Connection refused')
    reason.__cause__ = ConnectionRefusedError(111, 'Connection refused')
    return requests.exceptions.ConnectionError(MaxRetryError(None, '/', reason))


def unresolved(host='toy.invalid'):
    """requests' error for a host name that does not resolve (urllib3 2.x: NameResolutionError from a gaierror)."""
    reason = NameResolutionError(host, None, socket.gaierror(-2, 'Name or service not known'))
    return requests.exceptions.ConnectionError(MaxRetryError(None, '/', reason))


def unresolved_urllib3_1():
    """The same in urllib3 1.x: a NewConnectionError raised from the gaierror."""
    reason = NewConnectionError(None, 'Failed to establish a new connection: [Errno -2] Name or service not known')
    reason.__context__ = socket.gaierror(-2, 'Name or service not known')
    return requests.exceptions.ConnectionError(MaxRetryError(None, '/', reason))


@pytest.mark.parametrize('error', [refused, requests.exceptions.ConnectTimeout])
def test_a_refused_connection_was_not_sent_and_is_retried_even_for_writes(error):
    conn, call, dummy, session, dummy2 = make([error(), error(), 200], write=True)
    assert conn.call(call) == 'ok' and len(session.sent) == 3
    conn, call, dummy, session, dummy2 = make([error()] * 9, write=True)
    with pytest.raises(transport.ProviderError) as err:
        conn.call(call)
    assert err.value.error_class == transport.UNSENT and len(session.sent) == 5     # max_retries=4, never "may have been applied"
    assert 'nothing was sent' in err.value.message and 'may have been applied' not in err.value.message


@pytest.mark.parametrize('error', [unresolved, unresolved_urllib3_1])
@pytest.mark.parametrize('write', [False, True])
def test_a_host_that_does_not_resolve_fails_fast_naming_the_host_and_the_options(error, write):
    conn, call, clock, session, dummy = make([error()] * 9, write=write, max_retries=8)
    with pytest.raises(transport.ProviderError) as err:
        conn.call(call)
    assert err.value.error_class == transport.UNSENT and err.value.code == 'NameResolutionError'
    assert len(session.sent) == 1 + transport.NAME_RESOLUTION_RETRIES and sum(clock.sleeps) <= 1.5
    assert 'toy.invalid' in err.value.message and 'region' in err.value.message and 'endpoint' in err.value.message
    conn, call, clock, session, dummy = make([error(), 200], write=write)
    assert conn.call(call) == 'ok'      # a resolver hiccup is still retried


def cut_off():
    """requests' error for an answer whose body stopped short (headers received, then the connection closed)."""
    from http.client import IncompleteRead
    return requests.exceptions.ChunkedEncodingError(ProtocolError('Connection broken: IncompleteRead(10 bytes read, 16 more expected)',
                                                                  IncompleteRead(b'x' * 10, 16)))


def tls_broken_while_reading():
    """requests' error for a TLS failure while reading the answer's body (after the request was sent)."""
    import ssl
    from urllib3.exceptions import SSLError
    return requests.exceptions.SSLError(SSLError(ssl.SSLError(1, '[SSL: DECRYPTION_FAILED_OR_BAD_RECORD_MAC]')))


def undecodable():
    return requests.exceptions.ContentDecodingError('Received response with content-encoding: gzip, but failed to decode it')


def reset_after_sending():
    return requests.exceptions.ConnectionError(ProtocolError('Connection aborted.', ConnectionResetError(104)))


@pytest.mark.parametrize('error', [cut_off, tls_broken_while_reading, undecodable, reset_after_sending])
def test_an_answer_cut_off_or_undecodable_may_have_been_applied(error):
    conn, call, dummy, session, dummy2 = make([error(), 200], write=True)
    with pytest.raises(transport.ProviderError) as err:
        conn.call(call)
    assert err.value.error_class == transport.AMBIGUOUS and len(session.sent) == 1      # a write is never re-sent blindly
    assert 'may have been applied' in err.value.message
    conn, call, dummy, session, dummy2 = make([error(), 200])
    assert conn.call(call) == 'ok' and len(session.sent) == 2                           # a read is retried
    conn, call, dummy, session, dummy2 = make([error(), 200], write=True)
    call.idempotent = True
    assert conn.call(call) == 'ok' and len(session.sent) == 2                           # a write with a token is re-sent


def test_an_answer_cut_off_while_parse_reads_it_may_have_been_applied():
    def parse_reading(resp):
        raise cut_off()
    conn, call, dummy, session, dummy2 = make([200, 200], write=True)
    call.parse = parse_reading
    with pytest.raises(transport.ProviderError) as err:
        conn.call(call)
    assert err.value.error_class == transport.AMBIGUOUS and len(session.sent) == 1


def test_a_request_that_cannot_be_built_is_invalid_and_not_retried():
    conn, call, dummy, session, dummy2 = make([requests.exceptions.InvalidURL('Invalid URL'), 200])
    with pytest.raises(transport.ProviderError) as err:
        conn.call(call)
    assert err.value.error_class == transport.INVALID and len(session.sent) == 1


@pytest.mark.parametrize('value, seconds', [('3', 3.0), (' 1.5 ', 1.5), ('0', None), ('-2', None), ('soon', None),
                                            ('Wed, 21 Oct 2015 07:28:00 GMT', None), ('', None), ('inf', None), ('nan', None)])
def test_retry_after_seconds(value, seconds):
    assert transport.retry_after_seconds({'Retry-After': value}) == seconds


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


def test_an_interrupt_of_map_stops_new_items_awaits_those_in_flight_and_says_which(monkeypatch):
    monkeypatch.setattr(transport, 'IN_FLIGHT_GRACE_S', 0.3)
    conn, dummy, dummy2, dummy3, dummy4 = make([])
    signalled = []
    release = threading.Event()
    started = []

    def work(n):
        started.append((n, time.monotonic()))
        if n == 2:
            release.wait(5)            # still unanswered after the grace
        else:
            time.sleep(0.05)
        return n

    def interrupt():
        signalled.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)     # Ctrl-C: KeyboardInterrupt in the main thread, here inside join()

    timer = threading.Timer(0.2, interrupt)
    timer.start()
    begun = time.monotonic()
    with pytest.raises(transport.Interrupted) as caught:
        conn.map(work, range(100), max_workers=4)
    waited = time.monotonic() - begun
    release.set()
    timer.join()
    exc = caught.value
    assert exc.signal_name == 'SIGINT' and exc.work is work and conn.stop.is_set()
    assert 0.2 <= waited < 1.0                                          # the grace, not the 100 items
    assert not [n for n, when in started if when > signalled[0] + 0.1]    # no item started after the interrupt
    assert exc.in_flight == [2] and 2 not in dict(exc.completed)
    assert sorted([n for n, dummy in exc.completed] + exc.in_flight) == sorted(n for n, dummy in started)
    assert len(started) < 20 and all(result == n for n, result in exc.completed)


def test_a_second_interrupt_ends_the_wait_for_the_writes_in_flight(monkeypatch):
    monkeypatch.setattr(transport, 'IN_FLIGHT_GRACE_S', 20.0)
    conn, dummy, dummy2, dummy3, dummy4 = make([])
    release = threading.Event()
    timers = [threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT)) for delay in (0.1, 0.3)]
    for timer in timers:
        timer.start()
    begun = time.monotonic()
    with pytest.raises(transport.Interrupted) as caught:
        conn.map(lambda n: release.wait(10), range(3), max_workers=3)
    waited = time.monotonic() - begun
    release.set()
    for timer in timers:
        timer.join()
    assert waited < 2.0 and caught.value.in_flight == [0, 1, 2]


def test_after_a_stop_no_write_is_sent_reads_still_are_and_sleeps_end_at_once():
    conn, call, clock, session, dummy = make([200, 200], write=True)
    conn.stop.set()
    with pytest.raises(transport.ProviderError) as err:
        conn.call(call)
    assert err.value.error_class == transport.STOPPED and session.sent == []
    call.write = False
    assert conn.call(call) == 'ok' and len(session.sent) == 1
    default = transport.Transport('toy', session=FakeSession([]))
    default.stop.set()
    begun = time.monotonic()
    default.sleep(30)
    assert time.monotonic() - begun < 1


def test_an_item_stopped_after_some_of_its_writes_were_sent_is_ambiguous_one_stopped_before_any_is_not_sent():
    conn, call, dummy, session, dummy2 = make([200, 200], write=True)

    def two_writes(n):
        if n == 0:
            conn.call(call)
        conn.stop.set()             # the stop comes while item 0 is between its writes
        return conn.call(call)

    results = conn.map(two_writes, [0, 1], max_workers=1)
    assert len(session.sent) == 1
    assert [(r.error_class, r.code) for r in results] == [(transport.AMBIGUOUS, 'Interrupted'), (transport.STOPPED, 'Interrupted')]


def test_a_write_stopped_while_pausing_to_retry_ends_with_its_last_answer_and_is_not_sent_again():
    conn, call, clock, session, dummy = make([503, 200], write=True)
    call.idempotent = True          # a token write: retried after an unknown outcome
    real_sleep = clock.sleep

    def sleep_then_stop(seconds):
        real_sleep(seconds)
        conn.stop.set()
    conn.sleep = sleep_then_stop
    with pytest.raises(transport.ProviderError) as err:
        conn.call(call)
    assert err.value.code == 'Code503' and len(session.sent) == 1     # the outcome stays unknown, as the answer said


def test_secrets_are_redacted_in_their_quoted_forms_too():
    text = "Invalid header value: 'tok\\n' and {\"token\": \"tok\\n\"} and tok\n"
    assert transport.redact_text(text, ['tok\n']) == "Invalid header value: '********' and {\"token\": \"********\"} and ********"


def test_a_retry_after_from_the_cloud_is_honoured_up_to_the_backoff_cap():
    def throttled_for(seconds):
        def parse_with_retry_after(resp):
            if resp.status_code == 429:
                raise transport.ProviderError('toy', 'Act', 'Throttling', 'slow down', None, 429, transport.THROTTLED,
                                              retry_after=seconds)
            return 'ok'
        return parse_with_retry_after
    for seconds, slept in ((3.0, 3.0), (60.0, 4.0)):
        conn, call, clock, dummy, dummy2 = make([429, 200])
        call.parse = throttled_for(seconds)
        assert conn.call(call) == 'ok'
        assert slept in clock.sleeps


def handshake_failed():
    """requests' error for a failed TLS handshake: urllib3 gave up on the connection."""
    from urllib3.exceptions import SSLError
    return requests.exceptions.SSLError(MaxRetryError(None, '/', SSLError('CERTIFICATE_VERIFY_FAILED s3cr3t')))


def test_a_tls_failure_is_not_retried_and_says_what_to_do():
    conn, call, dummy, session, dummy2 = make([handshake_failed() for dummy in range(9)], write=True)
    with pytest.raises(transport.ProviderError) as err:
        conn.call(call)
    assert err.value.error_class == transport.TLS and err.value.code == 'TLSError'
    assert len(session.sent) == 1 and conn.backoff.delays == []
    assert 'REQUESTS_CA_BUNDLE' in err.value.message and 'validate_certs' in err.value.message
    assert 's3cr3t' not in err.value.message


@pytest.mark.parametrize('secret', ['a/b+c=d&e', 'tok en%', 'CAESIJ+/=='])
def test_secrets_are_redacted_when_url_encoded(secret):
    from urllib.parse import quote, quote_plus, urlencode
    forms = (quote(secret, safe=''), quote_plus(secret), urlencode({'t': secret}))
    text = 'Failed: https://ecs.example/?SecurityToken=%s&x=1 and %s and %s' % forms
    redacted = transport.redact_text(text, [secret])
    assert quote(secret, safe='') not in redacted and quote_plus(secret) not in redacted and secret not in redacted
    assert redacted.count('********') == 3


def test_poll_runs_until_the_deadline_itself():
    clock = FakeClock()
    steps = []

    def step():
        steps.append(clock.now)
        return False, len(steps)
    done, value = transport.poll(step, clock.now + 2.0, clock.clock, clock.sleep)
    assert not done and value == 4
    assert clock.sleeps == [0.5, 1.0, 0.5]                         # the last sleep is cut to the deadline
    assert steps[-1] == 1002.0                                     # and one last look at the deadline
    done, value = transport.poll(lambda: (True, 'x'), clock.now + 2.0, clock.clock, clock.sleep)
    assert done and value == 'x'


def test_poll_can_step_again_at_once_then_back_off():
    clock = FakeClock()
    steps = []

    def step():
        steps.append(clock.now)
        return len(steps) == 5, len(steps)
    done, value = transport.poll(step, clock.now + 60.0, clock.clock, clock.sleep, first=0.0, cap=5.0, then=0.5)
    assert done and value == 5 and clock.sleeps == [0.0, 0.5, 1.0, 2.0]


def test_a_stream_starts_the_waiting_item_of_lowest_priority_first():
    conn = transport.Transport('toy', session=object())
    gate = threading.Event()
    order = []
    stream = conn.stream(lambda n: gate.wait(10) if n == 'first' else order.append(n), 1)
    stream.submit('first', (0, 0))          # holds the one worker while the others wait
    for item, priority in (('c', (0, 3)), ('a', (-1, 5)), ('b', (0, 1))):
        stream.submit(item, priority)
    gate.set()
    for dummy in range(4):
        stream.next()
        stream.ack()
    stream.close()
    assert order == ['a', 'b', 'c']


def test_a_stream_shares_its_workers_between_lanes():
    conn = transport.Transport('toy', session=object())
    gate = threading.Event()
    started = []
    lock = threading.Lock()

    def work(item):
        with lock:
            started.append(item)
        gate.wait(10)

    stream = conn.stream(work, 4)
    with stream.cond:       # every item waiting before any worker picks one
        for n in range(6):
            stream.submit(('bind', n), (0, n), 'bind')
        for n in range(2):
            stream.submit(('unbind', n), (-1, n), 'unbind')
    deadline = time.monotonic() + 5
    while len(started) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    with lock:
        first = list(started)
    gate.set()
    for dummy in range(8):
        stream.next()
        stream.ack()
    stream.close()
    # Four workers, the lane with fewer running items first (ties: the better priority): two of each, the unbinds
    # not waiting behind the six binds.
    assert sorted(first) == [('bind', 0), ('bind', 1), ('unbind', 0), ('unbind', 1)]


def test_a_stream_takes_items_while_others_are_in_flight_and_answers_in_the_order_they_come():
    conn = transport.Transport('toy', session=object())
    slow = threading.Event()

    def work(n):
        if n == 0:
            slow.wait(10)       # answered only after item 1's follow-up, submitted once item 1 was answered
        if n == 'boom':
            raise transport.ProviderError('toy', 'Act', 'Bad', 'no', error_class=transport.INVALID)
        return n

    stream = conn.stream(work, 2)
    stream.submit(0)
    stream.submit(1)
    assert stream.next() == (1, 1) and stream.outstanding() == 2
    stream.ack()
    stream.submit('boom')
    item, error = stream.next()
    stream.ack()
    assert item == 'boom' and error.code == 'Bad'
    slow.set()
    assert stream.next() == (0, 0)
    stream.ack()
    assert stream.outstanding() == 0
    stream.close()


def test_an_interrupt_of_a_stream_lists_the_answers_not_yet_recorded_and_the_items_in_flight(monkeypatch):
    monkeypatch.setattr(transport, 'IN_FLIGHT_GRACE_S', 0.2)
    conn = transport.Transport('toy', session=object())
    release = threading.Event()
    stream = conn.stream(lambda n: release.wait(10) if n == 'hang' else n, 1)
    stream.submit(1)
    stream.submit(2)
    assert stream.next() == (1, 1)     # taken, not acknowledged: still to record
    deadline = time.monotonic() + 5
    while len(stream.answers) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    stream.submit('hang')
    while not stream.running and time.monotonic() < deadline:
        time.sleep(0.01)
    stream.submit('never')
    with pytest.raises(transport.Interrupted) as caught:
        stream.interrupt(KeyboardInterrupt())
    release.set()
    exc = caught.value
    assert exc.signal_name == 'SIGINT' and conn.stop.is_set() and exc.completed == [(1, 1), (2, 2)]
    assert exc.in_flight == ['hang']     # 'never' never started: in neither list


@pytest.mark.parametrize('connections', [1, 16, 256])
def test_the_session_keeps_as_many_connections_per_host_as_calls_may_run_at_once(connections):
    conn = transport.Transport('toy', connections=connections)
    try:
        for url in ('https://cvm.example.invalid/', 'http://127.0.0.1:8080/'):
            adapter = conn.session.get_adapter(url)
            assert adapter.poolmanager.connection_pool_kw['maxsize'] == connections
    finally:
        conn.close()
    unsized = transport.Transport('toy')
    try:    # requests' own default when nobody says
        assert unsized.session.get_adapter('https://x.example.invalid/').poolmanager.connection_pool_kw['maxsize'] == 10
    finally:
        unsized.close()
