"""Timer records over the Table port: what both scheduler adapters remember about the current timers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from ..ports.clock import Ids
from ..ports.scheduler import ScheduledTimer, Timer
from ..ports.table import Condition, ConditionFailed, Item, Put, Query, SortCondition, SortOp, Table
from . import timer_keys as keys


class TimerRecords:
    def __init__(self, table: Table, ids: Ids, *, now: Callable[[], datetime]) -> None:
        self.table = table
        self.ids = ids
        self._now = now

    def put(self, timer: Timer, *, handle: str | None = None, token: str | None = None,
            attempts: int = 0) -> ScheduledTimer:
        scheduled = ScheduledTimer(timer=timer, token=token or self.ids.new(), attempts=attempts, handle=handle)
        self.table.put(self._item(scheduled))
        return scheduled

    def staged(self, timer: Timer, *, handle: str | None = None) -> tuple[ScheduledTimer, Put]:
        """The record of a new timer as a write for someone else's transaction, and the timer it records."""
        scheduled = ScheduledTimer(timer=timer, token=self.ids.new(), handle=handle)
        return scheduled, Put(self._item(scheduled))

    def set_handle(self, scheduled: ScheduledTimer, handle: str) -> ScheduledTimer:
        """Record what fires the timer, unless the timer was replaced meanwhile."""
        updated = scheduled.model_copy(update={"handle": handle})
        try:
            self.table.put(self._item(updated), Condition.attribute_is(token=scheduled.token))
        except ConditionFailed:
            return scheduled
        return updated

    def get(self, kind: str, subject: str) -> ScheduledTimer | None:
        item = self.table.get(keys.timer(kind, subject), now=self._epoch())
        return None if item is None else _scheduled(item)

    def delete(self, kind: str, subject: str, *, token: str | None = None) -> bool:
        """Forget the timer; with `token`, only if it is still that one. True when something was deleted."""
        condition = Condition.attribute_is(token=token) if token is not None else Condition.present()
        try:
            self.table.delete(keys.timer(kind, subject), condition)
        except ConditionFailed:
            return False
        return True

    def reschedule(self, scheduled: ScheduledTimer, due_at: datetime) -> bool:
        """Move a timer that failed to a later time, counting the attempt, unless it was replaced."""
        moved = scheduled.model_copy(update={"timer": scheduled.timer.model_copy(update={"due_at": due_at}),
                                             "attempts": scheduled.attempts + 1})
        try:
            self.table.put(self._item(moved), Condition.attribute_is(token=scheduled.token))
        except ConditionFailed:
            return False
        return True

    def due(self, now: datetime, *, limit: int = 100) -> list[ScheduledTimer]:
        page = self.table.query(
            Query(keys.TIMERS_BY_DUE, index="gsi1", sort=SortCondition(SortOp.LE, keys.due_bound(now)), limit=limit),
            now=self._epoch(),
        )
        return [_scheduled(item) for item in page.items]

    def next_due_at(self) -> datetime | None:
        page = self.table.query(Query(keys.TIMERS_BY_DUE, index="gsi1", limit=1), now=self._epoch())
        return _scheduled(page.items[0]).due_at if page.items else None

    def _item(self, scheduled: ScheduledTimer) -> Item:
        timer = scheduled.timer
        return {
            **keys.timer(timer.kind, timer.subject),
            "entity": keys.TIMER_ENTITY,
            "gsi1pk": keys.TIMERS_BY_DUE,
            "gsi1sk": keys.due_sort(timer.due_at, timer.kind, timer.subject),
            "token": scheduled.token,
            "attempts": scheduled.attempts,
            "handle": scheduled.handle,
            "data": timer.model_dump_json(),
        }

    def now(self) -> datetime:
        return self._now()

    def _epoch(self) -> int:
        return int(self._now().timestamp())


def _scheduled(item: Item) -> ScheduledTimer:
    return ScheduledTimer(timer=Timer.model_validate(json.loads(item["data"])), token=item["token"],
                          attempts=item.get("attempts", 0), handle=item.get("handle"))
