# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write one key into the slots of every master, directly to that master (a MOVED reply fails the check),
wait until a replica acknowledges it (WAIT 1), and read it back from that replica (READONLY).

Usage: [REDIS_USER=...] REDIS_PASSWORD=... [REDIS_TLS_DIR=...] cluster_check.py HOST:PORT. Prints one JSON line per master.
"""

import json
import os
import sys
import time

import redis

SLOTS = 16384


def crc16(data: bytes) -> int:
    """CRC16-CCITT (XModem), the hash of Redis Cluster's key slots."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for dummy in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key: str) -> int:
    return crc16(key.encode()) % SLOTS


def login() -> dict:
    """The login from the environment: REDIS_USER, REDIS_PASSWORD, and REDIS_TLS_DIR (ca.crt, redis.crt and
    redis.key in it) for TLS."""
    settings = dict(username=os.environ.get('REDIS_USER') or None, password=os.environ.get('REDIS_PASSWORD') or None)
    tls = os.environ.get('REDIS_TLS_DIR')
    if tls:
        settings.update(ssl=True, ssl_ca_certs=tls + '/ca.crt', ssl_certfile=tls + '/redis.crt',
                        ssl_keyfile=tls + '/redis.key')
    return settings


def client(host: str, port: int) -> redis.Redis:
    return redis.Redis(host=host, port=port, decode_responses=True, socket_timeout=5, **login())


def shards(seed: redis.Redis) -> dict:
    """Each master's slot ranges and replicas, from CLUSTER SLOTS."""
    masters: dict = {}
    for start, end, master, *replicas in seed.execute_command('CLUSTER', 'SLOTS'):
        masters.setdefault((master[0], int(master[1])), dict(ranges=[], replicas=replicas))['ranges'].append(
            (int(start), int(end)))
    return masters


def main(seed: str) -> int:
    host, _sep, port = seed.rpartition(':')
    # CLUSTER SLOTS lists a replica once the seed has learnt, by gossip, a replication offset for it
    # (Redis 7: isReplicaAvailable): just after a converge it may not have yet.
    deadline = time.monotonic() + 30
    masters = shards(client(host, int(port)))
    while not all(shard['replicas'] for shard in masters.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
        masters = shards(client(host, int(port)))
    for (master_host, master_port), shard in sorted(masters.items()):
        start, end = shard['ranges'][0]
        key = next(name for name in ('verify:%d' % index for index in range(100000))
                   if start <= key_slot(name) <= end)
        master = client(master_host, master_port)
        assert master.execute_command('CLUSTER', 'KEYSLOT', key) == key_slot(key)
        # A node that does not own the slot answers MOVED: redis-py raises, the check fails.
        assert master.set(key, seed) is True
        acknowledged = master.execute_command('WAIT', 1, 5000)
        assert acknowledged >= 1, 'no replica acknowledged %s on %s:%d' % (key, master_host, master_port)
        assert shard['replicas'], 'CLUSTER SLOTS lists no replica of %s:%d' % (master_host, master_port)
        replica_host, replica_port = shard['replicas'][0][0], int(shard['replicas'][0][1])
        replica = client(replica_host, replica_port)
        replica.execute_command('READONLY')
        assert replica.get(key) == seed, 'replica %s:%d lacks %s' % (replica_host, replica_port, key)
        print(json.dumps(dict(master='%s:%d' % (master_host, master_port), key=key, slot=key_slot(key),
                              replica='%s:%d' % (replica_host, replica_port), acknowledged=acknowledged)))
    return 0 if len(masters) == 3 else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
