# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One function per input rule, shared by the modules and the preflight action plugin.

Each function states a rule; the caller words the message for its audience (a module option or an
inventory variable). Nothing here talks to a server.
"""

from __future__ import annotations

import ipaddress
import re

# Sentinel writes the master name unquoted into sentinel.conf ("sentinel monitor NAME ...").
_MASTER_NAME = re.compile(r'^[A-Za-z0-9._-]+$')
MASTER_NAME_CHARACTERS = 'letters, digits, ".", "_" and "-"'
# A server name on a host names a systemd unit, a configuration file and a data directory.
_INSTANCE_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_-]*$')
# Redis and Sentinel write some words unquoted when they rewrite their files (sentinel auth-pass,
# sentinel auth-user, "user NAME" lines of CONFIG REWRITE and ACL SAVE); such a word with white
# space or a quote makes the file unparsable at the next start.
_UNQUOTED_UNSAFE = re.compile(r'[\s"\']')
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')
# Words of ACL rules that other settings own: on/off/reset (the user's state) and passwords.
_ACL_STATE_WORDS = ('on', 'off', 'reset')
_ACL_PASSWORD_WORDS = ('nopass', 'resetpass')
# First characters of the password modifiers: >add <remove #add-hash !remove-hash.
_ACL_PASSWORD_PREFIXES = ('>', '<', '#', '!')


def is_port(port: int) -> bool:
    return 1 <= port <= 65535


def is_master_name(name: str) -> bool:
    """A master group name Sentinel can store (``sentinel monitor NAME``)."""
    return bool(_MASTER_NAME.match(name))


def is_instance_name(name: str) -> bool:
    """A name for one of several servers on a host (unit ``redis-server@NAME``)."""
    return bool(_INSTANCE_NAME.match(name)) and name != 'sentinel'


def survives_unquoted(value: str) -> bool:
    """Whether ``value`` still parses when Redis or Sentinel writes it unquoted into its file."""
    return not _UNQUOTED_UNSAFE.search(value)


def is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_ip_network(text: str) -> bool:
    """An address, or a network as address/prefix or address/netmask (IPv4 or IPv6), as a firewalld rich
    rule's source takes it; host bits may be set."""
    try:
        ipaddress.ip_network(text, strict=False)
    except (TypeError, ValueError):
        return False
    return True


def acl_user_name_error(name: str) -> str | None:
    """Why ``name`` cannot name an ACL user.

    Redis refuses spaces and NUL; a quote is accepted by ACL SETUSER but CONFIG REWRITE and ACL SAVE
    write the name unquoted, and the file then no longer parses ("Unbalanced quotes").
    """
    if name and survives_unquoted(name) and not _CONTROL.search(name):
        return None
    return ('%r is not a valid ACL user name: it must be non-empty, without white space, quotes or control '
            'characters' % name)


def acl_refused_rule(words: list[str]) -> tuple[str, str] | None:
    """The first word of ACL rules that another setting owns, and its kind, else None.

    Kinds: ``state`` (on, off, reset), ``password_word`` (nopass, resetpass) and ``password``
    (a word starting with >, <, # or !: a password or its hash, never to be shown).
    """
    for word in words:
        bare = word.lstrip('(').lower()
        if bare in _ACL_STATE_WORDS:
            return 'state', word
        if bare in _ACL_PASSWORD_WORDS:
            return 'password_word', word
        if bare.startswith(_ACL_PASSWORD_PREFIXES):
            return 'password', ''
    return None
