# -*- coding: utf-8 -*-
"""The roles' derived settings (plugins/plugin_utils/node_settings.py) on variable tables built from the
internal role's own defaults and Debian settings, and their definitions in roles/redis/vars/main.yml."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleError

from ansible_collections.redisops.sentinel.plugins.plugin_utils.node_settings import (
    DEFINITION, PREFIX, NodeSettings)

ROLE = Path(__file__).resolve().parents[4] / 'roles' / 'redis'
DEFAULTS = yaml.safe_load((ROLE / 'defaults' / 'main.yml').read_text())
DEBIAN = yaml.safe_load((ROLE / 'vars' / 'Debian-redis.yml').read_text())
VARS = yaml.safe_load((ROLE / 'vars' / 'main.yml').read_text())
GROUP = {'name': 'mymaster', 'members': ['m', 'r1', 'r2'], 'host': '10.0.0.1', 'port': 6379}
NODE = {'server': '10.0.0.2:6379'}


def settings(files: dict[str, str] | None = None, missing: tuple[str, ...] = (), **overrides: Any) -> NodeSettings:
    """The settings of host r1 (10.0.0.2), a replica of 10.0.0.1 in a group of three, with overrides
    and without the variables named in missing."""
    variables = dict(DEFAULTS, **DEBIAN)
    variables.update(VARS)
    variables.update({
        'inventory_hostname': 'r1', 'redis_address': '10.0.0.2', 'redis_master_host': '10.0.0.1',
        'redis_master_port': 6379, 'redis_sentinel_quorum': 2, 'redis_sentinel_expected_sentinels': [],
        'ansible_facts': {'all_ipv4_addresses': ['10.0.0.2', '172.17.0.2']},
        '_redis_inventory': {'nodes': {'r1': NODE}, 'groups': [GROUP], 'sentinels': ['10.0.0.1:26379']},
        '_redis_groups': [GROUP], '_redis_sentinel_addresses': ['10.0.0.1:26379'], 'groups': {},
    })
    variables.update(overrides)
    for name in missing:
        del variables[name]

    def read(name: str) -> Any:
        value = variables[name]
        assert not (isinstance(value, str) and '{{' in value), 'untemplated %s: %s' % (name, value)
        return value

    return NodeSettings(read, variables.get, lambda path: (files or {})[path])


def test_every_derived_setting_is_defined_once_as_the_lookup():
    ported = {key[len(PREFIX):] for key, value in VARS.items() if 'node_settings' in str(value)}
    computed = {name[len('compute_'):] for name in dir(NodeSettings) if name.startswith('compute_')}
    assert ported == computed
    assert all(VARS[PREFIX + name] == DEFINITION % name for name in ported)


def test_bind_and_local_addresses():
    default = settings()
    assert default.get('server_bind') == ['10.0.0.2', '127.0.0.1']
    assert default.get('server_local') == '127.0.0.1'
    listed = settings(redis_bind=['10.0.0.2', '10.0.0.2', '::1'], redis_sentinel_bind=['10.0.0.2'])
    assert listed.get('server_bind') == ['10.0.0.2', '::1']
    assert listed.get('sentinel_local') == '10.0.0.2'


@pytest.mark.parametrize('mode, password, acl, expected', [
    ('auto', '', False, False), ('auto', 's3cret', False, True), ('auto', '', True, True),
    ('no', 's3cret', False, False), (True, '', False, True),
])
def test_protected_mode(mode, password, acl, expected):
    assert settings(redis_protected_mode=mode, redis_password=password, redis_acl=acl).get('protected_mode') is expected


def test_paths_units_and_packages_of_the_default_server_and_of_an_instance():
    default = settings(redis_dir='')
    assert (default.get('dir'), default.get('logfile'), default.get('server_service'), default.get('config_file'),
            default.get('server_pidfile')) == ('/var/lib/redis', '/var/log/redis/redis-server.log', 'redis-server',
                                               '/etc/redis/redis.conf', '/run/redis/redis-server.pid')
    assert default.get('start_guard_config') == '/etc/redis/redisops-guard.json'
    assert default.get('server_dropin') == '/etc/systemd/system/redis-server.service.d/redisops.conf'
    instance = settings(redis_instance='6380')
    assert (instance.get('dir'), instance.get('logfile'), instance.get('server_service'), instance.get('config_file'),
            instance.get('server_pidfile')) == ('/var/lib/redis/6380', '/var/log/redis/redis-server-6380.log',
                                                'redis-server@6380', '/etc/redis/redis-6380.conf',
                                                '/run/redis-6380/redis-server.pid')
    assert instance.get('start_guard_config') == '/etc/redis/redisops-guard-6380.json'
    assert instance.get('sentinel_service') == 'redis-sentinel'
    own = settings(redis_user='cache', redis_config_file='/srv/redis.conf', redis_server_package='redis-tools')
    assert (own.get('user'), own.get('group'), own.get('config_file'), own.get('server_package')) == (
        'cache', 'redis', '/srv/redis.conf', 'redis-tools')


def test_server_settings_of_a_plain_replica():
    server = settings(redis_maxmemory='', redis_save=['900 1', 300]).get('server_settings')
    assert server['bind'] == '10.0.0.2 127.0.0.1' and server['port'] == '6379'
    assert server['protected-mode'] == 'no' and server['maxmemory'] == '0' and server['save'] == '900 1 300'
    assert server['repl-diskless-sync-max-replicas'] == '2'
    assert 'masteruser' not in server and 'tls-port' not in server and 'replica-announce-ip' not in server


def test_server_settings_with_acl_tls_announcement_and_extra_settings_last():
    server = settings(redis_acl=True, redis_tls=True, redis_tls_plaintext_port=0, redis_announce_ip='192.0.2.2',
                      redis_announce_port=7000, redis_extra_config={'port': '6390', 'tcp-backlog': 1024},
                      redis_master_name='other').get('server_settings')
    assert server['masteruser'] == DEFAULTS['redis_acl_replication_user']
    assert server['replica-announce-ip'] == '192.0.2.2' and server['replica-announce-port'] == '7000'
    assert server['tls-port'] == '6379' and server['tls-ca-cert-file'] == '/etc/redis/tls/ca.crt'
    # redis_extra_config goes over the roles' own settings.
    assert server['port'] == '6390' and server['tcp-backlog'] == 1024
    # A group the inventory does not know: no replica count, Redis's own delay.
    assert server['repl-diskless-sync-max-replicas'] == '0'


def test_logins_and_secrets_with_one_password_during_a_rotation():
    node = settings(redis_password='p1', redis_password_previous='p0')
    assert (node.get('login_user'), node.get('login_password'), node.get('login_password_previous')) == ('', 'p1', 'p0')
    assert node.get('server_secrets') == {'requirepass': 'p1', 'masterauth': 'p1'}
    assert node.get('server_rotation') == {'requirepass_previous': 'p0'}
    assert node.get('has_secrets') is True and node.get('acl_users') == []
    assert settings().get('has_secrets') is False and settings().get('server_secrets') == {}


def test_logins_while_moving_a_one_password_topology_to_acl_mode():
    node = settings(redis_acl=True, redis_acl_default_user=True, redis_password='p1', redis_acl_admin_password='a1',
                    redis_acl_replication_password='r1', redis_acl_sentinel_password='s1')
    assert node.get('login_user') == DEFAULTS['redis_acl_admin_user'] and node.get('login_password') == 'a1'
    assert node.get('login_user_previous') == 'default' and node.get('login_password_previous') == 'p1'
    assert node.get('server_secrets') == {'masterauth': 'r1'} and node.get('server_rotation') == {}
    assert node.get('sentinel_auth_pass') == 's1'
    assert [user['name'] for user in node.get('acl_users')][0] == 'default'
    rotating = settings(redis_acl=True, redis_password='p1', redis_acl_admin_password='a2',
                        redis_acl_admin_password_previous='a1')
    assert rotating.get('login_user_previous') == '' and rotating.get('login_password_previous') == 'a1'


def test_a_password_of_an_application_user_is_a_secret():
    assert settings(redis_acl_users=[{'name': 'app', 'password': 'x'}]).get('has_secrets') is True
    assert settings(redis_acl_users=[{'name': 'app', 'password': None}]).get('has_secrets') is False


def test_sentinel_password_quoted_for_sentinel_conf():
    assert settings(redis_sentinel_password='a"b\\c').get('sentinel_password_conf') == '"a\\"b\\\\c"'


@pytest.mark.parametrize('live, overrides, host, is_master', [
    (None, {}, '10.0.0.1', False),
    ({'mymaster': {'host': '10.0.0.2', 'port': 6379}}, {}, '10.0.0.2', True),
    ({'mymaster': {'host': '192.0.2.2', 'port': 7000}}, {'redis_announce_ip': '192.0.2.2', 'redis_announce_port': 7000},
     '192.0.2.2', True),
    ({'mymaster': {'host': '172.17.0.2', 'port': 6380}}, {}, '172.17.0.2', False),
    ({'other': {'host': '10.0.0.2', 'port': 6379}}, {}, '10.0.0.1', False),
])
def test_current_master(live, overrides, host, is_master):
    node = settings(_redis_live_masters=live, **overrides)
    assert node.get('current_master_host') == host and node.get('is_current_master') is is_master


def test_a_setting_a_task_overrides_is_used_as_it_is():
    assert settings(_redis_is_current_master=True).get('is_current_master') is True
    assert settings(_redis_server_bind=['10.9.9.9']).get('server_settings')['bind'] == '10.9.9.9'


def test_sentinel_masters_carry_the_monitoring_settings():
    masters = settings(redis_sentinel_quorum='3').get('sentinel_masters')
    assert masters == [dict(GROUP, quorum=3, down_after_milliseconds=DEFAULTS['redis_sentinel_down_after_milliseconds'],
                            parallel_syncs=DEFAULTS['redis_sentinel_parallel_syncs'],
                            failover_timeout=DEFAULTS['redis_sentinel_failover_timeout'])]


def test_recover_groups_name_each_data_node_and_the_host_that_starts_the_group():
    """Two groups, one whose bootstrap host is not a member here (a role user's redis_master_host)."""
    inventory = {'nodes': {'m': {'server': '[fd00::1]:6379'}, 'r1': NODE, 'x': {'server': '10.0.1.1:6380'}},
                 'groups': [dict(GROUP, members=['m', 'r1']), {'name': 'other', 'members': ['x']}]}
    groups = settings(_redis_inventory=inventory, groups={'redis_master': ['m'], 'redis_replica': ['r1', 'x']})
    assert groups.get('group_nodes') == [{key: value for key, value in group.items() if key != 'bootstrap'}
                                         for group in groups.get('recover_groups')]
    assert groups.get('recover_groups') == [
        {'name': 'mymaster', 'bootstrap': 'm',
         'nodes': [{'name': 'm', 'address': '[fd00::1]:6379'}, {'name': 'r1', 'address': '10.0.0.2:6379'}]},
        {'name': 'other', 'bootstrap': None, 'nodes': [{'name': 'x', 'address': '10.0.1.1:6380'}]}]


CLUSTER = {'replicas': 1, 'node_timeout': 15000, 'bus_port': 0, 'announce_bus_port': 0, 'config_file': ''}


@pytest.mark.parametrize('overrides,options,node,extra', [
    ({}, {}, dict(node='10.0.0.2:6379', data_ports=[6379], bus_port=16379), {}),
    (dict(ansible_host='machine-1', redis_port=6380, redis_instance='6380'), dict(config_file='c.conf'),
     dict(machine='machine-1', instance='6380', node='10.0.0.2:6380', data_ports=[6380], bus_port=16380),
     {'cluster-config-file': 'c.conf'}),
    # Announced: the others reach it there; with TLS the announced port is the TLS one.
    (dict(redis_address='fd00::2', redis_announce_port='7000', redis_tls=True), {},
     dict(node='[fd00::2]:7000', data_ports=[6379], bus_port=16379),
     {'cluster-announce-tls-port': '7000', 'tls-cluster': 'yes'}),
    (dict(redis_announce_ip='203.0.113.2'), dict(announce_bus_port='17000'),
     dict(node='203.0.113.2:6379', data_ports=[6379], bus_port=16379),
     {'cluster-announce-ip': '203.0.113.2', 'cluster-announce-bus-port': '17000'}),
    # A plain port beside TLS is a data port too, and the default bus port follows it; an explicit one is cluster-port.
    (dict(redis_tls=True, redis_tls_plaintext_port=6390), {},
     dict(node='10.0.0.2:6379', data_ports=[6379, 6390], bus_port=16390),
     {'tls-cluster': 'yes'}),
    (dict(redis_tls=True, redis_tls_plaintext_port=6390), dict(bus_port='20000'),
     dict(node='10.0.0.2:6379', data_ports=[6379, 6390], bus_port=20000), {'tls-cluster': 'yes', 'cluster-port': '20000'}),
    # Without TLS, the plain port setting is not a port of this node.
    (dict(redis_tls_plaintext_port=6390, redis_announce_port=7000), dict(replicas='2', node_timeout='5000'),
     dict(node='10.0.0.2:7000', data_ports=[6379], bus_port=16379, replicas=2),
     {'cluster-announce-port': '7000', 'cluster-node-timeout': '5000'}),
])
def test_cluster_plan(overrides, options, node, extra):
    plan = settings(_redis_cluster_options=dict(CLUSTER, **options), **overrides).get('cluster_plan')
    assert plan['node'] == dict(dict(name='r1', machine='r1', instance='', replicas=1), **node)
    assert plan['settings'] == dict({'cluster-enabled': 'yes', 'cluster-config-file': 'nodes-%d.conf' % node['data_ports'][0],
                                     'cluster-node-timeout': '15000'}, **extra)


def test_start_guard_settings():
    guard = settings(redis_bind=['10.0.0.2', '::1'], redis_tls=True, redis_sentinel_password='sp',
                     _redis_inventory={'nodes': {'r1': {'server': '[fd00::2]:6379'}}}).get('start_guard_settings')
    assert guard['me'] == ['[fd00::2]:6379', '10.0.0.2:6379', '::1:6379']
    assert guard['sentinels'] == ['10.0.0.1:26379'] and guard['sentinel_password'] == 'sp'
    assert guard['tls'] == {'ca': '/etc/redis/tls/ca.crt', 'cert': '/etc/redis/tls/redis.crt',
                            'key': '/etc/redis/tls/redis.key'}
    assert guard['timeout'] == DEFAULTS['redis_start_guard_timeout'] and guard['interval'] == 1
    alone = settings(_redis_sentinel_addresses=[], redis_sentinel_expected_sentinels=['10.1.1.1:26379'])
    assert alone.get('start_guard_settings')['sentinels'] == ['10.1.1.1:26379']


def test_tls_files_and_a_ca_change():
    files = {'ca.pem': 'CA1\n', 'old.pem': 'CA0', 'cert.pem': 'CERT\n', 'key.pem': 'KEY\n'}
    tls = dict(redis_tls=True, redis_tls_ca_file='ca.pem', redis_tls_cert_file='cert.pem', redis_tls_key_file='key.pem')
    directory, ca, cert, key = settings(files, **tls).get('tls_files')
    assert directory == {'path': '/etc/redis/tls', 'state': 'directory', 'owner': 'redis', 'group': 'redis',
                         'mode': '0750'}
    assert ca['content'] == 'CA1\n' and cert['content'] == 'CERT\n'
    assert key['secret_content'] == 'KEY\n' and 'content' not in key and key['mode'] == '0600'
    assert settings(files, redis_tls_ca_file_previous='old.pem', **tls).get('tls_files')[1]['content'] == 'CA1\nCA0\n'
    assert settings().get('tls_files') == [] and settings().get('module_defaults') == {'tls': False}
    assert settings(files, **tls).get('module_defaults')['tls_key_file'] == '/etc/redis/tls/redis.key'


@pytest.mark.parametrize('groups, role, parts', [
    ({'redis_replica': ['r1'], 'redis_sentinel': ['r1']}, None, ['server', 'sentinel']),
    ({'redis_master': ['m'], 'redis_sentinel': ['r1']}, None, ['sentinel']),
    ({}, 'sentinel', ['sentinel']),
    ({'redis_replica': ['r1']}, 'replica', ['server']),
])
def test_host_parts(groups, role, parts):
    overrides = {'_redis_preflight_role': role} if role else {}
    assert settings(groups=groups, **overrides).get('host_parts') == parts


def test_host_packages_ports_and_what_this_run_prepared():
    both = settings(groups={'redis_replica': ['r1'], 'redis_sentinel': ['r1']}, redis_firewall='firewalld',
                    redis_tls=True, redis_tls_plaintext_port=6380)
    assert both.get('host_packages') == ['redis-server', 'python3-redis', 'redis-sentinel', 'firewalld']
    assert both.get('host_ports') == [6379, 6380, 26379]
    assert both.get('host_prepared') is False
    sentinel = settings(groups={'redis_sentinel': ['r1']}, redis_firewall='auto', _redis_prepared_parts=['sentinel'])
    assert sentinel.get('host_packages') == ['redis-sentinel', 'python3-redis']
    assert sentinel.get('host_ports') == [26379] and sentinel.get('host_prepared') is True
    # The cluster node overrides the parts and the ports.
    cluster = settings(groups={}, _redis_host_parts=['server'], _redis_prepared_parts=[])
    assert cluster.get('host_packages')[:2] == ['redis-server', 'python3-redis'] and not cluster.get('host_prepared')


def test_unknown_setting_and_missing_variable_are_named():
    with pytest.raises(AnsibleError, match='no derived setting named'):
        settings().get('nothing')
    with pytest.raises(AnsibleError, match='redis_bind is not defined'):
        settings(missing=('redis_bind',)).get('server_bind')
