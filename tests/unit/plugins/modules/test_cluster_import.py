# -*- coding: utf-8 -*-
"""cluster_import: a standalone server's data set (every type, expiry times, hash tags, another database)
copied into a real cluster, with the source's password, refused into a cluster that holds keys."""
from __future__ import annotations

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils.reshard import key_slot
from ansible_collections.redisops.sentinel.plugins.modules import cluster_import

from conftest import NodeFactory, RedisNode
from test_cluster_modules import command, form, start
from test_cluster_reshard import cluster_client

SECRET = 's3cret with space'


def write_data_set(source: RedisNode) -> None:
    client = source.client()
    try:
        pipe = client.pipeline(transaction=False)
        for index in range(1500):
            pipe.set('str:%d' % index, 'v%d' % index)
        pipe.hset('hash', mapping={'a': '1', 'b': '2'})
        pipe.rpush('list', 'x', 'y', 'z')
        pipe.sadd('set', 'p', 'q')
        pipe.zadd('zset', {'m': 1.5, 'n': 2})
        pipe.xadd('stream', {'f': 'v'})
        pipe.set('{tag}:a', '1')
        pipe.set('{tag}:b', '2')
        pipe.set('ttl', 'soon', ex=3600)
        pipe.execute()
        client.set(b'bin:\xff\xfe', b'\x00\x80\xff')
        client.execute_command('SELECT', 3)
        client.set('db3-only', 'x')
    finally:
        client.close()


@pytest.fixture
def setup(nodes: NodeFactory) -> tuple[RedisNode, list[RedisNode]]:
    source = nodes.server(password=SECRET)
    write_data_set(source)
    members = start(nodes, 3)
    form(members, 3)
    return source, members


def run(run_module, source: RedisNode, members: list[RedisNode], check_mode: bool = False, **args):
    return run_module(cluster_import.main, dict(dict(login_host=members[0].host, login_port=members[0].port,
                                                     source_host=source.host, source_port=source.port,
                                                     source_password=SECRET), **args), check_mode=check_mode)


def test_key_slot_is_the_cluster_s(setup):
    _source, members = setup
    for key in (b'foo', b'{user1000}.following', b'{}x', b'a{b}c{d}', b'{', b'x' * 300, 'ключ'.encode()):
        assert key_slot(key) == int(command(members[0], 'CLUSTER', 'KEYSLOT', key)), key


def test_import_copies_every_key_with_its_type_value_and_expiry(run_module, setup):
    source, members = setup
    failed, counted = run(run_module, source, members, check_mode=True)
    assert not failed and counted['keys'] == 1509 and sum(counted['copied'].values()) == 1509
    assert sum(int(command(node, 'DBSIZE')) for node in members) == 0, 'check mode copied keys'

    failed, result = run(run_module, source, members)
    assert not failed, result['msg']
    assert result['changed'] and result['keys'] == 1509 and result['kept_batches'] == 0
    cluster = cluster_client(members)
    try:
        assert sum(int(command(node, 'DBSIZE')) for node in members) == 1509
        assert cluster.get('str:1234') == 'v1234'
        assert cluster.hgetall('hash') == {'a': '1', 'b': '2'}
        assert cluster.lrange('list', 0, -1) == ['x', 'y', 'z']
        assert cluster.smembers('set') == {'p', 'q'}
        assert cluster.zrange('zset', 0, -1, withscores=True) == [('m', 1.5), ('n', 2.0)]
        assert cluster.xlen('stream') == 1
        assert cluster.get('{tag}:b') == '2' and 0 < cluster.ttl('ttl') <= 3600
        assert cluster.get('db3-only') is None
    finally:
        cluster.close()
    raw = cluster_client(members, decode=False)
    assert raw.get(b'bin:\xff\xfe') == b'\x00\x80\xff'
    raw.close()
    assert int(command(source, 'DBSIZE')) == 1509, 'the source lost keys'

    failed, refused = run(run_module, source, members)
    assert failed and 'already holds keys' in refused['msg'] and not refused['changed']
    failed, again = run(run_module, source, members, replace=True, source_db=3)
    assert not failed and again['keys'] == 1
    cluster = cluster_client(members)
    assert cluster.get('db3-only') == 'x'
    cluster.close()


def test_wrong_source_password_is_named(run_module, setup):
    source, members = setup
    failed, result = run_module(cluster_import.main, dict(login_host=members[0].host, login_port=members[0].port,
                                                          source_host=source.host, source_port=source.port,
                                                          source_password='wrong'))
    assert failed and ('wrongpass' in result['msg'].lower() or 'invalid' in result['msg'].lower()), result['msg']
    assert 'cannot read the source %s' % source.address in result['msg'] and not result['changed']
    assert SECRET not in str(result)


@pytest.mark.parametrize('args, error', [
    (dict(source_db=16), 'source_db must be between 0 and 15'),
    (dict(batch=0), 'batch must be at least 1'),
    (dict(source_port=0), 'source_port'),
])
def test_refuses_bad_parameters(run_module, args, error):
    failed, result = run_module(cluster_import.main, dict(dict(source_host='127.0.0.1'), **args))
    assert failed and error in result['msg']
