# -*- coding: utf-8 -*-
from __future__ import annotations

from ansible_collections.redisops.sentinel.plugins.modules import topology_info

from conftest import MASTER_NAME, wait_for


def sentinels(cluster):
    return [node.address for node in cluster.sentinels]


def test_reports_agreement_replicas_and_lag(run_module, cluster):
    failed, result = run_module(topology_info.main, dict(sentinels=sentinels(cluster)))
    assert not failed, result['msg']
    assert result['changed'] is False
    (group,) = result['groups']
    assert group['name'] == MASTER_NAME
    assert group['agreed'] is True and group['master'] == cluster.master.address
    assert [row['master'] for row in group['sentinels']] == [cluster.master.address] * 3
    assert all(row['num_other_sentinels'] == 2 and row['ckquorum'].startswith('OK') and row['tilt'] is False
               for row in group['sentinels'])
    master, replica = group['nodes']
    assert master['address'] == cluster.master.address and master['role'] == 'master'
    assert replica['address'] == cluster.replica.address and replica['role'] == 'slave'
    assert replica['master'] == cluster.master.address and replica['master_link_status'] == 'up'
    assert replica['lag_bytes'] >= 0
    assert result['summary'][0] == '%s: master %s, 3/3 Sentinels agree' % (MASTER_NAME, cluster.master.address)


def test_unreachable_sentinel_is_reported_not_fatal(run_module, cluster, closed_port):
    dead = '127.0.0.1:%d' % closed_port
    failed, result = run_module(topology_info.main, dict(sentinels=[dead] + sentinels(cluster)))
    assert not failed, result['msg']
    (group,) = result['groups']
    assert group['agreed'] is True
    row = group['sentinels'][0]
    assert row['address'] == dead and row['reachable'] is False and 'refused' in row['error'].lower()
    assert any(line.startswith('  sentinel %s' % dead) for line in result['summary'])


def test_unknown_group_and_no_sentinel(run_module, cluster, closed_port):
    failed, result = run_module(topology_info.main, dict(sentinels=sentinels(cluster)[:1],
                                                         master_names=['nosuch']))
    assert not failed
    (group,) = result['groups']
    assert group['agreed'] is False and group['master'] is None
    assert group['sentinels'][0]['error'] == 'monitors no master named nosuch'
    assert result['summary'][0] == 'nosuch: NO AGREEMENT, Sentinels report no master'

    failed, result = run_module(topology_info.main, dict(login_port=closed_port))
    assert failed and result['msg'].startswith('None of the Sentinels 127.0.0.1:%d answered' % closed_port)


def test_bad_address_is_rejected(run_module):
    failed, result = run_module(topology_info.main, dict(sentinels=['127.0.0.1:99999']))
    assert failed and 'port must be between 1 and 65535' in result['msg']


def test_reports_the_masters_last_fork_time(run_module, nodes):
    master = nodes.server()
    sentinel = nodes.sentinel(master, quorum=1)
    client = master.client()
    client.bgsave()
    wait_for(lambda: client.info('persistence')['rdb_bgsave_in_progress'] == 0, 'the snapshot to finish')
    forked = client.info('stats')['latest_fork_usec']
    client.close()
    failed, result = run_module(topology_info.main, dict(sentinels=[sentinel.address]))
    assert not failed, result['msg']
    (node,) = result['groups'][0]['nodes']
    assert forked > 0 and node['latest_fork_usec'] == forked
