#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sentinel_monitor
short_description: Manage one master group on a running Redis Sentinel through the Sentinel API
version_added: "0.1.0"
description:
  - Makes the Sentinel at O(login_host):O(login_port) monitor, or stop monitoring, the master
    group O(name), and sets its tunables, live, with C(SENTINEL MONITOR), C(SENTINEL SET) and
    C(SENTINEL REMOVE).
  - Never edits the Sentinel's configuration file and never restarts Sentinel. That file is
    Sentinel's own state (C(myid), epochs, known replicas and Sentinels); Sentinel rewrites it
    itself after each change made here.
  - With O(state=present), a group the Sentinel does not monitor yet is created with
    C(SENTINEL MONITOR name master_host master_port quorum), then one C(SENTINEL SET) applies the
    other options given. For a group it monitors, C(SENTINEL MASTER) is compared with O(quorum),
    O(down_after_milliseconds), O(parallel_syncs) and O(failover_timeout), and one
    C(SENTINEL SET) changes only those that differ.
  - The master address of a monitored group belongs to Sentinel (it changes with each failover)
    and is never changed; RV(master) reports it. O(master_host) and O(master_port) are used only
    to create the group.
  - C(SENTINEL MASTER) does not report O(auth_user) and O(auth_pass). They are compared with the
    C(sentinel auth-user) and C(sentinel auth-pass) lines of O(config_file), read only. Without
    O(config_file) they are applied only when the group is created; for a monitored group they
    are left alone, with a warning.
  - O(reset=true) runs C(SENTINEL RESET name) last, so that the Sentinel forgets the replicas and
    Sentinels it knew for the group and discovers the live ones again.
  - With O(requirepass), the Sentinel's own password is managed first, live (Redis 7.0, 8.0 and
    Valkey 8.1 alike). The C(default) user of the Sentinel gets exactly O(requirepass) and, during a
    rotation, O(requirepass_previous) (C(ACL SETUSER default resetpass >new >previous)), and the
    Sentinel logs in to the other Sentinels with O(requirepass) (C(SENTINEL CONFIG SET sentinel-pass)),
    then C(SENTINEL FLUSHCONFIG) saves both. Sentinel has no C(CONFIG SET requirepass); the
    C(user default) line it writes overrides the bootstrap C(requirepass) line at the next start.
  - Every option is validated before anything changes.
extends_documentation_fragment:
  - redisops.sentinel.connection
  - redisops.sentinel.connection.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details:
      - The Sentinel is queried and O(config_file) read; nothing is changed.
  diff_mode:
    support: full
    details:
      - O(auth_pass) is never shown; the diff says whether one is set and whether it changes.
      - O(requirepass) and O(requirepass_previous) are never shown; the diff counts the passwords.
options:
  login_port:
    description:
      - TCP port of the Sentinel.
      - Must be between 1 and 65535.
    type: int
    default: 26379
  login_password:
    description:
      - The Sentinel's own password (its C(requirepass)), not the data nodes' one (O(auth_pass)).
    type: str
  requirepass:
    description:
      - The Sentinel's own password to set, the same on every Sentinel. Unset leaves it alone.
      - When the Sentinel's passwords change, or O(requirepass_previous) is set, or the Sentinel
        already logs in to the others with a C(sentinel-pass) other than this one, it also becomes
        its C(sentinel-pass). Sentinel writes C(sentinel-pass) unquoted, so the password must then not
        contain white space or quotes (checked before anything changes).
    type: str
  requirepass_previous:
    description:
      - During a rotation of O(requirepass), the password being rotated out. The Sentinel accepts
        both while it is set; without it only O(requirepass).
      - Requires O(requirepass), and must differ from it.
    type: str
  name:
    description:
      - Name of the master group, as in C(sentinel monitor <name> ...).
      - Letters, digits, C(.), C(_) and C(-) only.
    type: str
    required: true
  state:
    description:
      - V(present) makes the Sentinel monitor the group, V(absent) makes it forget the group
        (C(SENTINEL REMOVE)).
    type: str
    choices: [present, absent]
    default: present
  master_host:
    description:
      - Address of the master, used only to create the group. Required then.
      - A host name is accepted only by a Sentinel with C(sentinel resolve-hostnames yes).
      - Never compared with the master of a monitored group, which may have failed over.
    type: str
  master_port:
    description:
      - Port of the master, used only to create the group.
    type: int
    default: 6379
  quorum:
    description:
      - Number of Sentinels that must agree the master is down before a failover starts.
      - Required to create the group. At least 1. Unset leaves the current value alone.
    type: int
  down_after_milliseconds:
    description:
      - Milliseconds without a valid reply after which the Sentinel considers a node down.
      - At least 1. Unset leaves the current value alone.
    type: int
  parallel_syncs:
    description:
      - Number of replicas reconfigured at the same time to follow a new master after a failover.
      - At least 1. Unset leaves the current value alone.
    type: int
  failover_timeout:
    description:
      - Failover timeout in milliseconds.
      - At least 1. Unset leaves the current value alone.
    type: int
  auth_user:
    description:
      - ACL user the Sentinel authenticates with to the master and the replicas.
      - V('') means none. Unset leaves the current value alone.
      - Must not contain white space or quotes, see O(auth_pass).
    type: str
  auth_pass:
    description:
      - Password the Sentinel authenticates with to the master and the replicas.
      - V('') means none. Unset leaves the current value alone.
      - Must not contain white space, C(') or C("). Sentinel writes it unquoted when it rewrites
        its configuration file, which would then no longer parse, so Sentinel could not restart.
      - For a monitored group it is compared, and changed, only with O(config_file).
    type: str
  config_file:
    description:
      - The configuration file the running Sentinel uses (C(INFO server) shows it as
        C(config_file)), on the managed host. Read only, never written.
      - Used only to learn the current O(auth_user) and O(auth_pass) of a monitored group, and
        only when one of them is set. Both forms are read, Sentinel's unquoted value and a quoted
        one as Redis parses it (C("...") with C(\"), C(\\), C(\n), C(\xHH) escapes,
        C('...') with C(\')).
      - Sentinel keeps it private to its user, so the task may need privilege escalation (C(become)).
    type: path
  reset:
    description:
      - Run C(SENTINEL RESET name) after all other changes, so the Sentinel forgets the replicas
        and Sentinels it knows for the group and rediscovers those still alive, for example after
        a Sentinel left the topology. Always reports a change.
      - Also aborts a failover in progress. Only with O(state=present).
    type: bool
    default: false
notes:
  - C(notification-script) and C(client-reconfig-script) are not managed (Sentinels often run with
    C(sentinel deny-scripts-reconfig yes)).
requirements:
  - redis (Python library, redis-py 4.3 or later)
seealso:
  - module: redisops.sentinel.sentinel_wait
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Monitor mymaster, or update its settings live
  redisops.sentinel.sentinel_monitor:
    login_password: "{{ redis_sentinel_password }}"
    name: mymaster
    master_host: 10.0.0.11
    quorum: 2
    down_after_milliseconds: 5000
    failover_timeout: 60000
    auth_pass: "{{ redis_password }}"
    config_file: /etc/redis/sentinel.conf
  become: true
  register: monitor

- name: Show the master the Sentinel follows
  ansible.builtin.debug:
    msg: "{{ monitor.master }} (changed: {{ monitor.changed_options | join(', ') }})"

- name: Forget a Sentinel that left the topology
  redisops.sentinel.sentinel_monitor:
    name: mymaster
    reset: true

- name: Stop monitoring oldmaster
  redisops.sentinel.sentinel_monitor:
    name: oldmaster
    state: absent
"""

RETURN = r"""
master:
  description:
    - The master address, C(host:port), the Sentinel reports for the group at the end of the task;
      null when it does not monitor the group.
    - In check mode, nothing changes, so this is the address it reports now.
  returned: always
  type: str
  sample: 10.0.0.11:6379
created:
  description: Whether the group was (in check mode, would be) created with C(SENTINEL MONITOR).
  returned: always
  type: bool
  sample: false
removed:
  description: Whether the group was (in check mode, would be) removed with C(SENTINEL REMOVE).
  returned: always
  type: bool
  sample: false
reset:
  description: Whether C(SENTINEL RESET) was (in check mode, would be) run.
  returned: always
  type: bool
  sample: false
changed_options:
  description:
    - The options set (in check mode, that would be set). On creation every option given, O(quorum)
      included; otherwise those that differed.
    - V(requirepass) when the Sentinel's own passwords changed, V(sentinel_pass) when the password
      it logs in to the other Sentinels with changed.
  returned: always
  type: list
  elements: str
  sample: [quorum, down_after_milliseconds]
diff:
  description:
    - The group before and after, with C(state), C(master) and the tunables, plus O(auth_user) and
      O(auth_pass) when they are compared or set.
    - O(auth_pass) shows as null (none), V(********) (set) or V(******** (changed)).
    - With O(requirepass), C(requirepass) shows how many passwords the Sentinel accepts, and
      C(sentinel_pass) null (none), V(********) or V(******** (changed)).
  returned: always
  type: dict
  contains:
    before:
      description: The group as the Sentinel reported it; only C(state) when it did not monitor it.
      type: dict
      sample: {state: present, master: "10.0.0.11:6379", quorum: 2, down_after_milliseconds: 30000,
               parallel_syncs: 1, failover_timeout: 180000}
    after:
      description: The group after the changes; only C(state) once removed.
      type: dict
      sample: {state: present, master: "10.0.0.11:6379", quorum: 2, down_after_milliseconds: 5000,
               parallel_syncs: 1, failover_timeout: 180000}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.sentinel_monitor import CONSTRAINTS, argument_spec, run


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **CONSTRAINTS)
    module.exit_json(**run(module))


if __name__ == '__main__':
    main()
