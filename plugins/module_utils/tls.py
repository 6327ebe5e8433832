# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS settings shared by every connection of a module: redis-py clients and raw probes.

With O(tls) on, the certificate chain of every server is verified (against tls_ca_file, else
the system's trusted CAs); the host name only with tls_verify_hostname. The module's
parameters are checked here before any connection is made.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from typing import Any, Mapping

from ansible_collections.redisops.sentinel.plugins.module_utils.address import format_address

TLS_FILES = ('tls_ca_file', 'tls_cert_file', 'tls_key_file')
# OpenSSL verify codes of a certificate that does not name the host or IP address connected to.
HOSTNAME_MISMATCH_CODES = (62, 64)


class EncryptedKeyError(Exception):
    """tls_key_file needs a passphrase, which a module cannot ask for."""


def _refuse_passphrase() -> bytes:
    raise EncryptedKeyError('the private key is encrypted')


@dataclass(frozen=True)
class TlsSettings:
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    verify_hostname: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TlsSettings | None:
        """The settings of the module's parameters, None without tls."""
        if not params.get('tls'):
            return None
        return cls(params.get('tls_ca_file'), params.get('tls_cert_file'), params.get('tls_key_file'),
                   bool(params.get('tls_verify_hostname')))

    def redis_kwargs(self) -> dict[str, Any]:
        """Arguments of redis.Redis (redis-py 4.3 to 8.x)."""
        return dict(ssl=True, ssl_ca_certs=self.ca_file, ssl_certfile=self.cert_file, ssl_keyfile=self.key_file,
                    ssl_cert_reqs='required', ssl_check_hostname=self.verify_hostname)

    def context(self) -> ssl.SSLContext:
        """A client context built the way redis-py builds it from redis_kwargs()."""
        context = ssl.create_default_context()
        context.check_hostname = self.verify_hostname
        context.verify_mode = ssl.CERT_REQUIRED
        if self.cert_file:
            context.load_cert_chain(self.cert_file, self.key_file, password=_refuse_passphrase)
        if self.ca_file:
            context.load_verify_locations(cafile=self.ca_file)
        return context


def tls_param_errors(params: Mapping[str, Any]) -> list[str]:
    """Problems with the TLS options, as readable sentences."""
    given = [name for name in TLS_FILES if params.get(name)]
    if params.get('tls_verify_hostname'):
        given.append('tls_verify_hostname')
    if not params.get('tls'):
        return ['%s only apply with tls=true: set tls to true to connect with TLS, or remove them'
                % ', '.join(given)] if given else []
    errors = []
    if bool(params.get('tls_cert_file')) != bool(params.get('tls_key_file')):
        errors.append('tls_cert_file and tls_key_file must be given together (the client certificate and its '
                      'private key)')
    for name in TLS_FILES:
        path = params.get(name)
        if not path:
            continue
        if not os.path.isfile(path):
            errors.append('%s %s is not an existing file on the managed host' % (name, path))
        elif not os.access(path, os.R_OK):
            errors.append('%s %s is not readable by the user the module runs as' % (name, path))
    if errors:
        return errors
    return _load_errors(TlsSettings.from_params(params))


def _load_errors(settings: TlsSettings) -> list[str]:
    """Load the files as a TLS connection would, so that a bad file is named before connecting."""
    if settings.cert_file:
        context = ssl.create_default_context()
        try:
            context.load_cert_chain(settings.cert_file, settings.key_file, password=_refuse_passphrase)
        except EncryptedKeyError:
            return ['tls_key_file %s is encrypted: give an unencrypted private key (the module cannot ask for '
                    'its passphrase)' % settings.key_file]
        except ssl.SSLError as exc:
            return ['tls_cert_file %s and tls_key_file %s cannot be used as a client certificate: they must be '
                    'PEM files and the key must belong to the certificate (%s)'
                    % (settings.cert_file, settings.key_file, ssl_reason(exc))]
    if settings.ca_file:
        try:
            ssl.create_default_context().load_verify_locations(cafile=settings.ca_file)
        except ssl.SSLError as exc:
            return ['tls_ca_file %s holds no usable PEM CA certificate (%s)' % (settings.ca_file, ssl_reason(exc))]
    return []


def ssl_reason(exc: BaseException) -> str:
    """The short OpenSSL reason of an ssl error (e.g. TLSV1_ALERT_UNKNOWN_CA), else its text."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return 'certificate verify failed: %s' % exc.verify_message
    return getattr(exc, 'reason', None) or str(exc)


# Advice for TLS failures, used by the probes and by the modules' error messages.
TLS_HINTS = {
    'verify': ('The certificate of {peer} does not verify against tls_ca_file (or the system CAs without it): '
               'give in tls_ca_file the CA that signed the server certificates (their tls-ca-cert-file).'),
    'hostname': ('The certificate of {peer} does not name {host}: add it to the subject alternative names of '
                 'the server certificate, or set tls_verify_hostname to false (the chain is still verified).'),
    'client_cert': ('{peer} requires a client certificate (tls-auth-clients yes, the Redis default): set '
                    'tls_cert_file and tls_key_file to a certificate signed by a CA of its tls-ca-cert-file.'),
    'client_cert_rejected': ('{peer} rejected the client certificate: tls_cert_file must be signed by a CA of '
                             'its tls-ca-cert-file and be valid for client authentication.'),
    'plaintext': ('{peer} answers plain RESP, not TLS: it is a plaintext port; point the port at the tls-port of '
                  'the server, or set tls to false.'),
    'handshake': ('The TLS handshake with {peer} failed: check that this is the tls-port of a Redis server '
                  'with TLS and that both sides share a TLS version (tls-protocols).'),
    'local': 'The TLS files cannot be loaded on this host: check tls_ca_file, tls_cert_file and tls_key_file.',
    'plain_on_tls': ('{peer} speaks TLS on this port (a tls-port) and drops plaintext clients: set tls to true, '
                     'with tls_ca_file, and tls_cert_file and tls_key_file when it requires client '
                     'certificates.'),
}

# OpenSSL alerts a server sends for a missing client certificate (TLS 1.3, then TLS 1.2).
_NO_CLIENT_CERT_ALERTS = ('CERTIFICATE_REQUIRED', 'HANDSHAKE_FAILURE')
# Alerts of a server that refuses the client certificate presented.
_CLIENT_CERT_ALERTS = ('UNKNOWN_CA', 'CERTIFICATE', 'DECRYPT_ERROR', 'ACCESS_DENIED')
# What OpenSSL reports when the peer answers a ClientHello with something else than TLS.
_NOT_TLS_REASONS = ('WRONG_VERSION_NUMBER', 'RECORD_LAYER_FAILURE', 'PACKET_LENGTH_TOO_LONG')
_EOF_WORDS = ('eof occurred', 'unexpected_eof', 'connection reset', 'broken pipe', 'closed by server')


def tls_cause(text: str, settings: TlsSettings) -> str | None:
    """The TLS_HINTS key for an error text of a TLS connection, None when it is not about TLS."""
    upper = text.upper()
    if 'CERTIFICATE_VERIFY_FAILED' in upper or 'CERTIFICATE VERIFY FAILED' in upper:
        return 'hostname' if 'MISMATCH' in upper else 'verify'
    if 'ALERT' in upper:
        if not settings.cert_file and any(alert in upper for alert in _NO_CLIENT_CERT_ALERTS):
            return 'client_cert'
        if settings.cert_file and any(alert in upper for alert in _CLIENT_CERT_ALERTS):
            return 'client_cert_rejected'
        return 'handshake'
    if any(reason in upper for reason in _NOT_TLS_REASONS):
        return 'plaintext'
    if any(word in text.lower() for word in _EOF_WORDS):
        # Under TLS 1.3 a server closes the session after the handshake when the client has no certificate.
        return 'handshake' if settings.cert_file else 'client_cert'
    return 'handshake' if 'SSL' in upper else None


def tls_hint(exc: BaseException, params: Mapping[str, Any]) -> str | None:
    """Advice for an error of a redis-py client of login_host:login_port, None when it is not about TLS."""
    settings = TlsSettings.from_params(params)
    if settings is None:
        return None
    cause = tls_cause(str(exc), settings)
    if cause is None:
        return None
    host = params['login_host']
    return TLS_HINTS[cause].format(peer=format_address(host, params['login_port']), host=host)
