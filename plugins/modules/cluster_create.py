#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_create
short_description: Create a Redis Cluster once, and join new empty nodes to it as replicas or masters
version_added: "0.1.0"
description:
  - Decides from the live state of every node in O(nodes), never from the order of O(nodes) alone, so that
    it never re-creates a cluster and a re-run after a cluster failover changes nothing.
  - When no node belongs to a cluster yet, creates one - as many masters as give each O(replicas)
    replicas (the 16384 slots split evenly between them), the nodes interleaved by host so that masters
    are on different hosts and no replica is on its master's host when the hosts allow it. It sets a
    distinct config epoch on every node, assigns the slots, introduces every node to one of them
    (C(CLUSTER MEET), see O(login_host)), then makes each replica replicate its master as soon as it knows
    that master.
  - When the nodes that belong to a cluster all belong to the same one, changes nothing, except that each
    node that belongs to no cluster yet joins it. A node of O(masters) joins as a master without slots
    (M(redisops.sentinel.cluster_reshard) then moves slots to it); any other joins as a replica of the master
    with the fewest usable replicas (a new master first, then a master on another host). The module returns
    once every node knows the new masters and sees each new replica as the replica of its master.
  - A member that the others flag C(fail) or C(noaddr) and that serves no slot is forgotten by every node
    that answers (C(CLUSTER FORGET) until none lists it, within the 60 seconds Redis bans a forgotten node),
    before any node joins. This is a lost node that O(nodes) no longer lists (its replica took over), or the
    old id of a wiped node that answers afresh at an address of O(nodes) (it then joins like any new node).
    A lost node counts as leaving (O(max_leaving)); a wiped node's old id does not.
  - A wiped master, whose host came back empty at its address before a replica took over, keeps serving its
    slots under its old id, which the others flag C(noaddr) and never C(fail), so no replica takes over by
    itself. When a replica of it answers and still holds its data set (it did not sync from the new node at
    that address), the replica with the largest C(master_repl_offset) takes over (C(CLUSTER FAILOVER
    TAKEOVER)); the module waits until every member sees it as the master of those slots, then forgets the old
    id and joins the wiped node like any new node. Several wiped masters are each taken over so, when every
    one of them has such a replica. See RV(takeovers).
  - Refuses, before any change, when such a node still serves slots otherwise - a master flagged C(fail) whose
    replicas have not taken over yet (the cluster does that itself), a wiped master whose replicas all synced
    from the new node at its address (they hold none of its keys), a master without an answering replica
    (bring the node back, or remove it knowingly by hand) - or when a member still replicates it.
  - Members of the cluster that are not in O(nodes) are reported in RV(leaving). With O(max_leaving) set, the
    module refuses, before any change, when more of them than that would leave, when fewer than three masters
    would stay, or when O(nodes) is too short for the staying masters and their O(replicas).
  - Refuses, before any change, when the nodes belong to different clusters, when the existing cluster
    is not ok (a node reports C(cluster_state) other than ok, a node is failing or unknown to another,
    slots are not served, nodes disagree on the slot map, or a slot migration is half done), when a node
    that belongs to no cluster holds keys, or when a node cannot be queried.
  - The module returns once the replicas are assigned; M(redisops.sentinel.cluster_wait) proves the
    cluster healthy.
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
      - In check mode the module observes the nodes, refuses as it would otherwise, and returns the plan in
        RV(plan) without changing anything. A node that cannot be queried is no failure in check mode, RV(action)
        is then V(unknown).
options:
  login_host:
    description:
      - With O(login_port), the node that every other node is introduced to (C(CLUSTER MEET) is sent to it)
        when the cluster is created, if it is one of O(nodes) as written there; otherwise the first of O(nodes).
    type: str
    default: 127.0.0.1
  login_port:
    description:
      - Port of O(login_host).
      - Must be between 1 and 65535.
    type: int
    default: 6379
  nodes:
    description:
      - The cluster nodes, C(host:port) (C([v6]:port) for IPv6; the port defaults to 6379), as the other nodes
        reach them. A host name is resolved on the managed host for C(CLUSTER MEET), which takes an IP address.
      - At least 3 times (O(replicas) + 1) nodes, so that the cluster has at least three masters.
    type: list
    elements: str
    required: true
  replicas:
    description:
      - Replicas per master.
      - Must not be negative.
    type: int
    default: 1
  masters:
    description:
      - Nodes of O(nodes) that join an existing cluster as masters without slots, when they belong to no cluster
        yet. Ignored for a node that is a member already, and when the cluster is created.
    type: list
    elements: str
    default: []
  max_leaving:
    description:
      - How many members of the cluster may be missing from O(nodes), the nodes that are to leave it. More
        refuses, as an inventory mistake would make it. V(-1) checks nothing (they are only reported).
      - With V(0) or more, the module also refuses when the masters that stay would be fewer than three, or
        when O(nodes) holds fewer than the staying masters times (O(replicas) + 1) nodes.
    type: int
    default: -1
  timeout:
    description:
      - Seconds to wait for each new replica to know its master before it is assigned, and for every member to
        see a takeover.
      - Must not be negative.
    type: float
    default: 60
requirements:
  - redis (Python library, redis-py 4.3 or later)
seealso:
  - module: redisops.sentinel.cluster_wait
  - module: redisops.sentinel.cluster_info
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Create the cluster of six nodes, three masters with a replica each
  redisops.sentinel.cluster_create:
    nodes: [10.0.0.11:6379, 10.0.0.12:6379, 10.0.0.13:6379, 10.0.0.11:6380, 10.0.0.12:6380, 10.0.0.13:6380]
    replicas: 1
    login_password: "{{ redis_password }}"
  register: created

- name: Prove it healthy
  redisops.sentinel.cluster_wait:
    nodes: [10.0.0.11:6379, 10.0.0.12:6379, 10.0.0.13:6379, 10.0.0.11:6380, 10.0.0.12:6380, 10.0.0.13:6380]
    replicas: 1
    login_password: "{{ redis_password }}"
"""

RETURN = r"""
action:
  description:
    - V(create), V(join) (new nodes join an existing cluster, after the departed members are forgotten and
      any takeover, see RV(takeovers)),
      V(forget) (departed members are forgotten, no node joins) or V(none) (also when members are to leave,
      which the module does not remove).
    - V(unknown) in check mode when a node cannot be queried (not installed or started yet).
  returned: always
  type: str
  sample: create
plan:
  description: The steps, done or (in check mode) to be done, one sentence each.
  returned: always
  type: list
  elements: str
  sample: ["10.0.0.11:6379 becomes a master of slots 0-5460", "10.0.0.12:6380 replicates 10.0.0.11:6379"]
masters:
  description: Planned masters and their slot ranges (V(create) only).
  returned: always
  type: list
  elements: dict
  sample: [{"address": "10.0.0.11:6379", "slots": "0-5460"}]
replicas:
  description: Each node to become a replica, and the address of its master.
  returned: always
  type: dict
  sample: {"10.0.0.12:6380": "10.0.0.11:6379"}
new_masters:
  description: The nodes that join (or would join) as masters without slots.
  returned: always
  type: list
  elements: str
  sample: ["10.0.0.14:6379"]
forgotten:
  description:
    - The departed members forgotten (or to forget, in check mode) by every node, each with its id, address
      (empty when the cluster lost it), role, and V(lost) (not in O(nodes)) or V(replaced) (a new node
      answers at its address) as reason.
  returned: always
  type: list
  elements: dict
  sample: [{"id": "e81004682e60...", "address": "10.0.0.15:6379", "role": "master", "reason": "lost"}]
takeovers:
  description:
    - The replicas that took over (or would take over, in check mode) the slots of a wiped master, each with
      its address, the departed master's old id and its slots.
  returned: always
  type: list
  elements: dict
  sample: [{"replica": "10.0.0.12:6380", "id": "e81004682e60...", "slots": ["0-5460"], "slot_count": 5461}]
leaving:
  description: The members of the cluster that are not in O(nodes).
  returned: always
  type: list
  elements: str
  sample: ["10.0.0.15:6379"]
msg:
  description: One line summary.
  returned: always
  type: str
"""

from dataclasses import dataclass, field, replace
from typing import Any, Callable

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.address import (
    Address,
    AddressMatcher,
    parse_address_list,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    REDIS_PORT,
    RETRYABLE_ERRORS,
    ResponseError,
    common_param_errors,
    connection_argument_spec,
    ensure_redis_library,
    fail_on_param_errors,
    wait_argument_spec,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import (
    ClusterNode,
    Layout,
    NodeView,
    Observer,
    cluster_groups,
    departed_nodes,
    describe_ranges,
    format_ranges,
    health_problems,
    meet_host,
    parse_nodes,
    plan_layout,
    reference_view,
    reply_text,
    split_slots,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import describe_error, poll_until

MIN_MASTERS = 3
FORGET_REASONS = dict(lost='not in nodes', replaced='a new node answers at its address')


class Refusal(Exception):
    """The module must not change anything; the message says why."""


class Unobserved(Refusal):
    """A node could not be queried: no decision is possible (in check mode, not a failure)."""


@dataclass(frozen=True)
class Takeover:
    """A replica that takes over the slots of its departed master (CLUSTER FAILOVER TAKEOVER)."""
    replica: Address
    replica_id: str
    old: ClusterNode
    # The replica's replication id before: once it is a master, its master_replid2 must be this one (its data
    # set is still the departed master's, not one it synced from the node that answers at that address now).
    replid: str

    def step(self) -> str:
        return 'take over: %s replaces %s for %d slots' % (self.replica, self.old.node_id, self.old.slot_count)

    def as_dict(self) -> dict[str, Any]:
        return dict(replica=str(self.replica), id=self.old.node_id, slots=format_ranges(self.old.slots),
                    slot_count=self.old.slot_count)


@dataclass
class Plan:
    action: str = 'none'
    masters: list[tuple[Address, tuple]] = field(default_factory=list)
    replicas: dict[Address, Address] = field(default_factory=dict)
    new_masters: list[Address] = field(default_factory=list)
    leaving: list[str] = field(default_factory=list)
    # Departed members every node forgets, each with why: lost (not in nodes) or replaced (a new node answers).
    forgotten: list[tuple[ClusterNode, str]] = field(default_factory=list)
    # Replicas that take over the slots of a wiped master first (its old id noaddr, never flagged failed).
    takeovers: list[Takeover] = field(default_factory=list)

    def steps(self) -> list[str]:
        steps = [takeover.step() for takeover in self.takeovers]
        steps += ['every node forgets %s (%s, %s, %s)'
                  % (node.node_id, node.label(), ', '.join(node.unusable), FORGET_REASONS[reason])
                  for node, reason in self.forgotten]
        steps += ['%s becomes a master of slots %s' % (address, format_ranges([slots])[0])
                  for address, slots in self.masters]
        if self.action == 'create':
            steps.append('every node meets every other one')
        steps += ['%s joins the cluster as a master without slots' % str(address) for address in self.new_masters]
        verb = 'joins the cluster and replicates' if self.action == 'join' else 'replicates'
        steps += ['%s %s %s' % (node, verb, master) for node, master in self.replicas.items()]
        gone = {node.label() for node, _reason in self.forgotten}
        return steps + ['%s is a member that is not in nodes (to leave the cluster)' % label
                        for label in self.leaving if label not in gone]


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(REDIS_PORT)
    spec.update(wait_argument_spec())
    spec.update(
        nodes=dict(type='list', elements='str', required=True),
        replicas=dict(type='int', default=1),
        masters=dict(type='list', elements='str', default=[]),
        max_leaving=dict(type='int', default=-1),
    )
    return spec


def param_errors(params: dict[str, Any], nodes_out: list[Address], masters_out: list[Address]) -> list[str]:
    errors = common_param_errors(params)
    nodes_out += parse_address_list(params['nodes'], REDIS_PORT, 'nodes', errors)
    if len(set(nodes_out)) != len(nodes_out):
        errors.append('nodes: an address is listed twice')
    masters_out += parse_address_list(params['masters'], REDIS_PORT, 'masters', errors)
    strangers = [str(address) for address in masters_out if address not in nodes_out]
    if strangers:
        errors.append('masters: %s not in nodes' % ', '.join(strangers))
    if params['max_leaving'] < -1:
        errors.append('max_leaving must be -1 (no limit) or more, got %d' % params['max_leaving'])
    replicas = params['replicas']
    if replicas < 0:
        errors.append('replicas must not be negative, got %d' % replicas)
    elif len(params['nodes']) < MIN_MASTERS * (replicas + 1):
        errors.append('nodes: %d node(s) given, a cluster of %d masters with %d replica(s) each needs at least %d'
                      % (len(params['nodes']), MIN_MASTERS, replicas, MIN_MASTERS * (replicas + 1)))
    return errors


@dataclass(frozen=True)
class Wanted:
    """What the caller asks for beside the nodes' live state."""
    nodes: list[Address]
    replicas: int
    new_masters: list[Address]
    max_leaving: int


def decide(views: list[NodeView], wanted: Wanted) -> Plan:
    """What to do, from the live state; raises Refusal."""
    loaded = ['%s (%d keys)' % (view.address, view.keys) for view in views if view.fresh and view.keys]
    if loaded:
        raise Refusal('These nodes belong to no cluster but hold keys; a node must be empty to join one '
                      '(flush it, or take it out of nodes): %s.' % ', '.join(loaded))
    groups = cluster_groups(views)
    if len(groups) > 1:
        raise Refusal('The nodes belong to %d different clusters: %s. Nothing changed; merging clusters is not '
                      'supported.' % (len(groups), '; '.join('[%s]' % ', '.join(sorted(str(view.address)
                                                                                       for view in group))
                                                             for group in groups)))
    if not groups:
        masters, assigned = plan_layout([view.address for view in views], wanted.replicas)
        return Plan('create', list(zip(masters, split_slots(len(masters)))), assigned)
    return join_plan(views, groups[0], wanted)


def join_plan(views: list[NodeView], members: list[NodeView], wanted: Wanted) -> Plan:
    """Departed members without slots are forgotten; new empty nodes join as masters when asked, else as
    replicas of the master with the fewest replicas.

    A master without slots is no refusal: it is a new master that an interrupted run did not give slots yet.
    """
    departed = departed_nodes(members)
    takeovers = plan_takeovers(views, members, departed)
    if takeovers:
        # Decided on the cluster as it will be once the replicas took over: whatever else would refuse then
        # refuses now, before any change.
        plan = join_plan(views, [after_takeovers(view, takeovers) for view in members], wanted)
        plan.takeovers = takeovers
        return plan
    fresh = [view.address for view in views if view.fresh]
    expected = Layout(wanted.nodes)
    problems = departed_problems(members, departed)
    if problems:
        raise Refusal('Nothing changed: %s.' % '; '.join(problems))
    # The cluster as it will be once they are forgotten.
    members = [view.without(node.node_id for node in departed) for view in members]
    reference = reference_view(members)
    known = [node.address for node in reference.nodes if node.address]
    problems = health_problems({view.address: view for view in members},
                               Layout(known, replicas=0, empty_masters=True))
    if problems:
        raise Refusal('The cluster is not ok, nothing changed: %s.' % '; '.join(problems))
    forgotten = [(node, forget_reason(node, expected, bool(fresh))) for node in departed]
    lost = [node for node, reason in forgotten if reason == 'lost']
    leaving = lost + [node for node in reference.nodes if not expected.expects(node)]
    new_masters = [address for address in fresh if address in wanted.new_masters]
    if wanted.max_leaving >= 0:
        problems = leaving_problems(reference, leaving, len(new_masters), wanted)
        if problems:
            raise Refusal('Nothing changed: %s.' % '; '.join(problems))
    action = 'join' if fresh else 'forget' if forgotten else 'none'
    plan = Plan(action, new_masters=new_masters, leaving=[node.label() for node in leaving], forgotten=forgotten)
    counts = replica_counts(reference, {node.node_id for node in leaving})
    counts.update({address: 0 for address in new_masters})
    for address in fresh:
        if address not in new_masters:
            chosen = min(counts, key=lambda master: (counts[master], master.host == address.host))
            counts[chosen] += 1
            plan.replicas[address] = chosen
    return plan


def forget_reason(node: ClusterNode, expected: Layout, joining: bool) -> str:
    """``replaced`` when another node answers at the departed node's address now (one of the nodes, not
    this id); with its address lost (noaddr: a new node answered there), when a node joins in this run.
    Otherwise ``lost``: a node that left with its host, which counts as leaving."""
    return 'replaced' if expected.expects(node) or (node.address is None and joining) else 'lost'


def plan_takeovers(views: list[NodeView], members: list[NodeView], departed: list[ClusterNode]) -> list[Takeover]:
    """A takeover for each departed master whose address a new node took (noaddr: its host wiped and answering
    afresh) and that still serves slots, by the replica that still holds its data set with the largest
    master_repl_offset. Such a master is never flagged failed, so no replica takes over by itself; its old id
    can never come back (its address answers with another id)."""
    takeovers = []
    for node in departed:
        if 'noaddr' not in node.flags or not node.slots:
            continue
        intact = [view for view in followers(members, node) if not resynced(view, views)]
        if intact:
            chosen = max(intact, key=lambda view: (int(view.replication.get('master_repl_offset', 0)),
                                                   str(view.address)))
            takeovers.append(Takeover(chosen.address, chosen.myself.node_id, node,
                                      str(chosen.replication.get('master_replid', ''))))
    return takeovers


def followers(members: list[NodeView], node: ClusterNode) -> list[NodeView]:
    """The members that answer and replicate ``node``, as they see themselves."""
    return [view for view in members if view.myself.master_id == node.node_id]


def resynced(replica: NodeView, views: list[NodeView]) -> bool:
    """Whether a replica of a departed master replaced its data set by the one of whatever answers at its
    master's address now: its link is up (the departed master answers nowhere), or it shares the replication
    id of the node observed there (a sync completed, then the link dropped)."""
    if replica.master_link_status == 'up':
        return True
    host, port = str(replica.replication.get('master_host', '')), int(replica.replication.get('master_port', 0))
    replid = replica.replication.get('master_replid')
    return any(AddressMatcher(view.address).matches(host, port) and view.replication.get('master_replid') == replid
               for view in views if host)


def after_takeovers(view: NodeView, takeovers: list[Takeover]) -> NodeView:
    """``view`` as it will be once each replica took over: a master of the departed master's slots, the departed
    master without slots, its other replicas replicating the new master (their link up again)."""
    by_old = {takeover.old.node_id: takeover for takeover in takeovers}
    by_new = {takeover.replica_id: takeover for takeover in takeovers}
    nodes = []
    for node in view.nodes:
        if node.node_id in by_old:
            node = replace(node, slots=())
        elif node.node_id in by_new:
            node = replace(node, flags=(node.flags - {'slave'}) | {'master'}, master_id=None,
                           slots=by_new[node.node_id].old.slots)
        elif node.master_id in by_old:
            node = replace(node, master_id=by_old[node.master_id].replica_id)
        nodes.append(node)
    me = view.myself
    link = None if me.node_id in by_new else 'up' if me.master_id in by_old else view.master_link_status
    return replace(view, nodes=nodes, master_link_status=link)


def departed_problems(members: list[NodeView], departed: list[ClusterNode]) -> list[str]:
    """Why a departed node must not be forgotten: it serves slots, or members still replicate it."""
    problems = []
    for node in departed:
        name = '%s (id %s, %s)' % (node.label(), node.node_id, ', '.join(node.unusable))
        replicas = followers(members, node)
        names = sorted(str(view.address) for view in replicas)
        if node.slots and replicas and 'noaddr' in node.flags:
            problems.append(resynced_problem(name, node, names))
        elif node.slots and replicas:
            problems.append('%s still serves %d slot(s) (%s), and its replica(s) %s have not taken over yet: run '
                            'again once one has (cluster-node-timeout), or make one take over with CLUSTER '
                            'FAILOVER TAKEOVER' % (name, node.slot_count, describe_ranges(node.slots), ', '.join(names)))
        elif node.slots:
            problems.append('%s still serves %d slot(s) (%s): no replica took over, and their keys are on that '
                            'node alone. Bring the node back with its data directory and run again; or, accepting '
                            'that the keys of these slots are lost, forget it and assign its slots by hand '
                            '(docs/cluster-operations.md, a lost master that still serves slots)'
                            % (name, node.slot_count, describe_ranges(node.slots)))
        elif replicas:
            problems.append('%s is replicated by %s: make them replicate another master first (CLUSTER REPLICATE)'
                            % (name, ', '.join(names)))
    return problems


def resynced_problem(name: str, node: ClusterNode, replicas: list[str]) -> str:
    """A wiped master (noaddr) whose every answering replica synced from the new node at its address: they hold
    that node's data set now, not the keys of the departed master's slots."""
    return ('%s still serves %d slot(s) (%s), and its replica(s) %s synced from the new node that answers at its '
            'address: they no longer hold the keys of these slots, which are lost with the wiped disk. Taking over '
            'would serve these slots empty: if that is accepted, forget it and assign its slots by hand '
            '(docs/cluster-operations.md, a wiped master)' % (name, node.slot_count, describe_ranges(node.slots),
                                                              ', '.join(replicas)))


def replica_counts(reference: NodeView, leaving: set[str]) -> dict[Address, int]:
    """Usable replicas of each master that stays, by the master's address."""
    masters = {node.node_id: node.address for node in reference.nodes
               if node.role == 'master' and node.address and node.node_id not in leaving}
    counts = {address: 0 for address in masters.values()}
    for node in reference.nodes:
        if node.master_id in masters and not node.unusable and node.node_id not in leaving:
            counts[masters[node.master_id]] += 1
    return counts


def leaving_problems(reference: NodeView, leaving: list[ClusterNode], new_masters: int, wanted: Wanted) -> list[str]:
    """Why the members missing from the nodes must not leave: too many at once (an inventory mistake looks
    like this), or too few masters, or replicas, left."""
    if not leaving:
        return []
    problems = []
    labels = ', '.join(node.label() for node in leaving)
    if len(leaving) > wanted.max_leaving:
        problems.append('%d member(s) of the cluster are not in nodes (%s) and at most %d may leave in one run '
                        '(max_leaving): if they should leave, raise the limit; if not, list them in nodes'
                        % (len(leaving), labels, wanted.max_leaving))
    gone = {node.node_id for node in leaving}
    staying = new_masters + sum(1 for node in reference.nodes if node.role == 'master' and node.node_id not in gone)
    if staying < MIN_MASTERS:
        problems.append('without %s the cluster would have %d master(s), it needs at least %d: keep a master in '
                        'nodes or add one (masters)' % (labels, staying, MIN_MASTERS))
    elif len(wanted.nodes) < staying * (wanted.replicas + 1):
        problems.append('the %d masters that stay need %d replica(s) each, and nodes lists only %d node(s) in all: '
                        'add replicas to nodes first' % (staying, wanted.replicas, len(wanted.nodes)))
    return problems


class Executor:
    """Carries out a plan, recording each step done."""

    def __init__(self, observer: Observer, views: dict[Address, NodeView], params: dict[str, Any]):
        self.observer, self.views, self.params = observer, views, params
        self.done: list[str] = []

    def command(self, address: Address, *args: Any) -> Any:
        return self.observer.client(address).execute_command(*args)

    def forget(self, departed: list[ClusterNode], peers: list[Address]) -> None:
        """CLUSTER FORGET on every peer until none lists the departed nodes. A forgotten node is banned for
        60 seconds: each poll forgets again where a node is still listed, so that the ban outlasts gossip."""
        ids = {node.node_id for node in departed}
        listing: list[str] = []

        def check() -> tuple[bool, dict[str, Any]]:
            listing.clear()
            for address in peers:
                known = {node.node_id for node in parse_nodes(reply_text(self.command(address, 'CLUSTER', 'NODES')))}
                for node_id in sorted(ids & known):
                    self.command(address, 'CLUSTER', 'FORGET', node_id)
                    listing.append('%s listed %s' % (address, node_id))
            return not listing, {}

        outcome = poll_until(check, self.params['timeout'], self.params['poll_interval'], ())
        if not outcome.ready:
            raise Refusal('The departed nodes are still known after %ss: %s.' % (outcome.elapsed, '; '.join(listing)))
        self.done += ['every node forgot %s (%s)' % (node.node_id, node.label()) for node in departed]

    def take_over(self, takeovers: list[Takeover], peers: list[Address]) -> None:
        """CLUSTER FAILOVER TAKEOVER on each chosen replica, then poll until every peer sees it as the master of
        the departed master's slots, no node replicates the departed master any more, and the link of each
        replica of the new master is up (its other replicas follow it and sync)."""
        for takeover in takeovers:
            self.command(takeover.replica, 'CLUSTER', 'FAILOVER', 'TAKEOVER')
            self.done.append(takeover.step().replace('take over:', 'took over:'))
            replication = self.observer.client(takeover.replica).info('replication')
            if replication.get('master_replid2') != takeover.replid:
                raise Refusal('%s took over the slots of %s, but it had synced from the new node at that address '
                              'in the meantime: the keys of slots %s are lost.'
                              % (takeover.replica, takeover.old.node_id, describe_ranges(takeover.old.slots)))
        pending: list[str] = []

        def check() -> tuple[bool, dict[str, Any]]:
            pending.clear()
            for address in peers:
                view = self.observer.observe(address)
                pending.extend('%s: %s' % (address, reason) for reason in (
                    takeover_pending(view, takeovers) if isinstance(view, NodeView) else [view]))
            return not pending, {}

        outcome = poll_until(check, self.params['timeout'], self.params['poll_interval'], ())
        if not outcome.ready:
            raise Refusal('The nodes do not agree on the takeover after %ss: %s.'
                          % (outcome.elapsed, '; '.join(pending)))

    def meet(self, address: Address, peer: Address) -> None:
        bus_port = self.views[peer].myself.bus_port if peer in self.views else peer.port + 10000
        self.command(address, 'CLUSTER', 'MEET', meet_host(peer.host), peer.port, bus_port)

    def add_slots(self, address: Address, start: int, end: int) -> None:
        try:
            self.command(address, 'CLUSTER', 'ADDSLOTSRANGE', start, end)
        except ResponseError as exc:
            if 'unknown subcommand' not in str(exc).lower():
                raise
            self.command(address, 'CLUSTER', 'ADDSLOTS', *range(start, end + 1))

    def create(self, plan: Plan, introducer: Address) -> None:
        for epoch, (address, view) in enumerate(self.views.items(), start=1):
            if view.info.get('cluster_current_epoch') == 0:
                self.command(address, 'CLUSTER', 'SET-CONFIG-EPOCH', epoch)
        for address, (start, end) in plan.masters:
            self.add_slots(address, start, end)
            self.done.append('%s serves slots %d-%d' % (address, start, end))
        for address in self.views:
            if address != introducer:
                self.meet(introducer, address)
        self.done.append('every node met %s' % str(introducer))
        self.replicate(plan.replicas)

    def join(self, plan: Plan, member: Address) -> None:
        """New nodes meet a member; a new master is known to every node before replicas attach to it, and the
        run returns once every node sees each new replica as a replica (cluster_reshard reads the roles next)."""
        for address in plan.new_masters + list(plan.replicas):
            self.meet(address, member)
            self.done.append('%s met %s' % (address, member))
        for address in plan.new_masters:
            node_id = self.views[address].myself.node_id
            for other in self.views:
                if other != address:
                    self.await_node(other, node_id, lambda node: not node.unusable, 'know the node %s as usable')
            self.done.append('%s is a master every node knows' % str(address))
        self.replicate(plan.replicas)
        for replica, master in plan.replicas.items():
            replica_id, master_id = self.views[replica].myself.node_id, self.node_id(master)
            for other in self.views:
                self.await_node(other, replica_id, lambda node, wanted=master_id: node.master_id == wanted,
                                'see the node %s as a replica of ' + str(master))

    def node_id(self, address: Address) -> str:
        if address in self.views:
            return self.views[address].myself.node_id
        return next(node.node_id for view in self.views.values() for node in view.nodes if node.address == address)

    def replicate(self, replicas: dict[Address, Address]) -> None:
        """CLUSTER REPLICATE, once the replica knows its master as a usable node."""
        for replica, master in replicas.items():
            master_id = self.node_id(master)
            self.await_node(replica, master_id, lambda node: not node.unusable, 'know the node %s as usable')
            self.command(replica, 'CLUSTER', 'REPLICATE', master_id)
            self.done.append('%s replicates %s' % (replica, master))

    def await_node(self, address: Address, node_id: str, wanted: Callable[[ClusterNode], bool], what: str) -> None:
        """Poll ``address`` until it knows ``node_id`` as ``wanted`` says; ``what`` describes it for the error."""
        def check() -> tuple[bool, dict[str, Any]]:
            view = self.observer.observe(address)
            node = view.by_id().get(node_id) if isinstance(view, NodeView) else None
            return node is not None and wanted(node), {}

        outcome = poll_until(check, self.params['timeout'], self.params['poll_interval'], ())
        if not outcome.ready:
            raise Refusal('%s does not %s after %ss: check that the cluster bus port is open between the nodes '
                          '(cluster_wait diagnoses it).' % (address, what % node_id, outcome.elapsed))


def takeover_pending(view: NodeView, takeovers: list[Takeover]) -> list[str]:
    """Where ``view`` does not show the takeovers done yet (empty: it does)."""
    known = view.by_id()
    reasons = []
    for takeover in takeovers:
        new, old = known.get(takeover.replica_id), known.get(takeover.old.node_id)
        if new is None or new.role != 'master' or not takeover.old.slot_numbers <= new.slot_numbers:
            reasons.append('does not see %s as the master of slots %s yet'
                           % (takeover.replica, describe_ranges(takeover.old.slots)))
        if old is not None and old.slots:
            reasons.append('sees %s still serving %d slot(s)' % (takeover.old.node_id, old.slot_count))
        reasons += ['sees %s still replicating %s' % (node.label(), takeover.old.node_id)
                    for node in view.nodes if node.master_id == takeover.old.node_id]
        if view.myself.master_id == takeover.replica_id and view.master_link_status != 'up':
            reasons.append('replicates %s, its link is %s' % (takeover.replica, view.master_link_status))
    return reasons


def observe_nodes(observer: Observer, nodes: list[Address]) -> dict[Address, NodeView]:
    observations = observer.observe_all(nodes)
    errors = ['%s: %s' % (address, view) for address, view in observations.items() if isinstance(view, str)]
    if errors:
        raise Unobserved('Cannot decide without every node, nothing changed: %s.' % '; '.join(errors))
    return observations  # type: ignore[return-value]


def answering_peers(views: list[NodeView]) -> list[Address]:
    """The observed nodes, and the usable members they know that are not among them (nodes that leave)."""
    observed = {view.myself.node_id for view in views}
    others = {node.node_id: node.address for view in views for node in view.nodes
              if node.address and not node.unusable and node.node_id not in observed}
    return [view.address for view in views] + list(others.values())


def result_of(plan: Plan, steps: list[str], msg: str) -> dict[str, Any]:
    return dict(changed=plan.action != 'none', action=plan.action, plan=steps,
                takeovers=[takeover.as_dict() for takeover in plan.takeovers],
                forgotten=[dict(id=node.node_id, address=str(node.address) if node.address else '', role=node.role,
                                reason=reason) for node, reason in plan.forgotten],
                masters=[dict(address=str(address), slots=format_ranges([slots])[0]) for address, slots in plan.masters],
                replicas={str(node): str(master) for node, master in plan.replicas.items()},
                new_masters=[str(address) for address in plan.new_masters], leaving=plan.leaving, msg=msg)


def take_over(executor: Executor, plan: Plan, observe_all: Callable[[], dict[Address, NodeView]],
              wanted: Wanted) -> tuple[Plan, list[str]]:
    """Carry out the takeovers, then decide the rest (forget the old ids, join the nodes) on the nodes as they are
    now: the same plan as the one made before unless the cluster changed meanwhile."""
    members = [view for view in executor.views.values() if not view.fresh]
    executor.take_over(plan.takeovers, answering_peers(members))
    executor.views = observe_all()
    rest = decide(list(executor.views.values()), wanted)
    rest.takeovers = plan.takeovers
    return rest, rest.steps()


def fail(module, plan: Plan, executor: Executor | None, reason: str) -> None:
    done = executor.done if executor else []
    msg = reason + (' Done before: %s.' % '; '.join(done) if done else ' Nothing changed.' if executor else '')
    result = result_of(plan, done, msg)
    result['changed'] = bool(done)
    module.fail_json(**result)


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    nodes: list[Address] = []
    new_masters: list[Address] = []
    fail_on_param_errors(module, param_errors(params, nodes, new_masters))
    ensure_redis_library(module)

    login = Address(params['login_host'], params['login_port'])
    introducer = login if login in nodes else nodes[0]
    observer = Observer(params)
    plan = Plan()
    executor = None
    try:
        views = observe_nodes(observer, nodes)
        wanted = Wanted(nodes, params['replicas'], new_masters, params['max_leaving'])
        plan = decide(list(views.values()), wanted)
        steps = plan.steps()
        if module.check_mode or plan.action == 'none':
            module.exit_json(**result_of(plan, steps, 'Plan: %s.' % '; '.join(steps) if steps else
                                         'The cluster exists and every node is a member: nothing to do.'))
        executor = Executor(observer, views, params)
        if plan.action == 'create':
            executor.create(plan, introducer)
        else:
            if plan.takeovers:
                plan, steps = take_over(executor, plan, lambda: observe_nodes(observer, nodes), wanted)
            current = list(executor.views.values())
            if plan.forgotten:
                executor.forget([node for node, _reason in plan.forgotten], answering_peers(current))
            executor.join(plan, reference_view(current).address)
    except Unobserved as exc:
        if not module.check_mode:
            fail(module, plan, executor, str(exc))
        # A check run on hosts where the nodes are not installed or started yet.
        result = result_of(Plan('unknown'), [], 'Check mode: %s The plan is made when they run.' % exc)
        result['changed'] = True
        module.exit_json(**result)
    except Refusal as exc:
        fail(module, plan, executor, str(exc))
    except RETRYABLE_ERRORS as exc:
        fail(module, plan, executor, 'A command failed: %s.' % describe_error(exc))
    finally:
        observer.close()
    module.exit_json(**result_of(plan, steps, 'Done: %s.' % '; '.join(steps)))


if __name__ == '__main__':
    main()
