#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sentinel_wait
short_description: Wait until a Redis Sentinel sees the expected master, replicas and Sentinels
version_added: "0.1.0"
description:
  - Polls the Sentinel at O(login_host):O(login_port) with C(SENTINEL MASTER), C(SENTINEL REPLICAS)
    (C(SENTINEL SLAVES) on old servers), C(SENTINEL SENTINELS) and C(SENTINEL CKQUORUM) until, for
    O(master_name), all of the following hold.
  - The master is at O(master_host):O(master_port), when O(master_host) is set. A host name matches
    when it resolves, on the managed host, to the address the Sentinel reports.
  - The master's flags contain none of C(s_down), C(o_down), C(failover_in_progress).
  - The number of replicas whose flags contain neither C(s_down) nor C(disconnected) equals
    O(replica_count) (or the length of O(replica_addresses)), and, with O(replica_addresses),
    these are exactly the listed replicas.
  - The number of Sentinels, this one plus the other Sentinels not flagged C(s_down), equals
    O(sentinel_count) (or the length of O(sentinel_addresses)), and, with O(sentinel_addresses),
    these are exactly the listed Sentinels.
  - C(SENTINEL CKQUORUM) answers C(OK), unless O(check_quorum=false).
  - Connection errors while the Sentinel starts are retried until O(timeout).
  - On timeout the task fails with each unmet condition, the missing and unexpected peers by
    address, and probes made from the managed host (TCP connect, TLS handshake with O(tls=true),
    C(AUTH), C(PING)) of the master and of each missing or down peer, each with a hint on the
    likely cause.
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
      - In check mode the Sentinel is observed once and the task never fails because it is not
        ready (the service may not be installed yet); V(ready) tells the result.
options:
  login_port:
    description:
      - TCP port of the Sentinel to query.
      - Must be between 1 and 65535.
    type: int
    default: 26379
  master_name:
    description:
      - Name of the monitored master, as in C(sentinel monitor <master_name> ...).
      - Letters, digits, C(.), C(_) and C(-) only.
    type: str
    required: true
  master_host:
    description:
      - Address the Sentinel must report for the master. When unset, any master is accepted.
    type: str
  master_port:
    description:
      - Port of the master. Compared only when O(master_host) is set.
      - Default port of the entries of O(replica_addresses).
    type: int
    default: 6379
  replica_count:
    description:
      - Number of healthy replicas the Sentinel must know.
      - Defaults to the length of O(replica_addresses); when both are set they must agree.
      - When neither is set, replicas are not checked.
    type: int
  replica_addresses:
    description:
      - The replicas, as C(host:port) strings (port defaults to O(master_port); IPv6 as C([addr]:port)).
      - Used to tell which replicas are missing or unexpected.
    type: list
    elements: str
  sentinel_count:
    description:
      - Total number of Sentinels monitoring the master, the queried one included.
      - Defaults to the length of O(sentinel_addresses); when both are set they must agree.
      - When neither is set, Sentinels are not checked.
    type: int
  sentinel_addresses:
    description:
      - All Sentinels, the queried one included, as C(host:port) strings (port defaults to O(login_port)).
      - The queried Sentinel is recognised by O(login_port) and by its address (an address of the
        managed host when O(login_host) is local), and by the address it announces (C(announce-ip) and
        C(announce-port), behind NAT).
      - Used to tell which Sentinels are missing or unexpected.
    type: list
    elements: str
  check_quorum:
    description:
      - Require C(SENTINEL CKQUORUM) to answer C(OK).
    type: bool
    default: true
  master_user:
    description:
      - ACL user for the Redis data nodes (master and replicas).
      - Only used to probe them when diagnosing a timeout.
    type: str
  master_password:
    description:
      - Password of the Redis data nodes (master and replicas). O(login_password) is the Sentinel's.
      - Only used to probe them when diagnosing a timeout.
    type: str
requirements:
  - redis (Python library, redis-py 4.3 or later)
seealso:
  - module: redisops.sentinel.replica_wait
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Wait until the local Sentinel sees the whole group
  redisops.sentinel.sentinel_wait:
    master_name: mymaster
    master_host: 10.0.0.11
    replica_addresses:
      - 10.0.0.12
      - 10.0.0.13
    sentinel_addresses:
      - 10.0.0.11:26379
      - 10.0.0.12:26379
      - 10.0.0.13:26379
    master_password: "{{ redis_password }}"
    timeout: 90

- name: Only check counts and skip CKQUORUM
  redisops.sentinel.sentinel_wait:
    login_host: 10.0.0.11
    master_name: mymaster
    replica_count: 2
    sentinel_count: 3
    check_quorum: false
  register: sentinel

- name: Show the master the Sentinel reports
  ansible.builtin.debug:
    msg: >-
      {{ sentinel.state.master.ip }}:{{ sentinel.state.master.port }}
      ({{ sentinel.state.master.flags | join(',') }})
"""

RETURN = r"""
ready:
  description: Whether all conditions were met. Always V(true) when the task succeeds outside check mode.
  returned: always
  type: bool
  sample: true
elapsed:
  description: Seconds spent waiting (monotonic clock).
  returned: always
  type: float
  sample: 2.31
msg:
  description: Human readable outcome; on failure the unmet conditions, the last error and the probes.
  returned: always
  type: str
  sample: "Sentinel 127.0.0.1:26379 sees master 'mymaster' at 10.0.0.11:6379 with 2 replica(s) and 3 Sentinel(s)."
unmet:
  description: The conditions the last observed state did not meet. Empty when ready.
  returned: always
  type: list
  elements: str
  sample: ["1 healthy replica(s) known to the Sentinel, expected 2", "missing replica(s): 10.0.0.13:6379"]
last_error:
  description: Error of the latest attempt to query the Sentinel, null when it answered.
  returned: always
  type: str
  sample: null
missing_replicas:
  description: Entries of O(replica_addresses) that are not healthy replicas of the master, as C(host:port).
  returned: always
  type: list
  elements: str
  sample: ["10.0.0.13:6379"]
unexpected_replicas:
  description: Healthy replicas not listed in O(replica_addresses). Empty without O(replica_addresses).
  returned: always
  type: list
  elements: str
  sample: []
down_replicas:
  description: Replicas the Sentinel knows but flags C(s_down) or C(disconnected), as C(host:port (flags)).
  returned: always
  type: list
  elements: str
  sample: ["10.0.0.13:6379 (slave,s_down,disconnected)"]
missing_sentinels:
  description: Entries of O(sentinel_addresses) (other than the queried one) not seen as healthy Sentinels.
  returned: always
  type: list
  elements: str
  sample: []
unexpected_sentinels:
  description: Healthy Sentinels not listed in O(sentinel_addresses). Empty without O(sentinel_addresses).
  returned: always
  type: list
  elements: str
  sample: []
down_sentinels:
  description: Other Sentinels flagged C(s_down), as C(host:port (flags)).
  returned: always
  type: list
  elements: str
  sample: []
state:
  description: Last observed Sentinel view. Empty when the Sentinel never answered.
  returned: always
  type: dict
  contains:
    master:
      description:
        - C(SENTINEL MASTER) as a dict, null when the Sentinel knows no master of that name.
        - Keys as sent by the server (C(name), C(ip), C(port), C(runid), C(flags), C(quorum), C(num-slaves),
          C(num-other-sentinels), C(config-epoch), C(down-after-milliseconds), ...); integer values
          converted, C(flags) split into a list.
      type: dict
      sample: {"name": "mymaster", "ip": "10.0.0.11", "port": 6379, "flags": ["master"], "quorum": 2,
               "num-slaves": 2, "num-other-sentinels": 2, "config-epoch": 0}
    replicas:
      description: C(SENTINEL REPLICAS) entries, dicts like RV(state.master) (with C(master-link-status) ...).
      type: list
      elements: dict
      sample: [{"ip": "10.0.0.12", "port": 6379, "flags": ["slave"], "master-link-status": "ok"}]
    sentinels:
      description: C(SENTINEL SENTINELS) entries (the other Sentinels), dicts like RV(state.master).
      type: list
      elements: dict
      sample: [{"ip": "10.0.0.12", "port": 26379, "flags": ["sentinel"], "runid": "5e1c..."}]
    ckquorum:
      description: Answer to C(SENTINEL CKQUORUM), null with O(check_quorum=false) or an unknown master.
      type: str
      sample: OK 3 usable Sentinels. Quorum and failover authorization can be reached
diagnosis:
  description: Probes made from the managed host on timeout.
  returned: on timeout
  type: list
  elements: dict
  contains:
    role:
      description: V(master), V(replica), V(sentinel) or V(queried sentinel) (when the Sentinel never answered).
      type: str
      sample: replica
    peer:
      description: Probed address, C(host:port).
      type: str
      sample: 10.0.0.13:6379
    result:
      description: >-
        One of V(ok), V(refused), V(timeout), V(no_route), V(dns), V(noauth), V(wrongpass),
        V(protected_mode), V(tls_error) (with O(tls=true): a failed TLS handshake, or a session
        the server ends at once, e.g. for lack of a client certificate), V(error).
      type: str
      sample: no_route
    detail:
      description: The socket error or the reply line behind the result.
      type: str
      sample: No route to host
    hint:
      description: One line naming the likely cause and what to check.
      type: str
      sample: >-
        No route to 10.0.0.13:6379: typical of a firewalld REJECT with icmp-host-prohibited on the
        peer (open 6379/tcp for Redis, 26379/tcp for Sentinel), or there is no network route to it.
"""

from dataclasses import asdict
from typing import Any

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


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
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


if __name__ == '__main__':
    main()
