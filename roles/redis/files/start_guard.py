# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start guard of a redis-server supervised by systemd (redisops.sentinel).

Runs as the unit's ExecStartPre, before every start that is not the node's
first: asks the Sentinels which node is the master of this node's group and
makes the configuration file agree before redis-server reads it.

- A majority of the Sentinels agree on another node: this node starts as its
  replica (``replicaof`` in the configuration file).
- They agree on this node: it starts as master only when its append-only file
  holds what it acknowledged (or when no replica exists that could hold more),
  and when they do not see it down. Down for longer than
  down-after-milliseconds (a reboot, a slow restart), it may be failed over
  any moment, even after it is back: a master that starts then takes writes,
  acknowledged by a replica that follows it again, which the promoted replica
  never gets. The guard waits instead, as for a failover in progress, when
  the Sentinels have a replica they could promote (up, linked to them,
  replica-priority not 0); the replica is promoted and this node starts as
  its replica (at the timeout, with no promotion, it starts as written).
  With none, no failover can follow: it starts as master at once.
  Without an append-only file (persistence off, RDB snapshots only, data
  lost), an empty or stale master would be copied by its replicas; the guard
  waits instead until the Sentinels promote a replica, then starts as that
  replica's replica. When none is promoted in time it refuses to start
  (exit 1): systemd's restart policy runs the guard again.
- No Sentinel monitors the group (refused, unknown master name): the node
  starts with its configuration as written, at once.
- Sentinels disagree, fail over, or do not answer: the guard waits; at the
  timeout the node starts with its configuration as written.

A Redis Cluster node (``cluster`` in the settings; no Sentinel): it starts at
once, unless it would start with no data while its peers still count on a
master at its address that a replica could replace. That is a node whose
cluster config file (nodes.conf) is missing or empty (a wiped host), while
a peer lists a master at one of its addresses with slots and a live replica;
or a node that is that master (its own id) and has no append-only file. Its
replica would copy the empty data set within a second: the guard waits
until the cluster has failed the master over (node timeout), then lets it
start; at the timeout it refuses (exit 1). A master with no replica, or no
peer answering, starts at once: there is nothing to hand over.

Usage: python3 start_guard.py CONFIG.json. The JSON file (written by the roles, root
only: it holds the Sentinel password) has: master_name, sentinels
["host:port"], sentinel_password, sentinel_password_previous (during a
rotation: used when a Sentinel refuses sentinel_password), tls {ca, cert, key} or null, me
["host:port" this node is known as], config_file, timeout (seconds),
interval (seconds between rounds); for a cluster node, cluster {peers ["host:port"]
of the other nodes, user, password} (login to the peers, TLS as for the Sentinels).
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import socket
import ssl
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple

ANSWER_TIMEOUT = 1.0
# Errors that say "nothing listens there" at once, as opposed to a timeout.
CLOSED = (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH)
# How a Sentinel refuses a password.
REFUSED_LOGIN = ('WRONGPASS', 'INVALID PASSWORD', 'INVALID USERNAME-PASSWORD')


class ReplyError(Exception):
    """An error reply (-ERR ...) from the server."""


@dataclass(frozen=True)
class View:
    """What one Sentinel says of the group: the master's address, or why not."""
    sentinel: str
    master: str | None = None
    failover: bool = False
    down: bool = False      # the Sentinel flags the master subjectively or objectively down
    replicas: int = 0
    promotable: int = 0     # asked only when down: replicas up, not disconnected, priority not 0
    closed: bool = False    # refused / unknown master name: no Sentinel authority there
    error: str = ''


class Decision(NamedTuple):
    action: str     # 'replica', 'master', 'as-written', 'wait', 'wait-empty'
    master: str | None
    reason: str


def log(message: str) -> None:
    print('redisops start guard: %s' % message, file=sys.stderr, flush=True)


def split(address: str) -> tuple[str, int]:
    host, _sep, port = address.rpartition(':')
    return host.strip('[]'), int(port)


def join(host: str, port: int | str) -> str:
    return ('[%s]:%s' if ':' in host else '%s:%s') % (host, port)


# --- a minimal RESP2 client: the guard runs before anything else, with the stdlib only ---

def _line(stream: Any) -> bytes:
    line = stream.readline()
    if not line.endswith(b'\r\n'):
        raise OSError('connection closed')
    return line[:-2]


def _reply(stream: Any) -> Any:
    line = _line(stream)
    kind, rest = line[:1], line[1:]
    if kind == b'+':
        return rest.decode()
    if kind == b'-':
        raise ReplyError(rest.decode())
    if kind == b':':
        return int(rest)
    if kind == b'$':
        size = int(rest)
        if size < 0:
            return None
        data = stream.read(size + 2)
        return data[:-2].decode()
    if kind == b'*':
        size = int(rest)
        return None if size < 0 else [_reply(stream) for _dummy in range(size)]
    raise OSError('unexpected reply %r' % line[:40])


def _encode(*args: str) -> bytes:
    out = [b'*%d\r\n' % len(args)]
    for arg in args:
        data = arg.encode()
        out.append(b'$%d\r\n%s\r\n' % (len(data), data))
    return b''.join(out)


def _connect(address: str, tls: dict[str, str] | None) -> socket.socket:
    sock = socket.create_connection(split(address), timeout=ANSWER_TIMEOUT)
    if not tls:
        return sock
    context = ssl.create_default_context(cafile=tls['ca'])
    context.check_hostname = False
    context.load_cert_chain(tls['cert'], tls['key'])
    return context.wrap_socket(sock)


def sentinel_command(address: str, settings: dict[str, Any], *args: str) -> Any:
    """``args`` on the Sentinel, logged in with sentinel_password, or with sentinel_password_previous
    (during a rotation of the Sentinel password) when the Sentinel refuses the new one."""
    previous = settings.get('sentinel_password_previous')
    password = settings.get('sentinel_password')
    try:
        return _command(address, settings.get('tls'), (password,) if password else (), args)
    except ReplyError as exc:
        if not previous or not str(exc).upper().startswith(REFUSED_LOGIN):
            raise
    return _command(address, settings.get('tls'), (previous,), args)


def _command(address: str, tls: dict[str, str] | None, auth: tuple[str, ...], args: tuple) -> Any:
    """``args`` on one connection, after ``AUTH *auth`` unless ``auth`` is empty; the last reply."""
    with _connect(address, tls) as sock:
        stream = sock.makefile('rwb')
        commands = ([('AUTH',) + auth] if auth else []) + [args]
        stream.write(b''.join(_encode(*command) for command in commands))
        stream.flush()
        replies = [_reply(stream) for _command in commands]
        return replies[-1]


# --- what the Sentinels say -------------------------------------------------------------------

def entry_state(reply: list[Any]) -> tuple[dict[str, Any], set[str]]:
    """A Sentinel's field/value reply of one master or replica, and its flags."""
    state = dict(zip(reply[0::2], reply[1::2]))
    return state, set(str(state.get('flags', '')).split(','))


def ask(address: str, settings: dict[str, Any]) -> View:
    try:
        reply = sentinel_command(address, settings, 'SENTINEL', 'MASTER', settings['master_name'])
    except ReplyError as exc:
        unknown = 'no such master' in str(exc).lower()
        return View(address, closed=unknown, error=str(exc))
    except OSError as exc:
        return View(address, closed=getattr(exc, 'errno', None) in CLOSED, error=str(exc) or type(exc).__name__)
    state, flags = entry_state(reply)
    down = bool(flags & {'s_down', 'o_down'})
    replicas = int(state.get('num-slaves', 0))
    return View(address, master=join(state['ip'], state['port']),
                failover='failover_in_progress' in flags, down=down, replicas=replicas,
                promotable=promotable(address, settings, replicas) if down and replicas else 0)


def promotable(address: str, settings: dict[str, Any], known: int) -> int:
    """How many of the group's replicas this Sentinel could promote now; all it knows when it cannot say."""
    try:
        reply = sentinel_command(address, settings, 'SENTINEL', 'REPLICAS', settings['master_name'])
    except (ReplyError, OSError):
        return known
    count = 0
    for entry in reply:
        state, flags = entry_state(entry)
        if not flags & {'s_down', 'o_down', 'disconnected'} and str(state.get('slave-priority', '1')) != '0':
            count += 1
    return count


def ask_all(settings: dict[str, Any]) -> list[View]:
    sentinels = settings['sentinels']
    if not sentinels:
        return []
    with ThreadPoolExecutor(max_workers=len(sentinels)) as pool:
        return list(pool.map(lambda address: ask(address, settings), sentinels))


def decide(views: list[View], me: set[str], has_aof: bool) -> Decision:
    """What to do with these answers (pure: the tests call it on tables)."""
    if not views:
        return Decision('as-written', None, 'no Sentinel is configured')
    majority = len(views) // 2 + 1
    known = [view for view in views if view.master]
    if not known and all(view.closed for view in views):
        return Decision('as-written', None, 'no Sentinel monitors this group (%s)'
                        % '; '.join('%s: %s' % (view.sentinel, view.error) for view in views))
    if any(view.failover for view in known):
        return Decision('wait', None, 'a failover is in progress')
    counts = Counter(view.master for view in known)
    master, votes = counts.most_common(1)[0] if counts else (None, 0)
    if votes < majority:
        return Decision('wait', None, '%d of %d Sentinels needed to agree, they say %s%s' % (
            majority, len(views), dict(counts) or 'nothing',
            ''.join('; %s: %s' % (view.sentinel, view.error) for view in views if view.error)))
    if master not in me:
        return Decision('replica', master, '%d of %d Sentinels agree that %s is the master' % (votes, len(views), master))
    replicas = max(view.replicas for view in known if view.master == master)
    if has_aof and any(view.down and view.promotable for view in known if view.master == master):
        return Decision('wait', None, 'the Sentinels still name this node (%s) the master, but they have seen it '
                        'down for longer than down-after-milliseconds: a failover to one of its %d replica(s) may '
                        'follow, and what it acknowledged as master meanwhile would be lost. Waiting until they '
                        'promote a replica' % (master, replicas))
    if has_aof or replicas == 0:
        why = 'its append-only file holds what it acknowledged' if has_aof else 'no replica could hold more'
        return Decision('master', master, '%d of %d Sentinels agree that this node is the master, and %s'
                        % (votes, len(views), why))
    return Decision('wait-empty', master, 'the Sentinels still name this node (%s) the master, but it has no '
                    'append-only file: starting it would hand its %d replica(s) an empty or stale data set. '
                    'Waiting until the Sentinels promote a replica' % (master, replicas))


# --- what a cluster node's peers say --------------------------------------------------------

class Holder(NamedTuple):
    """A master at this node's address (or with its id) that serves slots and has a live replica."""
    peer: str
    node_id: str
    slots: int
    replicas: int


def node_command(address: str, settings: dict[str, Any], *args: str) -> Any:
    """``args`` on a cluster peer, logged in as cluster.user (or the default user) with cluster.password."""
    cluster = settings['cluster']
    login = tuple(name for name in (cluster.get('user'), cluster.get('password')) if name)
    return _command(address, settings.get('tls'), login if cluster.get('password') else (), args)


def slot_count(fields: list[str]) -> int:
    """Slots of the slot fields of a CLUSTER NODES line ("0-5460", "5461"; "[..]" open slots not counted)."""
    count = 0
    for field in fields:
        if not field.startswith('['):
            first, _sep, last = field.partition('-')
            count += int(last or first) - int(first) + 1
    return count


def holders(peer: str, nodes: str, me: set[str], my_id: str | None) -> list[Holder]:
    """The masters the peer's CLUSTER NODES lists at one of ``me`` (or with ``my_id``) that serve slots and
    have a replica not flagged failed (pure: the tests call it on tables)."""
    rows = [(row, set(row[2].split(','))) for row in (line.split() for line in nodes.splitlines()) if len(row) >= 8]
    live_replicas = Counter(row[3] for row, flags in rows if {'slave', 'replica'} & flags and 'fail' not in flags)
    found = []
    for row, flags in rows:
        node_id, address, slots = row[0], row[1].split('@')[0].split(',')[0], slot_count(row[8:])
        # A node without an address (noaddr) is listed as ":0".
        at_me = not address.startswith(':') and join(*split(address)) in me
        if 'master' in flags and (at_me or node_id == my_id) and slots and live_replicas[node_id]:
            found.append(Holder(peer, node_id, slots, live_replicas[node_id]))
    return found


def ask_peer(address: str, settings: dict[str, Any], me: set[str], my_id: str | None) -> list[Holder] | str:
    """The peer's holders, or why it did not answer."""
    try:
        return holders(address, node_command(address, settings, 'CLUSTER', 'NODES'), me, my_id)
    except (ReplyError, OSError) as exc:
        return '%s: %s' % (address, str(exc) or type(exc).__name__)


def decide_cluster(answers: list[list[Holder] | str], fresh: bool, has_aof: bool) -> Decision:
    """What a cluster node does with its peers' answers (pure: the tests call it on tables)."""
    if not fresh and has_aof:
        return Decision('as-written', None, 'this node knows its cluster identity and has its append-only file')
    found = [holder for answer in answers if not isinstance(answer, str) for holder in answer]
    if not found:
        errors = [answer for answer in answers if isinstance(answer, str)]
        return Decision('as-written', None, 'no peer counts on a master here that a replica could replace%s'
                        % (' (%s)' % '; '.join(errors) if errors else ''))
    holder = found[0]
    what = 'its cluster config file is missing or empty' if fresh else 'it has no append-only file'
    return Decision('wait-empty', None, '%s lists master %s at this node with %d slots and %d live replica(s), and '
                    '%s: starting now would hand that replica an empty data set. Waiting until the cluster fails '
                    'the master over' % (holder.peer, holder.node_id, holder.slots, holder.replicas, what))


# --- the configuration file -----------------------------------------------------------------

def directives(path: str) -> dict[str, list[str]]:
    """The last value of each directive of a redis.conf (names lower-cased)."""
    found: dict[str, list[str]] = {}
    with open(path, encoding='utf-8') as handle:
        for line in handle:
            if line.strip() and not line.lstrip().startswith('#'):
                try:
                    words = shlex.split(line, posix=True)
                except ValueError:
                    continue
                found[words[0].lower()] = words[1:]
    return found


def data_dir(config: dict[str, list[str]], path: str) -> str:
    """The server's ``dir`` (the configuration file's directory when it sets none)."""
    return (config.get('dir') or [os.path.dirname(path)])[0]


def has_aof(path: str) -> bool:
    """Whether appendonly is on and its file exists (Redis 7 / Valkey manifest, or one file before 7)."""
    config = directives(path)
    if [value.lower() for value in config.get('appendonly', ['no'])] != ['yes']:
        return False
    data = data_dir(config, path)
    name = (config.get('appendfilename') or ['appendonly.aof'])[0]
    folder = (config.get('appenddirname') or ['appendonlydir'])[0]
    return (os.path.isfile(os.path.join(data, folder, name + '.manifest'))
            or os.path.isfile(os.path.join(data, name)))


def cluster_identity(path: str) -> tuple[bool, str | None]:
    """(fresh, my id): whether the node's cluster config file is missing or empty, and the id it names as myself."""
    config = directives(path)
    name = (config.get('cluster-config-file') or ['nodes.conf'])[0]
    try:
        with open(os.path.join(data_dir(config, path), name), encoding='utf-8') as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError:
        return True, None
    mine = [line.split()[0] for line in lines if len(line.split()) > 2 and 'myself' in line.split()[2].split(',')]
    return not mine, (mine[0] if mine else None)


def set_replicaof(path: str, master: str | None) -> bool:
    """Make the file say ``replicaof`` master (or nothing); True when it changed. Keeps owner and mode."""
    with open(path, encoding='utf-8') as handle:
        lines = handle.readlines()
    kept = [line for line in lines if line.lower().split()[:1] not in (['replicaof'], ['slaveof'])]
    if master:
        host, port = split(master)
        kept.append('replicaof %s %d\n' % (host, port))
    if kept == lines:
        return False
    status = os.stat(path)
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.redisops-guard-')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            handle.writelines(kept)
        os.chmod(temp, status.st_mode & 0o7777)
        if os.geteuid() == 0:
            os.chown(temp, status.st_uid, status.st_gid)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise
    return True


# --- the guard --------------------------------------------------------------------------------

def apply(decision: Decision, config_file: str) -> None:
    if decision.action == 'replica':
        changed = set_replicaof(config_file, decision.master)
        log('%s: starting as its replica%s' % (decision.reason, ' (replicaof written)' if changed else ''))
    elif decision.action == 'master':
        changed = set_replicaof(config_file, None)
        log('%s: starting as master%s' % (decision.reason, ' (replicaof removed)' if changed else ''))
    else:
        log('%s: starting with %s as written' % (decision.reason, config_file))


def decide_cluster_node(settings: dict[str, Any], me: set[str]) -> Decision:
    fresh, my_id = cluster_identity(settings['config_file'])
    if not fresh and has_aof(settings['config_file']):
        return decide_cluster([], fresh, True)
    peers = [peer for peer in settings['cluster'].get('peers', []) if join(*split(peer)) not in me]
    if not peers:
        return decide_cluster([], fresh, False)
    with ThreadPoolExecutor(max_workers=len(peers)) as pool:
        answers = list(pool.map(lambda peer: ask_peer(peer, settings, me, my_id), peers))
    return decide_cluster(answers, fresh, False)


def guard(settings: dict[str, Any]) -> int:
    """Decide, wait while undecided; 0 to let redis-server start, 1 to refuse."""
    deadline = time.monotonic() + float(settings['timeout'])
    me = {join(*split(address)) for address in settings['me']}
    last = ''
    while True:
        decision = (decide_cluster_node(settings, me) if settings.get('cluster')
                    else decide(ask_all(settings), me, has_aof(settings['config_file'])))
        if decision.action in ('replica', 'master', 'as-written'):
            apply(decision, settings['config_file'])
            return 0
        if decision.reason != last:
            log(decision.reason)
            last = decision.reason
        if time.monotonic() >= deadline:
            break
        time.sleep(float(settings.get('interval', 1.0)))
    if decision.action == 'wait-empty' and settings.get('cluster'):
        log('the cluster did not fail the master over within %ss: refusing to start empty. Find out why its '
            'replica is not promoted (cluster-replica-validity-factor, links; docs/cluster-operations.md)'
            % settings['timeout'])
        return 1
    if decision.action == 'wait-empty':
        log('no replica was promoted within %ss: refusing to start as an empty master. Find out why the '
            'Sentinels cannot fail over (quorum, replica-priority, links), or run playbooks/recover.yml'
            % settings['timeout'])
        return 1
    apply(Decision('as-written', None, 'no Sentinel verdict within %ss (%s)' % (settings['timeout'], decision.reason)),
          settings['config_file'])
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        log('usage: %s CONFIG.json' % argv[0])
        return 2
    try:
        with open(argv[1], encoding='utf-8') as handle:
            settings = json.load(handle)
    except FileNotFoundError:
        # The roles write it after the node's first start: until then, start as written.
        log('%s does not exist yet: starting as written' % argv[1])
        return 0
    return guard(settings)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
