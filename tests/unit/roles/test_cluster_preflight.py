# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The redis_cluster group check (roles/redis/tasks/cluster_preflight.yml), run by ansible-playbook on
inventories of local hosts: nothing is installed, the check only reads the inventory. The settings and the
problems are tabled in tests/unit/plugins/lookup/test_node_settings.py and test_cluster_problems.py."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

TOP = Path(__file__).resolve().parents[3]
PLAYBOOK = """
- name: Check the cluster inventory
  hosts: redis_cluster
  gather_facts: false
  tasks:
    - name: The options roles/redis_cluster hands over
      ansible.builtin.set_fact:
        _redis_cluster_options:
          replicas: "{{ redis_cluster_replicas | default(1) }}"
          bus_port: "{{ redis_cluster_bus_port | default(0) }}"
          announce_bus_port: "{{ redis_cluster_announce_bus_port | default(0) }}"
          node_timeout: 15000
          config_file: ""
    - name: Check
      ansible.builtin.include_role:
        name: redisops.sentinel.redis
        tasks_from: cluster_preflight.yml
    - name: Record what the check worked out
      ansible.builtin.copy:
        content: "{{ _redis_cluster_node | combine({'settings': _redis_cluster_settings}) | to_json }}"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.json"
        mode: "0600"
"""
PREFIX = 'The redis_cluster inventory cannot make a cluster; nothing was changed. '


def six_nodes(**overrides: dict) -> dict[str, dict]:
    """Three machines with two nodes each (ports 6379 and 6380), like molecule/cluster."""
    hosts = {}
    for machine in (1, 2, 3):
        hosts['cl-%d' % machine] = dict(redis_address='10.0.0.%d' % machine)
        hosts['cl-%d-b' % machine] = dict(ansible_host='cl-%d' % machine, redis_address='10.0.0.%d' % machine,
                                          redis_port=6380, redis_instance='6380')
    for name, variables in overrides.items():
        hosts[name] = dict(hosts.get(name, {}), **variables)
    return hosts


def run(tmp_path: Path, hosts: dict[str, dict], *args: str, group_vars: dict | None = None):
    python = str(Path(sys.executable).absolute())
    inventory = {'redis_cluster': {'hosts': hosts, 'vars': dict(
        {'ansible_connection': 'local', 'ansible_python_interpreter': python}, **(group_vars or {}))}}
    (tmp_path / 'inventory.yml').write_text(yaml.safe_dump(inventory))
    (tmp_path / 'check.yml').write_text(PLAYBOOK)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / 'playbooks' / 'collections'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_FORKS='10')
    proc = subprocess.run(['ansible-playbook', '-i', str(tmp_path / 'inventory.yml'), str(tmp_path / 'check.yml'),
                           '-e', 'out_dir=%s' % tmp_path, *args], capture_output=True, text=True, env=env, check=False)
    return proc


def problems(proc: subprocess.CompletedProcess, tmp_path: Path) -> str:
    """The problems the check names; every host stopped there."""
    assert proc.returncode != 0, proc.stdout
    assert list(tmp_path.glob('*.json')) == [], 'a host went on after the check failed'
    messages = {json.loads(line[line.index('{'):])['msg'] for line in proc.stdout.splitlines()
                if line.startswith('fatal:')}
    assert len(messages) == 1 and messages.pop().startswith(PREFIX)
    line = next(line for line in proc.stdout.splitlines() if line.startswith('fatal:'))
    return json.loads(line[line.index('{'):])['msg'][len(PREFIX):]


def test_six_nodes_on_three_machines_pass(tmp_path):
    proc = run(tmp_path, six_nodes())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    node = json.loads((tmp_path / 'cl-2-b.json').read_text())
    assert node == dict(name='cl-2-b', machine='cl-2', instance='6380', node='10.0.0.2:6380',
                        data_ports=[6380], bus_port=16380, replicas=1,
                        settings={'cluster-enabled': 'yes', 'cluster-config-file': 'nodes-6380.conf',
                                  'cluster-node-timeout': '15000'})


def test_announced_address_ipv6_tls_and_bus_port(tmp_path):
    hosts = six_nodes(**{'cl-1': dict(redis_address='fd00::1', redis_announce_port=7000),
                         'cl-2': dict(redis_announce_ip='203.0.113.2', redis_cluster_announce_bus_port=17000),
                         'cl-3': dict(redis_cluster_bus_port=20000, redis_tls_plaintext_port=6390)})
    proc = run(tmp_path, hosts, group_vars={'redis_tls': True})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    one, two, three = (json.loads((tmp_path / ('%s.json' % name)).read_text()) for name in ('cl-1', 'cl-2', 'cl-3'))
    common = {'cluster-enabled': 'yes', 'cluster-config-file': 'nodes-6379.conf', 'cluster-node-timeout': '15000',
              'tls-cluster': 'yes'}
    assert one['node'] == '[fd00::1]:7000' and one['bus_port'] == 16379
    assert one['settings'] == dict(common, **{'cluster-announce-tls-port': '7000'})
    assert two['node'] == '203.0.113.2:6379'
    assert two['settings'] == dict(common, **{'cluster-announce-ip': '203.0.113.2', 'cluster-announce-bus-port': '17000'})
    # With a plain port beside TLS, both are data ports; an explicit bus port is cluster-port.
    assert three['data_ports'] == [6379, 6390] and three['bus_port'] == 20000
    assert three['settings'] == dict(common, **{'cluster-port': '20000'})


def test_too_few_nodes(tmp_path):
    hosts = {name: variables for name, variables in six_nodes().items() if name != 'cl-3-b'}
    assert problems(run(tmp_path, hosts), tmp_path) == (
        'redis_cluster has 5 hosts; 6 are needed for 3 masters with 1 replica(s) each (redis_cluster_replicas).')


def test_two_hosts_of_a_machine_sharing_a_port(tmp_path):
    """The ports come from each host's settings; tests/unit/plugins/filter/test_cluster_problems.py has the
    other problems."""
    assert problems(run(tmp_path, six_nodes(**{'cl-1-b': dict(redis_port=16379)})), tmp_path) == (
        'Hosts cl-1 and cl-1-b run on the same machine cl-1 and both use port 16379 (data ports 6379 and bus port '
        '16379, against 16379 and 26379; the bus port is the data port + 10000 unless redis_cluster_bus_port is set).')


def test_a_limited_run_is_refused(tmp_path):
    assert problems(run(tmp_path, six_nodes(), '--limit', 'cl-1,cl-2'), tmp_path) == (
        'Hosts of redis_cluster are not in this run (cl-1-b, cl-2-b, cl-3, cl-3-b): run on the whole group at '
        'once, without --limit or serial.')
