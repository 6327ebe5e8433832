# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The replica_wait module's work: wait until a replica's link to its master is up (and its lag small).

Shared by plugins/modules/replica_wait.py and node_apply (the collection's one remote module: the
action plugin of replica_wait runs it there, so that a run builds one module payload, not one per module)."""

from __future__ import annotations

from typing import Any, NoReturn

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


# The options' rules beyond their types: none (node_apply checks a step of each module with its CONSTRAINTS).
CONSTRAINTS: dict[str, Any] = {}


def run(module: AnsibleModule) -> NoReturn:
    """The module's work on its validated options: it ends in module.exit_json or module.fail_json."""
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
