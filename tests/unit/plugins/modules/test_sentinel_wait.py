# -*- coding: utf-8 -*-
from __future__ import annotations

import json

import pytest

from ansible_collections.redisops.sentinel.plugins.modules import sentinel_wait

from conftest import MASTER_NAME, PASSWORD


def run(run_module, cluster, **args):
    args.setdefault('login_port', cluster.sentinels[0].port)
    args.setdefault('master_name', MASTER_NAME)
    args.setdefault('timeout', 2)
    return run_module(sentinel_wait.main, args)


def all_sentinels(cluster):
    return [node.address for node in cluster.sentinels]


@pytest.mark.parametrize('index', [0, 2])
def test_ready_with_addresses(run_module, cluster, index):
    failed, result = run(run_module, cluster, login_port=cluster.sentinels[index].port,
                         master_host='127.0.0.1', master_port=cluster.master.port,
                         replica_addresses=[cluster.replica.address], sentinel_addresses=all_sentinels(cluster))
    assert not failed, result['msg']
    assert result['ready'] is True and result['changed'] is False and result['unmet'] == []
    assert result['elapsed'] < 1
    state = result['state']
    assert state['master']['ip'] == '127.0.0.1' and state['master']['port'] == cluster.master.port
    assert state['master']['flags'] == ['master'] and state['master']['quorum'] == 2
    assert state['master']['num-slaves'] == 1 and state['master']['num-other-sentinels'] == 2
    assert [r['port'] for r in state['replicas']] == [cluster.replica.port]
    assert len(state['sentinels']) == 2 and state['ckquorum'].startswith('OK')
    assert result['missing_replicas'] == result['missing_sentinels'] == []
    assert result['unexpected_replicas'] == result['unexpected_sentinels'] == []
    assert result['msg'] == "Sentinel 127.0.0.1:%d sees master 'mymaster' at 127.0.0.1:%d with 1 replica(s) " \
        'and 3 Sentinel(s).' % (cluster.sentinels[index].port, cluster.master.port)


def test_ready_with_counts(run_module, cluster):
    failed, result = run(run_module, cluster, replica_count=1, sentinel_count=3, check_quorum=False)
    assert not failed, result['msg']
    assert result['state']['ckquorum'] is None


def test_replica_address_defaults_to_master_port(run_module, cluster):
    failed, result = run(run_module, cluster, master_port=cluster.replica.port, replica_addresses=['127.0.0.1'])
    # master_port now differs from the master, but it is only compared with master_host set.
    assert not failed, result['msg']


def test_missing_replica_is_named_and_probed(run_module, cluster, closed_port):
    missing = '127.0.0.1:%d' % closed_port
    failed, result = run(run_module, cluster, replica_addresses=[cluster.replica.address, missing], timeout=0.5)
    assert failed and result['ready'] is False
    assert result['missing_replicas'] == [missing]
    assert '1 healthy replica(s) known to the Sentinel, expected 2' in result['msg']
    assert 'missing replica(s): %s' % missing in result['msg']
    probes = {item['peer']: item for item in result['diagnosis']}
    assert probes[cluster.master.address]['role'] == 'master' and probes[cluster.master.address]['result'] == 'ok'
    assert probes[missing]['role'] == 'replica' and probes[missing]['result'] == 'refused'
    assert 'replica %s: refused. Nothing listens on %s' % (missing, missing) in result['msg']


def test_unexpected_replica_is_named(run_module, cluster, closed_port):
    wrong = '127.0.0.1:%d' % closed_port
    failed, result = run(run_module, cluster, replica_addresses=[wrong], timeout=0.3)
    assert failed
    assert result['missing_replicas'] == [wrong]
    assert result['unexpected_replicas'] == [cluster.replica.address]
    assert 'unexpected replica(s): %s' % cluster.replica.address in result['msg']


def test_wrong_sentinel_count(run_module, cluster):
    failed, result = run(run_module, cluster, sentinel_count=4, timeout=0.3)
    assert failed
    assert result['unmet'] == ['3 Sentinel(s) (this one and 2 other(s) not down), expected 4']


def test_missing_sentinel_is_named(run_module, cluster, closed_port):
    missing = '127.0.0.1:%d' % closed_port
    failed, result = run(run_module, cluster, sentinel_addresses=all_sentinels(cluster) + [missing], timeout=0.3)
    assert failed
    assert result['missing_sentinels'] == [missing]
    assert 'missing Sentinel(s): %s' % missing in result['msg']
    assert {'role': 'sentinel', 'peer': missing, 'result': 'refused'}.items() <= \
        [item for item in result['diagnosis'] if item['peer'] == missing][0].items()


def test_wrong_master_address(run_module, cluster):
    failed, result = run(run_module, cluster, master_host='127.0.0.2', master_port=cluster.master.port, timeout=0.3)
    assert failed
    assert 'master is 127.0.0.1:%d, expected 127.0.0.2:%d' % (cluster.master.port, cluster.master.port) \
        in result['msg']
    assert result['diagnosis'][0]['peer'] == '127.0.0.2:%d' % cluster.master.port


def test_unknown_master_name(run_module, cluster):
    failed, result = run(run_module, cluster, master_name='othermaster', timeout=0.3)
    assert failed
    assert result['state']['master'] is None
    assert "No such master with that name" in result['msg']
    assert "'sentinel monitor othermaster ...' line is missing" in result['msg']


def test_quorum_that_cannot_be_reached(run_module, cluster, nodes):
    lonely = nodes.sentinel(cluster.master, quorum=2, name='lonely')
    failed, result = run(run_module, cluster, login_port=lonely.port, master_name='lonely', timeout=0.3)
    assert failed
    assert 'SENTINEL CKQUORUM lonely failed: NOQUORUM' in result['msg']
    failed, result = run(run_module, cluster, login_port=lonely.port, master_name='lonely', check_quorum=False)
    assert not failed, result['msg']


def test_sentinel_not_running(run_module, cluster, closed_port):
    failed, result = run(run_module, cluster, login_port=closed_port, timeout=0.3,
                         master_password='data-secret')
    assert failed
    assert result['state'] == {} and result['unmet'] == ['no answer from the Sentinel']
    assert result['diagnosis'] == [dict(role='queried sentinel', peer='127.0.0.1:%d' % closed_port,
                                        result='refused', detail='Connection refused',
                                        hint=result['diagnosis'][0]['hint'])]
    assert 'data-secret' not in json.dumps(result)


def test_data_node_password_used_for_probes(run_module, cluster, password_pair):
    # The cluster Sentinel does not know this master; the probe of master_host uses master_password.
    failed, result = run(run_module, cluster, master_host='127.0.0.1', master_port=password_pair.master.port,
                         master_password=PASSWORD, timeout=0.2)
    assert failed
    assert result['diagnosis'][0]['result'] == 'ok'
    failed, result = run(run_module, cluster, master_host='127.0.0.1', master_port=password_pair.master.port,
                         timeout=0.2)
    assert result['diagnosis'][0]['result'] == 'noauth'


def test_check_mode_observes_once_and_never_fails(run_module, cluster, closed_port):
    failed, result = run_module(sentinel_wait.main, dict(master_name=MASTER_NAME, login_port=closed_port,
                                                         timeout=30), check_mode=True)
    assert not failed and result['ready'] is False and result['elapsed'] < 1
    assert result['msg'].startswith('Check mode')

    failed, result = run_module(sentinel_wait.main, dict(master_name=MASTER_NAME, sentinel_count=9, timeout=30,
                                                         login_port=cluster.sentinels[0].port), check_mode=True)
    assert not failed and result['ready'] is False and result['unmet']

    failed, result = run_module(sentinel_wait.main, dict(master_name=MASTER_NAME, replica_count=1,
                                                         login_port=cluster.sentinels[0].port), check_mode=True)
    assert not failed and result['ready'] is True


@pytest.mark.parametrize('args, message', [
    (dict(master_name='my master'), 'master_name may only contain letters, digits'),
    (dict(timeout=-0.5), 'timeout must not be negative'),
    (dict(poll_interval=0.3), 'poll_interval must be greater than 0 and at most 0.2'),
    (dict(login_port=0), 'login_port must be between 1 and 65535'),
    (dict(master_port=65536), 'master_port must be between 1 and 65535'),
    (dict(replica_addresses=['10.0.0.1:99999']), 'replica_addresses: invalid address'),
    (dict(sentinel_addresses=['[::1']), 'sentinel_addresses: invalid address'),
    (dict(replica_count=2, replica_addresses=['10.0.0.1']), 'replica_count is 2 but replica_addresses lists 1'),
    (dict(replica_count=-1), 'replica_count must not be negative'),
    (dict(sentinel_count=0), 'sentinel_count counts the queried Sentinel and must be at least 1'),
])
def test_bad_input_is_rejected_before_connecting(run_module, args, message):
    args = dict(dict(master_name=MASTER_NAME, login_port=1), **args)
    for check_mode in (False, True):
        failed, result = run_module(sentinel_wait.main, args, check_mode=check_mode)
        assert failed and message in result['msg'], result['msg']
        assert 'state' not in result


def test_queried_sentinel_is_recognised_by_its_announced_address(run_module, cluster, nodes):
    # Behind NAT the Sentinel's peers know it by an address that is not local here.
    natted = nodes.sentinel(cluster.master, 'sentinel announce-ip 192.0.2.10', 'sentinel announce-port 36379',
                            quorum=1, name='natted')
    failed, result = run(run_module, cluster, login_port=natted.port, master_name='natted',
                         sentinel_addresses=['192.0.2.10:36379'], timeout=1)
    assert not failed, result['msg']
    assert result['missing_sentinels'] == []
    failed, result = run(run_module, cluster, login_port=natted.port, master_name='natted',
                         sentinel_addresses=['192.0.2.10:36379', '192.0.2.11:36379'], timeout=0.3)
    assert failed
    assert result['missing_sentinels'] == ['192.0.2.11:36379']
