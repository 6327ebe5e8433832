"""DavidWittman/ansible-redis in its apt mode, on the lab's hosts: the role users would otherwise pick.

Imported by benchmarks/variants.py. The role is vendored unmodified under
benchmarks/thirdparty/ansible-redis (see benchmarks/thirdparty/README.md for
its commit and licence). This module writes the inventory and the playbook a
user of that role would write for the lab's topology, following its README:
apt install (redis_install_from_source: false), the Debian unit for the server
(redis_service_name: redis, the case the role's tasks are written for, so its
config file is the one that unit reads), redis_slaveof on the replicas, and a
second inclusion of the role with redis_sentinel: true and
redis_sentinel_monitors for the Sentinels (the README's "multiple role
inclusions"). Three settings are needed for that on Debian, all in the
playbook, not in the role:

- the packaged redis-server.service sets PrivateUsers=true, which fails in
  the lab's containers (217/USER): the playbook adds a drop-in with
  PrivateUsers=false before the role installs the package, as our roles do
  inside containers;
- the package redis-sentinel starts its own Sentinel on port 26379, on every
  address, which the role's own unit (sentinel_26379) then cannot bind: the
  playbook masks the package's unit (redis-sentinel.service) before the role
  installs it;
- the role does not refresh the apt lists, which the bare lab image does not
  have: the playbook does (cache_valid_time, as the role itself does for its
  source mode).

The role manages no firewall: its hosts run without firewalld, ours with it.
``wait_healthy`` polls the result from the controller afterwards (the role
itself does not wait), so that a run is only counted once the topology works.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import redis
import yaml

ROLE = Path(__file__).resolve().parent / 'thirdparty' / 'ansible-redis'
NAME = 'mymaster'
PORT = 6379
SENTINEL_PORT = 26379
DROPIN = '/etc/systemd/system/redis-server.service.d/container.conf'
HEALTHY_TIMEOUT = 120.0
POLL = 0.2


def inventory(hosts: dict[str, str], master: str, sentinels: list[str]) -> dict[str, Any]:
    """hosts: inventory name -> address; the master and the Sentinel hosts among them."""
    return {
        'redis_master': {'hosts': {master: {'ar_address': hosts[master]}}},
        'redis_replica': {
            'hosts': {host: {'ar_address': address} for host, address in hosts.items() if host != master},
            'vars': {'redis_slaveof': '%s %d' % (hosts[master], PORT)},
        },
        'redis_sentinel': {'hosts': {host: {'ar_address': hosts[host]} for host in sentinels}},
        'all': {'vars': {
            'ansible_connection': 'community.docker.docker',
            'ansible_python_interpreter': '/usr/bin/python3',
            'redis_install_from_source': False,
            # The role's own Sentinel unit runs {{ redis_install_dir }}/bin/redis-server.
            'redis_install_dir': '/usr',
            'redis_protected_mode': 'no',
            'redis_sentinel_protected_mode': 'no',
            'redis_sentinel_monitors': [{
                'name': NAME, 'host': hosts[master], 'port': PORT, 'quorum': len(sentinels) // 2 + 1,
                'down_after_milliseconds': 5000, 'failover_timeout': 60000, 'parallel_syncs': 1}],
        }},
    }


def playbook() -> list[dict[str, Any]]:
    return [
        {'name': 'Redis master and replicas (DavidWittman/ansible-redis, apt mode)',
         'hosts': 'redis_master:redis_replica',
         'pre_tasks': [
             {'name': 'Refresh the apt lists', 'ansible.builtin.apt': {'update_cache': True, 'cache_valid_time': 86400}},
             {'name': 'Directory for the drop-in of the packaged unit',
              'ansible.builtin.file': {'path': DROPIN.rsplit('/', 1)[0], 'state': 'directory', 'mode': '0755'}},
             {'name': 'Let the packaged unit run in a container (PrivateUsers=true fails there with 217/USER)',
              'ansible.builtin.copy': {'dest': DROPIN, 'content': '[Service]\nPrivateUsers=false\n', 'mode': '0644'}}],
         'roles': [{'role': str(ROLE), 'vars': {
             # The packaged unit (redis.service is its alias) and the config file it reads.
             'redis_service_name': 'redis', 'redis_config_file_name': 'redis.conf',
             'redis_bind': '127.0.0.1 {{ ar_address }}'}}]},
        {'name': 'Sentinels (DavidWittman/ansible-redis, apt mode)',
         'hosts': 'redis_sentinel',
         'pre_tasks': [{'name': "Mask the package's own Sentinel, which would hold port %d" % SENTINEL_PORT,
                        'ansible.builtin.command': {
                            'cmd': 'systemctl mask redis-sentinel.service',
                            'creates': '/etc/systemd/system/redis-sentinel.service'}}],
         'roles': [{'role': str(ROLE), 'vars': {'redis_sentinel': True, 'redis_local_facts': False}}]},
    ]


def write(directory: Path, hosts: dict[str, str], master: str, sentinels: list[str]) -> tuple[str, str]:
    """Write the playbook and the inventory; their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    book, inv = directory / 'ansible-redis.yml', directory / ('ansible-redis-%d-hosts.yml' % len(hosts))
    book.write_text('---\n' + yaml.safe_dump(playbook(), default_flow_style=False, sort_keys=False))
    inv.write_text('---\n' + yaml.safe_dump(inventory(hosts, master, sentinels), default_flow_style=False, sort_keys=False))
    return str(book), str(inv)


def problems(hosts: dict[str, str], master: str, sentinels: list[str]) -> list[str]:
    """What keeps the topology from being healthy now; empty when it is."""
    found = []
    for host, address in hosts.items():
        if host == master:
            continue
        try:
            info = redis.Redis(address, PORT, socket_timeout=0.5, socket_connect_timeout=0.5).info('replication')
        except redis.RedisError as exc:
            found.append('%s: %s' % (host, exc))
            continue
        if info.get('master_link_status') != 'up':
            found.append('%s: master_link_status %s' % (host, info.get('master_link_status')))
    for host in sentinels:
        try:
            seen = redis.Redis(hosts[host], SENTINEL_PORT, socket_timeout=0.5, socket_connect_timeout=0.5,
                               decode_responses=True).sentinel_master(NAME)
        except redis.RedisError as exc:
            found.append('%s Sentinel: %s' % (host, exc))
            continue
        if (seen['num-slaves'], seen['num-other-sentinels']) != (len(hosts) - 1, len(sentinels) - 1):
            found.append('%s Sentinel sees %d replicas and %d other Sentinels' % (
                host, seen['num-slaves'], seen['num-other-sentinels']))
    return found


def wait_healthy(hosts: dict[str, str], master: str, sentinels: list[str]) -> tuple[float, list[str]]:
    """Seconds until every replica is linked and every Sentinel sees them all; what was still wrong on a timeout."""
    start = time.monotonic()
    while True:
        found = problems(hosts, master, sentinels)
        if not found or time.monotonic() - start > HEALTHY_TIMEOUT:
            return time.monotonic() - start, found
        time.sleep(POLL)
