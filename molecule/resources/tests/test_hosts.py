# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host state after a converge, read with testinfra from each lab container.

molecule/resources/tasks/host_checks.yml writes what the inventory expects
(one entry per inventory host, several of which may share a container) to a
JSON file and runs, from the repository root:

    REDISOPS_HOST_EXPECTATIONS=FILE pytest -q molecule/resources/tests/test_hosts.py \\
        --hosts=docker://CONTAINER,...

Unit names, paths and users come from roles/redis/vars/<family>-<flavor>.yml,
as the roles take them; the ports, addresses and options from the inventory.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROLE_VARS = Path(__file__).resolve().parents[3] / 'roles/redis/vars'
START_GUARD = '/usr/local/libexec/redisops/start_guard.py'
# system_info.distribution -> the OS family of the role's vars files.
DEBIAN_FAMILY = ('debian', 'ubuntu')


@dataclass
class Server:
    """One redis-server of a container (an inventory host)."""

    instance: str
    bind: list[str]
    ports: list[int]


@dataclass
class Expected:
    """What one container must hold, from every inventory host it carries."""

    flavor: str
    firewall: str
    zone: str
    tls: bool
    servers: list[Server] = field(default_factory=list)
    sentinel_bind: list[str] = field(default_factory=list)
    sentinel_port: int = 0
    proxy_ports: list[int] = field(default_factory=list)


def _bind(entry: dict[str, Any], key: str) -> list[str]:
    """The addresses a service binds: the inventory's list, else the host's address and loopback."""
    return sorted(set(entry[key] or [entry['address'], '127.0.0.1']))


def _server(entry: dict[str, Any]) -> Server:
    ports = [int(entry['port'])]
    if entry['tls'] and int(entry['tls_plaintext_port']) > 0:
        ports.append(int(entry['tls_plaintext_port']))
    return Server(instance=entry['instance'], bind=_bind(entry, 'bind'), ports=ports)


def _expected_for(container: str, entries: list[dict[str, Any]]) -> Expected:
    mine = [entry for entry in entries if entry['container'] == container]
    if not mine:
        pytest.fail('%s is not in the expectations file' % container)
    first = mine[0]
    expected = Expected(flavor=first['flavor'], firewall=first['firewall'], zone=first['firewall_zone'],
                        tls=bool(first['tls']))
    expected.servers = [_server(entry) for entry in mine if entry['server']]
    sentinels = [entry for entry in mine if entry['sentinel']]
    if sentinels:
        expected.sentinel_bind = _bind(sentinels[0], 'sentinel_bind')
        expected.sentinel_port = int(sentinels[0]['sentinel_port'])
    expected.proxy_ports = sorted({int(port) for entry in mine for port in entry.get('proxy_ports', [])})
    return expected


@pytest.fixture(scope='module')
def entries() -> list[dict[str, Any]]:
    path = os.environ.get('REDISOPS_HOST_EXPECTATIONS')
    if not path:
        pytest.fail('REDISOPS_HOST_EXPECTATIONS must name the JSON file host_checks.yml writes')
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


@pytest.fixture()
def expected(host: Any, entries: list[dict[str, Any]]) -> Expected:
    return _expected_for(host.backend.get_hostname(), entries)


@pytest.fixture()
def os_vars(host: Any, expected: Expected) -> dict[str, Any]:
    """The role's vars file for this container's OS family and flavour."""
    family = 'Debian' if host.system_info.distribution in DEBIAN_FAMILY else 'RedHat'
    with open(ROLE_VARS / ('%s-%s.yml' % (family, expected.flavor)), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def _instance_path(os_vars: dict[str, Any], name: str, instance: str) -> str:
    """A per-server name of the vars file: its instance form for a second server."""
    if instance:
        return os_vars['__redis_instance_' + name].replace('%i', instance)
    return os_vars['__redis_' + name]


def _units(os_vars: dict[str, Any], expected: Expected) -> list[str]:
    units = [_instance_path(os_vars, 'service', server.instance) if server.instance
             else os_vars['__redis_server_service'] for server in expected.servers]
    if expected.sentinel_port:
        units.append(os_vars['__redis_sentinel_service'])
    if expected.firewall == 'firewalld':
        units.append('firewalld')
    return units


def _redis_units(os_vars: dict[str, Any], expected: Expected) -> list[str]:
    return [unit for unit in _units(os_vars, expected) if unit != 'firewalld']


def _guard_settings_path(os_vars: dict[str, Any], server: Any) -> str:
    config = _instance_path(os_vars, 'config_file', server.instance)
    return os.path.join(os.path.dirname(config), 'redisops-guard' + ('-' + server.instance if server.instance else '') + '.json')


def _modes(os_vars: dict[str, Any], expected: Expected) -> dict[str, str]:
    """path -> "owner group mode" of every file and directory the roles own."""
    user = '%s %s ' % (os_vars['__redis_user'], os_vars['__redis_group'])
    log_dir = '%s %s 2750' % (os_vars['__redis_user'], os_vars['__redis_log_group'])
    modes: dict[str, str] = {}
    for server in expected.servers:
        config = _instance_path(os_vars, 'config_file', server.instance)
        data_dir = os_vars['__redis_dir'] + ('/' + server.instance if server.instance else '')
        modes.update({
            os.path.dirname(config): user + '2770',
            config: user + '0640',
            data_dir: user + '0750',
            os.path.dirname(os_vars['__redis_logfile']): log_dir,
            START_GUARD: 'root root 0644',
            _guard_settings_path(os_vars, server): 'root root 0600',
        })
    if expected.sentinel_port:
        config = os_vars['__redis_sentinel_config_file']
        modes.update({
            os.path.dirname(config): user + '2770',
            config: user + '0640',
            os_vars['__redis_sentinel_dir']: user + '0750',
            os.path.dirname(os_vars['__redis_sentinel_logfile']): log_dir,
        })
    if expected.tls:
        modes[os.path.dirname(os_vars['__redis_config_file']) + '/tls/redis.key'] = user + '0600'
    return modes


def test_packages_installed(host: Any, expected: Expected, os_vars: dict[str, Any]) -> None:
    packages = set()
    if expected.servers:
        packages |= {os_vars['__redis_server_package'], os_vars['__redis_python_package']}
    if expected.sentinel_port:
        packages |= {os_vars['__redis_sentinel_package'], os_vars['__redis_python_package']}
    if expected.firewall == 'firewalld':
        packages.add('firewalld')
    missing = sorted(name for name in packages if not host.package(name).is_installed)
    assert missing == []


def test_units_enabled_and_active(host: Any, expected: Expected, os_vars: dict[str, Any]) -> None:
    states = {}
    for unit in _units(os_vars, expected):
        properties = host.service(unit).systemd_properties
        states[unit] = (properties.get('UnitFileState'), properties.get('ActiveState'))
    assert states == {unit: ('enabled', 'active') for unit in states}


# host_checks.yml runs right after a converge, before any fault or restart a
# verifier causes: each service has run without a restart by systemd since
# the roles started it.
def test_services_not_restarted_by_systemd(host: Any, expected: Expected, os_vars: dict[str, Any]) -> None:
    restarts = {unit: host.service(unit).systemd_properties.get('NRestarts')
                for unit in _redis_units(os_vars, expected)}
    assert restarts == {unit: '0' for unit in restarts}


def test_sockets_on_the_host_addresses_only(host: Any, expected: Expected) -> None:
    wanted = {port: server.bind for server in expected.servers for port in server.ports}
    if expected.sentinel_port:
        wanted[expected.sentinel_port] = expected.sentinel_bind
    listening: dict[int, list[str]] = {port: [] for port in wanted}
    for socket in host.socket.get_listening_sockets():
        if socket.startswith('tcp://'):
            address, port = socket[len('tcp://'):].rsplit(':', 1)
            if int(port) in listening:
                listening[int(port)].append(address)
    assert {port: sorted(addresses) for port, addresses in listening.items()} == wanted


def test_owners_and_modes(host: Any, expected: Expected, os_vars: dict[str, Any]) -> None:
    wanted = _modes(os_vars, expected)
    paths = sorted(wanted)
    # stat names each file it finds, on stderr the ones it does not.
    stat = host.run('stat -c %s' + ' %s' * len(paths), '%n %U %G %a', *paths)
    found = {path: 'missing' for path in wanted}
    for line in stat.stdout.splitlines():
        path, owner, group, mode = line.rsplit(' ', 3)
        found[path] = '%s %s %s' % (owner, group, mode.zfill(4))
    assert found == wanted


def test_start_guard_reads_its_settings(host: Any, expected: Expected, os_vars: dict[str, Any]) -> None:
    """The start guard parses this file before every start of the server: unreadable settings
    would stop the server from ever starting again."""
    for server in expected.servers:
        path = _guard_settings_path(os_vars, server)
        settings = json.loads(host.run('cat %s', path).stdout)
        assert settings['master_name'] and isinstance(settings['sentinels'], list), path
        assert settings['config_file'] == _instance_path(os_vars, 'config_file', server.instance), path


@pytest.mark.parametrize('where', ['runtime', 'permanent'])
def test_firewalld_opens_the_redis_ports(host: Any, expected: Expected, where: str) -> None:
    if expected.firewall != 'firewalld':
        pytest.skip('redis_firewall is %s' % expected.firewall)
    command = ['firewall-cmd', '--list-ports']
    if where == 'permanent':
        command.append('--permanent')
    if expected.zone:
        command.append('--zone=' + expected.zone)
    ports = [port for server in expected.servers for port in server.ports]
    if expected.sentinel_port:
        ports.append(expected.sentinel_port)
    ports.extend(expected.proxy_ports)
    opened = host.check_output(shlex.join(command)).split()
    assert sorted(opened) == sorted('%d/tcp' % port for port in set(ports))
