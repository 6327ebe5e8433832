#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: redis_snapshot
short_description: Take an RDB snapshot (or an AOF rewrite) of a running Redis server and describe its files
version_added: "0.1.0"
description:
  - With O(kind=rdb), asks the server at O(login_host):O(login_port) for C(BGSAVE SCHEDULE), or joins
    the C(BGSAVE) that already runs, and waits until it finished (C(rdb_bgsave_in_progress:0) after a
    fork counted since the request, C(rdb_last_save_time) not older than the request) with
    C(rdb_last_bgsave_status:ok). A failed save fails the task at once, with the status the server reports.
  - With O(kind=aof), the same with C(BGREWRITEAOF) (joining a rewrite that runs or is scheduled, for
    example the one C(CONFIG SET appendonly yes) starts) until C(aof_last_bgrewrite_status:ok).
  - Returns the snapshot's files (C(CONFIG GET dir), C(dbfilename); with C(appendonly yes) the files of
    the AOF directory, C(appenddirname)), each with its size and SHA-256, and the facts a backup
    manifest records - server flavour and version, C(run_id), C(master_replid), C(master_repl_offset),
    time.
  - With O(stage_dir), the files are first kept there (mode 0700), so that a later automatic save
    does not replace them while they are copied off the host - the RDB hard-linked (Redis replaces
    it by rename), the AOF files copied. Remove the directory once they are copied.
  - With O(digest=true) (the default, O(kind=rdb)), it also returns the key count and a data-set
    digest (see M(redisops.sentinel.redis_dataset)) read right after the save, and whether they
    describe the snapshot exactly - no write reached the server since the save forked
    (C(rdb_changes_since_last_save:0) after the digest). Take snapshots on a replica, so that the
    master does not fork and the digest's reads do not compete with clients.
  - The module runs on the host of the server, since it reads the files.
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
      - Asks for no save and stages nothing; reports the server's facts and its current files, and
        C(changed) as a save would be made.
options:
  login_port:
    description:
      - TCP port of the Redis server to snapshot.
      - Must be between 1 and 65535.
    type: int
    default: 6379
  kind:
    description:
      - V(rdb) for C(BGSAVE), V(aof) for C(BGREWRITEAOF).
    type: str
    choices: [rdb, aof]
    default: rdb
  stage_dir:
    description:
      - Absolute directory, on the managed host, to keep the snapshot's files in for copying. Best on
        the file system of the server's C(dir), where the RDB is hard-linked and costs no space.
      - When unset, the returned paths are the server's own files, which a later save may replace.
    type: path
  digest:
    description:
      - Compute the key count and data-set digest after an RDB snapshot (reads every key; the server
        keeps serving between the batches of 1000 keys).
    type: bool
    default: true
  group:
    description:
      - Name of the master group the server belongs to, recorded in RV(manifest.group).
    type: str
requirements:
  - redis (Python library, redis-py 4.3 or later)
seealso:
  - module: redisops.sentinel.redis_dataset
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Snapshot the local replica and keep its files for copying
  redisops.sentinel.redis_snapshot:
    login_password: "{{ redis_password }}"
    stage_dir: /var/lib/redis/redisops-backup
    group: mymaster
    timeout: 600
  register: snapshot

- name: Copy the RDB to the controller
  ansible.builtin.fetch:
    src: "{{ snapshot.rdb.path }}"
    dest: "backups/{{ snapshot.rdb.name }}"
    flat: true

- name: Wait until the AOF rewrite that CONFIG SET appendonly yes started has finished
  redisops.sentinel.redis_snapshot:
    kind: aof
    digest: false
"""

RETURN = r"""
triggered:
  description: Whether this task asked for the save (V(false) when it joined one that ran, and in check mode).
  returned: always
  type: bool
  sample: true
elapsed:
  description: Seconds spent waiting for the save.
  returned: always
  type: float
  sample: 0.31
msg:
  description: Human readable outcome.
  returned: always
  type: str
  sample: BGSAVE of 127.0.0.1:6379 finished in 0.31s; 2 files, 1000 keys (digest exact).
rdb:
  description: The RDB file (staged with O(stage_dir)). Absent when the server has none yet (check mode).
  returned: success
  type: dict
  contains:
    path:
      description: Its path on the managed host.
      type: str
      sample: /var/lib/redis/redisops-backup/dump.rdb
    name:
      description: Its name in the snapshot.
      type: str
      sample: dump.rdb
    size:
      description: Bytes.
      type: int
      sample: 92
    sha256:
      description: SHA-256 of its content, hex.
      type: str
      sample: 9d4e1e23bd5b727046a9e3b4b7db57bd8d6ee684b6e3a6f1d8c1b0f2c1f8e5a4
files:
  description: Every file of the snapshot - the RDB, then with C(appendonly yes) the AOF directory's files
    (named C(appenddirname/FILE)) - each with path, name, size and sha256 as RV(rdb).
  returned: success
  type: list
  elements: dict
manifest:
  description: The facts of a backup manifest.
  returned: success
  type: dict
  contains:
    group:
      description: O(group), null without it.
      type: str
    server:
      description: C(redis) or C(valkey) (C(server_name) of C(INFO server)).
      type: str
      sample: valkey
    version:
      description: The server's version (C(valkey_version), else C(redis_version)).
      type: str
      sample: 8.1.1
    run_id:
      description: C(run_id) of the server.
      type: str
    role:
      description: C(master) or C(slave).
      type: str
    master_replid:
      description: The replication ID (a replica reports its master's).
      type: str
    master_repl_offset:
      description: The replication offset read right after the save.
      type: int
    time:
      description: When the save finished, ISO 8601 UTC (C(rdb_last_save_time)).
      type: str
      sample: "2026-12-02T04:59:03Z"
    dir:
      description: C(CONFIG GET dir).
      type: str
    dbfilename:
      description: C(CONFIG GET dbfilename).
      type: str
    appendonly:
      description: Whether AOF is on.
      type: bool
    appenddirname:
      description: The AOF directory's name when AOF is on (Redis 7, Valkey), else null.
      type: str
dataset:
  description: Key count and digest read after the save. Absent with O(digest=false) or O(kind=aof).
  returned: success
  type: dict
  contains:
    keys:
      description: Keys in all databases.
      type: int
      sample: 1000
    databases:
      description: Keys per database, C(dbN).
      type: dict
    digest:
      description: The data-set digest, 64 hex digits.
      type: str
    exact:
      description: V(true) when no write reached the server between the save's fork and the end of the digest,
        so that the digest and count describe the snapshot's content.
      type: bool
persistence:
  description: C(INFO persistence) of the server when the save finished.
  returned: always
  type: dict
"""

import datetime
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
from ansible_collections.redisops.sentinel.plugins.module_utils.snapshot import (
    KINDS,
    SnapshotFailed,
    data_paths,
    describe_file,
    live_files,
    persistence,
    request,
    server_facts,
    stage,
)
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import describe_error, poll_until


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(REDIS_PORT)
    spec.update(wait_argument_spec())
    spec.update(
        kind=dict(type='str', choices=['rdb', 'aof'], default='rdb'),
        stage_dir=dict(type='path'),
        digest=dict(type='bool', default=True),
        group=dict(type='str'),
    )
    return spec


def param_errors(params: dict[str, Any]) -> list[str]:
    errors = common_param_errors(params)
    if params['stage_dir'] is not None and not params['stage_dir'].startswith('/'):
        errors.append('stage_dir must be an absolute path, got %s' % params['stage_dir'])
    return errors


def utc(timestamp: int) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def exact(after: dict[str, Any], saved: dict[str, Any]) -> bool:
    """No write since the save forked, and no other save since: the digest describes the snapshot."""
    return (after.get('rdb_changes_since_last_save') == 0 and after.get('rdb_bgsave_in_progress') == 0
            and after.get('rdb_saves') == saved.get('rdb_saves'))


def describe(params: dict[str, Any], client: Any, state: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    """Files, manifest facts and the digest, once the save finished (or at once in check mode)."""
    paths = data_paths(client)
    facts = server_facts(client)
    result: dict[str, Any] = dict(persistence=state)
    if params['kind'] == 'rdb' and params['digest']:
        raw = connect(params, decode=False)
        try:
            dataset = dataset_digest(raw)
        finally:
            raw.close()
        dataset['exact'] = not check_mode and exact(persistence(client), state)
        result['dataset'] = dataset
    if params['stage_dir'] and not check_mode:
        pairs = stage(paths['rdb'], paths['aof_dir'], params['stage_dir'])
    else:
        pairs = live_files(paths['rdb'], paths['aof_dir'])
    files = [describe_file(path, name) for path, name in pairs]
    result['files'] = files
    if files and files[0]['name'] == paths['dbfilename']:
        result['rdb'] = files[0]
    result['manifest'] = dict(
        facts, group=params['group'], time=utc(int(state.get('rdb_last_save_time', 0))), dir=paths['dir'],
        dbfilename=paths['dbfilename'], appendonly=paths['appendonly'],
        appenddirname=paths['appenddirname'] if paths['appendonly'] else None)
    return result


def summary(params: dict[str, Any], result: dict[str, Any], elapsed: float, check_mode: bool) -> str:
    server = Address(params['login_host'], params['login_port'])
    command = 'BGSAVE' if params['kind'] == 'rdb' else 'BGREWRITEAOF'
    head = ('Check mode: %s of %s not asked for' % (command, server) if check_mode
            else '%s of %s finished in %ss' % (command, server, elapsed))
    text = '%s; %d files' % (head, len(result['files']))
    dataset = result.get('dataset')
    if dataset:
        text += ', %d keys (digest %s)' % (dataset['keys'], 'exact' if dataset['exact'] else
                                           'read while writes arrived: it may differ from the snapshot')
    return text + '.'


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    fail_on_param_errors(module, param_errors(params))
    ensure_redis_library(module)
    client = connect(params)
    try:
        if module.check_mode:
            triggered, elapsed, state = False, 0.0, persistence(client)
        else:
            pending = request(client, KINDS[params['kind']])
            outcome = poll_until(lambda: pending.check(client), params['timeout'], params['poll_interval'],
                                 RETRYABLE_ERRORS)
            if not outcome.ready:
                module.fail_json(msg='%s of %s:%s did not finish within %ss%s.' % (
                    ' '.join(pending.kind.command), params['login_host'], params['login_port'], params['timeout'],
                    ' (last error: %s)' % outcome.last_error if outcome.last_error else ''),
                    changed=pending.triggered, persistence=outcome.state)
            triggered, elapsed, state = pending.triggered, outcome.elapsed, outcome.state
        result = describe(params, client, state, module.check_mode)
    except SnapshotFailed as exc:
        module.fail_json(msg=str(exc), changed=True)
    except RETRYABLE_ERRORS as exc:
        module.fail_json(msg='Cannot snapshot %s:%s: %s' % (params['login_host'], params['login_port'],
                                                            describe_error(exc)), changed=False)
    finally:
        client.close()
    result.update(changed=True, triggered=triggered, elapsed=elapsed,
                  msg=summary(params, result, elapsed, module.check_mode))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
