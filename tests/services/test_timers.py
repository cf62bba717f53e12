"""The timer-kind registry: dispatch reaches the registered handler, an unknown kind is an error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from caseline import bootstrap, timers
from caseline.ports.scheduler import Timer

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_dispatch_calls_the_handler_registered_for_the_kind(monkeypatch: pytest.MonkeyPatch,
                                                          sqlite_platform: bootstrap.Platform) -> None:
    seen: list[Timer] = []
    monkeypatch.setitem(timers.handlers, "test.kind", lambda deps, timer: seen.append(timer))
    timer = Timer(kind="test.kind", subject="C1", due_at=NOW, payload={"n": 1})
    timers.dispatch(sqlite_platform.deps, timer)
    assert seen == [timer]


def test_an_unknown_kind_is_refused(sqlite_platform: bootstrap.Platform) -> None:
    with pytest.raises(timers.UnknownTimerKind):
        timers.dispatch(sqlite_platform.deps, Timer(kind="nobody.listens", subject="C1", due_at=NOW))


def test_the_platform_has_a_scheduler(sqlite_platform: bootstrap.Platform) -> None:
    scheduler = sqlite_platform.deps.scheduler
    assert scheduler is not None
    scheduler.set(Timer(kind="sla", subject="C1", due_at=NOW))
    assert scheduler.get("sla", "C1") is not None
