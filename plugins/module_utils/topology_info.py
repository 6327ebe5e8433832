# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology_info module's work: each master group as the running Sentinels and data nodes report it.

Shared by plugins/modules/topology_info.py and node_apply (the collection's one remote module: the
action plugin of topology_info runs it there, so that a run builds one module payload, not one per module)."""

from __future__ import annotations

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


# The options' rules beyond their types: none (node_apply checks a step of each module with its CONSTRAINTS).
CONSTRAINTS: dict[str, Any] = {}


def run(module: AnsibleModule) -> dict[str, Any]:
    """The module's work on its validated options: the result to exit with; a failure ends in module.fail_json."""
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
    return dict(changed=False, groups=groups, summary=summary)
