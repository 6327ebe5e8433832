# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redis Cluster: parse CLUSTER NODES / INFO / SHARDS, observe the nodes, judge the health of a layout.

Everything here is read-only; cluster_create decides and changes with the plan functions at the end.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence, Union

from ansible_collections.redisops.sentinel.plugins.module_utils.address import Address, AddressMatcher, format_address
from ansible_collections.redisops.sentinel.plugins.module_utils.client import RETRYABLE_ERRORS, connect
from ansible_collections.redisops.sentinel.plugins.module_utils.probe import classify_connect_error, probe
from ansible_collections.redisops.sentinel.plugins.module_utils.tls import TlsSettings
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import describe_error

SLOT_COUNT = 16384
# Flags of a node that another node cannot use (yet): failed, suspected, still meeting, no address.
UNUSABLE_FLAGS = ('fail', 'fail?', 'handshake', 'noaddr')
# Flags of a node that is gone in the cluster's eyes: failed by a majority of the masters, or its address
# answered with another node id (a node started afresh there) and the node lost it.
DEPARTED_FLAGS = ('fail', 'noaddr')
MIGRATING, IMPORTING = 'migrating', 'importing'

SlotRange = tuple  # (start, end), both included


@dataclass(frozen=True)
class OpenSlot:
    """A slot half moved: ``migrating`` to, or ``importing`` from, the node ``peer`` (an id)."""
    slot: int
    state: str
    peer: str


@dataclass(frozen=True)
class ClusterNode:
    """One line of CLUSTER NODES."""
    node_id: str
    host: str  # empty while a fresh node does not know its own address
    port: int
    bus_port: int
    hostname: str
    flags: frozenset
    master_id: str | None
    ping_sent: int
    pong_received: int
    config_epoch: int
    link_state: str
    slots: tuple = ()
    open_slots: tuple = ()

    @property
    def address(self) -> Address | None:
        return Address(self.host, self.port) if self.host else None

    @property
    def role(self) -> str:
        if 'master' in self.flags:
            return 'master'
        return 'replica' if 'slave' in self.flags else 'none'

    @property
    def myself(self) -> bool:
        return 'myself' in self.flags

    @property
    def unusable(self) -> list[str]:
        """Why another node cannot use this one: bad flags and a disconnected link (empty: usable)."""
        reasons = [flag for flag in UNUSABLE_FLAGS if flag in self.flags]
        if self.link_state != 'connected' and not self.myself:
            reasons.append('link %s' % self.link_state)
        return reasons

    @property
    def departed(self) -> bool:
        return any(flag in self.flags for flag in DEPARTED_FLAGS)

    @property
    def slot_count(self) -> int:
        return sum(end - start + 1 for start, end in self.slots)

    @property
    def slot_numbers(self) -> set[int]:
        """Every slot of the node's ranges."""
        return {slot for start, end in self.slots for slot in range(start, end + 1)}

    def label(self) -> str:
        return str(self.address) if self.address else self.node_id[:12]

    def as_dict(self) -> dict[str, Any]:
        return dict(id=self.node_id, address=str(self.address) if self.address else None, host=self.host,
                    port=self.port, bus_port=self.bus_port, hostname=self.hostname, flags=sorted(self.flags),
                    role=self.role, master_id=self.master_id, config_epoch=self.config_epoch,
                    link_state=self.link_state, ping_sent=self.ping_sent, pong_received=self.pong_received,
                    slots=format_ranges(self.slots), slot_count=self.slot_count,
                    open_slots=[dict(slot=item.slot, state=item.state, peer=item.peer) for item in self.open_slots])


def parse_endpoint(text: str) -> tuple[str, int, int, str]:
    """``ip:port@cport[,hostname[,aux=value ...]]`` -> (ip, port, bus port, hostname).

    The ip is not bracketed, also when it is IPv6 (``::1:7000@17000``); it is empty while a fresh node
    has not learned its own address. Before Redis 4 there is no ``@cport``: the bus port is port + 10000.
    """
    endpoint, *extras = text.split(',')
    hostname = next((extra for extra in extras if '=' not in extra), '')
    address, _at, bus = endpoint.partition('@')
    host, _colon, port_text = address.rpartition(':')
    port = int(port_text)
    return host, port, int(bus) if bus else port + 10000, hostname


def parse_slot_token(token: str) -> tuple[SlotRange | None, OpenSlot | None]:
    """``0-5460`` or ``5461`` is a range; ``[5->-id]`` a migrating and ``[5-<-id]`` an importing slot."""
    if token.startswith('['):
        body = token.strip('[]')
        for marker, state in (('->-', MIGRATING), ('-<-', IMPORTING)):
            if marker in body:
                slot, peer = body.split(marker)
                return None, OpenSlot(int(slot), state, peer)
        raise ValueError('unknown slot marker %r' % token)
    start, _dash, end = token.partition('-')
    return (int(start), int(end or start)), None


def parse_node_line(line: str) -> ClusterNode:
    fields = line.split()
    if len(fields) < 8:
        raise ValueError('not a CLUSTER NODES line: %r' % line)
    host, port, bus_port, hostname = parse_endpoint(fields[1])
    slots, open_slots = [], []
    for token in fields[8:]:
        slot_range, open_slot = parse_slot_token(token)
        if slot_range:
            slots.append(slot_range)
        else:
            open_slots.append(open_slot)
    return ClusterNode(node_id=fields[0], host=host, port=port, bus_port=bus_port, hostname=hostname,
                       flags=frozenset(fields[2].split(',')), master_id=None if fields[3] == '-' else fields[3],
                       ping_sent=int(fields[4]), pong_received=int(fields[5]), config_epoch=int(fields[6]),
                       link_state=fields[7], slots=tuple(slots), open_slots=tuple(open_slots))


def parse_nodes(text: str) -> list[ClusterNode]:
    return [parse_node_line(line) for line in text.splitlines() if line.strip()]


def parse_info(text: str) -> dict[str, Any]:
    """CLUSTER INFO ``key:value`` lines; integer values as int."""
    info: dict[str, Any] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition(':')
        if sep:
            info[key] = int(value) if value.lstrip('-').isdigit() else value
    return info


def _as_mapping(item: Any) -> dict[str, Any]:
    """A RESP3 map as is, a RESP2 flat [key, value, ...] list as a dict."""
    if isinstance(item, Mapping):
        return {reply_text(key): value for key, value in item.items()}
    return {reply_text(key): value for key, value in zip(item[::2], item[1::2])}


def reply_text(value: Any) -> str:
    """A reply of a client that may not decode (binary keys), as text."""
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class ShardNode:
    node_id: str
    endpoint: str
    port: int
    role: str
    replication_offset: int | None
    health: str  # online, failed, loading (CLUSTER SHARDS); derived from the flags without SHARDS


@dataclass(frozen=True)
class Shard:
    slots: tuple
    nodes: tuple

    def as_dict(self) -> dict[str, Any]:
        return dict(slots=format_ranges(self.slots),
                    nodes=[dict(id=node.node_id, endpoint=node.endpoint, port=node.port, role=node.role,
                                replication_offset=node.replication_offset, health=node.health)
                           for node in self.nodes])


def parse_shards(reply: Sequence[Any]) -> list[Shard]:
    """CLUSTER SHARDS (Redis 7.0+): slots as a flat [start, end, ...] list, nodes as maps."""
    shards = []
    for item in reply:
        shard = _as_mapping(item)
        bounds = [int(value) for value in shard['slots']]
        nodes = []
        for node_item in shard['nodes']:
            node = _as_mapping(node_item)
            offset = node.get('replication-offset')
            nodes.append(ShardNode(node_id=reply_text(node['id']), endpoint=reply_text(node.get('endpoint', node.get('ip', ''))),
                                   port=int(node.get('port', node.get('tls-port', 0))), role=reply_text(node['role']),
                                   replication_offset=None if offset is None else int(offset),
                                   health=reply_text(node['health'])))
        shards.append(Shard(slots=tuple(zip(bounds[::2], bounds[1::2])), nodes=tuple(nodes)))
    return shards


def shards_from_nodes(nodes: Iterable[ClusterNode]) -> list[Shard]:
    """The shards CLUSTER SHARDS would report, from CLUSTER NODES (servers before 7.0)."""
    nodes = list(nodes)
    shards = []
    for master in (node for node in nodes if node.role == 'master'):
        members = [master] + [node for node in nodes if node.master_id == master.node_id]
        shards.append(Shard(slots=master.slots, nodes=tuple(
            ShardNode(node_id=node.node_id, endpoint=node.host, port=node.port, role=node.role,
                      replication_offset=None, health='failed' if 'fail' in node.flags else 'online')
            for node in members)))
    return shards


def format_ranges(ranges: Iterable[SlotRange]) -> list[str]:
    return [str(start) if start == end else '%d-%d' % (start, end) for start, end in ranges]


def slot_ranges(slots: Iterable[int]) -> list[SlotRange]:
    """Sorted slot numbers as (start, end) runs."""
    ranges: list[list[int]] = []
    for slot in sorted(set(slots)):
        if ranges and ranges[-1][1] == slot - 1:
            ranges[-1][1] = slot
        else:
            ranges.append([slot, slot])
    return [tuple(pair) for pair in ranges]


def describe_ranges(ranges: Sequence[SlotRange], limit: int = 5) -> str:
    texts = format_ranges(ranges)
    shown = ', '.join(texts[:limit])
    return shown + (' and %d more ranges' % (len(texts) - limit) if len(texts) > limit else '')


@dataclass
class NodeView:
    """What one node reports: CLUSTER INFO, CLUSTER NODES, and its replication link when a replica."""
    address: Address
    info: dict[str, Any]
    nodes: list[ClusterNode]
    master_link_status: str | None = None
    keys: int = 0
    # INFO replication: the replication id and offset of the node's data set, a replica's master address.
    replication: dict[str, Any] = field(default_factory=dict)

    @property
    def myself(self) -> ClusterNode:
        return next(node for node in self.nodes if node.myself)

    @property
    def fresh(self) -> bool:
        """Knows no other node and serves no slot: never part of a cluster (or reset)."""
        return len(self.nodes) == 1 and not self.myself.slots

    def ids(self) -> frozenset:
        return frozenset(node.node_id for node in self.nodes)

    def by_id(self) -> dict[str, ClusterNode]:
        return {node.node_id: node for node in self.nodes}

    def slot_map(self) -> list[tuple[int, int, str]]:
        """(start, end, master id) for every served range, sorted, adjacent ranges of one master merged."""
        owned = sorted((start, end, node.node_id) for node in self.nodes if node.role == 'master'
                       for start, end in node.slots)
        merged: list[list[Any]] = []
        for start, end, owner in owned:
            if merged and merged[-1][2] == owner and merged[-1][1] == start - 1:
                merged[-1][1] = end
            else:
                merged.append([start, end, owner])
        return [tuple(entry) for entry in merged]

    def without(self, ids: Iterable[str]) -> NodeView:
        """This view as it will be once the nodes ``ids`` are forgotten."""
        gone = set(ids)
        return replace(self, nodes=[node for node in self.nodes if node.node_id not in gone])

    def epochs(self) -> dict[str, int]:
        return {node.node_id: node.config_epoch for node in self.nodes if node.role == 'master'}

    def as_dict(self) -> dict[str, Any]:
        return dict(address=str(self.address), id=self.myself.node_id, role=self.myself.role,
                    cluster_state=self.info.get('cluster_state'), known_nodes=self.info.get('cluster_known_nodes'),
                    slots_assigned=self.info.get('cluster_slots_assigned'),
                    current_epoch=self.info.get('cluster_current_epoch'), keys=self.keys,
                    master_link_status=self.master_link_status)


# A node that could not be observed: the error as text.
Observation = Union[NodeView, str]


def observe(client: Any, address: Address) -> NodeView:
    """One node's view; raises redis-py errors (cluster support disabled is a ResponseError)."""
    info = parse_info(client.execute_command('CLUSTER', 'INFO'))
    nodes = parse_nodes(client.execute_command('CLUSTER', 'NODES'))
    replication = client.info('replication')
    link = replication.get('master_link_status') if replication.get('role') == 'slave' else None
    return NodeView(address=address, info=info, nodes=nodes, master_link_status=link, keys=int(client.dbsize()),
                    replication=replication)


def read_shards(client: Any, nodes: Iterable[ClusterNode], errors: tuple) -> list[Shard]:
    """CLUSTER SHARDS when the server has it (7.0+), else the shards derived from CLUSTER NODES."""
    try:
        return parse_shards(client.execute_command('CLUSTER', 'SHARDS'))
    except errors as exc:
        if 'unknown' not in str(exc).lower():
            raise
    return shards_from_nodes(nodes)


@dataclass
class Layout:
    """The expected cluster: these nodes, every master with at least ``replicas`` replicas.

    ``empty_masters``: a master without slots is no problem (a new master that slots are still to move to).
    """
    nodes: list[Address]
    replicas: int = 1
    empty_masters: bool = False
    matchers: list[AddressMatcher] = field(init=False)

    def __post_init__(self) -> None:
        self.matchers = [AddressMatcher(address) for address in self.nodes]

    def expects(self, node: ClusterNode) -> bool:
        return node.address is not None and any(matcher.matches(node.host, node.port) for matcher in self.matchers)


def departed_nodes(views: Sequence[NodeView]) -> list[ClusterNode]:
    """The nodes some view lists as departed (fail, noaddr) that are no view's own node; once for each id, as
    the view that gives it the most slots lists it (a master that failed with its slots keeps them)."""
    selves = {view.myself.node_id for view in views}
    ids = {node.node_id for view in views for node in view.nodes if node.departed and node.node_id not in selves}
    found: dict[str, ClusterNode] = {}
    for node in (node for view in views for node in view.nodes if node.node_id in ids):
        if node.node_id not in found or node.slot_count > found[node.node_id].slot_count:
            found[node.node_id] = node
    return list(found.values())


def reference_view(views: Sequence[NodeView]) -> NodeView | None:
    """The view that knows the most nodes (the first one on a tie): the cluster as the others should see it."""
    return max(views, key=lambda view: len(view.nodes), default=None)


def health_problems(observations: Mapping[Address, Observation], layout: Layout) -> list[str]:
    """Every reason the observed cluster is not the healthy ``layout`` (empty: healthy).

    Healthy: every node answers with cluster_state:ok; the nodes are exactly the expected ones and each
    knows all the others as usable (no fail, fail?, handshake, noaddr, disconnected link); all 16384
    slots are served; every node has the same slot map and config epochs; every master serves slots
    and has at least ``layout.replicas`` usable replicas whose replication link is up; no slot is
    migrating or importing.
    """
    problems = ['%s: cannot be observed (%s)' % (address, error)
                for address, error in observations.items() if isinstance(error, str)]
    views = [view for view in observations.values() if isinstance(view, NodeView)]
    reference = reference_view(views)
    if reference is None:
        return problems
    for view in views:
        problems += view_problems(view, reference)
    problems += membership_problems(views, reference, layout)
    problems += coverage_problems(reference)
    problems += replica_problems(views, reference, layout.replicas, layout.empty_masters)
    return problems


def view_problems(view: NodeView, reference: NodeView) -> list[str]:
    """This node's own state, and where it disagrees with the reference view."""
    problems = []
    if view.info.get('cluster_state') != 'ok':
        problems.append('%s: cluster_state is %s (%s of %d slots assigned, %s ok, %s pfail, %s fail)' % (
            view.address, view.info.get('cluster_state'), view.info.get('cluster_slots_assigned'), SLOT_COUNT,
            view.info.get('cluster_slots_ok'), view.info.get('cluster_slots_pfail'),
            view.info.get('cluster_slots_fail')))
    for node in view.nodes:
        if not node.myself and node.unusable:
            problems.append('%s: sees %s as %s' % (view.address, node.label(), ', '.join(node.unusable)))
    for open_slot in view.myself.open_slots:
        peer = view.by_id().get(open_slot.peer)
        problems.append('%s: slot %d is %s %s %s (a slot migration is half done)' % (
            view.address, open_slot.slot, open_slot.state, 'to' if open_slot.state == MIGRATING else 'from',
            peer.label() if peer else open_slot.peer))
    if view is not reference:
        problems += agreement_problems(view, reference)
    return problems


def agreement_problems(view: NodeView, reference: NodeView) -> list[str]:
    problems = []
    names = reference.by_id()
    missing = sorted(names[node_id].label() for node_id in reference.ids() - view.ids())
    if missing:
        problems.append('%s: does not know %s (known to %s)' % (view.address, ', '.join(missing), reference.address))
    ours, theirs = slot_owners(view), slot_owners(reference)
    differing = slot_ranges(slot for slot in range(SLOT_COUNT) if ours[slot] != theirs[slot])
    if differing:
        first = differing[0][0]
        problems.append('%s: disagrees with %s on the owner of %d slot(s) (%s): slot %d is served by %s here, '
                        'by %s there' % (view.address, reference.address,
                                         sum(end - start + 1 for start, end in differing), describe_ranges(differing),
                                         first, _owner_label(view, ours[first]), _owner_label(reference, theirs[first])))
    mine, other = view.epochs(), reference.epochs()
    for node_id in sorted(set(mine) & set(other)):
        if mine[node_id] != other[node_id]:
            problems.append('%s: sees config epoch %d for %s, %s sees %d' % (
                view.address, mine[node_id], names[node_id].label(), reference.address, other[node_id]))
    # A REPLICATE or a failover reaches the other nodes by gossip: until then a node still sees the old role
    # (a new replica as a master without slots), which cluster_create would refuse as not ok.
    for node in view.nodes:
        known = names.get(node.node_id)
        if known is not None and (known.role, known.master_id) != (node.role, node.master_id):
            problems.append('%s: sees %s as %s, %s sees it as %s' % (
                view.address, node.label(), _role_label(view, node), reference.address, _role_label(reference, known)))
    return problems


def _role_label(view: NodeView, node: ClusterNode) -> str:
    if node.role != 'replica':
        return node.role
    master = view.by_id().get(node.master_id or '')
    return 'replica of %s' % (master.label() if master else node.master_id)


def slot_owners(view: NodeView) -> list[str | None]:
    """The master id serving each slot, as ``view`` sees it (None: no master)."""
    owners: list[str | None] = [None] * SLOT_COUNT
    for start, end, owner in view.slot_map():
        owners[start:end + 1] = [owner] * (end - start + 1)
    return owners


def _owner_label(view: NodeView, owner: str | None) -> str:
    if owner is None:
        return 'no master'
    node = view.by_id().get(owner)
    return node.label() if node else owner


def membership_problems(views: Sequence[NodeView], reference: NodeView, layout: Layout) -> list[str]:
    problems = []
    member_ids = reference.ids()
    for view in views:
        if view.myself.node_id not in member_ids:
            problems.append('%s: is not a member of the cluster %s knows (it knows %d node(s))' % (
                view.address, reference.address, len(view.nodes)))
    for node in reference.nodes:
        if not layout.expects(node):
            problems.append('%s: is a member (known to %s) but not one of the expected nodes' % (
                node.label(), reference.address))
    return problems


def coverage_problems(reference: NodeView) -> list[str]:
    served = {slot for start, end, _owner in reference.slot_map() for slot in range(start, end + 1)}
    uncovered = slot_ranges(set(range(SLOT_COUNT)) - served)
    if not uncovered:
        return []
    return ['%d of %d slots are served by no master (%s), as %s sees it' % (
        sum(end - start + 1 for start, end in uncovered), SLOT_COUNT, describe_ranges(uncovered), reference.address)]


def replica_problems(views: Sequence[NodeView], reference: NodeView, replicas: int,
                     empty_masters: bool = False) -> list[str]:
    problems = []
    for master in (node for node in reference.nodes if node.role == 'master'):
        if not master.slots and not empty_masters:
            problems.append('master %s serves no slots' % master.label())
        usable = [node for node in reference.nodes if node.master_id == master.node_id and not node.unusable]
        if master.slots and len(usable) < replicas:
            problems.append('master %s (slots %s) has %d usable replica(s), expected at least %d' % (
                master.label(), describe_ranges(master.slots), len(usable), replicas))
    for view in views:
        if view.myself.role == 'replica' and view.master_link_status != 'up':
            problems.append('%s: replica whose master_link_status is %s' % (view.address, view.master_link_status))
    return problems


# Planning a new cluster.

def interleave_hosts(addresses: Sequence[Address]) -> list[Address]:
    """One node of each host in turn (hosts in order of appearance), so that neighbours differ in host."""
    hosts: dict[str, list[Address]] = {}
    for address in addresses:
        hosts.setdefault(address.host, []).append(address)
    queues = list(hosts.values())
    ordered = []
    while any(queues):
        for queue in queues:
            if queue:
                ordered.append(queue.pop(0))
    return ordered


def plan_layout(addresses: Sequence[Address], replicas: int) -> tuple[list[Address], dict[Address, Address]]:
    """Masters, and each other node's master: as many masters as fill ``replicas`` each, spread over hosts,
    replicas assigned round-robin with the offset that puts the fewest replicas on their master's host."""
    ordered = interleave_hosts(addresses)
    count = len(ordered) // (replicas + 1)
    masters, others = ordered[:count], ordered[count:]

    def assignment(offset: int) -> dict[Address, Address]:
        return {node: masters[(index + offset) % count] for index, node in enumerate(others)}

    def same_host(pairs: dict[Address, Address]) -> int:
        return sum(node.host == master.host for node, master in pairs.items())

    best = min((assignment(offset) for offset in [*range(1, count), 0]), key=same_host)
    return masters, best


def split_slots(count: int) -> list[SlotRange]:
    """16384 slots in ``count`` contiguous ranges whose sizes differ by at most one, as redis-cli splits them."""
    ends = [int((index + 1) * SLOT_COUNT / count - 1 + 0.5) for index in range(count - 1)] + [SLOT_COUNT - 1]
    return list(zip([0] + [end + 1 for end in ends[:-1]], ends))


def cluster_groups(views: Sequence[NodeView]) -> list[list[NodeView]]:
    """The non-fresh nodes grouped by cluster: two nodes are in one cluster when either knows the other."""
    groups: list[list[NodeView]] = []
    for view in (view for view in views if not view.fresh):
        joined = [group for group in groups if any(_linked(view, other) for other in group)]
        merged = [view] + [member for group in joined for member in group]
        groups = [group for group in groups if group not in joined] + [merged]
    return groups


def _linked(one: NodeView, other: NodeView) -> bool:
    return other.myself.node_id in one.ids() or one.myself.node_id in other.ids()


def meet_host(host: str) -> str:
    """CLUSTER MEET takes an IP address: a host name is resolved on the managed host."""
    return socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][4][0]


# Observing the nodes from the managed host.

class Observer:
    """Clients for the cluster nodes, kept between polls; a node that errs is reconnected next time."""

    def __init__(self, params: Mapping[str, Any]):
        self.params = params
        self.clients: dict[Address, Any] = {}

    def client(self, address: Address) -> Any:
        if address not in self.clients:
            self.clients[address] = connect(self.params, address.host, address.port)
        return self.clients[address]

    def observe(self, address: Address) -> Observation:
        try:
            return observe(self.client(address), address)
        except RETRYABLE_ERRORS as exc:
            self.clients.pop(address).close()
            return describe_error(exc)

    def observe_all(self, addresses: Iterable[Address]) -> dict[Address, Observation]:
        return {address: self.observe(address) for address in addresses}

    def members(self, seed: Address) -> list[Address]:
        """The seed and every node it knows that has an address."""
        view = self.observe(seed)
        if isinstance(view, str):
            return [seed]
        known = [node.address for node in view.nodes if node.address and not node.myself]
        return [seed] + [address for address in known if address != seed]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.clients.clear()


def bus_probe(host: str, port: int, timeout: float) -> dict[str, str]:
    """TCP connect to a cluster bus port (the bus speaks no RESP: a connect is all there is to test)."""
    peer = format_address(host, port)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            result, detail = 'ok', 'connected'
    except socket.timeout:
        result, detail = 'timeout', 'timed out after %ss' % timeout
    except OSError as exc:
        result, detail = classify_connect_error(exc)
    hint = BUS_HINTS.get(result, BUS_HINTS['error']).format(peer=peer)
    return dict(peer=peer, result=result, detail=detail, hint=hint)


BUS_HINTS = {
    'ok': 'The cluster bus {peer} accepts connections from this host; check it also does from the other nodes.',
    'refused': 'Nothing listens on the cluster bus {peer}: check that the node runs with cluster-enabled yes '
               'and that cluster-port / cluster-announce-bus-port match.',
    'timeout': 'The cluster bus {peer} does not answer (dropped): open the bus port in the firewall '
               '(the data port + 10000 unless cluster-port is set).',
    'no_route': 'No route to the cluster bus {peer} (rejected): open the bus port in the firewall.',
    'error': 'Connecting to the cluster bus {peer} failed; check the address and the firewall.',
}


def diagnose(observations: Mapping[Address, Observation], params: Mapping[str, Any],
             limit: int = 5) -> list[dict[str, str]]:
    """Probes from this host: the data port of each node that could not be observed, then the bus port of
    each node another node cannot use (handshake, fail, disconnected link)."""
    timeout = params['connect_timeout']
    found = [probe(address.host, address.port, params['login_password'], params['login_user'], timeout,
                   TlsSettings.from_params(params))
             for address, view in observations.items() if isinstance(view, str)]
    unusable = {}
    for view in (view for view in observations.values() if isinstance(view, NodeView)):
        for node in view.nodes:
            if node.host and node.unusable and not node.myself:
                unusable[(node.host, node.bus_port)] = node
    found += [bus_probe(host, bus_port, timeout) for host, bus_port in sorted(unusable)]
    return found[:limit]
