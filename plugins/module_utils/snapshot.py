# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshots of a running server: BGSAVE / BGREWRITEAOF, the wait for them, and their files.

A save is recognised by the fork counters of ``INFO persistence`` (``rdb_saves``,
``aof_rewrites``, Redis 7.0 and Valkey), which count a fork when it starts: the save is done
when the counter passed the value read before it was asked for and no child of that kind runs.
Servers without the counters are judged by ``rdb_last_save_time`` (one-second resolution).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ansible_collections.redisops.sentinel.plugins.module_utils.client import ResponseError

CHUNK = 1024 * 1024


class SnapshotFailed(Exception):
    """The server reported that the save failed (disk full, permissions ...): waiting longer is pointless."""


def _int(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def persistence(client: Any) -> dict[str, Any]:
    return {str(key): _int(value) for key, value in client.info('persistence').items()}


@dataclass(frozen=True)
class Kind:
    """What differs between an RDB snapshot and an AOF rewrite."""

    name: str
    command: tuple[str, ...]
    counter: str
    in_progress: tuple[str, ...]
    status: str
    already: str

    def running(self, state: Mapping[str, Any]) -> bool:
        return any(state.get(field) == 1 for field in self.in_progress)


RDB = Kind('rdb', ('BGSAVE', 'SCHEDULE'), 'rdb_saves', ('rdb_bgsave_in_progress',),
           'rdb_last_bgsave_status', 'already in progress')
AOF = Kind('aof', ('BGREWRITEAOF',), 'aof_rewrites', ('aof_rewrite_in_progress', 'aof_rewrite_scheduled'),
           'aof_last_bgrewrite_status', 'already in progress')
KINDS = {'rdb': RDB, 'aof': AOF}


@dataclass
class Request:
    """A save asked for (or found running) at ``started``, with the state read just before."""

    kind: Kind
    before: dict[str, Any]
    started: int
    triggered: bool

    def done(self, state: Mapping[str, Any]) -> bool:
        """Finished (either way): a save started since the request, and none runs."""
        if self.kind.running(state):
            return False
        counter = self.kind.counter
        if counter in state and counter in self.before:
            return state[counter] > self.before[counter] or (self.kind.running(self.before)
                                                             and state[counter] >= self.before[counter])
        return int(state.get('rdb_last_save_time', 0)) >= self.started

    def check(self, client: Any) -> tuple[bool, dict[str, Any]]:
        """A check for wait.poll_until; raises SnapshotFailed when the save failed."""
        state = persistence(client)
        if not self.done(state):
            return False, state
        if state.get(self.kind.status) != 'ok':
            raise SnapshotFailed('%s finished with %s:%s: see the server log (disk full, permissions of its dir?)'
                                 % (' '.join(self.kind.command), self.kind.status, state.get(self.kind.status)))
        return True, state


def request(client: Any, kind: Kind, clock: Callable[[], float] = time.time) -> Request:
    """Ask for a save, or join the one that runs (``triggered`` false)."""
    before = persistence(client)
    started = int(clock())
    if kind.running(before):
        return Request(kind, before, started, False)
    try:
        client.execute_command(*kind.command)
    except ResponseError as exc:
        if kind.already not in str(exc):
            raise
        return Request(kind, before, started, False)
    return Request(kind, before, started, True)


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def describe_file(path: str, name: str) -> dict[str, Any]:
    """``name`` is the path relative to the snapshot (dump.rdb, appendonlydir/FILE)."""
    return dict(path=path, name=name, size=os.path.getsize(path), sha256=sha256_of(path))


def aof_files(directory: str) -> list[str]:
    """The files of an AOF directory, sorted (Redis 7 / Valkey: base, incr and manifest files)."""
    if not os.path.isdir(directory):
        return []
    return sorted(name for name in os.listdir(directory) if os.path.isfile(os.path.join(directory, name)))


def stage(rdb: str, aof_dir: str | None, target: str) -> list[tuple[str, str]]:
    """Keep a stable copy of the snapshot's files in ``target`` (mode 0700); returns (path, name) pairs.

    The RDB is hard-linked (Redis replaces dump.rdb by rename, so the link keeps this snapshot;
    copied when the link is impossible); the AOF files are copied, since Redis appends to them.
    """
    os.makedirs(target, mode=0o700, exist_ok=True)
    os.chmod(target, 0o700)
    staged = os.path.join(target, os.path.basename(rdb))
    if os.path.exists(staged):
        os.unlink(staged)
    try:
        os.link(rdb, staged)
    except OSError:
        shutil.copy2(rdb, staged)
    files = [(staged, os.path.basename(rdb))]
    if aof_dir:
        folder = os.path.basename(aof_dir.rstrip('/'))
        copy_dir = os.path.join(target, folder)
        os.makedirs(copy_dir, mode=0o700, exist_ok=True)
        for name in aof_files(aof_dir):
            shutil.copy2(os.path.join(aof_dir, name), os.path.join(copy_dir, name))
            files.append((os.path.join(copy_dir, name), '%s/%s' % (folder, name)))
    return files


def live_files(rdb: str, aof_dir: str | None) -> list[tuple[str, str]]:
    files = [(rdb, os.path.basename(rdb))] if os.path.isfile(rdb) else []
    if aof_dir:
        folder = os.path.basename(aof_dir.rstrip('/'))
        files += [(os.path.join(aof_dir, name), '%s/%s' % (folder, name)) for name in aof_files(aof_dir)]
    return files


def server_facts(client: Any) -> dict[str, Any]:
    """Flavour, version, run_id and the replication position of the server."""
    server = client.info('server')
    replication = client.info('replication')
    name = str(server.get('server_name', 'redis'))
    return dict(server=name, version=str(server.get('valkey_version', server.get('redis_version'))),
                redis_version=str(server.get('redis_version')), run_id=str(server.get('run_id')),
                role=str(replication.get('role')), master_replid=str(replication.get('master_replid')),
                master_repl_offset=int(replication.get('master_repl_offset', 0)))


def data_paths(client: Any) -> dict[str, Any]:
    """dir, dbfilename, appendonly and the AOF directory (Redis 7 / Valkey ``appenddirname``)."""
    config: dict[str, str] = {}
    for name in ('dir', 'dbfilename', 'appendonly', 'appenddirname'):
        config.update({str(key): str(value) for key, value in client.config_get(name).items()})
    appendonly = config.get('appendonly') == 'yes'
    aof_dir = os.path.join(config['dir'], config['appenddirname']) if appendonly and config.get('appenddirname') \
        else None
    return dict(dir=config['dir'], dbfilename=config['dbfilename'], rdb=os.path.join(config['dir'], config['dbfilename']),
                appendonly=appendonly, appenddirname=config.get('appenddirname'), aof_dir=aof_dir)
