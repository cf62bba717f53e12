"""Domain objects for the automation tests, with deterministic ids and times."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from caseline.domain.agents import Agent, Availability
from caseline.domain.case import Case, CaseStatus, Priority
from caseline.domain.common import Channel, Money
from caseline.domain.customer import Customer, CustomerTier
from caseline.domain.interaction import Author, AuthorKind, Direction, Interaction

T0 = dt.datetime(2026, 6, 8, 8, 0, tzinfo=dt.UTC)  # Monday 10:00 in Berlin


def ulid(n: int, prefix: str = "01J") -> str:
    """A valid, sortable ULID that is easy to recognise in a failure message."""
    return f"{prefix}{n:023d}"


def case(n: int = 1, **changes: Any) -> Case:
    data: dict[str, Any] = {
        "id": ulid(n, "01C"), "number": 1000 + n, "subject": "Where is my order?", "channel": Channel.EMAIL,
        "requester_id": ulid(1, "01K"), "status": CaseStatus.NEW, "priority": Priority.NORMAL,
        "created_at": T0, "updated_at": T0,
    }
    data.update(changes)
    return Case(**data)


def customer(spend: str | None = None, currency: str = "USD", **changes: Any) -> Customer:
    data: dict[str, Any] = {"id": ulid(1, "01K"), "name": "Grace Hopper", "emails": ["grace@example.com"],
                            "tier": CustomerTier.STANDARD, "created_at": T0, "updated_at": T0}
    data.update(changes)
    if spend is not None:
        data.setdefault("lifetime_value", Money(amount=Decimal(spend), currency=currency))
    return Customer(**data)


def inbound(text: str, at: dt.datetime = T0, n: int = 1) -> Interaction:
    return Interaction(id=ulid(n, "01M"), case_id=ulid(1, "01C"), customer_id=ulid(1, "01K"), channel=Channel.EMAIL,
                       direction=Direction.INBOUND, author=Author(kind=AuthorKind.CUSTOMER, id=ulid(1, "01K")),
                       text=text, created_at=at)


def agent(n: int, *, team: str | None = None, skills: tuple[str, ...] = (), languages: tuple[str, ...] = ("en",),
          capacity: int = 10, online: bool = True) -> Agent:
    return Agent(id=ulid(n, "01A"), name=f"Agent {n}", email=f"agent{n}@caseline.dev", handle=f"agent{n}",
                 skills=list(skills), languages=list(languages), team_ids=[team] if team else [], capacity=capacity,
                 availability=Availability.ONLINE if online else Availability.OFFLINE)
