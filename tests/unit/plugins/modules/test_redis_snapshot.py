# -*- coding: utf-8 -*-
"""redis_snapshot and redis_dataset against real redis-server processes."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from ansible_collections.redisops.sentinel.plugins.modules import redis_dataset, redis_snapshot

from conftest import PASSWORD, link_up, wait_for


def args(node, **extra) -> dict:
    return dict(login_host=node.host, login_port=node.port, login_password=node.password, **extra)


def fill(client) -> None:
    """One key of every type, in two databases, with binary names and values."""
    client.set(b'str\xff', b'\x00\x01binary')
    client.rpush('list', 'a', 'b', 'a')
    client.sadd('set', *('member%d' % number for number in range(300)))
    client.hset('hash', mapping={'f%d' % number: 'v%d' % number for number in range(200)})
    client.zadd('zset', {'one': 1, 'tenth': 0.1, 'big': 1e300})
    client.xadd('stream', {'field': 'value'}, id='1-1')
    client.execute_command('SELECT', 3)
    client.set('other', 'db')


def aof_written(node) -> bool:
    state = node.client().info('persistence')
    return state['aof_rewrite_in_progress'] == 0 and state['aof_rewrite_scheduled'] == 0 and state['aof_rewrites'] > 0


def sha256(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def pair(nodes):
    """A master with data and a replica in sync, both with AOF (Redis 7 directory)."""
    master = nodes.server(password=PASSWORD)
    replica = nodes.replica(master, password=PASSWORD)
    wait_for(lambda: link_up(replica), 'the replica link to come up')
    for node in (master, replica):
        node.client().config_set('appendonly', 'yes')
        wait_for(lambda node=node: aof_written(node), 'the AOF of %s' % node.address)
    client = master.client()
    fill(client)
    client.execute_command('WAIT', 1, 5000)
    client.close()
    return master, replica


def test_snapshot_of_a_replica(run_module, pair, tmp_path):
    master, replica = pair
    stage = str(tmp_path / 'stage')
    failed, result = run_module(redis_snapshot.main, args(replica, stage_dir=stage, group='mymaster'))
    assert not failed, result['msg']
    assert result['changed'] and result['triggered']
    assert result['persistence']['rdb_bgsave_in_progress'] == 0
    assert result['persistence']['rdb_last_bgsave_status'] == 'ok'
    # The RDB is the server's file, hard-linked into the stage directory.
    live = os.path.join(replica.workdir, 'dump.rdb')
    assert result['rdb']['path'] == os.path.join(stage, 'dump.rdb')
    assert os.stat(result['rdb']['path']).st_ino == os.stat(live).st_ino
    assert oct(os.stat(stage).st_mode & 0o777) == '0o700'
    names = [item['name'] for item in result['files']]
    assert names[0] == 'dump.rdb'
    assert any(name.startswith('appendonlydir/') and name.endswith('.manifest') for name in names)
    for item in result['files']:
        assert item['sha256'] == sha256(item['path']) and item['size'] == os.path.getsize(item['path'])
    manifest = result['manifest']
    assert manifest['group'] == 'mymaster' and manifest['role'] == 'slave'
    assert manifest['server'] in ('redis', 'valkey') and manifest['version'][0].isdigit()
    master_info = master.client().info('replication')
    assert manifest['master_replid'] == master_info['master_replid']
    assert manifest['appendonly'] and manifest['appenddirname'] == 'appendonlydir'
    assert manifest['dir'] == str(replica.workdir)
    dataset = result['dataset']
    assert dataset['keys'] == 7 and dataset['databases'] == {'db0': 6, 'db3': 1}
    assert dataset['exact']


def test_digest_equal_on_every_node_and_changes_with_the_data(run_module, pair):
    master, replica = pair
    digests = [run_module(redis_dataset.main, args(node))[1] for node in (master, replica)]
    assert digests[0]['digest'] == digests[1]['digest'] and digests[0]['keys'] == 7
    assert [item['role'] for item in digests] == ['master', 'slave']
    client = master.client()
    client.hset('hash', 'f1', 'changed')
    failed, changed = run_module(redis_dataset.main, args(master))
    assert not failed and changed['digest'] != digests[0]['digest'] and changed['keys'] == 7
    client.hset('hash', 'f1', 'v1')
    failed, back = run_module(redis_dataset.main, args(master))
    assert back['digest'] == digests[0]['digest']
    client.close()


def test_digest_ignores_encoding(run_module, nodes):
    """A set that grew past its compact encoding and shrank again keeps a hashtable: same digest."""
    small, grown = nodes.server(), nodes.server()
    small.client().sadd('set', '1', '2')
    client = grown.client()
    client.sadd('set', '2', *('m%d' % number for number in range(1000)))
    client.srem('set', *('m%d' % number for number in range(1000)))
    client.sadd('set', '1')
    assert client.object('encoding', 'set') != small.client().object('encoding', 'set')
    digests = [run_module(redis_dataset.main, args(node))[1]['digest'] for node in (small, grown)]
    assert digests[0] == digests[1]


def test_empty_server(run_module, nodes):
    failed, result = run_module(redis_dataset.main, args(nodes.server()))
    assert not failed and result['keys'] == 0 and result['digest'] == '0' * 64


def test_digest_not_exact_when_writes_arrive(run_module, nodes, monkeypatch):
    """A write between the save and the end of the digest: the digest does not describe the snapshot."""
    server = nodes.server()
    client = server.client()
    client.set('key', 'before')
    real = redis_snapshot.dataset_digest

    def digest_then_write(raw):
        found = real(raw)
        client.set('key', 'after')
        return found

    monkeypatch.setattr(redis_snapshot, 'dataset_digest', digest_then_write)
    failed, result = run_module(redis_snapshot.main, args(server))
    assert not failed and result['dataset']['exact'] is False
    assert 'may differ' in result['msg']


def test_joins_a_save_in_progress(run_module, nodes):
    """A BGSAVE that runs is waited for, not refused."""
    server = nodes.server('rdb-key-save-delay 2000')
    client = server.client()
    client.mset({'k%d' % number: number for number in range(500)})
    client.bgsave()
    wait_for(lambda: client.info('persistence')['rdb_bgsave_in_progress'] == 1, 'the save to run')
    failed, result = run_module(redis_snapshot.main, args(server, digest=False, timeout=30))
    assert not failed, result['msg']
    assert result['triggered'] is False and result['persistence']['rdb_bgsave_in_progress'] == 0
    assert 'dataset' not in result


def test_failed_save_fails_at_once(run_module, nodes, tmp_path):
    """The save cannot replace its file (a directory in its place): the task fails with the status, at once."""
    server = nodes.server()
    (server.workdir / 'dump.rdb').mkdir()
    failed, result = run_module(redis_snapshot.main, args(server, timeout=30))
    assert failed and result['changed'] and 'rdb_last_bgsave_status:err' in result['msg']


def test_aof_rewrite(run_module, nodes):
    server = nodes.server()
    client = server.client()
    client.set('key', 'value')
    client.config_set('appendonly', 'yes')
    failed, result = run_module(redis_snapshot.main, args(server, kind='aof'))
    assert not failed, result['msg']
    assert result['persistence']['aof_rewrite_in_progress'] == 0
    assert result['persistence']['aof_last_bgrewrite_status'] == 'ok'
    assert any(item['name'].endswith('.base.rdb') for item in result['files'])
    assert 'dataset' not in result


def test_check_mode_asks_for_no_save(run_module, nodes, tmp_path):
    server = nodes.server()
    before = server.client().info('persistence')['rdb_saves']
    failed, result = run_module(redis_snapshot.main, args(server, stage_dir=str(tmp_path / 'stage')),
                                check_mode=True)
    assert not failed and result['changed'] and not result['triggered']
    assert server.client().info('persistence')['rdb_saves'] == before
    assert not (tmp_path / 'stage').exists()
    assert result['dataset']['exact'] is False


def test_bad_parameters_change_nothing(run_module, nodes):
    server = nodes.server()
    before = server.client().info('persistence')['rdb_saves']
    failed, result = run_module(redis_snapshot.main, args(server, stage_dir='relative/dir', poll_interval=5))
    assert failed and 'stage_dir must be an absolute path' in result['msg'] and 'poll_interval' in result['msg']
    assert server.client().info('persistence')['rdb_saves'] == before


def test_wrong_password_is_reported(run_module, password_pair):
    failed, result = run_module(redis_snapshot.main, dict(args(password_pair.replica), login_password='wrong'))
    assert failed and ('WRONGPASS' in result['msg'] or 'invalid' in result['msg'].lower()), result['msg']
    failed, result = run_module(redis_dataset.main, dict(args(password_pair.replica), login_password='wrong',
                                                         timeout=0))
    assert failed


def test_dataset_waits_for_the_server(run_module, nodes, closed_port):
    failed, result = run_module(redis_dataset.main, dict(login_host='127.0.0.1', login_port=closed_port, timeout=0.3))
    assert failed and 'did not answer' in result['msg'] and 'Connection' in result['msg']


def test_over_tls(run_module, tls_cluster, tls_files):
    """Both modules speak TLS with the client certificate, like the other modules."""
    replica = tls_cluster.replica
    tls = dict(login_host=replica.host, login_port=replica.port, **tls_files.params())
    failed, snapshot = run_module(redis_snapshot.main, dict(tls, timeout=30))
    assert not failed, snapshot['msg']
    failed, dataset = run_module(redis_dataset.main, tls)
    assert not failed, dataset['msg']
    assert dataset['digest'] == snapshot['dataset']['digest']
    failed, refused = run_module(redis_dataset.main, dict(tls, tls_cert_file=None, tls_key_file=None, timeout=0))
    assert failed
