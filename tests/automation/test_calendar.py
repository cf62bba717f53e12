"""Business calendars: working hours, holidays and daylight-saving changes, by example and by property."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from caseline.automation.calendar import BusinessCalendar, CalendarError, Weekday, WorkingInterval
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from .strategies import UTC, calendars, durations, instants

BERLIN = ZoneInfo("Europe/Berlin")
H = dt.timedelta(hours=1)
OFFICE = {day: [{"start": "09:00", "end": "17:00"}] for day in ("mon", "tue", "wed", "thu", "fri")}


def berlin(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


@pytest.fixture(scope="module")
def bavaria() -> BusinessCalendar:
    return BusinessCalendar(name="munich", time_zone="Europe/Berlin", weekly_hours=OFFICE,
                            holiday_country="DE", holiday_subdivision="BY", extra_holidays=[dt.date(2026, 12, 24)])


# --- by example --------------------------------------------------------------------------------------------
def test_time_rolls_over_the_weekend_and_across_the_spring_forward_change(bavaria: BusinessCalendar) -> None:
    # Friday 27 March 2026 16:00 CET; clocks go forward on Sunday; Monday 10:00 is CEST.
    due = bavaria.add_business_time(berlin(2026, 3, 27, 16, 0), 2 * H)
    assert due == berlin(2026, 3, 30, 10, 0)
    assert due.tzinfo is UTC
    assert due == dt.datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_public_and_extra_holidays_are_skipped(bavaria: BusinessCalendar) -> None:
    # Thursday before Easter: Good Friday (3 April) and Easter Monday (6 April) are closed.
    assert bavaria.add_business_time(berlin(2026, 4, 2, 16, 0), 2 * H) == berlin(2026, 4, 7, 10, 0)
    # Epiphany is a holiday in Bavaria only.
    assert bavaria.is_holiday(dt.date(2026, 1, 6))
    berlin_city = BusinessCalendar(time_zone="Europe/Berlin", weekly_hours=OFFICE, holiday_country="DE",
                                   holiday_subdivision="BE")
    assert not berlin_city.is_holiday(dt.date(2026, 1, 6))
    # Christmas Eve is closed because we said so, not because of the country.
    assert bavaria.is_holiday(dt.date(2026, 12, 24))
    assert bavaria.business_time_between(berlin(2026, 12, 23, 9), berlin(2026, 12, 29, 9)) == 16 * H  # Wed and Mon


def test_a_due_time_that_uses_up_the_day_is_the_end_of_the_day_not_the_next_morning(
        bavaria: BusinessCalendar) -> None:
    assert bavaria.add_business_time(berlin(2026, 6, 10, 9, 0), 8 * H) == berlin(2026, 6, 10, 17, 0)
    assert not bavaria.is_working(berlin(2026, 6, 10, 17, 0))
    assert bavaria.is_working(berlin(2026, 6, 10, 16, 59, 59))


def test_zero_duration_waits_for_the_next_working_instant(bavaria: BusinessCalendar) -> None:
    saturday = berlin(2026, 6, 13, 12, 0)
    assert bavaria.add_business_time(saturday, dt.timedelta(0)) == berlin(2026, 6, 15, 9, 0)
    assert bavaria.next_working_instant(saturday) == berlin(2026, 6, 15, 9, 0)
    working = berlin(2026, 6, 15, 11, 0)
    assert bavaria.next_working_instant(working) == working


def test_several_intervals_a_day_and_days_without_any() -> None:
    split = BusinessCalendar(time_zone="Europe/Berlin", weekly_hours={
        "mon": [{"start": "13:30", "end": "17:00"}, {"start": "08:00", "end": "12:00"}],
        "sat": [{"start": "10:00", "end": "12:00"}],
    })
    monday = berlin(2026, 6, 15, 11, 0)
    assert not split.is_working(berlin(2026, 6, 15, 12, 30))
    assert split.add_business_time(monday, 2 * H) == berlin(2026, 6, 15, 14, 30)
    # Monday 16:00 + 3h: 1h on Monday, 2h on Saturday, 0 left: Saturday's end.
    assert split.add_business_time(berlin(2026, 6, 15, 16, 0), 3 * H) == berlin(2026, 6, 20, 12, 0)
    assert split.business_time_between(berlin(2026, 6, 15), berlin(2026, 6, 22)) == 9.5 * H


def test_round_the_clock_days_are_23_and_25_hours_long_on_dst_changes() -> None:
    always = BusinessCalendar.always("Europe/Berlin")
    assert always.business_time_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 23 * H
    assert always.business_time_between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 25 * H
    assert always.add_business_time(berlin(2026, 3, 28, 12), 24 * H) == berlin(2026, 3, 29, 13)
    assert always.is_working(berlin(2026, 3, 29, 0, 0))


def test_night_shift_across_the_gap_and_the_repeated_hour() -> None:
    night = BusinessCalendar(time_zone="Europe/Berlin", weekly_hours={"sun": [{"start": "01:00", "end": "04:00"}]})
    # 02:00-03:00 does not exist on 29 March 2026: two real hours of work.
    assert night.business_time_between(dt.datetime(2026, 3, 28, tzinfo=UTC),
                                       dt.datetime(2026, 3, 30, tzinfo=UTC)) == 2 * H
    # 02:00-03:00 happens twice on 25 October 2026: four real hours.
    assert night.business_time_between(dt.datetime(2026, 10, 24, tzinfo=UTC),
                                       dt.datetime(2026, 10, 26, tzinfo=UTC)) == 4 * H
    # An interval starting inside the gap starts when the clock jumps.
    gap = BusinessCalendar(time_zone="Europe/Berlin", weekly_hours={"sun": [{"start": "02:30", "end": "05:00"}]})
    assert gap.next_working_instant(dt.datetime(2026, 3, 28, tzinfo=UTC)) == dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_half_hour_dst_of_lord_howe() -> None:
    always = BusinessCalendar.always("Australia/Lord_Howe")
    zone = ZoneInfo("Australia/Lord_Howe")
    # Clocks go forward by 30 minutes at 02:00 on the first Sunday of October.
    day = always.business_time_between(dt.datetime(2026, 10, 4, tzinfo=zone), dt.datetime(2026, 10, 5, tzinfo=zone))
    assert day == dt.timedelta(hours=23, minutes=30)


def test_a_day_that_never_happened_has_no_working_time() -> None:
    # Samoa skipped Friday 30 December 2011 when it moved across the date line.
    apia = ZoneInfo("Pacific/Apia")
    always = BusinessCalendar.always("Pacific/Apia")
    start, end = dt.datetime(2011, 12, 29, tzinfo=apia), dt.datetime(2011, 12, 31, tzinfo=apia)
    assert always.business_time_between(start, end) == 24 * H
    office = BusinessCalendar(time_zone="Pacific/Apia", weekly_hours=OFFICE)
    due = office.add_business_time(dt.datetime(2011, 12, 29, 16, tzinfo=apia), 2 * H)
    assert due == dt.datetime(2012, 1, 2, 10, tzinfo=apia)


def test_measuring_backwards_is_negative(bavaria: BusinessCalendar) -> None:
    a, b = berlin(2026, 6, 15, 10), berlin(2026, 6, 16, 10)
    assert bavaria.business_time_between(b, a) == -8 * H
    assert bavaria.business_time_between(a, a) == dt.timedelta(0)


def test_working_spans_are_clipped_to_the_window(bavaria: BusinessCalendar) -> None:
    spans = bavaria.working_spans(berlin(2026, 6, 15, 16), berlin(2026, 6, 16, 10))
    assert spans == [(berlin(2026, 6, 15, 16), berlin(2026, 6, 15, 17)),
                     (berlin(2026, 6, 16, 9), berlin(2026, 6, 16, 10))]


def test_a_calendar_that_never_opens_again_raises_instead_of_looping() -> None:
    mondays = [dt.date(2026, 1, 5) + dt.timedelta(weeks=n) for n in range(1000)]
    closed = BusinessCalendar(weekly_hours={"mon": [{"start": "09:00", "end": "10:00"}]}, extra_holidays=mondays)
    with pytest.raises(CalendarError, match="no working time"):
        closed.add_business_time(dt.datetime(2026, 1, 1, tzinfo=UTC), H)


@pytest.mark.parametrize(("weekly", "extra", "message"), [
    ({"mon": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]}, {}, "overlap"),
    ({"mon": [{"start": "12:00", "end": "09:00"}]}, {}, "end after it starts"),
    ({"mon": [{"start": "24:00", "end": "24:00"}]}, {}, "end after it starts"),
    ({"mon": [{"start": "9:00", "end": "12:00"}]}, {}, "pattern"),
    ({"mon": []}, {}, "at least one working interval"),
    ({"mon": [{"start": "09:00", "end": "17:00"}]}, {"holiday_country": "XX"}, "no public holidays known"),
    ({"mon": [{"start": "09:00", "end": "17:00"}]}, {"holiday_country": "DE", "holiday_subdivision": "ZZ"},
     "no public holidays known"),
    ({"mon": [{"start": "09:00", "end": "17:00"}]}, {"holiday_subdivision": "BY"}, "needs holiday_country"),
    ({"mon": [{"start": "09:00", "end": "17:00"}]}, {"time_zone": "Mars/Olympus"}, "unknown time zone"),
    ({"funday": [{"start": "09:00", "end": "17:00"}]}, {}, "funday"),
])
def test_invalid_calendars_are_refused(weekly: dict, extra: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        BusinessCalendar(weekly_hours=weekly, **extra)


def test_naive_instants_and_negative_durations_are_refused(bavaria: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="time zone"):
        bavaria.is_working(dt.datetime(2026, 6, 15, 10))
    with pytest.raises(ValueError, match="negative"):
        bavaria.add_business_time(berlin(2026, 6, 15, 10), -H)


def test_calendars_are_values_whatever_they_have_cached(bavaria: BusinessCalendar) -> None:
    same = BusinessCalendar.model_validate_json(bavaria.model_dump_json())
    assert same == bavaria
    bavaria.is_working(berlin(2030, 1, 1, 10))
    assert same == bavaria
    with pytest.raises(ValidationError):
        bavaria.time_zone = "UTC"
    assert WorkingInterval(start="00:00", end="24:00").end_minute == 24 * 60
    assert Weekday.SUN.index == 6


# --- by property -------------------------------------------------------------------------------------------
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EPSILON = dt.timedelta(microseconds=1)


@PROPERTY
@given(calendar=calendars(), start=instants, duration=durations)
def test_a_due_time_is_working_time_or_exactly_the_end_of_an_interval(
        calendar: BusinessCalendar, start: dt.datetime, duration: dt.timedelta) -> None:
    due = calendar.add_business_time(start, duration)
    assert due >= start
    assert calendar.is_working(due) or (duration > dt.timedelta(0) and calendar.is_working(due - EPSILON))


@PROPERTY
@given(calendar=calendars(), start=instants, duration=durations)
def test_adding_then_measuring_gives_the_duration_back(
        calendar: BusinessCalendar, start: dt.datetime, duration: dt.timedelta) -> None:
    due = calendar.add_business_time(start, duration)
    assert calendar.business_time_between(start, due) == duration


@PROPERTY
@given(calendar=calendars(), start=instants, first=durations, second=durations)
def test_targets_are_monotonic_in_duration(
        calendar: BusinessCalendar, start: dt.datetime, first: dt.timedelta, second: dt.timedelta) -> None:
    shorter, longer = sorted([first, second])
    assert calendar.add_business_time(start, shorter) <= calendar.add_business_time(start, longer)


@PROPERTY
@given(calendar=calendars(), start=instants, duration=durations,
       pause_after=st.integers(0, 200 * 3600), pause_for=st.integers(0, 200 * 3600))
def test_pausing_and_resuming_never_shortens_a_target(
        calendar: BusinessCalendar, start: dt.datetime, duration: dt.timedelta, pause_after: int,
        pause_for: int) -> None:
    plain = calendar.add_business_time(start, duration)
    paused_at = start + dt.timedelta(seconds=pause_after)
    resumed_at = paused_at + dt.timedelta(seconds=pause_for)
    used = calendar.business_time_between(start, paused_at)
    with_pause = plain if used >= duration else calendar.add_business_time(resumed_at, duration - used)
    assert with_pause >= plain
    # ...and the clock still counts exactly the target once the pause is taken out.
    paused = calendar.business_time_between(paused_at, min(resumed_at, with_pause)) if with_pause > paused_at else \
        dt.timedelta(0)
    assert calendar.business_time_between(start, with_pause) - paused == duration


@PROPERTY
@given(calendar=calendars(), t=instants)
def test_the_next_working_instant_has_no_working_time_before_it(calendar: BusinessCalendar, t: dt.datetime) -> None:
    nxt = calendar.next_working_instant(t)
    assert nxt >= t
    assert calendar.is_working(nxt)
    assert calendar.business_time_between(t, nxt) == dt.timedelta(0)


def _wall_clock_says_working(calendar: BusinessCalendar, t: dt.datetime) -> bool:
    local = t.astimezone(calendar.zone)
    if calendar.is_holiday(local.date()):
        return False
    minute = local.hour * 60 + local.minute + local.second / 60
    weekday = list(Weekday)[local.weekday()]
    return any(i.start_minute <= minute < i.end_minute for i in calendar.weekly_hours.get(weekday, []))


def _unambiguous(t: dt.datetime, zone: ZoneInfo) -> bool:
    local = t.astimezone(zone).replace(tzinfo=None)
    return local.replace(tzinfo=zone, fold=0).utcoffset() == local.replace(tzinfo=zone, fold=1).utcoffset()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendar=calendars(), start=instants, step=st.integers(307, 1499))
def test_is_working_agrees_with_the_wall_clock_wherever_the_wall_clock_is_unambiguous(
        calendar: BusinessCalendar, start: dt.datetime, step: int) -> None:
    for n in range(0, 3 * 24 * 3600, step * 7):
        t = start + dt.timedelta(seconds=n)
        if _unambiguous(t, calendar.zone):
            assert calendar.is_working(t) == _wall_clock_says_working(calendar, t), t.astimezone(calendar.zone)


def test_the_round_the_clock_calendar_is_built_once_per_time_zone() -> None:
    berlin_24x7 = BusinessCalendar.always("Europe/Berlin")
    assert BusinessCalendar.always("Europe/Berlin") is berlin_24x7
    assert BusinessCalendar.always("UTC") is not berlin_24x7
    day = [WorkingInterval(start="00:00", end="24:00")]
    assert berlin_24x7 == BusinessCalendar(name="24x7", time_zone="Europe/Berlin",
                                           weekly_hours=dict.fromkeys(Weekday, day))
    with pytest.raises(ValidationError):
        BusinessCalendar.always("Mars/Olympus_Mons")
