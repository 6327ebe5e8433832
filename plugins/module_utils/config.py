# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values of redis-server settings: conversion, comparison, masking and redis.conf lines."""

from __future__ import annotations

import re
from typing import Any

# Settings whose values are secrets wherever they are given.
ALWAYS_SECRET = ('requirepass', 'masterauth', 'tls-key-file-pass', 'tls-client-key-file-pass')
MASK = '********'
CHANGED_SECRET = '(changed)'

# Exact names only: letters, digits and "-" ("." and "_" for module settings), no glob patterns.
_NAME = re.compile(r'^[a-z0-9][a-z0-9._-]*$')
# memtoull() of Redis: k=1000, kb=1024, m, mb, g, gb, case-insensitive.
_MEMORY = re.compile(r'^([0-9]+)(b|k|kb|m|mb|g|gb)?$', re.IGNORECASE)
_UNITS = {'': 1, 'b': 1, 'k': 1000, 'kb': 1024, 'm': 1000 ** 2, 'mb': 1024 ** 2, 'g': 1000 ** 3, 'gb': 1024 ** 3}
# The reply of CONFIG SET for a setting that can only change with a restart.
_REFUSED_LIVE = re.compile(r"possibly related to argument '([^']+)'\) - (can't set (?:immutable|protected) config)")
# Besides unprintable ones, the characters that need a double-quoted redis.conf argument.
_QUOTED = ' "\'\\'
_ESCAPES = {'\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\a': '\\a', '\b': '\\b'}
# redis.conf spelling of the empty value.
_EMPTY = ('""', "''")


def name_error(name: str) -> str | None:
    if _NAME.match(name):
        return None
    return ('%r is not a Redis setting name: use the exact name (letters, digits, ".", "_" and "-"), '
            'not a pattern' % name)


def setting_text(value: Any) -> str:
    """The CONFIG SET argument for a value: bool -> yes/no, int -> digits, list -> space-joined.

    Raises TypeError for other types.
    """
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '' if value in _EMPTY else value
    if isinstance(value, list) and not any(isinstance(item, (list, dict)) for item in value):
        return ' '.join(token for item in value for token in setting_text(item).split())
    raise TypeError('must be a string, an integer, a boolean or a list of them, got %s' % type(value).__name__)


def _normal_token(token: str) -> str:
    if token.lower() in ('yes', 'no'):
        return token.lower()
    memory = _MEMORY.match(token)
    if memory:
        return str(int(memory.group(1)) * _UNITS[(memory.group(2) or '').lower()])
    return token


def normalize(value: str) -> str:
    """The form CONFIG GET reports: single spaces, memory sizes in bytes, lower-case yes/no."""
    return ' '.join(_normal_token(token) for token in value.split())


def same_value(current: str, desired: str, secret: bool) -> bool:
    """Secrets are compared exactly, other values after normalisation."""
    if secret:
        return current == desired
    return normalize(current) == normalize(desired)


def shown(value: str, secret: bool, changed: bool = False) -> str:
    """A value for the diff: secrets masked, the empty value as redis.conf writes it."""
    if secret:
        return CHANGED_SECRET if changed else MASK
    return value or _EMPTY[0]


def refused_live(error: str) -> tuple[str, str] | None:
    """(setting, reason) when a CONFIG SET error says the setting can only change with a restart."""
    match = _REFUSED_LIVE.search(error)
    return (match.group(1).lower(), match.group(2)) if match else None


def quote(value: str) -> str:
    """A redis.conf argument, double-quoted and escaped unless it is one plain word."""
    if value and all(char.isprintable() and char not in _QUOTED for char in value):
        return value
    return '"%s"' % ''.join(_escape(char) for char in value)


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char.isprintable():
        return char
    return ''.join('\\x%02x' % byte for byte in char.encode('utf-8', 'surrogateescape'))


def directive_name(line: str) -> str | None:
    words = line.split(None, 1)
    if not words or words[0].startswith('#'):
        return None
    return words[0].lower()


def set_directive(text: str, name: str, value: str) -> str:
    """``text`` of a redis.conf with the directive ``name`` set to ``value``.

    The first line of that directive is replaced and its other lines removed; without one,
    the directive is appended. Comments and every other line stay as they are.
    """
    line = '%s %s' % (name, quote(value))
    lines = text.split('\n')
    found = [index for index, current in enumerate(lines) if directive_name(current) == name]
    if not found:
        return (text if not text or text.endswith('\n') else text + '\n') + line + '\n'
    lines[found[0]] = line
    return '\n'.join(current for index, current in enumerate(lines) if index not in found[1:])
