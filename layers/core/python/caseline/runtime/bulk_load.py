"""Bulk data for benchmarks: many customers, cases and timeline entries in the production item layout.

The items are the ones the services write — customers with their identity claims and counters, cases with
their case-number item, open-case refs and interactions, timeline entries with their index keys, external
events with their dedup claims — built with the store's `UnitOfWork`, so every read path (queues, case
detail, customer 360, timeline pages) sees exactly what it would see in production.

What is left out, on purpose: audit records and outbox events. They are write-path artefacts that no read
benchmark touches, and writing them would double the load time and flood the outbox dispatcher with
hundreds of thousands of events for history that never happened. Cases therefore have an empty audit
chain (`audit_seq` 0), which `caseline audit verify` accepts.

Speed comes from packing many small writes into each transaction (up to the table's 100 operations)
instead of one transaction per command, and from reserving all case numbers with one counter increment.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from .. import bootstrap
from ..adapters import keys
from ..adapters.store import CASE_NUMBER_START, Store, UnitOfWork
from ..domain.agents import Agent, Availability, Team
from ..domain.auth import Role
from ..domain.case import Case, CaseStatus, Priority
from ..domain.common import Channel, Money
from ..domain.customer import Customer, CustomerTier
from ..domain.errors import AlreadyExists, DomainError
from ..domain.interaction import Author, AuthorKind, Direction, Interaction
from ..domain.timeline import TimelineEntry, TimelineKind
from ..ports.table import MAX_TRANSACTION_ITEMS
from .seed import SeededIds

HISTORY_DAYS = 365
ENTRIES_PER_CASE = 3  # "case opened", the customer's message, and the answer (or a follow-up)
HEAVY_SHARE = 0.05  # the heaviest customer gets this share of the external entries ...
HEAVY_MAX = 10_000  # ... but no more than this
OPEN_SAMPLE = 500
STATUS_WEIGHTS = {
    CaseStatus.NEW: 5,
    CaseStatus.OPEN: 8,
    CaseStatus.PENDING: 7,
    CaseStatus.ON_HOLD: 5,
    CaseStatus.SOLVED: 20,
    CaseStatus.CLOSED: 55,
}
CHANNELS = list(Channel)
PRIORITIES = list(Priority)
FIRST_NAMES = (
    "Alex",
    "Sam",
    "Robin",
    "Kim",
    "Jo",
    "Noor",
    "Lea",
    "Mika",
    "Ari",
    "Eden",
    "Luca",
    "Rae",
    "Tove",
    "Iris",
    "Omar",
    "Yuki",
    "Ines",
    "Pablo",
    "Greta",
    "Nils",
)
LAST_NAMES = (
    "Berg",
    "Ortiz",
    "Novak",
    "Kaur",
    "Moreau",
    "Silva",
    "Fischer",
    "Tanaka",
    "Okafor",
    "Larsen",
    "Rossi",
    "Kowalski",
    "Haddad",
    "Lund",
    "Weber",
    "Ibarra",
    "Quist",
    "Mendes",
    "Vance",
    "Adler",
)
SUBJECTS = (
    "Refund not received",
    "App crashes on start",
    "Device shows offline",
    "Invoice needs a VAT number",
    "Cannot sign in",
    "Order has not arrived",
    "Change my plan",
    "API returns errors",
    "Payment failed",
    "Export my data",
)
MESSAGES = (
    "Hello, this started yesterday and I have tried the usual things already. Can you help?",
    "Following up on my earlier message - the problem is still there this morning.",
    "I need this sorted before the end of the week, it affects our whole office.",
)
ANSWERS = (
    "Thanks for the details. I have found the cause and applied a fix; please check again.",
    "We are looking into this with the team and will update you within one business day.",
)
EXTERNAL_KINDS = (
    (TimelineKind.ORDER, "shop", None, "Order {ref} delivered"),
    (TimelineKind.PAYMENT, "billing", None, "Payment {ref} received"),
    (TimelineKind.PAYMENT, "billing", None, "Payment {ref} failed (card declined)"),
    (TimelineKind.CRASH_REPORT, "crash-reporter", None, "App crashed: report {ref}"),
    (TimelineKind.CRM_CHANGE, "crm", None, "Lifecycle stage changed ({ref})"),
    (TimelineKind.PORTAL_VISIT, "portal", Channel.WEB, "Read a help article (visit {ref})"),
)


@dataclass(frozen=True)
class BulkAgent:
    id: str
    name: str
    email: str
    role: Role


@dataclass
class BulkSummary:
    """What was written, and ids a benchmark needs (whom to sign in as, which customer is heavy ...)."""

    customers: int
    cases: int
    entries: int
    transactions: int
    seconds: float
    team_ids: list[str]
    agents: list[BulkAgent]
    heavy_customer_id: str
    heavy_customer_entries: int
    typical_customer_id: str
    open_case_ids: list[str] = field(default_factory=list)


class _Batches:
    """Unit-of-work chunks committed whenever the next group of writes would not fit one transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.uow: UnitOfWork = store.begin()
        self.transactions = 0

    def room(self, ops: int, increments: int = 0) -> UnitOfWork:
        """The unit of work to add `ops` writes and up to `increments` new counter increments to.

        Counter adjustments become one Increment per counter item at commit, so they take room too.
        """
        pending = len(self.uow.ops) + len(self.uow.increments)
        if pending + ops + increments > MAX_TRANSACTION_ITEMS:
            self.flush()
        return self.uow

    def flush(self) -> None:
        if self.uow.ops or self.uow.counters:
            self.uow.commit()
            self.transactions += 1
        self.uow = self.store.begin()


@dataclass
class _Plan:
    """How many cases and external entries each customer gets; customer 0 is the heavy one."""

    cases: list[int]
    externals: list[int]


def bulk_load(
    platform: bootstrap.Platform, *, customers: int, cases: int, entries: int, rng_seed: int = 11
) -> BulkSummary:
    """Write `customers` customers with `cases` cases and about `entries` timeline entries in all.

    Each case brings up to ENTRIES_PER_CASE entries; the rest of `entries` are external events (orders,
    payments, crash reports, CRM changes, portal visits), HEAVY_SHARE of them on one heavy customer.
    """
    if customers < 2 or cases < 1:
        raise ValueError("bulk_load needs at least two customers and one case")
    started = time.perf_counter()
    loader = _Loader(platform, rng_seed)
    teams, agents = loader.write_staff()
    plan = loader.plan(customers, cases, entries)
    loader.write_customers(plan, teams, agents)
    loader.batches.flush()
    return BulkSummary(
        customers=customers,
        cases=cases,
        entries=loader.entries,
        transactions=loader.batches.transactions,
        seconds=time.perf_counter() - started,
        team_ids=[t.id for t in teams],
        agents=[BulkAgent(a.id, a.name, a.email, a.role) for a in agents],
        heavy_customer_id=loader.customer_ids[0],
        heavy_customer_entries=loader.heavy_entries,
        typical_customer_id=loader.customer_ids[len(loader.customer_ids) // 2],
        open_case_ids=loader.open_cases,
    )


def bulk_timeline(platform: bootstrap.Platform, customer_id: str, n: int, *, rng_seed: int = 0) -> int:
    """Give an existing customer `n` more external timeline entries, newest now; returns the transactions."""
    loader = _Loader(platform, rng_seed)
    loader.write_externals(customer_id, n)
    loader.batches.flush()
    return loader.batches.transactions


class _Loader:
    def __init__(self, platform: bootstrap.Platform, rng_seed: int) -> None:
        self.store = platform.deps.store
        self.table = platform.table
        self.now = platform.deps.clock.now()
        self.rng = random.Random(rng_seed)
        self.ids = SeededIds(random.Random(rng_seed + 1), platform.deps.clock)
        self.batches = _Batches(self.store)
        self.customer_ids: list[str] = []
        self.open_cases: list[str] = []
        self.entries = 0
        self.heavy_entries = 0
        self.next_number = 0

    def _past(self, days: float = HISTORY_DAYS) -> datetime:
        return self.now - timedelta(seconds=self.rng.uniform(60, days * 86_400))

    # staff -----------------------------------------------------------------------------------------------
    def write_staff(self) -> tuple[list[Team], list[Agent]]:
        """Three teams and twelve staff with their own handles, so a bulk table can also hold the demo."""
        at = self.now - timedelta(days=HISTORY_DAYS + 1)
        teams = [Team(id=self.ids.new(at), name=f"Bench {name}") for name in ("Billing", "Technical", "Success")]
        roles = [Role.ADMIN, Role.SUPERVISOR, Role.SUPERVISOR] + [Role.AGENT] * 9
        agents = [
            Agent(
                id=self.ids.new(at),
                name=f"Bench Agent {i:02d}",
                email=f"bench{i:02d}@caseline.dev",
                handle=f"bench{i:02d}",
                role=role,
                team_ids=[teams[i % 3].id],
                languages=["en"],
                availability=Availability.ONLINE,
            )
            for i, role in enumerate(roles, start=1)
        ]
        uow = self.store.begin()
        for team in teams:
            uow.put_team(team)
        for agent in agents:
            uow.put_agent(agent)
        uow.commit()
        self.batches.transactions += 1
        return teams, agents

    # plan ------------------------------------------------------------------------------------------------
    def plan(self, customers: int, cases: int, entries: int) -> _Plan:
        per_case = min(ENTRIES_PER_CASE, entries // cases)
        external = max(0, entries - per_case * cases)
        heavy = min(HEAVY_MAX, int(external * HEAVY_SHARE))
        externals = self._spread(external - heavy, customers)
        externals[0] += heavy
        self.per_case = per_case
        self.heavy_entries = heavy
        reserved = self.table.increment(keys.counter("case_number"), "value", by=cases)
        self.next_number = CASE_NUMBER_START + reserved - cases + 1
        return _Plan(self._spread(cases, customers), externals)

    def _spread(self, total: int, buckets: int) -> list[int]:
        """`total` over `buckets`, unevenly (some customers write a lot more than others)."""
        weights = [self.rng.paretovariate(2.0) for _ in range(buckets)]
        scale = total / sum(weights)
        counts = [int(w * scale) for w in weights]
        for index in self.rng.sample(range(buckets), total - sum(counts)):
            counts[index] += 1
        return counts

    # customers -------------------------------------------------------------------------------------------
    def write_customers(self, plan: _Plan, teams: list[Team], agents: list[Agent]) -> None:
        workers = [a for a in agents if a.role is Role.AGENT]
        for index, (case_count, external_count) in enumerate(zip(plan.cases, plan.externals, strict=True)):
            customer = self._customer(index)
            self.customer_ids.append(customer.id)
            uow = self.batches.room(4, increments=1)
            uow.put_customer(customer, expected_version=None, error=_never)
            for kind, value in _identities(customer):
                uow.claim_identity(kind, value, customer.id, _never)
            for _ in range(case_count):
                self._case(customer, teams, workers)
            self.write_externals(customer.id, external_count, count_cases=case_count)

    def _customer(self, index: int) -> Customer:
        rng = self.rng
        created = self._past()
        customer_id = self.ids.new(created)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        phones = [f"+49{1_500_000_000 + index:010d}"] if rng.random() < 0.4 else []
        return Customer(
            id=customer_id,
            name=f"{first} {last}",
            emails=[f"customer{index:06d}@bench.example"],
            phones=phones,
            tier=rng.choices(list(CustomerTier), weights=(80, 15, 5))[0],
            lifetime_value=Money(amount=Decimal(rng.randrange(1_000, 5_000_000)) / 100, currency="EUR"),
            external_ids={"crm": f"CRM{index:08d}"},
            created_at=created,
            updated_at=created,
        )

    # cases -----------------------------------------------------------------------------------------------
    def _case(self, customer: Customer, teams: list[Team], workers: list[Agent]) -> None:
        rng = self.rng
        status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
        opened = max(customer.created_at, self._past())
        answered = min(self.now, opened + timedelta(minutes=rng.uniform(5, 600)))
        team = rng.choice(teams)
        assignee = None if status is CaseStatus.NEW else rng.choice(workers)
        case = Case(
            id=self.ids.new(opened),
            number=self.next_number,
            subject=rng.choice(SUBJECTS),
            status=status,
            priority=rng.choice(PRIORITIES),
            channel=rng.choice(CHANNELS),
            requester_id=customer.id,
            requester_name=customer.name,
            team_id=team.id,
            assignee_id=assignee.id if assignee else None,
            tags=["bulk"],
            first_response_at=None if status is CaseStatus.NEW else answered,
            solved_at=answered if status in (CaseStatus.SOLVED, CaseStatus.CLOSED) else None,
            created_at=opened,
            updated_at=answered,
            version=3 if assignee else 1,
        )
        self.next_number += 1
        messages = self._messages(case, customer, assignee, answered)
        entries = self._case_entries(case, messages)[: self.per_case]
        # A case moves three live queue counters (owner, team, all) and, later, its customer's counters.
        uow = self.batches.room(3 + len(messages) + len(entries), increments=4)
        uow.put_case(case, expected_version=None, error=_never)
        if status.is_open:
            uow.track_open_case(case)
            if len(self.open_cases) < OPEN_SAMPLE:
                self.open_cases.append(case.id)
        for message in messages:
            uow.put_interaction(message)
        for entry in entries:
            uow.add_timeline_entry(entry)

    def _messages(self, case: Case, customer: Customer, agent: Agent | None, answered: datetime) -> list[Interaction]:
        """The customer's first message, then the agent's answer — or, on a new case, the customer again."""
        first = self._message(
            case,
            Author(kind=AuthorKind.CUSTOMER, id=customer.id, name=customer.name),
            Direction.INBOUND,
            self.rng.choice(MESSAGES),
            case.created_at,
        )
        if agent is None:
            again = self._message(case, first.author, Direction.INBOUND, MESSAGES[1], answered)
            return [first, again]
        author = Author(kind=AuthorKind.AGENT, id=agent.id, name=agent.name)
        return [first, self._message(case, author, Direction.OUTBOUND, self.rng.choice(ANSWERS), answered)]

    def _message(self, case: Case, author: Author, direction: Direction, text: str, at: datetime) -> Interaction:
        return Interaction(
            id=self.ids.new(at),
            case_id=case.id,
            customer_id=case.requester_id,
            channel=case.channel,
            direction=direction,
            author=author,
            text=text,
            created_at=at,
        )

    def _case_entries(self, case: Case, messages: list[Interaction]) -> list[TimelineEntry]:
        opened = TimelineEntry(
            id=self.ids.new(case.created_at),
            customer_id=case.requester_id,
            kind=TimelineKind.CASE_EVENT,
            channel=case.channel,
            occurred_at=case.created_at,
            summary=f"Case #{case.number} opened: {case.subject}",
            case_id=case.id,
            payload={"case_number": case.number, "status": "new"},
        )
        return [opened, *(self._message_entry(case, m) for m in messages)]

    def _message_entry(self, case: Case, message: Interaction) -> TimelineEntry:
        return TimelineEntry(
            id=self.ids.new(message.created_at),
            customer_id=case.requester_id,
            kind=TimelineKind.INTERACTION,
            channel=message.channel,
            occurred_at=message.created_at,
            summary=f"{message.direction.value.title()} on #{case.number}: {message.text[:120]}",
            case_id=case.id,
            payload={
                "interaction_id": message.id,
                "direction": message.direction.value,
                "visibility": message.visibility.value,
                "author": message.author.model_dump(),
                "case_number": case.number,
            },
        )

    # external entries ------------------------------------------------------------------------------------
    def write_externals(self, customer_id: str, count: int, *, count_cases: int | None = None) -> None:
        """`count` external entries, newest first back through the history, each with its dedup claim.

        With `count_cases` (a customer just written), also sets the customer's counters once, in the last
        chunk, so they match what the services would have counted.
        """
        step = HISTORY_DAYS * 86_400 / max(count, 1)
        for i in range(count):
            at = self.now - timedelta(seconds=step * i + self.rng.uniform(1, step))
            uow = self.batches.room(2, increments=1)
            kind, source, channel, summary = self.rng.choice(EXTERNAL_KINDS)
            entry_id = self.ids.new(at)
            entry = TimelineEntry(
                id=entry_id,
                customer_id=customer_id,
                kind=kind,
                channel=channel,
                occurred_at=at,
                summary=summary.format(ref=entry_id[-8:]),
                source=source,
                external_id=f"bulk-{entry_id}",
                payload={"ref": entry_id[-8:]},
            )
            uow.claim_external_event(source, entry.external_id or "", entry, _never)
            uow.add_timeline_entry(entry)
        self.entries += count
        uow = self.batches.room(0, increments=1)
        if count_cases is None:
            uow.count(customer_id, timeline_entries=count)
            return
        case_entries = count_cases * self.per_case
        self.entries += case_entries
        uow.count(
            customer_id, cases_total=count_cases, interactions=2 * count_cases, timeline_entries=count + case_entries
        )


def _identities(customer: Customer) -> list[tuple[str, str]]:
    found = [("email", e) for e in customer.emails] + [("phone", p) for p in customer.phones]
    return found + [(f"ext:{system}", value) for system, value in customer.external_ids.items()]


def _never() -> DomainError:
    """The error for a write that can only conflict when the table already holds the same bulk data."""
    return AlreadyExists("bulk_load writes new items only; load into a table it has not loaded before")


__all__ = ["BulkAgent", "BulkSummary", "bulk_load", "bulk_timeline"]
