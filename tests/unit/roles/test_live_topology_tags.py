# -*- coding: utf-8 -*-
"""The current masters are read with any --tags: every step that a tag selects (the waits, the
configuration) acts on the master the Sentinels name, so live_masters.yml (and the live_topology entry
point around it) must not be skipped by a tag filter (after a failover, `--tags redis_wait` waited for
the bootstrap master before)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

TASKS = Path(__file__).resolve().parents[3] / 'roles' / 'redis' / 'tasks'


@pytest.mark.parametrize('name', ['live_masters.yml', 'live_topology.yml'])
def test_every_task_of_the_live_masters_runs_with_any_tags(name):
    tasks = yaml.safe_load((TASKS / name).read_text())
    # An import carries no tag of its own: the tasks it imports carry theirs (the live_masters.yml case).
    untagged = [task['name'] for task in tasks
                if 'always' not in (task.get('tags') or []) and 'ansible.builtin.import_tasks' not in task]
    assert untagged == []


def test_prepare_reads_the_live_topology_with_any_tags():
    tasks = yaml.safe_load((TASKS / 'prepare.yml').read_text())
    include = next(task for task in tasks if task.get('ansible.builtin.include_tasks') == 'live_masters.yml')
    assert 'always' in include['tags']
