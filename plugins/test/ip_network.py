# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test ip_network: whether a value is an IP address or network that a firewalld rich rule takes."""

from __future__ import annotations

from typing import Any

from ansible_collections.redisops.sentinel.plugins.module_utils.validate import is_ip_network

DOCUMENTATION = r"""
name: ip_network
short_description: Whether a value is an IP address or network (CIDR)
version_added: "0.1.0"
description:
  - True for an IPv4 or IPv6 address, or a network as address/prefix or address/netmask (host bits may be
    set), which is what a firewalld rich rule takes as its source; false for anything else, host names
    included.
  - The roles C(redisops.sentinel.redis_exporter) and C(redisops.sentinel.redis_haproxy) check their
    C(*_allow_sources) with it before any host changes.
options:
  _input:
    description: The value to test.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse a source that is not an address or network
  ansible.builtin.assert:
    that: redis_exporter_allow_sources | reject('redisops.sentinel.ip_network') | list | length == 0
"""

RETURN = r"""
_value:
  description: Whether the value is an IP address or network.
  type: bool
"""


class TestModule:
    def tests(self) -> dict[str, Any]:
        return {'ip_network': lambda value: isinstance(value, str) and is_ip_network(value)}
