# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A writer and a replication watcher across a live rotation of redis_password (docs/operations.md).

The writer is an application that reloads its secret: it reads its password from ``--password-file``,
and when the file changes it connects again with the new one. It finds the master among ``--node``
(``name=host:port``), sends ``SET app:rotation:N N`` then ``WAIT 1 500``, and counts a key acknowledged
when WAIT reports a replica. A refused login (WRONGPASS, NOAUTH) is counted, never retried silently.

The watcher polls ``INFO replication`` of every replica and ``INFO stats`` of the master every 50 ms on
connections opened at the start, and records every sample where a link is not up or a replica does not
answer (a read that times out on a starved machine is counted as ``unobserved`` instead), every change
of a replica's replication id and the master's full-sync count (``sync_full``) at start and end.

``--user`` logs in as that ACL user; ``--tls-ca``, ``--tls-cert`` and ``--tls-key`` connect over TLS with
a client certificate (the secure scenario, where the Sentinel password and the TLS files rotate). The
writer reloads its TLS files like its password: when one changes it connects again, with a new TLS
context read from the files (``--tls-cert`` may hold the key too, so that both change at once).

Both stop when ``--stop-file`` exists (at the latest after ``--timeout`` seconds); then every
acknowledged key is read back from the master with the password of the file. Prints one JSON object;
exit status 0 (the playbook asserts on the report).
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

PREFIX = 'app:rotation'
POLL = 0.05
TIMEOUT = 900.0
# The user and the TLS options of every connection (--user, --tls-*); empty: default user, plaintext.
LOGIN: dict[str, Any] = {}


def client(address: str, password: str) -> redis.Redis:
    host, port = address.rsplit(':', 1)
    # WAIT's 500 ms plus a loaded machine's scheduling stay well inside the socket timeout: a slow
    # answer is not a refused or dropped connection.
    return redis.Redis(host, int(port), password=password, socket_timeout=5.0, socket_connect_timeout=5.0,
                       decode_responses=True, single_connection_client=True, retry=Retry(NoBackoff(), 0),
                       **LOGIN)


def login_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = dict(username=args.user) if args.user else {}
    if args.tls_ca:
        options.update(ssl=True, ssl_ca_certs=args.tls_ca, ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key,
                       ssl_check_hostname=False)
    return options


def file_stamp(path: str) -> tuple[int, int, int]:
    stat = os.stat(path)
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


class Secret:
    """The password in a file, read again whenever the file changes, and the client's TLS files."""

    def __init__(self, path: str, tls_files: list[str]):
        self.path = path
        self.stamp: tuple[int, int, int] | None = None
        self.value = ''
        self.changes = 0
        self.tls_files = tls_files
        self.tls_stamps = [file_stamp(name) for name in tls_files]
        self.tls_changes = 0

    def reload(self) -> bool:
        """Whether the password or a TLS file changed since the last call (both are read)."""
        password = self.changed()
        stamps = [file_stamp(name) for name in self.tls_files]
        tls = stamps != self.tls_stamps
        self.tls_stamps = stamps
        self.tls_changes += int(tls)
        return password or tls

    def changed(self) -> bool:
        stamp = file_stamp(self.path)
        if stamp == self.stamp:
            return False
        with open(self.path, encoding='utf-8') as handle:
            value = handle.read().strip()
        changed = self.stamp is not None and value != self.value
        self.stamp, self.value = stamp, value
        self.changes += int(changed)
        return changed


class Writer(threading.Thread):
    def __init__(self, nodes: list[str], secret: Secret, stop: threading.Event):
        super().__init__(daemon=True)
        self.nodes, self.secret, self.stop = nodes, secret, stop
        self.acked: list[int] = []
        self.auth_refused: list[str] = []
        self.errors: list[str] = []
        self.connections = 0

    def master(self) -> redis.Redis | None:
        for address in self.nodes:
            conn = client(address, self.secret.value)
            try:
                if conn.info('replication')['role'] == 'master':
                    self.connections += 1
                    return conn
            except redis.exceptions.AuthenticationError as exc:
                self.auth_refused.append('%s: %s' % (address, exc))
            except redis.RedisError as exc:
                self.errors.append('%s: %s' % (address, exc))
            conn.close()
        return None

    def run(self) -> None:
        self.secret.changed()
        conn, number = None, 0
        while not self.stop.is_set():
            if self.secret.reload() and conn is not None:
                conn.close()
                conn = None
            conn = conn or self.master()
            if conn is None:
                time.sleep(0.05)
                continue
            number += 1
            try:
                conn.set('%s:%d' % (PREFIX, number), number)
                if conn.execute_command('WAIT', 1, 500) >= 1:
                    self.acked.append(number)
            except redis.RedisError as exc:
                self.errors.append('write %d: %s' % (number, exc))
                conn.close()
                conn = None
            time.sleep(0.01)
        if conn is not None:
            conn.close()


class Watcher(threading.Thread):
    """Replication links and full syncs, on connections opened once, at the start."""

    def __init__(self, master: redis.Redis, replicas: dict[str, redis.Redis], stop: threading.Event):
        super().__init__(daemon=True)
        self.master, self.replicas, self.stop = master, replicas, stop
        self.sync_full_before = int(master.info('stats')['sync_full'])
        self.replids = {name: conn.info('replication')['master_replid'] for name, conn in replicas.items()}
        self.link_down: list[str] = []
        self.replid_changes: list[str] = []
        self.samples = 0
        self.unobserved = 0

    def run(self) -> None:
        while not self.stop.is_set():
            for name, conn in self.replicas.items():
                try:
                    info = conn.info('replication')
                except redis.TimeoutError:
                    # The replica answered too slowly to say (a starved machine): no sample, not a link down.
                    self.unobserved += 1
                    continue
                except redis.RedisError as exc:
                    self.link_down.append('%s: %s' % (name, exc))
                    continue
                if info.get('master_link_status') != 'up':
                    self.link_down.append('%s: master_link_status %s' % (name, info.get('master_link_status')))
                if info.get('master_replid') != self.replids[name]:
                    self.replid_changes.append(name)
                    self.replids[name] = info.get('master_replid')
            self.samples += 1
            time.sleep(POLL)

    def sync_full_after(self) -> int:
        return int(self.master.info('stats')['sync_full'])


def lost_keys(writer: Writer) -> list[int]:
    """The acknowledged keys the master does not hold, read with the password of the file now."""
    conn = writer.master()
    if conn is None:
        raise SystemExit('no master answers with the password of the file')
    try:
        values = conn.mget(['%s:%d' % (PREFIX, number) for number in writer.acked]) if writer.acked else []
    finally:
        conn.close()
    return [number for number, value in zip(writer.acked, values) if value != str(number)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--node', action='append', required=True, help='name=host:port of a data node')
    parser.add_argument('--password-file', required=True)
    parser.add_argument('--stop-file', required=True)
    parser.add_argument('--user')
    parser.add_argument('--tls-ca')
    parser.add_argument('--tls-cert')
    parser.add_argument('--tls-key')
    parser.add_argument('--timeout', type=float, default=TIMEOUT, help='stop after this many seconds at the latest')
    args = parser.parse_args()
    LOGIN.update(login_options(args))
    nodes = dict(item.split('=', 1) for item in args.node)
    secret = Secret(args.password_file, [name for name in (args.tls_ca, args.tls_cert, args.tls_key) if name])
    secret.changed()
    roles = {name: client(address, secret.value) for name, address in nodes.items()}
    master = next(name for name, conn in roles.items() if conn.info('replication')['role'] == 'master')
    stop = threading.Event()
    watcher = Watcher(roles[master], {name: conn for name, conn in roles.items() if name != master}, stop)
    writer = Writer(list(nodes.values()), secret, stop)
    watcher.start()
    writer.start()
    deadline = time.monotonic() + args.timeout
    while not os.path.exists(args.stop_file) and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    writer.join()
    watcher.join()
    secret.changed()
    report: dict[str, Any] = dict(
        acked=len(writer.acked), lost=lost_keys(writer), auth_refused=writer.auth_refused,
        write_errors=writer.errors, connections=writer.connections, password_changes=secret.changes,
        tls_changes=secret.tls_changes,
        link_down=watcher.link_down, replid_changes=watcher.replid_changes, samples=watcher.samples,
        unobserved=watcher.unobserved,
        sync_full_before=watcher.sync_full_before, sync_full_after=watcher.sync_full_after(),
        stopped=os.path.exists(args.stop_file))
    for conn in roles.values():
        conn.close()
    print(json.dumps(report))


if __name__ == '__main__':
    main()
