# -*- coding: utf-8 -*-
"""sentinel_failover against real processes: a master, two replicas and three Sentinels.

The group is shared by the tests of this file, which run in order: first the ones that must
change nothing, then a switchover chosen by Sentinel, then one to a given replica, and last a
run that stops before SENTINEL FAILOVER.
"""
from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils.address import Address
from ansible_collections.redisops.sentinel.plugins.module_utils.client import RETRYABLE_ERRORS, ResponseError, connect
from ansible_collections.redisops.sentinel.plugins.module_utils.switchover import (
    SentinelAnswer,
    failover_refusal,
    sentinel_unmet,
)
from ansible_collections.redisops.sentinel.plugins.modules import sentinel_failover

from conftest import MASTER_NAME, NodeFactory, RedisNode, command, link_up, sentinel_sees, wait_for

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

    def sync_sentinel_view(self) -> None:
        """Wait until the first Sentinel sees the replica-priority the replicas have now."""
        sentinel = self.sentinels[0]
        priorities = self.priorities()

        def seen() -> bool:
            replicas = command(sentinel, 'SENTINEL', 'REPLICAS', MASTER_NAME)
            view = {'%s:%s' % (item[item.index('ip') + 1], item[item.index('port') + 1]):
                    int(item[item.index('slave-priority') + 1]) for item in replicas}
            return all(view.get(address) == priority for address, priority in priorities.items()
                       if address != self.sentinel_master())

        command(sentinel, 'SENTINEL', 'DEBUG', 'info-period', 100)
        try:
            wait_for(seen, 'Sentinel %s to see replica-priority %s' % (sentinel.address, priorities))
        finally:
            command(sentinel, 'SENTINEL', 'DEBUG', 'info-period', 10000)

    def info_period(self) -> int:
        """SENTINEL DEBUG INFO-PERIOD of the first Sentinel, the one the module may speed up."""
        reply = command(self.sentinels[0], 'SENTINEL', 'DEBUG')
        return int(reply[reply.index('INFO-PERIOD') + 1])


@pytest.fixture(scope='module')
def group(tmp_path_factory) -> Group:
    factory = NodeFactory(tmp_path_factory.mktemp('failover'))
    try:
        master = factory.server()
        replicas = [factory.replica(master) for dummy in range(2)]
        for replica in replicas:
            wait_for(lambda node=replica: link_up(node), 'the link of %s to come up' % replica.address)
        sentinels = [factory.sentinel(master, quorum=2) for dummy in range(3)]
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


class Writer:
    """A client writing throughout a switchover: SET k:N N, then WAIT 1 100 on the same connection.

    Every key whose WAIT reported at least one replica is recorded with the master that acknowledged
    it. On any error the client finds the master again through the Sentinels.
    """

    def __init__(self, group: Group, prefix: str):
        self.group, self.prefix = group, prefix
        self.acked: dict[str, str] = {}
        self.errors: list[str] = []
        self.writes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Writer:
        self._thread.start()
        # Some writes acknowledged by the old master before the switchover starts.
        wait_for(lambda: len(self.acked) >= 50, 'the writer to get 50 acknowledged writes')
        return self

    def __exit__(self, *exc_info) -> None:
        # Keep writing a little, to the new master, after the switchover.
        time.sleep(0.3)
        self._stop.set()
        self._thread.join(10)
        assert not self._thread.is_alive()

    def _master(self) -> str:
        for sentinel in self.group.sentinels:
            client = sentinel.client()
            try:
                host, port = client.execute_command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)
                return '%s:%s' % (host, port)
            except RETRYABLE_ERRORS:
                continue
            finally:
                client.close()
        raise ConnectionError('no Sentinel answered')

    def _run(self) -> None:
        client, address = None, None
        while not self._stop.is_set():
            key = '%s:%d' % (self.prefix, self.writes)
            self.writes += 1
            try:
                if client is None:
                    address = self._master()
                    host, port = address.rsplit(':', 1)
                    client = connect(dict(login_host=host, login_port=int(port), login_user=None,
                                          login_password=None, connect_timeout=2.0))
                pipe = client.pipeline(transaction=False)
                pipe.set(key, key)
                pipe.execute_command('WAIT', 1, 100)
                if pipe.execute()[1] >= 1:
                    self.acked[key] = address
            except (RETRYABLE_ERRORS + (ConnectionError,)) as exc:
                self.errors.append('%s: %s' % (address, exc))
                if client is not None:
                    client.close()
                client = None
                time.sleep(0.01)
        if client is not None:
            client.close()

    def assert_none_lost(self, old: str, new: str) -> None:
        """Every acknowledged write, on the old master or the new one, is on the new master."""
        masters = set(self.acked.values())
        assert old in masters and new in masters, (masters, self.errors[:5])
        keys = sorted(self.acked)
        client = self.group.node(new).client()
        try:
            values = [value for start in range(0, len(keys), 1000)
                      for value in client.mget(keys[start:start + 1000])]
        finally:
            client.close()
        lost = [key for key, value in zip(keys, values) if value != key]
        assert not lost, '%d of %d acknowledged writes lost (%d acknowledged by the old master), e.g. %s' % (
            len(lost), len(keys), sum(1 for key in lost if self.acked[key] == old), lost[:5])


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


@pytest.mark.parametrize('refused', [True, False], ids=['refused', 'given-up'])
def test_fence_lifted_when_the_failover_fails(run_module, group, monkeypatch, refused):
    """Failures under CLIENT PAUSE: the old master takes writes again at once, priorities are set back.

    SENTINEL FAILOVER is not really sent: either it is refused, or it seems accepted and Sentinel
    (no failover_in_progress, same master) looks like it gave up, as after -failover-abort-no-good-slave.
    """
    master, priorities = group.sentinel_master(), group.priorities()
    target = group.replicas()[0].address
    paused = []

    def start_failover(self):
        # The writes of the master are paused now: a write waits.
        client = group.node(master).client()
        client.connection_pool.connection_kwargs['socket_timeout'] = 0.3
        try:
            client.set('paused', 1)
        except RETRYABLE_ERRORS as exc:
            paused.append(type(exc).__name__)
        finally:
            client.close()
        if refused:
            raise sentinel_failover.SwitchoverError('Sentinel refused SENTINEL FAILOVER (simulated).', [])
        self.changed, self.new, self.failover_sent = True, None, True

    monkeypatch.setattr(sentinel_failover.Switchover, 'start_failover', start_failover)
    failed, result = run(run_module, group, target=target)
    assert failed and result['changed'] is False and paused == ['TimeoutError']
    if refused:
        assert result['msg'] == 'Sentinel refused SENTINEL FAILOVER (simulated).'
    else:
        assert result['msg'] == "Sentinel %s gave up the failover of 'mymaster' (its log tells why, " \
            "-failover-abort-*); nothing was switched." % group.sentinels[0].address
        assert result['new_master'] == master
    assert result['write_pause'] > 0.3
    client = group.node(master).client()
    try:
        started = time.monotonic()
        assert client.set('after-failure', 1) and time.monotonic() - started < 0.5
    finally:
        client.close()
    assert group.sentinel_master() == master and group.priorities() == priorities
    assert group.info_period() == 10000


def test_switchover_chosen_by_sentinel(run_module, group):
    old = group.sentinel_master()
    write_keys(group.node(old), 'first')
    with Writer(group, 'w1') as writer:
        failed, result = run(run_module, group, only_if_master=old)
    assert not failed, result['msg']
    writer.assert_none_lost(old, result['new_master'])
    assert_switched(group, result, old)
    assert result['msg'] == "Switched the master of 'mymaster' from %s to %s: 3 Sentinel(s) agree, " \
        "2 node(s) follow it; writes to %s were paused for %.3fs." % (
            old, result['new_master'], old, result['write_pause'])
    assert 0 < result['write_pause'] < result['elapsed']
    assert_keys(group.node(result['new_master']), 'first')
    # Demoted by the module, persisted as Sentinel does: a restart keeps it a replica.
    new_host, new_port = result['new_master'].rsplit(':', 1)
    assert 'replicaof %s %s' % (new_host, new_port) in (group.node(old).workdir / 'redis.conf').read_text()


def test_switchover_to_a_target_restores_priorities(run_module, group):
    old = group.sentinel_master()
    target, other = group.replicas()
    command(other, 'CONFIG', 'SET', 'replica-priority', '42')
    priorities = group.priorities()
    write_keys(group.node(old), 'second')

    with Writer(group, 'w2') as writer:
        failed, result = run(run_module, group, target=target.address)
    assert not failed, result['msg']
    writer.assert_none_lost(old, target.address)
    assert_switched(group, result, old)
    assert result['new_master'] == target.address
    assert_keys(target, 'second')
    assert_keys(target, 'first')
    # Set back, and persisted although Sentinel rewrote the file with 0 when it reconfigured the replica.
    assert group.priorities() == priorities
    assert group.info_period() == 10000
    assert 'replica-priority 42' in (other.workdir / 'redis.conf').read_text().splitlines()

    failed, result = run(run_module, group, target=target.address)
    assert not failed and result['changed'] is False


def test_priorities_set_back_on_timeout(run_module, group):
    # Last: Sentinel cannot see the lowered priorities at once, so the run stops before SENTINEL FAILOVER.
    master, priorities = group.sentinel_master(), group.priorities()
    target, other = group.replicas()
    group.sync_sentinel_view()
    failed, result = run(run_module, group, target=target.address, timeout=0)
    assert failed and result['changed'] is False
    assert result['msg'].startswith('Sentinel %s did not see replica-priority 0 on %s, %d on target %s within 0s; '
                                    'the switchover was not started. Unmet: Sentinel %s still sees '
                                    'replica-priority %d on %s (it reads INFO of replicas every 250ms now)'
                                    % (group.sentinels[0].address, other.address, priorities[target.address],
                                       target.address, group.sentinels[0].address,
                                       priorities[other.address], other.address))
    assert result['old_master'] == result['new_master'] == master
    assert group.priorities() == priorities and group.sentinel_master() == master
    assert 'replica-priority 0' not in (other.workdir / 'redis.conf').read_text().splitlines()
    assert group.info_period() == 10000 and result['write_pause'] is None
