"""The code measured side by side: this checkout and the code before the change, each as the repo runs it and
as a new user runs it, and DavidWittman/ansible-redis.

Imported by benchmarks/converge.py. ``prepare`` readies every variant once per
bench run, in a temporary directory:

- head: this checkout as the repo runs it (`make bench`, `make lab`): playbooks/site.yml with
  ANSIBLE_COLLECTIONS_PATH at the checkout's link (lab/lab.sh link), ANSIBLE_PIPELINING=true and the
  repository's ansible.cfg (ANSIBLE_CONFIG, whatever the directory: old and ansible-redis get the same);
- head-user: this checkout as a new user runs it (README "Install"): `ansible-galaxy collection build`, then
  `ansible-galaxy collection install --no-deps` into a directory whose ansible.cfg has nothing but
  collections_path, then `ansible-playbook redisops.sentinel.site` there, with no ANSIBLE_* variable of the
  caller's environment (the Makefile's ANSIBLE_PIPELINING and ANSIBLE_COLLECTIONS_PATH included);
- old, old-user: the same two for commit BEFORE (6767dc2, the code before the roles were rebuilt), from a
  `git archive` of it with its own collection link;
- ansible-redis: benchmarks/ansible_redis.py, with pipelining and the ansible.cfg like head.

Every variant also gets ANSIBLE_STDOUT_CALLBACK=ansible.builtin.json (the harness reads the recap from it) and
the phase_timer callback: measuring instruments, not settings that change what runs on the hosts.
"""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import ansible_redis
import failover

BEFORE = '6767dc2'
USER_CFG = '[defaults]\ncollections_path = ./collections\n'


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    hosts: tuple[int, ...]   # the lab sizes it is measured on


HEAD = Variant('head', 'this checkout, as the repo runs it', (6, 3))
HEAD_USER = Variant('head-user', 'this checkout, installed artifact, default ansible.cfg', (3,))
OLD = Variant('old', '%s, as the repo runs it' % BEFORE, (6, 3))
OLD_USER = Variant('old-user', '%s, installed artifact, default ansible.cfg' % BEFORE, (3,))
ANSIBLE_REDIS = Variant('ansible-redis', 'DavidWittman/ansible-redis, apt mode', (6, 3))
ALL = (HEAD, HEAD_USER, OLD, OLD_USER, ANSIBLE_REDIS)


@dataclass(frozen=True)
class Prepared:
    variant: Variant
    cwd: Path
    env: dict[str, str]
    playbook: str
    inventories: dict[int, str]   # hosts -> inventory path


def selected(keys: str | None) -> tuple[Variant, ...]:
    """BENCH_VARIANTS (comma-separated keys; head is always measured, the other sections need it)."""
    if not keys:
        return ALL
    wanted = {key.strip() for key in keys.split(',') if key.strip()} | {HEAD.key}
    unknown = wanted - {variant.key for variant in ALL}
    if unknown:
        raise failover.BenchError('BENCH_VARIANTS: unknown %s; known: %s' % (
            ', '.join(sorted(unknown)), ', '.join(variant.key for variant in ALL)))
    return tuple(variant for variant in ALL if variant.key in wanted)


def order(ready: list[Prepared], run: int, runs: int) -> list[Prepared]:
    """Alternating order (reversed every other run), so that the last run ends with head (first in ALL): the
    failover, fault and switchover measurements that follow use the lab it leaves."""
    return list(reversed(ready)) if (runs - run) % 2 == 0 else list(ready)


def check(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise failover.BenchError('%s failed: %s' % (' '.join(args), (proc.stdout + proc.stderr).strip()[-800:]))
    return proc.stdout


def callbacks() -> dict[str, str]:
    return {'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.json',
            'ANSIBLE_CALLBACK_PLUGINS': str(failover.TOP / 'benchmarks' / 'callback_plugins'),
            'ANSIBLE_CALLBACKS_ENABLED': 'phase_timer'}


def repo_env(source: Path) -> dict[str, str]:
    return dict(failover.ansible_env(), ANSIBLE_COLLECTIONS_PATH=str(source / 'playbooks' / 'collections'))


def user_env() -> dict[str, str]:
    """The caller's environment without any ANSIBLE_* variable, this Python's venv first on PATH."""
    env = {name: value for name, value in os.environ.items() if not name.startswith('ANSIBLE_')}
    env['PATH'] = '%s:%s' % (Path(sys.executable).parent, os.environ.get('PATH', ''))
    return dict(env, **callbacks())


def install(source: Path, directory: Path) -> Path:
    """Build the collection at source and install the artifact as README "Install" says; the user's directory."""
    directory.mkdir(parents=True)
    # Written first: ansible-galaxy would otherwise find a copy in ~/.ansible/collections and install nothing.
    (directory / 'ansible.cfg').write_text(USER_CFG)
    env = user_env()
    check(['ansible-galaxy', 'collection', 'build', str(source), '--output-path', str(directory)], cwd=directory, env=env)
    artifact = next(directory.glob('redisops-sentinel-*.tar.gz'))
    check(['ansible-galaxy', 'collection', 'install', '--no-deps', '--force', '-p', str(directory / 'collections'),
           str(artifact)], cwd=directory, env=env)
    if not (directory / 'collections' / 'ansible_collections' / 'redisops' / 'sentinel' / 'playbooks' / 'site.yml').exists():
        raise failover.BenchError('ansible-galaxy collection install of %s left no playbooks/site.yml' % artifact)
    return directory


def checkout_before(directory: Path) -> Path:
    """A git archive of BEFORE with its collection link, as lab/lab.sh link makes it."""
    directory.mkdir(parents=True)
    archive = subprocess.run(['git', '-C', str(failover.TOP), 'archive', BEFORE], capture_output=True, check=False)
    if archive.returncode != 0:
        raise failover.BenchError('git archive %s failed: %s' % (BEFORE, archive.stderr.decode().strip()))
    subprocess.run(['tar', '-x', '-C', str(directory)], input=archive.stdout, check=True)
    check([str(directory / 'lab' / 'lab.sh'), 'link'], env=dict(os.environ, REDISOPS_VENV=str(failover.TOP / '.venv')))
    return directory


def ansible_redis_inventories(tmp: Path, sizes: set[int], sentinels: dict[int, int]) -> tuple[str, dict[int, str]]:
    paths, book = {}, ''
    for hosts in sorted(sizes):
        names = {'redisops-lab-%d' % i: '172.28.61.%d' % (10 + i) for i in range(1, hosts + 1)}
        book, paths[hosts] = ansible_redis.write(tmp / 'ansible-redis', names, 'redisops-lab-1',
                                                 list(names)[:sentinels[hosts]])
    return book, paths


def prepare(variants: tuple[Variant, ...], tmp: Path, inventories: dict[int, str],
            sentinels: dict[int, int]) -> list[Prepared]:
    """Ready each variant once: artifacts built and installed, the old checkout unpacked, playbooks written.
    inventories: our inventory per lab size; sentinels: Sentinels per lab size."""
    keys = {variant.key for variant in variants}
    old = checkout_before(tmp / 'old') if keys & {OLD.key, OLD_USER.key} else None
    ready = []
    for variant in variants:
        ours = {hosts: inventories[hosts] for hosts in variant.hosts}
        if variant is HEAD:
            ready.append(Prepared(variant, failover.TOP, repo_env(failover.TOP), 'playbooks/site.yml', ours))
        elif variant is OLD:
            ready.append(Prepared(variant, old, repo_env(old), 'playbooks/site.yml', ours))
        elif variant in (HEAD_USER, OLD_USER):
            source = failover.TOP if variant is HEAD_USER else old
            ready.append(Prepared(variant, install(source, tmp / variant.key), user_env(), 'redisops.sentinel.site', ours))
        else:
            book, paths = ansible_redis_inventories(tmp, set(variant.hosts), sentinels)
            ready.append(Prepared(variant, tmp, failover.ansible_env(), book, paths))
    return ready
