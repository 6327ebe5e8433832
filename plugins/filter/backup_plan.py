# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter backup_plan: the node playbooks/backup.yml snapshots in each master group."""

from __future__ import annotations

from typing import Any, Mapping

from ansible_collections.redisops.sentinel.plugins.plugin_utils.node_settings import as_int

DOCUMENTATION = r"""
name: backup_plan
short_description: The node to snapshot in each master group, for playbooks/backup.yml
version_added: "0.1.0"
description:
  - Internal to C(playbooks/backup.yml). For each master group, the replica of the inventory that reports a
    replication link that is up, with the least lag behind the master (the first listed of equal ones); the
    master itself when the group has no such replica, which C(from_master) says.
options:
  _input:
    description: The master groups (C(_redis_groups)), each with C(name), C(master), C(replicas) and C(members).
    type: list
    elements: dict
    required: true
  live:
    description: The groups as the running nodes report them (C(_redis_live.groups), module C(topology_info)).
    type: list
    elements: dict
    required: true
  inventory:
    description: The topology model (C(_redis_inventory)), to name the inventory host of the chosen node.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Choose the node to snapshot in each group
  ansible.builtin.set_fact:
    _redis_backup_plan: "{{ _redis_groups | redisops.sentinel.backup_plan(_redis_live.groups, _redis_inventory) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description:
    - Each group as C(name), C(host) (the inventory host of the chosen node; none when no data node of the
      inventory has its address), C(address), C(master) and C(from_master).
  type: list
  elements: dict
"""


def backup_plan(groups: list[Mapping[str, Any]], live: list[Mapping[str, Any]],
                inventory: Mapping[str, Any]) -> list[dict[str, Any]]:
    reported = {group['name']: group.get('nodes') or [] for group in live}
    plan = []
    for group in groups:
        linked = [node for node in reported.get(group['name'], [])
                  if node['address'] in group['replicas'] and node.get('role') == 'slave'
                  and node.get('master_link_status') == 'up']
        best = min(linked, key=lambda node: as_int(node.get('lag_bytes')), default=None)
        address = best['address'] if best else group['master']
        host = next((name for name in group['members'] if inventory['nodes'][name]['server'] == address), None)
        plan.append({'name': group['name'], 'host': host, 'address': address, 'master': group['master'],
                     'from_master': best is None})
    return plan


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {'backup_plan': backup_plan}
