# -*- coding: utf-8 -*-
"""TLS options, their validation, redis-py clients and probes against real TLS-only redis-server."""
from __future__ import annotations

import pytest
import redis

from ansible_collections.redisops.sentinel.plugins.module_utils.client import connect, connection_argument_spec
from ansible_collections.redisops.sentinel.plugins.module_utils.probe import probe
from ansible_collections.redisops.sentinel.plugins.module_utils.tls import (
    TlsSettings, tls_cause, tls_hint, tls_param_errors)

from conftest import TlsNode, tls_server

FAST = 0.5


def params(port: int, **tls) -> dict:
    spec = connection_argument_spec(6379)
    values = {name: rules.get('default') for name, rules in spec.items()}
    return dict(values, login_port=port, connect_timeout=FAST, **tls)


def probe_with(node, **tls) -> dict:
    return probe(node.host, node.port, timeout=FAST, tls=TlsSettings.from_params(dict(tls, tls=True)))


# Options and validation, without a server.

def test_plain_by_default():
    assert TlsSettings.from_params(params(6379)) is None
    assert TlsSettings.from_params(dict(login_host='h')) is None
    assert tls_param_errors(params(6379)) == []


def test_redis_kwargs(tls_files):
    settings = TlsSettings.from_params(params(1, **tls_files.params()))
    assert settings.redis_kwargs() == dict(
        ssl=True, ssl_ca_certs=tls_files.ca, ssl_certfile=tls_files.client_cert, ssl_keyfile=tls_files.client_key,
        ssl_cert_reqs='required', ssl_check_hostname=False)
    assert TlsSettings.from_params(dict(tls=True, tls_verify_hostname=True)).redis_kwargs()['ssl_check_hostname']
    assert tls_param_errors(params(1, **tls_files.params())) == []


def test_connect_passes_the_tls_settings(tls_files):
    client = connect(params(1, **tls_files.params(), tls_verify_hostname=True))
    kwargs = client.connection_pool.connection_kwargs
    client.close()
    assert kwargs['ssl_ca_certs'] == tls_files.ca and kwargs['ssl_certfile'] == tls_files.client_cert
    assert kwargs['ssl_keyfile'] == tls_files.client_key and kwargs['ssl_cert_reqs'] == 'required'
    assert kwargs['ssl_check_hostname'] is True
    assert client.connection_pool.connection_class is redis.SSLConnection


@pytest.mark.parametrize('options, message', [
    (dict(tls_ca_file='/x'), 'tls_ca_file only apply with tls=true'),
    (dict(tls_verify_hostname=True), 'tls_verify_hostname only apply with tls=true'),
    (dict(tls=True, tls_cert_file='{client_cert}'), 'tls_cert_file and tls_key_file must be given together'),
    (dict(tls=True, tls_key_file='{client_key}'), 'tls_cert_file and tls_key_file must be given together'),
    (dict(tls=True, tls_ca_file='/nonexistent/ca.pem'), 'tls_ca_file /nonexistent/ca.pem is not an existing file'),
    (dict(tls=True, tls_cert_file='{client_cert}', tls_key_file='{server_key}'),
     'cannot be used as a client certificate'),
    (dict(tls=True, tls_ca_file='{client_key}'), 'holds no usable PEM CA certificate'),
])
def test_bad_options(tls_files, options, message):
    options = {name: value.format(**vars(tls_files)) if isinstance(value, str) else value
               for name, value in options.items()}
    errors = tls_param_errors(params(1, **options))
    assert len(errors) == 1 and message in errors[0], errors


def test_encrypted_key_is_refused(tls_files, tmp_path):
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key(open(tls_files.client_key, 'rb').read(), None)
    encrypted = tmp_path / 'encrypted.pem'
    encrypted.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.BestAvailableEncryption(b'secret')))
    errors = tls_param_errors(params(1, tls=True, tls_cert_file=tls_files.client_cert,
                                     tls_key_file=str(encrypted)))
    assert errors == ['tls_key_file %s is encrypted: give an unencrypted private key (the module cannot ask for '
                      'its passphrase)' % encrypted]


@pytest.mark.parametrize('text, cert, cause', [
    ('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate', False, 'verify'),
    ("certificate verify failed: Hostname mismatch, certificate is not valid for 'x'", False, 'hostname'),
    ('(1, "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required")', False, 'client_cert'),
    ('[SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert handshake failure', False, 'client_cert'),
    ('[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca', True, 'client_cert_rejected'),
    ('[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version', True, 'handshake'),
    ('Error 8 while writing to socket. EOF occurred in violation of protocol', False, 'client_cert'),
    ('[SSL: WRONG_VERSION_NUMBER] wrong version number', True, 'plaintext'),
    ('_ssl.c:989: The handshake operation timed out', True, 'handshake'),
    ('Error 111 connecting to 127.0.0.1:6379. Connection refused.', True, None),
])
def test_tls_cause(text, cert, cause):
    settings = TlsSettings(ca_file='ca.pem', cert_file='c.pem' if cert else None, key_file='k.pem' if cert else None)
    assert tls_cause(text, settings) == cause


def test_tls_hint_only_with_tls():
    error = ConnectionError('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')
    assert tls_hint(error, dict(login_host='10.0.0.1', login_port=6380)) is None
    hint = tls_hint(error, dict(login_host='10.0.0.1', login_port=6380, tls=True))
    assert hint.startswith('The certificate of 10.0.0.1:6380 does not verify against tls_ca_file')


# Probes and clients against TLS-only servers (tls-auth-clients yes).

def test_probe_ok_over_tls(tls_cluster, tls_files):
    for node in (tls_cluster.master, tls_cluster.replica, tls_cluster.sentinels[0]):
        result = probe_with(node, **tls_files.params())
        assert result['result'] == 'ok' and result['detail'].startswith('PONG over TLSv1.'), result


def test_probe_without_client_certificate(tls_cluster, tls_files):
    result = probe_with(tls_cluster.master, **tls_files.params(client_cert=False))
    assert result['result'] == 'tls_error', result
    assert 'CERTIFICATE_REQUIRED' in result['detail']
    assert result['hint'].startswith('%s requires a client certificate' % tls_cluster.master.address)
    assert 'tls_cert_file and tls_key_file' in result['hint']


def test_probe_with_a_client_certificate_of_another_ca(tls_cluster, tls_files):
    result = probe_with(tls_cluster.master, tls_ca_file=tls_files.ca, tls_cert_file=tls_files.other_client_cert,
                        tls_key_file=tls_files.other_client_key)
    assert result['result'] == 'tls_error' and 'UNKNOWN_CA' in result['detail'], result
    assert 'rejected the client certificate' in result['hint']


def test_probe_with_the_wrong_ca(tls_cluster, tls_files):
    result = probe_with(tls_cluster.master, **dict(tls_files.params(), tls_ca_file=tls_files.other_ca))
    assert result['result'] == 'tls_error', result
    assert result['detail'] == 'TLS handshake failed: certificate verify failed: self-signed certificate in ' \
        'certificate chain'
    assert 'does not verify against tls_ca_file' in result['hint']


def test_probe_tls_client_on_a_plaintext_port(cluster, tls_files):
    result = probe_with(cluster.master, **tls_files.params())
    assert result['result'] == 'tls_error', result
    assert 'the port answers plaintext RESP: +PONG' in result['detail']
    assert result['hint'] == ('%s answers plain RESP, not TLS: it is a plaintext port; point the port at the '
                              'tls-port of the server, or set tls to false.' % cluster.master.address)


def test_probe_plain_client_on_a_tls_port(tls_cluster):
    result = probe(tls_cluster.master.host, tls_cluster.master.port, timeout=FAST)
    # Plain probes keep their results; the detail and hint tell that the port speaks TLS.
    assert result['result'] == 'error', result
    assert 'the port speaks TLS (TLSv1.' in result['detail']
    assert result['hint'].startswith('%s speaks TLS on this port (a tls-port)' % tls_cluster.master.address)
    assert 'set tls to true' in result['hint']


def test_probe_with_unloadable_files(tls_cluster, tls_files):
    result = probe_with(tls_cluster.master, tls_ca_file=tls_files.client_key)
    assert result['result'] == 'tls_error' and result['detail'].startswith('cannot load the TLS files')
    assert 'tls_ca_file, tls_cert_file and tls_key_file' in result['hint']


def test_host_name_verification(nodes, tls_files):
    """A certificate that names redis.example only: the chain verifies, the IP address does not match."""
    server = tls_server(nodes, tls_files, 'tls-cert-file %s' % tls_files.named_server_cert,
                        'tls-key-file %s' % tls_files.named_server_key)
    assert isinstance(server, TlsNode)
    assert probe_with(server, **tls_files.params())['result'] == 'ok'
    result = probe_with(server, **tls_files.params(), tls_verify_hostname=True)
    assert result['result'] == 'tls_error' and "not valid for '127.0.0.1'" in result['detail'], result
    assert result['hint'].startswith('The certificate of %s does not name 127.0.0.1' % server.address)

    assert connect(params(server.port, **tls_files.params())).ping() is True
    client = connect(params(server.port, **tls_files.params(), tls_verify_hostname=True))
    with pytest.raises(redis.ConnectionError, match='CERTIFICATE_VERIFY_FAILED'):
        client.ping()
