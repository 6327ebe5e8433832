# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter exporter_problems: what stops the settings of the role redis_exporter on a host, before any change."""

from __future__ import annotations

from typing import Any, Mapping

from ansible.plugins.filter.core import to_bool

from ansible_collections.redisops.sentinel.plugins.module_utils.validate import is_ip_network, is_port
from ansible_collections.redisops.sentinel.plugins.plugin_utils.node_settings import as_int

DOCUMENTATION = r"""
name: exporter_problems
short_description: What stops the settings of the role redis_exporter on a host
version_added: "0.1.0"
description:
  - Internal to the role C(redisops.sentinel.redis_exporter), which refuses a host's settings with this list
    before any change. Takes the host's exporters and its settings, and returns every problem at once, each
    naming the setting to change; an empty list when there is none.
  - The problems are no address to listen on, exporter ports out of range, equal, or the
    C(redis_exporter_port) of another server of the inventory on the same C(redis_address), allow sources
    that are not addresses or networks, with C(redis_acl) no password for the exporter user, and a password
    with a line break (the environment file could not hold it).
options:
  _input:
    description: The host's exporters, each with C(port) and C(env) (its C(REDIS_PASSWORD)).
    type: list
    elements: dict
    required: true
  settings:
    description:
      - The host's settings, keyed C(host) (C(inventory_hostname)), C(address) (C(redis_address)), C(listen),
        C(allow_sources), C(acl), C(server) (C(redis_exporter_server)), C(acl_password), C(port_default) (the
        role's default C(redis_exporter_port)), C(data_nodes) (the hosts of C(redis_master) and
        C(redis_replica)) and C(hostvars) (their C(redis_address) and C(redis_exporter_port)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse settings the exporters cannot run with, before any change
  ansible.builtin.assert:
    that: _problems | length == 0
    fail_msg: "{{ _problems | join('; ') }}"
  vars:
    _problems: >-
      {{ [{'port': 9121, 'env': {'REDIS_PASSWORD': ''}}] | redisops.sentinel.exporter_problems({
           'host': inventory_hostname, 'address': '10.0.0.1', 'listen': '10.0.0.1', 'allow_sources': [],
           'acl': false, 'server': true, 'acl_password': '', 'port_default': 9121,
           'data_nodes': groups['redis_master'], 'hostvars': hostvars}) }}
"""

RETURN = r"""
_value:
  description: The problems, each a phrase; empty when there is none.
  type: list
  elements: str
"""


def exporter_problems(instances: list[Mapping[str, Any]], settings: Mapping[str, Any]) -> list[str]:
    ports = [as_int(instance['port']) for instance in instances]
    problems = []
    if not settings['listen']:
        problems.append('set redis_address or redis_exporter_listen_address')
    if not all(map(is_port, ports)):
        problems.append('redis_exporter_port and redis_exporter_sentinel_port must be between 1 and 65535')
    if len(set(ports)) != len(ports):
        problems.append('redis_exporter_port and redis_exporter_sentinel_port must differ')
    taken = taken_ports(settings)
    problems.extend('port %d is the redis_exporter_port of another server on %s: give each server of a host its own'
                    % (port, settings['address']) for port in ports if port in taken)
    problems.extend('redis_exporter_allow_sources: "%s" is not an IP address or network (CIDR)' % source
                    for source in settings['allow_sources'] if not is_ip_network(source))
    if to_bool(settings['acl']) and to_bool(settings['server']) and not settings['acl_password']:
        problems.append('redis_acl is on: set redis_exporter_acl_password (the exporter user logs in with it)')
    if any('\r' in password or '\n' in password for password in (str(i['env']['REDIS_PASSWORD'] or '') for i in instances)):
        problems.append('a password the exporters log in with holds a line break')
    return problems


def taken_ports(settings: Mapping[str, Any]) -> list[int]:
    """The exporter ports of the inventory's other servers on this host's redis_address (a host that sets
    none has the role's default)."""
    ports = []
    for name in dict.fromkeys(settings['data_nodes']):
        other = settings['hostvars'][name]
        if name != settings['host'] and (other.get('redis_address') or '') == settings['address']:
            ports.append(as_int(other.get('redis_exporter_port', settings['port_default'])))
    return ports


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {'exporter_problems': exporter_problems}
