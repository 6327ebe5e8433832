# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sentinel_wait module's work: wait until a Sentinel sees the expected master, replicas and Sentinels.

Shared by plugins/modules/sentinel_wait.py and node_apply (the collection's one remote module: the
action plugin of sentinel_wait runs it there, so that a run builds one module payload, not one per module)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, NoReturn

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.address import (
    Address,
    AddressMatcher,
    is_local_address,
    parse_address,
    parse_address_list,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    REDIS_PORT,
    RETRYABLE_ERRORS,
    SENTINEL_PORT,
    ResponseError,
    common_param_errors,
    connect,
    connection_argument_spec,
    ensure_redis_library,
    fail_on_param_errors,
    port_error,
    wait_argument_spec,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.probe import probe
from ansible_collections.redisops.sentinel.plugins.module_utils.sentinel import (
    REPLICA_DOWN_FLAGS,
    SENTINEL_DOWN_FLAGS,
    SentinelExpectation,
    SentinelReport,
    evaluate,
    is_healthy,
    node_address,
    observe,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.tls import TlsSettings
from ansible_collections.redisops.sentinel.plugins.module_utils.validate import MASTER_NAME_CHARACTERS, is_master_name
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import WaitOutcome, conclude, poll_until


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(SENTINEL_PORT)
    spec.update(wait_argument_spec())
    spec.update(
        master_name=dict(type='str', required=True),
        master_host=dict(type='str'),
        master_port=dict(type='int', default=REDIS_PORT),
        replica_count=dict(type='int'),
        replica_addresses=dict(type='list', elements='str'),
        sentinel_count=dict(type='int'),
        sentinel_addresses=dict(type='list', elements='str'),
        check_quorum=dict(type='bool', default=True),
        master_user=dict(type='str'),
        master_password=dict(type='str', no_log=True),
    )
    return spec


def expected_count(params: dict[str, Any], count_key: str, list_key: str, errors: list[str]) -> int | None:
    count, listed = params[count_key], params[list_key]
    if count is not None and count < 0:
        errors.append('%s must not be negative, got %d' % (count_key, count))
    if count is not None and listed is not None and count != len(listed):
        errors.append('%s is %d but %s lists %d address(es)' % (count_key, count, list_key, len(listed)))
    return len(listed) if count is None and listed is not None else count


def other_sentinels(sentinels: list[Address], params: dict[str, Any]) -> list[Address]:
    """The expected Sentinels except the queried one."""
    queried = AddressMatcher(Address(params['login_host'], params['login_port']))
    login_is_local = is_local_address(params['login_host'])

    def is_queried(address: Address) -> bool:
        if address.port != params['login_port']:
            return False
        return queried.matches(address.host, address.port) or (login_is_local and is_local_address(address.host))

    return [address for address in sentinels if not is_queried(address)]


def announced_address(client: Any, login_port: int) -> Address | None:
    """The address the queried Sentinel announces to its peers (announce-ip/-port), if any."""
    settings: dict[str, str] = {}
    for name in ('announce-ip', 'announce-port'):
        try:
            reply = client.execute_command('SENTINEL', 'CONFIG', 'GET', name)
        except ResponseError:  # before Sentinel 6.2, or not allowed by its ACL
            return None
        pairs = reply.items() if isinstance(reply, dict) else zip(reply[0::2], reply[1::2])
        settings.update((str(key), str(value)) for key, value in pairs)
    host = settings.get('announce-ip', '')
    if not host:
        return None
    port = int(settings.get('announce-port') or 0) or login_port
    return Address(host, port)


def without_announced(expect: SentinelExpectation, announced: Address | None) -> SentinelExpectation:
    """Leave the queried Sentinel, found by the address it announces, out of the expected others."""
    if announced is None:
        return expect
    expect.sentinels = [matcher for matcher in expect.sentinels if not matcher.matches(announced.host, announced.port)]
    return expect


def build_expectation(params: dict[str, Any]) -> tuple[SentinelExpectation, list[str]]:
    """The expectation described by the parameters, and the problems with them."""
    errors = common_param_errors(params)
    error = port_error('master_port', params['master_port'])
    if error:
        errors.append(error)
    if not is_master_name(params['master_name']):
        errors.append('master_name may only contain %s, got %r' % (MASTER_NAME_CHARACTERS, params['master_name']))
    replicas = parse_address_list(params['replica_addresses'], params['master_port'], 'replica_addresses', errors)
    sentinels = parse_address_list(params['sentinel_addresses'], params['login_port'], 'sentinel_addresses', errors)
    replica_count = expected_count(params, 'replica_count', 'replica_addresses', errors)
    sentinel_count = expected_count(params, 'sentinel_count', 'sentinel_addresses', errors)
    if sentinel_count is not None and sentinel_count < 1:
        errors.append('sentinel_count counts the queried Sentinel and must be at least 1, got %d' % sentinel_count)
    if errors:
        return SentinelExpectation(name=params['master_name']), errors
    master = Address(params['master_host'], params['master_port']) if params['master_host'] else None
    expect = SentinelExpectation(
        name=params['master_name'],
        master=AddressMatcher(master) if master else None,
        replica_count=replica_count,
        replicas=[AddressMatcher(address) for address in replicas],
        sentinel_count=sentinel_count,
        sentinels=[AddressMatcher(address) for address in other_sentinels(sentinels, params)],
        check_quorum=params['check_quorum'],
    )
    return expect, errors


def describe(expect: SentinelExpectation) -> str:
    parts = ['master %s' % (str(expect.master.expected) if expect.master else 'at any address'),
             'master not s_down/o_down/failover_in_progress']
    if expect.replica_count is not None:
        parts.append('%d replica(s)' % expect.replica_count)
    if expect.sentinel_count is not None:
        parts.append('%d Sentinel(s)' % expect.sentinel_count)
    if expect.check_quorum:
        parts.append('CKQUORUM OK')
    return ', '.join(parts)


def down_nodes(nodes: list[dict[str, Any]], down_flags: tuple[str, ...]) -> list[Address]:
    return [Address(node['ip'], node['port']) for node in nodes if not is_healthy(node, down_flags)]


def diagnose(params: dict[str, Any], state: dict[str, Any], report: SentinelReport) -> list[dict[str, str]]:
    """Probe from this host the peers that can explain the timeout."""
    timeout, tls = params['connect_timeout'], TlsSettings.from_params(params)
    data_auth = (params['master_password'], params['master_user'])
    sentinel_auth = (params['login_password'], params['login_user'])
    if not state:
        targets = [('queried sentinel', Address(params['login_host'], params['login_port']), sentinel_auth)]
    else:
        targets = []
        master = state['master']
        if params['master_host']:
            targets.append(('master', Address(params['master_host'], params['master_port']), data_auth))
        elif master:
            targets.append(('master', Address(master['ip'], master['port']), data_auth))
        replicas = [parse_address(text, params['master_port']) for text in report.missing_replicas]
        replicas += down_nodes(state['replicas'], REPLICA_DOWN_FLAGS)
        sentinels = [parse_address(text, params['login_port']) for text in report.missing_sentinels]
        sentinels += down_nodes(state['sentinels'], SENTINEL_DOWN_FLAGS)
        targets += [('replica', address, data_auth) for address in replicas]
        targets += [('sentinel', address, sentinel_auth) for address in sentinels]
    probes, seen = [], set()
    for role, address, (password, user) in targets:
        if address not in seen:
            seen.add(address)
            probes.append(dict(role=role, **probe(address.host, address.port, password, user, timeout, tls)))
    return probes


def result_of(params: dict[str, Any], expect: SentinelExpectation,
              outcome: WaitOutcome) -> tuple[dict[str, Any], SentinelReport]:
    report = evaluate(outcome.state, expect)
    sentinel = Address(params['login_host'], params['login_port'])
    if outcome.ready:
        state = outcome.state
        replicas = [node for node in state['replicas'] if is_healthy(node, REPLICA_DOWN_FLAGS)]
        sentinels = [node for node in state['sentinels'] if is_healthy(node, SENTINEL_DOWN_FLAGS)]
        msg = 'Sentinel %s sees master %r at %s with %d replica(s) and %d Sentinel(s).' % (
            sentinel, expect.name, node_address(state['master']), len(replicas), len(sentinels) + 1)
    else:
        msg = 'Sentinel %s is not ready for master %r after %ss (expected %s). Unmet: %s.' % (
            sentinel, expect.name, outcome.elapsed, describe(expect), '; '.join(report.unmet))
        if outcome.last_error:
            msg += ' Last error: %s.' % outcome.last_error.rstrip('.')
    result = dict(changed=False, ready=outcome.ready, elapsed=outcome.elapsed, state=outcome.state,
                  last_error=outcome.last_error, msg=msg)
    result.update(asdict(report))
    return result, report


# The options' rules beyond their types: none (node_apply checks a step of each module with its CONSTRAINTS).
CONSTRAINTS: dict[str, Any] = {}


def run(module: AnsibleModule) -> NoReturn:
    """The module's work on its validated options: it ends in module.exit_json or module.fail_json."""
    params = module.params
    expect, errors = build_expectation(params)
    fail_on_param_errors(module, errors)
    ensure_redis_library(module)

    client = connect(params)

    announced_known = False

    def check() -> tuple[bool, dict[str, Any]]:
        nonlocal announced_known
        if not announced_known:
            # Asked once the Sentinel answers: behind NAT its peers know it by the announced address only.
            without_announced(expect, announced_address(client, params['login_port']))
            announced_known = True
        state = observe(client, expect.name, expect.check_quorum)
        return not evaluate(state, expect).unmet, state

    try:
        timeout = 0 if module.check_mode else params['timeout']
        outcome = poll_until(check, timeout, params['poll_interval'], RETRYABLE_ERRORS)
    finally:
        client.close()

    result, report = result_of(params, expect, outcome)

    def diagnosis() -> tuple[list[dict[str, str]], str]:
        probes = diagnose(params, outcome.state, report)
        text = ' '.join('%s %s: %s. %s' % (item['role'], item['peer'], item['result'], item['hint'])
                        for item in probes)
        return probes, ' Probes from this host: %s' % text if probes else ''

    conclude(module, result, outcome.ready, diagnosis)
