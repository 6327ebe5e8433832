# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Move Redis Cluster hash slots between masters: the plan (pure) and the migration (MIGRATE in batches).

A slot moves the way redis-cli moves it: the target marks it IMPORTING, the source MIGRATING, the keys go
over with MIGRATE in batches until the source has none left in it, then every master learns the new owner
(CLUSTER SETSLOT ... NODE, target first). Each step leaves a state another run can resume: a slot left
half moved (by an interrupted run, a crash, redis-cli) is an *open slot*, which ``close_open_slot`` finishes
or rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from ansible_collections.redisops.sentinel.plugins.module_utils.client import ResponseError
from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import (
    IMPORTING,
    MIGRATING,
    SLOT_COUNT,
    ClusterNode,
    slot_ranges,
)


def migrate_auth(user: str | None, password: str | None) -> list[Any]:
    """MIGRATE's login to the target: AUTH2 for an ACL user, AUTH for the default user's password."""
    if user:
        return ['AUTH2', user, password or '']
    return ['AUTH', password] if password else []


class ReshardError(Exception):
    """A move that cannot go on safely; the message says where it stopped and what to do."""


@dataclass(frozen=True)
class Move:
    slot: int
    source: str  # node ids
    target: str


def owned_slots(nodes: Iterable[ClusterNode]) -> dict[str, list[int]]:
    """Every master's slots, in ascending order (a master without slots maps to an empty list)."""
    owners: dict[str, list[int]] = {}
    for node in nodes:
        if node.role == 'master':
            owners[node.node_id] = sorted(node.slot_numbers)
    return owners


def quotas(owners: Mapping[str, Sequence[int]], receivers: Sequence[str]) -> dict[str, int]:
    """How many slots each receiver should hold: an even split, the remainder to those holding most now.

    Giving the extra slots to the masters that already hold the most keeps a cluster that is as even as
    16384 slots allow (5461/5462/5461) exactly as it is: a re-run moves nothing.
    """
    base, extra = divmod(SLOT_COUNT, len(receivers))
    ranked = sorted(receivers, key=lambda node_id: (-len(owners.get(node_id, ())), node_id))
    return {node_id: base + (1 if rank < extra else 0) for rank, node_id in enumerate(ranked)}


def plan_moves(owners: Mapping[str, Sequence[int]], receivers: Sequence[str], limit: int = 0) -> list[Move]:
    """The moves that leave the slots evenly on ``receivers`` and none on any other master.

    A giver hands over its highest slots and a taker receives them in order, so that ranges stay
    contiguous. ``limit`` (> 0) bounds the number of moves: the next run goes on from there.
    """
    if not receivers:
        raise ReshardError('no master is left to hold the slots')
    wanted = quotas(owners, receivers)
    surplus = [(node_id, list(slots[wanted.get(node_id, 0):]))
               for node_id, slots in sorted(owners.items()) if len(slots) > wanted.get(node_id, 0)]
    needs = [(node_id, wanted[node_id] - len(owners.get(node_id, ()))) for node_id in sorted(wanted)]
    takers = [(node_id, need) for node_id, need in needs if need > 0]
    offered = [Move(slot, node_id, '') for node_id, slots in surplus for slot in slots]
    moves: list[Move] = []
    for target, need in takers:
        moves += [Move(item.slot, item.source, target) for item in offered[:need]]
        offered = offered[need:]
    return moves[:limit] if limit > 0 else moves


def describe_plan(moves: Sequence[Move], label: Callable[[str], str]) -> list[dict[str, Any]]:
    """The moves grouped by source and target, with slot ranges: what check mode prints."""
    grouped: dict[tuple[str, str], list[int]] = {}
    for move in moves:
        grouped.setdefault((move.source, move.target), []).append(move.slot)
    return [dict(source=label(source), target=label(target), count=len(slots),
                 slots=['%d-%d' % item if item[0] != item[1] else str(item[0]) for item in slot_ranges(slots)])
            for (source, target), slots in grouped.items()]


@dataclass
class Endpoint:
    """A master the migration talks to: its id, the address the cluster announces, and a client."""
    node_id: str
    host: str
    port: int
    client: Any


def became_replica(exc: Exception) -> bool:
    """Whether a node's answer says it is no master (any more): it takes the slot map from its master."""
    text = str(exc)
    return 'only with masters' in text or text.startswith('UNBLOCKED')


class Migrator:
    """Moves slots between masters with MIGRATE, ``batch`` keys at a time, each move checked after."""

    def __init__(self, endpoints: Mapping[str, Endpoint], batch: int, timeout_ms: int,
                 auth: tuple[str | None, str | None]):
        self.endpoints = endpoints
        self.batch = batch
        self.timeout_ms = timeout_ms
        self.user, self.password = auth
        self.keys_moved = 0

    def call(self, node_id: str, *args: Any) -> Any:
        return self.endpoints[node_id].client.execute_command(*args)

    def count(self, node_id: str, slot: int) -> int:
        return int(self.call(node_id, 'CLUSTER', 'COUNTKEYSINSLOT', slot))

    def migrate_args(self, target: Endpoint, keys: Sequence[Any]) -> list[Any]:
        args: list[Any] = ['MIGRATE', target.host, target.port, '', 0, self.timeout_ms]
        return args + migrate_auth(self.user, self.password) + ['KEYS'] + list(keys)

    def drain_keys(self, slot: int, source: str, target: str) -> None:
        """MIGRATE the slot's keys from source to target until the source has none left."""
        while True:
            keys = self.call(source, 'CLUSTER', 'GETKEYSINSLOT', slot, self.batch)
            if not keys:
                return
            try:
                self.call(source, *self.migrate_args(self.endpoints[target], keys))
            except Exception as exc:  # the server's words: BUSYKEY, IOERR, NOAUTH ...
                raise ReshardError('slot %d: MIGRATE of %d keys from %s to %s failed: %s. The slot is left open '
                                   '(migrating/importing); run again to resume, or repair it.'
                                   % (slot, len(keys), self.label(source), self.label(target), exc)) from exc
            self.keys_moved += len(keys)

    def assign(self, slot: int, owner: str, masters: Iterable[str]) -> None:
        """Tell every master the slot's owner: the new owner first, so that it answers at once.

        A master that gave away its last slot turns itself into a replica of the node that took it
        (cluster-allow-replica-migration): it refuses SETSLOT and learns the owner from its master. In
        Valkey 8, where SETSLOT waits until the node's replicas have it, the node can turn into a replica
        while the command waits (it learned the new owner by gossip), which ends the wait with UNBLOCKED.
        """
        self.call(owner, 'CLUSTER', 'SETSLOT', slot, 'NODE', owner)
        for node_id in sorted(node_id for node_id in masters if node_id != owner):
            try:
                self.call(node_id, 'CLUSTER', 'SETSLOT', slot, 'NODE', owner)
            except ResponseError as exc:
                if not became_replica(exc):
                    raise

    def move(self, move: Move, masters: Iterable[str]) -> None:
        self.call(move.target, 'CLUSTER', 'SETSLOT', move.slot, 'IMPORTING', move.source)
        self.call(move.source, 'CLUSTER', 'SETSLOT', move.slot, 'MIGRATING', move.target)
        self.finish(move, masters)

    def finish(self, move: Move, masters: Iterable[str]) -> None:
        """The keys over, then the owner set everywhere.

        Keys may come and go meanwhile (clients write through ASK redirections, keys expire), so the
        proof is the invariant, not a count: the source holds no key of the slot when it is handed over.
        """
        self.drain_keys(move.slot, move.source, move.target)
        left = self.count(move.source, move.slot)
        if left:
            raise ReshardError('slot %d: %s still holds %d keys after the migration; the slot is left open, '
                               'run again to resume' % (move.slot, self.label(move.source), left))
        self.assign(move.slot, move.target, masters)

    def label(self, node_id: str) -> str:
        endpoint = self.endpoints.get(node_id)
        return '%s:%d' % (endpoint.host, endpoint.port) if endpoint else node_id[:12]


@dataclass(frozen=True)
class OpenSlotCase:
    """A half-moved slot as the cluster shows it: its owner and who marks it migrating or importing."""
    slot: int
    owner: str | None
    migrating: tuple  # (node id, peer id) pairs
    importing: tuple


def open_slot_cases(nodes: Iterable[ClusterNode]) -> list[OpenSlotCase]:
    """Every slot some master marks migrating or importing, with its owner, ascending."""
    nodes = [node for node in nodes if node.role == 'master']
    owner_of = {slot: node.node_id for node in nodes for start, end in node.slots for slot in range(start, end + 1)}
    marks: dict[int, dict[str, list[tuple[str, str]]]] = {}
    for node in nodes:
        for item in node.open_slots:
            marks.setdefault(item.slot, {MIGRATING: [], IMPORTING: []})[item.state].append((node.node_id, item.peer))
    return [OpenSlotCase(slot, owner_of.get(slot), tuple(found[MIGRATING]), tuple(found[IMPORTING]))
            for slot, found in sorted(marks.items())]


def settle_move(case: OpenSlotCase, rollback: bool) -> Move:
    """Which way an open slot goes: on to the node it was going to, or back to its owner."""
    if case.owner is None:
        raise ReshardError('slot %d has no owner; refusing to guess where its keys belong' % case.slot)
    peers = {peer for _node, peer in case.migrating} | {node for node, _peer in case.importing}
    peers.discard(case.owner)
    if len(peers) != 1:
        raise ReshardError('slot %d is marked open towards %s; expected exactly one other master'
                           % (case.slot, ', '.join(sorted(peers)) or 'no other master'))
    other = peers.pop()
    return Move(case.slot, other, case.owner) if rollback else Move(case.slot, case.owner, other)


def close_open_slot(migrator: Migrator, case: OpenSlotCase, masters: Iterable[str], rollback: bool) -> Move:
    """Finish (or roll back) a half-done move: the keys that are left go one way, the owner is set."""
    move = settle_move(case, rollback)
    if move.target != case.owner:
        # Forward: the receiving side imports (MIGRATE sends RESTORE-ASKING), the giving side migrates.
        migrator.call(move.target, 'CLUSTER', 'SETSLOT', case.slot, 'IMPORTING', move.source)
        migrator.call(move.source, 'CLUSTER', 'SETSLOT', case.slot, 'MIGRATING', move.target)
    else:
        # Back: the owner stops migrating, so that it takes the keys back instead of answering ASK; the
        # other side still imports, so MIGRATE runs there although it does not own the slot. A key a
        # client wrote on the owner meanwhile is newer than the copy: MIGRATE then stops with BUSYKEY.
        migrator.call(case.owner, 'CLUSTER', 'SETSLOT', case.slot, 'STABLE')
    migrator.finish(move, masters)
    # SETSLOT NODE clears a mark only where it settles it (the new owner's import, a drained source's
    # migration); a rollback leaves both: every node that marked the slot is told it is stable.
    for node_id in sorted({node for node, _peer in case.migrating + case.importing}):
        migrator.call(node_id, 'CLUSTER', 'SETSLOT', case.slot, 'STABLE')
    return move


def _crc16(data: bytes) -> int:
    """CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _bit in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key: bytes) -> int:
    """The hash slot of a key: the CRC16 of its hash tag (the first non-empty ``{...}``) or of the whole key."""
    start = key.find(b'{')
    if start >= 0:
        end = key.find(b'}', start + 1)
        if end > start + 1:
            key = key[start + 1:end]
    return _crc16(key) % SLOT_COUNT
