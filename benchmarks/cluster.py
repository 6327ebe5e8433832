"""How long does the lab cluster take to converge, to re-run, and to fail over?

Run on its own (`python benchmarks/cluster.py [RUNS]`, prints a Markdown section) or imported by
benchmarks/report.py. Recreates the lab's three containers (lab/lab.sh down, then up: bare hosts),
then, with lab/cluster.yml (six nodes, two per container, three masters with a replica each,
firewalld, the roles' defaults: cluster-node-timeout 15 s, a crashed node restarted after twice that):

1. Converge: playbooks/cluster.yml from the bare containers, wall time.
2. Re-run: the same playbook again, wall time and the recap's changed count (target 0).
3. Unplanned failover, RUNS times: SIGKILL of the redis-server that serves slot 0, its unit left as
   the roles write it. This host asks every node for CLUSTER SLOTS and CLUSTER INFO every 50 ms:
   seconds from the kill until another node serves slot 0 and every answering node reports
   cluster_state:ok (clients can write again), then until the killed node, restarted by systemd,
   is a replica with its link up and every node reports ok (whole again). Then a re-run of
   cluster.yml: its changed count (target 0: it follows the failover).

Leaves the lab containers running the cluster; `make lab-down` removes them, `make lab` adds the
Sentinel topology beside it. Each playbook's output is in /tmp/redisops-bench-*.json.
"""
from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import yaml

import failover

TOP = Path(__file__).resolve().parents[1]
INVENTORY = 'lab/cluster.yml'
FORKS = 6             # one per node
POLL = 0.05
TIMEOUT = 180.0


@dataclass
class Node:
    name: str
    container: str
    address: str      # host:port
    instance: str


@dataclass
class Failover:
    serving: float    # until another node serves slot 0 and every answering node is ok
    whole: float      # until the killed node is a linked replica and every node is ok
    rerun_changed: int


@dataclass
class Figures:
    converge: float
    rerun: float
    rerun_changed: int
    failovers: list[Failover]
    node_timeout_ms: int


def read_nodes() -> list[Node]:
    hosts = yaml.safe_load((TOP / INVENTORY).read_text())['redis_cluster']['hosts']
    return [Node(name, settings.get('ansible_host', name), '%s:%d' % (settings['redis_address'], settings['redis_port']),
                 str(settings['redis_instance'])) for name, settings in hosts.items()]


def lab(command: str) -> None:
    proc = subprocess.run([str(TOP / 'lab' / 'lab.sh'), command], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise failover.BenchError('lab/lab.sh %s failed: %s' % (command, (proc.stdout + proc.stderr).strip()))


def converge(log: str) -> failover.PlaybookRun:
    return failover.playbook('cluster.yml', [], log, inventory=INVENTORY, forks=FORKS)


def ask(address: str, *args: str) -> Any:
    client = failover.client(address, timeout=0.3)
    try:
        return client.execute_command(*args)
    except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
        return None
    finally:
        client.close()


def slot0_owner(address: str) -> str | None:
    """host:port of the node that serves slot 0, as ``address`` sees it."""
    slots = ask(address, 'CLUSTER', 'SLOTS')
    for served in slots or []:
        first, last, master = served[:3]
        if first <= 0 <= last:
            return '%s:%d' % (master[0], master[1])
    return None


def cluster_ok(address: str) -> bool | None:
    """None when the node does not answer."""
    info = ask(address, 'CLUSTER', 'INFO')  # the reply's text: no parser for a two-word command here
    return None if info is None else 'cluster_state:ok' in info


def serving_unmet(nodes: list[Node], killed: str) -> list[str]:
    unmet = []
    for node in nodes:
        if node.address == killed:
            continue
        owner = slot0_owner(node.address)
        if owner in (None, killed):
            unmet.append('%s: slot 0 served by %s' % (node.address, owner))
        if cluster_ok(node.address) is False:
            unmet.append('%s: cluster_state not ok' % node.address)
    return unmet


def whole_unmet(nodes: list[Node], killed: str) -> list[str]:
    unmet = healthy_unmet(nodes)
    info = ask(killed, 'INFO', 'replication') or {}
    if info.get('role') != 'slave' or info.get('master_link_status') != 'up':
        unmet.append('%s: not a linked replica yet (%s, link %s)' % (
            killed, info.get('role'), info.get('master_link_status')))
    return unmet


def healthy_unmet(nodes: list[Node]) -> list[str]:
    return ['%s: cluster_state not ok' % node.address for node in nodes if not cluster_ok(node.address)]


def kill(node: Node) -> None:
    unit = 'redis-server@%s' % node.instance if node.instance else 'redis-server'
    failover.docker_exec(node.container, 'systemctl kill --signal=SIGKILL %s' % unit)


def one_failover(nodes: list[Node], run: int) -> Failover:
    failover.poll(lambda: healthy_unmet(nodes), TIMEOUT, 'the cluster healthy before the kill')
    killed = slot0_owner(nodes[0].address)
    node = next(node for node in nodes if node.address == killed)
    began = time.monotonic()
    kill(node)
    failover.poll(lambda: serving_unmet(nodes, killed), TIMEOUT, 'another node serving slot 0', POLL)
    serving = time.monotonic() - began
    failover.poll(lambda: whole_unmet(nodes, killed), TIMEOUT, 'the killed node back as a replica', POLL)
    whole = time.monotonic() - began
    rerun = converge('cluster-after-failover-%d' % run)
    return Failover(serving, whole, failover.changed_total(rerun.output))


def node_timeout(nodes: list[Node]) -> int:
    reply = ask(nodes[0].address, 'CONFIG', 'GET', 'cluster-node-timeout')
    return int(reply['cluster-node-timeout']) if reply else 0


def measure(runs: int) -> Figures:
    nodes = read_nodes()
    lab('down')
    lab('up')
    first = converge('cluster-converge')
    again = converge('cluster-rerun')
    failovers = [one_failover(nodes, run) for run in range(1, runs + 1)]
    return Figures(first.wall, again.wall, failover.changed_total(again.output), failovers, node_timeout(nodes))


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def section(figures: Figures) -> list[str]:
    rows = ['| %d | %.1f | %.1f | %d |' % (run, f.serving, f.whole, f.rerun_changed)
            for run, f in enumerate(figures.failovers, 1)]
    method = ('Method (`benchmarks/cluster.py`): `lab/cluster.yml` (three containers, two nodes each, three masters '
              'with a replica each, firewalld, the roles\' defaults, cluster-node-timeout %d ms) converged with '
              '`playbooks/cluster.yml` from bare containers, run again, then SIGKILL of the master of slot 0 (its '
              'unit as the roles write it: systemd restarts it after twice the node timeout), polled every %d ms '
              'from this host.' % (figures.node_timeout_ms, POLL * 1000))
    runs = ['| run | converge from bare (s) | re-run (s) | re-run changed |', '| --- | --- | --- | --- |',
            '| 1 | %.1f | %.1f | %d |' % (figures.converge, figures.rerun, figures.rerun_changed)]
    kills = ['| kill | another node serves slot 0, cluster ok (s) | killed node back as a linked replica (s) '
             '| re-run changed |', '| --- | --- | --- | --- |'] + rows
    summary = 'Median: slot 0 served again after %.1f s, the cluster whole again after %.1f s.' % (
        median([f.serving for f in figures.failovers]), median([f.whole for f in figures.failovers]))
    return ['## Redis Cluster on the lab (six nodes)', '', method, ''] + runs + [''] + kills + ['', summary]


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    print('\n'.join(section(measure(runs))))


if __name__ == '__main__':
    main()
