#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_info
short_description: Report a Redis Cluster as its nodes see it
version_added: "0.1.0"
description:
  - Reads C(CLUSTER INFO), C(CLUSTER NODES) and C(CLUSTER SHARDS) (Redis 7.0 or later; derived from
    C(CLUSTER NODES) on older servers) of O(login_host):O(login_port), then C(CLUSTER INFO),
    C(CLUSTER NODES) and C(INFO replication) of every node in O(nodes), and judges the health of the
    cluster as M(redisops.sentinel.cluster_wait) does, without waiting.
  - Fails only when O(login_host):O(login_port) cannot be queried or has cluster support disabled; any
    other node that cannot be queried is one of RV(problems).
  - Never changes anything.
extends_documentation_fragment:
  - redisops.sentinel.connection
  - redisops.sentinel.connection.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details:
      - The module only reads; check mode runs it the same.
options:
  login_port:
    description:
      - TCP port of the node whose view RV(nodes), RV(info) and RV(shards) report.
      - Must be between 1 and 65535.
    type: int
    default: 6379
  nodes:
    description:
      - The nodes to query as well and judge the health for, C(host:port) (C([v6]:port) for IPv6; the
        port defaults to 6379).
      - When empty, O(login_host):O(login_port) and every member it knows.
    type: list
    elements: str
    default: []
  replicas:
    description:
      - Usable replicas every master must have at least for RV(healthy).
      - Must not be negative.
    type: int
    default: 0
requirements:
  - redis (Python library, redis-py 4.3 or later)
seealso:
  - module: redisops.sentinel.cluster_wait
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Read the cluster as the local node sees it
  redisops.sentinel.cluster_info:
    login_password: "{{ redis_password }}"
  register: cluster

- name: Show the masters and their slots
  ansible.builtin.debug:
    msg: "{{ item.address }} {{ item.slots | join(',') }}"
  loop: "{{ cluster.nodes | selectattr('role', 'eq', 'master') }}"
  loop_control:
    label: "{{ item.id }}"
"""

RETURN = r"""
info:
  description: C(CLUSTER INFO) of O(login_host):O(login_port), integer values as integers.
  returned: always
  type: dict
  sample: {"cluster_state": "ok", "cluster_slots_assigned": 16384, "cluster_known_nodes": 6}
nodes:
  description: C(CLUSTER NODES) of O(login_host):O(login_port), one entry per node.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Node id.
      type: str
    address:
      description: C(host:port) the node announces; null while a fresh node does not know its address.
      type: str
    host:
      description: IP address the node announces (empty while unknown).
      type: str
    port:
      description: Data port.
      type: int
    bus_port:
      description: Cluster bus port.
      type: int
    hostname:
      description: C(cluster-announce-hostname), empty when unset.
      type: str
    flags:
      description: Flags, e.g. C(myself), C(master), C(slave), C(fail?), C(fail), C(handshake), C(noaddr).
      type: list
      elements: str
    role:
      description: V(master), V(replica) or V(none).
      type: str
    master_id:
      description: Id of the master of a replica, null for a master.
      type: str
    config_epoch:
      description: Config epoch.
      type: int
    link_state:
      description: State of the bus link, V(connected) or V(disconnected).
      type: str
    ping_sent:
      description: Milliseconds timestamp of the pending ping, 0 when none.
      type: int
    pong_received:
      description: Milliseconds timestamp of the last pong.
      type: int
    slots:
      description: Served slot ranges, e.g. C(0-5460).
      type: list
      elements: str
    slot_count:
      description: Number of served slots.
      type: int
    open_slots:
      description: Slots half moved (reported for O(login_host) only), each with slot, state (V(migrating) or
        V(importing)) and peer (node id).
      type: list
      elements: dict
shards:
  description: C(CLUSTER SHARDS) of O(login_host):O(login_port) (slots, and nodes with id, endpoint, port, role,
    replication_offset and health).
  returned: always
  type: list
  elements: dict
views:
  description: One summary per queried node (address, id, role, cluster_state, known_nodes, slots_assigned,
    current_epoch, keys, master_link_status), or address and error.
  returned: always
  type: list
  elements: dict
open_slots:
  description: Every migrating or importing slot of the queried nodes, with the node (address) that reports it.
  returned: always
  type: list
  elements: dict
  sample: [{"node": "10.0.0.11:6379", "slot": 5, "state": "migrating", "peer": "e81004682e60..."}]
healthy:
  description: Whether RV(problems) is empty.
  returned: always
  type: bool
problems:
  description: Every reason the cluster is not healthy for O(nodes) and O(replicas), as in M(redisops.sentinel.cluster_wait).
  returned: always
  type: list
  elements: str
msg:
  description: One line summary.
  returned: always
  type: str
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.address import Address, parse_address_list
from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    REDIS_PORT,
    RETRYABLE_ERRORS,
    connection_argument_spec,
    connection_param_errors,
    ensure_redis_library,
    fail_on_param_errors,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import (
    Layout,
    NodeView,
    Observer,
    health_problems,
    read_shards,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import describe_error


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(REDIS_PORT)
    spec.update(
        nodes=dict(type='list', elements='str', default=[]),
        replicas=dict(type='int', default=0),
    )
    return spec


def param_errors(params: dict[str, Any], nodes_out: list[Address]) -> list[str]:
    errors = connection_param_errors(params)
    nodes_out += parse_address_list(params['nodes'], REDIS_PORT, 'nodes', errors)
    if params['replicas'] < 0:
        errors.append('replicas must not be negative, got %d' % params['replicas'])
    return errors


def report(observer: Observer, seed: Address, nodes: list[Address], replicas: int) -> dict[str, Any]:
    view = observer.observe(seed)
    if isinstance(view, str):
        raise LookupError('Cannot read the cluster from %s: %s.' % (seed, view))
    try:
        shards = read_shards(observer.client(seed), view.nodes, RETRYABLE_ERRORS)
    except RETRYABLE_ERRORS as exc:
        raise LookupError('Cannot read CLUSTER SHARDS from %s: %s.' % (seed, describe_error(exc)))
    nodes = nodes or [seed] + [node.address for node in view.nodes if node.address and not node.myself]
    observations = {address: view if address == seed else observer.observe(address) for address in nodes}
    views = [item.as_dict() if isinstance(item, NodeView) else dict(address=str(address), error=item)
             for address, item in observations.items()]
    open_slots = [dict(node=str(item.address), slot=slot.slot, state=slot.state, peer=slot.peer)
                  for item in observations.values() if isinstance(item, NodeView) for slot in item.myself.open_slots]
    problems = health_problems(observations, Layout(nodes, replicas))
    masters = [node for node in view.nodes if node.role == 'master']
    msg = '%s: cluster_state %s, %d nodes known, %d masters, %d slots assigned; %s' % (
        seed, view.info.get('cluster_state'), len(view.nodes), len(masters), view.info.get('cluster_slots_assigned', 0),
        'healthy' if not problems else '%d problem(s): %s' % (len(problems), '; '.join(problems)))
    return dict(changed=False, info=view.info, nodes=[node.as_dict() for node in view.nodes],
                shards=[shard.as_dict() for shard in shards], views=views, open_slots=open_slots,
                healthy=not problems, problems=problems, msg=msg)


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    nodes: list[Address] = []
    fail_on_param_errors(module, param_errors(params, nodes))
    ensure_redis_library(module)

    observer = Observer(params)
    try:
        result = report(observer, Address(params['login_host'], params['login_port']), nodes, params['replicas'])
    except LookupError as exc:
        module.fail_json(msg=str(exc), changed=False)
    finally:
        observer.close()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
