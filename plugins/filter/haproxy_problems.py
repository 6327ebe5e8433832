# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter haproxy_problems: what stops the settings of the role redis_haproxy, before any host changes."""

from __future__ import annotations

from typing import Any, Mapping

from ansible.plugins.filter.core import to_bool

from ansible_collections.redisops.sentinel.plugins.module_utils.validate import is_ip_network, is_port

DOCUMENTATION = r"""
name: haproxy_problems
short_description: What stops the settings of the role redis_haproxy
version_added: "0.1.0"
description:
  - Internal to the role C(redisops.sentinel.redis_haproxy), which refuses its settings with this list before
    any change. Takes the role's listeners (filter C(haproxy_listens)) and its settings, and returns every
    problem at once, each naming the setting to change; an empty list when there is none.
  - The problems are no master group to route to, no address to listen on, C(redis_haproxy_ports) naming a
    group the inventory does not have, proxy ports out of range, shared by two groups or taken by this host's
    own server or Sentinel, allow sources that are not addresses or networks, and with C(redis_acl) a health
    check user without a password or unknown to the data nodes; with C(redis_tls) the TLS files not set.
options:
  _input:
    description: The listeners, as the filter C(haproxy_listens) returns them.
    type: list
    elements: dict
    required: true
  settings:
    description:
      - The role's settings, keyed C(listen) (the address), C(ports) (C(redis_haproxy_ports)), C(taken)
        (this host's own server and Sentinel ports on that address), C(allow_sources), C(acl), C(acl_user),
        C(acl_password), C(tls), C(tls_ca_file), C(tls_cert_file), C(tls_key_file), and C(hostvars) (the data
        nodes' C(redis_acl_users), C(redis_exporter) and C(redis_exporter_acl_user)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse settings the proxy cannot run with, before any change
  ansible.builtin.assert:
    that: _problems | length == 0
    fail_msg: "{{ _problems | join('; ') }}"
  vars:
    _listens: "{{ (groups | redisops.sentinel.topology(hostvars)) | redisops.sentinel.haproxy_listens({}, 6379) }}"
    _problems: >-
      {{ _listens | redisops.sentinel.haproxy_problems({'listen': '10.0.0.9', 'ports': {}, 'taken': [],
         'allow_sources': [], 'acl': false, 'tls': false, 'hostvars': hostvars}) }}
"""

RETURN = r"""
_value:
  description: The problems, each a sentence; empty when there is none.
  type: list
  elements: str
"""


def haproxy_problems(listens: list[Mapping[str, Any]], settings: Mapping[str, Any]) -> list[str]:
    ports = [int(item['port']) for item in listens]
    listen = settings['listen']
    problems = []
    if not listens:
        problems.append('the inventory has no redis_master host: there is no master group to route to')
    if not listen:
        problems.append('set redis_haproxy_listen_address (or redis_address)')
    names = [item['name'] for item in listens]
    problems.extend('redis_haproxy_ports names "%s", which is no master group of the inventory' % name
                    for name in settings['ports'] if name not in names)
    shown = ', '.join(map(str, ports))
    if not all(map(is_port, ports)):
        problems.append('the proxy ports must be between 1 and 65535: %s' % shown)
    if len(set(ports)) != len(ports):
        problems.append('two master groups get the same proxy port (%s): set redis_haproxy_ports' % shown)
    problems.extend("port %d is taken by this host's Redis server or Sentinel on %s: set redis_haproxy_port"
                    % (port, listen) for port in ports if port in settings['taken'])
    problems.extend('redis_haproxy_allow_sources: "%s" is not an IP address or network (CIDR)' % source
                    for source in settings['allow_sources'] if not is_ip_network(source))
    if to_bool(settings['acl']):
        problems.extend(_health_check_user(listens, settings))
    if to_bool(settings['tls']) and not all(settings.get(name) for name in ('tls_ca_file', 'tls_cert_file', 'tls_key_file')):
        problems.append('redis_tls is on: set redis_tls_ca_file, redis_tls_cert_file and redis_tls_key_file for this '
                        'host too')
    return problems


def _health_check_user(listens: list[Mapping[str, Any]], settings: Mapping[str, Any]) -> list[str]:
    user = settings.get('acl_user') or ''
    if not user or not settings.get('acl_password'):
        return ['redis_acl is on: set redis_haproxy_acl_user and redis_haproxy_acl_password (the health check '
                'logs in with them)']
    if user in known_users(listens, settings['hostvars']):
        return []
    return ["redis_haproxy_acl_user '%s' is neither in the data nodes' redis_acl_users nor their exporters' user: add "
            'it to redis_acl_users with the rules "resetchannels +ping +info"' % user]


def known_users(listens: list[Mapping[str, Any]], hostvars: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The ACL users of the data nodes the proxy routes to: the inventory's redis_acl_users, and the
    exporters' user where they run."""
    users: list[str] = []
    for name in dict.fromkeys(server['name'] for listen in listens for server in listen['servers']):
        host = hostvars[name]
        users.extend(user['name'] for user in host.get('redis_acl_users') or [])
        if to_bool(host.get('redis_exporter', False)):
            users.append(host.get('redis_exporter_acl_user') or 'exporter')
    return list(dict.fromkeys(users))


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {'haproxy_problems': haproxy_problems}
