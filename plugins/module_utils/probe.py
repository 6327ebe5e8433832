# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Diagnose why a peer cannot be used, from the host the module runs on.

Raw sockets are used instead of redis-py so that the errno of a failed connect
is exact. When the TCP connection works, a minimal RESP exchange (optional AUTH,
then PING) tells authentication and protected-mode problems apart.

Results: ok, refused, timeout, no_route, dns, noauth, wrongpass, protected_mode, error.
No returned text ever contains the password.
"""

from __future__ import annotations

import errno
import socket

from ansible_collections.redisops.sentinel.plugins.module_utils.address import format_address

MAX_REPLY = 4096
SHOWN_REPLY = 200
_NO_PASSWORD_SET = ('without any password configured', 'no password is set')
_NOTE_NO_PASSWORD = 'the peer has no password set although one was supplied'
_PORTS = '6379/tcp for Redis, 26379/tcp for Sentinel'

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
    'error': '{peer} gave an unexpected answer: {detail}',
}


def probe(host: str, port: int, password: str | None = None, user: str | None = None,
          timeout: float = 2.0) -> dict[str, str]:
    """Probe host:port; return peer, result, detail and a one-line hint."""
    peer = format_address(host, port)
    result, detail = _probe(host, port, password, user, timeout)
    hint = _HINTS[result].format(peer=peer, host=host, ports=_PORTS, detail=detail)
    if result == 'ok' and _NOTE_NO_PASSWORD in detail:
        hint = '%s Note: %s.' % (hint, _NOTE_NO_PASSWORD)
    return dict(peer=peer, result=result, detail=detail, hint=hint)


def _probe(host: str, port: int, password: str | None, user: str | None,
           timeout: float) -> tuple[str, str]:
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror as exc:
        return 'dns', 'name resolution failed: %s' % exc
    except socket.timeout:
        return 'timeout', 'no TCP answer within %ss' % timeout
    except OSError as exc:
        return classify_connect_error(exc)
    with sock:
        try:
            return _converse(sock, password, user)
        except socket.timeout:
            return 'error', 'TCP connect worked but no reply within %ss (not Redis, or a TLS port?)' % timeout
        except OSError as exc:
            return 'error', 'connection lost after connect: %s' % (exc.strerror or exc)


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


def classify_reply(line: str) -> tuple[str, str]:
    """Classify one RESP reply line to AUTH or PING."""
    if not line:
        return 'error', 'the peer closed the connection without a reply'
    shown = line if len(line) <= SHOWN_REPLY else line[:SHOWN_REPLY] + '...'
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
