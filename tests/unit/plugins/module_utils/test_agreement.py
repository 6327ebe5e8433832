# -*- coding: utf-8 -*-
"""The Sentinel-agreement rules: on tables, then on what real Sentinels report (flags, TILT)."""
from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils.address import Address
from ansible_collections.redisops.sentinel.plugins.module_utils.agreement import (
    Vote, agreed_master, is_majority, known_sentinels, masters_seen, moving, tilted)
from ansible_collections.redisops.sentinel.plugins.module_utils.sentinel import sentinel_master, sentinel_tilt
from ansible_collections.redisops.sentinel.plugins.module_utils.switchover import ask_sentinel, sentinel_unmet
from ansible_collections.redisops.sentinel.plugins.modules import topology_info

from conftest import MASTER_NAME, wait_for

MASTER = '10.0.0.11:6379'
OTHER = '10.0.0.12:6379'


def vote(port: int, master: str | None = MASTER, flags: str = 'master', **extra: Any) -> Vote:
    return Vote('10.0.0.%d:26379' % port, master, tuple(flags.split(',')) if master else (), **extra)


def test_vote_from_a_sentinel_master_reply():
    reply = {'name': MASTER_NAME, 'ip': 'fd00::11', 'port': 6379, 'flags': ['master', 's_down'],
             'num-other-sentinels': 2, 'quorum': 2}
    assert Vote.from_master('[fd00::1]:26379', reply, tilt=True) == Vote(
        '[fd00::1]:26379', '[fd00::11]:6379', ('master', 's_down'), True, None, 3)
    unknown = Vote.from_master('10.0.0.1:26379', None)
    assert unknown.answered and unknown.master is None and unknown.flags == ()


@pytest.mark.parametrize('row, expected', [
    (dict(address='10.0.0.1:26379', reachable=True, error=None, master=MASTER, tilt=False, flags=['master'],
          num_other_sentinels=2),
     Vote('10.0.0.1:26379', MASTER, ('master',), False, None, 3)),
    (dict(address='10.0.0.1:26379', reachable=False, error='ConnectionError: refused', master=None, tilt=None),
     Vote('10.0.0.1:26379', error='ConnectionError: refused')),
    # Reachable, but monitors no group of that name: it answered, and follows no master.
    (dict(address='10.0.0.1:26379', reachable=True, error='monitors no master named x', master=None, tilt=False),
     Vote('10.0.0.1:26379', tilt=False)),
    (dict(address='10.0.0.1:26379', reachable=False, master=None), Vote('10.0.0.1:26379', error='no answer')),
])
def test_vote_from_a_topology_info_row(row, expected):
    assert Vote.from_row(row) == expected


@pytest.mark.parametrize('flags, is_moving, is_failing_over, is_down', [
    ('master', False, False, False),
    ('master,s_down', False, False, True),
    ('master,s_down,o_down', True, False, True),
    ('master,failover_in_progress', True, True, True),
    ('master,failover_in_progress,promoted', True, True, True),
])
def test_flags_of_the_master(flags, is_moving, is_failing_over, is_down):
    one = vote(1, flags=flags)
    assert (one.moving, one.failing_over, one.master_down) == (is_moving, is_failing_over, is_down)
    assert moving([one, vote(2)]) == (['10.0.0.1:26379'] if is_moving else [])


def test_tilted_names_the_sentinels_in_tilt():
    assert tilted([vote(1, tilt=True), vote(2), vote(3, tilt=True)]) == ['10.0.0.1:26379', '10.0.0.3:26379']
    assert tilted([vote(1), vote(2)]) == []


@pytest.mark.parametrize('votes, seen, agreed', [
    ([vote(1), vote(2), vote(3)], [MASTER], MASTER),
    ([vote(1), vote(2, OTHER), vote(3)], [MASTER, OTHER], None),
    # A Sentinel that does not answer does not break the agreement of those that do ...
    ([vote(1), vote(2, None, error='refused')], [MASTER], MASTER),
    # ... one that answers without following a master does.
    ([vote(1), vote(2, None)], [MASTER], None),
    ([vote(1, None, error='refused')], [], None),
    ([], [], None),
])
def test_masters_seen_and_agreed_master(votes, seen, agreed):
    assert masters_seen(votes) == seen
    assert agreed_master(votes) == agreed


def test_known_sentinels_is_the_most_any_sentinel_knows():
    assert known_sentinels([vote(1, known=3), vote(2, known=5), vote(3, known=1)]) == 5
    assert known_sentinels([]) == 0


@pytest.mark.parametrize('count, total, majority', [
    (2, 3, True), (1, 3, False), (3, 3, True), (1, 2, False), (2, 4, False), (3, 4, True), (1, 1, True), (0, 0, False),
])
def test_is_majority(count, total, majority):
    assert is_majority(count, total) is majority


# On real Sentinels: the flag names and the TILT state the rules read are the ones Redis reports.

def test_a_healthy_group_agrees(cluster):
    votes = []
    for sentinel in cluster.sentinels:
        client = sentinel.client()
        try:
            assert sentinel_tilt(client) is False
            votes.append(Vote.from_master(sentinel.address, sentinel_master(client, MASTER_NAME)))
        finally:
            client.close()
    assert agreed_master(votes) == cluster.master.address
    assert known_sentinels(votes) == 3 and is_majority(len(votes), known_sentinels(votes))
    assert moving(votes) == [] and tilted(votes) == [] and not any(one.master_down for one in votes)


def test_a_master_that_stopped_is_a_transition(nodes):
    master = nodes.server()
    sentinel = nodes.sentinel(master, quorum=1)
    client = sentinel.client()
    try:
        assert not Vote.from_master(sentinel.address, sentinel_master(client, MASTER_NAME)).moving
        master.stop()

        def seen_moving() -> bool:
            return Vote.from_master(sentinel.address, sentinel_master(client, MASTER_NAME)).moving

        wait_for(seen_moving, 'Sentinel %s to see the stopped master objectively down' % sentinel.address)
        stopped = Vote.from_master(sentinel.address, sentinel_master(client, MASTER_NAME))
        assert stopped.master_down and 'o_down' in stopped.flags
    finally:
        client.close()


def test_tilt_seen_alike_by_the_switchover_and_topology_info(run_module, nodes):
    """A Sentinel in TILT: the switchover refuses, and the rows live_master reads name it, through the same rule."""
    master = nodes.server()
    sentinel = nodes.sentinel(master, quorum=1)
    client = sentinel.client()

    def tilted_rows() -> list[str]:
        failed, result = run_module(topology_info.main, dict(sentinels=[sentinel.address]))
        assert not failed, result['msg']
        return tilted([Vote.from_row(row) for row in result['groups'][0]['sentinels']])

    try:
        assert tilted_rows() == []
        # Any delay between two timer ticks is a clock jump now: TILT at the next tick, and again at each one.
        client.execute_command('SENTINEL', 'DEBUG', 'tilt-trigger', 1)
        wait_for(lambda: sentinel_tilt(client), 'Sentinel %s to enter TILT mode' % sentinel.address)

        answer = ask_sentinel(client, Address(sentinel.host, sentinel.port), MASTER_NAME)
        assert answer.vote.tilt and answer.vote.master == master.address
        assert sentinel_unmet([answer], MASTER_NAME) == ['Sentinel %s is in TILT mode' % sentinel.address]
        assert tilted_rows() == [sentinel.address]

        client.execute_command('SENTINEL', 'DEBUG', 'tilt-trigger', 2000, 'tilt-period', 1)
        wait_for(lambda: not sentinel_tilt(client), 'Sentinel %s to leave TILT mode' % sentinel.address)
        answer = ask_sentinel(client, Address(sentinel.host, sentinel.port), MASTER_NAME)
        assert sentinel_unmet([answer], MASTER_NAME) == [] and tilted_rows() == []
    finally:
        client.close()
