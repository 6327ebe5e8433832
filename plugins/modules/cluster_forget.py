#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_forget
short_description: Remove the nodes a Redis Cluster should no longer have, so that no member remembers them
version_added: "0.1.0"
description:
  - Reads the cluster from O(login_host):O(login_port) and removes every node it knows that is not in
    O(members). Every remaining node forgets it (C(CLUSTER FORGET), sent to all of them at once, within the
    60 seconds a forgotten node stays banned), and a removed node that still answers is reset
    (C(CLUSTER RESET HARD)), so that it cannot join the cluster again by gossip.
  - A replica that is reset loses its copy of the data; its master keeps the data. A master is removed only
    once it holds no slot and no replica that stays (empty it first with
    M(redisops.sentinel.cluster_reshard) and O(redisops.sentinel.cluster_reshard#module:drain)).
  - Refuses, before changing anything, while the cluster is not C(cluster_state:ok) as the login node sees
    it, when O(login_host):O(login_port) is itself to be removed, and for a master that still holds slots
    or has a replica that stays.
  - Check mode returns what would be removed and changes nothing.
extends_documentation_fragment:
  - redisops.sentinel.connection
  - redisops.sentinel.connection.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details:
      - Returns RV(removed) and changes nothing.
options:
  login_port:
    description:
      - TCP port of the node the cluster is read from; it must be one of O(members). Every other node is
        reached at the address the cluster announces for it, with the same login.
      - Must be between 1 and 65535.
    type: int
    default: 6379
  members:
    description:
      - Every node the cluster should have, C(host:port) (C([v6]:port) for IPv6; the port defaults to 6379).
        Any other node the cluster knows is removed.
    type: list
    elements: str
    required: true
  timeout:
    description:
      - Seconds to wait until no remaining node lists a removed one. A removed node that refuses the reset, or
        answers too slowly (loading a data set), is asked again until then, and then named in a warning.
      - Must be greater than 0.
    type: float
    default: 30.0
requirements:
  - redis (Python library, redis-py 4.3 or later)
seealso:
  - module: redisops.sentinel.cluster_reshard
  - module: redisops.sentinel.cluster_info
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Forget the nodes of hosts that left the inventory
  redisops.sentinel.cluster_forget:
    login_password: "{{ redis_password }}"
    members: "{{ groups['redis_cluster'] | map('extract', hostvars, 'redis_address') | map('string') | product([':6379']) | map('join') }}"
"""

RETURN = r"""
removed:
  description: The nodes removed (or to remove, in check mode), each with id, address, role, whether it
    was reset, and when not, why (C(not_reset); a node that refused or did not answer also gives a warning).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "e81004682e60...", "address": "10.0.0.14:6379", "role": "replica", "reset": true}]
msg:
  description: One line summary.
  returned: always
  type: str
"""

import time
from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.address import (
    Address,
    AddressMatcher,
    parse_address_list,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    MAX_POLL_INTERVAL,
    REDIS_PORT,
    RETRYABLE_ERRORS,
    SLOW_ERRORS,
    ResponseError,
    connect,
    connection_argument_spec,
    connection_param_errors,
    ensure_redis_library,
    fail_on_param_errors,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import (
    ClusterNode,
    describe_ranges,
    parse_info,
    parse_nodes,
    reply_text,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import describe_error


class ForgetError(Exception):
    """A removal that is not safe now (or did not finish); the message says why and what to do."""

    def __init__(self, message: str, changed: bool = False):
        super().__init__(message)
        self.changed = changed


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(REDIS_PORT)
    spec.update(
        members=dict(type='list', elements='str', required=True),
        timeout=dict(type='float', default=30.0),
    )
    return spec


def param_errors(params: dict[str, Any], members: list[Address]) -> list[str]:
    errors = connection_param_errors(params)
    members += parse_address_list(params['members'], REDIS_PORT, 'members', errors)
    if not params['members']:
        errors.append('members must name at least the login node')
    if params['timeout'] <= 0:
        errors.append('timeout must be greater than 0, got %s' % params['timeout'])
    return errors


def is_member(node: ClusterNode, matchers: list[AddressMatcher]) -> bool:
    return bool(node.host) and any(matcher.matches(node.host, node.port) for matcher in matchers)


def leaving(nodes: list[ClusterNode], matchers: list[AddressMatcher]) -> list[ClusterNode]:
    """The nodes to remove; a node without a known address (noaddr, a fresh handshake) leaves too."""
    return [node for node in nodes if not is_member(node, matchers)]


def refusals(nodes: list[ClusterNode], gone: list[ClusterNode]) -> list[str]:
    gone_ids = {node.node_id for node in gone}
    problems = []
    for node in gone:
        if node.myself:
            problems.append('the login node %s is not in members: log in to a node that stays' % node.label())
        if node.role == 'master' and node.slot_count and node.departed:
            problems.append('master %s (id %s; %s) still holds %d slots (%s): no replica took over, their keys '
                            'are on that node alone. Bring it back with its data; or give the keys up knowingly '
                            '(docs/cluster-operations.md, a lost master that still serves slots)'
                            % (node.label(), node.node_id, ', '.join(node.unusable), node.slot_count,
                               describe_ranges(node.slots)))
        elif node.role == 'master' and node.slot_count:
            problems.append('master %s still holds %d slots: move them first (cluster_reshard drain)'
                            % (node.label(), node.slot_count))
        staying = [item.label() for item in nodes if item.master_id == node.node_id and item.node_id not in gone_ids]
        if staying:
            problems.append('master %s has replicas that stay (%s): make them replicate another master first'
                            % (node.label(), ', '.join(staying)))
    return problems


class Forgetter:
    def __init__(self, params: dict[str, Any]):
        self.params = params
        self.clients: dict[str, Any] = {}

    def client(self, node: ClusterNode) -> Any:
        if node.node_id not in self.clients:
            self.clients[node.node_id] = connect(self.params, node.host, node.port)
        return self.clients[node.node_id]

    def forget_everywhere(self, stay: list[ClusterNode], gone: list[ClusterNode]) -> None:
        for node in stay:
            known = {item.node_id for item in parse_nodes(reply_text(self.client(node).execute_command('CLUSTER', 'NODES')))}
            for item in gone:
                if item.node_id in known:
                    self.client(node).execute_command('CLUSTER', 'FORGET', item.node_id)

    def reset(self, node: ClusterNode) -> str | None:
        """CLUSTER RESET HARD on a removed node; None when done, else why it was not reset."""
        if not node.host or 'fail' in node.flags:
            return 'not reachable (flags %s)' % ','.join(node.flags)
        try:
            client = self.client(node)
            myid = client.execute_command('CLUSTER', 'MYID')
            if myid != node.node_id:
                return 'another node (id %s) answers at %s' % (myid, node.label())
            client.execute_command('CLUSTER', 'RESET', 'HARD')
        except ResponseError as exc:
            return 'refused: %s' % exc
        except SLOW_ERRORS as exc:
            return 'answers slowly: %s' % describe_error(exc)
        except RETRYABLE_ERRORS as exc:
            return 'did not answer: %s' % describe_error(exc)
        return None

    def remembered(self, stay: list[ClusterNode], gone: list[ClusterNode]) -> list[str]:
        gone_ids = {node.node_id for node in gone}
        found = []
        for node in stay:
            for item in parse_nodes(reply_text(self.client(node).execute_command('CLUSTER', 'NODES'))):
                if item.node_id in gone_ids:
                    found.append('%s still lists %s' % (node.label(), item.label()))
        return found

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


# Why a node was not reset, when asking again may help: it refused (an ACL, a state it leaves), or it is
# there but slow (loading a data set after its master gave its last slot away, a TLS handshake behind that).
RETRIED = ('refused', 'answers slowly')


def retried(removed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The removed nodes to ask again until the timeout."""
    return [entry for entry in removed if entry.get('not_reset', '').startswith(RETRIED)]


def reset_removed(forgetter: Forgetter, removed: list[dict[str, Any]], gone: list[ClusterNode]) -> None:
    """Reset each removed node not tried yet, or that refused or answered slowly the last time."""
    for entry, node in zip(removed, gone):
        if entry['reset'] or ('not_reset' in entry and not retried([entry])):
            continue
        why_not = forgetter.reset(node)
        entry['reset'] = why_not is None
        entry.pop('not_reset', None)
        if why_not:
            entry['not_reset'] = why_not


def forget(module: AnsibleModule, forgetter: Forgetter, members: list[Address]) -> dict[str, Any]:
    seed = connect(module.params)
    forgetter.clients['seed'] = seed
    info = parse_info(reply_text(seed.execute_command('CLUSTER', 'INFO')))
    nodes = parse_nodes(reply_text(seed.execute_command('CLUSTER', 'NODES')))
    gone = leaving(nodes, [AddressMatcher(address) for address in members])
    removed = [dict(id=node.node_id, address=node.label(), role=node.role, reset=False) for node in gone]
    if not gone:
        return dict(changed=False, removed=[], msg='every node the cluster knows is in members')
    problems = refusals(nodes, gone)
    if info.get('cluster_state') != 'ok':
        problems.insert(0, 'the cluster is %s' % info.get('cluster_state'))
    if problems:
        raise ForgetError('Nothing was removed: %s.' % '; '.join(problems))
    if module.check_mode:
        return dict(changed=True, removed=removed, msg='would remove %s' % ', '.join(node.label() for node in gone))
    stay = [node for node in nodes if node not in gone]
    # Every node forgets them first: a node reset before would be told about them again meanwhile.
    forgetter.forget_everywhere(stay, gone)
    reset_removed(forgetter, removed, gone)
    deadline = time.monotonic() + module.params['timeout']
    while True:
        left = forgetter.remembered(stay, gone)
        if not left and not retried(removed):
            break
        if time.monotonic() > deadline:
            if left:
                raise ForgetError('Removed nodes are still known after %ss: %s.'
                                  % (module.params['timeout'], '; '.join(left)), changed=True)
            break
        forgetter.forget_everywhere(stay, gone)
        time.sleep(MAX_POLL_INTERVAL)
        reset_removed(forgetter, removed, gone)
    for entry in removed:
        if entry.get('not_reset', '').startswith(RETRIED + ('did not answer',)):
            module.warn('%s was not reset, %s; it keeps its node table and gossip brings it back once the forget '
                        'ban ends (60 s): reset it (CLUSTER RESET HARD) or stop it' % (entry['address'], entry['not_reset']))
    return dict(changed=True, removed=removed, msg='removed %s' % ', '.join(node.label() for node in gone))


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    members: list[Address] = []
    fail_on_param_errors(module, param_errors(module.params, members))
    ensure_redis_library(module)
    forgetter = Forgetter(module.params)
    try:
        module.exit_json(**forget(module, forgetter, members))
    except ForgetError as exc:
        module.fail_json(msg=str(exc), changed=exc.changed)
    except RETRYABLE_ERRORS as exc:
        module.fail_json(msg='Cannot remove nodes: %s.' % describe_error(exc), changed=False)
    finally:
        forgetter.close()


if __name__ == '__main__':
    main()
