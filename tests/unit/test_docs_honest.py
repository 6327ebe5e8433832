# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hand-written docs name only what exists: every `redis_*` variable is a role option of an
argument spec (or a listed exception), every playbook path and `redisops.sentinel.*` name exists,
and the example inventories of README.md and docs/quickstart.md put the hosts where the
collection's playbooks find them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / 'README.md'] + list((ROOT / 'docs').glob('*.md')))
BIN = Path(sys.executable).absolute().parent

# Names that look like variables but are something else, and why.
NOT_VARIABLES = {
    'redis_install': 'a tag',
    'redis_configure': 'a tag',
    'redis_wait': 'a tag',
    'redis_port_t': 'the SELinux port type',
    'redis_doctor_fail_on': 'a variable of playbooks/doctor.yml only (-e), not of the roles',
    'redis_doctor_ignore': 'a variable of playbooks/doctor.yml only (-e), not of the roles',
    'redis_backup_dir': 'a variable of playbooks/backup.yml only (-e), not of the roles',
    'redis_backup_timeout': 'a variable of playbooks/backup.yml and restore.yml only (-e), not of the roles',
    'redis_restore_manifest': 'a variable of playbooks/restore.yml only (-e), not of the roles',
    'redis_restore_confirm': 'a variable of playbooks/restore.yml only (-e), not of the roles',
    'redis_up': "a metric of Prometheus' redis exporter",
    'redis_connection': "an attribute of redis-py's ClusterNode, in an error message it raises",
}
# A word that starts with redis_ and is not inside a longer name (_redis_x, __redis_x, x.redis_y is fine).
NAME = re.compile(r'(?<![\w$-])redis_[a-z0-9_]*[a-z0-9]')
PLAYBOOK_PATH = re.compile(r'playbooks/([a-z0-9_]+)\.yml')
FQCN = re.compile(r'redisops\.sentinel\.([a-z0-9_]+)')


def role_options() -> set[str]:
    options = set()
    for spec_file in (ROOT / 'roles').glob('*/meta/argument_specs.yml'):
        specs = yaml.safe_load(spec_file.read_text(encoding='utf-8'))['argument_specs']
        for entry in specs.values():
            options.update(entry.get('options', {}))
    return options


def collection_names() -> dict[str, set[str]]:
    """What `redisops.sentinel.NAME` and `playbooks/NAME.yml` may name."""
    return {
        'playbook': {path.stem for path in (ROOT / 'playbooks').glob('*.yml')},
        'role': {path.name for path in (ROOT / 'roles').iterdir() if path.is_dir()},
        'module': {path.stem for path in (ROOT / 'plugins/modules').glob('*.py') if path.stem != '__init__'},
        'filter': {name for path in (ROOT / 'docs/plugins/filter').glob('*.md') for name in [path.stem]},
    }


def occurrences(pattern: re.Pattern) -> dict[str, list[str]]:
    """name: the pages that mention it."""
    found: dict[str, list[str]] = {}
    for page in PAGES:
        for name in set(pattern.findall(page.read_text(encoding='utf-8'))):
            found.setdefault(name, []).append(page.relative_to(ROOT).as_posix())
    return found


def test_every_variable_named_in_the_docs_is_a_role_option():
    names = collection_names()
    known = role_options() | set(NOT_VARIABLES) | names['role'] | names['module']
    unknown = {name: pages for name, pages in occurrences(NAME).items() if name not in known}
    assert not unknown, ('variables named in the docs that no argument spec declares (add them to '
                         'roles/*/meta/argument_specs.yml, fix the docs, or list them in NOT_VARIABLES): %s' % unknown)


def test_the_exceptions_are_still_needed():
    mentioned = occurrences(NAME)
    assert not [name for name in NOT_VARIABLES if name not in mentioned]
    assert not set(NOT_VARIABLES) & role_options()


def test_every_playbook_path_named_in_the_docs_exists():
    playbooks = collection_names()['playbook']
    missing = {name: pages for name, pages in occurrences(PLAYBOOK_PATH).items() if name not in playbooks}
    assert not missing, 'playbooks named in the docs that do not exist: %s' % missing


def test_every_collection_name_in_the_docs_exists():
    everything = set().union(*collection_names().values())
    missing = {name: pages for name, pages in occurrences(FQCN).items() if name not in everything}
    assert not missing, 'redisops.sentinel.* names in the docs that the collection lacks: %s' % missing


def yaml_block(page: Path, first_line: str) -> str:
    """The ```yaml block of page whose first line is first_line."""
    blocks = re.findall(r'```yaml\n(.*?)```', page.read_text(encoding='utf-8'), re.S)
    matching = [block for block in blocks if block.startswith(first_line + '\n')]
    assert len(matching) == 1, '%s has %d yaml blocks starting with %r' % (page, len(matching), first_line)
    return matching[0]


def play_hosts(inventory: Path, playbooks: list[str]) -> list[tuple[str, set[str]]]:
    """(play name, hosts) of every play, as ansible-playbook --list-hosts reports them."""
    env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
    env['ANSIBLE_COLLECTIONS_PATH'] = str(ROOT / 'playbooks/collections')
    result = subprocess.run([str(BIN / 'ansible-playbook'), '-i', str(inventory), '--list-hosts'] + playbooks,
                            cwd=str(ROOT), env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    plays, lines = [], result.stdout.splitlines()
    for number, line in enumerate(lines):
        match = re.match(r'\s+play #\d+ \(.*\): (.*?)\s+TAGS:', line)
        if match:
            count = int(re.search(r'hosts \((\d+)\)', lines[number + 2]).group(1))
            plays.append((match.group(1), {host.strip() for host in lines[number + 3:number + 3 + count]}))
    return plays


# The playbooks' plays that run on every host of a topology, or on every Sentinel.
SWEEPING_PLAYS = {
    'Check the whole inventory before changing any host': 'all',
    'Converge the bootstrap master and its replicas, and wait until they are linked': 'all',
    'Converge the Sentinels and wait until they all agree': 'sentinels',
    'Report the live topology': 'sentinels',
    'Switch the master over': 'all',
}


@pytest.mark.parametrize('page, first_line, hosts, sentinels', [
    ('README.md', '# inventory.yml', {'redis1', 'redis2', 'redis3'}, {'redis1', 'redis2', 'redis3'}),
    ('docs/quickstart.md', '# inventory.yml',
     {'redis1.example.net', 'redis2.example.net', 'redis3.example.net'},
     {'redis1.example.net', 'redis2.example.net', 'redis3.example.net'}),
    ('docs/quickstart.md', '# inventory.yml: your groups, unchanged',
     {'cache1.example.net', 'cache2.example.net', 'cache3.example.net'},
     {'cache1.example.net', 'cache2.example.net', 'cache3.example.net'}),
])
def test_the_example_inventories_reach_every_play(tmp_path, page, first_line, hosts, sentinels):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(yaml_block(ROOT / page, first_line), encoding='utf-8')
    plays = play_hosts(inventory, ['playbooks/site.yml', 'playbooks/status.yml', 'playbooks/switchover.yml'])
    checked = [(name, found) for name, found in plays if name in SWEEPING_PLAYS]
    assert len(checked) == len(SWEEPING_PLAYS), plays
    for name, found in checked:
        assert found == (hosts if SWEEPING_PLAYS[name] == 'all' else sentinels), (name, found)
