# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory as the roles see it: each node's addresses and the master groups.

One place for the rules the roles used to write in Jinja several times:

- a node binds ``redis_address`` (default: its facts' IPv4 address), ``redis_port`` and
  ``redis_sentinel_port`` (defaults 6379 and 26379);
- the other nodes, the Sentinels and the clients reach it at ``redis_announce_ip`` (else the bound
  address) and ``redis_announce_port`` / ``redis_sentinel_announce_port`` (else the bound ports);
- each ``redis_master`` host starts the master group of its ``redis_master_name`` (default
  ``mymaster``); the data nodes of the same name are its members;
- the Sentinels are the ``redis_sentinel`` group.

Addresses are written once, as :func:`module_utils.address.format_address` writes them
(``[fd00::1]:6379`` for IPv6), so that every module parses them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ansible_collections.redisops.sentinel.plugins.module_utils.address import Address, format_address

DEFAULT_MASTER_NAME = 'mymaster'
DEFAULT_PORT = 6379
DEFAULT_SENTINEL_PORT = 26379
MASTER_GROUP = 'redis_master'
REPLICA_GROUP = 'redis_replica'
SENTINEL_GROUP = 'redis_sentinel'


class TopologyError(ValueError):
    """The inventory does not say something the roles need (a readable sentence)."""


@dataclass(frozen=True)
class Node:
    """One inventory host of the topology."""

    name: str
    # redis_address: what the services bind (None: not set and no facts to default from).
    address: str | None
    port: int
    sentinel_port: int
    master_name: str
    announce_ip: str = ''
    announce_port: int = 0
    sentinel_announce_port: int = 0

    @property
    def host(self) -> str:
        """The address the others reach this node at."""
        if self.announce_ip:
            return self.announce_ip
        if self.address is None:
            raise TopologyError(
                'host %s has no redis_address and its facts hold no default IPv4 address: gather its facts '
                '(include it in the play) or set redis_address.' % self.name)
        return self.address

    @property
    def server(self) -> Address:
        return Address(self.host, self.announce_port or self.port)

    @property
    def sentinel(self) -> Address:
        return Address(self.host, self.sentinel_announce_port or self.sentinel_port)

    def as_dict(self) -> dict[str, Any]:
        return dict(name=self.name, address=self.address, port=self.port, sentinel_port=self.sentinel_port,
                    master_name=self.master_name, host=self.host, server=str(self.server),
                    server_port=self.server.port, sentinel=str(self.sentinel), sentinel_announced_port=self.sentinel.port)


def _number(value: Any) -> int:
    """An inventory port: empty, None and 0 are 0 (not set)."""
    if value in (None, ''):
        return 0
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise TopologyError('%r is not a port number' % (value,)) from exc


def _default_address(variables: Mapping[str, Any]) -> str | None:
    facts = variables.get('ansible_facts') or {}
    address = (facts.get('default_ipv4') or {}).get('address')
    return None if address is None else str(address)


def node(name: str, variables: Mapping[str, Any]) -> Node:
    """The node of inventory host ``name`` from its variables (its hostvars)."""
    address = variables['redis_address'] if 'redis_address' in variables else _default_address(variables)
    try:
        return Node(
            name=name,
            address=None if address is None else str(address),
            port=_number(variables.get('redis_port')) or DEFAULT_PORT,
            sentinel_port=_number(variables.get('redis_sentinel_port')) or DEFAULT_SENTINEL_PORT,
            master_name=str(variables.get('redis_master_name') or DEFAULT_MASTER_NAME),
            announce_ip=str(variables.get('redis_announce_ip') or ''),
            announce_port=_number(variables.get('redis_announce_port')),
            sentinel_announce_port=_number(variables.get('redis_sentinel_announce_port')))
    except TopologyError as exc:
        raise TopologyError('host %s: %s' % (name, exc)) from exc


@dataclass(frozen=True)
class Bootstrap:
    """A master group as the inventory starts it."""

    name: str
    host: str
    port: int


class Topology:
    """The nodes of the redis_master, redis_replica and redis_sentinel groups."""

    def __init__(self, groups: Mapping[str, list[str]], hostvars: Mapping[str, Mapping[str, Any]],
                 hosts: list[str] | tuple = ()):
        self.masters = list(groups.get(MASTER_GROUP) or [])
        self.data = list(dict.fromkeys(self.masters + list(groups.get(REPLICA_GROUP) or [])))
        self.sentinels = list(groups.get(SENTINEL_GROUP) or [])
        names = dict.fromkeys(self.data + self.sentinels + [name for name in hosts if name in hostvars])
        self.nodes = {name: node(name, hostvars[name]) for name in names}

    def bootstraps(self) -> list[Bootstrap]:
        """One master group per redis_master host, in inventory order."""
        return [Bootstrap(self.nodes[name].master_name, self.nodes[name].host, self.nodes[name].server.port)
                for name in self.masters]

    def bootstrap(self, master_name: str) -> Bootstrap | None:
        """The first redis_master host that starts ``master_name``."""
        return next((group for group in self.bootstraps() if group.name == master_name), None)

    def sentinel_addresses(self) -> list[str]:
        return [str(self.nodes[name].sentinel) for name in self.sentinels]

    def master_groups(self, fallback: Bootstrap | None = None,
                      live: Mapping[str, Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Each master group: its bootstrap master, its current master (``live``: the master the
        Sentinels agree on, by group name) and the addresses of its other data nodes. Without a
        redis_master host, the ``fallback`` group (a role user's redis_master_name/_host/_port)."""
        starts = self.bootstraps() or ([fallback] if fallback is not None else [])
        return [self._group(start, (live or {}).get(start.name)) for start in starts]

    def _group(self, start: Bootstrap, live: Mapping[str, Any] | None) -> dict[str, Any]:
        host, port = (str(live['host']), int(live['port'])) if live else (start.host, start.port)
        current = format_address(host, port)
        members = [self.nodes[name] for name in self.data if self.nodes[name].master_name == start.name]
        replicas = [str(member.server) for member in members if str(member.server) != current]
        return dict(name=start.name, bootstrap_host=start.host, bootstrap_port=start.port, host=host, port=port,
                    master=current, replicas=list(dict.fromkeys(replicas)), members=[member.name for member in members])

    def as_dict(self, fallback: Bootstrap | None = None,
                live: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
        return dict(
            nodes={name: item.as_dict() for name, item in self.nodes.items()},
            bootstrap={group.name: dict(host=group.host, port=group.port) for group in reversed(self.bootstraps())},
            groups=self.master_groups(fallback, live),
            sentinels=self.sentinel_addresses(),
            sentinel_endpoints=[dict(host=self.nodes[name].sentinel.host, port=self.nodes[name].sentinel.port)
                                for name in self.sentinels])
