# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter tls_restarts: the hosts whose Sentinel must restart to read TLS files this run changed."""

from __future__ import annotations

from typing import Any, Mapping

DOCUMENTATION = r"""
name: tls_restarts
short_description: The hosts whose Sentinel restarts for new TLS files
version_added: "0.1.0"
description:
  - Sentinel reads its TLS files only at start. Takes the hosts of the play and returns, in order, those
    whose TLS files the run changed - in the C(changed_paths) of the server's or the Sentinel's
    C(redisops.sentinel.node_converge) result (C(_redis_server_converge), C(_redis_sentinel_converge)) - except
    hosts whose Sentinel this run bootstrapped (its configuration file written), which started with the new
    files.
options:
  _input:
    description: The hosts, for example C(ansible_play_hosts).
    type: list
    elements: str
    required: true
  hostvars:
    description: The C(hostvars) magic variable.
    type: dict
    required: true
  tls_paths:
    description: The TLS files on the hosts (CA, certificate, key).
    type: list
    elements: str
    required: true
  sentinel_config_file:
    description: The Sentinel's configuration file on the hosts.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Restart the Sentinels whose TLS files changed, one at a time
  ansible.builtin.include_tasks: sentinel_tls_restart.yml
  loop: >-
    {{ ansible_play_hosts | redisops.sentinel.tls_restarts(hostvars, ['/etc/redis/tls/ca.crt'],
                                                            '/etc/redis/sentinel.conf') }}
"""

RETURN = r"""
_value:
  description: The hosts whose Sentinel must restart, in the order of the input.
  type: list
  elements: str
"""


def _changed_paths(host_vars: Mapping[str, Any], result: str) -> list[str]:
    return list((host_vars.get(result) or {}).get('changed_paths') or [])


def tls_restarts(hosts: list[str], hostvars: Mapping[str, Mapping[str, Any]], tls_paths: list[str],
                 sentinel_config_file: str) -> list[str]:
    restarts = []
    for host in hosts:
        own = _changed_paths(hostvars[host], '_redis_sentinel_converge')
        changed = set(own) | set(_changed_paths(hostvars[host], '_redis_server_converge'))
        if changed & set(tls_paths) and sentinel_config_file not in own:
            restarts.append(host)
    return restarts


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {'tls_restarts': tls_restarts}
