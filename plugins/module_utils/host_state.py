# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host_state module's work: which packages, marked files, units and open firewalld ports a host has.

Shared by plugins/modules/host_state.py and node_apply (the collection's one remote module: the
action plugin of host_state runs it there, so that a run builds one module payload, not one per module)."""

from __future__ import annotations

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


# The options' rules beyond their types: none (node_apply checks a step of each module with its CONSTRAINTS).
CONSTRAINTS: dict[str, Any] = {}


def run(module: AnsibleModule) -> dict[str, Any]:
    """The module's work on its validated options: the result to exit with."""
    packages, ports = module.params['packages'], module.params['firewalld_ports']
    present = installed(module, packages)
    # Whether firewalld runs comes from the same systemctl call as the units asked for.
    asked = module.params['units']
    extra = [FIREWALLD] if ports and FIREWALLD not in asked else []
    units = unit_states(module, asked + extra)
    firewall_active = units.get(FIREWALLD, {}).get('active', False)
    for unit in extra:
        del units[unit]
    return dict(changed=False, missing_packages=[p for p in packages if p not in present],
                marked=marked(module.params['markers']), units=units,
                firewalld_closed=firewalld_closed(ports, module.params['firewalld_zone'], firewall_active))
