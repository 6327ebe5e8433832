# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_apply against real redis-server and Sentinel processes: the files and the live steps of a
running service in one module run, as node_files and each step's module would do them."""
from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys

from ansible.executor.module_common import ModuleDepFinder

from ansible_collections.redisops.sentinel.plugins.module_utils import client
from ansible_collections.redisops.sentinel.plugins.modules import node_apply, redis_config

from conftest import COLLECTION_LINK, MASTER_NAME, RedisNode, config_get, run_module_process

SECRET = 'n0de-apply-s3cret'


def config_step(node: RedisNode, settings: dict, label: str = 'settings', **extra) -> dict:
    args = dict(login_port=node.port, login_password=node.password, settings=settings)
    return dict(module='redis_config', label=label, args=args, **extra)


def test_files_then_each_step_then_nothing_to_do(run_module, nodes, tmp_path):
    server = nodes.server()
    conf = tmp_path / 'guard.conf'
    args = dict(files=[{'path': str(conf), 'content': 'x\n', 'mode': '0640'}],
                steps=[config_step(server, {'maxmemory-policy': 'allkeys-lru'}),
                       config_step(server, {'notify-keyspace-events': 'xE'}, label='events')])
    failed, result = run_module(node_apply.main, args, check_mode=True)
    assert not failed and result['changed'] and not conf.exists()
    assert config_get(server, 'maxmemory-policy') == 'noeviction'

    failed, result = run_module(node_apply.main, args)
    assert not failed, result["msg"]
    assert result["changed"] and not result["stopped"]
    assert result['changed_paths'] == [str(conf)] and conf.read_text() == 'x\n'
    assert [step['label'] for step in result['steps']] == ['settings', 'events']
    assert result['steps'][0]['result']['changed_settings'] == ['maxmemory-policy']
    assert config_get(server, 'maxmemory-policy') == 'allkeys-lru'
    assert config_get(server, 'notify-keyspace-events') == 'xE'

    failed, result = run_module(node_apply.main, args)
    assert not failed and not result['changed'] and result['changed_paths'] == []


def test_a_changed_file_that_needs_a_restart_stops_before_the_steps(run_module, nodes, tmp_path):
    server = nodes.server()
    conf = tmp_path / 'redis.conf'
    args = dict(files=[{'path': str(conf), 'content': 'port 1\n'}], stop_if_changed=[str(conf)],
                steps=[config_step(server, {'maxmemory-policy': 'allkeys-lru'})])
    failed, result = run_module(node_apply.main, args)
    assert not failed and result['stopped'] and result['changed'] and result['steps'] == []
    assert config_get(server, 'maxmemory-policy') == 'noeviction'
    # Unchanged now: the steps run.
    failed, result = run_module(node_apply.main, args)
    assert not failed and not result['stopped'] and config_get(server, 'maxmemory-policy') == 'allkeys-lru'


def test_a_step_runs_only_when_its_file_changed(run_module, nodes, tmp_path):
    server = nodes.server()
    cert = tmp_path / 'cert.pem'
    cert.write_text('same\n')
    step = config_step(server, {'maxmemory-policy': 'allkeys-lru'}, when_changed=[str(cert)])
    failed, result = run_module(node_apply.main, dict(files=[{'path': str(cert), 'content': 'same\n'}], steps=[step]))
    assert not failed and result['steps'] == [] and config_get(server, 'maxmemory-policy') == 'noeviction'
    failed, result = run_module(node_apply.main, dict(files=[{'path': str(cert), 'content': 'new\n'}], steps=[step]))
    assert not failed and len(result['steps']) == 1 and config_get(server, 'maxmemory-policy') == 'allkeys-lru'


def test_a_bad_step_is_refused_before_any_file_is_written(run_module, nodes, tmp_path):
    server = nodes.server()
    conf = tmp_path / 'new.conf'
    step = dict(module='sentinel_monitor', label=MASTER_NAME, args=dict(login_port=server.port, quorum='two'))
    failed, result = run_module(node_apply.main, dict(files=[{'path': str(conf), 'content': 'x\n'}], steps=[step]))
    assert failed and result['failed_step'] == MASTER_NAME
    assert 'quorum' in result['msg'] and 'name' in result['msg']
    assert not conf.exists()


def test_the_failing_step_is_named_and_the_later_ones_do_not_run(run_module, nodes):
    server = nodes.server(password=SECRET)
    wrong = dict(config_step(server, {'maxmemory-policy': 'allkeys-lru'}, label='wrong login'))
    wrong['args'] = dict(wrong['args'], login_password='not-' + SECRET)
    later = config_step(server, {'maxmemory-policy': 'allkeys-lfu'}, label='later')
    failed, result = run_module(node_apply.main, dict(files=[], steps=[wrong, later]))
    assert failed and result['failed_step'] == 'wrong login'
    assert result['steps'] == [] and config_get(server, 'maxmemory-policy') == 'noeviction'
    # The message is the module's own, as redis_config run by itself gives it.
    own_failed, own = run_module(redis_config.main, wrong['args'])
    assert own_failed and result['msg'] == own['msg']


def test_sentinel_monitor_steps_for_each_master_group(run_module, nodes):
    master = nodes.server()
    other = nodes.server()
    sentinel = nodes.sentinel(master, quorum=1)
    steps = [dict(module='sentinel_monitor', label=name, args=dict(
        login_port=sentinel.port, name=name, master_host=node.host, master_port=node.port, quorum=1,
        down_after_milliseconds=1000)) for name, node in ((MASTER_NAME, master), ('other', other))]
    failed, result = run_module(node_apply.main, dict(files=[], steps=steps))
    assert not failed and result['changed']
    assert [(s['label'], s['result']['created']) for s in result['steps']] == [(MASTER_NAME, False), ('other', True)]
    failed, result = run_module(node_apply.main, dict(files=[], steps=steps))
    assert not failed and not result['changed']


def test_only_the_secrets_are_kept_out_of_the_output(nodes, tmp_path):
    """Run as Ansible runs it (a process of its own), where AnsibleModule masks its output: the
    password and the secret file are hidden, the port that the same secret-holding `args` carries is not."""
    server = nodes.server(password=SECRET)
    args = dict(files=[{'path': str(tmp_path / 'guard.json'), 'secret_content': SECRET}],
                steps=[config_step(server, {'maxmemory-policy': 'allkeys-lru'}),
                       dict(module='redis_acl', label='users', args=dict(
                           login_port=server.port, login_password=SECRET,
                           users=[dict(name='app', passwords=[SECRET + '-app'], rules='~* +@read')]))])
    proc = run_module_process('node_apply', args, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert str(server.port) in result['steps'][0]['result']['msg']
    assert (tmp_path / 'guard.json').read_text() == SECRET


def test_check_mode_without_the_redis_library_reports_each_step_and_goes_on(run_module, monkeypatch, tmp_path):
    """A step's module ends early in check mode when redis-py is missing (it would be installed): the
    other steps and the files still report what they would do."""
    monkeypatch.setattr(client, 'HAS_REDIS', False)
    conf = tmp_path / 'new.conf'
    steps = [dict(module='redis_config', label=label, args=dict(login_port=6379, settings={'maxmemory': '1gb'}))
             for label in ('first', 'second')]
    failed, result = run_module(node_apply.main, dict(files=[{'path': str(conf), 'content': 'x\n'}], steps=steps),
                                check_mode=True)
    assert not failed and result['changed'] and not conf.exists()
    assert [(s['label'], s['result']['msg'].startswith('Check mode: ')) for s in result['steps']] == [
        ('first', True), ('second', True)]


def test_each_step_module_is_in_the_payload_and_imported_only_when_a_step_needs_it():
    """The steps' module_utils are imported inside a function: Ansible's payload builder must still find each
    one, and loading the module itself must not import the Redis client (a host_state step needs none)."""
    finder = ModuleDepFinder(node_apply.__name__, ast.parse(inspect.getsource(node_apply)))
    prefix = ('ansible_collections', 'redisops', 'sentinel', 'plugins', 'module_utils')
    assert {prefix + (name,) for name in node_apply.WORKS} <= finder.submodules
    assert [node_apply.work(name).__name__.rsplit('.', 1)[1] for name in node_apply.WORKS] == list(node_apply.WORKS)
    loaded = subprocess.run([sys.executable, '-c', 'import sys, %s; print(sorted(sys.modules))' % node_apply.__name__],
                            env=dict(os.environ, PYTHONPATH=str(COLLECTION_LINK.parents[2])),
                            capture_output=True, text=True, check=True).stdout
    assert "'redis'" not in loaded and 'module_utils.redis_acl' not in loaded
