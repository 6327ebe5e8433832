#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_wait
short_description: Wait until a Redis Cluster is healthy for the expected nodes and replicas
version_added: "0.1.0"
description:
  - Polls C(CLUSTER INFO), C(CLUSTER NODES) and C(INFO replication) of every node in O(nodes) until
    the cluster is healthy for that layout.
  - Healthy means every node reports C(cluster_state:ok); the cluster members are exactly O(nodes) and
    every node knows every other one as usable (no C(fail), C(fail?), C(handshake), C(noaddr) flag, the
    bus link connected); all 16384 slots are served; every node has the same slot map and sees the same
    config epochs; every master serves slots and has at least O(replicas) usable replicas, each with
    C(master_link_status:up); no slot is migrating or importing.
  - On timeout the task fails with every reason, and probes from the managed host the data port of each
    node that could not be queried and the cluster bus port of each node another node cannot use.
  - Never changes anything.
extends_documentation_fragment:
  - redisops.sentinel.connection
  - redisops.sentinel.connection.wait
  - redisops.sentinel.connection.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details:
      - In check mode the cluster is observed once and the task never fails because it is not healthy
        (the nodes may not be installed yet); V(ready) tells the result.
options:
  login_port:
    description:
      - TCP port of the node asked for the cluster members when O(nodes) is empty.
      - Must be between 1 and 65535.
    type: int
    default: 6379
  nodes:
    description:
      - The expected cluster nodes, C(host:port) (C([v6]:port) for IPv6; the port defaults to 6379).
      - When empty, O(login_host):O(login_port) and the members it knows at the first poll.
    type: list
    elements: str
    default: []
  replicas:
    description:
      - Usable replicas every master must have at least.
      - Must not be negative.
    type: int
    default: 1
requirements:
  - redis (Python library, redis-py 4.3 or later)
seealso:
  - module: redisops.sentinel.cluster_info
  - module: redisops.sentinel.replica_wait
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Wait until the six nodes form a healthy cluster with one replica per master
  redisops.sentinel.cluster_wait:
    nodes: "{{ groups['redis_cluster'] | map('extract', hostvars, 'redis_cluster_node') | list }}"
    replicas: 1
    login_password: "{{ redis_password }}"
    timeout: 120
"""

RETURN = r"""
ready:
  description: Whether the cluster was healthy. Always V(true) when the task succeeds outside check mode.
  returned: always
  type: bool
  sample: true
elapsed:
  description: Seconds spent waiting (monotonic clock).
  returned: always
  type: float
  sample: 1.3
msg:
  description: Human readable outcome; on failure every reason and the probe hints.
  returned: always
  type: str
  sample: Cluster of 6 nodes is healthy (3 masters, at least 1 replica each).
unmet:
  description: Every reason the last observation was not healthy. Empty when ready.
  returned: always
  type: list
  elements: str
  sample: ["3 of 16384 slots are served by no master (0-2), as 10.0.0.11:6379 sees it"]
last_error:
  description: Always null; a node that cannot be queried is one of RV(unmet).
  returned: always
  type: str
  sample: null
state:
  description: The last observation.
  returned: always
  type: dict
  contains:
    nodes:
      description: One summary per queried node (address, id, role, cluster_state, known_nodes ...).
      type: list
      elements: dict
diagnosis:
  description: Probes made from the managed host on timeout (peer, result, detail, hint), at most five.
  returned: on timeout
  type: list
  elements: dict
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.address import Address, parse_address_list
from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    REDIS_PORT,
    common_param_errors,
    connection_argument_spec,
    ensure_redis_library,
    fail_on_param_errors,
    wait_argument_spec,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import (
    Layout,
    NodeView,
    Observation,
    Observer,
    diagnose,
    health_problems,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import conclude, poll_until


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(REDIS_PORT)
    spec.update(wait_argument_spec())
    spec.update(
        nodes=dict(type='list', elements='str', default=[]),
        replicas=dict(type='int', default=1),
    )
    return spec


def param_errors(params: dict[str, Any], nodes_out: list[Address]) -> list[str]:
    errors = common_param_errors(params)
    nodes_out += parse_address_list(params['nodes'], REDIS_PORT, 'nodes', errors)
    if len(set(nodes_out)) != len(nodes_out):
        errors.append('nodes: an address is listed twice')
    if params['replicas'] < 0:
        errors.append('replicas must not be negative, got %d' % params['replicas'])
    return errors


class ClusterChecker:
    def __init__(self, observer: Observer, layout: Layout):
        self.observer, self.layout = observer, layout
        self.observations: dict[Address, Observation] = {}

    def __call__(self) -> tuple[bool, dict[str, Any]]:
        self.observations = self.observer.observe_all(self.layout.nodes)
        problems = health_problems(self.observations, self.layout)
        views = [view.as_dict() if isinstance(view, NodeView) else dict(address=str(address), error=view)
                 for address, view in self.observations.items()]
        return not problems, dict(nodes=views, problems=problems)


def summary(checker: ClusterChecker) -> str:
    views = [view for view in checker.observations.values() if isinstance(view, NodeView)]
    masters = sum(view.myself.role == 'master' for view in views)
    return '%d masters, at least %d replica(s) each' % (masters, checker.layout.replicas)


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    nodes: list[Address] = []
    fail_on_param_errors(module, param_errors(params, nodes))
    ensure_redis_library(module)

    observer = Observer(params)
    try:
        nodes = nodes or observer.members(Address(params['login_host'], params['login_port']))
        checker = ClusterChecker(observer, Layout(nodes, params['replicas']))
        timeout = 0 if module.check_mode else params['timeout']
        outcome = poll_until(checker, timeout, params['poll_interval'], ())
    finally:
        observer.close()

    unmet = outcome.state.get('problems', [])
    if outcome.ready:
        msg = 'Cluster of %d nodes is healthy (%s).' % (len(nodes), summary(checker))
    else:
        msg = 'Cluster of %d nodes is not healthy after %ss. Unmet: %s.' % (len(nodes), outcome.elapsed,
                                                                            '; '.join(unmet))
    result = dict(changed=False, ready=outcome.ready, elapsed=outcome.elapsed, unmet=unmet, last_error=None,
                  state=dict(nodes=outcome.state.get('nodes', [])), msg=msg)

    def diagnosis() -> tuple[list[dict[str, str]], str]:
        found = diagnose(checker.observations, params)
        return found, ''.join(' Probe of %s from this host: %s. %s' % (item['peer'], item['result'], item['hint'])
                              for item in found)

    conclude(module, result, outcome.ready, diagnosis)


if __name__ == '__main__':
    main()
