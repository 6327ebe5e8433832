# -*- coding: utf-8 -*-
"""recover_info against real servers whose histories were made to lag, match or diverge with REPLICAOF,
writes and REPLICAOF NO ONE."""
from __future__ import annotations

from ansible_collections.redisops.sentinel.plugins.modules import recover_info

from conftest import MASTER_NAME, command, free_port, link_up, wait_for


def offset(node) -> int:
    client = node.client()
    try:
        return int(client.info('replication')['master_repl_offset'])
    finally:
        client.close()


def write(node, count: int, prefix: str) -> None:
    client = node.client()
    try:
        for index in range(count):
            client.set('%s:%d' % (prefix, index), 'x' * 20)
    finally:
        client.close()


def caught_up(replica, master) -> None:
    wait_for(lambda: link_up(replica) and offset(replica) == offset(master),
             '%s to catch up with %s' % (replica.address, master.address))


def promote(node) -> None:
    command(node, 'REPLICAOF', 'NO', 'ONE')


def group(**named) -> dict:
    return dict(name=MASTER_NAME, bootstrap='m',
                nodes=[dict(name=name, address=node.address) for name, node in named.items()])


def run(run_module, groups, sentinels, **options):
    return run_module(recover_info.main, dict(groups=groups, sentinels=sentinels, connect_timeout=0.5, **options))


def no_sentinel() -> list[str]:
    return ['127.0.0.1:%d' % free_port()]


def trio(nodes):
    """A master m and replicas r1, r2, linked and in sync, with some keys."""
    m = nodes.server()
    r1, r2 = nodes.replica(m), nodes.replica(m)
    write(m, 20, 'base')
    caught_up(r1, m)
    caught_up(r2, m)
    return m, r1, r2


def test_every_node_a_master_recovers_from_the_one_that_went_on_longest(run_module, nodes):
    m, r1, r2 = trio(nodes)
    promote(r1)
    write(m, 10, 'second')
    caught_up(r2, m)
    promote(r2)
    write(m, 10, 'third')
    # Each promoted node keeps its old history: replid2 is m's id, second_repl_offset its offset + 1.
    info = r2.client().info('replication')
    assert info['second_repl_offset'] == info['master_repl_offset'] + 1
    failed, result = run(run_module, [group(m=m, r1=r1, r2=r2)], no_sentinel())
    assert not failed, result['msg']
    (report,) = result['groups']
    assert report['action'] == 'recover' and report['pick'] == 'm' and report['pick_address'] == m.address
    assert report['replicas'] == ['r1', 'r2'] and report['forced'] is False and report['discarded'] == []
    host, port = m.address.rsplit(':', 1)
    assert report['recovered'] == dict(name=MASTER_NAME, host=host, port=int(port), replicas=[r1.address, r2.address])
    assert result['recover'] == [report]
    rows = {row['name']: row for row in report['nodes']}
    assert rows['r1']['master_replid2'] == rows['m']['master_replid'] and rows['m']['master_replid2'] is None
    assert rows['r2']['second_repl_offset'] == rows['r2']['master_repl_offset'] + 1
    assert result['summary'][0].startswith('%s: recover from m (%s)' % (MASTER_NAME, m.address))
    assert result['changed'] is False


def test_without_the_old_master_the_latest_promoted_node_wins_if_allowed(run_module, nodes):
    m, r1, r2 = trio(nodes)
    promote(r1)
    write(m, 10, 'second')
    caught_up(r2, m)
    promote(r2)
    m.stop()
    failed, result = run(run_module, [group(m=m, r1=r1, r2=r2)], no_sentinel())
    assert failed and result['groups'][0]['action'] == 'refuse' and result['groups'][0]['recovered'] is None
    assert 'm do(es) not answer' in result['msg'] and 'redis_recover_ignore_unreachable' in result['msg']
    assert '%s (%s): does not answer' % ('m', m.address) in result['msg']
    assert '(probe: refused, Nothing listens on %s' % m.address in result['msg']
    failed, result = run(run_module, [group(m=m, r1=r1, r2=r2)], no_sentinel(), ignore_unreachable=True)
    assert not failed, result['msg']
    (report,) = result['groups']
    assert report['pick'] == 'r2' and report['replicas'] == ['r1'] and report['skipped'] == ['m']
    assert report['recovered']['replicas'] == [r1.address]


def test_every_node_a_replica_of_a_lost_master(run_module, nodes, closed_port):
    m, r1, r2 = trio(nodes)
    # r2 loses its master first (a replica of an absent node), r1 gets more writes, then m is gone.
    command(r2, 'REPLICAOF', '127.0.0.1', str(closed_port))
    write(m, 10, 'second')
    caught_up(r1, m)
    m.stop()
    failed, result = run(run_module, [group(m=m, r1=r1, r2=r2)], no_sentinel(), ignore_unreachable=True)
    assert not failed, result['msg']
    (report,) = result['groups']
    assert report['pick'] == 'r1' and report['replicas'] == ['r2']
    rows = {row['name']: row for row in report['nodes']}
    assert rows['r1']['role'] == rows['r2']['role'] == 'slave'
    assert rows['r1']['master_replid'] == rows['r2']['master_replid']
    assert rows['r1']['master_repl_offset'] > rows['r2']['master_repl_offset']


def test_equal_histories_prefer_the_bootstrap_master(run_module, nodes):
    m, r1, r2 = trio(nodes)
    promote(r1)
    promote(r2)
    failed, result = run(run_module, [group(m=m, r1=r1, r2=r2)], no_sentinel())
    assert not failed, result['msg']
    assert result['groups'][0]['pick'] == 'm'
    failed, result = run(run_module, [dict(group(m=m, r1=r1, r2=r2), bootstrap=None)], no_sentinel())
    assert result['groups'][0]['pick'] == 'm'
    failed, result = run(run_module, [dict(group(r2=r2, r1=r1), bootstrap='m')], no_sentinel())
    assert result['groups'][0]['pick'] == 'r1'


def test_diverged_histories_are_refused_then_forced(run_module, nodes):
    m, r1, r2 = trio(nodes)
    promote(r1)
    write(r1, 5, 'only-r1')
    write(m, 5, 'only-m')
    caught_up(r2, m)
    failed, result = run(run_module, [group(m=m, r1=r1, r2=r2)], no_sentinel())
    assert failed and result['groups'][0]['action'] == 'refuse' and result['recover'] == []
    assert result['msg'].startswith('Recovery refused, nothing was changed. %s: REFUSED: the histories of m, r1 '
                                    'diverged' % MASTER_NAME)
    assert 'redis_recover_from=HOST' in result['msg']
    for name, node in (('m', m), ('r1', r1), ('r2', r2)):
        assert '%s (%s): ' % (name, node.address) in result['msg']
    assert 'master_replid2' in result['msg'] and 'second_repl_offset' in result['msg']
    failed, result = run(run_module, [group(m=m, r1=r1, r2=r2)], no_sentinel(), recover_from='r1')
    assert not failed, result['msg']
    (report,) = result['groups']
    assert report['pick'] == 'r1' and report['forced'] is True and report['discarded'] == ['m', 'r2']
    failed, result = run(run_module, [group(m=m, r1=r1, r2=r2)], no_sentinel(), recover_from=m.address)
    assert result['groups'][0]['pick'] == 'm' and result['groups'][0]['discarded'] == ['r1']


def test_agreeing_sentinels_mean_nothing_to_recover(run_module, cluster):
    groups = [dict(name=MASTER_NAME, bootstrap='m', nodes=[dict(name='m', address=cluster.master.address),
                                                           dict(name='r', address=cluster.replica.address)])]
    failed, result = run(run_module, groups, [node.address for node in cluster.sentinels])
    assert not failed, result['msg']
    (report,) = result['groups']
    assert report['action'] == 'none', result['summary']
    assert report['pick'] is None and report['replicas'] == []
    assert 'agree on master m' in report['reason'] and result['recover'] == []
    assert all(row['master'] == cluster.master.address for row in report['sentinels'])


def test_bad_parameters_are_refused_before_connecting(run_module, closed_port):
    groups = [dict(name=MASTER_NAME, nodes=[dict(name='m', address='127.0.0.1:99999')])]
    failed, result = run(run_module, groups, ['127.0.0.1:%d' % closed_port], recover_from='nobody')
    assert failed and 'port must be between 1 and 65535' in result['msg']
    groups = [dict(name=MASTER_NAME, nodes=[dict(name='m', address='127.0.0.1:%d' % closed_port)])]
    failed, result = run(run_module, groups, ['127.0.0.1:%d' % closed_port], recover_from='nobody')
    assert failed and "recover_from is 'nobody', which is no data node" in result['msg']


def test_over_tls(run_module, tls_cluster, tls_files):
    groups = [dict(name=MASTER_NAME, nodes=[dict(name='m', address=tls_cluster.master.address),
                                            dict(name='r', address=tls_cluster.replica.address)])]
    failed, result = run(run_module, groups, [node.address for node in tls_cluster.sentinels], **tls_files.params())
    assert not failed, result['msg']
    (report,) = result['groups']
    assert report['action'] == 'none' and all(row['reachable'] for row in report['nodes'])
