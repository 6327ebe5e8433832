# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two writers, each counting the acknowledged writes it loses.

``VICTIM NODE ...``: write keys into the slots of one master until a replica has taken them over.

Each write is a SET to the node that owns the slot now, then WAIT 1: a write is acknowledged when a
replica has it. On an error (the master killed, MOVED, CLUSTERDOWN) the owner is read again from the
other nodes. The writer stops once the slots have a new owner and it has acknowledged MIN_AFTER writes
there (the old master back as its replica), or at the deadline. Then every acknowledged key is read
from the new owner: none may be missing.

``spread PREFIX DIR NODE ...``: write keys PREFIX:0, PREFIX:1 ... over every slot while slots move, following
MOVED and ASK as a cluster client does (and reads the slot map again when a node it no longer should ask
answers CLUSTERDOWN); each SET is followed by WAIT 1 (ASKING first after an ASK, on the same
connection). After PRELOAD acknowledged keys it creates DIR/ready-PREFIX; it stops when DIR/stop-PREFIX
appears, or at the deadline. It keeps its acknowledged keys in DIR/acked-PREFIX.txt, then reads back the keys
of every DIR/acked-*.txt (earlier writers' too): none may be missing, and no error but MOVED and ASK may have
reached the client.

Usage: [REDIS_USER=... REDIS_TLS_DIR=...] REDIS_PASSWORD=... cluster_writer.py VICTIM_HOST:PORT NODE_HOST:PORT ...
       REDIS_PASSWORD=... cluster_writer.py spread PREFIX DIR NODE_HOST:PORT ...
Prints one JSON object; exit status 1 when a key was lost (or no other node took over, or another error came).
"""

import glob
import json
import os
import sys
import time
from collections import Counter

import redis
from redis.exceptions import AskError, ClusterDownError, MovedError

from cluster_check import key_slot, login  # noqa: E402 (shipped beside this script)

DEADLINE = 120.0
MIN_AFTER = 20
PAUSE = 0.05
PRELOAD = 3000
SPREAD_DEADLINE = 600.0
SPREAD_PAUSE = 0.01
WAIT_MS = 1000


def client(address: str, timeout: float = 1) -> redis.Redis:
    host, _sep, port = address.rpartition(':')
    return redis.Redis(host=host, port=int(port), **login(),
                       decode_responses=True, socket_timeout=timeout, socket_connect_timeout=1)


def owner_of(slot: int, nodes: list[str], victim: str) -> str | None:
    """The master serving ``slot`` as the first other node that answers sees it."""
    for node in nodes:
        if node == victim:
            continue
        try:
            for start, end, master, *_replicas in client(node).execute_command('CLUSTER', 'SLOTS'):
                if int(start) <= slot <= int(end):
                    return '%s:%d' % (master[0], int(master[1]))
        except redis.RedisError:
            continue
    return None


def main(victim: str, nodes: list[str]) -> int:
    slots = [(int(start), int(end)) for start, end, master, *_rest in client(victim).execute_command('CLUSTER', 'SLOTS')
             if '%s:%d' % (master[0], int(master[1])) == victim]
    keys = (name for name in ('kill:%d' % index for index in range(10 ** 7))
            if any(start <= key_slot(name) <= end for start, end in slots))
    owner, acked, after, errors = victim, [], 0, Counter()
    start = time.monotonic()
    taken_over = None
    while time.monotonic() - start < DEADLINE and after < MIN_AFTER:
        key = next(keys)
        try:
            connection = client(owner)
            connection.set(key, key)
            if connection.execute_command('WAIT', 1, WAIT_MS) >= 1:
                acked.append(key)
                after += owner != victim
        except redis.RedisError as exc:
            errors[str(exc).split(' ', maxsplit=1)[0] if isinstance(exc, redis.ResponseError) else type(exc).__name__] += 1
            time.sleep(PAUSE)
            owner = owner_of(key_slot(key), nodes, victim) or owner
            if owner != victim and taken_over is None:
                taken_over = round(time.monotonic() - start, 1)
    final = client(owner)
    lost = [key for key in acked if final.get(key) != key]
    print(json.dumps(dict(victim=victim, new_owner=owner, acknowledged=len(acked), acknowledged_after=after,
                          lost=len(lost), lost_keys=lost[:10], taken_over_after=taken_over, errors=errors)))
    return 1 if lost or owner == victim or after < MIN_AFTER else 0


def redirection(error: Exception) -> tuple[str, str]:
    """('MOVED' or 'ASK', the node to ask) of a redirection; any other error is raised.

    Newer redis-py raises MovedError and AskError (a MovedError is an AskError) with the node in ``host`` and
    ``port``; older ones (Debian 12's 4.3) a plain ResponseError ``MOVED 3999 10.0.0.1:6379``.
    """
    if isinstance(error, AskError):
        return 'MOVED' if isinstance(error, MovedError) else 'ASK', '%s:%d' % (error.host, int(error.port))
    words = str(error).split()
    if isinstance(error, redis.ResponseError) and len(words) == 3 and words[0] in ('MOVED', 'ASK'):
        return words[0], words[2]
    raise error


class Router:
    """Sends each key's commands to the master of its slot, following MOVED (the slot map changed) and ASK (the
    slot is moving: this one key is asked on the target, after ASKING)."""

    def __init__(self, nodes: list[str]):
        self.nodes = nodes
        self.clients: dict[str, redis.Redis] = {}
        self.owners: dict[int, str] = {}
        self.redirects: Counter = Counter()
        self.errors: Counter = Counter()

    def client(self, address: str) -> redis.Redis:
        if address not in self.clients:
            # Longer than WAIT's own 1 s: a WAIT that times out is an unacknowledged write, not a client error.
            self.clients[address] = client(address, timeout=WAIT_MS / 1000 + 4)
        return self.clients[address]

    def owner(self, slot: int) -> str:
        if not self.owners:
            self.refresh()
        return self.owners.get(slot, self.nodes[0])

    def refresh(self) -> None:
        """The whole slot map, from the first node that answers CLUSTER SLOTS."""
        for node in self.nodes:
            try:
                ranges = self.client(node).execute_command('CLUSTER', 'SLOTS')
            except redis.RedisError:
                continue
            for start, end, master, *_replicas in ranges:
                self.owners.update(dict.fromkeys(range(int(start), int(end) + 1), '%s:%d' % (master[0], int(master[1]))))
            return

    def run(self, key: str, *commands: tuple) -> list:
        """The commands for ``key`` on its master, in one round trip; the replies (errors as exceptions).

        Any error but a redirection is raised.
        """
        slot, asking = key_slot(key), False
        address = self.owner(slot)
        for _attempt in range(5):
            pipe = self.client(address).pipeline(transaction=False)
            if asking:
                pipe.execute_command('ASKING')
            for command in commands:
                pipe.execute_command(*command)
            replies = pipe.execute(raise_on_error=False)[1 if asking else 0:]
            error = replies[0]
            if not isinstance(error, Exception):
                return replies
            kind, address = self.redirection(error, slot, address)
            self.redirects[kind] += 1
            asking = kind == 'ASK'
            if kind == 'MOVED':
                self.owners[slot] = address
        raise redis.ResponseError('more than 5 redirections for %s' % key)

    def redirection(self, error: Exception, slot: int, address: str) -> tuple[str, str]:
        """Where to send the key next. CLUSTERDOWN from a node the slot map has gone stale about (a node
        removed and reset answers so) makes the client read the slot map again, as cluster clients do; from
        the node that still owns the slot it is raised."""
        if isinstance(error, ClusterDownError) or str(error).startswith('CLUSTERDOWN'):
            self.refresh()
            if self.owner(slot) != address:
                return 'refresh', self.owner(slot)
        return redirection(error)

    def write(self, key: str) -> bool:
        """SET, then WAIT 1 on the same node: True when a replica acknowledged it."""
        try:
            _ok, acknowledged = self.run(key, ('SET', key, key), ('WAIT', 1, WAIT_MS))
        except redis.RedisError as exc:
            self.errors[str(exc).split(' ', maxsplit=1)[0] if isinstance(exc, redis.ResponseError)
                        else type(exc).__name__] += 1
            return False
        return not isinstance(acknowledged, Exception) and acknowledged >= 1

    def read(self, key: str) -> str | None:
        return self.run(key, ('GET', key))[0]


def spread(prefix: str, directory: str, nodes: list[str]) -> int:
    router = Router(nodes)
    acked, unacked, index = [], 0, 0
    start = time.monotonic()
    stop = os.path.join(directory, 'stop-' + prefix)
    while time.monotonic() - start < SPREAD_DEADLINE and not (len(acked) >= PRELOAD and os.path.exists(stop)):
        key = '%s:%d' % (prefix, index)
        index += 1
        if router.write(key):
            acked.append(key)
        else:
            unacked += 1
        if len(acked) == PRELOAD:
            open(os.path.join(directory, 'ready-' + prefix), 'w').close()
        if len(acked) > PRELOAD:
            time.sleep(SPREAD_PAUSE)
    with open(os.path.join(directory, 'acked-%s.txt' % prefix), 'w') as out:
        out.write('\n'.join(acked))
    router.refresh()
    checked, lost = 0, []
    for path in sorted(glob.glob(os.path.join(directory, 'acked-*.txt'))):
        with open(path) as keys:
            for key in keys.read().split():
                checked += 1
                if router.read(key) != key:
                    lost.append(key)
    print(json.dumps(dict(prefix=prefix, acknowledged=len(acked), unacknowledged=unacked, checked=checked,
                          lost=len(lost), lost_keys=lost[:10], redirects=router.redirects, errors=router.errors,
                          seconds=round(time.monotonic() - start, 1))))
    return 1 if lost or router.errors or len(acked) < PRELOAD else 0


if __name__ == '__main__':
    if sys.argv[1] == 'spread':
        sys.exit(spread(sys.argv[2], sys.argv[3], sys.argv[4:]))
    sys.exit(main(sys.argv[1], sys.argv[2:]))
