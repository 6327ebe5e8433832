# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of redisops.sentinel.preflight: gather every host's variables as the roles see
them and hand them to the checks of module_utils/preflight.py. See plugins/modules/preflight.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.redisops.sentinel.plugins.module_utils.preflight import GROUPS, ROLES, SECRETS, Inventory, check

# plugins/action/preflight.py -> the collection's root.
ROLE_DIR = Path(__file__).resolve().parents[2] / 'roles' / 'redis'
# Variables read from a host besides the internal role's settings.
EXTRA_VARIABLES = ('redis_sentinel_expected_sentinels',)


def argument_spec() -> dict[str, dict[str, Any]]:
    """The options of the task, as plugins/modules/preflight.py documents them."""
    return dict(role=dict(type='str', choices=list(ROLES)))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        role = self.validate_argument_spec(argument_spec=argument_spec())[1]['role']
        spec = self._load_yaml(ROLE_DIR / 'meta' / 'argument_specs.yml')['argument_specs']['main']['options']
        defaults = self._load_yaml(ROLE_DIR / 'defaults' / 'main.yml', templates=True) or {}
        role_vars = self._load_yaml(ROLE_DIR / 'vars' / 'main.yml', templates=True) or {}
        groups = {group: list(task_vars.get('groups', {}).get(group) or []) for group in GROUPS.values()}
        play_hosts = list(task_vars.get('ansible_play_hosts_all') or [])
        names = list(dict.fromkeys(play_hosts + [name for group in groups.values() for name in group]))
        hostvars = task_vars['hostvars']
        problems: list[str] = []
        table = {name: self._host_variables(name, hostvars, (defaults, role_vars), spec, problems) for name in names}
        findings = check(Inventory(table, groups, play_hosts, role), spec, self._is_file)
        problems += findings.problems
        result.update(changed=False, checked_hosts=names)
        if findings.warnings:
            result['warnings'] = result.get('warnings', []) + findings.warnings
        if problems:
            result.update(failed=True, problems=problems,
                          msg='The inventory has %d problem(s); no host was changed. Fix them and run again.'
                              % len(problems))
        return result

    def _load_yaml(self, path: Path, templates: bool = False) -> Any:
        """A YAML file of the role; ``templates``: its strings may be templated (role defaults)."""
        if not templates:
            return self._loader.load_from_file(str(path))
        try:
            return self._loader.load_from_file(str(path), trusted_as_template=True)
        except TypeError:  # ansible-core < 2.19 trusts every loaded string
            return self._loader.load_from_file(str(path))

    def _host_variables(self, name: str, hostvars: Any, role: tuple[dict[str, Any], dict[str, Any]],
                        spec: dict[str, Any], problems: list[str]) -> dict[str, Any]:
        """The host's settings as the roles see them: the internal role's defaults under the host's own
        variables, its vars/main.yml above, templated with them. A default that cannot be templated here
        (it needs facts this host has not gathered) is left unknown."""
        own = hostvars.raw_get(name)
        facts = dict(own.get('ansible_facts') or {})
        defaults, role_vars = role
        context = dict(defaults)
        context.update(own)
        context.update(role_vars)
        context['hostvars'] = hostvars
        templar = self._templar.copy_with_new_env(available_variables=context)
        values: dict[str, Any] = {'ansible_facts': facts}
        values.update((key, value) for key, value in own.items() if key.startswith('__redis_'))
        for key in list(spec) + list(EXTRA_VARIABLES):
            if key not in context:
                continue
            try:
                values[key] = templar.template(context[key])
            except AnsibleError as exc:
                if key in own:
                    problems.append('%s: %s could not be templated: %s'
                                    % (name, key, 'it is a secret' if key in SECRETS else exc.message))
        if 'redis_address' not in own and not {'default_ipv4', 'all_ipv4_addresses'} & set(facts):
            # The default comes from facts this host has not gathered (yet).
            values.pop('redis_address', None)
        return values

    def _is_file(self, path: str) -> bool:
        """Whether the copy tasks of the roles would find ``path`` on the controller."""
        try:
            return Path(self._find_needle('files', path)).is_file()
        except AnsibleError:
            return False
