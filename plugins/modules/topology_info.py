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

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.address import (
    format_address, parse_address, parse_address_list)
from ansible_collections.redisops.sentinel.plugins.module_utils.agreement import Vote, agreed_master, masters_seen
from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    REDIS_PORT, RETRYABLE_ERRORS, SENTINEL_PORT, connect, connection_argument_spec, connection_param_errors,
    ensure_redis_library, fail_on_param_errors)
from ansible_collections.redisops.sentinel.plugins.module_utils.replication import replication_state
from ansible_collections.redisops.sentinel.plugins.module_utils.sentinel import (
    node_address, observe, pairs_to_dict, sentinel_tilt)
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import describe_error


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(SENTINEL_PORT)
    spec.update(
        sentinels=dict(type='list', elements='str'),
        master_names=dict(type='list', elements='str'),
        master_user=dict(type='str'),
        master_password=dict(type='str', no_log=True),
        master_password_previous=dict(type='str', no_log=True),
        master_user_previous=dict(type='str'),
    )
    return spec


def sentinel_addresses(module: AnsibleModule) -> list[str]:
    params = module.params
    texts = params['sentinels'] or [format_address(params['login_host'], params['login_port'])]
    errors = connection_param_errors(params)
    addresses = parse_address_list(texts, params['login_port'], 'sentinels', errors)
    fail_on_param_errors(module, errors)
    return addresses


def ask_sentinel(params: dict[str, Any], address, names: list[str] | None) -> dict[str, Any]:
    """One Sentinel's view of each group: {'address', 'reachable', 'error', 'tilt', 'views': {name: view}}."""
    entry: dict[str, Any] = dict(address=str(address), reachable=False, error=None, tilt=None, views={})
    client = connect(params, address.host, address.port)
    try:
        entry['tilt'] = sentinel_tilt(client)
        if names is None:
            names = [pairs_to_dict(item)['name'] for item in client.execute_command('SENTINEL', 'MASTERS')]
        entry['views'] = {name: observe(client, name, check_quorum=True) for name in names}
        entry['reachable'] = True
    except RETRYABLE_ERRORS as exc:
        entry['error'] = describe_error(exc)
    finally:
        client.close()
    return entry


def sentinel_row(entry: dict[str, Any], name: str) -> dict[str, Any]:
    view = entry['views'].get(name) or {}
    master = view.get('master')
    row = dict(address=entry['address'], reachable=entry['reachable'], error=entry['error'], master=None,
               tilt=entry['tilt'])
    if entry['reachable'] and master is None:
        row['error'] = 'monitors no master named %s' % name
    if master:
        row.update(master=node_address(master), flags=master.get('flags', []),
                   config_epoch=master.get('config-epoch'), num_replicas=master.get('num-slaves'),
                   num_other_sentinels=master.get('num-other-sentinels'), quorum=master.get('quorum'),
                   ckquorum=view.get('ckquorum'))
    return row


def ask_node(params: dict[str, Any], address: str) -> dict[str, Any]:
    """INFO replication of one data node, with the data node credentials."""
    row: dict[str, Any] = dict(address=address, reachable=False, error=None)
    node_params = dict(params, login_user=params['master_user'], login_password=params['master_password'],
                       login_password_previous=params['master_password_previous'],
                       login_user_previous=params['master_user_previous'])
    host, port = parse_address(address, REDIS_PORT)
    client = connect(node_params, host, port)
    try:
        state = replication_state(client.info('replication'))
        fork_usec = int(client.info('stats').get('latest_fork_usec', 0))
    except RETRYABLE_ERRORS as exc:
        row['error'] = describe_error(exc)
        return row
    finally:
        client.close()
    row.update(reachable=True, role=state.get('role'), latest_fork_usec=fork_usec)
    if row['role'] == 'slave':
        row.update(master=format_address(state.get('master_host', '?'), state.get('master_port', 0)),
                   master_link_status=state.get('master_link_status'),
                   offset=state.get('slave_repl_offset', 0))
    else:
        row.update(offset=state.get('master_repl_offset', 0),
                   connected_replicas=state.get('connected_slaves', 0))
    return row


def group_report(params: dict[str, Any], name: str, answers: list[dict[str, Any]]) -> dict[str, Any]:
    sentinels = [sentinel_row(entry, name) for entry in answers]
    votes = [Vote.from_row(row) for row in sentinels]
    seen, master = masters_seen(votes), agreed_master(votes)
    addresses = list(seen)
    for entry in answers:
        for replica in (entry['views'].get(name) or {}).get('replicas', []):
            if node_address(replica) not in addresses:
                addresses.append(node_address(replica))
    nodes = [ask_node(params, address) for address in seen + sorted(set(addresses) - set(seen))]
    master_offset = next((node['offset'] for node in nodes if node['address'] == master and node['reachable']), None)
    for node in nodes:
        if master_offset is not None and node.get('role') == 'slave':
            node['lag_bytes'] = max(master_offset - node['offset'], 0)
    return dict(name=name, master=master, agreed=master is not None, masters_seen=seen, sentinels=sentinels,
                nodes=nodes)


def describe_sentinel(row: dict[str, Any]) -> str:
    if not row['master']:
        return '  sentinel %s  %s' % (row['address'], row['error'] or 'no view')
    quorum = 'quorum OK' if (row['ckquorum'] or '').startswith('OK') else row['ckquorum']
    return ('  sentinel %s  sees master %s, flags %s, %s replicas, %s Sentinels, epoch %s, %s%s'
            % (row['address'], row['master'], ','.join(row['flags']), row['num_replicas'],
               row['num_other_sentinels'] + 1, row['config_epoch'], quorum, ', TILT' if row['tilt'] else ''))


def describe_node(node: dict[str, Any]) -> str:
    if not node['reachable']:
        return '  node     %s  unreachable: %s' % (node['address'], node['error'])
    if node['role'] != 'slave':
        return ('  node     %s  %s, %s connected replicas, offset %s'
                % (node['address'], node['role'], node['connected_replicas'], node['offset']))
    lag = ', lag %s bytes' % node['lag_bytes'] if 'lag_bytes' in node else ''
    return ('  node     %s  slave of %s, link %s, offset %s%s'
            % (node['address'], node['master'], node['master_link_status'], node['offset'], lag))


def summarize(group: dict[str, Any]) -> list[str]:
    reachable = sum(1 for row in group['sentinels'] if row['reachable'])
    if group['agreed']:
        head = '%s: master %s, %d/%d Sentinels agree' % (
            group['name'], group['master'], reachable, len(group['sentinels']))
    else:
        head = '%s: NO AGREEMENT, Sentinels report %s' % (
            group['name'], ', '.join(group['masters_seen']) or 'no master')
    return ([head] + [describe_sentinel(row) for row in group['sentinels']]
            + [describe_node(node) for node in group['nodes']])


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    addresses = sentinel_addresses(module)
    ensure_redis_library(module)
    params = module.params
    names = params['master_names']
    answers = []
    for address in addresses:
        answers.append(ask_sentinel(params, address, names))
        if names is None and answers[-1]['reachable']:
            names = sorted(answers[-1]['views'])
    if names is None:
        module.fail_json(msg='None of the Sentinels %s answered: %s' % (
            ', '.join(str(a) for a in addresses), '; '.join(e['error'] for e in answers)), changed=False)
    groups = [group_report(params, name, answers) for name in names]
    summary = [line for group in groups for line in summarize(group)]
    module.exit_json(changed=False, groups=groups, summary=summary)


if __name__ == '__main__':
    main()
