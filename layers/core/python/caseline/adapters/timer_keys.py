"""Key builders for timer records. The only module that writes their key strings.

A timer is one item per (kind, subject). Locally the runner finds due timers through `gsi1` (one index
partition ordered by due time); in AWS the same items only remember what was scheduled.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..ports.table import Key

TIMER_ENTITY = "timer"
TIMERS_BY_DUE = "TIMERS"


def timer(kind: str, subject: str) -> Key:
    return {"pk": f"TIMER#{kind}#{subject}", "sk": "TIMER"}


def due_sort(due_at: datetime, kind: str, subject: str) -> str:
    return f"{_instant(due_at)}#{kind}#{subject}"


def due_bound(now: datetime) -> str:
    """Sorts after every timer due at or before `now`."""
    return f"{_instant(now)}#~"


def _instant(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
