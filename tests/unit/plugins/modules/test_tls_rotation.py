# -*- coding: utf-8 -*-
"""What a TLS certificate, key and CA rotation can rely on, against real redis-server and
redis-sentinel processes (tests/unit/conftest.py TLS fixtures):

- a server re-reads its certificate, key and CA files at ``CONFIG SET tls-cert-file <same path> ...``
  (Redis marks them volatile: the same value applies again; redis_config reload_tls), and its replica
  link stays up without a new full sync;
- a CA file that holds two CAs trusts both, so certificates of the old and of the new CA are accepted
  during a CA change, and once the file holds only the new CA the old one is refused;
- Sentinel has no CONFIG command: it reads its TLS files only at start.
"""
from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import shutil
import socket
import ssl
from pathlib import Path

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.redisops.sentinel.plugins.modules import redis_config

from conftest import (NodeFactory, TlsFiles, TlsNode, link_up, make_tls_files, tls_sentinel, tls_server,
                      wait_for)


SERVER_USAGES = (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH)


def _write(directory: Path, name: str, cert: x509.Certificate, key) -> tuple[str, str]:
    directory.mkdir(exist_ok=True)
    cert_path, key_path = directory / ('%s.pem' % name), directory / ('%s-key.pem' % name)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def _builder(subject: str, issuer: x509.Name, key, is_ca: bool) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True))


def make_ca(directory: Path, name: str) -> tuple[str, str]:
    """A self-signed CA named ``name`` (a CA change needs a new name: OpenSSL picks the issuer by name)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = _builder(name, subject, key, True).sign(key, hashes.SHA256())
    return _write(directory, 'ca', cert, key)


def issue(ca: str, ca_key: str, directory: Path, name: str, usages: tuple = SERVER_USAGES) -> tuple[str, str]:
    """A certificate for 127.0.0.1 signed by the CA in ``ca`` / ``ca_key``."""
    ca_cert = x509.load_pem_x509_certificate(Path(ca).read_bytes())
    signer = serialization.load_pem_private_key(Path(ca_key).read_bytes(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (_builder('redis %s' % name, ca_cert.subject, key, False)
            .add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]),
                           critical=False)
            .sign(signer, hashes.SHA256()))
    return _write(directory, name, cert, key)


def reissue_server(files: TlsFiles, directory: Path) -> tuple[str, str]:
    """A new server certificate and key signed by ``files``' CA (its key is ca-key.pem beside it)."""
    return issue(files.ca, str(Path(files.ca).parent / 'ca-key.pem'), directory, 'server')


def new_ca_files(files: TlsFiles, directory: Path) -> TlsFiles:
    """A second CA, with a server and a client certificate of its own, in the shape of ``files``."""
    ca, ca_key = make_ca(directory, 'redisops test CA 2')
    server_cert, server_key = issue(ca, ca_key, directory, 'server')
    client_cert, client_key = issue(ca, ca_key, directory, 'client', (ExtendedKeyUsageOID.CLIENT_AUTH,))
    return dataclasses.replace(files, ca=ca, server_cert=server_cert, server_key=server_key,
                               client_cert=client_cert, client_key=client_key)


def presented_certificate(node: TlsNode, ca: str, cert: str, key: str) -> bytes:
    """The DER certificate the node presents to a new TLS connection made with ``cert``."""
    context = ssl.create_default_context(cafile=ca)
    context.check_hostname = False
    context.load_cert_chain(cert, key)
    with socket.create_connection((node.host, node.port), timeout=2) as raw:
        with context.wrap_socket(raw) as sock:
            sock.sendall(b'PING\r\n')
            assert sock.recv(64).startswith(b'+PONG'), 'the server refused the client certificate'
            return sock.getpeercert(binary_form=True)


def accepts_client(node: TlsNode, ca: str, cert: str, key: str) -> bool:
    try:
        presented_certificate(node, ca, cert, key)
        return True
    except (ssl.SSLError, ConnectionError, AssertionError):
        return False


def der(path: str) -> bytes:
    return ssl.PEM_cert_to_DER_cert(Path(path).read_text())


def replication_state(master: TlsNode, replica: TlsNode) -> tuple[int, str, str]:
    """The master's full-sync count, the replica's link status and its master's replication id."""
    master_client, replica_client = master.client(), replica.client()
    try:
        info = replica_client.info('replication')
        return int(master_client.info('stats')['sync_full']), info['master_link_status'], info['master_replid']
    finally:
        master_client.close()
        replica_client.close()


@pytest.fixture
def reload_tls(run_module):
    """redis_config reload_tls, as server.yml runs it after writing new TLS files under the same paths."""
    def reload(node: TlsNode, files: TlsFiles) -> None:
        args = dict(login_port=node.port, settings={'tls-cert-file': files.server_cert}, reload_tls=True,
                    **node.files.params())
        failed, result = run_module(redis_config.main, args)
        assert not failed and result['changed'] and result['tls_reloaded'], result
    return reload


def write_ca_file(files: TlsFiles, *cas: str) -> None:
    """The node's CA file becomes the concatenation of ``cas`` (a bundle of both during a CA change)."""
    text = ''.join(Path(path).read_text() for path in cas)
    Path(files.ca).write_text(text)


@pytest.fixture
def live_files(tmp_path: Path) -> TlsFiles:
    """TLS files the test overwrites (the session's are shared); the original CA kept as orig-ca.pem."""
    files = make_tls_files(tmp_path)
    shutil.copyfile(files.ca, tmp_path / 'orig-ca.pem')
    return files


@pytest.fixture
def pair(nodes: NodeFactory, live_files: TlsFiles) -> tuple[TlsNode, TlsNode]:
    master = tls_server(nodes, live_files)
    replica = tls_server(nodes, live_files, 'replicaof %s %d' % (master.host, master.port))
    wait_for(lambda: link_up(replica), 'the TLS replica link to come up')
    return master, replica


def test_a_new_certificate_from_the_same_ca_is_loaded_live_without_a_resync(pair, live_files, tmp_path, reload_tls):
    master, replica = pair
    before = replication_state(master, replica)
    files = live_files
    old = presented_certificate(master, files.ca, files.client_cert, files.client_key)
    cert, key = reissue_server(files, tmp_path / 'renewed')
    shutil.copyfile(cert, files.server_cert)
    shutil.copyfile(key, files.server_key)
    assert presented_certificate(master, files.ca, files.client_cert, files.client_key) == old, 'reloaded unasked'
    for node in (replica, master):
        reload_tls(node, files)
    assert presented_certificate(master, files.ca, files.client_cert, files.client_key) == der(cert) != old
    assert replication_state(master, replica) == before
    # The established link carries writes; a new link (the replica's certificate is new too) is accepted.
    client = master.client()
    try:
        client.set('after-reload', '1')
        assert client.execute_command('WAIT', 1, 2000) == 1
        client.execute_command('CLIENT', 'KILL', 'TYPE', 'replica')
    finally:
        client.close()
    wait_for(lambda: link_up(replica), 'the replica to link again with its new certificate')
    assert replication_state(master, replica)[0] == before[0], 'a reconnect after the reload needed a full sync'


def test_a_ca_change_trusts_both_cas_in_between(pair, live_files, tmp_path, reload_tls):
    master, replica = pair
    files, old_ca = live_files, str(tmp_path / 'orig-ca.pem')
    new = new_ca_files(files, tmp_path / 'new-ca')
    before = replication_state(master, replica)
    assert not accepts_client(master, old_ca, new.client_cert, new.client_key)

    # 1. Both CAs trusted everywhere: clients of either CA are accepted.
    write_ca_file(files, old_ca, new.ca)
    for node in (replica, master):
        reload_tls(node, files)
    assert accepts_client(master, old_ca, new.client_cert, new.client_key)
    assert accepts_client(master, old_ca, files.client_cert, files.client_key)

    # 2. Certificates of the new CA on every node (clients trust both CAs meanwhile).
    shutil.copyfile(new.server_cert, files.server_cert)
    shutil.copyfile(new.server_key, files.server_key)
    for node in (replica, master):
        reload_tls(node, files)
    assert presented_certificate(master, files.ca, new.client_cert, new.client_key) == der(new.server_cert)
    assert replication_state(master, replica) == before

    # 3. Only the new CA: a client of the old one is refused, the replica links again with the new one.
    write_ca_file(files, new.ca)
    for node in (replica, master):
        reload_tls(node, files)
    master.files = replica.files = new   # the tests' own client now needs a certificate of the new CA
    assert not accepts_client(master, files.ca, files.client_cert, files.client_key)
    assert accepts_client(master, files.ca, new.client_cert, new.client_key)
    assert replication_state(master, replica) == before
    client = master.client()
    try:
        client.execute_command('CLIENT', 'KILL', 'TYPE', 'replica')
    finally:
        client.close()
    wait_for(lambda: link_up(replica), 'the replica to link again under the new CA only')
    assert replication_state(master, replica)[0] == before[0], 'linking again needed a full sync'


def test_sentinel_reads_its_tls_files_only_at_start(nodes, live_files, tmp_path):
    master = tls_server(nodes, live_files)
    sentinel = tls_sentinel(nodes, live_files, master)
    files = live_files
    old = presented_certificate(sentinel, files.ca, files.client_cert, files.client_key)
    client = sentinel.client()
    try:
        with pytest.raises(redis.exceptions.ResponseError, match='(?i)unknown command'):
            client.execute_command('CONFIG', 'SET', 'tls-cert-file', files.server_cert)
    finally:
        client.close()
    cert, key = reissue_server(files, tmp_path / 'renewed')
    shutil.copyfile(cert, files.server_cert)
    shutil.copyfile(key, files.server_key)
    assert presented_certificate(sentinel, files.ca, files.client_cert, files.client_key) == old
    sentinel.stop()
    nodes.nodes.remove(sentinel)
    restarted = TlsNode(sentinel.proc.args, sentinel.workdir, sentinel.port, files)
    nodes.nodes.append(restarted)
    restarted.wait_ready()
    assert presented_certificate(restarted, files.ca, files.client_cert, files.client_key) == der(cert) != old
