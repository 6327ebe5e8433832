# -*- coding: utf-8 -*-
"""The membership changes of playbooks/cluster.yml, module by module against real cluster-enabled redis-server
processes: a new master and its replica join (cluster_create), slots move onto it (cluster_reshard members),
then the two leave the nodes again: cluster_create guards the removal, cluster_reshard drains, cluster_forget
removes, and the keys are all there."""
from __future__ import annotations

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import parse_nodes
from ansible_collections.redisops.sentinel.plugins.modules import cluster_create, cluster_forget, cluster_reshard

from conftest import NodeFactory, RedisNode
from test_cluster_modules import addresses, command, form, known, myid, start, wait
from test_cluster_reshard import fill, missing, slot_counts


def create(run_module, members: list[RedisNode], check_mode: bool = False, **args):
    return run_module(cluster_create.main, dict(dict(nodes=addresses(members)), **args), check_mode=check_mode)


def reshard(run_module, members: list[RedisNode], check_mode: bool = False, **args):
    return run_module(cluster_reshard.main, dict(login_host=members[0].host, login_port=members[0].port,
                                                 members=addresses(members), open_slots='refuse', **args),
                      check_mode=check_mode)


def forget(run_module, members: list[RedisNode], check_mode: bool = False):
    return run_module(cluster_forget.main, dict(login_host=members[0].host, login_port=members[0].port,
                                                members=addresses(members)), check_mode=check_mode)


def roles(node: RedisNode) -> dict[str, tuple[str, str | None]]:
    """Role and master id of every node, by id, as ``node`` sees them."""
    return {item.node_id: (item.role, item.master_id) for item in parse_nodes(command(node, 'CLUSTER', 'NODES'))}


@pytest.fixture
def six(nodes: NodeFactory) -> list[RedisNode]:
    members = start(nodes, 6)
    form(members, 3, {3: 0, 4: 1, 5: 2})
    return members


def test_a_new_master_and_its_replica_join_take_slots_and_leave_again(run_module, nodes, six):
    values = fill(six, 1000)
    master, replica = start(nodes, 2)
    eight = six + [master, replica]

    failed, planned = create(run_module, eight, check_mode=True, masters=[master.address], max_leaving=2)
    assert not failed, planned['msg']
    assert planned['new_masters'] == [master.address] and planned['replicas'] == {replica.address: master.address}
    assert len(known(master)) == 1, 'check mode changed a node'

    failed, joined = create(run_module, eight, masters=[master.address], max_leaving=2)
    assert not failed and joined['action'] == 'join', joined['msg']
    # The module returns once every node sees the new master and the new replica in their roles.
    for node in eight:
        assert roles(node)[myid(master)] == ('master', None)
        assert roles(node)[myid(replica)] == ('replica', myid(master))

    failed, planned = reshard(run_module, eight, check_mode=True)
    assert not failed and planned['remaining_slots'] == 4096 and slot_counts(six[0])[myid(master)] == 0
    failed, moved = reshard(run_module, eight, max_slots=1000, batch=20)
    assert not failed and moved['moved_slots'] == 1000 and moved['remaining_slots'] == 3096, moved['msg']
    failed, moved = reshard(run_module, eight, batch=20)
    assert not failed and moved['remaining_slots'] == 0, moved['msg']
    assert sorted(slot_counts(six[0]).values()) == [4096] * 4
    failed, result = wait(run_module, eight, replicas=1)
    assert not failed, result['msg']
    failed, again = create(run_module, eight, masters=[master.address], max_leaving=2)
    assert not failed and not again['changed'], again['msg']
    failed, again = reshard(run_module, eight)
    assert not failed and not again['changed']

    # The two leave the nodes again: more than max_leaving, or too few masters left, refuses.
    failed, refused = create(run_module, six, max_leaving=1)
    assert failed and 'at most 1 may leave' in refused['msg'] and 'Nothing changed' in refused['msg']
    failed, refused = create(run_module, six[2:] + [master, replica], max_leaving=2)
    assert failed and 'would have 2 master(s)' in refused['msg'], refused['msg']
    failed, planned = create(run_module, six, max_leaving=2)
    assert not failed and not planned['changed'] and sorted(planned['leaving']) == sorted(addresses([master, replica]))

    failed, drained = reshard(run_module, six, batch=20)
    assert not failed and drained['remaining_slots'] == 0, drained['msg']
    assert slot_counts(six[0]).get(myid(master), 0) == 0
    leaving = {myid(master), myid(replica)}  # a reset gives a node a new id
    failed, removed = forget(run_module, six)
    assert not failed, removed['msg']
    assert {item['id'] for item in removed['removed']} == leaving
    assert all(set(roles(node)) == {myid(item) for item in six} for node in six)
    failed, result = wait(run_module, six, replicas=1)
    assert not failed, result['msg']
    assert sorted(slot_counts(six[0]).values()) == [5461, 5461, 5462]
    assert missing(six, values) == []
    for step in (create(run_module, six, max_leaving=2), reshard(run_module, six), forget(run_module, six)):
        assert not step[0] and not step[1]['changed'], step[1]['msg']


def test_masters_must_be_among_the_nodes(run_module):
    failed, result = run_module(cluster_create.main, dict(nodes=['127.0.0.1:%d' % port for port in range(7000, 7006)],
                                                          masters=['127.0.0.1:7009'], max_leaving=-2))
    assert failed and 'masters: 127.0.0.1:7009 not in nodes' in result['msg']
    assert 'max_leaving must be -1 (no limit) or more' in result['msg']
