#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sentinel_failover
short_description: Planned switchover of a Sentinel-managed Redis master group
version_added: "0.1.0"
description:
  - Promotes a replica of the master group O(name) with C(SENTINEL FAILOVER), after making
    sure that every replica holds all the writes the master had acknowledged, and waits until the
    whole group follows the new master.
  - First asks every Sentinel of O(sentinels) (C(SENTINEL MASTER), C(SENTINEL REPLICAS),
    C(SENTINEL SENTINELS), C(INFO sentinel)) and refuses, changing nothing, when one of them does not answer, does not
    monitor O(name), is in TILT mode or reports the master with a flag among C(s_down),
    C(o_down), C(failover_in_progress), or when the Sentinels disagree on the master.
  - Nothing is done (V(changed=false)) when O(target) already is the master, or when
    O(only_if_master) is set and is not the master.
  - Then asks the data nodes (C(INFO replication), C(CONFIG GET replica-priority)) and refuses,
    changing nothing, when the master does not report C(role:master), when a replica a Sentinel
    knows is not listed by every Sentinel, is flagged C(s_down) or C(disconnected), does not
    replicate from the master with C(master_link_status:up) or runs its initial synchronisation,
    when O(target) is not one of these replicas, or when O(target) has C(replica-priority 0).
    A replica removed for good stays known to Sentinel until C(SENTINEL RESET) on every Sentinel.
  - Sentinel has no command to promote a given replica. With O(target), the module sets
    C(replica-priority 0) (never promote) with C(CONFIG SET) on every other replica, and waits until
    the first Sentinel of O(sentinels) reports these zeros and a non-zero priority for O(target).
    Sentinel reads them from C(INFO) of the replicas, every 10 seconds; on Sentinel 7.0 or later the
    module sets that period to 250 ms with C(SENTINEL DEBUG info-period) while it waits, and sets the
    previous value back before C(SENTINEL FAILOVER), so the wait lasts a fraction of a second (up to
    10 seconds when C(SENTINEL DEBUG) is missing or denied). Afterwards, also on failure and timeout,
    it sets the original priorities back and runs C(CONFIG REWRITE) on those replicas, because Sentinel
    rewrites the configuration file of every replica it reconfigures, which would otherwise keep the 0.
    Sentinel itself sees the restored values at its next C(INFO), within 10 seconds.
  - Then reads C(master_repl_offset) of the master and waits until every replica reports a
    C(slave_repl_offset) at least as large, so that the next step is short.
  - "Write fence: C(CLIENT PAUSE <ms> WRITE) on the master, for the time left of O(timeout). Its clients'
    writes wait from then on (reads go on). The module waits until every replica reports the offset of
    the master, now frozen; sends C(SENTINEL FAILOVER) to the first Sentinel of O(sentinels); probes
    the replicas with C(ROLE) every 50 ms, and as soon as one reports role master (Sentinel sent it
    C(REPLICAOF NO ONE), typically 0.2 s later) sends C(REPLICAOF <promoted>) to the old master itself,
    instead of waiting about 10 seconds for Sentinel to do it, and then C(CLIENT UNPAUSE). The writes
    that waited are then refused with C(-READONLY). Last, as Sentinel does on each node it reconfigures,
    C(CONFIG REWRITE) on the old master, so that a restart keeps it a replica, and C(CLIENT KILL TYPE
    normal) and C(TYPE pubsub), so that its clients find the master again through Sentinel. RV(write_pause)
    tells how long the writes waited."
  - On every failure after C(CLIENT PAUSE), the pause is lifted at once (C(CLIENT UNPAUSE)); if
    C(SENTINEL FAILOVER) was sent and a replica already is master, the old master is first made its
    replica. When the first Sentinel gives up the failover (no C(failover_in_progress) flag, the old
    master still its master), the module stops waiting and fails.
  - Finally waits until every Sentinel of O(sentinels) follows the new master (the same address, no
    C(s_down), C(o_down) or C(failover_in_progress) flag) and lists every other data node, the old
    master included, as a replica flagged neither C(s_down) nor C(disconnected); until the new master
    reports C(role:master); and until every other data node replicates from the new master with
    C(master_link_status:up). During a failover Sentinel reads C(INFO) of the replicas every second,
    once to see the promotion and once more to see the other replicas follow the new master, so this
    takes about 2 seconds; the whole switchover about 2.5 seconds on a fast network.
  - On timeout the task fails with what is still unmet (what each Sentinel sees, which node does
    not follow the new master).
  - All connections are made from the managed host the task runs on.
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
      - In check mode the module makes all the checks and reports V(changed=true) when it would
        switch over, without changing anything.
notes:
  - "What is guaranteed: no write the old master acknowledged is lost, with or without C(WAIT), before
    or during the task. The old master stops executing writes (C(CLIENT PAUSE WRITE)) before the module
    waits for every replica to hold all it executed, and never executes another one: the writes that
    waited are refused with C(-READONLY) once it replicates from the new master. Writes the new master
    acknowledges are kept too. Clients see their writes wait during the pause, about 0.2 s, then
    C(-READONLY) errors or a closed connection on the old master until they ask Sentinel again; the
    Sentinels report the new master about 1 s after the promotion."
  - "The limits: the pause ends by itself when O(timeout) ends. Should the module die or lose the old
    master between C(CLIENT PAUSE) and C(REPLICAOF), and Sentinel promote a replica, the writes the old
    master takes from the end of the pause until Sentinel converts it into a replica (about 10 s later)
    are lost; the task says so when it can. The guarantee is about the switchover: it does not cover
    crashes, restarts of nodes without persistence, network partitions or another failover during the
    task. Acknowledged means executed by the master; C(WAIT) is still what tells that a replica holds a
    write should the master crash."
  - "While writes are paused, commands that may replicate (C(EVAL), C(PUBLISH) ...) wait as well, Sentinel's
    C(PUBLISH) of hello messages and the C(PING) after it included: a pause longer than
    C(down-after-milliseconds) gets the old master flagged C(s_down) for a moment, which the final wait
    waits out. The master still sends C(PING) to its replicas during the pause (C(repl-ping-replica-period));
    if one falls between the catch-up and the promotion, the old master needs a full instead of a partial
    resynchronisation from the new master, nothing is lost."
  - "With Redis before 6.2 on the data nodes (no C(CLIENT PAUSE WRITE)) the task fails before C(SENTINEL
    FAILOVER), changing nothing."
options:
  timeout:
    description:
      - Maximum number of seconds for the whole run, the checks, the catch-up of the replicas and
        the switchover included. Must not be negative.
      - Allow at least 15 seconds, more with a large replication lag.
      - It also bounds the write pause on the old master, which lasts longer than a fraction of a second
        only when Sentinel neither promotes a replica nor gives up (for instance when the replica it
        chose does not answer).
    type: float
    default: 60
  login_port:
    description:
      - TCP port of the Sentinel when O(sentinels) is not set.
      - Must be between 1 and 65535.
    type: int
    default: 26379
  sentinels:
    description:
      - All the Sentinels monitoring the group, as C(host:port) strings (port defaults to O(login_port);
        IPv6 as C([addr]:port)).
      - C(SENTINEL FAILOVER) is sent to the first one.
      - Default is O(login_host):O(login_port) alone.
      - O(login_user) and O(login_password) authenticate to each of them.
    type: list
    elements: str
  name:
    description:
      - Name of the master group, as in C(sentinel monitor <name> ...).
      - Letters, digits, C(.), C(_) and C(-) only.
    type: str
    required: true
    aliases:
      - master_name
  target:
    description:
      - The replica to promote, as C(host:port) (port defaults to 6379). A host name matches when it
        resolves, on the managed host, to the address the Sentinels report.
      - When unset, Sentinel chooses (lowest non-zero C(replica-priority), then largest offset).
    type: str
  only_if_master:
    description:
      - Switch over only when this C(host:port) (port defaults to 6379) is the master now; otherwise
        do nothing. Lets a rolling restart say "move the master away from this node" idempotently.
    type: str
  master_user:
    description:
      - ACL user for the Redis data nodes (master and replicas).
    type: str
  master_password:
    description:
      - Password of the Redis data nodes (master and replicas). O(login_password) is the Sentinels'.
    type: str
requirements:
  - redis (Python library, redis-py 4.3 or later)
  - Redis 6.2 or later on the data nodes (C(CLIENT PAUSE WRITE), C(CLIENT UNPAUSE)). O(master_user) must be
    allowed C(INFO), C(ROLE), C(CONFIG), C(CLIENT) and C(REPLICAOF), none of them renamed.
  - Sentinel 7.0 or later for the short wait with O(target) (C(SENTINEL DEBUG), allowed to O(login_user)).
seealso:
  - module: redisops.sentinel.sentinel_wait
  - module: redisops.sentinel.topology_info
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Promote 10.0.0.12 while clients keep writing, losing no acknowledged write
  redisops.sentinel.sentinel_failover:
    name: mymaster
    sentinels:
      - 10.0.0.11:26379
      - 10.0.0.12:26379
      - 10.0.0.13:26379
    target: 10.0.0.12:6379
    master_password: "{{ redis_password }}"
    timeout: 60
  register: switchover

- name: Before restarting 10.0.0.11, move the master away from it if it is the master
  redisops.sentinel.sentinel_failover:
    name: mymaster
    sentinels: ["10.0.0.11:26379", "10.0.0.12:26379", "10.0.0.13:26379"]
    only_if_master: 10.0.0.11:6379
    master_password: "{{ redis_password }}"

- name: Show the result
  ansible.builtin.debug:
    msg: >-
      {{ switchover.old_master }} -> {{ switchover.new_master }} in {{ switchover.elapsed }}s,
      writes paused {{ switchover.write_pause }}s
"""

RETURN = r"""
old_master:
  description: The master before the task, as C(host:port). Null when the Sentinels did not agree on one.
  returned: always
  type: str
  sample: 10.0.0.11:6379
new_master:
  description:
    - The master after the task, as C(host:port); the current master when nothing was switched.
    - In check mode O(target), or null when Sentinel would choose.
    - Null when C(SENTINEL FAILOVER) was sent but the Sentinels did not agree on a new master in time.
  returned: always
  type: str
  sample: 10.0.0.12:6379
elapsed:
  description: Seconds the task took (monotonic clock).
  returned: always
  type: float
  sample: 2.46
write_pause:
  description:
    - Seconds the writes of the old master were paused (from C(CLIENT PAUSE) to C(CLIENT UNPAUSE)).
    - Null when they were not paused (nothing to do, check mode, or a failure before the pause).
  returned: always
  type: float
  sample: 0.213
sentinels:
  description:
    - Per Sentinel of O(sentinels), the master it reported last (C(host:port)), null when it did not report one.
  returned: always
  type: dict
  sample: {"10.0.0.11:26379": "10.0.0.12:6379", "10.0.0.12:26379": "10.0.0.12:6379"}
msg:
  description: Human readable outcome; on failure what was refused or is still unmet.
  returned: always
  type: str
  sample: >-
    Switched the master of 'mymaster' from 10.0.0.11:6379 to 10.0.0.12:6379: 3 Sentinel(s) agree,
    2 node(s) follow it; writes to 10.0.0.11:6379 were paused for 0.213s.
unmet:
  description: Why the switchover was refused, or the conditions still unmet at the timeout. Empty on success.
  returned: always
  type: list
  elements: str
  sample: ["Sentinel 10.0.0.13:26379 sees master 10.0.0.11:6379, still the old master"]
"""

import time
from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    SENTINEL_PORT,
    connection_argument_spec,
    ensure_redis_library,
    fail_on_param_errors,
    wait_argument_spec,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.switchover import (
    Switchover,
    SwitchoverError,
    parse_options,
)


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(SENTINEL_PORT)
    spec.update(wait_argument_spec())
    spec.update(
        sentinels=dict(type='list', elements='str'),
        name=dict(type='str', required=True, aliases=['master_name']),
        target=dict(type='str'),
        only_if_master=dict(type='str'),
        master_user=dict(type='str'),
        master_password=dict(type='str', no_log=True),
    )
    return spec


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    options, errors = parse_options(module.params)
    fail_on_param_errors(module, errors)
    ensure_redis_library(module)

    started = time.monotonic()
    switchover = Switchover(module.params, options)
    try:
        msg, unmet, failed = switchover.run(module.check_mode), [], False
    except SwitchoverError as exc:
        msg, unmet, failed = str(exc), exc.unmet, True
    finally:
        switchover.close()
    result = switchover.result(msg, unmet)
    result['elapsed'] = round(time.monotonic() - started, 3)
    if failed:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
