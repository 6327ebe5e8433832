# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real redis-server / redis-sentinel processes on free loopback ports, and a module runner.

pytest.ini puts playbooks/collections on sys.path, where
ansible_collections/redisops/sentinel links back to the repository root
(lab/lab.sh deps, which make setup runs, creates that link).
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import shutil
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from unittest import mock

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible.module_utils import basic

COLLECTION_LINK = Path(__file__).resolve().parents[2] / 'playbooks/collections/ansible_collections/redisops/sentinel'
if not COLLECTION_LINK.is_dir():
    pytest.exit('%s does not exist: run make setup (or lab/lab.sh link) first' % COLLECTION_LINK, returncode=4)

from ansible_collections.redisops.sentinel.plugins.module_utils.client import connect

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    @contextlib.contextmanager
    def patch_module_args(args):
        payload = json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode()
        with mock.patch.object(basic, '_ANSIBLE_ARGS', payload):
            yield

REDIS_SERVER = shutil.which('redis-server')
REDIS_SENTINEL = shutil.which('redis-sentinel')
# A quote, spaces, "$" and "#": must survive config files, AUTH and RESP encoding.
PASSWORD = "it's a $ecret #1"
STARTUP_TIMEOUT = 15.0
MASTER_NAME = 'mymaster'

if not (REDIS_SERVER and REDIS_SENTINEL):
    # A missing server must not turn the suite green: these tests exist to
    # run against real processes.
    raise pytest.UsageError('redis-server and redis-sentinel are required on PATH: '
                            'run `make setup` (or apt-get install redis-server redis-sentinel)')


def free_port(host: str = '127.0.0.1') -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = STARTUP_TIMEOUT) -> None:
    """Poll ``predicate`` until true; the short pause only paces the polling."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %ss waiting for %s' % (timeout, what))
        time.sleep(0.02)


def config_quote(value: str) -> str:
    """A double-quoted redis.conf string."""
    return '"%s"' % value.replace('\\', '\\\\').replace('"', '\\"')


class RedisNode:
    """A redis-server or redis-sentinel process owned by the tests."""

    def __init__(self, argv: list[str], workdir: Path, port: int, host: str = '127.0.0.1',
                 password: str | None = None):
        self.port, self.host, self.password, self.workdir = port, host, password, workdir
        self.address = '%s:%d' % (host, port)
        self._log = open(workdir / 'log', 'w')
        self.proc = subprocess.Popen(argv, cwd=workdir, stdout=self._log, stderr=subprocess.STDOUT)

    def client(self) -> redis.Redis:
        return connect(dict(login_host=self.host, login_port=self.port, login_user=None,
                            login_password=self.password, connect_timeout=2.0))

    def answers(self, command: str = 'PING') -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError('%s exited: %s' % (self.address, (self.workdir / 'log').read_text()))
        client = self.client()
        try:
            return bool(client.execute_command(command))
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            return False
        finally:
            client.close()

    def wait_ready(self) -> RedisNode:
        wait_for(self.answers, '%s to answer PING' % self.address)
        return self

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class NodeFactory:
    """Start servers and Sentinels in their own directories; stop them all at teardown."""

    def __init__(self, base: Path):
        self.base = base
        self.nodes: list[RedisNode] = []

    def _workdir(self, name: str) -> Path:
        path = self.base / ('%s-%d' % (name, len(self.nodes)))
        path.mkdir()
        return path

    def server(self, *config: str, port: int | None = None, host: str = '127.0.0.1',
               password: str | None = None, wait: bool = True) -> RedisNode:
        """redis-server; ``config`` lines go into a config file, so values may hold spaces."""
        port = port or free_port(host)
        workdir = self._workdir('redis')
        lines = list(config)
        if password is not None:
            lines.append('requirepass %s' % config_quote(password))
        (workdir / 'redis.conf').write_text(''.join(line + '\n' for line in lines))
        argv = [REDIS_SERVER, str(workdir / 'redis.conf'), '--port', str(port), '--bind', host,
                '--daemonize', 'no', '--save', '', '--appendonly', 'no', '--dir', str(workdir),
                # A master would otherwise wait 5 s for more replicas before a diskless sync.
                '--repl-diskless-sync-delay', '0']
        if not any(line.startswith('protected-mode') for line in lines):
            argv += ['--protected-mode', 'no']
        node = RedisNode(argv, workdir, port, host, password)
        self.nodes.append(node)
        return node.wait_ready() if wait else node

    def replica(self, master: RedisNode, *config: str, password: str | None = None,
                wait: bool = True) -> RedisNode:
        lines = ['replicaof %s %d' % (master.host, master.port)] + list(config)
        if master.password is not None:
            lines.append('masterauth %s' % config_quote(master.password))
        return self.server(*lines, password=password, wait=wait)

    def sentinel(self, master: RedisNode, *config: str, quorum: int, name: str = MASTER_NAME) -> RedisNode:
        port = free_port()
        workdir = self._workdir('sentinel')
        lines = [
            'port %d' % port, 'bind 127.0.0.1', 'daemonize no', 'protected-mode no', 'dir %s' % workdir,
            'sentinel monitor %s %s %d %d' % (name, master.host, master.port, quorum),
            'sentinel down-after-milliseconds %s 1000' % name,
            'sentinel failover-timeout %s 60000' % name,
        ] + list(config)
        if master.password is not None:
            lines.append('sentinel auth-pass %s %s' % (name, config_quote(master.password)))
        conf = workdir / 'sentinel.conf'
        conf.write_text(''.join(line + '\n' for line in lines))
        node = RedisNode([REDIS_SENTINEL, str(conf)], workdir, port)
        self.nodes.append(node)
        return node.wait_ready()

    def stop_all(self) -> None:
        for node in reversed(self.nodes):
            node.stop()


def command(node: RedisNode, *args):
    """One command on a connection of its own."""
    client = node.client()
    try:
        return client.execute_command(*args)
    finally:
        client.close()


def config_get(node: RedisNode, name: str) -> str:
    """One setting as CONFIG GET shows it, on a connection of its own."""
    client = node.client()
    try:
        return client.config_get(name)[name]
    finally:
        client.close()


def link_up(replica: RedisNode) -> bool:
    client = replica.client()
    try:
        return client.info('replication').get('master_link_status') == 'up'
    finally:
        client.close()


def sentinel_sees(sentinel: RedisNode, replicas: int, others: int, name: str = MASTER_NAME) -> bool:
    client = sentinel.client()
    try:
        healthy_replicas = [item for item in client.execute_command('SENTINEL', 'REPLICAS', name)
                            if item[item.index('flags') + 1] == 'slave']
        healthy_others = [item for item in client.execute_command('SENTINEL', 'SENTINELS', name)
                          if 's_down' not in item[item.index('flags') + 1]]
        return len(healthy_replicas) == replicas and len(healthy_others) == others
    finally:
        client.close()


class Cluster:
    def __init__(self, master: RedisNode, replica: RedisNode, sentinels: list[RedisNode]):
        self.master, self.replica, self.sentinels = master, replica, sentinels


@pytest.fixture(scope='session')
def cluster(tmp_path_factory) -> Cluster:
    """A master, one replica and three Sentinels (quorum 2) that all see each other."""
    factory = NodeFactory(tmp_path_factory.mktemp('cluster'))
    try:
        master = factory.server()
        replica = factory.replica(master)
        wait_for(lambda: link_up(replica), 'the replica link to come up')
        sentinels = [factory.sentinel(master, quorum=2) for dummy in range(3)]
        for sentinel in sentinels:
            wait_for(lambda node=sentinel: sentinel_sees(node, replicas=1, others=2),
                     '%s to see 1 replica and 2 other Sentinels' % sentinel.address)
        yield Cluster(master, replica, sentinels)
    finally:
        factory.stop_all()


@pytest.fixture(scope='session')
def password_pair(tmp_path_factory) -> Cluster:
    """A master and a replica that both require PASSWORD."""
    factory = NodeFactory(tmp_path_factory.mktemp('password'))
    try:
        master = factory.server(password=PASSWORD)
        replica = factory.replica(master, password=PASSWORD)
        wait_for(lambda: link_up(replica), 'the password replica link to come up')
        yield Cluster(master, replica, [])
    finally:
        factory.stop_all()


@pytest.fixture
def nodes(tmp_path) -> NodeFactory:
    """Processes private to one test (for tests that stop or misconfigure them)."""
    factory = NodeFactory(tmp_path)
    yield factory
    factory.stop_all()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    return free_port()


def run_module_process(name: str, args: dict[str, Any], workdir: Path) -> subprocess.CompletedProcess:
    """The collection's module ``name`` run as Ansible runs it, in a process of its own (real exit_json and
    fail_json, whose output masks the secrets): its stdout holds the JSON result."""
    args_file = workdir / 'args.json'
    args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    return subprocess.run([sys.executable, '-m', 'ansible_collections.redisops.sentinel.plugins.modules.' + name,
                           str(args_file)], env=dict(os.environ, PYTHONPATH=str(COLLECTION_LINK.parents[2])),
                          capture_output=True, text=True, timeout=60, check=False)


class _ModuleDone(Exception):
    def __init__(self, failed: bool, result: dict[str, Any]):
        super().__init__(result.get('msg'))
        self.failed, self.result = failed, result


@pytest.fixture
def run_module(monkeypatch) -> Callable[..., tuple[bool, dict[str, Any]]]:
    """Run a module's main() in-process; return (failed, result)."""
    def exit_json(self, **result):
        raise _ModuleDone(False, result)

    def fail_json(self, **result):
        raise _ModuleDone(True, result)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)

    def run(main: Callable[[], None], args: dict[str, Any], check_mode: bool = False):
        if check_mode:
            args = dict(args, _ansible_check_mode=True)
        with patch_module_args(args):
            try:
                main()
            except _ModuleDone as done:
                return done.failed, done.result
        raise AssertionError('the module returned without exit_json or fail_json')

    return run


# TLS: a CA, certificates and nodes that listen only on their tls-port.

@dataclass(frozen=True)
class TlsFiles:
    """PEM files: a CA, a server certificate (SAN IP 127.0.0.1 and localhost, for server and client use),
    a client certificate, a server certificate that names redis.example only, and an unrelated CA with
    a client certificate of its own."""

    ca: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str
    named_server_cert: str
    named_server_key: str
    other_ca: str
    other_client_cert: str
    other_client_key: str

    def server_config(self) -> list[str]:
        """redis.conf lines; servers present server_cert as client certificate to their peers too."""
        return ['tls-cert-file %s' % self.server_cert, 'tls-key-file %s' % self.server_key,
                'tls-ca-cert-file %s' % self.ca, 'tls-auth-clients yes', 'tls-replication yes']

    def params(self, client_cert: bool = True) -> dict[str, Any]:
        """The TLS module options, with or without the client certificate."""
        params = dict(tls=True, tls_ca_file=self.ca)
        if client_cert:
            params.update(tls_cert_file=self.client_cert, tls_key_file=self.client_key)
        return params


def make_tls_files(directory: Path) -> TlsFiles:
    now = datetime.datetime.now(datetime.timezone.utc)
    files: dict[str, str] = {}

    def issue(name: str, cn: str, issuer: tuple | None = None, usages: tuple = (), san: list | None = None):
        """A certificate (a self-signed CA without ``issuer``) in name.pem, its key in name-key.pem."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        issuer_name, issuer_key = issuer or (subject, key)
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True))
        if issuer is None:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
                critical=True)
        else:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        cert_path, key_path = directory / ('%s.pem' % name), directory / ('%s-key.pem' % name)
        cert_path.write_bytes(builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        files[name.replace('-', '_')], files[name.replace('-', '_') + '_key'] = str(cert_path), str(key_path)
        return subject, key

    server, client = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
    ca = issue('ca', 'redisops test CA')
    issue('server', 'redis', ca, (server, client),
          [x509.IPAddress(ipaddress.ip_address('127.0.0.1')), x509.DNSName('localhost')])
    issue('client', 'ansible', ca, (client,))
    issue('named-server', 'redis.example', ca, (server, client), [x509.DNSName('redis.example')])
    other_ca = issue('other-ca', 'unrelated CA')
    issue('other-client', 'stranger', other_ca, (client,))
    return TlsFiles(ca=files['ca'], other_ca=files['other_ca'],
                    **{'%s_%s' % (name, kind): files[name + ('' if kind == 'cert' else '_key')]
                       for name in ('server', 'client', 'named_server', 'other_client')
                       for kind in ('cert', 'key')})


class TlsNode(RedisNode):
    """A node listening on its tls-port only (``port``); client() speaks TLS with the client certificate."""

    def __init__(self, argv: list[str], workdir: Path, port: int, files: TlsFiles):
        self.files = files
        super().__init__(argv, workdir, port)

    def client(self) -> redis.Redis:
        return connect(dict(login_host=self.host, login_port=self.port, login_user=None, login_password=None,
                            connect_timeout=2.0, **self.files.params()))


def tls_server(factory: NodeFactory, files: TlsFiles, *config: str) -> TlsNode:
    port = free_port()
    workdir = factory._workdir('redis-tls')
    lines = ['port 0', 'tls-port %d' % port, 'bind 127.0.0.1', 'daemonize no', 'protected-mode no', 'save ""',
             'appendonly no', 'dir %s' % workdir, 'repl-diskless-sync-delay 0'] + files.server_config() + list(config)
    (workdir / 'redis.conf').write_text(''.join(line + '\n' for line in lines))
    node = TlsNode([REDIS_SERVER, str(workdir / 'redis.conf')], workdir, port, files)
    factory.nodes.append(node)
    return node.wait_ready()


def tls_sentinel(factory: NodeFactory, files: TlsFiles, master: RedisNode, quorum: int = 1) -> TlsNode:
    port = free_port()
    workdir = factory._workdir('sentinel-tls')
    lines = ['port 0', 'tls-port %d' % port, 'bind 127.0.0.1', 'daemonize no', 'protected-mode no',
             'dir %s' % workdir] + files.server_config() + [
        'sentinel monitor %s %s %d %d' % (MASTER_NAME, master.host, master.port, quorum),
        'sentinel down-after-milliseconds %s 1000' % MASTER_NAME,
        'sentinel failover-timeout %s 60000' % MASTER_NAME]
    (workdir / 'sentinel.conf').write_text(''.join(line + '\n' for line in lines))
    node = TlsNode([REDIS_SENTINEL, str(workdir / 'sentinel.conf')], workdir, port, files)
    factory.nodes.append(node)
    return node.wait_ready()


@pytest.fixture(scope='session')
def tls_files(tmp_path_factory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp('tls-files'))


@pytest.fixture(scope='session')
def tls_cluster(tmp_path_factory, tls_files) -> Cluster:
    """A master, its replica and one Sentinel (quorum 1), all TLS only: tls-auth-clients, tls-replication."""
    factory = NodeFactory(tmp_path_factory.mktemp('tls-cluster'))
    try:
        master = tls_server(factory, tls_files)
        replica = tls_server(factory, tls_files, 'replicaof %s %d' % (master.host, master.port))
        wait_for(lambda: link_up(replica), 'the TLS replica link to come up')
        sentinel = tls_sentinel(factory, tls_files, master)
        wait_for(lambda: sentinel_sees(sentinel, replicas=1, others=0), 'the TLS Sentinel to see the replica')
        yield Cluster(master, replica, [sentinel])
    finally:
        factory.stop_all()
