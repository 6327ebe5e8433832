# -*- coding: utf-8 -*-
"""The current masters are read with any --tags: every step that a tag selects (the waits, the
configuration) acts on the master the Sentinels name, so live_topology.yml must not be skipped by a
tag filter (after a failover, `--tags redis_wait` waited for the bootstrap master before)."""
from __future__ import annotations

from pathlib import Path

import yaml

TASKS = Path(__file__).resolve().parents[3] / 'roles' / 'redis' / 'tasks'


def test_every_task_of_live_topology_runs_with_any_tags():
    tasks = yaml.safe_load((TASKS / 'live_topology.yml').read_text())
    untagged = [task['name'] for task in tasks if 'always' not in (task.get('tags') or [])]
    assert untagged == []


def test_prepare_reads_the_live_topology_with_any_tags():
    tasks = yaml.safe_load((TASKS / 'prepare.yml').read_text())
    include = next(task for task in tasks if task.get('ansible.builtin.include_tasks') == 'live_topology.yml')
    assert 'always' in include['tags']
