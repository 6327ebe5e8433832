# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsing, formatting and comparing "host:port" peer addresses."""

from __future__ import annotations

import socket
from typing import NamedTuple


class Address(NamedTuple):
    host: str
    port: int

    def __str__(self) -> str:
        return format_address(self.host, self.port)


def format_address(host: str, port: int) -> str:
    if ':' in host:
        return '[%s]:%d' % (host, port)
    return '%s:%d' % (host, port)


def parse_address(text: str, default_port: int) -> Address:
    """Parse "host", "host:port", "[v6]" or "[v6]:port"; a bare IPv6 address has no port.

    Raises ValueError with a readable message.
    """
    text = text.strip()
    host, port_text = text, ''
    if text.startswith('['):
        host, sep, rest = text[1:].partition(']')
        if not sep or (rest and not rest.startswith(':')):
            raise ValueError('invalid address %r' % text)
        port_text = rest[1:]
    elif text.count(':') == 1:
        host, port_text = text.split(':')
    if not host:
        raise ValueError('invalid address %r: empty host' % text)
    if not port_text:
        return Address(host, default_port)
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError('invalid address %r: port must be between 1 and 65535' % text)
    return Address(host, int(port_text))


def parse_address_list(texts: list[str] | None, default_port: int, key: str,
                       errors: list[str]) -> list[Address]:
    """Parse option ``key``; each bad entry adds a sentence to ``errors``."""
    addresses = []
    for text in texts or []:
        try:
            addresses.append(parse_address(text, default_port))
        except ValueError as exc:
            errors.append('%s: %s' % (key, exc))
    return addresses


def host_aliases(host: str) -> frozenset[str]:
    """The host as written (lower case) plus the IP addresses it resolves to."""
    names = {host.lower()}
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return frozenset(names)
    names.update(info[4][0] for info in infos)
    return frozenset(names)


def is_local_address(host: str) -> bool:
    """True when the host resolves to an address of this machine (binding to it works)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return False
    for family, socktype, proto, _name, sockaddr in infos:
        with socket.socket(family, socktype, proto) as sock:
            try:
                sock.bind((sockaddr[0], 0) + tuple(sockaddr[2:]))
            except OSError:
                continue
            return True
    return False


class AddressMatcher:
    """Compare an expected address with the (usually numeric) one a server reports."""

    def __init__(self, expected: Address):
        self.expected = expected
        self.aliases = host_aliases(expected.host)
        self._resolved: dict[str, frozenset[str]] = {}

    def matches(self, host: str, port: int) -> bool:
        if port != self.expected.port:
            return False
        if host.lower() in self.aliases:
            return True
        if host not in self._resolved:
            self._resolved[host] = host_aliases(host)
        return bool(self._resolved[host] & self.aliases)
