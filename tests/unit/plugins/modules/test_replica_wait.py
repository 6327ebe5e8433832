# -*- coding: utf-8 -*-
from __future__ import annotations

import json

import pytest

from ansible_collections.redisops.sentinel.plugins.modules import replica_wait

from conftest import PASSWORD, link_up, wait_for


def run(run_module, **args):
    args.setdefault('timeout', 2)
    return run_module(replica_wait.main, args)


def test_ready_with_expected_master(run_module, cluster):
    failed, result = run(run_module, login_port=cluster.replica.port, master_host='127.0.0.1',
                         master_port=cluster.master.port)
    assert not failed, result['msg']
    assert result['ready'] is True and result['changed'] is False and result['unmet'] == []
    assert result['elapsed'] < 1
    state = result['state']
    assert state['role'] == 'slave' and state['master_link_status'] == 'up'
    assert state['master_host'] == '127.0.0.1' and state['master_port'] == cluster.master.port
    assert state['master_sync_in_progress'] == 0 and isinstance(state['slave_repl_offset'], int)
    assert 'lag_bytes' not in state
    assert result['msg'] == 'Replica 127.0.0.1:%d is in sync with 127.0.0.1:%d.' % (
        cluster.replica.port, cluster.master.port)


def test_master_given_as_host_name(run_module, cluster):
    failed, result = run(run_module, login_port=cluster.replica.port, master_host='localhost',
                         master_port=cluster.master.port)
    assert not failed, result['msg']


def test_lag_is_measured_on_the_master(run_module, cluster):
    failed, result = run(run_module, login_port=cluster.replica.port, max_lag_bytes=1024 * 1024)
    assert not failed, result['msg']
    assert 0 <= result['state']['lag_bytes'] <= 1024 * 1024


def test_wrong_master_times_out_naming_the_mismatch(run_module, cluster):
    failed, result = run(run_module, login_port=cluster.replica.port, master_host='127.0.0.2',
                         master_port=cluster.master.port, timeout=0.5)
    assert failed and result['ready'] is False
    expected = '127.0.0.2:%d' % cluster.master.port
    assert 'replicates from 127.0.0.1:%d, expected %s' % (cluster.master.port, expected) in result['msg']
    assert result['unmet'] == ['replicates from 127.0.0.1:%d, expected %s' % (cluster.master.port, expected)]
    assert 0.5 <= result['elapsed'] < 1.5
    # The probe targets the expected master: nothing listens on 127.0.0.2.
    assert result['diagnosis']['peer'] == expected and result['diagnosis']['result'] == 'refused'
    assert result['diagnosis']['hint'] in result['msg']


def test_wrong_master_port(run_module, cluster, closed_port):
    failed, result = run(run_module, login_port=cluster.replica.port, master_host='127.0.0.1',
                         master_port=closed_port, timeout=0.3)
    assert failed
    assert 'expected 127.0.0.1:%d' % closed_port in result['msg']


def test_master_role_is_not_a_replica(run_module, cluster):
    failed, result = run(run_module, login_port=cluster.master.port, timeout=0.3)
    assert failed
    assert 'role is master, expected slave' in result['msg']
    assert result['state']['role'] == 'master'
    # No master address is known: the queried server itself is probed.
    assert result['diagnosis']['peer'] == cluster.master.address
    assert result['diagnosis']['result'] == 'ok'


def test_link_down_when_master_stops(run_module, nodes):
    master = nodes.server()
    replica = nodes.replica(master)
    wait_for(lambda: link_up(replica), 'the replica link to come up')
    master.stop()
    failed, result = run(run_module, login_port=replica.port, timeout=1)
    assert failed and result['ready'] is False
    assert result['state']['master_link_status'] == 'down'
    assert any(item.startswith('master_link_status is down') for item in result['unmet'])
    assert result['diagnosis']['peer'] == master.address
    assert result['diagnosis']['result'] == 'refused'
    assert 'refused' in result['msg'] and 'Nothing listens on %s' % master.address in result['msg']


def test_replica_that_is_still_starting_is_awaited(run_module, nodes):
    # A master of its own: a replica of the shared cluster's master would stay known to its
    # Sentinels (num-slaves, SENTINEL REPLICAS) after this test, if they refreshed INFO meanwhile.
    master = nodes.server()
    # Started without waiting: the module first sees connection refused, then the sync.
    replica = nodes.replica(master, wait=False)
    failed, result = run(run_module, login_port=replica.port, master_host='127.0.0.1',
                         master_port=master.port, timeout=15)
    assert not failed, result['msg']
    assert result['last_error'] is None


def test_nothing_listening_fails_with_last_error(run_module, closed_port):
    failed, result = run(run_module, login_port=closed_port, timeout=0.3)
    assert failed
    assert result['state'] == {} and 'ConnectionError' in result['last_error']
    assert result['unmet'] == ['no replication state observed']
    assert result['diagnosis']['result'] == 'refused'
    assert 'Last error: ConnectionError' in result['msg']


def test_password_protected_pair(run_module, password_pair):
    failed, result = run(run_module, login_port=password_pair.replica.port, login_password=PASSWORD,
                         master_host='127.0.0.1', master_port=password_pair.master.port,
                         max_lag_bytes=1024 * 1024)
    assert not failed, result['msg']
    assert 'lag_bytes' in result['state']


def test_wrong_password_is_diagnosed_without_leaking_it(run_module, password_pair):
    wrong = "wrong 'pass' $x #y"
    failed, result = run(run_module, login_port=password_pair.replica.port, login_password=wrong,
                         master_host='127.0.0.1', master_port=password_pair.master.port, timeout=0.3)
    assert failed
    assert 'invalid username-password pair' in result['last_error']
    assert result['diagnosis']['result'] == 'wrongpass'
    assert wrong not in json.dumps(result) and PASSWORD not in json.dumps(result)


def test_missing_password_is_diagnosed(run_module, password_pair):
    failed, result = run(run_module, login_port=password_pair.replica.port,
                         master_host='127.0.0.1', master_port=password_pair.master.port, timeout=0.3)
    assert failed
    assert result['diagnosis']['result'] == 'noauth'
    assert 'redis_password' in result['msg']


def test_check_mode_observes_once_and_never_fails(run_module, cluster, closed_port):
    failed, result = run_module(replica_wait.main, dict(login_port=closed_port, timeout=30), check_mode=True)
    assert not failed and result['ready'] is False and result['elapsed'] < 1
    assert result['msg'].startswith('Check mode')
    assert 'diagnosis' not in result

    failed, result = run_module(replica_wait.main, dict(login_port=cluster.master.port, timeout=30),
                                check_mode=True)
    assert not failed and result['ready'] is False and result['state']['role'] == 'master'

    failed, result = run_module(replica_wait.main, dict(login_port=cluster.replica.port), check_mode=True)
    assert not failed and result['ready'] is True


@pytest.mark.parametrize('args, message', [
    (dict(timeout=-1), 'timeout must not be negative'),
    (dict(poll_interval=0.5), 'poll_interval must be greater than 0 and at most 0.2'),
    (dict(poll_interval=0), 'poll_interval must be greater than 0'),
    (dict(login_port=70000), 'login_port must be between 1 and 65535'),
    (dict(master_host='x', master_port=0), 'master_port must be between 1 and 65535'),
    (dict(max_lag_bytes=-1), 'max_lag_bytes must not be negative'),
    (dict(connect_timeout=0), 'connect_timeout must be greater than 0'),
])
def test_bad_input_is_rejected_before_connecting(run_module, args, message):
    for check_mode in (False, True):
        failed, result = run_module(replica_wait.main, args, check_mode=check_mode)
        assert failed and message in result['msg']
        assert 'state' not in result
