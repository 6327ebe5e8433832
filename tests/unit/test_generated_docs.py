# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The generated reference in docs/ is up to date, ansible-doc renders every plugin and role
without a warning, and the changelog fragments pass antsibull-changelog lint."""

from __future__ import annotations

import difflib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / 'docs'
# Absolute: the tests run it from other directories.
PYTHON = str(Path(sys.executable).absolute())
GENERATOR = DOCS / 'generate.py'
FIX = 'run `python docs/generate.py` (or `make docs`) and commit the result'


def load_generator():
    spec = importlib.util.spec_from_file_location('redisops_docs_generate', GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tool(name: str) -> Path:
    path = Path(PYTHON).with_name(name)
    if not path.exists():
        pytest.skip('%s is not installed next to the test interpreter (pip install -r requirements-dev.txt)' % name)
    return path


def files_below(base: Path, names: set[str]) -> dict[str, str]:
    """The files (path below base: text) of the given top-level entries of base."""
    found = {}
    for name in names:
        entry = base / name
        paths = [entry] if entry.is_file() else sorted(path for path in entry.rglob('*') if path.is_file())
        for path in paths:
            found[path.relative_to(base).as_posix()] = path.read_text(encoding='utf-8')
    return found


@pytest.fixture(scope='module')
def generated(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp('docs')
    result = subprocess.run([PYTHON, str(GENERATOR), '--output', str(output)], cwd=str(ROOT),
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, 'docs/generate.py failed:\n%s%s' % (result.stdout, result.stderr)
    return output


def test_committed_docs_are_the_generated_ones(generated):
    expected = files_below(generated, {path.name for path in generated.iterdir()})
    committed = files_below(DOCS, {path.name for path in generated.iterdir()})
    problems = ['missing: docs/%s' % name for name in sorted(set(expected) - set(committed))]
    problems += ['stale (its source is gone): docs/%s' % name for name in sorted(set(committed) - set(expected))]
    diff: list[str] = []
    for name in sorted(set(expected) & set(committed)):
        if expected[name] != committed[name]:
            problems.append('out of date: docs/%s' % name)
            diff = diff or list(difflib.unified_diff(committed[name].splitlines(), expected[name].splitlines(),
                                                     'docs/%s (committed)' % name, 'generated', lineterm='', n=1))[:40]
    assert not problems, 'The generated reference differs from the sources; %s.\n%s\n\n%s' % (
        FIX, '\n'.join(problems), '\n'.join(diff))


def test_generator_is_deterministic(generated, tmp_path):
    result = subprocess.run([PYTHON, str(GENERATOR), '--output', str(tmp_path)], cwd=str(tmp_path),
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    names = {path.name for path in generated.iterdir()}
    assert files_below(tmp_path, names) == files_below(generated, names)


def test_every_role_and_plugin_has_a_page(generated):
    pages = {path.relative_to(generated).as_posix() for path in generated.rglob('*.md')}
    roles = {'roles/%s.md' % path.name for path in (ROOT / 'roles').iterdir() if path.is_dir()}
    modules = {'modules/%s.md' % path.stem for path in (ROOT / 'plugins' / 'modules').glob('*.py')}
    assert roles | modules | {'reference.md'} <= pages
    index = (generated / 'reference.md').read_text(encoding='utf-8')
    for page in sorted(pages - {'reference.md'}):
        assert '](%s)' % page in index, page


@pytest.mark.parametrize('source, expected', [
    ('C(a|b) and V(x)', '`a\\|b` and `x`'),
    ('I(it) B(bold) E(ENV)', '*it* **bold** `ENV`'),
    ('O(timeout=0) O(unknown)', '[`timeout=0`](#option-timeout) `unknown`'),
    ('O(users[].name) RV(state.role)', '[`users[].name`](#option-users--name) [`state.role`](#return-state--role)'),
    ('M(redisops.sentinel.sentinel_wait)', '[`redisops.sentinel.sentinel_wait`](sentinel_wait.md)'),
    ('M(ansible.builtin.copy)',
     '[`ansible.builtin.copy`](https://docs.ansible.com/ansible/latest/collections/ansible/builtin/copy_module.html)'),
    ('O(redisops.sentinel.topology_info#module:sentinels)', '[`sentinels`](topology_info.md#option-sentinels)'),
    ('L(Redis, https://redis.io) U(https://x.example)', '[Redis](https://redis.io) [https://x.example](https://x.example)'),
    ('V(a\\)b) C(x\\)', '`a)b` `x\\`'),
    ('a_b _c * [d] <e>', 'a_b \\_c \\* \\[d\\] \\<e\\>'),
    ('C(`tick`)', '`` `tick` ``'),
])
def test_markup_to_markdown(source, expected):
    generator = load_generator()
    catalog = generator.Catalog('redisops.sentinel')
    for name in ('sentinel_wait', 'topology_info'):
        catalog.add('module', name, 'modules/%s.md' % name)
    page = generator.Page(catalog, 'modules/replica_wait.md', 'redisops.sentinel.replica_wait', 'module',
                          options={'timeout', 'users', 'users.name'}, returns={'state', 'state.role'})
    assert generator.markup(page, source, table=True) == expected


@pytest.fixture(scope='module')
def collection(tmp_path_factory) -> tuple[str, dict[str, str]]:
    """The checkout as a collection (ansible_collections/NAMESPACE/NAME links to it): its name and the env."""
    galaxy = yaml.safe_load((ROOT / 'galaxy.yml').read_text(encoding='utf-8'))
    base = tmp_path_factory.mktemp('collections')
    link = base / 'ansible_collections' / galaxy['namespace'] / galaxy['name']
    link.parent.mkdir(parents=True)
    link.symlink_to(ROOT, target_is_directory=True)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(base), ANSIBLE_NOCOLOR='1')
    return '%s.%s' % (galaxy['namespace'], galaxy['name']), env


@pytest.mark.parametrize('plugin_type, directory', [('module', 'plugins/modules'), ('filter', 'plugins/filter'),
                                                    ('role', 'roles')])
def test_ansible_doc_renders_without_warnings(collection, plugin_type, directory):
    base = ROOT / directory
    if plugin_type == 'role':
        names = sorted(path.name for path in base.iterdir() if path.is_dir())
    else:
        names = sorted(path.stem for path in base.glob('*.py') if not path.name.startswith('_'))
    if not names:
        pytest.skip('no %s' % directory)
    fqcn, env = collection
    result = subprocess.run([str(tool('ansible-doc')), '-t', plugin_type] + ['%s.%s' % (fqcn, name) for name in names],
                            env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    for name in names:
        assert '%s.%s' % (fqcn, name) in result.stdout


def test_changelog_fragments_lint():
    antsibull_changelog = tool('antsibull-changelog')
    for command in (['lint'], ['lint-changelog-yaml', 'changelogs/changelog.yaml']):
        result = subprocess.run([str(antsibull_changelog)] + command, cwd=str(ROOT),
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0 and not result.stdout.strip(), 'antsibull-changelog %s:\n%s%s' % (
            command[0], result.stdout, result.stderr)
