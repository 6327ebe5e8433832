# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Normalise INFO replication and decide whether a replica is in sync."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ansible_collections.redisops.sentinel.plugins.module_utils.address import AddressMatcher, format_address

REPLICA_FIELDS = (
    'role', 'master_host', 'master_port', 'master_link_status', 'master_sync_in_progress',
    'slave_repl_offset', 'master_last_io_seconds_ago', 'master_link_down_since_seconds',
)
MASTER_FIELDS = ('role', 'connected_slaves', 'master_repl_offset')
_TEXT_FIELDS = ('role', 'master_host', 'master_link_status')


def _normalise(key: str, value: Any) -> Any:
    """redis-py turns numeric-looking INFO values into numbers: undo that for text, force ints."""
    if key in _TEXT_FIELDS:
        return str(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def replication_state(info: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an ``info('replication')`` dict that describe this node's replication."""
    fields = REPLICA_FIELDS if info.get('role') == 'slave' else MASTER_FIELDS
    return {key: _normalise(key, info[key]) for key in fields if key in info}


def master_repl_offset(info: Mapping[str, Any]) -> int:
    return int(info['master_repl_offset'])


@dataclass
class ReplicaExpectation:
    master: AddressMatcher | None = None
    max_lag_bytes: int | None = None

    def describe(self) -> str:
        parts = ['role slave', 'master_link_status up', 'master_sync_in_progress 0']
        if self.master:
            parts.append('master %s' % str(self.master.expected))
        if self.max_lag_bytes is not None:
            parts.append('lag at most %d bytes' % self.max_lag_bytes)
        return ', '.join(parts)


def replica_unmet(state: Mapping[str, Any], expect: ReplicaExpectation) -> list[str]:
    """Readable list of the conditions the observed state does not meet (empty: ready)."""
    if not state:
        return ['no replication state observed']
    if state.get('role') != 'slave':
        return ['role is %s, expected slave (the node does not replicate: replicaof not set)'
                % state.get('role')]
    unmet = []
    reported = format_address(state.get('master_host', '?'), state.get('master_port', 0))
    if expect.master and not expect.master.matches(state.get('master_host', ''), state.get('master_port')):
        unmet.append('replicates from %s, expected %s' % (reported, expect.master.expected))
    if state.get('master_link_status') != 'up':
        down = state.get('master_link_down_since_seconds')
        since = ' for %ss' % down if isinstance(down, int) and down >= 0 else ''
        unmet.append('master_link_status is %s%s, expected up (link to %s)'
                     % (state.get('master_link_status'), since, reported))
    if state.get('master_sync_in_progress') != 0:
        unmet.append('master_sync_in_progress is %s, expected 0 (initial sync running)'
                     % state.get('master_sync_in_progress'))
    if expect.max_lag_bytes is not None:
        lag = state.get('lag_bytes')
        if lag is None:
            unmet.append('replication lag not measured (master not reachable from this host yet)')
        elif lag > expect.max_lag_bytes:
            unmet.append('lag is %d bytes, expected at most %d' % (lag, expect.max_lag_bytes))
    return unmet
