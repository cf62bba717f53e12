"""Hypothesis strategies for calendars and instants, shared by the automation tests."""

from __future__ import annotations

import datetime as dt

from caseline.automation.calendar import BusinessCalendar, Weekday, WorkingInterval
from hypothesis import strategies as st

# Zones with the awkward cases: DST at 02:00 and at midnight, a 30-minute DST shift, no DST, half-hour
# offsets, and a zone that skipped a whole day.
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "America/Santiago", "Australia/Lord_Howe", "Asia/Kolkata",
         "Europe/London", "Pacific/Apia"]
UTC = dt.UTC


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def day_intervals(draw: st.DrawFn) -> list[WorkingInterval]:
    bounds = sorted(draw(st.lists(st.integers(0, 96), unique=True, max_size=6)))
    if len(bounds) % 2:
        bounds = bounds[:-1]
    return [WorkingInterval(start=_clock(bounds[i] * 15), end=_clock(bounds[i + 1] * 15))
            for i in range(0, len(bounds), 2)]


@st.composite
def calendars(draw: st.DrawFn, zones: list[str] | None = None) -> BusinessCalendar:
    weekly = {day: draw(day_intervals()) for day in Weekday}
    if not any(weekly.values()):
        weekly[draw(st.sampled_from(list(Weekday)))] = [WorkingInterval(start="09:00", end="17:00")]
    country = draw(st.sampled_from([None, None, "DE", "US"]))
    extra = draw(st.lists(st.dates(dt.date(2024, 1, 1), dt.date(2028, 12, 31)), max_size=5))
    return BusinessCalendar(time_zone=draw(st.sampled_from(zones or ZONES)), weekly_hours=weekly,
                            holiday_country=country, extra_holidays=extra)


instants = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2028, 6, 30),
                        timezones=st.just(UTC)).map(lambda t: t.replace(microsecond=0))
durations = st.integers(0, 150 * 3600).map(lambda seconds: dt.timedelta(seconds=seconds))
