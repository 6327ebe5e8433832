# -*- coding: utf-8 -*-
"""Parsing of CLUSTER NODES / INFO / SHARDS and the planning of a new cluster (no server needed:
the lines are as Redis 7.0 writes them; the modules' tests run the same code against real nodes)."""
from __future__ import annotations

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils.address import Address
from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import (
    SLOT_COUNT,
    NodeView,
    OpenSlot,
    describe_ranges,
    interleave_hosts,
    parse_endpoint,
    parse_info,
    parse_node_line,
    parse_nodes,
    parse_shards,
    plan_layout,
    shards_from_nodes,
    slot_ranges,
    split_slots,
)

MASTER = '10b6e302a0712c57c8dda5f3e765aef31db24dfc'
OTHER = 'e81004682e6049436e94d68447b0188385d8faa2'
NODES = (
    MASTER + ' 127.0.0.1:31001@41001 myself,master - 0 0 1 connected 0-5460 5462 [5->-' + OTHER + ']\n'
    + OTHER + ' 127.0.0.1:31002@41002 master - 0 1796196481024 2 connected 5461 5463-16383 [7-<-' + MASTER + ']\n'
    '08f8f8d9c25088504d958e63cbbd4b92eaa5c3d5 127.0.0.1:31003@41003 slave,fail? ' + MASTER
    + ' 1796196480011 1796196480000 1 disconnected\n')


def test_node_line_fields():
    master, other, replica = parse_nodes(NODES)
    assert master.node_id == MASTER and master.address == Address('127.0.0.1', 31001) and master.bus_port == 41001
    assert master.myself and master.role == 'master' and master.master_id is None and master.config_epoch == 1
    assert master.slots == ((0, 5460), (5462, 5462)) and master.slot_count == 5462
    assert master.open_slots == (OpenSlot(5, 'migrating', OTHER),)
    assert other.open_slots == (OpenSlot(7, 'importing', MASTER),) and other.pong_received == 1796196481024
    assert replica.role == 'replica' and replica.master_id == MASTER
    assert replica.unusable == ['fail?', 'link disconnected'] and master.unusable == []


def test_endpoints_ipv6_hostname_fresh_and_old_servers():
    assert parse_endpoint('::1:7000@17000') == ('::1', 7000, 17000, '')
    assert parse_endpoint('10.0.0.1:7000@17000,redis1.example') == ('10.0.0.1', 7000, 17000, 'redis1.example')
    # Redis 7.2 adds auxiliary fields after the host name.
    assert parse_endpoint('10.0.0.1:7000@17000,,tls-port=0,shard-id=ab') == ('10.0.0.1', 7000, 17000, '')
    # A fresh node does not know its own address yet; before Redis 4 there is no bus port.
    assert parse_endpoint(':7000@17000') == ('', 7000, 17000, '')
    assert parse_endpoint('10.0.0.1:7000') == ('10.0.0.1', 7000, 17000, '')
    fresh = parse_node_line(MASTER + ' :7000@17000 myself,master - 0 0 0 connected')
    assert fresh.address is None and fresh.label() == MASTER[:12]


def test_ipv6_node_address_prints_bracketed():
    node = parse_node_line(MASTER + ' 2001:db8::1:7000@17000 master - 0 0 1 connected 0-16383')
    assert str(node.address) == '[2001:db8::1]:7000' and node.as_dict()['slots'] == ['0-16383']


@pytest.mark.parametrize('line', ['', 'abc 1.2.3.4:1@2 master', MASTER + ' 1.2.3.4:1@2 master - 0 0 1 connected [5?x]'])
def test_bad_lines_raise(line):
    with pytest.raises(ValueError):
        parse_node_line(line)


def test_info_values():
    info = parse_info('cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_my_epoch:-1\r\n')
    assert info == {'cluster_state': 'ok', 'cluster_slots_assigned': 16384, 'cluster_my_epoch': -1}


def test_shards_resp2_and_resp3():
    node = ['id', MASTER, 'port', 31001, 'ip', '127.0.0.1', 'endpoint', '127.0.0.1', 'role', 'master',
            'replication-offset', 42, 'health', 'online']
    resp2 = [['slots', [0, 5460, 5462, 5462], 'nodes', [node]]]
    resp3 = [{'slots': [0, 5460, 5462, 5462], 'nodes': [dict(zip(node[::2], node[1::2]))]}]
    for reply in (resp2, resp3):
        shard, = parse_shards(reply)
        assert shard.slots == ((0, 5460), (5462, 5462))
        assert shard.as_dict()['nodes'] == [dict(id=MASTER, endpoint='127.0.0.1', port=31001, role='master',
                                                 replication_offset=42, health='online')]


def test_shards_derived_from_nodes():
    shards = shards_from_nodes(parse_nodes(NODES))
    assert [len(shard.nodes) for shard in shards] == [2, 1]
    assert [node.health for node in shards[0].nodes] == ['online', 'online']
    assert shards[0].as_dict()['slots'] == ['0-5460', '5462']


def test_slot_map_merges_adjacent_ranges_of_one_master():
    view = NodeView(Address('127.0.0.1', 31001), {}, parse_nodes(NODES))
    assert view.slot_map() == [(0, 5460, MASTER), (5461, 5461, OTHER), (5462, 5462, MASTER),
                               (5463, 16383, OTHER)]
    assert not view.fresh and view.myself.node_id == MASTER


def test_ranges():
    assert slot_ranges([5, 1, 2, 3, 9]) == [(1, 3), (5, 5), (9, 9)]
    assert describe_ranges([(i, i) for i in range(0, 14, 2)], limit=3) == '0, 2, 4 and 4 more ranges'


@pytest.mark.parametrize('count', [1, 3, 5, 7])
def test_split_slots_covers_every_slot_once(count):
    ranges = split_slots(count)
    assert ranges[0][0] == 0 and ranges[-1][1] == SLOT_COUNT - 1
    assert all(ranges[i][1] + 1 == ranges[i + 1][0] for i in range(count - 1))
    sizes = [end - start + 1 for start, end in ranges]
    assert max(sizes) - min(sizes) <= 1


def test_split_slots_like_redis_cli():
    assert split_slots(3) == [(0, 5460), (5461, 10922), (10923, 16383)]


def nodes_on(hosts: int, per_host: int) -> list[Address]:
    """Listed host by host, the way an inventory with several nodes per host reads."""
    return [Address('10.0.0.%d' % host, 6379 + index) for host in range(1, hosts + 1) for index in range(per_host)]


def test_interleave_alternates_hosts():
    hosts = [address.host for address in interleave_hosts(nodes_on(3, 2))]
    assert hosts == ['10.0.0.1', '10.0.0.2', '10.0.0.3'] * 2


@pytest.mark.parametrize('hosts,per_host,replicas', [(3, 2, 1), (6, 1, 1), (3, 3, 2), (4, 3, 2), (2, 3, 1)])
def test_plan_spreads_masters_and_replicas(hosts, per_host, replicas):
    nodes = nodes_on(hosts, per_host)
    masters, assigned = plan_layout(nodes, replicas)
    assert len(masters) == len(nodes) // (replicas + 1)
    assert sorted(masters + list(assigned)) == sorted(nodes)
    counts = [list(assigned.values()).count(master) for master in masters]
    assert min(counts) >= replicas and max(counts) - min(counts) <= 1
    # Masters on as many hosts as there are; a replica shares its master's host only when there are
    # fewer hosts than (replicas + 1) nodes per shard require.
    assert len({master.host for master in masters}) == min(hosts, len(masters))
    if hosts >= replicas + 1:
        assert all(node.host != master.host for node, master in assigned.items())
