"""Rule evaluations per second end to end: case-opened events through the rules consumer on the embedded adapter
(SQLite). Each one reads the rule set, the teams and agents, the case's conversation and the customer's payments
this year, evaluates, applies the changes through the case services and records the explanation.

    .venv/bin/python bench/rules_wiring.py [--rules 3] [--cases 300]
    .venv/bin/python bench/rules_wiring.py --smoke

With `--rules 3` the set is the shipped defaults; more rules add tag rules on keywords that about half of the
cases mention. `bench/routing.py` measures the pure engine alone.
"""

from __future__ import annotations

import argparse
import random
import time

from _common import load_average, machine, markdown_table, ms, percentile, sqlite_platform
from caseline.automation.rules import Rule
from caseline.consumers.rules import rules_consumer
from caseline.domain.agents import Agent, Availability, Team
from caseline.domain.auth import Principal, Role
from caseline.domain.events import CaseOpened, EventEnvelope
from caseline.ports.clock import SystemClock, UlidIds
from caseline.services import rules
from caseline.services.cases import open_case
from caseline.services.commands import CreateCustomer, CustomerRef, OpenCase
from caseline.services.context import Request
from caseline.services.customers import create_customer

ADMIN = Request(principal=Principal(subject="bench", role=Role.ADMIN, name="Bench"), request_id="bench")
WORDS = ["billing", "invoice", "refund", "printer", "login", "shipping", "crash", "password", "upgrade", "export"]


def seed(deps, rule_count: int, case_count: int, rng: random.Random) -> None:
    ids = UlidIds()
    uow = deps.store.begin()
    for name in ("Billing", "Technical Support", "Shipping"):
        uow.put_team(Team(id=ids.new(), name=name))
    uow.commit()
    for n in range(50):
        uow = deps.store.begin()
        uow.put_agent(Agent(id=ids.new(), name=f"Agent {n}", email=f"a{n}@caseline.dev", handle=f"agent{n}",
                            availability=Availability.ONLINE))
        uow.commit()
    rules.install_defaults(deps)
    for n in range(max(0, rule_count - 3)):
        word = WORDS[n % len(WORDS)]
        rules.create_rule(deps, ADMIN, Rule.model_validate({
            "id": f"tag-{n}", "name": f"Tag {word} {n}", "triggers": ["case_opened"],
            "when": {"op": "contains_any", "field": "case.subject", "keywords": [word]},
            "actions": [{"type": "add_tags", "tags": [f"t{n % 40}"]}]}))
    customers = [create_customer(deps, ADMIN, CreateCustomer(name=f"Customer {n}", emails=[f"c{n}@example.com"])).id
                 for n in range(30)]
    for n in range(case_count):
        subject = f"Question about {rng.choice(WORDS)} and {rng.choice(WORDS)} #{n}"
        open_case(deps, ADMIN, OpenCase(channel="email", subject=subject, text="Please help",
                                        requester=CustomerRef(customer_id=rng.choice(customers))))


def run(rule_count: int, case_count: int) -> None:
    rng = random.Random(11)
    with sqlite_platform(SystemClock()) as platform:
        deps = platform.deps
        started = time.perf_counter()
        seed(deps, rule_count, case_count, rng)
        seeded = time.perf_counter() - started
        events = sorted((EventEnvelope.model_validate_json(item["data"]) for item in platform.table.scan()
                         if item.get("entity") == "outbox" and item.get("event_type") == CaseOpened.event_type),
                        key=lambda e: e.id)
        durations = []
        for event in events:
            began = time.perf_counter()
            rules_consumer.handle(deps, event)
            durations.append(time.perf_counter() - began)
        redelivered = []
        for event in events[:50]:
            began = time.perf_counter()
            rules_consumer.handle(deps, event)
            redelivered.append(time.perf_counter() - began)
        total = sum(durations)
        print(f"# Rules through the consumer ({machine()}; {load_average()})\n")
        print(f"{rule_count} rules, {len(events)} case-opened events; seeded in {seeded:.1f} s\n")
        print(markdown_table(
            ["what", "per second", "median ms", "p95 ms"],
            [["evaluations (consumer, end to end)", f"{len(durations) / total:,.0f}",
              ms(percentile(durations, 50)), ms(percentile(durations, 95))],
             ["redelivered events (already recorded)", f"{len(redelivered) / sum(redelivered):,.0f}",
              ms(percentile(redelivered, 50)), ms(percentile(redelivered, 95))]]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", type=int, default=3)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--smoke", action="store_true", help="a few cases: does it still run?")
    args = parser.parse_args()
    if args.smoke:
        run(5, 5)
    else:
        run(args.rules, args.cases)


if __name__ == "__main__":
    main()
