"""Rule sets as a product: stored with versions, edited by admins, read by supervisors, tried out on a case.

The rules themselves are the pure models of `automation/rules.py`; this module stores them (one item per
rule plus the order, `adapters/rule_store.py`), checks who may change them, audits every change, and builds
what the engine needs to evaluate a case: the teams with their managers and members, the case's facts
(from its conversation) and the customer's (spend this year, from payments on the timeline).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, WithJsonSchema

from ..adapters.rule_store import RuleRepository
from ..adapters.sla_config_store import SlaConfigRepository
from ..automation.calendar import BusinessCalendar, Weekday, WorkingInterval
from ..automation.rules import (
    CaseFacts,
    CustomerFacts,
    Rule,
    RuleContext,
    RuleEngine,
    RuleEvent,
    RuleOutcome,
    RuleTrigger,
    TeamInfo,
    default_rules,
)
from ..automation.sla import CaseSlaHistory, SlaEvent
from ..domain.agents import Team
from ..domain.audit import diff
from ..domain.auth import Principal, Role
from ..domain.case import Case
from ..domain.common import Money
from ..domain.errors import AlreadyExists, NotFound, PreconditionRequired, RuleViolation, VersionConflict
from ..domain.ids import CaseId
from ..domain.interaction import Direction, Interaction
from ..domain.timeline import TimelineKind
from .authz import check_case_access, require_role
from .context import Change, Deps, Request
from .sla_config import TeamCalendar

RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,63}$"
RESERVED_IDS = frozenset({"order"})  # PUT /rules/order reorders
RULES_ACTOR = Principal(subject="rules", role=Role.ADMIN, name="Rules")
"""Who changes a case when a rule does: audit records and notes name it."""
CONVERSATION_READ = 200  # interactions read to build a case's facts
SPEND_PAGES = 5  # pages of 200 payments read for spend this year
OFFICE_HOURS = [WorkingInterval(start="09:00", end="17:00")]
_WORKDAYS = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)


# Responses carry rules and actions as JSON documented by the rule models' own components
# (api/rule_schema.py): `AddNote` and other short names are taken by other API models.
RuleJson = Annotated[dict[str, Any], WithJsonSchema({"allOf": [{"$ref": "#/components/schemas/Rule"}]})]
ActionJson = Annotated[dict[str, Any], WithJsonSchema({"allOf": [{"$ref": "#/components/schemas/RuleAction"}]})]


class StoredRule(BaseModel):
    """A rule as the table holds it, with its version (the API's ETag)."""

    model_config = ConfigDict(defer_build=True)

    rule: Rule
    version: int = Field(ge=1)
    updated_at: dt.datetime
    updated_by: str


class RuleRecord(BaseModel):
    """A rule, its version (the ETag) and where it runs in the order."""

    model_config = ConfigDict(defer_build=True)

    id: str
    rule: RuleJson
    version: int = Field(ge=1)
    position: int = Field(ge=0, description="place in the evaluation order, from 0")
    enabled: bool
    updated_at: dt.datetime
    updated_by: str

    @classmethod
    def of(cls, stored: StoredRule, position: int) -> RuleRecord:
        rule = stored.rule
        return cls(id=rule.id, rule=rule.model_dump(mode="json"), version=stored.version, position=position,
                   enabled=rule.enabled, updated_at=stored.updated_at, updated_by=stored.updated_by)


class RuleList(BaseModel):
    model_config = ConfigDict(defer_build=True)

    items: list[RuleRecord]
    version: int = Field(ge=0, description="the order's version: send it as If-Match to PUT /rules/order")


class RuleOrder(BaseModel):
    model_config = ConfigDict(defer_build=True)

    ids: list[str] = Field(max_length=1000)


class Reorder(BaseModel):
    model_config = {"defer_build": True, "extra": "forbid"}

    ids: list[str] = Field(min_length=0, max_length=1000, description="every rule id, in the new order")


class DryRunRequest(BaseModel):
    model_config = {"defer_build": True, "extra": "forbid"}

    case_id: CaseId
    trigger: RuleTrigger | None = Field(default=None, description="the event to pretend; the rule's first one")


class PlannedAction(BaseModel):
    model_config = ConfigDict(defer_build=True)

    rule_id: str
    action: ActionJson
    team_id: str | None = None
    agent_ids: list[str] = Field(default_factory=list)
    text: str | None = None
    note: str = ""


class RuleExplanation(BaseModel):
    model_config = ConfigDict(defer_build=True)

    rule_id: str
    outcome: RuleOutcome
    decided_by: str | None = None
    detail: str = ""
    recheck_at: dt.datetime | None = None


class DryRun(BaseModel):
    """What a rule would do to a case now, and why — nothing is changed."""

    model_config = ConfigDict(defer_build=True)

    rule_id: str
    case_id: str
    case_number: int
    trigger: RuleTrigger
    at: dt.datetime
    matched: bool
    explanation: RuleExplanation
    actions: list[PlannedAction]
    case_changes: dict[str, Any]
    recheck_at: dt.datetime | None = None
    enabled: bool = Field(description="false: the rule is disabled and would not run until enabled")


def _repo(deps: Deps) -> RuleRepository:
    return RuleRepository(deps.store)


def _stale(what: str, current: int | None) -> VersionConflict:
    return VersionConflict(f"{what} was changed by someone else; reload and decide again", current_version=current)


# --- reads ----------------------------------------------------------------------------------------------
def _ordered(deps: Deps) -> tuple[list[StoredRule], int, bool]:
    """The rules in evaluation order, the order's version, and whether a rule set was ever stored."""
    stored = _repo(deps).load(StoredRule, RuleOrder)
    ids = [i for i in (stored.order.ids if stored.order else []) if i in stored.rules]
    ids += sorted(set(stored.rules) - set(ids))  # a rule missing from the order still runs, last
    return [stored.rules[i] for i in ids], stored.order_version, stored.order is not None


def _listing(rules: list[StoredRule], version: int) -> RuleList:
    return RuleList(items=[RuleRecord.of(r, n) for n, r in enumerate(rules)], version=version)


def list_rules(deps: Deps, request: Request) -> RuleList:
    require_role(request.principal, Role.SUPERVISOR, "reading rules")
    return _listing(*_ordered(deps)[:2])


def _find(deps: Deps, rule_id: str) -> tuple[StoredRule, int]:
    rules, _, _ = _ordered(deps)
    for position, stored in enumerate(rules):
        if stored.rule.id == rule_id:
            return stored, position
    raise NotFound(f"rule {rule_id} does not exist")


def get_rule(deps: Deps, request: Request, rule_id: str) -> RuleRecord:
    require_role(request.principal, Role.SUPERVISOR, "reading rules")
    return RuleRecord.of(*_find(deps, rule_id))


def active_rules(deps: Deps) -> list[Rule]:
    """The stored rules in order, for the engine (disabled ones included: their traces say so)."""
    return [stored.rule for stored in _ordered(deps)[0]]


# --- writes ---------------------------------------------------------------------------------------------
def _audit_rule(change: Change, before: Rule | None, after: Rule, action: str) -> None:
    before_json = {} if before is None else before.model_dump(mode="json")
    change.audit("rule", after.id, action, diff(before_json, after.model_dump(mode="json")),
                 new_target=before is None)


def create_rule(deps: Deps, request: Request, rule: Rule) -> RuleRecord:
    require_role(request.principal, Role.ADMIN, "creating rules")
    if rule.id in RESERVED_IDS:
        raise RuleViolation(f"{rule.id!r} names a route under /rules; choose another id", field="id")
    rules, order_version, stored = _ordered(deps)
    if any(r.rule.id == rule.id for r in rules):
        raise AlreadyExists(f"rule {rule.id} already exists; PUT /rules/{rule.id} changes it")
    change = Change(deps, request)
    record = StoredRule(rule=rule, version=1, updated_at=change.now, updated_by=request.principal.actor_id)
    repo = _repo(deps)
    repo.put_rule(change.uow, rule.id, record, version=1, expected_version=None,
                  error=lambda: AlreadyExists(f"rule {rule.id} already exists"))
    repo.put_order(change.uow, RuleOrder(ids=[r.rule.id for r in rules] + [rule.id]),
                   version=order_version + 1, expected_version=order_version if stored else None,
                   error=lambda: _stale("the rule order", None))
    _audit_rule(change, None, rule, "rule.created")
    change.commit()
    return RuleRecord.of(record, len(rules))


def _write(deps: Deps, request: Request, current: StoredRule, position: int, rule: Rule,
           action: str) -> RuleRecord:
    change = Change(deps, request)
    record = StoredRule(rule=rule, version=current.version + 1, updated_at=change.now,
                        updated_by=request.principal.actor_id)
    _repo(deps).put_rule(change.uow, rule.id, record, version=record.version, expected_version=current.version,
                         error=lambda: _stale(f"rule {rule.id}", None))
    _audit_rule(change, current.rule, rule, action)
    change.commit()
    return RuleRecord.of(record, position)


def _check_version(stored: StoredRule, expected: int | None) -> None:
    if expected is not None and expected != stored.version:
        raise _stale(f"rule {stored.rule.id}", stored.version)


def update_rule(deps: Deps, request: Request, rule_id: str, rule: Rule, *, expected_version: int | None) -> RuleRecord:
    require_role(request.principal, Role.ADMIN, "changing rules")
    if expected_version is None:
        raise PreconditionRequired("send If-Match with the rule's ETag so that no one's change is lost")
    if rule.id != rule_id:
        raise RuleViolation(f"the body's id {rule.id!r} is not the rule in the path ({rule_id!r})", field="id")
    current, position = _find(deps, rule_id)
    _check_version(current, expected_version)
    if current.rule == rule:
        return RuleRecord.of(current, position)
    return _write(deps, request, current, position, rule, "rule.updated")


def set_rule_enabled(deps: Deps, request: Request, rule_id: str, enabled: bool, *,
                     expected_version: int | None = None) -> RuleRecord:
    require_role(request.principal, Role.ADMIN, "enabling and disabling rules")
    current, position = _find(deps, rule_id)
    _check_version(current, expected_version)
    if current.rule.enabled is enabled:
        return RuleRecord.of(current, position)
    rule = current.rule.model_copy(update={"enabled": enabled})
    return _write(deps, request, current, position, rule, "rule.enabled" if enabled else "rule.disabled")


def reorder_rules(deps: Deps, request: Request, command: Reorder, *, expected_version: int | None) -> RuleList:
    require_role(request.principal, Role.ADMIN, "reordering rules")
    if expected_version is None:
        raise PreconditionRequired("send If-Match with the ETag of GET /rules so that no one's change is lost")
    rules, version, stored = _ordered(deps)
    if expected_version != version:
        raise _stale("the rule order", version)
    current = [r.rule.id for r in rules]
    if len(set(command.ids)) != len(command.ids) or sorted(command.ids) != sorted(current):
        missing = sorted(set(current) - set(command.ids))
        extra = sorted(set(command.ids) - set(current))
        raise RuleViolation("ids must name every rule exactly once"
                            + (f"; missing: {', '.join(missing)}" if missing else "")
                            + (f"; unknown: {', '.join(extra)}" if extra else ""), field="ids")
    if command.ids == current and stored:
        return _listing(rules, version)
    change = Change(deps, request)
    _repo(deps).put_order(change.uow, RuleOrder(ids=command.ids), version=version + 1,
                          expected_version=version if stored else None, error=lambda: _stale("the rule order", None))
    change.audit("ruleset", "default", "rules.reordered", diff({"order": current}, {"order": command.ids}),
                 new_target=not stored)
    change.commit()
    by_id = {r.rule.id: r for r in rules}
    return _listing([by_id[i] for i in command.ids], version + 1)


def install_defaults(deps: Deps, request: Request | None = None) -> int:
    """Store the shipped rules (`automation/defaults.json`) if no rule set was ever stored; how many were added.

    A set an admin emptied stays empty: only a table that never had an order item gets the defaults.
    """
    request = request or Request(principal=RULES_ACTOR, request_id="install-defaults")
    _, version, stored = _ordered(deps)
    if stored:
        return 0
    change = Change(deps, request)
    rules = default_rules().rules
    repo = _repo(deps)
    for rule in rules:
        record = StoredRule(rule=rule, version=1, updated_at=change.now, updated_by=request.principal.actor_id)
        repo.put_rule(change.uow, rule.id, record, version=1, expected_version=None,
                      error=lambda: AlreadyExists("the default rules are already installed"))
    repo.put_order(change.uow, RuleOrder(ids=[r.id for r in rules]), version=version + 1, expected_version=None,
                   error=lambda: AlreadyExists("the default rules are already installed"))
    change.audit("ruleset", "default", "rules.defaults_installed", diff({}, {"order": [r.id for r in rules]}),
                 new_target=True)
    try:
        change.commit()
    except AlreadyExists:
        return 0  # another process installed them first
    return len(rules)


# --- what the engine sees -------------------------------------------------------------------------------
def team_calendar(team: Team, stored: BusinessCalendar | None = None) -> BusinessCalendar:
    """A team's working time: the calendar stored for it (PUT /teams/{id}/calendar, which the SLA clocks use
    too), else 09:00-17:00 on weekdays in the team's zone."""
    if stored is not None:
        return stored
    return BusinessCalendar(name=f"{team.name} office hours", time_zone=team.time_zone,
                            weekly_hours=dict.fromkeys(_WORKDAYS, OFFICE_HOURS))


def _stored_calendars(deps: Deps, teams: list[Team]) -> dict[str, tuple[BusinessCalendar, int]]:
    """Each team's stored calendar and its version: one GetItem per team (a desk has a handful)."""
    repository = SlaConfigRepository(deps.store)
    found: dict[str, tuple[BusinessCalendar, int]] = {}
    for team in teams:
        record = repository.get_calendar(team.id, TeamCalendar)
        if record is not None:
            found[team.id] = (record[0].calendar, record[1])
    return found


_engines: dict[tuple[Any, ...], RuleEngine] = {}
ENGINES_KEPT = 8


def build_engine(deps: Deps, rules: list[Rule]) -> RuleEngine:
    """An engine for these rules and the current teams. Building one compiles every condition, so an engine is
    kept while the same rule objects (unchanged items parse to the same objects) meet the same teams."""
    teams = deps.store.list_teams(limit=200, cursor=None).items
    agents = deps.store.list_agents(limit=200, cursor=None).items
    members: dict[str, list[str]] = defaultdict(list)
    for agent in agents:
        for team_id in agent.team_ids:
            members[team_id].append(agent.id)
    calendars = _stored_calendars(deps, teams)
    key = (tuple(id(rule) for rule in rules), tuple(t.model_dump_json() for t in teams),
           tuple(sorted((k, tuple(v)) for k, v in members.items())),
           tuple(sorted((team_id, version) for team_id, (_, version) in calendars.items())))
    engine = _engines.get(key)
    if engine is None:
        infos = [TeamInfo(id=t.id, name=t.name, manager_id=t.manager_id, member_ids=members[t.id],
                          calendar=team_calendar(t, calendars.get(t.id, (None, 0))[0])) for t in teams]
        default = BusinessCalendar(name="office hours", weekly_hours=dict.fromkeys(_WORKDAYS, OFFICE_HOURS))
        engine = RuleEngine(rules, calendar=default, teams=infos)
        if len(_engines) >= ENGINES_KEPT:
            _engines.clear()
        _engines[key] = engine
    return engine


def _amount(payload: dict[str, Any]) -> Money | None:
    """A payment's amount: `{"amount": "120.00 USD"}` or `{"amount": 120, "currency": "USD"}`."""
    raw, currency = payload.get("amount"), payload.get("currency")
    if isinstance(raw, str) and " " in raw.strip() and currency is None:
        raw, currency = raw.strip().rsplit(" ", 1)
    try:
        return Money(amount=Decimal(str(raw)).quantize(Decimal("0.01")), currency=str(currency).upper())
    except (InvalidOperation, ValueError):
        return None


def customer_facts(deps: Deps, customer_id: str, now: dt.datetime) -> CustomerFacts:
    """Spend this year: succeeded payments on the timeline since 1 January (UTC), in the most used currency."""
    year_start = dt.datetime(now.year, 1, 1, tzinfo=dt.UTC)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    cursor: str | None = None
    for _ in range(SPEND_PAGES):
        page = deps.store.timeline(customer_id, limit=200, cursor=cursor, kind=TimelineKind.PAYMENT.value)
        done = False
        for entry in page.items:
            if entry.occurred_at < year_start:
                done = True
                break
            money = _amount(entry.payload)
            if money is not None and entry.payload.get("status", "succeeded") == "succeeded":
                totals[money.currency] += money.amount
        cursor = page.cursor
        if done or cursor is None:
            break
    if not totals:
        return CustomerFacts()
    currency = max(totals, key=lambda c: totals[c])
    return CustomerFacts(spend_this_year=Money(amount=totals[currency], currency=currency))


def case_facts(case: Case, interactions: list[Interaction]) -> CaseFacts:
    events = [e for e in (SlaEvent.from_interaction(i) for i in interactions) if e is not None]
    history = CaseSlaHistory(opened_at=case.created_at, priority=case.priority, channel=case.channel,
                             events=[e for e in events if e.at >= case.created_at])
    return CaseFacts.from_history(history)


def rule_context(deps: Deps, case: Case, event: RuleEvent, *, interaction: Interaction | None = None,
                 previous: Case | None = None) -> RuleContext:
    _, page = deps.store.case_with_interactions(case.id, limit=CONVERSATION_READ)
    conversation = page.items
    if interaction is None and event.trigger is RuleTrigger.CASE_OPENED:
        interaction = next((i for i in conversation if i.direction is Direction.INBOUND), None)
    customer = deps.store.get_customer(case.requester_id)
    return RuleContext(event=event, case=case, previous_case=previous, case_facts=case_facts(case, conversation),
                       customer=customer, customer_facts=customer_facts(deps, case.requester_id, event.at),
                       interaction=interaction)


def planned(actions: list[Any]) -> list[PlannedAction]:
    return [PlannedAction(rule_id=a.rule_id, action=a.action.model_dump(mode="json"), team_id=a.team_id,
                          agent_ids=list(a.agent_ids), text=a.text, note=a.note) for a in actions]


def dry_run(deps: Deps, request: Request, rule_id: str, command: DryRunRequest) -> DryRun:
    """Evaluate one rule against a case as if its trigger happened now. Reads only."""
    require_role(request.principal, Role.SUPERVISOR, "trying rules")
    record, _ = _find(deps, rule_id)
    case = check_case_access(request.principal, deps.store.get_case(command.case_id), command.case_id)
    rule = record.rule.model_copy(update={"enabled": True})
    trigger = command.trigger or rule.triggers[0]
    event = RuleEvent(trigger=trigger, at=deps.clock.now())
    evaluation = build_engine(deps, [rule]).evaluate(rule_context(deps, case, event))
    trace = evaluation.trace(rule.id)
    return DryRun(rule_id=rule.id, case_id=case.id, case_number=case.number, trigger=trigger, at=event.at,
                  matched=trace.outcome is RuleOutcome.MATCHED,
                  explanation=RuleExplanation(rule_id=trace.rule_id, outcome=trace.outcome,
                                              decided_by=trace.decided_by, detail=trace.detail,
                                              recheck_at=trace.recheck_at),
                  actions=planned(evaluation.actions), case_changes=TypeAdapter(dict[str, Any]).dump_python(
                      evaluation.case_changes, mode="json"),
                  recheck_at=evaluation.recheck_at, enabled=record.rule.enabled)
