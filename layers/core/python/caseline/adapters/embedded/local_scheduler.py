"""The persistent local scheduler: timers as items in the SQLite table, fired by a runner thread.

`TimerRunner.fire_due(now)` is the whole behaviour and is what tests call; `start()` only runs it in a loop.
A fired timer is deleted after its handler returns, unless it was replaced meanwhile (the handler itself
may set the next timer of the same kind and subject). A handler that raises is retried with exponential
backoff (5 s, 10 s, 20 s ... at most 15 minutes), forever: a timer is never dropped, and the failure is
logged and counted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from ...ports.clock import Clock
from ...ports.scheduler import ScheduledTimer, StagedTimer, Timer
from ..timer_records import TimerRecords

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(minutes=15)
BATCH = 100
MAX_ROUNDS = 20
RUNNER_IDLE_SECONDS = 1.0  # how often a runner looks for due timers when nobody wakes it
LOCAL_HANDLE = "local"  # what fires a stored timer here: the runner, which finds it in the due index


class LocalScheduler:
    def __init__(self, records: TimerRecords, *, on_set: Callable[[Timer], None] | None = None) -> None:
        self.records = records
        self._on_set = on_set

    def set(self, timer: Timer) -> None:
        self.records.put(timer, handle=LOCAL_HANDLE)
        self._stored(timer)

    def stage(self, timer: Timer) -> StagedTimer:
        _, write = self.records.staged(timer, handle=LOCAL_HANDLE)
        return StagedTimer(writes=[write], start=lambda: self._stored(timer))

    def _stored(self, timer: Timer) -> None:
        if self._on_set is not None:
            self._on_set(timer)

    def cancel(self, kind: str, subject: str) -> None:
        self.records.delete(kind, subject)

    def get(self, kind: str, subject: str) -> ScheduledTimer | None:
        return self.records.get(kind, subject)

    def due(self, now: datetime, *, limit: int = BATCH) -> list[ScheduledTimer]:
        return self.records.due(now, limit=limit)

    def wake_on_set(self, callback: Callable[[Timer], None]) -> None:
        """`callback(timer)` after each timer is stored; see `due_soon` for whether to wake a runner."""
        self._on_set = callback


def due_soon(timer: Timer, clock: Clock, idle_seconds: float) -> bool:
    """Whether a runner that looks every `idle_seconds` anyway must be woken for `timer`.

    Most timers are due hours away (SLA targets, rule rechecks); waking the runner for each of them only made
    it query the due index again, two or three times per new case under load.
    """
    return timer.due_at <= clock.now() + timedelta(seconds=idle_seconds)


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the `attempts`-th failure (1-based)."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


class TimerRunner:
    def __init__(self, scheduler: LocalScheduler, fire: Callable[[Timer], None], clock: Clock, *,
                 idle_seconds: float = RUNNER_IDLE_SECONDS) -> None:
        self.scheduler = scheduler
        self._fire = fire
        self._clock = clock
        self._idle = idle_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.fired = 0
        self.failed = 0
        scheduler.wake_on_set(self._wake_if_due_soon)

    def fire_due(self, now: datetime | None = None) -> int:
        """Fire every timer due at `now` (default: the clock's now). Returns how many handlers succeeded."""
        now = now or self._clock.now()
        succeeded = 0
        for _ in range(MAX_ROUNDS):  # a handler that keeps setting timers already due cannot spin us forever
            batch = self.scheduler.due(now)
            progressed = 0
            for scheduled in batch:
                progressed += self._run(scheduled, now)
            succeeded += progressed
            if not batch or not progressed:
                break
        return succeeded

    def _run(self, scheduled: ScheduledTimer, now: datetime) -> bool:
        timer = scheduled.timer
        try:
            self._fire(timer)
        except Exception:
            self.failed += 1
            attempts = scheduled.attempts + 1
            log.exception("timer %s/%s failed (attempt %d)", timer.kind, timer.subject, attempts)
            self.scheduler.records.reschedule(scheduled, now + retry_delay(attempts))
            return False
        self.fired += 1
        self.scheduler.records.delete(timer.kind, timer.subject, token=scheduled.token)
        return True

    def _wake_if_due_soon(self, timer: Timer) -> None:
        if due_soon(timer, self._clock, self._idle):
            self._wake.set()

    def wake(self) -> None:
        """Look for due timers now rather than after the idle wait (a timer was set elsewhere)."""
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="timer-runner", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.fire_due()
            except Exception:  # the table was unreachable; try again on the next round
                log.exception("timer runner round failed")
            self._wake.wait(self._idle)
            self._wake.clear()
