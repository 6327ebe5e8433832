# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest
from redis.exceptions import ResponseError

from ansible_collections.redisops.sentinel.plugins.module_utils.address import AddressMatcher, parse_address
from ansible_collections.redisops.sentinel.plugins.module_utils.client import connect
from ansible_collections.redisops.sentinel.plugins.module_utils.sentinel import (
    SentinelExpectation,
    evaluate,
    observe,
    pairs_to_dict,
    sentinel_master,
    sentinel_replicas,
)

from conftest import MASTER_NAME, wait_for

PARAMS = dict(login_host='127.0.0.1', login_user=None, login_password=None, connect_timeout=2.0)


def node(ip, port, flags, **extra):
    return dict(ip=ip, port=port, flags=flags, **extra)


def healthy_state():
    return dict(
        master=node('10.0.0.11', 6379, ['master'], name='mymaster', quorum=2),
        replicas=[node('10.0.0.12', 6379, ['slave']), node('10.0.0.13', 6379, ['slave'])],
        sentinels=[node('10.0.0.12', 26379, ['sentinel']), node('10.0.0.13', 26379, ['sentinel'])],
        ckquorum='OK 3 usable Sentinels. Quorum and failover authorization can be reached',
    )


def matchers(*texts):
    return [AddressMatcher(parse_address(text, 0)) for text in texts]


def full_expectation(**overrides):
    values = dict(
        name='mymaster', master=matchers('10.0.0.11:6379')[0], replica_count=2,
        replicas=matchers('10.0.0.12:6379', '10.0.0.13:6379'), sentinel_count=3,
        sentinels=matchers('10.0.0.12:26379', '10.0.0.13:26379'))
    values.update(overrides)
    return SentinelExpectation(**values)


def test_pairs_to_dict_types_values_and_splits_flags():
    flat = ['name', 'mymaster', 'ip', '10.0.0.11', 'port', '6379', 'runid', '0123', 'flags', 'master,s_down',
            'quorum', '2', 'config-epoch', '-1', 'info-refresh', '123', 'role-reported', 'master']
    assert pairs_to_dict(flat) == {
        'name': 'mymaster', 'ip': '10.0.0.11', 'port': 6379, 'runid': '0123', 'flags': ['master', 's_down'],
        'quorum': 2, 'config-epoch': -1, 'info-refresh': 123, 'role-reported': 'master'}


def test_healthy_state_meets_full_expectation():
    assert evaluate(healthy_state(), full_expectation()).unmet == []


def test_down_and_missing_peers_are_named():
    state = healthy_state()
    state['master']['flags'] = ['master', 's_down', 'o_down']
    state['replicas'][1]['flags'] = ['slave', 's_down', 'disconnected']
    state['sentinels'][0]['flags'] = ['sentinel', 's_down']
    state['ckquorum'] = 'NOQUORUM 1 usable Sentinels.'
    report = evaluate(state, full_expectation())
    assert report.missing_replicas == ['10.0.0.13:6379']
    assert report.missing_sentinels == ['10.0.0.12:26379']
    assert report.down_replicas == ['10.0.0.13:6379 (slave,s_down,disconnected)']
    text = '\n'.join(report.unmet)
    assert 'master 10.0.0.11:6379 has flags master,s_down,o_down (s_down, o_down)' in text
    assert '1 healthy replica(s) known to the Sentinel, expected 2' in text
    assert '2 Sentinel(s) (this one and 1 other(s) not down), expected 3' in text
    assert 'CKQUORUM mymaster failed: NOQUORUM' in text


def test_unexpected_and_wrong_master():
    state = healthy_state()
    state['replicas'].append(node('10.0.0.14', 6379, ['slave']))
    report = evaluate(state, full_expectation(master=matchers('10.0.0.99:6379')[0]))
    assert report.unexpected_replicas == ['10.0.0.14:6379']
    assert 'master is 10.0.0.11:6379, expected 10.0.0.99:6379' in report.unmet


def test_counts_only_and_no_quorum_check():
    state = dict(healthy_state(), ckquorum=None)
    expectation = SentinelExpectation(name='mymaster', replica_count=2, sentinel_count=3, check_quorum=False)
    assert evaluate(state, expectation).unmet == []


def test_unknown_master_and_no_answer():
    state = dict(master=None, replicas=[], sentinels=[], ckquorum=None)
    [unmet] = evaluate(state, SentinelExpectation(name='other')).unmet
    assert 'No such master with that name' in unmet and "'sentinel monitor other ...'" in unmet
    assert evaluate({}, SentinelExpectation(name='x')).unmet == ['no answer from the Sentinel']


def test_real_sentinel_replies(cluster):
    client = connect(dict(PARAMS, login_port=cluster.sentinels[0].port))
    try:
        state = observe(client, MASTER_NAME, check_quorum=True)
        assert sentinel_master(client, 'unknown') is None
    finally:
        client.close()
    master = state['master']
    assert master['name'] == MASTER_NAME and master['port'] == cluster.master.port
    assert master['flags'] == ['master'] and master['quorum'] == 2 and master['num-other-sentinels'] == 2
    assert [(r['ip'], r['port'], r['flags']) for r in state['replicas']] == [
        ('127.0.0.1', cluster.replica.port, ['slave'])]
    assert sorted(s['port'] for s in state['sentinels']) == sorted(s.port for s in cluster.sentinels[1:])
    assert state['ckquorum'].startswith('OK 3 usable Sentinels')


def test_replicas_fall_back_to_slaves(cluster, nodes):
    # A Sentinel whose ACL forbids SENTINEL REPLICAS answers like a pre-5.0 server would not
    # know it: the helper must then ask SENTINEL SLAVES.
    sentinel = nodes.sentinel(cluster.master, 'user default on nopass ~* &* +@all -sentinel|replicas',
                              quorum=2, name='aclcheck')
    client = connect(dict(PARAMS, login_port=sentinel.port))
    try:
        with pytest.raises(ResponseError, match='no permissions'):
            client.execute_command('SENTINEL', 'REPLICAS', 'aclcheck')
        wait_for(lambda: len(sentinel_replicas(client, 'aclcheck')) == 1, 'the replica via SENTINEL SLAVES')
        [replica] = sentinel_replicas(client, 'aclcheck')
    finally:
        client.close()
    assert replica['port'] == cluster.replica.port
