# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of redisops.sentinel.preflight: gather every host's variables as the roles see
them and hand them to the checks of module_utils/preflight.py. See plugins/modules/preflight.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.redisops.sentinel.plugins.module_utils.preflight import (
    GROUPS, ROLES, SECRETS, Inventory, check)

# plugins/action/preflight.py -> the collection's root.
ROLES_DIR = Path(__file__).resolve().parents[2] / 'roles'
ROLE_DIR = ROLES_DIR / 'redis'
# The public roles of the topology: their own settings (the waits) are checked with the internal
# role's, since site.yml runs the internal role's steps without the public roles' spec validation.
PUBLIC_ROLES = ('redis_master', 'redis_replica', 'redis_sentinel')
# Variables read from a host besides the internal role's settings.
EXTRA_VARIABLES = ('redis_sentinel_expected_sentinels',)
# Variables that hold secrets: a templating error may quote their source, so it is not shown.
WITH_SECRETS = SECRETS + ('redis_acl_users',)


def argument_spec() -> dict[str, dict[str, Any]]:
    """The options of the task, as plugins/modules/preflight.py documents them."""
    return dict(role=dict(type='str', choices=list(ROLES)))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        role = self.validate_argument_spec(argument_spec=argument_spec())[1]['role']
        spec = self._spec()
        inventory = self._inventory(task_vars or {}, spec, role)
        findings = check(inventory, spec, self._is_file)
        result.update(changed=False, checked_hosts=list(inventory.hosts))
        if findings.warnings:
            result['warnings'] = result.get('warnings', []) + findings.warnings
        if findings.problems:
            result.update(failed=True, problems=findings.problems,
                          msg='The inventory has %d problem(s); no host was changed. Fix them and run again.'
                              % len(findings.problems))
        return result

    def _spec(self) -> dict[str, Any]:
        """The options of the internal role's main entry point and of the public roles'."""
        spec = dict(self._load_yaml(ROLE_DIR / 'meta' / 'argument_specs.yml')['argument_specs']['main']['options'])
        for role in PUBLIC_ROLES:
            entry = self._load_yaml(ROLES_DIR / role / 'meta' / 'argument_specs.yml')['argument_specs']['main']
            spec.update(entry.get('options') or {})
        return spec

    def _inventory(self, task_vars: dict[str, Any], spec: dict[str, Any], role: str | None) -> Inventory:
        """The hosts of the topology groups and of the play, each with its variables as the roles see them."""
        defaults: dict[str, Any] = {}
        for role in PUBLIC_ROLES:
            defaults.update(self._load_yaml(ROLES_DIR / role / 'defaults' / 'main.yml', templates=True) or {})
        defaults.update(self._load_yaml(ROLE_DIR / 'defaults' / 'main.yml', templates=True) or {})
        role_vars = self._load_yaml(ROLE_DIR / 'vars' / 'main.yml', templates=True) or {}
        groups = {group: list(task_vars.get('groups', {}).get(group) or []) for group in GROUPS.values()}
        play_hosts = list(task_vars.get('ansible_play_hosts_all') or [])
        names = list(dict.fromkeys(play_hosts + [name for group in groups.values() for name in group]))
        unusable: dict[str, list[str]] = {name: [] for name in names}
        table = {name: self._host_variables(name, task_vars['hostvars'], (defaults, role_vars), spec, unusable[name])
                 for name in names}
        return Inventory(table, groups, play_hosts, role, unusable)

    def _load_yaml(self, path: Path, templates: bool = False) -> Any:
        """A YAML file of the role; ``templates``: its strings may be templated (role defaults)."""
        if not templates:
            return self._loader.load_from_file(str(path))
        try:
            return self._loader.load_from_file(str(path), trusted_as_template=True)
        except TypeError:  # ansible-core < 2.19 trusts every loaded string
            return self._loader.load_from_file(str(path))

    def _host_variables(self, name: str, hostvars: Any, role: tuple[dict[str, Any], dict[str, Any]],
                        spec: dict[str, Any], unusable: list[str]) -> dict[str, Any]:
        """The host's settings as the roles see them: the internal role's defaults under the host's own
        variables, its vars/main.yml above, templated with them. A default that cannot be templated here
        (it needs facts this host has not gathered) is left unknown; the host's own variables that
        cannot be templated are added to ``unusable``."""
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
                    unusable.append('%s could not be templated: %s'
                                    % (key, '(not shown: it holds secrets)' if key in WITH_SECRETS else exc.message))
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
