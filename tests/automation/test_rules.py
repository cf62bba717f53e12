"""Rules as data: validation, every operator, the engine's order/stop semantics, explanations and defaults."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from caseline.automation.calendar import BusinessCalendar
from caseline.automation.rules import (
    CaseFacts,
    Condition,
    CustomerFacts,
    Rule,
    RuleContext,
    RuleEngine,
    RuleEvent,
    RuleOutcome,
    RuleSet,
    RuleTrigger,
    TeamInfo,
    default_rules,
)
from caseline.automation.sla import CaseSlaHistory, SlaEvent, SlaEventKind
from caseline.domain.case import CaseStatus, Priority
from caseline.domain.common import Money
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from .builders import T0, case, customer, inbound, ulid

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE = BusinessCalendar(time_zone="Europe/Berlin", holiday_country="DE", holiday_subdivision="BY",
                          weekly_hours={d: [{"start": "09:00", "end": "17:00"}] for d in WEEKDAYS})
BILLING = TeamInfo(id=ulid(1, "01T"), name="Billing", manager_id=ulid(9, "01A"),
                   member_ids=[ulid(1, "01A"), ulid(2, "01A")])
SUPPORT = TeamInfo(id=ulid(2, "01T"), name="Support", manager_id=None, member_ids=[ulid(3, "01A")])
CONDITION = TypeAdapter(Condition)
H = dt.timedelta(hours=1)


def engine(*rules: dict[str, Any] | Rule) -> RuleEngine:
    return RuleEngine(RuleSet.model_validate({"rules": list(rules)}), calendar=OFFICE, teams=[BILLING, SUPPORT])


def rule(rule_id: str, when: dict[str, Any] | None = None, *, actions: list[dict[str, Any]] | None = None,
         triggers: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": rule_id, "name": rule_id, "triggers": triggers or ["case_opened"], "when": when,
            "actions": actions or [{"type": "add_tags", "tags": [rule_id]}], **extra}


def context(trigger: RuleTrigger = RuleTrigger.CASE_OPENED, at: dt.datetime = T0, **parts: Any) -> RuleContext:
    parts.setdefault("case", case())
    return RuleContext(event=RuleEvent(trigger=trigger, at=at), **parts)


def check(condition: dict[str, Any], **parts: Any) -> tuple[bool, str, str | None]:
    """Evaluate one condition through the engine; (matched, detail, decided_by)."""
    result = engine(rule("r", condition)).evaluate(context(**parts))
    trace = result.trace("r")
    return trace.outcome == RuleOutcome.MATCHED, trace.detail, trace.decided_by


# --- validation ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("condition", "message"), [
    ({"op": "equals", "field": "ticket.priority", "value": "high"}, "must start with one of"),
    ({"op": "equals", "field": "case.priorty", "value": "high"}, "case has no field 'priorty'"),
    ({"op": "equals", "field": "case", "value": "high"}, "not a field path"),
    ({"op": "matches", "field": "case.subject", "pattern": r"(a)\1"}, "not a supported regular expression"),
    ({"op": "matches", "field": "case.subject", "pattern": r"(?=x)"}, "not a supported regular expression"),
    ({"op": "matches", "field": "case.subject", "pattern": "a" * 301}, "at most 300"),
    ({"op": "contains_any", "field": "case.subject", "keywords": []}, "at least 1"),
    ({"op": "time_since", "field": "case.created_at"}, "needs more_than_minutes or less_than_minutes"),
    ({"op": "eval", "field": "case.subject"}, "does not match any of the expected tags"),
    ({"op": "equals", "field": "case.subject", "value": "x", "extra": 1}, "Extra inputs"),
])
def test_invalid_conditions_are_refused(condition: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CONDITION.validate_python(condition)


def test_nesting_and_size_are_bounded() -> None:
    deep: dict[str, Any] = {"op": "equals", "field": "case.subject", "value": "x"}
    for _ in range(6):
        deep = {"op": "not", "condition": deep}
    with pytest.raises(ValidationError, match="nest 7 deep"):
        Rule.model_validate(rule("deep", deep))
    wide = {"op": "any", "conditions": [{"op": "all", "conditions": [{"op": "equals", "field": "case.subject",
                                                                     "value": str(n)}] * 8} for n in range(8)]}
    with pytest.raises(ValidationError, match="73 conditions"):
        Rule.model_validate(rule("wide", wide))


@pytest.mark.parametrize(("action", "message"), [
    ({"type": "call_webhook", "url": "http://hooks.example.com/x"}, "https"),
    ({"type": "call_webhook", "url": "https://user:pw@hooks.example.com/x"}, "no credentials"),
    ({"type": "call_webhook", "url": "file:///etc/passwd"}, "https"),
    ({"type": "send_reply", "template": "Hi {{customer.password}}"}, "customer has no field 'password'"),
    ({"type": "set_assignee", "agent_id": "bob"}, "String should match pattern"),
    ({"type": "add_tags", "tags": ["Not A Tag!"]}, "String should match pattern"),
    ({"type": "notify", "recipients": ["everyone"], "message": "x"}, "recipients"),
    ({"type": "run_script", "code": "rm -rf /"}, "does not match any of the expected tags"),
])
def test_invalid_actions_are_refused(action: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Rule.model_validate(rule("r", actions=[action]))


def test_webhooks_may_go_to_https_or_to_localhost_over_http() -> None:
    for url in ("https://hooks.example.com/caseline", "http://127.0.0.1:9000/hook", "http://localhost/hook"):
        Rule.model_validate(rule("r", actions=[{"type": "call_webhook", "url": url}]))


def test_rule_ids_are_unique_in_a_set() -> None:
    with pytest.raises(ValidationError, match="two rules have the id 'a'"):
        RuleSet.model_validate({"rules": [rule("a"), rule("a")]})


def test_rule_sets_survive_a_json_round_trip() -> None:
    rules = default_rules()
    assert RuleSet.model_validate_json(rules.model_dump_json()) == rules


def test_no_rule_text_is_ever_executed() -> None:
    source = Path(__file__).parents[2] / "layers/core/python/caseline/automation"
    for module in source.glob("*.py"):
        text = module.read_text()
        for forbidden in ("eval(", "exec(", "compile(", "__import__", "getattr("):
            assert forbidden not in text.replace("re2.compile(", "").replace("re.compile(", ""), (module, forbidden)


# --- operators -------------------------------------------------------------------------------------------------
def test_equals_and_in_compare_values_and_list_members() -> None:
    assert check({"op": "equals", "field": "case.priority", "value": "normal"})[0]
    held, detail, _ = check({"op": "equals", "field": "case.priority", "value": "urgent"})
    assert not held and detail == "case.priority is 'normal', not 'urgent'"
    assert check({"op": "in", "field": "case.status", "values": ["new", "open"]})[0]
    assert check({"op": "in", "field": "case.tags", "values": ["vip", "refund"]}, case=case(tags=["refund"]))[0]
    assert not check({"op": "in", "field": "case.tags", "values": ["vip"]}, case=case(tags=["refund"]))[0]
    assert check({"op": "equals", "field": "case.assignee_id", "value": None})[0]
    assert check({"op": "equals", "field": "case.custom_fields.plan", "value": "pro"},
                 case=case(custom_fields={"plan": "pro"}))[0]
    held, detail, _ = check({"op": "equals", "field": "case.custom_fields.plan", "value": "pro"})
    assert not held and detail == "case.custom_fields.plan is not there"


@pytest.mark.parametrize(("text", "matched"), [
    ("Question about BILLING", True),
    ("billing's address", True),
    ("my invoice.", True),
    ("re-billing run", True),  # a hyphen is a word boundary
    ("rebilling", False),
    ("invoices", False),  # whole words only
    ("", False),
])
def test_contains_any_matches_whole_words_case_insensitively(text: str, matched: bool) -> None:
    held, detail, _ = check({"op": "contains_any", "field": "interaction.text", "keywords": ["billing", "invoice"]},
                            interaction=inbound(text))
    assert held is matched, detail


def test_contains_any_takes_keywords_literally_and_reports_the_hit() -> None:
    held, detail, _ = check({"op": "contains_any", "field": "case.subject", "keywords": ["c++", "credit card"]},
                            case=case(subject="Charged twice on my Credit Card"))
    assert held and detail == "case.subject mentions 'Credit Card'"
    assert not check({"op": "contains_any", "field": "case.subject", "keywords": ["a.c"]},
                     case=case(subject="abc"))[0]
    assert check({"op": "contains_any", "field": "case.tags", "keywords": ["VIP"]}, case=case(tags=["vip"]))[0]
    held, detail, _ = check({"op": "contains_any", "field": "interaction.text", "keywords": ["x"]})
    assert not held and detail == "interaction.text is not there"  # no interaction on this event


def test_matches_uses_linear_time_regular_expressions_on_bounded_input() -> None:
    pattern = {"op": "matches", "field": "case.subject", "pattern": r"(?i)order\s*#?\d{6,}"}
    held, detail, _ = check(pattern, case=case(subject="Re: ORDER #1234567 missing"))
    assert held and "ORDER #1234567" in detail
    assert not check(pattern, case=case(subject="order 12345"))[0]
    # The classic catastrophic pattern finishes (RE2 never backtracks) and, here, does not match.
    evil = {"op": "matches", "field": "interaction.text", "pattern": r"^(a+)+$"}
    assert not check(evil, interaction=inbound("a" * 10_000 + "!"))[0]
    # Only the first 20,000 characters are looked at.
    late = {"op": "matches", "field": "interaction.text", "pattern": "needle"}
    assert not check(late, interaction=inbound("x" * 20_000 + "needle"))[0]
    assert check(late, interaction=inbound("x" * 19_000 + "needle"))[0]


def test_gt_and_lt_compare_numbers_exactly() -> None:
    rich = CustomerFacts(spend_this_year=Money(amount="50000.01", currency="USD"))
    exact = CustomerFacts(spend_this_year=Money(amount="50000.00", currency="USD"))
    over = {"op": "gt", "field": "customer.spend_this_year.amount", "value": "50000"}
    assert check(over, customer_facts=rich)[0]
    held, detail, _ = check(over, customer_facts=exact)
    assert not held and detail == "customer.spend_this_year.amount is 50000.00 <= 50000"
    assert check({"op": "lt", "field": "case.number", "value": 2000})[0]
    held, detail, _ = check({"op": "gt", "field": "case.subject", "value": 1})
    assert not held and "not a number" in detail
    held, detail, _ = check(over)  # no spend known
    assert not held and detail == "customer.spend_this_year.amount is not there"
    held, detail, _ = check({"op": "gt", "field": "case.category", "value": 1})
    assert not held and detail == "case.category is not a number (None)"


def test_changed_to_needs_the_value_before_the_event() -> None:
    pending = case(status=CaseStatus.PENDING)
    changed = {"op": "changed_to", "field": "case.status", "value": "pending"}
    held, detail, _ = check(changed, case=pending, previous_case=case(status=CaseStatus.OPEN))
    assert held and detail == "case.status went from 'open' to 'pending'"
    assert not check(changed, case=pending, previous_case=pending)[0]
    held, detail, _ = check(changed, case=pending)
    assert not held and "nothing tells" in detail


def test_time_since_counts_business_time_and_says_when_it_will_hold() -> None:
    # T0 is Monday 10:00 Berlin; the customer has waited since Friday 16:00 (1 business hour on Friday).
    facts = CaseFacts(awaiting_agent_since=T0 - dt.timedelta(days=2, hours=18))
    waited = {"op": "time_since", "field": "case.awaiting_agent_since", "more_than_minutes": 240}
    result = engine(rule("r", waited, triggers=["case_opened", "timer"])).evaluate(context(case_facts=facts))
    trace = result.trace("r")
    assert trace.outcome == RuleOutcome.NOT_MATCHED and trace.detail.startswith("120 business minutes")
    assert result.recheck_at == T0 + 2 * H + dt.timedelta(microseconds=1)  # Monday 12:00 Berlin, just past
    later = engine(rule("r", waited, triggers=["timer"])).evaluate(
        context(RuleTrigger.TIMER, at=result.recheck_at, case_facts=facts))
    assert later.trace("r").outcome == RuleOutcome.MATCHED
    wall = {"op": "time_since", "field": "case.created_at", "less_than_minutes": 30, "business": False}
    assert check(wall, at=T0 + dt.timedelta(minutes=29))[0]
    assert not check(wall, at=T0 + dt.timedelta(minutes=30))[0]
    held, detail, _ = check({"op": "time_since", "field": "case.solved_at", "more_than_minutes": 1})
    assert not held and detail == "case.solved_at is empty"


def test_rules_without_the_timer_trigger_ask_for_no_recheck() -> None:
    waited = {"op": "time_since", "field": "case.created_at", "more_than_minutes": 240}
    assert engine(rule("r", waited)).evaluate(context()).recheck_at is None


def test_business_hours_at_the_time_of_the_event() -> None:
    inside = {"op": "business_hours", "inside": True}
    assert check(inside)[0]
    saturday = T0 + dt.timedelta(days=5)
    held, detail, _ = check(inside, at=saturday)
    assert not held and "outside business hours" in detail
    assert check({"op": "business_hours", "inside": False}, at=saturday)[0]
    result = engine(rule("r", inside, triggers=["timer"])).evaluate(context(RuleTrigger.TIMER, at=saturday))
    assert result.recheck_at == T0 + dt.timedelta(days=7, hours=-1)  # Monday 09:00 Berlin


def test_the_deciding_condition_is_named_by_its_path() -> None:
    condition = {"op": "all", "conditions": [
        {"op": "equals", "field": "case.channel", "value": "email"},
        {"op": "any", "conditions": [
            {"op": "equals", "field": "case.priority", "value": "urgent"},
            {"op": "not", "condition": {"op": "in", "field": "case.tags", "values": ["vip"]}},
        ]},
    ]}
    held, detail, decided_by = check(condition)
    assert held and decided_by == "when" and detail == "all 2 conditions held"
    held, detail, decided_by = check(condition["conditions"][1])
    assert held and decided_by == "when.any[1].not" and detail.startswith("not (case.tags has none of")
    held, detail, decided_by = check(condition, case=case(tags=["vip"]))
    assert not held and decided_by == "when.all[1]" and detail == "none of 2 conditions held"
    held, _, decided_by = check({"op": "all", "conditions": []})
    assert held and decided_by == "when"


# --- the engine ----------------------------------------------------------------------------------------------
def test_rules_run_in_order_and_stop_ends_the_run() -> None:
    result = engine(
        rule("first", {"op": "equals", "field": "case.channel", "value": "email"}),
        rule("second-not-matching", {"op": "equals", "field": "case.priority", "value": "urgent"}, stop=True),
        rule("third-stops", None, stop=True),
        rule("fourth-skipped"),
    ).evaluate(context())
    assert [a.rule_id for a in result.actions] == ["first", "third-stops"]
    assert result.stopped_by == "third-stops"
    assert [(t.rule_id, t.outcome) for t in result.traces] == [
        ("first", RuleOutcome.MATCHED), ("second-not-matching", RuleOutcome.NOT_MATCHED),
        ("third-stops", RuleOutcome.MATCHED), ("fourth-skipped", RuleOutcome.SKIPPED)]
    assert result.trace("fourth-skipped").detail == "rule 'third-stops' stopped the run"


def test_disabled_and_untriggered_rules_are_explained() -> None:
    result = engine(rule("off", enabled=False), rule("breach-only", triggers=["sla_breach"])).evaluate(context())
    assert result.actions == []
    assert result.trace("off").outcome == RuleOutcome.DISABLED
    assert result.trace("breach-only").outcome == RuleOutcome.NOT_TRIGGERED
    assert result.trace("breach-only").detail == "listens to sla_breach"


def test_later_rules_see_what_earlier_rules_set() -> None:
    result = engine(
        rule("route", actions=[{"type": "set_team", "team": "billing"}, {"type": "set_priority", "priority": "low"}]),
        rule("after-route", {"op": "equals", "field": "case.team_id", "value": BILLING.id},
             actions=[{"type": "set_priority", "priority": "high"}, {"type": "add_tags", "tags": ["routed"]},
                      {"type": "set_category", "category": "invoices"}]),
        rule("untag", {"op": "in", "field": "case.tags", "values": ["routed"]},
             actions=[{"type": "remove_tags", "tags": ["routed"]},
                      {"type": "set_assignee", "agent_id": ulid(1, "01A")}]),
    ).evaluate(context(case=case(tags=["new-customer"])))
    assert [t.outcome for t in result.traces] == [RuleOutcome.MATCHED] * 3
    assert result.actions[0].team_id == BILLING.id  # the name was resolved, case-insensitively
    # "routed" was added and removed again: the tags did not change in the end.
    assert result.case_changes == {"team_id": BILLING.id, "priority": Priority.HIGH, "category": "invoices",
                                   "assignee_id": ulid(1, "01A")}


def test_an_unknown_team_is_reported_not_guessed() -> None:
    result = engine(rule("route", actions=[{"type": "set_team", "team": "Legal"}])).evaluate(context())
    assert result.actions[0].team_id is None and result.actions[0].note == "no team called 'Legal'"
    assert result.case_changes == {}


def test_templates_notifications_and_escalations_are_resolved() -> None:
    on_billing = case(team_id=BILLING.id, assignee_id=ulid(1, "01A"), priority=Priority.LOW)
    result = engine(rule("all", actions=[
        {"type": "send_reply", "template": "Hello {{customer.name}}, case #{{case.number}} ({{case.category}})"},
        {"type": "add_note", "text": "Opened via {{case.channel}}"},
        {"type": "notify", "recipients": ["assignee", "team", ulid(7, "01A")], "message": "{{case.subject}}"},
        {"type": "escalate", "to": "team_manager", "priority": "urgent", "reason": "waited too long"},
        {"type": "escalate", "to": "team_manager", "priority": "normal"},
        {"type": "call_webhook", "url": "https://hooks.example.com/caseline"},
    ])).evaluate(context(case=on_billing, customer=customer()))
    reply, note, notify, escalate, softer, webhook = result.actions
    assert reply.text == "Hello Grace Hopper, case #1001 ()"
    assert note.text == "Opened via email"
    assert notify.agent_ids == [ulid(1, "01A"), ulid(2, "01A"), ulid(7, "01A")]
    assert notify.text == "Where is my order?"
    assert escalate.agent_ids == [BILLING.manager_id] and escalate.text == "waited too long"
    assert softer.agent_ids == [BILLING.manager_id]
    assert result.case_changes == {"priority": Priority.URGENT}  # escalation never lowers a priority
    assert webhook.team_id == BILLING.id


def test_escalating_without_a_manager_says_so() -> None:
    result = engine(rule("esc", actions=[{"type": "escalate", "to": "team_manager"}])).evaluate(
        context(case=case(team_id=SUPPORT.id)))
    assert result.actions[0].agent_ids == [] and result.actions[0].note == "nobody to reach as team_manager"


# --- shipped defaults ------------------------------------------------------------------------------------------
def defaults() -> RuleEngine:
    return RuleEngine(default_rules(), calendar=OFFICE, teams=[BILLING, SUPPORT])


def test_default_billing_rule_routes_to_billing() -> None:
    result = defaults().evaluate(context(interaction=inbound("Hi, I have a question about billing.")))
    assert result.trace("billing-to-billing-team").outcome == RuleOutcome.MATCHED
    assert result.trace("billing-to-billing-team").decided_by == "when.any[1]"
    assert result.case_changes["team_id"] == BILLING.id
    assert defaults().evaluate(context(interaction=inbound("rebilling"))).case_changes == {}


def test_default_big_spender_rule_raises_priority() -> None:
    rich = CustomerFacts(spend_this_year=Money(amount="72000", currency="USD"))
    result = defaults().evaluate(context(customer=customer(), customer_facts=rich))
    assert result.case_changes["priority"] == Priority.HIGH
    urgent = defaults().evaluate(context(case=case(priority=Priority.URGENT), customer_facts=rich))
    assert "priority" not in urgent.case_changes
    euros = CustomerFacts(spend_this_year=Money(amount="72000", currency="EUR"))
    assert defaults().evaluate(context(customer_facts=euros)).trace("big-spender-high-priority").decided_by == \
        "when.all[0]"


def test_default_escalation_waits_four_business_hours_then_escalates_once() -> None:
    history = CaseSlaHistory(opened_at=T0, priority=Priority.NORMAL, channel="email")
    opened = context(case=case(team_id=BILLING.id), case_facts=CaseFacts.from_history(history))
    first = defaults().evaluate(opened)
    assert first.actions == []
    assert first.recheck_at == T0 + 4 * H + dt.timedelta(microseconds=1)
    timer = opened.model_copy(update={"event": RuleEvent(trigger=RuleTrigger.TIMER, at=first.recheck_at)})
    fired = defaults().evaluate(timer)
    assert [a.action.type for a in fired.actions] == ["escalate", "add_tags", "notify"]
    assert fired.actions[0].agent_ids == [BILLING.manager_id]
    assert fired.actions[2].text == 'Case #1001 "Where is my order?" has waited 4 business hours for an agent.'
    # Once tagged, it does not fire again; an agent reply clears the wait altogether.
    tagged = timer.model_copy(update={"case": case(team_id=BILLING.id, tags=["escalated"])})
    assert defaults().evaluate(tagged).actions == []
    replied = history.model_copy(update={"events": [SlaEvent(at=T0 + H, kind=SlaEventKind.AGENT_REPLY)]})
    answered = timer.model_copy(update={"case_facts": CaseFacts.from_history(replied)})
    assert defaults().evaluate(answered).trace("no-agent-response-escalate").detail == \
        "case.awaiting_agent_since is empty"


# --- a property: order and stop, against a reference --------------------------------------------------------
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["low", "normal", "high", "urgent", None]), st.booleans(), st.booleans()),
                max_size=12),
       st.sampled_from(list(Priority)))
def test_actions_come_from_matching_rules_in_order_up_to_the_first_stop(
        specs: list[tuple[str | None, bool, bool]], priority: Priority) -> None:
    rules = [rule(f"r{n}", {"op": "equals", "field": "case.priority", "value": wanted} if wanted else None,
                  stop=stop, enabled=enabled) for n, (wanted, stop, enabled) in enumerate(specs)]
    expected = []
    for n, (wanted, stop, enabled) in enumerate(specs):
        if enabled and (wanted is None or wanted == priority.value):
            expected.append(f"r{n}")
            if stop:
                break
    result = engine(*rules).evaluate(context(case=case(priority=priority)))
    assert [a.rule_id for a in result.actions] == expected
    assert len(result.traces) == len(specs)
