# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter address: a node's host:port as its host and port, IPv6 in brackets understood."""

from __future__ import annotations

DOCUMENTATION = r"""
name: address
short_description: The host and port of a C(host:port) address
version_added: "0.1.0"
description:
  - Splits an address as the modules and the topology model write it (C(host:port), IPv6 as
    C([a::b]:port)) into its host (IPv6 without brackets) and port, for the modules' C(login_host)
    and C(login_port), C(master_host) and C(master_port).
options:
  _input:
    description: The address.
    type: str
    required: true
  default_port:
    description: The port of an address without one.
    type: int
    default: 6379
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Ask the new master
  redisops.sentinel.replica_wait:
    master_host: "{{ (new_master | redisops.sentinel.address).host }}"
    master_port: "{{ (new_master | redisops.sentinel.address).port }}"
"""

RETURN = r"""
_value:
  description: C(host) (str) and C(port) (int).
  type: dict
"""

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.sentinel.plugins.module_utils.address import parse_address


def address(text: str, default_port: int = 6379) -> dict[str, Any]:
    try:
        host, port = parse_address(str(text), int(default_port))
    except ValueError as exc:
        raise AnsibleFilterError('redisops.sentinel.address: %s' % exc) from exc
    return {'host': host, 'port': port}


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {'address': address}
