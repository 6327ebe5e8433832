# -*- coding: utf-8 -*-
"""Rotating the Sentinel's own password live (sentinel_monitor requirepass / requirepass_previous),
against three real redis-sentinel processes: both passwords accepted while the previous one is set,
the old one refused once it is removed, and after each step a restarted Sentinel still keeps the
right passwords and logs in to the other Sentinels (sentinel-pass) again."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ansible_collections.redisops.sentinel.plugins.module_utils.client import refused_login
from ansible_collections.redisops.sentinel.plugins.modules import sentinel_monitor

from conftest import MASTER_NAME, REDIS_SENTINEL, NodeFactory, RedisNode, config_quote, free_port, wait_for

# The bootstrap password may hold anything (sentinel.conf quotes it); the new one becomes sentinel-pass,
# which Sentinel writes unquoted.
OLD = "it's the old $entinel #1"
NEW = 'new-$entinel#2'


def start_sentinel(nodes: NodeFactory, master: RedisNode, conf: Path | None = None) -> RedisNode:
    """A Sentinel bootstrapped with 'requirepass OLD' (or restarted from its own ``conf``)."""
    if conf is None:
        workdir = nodes._workdir('sentinel')
        conf = workdir / 'sentinel.conf'
        conf.write_text('\n'.join([
            'port %d' % free_port(), 'bind 127.0.0.1', 'daemonize no', 'dir %s' % workdir,
            'requirepass %s' % config_quote(OLD),
            'sentinel monitor %s %s %d 2' % (MASTER_NAME, master.host, master.port),
            'sentinel down-after-milliseconds %s 1000' % MASTER_NAME, '']))
    port = int(next(line.split()[1] for line in conf.read_text().splitlines() if line.startswith('port ')))
    node = RedisNode([REDIS_SENTINEL, str(conf)], conf.parent, port, password=NEW)
    nodes.nodes.append(node)
    wait_for(lambda: accepts(node, OLD) is not None, '%s to answer' % node.address)
    return node


def accepts(node: RedisNode, password: str) -> bool | None:
    """Whether a new connection logs in with ``password``; None while nothing answers yet."""
    # No retries: redis-py retries a refused AUTH (a ConnectionError) with back-off by default.
    client = redis.Redis(host=node.host, port=node.port, password=password, socket_timeout=2,
                         retry=Retry(NoBackoff(), 0))
    try:
        return client.ping()
    except redis.exceptions.ConnectionError as exc:
        if refused_login(exc):
            return False
        return None
    except redis.exceptions.RedisError as exc:
        if refused_login(exc):
            return False
        raise
    finally:
        client.close()


def command(node: RedisNode, *args: Any) -> Any:
    """A command on the Sentinel, logged in with whichever password it accepts."""
    password = NEW if accepts(node, NEW) else OLD
    client = redis.Redis(host=node.host, port=node.port, password=password, socket_timeout=2, decode_responses=True)
    try:
        return client.execute_command(*args)
    finally:
        client.close()


def logged_in_from(node: RedisNode, other: RedisNode) -> bool:
    """Whether ``other`` holds a command link to ``node`` that got past AUTH.

    Sentinel names the link (CLIENT SETNAME sentinel-<myid>-cmd) right after AUTH; a refused AUTH
    leaves it without a name.
    """
    name = 'sentinel-%s-cmd' % command(other, 'SENTINEL', 'MYID')[:8]
    return 'name=%s ' % name in command(node, 'CLIENT', 'LIST')


def all_linked(sentinels: list[RedisNode]) -> bool:
    return all(logged_in_from(node, other) for node in sentinels for other in sentinels if other is not node)


def rotate(run_module, node: RedisNode, previous: str | None, check_mode: bool = False) -> tuple[bool, dict]:
    """sentinel_monitor as sentinel.yml runs it during a rotation."""
    args = dict(login_port=node.port, login_password=NEW, login_password_previous=previous, name=MASTER_NAME,
                requirepass=NEW, requirepass_previous=previous)
    return run_module(sentinel_monitor.main, args, check_mode=check_mode)


def restart(nodes: NodeFactory, master: RedisNode, node: RedisNode) -> RedisNode:
    node.stop()
    nodes.nodes.remove(node)
    return start_sentinel(nodes, master, node.workdir / 'sentinel.conf')


@pytest.fixture
def topology(nodes) -> tuple[RedisNode, list[RedisNode]]:
    master = nodes.server()
    sentinels = [start_sentinel(nodes, master) for _dummy in range(3)]
    wait_for(lambda: all_linked(sentinels), 'the Sentinels to log in to each other with the bootstrap password')
    return master, sentinels


def test_rotation_in_two_runs(run_module, nodes, topology):
    master, sentinels = topology
    failed, result = rotate(run_module, sentinels[0], OLD, check_mode=True)
    assert not failed and result['changed'], result
    assert accepts(sentinels[0], NEW) is False, 'check mode changed the password'

    # Run 1: the new password beside the previous one, on every Sentinel.
    for node in sentinels:
        failed, result = rotate(run_module, node, OLD)
        assert not failed, result
        assert result['changed_options'] == ['requirepass', 'sentinel_pass']
        assert result['diff']['after']['requirepass'] == '2 password(s) (changed)'
        assert NEW not in str(result) and OLD not in str(result)
    for node in sentinels:
        assert accepts(node, NEW) and accepts(node, OLD)
        failed, result = rotate(run_module, node, OLD)
        assert not failed and not result['changed'], 'the second run changed something: %s' % result
    # Saved: a restarted Sentinel keeps both and logs in to the others with the new one.
    sentinels[0] = restart(nodes, master, sentinels[0])
    assert accepts(sentinels[0], NEW) and accepts(sentinels[0], OLD)
    wait_for(lambda: all_linked(sentinels), 'the restarted Sentinel to log in to the others')

    # Run 2: the previous password removed.
    for node in sentinels:
        failed, result = rotate(run_module, node, None)
        assert not failed, result
        assert result['changed_options'] == ['requirepass'], 'sentinel-pass is the new password since run 1'
    for node in sentinels:
        assert accepts(node, NEW) and accepts(node, OLD) is False
        assert not rotate(run_module, node, None)[1]['changed']
    # The bootstrap 'requirepass OLD' line is still in the file; the 'user default' line after it wins.
    sentinels[1] = restart(nodes, master, sentinels[1])
    assert accepts(sentinels[1], NEW) and accepts(sentinels[1], OLD) is False
    wait_for(lambda: all_linked(sentinels), 'every Sentinel to log in to the others with the new password only')


def test_a_password_sentinel_pass_cannot_hold_is_refused_before_any_change(run_module, topology):
    _master, sentinels = topology
    args = dict(login_port=sentinels[0].port, login_password=OLD, name=MASTER_NAME,
                requirepass='has a space', requirepass_previous=OLD)
    failed, result = run_module(sentinel_monitor.main, args)
    assert failed and 'sentinel-pass' in result['msg'] and 'Nothing was changed' in result['msg']
    assert 'has a space' not in str(result)
    assert accepts(sentinels[0], 'has a space') is False and accepts(sentinels[0], OLD)


@pytest.mark.parametrize('extra, message', [
    (dict(requirepass_previous='x'), 'requirepass_previous needs requirepass'),
    (dict(requirepass='x', requirepass_previous='x'), 'requirepass_previous must differ from requirepass'),
])
def test_bad_rotation_input_is_rejected_before_connecting(run_module, closed_port, extra, message):
    failed, result = run_module(sentinel_monitor.main, dict(login_port=closed_port, name=MASTER_NAME, **extra))
    assert failed and message in result['msg']
