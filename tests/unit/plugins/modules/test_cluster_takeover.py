# -*- coding: utf-8 -*-
"""cluster_create and a wiped master: its host restarted empty on its address before its replica took over, the
other nodes mark its old id noaddr and never flag it failed. A replica that still holds its data set takes over
(CLUSTER FAILOVER TAKEOVER), then the old id is forgotten and the wiped node joins as a replica; a replica that
synced from the new node at that address holds none of its keys, and the run refuses. First the decision on views
as Redis 7.0 writes them, then against real cluster-enabled redis-server processes."""
from __future__ import annotations

from dataclasses import replace

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils.address import Address
from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import NodeView, parse_nodes
from ansible_collections.redisops.sentinel.plugins.modules.cluster_create import Refusal, decide

from conftest import REDIS_SERVER, NodeFactory, RedisNode, command, wait_for
from test_cluster_departed import AFTER_FAILOVER, IDS, departed, kill, listed, views, wanted
from test_cluster_modules import CLUSTER_CONFIG, SETTLE_TIMEOUT, addresses, create, form, myid, start, wait

OLD_REPLID, NEW_REPLID = 'o' * 40, 'n' * 40
# a: the wiped master (noaddr, still serving its slots); d: its replica.
WIPED = dict(AFTER_FAILOVER, a=(7000, 'master,noaddr', None, '0-5460'), d=(7003, 'slave', 'a', ''))


def wiped_views(layout: dict[str, tuple], waiting: dict[int, tuple[str, int]]) -> list[NodeView]:
    """The views with a fresh node at 7000 (replication id NEW_REPLID); each replica of ``waiting`` (port: its
    replication id and offset) has its link to 7000 down, as while a sync from the new node has not started."""
    found = []
    for view in views(layout, fresh=(7000,)):
        if view.fresh:
            view = replace(view, replication=dict(role='master', master_replid=NEW_REPLID, master_repl_offset=0))
        elif view.address.port in waiting:
            replid, offset = waiting[view.address.port]
            view = replace(view, master_link_status='down', replication=dict(
                role='slave', master_host='127.0.0.1', master_port=7000, master_replid=replid,
                master_repl_offset=offset))
        found.append(view)
    return found


def test_a_replica_that_holds_the_data_set_takes_over_then_the_wiped_node_joins():
    plan = decide(wiped_views(WIPED, {7003: (OLD_REPLID, 500)}), wanted(range(7000, 7006), max_leaving=0))
    assert [(item.replica, item.old.node_id, item.replid) for item in plan.takeovers] == [
        (Address('127.0.0.1', 7003), IDS['a'], OLD_REPLID)]
    assert plan.steps()[0] == 'take over: 127.0.0.1:7003 replaces %s for 5461 slots' % IDS['a']
    # The rest is decided on the cluster as it will be: the old id is forgotten, the wiped node replicates the
    # promoted replica (it has no replica of its own).
    assert plan.action == 'join' and [(node.node_id, reason) for node, reason in plan.forgotten] == [
        (IDS['a'], 'replaced')]
    assert plan.replicas == {Address('127.0.0.1', 7000): Address('127.0.0.1', 7003)} and plan.leaving == []


def test_the_replica_with_the_largest_offset_that_did_not_sync_from_the_new_node_takes_over():
    layout = dict(WIPED, b=(7001, 'slave', 'a', ''), e=(7004, 'master', None, '5461-10922'))
    # 7001 has the largest offset, but it synced from the new node (its replication id): it holds nothing.
    found = wiped_views(layout, {7001: (NEW_REPLID, 900), 7002: (OLD_REPLID, 300), 7003: (OLD_REPLID, 500)})
    found = [view for view in found if view.address.port != 7002]
    plan = decide(found, wanted(range(7000, 7006), max_leaving=0))
    assert [str(item.replica) for item in plan.takeovers] == ['127.0.0.1:7003']


def test_a_wiped_master_without_a_replica_refuses_the_other_takeovers_too():
    # b is wiped as well (noaddr) and has no replica: its keys are gone, nothing is taken over.
    layout = dict(WIPED, b=(7001, 'master,noaddr', None, '5461-10922'), e=(7004, 'master', None, ''))
    with pytest.raises(Refusal) as refused:
        decide(wiped_views(layout, {7003: (OLD_REPLID, 500)}), wanted(range(7000, 7006), max_leaving=0))
    message = str(refused.value)
    assert 'still serves 5462 slot(s) (5461-10922): no replica took over' in message, message
    assert IDS['a'] not in message


def test_a_failed_master_is_left_to_the_cluster():
    # Flagged fail with an address (not noaddr): its replica takes over by itself once elected.
    layout = dict(WIPED, a=(7000, 'master,fail', None, '0-5460'))
    with pytest.raises(Refusal, match='have not taken over yet: run again once one has'):
        decide(wiped_views(layout, {7003: (OLD_REPLID, 500)}), wanted(range(7001, 7006), max_leaving=2))


# Against real processes.

SYNC_DELAY = 60


def restart_empty(factory: NodeFactory, node: RedisNode, sync_delay: int) -> RedisNode:
    """The node's host wiped: redis-server again on its port from an empty directory, with a new id. Its diskless
    sync waits ``sync_delay`` seconds for more replicas before it sends a data set (5 by default): the old
    master's replica, which reconnects to the address at once, holds its keys until then."""
    workdir = factory.base / ('wiped-%d' % node.port)
    workdir.mkdir()
    options = [item for line in CLUSTER_CONFIG for item in ['--' + line.split()[0], line.split()[1]]]
    argv = [REDIS_SERVER, '--port', str(node.port), '--bind', node.host, '--daemonize', 'no', '--save', '',
            '--appendonly', 'no', '--dir', str(workdir), '--protected-mode', 'no', '--repl-diskless-sync', 'yes',
            '--repl-diskless-sync-delay', str(sync_delay)] + options
    fresh = RedisNode(argv, workdir, node.port, node.host)
    factory.nodes.append(fresh)
    return fresh.wait_ready()


def fill(master: RedisNode, count: int, replicas: int) -> dict[str, str]:
    """``count`` keys in the master's slots, acknowledged by its ``replicas`` replicas (WAIT)."""
    client = master.client()
    try:
        myself = next(node for node in parse_nodes(command(master, 'CLUSTER', 'NODES')) if node.myself)
        owned = {slot for first, last in myself.slots for slot in range(first, last + 1)}
        keys = {}
        index = 0
        while len(keys) < count:
            key = 'key:%d' % index
            index += 1
            if client.execute_command('CLUSTER', 'KEYSLOT', key) in owned:
                client.set(key, 'value %d' % index)
                keys[key] = 'value %d' % index
        assert client.execute_command('WAIT', replicas, 5000) == replicas
        return keys
    finally:
        client.close()


def replication(node: RedisNode) -> dict:
    client = node.client()
    try:
        return client.info('replication')
    finally:
        client.close()


def wipe(factory: NodeFactory, replicas: int) -> tuple[list[RedisNode], str, dict[str, str]]:
    """Nodes 0-2 masters, 3 and (with two ``replicas``) 6 replicas of 0, 4 of 1, 5 of 2; keys in the slots of 0,
    which is then killed (its host wiped). Returns the nodes, the old id of 0 and the keys."""
    before = start(factory, 5 + replicas)
    form(before, 3, {3: 0, 4: 1, 5: 2, **({6: 0} if replicas == 2 else {})})
    keys = fill(before[0], 300, replicas)
    old_id = myid(before[0])
    kill(before[0])
    return before, old_id, keys


def healthy_with_keys(run_module, members: list[RedisNode], master: RedisNode, keys: dict[str, str]) -> None:
    """The cluster is healthy with a replica per master, and ``master`` serves every key written before."""
    failed, result = wait(run_module, members, replicas=1)
    assert not failed, result['msg']
    client = master.client()
    try:
        assert {key: client.get(key) for key in keys} == keys
    finally:
        client.close()


@pytest.mark.parametrize('replicas', [1, 2])
def test_a_wiped_masters_replica_takes_over_and_the_node_rejoins(run_module, nodes, replicas):
    before, old_id, keys = wipe(nodes, replicas)
    fresh = restart_empty(nodes, before[0], SYNC_DELAY)
    members = [fresh] + before[1:]
    followers = [before[3]] + before[6:]
    wait_for(lambda: all(departed(node, old_id) for node in before[1:]), 'the old id to be flagged noaddr',
             SETTLE_TIMEOUT)
    # The replicas reconnected to the new node at the address and wait for its (empty) data set.
    wait_for(lambda: replication(fresh).get('connected_slaves') == replicas, 'the replicas to reconnect',
             SETTLE_TIMEOUT)
    assert [command(node, 'DBSIZE') for node in followers] == [len(keys)] * replicas
    replica = max(followers, key=lambda node: (replication(node)['master_repl_offset'], node.address))

    failed, planned = create(run_module, members, check_mode=True, max_leaving=0)
    assert not failed and planned['changed'], planned['msg']
    step = 'take over: %s replaces %s for 5461 slots' % (replica.address, old_id)
    assert planned['plan'][0] == step and 'every node forgets %s' % old_id in planned['plan'][1], planned['plan']
    assert planned['takeovers'] == [dict(replica=replica.address, id=old_id, slots=['0-5460'], slot_count=5461)]
    assert replication(replica)['role'] == 'slave' and listed(before[1:], old_id) == addresses(before[1:])

    failed, done = create(run_module, members, max_leaving=0)
    assert not failed and done['changed'] and done['action'] == 'join', done['msg']
    assert done['takeovers'] == planned['takeovers'] and list(done['replicas']) == [fresh.address]
    assert [(item['id'], item['reason']) for item in done['forgotten']] == [(old_id, 'replaced')]
    assert listed(members, old_id) == []
    healthy_with_keys(run_module, members, replica, keys)
    # The old master's other replica follows the new master, and so does the wiped node when it joined it (with
    # one replica, the new master had none left): both synced the keys from it.
    joined = done['replicas'][fresh.address] == replica.address
    assert joined or replicas == 2
    expected = [node for node in [fresh] + followers if node is not replica and (node is not fresh or joined)]
    assert [node for node in [fresh] + followers if replication(node).get('master_port') == replica.port] == expected
    assert all(command(node, 'DBSIZE') == len(keys) for node in expected)
    failed, again = create(run_module, members, max_leaving=0)
    assert not failed and not again['changed'] and again['takeovers'] == [], again['msg']


def test_a_replica_that_synced_from_the_wiped_node_is_refused(run_module, nodes):
    before, old_id, _keys = wipe(nodes, 1)
    fresh = nodes.server(*CLUSTER_CONFIG, port=before[0].port)
    members = [fresh] + before[1:]
    replica = before[3]
    # No sync delay: the replica replaces its data set by the new node's empty one within a second.
    wait_for(lambda: replication(replica).get('master_link_status') == 'up', 'the replica to sync', SETTLE_TIMEOUT)
    wait_for(lambda: all(departed(node, old_id) for node in before[1:]), 'the old id to be flagged noaddr',
             SETTLE_TIMEOUT)
    failed, refused = create(run_module, members, max_leaving=0)
    assert failed and refused['changed'] is False and refused['takeovers'] == []
    assert 'its replica(s) %s synced from the new node that answers at its address' % replica.address \
        in refused['msg'], refused['msg']
    assert replication(replica)['role'] == 'slave' and listed(before[1:], old_id) == addresses(before[1:])
    assert len(parse_nodes(command(fresh, 'CLUSTER', 'NODES'))) == 1


def serves(node: RedisNode, node_id: str) -> bool:
    return any(item.node_id == node_id and item.slots for item in parse_nodes(command(node, 'CLUSTER', 'NODES')))


def test_a_run_interrupted_after_the_takeover_finishes_on_the_next_run(run_module, nodes):
    before, old_id, keys = wipe(nodes, 1)
    fresh = restart_empty(nodes, before[0], SYNC_DELAY)
    members = [fresh] + before[1:]
    replica = before[3]
    wait_for(lambda: all(departed(node, old_id) for node in before[1:]), 'the old id to be flagged noaddr',
             SETTLE_TIMEOUT)
    wait_for(lambda: replication(fresh).get('connected_slaves') == 1, 'the replica to reconnect', SETTLE_TIMEOUT)
    # The first step of the run that was interrupted.
    command(replica, 'CLUSTER', 'FAILOVER', 'TAKEOVER')
    wait_for(lambda: not any(serves(node, old_id) for node in before[1:]), 'every node to see the takeover',
             SETTLE_TIMEOUT)
    failed, done = create(run_module, members, max_leaving=0)
    assert not failed and done['changed'] and done['takeovers'] == [], done['msg']
    assert [(item['id'], item['reason']) for item in done['forgotten']] == [(old_id, 'replaced')]
    assert done['replicas'] == {fresh.address: replica.address} and listed(members, old_id) == []
    healthy_with_keys(run_module, members, replica, keys)
    failed, again = create(run_module, members, max_leaving=0)
    assert not failed and not again['changed'], again['msg']
