# -*- coding: utf-8 -*-
"""The doctor against real servers and Sentinels: a healthy topology gives no finding, and each defect,
made for real (a replica gone, a Sentinel of another deployment, a replica of the wrong group ...), gives
its finding with the evidence and the fix. Only a systemd unit's Restart= is given as a table."""
from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils import doctor as checks
from ansible_collections.redisops.sentinel.plugins.modules import doctor

from conftest import MASTER_NAME, NodeFactory, command, free_port, link_up, sentinel_sees, wait_for

# What the roles grant the Sentinel user (roles/redis/vars/main.yml, _redis_acl_users).
ROLES_SENTINEL_RULES = checks.SENTINEL_RULES.split()
MAXMEMORY = 'maxmemory 64mb'


def group(name: str = MASTER_NAME, **named) -> dict:
    return dict(name=name, nodes=[dict(name=key, address=node.address) for key, node in named.items()])


def run(run_module, groups, sentinels, **options):
    args = dict(groups=groups, sentinels=[sentinel.address for sentinel in sentinels], connect_timeout=1.0)
    args.update(options)
    return run_module(doctor.main, args)


def checks_of(result: dict) -> list[tuple[str, str]]:
    return sorted((item['check'], item['node']) for item in result['findings'])


def found(run_module, groups, sentinels, check: str, **options) -> dict:
    """Poll the doctor until it reports ``check`` (Sentinel learns of changes within seconds); that finding."""
    seen: dict = {}

    def reported() -> bool:
        failed, result = run(run_module, groups, sentinels, **options)
        assert not failed, result['msg']
        seen['items'] = [item for item in result['findings'] if item['check'] == check]
        seen['result'] = result
        return bool(seen['items'])

    wait_for(reported, 'the doctor to report %s' % check, timeout=20)
    return seen['items'][0]


def start_pair(nodes: NodeFactory, *config: str):
    master = nodes.server(MAXMEMORY, *config)
    replica = nodes.replica(master, MAXMEMORY, *config)
    wait_for(lambda: link_up(replica), 'the replica link to come up')
    return master, replica


def watched(nodes: NodeFactory, master, replicas: int, count: int = 1, *config: str, quorum: int = 1) -> list:
    sentinels = [nodes.sentinel(master, *config, quorum=quorum) for dummy in range(count)]
    for sentinel in sentinels:
        wait_for(lambda node=sentinel: sentinel_sees(node, replicas=replicas, others=count - 1),
                 '%s to see %d replica(s) and %d other Sentinel(s)' % (sentinel.address, replicas, count - 1))
    return sentinels


@pytest.fixture(scope='module')
def healthy(tmp_path_factory):
    """A master with maxmemory and the roles' Sentinel user, its replica, three Sentinels that see them all."""
    factory = NodeFactory(tmp_path_factory.mktemp('doctor-healthy'))
    try:
        master, replica = start_pair(factory)
        for node in (master, replica):
            command(node, 'ACL', 'SETUSER', 'sentinel', 'on', '>sentinel-secret', *ROLES_SENTINEL_RULES)
        sentinels = watched(factory, master, 1, 3, quorum=2)
        yield master, replica, sentinels
    finally:
        factory.stop_all()


def test_a_healthy_topology_has_no_finding(run_module, healthy):
    master, replica, sentinels = healthy
    failed, result = run(run_module, [group(m=master, r=replica)], sentinels, sentinel_user='sentinel',
                         fail_on='warning', host_name='here', clock_reference=master.address,
                         local_server=dict(address=replica.address))
    assert not failed, result.get('msg')
    assert result['findings'] == [] and result['ignored'] == []
    assert result['counts'] == dict(error=0, warning=0, info=0)
    assert result['summary'] == ['doctor: no findings'] and result['changed'] is False
    # The servers run on this machine: one clock.
    assert abs(result['host_report']['clock_offset']) < 0.5


def test_maxmemory_unset_and_the_gate(run_module, cluster):
    """The session cluster's servers run without maxmemory: a warning per node, fail_on decides."""
    groups = [group(m=cluster.master, r=cluster.replica)]
    failed, result = run(run_module, groups, cluster.sentinels)
    assert not failed
    assert checks_of(result) == [('maxmemory_unset', 'm'), ('maxmemory_unset', 'r')]
    item = result['findings'][0]
    assert item['severity'] == 'warning' and item['group'] == MASTER_NAME
    assert item['evidence'] == dict(address=cluster.master.address, maxmemory=0) and 'redis_maxmemory' in item['fix']
    assert result['summary'][0] == 'doctor: 0 error(s), 2 warning(s), 0 info'
    failed, result = run(run_module, groups, cluster.sentinels, fail_on='warning')
    assert failed and 'The doctor found 2 finding(s) at or above warning' in result['msg']
    assert len(result['findings']) == 2
    failed, result = run(run_module, groups, cluster.sentinels, fail_on='error')
    assert not failed
    failed, result = run(run_module, groups, cluster.sentinels, fail_on='warning', ignore=['maxmemory_unset'])
    assert not failed and result['findings'] == [] and len(result['ignored']) == 2
    assert result['summary'] == ['doctor: no findings (2 ignored: maxmemory_unset)']


def test_a_gone_replica_is_stale_and_one_outside_the_inventory_unknown(run_module, nodes):
    master, replica = start_pair(nodes)
    extra = nodes.replica(master, MAXMEMORY)
    wait_for(lambda: link_up(extra), 'the second replica link to come up')
    sentinels = watched(nodes, master, 2)
    groups = [group(m=master, r=replica)]
    item = found(run_module, groups, sentinels, 'unknown_replica')
    assert item['node'] == extra.address and item['severity'] == 'warning'
    assert item['evidence'] == dict(listed_by=[sentinels[0].address])
    extra.stop()
    item = found(run_module, groups, sentinels, 'stale_replica')
    assert item['node'] == extra.address and 'SENTINEL RESET %s' % MASTER_NAME in item['fix']


def test_a_sentinel_outside_the_inventory_is_foreign_then_stale_once_gone(run_module, nodes):
    master, replica = start_pair(nodes)
    ours, theirs = watched(nodes, master, 1, 2)
    groups = [group(m=master, r=replica)]
    failed, result = run(run_module, groups, [ours], fail_on='error')
    assert failed and 'error foreign_sentinel on %s' % theirs.address in result['msg']
    (item,) = [item for item in result['findings'] if item['check'] == 'foreign_sentinel']
    assert item['severity'] == 'error' and item['node'] == theirs.address
    assert item['evidence'] == dict(listed_by=[ours.address]) and 'SENTINEL REMOVE' in item['fix']
    theirs.stop()
    item = found(run_module, groups, [ours], 'stale_sentinel')
    assert item['node'] == theirs.address and item['severity'] == 'warning'


def test_one_replica_listed_by_host_name_and_by_ip_address(run_module, nodes):
    master, replica = start_pair(nodes, 'replica-announce-ip 127.0.0.1')
    sentinels = watched(nodes, master, 1, 1, 'sentinel resolve-hostnames yes', 'sentinel announce-hostnames yes')
    groups = [group(m=master, r=replica)]
    # The replica announces itself by name now: Sentinel adds a second entry for the same server.
    command(replica, 'CONFIG', 'SET', 'replica-announce-ip', 'localhost')
    command(replica, 'CLIENT', 'KILL', 'TYPE', 'master')
    item = found(run_module, groups, sentinels, 'duplicate_address')
    assert sorted(item['evidence']['addresses']) == sorted([replica.address, 'localhost:%d' % replica.port])
    assert item['evidence']['source'] == 'Sentinel %s' % sentinels[0].address


def test_one_node_in_the_inventory_twice(run_module, healthy):
    master, replica, sentinels = healthy
    twice = dict(name=MASTER_NAME, nodes=[dict(name='m', address=master.address), dict(name='r', address=replica.address),
                                          dict(name='r-by-name', address='localhost:%d' % replica.port)])
    failed, result = run(run_module, [twice], sentinels, sentinel_user='sentinel')
    assert checks_of(result) == [('duplicate_address', replica.address)]
    assert result['findings'][0]['evidence']['source'] == 'the inventory'


def test_a_replica_of_another_group(run_module, nodes):
    master, replica = start_pair(nodes)
    other = nodes.server(MAXMEMORY)
    stray = nodes.replica(other, MAXMEMORY)
    wait_for(lambda: link_up(stray), 'the stray replica to link to the other master')
    sentinel = nodes.sentinel(master, 'sentinel monitor other %s %d 1' % (other.host, other.port), quorum=1)
    wait_for(lambda: sentinel_sees(sentinel, replicas=1, others=0, name='other'), 'the Sentinel to see the other group')
    groups = [group(m=master, r=replica, stray=stray), group('other', o=other)]
    failed, result = run(run_module, groups, [sentinel])
    (item,) = [item for item in result['findings'] if item['check'] == 'foreign_replid']
    replid = command(other, 'INFO', 'replication')['master_replid']
    assert item['node'] == 'stray' and item['group'] == MASTER_NAME and item['severity'] == 'error'
    assert item['evidence'] == dict(address=stray.address, master_replid=replid, owner='other')
    # The Sentinel lists it under the other group, where the inventory does not have it.
    assert checks_of(result) == [('foreign_replid', 'stray'), ('unknown_replica', stray.address)]


def test_no_promotable_replica(run_module, nodes):
    master, replica = start_pair(nodes, 'replica-priority 0')
    sentinels = watched(nodes, master, 1)
    failed, result = run(run_module, [group(m=master, r=replica)], sentinels)
    assert checks_of(result) == [('no_promotable_replica', master.address)]
    item = result['findings'][0]
    assert item['severity'] == 'error'
    assert item['evidence']['replicas'] == {replica.address: dict(priority=0, flags=['slave'], link='ok')}
    command(replica, 'CONFIG', 'SET', 'replica-priority', '10')
    wait_for(lambda: not run(run_module, [group(m=master, r=replica)], sentinels)[1]['findings'],
             'the finding to go once the replica may be promoted')


def test_down_after_below_the_last_fork(run_module, nodes):
    master = nodes.server('maxmemory 512mb', 'enable-debug-command local')
    replica = nodes.replica(master, 'maxmemory 512mb')
    wait_for(lambda: link_up(replica), 'the replica link to come up')
    # A fork takes longer the more memory the server maps: more keys until one takes a millisecond or more
    # (a fast machine forks 300 000 small keys in under 1 ms).
    fork_usec = 0
    for size in range(1, 6):
        command(master, 'DEBUG', 'POPULATE', str(300000 * size), 'key', '64')
        command(master, 'BGSAVE')
        wait_for(lambda: command(master, 'INFO', 'persistence')['rdb_bgsave_in_progress'] == 0, 'the snapshot')
        fork_usec = int(command(master, 'INFO', 'stats')['latest_fork_usec'])
        if fork_usec >= 1000:
            break
    assert fork_usec >= 1000, 'the fork took %d us, too short to test with a 1 ms down-after' % fork_usec
    down_after = fork_usec // 1000
    (sentinel,) = watched(nodes, master, 1, 1, quorum=2)
    command(sentinel, 'SENTINEL', 'SET', MASTER_NAME, 'down-after-milliseconds', str(down_after))
    failed, result = run(run_module, [group(m=master, r=replica)], [sentinel], ignore=['maxmemory_unset'])
    (item,) = [item for item in result['findings'] if item['check'] == 'down_after_below_fork']
    assert item['node'] == 'm' and item['severity'] == 'warning'
    evidence = item['evidence']
    assert (evidence['address'], evidence['sentinel']) == (master.address, sentinel.address)
    assert evidence['down_after_milliseconds'] == down_after
    assert evidence['latest_fork_usec'] == int(command(master, 'INFO', 'stats')['latest_fork_usec']) >= down_after * 1000


def test_a_sentinel_user_missing_what_failover_needs(run_module, healthy, nodes):
    master, replica, sentinels = healthy
    groups = [group(m=master, r=replica)]
    failed, result = run(run_module, groups, sentinels, sentinel_user='nobody')
    assert checks_of(result) == [('sentinel_acl', 'm'), ('sentinel_acl', 'r')]
    assert "User 'nobody' not found" in result['findings'][0]['message']
    # The roles' rules without config|rewrite and without the hello channel (Redis 7 checks channels).
    rules = [rule for rule in ROLES_SENTINEL_RULES if rule not in ('+config|rewrite', '&__sentinel__:hello')]
    for node in (master, replica):
        command(node, 'ACL', 'SETUSER', 'narrow', 'on', '>narrow-secret', *rules)
    try:
        failed, result = run(run_module, groups, sentinels, sentinel_user='narrow', fail_on='error')
    finally:
        for node in (master, replica):
            command(node, 'ACL', 'DELUSER', 'narrow')
    assert failed
    item = result['findings'][0]
    assert item['check'] == 'sentinel_acl' and item['severity'] == 'error'
    denied = item['evidence']['denied']
    assert [entry.split(' (')[0] for entry in denied] == [
        'SUBSCRIBE __sentinel__:hello', 'PUBLISH __sentinel__:hello hello', 'CONFIG REWRITE']
    assert "no permissions to run the 'config|rewrite' command" in denied[2]
    assert '+config|rewrite' in item['fix']


def test_unreachable_nodes_and_sentinels(run_module, healthy, closed_port):
    master, replica, sentinels = healthy
    gone = '127.0.0.1:%d' % closed_port
    groups = [dict(name=MASTER_NAME, nodes=[dict(name='m', address=master.address),
                                            dict(name='r', address=replica.address), dict(name='gone', address=gone)])]
    args = dict(groups=groups, sentinels=[s.address for s in sentinels] + [gone], connect_timeout=1.0,
                sentinel_user='sentinel')
    failed, result = run_module(doctor.main, args)
    assert sorted((item['check'], item['node'], item['severity']) for item in result['findings']) == [
        ('unreachable', '127.0.0.1:%d' % closed_port, 'error'), ('unreachable', 'gone', 'error')]


def test_bad_parameters_fail_before_any_connection(run_module):
    failed, result = run_module(doctor.main, dict(groups=[dict(name='g', nodes=[dict(name='a', address='h:0')])],
                                                  sentinels=['x:99999'], clock_reference='[::1'))
    assert failed
    assert 'groups: g: invalid address' in result['msg'] and 'sentinels: invalid address' in result['msg']
    assert 'clock_reference: invalid address' in result['msg']


# Host checks.

def test_kernel_warnings_the_server_logged_at_start(run_module, nodes):
    """Whatever this machine's kernel settings provoke, the doctor reports exactly that."""
    server = nodes.server()
    log = server.workdir / 'log'
    wait_for(lambda: 'Ready to accept connections' in log.read_text(), 'the server to log its start')
    expected = []
    if Path('/proc/sys/vm/overcommit_memory').read_text().strip() == '0':
        expected.append('overcommit')
    if '[always]' in Path('/sys/kernel/mm/transparent_hugepage/enabled').read_text():
        expected.append('transparent_huge_pages')
    if int(Path('/proc/sys/net/core/somaxconn').read_text()) < 511:
        expected.append('somaxconn')
    failed, result = run_module(doctor.main, dict(host_name='here', local_server=dict(
        address=server.address, log_file=str(log))))
    assert not failed
    kinds = [item['evidence']['kind'] for item in result['findings'] if item['check'] == 'kernel_warning']
    assert kinds == expected
    assert result['host_report']['findings'] == result['findings']
    for item in result['findings']:
        assert item['node'] == 'here' and item['evidence']['line'] in log.read_text()


def test_only_the_last_start_counts():
    first = '1:M 01 Jan # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo\n1:M # WARNING Memory overcommit must be enabled!\n'
    second = '2:M 02 Jan # oO0OoO0OoO0Oo Valkey is starting oO0OoO0OoO0Oo\n2:M * Ready to accept connections\n'
    assert checks.kernel_warnings(checks.since_last_start(first)) != []
    assert checks.kernel_warnings(checks.since_last_start(first + second)) == []
    third = '3:C # oO0OoO0OoO0Oo Redis Open Source is starting oO0OoO0OoO0Oo\n3:M # WARNING Memory overcommit must be enabled!\n'
    assert checks.since_last_start(first + second + third) == third[third.index('oO0'):]
    assert checks.since_last_start('no start here\n') is None


@pytest.mark.parametrize('show, appendonly, expected', [
    ('Restart=always\nExecStartPre=\n', 'no', ('error', False)),
    ('Restart=on-failure\n', 'no', ('error', False)),
    ('Restart=always\nExecStartPre={ path=/usr/bin/python3 ; argv[]=/usr/bin/python3 '
     '/usr/local/libexec/redisops/start_guard.py ... }\n', 'no', ('info', True)),
    ('Restart=no\n', 'no', None),
    ('Restart=always\n', 'yes', None),
    ('', 'no', None),
])
def test_persistence_off_while_the_unit_restarts_the_server(
        run_module, nodes, monkeypatch, show, appendonly, expected):
    """The server is real (conftest starts it with save "" and appendonly no); its unit is a table."""
    server = nodes.server()
    command(server, 'CONFIG', 'SET', 'appendonly', appendonly)
    monkeypatch.setattr(doctor, 'unit_properties', lambda module, service: show)
    failed, result = run_module(doctor.main, dict(host_name='here', local_server=dict(
        address=server.address, service='redis-server')))
    items = [item for item in result['findings'] if item['check'] == 'persistence_off']
    if expected is None:
        assert items == []
        return
    (item,) = items
    assert (item['severity'], item['evidence']['start_guard']) == expected
    assert item['evidence']['appendonly'] == 'no' and item['evidence']['save'] == ''


def test_a_snapshot_only_server_without_the_guard_is_a_warning(run_module, nodes, monkeypatch):
    server = nodes.server()
    command(server, 'CONFIG', 'SET', 'save', '3600 1')
    monkeypatch.setattr(doctor, 'unit_properties', lambda module, service: 'Restart=always\n')
    failed, result = run_module(doctor.main, dict(local_server=dict(address=server.address, service='x')))
    assert [(item['check'], item['severity']) for item in result['findings']] == [('persistence_off', 'warning')]


def test_clocks_more_than_a_second_apart(run_module, healthy, monkeypatch):
    """This host's clock is put 2.5 s ahead; the reference server's TIME is real."""
    master, replica, sentinels = healthy
    real = doctor.local_clock
    monkeypatch.setattr(doctor, 'local_clock', lambda: real() + 2.5)
    failed, result = run_module(doctor.main, dict(host_name='ahead', clock_reference=master.address))
    ahead = result['host_report']
    assert 2.0 < ahead['clock_offset'] < 3.0 and result['findings'] == []
    monkeypatch.setattr(doctor, 'local_clock', real)
    failed, result = run_module(doctor.main, dict(host_name='right', clock_reference=master.address))
    right = result['host_report']
    assert abs(right['clock_offset']) < 0.5
    failed, result = run_module(doctor.main, dict(host_reports=[ahead, right], fail_on='warning'))
    assert failed
    (item,) = result['findings']
    assert item['check'] == 'clock_skew' and item['severity'] == 'warning'
    assert set(item['evidence']['offsets']) == {'ahead', 'right'}
    failed, result = run_module(doctor.main, dict(host_reports=[right, dict(right, host='also-right')]))
    assert result['findings'] == []


def test_clock_findings_table():
    assert checks.clock_findings({'a': 0.0, 'b': 0.9}) == []
    assert checks.clock_findings({'a': 0.0, 'b': None}) == []
    (item,) = checks.clock_findings({'a': 0.0, 'b': 0.1, 'c': -1.5})
    assert item.node == 'c' and item.evidence['offsets'] == {'a': 0.0, 'b': 0.1, 'c': -1.5}


def test_unknown_reference_clock_is_not_a_finding(run_module):
    failed, result = run_module(doctor.main, dict(host_name='h', clock_reference='127.0.0.1:%d' % free_port(),
                                                  connect_timeout=0.5))
    assert not failed and result['host_report']['clock_offset'] is None
    assert 'ConnectionError' in result['host_report']['clock_error']
