# -*- coding: utf-8 -*-
"""Table tests of the recovery decision: which node covers which, and what decide() answers."""
from __future__ import annotations

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils.recovery import (
    NO_REPLID, NONE, RECOVER, REFUSE, NodeState, SentinelView, covers, decide, node_state, replication_id)

R, X, Y = 'a' * 40, 'b' * 40, 'c' * 40


def node(name: str, replid: str, offset: int, replid2: str = NO_REPLID, second: int = -1, keys: int = 1,
         role: str = 'master') -> NodeState:
    return NodeState(name=name, address='%s:6379' % name, role=role, replid=replid, offset=offset,
                     replid2=replid2, second_offset=second, keys=keys)


# (A, B, whether A covers B)
COVERS = [
    ('same history, further', node('a', R, 100), node('b', R, 90), True),
    ('same history, same offset', node('a', R, 100), node('b', R, 100), True),
    ('same history, behind', node('a', R, 90), node('b', R, 100), False),
    ('promoted after B', node('a', X, 150, R, 101), node('b', R, 100), True),
    ('promoted exactly at B', node('a', X, 150, R, 100), node('b', R, 99), True),
    # second_repl_offset is the promotion offset plus one: A had R up to 99 only.
    ('promoted one byte before B', node('a', X, 150, R, 100), node('b', R, 100), False),
    ('promoted before B', node('a', X, 150, R, 51), node('b', R, 100), False),
    ('unrelated histories', node('a', X, 500), node('b', R, 100), False),
    # B promoted and took nothing since: it holds R up to 100, which A has.
    ('B promoted, no write since', node('a', R, 120), node('b', Y, 100, R, 101), True),
    ('B promoted, wrote since', node('a', R, 120), node('b', Y, 130, R, 101), False),
    ('both promoted from R, A later', node('a', X, 150, R, 121), node('b', Y, 100, R, 101), True),
    ('both promoted from R, A earlier', node('a', X, 150, R, 81), node('b', Y, 100, R, 101), False),
    ('B empty', node('a', X, 10), node('b', Y, 0, keys=0), True),
    ('B offset 0 but keys (AOF restart)', node('a', X, 10), node('b', Y, 0, keys=3), False),
    ('replica that followed A after its promotion', node('a', X, 150, R, 101), node('b', X, 140, role='slave'), True),
]


@pytest.mark.parametrize('a, b, expected', [case[1:] for case in COVERS], ids=[case[0] for case in COVERS])
def test_covers(a, b, expected):
    assert covers(a, b) is expected


def test_a_node_covers_itself():
    a = node('a', X, 150, R, 101)
    assert covers(a, a)


def no_sentinel(total: int = 3) -> list[SentinelView]:
    return [SentinelView('s%d:26379' % i, False, error='ConnectionError: refused') for i in range(total)]


def following(master: str, count: int, flags: tuple[str, ...] = ('master',), tilt: bool = False) -> list[SentinelView]:
    return [SentinelView('s%d:26379' % i, True, master, flags, tilt) for i in range(count)]


def test_picks_the_node_that_covers_all():
    nodes = [node('m', R, 300), node('r1', X, 100, R, 101), node('r2', Y, 200, R, 201)]
    verdict = decide(nodes, no_sentinel(), 3, bootstrap='r1')
    assert verdict.action == RECOVER and verdict.pick.name == 'm' and not verdict.forced


def test_same_data_prefers_the_bootstrap_master_then_the_name():
    nodes = [node('c', R, 100), node('b', R, 100), node('a', X, 100, R, 101)]
    assert decide(nodes, no_sentinel(), 3, bootstrap='b').pick.name == 'b'
    assert decide(nodes, no_sentinel(), 3, bootstrap='gone').pick.name == 'a'


def test_diverged_histories_are_refused_with_the_diverging_nodes():
    nodes = [node('m', R, 300), node('r1', X, 150, R, 101), node('r2', R, 250, role='slave')]
    verdict = decide(nodes, no_sentinel(), 3)
    assert verdict.action == REFUSE
    assert 'm, r1 diverged' in verdict.reason and 'redis_recover_from' in verdict.reason


def test_forced_pick_lists_the_discarded_nodes():
    nodes = [node('m', R, 300), node('r1', X, 150, R, 101), node('r2', R, 250, role='slave')]
    verdict = decide(nodes, no_sentinel(), 3, forced='r1')
    assert verdict.action == RECOVER and verdict.forced and verdict.pick.name == 'r1'
    assert verdict.discarded == ['m', 'r2'] and 'DISCARDED' in verdict.reason


def test_forced_pick_must_answer():
    nodes = [node('m', R, 300), NodeState('r1', 'r1:6379', reachable=False, error='refused')]
    verdict = decide(nodes, no_sentinel(), 3, forced='r1', ignore_unreachable=True)
    assert verdict.action == REFUSE and 'does not answer' in verdict.reason


def test_a_silent_node_is_refused_unless_ignored():
    nodes = [node('m', R, 300), NodeState('r1', 'r1:6379', reachable=False, error='refused')]
    refused = decide(nodes, no_sentinel(), 3)
    assert refused.action == REFUSE and 'r1' in refused.reason and 'redis_recover_ignore_unreachable' in refused.reason
    verdict = decide(nodes, no_sentinel(), 3, ignore_unreachable=True)
    assert verdict.action == RECOVER and verdict.pick.name == 'm' and verdict.skipped == ['r1']


def test_no_answering_node_is_refused():
    nodes = [NodeState('m', 'm:6379', reachable=False, error='refused')]
    assert decide(nodes, no_sentinel(), 3, ignore_unreachable=True).action == REFUSE


def test_agreed_reachable_master_means_nothing_to_do():
    nodes = [node('m', R, 300), node('r1', R, 300, role='slave')]
    assert decide(nodes, following('m:6379', 3), 3).action == NONE
    # Two of three answering and agreeing is a majority.
    assert decide(nodes, following('m:6379', 2) + no_sentinel(1), 3).action == NONE


@pytest.mark.parametrize('views, why', [
    (following('m:6379', 1) + no_sentinel(2), 'a minority'),
    (following('m:6379', 2) + following('r1:6379', 1), 'disagreement'),
    (following('gone:6379', 3), 'a master that does not answer'),
    (following('r1:6379', 3), 'a master that answers as a replica'),
    (following('m:6379', 2) + [SentinelView('s9:26379', True, None)], 'a Sentinel that monitors no such group'),
    # The packaged default configuration of a fresh Sentinel.
    (following('m:6379', 2) + following('127.0.0.1:6379', 1), 'a Sentinel on the packaged default'),
])
def test_no_agreement_means_recovery(views, why):
    nodes = [node('m', R, 300), node('r1', R, 300, role='slave')]
    assert decide(nodes, views, 3).action == RECOVER, why


@pytest.mark.parametrize('views, words', [
    (following('m:6379', 3, tilt=True), 'TILT'),
    (following('gone:6379', 2, ('master', 's_down', 'o_down', 'failover_in_progress')), 'failover is in progress'),
])
def test_sentinels_at_work_are_left_alone(views, words):
    verdict = decide([node('m', R, 300)], views, 3)
    assert verdict.action == REFUSE and words in verdict.reason


def test_node_state_from_redis_py_info():
    replication = {'role': 'slave', 'master_host': '10.0.0.11', 'master_port': 6379, 'master_link_status': 'down',
                   'master_replid': 1234, 'master_repl_offset': 99, 'master_replid2': 0, 'second_repl_offset': -1}
    keyspace = {'db0': {'keys': 3, 'expires': 0}, 'db2': {'keys': 2, 'expires': 1}}
    state = node_state('r1', '10.0.0.12:6379', replication, keyspace)
    assert state.replid == '1234'.zfill(40) and not state.has_replid2
    assert state.master == '10.0.0.11:6379' and state.link == 'down' and state.keys == 5 and state.offset == 99
    assert 'replica of 10.0.0.11:6379, link down' in state.describe() and 'no master_replid2' in state.describe()
    assert replication_id(None) == ''
