# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The redis_config module's work: the settings of a running redis-server compared, set live and saved.

Shared by plugins/modules/redis_config.py and node_apply (one module run for a service's files and
live settings)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.acl import UserState, password_hash
from ansible_collections.redisops.sentinel.plugins.module_utils.address import format_address
from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    REDIS_PORT, RETRYABLE_ERRORS, ResponseError, connect, connection_argument_spec, connection_param_errors,
    ensure_redis_library, fail_on_param_errors)
from ansible_collections.redisops.sentinel.plugins.module_utils.config import (
    ALWAYS_SECRET, name_error, refused_live, same_value, set_directive, setting_text, shown)
from ansible_collections.redisops.sentinel.plugins.module_utils.tls import tls_hint
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import describe_error

try:
    from redis.exceptions import AuthenticationError, NoPermissionError
except ImportError:  # ensure_redis_library fails before they are needed; isinstance(x, ()) is False
    AuthenticationError = NoPermissionError = ()  # type: ignore[assignment,misc]

READ = 'read the settings with CONFIG GET'
SET = 'change the settings with CONFIG SET'
VERIFY = 'read the new settings back with CONFIG GET'
REWRITE = 'save the settings to the config file with CONFIG REWRITE'
# What a Redis error reply at each step means for the operator.
_REPLY_HINTS = {
    READ: '',
    SET: 'Nothing was changed: correct the value Redis names.',
    VERIFY: 'The new values are live but were not saved.',
    REWRITE: ('The new values are live but not saved: start redis-server with a config file it can write, '
              'or set rewrite to false.'),
}
_CONNECTION_HINT = ('Check that redis-server runs there, that login_host and login_port are right, and that its '
                    'bind, protected-mode and the firewall admit this host; for a tls-port, set tls to true.')


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(REDIS_PORT)
    spec.update(
        settings=dict(type='dict'),
        secret_settings=dict(type='dict', no_log=True),
        rewrite=dict(type='bool', default=True),
        requirepass_previous=dict(type='str', no_log=True),
        reload_tls=dict(type='bool', default=False),
        config_file=dict(type='path'),
    )
    return spec


@dataclass
class Wanted:
    """The requested values as CONFIG SET arguments, by lower-case name, in the order given."""

    values: dict[str, str] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)
    # Secrets given in settings, outside Ansible's no_log.
    exposed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, option: str, raw_name: Any, raw_value: Any) -> None:
        name = str(raw_name).lower()
        problem = name_error(name)
        if not problem and name in self.values:
            problem = '%s is given twice (names are case-insensitive and shared by settings and secret_settings)' % name
        if not problem:
            try:
                self.values[name] = setting_text(raw_value)
            except TypeError as exc:
                problem = '%s.%s %s' % (option, raw_name, exc)
        if problem:
            self.errors.append(problem)
        elif option == 'secret_settings' or name in ALWAYS_SECRET:
            self.secrets.add(name)
            if option == 'settings':
                self.exposed.append(name)


def wanted_settings(params: dict[str, Any]) -> Wanted:
    wanted = Wanted()
    for option in ('settings', 'secret_settings'):
        for name, value in (params[option] or {}).items():
            wanted.add(option, name, value)
    return wanted


def param_errors(params: dict[str, Any], wanted: Wanted) -> list[str]:
    errors = connection_param_errors(params)
    previous = params['requirepass_previous']
    if previous and not wanted.values.get('requirepass'):
        errors.append('requirepass_previous is the password being rotated out: give the new one as requirepass in '
                      'secret_settings')
    elif previous and previous == wanted.values['requirepass']:
        errors.append('requirepass_previous must differ from requirepass: it is the password being rotated out')
    path = params['config_file']
    if path and not os.path.isfile(path):
        errors.append('config_file %s is not an existing file: give the config file redis-server was started '
                      'with (INFO server shows it as config_file)' % path)
    return errors


def hide_exposed_secrets(module: AnsibleModule, wanted: Wanted) -> None:
    for name in wanted.exposed:
        if wanted.values[name]:
            module.no_log_values.add(wanted.values[name])
        module.warn('settings holds %s, a secret: give it in secret_settings so that Ansible keeps its value '
                    'out of logs' % name)


def hint(exc: BaseException, step: str, params: dict[str, Any]) -> str:
    if isinstance(exc, AuthenticationError):
        return ('Check login_password and login_user: they must match the requirepass or an ACL user of '
                'the server.')
    if isinstance(exc, NoPermissionError):
        return 'Grant the ACL user +config|get, +config|set and +config|rewrite.'
    if isinstance(exc, ResponseError) and 'unknown command' in str(exc).lower():
        return 'CONFIG is renamed or disabled on that server (rename-command in its redis.conf).'
    if isinstance(exc, ResponseError):
        return _REPLY_HINTS[step]
    return tls_hint(exc, params) or _CONNECTION_HINT


def failure(step: str, address: str, exc: BaseException, params: dict[str, Any]) -> str:
    msg = 'Could not %s on %s: %s.' % (step, address, describe_error(exc).rstrip('.'))
    advice = hint(exc, step, params)
    return '%s %s' % (msg, advice) if advice else msg


def diff_of(wanted: Wanted, current: dict[str, str], differ: list[str]) -> dict[str, str]:
    def lines(values: dict[str, str], after: bool) -> str:
        return ''.join('%s %s\n' % (name, shown(values[name], name in wanted.secrets, after and name in differ))
                       for name in wanted.values)

    after = {name: wanted.values[name] if name in differ else current[name] for name in wanted.values}
    return dict(before=lines(current, False), after=lines(after, True))


class RedisConfig:
    """The requested settings on one running server; remembers what it changed live."""

    def __init__(self, module: AnsibleModule, wanted: Wanted):
        self.module, self.params, self.wanted = module, module.params, wanted
        self.address = format_address(self.params['login_host'], self.params['login_port'])
        self.client = connect(self.params)
        self.step = READ
        self.live: list[str] = []

    def fail(self, msg: str, **result: Any) -> None:
        self.module.fail_json(msg=msg, changed=bool(self.live), changed_settings=list(self.live),
                              restart_required=[], **result)

    def current(self, names: list[str]) -> dict[str, str | None]:
        """CONFIG GET of each name; None for a name the server does not know."""
        return {name: next(iter(self.client.config_get(name).values()), None) for name in names}

    def differing(self, current: dict[str, str]) -> list[str]:
        return [name for name, value in current.items()
                if not same_value(value, self.wanted.values[name], name in self.wanted.secrets)]

    def set_live(self, pending: dict[str, str], keep_going: bool) -> dict[str, str]:
        """CONFIG SET the pending settings together; return {name: reason} of those only a restart can change.

        Redis rejects the whole command for one such setting, so it is dropped and the rest sent again.
        Without ``keep_going``, stop at the first one, before anything changed.
        """
        refused: dict[str, str] = {}
        while pending:
            problem = self._config_set(pending)
            if problem is None:
                self.live = list(pending)
                break
            name, reason = problem
            refused[name] = reason
            if not keep_going:
                break
            pending = {other: value for other, value in pending.items() if other != name}
        return refused

    def _config_set(self, pending: dict[str, str]) -> tuple[str, str] | None:
        """None once set, else (name, reason) of the setting that made Redis refuse to change anything."""
        try:
            self.client.execute_command('CONFIG', 'SET', *chain.from_iterable(pending.items()))
        except ResponseError as exc:
            problem = refused_live(str(exc))
            if problem is None or problem[0] not in pending:
                raise
            return problem
        return None

    def mismatches(self) -> list[str]:
        """The settings changed live that the server does not report with the requested value."""
        found = []
        for name, value in self.current(self.live).items():
            wanted, secret = self.wanted.values[name], name in self.wanted.secrets
            if not same_value(value or '', wanted, secret):
                found.append('%s differs from the requested value' % name if secret
                             else '%s is %r, not %r' % (name, value, wanted))
        return found

    def edit_config_file(self, values: dict[str, str]) -> list[str]:
        """Set each directive in config_file; return the names whose lines changed."""
        path = self.params['config_file']
        try:
            with open(path, encoding='utf-8', errors='surrogateescape', newline='') as handle:
                text = handle.read()
        except OSError as exc:
            self.fail_file(path, exc)
        edited = []
        for name, value in values.items():
            updated = set_directive(text, name, value)
            if updated != text:
                edited.append(name)
                text = updated
        if edited:
            self.replace_file(path, text)
        return edited

    def replace_file(self, path: str, text: str) -> None:
        """Write a temporary file next to ``path`` with its owner, then move it over ``path`` atomically
        (atomic_move also copies the mode and the SELinux context)."""
        try:
            stat = os.stat(path)
            handle, temp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix='.redis_config.')
            self.module.add_cleanup_file(temp)
            with os.fdopen(handle, 'w', encoding='utf-8', errors='surrogateescape', newline='') as stream:
                stream.write(text)
            os.chown(temp, stat.st_uid, stat.st_gid)
        except OSError as exc:
            self.fail_file(path, exc)
        self.module.atomic_move(temp, path)

    def fail_file(self, path: str, exc: OSError) -> None:
        live = ' The settings changed live (%s) are applied.' % ', '.join(self.live) if self.live else ''
        self.fail('Could not update config_file %s: %s. Run the task as the owner of the file or as root '
                  '(become), with write access to its directory.%s' % (path, describe_error(exc), live))

    def accepted(self) -> list[str]:
        """The passwords the default user must have: requirepass, and the previous one during a rotation."""
        previous = self.params['requirepass_previous']
        return [self.wanted.values['requirepass']] + ([previous] if previous else [])

    def default_hashes(self) -> frozenset:
        """The SHA-256 of each password of the default user (ACL GETUSER, Redis 6 or later)."""
        reply = self.client.execute_command('ACL', 'GETUSER', 'default')
        return UserState.from_getuser(reply).hashes if reply is not None else frozenset()

    def default_user_differs(self) -> bool:
        return self.default_hashes() != frozenset(password_hash(password) for password in self.accepted())

    def set_default_passwords(self) -> None:
        """Exactly the accepted passwords, in one command: no client with one of them is refused meanwhile."""
        self.client.execute_command('ACL', 'SETUSER', 'default', 'resetpass',
                                    *('>' + password for password in self.accepted()))

    def close(self) -> None:
        self.client.close()


def password_plan(config: RedisConfig, current: dict[str, str], differ: list[str]) -> tuple[list[str], bool]:
    """The settings CONFIG SET must change, and whether the default user's passwords must be set after it.

    requirepass is the default user's password: it is right when the default user has exactly the accepted
    passwords and CONFIG GET requirepass shows one of them (the previous one too, during a rotation: it
    changes to the new one only when the previous one goes, which drops it from the default user).
    """
    if not config.wanted.values.get('requirepass'):
        return differ, False
    accepted = config.accepted()
    batch = [name for name in differ if name != 'requirepass' or current[name] not in accepted]
    return batch, config.default_user_differs()


def outcome(config: RedisConfig, differ: list[str], restart: list[str], edited: list[str],
            rewrote: bool) -> dict[str, Any]:
    changed = config.live + edited
    parts = []
    if config.module.check_mode:
        parts.append('Check mode: would change %s on %s.' % (', '.join(differ), config.address) if differ
                     else 'Check mode: nothing to change on %s.' % config.address)
        changed = differ
    if config.live:
        saved = ' and saved with CONFIG REWRITE' if rewrote else ''
        parts.append('Changed %s live on %s%s.' % (', '.join(config.live), config.address, saved))
    if restart:
        parts.append('Restart redis-server to apply %s: %s holds the new value(s).'
                     % (', '.join(restart), config.params['config_file']))
    if not parts:
        parts.append('The %d settings already have the requested values on %s.'
                     % (len(config.wanted.values), config.address))
    return dict(changed=bool(changed), changed_settings=changed, restart_required=restart, msg=' '.join(parts))


def converge(config: RedisConfig) -> dict[str, Any]:
    """Read, compare and, outside check mode, change the settings; the result without the diff."""
    wanted, params = config.wanted, config.params
    current = config.current(list(wanted.values))
    unknown = [name for name, value in current.items() if value is None]
    if unknown:
        config.fail('Unknown setting(s) on %s: %s. CONFIG GET returns nothing for them: check the names against '
                    'the redis.conf of the running Redis version. Nothing was changed.'
                    % (config.address, ', '.join(unknown)))
    batch, set_default = password_plan(config, current, config.differing(current))
    differ = batch + (['requirepass'] if set_default and 'requirepass' not in batch else [])
    result = dict(diff=diff_of(wanted, current, differ))
    if config.module.check_mode or not differ:
        return dict(result, **outcome(config, differ, [], [], False))
    config.step = SET
    refused = config.set_live({name: wanted.values[name] for name in batch}, bool(params['config_file']))
    if refused and not params['config_file']:
        name, reason = next(iter(refused.items()))
        config.fail('%s cannot change while %s runs (%s): give config_file so that the module writes it there '
                    'for the next restart. Nothing was changed.' % (name, config.address, reason), **result)
    config.step = VERIFY
    wrong = config.mismatches()
    if wrong:
        config.fail('After CONFIG SET, %s reports %s. Write the values the way CONFIG GET shows them. The new '
                    'values are live but were not saved.' % (config.address, '; '.join(wrong)), **result)
    if set_default and config.default_user_differs():
        config.step = SET
        config.set_default_passwords()
        config.step = VERIFY
        if config.default_user_differs():
            config.fail('After ACL SETUSER default, %s does not report the requested passwords of the default user. '
                        'The new values are live but were not saved.' % config.address, **result)
    if set_default and 'requirepass' not in config.live:
        config.live.append('requirepass')
    rewrote = bool(config.live) and params['rewrite']
    if rewrote:
        config.step = REWRITE
        config.client.config_rewrite()
    edited = config.edit_config_file({name: wanted.values[name] for name in refused}) if refused else []
    return dict(result, **outcome(config, differ, list(refused), edited, rewrote))


TLS_FILE_SETTINGS = ('tls-cert-file', 'tls-key-file', 'tls-ca-cert-file', 'tls-client-cert-file',
                     'tls-client-key-file')


def reload_tls(config: RedisConfig, result: dict[str, Any]) -> dict[str, Any]:
    """CONFIG SET of the TLS file settings to their current values, so the server reads the files again."""
    config.step = READ
    files = {name: value for name, value in config.current(list(TLS_FILE_SETTINGS)).items() if value}
    if not files:
        config.fail('reload_tls: %s has no TLS files configured (tls-cert-file is empty).' % config.address)
    msg = '%s %s the TLS files (%s) again.' % (
        'Check mode: would make' if config.module.check_mode else 'Made', config.address, ', '.join(files))
    if not config.module.check_mode:
        config.step = SET
        config.client.execute_command('CONFIG', 'SET', *chain.from_iterable(files.items()))
    return dict(result, changed=True, tls_reloaded=True, msg='%s %s' % (result['msg'], msg))


# The options' rules beyond their types, for AnsibleModule in the module and for node_apply's check of a step.
CONSTRAINTS: dict[str, Any] = dict(required_one_of=[('settings', 'secret_settings')])


def run(module: AnsibleModule) -> dict[str, Any]:
    """The module's work on its validated options: the result to exit with; a failure ends in module.fail_json."""
    wanted = wanted_settings(module.params)
    fail_on_param_errors(module, wanted.errors + param_errors(module.params, wanted))
    ensure_redis_library(module)
    hide_exposed_secrets(module, wanted)

    config = RedisConfig(module, wanted)
    try:
        result = dict(converge(config), tls_reloaded=False)
        if module.params['reload_tls']:
            result = reload_tls(config, result)
    except RETRYABLE_ERRORS as exc:
        config.fail(failure(config.step, config.address, exc, module.params))
    finally:
        config.close()
    return result
