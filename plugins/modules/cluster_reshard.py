#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_reshard
short_description: Spread the hash slots of a Redis Cluster evenly over its masters, or empty a master
version_added: "0.1.0"
description:
  - Reads the cluster from O(login_host):O(login_port), then moves hash slots between masters until every
    master in O(masters) holds an even share (16384 divided by their number, the remainder on those that hold
    the most already) and every master in O(drain) holds none.
  - A slot moves as C(redis-cli --cluster) moves it. The target marks it C(IMPORTING), the source C(MIGRATING).
    The keys go over with C(MIGRATE) in batches of O(batch), until the source holds none. Then every master
    learns the new owner with C(CLUSTER SETSLOT NODE), the target first. Clients keep working meanwhile,
    redirected with C(ASK) and C(MOVED).
  - A slot left half moved by an interrupted run, a crash or another tool (an I(open slot)) is settled first,
    as O(open_slots) says. A run that stops (O(max_slots), an error) leaves a state the next run resumes.
  - Refuses, before moving anything, while a master is failed or not reachable, while a slot has no owner,
    or when an address of O(masters) or O(drain) is not a master of the cluster.
  - A master emptied with O(drain) turns itself into a replica of a master that took its slots (Redis 7 and
    later, C(cluster-allow-replica-migration yes)); M(redisops.sentinel.cluster_forget) then removes it.
  - Check mode returns the plan and moves nothing.
extends_documentation_fragment:
  - redisops.sentinel.connection
  - redisops.sentinel.connection.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details:
      - Returns RV(plan) and RV(open_slots) and moves nothing.
options:
  login_port:
    description:
      - TCP port of the node the cluster is read from. Every master is then reached at the address the
        cluster announces for it, with the same login.
      - Must be between 1 and 65535.
    type: int
    default: 6379
  masters:
    description:
      - The masters that should hold the slots, C(host:port) (C([v6]:port) for IPv6; the port defaults to
        6379).
      - When empty, every master of the cluster that is not in O(drain).
    type: list
    elements: str
    default: []
  drain:
    description:
      - Masters whose slots all move to the others, before the node is removed from the cluster.
    type: list
    elements: str
    default: []
  members:
    description:
      - Every node the cluster should keep (an inventory's nodes). When set, every master that is not in it
        is drained as if named in O(drain), and the masters in it hold the slots (unless O(masters) names
        them). Nodes in it that are not masters, or not in the cluster yet, are ignored.
    type: list
    elements: str
    default: []
  max_slots:
    description:
      - At most this many slots move in this run (V(0), no bound). The next run goes on from there.
      - Must not be negative.
    type: int
    default: 0
  batch:
    description:
      - Keys per C(MIGRATE) command.
      - Must be at least 1.
    type: int
    default: 100
  migrate_timeout:
    description:
      - Milliseconds C(MIGRATE) may wait for the target.
      - Must be at least 1.
    type: int
    default: 10000
  rebalance:
    description:
      - Whether to move slots after the open slots are settled. V(false) only settles open slots, which is the repair
        of a migration an earlier run, a crash or another tool left half done.
    type: bool
    default: true
  open_slots:
    description:
      - What to do with a slot a master marks C(MIGRATING) or C(IMPORTING) when the run starts.
      - V(finish) moves its remaining keys on to the node it was going to and gives it that owner.
      - V(rollback) moves the keys that already went over back to the owner and marks the slot stable.
      - V(refuse) fails and changes nothing.
    type: str
    choices: [finish, rollback, refuse]
    default: finish
requirements:
  - redis (Python library, redis-py 4.3 or later)
seealso:
  - module: redisops.sentinel.cluster_info
  - module: redisops.sentinel.cluster_wait
  - module: redisops.sentinel.cluster_forget
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Spread the slots over every master, 1000 slots per run at most
  redisops.sentinel.cluster_reshard:
    login_password: "{{ redis_password }}"
    max_slots: 1000

- name: Finish the slot migrations an interrupted run left open, and move nothing else
  redisops.sentinel.cluster_reshard:
    login_password: "{{ redis_password }}"
    rebalance: false

- name: Empty a master before it leaves the cluster
  redisops.sentinel.cluster_reshard:
    login_password: "{{ redis_password }}"
    drain: ["10.0.0.14:6379"]
"""

RETURN = r"""
plan:
  description: The moves of this run (all of them in check mode), grouped by source and target.
  returned: always
  type: list
  elements: dict
  sample: [{"source": "10.0.0.11:6379", "target": "10.0.0.14:6379", "count": 1365, "slots": ["4096-5460"]}]
open_slots:
  description: The half-moved slots found at the start, each with slot, owner and the way it was (or would be)
    settled (source and target).
  returned: always
  type: list
  elements: dict
moved_slots:
  description: Slots that changed owner in this run (open slots settled included).
  returned: always
  type: int
moved_keys:
  description: Keys moved with C(MIGRATE) in this run.
  returned: always
  type: int
remaining_slots:
  description: Slots still to move after this run (not zero when O(max_slots) stopped it).
  returned: always
  type: int
msg:
  description: One line summary.
  returned: always
  type: str
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.address import (
    Address,
    AddressMatcher,
    parse_address_list,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    REDIS_PORT,
    RETRYABLE_ERRORS,
    connect,
    connection_argument_spec,
    connection_param_errors,
    ensure_redis_library,
    fail_on_param_errors,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import (
    SLOT_COUNT,
    ClusterNode,
    parse_nodes,
    reply_text,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.reshard import (
    Endpoint,
    Migrator,
    OpenSlotCase,
    ReshardError,
    close_open_slot,
    describe_plan,
    open_slot_cases,
    owned_slots,
    plan_moves,
    settle_move,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import describe_error


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(REDIS_PORT)
    spec.update(
        masters=dict(type='list', elements='str', default=[]),
        drain=dict(type='list', elements='str', default=[]),
        members=dict(type='list', elements='str', default=[]),
        max_slots=dict(type='int', default=0),
        batch=dict(type='int', default=100),
        migrate_timeout=dict(type='int', default=10000),
        rebalance=dict(type='bool', default=True),
        open_slots=dict(type='str', choices=['finish', 'rollback', 'refuse'], default='finish'),
    )
    return spec


def param_errors(params: dict[str, Any], masters: list[Address], drain: list[Address],
                 members: list[Address]) -> list[str]:
    errors = connection_param_errors(params)
    masters += parse_address_list(params['masters'], REDIS_PORT, 'masters', errors)
    drain += parse_address_list(params['drain'], REDIS_PORT, 'drain', errors)
    members += parse_address_list(params['members'], REDIS_PORT, 'members', errors)
    both = sorted(set(map(str, masters)) & set(map(str, drain)))
    if both:
        errors.append('masters and drain both name %s' % ', '.join(both))
    if params['max_slots'] < 0:
        errors.append('max_slots must not be negative, got %d' % params['max_slots'])
    for name in ('batch', 'migrate_timeout'):
        if params[name] < 1:
            errors.append('%s must be at least 1, got %d' % (name, params[name]))
    return errors


class Cluster:
    """The masters as the login node sees them, a client for each, and each master's own open slots."""

    def __init__(self, params: dict[str, Any]):
        self.params = params
        seed = connect(params)
        self.clients = [seed]
        self.nodes = parse_nodes(reply_text(seed.execute_command('CLUSTER', 'NODES')))
        self.masters = [node for node in self.nodes if node.role == 'master']
        self.endpoints: dict[str, Endpoint] = {}

    def refusals(self) -> list[str]:
        problems = ['master %s is %s' % (node.label(), ', '.join(node.unusable))
                    for node in self.masters if node.unusable]
        covered = sum(node.slot_count for node in self.masters)
        if covered != SLOT_COUNT:
            problems.append('%d of %d slots have an owner' % (covered, SLOT_COUNT))
        return problems

    def connect_masters(self) -> None:
        for node in self.masters:
            # Keys are binary (GETKEYSINSLOT hands them to MIGRATE): never decoded.
            client = connect(self.params, node.host, node.port, decode=False)
            self.clients.append(client)
            self.endpoints[node.node_id] = Endpoint(node.node_id, node.host, node.port, client)

    def own_views(self) -> list[ClusterNode]:
        """Each master's line for itself: only there does CLUSTER NODES show its open slots."""
        views = []
        for endpoint in self.endpoints.values():
            lines = parse_nodes(reply_text(endpoint.client.execute_command('CLUSTER', 'NODES')))
            views += [node for node in lines if node.myself]
        return views

    def resolve(self, addresses: list[Address], option: str) -> list[str]:
        ids = []
        for address in addresses:
            matcher = AddressMatcher(address)
            found = [node.node_id for node in self.masters if node.host and matcher.matches(node.host, node.port)]
            if not found:
                raise ReshardError('%s %s is not a master of this cluster (its masters: %s)'
                                   % (option, address, ', '.join(node.label() for node in self.masters)))
            ids += found
        return ids

    def outsiders(self, members: list[Address]) -> list[str]:
        """The masters that are not in ``members`` (none when ``members`` is empty)."""
        if not members:
            return []
        matchers = [AddressMatcher(address) for address in members]
        return [node.node_id for node in self.masters
                if not (node.host and any(matcher.matches(node.host, node.port) for matcher in matchers))]

    def label(self, node_id: str) -> str:
        return next((node.label() for node in self.nodes if node.node_id == node_id), node_id[:12])

    def close(self) -> None:
        for client in self.clients:
            client.close()


class Interrupted(ReshardError):
    """A run that stopped after it had moved slots: the next run resumes from the state it left."""

    def __init__(self, cause: BaseException, moved_slots: int, moved_keys: int):
        super().__init__('Stopped after moving %d slot(s) and %d key(s): %s' % (
            moved_slots, moved_keys, cause if isinstance(cause, ReshardError) else describe_error(cause)))
        self.moved_slots, self.moved_keys = moved_slots, moved_keys


def open_slot_report(cluster: Cluster, cases: list[OpenSlotCase], rollback: bool) -> list[dict[str, Any]]:
    report = []
    for case in cases:
        move = settle_move(case, rollback)
        report.append(dict(slot=case.slot, owner=cluster.label(case.owner or ''),
                           source=cluster.label(move.source), target=cluster.label(move.target)))
    return report


def reshard(module: AnsibleModule, cluster: Cluster, masters: list[Address], drain: list[Address],
            members: list[Address]) -> dict[str, Any]:
    params = module.params
    refused = cluster.refusals()
    if refused:
        raise ReshardError('the cluster is not ready for moving slots: %s' % '; '.join(refused))
    drained = cluster.resolve(drain, 'drain') + cluster.outsiders(members)
    receivers = cluster.resolve(masters, 'masters') or [
        node.node_id for node in cluster.masters if node.node_id not in drained]
    cluster.connect_masters()
    cases = open_slot_cases(cluster.own_views())
    rollback = params['open_slots'] == 'rollback'
    if cases and params['open_slots'] == 'refuse':
        raise ReshardError('slots are half moved (%s) and open_slots is refuse'
                           % ', '.join(str(case.slot) for case in cases))
    settled = open_slot_report(cluster, cases, rollback)
    owners = owned_slots(cluster.masters)
    moves = plan_moves(owners, receivers) if params['rebalance'] else []
    bounded = moves[:params['max_slots']] if params['max_slots'] else moves
    result = dict(plan=describe_plan(bounded, cluster.label), open_slots=settled, moved_slots=0, moved_keys=0,
                  remaining_slots=len(moves))
    if module.check_mode or not (bounded or cases):
        result.update(changed=bool(bounded or cases), msg='%d slot(s) to move, %d open slot(s) to settle%s'
                      % (len(moves), len(cases), ' (check mode)' if module.check_mode else ''))
        return result
    migrator = Migrator(cluster.endpoints, params['batch'], params['migrate_timeout'],
                        (params['login_user'], params['login_password']))
    all_masters = list(cluster.endpoints)
    try:
        for case in cases:
            close_open_slot(migrator, case, all_masters, rollback)
            result['moved_slots'] += 1
        for move in bounded:
            migrator.move(move, all_masters)
            result['moved_slots'] += 1
    except (ReshardError,) + RETRYABLE_ERRORS as exc:
        raise Interrupted(exc, result['moved_slots'], migrator.keys_moved) from exc
    result.update(changed=True, moved_keys=migrator.keys_moved, remaining_slots=len(moves) - len(bounded),
                  msg='moved %d slot(s) and %d key(s); %d slot(s) left to move'
                  % (result['moved_slots'], migrator.keys_moved, len(moves) - len(bounded)))
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    masters: list[Address] = []
    drain: list[Address] = []
    members: list[Address] = []
    fail_on_param_errors(module, param_errors(module.params, masters, drain, members))
    ensure_redis_library(module)
    cluster = None
    try:
        cluster = Cluster(module.params)
        module.exit_json(**reshard(module, cluster, masters, drain, members))
    except Interrupted as exc:
        module.fail_json(msg=str(exc), changed=exc.moved_slots + exc.moved_keys > 0, moved_slots=exc.moved_slots,
                         moved_keys=exc.moved_keys)
    except ReshardError as exc:
        module.fail_json(msg=str(exc), changed=False)
    except RETRYABLE_ERRORS as exc:
        module.fail_json(msg='Cannot move slots: %s.' % describe_error(exc), changed=False)
    finally:
        if cluster is not None:
            cluster.close()


if __name__ == '__main__':
    main()
