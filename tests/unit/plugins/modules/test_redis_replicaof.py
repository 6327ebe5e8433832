# -*- coding: utf-8 -*-
"""redis_replicaof against real servers: promote, point at a master, persist, idempotence, check mode."""
from __future__ import annotations

from ansible_collections.redisops.sentinel.plugins.modules import redis_replicaof

from conftest import PASSWORD, link_up, wait_for


def args(node, **options) -> dict:
    return dict(login_host=node.host, login_port=node.port, login_password=node.password, **options)


def role(node) -> str:
    client = node.client()
    try:
        return client.info('replication')['role']
    finally:
        client.close()


def config_text(node) -> str:
    return (node.workdir / 'redis.conf').read_text()


def test_promote_then_nothing_to_do(run_module, nodes):
    master = nodes.server(password=PASSWORD)
    replica = nodes.replica(master, password=PASSWORD)
    wait_for(lambda: link_up(replica), 'the replica link')
    failed, result = run_module(redis_replicaof.main, args(replica, role='master'), check_mode=True)
    assert not failed, result['msg']
    assert result['changed'] is True and result['after'] == 'no one' and role(replica) == 'slave'
    failed, result = run_module(redis_replicaof.main, args(replica, role='master'))
    assert not failed, result['msg']
    assert result['changed'] is True and result['rewritten'] is True
    assert result['before'] == master.address and result['after'] == 'no one'
    assert result['diff'] == dict(before='replicaof %s %d\n' % (master.host, master.port), after='replicaof no one\n')
    assert role(replica) == 'master'
    assert 'replicaof' not in config_text(replica)
    failed, result = run_module(redis_replicaof.main, args(replica, role='master'))
    assert not failed and result['changed'] is False and result['rewritten'] is False


def test_point_a_master_at_another_and_persist(run_module, nodes):
    first, second = nodes.server(), nodes.server()
    options = dict(master_host='localhost', master_port=first.port)
    failed, result = run_module(redis_replicaof.main, args(second, **options), check_mode=True)
    assert not failed and result['changed'] is True and role(second) == 'master'
    failed, result = run_module(redis_replicaof.main, args(second, **options))
    assert not failed, result['msg']
    assert result['changed'] is True and result['before'] == 'no one' and result['after'] == 'localhost:%d' % first.port
    wait_for(lambda: link_up(second), 'the new replica link')
    assert 'replicaof localhost %d' % first.port in config_text(second)
    # The server reports the address it was given; a name that resolves to it matches too.
    for host in ('localhost', '127.0.0.1'):
        failed, result = run_module(redis_replicaof.main, args(second, master_host=host, master_port=first.port))
        assert not failed and result['changed'] is False, host


def test_bad_parameters_and_unreachable_server(run_module, closed_port):
    failed, result = run_module(redis_replicaof.main, dict(login_port=closed_port))
    assert failed and 'master_host is required with role=replica' in result['msg']
    failed, result = run_module(redis_replicaof.main, dict(login_port=closed_port, role='master', master_host='x'))
    assert failed and 'master_host only applies to role=replica' in result['msg']
    failed, result = run_module(redis_replicaof.main, dict(login_port=closed_port, role='master'))
    assert failed and result['changed'] is False
    assert result['msg'].startswith('Could not read INFO replication on 127.0.0.1:%d' % closed_port)


def test_over_tls(run_module, tls_cluster, tls_files):
    replica, master = tls_cluster.replica, tls_cluster.master
    failed, result = run_module(redis_replicaof.main, dict(
        login_port=replica.port, master_host=master.host, master_port=master.port, **tls_files.params()))
    assert not failed, result['msg']
    assert result['changed'] is False and result['before'] == master.address
