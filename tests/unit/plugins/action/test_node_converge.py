# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_converge's sequence: which of the collection's modules it runs, in which order and with which
arguments, for a re-run, a bare host, a changed file, settings that apply only at start, a failing step
and check mode. The modules themselves are tested against real servers elsewhere; here they are
stand-ins that record the call and answer as the real module would (the scenarios run the whole).
node_apply, which runs the files and the steps of a running service in one module run, answers from
the same tables: its files as node_files, each step as the step's module; the steps it runs are
recorded as `node_apply/<module>`."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import lookup_loader
from ansible.template import Templar

from ansible_collections.redisops.sentinel.plugins.action.node_converge import ActionModule

CONF = '/etc/redis/redis.conf'
DROPIN = '/etc/systemd/system/redis-server.service.d/redisops.conf'
LOGIN = dict(login_host='127.0.0.1', login_port=6379)


class Recorder(ActionModule):
    """The action plugin with _execute_module answering from a table instead of a host."""

    def __init__(self, args: dict[str, Any], answers: dict[str, list[dict[str, Any]]], check_mode: bool = False):
        # ActionBase's constructor wants the executor's objects; the sequence needs only these.
        self._task = SimpleNamespace(args=args, check_mode=check_mode, diff=False, async_val=0,
                                     action='redisops.sentinel.node_converge')
        self._connection = SimpleNamespace(_shell=SimpleNamespace(tmpdir='/tmp/x'))
        self._supports_async = False
        self._supports_check_mode = True
        self.answers = {name: list(results) for name, results in answers.items()}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _early_needs_tmp_path(self) -> bool:
        return False

    def _remove_tmp_path(self, tmp_path: Any, force: bool = False) -> None:
        return None

    def _execute_module(self, module_name=None, module_args=None, task_vars=None, **kwargs) -> dict[str, Any]:
        short = module_name.rsplit('.', 1)[-1]
        self.calls.append((short, module_args))
        return self._node_apply(module_args) if short == 'node_apply' else self._answer(short)

    def _answer(self, module: str) -> dict[str, Any]:
        queue = self.answers.get(module)
        return queue.pop(0) if queue else dict(changed=False)

    def _node_apply(self, args: dict[str, Any]) -> dict[str, Any]:
        files = self._answer('node_files')
        changed = set(files.get('changed_paths', []))
        result = dict(changed=bool(files.get('changed')), changed_paths=sorted(changed), steps=[],
                      stopped=bool(changed & set(args['stop_if_changed'])))
        if result['stopped']:
            return result
        for step in args['steps']:
            if step['when_changed'] is not None and not changed & set(step['when_changed']):
                continue
            self.calls.append(('node_apply/' + step['module'], step['args']))
            answer = self._answer(step['module'])
            label = step['label'] or step['module']
            if answer.get('failed'):
                return dict(answer, failed_step=label)
            result['changed'] = result['changed'] or bool(answer.get('changed'))
            result['steps'].append(dict(module=step['module'], label=step['label'], result=answer))
        return result


def converge(answers: dict[str, list[dict[str, Any]]] | None = None, check_mode: bool = False,
             **args: Any) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    task_args = dict(service='redis-server', files=[dict(path=CONF)], restart_paths=[CONF, DROPIN],
                     unit=dict(enabled=True, active=True),
                     live=[dict(module='redis_config', args=dict(LOGIN, settings={'maxmemory': '1gb'}))])
    task_args.update(args)
    action = Recorder(task_args, answers or {}, check_mode)
    result = action.run(task_vars={})
    return result, action.calls


def names(calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [name for name, _args in calls]


def test_a_re_run_reads_the_files_and_settings_and_leaves_the_unit_alone():
    result, calls = converge()
    assert names(calls) == ['node_apply', 'node_apply/redis_config']
    assert not result['changed'] and result['service_action'] == 'none' and 'warnings' not in result


def test_a_bare_host_starts_once_after_its_files_then_applies_settings_then_the_guard_file():
    changed = dict(changed=True, changed_paths=[CONF, DROPIN])
    result, calls = converge(dict(node_files=[changed, dict(changed=True, changed_paths=['/etc/redis/guard.json'])]),
                             unit={}, files_after_start=[dict(path='/etc/redis/guard.json')])
    assert names(calls) == ['node_files', 'systemd_service', 'redis_config', 'node_files']
    # A changed drop-in reloads systemd; the unit was idle, so it starts (a restart would start it twice).
    assert calls[1][1] == dict(enabled=True, state='restarted', daemon_reload=True, name='redis-server')
    assert result['changed'] and result['changed_paths'] == [CONF, DROPIN, '/etc/redis/guard.json']


def test_a_changed_file_restarts_a_replica_and_only_warns_for_the_running_master():
    changed = [dict(changed=True, changed_paths=[CONF])]
    result, calls = converge(dict(node_files=list(changed)))
    # node_apply stops after the files; the settings are applied to the restarted server.
    assert names(calls) == ['node_apply', 'systemd_service', 'redis_config']
    assert calls[0][1]['stop_if_changed'] == [CONF] and calls[1][1]['state'] == 'restarted'
    assert result['service_action'] == 'restarted'

    result, calls = converge(dict(node_files=list(changed)), keep_running=True)
    assert names(calls) == ['node_apply', 'node_apply/redis_config'] and calls[0][1]['stop_if_changed'] == []
    assert result['service_action'] == 'none' and 'rolling_restart.yml' in result['warnings'][0]


def test_a_file_that_needs_no_restart_leaves_a_running_unit_alone_and_a_drop_in_reloads_systemd():
    guard = [dict(changed=True, changed_paths=['/usr/local/libexec/redisops/start_guard.py'])]
    result, calls = converge(dict(node_files=guard))
    assert names(calls) == ['node_apply', 'node_apply/redis_config'] and result['service_action'] == 'none'
    assert result['changed']

    dropin = [dict(changed=True, changed_paths=['/etc/systemd/system/redis-server.service.d/redisops-start-guard.conf'])]
    result, calls = converge(dict(node_files=dropin), files=[dict(path=CONF), dict(path=dropin[0]['changed_paths'][0])])
    assert names(calls) == ['node_apply', 'systemd_service', 'redis_config']
    assert calls[1] == ('systemd_service', dict(enabled=True, state='started', daemon_reload=True, name='redis-server'))
    assert result['service_action'] == 'reloaded'


def test_settings_that_apply_at_start_restart_a_replica_not_in_check_mode_and_warn_on_the_master():
    needs_start = dict(redis_config=[dict(changed=True, restart_required=['io-threads'])])
    result, calls = converge(dict(needs_start), restart_for_settings=True)
    assert names(calls) == ['node_apply', 'node_apply/redis_config', 'systemd_service']
    assert result['restart_required'] == ['io-threads'] and result['service_action'] == 'restarted'

    result, calls = converge(dict(needs_start), restart_for_settings=True, check_mode=True)
    assert names(calls) == ['node_apply', 'node_apply/redis_config'] and result['service_action'] == 'none'

    result, calls = converge(dict(needs_start), restart_for_settings=False)
    assert names(calls) == ['node_apply', 'node_apply/redis_config']
    assert 'io-threads' in result['warnings'][0] and 'current master' in result['warnings'][0]


def test_a_step_with_when_changed_runs_only_when_one_of_its_paths_changed():
    cert = '/etc/redis/tls/redis.crt'
    reload = dict(module='redis_config', label='reload', when_changed=['/etc/redis/tls/ca.crt', cert],
                  args=dict(LOGIN, settings={'tls-cert-file': cert}, reload_tls=True))
    main = dict(module='redis_config', args=dict(LOGIN, settings={'maxmemory': '1gb'}))
    result, calls = converge(live=[main, reload])
    assert names(calls) == ['node_apply', 'node_apply/redis_config']
    assert calls[0][1]['steps'][1]['when_changed'] == reload['when_changed']

    result, calls = converge(dict(node_files=[dict(changed=True, changed_paths=[cert])]), live=[main, reload])
    assert names(calls) == ['node_apply', 'node_apply/redis_config', 'node_apply/redis_config']
    assert calls[2][1]['reload_tls'] is True and [step['label'] for step in result['live']] == [None, 'reload']
    # On a bare host the action decides: the settings after the start, the TLS reload only for a changed file.
    result, calls = converge(dict(node_files=[dict(changed=True, changed_paths=[CONF])]), unit={},
                             live=[main, reload])
    assert names(calls) == ['node_files', 'systemd_service', 'redis_config']


def test_each_runs_one_module_per_item_with_its_options_and_the_tls_options():
    monitors = dict(module='sentinel_monitor', args=dict(LOGIN, config_file='/etc/redis/sentinel.conf'),
                    each=[dict(name='g1', host='10.0.0.1', port=6379), dict(name='g2', host='10.0.0.2', port=6380)],
                    each_options=dict(name='name', master_host='host', master_port='port'))
    result, calls = converge(live=[monitors], tls=True, tls_ca_file='/pki/ca.crt')
    sent = [args for name, args in calls if name == 'node_apply/sentinel_monitor']
    assert [(args['name'], args['master_host'], args['master_port']) for args in sent] == [
        ('g1', '10.0.0.1', 6379), ('g2', '10.0.0.2', 6380)]
    assert all(args['tls'] is True and args['tls_ca_file'] == '/pki/ca.crt' for args in sent)
    assert [item['label'] for item in result['live']] == ['g1', 'g2']


def test_a_failing_step_ends_the_task_with_its_name_and_message():
    failing = dict(redis_config=[dict(failed=True, msg='CONFIG SET refused: maxmemory', problems=['x'])])
    result, calls = converge(failing, files_after_start=[dict(path='/etc/redis/guard.json')])
    assert names(calls) == ['node_apply', 'node_apply/redis_config']
    assert result['failed'] and result['failed_step'] == 'Apply redis_config'
    assert result['msg'] == 'Apply redis_config: CONFIG SET refused: maxmemory' and result['problems'] == ['x']


def test_stop_first_stops_a_service_that_runs_with_another_configuration_and_may_fail():
    result, calls = converge(dict(systemd_service=[dict(failed=True, msg='no such unit')]), stop_first=True,
                             unit={}, start=False)
    assert names(calls) == ['systemd_service', 'node_files', 'redis_config']
    assert calls[0][1] == dict(state='stopped', name='redis-server') and not result.get('failed')


@pytest.mark.parametrize('bad', [dict(live=[dict(module='redis_cli', args={})]), dict(unit='enabled'),
                                 dict(keep_running='perhaps')])
def test_bad_options_fail_before_any_module_runs(bad):
    action = Recorder(dict(dict(service='redis-server'), **bad), {})
    with pytest.raises(AnsibleActionFail):
        action.run(task_vars={})
    assert action.calls == []


# The role's templates rendered by the action (an entry with `template`) must give exactly the text the
# template lookup gave before: a file that differed by one byte would restart every service at the
# upgrade. The variables a bare host has, with a secret that needs escaping in both files.
ROLE = Path(__file__).resolve().parents[4] / 'roles' / 'redis'
SECRET = 'pa"ss\\word'
TEMPLATE_VARS: dict[str, Any] = dict(
    ansible_facts={'virtualization_role': 'guest', 'virtualization_type': 'docker'},
    _redis_container_types=['docker', 'container'], _redis_start_guard_python='/usr/bin/python3',
    _redis_start_guard='/usr/local/libexec/redisops/start_guard.py',
    _redis_start_guard_config='/etc/redis/redisops-guard.json', redis_start_guard_timeout=30,
    _redis_server_marker='redis-server configuration written by redisops.sentinel',
    _redis_server_settings={'bind': '10.0.0.1 127.0.0.1', 'port': '6379', 'save': ''},
    _redis_server_secrets={'requirepass': SECRET, 'masterauth': SECRET},
    _redis_acl_users=[dict(name='admin', enabled=True, passwords=[SECRET], rules='+@all ~*')],
    _redis_replicaof={'host': '10.0.0.2', 'port': 6379},
    _redis_sentinel_marker='redisops.sentinel: bootstrap configuration', _redis_sentinel_bind=['10.0.0.1'],
    redis_tls=False, redis_sentinel_port=26379, redis_sentinel_password=SECRET,
    _redis_sentinel_password_conf='"pa\\"ss\\\\word"', __redis_sentinel_pidfile='/run/sentinel/redis-sentinel.pid',
    _redis_sentinel_logfile='/var/log/redis/redis-sentinel.log', _redis_sentinel_dir='/var/lib/redis',
    redis_announce_ip='', redis_sentinel_announce_port=0, redis_sentinel_resolve_hostnames=False,
    _redis_sentinel_masters=[dict(name='mymaster', host='10.0.0.2', port=6379, quorum=2, down_after_milliseconds=5000,
                                  parallel_syncs=1, failover_timeout=60000)],
    _redis_sentinel_auth_user='', _redis_sentinel_auth_pass=SECRET)


class Renderer(Recorder):
    """The action with a real templar and the role's templates directory."""

    def __init__(self, files: list[dict[str, Any]]):
        super().__init__(dict(service='redis-server', files=files), {})
        self._loader = DataLoader()
        self._templar = Templar(loader=self._loader)

    def _find_needle(self, dirname: str, needle: str) -> str:
        return str(ROLE / dirname / needle)


def by_lookup(name: str, extra: dict[str, Any]) -> str:
    loader = DataLoader()
    # By its short name: ansible.builtin.* names need the collection loader, which these tests do not set up.
    lookup = lookup_loader.get('template', loader=loader, templar=Templar(loader=loader))
    variables = dict(TEMPLATE_VARS, ansible_search_path=[str(ROLE)])
    return lookup.run([name], variables=variables, template_vars=extra)[0]


@pytest.mark.parametrize('name, extra', [
    ('systemd-dropin.conf.j2', {'_redis_service_paths': ['/var/lib/redis', '/var/log/redis', '/var/lib/redis']}),
    ('systemd-start-guard.conf.j2', {}),
    ('redis.conf.j2', {}),
    ('sentinel.conf.j2', {})])
def test_a_template_entry_renders_as_the_template_lookup_does(name, extra):
    action = Renderer([dict(path='/etc/x', template=name, template_vars=extra, owner='root')])
    action.run(task_vars=dict(TEMPLATE_VARS))
    sent = action.calls[0][1]['files'][0]
    assert set(sent) == {'path', 'content', 'owner'}
    assert sent['content'] == by_lookup(name, extra)
    assert sent['content'].startswith('#\n# Ansible managed\n#\n')


def test_a_secret_template_is_sent_as_secret_content_and_the_users_ansible_managed_is_kept():
    action = Renderer([dict(path='/etc/redis/redis.conf', template='redis.conf.j2', secret=True)])
    action.run(task_vars=dict(TEMPLATE_VARS, ansible_managed='Managed by the platform team'))
    sent = action.calls[0][1]['files'][0]
    assert 'content' not in sent and 'secret' not in sent
    assert sent['secret_content'].startswith('#\n# Managed by the platform team\n#\n')
    assert 'requirepass "pa\\"ss\\\\word"\n' in sent['secret_content']
