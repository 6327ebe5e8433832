"""Converge from bare hosts, then the idempotent re-run, on labs of 3 and 6 hosts.

Imported by benchmarks/report.py. Each run removes the lab (lab/lab.sh down),
creates fresh containers from the bare image (REDISOPS_LAB_HOSTS=N lab/lab.sh up,
not timed), then times playbooks/site.yml from start to exit (split into
install / configure / wait by the phase_timer callback), and times it once more
on the converged hosts with the sum of the recap's changed counts (target 0).
The 3-host lab is lab/inventory.yml; the 6-host inventory is generated into a
temporary file (SIX below). Each run does 6 hosts first, then 3, so that the
lab is left converged as the 3 hosts of lab/inventory.yml.

The lab hosts share the machine's cores with ansible, so the CPU time of each
converge is recorded too: ansible's (ansible-playbook and every process it
waited for, the docker exec clients included), the lab containers' (their
cgroups: the modules, apt and dpkg, the services) and the whole machine's
(/proc/stat, whatever ran).

Comparison mode (benchmarks/variants.py): the same measurement, in the same
run, for each variant of the code (this checkout and commit 6767dc2, each as
the repo runs it and as a new user runs it, and DavidWittman/ansible-redis),
alternating. For each run it also records ansible's CPU during the re-run and
how often each Redis/Sentinel unit was started and stopped on each host during
the bare converge (systemd's own journal messages in each container).
"""
from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import ansible_redis
import failover
import variants

LAB = str(failover.TOP / 'lab' / 'lab.sh')
# systemd's catalog message ids: a unit started, a unit stopping.
STARTED, STOPPING = '39f53479d3a045ac8e11786248231fbf', 'de5b426a63be47a7b6ac3eaac82e2f6f'
SERVICES = re.compile(r'(redis|sentinel|valkey)', re.IGNORECASE)
PHASES = re.compile(r'PHASES total=([\d.]+)s install=([\d.]+)s configure=([\d.]+)s wait=([\d.]+)s')


@dataclass(frozen=True)
class Topology:
    hosts: int       # data nodes: 1 master and hosts - 1 replicas
    sentinels: int   # Sentinels, on the first hosts
    forks: int       # ansible --forks: at least the host count

    def describe(self) -> str:
        return '1 master, %d replicas, %d Sentinels (on %s), quorum %d; ansible --forks %d' % (
            self.hosts - 1, self.sentinels, host_range(self.sentinels), self.sentinels // 2 + 1, self.forks)


# lab/inventory.yml: a Sentinel beside each of the 3 servers.
THREE = Topology(hosts=3, sentinels=3, forks=max(3, failover.FORKS))
# Six servers, five Sentinels: an odd count whose majority (3) survives the
# loss of any two hosts; a sixth Sentinel would add load and no tolerance.
SIX = Topology(hosts=6, sentinels=5, forks=max(6, failover.FORKS))


@dataclass
class Cpu:
    """CPU seconds (user + system) consumed so far."""
    ansible: float
    lab: float | None   # None when the containers' cgroups are not found
    machine: float

    def __sub__(self, other: Cpu) -> Cpu:
        lab = None if self.lab is None or other.lab is None else self.lab - other.lab
        return Cpu(self.ansible - other.ansible, lab, self.machine - other.machine)


@dataclass
class Converge:
    hosts: int
    load: float       # 1-minute load average just before the bare converge
    wall: float       # bare converge, start to exit of ansible-playbook
    install: float    # phase_timer's split of that run
    configure: float
    wait: float
    cpu: Cpu          # consumed during the bare converge
    rerun: float      # the re-run on the converged hosts
    changed: int      # the re-run's recap changed counts, summed
    variant: str = variants.HEAD.key
    rerun_cpu: Cpu | None = None  # consumed during the re-run
    # host -> unit -> (starts, stops) during the bare converge
    starts: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    settle: float | None = None   # ansible-redis: from its exit until the topology is healthy


def name(index: int) -> str:
    return 'redisops-lab-%d' % index


def host_range(count: int) -> str:
    return name(1) if count == 1 else '%s..%d' % (name(1), count)


def address(index: int) -> str:
    return '172.28.61.%d' % (10 + index)  # as lab/lab.sh assigns them


def inventory(topology: Topology) -> dict[str, Any]:
    """The inventory of a lab of this size, with lab/inventory.yml's connection and firewall settings."""
    lab = yaml.safe_load((failover.TOP / failover.INVENTORY).read_text())
    servers = {name(i): {'redis_address': address(i)} for i in range(1, topology.hosts + 1)}
    return {
        'redis_master': {'hosts': {name(1): servers[name(1)]}},
        'redis_replica': {'hosts': {host: hostvars for host, hostvars in servers.items() if host != name(1)}},
        'redis_sentinel': {'hosts': {name(i): None for i in range(1, topology.sentinels + 1)}},
        'all': {'vars': lab['all']['vars']},
    }


def write_inventory(topology: Topology, directory: Path) -> str:
    path = directory / ('inventory-%d-hosts.yml' % topology.hosts)
    path.write_text('---\n' + yaml.safe_dump(inventory(topology), default_flow_style=False, sort_keys=False))
    return str(path)


def lab(command: str, hosts: int) -> None:
    proc = subprocess.run([LAB, command], env=dict(os.environ, REDISOPS_LAB_HOSTS=str(hosts)),
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise failover.BenchError('lab/lab.sh %s (%d hosts) failed: %s' % (command, hosts, (proc.stdout + proc.stderr).strip()))


def cgroup_cpu(container_id: str) -> float | None:
    """CPU seconds of a container's cgroup: cgroup v1 (cgroupfs driver) or v2 (systemd or cgroupfs driver)."""
    v1 = Path('/sys/fs/cgroup/cpuacct/docker/%s/cpuacct.usage' % container_id)
    if v1.exists():
        return int(v1.read_text()) / 1e9
    for v2 in (Path('/sys/fs/cgroup/system.slice/docker-%s.scope/cpu.stat' % container_id),
               Path('/sys/fs/cgroup/docker/%s/cpu.stat' % container_id)):
        if v2.exists():
            return int(re.search(r'^usage_usec (\d+)', v2.read_text(), re.MULTILINE).group(1)) / 1e6
    return None


def cpu(container_ids: list[str]) -> Cpu:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    lab = [cgroup_cpu(container_id) for container_id in container_ids]
    fields = [int(value) for value in Path('/proc/stat').read_text().split('\n', 1)[0].split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]  # user nice system idle iowait irq softirq steal
    return Cpu(children.ru_utime + children.ru_stime, None if None in lab else sum(lab),
               busy / os.sysconf('SC_CLK_TCK'))


def container_ids(hosts: int) -> list[str]:
    ids = subprocess.run(['docker', 'inspect', '--format', '{{.Id}}'] + [name(i) for i in range(1, hosts + 1)],
                         capture_output=True, text=True, check=False)
    if ids.returncode != 0:
        raise failover.BenchError('docker inspect of the lab containers failed: %s' % ids.stderr.strip())
    return ids.stdout.split()


def phases(stderr: str) -> tuple[float, float, float]:
    found = PHASES.search(stderr)
    if not found:
        raise failover.BenchError('no PHASES line from the phase_timer callback')
    return float(found.group(2)), float(found.group(3)), float(found.group(4))


def unit_starts(hosts: int) -> dict[str, dict[str, tuple[int, int]]]:
    """host -> Redis/Sentinel unit -> (times started, times stopping), from systemd's journal in each container."""
    counts = {}
    for index in range(1, hosts + 1):
        journal = failover.docker_exec(name(index), 'journalctl -b -o json --no-pager _PID=1')
        units: dict[str, list[int]] = {}
        for entry in map(json.loads, filter(None, journal.splitlines())):
            unit, message = entry.get('UNIT', ''), entry.get('MESSAGE_ID')
            if message in (STARTED, STOPPING) and unit.endswith('.service') and SERVICES.search(unit):
                units.setdefault(unit, [0, 0])[message == STOPPING] += 1
        counts[name(index)] = {unit: (started, stopped) for unit, (started, stopped) in sorted(units.items())}
    return counts


def settle(topology: Topology) -> float:
    """ansible-redis does not wait: seconds until its topology is healthy, polled; raises when it never is."""
    hosts = {name(i): address(i) for i in range(1, topology.hosts + 1)}
    seconds, problems = ansible_redis.wait_healthy(hosts, name(1), list(hosts)[:topology.sentinels])
    if problems:
        raise failover.BenchError('ansible-redis: not healthy %.0f s after its converge: %s' % (seconds, '; '.join(problems)))
    return seconds


def play(prepared: variants.Prepared, topology: Topology, log: str) -> failover.PlaybookRun:
    args = ['ansible-playbook', '-i', prepared.inventories[topology.hosts], '--forks', str(topology.forks), prepared.playbook]
    return failover.run_playbook(args, prepared.cwd, prepared.env, log)


def converge(topology: Topology, prepared: variants.Prepared, run: int) -> Converge:
    """Fresh containers, then a timed converge and a timed re-run."""
    lab('down', topology.hosts)
    lab('up', topology.hosts)
    ids = container_ids(topology.hosts)
    load = os.getloadavg()[0]
    key = prepared.variant.key
    before = cpu(ids)
    bare = play(prepared, topology, 'converge-%s-%dh-%d' % (key, topology.hosts, run))
    used = cpu(ids) - before
    healthy = settle(topology) if prepared.variant is variants.ANSIBLE_REDIS else None
    starts = unit_starts(topology.hosts)
    before = cpu(ids)
    again = play(prepared, topology, 'rerun-%s-%dh-%d' % (key, topology.hosts, run))
    return Converge(topology.hosts, load, bare.wall, *phases(bare.stderr), used, again.wall,
                    failover.changed_total(again.output), key, cpu(ids) - before, starts, healthy)


def measure(runs: int, chosen: tuple[variants.Variant, ...] = (variants.HEAD,)) -> list[Converge]:
    """``runs`` runs of 6 then 3 hosts, each variant in turn; leaves the 3-host lab converged by head."""
    results = []
    with tempfile.TemporaryDirectory(prefix='redisops-bench-') as tmp:
        paths = {SIX.hosts: write_inventory(SIX, Path(tmp)), THREE.hosts: str(failover.TOP / failover.INVENTORY)}
        ready = variants.prepare(chosen, Path(tmp), paths, {SIX.hosts: SIX.sentinels, THREE.hosts: THREE.sentinels})
        for run in range(1, runs + 1):
            for topology in (SIX, THREE):
                for prepared in variants.order([p for p in ready if topology.hosts in p.variant.hosts], run, runs):
                    results.append(converge(topology, prepared, run))
                    print('converge run %d/%d, %d hosts, %s: %.1f s, re-run %.1f s (changed %d)' % (
                        run, runs, topology.hosts, prepared.variant.key, results[-1].wall, results[-1].rerun,
                        results[-1].changed), file=sys.stderr)
    return results
