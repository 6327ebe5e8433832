# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter topology: the inventory's nodes, master groups and Sentinels, as the roles use them."""

from __future__ import annotations

from typing import Any, Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.sentinel.plugins.module_utils.topology import Bootstrap, Topology, TopologyError

DOCUMENTATION = r"""
name: topology
short_description: The nodes, master groups and Sentinels of a redisops.sentinel inventory
version_added: "0.1.0"
description:
  - Takes the C(groups) magic variable and reads the hosts of the C(redis_master), C(redis_replica)
    and C(redis_sentinel) groups from O(hostvars), with the defaults of the roles (C(redis_address)
    from the facts' default IPv4 address, ports 6379 and 26379, master group C(mymaster)).
  - A node is reached at C(redis_announce_ip) (else C(redis_address)) and C(redis_announce_port) /
    C(redis_sentinel_announce_port) (else C(redis_port) / C(redis_sentinel_port)). Addresses are
    written C(host:port), IPv6 as C([a::b]:port).
options:
  _input:
    description: The C(groups) magic variable.
    type: dict
    required: true
  hostvars:
    description: The C(hostvars) magic variable.
    type: dict
    required: true
  live:
    description: The current master of each group the Sentinels agree on, by group name (each a dict with C(host) and C(port)).
    type: dict
  fallback:
    description:
      - The master group (a dict with C(name), C(host) and C(port)) to use when the inventory has no
        C(redis_master) host, for role users without the groups.
    type: dict
  hosts:
    description: More inventory hosts to describe under RV(_value.nodes) (unknown names are left out).
    type: list
    elements: str
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Show the Sentinels of the inventory
  ansible.builtin.debug:
    msg: "{{ (groups | redisops.sentinel.topology(hostvars)).sentinels }}"
"""

RETURN = r"""
_value:
  description:
    - C(nodes) (inventory host -> C(address), C(port), C(sentinel_port) bound; C(host), C(server),
      C(server_port), C(sentinel), C(sentinel_announced_port) as the others reach it; C(master_name)),
    - C(bootstrap) (group name -> C(host), C(port) of its redis_master host),
    - C(groups) (each with C(name), C(bootstrap_host), C(bootstrap_port), the current master's C(host),
      C(port) and address C(master), C(replicas), the addresses of its other data nodes, and C(members), their inventory names),
    - C(sentinels) (their addresses) and C(sentinel_endpoints) (their C(host) and C(port)).
  type: dict
"""


def topology(groups: Mapping[str, list[str]], hostvars: Mapping[str, Mapping[str, Any]],
             live: Mapping[str, Mapping[str, Any]] | None = None, fallback: Mapping[str, Any] | None = None,
             hosts: list[str] | None = None) -> dict[str, Any]:
    try:
        start = None if not fallback else Bootstrap(str(fallback['name']), str(fallback['host']),
                                                    int(fallback['port']))
        return Topology(groups, hostvars, hosts or ()).as_dict(start, live)
    except (TopologyError, KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('redisops.sentinel.topology: %s' % exc) from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {'topology': topology}
