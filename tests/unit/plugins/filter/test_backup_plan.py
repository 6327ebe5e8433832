# -*- coding: utf-8 -*-
"""The backup_plan filter: which node playbooks/backup.yml snapshots in each master group."""
from __future__ import annotations

from typing import Any

from ansible_collections.redisops.sentinel.plugins.filter.backup_plan import backup_plan

INVENTORY = {'nodes': {'m': {'server': '10.0.0.1:6379'}, 'r1': {'server': '10.0.0.2:6379'},
                       'r2': {'server': '[fd00::3]:6379'}, 'c': {'server': '10.0.1.1:6380'}}}
GROUPS = [{'name': 'mymaster', 'master': '10.0.0.1:6379', 'replicas': ['10.0.0.2:6379', '[fd00::3]:6379'],
           'members': ['m', 'r1', 'r2']},
          {'name': 'cache', 'master': '10.0.1.1:6380', 'replicas': [], 'members': ['c']}]


def replica(address: str, lag: Any = 0, link: str = 'up', role: str = 'slave') -> dict[str, Any]:
    return {'address': address, 'role': role, 'master_link_status': link, 'lag_bytes': lag}


def plan(*nodes: dict[str, Any]) -> list[dict[str, Any]]:
    live = [{'name': 'mymaster', 'nodes': [{'address': '10.0.0.1:6379', 'role': 'master'}] + list(nodes)},
            {'name': 'cache', 'nodes': [{'address': '10.0.1.1:6380', 'role': 'master'}]}]
    return backup_plan(GROUPS, live, INVENTORY)


def test_the_linked_replica_with_the_least_lag_and_the_master_of_a_group_without_one():
    assert plan(replica('10.0.0.2:6379', 120), replica('[fd00::3]:6379', 0)) == [
        {'name': 'mymaster', 'host': 'r2', 'address': '[fd00::3]:6379', 'master': '10.0.0.1:6379', 'from_master': False},
        {'name': 'cache', 'host': 'c', 'address': '10.0.1.1:6380', 'master': '10.0.1.1:6380', 'from_master': True}]


def test_equal_lag_takes_the_first_listed_and_an_unknown_lag_counts_as_none():
    assert plan(replica('10.0.0.2:6379', None), replica('[fd00::3]:6379', 0))[0]['host'] == 'r1'


def test_a_replica_whose_link_is_down_or_that_is_not_in_the_inventory_is_never_chosen():
    chosen = plan(replica('10.0.0.2:6379', link='down'), replica('10.9.9.9:6379'),
                  replica('[fd00::3]:6379', role='master'))[0]
    assert chosen == {'name': 'mymaster', 'host': 'm', 'address': '10.0.0.1:6379', 'master': '10.0.0.1:6379',
                      'from_master': True}


def test_a_master_outside_the_inventory_has_no_host():
    """The playbook refuses such a group by name (host none)."""
    groups = [dict(GROUPS[1], master='10.0.1.9:6380')]
    assert backup_plan(groups, [], INVENTORY)[0]['host'] is None
