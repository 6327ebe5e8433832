# -*- coding: utf-8 -*-
"""Every role default is described in meta/argument_specs.yml, and nothing else is."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[3] / 'roles'


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


@pytest.mark.parametrize('role', sorted(p.name for p in ROLES.iterdir() if p.is_dir()))
def test_defaults_and_argument_specs_list_the_same_variables(role):
    defaults = load(ROLES / role / 'defaults' / 'main.yml')
    options = load(ROLES / role / 'meta' / 'argument_specs.yml')['argument_specs']['main']['options']
    assert sorted(defaults) == sorted(options)
    for name, spec in options.items():
        assert spec.get('description'), '%s: %s has no description' % (role, name)
        value = defaults[name]
        templated = isinstance(value, str) and '{{' in value
        if 'default' in spec:
            assert not templated and spec['default'] == value, '%s: %s default differs' % (role, name)
        else:
            assert templated or value is None, '%s: %s has a literal default the spec omits' % (role, name)


def test_the_port_defaults_for_other_hosts_match_the_role_defaults():
    defaults = load(ROLES / 'redis' / 'defaults' / 'main.yml')
    role_vars = load(ROLES / 'redis' / 'vars' / 'main.yml')
    assert role_vars['_redis_port_default'] == defaults['redis_port']
    assert role_vars['_redis_sentinel_port_default'] == defaults['redis_sentinel_port']
