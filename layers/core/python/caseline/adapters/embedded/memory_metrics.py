"""Business metrics kept in memory on one machine and shown at the local runtime's /metrics page."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class Series:
    unit: str
    count: int = 0
    total: float = 0.0
    minimum: float | None = None
    maximum: float | None = None


class MemoryMetrics:
    def __init__(self) -> None:
        self._series: dict[str, Series] = {}
        self._lock = threading.Lock()

    def add(self, name: str, value: float, unit: str = "Count") -> None:
        with self._lock:
            series = self._series.setdefault(name, Series(unit=unit))
            series.count += 1
            series.total += value
            series.minimum = value if series.minimum is None else min(series.minimum, value)
            series.maximum = value if series.maximum is None else max(series.maximum, value)

    def snapshot(self) -> dict[str, dict[str, float | str | None]]:
        with self._lock:
            return {name: vars(s).copy() for name, s in sorted(self._series.items())}
