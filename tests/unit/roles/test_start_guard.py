# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The start guard (roles/redis/files/start_guard.py) against real Sentinels and servers."""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conftest import PASSWORD, NodeFactory, RedisNode, free_port, link_up, sentinel_sees, wait_for

GUARD_PATH = Path(__file__).resolve().parents[3] / 'roles' / 'redis' / 'files' / 'start_guard.py'
_spec = importlib.util.spec_from_file_location('start_guard', GUARD_PATH)
start_guard = sys.modules['start_guard'] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(start_guard)
View, decide = start_guard.View, start_guard.decide

A, B, ME = '10.0.0.1:6379', '10.0.0.2:6379', '10.0.0.3:6379'


# --- the decision, on tables ------------------------------------------------------------------

@pytest.mark.parametrize('views, has_aof, action, master', [
    # A majority names another node: start as its replica, whatever the minority says.
    ([View('s1', A), View('s2', A), View('s3', B)], False, 'replica', A),
    ([View('s1', A), View('s2', A), View('s3', error='timed out')], False, 'replica', A),
    # This node is the master: only with its append-only file, or with no replica to protect.
    ([View('s1', ME, replicas=2), View('s2', ME, replicas=2), View('s3', ME, replicas=2)], True, 'master', ME),
    ([View('s1', ME, replicas=2), View('s2', ME, replicas=2), View('s3', ME, replicas=2)], False, 'wait-empty', ME),
    ([View('s1', ME), View('s2', ME), View('s3', ME)], False, 'master', ME),
    # Seen down (a reboot longer than down-after): a failover may follow; a master now would lose writes.
    ([View('s1', ME, replicas=2, down=True, promotable=1), View('s2', ME, replicas=2), View('s3', ME, replicas=2)],
     True, 'wait', None),
    # ... unless no replica could be promoted (none, or all down): no failover can follow.
    ([View('s1', ME, down=True), View('s2', ME, down=True), View('s3', ME, down=True)], True, 'master', ME),
    ([View('s1', ME, replicas=2, down=True), View('s2', ME, replicas=2, down=True)], True, 'master', ME),
    # No majority, a failover under way, or silence: wait.
    ([View('s1', A), View('s2', B), View('s3', error='timed out')], True, 'wait', None),
    ([View('s1', A, failover=True), View('s2', A), View('s3', A)], True, 'wait', None),
    ([View('s1', error='timed out'), View('s2', closed=True), View('s3', closed=True)], True, 'wait', None),
    # Nobody monitors this group (bootstrap, Sentinels not there yet): start as written.
    ([View('s1', closed=True), View('s2', closed=True), View('s3', closed=True)], False, 'as-written', None),
    ([], False, 'as-written', None),
])
def test_decide(views: list, has_aof: bool, action: str, master: str | None) -> None:
    decision = decide(views, {ME}, has_aof)
    assert (decision.action, decision.master) == (action, master), decision.reason


# --- the configuration file -----------------------------------------------------------------

def test_set_replicaof_replaces_every_replication_line_and_keeps_the_mode(tmp_path: Path) -> None:
    conf = tmp_path / 'redis.conf'
    conf.write_text('port 6379\nslaveof 10.0.0.9 6379\nREPLICAOF 10.0.0.8 6379\nsave ""\n')
    conf.chmod(0o640)
    assert start_guard.set_replicaof(str(conf), '[2001:db8::1]:6380')
    assert conf.read_text() == 'port 6379\nsave ""\nreplicaof 2001:db8::1 6380\n'
    assert conf.stat().st_mode & 0o777 == 0o640
    assert not start_guard.set_replicaof(str(conf), '[2001:db8::1]:6380')
    assert start_guard.set_replicaof(str(conf), None)
    assert conf.read_text() == 'port 6379\nsave ""\n'


def aof_dir(nodes: NodeFactory, appendonly: str) -> RedisNode:
    """A real server that wrote (or did not write) its append-only file, then stopped."""
    node = nodes.server('appendonly %s' % appendonly, 'set-proc-title no')
    client = node.client()
    client.config_set('appendonly', appendonly)
    client.set('k', 'v')
    wait_for(lambda: client.info('persistence')['aof_rewrite_in_progress'] == 0, 'the AOF rewrite to finish')
    client.close()
    node.stop()
    return node


@pytest.mark.parametrize('appendonly, expected', [('yes', True), ('no', False)])
def test_has_aof_reads_the_config_of_a_real_server(nodes: NodeFactory, appendonly: str, expected: bool) -> None:
    node = aof_dir(nodes, appendonly)
    conf = node.workdir / 'guard.conf'
    conf.write_text('dir "%s"\nappendonly %s\n' % (node.workdir, appendonly))
    assert start_guard.has_aof(str(conf)) is expected


# --- the guard against real Sentinels ---------------------------------------------------------

def settings(sentinels: list[str], me: str, config: Path, timeout: float = 30, **extra: Any) -> dict[str, Any]:
    return dict(master_name='mymaster', sentinels=sentinels, sentinel_password='', tls={}, me=[me],
                config_file=str(config), timeout=timeout, interval=0.1, **extra)


def topology(nodes: NodeFactory, *sentinel_config: str) -> tuple[RedisNode, RedisNode, list[RedisNode]]:
    master = nodes.server()
    replica = nodes.replica(master)
    wait_for(lambda: link_up(replica), 'the replica link')
    sentinels = [nodes.sentinel(master, *sentinel_config, quorum=2) for _dummy in range(3)]
    for sentinel in sentinels:
        wait_for(lambda node=sentinel: sentinel_sees(node, replicas=1, others=2), 'the Sentinels to see each other')
    return master, replica, sentinels


def test_a_restarting_node_starts_as_replica_of_the_agreed_master(nodes: NodeFactory, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    master, _replica, sentinels = topology(nodes)
    port = free_port()
    conf = tmp_path / 'redis.conf'
    conf.write_text('port %d\nreplicaof 127.0.0.1 1\n' % port)
    assert start_guard.guard(settings([s.address for s in sentinels], '127.0.0.1:%d' % port, conf)) == 0
    assert 'replicaof 127.0.0.1 %d\n' % master.port in conf.read_text()
    assert '3 of 3 Sentinels agree that %s is the master' % master.address in capsys.readouterr().err
    # The file is what redis-server then starts from: it links to the agreed master.
    restarted = nodes.server(*conf.read_text().splitlines(), port=port)
    wait_for(lambda: link_up(restarted), 'the guarded node to link to the master')


def test_the_master_with_its_aof_resumes_as_master(nodes: NodeFactory, tmp_path: Path) -> None:
    master, _replica, sentinels = topology(nodes)
    data = aof_dir(nodes, 'yes').workdir
    conf = tmp_path / 'redis.conf'
    conf.write_text('dir "%s"\nappendonly yes\nreplicaof 127.0.0.1 1\n' % data)
    assert start_guard.guard(settings([s.address for s in sentinels], master.address, conf)) == 0
    assert 'replicaof' not in conf.read_text()


def test_the_master_without_aof_refuses_while_no_replica_is_promoted(nodes: NodeFactory, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    master, _replica, sentinels = topology(nodes)
    conf = tmp_path / 'redis.conf'
    conf.write_text('dir "%s"\nappendonly no\n' % tmp_path)
    # The Sentinels still see the master up (it answers): nobody gets promoted.
    assert start_guard.guard(settings([s.address for s in sentinels], master.address, conf, timeout=1)) == 1
    err = capsys.readouterr().err
    assert 'has no append-only file' in err and 'refusing to start as an empty master' in err
    assert conf.read_text() == 'dir "%s"\nappendonly no\n' % tmp_path


def test_the_master_without_aof_waits_for_the_promotion_then_follows_it(nodes: NodeFactory, tmp_path: Path) -> None:
    master, replica, sentinels = topology(nodes)
    conf = tmp_path / 'redis.conf'
    conf.write_text('dir "%s"\nappendonly no\n' % tmp_path)
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(start_guard.guard, settings([s.address for s in sentinels], master.address, conf))
        master.stop()   # the crash; the guard holds the restart until the Sentinels promote the replica
        assert waiting.result(timeout=60) == 0
    assert 'replicaof 127.0.0.1 %d\n' % replica.port in conf.read_text()


def test_the_master_seen_down_waits_for_the_promotion_even_with_its_aof(nodes: NodeFactory, tmp_path: Path) -> None:
    master, replica, sentinels = topology(nodes)
    data = aof_dir(nodes, 'yes').workdir
    conf = tmp_path / 'redis.conf'
    conf.write_text('dir "%s"\nappendonly yes\n' % data)
    master.stop()   # a reboot: down past down-after before the guard runs
    wait_for(lambda: any('s_down' in s.client().sentinel_master('mymaster')['flags'] for s in sentinels),
             'a Sentinel to see the master down')
    assert start_guard.guard(settings([s.address for s in sentinels], master.address, conf, timeout=60)) == 0
    assert 'replicaof 127.0.0.1 %d\n' % replica.port in conf.read_text()


@pytest.mark.parametrize('replica_state', ['down', 'priority 0'])
def test_the_master_seen_down_with_no_promotable_replica_resumes_as_master(nodes: NodeFactory, tmp_path: Path,
                                                                           replica_state: str) -> None:
    master, replica, sentinels = topology(nodes)
    data = aof_dir(nodes, 'yes').workdir
    conf = tmp_path / 'redis.conf'
    conf.write_text('dir "%s"\nappendonly yes\nreplicaof 127.0.0.1 1\n' % data)
    if replica_state == 'down':
        replica.stop()
        wait_for(lambda: all('s_down' in s.client().sentinel_slaves('mymaster')[0]['flags'] for s in sentinels),
                 'the Sentinels to see the replica down')
    else:
        replica.client().config_set('replica-priority', 0)
        wait_for(lambda: all(s.client().sentinel_slaves('mymaster')[0]['slave-priority'] == 0 for s in sentinels),
                 'the Sentinels to read replica-priority 0', timeout=30)
    master.stop()   # no replica to promote: no failover can follow
    wait_for(lambda: all('s_down' in s.client().sentinel_master('mymaster')['flags'] for s in sentinels),
             'the Sentinels to see the master down')
    assert start_guard.guard(settings([s.address for s in sentinels], master.address, conf, timeout=30)) == 0
    assert 'replicaof' not in conf.read_text()


def test_no_sentinel_monitoring_the_group_starts_as_written_at_once(nodes: NodeFactory, tmp_path: Path, closed_port: int) -> None:
    other = nodes.server()
    unknown = nodes.sentinel(other, quorum=1, name='othergroup')
    conf = tmp_path / 'redis.conf'
    conf.write_text('replicaof 127.0.0.1 6379\n')
    result = {}
    thread = threading.Thread(target=lambda: result.update(rc=start_guard.guard(
        settings([unknown.address, '127.0.0.1:%d' % closed_port], '127.0.0.1:6380', conf, timeout=600))))
    thread.start()
    thread.join(timeout=30)   # far below the guard's own timeout: it must not wait for it
    assert result == {'rc': 0}
    assert conf.read_text() == 'replicaof 127.0.0.1 6379\n'


def test_silent_sentinels_delay_the_start_until_the_timeout(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with socket.socket() as silent:   # accepts connections, never answers
        silent.bind(('127.0.0.1', 0))
        silent.listen(8)
        conf = tmp_path / 'redis.conf'
        conf.write_text('port 6380\n')
        address = '127.0.0.1:%d' % silent.getsockname()[1]
        assert start_guard.guard(settings([address], '127.0.0.1:6380', conf, timeout=1)) == 0
    err = capsys.readouterr().err
    assert 'no Sentinel verdict within 1s' in err and 'starting with %s as written' % conf in err


def test_sentinel_password_is_used(nodes: NodeFactory, tmp_path: Path) -> None:
    master = nodes.server()
    sentinel = nodes.sentinel(master, quorum=1)
    admin = sentinel.client()
    admin.execute_command('ACL', 'SETUSER', 'default', 'resetpass', '>' + PASSWORD)   # Sentinel's requirepass
    admin.close()
    conf = tmp_path / 'redis.conf'
    conf.write_text('port 1\n')
    guarded = settings([sentinel.address], '127.0.0.1:1', conf)
    assert start_guard.decide(start_guard.ask_all(dict(guarded, sentinel_password='wrong')), {'127.0.0.1:1'},
                              False).action == 'wait'
    assert start_guard.guard(dict(guarded, sentinel_password=PASSWORD)) == 0
    assert 'replicaof 127.0.0.1 %d\n' % master.port in conf.read_text()


def test_previous_sentinel_password_while_the_sentinel_has_the_old_one(nodes: NodeFactory, tmp_path: Path) -> None:
    """Phase 1 of a Sentinel password rotation: the inventory (and so the guard) has the new password
    first, a Sentinel not yet converged only the old one."""
    master = nodes.server()
    sentinel = nodes.sentinel(master, quorum=1)
    admin = sentinel.client()
    admin.execute_command('ACL', 'SETUSER', 'default', 'resetpass', '>' + PASSWORD)
    admin.close()
    conf = tmp_path / 'redis.conf'
    conf.write_text('port 1\n')
    guarded = dict(settings([sentinel.address], '127.0.0.1:1', conf), sentinel_password='new-one')
    assert start_guard.decide(start_guard.ask_all(guarded), {'127.0.0.1:1'}, False).action == 'wait'
    assert start_guard.guard(dict(guarded, sentinel_password_previous=PASSWORD)) == 0
    assert 'replicaof 127.0.0.1 %d\n' % master.port in conf.read_text()


def test_main_without_its_configuration_starts_as_written(tmp_path: Path) -> None:
    assert start_guard.main(['start-guard', str(tmp_path / 'missing.json')]) == 0
