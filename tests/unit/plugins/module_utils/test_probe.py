# -*- coding: utf-8 -*-
from __future__ import annotations

import errno
import json
import socket

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils import probe as probe_mod
from ansible_collections.redisops.sentinel.plugins.module_utils.probe import classify_reply, encode_command, probe

from conftest import PASSWORD, wait_for


def non_loopback_address() -> str | None:
    """An IPv4 address of this host that is not loopback (source of the default route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(('203.0.113.1', 9))  # UDP connect sends nothing
        except OSError:
            return None
        address = sock.getsockname()[0]
    return None if address.startswith('127.') else address


def assert_result(result: dict, expected: str, peer: str) -> None:
    assert result['result'] == expected, result
    assert result['peer'] == peer
    assert result['hint'] and '\n' not in result['hint']


def test_refused_on_closed_port(closed_port):
    result = probe('127.0.0.1', closed_port, timeout=1)
    assert_result(result, 'refused', '127.0.0.1:%d' % closed_port)
    assert 'bind' in result['hint']


def test_ok_on_running_server(cluster):
    assert_result(probe('127.0.0.1', cluster.master.port), 'ok', cluster.master.address)


def test_ok_on_sentinel(cluster):
    assert_result(probe('127.0.0.1', cluster.sentinels[0].port), 'ok', cluster.sentinels[0].address)


def test_noauth_without_password(password_pair):
    result = probe('127.0.0.1', password_pair.master.port)
    assert_result(result, 'noauth', password_pair.master.address)
    assert 'redis_password' in result['hint']


def test_wrongpass_never_shows_the_password(password_pair):
    wrong = "n0t it's $ #"
    result = probe('127.0.0.1', password_pair.master.port, password=wrong)
    assert_result(result, 'wrongpass', password_pair.master.address)
    assert wrong not in json.dumps(result) and PASSWORD not in json.dumps(result)


def test_wrongpass_for_unknown_acl_user(password_pair):
    result = probe('127.0.0.1', password_pair.master.port, password=PASSWORD, user='nobody')
    assert result['result'] == 'wrongpass'


def test_ok_with_password_holding_quote_space_dollar_hash(password_pair):
    result = probe('127.0.0.1', password_pair.master.port, password=PASSWORD)
    assert_result(result, 'ok', password_pair.master.address)
    assert PASSWORD not in json.dumps(result)


def test_ok_with_default_user_name(password_pair):
    result = probe('127.0.0.1', password_pair.master.port, password=PASSWORD, user='default')
    assert result['result'] == 'ok'


def test_password_given_to_server_without_password(cluster):
    result = probe('127.0.0.1', cluster.master.port, password='unneeded')
    assert result['result'] == 'ok'
    assert 'no password set' in result['hint']


def test_protected_mode_for_real(nodes):
    address = non_loopback_address()
    if address is None:
        pytest.skip('this host has no non-loopback IPv4 address')
    # Protected mode only rejects clients that do not come from loopback: bind a
    # non-loopback address of this host and connect to it.
    server = nodes.server('protected-mode yes', host=address, wait=False)
    node_peer = '%s:%d' % (address, server.port)
    wait_for(lambda: probe(address, server.port)['result'] != 'refused', 'the protected server to listen')
    result = probe(address, server.port)
    assert_result(result, 'protected_mode', node_peer)
    assert 'protected-mode' in result['hint']
    assert len(result['detail']) <= probe_mod.SHOWN_REPLY + 3


def test_dns_failure():
    result = probe('no-such-host.invalid', 6379, timeout=1)
    assert_result(result, 'dns', 'no-such-host.invalid:6379')
    assert 'does not resolve' in result['hint']


def test_timeout_when_packets_are_dropped(monkeypatch):
    def dropped(address, timeout):
        raise socket.timeout('timed out')

    monkeypatch.setattr(probe_mod.socket, 'create_connection', dropped)
    result = probe('10.0.0.11', 26379, timeout=0.5)
    assert_result(result, 'timeout', '10.0.0.11:26379')
    assert 'firewall' in result['hint'] and '26379/tcp' in result['hint']


@pytest.mark.parametrize('code', [errno.EHOSTUNREACH, errno.ENETUNREACH])
def test_no_route_when_rejected(monkeypatch, code):
    def rejected(address, timeout):
        raise OSError(code, 'No route to host')

    monkeypatch.setattr(probe_mod.socket, 'create_connection', rejected)
    result = probe('10.0.0.11', 6379)
    assert_result(result, 'no_route', '10.0.0.11:6379')
    assert 'icmp-host-prohibited' in result['hint'] and '6379/tcp' in result['hint']


def test_ipv6_peer_is_bracketed(closed_port):
    result = probe('::1', closed_port, timeout=1)
    assert result['peer'] == '[::1]:%d' % closed_port
    assert result['result'] in ('refused', 'error')


@pytest.mark.parametrize('line, expected', [
    ('+PONG', 'ok'),
    ('-NOAUTH Authentication required.', 'noauth'),
    ('-WRONGPASS invalid username-password pair or user is disabled.', 'wrongpass'),
    ('-ERR invalid password', 'wrongpass'),
    ('-DENIED Redis is running in protected mode because protected mode is enabled', 'protected_mode'),
    ('-LOADING Redis is loading the dataset in memory', 'error'),
    ('', 'error'),
    ('HTTP/1.1 400 Bad Request', 'error'),
])
def test_classify_reply(line, expected):
    result, detail = classify_reply(line)
    assert result == expected
    assert detail


def test_unexpected_reply_is_shown():
    assert 'LOADING' in classify_reply('-LOADING Redis is loading')[1]


def test_encode_command_is_binary_safe():
    assert encode_command('AUTH', "a b'$#") == b"*2\r\n$4\r\nAUTH\r\n$6\r\na b'$#\r\n"
