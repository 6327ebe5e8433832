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
  - ansible.builtin.action_common_attributes.flow
  - redisops.sentinel.remote_step
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.host_state import CONSTRAINTS, argument_spec, run


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **CONSTRAINTS)
    module.exit_json(**run(module))


if __name__ == '__main__':
    main()
