"""Timers: "call me back about this subject at that time".

A timer is named by `(kind, subject)` — e.g. `("sla", <case id>)` — so setting it again replaces the one
before, and a capability never has to remember what it set. Each kind's handler is registered in
`caseline.timers`. Delivery is at least once: a handler may run twice for one timer, and must be idempotent
(re-read the state it acts on, compare with what it last stored).

Adapters:

- embedded (`adapters/embedded/local_scheduler.py`): timers are items in the SQLite table under the data
  directory, and a runner thread in `caseline dev` fires the due ones (`TimerRunner.fire_due(now)` steps it
  in tests), retrying a failed handler with backoff. Timers survive a restart.
- AWS (`adapters/aws/aws_scheduler.py`): kind `sla` starts a Step Functions execution per case
  (`statemachines/sla_clock.asl.json`), which supersedes the previous one; other kinds become EventBridge
  Scheduler one-time schedules targeting the `timers` function.

Both keep a record of the current timer in the table (`adapters/timer_records.py`), so `get` answers the
same way on both and a late delivery of a replaced timer can tell it is stale (its `token` differs).

`stage` sets a timer as part of a caller's transaction (`Change.set_timer`): the record is one more write in
it, and what starts the timer firing runs after the commit. A capability that stores a state and the timer
for it (an SLA clock, a rule's recheck) then writes once instead of twice, and a failed commit sets nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .table import WriteOp

KIND_PATTERN = r"^[a-z][a-z0-9._-]{0,39}$"
SUBJECT_PATTERN = r"^[A-Za-z0-9._-]{1,100}$"


class Timer(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    kind: str = Field(pattern=KIND_PATTERN, description='what the timer is for: "sla", "rules.recheck" ...')
    subject: str = Field(pattern=SUBJECT_PATTERN, description="what it is about: a case id, an agent id")
    due_at: AwareDatetime
    payload: dict[str, Any] = Field(default_factory=dict)


class ScheduledTimer(BaseModel):
    """A timer as the scheduler holds it: `token` changes on every `set`, `attempts` counts failed firings."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    timer: Timer
    token: str
    attempts: int = 0
    # What fires it: the AWS execution ARN or schedule name, `local` for the embedded runner. None while only
    # its record exists (AWS: the start after the commit failed): `started` is False, set it again.
    handle: str | None = None

    @property
    def started(self) -> bool:
        return self.handle is not None

    @property
    def due_at(self) -> datetime:
        return self.timer.due_at


@dataclass(frozen=True)
class StagedTimer:
    """A timer set inside a transaction: commit `writes` with the rest of it, then call `start()`."""

    writes: list[WriteOp]
    start: Callable[[], None]


class Scheduler(Protocol):
    def set(self, timer: Timer) -> None:
        """Create the timer, or replace the one with the same (kind, subject)."""
        ...

    def stage(self, timer: Timer) -> StagedTimer:
        """`set`, split in two: the writes to commit in the caller's transaction, and what to do after it
        committed. If the transaction fails, drop the staged timer: the previous one (if any) stays."""
        ...

    def cancel(self, kind: str, subject: str) -> None:
        """Forget the timer; cancelling a timer that does not exist is not an error."""
        ...

    def get(self, kind: str, subject: str) -> ScheduledTimer | None: ...
