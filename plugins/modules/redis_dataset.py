#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: redis_dataset
short_description: Key count and a data-set digest of a Redis server that is the same on every node holding the data
version_added: "0.1.0"
description:
  - Waits until the server at O(login_host):O(login_port) answers and has loaded its data (C(loading:0);
    connection refused and C(LOADING) are retried until O(timeout)), then reads every key.
  - The digest is computed by the module, not with C(DEBUG DIGEST) (refused by Redis 7 and later
    unless C(enable-debug-command) is on) - C(SCAN) of every database, each key read by its type
    into a canonical form (hash fields and set members sorted, sorted-set scores as numbers, a
    module type's C(DUMP) payload), hashed with SHA-256 together with its database, name and type,
    and the hashes added modulo 2**256 - so the digest does not depend on the order of SCAN, on
    the objects' internal encoding or on the server version. Expiry times are not part of it.
  - Two nodes hold the same data when their digests are equal; a restore compares them with the
    digest M(redisops.sentinel.redis_snapshot) recorded in the backup manifest.
  - Never changes anything. On a busy server the digest describes no single moment; compare nodes
    while no writes arrive.
extends_documentation_fragment:
  - redisops.sentinel.connection
  - redisops.sentinel.connection.wait
  - redisops.sentinel.connection.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.ACTIONGROUPS
attributes:
  check_mode:
    support: full
    details:
      - The server is only read, in check mode as well.
options:
  login_port:
    description:
      - TCP port of the Redis server to read.
      - Must be between 1 and 65535.
    type: int
    default: 6379
requirements:
  - redis (Python library, redis-py 4.3 or later)
seealso:
  - module: redisops.sentinel.redis_snapshot
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Read the data set of every data node
  redisops.sentinel.redis_dataset:
    login_password: "{{ redis_password }}"
    timeout: 120
  register: dataset

- name: Every node holds what the backup holds
  ansible.builtin.assert:
    that:
      - dataset.keys == manifest.dataset.keys
      - dataset.digest == manifest.dataset.digest
"""

RETURN = r"""
keys:
  description: Keys in all databases (keys that expired but were not removed yet are not counted).
  returned: success
  type: int
  sample: 1000
databases:
  description: Keys per database, C(dbN).
  returned: success
  type: dict
  sample: {db0: 1000}
digest:
  description: The data-set digest, 64 hex digits (all zeros for an empty server).
  returned: success
  type: str
  sample: 3c1b7a0f1e0b1fbd2f3e4c5d6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7
role:
  description: C(master) or C(slave).
  returned: success
  type: str
  sample: master
elapsed:
  description: Seconds spent waiting for the server to answer with its data loaded.
  returned: always
  type: float
  sample: 0.02
msg:
  description: Human readable outcome.
  returned: always
  type: str
  sample: 127.0.0.1:6379 (master) holds 1000 keys, digest 3c1b7a0f1e0b.
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.address import Address
from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    REDIS_PORT,
    RETRYABLE_ERRORS,
    common_param_errors,
    connect,
    connection_argument_spec,
    ensure_redis_library,
    fail_on_param_errors,
    wait_argument_spec,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.dataset import dataset_digest
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import describe_error, poll_until


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(REDIS_PORT)
    spec.update(wait_argument_spec())
    return spec


def loaded(client: Any) -> tuple[bool, dict[str, Any]]:
    info = client.info('persistence')
    return int(info.get('loading', 0)) == 0, dict(loading=int(info.get('loading', 0)))


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    fail_on_param_errors(module, common_param_errors(params))
    ensure_redis_library(module)
    server = Address(params['login_host'], params['login_port'])
    client = connect(params, decode=False)
    elapsed = 0.0
    try:
        outcome = poll_until(lambda: loaded(client), params['timeout'], params['poll_interval'], RETRYABLE_ERRORS)
        if not outcome.ready:
            module.fail_json(msg='%s did not answer with its data loaded within %ss (%s).' % (
                server, params['timeout'], outcome.last_error or 'still loading'), changed=False,
                elapsed=outcome.elapsed)
        elapsed = outcome.elapsed
        role = client.info('replication')['role']
        result = dataset_digest(client)
    except RETRYABLE_ERRORS as exc:
        module.fail_json(msg='Cannot read the data set of %s: %s' % (server, describe_error(exc)), changed=False,
                         elapsed=elapsed)
    finally:
        client.close()
    role = role.decode() if isinstance(role, bytes) else str(role)
    module.exit_json(changed=False, role=role, elapsed=elapsed,
                     msg='%s (%s) holds %d keys, digest %s.' % (server, role, result['keys'], result['digest'][:12]),
                     **result)


if __name__ == '__main__':
    main()
