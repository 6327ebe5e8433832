# -*- coding: utf-8 -*-
from __future__ import annotations

import time

import pytest

from ansible_collections.redisops.sentinel.plugins.module_utils.wait import poll_until


class FakeTime:
    """A clock that only moves when the poll loop sleeps."""

    def __init__(self):
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def poll(check, timeout, interval=0.1, fake=None, retry_on=(OSError,)):
    fake = fake or FakeTime()
    return poll_until(check, timeout, interval, retry_on, clock=fake.clock, sleep=fake.sleep), fake


def test_ready_at_first_check_does_not_sleep():
    outcome, fake = poll(lambda: (True, {'n': 1}), timeout=5)
    assert outcome.ready and outcome.state == {'n': 1} and outcome.attempts == 1
    assert fake.sleeps == [] and outcome.elapsed == 0


def test_polls_every_interval_until_ready():
    calls = []

    def check():
        calls.append(1)
        return len(calls) == 4, {'calls': len(calls)}

    outcome, fake = poll(check, timeout=5, interval=0.2)
    assert outcome.ready and outcome.state == {'calls': 4}
    assert fake.sleeps == [0.2, 0.2, 0.2]
    assert outcome.elapsed == pytest.approx(0.6)


def test_timeout_keeps_last_state_and_checks_at_deadline():
    outcome, fake = poll(lambda: (False, {'t': 1}), timeout=0.25, interval=0.1)
    assert not outcome.ready and outcome.state == {'t': 1}
    assert fake.sleeps == pytest.approx([0.1, 0.1, 0.05])
    assert outcome.attempts == 4 and outcome.elapsed == pytest.approx(0.25)


def test_zero_timeout_checks_once():
    outcome, fake = poll(lambda: (False, {}), timeout=0)
    assert outcome.attempts == 1 and fake.sleeps == []


def test_retried_errors_are_recorded_and_the_last_state_kept():
    answers = iter([(False, {'step': 1}), ConnectionRefusedError(111, 'Connection refused')])

    def check():
        answer = next(answers, None) or ConnectionRefusedError(111, 'Connection refused')
        if isinstance(answer, Exception):
            raise answer
        return answer

    outcome = poll(check, timeout=0.3)[0]
    assert not outcome.ready
    assert outcome.state == {'step': 1}
    assert outcome.last_error == 'ConnectionRefusedError: [Errno 111] Connection refused'


def test_error_then_ready_clears_the_error():
    answers = iter([OSError('starting'), (True, {'ok': 1})])

    def check():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    outcome = poll(check, timeout=1)[0]
    assert outcome.ready and outcome.last_error is None and outcome.attempts == 2


def test_unexpected_errors_propagate():
    def check():
        raise KeyError('bug')

    with pytest.raises(KeyError):
        poll(check, timeout=1)


def test_readiness_seen_within_one_poll_interval_in_real_time():
    interval = 0.05
    ready_at = time.monotonic() + 0.3
    outcome = poll_until(lambda: (time.monotonic() >= ready_at, {}), 2, interval, (OSError,))
    late = time.monotonic() - ready_at
    assert outcome.ready
    assert 0 <= late < interval + 0.03
