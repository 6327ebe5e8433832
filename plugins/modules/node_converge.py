#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: node_converge
short_description: Bring one Redis or Sentinel service of a host to its configuration in one task
version_added: "0.1.0"
description:
  - Runs, in one task and in this order, the steps that converge one service (C(redis-server) or
    C(redis-sentinel)) of a host, each with the module that owns it, and only the steps that have
    something to do. The internal role C(redis) converges every server and Sentinel with it.
  - Stops the service first when O(stop_first) (a Sentinel that runs with the package's
    configuration, before its bootstrap file replaces it).
  - Writes O(files) with M(redisops.sentinel.node_files).
  - Enables and starts the unit when it is not enabled and active, or when a file changed; restarts
    it when one of O(restart_paths) changed, reloading systemd when a drop-in changed. With
    O(keep_running) (the current master) it is never restarted; a warning says how to restart it
    without losing writes.
  - Applies the live settings of O(live) to the running service, each with its module
    (M(redisops.sentinel.redis_config), M(redisops.sentinel.redis_acl),
    M(redisops.sentinel.sentinel_monitor)), with this task's TLS options.
  - Settings that apply only at start (RV(restart_required)) restart the service when
    O(restart_for_settings) is set, else a warning says how to restart it without losing writes.
  - Finally writes O(files_after_start) (the start guard's configuration, needed from the second
    start on).
  - Stops at the first step that fails; RV(failed_step) names it and the task's message is that step's.
  - A service whose unit is enabled and active takes one module run for its files and all its live
    steps (M(redisops.sentinel.node_apply), on the same code as the steps' modules); when a file it must
    be restarted for changed (one of O(restart_paths), or a drop-in), that run stops after the files,
    and the unit and the live steps follow as above. A converged service with nothing to change costs
    that one module run; the unit is not touched.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details:
      - Each step runs in check mode; nothing is restarted for RV(restart_required).
  diff_mode:
    support: full
    details:
      - The diffs of M(redisops.sentinel.node_files) (never of secret content), then those of the live steps
        (the settings, users and monitoring options they change; secrets masked).
  platform:
    platforms: posix
options:
  service:
    description:
      - The systemd unit of the service, without C(.service).
    type: str
    required: true
  unit:
    description:
      - The unit's state before this run, as M(redisops.sentinel.host_state) returns it in
        RV(redisops.sentinel.host_state#module:units) (C(enabled), C(active)). An empty dict means
        not known, and the unit is enabled and started.
    type: dict
    default: {}
  files:
    description:
      - Entries for M(redisops.sentinel.node_files), written before the unit is started.
      - An entry with C(template) names a file of the calling role's C(templates) directory instead of
        giving C(content). It is rendered on the controller with the task's variables, C(template_vars)
        (a dict) on top and C(ansible_managed) as M(ansible.builtin.template) sets it; with
        C(secret=true) the text goes to C(secret_content), never shown in a diff.
    type: list
    elements: dict
    default: []
  restart_paths:
    description:
      - Paths among O(files) whose change restarts a running service (its bootstrap
        configuration, its drop-in).
    type: list
    elements: str
    default: []
  keep_running:
    description:
      - Never restart the service (the current master, restarted only after a switchover).
    type: bool
    default: false
  stop_first:
    description:
      - Stop the service before writing O(files). A failure to stop (no such unit yet) is ignored.
    type: bool
    default: false
  start:
    description:
      - Whether the unit is enabled, started and restarted at all. V(false) in check mode when the
        package that brings the unit would only be installed.
    type: bool
    default: true
  live:
    description:
      - The steps against the running service, in order.
    type: list
    elements: dict
    default: []
    suboptions:
      module:
        description:
          - The module of the step, of this collection.
        type: str
        required: true
        choices: [redis_config, redis_acl, sentinel_monitor]
      args:
        description:
          - The module's options. The TLS options of this task are added unless given here.
        type: dict
        required: true
      label:
        description:
          - A name for the step in messages and in RV(live).
        type: str
      each:
        description:
          - Run the module once per item, each with O(live[].args) and the options that
            O(live[].each_options) takes from the item (for example one
            M(redisops.sentinel.sentinel_monitor) run per master group). An item's C(name) labels its run.
        type: list
        elements: dict
      each_options:
        description:
          - With O(live[].each), the module's options taken from each item, as a mapping from the
            module's option to the item's key.
        type: dict
        default: {}
      when_changed:
        description:
          - Run the step only when one of these paths changed in this task (for example the TLS files,
            which a running server reads again on request).
        type: list
        elements: str
  restart_for_settings:
    description:
      - Restart the service when a live step reports settings that apply only at start (a replica);
        else a warning names them.
    type: bool
    default: false
  files_after_start:
    description:
      - Entries for M(redisops.sentinel.node_files), written after the service runs (C(template) as in O(files)).
    type: list
    elements: dict
    default: []
  tls:
    description:
      - Connect to the service over TLS (passed to each live step).
    type: bool
    default: false
  tls_ca_file:
    description:
      - CA certificate file for the live steps.
    type: path
  tls_cert_file:
    description:
      - Client certificate file for the live steps.
    type: path
  tls_key_file:
    description:
      - Client key file for the live steps.
    type: path
  tls_verify_hostname:
    description:
      - Check the service's certificate against the host name (live steps).
    type: bool
    default: false
seealso:
  - module: redisops.sentinel.node_files
  - module: redisops.sentinel.redis_config
  - module: redisops.sentinel.sentinel_monitor
author:
  - redisops maintainers (@redisops)
"""

EXAMPLES = r"""
- name: Converge the replica's server
  redisops.sentinel.node_converge:
    service: redis-server
    unit: "{{ host_state.units['redis-server.service'] }}"
    files:
      - {path: /etc/redis/redis.conf, marker: "# redisops", content: "{{ conf }}", owner: redis, group: redis, mode: "0640"}
    restart_paths: [/etc/redis/redis.conf]
    live:
      - module: redis_config
        args:
          login_port: 6379
          settings: {maxmemory: 1gb}
          config_file: /etc/redis/redis.conf
    restart_for_settings: true
"""

RETURN = r"""
changed_paths:
  description: The files and directories that changed (or would change).
  returned: always
  type: list
  elements: str
service_action:
  description: What was done to the unit. V(reloaded) means systemd read a changed drop-in again (C(daemon-reload))
    and the running service was left as it was; a file that needs no restart leaves the unit alone (V(none)).
  returned: always
  type: str
  choices: [none, started, restarted, reloaded]
restart_required:
  description: Settings the live steps wrote that apply only at the next start.
  returned: always
  type: list
  elements: str
live:
  description: The result of each live step (without its arguments), with its C(module) and C(label).
  returned: when O(live) is not empty
  type: list
  elements: dict
failed_step:
  description: The step that failed.
  returned: failure
  type: str
"""
