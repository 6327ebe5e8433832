#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_import
short_description: Copy the data set of a Redis server (the master of a Sentinel group) into a Redis Cluster
version_added: "0.1.0"
description:
  - The migration path from a Sentinel group to a cluster. Reads the keys of one database of the source server
    with C(SCAN), finds the master of the cluster (read from O(login_host):O(login_port)) that owns each key's
    hash slot, and has the source send them there with C(MIGRATE ... COPY), in batches of O(batch). Values,
    types and expiry times go over as they are; the source keeps its data.
  - The source must reach the cluster's masters at the addresses the cluster announces, with the cluster's
    login (O(login_user), O(login_password)). The cluster must run the source's server version or a newer one
    (an older one refuses the payload).
  - Refuses, before copying anything, while the cluster is not C(cluster_state:ok), and when the cluster
    already holds keys unless O(replace) is V(true).
  - A copy is not a cutover. Keys written to the source while the copy runs may or may not be in it, and a
    key deleted on the source stays in the cluster. Stop the writers first, or run again with O(replace)
    right before the clients switch to the cluster.
  - A key the cluster has already when O(replace) is V(false) (a key C(SCAN) returned twice, or one a client
    wrote to the cluster meanwhile) is left as the cluster has it.
  - Check mode counts the keys per cluster master and copies nothing.
extends_documentation_fragment:
  - redisops.sentinel.connection
  - redisops.sentinel.connection.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details:
      - Counts the keys per cluster master (RV(copied)) and copies nothing.
options:
  login_port:
    description:
      - TCP port of a cluster node the cluster is read from.
      - Must be between 1 and 65535.
    type: int
    default: 6379
  source_host:
    description:
      - Address of the source server (the current master of the Sentinel group).
    type: str
    required: true
  source_port:
    description:
      - TCP port of the source server.
      - Must be between 1 and 65535.
    type: int
    default: 6379
  source_user:
    description:
      - ACL user to log in to the source with; omitted means the default user.
    type: str
  source_password:
    description:
      - Password to log in to the source with.
    type: str
  source_db:
    description:
      - The database of the source to copy. A cluster has database 0 only.
      - Must be between 0 and 15.
    type: int
    default: 0
  replace:
    description:
      - Whether a key the cluster already has is overwritten with the source's. With V(false) the module refuses
        a cluster that holds any key.
    type: bool
    default: false
  batch:
    description:
      - Keys per C(SCAN) step and per C(MIGRATE) command.
      - Must be at least 1.
    type: int
    default: 100
  migrate_timeout:
    description:
      - Milliseconds C(MIGRATE) may wait for a cluster master.
      - Must be at least 1.
    type: int
    default: 10000
requirements:
  - redis (Python library, redis-py 4.3 or later)
seealso:
  - module: redisops.sentinel.cluster_info
  - module: redisops.sentinel.cluster_reshard
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Copy the data set of the Sentinel group's master into the cluster
  redisops.sentinel.cluster_import:
    login_host: 10.0.1.11
    login_password: "{{ redis_cluster_password }}"
    source_host: 10.0.0.11
    source_password: "{{ redis_password }}"
"""

RETURN = r"""
copied:
  description: Keys copied to each cluster master (to copy, in check mode), by the master's address.
  returned: always
  type: dict
  sample: {"10.0.1.11:6379": 33412, "10.0.1.12:6379": 33367, "10.0.1.13:6379": 33221}
keys:
  description: Keys copied in all (to copy, in check mode).
  returned: always
  type: int
kept_batches:
  description: C(MIGRATE) batches in which the cluster kept a key it had already (see the description).
  returned: always
  type: int
msg:
  description: One line summary.
  returned: always
  type: str
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    REDIS_PORT,
    RETRYABLE_ERRORS,
    ResponseError,
    connect,
    connection_argument_spec,
    connection_param_errors,
    ensure_redis_library,
    fail_on_param_errors,
    port_error,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.cluster import ClusterNode, parse_info, parse_nodes, reply_text
from ansible_collections.redisops.sentinel.plugins.module_utils.reshard import key_slot, migrate_auth
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import describe_error


class ImportRefused(Exception):
    """Copying is not safe now; nothing was copied."""


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(REDIS_PORT)
    spec.update(
        source_host=dict(type='str', required=True),
        source_port=dict(type='int', default=REDIS_PORT),
        source_user=dict(type='str'),
        source_password=dict(type='str', no_log=True),
        source_db=dict(type='int', default=0),
        replace=dict(type='bool', default=False),
        batch=dict(type='int', default=100),
        migrate_timeout=dict(type='int', default=10000),
    )
    return spec


def param_errors(params: dict[str, Any]) -> list[str]:
    errors = connection_param_errors(params)
    error = port_error('source_port', params['source_port'])
    if error:
        errors.append(error)
    if not 0 <= params['source_db'] <= 15:
        errors.append('source_db must be between 0 and 15, got %d' % params['source_db'])
    for name in ('batch', 'migrate_timeout'):
        if params[name] < 1:
            errors.append('%s must be at least 1, got %d' % (name, params[name]))
    return errors


def slot_owners(masters: list[ClusterNode]) -> list[ClusterNode | None]:
    owners: list[ClusterNode | None] = [None] * 16384
    for node in masters:
        for start, end in node.slots:
            owners[start:end + 1] = [node] * (end - start + 1)
    return owners


def source_params(params: dict[str, Any]) -> dict[str, Any]:
    """The login of the source: the module's TLS settings, the source's own address and credentials."""
    return dict(params, login_host=params['source_host'], login_port=params['source_port'],
                login_user=params['source_user'], login_password=params['source_password'],
                login_password_previous=None)


class Importer:
    def __init__(self, module: AnsibleModule):
        self.params = module.params
        self.check_mode = module.check_mode
        self.cluster = connect(self.params)
        # Keys are binary: never decoded, so that every key goes over as it is.
        self.source = connect(source_params(self.params), decode=False)
        self.clients = [self.cluster, self.source]
        try:
            nodes = parse_nodes(reply_text(self.cluster.execute_command('CLUSTER', 'NODES')))
        except RETRYABLE_ERRORS as exc:
            raise ImportRefused('Cannot read the cluster from %s:%d: %s.' % (
                self.params['login_host'], self.params['login_port'], describe_error(exc))) from exc
        self.masters = [node for node in nodes if node.role == 'master' and node.slots]
        self.owners = slot_owners(self.masters)
        self.copied = {node.label(): 0 for node in self.masters}
        self.kept = 0  # batches in which the cluster kept a key it had

    def refusals(self) -> list[str]:
        problems = []
        state = parse_info(reply_text(self.cluster.execute_command('CLUSTER', 'INFO'))).get('cluster_state')
        if state != 'ok':
            problems.append('the cluster is %s' % state)
        if not self.params['replace']:
            holding = []
            for node in self.masters:
                client = connect(self.params, node.host, node.port)
                self.clients.append(client)
                if client.dbsize():
                    holding.append(node.label())
            if holding:
                problems.append('the cluster already holds keys (%s): set replace to overwrite them with the '
                                "source's" % ', '.join(holding))
        return problems

    def migrate(self, node: ClusterNode, keys: list[bytes]) -> None:
        args: list[Any] = ['MIGRATE', node.host, node.port, '', 0, self.params['migrate_timeout'], 'COPY']
        if self.params['replace']:
            args.append('REPLACE')
        args += migrate_auth(self.params['login_user'], self.params['login_password'])
        try:
            self.source.execute_command(*(args + ['KEYS'] + keys))
        except ResponseError as exc:
            # Without REPLACE the cluster was empty when the copy began: a key it has now is one SCAN
            # returned twice, or one a client wrote to the cluster since, newer than the source's. MIGRATE
            # restores the other keys of the batch all the same.
            if 'BUSYKEY' not in str(exc) or self.params['replace']:
                raise
            self.kept += 1

    def copy_batch(self, keys: list[bytes]) -> None:
        groups: dict[str, tuple[ClusterNode, list[bytes]]] = {}
        for key in keys:
            node = self.owners[key_slot(key)]
            groups.setdefault(node.node_id, (node, []))[1].append(key)
        for node, group in groups.values():
            if not self.check_mode:
                self.migrate(node, group)
            self.copied[node.label()] += len(group)

    def run(self) -> None:
        try:
            self.source.execute_command('SELECT', self.params['source_db'])
        except RETRYABLE_ERRORS as exc:
            raise ImportRefused('Nothing was copied: cannot read the source %s:%d: %s.' % (
                self.params['source_host'], self.params['source_port'], describe_error(exc))) from exc
        cursor = 0
        while True:
            cursor, keys = self.source.scan(cursor=cursor, count=self.params['batch'])
            if keys:
                self.copy_batch(list(keys))
            if int(cursor) == 0:
                return

    def close(self) -> None:
        for client in self.clients:
            client.close()


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    fail_on_param_errors(module, param_errors(module.params))
    ensure_redis_library(module)
    importer = None
    try:
        importer = Importer(module)
        problems = importer.refusals()
        if problems:
            raise ImportRefused('Nothing was copied: %s.' % '; '.join(problems))
        importer.run()
    except ImportRefused as exc:
        module.fail_json(msg=str(exc), changed=bool(importer and sum(importer.copied.values())))
    except RETRYABLE_ERRORS as exc:
        copied = sum(importer.copied.values()) if importer else 0
        module.fail_json(msg='The copy stopped after %d key(s): %s.' % (copied, describe_error(exc)), changed=copied > 0)
    finally:
        if importer is not None:
            importer.close()
    keys = sum(importer.copied.values())
    module.exit_json(changed=keys > 0, copied=importer.copied, keys=keys, kept_batches=importer.kept,
                     msg='%s %d key(s) of %s:%d db %d into the cluster' % (
                         'would copy' if module.check_mode else 'copied', keys, module.params['source_host'],
                         module.params['source_port'], module.params['source_db']))


if __name__ == '__main__':
    main()
