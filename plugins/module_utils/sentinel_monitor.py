# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sentinel_monitor module's work: one master group monitored by a running Sentinel, created,
tuned or removed through the Sentinel API.

Shared by plugins/modules/sentinel_monitor.py and node_apply."""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.acl import password_hash
from ansible_collections.redisops.sentinel.plugins.module_utils.address import format_address
from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    REDIS_PORT, RETRYABLE_ERRORS, SENTINEL_PORT, ResponseError, connect, connection_argument_spec,
    connection_param_errors, ensure_redis_library, fail_on_param_errors, port_error)
from ansible_collections.redisops.sentinel.plugins.module_utils.sentinel import (
    node_address, sentinel_master)
from ansible_collections.redisops.sentinel.plugins.module_utils.tls import tls_hint
from ansible_collections.redisops.sentinel.plugins.module_utils.validate import (
    MASTER_NAME_CHARACTERS, is_master_name, survives_unquoted)
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import describe_error

# Module option -> SENTINEL SET option, for the values SENTINEL MASTER reports.
TUNABLES = {'quorum': 'quorum', 'down_after_milliseconds': 'down-after-milliseconds',
            'parallel_syncs': 'parallel-syncs', 'failover_timeout': 'failover-timeout'}
# Module option -> SENTINEL SET option, for the credentials only the configuration file shows.
CREDENTIALS = {'auth_user': 'auth-user', 'auth_pass': 'auth-pass'}
SET_OPTIONS = dict(TUNABLES, **CREDENTIALS)
MASK = '********'
# Redis's isspace() and the characters that end an unquoted word (sdssplitargs).
_BLANKS = b' \t\n\r\x0b\x0c'
_WORD_ENDS = (b'', b' ', b'\n', b'\r', b'\t')
_ESCAPES = {b'n': b'\n', b'r': b'\r', b't': b'\t', b'b': b'\b', b'a': b'\a'}
_HEX = re.compile(rb'^[0-9a-fA-F]{2}$')
# Known causes of errors: words of the error (lower case), and what to do.
_HINTS = (
    (('unknown command',),
     '{sentinel} is not a Sentinel: point login_port at the Sentinel port (26379 by default), '
     'not at a Redis server.'),
    (('invalid ip address or hostname',),
     "The Sentinel does not accept master_host {master_host!r}: give an IP address, or set "
     "'sentinel resolve-hostnames yes' in its configuration (Redis 6.2 or later) so it resolves host names."),
    (('authentication required', 'noauth'),
     "The Sentinel requires a password: set login_password (and login_user for an ACL user) to the "
     "Sentinel's requirepass, which is not the data nodes' password (auth_pass)."),
    (('invalid username-password', 'invalid password', 'wrongpass'),
     "login_password (or login_user) is wrong for the Sentinel: use the Sentinel's requirepass."),
    (('without any password configured',),
     'The Sentinel has no password: leave login_password unset.'),
    (('noperm',),
     'login_user may not run this command: allow the SENTINEL command for it in the ACL of the Sentinel.'),
)
_UNREACHABLE_HINT = ('Check that redis-sentinel runs and listens on {sentinel} (bind, port) and that no '
                     'firewall blocks it from this host; for a tls-port, set tls to true.')


class MonitorError(Exception):
    """A failure explained for the user; the message names no secret."""


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(SENTINEL_PORT)
    spec.update(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        master_host=dict(type='str'),
        master_port=dict(type='int', default=REDIS_PORT),
        quorum=dict(type='int'),
        down_after_milliseconds=dict(type='int'),
        parallel_syncs=dict(type='int'),
        failover_timeout=dict(type='int'),
        auth_user=dict(type='str'),
        auth_pass=dict(type='str', no_log=True),
        config_file=dict(type='path'),
        reset=dict(type='bool', default=False),
        requirepass=dict(type='str', no_log=True),
        requirepass_previous=dict(type='str', no_log=True),
    )
    return spec


def param_errors(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters, as readable sentences; none names a password."""
    errors = connection_param_errors(params)
    error = port_error('master_port', params['master_port'])
    if error:
        errors.append(error)
    if not is_master_name(params['name']):
        errors.append('name may only contain %s, got %r' % (MASTER_NAME_CHARACTERS, params['name']))
    errors += ['%s must be at least 1, got %d' % (option, params[option])
               for option in TUNABLES if params[option] is not None and params[option] < 1]
    errors += ['%s must not contain white space or quotes: Sentinel writes it unquoted when it rewrites '
               'its configuration file, which then no longer parses, so Sentinel could not restart' % option
               for option in CREDENTIALS if not survives_unquoted(params[option] or '')]
    if params['reset'] and params['state'] == 'absent':
        errors.append('reset needs state=present: the group is removed, there is nothing to reset')
    if params['requirepass_previous'] and not params['requirepass']:
        errors.append('requirepass_previous needs requirepass: it is the password being rotated out')
    elif params['requirepass_previous'] and params['requirepass_previous'] == params['requirepass']:
        errors.append('requirepass_previous must differ from requirepass')
    return errors


def split_config_line(line: bytes) -> list[bytes] | None:
    """The words of a configuration line as Redis reads them (sdssplitargs); None for bad quoting.

    Outside quotes a word ends at a blank. "..." knows the escapes \\xHH, \\n, \\r, \\t, \\b, \\a
    and backslash before any other character; '...' knows only \\'. Quotes may start inside a
    word; a closing quote must be followed by a blank or the end of the line.
    """
    words: list[bytes] = []
    pos = 0
    while True:
        while pos < len(line) and line[pos] in _BLANKS:
            pos += 1
        if pos >= len(line):
            return words
        word, pos = _read_word(line, pos)
        if word is None:
            return None
        words.append(word)


def _read_word(line: bytes, pos: int) -> tuple[bytes | None, int]:
    """One word starting at ``pos`` and the position after it, or None for bad quoting."""
    word, quote = bytearray(), None
    while True:
        char, following = line[pos:pos + 1], line[pos + 1:pos + 2]
        if quote is None and char in _WORD_ENDS:
            return bytes(word), pos + 1
        if quote is None and char in (b'"', b"'"):
            quote, pos = char, pos + 1
        elif quote is None:
            word, pos = word + char, pos + 1
        elif not char or (char == quote and following and following not in _BLANKS):
            return None, pos
        elif char == quote:
            return bytes(word), pos + 1
        elif quote == b'"' and char == b'\\' and following == b'x' and _HEX.match(line[pos + 2:pos + 4]):
            word, pos = word + bytes([int(line[pos + 2:pos + 4], 16)]), pos + 4
        elif quote == b'"' and char == b'\\' and following:
            word, pos = word + _ESCAPES.get(following, following), pos + 2
        elif quote == b"'" and char == b'\\' and following == b"'":
            word, pos = word + following, pos + 2
        else:
            word, pos = word + char, pos + 1


def read_config_file(path: str, name: str) -> tuple[bool, dict[str, str | None]]:
    """Whether the file has 'sentinel monitor <name>', and its auth-user / auth-pass for ``name``.

    A line that does not split into four words is Sentinel's own unquoted rewrite of a value with
    blanks or quotes: the value is then the rest of the line.
    """
    with open(path, 'rb') as handle:
        lines = handle.read().split(b'\n')
    options = {value.encode(): option for option, value in CREDENTIALS.items()}
    group = name.encode()
    monitored, found = False, dict.fromkeys(CREDENTIALS)
    for line in (raw.strip(b' \t\r\n') for raw in lines):
        if line.startswith(b'#'):
            continue
        words = split_config_line(line)
        fields = line.split() if words is None else words
        if len(fields) < 3 or fields[0].lower() != b'sentinel' or fields[2] != group:
            continue
        keyword = fields[1].lower()
        monitored = monitored or keyword == b'monitor'
        if keyword in options:
            found[options[keyword]] = b' '.join(fields[3:]).decode('utf-8', 'surrogateescape')
    return monitored, found


def sentinel_call(params: dict[str, Any], shown: str, call: Callable[..., Any], *args: Any) -> Any:
    """``call(*args)``, its errors turned into a MonitorError naming ``shown`` (the command, no secret)."""
    try:
        return call(*args)
    except RETRYABLE_ERRORS as exc:
        raise MonitorError('Sentinel %s: %s failed: %s. %s' % (
            format_address(params['login_host'], params['login_port']), shown,
            describe_error(exc).rstrip('.'), hint(exc, params))) from exc


def hint(exc: BaseException, params: dict[str, Any]) -> str:
    text = str(exc).lower()
    values = dict(sentinel=format_address(params['login_host'], params['login_port']),
                  master_host=params['master_host'])
    for words, advice in _HINTS:
        if any(word in text for word in words):
            return advice.format(**values)
    if isinstance(exc, ResponseError):
        return ''
    return tls_hint(exc, params) or _UNREACHABLE_HINT.format(**values)


def _config_value(reply: Any) -> str:
    """The value of a one-parameter SENTINEL CONFIG GET reply (RESP2 list or RESP3 map), '' when unset."""
    values = list(reply.values()) if isinstance(reply, dict) else list(reply)[1::2]
    return str(values[0] or '') if values else ''


def own_password_changes(module: AnsibleModule, client) -> tuple[dict[str, Any], dict[str, Any], list[tuple]]:
    """The Sentinel's own password before and after (counts and masks only) and the commands to run.

    Each command is (option changed, shown text, arguments); the arguments hold the passwords: they are
    run, never shown.
    """
    params = module.params
    new, previous = params['requirepass'], params['requirepass_previous']
    user = sentinel_call(params, 'ACL GETUSER default', client.execute_command, 'ACL', 'GETUSER', 'default')
    fields = user if isinstance(user, dict) else dict(zip(user[::2], user[1::2]))
    hashes = {str(item) for item in fields.get('passwords') or []}
    nopass = 'nopass' in [str(flag) for flag in fields.get('flags') or []]
    wanted = {password_hash(new)} | ({password_hash(previous)} if previous else set())
    current_pass = _config_value(sentinel_call(params, 'SENTINEL CONFIG GET sentinel-pass', client.execute_command,
                                               'SENTINEL', 'CONFIG', 'GET', 'sentinel-pass'))
    commands: list[tuple] = []
    if nopass or hashes != wanted:
        commands.append(('requirepass', 'ACL SETUSER default resetpass',
                         ('ACL', 'SETUSER', 'default', 'resetpass', '>' + new) + (('>' + previous,) if previous else ())))
    if current_pass != new and (commands or previous or current_pass):
        if not survives_unquoted(new):
            raise MonitorError('requirepass must not contain white space or quotes to become the password Sentinel '
                               'logs in to the other Sentinels with (sentinel-pass): Sentinel writes it unquoted '
                               'into its configuration file, which then no longer parses. Nothing was changed.')
        commands.append(('sentinel_pass', 'SENTINEL CONFIG SET sentinel-pass',
                         ('SENTINEL', 'CONFIG', 'SET', 'sentinel-pass', new)))
    changed = [command[0] for command in commands]
    before = dict(requirepass='nopass' if nopass else '%d password(s)' % len(hashes),
                  sentinel_pass=MASK if current_pass else None)
    after = dict(requirepass='%d password(s)%s' % (len(wanted), ' (changed)' if 'requirepass' in changed else ''),
                 sentinel_pass=(MASK + ' (changed)') if 'sentinel_pass' in changed else before['sentinel_pass'])
    return before, after, commands


def converge_own_password(module: AnsibleModule, client) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Give the Sentinel its own password(s) and sentinel-pass, saved in its file.

    Returns the diff's before and after entries (no secret) and the options changed.
    """
    before, after, commands = own_password_changes(module, client)
    if commands and not module.check_mode:
        for _option, shown, arguments in commands:
            sentinel_call(module.params, shown, client.execute_command, *arguments)
        sentinel_call(module.params, 'SENTINEL FLUSHCONFIG', client.execute_command, 'SENTINEL', 'FLUSHCONFIG')
    return before, after, [command[0] for command in commands]


def current_group(master: dict[str, Any] | None) -> dict[str, Any]:
    """The group as the Sentinel reports it, keyed by module option."""
    if master is None:
        return dict(state='absent')
    group = dict(state='present', master=node_address(master))
    group.update((option, master.get(key)) for option, key in TUNABLES.items())
    return group


def current_credentials(module: AnsibleModule) -> dict[str, str]:
    """The managed credentials the monitored group has now ('' for none), empty when unknown."""
    params = module.params
    managed = [option for option in CREDENTIALS if params[option] is not None]
    if not managed:
        return {}
    if not params['config_file']:
        module.warn('%s not compared with what Sentinel %s uses for %r, nor applied: SENTINEL MASTER does '
                    'not report them. Set config_file to the Sentinel configuration file to manage them.'
                    % (' and '.join(managed), format_address(params['login_host'], params['login_port']),
                       params['name']))
        return {}
    path = params['config_file']
    try:
        monitored, found = read_config_file(path, params['name'])
    except OSError as exc:
        raise MonitorError('Cannot read config_file %s (%s): run the task as a user that may read it (the '
                           'file is private to the Sentinel user; become: true) or leave config_file unset.'
                           % (path, exc.strerror or exc)) from exc
    if not monitored:
        raise MonitorError("config_file %s has no 'sentinel monitor %s' line, but the Sentinel monitors %s: "
                           'it is not the file this Sentinel uses (INFO server shows it as config_file).'
                           % (path, params['name'], params['name']))
    return {option: found[option] or '' for option in managed}


def wanted_changes(params: dict[str, Any], current: dict[str, Any], options: Iterable[str]) -> dict[str, Any]:
    """The given ``options`` whose value differs from ``current`` ('' for unset credentials)."""
    return {option: params[option] for option in options
            if params[option] is not None and params[option] != current.get(option, '')}


def shown_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """before / after with auth_pass replaced by null, MASK or MASK (changed)."""
    diff = dict(before=dict(before), after=dict(after))
    for side in diff.values():
        if 'auth_pass' in side:
            side['auth_pass'] = MASK if side['auth_pass'] else None
    if before.get('auth_pass') and after.get('auth_pass') and before['auth_pass'] != after['auth_pass']:
        diff['after']['auth_pass'] = MASK + ' (changed)'
    return diff


def set_arguments(changes: dict[str, Any]) -> list[Any]:
    return [item for option, value in changes.items() for item in (SET_OPTIONS[option], value)]


def sentinel_set(module: AnsibleModule, client, changes: dict[str, Any]) -> None:
    """One SENTINEL SET for all ``changes``; the shown command names the options only."""
    if not changes or module.check_mode:
        return
    name = module.params['name']
    arguments = set_arguments(changes)
    sentinel_call(module.params, 'SENTINEL SET %s %s' % (name, ' '.join(arguments[::2])),
                  client.execute_command, 'SENTINEL', 'SET', name, *arguments)


def create(module: AnsibleModule, client, result: dict[str, Any]) -> dict[str, Any]:
    """SENTINEL MONITOR, then SENTINEL SET for the other options. Returns the group after."""
    params = module.params
    missing = [option for option in ('master_host', 'quorum') if not params[option]]
    if missing:
        raise MonitorError('Sentinel %s does not monitor %r: %s required to create it with SENTINEL MONITOR.'
                           % (format_address(params['login_host'], params['login_port']), params['name'],
                              ' and '.join(missing) + (' is' if len(missing) == 1 else ' are')))
    name, host, port, quorum = params['name'], params['master_host'], params['master_port'], params['quorum']
    changes = wanted_changes(params, {}, list(TUNABLES) + list(CREDENTIALS))
    if not module.check_mode:
        sentinel_call(params, 'SENTINEL MONITOR %s %s %d %d' % (name, host, port, quorum),
                      client.execute_command, 'SENTINEL', 'MONITOR', name, host, port, quorum)
    result.update(changed=True, created=True, changed_options=list(changes))
    sentinel_set(module, client, {option: value for option, value in changes.items() if option != 'quorum'})
    if not module.check_mode:
        master = sentinel_call(params, 'SENTINEL MASTER %s' % name, sentinel_master, client, name)
        result['master'] = node_address(master) if master else None
    return dict(state='present', master=format_address(host, port), **changes)


def update(module: AnsibleModule, client, before: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """SENTINEL SET for the options that differ from ``before``. Returns the group after."""
    changes = wanted_changes(module.params, before, TUNABLES)
    changes.update(wanted_changes(module.params, before, [option for option in CREDENTIALS if option in before]))
    sentinel_set(module, client, changes)
    result.update(changed=bool(changes), changed_options=list(changes))
    return dict(before, **changes)


def remove(module: AnsibleModule, client, result: dict[str, Any]) -> dict[str, Any]:
    name = module.params['name']
    if not module.check_mode:
        sentinel_call(module.params, 'SENTINEL REMOVE %s' % name, client.execute_command, 'SENTINEL', 'REMOVE', name)
    result.update(changed=True, removed=True, master=None)
    return dict(state='absent')


def converge(module: AnsibleModule, client, result: dict[str, Any]) -> None:
    """Bring the group to the wanted state, recording in ``result`` what was (or would be) done."""
    params = module.params
    name = params['name']
    own_before, own_after, own_changes = converge_own_password(module, client) if params['requirepass'] else ({}, {}, [])
    before = current_group(sentinel_call(params, 'SENTINEL MASTER %s' % name, sentinel_master, client, name))
    result['master'] = before.get('master')
    if params['state'] == 'absent':
        after = remove(module, client, result) if before['state'] == 'present' else before
    elif before['state'] == 'absent':
        after = create(module, client, result)
    else:
        before.update(current_credentials(module))
        after = update(module, client, before, result)
    diff = shown_diff(before, after)
    result.update(diff=dict(before=dict(diff['before'], **own_before), after=dict(diff['after'], **own_after)),
                  changed=result['changed'] or bool(own_changes),
                  changed_options=own_changes + result['changed_options'])
    if params['reset']:
        if not module.check_mode:
            sentinel_call(params, 'SENTINEL RESET %s' % name, client.execute_command, 'SENTINEL', 'RESET', name)
        result.update(changed=True, reset=True)


# The options' rules beyond their types: none (node_apply checks a step of each module with its CONSTRAINTS).
CONSTRAINTS: dict[str, Any] = {}


def run(module: AnsibleModule) -> dict[str, Any]:
    """The module's work on its validated options: the result to exit with; a failure ends in module.fail_json."""
    fail_on_param_errors(module, param_errors(module.params))
    ensure_redis_library(module)
    result: dict[str, Any] = dict(changed=False, master=None, created=False, removed=False, reset=False,
                                  changed_options=[])
    client = connect(module.params)
    try:
        converge(module, client, result)
    except MonitorError as exc:
        module.fail_json(msg=str(exc), **result)
    finally:
        client.close()
    return result
