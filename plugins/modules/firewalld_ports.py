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

from typing import Any, Callable

from ansible.module_utils.basic import AnsibleModule

PROTOCOL = 'tcp'


def running(module: AnsibleModule) -> bool:
    rc, _out, _err = module.run_command(['systemctl', 'is-active', '--quiet', 'firewalld'])
    return rc == 0


def start(module: AnsibleModule) -> None:
    rc, out, err = module.run_command(['systemctl', 'enable', '--now', 'firewalld'])
    if rc != 0:
        module.fail_json(msg='Could not start firewalld: %s' % (err.strip() or out.strip()))


def client(module: AnsibleModule):
    try:
        from firewall.client import FirewallClient
    except ImportError:
        module.fail_json(msg='The firewalld Python bindings (python3-firewall) are missing on this host: '
                             'install firewalld, or set redis_firewall to none.')
    fw = FirewallClient()
    if not fw.connected:
        module.fail_json(msg='firewalld runs but does not answer on D-Bus.')
    return fw


def add(call: Callable[[], Any]) -> None:
    """One port added; another run on the same machine may have added it a moment before."""
    try:
        call()
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # firewalld's client raises its own or D-Bus errors; only this one means "done".
        if 'ALREADY_ENABLED' not in str(exc):
            raise


class Opening:
    """One port, open to everyone or (a rich rule) to one source."""

    def __init__(self, port: int, source: str | None) -> None:
        self.number = str(port)
        self.source = source

    @property
    def rule(self) -> str:
        family = 'ipv6' if ':' in (self.source or '') else 'ipv4'
        return 'rule family="%s" source address="%s" port port="%s" protocol="%s" accept' % (
            family, self.source, self.number, PROTOCOL)

    def in_runtime(self, fw, zone: str) -> bool:
        if self.source is None:
            return fw.queryPort(zone, self.number, PROTOCOL)
        return fw.queryRichRule(zone, self.rule)

    def in_permanent(self, permanent_zone) -> bool:
        if self.source is None:
            return permanent_zone.queryPort(self.number, PROTOCOL)
        return permanent_zone.queryRichRule(self.rule)

    def add_runtime(self, fw, zone: str) -> None:
        if self.source is None:
            add(lambda: fw.addPort(zone, self.number, PROTOCOL, 0))
        else:
            add(lambda: fw.addRichRule(zone, self.rule, 0))

    def add_permanent(self, permanent_zone) -> None:
        if self.source is None:
            add(lambda: permanent_zone.addPort(self.number, PROTOCOL))
        else:
            add(lambda: permanent_zone.addRichRule(self.rule))

    def entry(self, runtime: bool, permanent: bool) -> dict:
        entry = {'port': '%s/%s' % (self.number, PROTOCOL), 'runtime': runtime, 'permanent': permanent}
        if self.source is not None:
            entry['source'] = self.source
        return entry


def ensure_ports(module: AnsibleModule, fw, zone: str, openings: list[Opening]) -> list[dict]:
    # Each query and addition is one call firewalld makes on its side: several servers of one
    # machine (redis_instance) open their ports at the same time without overwriting each other,
    # which reading the zone's permanent settings and writing them back would.
    permanent_zone = fw.config().getZoneByName(zone)
    opened = []
    for opening in openings:
        runtime = not opening.in_runtime(fw, zone)
        permanent = not opening.in_permanent(permanent_zone)
        if not (runtime or permanent):
            continue
        opened.append(opening.entry(runtime, permanent))
        if module.check_mode:
            continue
        if runtime:
            opening.add_runtime(fw, zone)
        if permanent:
            opening.add_permanent(permanent_zone)
    return opened


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
    fw = client(module)
    zone = module.params['zone'] or fw.getDefaultZone()
    sources = module.params['sources'] or [None]
    openings = [Opening(port, source) for source in sources for port in sorted(set(module.params['ports']))]
    opened = ensure_ports(module, fw, zone, openings)
    module.exit_json(changed=bool(opened) or started, running=True, zone=zone, opened=opened)


if __name__ == '__main__':
    main()
