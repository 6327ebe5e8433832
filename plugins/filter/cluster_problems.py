# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter cluster_problems: what stops the redis_cluster group from making a cluster, before any host changes."""

from __future__ import annotations

import math
from typing import Any, Mapping

DOCUMENTATION = r"""
name: cluster_problems
short_description: What stops the redis_cluster inventory group from making a Redis Cluster
version_added: "0.1.0"
description:
  - Internal to the role C(redisops.sentinel.redis_cluster). Takes the hosts of the C(redis_cluster) group and
    returns every problem at once, each a sentence that names the hosts and the setting to change; an empty
    list when the group can make a cluster.
  - Reads each node as C(roles/redis/tasks/cluster_preflight.yml) worked it out, the C(_redis_cluster_node)
    fact of each host (name, machine, instance, node address, data ports, bus port, replicas).
  - The problems are an empty group, hosts of the group outside this run (C(--limit), C(serial)), a
    C(redis_cluster_replicas) that differs between hosts, too few hosts for three masters with their replicas,
    a C(redis_start_guard_timeout) shorter than a cluster failover, two hosts that are the same node, and two
    hosts of one machine that share a C(redis_instance) or a port.
options:
  _input:
    description: The hosts of the C(redis_cluster) group, in inventory order.
    type: list
    elements: str
    required: true
  play_hosts:
    description: The hosts of this run, C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  hostvars:
    description: The C(hostvars) magic variable.
    type: dict
    required: true
  start_guard_timeout:
    description: C(redis_start_guard_timeout), in seconds.
    type: int
    required: true
  node_timeout:
    description: C(redis_cluster_node_timeout), in milliseconds.
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Check the redis_cluster group
  ansible.builtin.fail:
    msg: "{{ _problems | join(' ') }}"
  when: _problems | length > 0
  vars:
    _problems: >-
      {{ groups['redis_cluster'] | default([])
         | redisops.sentinel.cluster_problems(ansible_play_hosts_all, hostvars, redis_start_guard_timeout,
                                               redis_cluster_node_timeout) }}
"""

RETURN = r"""
_value:
  description: The problems, each a sentence; empty when there is none.
  type: list
  elements: str
"""

# Three masters at least: a majority of masters must survive the loss of one.
MASTERS = 3


def cluster_problems(members: list[str], play_hosts: list[str], hostvars: Mapping[str, Mapping[str, Any]],
                     start_guard_timeout: Any, node_timeout: Any) -> list[str]:
    missing = sorted(set(members) - set(play_hosts))
    nodes = [hostvars[name]['_redis_cluster_node'] for name in dict.fromkeys(members) if name in play_hosts]
    problems = []
    if not members:
        problems.append('The redis_cluster group is empty or missing: put the cluster nodes in it.')
    if missing:
        problems.append('Hosts of redis_cluster are not in this run (%s): run on the whole group at once, without '
                        '--limit or serial.' % ', '.join(missing))
    problems.extend(_size(len(members), sorted({int(node['replicas']) for node in nodes})))
    problems.extend(_guard(start_guard_timeout, node_timeout))
    for node in nodes:
        problems.extend(_same_node(node, nodes))
        for other in nodes:
            if other['machine'] == node['machine'] and other['name'] > node['name']:
                problems.extend(_same_machine(node, other))
    return problems


def _size(count: int, replicas: list[int]) -> list[str]:
    if len(replicas) > 1:
        return ['redis_cluster_replicas differs between the hosts (%s): set it once for the group.'
                % ', '.join(map(str, replicas))]
    each = replicas[0] if replicas else 1
    needed = MASTERS * (each + 1)
    if 0 < count < needed:
        return ['redis_cluster has %d hosts; %d are needed for %d masters with %d replica(s) each '
                '(redis_cluster_replicas).' % (count, needed, MASTERS, each)]
    return []


def _guard(start_guard_timeout: Any, node_timeout: Any) -> list[str]:
    """The start guard of a wiped master's node waits until the cluster has failed that master over: about
    twice the node timeout."""
    needed = math.ceil(int(node_timeout) * 2 / 1000) + 5
    if int(start_guard_timeout) >= needed:
        return []
    return ['redis_start_guard_timeout (%s s) is shorter than twice redis_cluster_node_timeout (%s ms) plus 5 s: the '
            "start guard of a wiped master's node would refuse to start it before the cluster has failed that master "
            'over. Set redis_start_guard_timeout to %d or more, or lower redis_cluster_node_timeout.'
            % (start_guard_timeout, node_timeout, needed)]


def _same_node(node: Mapping[str, Any], nodes: list[Mapping[str, Any]]) -> list[str]:
    """Named once, at the first of the hosts by name."""
    same = sorted(other['name'] for other in nodes if other['node'] == node['node'])
    if len(same) > 1 and same[0] == node['name']:
        return ['Hosts %s are all the node %s: give each its own redis_address, redis_port or '
                'redis_announce_ip/port.' % (', '.join(same), node['node'])]
    return []


def _same_machine(node: Mapping[str, Any], other: Mapping[str, Any]) -> list[str]:
    problems = []
    where = 'Hosts %s and %s run on the same machine %s' % (node['name'], other['name'], node['machine'])
    if other['instance'] == node['instance']:
        problems.append("%s with the same redis_instance '%s': they would share a unit, a configuration file and a "
                        'data directory; give each its own redis_instance (e.g. the port).' % (where, node['instance']))
    ports, others = _ports(node), _ports(other)
    shared = [port for port in ports if port in others]
    if shared:
        problems.append('%s and both use port %s (data ports %s and bus port %d, against %s and %d; the bus port is '
                        'the data port + 10000 unless redis_cluster_bus_port is set).'
                        % (where, ', '.join(map(str, shared)), ', '.join(map(str, node['data_ports'])),
                           int(node['bus_port']), ', '.join(map(str, other['data_ports'])), int(other['bus_port'])))
    return problems


def _ports(node: Mapping[str, Any]) -> list[int]:
    return list(dict.fromkeys([int(port) for port in node['data_ports']] + [int(node['bus_port'])]))


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {'cluster_problems': cluster_problems}
