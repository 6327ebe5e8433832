#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: firewalld_ports
short_description: Open several TCP ports in a firewalld zone, permanently and at once, in one pass
version_added: "0.1.0"
description:
  - Opens each of O(ports) for TCP in O(zone) (the default zone when not given), in the running
    firewall and in its permanent configuration, through one connection to firewalld. Ports already
    open stay as they are; nothing is ever closed and firewalld is never stopped.
  - With O(sources), each port is open only to those addresses or networks, one rich rule per source
    and port, instead of to everyone.
  - Each query and addition is one call that firewalld makes on its side, so several inventory hosts of
    one machine (C(redis_instance)) can run it at the same moment without losing each other's ports or
    rules (rewriting the zone's permanent settings, as C(ansible.posix.firewalld) does, would).
  - With O(start=true), firewalld is enabled and started first when it is not running. With
    O(start=false), a firewalld that does not run is left alone and nothing is opened (the roles'
    C(redis_firewall=auto)).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports the ports it would open and whether it would start firewalld.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  ports:
    description:
      - TCP port numbers.
    type: list
    elements: int
    required: true
  sources:
    description:
      - Addresses or networks (IPv4 or IPv6, with or without a prefix length) the ports are open to. Empty
        means every source.
    type: list
    elements: str
    default: []
  zone:
    description:
      - The firewalld zone; empty means the default zone.
    type: str
    default: ''
  start:
    description:
      - Enable and start firewalld when it does not run.
    type: bool
    default: false
requirements:
  - firewalld and its Python bindings (C(python3-firewall)), which the firewalld package installs.
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Open the Redis and Sentinel ports
  redisops.sentinel.firewalld_ports:
    ports: [6379, 26379]
    start: true

- name: Open the exporter's port to the monitoring network only
  redisops.sentinel.firewalld_ports:
    ports: [9121]
    sources: [192.0.2.0/24]
"""

RETURN = r"""
opened:
  description:
    - The ports opened (or that would be), as C(port/tcp), with where they were closed, and C(source)
      for a port opened to one source (O(sources)).
  returned: always
  type: list
  elements: dict
  sample: [{port: 6379/tcp, runtime: true, permanent: true}]
running:
  description: Whether firewalld runs (after a start, or would in check mode).
  returned: always
  type: bool
zone:
  description: The zone the ports are opened in.
  returned: when firewalld runs
  type: str
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.firewalld import client, ensure, openings


def running(module: AnsibleModule) -> bool:
    rc, _out, _err = module.run_command(['systemctl', 'is-active', '--quiet', 'firewalld'])
    return rc == 0


def start(module: AnsibleModule) -> None:
    rc, out, err = module.run_command(['systemctl', 'enable', '--now', 'firewalld'])
    if rc != 0:
        module.fail_json(msg='Could not start firewalld: %s' % (err.strip() or out.strip()))


def connect(module: AnsibleModule):
    try:
        fw = client()
    except RuntimeError as exc:
        module.fail_json(msg=str(exc))
    if fw is None:
        module.fail_json(msg='The firewalld Python bindings (python3-firewall) are missing on this host: '
                             'install firewalld, or set redis_firewall to none.')
    return fw


def argument_spec() -> dict[str, dict[str, Any]]:
    return {'ports': {'type': 'list', 'elements': 'int', 'required': True},
            'sources': {'type': 'list', 'elements': 'str', 'default': []},
            'zone': {'type': 'str', 'default': ''},
            'start': {'type': 'bool', 'default': False}}


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    for port in module.params['ports']:
        if not 1 <= port <= 65535:
            module.fail_json(msg='Port %d is not between 1 and 65535.' % port)
    started = False
    if not running(module):
        if not module.params['start']:
            module.exit_json(changed=False, running=False, opened=[])
        if module.check_mode:
            module.exit_json(changed=True, running=True, opened=[])
        start(module)
        started = True
    fw = connect(module)
    zone = module.params['zone'] or fw.getDefaultZone()
    opened = ensure(fw, zone, openings(module.params['ports'], module.params['sources']), module.check_mode)
    module.exit_json(changed=bool(opened) or started, running=True, zone=zone, opened=opened)


if __name__ == '__main__':
    main()
