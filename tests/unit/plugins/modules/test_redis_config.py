# -*- coding: utf-8 -*-
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils.config import (
    normalize, quote, set_directive, setting_text)
from ansible_collections.redisops.sentinel.plugins.modules import redis_config

from conftest import PASSWORD, REDIS_SERVER, RedisNode, config_get, free_port, run_module_process


def run(run_module, node: RedisNode, check_mode: bool = False, **args):
    args = dict(dict(login_port=node.port, login_password=node.password), **args)
    return run_module(redis_config.main, args, check_mode=check_mode)


@pytest.fixture
def server(nodes) -> RedisNode:
    """A fresh redis-server started from workdir/redis.conf (no password, save "", appendonly no)."""
    return nodes.server()


@pytest.fixture
def bare_server(tmp_path) -> RedisNode:
    """A redis-server started without a config file, so CONFIG REWRITE fails."""
    port = free_port()
    node = RedisNode([REDIS_SERVER, '--port', str(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
                      '--protected-mode', 'no', '--dir', str(tmp_path)], tmp_path, port)
    try:
        yield node.wait_ready()
    finally:
        node.stop()


# Values and redis.conf lines, without a server.

@pytest.mark.parametrize('value, normal', [
    ('100mb', '104857600'), ('100MB', '104857600'), ('1gb', '1073741824'), ('1G', '1000000000'),
    ('1024kb', '1048576'), ('1k', '1000'), ('2b', '2'), ('0100', '100'), ('YES', 'yes'), ('No', 'no'),
    ('3600 1   300 100', '3600 1 300 100'), (' 127.0.0.1\t-::1 ', '127.0.0.1 -::1'), ('', ''),
    ('allkeys-LRU', 'allkeys-LRU'), ('1.5gb', '1.5gb'), ('-1', '-1'),
])
def test_normalize_follows_redis_units(value, normal):
    assert normalize(value) == normal


@pytest.mark.parametrize('value, text', [
    (True, 'yes'), (False, 'no'), (0, '0'), ('100mb', '100mb'), ('""', ''), ("''", ''), ([], ''),
    (['3600 1', ' 300  100'], '3600 1 300 100'), (['127.0.0.1', '-::1'], '127.0.0.1 -::1'), ([True, 5], 'yes 5'),
])
def test_setting_text(value, text):
    assert setting_text(value) == text


@pytest.mark.parametrize('value', [1.5, None, {'a': 1}, [['nested']]])
def test_setting_text_rejects_other_types(value):
    with pytest.raises(TypeError, match='must be a string, an integer, a boolean or a list'):
        setting_text(value)


@pytest.mark.parametrize('value, written', [
    ('yes', 'yes'), ('', '""'), ('/var/lib/my redis', '"/var/lib/my redis"'),
    ('say "hi"\\\n', '"say \\"hi\\"\\\\\\n"'), ('\x01', '"\\x01"'),
])
def test_quote_like_config_rewrite(value, written):
    assert quote(value) == written


@pytest.mark.parametrize('text, expected', [
    ('# databases 4\nport 1\nDatabases 8\n  databases 9\n', '# databases 4\nport 1\ndatabases 32\n'),
    ('port 1\n', 'port 1\ndatabases 32\n'),
    ('port 1', 'port 1\ndatabases 32\n'),
    ('', 'databases 32\n'),
    ('databases 32\n', 'databases 32\n'),
])
def test_set_directive(text, expected):
    assert set_directive(text, 'databases', '32') == expected


# The module against real servers.

def test_values_already_set_change_nothing(run_module, server):
    failed, result = run(run_module, server, settings={
        'maxmemory': 0, 'appendonly': False, 'save': '""', 'maxmemory-policy': 'noeviction', 'Timeout': '0'})
    assert not failed, result['msg']
    assert result['changed'] is False and result['changed_settings'] == [] and result['restart_required'] == []
    assert result['diff']['before'] == result['diff']['after'] == (
        'maxmemory 0\nappendonly no\nsave ""\nmaxmemory-policy noeviction\ntimeout 0\n')
    assert result['msg'] == 'The 5 settings already have the requested values on %s.' % server.address


def test_memory_units_and_idempotence(run_module, server):
    failed, result = run(run_module, server, settings={'maxmemory': '100mb'})
    assert not failed, result['msg']
    assert result['changed'] is True and result['changed_settings'] == ['maxmemory']
    assert result['diff'] == dict(before='maxmemory 0\n', after='maxmemory 100mb\n')
    assert config_get(server, 'maxmemory') == '104857600'

    for same in ('100mb', '100MB', '102400kb', 104857600, '104857600'):
        failed, result = run(run_module, server, settings={'maxmemory': same})
        assert not failed and result['changed'] is False, same

    failed, result = run(run_module, server, settings={'maxmemory': '100m'})
    assert result['changed'] is True and config_get(server, 'maxmemory') == '100000000'


def test_booleans_and_lists(run_module, server):
    settings = {'lazyfree-lazy-eviction': True, 'save': ['3600 1', '300  100'], 'bind': ['127.0.0.1', '-::1']}
    failed, result = run(run_module, server, settings=settings)
    assert not failed, result['msg']
    assert result['changed_settings'] == ['lazyfree-lazy-eviction', 'save', 'bind']
    assert config_get(server, 'lazyfree-lazy-eviction') == 'yes'
    assert config_get(server, 'save') == '3600 1 300 100'
    assert config_get(server, 'bind') == '127.0.0.1 -::1'

    same = {'lazyfree-lazy-eviction': 'YES', 'save': '3600 1  300 100', 'bind': ' 127.0.0.1   -::1'}
    failed, result = run(run_module, server, settings=same)
    assert not failed and result['changed'] is False, result['msg']

    # The order of bind is kept, and so compared.
    failed, result = run(run_module, server, settings={'bind': ['-::1', '127.0.0.1']})
    assert result['changed'] is True and config_get(server, 'bind') == '-::1 127.0.0.1'

    failed, result = run(run_module, server, settings={'save': '""'})
    assert result['changed'] is True and config_get(server, 'save') == ''
    assert result['diff']['after'] == 'save ""\n'
    for empty in ([], '', "''"):
        failed, result = run(run_module, server, settings={'save': empty})
        assert not failed and result['changed'] is False, empty


def test_secrets_are_masked(run_module, server, capsys):
    masterauth = 'masterauth secret 42'
    args = dict(secret_settings={'requirepass': PASSWORD}, settings={'masterauth': masterauth, 'maxmemory': '1mb'})
    failed, result = run(run_module, server, **args)
    assert not failed, result['msg']
    assert result['changed_settings'] == ['masterauth', 'maxmemory', 'requirepass']
    assert result['diff'] == dict(before='masterauth ********\nmaxmemory 0\nrequirepass ********\n',
                                  after='masterauth (changed)\nmaxmemory 1mb\nrequirepass (changed)\n')
    server.password = PASSWORD
    assert config_get(server, 'requirepass') == PASSWORD and config_get(server, 'masterauth') == masterauth

    failed, again = run(run_module, server, **args)
    assert not failed and again['changed'] is False
    assert again['diff']['after'] == 'masterauth ********\nmaxmemory 1048576\nrequirepass ********\n'

    output = json.dumps([result, again]) + ''.join(capsys.readouterr())
    assert PASSWORD not in output and masterauth not in output


def test_secrets_are_absent_from_the_real_module_output(server, tmp_path):
    """Run as Ansible does (real exit_json, with the invocation): no secret in stdout."""
    exposed = 'exposed secret 77'
    args = dict(login_port=server.port, settings={'masterauth': exposed}, secret_settings={'requirepass': PASSWORD})
    proc = run_module_process('redis_config', args, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert PASSWORD not in proc.stdout + proc.stderr and exposed not in proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert result['changed'] is True and result['changed_settings'] == ['masterauth', 'requirepass']
    # ansible-core 2.19 returns warnings as structured events.
    assert 'settings holds masterauth, a secret: give it in secret_settings' in json.dumps(result['warnings'])
    assert 'masterauth' in result['invocation']['module_args']['settings']


def test_check_mode_changes_nothing(run_module, server):
    conf = server.workdir / 'redis.conf'
    before = conf.read_bytes()
    failed, result = run(run_module, server, check_mode=True, config_file=str(conf),
                         settings={'maxmemory': '10mb', 'databases': 32, 'appendonly': 'no'},
                         secret_settings={'requirepass': PASSWORD})
    assert not failed, result['msg']
    assert result['changed'] is True and result['restart_required'] == []
    assert result['changed_settings'] == ['maxmemory', 'databases', 'requirepass']
    assert result['diff']['after'] == 'maxmemory 10mb\ndatabases 32\nappendonly no\nrequirepass (changed)\n'
    assert result['msg'] == 'Check mode: would change maxmemory, databases, requirepass on %s.' % server.address
    assert config_get(server, 'maxmemory') == '0' and config_get(server, 'databases') == '16'
    assert config_get(server, 'requirepass') == ''
    assert conf.read_bytes() == before


def test_config_rewrite_persists_the_change(run_module, server):
    conf = server.workdir / 'redis.conf'
    failed, result = run(run_module, server, settings={'maxmemory': '64mb'})
    assert not failed, result['msg']
    assert 'maxmemory 64mb' in conf.read_text().splitlines()
    assert result['msg'] == 'Changed maxmemory live on %s and saved with CONFIG REWRITE.' % server.address

    before = conf.read_text()
    failed, result = run(run_module, server, settings={'maxmemory': '32mb'}, rewrite=False)
    assert not failed and result['changed'] is True
    assert config_get(server, 'maxmemory') == str(32 * 1024 * 1024) and conf.read_text() == before


def test_restart_only_settings_go_to_config_file(run_module, server):
    conf = server.workdir / 'redis.conf'
    settings = {'maxmemory': '10mb', 'databases': 32, 'dbfilename': 'other dump.rdb'}
    failed, result = run(run_module, server, settings=settings, config_file=str(conf))
    assert not failed, result['msg']
    # maxmemory changed live; databases is immutable, dbfilename protected: both wait for a restart.
    assert result['changed'] is True and result['changed_settings'] == ['maxmemory', 'databases', 'dbfilename']
    assert result['restart_required'] == ['databases', 'dbfilename']
    assert 'Restart redis-server to apply databases, dbfilename: %s holds' % conf in result['msg']
    lines = conf.read_text().splitlines()
    assert 'maxmemory 10mb' in lines and 'databases 32' in lines and 'dbfilename "other dump.rdb"' in lines
    assert config_get(server, 'databases') == '16' and config_get(server, 'maxmemory') == '10485760'

    failed, result = run(run_module, server, settings=settings, config_file=str(conf))
    assert not failed and result['changed'] is False and result['changed_settings'] == []
    assert result['restart_required'] == ['databases', 'dbfilename']


def test_config_file_keeps_mode_owner_and_other_lines(run_module, server, tmp_path):
    etc = tmp_path / 'etc'
    etc.mkdir()
    conf = etc / 'redis.conf'
    conf.write_text('# databases 4\nport 6379\ndatabases 8\ninclude /etc/redis/local.conf\ndatabases 9\n')
    conf.chmod(0o640)
    stat = conf.stat()
    failed, result = run(run_module, server, settings={'databases': 32, 'daemonize': 'no'}, config_file=str(conf))
    assert not failed, result['msg']
    assert result['changed_settings'] == result['restart_required'] == ['databases']
    assert conf.read_text() == '# databases 4\nport 6379\ndatabases 32\ninclude /etc/redis/local.conf\n'
    after = conf.stat()
    assert (after.st_mode, after.st_uid, after.st_gid) == (stat.st_mode, stat.st_uid, stat.st_gid)
    assert after.st_ino != stat.st_ino  # replaced, not rewritten in place
    assert os.listdir(etc) == ['redis.conf']


def test_restart_only_setting_without_config_file_fails(run_module, server):
    failed, result = run(run_module, server, settings={'maxmemory': '10mb', 'databases': 32})
    assert failed and result['changed'] is False
    assert result['msg'] == (
        "databases cannot change while %s runs (can't set immutable config): give config_file so that the module "
        "writes it there for the next restart. Nothing was changed." % server.address)
    assert config_get(server, 'maxmemory') == '0'


def test_unknown_setting_fails_before_any_change(run_module, server):
    failed, result = run(run_module, server, settings={'maxmemory': '10mb', 'no-such-setting': 1, 'include': 'x'})
    assert failed and result['changed'] is False
    assert result['msg'].startswith('Unknown setting(s) on %s: no-such-setting, include.' % server.address)
    assert 'Nothing was changed' in result['msg']
    assert config_get(server, 'maxmemory') == '0'


def test_invalid_value_changes_nothing(run_module, server):
    failed, result = run(run_module, server, settings={'timeout': 5, 'maxmemory': 'lots'})
    assert failed and result['changed'] is False
    assert "possibly related to argument 'maxmemory') - argument must be a memory value" in result['msg']
    assert 'Nothing was changed: correct the value Redis names.' in result['msg']
    assert config_get(server, 'timeout') == '0'


def test_value_the_server_reports_differently_fails(run_module, server):
    failed, result = run(run_module, server, settings={'maxmemory-policy': 'ALLKEYS-LRU'})
    assert failed and result['changed'] is True and result['changed_settings'] == ['maxmemory-policy']
    assert "reports maxmemory-policy is 'allkeys-lru', not 'ALLKEYS-LRU'" in result['msg']
    assert 'the way CONFIG GET shows them' in result['msg']


def test_rewrite_without_config_file_fails_after_the_live_change(run_module, bare_server):
    failed, result = run(run_module, bare_server, settings={'maxmemory': '10mb'})
    assert failed and result['changed'] is True and result['changed_settings'] == ['maxmemory']
    assert 'Could not save the settings to the config file with CONFIG REWRITE on %s' % bare_server.address \
        in result['msg']
    assert 'or set rewrite to false' in result['msg']
    assert config_get(bare_server, 'maxmemory') == '10485760'

    failed, result = run(run_module, bare_server, settings={'maxmemory': '20mb'}, rewrite=False)
    assert not failed and result['changed'] is True


def test_password_protected_server(run_module, nodes):
    node = nodes.server(password=PASSWORD)
    failed, result = run(run_module, node, settings={'maxmemory': '5mb'}, secret_settings={'requirepass': PASSWORD})
    assert not failed, result['msg']
    assert result['changed_settings'] == ['maxmemory']
    assert result['diff']['before'].endswith('requirepass ********\n')

    for password in (None, "wrong 'pass' $x #y"):
        failed, result = run(run_module, node, settings={'maxmemory': '6mb'}, login_password=password)
        assert failed and result['changed'] is False
        assert 'AuthenticationError' in result['msg'] and 'Check login_password and login_user' in result['msg']
        assert PASSWORD not in json.dumps(result)
    assert config_get(node, 'maxmemory') == str(5 * 1024 * 1024)


def test_nothing_listening_fails_naming_the_address(run_module, closed_port):
    failed, result = run_module(redis_config.main, dict(login_port=closed_port, settings={'maxmemory': 0}))
    assert failed and result['changed'] is False
    assert result['msg'].startswith('Could not read the settings with CONFIG GET on 127.0.0.1:%d: ConnectionError'
                                    % closed_port)
    assert 'Check that redis-server runs there' in result['msg']


@pytest.mark.parametrize('args, message', [
    (dict(), 'one of the following is required: settings, secret_settings'),
    (dict(settings={'max*': 1}), "'max*' is not a Redis setting name"),
    (dict(settings={'max memory': 1}), "'max memory' is not a Redis setting name"),
    (dict(settings={'maxmemory': 1.5}), 'settings.maxmemory must be a string, an integer, a boolean or a list'),
    (dict(settings={'MaxMemory': 1}, secret_settings={'maxmemory': 2}), 'maxmemory is given twice'),
    (dict(settings={'maxmemory': 1}, config_file='/nonexistent/redis.conf'),
     'config_file /nonexistent/redis.conf is not an existing file'),
    (dict(settings={'maxmemory': 1}, login_port=0), 'login_port must be between 1 and 65535'),
    (dict(settings={'maxmemory': 1}, connect_timeout=0), 'connect_timeout must be greater than 0'),
])
def test_bad_input_is_rejected_before_connecting(run_module, closed_port, args, message):
    for check_mode in (False, True):
        failed, result = run_module(redis_config.main, dict(dict(login_port=closed_port), **args),
                                    check_mode=check_mode)
        assert failed and message in result['msg']
        assert 'ConnectionError' not in result['msg']
