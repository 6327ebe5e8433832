# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shipped Prometheus alert rules (roles/redis_exporter/files/redisops-alerts.yml) are valid,
every rule has a ``promtool test rules`` file with series that fire it and series that keep it
quiet (tests/promtool/), and those tests pass. A rule whose expression is broken on purpose makes
its tests fail: they can catch a wrong rule.

promtool comes from Debian's ``prometheus`` package (``lab/lab.sh deps`` installs it). Without it
the tests fail instead of skipping: a missing tool must not turn the suite green.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / 'roles/redis_exporter/files/redisops-alerts.yml'
RULES_FROM_TESTS = '../../roles/redis_exporter/files/redisops-alerts.yml'
TEST_DIR = ROOT / 'tests/promtool'
TEST_FILES = sorted(TEST_DIR.glob('*.yml'))
# An expression that is never true: the alert then never fires.
NEVER = 'vector(1) == 0'


def promtool() -> str:
    path = shutil.which('promtool')
    if path is None:
        pytest.fail('promtool is not on PATH: install Debian\'s prometheus package '
                    '(lab/lab.sh deps, which make setup runs, installs it)')
    return path


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([promtool(), *args], cwd=str(cwd), capture_output=True, text=True, check=False)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding='utf-8'))


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in load(RULES)['groups'] for rule in group['rules'] if 'alert' in rule]


def rule_tests(path: Path) -> list[dict[str, Any]]:
    """The alert_rule_test entries of a promtool test file."""
    return [case for test in load(path)['tests'] for case in test.get('alert_rule_test', [])]


def alerts_in(path: Path) -> set[str]:
    return {case['alertname'] for case in rule_tests(path)}


def test_the_rules_file_is_valid():
    result = run('check', 'rules', str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize('path', TEST_FILES, ids=[path.stem for path in TEST_FILES])
def test_the_promtool_unit_tests_pass(path):
    assert load(path)['rule_files'] == [RULES_FROM_TESTS]
    result = run('test', 'rules', path.name, cwd=TEST_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize('alert', [rule['alert'] for rule in alert_rules()])
def test_every_alert_has_series_that_fire_it_and_series_that_keep_it_quiet(alert):
    cases = [case for path in TEST_FILES for case in rule_tests(path) if case['alertname'] == alert]
    assert [case for case in cases if case.get('exp_alerts')], '%s: no test makes it fire' % alert
    assert [case for case in cases if not case.get('exp_alerts')], '%s: no test keeps it quiet' % alert


@pytest.mark.parametrize('alert', [rule['alert'] for rule in alert_rules()])
def test_the_tests_fail_when_the_rule_never_fires(tmp_path, alert):
    rules = load(RULES)
    for group in rules['groups']:
        for rule in group['rules']:
            if rule.get('alert') == alert:
                rule['expr'] = NEVER
    broken = tmp_path / 'roles/redis_exporter/files/redisops-alerts.yml'
    broken.parent.mkdir(parents=True)
    broken.write_text(yaml.safe_dump(rules), encoding='utf-8')
    tests = tmp_path / 'tests/promtool'
    tests.mkdir(parents=True)
    paths = [path for path in TEST_FILES if alert in alerts_in(path)]
    for path in paths:
        shutil.copy(path, tests / path.name)
    result = run('test', 'rules', *[path.name for path in paths], cwd=tests)
    assert result.returncode != 0, result.stdout
    assert 'alertname: %s' % alert in result.stdout + result.stderr
