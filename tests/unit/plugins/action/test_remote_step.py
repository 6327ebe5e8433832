# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""replica_wait, sentinel_wait, host_state and topology_info as a playbook runs them: their action plugins
run the module's work as node_apply's one step (plugins/plugin_utils/remote_step.py). Through
ansible-playbook on this host, against real servers and Sentinels: the results, the failures (their own
message, not node_apply's), a bad option, check mode, a background (async) task, and no secret in the
most verbose output."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import COLLECTION_LINK, MASTER_NAME, PASSWORD, free_port

MARKER = 'written by the test'


def tasks(cluster, password_pair, closed: int, marked: Path) -> list[dict]:
    master, replica = cluster.master, cluster.replica
    wait = dict(login_port=replica.port, master_host=master.host, master_port=master.port, timeout=10)
    secret = dict(login_port=password_pair.replica.port, login_password=PASSWORD, master_host='127.0.0.1',
                  master_port=closed, timeout=0.5)
    sentinels = ['%s:%d' % (node.host, node.port) for node in cluster.sentinels]
    return [
        dict(name='synced', **{'redisops.sentinel.replica_wait': wait}),
        dict(name='wrong_master', ignore_errors=True,
             **{'redisops.sentinel.replica_wait': dict(wait, master_port=closed, timeout=0.5)}),
        dict(name='bad_option', ignore_errors=True,
             **{'redisops.sentinel.replica_wait': dict(login_port=replica.port, no_such_option=1)}),
        dict(name='secret', ignore_errors=True, **{'redisops.sentinel.replica_wait': secret}),
        dict(name='check_mode', check_mode=True,
             **{'redisops.sentinel.replica_wait': dict(wait, master_port=closed)}),
        dict(name='background', **{'async': 30, 'poll': 1, 'redisops.sentinel.replica_wait': wait}),
        dict(name='sentinel', **{'redisops.sentinel.sentinel_wait': dict(
            login_port=cluster.sentinels[0].port, master_name=MASTER_NAME, master_host=master.host,
            master_port=master.port, replica_count=1, sentinel_count=3, timeout=10)}),
        dict(name='state', **{'redisops.sentinel.host_state': dict(
            markers={str(marked): MARKER, str(marked) + '.absent': MARKER})}),
        dict(name='topology', **{'redisops.sentinel.topology_info': dict(sentinels=sentinels)}),
    ]


@pytest.fixture(scope='module')
def played(cluster, password_pair, tmp_path_factory) -> tuple[dict[str, dict], str, Path]:
    tmp = tmp_path_factory.mktemp('remote_step')
    marked = tmp / 'redis.conf'
    marked.write_text('# %s\n' % MARKER)
    steps = tasks(cluster, password_pair, free_port(), marked)
    for task in steps:
        task['register'] = task['name']
    names = [task['name'] for task in steps]
    steps.append({'name': 'keep the results', 'ansible.builtin.copy': {
        'dest': str(tmp / 'results.json'),
        'content': '{{ %s | to_json }}' % ('{' + ', '.join("'%s': %s" % (name, name) for name in names) + '}')}})
    playbook = tmp / 'play.yml'
    playbook.write_text(yaml.safe_dump([{'hosts': 'localhost', 'gather_facts': False, 'tasks': steps}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTION_LINK.parents[2]), ANSIBLE_NOCOLOR='1')
    run = subprocess.run(['ansible-playbook', '-vvv', '-i', 'localhost,', '-c', 'local', str(playbook),
                          '-e', 'ansible_python_interpreter=%s' % Path(sys.executable).absolute()],
                         capture_output=True, text=True, env=env, check=False, timeout=300)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr
    return json.loads((tmp / 'results.json').read_text()), run.stdout + run.stderr, marked


def test_a_ready_replica_gives_the_module_s_own_result(played):
    result = played[0]['synced']
    assert result['ready'] and not result['changed'] and result['state']['master_link_status'] == 'up'
    assert result['msg'].startswith('Replica ') and 'steps' not in result and 'failed_step' not in result


def test_a_failure_is_reported_as_the_module_reports_it(played):
    result = played[0]['wrong_master']
    assert result['failed'] and not result['ready'] and result['unmet']
    # The module's own message and diagnosis, without node_apply's "replica_wait: " in front.
    assert result['msg'].startswith('Replica ') and 'Probe of ' in result['msg'] and result['diagnosis']


def test_a_bad_option_is_refused_by_name(played):
    result = played[0]['bad_option']
    assert result['failed'] and result['msg'].startswith(
        'Unsupported parameters for (redisops.sentinel.replica_wait) module: no_such_option.')


def test_check_mode_observes_once_without_failing(played):
    result = played[0]['check_mode']
    assert not result.get('failed') and not result['ready'] and result['msg'].startswith('Check mode')


def test_a_background_task_runs_the_module_itself(played):
    result = played[0]['background']
    assert result['finished'] and result['ready'] and result['state']['master_link_status'] == 'up'


def test_sentinel_wait_host_state_and_topology_info(played):
    results = played[0]
    assert results['sentinel']['ready'] and results['sentinel']['msg']
    assert results['state']['marked'] == [str(played[2])] and results['state']['missing_packages'] == []
    assert results['topology']['groups'][0]['name'] == MASTER_NAME and results['topology']['summary']


def test_no_secret_in_the_most_verbose_output(played):
    assert played[0]['secret']['failed']
    assert PASSWORD not in played[1]
