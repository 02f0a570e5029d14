# -*- coding: utf-8 -*-
# Copyright (c) multicloud.secgroup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: instances
short_description: Instances of Tencent Cloud, Alibaba Cloud, Baidu AI Cloud and Zenlayer Cloud as inventory hosts
version_added: 0.1.0
description:
  - One inventory source for any of the four clouds, in any number of regions, each host with the variables the
    collection's roles read (C(cloud), C(cloud_region), C(instance_id)) and what the instance has now (its
    C(security_group_ids), name, status, VPC, addresses, tags).
  - "The file must be named C(<anything>.instances.yml) or C(<anything>.instances.yaml) and have
    C(plugin: multicloud.secgroup.instances)."
  - "Host variables: C(cloud) (the provider), C(cloud_region) (not on V(zenlayer), which has no regions),
    C(instance_id), C(instance_kind) (V(instance); on V(zenlayer) also V(zec_instance), an Elastic Compute instance,
    which has C(zec_instance_id) instead of C(instance_id)), C(security_group_ids) (the groups it has now, in the
    cloud's order), C(instance_name), C(status), C(vpc_id), C(private_ips), C(public_ips), C(tags) (a dict), and
    C(network_interfaces) (each C(network_interface_id) and C(security_group_ids)) where the cloud's listing gives them."
  - C(security_group_ids) is what the instance has, never what it should have; the collection's roles read the
    wanted groups from C(sg_bindings_wanted_group_ids), so an inventory host's current groups can never become its
    declared ones.
  - Filters are sent to each cloud's listing call where it takes them, and every filter is applied again to what it
    answers, so the hosts are the same on every cloud. Each listing follows its pages to the end with the largest page
    the API allows.
  - A region that cannot be listed (an authentication error, an unreachable endpoint) is reported as a warning naming
    the provider, the region and the cloud's error code, and the other regions' hosts are still listed, unless
    O(strict=true). The inventory cache is then not written.
  - Credentials come from the same sources as the modules' (options, environment variables, profile files, an instance
    role, an assumed role). They are never written to the cache nor logged, at any verbosity.
author:
  - multicloud.secgroup developers (@multicloud-secgroup)
requirements:
  - requests
extends_documentation_fragment:
  - constructed
  - inventory_cache
notes:
  - "The least permissions a source's credentials need: C(read-only.json) of the collection's
    C(extensions/policies/<cloud>/) (see its README.md)."
  - "Which filters each cloud applies server-side: V(tencentcloud), V(alicloud), V(baiducloud) and V(zenlayer) each
    declare theirs in their provider file; the others are applied to the listing locally, with the same meaning.
    See the guide C(docs/guides/inventory_to_roles.md)."
  - With O(strict=false) (the default), a template of O(compose), O(groups) or O(keyed_groups) that fails for a host
    is skipped for that host, as in every constructed inventory.
options:
  plugin:
    description: The name of this plugin, so that Ansible knows the file is for it.
    type: str
    required: true
    choices: [multicloud.secgroup.instances]
  providers:
    description:
      - The clouds to list, each with its regions, filters, and the connection and credential options of the
        modules for that cloud (for example M(multicloud.secgroup.tencentcloud_sg_binding)), read from the same
        environment variables when not given.
      - Two entries may name the same cloud (two accounts, or other filters).
      - Every entry is checked before any request; an error names the entry (C(providers[1])), the option and the rule.
      - String options may be templates, such as C({{ lookup('ansible.builtin.env', 'MY_ENDPOINT') }}); they are
        rendered when the inventory is read.
    type: list
    elements: dict
    required: true
    suboptions:
      provider:
        description: The cloud.
        type: str
        required: true
        choices: [alicloud, baiducloud, tencentcloud, zenlayer]
      regions:
        description:
          - The regions to list, each with one listing; V(tencentcloud), V(alicloud) and V(baiducloud) only.
          - Defaults to O(providers[].region), or to the cloud's region environment variable.
        type: list
        elements: str
      filters:
        description:
          - Which instances become hosts. Every filter given must match.
        type: dict
        suboptions:
          tags:
            description:
              - Tags the instance must have, key to value; a null value matches any value of that key.
            type: dict
          name:
            description:
              - The instance name, exactly; with C(*), C(?) or C([) a shell-style pattern (case-sensitive), applied
                to the listing, never sent to the cloud.
            type: str
          status:
            description:
              - The statuses to keep, for example V(RUNNING); compared without regard to case, so V(running) matches
                Alibaba Cloud's C(Running) and Tencent Cloud's C(RUNNING).
            type: list
            elements: str
          vpc_id:
            description: The VPC the instance is in.
            type: str
          security_group_id:
            description: A security group the instance has (among its own C(security_group_ids)).
            type: str
      secret_id:
        description:
          - Provider V(tencentcloud) (required). The SecretId of the API key.
          - If not set, the environment variable E(TENCENTCLOUD_SECRET_ID) is used.
        type: str
      secret_key:
        description:
          - Providers V(tencentcloud), V(alicloud), V(baiducloud) (required). Never logged or cached.
          - If not set, the environment variables with V(tencentcloud) E(TENCENTCLOUD_SECRET_KEY); with V(alicloud)
            E(ALICLOUD_SECRET_KEY), then E(ALIBABA_CLOUD_ACCESS_KEY_SECRET); with V(baiducloud) E(BAIDUCLOUD_SECRET_KEY),
            then E(BCE_SECRET_ACCESS_KEY) are used.
        type: str
      security_token:
        description:
          - Providers V(tencentcloud), V(alicloud), V(baiducloud). The token of temporary (STS) credentials. Never logged
            or cached.
          - If not set, the environment variables with V(tencentcloud) E(TENCENTCLOUD_SECURITY_TOKEN), then
            E(TENCENTCLOUD_TOKEN); with V(alicloud) E(ALICLOUD_SECURITY_TOKEN), then E(ALIBABA_CLOUD_SECURITY_TOKEN);
            with V(baiducloud) E(BAIDUCLOUD_SESSION_TOKEN), then E(BCE_SECURITY_TOKEN) are used.
        type: str
      access_key:
        description:
          - Providers V(alicloud), V(baiducloud) (required). The AccessKey ID (V(alicloud)) or Access Key ID
            (V(baiducloud)).
          - If not set, the environment variables with V(alicloud) E(ALICLOUD_ACCESS_KEY), then
            E(ALIBABA_CLOUD_ACCESS_KEY_ID); with V(baiducloud) E(BAIDUCLOUD_ACCESS_KEY), then E(BCE_ACCESS_KEY_ID) are
            used.
        type: str
      access_key_id:
        description:
          - Provider V(zenlayer) (required). The access key ID.
          - If not set, the environment variable E(ZENLAYERCLOUD_ACCESS_KEY_ID) is used.
          - With V(alicloud) and V(baiducloud), another name of O(providers[].access_key).
        type: str
      access_key_secret:
        description:
          - With V(alicloud), another name of O(providers[].secret_key). Never logged or cached.
        type: str
      secret_access_key:
        description:
          - With V(baiducloud), another name of O(providers[].secret_key). Never logged or cached.
        type: str
      access_key_password:
        description:
          - Provider V(zenlayer) (required). The access key password. Never logged or cached.
          - If not set, the environment variable E(ZENLAYERCLOUD_ACCESS_KEY_PASSWORD) is used.
        type: str
      region:
        description:
          - Providers V(tencentcloud), V(alicloud), V(baiducloud). One region, when O(providers[].regions) is not given.
          - If not set, the environment variables with V(tencentcloud) E(TENCENTCLOUD_REGION); with V(alicloud)
            E(ALICLOUD_REGION), then E(ALIBABA_CLOUD_REGION_ID); with V(baiducloud) E(BAIDUCLOUD_REGION), then
            E(BCE_REGION) are used.
        type: str
      vpc_endpoint:
        description:
          - Provider V(tencentcloud). The endpoint URL of Tencent Cloud's VPC product.
        type: str
      profile:
        description:
          - The profile to read from the cloud's own CLI or SDK profile files, when no key pair is given by option or
            environment variable, as for the modules (for example M(multicloud.secgroup.sg_binding_info)).
          - "If not set, the cloud's own variable: Tencent Cloud E(TENCENTCLOUD_PROFILE), then E(TCCLI_PROFILE); Alibaba
            Cloud E(ALIBABA_CLOUD_PROFILE), then E(ALICLOUD_PROFILE); Zenlayer Cloud E(ZENLAYER_PROFILE)."
        type: str
      shared_credentials_file:
        description:
          - Where the profile files are, instead of their default place under the home directory.
        type: path
      instance_role:
        description:
          - Take temporary credentials of the role attached to the instance the inventory runs on, from the cloud's
            metadata service; V(auto) asks the metadata service for the role's name. Not with Zenlayer Cloud.
        type: str
      assume_role:
        description:
          - Assume a role through the cloud's STS with the credentials found, and list with the role's temporary
            credentials. Not with Zenlayer Cloud.
        type: dict
        suboptions:
          role_arn:
            description: The role to assume.
            type: str
          session_name:
            description: The role session's name, shown in the cloud's audit log.
            type: str
          duration:
            description: Seconds the temporary credentials last.
            type: int
          external_id:
            description: The external ID the role's trust policy requires.
            type: str
          policy:
            description: A session policy (JSON) that narrows the role's permissions.
            type: str
      metadata_endpoint:
        description:
          - The metadata service's URL (C(http://host[:port])), for O(providers[].instance_role).
        type: str
      sts_endpoint:
        description:
          - The STS endpoint URL, for O(providers[].assume_role).
        type: str
      endpoint:
        description:
          - The API endpoint URL, for example a private endpoint or the local emulator (C(http://127.0.0.1:PORT)).
          - Scheme, host and port only.
        type: str
      validate_certs:
        description:
          - Whether to verify the TLS certificate of the endpoint; to trust a private CA, set E(REQUESTS_CA_BUNDLE).
        type: bool
        default: true
      timeout:
        description: Seconds to wait for each HTTP request.
        type: float
        default: 30
      retries:
        description: How many times a request is retried after throttling or a transient server error.
        type: int
        default: 8
      retry_delay:
        description: Base of the exponential backoff between retries, in seconds.
        type: float
        default: 0.5
      retry_max_delay:
        description: The longest wait between two retries, in seconds.
        type: float
        default: 20
      max_concurrency:
        description: How many API calls may run at once.
        type: int
        default: 8
      rate_limit:
        description: The most calls per second of each API action.
        type: float
  hostnames:
    description:
      - How each host is named, in order of preference; the first that the instance has and that no other host of
        this source has taken is used, and the instance ID when none is.
      - V(instance_id), V(instance_name), V(private_ip) (the first private address), V(public_ip) (the first public
        address), or V(tag:KEY) (the value of tag C(KEY)).
      - Should two clouds give one instance ID, the second host is named C(<cloud>_<instance ID>).
    type: list
    elements: str
    default: [instance_id]
'''

EXAMPLES = r'''
# fleet.instances.yml: every instance of two Tencent Cloud regions and of Zenlayer, grouped by security group;
# credentials from TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY and ZENLAYERCLOUD_ACCESS_KEY_ID/..._PASSWORD.
plugin: multicloud.secgroup.instances
providers:
  - provider: tencentcloud
    regions: [ap-guangzhou, ap-shanghai]
    filters:
      tags: {role: web}
      status: [RUNNING]
  - provider: zenlayer
hostnames: [tag:Name, instance_name, instance_id]
keyed_groups:
  - key: security_group_ids
    prefix: sg
  - key: cloud
    prefix: cloud
  - key: tags.role | default('none')
    prefix: role
compose:
  ansible_host: (public_ips + private_ips) | first | default(omit)
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/multicloud-secgroup-inventory
cache_timeout: 600
'''

import concurrent.futures
import hashlib
import json
import time

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.display import Display
from ansible.utils.vars import combine_vars

try:
    # ansible-core 2.19+: data from a plugin is never a template unless trusted, and wrapping it would show as
    # {"__ansible_unsafe": ...} in ansible-inventory's output.
    from ansible.template import trust_as_template  # noqa: F401  pylint: disable=unused-import
    wrap_var = None
except ImportError:
    # Older cores template any string: a tag value like "{{ lookup('pipe', ...) }}" must stay text.
    from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.multicloud.secgroup.plugins.module_utils import _engine as engine
from ansible_collections.multicloud.secgroup.plugins.module_utils import _generic as generic
from ansible_collections.multicloud.secgroup.plugins.module_utils import _listing as listing
from ansible_collections.multicloud.secgroup.plugins.module_utils import _transport as transport

display = Display()

# Keys of a providers[] entry that are not the provider's connection and credential options.
ENTRY_KEYS = ('provider', 'regions', 'filters')
HOSTNAME_CHOICES = ('instance_id', 'instance_name', 'private_ip', 'public_ip', 'tag:KEY')
CACHE_VERSION = 1
# Sources (a provider entry in one region) listed at once; each follows its own pages one after the other.
MAX_PARALLEL_SOURCES = 8


def provider_spec(cls):
    """The connection and credential options of an entry for this provider: sg_binding_info's, without its questions."""
    questions = set(kind.option for kind in cls.target_kinds) | set(['security_group_ids', 'interfaces', 'filters'])
    return dict((name, option) for name, option in generic.info_spec(cls).items() if name not in questions)


def loose_spec(spec):
    """spec for type checks only: no defaults, fallbacks or requirements (resolve() applies them, naming the
    environment variables), and each alias an option of its own (resolve() merges it)."""
    out = {}
    for name, option in spec.items():
        out[name] = dict((k, v) for k, v in option.items() if k in ('type', 'elements', 'choices', 'no_log', 'options'))
        for alias in option.get('aliases') or []:
            out[alias] = dict(out[name])
    return out


class Source:
    """One provider entry in one region, checked: what to list and how, never written anywhere."""

    def __init__(self, where, cls, params, secrets, filters):
        self.where = where
        self.cls = cls
        self.params = params
        self.secrets = secrets
        self.filters = filters

    @property
    def region(self):
        return self.params.get('region')

    def label(self):
        region = ' region %s' % self.region if self.region else ''
        return '%s (provider %s%s)' % (self.where, self.cls.name, region)


def redact(text, secrets):
    return transport.redact_text('%s' % (text,), secrets)


def check_entry(position, entry, render):
    """The Sources of providers[position] (one per region), or AnsibleParserError naming the entry, option and rule."""
    where = 'providers[%d]' % position
    if not isinstance(entry, dict):
        raise AnsibleParserError('%s: %r is not a mapping; give provider, regions, filters and the provider options' % (where, entry))
    name = entry.get('provider')
    if name not in generic.PROVIDERS:
        raise AnsibleParserError('%s.provider: %r is not one of %s' % (where, name, ', '.join(sorted(generic.PROVIDERS))))
    cls = generic.PROVIDERS[name]
    if not listing.can_list(cls):
        raise AnsibleParserError('%s: %s (provider %s) cannot list its instances yet' % (where, cls.display_name, name))
    spec = provider_spec(cls)
    loose = loose_spec(spec)
    options = dict((key, value) for key, value in entry.items() if key not in ENTRY_KEYS)
    raw_secrets = [('%s' % value) for key, value in options.items() if loose.get(key, {}).get('no_log') and value]
    foreign = sorted(key for key in options if key not in loose)
    if foreign:
        raise AnsibleParserError('%s: %s' % (where, generic.foreign_message(foreign, cls)))
    options = dict((key, render(value)) for key, value in options.items())
    # A list or mapping for a text option would be sent as its repr (a secret among it, say): refused, without its value.
    shapes = sorted(key for key, value in options.items() if loose[key]['type'] == 'str' and isinstance(value, (list, dict)))
    if shapes:
        raise AnsibleParserError('%s: %s: a %s is not text; give one value' % (where, ', '.join(shapes), type(options[shapes[0]]).__name__))
    raw_secrets.extend(('%s' % value) for key, value in options.items() if loose[key].get('no_log') and value)
    checked = ArgumentSpecValidator(loose).validate(options)
    if checked.error_messages:
        raise AnsibleParserError(redact('%s: %s' % (where, '; '.join(checked.error_messages)), raw_secrets))
    params = dict((key, value) for key, value in checked.validated_parameters.items() if key in options)
    try:
        filters = listing.check_filters(entry.get('filters'), cls, where='%s.filters' % where)
    except listing.FilterError as exc:
        raise AnsibleParserError(str(exc))
    regions = [None]
    if entry.get('regions') is not None:
        regions = render(entry['regions'])
        if 'region' not in spec:
            raise AnsibleParserError('%s.regions: %s (provider %s) has no regions; remove it' % (where, cls.display_name, name))
        if params.get('region') is not None:
            raise AnsibleParserError('%s: region and regions both given; give the regions in regions' % where)
        if not isinstance(regions, list) or not regions or not all(isinstance(r, str) and r for r in regions):
            raise AnsibleParserError('%s.regions: %r; give a non-empty list of region names' % (where, regions))
        if len(set(regions)) != len(regions):
            raise AnsibleParserError('%s.regions: %r lists a region more than once; list each once' % (where, regions))
    sources = []
    for region in regions:
        given = dict(params, region=region) if region is not None else dict(params)
        try:
            resolved, secrets = generic.resolve(given, cls, spec, require_target=False)
            secrets = [s for s in set(list(secrets) + list(cls.secrets(resolved)) + raw_secrets) if s]
            checked_params = dict(resolved, security_group_ids=[], state='present', purge=False)
            checked_params[cls.target_kinds[0].option] = []
            engine.validate(checked_params, cls)
        except engine.EngineFailure as exc:
            raise AnsibleParserError(redact('%s: %s' % (where, exc), raw_secrets))
        sources.append(Source(where, cls, resolved, secrets, filters))
    return sources


def list_source(source):
    """(instances, error or None, calls, seconds, the provider's warnings) of one source, on its own connection (whose
    credentials are resolved first: from the options, the environment, profile files or an instance role)."""
    started = time.monotonic()
    conn = provider = None
    try:
        conn = engine.transport_for(source.cls, source.params, source.secrets)
        provider = source.cls(source.params, conn)
        found, error = listing.list_instances(provider, source.filters), None
    except Exception as exc:  # pylint: disable=broad-except
        found, error = [], exc
    finally:
        if conn is not None:
            conn.close()
    calls = conn.stats['calls'] if conn is not None else 0
    return found, error, calls, time.monotonic() - started, list(getattr(provider, 'warnings', None) or [])


def host_record(source, instance):
    """What the cache keeps of one listed instance: what the cloud said, and where it is. No option, no credential."""
    record = dict((key, instance.get(key)) for key in listing.INSTANCE_FIELDS)
    record['private_ips'] = list(record['private_ips'] or [])
    record['public_ips'] = list(record['public_ips'] or [])
    record['security_group_ids'] = list(record['security_group_ids'] or [])
    record['tags'] = dict(record['tags'] or {})
    record['kind'] = instance.get('kind') or 'instance'
    record['cloud'] = source.cls.name
    record['region'] = instance.get('region') or source.region
    if 'network_interfaces' in instance:
        record['network_interfaces'] = [{'network_interface_id': item['network_interface_id'],
                                         'security_group_ids': list(item['security_group_ids'])}
                                        for item in instance['network_interfaces']]
    return record


def host_vars(record):
    """The host variables of a cached record, named as the roles read them."""
    out = {'cloud': record['cloud'], 'instance_kind': record['kind']}
    if record.get('region'):
        out['cloud_region'] = record['region']
    out['zec_instance_id' if record['kind'] == 'zec_instance' else 'instance_id'] = record['instance_id']
    for key in listing.INSTANCE_FIELDS[1:]:
        out[key] = record.get(key)
    if 'network_interfaces' in record:
        out['network_interfaces'] = record['network_interfaces']
    return out


def check_hostnames(hostnames):
    if not isinstance(hostnames, list) or not hostnames:
        raise AnsibleParserError('hostnames: %r; give a list of preferences among %s' % (hostnames, ', '.join(HOSTNAME_CHOICES)))
    for n, item in enumerate(hostnames):
        if not isinstance(item, str) or not (item in HOSTNAME_CHOICES[:-1] or (item.startswith('tag:') and len(item) > 4)):
            raise AnsibleParserError('hostnames[%d]: %r is not one of %s' % (n, item, ', '.join(HOSTNAME_CHOICES)))
    return hostnames


def preferred_name(record, preference):
    if preference == 'instance_id':
        return record['instance_id']
    if preference == 'instance_name':
        return record.get('instance_name')
    if preference in ('private_ip', 'public_ip'):
        addresses = record.get(preference + 's') or []
        return addresses[0] if addresses else None
    return (record.get('tags') or {}).get(preference[4:])


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = 'multicloud.secgroup.instances'

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(('.instances.yml', '.instances.yaml'))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        if not transport.HAS_REQUESTS:
            raise AnsibleError('the multicloud.secgroup.instances inventory needs the Python library requests: %s'
                               % transport.REQUESTS_IMPORT_ERROR)
        providers = self.get_option('providers')
        if not isinstance(providers, list) or not providers:
            raise AnsibleParserError('providers: %r; give a list of clouds to list, each a mapping with provider' % (providers,))
        sources = [source for position, entry in enumerate(providers) for source in check_entry(position, entry, self.render)]
        hostnames = check_hostnames(self.get_option('hostnames'))
        key = self.cache_key(path, sources)
        use_cache = bool(self.get_option('cache')) and cache
        records = None
        if use_cache:
            try:
                cached = self._cache[key]
                if isinstance(cached, dict) and cached.get('version') == CACHE_VERSION:
                    records = cached['hosts']
                    display.vvv('multicloud.secgroup.instances: %d host(s) from the cache' % len(records))
            except KeyError:
                pass
        if records is None:
            records, complete = self.fetch(sources)
            if self.get_option('cache') and complete:
                self._cache[key] = {'version': CACHE_VERSION, 'hosts': records}
            elif self.get_option('cache'):
                display.warning('multicloud.secgroup.instances: the inventory cache was not written, since a region could not be '
                                'listed')
        self.populate(records, hostnames)

    def render(self, value):
        """An option's value with its templates rendered (lookups: env, vault, files)."""
        if isinstance(value, str) and self.templar.is_template(value):
            return self.templar.template(value)
        if isinstance(value, list):
            return [self.render(item) for item in value]
        return value

    def cache_key(self, path, sources):
        """The file's cache key, and a digest of what is listed and where (never of a secret option), so that a changed
        filter or region is not answered from the cache."""
        described = []
        for source in sources:
            spec = provider_spec(source.cls)
            public = dict((k, v) for k, v in sorted(source.params.items()) if not spec.get(k, {}).get('no_log'))
            described.append({'provider': source.cls.name, 'params': public, 'filters': source.filters})
        digest = hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode('utf-8')).hexdigest()[:16]
        return '%s_%s' % (self.get_cache_key(path), digest)

    def fetch(self, sources):
        """Every source's instances as cache records, and whether every source answered. The sources are listed at once
        (each follows its own pages in order); a source that fails is a warning naming it, or with strict an error."""
        records, complete = [], True
        workers = max(1, min(MAX_PARALLEL_SOURCES, len(sources)))
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(list_source, sources))
        for source, (found, error, calls, seconds, warnings) in zip(sources, outcomes):
            for warning in warnings:
                display.warning(redact('multicloud.secgroup.instances: %s: %s' % (source.label(), warning), source.secrets))
            if isinstance(error, (transport.ProviderError, engine.EngineFailure)):
                if isinstance(error, transport.ProviderError):
                    msg = '%s: %s %s failed: %s: %s (request ID %s)' % (source.label(), source.cls.display_name, error.action, error.code,
                                                                        error.message, error.request_id or 'none')
                else:       # no credentials in any source, or a source that failed (an STS refusal, say)
                    msg = '%s: %s' % (source.label(), error)
                msg = redact(msg, source.secrets)
                if self.get_option('strict'):
                    raise AnsibleError(msg)
                display.warning('multicloud.secgroup.instances: %s; its hosts are left out (strict: true makes this an error)' % msg)
                complete = False
                continue
            if error is not None:
                raise AnsibleError(redact('%s: unexpected error (a bug in multicloud.secgroup, please report it): %s: %s'
                                          % (source.label(), type(error).__name__, error), source.secrets))
            display.vvv('multicloud.secgroup.instances: %s: %d instance(s) in %d call(s), %.2f s' % (source.label(), len(found), calls, seconds))
            records.extend(host_record(source, instance) for instance in found)
        return records, complete

    def populate(self, records, hostnames):
        strict = self.get_option('strict')
        compose, groups, keyed = self.get_option('compose'), self.get_option('groups'), self.get_option('keyed_groups')
        taken = set()
        for record in records:
            name = self.host_name(record, hostnames, taken)
            taken.add(name)
            variables = host_vars(record) if wrap_var is None else wrap_var(host_vars(record))
            self.inventory.add_host(name)
            for var, value in variables.items():
                self.inventory.set_variable(name, var, value)
            self._set_composite_vars(compose, variables, name, strict=strict)
            if groups or keyed:
                # The host's variables with what compose made, read once for both (not once per group entry).
                variables = combine_vars(variables, self.inventory.get_host(name).get_vars())
                self._add_host_to_composed_groups(groups, variables, name, strict=strict, fetch_hostvars=False)
                self._add_host_to_keyed_groups(keyed, variables, name, strict=strict, fetch_hostvars=False)

    @staticmethod
    def host_name(record, hostnames, taken):
        for preference in hostnames:
            value = preferred_name(record, preference)
            if value and value not in taken:
                return value
        if record['instance_id'] not in taken:
            return record['instance_id']
        return '%s_%s' % (record['cloud'], record['instance_id'])
