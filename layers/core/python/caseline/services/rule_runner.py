"""The stored rules at work: evaluate them when something happens to a case, and carry out what they decide.

An occasion is a domain event (case opened, reply or note added, status changed, SLA warning or breach) or the
scheduler's visit at an evaluation's `recheck_at` (timer kind `rules.recheck`). For each one:

1. the enabled rules run in order on the case as it is now (`automation/rules.py`, with the stop flag);
2. `case_changes` go through `update_case` / `assign_case` as the rules actor, each one transaction with its
   audit record and events; a stale case is read again and evaluated again;
3. notes, templated replies, notifications (an internal note @mentioning the recipients until email
   notifications exist), escalations and webhooks are carried out once per (event, rule): a marker item per
   pair, and one per action, so a redelivered event repeats nothing that already happened;
4. the explanation (every rule's outcome and the condition that decided it, the changes and what each action
   did) is written to the case's audit trail as `rules.evaluated`, once per event;
5. a timer is set at `recheck_at` (in the transaction that writes the explanation), or cancelled when every
   rule that listens to timers was evaluated and none needs another look.

Rules never react to the notes and replies they wrote themselves, so a rule cannot feed itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..adapters.rule_store import RuleRepository
from ..automation.rules import (
    AddNote as NoteAction,
)
from ..automation.rules import (
    CallWebhook,
    Escalate,
    Evaluation,
    FiredAction,
    Notify,
    Rule,
    RuleEvent,
    RuleOutcome,
    RuleTrigger,
    SendReply,
)
from ..automation.sla import SlaMetric
from ..domain.agents import Agent
from ..domain.audit import FieldChange
from ..domain.case import Case, CaseStatus
from ..domain.errors import AlreadyExists, DomainError, RuleViolation, VersionConflict
from ..domain.events import CaseOpened, CaseStatusChanged, EventEnvelope, NoteAdded, ReplyAdded
from ..mail.compose import Mailbox, compose_staff_notice
from ..ports.mail import MailSendError
from ..ports.scheduler import Timer
from ..ports.webhooks import WebhookUnavailable
from .cases import add_note, add_reply, assign_case, update_case
from .commands import AddNote, AddReply, AssignCase, UpdateCase
from .context import Change, Deps, Request
from .rules import RULES_ACTOR, active_rules, build_engine, rule_context

RECHECK = "rules.recheck"
EVALUATED_MARKER = "rules-evaluated"
MARKER_TTL_SECONDS = 7 * 86_400
ATTEMPTS = 3
SLA_WARNING_EVENT = "caseline.case.sla_warning"
SLA_BREACH_EVENT = "caseline.case.sla_breach"
_TRIGGERS = {
    CaseOpened.event_type: RuleTrigger.CASE_OPENED,
    ReplyAdded.event_type: RuleTrigger.INTERACTION_ADDED,
    NoteAdded.event_type: RuleTrigger.INTERACTION_ADDED,
    CaseStatusChanged.event_type: RuleTrigger.STATUS_CHANGED,
    SLA_WARNING_EVENT: RuleTrigger.SLA_WARNING,
    SLA_BREACH_EVENT: RuleTrigger.SLA_BREACH,
}
EVENT_TYPES = frozenset(_TRIGGERS)
_CASE_FIELDS = ("priority", "category", "tags")
_SIDE_EFFECTS = (NoteAction, SendReply, Notify, Escalate, CallWebhook)
_METRICS = frozenset(metric.value for metric in SlaMetric)
_ASSIGNMENT_FIELDS = ("team_id", "assignee_id")


@dataclass(frozen=True)
class Occasion:
    """Why the rules run: an event on a case, or a timer."""

    event_id: str
    event_type: str
    trigger: RuleTrigger
    at: dt.datetime
    case_id: str
    interaction_id: str | None = None
    previous_status: CaseStatus | None = None
    sla_metric: SlaMetric | None = None
    correlation_id: str = ""


def occasion_for(event: EventEnvelope) -> Occasion | None:
    trigger = _TRIGGERS.get(event.type)
    if trigger is None:
        return None
    data = event.data
    metric = data.get("target") if trigger in (RuleTrigger.SLA_WARNING, RuleTrigger.SLA_BREACH) else None
    previous = data.get("previous") if trigger is RuleTrigger.STATUS_CHANGED else None
    return Occasion(
        event_id=event.id, event_type=event.type, trigger=trigger, at=event.time,
        case_id=data.get("case_id") or event.subject, interaction_id=data.get("interaction_id"),
        previous_status=CaseStatus(previous) if previous else None,
        sla_metric=SlaMetric(metric) if metric in _METRICS else None,
        correlation_id=event.correlation_id,
    )


def recheck_occasion(deps: Deps, timer: Timer) -> Occasion:
    return Occasion(event_id=f"timer-{timer.due_at.strftime('%Y%m%dT%H%M%S%fZ')}", event_type=RECHECK,
                    trigger=RuleTrigger.TIMER, at=max(deps.clock.now(), timer.due_at), case_id=timer.subject)


def _request(occasion: Occasion) -> Request:
    return Request(principal=RULES_ACTOR, request_id=f"rules-{occasion.event_id}",
                   correlation_id=occasion.correlation_id or f"rules-{occasion.event_id}")


def run_rules(deps: Deps, occasion: Occasion) -> Evaluation | None:
    """Evaluate and act; None when no enabled rule listens or the evaluation was already recorded."""
    rules = active_rules(deps)
    if not any(rule.enabled and occasion.trigger in rule.triggers for rule in rules):
        return None  # most events: no marker to read
    if deps.store.was_consumed(EVALUATED_MARKER, occasion.event_id):
        return None
    request = _request(occasion)
    engine = build_engine(deps, rules)
    for attempt in range(ATTEMPTS):
        case = deps.store.get_case(occasion.case_id)
        if case is None or case.merged_into is not None:
            return None
        interaction = None
        if occasion.interaction_id:
            interaction = deps.store.get_interaction(case.id, occasion.interaction_id)
            if interaction is not None and interaction.author.id == RULES_ACTOR.actor_id:
                return None  # a note or reply the rules wrote
        previous = case.model_copy(update={"status": occasion.previous_status}) if occasion.previous_status else None
        event = RuleEvent(trigger=occasion.trigger, at=occasion.at, sla_metric=occasion.sla_metric)
        evaluation = engine.evaluate(rule_context(deps, case, event, interaction=interaction, previous=previous))
        try:
            case, applied = _apply_changes(deps, request, case, evaluation.case_changes)
        except VersionConflict:
            if attempt == ATTEMPTS - 1:
                raise
            continue
        break
    results = _carry_out(deps, request, case, evaluation, occasion)
    recheck = _recheck(deps, case, evaluation)
    _record(deps, request, case, occasion, evaluation, applied, results, recheck)
    if recheck is None:
        _cancel_recheck(deps, case, rules, evaluation)
    return evaluation


def _apply_changes(deps: Deps, request: Request, case: Case, changes: dict[str, Any]) -> tuple[Case, dict[str, Any]]:
    """The net case changes through the case services; what could not be applied is reported, not retried."""
    applied: dict[str, Any] = {"changed": sorted(changes)}
    updates = {name: changes[name] for name in _CASE_FIELDS if name in changes}
    if updates:
        case = update_case(deps, request, case.id, UpdateCase(**updates), expected_version=case.version)
    if any(name in changes for name in _ASSIGNMENT_FIELDS):
        command = AssignCase(assignee_id=changes.get("assignee_id", case.assignee_id),
                             team_id=changes.get("team_id", case.team_id))
        try:
            case = assign_case(deps, request, case.id, command, expected_version=case.version)
        except VersionConflict:
            raise
        except DomainError as exc:
            applied["refused"] = exc.detail
    return case, applied


def _marker(rule_id: str, index: int | None = None) -> str:
    return f"rule:{rule_id}" if index is None else f"rule:{rule_id}#{index}"


def _carry_out(deps: Deps, request: Request, case: Case, evaluation: Evaluation,
               occasion: Occasion) -> list[dict[str, Any]]:
    """Notes, replies, notifications, escalations and webhooks, at most once per (event, rule, action)."""
    results: list[dict[str, Any]] = []
    by_rule: dict[str, list[tuple[int, FiredAction]]] = {}
    positions: dict[str, int] = {}
    for fired in evaluation.actions:
        position = positions[fired.rule_id] = positions.get(fired.rule_id, -1) + 1
        if isinstance(fired.action, _SIDE_EFFECTS):  # case fields were applied above, in one update
            by_rule.setdefault(fired.rule_id, []).append((position, fired))
    store = deps.store
    for rule_id, fired_actions in by_rule.items():
        if store.was_consumed(_marker(rule_id), occasion.event_id):
            results.append({"rule_id": rule_id, "result": "already carried out"})
            continue
        for index, fired in fired_actions:
            if store.was_consumed(_marker(rule_id, index), occasion.event_id):
                continue
            outcome = _perform(deps, request, case, fired, occasion, index)
            results.append({"rule_id": rule_id, "type": fired.action.type, **outcome})
            store.mark_consumed(_marker(rule_id, index), occasion.event_id, ttl_seconds=MARKER_TTL_SECONDS)
        store.mark_consumed(_marker(rule_id), occasion.event_id, ttl_seconds=MARKER_TTL_SECONDS)
    return results


def _perform(deps: Deps, request: Request, case: Case, fired: FiredAction, occasion: Occasion,
             index: int) -> dict[str, Any]:
    action = fired.action
    if isinstance(action, NoteAction):
        return {"result": "note added", "interaction_id": _note(deps, request, case.id, fired.text or "")}
    if isinstance(action, SendReply):
        try:
            reply = add_reply(deps, request, case.id, AddReply(text=fired.text or ""))
        except RuleViolation as exc:
            return {"result": "not sent", "reason": exc.detail}
        return {"result": "reply sent", "interaction_id": reply.id}
    if isinstance(action, Notify | Escalate):
        return _notify(deps, request, case, fired)
    assert isinstance(action, CallWebhook)
    payload = {"delivery_id": f"{occasion.event_id}:{fired.rule_id}:{index}", "rule_id": fired.rule_id,
               "trigger": occasion.trigger.value, "event": {"id": occasion.event_id, "type": occasion.event_type,
                                                            "at": occasion.at.isoformat()},
               "case": case.model_dump(mode="json")}
    if deps.webhooks is None:
        return {"result": "not sent", "reason": "no webhook sender is configured"}
    try:
        answer = deps.webhooks.send(action.url, payload, delivery_id=payload["delivery_id"],
                                    event_type=f"caseline.rules.{occasion.trigger.value}")
    except WebhookUnavailable:
        raise  # retried with the event; the markers keep what already happened from happening again
    return {"result": "delivered" if answer.delivered else "refused", "status": answer.status, "url": action.url}


def _note(deps: Deps, request: Request, case_id: str, text: str) -> str:
    try:
        return add_note(deps, request, case_id, AddNote(text=text)).id
    except RuleViolation:
        # Rendered text may carry an @word that is nobody's handle (from a subject, say); keep it as text.
        return add_note(deps, request, case_id, AddNote(text=text.replace("@", "\uff20"))).id


def _notify(deps: Deps, request: Request, case: Case, fired: FiredAction) -> dict[str, Any]:
    """Recipients are @mentioned in an internal note (the workspace shows it) and sent an email."""
    agents = [agent for agent in (deps.store.get_agent(a) for a in fired.agent_ids) if agent is not None]
    decision: dict[str, Any] = {"recipients": list(fired.agent_ids), "channel": "note+email"}
    if fired.note:
        decision["note"] = fired.note
    if not agents:
        return {**decision, "result": "nobody to notify"}
    handles = " ".join("@" + agent.handle for agent in agents)
    if isinstance(fired.action, Escalate):
        text = f"Escalated to {handles}: {fired.text or 'by rule ' + fired.rule_id}"
    else:
        text = f"{handles} {fired.text or ''}".strip()
    note_id = _note(deps, request, case.id, text)
    return {**decision, "result": "notified", "interaction_id": note_id,
            "emailed": _email_staff(deps, case, agents, text, note_id)}


def _email_staff(deps: Deps, case: Case, agents: list[Agent], text: str, note_id: str) -> dict[str, str]:
    """Per recipient: "sent", or why not. A failed email never undoes the note, which already notified."""
    if deps.mail is None or not deps.settings.support_addresses:
        return {agent.id: "no mail sender configured" for agent in agents}
    sender = deps.mail()
    results: dict[str, str] = {}
    for agent in agents:
        notice = compose_staff_notice(
            support_address=deps.settings.support_addresses[0], team_name=deps.settings.support_team_name,
            to=Mailbox(agent.email, agent.name), case_id=case.id, case_number=case.number,
            case_subject=case.subject, text=text, notice_id=f"{note_id}{agent.id}", sent_at=deps.clock.now())
        try:
            sender.send(notice)
            results[agent.id] = "sent"
        except MailSendError as exc:
            results[agent.id] = f"failed: {exc}"
    return results


def explanation(occasion: Occasion, evaluation: Evaluation, applied: dict[str, Any],
                results: list[dict[str, Any]]) -> dict[str, Any]:
    """The audit record's content: why each rule did or did not match, and what came of it."""
    traces = [{"rule_id": t.rule_id, "outcome": t.outcome.value, "decided_by": t.decided_by, "detail": t.detail}
              for t in evaluation.traces]
    return {
        "event": {"id": occasion.event_id, "type": occasion.event_type, "trigger": occasion.trigger.value,
                  "at": occasion.at.isoformat()},
        "matched": [t.rule_id for t in evaluation.traces if t.outcome is RuleOutcome.MATCHED],
        "rules": traces,
        "case_changes": {k: (v.value if hasattr(v, "value") else v) for k, v in evaluation.case_changes.items()},
        "applied": applied,
        "actions": results,
        "stopped_by": evaluation.stopped_by,
        "recheck_at": evaluation.recheck_at.isoformat() if evaluation.recheck_at else None,
    }


def _record(deps: Deps, request: Request, case: Case, occasion: Occasion, evaluation: Evaluation,
            applied: dict[str, Any], results: list[dict[str, Any]], recheck: Timer | None) -> None:
    """The explanation, the evaluation's marker and the next recheck (if any), in one transaction."""
    change = Change(deps, request)
    if recheck is not None:
        change.set_timer(recheck)
    content = explanation(occasion, evaluation, applied, results)
    change.audit("case", case.id, "rules.evaluated", {"rules": FieldChange(before=None, after=content)})
    RuleRepository(deps.store).mark_in(change.uow, EVALUATED_MARKER, occasion.event_id,
                                       ttl_seconds=MARKER_TTL_SECONDS,
                                       error=lambda: AlreadyExists("this evaluation is already recorded"))
    try:
        change.commit()
    except AlreadyExists:
        return  # a concurrent delivery recorded it first


def _recheck(deps: Deps, case: Case, evaluation: Evaluation) -> Timer | None:
    if deps.scheduler is None or evaluation.recheck_at is None or not case.is_active:
        return None
    return Timer(kind=RECHECK, subject=case.id, due_at=evaluation.recheck_at)


def _cancel_recheck(deps: Deps, case: Case, rules: list[Rule], evaluation: Evaluation) -> None:
    if deps.scheduler is None:
        return
    listening = {rule.id for rule in rules if rule.enabled and RuleTrigger.TIMER in rule.triggers}
    evaluated = {t.rule_id for t in evaluation.traces if t.outcome in (RuleOutcome.MATCHED, RuleOutcome.NOT_MATCHED)}
    if (listening and listening <= evaluated) or not case.is_active:
        deps.scheduler.cancel(RECHECK, case.id)
