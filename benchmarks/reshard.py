"""How fast does cluster_reshard move slots and keys?

Run on its own (`python benchmarks/reshard.py`, prints a Markdown table) or imported by
benchmarks/report.py. Local redis-server processes in cluster mode (the unit tests' fixtures, no
lab): three masters hold every slot and KEYS keys of VALUE_BYTES bytes under TAGS hash tags, a
fourth empty master joins, and the module's own migration code (module_utils/reshard.py) moves the
full slots to it, then its share of the empty ones, once per batch size. Loopback has no network latency: these figures are an upper bound for
the per-slot protocol (about a dozen commands per slot) and for MIGRATE's copying; across a network
each slot costs its round trips more.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TOP / 'playbooks' / 'collections'), str(TOP / 'tests' / 'unit'),
                str(TOP / 'tests' / 'unit' / 'plugins' / 'modules')]

from conftest import NodeFactory, wait_for  # noqa: E402  (test fixtures: real processes)
from test_cluster_modules import SETTLE_TIMEOUT, command, form, settled, start  # noqa: E402
from ansible_collections.redisops.sentinel.plugins.module_utils.client import connect  # noqa: E402
from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import SLOT_COUNT, parse_nodes  # noqa: E402
from ansible_collections.redisops.sentinel.plugins.module_utils.reshard import (  # noqa: E402
    Endpoint, Migrator, Move, key_slot, owned_slots, plan_moves)

KEYS = 100000
VALUE_BYTES = 100
TAGS = 32  # the keys share this many hash tags, so this many slots hold them all
BATCHES = (10, 100, 1000)


@dataclass
class Figure:
    what: str
    batch: int
    slots: int
    keys: int
    seconds: float

    @property
    def row(self) -> list[str]:
        return [self.what, str(self.batch), str(self.slots), str(self.keys), '%.2f' % self.seconds,
                '%.0f' % (self.slots / self.seconds), '%.0f' % (self.keys / self.seconds),
                '%.1f' % (self.keys * VALUE_BYTES / self.seconds / 1e6)]


def tag_slot(tag: int) -> int:
    return key_slot(b'{t%d}' % tag)


def fill(nodes, owners: dict[int, int]) -> None:
    """KEYS keys under TAGS hash tags, each pipelined to the master that owns its slot."""
    clients = {node.port: node.client() for node in nodes}
    pipes = {port: client.pipeline(transaction=False) for port, client in clients.items()}
    value = 'x' * VALUE_BYTES
    for index in range(KEYS):
        tag = index % TAGS
        pipes[owners[tag_slot(tag)]].set('{t%d}:%d' % (tag, index), value)
        if index % 5000 == 4999:
            for pipe in pipes.values():
                pipe.execute()
    for pipe in pipes.values():
        pipe.execute()
    for client in clients.values():
        client.close()


def endpoints(nodes) -> dict[str, Endpoint]:
    params = dict(login_host='127.0.0.1', login_port=nodes[0].port, login_user=None, login_password=None,
                  connect_timeout=5.0)
    found = {}
    for node in nodes:
        node_id = command(node, 'CLUSTER', 'MYID')
        found[node_id] = Endpoint(node_id, node.host, node.port, connect(params, node.host, node.port, decode=False))
    return found


def timed(what: str, batch: int, found: dict[str, Endpoint], moves: list[Move]) -> Figure:
    migrator = Migrator(found, batch, 10000, (None, None))
    began = time.monotonic()
    for move in moves:
        migrator.move(move, list(found))
    return Figure(what, batch, len(moves), migrator.keys_moved, time.monotonic() - began)


def one_batch_size(batch: int) -> list[Figure]:
    """The tagged slots with every key to the fourth master, then its even share of the empty slots."""
    with tempfile.TemporaryDirectory() as tmp:
        factory = NodeFactory(Path(tmp))
        try:
            nodes = start(factory, 4)
            form(nodes[:3], 3)
            command(nodes[0], 'CLUSTER', 'MEET', '127.0.0.1', nodes[3].port)
            wait_for(lambda: settled(nodes, SLOT_COUNT), 'the fourth master to join', SETTLE_TIMEOUT)
            view = parse_nodes(command(nodes[0], 'CLUSTER', 'NODES'))
            owner_port = {slot: node.port for node in view for first, last in node.slots for slot in range(first, last + 1)}
            fill(nodes[:3], owner_port)
            found = endpoints(nodes)
            by_port = {endpoint.port: node_id for node_id, endpoint in found.items()}
            target = by_port[nodes[3].port]
            tagged = sorted({tag_slot(tag) for tag in range(TAGS)})
            figures = [timed('slots full of keys', batch, found,
                             [Move(slot, by_port[owner_port[slot]], target) for slot in tagged])]
            owners = owned_slots(parse_nodes(command(nodes[0], 'CLUSTER', 'NODES')))
            figures.append(timed('empty slots', batch, found, plan_moves(owners, list(found))))
            for endpoint in found.values():
                endpoint.client.close()
            return figures
        finally:
            factory.stop_all()


def measure() -> list[Figure]:
    return [figure for batch in BATCHES for figure in one_batch_size(batch)]


def section(figures: list[Figure]) -> list[str]:
    header = ['slots', 'batch (keys per MIGRATE)', 'slots moved', 'keys moved', 'seconds', 'slots/s', 'keys/s', 'MB/s']
    lines = ['| ' + ' | '.join(header) + ' |', '|' + ' --- |' * len(header)]
    lines += ['| ' + ' | '.join(figure.row) + ' |' for figure in figures]
    full = [figure for figure in figures if figure.keys]
    empty = [figure for figure in figures if not figure.keys]
    best = max(full, key=lambda figure: figure.keys / figure.seconds)
    return ['## Resharding throughput (cluster_reshard)', '',
            'Method (`benchmarks/reshard.py`, local redis-server %s processes in cluster mode, loopback, no lab): three '
            'masters hold every slot and %d keys of %d bytes under %d hash tags (so %d slots hold them all); an empty '
            'fourth master joins. With the module\'s migration code (`module_utils/reshard.py`), first the %d full '
            'slots move to it, then its even share of the other, empty slots; once per batch size. Loopback has no '
            'network latency, so these are upper bounds: each slot costs about a dozen round trips, each batch one more.'
            % (server_version(), KEYS, VALUE_BYTES, TAGS, TAGS, TAGS), ''] + lines + [
        '', 'Best key rate %.0f keys/s (%.1f MB/s) at batch %d; empty slots move at %.0f slots/s (median).'
        % (best.keys / best.seconds, best.keys * VALUE_BYTES / best.seconds / 1e6, best.batch,
           statistics.median(figure.slots / figure.seconds for figure in empty))]


def server_version() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        factory = NodeFactory(Path(tmp))
        try:
            node = factory.server()
            return command(node, 'INFO', 'server')['redis_version']
        finally:
            factory.stop_all()


if __name__ == '__main__':
    print('\n'.join(section(measure())))
