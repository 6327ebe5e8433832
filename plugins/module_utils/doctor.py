# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The doctor's checks: pure functions over what the Sentinels, the data nodes and each host report.

Nothing here talks to a server. ``plugins/modules/doctor.py`` gathers the data; each check turns
it into findings, each with a severity, the node and values it saw (the evidence) and the fix.

The data of a master group (``GroupData``):

- ``nodes``: every data node of the group in the inventory, and the master the Sentinels follow when
  it is not one of them, as ``NodeData`` (``INFO``, ``CONFIG GET``, ``ACL DRYRUN`` answers);
- ``views``: what each Sentinel of the inventory reports of the group (``SENTINEL MASTER``,
  ``REPLICAS``, ``SENTINELS``), as ``SentinelView``.

Host-local data (``HostData``: the server's start log, the unit's restart policy, the clock) is
read on each host, a Sentinel group's data node or a Redis Cluster node, and judged by
:func:`host_findings`; the clocks are compared by :func:`clock_findings` once every host has reported.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Sequence

from ansible_collections.redisops.sentinel.plugins.module_utils.acl import SENTINEL_RULES
from ansible_collections.redisops.sentinel.plugins.module_utils.address import (
    AddressMatcher, format_address, host_aliases, parse_address)

ERROR, WARNING, INFO = 'error', 'warning', 'info'
SEVERITIES = (INFO, WARNING, ERROR)
# fail_on: the lowest severity that fails the run ('never': report only).
FAIL_ON = ('never', WARNING, ERROR)
# A replica Sentinel would not promote.
REPLICA_DOWN_FLAGS = ('s_down', 'o_down', 'disconnected')
# A peer that is gone: down for longer than down-after ('disconnected' alone also shows, briefly, right
# after Sentinel discovered a live peer).
GONE_FLAGS = ('s_down',)
# Host clocks further apart than this many seconds are reported.
MAX_CLOCK_SPREAD = 1.0

# The commands a Sentinel sends to the data nodes (sentinel.c: the periodic INFO, PING and hello
# messages, the failover's MULTI ... EXEC, SCRIPT KILL for a busy master), as ACL DRYRUN
# arguments. The roles grant them to redis_acl_sentinel_user; Redis 7 also checks the hello
# channel, which a user without '&__sentinel__:hello' (or allchannels) may not use.
SENTINEL_COMMANDS = (
    ('PING',),
    ('INFO',),
    ('ROLE',),
    ('CLIENT', 'SETNAME', 'sentinel-cmd'),
    ('SUBSCRIBE', '__sentinel__:hello'),
    ('PUBLISH', '__sentinel__:hello', 'hello'),
    ('MULTI',),
    ('SLAVEOF', 'NO', 'ONE'),
    ('SLAVEOF', '192.0.2.1', '6379'),
    ('CONFIG', 'REWRITE'),
    ('CLIENT', 'KILL', 'TYPE', 'normal'),
    ('CLIENT', 'KILL', 'TYPE', 'pubsub'),
    ('EXEC',),
    ('SCRIPT', 'KILL'),
)
# ACL DRYRUN exists from Redis 7.0 (Valkey reports redis_version 7.2.4).
DRYRUN_VERSION = (7, 0)

# What the server logs at start about kernel settings (Redis 6 to 8, Valkey).
START_MARKER = re.compile(r'oO0OoO0OoO0Oo [^\n]*?is starting')
KERNEL_WARNINGS = (
    ('overcommit', re.compile(r'overcommit', re.I),
     'set vm.overcommit_memory=1 (redis_tune_host: true does it), so that background saves and full '
     'syncs can fork under memory pressure'),
    ('transparent_huge_pages', re.compile(r'Transparent Huge Pages|THP', re.I),
     'turn transparent huge pages off (never, or madvise; redis_tune_host: true does it): they slow forks '
     'and add latency'),
    ('somaxconn', re.compile(r'somaxconn', re.I),
     'raise net.core.somaxconn to at least tcp-backlog (redis_tune_host: true does it)'),
)
# systemd Restart= values that start the server again after it exits on its own.
NO_RESTART = ('no', '')
# A crashed cluster master's unit waits at least this many cluster-node-timeouts before it starts the
# server again (the RestartSec= roles/redis/tasks/cluster_node.yml writes): the cluster flags the master
# failed after one and promotes its replica in the next, so the node rejoins as that replica's replica.
CLUSTER_RESTART_TIMEOUTS = 2
# The units of a time span as systemctl show prints it (RestartUSec=100ms, 1min 30s, 1.500s).
TIMESPAN_UNITS = {'us': 1e-6, 'ms': 1e-3, 's': 1.0, 'min': 60.0, 'h': 3600.0, 'd': 86400.0, 'w': 604800.0}
TIMESPAN_PART = re.compile(r'(\d+(?:\.\d+)?)(us|ms|min|s|h|d|w)?$')
# The start guard in an ExecStartPre= of systemctl show, and the settings file it is given.
GUARD_COMMAND = re.compile(r'start_guard\.py(?:\s+([^\s;]+))?')


@dataclass(frozen=True)
class Finding:
    """One thing the doctor found: what, how bad, where, the values seen, and what to do."""

    check: str
    severity: str
    node: str
    message: str
    fix: str
    group: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(asdict(self), evidence=dict(self.evidence))

    def line(self) -> str:
        where = '%s %s' % (self.group, self.node) if self.group else self.node
        return '%-7s %s: %s Fix: %s' % (self.severity.upper(), where, self.message, self.fix)


@dataclass
class NodeData:
    """A data node as the doctor read it (``reachable`` False: ``error`` says why)."""

    name: str
    address: str
    reachable: bool = True
    error: str | None = None
    in_inventory: bool = True
    role: str = ''
    replid: str = ''
    latest_fork_usec: int = 0
    version: str = ''
    config: Mapping[str, str] = field(default_factory=dict)
    # Sentinel's commands ACL DRYRUN refused, 'command: reason' each; None: not checked.
    acl_denied: list[str] | None = None
    acl_error: str | None = None


@dataclass
class SentinelView:
    """What one Sentinel reports of one master group (``master`` None: it monitors no such group)."""

    address: str
    reachable: bool = True
    error: str | None = None
    master: Mapping[str, Any] | None = None
    replicas: list[Mapping[str, Any]] = field(default_factory=list)
    sentinels: list[Mapping[str, Any]] = field(default_factory=list)


@dataclass
class GroupData:
    name: str
    nodes: list[NodeData]
    views: list[SentinelView]
    # The Sentinels of the inventory, host:port each.
    inventory_sentinels: list[str] = field(default_factory=list)
    # The Sentinel's user on the data nodes ('default' without ACL mode).
    sentinel_user: str = 'default'


def reported(entry: Mapping[str, Any]) -> str:
    """host:port of a node a Sentinel reports."""
    return format_address(str(entry.get('ip', '?')), int(entry.get('port', 0)))


def is_down(entry: Mapping[str, Any], flags: Sequence[str]) -> bool:
    return any(flag in entry.get('flags', []) for flag in flags)


def _matchers(addresses: Iterable[str], default_port: int) -> list[AddressMatcher]:
    return [AddressMatcher(parse_address(text, default_port)) for text in addresses]


def _known(entry: Mapping[str, Any], matchers: list[AddressMatcher]) -> bool:
    return any(matcher.matches(str(entry.get('ip', '')), int(entry.get('port', 0))) for matcher in matchers)


def agreed_master(group: GroupData) -> str | None:
    """The master most Sentinels that answer follow."""
    seen = Counter(reported(view.master) for view in group.views if view.reachable and view.master)
    return seen.most_common(1)[0][0] if seen else None


def master_node(group: GroupData) -> NodeData | None:
    address = agreed_master(group)
    if address is None:
        return None
    host, port = parse_address(address, 6379)
    for node in group.nodes:
        if node.reachable and AddressMatcher(parse_address(node.address, 6379)).matches(host, port):
            return node
    return None


# Checks over the data of the master groups.

def unreachable_findings(group: GroupData) -> list[Finding]:
    out = [Finding('unreachable', ERROR, node.name, 'data node %s does not answer: %s.' % (node.address, node.error),
                   'Start it, or check its address, port, firewall and credentials (status.yml shows the same).',
                   group.name, dict(address=node.address, error=node.error))
           for node in group.nodes if not node.reachable and node.in_inventory]
    out += [Finding('unreachable', ERROR, view.address, 'Sentinel %s does not answer: %s.' % (view.address, view.error),
                    'Start it, or check its address, port, firewall and redis_sentinel_password.',
                    group.name, dict(address=view.address, error=view.error))
            for view in group.views if not view.reachable]
    out += [Finding('unreachable', ERROR, view.address,
                    'Sentinel %s monitors no master group named %s.' % (view.address, group.name),
                    'Run site.yml: it adds the group with SENTINEL MONITOR.', group.name, dict(address=view.address))
            for view in group.views if view.reachable and view.master is None]
    return out


def _outsiders(group: GroupData, listed: str,
               inventory: list[AddressMatcher]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Entries of each Sentinel's ``listed`` list (sentinels or replicas) that the inventory does not
    name, split into those down (gone) and those up, each with the Sentinels that list it."""
    gone: dict[str, list[str]] = {}
    live: dict[str, list[str]] = {}
    for view in group.views:
        for entry in getattr(view, listed):
            if _known(entry, inventory):
                continue
            target = gone if is_down(entry, GONE_FLAGS) else live
            target.setdefault(reported(entry), []).append(view.address)
    return gone, live


def sentinel_peer_findings(group: GroupData) -> list[Finding]:
    """Sentinels a Sentinel counts that are not in the inventory: gone (stale) or of another deployment."""
    stale, foreign = _outsiders(group, 'sentinels', _matchers(group.inventory_sentinels, 26379))
    out = [Finding('stale_sentinel', WARNING, address,
                   'Sentinel %s is gone but %s still count(s) it, so the quorum and majority are computed over too '
                   'many Sentinels.' % (address, ', '.join(by)),
                   'Run site.yml (it resets Sentinels that count peers which left redis_sentinel), or SENTINEL RESET '
                   '%s on each Sentinel, one at a time, waiting until it sees the others again.' % group.name,
                   group.name, dict(listed_by=by))
           for address, by in sorted(stale.items())]
    out += [Finding('foreign_sentinel', ERROR, address,
                    'Sentinel %s, which is not in redis_sentinel, monitors this group: %s count(s) it, it votes in '
                    'failovers and counts for the quorum (another deployment watching the same master by the same name?).'
                    % (address, ', '.join(by)),
                    'Remove the group from that Sentinel (SENTINEL REMOVE %s there, or give that deployment another '
                    'master name), then SENTINEL RESET %s on each of ours, one at a time; or add it to '
                    'redis_sentinel if it belongs to this topology.' % (group.name, group.name),
                    group.name, dict(listed_by=by))
            for address, by in sorted(foreign.items())]
    return out


def replica_list_findings(group: GroupData) -> list[Finding]:
    """Replicas a Sentinel lists that are not data nodes of the inventory."""
    stale, unknown = _outsiders(group, 'replicas',
                                _matchers([node.address for node in group.nodes if node.in_inventory], 6379))
    out = [Finding('stale_replica', WARNING, address,
                   'replica %s is gone but %s still list(s) it (down).' % (address, ', '.join(by)),
                   'SENTINEL RESET %s on each Sentinel, one at a time, waiting until SENTINEL REPLICAS lists only the '
                   'live replicas (docs/operations.md, Remove a replica).' % group.name,
                   group.name, dict(listed_by=by))
           for address, by in sorted(stale.items())]
    out += [Finding('unknown_replica', WARNING, address,
                    'replica %s replicates the master but is no data node of the inventory; Sentinel may promote it.'
                    % address,
                    'Add it to redis_replica, or point it elsewhere (REPLICAOF) and SENTINEL RESET %s on each '
                    'Sentinel, one at a time.' % group.name, group.name, dict(listed_by=by))
            for address, by in sorted(unknown.items())]
    return out


def _duplicates(addresses: Iterable[str], default_port: int,
                aliases: Callable[[str], frozenset]) -> list[list[str]]:
    """Sets of addresses that are one host and port written differently (a name and an IP address)."""
    unique = sorted(set(addresses))
    parsed = [parse_address(text, default_port) for text in unique]
    sets: list[list[str]] = []
    for index, first in enumerate(parsed):
        same = [str(other) for other in parsed[index + 1:]
                if other.port == first.port and other.host.lower() != first.host.lower()
                and aliases(other.host) & aliases(first.host)]
        if same and not any(str(first) in found for found in sets):
            sets.append([str(first)] + same)
    return sets


def duplicate_address_findings(group: GroupData,
                               aliases: Callable[[str], frozenset] = host_aliases) -> list[Finding]:
    """One node listed under a host name and under an IP address, by a Sentinel or by the inventory."""
    lists = [('the inventory', [node.address for node in group.nodes if node.in_inventory], 6379),
             ('the inventory', list(group.inventory_sentinels), 26379)]
    for view in group.views:
        entries = ([view.master] if view.master else []) + view.replicas
        lists.append(('Sentinel %s' % view.address, [reported(entry) for entry in entries], 6379))
        lists.append(('Sentinel %s' % view.address, [reported(entry) for entry in view.sentinels], 26379))
    out = []
    for source, addresses, port in lists:
        for same in _duplicates(addresses, port, aliases):
            out.append(Finding(
                'duplicate_address', WARNING, same[0],
                '%s lists one node as %s: under a host name and an IP address it counts it twice (one entry '
                'stays down, or a vote is counted twice).' % (source, ' and '.join(same)),
                'Name every node one way: IP addresses everywhere, or host names everywhere with '
                'redis_sentinel_resolve_hostnames; then SENTINEL RESET %s on each Sentinel, one at a time.'
                % group.name, group.name, dict(source=source, addresses=same)))
    return out


def foreign_replid_findings(groups: Sequence[GroupData]) -> list[Finding]:
    """Data nodes of one group that hold the replication history of another group's master."""
    owners: dict[str, str] = {}
    for group in groups:
        master = master_node(group)
        if master is not None and master.replid:
            owners.setdefault(master.replid, group.name)
    out = []
    for group in groups:
        for node in group.nodes:
            owner = owners.get(node.replid) if node.reachable else None
            if owner is None or owner == group.name:
                continue
            out.append(Finding(
                'foreign_replid', ERROR, node.name,
                'data node %s of group %s holds replication id %s, the history of the %s master: it replicates '
                'the other group\'s data.' % (node.address, group.name, node.replid, owner),
                'Check its redis_master_name and replicaof; point it at the %s master (REPLICAOF) or move it to the '
                '%s group in the inventory.' % (group.name, owner),
                group.name, dict(address=node.address, master_replid=node.replid, owner=owner)))
    return out


def _priority(replica: Mapping[str, Any]) -> int:
    return int(replica.get('slave-priority', replica.get('replica-priority', 100)))


def promotable_findings(group: GroupData) -> list[Finding]:
    """A group none of whose replicas Sentinel could promote."""
    view = next((view for view in group.views if view.reachable and view.master), None)
    if view is None:
        return []
    candidates = [replica for replica in view.replicas
                  if not is_down(replica, REPLICA_DOWN_FLAGS) and replica.get('master-link-status') == 'ok'
                  and _priority(replica) > 0]
    if candidates:
        return []
    evidence = {reported(replica): dict(priority=_priority(replica), flags=list(replica.get('flags', [])),
                                        link=replica.get('master-link-status')) for replica in view.replicas}
    return [Finding('no_promotable_replica', ERROR, reported(view.master),
                    'no replica Sentinel %s knows could be promoted (each has replica-priority 0, is down or not '
                    'linked, or there is none): a failure of the master leaves the group without a master.'
                    % view.address,
                    'Give at least one replica a redis_replica_priority above 0 and make sure it is linked '
                    '(status.yml), then re-run site.yml.', group.name, dict(replicas=evidence, sentinel=view.address))]


def fork_findings(group: GroupData) -> list[Finding]:
    """A down-after shorter than the master's last fork: a snapshot can trigger a failover."""
    master = master_node(group)
    after = [(int(view.master.get('down-after-milliseconds', 0)), view.address)
             for view in group.views if view.reachable and view.master]
    if master is None or not after or not master.latest_fork_usec:
        return []
    shortest, sentinel = min(after)
    if master.latest_fork_usec < shortest * 1000:
        return []
    return [Finding('down_after_below_fork', WARNING, master.name,
                    'the master\'s last fork took %.1f ms, Sentinel %s declares it down after %d ms: the next '
                    'snapshot or AOF rewrite can stall it long enough for a failover.'
                    % (master.latest_fork_usec / 1000.0, sentinel, shortest),
                    'Raise redis_sentinel_down_after_milliseconds well above the fork time, or make forks faster '
                    '(less memory per node, transparent huge pages off).', group.name,
                    dict(address=master.address, latest_fork_usec=master.latest_fork_usec,
                         down_after_milliseconds=shortest, sentinel=sentinel))]


def maxmemory_findings(group: GroupData) -> list[Finding]:
    return [Finding('maxmemory_unset', WARNING, node.name,
                    'data node %s has maxmemory 0: it grows until the kernel kills it (or a fork fails).' % node.address,
                    'Set redis_maxmemory (and redis_maxmemory_policy) below the host\'s memory, leaving room for '
                    'forks and replication buffers.', group.name, dict(address=node.address, maxmemory=0))
            for node in group.nodes
            if node.reachable and node.in_inventory and str(node.config.get('maxmemory', '')) == '0']


def sentinel_acl_findings(group: GroupData) -> list[Finding]:
    out = []
    for node in group.nodes:
        if not node.reachable or not node.in_inventory:
            continue
        if node.acl_error:
            out.append(Finding('sentinel_acl', ERROR, node.name,
                               'data node %s cannot check the Sentinel user %r: %s.'
                               % (node.address, group.sentinel_user, node.acl_error),
                               'Create the user with the rules the roles grant (run site.yml with redis_acl), or '
                               'check redis_acl_sentinel_user.', group.name,
                               dict(address=node.address, user=group.sentinel_user)))
        elif node.acl_denied:
            out.append(Finding('sentinel_acl', ERROR, node.name,
                               'on data node %s (version %s) the Sentinel user %r may not run %s: a failover or '
                               'the hello messages fail.'
                               % (node.address, node.version, group.sentinel_user, '; '.join(node.acl_denied)),
                               'Grant the user what Sentinel sends: %s (redis_acl: true writes exactly this).'
                               % SENTINEL_RULES, group.name,
                               dict(address=node.address, version=node.version, user=group.sentinel_user,
                                    denied=list(node.acl_denied))))
        elif node.acl_denied is None:
            out.append(Finding('sentinel_acl', INFO, node.name,
                               'data node %s runs version %s, which has no ACL DRYRUN: the rights of the Sentinel '
                               'user %r were not checked.' % (node.address, node.version, group.sentinel_user),
                               'Compare ACL GETUSER %s with: %s.' % (group.sentinel_user, SENTINEL_RULES),
                               group.name, dict(address=node.address, version=node.version)))
    return out


GROUP_CHECKS = (unreachable_findings, sentinel_peer_findings, replica_list_findings, duplicate_address_findings,
                promotable_findings, fork_findings, maxmemory_findings, sentinel_acl_findings)


def topology_findings(groups: Sequence[GroupData]) -> list[Finding]:
    """Every finding over the master groups."""
    out = [finding for group in groups for check in GROUP_CHECKS for finding in check(group)]
    return out + foreign_replid_findings(groups)


def supports_dryrun(version: str) -> bool:
    numbers = re.findall(r'\d+', version)[:2]
    return len(numbers) == 2 and (int(numbers[0]), int(numbers[1])) >= DRYRUN_VERSION


def command_text(command: Sequence[str]) -> str:
    return ' '.join(command)


# Host-local checks.

@dataclass
class HostData:
    """What one host reports of itself. ``server``: its data node (None on a Sentinel-only host)."""

    host: str
    server: str | None = None
    # CONFIG GET appendonly and save of the local server.
    persistence: Mapping[str, str] = field(default_factory=dict)
    # systemd's Restart= of the server's unit ('' unknown), its RestartSec= in seconds (None unknown) and
    # whether the start guard runs before it; on a cluster node, whether the guard's settings name the
    # cluster's peers (it then holds a node that would start empty while they count on it).
    restart: str = ''
    restart_delay: float | None = None
    start_guard: bool = False
    guard_asks_peers: bool = False
    # cluster-node-timeout (ms) of a server in cluster mode; None: no cluster node.
    cluster_node_timeout: int | None = None
    # The server's log since its last start (None: not read, ``log_error`` says why).
    start_log: str | None = None
    log_error: str | None = None
    # This host's clock minus the reference's, in seconds (None: not measured).
    clock_offset: float | None = None
    clock_error: str | None = None


def since_last_start(log_text: str) -> str | None:
    """The log from the server's last start on; None when the start is not in the text."""
    starts = list(START_MARKER.finditer(log_text))
    return log_text[starts[-1].start():] if starts else None


def kernel_warnings(start_log: str) -> list[tuple[str, str, str]]:
    """(kind, the logged line, fix) of each kernel warning the server logged at start."""
    found = []
    lines = [line for line in start_log.splitlines() if 'WARNING' in line]
    for kind, pattern, fix in KERNEL_WARNINGS:
        line = next((line for line in lines if pattern.search(line)), None)
        if line is not None:
            found.append((kind, line.strip()[:300], fix))
    return found


def gist(line: str) -> str:
    """The first sentence of a logged warning, without the log prefix (pid, role, time, level)."""
    text = line[line.find('WARNING'):]
    end = min((index for index in (text.find('! '), text.find('. ')) if index >= 0), default=len(text))
    return text[:end + 1][:160]


def timespan_seconds(text: str) -> float | None:
    """Seconds of a systemd time span as ``systemctl show`` prints it ('100ms', '1min 30s', '0'); None for
    anything else ('infinity', '')."""
    total = 0.0
    parts = text.split()
    for part in parts:
        match = TIMESPAN_PART.match(part)
        if match is None:
            return None
        total += float(match.group(1)) * TIMESPAN_UNITS[match.group(2) or 's']
    return total if parts else None


class Unit(NamedTuple):
    """What ``systemctl show`` tells of the server's unit."""

    restart: str
    # RestartSec= in seconds (None: unknown).
    restart_delay: float | None
    start_guard: bool
    # The settings file the start guard is given (None: no guard, or none named).
    guard_settings: str | None


def parse_unit(show_output: str) -> Unit:
    """Restart=, RestartSec= and the start guard among the ExecStartPre=, from ``systemctl show``."""
    values: dict[str, list[str]] = {}
    for line in show_output.splitlines():
        key, sep, value = line.partition('=')
        if sep:
            values.setdefault(key.strip(), []).append(value)
    guards = [match for match in (GUARD_COMMAND.search(value) for value in values.get('ExecStartPre', [])) if match]
    return Unit(restart=(values.get('Restart') or [''])[0].strip(),
                restart_delay=timespan_seconds((values.get('RestartUSec') or [''])[0]),
                start_guard=bool(guards), guard_settings=guards[0].group(1) if guards else None)


def cluster_node_timeout(config: Mapping[str, str]) -> int | None:
    """cluster-node-timeout (ms) from ``CONFIG GET cluster-*`` of a server in cluster mode; None otherwise."""
    if str(config.get('cluster-enabled', 'no')) != 'yes':
        return None
    return int(config.get('cluster-node-timeout', 15000))


def persistence_findings(data: HostData) -> list[Finding]:
    """A server without AOF that its unit restarts on its own: what a crashed master comes back with."""
    if data.server is None or not data.persistence:
        return []
    if data.persistence.get('appendonly') == 'yes' or data.restart in NO_RESTART:
        return []
    rdb = bool(str(data.persistence.get('save', '')).strip())
    evidence = dict(address=data.server, appendonly='no', save=data.persistence.get('save', ''),
                    restart=data.restart)
    if data.cluster_node_timeout is not None:
        return [cluster_persistence_finding(data, rdb, dict(
            evidence, restart_sec=data.restart_delay, cluster_node_timeout=data.cluster_node_timeout,
            start_guard=data.start_guard, guard_asks_peers=data.guard_asks_peers))]
    return [sentinel_persistence_finding(data, rdb, dict(evidence, start_guard=data.start_guard))]


def sentinel_persistence_finding(data: HostData, rdb: bool, evidence: dict[str, Any]) -> Finding:
    """A Sentinel group's data node: the start guard, which asks the Sentinels, is what holds it back."""
    if data.start_guard:
        return Finding('persistence_off', INFO, data.host,
                       '%s runs without AOF; the start guard holds a restarted master until a replica is promoted, '
                       'so every restart of the master is a failover.' % data.server,
                       'Nothing, for a cache; set redis_appendonly: true to restart a master with its data.',
                       evidence=evidence)
    if rdb:
        return Finding('persistence_off', WARNING, data.host,
                       '%s runs without AOF (snapshots only) and its unit restarts it (Restart=%s) without the start '
                       'guard: a crashed master comes back with its last snapshot and its replicas copy that.'
                       % (data.server, data.restart),
                       'Set redis_appendonly: true, and run site.yml to install the start guard.', evidence=evidence)
    return Finding('persistence_off', ERROR, data.host,
                   '%s runs with no persistence at all and its unit restarts it (Restart=%s) without the start guard: '
                   'a crashed master comes back empty, within down-after, and its replicas delete their copies.'
                   % (data.server, data.restart),
                   'Set redis_appendonly: true (or save), and run site.yml to install the start guard.',
                   evidence=evidence)


def cluster_persistence_finding(data: HostData, rdb: bool, evidence: dict[str, Any]) -> Finding:
    """A Redis Cluster node: no Sentinel decides its role. A crashed master is held back until the cluster has
    promoted its replica by the unit's RestartSec= (twice cluster-node-timeout, as cluster.yml writes it), or by
    a start guard that asks the node's peers; a start guard without peers starts it as written."""
    timeout = data.cluster_node_timeout or 0
    delay = data.restart_delay
    comes_back = 'with its last snapshot' if rdb else 'empty'
    held = (['its start guard holds it at a restart, while its peers count on it as a master with a live replica, '
             'until the cluster has failed it over'] if data.guard_asks_peers else [])
    if delay is not None and delay * 1000 >= CLUSTER_RESTART_TIMEOUTS * timeout:
        held.append('its unit restarts it only after %g s, at least twice cluster-node-timeout (%d ms)'
                    % (delay, timeout))
    if held:
        return Finding('persistence_off', INFO, data.host,
                       '%s runs without AOF; %s: the cluster promotes a crashed master\'s replica first and the node '
                       'rejoins as a replica of it. Every crash of a master is a failover, and a master without a '
                       'replica comes back %s.' % (data.server, ' and '.join(held), comes_back),
                       'Nothing, for a cache; set redis_appendonly: true to restart a master with its data.',
                       evidence=evidence)
    when = 'after %g s' % delay if delay is not None else 'after an unknown delay'
    return Finding('persistence_off', WARNING if rdb else ERROR, data.host,
                   '%s runs %s and its unit restarts it %s (Restart=%s), before the cluster can promote a replica '
                   '(cluster-node-timeout %d ms): a crashed master comes back %s still owning its slots (its nodes.conf '
                   'survives), and its replicas resync %s.'
                   % (data.server, 'without AOF (snapshots only)' if rdb else 'with no persistence at all', when,
                      data.restart, timeout, comes_back, 'that snapshot' if rdb else 'the empty data set'),
                   'Set redis_appendonly: true%s, and run cluster.yml: the unit it writes waits twice '
                   'cluster-node-timeout before it restarts the node (RestartSec=), so that a replica is promoted first.'
                   % ('' if rdb else ' (or save)'), evidence=evidence)


def kernel_findings(data: HostData) -> list[Finding]:
    if data.server is None:
        return []
    if data.start_log is None:
        if data.log_error is None:
            return []
        return [Finding('kernel_warning', INFO, data.host, 'the start log of %s was not read: %s.'
                        % (data.server, data.log_error), 'Check the server\'s logfile and that the doctor runs as root.',
                        evidence=dict(address=data.server))]
    return [Finding('kernel_warning', WARNING, data.host, '%s logged at its last start: "%s".' % (data.server, gist(line)),
                    fix + '; the warning leaves the log at the next start (rolling_restart.yml).',
                    evidence=dict(address=data.server, kind=kind, line=line))
            for kind, line, fix in kernel_warnings(data.start_log)]


def host_findings(data: HostData) -> list[Finding]:
    return persistence_findings(data) + kernel_findings(data)


def clock_findings(offsets: Mapping[str, float | None], limit: float = MAX_CLOCK_SPREAD) -> list[Finding]:
    """Host clocks (offsets from one reference, in seconds) further apart than ``limit``."""
    measured = {host: offset for host, offset in offsets.items() if offset is not None}
    if len(measured) < 2:
        return []
    spread = max(measured.values()) - min(measured.values())
    if spread <= limit:
        return []
    middle = sorted(measured.values())[len(measured) // 2]
    worst = max(measured, key=lambda host: abs(measured[host] - middle))
    return [Finding('clock_skew', WARNING, worst,
                    'the host clocks are %.2f s apart (more than %.0f s); %s is %+.2f s from the others\' median. '
                    'Logs, TILT detection and failover timing compare times across hosts.'
                    % (spread, limit, worst, measured[worst] - middle),
                    'Synchronise the clocks (systemd-timesyncd, chrony) on every host.',
                    evidence=dict(offsets={host: round(value, 3) for host, value in sorted(measured.items())}))]


# Results.

def sort_key(finding: Finding) -> tuple:
    return (-SEVERITIES.index(finding.severity), finding.group or '', finding.check, finding.node)


def split_ignored(findings: Iterable[Finding], ignore: Iterable[str]) -> tuple[list[Finding], list[Finding]]:
    ignored = set(ignore)
    kept = sorted((item for item in findings if item.check not in ignored), key=sort_key)
    dropped = sorted((item for item in findings if item.check in ignored), key=sort_key)
    return kept, dropped


def failing(findings: Iterable[Finding], fail_on: str) -> list[Finding]:
    """The findings at or above ``fail_on``."""
    if fail_on == 'never':
        return []
    lowest = SEVERITIES.index(fail_on)
    return [item for item in findings if SEVERITIES.index(item.severity) >= lowest]


def summary(findings: Sequence[Finding], ignored: Sequence[Finding] = ()) -> list[str]:
    counts = Counter(item.severity for item in findings)
    head = ('doctor: %d error(s), %d warning(s), %d info' % (counts[ERROR], counts[WARNING], counts[INFO])
            if findings else 'doctor: no findings')
    if ignored:
        head += ' (%d ignored: %s)' % (len(ignored), ', '.join(sorted({item.check for item in ignored})))
    return [head] + [item.line() for item in findings]


def finding_from_dict(data: Mapping[str, Any]) -> Finding:
    """A finding a host run returned (its ``as_dict``)."""
    return Finding(check=str(data['check']), severity=str(data['severity']), node=str(data['node']),
                   message=str(data['message']), fix=str(data['fix']), group=data.get('group'),
                   evidence=dict(data.get('evidence') or {}))
