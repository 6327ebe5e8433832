# -*- coding: utf-8 -*-
"""Every module over TLS, with the shared options: a TLS-only master, replica and Sentinel
(tls-auth-clients yes, tls-replication yes, port 0), see the tls_cluster fixture."""
from __future__ import annotations

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils.sentinel import sentinel_master
from ansible_collections.redisops.sentinel.plugins.modules import (
    redis_config, replica_wait, sentinel_failover, sentinel_monitor, sentinel_wait, topology_info)

from conftest import MASTER_NAME, config_get

MODULES = {
    'replica_wait': (replica_wait, {}),
    'sentinel_wait': (sentinel_wait, dict(master_name=MASTER_NAME)),
    'topology_info': (topology_info, {}),
    'redis_config': (redis_config, dict(settings={'slowlog-max-len': 128})),
    'sentinel_monitor': (sentinel_monitor, dict(name=MASTER_NAME)),
    'sentinel_failover': (sentinel_failover, dict(name=MASTER_NAME)),
}
# Short waits: the failures below are diagnosed at once.
QUICK = dict(timeout=0.3, connect_timeout=0.5)


def test_replica_wait(run_module, tls_cluster, tls_files):
    replica, master = tls_cluster.replica, tls_cluster.master
    failed, result = run_module(replica_wait.main, dict(
        login_port=replica.port, master_host=master.host, master_port=master.port, max_lag_bytes=1024 * 1024,
        timeout=5, **tls_files.params()))
    assert not failed, result['msg']
    assert result['state']['master_port'] == master.port and result['state']['lag_bytes'] >= 0


def test_sentinel_wait(run_module, tls_cluster, tls_files):
    sentinel, master = tls_cluster.sentinels[0], tls_cluster.master
    failed, result = run_module(sentinel_wait.main, dict(
        login_port=sentinel.port, master_name=MASTER_NAME, master_host=master.host, master_port=master.port,
        replica_addresses=[tls_cluster.replica.address], sentinel_count=1, timeout=5, **tls_files.params()))
    assert not failed, result['msg']
    assert result['msg'].startswith("Sentinel %s sees master 'mymaster' at %s with 1 replica(s)"
                                    % (sentinel.address, master.address))


def test_topology_info_reaches_sentinels_and_data_nodes(run_module, tls_cluster, tls_files):
    failed, result = run_module(topology_info.main, dict(
        sentinels=[node.address for node in tls_cluster.sentinels], **tls_files.params()))
    assert not failed, result['msg']
    (group,) = result['groups']
    assert group['agreed'] is True and group['master'] == tls_cluster.master.address
    master, replica = group['nodes']
    assert master['reachable'] and master['role'] == 'master'
    assert replica['reachable'] and replica['address'] == tls_cluster.replica.address
    assert replica['master_link_status'] == 'up'


def test_redis_config(run_module, tls_cluster, tls_files):
    master = tls_cluster.master
    args = dict(login_port=master.port, settings={'slowlog-max-len': 129}, rewrite=False, **tls_files.params())
    failed, result = run_module(redis_config.main, args)
    assert not failed, result['msg']
    assert result['changed'] is True and config_get(master, 'slowlog-max-len') == '129'
    failed, result = run_module(redis_config.main, args)
    assert not failed and result['changed'] is False


def test_sentinel_monitor_creates_and_removes_a_group(run_module, tls_cluster, tls_files):
    sentinel, master = tls_cluster.sentinels[0], tls_cluster.master
    args = dict(login_port=sentinel.port, name='tls-extra', **tls_files.params())
    failed, result = run_module(sentinel_monitor.main, dict(args, master_host=master.host,
                                                            master_port=master.port, quorum=1))
    assert not failed, result['msg']
    assert result['created'] is True and result['master'] == master.address
    client = sentinel.client()
    try:
        assert sentinel_master(client, 'tls-extra') is not None
        failed, result = run_module(sentinel_monitor.main, dict(args, state='absent'))
        assert not failed and result['removed'] is True
        assert sentinel_master(client, 'tls-extra') is None
    finally:
        client.close()


def test_sentinel_failover_check_mode(run_module, tls_cluster, tls_files):
    """Check mode asks the Sentinel and reads INFO and replica-priority of every data node, over TLS."""
    failed, result = run_module(sentinel_failover.main, dict(
        login_port=tls_cluster.sentinels[0].port, name=MASTER_NAME, target=tls_cluster.replica.address,
        timeout=5, **tls_files.params()), check_mode=True)
    assert not failed, result['msg']
    assert result['old_master'] == tls_cluster.master.address and result['new_master'] == tls_cluster.replica.address
    assert result['msg'].startswith("Check mode: would switch the master of 'mymaster'")


def test_missing_client_certificate_is_diagnosed(run_module, tls_cluster, tls_files):
    replica, master = tls_cluster.replica, tls_cluster.master
    failed, result = run_module(replica_wait.main, dict(
        login_port=replica.port, master_host=master.host, master_port=master.port, **QUICK,
        **tls_files.params(client_cert=False)))
    assert failed and result['state'] == {}
    assert 'ConnectionError' in result['last_error']
    diagnosis = result['diagnosis']
    assert diagnosis['peer'] == master.address and diagnosis['result'] == 'tls_error'
    assert 'CERTIFICATE_REQUIRED' in diagnosis['detail']
    assert '%s requires a client certificate' % master.address in result['msg']
    assert 'set tls_cert_file and tls_key_file' in result['msg']


def test_sentinel_wait_probes_with_the_tls_settings(run_module, tls_cluster, tls_files):
    sentinel = tls_cluster.sentinels[0]
    failed, result = run_module(sentinel_wait.main, dict(
        login_port=sentinel.port, master_name=MASTER_NAME, **QUICK,
        **dict(tls_files.params(), tls_ca_file=tls_files.other_ca)))
    assert failed
    (diagnosis,) = result['diagnosis']
    assert diagnosis['role'] == 'queried sentinel' and diagnosis['result'] == 'tls_error'
    assert 'certificate verify failed' in diagnosis['detail']
    assert 'does not verify against tls_ca_file' in result['msg']


def test_plain_client_on_the_tls_port_is_diagnosed(run_module, tls_cluster):
    replica, master = tls_cluster.replica, tls_cluster.master
    failed, result = run_module(replica_wait.main, dict(
        login_port=replica.port, master_host=master.host, master_port=master.port, **QUICK))
    assert failed and result['state'] == {}
    diagnosis = result['diagnosis']
    assert diagnosis['peer'] == master.address and diagnosis['result'] == 'error'
    assert 'the port speaks TLS' in diagnosis['detail']
    assert '%s speaks TLS on this port (a tls-port)' % master.address in result['msg']
    assert 'set tls to true' in result['msg']


def test_tls_client_on_a_plaintext_port_is_diagnosed(run_module, cluster, tls_files):
    failed, result = run_module(replica_wait.main, dict(
        login_port=cluster.replica.port, master_host=cluster.master.host, master_port=cluster.master.port,
        **QUICK, **tls_files.params()))
    assert failed and result['state'] == {}
    assert result['diagnosis']['result'] == 'tls_error'
    assert 'answers plain RESP, not TLS: it is a plaintext port' in result['msg']


def test_setting_modules_explain_tls_failures(run_module, tls_cluster, tls_files):
    failed, result = run_module(redis_config.main, dict(
        login_port=tls_cluster.master.port, settings={'slowlog-max-len': 128}, connect_timeout=0.5,
        **tls_files.params(client_cert=False)))
    assert failed and result['changed'] is False
    assert 'requires a client certificate' in result['msg']

    failed, result = run_module(sentinel_monitor.main, dict(
        login_port=tls_cluster.sentinels[0].port, name=MASTER_NAME, connect_timeout=0.5,
        **dict(tls_files.params(), tls_ca_file=tls_files.other_ca)))
    assert failed and 'does not verify against tls_ca_file' in result['msg']


@pytest.mark.parametrize('module', sorted(MODULES))
@pytest.mark.parametrize('options, message', [
    (dict(tls_cert_file='{client_cert}'), 'tls_cert_file and tls_key_file must be given together'),
    (dict(tls_ca_file='/nonexistent/ca.pem'), 'tls_ca_file /nonexistent/ca.pem is not an existing file'),
    (dict(tls=False, tls_ca_file='{ca}'), 'tls_ca_file only apply with tls=true'),
], ids=['cert-without-key', 'missing-file', 'without-tls'])
def test_bad_tls_options_are_rejected_before_connecting(run_module, tls_files, module, options, message):
    main, args = MODULES[module][0].main, dict(MODULES[module][1])
    options = {name: value.format(**vars(tls_files)) if isinstance(value, str) else value
               for name, value in options.items()}
    args.update(dict(tls=True), **options)
    for check_mode in (False, True):
        failed, result = run_module(main, args, check_mode=check_mode)
        assert failed and message in result['msg'], result['msg']
        assert result['msg'].startswith('Invalid parameters: ')
