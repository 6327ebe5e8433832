# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The start guard's settings as the roles compute them: which addresses are this node (`me`), from the
topology model (the announced address, IPv6 in brackets) and the bound addresses."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

TOP = Path(__file__).resolve().parents[3]
PLAYBOOK = Path(__file__).resolve().parent / 'files' / 'guard_settings.yml'
FACTS = {'os_family': 'Debian', 'distribution': 'Debian', 'distribution_major_version': '12',
         'default_ipv4': {'address': '10.0.0.9'}}
INVENTORY = {
    'redis_master': {'hosts': {'v6': {'redis_address': 'fd00::1'}}},
    'redis_replica': {'hosts': {'natted': {'redis_address': '10.0.0.2', 'redis_announce_ip': '192.0.2.2',
                                           'redis_announce_port': 7000},
                                'second': {'redis_address': '10.0.0.3', 'redis_port': 6380,
                                           'redis_bind': ['10.0.0.3', '::1']}}},
    'redis_sentinel': {'hosts': {'v6': {}, 'natted': {}, 'second': {}}},
}


@pytest.fixture(scope='module')
def guard(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp('guard')
    inventory = tmp / 'inventory.yml'
    inventory.write_text(yaml.safe_dump(INVENTORY))
    extra = {'ansible_facts': FACTS, 'render_dir': str(tmp),
             'ansible_python_interpreter': str(Path(sys.executable).absolute())}
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(TOP / 'playbooks' / 'collections'), ANSIBLE_NOCOLOR='1')
    run = subprocess.run(['ansible-playbook', '-i', str(inventory), str(PLAYBOOK), '-e', json.dumps(extra)],
                         capture_output=True, text=True, env=env, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return {host: json.loads((tmp / ('%s.json' % host)).read_text()) for host in ('v6', 'natted', 'second')}


def test_ipv6_address_in_brackets(guard):
    assert guard['v6']['me'][0] == '[fd00::1]:6379'


def test_announced_address_and_port_first(guard):
    assert guard['natted']['me'] == ['192.0.2.2:7000', '10.0.0.2:6379', '127.0.0.1:6379']


def test_bound_addresses_with_the_port(guard):
    assert guard['second']['me'] == ['10.0.0.3:6380', '::1:6380']


def test_sentinels_are_the_inventory_s(guard):
    assert sorted(guard['v6']['sentinels']) == ['10.0.0.3:26379', '192.0.2.2:26379', '[fd00::1]:26379']
