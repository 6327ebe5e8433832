# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The redis_acl module's work: the ACL users of a running redis-server compared, set and saved.

Shared by plugins/modules/redis_acl.py and node_apply."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.sentinel.plugins.module_utils.acl import (
    UserState, absent_lines, password_hash, redact, rule_words, rules_error)
from ansible_collections.redisops.sentinel.plugins.module_utils.address import format_address
from ansible_collections.redisops.sentinel.plugins.module_utils.client import (
    REDIS_PORT, RETRYABLE_ERRORS, ResponseError, connect, connection_argument_spec, connection_param_errors,
    ensure_redis_library, fail_on_param_errors)
from ansible_collections.redisops.sentinel.plugins.module_utils.tls import tls_hint
from ansible_collections.redisops.sentinel.plugins.module_utils.validate import acl_user_name_error
from ansible_collections.redisops.sentinel.plugins.module_utils.wait import describe_error

try:
    from redis.exceptions import AuthenticationError, NoPermissionError
except ImportError:  # ensure_redis_library fails before they are needed; isinstance(x, ()) is False
    AuthenticationError = NoPermissionError = ()  # type: ignore[assignment,misc]

# The temporary user that canonicalises rules: this prefix and 32 random hex digits.
SCRATCH_PREFIX = 'redisops-acl-check-'
MIN_VERSION = (7, 0)
DEFAULT_USER = 'default'
# Action of a change -> key of the result that lists the users it applies to.
DONE = dict(create='created', update='updated', remove='removed')
NO_ACL_FILE = 'not configured to use an ACL file'

READ = 'read the ACL users'
CHECK = 'check the rules with a temporary ACL user'
APPLY = 'change the ACL users'
SAVE = 'save the ACL users'
_REPLY_HINTS = {
    READ: '',
    CHECK: 'Nothing was changed.',
    APPLY: '',
    SAVE: ('The users are changed live but not saved: start the server with a config file it can write, or '
           'set rewrite to false.'),
}
_CONNECTION_HINT = ('Check that the server runs there, that login_host and login_port are right, and that its '
                    'bind, protected-mode and the firewall admit this host; for a tls-port, set tls to true.')
# Commands the module runs as the login user, checked with ACL DRYRUN before that user's rules change:
# (name, arguments).
_NEEDED = (('ACL WHOAMI', ('ACL', 'WHOAMI')), ('ACL USERS', ('ACL', 'USERS')),
           ('ACL GETUSER', ('ACL', 'GETUSER', 'x')), ('ACL SETUSER', ('ACL', 'SETUSER', 'x')),
           ('ACL DELUSER', ('ACL', 'DELUSER', 'x')), ('ACL DRYRUN', ('ACL', 'DRYRUN', 'x', 'PING')),
           ('INFO', ('INFO', 'server')))


def argument_spec() -> dict[str, dict[str, Any]]:
    spec = connection_argument_spec(REDIS_PORT)
    spec.update(
        users=dict(type='list', elements='dict', required=True, options=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            enabled=dict(type='bool', default=True),
            passwords=dict(type='list', elements='str', no_log=True, default=[]),
            nopass=dict(type='bool', default=False),
            rules=dict(type='raw', default=''),
        )),
        purge=dict(type='bool', default=False),
        rewrite=dict(type='bool', default=True),
        allow_lockout=dict(type='bool', default=False),
    )
    return spec


@dataclass
class WantedUser:
    index: int
    name: str
    present: bool
    enabled: bool
    nopass: bool
    passwords: list[str]
    words: list[str]

    @property
    def label(self) -> str:
        return 'users[%d] (%s)' % (self.index, self.name)

    def state(self, rules: str) -> UserState:
        hashes = frozenset() if self.nopass else frozenset(password_hash(password) for password in self.passwords)
        return UserState(enabled=self.enabled, nopass=self.nopass, hashes=hashes, rules=rules)

    def setuser_args(self) -> list[str]:
        secret = ['nopass'] if self.nopass else ['>' + password for password in self.passwords]
        return ['reset', 'on' if self.enabled else 'off'] + secret + self.words


def wanted_users(params: dict[str, Any]) -> tuple[list[WantedUser], list[str]]:
    users, errors, seen = [], [], set()
    for index, raw in enumerate(params['users']):
        name = raw['name']
        label = 'users[%d] (%s)' % (index, name)
        problem = acl_user_name_error(name)
        if problem:
            errors.append('users[%d]: %s' % (index, problem))
            continue
        if name in seen:
            errors.append('%s: the user is listed twice' % label)
        seen.add(name)
        if name.startswith(SCRATCH_PREFIX):
            errors.append('%s: names starting with %s are reserved for the temporary user of the module'
                          % (label, SCRATCH_PREFIX))
        if name == DEFAULT_USER and raw['state'] == 'absent':
            errors.append('%s: Redis cannot remove the default user; set enabled to false instead' % label)
        if raw['nopass'] and raw['passwords']:
            errors.append('%s: nopass and passwords are mutually exclusive' % label)
        try:
            words = rule_words(raw['rules'])
        except TypeError as exc:
            errors.append('%s: rules %s' % (label, exc))
            continue
        problem = rules_error(words)
        if problem:
            errors.append('%s: rules %s' % (label, problem))
        users.append(WantedUser(index=index, name=name, present=raw['state'] == 'present', enabled=raw['enabled'],
                                nopass=raw['nopass'], passwords=list(raw['passwords'] or []), words=words))
    return users, errors


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in text.split('.')[:2])


@dataclass
class Change:
    name: str
    action: str  # create, update or remove
    before: UserState | None
    after: UserState | None = None
    user: WantedUser | None = None


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    # (name, before, after) of every user shown in the diff, in order.
    shown: list[tuple[str, UserState | None, UserState | None]] = field(default_factory=list)


class AclUsers:
    """The declared users on one running server or Sentinel; remembers what it changed."""

    def __init__(self, module: AnsibleModule, wanted: list[WantedUser]):
        self.module, self.params, self.wanted = module, module.params, wanted
        self.address = format_address(self.params['login_host'], self.params['login_port'])
        self.client = connect(self.params)
        # The password this login uses: login_password, or the previous one when the server refused it.
        self.login_password: str | None = self.client.connection_pool.connection_kwargs.get('password')
        self.scratch = SCRATCH_PREFIX + secrets.token_hex(16)
        self.step = READ
        self.done: dict[str, list[str]] = dict(created=[], updated=[], removed=[])
        passwords = [password for user in wanted for password in user.passwords]
        logins = (self.params['login_password'], self.params['login_password_previous'])
        passwords.extend(password for password in logins if password)
        # Never shown: the passwords, and their hashes in case a reply echoes one.
        self.secrets = passwords + [password_hash(password) for password in passwords]
        self.sentinel = False
        self.login = DEFAULT_USER
        self.names: list[str] = []
        self.current: dict[str, UserState] = {}
        self.aclfile = ''
        # Commands the login user could no longer run with its wanted rules.
        self.lost_rights: list[str] = []
        self.scratch_words: tuple[str, ...] | None = None

    def command(self, *args: str) -> Any:
        return self.client.execute_command(*args)

    def fail(self, msg: str, **result: Any) -> None:
        self.module.fail_json(msg=redact(msg, self.secrets), changed=any(self.done.values()), **self.done, **result)

    # Reading

    def read(self) -> None:
        info = self.client.info('server')
        self.sentinel = info.get('redis_mode') == 'sentinel'
        version = str(info.get('redis_version', ''))
        if version_tuple(version) < MIN_VERSION:
            self.fail('%s runs %s %s: redis_acl needs 7.0 or later (ACL GETUSER with selectors, ACL DRYRUN). '
                      'Nothing was changed.' % (self.address, 'Sentinel' if self.sentinel else 'Redis', version))
        self.login = self.command('ACL', 'WHOAMI')
        self.names = list(self.command('ACL', 'USERS'))
        listed = {user.name for user in self.wanted}
        for name in self.names:
            if name in listed or self.params['purge']:
                reply = self.command('ACL', 'GETUSER', name)
                if reply is not None:
                    self.current[name] = UserState.from_getuser(reply)
        if self.params['rewrite'] and not self.sentinel:
            self.aclfile = self.client.config_get('aclfile').get('aclfile') or ''

    # Canonical rules, with the temporary user

    def canonical_rules(self) -> dict[int, str]:
        """Canonical rules of each present wanted user, by index. Fails naming the user for a refused rule."""
        self.step = CHECK
        known: dict[tuple[str, ...], str] = {}
        rules: dict[int, str] = {}
        try:
            for user in self.wanted:
                if user.present:
                    key = tuple(user.words)
                    if key not in known:
                        known[key] = self.define_scratch(user)
                    rules[user.index] = known[key]
            login = next((user for user in self.wanted if user.present and user.name == self.login), None)
            if login is not None:
                if self.scratch_words != tuple(login.words):
                    self.define_scratch(login)
                self.lost_rights = self.rights_lost()
        finally:
            self.drop_scratch()
        return rules

    def define_scratch(self, user: WantedUser) -> str:
        """Give the temporary user the rules of ``user``, disabled and without password; its canonical rules."""
        try:
            self.command('ACL', 'SETUSER', self.scratch, 'reset', 'off', *user.words)
        except NoPermissionError:
            raise
        except ResponseError as exc:
            self.fail('%s: Redis on %s refused the rules %r: %s. Nothing was changed.'
                      % (user.label, self.address, ' '.join(user.words), str(exc).rstrip('.')))
        self.scratch_words = tuple(user.words)
        return UserState.from_getuser(self.command('ACL', 'GETUSER', self.scratch)).rules

    def save_commands(self) -> list[tuple[str, tuple[str, ...]]]:
        """(name, arguments) of the commands that read how to save and save, with rewrite."""
        if not self.params['rewrite']:
            return []
        if self.sentinel:
            return [('ACL SAVE', ('ACL', 'SAVE')), ('SENTINEL FLUSHCONFIG', ('SENTINEL', 'FLUSHCONFIG'))]
        return [('CONFIG GET', ('CONFIG', 'GET', 'aclfile')),
                ('ACL SAVE', ('ACL', 'SAVE')) if self.aclfile else ('CONFIG REWRITE', ('CONFIG', 'REWRITE'))]

    def rights_lost(self) -> list[str]:
        """The commands the module needs that the temporary user, with the login user's rules, may not run."""
        return [name for name, args in list(_NEEDED) + self.save_commands()
                if self.command('ACL', 'DRYRUN', self.scratch, *args) != 'OK']

    def drop_scratch(self) -> None:
        try:
            self.command('ACL', 'DELUSER', self.scratch)
        except RETRYABLE_ERRORS as exc:
            self.module.warn('Could not remove the temporary ACL user %s from %s: %s. It is disabled and has no '
                             'password; remove it with ACL DELUSER, or run again with purge.'
                             % (self.scratch, self.address, describe_error(exc)))

    # Comparing

    def plan(self, rules: dict[int, str]) -> Plan:
        plan = Plan()
        for user in self.wanted:
            before = self.current.get(user.name)
            if not user.present:
                plan.shown.append((user.name, before, None))
                if before is not None:
                    plan.changes.append(Change(user.name, 'remove', before))
                continue
            after = user.state(rules[user.index])
            plan.shown.append((user.name, before, after))
            if before is None:
                plan.changes.append(Change(user.name, 'create', None, after, user))
            elif before != after:
                plan.changes.append(Change(user.name, 'update', before, after, user))
        if self.params['purge']:
            listed = {user.name for user in self.wanted}
            for name in self.names:
                if name not in listed and name not in (DEFAULT_USER, self.scratch):
                    plan.shown.append((name, self.current.get(name), None))
                    plan.changes.append(Change(name, 'remove', self.current.get(name)))
        return plan

    def lockout(self, plan: Plan) -> None:
        """Fail before any change when the plan would lock out the login user."""
        change = next((change for change in plan.changes if change.name == self.login), None)
        if change is None:
            return
        if change.action == 'remove':
            self.fail('Refusing to remove %s on %s: the module is logged in as that user, and Redis closes the '
                      'connections of a removed user. Log in as another user with the rights to manage ACL users '
                      '(login_user). Nothing was changed.' % (self.login, self.address))
        after, before = change.after, change.before
        lost = self.lost_rights if after.rules != before.rules else []
        unsaved = [name for name, _args in self.save_commands() if name in lost]
        if unsaved:
            self.fail('Refusing to change %s on %s: the module is logged in as that user, and its new rules would no '
                      'longer allow %s, which saves the users after the change. Nothing was changed. Log in as '
                      'another user with the rights to manage ACL users (login_user), or set rewrite to false to '
                      'change the users live only.' % (self.login, self.address, ', '.join(unsaved)))
        reasons = []
        if not after.enabled:
            reasons.append('disable it')
        password = self.login_password
        if not after.nopass and (password is None or password_hash(password) not in after.hashes):
            reasons.append('no longer accept login_password' if password is not None
                           else 'require a password, while login_password is unset')
        if lost:
            reasons.append('no longer allow %s' % ', '.join(lost))
        if reasons and not self.params['allow_lockout']:
            self.fail('Refusing to change %s on %s: the module is logged in as that user, and the change would %s, '
                      'so this login could no longer manage the ACL users. Nothing was changed. Log in as another '
                      'user with the rights to manage ACL users (login_user), list the old and the new password '
                      'while rotating, or set allow_lockout to true.'
                      % (self.login, self.address, ' and '.join(reasons)))

    # Changing

    def apply(self, plan: Plan) -> None:
        """Other users first, the login user last; one ACL SETUSER or ACL DELUSER per user."""
        self.step = APPLY
        ordered = ([change for change in plan.changes if change.name != self.login]
                   + [change for change in plan.changes if change.name == self.login])
        for change in ordered:
            try:
                if change.action == 'remove':
                    self.command('ACL', 'DELUSER', change.name)
                else:
                    self.command('ACL', 'SETUSER', change.name, *change.user.setuser_args())
            except RETRYABLE_ERRORS as exc:
                self.step = '%s the ACL user %s' % (change.action, change.name)
                done = ', '.join(name for names in self.done.values() for name in names)
                self.fail('%s %s' % (self.failure(exc), 'Changed live before, not saved: %s.' % done if done
                                     else 'No user was changed.'))
            self.done[DONE[change.action]].append(change.name)

    def save(self) -> str:
        """Save the users; return how, for the message."""
        self.step = SAVE
        if not self.sentinel:
            if self.aclfile:
                self.command('ACL', 'SAVE')
                return 'saved with ACL SAVE to %s' % self.aclfile
            self.command('CONFIG', 'REWRITE')
            return 'saved with CONFIG REWRITE'
        try:
            self.command('ACL', 'SAVE')
            return 'saved with ACL SAVE'
        except ResponseError as exc:
            if NO_ACL_FILE not in str(exc):
                raise
        self.command('SENTINEL', 'FLUSHCONFIG')
        return 'saved with SENTINEL FLUSHCONFIG'

    # Messages

    def hint(self, exc: BaseException) -> str:
        if isinstance(exc, AuthenticationError):
            return ('Check login_password and login_user: they must match an enabled ACL user of the server, or '
                    'its requirepass.')
        if isinstance(exc, NoPermissionError):
            return ('Grant the login user +info and +acl, and to save, +config|get and +config|rewrite, or '
                    '+acl|save, or on a Sentinel +sentinel|flushconfig.')
        if isinstance(exc, ResponseError) and 'unknown' in str(exc).lower() and 'command' in str(exc).lower():
            return 'The command is renamed or disabled on that server (rename-command in its config file).'
        if isinstance(exc, ResponseError):
            return _REPLY_HINTS.get(self.step, '')
        return tls_hint(exc, self.params) or _CONNECTION_HINT

    def failure(self, exc: BaseException) -> str:
        msg = 'Could not %s on %s: %s.' % (self.step, self.address, describe_error(exc).rstrip('.'))
        advice = self.hint(exc)
        return '%s %s' % (msg, advice) if advice else msg

    def outcome(self, plan: Plan, saved: str) -> str:
        if self.module.check_mode:
            actions = listing(planned(plan), future=True)
            return ('Check mode: would %s on %s.' % (actions, self.address) if actions
                    else 'Check mode: nothing to change on %s.' % self.address)
        actions = listing(self.done, future=False)
        if not actions:
            return 'The %d users already match on %s.' % (len(self.wanted), self.address)
        return '%s on %s, %s.' % (actions[:1].upper() + actions[1:], self.address, saved)

    def close(self) -> None:
        self.client.close()


def planned(plan: Plan) -> dict[str, list[str]]:
    """The names of the users to create, update and remove, under the keys of the result."""
    return {done: [change.name for change in plan.changes if change.action == action]
            for action, done in DONE.items()}


def listing(names: dict[str, list[str]], future: bool) -> str:
    """"create a and update b, c" (future) or "created a and updated b, c"."""
    parts = ['%s %s' % (action if future else done, ', '.join(names[done]))
             for action, done in DONE.items() if names[done]]
    return ', '.join(parts[:-1]) + ' and ' + parts[-1] if len(parts) > 1 else ''.join(parts)


def diff_of(plan: Plan) -> dict[str, str]:
    before, after = [], []
    for name, old, new in plan.shown:
        before.append(old.lines(name) if old else absent_lines(name))
        changed = old is not None and new is not None and (old.nopass, old.hashes) != (new.nopass, new.hashes)
        after.append(new.lines(name, changed) if new else absent_lines(name))
    return dict(before=''.join(before), after=''.join(after))


def converge(acl: AclUsers) -> dict[str, Any]:
    """Read, compare and, outside check mode, change and save the users; the result."""
    acl.read()
    plan = acl.plan(acl.canonical_rules())
    acl.step = READ
    acl.lockout(plan)
    result = dict(diff=diff_of(plan))
    if acl.module.check_mode:
        return dict(result, changed=bool(plan.changes), msg=acl.outcome(plan, ''), **planned(plan))
    acl.apply(plan)
    saved = 'not saved (rewrite is false)'
    if plan.changes and acl.params['rewrite']:
        saved = acl.save()
    return dict(result, changed=bool(plan.changes), msg=acl.outcome(plan, saved), **acl.done)


# The options' rules beyond their types: none (node_apply checks a step of each module with its CONSTRAINTS).
CONSTRAINTS: dict[str, Any] = {}


def run(module: AnsibleModule) -> dict[str, Any]:
    """The module's work on its validated options: the result to exit with; a failure ends in module.fail_json."""
    wanted, errors = wanted_users(module.params)
    fail_on_param_errors(module, errors + connection_param_errors(module.params))
    ensure_redis_library(module)

    acl = AclUsers(module, wanted)
    try:
        result = converge(acl)
    except RETRYABLE_ERRORS as exc:
        acl.fail(acl.failure(exc))
    finally:
        acl.close()
    return result
