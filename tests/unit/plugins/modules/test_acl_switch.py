# -*- coding: utf-8 -*-
"""Moving a running one-password topology to ACL mode (issue 14) with the collection's modules, in an
order where nothing is refused, against a real master, replica and Sentinel:

1. redis_acl creates the ACL users on every data node while the default user keeps the password, logged in
   as the roles do (the admin user, else the default user with the one password);
2. redis_config switches the replica to the replication user (masteruser, masterauth), live;
3. sentinel_monitor switches the Sentinel to the Sentinel user (auth-user, auth-pass);
4. redis_acl turns the default user off, last; it keeps the replication commands, so the replica's link made
   as the default user stays up until it links again as the replication user.

After each step the replication link is up without a new full sync, the Sentinel sees the master
and the replica, and the master's ACL LOG holds no refused login. This proves the mechanism the
roles follow (host.yml creates the users on every running data node before the data nodes and Sentinels
converge; molecule/standalone runs it end to end).
"""
from __future__ import annotations

from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ansible_collections.redisops.sentinel.plugins.module_utils.acl import role_users
from ansible_collections.redisops.sentinel.plugins.modules import redis_acl, redis_config, sentinel_monitor

from conftest import MASTER_NAME, PASSWORD, NodeFactory, RedisNode, link_up, sentinel_sees, wait_for

ADMIN, REPLICATION, SENTINEL = 'admin-pw#1', 'repl-pw#2', 'sent-pw#3'
LOGINS = dict(admin=('admin', ADMIN, ''), replication=('replication', REPLICATION, ''),
              sentinel=('sentinel', SENTINEL, ''))


def users(default_on: bool) -> list[dict[str, Any]]:
    """The users of ACL mode as the roles declare them (the acl_users filter), redis_acl_default_user on or off."""
    return role_users([], default_on, PASSWORD, '', LOGINS)


def admin(node: RedisNode, named: bool) -> redis.Redis:
    """A connection as the admin user (``named``), else as the default user with the password."""
    user, password = ('admin', ADMIN) if named else (None, PASSWORD)
    return redis.Redis(host=node.host, port=node.port, username=user, password=password, decode_responses=True,
                       socket_timeout=2, retry=Retry(NoBackoff(), 0))


def state(master: RedisNode, replica: RedisNode, named: bool = True) -> tuple[int, str, int]:
    """The master's full-sync count, the replica's link status, the master's refused logins."""
    master_client, replica_client = admin(master, named), admin(replica, named)
    try:
        refused = [entry for entry in master_client.acl_log() if entry.get('reason') == 'auth']
        return (int(master_client.info('stats')['sync_full']), replica_client.info('replication')['master_link_status'],
                len(refused))
    finally:
        master_client.close()
        replica_client.close()


def as_admin(node: RedisNode, default_password: bool = True) -> dict[str, Any]:
    """Module login as the roles make it: the admin user, and while it may not exist yet (``default_password``)
    the default user with the one password as the previous login."""
    login = dict(login_port=node.port, login_user='admin', login_password=ADMIN)
    if default_password:
        login.update(login_user_previous='default', login_password_previous=PASSWORD)
    return login


@pytest.fixture
def topology(nodes: NodeFactory) -> tuple[RedisNode, RedisNode, RedisNode]:
    master = nodes.server(password=PASSWORD)
    replica = nodes.replica(master, password=PASSWORD)
    wait_for(lambda: link_up(replica), 'the replica link to come up')
    sentinel = nodes.sentinel(master, quorum=1)
    wait_for(lambda: sentinel_sees(sentinel, replicas=1, others=0), 'the Sentinel to see the replica')
    return master, replica, sentinel


def test_one_password_to_acl_mode_refuses_nothing(run_module, topology):
    master, replica, sentinel = topology
    before = state(master, replica, named=False)
    assert before[1:] == ('up', 0)

    # 1. The users, everywhere, the default user keeping the password.
    for node in (master, replica):
        failed, result = run_module(redis_acl.main, dict(as_admin(node), users=users(default_on=True)))
        assert not failed and result['changed'], result
    # The module tried the admin user first, once, as it does during any rotation: the only refusal.
    client = admin(master, True)
    try:
        assert [entry['username'] for entry in client.acl_log() if entry.get('reason') == 'auth'] == ['admin']
        client.execute_command('ACL', 'LOG', 'RESET')
    finally:
        client.close()
    assert state(master, replica) == before

    # 2. The replica logs in to its master as the replication user (used when the link is made again).
    failed, result = run_module(redis_config.main, dict(
        as_admin(replica, default_password=False), settings={'masteruser': 'replication'},
        secret_settings={'masterauth': REPLICATION}))
    assert not failed and result['changed'], result
    assert state(master, replica) == before

    # 3. The Sentinel logs in to the data nodes as the Sentinel user.
    failed, result = run_module(sentinel_monitor.main, dict(
        login_port=sentinel.port, name=MASTER_NAME, auth_user='sentinel', auth_pass=SENTINEL,
        config_file=str(sentinel.workdir / 'sentinel.conf')))
    assert not failed and result['changed'], result

    # 4. The default user off, last: only named users log in from now on.
    for node in (replica, master):
        failed, result = run_module(redis_acl.main, dict(as_admin(node, default_password=False),
                                                         users=users(default_on=False)))
        assert not failed and result['changed'], result
    anonymous = redis.Redis(host=master.host, port=master.port, password=PASSWORD, socket_timeout=2,
                            retry=Retry(NoBackoff(), 0))
    with pytest.raises(redis.exceptions.RedisError):
        anonymous.ping()
    anonymous.close()
    # The link the replica made as the default user stays up: the default user, off, keeps the replication
    # commands (roles/redis/vars/main.yml), so the master refuses none of them.
    sync_full, link, _refused = state(master, replica)
    assert (sync_full, link) == before[:2]
    client = admin(master, True)
    try:
        assert [entry for entry in client.acl_log() if entry.get('reason') == 'command'] == []
        client.execute_command('ACL', 'LOG', 'RESET')   # the anonymous login above is the only refusal
        client.execute_command('CLIENT', 'KILL', 'TYPE', 'replica')   # made again, as the replication user
    finally:
        client.close()
    wait_for(lambda: state(master, replica)[1] == 'up', 'the replica to link again as the replication user')
    client = admin(master, True)
    try:
        assert [item for item in client.client_list() if 'S' in item['flags']][0]['user'] == 'replication'
    finally:
        client.close()
    # The Sentinel links again as its user (its old links were made as the default user).
    client = redis.Redis(host=sentinel.host, port=sentinel.port, decode_responses=True, socket_timeout=2)
    try:
        client.execute_command('SENTINEL', 'RESET', MASTER_NAME)
    finally:
        client.close()
    wait_for(lambda: sentinel_sees(sentinel, replicas=1, others=0), 'the Sentinel to see the replica as its user')
    assert state(master, replica) == (before[0], 'up', 0)
