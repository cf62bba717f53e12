"""SLA clocks wired end to end on one machine, with a controllable clock and the local runner stepped by hand.

A week of Munich office hours (Europe/Berlin, Bavaria's holidays) in June 2026: Thursday 4 June is Corpus
Christi. Cases open through the services, the outbox dispatcher runs the SLA consumer, and the timer
runner fires the SLA checks when the test moves the clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from caseline import bootstrap, timers
from caseline.adapters.embedded.local_scheduler import LocalScheduler, TimerRunner
from caseline.adapters.embedded.outbox_dispatcher import OutboxDispatcher
from caseline.adapters.embedded.sqlite_idempotency import SqliteIdempotencyPersistence
from caseline.adapters.embedded.sqlite_table import SqliteTable
from caseline.automation.sla import SlaMetric, SlaTarget
from caseline.consumers import Consumer
from caseline.consumers.sla import sla_clock_consumer
from caseline.domain.agents import Agent, Availability, Team
from caseline.domain.auth import Principal, Role
from caseline.domain.case import CaseStatus, Priority
from caseline.domain.common import Channel
from caseline.domain.events import EventEnvelope
from caseline.domain.interaction import Visibility
from caseline.domain.sla import SlaClockStatus, SlaTargetName
from caseline.ports.clock import FixedClock, UlidIds
from caseline.services import cases, sla_config
from caseline.services.commands import AddReply, CreateCustomer, CustomerRef, OpenCase
from caseline.services.context import Request
from caseline.services.customers import create_customer
from caseline.services.sla_clock import SLA_TIMER, refresh_sla
from caseline.services.sla_config import SlaEscalation, SlaPolicyConfig, TeamCalendar, office_hours
from caseline.settings import Settings

BERLIN_SUMMER = timedelta(hours=2)  # CEST: 09:00 in Munich is 07:00 UTC


def munich(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC) - BERLIN_SUMMER


POLICY = SlaPolicyConfig(
    id="office", name="Office hours",
    targets=[SlaTarget(priority=Priority.NORMAL, first_response_minutes=8 * 60, resolution_minutes=16 * 60),
             SlaTarget(priority=Priority.HIGH, first_response_minutes=4 * 60, resolution_minutes=8 * 60)],
    escalations=[SlaEscalation(when="warning", targets=[SlaMetric.FIRST_RESPONSE], notify_supervisor=True),
                 SlaEscalation(when="breached", raise_priority_to=Priority.HIGH, reassign_to_manager=True)])


@dataclass
class Desk:
    platform: bootstrap.Platform
    clock: FixedClock
    dispatcher: OutboxDispatcher
    runner: TimerRunner
    seen: list[EventEnvelope]
    team: Team
    manager: Agent
    agent: Agent
    customer_id: str

    @property
    def deps(self):
        return self.platform.deps

    def staff(self, who: Agent) -> Request:
        return Request(principal=Principal(subject=who.handle, role=who.role, agent_id=who.id, name=who.name))

    def as_customer(self) -> Request:
        return Request(principal=Principal(subject="c", role=Role.CUSTOMER, customer_id=self.customer_id))

    def at(self, when: datetime) -> None:
        """Move the clock, fire what is due, deliver what that caused."""
        self.clock.set(when)
        self.runner.fire_due()
        self.dispatcher.drain()

    def open(self) -> str:
        case = cases.open_case(self.deps, self.as_customer(), OpenCase(channel=Channel.WEB, subject="Invoice wrong",
                                                                       text="The amount is twice what it was."))
        self.dispatcher.drain()
        return case.id

    def types(self, case_id: str) -> list[str]:
        return [e.type for e in self.seen if e.subject == case_id and ".sla_" in e.type]


def _build(data: Path, clock: FixedClock) -> bootstrap.Platform:
    table = SqliteTable(data / "caseline.db", stream_filter=bootstrap.is_outbox_item)
    return bootstrap.build(Settings(data_dir=data), table=table, clock=clock,
                           idempotency=SqliteIdempotencyPersistence(data / "idempotency.db"))


def _wire(platform: bootstrap.Platform, clock: FixedClock, seen: list[EventEnvelope]) -> tuple[OutboxDispatcher,
                                                                                               TimerRunner]:
    recorder = Consumer(name="recorder", event_types=frozenset(), handle=lambda deps, event: seen.append(event))
    table = platform.table
    assert isinstance(table, SqliteTable)
    dispatcher = OutboxDispatcher(table, platform.deps, [sla_clock_consumer, recorder])
    scheduler = platform.deps.scheduler
    assert isinstance(scheduler, LocalScheduler)
    runner = TimerRunner(scheduler, lambda timer: timers.dispatch(platform.deps, timer), clock)
    return dispatcher, runner


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    clock = FixedClock(munich(1, 8))
    platform = _build(tmp_path, clock)
    bootstrap.use(platform)
    ids = UlidIds()
    manager = Agent(id=ids.new(), name="Mia Manager", email="mia@caseline.dev", handle="mia", role=Role.SUPERVISOR,
                    availability=Availability.ONLINE)
    agent = Agent(id=ids.new(), name="Ada Agent", email="ada@caseline.dev", handle="ada", role=Role.AGENT,
                  availability=Availability.ONLINE)
    team = Team(id=ids.new(), name="Billing", manager_id=manager.id, time_zone="Europe/Berlin")
    uow = platform.deps.store.begin()
    uow.put_team(team)
    uow.put_agent(manager.model_copy(update={"team_ids": [team.id]}))
    uow.put_agent(agent.model_copy(update={"team_ids": [team.id]}))
    uow.commit()
    admin = Request(principal=Principal(subject="setup", role=Role.ADMIN, agent_id=manager.id))
    sla_config.put_policy(platform.deps, admin, POLICY.id, POLICY, expected_version=None)
    sla_config.put_calendar(platform.deps, admin, team.id,
                            TeamCalendar(calendar=office_hours("Europe/Berlin", "DE", "BY"), sla_policy_id=POLICY.id),
                            expected_version=None)
    customer = create_customer(platform.deps, admin, CreateCustomer(name="Carla", emails=["carla@example.com"]))
    seen: list[EventEnvelope] = []
    dispatcher, runner = _wire(platform, clock, seen)
    built = Desk(platform, clock, dispatcher, runner, seen, team, manager, agent, customer.id)
    yield built
    bootstrap.use(None)


def _open_in_team(desk: Desk, when: datetime) -> str:
    desk.clock.set(when)
    case = cases.open_case(desk.deps, desk.staff(desk.agent), OpenCase(
        channel=Channel.WEB, subject="Invoice wrong", text="The amount is twice what it was.",
        requester=CustomerRef(customer_id=desk.customer_id), team_id=desk.team.id))
    desk.dispatcher.drain()
    return case.id


def _clock(desk: Desk, case_id: str, target: SlaTargetName):
    case = desk.deps.store.get_case(case_id)
    assert case is not None and case.sla is not None
    return next(c for c in case.sla.clocks if c.target == target)


def test_a_new_case_gets_its_clocks_due_time_and_one_timer(desk: Desk) -> None:
    case_id = _open_in_team(desk, munich(3, 15))  # Wednesday 15:00; Thursday is a holiday
    case = desk.deps.store.get_case(case_id)
    assert case is not None and case.sla is not None
    first = _clock(desk, case_id, SlaTargetName.FIRST_RESPONSE)
    # 8 office hours: Wednesday 15-17, Friday 09-15 (Corpus Christi is skipped)
    assert first.due_at == munich(5, 15) and first.state is SlaClockStatus.RUNNING
    assert first.warning_at == munich(5, 13)
    assert case.due_at == munich(5, 15)
    timer = desk.deps.scheduler.get(SLA_TIMER, case_id)
    assert timer is not None and timer.due_at == munich(5, 13)
    assert case.sla.policy_id == "office"


def test_a_case_is_opened_with_its_clocks_and_the_consumer_only_sets_their_timer(desk: Desk) -> None:
    desk.clock.set(munich(3, 15))
    opened = cases.open_case(desk.deps, desk.staff(desk.agent), OpenCase(
        channel=Channel.WEB, subject="Invoice wrong", text="The amount is twice what it was.",
        requester=CustomerRef(customer_id=desk.customer_id), team_id=desk.team.id))
    stored = desk.deps.store.get_case(opened.id)
    assert stored is not None and stored.sla is not None and stored.version == 1
    assert stored.due_at == munich(5, 15)  # in the queues' order from the first write
    assert desk.deps.scheduler.get(SLA_TIMER, opened.id) is None  # set by the consumer, as in AWS
    desk.dispatcher.drain()
    after = desk.deps.store.get_case(opened.id)
    assert after is not None and after.version == 1 and after.sla == stored.sla  # not written again
    assert [e.type for e in desk.seen if e.subject == opened.id] == ["caseline.case.opened"]
    timer = desk.deps.scheduler.get(SLA_TIMER, opened.id)
    assert timer is not None and timer.due_at == munich(5, 13)


def test_a_timer_recorded_but_never_started_is_set_again(desk: Desk) -> None:
    case_id = _open_in_team(desk, munich(3, 15))
    scheduler = desk.deps.scheduler
    armed = scheduler.get(SLA_TIMER, case_id)
    assert armed is not None and armed.started
    # What an AWS start that failed after the commit leaves: the record, with nothing to fire it.
    scheduler.records.put(armed.timer)
    assert not scheduler.get(SLA_TIMER, case_id).started
    refresh_sla(desk.deps, case_id)
    again = scheduler.get(SLA_TIMER, case_id)
    assert again is not None and again.started and again.due_at == armed.due_at


def test_first_response_warning_then_breach_escalates_once_each(desk: Desk) -> None:
    case_id = _open_in_team(desk, munich(3, 15))
    desk.at(munich(5, 12, 59))
    assert desk.types(case_id) == []
    desk.at(munich(5, 13))
    assert desk.types(case_id) == ["caseline.case.sla_warning"]
    detail = cases.get_case(desk.deps, desk.staff(desk.manager), case_id, limit=50, cursor=None)
    notes = [i for i in detail.interactions.items if i.visibility is Visibility.INTERNAL]
    assert len(notes) == 1 and notes[0].mentions == [desk.manager.id]
    assert "@mia SLA first response warning" in notes[0].text
    assert _clock(desk, case_id, SlaTargetName.FIRST_RESPONSE).state is SlaClockStatus.WARNING
    # Firing the same check again (at-least-once delivery) changes nothing.
    refresh_sla(desk.deps, case_id)
    desk.dispatcher.drain()
    assert desk.types(case_id) == ["caseline.case.sla_warning"]

    desk.at(munich(5, 15))
    assert desk.types(case_id)[:2] == ["caseline.case.sla_warning", "caseline.case.sla_breach"]
    case = desk.deps.store.get_case(case_id)
    assert case is not None
    assert case.priority is Priority.HIGH and case.assignee_id == desk.manager.id
    trail = cases.audit_trail(desk.deps, desk.staff(desk.manager), case_id, limit=100, cursor=None)
    system_actions = [r.action for r in trail.items if r.actor_id == "system"]
    assert "case.sla_updated" in system_actions and "case.assigned" in system_actions
    breaches = [e for e in desk.seen if e.type == "caseline.case.sla_breach" and e.subject == case_id]
    assert breaches[0].data["target"] == "first_response" and breaches[0].data["at"].startswith("2026-06-05T13:00")
    # Escalated to high: the targets were recomputed from the opening; first response stays breached once.
    assert desk.types(case_id).count("caseline.case.sla_breach") == len({e.data["target"] for e in breaches})


def test_a_reply_in_time_meets_first_response_and_moves_the_timer(desk: Desk) -> None:
    case_id = _open_in_team(desk, munich(1, 9))  # Monday 09:00
    desk.clock.set(munich(1, 11))
    cases.add_reply(desk.deps, desk.staff(desk.agent), case_id, AddReply(text="Looking into it."))
    desk.dispatcher.drain()
    assert _clock(desk, case_id, SlaTargetName.FIRST_RESPONSE).state is SlaClockStatus.MET
    resolution = _clock(desk, case_id, SlaTargetName.RESOLUTION)
    assert resolution.due_at == munich(2, 17)  # 16 office hours: Monday and Tuesday
    timer = desk.deps.scheduler.get(SLA_TIMER, case_id)
    assert timer is not None and timer.due_at == munich(2, 13)  # 75 % of 16 h = 12 h
    case = desk.deps.store.get_case(case_id)
    assert case is not None and case.due_at == munich(2, 17)


def test_pending_pauses_the_clock_and_the_timer_until_the_customer_answers(desk: Desk) -> None:
    case_id = _open_in_team(desk, munich(1, 9))
    desk.clock.set(munich(1, 13))
    cases.add_reply(desk.deps, desk.staff(desk.agent), case_id,
                    AddReply(text="Which invoice number?", status=CaseStatus.PENDING))
    desk.dispatcher.drain()
    resolution = _clock(desk, case_id, SlaTargetName.RESOLUTION)
    assert resolution.state is SlaClockStatus.PAUSED and resolution.due_at is None
    assert desk.deps.scheduler.get(SLA_TIMER, case_id) is None  # nothing changes while it waits
    desk.at(munich(5, 16))  # Friday: days pass, nothing fires
    assert desk.types(case_id) == []
    cases.add_reply(desk.deps, desk.as_customer(), case_id, AddReply(text="INV-2026-0042"))
    desk.dispatcher.drain()
    resolution = _clock(desk, case_id, SlaTargetName.RESOLUTION)
    # 4 h counted on Monday; 12 h left from Friday 16:00: Friday 16-17, Monday 8 June 09-17, Tuesday 09-12.
    assert resolution.state is SlaClockStatus.RUNNING and resolution.due_at == munich(9, 12)
    timer = desk.deps.scheduler.get(SLA_TIMER, case_id)
    assert timer is not None and timer.due_at == munich(8, 16)  # the warning, at 12 of 16 h counted


def test_solving_stops_the_clocks_and_cancels_the_timer(desk: Desk) -> None:
    case_id = _open_in_team(desk, munich(1, 9))
    desk.clock.set(munich(1, 10))
    cases.add_reply(desk.deps, desk.staff(desk.agent), case_id, AddReply(text="Fixed.", status=CaseStatus.SOLVED))
    desk.dispatcher.drain()
    assert desk.deps.scheduler.get(SLA_TIMER, case_id) is None
    case = desk.deps.store.get_case(case_id)
    assert case is not None and case.due_at is None
    assert {c.state for c in case.sla.clocks} == {SlaClockStatus.MET}


def test_timers_survive_a_restart_mid_clock(tmp_path: Path) -> None:
    clock = FixedClock(munich(3, 15))
    first = _build(tmp_path, clock)
    bootstrap.use(first)
    ids = UlidIds()
    manager = Agent(id=ids.new(), name="Mia", email="mia@caseline.dev", handle="mia", role=Role.SUPERVISOR)
    team = Team(id=ids.new(), name="Billing", manager_id=manager.id, time_zone="Europe/Berlin")
    uow = first.deps.store.begin()
    uow.put_team(team)
    uow.put_agent(manager)
    uow.commit()
    admin = Request(principal=Principal(subject="setup", role=Role.ADMIN, agent_id=manager.id))
    sla_config.put_policy(first.deps, admin, POLICY.id, POLICY, expected_version=None)
    sla_config.put_calendar(first.deps, admin, team.id, TeamCalendar(
        calendar=office_hours("Europe/Berlin", "DE", "BY"), sla_policy_id=POLICY.id), expected_version=None)
    customer = create_customer(first.deps, admin, CreateCustomer(name="Carla", emails=["carla@example.com"]))
    seen: list[EventEnvelope] = []
    dispatcher, _ = _wire(first, clock, seen)
    case = cases.open_case(first.deps, admin, OpenCase(channel=Channel.WEB, subject="Invoice", text="Wrong amount",
                                                       requester=CustomerRef(customer_id=customer.id), team_id=team.id))
    dispatcher.drain()
    table = first.table
    assert isinstance(table, SqliteTable)
    table.close()
    bootstrap.use(None)

    clock.set(munich(5, 13))  # the process was down across the warning time
    second = _build(tmp_path, clock)
    bootstrap.use(second)
    try:
        dispatcher, runner = _wire(second, clock, seen)
        assert runner.fire_due() == 1
        dispatcher.drain()
        assert [e.type for e in seen if ".sla_" in e.type] == ["caseline.case.sla_warning"]
        timer = second.deps.scheduler.get(SLA_TIMER, case.id)
        assert timer is not None and timer.due_at == munich(5, 15)
    finally:
        bootstrap.use(None)


def test_queues_sort_by_the_next_due_target(desk: Desk) -> None:
    first = _open_in_team(desk, munich(1, 9))
    second = _open_in_team(desk, munich(1, 10))
    queue = desk.deps.store.team_queue(desk.team.id, "new", limit=10, cursor=None)
    assert [c.id for c in queue.items] == [first, second]  # first response due Monday 17:00, then Tuesday 10:00
    desk.clock.set(munich(1, 11))
    cases.add_reply(desk.deps, desk.staff(desk.agent), first, AddReply(text="On it.", status=CaseStatus.OPEN))
    cases.add_reply(desk.deps, desk.staff(desk.agent), second, AddReply(text="On it.", status=CaseStatus.OPEN))
    desk.dispatcher.drain()
    # Both answered: now the resolution targets count, 16 office hours from each opening.
    queue = desk.deps.store.team_queue(desk.team.id, "open", limit=10, cursor=None)
    assert [(c.id, c.due_at) for c in queue.items] == [(first, munich(2, 17)), (second, munich(3, 10))]
    cases.add_reply(desk.deps, desk.staff(desk.agent), first, AddReply(text="Which invoice?",
                                                                         status=CaseStatus.PENDING))
    desk.dispatcher.drain()
    paused = desk.deps.store.get_case(first)
    assert paused is not None and paused.due_at is None  # nothing due while it waits for the customer
    assert [c.id for c in desk.deps.store.team_queue(desk.team.id, "open", limit=10, cursor=None).items] == [second]
