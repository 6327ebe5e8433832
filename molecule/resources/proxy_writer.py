# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A writer through the HAProxy endpoint (roles/redis_haproxy) across a planned switchover and an
unplanned failover; proves that no acknowledged write is lost and prints each event's write gap.

The writer knows nothing of Sentinel: it sends ``SET app:proxy:N N`` and then ``WAIT 1 500`` on one
connection to the proxy; a key is acknowledged when WAIT reports a replica (what an application that
must not lose writes does under asynchronous replication). On any error it drops the connection and
connects to the proxy again 50 ms later.

Events, each once the writer writes steadily:

- ``switchover``: runs the given command (playbooks/switchover.yml) and waits for the next ack;
- ``failover``: SIGSTOP of the master's redis-server (``systemctl kill`` in its container) until the
  writer, having failed, is acknowledged again (a new master was elected, which Sentinel does only
  after down-after), then SIGCONT, and the writer keeps writing until the old master is a replica
  (the window where it still says role:master).

Then every acknowledged key is read back from the master. The secrets come from a JSON file
(``user``, ``password`` for the writer, ``admin_user``, ``admin_password`` to read the nodes), never
from the command line. Exit status 1 when a key is lost or an event does not complete.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

PREFIX = 'app:proxy'
WAIT_REPLICAS = 1
WAIT_MS = 500
TIMEOUT = 120.0
UNIT = 'redis-server'


class WriterError(Exception):
    pass


@dataclass(frozen=True)
class Node:
    name: str
    host: str
    port: int


@dataclass
class Event:
    name: str
    seconds: float
    gap: float
    failed_attempts: int
    acked_during: int


class Connector:
    """Redis connections over TLS with a client certificate, without redis-py's own retries."""

    def __init__(self, tls_dir: str, tls_name: str):
        self.tls = dict(ssl=True, ssl_ca_certs='%s/ca.crt' % tls_dir, ssl_certfile='%s/%s.crt' % (tls_dir, tls_name),
                        ssl_keyfile='%s/%s.key' % (tls_dir, tls_name))

    def __call__(self, host: str, port: int, user: str, password: str, timeout: float = 1.0) -> redis.Redis:
        return redis.Redis(host, port, username=user, password=password, socket_timeout=timeout,
                           socket_connect_timeout=timeout, decode_responses=True, single_connection_client=True,
                           retry=Retry(NoBackoff(), 0), **self.tls)


class Writer(threading.Thread):
    """SET app:proxy:N, WAIT 1 500 through the proxy; reconnects to the proxy on any error."""

    def __init__(self, connect: Callable[[], redis.Redis]):
        super().__init__(daemon=True)
        self.connect = connect
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.acked: list[tuple[int, float]] = []
        self.failed: list[float] = []

    def run(self) -> None:
        conn, n = None, 0
        while not self.done.is_set():
            n += 1
            try:
                if conn is None:
                    conn = self.connect()
                conn.set('%s:%d' % (PREFIX, n), n)
                if conn.wait(WAIT_REPLICAS, WAIT_MS) >= WAIT_REPLICAS:
                    with self.lock:
                        self.acked.append((n, time.monotonic()))
                    continue
            except (redis.RedisError, OSError):
                pass
            with self.lock:
                self.failed.append(time.monotonic())
            if conn is not None:
                conn.close()
            conn = None
            self.done.wait(0.05)
        if conn is not None:
            conn.close()

    def acks(self) -> list[tuple[int, float]]:
        with self.lock:
            return list(self.acked)

    def failures(self) -> list[float]:
        with self.lock:
            return list(self.failed)

    def acked_after(self, moment: float) -> bool:
        return any(at > moment for _n, at in self.acks())

    def gap(self, since: float, until: float) -> float:
        """The longest time without an acknowledged write between since and until."""
        times = [since] + [at for _n, at in self.acks() if since < at <= until] + [until]
        return max(b - a for a, b in zip(times, times[1:]))


def poll(condition: Callable[[], str], timeout: float, what: str) -> None:
    """Poll until condition returns '' (else what is still unmet)."""
    deadline = time.monotonic() + timeout
    while True:
        unmet = condition()
        if not unmet:
            return
        if time.monotonic() > deadline:
            raise WriterError('%s within %gs: %s' % (what, timeout, unmet))
        time.sleep(0.1)


class Run:
    def __init__(self, args: argparse.Namespace, secrets: dict[str, str]):
        self.connect = Connector(args.tls_dir, args.tls_name)
        self.secrets = secrets
        self.nodes = [parse_node(spec) for spec in args.node]
        proxy_host, proxy_port = args.proxy.rsplit(':', 1)
        self.writer = Writer(lambda: self.connect(proxy_host.strip('[]'), int(proxy_port),
                                                  secrets['user'], secrets['password']))

    def admin(self, node: Node) -> redis.Redis:
        return self.connect(node.host, node.port, self.secrets['admin_user'], self.secrets['admin_password'])

    def role(self, node: Node) -> str:
        try:
            with self.admin(node) as conn:
                return str(conn.execute_command('ROLE')[0])
        except (redis.RedisError, OSError) as exc:
            return 'unreachable (%s)' % exc

    def master(self) -> Node:
        masters = [node for node in self.nodes if self.role(node) == 'master']
        if len(masters) != 1:
            raise WriterError('expected one master, found %s' % [node.name for node in masters])
        return masters[0]

    def steady(self) -> None:
        count = len(self.writer.acks())
        poll(lambda: '' if len(self.writer.acks()) >= count + 20 else 'only %d acks'
             % (len(self.writer.acks()) - count), 60, 'the writer writes steadily through the proxy')

    def back(self, since: float, what: str) -> float:
        poll(lambda: '' if self.writer.acked_after(since) else 'no ack since', 60, what)
        return min(at for _n, at in self.writer.acks() if at > since)

    def event(self, name: str, action: Callable[[float], float]) -> Event:
        self.steady()
        started = time.monotonic()
        acked_before = len(self.writer.acks())
        settled = action(started)
        ended = self.back(settled, 'the writer is acknowledged again after the %s' % name)
        return Event(name, round(ended - started, 2), round(self.writer.gap(started, ended), 2),
                     sum(1 for at in self.writer.failures() if started <= at <= ended),
                     len(self.writer.acks()) - acked_before)

    def switchover(self, command: str) -> Callable[[float], float]:
        def action(_started: float) -> float:
            proc = subprocess.run(shlex.split(command), capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise WriterError('%s failed: %s' % (command, (proc.stdout + proc.stderr)[-2000:]))
            return time.monotonic()
        return action

    def failover(self, action_started: float) -> float:
        old = self.master()
        signal(old, 'STOP')
        try:
            # Acknowledged after a failure that came after the stop: the writer
            # reached a new master (only Sentinel's failover, after down-after, makes one).
            poll(lambda: '' if any(self.writer.acked_after(at) for at in self.writer.failures() if at > action_started)
                 else 'no ack after a failure since the stop', TIMEOUT, 'a new master behind the proxy')
        finally:
            signal(old, 'CONT')
        poll(lambda: '' if self.role(old) in ('slave', 'replica') else 'the old master %s says %s' % (old.name, self.role(old)),
             TIMEOUT, 'Sentinel demotes the old master')
        return time.monotonic()

    def lost(self) -> list[str]:
        keys = ['%s:%d' % (PREFIX, n) for n, _at in self.writer.acks()]
        with self.admin(self.master()) as conn:
            values = [value for start in range(0, len(keys), 500) for value in conn.mget(keys[start:start + 500])]
        return [key for key, value in zip(keys, values) if value != key.rsplit(':', 1)[1]]


def parse_node(spec: str) -> Node:
    """NAME=HOST:PORT (NAME is the container's name)."""
    name, address = spec.split('=', 1)
    host, port = address.rsplit(':', 1)
    return Node(name, host.strip('[]'), int(port))


def signal(node: Node, name: str) -> None:
    subprocess.run(['docker', 'exec', node.name, 'systemctl', 'kill', '--signal=%s' % name, UNIT],
                   check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--proxy', required=True, help='HOST:PORT of the proxy')
    parser.add_argument('--node', action='append', required=True, help='NAME=HOST:PORT of each data node')
    parser.add_argument('--tls-dir', required=True, help='directory with ca.crt and NAME.crt / NAME.key')
    parser.add_argument('--tls-name', required=True, help='whose certificate the client presents')
    parser.add_argument('--secrets', required=True, help='JSON file with user, password, admin_user, admin_password')
    parser.add_argument('--switchover', required=True, help='the command of the planned switchover')
    args = parser.parse_args()
    with open(args.secrets, encoding='utf-8') as handle:
        run = Run(args, json.load(handle))
    run.writer.start()
    result: dict[str, Any] = {}
    try:
        events = [run.event('switchover', run.switchover(args.switchover)), run.event('failover', run.failover)]
        result['events'] = [asdict(event) for event in events]
    except WriterError as exc:
        result['error'] = str(exc)
    finally:
        run.writer.done.set()
        run.writer.join()
    result['acknowledged'] = len(run.writer.acks())
    result['lost'] = run.lost()
    for event in result.get('events', []):
        print('%(name)s: write gap %(gap).2f s (event %(seconds).2f s, %(failed_attempts)d failed attempts, '
              '%(acked_during)d writes acknowledged)' % event)
    print(json.dumps(result))
    return 1 if 'error' in result or result['lost'] or not result['acknowledged'] else 0


if __name__ == '__main__':
    sys.exit(main())
