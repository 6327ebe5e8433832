# -*- coding: utf-8 -*-
"""cluster_create and departed members: a lost host that the nodes no longer list is forgotten by every node
(it counts as leaving), a wiped host that answers afresh at its address rejoins once its old id is forgotten,
and a departed node that still serves slots is refused (test_cluster_takeover.py: a wiped master's replica that
still holds its keys takes over). First the decision on views as Redis 7.0 writes them, then against real
cluster-enabled redis-server processes (kill -9, a node restarted empty on its port)."""
from __future__ import annotations

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils.address import Address
from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import NodeView, parse_nodes
from ansible_collections.redisops.sentinel.plugins.modules.cluster_create import Refusal, Wanted, decide

from conftest import NodeFactory, RedisNode, wait_for
from test_cluster_modules import CLUSTER_CONFIG, SETTLE_TIMEOUT, addresses, command, create, form, myid, start, wait

IDS = {name: name * 40 for name in 'abcdefg'}
# name: (port, flags, master, slots); the first is the host that is lost or wiped.
AFTER_FAILOVER = dict(a=(7000, 'master,fail', None, ''), b=(7001, 'master', None, '5461-10922'),
                      c=(7002, 'master', None, '10923-16383'), d=(7003, 'master', None, '0-5460'),
                      e=(7004, 'slave', 'b', ''), f=(7005, 'slave', 'c', ''))


def lines(layout: dict[str, tuple], me: str) -> str:
    out = []
    for name, (port, flags, master, slots) in layout.items():
        endpoint = ':0@0' if 'noaddr' in flags else '127.0.0.1:%d@%d' % (port, port + 10000)
        link = 'disconnected' if 'fail' in flags or 'noaddr' in flags else 'connected'
        out.append(' '.join([IDS[name], endpoint, ('myself,' if name == me else '') + flags,
                             IDS[master] if master else '-', '0', '0', '1', link, slots]).rstrip())
    return '\n'.join(out) + '\n'


def views(layout: dict[str, tuple], fresh: tuple = ()) -> list[NodeView]:
    """Every node's view but the departed one's; a fresh node (its own line alone) at each port of ``fresh``."""
    found = []
    for name, (port, flags, _master, _slots) in layout.items():
        if 'fail' not in flags and 'noaddr' not in flags:
            found.append(NodeView(Address('127.0.0.1', port), dict(cluster_state='ok'), parse_nodes(lines(layout, name)),
                                  master_link_status='up' if 'slave' in flags else None))
    for port in fresh:
        found.append(NodeView(Address('127.0.0.1', port), dict(cluster_state='ok', cluster_current_epoch=0),
                              parse_nodes('g' * 40 + ' :%d@%d myself,master - 0 0 0 connected\n' % (port, port + 10000))))
    return found


def wanted(ports: range, max_leaving: int = 2) -> Wanted:
    return Wanted([Address('127.0.0.1', port) for port in ports], 1, [], max_leaving)


def test_a_lost_host_is_forgotten_and_counts_as_leaving():
    plan = decide(views(AFTER_FAILOVER, fresh=(7006,)), wanted(range(7001, 7007)))
    assert plan.action == 'join' and [(node.node_id, reason) for node, reason in plan.forgotten] == [(IDS['a'], 'lost')]
    assert plan.leaving == ['127.0.0.1:7000']
    # The promoted replica has no replica left: the new node replicates it.
    assert plan.replicas == {Address('127.0.0.1', 7006): Address('127.0.0.1', 7003)}
    assert plan.steps()[0] == 'every node forgets %s (127.0.0.1:7000, fail, link disconnected, not in nodes)' % IDS['a']
    with pytest.raises(Refusal, match='at most 0 may leave'):
        decide(views(AFTER_FAILOVER, fresh=(7006,)), wanted(range(7001, 7007), max_leaving=0))


def test_a_cluster_without_departed_members_changes_nothing():
    layout = {name: entry for name, entry in AFTER_FAILOVER.items() if name != 'a'}
    layout['g'] = (7006, 'slave', 'd', '')
    plan = decide(views(layout), wanted(range(7001, 7007)))
    assert (plan.action, plan.forgotten, plan.leaving, plan.replicas, plan.steps()) == ('none', [], [], {}, [])


@pytest.mark.parametrize('flags', ['master,fail', 'master,fail,noaddr', 'master,noaddr'])
def test_a_wiped_host_rejoins_once_its_old_id_is_forgotten(flags):
    layout = dict(AFTER_FAILOVER, a=(7000, flags, None, ''))
    plan = decide(views(layout, fresh=(7000,)), wanted(range(7000, 7006), max_leaving=0))
    assert [(node.node_id, reason) for node, reason in plan.forgotten] == [(IDS['a'], 'replaced')]
    assert plan.action == 'join' and plan.leaving == []
    assert plan.replicas == {Address('127.0.0.1', 7000): Address('127.0.0.1', 7003)}


def test_a_departed_master_that_still_serves_slots_is_refused():
    layout = dict(AFTER_FAILOVER, a=(7000, 'master,fail', None, '0-5460'), d=(7003, 'slave', 'a', ''))
    for found, nodes in ((views(layout), range(7001, 7006)), (views(layout, fresh=(7000,)), range(7000, 7006))):
        with pytest.raises(Refusal) as refused:
            decide(found, wanted(nodes))
        message = str(refused.value)
        assert message.startswith('Nothing changed: 127.0.0.1:7000 (id %s, fail, link disconnected) still serves '
                                  '5461 slot(s) (0-5460), and its replica(s) 127.0.0.1:7003 have not taken over yet'
                                  % IDS['a']), message
        assert 'CLUSTER FAILOVER TAKEOVER' in message and 'Bring the node back' not in message


def test_a_wiped_master_whose_replica_synced_from_the_new_node_is_refused():
    # Its host wiped and answering afresh: the old id lost its address (noaddr) and is never flagged failed; its
    # replica's link is up, to the new node at that address: it holds that node's empty data set now.
    layout = dict(AFTER_FAILOVER, a=(7000, 'master,noaddr', None, '0-5460'), d=(7003, 'slave', 'a', ''))
    with pytest.raises(Refusal) as refused:
        decide(views(layout, fresh=(7000,)), wanted(range(7000, 7006)))
    message = str(refused.value)
    assert 'its replica(s) 127.0.0.1:7003 synced from the new node that answers at its address' in message, message
    assert 'TAKEOVER' not in message


# Against real processes.

def departed(observer: RedisNode, node_id: str) -> bool:
    """``observer`` flags ``node_id`` fail or noaddr (Redis marks a node noaddr when its address answers with
    another node id)."""
    return any(item.node_id == node_id and item.departed for item in parse_nodes(command(observer, 'CLUSTER', 'NODES')))


def listed(nodes: list[RedisNode], node_id: str) -> list[str]:
    return [node.address for node in nodes if node_id in {item.node_id for item in parse_nodes(command(node, 'CLUSTER', 'NODES'))}]


def taken_over(alive: list[RedisNode], lost_id: str) -> bool:
    """Every node flags the lost master, reports cluster_state ok, and sees no node replicate the lost master
    (its other replica follows the one that took over, and the others learn it by gossip)."""
    for node in alive:
        if not departed(node, lost_id) or 'cluster_state:ok' not in command(node, 'CLUSTER', 'INFO') \
                or any(item.master_id == lost_id for item in parse_nodes(command(node, 'CLUSTER', 'NODES'))):
            return False
    return True


def kill(node: RedisNode) -> None:
    node.proc.kill()
    node.proc.wait()


@pytest.fixture
def seven(nodes: NodeFactory) -> list[RedisNode]:
    """Three masters; the first with two replicas (3 and 6), the others with one (4, 5)."""
    members = start(nodes, 7)
    form(members, 3, {3: 0, 4: 1, 5: 2, 6: 0})
    return members


def test_a_lost_master_is_forgotten_and_a_wiped_replica_rejoins(run_module, nodes, seven):
    lost, lost_id = seven[0], myid(seven[0])
    alive = seven[1:]
    kill(lost)
    # One of its replicas takes over (the other follows it), and every node flags the master failed.
    wait_for(lambda: taken_over(alive, lost_id), 'the failover', SETTLE_TIMEOUT)

    failed, refused = create(run_module, alive, max_leaving=0)
    assert failed and 'at most 0 may leave' in refused['msg'] and listed(alive, lost_id) == addresses(alive)
    failed, planned = create(run_module, alive, check_mode=True, max_leaving=2)
    assert not failed and planned['changed'] and planned['action'] == 'forget', planned['msg']
    assert planned['forgotten'] == [dict(id=lost_id, address=lost.address, role='master', reason='lost')]
    assert listed(alive, lost_id) == addresses(alive), 'check mode forgot the node'
    # A run interrupted after the first node forgot it: the next run forgets it on the others.
    command(alive[0], 'CLUSTER', 'FORGET', lost_id)
    failed, done = create(run_module, alive, max_leaving=2)
    assert not failed and done['changed'] and done['leaving'] == [lost.address], done['msg']
    assert listed(alive, lost_id) == []
    failed, result = wait(run_module, alive, replicas=1)
    assert not failed, result['msg']
    failed, again = create(run_module, alive, max_leaving=2)
    assert not failed and not again['changed'], again['msg']

    # The host of the replica of seven[1] is wiped: the node comes back on its port from an empty directory
    # (no nodes.conf, no data), with a new id.
    wiped = seven[4]
    old_id = myid(wiped)
    kill(wiped)
    fresh = nodes.server(*CLUSTER_CONFIG, port=wiped.port)
    members = [fresh if node is wiped else node for node in alive]
    others = [node for node in members if node is not fresh]
    wait_for(lambda: all(departed(node, old_id) for node in others), 'the old id to be flagged', SETTLE_TIMEOUT)
    failed, planned = create(run_module, members, check_mode=True, max_leaving=0)
    assert not failed and planned['action'] == 'join', planned['msg']
    assert [(item['id'], item['reason']) for item in planned['forgotten']] == [(old_id, 'replaced')]
    assert planned['replicas'] == {fresh.address: seven[1].address} and listed(others, old_id) == addresses(others)
    failed, done = create(run_module, members, max_leaving=0)
    assert not failed and done['changed'], done['msg']
    assert listed(members, old_id) == []
    failed, result = wait(run_module, members, replicas=1)
    assert not failed, result['msg']
    failed, again = create(run_module, members, max_leaving=0)
    assert not failed and not again['changed'], again['msg']


def test_a_departed_master_with_slots_is_refused_lost_or_wiped(run_module, nodes):
    five = start(nodes, 5)
    form(five, 3, {3: 1, 4: 2})
    lost, lost_id = five[0], myid(five[0])
    kill(lost)
    wait_for(lambda: all(departed(node, lost_id) for node in five[1:]), 'the master to be flagged failed',
             SETTLE_TIMEOUT)
    failed, refused = create(run_module, five[1:], replicas=0, max_leaving=2)
    assert failed and refused['changed'] is False
    assert 'still serves 5461 slot(s) (0-5460): no replica took over' in refused['msg'], refused['msg']
    # Named in the nodes and not answering: the run refuses as for any node that is down.
    failed, refused = create(run_module, five, replicas=0, max_leaving=2)
    assert failed and refused['msg'].startswith('Cannot decide without every node') and lost.address in refused['msg']
    # Wiped and restarted empty on its port: its old id still serves the slots.
    fresh = nodes.server(*CLUSTER_CONFIG, port=lost.port)
    failed, refused = create(run_module, [fresh] + five[1:], replicas=0, max_leaving=2)
    assert failed and 'still serves 5461 slot(s) (0-5460)' in refused['msg'], refused['msg']
    assert len(parse_nodes(command(fresh, 'CLUSTER', 'NODES'))) == 1 and listed(five[1:], lost_id) == addresses(five[1:])
