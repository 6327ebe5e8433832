#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_state
short_description: Read what a Redis host already has, in one cheap pass
version_added: "0.1.0"
description:
  - Reads, without changing anything, which of O(packages) are not installed (from the package
    database, C(dpkg-query) or C(rpm), without opening the package manager's cache), which of
    the files in O(markers) already hold their marker text, and whether each of O(units) is
    enabled and active.
  - The roles of this collection run it once per host so that a re-run that has nothing to install
    does not start the package manager, and so that a configuration file the service owns is
    recognised before anything is written.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  packages:
    description:
      - Package names to look up.
    type: list
    elements: str
    default: []
  markers:
    description:
      - File paths and the text that marks each as written once already.
    type: dict
    default: {}
  units:
    description:
      - systemd unit names (with their suffix, for example V(redis-server.service)).
    type: list
    elements: str
    default: []
  firewalld_ports:
    description:
      - TCP ports that should be open in firewalld, in O(firewalld_zone), at runtime and permanently.
        RV(firewalld_closed) tells which are not, so that a run with nothing to open does not call
        P(redisops.sentinel.firewalld_ports#module) at all.
    type: list
    elements: int
    default: []
  firewalld_zone:
    description:
      - The firewalld zone of O(firewalld_ports); empty means the default zone.
    type: str
    default: ''
notes:
  - Needs C(dpkg-query) (Debian family) or C(rpm) (RedHat family) for O(packages).
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Read what the host already has
  redisops.sentinel.host_state:
    packages: [redis-server, redis-sentinel]
    markers:
      /etc/redis/sentinel.conf: "redisops.sentinel: bootstrap configuration"
  register: state

- name: Install what is missing
  ansible.builtin.package:
    name: "{{ state.missing_packages }}"
  when: state.missing_packages | length > 0
"""

RETURN = r"""
missing_packages:
  description: The packages of O(packages) that are not installed.
  returned: always
  type: list
  elements: str
marked:
  description: The files of O(markers) that exist and hold their marker.
  returned: always
  type: list
  elements: str
units:
  description: For each unit of O(units), whether it is enabled and whether it is active.
  returned: always
  type: dict
  sample: {redis-server.service: {enabled: true, active: true}}
firewalld_closed:
  description:
    - The ports of O(firewalld_ports) that are not open at runtime or not permanently, each as
      P(redisops.sentinel.firewalld_ports#module) reports what it opens; empty when all are open or
      none was asked for.
    - V(null) when firewalld does not run, its Python bindings are missing or it does not answer, so
      that P(redisops.sentinel.firewalld_ports#module) runs and starts it or says what is wrong.
  returned: always
  type: list
  elements: dict
  sample: [{port: 6379/tcp, runtime: true, permanent: true}]
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.redisops.sentinel.plugins.module_utils import firewalld

# How each package database tells what is installed: the command, and the
# output line of an installed package.
DPKG = ['dpkg-query', '--show', '--showformat', '${Package} ${db:Status-Status}\\n']
RPM = ['rpm', '--query', '--queryformat', '%{NAME} installed\\n']
# UnitFileState values of a unit that starts at boot.
ENABLED = ('enabled', 'enabled-runtime', 'static', 'alias', 'indirect')
FIREWALLD = 'firewalld.service'


def installed(module: AnsibleModule, packages: list[str]) -> set[str]:
    """The names of those packages that are installed (unknown names count as not installed)."""
    if not packages:
        return set()
    for command in (DPKG, RPM):
        tool = module.get_bin_path(command[0])
        if tool is None:
            continue
        # Exit code 1 only says that some package is not installed.
        rc, out, err = module.run_command([tool] + command[1:] + packages)
        if rc not in (0, 1):
            module.fail_json(msg='%s failed: %s' % (command[0], err.strip() or out.strip()))
        return {fields[0] for fields in (line.split() for line in out.splitlines())
                if len(fields) == 2 and fields[1] == 'installed'}
    module.fail_json(msg='Neither dpkg-query nor rpm was found: the roles know the Debian and RedHat families.')
    return set()


def marked(markers: dict[str, str]) -> list[str]:
    found = []
    for path, marker in markers.items():
        try:
            with open(path, 'rb') as handle:
                if to_bytes(marker) in handle.read():
                    found.append(path)
        except FileNotFoundError:
            continue
    return found


def unit_states(module: AnsibleModule, units: list[str]) -> dict[str, dict[str, bool]]:
    """Enabled and active, from one systemctl call (a unit that does not exist is neither)."""
    if not units:
        return {}
    rc, out, err = module.run_command(['systemctl', 'show', '--property=UnitFileState,ActiveState'] + units)
    if rc != 0:
        module.fail_json(msg='systemctl show failed: %s' % (err.strip() or out.strip()))
    # One block of KEY=value lines per unit, in the order asked, blocks separated by an empty line.
    blocks = [dict(line.split('=', 1) for line in block.splitlines() if '=' in line)
              for block in out.strip().split('\n\n')]
    if len(blocks) != len(units):
        module.fail_json(msg='systemctl show answered %d blocks for %d units: %s' % (len(blocks), len(units), out))
    return {unit: {'enabled': block.get('UnitFileState') in ENABLED, 'active': block.get('ActiveState') == 'active'}
            for unit, block in zip(units, blocks)}


def firewalld_closed(ports: list[int], zone: str, running: bool) -> list[dict] | None:
    """The ports not open yet (as firewalld_ports reports them), or None when firewalld cannot tell."""
    if not ports:
        return []
    if not running:
        return None
    try:
        fw = firewalld.client()
    except RuntimeError:
        return None
    if fw is None:
        return None
    _permanent_zone, missing = firewalld.closed(fw, zone or fw.getDefaultZone(), firewalld.openings(ports, []))
    return firewalld.entries(missing)


def argument_spec() -> dict[str, dict[str, Any]]:
    return {'packages': {'type': 'list', 'elements': 'str', 'default': []},
            'markers': {'type': 'dict', 'default': {}},
            'units': {'type': 'list', 'elements': 'str', 'default': []},
            'firewalld_ports': {'type': 'list', 'elements': 'int', 'default': []},
            'firewalld_zone': {'type': 'str', 'default': ''}}


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    packages, ports = module.params['packages'], module.params['firewalld_ports']
    present = installed(module, packages)
    # Whether firewalld runs comes from the same systemctl call as the units asked for.
    asked = module.params['units']
    extra = [FIREWALLD] if ports and FIREWALLD not in asked else []
    units = unit_states(module, asked + extra)
    firewall_active = units.get(FIREWALLD, {}).get('active', False)
    for unit in extra:
        del units[unit]
    module.exit_json(changed=False, missing_packages=[p for p in packages if p not in present],
                     marked=marked(module.params['markers']), units=units,
                     firewalld_closed=firewalld_closed(ports, module.params['firewalld_zone'], firewall_active))


if __name__ == '__main__':
    main()
