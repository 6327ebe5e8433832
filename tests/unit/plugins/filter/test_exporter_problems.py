# -*- coding: utf-8 -*-
"""The exporter_problems filter of the role redis_exporter; tests/unit/roles/test_redis_exporter.py runs it
through the role's vars/main.yml."""
from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.redisops.sentinel.plugins.filter.exporter_problems import exporter_problems

HOSTVARS = {'one': {'redis_address': '10.0.0.1'}, 'one-cache': {'redis_address': '10.0.0.1', 'redis_exporter_port': '9122'},
            'two': {'redis_address': '10.0.0.2'}, 'bare': {}}


def exporters(*ports: Any, password: str = '') -> list[dict[str, Any]]:
    return [{'port': port, 'env': {'REDIS_PASSWORD': password}} for port in ports]


def problems(instances: list[dict[str, Any]], host: str = 'two', **settings: Any) -> list[str]:
    defaults = dict(host=host, address=HOSTVARS.get(host, {}).get('redis_address', ''), listen='10.0.0.2',
                    allow_sources=[], acl=False, server=True, acl_password='', port_default=9121,
                    data_nodes=list(HOSTVARS), hostvars=HOSTVARS)
    return exporter_problems(instances, dict(defaults, **settings))


def test_a_server_and_a_sentinel_exporter_on_their_own_ports():
    assert problems(exporters(9121, '9355')) == []
    assert problems(exporters(9123), host='one') == []


@pytest.mark.parametrize('instances,settings,expected', [
    (exporters(9121, 9121), {}, ['redis_exporter_port and redis_exporter_sentinel_port must differ']),
    (exporters(0, 9355), {}, ['redis_exporter_port and redis_exporter_sentinel_port must be between 1 and 65535']),
    (exporters(9121), dict(listen=''), ['set redis_address or redis_exporter_listen_address']),
    (exporters(9121, password='a\nb'), {}, ['a password the exporters log in with holds a line break']),
    (exporters(9121), dict(acl='yes', acl_password=''),
     ['redis_acl is on: set redis_exporter_acl_password (the exporter user logs in with it)']),
    (exporters(9355), dict(acl=True, server=False), []),
    (exporters(9121), dict(allow_sources=['10.0.0.0/8', '10.0.0.300']),
     ['redis_exporter_allow_sources: "10.0.0.300" is not an IP address or network (CIDR)']),
])
def test_each_problem(instances, settings, expected):
    assert problems(instances, **settings) == expected


def test_the_ports_of_other_servers_on_the_same_address_are_taken_with_the_default_for_those_that_set_none():
    assert problems(exporters(9121, 9122), host='one') == [
        'port 9122 is the redis_exporter_port of another server on 10.0.0.1: give each server of a host its own']
    assert problems(exporters(9121), host='one-cache') == [
        'port 9121 is the redis_exporter_port of another server on 10.0.0.1: give each server of a host its own']
