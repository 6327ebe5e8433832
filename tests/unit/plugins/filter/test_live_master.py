# -*- coding: utf-8 -*-
"""live_master decides the master of a group from a topology_info report, or says why not."""
from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.redisops.sentinel.plugins.filter.live_master import FilterModule, live_master

MASTER = '10.0.0.11:6379'


def sentinel(address: str, master: str | None = MASTER, **extra: Any) -> dict[str, Any]:
    row = dict(address=address, reachable=master is not None, error=None if master else 'refused', master=master,
               tilt=False, flags=['master'], num_other_sentinels=2)
    row.update(extra)
    return row


def group(sentinels: list[dict[str, Any]], role: str = 'master', reachable: bool = True) -> dict[str, Any]:
    nodes = [dict(address=MASTER, reachable=reachable, error=None if reachable else 'timed out', role=role)]
    return dict(name='mymaster', sentinels=sentinels, nodes=nodes)


def three(**extra: Any) -> list[dict[str, Any]]:
    return [sentinel('10.0.0.%d:26379' % n, **extra) for n in (11, 12, 13)]


def test_agreeing_majority_is_followed():
    expected = dict(name='mymaster', master=dict(host='10.0.0.11', port=6379), problem=None)
    assert live_master(group(three())) == expected


def test_ipv6_master_is_split():
    report = group([sentinel('[fd00::1]:26379', '[fd00::11]:6379', num_other_sentinels=0)])
    report['nodes'][0]['address'] = '[fd00::11]:6379'
    assert live_master(report)['master'] == dict(host='fd00::11', port=6379)


@pytest.mark.parametrize('rows', [
    [],
    [sentinel('10.0.0.11:26379', None)],
    [sentinel('10.0.0.11:26379', '127.0.0.1:6379', num_other_sentinels=0)],
])
def test_nothing_running_is_a_first_deployment(rows):
    assert live_master(group(rows)) == dict(name='mymaster', master=None, problem=None)


@pytest.mark.parametrize('rows, expected', [
    (three(tilt=True), 'TILT'),
    (three(flags=['master', 'failover_in_progress']), 'a failover is in progress'),
    (three(flags=['s_down', 'o_down', 'master']), 'objectively down'),
    (three()[:2] + [sentinel('10.0.0.13:26379', '10.0.0.12:6379')], 'disagree'),
    (three()[:1] + [sentinel('10.0.0.12:26379', None), sentinel('10.0.0.13:26379', None)],
     'only 1 of the 3 Sentinels'),
])
def test_transitions_are_refused(rows, expected):
    verdict = live_master(group(rows))
    assert verdict['master'] is None
    assert expected in verdict['problem'] and 'must not be changed now' in verdict['problem']


def test_minority_names_the_silent_sentinels():
    rows = three()[:1] + [sentinel('10.0.0.12:26379', None), sentinel('10.0.0.13:26379', None)]
    assert '10.0.0.12:26379, 10.0.0.13:26379' in live_master(group(rows))['problem']


def test_two_of_three_is_a_majority():
    assert live_master(group(three()[:2] + [sentinel('10.0.0.13:26379', None)]))['master'] is not None


@pytest.mark.parametrize('role, reachable, expected', [
    ('slave', True, 'reports role slave'),
    ('master', False, 'does not answer from the host that asked: timed out'),
])
def test_master_must_answer_as_master(role, reachable, expected):
    verdict = live_master(group(three(), role=role, reachable=reachable))
    assert verdict['master'] is None and expected in verdict['problem']


def test_filter_is_registered():
    assert FilterModule().filters() == {'live_master': live_master}


@pytest.mark.parametrize('error', [
    'AuthenticationError: invalid username-password pair or user is disabled.',  # redis-py 5+
    'ResponseError: WRONGPASS invalid username-password pair or user is disabled.',  # redis-py 4.3, Debian 12
])
def test_a_refused_password_is_named_with_the_way_to_rotate(error):
    """What topology_info reports for a master that refuses the inventory's password (WRONGPASS)."""
    report = group(three(), reachable=False)
    report['nodes'][0]['error'] = error
    verdict = live_master(report)
    assert verdict['master'] is None
    assert 'is not the one the servers use' in verdict['problem']
    assert 'redis_password_previous' in verdict['problem']
    # A first ACL run with the default user already off is refused the same way: the way in is named too.
    assert 'keep redis_password and redis_acl_default_user true in the first run' in verdict['problem']
    assert 'must not be changed now' not in verdict['problem']


def test_a_refused_password_during_a_failover_is_a_transition():
    report = group(three(flags=['master', 'failover_in_progress']), reachable=False)
    report['nodes'][0]['error'] = 'AuthenticationError: invalid password'
    assert 'a failover is in progress' in live_master(report)['problem']
