# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The three ways README.md installs the collection, each tried: the built artifact (what a
Galaxy install gives), a git URL in requirements.yml, and a checkout linked by `lab/lab.sh link`.
Each route then runs `ansible-playbook --syntax-check` on every playbook of the collection, with
Ansible's default configuration: no ansible.cfg, no ANSIBLE_* variable but the collections path.
Galaxy is out of reach here, so installs use --no-deps: ansible.posix and community.general come
with the `ansible` package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# ansible-galaxy and ansible-playbook of the interpreter that runs the tests.
BIN = Path(sys.executable).absolute().parent
PLAYBOOKS = sorted(path.stem for path in (ROOT / 'playbooks').glob('*.yml'))
# What a user's project needs and a developer's checkout has besides the collection.
DEV_ONLY = ('molecule', 'tests', 'lab', 'benchmarks', 'Makefile', 'requirements-dev.txt', 'playbooks/collections')


def user_env(collections_path: Path) -> dict[str, str]:
    """The environment of a user's shell: no ANSIBLE_* setting except the collections path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
    env['PATH'] = '%s:%s' % (BIN, env.get('PATH', '/usr/bin:/bin'))
    env['ANSIBLE_COLLECTIONS_PATH'] = str(collections_path)
    return env


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=str(cwd), env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, '%s failed (rc %d):\n%s%s' % (
        ' '.join(args), result.returncode, result.stdout[-4000:], result.stderr[-4000:])
    return result


def working_tree_files() -> list[str]:
    """Tracked and new (not ignored) files of the working tree, as a commit would hold them."""
    listed = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                            cwd=str(ROOT), capture_output=True, text=True, check=True).stdout
    return [name for name in listed.split('\0') if name and (ROOT / name).is_file()]


def copy_working_tree(dest: Path) -> Path:
    for name in working_tree_files():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest / name)
    return dest


def write_inventory(path: Path) -> Path:
    """An inventory with the three groups (nothing connects: syntax checks only)."""
    inventory = {'redis_master': {'hosts': {'redis1': {}}},
                 'redis_replica': {'hosts': {'redis2': {}, 'redis3': {}}},
                 'redis_sentinel': {'hosts': {'redis1': {}, 'redis2': {}, 'redis3': {}}}}
    path.write_text(yaml.safe_dump(inventory), encoding='utf-8')
    return path


def syntax_check(project: Path, collections_path: Path, playbooks: list[str], collection: Path) -> None:
    """ansible-playbook --syntax-check in a project directory whose ansible.cfg, if any, names no collections
    path (the repository's only tunes the controller), every playbook read from the given copy of the collection."""
    config = project / 'ansible.cfg'
    assert not config.exists() or 'collections_path' not in config.read_text(encoding='utf-8')
    inventory = write_inventory(project / 'syntax-inventory.yml')
    result = run([str(BIN / 'ansible-playbook'), '-i', str(inventory), '--syntax-check'] + playbooks,
                 project, user_env(collections_path))
    checked = {line.split(': ', 1)[1] for line in result.stdout.splitlines() if line.startswith('playbook: ')}
    expected = {str(collection / 'playbooks' / ('%s.yml' % name)) for name in PLAYBOOKS}
    # ansible-playbook names a playbook given as a relative path relative to the project.
    assert {str((project / path).resolve()) for path in checked} == {str(Path(path).resolve()) for path in expected}


def installed_files(collection: Path) -> set[str]:
    return {path.relative_to(collection).as_posix() for path in collection.rglob('*')}


def assert_user_copy(collection: Path) -> None:
    """The installed copy has every playbook, and none of the developer's files."""
    files = installed_files(collection)
    assert {'playbooks/%s.yml' % name for name in PLAYBOOKS} <= files
    assert 'meta/runtime.yml' in files and 'roles/redis/meta/argument_specs.yml' in files
    leaked = sorted(name for name in files if name.startswith(DEV_ONLY))
    assert not leaked, 'developer files in the installed collection: %s' % leaked[:10]


@pytest.fixture(scope='module')
def git_source(tmp_path_factory) -> Path:
    """A git repository holding the working tree in one commit on branch main."""
    source = copy_working_tree(tmp_path_factory.mktemp('source'))
    git = ['git', '-c', 'user.name=test', '-c', 'user.email=test@example.invalid']
    env = dict(os.environ)
    for args in (['init', '-q', '-b', 'main'], ['add', '-A'], ['commit', '-q', '-m', 'working tree']):
        run(git + args, source, env)
    return source


@pytest.fixture
def project(tmp_path) -> Path:
    """An empty user project, its own collections path inside it."""
    (tmp_path / 'collections').mkdir()
    return tmp_path


def test_built_artifact_installs_and_every_playbook_passes_the_syntax_check(git_source, project):
    env = user_env(project / 'collections')
    run([str(BIN / 'ansible-galaxy'), 'collection', 'build', '--output-path', str(project), str(git_source)],
        project, env)
    artifacts = sorted(project.glob('redisops-sentinel-*.tar.gz'))
    assert len(artifacts) == 1, artifacts
    run([str(BIN / 'ansible-galaxy'), 'collection', 'install', '--no-deps', '-p', str(project / 'collections'),
         str(artifacts[0])], project, env)
    collection = project / 'collections/ansible_collections/redisops/sentinel'
    assert (collection / 'MANIFEST.json').is_file()
    assert_user_copy(collection)
    syntax_check(project, project / 'collections', ['redisops.sentinel.%s' % name for name in PLAYBOOKS], collection)


def test_git_url_in_requirements_installs_and_every_playbook_passes_the_syntax_check(git_source, project):
    requirements = {'collections': [{'name': 'git+file://%s' % git_source, 'type': 'git', 'version': 'main'}]}
    (project / 'requirements.yml').write_text(yaml.safe_dump(requirements), encoding='utf-8')
    run([str(BIN / 'ansible-galaxy'), 'collection', 'install', '--no-deps', '-r', 'requirements.yml',
         '-p', str(project / 'collections')], project, user_env(project / 'collections'))
    collection = project / 'collections/ansible_collections/redisops/sentinel'
    assert_user_copy(collection)
    syntax_check(project, project / 'collections', ['redisops.sentinel.%s' % name for name in PLAYBOOKS], collection)


def test_a_checkout_needs_only_the_link(tmp_path):
    checkout = copy_working_tree(tmp_path / 'checkout')
    # An empty collections path: only the link next to the playbooks can provide the collection.
    empty = tmp_path / 'empty'
    empty.mkdir()
    playbooks = ['playbooks/%s.yml' % name for name in PLAYBOOKS]
    unlinked = subprocess.run([str(BIN / 'ansible-playbook'), '--syntax-check', 'playbooks/site.yml'],
                              cwd=str(checkout), env=user_env(empty), capture_output=True, text=True, check=False)
    assert unlinked.returncode != 0, 'site.yml resolved redisops.sentinel without the link'
    run(['lab/lab.sh', 'link'], checkout, user_env(empty))
    link = checkout / 'playbooks/collections/ansible_collections/redisops/sentinel'
    assert link.is_symlink() and link.resolve() == checkout.resolve()
    syntax_check(checkout, empty, playbooks, checkout)
