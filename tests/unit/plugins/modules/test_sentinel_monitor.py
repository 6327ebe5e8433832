# -*- coding: utf-8 -*-
from __future__ import annotations

import json

import pytest

from ansible.module_utils import basic
from ansible_collections.redisops.sentinel.plugins.module_utils.sentinel import sentinel_master
from ansible_collections.redisops.sentinel.plugins.modules import sentinel_monitor
from ansible_collections.redisops.sentinel.plugins.module_utils.sentinel_monitor import (
    MASK, read_config_file, split_config_line)

from conftest import (
    MASTER_NAME, PASSWORD, REDIS_SENTINEL, NodeFactory, RedisNode, config_quote, free_port, sentinel_sees, wait_for)
from test_missing_library import run_script

# Punctuation but no blank or quote: Sentinel can write it unquoted and read it back.
DATA_PASSWORD = 'data$ecret#1!'
NEW_DATA_PASSWORD = 'n3w;data%pass'


def empty_sentinel(nodes: NodeFactory, *config: str, password: str | None = None) -> RedisNode:
    """A Sentinel that monitors nothing, with requirepass ``password`` when set."""
    port = free_port()
    workdir = nodes.base / ('empty-sentinel-%d' % len(nodes.nodes))
    workdir.mkdir()
    lines = ['port %d' % port, 'bind 127.0.0.1', 'daemonize no', 'protected-mode no', 'dir %s' % workdir]
    lines += list(config)
    if password is not None:
        lines.append('requirepass %s' % config_quote(password))
    conf = workdir / 'sentinel.conf'
    conf.write_text(''.join(line + '\n' for line in lines))
    node = RedisNode([REDIS_SENTINEL, str(conf)], workdir, port, password=password)
    nodes.nodes.append(node)
    return node.wait_ready()


@pytest.fixture
def group(nodes) -> tuple[RedisNode, RedisNode]:
    """A master and a Sentinel monitoring it (quorum 1, down-after 1000, failover-timeout 60000)."""
    master = nodes.server()
    return master, nodes.sentinel(master, 'sentinel deny-scripts-reconfig yes', quorum=1)


def run(run_module, sentinel: RedisNode, check_mode: bool = False, **args):
    args.setdefault('login_port', sentinel.port)
    args.setdefault('name', MASTER_NAME)
    return run_module(sentinel_monitor.main, args, check_mode=check_mode)


def monitored(sentinel: RedisNode, name: str = MASTER_NAME) -> dict | None:
    client = sentinel.client()
    try:
        return sentinel_master(client, name)
    finally:
        client.close()


def run_id(node: RedisNode) -> str:
    client = node.client()
    try:
        return client.info('server')['run_id']
    finally:
        client.close()


def config_text(sentinel: RedisNode) -> str:
    return (sentinel.workdir / 'sentinel.conf').read_text()


def create_args(master: RedisNode, **args) -> dict:
    created = dict(master_host=master.host, master_port=master.port, quorum=2)
    created.update(args)
    return created


def test_creates_the_group_then_changes_nothing(run_module, nodes):
    master = nodes.server()
    sentinel = empty_sentinel(nodes, 'sentinel deny-scripts-reconfig yes')
    args = create_args(master, down_after_milliseconds=5000, parallel_syncs=2, failover_timeout=60000)
    failed, result = run(run_module, sentinel, **args)
    assert not failed, result['msg']
    assert result['changed'] and result['created'] and not result['removed'] and not result['reset']
    assert result['changed_options'] == ['quorum', 'down_after_milliseconds', 'parallel_syncs', 'failover_timeout']
    assert result['master'] == master.address
    wanted = dict(quorum=2, down_after_milliseconds=5000, parallel_syncs=2, failover_timeout=60000)
    assert result['diff'] == dict(before=dict(state='absent'),
                                  after=dict(state='present', master=master.address, **wanted))
    info = monitored(sentinel)
    assert (info['ip'], info['port'], info['quorum'], info['down-after-milliseconds'], info['parallel-syncs'],
            info['failover-timeout']) == ('127.0.0.1', master.port, 2, 5000, 2, 60000)
    # Sentinel persisted the group itself.
    assert 'sentinel monitor %s 127.0.0.1 %d 2\n' % (MASTER_NAME, master.port) in config_text(sentinel)

    failed, result = run(run_module, sentinel, **args)
    assert not failed, result['msg']
    assert not result['changed'] and not result['created'] and result['changed_options'] == []
    assert result['master'] == master.address
    assert result['diff']['before'] == result['diff']['after'] == dict(state='present', master=master.address,
                                                                       **wanted)


def test_changes_settings_live_without_restart(run_module, group):
    master, sentinel = group
    pid, started = sentinel.proc.pid, run_id(sentinel)
    failed, result = run(run_module, sentinel, quorum=2, down_after_milliseconds=4000, parallel_syncs=1,
                         failover_timeout=60000)
    assert not failed, result['msg']
    assert result['changed'] and not result['created']
    assert result['changed_options'] == ['quorum', 'down_after_milliseconds']
    before = dict(state='present', master=master.address, quorum=1, down_after_milliseconds=1000,
                  parallel_syncs=1, failover_timeout=60000)
    assert result['diff'] == dict(before=before, after=dict(before, quorum=2, down_after_milliseconds=4000))
    info = monitored(sentinel)
    assert (info['quorum'], info['down-after-milliseconds'], info['failover-timeout']) == (2, 4000, 60000)
    assert sentinel.proc.poll() is None and sentinel.proc.pid == pid and run_id(sentinel) == started
    assert 'sentinel down-after-milliseconds %s 4000\n' % MASTER_NAME in config_text(sentinel)


def test_master_address_of_a_monitored_group_is_never_changed(run_module, group, closed_port):
    master, sentinel = group
    failed, result = run(run_module, sentinel, master_host='127.0.0.2', master_port=closed_port, quorum=1)
    assert not failed, result['msg']
    assert not result['changed'] and result['master'] == master.address
    info = monitored(sentinel)
    assert (info['ip'], info['port']) == ('127.0.0.1', master.port)


def test_check_mode_changes_nothing(run_module, nodes, group):
    master, sentinel = group
    empty = empty_sentinel(nodes)
    failed, result = run(run_module, empty, check_mode=True, **create_args(master, parallel_syncs=3))
    assert not failed, result['msg']
    assert result['changed'] and result['created'] and result['master'] is None
    assert result['changed_options'] == ['quorum', 'parallel_syncs']
    assert monitored(empty) is None

    conf = config_text(sentinel)
    failed, result = run(run_module, sentinel, check_mode=True, quorum=3, auth_pass=DATA_PASSWORD,
                         config_file=str(sentinel.workdir / 'sentinel.conf'))
    assert not failed, result['msg']
    assert result['changed'] and result['changed_options'] == ['quorum', 'auth_pass']
    assert result['diff']['before']['auth_pass'] is None and result['diff']['after']['auth_pass'] == MASK
    assert monitored(sentinel)['quorum'] == 1

    failed, result = run(run_module, sentinel, check_mode=True, state='absent')
    assert not failed and result['changed'] and result['removed'] and result['master'] is None
    assert monitored(sentinel) is not None

    failed, result = run(run_module, sentinel, check_mode=True, reset=True)
    assert not failed and result['changed'] and result['reset']
    assert config_text(sentinel) == conf


def test_absent_removes_the_group(run_module, group):
    master, sentinel = group
    failed, result = run(run_module, sentinel, state='absent')
    assert not failed, result['msg']
    assert result['changed'] and result['removed'] and result['master'] is None
    assert result['diff']['before']['master'] == master.address and result['diff']['after'] == dict(state='absent')
    assert monitored(sentinel) is None
    assert 'sentinel monitor %s' % MASTER_NAME not in config_text(sentinel)

    failed, result = run(run_module, sentinel, state='absent')
    assert not failed and not result['changed'] and not result['removed']


def test_auth_pass_is_set_on_creation_and_never_shown(run_module, nodes):
    master = nodes.server(password=DATA_PASSWORD)
    sentinel = empty_sentinel(nodes)
    failed, result = run(run_module, sentinel, **create_args(master, auth_user='default', auth_pass=DATA_PASSWORD))
    assert not failed, result['msg']
    assert result['changed_options'] == ['quorum', 'auth_user', 'auth_pass']
    assert result['diff']['after']['auth_pass'] == MASK and result['diff']['after']['auth_user'] == 'default'
    assert DATA_PASSWORD not in json.dumps(result)
    # Sentinel wrote the password unquoted, and reads it back.
    assert 'sentinel auth-pass %s %s\n' % (MASTER_NAME, DATA_PASSWORD) in config_text(sentinel)
    assert read_config_file(str(sentinel.workdir / 'sentinel.conf'), MASTER_NAME) == (
        True, dict(auth_user='default', auth_pass=DATA_PASSWORD))


def test_auth_pass_is_compared_with_the_config_file(run_module, nodes, monkeypatch):
    master = nodes.server(password=DATA_PASSWORD)
    # The fixture writes auth-pass quoted; Sentinel rewrites the file at its start.
    sentinel = nodes.sentinel(master, quorum=1)
    conf = str(sentinel.workdir / 'sentinel.conf')
    failed, result = run(run_module, sentinel, auth_pass=DATA_PASSWORD, config_file=conf)
    assert not failed, result['msg']
    assert not result['changed'] and result['changed_options'] == []
    assert result['diff']['before']['auth_pass'] == result['diff']['after']['auth_pass'] == MASK

    failed, result = run(run_module, sentinel, auth_pass=NEW_DATA_PASSWORD, config_file=conf)
    assert not failed, result['msg']
    assert result['changed'] and result['changed_options'] == ['auth_pass']
    assert result['diff']['before']['auth_pass'] == MASK
    assert result['diff']['after']['auth_pass'] == MASK + ' (changed)'
    assert NEW_DATA_PASSWORD not in json.dumps(result) and DATA_PASSWORD not in json.dumps(result)
    assert 'sentinel auth-pass %s %s\n' % (MASTER_NAME, NEW_DATA_PASSWORD) in config_text(sentinel)

    failed, result = run(run_module, sentinel, auth_pass=NEW_DATA_PASSWORD, config_file=conf)
    assert not failed and not result['changed']

    failed, result = run(run_module, sentinel, auth_pass='', config_file=conf)
    assert not failed and result['changed'] and result['diff']['after']['auth_pass'] is None
    assert 'auth-pass' not in config_text(sentinel)

    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, warning: warnings.append(warning))
    failed, result = run(run_module, sentinel, auth_pass=DATA_PASSWORD)
    assert not failed and not result['changed'] and 'auth_pass' not in result['diff']['after']
    assert warnings == ["auth_pass not compared with what Sentinel %s uses for 'mymaster', nor applied: "
                        'SENTINEL MASTER does not report them. Set config_file to the Sentinel configuration '
                        'file to manage them.' % sentinel.address]
    assert 'auth-pass' not in config_text(sentinel)


@pytest.mark.parametrize('line, words', [
    (b'', []),
    (b'  sentinel   auth-pass m  x ', [b'sentinel', b'auth-pass', b'm', b'x']),
    (b'"a b" c', [b'a b', b'c']),
    (b'"q\\"b\\\\s\\n\\t\\z"', [b'q"b\\s\n\tz']),
    (b'"\\x41\\x4a\\x4"', [b'AJx4']),
    (b"'it\\'s' 'a\\nb'", [b"it's", b'a\\nb']),
    (b"abc'def' \\", [b'abcdef', b'\\']),
    # A quote starts quoting inside a word too; a closing quote must end the word.
    (b'a\\"b', None),
    (b"'one''two'", None),
    (b'"unterminated', None),
    (b"'unterminated", None),
    (b'"closed"too-early', None),
    (b"it's a secret", None),
])
def test_split_config_line_reads_like_redis(line, words):
    assert split_config_line(line) == words


def test_read_config_file_both_forms(tmp_path):
    path = tmp_path / 'sentinel.conf'
    path.write_bytes(b'\n'.join([
        b'# sentinel auth-pass mymaster commented',
        b'sentinel monitor other 10.0.0.1 6379 2',
        b'sentinel auth-pass other not-this-one',
        b'SENTINEL Monitor mymaster 10.0.0.2 6379 2',
        b'sentinel auth-pass mymaster first',
        b'  sentinel auth-pass mymaster "te\\"mp\\x41te \\\\ quoted"  ',
        b"sentinel auth-user mymaster 'o\\'neil'",
        b'sentinel known-replica mymaster 10.0.0.3 6379',
    ]))
    assert read_config_file(str(path), 'mymaster') == (True, dict(auth_user="o'neil",
                                                                  auth_pass='te"mpAte \\ quoted'))
    # Sentinel's own unquoted rewrite of a value with blanks and quotes: the rest of the line.
    path.write_bytes(b"sentinel monitor mymaster 10.0.0.2 6379 2\nsentinel auth-pass mymaster it's a $ecret #1\n")
    assert read_config_file(str(path), 'mymaster') == (True, dict(auth_user=None, auth_pass="it's a $ecret #1"))
    assert read_config_file(str(path), 'other') == (False, dict(auth_user=None, auth_pass=None))


def test_reset_forgets_a_departed_sentinel(run_module, nodes):
    master = nodes.server()
    staying, leaving = nodes.sentinel(master, quorum=1), nodes.sentinel(master, quorum=1)
    wait_for(lambda: sentinel_sees(staying, replicas=0, others=1), '%s to see the other Sentinel' % staying.address)
    leaving.stop()

    def other_sentinels() -> list:
        client = staying.client()
        try:
            return client.execute_command('SENTINEL', 'SENTINELS', MASTER_NAME)
        finally:
            client.close()

    failed, result = run(run_module, staying, check_mode=True, reset=True)
    assert not failed and result['changed'] and result['reset'] and len(other_sentinels()) == 1

    failed, result = run(run_module, staying, reset=True, quorum=1)
    assert not failed, result['msg']
    assert result['changed'] and result['reset'] and result['changed_options'] == []
    assert result['master'] == master.address
    assert other_sentinels() == [] and monitored(staying)['quorum'] == 1


def test_password_protected_sentinel(run_module, nodes):
    master = nodes.server()
    sentinel = empty_sentinel(nodes, password=PASSWORD)
    failed, result = run(run_module, sentinel, **create_args(master))
    assert failed and not result['changed'] and not result['created']
    assert 'Sentinel %s: SENTINEL MASTER mymaster failed: AuthenticationError: Authentication required' \
        % sentinel.address in result['msg']
    assert "set login_password (and login_user for an ACL user) to the Sentinel's requirepass" in result['msg']

    failed, result = run(run_module, sentinel, login_password='wrong', **create_args(master))
    assert failed and 'login_password (or login_user) is wrong for the Sentinel' in result['msg']

    failed, result = run(run_module, sentinel, login_password=PASSWORD, **create_args(master))
    assert not failed, result['msg']
    assert result['created'] and monitored(sentinel)['port'] == master.port
    assert PASSWORD not in json.dumps(result)


def test_errors_name_cause_and_fix(run_module, nodes, closed_port):
    master = nodes.server()
    sentinel = empty_sentinel(nodes)
    failed, result = run(run_module, sentinel, login_port=closed_port, **create_args(master))
    assert failed and 'Connection refused' in result['msg']
    assert 'Check that redis-sentinel runs and listens on 127.0.0.1:%d' % closed_port in result['msg']

    failed, result = run(run_module, sentinel, login_port=master.port, **create_args(master))
    assert failed and '127.0.0.1:%d is not a Sentinel: point login_port at the Sentinel port' % master.port \
        in result['msg']

    failed, result = run(run_module, sentinel, **create_args(master, master_host='localhost'))
    assert failed and not result['changed'] and not result['created']
    assert 'SENTINEL MONITOR mymaster localhost %d 2 failed: ResponseError: Invalid IP address or hostname ' \
        'specified' % master.port in result['msg']
    assert "or set 'sentinel resolve-hostnames yes' in its configuration" in result['msg']
    assert monitored(sentinel) is None


def test_master_host_and_quorum_are_needed_only_to_create(run_module, nodes, group):
    master, sentinel = group
    failed, result = run(run_module, sentinel)
    assert not failed and not result['changed'] and result['master'] == master.address

    empty = empty_sentinel(nodes)
    for args, missing in [(dict(quorum=2), 'master_host is'), (dict(master_host='127.0.0.1'), 'quorum is'),
                          (dict(), 'master_host and quorum are')]:
        failed, result = run(run_module, empty, **args)
        assert failed and not result['changed']
        assert result['msg'] == "Sentinel %s does not monitor 'mymaster': %s required to create it with " \
            'SENTINEL MONITOR.' % (empty.address, missing)


def test_config_file_problems(run_module, group, tmp_path):
    master, sentinel = group
    missing = tmp_path / 'missing.conf'
    failed, result = run(run_module, sentinel, auth_pass=DATA_PASSWORD, config_file=str(missing))
    assert failed and not result['changed']
    assert result['msg'].startswith('Cannot read config_file %s (No such file or directory)' % missing)

    other = tmp_path / 'other.conf'
    other.write_text('sentinel monitor othermaster 127.0.0.1 6379 2\n')
    failed, result = run(run_module, sentinel, auth_pass=DATA_PASSWORD, config_file=str(other))
    assert failed and "config_file %s has no 'sentinel monitor mymaster' line" % other in result['msg']
    assert DATA_PASSWORD not in json.dumps(result)


@pytest.mark.parametrize('args, message', [
    (dict(name='my master'), 'name may only contain letters, digits, ".", "_" and "-"'),
    (dict(name='my*'), 'name may only contain letters'),
    (dict(quorum=0), 'quorum must be at least 1, got 0'),
    (dict(down_after_milliseconds=-1), 'down_after_milliseconds must be at least 1, got -1'),
    (dict(parallel_syncs=0), 'parallel_syncs must be at least 1'),
    (dict(failover_timeout=0), 'failover_timeout must be at least 1'),
    (dict(login_port=0), 'login_port must be between 1 and 65535'),
    (dict(master_port=65536), 'master_port must be between 1 and 65535'),
    (dict(connect_timeout=0), 'connect_timeout must be greater than 0'),
    (dict(auth_pass=PASSWORD), 'auth_pass must not contain white space or quotes'),
    (dict(auth_user='bob smith'), 'auth_user must not contain white space or quotes'),
    (dict(state='absent', reset=True), 'reset needs state=present'),
])
def test_bad_input_is_rejected_before_connecting(run_module, args, message):
    args = dict(dict(name=MASTER_NAME, login_port=1), **args)
    for check_mode in (False, True):
        failed, result = run_module(sentinel_monitor.main, args, check_mode=check_mode)
        assert failed and message in result['msg'], result['msg']
        assert not result['changed'] and PASSWORD not in result['msg']


def test_missing_redis_library(tmp_path):
    args = {'name': MASTER_NAME, 'auth_pass': 'hidden-secret'}
    code, result = run_script(tmp_path, 'sentinel_monitor', args)
    assert code == 1 and result['failed']
    assert 'Failed to import the required Python library (redis)' in result['msg']
    code, result = run_script(tmp_path, 'sentinel_monitor', dict(args, _ansible_check_mode=True))
    assert code == 0 and not result['changed'] and not result.get('failed')
