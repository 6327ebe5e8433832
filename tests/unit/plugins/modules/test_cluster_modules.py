# -*- coding: utf-8 -*-
"""cluster_info, cluster_wait and cluster_create against real cluster-enabled redis-server processes."""
from __future__ import annotations

import random
import socket
import time
from typing import Callable

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import SLOT_COUNT, split_slots
from ansible_collections.redisops.sentinel.plugins.modules import cluster_create, cluster_info, cluster_wait

from conftest import REDIS_SERVER, NodeFactory, RedisNode, TlsFiles, TlsNode, command, wait_for

CLUSTER_CONFIG = ('cluster-enabled yes', 'cluster-node-timeout 3000')
SETTLE_TIMEOUT = 30
BUS_OFFSET = 10000


def cluster_port() -> int:
    """A free port at most 55535 whose bus port (port + 10000) is free too."""
    while True:
        port = random.randint(20000, 55535)
        try:
            for candidate in (port, port + BUS_OFFSET):
                with socket.socket() as sock:
                    sock.bind(('127.0.0.1', candidate))
        except OSError:
            continue
        return port


def start(factory: NodeFactory, count: int) -> list[RedisNode]:
    return [factory.server(*CLUSTER_CONFIG, port=cluster_port()) for dummy in range(count)]


def myid(node: RedisNode) -> str:
    return command(node, 'CLUSTER', 'MYID')


def addresses(nodes: list[RedisNode]) -> list[str]:
    return [node.address for node in nodes]


def known(node: RedisNode) -> list[list[str]]:
    return [line.split() for line in command(node, 'CLUSTER', 'NODES').splitlines()]


def info(node: RedisNode) -> dict[str, str]:
    return dict(line.split(':', 1) for line in command(node, 'CLUSTER', 'INFO').split())


def settled(nodes: list[RedisNode], assigned: int) -> bool:
    """Every node knows all the others (no handshake), sees ``assigned`` slots assigned and the same
    config epochs, and reports cluster_state:ok when all slots are assigned."""
    epochs = set()
    for node in nodes:
        lines = known(node)
        if len(lines) != len(nodes) or any('handshake' in line[2] or 'noaddr' in line[2] for line in lines):
            return False
        state = info(node)
        if int(state['cluster_slots_assigned']) != assigned or (
                assigned == SLOT_COUNT and state['cluster_state'] != 'ok'):
            return False
        epochs.add(frozenset((line[0], line[6]) for line in lines if 'master' in line[2]))
    return len(epochs) == 1


def form(nodes: list[RedisNode], masters: int, replica_of: dict[int, int] | None = None,
         slots: list[tuple[int, int]] | None = None) -> None:
    """A cluster made by hand (as an operator or another tool would): slots, MEET, REPLICATE."""
    slots = slots or split_slots(masters)
    for node, (first, last) in zip(nodes, slots):
        command(node, 'CLUSTER', 'ADDSLOTSRANGE', first, last)
    for node in nodes[1:]:
        command(nodes[0], 'CLUSTER', 'MEET', '127.0.0.1', node.port)
    assigned = sum(last - first + 1 for first, last in slots)
    wait_for(lambda: settled(nodes, assigned), 'the nodes to know each other', SETTLE_TIMEOUT)
    for replica, master in (replica_of or {}).items():
        command(nodes[replica], 'CLUSTER', 'REPLICATE', myid(nodes[master]))
    replica_ids = {myid(nodes[replica]) for replica in replica_of or {}}
    for replica in replica_of or {}:
        wait_for(lambda node=nodes[replica]: node.client().info('replication').get('master_link_status') == 'up',
                 'the replica link of %s' % nodes[replica].address, SETTLE_TIMEOUT)
    wait_for(lambda: all(replica_ids <= {line[0] for line in known(node) if 'slave' in line[2]} for node in nodes),
             'every node to see the replicas', SETTLE_TIMEOUT)


def wait(run_module, members: list[RedisNode], **args):
    args = dict(dict(nodes=addresses(members), timeout=SETTLE_TIMEOUT), **args)
    return run_module(cluster_wait.main, args)


def create(run_module, members: list[RedisNode], check_mode: bool = False, **args):
    return run_module(cluster_create.main, dict(dict(nodes=addresses(members)), **args), check_mode=check_mode)


@pytest.fixture(scope='module')
def six(tmp_path_factory) -> list[RedisNode]:
    """Three masters (nodes 0-2) and a replica of each (3 of 0, 4 of 1, 5 of 2), made by hand."""
    factory = NodeFactory(tmp_path_factory.mktemp('cluster-six'))
    try:
        nodes = start(factory, 6)
        form(nodes, 3, {3: 0, 4: 1, 5: 2})
        yield nodes
    finally:
        factory.stop_all()


def test_wait_ready_on_a_healthy_cluster(run_module, six):
    failed, result = wait(run_module, six)
    assert not failed, result['msg']
    assert result['ready'] and result['unmet'] == [] and result['changed'] is False
    assert result['msg'] == 'Cluster of 6 nodes is healthy (3 masters, at least 1 replica(s) each).'
    assert sorted(view['role'] for view in result['state']['nodes']) == ['master'] * 3 + ['replica'] * 3


def test_wait_finds_the_members_from_the_login_node(run_module, six):
    failed, result = run_module(cluster_wait.main, dict(login_port=six[4].port, timeout=5))
    assert not failed, result['msg']
    assert len(result['state']['nodes']) == 6


def test_wait_for_more_replicas_times_out_naming_each_master(run_module, six):
    failed, result = wait(run_module, six, replicas=2, timeout=0.3)
    assert failed and not result['ready']
    assert len(result['unmet']) == 3
    assert all('has 1 usable replica(s), expected at least 2' in reason for reason in result['unmet'])
    assert 'master %s (slots 0-5460) has 1 usable replica(s)' % six[0].address in result['msg']
    assert result['diagnosis'] == []


def test_wait_names_a_node_that_cannot_be_reached(run_module, six, closed_port):
    failed, result = wait(run_module, six, nodes=addresses(six) + ['127.0.0.1:%d' % closed_port], timeout=0.3)
    assert failed
    assert result['unmet'][0].startswith('127.0.0.1:%d: cannot be observed (ConnectionError' % closed_port)
    assert result['diagnosis'][0]['peer'] == '127.0.0.1:%d' % closed_port
    assert result['diagnosis'][0]['result'] == 'refused'


def test_wait_names_a_member_that_is_not_expected(run_module, six):
    failed, result = wait(run_module, six[:5], timeout=0.3)
    assert failed
    assert result['unmet'] == ['%s: is a member (known to %s) but not one of the expected nodes'
                               % (six[5].address, six[0].address)]


def test_info_reports_nodes_shards_and_health(run_module, six):
    failed, result = run_module(cluster_info.main, dict(login_port=six[0].port, replicas=1))
    assert not failed, result['msg']
    assert result['healthy'] and result['problems'] == [] and result['open_slots'] == []
    assert result['info']['cluster_state'] == 'ok' and result['info']['cluster_known_nodes'] == 6
    me = next(node for node in result['nodes'] if 'myself' in node['flags'])
    assert me['address'] == six[0].address and me['slots'] == ['0-5460'] and me['bus_port'] == six[0].port + 10000
    replica = next(node for node in result['nodes'] if node['address'] == six[3].address)
    assert replica['role'] == 'replica' and replica['master_id'] == me['id'] and replica['link_state'] == 'connected'
    assert sorted(shard['slots'][0] for shard in result['shards']) == ['0-5460', '10923-16383', '5461-10922']
    assert all(len(shard['nodes']) == 2 for shard in result['shards'])
    assert len(result['views']) == 6


def test_info_fails_on_a_node_without_cluster_support(run_module, nodes):
    plain = nodes.server()
    failed, result = run_module(cluster_info.main, dict(login_port=plain.port))
    assert failed and 'cluster support disabled' in result['msg']


def test_create_changes_nothing_on_an_existing_cluster(run_module, six):
    for check_mode in (True, False):
        failed, result = create(run_module, six, check_mode=check_mode)
        assert not failed, result['msg']
        assert result['changed'] is False and result['action'] == 'none' and result['plan'] == []


def test_uncovered_slot(run_module, nodes):
    three = start(nodes, 3)
    form(three, 3, slots=[(0, 5460), (5461, 10922), (10923, 16382)])
    failed, result = wait(run_module, three, replicas=0, timeout=0.3)
    assert failed
    assert '1 of 16384 slots are served by no master (16383), as %s sees it' % three[0].address in result['unmet']
    assert '%s: cluster_state is fail (16383 of 16384 slots assigned' % three[0].address in result['msg']


def test_node_that_disagrees_on_the_slot_map(run_module, nodes):
    three = start(nodes, 3)
    form(three, 3)
    # The owner forgets slot 0 (as after a lost config); the others still route it there.
    command(three[0], 'CLUSTER', 'DELSLOTS', 0)
    failed, result = wait(run_module, three, replicas=0, timeout=0.3)
    assert failed
    disagreement = ('%s: disagrees with %s on the owner of 1 slot(s) (0): slot 0 is served by %s here, by no master '
                    'there' % (three[1].address, three[0].address, three[0].address))
    assert disagreement in result['unmet']


def test_missing_replica(run_module, nodes):
    five = start(nodes, 5)
    form(five, 3, {3: 0, 4: 1})
    failed, result = wait(run_module, five, timeout=0.3)
    assert failed
    assert result['unmet'] == ['master %s (slots 10923-16383) has 0 usable replica(s), expected at least 1'
                               % five[2].address]


def test_half_done_migration_is_reported_and_blocks_create(run_module, nodes):
    three = start(nodes, 3)
    form(three, 3)
    source, target = three[:2]
    slot = 0
    key = next(name for name in ('k%d' % index for index in range(100000))
               if command(source, 'CLUSTER', 'KEYSLOT', name) == slot)
    command(source, 'SET', key, 'value')
    command(target, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', myid(source))
    command(source, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', myid(target))
    command(source, 'MIGRATE', '127.0.0.1', target.port, key, 0, 5000)
    failed, result = wait(run_module, three, replicas=0, timeout=0.3)
    assert failed
    assert result['unmet'] == [
        '%s: slot 0 is migrating to %s (a slot migration is half done)' % (source.address, target.address),
        '%s: slot 0 is importing from %s (a slot migration is half done)' % (target.address, source.address)]
    failed, result = run_module(cluster_info.main, dict(login_port=source.port))
    assert not failed and not result['healthy']
    assert [(item['node'], item['state']) for item in result['open_slots']] == [
        (source.address, 'migrating'), (target.address, 'importing')]

    newcomer = start(nodes, 1)
    failed, result = create(run_module, three + newcomer, replicas=0)
    assert failed and result['changed'] is False
    assert result['msg'].startswith('The cluster is not ok, nothing changed: ')
    assert 'slot 0 is migrating to' in result['msg']
    assert len(known(newcomer[0])) == 1


def take_over(replica: RedisNode) -> Callable[[], bool]:
    """A predicate for wait_for: has ``replica`` taken over from its master (CLUSTER FAILOVER)?

    The master may let a manual failover time out (the replica's offset not caught up yet): the failover
    is asked again when the last one had 6 s, longer than its own 5 s limit, and did not take.
    """
    asked = [0.0]

    def check() -> bool:
        if any('myself' in line[2] and 'master' in line[2] for line in known(replica)):
            return True
        if time.monotonic() - asked[0] > 6:
            command(replica, 'CLUSTER', 'FAILOVER')
            asked[0] = time.monotonic()
        return False
    return check


def test_create_plans_in_check_mode_creates_follows_a_failover_and_joins_a_new_node(run_module, nodes):
    six = start(nodes, 6)
    failed, result = create(run_module, six, check_mode=True)
    assert not failed, result['msg']
    assert result['changed'] and result['action'] == 'create'
    assert result['masters'] == [dict(address=six[0].address, slots='0-5460'),
                                 dict(address=six[1].address, slots='5461-10922'),
                                 dict(address=six[2].address, slots='10923-16383')]
    assert len(result['replicas']) == 3 and set(result['replicas'].values()) == set(addresses(six[:3]))
    assert result['msg'].startswith('Plan: %s becomes a master of slots 0-5460' % six[0].address)
    assert all(len(known(node)) == 1 for node in six), 'check mode changed a node'

    failed, result = create(run_module, six)
    assert not failed, result['msg']
    assert result['changed'] and result['action'] == 'create'
    # As the role does: wait until every node sees each master with its replica (gossip takes a moment).
    failed, result = wait(run_module, six, replicas=1)
    assert not failed, result['msg']

    failed, result = create(run_module, six)
    assert not failed and result['changed'] is False and result['action'] == 'none', result['msg']

    # A failover by hand: the re-run follows the cluster as it is, it does not restore the first picture.
    replica = six[3]
    wait_for(take_over(replica), 'the replica to take over', SETTLE_TIMEOUT)
    failed, result = wait(run_module, six, replicas=1)
    assert not failed, result['msg']
    failed, result = create(run_module, six)
    assert not failed and result['changed'] is False, result['msg']

    newcomer = start(nodes, 1)[0]
    seven = six + [newcomer]
    failed, result = create(run_module, seven, check_mode=True)
    assert not failed and result['action'] == 'join' and result['changed']
    assert list(result['replicas']) == [newcomer.address]
    assert len(known(newcomer)) == 1
    failed, result = create(run_module, seven)
    assert not failed, result['msg']
    assert result['action'] == 'join'
    failed, result = wait(run_module, seven, replicas=1)
    assert not failed, result['msg']
    master_id = next(line[3] for line in known(newcomer) if 'myself' in line[2])
    assert master_id in [myid(node) for node in seven]
    failed, result = create(run_module, seven)
    assert not failed and result['changed'] is False, result['msg']


def test_create_refuses_nodes_of_two_clusters(run_module, nodes):
    first, second = start(nodes, 3), start(nodes, 3)
    form(first, 3)
    form(second, 3)
    failed, result = create(run_module, first + second, replicas=1)
    assert failed and result['changed'] is False
    assert result['msg'].startswith('The nodes belong to 2 different clusters: [')
    for node in first + second:
        assert node.address in result['msg']
    assert all(len(known(node)) == 3 for node in first + second)


def test_create_refuses_a_fresh_node_with_keys(run_module, nodes):
    three = start(nodes, 2) + [nodes.server(*CLUSTER_CONFIG, 'cluster-require-full-coverage no',
                                            port=cluster_port())]
    # Keys in a node that serves no slot and knows no other node (left from a lab, restored from a backup).
    stray_slot = command(three[2], 'CLUSTER', 'KEYSLOT', 'stray')
    command(three[2], 'CLUSTER', 'ADDSLOTS', stray_slot)
    wait_for(lambda: info(three[2])['cluster_state'] == 'ok', 'the node to serve its slot')
    command(three[2], 'SET', 'stray', 'value')
    command(three[2], 'CLUSTER', 'DELSLOTS', stray_slot)
    failed, result = create(run_module, three, replicas=0)
    assert failed and result['changed'] is False
    assert ('belong to no cluster but hold keys' in result['msg'] and '%s (1 keys)' % three[2].address
            in result['msg'])
    assert all(len(known(node)) == 1 for node in three)


def test_create_refuses_a_node_without_cluster_support(run_module, nodes):
    mixed = start(nodes, 2) + [nodes.server()]
    failed, result = create(run_module, mixed, replicas=0)
    assert failed and result['changed'] is False
    assert result['msg'].startswith('Cannot decide without every node, nothing changed: %s: ResponseError'
                                    % mixed[2].address)


@pytest.mark.parametrize('args,error', [
    (dict(nodes=['127.0.0.1:7000', '127.0.0.1:7001']),
     'nodes: 2 node(s) given, a cluster of 3 masters with 1 replica(s) each needs at least 6'),
    (dict(nodes=['127.0.0.1:7000'] * 3, replicas=0), 'nodes: an address is listed twice'),
    (dict(nodes=['127.0.0.1:7000', '127.0.0.1:7001', '127.0.0.1:99999'], replicas=0),
     "nodes: invalid address '127.0.0.1:99999'"),
])
def test_create_refuses_bad_parameters(run_module, args, error):
    failed, result = run_module(cluster_create.main, args)
    assert failed and error in result['msg']


def test_create_in_check_mode_before_the_nodes_run(run_module, nodes, closed_port):
    args = dict(nodes=addresses(start(nodes, 2)) + ['127.0.0.1:%d' % closed_port], replicas=0)
    failed, result = run_module(cluster_create.main, args, check_mode=True)
    assert not failed and result['changed'] and result['action'] == 'unknown' and result['plan'] == []
    assert result['msg'].startswith('Check mode: Cannot decide without every node, nothing changed: 127.0.0.1:%d: '
                                    'ConnectionError' % closed_port)
    failed, result = run_module(cluster_create.main, args)
    assert failed and result['changed'] is False and result['msg'].startswith('Cannot decide without every node')


def tls_cluster_node(factory: NodeFactory, files: TlsFiles) -> TlsNode:
    """A cluster node that listens on its tls-port only, its bus over TLS too (tls-cluster yes)."""
    port = cluster_port()
    workdir = factory._workdir('redis-tls-cluster')
    lines = ['port 0', 'tls-port %d' % port, 'bind 127.0.0.1', 'daemonize no', 'protected-mode no', 'save ""',
             'appendonly no', 'dir %s' % workdir, 'tls-cluster yes', *CLUSTER_CONFIG, *files.server_config()]
    (workdir / 'redis.conf').write_text(''.join(line + '\n' for line in lines))
    node = TlsNode([REDIS_SERVER, str(workdir / 'redis.conf')], workdir, port, files)
    factory.nodes.append(node)
    return node.wait_ready()


def test_create_wait_and_info_over_tls(run_module, nodes, tls_files):
    three = [tls_cluster_node(nodes, tls_files) for dummy in range(3)]
    tls = tls_files.params()
    failed, result = run_module(cluster_create.main, dict(nodes=addresses(three), replicas=0, **tls))
    assert not failed, result['msg']
    assert result['action'] == 'create'
    failed, result = run_module(cluster_wait.main, dict(nodes=addresses(three), replicas=0, timeout=SETTLE_TIMEOUT,
                                                        **tls))
    assert not failed, result['msg']
    failed, result = run_module(cluster_info.main, dict(login_port=three[0].port, **tls))
    assert not failed and result['healthy']
    assert sorted(node['address'] for node in result['nodes']) == sorted(addresses(three))
    # Without TLS the nodes cannot be read: the wait names each one.
    failed, result = run_module(cluster_wait.main, dict(nodes=addresses(three), replicas=0, timeout=0))
    assert failed and len(result['unmet']) == 3
