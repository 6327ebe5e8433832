# -*- coding: utf-8 -*-
"""sentinel_failover against real processes: a master, two replicas and three Sentinels.

The group is shared by the tests of this file, which run in order: first the ones that must
change nothing, then a switchover chosen by Sentinel, then one to a given replica, and last a
run that stops before SENTINEL FAILOVER.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils.address import Address
from ansible_collections.redisops.sentinel.plugins.module_utils.client import ResponseError
from ansible_collections.redisops.sentinel.plugins.modules import sentinel_failover
from ansible_collections.redisops.sentinel.plugins.modules.sentinel_failover import (
    SentinelAnswer,
    failover_refusal,
    sentinel_unmet,
)

from conftest import MASTER_NAME, NodeFactory, RedisNode, link_up, sentinel_sees, wait_for

COLLECTIONS = Path(__file__).resolve().parents[4] / 'playbooks' / 'collections'
KEYS = 500


class Group:
    def __init__(self, nodes: list[RedisNode], sentinels: list[RedisNode]):
        self.nodes, self.sentinels = nodes, sentinels

    def node(self, address: str) -> RedisNode:
        return next(node for node in self.nodes if node.address == address)

    def sentinel_master(self) -> str:
        client = self.sentinels[0].client()
        try:
            host, port = client.execute_command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)
        finally:
            client.close()
        return '%s:%s' % (host, port)

    def replicas(self) -> list[RedisNode]:
        master = self.sentinel_master()
        return [node for node in self.nodes if node.address != master]

    def priorities(self) -> dict[str, int]:
        return {node.address: int(command(node, 'CONFIG', 'GET', 'replica-priority')[1]) for node in self.nodes}


def command(node: RedisNode, *args):
    client = node.client()
    try:
        return client.execute_command(*args)
    finally:
        client.close()


@pytest.fixture(scope='module')
def group(tmp_path_factory) -> Group:
    factory = NodeFactory(tmp_path_factory.mktemp('failover'))
    try:
        master = factory.server()
        replicas = [factory.replica(master) for _ in range(2)]
        for replica in replicas:
            wait_for(lambda node=replica: link_up(node), 'the link of %s to come up' % replica.address)
        sentinels = [factory.sentinel(master, quorum=2) for _ in range(3)]
        for sentinel in sentinels:
            wait_for(lambda node=sentinel: sentinel_sees(node, replicas=2, others=2),
                     '%s to see 2 replicas and 2 other Sentinels' % sentinel.address)
        yield Group([master] + replicas, sentinels)
    finally:
        factory.stop_all()


def run(run_module, group, check_mode=False, **args):
    args.setdefault('sentinels', [node.address for node in group.sentinels])
    if 'master_name' not in args:
        args.setdefault('name', MASTER_NAME)
    args.setdefault('timeout', 45)
    return run_module(sentinel_failover.main, args, check_mode=check_mode)


def write_keys(master: RedisNode, prefix: str) -> None:
    """KEYS keys, acknowledged by both replicas (WAIT) before the switchover."""
    client = master.client()
    try:
        pipe = client.pipeline(transaction=False)
        for index in range(KEYS):
            pipe.set('%s:%d' % (prefix, index), index)
        pipe.execute()
        assert client.execute_command('WAIT', 2, 5000) == 2
    finally:
        client.close()


def assert_keys(master: RedisNode, prefix: str) -> None:
    client = master.client()
    try:
        values = client.mget(['%s:%d' % (prefix, index) for index in range(KEYS)])
    finally:
        client.close()
    assert values == [str(index) for index in range(KEYS)]


def assert_switched(group: Group, result: dict, old: str) -> None:
    """The result and the live group agree: new master, every Sentinel and every other node follow it."""
    new = result['new_master']
    assert result['changed'] is True and result['unmet'] == []
    assert result['old_master'] == old and new != old
    assert result['sentinels'] == {node.address: new for node in group.sentinels}
    assert 0 < result['elapsed'] < 45
    assert group.sentinel_master() == new
    assert command(group.node(new), 'ROLE')[0] == 'master'
    for node in group.nodes:
        if node.address != new:
            info = command(node, 'INFO', 'replication')
            assert (info['role'], '%s:%s' % (info['master_host'], info['master_port'])) == ('slave', new)
            assert info['master_link_status'] == 'up'


@pytest.mark.parametrize('args, message', [
    (dict(name='my master'), 'name may only contain letters, digits'),
    (dict(timeout=-1), 'timeout must not be negative'),
    (dict(poll_interval=0.5), 'poll_interval must be greater than 0 and at most 0.2'),
    (dict(sentinels=['127.0.0.1:0']), 'sentinels: invalid address'),
    (dict(target='[::1'), 'target: invalid address'),
    (dict(only_if_master='10.0.0.1:70000'), 'only_if_master: invalid address'),
])
def test_bad_input_is_rejected_before_connecting(run_module, args, message):
    args = dict(dict(name=MASTER_NAME, login_port=1), **args)
    for check_mode in (False, True):
        failed, result = run_module(sentinel_failover.main, args, check_mode=check_mode)
        assert failed and message in result['msg'], result['msg']


def answer(port: int, master: tuple[str, int] | None, flags: str = 'master', tilt: bool = False,
           error: str | None = None) -> SentinelAnswer:
    if error:
        return SentinelAnswer(Address('127.0.0.1', port), error=error)
    view = dict(master=dict(ip=master[0], port=master[1], flags=flags.split(',')) if master else None,
                replicas=[], tilt=tilt)
    return SentinelAnswer(Address('127.0.0.1', port), view)


@pytest.mark.parametrize('answers, expected', [
    ([answer(1, ('10.0.0.1', 6379)), answer(2, ('10.0.0.1', 6379))], []),
    ([answer(1, ('10.0.0.1', 6379)), answer(2, ('10.0.0.2', 6379))],
     ['the Sentinels disagree on the master: 127.0.0.1:1 sees 10.0.0.1:6379; 127.0.0.1:2 sees 10.0.0.2:6379']),
    ([answer(1, ('10.0.0.1', 6379), tilt=True)], ['Sentinel 127.0.0.1:1 is in TILT mode']),
    ([answer(1, ('10.0.0.1', 6379), flags='master,failover_in_progress')],
     ['Sentinel 127.0.0.1:1 sees master 10.0.0.1:6379 with flags master,failover_in_progress']),
    ([answer(1, ('10.0.0.1', 6379), flags='master,s_down,o_down')],
     ['Sentinel 127.0.0.1:1 sees master 10.0.0.1:6379 with flags master,s_down,o_down']),
    ([answer(1, None)], ["Sentinel 127.0.0.1:1 monitors no master named 'mymaster'"]),
    ([answer(1, None, error='ConnectionError: refused')],
     ['Sentinel 127.0.0.1:1 did not answer: ConnectionError: refused']),
])
def test_sentinel_preconditions(answers, expected):
    assert sentinel_unmet(answers, MASTER_NAME) == expected


def test_failover_errors_are_explained():
    sentinel = Address('127.0.0.1', 26379)
    text = failover_refusal(sentinel, MASTER_NAME, str(ResponseError('NOGOODSLAVE No suitable replica to promote')))
    assert text.startswith("Sentinel 127.0.0.1:26379 found no replica of 'mymaster' it can promote (-NOGOODSLAVE)")
    text = failover_refusal(sentinel, MASTER_NAME, '-INPROG Failover already in progress')
    assert text.startswith("A failover of 'mymaster' is already in progress on Sentinel 127.0.0.1:26379 (-INPROG)")


def test_refuses_a_target_that_is_not_a_known_replica(run_module, group, closed_port):
    master, priorities = group.sentinel_master(), group.priorities()
    failed, result = run(run_module, group, target='127.0.0.1:%d' % closed_port)
    assert failed and result['changed'] is False
    assert result['msg'].startswith("Refusing to switch 'mymaster' over, nothing was changed: target 127.0.0.1:%d "
                                    "is not a replica the Sentinels know" % closed_port)
    assert result['old_master'] == result['new_master'] == master
    assert group.sentinel_master() == master and group.priorities() == priorities

    dead = '127.0.0.1:%d' % closed_port
    failed, result = run(run_module, group, sentinels=[node.address for node in group.sentinels] + [dead])
    assert failed and result['changed'] is False and result['old_master'] is None
    assert result['unmet'] == ['Sentinel %s did not answer: ConnectionError: Error 111 connecting to %s. '
                               'Connection refused.' % (dead, dead)]
    assert result['sentinels'] == dict({node.address: master for node in group.sentinels}, **{dead: None})
    assert group.sentinel_master() == master


def test_check_mode_changes_nothing(run_module, group):
    master, priorities = group.sentinel_master(), group.priorities()
    target, other = [node.address for node in group.replicas()]
    failed, result = run(run_module, group, check_mode=True, target=target)
    assert not failed, result['msg']
    assert result['changed'] is True and result['new_master'] == target and result['old_master'] == master
    assert result['msg'] == "Check mode: would switch the master of 'mymaster' from %s to %s " \
        "(replica-priority 0 meanwhile on %s)." % (master, target, other)
    failed, result = run(run_module, group, check_mode=True)
    assert not failed and result['changed'] is True and result['new_master'] is None
    assert group.sentinel_master() == master and group.priorities() == priorities


def test_nothing_to_do(run_module, group):
    master = group.sentinel_master()
    failed, result = run(run_module, group, target=master, master_name=MASTER_NAME)
    assert not failed and result['changed'] is False
    assert result['old_master'] == result['new_master'] == master
    assert result['msg'] == "%s already is the master of 'mymaster': nothing to do." % master
    assert result['sentinels'] == {node.address: master for node in group.sentinels}

    replica = group.replicas()[0].address
    failed, result = run(run_module, group, only_if_master=replica)
    assert not failed and result['changed'] is False
    assert result['msg'] == "The master of 'mymaster' is %s, not %s (only_if_master): nothing to do." % (
        master, replica)
    assert group.sentinel_master() == master


def test_switchover_chosen_by_sentinel(run_module, group):
    old = group.sentinel_master()
    write_keys(group.node(old), 'first')
    failed, result = run(run_module, group, only_if_master=old)
    assert not failed, result['msg']
    assert_switched(group, result, old)
    assert result['msg'] == "Switched the master of 'mymaster' from %s to %s: 3 Sentinel(s) agree, " \
        "2 node(s) follow it." % (old, result['new_master'])
    assert_keys(group.node(result['new_master']), 'first')


def test_switchover_to_a_target_restores_priorities(run_module, group):
    old = group.sentinel_master()
    target, other = group.replicas()
    command(other, 'CONFIG', 'SET', 'replica-priority', '42')
    priorities = group.priorities()
    write_keys(group.node(old), 'second')

    failed, result = run(run_module, group, target=target.address)
    assert not failed, result['msg']
    assert_switched(group, result, old)
    assert result['new_master'] == target.address
    assert_keys(target, 'second')
    assert_keys(target, 'first')
    # Set back, and persisted although Sentinel rewrote the file with 0 when it reconfigured the replica.
    assert group.priorities() == priorities
    assert 'replica-priority 42' in (other.workdir / 'redis.conf').read_text().splitlines()

    failed, result = run(run_module, group, target=target.address)
    assert not failed and result['changed'] is False


def test_priorities_set_back_on_timeout(run_module, group):
    # Last: Sentinel cannot see the lowered priorities at once, so the run stops before SENTINEL FAILOVER.
    master, priorities = group.sentinel_master(), group.priorities()
    target, other = group.replicas()
    failed, result = run(run_module, group, target=target.address, timeout=0)
    assert failed and result['changed'] is False
    assert result['msg'].startswith('Sentinel %s did not see replica-priority 0 on %s within 0s; the switchover '
                                    'was not started. Unmet: Sentinel %s still sees '
                                    'replica-priority %d on %s' % (group.sentinels[0].address, other.address,
                                                                   group.sentinels[0].address,
                                                                   priorities[other.address], other.address))
    assert result['old_master'] == result['new_master'] == master
    assert group.priorities() == priorities and group.sentinel_master() == master
    assert 'replica-priority 0' not in (other.workdir / 'redis.conf').read_text().splitlines()


def test_docs_match_argument_spec():
    ansible_doc = Path(sys.executable).with_name('ansible-doc')
    if not ansible_doc.exists():
        pytest.skip('ansible-doc is not installed next to the test interpreter')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR='1')
    name = 'redisops.sentinel.sentinel_failover'
    output = subprocess.run([str(ansible_doc), '--json', name], env=env, check=True,
                            capture_output=True, text=True).stdout
    doc = json.loads(output)[name]
    documented = doc['doc']['options']
    spec = sentinel_failover.argument_spec()
    assert sorted(documented) == sorted(spec)
    for option, rules in spec.items():
        assert documented[option]['type'] == rules['type'], option
        assert documented[option].get('default') == rules.get('default'), option
        assert documented[option].get('required', False) == rules.get('required', False), option
        assert documented[option].get('elements') == rules.get('elements'), option
        assert documented[option].get('aliases', []) == rules.get('aliases', []), option
    assert doc['doc']['attributes']['check_mode']['support'] == 'full'
    assert {'old_master', 'new_master', 'elapsed', 'sentinels', 'msg', 'unmet'} <= set(doc['return'])
