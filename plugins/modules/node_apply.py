#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: node_apply
short_description: Ensure a running service's files and apply its live settings in one module run
version_added: "0.1.0"
description:
  - The remote half of M(redisops.sentinel.node_converge) for a service that is already enabled and
    running. In one module run on the host, ensures O(files) as M(redisops.sentinel.node_files) does,
    then runs each of O(steps) as its own module (M(redisops.sentinel.redis_config),
    M(redisops.sentinel.redis_acl), M(redisops.sentinel.sentinel_monitor)) would, with the same code,
    options and results.
  - When a file of O(stop_if_changed) changed (the configuration read only at start, a systemd
    drop-in), nothing more is done and RV(stopped) is true, so that the caller can restart the
    service before the live settings.
  - Stops at the first step that fails; RV(failed_step) names it and the module's message is that
    step's.
  - It is also where M(redisops.sentinel.replica_wait), M(redisops.sentinel.sentinel_wait),
    M(redisops.sentinel.host_state) and M(redisops.sentinel.topology_info) run. Their action plugins
    pass their options as its one step (no O(files)) so that a run builds one module payload for
    the collection's remote work instead of one per module (0.13-0.35 s of controller CPU each).
  - Meant for M(redisops.sentinel.node_converge) and those action plugins, which call it; a playbook
    calls the modules of the steps directly.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - redisops.sentinel.node_files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The content before and after of the files given with O(files[].content), as
        M(redisops.sentinel.node_files) shows it.
  platform:
    platforms: posix
options:
  files:
    description:
      - The directories and files, ensured in this order (none for an action plugin's single step).
    required: false
    default: []
  stop_if_changed:
    description:
      - Paths of O(files) whose change needs the service restarted (or systemd reloaded) before its
        live settings are applied.
    type: list
    elements: path
    default: []
  steps:
    description:
      - The live steps, run in this order against the running service.
    type: list
    elements: dict
    default: []
    suboptions:
      module:
        description:
          - The module whose work the step does.
        type: str
        required: true
        choices: [redis_config, redis_acl, sentinel_monitor, replica_wait, sentinel_wait, host_state, topology_info]
      args:
        description:
          - The options of that module, as it documents them; checked against its argument spec.
          - Only the values of the module's own secret options are kept out of the output.
        type: dict
        required: true
      label:
        description:
          - What the step does, for the result and for RV(failed_step).
        type: str
      when_changed:
        description:
          - Run the step only when one of these paths of O(files) changed.
        type: list
        elements: path
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Keep a running Sentinel's files and monitoring settings (what node_converge does in one call)
  redisops.sentinel.node_apply:
    files:
      - {path: /var/lib/redis-sentinel, state: directory, owner: redis, group: redis, mode: "0750"}
    stop_if_changed: [/etc/systemd/system/redis-sentinel.service.d/redisops.conf]
    steps:
      - module: sentinel_monitor
        label: mymaster
        args: {login_port: 26379, name: mymaster, master_host: 192.0.2.10, master_port: 6379, quorum: 2}
"""

RETURN = r"""
changed_paths:
  description: The paths of O(files) that changed (or would, in check mode).
  returned: always
  type: list
  elements: str
marked:
  description: The files of O(files) that already held their marker and were not rewritten.
  returned: always
  type: list
  elements: str
missing:
  description: Files of O(files) given without content that do not exist.
  returned: always
  type: list
  elements: str
stopped:
  description: A path of O(stop_if_changed) changed, and no step ran.
  returned: always
  type: bool
steps:
  description: Each step that ran, in order, with the result its module returns.
  returned: always
  type: list
  elements: dict
  contains:
    module:
      description: The step's module.
      type: str
    label:
      description: The step's label.
      type: str
    result:
      description: The module's result (its own RETURN values).
      type: dict
failed_step:
  description: The label (else the module) of the step that failed.
  returned: failure
  type: str
"""

from types import ModuleType
from typing import Any, NoReturn

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.redisops.sentinel.plugins.module_utils.files import FILES_OPTION, ensure

WORKS = ('redis_config', 'redis_acl', 'sentinel_monitor', 'replica_wait', 'sentinel_wait', 'host_state',
         'topology_info')


# pylint: disable=import-outside-toplevel
def work(name: str) -> ModuleType:
    """A step's module_utils, imported when a step needs it: the payload carries them all, but the host
    compiles each one it imports (from the zip, on every run), and redis-py with the Redis ones, so a
    host_state step costs no Redis client and a Sentinel's step no ACL code."""
    if name == 'redis_config':
        from ansible_collections.redisops.sentinel.plugins.module_utils import redis_config as found
    elif name == 'redis_acl':
        from ansible_collections.redisops.sentinel.plugins.module_utils import redis_acl as found
    elif name == 'sentinel_monitor':
        from ansible_collections.redisops.sentinel.plugins.module_utils import sentinel_monitor as found
    elif name == 'replica_wait':
        from ansible_collections.redisops.sentinel.plugins.module_utils import replica_wait as found
    elif name == 'sentinel_wait':
        from ansible_collections.redisops.sentinel.plugins.module_utils import sentinel_wait as found
    elif name == 'host_state':
        from ansible_collections.redisops.sentinel.plugins.module_utils import host_state as found
    else:
        from ansible_collections.redisops.sentinel.plugins.module_utils import topology_info as found
    return found


class StepFailed(Exception):
    """A step's module failed: its result ends the run."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(result.get('msg'))
        self.result = result


class StepDone(Exception):
    """A step's module ended early with a result (check mode without the redis library): the next step follows."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(result.get('msg'))
        self.result = result


class StepModule:
    """What a step's work sees as its AnsibleModule: its own options; ending early raises StepDone, a failure
    StepFailed. Everything else (check mode, warnings, the secrets kept out of the output, files) is this run's."""

    def __init__(self, module: AnsibleModule, params: dict[str, Any]) -> None:
        self._module = module
        self.params = params

    def exit_json(self, **kwargs: Any) -> NoReturn:
        raise StepDone(kwargs)

    def fail_json(self, msg: str, **kwargs: Any) -> NoReturn:
        raise StepFailed(dict(kwargs, msg=msg))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def argument_spec() -> dict[str, dict[str, Any]]:
    return dict(
        files=dict(FILES_OPTION, default=[]),
        stop_if_changed=dict(type='list', elements='path', default=[]),
        steps=dict(type='list', elements='dict', default=[], options=dict(
            module=dict(type='str', required=True, choices=list(WORKS)),
            # Secret as a whole here, so that the log of the invocation shows none of it; each step's
            # own secret options are what the output hides (see validated_steps).
            args=dict(type='dict', required=True, no_log=True),
            label=dict(type='str'),
            when_changed=dict(type='list', elements='path'))),
    )


def validated_steps(module: AnsibleModule) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each step with its options checked against its module's spec, as that module would check them.
    The values kept out of the output become the files' secrets and the steps' secret options only:
    every value of `args` is hidden from the log of the invocation, but in the output it would turn
    each port number or host name equal to one of them into asterisks."""
    secrets = {entry['secret_content'] for entry in module.params['files'] if entry['secret_content']}
    steps = []
    for step in module.params['steps']:
        work_of = work(step['module'])
        checked = ArgumentSpecValidator(work_of.argument_spec(), **work_of.CONSTRAINTS).validate(step['args'])
        secrets.update(checked._no_log_values)  # pylint: disable=protected-access
        if checked.error_messages:
            module.no_log_values = secrets
            msg = ' '.join(checked.error_messages)
            if isinstance(checked.errors[0], UnsupportedError):
                # As AnsibleModule words it for the module itself.
                msg = 'Unsupported parameters for (redisops.sentinel.%s) module: %s' % (step['module'], msg)
            module.fail_json(msg=msg, failed_step=label(step))
        steps.append((step, checked.validated_parameters))
    module.no_log_values = secrets
    return steps


def label(step: dict[str, Any]) -> str:
    return step['label'] or step['module']


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    steps = validated_steps(module)
    result = ensure(module, module.params['files']).result(module._diff)
    changed = set(result['changed_paths'])
    result.update(stopped=bool(changed & set(module.params['stop_if_changed'])), steps=[])
    if result['stopped']:
        module.exit_json(**result)
    for step, params in steps:
        if step['when_changed'] is not None and not changed & set(step['when_changed']):
            continue
        try:
            outcome = work(step['module']).run(StepModule(module, params))
        except StepDone as done:
            outcome = done.result
        except StepFailed as failed:
            changed_now = result['changed'] or bool(failed.result.get('changed'))
            module.fail_json(**dict(failed.result, changed=changed_now, changed_paths=result['changed_paths'],
                                    steps=result['steps'], failed_step=label(step)))
        result['changed'] = result['changed'] or bool(outcome.get('changed'))
        result['steps'].append(dict(module=step['module'], label=step['label'], result=outcome))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
