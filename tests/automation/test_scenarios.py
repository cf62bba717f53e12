"""A week at a Munich support desk with a controllable clock: SLAs, rules and routing working together.

`Desk` plays the part the wiring will play later (services, the scheduler, Step Functions): it keeps a case's
history, recomputes the SLA report after every change, turns state changes into `sla_warning`/`sla_breach`
rule events, applies the actions, and sleeps until the one instant the report or the rules ask for. Nothing
polls: the tests count the wake-ups.

The week is Monday 1 to Friday 5 June 2026; Thursday 4 June is Corpus Christi, a holiday in Bavaria.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from caseline.automation.calendar import BusinessCalendar
from caseline.automation.routing import (
    AgentPool,
    AgentSnapshot,
    OverflowRule,
    RoutingCase,
    RoutingOutcome,
    RoutingPolicy,
    reroute_unavailable,
    route,
)
from caseline.automation.rules import (
    CaseFacts,
    RuleContext,
    RuleEngine,
    RuleEvent,
    RuleSet,
    RuleTrigger,
    TeamInfo,
    default_rules,
)
from caseline.automation.sla import (
    CaseSlaHistory,
    ClockState,
    SlaEvent,
    SlaEventKind,
    SlaMetric,
    SlaPolicy,
    SlaReport,
    compute_sla,
    transitions,
)
from caseline.domain.agents import Availability
from caseline.domain.case import Case, CaseStatus, Priority

from .builders import agent, case, inbound, ulid

MUNICH = ZoneInfo("Europe/Berlin")
CALENDAR = BusinessCalendar(name="munich", time_zone="Europe/Berlin", holiday_country="DE", holiday_subdivision="BY",
                            weekly_hours={d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu",
                                                                                               "fri")})
POLICY = SlaPolicy(id="standard", name="Standard", targets=[
    {"priority": "normal", "first_response_minutes": 240, "next_response_minutes": 480, "resolution_minutes": 1440},
    {"priority": "urgent", "first_response_minutes": 60, "resolution_minutes": 480},
])
SUPPORT = TeamInfo(id=ulid(1, "01T"), name="Support", manager_id=ulid(90, "01A"), member_ids=[ulid(1, "01A")])
BILLING = TeamInfo(id=ulid(2, "01T"), name="Billing", manager_id=ulid(91, "01A"), member_ids=[ulid(2, "01A")])
ESCALATION_RULES = RuleSet.model_validate({"rules": [
    {"id": "warn-assignee", "name": "Warn the assignee", "triggers": ["sla_warning"],
     "actions": [{"type": "notify", "recipients": ["assignee"], "message": "#{{case.number}} is close to its SLA"}]},
    {"id": "breach-escalates", "name": "A breach goes to the manager", "triggers": ["sla_breach"], "stop": True,
     "actions": [{"type": "escalate", "to": "team_manager", "priority": "urgent", "reason": "SLA breached"}]},
    {"id": "breach-tells-team", "name": "Never reached: the rule above stops", "triggers": ["sla_breach"],
     "actions": [{"type": "notify", "recipients": ["team"], "message": "breach"}]},
]})


def munich(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 6, day, hour, minute, tzinfo=MUNICH)


@dataclass
class Clock:
    now: dt.datetime

    def advance_to(self, instant: dt.datetime) -> None:
        assert instant >= self.now, "the clock only moves forward"
        self.now = instant


@dataclass
class Desk:
    clock: Clock
    case: Case
    engine: RuleEngine
    events: list[SlaEvent] = field(default_factory=list)
    report: SlaReport | None = None
    wake_at: dt.datetime | None = None
    wakes: int = 0
    log: list[tuple[dt.datetime, str]] = field(default_factory=list)

    @classmethod
    def open(cls, clock: Clock, engine: RuleEngine, **case_fields: object) -> Desk:
        desk = cls(clock, case(created_at=clock.now, updated_at=clock.now, **case_fields), engine)
        desk._rules(RuleTrigger.CASE_OPENED)
        desk._recompute()
        return desk

    @property
    def history(self) -> CaseSlaHistory:
        return CaseSlaHistory(opened_at=self.case.created_at, priority=self.case.priority, channel=self.case.channel,
                              events=self.events)

    # --- what people do --------------------------------------------------------------------------------------
    def customer_writes(self) -> None:
        self.events.append(SlaEvent(at=self.clock.now, kind=SlaEventKind.CUSTOMER_MESSAGE))
        if self.case.status in (CaseStatus.PENDING, CaseStatus.ON_HOLD):
            self.set_status(CaseStatus.OPEN)
        self._recompute()

    def agent_replies(self) -> None:
        self.events.append(SlaEvent(at=self.clock.now, kind=SlaEventKind.AGENT_REPLY))
        self._recompute()

    def set_status(self, status: CaseStatus) -> None:
        self.case = self.case.model_copy(update={"status": status})
        self.events.append(SlaEvent.status_changed(self.clock.now, status))
        self._recompute()

    # --- what the scheduler does ---------------------------------------------------------------------------
    def run_until(self, instant: dt.datetime) -> None:
        while self.wake_at is not None and self.wake_at <= instant:
            self.clock.advance_to(self.wake_at)
            self.wakes += 1
            self._recompute()
        self.clock.advance_to(instant)

    def _recompute(self) -> None:
        # A rule may change the priority, and with it the targets: then the report is computed again.
        for _ in range(3):
            priority = self.case.priority
            report = compute_sla(self.history, POLICY, CALENDAR, self.clock.now)
            previous, self.report = self.report, report
            for change in transitions(previous, report):
                trigger = {ClockState.WARNING: RuleTrigger.SLA_WARNING, ClockState.BREACHED: RuleTrigger.SLA_BREACH}
                if change.current in trigger:
                    self.log.append((change.at, f"{change.metric.value} {change.current.value}"))
                    self._rules(trigger[change.current], metric=change.metric)
            if self.case.priority == priority:
                break
        self.wake_at = self.report.next_change_at

    def _rules(self, trigger: RuleTrigger, metric: SlaMetric | None = None) -> None:
        context = RuleContext(event=RuleEvent(trigger=trigger, at=self.clock.now, sla_metric=metric), case=self.case,
                              case_facts=CaseFacts.from_history(self.history))
        result = self.engine.evaluate(context)
        self.case = self.case.model_copy(update=result.case_changes)
        for fired in result.actions:
            self.log.append((self.clock.now, f"{fired.rule_id}: {fired.action.type} -> {fired.agent_ids}"))


def escalation_engine() -> RuleEngine:
    return RuleEngine(ESCALATION_RULES, calendar=CALENDAR, teams=[SUPPORT, BILLING])


def test_first_response_breach_across_the_holiday_wakes_exactly_twice() -> None:
    clock = Clock(munich(3, 16))  # Wednesday 16:00; Thursday is a holiday
    desk = Desk.open(clock, escalation_engine(), team_id=SUPPORT.id, assignee_id=ulid(1, "01A"))
    first = desk.report.clock(SlaMetric.FIRST_RESPONSE)
    assert first.due_at == munich(5, 12) and first.warning_at == munich(5, 11)  # 1h Wednesday + 3h Friday
    desk.run_until(munich(5, 13))
    assert desk.wakes == 2  # at the warning and at the breach, never in between
    assert desk.log == [
        (munich(5, 11), "first_response warning"),
        (munich(5, 11), f"warn-assignee: notify -> {[ulid(1, '01A')]}"),
        (munich(5, 12), "first_response breached"),
        (munich(5, 12), f"breach-escalates: escalate -> {[SUPPORT.manager_id]}"),
    ]
    # The escalation raised the case to urgent; the stop flag kept the team from a second notice.
    assert desk.case.priority == Priority.URGENT


def test_pending_pauses_the_resolution_clock_until_the_customer_answers() -> None:
    clock = Clock(munich(1, 10))
    desk = Desk.open(clock, escalation_engine(), team_id=SUPPORT.id)
    clock.advance_to(munich(1, 11))
    desk.agent_replies()
    desk.set_status(CaseStatus.PENDING)
    resolution = desk.report.clock(SlaMetric.RESOLUTION)
    assert resolution.state == ClockState.PAUSED and resolution.elapsed == dt.timedelta(hours=1)
    assert desk.wake_at is None  # nothing can change until someone acts
    desk.run_until(munich(3, 10))  # two days of silence: no wake-ups, no warnings
    assert desk.wakes == 0 and desk.log == []
    desk.customer_writes()  # Wednesday 10:00: the case opens again and a next-response cycle starts
    assert desk.case.status == CaseStatus.OPEN
    resolution = desk.report.clock(SlaMetric.RESOLUTION)
    assert resolution.state == ClockState.RUNNING and resolution.elapsed == dt.timedelta(hours=1)
    # 23 business hours left from Wednesday 10:00: Wednesday 7, Thursday is a holiday, Friday 8, Monday 8.
    assert resolution.due_at == munich(8, 17)
    nxt = desk.report.clock(SlaMetric.NEXT_RESPONSE)
    assert nxt.due_at == munich(5, 10)  # 8 business hours: Wednesday 7, Friday 1


def test_the_escalation_chain_warning_then_breach_then_escalate_for_next_response() -> None:
    clock = Clock(munich(1, 9))
    desk = Desk.open(clock, escalation_engine(), team_id=BILLING.id, assignee_id=ulid(2, "01A"))
    clock.advance_to(munich(1, 9, 30))
    desk.agent_replies()
    clock.advance_to(munich(1, 10))
    desk.customer_writes()
    desk.run_until(munich(2, 12))
    manager = [BILLING.manager_id]
    assert desk.log == [
        # 8 business hours from Monday 10:00: the warning at 6 hours, the breach on Tuesday 10:00.
        (munich(1, 16), "next_response warning"),
        (munich(1, 16), f"warn-assignee: notify -> {[ulid(2, '01A')]}"),
        (munich(2, 10), "next_response breached"),
        (munich(2, 10), f"breach-escalates: escalate -> {manager}"),
        # The escalation made the case urgent: its 8-hour resolution target from Monday 09:00 had already
        # passed on Monday 17:00, so that breach is reported (with its real time) and escalated as well.
        (munich(1, 17), "resolution breached"),
        (munich(2, 10), f"breach-escalates: escalate -> {manager}"),
    ]
    assert desk.case.priority == Priority.URGENT
    assert desk.wakes == 2 and desk.wake_at is None


def test_default_rules_escalate_after_four_business_hours_without_an_answer() -> None:
    engine = RuleEngine(default_rules(), calendar=CALENDAR, teams=[SUPPORT, BILLING])
    clock = Clock(munich(3, 15))  # Wednesday 15:00
    opened = case(team_id=SUPPORT.id, created_at=clock.now, updated_at=clock.now)
    context = RuleContext(event=RuleEvent(trigger=RuleTrigger.CASE_OPENED, at=clock.now), case=opened,
                          interaction=inbound("Hello, my app crashes"),
                          case_facts=CaseFacts(awaiting_agent_since=clock.now))
    first = engine.evaluate(context)
    assert first.actions == []
    # 2 hours on Wednesday, none on the holiday, 2 on Friday: the scheduler comes back Friday just after 11:00.
    assert first.recheck_at.astimezone(MUNICH).replace(microsecond=0) == munich(5, 11)
    clock.advance_to(first.recheck_at)
    fired = engine.evaluate(context.model_copy(update={"event": RuleEvent(trigger=RuleTrigger.TIMER, at=clock.now)}))
    assert [a.action.type for a in fired.actions] == ["escalate", "add_tags", "notify"]
    assert fired.actions[0].agent_ids == [SUPPORT.manager_id]


def test_rule_order_and_the_stop_flag_decide_the_team() -> None:
    rules = RuleSet.model_validate({"rules": [
        {"id": "billing", "name": "Billing words", "triggers": ["case_opened"], "stop": True,
         "when": {"op": "contains_any", "field": "case.subject", "keywords": ["invoice"]},
         "actions": [{"type": "set_team", "team": "Billing"}]},
        {"id": "everything-else", "name": "Default team", "triggers": ["case_opened"],
         "actions": [{"type": "set_team", "team": "Support"}]},
    ]})
    engine = RuleEngine(rules, calendar=CALENDAR, teams=[SUPPORT, BILLING])
    clock = Clock(munich(2, 10))
    billing = Desk.open(clock, engine, subject="Invoice 2026-113 is wrong")
    other = Desk.open(clock, engine, subject="App crashes on start")
    assert billing.case.team_id == BILLING.id and other.case.team_id == SUPPORT.id
    swapped = RuleEngine(RuleSet(rules=list(reversed(rules.rules))), calendar=CALENDAR, teams=[SUPPORT, BILLING])
    # In the other order both rules run and the later one wins.
    assert Desk.open(clock, swapped, subject="Invoice 2026-113 is wrong").case.team_id == BILLING.id
    assert [line for _, line in Desk.open(clock, swapped, subject="Invoice").log] == [
        "everything-else: set_team -> []", "billing: set_team -> []"]


def test_overflow_routing_after_fifteen_minutes_unassigned() -> None:
    clock = Clock(munich(2, 9))
    pool = AgentPool([AgentSnapshot(agent=agent(1, team=SUPPORT.id, capacity=1), open_cases=1),
                      AgentSnapshot(agent=agent(2, team=BILLING.id), open_cases=0)])
    policy = RoutingPolicy(overflow=[OverflowRule(from_team_id=SUPPORT.id, to_team_id=BILLING.id, after_minutes=15)])
    waiting = RoutingCase(case_id=ulid(5, "01C"), team_id=SUPPORT.id, waiting_since=clock.now)
    first = route(waiting, pool, policy, clock.now)
    assert first.outcome == RoutingOutcome.QUEUED and first.recheck_at == munich(2, 9, 15)
    clock.advance_to(first.recheck_at)
    second = route(waiting, pool, policy, clock.now)
    assert second.outcome == RoutingOutcome.OVERFLOWED and second.agent_id == ulid(2, "01A")
    assert second.team_id == BILLING.id


def test_an_agent_going_offline_keeps_cases_for_the_grace_period_then_they_are_rerouted() -> None:
    clock = Clock(munich(2, 14))
    gone = agent(1, team=SUPPORT.id, online=False)
    pool = AgentPool([AgentSnapshot(agent=gone, open_cases=3, availability_since=clock.now),
                      AgentSnapshot(agent=agent(2, team=SUPPORT.id), open_cases=4),
                      AgentSnapshot(agent=agent(3, team=SUPPORT.id), open_cases=1)])
    held = [RoutingCase(case_id=ulid(n, "01C"), team_id=SUPPORT.id, priority=priority, waiting_since=clock.now)
            for n, priority in ((1, Priority.LOW), (2, Priority.URGENT), (3, Priority.NORMAL))]
    policy = RoutingPolicy(offline_grace_minutes=10)

    clock.advance_to(munich(2, 14, 5))
    early = reroute_unavailable(gone.id, held, pool, policy, clock.now)
    assert not early.reroute and early.recheck_at == munich(2, 14, 10) and early.decisions == []

    clock.advance_to(early.recheck_at)
    moved = reroute_unavailable(gone.id, held, pool, policy, clock.now)
    assert moved.reroute
    # Urgent first; agent 3 has the fewest cases until it catches up with agent 2.
    assert [(d.case_id, d.agent_id) for d in moved.decisions] == [
        (ulid(2, "01C"), ulid(3, "01A")), (ulid(3, "01C"), ulid(3, "01A")), (ulid(1, "01C"), ulid(3, "01A"))]
    assert all(gone.id not in " ".join(d.reasons) or "rerouted from" in " ".join(d.reasons) for d in moved.decisions)

    back = gone.model_copy(update={"availability": Availability.ONLINE})
    returned = AgentPool([AgentSnapshot(agent=back, open_cases=3, availability_since=clock.now)])
    assert not reroute_unavailable(back.id, held, returned, policy, clock.now).reroute
