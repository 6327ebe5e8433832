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
  - ansible.builtin.action_common_attributes.flow
  - redisops.sentinel.remote_step
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.sentinel_wait import CONSTRAINTS, argument_spec, run


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **CONSTRAINTS)
    run(module)


if __name__ == '__main__':
    main()
