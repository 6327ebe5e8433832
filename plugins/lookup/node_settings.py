# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup node_settings: the roles' derived settings of the current host, computed in Python."""

from __future__ import annotations

DOCUMENTATION = r"""
name: node_settings
short_description: The derived settings of the current host, for the roles of redisops.sentinel
version_added: "0.1.0"
description:
  - Internal to the roles of this collection; C(roles/redis/vars/main.yml) defines each derived setting
    C(_redis_<name>) as this lookup of C(<name>), and the host pass freezes those the later tasks read
    most for the rest of the run (C(set_fact)).
  - Computes each setting from the host's variables (the public C(redis_*) settings, the OS settings the
    roles load, the topology model, the live masters). They are the bind and local addresses, paths,
    packages, units, TLS files and options, the server's settings and secrets, logins, ACL users, the
    Sentinels' master groups, the start guard's settings, the master groups with their data nodes as
    C(playbooks/doctor.yml) and C(playbooks/recover.yml) read them, and a Redis Cluster node's address, ports
    and settings. A C(_redis_<name>) variable set by a task
    or block is used as it is.
options:
  _terms:
    description: Names of derived settings, without the C(_redis_) prefix.
    type: list
    elements: str
    required: true
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Show where this host's server keeps its data
  ansible.builtin.debug:
    msg: "{{ lookup('redisops.sentinel.node_settings', 'dir') }}"
"""

RETURN = r"""
_raw:
  description:
    - The value of each named setting.
  type: list
  elements: raw
"""


from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader
from ansible.plugins.lookup import LookupBase

from ansible_collections.redisops.sentinel.plugins.plugin_utils.node_settings import NodeSettings


class LookupModule(LookupBase):

    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        variables = variables or {}

        def read(name: str) -> Any:
            return self._templar.template(variables[name])

        def read_file(path: str) -> str:
            lookup = lookup_loader.get('ansible.builtin.file', loader=self._loader, templar=self._templar)
            return lookup.run([path], variables, rstrip=False)[0]

        settings = NodeSettings(read, variables.get, read_file)
        try:
            return [settings.get(str(term)) for term in terms]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise AnsibleLookupError('redisops.sentinel.node_settings: %s: %s' % (type(exc).__name__, exc)) from exc
