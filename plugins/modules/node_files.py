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
  - redisops.sentinel.node_files
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

from ansible_collections.redisops.sentinel.plugins.module_utils.files import FILES_OPTION, ensure


def argument_spec() -> dict[str, dict[str, Any]]:
    return {'files': dict(FILES_OPTION, required=True)}


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.exit_json(**ensure(module, module.params['files']).result(module._diff))


if __name__ == '__main__':
    main()
