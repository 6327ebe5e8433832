#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: node_files
short_description: Ensure the directories and files of a Redis host in one pass
version_added: "0.1.0"
description:
  - Ensures a list of directories and files, in order, in one module run. The roles of this
    collection write a host's data and log directories, systemd drop-ins, start guard, TLS files and
    bootstrap configuration files with it.
  - A file whose O(files[].marker) is already in it is left as it is (its owner, group and mode are
    still kept), because Redis and Sentinel rewrite their own configuration files once they run, and the roles
    then change the running service instead.
  - Content is written to a private temporary file in the same directory and renamed into place, so
    a secret is never in a readable file and a reader never sees half a file.
  - The result lists the paths that changed, so that one task can decide which services to restart.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The content before and after, for files given with O(files[].content); never for
        O(files[].secret_content).
  platform:
    platforms: posix
options:
  files:
    description:
      - The directories and files, ensured in this order.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description:
          - Absolute path.
        type: path
        required: true
      state:
        description:
          - V(directory) creates the directory (and its parents) when missing.
          - V(file) writes O(files[].content) or O(files[].secret_content) when given; without either,
            only the owner, group and mode of an existing file are kept (a missing file is reported
            in RV(missing) and left missing).
        type: str
        choices: [directory, file]
        default: file
      content:
        description:
          - The file's content, shown in diffs.
        type: str
      secret_content:
        description:
          - The file's content when it holds a secret, never logged and never shown in diffs.
          - Mutually exclusive with O(files[].content).
        type: str
      marker:
        description:
          - Text that marks the file as written once already; a file that holds it is not rewritten.
        type: str
      owner:
        description:
          - Owner (name or id).
        type: str
      group:
        description:
          - Group (name or id).
        type: str
      mode:
        description:
          - Permissions, as the M(ansible.builtin.file) module takes them (V("0640"), V(u=rw,g=r)).
        type: raw
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Ensure the server's directories and its bootstrap configuration
  redisops.sentinel.node_files:
    files:
      - {path: /var/lib/redis, state: directory, owner: redis, group: redis, mode: "0750"}
      - path: /etc/redis/redis.conf
        secret_content: "{{ lookup('ansible.builtin.template', 'redis.conf.j2') }}"
        marker: "written by redisops.sentinel"
        owner: redis
        group: redis
        mode: "0640"
  register: files

- name: Restart the server when its drop-in changed
  ansible.builtin.systemd_service:
    name: redis-server
    state: "{{ 'restarted' if '/etc/systemd/system/redis-server.service.d/redisops.conf' in files.changed_paths else 'started' }}"
"""

RETURN = r"""
changed_paths:
  description: The paths that were changed (or would be, in check mode).
  returned: always
  type: list
  elements: str
marked:
  description: The files that already held their marker and were not rewritten.
  returned: always
  type: list
  elements: str
missing:
  description: Files given without content that do not exist.
  returned: always
  type: list
  elements: str
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.files import ensure

ENTRY = {
    'path': {'type': 'path', 'required': True},
    'state': {'type': 'str', 'choices': ['directory', 'file'], 'default': 'file'},
    'content': {'type': 'str'},
    'secret_content': {'type': 'str', 'no_log': True},
    'marker': {'type': 'str'},
    'owner': {'type': 'str'},
    'group': {'type': 'str'},
    'mode': {'type': 'raw'},
}


def argument_spec() -> dict[str, dict[str, Any]]:
    return {'files': {'type': 'list', 'elements': 'dict', 'required': True, 'options': ENTRY,
                      'mutually_exclusive': [('content', 'secret_content')]}}


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    report = ensure(module, module.params['files'])
    result = report.result()
    if module._diff:
        result['diff'] = report.diffs()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
