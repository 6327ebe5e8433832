# -*- coding: utf-8 -*-
"""The topology filter: the inventory's nodes, master groups and Sentinels, from tables of hostvars."""
from __future__ import annotations

from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.sentinel.plugins.filter.topology import FilterModule, topology
from ansible_collections.redisops.sentinel.plugins.module_utils.address import parse_address


def facts(address: str) -> dict[str, Any]:
    return {'ansible_facts': {'default_ipv4': {'address': address}}}


def three_hosts(**extra: dict[str, Any]) -> tuple[dict[str, list[str]], dict[str, dict[str, Any]]]:
    """The lab: h1 master, h2 and h3 replicas, a Sentinel on each; addresses from the facts."""
    groups = {'all': ['h1', 'h2', 'h3'], 'redis_master': ['h1'], 'redis_replica': ['h2', 'h3'],
              'redis_sentinel': ['h1', 'h2', 'h3']}
    hostvars = {name: dict(facts('10.0.0.1%d' % n), **extra.get(name, {})) for n, name in enumerate(groups['all'], 1)}
    return groups, hostvars


def test_defaults_from_facts():
    result = topology(*three_hosts())
    assert result['sentinels'] == ['10.0.0.11:26379', '10.0.0.12:26379', '10.0.0.13:26379']
    assert result['bootstrap'] == {'mymaster': dict(host='10.0.0.11', port=6379)}
    assert result['groups'] == [dict(name='mymaster', bootstrap_host='10.0.0.11', bootstrap_port=6379,
                                     host='10.0.0.11', port=6379, master='10.0.0.11:6379',
                                     replicas=['10.0.0.12:6379', '10.0.0.13:6379'], members=['h1', 'h2', 'h3'])]
    assert result['nodes']['h2'] == dict(name='h2', address='10.0.0.12', port=6379, sentinel_port=26379,
                                         master_name='mymaster', host='10.0.0.12', server='10.0.0.12:6379',
                                         server_port=6379, sentinel='10.0.0.12:26379', sentinel_announced_port=26379)


def test_redis_address_wins_over_the_facts():
    result = topology(*three_hosts(h1={'redis_address': '192.168.5.1'}))
    assert result['bootstrap']['mymaster'] == dict(host='192.168.5.1', port=6379)
    assert result['sentinels'][0] == '192.168.5.1:26379'


def test_nat_announced_addresses_and_ports():
    groups, hostvars = three_hosts(
        h1={'redis_announce_ip': '203.0.113.1', 'redis_announce_port': 16379, 'redis_sentinel_announce_port': 36379},
        h2={'redis_announce_ip': '203.0.113.2', 'redis_announce_port': '0', 'redis_sentinel_port': 26380})
    result = topology(groups, hostvars)
    assert result['bootstrap']['mymaster'] == dict(host='203.0.113.1', port=16379)
    assert result['sentinels'] == ['203.0.113.1:36379', '203.0.113.2:26380', '10.0.0.13:26379']
    assert result['sentinel_endpoints'][0] == dict(host='203.0.113.1', port=36379)
    assert result['groups'][0]['replicas'] == ['203.0.113.2:6379', '10.0.0.13:6379']
    # The services still bind the local address and ports.
    assert result['nodes']['h1']['address'] == '10.0.0.11'
    assert (result['nodes']['h1']['port'], result['nodes']['h1']['sentinel_port']) == (6379, 26379)


def test_ipv6_addresses_are_bracketed_and_parse_back():
    groups, hostvars = three_hosts(h1={'redis_address': 'fd00::11'}, h2={'redis_announce_ip': 'fd00::12'})
    result = topology(groups, hostvars)
    assert result['sentinels'][:2] == ['[fd00::11]:26379', '[fd00::12]:26379']
    assert result['groups'][0]['replicas'] == ['[fd00::12]:6379', '10.0.0.13:6379']
    # The bootstrap host stays a bare address: redis.conf and Sentinel take host and port apart.
    assert result['bootstrap']['mymaster'] == dict(host='fd00::11', port=6379)
    assert result['groups'][0]['master'] == '[fd00::11]:6379'
    for text in result['sentinels'] + result['groups'][0]['replicas']:
        assert str(parse_address(text, 1)) == text


def test_several_master_groups():
    groups = {'redis_master': ['a1', 'b1'], 'redis_replica': ['a2', 'b2', 'b3'], 'redis_sentinel': ['s1']}
    names = {'a1': 'alpha', 'a2': 'alpha', 'b1': 'beta', 'b2': 'beta', 'b3': 'beta'}
    hostvars = {name: dict(facts('10.0.1.%d' % n), redis_master_name=names.get(name, 'alpha'))
                for n, name in enumerate(['a1', 'a2', 'b1', 'b2', 'b3', 's1'], 1)}
    hostvars['s1'].pop('redis_master_name')
    result = topology(groups, hostvars)
    assert [(g['name'], g['master'], g['replicas'], g['members']) for g in result['groups']] == [
        ('alpha', '10.0.1.1:6379', ['10.0.1.2:6379'], ['a1', 'a2']),
        ('beta', '10.0.1.3:6379', ['10.0.1.4:6379', '10.0.1.5:6379'], ['b1', 'b2', 'b3'])]
    assert result['bootstrap'] == {'alpha': dict(host='10.0.1.1', port=6379), 'beta': dict(host='10.0.1.3', port=6379)}
    assert result['nodes']['s1']['master_name'] == 'mymaster'


def test_two_servers_on_one_address():
    """Instances: two inventory hosts on one address, told apart by their ports."""
    groups = {'redis_master': ['m'], 'redis_replica': ['r6379', 'r6380'], 'redis_sentinel': ['m']}
    hostvars = {'m': facts('10.0.2.1'), 'r6379': facts('10.0.2.2'),
                'r6380': dict(facts('10.0.2.2'), redis_port=6380, redis_instance='6380')}
    result = topology(groups, hostvars)
    assert result['groups'][0]['replicas'] == ['10.0.2.2:6379', '10.0.2.2:6380']


def test_live_master_is_current_and_the_bootstrap_master_a_replica():
    groups, hostvars = three_hosts(h3={'redis_address': 'fd00::13'})
    result = topology(groups, hostvars, live={'mymaster': dict(host='fd00::13', port=6379)})
    group = result['groups'][0]
    assert (group['host'], group['port'], group['master']) == ('fd00::13', 6379, '[fd00::13]:6379')
    assert (group['bootstrap_host'], group['bootstrap_port']) == ('10.0.0.11', 6379)
    assert group['replicas'] == ['10.0.0.11:6379', '10.0.0.12:6379']


def test_first_master_of_a_name_is_its_bootstrap():
    """Two redis_master hosts of one name (the preflight refuses it): the first one counts."""
    groups = {'redis_master': ['h1', 'h2']}
    result = topology(groups, {'h1': facts('10.0.0.1'), 'h2': facts('10.0.0.2')})
    assert result['bootstrap'] == {'mymaster': dict(host='10.0.0.1', port=6379)}


def test_no_groups_uses_the_fallback_group():
    """A role user without the redis_* groups: this host's redis_master_name/_host/_port."""
    groups = {'all': ['x'], 'ungrouped': ['x']}
    assert topology(groups, {'x': facts('10.0.3.1')}) == dict(nodes={}, bootstrap={}, groups=[], sentinels=[],
                                                              sentinel_endpoints=[])
    fallback = dict(name='cache', host='10.0.3.9', port='6380')
    result = topology(groups, {'x': facts('10.0.3.1')}, fallback=fallback)
    assert result['groups'] == [dict(name='cache', bootstrap_host='10.0.3.9', bootstrap_port=6380, host='10.0.3.9',
                                     port=6380, master='10.0.3.9:6380', replicas=[], members=[])]


def test_fallback_is_ignored_with_a_redis_master_host():
    groups, hostvars = three_hosts()
    result = topology(groups, hostvars, fallback=dict(name='other', host='10.9.9.9', port=1))
    assert [group['name'] for group in result['groups']] == ['mymaster']


def test_extra_hosts_are_described():
    groups, hostvars = three_hosts()
    hostvars['spare'] = dict(facts('10.0.0.99'), redis_port=7000)
    result = topology(groups, hostvars, hosts=['spare', 'unknown'])
    assert result['nodes']['spare']['server'] == '10.0.0.99:7000'
    assert 'unknown' not in result['nodes']


@pytest.mark.parametrize('variables, message', [
    ({}, 'host h2 has no redis_address and its facts hold no default IPv4 address'),
    (dict(facts('10.0.0.12'), redis_port='six'), "host h2: 'six' is not a port number"),
])
def test_unknown_values_are_a_clear_error(variables, message):
    groups, hostvars = three_hosts()
    hostvars['h2'] = variables
    with pytest.raises(AnsibleFilterError, match=message):
        topology(groups, hostvars)


def test_filter_is_registered():
    assert FilterModule().filters() == {'topology': topology}
