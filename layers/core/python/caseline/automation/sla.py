"""SLA policies and the clocks they put on a case, computed from the case's history and an injected "now".

Three targets can run on a case:

* first response: from opening to the first public agent reply;
* next response: from a customer message that follows an agent reply to the agent's next reply (one cycle
  per unanswered customer message; the latest cycle is reported, earlier breaches are counted);
* resolution: from opening until the case is solved; a reopened case picks up where it left off.

A clock counts business time of the policy's calendar (or round-the-clock time when a target says so) and
does not count while the case is in a pause status (pending, on hold) or solved. Nothing here reads the
time: the same history, policy, calendar and `now` always give the same report, and the report says when
it will next change on its own (`next_change_at`) so a scheduler can wake up then instead of scanning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator

from caseline.domain.case import CaseStatus, Priority
from caseline.domain.common import Channel, Timestamp
from caseline.domain.customer import CustomerTier
from caseline.domain.interaction import AuthorKind, Direction, Interaction, Visibility

from .calendar import UTC, ZERO, AutomationModel, BusinessCalendar

Minutes = Annotated[int, Field(ge=1, le=366 * 24 * 60)]
_CLOSED = frozenset({CaseStatus.SOLVED, CaseStatus.CLOSED})


class SlaMetric(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class ClockState(StrEnum):
    RUNNING = "running"
    WARNING = "warning"  # running and past the policy's warning share of the target
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


class SlaTarget(AutomationModel):
    """The targets for one priority, optionally narrowed to a customer tier and/or a channel."""

    priority: Priority
    tier: CustomerTier | None = Field(default=None, description="any tier when empty")
    channel: Channel | None = Field(default=None, description="any channel when empty")
    first_response_minutes: Minutes | None = None
    next_response_minutes: Minutes | None = None
    resolution_minutes: Minutes | None = None
    business_hours: bool = Field(default=True, description="count the calendar's working time, else all time")

    def minutes(self, metric: SlaMetric) -> int | None:
        return {
            SlaMetric.FIRST_RESPONSE: self.first_response_minutes,
            SlaMetric.NEXT_RESPONSE: self.next_response_minutes,
            SlaMetric.RESOLUTION: self.resolution_minutes,
        }[metric]

    @property
    def specificity(self) -> int:
        return (2 if self.tier is not None else 0) + (1 if self.channel is not None else 0)


class SlaPolicy(AutomationModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$", examples=["standard"])
    name: str = Field(min_length=1, max_length=100)
    warning_ratio: float = Field(default=0.75, gt=0, lt=1, description="share of a target that raises a warning")
    pause_statuses: frozenset[CaseStatus] = frozenset({CaseStatus.PENDING, CaseStatus.ON_HOLD})
    targets: list[SlaTarget] = Field(min_length=1, max_length=200)

    @field_validator("pause_statuses")
    @classmethod
    def _only_waiting_statuses(cls, value: frozenset[CaseStatus]) -> frozenset[CaseStatus]:
        allowed = {CaseStatus.PENDING, CaseStatus.ON_HOLD}
        if not value <= allowed:
            raise ValueError("only pending and on_hold can pause a clock (solved always stops it)")
        return value

    @model_validator(mode="after")
    def _one_line_per_scope(self) -> Self:
        seen = set()
        for target in self.targets:
            scope = (target.priority, target.tier, target.channel)
            if scope in seen:
                raise ValueError(f"two targets for priority={target.priority.value} tier={target.tier} "
                                 f"channel={target.channel}")
            seen.add(scope)
        return self

    def target_for(self, priority: Priority, tier: CustomerTier, channel: Channel) -> SlaTarget | None:
        """The most specific line for the case: tier and channel, then tier, then channel, then priority only."""
        best: SlaTarget | None = None
        for target in self.targets:
            if target.priority != priority:
                continue
            if target.tier not in (None, tier) or target.channel not in (None, channel):
                continue
            if best is None or target.specificity > best.specificity:
                best = target
        return best


class SlaEventKind(StrEnum):
    CUSTOMER_MESSAGE = "customer_message"
    AGENT_REPLY = "agent_reply"
    STATUS_CHANGED = "status_changed"


class SlaEvent(AutomationModel):
    """One thing that happened to a case that SLA clocks care about."""

    at: Timestamp
    kind: SlaEventKind
    status: CaseStatus | None = Field(default=None, description="the new status, for status_changed")

    @model_validator(mode="after")
    def _status_only_for_changes(self) -> Self:
        if (self.kind == SlaEventKind.STATUS_CHANGED) != (self.status is not None):
            raise ValueError("status is required for status_changed and only for it")
        return self

    @classmethod
    def from_interaction(cls, interaction: Interaction) -> SlaEvent | None:
        """Public customer messages and public agent replies count; notes and system messages do not."""
        if interaction.visibility != Visibility.PUBLIC:
            return None
        if interaction.author.kind == AuthorKind.CUSTOMER and interaction.direction == Direction.INBOUND:
            return cls(at=interaction.created_at, kind=SlaEventKind.CUSTOMER_MESSAGE)
        if interaction.author.kind == AuthorKind.AGENT and interaction.direction == Direction.OUTBOUND:
            return cls(at=interaction.created_at, kind=SlaEventKind.AGENT_REPLY)
        return None

    @classmethod
    def status_changed(cls, at: dt.datetime, status: CaseStatus) -> SlaEvent:
        return cls(at=at, kind=SlaEventKind.STATUS_CHANGED, status=status)


class CaseSlaHistory(AutomationModel):
    """What the clocks need to know about a case: when it opened, its scope, and what happened since."""

    opened_at: Timestamp
    status_at_open: CaseStatus = CaseStatus.NEW
    priority: Priority
    tier: CustomerTier = CustomerTier.STANDARD
    channel: Channel
    events: list[SlaEvent] = Field(default_factory=list)

    @model_validator(mode="after")
    def _events_after_opening(self) -> Self:
        for event in self.events:
            if event.at < self.opened_at:
                raise ValueError(f"an event at {event.at.isoformat()} is before the case opened")
        return self


class SlaClock(AutomationModel):
    metric: SlaMetric
    state: ClockState
    target: dt.timedelta
    started_at: dt.datetime
    stopped_at: dt.datetime | None = None
    elapsed: dt.timedelta = Field(description="business time counted so far")
    remaining: dt.timedelta = Field(description="target minus elapsed; negative once breached")
    due_at: dt.datetime | None = Field(default=None, description="unknown while paused")
    warning_at: dt.datetime | None = None
    breached_at: dt.datetime | None = None
    next_change_at: dt.datetime | None = Field(default=None, description="when the state changes without input")
    cycle: int = Field(default=1, description="next response: which customer message this clock is for")
    earlier_breaches: int = Field(default=0, description="next response: earlier cycles that were breached")


class SlaTransition(AutomationModel):
    metric: SlaMetric
    previous: ClockState | None
    current: ClockState
    at: dt.datetime = Field(description="when it happened: the warning or due time, else the report's time")


class SlaReport(AutomationModel):
    computed_at: dt.datetime
    policy_id: str
    target: SlaTarget | None = Field(description="the policy line that applies; no clocks when none does")
    clocks: list[SlaClock] = Field(default_factory=list)

    def clock(self, metric: SlaMetric) -> SlaClock | None:
        return next((c for c in self.clocks if c.metric == metric), None)

    @property
    def next_change_at(self) -> dt.datetime | None:
        """The earliest instant at which a clock changes state on its own: when to check the case again."""
        return min((c.next_change_at for c in self.clocks if c.next_change_at), default=None)

    @property
    def due_at(self) -> dt.datetime | None:
        """The earliest due time of the clocks still running (breached ones included): orders the queues."""
        return min((c.due_at for c in self.clocks if c.due_at and c.stopped_at is None), default=None)

    @property
    def breached(self) -> bool:
        return any(c.state == ClockState.BREACHED for c in self.clocks)


# --- computing the clocks --------------------------------------------------------------------------------------
Interval = tuple[dt.datetime, dt.datetime | None]


@lru_cache(maxsize=64)
def _round_the_clock(time_zone: str) -> BusinessCalendar:
    return BusinessCalendar.always(time_zone)


def compute_sla(history: CaseSlaHistory, policy: SlaPolicy, calendar: BusinessCalendar,
                now: dt.datetime) -> SlaReport:
    """The case's SLA clocks as they stand at `now`. Events after `now` have not happened yet."""
    now = now.astimezone(UTC)
    target = policy.target_for(history.priority, history.tier, history.channel)
    report = SlaReport(computed_at=now, policy_id=policy.id, target=target)
    if target is None or now < history.opened_at:
        return report
    measure = calendar if target.business_hours else _round_the_clock(calendar.time_zone)
    events = sorted((e for e in history.events if e.at <= now), key=lambda e: e.at)
    inactive = _inactive_intervals(history, events, policy.pause_statuses)
    closed_now = _status_at(history, events) in _CLOSED
    clocks: list[SlaClock] = []

    def clock(metric: SlaMetric, start: dt.datetime, stop: dt.datetime | None, **extra: int) -> SlaClock | None:
        minutes = target.minutes(metric)
        if minutes is None:
            return None
        return _clock(metric, dt.timedelta(minutes=minutes), start, stop, inactive, measure, policy.warning_ratio,
                      now, **extra)

    replies = [e.at for e in events if e.kind == SlaEventKind.AGENT_REPLY]
    first = clock(SlaMetric.FIRST_RESPONSE, history.opened_at, replies[0] if replies else None)
    cycles = _response_cycles(events)
    if cycles:
        earlier = [clock(SlaMetric.NEXT_RESPONSE, start, stop) for start, stop in cycles[:-1]]
        breaches = sum(1 for c in earlier if c and c.state == ClockState.BREACHED)
        start, stop = cycles[-1]
        nxt = clock(SlaMetric.NEXT_RESPONSE, start, stop, cycle=len(cycles), earlier_breaches=breaches)
    else:
        nxt = None
    solved_at = _last_closed_at(events) if closed_now else None
    resolution = clock(SlaMetric.RESOLUTION, history.opened_at, solved_at)
    clocks = [c for c in (first, nxt, resolution) if c is not None]
    return report.model_copy(update={"clocks": clocks})


def transitions(previous: SlaReport | None, current: SlaReport) -> list[SlaTransition]:
    """What changed between two reports of the same case: the input for warning and breach events."""
    changes = []
    for clock in current.clocks:
        before = previous.clock(clock.metric) if previous else None
        same_cycle = before is not None and before.cycle == clock.cycle
        previous_state = before.state if same_cycle and before else None
        if previous_state == clock.state:
            continue
        at = current.computed_at
        if clock.state == ClockState.BREACHED and clock.breached_at:
            at = clock.breached_at
        elif clock.state == ClockState.WARNING and clock.warning_at:
            at = clock.warning_at
        changes.append(SlaTransition(metric=clock.metric, previous=previous_state, current=clock.state, at=at))
    return changes


def _status_at(history: CaseSlaHistory, events: Iterable[SlaEvent]) -> CaseStatus:
    status = history.status_at_open
    for event in events:
        if event.status is not None:
            status = event.status
    return status


def _inactive_intervals(history: CaseSlaHistory, events: list[SlaEvent],
                        pause_statuses: frozenset[CaseStatus]) -> list[Interval]:
    """Periods in which no clock counts: a pause status or solved/closed. The last one may be open."""
    stopping = pause_statuses | _CLOSED
    intervals: list[Interval] = []
    since = history.opened_at if history.status_at_open in stopping else None
    for event in events:
        if event.status is None:
            continue
        if event.status in stopping and since is None:
            since = event.at
        elif event.status not in stopping and since is not None:
            if event.at > since:
                intervals.append((since, event.at))
            since = None
    if since is not None:
        intervals.append((since, None))
    return intervals


def _response_cycles(events: list[SlaEvent]) -> list[Interval]:
    """(customer message, next agent reply) pairs after the first agent reply; the last may be open."""
    cycles: list[Interval] = []
    replied = False
    waiting_since: dt.datetime | None = None
    for event in events:
        if event.kind == SlaEventKind.AGENT_REPLY:
            if waiting_since is not None:
                cycles.append((waiting_since, event.at))
                waiting_since = None
            replied = True
        elif event.kind == SlaEventKind.CUSTOMER_MESSAGE and replied and waiting_since is None:
            waiting_since = event.at
    if waiting_since is not None:
        cycles.append((waiting_since, None))
    return cycles


def _last_closed_at(events: list[SlaEvent]) -> dt.datetime | None:
    closed_at = None
    for event in events:
        if event.status in _CLOSED and closed_at is None:
            closed_at = event.at
        elif event.status is not None and event.status not in _CLOSED:
            closed_at = None
    return closed_at


Segment = tuple[dt.datetime, dt.datetime]


def _active_segments(start: dt.datetime, end: dt.datetime, inactive: list[Interval]) -> list[Segment]:
    segments = []
    cursor = start
    for pause_start, pause_end in inactive:
        if pause_end is not None and pause_end <= cursor:
            continue
        if pause_start >= end:
            break
        if pause_start > cursor:
            segments.append((cursor, pause_start))
        if pause_end is None:
            return segments
        cursor = max(cursor, pause_end)
    if cursor < end:
        segments.append((cursor, end))
    return segments


def _crossing(amount: dt.timedelta, segments: list[Segment], calendar: BusinessCalendar,
              counted: list[dt.timedelta], running_from: dt.datetime | None) -> dt.datetime | None:
    """When the clock reaches `amount`: inside a past segment, or later if it keeps running from `running_from`."""
    total = ZERO
    for (segment_start, _segment_end), length in zip(segments, counted, strict=True):
        if total + length >= amount:
            return calendar.add_business_time(segment_start, amount - total)
        total += length
    if running_from is None:
        return None
    return calendar.add_business_time(running_from, amount - total)


def _clock(metric: SlaMetric, target: dt.timedelta, start: dt.datetime, stop: dt.datetime | None,
           inactive: list[Interval], calendar: BusinessCalendar, warning_ratio: float, now: dt.datetime,
           cycle: int = 1, earlier_breaches: int = 0) -> SlaClock:
    end = stop if stop is not None else now
    segments = _active_segments(start, end, inactive)
    counted = [calendar.business_time_between(a, b) for a, b in segments]
    elapsed = sum(counted, ZERO)
    paused = stop is None and any(a <= now and (b is None or now < b) for a, b in inactive)
    running_from = now if stop is None and not paused else None
    warning_after = target * warning_ratio
    due_at = _crossing(target, segments, calendar, counted, running_from)
    warning_at = _crossing(warning_after, segments, calendar, counted, running_from)

    next_change_at = None
    if stop is not None:
        state = ClockState.MET if elapsed <= target else ClockState.BREACHED
    elif elapsed >= target:
        state = ClockState.BREACHED
    elif paused:
        state = ClockState.PAUSED
    elif elapsed >= warning_after:
        state = ClockState.WARNING
        next_change_at = due_at
    else:
        state = ClockState.RUNNING
        next_change_at = warning_at
    return SlaClock(
        metric=metric, state=state, target=target, started_at=start, stopped_at=stop, elapsed=elapsed,
        remaining=target - elapsed, due_at=due_at, warning_at=warning_at,
        breached_at=due_at if state == ClockState.BREACHED else None, next_change_at=next_change_at,
        cycle=cycle, earlier_breaches=earlier_breaches,
    )
