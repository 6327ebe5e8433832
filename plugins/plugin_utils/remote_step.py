# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of the modules whose work runs on the host inside node_apply.

Each distinct module a run uses is built once on the controller (its module_utils found and zipped:
0.13-0.35 s of CPU per module, whatever the number of hosts). The work of replica_wait, sentinel_wait,
host_state and topology_info lives in module_utils, like that of the live steps of node_converge, so
their action plugins run it as the one step of node_apply, the payload node_converge already uses:
same options (checked on the host against the module's own spec), same result, same messages. A task
run in the background (async) runs the module itself, as it would without this plugin, because
async_status reports the raw result of what ran."""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase

NODE_APPLY = 'redisops.sentinel.node_apply'
# What node_apply adds to a failed step's result about itself; the arguments it ran with (all masked).
APPLY_KEYS = ('changed_paths', 'steps', 'failed_step', 'invocation')


def step_result(applied: dict[str, Any]) -> dict[str, Any]:
    """The task's result from node_apply's: the step's own result when it ran to its end, else the
    failure as the module reports it (its message; node_apply names the step in failed_step)."""
    if applied.get('steps'):
        result = dict(applied['steps'][0]['result'])
        for key in ('warnings', 'deprecations'):
            if applied.get(key):
                result[key] = applied[key]
        return result
    return {key: value for key, value in applied.items() if key not in APPLY_KEYS}


class RemoteStepAction(ActionBase):
    """Runs the task's module as node_apply's one step; WORK is the module's short name."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True
    WORK = ''

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
        if self._task.async_val:
            result.update(self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        else:
            result.update(step_result(self._execute_module(
                module_name=NODE_APPLY, task_vars=task_vars,
                module_args={'steps': [{'module': self.WORK, 'args': self._task.args}]})))
        # As the normal action does: a background job's wrapper removes its own directory.
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
