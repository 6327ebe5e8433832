"""How fast does the running lab fail over, and what does a switchover cost writers?

Imported by benchmarks/report.py, which runs ``measure`` on the 3-host lab
(lab/inventory.yml) that its converge runs left behind; never recreates it.
``measure`` converges it once with Sentinel's down-after-milliseconds at 2000
(applied live), then measures, BENCH_RUNS times:

1. Unplanned failover: SIGSTOP the master's redis-server (a hung master; its
   unit is left as the roles configure it: a killed master would be restarted
   at once, with its data, and no failover would happen), then poll every
   Sentinel from this host every 20 ms. Seconds from the signal until the first
   Sentinel, then every Sentinel, reports the same new master (target: every
   Sentinel within down-after + 3 s). Then SIGCONT; seconds until the old
   master is a linked replica.
2. Re-run of playbooks/site.yml after that failover: wall time and the sum of
   the changed counts of its recap (target 0).
3. Planned switchover (playbooks/switchover.yml) under a writer: SET bench:N then
   WAIT 1 200 on one connection; a key is acknowledged when WAIT reports a
   replica. On an error, or when WAIT reports none while the Sentinels name
   another master, the writer finds the master again through the Sentinels.
   Records the module's own elapsed, the playbook wall time, acknowledged
   writes/s while the playbook runs (and before it), the longest gap between
   acknowledged writes, and the acknowledged keys missing on the new master
   afterwards (target 0).

At the end, also after a failure, the lab is converged again with the default
settings and left healthy (every Sentinel agreeing, every replica linked).
Every playbook's output goes to /tmp/redisops-bench-*.json.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import redis
import yaml
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

TOP = Path(__file__).resolve().parents[1]
INVENTORY = 'lab/inventory.yml'
FORKS = 5             # ansible's default; enough for the 3 hosts
NAME = 'mymaster'
REDIS_PORT = 6379
SENTINEL_PORT = 26379
UNIT = 'redis-server'
DOWN_AFTER_MS = 2000
DEFAULT_DOWN_AFTER_MS = 5000
BENCH_VARS = ['-e', 'redis_sentinel_down_after_milliseconds=%d' % DOWN_AFTER_MS]
POLL = 0.02           # Sentinel poll interval
WAIT_TIMEOUT_MS = 200
BASELINE = 1.0        # seconds of writes before the switchover starts
LOG = '/tmp/redisops-bench-%s.json'
# redis-py retries connection errors with a backoff of up to seconds by default: never here.
NO_RETRY = dict(retry=Retry(NoBackoff(), 0))


class BenchError(Exception):
    pass


@dataclass(frozen=True)
class Lab:
    containers: dict[str, str]  # data node host:port -> container (inventory host) name
    sentinels: list[str]        # Sentinel host:port


@dataclass
class Unplanned:
    old: str
    new: str
    first: float    # kill -> first Sentinel reports the new master
    every: float    # kill -> every Sentinel reports the same new master
    rejoin: float   # restart -> old master is a linked replica


@dataclass
class Rerun:
    wall: float
    changed: int


@dataclass
class PlaybookRun:
    wall: float
    output: dict[str, Any]  # what the JSON stdout callback printed
    stderr: str


@dataclass
class Writes:
    sent: int = 0
    acked: list[tuple[int, float]] = field(default_factory=list)  # (N, monotonic time of the ack)
    unacked: int = 0
    errors: Counter = field(default_factory=Counter)
    reconnects: int = 0


@dataclass
class Switchover:
    old: str
    new: str
    elapsed: float
    pause: float | None  # the module's write_pause, when it reports one
    wall: float
    rate: float       # acknowledged writes/s while the playbook ran
    baseline: float   # acknowledged writes/s before it
    stall: float      # longest gap between acknowledged writes while it ran
    writes: Writes
    lost: int


@dataclass
class Figures:
    unplanned: list[Unplanned] = field(default_factory=list)
    reruns: list[Rerun] = field(default_factory=list)
    switchovers: list[Switchover] = field(default_factory=list)


# --- lab, processes, clients ---------------------------------------------------------------

def read_lab() -> Lab:
    inventory = yaml.safe_load((TOP / INVENTORY).read_text())
    address = {}
    for group in ('redis_master', 'redis_replica'):
        for host, hostvars in (inventory[group].get('hosts') or {}).items():
            address[host] = (hostvars or {})['redis_address']
    containers = {'%s:%d' % (address[host], REDIS_PORT): host for host in address}
    sentinels = ['%s:%d' % (address[host], SENTINEL_PORT) for host in inventory['redis_sentinel']['hosts']]
    return Lab(containers, sentinels)


def split(address: str) -> tuple[str, int]:
    host, port = address.rsplit(':', 1)
    return host, int(port)


def client(address: str, timeout: float = 0.5, **kwargs: Any) -> redis.Redis:
    host, port = split(address)
    return redis.Redis(host, port, socket_timeout=timeout, socket_connect_timeout=timeout,
                       decode_responses=True, **NO_RETRY, **kwargs)


def docker_exec(container: str, script: str) -> str:
    proc = subprocess.run(['docker', 'exec', container, 'sh', '-c', script], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BenchError('docker exec %s %r failed: %s' % (container, script, proc.stderr.strip()))
    return proc.stdout.strip()


def ansible_env() -> dict[str, str]:
    """JSON on stdout; only phase_timer besides, which prints its one line to stderr."""
    return dict(os.environ, ANSIBLE_CONFIG=str(TOP / 'ansible.cfg'),
                ANSIBLE_COLLECTIONS_PATH=str(TOP / 'playbooks' / 'collections'),
                ANSIBLE_PIPELINING='true', ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json',
                ANSIBLE_CALLBACK_PLUGINS=str(TOP / 'benchmarks' / 'callback_plugins'),
                ANSIBLE_CALLBACKS_ENABLED='phase_timer',
                PATH='%s:%s' % (TOP / '.venv' / 'bin', os.environ.get('PATH', '')))


def playbook(name: str, extra: list[str], log: str, inventory: str = INVENTORY, forks: int = FORKS) -> PlaybookRun:
    """Run playbooks/NAME of this checkout; its wall time, the JSON callback's output and stderr. Raises when it fails."""
    return run_playbook(['ansible-playbook', '-i', inventory, '--forks', str(forks), 'playbooks/' + name] + extra,
                        TOP, ansible_env(), log)


def run_playbook(args: list[str], cwd: Path, env: dict[str, str], log: str) -> PlaybookRun:
    """Run an ansible-playbook command line, timed; raises when it fails."""
    start = time.monotonic()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    path = LOG % log
    Path(path).write_text(proc.stdout + proc.stderr)
    try:
        output = json.loads(proc.stdout[proc.stdout.index('{'):])
    except ValueError:
        output = {}
    if proc.returncode != 0:
        raise BenchError('ansible-playbook %s failed (rc %d, see %s): %s' % (
            log, proc.returncode, path, '; '.join(failures(output)) or proc.stderr.strip()[-500:]))
    return PlaybookRun(wall, output, proc.stderr)


def results(output: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for play in output.get('plays', []):
        for task in play['tasks']:
            yield from task['hosts'].values()


def failures(output: dict[str, Any]) -> list[str]:
    return [str(result.get('msg')) for result in results(output) if result.get('failed')]


def changed_total(output: dict[str, Any]) -> int:
    """The sum of the recap's changed counts."""
    return sum(stats['changed'] for stats in output['stats'].values())


def poll(condition: Callable[[], list[str]], timeout: float, what: str, interval: float = 0.2) -> None:
    """Poll until ``condition`` reports nothing unmet."""
    deadline = time.monotonic() + timeout
    while True:
        unmet = condition()
        if not unmet:
            return
        if time.monotonic() > deadline:
            raise BenchError('%s within %gs: %s' % (what, timeout, '; '.join(unmet)))
        time.sleep(interval)


# --- what the Sentinels and data nodes report ----------------------------------------------

def sentinel_views(sentinels: list[redis.Redis]) -> list[str | None]:
    """The master each Sentinel reports, as host:port, None when it does not answer."""
    views: list[str | None] = []
    for sentinel in sentinels:
        try:
            master = sentinel.sentinel_get_master_addr_by_name(NAME)
        except redis.RedisError:
            master = None
        views.append('%s:%d' % master if master else None)
    return views


def flags(state: dict[str, Any]) -> set[str]:
    value = state['flags']
    return set(value.split(',')) if isinstance(value, str) else set(value)


def sentinel_unmet(address: str, sentinel: redis.Redis, followers: list[str]) -> list[str]:
    """Why this Sentinel does not see a sane master with every follower as a healthy replica."""
    try:
        master = sentinel.sentinel_master(NAME)
        replicas = {'%s:%s' % (r['ip'], r['port']): r for r in sentinel.sentinel_slaves(NAME)}
    except redis.RedisError as exc:
        return ['Sentinel %s: %s' % (address, exc)]
    unmet = []
    if flags(master) != {'master'}:
        unmet.append('Sentinel %s flags the master %s' % (address, ','.join(sorted(flags(master)))))
    for node in followers:
        if node not in replicas:
            unmet.append('Sentinel %s does not list replica %s' % (address, node))
        elif flags(replicas[node]) & {'s_down', 'o_down', 'disconnected'}:
            unmet.append('Sentinel %s flags replica %s %s' % (address, node, ','.join(sorted(flags(replicas[node])))))
    return unmet


def info(address: str, section: str) -> dict[str, Any]:
    """One INFO section of a node, on a connection closed again."""
    node = client(address)
    try:
        return node.info(section)
    finally:
        node.close()


def replication(address: str) -> dict[str, Any]:
    return info(address, 'replication')


def follower_unmet(node: str, master: str) -> list[str]:
    try:
        info = replication(node)
    except redis.RedisError as exc:
        return ['%s: %s' % (node, exc)]
    if info.get('role') != 'slave' or '%s:%s' % (info.get('master_host'), info.get('master_port')) != master:
        return ['%s is %s of %s:%s, not a replica of %s' % (
            node, info.get('role'), info.get('master_host'), info.get('master_port'), master)]
    if info.get('master_link_status') != 'up' or info.get('master_sync_in_progress'):
        return ['%s: link to %s %s' % (node, master, info.get('master_link_status'))]
    return []


def health_unmet(lab: Lab, sentinels: list[redis.Redis]) -> list[str]:
    """Why the lab is not healthy: every Sentinel agreeing, every other node a linked replica."""
    views = sentinel_views(sentinels)
    if None in views or len(set(views)) != 1:
        return ['the Sentinels report %s' % dict(zip(lab.sentinels, views))]
    master = views[0]
    followers = [node for node in lab.containers if node != master]
    unmet = [problem for address, sentinel in zip(lab.sentinels, sentinels)
             for problem in sentinel_unmet(address, sentinel, followers)]
    try:
        role = replication(master).get('role')
    except redis.RedisError as exc:
        role = str(exc)
    if role != 'master':
        unmet.append('%s reports %s, not master' % (master, role))
    return unmet + [problem for node in followers for problem in follower_unmet(node, master)]


def wait_healthy(lab: Lab, sentinels: list[redis.Redis], timeout: float = 60) -> str:
    poll(lambda: health_unmet(lab, sentinels), timeout, 'The lab did not become healthy')
    return sentinel_views(sentinels)[0]


def down_after_unmet(lab: Lab, sentinels: list[redis.Redis], expected: int) -> list[str]:
    seen = {address: sentinel.sentinel_master(NAME)['down-after-milliseconds']
            for address, sentinel in zip(lab.sentinels, sentinels)}
    return [] if set(seen.values()) == {expected} else ['down-after-milliseconds %s, expected %d' % (seen, expected)]


# --- 1. unplanned failover --------------------------------------------------------------------

def freeze(container: str) -> float:
    """SIGSTOP redis-server (its unit left as the roles configure it); the moment the signal was sent."""
    docker_exec(container, 'systemctl kill --signal=STOP %s' % UNIT)
    return time.monotonic()


def thaw(container: str) -> None:
    """SIGCONT redis-server, and start it should it not run."""
    docker_exec(container, 'systemctl kill --signal=CONT %s; systemctl start %s' % (UNIT, UNIT))


def wait_new_master(sentinels: list[redis.Redis], old: str, killed: float,
                    timeout: float = 30) -> tuple[str, float, float]:
    """Poll every Sentinel; the new master, and seconds until the first and every Sentinel report it."""
    first = None
    while True:
        now = time.monotonic()
        views = sentinel_views(sentinels)
        moved = [view for view in views if view and view != old]
        if moved and first is None:
            first = now - killed
        if len(moved) == len(views) and len(set(moved)) == 1:
            return moved[0], first, now - killed
        if now - killed > timeout:
            raise BenchError('the Sentinels did not agree on a new master within %gs: %s' % (timeout, views))
        time.sleep(max(POLL - (time.monotonic() - now), 0))


def unplanned(lab: Lab, sentinels: list[redis.Redis]) -> Unplanned:
    old = wait_healthy(lab, sentinels)
    container = lab.containers[old]
    frozen = freeze(container)
    try:
        new, first, every = wait_new_master(sentinels, old, frozen)
    finally:
        started = time.monotonic()
        thaw(container)
    poll(lambda: follower_unmet(old, new), 60, 'The old master did not become a linked replica', 0.05)
    rejoin = time.monotonic() - started
    wait_healthy(lab, sentinels)
    return Unplanned(old, new, first, every, rejoin)


# --- 2. re-run ----------------------------------------------------------------------------------

def rerun(run: int) -> Rerun:
    again = playbook('site.yml', BENCH_VARS, 'rerun-after-failover-%d' % run)
    return Rerun(again.wall, changed_total(again.output))


# --- 3. planned switchover under writes -----------------------------------------------------

def key(n: int) -> str:
    return 'bench:%d' % n


class Writer(threading.Thread):
    """SET bench:N N, then WAIT 1 200 on the same connection, until stopped."""

    def __init__(self, lab: Lab):
        super().__init__(daemon=True)
        self.sentinel = Sentinel([split(address) for address in lab.sentinels],
                                 sentinel_kwargs=dict(socket_timeout=0.2, socket_connect_timeout=0.2, **NO_RETRY))
        self.stop = threading.Event()
        self.writes = Writes()
        self.address: str | None = None

    def locate(self) -> str:
        return '%s:%d' % self.sentinel.discover_master(NAME)

    def run(self) -> None:
        node, n = None, 0
        while not self.stop.is_set():
            try:
                if node is None:
                    self.address = self.locate()
                    node = client(self.address, timeout=1.0, single_connection_client=True)
                    self.writes.reconnects += 1
                n += 1
                node.set(key(n), n)
                self.writes.sent += 1
                if node.wait(1, WAIT_TIMEOUT_MS) >= 1:
                    self.writes.acked.append((n, time.monotonic()))
                    continue
                self.writes.unacked += 1
                if self.locate() != self.address:
                    node.close()
                    node = None
            except (redis.RedisError, OSError) as exc:
                self.writes.errors[type(exc).__name__] += 1
                if node is not None:
                    node.close()
                node = None
                time.sleep(0.01)
        if node is not None:
            node.close()


def ack_times(acked: list[tuple[int, float]], start: float, end: float) -> list[float]:
    return [ack[1] for ack in acked if start <= ack[1] <= end]


def rate(acked: list[tuple[int, float]], start: float, end: float) -> float:
    return len(ack_times(acked, start, end)) / (end - start)


def longest_gap(acked: list[tuple[int, float]], start: float, end: float) -> float:
    times = [start] + ack_times(acked, start, end) + [end]
    return max(b - a for a, b in zip(times, times[1:]))


def chunks(items: list[str], size: int = 1000) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def missing(master: str, acked: list[tuple[int, float]], key_of: Callable[[int], str] = key) -> int:
    """How many acknowledged writes (N, when) are absent on ``master``: key_of(N) must hold N."""
    node = client(master, timeout=5)
    try:
        lost = 0
        for part in chunks([ack[0] for ack in acked]):
            lost += sum(1 for n, value in zip(part, node.mget([key_of(n) for n in part])) if value != str(n))
        return lost
    finally:
        node.close()


def delete_bench_keys(master: str) -> None:
    node = client(master, timeout=5)
    try:
        for part in chunks(list(node.scan_iter('bench:*', count=1000))):
            node.unlink(*part)
    finally:
        node.close()


def switchover_elapsed(output: dict[str, Any]) -> dict[str, Any]:
    for result in results(output):
        if result.get('action') == 'redisops.sentinel.sentinel_failover':
            return result
    raise BenchError('no sentinel_failover result in the switchover.yml output')


def switchover(lab: Lab, sentinels: list[redis.Redis], run: int) -> Switchover:
    delete_bench_keys(wait_healthy(lab, sentinels))
    writer = Writer(lab)
    writer.start()
    time.sleep(BASELINE)
    start = time.monotonic()
    try:
        played = playbook('switchover.yml', [], 'switchover-%d' % run)
    finally:
        end = time.monotonic()
        writer.stop.set()
        writer.join()
    result = switchover_elapsed(played.output)
    new = wait_healthy(lab, sentinels)
    writes = writer.writes
    lost = missing(new, writes.acked)
    delete_bench_keys(new)
    return Switchover(result['old_master'], result['new_master'], result['elapsed'], result.get('write_pause'), played.wall,
                      rate(writes.acked, start, end), rate(writes.acked, start - BASELINE, start),
                      longest_gap(writes.acked, start, end), writes, lost)


# --- measure ------------------------------------------------------------------------------------

def restore(lab: Lab, sentinels: list[redis.Redis]) -> None:
    """Start every redis-server again, converge with the default settings, wait until healthy."""
    for container in lab.containers.values():
        thaw(container)
    wait_healthy(lab, sentinels, timeout=90)
    playbook('site.yml', [], 'restore')
    poll(lambda: down_after_unmet(lab, sentinels, DEFAULT_DOWN_AFTER_MS), 5, 'Sentinel settings not restored')
    wait_healthy(lab, sentinels)


def measure(runs: int) -> Figures:
    """Measure ``runs`` times on the running, converged 3-host lab; restore it even when a run fails."""
    lab = read_lab()
    sentinels = [client(address) for address in lab.sentinels]
    figures = Figures()
    try:
        playbook('site.yml', BENCH_VARS, 'failover-converge')
        poll(lambda: down_after_unmet(lab, sentinels, DOWN_AFTER_MS), 5, 'Sentinel settings not applied live')
        for run in range(1, runs + 1):
            figures.unplanned.append(unplanned(lab, sentinels))
            figures.reruns.append(rerun(run))
            figures.switchovers.append(switchover(lab, sentinels, run))
            print('failover run %d/%d done' % (run, runs), file=sys.stderr)
    finally:
        restore(lab, sentinels)
        for sentinel in sentinels:
            sentinel.close()
    return figures
