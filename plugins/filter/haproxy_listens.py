# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter haproxy_listens: the listeners of the role redis_haproxy, one per master group."""

from __future__ import annotations

from typing import Any, Mapping

from ansible_collections.redisops.sentinel.plugins.plugin_utils.node_settings import as_int

DOCUMENTATION = r"""
name: haproxy_listens
short_description: The listeners of the role redis_haproxy, one per master group
version_added: "0.1.0"
description:
  - Internal to the role C(redisops.sentinel.redis_haproxy). Gives each master group of the topology model
    (filter C(redisops.sentinel.topology)) the port its clients connect to, C(redis_haproxy_ports) by group
    name, else C(redis_haproxy_port) plus the group's position in the C(redis_master) group, and its data
    nodes, which the listener routes to.
options:
  _input:
    description: The topology model, C(groups | redisops.sentinel.topology(hostvars)).
    type: dict
    required: true
  ports:
    description: C(redis_haproxy_ports), a port by master group name.
    type: dict
    required: true
  base_port:
    description: C(redis_haproxy_port), the first group's port.
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Show the proxy's listeners
  ansible.builtin.debug:
    msg: "{{ groups | redisops.sentinel.topology(hostvars) | redisops.sentinel.haproxy_listens({}, 6379) }}"
"""

RETURN = r"""
_value:
  description: Each master group as C(name), C(port) and C(servers) (the topology model's nodes).
  type: list
  elements: dict
"""


def haproxy_listens(inventory: Mapping[str, Any], ports: Mapping[str, Any], base_port: Any) -> list[dict[str, Any]]:
    """Each master group with its port and its data nodes (the topology model's nodes)."""
    return [{'name': group['name'], 'port': as_int(ports.get(group['name'], as_int(base_port) + index)),
             'servers': [inventory['nodes'][name] for name in group['members']]}
            for index, group in enumerate(inventory['groups'])]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {'haproxy_listens': haproxy_listens}
