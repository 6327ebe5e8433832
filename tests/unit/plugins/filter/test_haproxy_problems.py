# -*- coding: utf-8 -*-
"""The filters of the role redis_haproxy: its listeners (haproxy_listens) and every problem of its settings
(haproxy_problems), on topology models built by module_utils/topology.py; and the role's vars/main.yml
wiring them, through ansible-playbook."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.redisops.sentinel.plugins.filter.haproxy_listens import haproxy_listens
from ansible_collections.redisops.sentinel.plugins.filter.haproxy_problems import haproxy_problems
from ansible_collections.redisops.sentinel.plugins.module_utils.topology import Topology

from conftest import COLLECTION_LINK

ROLE = Path(__file__).resolve().parents[4] / 'roles' / 'redis_haproxy'
HOSTVARS = {
    'm1': {'redis_address': '10.0.0.1', 'redis_acl_users': [{'name': 'app'}, {'name': 'haproxy'}]},
    'r1': {'redis_address': '10.0.0.2', 'redis_exporter': True},
    'm2': {'redis_address': '10.0.0.3', 'redis_master_name': 'cache', 'redis_port': 6380,
           'redis_exporter': 'yes', 'redis_exporter_acl_user': 'metrics'},
}
GROUPS = {'redis_master': ['m1', 'm2'], 'redis_replica': ['r1']}


def listens(ports: dict[str, Any] | None = None, base: Any = 6379) -> list[dict[str, Any]]:
    return haproxy_listens(Topology(GROUPS, HOSTVARS).as_dict(), ports or {}, base)


def problems(listened: list[dict[str, Any]] | None = None, **settings: Any) -> list[str]:
    defaults = dict(listen='10.0.0.9', ports={}, taken=[], allow_sources=[], acl=False, acl_user='',
                    acl_password='', tls=False, tls_ca_file='', tls_cert_file='', tls_key_file='', hostvars=HOSTVARS)
    return haproxy_problems(listens() if listened is None else listened, dict(defaults, **settings))


def test_each_group_gets_the_next_port_unless_named_and_routes_to_its_data_nodes():
    assert [(item['name'], item['port'], [node['server'] for node in item['servers']]) for item in listens()] == [
        ('mymaster', 6379, ['10.0.0.1:6379', '10.0.0.2:6379']), ('cache', 6380, ['10.0.0.3:6380'])]
    assert [item['port'] for item in listens({'cache': '7000'}, '6400')] == [6400, 7000]


def test_good_settings_have_no_problem():
    assert problems() == []
    assert problems(acl=True, acl_user='haproxy', acl_password='p', tls=True, tls_ca_file='ca', tls_cert_file='c',
                    tls_key_file='k', allow_sources=['10.0.0.0/8', 'fd00::1']) == []


def test_every_problem_at_once():
    ports = {'mymaster': 70000, 'other': 7000}
    assert problems(listens(ports), listen='', ports=ports, allow_sources=['prometheus'], tls=True,
                    tls_ca_file='ca') == [
        'set redis_haproxy_listen_address (or redis_address)',
        'redis_haproxy_ports names "other", which is no master group of the inventory',
        'the proxy ports must be between 1 and 65535: 70000, 6380',
        'redis_haproxy_allow_sources: "prometheus" is not an IP address or network (CIDR)',
        'redis_tls is on: set redis_tls_ca_file, redis_tls_cert_file and redis_tls_key_file for this host too']


def test_no_master_group_and_ports_out_of_range_shared_or_taken():
    assert problems([]) == ['the inventory has no redis_master host: there is no master group to route to']
    assert problems(listens({'mymaster': 70000})) == ['the proxy ports must be between 1 and 65535: 70000, 6380']
    assert problems(listens({'cache': 6379})) == [
        'two master groups get the same proxy port (6379, 6379): set redis_haproxy_ports']
    assert problems(taken=[6380, 26379]) == [
        "port 6380 is taken by this host's Redis server or Sentinel on 10.0.0.9: set redis_haproxy_port"]


@pytest.mark.parametrize('user,password,expected', [
    ('haproxy', 'p', None), ('exporter', 'p', None), ('metrics', 'p', None),
    ('', 'p', 'redis_acl is on: set redis_haproxy_acl_user and redis_haproxy_acl_password (the health check logs in '
              'with them)'),
    ('haproxy', '', 'redis_acl is on: set redis_haproxy_acl_user and redis_haproxy_acl_password (the health check '
                    'logs in with them)'),
    ('nobody', 'p', "redis_haproxy_acl_user 'nobody' is neither in the data nodes' redis_acl_users nor their "
                    'exporters\' user: add it to redis_acl_users with the rules "resetchannels +ping +info"'),
])
def test_with_acl_the_health_check_user_is_one_the_data_nodes_know(user, password, expected):
    """The data nodes' own users and their exporters' (default name: exporter) count."""
    assert problems(acl='true', acl_user=user, acl_password=password) == ([expected] if expected else [])


def test_the_role_vars_refuse_a_shared_port_and_a_bad_source(tmp_path):
    inventory = {'redis_master': {'hosts': {name: HOSTVARS[name] for name in GROUPS['redis_master']}},
                 # The proxy beside a replica, on its address: the replica's port is taken.
                 'redis_replica': {'hosts': {'r1': dict(HOSTVARS['r1'],
                                                        redis_haproxy_allow_sources=['10.0.0.0/8', '1.2.3'])}},
                 'redis_haproxy': {'hosts': {'r1': {}}},
                 'all': {'vars': dict(yaml.safe_load((ROLE / 'defaults/main.yml').read_text(encoding='utf-8')),
                                      ansible_connection='local', redis_acl=True)}}
    (tmp_path / 'inventory.yml').write_text(yaml.safe_dump(inventory), encoding='utf-8')
    (tmp_path / 'problems.yml').write_text(yaml.safe_dump([{
        'hosts': 'redis_haproxy', 'gather_facts': False, 'vars_files': [str(ROLE / 'vars/main.yml')],
        'tasks': [{'ansible.builtin.debug': {'var': '_redis_haproxy_problems'}}]}]), encoding='utf-8')
    env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
    env.update(ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_COLLECTIONS_PATH=str(COLLECTION_LINK.parents[2]))
    result = subprocess.run([str(Path(sys.executable).parent / 'ansible-playbook'), '-i', str(tmp_path / 'inventory.yml'),
                             str(tmp_path / 'problems.yml')], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    reply = json.loads(result.stdout)['plays'][0]['tasks'][0]['hosts']['r1']['_redis_haproxy_problems']
    assert reply == [
        "port 6379 is taken by this host's Redis server or Sentinel on 10.0.0.2: set redis_haproxy_port",
        'redis_haproxy_allow_sources: "1.2.3" is not an IP address or network (CIDR)',
        'redis_acl is on: set redis_haproxy_acl_user and redis_haproxy_acl_password (the health check logs in with '
        'them)']
