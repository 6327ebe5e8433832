# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether the Sentinels of one master group agree on its master, and whether they are moving it.

The rules are stated here once for every plugin that acts on the master the Sentinels agree on:
sentinel_failover (its checks before SENTINEL FAILOVER and its wait for the new master), the
live_master filter (may the roles follow the running topology now), topology_info (do the
Sentinels agree) and the recovery plan of recover_info (module_utils/recovery.py). What each
Sentinel reports about the group (module_utils/sentinel.py reads it) is a Vote; each caller words
the outcome for its own users. Only address.py is imported, so that the filter loads on the
controller without the Redis client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ansible_collections.redisops.sentinel.plugins.module_utils.address import format_address

FAILOVER_IN_PROGRESS = 'failover_in_progress'
# Flags of a master while Sentinel moves the group: objectively down (a failover is about to start) or failing over.
TRANSITION_FLAGS = ('o_down', FAILOVER_IN_PROGRESS)
# Those, or the master subjectively down for one Sentinel: a switchover neither starts nor ends while one is set.
MASTER_DOWN_FLAGS = ('s_down',) + TRANSITION_FLAGS


@dataclass(frozen=True)
class Vote:
    """What one Sentinel reports about one master group."""

    # The Sentinel, host:port.
    address: str
    # The master it follows, host:port; None when it did not answer or monitors no group of that name.
    master: str | None = None
    # The flags it sets on that master (master, s_down, o_down, failover_in_progress ...).
    flags: tuple[str, ...] = ()
    # Whether it is in TILT mode.
    tilt: bool = False
    # Why it did not answer; None when it answered.
    error: str | None = None
    # How many Sentinels it knows for the group, itself included (num-other-sentinels + 1).
    known: int = 1

    @classmethod
    def from_master(cls, address: str, master: Mapping[str, Any] | None, tilt: bool = False) -> Vote:
        """The vote of a Sentinel that answered, from its SENTINEL MASTER reply (None: it monitors no such group)."""
        if master is None:
            return cls(address, tilt=tilt)
        return cls(address, format_address(master['ip'], master['port']), tuple(master.get('flags') or ()), tilt,
                   known=int(master.get('num-other-sentinels') or 0) + 1)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Vote:
        """The vote in a Sentinel row of a topology_info group report."""
        error = None if row.get('reachable') else row.get('error') or 'no answer'
        return cls(row['address'], row.get('master'), tuple(row.get('flags') or ()), bool(row.get('tilt')), error,
                   int(row.get('num_other_sentinels') or 0) + 1)

    @property
    def answered(self) -> bool:
        return self.error is None

    @property
    def moving(self) -> bool:
        """Sentinel moves the group: it fails the master over, or is about to (the master is objectively down)."""
        return any(flag in self.flags for flag in TRANSITION_FLAGS)

    @property
    def failing_over(self) -> bool:
        return FAILOVER_IN_PROGRESS in self.flags

    @property
    def master_down(self) -> bool:
        """The Sentinel flags the master down, subjectively or objectively, or fails it over."""
        return any(flag in self.flags for flag in MASTER_DOWN_FLAGS)


def tilted(votes: Sequence[Vote]) -> list[str]:
    """The Sentinels in TILT mode (a clock jump or an overload): they take no action and their view may be stale."""
    return [vote.address for vote in votes if vote.tilt]


def moving(votes: Sequence[Vote]) -> list[str]:
    """The Sentinels that see the master objectively down or fail it over: the group is in transition."""
    return [vote.address for vote in votes if vote.moving]


def masters_seen(votes: Sequence[Vote]) -> list[str]:
    """The masters the Sentinels follow, each once, sorted; more than one: they disagree."""
    return sorted({vote.master for vote in votes if vote.master})


def agreed_master(votes: Sequence[Vote]) -> str | None:
    """The master every Sentinel that answered follows; None when one of them follows another one, or none."""
    seen = masters_seen(votes)
    if len(seen) != 1 or any(vote.master != seen[0] for vote in votes if vote.answered):
        return None
    return seen[0]


def known_sentinels(votes: Sequence[Vote]) -> int:
    """How many Sentinels monitor the group: the most any of these Sentinels knows, itself included."""
    return max((vote.known for vote in votes), default=0)


def is_majority(count: int, total: int) -> bool:
    """More than half: what Sentinel needs to authorise a failover, and what the roles need to trust a view."""
    return count * 2 > total
