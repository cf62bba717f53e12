"""Routing decisions and rule evaluations per second, on one core, with realistic sizes.

    .venv/bin/python bench/routing.py [--agents 500] [--cases 10000] [--rules 200] [--repeat 3]

Routing: a pool of agents in 10 teams with skills, languages and capacities; every open case is routed
and the decision recorded in the pool (so loads change as the run goes, as they would in production).
Rules: a rule set of keyword, regex, equality, list, number and business-time conditions, evaluated on
case-opened events for generated cases; every rule is looked at on every event (the worst case).
The best of `--repeat` runs is printed. The goal is 2,000 routing decisions per second on a 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "core" / "python"))

from caseline.automation.calendar import BusinessCalendar
from caseline.automation.routing import AgentPool, AgentSnapshot, RoutingCase, RoutingPolicy, route
from caseline.automation.rules import (
    CustomerFacts,
    RuleContext,
    RuleEngine,
    RuleEvent,
    RuleSet,
    RuleTrigger,
    TeamInfo,
)
from caseline.domain.agents import Agent, Availability
from caseline.domain.case import Case, Priority
from caseline.domain.common import Channel, Money
from caseline.domain.customer import CustomerTier
from caseline.domain.interaction import Author, AuthorKind, Direction, Interaction

GOAL_DECISIONS = 2_000
T0 = dt.datetime(2026, 6, 8, 8, 0, tzinfo=dt.UTC)
CATEGORIES = ["billing", "hardware", "shipping", "account", "returns", "api", "mobile", "security"]
LANGUAGES = ["en", "de", "fr", "es", "pt"]
WORDS = [
    "order", "invoice", "refund", "broken", "screen", "login", "password", "delivery", "late", "charge", "card",
    "api", "token", "crash", "app", "account", "locked", "return", "label", "warranty", "billing", "shipment",
]


def ulid(n: int, prefix: str) -> str:
    return f"{prefix}{n:023d}"


def agents(count: int, rng: random.Random) -> list[AgentSnapshot]:
    snapshots = []
    for n in range(count):
        agent = Agent(id=ulid(n, "01A"), name=f"Agent {n}", email=f"a{n}@caseline.dev", handle=f"agent{n}",
                      skills=rng.sample(CATEGORIES, 3), languages=["en", *rng.sample(LANGUAGES[1:], 1)],
                      team_ids=[ulid(n % 10, "01T")], capacity=rng.randint(15, 40),
                      availability=Availability.ONLINE if rng.random() < 0.8 else Availability.OFFLINE)
        snapshots.append(AgentSnapshot(agent=agent, open_cases=rng.randint(0, 5),
                                       last_assigned_at=T0 - dt.timedelta(minutes=rng.randint(0, 600))))
    return snapshots


def cases(count: int, rng: random.Random) -> list[RoutingCase]:
    tiers = [CustomerTier.STANDARD] * 8 + [CustomerTier.PREMIUM, CustomerTier.VIP]
    return [RoutingCase(case_id=ulid(n, "01C"), team_id=ulid(rng.randrange(10), "01T"),
                        category=rng.choice([*CATEGORIES, None]), language=rng.choice(LANGUAGES),
                        priority=rng.choice(list(Priority)), tier=rng.choice(tiers),
                        waiting_since=T0 - dt.timedelta(minutes=rng.randint(0, 30)))
            for n in range(count)]


def bench_routing(agent_count: int, case_count: int, repeat: int) -> float:
    rng = random.Random(7)
    snapshots, work = agents(agent_count, rng), cases(case_count, rng)
    policy = RoutingPolicy(category_skills={c: c for c in CATEGORIES},
                           tier_routes=[{"tier": "vip", "skill": "security"}],
                           overflow=[{"from_team_id": ulid(n, "01T"), "to_team_id": ulid((n + 1) % 10, "01T"),
                                      "after_minutes": 20} for n in range(10)])
    best = 0.0
    outcomes: dict[str, int] = {}
    for _ in range(repeat):
        pool = AgentPool(snapshots)
        started = time.perf_counter()
        for case in work:
            decision = route(case, pool, policy, T0)
            pool.record(decision, T0)
            outcomes[decision.outcome.value] = outcomes.get(decision.outcome.value, 0) + 1
        rate = case_count / (time.perf_counter() - started)
        best = max(best, rate)
    runs = {k: v // repeat for k, v in outcomes.items()}
    print(f"routing: {agent_count} agents, {case_count} open cases: {best:,.0f} decisions/s "
          f"(goal {GOAL_DECISIONS:,}); outcomes per run {runs}")
    return best


def rule_set(count: int, rng: random.Random) -> RuleSet:
    rules = []
    for n in range(count):
        kind = n % 6
        if kind == 0:
            when = {"op": "contains_any", "field": "interaction.text", "keywords": rng.sample(WORDS, 3)}
        elif kind == 1:
            when = {"op": "matches", "field": "case.subject", "pattern": rf"(?i)\b{rng.choice(WORDS)}\w*\s+#?\d{{3,}}"}
        elif kind == 2:
            when = {"op": "all", "conditions": [
                {"op": "equals", "field": "case.channel", "value": rng.choice(["email", "chat", "web"])},
                {"op": "in", "field": "case.priority", "values": ["low", "normal"]}]}
        elif kind == 3:
            when = {"op": "gt", "field": "customer.spend_this_year.amount", "value": str(rng.randint(1, 90) * 1000)}
        elif kind == 4:
            when = {"op": "time_since", "field": "case.created_at", "more_than_minutes": rng.randint(30, 600)}
        else:
            when = {"op": "any", "conditions": [
                {"op": "in", "field": "case.tags", "values": rng.sample(WORDS, 2)},
                {"op": "not", "condition": {"op": "equals", "field": "case.language", "value": "en"}}]}
        rules.append({"id": f"rule-{n}", "name": f"Rule {n}", "triggers": ["case_opened", "timer"], "when": when,
                      "actions": [{"type": "add_tags", "tags": [f"r{n}"]}]})
    return RuleSet.model_validate({"rules": rules})


def contexts(count: int, rng: random.Random) -> list[RuleContext]:
    result = []
    for n in range(count):
        text = " ".join(rng.choices(WORDS, k=60))
        case = Case(id=ulid(n, "01C"), number=n + 1, subject=f"{rng.choice(WORDS)} #{rng.randint(10, 99999)}",
                    channel=rng.choice([Channel.EMAIL, Channel.CHAT, Channel.WEB]), requester_id=ulid(1, "01K"),
                    priority=rng.choice(list(Priority)), tags=rng.sample(WORDS, 2), language=rng.choice(LANGUAGES),
                    team_id=ulid(0, "01T"), created_at=T0, updated_at=T0)
        interaction = Interaction(id=ulid(n, "01M"), case_id=case.id, customer_id=case.requester_id,
                                  channel=case.channel, direction=Direction.INBOUND,
                                  author=Author(kind=AuthorKind.CUSTOMER, id=case.requester_id), text=text,
                                  created_at=T0)
        facts = CustomerFacts(spend_this_year=Money(amount=Decimal(rng.randint(0, 100_000)), currency="USD"))
        at = T0 + dt.timedelta(minutes=rng.randint(0, 900))
        result.append(RuleContext(event=RuleEvent(trigger=RuleTrigger.CASE_OPENED, at=at), case=case,
                                  interaction=interaction, customer_facts=facts))
    return result


def bench_rules(rule_count: int, repeat: int, events: int = 500) -> float:
    rng = random.Random(11)
    calendar = BusinessCalendar(time_zone="Europe/Berlin", holiday_country="DE", weekly_hours={
        d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")})
    engine = RuleEngine(rule_set(rule_count, rng), calendar=calendar,
                        teams=[TeamInfo(id=ulid(0, "01T"), name="Support")])
    work = contexts(events, rng)
    best = 0.0
    matched = 0
    for _ in range(repeat):
        started = time.perf_counter()
        matched = sum(len(engine.evaluate(ctx).actions) for ctx in work)
        best = max(best, events / (time.perf_counter() - started))
    print(f"rules: {rule_count} rules on {events} case-opened events: {best:,.0f} evaluations/s "
          f"({best * rule_count:,.0f} rule checks/s); {matched / events:.1f} rules matched per event")
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    decisions = bench_routing(args.agents, args.cases, args.repeat)
    bench_rules(args.rules, args.repeat)
    return 0 if decisions >= GOAL_DECISIONS else 1


if __name__ == "__main__":
    raise SystemExit(main())
