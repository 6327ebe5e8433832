# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Diagnose why a peer cannot be used, from the host the module runs on.

Raw sockets are used instead of redis-py so that the errno of a failed connect
is exact. When the TCP connection works, a minimal RESP exchange (optional AUTH,
then PING) tells authentication and protected-mode problems apart. With TLS
settings, the TLS handshake comes first and the exchange runs inside the session;
a failed handshake, or a session the server ends at once (a client certificate
it requires), is a tls_error whose hint names the cause.

Results: ok, refused, timeout, no_route, dns, noauth, wrongpass, protected_mode,
tls_error, error.
No returned text ever contains the password.
"""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Optional, Tuple

from ansible_collections.redisops.sentinel.plugins.module_utils.address import format_address
from ansible_collections.redisops.sentinel.plugins.module_utils.tls import (
    HOSTNAME_MISMATCH_CODES, TLS_HINTS, EncryptedKeyError, TlsSettings, ssl_reason, tls_cause)

MAX_REPLY = 4096
SHOWN_REPLY = 200
_NO_PASSWORD_SET = ('without any password configured', 'no password is set')
_NOTE_NO_PASSWORD = 'the peer has no password set although one was supplied'
_PORTS = '6379/tcp for Redis, 26379/tcp for Sentinel'
_CLOSED = 'the peer closed the connection without a reply'

_HINTS = {
    'ok': '{peer} answers PING from this host: network, firewall and credentials are fine.',
    'refused': ('Nothing listens on {peer} (connection refused): check that the service runs on '
                'the peer and that its bind includes this address.'),
    'timeout': ('No answer from {peer}: packets are dropped, typically by a firewall on the peer '
                '(firewalld drop; open {ports}) or the address is wrong.'),
    'no_route': ('No route to {peer}: typical of a firewalld REJECT with icmp-host-prohibited on the '
                 'peer (open {ports}), or there is no network route to it.'),
    'dns': '{host} does not resolve from this host: fix DNS or /etc/hosts, or use an IP address.',
    'noauth': ('{peer} requires a password (NOAUTH): set redis_password so that it matches '
               'the requirepass of the peer.'),
    'wrongpass': ('{peer} rejected the password (WRONGPASS): the credentials differ between this '
                  'host and the peer; check redis_password and the ACL user.'),
    'protected_mode': ('{peer} runs protected-mode yes without a password and only accepts loopback '
                       'clients: set a password, or protected-mode no with a narrow bind.'),
    'tls_error': 'The TLS connection to {peer} failed: {detail}',
    'error': '{peer} gave an unexpected answer: {detail}',
}


def probe(host: str, port: int, password: str | None = None, user: str | None = None,
          timeout: float = 2.0, tls: TlsSettings | None = None) -> dict[str, str]:
    """Probe host:port (over TLS with ``tls``); return peer, result, detail and a one-line hint."""
    peer = format_address(host, port)
    result, detail, cause = _probe(host, port, password, user, timeout, tls)
    template = TLS_HINTS[cause] if cause else _HINTS[result]
    hint = template.format(peer=peer, host=host, ports=_PORTS, detail=detail)
    if result == 'ok' and _NOTE_NO_PASSWORD in detail:
        hint = '%s Note: %s.' % (hint, _NOTE_NO_PASSWORD)
    return dict(peer=peer, result=result, detail=detail, hint=hint)


# (result, detail, key of TLS_HINTS or None for the hint of the result)
Outcome = Tuple[str, str, Optional[str]]


def _probe(host: str, port: int, password: str | None, user: str | None,
           timeout: float, tls: TlsSettings | None) -> Outcome:
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror as exc:
        return 'dns', 'name resolution failed: %s' % exc, None
    except socket.timeout:
        return 'timeout', 'no TCP answer within %ss' % timeout, None
    except OSError as exc:
        return classify_connect_error(exc) + (None,)
    with sock:
        if tls is not None:
            return _probe_tls(sock, host, port, password, user, timeout, tls)
        try:
            result, detail = _converse(sock, password, user)
        except socket.timeout:
            return 'error', 'TCP connect worked but no reply within %ss (not Redis, or a TLS port?)' % timeout, None
        except OSError as exc:
            result, detail = 'error', 'connection lost after connect: %s' % (exc.strerror or exc)
        if result == 'error' and (detail == _CLOSED or detail.startswith('connection lost')):
            # A tls-port drops a plaintext client without a reply: tell it apart with a handshake.
            version = _speaks_tls(host, port, timeout)
            if version:
                return result, '%s; the port speaks TLS (%s)' % (detail, version), 'plain_on_tls'
        return result, detail, None


def _probe_tls(sock: socket.socket, host: str, port: int, password: str | None, user: str | None,
               timeout: float, tls: TlsSettings) -> Outcome:
    """TLS handshake (certificate chain always verified), then the RESP exchange inside the session."""
    try:
        context = tls.context()
    except (ssl.SSLError, OSError, EncryptedKeyError) as exc:
        return 'tls_error', 'cannot load the TLS files: %s' % ssl_reason(exc), 'local'
    try:
        conn = context.wrap_socket(sock, server_hostname=host)
    except ssl.SSLCertVerificationError as exc:
        cause = 'hostname' if exc.verify_code in HOSTNAME_MISMATCH_CODES else 'verify'
        return 'tls_error', 'TLS handshake failed: %s' % ssl_reason(exc), cause
    except OSError as exc:  # ssl.SSLError, socket.timeout, reset ...
        if isinstance(exc, socket.timeout):
            reason = 'no TLS handshake answer within %ss' % timeout
        else:
            reason = ssl_reason(exc) if isinstance(exc, ssl.SSLError) else (exc.strerror or str(exc))
        if 'ALERT' not in reason:
            plain = _plain_reply(host, port, timeout)
            if plain:
                return 'tls_error', 'TLS handshake failed (%s) but the port answers plaintext RESP: %s' % (
                    reason, plain), 'plaintext'
        return 'tls_error', 'TLS handshake failed: %s' % reason, tls_cause(reason, tls) or 'handshake'
    with conn:
        try:
            result, detail = _converse(conn, password, user)
        except socket.timeout:
            return 'error', 'TLS handshake worked but no reply within %ss' % timeout, None
        except OSError as exc:
            reason = ssl_reason(exc) if isinstance(exc, ssl.SSLError) else (exc.strerror or str(exc))
        else:
            if result == 'ok':
                detail = detail.replace('PONG', 'PONG over %s' % conn.version(), 1)
            if detail != _CLOSED:
                return result, detail, None
            reason = 'closed without a reply'
    # Under TLS 1.3 the server checks the client certificate after the client's handshake ended, then
    # sends an alert and closes; writing first may meet the closed socket before the alert is read.
    if 'ALERT' not in reason:
        reason = _alert_after_handshake(host, port, timeout, context) or reason
    return ('tls_error', 'TLS session closed after the handshake: %s' % reason,
            tls_cause(reason, tls) or ('handshake' if tls.cert_file else 'client_cert'))


def _alert_after_handshake(host: str, port: int, timeout: float, context: ssl.SSLContext) -> str | None:
    """The alert the peer sends right after a new handshake, without a request being written."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host) as conn:
                conn.recv(1)
    except ssl.SSLError as exc:
        reason = exc.reason or ''
        return reason if 'ALERT' in reason else None
    except OSError:
        return None
    return None


def _speaks_tls(host: str, port: int, timeout: float) -> str | None:
    """The TLS version (or the alert) the peer answers a handshake with, None when it does not speak TLS."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw) as conn:
                return conn.version()
    except ssl.SSLError as exc:
        # An alert (for example a client certificate required under TLS 1.2) is TLS too.
        reason = exc.reason or ''
        return 'TLS alert %s' % reason if 'ALERT' in reason else None
    except OSError:
        return None


def _plain_reply(host: str, port: int, timeout: float) -> str | None:
    """The RESP reply line to a plaintext PING, None when there is none."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(encode_command('PING'))
            line = read_line(sock)
    except OSError:
        return None
    return shorten(line) if line[:1] in ('+', '-') else None


def classify_connect_error(exc: OSError) -> tuple[str, str]:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ECONNREFUSED:
        return 'refused', reason
    if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return 'no_route', reason
    if exc.errno == errno.ETIMEDOUT:
        return 'timeout', reason
    return 'error', 'connect failed: %s' % reason


def _converse(sock: socket.socket, password: str | None, user: str | None) -> tuple[str, str]:
    note = ''
    if password is not None:
        args = ('AUTH', user, password) if user else ('AUTH', password)
        sock.sendall(encode_command(*args))
        reply = read_line(sock)
        if any(text in reply.lower() for text in _NO_PASSWORD_SET):
            note = '; note: %s' % _NOTE_NO_PASSWORD
        elif not reply.startswith('+'):
            return classify_reply(reply)
    sock.sendall(encode_command('PING'))
    result, detail = classify_reply(read_line(sock))
    return result, detail + note


def encode_command(*args: str) -> bytes:
    """A RESP array of bulk strings."""
    parts = [b'*%d\r\n' % len(args)]
    for arg in args:
        data = arg.encode('utf-8')
        parts.append(b'$%d\r\n%s\r\n' % (len(data), data))
    return b''.join(parts)


def read_line(sock: socket.socket) -> str:
    """The first reply line (without CRLF), '' when the peer closed without answering."""
    data = b''
    while b'\r\n' not in data and len(data) < MAX_REPLY:
        chunk = sock.recv(1024)
        if not chunk:
            break
        data += chunk
    return data.split(b'\r\n', 1)[0].decode('utf-8', errors='replace')


def shorten(line: str) -> str:
    return line if len(line) <= SHOWN_REPLY else line[:SHOWN_REPLY] + '...'


def classify_reply(line: str) -> tuple[str, str]:
    """Classify one RESP reply line to AUTH or PING."""
    if not line:
        return 'error', _CLOSED
    shown = shorten(line)
    upper = line.upper()
    if upper.startswith('+PONG'):
        return 'ok', 'PONG'
    if upper.startswith('-NOAUTH'):
        return 'noauth', shown
    if upper.startswith('-WRONGPASS') or 'INVALID PASSWORD' in upper:
        return 'wrongpass', shown
    if upper.startswith('-DENIED') or 'PROTECTED MODE' in upper:
        return 'protected_mode', shown
    return 'error', 'reply %r' % shown
