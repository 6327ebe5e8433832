# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exporter the redis_exporter role runs, against real servers and Sentinels: with the ACL rules
the role gives its user it reads a server (and not the server's secrets), with one right less it
does not, and every metric the shipped alert rules read is one it writes for a server or a
Sentinel.

The exporter is Debian's prometheus-redis-exporter (``lab/lab.sh deps`` installs it); without it
these tests fail instead of skipping.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from conftest import COLLECTION_LINK, PASSWORD, NodeFactory, RedisNode, free_port, link_up, wait_for

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / 'roles/redis_exporter'
EXPORTER = 'prometheus-redis-exporter'
USER = 'exporter'
# Metric names in the rules' expressions (no label name, function or keyword starts with redis_).
METRIC = re.compile(r'\bredis_[a-z_]+\b')


def acl_rules() -> str:
    return yaml.safe_load((ROLE / 'vars/main.yml').read_text(encoding='utf-8'))['_redis_exporter_acl_rules']


def rule_metrics() -> set[str]:
    groups = yaml.safe_load((ROLE / 'files/redisops-alerts.yml').read_text(encoding='utf-8'))['groups']
    return {name for group in groups for rule in group['rules'] for name in METRIC.findall(rule['expr'])}


class Exporter:
    """The exporter reading one server or Sentinel, its settings in its environment as the role's
    environment file gives them."""

    def __init__(self, target: RedisNode, workdir: Path, user: str = '', password: str = '',
                 tls: dict[str, str] | None = None):
        binary = shutil.which(EXPORTER)
        if binary is None:
            pytest.fail('%s is not on PATH: install Debian\'s %s package (lab/lab.sh deps installs it)'
                        % (EXPORTER, EXPORTER))
        self.url = 'http://127.0.0.1:%d/metrics' % free_port()
        env = {'REDIS_ADDR': '%s://%s' % ('rediss' if tls else 'redis', target.address), 'REDIS_USER': user,
               'REDIS_PASSWORD': password, 'REDIS_EXPORTER_WEB_LISTEN_ADDRESS': self.url.split('/')[2]}
        env.update(tls or {})
        self.log_path = workdir / 'exporter.log'
        self._log = open(self.log_path, 'w')
        self.proc = subprocess.Popen([binary], env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def metrics(self) -> str:
        try:
            with urllib.request.urlopen(self.url, timeout=5) as reply:
                return reply.read().decode()
        except (urllib.error.URLError, ConnectionError):
            return ''

    def scrape_when_answering(self) -> str:
        wait_for(lambda: self.metrics() != '', 'the exporter to answer on %s' % self.url)
        return self.metrics()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture
def exporters(tmp_path) -> Iterator:
    started: list[Exporter] = []

    def start(target: RedisNode, user: str = '', password: str = '', tls: dict[str, str] | None = None) -> Exporter:
        workdir = tmp_path / ('exporter-%d' % len(started))
        workdir.mkdir()
        started.append(Exporter(target, workdir, user, password, tls))
        return started[-1]

    yield start
    for exporter in started:
        exporter.stop()


def names(metrics: str) -> set[str]:
    return {line.split('{')[0].split(' ')[0] for line in metrics.splitlines() if line and not line.startswith('#')}


def acl_server(nodes: NodeFactory, rules: str) -> RedisNode:
    """A server whose default user is off; the exporter user has ``rules`` and PASSWORD."""
    node = nodes.server(password=PASSWORD)
    client = node.client()
    client.execute_command('ACL', 'SETUSER', USER, 'reset', 'on', '>' + PASSWORD, *rules.split())
    client.close()
    return node


def test_the_exporter_user_reads_the_server_and_not_its_secrets(nodes, exporters):
    server = acl_server(nodes, acl_rules())
    metrics = exporters(server, USER, PASSWORD).scrape_when_answering()
    assert re.search(r'^redis_up 1$', metrics, re.M), metrics
    assert re.search(r'^redis_memory_max_bytes 0$', metrics, re.M), metrics
    client = server.client()
    try:
        for command in (['CONFIG', 'GET', 'requirepass'], ['GET', 'key'], ['ACL', 'LIST'], ['SUBSCRIBE', 'x']):
            assert client.execute_command('ACL', 'DRYRUN', USER, *command) != 'OK', command
    finally:
        client.close()


def test_with_one_right_less_the_exporter_cannot_read_the_server(nodes, exporters):
    server = acl_server(nodes, acl_rules().replace('+info', ''))
    metrics = exporters(server, USER, PASSWORD).scrape_when_answering()
    assert re.search(r'^redis_up 0$', metrics, re.M), metrics


def test_every_metric_the_alert_rules_read_is_written_by_the_exporter(cluster, exporters):
    assert link_up(cluster.replica)
    written: set[str] = set()
    for target in [cluster.master, cluster.replica] + cluster.sentinels[:1]:
        exporter = exporters(target)
        wait_for(lambda: re.search(r'^redis_up 1$', exporter.metrics(), re.M) is not None,
                 'the exporter of %s to read it' % target.address)
        written |= names(exporter.metrics())
    read = rule_metrics()
    assert {'redis_up', 'redis_master_link_up', 'redis_sentinel_master_status'} <= read
    assert not read - written, 'metrics the rules read that the exporter never writes: %s' % sorted(read - written)


def test_the_exporter_reads_tls_servers_and_sentinels_with_the_settings_the_role_writes(tls_cluster, tls_files,
                                                                                        exporters):
    """The role's TLS variables (vars/main.yml) name the exporter's settings for a client certificate."""
    names_of = yaml.safe_load((ROLE / 'vars/main.yml').read_text(encoding='utf-8'))['_redis_exporter_tls_env']
    settings = re.findall(r"'(REDIS_EXPORTER_TLS_[A-Z_]+)'", names_of)
    assert sorted(settings) == ['REDIS_EXPORTER_TLS_CA_CERT_FILE', 'REDIS_EXPORTER_TLS_CLIENT_CERT_FILE',
                                'REDIS_EXPORTER_TLS_CLIENT_KEY_FILE']
    tls = dict(zip(sorted(settings), [tls_files.ca, tls_files.client_cert, tls_files.client_key]))
    for target in (tls_cluster.master, tls_cluster.sentinels[0]):
        exporter = exporters(target, tls=tls)
        wait_for(lambda: re.search(r'^redis_up 1$', exporter.metrics(), re.M) is not None,
                 'the exporter to read %s over TLS' % target.address)
    without_certificate = exporters(tls_cluster.master, tls={'REDIS_EXPORTER_TLS_CA_CERT_FILE': tls_files.ca})
    assert re.search(r'^redis_up 0$', without_certificate.scrape_when_answering(), re.M)


def exporter_problems(tmp_path: Path, hosts: dict) -> dict[str, list[str]]:
    """_redis_exporter_problems of each host of an inventory: the role's defaults as inventory-wide
    variables (below the hosts' own, as role defaults are), its vars/main.yml as the play's."""
    defaults = yaml.safe_load((ROLE / 'defaults/main.yml').read_text(encoding='utf-8'))
    shared = {'redis_acl': False, 'redis_tls': False, 'redis_password': '', 'redis_sentinel_password': '',
              'redis_port': 6379, 'redis_sentinel_port': 26379, 'redis_instance': '',
              '_redis_server_local': '127.0.0.1', '_redis_sentinel_local': '127.0.0.1', 'ansible_connection': 'local'}
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(yaml.safe_dump({'redis_master': {'hosts': hosts},
                                         'all': {'vars': dict(defaults, **shared)}}), encoding='utf-8')
    playbook = tmp_path / 'problems.yml'
    playbook.write_text(yaml.safe_dump([{
        'hosts': 'all', 'gather_facts': False, 'vars_files': [str(ROLE / 'vars/main.yml')],
        'tasks': [{'ansible.builtin.debug': {'var': '_redis_exporter_problems'}}]}]), encoding='utf-8')
    env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
    env['ANSIBLE_STDOUT_CALLBACK'] = 'ansible.posix.json'
    # The role's checks use this collection's plugins.
    env['ANSIBLE_COLLECTIONS_PATH'] = str(COLLECTION_LINK.parents[2])
    result = subprocess.run([str(Path(sys.executable).parent / 'ansible-playbook'), '-i', str(inventory), str(playbook)],
                            env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    task = json.loads(result.stdout)['plays'][0]['tasks'][0]
    return {host: reply['_redis_exporter_problems'] for host, reply in task['hosts'].items()}


def test_the_role_refuses_clashing_ports_and_bad_sources_and_accepts_a_second_server(tmp_path):
    assert yaml.safe_load((ROLE / 'vars/main.yml').read_text(encoding='utf-8'))['_redis_exporter_port_default'] \
        == yaml.safe_load((ROLE / 'defaults/main.yml').read_text(encoding='utf-8'))['redis_exporter_port']
    problems = exporter_problems(tmp_path, {
        'one': {'redis_address': '10.0.0.1'},
        'one-cache': {'redis_address': '10.0.0.1', 'redis_instance': 'cache', 'redis_exporter_port': 9122},
        'two': {'redis_address': '10.0.0.2',
                'redis_exporter_allow_sources': ['10.0.0.0/8', 'fd00::5', 'prometheus', '10.0.0.0/33', '10.0.0.1/255.0.0.0']},
        'three': {'redis_address': '10.0.0.3', 'redis_acl': True},
        'four': {'redis_address': '10.0.0.4', 'redis_exporter_port': 70000},
    })
    assert problems['one'] == [] and problems['one-cache'] == []
    assert problems['two'] == ['redis_exporter_allow_sources: "%s" is not an IP address or network (CIDR)' % source
                               for source in ('prometheus', '10.0.0.0/33')]
    assert problems['three'] == ['redis_acl is on: set redis_exporter_acl_password (the exporter user logs in with it)']
    assert problems['four'] == ['redis_exporter_port and redis_exporter_sentinel_port must be between 1 and 65535']
    clash = exporter_problems(tmp_path, {'one': {'redis_address': '10.0.0.1'},
                                         'one-cache': {'redis_address': '10.0.0.1', 'redis_instance': 'cache'}})
    assert clash['one-cache'] == ['port 9121 is the redis_exporter_port of another server on 10.0.0.1: '
                                  'give each server of a host its own']
