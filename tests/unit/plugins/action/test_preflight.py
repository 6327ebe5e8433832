# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight checks against tables of host variables (module_utils/preflight.py), and the action
plugin once through ansible-playbook on a local inventory (templated role defaults, the result)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.redisops.sentinel.plugins.module_utils.preflight import Findings, Inventory, check

ROOT = Path(__file__).resolve().parents[4]
SPEC = yaml.safe_load((ROOT / 'roles/redis/meta/argument_specs.yml').read_text())['argument_specs']['main']['options']
# The role defaults that need no templating; the templated ones are computed by lab() as the roles would.
DEFAULTS = {key: value for key, value in yaml.safe_load((ROOT / 'roles/redis/defaults/main.yml').read_text()).items()
            if not (isinstance(value, str) and '{' in value)}
TLS_FILES = {'/pki/ca.crt', '/pki/h1.crt', '/pki/h1.key'}


def lab(masters=('h1',), replicas=('h2', 'h3'), sentinels=('h1', 'h2', 'h3'), common=None, hosts=None,
        addresses=None, facts=True, play_hosts=None, play_role=None) -> Inventory:
    """A topology like the molecule lab: every host's variables as the roles would see them."""
    names = list(dict.fromkeys(list(masters) + list(replicas) + list(sentinels)))
    addresses = addresses or {name: '10.0.0.%d' % index for index, name in enumerate(names, 1)}
    table: dict[str, dict[str, Any]] = {}
    for name in names:
        # A password, as a production inventory has (without one the preflight warns: see below).
        variables = dict(DEFAULTS, redis_address=addresses[name], redis_password='lab-secret')
        variables.update(common or {})
        variables.update((hosts or {}).get(name, {}))
        if facts:
            address = addresses[name]
            variables['ansible_facts'] = {'all_ipv4_addresses': [address] if ':' not in address else [],
                                          'all_ipv6_addresses': [address] if ':' in address else []}
        table[name] = variables
    for variables in table.values():
        _derive_defaults(variables, table, masters, sentinels)
    return Inventory(table, {'redis_master': list(masters), 'redis_replica': list(replicas),
                             'redis_sentinel': list(sentinels)}, list(play_hosts or names), play_role)


def _derive_defaults(variables: dict[str, Any], table: dict[str, dict[str, Any]], masters, sentinels) -> None:
    """redis_master_host / _port and redis_sentinel_quorum, as roles/redis/defaults/main.yml derives them."""
    name = variables.get('redis_master_name', 'mymaster')
    found = [table[m] for m in masters if table[m].get('redis_master_name', 'mymaster') == name]
    if 'redis_master_host' not in variables:
        master = found[0] if found else {}
        variables['redis_master_host'] = master.get('redis_announce_ip') or master.get('redis_address', '')
    if 'redis_master_port' not in variables:
        variables['redis_master_port'] = ((found[0].get('redis_announce_port') or found[0].get('redis_port', 6379))
                                          if found else variables.get('redis_port', 6379))
    variables.setdefault('redis_sentinel_quorum', len(sentinels) // 2 + 1)


def run(inventory: Inventory) -> Findings:
    return check(inventory, SPEC, TLS_FILES.__contains__)


def text(lines: list[str]) -> str:
    return '\n'.join(lines)


def test_a_good_inventory_passes_without_warnings():
    assert run(lab()) == Findings([], [])


# The bad inventories of the molecule scenario validation, each with the fragment its message must hold.
BAD = [
    ('quorum above the number of Sentinels', dict(common={'redis_sentinel_quorum': 5}),
     'redis_sentinel_quorum is 5: it must be between 1 and the number of Sentinels (3)', None),
    ('quorum zero', dict(common={'redis_sentinel_quorum': 0}), 'redis_sentinel_quorum is 0', None),
    ('two bootstrap masters', dict(masters=('h1', 'h2'), replicas=('h3',)),
     'The redis_master group holds 2 hosts (h1, h2) and more than one of them start master group mymaster', None),
    ('port out of range', dict(common={'redis_port': 70000}), 'h1, h2, h3: redis_port is 70000', None),
    ('port that is not a number', dict(common={'redis_port': 'six'}),
     "argument 'redis_port' is of type str and we were unable to convert to int", None),
    ('Sentinel port equal to the server port', dict(common={'redis_sentinel_port': 6379}),
     'redis_sentinel_port is 6379, the port of a server on the same address', None),
    ('replica pointed at itself', dict(hosts={'h2': {'redis_master_host': '10.0.0.2'}}),
     'h2: redis_master_host 10.0.0.2:6379 is this host itself: a replica cannot replicate from itself', None),
    ('bind without the host\'s address', dict(common={'redis_bind': ['127.0.0.1']}),
     "redis_bind is ['127.0.0.1'] but does not contain redis_address 10.0.0.2", None),
    ('master name with a space', dict(common={'redis_master_name': 'my master'}),
     "redis_master_name is 'my master': a master group name may only contain letters, digits", None),
    ('unknown firewall mode', dict(common={'redis_firewall': 'iptables'}),
     'value of redis_firewall must be one of: auto, firewalld, none, got: iptables', None),
    ('password Sentinel cannot store', dict(common={'redis_password': 'two words'}),
     'redis_password contains white space or a quote', 'two words'),
    ('passwords that differ between hosts', dict(common={'redis_password': 'Secret-1'},
                                                 hosts={'h2': {'redis_password': 'Secret-2'}}),
     'redis_password differs between the hosts of the topology (one value on h1, h3; one value on h2)', 'Secret-'),
    ('two Sentinels only', dict(sentinels=('h1', 'h2'), common={'redis_sentinel_quorum': 1}),
     'The topology has 2 Sentinel(s). With fewer than three', None),
    ('master given by host name', dict(common={'redis_master_host': 'master.example'}),
     'redis_master_host is the host name master.example', None),
    ('zero down-after', dict(common={'redis_sentinel_down_after_milliseconds': 0}),
     'redis_sentinel_down_after_milliseconds is 0: it must be at least 1', None),
    ('ACL mode without its passwords', dict(common={'redis_acl': True, 'redis_password': 'Secret-1'}),
     'ACL mode is on: set redis_acl_admin_password, redis_acl_replication_password, redis_acl_sentinel_password',
     'Secret-1'),
    ('ACL rules that set a password',
     dict(common={'redis_acl': True, 'redis_acl_admin_password': 'Admin-1', 'redis_acl_replication_password': 'Repl-1',
                  'redis_acl_sentinel_password': 'Sent-1', 'redis_acl_default_user': False,
                  'redis_acl_users': [{'name': 'app', 'password': 'App-1', 'rules': '~* +@all >Leak-1'}]}),
     'redis_acl_users rules must not set passwords (app holds a word starting with >, <, # or !)', 'Leak-1'),
    ('TLS without its files', dict(common={'redis_tls': True, 'redis_tls_ca_file': '/nonexistent/ca.crt'}),
     'redis_tls is on, but redis_tls_ca_file (/nonexistent/ca.crt), redis_tls_cert_file (empty), '
     'redis_tls_key_file (empty) are not files on the controller', None),
    ('unknown server flavour', dict(common={'redis_flavor': 'keydb'}),
     'value of redis_flavor must be one of: redis, valkey, got: keydb', None),
    ('two servers of one machine on one port',
     dict(addresses={'h1': '10.0.0.1', 'h2': '10.0.0.2', 'h3': '10.0.0.2'}),
     'Two servers of the inventory listen on 10.0.0.2:6379 (h2, h3)', None),
    ('instance name that cannot name a unit', dict(common={'redis_instance': 'a/b'}), "redis_instance is 'a/b'", None),
    ('announced address given by host name', dict(common={'redis_announce_ip': 'nat.example'}),
     'redis_announce_ip is the host name nat.example', None),
]


@pytest.mark.parametrize('case, kwargs, expect, secret', BAD, ids=[case[0] for case in BAD])
def test_each_bad_inventory_is_refused_with_its_message(case, kwargs, expect, secret):
    found = run(lab(**kwargs))
    assert expect in text(found.problems), found.problems
    if secret:
        assert secret not in text(found.problems + found.warnings)


def test_every_problem_is_reported_at_once_each_once_with_its_hosts():
    found = run(lab(common={'redis_port': 70000, 'redis_firewall': 'iptables'},
                    hosts={'h3': {'redis_instance': 'a/b'}}))
    assert found.problems == [
        'h1, h2, h3: value of redis_firewall must be one of: auto, firewalld, none, got: iptables. '
        'See docs/variables.md for its type and allowed values.',
        'h1, h2, h3: redis_port is 70000: a port is between 1 and 65535.',
        "h1, h2, h3: redis_master_port is 70000: a port is between 1 and 65535 (its default is the redis_port of "
        "the group's redis_master host).",
        "h3: redis_instance is 'a/b': it names a systemd unit, a configuration file and a data directory, so use "
        "letters, digits, '-' and '_' (and not 'sentinel', the Sentinel's directory).",
    ]


def test_many_hosts_are_abbreviated():
    names = tuple('h%d' % index for index in range(1, 10))
    found = run(lab(masters=('h1',), replicas=names[1:], sentinels=names[:3], common={'redis_port': 0}))
    assert found.problems[0] == 'h1, h2, h3, h4, h5 and 4 more hosts: redis_port is 0: a port is between 1 and 65535.'


# redis_address must be an address of its host.

def test_an_address_the_host_does_not_hold_is_refused():
    inventory = lab()
    inventory.hosts['h2']['redis_address'] = '10.0.0.99'
    found = run(inventory)
    assert ("h2: redis_address 10.0.0.99 is not an address of this host (it has 10.0.0.2). Set redis_address to "
            "this host's address on the Redis network, which the services bind") in text(found.problems)
    assert 'put the address the others reach it at in redis_announce_ip' in text(found.problems)


def test_nat_announces_a_foreign_address_but_binds_its_own():
    found = run(lab(hosts={'h1': {'redis_announce_ip': '203.0.113.1', 'redis_announce_port': 16379},
                           'h2': {'redis_announce_ip': '203.0.113.2'}}))
    assert found == Findings([], [])
    nat_but_foreign_bind = lab(hosts={'h2': {'redis_announce_ip': '203.0.113.2', 'redis_address': '203.0.113.2'}})
    assert 'h2: redis_address 203.0.113.2 is not an address of this host' in text(run(nat_but_foreign_bind).problems)


def test_explicit_bind_addresses_must_be_held_unless_optional():
    found = run(lab(common={'redis_bind': ['10.0.0.1', '10.0.0.2', '10.0.0.3', '127.0.0.1', '-10.9.9.9']}))
    assert [line for line in found.problems if 'redis_bind / redis_sentinel_bind holds' in line] == [
        'h1, h3: redis_bind / redis_sentinel_bind holds 10.0.0.2, which is not an address of this host: the service '
        'could not start. Remove it, or mark it optional as -10.0.0.2.',
        'h1, h2: redis_bind / redis_sentinel_bind holds 10.0.0.3, which is not an address of this host: the service '
        'could not start. Remove it, or mark it optional as -10.0.0.3.',
        'h2, h3: redis_bind / redis_sentinel_bind holds 10.0.0.1, which is not an address of this host: the service '
        'could not start. Remove it, or mark it optional as -10.0.0.1.',
    ]


def test_hosts_without_facts_skip_the_address_checks():
    inventory = lab(facts=False)
    inventory.hosts['h2']['redis_address'] = '10.0.0.99'
    del inventory.hosts['h3']['redis_address']  # its default needs the facts: not known
    assert run(inventory) == Findings([], [])
    # The bootstrap master's address unknown: so is the replicas' redis_master_host.
    del inventory.hosts['h1']['redis_address']
    for name in ('h1', 'h2', 'h3'):
        del inventory.hosts[name]['redis_master_host']
    assert run(inventory) == Findings([], [])


def test_an_empty_address_with_facts_is_refused():
    inventory = lab()
    inventory.hosts['h3']['redis_address'] = ''
    assert 'h3: redis_address is empty: no default IPv4 address was found in the facts' in text(run(inventory).problems)


def test_ipv6_addresses_compare_in_any_notation():
    addresses = {'h1': 'fd00:0:0:0:0:0:0:1', 'h2': 'fd00::2', 'h3': 'FD00::3'}
    inventory = lab(addresses=addresses, common={'redis_bind': []})
    inventory.hosts['h2']['redis_bind'] = ['fd00:0::2', '::1']
    assert run(inventory) == Findings([], [])
    same_port = lab(addresses={'h1': 'fd00::1', 'h2': 'fd00::2', 'h3': 'fd00:0::2'},
                    hosts={'h3': {'redis_instance': '6380'}})
    assert 'Two servers of the inventory listen on [fd00::2]:6379 (h2, h3)' in text(run(same_port).problems)
    sentinel_port = lab(addresses=addresses, hosts={'h1': {'redis_sentinel_port': 6379}})
    assert 'h1: redis_sentinel_port is 6379, the port of a server on the same address' in text(
        run(sentinel_port).problems)


def test_a_second_server_on_a_host_needs_its_own_port_and_instance():
    addresses = {'h1': '10.0.0.1', 'h2': '10.0.0.2', 'h3': '10.0.0.2'}
    assert run(lab(addresses=addresses, hosts={'h3': {'redis_port': 6380, 'redis_instance': '6380'}})) == \
        Findings([], [])
    same_instance = run(lab(addresses=addresses, hosts={'h3': {'redis_port': 6380}})).problems
    assert ["Two servers of the inventory on 10.0.0.2 have redis_instance '' (the default server) (h2, h3): they would "
            "share one unit, configuration file and data directory. Give every server but one on a host its own "
            "redis_instance (e.g. the port)."] == same_instance
    no_template_units = lab(addresses=addresses, hosts={'h3': {'redis_port': 6380, 'redis_instance': '6380',
                                                               '__redis_instance_service': ''}})
    assert "h3: redis_instance is '6380', but this OS family packages no template unit" in text(
        run(no_template_units).problems)


# Several master groups.

def two_groups(**kwargs) -> Inventory:
    hosts = {'a1': {'redis_master_name': 'alpha'}, 'a2': {'redis_master_name': 'alpha'},
             'b1': {'redis_master_name': 'beta'}, 'b2': {'redis_master_name': 'beta'},
             'b3': {'redis_master_name': 'beta'}}
    for name, extra in kwargs.pop('hosts', {}).items():
        hosts[name].update(extra)
    return lab(masters=('a1', 'b1'), replicas=('a2', 'b2', 'b3'), sentinels=('s1', 's2', 's3'), hosts=hosts, **kwargs)


def test_two_master_groups_pass():
    assert run(two_groups()) == Findings([], [])


def test_a_group_whose_every_replica_has_priority_zero_is_refused():
    found = run(two_groups(hosts={'b2': {'redis_replica_priority': 0}, 'b3': {'redis_replica_priority': 0},
                                  'a1': {'redis_replica_priority': 0}}))
    assert found.problems == [
        'Master group beta: every replica (b2, b3) has redis_replica_priority 0, so the Sentinels could never promote '
        'one and a failed master would stay down. Give at least one of them a priority above 0 (default 100; a lower '
        'value is promoted first).']
    assert run(two_groups(hosts={'b2': {'redis_replica_priority': 0}})) == Findings([], [])


def test_a_negative_replica_priority_is_refused():
    found = run(lab(hosts={'h2': {'redis_replica_priority': -1}}))
    assert found.problems == ['h2: redis_replica_priority is -1: it must be at least 0 (0: never promoted).']


def test_a_replica_of_a_group_without_master_is_refused():
    found = run(two_groups(hosts={'b3': {'redis_master_name': 'gamma', 'redis_master_host': ''}}))
    assert ('b3: redis_master_host is empty: no host of the redis_master group has redis_master_name gamma'
            in text(found.problems))


def test_two_masters_of_one_group_name_the_group():
    found = run(two_groups(hosts={'b1': {'redis_master_name': 'alpha'}}))
    assert ('The redis_master group holds 2 hosts (a1, b1) and more than one of them start master group alpha'
            in text(found.problems))


# Crash safety (issue 10).

def test_a_short_down_after_is_a_warning_only():
    found = run(lab(common={'redis_sentinel_down_after_milliseconds': 500}))
    assert found.problems == []
    assert found.warnings == [
        "h1, h2, h3: redis_sentinel_down_after_milliseconds is 500: below 1000 ms, a fork (RDB snapshot, AOF "
        "rewrite) or a slow disk can stall a healthy master past down-after, and the Sentinels then fail it over. "
        "Use 1000 or more, and more than the master's latest_fork_usec (INFO stats)."]


@pytest.mark.parametrize('save, lost', [
    (['3600 1'], 'comes back without the writes acknowledged since its last RDB snapshot'),
    ([], 'comes back without any of its data (redis_save is empty too, so nothing is persisted)'),
])
def test_data_nodes_without_aof_are_a_warning_naming_the_loss(save, lost):
    found = run(lab(common={'redis_appendonly': False, 'redis_save': save}))
    assert found.problems == []
    assert len(found.warnings) == 1
    assert found.warnings[0].startswith('h1, h2, h3: redis_appendonly is false: a server whose process restarts')
    assert lost in found.warnings[0]
    assert 'waits until the Sentinels promote a replica' in found.warnings[0]


@pytest.mark.parametrize('settings, warned', [
    ({'redis_password': ''}, True),
    ({'redis_password': '', 'redis_protected_mode': False}, True),
    ({'redis_password': '', 'redis_protected_mode': True}, False),
    ({'redis_password': 'lab-secret', 'redis_protected_mode': False}, False),
])
def test_servers_without_a_password_and_protected_mode_are_a_warning(settings, warned):
    found = run(lab(common=settings))
    assert found.problems == []
    expected = ['h1, h2, h3: redis_password is not set: protected-mode is off so that replicas and Sentinels can '
                'connect, and anyone who can reach the addresses of redis_bind on redis_port can read and write '
                'every key. Set redis_password and keep the firewall closed to everything but the Redis hosts.']
    assert found.warnings == (expected if warned else [])


def test_appendfsync_and_start_guard_timeout_are_checked():
    found = run(lab(common={'redis_appendfsync': 'sometimes', 'redis_start_guard_timeout': 2}))
    assert 'redis_appendfsync' in text(found.problems) and 'sometimes' in text(found.problems)
    assert 'h1, h2, h3: redis_start_guard_timeout is 2: it must be at least 5.' in found.problems


# ACL users, TLS files, secrets.

def acl(**extra) -> dict[str, Any]:
    return dict({'redis_acl': True, 'redis_acl_admin_password': 'Admin-1', 'redis_acl_replication_password': 'Repl-1',
                 'redis_acl_sentinel_password': 'Sent-1', 'redis_acl_default_user': False}, **extra)


def test_acl_user_names_follow_the_module_rule():
    ok = run(lab(common=acl(redis_acl_users=[{'name': 'app:reader', 'password': 'p', 'rules': '~app:* +@read'}])))
    assert ok == Findings([], [])
    quoted = run(lab(common=acl(redis_acl_users=[{'name': 'o"brien', 'password': 'p', 'rules': '+@read'}]))).problems
    assert ['h1, h2, h3: ACL user \'o"brien\' is not a valid ACL user name: it must be non-empty, without white '
            'space, quotes or control characters: Redis writes user names unquoted into its files.'] == quoted
    twice = run(lab(common=acl(redis_acl_users=[{'name': 'admin', 'password': 'p'}]))).problems
    assert ['h1, h2, h3: ACL user names must differ from each other and from default '
            '(admin, replication, sentinel, default, admin).'] == twice


@pytest.mark.parametrize('rules, expect', [
    ('~* ON +@all', "redis_acl_users rules of app hold 'ON': the roles start every user from 'reset'"),
    (['~*', 'nopass'], "redis_acl_users rules must not set passwords (app holds 'nopass')"),
    ('(~x >Hidden-1 +get)', 'redis_acl_users rules must not set passwords (app holds a word starting with'),
])
def test_acl_rules_the_module_would_refuse_are_refused_here(rules, expect):
    found = run(lab(common=acl(redis_acl_users=[{'name': 'app', 'password': 'App-1', 'rules': rules}])))
    assert expect in text(found.problems)
    assert 'Hidden-1' not in text(found.problems)


def test_acl_sentinel_password_sentinel_cannot_store():
    found = run(lab(common=acl(redis_acl_sentinel_password="it's")))
    assert 'h1, h2, h3: redis_acl_sentinel_password contains white space or a quote' in text(found.problems)
    assert "it's" not in text(found.problems)


def test_tls_files_are_found_on_the_controller():
    tls = {'redis_tls': True, 'redis_tls_ca_file': '/pki/ca.crt', 'redis_tls_cert_file': '/pki/h1.crt',
           'redis_tls_key_file': '/pki/h1.key'}
    assert run(lab(common=tls)) == Findings([], [])
    found = run(lab(common=tls, hosts={'h3': {'redis_tls_key_file': '/pki/h3.key'}}))
    assert found.problems == ['h3: redis_tls is on, but redis_tls_key_file (/pki/h3.key) is not a file on the '
                              "controller. Give the paths of the CA certificate and of this host's certificate and "
                              'key, in PEM.']
    assert run(lab(common=dict(tls, redis_tls_ca_file_previous='/pki/ca.crt'))) == Findings([], [])
    found = run(lab(common=dict(tls, redis_tls_ca_file_previous='/pki/old-ca.crt')))
    assert 'redis_tls_ca_file_previous (/pki/old-ca.crt) is not a file on the controller' in text(found.problems)


def test_shared_settings_that_differ_are_named_with_their_hosts():
    found = run(lab(hosts={'h3': {'redis_tls': True, 'redis_tls_ca_file': '/pki/ca.crt',
                                  'redis_tls_cert_file': '/pki/h1.crt', 'redis_tls_key_file': '/pki/h1.key'}}))
    assert found.problems == [
        'redis_tls differs between the hosts of the topology (False on h1, h2; True on h3): nodes replicate and '
        'Sentinels talk to each other over one protocol, so it must be the same on all of them. Set it once, in '
        'group_vars/all.']


# Inventories without the groups: the public roles name the role of the play's hosts.

def test_a_play_of_replicas_without_groups_checks_them_as_replicas():
    inventory = lab(masters=(), replicas=('h1', 'h2'), sentinels=())
    inventory.groups = {}
    inventory.play_role = 'replica'
    for variables in inventory.hosts.values():
        variables['redis_master_host'] = '10.0.0.9'
    assert run(inventory) == Findings([], [])
    inventory.hosts['h2']['redis_master_host'] = '10.0.0.2'
    assert run(inventory).problems == ['h2: redis_master_host 10.0.0.2:6379 is this host itself: a replica cannot '
                                       'replicate from itself. Point redis_master_host at the master or move this '
                                       'host to the redis_master group.']


# The action plugin through ansible-playbook: role defaults templated per host, one result.

PLAYBOOK = """
- hosts: redis_master:redis_replica:redis_sentinel
  gather_facts: false
  tasks:
    - redisops.sentinel.preflight:
      run_once: true
      register: preflight
      ignore_errors: true
    - ansible.builtin.copy:
        content: "{{ preflight | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
      delegate_to: localhost
      run_once: true
"""


def run_playbook(tmp_path: Path, inventory: dict[str, Any]) -> dict[str, Any]:
    (tmp_path / 'inventory.yml').write_text(yaml.safe_dump(inventory))
    (tmp_path / 'playbook.yml').write_text(PLAYBOOK)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / 'playbooks/collections'), ANSIBLE_NOCOLOR='1')
    subprocess.run([str(Path(sys.executable).parent / 'ansible-playbook'), '-i', str(tmp_path / 'inventory.yml'),
                    '-e', 'result_file=%s' % (tmp_path / 'result.json'), str(tmp_path / 'playbook.yml')],
                   check=True, env=env, capture_output=True, cwd=tmp_path)
    return json.loads((tmp_path / 'result.json').read_text())


def inventory_file(**extra) -> dict[str, Any]:
    local = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}
    return {
        'redis_master': {'hosts': {'h1': {'redis_address': '10.0.0.1'}}},
        'redis_replica': {'hosts': {'h2': {'redis_address': '10.0.0.2'}, 'h3': {'redis_address': '10.0.0.3'}}},
        'redis_sentinel': {'hosts': {'h1': None, 'h2': None, 'h3': None}},
        'all': {'vars': dict(local, **extra)},
    }


def test_the_plugin_templates_each_hosts_defaults_and_passes(tmp_path):
    result = run_playbook(tmp_path, inventory_file(redis_sentinel_down_after_milliseconds=800))
    assert not result.get('failed'), result
    assert result['changed'] is False
    assert result['checked_hosts'] == ['h1', 'h2', 'h3']
    assert any('redis_sentinel_down_after_milliseconds is 800' in warning for warning in result['warnings'])


def test_the_plugin_fails_with_every_problem_and_no_secret(tmp_path):
    inventory = inventory_file(redis_password='two words', redis_port='{{ 60000 + 10001 }}')
    inventory['redis_replica']['hosts']['h2']['redis_master_host'] = '{{ redis_address }}'
    result = run_playbook(tmp_path, inventory)
    assert result['failed'] is True
    assert result['msg'] == 'The inventory has 4 problem(s); no host was changed. Fix them and run again.'
    assert result['problems'][0] == 'h1, h2, h3: redis_port is 70001: a port is between 1 and 65535.'
    # redis_master_port is derived from the master's templated redis_port.
    assert result['problems'][1].startswith('h1, h2, h3: redis_master_port is 70001')
    assert result['problems'][2].startswith('h1, h2, h3: redis_password contains white space or a quote.')
    assert result['problems'][3].startswith('h2: redis_master_host 10.0.0.2:70001 is this host itself')
    assert 'two words' not in json.dumps(result)


def test_the_plugin_checks_the_public_roles_settings_too(tmp_path):
    # site.yml runs the internal role's steps without the public roles' spec validation.
    inventory = inventory_file(redis_sentinel_wait='sometimes')
    inventory['redis_replica']['hosts']['h3']['redis_replica_max_lag_bytes'] = 'a lot'
    result = run_playbook(tmp_path, inventory)
    assert result['failed'] is True
    problems = '\n'.join(result['problems'])
    assert 'redis_sentinel_wait' in problems and 'redis_replica_max_lag_bytes' in problems
    assert result['problems'][-1].startswith('h3: ')


ROLE_PLAYS = """
- hosts: redis_master:redis_replica
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: redisops.sentinel.redis
        tasks_from: preflight
- hosts: redis_replica
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: redisops.sentinel.redis
        tasks_from: preflight
      vars:
        _redis_preflight_role: replica
- hosts: redis_sentinel
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: redisops.sentinel.redis
        tasks_from: preflight
      vars:
        _redis_preflight_role: sentinel
"""
CHECK_TASK = 'TASK [redisops.sentinel.redis : Check the whole inventory before changing any host]'


def test_the_roles_check_only_plays_with_hosts_not_checked_yet(tmp_path):
    """The public roles' include: once per run for the hosts a play brings, not again for a play
    whose hosts an earlier play checked."""
    inventory = inventory_file()
    inventory['redis_sentinel']['hosts']['h4'] = {'redis_address': '10.0.0.4'}
    # The plays gather this machine's facts: the hosts bind loopback addresses, which it holds, and
    # the master is announced at another address (a replica on this machine would hold its own).
    for group in ('redis_master', 'redis_replica', 'redis_sentinel'):
        for name, host in inventory[group]['hosts'].items():
            if host:
                host['redis_address'] = '127.0.0.%s' % name[1:]
    inventory['redis_master']['hosts']['h1']['redis_announce_ip'] = '10.0.0.1'
    (tmp_path / 'inventory.yml').write_text(yaml.safe_dump(inventory))
    (tmp_path / 'playbook.yml').write_text(ROLE_PLAYS)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / 'playbooks/collections'), ANSIBLE_NOCOLOR='1')
    output = subprocess.run([str(Path(sys.executable).parent / 'ansible-playbook'), '-i',
                             str(tmp_path / 'inventory.yml'), str(tmp_path / 'playbook.yml')],
                            check=True, env=env, capture_output=True, text=True, cwd=tmp_path).stdout
    outcomes = [chunk.split('\n')[1].split()[0] for chunk in output.split(CHECK_TASK)[1:]]
    # Play 1 checks h1-h3; play 2 (h2, h3) was checked; play 3 brings h4.
    assert outcomes == ['ok:', 'skipping:', 'ok:'], output


def test_a_variable_that_cannot_be_templated_is_named_without_its_secret(tmp_path):
    inventory = inventory_file(redis_password="{{ 'Hidden-' ~ undefined_thing }}",
                               redis_loglevel='{{ undefined_level }}')
    result = run_playbook(tmp_path, inventory)
    assert result['failed'] is True
    assert 'h1, h2, h3: redis_password could not be templated: (not shown: it holds secrets)' in result['problems']
    assert any(line.startswith('h1, h2, h3: redis_loglevel could not be templated:') and 'undefined_level' in line
               for line in result['problems'])
    assert 'Hidden-' not in json.dumps(result)


# Password rotation: the password being rotated out beside the one that replaces it.
ACL = {'redis_acl': True, 'redis_password': 'Secret-1', 'redis_acl_admin_password': 'Admin-1',
       'redis_acl_replication_password': 'Repl-1', 'redis_acl_sentinel_password': 'Sent-1'}
ROTATION_BAD = [
    ('previous without a password', {'redis_password': '', 'redis_password_previous': 'Old-1'},
     'redis_password_previous is set but redis_password is empty', 'Old-1'),
    ('previous equal to the password', {'redis_password': 'Same-1', 'redis_password_previous': 'Same-1'},
     'redis_password_previous is the same as redis_password', 'Same-1'),
    ('ACL admin previous equal to its password', dict(ACL, redis_acl_admin_password_previous='Admin-1'),
     'redis_acl_admin_password_previous is the same as redis_acl_admin_password', 'Admin-1'),
    ('ACL user previous without a password',
     dict(ACL, redis_acl_users=[{'name': 'app', 'previous_password': 'App-0', 'rules': '~app:* +@read'}]),
     'redis_acl_users app previous_password is set but redis_acl_users app password is empty', 'App-0'),
    ('ACL user previous equal to its password',
     dict(ACL, redis_acl_users=[{'name': 'app', 'password': 'App-1', 'previous_password': 'App-1'}]),
     'redis_acl_users app previous_password is the same as redis_acl_users app password', 'App-1'),
    ('Sentinel previous without the Sentinel password', {'redis_sentinel_password_previous': 'Old-s1'},
     'redis_sentinel_password_previous is set but redis_sentinel_password is empty', 'Old-s1'),
    ('a new Sentinel password sentinel-pass cannot hold',
     {'redis_sentinel_password': 'new s1', 'redis_sentinel_password_previous': 'Old-s1'},
     'redis_sentinel_password contains white space or a quote, and redis_sentinel_password_previous', 'Old-s1'),
    ('previous that differs between hosts',
     dict(common={'redis_password': 'Secret-1', 'redis_password_previous': 'Old-1'},
          hosts={'h3': {'redis_password_previous': 'Old-2'}}),
     'redis_password_previous differs between the hosts of the topology', 'Old-'),
]


@pytest.mark.parametrize('case, variables, expect, secret', ROTATION_BAD, ids=[case[0] for case in ROTATION_BAD])
def test_a_rotation_that_cannot_work_is_refused(case, variables, expect, secret):
    found = run(lab(**variables) if 'common' in variables else lab(common=variables))
    assert expect in text(found.problems), found.problems
    assert secret not in text(found.problems + found.warnings)


@pytest.mark.parametrize('variables', [
    {'redis_password': 'Secret-1', 'redis_password_previous': 'Old-1'},
    {'redis_sentinel_password': 'New-s1', 'redis_sentinel_password_previous': "old $entinel's #1"},
    dict(ACL, redis_password_previous='Old-1', redis_acl_admin_password_previous='Admin-0',
         redis_acl_replication_password_previous='Repl-0', redis_acl_sentinel_password_previous='Sent-0',
         redis_acl_users=[{'name': 'app', 'password': 'App-1', 'previous_password': 'App-0', 'rules': '~app:* +@read'}]),
], ids=['one password', 'Sentinel password', 'ACL mode'])
def test_a_rotation_passes(variables):
    assert run(lab(common=variables)) == Findings([], [])
