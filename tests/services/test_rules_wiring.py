"""The stored rules at work on both storage adapters: events in, case changes, notes, webhooks and explanations out.

Events are handed to the rules consumer the way the dispatcher (or EventBridge) would, at least once; the
recheck timer is fired by reading it back from the scheduler once the clock has reached it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from caseline import bootstrap, timers
from caseline.adapters.aws.aws_scheduler import AwsScheduler
from caseline.automation.calendar import BusinessCalendar, Weekday, WorkingInterval
from caseline.automation.rules import Rule
from caseline.consumers.rules import rules_consumer
from caseline.domain.events import CaseSlaBreach, EventEnvelope, envelope
from caseline.domain.interaction import Visibility
from caseline.domain.timeline import TimelineKind
from caseline.ports.clock import FixedClock, UlidIds
from caseline.ports.webhooks import WebhookResult
from caseline.services import rules as service
from caseline.services.cases import get_case, open_case, update_case
from caseline.services.commands import CustomerRef, OpenCase, RecordTimelineEvent, UpdateCase
from caseline.services.customers import record_external_event
from caseline.services.rule_runner import RECHECK
from caseline.services.sla_config import TeamCalendar, put_calendar
from caseline.settings import AdapterSet

from ..conftest import World


class RecordingWebhooks:
    """Stands in for the HTTP sender: keeps what would have been posted."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, url: str, payload: dict[str, Any], *, delivery_id: str, event_type: str) -> WebhookResult:
        self.sent.append({"url": url, "payload": payload, "delivery_id": delivery_id, "event_type": event_type})
        return WebhookResult(status=204, delivered=True)


class RecordingMail:
    """Stands in for the mail sender: keeps what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, message: Any) -> str:
        self.sent.append(message)
        return f"local-{len(self.sent)}"


@dataclass
class Desk:
    platform: bootstrap.Platform
    world: World
    clock: FixedClock
    delivered: set[str] = field(default_factory=set)

    @property
    def deps(self):
        return self.platform.deps

    @property
    def admin(self):
        return self.world.staff(self.world.admin)

    def outbox(self) -> list[EventEnvelope]:
        items = [i for i in self.platform.table.scan() if i.get("entity") == "outbox"]
        return sorted((EventEnvelope.model_validate_json(i["data"]) for i in items), key=lambda e: e.id)

    def deliver(self, *, again: bool = False) -> None:
        """Hand every new event (or, `again`, every event so far once more) to the rules consumer."""
        while True:
            pending = [e for e in self.outbox() if again or e.id not in self.delivered]
            if not pending:
                return
            again = False
            for event in pending:
                self.delivered.add(event.id)
                if rules_consumer.wants(event):
                    rules_consumer.handle(self.deps, event)

    def open(self, subject: str = "Printer on fire", text: str = "It is on fire.", customer_id: str | None = None,
             **fields):
        case = open_case(self.deps, self.world.staff(self.world.agent), OpenCase(
            channel="email", subject=subject, text=text,
            requester=CustomerRef(customer_id=customer_id or self.world.alice_id), **fields))
        self.deliver()
        return self.deps.store.get_case(case.id)

    def paid(self, customer_id: str, amount: str, when: datetime) -> None:
        record_external_event(self.deps, self.admin, RecordTimelineEvent(
            customer=CustomerRef(customer_id=customer_id), kind=TimelineKind.PAYMENT, source="billing",
            external_id=f"pay-{when.isoformat()}-{amount}", occurred_at=when, summary=f"Payment of {amount}",
            payload={"status": "succeeded", "amount": amount}))

    def rule(self, **fields) -> Rule:
        rule = Rule.model_validate({"triggers": ["case_opened"], **fields})
        service.create_rule(self.deps, self.admin, rule)
        return rule

    def evaluations(self, case_id: str) -> list[dict]:
        trail = self.deps.store.audit_trail("case", case_id, limit=200, cursor=None).items
        return [r.changes["rules"].after for r in trail if r.action == "rules.evaluated"]

    def trail(self, case_id: str) -> list:
        return self.deps.store.audit_trail("case", case_id, limit=200, cursor=None).items

    def notes(self, case_id: str) -> list:
        detail = get_case(self.deps, self.admin, case_id, limit=200, cursor=None)
        return [i for i in detail.interactions.items if i.visibility is Visibility.INTERNAL]


@pytest.fixture
def desk(platform: bootstrap.Platform, world: World, clock: FixedClock) -> Desk:
    if platform.settings.adapters is AdapterSet.AWS:
        # EventBridge Scheduler (moto) needs a group and a target; the tests fire timers themselves.
        client = boto3.client("scheduler", region_name=platform.settings.region)
        client.create_schedule_group(Name="caseline")
        platform.deps.scheduler = AwsScheduler(
            platform.deps.scheduler.records, state_machine_arn="", group_name="caseline", scheduler=client,
            target_arn="arn:aws:lambda:eu-west-1:123456789012:function:timers",
            role_arn="arn:aws:iam::123456789012:role/caseline-scheduler")
    return Desk(platform, world, clock)


@pytest.fixture
def defaults(desk: Desk) -> Desk:
    assert service.install_defaults(desk.deps) == 3
    return desk


def test_a_case_mentioning_billing_lands_in_the_billing_team_with_the_rule_on_its_audit_trail(defaults: Desk) -> None:
    case = defaults.open(subject="Question about billing", text="Where is my money?")
    assert case.team_id == defaults.world.billing.id
    assert "billing" in case.tags

    [evaluation] = defaults.evaluations(case.id)
    assert evaluation["matched"] == ["billing-to-billing-team"]
    billing = next(r for r in evaluation["rules"] if r["rule_id"] == "billing-to-billing-team")
    assert billing["decided_by"] == "when.any[0]"
    assert billing["detail"] == "case.subject mentions 'billing'"
    spender = next(r for r in evaluation["rules"] if r["rule_id"] == "big-spender-high-priority")
    assert spender["outcome"] == "not_matched"
    assert evaluation["case_changes"] == {"team_id": defaults.world.billing.id, "tags": ["billing"]}
    changes = [r for r in defaults.trail(case.id) if r.actor_id == "rules" and r.action != "rules.evaluated"]
    assert {r.action for r in changes} == {"case.updated", "case.assigned"}


def test_a_case_about_something_else_stays_where_it_was(defaults: Desk) -> None:
    case = defaults.open(subject="Printer on fire", text="Smoke everywhere")
    assert case.team_id is None
    [evaluation] = defaults.evaluations(case.id)
    assert evaluation["matched"] == []
    assert evaluation["case_changes"] == {}


def test_a_customer_who_spent_more_than_50000_this_year_gets_high_priority(defaults: Desk, clock: FixedClock) -> None:
    alice, bob = defaults.world.alice_id, defaults.world.bob_id
    defaults.paid(alice, "30000.00 USD", clock.now() - timedelta(days=40))
    defaults.paid(alice, "25000.50 USD", clock.now() - timedelta(days=3))
    defaults.paid(bob, "90000.00 USD", datetime(clock.now().year - 1, 12, 20, tzinfo=UTC))  # last year
    defaults.paid(bob, "100.00 USD", clock.now() - timedelta(days=1))

    big = defaults.open(customer_id=alice, priority="normal")
    assert big.priority == "high"
    assert "key-account" in big.tags
    small = defaults.open(customer_id=bob, priority="normal")
    assert small.priority == "normal"
    detail = next(r for r in defaults.evaluations(small.id)[0]["rules"] if r["rule_id"] == "big-spender-high-priority")
    assert detail["detail"] == "customer.spend_this_year.amount is 100.00 <= 50000"


def test_rules_run_in_order_and_stop_ends_the_run(desk: Desk) -> None:
    desk.rule(id="urgent-outage", name="Outages are urgent", stop=True,
              when={"op": "contains_any", "field": "case.subject", "keywords": ["outage"]},
              actions=[{"type": "set_priority", "priority": "urgent"}])
    desk.rule(id="tag-everything", name="Tag every new case", actions=[{"type": "add_tags", "tags": ["seen"]}])

    stopped = desk.open(subject="Total outage")
    assert stopped.priority == "urgent"
    assert "seen" not in stopped.tags
    [evaluation] = desk.evaluations(stopped.id)
    assert evaluation["stopped_by"] == "urgent-outage"
    assert [r["outcome"] for r in evaluation["rules"]] == ["matched", "skipped"]

    listing = service.list_rules(desk.deps, desk.admin)
    service.reorder_rules(desk.deps, desk.admin, service.Reorder(ids=["tag-everything", "urgent-outage"]),
                          expected_version=listing.version)
    both = desk.open(subject="Another outage")
    assert both.priority == "urgent"
    assert "seen" in both.tags

    service.set_rule_enabled(desk.deps, desk.admin, "tag-everything", False)
    untagged = desk.open(subject="Outage again")
    assert "seen" not in untagged.tags
    assert desk.evaluations(untagged.id)[0]["rules"][0]["outcome"] == "disabled"


def test_a_redelivered_event_changes_nothing_twice(desk: Desk) -> None:
    webhooks = RecordingWebhooks()
    desk.deps.webhooks = webhooks
    desk.rule(id="welcome", name="Welcome note, reply and webhook", actions=[
        {"type": "add_note", "text": "New case #{{case.number}} from {{customer.name}}"},
        {"type": "send_reply", "template": "Hello {{customer.name}}, we have your case #{{case.number}}."},
        {"type": "call_webhook", "url": "https://hooks.example.com/caseline"},
        {"type": "add_tags", "tags": ["welcomed"]},
    ])
    case = desk.open()
    notes_before = desk.notes(case.id)
    trail_before = desk.trail(case.id)
    assert [n.text for n in notes_before] == [f"New case #{case.number} from Alice Example"]
    assert len(webhooks.sent) == 1
    sent = webhooks.sent[0]
    assert sent["url"] == "https://hooks.example.com/caseline"
    assert sent["payload"]["case"]["id"] == case.id and sent["payload"]["rule_id"] == "welcome"
    assert sent["delivery_id"].endswith(":welcome:2")

    desk.deliver(again=True)
    desk.deliver(again=True)

    assert len(desk.notes(case.id)) == len(notes_before)
    assert len(webhooks.sent) == 1
    assert len(desk.trail(case.id)) == len(trail_before)
    assert len(desk.evaluations(case.id)) == 1
    actions = desk.evaluations(case.id)[0]["actions"]
    assert [(a["type"], a["result"]) for a in actions] == [
        ("add_note", "note added"), ("send_reply", "reply sent"), ("call_webhook", "delivered")]
    detail = get_case(desk.deps, desk.admin, case.id, limit=50, cursor=None)
    replies = [i for i in detail.interactions.items if i.visibility is Visibility.PUBLIC and i.author.id == "rules"]
    assert [r.text for r in replies] == [f"Hello Alice Example, we have your case #{case.number}."]


def test_no_agent_response_in_four_business_hours_escalates_to_the_manager_once(defaults: Desk,
                                                                                clock: FixedClock) -> None:
    world = defaults.world
    uow = defaults.deps.store.begin()
    uow.put_team(world.billing.model_copy(update={"manager_id": world.supervisor.id}))
    uow.commit()
    mailed = RecordingMail()
    defaults.deps.mail = lambda: mailed
    case = defaults.open(subject="Billing is broken")  # Monday 09:00 UTC, lands in Billing
    scheduled = defaults.deps.scheduler.get(RECHECK, case.id)
    assert scheduled is not None
    assert scheduled.due_at == datetime(2026, 11, 2, 13, 0, 0, 1, tzinfo=UTC)  # 4 business hours, just past

    clock.set(scheduled.due_at + timedelta(minutes=1))
    timers.dispatch(defaults.deps, scheduled.timer)
    defaults.deliver()
    escalated = defaults.deps.store.get_case(case.id)
    assert "escalated" in escalated.tags
    notes = [n.text for n in defaults.notes(case.id)]
    assert any(text.startswith("Escalated to @sue") for text in notes)
    assert any(text.startswith("@sue Case #") for text in notes)
    timer_run = defaults.evaluations(case.id)[-1]
    assert timer_run["event"]["trigger"] == "timer"
    assert timer_run["matched"] == ["no-agent-response-escalate"]
    notify = next(a for a in timer_run["actions"] if a["type"] == "notify")
    assert notify["recipients"] == [world.supervisor.id] and notify["result"] == "notified"
    assert notify["emailed"] == {world.supervisor.id: "sent"}
    emails = [m for m in mailed.sent if m.recipients == (world.supervisor.email,)]
    assert len(emails) == 2  # the escalation and the notification, each also an @mention note
    for email in emails:
        assert f"[#{case.number}]" in email.subject and b"Auto-Submitted: auto-generated" in email.raw
        assert email.case_id == case.id

    timers.dispatch(defaults.deps, scheduled.timer)  # the scheduler delivers at least once
    assert len([n for n in defaults.notes(case.id) if n.text.startswith("Escalated")]) == 1


def test_business_hours_come_from_the_team_calendar_the_sla_clocks_use(defaults: Desk) -> None:
    """Billing works 10:00-12:00 on weekdays: four business hours from Monday 09:00 end Tuesday noon."""
    short_days = BusinessCalendar(name="Billing mornings", weekly_hours={
        day: [WorkingInterval(start="10:00", end="12:00")]
        for day in (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)})
    put_calendar(defaults.deps, defaults.admin, defaults.world.billing.id, TeamCalendar(calendar=short_days),
                 expected_version=None)
    case = defaults.open(subject="Billing is broken")  # Monday 09:00 UTC, lands in Billing
    scheduled = defaults.deps.scheduler.get(RECHECK, case.id)
    assert scheduled is not None
    assert scheduled.due_at == datetime(2026, 11, 3, 12, 0, 0, 1, tzinfo=UTC)


def test_a_dry_run_explains_and_changes_nothing(defaults: Desk) -> None:
    case = defaults.open(subject="Printer on fire")
    trail = defaults.trail(case.id)
    run = service.dry_run(defaults.deps, defaults.world.staff(defaults.world.supervisor), "billing-to-billing-team",
                          service.DryRunRequest(case_id=case.id))
    assert run.matched is False
    assert (run.explanation.decided_by, run.explanation.detail) == ("when", "none of 2 conditions held")
    assert defaults.deps.store.get_case(case.id) == case
    assert defaults.trail(case.id) == trail


def test_sla_breaches_and_status_changes_reach_the_rules_with_what_they_carry(desk: Desk, clock: FixedClock) -> None:
    desk.rule(id="breach-urgent", name="Breached first response is urgent", triggers=["sla_breach"],
              when={"op": "equals", "field": "event.sla_metric", "value": "first_response"},
              actions=[{"type": "escalate", "to": "assignee", "priority": "urgent", "reason": "SLA breached"}])
    desk.rule(id="pending-tag", name="Tag cases put on pending", triggers=["status_changed"],
              when={"op": "changed_to", "field": "case.status", "value": "pending"},
              actions=[{"type": "add_tags", "tags": ["waiting-on-customer"]}])
    case = desk.open()
    breach = envelope(CaseSlaBreach(case_id=case.id, target="first_response", policy_id="default",
                                    at=clock.now()), event_id=UlidIds().new(), source="caseline", time=clock.now(),
                      subject=case.id, correlation_id="sla")
    rules_consumer.handle(desk.deps, breach)
    breached = desk.deps.store.get_case(case.id)
    assert breached.priority == "urgent"
    escalation = desk.evaluations(case.id)[-1]
    assert escalation["event"]["trigger"] == "sla_breach"
    assert escalation["actions"][0]["result"] == "nobody to notify"  # nobody is assigned yet
    assert escalation["actions"][0]["note"] == "nobody to reach as assignee"

    update_case(desk.deps, desk.admin, case.id, UpdateCase(status="pending"), expected_version=breached.version)
    desk.deliver()
    assert "waiting-on-customer" in desk.deps.store.get_case(case.id).tags
    assert desk.evaluations(case.id)[-1]["rules"][1]["detail"] == "case.status went from 'new' to 'pending'"
