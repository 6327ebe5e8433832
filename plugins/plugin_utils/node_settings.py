# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The derived settings of one host, computed in Python from its variables.

roles/redis/vars/main.yml names each of them (``_redis_<name>``) as
``lookup('redisops.sentinel.node_settings', '<name>')``, and host.yml freezes those later tasks read
most for the rest of the run (set_fact). Each is computed from the host's variables, read
through ``read`` (the lookup templates them): a variable that a task or block overrides (the cluster
node overrides ``_redis_is_current_master`` and ``_redis_start_guard_settings``) is used as it is, a
derived one that is not overridden is computed here once per lookup, with no Jinja in between.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from ansible.errors import AnsibleError
from ansible.plugins.filter.core import to_bool

from ansible_collections.redisops.sentinel.plugins.filter.acl_users import acl_users
from ansible_collections.redisops.sentinel.plugins.module_utils.address import format_address

PREFIX = '_redis_'
# How roles/redis/vars/main.yml defines a derived setting that this module computes.
DEFINITION = "{{ lookup('redisops.sentinel.node_settings', '%s') }}"
_MISSING = object()


def as_int(value: Any) -> int:
    """Jinja's int filter: the number, else 0."""
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0


def yes_no(value: Any) -> str:
    return 'yes' if to_bool(value) else 'no'


class NodeSettings:
    """The derived settings of one host. ``read(name)`` returns the templated value of a variable and
    raises KeyError when the host has none, ``raw(name)`` its value as written (None: none);
    ``read_file(path)`` the text of a file, found as the ansible.builtin.file lookup finds it."""

    def __init__(self, read: Callable[[str], Any], raw: Callable[[str], Any], read_file: Callable[[str], str]) -> None:
        self._read = read
        self._raw = raw
        self._read_file = read_file
        self._vars: dict[str, Any] = {}

    # Variables.
    def var(self, name: str, default: Any = _MISSING) -> Any:
        if name not in self._vars:
            try:
                self._vars[name] = self._read(name)
            except KeyError:
                if default is _MISSING:
                    raise AnsibleError('redisops.sentinel.node_settings: the variable %s is not defined' % name)
                return default
        return self._vars[name]

    def text(self, name: str) -> str:
        value = self.var(name, '')
        return '' if value is None else str(value)

    def flag(self, name: str) -> bool:
        return to_bool(self.var(name))

    def or_default(self, name: str, fallback: Callable[[], Any]) -> Any:
        """The user's value, else (undefined or empty) the fallback: Jinja's default(x, true)."""
        return self.var(name, None) or fallback()

    # Derived settings.
    def get(self, name: str) -> Any:
        """A derived setting by its name without the prefix: the variable's own value when a task or
        block overrides it, else computed here."""
        compute = getattr(self, 'compute_' + name, None)
        if compute is None:
            raise AnsibleError('redisops.sentinel.node_settings: no derived setting named %r' % name)
        key = PREFIX + name
        if key not in self._vars:
            raw = self._raw(key)
            if raw is None or raw == DEFINITION % name:
                self._vars[key] = compute()
            else:
                self._vars[key] = self.var(key)
        return self._vars[key]

    # Addresses this host binds and reaches its own services at.
    def compute_server_bind(self) -> list[str]:
        return self._bind('redis_bind')

    def compute_sentinel_bind(self) -> list[str]:
        return self._bind('redis_sentinel_bind')

    def _bind(self, name: str) -> list[str]:
        listed = list(self.var(name) or [])
        return list(dict.fromkeys(listed if listed else [self.var('redis_address'), '127.0.0.1']))

    def compute_server_local(self) -> str:
        return local(self.get('server_bind'))

    def compute_sentinel_local(self) -> str:
        return local(self.get('sentinel_bind'))

    def compute_protected_mode(self) -> bool:
        if str(self.var('redis_protected_mode')) == 'auto':
            return len(self.text('redis_password')) > 0 or self.flag('redis_acl')
        return self.flag('redis_protected_mode')

    # What this host runs and needs.
    def compute_host_parts(self) -> list[str]:
        """A server when the host is in redis_master or redis_replica, a Sentinel when it is in
        redis_sentinel, and what the public role that includes the internal role is for (role users
        without those groups)."""
        groups = self.var('groups')
        host = self.var('inventory_hostname')
        parts = []
        if host in list(groups.get('redis_master', [])) + list(groups.get('redis_replica', [])):
            parts.append('server')
        if host in groups.get('redis_sentinel', []):
            parts.append('sentinel')
        role = self.var('_redis_preflight_role', None)
        if role is not None:
            parts.append('sentinel' if role == 'sentinel' else 'server')
        return list(dict.fromkeys(parts))

    def compute_host_prepared(self) -> bool:
        """Whether this run has prepared every part of this host (prepare.yml, host.yml)."""
        prepared = self.var('_redis_prepared_parts', None) or []
        return all(part in prepared for part in self.get('host_parts'))

    def compute_host_packages(self) -> list[str]:
        """Every package this host needs, installed in one transaction (host.yml)."""
        parts = self.get('host_parts')
        packages = []
        if 'server' in parts:
            packages += [self.get('server_package'), self.get('python_package')]
        if 'sentinel' in parts:
            packages += [self.get('sentinel_package'), self.get('python_package')]
        if self.var('redis_firewall') == 'firewalld':
            packages.append('firewalld')
        return list(dict.fromkeys(packages))

    def compute_host_ports(self) -> list[int]:
        """Every TCP port this host's services listen on (firewall, SELinux labels)."""
        parts = self.get('host_parts')
        ports = []
        if 'server' in parts:
            ports.append(as_int(self.var('redis_port')))
            plaintext = as_int(self.var('redis_tls_plaintext_port'))
            if self.flag('redis_tls') and plaintext > 0:
                ports.append(plaintext)
        if 'sentinel' in parts:
            ports.append(as_int(self.var('redis_sentinel_port')))
        return list(dict.fromkeys(ports))

    # Paths, packages, units and owner: the user's value, else the OS default.
    def _instance(self) -> str:
        return self.text('redis_instance')

    def compute_dir(self) -> str:
        instance = self._instance()
        return self.or_default('redis_dir', lambda: self.var('__redis_dir') + ('/' + instance if instance else ''))

    def compute_logfile(self) -> str:
        def packaged() -> str:
            logfile = self.var('__redis_logfile')
            instance = self._instance()
            if not instance:
                return logfile
            return '%s-%s.log' % (os.path.splitext(logfile)[0], instance)
        return self.or_default('redis_logfile', packaged)

    def compute_sentinel_dir(self) -> str:
        return self.or_default('redis_sentinel_dir', lambda: self.var('__redis_sentinel_dir'))

    def compute_sentinel_logfile(self) -> str:
        return self.or_default('redis_sentinel_logfile', lambda: self.var('__redis_sentinel_logfile'))

    def compute_server_package(self) -> str:
        return self.or_default('redis_server_package', lambda: self.var('__redis_server_package'))

    def compute_sentinel_package(self) -> str:
        return self.or_default('redis_sentinel_package', lambda: self.var('__redis_sentinel_package'))

    def compute_python_package(self) -> str:
        return self.or_default('redis_python_package', lambda: self.var('__redis_python_package'))

    def compute_server_service(self) -> str:
        return self.or_default('redis_server_service', lambda: self._packaged('__redis_instance_service',
                                                                              '__redis_server_service'))

    def compute_sentinel_service(self) -> str:
        return self.or_default('redis_sentinel_service', lambda: self.var('__redis_sentinel_service'))

    def compute_config_file(self) -> str:
        return self.or_default('redis_config_file', lambda: self._packaged('__redis_instance_config_file',
                                                                           '__redis_config_file'))

    def compute_server_pidfile(self) -> str:
        return self._packaged('__redis_instance_pidfile', '__redis_server_pidfile')

    def _packaged(self, template: str, default: str) -> str:
        instance = self._instance()
        # The packaged template unit's path or name, for this instance (%i).
        return self.var(template).replace('%i', instance) if instance else self.var(default)

    def compute_sentinel_config_file(self) -> str:
        return self.or_default('redis_sentinel_config_file', lambda: self.var('__redis_sentinel_config_file'))

    def compute_server_dropin(self) -> str:
        return '/etc/systemd/system/%s.service.d/redisops.conf' % self.get('server_service')

    def compute_sentinel_dropin(self) -> str:
        return '/etc/systemd/system/%s.service.d/redisops.conf' % self.get('sentinel_service')

    def compute_user(self) -> str:
        return self.or_default('redis_user', lambda: self.var('__redis_user'))

    def compute_group(self) -> str:
        return self.or_default('redis_group', lambda: self.var('__redis_group'))

    def compute_start_guard_config(self) -> str:
        instance = self._instance()
        return '%s/redisops-guard%s.json' % (os.path.dirname(self.get('config_file')), '-' + instance if instance else '')

    # TLS: where the files are deployed, and the settings servers and Sentinels share.
    def compute_tls_dir(self) -> str:
        return os.path.dirname(self.var('__redis_config_file')) + '/tls'

    def _tls_path(self, name: str) -> str:
        return self.get('tls_dir') + '/' + name if self.flag('redis_tls') else ''

    def compute_tls_ca(self) -> str:
        return self._tls_path('ca.crt')

    def compute_tls_cert(self) -> str:
        return self._tls_path('redis.crt')

    def compute_tls_key(self) -> str:
        return self._tls_path('redis.key')

    def compute_tls_files(self) -> list[dict[str, Any]]:
        """The TLS files as node_files writes them (the key never shown). During a CA change the CA
        file holds both CAs (redis_tls_ca_file_previous)."""
        if not self.flag('redis_tls'):
            return []
        owner = {'owner': self.get('user'), 'group': self.get('group')}
        previous = self.text('redis_tls_ca_file_previous')
        if previous:
            ca = ''.join(self._read_file(path).strip() + '\n' for path in (self.var('redis_tls_ca_file'), previous))
        else:
            ca = self._read_file(self.var('redis_tls_ca_file'))
        return [
            dict(owner, path=self.get('tls_dir'), state='directory', mode='0750'),
            dict(owner, path=self.get('tls_ca'), content=ca, mode='0644'),
            dict(owner, path=self.get('tls_cert'), content=self._read_file(self.var('redis_tls_cert_file')),
                 mode='0644'),
            dict(owner, path=self.get('tls_key'), secret_content=self._read_file(self.var('redis_tls_key_file')),
                 mode='0600'),
        ]

    def compute_tls_settings(self) -> dict[str, str]:
        if not self.flag('redis_tls'):
            return {}
        return {'tls-port': str(self.var('redis_port')), 'tls-cert-file': self.get('tls_cert'),
                'tls-key-file': self.get('tls_key'), 'tls-ca-cert-file': self.get('tls_ca'),
                'tls-auth-clients': self.var('redis_tls_auth_clients'), 'tls-replication': 'yes'}

    def compute_module_defaults(self) -> dict[str, Any]:
        """The TLS options of every module of the collection (module_defaults of its action group)."""
        if not self.flag('redis_tls'):
            return {'tls': False}
        return {'tls': True, 'tls_ca_file': self.get('tls_ca'), 'tls_cert_file': self.get('tls_cert'),
                'tls_key_file': self.get('tls_key')}

    # The server's settings.
    def compute_expected_replica_count(self) -> int:
        """How many replicas this node's master group has in the inventory (0: not known here)."""
        name = self.var('redis_master_name')
        group = next((group for group in self.var('_redis_groups') if group.get('name') == name), {})
        return max(len(group.get('members', [])) - 1, 0)

    def compute_server_settings(self) -> dict[str, str]:
        tls = self.flag('redis_tls')
        maxmemory = str(self.var('redis_maxmemory'))
        settings = {
            'bind': ' '.join(str(address) for address in self.get('server_bind')),
            'port': str(self.var('redis_tls_plaintext_port') if tls else self.var('redis_port')),
            'protected-mode': yes_no(self.get('protected_mode')),
            'timeout': str(self.var('redis_timeout')),
            'tcp-keepalive': str(self.var('redis_tcp_keepalive')),
            'pidfile': self.get('server_pidfile'),
            'loglevel': self.var('redis_loglevel'),
            'logfile': self.get('logfile'),
            'dir': self.get('dir'),
            'dbfilename': 'dump.rdb',
            'save': ' '.join(str(rule) for rule in self.var('redis_save')),
            'appendonly': yes_no(self.var('redis_appendonly')),
            'appendfsync': self.var('redis_appendfsync'),
            'replica-priority': str(self.var('redis_replica_priority')),
            'maxmemory': maxmemory or '0',
            'maxmemory-policy': self.var('redis_maxmemory_policy'),
            'replica-read-only': 'yes',
            'replica-serve-stale-data': yes_no(self.var('redis_replica_serve_stale_data')),
        }
        if self.flag('redis_acl'):
            settings['masteruser'] = self.var('redis_acl_replication_user')
        if self.text('redis_announce_ip'):
            settings['replica-announce-ip'] = self.var('redis_announce_ip')
        if as_int(self.var('redis_announce_port')) > 0:
            settings['replica-announce-port'] = str(self.var('redis_announce_port'))
        if to_bool(self.var('__redis_diskless_sync_max_replicas')):
            # The master starts a full sync as soon as its group's replicas wait, instead of
            # waiting repl-diskless-sync-delay for more.
            settings['repl-diskless-sync-max-replicas'] = str(self.get('expected_replica_count'))
        settings.update(self.get('tls_settings'))
        settings.update(self.var('redis_extra_config'))
        return settings

    # Secrets, and who logs in where: without ACL mode the default user with redis_password
    # everywhere; with it the admin user for the roles and modules, the replication user for
    # replicas, the Sentinel user for Sentinels.
    def compute_server_secrets(self) -> dict[str, str]:
        if self.flag('redis_acl'):
            return {'masterauth': self.var('redis_acl_replication_password')}
        password = self.text('redis_password')
        return {'requirepass': password, 'masterauth': password} if password else {}

    def compute_login_user(self) -> str:
        return self.var('redis_acl_admin_user') if self.flag('redis_acl') else ''

    def compute_login_password(self) -> str:
        return self.var('redis_acl_admin_password') if self.flag('redis_acl') else self.var('redis_password')

    def compute_login_password_previous(self) -> str:
        """During a password rotation: the password the modules fall back to on a node that refuses
        the new one."""
        if not self.flag('redis_acl'):
            return self.var('redis_password_previous')
        fallback = self.var('redis_password') if self.get('login_user_previous') else ''
        return self.var('redis_acl_admin_password_previous') or fallback

    def compute_login_user_previous(self) -> str:
        """Moving a one-password topology to ACL mode: in the run that turns redis_acl on with the
        default user kept, the admin user does not exist yet on the running servers."""
        moving = (self.flag('redis_acl') and self.flag('redis_acl_default_user') and self.text('redis_password')
                  and not self.text('redis_acl_admin_password_previous'))
        return 'default' if moving else ''

    def compute_server_rotation(self) -> dict[str, str]:
        if self.flag('redis_acl') or not self.text('redis_password') or not self.text('redis_password_previous'):
            return {}
        return {'requirepass_previous': self.var('redis_password_previous')}

    def compute_sentinel_auth_user(self) -> str:
        return self.var('redis_acl_sentinel_user') if self.flag('redis_acl') else ''

    def compute_sentinel_auth_pass(self) -> str:
        return self.var('redis_acl_sentinel_password') if self.flag('redis_acl') else self.var('redis_password')

    def compute_has_secrets(self) -> bool:
        """Whether any data-node secret is set (files and diffs that hold one are never shown)."""
        names = ('redis_password', 'redis_sentinel_password', 'redis_acl_admin_password',
                 'redis_acl_replication_password', 'redis_acl_sentinel_password')
        users = self.var('redis_acl_users') or []
        return any(self.text(name) for name in names) or any(str(user.get('password') or '') for user in users)

    def compute_acl_users(self) -> list[dict[str, Any]]:
        """The ACL users of ACL mode, as the redis_acl module and the bootstrap redis.conf take them."""
        def login(role: str) -> list[str]:
            prefix = 'redis_acl_%s_' % role
            return [self.var(prefix + 'user'), self.var(prefix + 'password'), self.var(prefix + 'password_previous')]
        return acl_users(self.var('redis_acl_users'), enabled=self.flag('redis_acl'),
                         default_user=self.flag('redis_acl_default_user'), password=self.var('redis_password'),
                         password_previous=self.var('redis_password_previous'), admin=login('admin'),
                         replication=login('replication'), sentinel=login('sentinel'))

    def compute_sentinel_password_conf(self) -> str:
        password = self.text('redis_sentinel_password')
        return '"%s"' % password.replace('\\', '\\\\').replace('"', '\\"')

    # The master of this host's group now (the one the Sentinels agree on, else the bootstrap one).
    def _live_master(self) -> dict[str, Any]:
        live = self.var('_redis_live_masters', None) or {}
        return live.get(self.var('redis_master_name')) or {}

    def compute_current_master_host(self) -> str:
        live = self._live_master()
        return live['host'] if 'host' in live else self.var('redis_master_host')

    def compute_current_master_port(self) -> Any:
        live = self._live_master()
        return live['port'] if 'port' in live else self.var('redis_master_port')

    def compute_is_current_master(self) -> bool:
        facts = self.var('ansible_facts', None) or {}
        mine = [self.var('redis_address'), self.var('redis_announce_ip')] + list(facts.get('all_ipv4_addresses') or [])
        ports = [as_int(self.var('redis_port')), as_int(self.var('redis_announce_port'))]
        return self.get('current_master_host') in mine and as_int(self.get('current_master_port')) in ports

    def compute_sentinel_masters(self) -> list[dict[str, Any]]:
        """The master groups the Sentinels monitor, with their settings."""
        settings = {key: as_int(self.var('redis_sentinel_' + key))
                    for key in ('quorum', 'down_after_milliseconds', 'parallel_syncs', 'failover_timeout')}
        return [dict(group, **settings) for group in self.var('_redis_groups')]

    def compute_group_nodes(self) -> list[dict[str, Any]]:
        """Each master group with its data nodes by inventory name and address (the doctor's groups)."""
        inventory = self.var('_redis_inventory')
        return [{'name': group['name'],
                 'nodes': [{'name': name, 'address': inventory['nodes'][name]['server']} for name in group['members']]}
                for group in inventory['groups']]

    def compute_recover_groups(self) -> list[dict[str, Any]]:
        """The groups as recover_info takes them: with each group's data nodes, the redis_master host that
        starts it (None when no such host is a member)."""
        masters = set(self.var('groups').get('redis_master') or [])
        return [dict(group, bootstrap=next((node['name'] for node in group['nodes'] if node['name'] in masters), None))
                for group in self.get('group_nodes')]

    def compute_cluster_plan(self) -> dict[str, Any]:
        """A Redis Cluster node (roles/redis_cluster, whose settings come in _redis_cluster_options): how the
        other nodes reach it, its data ports (the TLS port, and the plain one beside it), its bus port (Redis'
        default: the plain port, else the TLS port, + 10000), and the cluster's own server settings."""
        options = self.var('_redis_cluster_options')
        port = as_int(self.var('redis_port'))
        plain = as_int(self.var('redis_tls_plaintext_port')) if self.flag('redis_tls') else 0
        announced = as_int(self.var('redis_announce_port'))
        node = {
            'name': self.var('inventory_hostname'),
            'machine': self.var('ansible_host', None) or self.var('inventory_hostname'),
            'instance': self.text('redis_instance'),
            'node': format_address(self.text('redis_announce_ip') or self.text('redis_address'), announced or port),
            'data_ports': [port] + ([plain] if plain > 0 else []),
            'bus_port': as_int(options['bus_port']) or (plain if plain > 0 else port) + 10000,
            'replicas': as_int(options['replicas']),
        }
        return {'node': node, 'settings': self._cluster_settings(options, announced)}

    def _cluster_settings(self, options: dict[str, Any], announced: int) -> dict[str, str]:
        """What redis.conf holds at bootstrap and the server gets live afterwards."""
        tls = self.flag('redis_tls')
        optional = {
            'cluster-port': as_int(options['bus_port']),
            'cluster-announce-ip': self.text('redis_announce_ip'),
            'cluster-announce-tls-port' if tls else 'cluster-announce-port': announced,
            'cluster-announce-bus-port': as_int(options['announce_bus_port']),
            'tls-cluster': 'yes' if tls else '',
        }
        settings = {'cluster-enabled': 'yes',
                    'cluster-config-file': options['config_file'] or 'nodes-%d.conf' % as_int(self.var('redis_port')),
                    'cluster-node-timeout': str(as_int(options['node_timeout']))}
        settings.update({name: str(value) for name, value in optional.items() if value})
        return settings

    def compute_start_guard_settings(self) -> dict[str, Any]:
        """The start guard's settings: the Sentinels to ask, and the addresses this node is known as
        (the topology model's, then each bound address host:port; the guard reads an IPv6 one without
        brackets: its port is what follows the last colon)."""
        tls = self.flag('redis_tls')
        node = self.var('_redis_inventory')['nodes'][self.var('inventory_hostname')]
        port = str(self.var('redis_port'))
        return {
            'master_name': self.var('redis_master_name'),
            'sentinels': self.var('_redis_sentinel_addresses') or self.var('redis_sentinel_expected_sentinels', []),
            'sentinel_password': self.var('redis_sentinel_password'),
            'sentinel_password_previous': self.var('redis_sentinel_password_previous'),
            'tls': {'ca': self.get('tls_ca'), 'cert': self.get('tls_cert'), 'key': self.get('tls_key')} if tls else {},
            'me': list(dict.fromkeys([node['server']] + ['%s:%s' % (address, port) for address in self.get('server_bind')])),
            'config_file': self.get('config_file'),
            'timeout': as_int(self.var('redis_start_guard_timeout')),
            'interval': 1,
        }


def local(bound: list[str]) -> str:
    """Where tasks on this host reach a local service: the loopback address when it is bound."""
    return '127.0.0.1' if '127.0.0.1' in bound else bound[0]
