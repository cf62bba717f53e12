"""Routing decisions per second end to end: case-opened events through the routing consumer on the embedded
adapter (SQLite), each one reading the agents and the pool, deciding, assigning with If-Match, counting the
case and recording the decision on the audit trail and the timeline.

    .venv/bin/python bench/routing_wiring.py [--agents 500] [--cases 1000]
    .venv/bin/python bench/routing_wiring.py --smoke

`bench/routing.py` measures the pure decision alone; the difference between the two is what reading the
pool and writing the outcome costs.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from _common import load_average, machine, markdown_table, ms, percentile, sqlite_platform
from caseline.automation.routing import RoutingPolicy
from caseline.consumers.routing import routing_decisions
from caseline.domain.agents import Agent, Availability, Team
from caseline.domain.auth import Principal, Role
from caseline.domain.events import CaseOpened, EventEnvelope
from caseline.ports.clock import SystemClock, UlidIds
from caseline.services import routing
from caseline.services.cases import open_case
from caseline.services.commands import CreateCustomer, CustomerRef, OpenCase
from caseline.services.context import Request
from caseline.services.customers import create_customer

CATEGORIES = ["billing", "hardware", "shipping", "account", "returns", "api", "mobile", "security"]
LANGUAGES = ["en", "de", "fr", "es", "pt"]
TEAMS = 10
ADMIN = Request(principal=Principal(subject="bench", role=Role.ADMIN, name="Bench"), request_id="bench")


def seed(deps, agent_count: int, case_count: int, rng: random.Random) -> list[str]:
    ids = UlidIds()
    teams = [Team(id=ids.new(), name=f"Team {n}") for n in range(TEAMS)]
    uow = deps.store.begin()
    for team in teams:
        uow.put_team(team)
    uow.commit()
    for n in range(agent_count):
        agent = Agent(id=ids.new(), name=f"Agent {n}", email=f"a{n}@caseline.dev", handle=f"agent{n}",
                      skills=rng.sample(CATEGORIES, 3), languages=["en", *rng.sample(LANGUAGES[1:], 1)],
                      team_ids=[teams[n % TEAMS].id], capacity=rng.randint(15, 40),
                      availability=Availability.ONLINE if rng.random() < 0.8 else Availability.OFFLINE)
        uow = deps.store.begin()
        uow.put_agent(agent)
        uow.commit()
    customers = [create_customer(deps, ADMIN, CreateCustomer(name=f"Customer {n}", emails=[f"c{n}@example.com"])).id
                 for n in range(50)]
    return [open_case(deps, ADMIN, OpenCase(
        channel="email", subject=f"Case {n}", text="Please help", team_id=rng.choice(teams).id,
        category=rng.choice(CATEGORIES), language=rng.choice(LANGUAGES),
        requester=CustomerRef(customer_id=rng.choice(customers)))).id for n in range(case_count)]


def opened_events(platform) -> list[EventEnvelope]:
    """The case-opened events waiting in the outbox (read here as the dispatcher would get them)."""
    events = [EventEnvelope.model_validate_json(item["data"]) for item in platform.table.scan()
              if item.get("entity") == "outbox" and item.get("event_type") == CaseOpened.event_type]
    return sorted(events, key=lambda e: e.id)


def timed(calls: list[Callable[[], None]]) -> list[float]:
    durations = []
    for call in calls:
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return durations


def run(agent_count: int, case_count: int) -> None:
    rng = random.Random(7)
    with sqlite_platform(SystemClock()) as platform:
        deps = platform.deps
        started = time.perf_counter()
        case_ids = seed(deps, agent_count, case_count, rng)
        seeded = time.perf_counter() - started
        routing.put_policy(deps, ADMIN, routing.RoutingSettings(policy=RoutingPolicy(
            category_skills={c: c for c in CATEGORIES}, round_robin_fallback=True)), expected_version=None)
        events = opened_events(platform)
        pool_reads = timed([lambda: routing.agent_pool(deps) for _ in range(20)])
        durations = timed([lambda e=e: routing_decisions.handle(deps, e) for e in events])
        assigned = sum(1 for c in case_ids if deps.store.get_case(c).assignee_id)
        total = sum(durations)
        print(f"# Routing through the consumer ({machine()}; {load_average()})\n")
        print(f"{agent_count} agents in {TEAMS} teams, {len(events)} case-opened events; seeded in {seeded:.1f} s\n")
        print(markdown_table(
            ["what", "per second", "median ms", "p95 ms"],
            [["routing decisions (consumer, end to end)", f"{len(durations) / total:,.0f}",
              ms(percentile(durations, 50)), ms(percentile(durations, 95))],
             ["of which: read agents + pool", "-", ms(percentile(pool_reads, 50)), ms(percentile(pool_reads, 95))]]))
        print(f"\n{assigned} of {len(case_ids)} cases assigned; the rest queued (nobody online with room)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--smoke", action="store_true", help="a few agents and cases: does it still run?")
    args = parser.parse_args()
    if args.smoke:
        run(20, 10)
    else:
        run(args.agents, args.cases)


if __name__ == "__main__":
    main()
