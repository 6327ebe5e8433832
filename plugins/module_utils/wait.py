# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Poll a check function until it reports ready or a deadline passes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Tuple

# A check returns (ready, observed state).
Check = Callable[[], Tuple[bool, Dict[str, Any]]]


@dataclass
class WaitOutcome:
    ready: bool
    elapsed: float
    state: dict = field(default_factory=dict)
    # Error of the latest attempt, None when that attempt observed a state.
    last_error: str | None = None
    attempts: int = 0


def conclude(module, result: dict[str, Any], ready: bool,
             diagnose: Callable[[], tuple[Any, str]]) -> None:
    """Exit with ``result``: ready, or not ready in check mode (observed once, never a
    failure), or fail with the diagnosis ``diagnose`` returns (data, sentence for msg)."""
    if ready:
        module.exit_json(**result)
    if module.check_mode:
        result['msg'] = 'Check mode (observed once): %s' % result['msg']
        module.exit_json(**result)
    result['diagnosis'], explanation = diagnose()
    result['msg'] += explanation
    module.fail_json(**result)


def describe_error(exc: BaseException) -> str:
    return '%s: %s' % (type(exc).__name__, exc)


def poll_until(check: Check, timeout: float, poll_interval: float,
               retry_on: tuple[type[BaseException], ...],
               clock: Callable[[], float] = time.monotonic,
               sleep: Callable[[float], None] = time.sleep) -> WaitOutcome:
    """Call ``check`` every ``poll_interval`` seconds until it is ready or ``timeout`` passed.

    Exceptions listed in ``retry_on`` (connection refused while a service starts,
    LOADING ...) are recorded as the last error and the check is tried again; the
    state of the last successful observation is kept. A last check is made at the
    deadline, so ``timeout=0`` checks exactly once.
    """
    start = clock()
    deadline = start + timeout
    outcome = WaitOutcome(ready=False, elapsed=0.0)
    while True:
        outcome.attempts += 1
        try:
            ready, state = check()
        except retry_on as exc:
            outcome.last_error = describe_error(exc)
        else:
            outcome.ready, outcome.state, outcome.last_error = ready, state, None
        now = clock()
        outcome.elapsed = round(now - start, 3)
        if outcome.ready or now >= deadline:
            return outcome
        sleep(min(poll_interval, deadline - now))
