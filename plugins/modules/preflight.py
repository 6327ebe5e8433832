#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: preflight
short_description: Check the whole inventory of a Redis Sentinel topology before any host changes
version_added: "0.1.0"
description:
  - Runs on the controller, once (use it with C(run_once)), and checks every host of the
    C(redis_master), C(redis_replica) and C(redis_sentinel) groups and of the play, with each host's
    variables as the roles see them (the internal role's defaults under the inventory, templated with
    the host's variables and facts).
  - Reports every problem at once, each naming the host(s), the variable, the value (never a
    password) and what to change, and fails; the roles run it before they change anything.
  - Checks the settings against the argument specs of the internal role and of the public roles
    C(redis_master), C(redis_replica) and C(redis_sentinel) (types, allowed values), then
    ports, timings, addresses, bind lists, TLS files, ACL users and rules, the passwords and
    settings the hosts must share, servers that share an address, one bootstrap master per master
    group, replicas that could be promoted (C(redis_replica_priority)), replicas that point at
    themselves, the Sentinel quorum and count, and passwords Sentinel can store.
  - A C(redis_address) (or an entry of C(redis_bind) / C(redis_sentinel_bind)) that is not an
    address of its host is refused; behind NAT the outside address goes to C(redis_announce_ip).
    Hosts without network facts skip that check.
  - Returns warnings, without failing, for a C(redis_sentinel_down_after_milliseconds) below
    1000 and for data nodes without AOF (C(redis_appendonly=false)).
  - The rules are those the modules apply to the same values (C(plugins/module_utils/validate.py)).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
options:
  role:
    description:
      - The role the hosts of the play run, for inventories without the C(redis_master),
        C(redis_replica) and C(redis_sentinel) groups (the public roles pass it). Hosts of those
        groups have their group's role anyway.
    type: str
    choices: [master, replica, sentinel]
notes:
  - The OS settings (unknown OS family or flavour, template units) come from the internal role's
    C(os_vars.yml), which its C(preflight.yml) loads on every host before it runs this check.
  - Variables whose role default needs facts a host has not gathered (C(redis_address) without
    C(default_ipv4)) are not known for that host, and the checks that need them are skipped there.
seealso:
  - module: redisops.sentinel.topology_info
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Check the whole inventory before changing any host
  redisops.sentinel.preflight:
  run_once: true

- name: Check the inventory of a play of replicas that has no redis_replica group
  redisops.sentinel.preflight:
    role: replica
  run_once: true
"""

RETURN = r"""
checked_hosts:
  description: The hosts whose settings were checked (the topology groups and the play).
  returned: always
  type: list
  elements: str
  sample: [redis-1, redis-2, redis-3]
problems:
  description:
    - Every problem found, one sentence each, starting with the hosts it applies to.
    - Absent when there is none.
  returned: failure
  type: list
  elements: str
  sample:
    - "redis-2, redis-3: redis_port is 70000: a port is between 1 and 65535."
"""
