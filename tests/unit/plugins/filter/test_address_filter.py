# -*- coding: utf-8 -*-
"""The address filter: host:port as the modules take it."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.sentinel.plugins.filter.address import address


@pytest.mark.parametrize('text, expected', [
    ('10.0.0.1:6380', {'host': '10.0.0.1', 'port': 6380}),
    ('[fd00::1]:7000', {'host': 'fd00::1', 'port': 7000}),
    ('redis1.example.com', {'host': 'redis1.example.com', 'port': 6379}),
    ('[fd00::1]', {'host': 'fd00::1', 'port': 6379}),
])
def test_host_and_port(text, expected):
    assert address(text) == expected


def test_default_port_and_bad_address():
    assert address('10.0.0.1', 26379)['port'] == 26379
    with pytest.raises(AnsibleFilterError, match='port must be between'):
        address('10.0.0.1:0')
