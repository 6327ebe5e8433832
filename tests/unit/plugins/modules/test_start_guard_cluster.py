# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The start guard of a cluster node (roles/redis/files/start_guard.py, settings with ``cluster``): a node that
would start empty waits while its peers still count on a master at its address that a replica could replace.
Tables for the decision, and real cluster-enabled redis-server processes for the waits."""

from __future__ import annotations

import importlib.util
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conftest import NodeFactory, RedisNode, wait_for
from test_cluster_modules import SETTLE_TIMEOUT, command, form, known, myid, settled, start

GUARD_PATH = Path(__file__).resolve().parents[4] / 'roles' / 'redis' / 'files' / 'start_guard.py'
_spec = importlib.util.spec_from_file_location('start_guard', GUARD_PATH)
start_guard = sys.modules['start_guard'] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(start_guard)
Holder, holders, decide_cluster = start_guard.Holder, start_guard.holders, start_guard.decide_cluster

NODES = '''\
m1 10.0.0.1:6379@16379,host-1 master - 0 0 1 connected 0-5460 [5461->-b2]
b2 10.0.0.2:6379@16379 myself,master - 0 0 2 connected 5461-10922
c3 10.0.0.3:6379@16379 master - 0 0 3 connected 10923-16383
r1 10.0.0.4:6379@16379 slave m1 0 0 1 connected
r3 10.0.0.5:6379@16379 slave,fail c3 0 0 3 connected
v6 2001:db8::7:6379@16379 master - 0 0 4 connected 7
w6 2001:db8::8:6379@16379 slave v6 0 0 4 connected
gone :0@0 master,noaddr - 0 0 5 connected 8
'''


@pytest.mark.parametrize('me, my_id, expected', [
    # At this address: a master with slots and a live replica (the open slot marker is not a slot).
    ({'10.0.0.1:6379'}, None, [Holder('p', 'm1', 5461, 1)]),
    # Its only replica is flagged failed: no one to hand an empty data set to.
    ({'10.0.0.3:6379'}, None, []),
    # A master without a replica, or a replica, at this address.
    ({'10.0.0.2:6379'}, None, []),
    ({'10.0.0.4:6379'}, None, []),
    # IPv6, as CLUSTER NODES writes it (no brackets); the node is matched by its id as well.
    ({'[2001:db8::7]:6379'}, None, [Holder('p', 'v6', 1, 1)]),
    ({'10.9.9.9:6379'}, 'm1', [Holder('p', 'm1', 5461, 1)]),
    # A node without an address is never "here".
    ({':0'}, None, []),
])
def test_holders(me: set[str], my_id: str | None, expected: list) -> None:
    assert holders('p', NODES, me, my_id) == expected


@pytest.mark.parametrize('answers, fresh, has_aof, action', [
    ([[Holder('p', 'm1', 5461, 1)], 'q: timed out'], True, False, 'wait-empty'),
    ([[Holder('p', 'm1', 5461, 1)]], False, False, 'wait-empty'),
    # The node knows who it is and has its data: at once, whatever the peers say.
    ([[Holder('p', 'm1', 5461, 1)]], False, True, 'as-written'),
    ([[], 'q: connection refused'], True, False, 'as-written'),
    (['p: connection refused'], True, False, 'as-written'),
])
def test_decide_cluster(answers: list, fresh: bool, has_aof: bool, action: str) -> None:
    assert decide_cluster(answers, fresh, has_aof).action == action


def test_cluster_identity_reads_nodes_conf(tmp_path: Path) -> None:
    conf = tmp_path / 'redis.conf'
    conf.write_text('dir "%s"\ncluster-config-file nodes-7000.conf\n' % tmp_path)
    assert start_guard.cluster_identity(str(conf)) == (True, None)
    (tmp_path / 'nodes-7000.conf').write_text('')
    assert start_guard.cluster_identity(str(conf)) == (True, None)
    (tmp_path / 'nodes-7000.conf').write_text(NODES + 'vars currentEpoch 5 lastVoteEpoch 0\n')
    assert start_guard.cluster_identity(str(conf)) == (False, 'b2')


# --- against a real cluster -----------------------------------------------------------------

def guard_settings(peers: list[RedisNode], me: RedisNode, config: Path, timeout: float = 60) -> dict[str, Any]:
    return dict(master_name='', sentinels=[], sentinel_password='', tls={}, me=[me.address],
                config_file=str(config), timeout=timeout, interval=0.2,
                cluster=dict(peers=[node.address for node in peers], user='', password=''))


@pytest.fixture
def four(nodes: NodeFactory) -> list[RedisNode]:
    """Three masters with every slot, and a replica of the first."""
    members = start(nodes, 4)
    form(members, 3, {3: 0})
    wait_for(lambda: settled(members, 16384), 'the cluster to settle', SETTLE_TIMEOUT)
    return members


def wiped(tmp_path: Path) -> Path:
    """The configuration of a node whose data directory is empty (no nodes.conf, no AOF)."""
    conf = tmp_path / 'redis.conf'
    conf.write_text('dir "%s"\ncluster-enabled yes\nappendonly yes\n' % tmp_path)
    return conf


def test_a_wiped_master_refuses_while_the_cluster_counts_on_it(four: list[RedisNode], tmp_path: Path,
                                                               capsys: pytest.CaptureFixture) -> None:
    # The master still answers (the cluster sees it up): no failover comes, the guard refuses at its timeout.
    assert start_guard.guard(guard_settings(four, four[0], wiped(tmp_path), timeout=1)) == 1
    err = capsys.readouterr().err
    assert 'lists master %s at this node with 5461 slots and 1 live replica' % myid(four[0]) in err
    assert 'refusing to start empty' in err


def test_a_wiped_master_waits_until_its_replica_took_over(four: list[RedisNode], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    old, replica = myid(four[0]), myid(four[3])
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(start_guard.guard, guard_settings(four, four[0], wiped(tmp_path)))
        four[0].stop()   # the wiped host: its node is gone, the guard holds the fresh one
        assert waiting.result(timeout=60) == 0
    assert 'Waiting until the cluster fails the master over' in capsys.readouterr().err
    rows = {row[0]: row for row in known(four[1])}
    assert 'master' in rows[replica][2] and rows[replica][8:], 'the replica does not serve the slots'
    assert not rows[old][8:], 'the old master still has slots'


def test_a_wiped_master_without_a_replica_starts_at_once(four: list[RedisNode], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    four[1].stop()
    assert start_guard.guard(guard_settings(four, four[1], wiped(tmp_path), timeout=30)) == 0
    assert 'no peer counts on a master here' in capsys.readouterr().err


def test_a_node_with_its_identity_and_aof_starts_at_once(four: list[RedisNode], tmp_path: Path) -> None:
    conf = wiped(tmp_path)
    (tmp_path / 'nodes.conf').write_text(command(four[0], 'CLUSTER', 'NODES'))
    (tmp_path / 'appendonlydir').mkdir()
    (tmp_path / 'appendonlydir' / 'appendonly.aof.manifest').write_text('')
    assert start_guard.guard(guard_settings(four, four[0], conf, timeout=1)) == 0
