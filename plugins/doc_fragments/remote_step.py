# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    """The attributes of the modules whose action plugin runs them inside node_apply
    (plugins/plugin_utils/remote_step.py)."""

    DOCUMENTATION = r"""
attributes:
  action:
    support: full
    details:
      - The action plugin runs the module's work on the host as the one step of
        M(redisops.sentinel.node_apply), so that a run builds one module payload for the collection's
        remote work. Options, results and messages are the module's.
  async:
    support: full
    details:
      - A task with C(async) runs the module itself.
  bypass_host_loop:
    support: none
"""
