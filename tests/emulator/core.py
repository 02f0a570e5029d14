# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared core of the local cloud emulator.

One HTTP server per cloud plus an admin server, all on loopback. The core owns
what every cloud has in common: the request log, settings, fault injection,
rate limiting, latency, the server plumbing, the generic seed checks and the
API error exception. Each cloud module (one file per cloud) subclasses
:class:`Cloud` and owns its routing, signature checks, state model, envelopes
and error codes. Standard library only.
"""

import copy
import json
import random
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLOUD_NAMES = ('tencentcloud', 'alicloud', 'baiducloud', 'zenlayer')

FAULT_KINDS = (
    'throttle',          # the cloud's own throttling error (code and status)
    'server_error',      # the cloud's own transient server error
    'in_progress',       # the cloud's "operation in progress" error
    'reset',             # connection reset before the request is processed
    'commit_then_drop',  # the request is processed, then the connection is closed unanswered
    'truncate',          # the request is processed, then the answer is cut short (headers, part of the body) and the connection closed
    'latency',           # extra latency (latency_ms) before processing
)

GLOBAL_SETTINGS = {
    'latency_ms': 0,              # added to every API request
    'enforce_rate_limits': False,  # token buckets at each cloud's documented limits
    'clock_offset_s': 0,          # the emulator's clock = real time + offset
    'record_history': False,      # keep a state-change history and each request's targets (costs a state copy per request)
    'throttle_retry_after_s': None,  # seconds sent as Retry-After on a throttling answer that is an HTTP 429
}


class Request(object):
    """An HTTP request as received, raw enough to verify signatures."""

    def __init__(self, method, target, headers, body, client):
        self.method = method
        self.target = target              # path plus query exactly as sent
        parts = urllib.parse.urlsplit(target)
        self.path = parts.path            # still percent-encoded
        self.query = parts.query          # raw query string
        self.headers = headers            # email.message.Message: case-insensitive get()
        self.body = body                  # raw bytes
        self.client = client
        self.access_key = None            # set by the cloud's authenticate: whose policy applies

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def query_pairs(self):
        """Decoded (key, value) pairs; a key without '=' has value None."""
        pairs = []
        for item in self.query.split('&') if self.query else []:
            if '=' in item:
                key, value = item.split('=', 1)
                pairs.append((urllib.parse.unquote_plus(key), urllib.parse.unquote_plus(value)))
            else:
                pairs.append((urllib.parse.unquote_plus(item), None))
        return pairs

    def json(self):
        """The body parsed as JSON; raises ValueError when it is not."""
        return json.loads(self.body.decode('utf-8') if self.body else 'null')


class Response(object):
    """What a cloud answers. ``error_code`` and ``request_id`` feed the request log."""

    def __init__(self, status=200, body=b'', content_type=None, headers=None,
                 error_code=None, request_id=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode('utf-8')
        self.headers = dict(headers or {})
        if content_type is not None:
            self.headers['Content-Type'] = content_type
        self.error_code = error_code
        self.request_id = request_id

    @classmethod
    def json(cls, status, obj, content_type='application/json', **kwargs):
        return cls(status, json.dumps(obj), content_type=content_type, **kwargs)


class ApiError(Exception):
    """A cloud API error: HTTP status, the cloud's error code and its message."""

    def __init__(self, status, code, message):
        super(ApiError, self).__init__(message)
        self.status = status
        self.code = code
        self.message = message


class Drop(Exception):
    """Close the connection without answering (reset=True sends a TCP RST)."""

    def __init__(self, reset=False):
        super(Drop, self).__init__('drop')
        self.reset = reset


class Truncate(Exception):
    """Send the response's status and headers with a Content-Length larger than what follows: the
    first half of the body (nothing, for an empty one), then close the connection."""

    MISSING_BYTES = 16      # announced but never sent

    def __init__(self, response):
        super(Truncate, self).__init__('truncate')
        self.response = response


class SettingsError(ValueError):
    """A bad seed, setting or fault: the admin API answers it with a 400."""


def check_entry(entry, where, required, optional=(), strings=(), string_lists=()):
    """Check the keys of one seed entry (a mapping; see ``Cloud.seed_entries``).

    ``required`` keys must be non-empty strings; ``strings`` and ``string_lists`` are optional keys
    that must be a string / a list of strings when present; ``optional`` keys may hold anything.
    """
    unknown = set(entry) - set(required) - set(optional) - set(strings) - set(string_lists)
    if unknown:
        raise SettingsError('%s: unknown key(s) %s' % (where, ', '.join(sorted(unknown))))
    for key in required:
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise SettingsError('%s: %s must be a non-empty string' % (where, key))
    for key in strings:
        if key in entry and not isinstance(entry[key], str):
            raise SettingsError('%s: %s must be a string' % (where, key))
    for key in string_lists:
        if key in entry and (not isinstance(entry[key], list) or not all(isinstance(i, str) for i in entry[key])):
            raise SettingsError('%s: %s must be a list of strings' % (where, key))


class Grants(object):
    """What a policy allows: action patterns (``*`` any run of characters, ``?`` one), an explicit deny winning over
    any allow, anything not allowed denied (the implicit deny of CAM, RAM and IAM alike)."""

    def __init__(self, allow, deny=()):
        self.allow = [self._compile(p) for p in allow]
        self.deny = [self._compile(p) for p in deny]

    @staticmethod
    def _compile(pattern):
        regex = ''.join('.*' if c == '*' else '.' if c == '?' else re.escape(c) for c in pattern)
        return re.compile('^%s$' % regex)

    def denies(self, permission):
        """An explicit deny."""
        return any(p.match(permission) for p in self.deny)

    def allows(self, permission):
        return not self.denies(permission) and any(p.match(permission) for p in self.allow)


def load_policy(value, where):
    """A credential's ``policy``: the document itself (a mapping), or the path of a JSON file holding it."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value:
        raise SettingsError('%s: policy must be a policy document (a mapping) or the path of a JSON file' % where)
    try:
        with open(value, 'rb') as handle:
            doc = json.loads(handle.read().decode('utf-8'))
    except (OSError, ValueError) as exc:
        raise SettingsError('%s: policy file %s cannot be read as JSON: %s' % (where, value, exc))
    if not isinstance(doc, dict):
        raise SettingsError('%s: policy file %s does not hold a JSON object' % (where, value))
    return doc


class Cloud(object):
    """Base class of one emulated cloud. Subclasses fill in the blanks.

    Every method runs with the emulator lock held, except ``identify``.
    """

    name = None
    default_settings = {}   # the cloud's own settings: documented in docs/emulator.md
    rate_limits = {}        # action -> requests per second, from the cloud's docs
    write_actions = ()      # actions that change state (for the log and commit_then_drop)

    def __init__(self, emulator):
        self.emulator = emulator
        self.settings = copy.deepcopy(self.default_settings)
        self.delayed = []          # [(when, change)]: writes accepted, applied later (write_apply_delay_s)
        self.answers = 0           # Describe answers so far: varies a shuffled group order between reads
        self.reset()

    # -- state ------------------------------------------------------------
    def reset(self):
        raise NotImplementedError

    def seed(self, data):
        """Replace this cloud's state with the seed document's section."""
        raise NotImplementedError

    def snapshot(self):
        """The state as JSON-able data for GET /state."""
        raise NotImplementedError

    # -- requests ---------------------------------------------------------
    def identify(self, request):
        """The action name of a request (used for faults, limits and the log)."""
        raise NotImplementedError

    def authenticate(self, request, action):
        """None when the request is authentic, else the cloud's auth error Response."""
        raise NotImplementedError

    def dispatch(self, request, action):
        """Process an authenticated request and return a Response."""
        raise NotImplementedError

    # -- policies: a seeded credential's ``policy`` limits what its requests may do ----------------
    def parse_policy(self, doc, where):
        """The Grants of a policy document in the cloud's own syntax; SettingsError naming ``where`` if malformed."""
        raise SettingsError('%s: %s has no policy format in this emulator' % (where, self.name))

    def permission(self, request, action):
        """The action name the cloud's policies use for this request (e.g. ``cvm:DescribeInstances``), or None when
        the request needs no permission."""
        return None

    def denied(self, request, action, permission):
        """The cloud's own answer to a request its credential's policy does not allow."""
        raise NotImplementedError

    def authorize(self, request, action):
        """None when the request's credential has no policy or its policy allows the request, else ``denied``."""
        cred = self.credentials.get(request.access_key) if request.access_key else None
        if not cred or cred.get('policy') is None:
            return None
        permission = self.permission(request, action)
        if permission is None or self.parse_policy(cred['policy'], 'policy').allows(permission):
            return None
        return self.denied(request, action, permission)

    def fault_response(self, kind, request, action):
        """The cloud's own Response for a 'throttle', 'server_error' or 'in_progress' fault."""
        raise NotImplementedError

    # The instance metadata service (instance roles), on a port of its own (``<cloud>_metadata`` in the endpoints) when a
    # cloud defines it: ``metadata(request)`` returns the Response, with the emulator lock held. None: the cloud has none.
    metadata = None

    def now(self):
        return self.emulator.now()

    def apply_later(self, change):
        """Run change() now, or, with the cloud's ``write_apply_delay_s`` > 0, that many seconds later: the write
        is accepted (answered) at once and takes effect later. [inferred] The clouds with this setting say changes
        "take effect shortly" and publish no bound; the checks of later writes see the state without it."""
        delay = float(self.settings.get('write_apply_delay_s') or 0)
        if delay <= 0:
            change()
        else:
            self.delayed.append((self.now() + delay, change))

    def apply_due(self):
        """Apply the delayed writes that are due, in the order they were accepted (before every request)."""
        now = self.now()
        due = [change for when, change in self.delayed if when <= now]
        self.delayed = [(when, change) for when, change in self.delayed if when > now]
        for change in due:
            change()

    def shown_order(self, groups):
        """A target's groups in the order its Describe answers show them: ``group_order`` ``keep`` (as stored),
        ``reverse``, or ``shuffle`` (seeded by ``group_order_seed``, and different from one answer to the next).
        [inferred] On the clouds with this setting the order means nothing, and their docs do not say it is kept."""
        order = self.settings.get('group_order', 'keep')
        groups = list(groups)
        if order == 'reverse':
            return groups[::-1]
        if order == 'shuffle':
            self.answers += 1
            random.Random('%s:%d' % (self.settings.get('group_order_seed', 0), self.answers)).shuffle(groups)
            return groups
        if order != 'keep':
            raise ApiError(500, 'InternalError', 'Emulator setting %s.group_order must be keep, reverse or shuffle, not %r.'
                           % (self.name, order))
        return groups

    def group_lists(self):
        """{target id: its true security-group list} of every instance and ENI (for the state history)."""
        state = self.snapshot()
        return dict((item['id'], list(item.get('security_groups') or []))
                    for key in ('instances', 'network_interfaces') for item in state.get(key) or [])

    def describe_request(self, request, action):
        """What a request is about, for the request log with ``record_history``: ``{'targets': [ids]}``
        for a read of named targets (None: a listing), plus ``bind`` / ``unbind`` / ``set`` (group ids)
        for a write. The default knows nothing."""
        return None

    def policy(self, setting, error_code):
        """The value of a ``"noop"`` | ``"error"`` setting; any other value is an HTTP 500 ``error_code``."""
        value = self.settings[setting]
        if value not in ('noop', 'error'):
            raise ApiError(500, error_code, 'Emulator setting %s.%s must be "noop" or "error", not %r.' % (self.name, setting, value))
        return value

    # -- seed validation: messages name the cloud and the entry -------------
    def seed_section(self, data, keys):
        """Check this cloud's seed section: a mapping whose keys are among ``keys``."""
        if not isinstance(data, dict):
            raise SettingsError('%s: the seed section must be a mapping' % self.name)
        unknown = set(data) - set(keys)
        if unknown:
            raise SettingsError('%s: unknown seed key(s): %s' % (self.name, ', '.join(sorted(unknown))))

    def seed_entries(self, data, key):
        """[(where, entry)] of the list of mappings ``data[key]``; ``where`` is e.g. "alicloud instances[2]"."""
        entries = data.get(key) or []
        if not isinstance(entries, list):
            raise SettingsError('%s: %s must be a list of mappings' % (self.name, key))
        out = []
        for index, entry in enumerate(entries):
            where = '%s %s[%d]' % (self.name, key, index)
            if not isinstance(entry, dict):
                raise SettingsError('%s must be a mapping' % where)
            out.append((where, entry))
        return out

    def seed_credentials(self, data):
        """``credentials: [{access_key, secret_key, security_token?, policy?}]`` as access key -> a copy of its entry;
        a ``policy`` (a document in the cloud's syntax, or a JSON file's path) is checked and kept as the document."""
        credentials = {}
        for where, entry in self.seed_entries(data, 'credentials'):
            check_entry(entry, where, ('access_key', 'secret_key'), ('security_token', 'policy'))
            if entry.get('security_token') is not None and not isinstance(entry['security_token'], str):
                raise SettingsError('%s: security_token must be a string' % where)
            entry = dict(entry)
            if entry.get('policy') is not None:
                entry['policy'] = load_policy(entry['policy'], where)
                self.parse_policy(entry['policy'], '%s policy' % where)
            credentials[entry['access_key']] = entry
        return credentials


class TokenBucket(object):
    def __init__(self, rate, clock):
        self.rate = float(rate)
        self.capacity = max(1.0, float(rate))
        self.tokens = self.capacity
        self.clock = clock
        self.stamp = clock()

    def take(self):
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Emulator(object):
    """All clouds, their shared settings, faults and request log."""

    def __init__(self, cloud_classes):
        self.lock = threading.RLock()
        self.settings = dict(GLOBAL_SETTINGS)
        self.clouds = {}
        for cls in cloud_classes:
            self.clouds[cls.name] = cls(self)
        self.faults = []
        self.fault_seq = 0
        self.log = []
        self.history = []
        self.buckets = {}
        self.in_flight = 0      # API requests being handled (a late one may still change the state)

    def now(self):
        return time.time() + float(self.settings['clock_offset_s'])

    # -- admin operations --------------------------------------------------
    def reset(self):
        with self.lock:
            self.settings = dict(GLOBAL_SETTINGS)
            for cloud in self.clouds.values():
                cloud.settings = copy.deepcopy(cloud.default_settings)
                cloud.delayed = []
                cloud.reset()
            self.faults = []
            self.log = []
            self.history = []
            self.buckets = {}

    def seed(self, doc):
        if not isinstance(doc, dict):
            raise SettingsError('the seed must be a mapping of cloud names')
        unknown = sorted(set(doc) - set(self.clouds))
        if unknown:
            raise SettingsError('unknown cloud(s) in seed: %s (known: %s)' % (', '.join(unknown), ', '.join(self.clouds)))
        with self.lock:
            for name, section in doc.items():
                self.clouds[name].delayed = []
                self.clouds[name].seed(section or {})

    def state(self):
        with self.lock:
            return dict((name, cloud.snapshot()) for name, cloud in self.clouds.items())

    def get_settings(self):
        with self.lock:
            out = dict(self.settings)
            for name, cloud in self.clouds.items():
                out[name] = copy.deepcopy(cloud.settings)
            return out

    def update_settings(self, changes):
        if not isinstance(changes, dict):
            raise SettingsError('settings must be a mapping')
        with self.lock:
            for key, value in changes.items():
                if key in self.clouds:
                    cloud = self.clouds[key]
                    if not isinstance(value, dict):
                        raise SettingsError('settings for %s must be a mapping' % key)
                    for sub, subvalue in value.items():
                        if sub not in cloud.default_settings:
                            raise SettingsError('unknown %s setting %r (known: %s)' % (
                                key, sub, ', '.join(sorted(cloud.default_settings))))
                        cloud.settings[sub] = subvalue
                elif key in GLOBAL_SETTINGS:
                    self.settings[key] = value
                else:
                    raise SettingsError('unknown setting %r (known: %s, or a cloud name)' % (
                        key, ', '.join(sorted(GLOBAL_SETTINGS))))
            self.buckets = {}
        return self.get_settings()

    def add_fault(self, spec):
        if not isinstance(spec, dict):
            raise SettingsError('a fault must be a mapping')
        provider = spec.get('provider')
        kind = spec.get('kind')
        if provider not in self.clouds:
            raise SettingsError('fault provider %r is not one of %s' % (provider, ', '.join(self.clouds)))
        if kind not in FAULT_KINDS:
            raise SettingsError('fault kind %r is not one of %s' % (kind, ', '.join(FAULT_KINDS)))
        count = spec.get('count', 1)
        skip = spec.get('after', 0)
        if not isinstance(count, int) or count < 1 or not isinstance(skip, int) or skip < 0:
            raise SettingsError('fault count must be an integer >= 1 and after an integer >= 0')
        unknown = set(spec) - set(('provider', 'action', 'kind', 'count', 'after', 'latency_ms'))
        if unknown:
            raise SettingsError('unknown fault key(s): %s' % ', '.join(sorted(unknown)))
        with self.lock:
            self.fault_seq += 1
            fault = {'id': self.fault_seq, 'provider': provider, 'action': spec.get('action', '*'),
                     'kind': kind, 'count': count, 'after': skip,
                     'latency_ms': int(spec.get('latency_ms', 0)), 'fired': 0}
            self.faults.append(fault)
            return dict(fault)

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def requests(self, provider=None):
        with self.lock:
            return [dict(e) for e in self.log if provider in (None, e['provider'])]

    def clear_requests(self):
        with self.lock:
            self.log = []
            self.history = []

    def state_history(self, provider=None):
        with self.lock:
            return [copy.deepcopy(e) for e in self.history if provider in (None, e['provider'])]

    # -- the API request path ----------------------------------------------
    def _take_fault(self, provider, action):
        for fault in self.faults:
            if fault['provider'] != provider or fault['action'] not in ('*', action):
                continue
            if fault['after'] > 0:
                fault['after'] -= 1
                continue
            fault['count'] -= 1
            fault['fired'] += 1
            if fault['count'] <= 0:
                self.faults.remove(fault)
            return fault
        return None

    def _rate_limited(self, cloud, action):
        if not self.settings['enforce_rate_limits'] or action not in cloud.rate_limits:
            return False
        key = (cloud.name, action)
        if key not in self.buckets:
            self.buckets[key] = TokenBucket(cloud.rate_limits[action], time.monotonic)
        return not self.buckets[key].take()

    def _with_retry_after(self, response, kind):
        seconds = self.settings['throttle_retry_after_s']
        if kind == 'throttle' and seconds is not None and response.status == 429:
            response.headers['Retry-After'] = '%s' % seconds
        return response

    def handle(self, cloud, request):
        """Run one API request through faults, auth, limits and the cloud."""
        start = time.time()
        entry = {'provider': cloud.name, 'action': None, 'permission': None, 'method': request.method,
                 'path': request.path, 'status': None, 'error_code': None,
                 'request_id': None, 'fault': None, 'start': start, 'end': None}
        changes = []
        with self.lock:
            self.in_flight += 1
        try:
            action = cloud.identify(request)
            entry['action'] = action
            entry['permission'] = cloud.permission(request, action)
            with self.lock:
                record = self.settings['record_history']
                if record:
                    entry['write'] = action in cloud.write_actions
                    try:
                        entry['change'] = cloud.describe_request(request, action)
                    except Exception:  # pylint: disable=broad-except
                        entry['change'] = None     # a malformed request: the cloud answers it below
                fault = self._take_fault(cloud.name, action)
                latency = float(self.settings['latency_ms'])
            if fault is not None:
                entry['fault'] = fault['kind']
                if fault['kind'] == 'latency':
                    latency += fault['latency_ms']
            if latency > 0:
                time.sleep(latency / 1000.0)
            if fault is not None and fault['kind'] == 'reset':
                raise Drop(reset=True)
            with self.lock:
                if record:
                    before = cloud.group_lists()
                cloud.apply_due()
                response = cloud.authenticate(request, action)
                if response is None:
                    response = cloud.authorize(request, action)
                if response is None and fault is not None and fault['kind'] in ('throttle', 'server_error', 'in_progress'):
                    response = self._with_retry_after(cloud.fault_response(fault['kind'], request, action), fault['kind'])
                if response is None and self._rate_limited(cloud, action):
                    entry['fault'] = 'rate_limit'
                    response = self._with_retry_after(cloud.fault_response('throttle', request, action), 'throttle')
                if response is None:
                    response = cloud.dispatch(request, action)
                if record:
                    after = cloud.group_lists()
                    for tid in sorted(set(before) | set(after)):
                        if before.get(tid) != after.get(tid):
                            changes.append({'provider': cloud.name, 'action': action, 'target': tid, 'time': time.time(),
                                            'before': before.get(tid), 'after': after.get(tid)})
            if fault is not None and fault['kind'] in ('commit_then_drop', 'truncate'):
                entry['status'] = response.status
                entry['error_code'] = response.error_code
                entry['request_id'] = response.request_id
                raise Drop() if fault['kind'] == 'commit_then_drop' else Truncate(response)
            entry['status'] = response.status
            entry['error_code'] = response.error_code
            entry['request_id'] = response.request_id
            return response
        finally:
            entry['end'] = time.time()
            with self.lock:
                entry['seq'] = len(self.log) + 1
                self.log.append(entry)
                for change in changes:
                    change['seq'] = entry['seq']
                    self.history.append(change)
                self.in_flight -= 1

    def handle_metadata(self, cloud, request):
        """One request to a cloud's metadata service: logged (action ``Metadata``, so a test can tell that nothing asked
        it), through the faults of action ``Metadata`` (latency, reset, server_error: an HTTP 500), then the cloud."""
        entry = {'provider': cloud.name, 'action': 'Metadata', 'method': request.method, 'path': request.path, 'status': None,
                 'error_code': None, 'request_id': None, 'fault': None, 'start': time.time(), 'end': None}
        try:
            with self.lock:
                fault = self._take_fault(cloud.name, 'Metadata')
            if fault is not None:
                entry['fault'] = fault['kind']
                if fault['kind'] == 'latency':
                    time.sleep(fault['latency_ms'] / 1000.0)
                if fault['kind'] == 'reset':
                    raise Drop(reset=True)
                if fault['kind'] == 'server_error':
                    entry['status'] = 500
                    return Response(500, b'internal error', content_type='text/plain')
            with self.lock:
                response = cloud.metadata(request)
            entry['status'] = response.status
            return response
        finally:
            entry['end'] = time.time()
            with self.lock:
                entry['seq'] = len(self.log) + 1
                self.log.append(entry)


# -- HTTP plumbing -----------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm
    # and delayed ACKs add about 40 ms to every answer.
    disable_nagle_algorithm = True
    server_version = 'multicloud-secgroup-emulator'
    sys_version = ''

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Silence the default per-request stderr line; GET /requests has the log."""

    def _read_request(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        return Request(self.command, self.path, self.headers, body, self.client_address)

    def _send(self, response, truncate=False):
        body = response.body[:len(response.body) // 2] if truncate else response.body
        self.send_response(response.status)
        headers = dict(response.headers)
        headers['Content-Length'] = str(len(response.body) + (Truncate.MISSING_BYTES if truncate else 0))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def _drop(self, reset):
        self.close_connection = True
        try:
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _serve(self):
        request = self._read_request()
        try:
            response = self.server.app(request)
        except Drop as drop:
            self._drop(drop.reset)
            return
        except Truncate as cut:
            self._send(cut.response, truncate=True)
            self.wfile.flush()
            self._drop(False)
            return
        self._send(response)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app, host='127.0.0.1', ssl_context=None, port=0):
        self.app = app
        self.ssl_context = ssl_context
        self.handshake_failures = 0     # TLS handshakes the client gave up (counted so tests can see retries)
        ThreadingHTTPServer.__init__(self, (host, port), _Handler)

    def finish_request(self, request, client_address):
        if self.ssl_context is None:
            ThreadingHTTPServer.finish_request(self, request, client_address)
            return
        # The handshake runs here, on the connection's own thread, so a slow or refusing client blocks no one.
        try:
            request = self.ssl_context.wrap_socket(request, server_side=True)
        except (OSError, ValueError):
            self.handshake_failures += 1
            return      # the client did not trust the certificate (or spoke plain HTTP): nothing to serve
        try:
            ThreadingHTTPServer.finish_request(self, request, client_address)
        finally:
            request.close()

    def handle_error(self, request, client_address):
        # A client that gave up (its timeout) closes the connection before the answer: not an emulator error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        ThreadingHTTPServer.handle_error(self, request, client_address)

    @property
    def url(self):
        host, port = self.server_address[:2]
        return '%s://%s:%d' % ('https' if self.ssl_context is not None else 'http', host, port)


SECRET_FIELDS = ('secret_key', 'security_token')
MASK = '********'


def masked_state(state):
    """The state with the credentials' secrets as ********: the admin API's answers end up in logs and test reports."""
    out = copy.deepcopy(state)
    for section in out.values():
        for entry in section.get('credentials') or [] if isinstance(section, dict) else []:
            for field in SECRET_FIELDS:
                if entry.get(field):
                    entry[field] = MASK
    return out


def unmasked_seed(doc, state):
    """A seed document whose masked secrets (GET /state's ********) are the seeded ones again: each masked credential
    takes the secrets of the credential with the same access_key in `state`. A masked secret of an unknown key is an
    error, not a credential whose secret is ********."""
    if not isinstance(doc, dict):
        return doc
    out = copy.deepcopy(doc)
    for name, section in out.items():
        entries = section.get('credentials') if isinstance(section, dict) else None
        if not isinstance(entries, list):
            continue
        seeded = dict((entry.get('access_key'), entry) for entry in (state.get(name) or {}).get('credentials') or [])
        for position, entry in enumerate(entries):
            for field in SECRET_FIELDS:
                if not isinstance(entry, dict) or entry.get(field) != MASK:
                    continue
                known = seeded.get(entry.get('access_key'))
                if known is None or not known.get(field):
                    raise SettingsError('%s credentials[%d]: %s is masked (%s) and no seeded credential with access_key %r has one '
                                        'to keep; give the secret' % (name, position, field, MASK, entry.get('access_key')))
                entry[field] = known[field]
    return out


def parse_body(request):
    """An admin request's body: JSON, or YAML when PyYAML is installed (the seed examples of docs/emulator.md are
    YAML). A YAML Content-Type is read as YAML; any other body is tried as JSON first."""
    text = request.body.decode('utf-8')
    yaml_type = 'yaml' in (request.header('Content-Type') or '').lower()
    if not yaml_type:
        try:
            return json.loads(text)
        except ValueError as exc:
            json_error = exc
    try:
        import yaml  # pylint: disable=import-outside-toplevel
    except ImportError:
        if yaml_type:
            raise ValueError('body is YAML, and PyYAML is not installed to read it; send JSON')
        raise ValueError('body is not JSON: %s (PyYAML is not installed to read YAML)' % json_error)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError('body is not JSON or YAML: %s' % str(exc).replace('\n', ' '))


def admin_app(emulator):
    """The admin API: JSON over HTTP, see docs/emulator.md."""

    def reply(status, obj):
        return Response.json(status, obj)

    def app(request):
        path = request.path.rstrip('/') or '/'
        try:
            body = parse_body(request) if request.body else None
        except ValueError as exc:
            return reply(400, {'error': str(exc)})
        try:
            if (request.method, path) == ('POST', '/reset'):
                emulator.reset()
                return reply(200, {'reset': True})
            if (request.method, path) == ('POST', '/seed'):
                emulator.seed(unmasked_seed(body, emulator.state()))
                return reply(200, masked_state(emulator.state()))
            if (request.method, path) == ('GET', '/state'):
                return reply(200, masked_state(emulator.state()))
            if (request.method, path) == ('GET', '/settings'):
                return reply(200, emulator.get_settings())
            if (request.method, path) == ('POST', '/settings'):
                return reply(200, emulator.update_settings(body or {}))
            if (request.method, path) == ('GET', '/faults'):
                with emulator.lock:
                    return reply(200, {'faults': [dict(f) for f in emulator.faults]})
            if (request.method, path) == ('POST', '/faults'):
                specs = body if isinstance(body, list) else [body]
                return reply(200, {'faults': [emulator.add_fault(s) for s in specs]})
            if (request.method, path) == ('DELETE', '/faults'):
                emulator.clear_faults()
                return reply(200, {'faults': []})
            if (request.method, path) == ('GET', '/requests'):
                provider = dict(request.query_pairs()).get('provider')
                return reply(200, {'requests': emulator.requests(provider)})
            if (request.method, path) == ('GET', '/history'):
                provider = dict(request.query_pairs()).get('provider')
                return reply(200, {'history': emulator.state_history(provider)})
            if (request.method, path) == ('DELETE', '/requests'):
                emulator.clear_requests()
                return reply(200, {'requests': []})
            if (request.method, path) == ('GET', '/health'):
                return reply(200, {'ok': True, 'clouds': sorted(emulator.clouds)})
        except SettingsError as exc:
            return reply(400, {'error': str(exc)})
        return reply(404, {'error': 'no admin route %s %s' % (request.method, path)})

    return app


class Running(object):
    """The servers of a started emulator; ``stop()`` shuts them all down.

    tls: None, or a ThrowawayCA (tests/emulator/tls.py) whose certificate every cloud port serves over HTTPS;
    the admin API stays plain HTTP. ``ca_bundle`` is then the CA file to trust, else None.
    """

    def __init__(self, emulator, host='127.0.0.1', tls=None, port=None):
        self.emulator = emulator
        self.tls = tls
        self.ca_bundle = tls.ca_bundle if tls is not None else None
        self.servers = {}
        apps = [(name, self._cloud_app(cloud), tls.context if tls is not None else None) for name, cloud in emulator.clouds.items()]
        apps.append(('admin', admin_app(emulator), None))
        # After the admin API, so the fixed-port layout of the clouds and the admin API stays as it was. Plain HTTP, as the
        # clouds' own metadata services are.
        apps.extend((name + '_metadata', self._metadata_app(cloud), None) for name, cloud in emulator.clouds.items()
                    if cloud.metadata is not None)
        for offset, (name, app, context) in enumerate(apps):
            # port: a fixed base, each cloud on base + its position and the admin API after them; else free ports.
            try:
                self.servers[name] = _Server(app, host, context, 0 if port is None else port + offset)
            except OSError as exc:
                for server in self.servers.values():
                    server.server_close()
                if port is None:
                    raise
                raise OSError('cannot listen on %s port %d for %s (base %d + %d): %s'
                              % (host, port + offset, name, port, offset, exc.strerror or exc))
        self.threads = []
        for server in self.servers.values():
            thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1})
            thread.daemon = True
            thread.start()
            self.threads.append(thread)

    def _cloud_app(self, cloud):
        def app(request):
            return self.emulator.handle(cloud, request)
        return app

    def _metadata_app(self, cloud):
        def app(request):
            return self.emulator.handle_metadata(cloud, request)
        return app

    @property
    def endpoints(self):
        return dict((name, server.url) for name, server in self.servers.items())

    def handshake_failures(self, name):
        """How many TLS handshakes with cloud `name` failed (0 without TLS)."""
        return self.servers[name].handshake_failures

    def stop(self):
        for server in self.servers.values():
            server.shutdown()
            server.server_close()
        if self.tls is not None:
            self.tls.remove()


def load_seed_file(path):
    """A seed file is JSON, or YAML when PyYAML is importable."""
    with open(path, 'rb') as handle:
        text = handle.read().decode('utf-8')
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        import yaml  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise SettingsError('%s is not JSON, and PyYAML is not installed to read it as YAML' % path)
    return yaml.safe_load(text)
