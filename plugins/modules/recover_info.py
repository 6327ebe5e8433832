#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: recover_info
short_description: Choose the data node to recover a master group from when the Sentinels have no master
version_added: "0.1.0"
description:
  - For each master group of O(groups), asks every data node for C(INFO replication) and
    C(INFO keyspace) and every Sentinel of O(sentinels) for the master it follows, then decides what
    to do - nothing, recover from one data node, or refuse. Never changes anything;
    C(playbooks/recover.yml) acts on its answer.
  - B(Nothing to do) when a majority of the Sentinels follow one master, every Sentinel that answers
    follows it, and it answers with role master. The Sentinels are in charge then.
  - B(Refuses) while a Sentinel is in TILT mode or a failover is in progress (Sentinel is promoting
    a replica itself), when a data node does not answer (it may hold newer data) unless
    O(ignore_unreachable=true), and when the choice is ambiguous.
  - Otherwise it picks the node holding the most recent data. The data a node holds is named by its
    replication history - C(master_replid) up to C(master_repl_offset), and, for a node that was
    promoted, the history it had before, C(master_replid2) up to C(second_repl_offset) minus one.
    Node A covers node B when they share B's replication id and A's offset is at least B's, or when A
    was promoted after B's position in B's history (A's C(master_replid2) is B's C(master_replid)
    and A's C(second_repl_offset) is above B's offset). A node promoted that took no write since
    also counts at its former position, and a node with offset 0 and no key holds nothing.
  - The pick must cover every other node that answers. Nodes that cover each other hold the same
    data; among them the inventory's bootstrap master (O(groups[].bootstrap)) is preferred, else the
    first by inventory name. When no node covers all the others, their histories diverged; the
    module refuses and lists the diverging nodes. O(recover_from) then names the node to keep; the
    writes only the other nodes hold are discarded.
  - Every refusal explains, per data node, its role, C(master_replid), C(master_repl_offset),
    C(master_replid2) and C(second_repl_offset), and what each Sentinel follows. A node or Sentinel
    that does not answer is probed from the managed host, as the wait modules do on timeout; the
    message says whether the connection was refused, timed out or was rejected, and what to check.
  - All connections are made from the managed host the task runs on.
extends_documentation_fragment:
  - redisops.sentinel.connection
  - redisops.sentinel.connection.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details:
      - The module never changes anything; it decides the same way in check mode.
options:
  login_port:
    description:
      - TCP port of the Sentinel asked when O(sentinels) is not set.
    type: int
    default: 26379
  sentinels:
    description:
      - All the Sentinels of the topology, as C(host:port) strings (port defaults to O(login_port)).
      - Default is O(login_host):O(login_port) alone.
      - O(login_user) and O(login_password) authenticate to each of them. A majority of this list must
        follow the same master for the module to leave a group alone.
    type: list
    elements: str
  groups:
    description:
      - The master groups and their data nodes, as in the inventory.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The master group name, as in C(sentinel monitor <name> ...).
        type: str
        required: true
      bootstrap:
        description: Inventory name of the group's bootstrap master, preferred among nodes that hold the same data.
        type: str
      nodes:
        description: Every data node of the group, the bootstrap master included.
        type: list
        elements: dict
        required: true
        suboptions:
          name:
            description: Inventory name of the node.
            type: str
            required: true
          address:
            description: C(host:port) where the node is reached, as the Sentinels report it.
            type: str
            required: true
  recover_from:
    description:
      - Inventory name or C(host:port) of the data node to recover from, whatever its history.
      - B(The writes that only the other nodes hold are discarded.) Use it only when the module
        refused because the histories diverged, after deciding which node's writes to keep.
      - Applies to the group that node belongs to.
    type: str
  ignore_unreachable:
    description:
      - Recover even when a data node does not answer, leaving it out. Such a node may hold newer
        data than any that answers; when it comes back it must be made a replica of the new master by
        hand, or rebuilt.
    type: bool
    default: false
  master_user:
    description:
      - ACL user for the data nodes.
    type: str
  master_password:
    description:
      - Password of the data nodes. O(login_password) is the Sentinels'.
    type: str
notes:
  - The answer is a snapshot. Recovering is safe only while no client writes to the nodes that are
    not picked; C(playbooks/recover.yml) acts on it at once.
requirements:
  - redis (Python library, redis-py 4.3 or later)
seealso:
  - module: redisops.sentinel.redis_replicaof
  - module: redisops.sentinel.topology_info
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Decide how to recover mymaster
  redisops.sentinel.recover_info:
    sentinels: ["10.0.0.11:26379", "10.0.0.12:26379", "10.0.0.13:26379"]
    groups:
      - name: mymaster
        bootstrap: redis1
        nodes:
          - {name: redis1, address: "10.0.0.11:6379"}
          - {name: redis2, address: "10.0.0.12:6379"}
          - {name: redis3, address: "10.0.0.13:6379"}
    master_password: "{{ redis_password }}"
  register: recovery

- name: Show the plan
  ansible.builtin.debug:
    msg: "{{ recovery.summary }}"
"""

RETURN = r"""
groups:
  description: One entry per master group of O(groups).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The master group name.
      type: str
    action:
      description: V(none) (the Sentinels have a master), V(recover) or V(refuse).
      type: str
    reason:
      description: Why, in one sentence.
      type: str
    pick:
      description: Inventory name of the node to recover from; null unless RV(groups[].action) is V(recover).
      type: str
    pick_address:
      description: Its C(host:port); null unless RV(groups[].action) is V(recover).
      type: str
    recovered:
      description:
        - The group as it is to be once recovered, in the form the waits and C(sentinel_monitor) take it
          (C(roles/redis/tasks/sentinel_wait.yml)); null unless RV(groups[].action) is V(recover).
        - C(name); C(host) and C(port) of the pick; C(replicas), the addresses of RV(groups[].replicas).
      type: dict
    forced:
      description: Whether the pick was named by O(recover_from).
      type: bool
    replicas:
      description: Inventory names of the answering nodes to make replicas of the pick.
      type: list
      elements: str
    skipped:
      description: Inventory names of the nodes left alone because they do not answer (O(ignore_unreachable)).
      type: list
      elements: str
    discarded:
      description: Inventory names of the nodes whose writes the forced pick does not hold.
      type: list
      elements: str
    nodes:
      description:
        - Per data node, C(name), C(address), C(reachable), C(error), C(role), C(master), C(master_link_status),
          C(master_replid), C(master_repl_offset), C(master_replid2), C(second_repl_offset) and C(keys).
      type: list
      elements: dict
    sentinels:
      description: Per Sentinel, C(address), C(reachable), C(error), C(master) (null when it follows none), C(flags), C(tilt).
      type: list
      elements: dict
recover:
  description: The groups to recover, RV(groups) entries with RV(groups[].action) V(recover).
  returned: always
  type: list
  elements: dict
summary:
  description: The decision per group, then one line per data node and Sentinel.
  returned: always
  type: list
  elements: str
  sample:
    - "mymaster: recover from redis2 (10.0.0.12:6379): redis2 holds the most recent data: ..."
    - "  redis1 (10.0.0.11:6379): master, master_replid 8a1..., master_repl_offset 1200, ..."
"""

from dataclasses import asdict
from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.address import (
    format_address, parse_address, parse_address_list)
from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    REDIS_PORT, RETRYABLE_ERRORS, SENTINEL_PORT, connect, connection_argument_spec, connection_param_errors,
    ensure_redis_library, fail_on_param_errors)
from ansible_collections.redisops.sentinel.plugins.module_utils.probe import probe
from ansible_collections.redisops.sentinel.plugins.module_utils.recovery import (
    RECOVER, REFUSE, NodeState, SentinelView, Verdict, decide, node_state, unreachable)
from ansible_collections.redisops.sentinel.plugins.module_utils.sentinel import node_address, sentinel_master
from ansible_collections.redisops.sentinel.plugins.module_utils.tls import TlsSettings
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import describe_error


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(SENTINEL_PORT)
    spec.update(
        sentinels=dict(type='list', elements='str'),
        groups=dict(type='list', elements='dict', required=True, options=dict(
            name=dict(type='str', required=True),
            bootstrap=dict(type='str'),
            nodes=dict(type='list', elements='dict', required=True, options=dict(
                name=dict(type='str', required=True),
                address=dict(type='str', required=True),
            )),
        )),
        recover_from=dict(type='str'),
        ignore_unreachable=dict(type='bool', default=False),
        master_user=dict(type='str'),
        master_password=dict(type='str', no_log=True),
    )
    return spec


def param_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters, as readable sentences."""
    errors = connection_param_errors(params)
    texts = params['sentinels'] or [format_address(params['login_host'], params['login_port'])]
    parse_address_list(texts, params['login_port'], 'sentinels', errors)
    names = []
    for group in params['groups']:
        if not group['nodes']:
            errors.append('groups: %s has no data node' % group['name'])
        parse_address_list([node['address'] for node in group['nodes']], REDIS_PORT, 'groups: %s' % group['name'],
                           errors)
        names += [node['name'] for node in group['nodes']]
    if params['recover_from'] and not errors and not any(
            forced_name(params['recover_from'], group) for group in params['groups']):
        errors.append('recover_from is %r, which is no data node of the groups (%s)'
                      % (params['recover_from'], ', '.join(names)))
    return errors


def forced_name(recover_from: str | None, group: dict[str, Any]) -> str | None:
    """The inventory name of the node recover_from names, None when it is not in ``group``."""
    for node in group['nodes']:
        if recover_from in (node['name'], node['address'], str(parse_address(node['address'], REDIS_PORT))):
            return node['name']
    return None


def diagnose(params: dict[str, Any], host: str, port: int, exc: BaseException) -> str:
    """The error, and why a probe from this host says the peer does not answer."""
    found = probe(host, port, params['login_password'], params['login_user'], params['connect_timeout'],
                  TlsSettings.from_params(params))
    return '%s (probe: %s, %s)' % (describe_error(exc).rstrip('.'), found['result'], found['hint'])


def ask_node(params: dict[str, Any], name: str, address: str) -> NodeState:
    node_params = dict(params, login_user=params['master_user'], login_password=params['master_password'],
                       login_password_previous=None)
    host, port = parse_address(address, REDIS_PORT)
    shown = format_address(host, port)
    client = connect(node_params, host, port)
    try:
        return node_state(name, shown, client.info('replication'), client.info('keyspace'))
    except RETRYABLE_ERRORS as exc:
        return unreachable(name, shown, diagnose(node_params, host, port, exc))
    finally:
        client.close()


def ask_sentinel(params: dict[str, Any], address: str, names: list[str]) -> dict[str, SentinelView]:
    """The view of one Sentinel for each group name."""
    host, port = parse_address(address, params['login_port'])
    shown = format_address(host, port)
    client = connect(params, host, port)
    try:
        tilt = int(client.info('sentinel').get('sentinel_tilt', 0)) == 1
        views = {}
        for name in names:
            master = sentinel_master(client, name)
            views[name] = SentinelView(shown, True, node_address(master) if master else None,
                                       tuple((master or {}).get('flags', [])), tilt)
        return views
    except RETRYABLE_ERRORS as exc:
        return dict.fromkeys(names, SentinelView(shown, False, error=diagnose(params, host, port, exc)))
    finally:
        client.close()


def node_row(node: NodeState) -> dict[str, Any]:
    row = dict(name=node.name, address=node.address, reachable=node.reachable, error=node.error)
    if node.reachable:
        row.update(role=node.role, master=node.master, master_link_status=node.link, master_replid=node.replid,
                   master_repl_offset=node.offset, master_replid2=node.replid2 if node.has_replid2 else None,
                   second_repl_offset=node.second_offset if node.has_replid2 else None, keys=node.keys)
    return row


def group_report(name: str, verdict: Verdict, nodes: list[NodeState], views: list[SentinelView]) -> dict[str, Any]:
    pick = verdict.pick if verdict.action == RECOVER else None
    replicas = [node for node in nodes if pick and node.reachable and node is not pick]
    recovered = None
    if pick:
        master = parse_address(pick.address, REDIS_PORT)
        recovered = dict(name=name, host=master.host, port=master.port, replicas=[node.address for node in replicas])
    return dict(name=name, action=verdict.action, reason=verdict.reason, pick=pick.name if pick else None,
                pick_address=pick.address if pick else None, recovered=recovered, forced=verdict.forced,
                replicas=[node.name for node in replicas], skipped=verdict.skipped, discarded=verdict.discarded,
                nodes=[node_row(node) for node in nodes], sentinels=[asdict(view) for view in views])


def summarize(report: dict[str, Any], nodes: list[NodeState], views: list[SentinelView]) -> list[str]:
    if report['action'] == RECOVER:
        head = '%s: recover from %s (%s): %s' % (
            report['name'], report['pick'], report['pick_address'], report['reason'])
    else:
        head = '%s: %s: %s' % (report['name'], 'REFUSED' if report['action'] == REFUSE else 'nothing to do',
                               report['reason'])
    return [head] + ['  ' + node.describe() for node in nodes] + ['  ' + view.describe() for view in views]


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    fail_on_param_errors(module, param_errors(params))
    ensure_redis_library(module)
    names = [group['name'] for group in params['groups']]
    answers = [ask_sentinel(params, address, names)
               for address in params['sentinels'] or [format_address(params['login_host'], params['login_port'])]]
    reports, summary = [], []
    for group in params['groups']:
        nodes = [ask_node(params, node['name'], node['address']) for node in group['nodes']]
        views = [answer[group['name']] for answer in answers]
        verdict = decide(nodes, views, len(answers), group['bootstrap'], forced_name(params['recover_from'], group),
                         params['ignore_unreachable'])
        reports.append(group_report(group['name'], verdict, nodes, views))
        summary += summarize(reports[-1], nodes, views)
    result = dict(changed=False, groups=reports, recover=[r for r in reports if r['action'] == RECOVER],
                  summary=summary)
    refused = [report for report in reports if report['action'] == REFUSE]
    if refused:
        module.fail_json(msg='Recovery refused, nothing was changed. %s' % ' | '.join(summary), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
