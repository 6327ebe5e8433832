# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wall time of a playbook run split into install / configure / wait phases.

A task's phase comes from its tags (redis_install, redis_wait); everything else
counts as configure. Tasks run on all hosts at once (linear strategy), so the
wall time from one task's start to the next task's start is charged to the
first one's phase. Under the free strategy (site.yml's server play) hosts run
different tasks at the same time: the time goes to the task that started last,
on whichever host. The line goes to stderr, so that it does not mix with a
stdout callback's output (benchmarks/report.py uses ansible.builtin.json).
"""
from __future__ import annotations

import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: phase_timer
type: aggregate
short_description: Wall time per phase (install, configure, wait) of a redisops.sentinel run
description:
  - Prints one line with the seconds spent in each phase to stderr at the end of the run.
requirements:
  - enable in ansible.cfg or with ANSIBLE_CALLBACKS_ENABLED
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'phase_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._phases = {'install': 0.0, 'configure': 0.0, 'wait': 0.0}
        self._current: str | None = None
        self._since = 0.0
        self._start = time.monotonic()

    def _switch(self, phase: str | None) -> None:
        now = time.monotonic()
        if self._current is not None:
            self._phases[self._current] += now - self._since
        self._current, self._since = phase, now

    def v2_playbook_on_task_start(self, task, is_conditional) -> None:
        tags = set(task.tags)
        phase = 'install' if 'redis_install' in tags else 'wait' if 'redis_wait' in tags else 'configure'
        self._switch(phase)

    def v2_playbook_on_handler_task_start(self, task) -> None:
        self._switch('configure')

    def v2_playbook_on_stats(self, stats) -> None:
        self._switch(None)
        total = time.monotonic() - self._start
        self._display.display('PHASES total=%.1fs install=%.1fs configure=%.1fs wait=%.1fs' % (
            total, self._phases['install'], self._phases['configure'], self._phases['wait']), stderr=True)
