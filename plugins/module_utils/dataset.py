# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A checksum over the data set of a Redis or Valkey server that is the same on every node holding it.

``DEBUG DIGEST`` would do, but Redis 7 and later refuse DEBUG unless ``enable-debug-command`` is
on, and ``DUMP`` payloads depend on the encoding and the server version. The digest here is
computed by the client: ``SCAN`` every database, read each key by its type into a canonical form
(hash fields and set members sorted, scores as numbers), hash each key with SHA-256, and add the
per-key hashes modulo 2**256, so that the order SCAN returns keys in does not matter. Expiry times
are left out (they count down). A key SCAN returns twice is counted once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable

SCAN_COUNT = 1000
_MODULUS = 2 ** 256


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _pairs(flat: list[Any]) -> list[tuple[Any, Any]]:
    return list(zip(flat[0::2], flat[1::2]))


# Commands that read a whole key, and how their reply becomes canonical.
_READERS: dict[str, tuple[tuple[str, ...], Callable[[Any], Any]]] = {
    'string': (('GET',), bytes),
    'list': (('LRANGE', '{key}', '0', '-1'), list),
    'set': (('SMEMBERS',), sorted),
    'hash': (('HGETALL',), lambda reply: sorted(reply.items() if isinstance(reply, dict) else _pairs(reply))),
    'zset': (('ZRANGE', '{key}', '0', '-1', 'WITHSCORES'),
             lambda reply: [(member, float(score)) for member, score in _pairs(reply)]),
    'stream': (('XRANGE', '{key}', '-', '+'),
               lambda reply: [(entry_id, list(fields.items()) if isinstance(fields, dict) else _pairs(fields))
                              for entry_id, fields in reply]),
}
# Any other type (a module's): its DUMP payload.
_FALLBACK: tuple[tuple[str, ...], Callable[[Any], Any]] = (('DUMP',), bytes)


def _command(key: bytes, kind: str) -> list[Any]:
    words = _READERS.get(kind, _FALLBACK)[0]
    if len(words) == 1:
        return [words[0], key]
    return [key if word == '{key}' else word for word in words]


def key_hash(db: int, key: bytes, kind: str, value: Any) -> int:
    canonical = _READERS.get(kind, _FALLBACK)[1](value)
    payload = repr((db, kind, key, canonical)).encode()
    return int.from_bytes(hashlib.sha256(payload).digest(), 'big')


@dataclass
class Digest:
    """Keys counted and the sum of their hashes, per database."""

    keys: dict[int, int] = field(default_factory=dict)
    total: int = 0

    def add(self, db: int, value: int) -> None:
        self.keys[db] = self.keys.get(db, 0) + 1
        self.total = (self.total + value) % _MODULUS

    def as_dict(self) -> dict[str, Any]:
        return dict(keys=sum(self.keys.values()),
                    databases={'db%d' % db: count for db, count in sorted(self.keys.items())},
                    digest='%064x' % self.total)


def databases(client: Any) -> list[int]:
    """The databases that hold keys (INFO keyspace: db0, db3 ...)."""
    return sorted(int(name[2:]) for name in client.info('keyspace') if _text(name).startswith('db'))


def _run(client: Any, db: int, commands: list[list[Any]]) -> list[Any]:
    """Run commands in one round trip on one connection, in database ``db``."""
    pipe = client.pipeline(transaction=False)
    pipe.execute_command('SELECT', db)
    for command in commands:
        pipe.execute_command(*command)
    return pipe.execute(raise_on_error=True)[1:]


def _scan(client: Any, db: int, cursor: int) -> tuple[int, list[bytes]]:
    reply = _run(client, db, [['SCAN', cursor, 'COUNT', SCAN_COUNT]])[0]
    next_cursor, keys = reply
    return int(next_cursor), list(keys)


def _digest_keys(client: Any, db: int, keys: list[bytes], digest: Digest) -> None:
    kinds = [_text(kind) for kind in _run(client, db, [['TYPE', key] for key in keys])]
    present = [(key, kind) for key, kind in zip(keys, kinds) if kind != 'none']
    values = _run(client, db, [_command(key, kind) for key, kind in present])
    for (key, kind), value in zip(present, values):
        if value is not None:
            digest.add(db, key_hash(db, key, kind, value))


def dataset_digest(client: Any) -> dict[str, Any]:
    """Key count and digest of every database of the server ``client`` (a client with bytes replies).

    Returns keys (total), databases ({dbN: keys}) and digest (64 hex digits; all zeros when empty).
    """
    digest = Digest()
    for db in databases(client):
        seen: set[bytes] = set()
        cursor = None
        while cursor != 0:
            cursor, keys = _scan(client, db, cursor or 0)
            fresh = [key for key in dict.fromkeys(keys) if key not in seen]
            seen.update(fresh)
            if fresh:
                _digest_keys(client, db, fresh, digest)
    return digest.as_dict()
