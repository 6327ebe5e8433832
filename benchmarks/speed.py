"""Section "Speed against the code before the change and against ansible-redis" of docs/benchmarks.md.

Imported by benchmarks/report.py. Works on the converge runs of every variant
(benchmarks/converge.py, benchmarks/variants.py) and turns their medians into
the ratios issue 11 (item 5) asks for, each with its target and a verdict.
Also the `.ci/run` time (item 7), which the harness cannot measure itself (it
needs a bare machine): read from benchmarks/ci-time.txt when someone wrote it.
"""
from __future__ import annotations

import statistics
from pathlib import Path
from typing import Callable, Iterable

import converge
import variants

Metric = Callable[[converge.Converge], float | None]
CI_TIME = Path(__file__).resolve().parent / 'ci-time.txt'
CI_FIELDS = ('seconds', 'date', 'machine', 'commit')

RERUN_VS_OLD = 0.35
CONVERGE_VS_OLD = 0.7
SIX_VS_THREE_RERUN = 2.0
CPU_CONVERGE = 4.0    # ansible CPU seconds per host
CPU_RERUN = 1.5
CONVERGE_VS_AR = 0.5
RERUN_VS_AR = 0.3


def wall(run: converge.Converge) -> float:
    return run.wall


def rerun(run: converge.Converge) -> float:
    return run.rerun


def cpu_total_converge(run: converge.Converge) -> float:
    return run.cpu.ansible


def cpu_total_rerun(run: converge.Converge) -> float | None:
    return None if run.rerun_cpu is None else run.rerun_cpu.ansible


def cpu_converge(run: converge.Converge) -> float:
    return cpu_total_converge(run) / run.hosts


def cpu_rerun(run: converge.Converge) -> float | None:
    total = cpu_total_rerun(run)
    return None if total is None else total / run.hosts


def median(values: Iterable[float | None]) -> float | None:
    values = list(values)
    return None if not values or None in values else statistics.median(values)


def of(converges: list[converge.Converge], key: str, hosts: int) -> list[converge.Converge]:
    return [run for run in converges if run.variant == key and run.hosts == hosts]


def med(converges: list[converge.Converge], key: str, hosts: int, metric: Metric) -> float | None:
    return median(map(metric, of(converges, key, hosts)))


def verdict(passed: bool) -> str:
    return 'pass' if passed else '**FAIL**'


def figure(value: float | None, digits: int = 1) -> str:
    return '-' if value is None else '%.*f' % (digits, value)


def ratio_row(label: str, target: float | None, mine: float | None, theirs: float | None) -> list[str]:
    """mine / theirs against target (None: no target, the figure only)."""
    if mine is None or not theirs:
        return [label, 'not measured', '-']
    value = mine / theirs
    return [label, '%.2f x (%.1f s / %.1f s)' % (value, mine, theirs), '-' if target is None else verdict(value <= target)]


def limit_row(label: str, target: float, value: float | None) -> list[str]:
    return [label, 'not measured', '-'] if value is None else [label, '%.2f s' % value, verdict(value <= target)]


def same_code_rows(converges: list[converge.Converge], mine: str, old: str, how: str) -> list[list[str]]:
    """The ratios against the code before the change and the CPU limits, for one way of running it (3 hosts)."""
    return [
        ratio_row('3-host re-run, %s: <= %.2f x %s\'s' % (how, RERUN_VS_OLD, variants.BEFORE), RERUN_VS_OLD,
                  med(converges, mine, 3, rerun), med(converges, old, 3, rerun)),
        ratio_row('3-host bare converge (firewalld), %s: <= %.1f x %s\'s' % (how, CONVERGE_VS_OLD, variants.BEFORE),
                  CONVERGE_VS_OLD, med(converges, mine, 3, wall), med(converges, old, 3, wall)),
        limit_row('ansible CPU per host, converge, %s: <= %.1f s' % (how, CPU_CONVERGE), CPU_CONVERGE,
                  med(converges, mine, 3, cpu_converge)),
        limit_row('ansible CPU per host, re-run, %s: <= %.1f s' % (how, CPU_RERUN), CPU_RERUN,
                  med(converges, mine, 3, cpu_rerun)),
    ]


def starts_ok(run: converge.Converge) -> bool:
    """Every Redis/Sentinel unit on every host started once and never stopped."""
    units = [counts for host in run.starts.values() for counts in host.values()]
    return bool(units) and all(counts == (1, 0) for counts in units)


def changed_row(converges: list[converge.Converge], key: str, how: str) -> list[str]:
    runs = [run for run in converges if run.variant == key]
    if not runs:
        return ['re-run changed = 0, %s, every run' % how, 'not measured', '-']
    return ['re-run changed = 0, %s, every run' % how, 'changed %s' % '/'.join(str(r.changed) for r in runs),
            verdict(not any(r.changed for r in runs))]


def six_vs_three(converges: list[converge.Converge]) -> list[str]:
    return ratio_row('6-host re-run <= %.0f x 3-host re-run (this checkout)' % SIX_VS_THREE_RERUN, SIX_VS_THREE_RERUN,
                     med(converges, variants.HEAD.key, 6, rerun), med(converges, variants.HEAD.key, 3, rerun))


def target_rows(converges: list[converge.Converge]) -> list[list[str]]:
    """Every item-5 target."""
    return three_host_rows(converges) + [six_vs_three(converges)]


def three_host_rows(converges: list[converge.Converge]) -> list[list[str]]:
    head, ar = variants.HEAD.key, variants.ANSIBLE_REDIS.key
    heads = [run for run in converges if run.variant == head]
    return (same_code_rows(converges, head, variants.OLD.key, 'as the repo runs it')
            + [changed_row(converges, head, 'as the repo runs it'),
               ['one start per service on a bare host, no stop (every host, every run)',
                '%d of %d runs' % (sum(map(starts_ok, heads)), len(heads)), verdict(bool(heads) and all(map(starts_ok, heads)))]]
            + same_code_rows(converges, variants.HEAD_USER.key, variants.OLD_USER.key, 'installed artifact')
            + [changed_row(converges, variants.HEAD_USER.key, 'installed artifact'),
               ratio_row('3-host bare converge <= %.1f x ansible-redis\'s' % CONVERGE_VS_AR, CONVERGE_VS_AR,
                         med(converges, head, 3, wall), med(converges, ar, 3, wall)),
               ratio_row('3-host re-run <= %.1f x ansible-redis\'s' % RERUN_VS_AR, RERUN_VS_AR,
                         med(converges, head, 3, rerun), med(converges, ar, 3, rerun))])


def six_host_rows(converges: list[converge.Converge]) -> list[list[str]]:
    """At 6 hosts the issue sets no target but the 6/3 one: the ratios for reading only."""
    head = variants.HEAD.key
    rows = [six_vs_three(converges)]
    for other in (variants.OLD, variants.ANSIBLE_REDIS):
        for label, metric in (('bare converge', wall), ('re-run', rerun)):
            rows.append(ratio_row('6-host %s against %s (no target)' % (label, other.label), None,
                                  med(converges, head, 6, metric), med(converges, other.key, 6, metric)))
    for variant in (variants.HEAD, variants.OLD, variants.ANSIBLE_REDIS):
        for label, metric in (('bare converge', cpu_total_converge), ('re-run', cpu_total_rerun)):
            rows.append(added_host_row(converges, variant, label, metric))
    return rows


def added_host_row(converges: list[converge.Converge], variant: variants.Variant, label: str,
                   metric: Metric) -> list[str]:
    """The ansible CPU each host beyond the third adds, (6-host - 3-host) / 3 of the medians: what a
    controller driving many hosts pays per host, without the run's fixed part (payload builds, the
    preflight, the Sentinels asked once) that the per-host average of a 3-host run carries."""
    six, three = med(converges, variant.key, 6, metric), med(converges, variant.key, 3, metric)
    text = ('ansible CPU per host beyond the third, %s, %s: (6-host - 3-host) / 3 (no target)'
            % (label, variant.label))
    if six is None or three is None:
        return [text, 'not measured', '-']
    return [text, '%.2f s (%.1f s - %.1f s)' % ((six - three) / 3, six, three), '-']


def variant_rows(converges: list[converge.Converge], hosts: int) -> list[list[str]]:
    rows = []
    for variant in variants.ALL:
        runs = of(converges, variant.key, hosts)
        if runs:
            rows.append(['%s (`%s`)' % (variant.label, variant.key), str(len(runs)),
                         figure(median(map(wall, runs))), figure(median(map(rerun, runs))),
                         '/'.join(str(r.changed) for r in runs), figure(median(map(cpu_converge, runs)), 2),
                         figure(median(map(cpu_rerun, runs)), 2),
                         figure(median(r.settle for r in runs)) if variant is variants.ANSIBLE_REDIS else 'in converge'])
    return rows


def table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + ' --- |' * len(header)]
    return lines + ['| ' + ' | '.join(row) + ' |' for row in rows] + ['']


def starts_text(host: dict[str, tuple[int, int]]) -> str:
    return ', '.join('%s %d/%d' % (unit, started, stopped) for unit, (started, stopped) in host.items()) or 'none'


def starts_rows(converges: list[converge.Converge]) -> list[list[str]]:
    """The last 3-host run of each variant: each host's units, started/stopping counts."""
    rows = []
    for variant in variants.ALL:
        runs = of(converges, variant.key, 3)
        if runs:
            rows += [[variant.key, host, starts_text(units)] for host, units in runs[-1].starts.items()]
    return rows


METHOD = (
    'Method (`benchmarks/variants.py`, `benchmarks/converge.py`): in the same run, alternating (the order is reversed '
    'every other run), each variant converges fresh lab containers (`lab/lab.sh down`, `lab/lab.sh up`, not timed) and '
    'is timed from start to exit of ansible-playbook (bare converge), then again on the converged hosts (re-run, with '
    'the recap\'s changed sum). Variants: **head** is this checkout as the repo runs it (`playbooks/site.yml`, the '
    'checkout linked as the collection, ANSIBLE_PIPELINING=true, the repository\'s ansible.cfg: '
    'internal_poll_interval 0.005); **head-user** is this checkout as a new user runs '
    'it: `ansible-galaxy collection build`, `ansible-galaxy collection install --no-deps` into a temporary directory '
    'whose ansible.cfg only sets collections_path, `ansible-playbook redisops.sentinel.site` there with no ANSIBLE_* '
    'variable from the caller (so no pipelining); **old** and **old-user** are the same for commit %s, the code before '
    'the roles were rebuilt (a `git archive` of it with its own collection link; old runs with the same ansible.cfg '
    'as head); **ansible-redis** is '
    'DavidWittman/ansible-redis, vendored unmodified in `benchmarks/thirdparty/ansible-redis`, in its apt mode with '
    'pipelining and the same ansible.cfg, on the same hosts and topology (playbook and inventory written by '
    '`benchmarks/ansible_redis.py`; it '
    'manages no firewall, so its hosts run without firewalld, ours with it; it does not wait for replication or '
    'Sentinel agreement, so the harness polls for that after it exits: healthy after). All variants use the JSON '
    'stdout callback and the phase_timer callback (the harness reads the recap from them); the 3-host runs use '
    '`lab/inventory.yml`. Ansible CPU per host is the CPU seconds (user + system) of ansible-playbook and every '
    'process it waited for (the `docker exec` clients of the lab\'s connection included) over the number of hosts. '
    'Starts: systemd\'s own journal messages in each container after the bare converge, "started"/"stopping" per '
    'Redis or Sentinel unit (a restart counts one of each).')


def section(converges: list[converge.Converge]) -> list[str]:
    header = ['code', 'runs', 'converge s', 're-run s', 're-run changed', 'ansible CPU/host converge s',
              'ansible CPU/host re-run s', 'healthy after s']
    lines = ['## Speed against the code before the change and against ansible-redis', '', METHOD % variants.BEFORE, '']
    for hosts, rows in ((3, three_host_rows(converges)), (6, six_host_rows(converges))):
        lines += ['### %d hosts' % hosts, '', 'Medians:', ''] + table(header, variant_rows(converges, hosts))
        lines += ['Ratios (medians) and targets:', ''] + table(['target', 'figure', 'result'], rows)
    lines += ['### Starts per service on a bare host', '',
              'Each host\'s Redis and Sentinel units after the last 3-host bare converge of each variant, as '
              '"unit started/stopping" (target for this checkout: 1/0 for every unit, no start-then-restart).', '']
    return lines + table(['code', 'host', 'units'], starts_rows(converges))


def ci_time() -> dict[str, str] | None:
    """benchmarks/ci-time.txt: lines `seconds: N`, `date: YYYY-MM-DD`, `machine: ...`, `commit: ...`."""
    if not CI_TIME.exists():
        return None
    lines = (line for line in CI_TIME.read_text().splitlines() if ':' in line and not line.startswith('#'))
    pairs = (line.split(':', 1) for line in lines)
    found = {key.strip(): value.strip() for key, value in pairs}
    complete = all(found.get(key) for key in CI_FIELDS) and found['seconds'].isdigit()
    return found if complete else None


def ci_section() -> list[str]:
    found = ci_time()
    if found is None:
        figure_text = ('**not measured yet** (or `benchmarks/ci-time.txt` lacks a field). Run `.ci/run` on a bare machine (a fresh Debian 12 with only package '
                       'registries reachable), then write `benchmarks/ci-time.txt` with the lines `seconds: N` (the '
                       '"CI finished in N s" it prints), `date: YYYY-MM-DD`, `machine: cores, memory, CPU model` and '
                       '`commit: HASH`, and regenerate this report.')
    else:
        figure_text = '%s s (%.0f min), measured on %s on %s, at commit %s (from `benchmarks/ci-time.txt`).' % (
            found['seconds'], float(found['seconds']) / 60, found['date'], found['machine'], found['commit'])
    return ['## CI time on a bare machine', '',
            'The whole of `.ci/run` (`make test`: setup from nothing, lint, sanity, unit tests, every molecule '
            'scenario) on a bare machine, timed by `.ci/run` itself. Not measured by `make bench`, which needs the lab '
            'built: ' + figure_text, '']
