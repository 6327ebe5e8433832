# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The redis-py examples of docs/clients.md, run as they are written against real servers and
Sentinels: one password with a Sentinel password, ACL users, and TLS with client certificates.
Only the inventory's values are replaced: the Sentinel addresses, the passwords and the paths of
the application's certificate."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis

from conftest import (MASTER_NAME, REDIS_SENTINEL, REDIS_SERVER, NodeFactory, RedisNode, TlsFiles, free_port,
                      wait_for)

PAGE = Path(__file__).resolve().parents[2] / 'docs/clients.md'
DOC_SENTINELS = '[("10.0.0.11", 26379), ("10.0.0.12", 26379), ("10.0.0.13", 26379)]'
SENTINEL_PASSWORD = "s3ntinel #pw"
REDIS_PASSWORD = "r3dis $pw"
APP_PASSWORD = "app-pw-1"
ADMIN_PASSWORD = "admin-pw-1"


class Node(RedisNode):
    """A server or Sentinel whose readiness check logs in with the given redis-py options."""

    def __init__(self, argv: list[str], workdir: Path, port: int, login: dict[str, Any]):
        self.login = login
        super().__init__(argv, workdir, port)

    def client(self) -> redis.Redis:
        return redis.Redis(host=self.host, port=self.port, socket_timeout=2.0, decode_responses=True, **self.login)


def start(factory: NodeFactory, kind: str, lines: list[str], login: dict[str, Any], tls: bool) -> Node:
    """redis-server (kind 'redis') or redis-sentinel on a free port, TLS-only when tls."""
    port = free_port()
    workdir = factory._workdir(kind)
    ports = ['port 0', 'tls-port %d' % port] if tls else ['port %d' % port]
    common = ports + ['bind 127.0.0.1', 'daemonize no', 'protected-mode no', 'dir %s' % workdir]
    if kind == 'redis':
        common += ['save ""', 'appendonly no', 'repl-diskless-sync-delay 0']
    conf = workdir / ('%s.conf' % kind)
    conf.write_text(''.join(line + '\n' for line in common + lines))
    node = Node([REDIS_SERVER if kind == 'redis' else REDIS_SENTINEL, str(conf)], workdir, port, login)
    factory.nodes.append(node)
    return node.wait_ready()


def sentinel_follows(sentinel: Node, master: Node) -> bool:
    client = sentinel.client()
    try:
        state = client.execute_command('SENTINEL', 'MASTER', MASTER_NAME)
    finally:
        client.close()
    return state.get('flags') == 'master' and state.get('port') == str(master.port)


def example(number: int, values: dict[str, str]) -> str:
    """The number-th python block of docs/clients.md with the inventory's values put in."""
    blocks = re.findall(r'```python\n(.*?)```', PAGE.read_text(encoding='utf-8'), re.S)
    code = blocks[number]
    for placeholder, value in values.items():
        assert placeholder in code, '%r is no longer in example %d of %s' % (placeholder, number, PAGE)
        code = code.replace(placeholder, value)
    return code


def run_example(code: str, sentinels: list[Node]) -> None:
    code = code.replace(DOC_SENTINELS, repr([(node.host, node.port) for node in sentinels]))
    exec(compile(code, str(PAGE), 'exec'), {'__name__': 'docs_clients_example'})


@pytest.fixture
def factory(tmp_path) -> NodeFactory:
    nodes = NodeFactory(tmp_path)
    yield nodes
    nodes.stop_all()


def acl_lines() -> list[str]:
    """The users of ACL mode, as the roles write them: default off, an admin, the application user."""
    return ['user default off', 'user admin on >%s ~* &* +@all' % ADMIN_PASSWORD,
            'user app on >%s ~app:* resetchannels -@all +@read +@write -@dangerous' % APP_PASSWORD]


def test_one_password_example(factory):
    server_login = {'password': REDIS_PASSWORD}
    quoted = '"%s"' % REDIS_PASSWORD
    master = start(factory, 'redis', ['requirepass %s' % quoted, 'masterauth %s' % quoted], server_login, False)
    start(factory, 'redis', ['requirepass %s' % quoted, 'masterauth %s' % quoted,
                             'replicaof 127.0.0.1 %d' % master.port], server_login, False)
    sentinel = start(factory, 'sentinel', [
        'requirepass "%s"' % SENTINEL_PASSWORD, 'sentinel monitor %s 127.0.0.1 %d 1' % (MASTER_NAME, master.port),
        'sentinel auth-pass %s %s' % (MASTER_NAME, quoted)], {'password': SENTINEL_PASSWORD}, False)
    wait_for(lambda: sentinel_follows(sentinel, master), 'the Sentinel to follow the master')
    run_example(example(0, {'SENTINEL-PASSWORD': SENTINEL_PASSWORD, 'REDIS-PASSWORD': REDIS_PASSWORD}), [sentinel])
    assert master.client().get('greeting') == 'hello'


def test_acl_example(factory):
    master = start(factory, 'redis', acl_lines(), {'username': 'admin', 'password': ADMIN_PASSWORD}, False)
    sentinel = start(factory, 'sentinel', [
        'requirepass "%s"' % SENTINEL_PASSWORD, 'sentinel monitor %s 127.0.0.1 %d 1' % (MASTER_NAME, master.port),
        'sentinel auth-user %s admin' % MASTER_NAME, 'sentinel auth-pass %s %s' % (MASTER_NAME, ADMIN_PASSWORD)],
        {'password': SENTINEL_PASSWORD}, False)
    wait_for(lambda: sentinel_follows(sentinel, master), 'the Sentinel to follow the master')
    run_example(example(1, {'SENTINEL-PASSWORD': SENTINEL_PASSWORD, 'APP-PASSWORD': APP_PASSWORD}), [sentinel])
    assert master.client().get('app:greeting') == 'hello'


def test_tls_example(factory, tls_files: TlsFiles):
    tls_login = {'ssl': True, 'ssl_ca_certs': tls_files.ca, 'ssl_certfile': tls_files.client_cert,
                 'ssl_keyfile': tls_files.client_key}
    master = start(factory, 'redis', tls_files.server_config() + acl_lines(),
                   dict(tls_login, username='admin', password=ADMIN_PASSWORD), True)
    sentinel = start(factory, 'sentinel', tls_files.server_config() + [
        'requirepass "%s"' % SENTINEL_PASSWORD, 'sentinel monitor %s 127.0.0.1 %d 1' % (MASTER_NAME, master.port),
        'sentinel auth-user %s admin' % MASTER_NAME, 'sentinel auth-pass %s %s' % (MASTER_NAME, ADMIN_PASSWORD)],
        dict(tls_login, password=SENTINEL_PASSWORD), True)
    wait_for(lambda: sentinel_follows(sentinel, master), 'the TLS Sentinel to follow the master')
    run_example(example(2, {'SENTINEL-PASSWORD': SENTINEL_PASSWORD, 'APP-PASSWORD': APP_PASSWORD,
                            '/etc/myapp/redis-ca.crt': tls_files.ca,
                            '/etc/myapp/redis-client.crt': tls_files.client_cert,
                            '/etc/myapp/redis-client.key': tls_files.client_key}), [sentinel])
    assert master.client().get('app:greeting') == 'hello'


SECURE_PAGE = PAGE.with_name('secure-setup.md')


def sh_block(page: Path, first_line: str) -> str:
    blocks = [block for block in re.findall(r'```sh\n(.*?)```', page.read_text(encoding='utf-8'), re.S)
              if block.startswith(first_line)]
    assert len(blocks) == 1, '%s has %d sh blocks starting with %r' % (page, len(blocks), first_line)
    return blocks[0]


def replaced(code: str, values: dict[str, str]) -> str:
    for old, new in values.items():
        assert old in code, '%r is no longer in %s' % (old, SECURE_PAGE)
        code = code.replace(old, new)
    return code


def bash(script: str, cwd: Path, stdin: str = '') -> str:
    result = subprocess.run(['bash', '-c', 'set -euo pipefail\n' + script], cwd=str(cwd), input=stdin,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_secure_setup_certificates_and_runbook_functions(factory, tmp_path):
    """The OpenSSL recipe issues certificates a TLS master, its replica and a Sentinel accept from
    each other, and the runbook's server() and sentinel() functions reach them with TLS and ACL."""
    bash(replaced(sh_block(SECURE_PAGE, 'mkdir -p tls'),
                  {'redis1:10.0.0.11 redis2:10.0.0.12 redis3:10.0.0.13': 'redis1:127.0.0.1 redis2:127.0.0.1'}),
         tmp_path)
    tls = tmp_path / 'tls'

    def tls_lines(host: str) -> list[str]:
        return ['tls-cert-file %s/%s.crt' % (tls, host), 'tls-key-file %s/%s.key' % (tls, host),
                'tls-ca-cert-file %s/ca.crt' % tls, 'tls-auth-clients yes', 'tls-replication yes']

    admin = {'ssl': True, 'ssl_ca_certs': str(tls / 'ca.crt'), 'ssl_certfile': str(tls / 'redis1.crt'),
             'ssl_keyfile': str(tls / 'redis1.key'), 'username': 'admin', 'password': ADMIN_PASSWORD}
    master = start(factory, 'redis', tls_lines('redis1') + acl_lines(), admin, True)
    replica = start(factory, 'redis', tls_lines('redis2') + acl_lines() + [
        'replicaof 127.0.0.1 %d' % master.port, 'masteruser admin', 'masterauth %s' % ADMIN_PASSWORD], admin, True)
    wait_for(lambda: replica.client().info('replication')['master_link_status'] == 'up',
             'the replica to link to the master with its certificate')
    sentinel = start(factory, 'sentinel', tls_lines('redis1') + [
        'requirepass "%s"' % SENTINEL_PASSWORD, 'sentinel monitor %s 127.0.0.1 %d 1' % (MASTER_NAME, master.port),
        'sentinel auth-user %s admin' % MASTER_NAME, 'sentinel auth-pass %s %s' % (MASTER_NAME, ADMIN_PASSWORD)],
        dict(admin, username=None, password=SENTINEL_PASSWORD), True)
    wait_for(lambda: sentinel_follows(sentinel, master), 'the TLS Sentinel to follow the master')

    functions = replaced(sh_block(SECURE_PAGE, "read -rs -p 'admin password: '"), {
        '/etc/redis/tls/ca.crt': str(tls / 'ca.crt'), '/etc/redis/tls/redis.crt': str(tls / 'redis2.crt'),
        '/etc/redis/tls/redis.key': str(tls / 'redis2.key'),
        '-p 6379': '-p %d' % master.port, '-p 26379': '-p %d' % sentinel.port})
    output = bash(functions + '\n'.join([
        'server SET docs:key value', 'server INFO replication',
        'sentinel SENTINEL GET-MASTER-ADDR-BY-NAME %s' % MASTER_NAME,
        'sentinel SENTINEL CKQUORUM %s' % MASTER_NAME]), tmp_path, '%s\n%s\n' % (ADMIN_PASSWORD, SENTINEL_PASSWORD))
    # The two echo lines after read come first.
    lines = [line.rstrip('\r') for line in output.splitlines() if line.strip()]
    assert lines[0] == 'OK', output
    assert 'role:master' in lines and 'connected_slaves:1' in lines, output
    assert str(master.port) in lines, output
    assert lines[-1].startswith('OK 1 usable Sentinels'), output
