# -*- coding: utf-8 -*-
from __future__ import annotations

from ansible_collections.redisops.sentinel.plugins.module_utils.address import Address, AddressMatcher
from ansible_collections.redisops.sentinel.plugins.module_utils.client import connect
from ansible_collections.redisops.sentinel.plugins.module_utils.replication import (
    ReplicaExpectation,
    master_repl_offset,
    replica_unmet,
    replication_state,
)

# What redis-py's info('replication') gives for a replica (values already typed).
REPLICA_INFO = {
    'role': 'slave', 'master_host': '10.0.0.11', 'master_port': 6379, 'master_link_status': 'up',
    'master_last_io_seconds_ago': 1, 'master_sync_in_progress': 0, 'slave_read_repl_offset': 1234,
    'slave_repl_offset': 1234, 'slave_priority': 100, 'slave_read_only': 1, 'connected_slaves': 0,
    'master_replid': 'b0c1', 'master_repl_offset': 1234,
}
PARAMS = dict(login_host='127.0.0.1', login_port=6379, login_user=None, login_password=None, connect_timeout=2.0)


def test_replication_state_of_a_replica():
    assert replication_state(REPLICA_INFO) == {
        'role': 'slave', 'master_host': '10.0.0.11', 'master_port': 6379, 'master_link_status': 'up',
        'master_sync_in_progress': 0, 'slave_repl_offset': 1234, 'master_last_io_seconds_ago': 1,
    }


def test_replication_state_normalises_types():
    info = dict(REPLICA_INFO, master_host=10, master_port='6380', master_link_status='down',
                master_link_down_since_seconds='7')
    state = replication_state(info)
    assert state['master_host'] == '10' and state['master_port'] == 6380
    assert state['master_link_down_since_seconds'] == 7


def test_replication_state_of_a_master():
    info = {'role': 'master', 'connected_slaves': 1, 'master_repl_offset': 99, 'slave0': {'ip': '10.0.0.12'}}
    assert replication_state(info) == {'role': 'master', 'connected_slaves': 1, 'master_repl_offset': 99}
    assert master_repl_offset(info) == 99


def expect(host=None, port=6379, lag=None):
    return ReplicaExpectation(master=AddressMatcher(Address(host, port)) if host else None, max_lag_bytes=lag)


def test_in_sync_replica_meets_everything():
    state = replication_state(REPLICA_INFO)
    assert replica_unmet(state, expect()) == []
    assert replica_unmet(state, expect('10.0.0.11')) == []
    assert replica_unmet(dict(state, lag_bytes=10), expect('10.0.0.11', lag=10)) == []


def test_each_condition_is_named():
    state = replication_state(dict(REPLICA_INFO, master_link_status='down', master_sync_in_progress=1,
                                   master_link_down_since_seconds=12))
    unmet = replica_unmet(dict(state, lag_bytes=500), expect('10.0.0.99', 6380, lag=100))
    assert unmet == [
        'replicates from 10.0.0.11:6379, expected 10.0.0.99:6380',
        'master_link_status is down for 12s, expected up (link to 10.0.0.11:6379)',
        'master_sync_in_progress is 1, expected 0 (initial sync running)',
        'lag is 500 bytes, expected at most 100',
    ]


def test_master_role_and_nothing_observed():
    assert replica_unmet({'role': 'master'}, expect())[0].startswith('role is master, expected slave')
    assert replica_unmet({}, expect()) == ['no replication state observed']
    assert 'not measured' in replica_unmet(replication_state(REPLICA_INFO), expect(lag=0))[0]


def test_real_replica_info(cluster):
    client = connect(dict(PARAMS, login_port=cluster.replica.port))
    try:
        state = replication_state(client.info('replication'))
    finally:
        client.close()
    assert state['role'] == 'slave' and state['master_link_status'] == 'up'
    assert state['master_port'] == cluster.master.port
    assert replica_unmet(state, expect('127.0.0.1', cluster.master.port)) == []
