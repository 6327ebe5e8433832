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
"""
from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import failover

LAB = str(failover.TOP / 'lab' / 'lab.sh')
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


def converge(topology: Topology, path: str, run: int) -> Converge:
    """Fresh containers, then a timed converge and a timed re-run."""
    lab('down', topology.hosts)
    lab('up', topology.hosts)
    ids = container_ids(topology.hosts)
    load = os.getloadavg()[0]
    before = cpu(ids)
    bare = failover.playbook('site.yml', [], 'converge-%dh-%d' % (topology.hosts, run), path, topology.forks)
    used = cpu(ids) - before
    again = failover.playbook('site.yml', [], 'rerun-%dh-%d' % (topology.hosts, run), path, topology.forks)
    return Converge(topology.hosts, load, bare.wall, *phases(bare.stderr), used, again.wall,
                    failover.changed_total(again.output))


def measure(runs: int) -> list[Converge]:
    """``runs`` runs of 6 then 3 hosts; leaves the 3-host lab converged."""
    results = []
    with tempfile.TemporaryDirectory(prefix='redisops-bench-') as tmp:
        paths = {SIX: write_inventory(SIX, Path(tmp)), THREE: failover.INVENTORY}
        for run in range(1, runs + 1):
            for topology in (SIX, THREE):
                results.append(converge(topology, paths[topology], run))
                print('converge run %d/%d, %d hosts: %.1f s, re-run %.1f s' % (
                    run, runs, topology.hosts, results[-1].wall, results[-1].rerun), file=sys.stderr)
    return results
