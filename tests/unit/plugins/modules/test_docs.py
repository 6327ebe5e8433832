# -*- coding: utf-8 -*-
"""DOCUMENTATION (with fragments, as ansible-doc renders it) must match the argument specs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.redisops.sentinel.plugins.action import node_converge, preflight
from ansible_collections.redisops.sentinel.plugins.modules import (
    cluster_create, cluster_forget, cluster_import, cluster_info, cluster_reshard, cluster_wait, doctor, firewalld_ports, host_state,
    node_apply, node_files, recover_info,
    redis_acl, redis_config, redis_dataset, redis_replicaof, redis_snapshot, replica_wait, sentinel_failover, sentinel_monitor, sentinel_wait, topology_info)

COLLECTIONS = Path(__file__).resolve().parents[4] / 'playbooks' / 'collections'
WAIT_MODULES = {'redisops.sentinel.replica_wait': replica_wait, 'redisops.sentinel.sentinel_wait': sentinel_wait}
# The modules that manage settings show them in diff mode.
SETTINGS_MODULES = {'redisops.sentinel.redis_acl': redis_acl,
                    'redisops.sentinel.redis_config': redis_config,
                    'redisops.sentinel.redis_replicaof': redis_replicaof,
                    'redisops.sentinel.sentinel_monitor': sentinel_monitor}
MODULES = dict(WAIT_MODULES, **SETTINGS_MODULES, **{'redisops.sentinel.topology_info': topology_info,
                                                    'redisops.sentinel.sentinel_failover': sentinel_failover,
                                                    'redisops.sentinel.recover_info': recover_info,
                                                    'redisops.sentinel.doctor': doctor,
                                                    'redisops.sentinel.firewalld_ports': firewalld_ports,
                                                    'redisops.sentinel.host_state': host_state,
                                                    'redisops.sentinel.node_apply': node_apply,
                                                    'redisops.sentinel.node_files': node_files,
                                                    'redisops.sentinel.redis_snapshot': redis_snapshot,
                                                    'redisops.sentinel.redis_dataset': redis_dataset,
                                                    'redisops.sentinel.cluster_create': cluster_create,
                                                    'redisops.sentinel.cluster_info': cluster_info,
                                                    'redisops.sentinel.cluster_reshard': cluster_reshard,
                                                    'redisops.sentinel.cluster_forget': cluster_forget,
                                                    'redisops.sentinel.cluster_import': cluster_import,
                                                    'redisops.sentinel.cluster_wait': cluster_wait,
                                                    # Action plugins: their options are checked there.
                                                    'redisops.sentinel.node_converge': node_converge,
                                                    'redisops.sentinel.preflight': preflight})


@pytest.fixture(scope='module')
def docs() -> dict:
    ansible_doc = Path(sys.executable).with_name('ansible-doc')
    if not ansible_doc.exists():
        pytest.skip('ansible-doc is not installed next to the test interpreter')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR='1')
    output = subprocess.run([str(ansible_doc), '--json', *MODULES], env=env, check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output)


@pytest.mark.parametrize('name', sorted(MODULES))
def test_options_match_argument_spec(docs, name):
    documented = docs[name]['doc']['options']
    spec = MODULES[name].argument_spec()
    assert sorted(documented) == sorted(spec)
    for option, rules in spec.items():
        doc = documented[option]
        assert doc['type'] == rules['type'], option
        assert doc.get('default') == rules.get('default'), option
        assert doc.get('required', False) == rules.get('required', False), option
        assert doc.get('elements') == rules.get('elements'), option
        assert doc.get('choices') == rules.get('choices'), option
        assert doc.get('aliases', []) == rules.get('aliases', []), option


def test_every_module_is_listed():
    modules = Path(__file__).resolve().parents[4] / 'plugins' / 'modules'
    assert sorted('redisops.sentinel.' + path.stem for path in modules.glob('*.py')) == sorted(MODULES)


@pytest.mark.parametrize('name', sorted(MODULES))
def test_examples_use_the_module(docs, name):
    doc = docs[name]
    assert doc['doc']['version_added'] == '0.1.0'
    assert doc['doc']['attributes']['check_mode']['support'] == 'full'
    used = [task for task in yaml.safe_load(doc['examples']) if name in task]
    assert used, 'no example task of %s uses it' % name


@pytest.mark.parametrize('name', sorted(SETTINGS_MODULES))
def test_settings_modules_support_diff(docs, name):
    assert docs[name]['doc']['attributes']['diff_mode']['support'] == 'full'


@pytest.mark.parametrize('name', sorted(WAIT_MODULES))
def test_metadata_examples_and_return(docs, name):
    doc = docs[name]['doc']
    assert doc['version_added'] == '0.1.0'
    assert doc['attributes']['check_mode']['support'] == 'full'
    assert doc['attributes']['diff_mode']['support'] == 'none'
    other = ({'redisops.sentinel.replica_wait', 'redisops.sentinel.sentinel_wait'} - {name}).pop()
    assert doc['seealso'] == [{'module': other}]
    for task in yaml.safe_load(docs[name]['examples']):
        assert name in task or 'ansible.builtin.debug' in task
    returned = docs[name]['return']
    assert {'ready', 'elapsed', 'state', 'msg', 'unmet', 'last_error', 'diagnosis'} <= set(returned)


def test_topology_info_docs(docs):
    doc = docs['redisops.sentinel.topology_info']
    assert doc['doc']['attributes']['check_mode']['support'] == 'full'
    assert {'groups', 'summary'} <= set(doc['return'])
    for task in yaml.safe_load(doc['examples']):
        assert 'redisops.sentinel.topology_info' in task or 'ansible.builtin.debug' in task
