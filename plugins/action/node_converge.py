# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of redisops.sentinel.node_converge: one service of a host (redis-server or
redis-sentinel) brought to its configuration in one task, by running the collection's own modules in
order: its files (node_files), its systemd unit (systemd_service, only when something asks for it),
its live settings (redis_config, redis_acl, sentinel_monitor), a restart for settings that apply only
at start, and the files written after the first start. A service that already runs takes one module
run on the host for its files and live settings (node_apply, on the same code as those modules) unless
a changed file needs it restarted first. See plugins/modules/node_converge.py."""

from __future__ import annotations

import os
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.template import generate_ansible_template_vars, trust_as_template

# The modules a live step may run, all of this collection and all taking the TLS options.
LIVE_MODULES = ('redis_config', 'redis_acl', 'sentinel_monitor')
TLS_OPTIONS = ('tls', 'tls_ca_file', 'tls_cert_file', 'tls_key_file', 'tls_verify_hostname')
# A module's result keys that are not passed on: the arguments it ran with (masked, but long).
DROPPED_KEYS = ('invocation', '_ansible_no_log', 'changed', 'failed', 'msg', 'warnings', 'deprecations', 'diff')


def argument_spec() -> dict[str, dict[str, Any]]:
    """The options of the task, as plugins/modules/node_converge.py documents them."""
    return dict(
        service=dict(type='str', required=True),
        unit=dict(type='dict', default={}),
        files=dict(type='list', elements='dict', default=[]),
        restart_paths=dict(type='list', elements='str', default=[]),
        keep_running=dict(type='bool', default=False),
        stop_first=dict(type='bool', default=False),
        start=dict(type='bool', default=True),
        live=dict(type='list', elements='dict', default=[], options=dict(
            module=dict(type='str', required=True, choices=list(LIVE_MODULES)),
            args=dict(type='dict', required=True, no_log=False),
            label=dict(type='str'),
            each=dict(type='list', elements='dict'),
            each_options=dict(type='dict', default={}),
            when_changed=dict(type='list', elements='str'))),
        restart_for_settings=dict(type='bool', default=False),
        files_after_start=dict(type='list', elements='dict', default=[]),
        tls=dict(type='bool', default=False),
        tls_ca_file=dict(type='path'),
        tls_cert_file=dict(type='path'),
        tls_key_file=dict(type='path'),
        tls_verify_hostname=dict(type='bool', default=False),
    )


class Step(Exception):
    """A module of the sequence failed: its result ends the task."""

    def __init__(self, name: str, result: dict[str, Any]) -> None:
        super().__init__(name)
        self.name = name
        self.result = result
        self.msg = '%s: %s' % (name, result.get('msg', 'failed'))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        self._vars = task_vars or {}
        self._outcome: dict[str, Any] = dict(changed=False, changed_paths=[], service_action='none',
                                             restart_required=[], warnings=[], diff=[])
        args = self.validate_argument_spec(argument_spec=argument_spec())[1]
        try:
            self._converge(args)
        except Step as step:
            failed = step.result
            self._outcome.update(failed=True, failed_step=step.name, msg=step.msg)
            for key in ('problems', 'module_stderr', 'module_stdout', 'exception'):
                if key in failed:
                    self._outcome[key] = failed[key]
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        if not self._outcome['warnings']:
            del self._outcome['warnings']
        if not (self._task.diff and self._outcome['diff']):
            del self._outcome['diff']
        result.update(self._outcome)
        return result

    def _converge(self, args: dict[str, Any]) -> None:
        """The sequence: files, unit, live settings, restart for start-only settings, files after start.
        A service that runs already takes one module run (node_apply) unless a file it needs to be
        restarted for changed; then the sequence goes on from the unit."""
        service = args['service']
        unit = args['unit']
        idle = not (unit.get('enabled') and unit.get('active'))
        after_start = args['files_after_start']
        if args['start'] and not idle and not args['stop_first']:
            if self._apply(args):
                return
            after_start = []
        else:
            if args['stop_first']:
                self._systemd(service, dict(state='stopped'), may_fail=True)
            self._files(args['files'])
        changed_paths = self._outcome['changed_paths']
        restart = self._restart(args, changed_paths)
        # A changed drop-in (the start guard's, say) is read at the next start: systemd reloads it now.
        reload = any(self._dropin(path) for path in changed_paths)
        if args['start'] and (idle or restart or reload):
            action = 'restarted' if restart else 'started'
            self._systemd(service, dict(enabled=True, state=action, daemon_reload=reload))
            self._outcome['service_action'] = action if (idle or restart) else 'reloaded'
        restart_required = self._live(args)
        if restart_required:
            self._start_only_settings(args, service, restart_required)
        self._files(after_start)

    def _apply(self, args: dict[str, Any]) -> bool:
        """A running service's files (those written after the first start too: it has started) and live
        settings in one module run. False when a changed file needs the unit restarted or reloaded first."""
        files = self._entries(args['files'] + args['files_after_start'])
        stop = [entry['path'] for entry in files
                if self._dropin(entry['path']) or (entry['path'] in args['restart_paths'] and not args['keep_running'])]
        steps = [dict(module=step['module'], label=label, args=module_args, when_changed=step['when_changed'])
                 for step in args['live'] for label, module_args in self._expand(step, self._tls(args))]
        result = self._run('redisops.sentinel.node_apply', dict(files=files, stop_if_changed=stop, steps=steps),
                           'Write the files', may_fail=True)
        if result.get('failed') and 'failed_step' in result:
            raise Step('Apply %s' % result['failed_step'], result)
        if result.get('failed'):
            raise Step('Write the files', result)
        self._outcome['changed_paths'].extend(result['changed_paths'])
        self._outcome['diff'].extend(result.get('diff') or [])
        if result['stopped']:
            return False
        self._restart(args, result['changed_paths'])
        restart_required: list[str] = []
        for step in result['steps']:
            restart_required.extend(self._record(step['module'], step['label'], step['result']))
        if restart_required:
            self._start_only_settings(args, args['service'], restart_required)
        return True

    def _restart(self, args: dict[str, Any], changed_paths: list[str]) -> bool:
        """Whether a changed file restarts the service; never the current master (keep_running): a warning."""
        if not set(args['restart_paths']) & set(changed_paths):
            return False
        if args['keep_running']:
            self._outcome['warnings'].append(
                'The service %s changed, but this node is the current master and is left running. Run '
                'playbooks/rolling_restart.yml to switch over and restart it without losing writes.' % args['service'])
            return False
        return True

    @staticmethod
    def _dropin(path: str) -> bool:
        return '.service.d/' in path

    def _start_only_settings(self, args: dict[str, Any], service: str, names: list[str]) -> None:
        """Settings that apply only at start: a restart now, else (the current master) a warning."""
        self._outcome['restart_required'] = names
        if args['restart_for_settings']:
            if not self._task.check_mode:
                self._systemd(service, dict(state='restarted'))
                self._outcome['service_action'] = 'restarted'
            return
        self._outcome['warnings'].append(
            '%s changed in the configuration file but apply only when the server starts, and this node is the '
            'current master: it keeps running with the old values. Run playbooks/rolling_restart.yml to switch '
            'over and restart it without losing writes.' % ', '.join(names))

    def _files(self, entries: list[dict[str, Any]]) -> None:
        if not entries:
            return
        result = self._run('redisops.sentinel.node_files', dict(files=self._entries(entries)), 'Write the files')
        self._outcome['changed_paths'].extend(result.get('changed_paths', []))
        self._outcome['diff'].extend(result.get('diff') or [])

    def _entries(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self._rendered(entry) if 'template' in entry else entry for entry in entries]

    def _rendered(self, entry: dict[str, Any]) -> dict[str, Any]:
        """An entry with `template` (a file of the role's templates, with `template_vars` on top of the task's
        variables) as node_files takes it: the text in `content`, or in `secret_content` with `secret`."""
        entry = dict(entry)
        text = self._render(entry.pop('template'), entry.pop('template_vars', None) or {})
        entry['secret_content' if entry.pop('secret', False) else 'content'] = text
        return entry

    def _render(self, name: str, extra: dict[str, Any]) -> str:
        """The template as ansible.builtin.template renders it, without copying every variable first."""
        source = self._find_needle('templates', name)
        with open(source, encoding='utf-8') as handle:
            data = trust_as_template(handle.read())
        variables = dict(self._vars)
        generated = generate_ansible_template_vars(name, source)
        if 'ansible_managed' in variables:
            # The user's own ansible_managed stays, as the template module and lookup keep it.
            del generated['ansible_managed']
        variables.update(generated)
        variables.update(extra)
        templar = self._templar.copy_with_new_env(available_variables=variables, searchpath=[os.path.dirname(source)])
        text = templar.template(data, escape_backslashes=False, preserve_trailing_newlines=True)
        if not isinstance(text, str):
            raise AnsibleActionFail('The template %s did not render to text.' % name)
        return text

    @staticmethod
    def _tls(args: dict[str, Any]) -> dict[str, Any]:
        return {name: args[name] for name in TLS_OPTIONS if args[name] is not None}

    def _live(self, args: dict[str, Any]) -> list[str]:
        """Each live step against the running service, one module run each; the settings that need a start
        to apply."""
        restart_required: list[str] = []
        for step in args['live']:
            if step['when_changed'] is not None and not set(step['when_changed']) & set(self._outcome['changed_paths']):
                continue
            for label, module_args in self._expand(step, self._tls(args)):
                result = self._run('redisops.sentinel.' + step['module'], module_args,
                                   'Apply %s' % (label or step['module']))
                restart_required.extend(self._record(step['module'], label, result))
        return restart_required

    def _record(self, module: str, label: str | None, result: dict[str, Any]) -> list[str]:
        """A live step's result in the task's `live` and its diff in the task's; the settings it found that
        apply only at start."""
        diff = result.get('diff')
        self._outcome['diff'].extend(diff if isinstance(diff, list) else [diff] if diff else [])
        kept = {key: value for key, value in result.items() if key not in DROPPED_KEYS}
        self._outcome.setdefault('live', []).append(dict(kept, module=module, label=label))
        return list(result.get('restart_required', []))

    @staticmethod
    def _expand(step: dict[str, Any], tls: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
        """One module run, or one per item of `each`: its options from the item's keys (`each_options`),
        each with the task's TLS options."""
        if step['each'] is None:
            return [(step['label'], {**tls, **step['args']})]
        runs = []
        for item in step['each']:
            options = {option: item[key] for option, key in step['each_options'].items()}
            runs.append((str(item.get('name', step['label'])), {**tls, **step['args'], **options}))
        return runs

    def _systemd(self, service: str, module_args: dict[str, Any], may_fail: bool = False) -> None:
        self._run('ansible.legacy.systemd_service', dict(module_args, name=service),
                  'Control %s' % service, may_fail=may_fail)

    def _run(self, module: str, module_args: dict[str, Any], name: str, may_fail: bool = False) -> dict[str, Any]:
        result = self._execute_module(module_name=module, module_args=module_args, task_vars=self._vars)
        if result.get('failed') and not may_fail:
            raise Step(name, result)
        if result.get('changed'):
            self._outcome['changed'] = True
        self._outcome['warnings'].extend(result.get('warnings', []))
        return result
