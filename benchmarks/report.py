"""Run every benchmark and write docs/benchmarks.md.

Usage: `make bench`, or with the Makefile's environment (.venv/bin first on
PATH, dockerd running, the lab image built): python benchmarks/report.py.
BENCH_RUNS (default 3) sets how many runs each lab measurement takes; the
report gives each run and the median. Takes the lab containers (redisops-lab-*)
over: recreates them for every converge run and leaves the 3-host lab converged
and healthy. Exits 1 without writing the report when a measurement fails.

The converge runs compare this checkout with the code before the change and
with DavidWittman/ansible-redis (benchmarks/variants.py, benchmarks/speed.py).
Knobs for a shorter run (the default does everything):
- BENCH_ONLY=speed: only the converge and re-run comparison, no failover,
  faults, switchover or readiness; the report then goes to
  benchmarks/results/speed.md (ignored by git), not docs/benchmarks.md;
- BENCH_VARIANTS=head,old,...: only these variants (head always; keys in
  benchmarks/variants.py);
- BENCH_REPORT=PATH: write the report there instead.
"""
from __future__ import annotations

import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import redis
from ansible.release import __version__ as ANSIBLE_CORE

import converge
import failover
import faults
import readiness
import reshard
import speed
import variants

REPORT = failover.TOP / 'docs' / 'benchmarks.md'
PARTIAL_REPORT = failover.TOP / 'benchmarks' / 'results' / 'speed.md'
# The write gap through HAProxy, measured by the molecule scenario secure
# (molecule/resources/proxy_writer.py), not by make bench: kept by hand in this
# file and copied to the end of the report.
PROXY_GAP = failover.TOP / 'benchmarks' / 'proxy-gap.md'
# The lab cluster's converge and failover (benchmarks/cluster.py, which
# recreates the lab): kept by hand the same way.
CLUSTER_LAB = failover.TOP / 'benchmarks' / 'cluster-lab.md'
IMAGE = 'redisops-lab/debian:%s' % os.environ.get('REDISOPS_LAB_SUITE', 'bookworm')
COMMAND = 'make bench'
RATIO_TARGET = 1.4
READINESS_TARGET = 0.5
FAILOVER_TARGET = failover.DOWN_AFTER_MS / 1000 + 3
LAB_NETWORK = 'redisops-lab'


@dataclass
class Machine:
    cpu: str
    memory: str
    kernel: str
    docker: str
    image: str
    tools: str
    code: str
    load: tuple[float, float, float]  # load average when the run started
    others: int      # running containers that are not the lab's


@dataclass
class Results:
    converges: list[converge.Converge]
    failovers: failover.Figures | None   # None with BENCH_ONLY=speed, as the next two
    faults: list[faults.Outcome] | None
    readiness: list[float] | None
    reshards: list[reshard.Figure] | None
    redis: str       # Redis and Debian in the lab containers
    load: str        # load average when the run ended
    minutes: float   # the whole run


# --- the machine ---------------------------------------------------------------------------------

def output(args: list[str]) -> str:
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else 'unknown'


def cpu() -> str:
    models = re.findall(r'^model name\s*:\s*(.+)$', Path('/proc/cpuinfo').read_text(), re.MULTILINE)
    return '%d cores (%s)' % (os.cpu_count() or 0, models[0] if models else platform.machine())


def memory() -> str:
    kib = int(re.search(r'^MemTotal:\s*(\d+)', Path('/proc/meminfo').read_text(), re.MULTILINE).group(1))
    return '%.1f GiB' % (kib / 1048576)


def load_text(load: tuple[float, float, float]) -> str:
    return '%.2f, %.2f, %.2f (1, 5, 15 min)' % load


def image() -> str:
    built = output(['docker', 'image', 'inspect', '--format', '{{slice .Id 7 19}}, built {{slice .Created 0 10}}', IMAGE])
    return '%s (%s)' % (IMAGE, built)


def code() -> str:
    head = output(['git', '-C', str(failover.TOP), 'log', '-1', '--format=%h (%cs) %s'])
    dirty = output(['git', '-C', str(failover.TOP), 'status', '--porcelain', '--', 'roles', 'plugins', 'playbooks'])
    changes = len(dirty.splitlines()) if dirty != 'unknown' else 0
    return 'commit %s%s' % (head, ', plus %d uncommitted changes in roles/, plugins/, playbooks/' % changes if changes else '')


def other_containers() -> int:
    names = output(['docker', 'ps', '--format', '{{.Names}}']).split()
    return sum(1 for name in names if not re.fullmatch(r'redisops-lab-\d+', name) and name != 'unknown')


def machine() -> Machine:
    return Machine(cpu(), memory(), '%s %s' % (platform.system(), platform.release()),
                   'Docker %s' % output(['docker', 'version', '--format', '{{.Server.Version}}']), image(),
                   'ansible-core %s, Python %s, redis-py %s' % (ANSIBLE_CORE, platform.python_version(), redis.__version__),
                   code(), os.getloadavg(), other_containers())


def lab_versions() -> str:
    container = converge.name(1)
    return 'Redis %s (Debian package redis-server %s), Debian %s' % (
        failover.docker_exec(container, "redis-server --version | sed -E 's/.* v=([^ ]+) .*/\\1/'"),
        failover.docker_exec(container, "dpkg-query -W -f '${Version}' redis-server"),
        failover.docker_exec(container, 'cat /etc/debian_version'))


# --- figures -----------------------------------------------------------------------------------------

def median(values: Iterable[float | None]) -> float | None:
    """The median, None when there are no values or one is unknown."""
    values = list(values)
    return None if not values or None in values else statistics.median(values)


def verdict(passed: bool) -> str:
    return 'pass' if passed else '**FAIL**'


def of(results: Results, hosts: int) -> list[converge.Converge]:
    """This checkout's runs (as the repo runs it) on that many hosts."""
    return [run for run in results.converges if run.hosts == hosts and run.variant == variants.HEAD.key]


def ratio(results: Results, metric: Callable[[converge.Converge], float | None] = lambda r: r.wall) -> float | None:
    """6 hosts against 3, medians."""
    six, three = median(map(metric, of(results, 6))), median(map(metric, of(results, 3)))
    return None if six is None or not three else six / three


def table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + ' --- |' * len(header)]
    return lines + ['| ' + ' | '.join(row) + ' |' for row in rows] + ['']


def seconds(value: float | None, digits: int = 1) -> str:
    return '-' if value is None else '%.*f' % (digits, value)


def cpu_floor(run: converge.Converge) -> float | None:
    """The least wall time the CPU seconds of ansible and the lab hosts need on this machine's cores."""
    return None if run.cpu.lab is None else (run.cpu.ansible + run.cpu.lab) / (os.cpu_count() or 1)


def busy(run: converge.Converge) -> float:
    """How much of the machine's cores the whole machine used during the converge, in percent."""
    return 100 * run.cpu.machine / run.wall / (os.cpu_count() or 1)


def runs_and_median(items: list[Any], row: Callable[[Any], list[str]], medians: list[str]) -> list[list[str]]:
    return [[str(i)] + row(item) for i, item in enumerate(items, 1)] + [['**median**'] + medians]


# --- sections ----------------------------------------------------------------------------------------

def targets(results: Results) -> list[str]:
    changed = [run.changed for run in of(results, 6) + of(results, 3)]
    rows = [
        ['6-host converge <= %.1f x 3-host converge (medians)' % RATIO_TARGET,
         '%.2f x (%.1f s / %.1f s)' % (ratio(results), median(r.wall for r in of(results, 6)),
                                       median(r.wall for r in of(results, 3))),
         verdict(ratio(results) <= RATIO_TARGET)],
        ['idempotent re-run: changed = 0, every run, 3 and 6 hosts', 'changed %s' % '/'.join(map(str, changed)),
         verdict(not any(changed))],
    ] + speed.target_rows(results.converges)
    if results.failovers is not None:
        rows += lab_rows(results)
    return ['## Targets', ''] + table(['target', 'figure', 'result'], rows)


def lab_rows(results: Results) -> list[list[str]]:
    """The failover, switchover, fault and readiness targets."""
    unplanned, reruns, switchovers = results.failovers.unplanned, results.failovers.reruns, results.failovers.switchovers
    return [
        ['unplanned failover: every Sentinel agrees within down-after + 3 s = %.1f s, every run' % FAILOVER_TARGET,
         'max %.2f s, median %.2f s' % (max(r.every for r in unplanned), median(r.every for r in unplanned)),
         verdict(all(r.every <= FAILOVER_TARGET for r in unplanned))],
        ['re-run after the failover: changed = 0, every run', 'changed %s' % '/'.join(str(r.changed) for r in reruns),
         verdict(not any(r.changed for r in reruns))],
        ['planned switchover under writes: no acknowledged write lost, every run',
         'missing %s' % '/'.join(str(s.lost) for s in switchovers), verdict(not any(s.lost for s in switchovers))],
        ['unplanned faults (%d kinds): no acknowledged write lost' % len(results.faults),
         'lost %s' % '/'.join(str(o.lost) for o in results.faults), verdict(not any(o.lost for o in results.faults))],
        ['replica_wait readiness delay: median < %.1f s' % READINESS_TARGET, 'median %.3f s' % median(results.readiness),
         verdict(median(results.readiness) < READINESS_TARGET)],
    ]


def machine_section(box: Machine, results: Results) -> list[str]:
    return ['## Machine', '',
            '- CPU: %s; memory %s; %s' % (box.cpu, box.memory, box.kernel),
            '- %s; lab image %s' % (box.docker, box.image),
            '- in the lab containers: %s' % results.redis,
            '- controller: %s' % box.tools,
            '- code measured: %s' % box.code,
            '- load average at the start: %s; at the end: %s' % (load_text(box.load), results.load),
            '- other containers running at the start: %d. %s' % (box.others, idle(box)),
            '']


def idle(box: Machine) -> str:
    if box.others or box.load[0] > 0.5:
        return ('The machine was not idle: other work shared its cores, so these figures are slower and noisier than '
                'on an idle machine (the converge tables give the load at the start of each run).')
    return 'The machine was otherwise idle.'


def topologies_section() -> list[str]:
    return ['## Lab', '',
            'Systemd containers from the lab image on the Docker network redisops-lab (172.28.61.0/24), '
            'created by `lab/lab.sh up` (REDISOPS_LAB_HOSTS=6 for six), firewalld enabled by the roles, '
            'ansible over `docker exec` (community.docker.docker) with pipelining.', '',
            '- 3 hosts, `lab/inventory.yml`: %s.' % converge.THREE.describe(),
            '- 6 hosts, an inventory the script generates into a temporary file: %s. Five Sentinels, not six: an '
            'odd count whose majority (3) survives the loss of any two hosts; a sixth would add load and no '
            'tolerance.' % converge.SIX.describe(),
            '- `--forks` is at least the host count in every run (ansible\'s default of 5 would run the sixth '
            'host\'s tasks after the other five).',
            '- Packages come from the Debian mirror the image was built from, over the network: the install phase '
            'depends on it.',
            '']


METRICS: list[tuple[str, Callable[[converge.Converge], float | None]]] = [
    ('converge', lambda r: r.wall), ('install', lambda r: r.install), ('configure', lambda r: r.configure),
    ('wait', lambda r: r.wait), ('ansible CPU', lambda r: r.cpu.ansible), ('lab hosts CPU', lambda r: r.cpu.lab),
    ('machine CPU', lambda r: r.cpu.machine), ('CPU floor', cpu_floor)]
CONVERGE_METHOD = (
    'Method: per run, `lab/lab.sh down`, then fresh containers from the bare image (`lab/lab.sh up`, not timed), then '
    '`ansible-playbook playbooks/site.yml`, timed from start to exit (converge). The phase_timer callback '
    '(`benchmarks/callback_plugins`) splits that time into install (tasks tagged redis_install), wait (tagged '
    'redis_wait) and configure (everything else, fact gathering and preflight included); in the free-strategy server '
    'play the time goes to the task that started last on any host. Each run does 6 hosts, then 3. Load is the '
    '1-minute load average just before the playbook started. The lab hosts share the machine\'s cores with ansible, '
    'so the CPU seconds (user + system) used during the converge are given too: ansible\'s (ansible-playbook and '
    'every process it waited for, the `docker exec` clients included), the lab hosts\' (their containers\' cgroups: '
    'modules, apt and dpkg, services), the whole machine\'s (`/proc/stat`: also dockerd, containerd and any other '
    'work); CPU floor is (ansible + lab hosts CPU) / cores, the least time that work alone needs on this machine; '
    'busy is the machine\'s CPU seconds over the cores\' capacity during the converge.')


def converge_table(runs: list[converge.Converge]) -> list[str]:
    medians = ['%.2f' % median(r.load for r in runs)] + [seconds(median(map(metric, runs))) for label, metric in METRICS]
    rows = runs_and_median(runs, lambda r: ['%.2f' % r.load] + [seconds(metric(r)) for label, metric in METRICS]
                           + ['%.0f %%' % busy(r)], medians + ['%.0f %%' % median(map(busy, runs))])
    return table(['run', 'load'] + [label + ' s' for label, metric in METRICS] + ['busy'], rows)


def converge_section(results: Results) -> list[str]:
    lines = ['## Converge from bare hosts', '', CONVERGE_METHOD, '']
    for hosts in (3, 6):
        lines += ['%d hosts:' % hosts, ''] + converge_table(of(results, hosts))
    rows = [[label, seconds(median(map(metric, of(results, 3)))), seconds(median(map(metric, of(results, 6)))),
             seconds(ratio(results, metric), 2)] for label, metric in METRICS]
    return lines + ['6 hosts against 3, medians:', ''] + table(['figure', '3 hosts s', '6 hosts s', '6 / 3'], rows) + cpu_note(results)


def per_host(results: Results, hosts: int, metric: Callable[[converge.Converge], float | None]) -> float | None:
    value = median(map(metric, of(results, hosts)))
    return None if value is None else value / hosts


def cpu_note(results: Results) -> list[str]:
    """Where the converge time goes: the CPU work per host, and what sharing the cores means."""
    figures = [per_host(results, hosts, metric) for metric in (lambda r: r.cpu.ansible, lambda r: r.cpu.lab) for hosts in (3, 6)]
    if None in figures or ratio(results, cpu_floor) is None:
        return []
    return ['Per host, ansible used %.1f CPU s with 3 hosts and %.1f with 6, and the lab host itself %.1f and %.1f: the '
            'work grows with the number of hosts, and in the lab all of it runs on the same %d cores, so the CPU floor '
            'of 6 hosts is %.2f times that of 3. On real hosts only ansible\'s share runs on one machine (the '
            'controller); each host\'s own share runs on that host.' % tuple(figures + [os.cpu_count() or 1, ratio(results, cpu_floor)]),
            '']


def rerun_section(results: Results) -> list[str]:
    three, six = of(results, 3), of(results, 6)
    rows = [[str(i), seconds(a.rerun), str(a.changed), seconds(b.rerun), str(b.changed)]
            for i, (a, b) in enumerate(zip(three, six), 1)]
    rows.append(['**median**', seconds(median(r.rerun for r in three)), '', seconds(median(r.rerun for r in six)), ''])
    return ['## Idempotent re-run', '',
            'Method: `playbooks/site.yml` again right after each converge above, on the same hosts, timed the same '
            'way; changed is the sum of the changed counts of its recap (target 0).', '',
            ] + table(['run', '3 hosts s', '3 hosts changed', '6 hosts s', '6 hosts changed'], rows)


UNPLANNED_METHOD = (
    'Method: on the converged 3-host lab, Sentinel\'s down-after-milliseconds is set to %d (live, through site.yml). '
    'The master\'s redis-server gets SIGSTOP (`systemctl kill`, a hung master; the unit stays as the roles leave it: '
    'a master killed outright is restarted by its unit with its data and does not fail over, see the fault table); '
    'the clock starts when the signal was sent. Every Sentinel is then polled every %d ms for the master it reports: '
    'seconds until the first, then every Sentinel reports the same new master (target: every Sentinel within '
    'down-after + 3 s = %.1f s). Then SIGCONT: seconds until the old master is a replica of the new one with its '
    'link up.')


def unplanned_section(results: Results) -> list[str]:
    runs, reruns = results.failovers.unplanned, results.failovers.reruns
    method = UNPLANNED_METHOD % (failover.DOWN_AFTER_MS, failover.POLL * 1000, FAILOVER_TARGET)
    failovers = runs_and_median(
        runs, lambda r: ['%s -> %s' % (r.old, r.new), seconds(r.first, 2), seconds(r.every, 2), seconds(r.rejoin)],
        ['', seconds(median(r.first for r in runs), 2), seconds(median(r.every for r in runs), 2),
         seconds(median(r.rejoin for r in runs))])
    again = runs_and_median(reruns, lambda r: [seconds(r.wall), str(r.changed)], [seconds(median(r.wall for r in reruns)), ''])
    return (['## Unplanned failover (3 hosts)', '', method, '']
            + table(['run', 'old -> new master', 'first Sentinel s', 'every Sentinel s', 'old master linked s'], failovers)
            + ['Re-run of `playbooks/site.yml` right after each failover (the lab healthy again, the old master now a '
               'replica), timed from start to exit; changed is the recap\'s sum (target 0):', '']
            + table(['run', 're-run s', 'changed'], again))


SWITCHOVER_METHOD = (
    'Method: a writer runs SET bench:N, then WAIT 1 %d on one connection; a write is acknowledged when WAIT reports a '
    'replica. On an error, or when WAIT reports none while the Sentinels name another master, it finds the master '
    'again through the Sentinels. After %.0f s of writes, `playbooks/switchover.yml` runs (timed from start to exit). '
    'Module is the sentinel_failover module\'s own elapsed time, write pause the pause it reports; rate is '
    'acknowledged writes per second while the playbook ran (before it in brackets); gap is the longest time without '
    'an acknowledged write while it ran; missing counts acknowledged keys absent on the new master afterwards '
    '(target 0).')


def switchover_section(results: Results) -> list[str]:
    runs = results.failovers.switchovers
    medians = ['', seconds(median(s.elapsed for s in runs)), seconds(pause_median(runs), 3), seconds(median(s.wall for s in runs)),
               '%.0f (%.0f)' % (median(s.rate for s in runs), median(s.baseline for s in runs)),
               seconds(median(s.stall for s in runs), 2)] + [''] * 6
    header = ['run', 'old -> new master', 'module s', 'write pause s', 'playbook s', 'rate /s', 'gap s',
              'sent', 'acked', 'unacked', 'errors', 'connections', 'missing']
    return (['## Planned switchover under writes (3 hosts)', '',
             SWITCHOVER_METHOD % (failover.WAIT_TIMEOUT_MS, failover.BASELINE), '']
            + table(header, runs_and_median(runs, switchover_row, medians)))


def pause_median(runs: list[failover.Switchover]) -> float | None:
    pauses = [s.pause for s in runs if s.pause is not None]
    return median(pauses) if pauses else None


def switchover_row(s: failover.Switchover) -> list[str]:
    w = s.writes
    errors = ', '.join('%s %d' % item for item in sorted(w.errors.items())) or 'none'
    return ['%s -> %s' % (s.old, s.new), seconds(s.elapsed), seconds(s.pause, 3), seconds(s.wall),
            '%.0f (%.0f)' % (s.rate, s.baseline), seconds(s.stall, 2), str(w.sent), str(len(w.acked)), str(w.unacked),
            errors, str(w.reconnects), str(s.lost)]


FAULTS_METHOD = (
    'Method (`benchmarks/faults.py`, the same code the molecule failover scenario runs): on the converged 3-host lab '
    '(firewalld on, Sentinel down-after %d ms, every unit as the roles leave it, Restart=always included), a writer on '
    'this host finds the master through the Sentinels and sends `SET fault:N` then `WAIT %d %d` on one connection; a '
    'key is acknowledged when WAIT reports a replica (reboot all: every replica, since the Sentinels promote whichever '
    'replica boots first). Each fault is injected once; the harness then polls until every '
    'Sentinel agrees on one master that reports role master and every other data node is its linked replica, lets '
    'the writer get %d more acknowledgements and counts the acknowledged keys missing on the master (target: 0). '
    'Unavailable: first failed write to the first acknowledged write again (0: no write failed); healthy after: from '
    'the fault until the group is healthy with every Sentinel agreeing.')


def faults_section(results: Results) -> list[str]:
    return (['## Unplanned faults: acknowledged writes lost', '',
             FAULTS_METHOD % (failover.DOWN_AFTER_MS, faults.WAIT_REPLICAS, faults.WAIT_MS, faults.AFTER_HEAL), '']
            + faults.table(results.faults) + [''])


def readiness_section(results: Results) -> list[str]:
    return ['## Readiness delay of replica_wait', '',
            'Method (`benchmarks/readiness.py`, local redis-server processes, no lab): a replica points at a master '
            'port with nothing behind it; the replica_wait module\'s own poll loop (poll_interval %.1f s) and an '
            'independent 2 ms INFO poller watch it; then the master starts. The delay runs from the poller\'s first '
            'master_link_status:up to the module\'s loop returning ready. %d runs (target: median < %.1f s).'
            % (readiness.POLL_INTERVAL, readiness.RUNS, READINESS_TARGET), '',
            'Delays, s: %s; median %.3f s, max %.3f s.' % (
                ', '.join('%.3f' % d for d in results.readiness), median(results.readiness), max(results.readiness)),
            '']


def knobs() -> str:
    """The BENCH_* settings of this run other than BENCH_RUNS, for the heading."""
    found = ['%s=%s' % (name, os.environ[name]) for name in ('BENCH_ONLY', 'BENCH_VARIANTS') if os.environ.get(name)]
    return ' and %s (a partial run)' % ', '.join(found) if found else ''


def render(box: Machine, results: Results, started: datetime.datetime) -> str:
    runs = len(of(results, 3))
    lines = ['# Benchmarks', '',
             'Generated by `%s` (`benchmarks/report.py`) on %s UTC with BENCH_RUNS=%d%s; the whole run took %.0f '
             'minutes. Do not edit: regenerate with `%s` (`BENCH_RUNS=N %s` for another number of runs). Each table '
             'gives every run and the median.' % (COMMAND, started.strftime('%Y-%m-%d %H:%M'), runs, knobs(),
                                                  results.minutes, COMMAND, COMMAND), '']
    lines += targets(results) + machine_section(box, results) + topologies_section()
    lines += speed.section(results.converges) + converge_section(results) + rerun_section(results)
    if results.failovers is not None:
        lines += unplanned_section(results) + faults_section(results) + switchover_section(results)
        lines += readiness_section(results) + reshard.section(results.reshards) + ['']
    lines += speed.ci_section()
    lines += ['## Afterwards', '',
              'The lab is left converged and healthy as the 3 hosts of `lab/inventory.yml` with the default '
              'settings; `make lab-down` removes it. Each playbook\'s output is in `/tmp/redisops-bench-*.json` '
              'until the next run.', '']
    for kept in (PROXY_GAP, CLUSTER_LAB):
        if kept.exists():
            lines += kept.read_text().splitlines() + ['']
    return '\n'.join(lines)


# --- main ---------------------------------------------------------------------------------------------

def measure(runs: int, only_speed: bool, chosen: tuple[variants.Variant, ...]) -> Results:
    start = time.monotonic()
    converges = converge.measure(runs, chosen)
    if only_speed:
        return Results(converges, None, None, None, None, lab_versions(), load_text(os.getloadavg()),
                       (time.monotonic() - start) / 60)
    failovers = failover.measure(runs)
    print('fault runs', file=sys.stderr)
    lab = failover.read_lab()
    failover.playbook('site.yml', failover.BENCH_VARS, 'faults-converge')
    try:
        sentinels = {s: lab.containers['%s:%d' % (failover.split(s)[0], failover.REDIS_PORT)] for s in lab.sentinels}
        outcomes = faults.run_faults(lab, sentinels, LAB_NETWORK, faults.FAULTS)
    finally:
        failover.playbook('site.yml', [], 'faults-restore')
    print('readiness runs', file=sys.stderr)
    delays = readiness.measure()
    print('resharding runs', file=sys.stderr)
    reshards = reshard.measure()
    return Results(converges, failovers, outcomes, delays, reshards, lab_versions(), load_text(os.getloadavg()),
                   (time.monotonic() - start) / 60)


def errors(exc: BaseException | None) -> Iterable[str]:
    while exc is not None:
        yield '%s: %s' % (type(exc).__name__, exc)
        exc = exc.__context__


def settings() -> tuple[int, bool, tuple[variants.Variant, ...], Path]:
    """BENCH_RUNS, BENCH_ONLY, BENCH_VARIANTS and BENCH_REPORT; raises on a value it does not know."""
    only = os.environ.get('BENCH_ONLY', '')
    if only not in ('', 'all', 'speed'):
        raise failover.BenchError('BENCH_ONLY must be speed or all, not %r' % only)
    runs = os.environ.get('BENCH_RUNS', '3')
    if not runs.isdigit() or int(runs) < 1:
        raise failover.BenchError('BENCH_RUNS must be a number from 1, not %r' % runs)
    chosen = variants.selected(os.environ.get('BENCH_VARIANTS'))
    partial = only == 'speed' or len(chosen) < len(variants.ALL)
    path = os.environ.get('BENCH_REPORT') or (PARTIAL_REPORT if partial else REPORT)
    return int(runs), only == 'speed', chosen, Path(path).resolve()


def main() -> int:
    try:
        runs, only_speed, chosen, report = settings()
    except failover.BenchError as exc:
        print('FAILED: %s' % exc, file=sys.stderr)
        return 2
    started = datetime.datetime.now(datetime.timezone.utc)
    box = machine()
    print('machine: %s, %s; load %s' % (box.cpu, box.memory, load_text(box.load)), file=sys.stderr)
    try:
        results = measure(runs, only_speed, chosen)
    except (failover.BenchError, redis.RedisError, OSError, KeyError) as exc:
        print('FAILED, %s not written: %s' % (report.name, '; raised while handling '.join(errors(exc))), file=sys.stderr)
        return 1
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(render(box, results, started))
    print('\n'.join(targets(results) + speed.section(results.converges)))
    print('written: %s' % report)
    return 0


if __name__ == '__main__':
    sys.exit(main())
