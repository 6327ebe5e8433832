# -*- coding: utf-8 -*-
"""The tls_restarts filter: which Sentinels restart for TLS files a run changed."""
from __future__ import annotations

from ansible_collections.redisops.sentinel.plugins.filter.tls_restarts import tls_restarts

TLS = ['/etc/redis/tls/ca.crt', '/etc/redis/tls/redis.crt', '/etc/redis/tls/redis.key']
CONF = '/etc/redis/sentinel.conf'


def converge(*paths: str) -> dict:
    return dict(changed=bool(paths), changed_paths=list(paths))


def test_hosts_whose_tls_files_changed_in_either_task_in_play_order():
    hostvars = {
        'a': dict(_redis_server_converge=converge(TLS[1]), _redis_sentinel_converge=converge()),
        'b': dict(_redis_server_converge=converge('/etc/redis/redis.conf'), _redis_sentinel_converge=converge()),
        'c': dict(_redis_sentinel_converge=converge(TLS[0], TLS[2])),
    }
    assert tls_restarts(['c', 'b', 'a'], hostvars, TLS, CONF) == ['c', 'a']


def test_a_sentinel_bootstrapped_in_this_run_started_with_the_new_files():
    hostvars = {'a': dict(_redis_server_converge=converge(TLS[1]), _redis_sentinel_converge=converge(CONF, TLS[1]))}
    assert tls_restarts(['a'], hostvars, TLS, CONF) == []


def test_hosts_without_results_are_left_alone():
    hostvars = {'a': {}, 'b': dict(_redis_server_converge=dict(skipped=True), _redis_sentinel_converge=None)}
    assert tls_restarts(['a', 'b'], hostvars, TLS, CONF) == []
