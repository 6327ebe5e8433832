#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: redis_replicaof
short_description: Make a running Redis server a master or a replica of a given master
version_added: "0.1.0"
description:
  - Reads C(INFO replication) of the server at O(login_host):O(login_port). With O(role=master), a
    server that replicates is promoted with C(REPLICAOF NO ONE). With O(role=replica), a server that
    is a master or replicates from another address is pointed at O(master_host):O(master_port) with
    C(REPLICAOF). Then, with O(rewrite=true), C(CONFIG REWRITE) makes the configuration file keep the
    change across restarts (a server started without a configuration file is left as it is).
  - Nothing changes when the server already has the requested role and master. The link state is
    not waited for; M(redisops.sentinel.replica_wait) does that.
  - Who replicates from whom is Sentinel's business while the Sentinels have a master, and a
    Sentinel undoes what this module changes. It is meant for the recovery of a group the
    Sentinels cannot lead (C(playbooks/recover.yml)), before the Sentinels are pointed at the new
    master.
extends_documentation_fragment:
  - redisops.sentinel.connection
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details:
      - The server is only read; the module reports whether it would change it.
  diff_mode:
    support: full
    details:
      - The C(replicaof) line before and after, C(replicaof no one) for a master.
  platform:
    platforms: posix
  action_group:
    membership:
      - redisops.sentinel.redis
options:
  login_port:
    description:
      - TCP port of the Redis server to change.
      - Must be between 1 and 65535.
    type: int
    default: 6379
  role:
    description:
      - V(master) promotes the server, V(replica) makes it replicate from O(master_host):O(master_port).
    type: str
    choices: [master, replica]
    default: replica
  master_host:
    description:
      - Address of the master to replicate from, as the server can reach it. Required with O(role=replica).
      - A host name matches the address the server reports when it resolves to it on the managed host.
    type: str
  master_port:
    description:
      - Port of the master.
    type: int
    default: 6379
  rewrite:
    description:
      - Run C(CONFIG REWRITE) after a change, so that a restart keeps it.
    type: bool
    default: true
requirements:
  - redis (Python library, redis-py 4.3 or later)
  - O(login_user) must be allowed C(INFO), C(REPLICAOF) and C(CONFIG REWRITE), none of them renamed.
seealso:
  - module: redisops.sentinel.replica_wait
  - module: redisops.sentinel.recover_info
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Promote the node that holds the most recent data
  redisops.sentinel.redis_replicaof:
    login_password: "{{ redis_password }}"
    role: master

- name: Make this node a replica of 10.0.0.12
  redisops.sentinel.redis_replicaof:
    login_password: "{{ redis_password }}"
    master_host: 10.0.0.12
    master_port: 6379

- name: Wait until it is linked
  redisops.sentinel.replica_wait:
    login_password: "{{ redis_password }}"
    master_host: 10.0.0.12
"""

RETURN = r"""
before:
  description: The master the server replicated from before the task, C(host:port), or C(no one) for a master.
  returned: always
  type: str
  sample: no one
after:
  description: The same after the task (in check mode, what it would be).
  returned: always
  type: str
  sample: 10.0.0.12:6379
rewritten:
  description: Whether C(CONFIG REWRITE) saved the change to the configuration file.
  returned: always
  type: bool
  sample: true
diff:
  description: The C(replicaof) line before and after.
  returned: always
  type: dict
  contains:
    before:
      description: C(replicaof no one), or C(replicaof host port).
      type: str
    after:
      description: The same after the task.
      type: str
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.address import (
    Address, AddressMatcher, format_address)
from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    REDIS_PORT, RETRYABLE_ERRORS, connect, connection_argument_spec, connection_param_errors, ensure_redis_library,
    fail_on_param_errors, port_error)
from ansible_collections.redisops.sentinel.plugins.module_utils.tls import tls_hint
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import describe_error

NO_ONE = 'no one'
NO_CONFIG_FILE = 'without a config file'


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(REDIS_PORT)
    spec.update(
        role=dict(type='str', default='replica', choices=['master', 'replica']),
        master_host=dict(type='str'),
        master_port=dict(type='int', default=REDIS_PORT),
        rewrite=dict(type='bool', default=True),
    )
    return spec


def param_errors(params: dict[str, Any]) -> list[str]:
    errors = connection_param_errors(params)
    error = port_error('master_port', params['master_port'])
    if error:
        errors.append(error)
    if params['role'] == 'replica' and not params['master_host']:
        errors.append('master_host is required with role=replica: the address of the master to replicate from')
    if params['role'] == 'master' and params['master_host']:
        errors.append('master_host only applies to role=replica: a master replicates from no one')
    return errors


class StepError(Exception):
    """A failed step, explained; ``changed`` when REPLICAOF was applied before it."""

    def __init__(self, msg: str, changed: bool):
        super().__init__(msg)
        self.changed = changed


def current_master(info: dict[str, Any]) -> Address | None:
    """The master the server replicates from, None for a master."""
    if info.get('role') != 'slave':
        return None
    return Address(str(info.get('master_host', '')), int(info.get('master_port', 0)))


def shown(master: Address | None) -> str:
    return NO_ONE if master is None else str(master)


def config_line(master: Address | None) -> str:
    return 'replicaof %s\n' % (NO_ONE if master is None else '%s %d' % master)


def rewrite(client) -> bool:
    """CONFIG REWRITE; False for a server started without a configuration file."""
    try:
        client.config_rewrite()
    except RETRYABLE_ERRORS as exc:
        if NO_CONFIG_FILE in str(exc):
            return False
        raise
    return True


def failure(step: str, params: dict[str, Any], exc: BaseException) -> str:
    address = format_address(params['login_host'], params['login_port'])
    msg = 'Could not %s on %s: %s.' % (step, address, describe_error(exc).rstrip('.'))
    advice = tls_hint(exc, params)
    if advice is None and 'noperm' in str(exc).lower():
        advice = 'login_user must be allowed INFO, REPLICAOF and CONFIG REWRITE.'
    return '%s %s' % (msg, advice) if advice else msg


def converge(module: AnsibleModule, client) -> dict[str, Any]:
    params = module.params
    step = 'read INFO replication'
    try:
        before = current_master(client.info('replication'))
        wanted = None if params['role'] == 'master' else Address(params['master_host'], params['master_port'])
        done = (before is None if wanted is None
                else before is not None and AddressMatcher(wanted).matches(before.host, before.port))
        result = dict(changed=not done, before=shown(before), after=shown(before if done else wanted),
                      rewritten=False, diff=dict(before=config_line(before),
                                                 after=config_line(before if done else wanted)))
        if done or module.check_mode:
            return result
        step = 'run REPLICAOF %s' % shown(wanted).replace(':', ' ')
        client.execute_command('REPLICAOF', *(('NO', 'ONE') if wanted is None else wanted))
        if params['rewrite']:
            step = 'run CONFIG REWRITE (REPLICAOF was applied and lasts until a restart)'
            result['rewritten'] = rewrite(client)
        return result
    except RETRYABLE_ERRORS as exc:
        raise StepError(failure(step, params, exc), changed=step.startswith('run CONFIG')) from exc


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    fail_on_param_errors(module, param_errors(module.params))
    ensure_redis_library(module)
    client = connect(module.params)
    try:
        result = converge(module, client)
    except StepError as exc:
        module.fail_json(msg=str(exc), changed=exc.changed)
    finally:
        client.close()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
