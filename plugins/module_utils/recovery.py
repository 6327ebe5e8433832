# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide how to recover a master group the Sentinels cannot lead: pure functions over the
replication state of its data nodes and the views of its Sentinels.

The data a node holds is named by its replication history, as Redis names it for partial
resynchronisation: a replication id and an offset. A node's own history is its
``master_replid`` up to ``master_repl_offset``; a node that was promoted (``REPLICAOF NO
ONE``, or a restart that loaded its replication state) also keeps the history it had before,
``master_replid2`` up to ``second_repl_offset - 1`` (Redis sets ``second_repl_offset`` to the
promotion offset plus one, and accepts ``PSYNC replid2 offset`` only below it).

Node A *covers* node B when the data B holds is a prefix of A's history:

- they share B's current id and A is at least as far: ``A.replid == B.replid and
  A.offset >= B.offset``;
- or A was promoted after B's position in B's history: ``A.replid2 == B.replid and
  A.second_repl_offset > B.offset``;
- or B was promoted and took nothing since (``B.offset == B.second_repl_offset - 1``): B then
  holds exactly its former history at that offset, and the two rules above apply to
  ``(B.replid2, B.offset)`` as well;
- or B holds nothing at all (offset 0 and no key).

The node to recover from must cover every other answering node. Nodes that cover each other
hold the same data; among them the inventory's bootstrap master is preferred, else the first by
inventory name. When no node covers all the others their histories diverged, and only a person
can choose which writes to give up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ansible_collections.redisops.sentinel.plugins.module_utils.agreement import (
    Vote, agreed_master as votes_agree, is_majority, tilted)

# INFO replication reports this id when a node has no previous history.
NO_REPLID = '0' * 40
NONE, RECOVER, REFUSE = 'none', 'recover', 'refuse'


def replication_id(value: Any) -> str:
    """A replication id as INFO shows it: redis-py turns an id of decimal digits into an int."""
    if value is None:
        return ''
    return str(value).zfill(40) if isinstance(value, int) else str(value)


@dataclass(frozen=True)
class NodeState:
    """The replication state of one data node, or why it did not answer."""

    name: str
    address: str
    reachable: bool = True
    error: str | None = None
    role: str = ''
    master: str | None = None
    link: str | None = None
    replid: str = ''
    offset: int = 0
    replid2: str = ''
    second_offset: int = -1
    keys: int = 0

    @property
    def has_replid2(self) -> bool:
        return bool(self.replid2) and self.replid2 != NO_REPLID

    @property
    def empty(self) -> bool:
        return self.offset == 0 and self.keys == 0

    def positions(self) -> list[tuple[str, int]]:
        """The (replication id, offset) pairs that name the data this node holds."""
        names = [(self.replid, self.offset)]
        if self.has_replid2 and self.offset == self.second_offset - 1:
            names.append((self.replid2, self.offset))
        return names

    def holds(self, replid: str, offset: int) -> bool:
        """Whether the history of this node contains the position (replid, offset)."""
        if replid == self.replid:
            return offset <= self.offset
        return self.has_replid2 and replid == self.replid2 and offset < self.second_offset

    def describe(self) -> str:
        if not self.reachable:
            return '%s (%s): does not answer: %s' % (self.name, self.address, self.error)
        role = 'master' if self.role == 'master' else 'replica of %s, link %s' % (self.master, self.link)
        history = 'master_replid %s, master_repl_offset %d' % (self.replid, self.offset)
        if self.has_replid2:
            history += ', master_replid2 %s, second_repl_offset %d' % (self.replid2, self.second_offset)
        else:
            history += ', no master_replid2'
        return '%s (%s): %s, %s, %d keys' % (self.name, self.address, role, history, self.keys)


def node_state(name: str, address: str, replication: Mapping[str, Any], keyspace: Mapping[str, Any]) -> NodeState:
    """A NodeState from ``INFO replication`` and ``INFO keyspace`` as redis-py parses them."""
    role = str(replication.get('role', ''))
    master, link = None, None
    if role == 'slave':
        master = '%s:%s' % (replication.get('master_host', '?'), replication.get('master_port', '?'))
        link = str(replication.get('master_link_status', ''))
    keys = sum(int(db.get('keys', 0)) for db in keyspace.values() if isinstance(db, Mapping))
    return NodeState(name=name, address=address, role=role, master=master, link=link,
                     replid=replication_id(replication.get('master_replid')),
                     offset=int(replication.get('master_repl_offset', 0)),
                     replid2=replication_id(replication.get('master_replid2')),
                     second_offset=int(replication.get('second_repl_offset', -1)), keys=keys)


def unreachable(name: str, address: str, error: str) -> NodeState:
    return NodeState(name=name, address=address, reachable=False, error=error)


def covers(a: NodeState, b: NodeState) -> bool:
    """Whether node ``a`` holds all the data node ``b`` holds (see the module docstring)."""
    return a is b or b.empty or any(a.holds(replid, offset) for replid, offset in b.positions())


def same_data(one: NodeState, other: NodeState) -> bool:
    return covers(one, other) and covers(other, one)


@dataclass(frozen=True)
class SentinelView:
    """What one Sentinel reports for the group: the master it follows (None: none), or an error."""

    address: str
    reachable: bool
    master: str | None = None
    flags: tuple[str, ...] = ()
    tilt: bool = False
    error: str | None = None

    @property
    def follows(self) -> bool:
        """Whether it answers and follows a master."""
        return self.reachable and bool(self.master)

    @property
    def vote(self) -> Vote:
        """This view in the terms of the agreement rules (module_utils/agreement.py)."""
        return Vote(self.address, self.master, self.flags, self.tilt,
                    None if self.reachable else self.error or 'no answer')

    def describe(self) -> str:
        if not self.reachable:
            return 'Sentinel %s: does not answer: %s' % (self.address, self.error)
        if not self.master:
            return 'Sentinel %s: monitors no such group%s' % (self.address, ': %s' % self.error if self.error else '')
        return 'Sentinel %s: follows %s, flags %s%s' % (self.address, self.master, ','.join(self.flags),
                                                        ', TILT' if self.tilt else '')


@dataclass
class Verdict:
    """What to do with one group: nothing, recover from ``pick``, or refuse (``reason`` says why)."""

    action: str
    reason: str
    pick: NodeState | None = None
    forced: bool = False
    # Answering nodes whose data the pick does not hold (only when it was forced).
    discarded: list[str] = field(default_factory=list)
    # Nodes left alone because they do not answer (ignore_unreachable).
    skipped: list[str] = field(default_factory=list)


def sentinel_hold(views: Sequence[SentinelView]) -> str | None:
    """Why the Sentinels must be left alone right now (TILT, a failover under way), or None. A master
    objectively down is what a recovery expects, so only a failover in progress holds it."""
    votes = [view.vote for view in views]
    if tilted(votes):
        return ('Sentinel(s) %s are in TILT mode (a clock jump or an overload): wait until TILT ends, 30 s after its '
                'cause, and run again.' % ', '.join(tilted(votes)))
    moving = [vote.address for vote in votes if vote.master and vote.failing_over]
    if moving:
        return ('a failover is in progress (seen by %s): Sentinel is promoting a replica itself. Wait until it ends '
                '(failover-timeout), and run again if the Sentinels still do not agree on a master.'
                % ', '.join(moving))
    return None


def agreed_master(views: Sequence[SentinelView], nodes: Sequence[NodeState], total: int) -> NodeState | None:
    """The node a majority of the ``total`` Sentinels follow, when every Sentinel that answers follows
    it and it answers with role master; None otherwise."""
    votes = [view.vote for view in views]
    address = votes_agree(votes)
    if address is None or not is_majority(sum(1 for vote in votes if vote.master == address), total):
        return None
    return next((node for node in nodes if node.address == address and node.reachable and node.role == 'master'),
                None)


def maximal(nodes: Sequence[NodeState]) -> list[NodeState]:
    """The nodes no other node strictly covers: one per diverging history (same data counted once)."""
    found: list[NodeState] = []
    for node in nodes:
        strictly_covered = any(covers(other, node) and not covers(node, other) for other in nodes)
        if not strictly_covered and not any(same_data(node, seen) for seen in found):
            found.append(node)
    return found


def preferred(candidates: Sequence[NodeState], bootstrap: str | None) -> NodeState:
    """The bootstrap master when it is among ``candidates``, else the first by inventory name."""
    return next((node for node in candidates if node.name == bootstrap), None) or min(
        candidates, key=lambda node: node.name)


def choose(nodes: Sequence[NodeState], bootstrap: str | None = None) -> Verdict:
    """Recover from the node that covers every other answering node, or refuse: ambiguous."""
    answering = [node for node in nodes if node.reachable]
    if not answering:
        return Verdict(REFUSE, 'no data node answers: start at least one and run again.')
    candidates = [node for node in answering if all(covers(node, other) for other in answering)]
    if candidates:
        pick = preferred(candidates, bootstrap)
        same = [node.name for node in candidates if node is not pick]
        reason = '%s holds the most recent data: its history contains that of every other answering node' % pick.name
        if same:
            reason += ' (%s hold the same data)' % ', '.join(same)
        return Verdict(RECOVER, reason + '.', pick=pick)
    diverging = maximal(answering)
    return Verdict(REFUSE, (
        'the histories of %s diverged: none of them holds all the data of the others, so recovering from any one '
        'of them discards the writes only the others have. Choose the node whose data to keep (compare the keys '
        'your clients wrote last on each) and run again with -e redis_recover_from=HOST: the writes only the other '
        'nodes hold are lost.'
        % ', '.join(node.name for node in diverging)))


def decide(nodes: Sequence[NodeState], views: Sequence[SentinelView], total: int, bootstrap: str | None = None,
           forced: str | None = None, ignore_unreachable: bool = False) -> Verdict:
    """The verdict for one group: its data nodes, its Sentinels' views and how many Sentinels it has."""
    hold = sentinel_hold(views)
    if hold:
        return Verdict(REFUSE, hold)
    agreed = agreed_master(views, nodes, total)
    if agreed:
        return Verdict(NONE, 'the Sentinels agree on master %s (%s), which answers as a master: nothing to recover.'
                       % (agreed.name, agreed.address))
    silent = [node.name for node in nodes if not node.reachable]
    if silent and not ignore_unreachable:
        return Verdict(REFUSE, (
            '%s do(es) not answer: a node that does not answer may hold newer data than any that does. Start it and '
            'run again, or, if it is lost for good, run with -e redis_recover_ignore_unreachable=true.'
            % ', '.join(silent)))
    verdict = forced_verdict(nodes, forced) if forced else choose(nodes, bootstrap)
    verdict.skipped = silent if verdict.action == RECOVER else []
    return verdict


def forced_verdict(nodes: Sequence[NodeState], forced: str) -> Verdict:
    """Recover from the node the operator named, listing the answering nodes whose data is discarded."""
    pick = next((node for node in nodes if forced in (node.name, node.address)), None)
    if pick is None or not pick.reachable:
        why = 'it does not answer' if pick else 'it is not a data node of this group'
        return Verdict(REFUSE, 'redis_recover_from is %s, but %s.' % (forced, why))
    discarded = [node.name for node in nodes if node.reachable and not covers(pick, node)]
    reason = '%s was chosen with redis_recover_from' % pick.name
    if discarded:
        reason += ': the writes that only %s hold are DISCARDED' % ', '.join(discarded)
    return Verdict(RECOVER, reason + '.', pick=pick, forced=True, discarded=discarded)
