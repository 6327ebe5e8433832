# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared input rules, and the reason for the ACL user name rule proven on a real redis-server."""

from __future__ import annotations

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils.validate import (
    acl_refused_rule, acl_user_name_error, is_instance_name, is_ip_address, is_ip_network, is_master_name, is_port, survives_unquoted)

from conftest import NodeFactory, RedisNode, free_port, wait_for


@pytest.mark.parametrize('name, valid', [
    ('app', True), ('app:reader', True), ('a.b_c-d@x', True), ('b\\x41', True),
    ('', False), ('a b', False), ('a\tb', False), ('a"b', False), ("o'brien", False), ('a\x01b', False),
])
def test_acl_user_names(name, valid):
    assert (acl_user_name_error(name) is None) is valid


@pytest.mark.parametrize('words, refused', [
    (['~*', '+@all'], None),
    (['~*', 'ON'], ('state', 'ON')),
    (['(~x', 'reset'], ('state', 'reset')),
    (['NoPass'], ('password_word', 'NoPass')),
    (['(>Secret-1', '+get)'], ('password', '')),
    (['#' + '0' * 64], ('password', '')),
])
def test_acl_refused_rule_never_returns_a_password(words, refused):
    assert acl_refused_rule(words) == refused


def test_scalar_rules():
    assert is_port(1) and is_port(65535) and not is_port(0) and not is_port(65536)
    assert is_master_name('my-master.1_a') and not is_master_name('my master') and not is_master_name('')
    assert is_instance_name('6380') and not is_instance_name('-a') and not is_instance_name('sentinel')
    assert not is_instance_name('a/b')
    assert is_ip_address('10.0.0.1') and is_ip_address('fd00::1') and not is_ip_address('nat.example')
    assert not is_ip_address('10.0.0')
    assert all(map(is_ip_network, ['10.0.0.1', '10.0.0.1/8', 'fd00::/64', '10.0.0.0/255.0.0.0']))
    assert not any(map(is_ip_network, ['1.2.3', '10.0.0.0/33', 'prometheus', '', ' 10.0.0.1']))
    assert survives_unquoted('$ecret#1!') and not survives_unquoted('two words') and not survives_unquoted('it"s')


@pytest.mark.parametrize('name, parses', [('app:reader', True), ('o"brien', False)])
def test_a_user_name_with_a_quote_breaks_the_rewritten_config(nodes: NodeFactory, name, parses):
    """CONFIG REWRITE writes "user NAME ..." unquoted: the name rule is what keeps the file parsable."""
    server = nodes.server()
    client = server.client()
    client.execute_command('ACL', 'SETUSER', name, 'on', 'nopass', '~*', '+@all')
    client.execute_command('CONFIG', 'REWRITE')
    client.close()
    server.stop()
    port = free_port()
    argv = [server.proc.args[0], str(server.workdir / 'redis.conf'), '--port', str(port)]
    restarted = RedisNode(argv, server.workdir, port)
    nodes.nodes.append(restarted)
    wait_for(lambda: _answers_or_exited(restarted), 'the restarted server to answer or exit')
    log = (server.workdir / 'log').read_text()
    assert ('FATAL CONFIG FILE ERROR' in log) is not parses
    assert (acl_user_name_error(name) is None) is parses


def _answers_or_exited(node: RedisNode) -> bool:
    try:
        return node.answers()
    except RuntimeError:  # it exited
        return True
