"""Skills-based routing end to end through its consumers and timers, on both storage adapters.

Events are handed to the two routing consumers the way the dispatcher (or EventBridge) would, at least once;
timers are fired by reading them back from the scheduler once the clock has reached them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import boto3
import pytest
from caseline import bootstrap, timers
from caseline.adapters.aws.aws_scheduler import AwsScheduler
from caseline.automation.routing import OverflowRule, RoutingPolicy, TierRoute
from caseline.consumers.routing import routing_decisions, routing_pool
from caseline.domain.agents import Agent, Availability, Team
from caseline.domain.auth import Principal, Role
from caseline.domain.customer import CustomerTier
from caseline.domain.errors import Forbidden, RuleViolation, VersionConflict
from caseline.domain.events import EventEnvelope
from caseline.domain.timeline import TimelineKind
from caseline.ports.clock import FixedClock, UlidIds
from caseline.services import routing, staff
from caseline.services.cases import assign_case, open_case, update_case
from caseline.services.commands import (
    AssignCase,
    CreateCustomer,
    CustomerRef,
    OpenCase,
    SetAvailability,
    UpdateCase,
)
from caseline.services.context import Request
from caseline.services.customers import create_customer
from caseline.settings import AdapterSet

_handles = itertools.count()
ADMIN = Request(principal=Principal(subject="admin", role=Role.ADMIN, name="Admin"), request_id="req-admin")


@dataclass
class Desk:
    platform: bootstrap.Platform
    clock: FixedClock
    delivered: set[str] = field(default_factory=set)

    @property
    def deps(self):
        return self.platform.deps

    def team(self, name: str) -> Team:
        team = Team(id=UlidIds().new(), name=name)
        uow = self.deps.store.begin()
        uow.put_team(team)
        uow.commit()
        return team

    def agent(self, team: Team, *, skills: Iterable[str] = (), languages: Iterable[str] = ("en",),
              online: bool = True, capacity: int = 10) -> Agent:
        n = next(_handles)
        agent = Agent(id=UlidIds().new(), name=f"Agent {n}", email=f"agent{n}@caseline.dev", handle=f"agent{n}",
                      skills=list(skills), languages=list(languages), team_ids=[team.id], capacity=capacity,
                      availability=Availability.ONLINE if online else Availability.OFFLINE)
        uow = self.deps.store.begin()
        uow.put_agent(agent)
        uow.commit()
        return agent

    def customer(self, tier: CustomerTier = CustomerTier.STANDARD) -> str:
        n = next(_handles)
        return create_customer(self.deps, ADMIN, CreateCustomer(name=f"Customer {n}", emails=[f"c{n}@example.com"],
                                                                tier=tier)).id

    def policy(self, **fields) -> None:
        routing.put_policy(self.deps, ADMIN, routing.RoutingSettings(policy=RoutingPolicy(**fields)),
                           expected_version=None if routing.current_policy(self.deps).version == 0
                           else routing.current_policy(self.deps).version)

    def open(self, team: Team, *, category: str | None = "billing", language: str = "en",
             customer_id: str | None = None) -> str:
        case = open_case(self.deps, ADMIN, OpenCase(
            channel="email", subject="Help", text="Please help", team_id=team.id, category=category,
            language=language, requester=CustomerRef(customer_id=customer_id or self.customer())))
        self.deliver()
        return case.id

    def outbox(self) -> list[EventEnvelope]:
        items = [i for i in self.platform.table.scan() if i.get("entity") == "outbox"]
        return sorted((EventEnvelope.model_validate_json(i["data"]) for i in items), key=lambda e: e.id)

    def deliver(self, *, again: bool = False) -> None:
        """Hand every new event (or, `again`, every event ever) to the routing consumers until none is left."""
        while True:
            pending = [e for e in self.outbox() if again or e.id not in self.delivered]
            if not pending:
                return
            for event in pending:
                self.delivered.add(event.id)
                for consumer in (routing_pool, routing_decisions):
                    if consumer.wants(event):
                        consumer.handle(self.deps, event)
            if again:
                again = False

    def fire(self, kind: str, subject: str) -> bool:
        """Fire the timer if the clock has reached it; True if it fired."""
        scheduler = self.deps.scheduler
        scheduled = scheduler.get(kind, subject)
        if scheduled is None or scheduled.due_at > self.clock.now():
            return False
        scheduler.cancel(kind, subject)
        timers.dispatch(self.deps, scheduled.timer)
        self.deliver()
        return True

    def case(self, case_id: str):
        return self.deps.store.get_case(case_id)

    def decisions(self, case_id: str) -> list:
        trail = self.deps.store.audit_trail("case", case_id, limit=100, cursor=None).items
        return [r for r in trail if r.action == "routing.decided"]

    def load(self, agent: Agent) -> int:
        found = routing.routing_store(self.deps).load(agent.id)
        return found.open_cases if found else 0

    def supervisor_assign(self, case_id: str, agent: Agent | None) -> None:
        assign_case(self.deps, ADMIN, case_id, AssignCase(assignee_id=agent.id if agent else None))
        self.deliver()

    def solve(self, case_id: str) -> None:
        case = self.case(case_id)
        update_case(self.deps, ADMIN, case_id, UpdateCase(status="solved"), expected_version=case.version)
        self.deliver()


@pytest.fixture
def desk(platform: bootstrap.Platform, clock: FixedClock) -> Desk:
    if platform.settings.adapters is AdapterSet.AWS:
        # EventBridge Scheduler (moto) needs a group and a target; the timers still fire through `Desk.fire`.
        client = boto3.client("scheduler", region_name=platform.settings.region)
        client.create_schedule_group(Name="caseline")
        platform.deps.scheduler = AwsScheduler(
            platform.deps.scheduler.records, state_machine_arn="", group_name="caseline", scheduler=client,
            target_arn="arn:aws:lambda:eu-west-1:123456789012:function:timers",
            role_arn="arn:aws:iam::123456789012:role/caseline-scheduler")
    return Desk(platform, clock)


def test_routing_is_off_until_a_policy_is_saved(desk: Desk) -> None:
    team = desk.team("Billing")
    desk.agent(team, skills=["billing"])
    case_id = desk.open(team)
    assert desk.case(case_id).assignee_id is None
    assert desk.case(case_id).version == 1  # the pool counted it without touching the case
    assert desk.decisions(case_id) == []


def test_a_new_case_goes_to_the_eligible_agent_with_the_fewest_open_cases(desk: Desk) -> None:
    team = desk.team("Billing")
    busy = desk.agent(team, skills=["billing"])
    free = desk.agent(team, skills=["Billing"])
    desk.agent(team, skills=["billing"], online=False)
    desk.agent(team)  # no skill
    desk.agent(team, skills=["billing"], languages=["de"])
    desk.agent(team, skills=["billing"], capacity=0)
    for _ in range(2):
        desk.supervisor_assign(desk.open(team), busy)
    assert desk.load(busy) == 2

    desk.policy(category_skills={"billing": "billing"}, round_robin_fallback=False)
    case_id = desk.open(team)

    case = desk.case(case_id)
    assert case.assignee_id == free.id
    assert desk.load(free) == 1
    [decision] = desk.decisions(case_id)
    assert decision.actor_id == "system"
    assert decision.changes["assignee_id"].after == free.id
    reasons = decision.changes["reasons"].after
    assert "category billing needs skill billing" in reasons
    assert any("1 not online" in r and "1 without skill billing" in r and "1 not speaking en" in r
               and "1 at capacity" in r for r in reasons)
    timeline = desk.deps.store.timeline(case.requester_id, limit=20, kind=TimelineKind.CASE_EVENT.value).items
    [entry] = [e for e in timeline if e.payload.get("routing", {}).get("agent_id") == free.id]
    assert entry.summary == f"#{case.number} routed to {free.name} by skills"


def test_ties_go_to_the_agent_idle_the_longest(desk: Desk) -> None:
    team = desk.team("Billing")
    first, second = desk.agent(team, skills=["billing"]), desk.agent(team, skills=["billing"])
    earlier, later = desk.open(team), desk.open(team)
    desk.supervisor_assign(later, second)  # the ids sort `first` < `second`: idle time must decide, not the id
    desk.clock.advance(minutes=5)
    desk.supervisor_assign(earlier, first)
    desk.solve(earlier)
    desk.solve(later)
    assert desk.load(first) == desk.load(second) == 0

    desk.policy(category_skills={"billing": "billing"})
    case_id = desk.open(team)
    assert desk.case(case_id).assignee_id == second.id


def test_round_robin_when_nobody_has_the_skill_takes_turns_across_decisions(desk: Desk) -> None:
    team = desk.team("Support")
    agents = sorted((desk.agent(team), desk.agent(team), desk.agent(team)), key=lambda a: a.id)
    desk.policy(category_skills={"billing": "billing"}, round_robin_fallback=True)
    picks = []
    for _ in range(4):
        case_id = desk.open(team)
        picks.append(desk.case(case_id).assignee_id)
        desk.solve(case_id)  # keep every load at 0, so only the turn decides
    assert picks == [agents[0].id, agents[1].id, agents[2].id, agents[0].id]
    [decision] = desk.decisions(case_id)
    assert decision.changes["method"].after == "round_robin"


def test_vip_customers_go_to_the_vip_desk(desk: Desk) -> None:
    team, vip_desk = desk.team("Support"), desk.team("VIP desk")
    desk.agent(team, skills=["billing"])
    concierge = desk.agent(vip_desk, skills=["billing"])
    desk.supervisor_assign(desk.open(vip_desk), concierge)  # busier than the normal agent
    desk.policy(category_skills={"billing": "billing"}, tier_routes=[TierRoute(tier="vip", team_id=vip_desk.id)])

    case_id = desk.open(team, customer_id=desk.customer(CustomerTier.VIP))
    case = desk.case(case_id)
    assert (case.assignee_id, case.team_id) == (concierge.id, vip_desk.id)
    assert any("vip route" in r for r in desk.decisions(case_id)[0].changes["reasons"].after)


def test_a_case_nobody_can_take_overflows_after_the_configured_minutes(desk: Desk) -> None:
    team, overflow = desk.team("Night shift"), desk.team("Overflow")
    desk.agent(team, skills=["billing"], online=False)
    helper = desk.agent(overflow, skills=["billing"])
    desk.policy(category_skills={"billing": "billing"},
                overflow=[OverflowRule(from_team_id=team.id, to_team_id=overflow.id, after_minutes=30)])

    opened_at = desk.clock.now()
    case_id = desk.open(team)
    assert desk.case(case_id).assignee_id is None
    [queued] = desk.decisions(case_id)
    assert queued.changes["outcome"].after == "queued"
    timer = desk.deps.scheduler.get(routing.OVERFLOW_TIMER, case_id)
    assert timer is not None and timer.due_at == opened_at + timedelta(minutes=30)

    desk.clock.advance(minutes=29)
    assert not desk.fire(routing.OVERFLOW_TIMER, case_id)
    desk.clock.advance(minutes=1)
    assert desk.fire(routing.OVERFLOW_TIMER, case_id)

    case = desk.case(case_id)
    assert (case.assignee_id, case.team_id) == (helper.id, overflow.id)
    decisions = desk.decisions(case_id)
    assert [d.changes["outcome"].after for d in decisions] == ["queued", "overflowed"]
    assert decisions[-1].changes["trigger"].after == "overflow_timer"


def test_an_agent_who_goes_offline_has_their_cases_rerouted_after_the_grace_period(desk: Desk) -> None:
    team = desk.team("Billing")
    leaving = desk.agent(team, skills=["billing"])
    staying = desk.agent(team, skills=["billing"])
    held = [desk.open(team), desk.open(team)]
    for case_id in held:
        desk.supervisor_assign(case_id, leaving)
    desk.policy(category_skills={"billing": "billing"}, offline_grace_minutes=10)

    staff.set_availability(desk.deps, ADMIN, leaving.id, SetAvailability(availability="offline"))
    desk.deliver()
    desk.clock.advance(minutes=9)
    assert not desk.fire(routing.REROUTE_TIMER, leaving.id)
    desk.clock.advance(minutes=1)
    assert desk.fire(routing.REROUTE_TIMER, leaving.id)

    assert [desk.case(c).assignee_id for c in held] == [staying.id, staying.id]
    assert (desk.load(leaving), desk.load(staying)) == (0, 2)
    decision = desk.decisions(held[0])[-1]
    assert decision.changes["trigger"].after == "agent_offline"
    assert "no longer online" in decision.changes["reasons"].after[0]


def test_an_agent_back_within_the_grace_period_keeps_their_cases(desk: Desk) -> None:
    team = desk.team("Billing")
    agent = desk.agent(team, skills=["billing"])
    desk.agent(team, skills=["billing"])
    desk.policy(category_skills={"billing": "billing"}, offline_grace_minutes=10)
    case_id = desk.open(team)
    desk.supervisor_assign(case_id, agent)
    staff.set_availability(desk.deps, ADMIN, agent.id, SetAvailability(availability="away"))
    desk.deliver()
    desk.clock.advance(minutes=5)
    staff.set_availability(desk.deps, ADMIN, agent.id, SetAvailability(availability="online"))
    desk.deliver()
    desk.clock.advance(minutes=10)
    assert not desk.fire(routing.REROUTE_TIMER, agent.id)  # cancelled when they came back
    assert desk.case(case_id).assignee_id == agent.id


def test_queued_cases_go_to_an_agent_who_comes_online(desk: Desk) -> None:
    team = desk.team("Billing")
    agent = desk.agent(team, skills=["billing"], online=False, capacity=2)
    desk.policy(category_skills={"billing": "billing"})
    waiting = [desk.open(team) for _ in range(3)]
    assert [desk.case(c).assignee_id for c in waiting] == [None, None, None]

    staff.set_availability(desk.deps, ADMIN, agent.id, SetAvailability(availability="online"))
    desk.deliver()

    assert sorted(desk.case(c).assignee_id or "" for c in waiting) == ["", agent.id, agent.id]  # room for two
    taken = next(c for c in waiting if desk.case(c).assignee_id)
    assert desk.decisions(taken)[-1].changes["trigger"].after == "agent_online"


def test_redelivered_events_neither_count_nor_route_twice(desk: Desk) -> None:
    team = desk.team("Billing")
    agent = desk.agent(team, skills=["billing"])
    desk.policy(category_skills={"billing": "billing"})
    case_ids = [desk.open(team) for _ in range(3)]
    desk.solve(case_ids[0])
    desk.deliver(again=True)
    desk.deliver(again=True)
    assert desk.load(agent) == 2
    assert all(len(desk.decisions(c)) == 1 for c in case_ids)


def test_an_unassigned_case_costs_the_pool_no_write_until_someone_holds_it(desk: Desk) -> None:
    team = desk.team("Billing")
    agent = desk.agent(team)
    case_id = desk.open(team)  # routing is off: the case waits unassigned

    def holders() -> list[dict]:
        return [i for i in desk.platform.table.scan() if i.get("entity") == "case_holder"]

    assert holders() == []
    desk.supervisor_assign(case_id, agent)
    assert desk.load(agent) == 1 and [h["agent_id"] for h in holders()] == [agent.id]
    desk.supervisor_assign(case_id, None)
    desk.deliver(again=True)
    assert desk.load(agent) == 0 and [h["agent_id"] for h in holders()] == [None]


def test_the_policy_is_admin_only_validated_and_versioned(desk: Desk) -> None:
    team = desk.team("Billing")
    supervisor = Request(principal=Principal(subject="s", role=Role.SUPERVISOR, agent_id=UlidIds().new()))
    assert routing.get_policy(desk.deps, supervisor).version == 0
    with pytest.raises(Forbidden):
        routing.put_policy(desk.deps, supervisor, routing.RoutingSettings(), expected_version=None)
    with pytest.raises(RuleViolation):
        routing.put_policy(desk.deps, ADMIN, routing.RoutingSettings(policy=RoutingPolicy(
            overflow=[OverflowRule(from_team_id=team.id, to_team_id=UlidIds().new(), after_minutes=5)])),
            expected_version=None)
    saved = routing.put_policy(desk.deps, ADMIN, routing.RoutingSettings(), expected_version=None)
    assert saved.version == 1
    with pytest.raises(VersionConflict):
        routing.put_policy(desk.deps, ADMIN, routing.RoutingSettings(enabled=False), expected_version=0)
    assert routing.put_policy(desk.deps, ADMIN, routing.RoutingSettings(enabled=False), expected_version=1).version == 2
    trail = desk.deps.store.audit_trail(*routing.POLICY_TARGET, limit=10, cursor=None).items
    assert [r.action for r in trail] == ["routing.policy_changed"] * 2


@pytest.mark.aws
def test_a_decision_reads_by_key_and_query_only(aws, clock: FixedClock, tmp_path) -> None:
    from ..conftest import _dynamodb_platform
    from ..support.aws_calls import count_dynamodb_calls

    platform = _dynamodb_platform(clock)
    bootstrap.use(platform)
    try:
        desk_ = Desk(platform, clock)
        team = desk_.team("Billing")
        agent = desk_.agent(team, skills=["billing"])
        desk_.policy(category_skills={"billing": "billing"})
        case = open_case(desk_.deps, ADMIN, OpenCase(channel="email", subject="Help", text="Hi", team_id=team.id,
                                                    category="billing", requester=CustomerRef(
                                                        customer_id=desk_.customer())))
        with count_dynamodb_calls(platform.table.client) as calls:
            routing.on_case_opened(desk_.deps, case.id)
        assert desk_.case(case.id).assignee_id == agent.id
        assert "Scan" not in calls
        assert set(calls) <= {"GetItem", "Query", "PutItem", "DeleteItem", "TransactWriteItems", "UpdateItem"}
    finally:
        bootstrap.use(None)
