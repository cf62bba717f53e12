"""SLA policies and clocks: target selection, pauses, cycles, reopening, and the scheduler's contract."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from caseline.automation.calendar import BusinessCalendar
from caseline.automation.sla import (
    CaseSlaHistory,
    ClockState,
    SlaEvent,
    SlaEventKind,
    SlaMetric,
    SlaPolicy,
    SlaTarget,
    compute_sla,
    transitions,
)
from caseline.domain.case import CaseStatus, Priority
from caseline.domain.common import Channel
from caseline.domain.customer import CustomerTier
from caseline.domain.interaction import Author, AuthorKind, Direction, Interaction, Visibility
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from .strategies import calendars

BERLIN = ZoneInfo("Europe/Berlin")
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE = BusinessCalendar(time_zone="Europe/Berlin", holiday_country="DE", holiday_subdivision="BY",
                          weekly_hours={d: [{"start": "09:00", "end": "17:00"}] for d in WEEKDAYS})
POLICY = SlaPolicy(id="standard", name="Standard", targets=[
    SlaTarget(priority=Priority.NORMAL, first_response_minutes=240, next_response_minutes=480,
              resolution_minutes=3 * 480),
    SlaTarget(priority=Priority.NORMAL, tier=CustomerTier.VIP, first_response_minutes=60, resolution_minutes=480),
    SlaTarget(priority=Priority.NORMAL, channel=Channel.CHAT, first_response_minutes=5),
    SlaTarget(priority=Priority.NORMAL, tier=CustomerTier.VIP, channel=Channel.CHAT, first_response_minutes=2),
    SlaTarget(priority=Priority.URGENT, first_response_minutes=30, business_hours=False),
])


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A time in the week of Monday 8 June 2026, Berlin."""
    return dt.datetime(2026, 6, day, hour, minute, tzinfo=BERLIN)


def history(*events: SlaEvent, opened: dt.datetime | None = None, priority: Priority = Priority.NORMAL,
            tier: CustomerTier = CustomerTier.STANDARD, channel: Channel = Channel.EMAIL) -> CaseSlaHistory:
    return CaseSlaHistory(opened_at=opened or at(8, 10), priority=priority, tier=tier, channel=channel,
                          events=list(events))


def reply(when: dt.datetime) -> SlaEvent:
    return SlaEvent(at=when, kind=SlaEventKind.AGENT_REPLY)


def message(when: dt.datetime) -> SlaEvent:
    return SlaEvent(at=when, kind=SlaEventKind.CUSTOMER_MESSAGE)


def status(when: dt.datetime, value: CaseStatus) -> SlaEvent:
    return SlaEvent.status_changed(when, value)


def first_response(h: CaseSlaHistory, now: dt.datetime, policy: SlaPolicy = POLICY):
    clock = compute_sla(h, policy, OFFICE, now).clock(SlaMetric.FIRST_RESPONSE)
    assert clock is not None
    return clock


# --- policies -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("tier", "channel", "minutes"), [
    (CustomerTier.STANDARD, Channel.EMAIL, 240),
    (CustomerTier.VIP, Channel.EMAIL, 60),
    (CustomerTier.STANDARD, Channel.CHAT, 5),
    (CustomerTier.VIP, Channel.CHAT, 2),
    (CustomerTier.PREMIUM, Channel.PHONE, 240),
])
def test_the_most_specific_target_applies(tier: CustomerTier, channel: Channel, minutes: int) -> None:
    target = POLICY.target_for(Priority.NORMAL, tier, channel)
    assert target is not None and target.first_response_minutes == minutes


def test_a_priority_without_targets_gets_no_clocks() -> None:
    report = compute_sla(history(priority=Priority.LOW), POLICY, OFFICE, at(9, 10))
    assert report.target is None and report.clocks == [] and report.next_change_at is None


@pytest.mark.parametrize(("change", "message_part"), [
    ({"warning_ratio": 1.0}, "less than 1"),
    ({"pause_statuses": ["solved"]}, "only pending and on_hold"),
    ({"targets": []}, "at least 1"),
    ({"targets": [{"priority": "high"}, {"priority": "high"}]}, "two targets"),
    ({"targets": [{"priority": "high", "first_response_minutes": 0}]}, "greater than or equal to 1"),
])
def test_invalid_policies_are_refused(change: dict, message_part: str) -> None:
    data = {"id": "p", "name": "P", "targets": [{"priority": "high", "first_response_minutes": 60}], **change}
    with pytest.raises(ValidationError, match=message_part):
        SlaPolicy.model_validate(data)


def test_history_events_cannot_predate_the_case() -> None:
    with pytest.raises(ValidationError, match="before the case opened"):
        history(reply(at(8, 9)))
    with pytest.raises(ValidationError, match="status is required"):
        SlaEvent(at=at(8, 11), kind=SlaEventKind.STATUS_CHANGED)


def test_interactions_become_events_only_when_public_and_from_a_person() -> None:
    def interaction(kind: AuthorKind, direction: Direction, visibility: Visibility = Visibility.PUBLIC):
        return Interaction(id="01HZX3V1M3K9Q2W4E5R6T7Y8Z9", case_id="01HZX3V1M3K9Q2W4E5R6T7Y8ZA",
                           customer_id="01HZX3V1M3K9Q2W4E5R6T7Y8ZB", channel=Channel.EMAIL, direction=direction,
                           visibility=visibility, author=Author(kind=kind, id="x"), text="hi", created_at=at(8, 11))

    assert SlaEvent.from_interaction(interaction(AuthorKind.AGENT, Direction.OUTBOUND)).kind == SlaEventKind.AGENT_REPLY
    assert SlaEvent.from_interaction(
        interaction(AuthorKind.CUSTOMER, Direction.INBOUND)).kind == SlaEventKind.CUSTOMER_MESSAGE
    assert SlaEvent.from_interaction(interaction(AuthorKind.AGENT, Direction.OUTBOUND, Visibility.INTERNAL)) is None
    assert SlaEvent.from_interaction(interaction(AuthorKind.SYSTEM, Direction.OUTBOUND)) is None


# --- first response ----------------------------------------------------------------------------------------
def test_first_response_runs_warns_and_breaches_in_business_time() -> None:
    h = history()  # opened Monday 10:00, 4 business hours
    running = first_response(h, at(8, 11))
    assert running.state == ClockState.RUNNING
    assert running.elapsed == H and running.remaining == 3 * H
    assert running.due_at == at(8, 14) and running.warning_at == at(8, 13)
    assert running.next_change_at == at(8, 13)

    warning = first_response(h, at(8, 13, 30))
    assert warning.state == ClockState.WARNING and warning.next_change_at == at(8, 14)

    breached = first_response(h, at(8, 14))
    assert breached.state == ClockState.BREACHED
    assert breached.breached_at == at(8, 14) and breached.next_change_at is None


def test_first_response_due_time_crosses_the_night() -> None:
    h = history(opened=at(8, 15))
    clock = first_response(h, at(8, 20))
    assert clock.state == ClockState.RUNNING and clock.elapsed == 2 * H
    assert clock.due_at == at(9, 11)


def test_a_reply_stops_the_clock_met_or_breached() -> None:
    met = first_response(history(reply(at(8, 14))), at(12, 12))
    assert met.state == ClockState.MET and met.stopped_at == at(8, 14) and met.next_change_at is None
    late = first_response(history(reply(at(8, 14, 1))), at(12, 12))
    assert late.state == ClockState.BREACHED and late.breached_at == at(8, 14)


def test_events_after_now_have_not_happened() -> None:
    clock = first_response(history(reply(at(8, 12))), at(8, 11))
    assert clock.state == ClockState.RUNNING


def test_pending_pauses_and_open_resumes_the_clock() -> None:
    h = history(status(at(8, 11), CaseStatus.PENDING), status(at(9, 11), CaseStatus.OPEN))
    paused = first_response(h, at(9, 10))
    assert paused.state == ClockState.PAUSED
    assert paused.elapsed == H and paused.remaining == 3 * H
    assert paused.due_at is None and paused.next_change_at is None
    resumed = first_response(h, at(9, 12))
    assert resumed.state == ClockState.RUNNING and resumed.elapsed == 2 * H
    assert resumed.due_at == at(9, 14)  # three hours left when it resumed at 11:00


def test_a_breach_stays_a_breach_while_paused() -> None:
    h = history(status(at(8, 15), CaseStatus.ON_HOLD))
    assert first_response(h, at(9, 10)).state == ClockState.BREACHED


def test_urgent_targets_count_round_the_clock() -> None:
    clock = first_response(history(opened=at(13, 23), priority=Priority.URGENT), at(13, 23, 10))
    assert clock.due_at == at(13, 23, 30)  # Saturday night


# --- next response and resolution ------------------------------------------------------------------------
def test_next_response_cycles_start_with_a_customer_message_after_a_reply() -> None:
    h = history(message(at(8, 10, 5)),  # before the first reply: part of the first response
                reply(at(8, 11)), message(at(8, 12)), message(at(8, 13)), reply(at(10, 9)),
                message(at(10, 10)))
    report = compute_sla(h, POLICY, OFFICE, at(10, 11))
    nxt = report.clock(SlaMetric.NEXT_RESPONSE)
    assert nxt is not None
    assert nxt.cycle == 2 and nxt.started_at == at(10, 10) and nxt.state == ClockState.RUNNING
    assert nxt.earlier_breaches == 1  # 12:00 Monday -> 09:00 Wednesday is 13 business hours > 8
    assert report.clock(SlaMetric.FIRST_RESPONSE).state == ClockState.MET


def test_resolution_stops_when_solved_and_resumes_when_reopened() -> None:
    solved = history(reply(at(8, 11)), status(at(8, 16), CaseStatus.SOLVED))
    clock = compute_sla(solved, POLICY, OFFICE, at(11, 10)).clock(SlaMetric.RESOLUTION)
    assert clock.state == ClockState.MET and clock.elapsed == 6 * H and clock.stopped_at == at(8, 16)

    reopened = history(reply(at(8, 11)), status(at(8, 16), CaseStatus.SOLVED), status(at(9, 16), CaseStatus.OPEN))
    clock = compute_sla(reopened, POLICY, OFFICE, at(10, 10)).clock(SlaMetric.RESOLUTION)
    assert clock.state == ClockState.RUNNING
    assert clock.elapsed == 6 * H + 2 * H  # Monday 10-16, Tuesday 16-17, Wednesday 9-10
    assert clock.due_at == at(12, 10)  # 24 business hours in all: Wednesday 7, Thursday 8, Friday 1


def test_the_report_tells_the_scheduler_when_to_look_again() -> None:
    report = compute_sla(history(reply(at(8, 11)), message(at(8, 16))), POLICY, OFFICE, at(8, 16, 30))
    # 8 business hours from Monday 16:00: 6 hours (the warning) is Tuesday 14:00, 8 hours Tuesday 16:00.
    assert report.clock(SlaMetric.NEXT_RESPONSE).warning_at == at(9, 14)
    assert report.next_change_at == at(9, 14)  # next response warns before resolution does (Wednesday 12:00)
    assert report.due_at == at(9, 16)
    assert not report.breached


def test_transitions_name_what_changed_and_when() -> None:
    h = history()
    before = compute_sla(h, POLICY, OFFICE, at(8, 12))
    later = compute_sla(h, POLICY, OFFICE, at(8, 14, 5))
    changes = {(c.metric, c.previous, c.current): c.at for c in transitions(before, later)}
    assert changes == {(SlaMetric.FIRST_RESPONSE, ClockState.RUNNING, ClockState.BREACHED): at(8, 14)}
    assert transitions(later, later) == []
    assert {c.current for c in transitions(None, before)} == {ClockState.RUNNING}


# --- properties ---------------------------------------------------------------------------------------------
BASE = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
offsets = st.integers(0, 14 * 24 * 60).map(lambda minutes: BASE + dt.timedelta(minutes=minutes))


@st.composite
def histories(draw: st.DrawFn) -> CaseSlaHistory:
    opened = draw(offsets)
    times = sorted(draw(st.lists(offsets.filter(lambda t: t >= opened), max_size=8)))
    events = []
    for t in times:
        kind = draw(st.sampled_from(list(SlaEventKind)))
        value = draw(st.sampled_from(list(CaseStatus))) if kind == SlaEventKind.STATUS_CHANGED else None
        events.append(SlaEvent(at=t, kind=kind, status=value))
    return CaseSlaHistory(opened_at=opened, priority=Priority.NORMAL, channel=Channel.EMAIL, events=events)


PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(h=histories(), calendar=calendars(zones=["Europe/Berlin", "America/New_York", "UTC"]), now=offsets)
def test_clock_arithmetic_is_consistent(h: CaseSlaHistory, calendar: BusinessCalendar, now: dt.datetime) -> None:
    for clock in compute_sla(h, POLICY, calendar, now).clocks:
        assert clock.elapsed + clock.remaining == clock.target
        assert clock.elapsed >= dt.timedelta(0)
        assert (clock.state == ClockState.BREACHED) == (clock.elapsed > clock.target if clock.stopped_at
                                                        else clock.elapsed >= clock.target)
        if clock.next_change_at is not None:
            assert clock.next_change_at > now
        if clock.state == ClockState.BREACHED:
            assert clock.breached_at is not None and clock.breached_at <= (clock.stopped_at or now)


@PROPERTY
@given(h=histories(), calendar=calendars(zones=["Europe/Berlin", "America/New_York", "UTC"]), now=offsets)
def test_nothing_changes_before_next_change_at_and_something_does_at_it(
        h: CaseSlaHistory, calendar: BusinessCalendar, now: dt.datetime) -> None:
    assume(now >= h.opened_at)  # before opening there is nothing to report
    # Only what has happened by `now`: the contract is about time passing without new input.
    h = h.model_copy(update={"events": [e for e in h.events if e.at <= now]})
    report = compute_sla(h, POLICY, calendar, now)
    wake = report.next_change_at
    states = {c.metric: c.state for c in report.clocks}
    if wake is None:
        # Without new events no clock changes state, however long we wait.
        later = compute_sla(h, POLICY, calendar, now + dt.timedelta(days=400))
        assert {c.metric: c.state for c in later.clocks} == states
        return
    just_before = compute_sla(h, POLICY, calendar, wake - dt.timedelta(microseconds=1))
    assert {c.metric: c.state for c in just_before.clocks} == states
    at_wake = compute_sla(h, POLICY, calendar, wake)
    assert {c.metric: c.state for c in at_wake.clocks} != states


@PROPERTY
@given(calendar=calendars(zones=["Europe/Berlin", "America/New_York"]), opened=offsets,
       pause_after=st.integers(0, 5 * 24 * 60), pause_for=st.integers(1, 5 * 24 * 60),
       pause_status=st.sampled_from([CaseStatus.PENDING, CaseStatus.ON_HOLD]))
def test_a_pause_never_brings_a_due_time_forward(calendar: BusinessCalendar, opened: dt.datetime, pause_after: int,
                                                 pause_for: int, pause_status: CaseStatus) -> None:
    paused_at = opened + dt.timedelta(minutes=pause_after)
    resumed_at = paused_at + dt.timedelta(minutes=pause_for)
    plain = CaseSlaHistory(opened_at=opened, priority=Priority.NORMAL, channel=Channel.EMAIL)
    paused = plain.model_copy(update={"events": [status(paused_at, pause_status), status(resumed_at, CaseStatus.OPEN)]})
    now = resumed_at + dt.timedelta(days=60)
    for metric in (SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION):
        without = compute_sla(plain, POLICY, calendar, now).clock(metric)
        with_pause = compute_sla(paused, POLICY, calendar, now).clock(metric)
        assert with_pause.due_at >= without.due_at
        assert with_pause.elapsed <= without.elapsed


@PROPERTY
@given(h=histories(), calendar=calendars(zones=["Europe/Berlin", "UTC"]), first=offsets, second=offsets)
def test_clocks_only_move_forward_as_time_passes(h: CaseSlaHistory, calendar: BusinessCalendar, first: dt.datetime,
                                                 second: dt.datetime) -> None:
    earlier, later = sorted([first, second])
    if any(earlier < e.at <= later for e in h.events):
        return  # new input in between may legitimately start another cycle
    before = {c.metric: c for c in compute_sla(h, POLICY, calendar, earlier).clocks}
    for clock in compute_sla(h, POLICY, calendar, later).clocks:
        old = before.get(clock.metric)
        if old is None:
            continue
        assert clock.elapsed >= old.elapsed
        if old.state == ClockState.BREACHED:
            assert clock.state == ClockState.BREACHED
