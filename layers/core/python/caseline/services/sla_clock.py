"""SLA clocks wired to cases: recompute on every case change and at every timer, store, announce, escalate.

`refresh_sla(deps, case_id)` is the one operation. It reads the case, its interactions and its audit trail
(for the status history), computes the clocks with `automation.sla.compute_sla` under the case team's policy
and calendar, and compares them with the summary stored on the case (`Case.sla`):

- a clock that moved to `warning` or `breached` emits `caseline.case.sla_warning` / `sla_breach` — once,
  because the new state is stored in the same transaction (If-Match on the version read; on a conflict the
  whole check starts again from a fresh read, so it is idempotent against the current case version);
- the policy's escalations for that transition run through the case services as the system principal
  (a note @mentioning the team's manager, a higher priority, reassignment to the manager), each recorded in
  `Case.sla.escalated` so it is carried out once per target, state and response cycle;
- `Case.due_at` becomes the soonest due target, so the queues sort by it;
- the `("sla", case id)` timer is set at the report's `next_change_at` (in the same transaction as the clocks
  when they changed), or cancelled when nothing will change on its own. No scan of open cases anywhere: each
  case carries its own timer.

Escalation steps run after the summary is stored: a crash between the two leaves a step undone rather than
done twice. The first computation on a case only records its states: a case that arrives with history already
breached (demo data, an import) is not announced or escalated for the past.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Literal

from ..automation.sla import CaseSlaHistory, SlaClock, SlaEvent, SlaMetric, SlaReport, compute_sla
from ..domain.auth import SYSTEM
from ..domain.case import Case, CaseStatus
from ..domain.customer import CustomerTier
from ..domain.errors import VersionConflict
from ..domain.events import CaseSlaBreach, CaseSlaWarning, CaseUpdated
from ..domain.interaction import Interaction
from ..domain.sla import CaseSla, SlaClockStatus, SlaClockSummary, SlaTargetName
from ..ports.scheduler import Scheduler, Timer
from ..timers import register
from . import cases as case_service
from .commands import AddNote, AssignCase, UpdateCase
from .context import Change, Deps, Request
from .sla_config import SlaEscalation, SlaPolicyConfig, effective_for

log = logging.getLogger(__name__)

SLA_TIMER = "sla"
PAGE = 200
ATTEMPTS = 5
SYSTEM_REQUEST = Request(principal=SYSTEM, request_id="sla-clock")


@dataclass(frozen=True)
class SlaOutcome:
    case_id: str
    status: Literal["closed", "wait", "idle"]  # idle: open, but no clock will change until something happens
    version: int = 0
    next_check_at: dt.datetime | None = None
    announced: list[str] = field(default_factory=list)  # event types emitted by this check
    escalated: list[str] = field(default_factory=list)


def history_for(deps: Deps, case: Case) -> CaseSlaHistory:
    """The case's SLA-relevant history: public messages from its interactions, status changes from its audit."""
    events: list[SlaEvent] = []
    cursor: str | None = None
    while True:
        page = deps.store.interactions_of([case.id, *case.merged_from], limit=PAGE, cursor=cursor)
        events.extend(e for e in (SlaEvent.from_interaction(i) for i in page.items) if e is not None)
        if page.cursor is None:
            break
        cursor = page.cursor
    status_at_open = CaseStatus.NEW
    cursor = None
    first = True
    while True:
        trail = deps.store.audit_trail("case", case.id, limit=PAGE, cursor=cursor)
        for record in trail.items:
            status = record.changes.get("status")
            if status is None or status.after is None:
                first = False
                continue
            if first:
                status_at_open = CaseStatus(status.after)
            elif status.after != status.before:
                events.append(SlaEvent.status_changed(max(record.time, case.created_at), CaseStatus(status.after)))
            first = False
        if trail.cursor is None:
            break
        cursor = trail.cursor
    customer = deps.store.get_customer(case.requester_id)
    return _history(case, status_at_open, events, customer.tier if customer is not None else None)


def _history(case: Case, status_at_open: CaseStatus, events: list[SlaEvent],
             tier: CustomerTier | None) -> CaseSlaHistory:
    extra = {"tier": tier} if tier is not None else {}
    return CaseSlaHistory(opened_at=case.created_at, status_at_open=status_at_open, priority=case.priority,
                          channel=case.channel, events=[e for e in events if e.at >= case.created_at], **extra)


def start_clocks(deps: Deps, case: Case, interactions: list[Interaction], tier: CustomerTier,
                 now: dt.datetime) -> Case:
    """A new case with its clocks, before it is first written: queues sort it by its due time from the
    start, and the sla-clock consumer only sets its timer (`arm_started_clocks`) instead of recomputing and
    writing the case again. The same computation as the consumer's first look: states recorded silently."""
    policy, calendar = effective_for(deps, case)
    events = [e for e in (SlaEvent.from_interaction(i) for i in interactions) if e is not None]
    report = compute_sla(_history(case, case.status, events, tier), policy, calendar, now)
    plan = _plan(case, report, policy)
    return case.model_copy(update={"sla": plan.sla, "due_at": plan.due_at})


def arm_started_clocks(deps: Deps, case_id: str) -> bool:
    """Set the timer of a case's stored clocks without recomputing them; False when the case has none yet (a
    case opened without `start_clocks`, e.g. imported): it needs `refresh_sla`."""
    case = deps.store.get_case(case_id)
    if case is None or case.sla is None or case.merged_into is not None:
        return False
    next_check_at = case.sla.next_check_at
    if next_check_at is None:
        return False  # whether nothing will change, or the case is closed: the full check decides
    timer = _timer_unless_set(deps, case.id, case.version, next_check_at, always=False)
    if timer is not None:
        _scheduler(deps).set(timer)
    return True


def _summary(clock: SlaClock) -> SlaClockSummary:
    return SlaClockSummary(target=SlaTargetName(clock.metric.value), state=SlaClockStatus(clock.state.value),
                           due_at=clock.due_at, warning_at=clock.warning_at, breached_at=clock.breached_at,
                           stopped_at=clock.stopped_at, cycle=clock.cycle)


def _previous(case: Case, target: SlaTargetName, cycle: int) -> SlaClockSummary | None:
    if case.sla is None:
        return None
    return next((c for c in case.sla.clocks if c.target == target and c.cycle == cycle), None)


@dataclass
class _Plan:
    sla: CaseSla
    due_at: dt.datetime | None
    announcements: list[CaseSlaWarning | CaseSlaBreach]
    steps: list[tuple[SlaEscalation, SlaClockSummary]]


def _plan(case: Case, report: SlaReport, policy: SlaPolicyConfig) -> _Plan:
    clocks = [_summary(c) for c in report.clocks]
    announcements: list[CaseSlaWarning | CaseSlaBreach] = []
    steps: list[tuple[SlaEscalation, SlaClockSummary]] = []
    escalated = list(case.sla.escalated) if case.sla else []
    for clock in clocks:
        previous = _previous(case, clock.target, clock.cycle)
        before = previous.state if previous else None
        if clock.state == before or case.sla is None:
            continue  # the first look at a case (seeded or imported history) records its states silently
        if clock.state is SlaClockStatus.WARNING and before in (None, SlaClockStatus.RUNNING, SlaClockStatus.PAUSED):
            announcements.append(CaseSlaWarning(case_id=case.id, target=clock.target.value, policy_id=policy.id,
                                                at=clock.warning_at or report.computed_at, due_at=clock.due_at,
                                                cycle=clock.cycle))
        elif clock.state is SlaClockStatus.BREACHED:
            announcements.append(CaseSlaBreach(case_id=case.id, target=clock.target.value, policy_id=policy.id,
                                               at=clock.breached_at or report.computed_at, cycle=clock.cycle))
        else:
            continue
        when = "warning" if clock.state is SlaClockStatus.WARNING else "breached"
        key = f"{clock.target.value}:{when}:{clock.cycle}"
        if key in escalated:
            continue
        matching = [e for e in policy.escalations if e.when == when and e.applies_to(SlaMetric(clock.target.value))]
        if matching:
            escalated.append(key)
            steps.extend((e, clock) for e in matching)
    sla = CaseSla(policy_id=policy.id, clocks=clocks, next_check_at=report.next_change_at, escalated=escalated[-20:])
    return _Plan(sla=sla, due_at=report.due_at, announcements=announcements, steps=steps)


def _record(deps: Deps, case: Case, plan: _Plan, timer: Timer | None) -> Case:
    """Store the clocks, the due time, the announcements and the next timer (if it moved) in one transaction,
    against the version read."""
    change = Change(deps, SYSTEM_REQUEST)
    updated = case.model_copy(update={"sla": plan.sla, "due_at": plan.due_at, "version": case.version + 1,
                                      "updated_at": change.now})
    case_service._write_case(change, case, updated, "case.sla_updated")
    if timer is not None:
        change.set_timer(timer)
    # Announced like any other change of the case, so open case views and queues take the new version
    # (and an agent's next edit is not refused as stale without warning). The sla-clock consumer ignores it.
    changed = [name for name, before, after in (("due_at", case.due_at, updated.due_at),
                                                ("sla", case.sla, updated.sla)) if before != after]
    change.emit(CaseUpdated(case_id=case.id, changed=changed), subject=case.id)
    for announcement in plan.announcements:
        change.emit(announcement, subject=case.id)
        change.count_metric("SlaBreaches" if isinstance(announcement, CaseSlaBreach) else "SlaWarnings")
    change.commit()
    return updated


def refresh_sla(deps: Deps, case_id: str, *, arm: bool = True, from_timer: bool = False) -> SlaOutcome:
    """Recompute a case's clocks and act on what changed. `arm=False` leaves the timer alone (the AWS state
    machine waits for the returned `next_check_at` itself)."""
    for _ in range(ATTEMPTS):
        case = deps.store.get_case(case_id)
        if case is None or case.merged_into is not None:
            if arm:
                _scheduler(deps).cancel(SLA_TIMER, case_id)
            return SlaOutcome(case_id=case_id, status="closed")
        policy, calendar = effective_for(deps, case)
        report = compute_sla(history_for(deps, case), policy, calendar, deps.clock.now())
        plan = _plan(case, report, policy)
        changed = plan.sla != case.sla or plan.due_at != case.due_at
        # Usually the new timer is stored with the clocks. Not when escalation steps follow (they change the
        # case again, and the timer names the version they leave), nor when nothing will change on its own.
        together = arm and changed and not plan.steps and report.next_change_at is not None
        try:
            if changed:
                timer = None
                if together:
                    assert report.next_change_at is not None
                    timer = _timer_unless_set(deps, case.id, case.version + 1, report.next_change_at,
                                              always=from_timer)
                case = _record(deps, case, plan, timer)
        except VersionConflict:
            continue  # someone changed the case meanwhile: decide again on what it is now
        done = _escalate(deps, case, plan.steps)
        outcome = _outcome(case, report, plan, done)
        if arm and not together:
            _arm(deps, case, outcome, always=from_timer)
        return outcome
    raise VersionConflict(f"the case {case_id} kept changing while its SLA clocks were checked")


def _outcome(case: Case, report: SlaReport, plan: _Plan, escalated: list[str]) -> SlaOutcome:
    running = any(c.stopped_at is None for c in report.clocks)
    status: Literal["closed", "wait", "idle"] = "wait"
    if report.next_change_at is None:
        status = "idle" if running and case.status.is_open else "closed"
    return SlaOutcome(case_id=case.id, status=status, version=case.version, next_check_at=report.next_change_at,
                      announced=[a.event_type for a in plan.announcements], escalated=escalated)


def _scheduler(deps: Deps) -> Scheduler:
    if deps.scheduler is None:
        raise RuntimeError("the platform was built without a scheduler")
    return deps.scheduler


def _arm(deps: Deps, case: Case, outcome: SlaOutcome, *, always: bool) -> None:
    scheduler = _scheduler(deps)
    if outcome.next_check_at is None:
        scheduler.cancel(SLA_TIMER, case.id)
        return
    timer = _timer_unless_set(deps, case.id, case.version, outcome.next_check_at, always=always)
    if timer is not None:
        scheduler.set(timer)


def _timer_unless_set(deps: Deps, case_id: str, version: int, due_at: dt.datetime, *, always: bool) -> Timer | None:
    """The case's next SLA timer, or None when the current one is already due then and was started. A timer
    that has just fired (`always`) is replaced even so: the runner forgets a fired timer unless it was set
    again. One whose start failed after its record was written (AWS) is set again: nothing would fire it."""
    current = None if always else _scheduler(deps).get(SLA_TIMER, case_id)
    if current is not None and current.started and current.due_at == due_at:
        return None
    return Timer(kind=SLA_TIMER, subject=case_id, due_at=due_at, payload={"version": version})


# --- escalation ------------------------------------------------------------------------------------------
def _escalate(deps: Deps, case: Case, steps: list[tuple[SlaEscalation, SlaClockSummary]]) -> list[str]:
    done: list[str] = []
    for escalation, clock in steps:
        team = deps.store.get_team(case.team_id) if case.team_id else None
        manager_id = team.manager_id if team else None
        state = "warning" if clock.state is SlaClockStatus.WARNING else "breached"
        what = f"SLA {clock.target.value.replace('_', ' ')} {state}"
        if escalation.raise_priority_to and escalation.raise_priority_to.rank < case.priority.rank:
            case = case_service.update_case(deps, SYSTEM_REQUEST, case.id,
                                            UpdateCase(priority=escalation.raise_priority_to),
                                            expected_version=case.version)
            done.append(f"priority:{escalation.raise_priority_to.value}")
        if escalation.reassign_to_manager and manager_id and case.assignee_id != manager_id:
            case = case_service.assign_case(deps, SYSTEM_REQUEST, case.id, AssignCase(assignee_id=manager_id),
                                            expected_version=case.version)
            done.append(f"assigned:{manager_id}")
        if escalation.notify_supervisor:
            manager = deps.store.get_agent(manager_id) if manager_id else None
            due = f" (due {clock.due_at:%Y-%m-%d %H:%M} UTC)" if clock.due_at else ""
            mention = f"@{manager.handle} " if manager else ""
            case_service.add_note(deps, SYSTEM_REQUEST, case.id,
                                  AddNote(text=f"{mention}{what} on {case.display_number}{due}."))
            fresh = deps.store.get_case(case.id)
            case = fresh or case
            done.append(f"notified:{manager_id or 'nobody'}")
    return done


# --- the timer kind --------------------------------------------------------------------------------------
@register(SLA_TIMER)
def on_timer(deps: Deps, timer: Timer) -> None:
    refresh_sla(deps, timer.subject, from_timer=True)


def check_execution(deps: Deps, case_id: str, token: str) -> dict[str, str]:
    """One Check of the AWS SLA clock execution: `superseded` when a newer timer replaced this execution's,
    `closed` when no clock will change any more, else `wait` with the next `due_at` (a Wait state's timestamp)."""
    scheduler = _scheduler(deps)
    current = scheduler.get(SLA_TIMER, case_id)
    if current is None or current.token != token:
        return {"status": "superseded"}
    outcome = refresh_sla(deps, case_id, arm=False)
    if outcome.next_check_at is None:
        # The execution ends here by itself; cancelling the timer would stop the very execution running this.
        return {"status": "closed"}
    return {"status": "wait", "due_at": outcome.next_check_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
