# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACL users of Redis and Sentinel: rule validation, password hashes, the canonical form of
``ACL GETUSER`` and the text shown in diffs. Nothing here talks to a server."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from ansible_collections.redisops.sentinel.plugins.module_utils.validate import acl_refused_rule

MASK = '********'
# The rights of the users the roles create in ACL mode (roles/redis/vars/main.yml, the acl_users filter).
ADMIN_RULES = '~* &* +@all'
REPLICATION_RULES = '+psync +replconf +ping'
SENTINEL_RULES = ('resetchannels &__sentinel__:hello +multi +slaveof +ping +exec +subscribe +config|rewrite +role '
                  '+publish +info +client|setname +client|kill +script|kill')
# The default user once off: nobody logs in as it, but a replica link made as the default user before a
# move from one password to ACL mode keeps working until the replica links again as the replication user.
DEFAULT_OFF_RULES = REPLICATION_RULES
# ACL GETUSER flags that are options of their own here.
_OWN_FLAGS = ('on', 'off', 'nopass')
_CATEGORY = re.compile(r'^[+-]@')


def password_hash(password: str) -> str:
    """The SHA-256 hex digest Redis keeps (and ACL GETUSER shows) for a password."""
    return hashlib.sha256(password.encode('utf-8', 'surrogateescape')).hexdigest()


def rule_words(rules: Any) -> list[str]:
    """The ACL SETUSER arguments of ``rules``: a string of space-separated rules or a list of them.

    Redis itself joins the words of a selector, "(~x* +get)", when they arrive as separate arguments.
    Raises TypeError for other types.
    """
    if rules is None:
        return []
    if isinstance(rules, str):
        return rules.split()
    if isinstance(rules, list) and all(isinstance(item, str) for item in rules):
        return [word for item in rules for word in item.split()]
    raise TypeError('must be a string or a list of strings, got %s' % type(rules).__name__)


def rules_error(words: list[str]) -> str | None:
    """Why ``words`` may not be given as the module's rules, without quoting a word that may be a password."""
    refused = acl_refused_rule(words)
    if refused is None:
        return None
    kind, word = refused
    if kind == 'state':
        return "holds %r: the module starts every user from 'reset' and sets on or off from enabled" % word
    if kind == 'password_word':
        return 'holds %r: use nopass and passwords instead' % word
    return ('holds a password rule (a word starting with >, <, # or !): give the passwords in '
            'passwords, which Ansible keeps out of its output and logs')


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each non-empty secret, longest first, replaced by MASK."""
    for secret in sorted({secret for secret in secrets if secret}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


# Canonical form of what ACL GETUSER reports.

def _pairs(reply: Any) -> dict[str, Any]:
    """A RESP2 flat key/value list (or a RESP3 map) as a dict."""
    if isinstance(reply, dict):
        return dict(reply)
    return dict(zip(reply[::2], reply[1::2]))


def _words(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [word for item in value for word in str(item).split()]
    return str(value or '').split()


def canonical_commands(text: str) -> str:
    """The command rules of ACL GETUSER in an order that does not depend on the server process.

    Redis 7.0 describes the commands a user may run from a bitmap: "+@all" or "-@all", categories,
    then one rule per command or subcommand that still differs, in the order of a hash table whose
    seed changes with every start. Between two category rules, the rules on different commands
    commute and so do those on different subcommands of one command: each run is written command by
    command, in name order, the rule on the command itself before those on its subcommands (a rule
    on "client" overrides the earlier ones on "client|kill", which are dropped).
    """
    out: list[str] = []
    run: dict[str, tuple[list[str], dict[str, str]]] = {}

    def flush() -> None:
        for command in sorted(run):
            own, subcommands = run[command]
            out.extend(own + [subcommands[name] for name in sorted(subcommands)])
        run.clear()

    for word in text.split():
        if _CATEGORY.match(word) or word[:1] not in ('+', '-'):
            flush()
            out.append(word)
            continue
        name = word[1:].lower()
        command = name.split('|', 1)[0]
        if name == command:
            run[command] = ([word], {})
        else:
            run.setdefault(command, ([], {}))[1][name] = word
    flush()
    return ' '.join(out)


def _selector_text(fields: dict[str, Any]) -> str:
    """Keys, channels and commands the way ACL LIST writes them, each part in a stable order."""
    keys = sorted(set(_words(fields.get('keys'))))
    channels = sorted(set(_words(fields.get('channels'))))
    channel_text = ['&*'] if '&*' in channels else ['resetchannels'] + channels
    return ' '.join(keys + channel_text + [canonical_commands(str(fields.get('commands') or ''))])


@dataclass(frozen=True)
class UserState:
    """What the module manages of one ACL user; ``hashes`` are never shown."""

    enabled: bool
    nopass: bool
    hashes: frozenset = field(default_factory=frozenset)
    rules: str = ''

    @classmethod
    def from_getuser(cls, reply: Any) -> 'UserState':
        """From the reply of ACL GETUSER (Redis 7.0 or later)."""
        fields = _pairs(reply)
        flags = [str(flag) for flag in fields.get('flags') or []]
        other_flags = sorted(flag for flag in flags if flag not in _OWN_FLAGS)
        selectors = sorted('(%s)' % _selector_text(_pairs(selector)) for selector in fields.get('selectors') or [])
        rules = ' '.join(other_flags + [_selector_text(fields)] + selectors)
        return cls(enabled='on' in flags, nopass='nopass' in flags,
                   hashes=frozenset(str(item) for item in fields.get('passwords') or []), rules=rules)

    def passwords_text(self) -> str:
        if self.nopass:
            return 'nopass'
        return '%d' % len(self.hashes)

    def lines(self, name: str, passwords_changed: bool = False) -> str:
        return ('user %s\n  enabled: %s\n  passwords: %s%s\n  rules: %s\n'
                % (name, 'true' if self.enabled else 'false', self.passwords_text(),
                   ' (changed)' if passwords_changed else '', self.rules))


def absent_lines(name: str) -> str:
    return 'user %s: absent\n' % name


def _passwords(password: str, previous: str) -> list[str]:
    """A user's passwords: the current one, and the one being rotated out while it is set."""
    return [password] + ([previous] if previous else [])


def role_users(application_users: list[dict[str, Any]], default_user: bool, password: str, password_previous: str,
               logins: dict[str, tuple[str, str, str]]) -> list[dict[str, Any]]:
    """The users of ACL mode, in the form redis_acl takes: default, admin, replication, sentinel (each of
    ``logins`` is (name, password, previous password)), then the applications' users.

    The default user is on with ``password`` (and the previous one) when ``default_user`` and ``password``
    are set, else off with only DEFAULT_OFF_RULES.
    """
    default_on = bool(default_user and password)
    users = [dict(name='default', enabled=default_on,
                  passwords=_passwords(password, password_previous) if default_on else [],
                  rules=ADMIN_RULES if default_on else DEFAULT_OFF_RULES)]
    for role, rules in (('admin', ADMIN_RULES), ('replication', REPLICATION_RULES), ('sentinel', SENTINEL_RULES)):
        name, secret, previous = logins[role]
        users.append(dict(name=name, enabled=True, passwords=_passwords(secret, previous), rules=rules))
    for user in application_users:
        secret = user.get('password') or ''
        users.append(dict(name=user['name'], enabled=True,
                          passwords=_passwords(secret, user.get('previous_password') or '') if secret else [],
                          rules=user.get('rules') or ''))
    return users
