# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Query a Sentinel with raw SENTINEL commands and judge what it reports.

redis-py's parsers for SENTINEL replies changed between versions, so the flat
RESP2 lists from ``execute_command`` are parsed here. The client must be created
with ``decode_responses=True``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from ansible_collections.redisops.sentinel.plugins.module_utils.address import AddressMatcher, format_address
from ansible_collections.redisops.sentinel.plugins.module_utils.agreement import MASTER_DOWN_FLAGS
from ansible_collections.redisops.sentinel.plugins.module_utils.client import ResponseError

NO_SUCH_MASTER = 'no such master with that name'
REPLICA_DOWN_FLAGS = ('s_down', 'disconnected')
SENTINEL_DOWN_FLAGS = ('s_down',)
_TEXT_KEYS = frozenset(('name', 'ip', 'runid', 'master-host'))
_INTEGER = re.compile(r'^-?\d+$')


def pairs_to_dict(flat: Sequence[Any]) -> dict[str, Any]:
    """Turn ``[key, value, key, value ...]`` into a dict: integers converted, flags split."""
    result: dict[str, Any] = {}
    for key, value in zip(flat[::2], flat[1::2]):
        key, value = str(key), str(value)
        if key == 'flags':
            result[key] = [flag for flag in value.split(',') if flag]
        elif key not in _TEXT_KEYS and _INTEGER.match(value):
            result[key] = int(value)
        else:
            result[key] = value
    return result


def node_address(node: dict[str, Any]) -> str:
    return format_address(node.get('ip', '?'), node.get('port', 0))


def is_healthy(node: dict[str, Any], down_flags: Sequence[str]) -> bool:
    return not any(flag in node.get('flags', []) for flag in down_flags)


def sentinel_tilt(client) -> bool:
    """Whether the Sentinel is in TILT mode (INFO sentinel): it takes no action until TILT ends."""
    return int(client.info('sentinel').get('sentinel_tilt', 0)) == 1


def sentinel_master(client, name: str) -> dict[str, Any] | None:
    """SENTINEL MASTER as a dict, None when the Sentinel monitors no master of that name."""
    try:
        return pairs_to_dict(client.execute_command('SENTINEL', 'MASTER', name))
    except ResponseError as exc:
        if NO_SUCH_MASTER in str(exc).lower():
            return None
        raise


def sentinel_replicas(client, name: str) -> list[dict[str, Any]]:
    """SENTINEL REPLICAS, falling back to SLAVES for servers older than Redis 5."""
    try:
        reply = client.execute_command('SENTINEL', 'REPLICAS', name)
    except ResponseError as exc:
        if NO_SUCH_MASTER in str(exc).lower():
            raise
        reply = client.execute_command('SENTINEL', 'SLAVES', name)
    return [pairs_to_dict(item) for item in reply]


def sentinel_sentinels(client, name: str) -> list[dict[str, Any]]:
    """SENTINEL SENTINELS: the other Sentinels monitoring that master."""
    return [pairs_to_dict(item) for item in client.execute_command('SENTINEL', 'SENTINELS', name)]


def sentinel_ckquorum(client, name: str) -> str:
    """The CKQUORUM answer: 'OK ...' when quorum and failover authorization are reachable."""
    try:
        return str(client.execute_command('SENTINEL', 'CKQUORUM', name))
    except ResponseError as exc:
        return str(exc)


def observe(client, name: str, check_quorum: bool) -> dict[str, Any]:
    """What the Sentinel knows about ``name``; ``master`` is None for an unknown name."""
    master = sentinel_master(client, name)
    if master is None:
        return dict(master=None, replicas=[], sentinels=[], ckquorum=None)
    return dict(
        master=master,
        replicas=sentinel_replicas(client, name),
        sentinels=sentinel_sentinels(client, name),
        ckquorum=sentinel_ckquorum(client, name) if check_quorum else None,
    )


@dataclass
class SentinelExpectation:
    name: str
    master: AddressMatcher | None = None
    replica_count: int | None = None
    replicas: list[AddressMatcher] = field(default_factory=list)
    # Total number of Sentinels, the queried one included.
    sentinel_count: int | None = None
    # Expected other Sentinels (the queried one left out).
    sentinels: list[AddressMatcher] = field(default_factory=list)
    check_quorum: bool = True


@dataclass
class SentinelReport:
    unmet: list[str] = field(default_factory=list)
    missing_replicas: list[str] = field(default_factory=list)
    unexpected_replicas: list[str] = field(default_factory=list)
    missing_sentinels: list[str] = field(default_factory=list)
    unexpected_sentinels: list[str] = field(default_factory=list)
    # Peers the Sentinel knows but considers down, "host:port" each.
    down_replicas: list[str] = field(default_factory=list)
    down_sentinels: list[str] = field(default_factory=list)


def _compare(healthy: list[dict[str, Any]], expected: list[AddressMatcher]) -> tuple[list[str], list[str]]:
    """Expected addresses not among the healthy nodes, healthy nodes not expected."""
    if not expected:
        return [], []
    missing = [str(m.expected) for m in expected
               if not any(m.matches(node.get('ip', ''), node.get('port')) for node in healthy)]
    unexpected = [node_address(node) for node in healthy
                  if not any(m.matches(node.get('ip', ''), node.get('port')) for m in expected)]
    return missing, unexpected


def _with_flags(nodes: list[dict[str, Any]]) -> list[str]:
    return ['%s (%s)' % (node_address(node), ','.join(node.get('flags', []))) for node in nodes]


def evaluate(state: dict[str, Any], expect: SentinelExpectation) -> SentinelReport:
    """Compare what the Sentinel reports with what is expected."""
    report = SentinelReport()
    if not state:
        report.unmet.append('no answer from the Sentinel')
        return report
    master = state['master']
    if master is None:
        report.unmet.append(
            "the Sentinel reports 'No such master with that name' for %r: the 'sentinel monitor %s ...' "
            'line is missing from its configuration or uses a different master name'
            % (expect.name, expect.name))
        return report
    _evaluate_master(master, expect, report)
    _evaluate_replicas(state['replicas'], expect, report)
    _evaluate_sentinels(state['sentinels'], expect, report)
    ckquorum = state.get('ckquorum')
    if expect.check_quorum and not (ckquorum or '').startswith('OK'):
        report.unmet.append('SENTINEL CKQUORUM %s failed: %s' % (expect.name, ckquorum))
    return report


def _evaluate_master(master: dict[str, Any], expect: SentinelExpectation, report: SentinelReport) -> None:
    address = node_address(master)
    if expect.master and not expect.master.matches(master.get('ip', ''), master.get('port')):
        report.unmet.append('master is %s, expected %s' % (address, expect.master.expected))
    down = [flag for flag in MASTER_DOWN_FLAGS if flag in master.get('flags', [])]
    if down:
        report.unmet.append('master %s has flags %s (%s)'
                            % (address, ','.join(master.get('flags', [])), ', '.join(down)))


def _evaluate_replicas(replicas: list[dict[str, Any]], expect: SentinelExpectation,
                       report: SentinelReport) -> None:
    healthy = [node for node in replicas if is_healthy(node, REPLICA_DOWN_FLAGS)]
    report.down_replicas = _with_flags([node for node in replicas if node not in healthy])
    report.missing_replicas, report.unexpected_replicas = _compare(healthy, expect.replicas)
    wanted = expect.replica_count
    if wanted is not None and len(healthy) != wanted:
        report.unmet.append('%d healthy replica(s) known to the Sentinel, expected %d'
                            % (len(healthy), wanted))
    if report.missing_replicas:
        report.unmet.append('missing replica(s): %s' % ', '.join(report.missing_replicas))
    if report.unexpected_replicas:
        report.unmet.append('unexpected replica(s): %s' % ', '.join(report.unexpected_replicas))
    if report.down_replicas and report.unmet:
        report.unmet.append('replica(s) the Sentinel considers down: %s' % ', '.join(report.down_replicas))


def _evaluate_sentinels(sentinels: list[dict[str, Any]], expect: SentinelExpectation,
                        report: SentinelReport) -> None:
    healthy = [node for node in sentinels if is_healthy(node, SENTINEL_DOWN_FLAGS)]
    report.down_sentinels = _with_flags([node for node in sentinels if node not in healthy])
    report.missing_sentinels, report.unexpected_sentinels = _compare(healthy, expect.sentinels)
    wanted = expect.sentinel_count
    if wanted is not None and len(healthy) + 1 != wanted:
        report.unmet.append('%d Sentinel(s) (this one and %d other(s) not down), expected %d'
                            % (len(healthy) + 1, len(healthy), wanted))
    if report.missing_sentinels:
        report.unmet.append('missing Sentinel(s): %s' % ', '.join(report.missing_sentinels))
    if report.unexpected_sentinels:
        report.unmet.append('unexpected Sentinel(s): %s' % ', '.join(report.unexpected_sentinels))
    if report.down_sentinels and report.unmet:
        report.unmet.append('Sentinel(s) considered down: %s' % ', '.join(report.down_sentinels))
