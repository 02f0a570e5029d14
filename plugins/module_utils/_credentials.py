# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This module_utils is PRIVATE to the collection: it may change at any time.
"""Where a module's credentials come from, provider-neutral (docs/credentials.md).

A provider lists its sources in its cloud's own order (``credential_sources(settings)``: explicit options, environment,
profile files, instance role) and, where its cloud has STS, an ``assume_role(context, base, settings)`` hook applied on
top of whichever source answered. A source is a callable ``source(context) -> Credentials`` that raises
:class:`CredentialsNotFound` (try the next one, with a one-line reason) or :class:`CredentialsError` (stop: a profile
file with bad permissions or content, half a key pair). Nothing here knows a cloud.

Provider class data read here:

* ``credential_options``: ``{'key ID': option, 'secret': option, 'token': option}`` (already used by the engine);
* ``credential_environment``: new option (or ``assume_role.<sub-option>``) -> the environment variables its cloud's
  own tools read, in order;
* ``credential_features``: which of :data:`OPTIONS` (and ``assume_role.policy``) the cloud has; any other one given is
  refused naming the cloud;
* ``assume_role_duration``: ``(low, high)`` seconds the cloud's STS accepts;
* ``credential_sources(params, settings)``: classmethod, the ordered sources (default: the explicit options only);
  ``settings`` is what :func:`settings` resolved (each new option, from the task or its environment variables);
* ``assume_role(context, base, settings)``: classmethod, temporary :class:`Credentials` from the cloud's STS;
* ``transport.AUTH_EXPIRED`` in the error table for the cloud's "credential expired" codes: the transport then
  renews the credentials once and sends that request once more.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import threading
import time

try:
    import requests
except ImportError:  # pragma: no cover - reported by the module through missing_required_lib
    requests = None

# The options every module has (plugins/doc_fragments/common.py); a cloud without one of them refuses it by name.
OPTIONS = ('profile', 'shared_credentials_file', 'instance_role', 'assume_role', 'metadata_endpoint', 'sts_endpoint')
ASSUME_ROLE_OPTIONS = ('role_arn', 'session_name', 'duration', 'external_id', 'policy')

ARGUMENT_SPEC = dict(
    profile=dict(type='str'),
    shared_credentials_file=dict(type='path'),
    instance_role=dict(type='str'),
    assume_role=dict(type='dict', options=dict(
        role_arn=dict(type='str'),
        session_name=dict(type='str'),
        duration=dict(type='int'),
        external_id=dict(type='str', no_log=False),
        policy=dict(type='str'),
    )),
    metadata_endpoint=dict(type='str'),
    sts_endpoint=dict(type='str'),
)

# Temporary credentials are fetched again this many seconds before they expire: a request signed now must still be
# valid when the cloud checks it, after a retry or a rate-limit pause (the Tencent SDK's CVM role provider uses 300 s).
REFRESH_MARGIN_S = 300
# The metadata service answers within milliseconds on the instance; off it, nothing answers at all: short timeouts,
# no retries (connect, read), so a task off the cloud fails in seconds, never stalls.
METADATA_TIMEOUT = (1.0, 3.0)
# The default session name of an assumed role, when neither the task nor the environment gives one.
DEFAULT_SESSION_NAME = 'multicloud-secgroup'


class CredentialsNotFound(Exception):
    """This source has nothing (a one-line reason, never a secret): the next one is tried."""

    def __init__(self, reason):
        super(CredentialsNotFound, self).__init__(reason)
        self.reason = reason


class CredentialsError(Exception):
    """Resolution stops here: a source found something it must refuse (a profile file readable by others, content it
    cannot read, half a key pair), or a fetch that must not silently fall through. The message names the file or
    option, never its content."""


class Credentials:
    """A key pair, an optional token and when it expires (epoch seconds, None: never). ``source`` says where it came
    from in words ("profile 'prod' in ~/.tccli/prod.credential"), never a secret; repr() shows no secret either."""

    __slots__ = ('access_key', 'secret', 'token', 'expires_at', 'source')

    def __init__(self, access_key, secret, token=None, expires_at=None, source='options'):
        self.access_key = access_key
        self.secret = secret
        self.token = token or None
        self.expires_at = expires_at
        self.source = source

    def __repr__(self):
        return 'Credentials(access_key=%r, secret=<hidden>, token=%s, expires_at=%r, source=%r)' % (
            self.access_key, '<hidden>' if self.token else None, self.expires_at, self.source)

    def __eq__(self, other):
        return isinstance(other, Credentials) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def expires_within(self, seconds, now):
        return self.expires_at is not None and self.expires_at - seconds <= now


def named(label):
    """Decorator: the label a source is listed under in the "nothing found" message."""
    def wrap(func):
        func.label = label
        return func
    return wrap


def label_of(source):
    return getattr(source, 'label', None) or getattr(source, '__name__', None) or repr(source)


class Context:
    """What a source may use: the module's params and resolved settings, the environment, the home directory, a
    metadata HTTP getter (short timeouts, no retries, no proxy) and the transport (signed STS calls).

    ``register(secret)`` must see every secret a source fetches before anything else does: :func:`resolve` and
    :class:`RefreshingCredentials` call it for each Credentials they hand out."""

    def __init__(self, params, settings=None, environ=None, home=None, transport=None, register=None, clock=time.time,
                 session=None, provider=None, validate_certs=True):
        self.params = params
        self.settings = settings if settings is not None else {}
        self.environ = os.environ if environ is None else environ
        self.home = home if home is not None else os.path.expanduser('~')
        self.transport = transport
        self.register = register or (lambda secret: None)
        self.clock = clock
        self.session = session
        self.provider = provider
        self.validate_certs = validate_certs
        self.asked = []          # every URL asked of the metadata service, for the tests

    def env(self, *names):
        """(name, value) of the first of names set to a non-empty value, else (None, None)."""
        for name in names:
            if self.environ.get(name):
                return name, self.environ[name]
        return None, None

    def path(self, path):
        """path with a leading ~ taken as the home directory of this context."""
        if path == '~' or path.startswith('~/'):
            return os.path.join(self.home, path[2:])
        return path

    def shown(self, path):
        """path as the messages show it: under the home directory as ~/..."""
        home = self.home.rstrip('/') + '/'
        return '~/' + path[len(home):] if path.startswith(home) else path

    def http(self, method, url, headers=None, timeout=METADATA_TIMEOUT):
        """(status, text) of one metadata request; CredentialsNotFound naming the URL when nothing answers."""
        self.asked.append(url)
        session = self.session
        if session is None:
            session = self.session = requests.Session()
            session.trust_env = False    # a proxy cannot reach the instance's own metadata address
        try:
            resp = session.request(method, url, headers=headers, timeout=timeout, allow_redirects=False,
                                   verify=self.validate_certs)
        except requests.exceptions.Timeout:
            raise CredentialsNotFound('metadata service unreachable at %s: timed out' % url)
        except requests.exceptions.RequestException as exc:
            raise CredentialsNotFound('metadata service unreachable at %s: %s' % (url, type(exc).__name__))
        return resp.status_code, resp.text


class CredentialFileError(ValueError):
    """A profile file that cannot be used: the message names the file and the rule, never its content."""


def parse_json_file(path, text, **options):
    """The JSON text of a profile file; CredentialFileError naming the file (not quoting it) if it is not JSON."""
    try:
        return json.loads(text, **options)
    except ValueError:
        raise CredentialFileError('%s is not valid JSON' % path)


def parse_ini_file(path, text):
    """A ConfigParser of a profile file's INI text; CredentialFileError naming the file if it is not INI."""
    import configparser  # pylint: disable=import-outside-toplevel  # only a task reading a profile file pays for it
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        # The parser's message quotes lines of the file: only its kind is told.
        raise CredentialFileError('%s is not a valid INI file (%s)' % (path, type(exc).__name__))
    return parser


def read_private_file(context, path, what):
    """The text of a credential file, refused (CredentialsError naming it) if group or others may read or write it,
    or if it is not a regular file; CredentialsNotFound if it does not exist."""
    shown = context.shown(path)
    try:
        info = os.stat(path)
    except OSError:
        raise CredentialsNotFound('%s absent' % shown)
    if not stat.S_ISREG(info.st_mode):
        raise CredentialsError('%s (%s) is not a regular file' % (shown, what))
    if info.st_mode & 0o077:
        raise CredentialsError('%s (%s) may be read or written by others (mode %04o); it holds a secret key: chmod 600 %s'
                               % (shown, what, stat.S_IMODE(info.st_mode), shown))
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except OSError as exc:
        raise CredentialsError('%s (%s) cannot be read: %s' % (shown, what, exc.strerror))
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        raise CredentialsError('%s (%s) is not UTF-8 text' % (shown, what))


def options_source(cls, params):
    """The explicit options (and the environment variables their specs fall back to): the key pair and token."""
    names = cls.credential_options
    key_name, secret_name = names['key ID'], names['secret']
    token_name = names.get('token')

    def wording(name):
        variables = environment_of(cls.argument_spec.get(name, {}))
        return '%s%s' % (name, ' (or %s)' % ' or '.join(variables) if variables else '')

    @named('options %s/%s' % (key_name, secret_name))
    def source(context):
        key, secret = params.get(key_name), params.get(secret_name)
        if key and secret:
            return Credentials(key, secret, params.get(token_name) if token_name else None,
                               source='the options %s and %s' % (key_name, secret_name))
        if key or secret:
            raise CredentialsError('%s is set but %s is not: give both, or neither to use another source'
                                   % (wording(key_name if key else secret_name), wording(secret_name if key else key_name)))
        raise CredentialsNotFound('%s and %s not set' % (wording(key_name), wording(secret_name)))
    return source


def environment_of(option):
    fallback = option.get('fallback')
    return list(fallback[1]) if fallback and getattr(fallback[0], '__name__', '') == 'env_fallback' else []


def settings(cls, params, environ=None, endpoint_problem=None):
    """The credential options resolved for cls: each given, else from the first of its cloud's environment variables
    (``credential_environment``). An option the cloud does not have is refused naming the cloud (CredentialsError);
    so is a duration outside its STS's range, or an assume_role without a role ARN."""
    environ = os.environ if environ is None else environ
    features = set(getattr(cls, 'credential_features', ()))
    variables = getattr(cls, 'credential_environment', {})

    def from_env(name):
        for var in variables.get(name, ()):
            if environ.get(var):
                return environ[var], var
        return None, None

    resolved, origin = {}, {}
    for name in OPTIONS:
        given = params.get(name)
        if name == 'assume_role':
            continue
        if given not in (None, '') and name not in features:
            raise CredentialsError('%s: %s (provider %s) has no %s; remove it' % (name, cls.display_name, cls.name, name.replace('_', ' ')))
        value, var = (given, None) if given not in (None, '') else from_env(name)
        if var and name.endswith('endpoint') and endpoint_problem is not None and endpoint_problem(value):
            # The task's own value was checked with the other options; one from the environment is checked here.
            raise CredentialsError('%s: %r (from %s) %s' % (name, value, var, endpoint_problem(value)))
        resolved[name], origin[name] = value, var or name
    role = dict(params.get('assume_role') or {})
    given_role = any(v not in (None, '') for v in role.values())
    if given_role and 'assume_role' not in features:
        raise CredentialsError('assume_role: %s (provider %s) has no STS to assume a role with; remove it' % (cls.display_name, cls.name))
    for sub in ASSUME_ROLE_OPTIONS:
        if role.get(sub) in (None, '') and 'assume_role' in features:
            value, var = from_env('assume_role.' + sub)
            if value is not None:
                role[sub] = value
                origin['assume_role.' + sub] = var
    if role.get('policy') not in (None, '') and 'assume_role.policy' not in features:
        raise CredentialsError('assume_role.policy: %s (provider %s) takes no session policy; remove it' % (cls.display_name, cls.name))
    if any(v not in (None, '') for v in role.values()):
        if not role.get('role_arn'):
            raise CredentialsError('assume_role.role_arn is not set (nor %s): the role to assume'
                                   % (' or '.join(variables.get('assume_role.role_arn', ())) or 'any environment variable'))
        duration = role.get('duration')
        if duration not in (None, ''):
            try:
                duration = int(duration)
            except (TypeError, ValueError):
                raise CredentialsError('assume_role.duration: %r (from %s) is not a whole number of seconds'
                                       % (duration, origin.get('assume_role.duration', 'the task')))
            low, high = getattr(cls, 'assume_role_duration', (900, 43200))
            if not low <= duration <= high:
                raise CredentialsError('assume_role.duration: %d must be between %d and %d seconds for %s'
                                       % (duration, low, high, cls.display_name))
            role['duration'] = duration
        role.setdefault('session_name', None)
        if not role.get('session_name'):
            role['session_name'] = DEFAULT_SESSION_NAME
        resolved['assume_role'] = dict((k, role.get(k)) for k in ASSUME_ROLE_OPTIONS)
    else:
        resolved['assume_role'] = None
    resolved['origin'] = origin
    return resolved


def sources_for(cls, params, settings_):
    """The provider's ordered sources, or its explicit options alone."""
    if hasattr(cls, 'credential_sources'):
        return list(cls.credential_sources(params, settings_))
    return [options_source(cls, params)]


def resolve(sources, context, hint=''):
    """The first source's Credentials, registered; CredentialsNotFound listing every source tried, in order, with its
    reason (and ``hint``: the environment variables to set) when none has any."""
    tried = []
    for source in sources:
        try:
            found = source(context)
        except CredentialsNotFound as exc:
            tried.append('%s: %s' % (label_of(source), exc.reason))
            continue
        register_all(context, found)
        return found
    raise CredentialsNotFound('no credentials found; tried, in order: %s%s'
                              % ('; '.join('(%d) %s' % (n + 1, t) for n, t in enumerate(tried)), '. ' + hint if hint else ''))


def register_all(context, credentials):
    for secret in (credentials.secret, credentials.token):
        if secret:
            context.register(secret)


def assume_role(base_source, hook):
    """A source: base_source's credentials exchanged through the provider's STS hook(context, base, role settings)."""
    @named(label_of(base_source))
    def source(context):
        base = base_source(context)
        register_all(context, base)     # the base secret signs the STS call: masked before it is sent
        return hook(context, base, context.settings['assume_role'])
    return source


def chain(cls, params, context):
    """The full chain for cls: its sources, each one wrapped in assume_role when the task (or the environment) asks
    for a role; the hint names the environment variables the sources read."""
    sources = sources_for(cls, params, context.settings)
    if context.settings.get('assume_role'):
        sources = [assume_role(source, cls.assume_role) for source in sources]
    return sources


def hint(cls):
    names = getattr(cls, 'credential_options', {})
    variables = []
    for meaning in ('key ID', 'secret', 'token'):
        variables.extend(environment_of(cls.argument_spec.get(names.get(meaning), {})))
    for name in OPTIONS + tuple('assume_role.' + s for s in ASSUME_ROLE_OPTIONS):
        variables.extend(getattr(cls, 'credential_environment', {}).get(name, ()))
    seen = []
    for var in variables:
        if var not in seen:
            seen.append(var)
    return 'Environment variables read: %s' % ', '.join(seen) if seen else ''


class RefreshingCredentials:
    """What a signer asks before each request (``current()``). Temporary credentials are fetched again (once, under a
    lock: the other workers wait and take the new ones) when they expire within ``margin`` seconds. ``renew(used)``
    after the cloud answered "expired" to a request signed with ``used``: a fresh fetch unless another worker already
    made one; the transport then sends that request once more, never again."""

    def __init__(self, fetch, register=None, margin=REFRESH_MARGIN_S, clock=time.time):
        self.fetch = fetch
        self.register = register or (lambda secret: None)
        self.margin = margin
        self.clock = clock
        self.lock = threading.Lock()
        self.credentials = None
        self.fetches = 0
        self.local = threading.local()      # per worker: the credentials its last request was signed with

    def _fetch(self):
        fresh = self.fetch()
        for secret in (fresh.secret, fresh.token):
            if secret:
                self.register(secret)
        self.fetches += 1
        self.credentials = fresh
        return fresh

    def current(self):
        with self.lock:
            held = self.credentials
            if held is None or held.expires_within(self.margin, self.clock()):
                held = self._fetch()
            self.local.used = held
            return held

    def renew(self):
        """After the cloud answered "expired" to this worker's last request: True if there are other credentials to
        send it with (fetched now, or already by another worker), False if a fetch gives the same ones (static keys:
        the caller reports the error instead of sending it again). Raises what the fetch raises."""
        used = getattr(self.local, 'used', None)
        with self.lock:
            if self.credentials is not None and self.credentials is not used:
                return True
            return self._fetch() != used


class StaticCredentials(RefreshingCredentials):
    """Fixed credentials (tests, a provider built without a module): never fetched again."""

    def __init__(self, credentials):
        super(StaticCredentials, self).__init__(lambda: credentials)
        self.credentials = credentials


def request_credentials(conn, params, cls):
    """The Credentials a provider signs its next request with: the transport's (refreshed as needed), else the
    explicit options (a provider made by a test without a module)."""
    held = getattr(conn, 'credentials', None)
    if held is not None:
        return held.current()
    names = cls.credential_options
    return Credentials(params.get(names['key ID']), params.get(names['secret']),
                       params.get(names['token']) if names.get('token') else None)


def for_module(cls, params, conn, register, environ=None, home=None, session=None, clock=time.time, endpoint_problem=None):
    """RefreshingCredentials for a module run with cls, resolved once now: CredentialsNotFound (every source tried)
    or CredentialsError before any API request. ``conn`` is the transport (its STS calls); the result is also set as
    ``conn.credentials``, which signers read through :func:`request_credentials`. A provider with no credential
    options and no sources (a test double) gets None."""
    if not hasattr(cls, 'credential_sources') and not getattr(cls, 'credential_options', None):
        return None
    resolved = settings(cls, params, environ, endpoint_problem)
    context = Context(params, resolved, environ=environ, home=home, transport=conn, register=register, clock=clock,
                      session=session, provider=cls, validate_certs=params.get('validate_certs', True))
    sources = chain(cls, params, context)
    text = hint(cls)
    # resolve() registers what it hands out (and assume_role the base secret before the STS call).
    held = RefreshingCredentials(lambda: resolve(sources, context, text), clock=clock)
    held.context = context
    held.current()
    if conn is not None:
        conn.credentials = held
    return held
