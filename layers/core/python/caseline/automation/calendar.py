"""Business calendars: when a team works, in its own time zone, and the arithmetic of business time.

A calendar is a weekly pattern of working intervals in local wall-clock time (several a day, or none),
minus public holidays of a country (and subdivision) from the `holidays` package and extra closed dates.

Every instant going in or out is timezone-aware; results are in UTC. The local pattern is turned into
UTC spans one local day at a time, so daylight-saving changes are handled where they happen:

* on a spring-forward day a wall-clock time that does not exist (02:30 in Berlin on the last Sunday of
  March) is read as the instant the clock jumps, so an interval across the gap is shorter by the gap;
* on a fall-back day an interval covers every instant from the first time the wall clock shows its start
  to the last time it shows its end, so an interval across the repeated hour is longer by that hour.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, field_validator, model_validator

from caseline.domain.common import TimeZone

UTC = dt.UTC
ZERO = dt.timedelta(0)
_DAY = dt.timedelta(days=1)
_MINUTES_PER_DAY = 24 * 60
# A calendar with no working time for this many days in a row is treated as closed for good: it bounds the
# search instead of looping forever on a calendar that is all holidays.
MAX_CLOSED_DAYS = 1100
_SPAN_CACHE_LIMIT = 8192


class CalendarError(ValueError):
    """A calculation that cannot be answered by this calendar (e.g. it never opens again)."""


class AutomationModel(BaseModel):
    """Base for automation models: unknown fields are errors and values never change after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def index(self) -> int:
        """Monday is 0, like `date.weekday()`."""
        return _WEEKDAY_INDEX[self]


_WEEKDAY_INDEX = {day: number for number, day in enumerate(Weekday)}
_WEEKDAYS = tuple(Weekday)

ClockTime = Annotated[str, StringConstraints(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


class WorkingInterval(AutomationModel):
    """One stretch of working time on a day, in local wall-clock time; `end` may be 24:00."""

    start: ClockTime = Field(examples=["09:00"])
    end: ClockTime = Field(examples=["17:30"])

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start_minute >= self.end_minute:
            raise ValueError(f"a working interval must end after it starts ({self.start}-{self.end})")
        return self

    @property
    def start_minute(self) -> int:
        return _minutes(self.start)

    @property
    def end_minute(self) -> int:
        return _minutes(self.end)


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone")
    return value.astimezone(UTC)


class BusinessCalendar(AutomationModel):
    name: str = Field(default="default", min_length=1, max_length=100)
    time_zone: TimeZone = "UTC"
    weekly_hours: dict[Weekday, list[WorkingInterval]] = Field(
        description="working intervals per weekday; a missing day is a day off",
        examples=[{"mon": [{"start": "09:00", "end": "12:30"}, {"start": "13:30", "end": "17:00"}]}],
    )
    holiday_country: str | None = Field(default=None, pattern=r"^[A-Z]{2,3}$", examples=["DE"])
    holiday_subdivision: str | None = Field(default=None, max_length=10, examples=["BY"])
    extra_holidays: list[dt.date] = Field(default_factory=list, max_length=1000)

    _spans_by_day: dict[dt.date, tuple[tuple[dt.datetime, dt.datetime], ...]] = PrivateAttr(default_factory=dict)
    _holidays_by_year: dict[int, frozenset[dt.date]] = PrivateAttr(default_factory=dict)
    _zone: ZoneInfo = PrivateAttr()

    def model_post_init(self, context: object, /) -> None:
        self._zone = ZoneInfo(self.time_zone)

    def __eq__(self, other: object) -> bool:
        # Two calendars are the same when their fields are; what each has cached so far does not count.
        return type(other) is type(self) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    @field_validator("weekly_hours")
    @classmethod
    def _no_overlaps(cls, value: dict[Weekday, list[WorkingInterval]]) -> dict[Weekday, list[WorkingInterval]]:
        for day, intervals in value.items():
            ordered = sorted(intervals, key=lambda interval: interval.start_minute)
            for before, after in pairwise(ordered):
                if after.start_minute < before.end_minute:
                    raise ValueError(f"working intervals overlap on {day.value}: {before.start}-{before.end} "
                                     f"and {after.start}-{after.end}")
            value[day] = ordered
        if not any(value.values()):
            raise ValueError("a calendar needs at least one working interval in the week")
        return value

    @model_validator(mode="after")
    def _known_holidays(self) -> Self:
        if self.holiday_subdivision and not self.holiday_country:
            raise ValueError("holiday_subdivision needs holiday_country")
        if self.holiday_country:
            import holidays

            try:
                holidays.country_holidays(self.holiday_country, subdiv=self.holiday_subdivision, years=[])
            except NotImplementedError as exc:
                raise ValueError(f"no public holidays known for {self.holiday_country}"
                                 f"{'/' + self.holiday_subdivision if self.holiday_subdivision else ''}") from exc
        return self

    @classmethod
    def always(cls, time_zone: str = "UTC") -> BusinessCalendar:
        """Round the clock, every day: for targets measured in calendar time.

        Built once per time zone and shared: the calendar is immutable, and every SLA check of a case without
        a team calendar asks for one (building it validates a week of intervals)."""
        return _round_the_clock(cls, time_zone)

    @property
    def zone(self) -> ZoneInfo:
        return self.__pydantic_private__["_zone"]

    # --- questions ----------------------------------------------------------------------------------------
    def is_holiday(self, day: dt.date) -> bool:
        return day in self._holidays(day.year)

    def is_working(self, t: dt.datetime) -> bool:
        t = _aware(t, "t")
        start, end = next(self._spans_from(t))
        return start <= t < end

    def next_working_instant(self, t: dt.datetime) -> dt.datetime:
        """`t` itself when it is working time, else the start of the next working interval."""
        t = _aware(t, "t")
        start, _end = next(self._spans_from(t))
        return max(start, t)

    def add_business_time(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The instant at which `duration` of working time has passed since `start`.

        A due time that exactly uses up an interval is that interval's end (e.g. 17:00), not the start of
        the next one; a zero duration gives the next working instant.
        """
        if duration < ZERO:
            raise ValueError("duration must not be negative")
        left = duration
        t = _aware(start, "start")
        for span_start, span_end in self._spans_from(t):
            begin = max(span_start, t)
            available = span_end - begin
            if left <= available:
                return begin + left
            left -= available
        raise AssertionError("unreachable: _spans_from only ends by raising CalendarError")

    def business_time_between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        """Working time in [a, b); negative when b is before a."""
        a, b = _aware(a, "a"), _aware(b, "b")
        if b < a:
            return -self.business_time_between(b, a)
        total = ZERO
        for span_start, span_end in self._spans_from(a):
            if span_start >= b:
                break
            total += min(span_end, b) - max(span_start, a)
        return total

    def working_spans(self, a: dt.datetime, b: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        """The working spans that overlap [a, b), clipped to it, in UTC."""
        a, b = _aware(a, "a"), _aware(b, "b")
        spans = []
        if b <= a:
            return spans
        for span_start, span_end in self._spans_from(a):
            if span_start >= b:
                break
            spans.append((max(span_start, a), min(span_end, b)))
        return spans

    # --- the local pattern as UTC spans --------------------------------------------------------------------
    def _spans_from(self, t: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Working spans that end after `t`, in order and never overlapping (adjacent spans may touch)."""
        day = t.astimezone(self.zone).date() - _DAY
        last_end: dt.datetime | None = None
        closed_days = 0
        while True:
            spans = self._day_spans(day)
            closed_days = 0 if spans else closed_days + 1
            if closed_days > MAX_CLOSED_DAYS:
                raise CalendarError(f"calendar {self.name!r} has no working time for {MAX_CLOSED_DAYS} days "
                                    f"from {day - dt.timedelta(days=MAX_CLOSED_DAYS)}")
            for start, end in spans:
                if last_end is not None and start < last_end:
                    start = last_end  # a repeated midnight on a fall-back day: never count an instant twice
                if start >= end:
                    continue
                last_end = end
                if end > t:
                    yield start, end
            day += _DAY

    def _day_spans(self, day: dt.date) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
        # Private attributes are read straight from pydantic's dict: this is the hot path of every calculation.
        cache = self.__pydantic_private__["_spans_by_day"]
        cached = cache.get(day)
        if cached is not None:
            return cached
        spans: list[tuple[dt.datetime, dt.datetime]] = []
        intervals = self.weekly_hours.get(_WEEKDAYS[day.weekday()], [])
        if intervals and not self.is_holiday(day):
            for interval in intervals:
                start = _local_instant(day, interval.start_minute, self.zone, latest=False)
                end = _local_instant(day, interval.end_minute, self.zone, latest=True)
                if spans and start <= spans[-1][1]:
                    # On a fall-back day the end of one interval can be read after the start of the next.
                    spans[-1] = (spans[-1][0], max(spans[-1][1], end))
                elif start < end:
                    spans.append((start, end))
        if len(cache) >= _SPAN_CACHE_LIMIT:
            cache.clear()
        result = tuple(spans)
        cache[day] = result
        return result

    def _holidays(self, year: int) -> frozenset[dt.date]:
        cache = self.__pydantic_private__["_holidays_by_year"]
        cached = cache.get(year)
        if cached is not None:
            return cached
        dates = {d for d in self.extra_holidays if d.year == year}
        if self.holiday_country:
            import holidays

            dates |= set(holidays.country_holidays(self.holiday_country, subdiv=self.holiday_subdivision,
                                                   years=year).keys())
        result = frozenset(dates)
        cache[year] = result
        return result


def _wall(t: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return t.astimezone(zone).replace(tzinfo=None)


def _local_instant(day: dt.date, minute: int, zone: ZoneInfo, *, latest: bool) -> dt.datetime:
    """The UTC instant at which the wall clock in `zone` shows `minute` past midnight of `day`.

    Ambiguous (repeated) times give the earlier or the `latest` reading; a time inside a gap gives the
    instant of the jump, the first instant whose wall-clock time is not before it.
    """
    naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return first
    if _wall(first, zone) == naive:  # both readings exist: a repeated time
        return max(first, second) if latest else min(first, second)
    low, high = min(first, second), max(first, second)
    # Inside a gap: binary-search the jump to the second between the two readings (a few hours apart).
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle <= low:
            break
        if _wall(middle, zone) >= naive:
            high = middle
        else:
            low = middle
    return high


@functools.lru_cache(maxsize=64)
def _round_the_clock(cls: type[BusinessCalendar], time_zone: str) -> BusinessCalendar:
    day = [WorkingInterval(start="00:00", end="24:00")]
    return cls(name="24x7", time_zone=time_zone, weekly_hours=dict.fromkeys(Weekday, day))
