"""Rules as data: conditions over a case, its customer, an interaction and the event, and the actions to take.

A rule is plain JSON validated into these models: no code is ever evaluated. The engine runs the rules in
order on one event, collects the actions of the rules that match, and stops early after a matching rule
that says `stop`. Each rule gets an explanation: matched or not, and which condition decided. Actions
that change the case (team, priority, category, tags, assignee) are applied to a working copy as the engine
goes, so a later rule sees what an earlier one set; the net changes come back in `case_changes`.

Time is the event's time (`event.at`): the engine never reads a clock. Conditions on time also say when
they could next change on their own; the engine returns the earliest such instant (`recheck_at`) for rules
that listen to the `timer` trigger, so a scheduler can evaluate the case again exactly then.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

import re2
from pydantic import AfterValidator, Field, field_validator, model_validator

from caseline.domain.case import Case, Priority
from caseline.domain.common import Money, Timestamp
from caseline.domain.customer import Customer
from caseline.domain.ids import AgentId, Tag, TeamId
from caseline.domain.interaction import Interaction

from .calendar import UTC, AutomationModel, BusinessCalendar
from .sla import CaseSlaHistory, SlaEventKind, SlaMetric

MAX_DEPTH = 6
MAX_CONDITIONS = 64
MAX_PATTERN_LENGTH = 300
# Text conditions look at this much of a field; a 200,000-character email body is cut, never scanned whole.
MAX_TEXT_SCANNED = 20_000
MAX_TEMPLATE_LENGTH = 10_000


class RuleTrigger(StrEnum):
    CASE_OPENED = "case_opened"
    INTERACTION_ADDED = "interaction_added"
    STATUS_CHANGED = "status_changed"
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    TIMER = "timer"  # the scheduler's visit at a rule's `recheck_at`


# --- what conditions can see ----------------------------------------------------------------------------
class CaseFacts(AutomationModel):
    """Derived facts about a case that are not stored on it; visible as `case.<name>`."""

    awaiting_agent_since: dt.datetime | None = Field(
        default=None, description="oldest customer message (or the opening) no agent has replied to yet")
    last_agent_reply_at: dt.datetime | None = None
    last_customer_message_at: dt.datetime | None = None
    agent_replies: int = 0

    @classmethod
    def from_history(cls, history: CaseSlaHistory) -> CaseFacts:
        awaiting: dt.datetime | None = history.opened_at
        last_reply = last_message = None
        replies = 0
        for event in sorted(history.events, key=lambda e: e.at):
            if event.kind == SlaEventKind.AGENT_REPLY:
                awaiting, last_reply, replies = None, event.at, replies + 1
            elif event.kind == SlaEventKind.CUSTOMER_MESSAGE:
                last_message = event.at
                awaiting = awaiting or event.at
        return cls(awaiting_agent_since=awaiting, last_agent_reply_at=last_reply,
                   last_customer_message_at=last_message, agent_replies=replies)


class CustomerFacts(AutomationModel):
    """Derived facts about a customer (from billing, orders ...); visible as `customer.<name>`."""

    spend_this_year: Money | None = None
    open_cases: int = 0


class RuleEvent(AutomationModel):
    trigger: RuleTrigger
    at: Timestamp
    sla_metric: SlaMetric | None = None
    changed: list[str] = Field(default_factory=list, description="case fields the event changed")


class RuleContext(AutomationModel):
    event: RuleEvent
    case: Case
    previous_case: Case | None = Field(default=None, description="the case before the event, for changed_to")
    case_facts: CaseFacts = Field(default_factory=CaseFacts)
    customer: Customer | None = None
    customer_facts: CustomerFacts = Field(default_factory=CustomerFacts)
    interaction: Interaction | None = None


_ROOT_FIELDS: dict[str, frozenset[str]] = {
    "case": frozenset(Case.model_fields) | frozenset(CaseFacts.model_fields),
    "customer": frozenset(Customer.model_fields) | frozenset(CustomerFacts.model_fields),
    "interaction": frozenset(Interaction.model_fields),
    "event": frozenset(RuleEvent.model_fields),
}
_PATH = re.compile(r"^[a-z_][a-z0-9_]*(\.[A-Za-z0-9_\-]{1,64}){1,4}$")


def _known_path(value: str) -> str:
    if not _PATH.match(value):
        raise ValueError(f"{value!r} is not a field path like case.priority")
    root, first = value.split(".")[:2]
    if root not in _ROOT_FIELDS:
        raise ValueError(f"{value!r} must start with one of {', '.join(sorted(_ROOT_FIELDS))}")
    if first not in _ROOT_FIELDS[root]:
        raise ValueError(f"{root} has no field {first!r}")
    return value


FieldPath = Annotated[str, Field(max_length=200, examples=["case.priority"]), AfterValidator(_known_path)]
Scalar = str | int | float | bool | None


class _Leaf(AutomationModel):
    field: FieldPath


# --- conditions ------------------------------------------------------------------------------------------------
class Equals(_Leaf):
    op: Literal["equals"] = "equals"
    value: Scalar


class ContainsAny(_Leaf):
    """Any keyword appears as a whole word or phrase (case-insensitive); on a list, any element is a keyword."""

    op: Literal["contains_any"] = "contains_any"
    keywords: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(min_length=1, max_length=200)


class Matches(_Leaf):
    """An RE2 regular expression (linear time: no backreferences or lookaround), searched in the field."""

    op: Literal["matches"] = "matches"
    pattern: str = Field(min_length=1, max_length=MAX_PATTERN_LENGTH)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            _regex(value)
        except re2.error as exc:
            raise ValueError(f"not a supported regular expression: {exc}") from None
        return value


class In(_Leaf):
    op: Literal["in"] = "in"
    values: list[Scalar] = Field(min_length=1, max_length=500)


class GreaterThan(_Leaf):
    op: Literal["gt"] = "gt"
    value: Decimal


class LessThan(_Leaf):
    op: Literal["lt"] = "lt"
    value: Decimal


class ChangedTo(_Leaf):
    """The event changed the field to this value (it had another one before)."""

    op: Literal["changed_to"] = "changed_to"
    value: Scalar


class TimeSince(_Leaf):
    """Time from the instant in `field` to the event, in business time of the case's calendar or in all time."""

    op: Literal["time_since"] = "time_since"
    more_than_minutes: int | None = Field(default=None, ge=0, le=525_600)
    less_than_minutes: int | None = Field(default=None, ge=1, le=525_600)
    business: bool = True

    @model_validator(mode="after")
    def _a_bound(self) -> Self:
        if self.more_than_minutes is None and self.less_than_minutes is None:
            raise ValueError("time_since needs more_than_minutes or less_than_minutes")
        return self


class BusinessHours(AutomationModel):
    """The event happened inside (or outside) the working hours of the case's calendar."""

    op: Literal["business_hours"] = "business_hours"
    inside: bool = True


class All(AutomationModel):
    op: Literal["all"] = "all"
    conditions: list[Condition] = Field(max_length=MAX_CONDITIONS)


class AnyOf(AutomationModel):
    op: Literal["any"] = "any"
    conditions: list[Condition] = Field(min_length=1, max_length=MAX_CONDITIONS)


class Not(AutomationModel):
    op: Literal["not"] = "not"
    condition: Condition


Condition = Annotated[
    All | AnyOf | Not | Equals | ContainsAny | Matches | In | GreaterThan | LessThan | ChangedTo | TimeSince
    | BusinessHours,
    Field(discriminator="op"),
]


# --- actions ---------------------------------------------------------------------------------------------------
class Recipient(StrEnum):
    ASSIGNEE = "assignee"
    TEAM = "team"
    TEAM_MANAGER = "team_manager"


_PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")


def _check_template(value: str) -> str:
    for path in _PLACEHOLDER.findall(value):
        _known_path(path)
    return value


Template = Annotated[str, Field(min_length=1, max_length=MAX_TEMPLATE_LENGTH), AfterValidator(_check_template)]


class SetTeam(AutomationModel):
    type: Literal["set_team"] = "set_team"
    team: str = Field(min_length=1, max_length=100, description="a team id, or a team name resolved at run time")


class SetPriority(AutomationModel):
    type: Literal["set_priority"] = "set_priority"
    priority: Priority


class SetCategory(AutomationModel):
    type: Literal["set_category"] = "set_category"
    category: str | None = Field(max_length=100)


class AddTags(AutomationModel):
    type: Literal["add_tags"] = "add_tags"
    tags: list[Tag] = Field(min_length=1, max_length=20)


class RemoveTags(AutomationModel):
    type: Literal["remove_tags"] = "remove_tags"
    tags: list[Tag] = Field(min_length=1, max_length=20)


class SetAssignee(AutomationModel):
    type: Literal["set_assignee"] = "set_assignee"
    agent_id: AgentId | None = Field(description="empty to unassign")


class AddNote(AutomationModel):
    type: Literal["add_note"] = "add_note"
    text: Template


class SendReply(AutomationModel):
    type: Literal["send_reply"] = "send_reply"
    template: Template = Field(examples=["Hello {{customer.name}}, we have your case #{{case.number}}."])


class Notify(AutomationModel):
    type: Literal["notify"] = "notify"
    recipients: list[Recipient | AgentId] = Field(min_length=1, max_length=50)
    message: Template


class Escalate(AutomationModel):
    type: Literal["escalate"] = "escalate"
    to: Recipient = Recipient.TEAM_MANAGER
    priority: Priority | None = Field(default=None, description="raise the case to this priority as well")
    reason: str = Field(default="", max_length=500)


class CallWebhook(AutomationModel):
    type: Literal["call_webhook"] = "call_webhook"
    url: str = Field(max_length=2000, examples=["https://hooks.example.com/caseline"])

    @field_validator("url")
    @classmethod
    def _safe_url(cls, value: str) -> str:
        parts = urlsplit(value)
        local = parts.hostname in {"localhost", "127.0.0.1", "::1"}
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            raise ValueError("webhooks go to https:// URLs (http:// only to localhost)")
        if not parts.hostname or parts.username or parts.password:
            raise ValueError("a webhook URL needs a host and no credentials")
        return value


Action = Annotated[
    SetTeam | SetPriority | SetCategory | AddTags | RemoveTags | SetAssignee | AddNote | SendReply | Notify
    | Escalate | CallWebhook,
    Field(discriminator="type"),
]


class Rule(AutomationModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    enabled: bool = True
    triggers: list[RuleTrigger] = Field(min_length=1)
    when: Condition | None = Field(default=None, description="always matches when empty")
    actions: list[Action] = Field(min_length=1, max_length=20)
    stop: bool = Field(default=False, description="no later rule runs on this event when this one matches")

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.when is not None:
            depth, count = _size(self.when)
            if depth > MAX_DEPTH:
                raise ValueError(f"conditions nest {depth} deep (at most {MAX_DEPTH})")
            if count > MAX_CONDITIONS:
                raise ValueError(f"a rule has {count} conditions (at most {MAX_CONDITIONS})")
        return self


class RuleSet(AutomationModel):
    rules: list[Rule] = Field(max_length=1000)

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"two rules have the id {rule.id!r}")
            seen.add(rule.id)
        return rules


def _size(condition: Any) -> tuple[int, int]:
    if isinstance(condition, All | AnyOf):
        children = [_size(c) for c in condition.conditions]
        return 1 + max((d for d, _ in children), default=0), 1 + sum(n for _, n in children)
    if isinstance(condition, Not):
        depth, count = _size(condition.condition)
        return depth + 1, count + 1
    return 1, 1


def default_rules() -> RuleSet:
    """The rules a new installation starts with (`automation/defaults.json`)."""
    text = resources.files("caseline.automation").joinpath("defaults.json").read_text(encoding="utf-8")
    return RuleSet.model_validate(json.loads(text))


# --- outcomes --------------------------------------------------------------------------------------------------
class RuleOutcome(StrEnum):
    MATCHED = "matched"
    NOT_MATCHED = "not_matched"
    NOT_TRIGGERED = "not_triggered"
    DISABLED = "disabled"
    SKIPPED = "skipped"  # an earlier matching rule said stop


# Outcomes are plain dataclasses: one evaluation makes hundreds of them, and they are built from values the
# engine has already validated. `pydantic.TypeAdapter(Evaluation)` serialises them where an API needs to.
@dataclass(frozen=True, slots=True)
class RuleTrace:
    rule_id: str
    outcome: RuleOutcome
    decided_by: str | None = None  # the condition that decided, e.g. when.all[1]
    detail: str = ""
    recheck_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class FiredAction:
    rule_id: str
    action: Action
    team_id: TeamId | None = None  # the team the action names or acts on, resolved
    agent_ids: list[AgentId] = field(default_factory=list)  # recipients resolved to agents
    text: str | None = None  # the rendered template
    note: str = ""  # why something could not be resolved


@dataclass(frozen=True, slots=True)
class Evaluation:
    event: RuleEvent
    actions: list[FiredAction] = field(default_factory=list)
    traces: list[RuleTrace] = field(default_factory=list)
    case_changes: dict[str, Any] = field(default_factory=dict)
    stopped_by: str | None = None
    recheck_at: dt.datetime | None = None  # evaluate again then, with a timer event

    def trace(self, rule_id: str) -> RuleTrace:
        return next(t for t in self.traces if t.rule_id == rule_id)


class TeamInfo(AutomationModel):
    """What the engine needs to know about a team to resolve names, managers and members."""

    id: TeamId
    name: str
    manager_id: AgentId | None = None
    member_ids: list[AgentId] = Field(default_factory=list)
    calendar: BusinessCalendar | None = None


# --- the engine ------------------------------------------------------------------------------------------------
class RuleEngine:
    """Evaluates an ordered rule set. Build it once per rule-set version; `evaluate` is pure and thread-safe."""

    def __init__(self, rules: RuleSet | Iterable[Rule], *, calendar: BusinessCalendar,
                 teams: Iterable[TeamInfo] = ()) -> None:
        self.rules = list(rules.rules if isinstance(rules, RuleSet) else rules)
        self.calendar = calendar
        self.teams = {team.id: team for team in teams}
        self._teams_by_name = {team.name.casefold(): team for team in self.teams.values()}
        self._compiled = [None if rule.when is None else _build_check(rule.when, "when") for rule in self.rules]

    def evaluate(self, context: RuleContext) -> Evaluation:
        state = _State(context, self)
        traces: list[RuleTrace] = []
        actions: list[FiredAction] = []
        stopped_by: str | None = None
        recheck: dt.datetime | None = None
        trigger = context.event.trigger
        for rule, check in zip(self.rules, self._compiled, strict=True):
            if stopped_by is not None:
                traces.append(_trace(rule.id, RuleOutcome.SKIPPED, detail=f"rule {stopped_by!r} stopped the run"))
                continue
            if not rule.enabled:
                traces.append(_trace(rule.id, RuleOutcome.DISABLED))
                continue
            if trigger not in rule.triggers:
                traces.append(_trace(rule.id, RuleOutcome.NOT_TRIGGERED, detail=f"listens to "
                                     f"{', '.join(t.value for t in rule.triggers)}"))
                continue
            verdict = _Verdict(True, None, "no conditions") if check is None else check(state)
            if not verdict.holds:
                wake = verdict.flips_at if RuleTrigger.TIMER in rule.triggers else None
                traces.append(_trace(rule.id, RuleOutcome.NOT_MATCHED, verdict.path, verdict.detail, wake))
                if wake is not None and (recheck is None or wake < recheck):
                    recheck = wake
                continue
            traces.append(_trace(rule.id, RuleOutcome.MATCHED, verdict.path, verdict.detail))
            actions.extend(state.apply(rule.id, action) for action in rule.actions)
            if rule.stop:
                stopped_by = rule.id
        # Only what ends up different: a tag added by one rule and removed by the next is no change.
        before = context.case.model_dump(include=set(state.changes)) if state.changes else {}
        changes = {name: value for name, value in state.changes.items() if before[name] != value}
        return Evaluation(event=context.event, actions=actions, traces=traces, case_changes=changes,
                          stopped_by=stopped_by, recheck_at=recheck)

    def team(self, reference: str | None) -> TeamInfo | None:
        if reference is None:
            return None
        return self.teams.get(reference) or self._teams_by_name.get(reference.casefold())

    def calendar_for(self, team_id: str | None) -> BusinessCalendar:
        team = self.teams.get(team_id) if team_id else None
        return team.calendar if team and team.calendar else self.calendar


def _trace(rule_id: str, outcome: RuleOutcome, decided_by: str | None = None, detail: str = "",
           recheck_at: dt.datetime | None = None) -> RuleTrace:
    return RuleTrace(rule_id, outcome, decided_by, detail, recheck_at)


class _Verdict:
    __slots__ = ("detail", "flips_at", "holds", "path")

    def __init__(self, holds: bool, path: str | None, detail: str, flips_at: dt.datetime | None = None) -> None:
        self.holds = holds
        self.path = path
        self.detail = detail
        self.flips_at = flips_at


_MISSING = object()


class _State:
    """One evaluation: the values conditions read (case values change as actions apply) and the changes."""

    def __init__(self, context: RuleContext, engine: RuleEngine) -> None:
        self.context = context
        self.engine = engine
        self.now = context.event.at.astimezone(UTC)
        self.changes: dict[str, Any] = {}
        self._roots: dict[str, dict[str, Any] | None] = {}

    def root(self, name: str) -> dict[str, Any] | None:
        if name not in self._roots:
            ctx = self.context
            values: dict[str, Any] | None
            if name == "case":
                values = {**ctx.case.model_dump(), **ctx.case_facts.model_dump()}
            elif name == "customer":
                values = {**ctx.customer.model_dump(), **ctx.customer_facts.model_dump()} if ctx.customer \
                    else ctx.customer_facts.model_dump()
            elif name == "interaction":
                values = ctx.interaction.model_dump() if ctx.interaction else None
            elif name == "previous":
                values = ctx.previous_case.model_dump() if ctx.previous_case else None
            else:
                values = ctx.event.model_dump()
            self._roots[name] = values
        return self._roots[name]

    def value(self, path: str, root: str | None = None) -> Any:
        parts = path.split(".")
        return self.lookup((root or parts[0], *parts[1:]))

    def lookup(self, parts: tuple[str, ...]) -> Any:
        current: Any = self._roots[parts[0]] if parts[0] in self._roots else self.root(parts[0])
        for part in parts[1:]:
            if not isinstance(current, dict) or part not in current:
                return _MISSING
            current = current[part]
        return current

    def render(self, template: str) -> str:
        def replace(match: re.Match[str]) -> str:
            value = self.value(match.group(1))
            return "" if value is _MISSING or value is None else str(value)

        return _PLACEHOLDER.sub(replace, template)

    def _set(self, field: str, value: Any) -> None:
        case = self.root("case")
        assert case is not None
        case[field] = value
        self.changes[field] = value

    def apply(self, rule_id: str, action: Any) -> FiredAction:
        case = self.root("case")
        assert case is not None
        engine = self.engine
        if isinstance(action, SetTeam):
            team = engine.team(action.team)
            if team is None:
                return FiredAction(rule_id, action, note=f"no team called {action.team!r}")
            self._set("team_id", team.id)
            return _fired(rule_id, action, team_id=team.id)
        if isinstance(action, SetPriority):
            self._set("priority", action.priority)
        elif isinstance(action, SetCategory):
            self._set("category", action.category)
        elif isinstance(action, AddTags):
            self._set("tags", list(dict.fromkeys([*case["tags"], *action.tags])))
        elif isinstance(action, RemoveTags):
            self._set("tags", [t for t in case["tags"] if t not in action.tags])
        elif isinstance(action, SetAssignee):
            self._set("assignee_id", action.agent_id)
        elif isinstance(action, AddNote):
            return _fired(rule_id, action, text=self.render(action.text))
        elif isinstance(action, SendReply):
            return _fired(rule_id, action, text=self.render(action.template))
        elif isinstance(action, Notify):
            agents, note = self._recipients(action.recipients)
            return _fired(rule_id, action, agent_ids=agents, text=self.render(action.message), note=note,
                          team_id=case["team_id"])
        elif isinstance(action, Escalate):
            if action.priority is not None and Priority(action.priority).rank < Priority(case["priority"]).rank:
                self._set("priority", action.priority)
            agents, note = self._recipients([action.to])
            return _fired(rule_id, action, agent_ids=agents, note=note, team_id=case["team_id"],
                          text=action.reason or None)
        return _fired(rule_id, action, team_id=case["team_id"] if isinstance(action, CallWebhook) else None)

    def _recipients(self, recipients: Iterable[str]) -> tuple[list[str], str]:
        case = self.root("case")
        assert case is not None
        team = self.engine.teams.get(case["team_id"]) if case["team_id"] else None
        agents: list[str] = []
        missing: list[str] = []
        for recipient in recipients:
            if recipient == Recipient.ASSIGNEE:
                found = [case["assignee_id"]] if case["assignee_id"] else []
            elif recipient == Recipient.TEAM_MANAGER:
                found = [team.manager_id] if team and team.manager_id else []
            elif recipient == Recipient.TEAM:
                found = list(team.member_ids) if team else []
            else:
                found = [recipient]
            if not found:
                missing.append(str(recipient))
            agents.extend(a for a in found if a not in agents)
        note = f"nobody to reach as {', '.join(missing)}" if missing else ""
        return agents, note


def _fired(rule_id: str, action: Any, *, team_id: str | None = None, agent_ids: list[str] | None = None,
           text: str | None = None, note: str = "") -> FiredAction:
    return FiredAction(rule_id, action, team_id, agent_ids or [], text, note)


# --- evaluating conditions ---------------------------------------------------------------------------------
Check = Callable[["_State"], _Verdict]


def _build_check(condition: Any, path: str) -> Check:
    """Turn a validated condition into a closure, with its field path split and its sets and patterns ready."""
    if isinstance(condition, All | AnyOf):
        every = isinstance(condition, All)
        label = "all" if every else "any"
        children = [_build_check(child, f"{path}.{label}[{i}]") for i, child in enumerate(condition.conditions)]
        count = len(children)

        def combined(state: _State) -> _Verdict:
            flips: list[dt.datetime] = []
            for child in children:
                verdict = child(state)
                if verdict.holds != every:
                    return verdict
                if verdict.flips_at:
                    flips.append(verdict.flips_at)
            detail = f"all {count} conditions held" if every else f"none of {count} conditions held"
            return _Verdict(every, path, detail, min(flips, default=None))

        return combined
    if isinstance(condition, Not):
        inner = _build_check(condition.condition, f"{path}.not")

        def negated(state: _State) -> _Verdict:
            verdict = inner(state)
            return _Verdict(not verdict.holds, verdict.path, f"not ({verdict.detail})", verdict.flips_at)

        return negated
    if isinstance(condition, BusinessHours):
        return lambda state: _business_hours(condition, path, state)
    parts = tuple(condition.field.split("."))
    leaf = _LEAF[type(condition)]
    prepared = _prepare(condition)
    missing = f"{condition.field} is not there"

    def check(state: _State) -> _Verdict:
        value = state.lookup(parts)
        if value is _MISSING:
            return _Verdict(False, path, missing)
        return leaf(condition, value, path, state, prepared)

    return check


def _prepare(condition: Any) -> Any:
    if isinstance(condition, In):
        return frozenset(condition.values)
    if isinstance(condition, ContainsAny):
        return _keyword_regex(tuple(condition.keywords)), frozenset(k.casefold() for k in condition.keywords)
    if isinstance(condition, Matches):
        return _regex(condition.pattern)
    return None


def _show(value: Any) -> str:
    text = repr(value.value if isinstance(value, StrEnum) else value)
    return text if len(text) <= 80 else text[:77] + "..."


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, StrEnum) else value


def _equals(condition: Equals, value: Any, path: str, state: _State, prepared: Any) -> _Verdict:
    holds = value == condition.value  # a StrEnum equals its value
    return _Verdict(holds, path, f"{condition.field} is {_show(value)}" +
                    ("" if holds else f", not {_show(condition.value)}"))


def _in(condition: In, value: Any, path: str, state: _State, prepared: frozenset[Any]) -> _Verdict:
    if isinstance(value, list):
        hit = next((v for v in value if v in prepared), _MISSING)
        if hit is _MISSING:
            return _Verdict(False, path, f"{condition.field} has none of {_show(condition.values)}")
        return _Verdict(True, path, f"{condition.field} has {_show(hit)}")
    holds = value in prepared
    return _Verdict(holds, path, f"{condition.field} is {_show(value)}" +
                    (" (listed)" if holds else f", not one of {_show(condition.values)}"))


@lru_cache(maxsize=4096)
def _keyword_regex(keywords: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so "credit card" wins over "credit"; escaped, so keywords are never patterns.
    alternatives = "|".join(re.escape(k) for k in sorted(set(keywords), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _contains_any(condition: ContainsAny, value: Any, path: str, state: _State,
                  prepared: tuple[re.Pattern[str], frozenset[str]]) -> _Verdict:
    regex, wanted = prepared
    if isinstance(value, list):
        hit = next((v for v in value if isinstance(v, str) and v.casefold() in wanted), None)
    elif isinstance(value, str):
        found = regex.search(value, 0, MAX_TEXT_SCANNED)
        hit = found.group(0) if found else None
    else:
        return _Verdict(False, path, f"{condition.field} is not text")
    if hit is None:
        return _Verdict(False, path, f"{condition.field} mentions none of {_show(condition.keywords)}")
    return _Verdict(True, path, f"{condition.field} mentions {hit!r}")


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> Any:
    options = re2.Options()
    options.max_mem = 8 << 20
    options.log_errors = False
    return re2.compile(pattern, options)


def _matches(condition: Matches, value: Any, path: str, state: _State, prepared: Any) -> _Verdict:
    texts = [v for v in value if isinstance(v, str)] if isinstance(value, list) else [value]
    if not all(isinstance(t, str) for t in texts):
        return _Verdict(False, path, f"{condition.field} is not text")
    for text in texts:
        found = prepared.search(text[:MAX_TEXT_SCANNED])
        if found:
            return _Verdict(True, path, f"{condition.field} matches at {_show(found.group(0))}")
    return _Verdict(False, path, f"{condition.field} does not match /{condition.pattern}/")


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int | float | str):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _compare(condition: GreaterThan | LessThan, value: Any, path: str, state: _State,
             prepared: Any) -> _Verdict:
    number = _number(value)
    if number is None:
        return _Verdict(False, path, f"{condition.field} is not a number ({_show(value)})")
    greater = isinstance(condition, GreaterThan)
    holds = number > condition.value if greater else number < condition.value
    sign = (">" if holds else "<=") if greater else ("<" if holds else ">=")
    return _Verdict(holds, path, f"{condition.field} is {number} {sign} {condition.value}")


def _changed_to(condition: ChangedTo, value: Any, path: str, state: _State,
                prepared: Any) -> _Verdict:
    root, _, rest = condition.field.partition(".")
    if root != "case" or state.root("previous") is None:
        return _Verdict(False, path, f"nothing tells what {condition.field} was before")
    before = state.value(f"previous.{rest}", root="previous")
    before = None if before is _MISSING else before
    holds = _plain(value) == condition.value and _plain(before) != condition.value
    return _Verdict(holds, path, f"{condition.field} went from {_show(before)} to {_show(value)}")


def _time_since(condition: TimeSince, value: Any, path: str, state: _State,
                prepared: Any) -> _Verdict:
    if value is None:
        return _Verdict(False, path, f"{condition.field} is empty")
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        return _Verdict(False, path, f"{condition.field} is not a time")
    case = state.root("case")
    calendar = state.engine.calendar_for(case["team_id"] if case else None)
    now = state.now
    elapsed = calendar.business_time_between(value, now) if condition.business else now - value
    unit = "business " if condition.business else ""

    def instant(minutes: int) -> dt.datetime:
        span = dt.timedelta(minutes=minutes)
        return calendar.add_business_time(value, span) if condition.business else value + span

    holds = True
    flips: list[dt.datetime] = []
    if condition.more_than_minutes is not None:
        threshold = dt.timedelta(minutes=condition.more_than_minutes)
        if elapsed <= threshold:
            holds = False
            # Strictly more than: the first instant past the threshold, to the microsecond.
            flips.append(instant(condition.more_than_minutes) + dt.timedelta(microseconds=1))
    if condition.less_than_minutes is not None:
        if elapsed >= dt.timedelta(minutes=condition.less_than_minutes):
            holds = False
        else:
            flips.append(instant(condition.less_than_minutes))
    minutes = elapsed.total_seconds() / 60
    detail = f"{minutes:.0f} {unit}minutes since {condition.field}"
    return _Verdict(holds, path, detail, min((f for f in flips if f > now), default=None))


def _business_hours(condition: BusinessHours, path: str, state: _State) -> _Verdict:
    case = state.root("case")
    calendar = state.engine.calendar_for(case["team_id"] if case else None)
    inside = calendar.is_working(state.now)
    if inside:
        span = calendar.working_spans(state.now, state.now + dt.timedelta(days=1))
        flips_at = span[0][1] if span else None
    else:
        flips_at = calendar.next_working_instant(state.now)
    where = "inside" if inside else "outside"
    return _Verdict(inside == condition.inside, path, f"{state.now.isoformat()} is {where} business hours", flips_at)


_LEAF = {
    Equals: _equals,
    In: _in,
    ContainsAny: _contains_any,
    Matches: _matches,
    GreaterThan: _compare,
    LessThan: _compare,
    ChangedTo: _changed_to,
    TimeSince: _time_since,
}

__all__ = [
    "Action", "AddNote", "AddTags", "All", "AnyOf", "BusinessHours", "CallWebhook", "CaseFacts",
    "ChangedTo", "Condition", "ContainsAny", "CustomerFacts", "Equals", "Escalate", "Evaluation", "FiredAction",
    "GreaterThan", "In", "LessThan", "Matches", "Not", "Notify", "RemoveTags", "Rule", "RuleContext", "RuleEngine",
    "RuleEvent", "RuleOutcome", "RuleSet", "RuleTrace", "RuleTrigger", "SendReply", "SetAssignee", "SetCategory",
    "SetPriority", "SetTeam", "TeamInfo", "TimeSince", "default_rules",
]
