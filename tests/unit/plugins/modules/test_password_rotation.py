# -*- coding: utf-8 -*-
"""Rotating redis_password live, against real redis-server processes: the login fallback of every
module (module_utils/client.py connect), the window where the default user accepts both passwords
(redis_config requirepass_previous), the old password removed after it, and a replica whose masterauth
changes without its link dropping or a full resync."""
from __future__ import annotations

from typing import Any

import pytest
import redis

from ansible_collections.redisops.sentinel.plugins.filter.live_master import REFUSED_PASSWORD
from ansible_collections.redisops.sentinel.plugins.module_utils.client import connect, refused_login
from ansible_collections.redisops.sentinel.plugins.modules import redis_acl, redis_config, topology_info

from conftest import RedisNode, config_quote, link_up, wait_for

OLD = 'old pass "#1'
NEW = 'new-pass $2'


def params(node: RedisNode, password: str | None, previous: str | None = None, user: str | None = None) -> dict:
    return dict(login_host=node.host, login_port=node.port, login_user=user, login_password=password,
                login_password_previous=previous, connect_timeout=2.0)


def accepts(node: RedisNode, password: str, user: str | None = None) -> bool:
    """Whether a new connection logs in with ``password`` (WRONGPASS is a no, anything else fails)."""
    client = redis.Redis(host=node.host, port=node.port, username=user, password=password, socket_timeout=2)
    try:
        return client.ping()
    except redis.exceptions.RedisError as exc:
        if refused_login(exc):
            return False
        raise
    finally:
        client.close()


def rotate(run_module, node: RedisNode, login: str, previous: str | None = None,
           check_mode: bool = False) -> tuple[bool, dict[str, Any]]:
    """redis_config as server.yml runs it: the new password everywhere, the previous one as fallback."""
    args = dict(login_port=node.port, login_password=login, login_password_previous=previous,
                secret_settings=dict(requirepass=NEW, masterauth=NEW), requirepass_previous=previous)
    return run_module(redis_config.main, args, check_mode=check_mode)


def replication(node: RedisNode) -> dict[str, Any]:
    client = redis.Redis(host=node.host, port=node.port, password=NEW, socket_timeout=2, decode_responses=True)
    try:
        return client.info('replication')
    finally:
        client.close()


def full_syncs(node: RedisNode) -> int:
    client = redis.Redis(host=node.host, port=node.port, password=NEW, socket_timeout=2, decode_responses=True)
    try:
        return int(client.info('stats')['sync_full'])
    finally:
        client.close()


@pytest.fixture
def old_server(nodes) -> RedisNode:
    return nodes.server(password=OLD)


# The login fallback, in one place for every module.

def test_connect_falls_back_to_the_previous_password(old_server):
    client = connect(params(old_server, NEW, previous=OLD))
    try:
        assert client.execute_command('ACL', 'WHOAMI') == 'default'
    finally:
        client.close()


def test_connect_without_a_previous_password_is_refused(old_server):
    client = connect(params(old_server, NEW))
    try:
        with pytest.raises(redis.exceptions.RedisError) as raised:
            client.ping()
        assert refused_login(raised.value)
    finally:
        client.close()


def test_connect_uses_the_new_password_when_the_server_has_it(nodes):
    server = nodes.server(password=NEW)
    client = connect(params(server, NEW, previous=OLD))
    try:
        assert client.ping()
        assert client.connection_pool.connection_kwargs['password'] == NEW
    finally:
        client.close()


def test_connect_with_a_wrong_previous_password_is_still_refused(old_server):
    client = connect(params(old_server, NEW, previous='neither'))
    try:
        with pytest.raises(redis.exceptions.RedisError) as raised:
            client.ping()
        assert refused_login(raised.value)
    finally:
        client.close()


def test_connect_to_a_server_that_is_down_fails_at_the_first_command(closed_port):
    client = connect(dict(login_host='127.0.0.1', login_port=closed_port, login_user=None, login_password=NEW,
                          login_password_previous=OLD, connect_timeout=0.5))
    try:
        with pytest.raises(redis.exceptions.ConnectionError) as raised:
            client.ping()
        assert not refused_login(raised.value)
    finally:
        client.close()


@pytest.mark.parametrize('exc, refused', [
    (redis.exceptions.AuthenticationError('invalid username-password pair or user is disabled.'), True),
    # redis-py 4.3 (Debian 12's python3-redis) raises WRONGPASS as a plain reply error.
    (redis.exceptions.ResponseError('WRONGPASS invalid username-password pair or user is disabled.'), True),
    (redis.exceptions.ResponseError('NOPERM this user has no permissions to run the ping command'), False),
    (redis.exceptions.ConnectionError('Connection refused'), False),
])
def test_refused_login_with_every_redis_py(exc, refused):
    assert refused_login(exc) is refused


# Phase 1: both passwords; phase 3: only the new one.

def test_rotation_keeps_both_passwords_then_removes_the_old_one(run_module, old_server):
    failed, result = rotate(run_module, old_server, NEW, previous=OLD, check_mode=True)
    assert not failed and result['changed'] and 'requirepass' in result['changed_settings']
    assert accepts(old_server, OLD) and not accepts(old_server, NEW), 'check mode changed the server'

    failed, result = rotate(run_module, old_server, NEW, previous=OLD)
    assert not failed, result['msg']
    assert result['changed'] and 'requirepass' in result['changed_settings']
    assert accepts(old_server, OLD) and accepts(old_server, NEW)
    text = repr(result)
    assert OLD not in text and NEW not in text

    failed, result = rotate(run_module, old_server, NEW, previous=OLD)
    assert not failed and not result['changed'], result['msg']

    failed, result = rotate(run_module, old_server, NEW)
    assert not failed and result['changed'], result['msg']
    assert accepts(old_server, NEW) and not accepts(old_server, OLD)

    failed, result = rotate(run_module, old_server, NEW)
    assert not failed and not result['changed'], result['msg']


def test_both_passwords_survive_a_restart_during_the_window(run_module, nodes):
    """CONFIG REWRITE saves the default user with both hashes: a restart in the window keeps both."""
    server = nodes.server(password=OLD)
    failed, result = rotate(run_module, server, NEW, previous=OLD)
    assert not failed, result['msg']
    users = [line for line in (server.workdir / 'redis.conf').read_text().splitlines() if line.startswith('user ')]
    assert len(users) == 1 and users[0].count(' #') == 2, 'CONFIG REWRITE did not save both passwords'
    argv = server.proc.args
    server.stop()
    restarted = RedisNode(argv, server.workdir, server.port, password=NEW)
    nodes.nodes.append(restarted)
    restarted.wait_ready()
    assert accepts(restarted, OLD) and accepts(restarted, NEW)


def test_a_node_already_on_both_passwords_by_hand_is_left_alone(run_module, nodes):
    server = nodes.server(password=NEW)
    client = redis.Redis(port=server.port, password=NEW)
    client.execute_command('ACL', 'SETUSER', 'default', '>' + OLD)
    client.config_set('masterauth', NEW)
    client.close()
    failed, result = rotate(run_module, server, NEW, previous=OLD)
    assert not failed and not result['changed'], result['msg']


def test_previous_password_needs_a_new_requirepass(run_module, old_server):
    failed, result = run_module(redis_config.main, dict(
        login_port=old_server.port, login_password=OLD, secret_settings=dict(masterauth=NEW),
        requirepass_previous=OLD))
    assert failed and 'give the new one as requirepass' in result['msg']
    failed, result = run_module(redis_config.main, dict(
        login_port=old_server.port, login_password=OLD, secret_settings=dict(requirepass=OLD),
        requirepass_previous=OLD))
    assert failed and 'must differ from requirepass' in result['msg']
    assert OLD not in result['msg']


def test_masterauth_changes_without_dropping_the_link(run_module, nodes):
    """A replica's masterauth changes live: its link stays up and the master makes no full resync."""
    master = nodes.server(password=OLD)
    replica = nodes.replica(master, password=OLD)
    wait_for(lambda: link_up(replica), 'the replica link to come up')
    for node in (master, replica):
        failed, result = rotate(run_module, node, NEW, previous=OLD)
        assert not failed, result['msg']
    before = replication(replica)
    syncs = full_syncs(master)
    # The master now has the old and the new password, the replica logs in with the new one from now on.
    master_client = redis.Redis(port=master.port, password=NEW)
    for number in range(50):
        master_client.set('key:%d' % number, number)
    master_client.close()
    offset = replication(master)['master_repl_offset']
    wait_for(lambda: replication(replica)['slave_repl_offset'] >= offset, 'the replica to catch up')
    after = replication(replica)
    assert after['master_link_status'] == 'up'
    assert after['master_replid'] == before['master_replid']
    assert full_syncs(master) == syncs
    # Phase 3 on both: the old password goes, and a new link (after a restart of the link) uses the new one.
    for node in (master, replica):
        failed, result = rotate(run_module, node, NEW)
        assert not failed, result['msg']
    client = redis.Redis(port=replica.port, password=NEW)
    client.execute_command('CLIENT', 'KILL', 'TYPE', 'master')
    client.close()
    wait_for(lambda: replication(replica)['master_link_status'] == 'up', 'the link to come up with the new password')
    assert not accepts(master, OLD)


# ACL mode: redis_acl logs in with the fallback and keeps both passwords of a user while told so.

def test_redis_acl_logs_in_with_the_previous_admin_password(run_module, nodes):
    server = nodes.server('user admin on %s ~* &* +@all' % config_quote('>' + OLD))
    users = [dict(name='admin', passwords=[NEW, OLD], rules='~* &* +@all')]
    args = dict(login_port=server.port, login_user='admin', login_password=NEW, login_password_previous=OLD,
                users=users)
    failed, result = run_module(redis_acl.main, args)
    assert not failed and result['changed'], result['msg']
    assert accepts(server, NEW, 'admin') and accepts(server, OLD, 'admin')
    users[0]['passwords'] = [NEW]
    failed, result = run_module(redis_acl.main, dict(args, users=users))
    assert not failed and result['changed'], result['msg']
    assert accepts(server, NEW, 'admin') and not accepts(server, OLD, 'admin')


# The live check of site.yml: a refused password shows as such (live_master names the rotation for it,
# tests/unit/plugins/filter/test_live_master.py), and the previous one lets the run through.

def test_live_check_reports_a_refused_password_and_the_previous_one_passes(run_module, nodes):
    master = nodes.server(password=OLD)
    sentinel = nodes.sentinel(master, quorum=1)
    args = dict(sentinels=[sentinel.address], login_port=sentinel.port, master_password=NEW)

    failed, result = run_module(topology_info.main, args)
    assert not failed, result['msg']
    node = result['groups'][0]['nodes'][0]
    assert not node['reachable'] and node['error'].startswith(REFUSED_PASSWORD)
    assert OLD not in repr(result) and NEW not in repr(result)

    failed, result = run_module(topology_info.main, dict(args, master_password_previous=OLD))
    assert not failed, result['msg']
    node = result['groups'][0]['nodes'][0]
    assert node['reachable'] and node['role'] == 'master'
