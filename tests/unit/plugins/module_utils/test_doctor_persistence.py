# -*- coding: utf-8 -*-
"""persistence_off as the doctor words it for a Sentinel group's data node and for a Redis Cluster node.

What stops a crashed master without AOF from coming back with an empty or stale data set differs: for a
Sentinel group's data node, the start guard (it asks the Sentinels and holds the master until a replica is
promoted); for a cluster node, which no Sentinel watches, the unit's RestartSec= (roles/redis/tasks/
cluster_node.yml: twice cluster-node-timeout) or a start guard whose settings name the node's cluster peers.
Pure tables: the values are what ``systemctl show`` and ``CONFIG GET`` print (test_doctor.py and
test_doctor_cluster.py read them from real servers)."""
from __future__ import annotations

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils import doctor as checks

GUARD = ('ExecStartPre={ path=/usr/bin/python3 ; argv[]=/usr/bin/python3 /usr/local/libexec/redisops/start_guard.py '
         '/etc/redis/redisops-guard-7000.json ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; '
         'code=(null) ; status=0/0 }')
# The unit of a cluster node as the roles write it (cluster-node-timeout 15000 ms: RestartSec=30).
ROLES_CLUSTER_UNIT = 'Restart=always\nRestartUSec=30s\n%s\n' % GUARD
# The packaged unit alone (systemd's default RestartSec=100ms).
PACKAGED_UNIT = 'Restart=always\nRestartUSec=100ms\nExecStartPre=\n'


def host(show: str, appendonly: str = 'no', save: str = '', node_timeout: int | None = 15000,
         asks_peers: bool = False) -> checks.HostData:
    unit = checks.parse_unit(show)
    return checks.HostData('redis1-b', server='127.0.0.1:7000', persistence=dict(appendonly=appendonly, save=save),
                           restart=unit.restart, restart_delay=unit.restart_delay, start_guard=unit.start_guard,
                           guard_asks_peers=asks_peers, cluster_node_timeout=node_timeout)


def the_finding(data: checks.HostData) -> checks.Finding:
    (item,) = checks.persistence_findings(data)
    assert item.check == 'persistence_off' and item.node == 'redis1-b'
    return item


@pytest.mark.parametrize('text, seconds', [
    ('100ms', 0.1), ('30s', 30.0), ('1min 30s', 90.0), ('1.500s', 1.5), ('2h', 7200.0), ('250us', 0.00025),
    ('0', 0.0), ('infinity', None), ('', None), ('30 parsecs', None),
])
def test_systemd_time_spans(text, seconds):
    found = checks.timespan_seconds(text)
    assert found is None if seconds is None else found == pytest.approx(seconds)


def test_the_unit_as_systemctl_show_prints_it():
    assert checks.parse_unit(ROLES_CLUSTER_UNIT) == ('always', 30.0, True, '/etc/redis/redisops-guard-7000.json')
    assert checks.parse_unit(PACKAGED_UNIT) == ('always', pytest.approx(0.1), False, None)
    assert checks.parse_unit('') == ('', None, False, None)


def test_a_cluster_node_is_told_by_its_configuration():
    assert checks.cluster_node_timeout({'cluster-enabled': 'yes', 'cluster-node-timeout': '3000'}) == 3000
    assert checks.cluster_node_timeout({'cluster-enabled': 'no', 'cluster-node-timeout': '15000'}) is None
    assert checks.cluster_node_timeout({}) is None


def test_a_cluster_node_whose_unit_waits_for_the_failover_is_info():
    """The roles' unit: the replica is promoted before the node starts again, whatever the start guard does."""
    item = the_finding(host(ROLES_CLUSTER_UNIT))
    assert item.severity == checks.INFO
    assert item.message == (
        '127.0.0.1:7000 runs without AOF; its unit restarts it only after 30 s, at least twice cluster-node-timeout '
        '(15000 ms): the cluster promotes a crashed master\'s replica first and the node rejoins as a replica of it. '
        'Every crash of a master is a failover, and a master without a replica comes back empty.')
    assert 'redis_appendonly: true' in item.fix
    assert dict(item.evidence) == dict(address='127.0.0.1:7000', appendonly='no', save='', restart='always',
                                       restart_sec=30.0, cluster_node_timeout=15000, start_guard=True,
                                       guard_asks_peers=False)


def test_a_start_guard_that_asks_the_peers_holds_a_cluster_node_back():
    """Without the unit's wait, as with it: the guard waits until the cluster has failed the master over."""
    for show in (PACKAGED_UNIT.replace('ExecStartPre=', GUARD), ROLES_CLUSTER_UNIT):
        item = the_finding(host(show, asks_peers=True))
        assert item.severity == checks.INFO and item.evidence['guard_asks_peers'] is True
        assert item.message.startswith(
            '127.0.0.1:7000 runs without AOF; its start guard holds it at a restart, while its peers count on it as a '
            'master with a live replica, until the cluster has failed it over')
    assert ' and its unit restarts it only after 30 s' in item.message


@pytest.mark.parametrize('show', [PACKAGED_UNIT, ROLES_CLUSTER_UNIT.replace('30s', '29.999s')])
def test_a_cluster_node_restarted_before_the_failover_comes_back_empty_with_its_slots(show):
    """Also with a start guard that names no peers: it starts the node as written."""
    item = the_finding(host(show))
    assert item.severity == checks.ERROR
    assert 'runs with no persistence at all and its unit restarts it after ' in item.message
    assert item.message.endswith(
        '(Restart=always), before the cluster can promote a replica (cluster-node-timeout 15000 ms): a crashed master '
        'comes back empty still owning its slots (its nodes.conf survives), and its replicas resync the empty data '
        'set.')
    assert item.fix == ('Set redis_appendonly: true (or save), and run cluster.yml: the unit it writes waits twice '
                        'cluster-node-timeout before it restarts the node (RestartSec=), so that a replica is '
                        'promoted first.')
    # No Sentinel wording.
    for sentinel_only in ('down-after', 'start guard', 'site.yml', 'delete their copies'):
        assert sentinel_only not in item.message + item.fix


def test_a_snapshot_only_cluster_node_restarted_before_the_failover_is_a_warning():
    item = the_finding(host(PACKAGED_UNIT, save='3600 1', node_timeout=3000))
    assert item.severity == checks.WARNING
    assert item.message == (
        '127.0.0.1:7000 runs without AOF (snapshots only) and its unit restarts it after 0.1 s (Restart=always), '
        'before the cluster can promote a replica (cluster-node-timeout 3000 ms): a crashed master comes back with '
        'its last snapshot still owning its slots (its nodes.conf survives), and its replicas resync that snapshot.')
    assert item.evidence['save'] == '3600 1' and item.evidence['restart_sec'] == pytest.approx(0.1)
    # With a 3000 ms timeout, a RestartSec of 6 s waits long enough.
    assert the_finding(host('Restart=always\nRestartUSec=6s\n', save='3600 1', node_timeout=3000)).severity == \
        checks.INFO


def test_an_unknown_restart_delay_is_not_taken_for_a_wait():
    item = the_finding(host('Restart=on-failure\nRestartUSec=infinity\n'))
    assert item.severity == checks.ERROR and 'restarts it after an unknown delay (Restart=on-failure)' in item.message


@pytest.mark.parametrize('data', [
    host(ROLES_CLUSTER_UNIT, appendonly='yes'),
    host(PACKAGED_UNIT.replace('always', 'no')),
    host(''),
])
def test_no_finding_with_aof_or_without_automatic_restarts(data):
    assert checks.persistence_findings(data) == []


def test_a_sentinel_groups_data_node_keeps_the_sentinel_wording():
    """Not in cluster mode: the start guard decides, RestartSec= does not count."""
    guarded = the_finding(host(ROLES_CLUSTER_UNIT, node_timeout=None))
    assert guarded.severity == checks.INFO
    assert 'the start guard holds a restarted master until a replica is promoted' in guarded.message
    assert dict(guarded.evidence) == dict(address='127.0.0.1:7000', appendonly='no', save='', restart='always',
                                          start_guard=True)
    bare = the_finding(host(PACKAGED_UNIT, node_timeout=None))
    assert bare.severity == checks.ERROR and 'within down-after' in bare.message
    assert bare.fix == 'Set redis_appendonly: true (or save), and run site.yml to install the start guard.'
