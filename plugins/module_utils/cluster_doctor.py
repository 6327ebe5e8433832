# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The doctor's checks over a Redis Cluster, and the status table: pure functions over what the nodes report.

Nothing here talks to a server. ``plugins/modules/doctor.py`` reads every node of the inventory's
``redis_cluster`` group (``CLUSTER INFO``, ``CLUSTER NODES``, ``INFO replication``, ``DBSIZE``) and every
member those nodes know, into a ``ClusterReading``; :func:`cluster_findings` judges it in the doctor's
style (``Finding``: check, severity, node, evidence, fix) and :func:`status_lines` prints it as a table.

The cluster as a whole is judged from the reference view (the node that knows the most members, as
``cluster_wait`` does); each node's own view is compared with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ansible_collections.redisops.sentinel.plugins.module_utils.address import Address, AddressMatcher
from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import (
    MIGRATING, SLOT_COUNT, UNUSABLE_FLAGS, ClusterNode, NodeView, Observation, describe_ranges, format_ranges,
    reference_view, slot_owners, slot_ranges)
from ansible_collections.redisops.sentinel.plugins.module_utils.doctor import ERROR, WARNING, Finding

# The group of every cluster finding (the Sentinel findings name their master group there).
CLUSTER = 'cluster'
CHECKS = ('cluster_state', 'cluster_uncovered_slots', 'cluster_open_slots', 'cluster_no_replica',
          'cluster_replica_beside_master', 'cluster_node_failed', 'cluster_slot_map_disagreement',
          'cluster_epoch_collision', 'cluster_unknown_node', 'cluster_missing_node')
# Flags that make a member failed in another node's view (handshake: it never completed the MEET).
FAILED_FLAGS = UNUSABLE_FLAGS


@dataclass(frozen=True)
class InventoryNode:
    """A host of the redis_cluster group: its inventory name, where its node is reached, its machine."""

    name: str
    address: Address
    machine: str


@dataclass
class ClusterReading:
    """What the doctor read: each inventory node's and each other member's view (or why it could not),
    and the INFO replication of each node that answered."""

    inventory: list[InventoryNode]
    observations: dict[Address, Observation]
    replication: dict[Address, Mapping[str, Any]] = field(default_factory=dict)
    _matchers: list[tuple[AddressMatcher, InventoryNode]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._matchers = [(AddressMatcher(node.address), node) for node in self.inventory]

    def views(self) -> list[NodeView]:
        return [view for view in self.observations.values() if isinstance(view, NodeView)]

    def reference(self) -> NodeView | None:
        return reference_view([self.observations[node.address] for node in self.inventory
                               if isinstance(self.observations.get(node.address), NodeView)])

    def member_views(self) -> list[NodeView]:
        """The views of the nodes that belong to the reference's cluster."""
        reference = self.reference()
        ids = reference.ids() if reference else frozenset()
        return [view for view in self.views() if view.myself.node_id in ids]

    def inventory_node(self, node: ClusterNode) -> InventoryNode | None:
        if node.address is None:
            return None
        return next((known for matcher, known in self._matchers if matcher.matches(node.host, node.port)), None)

    def name(self, node: ClusterNode) -> str:
        """The inventory name of a member, else its address (its id while it has none)."""
        known = self.inventory_node(node)
        return known.name if known else node.label()

    def view_of(self, node: ClusterNode) -> NodeView | None:
        return next((view for view in self.views() if view.myself.node_id == node.node_id), None)

    def view_name(self, view: NodeView) -> str:
        return self.name(view.myself)


def shown(reading: ClusterReading, node: ClusterNode) -> str:
    """``name address`` of a member, or its address alone when the inventory does not name it."""
    name = reading.name(node)
    return name if name == node.label() else '%s %s' % (name, node.label())


def failed_flags(node: ClusterNode) -> list[str]:
    return [flag for flag in FAILED_FLAGS if flag in node.flags]


# Checks.

def unreachable_findings(reading: ClusterReading) -> list[Finding]:
    return [Finding('unreachable', ERROR, node.name,
                    'cluster node %s does not answer: %s.' % (node.address, reading.observations[node.address]),
                    'Start it, or check its address, port, firewall, password and TLS settings (cluster_wait and '
                    'cluster.yml probe its data and bus ports).', CLUSTER,
                    dict(address=str(node.address), error=reading.observations[node.address]))
            for node in reading.inventory if isinstance(reading.observations.get(node.address), str)]


def state_findings(reading: ClusterReading) -> list[Finding]:
    """Members that report cluster_state other than ok: they refuse the queries of their clients."""
    failing = [view for view in reading.member_views() if view.info.get('cluster_state') != 'ok']
    if not failing:
        return []
    evidence = {reading.view_name(view): dict(cluster_state=view.info.get('cluster_state'),
                                              slots_assigned=view.info.get('cluster_slots_assigned'),
                                              slots_ok=view.info.get('cluster_slots_ok'),
                                              slots_pfail=view.info.get('cluster_slots_pfail'),
                                              slots_fail=view.info.get('cluster_slots_fail'))
                for view in failing}
    return [Finding('cluster_state', ERROR, reading.view_name(failing[0]),
                    'cluster_state is not ok on %d of %d member(s) (%s): they refuse their clients\' commands.'
                    % (len(failing), len(reading.member_views()), ', '.join(sorted(evidence))),
                    'The other findings say why (slots no master serves, failed masters). Once every slot has a '
                    'live master the state turns ok by itself; cluster.yml then proves it (cluster_wait).',
                    CLUSTER, evidence)]


def uncovered_findings(reading: ClusterReading) -> list[Finding]:
    reference = reading.reference()
    if reference is None:
        return []
    served = {slot for start, end, _owner in reference.slot_map() for slot in range(start, end + 1)}
    uncovered = slot_ranges(set(range(SLOT_COUNT)) - served)
    if not uncovered:
        return []
    count = sum(end - start + 1 for start, end in uncovered)
    return [Finding('cluster_uncovered_slots', ERROR, reading.view_name(reference),
                    '%d of %d slots are served by no master (%s), as %s sees it: their keys cannot be read or '
                    'written.' % (count, SLOT_COUNT, describe_ranges(uncovered), reference.address),
                    'Start the master that served them (one that failed with no replica to take over). If its '
                    'data is gone for good, assign the slots to a master (CLUSTER ADDSLOTSRANGE, or redis-cli '
                    '--cluster fix): their keys are lost.', CLUSTER,
                    dict(count=count, slots=format_ranges(uncovered), seen_by=str(reference.address)))]


def open_slot_findings(reading: ClusterReading) -> list[Finding]:
    """Slots a member reports migrating or importing: a slot migration left half done."""
    sides: dict[int, list[tuple[str, str, str]]] = {}
    for view in reading.member_views():
        peers = view.by_id()
        for open_slot in view.myself.open_slots:
            peer = peers.get(open_slot.peer)
            sides.setdefault(open_slot.slot, []).append(
                (reading.view_name(view), open_slot.state, shown(reading, peer) if peer else open_slot.peer))
    out = []
    for slot, entries in sorted(sides.items()):
        entries.sort(key=lambda entry: entry[1] != MIGRATING)
        text = '; '.join('%s is %s it %s %s' % (name, state, 'to' if state == MIGRATING else 'from', peer)
                         for name, state, peer in entries)
        out.append(Finding('cluster_open_slots', ERROR, entries[0][0],
                           'slot %d is half moved (%s): its keys are split between two nodes, clients are sent '
                           'back and forth with ASK, and cluster.yml refuses to change the cluster.' % (slot, text),
                           'Settle it: run cluster.yml with -e redis_cluster_open_slots=finish (the rest of its keys '
                           'move on) or rollback (they move back); the run then goes on as usual.', CLUSTER,
                           dict(slot=slot, nodes=[dict(node=name, state=state, peer=peer)
                                                  for name, state, peer in entries])))
    return out


def replica_state(reading: ClusterReading, reference: NodeView, replica: ClusterNode) -> str:
    """Why ``replica`` could not take over ('' when it could): its flags in the reference, its link."""
    reasons = list(replica.unusable)
    view = reading.view_of(replica)
    if view is not None and view.master_link_status != 'up':
        reasons.append('master_link_status %s' % view.master_link_status)
    return ', '.join(reasons)


def replica_findings(reading: ClusterReading) -> list[Finding]:
    """Masters that serve slots with no replica that could take over."""
    reference = reading.reference()
    if reference is None:
        return []
    out = []
    for master in (node for node in reference.nodes if node.role == 'master' and node.slots):
        replicas = [node for node in reference.nodes if node.master_id == master.node_id]
        states = {shown(reading, replica): replica_state(reading, reference, replica) for replica in replicas}
        if any(not state for state in states.values()):
            continue
        why = ('it has no replica' if not replicas else 'none of its replicas can take over (%s)'
               % '; '.join('%s: %s' % item for item in sorted(states.items())))
        out.append(Finding('cluster_no_replica', ERROR, reading.name(master),
                           'master %s (slots %s) has no replica that could take over: %s. When it fails, its '
                           'slots are served by nobody.' % (shown(reading, master), describe_ranges(master.slots), why),
                           'Start its replica, or see why its link is down (INFO replication and the log on the '
                           'replica); with no replica left, add a node to redis_cluster and run cluster.yml: it joins '
                           'as a replica of the master with the fewest.', CLUSTER,
                           dict(master=str(master.address), slots=format_ranges(master.slots), replicas=states)))
    return out


def same_machine(reading: ClusterReading, one: ClusterNode, other: ClusterNode) -> str | None:
    """The machine (inventory ``ansible_host``, else the IP address) two members share, None if none."""
    first, second = reading.inventory_node(one), reading.inventory_node(other)
    if first and second and first.machine == second.machine:
        return first.machine
    return one.host if one.host and one.host == other.host else None


def beside_master_findings(reading: ClusterReading) -> list[Finding]:
    """Replicas on their master's machine: one machine failing takes both, and their slots."""
    reference = reading.reference()
    if reference is None:
        return []
    masters = reference.by_id()
    out = []
    for replica in (node for node in reference.nodes if node.role == 'replica' and node.master_id in masters):
        master = masters[replica.master_id or '']
        machine = same_machine(reading, replica, master)
        if machine is None:
            continue
        out.append(Finding('cluster_replica_beside_master', WARNING, reading.name(replica),
                           'replica %s and its master %s run on the same machine %s: when the machine fails, the '
                           'slots %s fail with both.' % (shown(reading, replica), shown(reading, master), machine,
                                                         describe_ranges(master.slots) or '(none)'),
                           'Make it replicate a master on another machine (CLUSTER REPLICATE <that master\'s id> on '
                           'it), or spread the nodes over more machines; cluster.yml places new replicas away from '
                           'their master\'s machine when it can.', CLUSTER,
                           dict(replica=str(replica.address), master=str(master.address), machine=machine)))
    return out


def failed_node_findings(reading: ClusterReading) -> list[Finding]:
    """Members another member flags as failed, suspected, without address, or stuck in the handshake."""
    flagged: dict[str, dict[str, Any]] = {}
    for view in reading.member_views():
        for node in view.nodes:
            flags = failed_flags(node)
            if node.myself or not flags:
                continue
            entry = flagged.setdefault(node.node_id, dict(node=node, seen=[]))
            entry['seen'].append('%s: %s' % (reading.view_name(view), ','.join(flags)))
    return [Finding('cluster_node_failed', ERROR, reading.name(entry['node']),
                    'member %s is flagged %s by %d node(s) (%s): the cluster does not use it%s.'
                    % (shown(reading, entry['node']), ' / '.join(sorted({seen.split(': ')[1] for seen in entry['seen']})),
                       len(entry['seen']), '; '.join(entry['seen']),
                       ', its replica takes over its slots' if entry['node'].slots else ''),
                    'Start it, or check its bus port (the data port + 10000 unless redis_cluster_bus_port is set) in '
                    'the firewall; it rejoins by itself. A member gone for good: remove it from redis_cluster and '
                    'run cluster.yml, which makes every node forget it.', CLUSTER,
                    dict(node=str(entry['node'].address), id=entry['node'].node_id, seen_by=entry['seen']))
            for entry in flagged.values()]


def disagreement_findings(reading: ClusterReading) -> list[Finding]:
    """Members whose slot map or masters' config epochs differ from the reference's."""
    reference = reading.reference()
    if reference is None:
        return []
    theirs, their_epochs = slot_owners(reference), reference.epochs()
    names = reference.by_id()
    out = []
    for view in reading.member_views():
        if view is reference:
            continue
        ours, epochs = slot_owners(view), view.epochs()
        differing = slot_ranges(slot for slot in range(SLOT_COUNT) if ours[slot] != theirs[slot])
        epoch_diff = {names[node_id].label(): dict(here=epochs[node_id], there=their_epochs[node_id])
                      for node_id in sorted(set(epochs) & set(their_epochs))
                      if epochs[node_id] != their_epochs[node_id]}
        if not differing and not epoch_diff:
            continue
        parts = []
        if differing:
            parts.append('the owner of %d slot(s) (%s)' % (sum(end - start + 1 for start, end in differing),
                                                           describe_ranges(differing)))
        if epoch_diff:
            parts.append('the config epoch of %s' % ', '.join(sorted(epoch_diff)))
        out.append(Finding('cluster_slot_map_disagreement', ERROR, reading.view_name(view),
                           '%s disagrees with %s on %s: clients it redirects go elsewhere than the others say.'
                           % (view.address, reference.address, ' and '.join(parts)),
                           'Gossip settles a change within seconds; when it lasts, the node has a stale or broken '
                           'configuration: CLUSTER NODES on both shows who claims the slots; make the real owner claim '
                           'them with CLUSTER SETSLOT <slot> NODE <id> (or redis-cli --cluster fix).', CLUSTER,
                           dict(node=str(view.address), reference=str(reference.address),
                                slots=format_ranges(differing), epochs=epoch_diff)))
    return out


def collision_findings(reading: ClusterReading) -> list[Finding]:
    """Masters with slots that share a config epoch: a conflict over a slot between them has no winner."""
    reference = reading.reference()
    if reference is None:
        return []
    by_epoch: dict[int, list[ClusterNode]] = {}
    for node in reference.nodes:
        if node.role == 'master' and node.slots:
            by_epoch.setdefault(node.config_epoch, []).append(node)
    return [Finding('cluster_epoch_collision', WARNING, reading.name(nodes[0]),
                    'masters %s share config epoch %d (as %s sees them): a conflict over a slot between them has no '
                    'winner.' % (', '.join(shown(reading, node) for node in nodes), epoch, reference.address),
                    'Redis settles a collision by itself within seconds; when it lasts, the masters cannot reach each '
                    'other over the bus (check the bus ports and the firewall).', CLUSTER,
                    dict(epoch=epoch, masters=[str(node.address) for node in nodes]))
            for epoch, nodes in sorted(by_epoch.items()) if len(nodes) > 1]


def membership_findings(reading: ClusterReading) -> list[Finding]:
    """Members the inventory does not name, and inventory nodes that are no member."""
    reference = reading.reference()
    if reference is None:
        return []
    out = [Finding('cluster_unknown_node', WARNING, node.label(),
                   'member %s (%s%s) is not in redis_cluster: cluster.yml would move its slots away and make every '
                   'node forget it.' % (node.label(), node.role, ', slots %s' % describe_ranges(node.slots)
                                        if node.slots else ''),
                   'Add it to redis_cluster if it belongs to this cluster; otherwise cluster.yml removes it '
                   '(redis_cluster_remove_limit members per run).', CLUSTER,
                   dict(address=node.label(), id=node.node_id, role=node.role, slots=format_ranges(node.slots)))
           for node in reference.nodes if reading.inventory_node(node) is None]
    ids = reference.ids()
    for known in reading.inventory:
        view = reading.observations.get(known.address)
        if not isinstance(view, NodeView) or view.myself.node_id in ids:
            continue
        other = 'it belongs to no cluster' if view.fresh else 'it belongs to another cluster of %d node(s)' % len(
            view.nodes)
        out.append(Finding('cluster_missing_node', WARNING, known.name,
                           'node %s of redis_cluster is not a member of the cluster %s knows: %s.'
                           % (known.address, reference.address, other),
                           'Run cluster.yml: it joins an empty node. A node of another cluster is refused: check it '
                           'holds nothing you need, then CLUSTER RESET HARD on it and run cluster.yml.', CLUSTER,
                           dict(address=str(known.address), known_nodes=len(view.nodes), keys=view.keys)))
    return out


CLUSTER_CHECKS = (unreachable_findings, state_findings, uncovered_findings, open_slot_findings, replica_findings,
                  beside_master_findings, failed_node_findings, disagreement_findings, collision_findings,
                  membership_findings)


def cluster_findings(reading: ClusterReading) -> list[Finding]:
    """Every finding over the cluster (empty: healthy)."""
    return [finding for check in CLUSTER_CHECKS for finding in check(reading)]


# The status table.

def offset_lag(reading: ClusterReading, master: ClusterNode, replica: ClusterNode) -> str:
    """How many bytes of the master's replication stream the replica has not processed yet."""
    ours = reading.replication.get(replica.address) if replica.address else None
    theirs = reading.replication.get(master.address) if master.address else None
    if not ours or not theirs or 'slave_repl_offset' not in ours:
        return 'offset not read'
    return 'offset lag %d bytes' % max(int(theirs.get('master_repl_offset', 0)) - int(ours['slave_repl_offset']), 0)


def replica_line(reading: ClusterReading, master: ClusterNode, replica: ClusterNode) -> str:
    view = reading.view_of(replica)
    link = 'link %s' % view.master_link_status if view else 'not read'
    flags = failed_flags(replica)
    marks = ' [%s]' % ','.join(flags) if flags else ''
    return '    replica %-24s %s, %s%s' % (shown(reading, replica), link, offset_lag(reading, master, replica), marks)


def master_lines(reading: ClusterReading, reference: NodeView, master: ClusterNode) -> list[str]:
    view = reading.view_of(master)
    flags = failed_flags(master)
    head = '  master  %-24s slots %s (%d), %s, epoch %d%s' % (
        shown(reading, master), ','.join(format_ranges(master.slots)) or 'none', master.slot_count,
        '%d keys' % view.keys if view else 'keys not read', master.config_epoch,
        ' [%s]' % ','.join(flags) if flags else '')
    replicas = [node for node in reference.nodes if node.master_id == master.node_id]
    return [head] + [replica_line(reading, master, replica) for replica in replicas] + (
        [] if replicas else ['    no replica'])


def problem_lines(reading: ClusterReading, reference: NodeView) -> list[str]:
    failed = ['%s %s' % (shown(reading, node), ','.join(failed_flags(node)))
              for node in reference.nodes if failed_flags(node)]
    opened = ['slot %d %s %s %s %s' % (item.slot, reading.view_name(view), item.state,
                                       'to' if item.state == MIGRATING else 'from',
                                       shown(reading, view.by_id()[item.peer]) if item.peer in view.by_id() else item.peer)
              for view in reading.member_views() for item in view.myself.open_slots]
    unreachable = ['%s %s (%s)' % (node.name, node.address, reading.observations[node.address])
                   for node in reading.inventory if isinstance(reading.observations.get(node.address), str)]
    return ['  failed or suspected nodes: %s' % ('; '.join(failed) or 'none'),
            '  open slots: %s' % ('; '.join(opened) or 'none')] + (
        ['  not answering: %s' % '; '.join(unreachable)] if unreachable else [])


def status_lines(reading: ClusterReading) -> list[str]:
    """The cluster as a table: its state, each master with its slots, keys and replicas, the problems."""
    reference = reading.reference()
    if reference is None:
        return ['cluster: no node of redis_cluster answers: %s' % '; '.join(
            '%s %s (%s)' % (node.name, node.address, reading.observations.get(node.address))
            for node in reading.inventory)]
    info = reference.info
    masters = sorted((node for node in reference.nodes if node.role == 'master'),
                     key=lambda node: (not node.slots, node.slots, node.label()))
    head = 'cluster: cluster_state %s, %d nodes, %d masters, %s of %d slots assigned, current epoch %s (as %s sees it)' % (
        info.get('cluster_state'), len(reference.nodes), len(masters), info.get('cluster_slots_assigned'), SLOT_COUNT,
        info.get('cluster_current_epoch'), shown(reading, reference.myself))
    lines = [head]
    for master in masters:
        lines += master_lines(reading, reference, master)
    return lines + problem_lines(reading, reference)
