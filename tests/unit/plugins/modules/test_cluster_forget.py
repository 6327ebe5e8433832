# -*- coding: utf-8 -*-
"""cluster_forget against real cluster-enabled redis-server processes: replicas, a drained master and a
stopped node leave the cluster and no remaining node lists them; a master with slots stays."""
from __future__ import annotations

import threading

import pytest
from ansible.module_utils import basic

from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import SLOT_COUNT, parse_nodes
from ansible_collections.redisops.sentinel.plugins.modules import cluster_forget, cluster_reshard
from ansible_collections.redisops.sentinel.plugins.modules.cluster_forget import refusals

from conftest import NodeFactory, RedisNode, wait_for
from test_cluster_modules import SETTLE_TIMEOUT, command, form, myid, settled, start


def ids_known(node: RedisNode) -> set[str]:
    return {item.node_id for item in parse_nodes(command(node, 'CLUSTER', 'NODES'))}


def forget(run_module, login: RedisNode, members: list[RedisNode], check_mode: bool = False):
    return run_module(cluster_forget.main, dict(login_host=login.host, login_port=login.port,
                                                members=[node.address for node in members]), check_mode=check_mode)


@pytest.fixture
def four(nodes: NodeFactory) -> list[RedisNode]:
    """Three masters with every slot, and a replica of the first."""
    members = start(nodes, 4)
    form(members, 3, {3: 0})
    return members


def test_a_replica_leaves_and_is_reset(run_module, four):
    replica_id = myid(four[3])
    failed, planned = forget(run_module, four[0], four[:3], check_mode=True)
    assert not failed and planned['changed'] and [item['id'] for item in planned['removed']] == [replica_id]
    assert all(replica_id in ids_known(node) for node in four[:3]), 'check mode removed the node'

    failed, result = forget(run_module, four[0], four[:3])
    assert not failed, result['msg']
    assert result['removed'][0]['reset'] is True and result['removed'][0]['role'] == 'replica'
    assert all(replica_id not in ids_known(node) for node in four[:3])
    assert ids_known(four[3]) == {myid(four[3])}
    assert command(four[1], 'CLUSTER', 'INFO').find('cluster_state:ok') >= 0

    failed, again = forget(run_module, four[1], four[:3])
    assert not failed and not again['changed']


def test_a_master_with_slots_stays_and_a_drained_one_leaves(run_module, four):
    failed, result = forget(run_module, four[0], [four[0], four[1], four[3]])
    assert failed and 'still holds' in result['msg'] and 'cluster_reshard drain' in result['msg']
    assert myid(four[2]) in ids_known(four[0])

    failed, drained = run_module(cluster_reshard.main, dict(login_host=four[0].host, login_port=four[0].port,
                                                            drain=[four[2].address]))
    assert not failed, drained['msg']
    gone = myid(four[2])
    failed, result = forget(run_module, four[0], [four[0], four[1], four[3]])
    assert not failed, result['msg']
    assert all(gone not in ids_known(node) for node in (four[0], four[1], four[3]))
    wait_for(lambda: settled([four[0], four[1], four[3]], SLOT_COUNT), 'the three nodes to agree', SETTLE_TIMEOUT)


def test_a_stopped_node_is_forgotten_by_the_others(run_module, four):
    gone = myid(four[3])
    four[3].stop()
    wait_for(lambda: any(item.node_id == gone and 'fail' in item.flags
                         for item in parse_nodes(command(four[0], 'CLUSTER', 'NODES'))),
             'the stopped replica to be flagged failed', SETTLE_TIMEOUT)
    failed, result = forget(run_module, four[1], four[:3])
    assert not failed, result['msg']
    assert result['removed'][0]['reset'] is False
    assert result['removed'][0]['not_reset'].startswith('not reachable')
    assert all(gone not in ids_known(node) for node in four[:3])


def test_a_refused_reset_is_asked_again_then_named(run_module, four, monkeypatch):
    """The leaving replica's own ACL refuses CLUSTER RESET: the module asks again until its timeout, then warns;
    once the refusal ends within the timeout, the node is reset."""
    gone = myid(four[3])
    warned: list[str] = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda _module, text: warned.append(text))
    command(four[3], 'ACL', 'SETUSER', 'default', '-cluster|reset')
    failed, result = run_module(cluster_forget.main, dict(login_host=four[0].host, login_port=four[0].port,
                                                          members=[node.address for node in four[:3]], timeout=2))
    assert not failed, result['msg']
    assert result['removed'][0]['reset'] is False
    assert result['removed'][0]['not_reset'].startswith('refused')
    assert any(four[3].address in text and 'not reset' in text for text in warned)
    assert gone in ids_known(four[3]) and len(ids_known(four[3])) > 1, 'the refusing node was reset'
    assert all(gone not in ids_known(node) for node in four[:3])


def test_a_reset_refused_for_a_while_is_done_once_allowed(run_module, four):
    command(four[3], 'ACL', 'SETUSER', 'default', '-cluster|reset')
    allow = threading.Timer(1.0, command, (four[3], 'ACL', 'SETUSER', 'default', '+cluster|reset'))
    allow.start()
    try:
        failed, result = forget(run_module, four[0], four[:3])
    finally:
        allow.join()
    assert not failed, result['msg']
    assert result['removed'][0]['reset'] is True and 'not_reset' not in result['removed'][0]
    assert ids_known(four[3]) == {myid(four[3])}


def test_a_node_too_slow_to_answer_is_asked_again(run_module, four, monkeypatch):
    """The leaving replica pauses its clients longer than the module's timeout (as one loading a data set
    does): the first reset times out, a later one resets it."""
    warned: list[str] = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda _module, text: warned.append(text))
    command(four[3], 'CLIENT', 'PAUSE', '2500', 'ALL')
    failed, result = run_module(cluster_forget.main, dict(login_host=four[0].host, login_port=four[0].port,
                                                          members=[node.address for node in four[:3]],
                                                          connect_timeout=0.5))
    assert not failed, result['msg']
    assert result['removed'][0]['reset'] is True and 'not_reset' not in result['removed'][0]
    assert ids_known(four[3]) == {myid(four[3])}
    assert warned == []


LINES = '''\
a1 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-16383
b2 10.0.0.2:6379@16379 master - 0 0 2 connected
c3 10.0.0.3:6379@16379 slave b2 0 0 2 connected
'''


def test_refusals_name_the_login_node_a_master_with_slots_and_staying_replicas():
    nodes = parse_nodes(LINES)
    by_id = {node.node_id: node for node in nodes}
    assert refusals(nodes, [by_id['c3']]) == []
    assert refusals(nodes, [by_id['b2'], by_id['c3']]) == []
    problems = refusals(nodes, [by_id['b2']])
    assert problems == ['master 10.0.0.2:6379 has replicas that stay (10.0.0.3:6379): make them replicate '
                        'another master first']
    problems = refusals(nodes, [by_id['a1']])
    assert any('login node' in item for item in problems) and any('16384 slots' in item for item in problems)
    failed = parse_nodes(LINES.replace('myself,master', 'master,fail').replace('connected 0-', 'disconnected 0-'))
    problems = refusals(failed, [failed[0]])
    assert problems[0].startswith('master 10.0.0.1:6379 (id a1; fail, link disconnected) still holds 16384 slots '
                                  '(0-16383): no replica took over') and 'Bring it back' in problems[0]


def test_refuses_bad_parameters(run_module):
    failed, result = run_module(cluster_forget.main, dict(members=[], timeout=0))
    assert failed and 'members must name' in result['msg'] and 'timeout must be greater than 0' in result['msg']
