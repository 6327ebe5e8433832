# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write keys into the slots of one master until a replica has taken them over, then count the lost ones.

Each write is a SET to the node that owns the slot now, then WAIT 1: a write is acknowledged when a
replica has it. On an error (the master killed, MOVED, CLUSTERDOWN) the owner is read again from the
other nodes. The writer stops once the slots have a new owner and it has acknowledged MIN_AFTER writes
there (the old master back as its replica), or at the deadline. Then every acknowledged key is read
from the new owner: none may be missing.

Usage: REDIS_PASSWORD=... cluster_writer.py VICTIM_HOST:PORT NODE_HOST:PORT ...
Prints one JSON object; exit status 1 when a key was lost or no other node took over.
"""

import json
import os
import sys
import time
from collections import Counter

import redis

from cluster_check import key_slot  # noqa: E402 (shipped beside this script)

DEADLINE = 120.0
MIN_AFTER = 20
PAUSE = 0.05


def client(address: str) -> redis.Redis:
    host, _sep, port = address.rpartition(':')
    return redis.Redis(host=host, port=int(port), password=os.environ.get('REDIS_PASSWORD') or None,
                       decode_responses=True, socket_timeout=1, socket_connect_timeout=1)


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
            if connection.execute_command('WAIT', 1, 1000) >= 1:
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


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2:]))
