"""How soon after replication is really up does replica_wait report it?

Imported by benchmarks/report.py. Starts a real replica (local redis-server
processes, the unit tests' fixtures) pointed at a master port with nothing
behind it, runs the replica_wait module's own poll loop (default
poll_interval) in one thread and an independent 2 ms INFO poller in another,
then starts the master. The delay is the time from the moment the independent
poller first sees master_link_status:up to the moment the module's loop returns
ready (target: median under 0.5 s).
"""
from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TOP / 'playbooks' / 'collections'), str(TOP / 'tests' / 'unit')]

from conftest import NodeFactory, free_port, link_up  # noqa: E402  (test fixtures: real processes)
from ansible_collections.redisops.sentinel.plugins.module_utils.client import RETRYABLE_ERRORS  # noqa: E402
from ansible_collections.redisops.sentinel.plugins.module_utils.replication import ReplicaExpectation  # noqa: E402
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import poll_until  # noqa: E402
from ansible_collections.redisops.sentinel.plugins.module_utils.replica_wait import ReplicaChecker  # noqa: E402

RUNS = 10
POLL_INTERVAL = 0.1  # the module default


def one_run(factory: NodeFactory) -> float:
    port = free_port()
    missing_master = type('Master', (), dict(host='127.0.0.1', port=port, password=None))
    replica = factory.replica(missing_master)
    params = dict(login_host='127.0.0.1', login_port=replica.port, login_user=None,
                  login_password=None, connect_timeout=2.0)
    checker = ReplicaChecker(params, ReplicaExpectation())
    seen: dict[str, float] = {}

    def module_loop() -> None:
        outcome = poll_until(checker, 30, POLL_INTERVAL, RETRYABLE_ERRORS)
        seen['returned' if outcome.ready else 'timeout'] = time.monotonic()

    def observer() -> None:
        while 'up' not in seen and 'returned' not in seen:
            if link_up(replica):
                seen['up'] = time.monotonic()
            time.sleep(0.002)

    threads = [threading.Thread(target=module_loop), threading.Thread(target=observer)]
    for thread in threads:
        thread.start()
    master = factory.server(port=port)
    for thread in threads:
        thread.join()
    checker.close()
    replica.stop()
    master.stop()
    if 'returned' not in seen or 'up' not in seen:
        raise SystemExit('replication never came up: %s' % seen)
    return max(seen['returned'] - seen['up'], 0.0)


def measure() -> list[float]:
    """The delay of each of RUNS runs, in seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        factory = NodeFactory(Path(tmp))
        try:
            return [one_run(factory) for run in range(RUNS)]
        finally:
            factory.stop_all()
