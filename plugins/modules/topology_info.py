#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: topology_info
short_description: Report the live topology of Sentinel-managed Redis master groups
version_added: "0.1.0"
description:
  - Asks every listed Sentinel which master it follows for each master group, with its flags,
    replica and Sentinel counts, C(config-epoch) and C(SENTINEL CKQUORUM) answer.
  - Then asks every data node those Sentinels know (the masters they report and their replicas)
    for C(INFO replication), and reports its role, the master it follows, link state, offset and
    the lag in bytes behind the master's replication offset.
  - Tells whether the reachable Sentinels agree on one master per group.
  - Queries are made from the managed host the task runs on. Unreachable nodes are reported,
    not fatal.
  - Never changes anything.
extends_documentation_fragment:
  - redisops.sentinel.connection
  - redisops.sentinel.connection.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - redisops.sentinel.remote_step
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
options:
  login_port:
    description:
      - TCP port of the Sentinel queried when O(sentinels) is not set.
    type: int
    default: 26379
  sentinels:
    description:
      - The Sentinels to ask, as C(host:port) strings (port defaults to O(login_port)).
      - Default is O(login_host):O(login_port) alone.
      - O(login_user) and O(login_password) authenticate to each of them.
    type: list
    elements: str
  master_names:
    description:
      - The master groups to report. Default is every group the first answering Sentinel monitors.
    type: list
    elements: str
  master_user:
    description:
      - ACL user for the data nodes (masters and replicas).
    type: str
  master_password:
    description:
      - Password for the data nodes (masters and replicas).
    type: str
  master_password_previous:
    description:
      - During a password rotation, the data nodes' password being rotated out - used when a data node
        refuses O(master_password) (C(WRONGPASS)), like O(login_password_previous) for the Sentinels.
    type: str
  master_user_previous:
    description:
      - The ACL user O(master_password_previous) belongs to, when not O(master_user) - C(default) while a
        one-password topology moves to ACL mode and O(master_user) does not exist on the data nodes yet.
    type: str
requirements:
  - redis (Python library) on the managed host
seealso:
  - module: redisops.sentinel.sentinel_wait
  - module: redisops.sentinel.replica_wait
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Read the topology from the first Sentinel host
  redisops.sentinel.topology_info:
    sentinels:
      - 10.0.0.11:26379
      - 10.0.0.12:26379
      - 10.0.0.13:26379
  register: topology

- name: Print it
  ansible.builtin.debug:
    msg: "{{ topology.summary }}"
"""

RETURN = r"""
groups:
  description: One entry per master group.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The master group name.
      type: str
    master:
      description: The master address (C(host:port)) the reachable Sentinels agree on, or null.
      type: str
    agreed:
      description: Whether every reachable Sentinel reports the same master.
      type: bool
    sentinels:
      description:
        - Per Sentinel, its address, reachable, error, tilt (whether it is in TILT mode), master
          (the address it follows), flags, config_epoch, num_replicas, num_other_sentinels,
          quorum and ckquorum.
      type: list
      elements: dict
    nodes:
      description:
        - Per data node, its address, reachable, error, role, master (the address it replicates
          from), master_link_status, offset, lag_bytes (behind the agreed master) and
          latest_fork_usec (how long its last fork took, from C(INFO stats); Sentinel's
          down-after should stay well above it).
      type: list
      elements: dict
summary:
  description: The same as readable lines, one per master group, Sentinel and data node.
  returned: always
  type: list
  elements: str
  sample:
    - "mymaster: master 10.0.0.11:6379, 3/3 Sentinels agree"
    - "  node     10.0.0.12:6379  slave of 10.0.0.11:6379, link up, offset 1234, lag 0 bytes"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.topology_info import CONSTRAINTS, argument_spec, run


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **CONSTRAINTS)
    module.exit_json(**run(module))


if __name__ == '__main__':
    main()
