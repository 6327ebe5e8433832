# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of redisops.sentinel.replica_wait: its work runs on the host as node_apply's one step, so that
a run builds one module payload (plugins/plugin_utils/remote_step.py)."""

from __future__ import annotations

from ansible_collections.redisops.sentinel.plugins.plugin_utils.remote_step import RemoteStepAction


class ActionModule(RemoteStepAction):
    WORK = 'replica_wait'
