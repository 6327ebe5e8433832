#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: replica_wait
short_description: Wait until a Redis replica is connected to its master and in sync
version_added: "0.1.0"
description:
  - Polls C(INFO replication) of the Redis server at O(login_host):O(login_port) until it
    reports C(role:slave), C(master_link_status:up) and C(master_sync_in_progress:0).
  - With O(master_host), the replica must also replicate from O(master_host):O(master_port).
    A host name matches when it resolves, on the managed host, to the address the replica reports.
  - With O(max_lag_bytes), the module also connects to the master (with the same credentials)
    and requires C(master_repl_offset - slave_repl_offset) to be at most O(max_lag_bytes).
  - Connection errors while the server starts (connection refused, C(LOADING) ...) are retried
    until O(timeout).
  - On timeout the task fails with the unmet conditions, the last error, and a probe of the
    master address made from the managed host (TCP connect, TLS handshake with O(tls=true),
    C(AUTH), C(PING)) with a hint on the likely cause (firewall, bind, protected-mode, password,
    TLS certificates).
  - Never changes anything.
extends_documentation_fragment:
  - redisops.sentinel.connection
  - redisops.sentinel.connection.wait
  - redisops.sentinel.connection.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details:
      - In check mode the replica is observed once and the task never fails because it is not
        ready (the service may not be installed yet); V(ready) tells the result.
options:
  login_port:
    description:
      - TCP port of the Redis replica to query.
      - Must be between 1 and 65535.
    type: int
    default: 6379
  master_host:
    description:
      - Host name or IP address the replica must replicate from.
      - When unset, any master is accepted.
    type: str
  master_port:
    description:
      - Port of the master. Compared only when O(master_host) is set.
      - Also used to measure the lag when O(max_lag_bytes) is set.
    type: int
    default: 6379
  max_lag_bytes:
    description:
      - Maximum accepted replication lag in bytes (master offset minus replica offset).
      - Requires that the master can be reached from the managed host.
      - Must not be negative.
    type: int
requirements:
  - redis (Python library, redis-py 4.3 or later)
seealso:
  - module: redisops.sentinel.sentinel_wait
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Wait until the local replica is in sync with the expected master
  redisops.sentinel.replica_wait:
    login_password: "{{ redis_password }}"
    master_host: "{{ redis_master_address }}"
    timeout: 120

- name: Wait until the replica lags at most 1 MiB behind its master
  redisops.sentinel.replica_wait:
    login_host: 10.0.0.12
    login_password: "{{ redis_password }}"
    master_host: 10.0.0.11
    max_lag_bytes: 1048576
  register: replica

- name: Show how long it took
  ansible.builtin.debug:
    msg: "Replica ready after {{ replica.elapsed }}s, lag {{ replica.state.lag_bytes }} bytes"
"""

RETURN = r"""
ready:
  description: Whether the replica met all conditions. Always V(true) when the task succeeds outside check mode.
  returned: always
  type: bool
  sample: true
elapsed:
  description: Seconds spent waiting (monotonic clock).
  returned: always
  type: float
  sample: 0.42
msg:
  description: Human readable outcome; on failure the unmet conditions, the last error and the probe hint.
  returned: always
  type: str
  sample: Replica 127.0.0.1:6379 is in sync with 10.0.0.11:6379.
unmet:
  description: The conditions the last observed state did not meet. Empty when ready.
  returned: always
  type: list
  elements: str
  sample: ["master_link_status is down for 12s, expected up (link to 10.0.0.11:6379)"]
last_error:
  description: Error of the latest attempt to query the replica (or master), null when it answered.
  returned: always
  type: str
  sample: "ConnectionError: Error 111 connecting to 127.0.0.1:6379. Connection refused."
state:
  description:
    - Last observed replication state of the queried server. Empty when it never answered.
    - For a server with C(role:master), only RV(state.role), C(connected_slaves) and C(master_repl_offset).
  returned: always
  type: dict
  contains:
    role:
      description: C(slave) for a replica, C(master) otherwise.
      type: str
      sample: slave
    master_host:
      description: Master address the replica reports.
      type: str
      sample: 10.0.0.11
    master_port:
      description: Master port the replica reports.
      type: int
      sample: 6379
    master_link_status:
      description: C(up) or C(down).
      type: str
      sample: up
    master_sync_in_progress:
      description: V(1) while the initial synchronisation runs.
      type: int
      sample: 0
    slave_repl_offset:
      description: Replication offset of the replica.
      type: int
      sample: 12345
    master_last_io_seconds_ago:
      description: Seconds since the last interaction with the master.
      type: int
      sample: 1
    master_link_down_since_seconds:
      description: Seconds since the link went down. Only present while it is down.
      type: int
      sample: 12
    lag_bytes:
      description: Master offset minus replica offset. Only present when O(max_lag_bytes) is set and measured.
      type: int
      sample: 0
diagnosis:
  description:
    - Probe made from the managed host on timeout, of the expected master (else of the master the
      replica reports, else of the replica itself).
  returned: on timeout
  type: dict
  contains:
    peer:
      description: Probed address, C(host:port).
      type: str
      sample: 10.0.0.11:6379
    result:
      description: >-
        One of V(ok), V(refused), V(timeout), V(no_route), V(dns), V(noauth), V(wrongpass),
        V(protected_mode), V(tls_error) (with O(tls=true): a failed TLS handshake, or a session
        the server ends at once, e.g. for lack of a client certificate), V(error).
      type: str
      sample: refused
    detail:
      description: The socket error or the reply line behind the result.
      type: str
      sample: Connection refused
    hint:
      description: One line naming the likely cause and what to check.
      type: str
      sample: >-
        Nothing listens on 10.0.0.11:6379 (connection refused): check that the service runs
        on the peer and that its bind includes this address.
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.address import AddressMatcher, Address
from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    REDIS_PORT,
    RETRYABLE_ERRORS,
    common_param_errors,
    connect,
    connection_argument_spec,
    ensure_redis_library,
    fail_on_param_errors,
    port_error,
    wait_argument_spec,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.probe import probe
from ansible_collections.redisops.sentinel.plugins.module_utils.tls import TlsSettings
from ansible_collections.redisops.sentinel.plugins.module_utils.replication import (
    ReplicaExpectation,
    master_repl_offset,
    replica_unmet,
    replication_state,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import WaitOutcome, conclude, poll_until


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(REDIS_PORT)
    spec.update(wait_argument_spec())
    spec.update(
        master_host=dict(type='str'),
        master_port=dict(type='int', default=REDIS_PORT),
        max_lag_bytes=dict(type='int'),
    )
    return spec


def param_errors(params: dict[str, Any]) -> list[str]:
    errors = common_param_errors(params)
    error = port_error('master_port', params['master_port'])
    if error:
        errors.append(error)
    if params['max_lag_bytes'] is not None and params['max_lag_bytes'] < 0:
        errors.append('max_lag_bytes must not be negative, got %d' % params['max_lag_bytes'])
    return errors


class ReplicaChecker:
    """One observation of the replica, plus the master's offset when the lag matters."""

    def __init__(self, params: dict[str, Any], expect: ReplicaExpectation):
        self.params = params
        self.expect = expect
        self.replica = connect(params)
        self.masters: dict[Address, Any] = {}

    def __call__(self) -> tuple[bool, dict[str, Any]]:
        state = replication_state(self.replica.info('replication'))
        if self.expect.max_lag_bytes is not None and self._link_up(state):
            state['lag_bytes'] = self._master_offset(master_address(self.params, state)) \
                - state['slave_repl_offset']
        return not replica_unmet(state, self.expect), state

    @staticmethod
    def _link_up(state: dict[str, Any]) -> bool:
        return state.get('role') == 'slave' and state.get('master_link_status') == 'up'

    def _master_offset(self, address: Address) -> int:
        if address not in self.masters:
            self.masters[address] = connect(self.params, address.host, address.port)
        return master_repl_offset(self.masters[address].info('replication'))

    def close(self) -> None:
        for client in [self.replica, *self.masters.values()]:
            client.close()


def master_address(params: dict[str, Any], state: dict[str, Any]) -> Address | None:
    """The expected master, else the one the replica reports, else None."""
    if params['master_host']:
        return Address(params['master_host'], params['master_port'])
    if state.get('master_host'):
        return Address(state['master_host'], state.get('master_port', REDIS_PORT))
    return None


def diagnose(params: dict[str, Any], state: dict[str, Any]) -> dict[str, str]:
    target = master_address(params, state) or Address(params['login_host'], params['login_port'])
    return probe(target.host, target.port, params['login_password'], params['login_user'],
                 params['connect_timeout'], TlsSettings.from_params(params))


def result_of(params: dict[str, Any], expect: ReplicaExpectation, outcome: WaitOutcome) -> dict[str, Any]:
    replica = Address(params['login_host'], params['login_port'])
    unmet = [] if outcome.ready else replica_unmet(outcome.state, expect)
    if outcome.ready:
        msg = 'Replica %s is in sync with %s.' % (replica, master_address(params, outcome.state))
    else:
        msg = 'Replica %s is not ready after %ss (expected %s). Unmet: %s.' % (
            replica, outcome.elapsed, expect.describe(), '; '.join(unmet))
        if outcome.last_error:
            msg += ' Last error: %s.' % outcome.last_error.rstrip('.')
    return dict(changed=False, ready=outcome.ready, elapsed=outcome.elapsed, state=outcome.state,
                unmet=unmet, last_error=outcome.last_error, msg=msg)


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    fail_on_param_errors(module, param_errors(params))
    ensure_redis_library(module)

    master = Address(params['master_host'], params['master_port']) if params['master_host'] else None
    expect = ReplicaExpectation(master=AddressMatcher(master) if master else None,
                                max_lag_bytes=params['max_lag_bytes'])
    checker = ReplicaChecker(params, expect)
    try:
        timeout = 0 if module.check_mode else params['timeout']
        outcome = poll_until(checker, timeout, params['poll_interval'], RETRYABLE_ERRORS)
    finally:
        checker.close()

    def diagnosis() -> tuple[dict[str, str], str]:
        found = diagnose(params, outcome.state)
        return found, ' Probe of %s from this host: %s. %s' % (found['peer'], found['result'], found['hint'])

    conclude(module, result_of(params, expect, outcome), outcome.ready, diagnosis)


if __name__ == '__main__':
    main()
