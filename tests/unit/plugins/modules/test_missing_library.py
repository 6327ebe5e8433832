# -*- coding: utf-8 -*-
"""The modules run as scripts (as on a managed host) with redis-py made unimportable."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

COLLECTIONS = Path(__file__).resolve().parents[4] / 'playbooks' / 'collections'
RUNNER = """
import runpy, sys
sys.modules['redis'] = None  # "import redis" now raises ImportError
module = sys.argv.pop()  # sys.argv[1] stays the args file AnsibleModule reads
runpy.run_module('ansible_collections.redisops.sentinel.plugins.modules.' + module, run_name='__main__')
"""


def run_script(tmp_path, module: str, args: dict) -> tuple[int, dict]:
    args_file = tmp_path / 'args.json'
    args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
    proc = subprocess.run([sys.executable, '-c', RUNNER, str(args_file), module], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    return proc.returncode, json.loads(proc.stdout)


@pytest.mark.parametrize('module, args', [
    ('replica_wait', {'login_password': 'hidden-secret'}),
    ('sentinel_wait', {'master_name': 'mymaster', 'master_password': 'hidden-secret'}),
])
def test_missing_redis_library(tmp_path, module, args):
    code, result = run_script(tmp_path, module, args)
    assert code == 1 and result['failed']
    assert 'Failed to import the required Python library (redis)' in result['msg']

    code, result = run_script(tmp_path, module, dict(args, _ansible_check_mode=True))
    assert code == 0 and result['ready'] is False and not result.get('failed')
    assert result['msg'].startswith('Check mode')
