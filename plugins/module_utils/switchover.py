# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A planned switchover of a Sentinel-managed master group, for the sentinel_failover module.

The checks before SENTINEL FAILOVER, steering Sentinel's choice with replica-priority, the catch-up
of the replicas, the write fence on the old master and the wait until the group follows the new
master. Whether the Sentinels agree on a master, and whether they are moving the group, is decided
by module_utils/agreement.py, as for the live_master filter.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ansible_collections.redisops.sentinel.plugins.module_utils.address import (
    Address,
    AddressMatcher,
    format_address,
    parse_address_list,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.agreement import Vote, masters_seen
from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    REDIS_PORT,
    RETRYABLE_ERRORS,
    ResponseError,
    common_param_errors,
    connect,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.replication import (
    ReplicaExpectation,
    master_repl_offset,
    replica_unmet,
    replication_state,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.sentinel import (
    REPLICA_DOWN_FLAGS,
    is_healthy,
    observe,
    pairs_to_dict,
    sentinel_master,
    sentinel_replicas,
    sentinel_tilt,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.validate import MASTER_NAME_CHARACTERS, is_master_name
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import Check, describe_error, poll_until

PRIORITY = 'replica-priority'
NO_CONFIG_FILE = 'without a config file'
NOT_STARTED = 'the switchover was not started'
OLD_MASTER = 'old master'
# SENTINEL DEBUG info-period (ms) while waiting for Sentinel to see the replica-priority values, set
# back before SENTINEL FAILOVER. Were it left behind, Sentinel would still promote replicas (their
# INFO must be younger than 3 periods, it is read every period plus one timer tick, at most 100ms).
FAST_INFO_PERIOD = 250
# Seconds between probes while the writes of the old master are paused.
FENCE_POLL_INTERVAL = 0.05
# Seconds kept, at the end of the pause, to demote the old master and lift the pause.
FENCE_MARGIN = 0.5


@dataclass
class Options:
    sentinels: list[Address]
    target: AddressMatcher | None
    only_if_master: AddressMatcher | None


def optional_address(params: dict[str, Any], key: str, errors: list[str]) -> AddressMatcher | None:
    text = params[key]
    addresses = parse_address_list([text] if text else [], REDIS_PORT, key, errors)
    return AddressMatcher(addresses[0]) if addresses else None


def parse_options(params: dict[str, Any]) -> tuple[Options, list[str]]:
    """The parsed options, and the problems with them."""
    errors = common_param_errors(params)
    if not is_master_name(params['name']):
        errors.append('name may only contain %s, got %r' % (MASTER_NAME_CHARACTERS, params['name']))
    texts = params['sentinels'] or [format_address(params['login_host'], params['login_port'])]
    sentinels = parse_address_list(texts, params['login_port'], 'sentinels', errors)
    target = optional_address(params, 'target', errors)
    only_if_master = optional_address(params, 'only_if_master', errors)
    return Options(sentinels, target, only_if_master), errors


class SwitchoverError(Exception):
    """The switchover cannot go on: the message and the unmet conditions."""

    def __init__(self, msg: str, unmet: list[str]):
        super().__init__(msg)
        self.unmet = unmet


@dataclass
class SentinelAnswer:
    address: Address
    view: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def master(self) -> Address | None:
        master = self.view.get('master')
        return Address(master['ip'], master['port']) if master else None

    @property
    def vote(self) -> Vote:
        if self.error:
            return Vote(str(self.address), error=self.error)
        return Vote.from_master(str(self.address), self.view.get('master'), self.view['tilt'])


def ask_sentinel(client, address: Address, name: str) -> SentinelAnswer:
    """What one Sentinel reports about ``name``, with its TILT state; errors are kept, not raised."""
    try:
        view = observe(client, name, check_quorum=False)
        view['tilt'] = sentinel_tilt(client)
    except RETRYABLE_ERRORS as exc:
        return SentinelAnswer(address, error=describe_error(exc))
    return SentinelAnswer(address, view)


def sentinel_unmet(answers: list[SentinelAnswer], name: str,
                   wrong_master: Callable[[Address], str | None] = lambda master: None) -> list[str]:
    """Why not every Sentinel follows one sane master; ``wrong_master`` tells why a master is not the expected one."""
    unmet = []
    for answer in answers:
        vote = answer.vote
        if not vote.answered:
            unmet.append('Sentinel %s did not answer: %s' % (answer.address, vote.error))
            continue
        if vote.master is None:
            unmet.append('Sentinel %s monitors no master named %r' % (answer.address, name))
            continue
        if vote.tilt:
            unmet.append('Sentinel %s is in TILT mode' % (answer.address,))
        problem = wrong_master(answer.master)
        if problem:
            unmet.append('Sentinel %s sees master %s, %s' % (answer.address, answer.master, problem))
        if vote.master_down:
            unmet.append('Sentinel %s sees master %s with flags %s' % (answer.address, answer.master, ','.join(vote.flags)))
    if len(masters_seen([answer.vote for answer in answers])) > 1:
        unmet.append('the Sentinels disagree on the master: %s' % '; '.join(
            '%s sees %s' % (answer.address, answer.master) for answer in answers if answer.master))
    return unmet


def known_replicas(answers: list[SentinelAnswer]) -> list[Address]:
    """Every replica a Sentinel knows, in the order the Sentinels list them."""
    replicas: list[Address] = []
    for answer in answers:
        for node in answer.view['replicas']:
            address = Address(node['ip'], node['port'])
            if address not in replicas:
                replicas.append(address)
    return replicas


def unseen_replicas(answer: SentinelAnswer, expected: list[Address]) -> list[str]:
    """The expected replicas the Sentinel does not list, or flags down."""
    listed = {Address(node['ip'], node['port']): node for node in answer.view['replicas']}
    unmet = []
    for address in expected:
        node = listed.get(address)
        if node is None:
            unmet.append('Sentinel %s does not list replica %s yet' % (answer.address, address))
        elif not is_healthy(node, REPLICA_DOWN_FLAGS):
            unmet.append('Sentinel %s flags replica %s %s' % (answer.address, address, ','.join(node['flags'])))
    return unmet


def failover_refusal(sentinel: Address, name: str, error: str) -> str:
    """A readable message for an error reply to SENTINEL FAILOVER."""
    code = error.lstrip('-').split(' ', 1)[0].upper()
    if code == 'NOGOODSLAVE':
        return ('Sentinel %s found no replica of %r it can promote (-NOGOODSLAVE): it skips replicas that are '
                's_down or disconnected, have replica-priority 0, lost their master link for long, or whose '
                'INFO it has not refreshed for 30s. Nothing was switched.' % (sentinel, name))
    if code == 'INPROG':
        return ('A failover of %r is already in progress on Sentinel %s (-INPROG): wait until it ends '
                '(redisops.sentinel.sentinel_wait) and run the task again.' % (name, sentinel))
    return 'Sentinel %s refused SENTINEL FAILOVER %s: %s' % (sentinel, name, error)


class DataNodes:
    """Clients of the master and replicas, with the data node credentials, made on first use."""

    def __init__(self, params: dict[str, Any]):
        self.params = dict(params, login_user=params['master_user'], login_password=params['master_password'],
                           login_password_previous=None)
        self.clients: dict[Address, Any] = {}

    def client(self, address: Address):
        if address not in self.clients:
            self.clients[address] = connect(self.params, address.host, address.port)
        return self.clients[address]

    def replication(self, address: Address) -> dict[str, Any]:
        return replication_state(self.client(address).info('replication'))

    def priority(self, address: Address) -> int:
        return int(self.client(address).config_get(PRIORITY)[PRIORITY])

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def master_unmet(nodes: DataNodes, address: Address, role: str) -> list[str]:
    try:
        state = nodes.replication(address)
    except RETRYABLE_ERRORS as exc:
        return ['%s %s: %s' % (role, address, describe_error(exc))]
    if state.get('role') != 'master':
        return ['%s %s reports role %s, expected master' % (role, address, state.get('role'))]
    return []


def follower_unmet(nodes: DataNodes, address: Address, master: Address, role: str) -> list[str]:
    """Why ``address`` is not a replica of ``master`` with its link up."""
    try:
        state = nodes.replication(address)
    except RETRYABLE_ERRORS as exc:
        return ['%s %s: %s' % (role, address, describe_error(exc))]
    expect = ReplicaExpectation(master=AddressMatcher(master))
    return ['%s %s: %s' % (role, address, problem) for problem in replica_unmet(state, expect)]


def debug_periods(client) -> dict[str, Any]:
    """SENTINEL DEBUG (Redis 7.0 or later): Sentinel's timing parameters in milliseconds, keys upper case."""
    return pairs_to_dict(client.execute_command('SENTINEL', 'DEBUG'))


def rewrite_error(client) -> str | None:
    """CONFIG REWRITE; why it failed, or None (also for a node started without a config file)."""
    try:
        client.config_rewrite()
    except RETRYABLE_ERRORS as exc:
        return None if NO_CONFIG_FILE in str(exc) else describe_error(exc)
    return None


class Switchover:
    """One run of the module: checks, priorities, catch-up, write fence, SENTINEL FAILOVER and the wait."""

    def __init__(self, params: dict[str, Any], options: Options):
        self.params, self.options, self.name = params, options, params['name']
        self.deadline = time.monotonic() + params['timeout']
        self.sentinels = {address: connect(params, address.host, address.port) for address in options.sentinels}
        self.nodes = DataNodes(params)
        self.answers: list[SentinelAnswer] = []
        self.changed = False
        self.old: Address | None = None
        self.new: Address | None = None
        self.target: Address | None = None
        self.replicas: list[Address] = []
        self.priorities: dict[Address, int] = {}
        # replica-priority of the replicas set to 0 for the switchover, to set back.
        self.lowered: dict[Address, int] = {}
        # INFO period of the first Sentinel to set back after SENTINEL DEBUG info-period.
        self.info_period: int | None = None
        # The write fence on the old master: paused since (monotonic), until (monotonic), for how long.
        self.paused = False
        self.pause_started = self.pause_end = 0.0
        self.write_pause: float | None = None
        self.failover_sent = self.failover_aborted = False
        # The replica seen with role master after SENTINEL FAILOVER; the old master replicates from it.
        self.promoted: Address | None = None
        self.demoted = False
        # What is left to do by hand after the run (the task then fails).
        self.leftovers: list[str] = []

    def ask_sentinels(self) -> list[SentinelAnswer]:
        return [ask_sentinel(client, address, self.name) for address, client in self.sentinels.items()]

    def result(self, msg: str, unmet: list[str]) -> dict[str, Any]:
        return dict(changed=self.changed, old_master=str(self.old) if self.old else None,
                    new_master=str(self.new) if self.new else None, msg=msg, unmet=unmet,
                    write_pause=self.write_pause,
                    sentinels={str(answer.address): str(answer.master) if answer.master else None
                               for answer in self.answers})

    def refuse(self, unmet: list[str]) -> None:
        if unmet:
            raise SwitchoverError('Refusing to switch %r over, nothing was changed: %s.'
                                  % (self.name, '; '.join(unmet)), unmet)

    def run(self, check_mode: bool) -> str:
        """The message of a successful run; raises SwitchoverError."""
        self.answers = self.ask_sentinels()
        self.refuse(sentinel_unmet(self.answers, self.name))
        self.old = self.new = self.answers[0].master
        target, only_if_master = self.options.target, self.options.only_if_master
        if target and target.matches(*self.old):
            return '%s already is the master of %r: nothing to do.' % (self.old, self.name)
        if only_if_master and not only_if_master.matches(*self.old):
            return 'The master of %r is %s, not %s (only_if_master): nothing to do.' % (
                self.name, self.old, only_if_master.expected)
        priorities = self.check_data_nodes()
        # Without a target Sentinel chooses; with one, every other replica must not be eligible.
        lower = {replica: priority for replica, priority in priorities.items()
                 if self.target and replica != self.target and priority != 0}
        if check_mode:
            self.changed, self.new = True, self.target
            return 'Check mode: would switch the master of %r from %s to %s%s.' % (
                self.name, self.old, self.target or 'a replica Sentinel chooses',
                ' (%s 0 meanwhile on %s)' % (PRIORITY, ', '.join(map(str, lower))) if lower else '')
        return self.switch(lower)

    def check_data_nodes(self) -> dict[Address, int]:
        """Refuse unless the master and every replica are sane; the replicas' replica-priority."""
        self.replicas = known_replicas(self.answers)
        unmet = [problem for answer in self.answers for problem in unseen_replicas(answer, self.replicas)]
        unmet += master_unmet(self.nodes, self.old, 'master')
        if not self.replicas:
            unmet.append('the Sentinels know no replica of %r to promote' % self.name)
        for replica in self.replicas:
            unmet += follower_unmet(self.nodes, replica, self.old, 'replica')
        matcher = self.options.target
        if matcher:
            self.target = next((r for r in self.replicas if matcher.matches(*r)), None)
            if self.target is None:
                unmet.append('target %s is not a replica the Sentinels know for %r (known replicas: %s)'
                             % (matcher.expected, self.name, ', '.join(map(str, self.replicas)) or 'none'))
        priorities = {}
        for replica in self.replicas:
            try:
                priorities[replica] = self.nodes.priority(replica)
            except RETRYABLE_ERRORS as exc:
                unmet.append('cannot read %s of replica %s: %s' % (PRIORITY, replica, describe_error(exc)))
        if self.target and priorities.get(self.target) == 0:
            unmet.append('target %s has %s 0, so Sentinel never promotes it' % (self.target, PRIORITY))
        self.refuse(unmet)
        self.priorities = priorities
        return priorities

    def switch(self, priorities: dict[Address, int]) -> str:
        """Lower the priorities, catch up, fence, fail over and wait; whatever was changed is set back."""
        failure = None
        try:
            self.lower_priorities(priorities)
            self.catch_up()
            self.fenced_failover()
            self.wait(self.switched, 'The switchover did not complete',
                      'SENTINEL FAILOVER %s was sent to %s' % (self.name, self.options.sentinels[0]))
        except SwitchoverError as exc:
            failure = exc
        finally:
            # First of all, the old master must take (or refuse) writes again.
            leftovers = self.lift_fence()
            leftovers += self.restore_info_period() + self.restore_priorities()
        leftovers = self.leftovers + leftovers
        if leftovers:
            msg = '%s %s.' % (str(failure) if failure else 'The switchover completed, but', '; '.join(leftovers))
            raise SwitchoverError(msg, (failure.unmet if failure else []) + leftovers)
        if failure:
            raise failure
        return ("Switched the master of %r from %s to %s: %d Sentinel(s) agree, %d node(s) follow it; writes "
                "to %s were paused for %.3fs." % (self.name, self.old, self.new, len(self.answers),
                                                  len(self.followers()), self.old, self.write_pause))

    # Steering Sentinel's choice.

    def lower_priorities(self, priorities: dict[Address, int]) -> None:
        for replica, priority in priorities.items():
            self.lowered[replica] = priority
            try:
                self.nodes.client(replica).config_set(PRIORITY, 0)
            except RETRYABLE_ERRORS as exc:
                raise SwitchoverError('Cannot set %s 0 on replica %s: %s; %s.'
                                      % (PRIORITY, replica, describe_error(exc), NOT_STARTED), [])
        if not self.target:
            return
        # The target too: after a switchover Sentinel may still see the 0 a previous run set on it.
        try:
            if self.priorities_seen()[0]:
                return
        except RETRYABLE_ERRORS:
            pass
        wanted = ['0 on %s' % (replica,) for replica in self.lowered]
        wanted.append('%d on target %s' % (self.priorities[self.target], self.target))
        self.hasten_info()
        try:
            self.wait(self.priorities_seen, 'Sentinel %s did not see %s %s'
                      % (self.options.sentinels[0], PRIORITY, ', '.join(wanted)), NOT_STARTED)
        finally:
            # Before SENTINEL FAILOVER: Sentinel only promotes replicas whose INFO is not older than three periods.
            self.leftovers += self.restore_info_period()

    def hasten_info(self) -> None:
        """Make the first Sentinel read INFO of the replicas now rather than within 10s (SENTINEL DEBUG, Redis 7.0).

        Sentinel reads the replica-priority of a replica from its INFO, every info-period (10s). A
        shorter period takes effect at once, since a replica's INFO is read again when the last one is
        older than the period. Without SENTINEL DEBUG (Sentinel before 7.0, ACL), the regular refresh
        is awaited.
        """
        client = self.sentinels[self.options.sentinels[0]]
        try:
            period = debug_periods(client).get('INFO-PERIOD')
        except RETRYABLE_ERRORS:
            return
        if not isinstance(period, int) or period <= FAST_INFO_PERIOD:
            return
        self.info_period = period
        try:
            client.execute_command('SENTINEL', 'DEBUG', 'info-period', FAST_INFO_PERIOD)
        except ResponseError:
            self.info_period = None
        except RETRYABLE_ERRORS:
            pass  # It may have been applied: it is set back in any case.

    def restore_info_period(self) -> list[str]:
        if self.info_period is None:
            return []
        address = self.options.sentinels[0]
        try:
            self.sentinels[address].execute_command('SENTINEL', 'DEBUG', 'info-period', self.info_period)
        except RETRYABLE_ERRORS as exc:
            return ['Sentinel %s may still read INFO every %dms instead of %dms (%s): run SENTINEL DEBUG '
                    'info-period %d on it'
                    % (address, FAST_INFO_PERIOD, self.info_period, describe_error(exc), self.info_period)]
        self.info_period = None
        return []

    def restore_priorities(self) -> list[str]:
        """Set back and persist the lowered priorities; what could not be done."""
        unrestored = []
        for replica, priority in self.lowered.items():
            client = self.nodes.client(replica)
            try:
                client.config_set(PRIORITY, priority)
            except RETRYABLE_ERRORS as exc:
                unrestored.append('%s of replica %s is still 0 (%s): run CONFIG SET %s %d and CONFIG REWRITE on it'
                                  % (PRIORITY, replica, describe_error(exc), PRIORITY, priority))
                continue
            # Without a configuration file Sentinel could not persist the 0 either.
            error = rewrite_error(client)
            if error:
                unrestored.append('%s of replica %s is set back to %d but CONFIG REWRITE failed (%s): its '
                                  'configuration file may still say 0' % (PRIORITY, replica, priority, error))
        return unrestored

    def priorities_seen(self) -> tuple[bool, dict[str, Any]]:
        address = self.options.sentinels[0]
        seen = {Address(node['ip'], node['port']): node.get('slave-priority')
                for node in sentinel_replicas(self.sentinels[address], self.name)}
        if self.info_period:
            refresh = 'it reads INFO of replicas every %dms now' % FAST_INFO_PERIOD
        else:
            refresh = 'it reads INFO of replicas every 10s; SENTINEL DEBUG, Redis 7.0, is not available'
        unmet = ['Sentinel %s still sees %s %s on %s (%s)' % (address, PRIORITY, seen.get(replica), replica, refresh)
                 for replica in self.lowered if seen.get(replica) != 0]
        if not seen.get(self.target):
            unmet.append('Sentinel %s still sees %s %s on target %s (%s)'
                         % (address, PRIORITY, seen.get(self.target), self.target, refresh))
        return not unmet, dict(unmet=unmet)

    # Catch-up, write fence and failover.

    def catch_up(self) -> None:
        """Before the fence, so that writes are paused only for the last bytes in flight."""
        try:
            offset = master_repl_offset(self.nodes.client(self.old).info('replication'))
        except RETRYABLE_ERRORS as exc:
            raise SwitchoverError('Cannot read the replication offset of master %s: %s; %s.'
                                  % (self.old, describe_error(exc), NOT_STARTED), [])
        self.wait(self.caught_up(offset), 'The replicas did not catch up with offset %d of master %s'
                  % (offset, self.old), NOT_STARTED)

    def fenced_failover(self) -> None:
        """Pause the writes of the old master, promote, point the old master at the new one, then unpause.

        A client whose write arrives while the writes are paused waits; once the old master is a
        replica its write is refused with -READONLY. So the old master takes no write after the
        offset every replica reached, and each replica, the promoted one included, holds every
        write the old master ever acknowledged.
        """
        self.pause_writes()
        self.wait(self.settled, 'The replicas did not reach the offset of master %s with its writes paused'
                  % (self.old,), NOT_STARTED, self.fence_deadline())
        self.start_failover()
        self.wait(self.promotion, 'No replica was promoted', 'SENTINEL FAILOVER %s was sent to %s' % (
            self.name, self.options.sentinels[0]), self.fence_deadline(), FENCE_POLL_INTERVAL)
        self.wait(self.demotion, 'Old master %s did not become a replica of %s' % (self.old, self.promoted),
                  'replica %s was promoted' % (self.promoted,), self.fence_deadline(), FENCE_POLL_INTERVAL)
        self.leftovers += self.lift_fence()
        self.leftovers += self.persist_demotion()

    def fence_deadline(self) -> float:
        """Waits under the fence end early enough to lift it before the pause ends on its own."""
        return min(self.deadline, self.pause_end - FENCE_MARGIN)

    def pause_writes(self) -> None:
        remaining_ms = int((self.deadline - time.monotonic()) * 1000)
        if remaining_ms <= 0:
            raise SwitchoverError('No time left within %gs to pause the writes of master %s; %s.'
                                  % (self.params['timeout'], self.old, NOT_STARTED), [])
        started = time.monotonic()
        # Also when the answer is lost: the pause may be in place, so it is lifted in any case.
        self.paused, self.pause_started, self.pause_end = True, started, started + remaining_ms / 1000.0
        try:
            self.nodes.client(self.old).execute_command('CLIENT', 'PAUSE', remaining_ms, 'WRITE')
        except ResponseError as exc:
            self.paused = False
            raise SwitchoverError('Master %s refused CLIENT PAUSE %d WRITE (%s): Redis 6.2 or later is required, '
                                  'and master_user must be allowed CLIENT; %s.'
                                  % (self.old, remaining_ms, describe_error(exc), NOT_STARTED), [])
        except RETRYABLE_ERRORS as exc:
            raise SwitchoverError('No answer from master %s to CLIENT PAUSE WRITE (%s); %s.'
                                  % (self.old, describe_error(exc), NOT_STARTED), [])

    def settled(self) -> tuple[bool, dict[str, Any]]:
        """Every replica at the offset of the paused master (still moved by its PINGs to the replicas)."""
        offset = master_repl_offset(self.nodes.client(self.old).info('replication'))
        return self.caught_up(offset)()

    def start_failover(self) -> None:
        address = self.options.sentinels[0]
        try:
            self.sentinels[address].execute_command('SENTINEL', 'FAILOVER', self.name)
        except ResponseError as exc:
            raise SwitchoverError(failover_refusal(address, self.name, str(exc)), [])
        except RETRYABLE_ERRORS as exc:
            self.changed, self.new, self.failover_sent = True, None, True
            raise SwitchoverError('No answer from Sentinel %s to SENTINEL FAILOVER %s (%s): the failover may have '
                                  'started, check with redisops.sentinel.topology_info.'
                                  % (address, self.name, describe_error(exc)), [])
        # From now on the master is the one the Sentinels agree on, once they do.
        self.changed, self.new, self.failover_sent = True, None, True

    def promotion(self) -> tuple[bool, dict[str, Any]]:
        """Whether a replica reports role master: Sentinel sent it REPLICAOF NO ONE."""
        unmet = []
        for replica in self.replicas:
            try:
                role = self.nodes.client(replica).execute_command('ROLE')[0]
            except RETRYABLE_ERRORS as exc:
                # Sentinel kills the clients of the replica it promotes: the next probe reconnects.
                unmet.append('replica %s: %s' % (replica, describe_error(exc)))
                continue
            if role == 'master':
                self.promoted = replica
                return True, {}
            unmet.append('replica %s reports role %s' % (replica, role))
        self.check_not_aborted()
        return False, dict(unmet=unmet)

    def check_not_aborted(self) -> None:
        """Raise when Sentinel gave up the failover (no replica it can promote after all, ...)."""
        address = self.options.sentinels[0]
        vote = Vote.from_master(str(address), sentinel_master(self.sentinels[address], self.name))
        if vote.master == str(self.old) and not vote.failing_over:
            self.failover_aborted, self.changed, self.new = True, False, self.old
            raise SwitchoverError('Sentinel %s gave up the failover of %r (its log tells why, -failover-abort-*); '
                                  'nothing was switched.' % (address, self.name), [])

    def demotion(self) -> tuple[bool, dict[str, Any]]:
        """REPLICAOF <promoted> on the old master, as Sentinel would about 10 seconds later."""
        try:
            self.nodes.client(self.old).execute_command('REPLICAOF', self.promoted.host, self.promoted.port)
        except ResponseError as exc:
            raise SwitchoverError('Old master %s refused REPLICAOF %s %d (%s): master_user must be allowed '
                                  'REPLICAOF. Writes it takes until Sentinel converts it into a replica are lost.'
                                  % (self.old, self.promoted.host, self.promoted.port, describe_error(exc)), [])
        self.demoted = True
        return True, {}

    def lift_fence(self) -> list[str]:
        """CLIENT UNPAUSE on the old master, after demoting it if a replica was promoted; what went wrong."""
        if not self.paused:
            return []
        problems = []
        if self.failover_sent and not self.demoted and not self.failover_aborted:
            # The run failed after SENTINEL FAILOVER: a last look, then let the old master take writes again.
            try:
                if self.promotion()[0]:
                    self.demotion()
            except (SwitchoverError,) + RETRYABLE_ERRORS:
                pass
            if not self.demoted:
                problems.append('old master %s takes writes again although SENTINEL FAILOVER was sent: if Sentinel '
                                'still promotes a replica, the writes it takes until Sentinel converts it into a '
                                'replica are lost' % (self.old,))
        try:
            self.nodes.client(self.old).execute_command('CLIENT', 'UNPAUSE')
        except RETRYABLE_ERRORS as exc:
            pause_length = self.pause_end - self.pause_started
            problems.append('CLIENT UNPAUSE failed on %s (%s): its clients\' writes wait until the pause ends, '
                            '%.1fs after it started' % (self.old, describe_error(exc), pause_length))
        self.paused = False
        self.write_pause = round(time.monotonic() - self.pause_started, 3)
        return problems

    def persist_demotion(self) -> list[str]:
        """CONFIG REWRITE and client kills on the old master, as Sentinel does on each node it reconfigures."""
        client = self.nodes.client(self.old)
        problems = []
        error = rewrite_error(client)
        if error:
            problems.append('old master %s replicates from %s but CONFIG REWRITE failed (%s): after a restart it '
                            'would be a master, and lose the writes it takes until Sentinel converts it'
                            % (self.old, self.promoted, error))
        # Long-lived clients find the master again through Sentinel (our own connection is skipped).
        for kind in ('normal', 'pubsub'):
            try:
                client.execute_command('CLIENT', 'KILL', 'TYPE', kind)
            except RETRYABLE_ERRORS:
                pass
        return problems

    def wait(self, check: Check, what: str, consequence: str, deadline: float | None = None,
             interval: float | None = None) -> None:
        timeout = max((self.deadline if deadline is None else deadline) - time.monotonic(), 0)
        outcome = poll_until(check, timeout, interval or self.params['poll_interval'], RETRYABLE_ERRORS)
        if outcome.ready:
            return
        unmet = list(outcome.state.get('unmet', []))
        if outcome.last_error:
            unmet.append('last error: %s' % outcome.last_error)
        raise SwitchoverError('%s within %gs; %s. Unmet: %s.'
                              % (what, self.params['timeout'], consequence, '; '.join(unmet)), unmet)

    def caught_up(self, offset: int) -> Check:
        def check() -> tuple[bool, dict[str, Any]]:
            unmet = []
            for replica in self.replicas:
                behind = offset - self.nodes.replication(replica).get('slave_repl_offset', 0)
                if behind > 0:
                    unmet.append('replica %s is %d byte(s) behind' % (replica, behind))
            return not unmet, dict(unmet=unmet)
        return check

    # The end.

    def wrong_new_master(self, master: Address) -> str | None:
        if master == self.old:
            return 'still the old master'
        if self.promoted and master != self.promoted:
            return 'expected %s, the replica that was promoted' % (self.promoted,)
        if self.target and master != self.target:
            return 'expected %s' % (self.target,)
        return None

    def followers(self) -> list[Address]:
        """The data nodes that must replicate from the new master: the old master and the other replicas."""
        return [node for node in [self.old] + self.replicas if node != self.new]

    def switched(self) -> tuple[bool, dict[str, Any]]:
        self.answers = self.ask_sentinels()
        unmet = sentinel_unmet(self.answers, self.name, self.wrong_new_master)
        if unmet:
            return False, dict(unmet=unmet)
        self.new = self.answers[0].master
        unmet = [problem for answer in self.answers for problem in unseen_replicas(answer, self.followers())]
        unmet += master_unmet(self.nodes, self.new, 'new master')
        for node in self.followers():
            unmet += follower_unmet(self.nodes, node, self.new, OLD_MASTER if node == self.old else 'replica')
        return not unmet, dict(unmet=unmet)

    def close(self) -> None:
        for client in self.sentinels.values():
            client.close()
        self.nodes.close()
