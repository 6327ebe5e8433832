"""Unplanned faults under a continuous writer: is any acknowledged write lost?

Used by the molecule failover scenario (its verify runs this file as a
command on the controller, against its containers) and by benchmarks/report.py
(``make bench``, on the 3-host lab) for the fault table of docs/benchmarks.md.

For each fault a writer thread runs on this host: it finds the master through
the Sentinels, sends ``SET fault:N N`` and then ``WAIT 1 500`` on the same
connection; a key is acknowledged when WAIT reports a replica. When every data
host crashes at once (reboot_all), a key is acknowledged only once every
replica has it (``WAIT <replicas> 500``): the Sentinels then promote whichever
replica answers first, and a write that one replica alone acknowledged may be
on the replicas that boot later only (Redis's asynchronous replication; no
configuration of the roles changes that). The fault is
injected with nothing but what happens to real hosts (signals, the unit's own
restart policy, container reboots, a network cut); then the harness polls until
the group is healthy again (every Sentinel agrees on one master that reports
role master, every other data node is its linked replica), lets the writer get
more acknowledgements from the new master, stops it and counts the acknowledged
keys missing on the master (must be 0). Figures per fault: the unavailability
window (first failed write -> first acknowledged write again), the longest gap
between acknowledged writes, and the seconds from the fault until the group is
healthy (every Sentinel agreeing).

Command line: python benchmarks/faults.py --node ADDR=CONTAINER ... \
  --sentinel ADDR=CONTAINER ... [--name mymaster] [--network NET] [--fault NAME ...]
Prints a table and one JSON line per fault; exits 1 when a fault loses an
acknowledged write or the group does not heal.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import redis
from redis.sentinel import Sentinel

import failover
from failover import BenchError, Lab, client, docker_exec, poll, split

WAIT_REPLICAS = 1
WAIT_MS = 500
ALL_DOWN = ('reboot_all',)  # faults that take down every data node at once
AFTER_HEAL = 20          # acknowledged writes from the healed group before the writer stops
HEAL_TIMEOUT = 120.0
UNIT = 'redis-server'
SENTINEL_UNIT = 'redis-sentinel'


@dataclass
class Outcome:
    fault: str
    old: str
    new: str
    acked: int
    lost: int
    window: float        # first failed write -> first acknowledged write again (0: none failed)
    longest_gap: float   # between acknowledged writes, from the fault on
    healthy: float       # fault -> group healthy, every Sentinel agreeing
    notes: list[str] = field(default_factory=list)


class Writer(threading.Thread):
    """SET fault:N, WAIT ``replicas`` 500 on one connection; finds the master through the Sentinels again on failure."""

    def __init__(self, lab: Lab, prefix: str, replicas: int = WAIT_REPLICAS):
        super().__init__(daemon=True)
        self.prefix = prefix
        self.replicas = replicas
        self.sentinel = Sentinel([split(address) for address in lab.sentinels],
                                 sentinel_kwargs=dict(socket_timeout=0.3, socket_connect_timeout=0.3, **failover.NO_RETRY))
        self.done = threading.Event()
        self.acked: list[tuple[int, float]] = []
        self.failed: list[float] = []

    def key(self, n: int) -> str:
        return '%s:%d' % (self.prefix, n)

    def run(self) -> None:
        node, n = None, 0
        while not self.done.is_set():
            n += 1
            try:
                if node is None:
                    node = client('%s:%d' % self.sentinel.discover_master(failover.NAME), timeout=1.0,
                                  single_connection_client=True)
                node.set(self.key(n), n)
                if node.wait(self.replicas, WAIT_MS) >= self.replicas:
                    self.acked.append((n, time.monotonic()))
                    continue
            except (redis.RedisError, OSError):
                pass
            self.failed.append(time.monotonic())
            if node is not None:
                node.close()
            node = None
            self.done.wait(0.05)
        if node is not None:
            node.close()

    def acks_after(self, moment: float) -> int:
        return sum(1 for _n, at in self.acked if at > moment)

    def window(self, since: float) -> float:
        failed = [at for at in self.failed if at >= since]
        if not failed:
            return 0.0
        again = [at for _n, at in self.acked if at > failed[0]]
        return (again[0] if again else time.monotonic()) - failed[0]

    def longest_gap(self, since: float) -> float:
        times = [since] + [at for _n, at in self.acked if at >= since]
        return max((b - a for a, b in zip(times, times[1:])), default=0.0)


class Harness:
    def __init__(self, lab: Lab, sentinel_containers: dict[str, str], network: str | None):
        self.lab = lab
        self.sentinel_containers = sentinel_containers
        self.network = network
        self.sentinels = [client(address) for address in lab.sentinels]
        self.notes: list[str] = []

    def healthy(self, timeout: float = HEAL_TIMEOUT) -> str:
        return failover.wait_healthy(self.lab, self.sentinels, timeout)

    def persisted(self, timeout: float = HEAL_TIMEOUT) -> None:
        """Poll until no data node is still rewriting its append-only file.

        A replica that has just resynced from scratch (after a partition, a failover) stops its AOF, loads
        the master's data and rewrites the AOF in the background; until that rewrite is done, the AOF on its
        disk is the one from before the resync, and a crash restarts it with that older data set (Redis's
        own window, redis/redis#10582). A fault is injected only once the previous one has healed that far,
        so each fault is measured from a group whose every node could restart with what it acknowledged.
        """
        def unmet() -> list[str]:
            busy = []
            for address in self.lab.containers:
                try:
                    state = failover.info(address, 'persistence')
                except redis.RedisError as exc:
                    busy.append('%s: %s' % (address, exc))
                    continue
                if state.get('aof_enabled') and (state.get('aof_rewrite_in_progress') or state.get('aof_rewrite_scheduled')):
                    busy.append('%s rewrites its append-only file' % address)
            return busy
        poll(unmet, timeout, 'An append-only file rewrite did not finish')

    def wait_replicas(self, fault: str) -> int:
        """How many replicas acknowledge a write: every one when every host crashes (see the module's text)."""
        return len(self.lab.containers) - 1 if fault in ALL_DOWN else WAIT_REPLICAS

    def unit(self, container: str, action: str, unit: str = UNIT) -> None:
        docker_exec(container, 'systemctl %s %s' % (action, unit))

    def signal(self, container: str, name: str, unit: str = UNIT) -> None:
        self.unit(container, 'kill --signal=%s' % name, unit)

    def wait_master_not(self, old: str, timeout: float = HEAL_TIMEOUT, cut_off: str = '') -> None:
        """Poll until every Sentinel (but those on the container ``cut_off``) names one master other than ``old``."""
        asked = [sentinel for address, sentinel in zip(self.lab.sentinels, self.sentinels)
                 if self.sentinel_containers.get(address) != cut_off]

        def unmet() -> list[str]:
            views = failover.sentinel_views(asked)
            return [] if len(set(views)) == 1 and views[0] not in (None, old) else ['the Sentinels report %s' % views]
        poll(unmet, timeout, 'No new master agreed', 0.05)

    def reboot(self, containers: list[str], clean: bool = True) -> None:
        """Reboot the hosts: a clean shutdown (systemctl poweroff inside) or a crash (SIGKILL to every process)."""
        if clean:
            for container in containers:
                subprocess.run(['docker', 'exec', container, 'systemctl', 'poweroff'], check=True, capture_output=True)
            subprocess.run(['docker', 'wait'] + containers, check=True, capture_output=True)
        else:
            subprocess.run(['docker', 'kill'] + containers, check=True, capture_output=True)
        subprocess.run(['docker', 'start'] + containers, check=True, capture_output=True)

    def run(self, fault: str, inject: Callable[[str], None]) -> Outcome:
        old = self.healthy()
        self.persisted()
        writer = Writer(self.lab, 'fault-%s' % fault, self.wait_replicas(fault))
        writer.start()
        try:
            poll(lambda: [] if len(writer.acked) >= AFTER_HEAL else ['%d acknowledged' % len(writer.acked)],
                 30, 'The writer got no acknowledgements before the fault')
            start = time.monotonic()
            inject(old)
            new = self.healthy()
            healthy = time.monotonic() - start
            settled = time.monotonic()
            poll(lambda: [] if writer.acks_after(settled) >= AFTER_HEAL else ['%d acknowledged since' % writer.acks_after(settled)],
                 60, 'The writer got no acknowledgement from the healed group')
        finally:
            writer.done.set()
            writer.join()
        outcome = Outcome(fault, old, new, len(writer.acked), failover.missing(new, writer.acked, writer.key),
                          writer.window(start), writer.longest_gap(start), healthy, self.notes)
        self.notes = []
        return outcome

    # --- the faults ---------------------------------------------------------------------------

    def kill_master(self, old: str) -> None:
        """kill -9 of the master; its unit's Restart=always brings it back at once."""
        self.signal(self.lab.containers[old], 'KILL')

    def kill_master_without_aof(self, old: str) -> None:
        """A cache-style master (append-only file off, in its file too) killed: the start guard holds it back
        until the Sentinels promote a replica, instead of letting it restart empty as master."""
        container, port = self.lab.containers[old], split(old)[1]
        self.cli(container, port, 'CONFIG SET appendonly no', 'CONFIG REWRITE')
        self.signal(container, 'KILL')
        self.wait_master_not(old)
        poll(lambda: failover.follower_unmet(old, failover.sentinel_views(self.sentinels)[0]), HEAL_TIMEOUT,
             'The old master did not come back as a replica', 0.1)
        self.cli(container, port, 'CONFIG SET appendonly yes', 'CONFIG REWRITE')
        self.notes.append('appendonly off on the master when it was killed; on again once it was a replica')

    def cli(self, container: str, port: int, *commands: str) -> None:
        for command in commands:
            answer = docker_exec(container, 'redis-cli -p %d %s' % (port, command))
            if answer != 'OK':
                raise BenchError('%s on %s: %s' % (command, container, answer))

    def kill_replica(self, old: str) -> None:
        replica = next(node for node in self.lab.containers if node != old)
        self.signal(self.lab.containers[replica], 'KILL')
        self.notes.append('killed %s' % replica)

    def restart_master(self, old: str) -> None:
        """systemctl restart by hand."""
        self.unit(self.lab.containers[old], 'restart')

    def delayed_restart(self, old: str) -> None:
        """The master is down past down-after (stopped), then started again: it must come back as a replica."""
        container = self.lab.containers[old]
        self.unit(container, 'stop')
        self.wait_master_not(old)
        self.unit(container, 'start')

    def reboot_master(self, old: str) -> None:
        self.reboot([self.lab.containers[old]])

    def freeze_master(self, old: str) -> None:
        """SIGSTOP for three times down-after (a failover happens meanwhile), then SIGCONT."""
        container = self.lab.containers[old]
        down_after = int(self.sentinels[0].sentinel_master(failover.NAME)['down-after-milliseconds']) / 1000
        stopped = time.monotonic()
        self.signal(container, 'STOP')
        try:
            self.wait_master_not(old)
            # The rest of the fault's length (not a wait for a condition).
            time.sleep(max(0.0, stopped + 3 * down_after - time.monotonic()))
        finally:
            self.signal(container, 'CONT')

    def kill_sentinel_in_failover(self, old: str) -> None:
        """Freeze the master; kill -9 the Sentinel that leads the failover once it has started."""
        container = self.lab.containers[old]
        self.signal(container, 'STOP')
        try:
            leader = self._failover_leader()
            self.signal(self.sentinel_containers[leader], 'KILL', SENTINEL_UNIT)
            self.notes.append('killed the Sentinel %s in the failover' % leader)
            self.wait_master_not(old)
        finally:
            self.signal(container, 'CONT')

    def _failover_leader(self) -> str:
        found: list[str] = []

        def unmet() -> list[str]:
            for address, sentinel in zip(self.lab.sentinels, self.sentinels):
                try:
                    if 'failover_in_progress' in failover.flags(sentinel.sentinel_master(failover.NAME)):
                        found.append(address)
                        return []
                except redis.RedisError:
                    continue
            return ['no Sentinel has started a failover']
        poll(unmet, 60, 'No failover started', 0.01)
        return found[0]

    def partition_master(self, old: str) -> None:
        """Cut the master off the network; a client on its host still writes, unacknowledged; then heal."""
        if not self.network:
            raise BenchError('the partition fault needs --network')
        container = self.lab.containers[old]
        host, _port = split(old)
        subprocess.run(['docker', 'network', 'disconnect', self.network, container], check=True, capture_output=True)
        try:
            acks = docker_exec(container, "{ for i in $(seq 1 100); do echo \"SET isolated:$i $i\"; done; "
                                          "echo 'WAIT 1 500'; } | redis-cli -p %d | tail -n 1" % split(old)[1])
            if acks != '0':
                raise BenchError('the isolated master reports %s replicas acknowledging its writes' % acks)
            self.notes.append('100 writes to the isolated master, 0 acknowledged')
            self.wait_master_not(old, cut_off=container)
        finally:
            subprocess.run(['docker', 'network', 'connect', '--ip', host, self.network, container],
                           check=True, capture_output=True)

    def reboot_all(self, _old: str) -> None:
        """Every data host crashes at once (SIGKILL to every process) and boots; nobody runs a playbook."""
        self.reboot(sorted(set(self.lab.containers.values())), clean=False)


FAULTS = ['kill_master', 'kill_master_without_aof', 'kill_replica', 'restart_master', 'delayed_restart', 'reboot_master', 'freeze_master',
          'kill_sentinel_in_failover', 'partition_master', 'reboot_all']


def run_faults(lab: Lab, sentinel_containers: dict[str, str], network: str | None, faults: list[str]) -> list[Outcome]:
    harness = Harness(lab, sentinel_containers, network)
    outcomes = []
    for fault in faults:
        print('fault %s ...' % fault, file=sys.stderr, flush=True)
        outcomes.append(harness.run(fault, getattr(harness, fault)))
        print(json.dumps(asdict(outcomes[-1])), flush=True)
    return outcomes


def table(outcomes: list[Outcome]) -> list[str]:
    lines = ['| fault | old -> new master | acknowledged | lost | unavailable s | longest gap s | healthy after s |',
             '| --- | --- | --- | --- | --- | --- | --- |']
    lines += ['| %s | %s -> %s | %d | %d | %.2f | %.2f | %.2f |' % (
        o.fault.replace('_', ' '), o.old, o.new, o.acked, o.lost, o.window, o.longest_gap, o.healthy) for o in outcomes]
    return lines


def pairs(values: list[str]) -> dict[str, str]:
    return dict(value.split('=', 1) for value in values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--node', action='append', required=True, help='data node ADDR:PORT=CONTAINER')
    parser.add_argument('--sentinel', action='append', required=True, help='Sentinel ADDR:PORT=CONTAINER')
    parser.add_argument('--name', default='mymaster')
    parser.add_argument('--network', help='the Docker network of the containers (partition fault)')
    parser.add_argument('--fault', action='append', choices=FAULTS, help='default: every fault')
    args = parser.parse_args()
    failover.NAME = args.name
    sentinels = pairs(args.sentinel)
    try:
        outcomes = run_faults(Lab(pairs(args.node), list(sentinels)), sentinels, args.network, args.fault or FAULTS)
    except (BenchError, redis.RedisError, subprocess.CalledProcessError) as exc:
        print('FAILED: %s' % exc, file=sys.stderr)
        return 1
    print('\n'.join(table(outcomes)))
    lost = [o.fault for o in outcomes if o.lost]
    if lost:
        print('FAILED: acknowledged writes lost in %s' % ', '.join(lost), file=sys.stderr)
    return 1 if lost else 0


if __name__ == '__main__':
    sys.exit(main())
