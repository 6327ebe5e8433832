# -*- coding: utf-8 -*-
"""The cluster_problems filter: every reason the redis_cluster group cannot make a cluster, in one list.
tests/unit/roles/test_cluster_preflight.py runs it through the role on a few inventories."""
from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.redisops.sentinel.plugins.filter.cluster_problems import cluster_problems


def node(name: str, machine: str, address: str, port: int) -> dict[str, Any]:
    return dict(name=name, machine=machine, instance='' if port == 6379 else str(port), node='%s:%d' % (address, port),
                data_ports=[port], bus_port=port + 10000, replicas=1)


def six(**overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Three machines with two nodes each (ports 6379 and 6380), like molecule/cluster."""
    nodes = {}
    for machine in (1, 2, 3):
        for name, port in (('cl-%d' % machine, 6379), ('cl-%d-b' % machine, 6380)):
            nodes[name] = dict(node(name, 'cl-%d' % machine, '10.0.0.%d' % machine, port), **overrides.get(name, {}))
    return nodes


def problems(nodes: dict[str, dict[str, Any]], play: list[str] | None = None, guard: Any = 60,
             node_timeout: Any = 15000) -> list[str]:
    hostvars = {name: {'_redis_cluster_node': value} for name, value in nodes.items()}
    return cluster_problems(list(nodes), list(nodes) if play is None else play, hostvars, guard, node_timeout)


def test_six_nodes_on_three_machines_and_three_without_replicas_pass():
    assert problems(six()) == []
    masters = {name: dict(value, replicas=0) for name, value in six().items() if not name.endswith('-b')}
    assert problems(masters) == []


@pytest.mark.parametrize('replicas,count,expected', [
    (1, 5, 'redis_cluster has 5 hosts; 6 are needed for 3 masters with 1 replica(s) each (redis_cluster_replicas).'),
    (2, 6, 'redis_cluster has 6 hosts; 9 are needed for 3 masters with 2 replica(s) each (redis_cluster_replicas).'),
    (0, 2, 'redis_cluster has 2 hosts; 3 are needed for 3 masters with 0 replica(s) each (redis_cluster_replicas).'),
])
def test_too_few_hosts_for_three_masters_with_their_replicas(replicas, count, expected):
    nodes = {name: dict(value, replicas=replicas) for name, value in list(six().items())[:count]}
    assert problems(nodes) == [expected]


def test_an_empty_group():
    assert cluster_problems([], ['other'], {}, 60, 15000) == [
        'The redis_cluster group is empty or missing: put the cluster nodes in it.']


def test_hosts_outside_the_run_are_named_and_the_others_still_checked():
    nodes = six(**{'cl-2': dict(node='10.0.0.1:6379')})
    assert problems(nodes, play=['cl-1', 'cl-2', 'cl-3']) == [
        'Hosts of redis_cluster are not in this run (cl-1-b, cl-2-b, cl-3-b): run on the whole group at once, '
        'without --limit or serial.',
        'Hosts cl-1, cl-2 are all the node 10.0.0.1:6379: give each its own redis_address, redis_port or '
        'redis_announce_ip/port.']


def test_replicas_that_differ_are_named_instead_of_a_size():
    assert problems(six(**{'cl-3': dict(replicas=2)})) == [
        'redis_cluster_replicas differs between the hosts (1, 2): set it once for the group.']


@pytest.mark.parametrize('guard,node_timeout,needed', [(30, 15000, 35), ('34', '15000', 35), (7, 1500, 8)])
def test_a_start_guard_shorter_than_a_cluster_failover(guard, node_timeout, needed):
    assert problems(six(), guard=guard, node_timeout=node_timeout) == [
        "redis_start_guard_timeout (%s s) is shorter than twice redis_cluster_node_timeout (%s ms) plus 5 s: the "
        "start guard of a wiped master's node would refuse to start it before the cluster has failed that master "
        "over. Set redis_start_guard_timeout to %d or more, or lower redis_cluster_node_timeout."
        % (guard, node_timeout, needed)]
    assert problems(six(), guard=needed, node_timeout=node_timeout) == []


def test_three_hosts_that_are_one_node_are_named_once():
    nodes = six(**{name: dict(node='[fd00::1]:6379', machine=name) for name in ('cl-3', 'cl-2', 'cl-1-b')})
    assert problems(nodes) == ['Hosts cl-1-b, cl-2, cl-3 are all the node [fd00::1]:6379: give each its own '
                               'redis_address, redis_port or redis_announce_ip/port.']


def test_two_hosts_of_one_machine_sharing_an_instance_and_a_port():
    nodes = six(**{'cl-1-b': dict(instance='', data_ports=[16379, 6390], bus_port=26379)})
    assert problems(nodes) == [
        "Hosts cl-1 and cl-1-b run on the same machine cl-1 with the same redis_instance '': they would share a "
        "unit, a configuration file and a data directory; give each its own redis_instance (e.g. the port).",
        'Hosts cl-1 and cl-1-b run on the same machine cl-1 and both use port 16379 (data ports 6379 and bus port '
        '16379, against 16379, 6390 and 26379; the bus port is the data port + 10000 unless redis_cluster_bus_port '
        'is set).']


def test_hosts_of_other_machines_may_use_the_same_ports_and_instance():
    nodes = six(**{'cl-2-b': dict(instance='', data_ports=[6379], bus_port=16379, node='10.0.0.9:6379',
                                  machine='cl-9')})
    assert problems(nodes) == []
