# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils.address import (
    Address,
    AddressMatcher,
    format_address,
    is_local_address,
    parse_address,
)


@pytest.mark.parametrize('text, expected', [
    ('10.0.0.1', Address('10.0.0.1', 6379)),
    ('10.0.0.1:6380', Address('10.0.0.1', 6380)),
    (' redis-a.example.com:26379 ', Address('redis-a.example.com', 26379)),
    ('[::1]:6380', Address('::1', 6380)),
    ('[fd00::2]', Address('fd00::2', 6379)),
    ('fd00::2', Address('fd00::2', 6379)),
])
def test_parse_address(text, expected):
    assert parse_address(text, 6379) == expected


@pytest.mark.parametrize('text', ['', ':6379', 'host:0', 'host:65536', 'host:port', '[::1', '[::1]x'])
def test_parse_address_rejects(text):
    with pytest.raises(ValueError):
        parse_address(text, 6379)


def test_format_address():
    assert format_address('::1', 6379) == '[::1]:6379'
    assert str(Address('10.0.0.1', 26379)) == '10.0.0.1:26379'


def test_matcher_resolves_names():
    matcher = AddressMatcher(Address('localhost', 6379))
    assert matcher.matches('127.0.0.1', 6379)
    assert not matcher.matches('127.0.0.1', 6380)
    assert not matcher.matches('10.0.0.1', 6379)


def test_matcher_unresolvable_name_matches_itself_only():
    matcher = AddressMatcher(Address('no-such-host.invalid', 6379))
    assert matcher.matches('NO-SUCH-HOST.invalid', 6379)
    assert not matcher.matches('127.0.0.1', 6379)


def test_is_local_address():
    assert is_local_address('127.0.0.1')
    assert is_local_address('localhost')
    assert not is_local_address('203.0.113.1')
    assert not is_local_address('no-such-host.invalid')
