# -*- coding: utf-8 -*-
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import redis

from ansible_collections.redisops.sentinel.plugins.module_utils.acl import (
    UserState, canonical_commands, redact, rule_words, rules_error)
from ansible_collections.redisops.sentinel.plugins.module_utils.client import connect
from ansible_collections.redisops.sentinel.plugins.modules import redis_acl

from conftest import (
    MASTER_NAME, PASSWORD, REDIS_SERVER, NodeFactory, RedisNode, config_quote, free_port, link_up,
    run_module_process, sentinel_sees, wait_for)

ADMIN_PASSWORD = 'adm1n "pass" $x'
NEW_PASSWORD = "n3w 'secret' #2"
# Sentinel writes auth-pass unquoted when it rewrites its file: no blank, no quote.
SENTINEL_PASSWORD = 'sent1nel$pw#3'
REPLICATION_PASSWORD = "repl 'pass' #4"
ADMIN = dict(name='admin', passwords=[ADMIN_PASSWORD], rules='~* &* +@all')
# The rules Redis documents for the user of `sentinel auth-user`, with the hello channel only.
SENTINEL_RULES = ('resetchannels &__sentinel__:hello +multi +slaveof +ping +exec +subscribe +config|rewrite +role '
                  '+publish +info +client|setname +client|kill +script|kill')
REPLICATION_RULES = '+psync +replconf +ping'


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def run(run_module, node: RedisNode, check_mode: bool = False, **args):
    return run_module(redis_acl.main, dict(dict(login_port=node.port), **args), check_mode=check_mode)


def as_admin(**args) -> dict:
    return dict(dict(login_user='admin', login_password=ADMIN_PASSWORD), **args)


def client(node: RedisNode, user: str | None = None, password: str | None = None) -> redis.Redis:
    return connect(dict(login_host=node.host, login_port=node.port, login_user=user, login_password=password,
                        connect_timeout=2.0))


def command(node: RedisNode, *args, user: str | None = None, password: str | None = None):
    conn = client(node, user, password)
    try:
        return conn.execute_command(*args)
    finally:
        conn.close()


def admin_command(node: RedisNode, *args):
    return command(node, *args, user='admin', password=ADMIN_PASSWORD)


def can_login(node: RedisNode, user: str | None, password: str | None) -> bool:
    try:
        return command(node, 'PING', user=user, password=password) is True
    except redis.exceptions.NoPermissionError:  # logged in, PING not allowed
        return True
    except redis.exceptions.AuthenticationError:
        return False


def user_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.startswith('user ')]


def restart(nodes: NodeFactory, node: RedisNode) -> RedisNode:
    """The same server started again from the file CONFIG REWRITE wrote."""
    node.stop()
    again = RedisNode(list(node.proc.args), node.workdir, node.port, node.host, node.password)
    nodes.nodes.append(again)
    return again.wait_ready()


def assert_no_secret(*texts: str) -> None:
    text = ''.join(texts)
    for secret in (PASSWORD, ADMIN_PASSWORD, NEW_PASSWORD, REPLICATION_PASSWORD, SENTINEL_PASSWORD):
        assert secret not in text and sha256(secret) not in text


@pytest.fixture
def server(nodes) -> RedisNode:
    """A fresh redis-server started from workdir/redis.conf, default user without password."""
    return nodes.server()


# Without a server.

def test_canonical_commands_ignore_the_order_of_a_server_start():
    # ACL GETUSER of one user on 7.0.15, before and after a restart from the rewritten file.
    before = ('+@all -@admin -sort_ro -flushdb +client|no-evict +client|list +client|unblock +client|pause '
              '+client|unpause -restore-asking -info -migrate -sort +config|get -keys -swapdb -set -restore')
    after = ('+@all -@admin -sort +config|get -restore -sort_ro -set -info -migrate -restore-asking -swapdb '
             '+client|unpause +client|pause +client|list +client|no-evict +client|unblock -flushdb -keys')
    assert canonical_commands(before) == canonical_commands(after) == (
        '+@all -@admin +client|list +client|no-evict +client|pause +client|unblock +client|unpause +config|get '
        '-flushdb -info -keys -migrate -restore -restore-asking -set -sort -sort_ro -swapdb')


@pytest.mark.parametrize('text, canonical', [
    ('-@all +set +get', '-@all +get +set'),
    # A rule on a command overrides the earlier ones on its subcommands, not the later ones.
    ('-@all +client|kill +client -client|kill', '-@all +client -client|kill'),
    ('-@all -client|kill +client', '-@all +client'),
    # Categories are kept in place: +get -@read differs from -@read +get.
    ('+@all +get -@read +set', '+@all +get -@read +set'),
])
def test_canonical_commands_keep_what_order_means(text, canonical):
    assert canonical_commands(text) == canonical


def test_user_state_from_getuser_with_selectors():
    reply = ['flags', ['on', 'sanitize-payload'], 'passwords', [sha256('a')],
             'commands', '-@all +set +get', 'keys', '~b* %R~a*', 'channels', '',
             'selectors', [['commands', '-@all +get', 'keys', '~x*', 'channels', '&*']]]
    state = UserState.from_getuser(reply)
    assert state == UserState(enabled=True, nopass=False, hashes=frozenset([sha256('a')]),
                              rules='sanitize-payload %R~a* ~b* resetchannels -@all +get +set (~x* &* -@all +get)')
    assert state.lines('app', passwords_changed=True) == (
        'user app\n  enabled: true\n  passwords: 1 (changed)\n  rules: %s\n' % state.rules)


@pytest.mark.parametrize('rules, words', [
    ('', []), (None, []), ('~* &*  +@all', ['~*', '&*', '+@all']), (['~a:*', '+get +set'], ['~a:*', '+get', '+set']),
])
def test_rule_words(rules, words):
    assert rule_words(rules) == words


def test_rules_error_never_quotes_a_password():
    for words in (['~*', '>topsecret'], ['(>topsecret', '+get)'], ['#' + sha256('x')], ['<0ldpw'], ['!abc']):
        problem = rules_error(words)
        assert 'password rule' in problem and 'topsecret' not in problem and '0ldpw' not in problem
    assert "'ON'" in rules_error(['ON'])
    assert 'use nopass and passwords' in rules_error(['nopass'])
    assert rules_error(['~*', 'resetchannels', '&a', '+@all', '(~x', '+get)', '%R~y']) is None


def test_redact_masks_longest_first():
    assert redact("modifier '>ab abc': x", ['ab', 'ab abc', '']) == "modifier '>********': x"


# Against a real redis-server.

def test_creates_users_idempotently_and_survives_a_restart(run_module, nodes, server):
    users = [
        dict(name='app', passwords=[PASSWORD], rules='~app:* %R~reports:* resetchannels +@all -@dangerous +get'),
        dict(name='cache', nopass=True, rules=['~cache:* resetchannels -@all +@read', '(~tmp:* +set +get)']),
        dict(name='off', enabled=False, rules='-@all +client -client|kill +ping'),
    ]
    failed, result = run(run_module, server, users=users)
    assert not failed, result['msg']
    assert result['changed'] is True and result['created'] == ['app', 'cache', 'off']
    assert result['updated'] == result['removed'] == []
    assert result['msg'] == 'Created app, cache, off on %s, saved with CONFIG REWRITE.' % server.address
    assert can_login(server, 'app', PASSWORD) and not can_login(server, 'app', 'wrong')
    assert can_login(server, 'cache', 'anything') and not can_login(server, 'off', None)
    lines = user_lines(server.workdir / 'redis.conf')
    assert [line.split()[1] for line in lines] == ['app', 'cache', 'default', 'off']
    assert '#%s' % sha256(PASSWORD) in lines[0]
    assert command(server, 'ACL', 'USERS') == ['app', 'cache', 'default', 'off']  # no temporary user left

    failed, again = run(run_module, server, users=users)
    assert not failed and again['changed'] is False and again['created'] == []
    assert again['msg'] == 'The 3 users already match on %s.' % server.address
    assert again['diff']['before'] == again['diff']['after'] == result['diff']['after']
    assert 'rules: sanitize-payload %R~reports:* ~app:* resetchannels +@all -@dangerous\n' in again['diff']['after']

    # Redis 7.0 lists the command rules in another order after a start; still nothing to change.
    server = restart(nodes, server)
    failed, again = run(run_module, server, users=users)
    assert not failed and again['changed'] is False, again['diff']
    assert can_login(server, 'app', PASSWORD)


def test_password_change_is_detected_by_hash(run_module, server, capsys):
    users = [dict(name='app', passwords=[PASSWORD], rules='~* +get')]
    failed, result = run(run_module, server, users=users)
    assert not failed and result['created'] == ['app']

    users[0]['passwords'] = [PASSWORD, NEW_PASSWORD]
    failed, rotated = run(run_module, server, users=users)
    assert not failed and rotated['updated'] == ['app']
    assert 'passwords: 1\n' in rotated['diff']['before'] and 'passwords: 2 (changed)\n' in rotated['diff']['after']
    assert can_login(server, 'app', PASSWORD) and can_login(server, 'app', NEW_PASSWORD)

    users[0]['passwords'] = [NEW_PASSWORD]
    failed, replaced = run(run_module, server, users=users)
    assert not failed and replaced['updated'] == ['app']
    assert 'passwords: 1 (changed)\n' in replaced['diff']['after']
    assert not can_login(server, 'app', PASSWORD) and can_login(server, 'app', NEW_PASSWORD)

    failed, again = run(run_module, server, users=users)
    assert not failed and again['changed'] is False and 'passwords: 1\n' in again['diff']['after']
    assert_no_secret(json.dumps([result, rotated, replaced, again]), *capsys.readouterr())


def test_rules_change_redefines_the_user_exactly(run_module, server):
    failed, result = run(run_module, server, users=[dict(name='app', passwords=[PASSWORD], rules='~a:* +get')])
    assert not failed
    admin = command(server, 'ACL', 'SETUSER', 'app', '+set', '~b:*')  # a change made by hand
    assert admin == 'OK'
    failed, result = run(run_module, server, users=[dict(name='app', passwords=[PASSWORD], rules='~a:* +get')])
    assert not failed and result['updated'] == ['app']
    assert 'rules: sanitize-payload ~a:* ~b:* resetchannels -@all +get +set\n' in result['diff']['before']
    assert 'rules: sanitize-payload ~a:* resetchannels -@all +get\n' in result['diff']['after']

    failed, result = run(run_module, server, users=[dict(name='app', passwords=[PASSWORD], rules='~a:* +@read')])
    assert not failed and result['updated'] == ['app'] and 'passwords: 1\n' in result['diff']['after']
    assert command(server, 'ACL', 'DRYRUN', 'app', 'SET', 'a:1', 'x') != 'OK'
    assert command(server, 'ACL', 'DRYRUN', 'app', 'GET', 'a:1') == 'OK'


def test_disable_default_with_an_admin_login_and_the_lockout_guard(run_module, server):
    # Logged in as default, which has no password: creating admin changes nothing of default.
    failed, result = run(run_module, server, users=[ADMIN])
    assert not failed and result['created'] == ['admin']

    disable = [ADMIN, dict(name='default', enabled=False, rules='~* &* +@all'), dict(name='app', rules='+get')]
    failed, result = run(run_module, server, users=disable)
    assert failed and result['changed'] is False and result['created'] == result['updated'] == []
    assert result['msg'] == (
        'Refusing to change default on %s: the module is logged in as that user, and the change would disable it '
        'and require a password, while login_password is unset, so this login could no longer manage the ACL '
        'users. Nothing was changed. Log in as another user with the rights to manage ACL users (login_user), '
        'list the old and the new password while rotating, or set allow_lockout to true.' % server.address)
    assert command(server, 'ACL', 'USERS') == ['admin', 'default']

    failed, result = run(run_module, server, **as_admin(users=disable))
    assert not failed, result['msg']
    assert result['created'] == ['app'] and result['updated'] == ['default']
    assert 'user default\n  enabled: false\n  passwords: 0 (changed)\n' in result['diff']['after']
    assert not can_login(server, None, None) and can_login(server, 'admin', ADMIN_PASSWORD)
    assert 'user default off sanitize-payload ~* &* +@all' in user_lines(server.workdir / 'redis.conf')

    failed, result = run(run_module, server, **as_admin(users=disable))
    assert not failed and result['changed'] is False


def test_default_user_of_a_requirepass_server(run_module, nodes):
    server = nodes.server(password=PASSWORD)
    users = [dict(name='default', passwords=[PASSWORD], rules='~* &* +@all')]
    failed, result = run(run_module, server, login_password=PASSWORD, users=users)
    assert not failed, result['msg']
    # reset adds sanitize-payload, which the built-in default user lacks; the password stays.
    assert result['updated'] == ['default']
    assert result['diff']['before'] == 'user default\n  enabled: true\n  passwords: 1\n  rules: ~* &* +@all\n'
    assert result['diff']['after'] == (
        'user default\n  enabled: true\n  passwords: 1\n  rules: sanitize-payload ~* &* +@all\n')
    # The requirepass line stays in the file; the user line written after it wins at start.
    server = restart(nodes, server)
    failed, result = run(run_module, server, login_password=PASSWORD, users=users)
    assert not failed and result['changed'] is False
    assert_no_secret(json.dumps(result))


def test_allow_lockout_applies_the_login_user_last(run_module, server):
    failed, result = run(run_module, server, allow_lockout=True,
                         users=[dict(name='default', passwords=[PASSWORD], rules='~* &* +@all'), ADMIN])
    assert not failed, result['msg']
    # admin first, default last; the connection stays logged in, so CONFIG REWRITE still runs.
    assert result['created'] == ['admin'] and result['updated'] == ['default']
    assert result['msg'].endswith('saved with CONFIG REWRITE.')
    assert not can_login(server, None, None) and can_login(server, None, PASSWORD)


def test_lockout_by_password_or_rights(run_module, server):
    assert run(run_module, server, users=[ADMIN])[0] is False
    for user, reason in [
        (dict(ADMIN, passwords=[NEW_PASSWORD]), 'no longer accept login_password'),
        (dict(ADMIN, rules='~* &* +@all -acl|deluser -info'), 'no longer allow ACL DELUSER, INFO'),
        (dict(ADMIN, enabled=False, rules='~* &* +@all -info'),
         'disable it and no longer allow INFO'),
    ]:
        failed, result = run(run_module, server, **as_admin(users=[user]))
        assert failed and result['changed'] is False
        assert 'Refusing to change admin on %s' % server.address in result['msg']
        assert 'the change would %s, so' % reason in result['msg']
        assert_no_secret(json.dumps(result))
    # Taking away what saves is refused even with allow_lockout: the change could not be saved.
    failed, result = run(run_module, server, allow_lockout=True,
                         **as_admin(users=[dict(ADMIN, rules='~* &* +@all -config|rewrite')]))
    assert failed and result['changed'] is False
    assert result['msg'] == (
        'Refusing to change admin on %s: the module is logged in as that user, and its new rules would no longer '
        'allow CONFIG REWRITE, which saves the users after the change. Nothing was changed. Log in as another user '
        'with the rights to manage ACL users (login_user), or set rewrite to false to change the users live only.'
        % server.address)
    # Rotation: old and new password, then log in with the new one.
    failed, result = run(run_module, server, **as_admin(users=[dict(ADMIN, passwords=[ADMIN_PASSWORD, NEW_PASSWORD])]))
    assert not failed and result['updated'] == ['admin']
    failed, result = run(run_module, server, login_user='admin', login_password=NEW_PASSWORD,
                         users=[dict(ADMIN, passwords=[NEW_PASSWORD])])
    assert not failed and result['updated'] == ['admin']
    # Without CONFIG REWRITE to save, dropping +config is no lockout.
    failed, result = run(run_module, server, login_user='admin', login_password=NEW_PASSWORD, rewrite=False,
                         users=[dict(ADMIN, passwords=[NEW_PASSWORD], rules='~* &* +@all -config')])
    assert not failed and result['updated'] == ['admin']
    assert result['msg'].endswith('not saved (rewrite is false).')


def test_absent_and_purge(run_module, server):
    users = [ADMIN, dict(name='a', rules='+get'), dict(name='b', rules='+get'), dict(name='c', rules='+get')]
    assert run(run_module, server, users=users)[0] is False

    failed, result = run(run_module, server, **as_admin(users=[ADMIN, dict(name='a', state='absent'),
                                                               dict(name='zzz', state='absent')]))
    assert not failed and result['removed'] == ['a'] and result['created'] == result['updated'] == []
    assert 'user a: absent\nuser zzz: absent\n' in result['diff']['after']
    assert 'user zzz: absent\n' in result['diff']['before']

    failed, result = run(run_module, server, **as_admin(users=[ADMIN], purge=True))
    assert not failed and result['removed'] == ['b', 'c']
    assert result['diff']['before'].endswith(
        'user b\n  enabled: true\n  passwords: 0\n  rules: sanitize-payload resetchannels -@all +get\n'
        'user c\n  enabled: true\n  passwords: 0\n  rules: sanitize-payload resetchannels -@all +get\n')
    assert result['diff']['after'].endswith('user b: absent\nuser c: absent\n')
    assert command(server, 'ACL', 'USERS') == ['admin', 'default']
    assert [line.split()[1] for line in user_lines(server.workdir / 'redis.conf')] == ['admin', 'default']

    # The login user, unlisted, would be purged: refused even with allow_lockout.
    failed, result = run(run_module, server, **as_admin(users=[], purge=True, allow_lockout=True))
    assert failed and result['changed'] is False
    assert result['msg'].startswith('Refusing to remove admin on %s: the module is logged in as that user, and '
                                    'Redis closes the connections of a removed user.' % server.address)
    failed, result = run(run_module, server, users=[], purge=True)
    assert not failed and result['removed'] == ['admin']


def test_check_mode_changes_nothing(run_module, server):
    assert run(run_module, server, users=[ADMIN, dict(name='old', rules='+get')])[0] is False
    conf = server.workdir / 'redis.conf'
    before, acl = conf.read_bytes(), command(server, 'ACL', 'LIST')
    users = [dict(ADMIN, passwords=[NEW_PASSWORD]), dict(name='new', passwords=[PASSWORD], rules='+@read')]
    failed, result = run(run_module, server, check_mode=True, purge=True, allow_lockout=True,
                         **as_admin(users=users))
    assert not failed, result['msg']
    assert result['changed'] is True
    assert (result['created'], result['updated'], result['removed']) == (['new'], ['admin'], ['old'])
    assert result['msg'] == 'Check mode: would create new, update admin and remove old on %s.' % server.address
    assert 'user old: absent\n' in result['diff']['after'] and 'passwords: 1 (changed)' in result['diff']['after']
    assert conf.read_bytes() == before and command(server, 'ACL', 'LIST') == acl

    failed, result = run(run_module, server, check_mode=True, users=[ADMIN])
    assert not failed and result['changed'] is False
    assert result['msg'] == 'Check mode: nothing to change on %s.' % server.address


def test_secrets_are_absent_from_the_real_module_output(server, tmp_path):
    """Run as Ansible does (real exit_json, invocation included): no password, no hash."""
    args = dict(login_port=server.port, _ansible_diff=True,
                users=[dict(name='app', passwords=[PASSWORD, NEW_PASSWORD], rules='~* +get')])
    proc = run_module_process('redis_acl', args, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert_no_secret(proc.stdout, proc.stderr)
    result = json.loads(proc.stdout)
    assert result['created'] == ['app'] and 'passwords: 2\n' in result['diff']['after']


def test_refused_rule_names_the_user_and_changes_nothing(run_module, server, capsys):
    users = [dict(name='good', passwords=[PASSWORD], rules='+get'),
             dict(name='bad', passwords=[NEW_PASSWORD], rules='~* +@nosuchcategory +get')]
    failed, result = run(run_module, server, users=users)
    assert failed and result['changed'] is False
    assert result['msg'] == (
        "users[1] (bad): Redis on %s refused the rules '~* +@nosuchcategory +get': Error in ACL SETUSER modifier "
        "'+@nosuchcategory': Unknown command or category name in ACL. Nothing was changed." % server.address)
    assert command(server, 'ACL', 'USERS') == ['default']
    failed, result = run(run_module, server, users=[dict(name='bad', rules='+nosuchcommand')])
    assert failed and "modifier '+nosuchcommand': Unknown command or category name in ACL" in result['msg']
    failed, result = run(run_module, server, users=[dict(name='bad', rules=['~a', 'bogus +get'])])
    assert failed and "refused the rules '~a bogus +get': Error in ACL SETUSER modifier 'bogus': Syntax error." \
        in result['msg']
    assert command(server, 'ACL', 'USERS') == ['default']
    assert_no_secret(json.dumps(result), *capsys.readouterr())


def test_login_user_without_acl_rights(run_module, server):
    command(server, 'ACL', 'SETUSER', 'reader', 'on', '>' + PASSWORD, '~*', '+@read', '+info')
    failed, result = run(run_module, server, login_user='reader', login_password=PASSWORD,
                         users=[dict(name='app', rules='+get')])
    assert failed and result['changed'] is False
    assert result['msg'].startswith('Could not read the ACL users on %s: NoPermissionError:' % server.address)
    assert 'Grant the login user +info and +acl' in result['msg']
    assert_no_secret(json.dumps(result))

    failed, result = run(run_module, server, login_user='reader', login_password='wrong',
                         users=[dict(name='app', rules='+get')])
    assert failed and 'AuthenticationError' in result['msg'] and 'Check login_password and login_user' in result['msg']


def test_acl_file_is_saved_with_acl_save(run_module, nodes, tmp_path):
    aclfile = tmp_path / 'users.acl'
    aclfile.write_text('user default on nopass ~* &* +@all\n')
    server = nodes.server('aclfile %s' % aclfile)
    failed, result = run(run_module, server, users=[dict(name='app', passwords=[PASSWORD], rules='~* +get')])
    assert not failed, result['msg']
    assert result['msg'].endswith('saved with ACL SAVE to %s.' % aclfile)
    assert [line.split()[1] for line in user_lines(aclfile)] == ['app', 'default']
    assert user_lines(server.workdir / 'redis.conf') == []


def test_rewrite_without_config_file_fails_after_the_live_change(run_module, tmp_path):
    port = free_port()
    node = RedisNode([REDIS_SERVER, '--port', str(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
                      '--protected-mode', 'no', '--dir', str(tmp_path)], tmp_path, port)
    try:
        node.wait_ready()
        failed, result = run(run_module, node, users=[dict(name='app', rules='+get')])
        assert failed and result['changed'] is True and result['created'] == ['app']
        assert result['msg'].startswith('Could not save the ACL users on %s: ResponseError:' % node.address)
        assert 'changed live but not saved' in result['msg'] and 'or set rewrite to false' in result['msg']
        failed, result = run(run_module, node, users=[dict(name='app', rules='+get')], rewrite=False)
        assert not failed and result['changed'] is False
    finally:
        node.stop()


def test_sentinel_and_replication_users_work_for_real_nodes(run_module, nodes):
    """The documented Sentinel rules (hello channel only) and +psync +replconf +ping, with default disabled."""
    master = nodes.server()
    users = [ADMIN,
             dict(name='sentinel-user', passwords=[SENTINEL_PASSWORD], rules=SENTINEL_RULES),
             dict(name='replication', passwords=[REPLICATION_PASSWORD], rules=REPLICATION_RULES),
             dict(name='default', enabled=False, rules='~* &* +@all')]
    failed, result = run(run_module, master, allow_lockout=True, users=users)
    assert not failed, result['msg']
    assert not can_login(master, None, None)

    replica = nodes.replica(master, 'masteruser replication', 'masterauth %s' % config_quote(REPLICATION_PASSWORD))
    sentinel = nodes.sentinel(master, 'sentinel auth-user %s sentinel-user' % MASTER_NAME,
                              'sentinel auth-pass %s %s' % (MASTER_NAME, SENTINEL_PASSWORD), quorum=1)
    wait_for(lambda: link_up(replica), 'the replica to log in as replication and sync')

    def healthy() -> bool:
        reply = command(sentinel, 'SENTINEL', 'MASTER', MASTER_NAME)
        fields = dict(zip(reply[::2], reply[1::2]))
        published = admin_command(master, 'INFO', 'commandstats').get('cmdstat_publish', {})
        return (fields['flags'] == 'master' and sentinel_sees(sentinel, replicas=1, others=0)
                and published.get('calls', 0) > 0
                and admin_command(master, 'PUBSUB', 'NUMSUB', '__sentinel__:hello')[1] > 0)

    wait_for(healthy, 'the Sentinel to see a healthy master (flags master, no s_down) and its replica, '
                      'subscribed to and publishing its hello messages on the master')
    clients = admin_command(master, 'CLIENT', 'LIST')
    assert 'user=sentinel-user' in clients and 'user=replication' in clients
    assert admin_command(master, 'ACL', 'LOG') == []  # nothing denied to either


def test_manages_the_users_of_a_sentinel(run_module, nodes):
    master = nodes.server()
    sentinel = nodes.sentinel(master, quorum=1)
    users = [dict(name='monitor', passwords=[PASSWORD],
                  rules='-@all +ping +sentinel|master +sentinel|get-master-addr-by-name')]
    failed, result = run(run_module, sentinel, users=users)
    assert not failed, result['msg']
    assert result['msg'] == 'Created monitor on %s, saved with SENTINEL FLUSHCONFIG.' % sentinel.address
    assert [line.split()[1] for line in user_lines(sentinel.workdir / 'sentinel.conf')] == ['default', 'monitor']
    assert command(sentinel, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME, user='monitor',
                   password=PASSWORD) == [master.host, str(master.port)]
    failed, result = run(run_module, sentinel, users=users)
    assert not failed and result['changed'] is False


@pytest.mark.parametrize('users, message', [
    ([dict(name='a'), dict(name='a')], 'users[1] (a): the user is listed twice'),
    ([dict(name='a b')], "users[0]: 'a b' is not a valid ACL user name"),
    ([dict(name='')], "users[0]: '' is not a valid ACL user name"),
    ([dict(name='a', nopass=True, passwords=['x'])], 'users[0] (a): nopass and passwords are mutually exclusive'),
    ([dict(name='a', rules='~* >' + PASSWORD)], 'users[0] (a): rules holds a password rule'),
    ([dict(name='a', rules='on ~*')], "users[0] (a): rules holds 'on'"),
    ([dict(name='a', rules=5)], 'users[0] (a): rules must be a string or a list of strings, got int'),
    ([dict(name='default', state='absent')], 'users[0] (default): Redis cannot remove the default user'),
    ([dict(name='redisops-acl-check-x')], 'names starting with redisops-acl-check- are reserved'),
])
def test_bad_input_is_rejected_before_connecting(run_module, closed_port, users, message):
    for check_mode in (False, True):
        failed, result = run_module(redis_acl.main, dict(login_port=closed_port, users=users), check_mode=check_mode)
        assert failed and message in result['msg'] and 'ConnectionError' not in result['msg']
        assert_no_secret(json.dumps(result))


def test_nothing_listening_fails_naming_the_address(run_module, closed_port):
    failed, result = run_module(redis_acl.main, dict(login_port=closed_port, users=[]))
    assert failed and result['changed'] is False
    assert result['msg'].startswith('Could not read the ACL users on 127.0.0.1:%d: ConnectionError' % closed_port)
    assert 'Check that the server runs there' in result['msg']
