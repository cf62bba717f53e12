"""SLA checks per second on one machine (SQLite), and how many timers the local runner fires per second.

    .venv/bin/python bench/sla_clock.py [--cases 300] [--replies 4]

Opens `--cases` cases in a team with an office-hours calendar, gives each `--replies` public messages
(alternating customer and agent), then times `refresh_sla` on every case (the work the sla-clock consumer
does per case event: the case, its interactions, its audit trail, the customer, the team's calendar and
policy, the computation, and the write when something changed), a second pass where nothing changed
(the redelivery path), and the runner firing one due timer per case.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "core" / "python"))

from caseline import bootstrap, timers
from caseline.adapters.embedded.local_scheduler import LocalScheduler, TimerRunner
from caseline.adapters.embedded.sqlite_idempotency import SqliteIdempotencyPersistence
from caseline.adapters.embedded.sqlite_table import SqliteTable
from caseline.domain.agents import Agent, Team
from caseline.domain.auth import Principal, Role
from caseline.domain.common import Channel
from caseline.ports.clock import FixedClock, UlidIds
from caseline.services import cases, sla_config
from caseline.services.commands import AddReply, CreateCustomer, CustomerRef, OpenCase
from caseline.services.context import Request
from caseline.services.customers import create_customer
from caseline.services.sla_clock import refresh_sla
from caseline.services.sla_config import BUSINESS_HOURS_POLICY, TeamCalendar, office_hours
from caseline.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--replies", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        clock = FixedClock(datetime(2026, 6, 1, 7, 0, tzinfo=UTC))
        platform = bootstrap.build(Settings(data_dir=data), clock=clock,
                                   table=SqliteTable(data / "caseline.db", stream_filter=bootstrap.is_outbox_item),
                                   idempotency=SqliteIdempotencyPersistence(data / "idem.db"))
        bootstrap.use(platform)
        deps = platform.deps
        ids = UlidIds()
        manager = Agent(id=ids.new(), name="Mia", email="mia@caseline.dev", handle="mia", role=Role.SUPERVISOR)
        team = Team(id=ids.new(), name="Billing", manager_id=manager.id, time_zone="Europe/Berlin")
        uow = deps.store.begin()
        uow.put_team(team)
        uow.put_agent(manager)
        uow.commit()
        admin = Request(principal=Principal(subject="bench", role=Role.ADMIN, agent_id=manager.id, name="Mia"))
        sla_config.put_policy(deps, admin, BUSINESS_HOURS_POLICY.id, BUSINESS_HOURS_POLICY, expected_version=None)
        sla_config.put_calendar(deps, admin, team.id, TeamCalendar(calendar=office_hours("Europe/Berlin", "DE", "BY"),
                                                                   sla_policy_id=BUSINESS_HOURS_POLICY.id),
                                expected_version=None)
        customer = create_customer(deps, admin, CreateCustomer(name="Carla", emails=["carla@example.com"]))
        as_customer = Request(principal=Principal(subject="c", role=Role.CUSTOMER, customer_id=customer.id))
        case_ids = []
        for n in range(args.cases):
            case = cases.open_case(deps, admin, OpenCase(channel=Channel.WEB, subject=f"Case {n}", text="Help",
                                                         requester=CustomerRef(customer_id=customer.id),
                                                         team_id=team.id))
            for r in range(args.replies):
                clock.advance(minutes=7)
                who = admin if r % 2 == 0 else as_customer
                cases.add_reply(deps, who, case.id, AddReply(text=f"message {r}"))
            case_ids.append(case.id)

        started = time.perf_counter()
        for case_id in case_ids:
            refresh_sla(deps, case_id)
        first = time.perf_counter() - started
        started = time.perf_counter()
        for case_id in case_ids:
            refresh_sla(deps, case_id)
        again = time.perf_counter() - started

        scheduler = deps.scheduler
        assert isinstance(scheduler, LocalScheduler)
        runner = TimerRunner(scheduler, lambda timer: timers.dispatch(deps, timer), clock)
        clock.advance(days=30)
        started = time.perf_counter()
        fired = runner.fire_due()
        firing = time.perf_counter() - started
        bootstrap.use(None)
    messages = args.replies + 1
    print(f"{args.cases} cases, {messages} messages each, office hours (Europe/Berlin, DE/BY)")
    for label, seconds in (("first check, clocks stored:  ", first), ("check again, nothing changed:", again)):
        print(f"  {label} {args.cases / seconds:8.0f} checks/s  ({seconds / args.cases * 1000:.2f} ms each)")
    print(f"  runner, due timers fired:    {fired / firing:8.0f} timers/s  ({fired} fired in {firing:.2f} s)")


if __name__ == "__main__":
    main()
