#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: doctor
short_description: Inspect a running Sentinel topology or Redis Cluster and report what is wrong, with the evidence and the fix
version_added: "0.1.0"
description:
  - Read-only. Reports findings, each with a severity (V(error), V(warning), V(info)), the node, the values
    seen (the evidence) and the fix. C(playbooks/doctor.yml) runs it on every host of the topology and then
    once for the whole topology; docs/observe.md describes every finding.
  - B(Topology checks), when O(groups) is set, over the network from the managed host. Each Sentinel of
    O(sentinels) is asked for C(SENTINEL MASTER), C(REPLICAS) and C(SENTINELS) of every group; each data
    node of O(groups) (and the master the Sentinels follow) for C(INFO), C(CONFIG GET maxmemory) and,
    from Redis 7.0, C(ACL DRYRUN) of the commands Sentinel sends, as O(sentinel_user).
    They find data nodes and Sentinels that do not answer, Sentinels that count gone Sentinels
    (C(stale_sentinel)) or Sentinels that are not in O(sentinels) (C(foreign_sentinel)), replicas a
    Sentinel lists that are not data nodes of the group (C(stale_replica), C(unknown_replica)), one node
    listed under a host name and an IP address (C(duplicate_address)), a data node holding another group's
    replication id (C(foreign_replid)), a group without a replica Sentinel could promote
    (C(no_promotable_replica)), a down-after below the master's C(latest_fork_usec)
    (C(down_after_below_fork)), C(maxmemory) 0 (C(maxmemory_unset)) and a Sentinel user the data nodes
    refuse a command failover needs (C(sentinel_acl)).
  - B(Host checks), when O(local_server) or O(clock_reference) is set, about the host the task runs on -
    the local server without AOF while its systemd unit restarts it automatically and no start guard
    runs before it (C(persistence_off)), the kernel warnings it logged at its last start
    (C(kernel_warning) - overcommit, transparent huge pages, somaxconn), and this host's clock against
    O(clock_reference)'s C(TIME) (returned as RV(host_report.clock_offset)).
  - For a local server in cluster mode (C(cluster-enabled yes)), C(persistence_off) counts what holds a
    crashed master back until the cluster has promoted its replica - a C(RestartSec=) of at least twice
    C(cluster-node-timeout), or a start guard whose settings (the file its C(ExecStartPre=) names) list
    the node's cluster peers. Without either, the master comes back, empty or with its last snapshot,
    still owning its slots, and its replicas resync that.
  - O(host_reports) merges the RV(host_report) of the runs on each host and compares their clocks
    (C(clock_skew), more than 1 s apart), so one task reports everything.
  - B(Cluster checks), when O(cluster_nodes) is set. Each node of O(cluster_nodes), and each other member
    they know, is asked for C(CLUSTER INFO), C(CLUSTER NODES), C(INFO replication) and C(DBSIZE) with
    O(master_user) and O(master_password). They find nodes that do not answer (C(unreachable)), members
    whose C(cluster_state) is not ok (C(cluster_state)), slots no master serves (C(cluster_uncovered_slots)),
    slots half moved (C(cluster_open_slots)), masters without a replica that could take over
    (C(cluster_no_replica)), replicas on their master's machine (C(cluster_replica_beside_master)), members
    flagged C(fail), C(fail?), C(noaddr) or C(handshake) (C(cluster_node_failed)), members that disagree on the
    slot map or the config epochs (C(cluster_slot_map_disagreement)), masters sharing a config epoch
    (C(cluster_epoch_collision)), members O(cluster_nodes) does not list (C(cluster_unknown_node)) and nodes
    of O(cluster_nodes) that are no member (C(cluster_missing_node)). RV(cluster_status) is the cluster as a
    table.
extends_documentation_fragment:
  - redisops.sentinel.connection
  - redisops.sentinel.connection.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details:
      - The module never changes anything; it reports the same in check mode.
options:
  login_port:
    description:
      - TCP port of the Sentinel asked when O(sentinels) is not set.
    type: int
    default: 26379
  sentinels:
    description:
      - Every Sentinel of the topology, as C(host:port) strings (port defaults to O(login_port)). A Sentinel
        the groups know that is not in this list is reported as foreign (or stale when down).
      - Default is O(login_host):O(login_port) alone.
      - O(login_user) and O(login_password) authenticate to each of them.
    type: list
    elements: str
  groups:
    description:
      - The master groups and their data nodes, as in the inventory. Without it, no topology check runs.
    type: list
    elements: dict
    suboptions:
      name:
        description: The master group name, as in C(sentinel monitor <name> ...).
        type: str
        required: true
      nodes:
        description: Every data node of the group.
        type: list
        elements: dict
        required: true
        suboptions:
          name:
            description: Inventory name of the node.
            type: str
            required: true
          address:
            description: C(host:port) where the node is reached.
            type: str
            required: true
  master_user:
    description:
      - ACL user for the data nodes; it must be allowed C(INFO), C(CONFIG GET), C(TIME) and C(ACL DRYRUN).
    type: str
  master_password:
    description:
      - Password of the data nodes. O(login_password) is the Sentinels'.
    type: str
  sentinel_user:
    description:
      - The ACL user the Sentinels log in to the data nodes with (C(sentinel auth-user)); V(default) without
        ACL mode.
    type: str
    default: default
  host_name:
    description:
      - The name of the managed host in the findings of the host checks (the inventory name).
      - Default is the host's own name.
    type: str
  local_server:
    description:
      - The data node on the managed host, for the host checks. Unset on a host without one.
    type: dict
    suboptions:
      address:
        description: C(host:port) where the module reaches it on this host.
        type: str
        required: true
      log_file:
        description: Its log file, read from its last start on (the last 4 MiB of the file at most).
        type: path
      service:
        description: Its systemd unit, whose C(Restart=), C(RestartSec=) and C(ExecStartPre=) are read with C(systemctl show).
        type: str
  clock_reference:
    description:
      - C(host:port) of a data node whose C(TIME) this host's clock is compared with. Give every host the
        same node.
    type: str
  cluster_nodes:
    description:
      - The nodes of a Redis Cluster, as in the inventory's C(redis_cluster) group. Without it, no cluster check
        runs.
    type: list
    elements: dict
    suboptions:
      name:
        description: Inventory name of the node.
        type: str
        required: true
      address:
        description: C(host:port) where the node is reached (the address it announces).
        type: str
        required: true
      machine:
        description:
          - The machine the node runs on (C(ansible_host)); two nodes with the same one, or with the same IP
            address, are on one machine.
          - Default is O(cluster_nodes[].name).
        type: str
  host_reports:
    description:
      - The RV(host_report) of the runs on each host, merged into this run's findings, their clocks compared.
    type: list
    elements: dict
    default: []
  ignore:
    description:
      - Checks (the C(check) of a finding) to leave out of RV(findings) and of O(fail_on); they are returned in
        RV(ignored).
    type: list
    elements: str
    default: []
    choices: [unreachable, stale_sentinel, foreign_sentinel, stale_replica, unknown_replica, duplicate_address,
              foreign_replid, no_promotable_replica, down_after_below_fork, maxmemory_unset, sentinel_acl,
              persistence_off, kernel_warning, clock_skew, cluster_state, cluster_uncovered_slots, cluster_open_slots,
              cluster_no_replica, cluster_replica_beside_master, cluster_node_failed, cluster_slot_map_disagreement,
              cluster_epoch_collision, cluster_unknown_node, cluster_missing_node]
  fail_on:
    description:
      - Fail when a finding has this severity or a higher one; V(never) only reports. A CI gate uses
        V(warning) or V(error).
    type: str
    default: never
    choices: [never, warning, error]
notes:
  - All connections are made from the managed host. The host checks read files of the host and run
    C(systemctl show); the server's log is usually readable by root and the C(adm) group only.
  - The clock offset is measured against C(TIME) over the network, the best of three round trips; it is
    accurate to half a round trip.
requirements:
  - redis (Python library, redis-py 4.3 or later)
seealso:
  - module: redisops.sentinel.topology_info
  - module: redisops.sentinel.cluster_info
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Read this host's own evidence
  redisops.sentinel.doctor:
    host_name: "{{ inventory_hostname }}"
    local_server:
      address: 127.0.0.1:6379
      log_file: /var/log/redis/redis-server.log
      service: redis-server
    clock_reference: 10.0.0.11:6379
    master_password: "{{ redis_password }}"
  register: doctor_host

- name: Examine the topology, with every host's evidence
  redisops.sentinel.doctor:
    sentinels: ["10.0.0.11:26379", "10.0.0.12:26379", "10.0.0.13:26379"]
    groups:
      - name: mymaster
        nodes:
          - {name: redis1, address: "10.0.0.11:6379"}
          - {name: redis2, address: "10.0.0.12:6379"}
    master_password: "{{ redis_password }}"
    host_reports: "{{ ansible_play_hosts | map('extract', hostvars, ['doctor_host', 'host_report']) | list }}"
    fail_on: warning
  run_once: true
"""

RETURN = r"""
findings:
  description: What was found, the most severe first. Empty for a healthy topology.
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: Which check, for example V(foreign_sentinel) (see O(ignore)).
      type: str
    severity:
      description: V(error), V(warning) or V(info).
      type: str
    group:
      description: The master group, null for the host checks.
      type: str
    node:
      description: The inventory name or C(host:port) the finding is about.
      type: str
    evidence:
      description: The values seen.
      type: dict
    message:
      description: What is wrong, in one sentence.
      type: str
    fix:
      description: What to do.
      type: str
ignored:
  description: The findings of the checks O(ignore) names.
  returned: always
  type: list
  elements: dict
counts:
  description: How many findings of each severity (V(error), V(warning), V(info)).
  returned: always
  type: dict
summary:
  description: One line of counts, then one line per finding.
  returned: always
  type: list
  elements: str
  sample:
    - "doctor: 1 error(s), 0 warning(s), 0 info"
    - "ERROR   mymaster 10.0.0.21:26379: Sentinel 10.0.0.21:26379, which is not in redis_sentinel, ..."
cluster_status:
  description: The cluster as a table - its state, each master with its slots, keys, config epoch and replicas
    (their link and how many bytes they are behind), the failed or suspected members and the half-moved slots.
  returned: when O(cluster_nodes) is set
  type: list
  elements: str
  sample:
    - "cluster: cluster_state ok, 6 nodes, 3 masters, 16384 of 16384 slots assigned, current epoch 6 (as redis1 10.0.0.11:6379 sees it)"
    - "  master  redis1 10.0.0.11:6379       slots 0-5460 (5461), 1021 keys, epoch 1"
    - "    replica redis2-b 10.0.0.12:6380     link up, offset lag 0 bytes"
    - "  failed or suspected nodes: none"
    - "  open slots: none"
host_report:
  description: The host checks' result, for O(host_reports) of the topology run.
  returned: when O(local_server) or O(clock_reference) is set
  type: dict
  contains:
    host:
      description: O(host_name).
      type: str
    clock_offset:
      description: This host's clock minus the reference's C(TIME), in seconds; null when not measured.
      type: float
    findings:
      description: The host checks' findings, as in RV(findings) (O(ignore) not applied).
      type: list
      elements: dict
"""

import json
import os
import socket
import time
from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.address import (
    Address, format_address, parse_address, parse_address_list)
from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    REDIS_PORT, RETRYABLE_ERRORS, SENTINEL_PORT, ResponseError, connect, connection_argument_spec,
    connection_param_errors, ensure_redis_library, fail_on_param_errors)
from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import Observation
from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import observe as observe_cluster_node
from ansible_collections.redisops.sentinel.plugins.module_utils.cluster_doctor import (
    CHECKS as CLUSTER_CHECKS, ClusterReading, InventoryNode, cluster_findings, status_lines)
from ansible_collections.redisops.sentinel.plugins.module_utils.doctor import (
    FAIL_ON, SENTINEL_COMMANDS, GroupData, HostData, NodeData, SentinelView, agreed_master, clock_findings,
    cluster_node_timeout, command_text, failing, finding_from_dict, host_findings, master_node, parse_unit,
    since_last_start, split_ignored, summary, supports_dryrun, topology_findings)
from ansible_collections.redisops.sentinel.plugins.module_utils.recovery import replication_id
from ansible_collections.redisops.sentinel.plugins.module_utils.sentinel import observe
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import describe_error

CHECKS = ['unreachable', 'stale_sentinel', 'foreign_sentinel', 'stale_replica', 'unknown_replica', 'duplicate_address',
          'foreign_replid', 'no_promotable_replica', 'down_after_below_fork', 'maxmemory_unset', 'sentinel_acl',
          'persistence_off', 'kernel_warning', 'clock_skew'] + list(CLUSTER_CHECKS)
LOG_TAIL_BYTES = 4 * 1024 * 1024
CLOCK_SAMPLES = 3


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(SENTINEL_PORT)
    spec.update(
        sentinels=dict(type='list', elements='str'),
        groups=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            nodes=dict(type='list', elements='dict', required=True, options=dict(
                name=dict(type='str', required=True),
                address=dict(type='str', required=True),
            )),
        )),
        master_user=dict(type='str'),
        master_password=dict(type='str', no_log=True),
        sentinel_user=dict(type='str', default='default'),
        host_name=dict(type='str'),
        local_server=dict(type='dict', options=dict(
            address=dict(type='str', required=True),
            log_file=dict(type='path'),
            service=dict(type='str'),
        )),
        clock_reference=dict(type='str'),
        cluster_nodes=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            address=dict(type='str', required=True),
            machine=dict(type='str'),
        )),
        host_reports=dict(type='list', elements='dict', default=[]),
        ignore=dict(type='list', elements='str', default=[], choices=CHECKS),
        fail_on=dict(type='str', default='never', choices=list(FAIL_ON)),
    )
    return spec


def sentinel_list(params: dict[str, Any]) -> list[str]:
    return params['sentinels'] or [format_address(params['login_host'], params['login_port'])]


def param_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters, as readable sentences."""
    errors = connection_param_errors(params)
    parse_address_list(sentinel_list(params), params['login_port'], 'sentinels', errors)
    for group in params['groups'] or []:
        parse_address_list([node['address'] for node in group['nodes']], REDIS_PORT, 'groups: %s' % group['name'],
                           errors)
    if params['local_server']:
        parse_address_list([params['local_server']['address']], REDIS_PORT, 'local_server', errors)
    parse_address_list([params['clock_reference']] if params['clock_reference'] else [], REDIS_PORT,
                       'clock_reference', errors)
    cluster = parse_address_list([node['address'] for node in params['cluster_nodes'] or []], REDIS_PORT,
                                 'cluster_nodes', errors)
    if len(set(cluster)) < len(cluster):
        errors.append('cluster_nodes: an address is listed twice')
    for index, report in enumerate(params['host_reports']):
        if not isinstance(report.get('findings'), list) or 'host' not in report:
            errors.append('host_reports[%d] is no host_report of this module (host, clock_offset, findings)' % index)
    return errors


def node_params(params: dict[str, Any]) -> dict[str, Any]:
    return dict(params, login_user=params['master_user'], login_password=params['master_password'],
                login_password_previous=None)


# Topology.

def read_sentinel(params: dict[str, Any], address: str, names: list[str]) -> dict[str, SentinelView]:
    """One Sentinel's view of each group."""
    host, port = parse_address(address, params['login_port'])
    shown = format_address(host, port)
    client = connect(params, host, port)
    try:
        views = {}
        for name in names:
            state = observe(client, name, check_quorum=False)
            views[name] = SentinelView(shown, master=state['master'], replicas=state['replicas'],
                                       sentinels=state['sentinels'])
        return views
    except RETRYABLE_ERRORS as exc:
        return {name: SentinelView(shown, False, describe_error(exc)) for name in names}
    finally:
        client.close()


def denied_commands(client, user: str) -> list[str]:
    """Sentinel's commands ACL DRYRUN refuses to ``user``, 'command (reason)' each.

    Raises ResponseError when the check itself fails (no such user, no right to run ACL DRYRUN)."""
    denied = []
    for command in SENTINEL_COMMANDS:
        reply = str(client.execute_command('ACL', 'DRYRUN', user, *command))
        if reply != 'OK':
            denied.append('%s (%s)' % (command_text(command), reply))
    return denied


def read_node(params: dict[str, Any], name: str, address: str, sentinel_user: str,
              in_inventory: bool = True) -> NodeData:
    host, port = parse_address(address, REDIS_PORT)
    shown = format_address(host, port)
    client = connect(node_params(params), host, port)
    try:
        info = client.info()
        node = NodeData(name, shown, in_inventory=in_inventory, role=str(info.get('role', '')),
                        replid=replication_id(info.get('master_replid')),
                        latest_fork_usec=int(info.get('latest_fork_usec', 0)), version=str(info.get('redis_version')),
                        config=client.config_get('maxmemory'))
        if supports_dryrun(node.version):
            try:
                node.acl_denied = denied_commands(client, sentinel_user)
            except ResponseError as exc:
                node.acl_error = str(exc)
        return node
    except RETRYABLE_ERRORS as exc:
        return NodeData(name, shown, False, describe_error(exc), in_inventory=in_inventory)
    finally:
        client.close()


def read_group(params: dict[str, Any], group: dict[str, Any], views: list[SentinelView]) -> GroupData:
    nodes = [read_node(params, node['name'], node['address'], params['sentinel_user']) for node in group['nodes']]
    data = GroupData(group['name'], nodes, views, sentinel_list(params), params['sentinel_user'])
    master = agreed_master(data)
    if master is not None and master_node(data) is None:
        # The master the Sentinels follow is no data node of the inventory (or does not answer).
        data.nodes.append(read_node(params, master, master, params['sentinel_user'], in_inventory=False))
    return data


def read_topology(params: dict[str, Any]) -> list[GroupData]:
    names = [group['name'] for group in params['groups']]
    answers = [read_sentinel(params, address, names) for address in sentinel_list(params)]
    return [read_group(params, group, [answer[group['name']] for answer in answers]) for group in params['groups']]


# A Redis Cluster.

def read_cluster_node(params: dict[str, Any], address: Address) -> tuple[Observation, dict[str, Any]]:
    """One node's view of the cluster and its INFO replication, or why it could not be read."""
    client = connect(node_params(params), address.host, address.port)
    try:
        return observe_cluster_node(client, address), client.info('replication')
    except RETRYABLE_ERRORS as exc:
        return describe_error(exc), {}
    finally:
        client.close()


def read_cluster(params: dict[str, Any]) -> ClusterReading:
    """Every node of the inventory, then every other member they know that has an address."""
    inventory = [InventoryNode(node['name'], parse_address(node['address'], REDIS_PORT),
                               node['machine'] or node['name']) for node in params['cluster_nodes']]
    reading = ClusterReading(inventory, {})
    for node in inventory:
        reading.observations[node.address], reading.replication[node.address] = read_cluster_node(params, node.address)
    reference = reading.reference()
    for member in reference.nodes if reference else []:
        if member.address and reading.inventory_node(member) is None:
            reading.observations[member.address], reading.replication[member.address] = read_cluster_node(
                params, member.address)
    return reading


# This host.

def local_clock() -> float:
    """This host's clock (a function of its own so that tests can put it elsewhere)."""
    return time.time()


def clock_offset(client) -> float:
    """This host's clock minus the server's TIME, from the round trip with the least delay."""
    best: tuple[float, float] | None = None
    for dummy in range(CLOCK_SAMPLES):
        before = local_clock()
        seconds, micros = client.time()
        after = local_clock()
        sample = (after - before, (before + after) / 2 - (int(seconds) + int(micros) / 1e6))
        if best is None or sample[0] < best[0]:
            best = sample
    return best[1] if best else 0.0


def measure_clock(params: dict[str, Any], data: HostData) -> None:
    host, port = parse_address(params['clock_reference'], REDIS_PORT)
    client = connect(node_params(params), host, port)
    try:
        data.clock_offset = round(clock_offset(client), 4)
    except RETRYABLE_ERRORS as exc:
        data.clock_error = describe_error(exc)
    finally:
        client.close()


def unit_properties(module: AnsibleModule, service: str) -> str:
    """``systemctl show`` of the unit's Restart=, RestartSec= and ExecStartPre= ('' when systemctl cannot tell)."""
    systemctl = module.get_bin_path('systemctl')
    if systemctl is None:
        return ''
    rc, out, dummy = module.run_command([systemctl, 'show', '--property=Restart', '--property=RestartUSec',
                                         '--property=ExecStartPre', '--', service])
    return out if rc == 0 else ''


def guard_asks_peers(path: str | None) -> bool:
    """Whether the start guard's settings name a cluster node's peers (it asks them before a start); False when
    they cannot be read (root only). Nothing of the file is returned: it holds passwords."""
    if not path:
        return False
    try:
        with open(path, encoding='utf-8') as handle:
            settings = json.load(handle)
        return bool((settings.get('cluster') or {}).get('peers'))
    except (OSError, ValueError, AttributeError):
        return False


def read_log(path: str) -> str:
    with open(path, 'rb') as handle:
        handle.seek(max(os.path.getsize(path) - LOG_TAIL_BYTES, 0))
        return handle.read().decode('utf-8', 'replace')


def read_local_server(module: AnsibleModule, params: dict[str, Any], data: HostData) -> None:
    server = params['local_server']
    host, port = parse_address(server['address'], REDIS_PORT)
    data.server = format_address(host, port)
    client = connect(node_params(params), host, port)
    try:
        data.persistence = client.config_get('appendonly')
        data.persistence.update(client.config_get('save'))
        data.cluster_node_timeout = cluster_node_timeout(client.config_get('cluster-*'))
    except RETRYABLE_ERRORS as exc:
        # The topology checks report a data node that does not answer.
        data.log_error = describe_error(exc)
    finally:
        client.close()
    if server['service']:
        unit = parse_unit(unit_properties(module, server['service']))
        data.restart, data.restart_delay, data.start_guard = unit.restart, unit.restart_delay, unit.start_guard
        data.guard_asks_peers = data.cluster_node_timeout is not None and guard_asks_peers(unit.guard_settings)
    if server['log_file']:
        try:
            data.start_log = since_last_start(read_log(server['log_file']))
            if data.start_log is None:
                data.log_error = 'no start of the server in the last %d MiB of %s' % (
                    LOG_TAIL_BYTES // 1024 // 1024, server['log_file'])
        except OSError as exc:
            data.log_error = describe_error(exc)


def host_report(module: AnsibleModule, params: dict[str, Any]) -> dict[str, Any]:
    data = HostData(params['host_name'] or socket.gethostname())
    if params['local_server']:
        read_local_server(module, params, data)
    if params['clock_reference']:
        measure_clock(params, data)
    return dict(host=data.host, clock_offset=data.clock_offset, clock_error=data.clock_error,
                findings=[finding.as_dict() for finding in host_findings(data)])


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    fail_on_param_errors(module, param_errors(params))
    ensure_redis_library(module)
    result: dict[str, Any] = dict(changed=False)
    reports = list(params['host_reports'])
    if params['local_server'] or params['clock_reference']:
        result['host_report'] = host_report(module, params)
        reports.append(result['host_report'])
    found = [finding_from_dict(item) for report in reports for item in report['findings']]
    found += clock_findings({report['host']: report.get('clock_offset') for report in reports})
    if params['groups']:
        found += topology_findings(read_topology(params))
    if params['cluster_nodes']:
        reading = read_cluster(params)
        found += cluster_findings(reading)
        result['cluster_status'] = status_lines(reading)
    findings, ignored = split_ignored(found, params['ignore'])
    result.update(findings=[item.as_dict() for item in findings], ignored=[item.as_dict() for item in ignored],
                  counts={severity: sum(1 for item in findings if item.severity == severity)
                          for severity in ('error', 'warning', 'info')},
                  summary=summary(findings, ignored))
    gate = failing(findings, params['fail_on'])
    if gate:
        module.fail_json(msg='The doctor found %d finding(s) at or above %s (fail_on): %s. See the summary.'
                         % (len(gate), params['fail_on'], ', '.join('%s %s on %s' % (item.severity, item.check, item.node)
                                                                    for item in gate)), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
