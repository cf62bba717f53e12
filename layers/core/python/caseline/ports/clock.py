"""Time and ids are ports too, so tests and benchmarks can control them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ulid import ULID


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when


class Ids(Protocol):
    def new(self, at: datetime | None = None) -> str: ...


class UlidIds:
    def new(self, at: datetime | None = None) -> str:
        return str(ULID.from_datetime(at) if at is not None else ULID())
