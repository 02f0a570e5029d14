# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This module_utils is PRIVATE to the collection: it may change at any time.
"""HTTP transport shared by every provider: one session, timeouts, retries, rate limits.

A provider describes each call as a :class:`Call` (how to build the signed
request, how to read the answer, whether it writes). The transport sends it,
retries only the error classes that are safe to retry, and keeps within the
provider's documented per-action rate limits.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import contextlib
import hashlib
import heapq
import json
import math
import os
import random
import socket
import signal
import stat
import tempfile
import threading
import time
from urllib.parse import quote, quote_plus, urlsplit

try:
    import requests
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module through missing_required_lib
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system: every process limits itself (SharedLimits falls back)
    fcntl = None

try:
    from urllib3.exceptions import MaxRetryError, NewConnectionError
except ImportError:  # pragma: no cover - requests brings urllib3
    MaxRetryError = NewConnectionError = None
try:
    from urllib3.exceptions import NameResolutionError     # urllib3 2.x; 1.x raises a NewConnectionError from a gaierror
except ImportError:  # pragma: no cover
    NameResolutionError = None

# Error classes. A provider maps each of its error codes to one of these.
THROTTLED = 'throttled'        # rejected before processing: always safe to retry
UNSENT = 'unsent'              # the connection failed before the request was sent
IN_PROGRESS = 'in_progress'    # another operation holds the resource: retry after waiting
TRANSIENT = 'transient'        # server trouble: retried for reads; a write may have happened
AMBIGUOUS = 'ambiguous'        # the request may or may not have been applied
ALREADY = 'already'            # the target already is so (already a member / not a member): nothing to do there
AUTH = 'auth'
AUTH_EXPIRED = 'auth_expired'  # the (temporary) credentials expired: renewed once, and that request sent once more
TLS = 'tls'                    # the TLS handshake failed: nothing was sent
QUOTA = 'quota'
INVALID = 'invalid'
NOT_FOUND = 'not_found'
CONFLICT = 'conflict'
FAILED = 'failed'
STOPPED = 'stopped'            # not sent: the run was told to stop (an interrupt)

RETRY_ALWAYS = (THROTTLED, UNSENT, IN_PROGRESS)
RETRY_READS = (TRANSIENT, AMBIGUOUS)
# A host name that does not resolve is a mistyped region or endpoint far more often than a resolver
# hiccup: a couple of quick retries, not the full backoff.
NAME_RESOLUTION_RETRIES = 2
# requests' errors in the request itself, raised before any connection (InvalidJSONError also covers an
# answer's JSONDecodeError, should a provider's parse not catch it): not network failures.
PREPARE_ERRORS = ('InvalidURL', 'MissingSchema', 'InvalidSchema', 'InvalidHeader', 'URLRequired', 'InvalidJSONError')

# After an interrupt, how long map() waits for the writes already sent to be answered, in seconds.
IN_FLIGHT_GRACE_S = 3.0


def redact_text(text, secrets):
    """text with every secret replaced, also where it was quoted with escapes (repr, JSON) or
    URL-encoded (a token sent in a query string comes back that way in the HTTP library's errors)."""
    for secret in secrets:
        if not secret:
            continue
        forms = set([secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], quote(secret, safe=''), quote_plus(secret, safe=''),
                     quote(secret, safe='/'), quote(secret, safe='-_.~')])
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, '********')
    return text


def retry_after_seconds(headers):
    """Seconds of a standard Retry-After header given as a number (an HTTP date is not trusted: it depends on
    both clocks), or None."""
    value = ('%s' % ((headers or {}).get('Retry-After') or '')).strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 < seconds < float('inf') else None


def exception_chain(exc):
    """exc and every exception behind it: causes, contexts, urllib3's reason and exception arguments."""
    seen, pending = [], [exc]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or any(current is s for s in seen):
            continue
        seen.append(current)
        pending.extend([current.__cause__, current.__context__, getattr(current, 'reason', None)] + list(current.args))
    return seen


def poll(step, deadline, clock=time.monotonic, sleep=time.sleep, first=0.5, cap=5.0, then=None):
    """Call step() -> (done, value) until done or the deadline: sleeps first, then `then` (2*first by
    default), doubling up to cap, the last one cut to the deadline itself, then one last step. first=0
    steps again at once (the step's own round trip is the pause). Returns (done, value)."""
    delay = first
    following = 2 * first if then is None else then
    while True:
        done, value = step()
        remaining = deadline - clock()
        if done or remaining <= 0:
            return done, value
        sleep(min(delay, remaining))
        delay, following = following, min(cap, following * 2)


class ProviderError(Exception):
    """A failed API call, with everything the user needs to act on it."""

    def __init__(self, provider, action, code, message, request_id=None, http_status=None, error_class=FAILED, retry_after=None,
                 retry_limit=None):
        super(ProviderError, self).__init__('%s %s failed: %s: %s' % (provider, action, code, message))
        self.retry_after = retry_after    # seconds the cloud asked us to wait before a retry
        self.retry_limit = retry_limit    # at most this many retries of this error (None: the transport's max_retries)
        self.provider = provider
        self.action = action
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status
        self.error_class = error_class

    def to_dict(self):
        return {'provider': self.provider, 'action': self.action, 'code': self.code, 'message': self.message,
                'request_id': self.request_id, 'http_status': self.http_status}


def raise_first(errors, failed_target_ids):
    """After concurrent calls on many targets: raise the first error, naming every failed target (failed_target_ids)
    and how many other calls or resources failed; nothing when errors is empty."""
    if errors:
        error = errors[0]
        error.failed_target_ids = sorted(set(failed_target_ids))
        if len(errors) > 1:
            error.message += ' (and %d more failed call(s) or resource(s): %s)' % (len(errors) - 1, ', '.join(error.failed_target_ids))
        raise error


class Interrupted(BaseException):
    """The run was told to stop by a signal (SIGINT, SIGTERM): no new write starts.

    A BaseException, like KeyboardInterrupt, so no ``except Exception`` swallows it. Raised by map()
    with what it knows: ``work`` (the function it ran), ``completed`` ([(item, result or exception)]
    for the items answered) and ``in_flight`` (items sent but not answered within IN_FLIGHT_GRACE_S).
    """

    def __init__(self, signal_name, work=None, completed=(), in_flight=()):
        super(Interrupted, self).__init__('interrupted by %s' % signal_name)
        self.signal_name = signal_name
        self.work = work
        self.completed = list(completed)
        self.in_flight = list(in_flight)


def interrupt_signal(exc):
    """The signal an interrupt came from: an Interrupted says; a KeyboardInterrupt is SIGINT."""
    return getattr(exc, 'signal_name', None) or signal.Signals.SIGINT.name


class Call:
    """One API call.

    action: the API action name (rate limits, errors, logs).
    build: function() -> dict(method, url, headers, data) of a freshly signed
        request; called again for each attempt, so timestamps stay fresh.
    parse: function(requests.Response) -> data, raising ProviderError.
    write: True if the call changes state.
    idempotent: True if sending the same request again is safe even after it may have been
        applied (a write carrying an idempotency token that build() re-sends unchanged): such a
        write is retried like a read.
    awaits_in_progress: True if the caller waits out an "in progress" answer itself (it can read
        what is busy and for how long): the transport then does not retry it blindly.
    """

    def __init__(self, action, build, parse, write=False, idempotent=False, awaits_in_progress=False):
        self.action = action
        self.build = build
        self.parse = parse
        self.write = write
        self.idempotent = idempotent
        self.awaits_in_progress = awaits_in_progress


Ticket = collections.namedtuple('Ticket', 'start epoch')
Ticket.__doc__ = """What RateLimiter.acquire() hands out: when the request may start, and the congestion epoch it was
reserved in (a throttling answer cuts the rate only when no cut came after its reservation)."""


def _new_state():
    # starts: the reserved start times of the last window, ascending; epoch: the cuts so far; cut_rate, cut_at, slope:
    # the rate just after the last cut, when, and how fast it climbs back; paused_until: a Retry-After's end.
    return {'starts': [], 'epoch': 0, 'cut_rate': None, 'cut_at': None, 'slope': None, 'paused_until': 0.0}


class LocalLimits:
    """The limiter's state in this process only."""

    def __init__(self):
        self.lock = threading.Lock()
        self.actions = {}

    @contextlib.contextmanager
    def state(self, action, now):  # pylint: disable=unused-argument
        with self.lock:
            yield self.actions.setdefault(action, _new_state())


class SharedLimits:
    """The limiter's state in a file every process of this machine with the same account and endpoint uses, so that
    k processes keep one window together instead of k windows (the forks of a play, playbooks run at once).

    The file (under a directory only this user can use) is locked with flock for each change: a crashed process leaves
    no lock, and its reservations expire within seconds. Times are the monotonic clock, which every process of a boot
    shares; a file from an earlier boot is ignored. Any failure to use the file falls back to this process's own state
    (``failed`` says why), never to an error.
    """

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.local = LocalLimits()
        self.failed = None
        self.boot = _boot_id()

    @contextlib.contextmanager
    def state(self, action, now):
        with self.lock:
            fd, actions = self._open()
            if fd is None:
                with self.local.state(action, now) as state:
                    yield state
                return
            try:
                state = _valid_state(actions.get(action), now)
                yield state
                actions[action] = state
                for name in list(actions):
                    if _expired(actions[name], now):
                        del actions[name]
                data = json.dumps({'boot': self.boot, 'actions': actions}, separators=(',', ':')).encode('ascii')
                os.lseek(fd, 0, os.SEEK_SET)
                os.ftruncate(fd, 0)
                os.write(fd, data)
            except OSError as exc:
                self.failed = 'cannot write %s: %s' % (self.path, exc)
            finally:
                os.close(fd)        # also releases the lock

    def _open(self):
        """(the locked file's descriptor, its actions), or (None, None) once it cannot be used."""
        if self.failed:
            return None, None
        if fcntl is None:
            self.failed = 'no fcntl on this system'
            return None, None
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0), 0o600)
        except OSError as exc:
            self.failed = 'cannot open %s: %s' % (self.path, exc)
            return None, None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return fd, self._read(fd)
        except OSError as exc:
            os.close(fd)
            self.failed = 'cannot read %s: %s' % (self.path, exc)
            return None, None

    def _read(self, fd):
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        try:
            doc = json.loads(b''.join(chunks).decode('ascii'))
        except ValueError:
            return {}       # empty, or cut short by a crash while writing: at most one window's history lost
        if not isinstance(doc, dict) or doc.get('boot') != self.boot or not isinstance(doc.get('actions'), dict):
            return {}
        return doc['actions']


def _boot_id():
    try:
        with open('/proc/sys/kernel/random/boot_id') as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return ''


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else None


def _valid_state(raw, now):
    """A state read from the file, with anything malformed, expired or implausibly far ahead dropped."""
    state = _new_state()
    if not isinstance(raw, dict):
        return state
    horizon = now + RateLimiter.MAX_AHEAD
    starts = raw.get('starts')
    if isinstance(starts, list):
        starts = sorted(s for s in (_number(v) for v in starts) if s is not None and now - RateLimiter.MAX_AHEAD < s <= horizon)
        state['starts'] = [s for s in starts[:-1] if s > now - RateLimiter.MAX_WINDOW] + starts[-1:]
    epoch = raw.get('epoch')
    state['epoch'] = epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else 0
    cut_rate, cut_at, slope = _number(raw.get('cut_rate')), _number(raw.get('cut_at')), _number(raw.get('slope'))
    if cut_rate and cut_rate > 0 and cut_at is not None and cut_at <= now and slope and slope > 0:
        state.update(cut_rate=cut_rate, cut_at=cut_at, slope=slope)
    paused = _number(raw.get('paused_until'))
    if paused is not None and now < paused <= horizon:
        state['paused_until'] = paused
    return state


def _expired(state, now):
    """Nothing in it matters any more: no start in the window, no pause, the rate back at the top long ago."""
    return (not state['starts'][-1:] > [now - RateLimiter.MAX_AHEAD] and state['paused_until'] <= now
            and (state['cut_at'] is None or now - state['cut_at'] > RateLimiter.FORGET_CUT_S))


def shared_limits_path(provider, key_id, region=None, endpoint=None, directory=None):
    """The coordination file of one account (by its access key ID) and endpoint on this machine, and None with a reason
    when there is none. The file name is a SHA-256 of them: it holds no key, and nothing secret is ever written."""
    if not key_id:
        return None, 'no access key ID to share the rate limits by'
    base = directory or tempfile.gettempdir()
    folder = os.path.join(base, 'multicloud.secgroup-limits-%d' % os.getuid())
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        return None, 'cannot create %s: %s' % (folder, exc)
    try:
        info = os.lstat(folder)
    except OSError as exc:
        return None, 'cannot use %s: %s' % (folder, exc)
    # Someone else's directory, or one others may write to, could hold a file that stalls or misleads the limiter.
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None, '%s is not a private directory of this user' % folder
    name = hashlib.sha256('\0'.join((provider, key_id, region or '', endpoint or '')).encode('utf-8')).hexdigest()
    return os.path.join(folder, name[:40] + '.json'), None


class RateLimiter:
    """Sliding window per action, shared by every worker of a run (and, with SharedLimits, by every process of the
    machine using the same account and endpoint), and adaptive.

    At most floor(rate) calls of an action start in any WINDOW (one second, plus SLACK for the network's jitter), or
    one call per 1 / rate seconds below 1/s: safe under a server that counts its limit as a token bucket, a fixed
    window aligned anywhere or a sliding window, and the first second's calls go at once. Reservations are made in
    order, so a waiting caller's slot is kept.

    An action starts at its published rate, else at default_rate (None: unlimited). A throttling answer cuts the rate
    for every worker to DECREASE times the current rate (the rate measured over the last window when unlimited), once
    per congestion: an answer to a request reserved before the last cut is the same congestion. The rate then climbs
    back in a straight line, reaching the top RECOVERY_S seconds after a cut (from the rate measured, for an unlimited
    action, then on without end). The top: the published rate or the user's ceiling, else default_rate. A Retry-After
    pauses every worker of the action until it ends. Clock and sleep are injectable.
    """

    WINDOW = 1.0
    # Starts of two windows one second apart reach the server a few milliseconds closer together or further apart.
    SLACK = 0.02
    DECREASE = 0.7
    # Back to the top within seconds: the old +1% per success needed hundreds of calls at the floor after a burst
    # (measured: Baidu per-instance, 200 binds, 12 throttles took 9.4x as long as the limit allows).
    RECOVERY_S = 5.0
    FLOOR = 0.5                         # calls per second: the rate never goes below this
    MAX_WINDOW = 1.0 / FLOOR + SLACK    # the longest window: starts older than this no longer count
    MAX_AHEAD = 300.0                   # seconds: a start or pause further ahead in a shared file is not believed,
    #                                     and an action's last start is forgotten this long after
    FORGET_CUT_S = 60.0

    def __init__(self, rates, default_rate=None, ceiling=None, clock=time.monotonic, sleep=time.sleep, store=None):
        self.published = dict(rates)
        self.default_rate = default_rate
        self.ceiling = ceiling
        self.clock = clock
        self.sleep = sleep
        self.store = store or LocalLimits()

    def share(self, store):
        """Keep the state in store (a SharedLimits) from now on."""
        self.store = store

    def top(self, action):
        limits = [r for r in (self.published.get(action), self.ceiling) if r]
        return min(limits) if limits else self.default_rate

    def _rate(self, state, action, now):
        top = self.top(action)
        if state['cut_rate'] is None:
            return top
        climbed = state['cut_rate'] + state['slope'] * max(0.0, now - state['cut_at'])
        return min(climbed, top) if top else climbed

    def rate(self, action):
        now = self.clock()
        with self.store.state(action, now) as state:
            return self._rate(state, action, now)

    def slots(self, rate):
        """(calls, seconds): at most that many starts in any window of that length."""
        if rate >= 1:
            return int(math.floor(rate + 1e-9)), self.WINDOW + self.SLACK
        return 1, 1.0 / rate + self.SLACK

    def _reserve(self, action, now):
        with self.store.state(action, now) as state:
            rate = self._rate(state, action, now)
            starts = state['starts']
            start = max([now, state['paused_until']] + starts[-1:])
            if rate:
                calls, seconds = self.slots(rate)
                if len(starts) >= calls:
                    start = max(start, starts[-calls] + seconds)
            starts.append(start)
            # The newest start stays whatever its age: below the floor (a low rate_limit) the window is longer.
            while len(starts) > 1 and starts[0] <= now - self.MAX_WINDOW:
                starts.pop(0)
            return Ticket(start, state['epoch'])

    def acquire(self, action):
        """Wait for the action's next slot; return its Ticket (for throttled())."""
        while True:
            now = self.clock()
            ticket = self._reserve(action, now)
            if ticket.start <= now:
                return ticket
            self.sleep(ticket.start - now)
            # A Retry-After that came while this caller waited holds it too.
            with self.store.state(action, self.clock()) as state:
                if state['paused_until'] <= ticket.start:
                    return ticket

    def throttled(self, action, ticket, retry_after=None):
        """A throttling answer to the request of ticket; retry_after: the seconds the cloud asked every caller to wait."""
        now = self.clock()
        with self.store.state(action, now) as state:
            if retry_after:
                state['paused_until'] = max(state['paused_until'], now + retry_after)
            if ticket.epoch != state['epoch']:
                return      # reserved before the last cut: the same congestion, already accounted for
            rate = self._rate(state, action, now)
            if not rate:
                # Unlimited so far: cut from the rate measured over the last window.
                rate = max(1, len([s for s in state['starts'] if now - self.WINDOW <= s <= now]))
            top = self.top(action)
            cut = max(min(self.FLOOR, top or self.FLOOR), self.DECREASE * rate)
            state.update(cut_rate=cut, cut_at=now, epoch=state['epoch'] + 1,
                         slope=max(self.FLOOR, (top or rate) - cut) / self.RECOVERY_S)


class Backoff:
    """Full-jitter exponential backoff: sleep uniform(0, min(cap, base * 2**attempt))."""

    def __init__(self, base=0.5, cap=20.0, rand=random.random):
        self.base = base
        self.cap = cap
        self.rand = rand

    def delay(self, attempt):
        return self.rand() * min(self.cap, self.base * (2 ** attempt))


class Transport:
    """Sends Calls over one keep-alive session.

    secrets: strings that must never appear in an error message; any that do
    are replaced, so a provider echoing a header back cannot leak a key.
    stop: an Event; once set, no write is sent any more (map() sets it on an interrupt), and the
    default sleep (retry backoff, rate limiter) ends at once.
    credentials: a _credentials.RefreshingCredentials the providers sign with (set by the engine), or None. An answer
    classed AUTH_EXPIRED renews them once and sends that request once more.
    connections: the keep-alive connections kept per host (the module's max_concurrency); requests' 10 when None.
    """

    def __init__(self, provider, timeout=30, validate_certs=True, max_retries=8, backoff=None,
                 rate_limits=None, default_rate=None, rate_ceiling=None, secrets=(), session=None,
                 sleep=None, clock=time.monotonic, connections=None):
        self.stop = threading.Event()
        self.local = threading.local()      # per map() worker: the writes its current item has sent
        sleep = sleep or self.stop.wait
        self.provider = provider
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.max_retries = max_retries
        self.backoff = backoff or Backoff()
        self.sleep = sleep
        self.limiter = RateLimiter(rate_limits or {}, default_rate, rate_ceiling, clock=clock, sleep=sleep)
        # The caller's own list when it gives one: secrets fetched later (temporary credentials) are appended to it.
        self.secrets = secrets if isinstance(secrets, list) else [s for s in secrets if s]
        self.credentials = None
        self.session = session if session is not None else requests.Session()
        if session is None and connections:
            # requests keeps 10 connections per host: more concurrent calls would each open a new one (a TLS handshake).
            for prefix in ('https://', 'http://'):
                self.session.mount(prefix, requests.adapters.HTTPAdapter(pool_maxsize=connections))
        self.stats = {'calls': 0, 'attempts': 0, 'retries': 0}
        self.stats_lock = threading.Lock()
        self.notes = []     # for the module's debug log: see limit_notes()

    def share_limits(self, key_id, region=None, endpoint=None, directory=None):
        """Keep the rate limits together with every other process of this machine using the same access key ID and
        region or endpoint (a file in the temporary directory); where that is not possible, this run keeps its own,
        with a note saying why."""
        path, problem = shared_limits_path(self.provider, key_id, region, endpoint, directory)
        if path is None:
            self.notes.append('rate limits kept by this process only: %s' % problem)
            return None
        store = SharedLimits(path)
        self.limiter.share(store)
        return store

    def limit_notes(self):
        """Why the rate limits were not shared with other processes, if they were not (for a debug log)."""
        failed = getattr(self.limiter.store, 'failed', None)
        return self.notes + (['rate limits kept by this process only from then on: %s' % failed] if failed else [])

    def redact(self, text):
        return redact_text('%s' % (text,), self.secrets)

    def _count(self, key):
        with self.stats_lock:
            self.stats[key] += 1

    def _send(self, call):
        ticket = self.limiter.acquire(call.action)
        if self.stopped(call):
            raise ProviderError(self.provider, call.action, 'Interrupted', 'not sent: the run was interrupted', error_class=STOPPED)
        if call.write:
            self.local.writes = getattr(self.local, 'writes', 0) + 1
        req = call.build()
        self._count('attempts')
        try:
            resp = self.session.request(req['method'], req['url'], headers=req.get('headers'), data=req.get('data'),
                                        timeout=self.timeout, verify=self.validate_certs, allow_redirects=False)
        except requests.exceptions.RequestException as exc:
            raise self.network_error(call, req, exc)
        try:
            data = call.parse(resp)
        except ProviderError as exc:
            exc.message = self.redact(exc.message)
            exc.args = (self.redact(exc.args[0]),)
            if exc.error_class == THROTTLED:
                self.limiter.throttled(call.action, ticket, min(exc.retry_after, self.backoff.cap) if exc.retry_after else None)
            raise
        except requests.exceptions.RequestException as exc:
            # Reading the answer failed (a body streamed by parse): the request itself went out.
            raise self.network_error(call, req, exc)
        return data

    def network_error(self, call, req, exc):
        """The ProviderError of a request that got no complete answer, classed by whether it may have been sent."""
        chain = exception_chain(exc)
        host = urlsplit(req['url']).hostname
        if isinstance(exc, requests.exceptions.SSLError) and (MaxRetryError is None or any(isinstance(e, MaxRetryError) for e in chain)):
            # The handshake failed (urllib3 gave up on the connection), so nothing was sent: not worth a retry, and
            # not an unknown write. An SSLError while reading the answer's body came after the request: below.
            return ProviderError(self.provider, call.action, 'TLSError',
                                 'the TLS connection to %s failed, nothing was sent: %s. If the endpoint has a certificate from '
                                 'a private CA, point the REQUESTS_CA_BUNDLE environment variable at that CA\'s bundle; an '
                                 'http:// endpoint must not be given as https://; validate_certs=false turns verification '
                                 'off (not recommended)' % (req['url'], self.redact(exc)), error_class=TLS)
        if any(isinstance(e, socket.gaierror) or (NameResolutionError is not None and isinstance(e, NameResolutionError)) for e in chain):
            return ProviderError(self.provider, call.action, 'NameResolutionError',
                                 'the host name %s does not resolve, nothing was sent (%s); check the region and endpoint '
                                 'options, and the DNS settings of the host running the task' % (host, self.redact(exc)),
                                 error_class=UNSENT, retry_limit=NAME_RESOLUTION_RETRIES)
        if isinstance(exc, requests.exceptions.ConnectTimeout) or any(
                isinstance(e, ConnectionRefusedError) or (NewConnectionError is not None and isinstance(e, NewConnectionError)) for e in chain):
            return ProviderError(self.provider, call.action, 'ConnectionError',
                                 'could not connect to %s, nothing was sent: %s' % (host, self.redact(exc)), error_class=UNSENT)
        if isinstance(exc, tuple(getattr(requests.exceptions, name) for name in PREPARE_ERRORS if hasattr(requests.exceptions, name))):
            return ProviderError(self.provider, call.action, 'RequestError', self.redact(exc), error_class=INVALID)
        if isinstance(exc, requests.exceptions.Timeout):
            return ProviderError(self.provider, call.action, 'Timeout',
                                 'no answer within %s seconds: %s' % (self.timeout, self.redact(exc)), error_class=AMBIGUOUS)
        # Anything else broke the exchange after the request may have been sent: a dropped connection, an
        # answer cut short (requests' ChunkedEncodingError, IncompleteRead) or not decodable. It may have been applied.
        return ProviderError(self.provider, call.action, 'ConnectionError',
                             'the connection to %s broke before a complete answer, the request may have been applied: %s'
                             % (host, self.redact(exc)), error_class=AMBIGUOUS)

    def renew(self, error):
        """Renew the credentials after an "expired" answer: True to send the request again; False (the same
        credentials came back) leaves the error as it is; a failed renewal is added to the error's message."""
        try:
            return self.credentials.renew()
        except ProviderError as exc:
            reason = '%s %s failed: %s: %s' % (exc.provider, exc.action, exc.code, exc.message)
        except Exception as exc:  # pylint: disable=broad-except
            # CredentialsNotFound / CredentialsError: _credentials imports nothing of this module, nor this of it.
            reason = '%s' % exc
        error.message = self.redact('%s; renewing the credentials failed: %s' % (error.message, reason))
        error.args = (self.redact('%s; renewing the credentials failed: %s' % (error.args[0], reason)),)
        return False

    def retryable(self, call, error):
        if error.error_class == IN_PROGRESS and call.awaits_in_progress:
            return False
        if error.error_class in RETRY_ALWAYS:
            return True
        return (not call.write or call.idempotent) and error.error_class in RETRY_READS

    def call(self, call):
        """Send a Call, retrying what is safe to retry; return parse()'s result."""
        self._count('calls')
        attempt = 0
        renewed = False
        while True:
            try:
                return self._send(call)
            except ProviderError as error:
                if error.error_class == AUTH_EXPIRED and self.credentials is not None and not renewed:
                    renewed = True
                    if self.renew(error):
                        continue
                    raise
                limit = self.max_retries if error.retry_limit is None else min(self.max_retries, error.retry_limit)
                if attempt >= limit or not self.retryable(call, error) or self.stopped(call):
                    raise
                self._count('retries')
                self.sleep(max(self.backoff.delay(attempt), min(error.retry_after or 0, self.backoff.cap)))
                if self.stopped(call):
                    raise       # stopped while pausing: the last answer says whether the write may have happened
                attempt += 1

    def stopped(self, call):
        """A write must not be sent: the run was interrupted."""
        return call.write and self.stop.is_set()

    def map(self, func, items, max_workers):
        """func(item) for every item on at most max_workers threads; results in order.

        Every item is attempted; exceptions are returned in place of results so
        the caller knows exactly which items succeeded. An interrupt of the waiting
        (KeyboardInterrupt, Interrupted) stops the workers before their next item and
        sets the stop flag (no write is sent any more); the items in flight are
        awaited for IN_FLIGHT_GRACE_S, then Interrupted says which items were
        answered and which are still in flight.
        The workers are daemon threads: the process can exit without them.
        """
        items = list(items)
        results = [None] * len(items)
        if not items:
            return results
        index = {'next': 0}
        halt = threading.Event()     # this map's items only: a map run later (a read back) still works
        started = set()
        finished = set()
        lock = threading.Lock()

        def worker():
            while not halt.is_set():
                with lock:
                    pos = index['next']
                    index['next'] += 1
                    if pos >= len(items):
                        return
                    started.add(pos)
                self.local.writes = 0
                try:
                    results[pos] = func(items[pos])
                except Exception as exc:  # pylint: disable=broad-except
                    if isinstance(exc, ProviderError) and exc.error_class == STOPPED and self.local.writes:
                        exc.error_class = AMBIGUOUS     # stopped after some of the item's writes were sent
                    results[pos] = exc
                with lock:
                    finished.add(pos)

        threads = [threading.Thread(target=worker) for dummy in range(max(1, min(max_workers, len(items))))]
        try:
            for thread in threads:
                thread.daemon = True
                thread.start()
            for thread in threads:
                thread.join()
        except (KeyboardInterrupt, Interrupted) as exc:
            halt.set()
            self.stop.set()
            self._await(threads, IN_FLIGHT_GRACE_S)
            with lock:
                completed = [(items[pos], results[pos]) for pos in sorted(finished)]
                in_flight = [items[pos] for pos in sorted(started - finished)]
            raise Interrupted(interrupt_signal(exc), func, completed, in_flight)
        return results

    @staticmethod
    def _await(threads, seconds):
        """Join the threads for at most seconds in all; a second interrupt ends the wait early."""
        deadline = time.monotonic() + seconds
        try:
            for thread in threads:
                if thread.ident is not None:        # the interrupt may have come before every thread was started
                    thread.join(max(0.0, deadline - time.monotonic()))
        except (KeyboardInterrupt, Interrupted):
            pass

    def stream(self, func, max_workers):
        """A Stream: func(item) for items submitted while it runs, on at most max_workers threads."""
        return Stream(self, func, max_workers)

    def close(self):
        self.session.close()


class Stream:
    """func(item) for each item submitted, on at most max_workers threads, the answers taken one by one in the
    order they come: the caller submits more while earlier items are in flight (map() takes a fixed list).

    submit(item, priority, lane); next() -> (item, result or exception), blocking; ack() once that answer is recorded.
    A free worker serves the lane with the fewest items running (lanes: calls with rate limits of their own, so that
    workers waiting on one limit do not starve another), and in it the item of lowest priority, then the earliest;
    outstanding() counts the items submitted and not yet acknowledged. interrupt(exc) does what map() does on
    an interrupt: no item starts any more, the stop flag is set, the items in flight are awaited for
    IN_FLIGHT_GRACE_S, and Interrupted lists the answers not yet acknowledged (completed) and the items still in
    flight; the items never started are in neither. close() lets the workers end. Daemon threads.
    """

    def __init__(self, transport, func, max_workers):
        self.transport = transport
        self.func = func
        self.max_workers = max(1, max_workers)
        self.cond = threading.Condition()
        self.lanes = {}                        # lane -> heap of (priority, sequence, item): submitted, not started
        self.busy = {}                         # lane -> items running
        self.answers = collections.deque()     # (item, result), not yet taken by next()
        self.taken = None                      # the answer next() returned, until ack()
        self.running = []                      # items started, not answered
        self.threads = []
        self.idle = 0
        self.count = 0
        self.submitted = 0
        self.halt = False
        self.closed = False

    def submit(self, item, priority=0, lane=None):
        with self.cond:
            self.submitted += 1
            heapq.heappush(self.lanes.setdefault(lane, []), (priority, self.submitted, item))
            self.count += 1
            if self.idle == 0 and len(self.threads) < self.max_workers:
                thread = threading.Thread(target=self._worker)
                thread.daemon = True
                self.threads.append(thread)
                thread.start()
            self.cond.notify()

    def _worker(self):
        while True:
            with self.cond:
                self.idle += 1
                while not self._waiting() and not self.halt and not self.closed:
                    self.cond.wait()
                self.idle -= 1
                if self.halt or not self._waiting():
                    return
                lane = min((lane for lane, heap in self.lanes.items() if heap), key=lambda k: (self.busy.get(k, 0), self.lanes[k][0][:2]))
                item = heapq.heappop(self.lanes[lane])[2]
                self.busy[lane] = self.busy.get(lane, 0) + 1
                self.running.append(item)
            self.transport.local.writes = 0
            try:
                result = self.func(item)
            except Exception as exc:  # pylint: disable=broad-except
                if isinstance(exc, ProviderError) and exc.error_class == STOPPED and self.transport.local.writes:
                    exc.error_class = AMBIGUOUS     # stopped after some of the item's writes were sent
                result = exc
            with self.cond:
                self.running.remove(item)
                self.busy[lane] -= 1
                self.answers.append((item, result))
                self.cond.notify_all()

    def _waiting(self):
        return any(self.lanes.values())

    def outstanding(self):
        return self.count

    def next(self):
        with self.cond:
            while not self.answers:
                self.cond.wait(0.5)     # a timeout, so that a signal's handler runs in the waiting main thread
            self.taken = self.answers.popleft()
            return self.taken

    def ack(self):
        with self.cond:
            self.taken = None
            self.count -= 1

    def interrupt(self, exc):
        with self.cond:
            self.halt = True
            self.lanes.clear()
            self.cond.notify_all()
        self.transport.stop.set()
        Transport._await(self.threads, IN_FLIGHT_GRACE_S)
        with self.cond:
            completed = ([self.taken] if self.taken is not None else []) + list(self.answers)
            in_flight = list(self.running)
        raise Interrupted(interrupt_signal(exc), self.func, completed, in_flight)

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()
