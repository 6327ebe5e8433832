# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight checks of the whole inventory, as pure functions of its variables.

The preflight action plugin gathers, for every host of the topology, its variables as the roles
see them (role defaults, inventory, facts, OS settings, all templated) and calls :func:`check`,
which returns every problem and warning at once. Nothing here talks to a host or to Ansible's
machinery, so the rules are tested with plain tables of host variables.

A value that is not known (a host without facts has no default ``redis_address``) is None or
absent, and the checks that need it are skipped for that host.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.redisops.sentinel.plugins.module_utils.acl import redact, rule_words
from ansible_collections.redisops.sentinel.plugins.module_utils.validate import (
    MASTER_NAME_CHARACTERS, acl_refused_rule, acl_user_name_error, is_instance_name, is_ip_address,
    is_master_name, is_port, survives_unquoted)

ROLES = ('master', 'replica', 'sentinel')
GROUPS = {'master': 'redis_master', 'replica': 'redis_replica', 'sentinel': 'redis_sentinel'}
DEFAULT_MASTER_NAME = 'mymaster'
PORTS = ('redis_port', 'redis_sentinel_port', 'redis_master_port')
ANNOUNCED_PORTS = ('redis_announce_port', 'redis_sentinel_announce_port')
# Setting -> its least value.
MINIMUMS = {
    'redis_sentinel_down_after_milliseconds': 1,
    'redis_sentinel_failover_timeout': 1,
    'redis_sentinel_parallel_syncs': 1,
    'redis_wait_timeout': 1,
    'redis_start_guard_timeout': 5,
    'redis_replica_priority': 0,
}
APPENDFSYNC = ('always', 'everysec', 'no')
# Below this, a fork or a slow disk can stall a server past down-after.
SAFE_DOWN_AFTER_MS = 1000
# Settings every host of the topology must share; the passwords among them are never shown.
SHARED = (
    ('redis_password', 'replicas, masters and Sentinels log in with it (requirepass, masterauth, auth-pass)'),
    ('redis_password_previous', 'every data node keeps accepting it until the clients have switched'),
    ('redis_sentinel_password', 'Sentinels authenticate to each other with their own password'),
    ('redis_sentinel_password_previous', 'every Sentinel keeps accepting it until the clients have switched'),
    ('redis_acl', 'ACL mode decides how every node logs in to the others'),
    ('redis_acl_admin_user', 'the roles log in to every node as this user'),
    ('redis_acl_admin_password', 'the roles log in to every node with it'),
    ('redis_acl_replication_user', 'replicas log in to their master as this user'),
    ('redis_acl_replication_password', 'replicas log in to their master with it'),
    ('redis_acl_sentinel_user', 'Sentinels log in to every data node as this user'),
    ('redis_acl_sentinel_password', 'Sentinels log in to every data node with it'),
    ('redis_acl_admin_password_previous', 'every data node keeps accepting it until the rotation ends'),
    ('redis_acl_replication_password_previous', 'every data node keeps accepting it until the rotation ends'),
    ('redis_acl_sentinel_password_previous', 'every data node keeps accepting it until the rotation ends'),
    ('redis_tls', 'nodes replicate and Sentinels talk to each other over one protocol'),
)
SECRETS = ('redis_password', 'redis_sentinel_password', 'redis_acl_admin_password',
           'redis_acl_replication_password', 'redis_acl_sentinel_password', 'redis_password_previous',
           'redis_acl_admin_password_previous', 'redis_acl_replication_password_previous',
           'redis_acl_sentinel_password_previous', 'redis_sentinel_password_previous')
# A password being rotated out (docs/operations.md, Rotate a password) and the password that replaces it.
ROTATIONS = (
    ('redis_password_previous', 'redis_password'),
    ('redis_acl_admin_password_previous', 'redis_acl_admin_password'),
    ('redis_acl_replication_password_previous', 'redis_acl_replication_password'),
    ('redis_acl_sentinel_password_previous', 'redis_acl_sentinel_password'),
    ('redis_sentinel_password_previous', 'redis_sentinel_password'),
)
TLS_FILES = ('redis_tls_ca_file', 'redis_tls_cert_file', 'redis_tls_key_file')
WILDCARDS = ('0.0.0.0', '*', '::', '::*')
# Hosts named in one message before "and N more".
SHOWN_HOSTS = 6


@dataclass
class Inventory:
    """What the preflight sees: each host's variables, the inventory groups and the play."""

    # Inventory host -> its variables as the roles see them, 'ansible_facts' included.
    hosts: dict[str, dict[str, Any]]
    # redis_master, redis_replica, redis_sentinel -> their hosts (missing groups: empty).
    groups: dict[str, list[str]] = field(default_factory=dict)
    # Hosts of the play that runs the check, and the role they run when a public role runs it
    # (for inventories without the groups).
    play_hosts: list[str] = field(default_factory=list)
    play_role: str | None = None
    # Host -> why some of its own variables could not be read (they could not be templated).
    unusable: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Findings:
    problems: list[str]
    warnings: list[str]


class _Notes:
    """Messages, each listed once with the hosts it applies to."""

    def __init__(self) -> None:
        self._hosts: dict[str, list[str]] = defaultdict(list)

    def add(self, text: str, host: str | None = None) -> None:
        hosts = self._hosts[text]
        if host is not None and host not in hosts:
            hosts.append(host)

    def lines(self) -> list[str]:
        return ['%s: %s' % (_host_list(hosts), text) if hosts else text for text, hosts in self._hosts.items()]


def _host_list(hosts: list[str]) -> str:
    if len(hosts) <= SHOWN_HOSTS:
        return ', '.join(hosts)
    return '%s and %d more hosts' % (', '.join(hosts[:SHOWN_HOSTS - 1]), len(hosts) - SHOWN_HOSTS + 1)


def _address_list(addresses: frozenset) -> str:
    """A host's addresses for a message: link-local ones left out, at most four."""
    shown = sorted(a for a in addresses if not ipaddress.ip_address(a).is_link_local)
    if len(shown) > 4:
        return '%s and %d more' % (', '.join(shown[:4]), len(shown) - 4)
    return ', '.join(shown) or 'none'


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _ip(text: str) -> str:
    """An IP address in one canonical form (IPv6 compressed, lower case); other text as it is."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def _endpoint(address: str, port: Any) -> str:
    address = _ip(address)
    return '[%s]:%s' % (address, port) if ':' in address else '%s:%s' % (address, port)


@dataclass
class Host:
    """One inventory host: its validated settings, roles and facts."""

    name: str
    settings: dict[str, Any]
    roles: frozenset
    facts: dict[str, Any]
    os_vars: dict[str, Any]
    # The Sentinels of the topology: the redis_sentinel group, else the list a role user gave (0: unknown).
    sentinel_count: int = 0

    def get(self, key: str, default: Any = None) -> Any:
        value = self.settings.get(key)
        return default if value is None else value

    @property
    def address(self) -> str | None:
        """redis_address, None when it is not known (a default without facts)."""
        return self.settings.get('redis_address')

    @property
    def is_data(self) -> bool:
        return bool(self.roles & {'master', 'replica'})

    @property
    def master_name(self) -> str:
        return self.get('redis_master_name', DEFAULT_MASTER_NAME)

    def held_addresses(self) -> frozenset | None:
        """The addresses of the host from its facts; None when the facts were not gathered."""
        if 'all_ipv4_addresses' not in self.facts and 'all_ipv6_addresses' not in self.facts:
            return None
        return frozenset(_ip(a) for a in list(self.facts.get('all_ipv4_addresses') or [])
                         + list(self.facts.get('all_ipv6_addresses') or []))

    def holds(self, address: str) -> bool | None:
        """Whether the host holds ``address``; None when that cannot be told."""
        held = self.held_addresses()
        if held is None or not is_ip_address(address):
            return None
        return ipaddress.ip_address(address).is_loopback or _ip(address) in held


@dataclass(frozen=True)
class MasterGroup:
    name: str
    # The bootstrap master's address (None: not known here).
    host: str | None
    members: tuple  # data hosts of the group, the bootstrap master first


def check(inventory: Inventory, spec: Mapping[str, Any], is_file: Callable[[str], bool]) -> Findings:
    """Every problem and warning of the inventory, each a sentence naming the variable, the value
    (never a secret's) and what to change.

    ``spec`` holds the options of the internal role's argument spec; ``is_file`` tells whether a
    controller path is a file the roles can copy.
    """
    problems, warnings = _Notes(), _Notes()
    for name, reasons in inventory.unusable.items():
        for reason in reasons:
            problems.add(reason, name)
    hosts = _hosts(inventory, ArgumentSpecValidator(dict(spec)), problems)
    for host in hosts.values():
        _check_host(host, is_file, problems, warnings)
    _check_shared(hosts, problems)
    _check_servers_of_machines(hosts, problems)
    groups = _master_groups(hosts, inventory.groups)
    _check_bootstrap_masters(inventory.groups, hosts, problems)
    _check_replica_priorities(groups, problems)
    _check_sentinels(hosts, groups, inventory.groups, problems)
    return Findings(problems.lines(), warnings.lines())


# The hosts and their settings.

def _hosts(inventory: Inventory, validator: ArgumentSpecValidator, problems: _Notes) -> dict[str, Host]:
    names = list(inventory.play_hosts)
    for role in ROLES:
        names += [name for name in inventory.groups.get(GROUPS[role]) or [] if name not in names]
    hosts = {}
    for name in names:
        variables = inventory.hosts.get(name, {})
        roles = {role for role in ROLES if name in (inventory.groups.get(GROUPS[role]) or [])}
        if inventory.play_role and name in inventory.play_hosts:
            roles.add(inventory.play_role)
        settings = _validated(name, variables, validator, problems)
        os_vars = {key: value for key, value in variables.items() if key.startswith('__redis_')}
        sentinels = inventory.groups.get(GROUPS['sentinel']) or variables.get('redis_sentinel_expected_sentinels') or []
        hosts[name] = Host(name, settings, frozenset(roles), dict(variables.get('ansible_facts') or {}), os_vars,
                           len(sentinels))
    return hosts


def _validated(host: str, variables: Mapping[str, Any], validator: ArgumentSpecValidator,
               problems: _Notes) -> dict[str, Any]:
    """The settings coerced to their documented types; an invalid one is reported and left out."""
    spec = validator.argument_spec
    params = {key: value for key, value in variables.items() if key in spec and value is not None}
    result = validator.validate(params)
    if not result.error_messages:
        return dict(result.validated_parameters)
    # The validator's messages may quote a value: never a secret's.
    secrets = [str(params.get(name) or '') for name in SECRETS]
    users = params.get('redis_acl_users')
    secrets += [str(user.get('password') or '') for user in users if isinstance(user, dict)] \
        if isinstance(users, list) else []
    settings = {}
    for key in spec:
        single = ArgumentSpecValidator({key: spec[key]}).validate({key: params[key]} if key in params else {})
        for message in single.error_messages:
            problems.add('%s. See docs/variables.md for its type and allowed values.' % redact(message, secrets), host)
        if not single.error_messages:
            settings[key] = single.validated_parameters.get(key)
    return settings


def _acl_users(host: Host) -> list[dict[str, Any]]:
    return [user for user in host.get('redis_acl_users', []) if isinstance(user, dict)]


# Checks of one host.

def _check_host(host: Host, is_file: Callable[[str], bool], problems: _Notes, warnings: _Notes) -> None:
    _check_numbers(host, problems)
    _check_address(host, problems)
    _check_announced(host, problems)
    _check_rotations(host, problems)
    if host.get('redis_tls', False):
        _check_tls_files(host, is_file, problems)
    if host.get('redis_acl', False):
        _check_acl(host, problems)
    if host.is_data:
        _check_server(host, problems, warnings)
    if 'replica' in host.roles:
        _check_replica(host, problems)
    if 'sentinel' in host.roles:
        _check_sentinel_host(host, problems, warnings)


def _check_numbers(host: Host, problems: _Notes) -> None:
    for name in PORTS:
        port = host.settings.get(name)
        if port is not None and not is_port(port):
            problems.add('%s is %s: a port is between 1 and 65535%s.'
                         % (name, port, " (its default is the redis_port of the group's redis_master host)"
                            if name == 'redis_master_port' else ''), host.name)
    for name in ANNOUNCED_PORTS:
        port = host.settings.get(name)
        if port is not None and not (port == 0 or is_port(port)):
            problems.add('%s is %s: a port is between 1 and 65535 (0: no announcement).' % (name, port), host.name)
    for name, least in MINIMUMS.items():
        value = host.settings.get(name)
        if value is not None and value < least:
            problems.add('%s is %s: it must be at least %d%s.'
                         % (name, value, least, ' (0: never promoted)' if name == 'redis_replica_priority' else ''),
                         host.name)
    fsync = host.settings.get('redis_appendfsync')
    if fsync is not None and fsync not in APPENDFSYNC:
        problems.add('redis_appendfsync is %s: it must be one of %s.' % (_shown(fsync), ', '.join(APPENDFSYNC)),
                     host.name)


def _check_address(host: Host, problems: _Notes) -> None:
    address = host.address
    if address is None:
        return
    if not address:
        problems.add('redis_address is empty: no default IPv4 address was found in the facts. Set redis_address '
                     'to the address the other Redis hosts use to reach this one.', host.name)
        return
    if host.holds(address) is False:
        problems.add('redis_address %s is not an address of this host (it has %s). Set redis_address to this '
                     'host\'s address on the Redis network, which the services bind; behind NAT keep it local and '
                     'put the address the others reach it at in redis_announce_ip.'
                     % (address, _address_list(host.held_addresses() or frozenset())), host.name)
    binds = (host.get('redis_bind', []) if host.is_data else []) + \
        (host.get('redis_sentinel_bind', []) if 'sentinel' in host.roles else [])
    for bound in binds:
        if not bound.startswith('-') and _ip(bound) != _ip(address) and host.holds(bound) is False:
            problems.add('redis_bind / redis_sentinel_bind holds %s, which is not an address of this host: the '
                         'service could not start. Remove it, or mark it optional as -%s.' % (bound, bound), host.name)


def _check_announced(host: Host, problems: _Notes) -> None:
    announced = host.get('redis_announce_ip', '')
    if announced and not is_ip_address(announced) and not host.get('redis_sentinel_resolve_hostnames', False):
        problems.add('redis_announce_ip is the host name %s: Sentinel announces and compares addresses, so give an '
                     'IP address, or set redis_sentinel_resolve_hostnames: true.' % announced, host.name)


def _check_tls_files(host: Host, is_file: Callable[[str], bool], problems: _Notes) -> None:
    bad = [name for name in TLS_FILES if not host.get(name, '') or not is_file(host.get(name))]
    if bad:
        problems.add('redis_tls is on, but %s %s on the controller. Give the paths of the CA certificate '
                     'and of this host\'s certificate and key, in PEM.'
                     % (', '.join('%s (%s)' % (name, host.get(name) or 'empty') for name in bad),
                        'is not a file' if len(bad) == 1 else 'are not files'), host.name)
    previous = host.get('redis_tls_ca_file_previous', '')
    if previous and not is_file(previous):
        problems.add('redis_tls_ca_file_previous (%s) is not a file on the controller: during a CA change it is the '
                     'old CA certificate, trusted beside redis_tls_ca_file until every node has a certificate of the '
                     'new CA.' % previous, host.name)


def rotation_problem(previous_name: str, previous: Any, name: str, current: Any) -> str | None:
    """Why a password being rotated out (``previous``) cannot be used with the one replacing it, or None."""
    if not previous:
        return None
    if not current:
        return ('%s is set but %s is empty: %s is the password being rotated out, so set the new one in %s (to turn '
                'the password off, remove both).' % (previous_name, name, previous_name, name))
    if previous == current:
        return ('%s is the same as %s: it must hold the password being rotated out, and %s the new one; remove it '
                'when no rotation is under way.' % (previous_name, name, previous_name))
    return None


def _check_rotations(host: Host, problems: _Notes) -> None:
    for previous_name, name in ROTATIONS:
        problem = rotation_problem(previous_name, host.get(previous_name, ''), name, host.get(name, ''))
        if problem:
            problems.add(problem, host.name)
    if host.get('redis_acl', False):
        for user in _acl_users(host):
            label = 'redis_acl_users %s' % user.get('name', '?')
            problem = rotation_problem(label + ' previous_password', user.get('previous_password', ''),
                                       label + ' password', user.get('password', ''))
            if problem:
                problems.add(problem, host.name)


def _check_acl(host: Host, problems: _Notes) -> None:
    missing = [name for name in ('redis_acl_admin_password', 'redis_acl_replication_password')
               if not host.get(name, '')]
    if not host.get('redis_acl_sentinel_password', '') and host.sentinel_count > 0:
        missing.append('redis_acl_sentinel_password')
    if host.get('redis_acl_default_user', True) and not host.get('redis_password', ''):
        missing.append('redis_password (redis_acl_default_user is true)')
    missing += ['redis_acl_users password of %s' % user.get('name', '?')
                for user in _acl_users(host) if 'password' not in user]
    if missing:
        problems.add('ACL mode is on: set %s.' % ', '.join(missing), host.name)
    roles_users = ('redis_acl_admin_user', 'redis_acl_replication_user', 'redis_acl_sentinel_user')
    names = [host.get(name, '') for name in roles_users] + ['default']
    names += [str(user.get('name', '')) for user in _acl_users(host)]
    for name in names:
        error = acl_user_name_error(name)
        if error:
            problems.add('ACL user %s: Redis writes user names unquoted into its files.' % error, host.name)
    if len(set(names)) != len(names):
        problems.add('ACL user names must differ from each other and from default (%s).' % ', '.join(names), host.name)
    for user in _acl_users(host):
        _check_acl_rules(host, user, problems)


def _check_acl_rules(host: Host, user: Mapping[str, Any], problems: _Notes) -> None:
    try:
        refused = acl_refused_rule(rule_words(user.get('rules')))
    except TypeError as exc:
        problems.add('redis_acl_users rules of %s %s.' % (user.get('name', '?'), exc), host.name)
        return
    if refused is None:
        return
    kind, word = refused
    if kind == 'state':
        problems.add("redis_acl_users rules of %s hold %r: the roles start every user from 'reset' and turn it on; "
                     'leave it out.' % (user.get('name', '?'), word), host.name)
    else:
        problems.add('redis_acl_users rules must not set passwords (%s holds %s): give each user\'s password in its '
                     'password field, which is kept out of logs.'
                     % (user.get('name', '?'), repr(word) if word else 'a word starting with >, <, # or !'), host.name)


def _check_server(host: Host, problems: _Notes, warnings: _Notes) -> None:
    instance = host.get('redis_instance', '')
    if instance and not is_instance_name(instance):
        problems.add("redis_instance is %r: it names a systemd unit, a configuration file and a data directory, so "
                     "use letters, digits, '-' and '_' (and not 'sentinel', the Sentinel's directory)." % instance,
                     host.name)
    elif instance and host.os_vars.get('__redis_instance_service', None) == '':
        problems.add('redis_instance is %r, but this OS family packages no template unit for several servers per '
                     'host: run one server per host there.' % instance, host.name)
    address = host.address
    bind = host.get('redis_bind', []) or [address, '127.0.0.1']
    if address and not {_ip(item.lstrip('-')) for item in bind} & ({_ip(address)} | set(WILDCARDS)):
        problems.add('redis_bind is %s but does not contain redis_address %s: replicas and Sentinels could not '
                     'connect. Add %s to redis_bind or set redis_address.' % (bind, address, address), host.name)
    if host.settings.get('redis_appendonly') is False:
        warnings.add(_appendonly_warning(host), host.name)
    if not host.get('redis_password', '') and not _protected_mode(host):
        warnings.add('redis_password is not set: protected-mode is off so that replicas and Sentinels can connect, '
                     'and anyone who can reach the addresses of redis_bind on redis_port can read and write every '
                     'key. Set redis_password and keep the firewall closed to everything but the Redis hosts.',
                     host.name)


def _protected_mode(host: Host) -> bool:
    """Whether the server runs in protected mode (redis_protected_mode, auto: with a password or ACL mode)."""
    mode = host.get('redis_protected_mode', 'auto')
    if str(mode).lower() == 'auto':
        return bool(host.get('redis_password', '')) or bool(host.get('redis_acl', False))
    return boolean(mode, strict=False)


def _appendonly_warning(host: Host) -> str:
    since = ('without any of its data (redis_save is empty too, so nothing is persisted)'
             if not host.get('redis_save', []) else 'without the writes acknowledged since its last RDB snapshot')
    return ('redis_appendonly is false: a server whose process restarts (crash, OOM kill, reboot, restart by hand) '
            'comes back %s. A master would then hand that loss to its replicas, so the start guard keeps it from '
            'starting as master and waits until the Sentinels promote a replica: every such restart costs a '
            'failover. Keep redis_appendonly true unless the data is a disposable cache.' % since)


def _check_replica(host: Host, problems: _Notes) -> None:
    master_host = host.settings.get('redis_master_host')
    master_port = host.settings.get('redis_master_port')
    if master_host is None:
        return
    if not master_host:
        problems.add('redis_master_host is empty: no host of the redis_master group has redis_master_name %s. Put one '
                     'there, set this host\'s redis_master_name to an existing master group, or set '
                     'redis_master_host to the master\'s address.' % host.master_name, host.name)
        return
    own = {host.address, host.get('redis_announce_ip', ''), '127.0.0.1', 'localhost', host.name} - {None, ''}
    ports = {host.get('redis_port'), host.get('redis_announce_port')}
    if (_ip(master_host) in {_ip(item) for item in own}) and master_port in ports:
        problems.add('redis_master_host %s:%s is this host itself: a replica cannot replicate from itself. Point '
                     'redis_master_host at the master or move this host to the redis_master group.'
                     % (master_host, master_port), host.name)
    _check_master_address(host, master_host, problems)


def _check_master_address(host: Host, master_host: str, problems: _Notes) -> None:
    if master_host and not is_ip_address(master_host) and not host.get('redis_sentinel_resolve_hostnames', False):
        problems.add("redis_master_host is the host name %s. Sentinel compares and announces addresses; with names it "
                     "needs 'sentinel resolve-hostnames yes'. Use an IP address, or set "
                     "redis_sentinel_resolve_hostnames: true." % master_host, host.name)


def _check_sentinel_host(host: Host, problems: _Notes, warnings: _Notes) -> None:
    count = host.sentinel_count
    quorum = host.settings.get('redis_sentinel_quorum')
    if quorum is not None and (quorum < 1 or (count and quorum > count)):
        problems.add('redis_sentinel_quorum is %s: it must be between 1 and the number of Sentinels (%s); the default '
                     'is a majority of them.' % (quorum, count or 'unknown'), host.name)
    secret_name = 'redis_acl_sentinel_password' if host.get('redis_acl', False) else 'redis_password'
    if not survives_unquoted(str(host.get(secret_name, ''))):
        problems.add('%s contains white space or a quote. Redis Sentinel writes \'sentinel auth-pass\' unquoted '
                     'whenever it rewrites sentinel.conf, so the file would stop parsing and Sentinel could not '
                     'restart. Choose a password without spaces, tabs, \' or " (letters, digits and other '
                     'punctuation such as $ # ! %% are fine).' % secret_name, host.name)
    if host.get('redis_sentinel_password_previous', '') and not survives_unquoted(
            str(host.get('redis_sentinel_password', ''))):
        problems.add('redis_sentinel_password contains white space or a quote, and redis_sentinel_password_previous '
                     'is set: during the rotation the Sentinels log in to each other with the new password '
                     '(sentinel-pass), which Sentinel writes unquoted into sentinel.conf, so the file would stop '
                     'parsing. Choose a new password without spaces, tabs, \' or ".', host.name)
    down_after = host.settings.get('redis_sentinel_down_after_milliseconds')
    if down_after is not None and 0 < down_after < SAFE_DOWN_AFTER_MS:
        warnings.add('redis_sentinel_down_after_milliseconds is %d: below %d ms, a fork (RDB snapshot, AOF rewrite) or '
                     'a slow disk can stall a healthy master past down-after, and the Sentinels then fail it over. '
                     'Use %d or more, and more than the master\'s latest_fork_usec (INFO stats).'
                     % (down_after, SAFE_DOWN_AFTER_MS, SAFE_DOWN_AFTER_MS), host.name)


# Checks across hosts.

def _check_shared(hosts: dict[str, Host], problems: _Notes) -> None:
    """The settings every host of the topology must agree on; secrets are never shown."""
    for name, why in SHARED:
        values: dict[str, list[str]] = defaultdict(list)
        for host in hosts.values():
            if name in host.settings:
                values[repr(host.settings[name])].append(host.name)
        if len(values) < 2:
            continue
        if name in SECRETS:
            sides = '; '.join('one value on %s' % _host_list(names) for names in values.values())
        else:
            sides = '; '.join('%s on %s' % (value, _host_list(names)) for value, names in values.items())
        problems.add('%s differs between the hosts of the topology (%s): %s, so it must be the same on all of them. '
                     'Set it once, in group_vars/all.' % (name, sides, why))


def _check_servers_of_machines(hosts: dict[str, Host], problems: _Notes) -> None:
    """Servers (inventory hosts) on one address need their own port and instance name."""
    endpoints: dict[str, list[str]] = defaultdict(list)
    instances: dict[tuple, list[str]] = defaultdict(list)
    for host in hosts.values():
        if host.is_data and host.address and host.get('redis_port') is not None:
            endpoints[_endpoint(host.address, host.get('redis_port'))].append(host.name)
            instances[(_ip(host.address), host.get('redis_instance', ''))].append(host.name)
    for endpoint, names in endpoints.items():
        if len(names) > 1:
            problems.add('Two servers of the inventory listen on %s (%s): give each server on a host its own '
                         'redis_port.' % (endpoint, ', '.join(names)))
    for (address, instance), names in instances.items():
        if len(names) > 1:
            which = '' if instance else ' (the default server)'
            problems.add("Two servers of the inventory on %s have redis_instance %r%s (%s): they would share one "
                         "unit, configuration file and data directory. Give every server but one on a host its own "
                         "redis_instance (e.g. the port)." % (address, instance, which, ', '.join(names)))
    for host in hosts.values():
        port = host.get('redis_sentinel_port')
        if 'sentinel' in host.roles and host.address and _endpoint(host.address, port) in endpoints:
            problems.add('redis_sentinel_port is %s, the port of a server on the same address (redis_port): give '
                         'the Sentinel a port of its own (default 26379).' % port, host.name)


def _master_groups(hosts: dict[str, Host], groups: Mapping[str, list[str]]) -> list[MasterGroup]:
    """One group per redis_master host, with its data hosts; without that group, each Sentinel's or
    replica's own redis_master_name and redis_master_host."""
    masters = [hosts[name] for name in groups.get(GROUPS['master']) or [] if name in hosts]
    data = [host for host in hosts.values() if host.is_data]
    found = []
    for master in masters:
        address = master.get('redis_announce_ip') or master.address
        members = (master,) + tuple(h for h in data if h is not master and h.master_name == master.master_name
                                    and h.name not in (groups.get(GROUPS['master']) or []))
        found.append(MasterGroup(master.master_name, address, members))
    if masters:
        return found
    seen = {}
    for host in hosts.values():
        if host.roles & {'replica', 'sentinel'} and host.master_name not in seen:
            members = tuple(h for h in data if h.master_name == host.master_name)
            seen[host.master_name] = MasterGroup(host.master_name, host.settings.get('redis_master_host'), members)
    return list(seen.values())


def _check_bootstrap_masters(groups: Mapping[str, list[str]], hosts: dict[str, Host], problems: _Notes) -> None:
    masters = [name for name in groups.get(GROUPS['master']) or [] if name in hosts]
    names = [hosts[name].master_name for name in masters]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        problems.add('The redis_master group holds %d hosts (%s) and more than one of them start master group %s: '
                     'each master group has exactly one bootstrap master. Move the others to redis_replica, or '
                     'give each its own redis_master_name to start a separate master group.'
                     % (len(masters), ', '.join(masters), ', '.join(duplicates)))


def _check_replica_priorities(groups: list[MasterGroup], problems: _Notes) -> None:
    """A group whose every replica has replica-priority 0 can never fail over."""
    for group in groups:
        replicas = [host for host in group.members[1:] if host.settings.get('redis_replica_priority') is not None]
        if replicas and len(replicas) == len(group.members) - 1 and \
                all(host.settings['redis_replica_priority'] == 0 for host in replicas):
            problems.add('Master group %s: every replica (%s) has redis_replica_priority 0, so the Sentinels could '
                         'never promote one and a failed master would stay down. Give at least one of them a '
                         'priority above 0 (default 100; a lower value is promoted first).'
                         % (group.name, ', '.join(host.name for host in replicas)))


def _check_sentinels(hosts: dict[str, Host], master_groups: list[MasterGroup], groups: Mapping[str, list[str]],
                     problems: _Notes) -> None:
    sentinels = [host for host in hosts.values() if 'sentinel' in host.roles]
    if not sentinels:
        return
    for group in master_groups:
        if not is_master_name(group.name):
            problems.add('redis_master_name is %r: a master group name may only contain %s.'
                         % (group.name, MASTER_NAME_CHARACTERS))
        if group.host == '':
            problems.add('Master group %s has no bootstrap master address: set redis_master_host (or the '
                         'redis_address of its redis_master host).' % group.name)
        for host in sentinels:
            _check_master_address(host, group.host or '', problems)
    count = len(groups.get(GROUPS['sentinel']) or []) or max(host.sentinel_count for host in sentinels)
    allowed = all(host.get('redis_sentinel_allow_fewer_than_three', False) for host in sentinels)
    if 0 < count < 3 and not allowed:
        problems.add('The topology has %d Sentinel(s). With fewer than three, a network partition can leave no side '
                     'able to authorise a failover, or let both sides promote a master (split brain). Add Sentinels '
                     'on separate hosts, or set redis_sentinel_allow_fewer_than_three: true for a test setup.'
                     % count)
