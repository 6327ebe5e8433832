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
  - ansible.builtin.action_common_attributes.flow
  - redisops.sentinel.remote_step
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.replica_wait import CONSTRAINTS, argument_spec, run


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **CONSTRAINTS)
    run(module)


if __name__ == '__main__':
    main()
