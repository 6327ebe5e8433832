# -*- coding: utf-8 -*-
"""The doctor and the status table for a Redis Cluster, against real cluster-mode servers: a healthy cluster
gives no finding, and each defect, made for real (a slot no master serves, a half-moved slot, a replica
stopped, a node that forgot a slot, the inventory and the cluster apart), gives its finding with the evidence
and the fix. The nodes of one "machine" share a loopback address (127.0.0.1 to 127.0.0.3), which they
announce. Only the config epoch collision, which the servers settle by themselves within a second, is given
as CLUSTER NODES text."""
from __future__ import annotations

import json
import random
import socket

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils import cluster_doctor
from ansible_collections.redisops.sentinel.plugins.module_utils.address import Address
from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import (
    SLOT_COUNT, NodeView, parse_info, parse_nodes, split_slots)
from ansible_collections.redisops.sentinel.plugins.modules import doctor

from conftest import NodeFactory, RedisNode, command, link_up, wait_for

CLUSTER_CONFIG = ('cluster-enabled yes', 'cluster-node-timeout 3000')
MACHINES = ('127.0.0.1', '127.0.0.2', '127.0.0.3')
SETTLE_TIMEOUT = 30
BUS_OFFSET = 10000


def cluster_port(host: str) -> int:
    """A free port on ``host`` at most 55535 whose bus port (port + 10000) is free too."""
    while True:
        port = random.randint(20000, 55535)
        try:
            for candidate in (port, port + BUS_OFFSET):
                with socket.socket() as sock:
                    sock.bind((host, candidate))
        except OSError:
            continue
        return port


def start(factory: NodeFactory, host: str) -> RedisNode:
    """A cluster node on ``host`` that announces it and connects from it (bus and replication)."""
    return factory.server(*CLUSTER_CONFIG, 'cluster-announce-ip %s' % host, 'bind-source-addr %s' % host,
                          port=cluster_port(host), host=host)


def myid(node: RedisNode) -> str:
    return command(node, 'CLUSTER', 'MYID')


def known(node: RedisNode) -> list[list[str]]:
    return [line.split() for line in command(node, 'CLUSTER', 'NODES').splitlines()]


def settled(nodes: list[RedisNode], assigned: int) -> bool:
    """Every node knows all the others (no handshake), sees ``assigned`` slots and the same config epochs."""
    epochs = set()
    for node in nodes:
        lines = known(node)
        if len(lines) != len(nodes) or any('handshake' in line[2] or 'noaddr' in line[2] for line in lines):
            return False
        state = parse_info(command(node, 'CLUSTER', 'INFO'))
        if state['cluster_slots_assigned'] != assigned or (assigned == SLOT_COUNT and state['cluster_state'] != 'ok'):
            return False
        epochs.add(frozenset((line[0], line[6]) for line in lines if 'master' in line[2]))
    return len(epochs) == 1


def form(nodes: list[RedisNode], masters: int, replica_of: dict[int, int] | None = None,
         slots: list[tuple[int, int]] | None = None) -> None:
    """A cluster made by hand: distinct config epochs, slots, MEET, REPLICATE; returns once all agree."""
    replica_of = replica_of or {}
    for index, node in enumerate(nodes):
        command(node, 'CLUSTER', 'SET-CONFIG-EPOCH', index + 1)
    for node, (first, last) in zip(nodes, slots or split_slots(masters)):
        command(node, 'CLUSTER', 'ADDSLOTSRANGE', first, last)
    for node in nodes[1:]:
        command(nodes[0], 'CLUSTER', 'MEET', node.host, node.port)
    assigned = sum(last - first + 1 for first, last in slots or split_slots(masters))
    wait_for(lambda: settled(nodes, assigned), 'the nodes to know each other', SETTLE_TIMEOUT)
    for replica, master in replica_of.items():
        command(nodes[replica], 'CLUSTER', 'REPLICATE', myid(nodes[master]))
    for replica in replica_of:
        wait_for(lambda node=nodes[replica]: link_up(node), 'the replica link of %s' % nodes[replica].address,
                 SETTLE_TIMEOUT)
    replica_ids = {myid(nodes[replica]) for replica in replica_of}
    wait_for(lambda: all(replica_ids <= {line[0] for line in known(node) if 'slave' in line[2]} for node in nodes),
             'every node to see the replicas', SETTLE_TIMEOUT)


def inventory(nodes: list[RedisNode], machines: dict[int, str] | None = None) -> list[dict]:
    """n0, n1 ... on the machines m1 to m3 of their loopback address (``machines`` overrides)."""
    machines = machines or {}
    return [dict(name='n%d' % index, address=node.address,
                 machine=machines.get(index, 'm%d' % (MACHINES.index(node.host) + 1)))
            for index, node in enumerate(nodes)]


def run(run_module, members: list[dict], check_mode: bool = False, **options):
    return run_module(doctor.main, dict(dict(cluster_nodes=members, connect_timeout=1.0), **options),
                      check_mode=check_mode)


def of_check(result: dict, check: str) -> list[dict]:
    return [item for item in result['findings'] if item['check'] == check]


def checks_of(result: dict) -> list[tuple[str, str]]:
    return sorted((item['check'], item['node']) for item in result['findings'])


def three_masters(factory: NodeFactory, slots: list[tuple[int, int]] | None = None) -> list[RedisNode]:
    masters = [start(factory, host) for host in MACHINES]
    form(masters, 3, slots=slots)
    return masters


@pytest.fixture(scope='module')
def six(tmp_path_factory):
    """Three masters (n0-n2, on 127.0.0.1-3) and a replica of each on the next machine (n3 of n0 on .2, n4
    of n1 on .3, n5 of n2 on .1); a seventh node that belongs to no cluster."""
    factory = NodeFactory(tmp_path_factory.mktemp('doctor-cluster'))
    try:
        nodes = [start(factory, host) for host in MACHINES + MACHINES[1:] + MACHINES[:1]]
        form(nodes, 3, {3: 0, 4: 1, 5: 2})
        fresh = start(factory, MACHINES[0])
        yield nodes, fresh
    finally:
        factory.stop_all()


def slot_key(slot_range: tuple[int, int], node: RedisNode) -> str:
    return next(name for name in ('key%d' % index for index in range(100000))
                if slot_range[0] <= command(node, 'CLUSTER', 'KEYSLOT', name) <= slot_range[1])


def test_a_healthy_cluster_has_no_finding_and_a_status_table(run_module, six):
    nodes, dummy = six
    command(nodes[0], 'SET', slot_key((0, 5460), nodes[0]), 'value')
    for check_mode in (False, True):
        failed, result = run(run_module, inventory(nodes), check_mode=check_mode, fail_on='warning')
        assert not failed, result.get('msg')
        assert result['findings'] == [] and result['summary'] == ['doctor: no findings']
        assert result['changed'] is False
    status = result['cluster_status']
    assert status[0] == ('cluster: cluster_state ok, 6 nodes, 3 masters, 16384 of 16384 slots assigned, '
                         'current epoch 6 (as n0 %s sees it)' % nodes[0].address)
    masters = [line.split() for line in status if line.startswith('  master')]
    assert [(line[1], line[2], line[4]) for line in masters] == [
        ('n0', nodes[0].address, '0-5460'), ('n1', nodes[1].address, '5461-10922'),
        ('n2', nodes[2].address, '10923-16383')]
    assert status[1].endswith('1 keys, epoch 1')
    replicas = [line for line in status if line.startswith('    replica')]
    assert [line.split()[1] for line in replicas] == ['n3', 'n4', 'n5']
    assert all('link up, offset lag' in line for line in replicas)
    assert status[-2:] == ['  failed or suspected nodes: none', '  open slots: none']


# The start guard's settings on a cluster node: as cluster_node.yml wrote them before the guard asked the peers,
# and with the peers.
GUARD_AS_WRITTEN = dict(master_name='', sentinels=[], me=['127.0.0.1:7000'], timeout=60, interval=1)
GUARD_ASKING = dict(GUARD_AS_WRITTEN, cluster=dict(peers=['127.0.0.2:7000'], user='admin', password='secret'))


@pytest.mark.parametrize('restart_usec, guard, severity', [
    ('6s', GUARD_AS_WRITTEN, 'info'), ('100ms', GUARD_AS_WRITTEN, 'error'), ('100ms', GUARD_ASKING, 'info')])
def test_a_cluster_node_reads_its_own_evidence(run_module, six, monkeypatch, tmp_path, restart_usec, guard, severity):
    """As doctor.yml does it on every node of redis_cluster: the node's own run (its server, in cluster mode
    with cluster-node-timeout 3000 and no persistence, its log, clock and start guard settings are real; its
    unit is a table: the roles' RestartSec=6 or systemd's default, and the guard), then the cluster run with
    that host report."""
    nodes, dummy = six
    settings = tmp_path / 'redisops-guard-7000.json'
    settings.write_text(json.dumps(guard))
    monkeypatch.setattr(doctor, 'unit_properties', lambda module, service: (
        'Restart=always\nRestartUSec=%s\nExecStartPre={ path=/usr/bin/python3 ; argv[]=/usr/bin/python3 '
        '/usr/local/libexec/redisops/start_guard.py %s ; ignore_errors=no }\n' % (restart_usec, settings)))
    failed, own = run_module(doctor.main, dict(host_name='n0', local_server=dict(
        address=nodes[0].address, log_file=str(nodes[0].workdir / 'log'), service='redis-server@7000'),
        clock_reference=nodes[1].address))
    assert not failed and own['host_report']['clock_offset'] is not None
    failed, result = run(run_module, inventory(nodes), host_reports=[own['host_report']], ignore=['kernel_warning'])
    assert not failed
    (item,) = result['findings']
    assert (item['check'], item['severity'], item['node']) == ('persistence_off', severity, 'n0')
    assert item['evidence'] == dict(address=nodes[0].address, appendonly='no', save='', restart='always',
                                    restart_sec=pytest.approx(6.0 if restart_usec == '6s' else 0.1),
                                    cluster_node_timeout=3000, start_guard=True,
                                    guard_asks_peers='cluster' in guard)
    assert ('still owning its slots' in item['message']) == (severity == 'error')
    assert 'secret' not in json.dumps(own) + json.dumps(result)
    assert result['cluster_status'][0].startswith('cluster: cluster_state ok, 6 nodes')


def test_the_inventory_and_the_cluster_apart(run_module, six):
    nodes, fresh = six
    members = inventory(nodes[:5]) + [dict(name='new', address=fresh.address, machine='m1')]
    failed, result = run(run_module, members, fail_on='warning')
    assert failed and 'warning cluster_unknown_node on %s' % nodes[5].address in result['msg']
    assert checks_of(result) == [('cluster_missing_node', 'new'), ('cluster_unknown_node', nodes[5].address)]
    unknown, = of_check(result, 'cluster_unknown_node')
    assert unknown['evidence']['role'] == 'replica' and unknown['evidence']['id'] == myid(nodes[5])
    assert 'cluster.yml removes it' in unknown['fix']
    missing, = of_check(result, 'cluster_missing_node')
    assert 'it belongs to no cluster' in missing['message']
    assert missing['evidence'] == dict(address=fresh.address, known_nodes=1, keys=0)
    # The member outside the inventory is read too: its replica line is complete.
    assert any(line.startswith('    replica %s' % nodes[5].address) and 'link up' in line
               for line in result['cluster_status'])
    failed, result = run(run_module, members, fail_on='warning',
                         ignore=['cluster_unknown_node', 'cluster_missing_node'])
    assert not failed and result['findings'] == [] and len(result['ignored']) == 2


def test_a_replica_on_its_masters_machine(run_module, six):
    nodes, dummy = six
    # n3 replicates n0: put it on n0's machine in the inventory (its address stays another one).
    failed, result = run(run_module, inventory(nodes, machines={3: 'm1'}))
    assert checks_of(result) == [('cluster_replica_beside_master', 'n3')]
    item = result['findings'][0]
    assert item['severity'] == 'warning'
    assert item['evidence'] == dict(replica=nodes[3].address, master=nodes[0].address, machine='m1')
    assert 'CLUSTER REPLICATE' in item['fix']


def test_slots_no_master_serves(run_module, nodes):
    masters = three_masters(nodes, slots=[(0, 5460), (5461, 10922), (10923, 16382)])
    failed, result = run(run_module, inventory(masters), fail_on='error', ignore=['cluster_no_replica'])
    assert failed
    assert checks_of(result) == [('cluster_state', 'n0'), ('cluster_uncovered_slots', 'n0')]
    state, uncovered = result['findings']
    assert sorted(state['evidence']) == ['n0', 'n1', 'n2']
    assert state['evidence']['n1']['cluster_state'] == 'fail' and state['evidence']['n1']['slots_assigned'] == 16383
    assert uncovered['evidence'] == dict(count=1, slots=['16383'], seen_by=masters[0].address)
    assert 'CLUSTER ADDSLOTSRANGE' in uncovered['fix']
    assert result['cluster_status'][0].startswith('cluster: cluster_state fail, 3 nodes, 3 masters, 16383 of')
    # Without replicas, every master has none that could take over.
    assert [item['node'] for item in result['ignored']] == ['n0', 'n1', 'n2']
    assert result['ignored'][0]['message'].startswith('master n0 %s (slots 0-5460) has no replica that could '
                                                      'take over: it has no replica.' % masters[0].address)


def test_a_half_moved_slot(run_module, nodes):
    masters = three_masters(nodes)
    source, target = masters[:2]
    key = slot_key((0, 0), source)
    command(source, 'SET', key, 'value')
    command(target, 'CLUSTER', 'SETSLOT', 0, 'IMPORTING', myid(source))
    command(source, 'CLUSTER', 'SETSLOT', 0, 'MIGRATING', myid(target))
    failed, result = run(run_module, inventory(masters), ignore=['cluster_no_replica'])
    assert checks_of(result) == [('cluster_open_slots', 'n0')]
    item = result['findings'][0]
    assert item['severity'] == 'error'
    assert item['evidence'] == dict(slot=0, nodes=[
        dict(node='n0', state='migrating', peer='n1 %s' % target.address),
        dict(node='n1', state='importing', peer='n0 %s' % source.address)])
    assert 'redis_cluster_open_slots=finish' in item['fix']
    expected = '  open slots: slot 0 n0 migrating to n1 %s; slot 0 n1 importing from n0 %s' % (
        target.address, source.address)
    assert result['cluster_status'][-1] == expected


def test_a_node_that_forgot_its_slot(run_module, nodes):
    masters = three_masters(nodes)
    # The owner forgets slot 0 (as after a lost config); the others still route it there.
    command(masters[0], 'CLUSTER', 'DELSLOTS', 0)
    failed, result = run(run_module, inventory(masters), ignore=['cluster_no_replica'])
    disagreements = of_check(result, 'cluster_slot_map_disagreement')
    assert [item['node'] for item in disagreements] == ['n1', 'n2']
    assert disagreements[0]['evidence'] == dict(
        node=masters[1].address, reference=masters[0].address, slots=['0'], epochs={})
    # The node that forgot it knows no owner of slot 0, and refuses its clients.
    assert [item['node'] for item in of_check(result, 'cluster_state')] == ['n0']
    assert of_check(result, 'cluster_uncovered_slots')[0]['evidence']['slots'] == ['0']


def test_a_stopped_replica(run_module, nodes):
    six = [start(nodes, host) for host in MACHINES + MACHINES[1:] + MACHINES[:1]]
    form(six, 3, {3: 0, 4: 1, 5: 2})
    six[3].stop()
    seen: dict = {}

    def failed_flag() -> bool:
        dummy, seen['result'] = run(run_module, inventory(six))
        flagged = [seen_by for item in of_check(seen['result'], 'cluster_node_failed')
                   for seen_by in item['evidence']['seen_by']]
        return len(flagged) == 5 and all(entry.endswith(': fail') for entry in flagged)

    wait_for(failed_flag, 'every other node to flag the stopped replica fail', SETTLE_TIMEOUT)
    result = seen['result']
    assert checks_of(result) == [('cluster_no_replica', 'n0'), ('cluster_node_failed', 'n3'), ('unreachable', 'n3')]
    no_replica, = of_check(result, 'cluster_no_replica')
    assert list(no_replica['evidence']['replicas']) == ['n3 %s' % six[3].address]
    assert no_replica['evidence']['replicas']['n3 %s' % six[3].address].startswith('fail')
    failed_node, = of_check(result, 'cluster_node_failed')
    assert failed_node['evidence']['node'] == six[3].address
    assert failed_node['evidence']['seen_by'] == ['n%d: fail' % index for index in (0, 1, 2, 4, 5)]
    assert any(line.startswith('    replica n3 %s' % six[3].address) and 'not read' in line and '[fail]' in line
               for line in result['cluster_status'])
    assert result['cluster_status'][-3] == '  failed or suspected nodes: n3 %s fail' % six[3].address
    assert result['cluster_status'][-1].startswith('  not answering: n3 %s (ConnectionError' % six[3].address)


CLUSTER_NODES = '''\
a000000000000000000000000000000000000000 10.0.0.11:6379@16379 myself,master - 0 0 1 connected 0-8191
b000000000000000000000000000000000000000 10.0.0.12:6379@16379 master - 0 0 1 connected 8192-16383
c000000000000000000000000000000000000000 10.0.0.13:6379@16379 slave a000000000000000000000000000000000000000 0 0 1 connected
d000000000000000000000000000000000000000 10.0.0.11:6380@16380 slave b000000000000000000000000000000000000000 0 0 1 connected
'''


def test_masters_that_share_a_config_epoch():
    address = Address('10.0.0.11', 6379)
    view = NodeView(address, dict(cluster_state='ok', cluster_slots_assigned=16384), parse_nodes(CLUSTER_NODES))
    members = [cluster_doctor.InventoryNode('n%d' % index, Address(host, port), host)
               for index, (host, port) in enumerate([('10.0.0.11', 6379), ('10.0.0.12', 6379), ('10.0.0.13', 6379),
                                                     ('10.0.0.11', 6380)])]
    reading = cluster_doctor.ClusterReading(members, {address: view})
    (item,) = cluster_doctor.collision_findings(reading)
    assert item.check == 'cluster_epoch_collision' and item.node == 'n0'
    assert dict(item.evidence) == dict(epoch=1, masters=['10.0.0.11:6379', '10.0.0.12:6379'])
    # d (n3) replicates b (n1) on 10.0.0.11, b runs on 10.0.0.12: another machine.
    assert cluster_doctor.beside_master_findings(reading) == []


def test_bad_cluster_nodes_are_refused(run_module):
    failed, result = run(run_module, [dict(name='a', address='127.0.0.1:99999'), dict(name='b', address='x:1'),
                                      dict(name='c', address='x:1')])
    assert failed
    assert "cluster_nodes: invalid address '127.0.0.1:99999'" in result['msg']
    assert 'cluster_nodes: an address is listed twice' in result['msg']
