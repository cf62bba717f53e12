"""functions/routing_events on moto: a case-opened event from EventBridge is routed to the online agent with the
skill, through the real handler and the DynamoDB adapter; delivered twice, it changes nothing the second time."""

from __future__ import annotations

import uuid

import pytest
from caseline import bootstrap
from caseline.automation.routing import RoutingPolicy
from caseline.domain.agents import Agent, Availability
from caseline.domain.auth import Principal, Role
from caseline.ports.clock import UlidIds
from caseline.runtime.gateway import LocalLambdaContext, load_handler
from caseline.runtime.server import FUNCTIONS_DIR
from caseline.services import routing
from caseline.services.cases import open_case
from caseline.services.commands import CustomerRef, OpenCase
from caseline.services.context import Request
from caseline.services.publishing import envelope_from_item
from moto.core import DEFAULT_ACCOUNT_ID

from ..conftest import REGION, _dynamodb_platform, make_world

pytestmark = pytest.mark.aws
ADMIN = Request(principal=Principal(subject="admin", role=Role.ADMIN, name="Admin"))


@pytest.fixture
def platform(aws, monkeypatch, clock):
    for name, value in {"ADAPTERS": "aws", "TABLE_NAME": "caseline"}.items():
        monkeypatch.setenv(f"CASELINE_{name}", value)
    built = _dynamodb_platform(clock)
    bootstrap.use(built)
    yield built
    bootstrap.use(None)


def _bridge(envelope) -> dict:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": envelope.type, "source": envelope.source,
            "account": DEFAULT_ACCOUNT_ID, "time": "2026-11-02T09:00:00Z", "region": REGION, "resources": [],
            "detail": envelope.model_dump(mode="json")}


def test_a_case_opened_event_is_routed_once(platform) -> None:
    world = make_world(platform)
    expert = Agent(id=UlidIds().new(), name="Erin Expert", email="erin@caseline.dev", handle="erin",
                   skills=["billing"], team_ids=[world.tech.id], availability=Availability.ONLINE)
    uow = platform.deps.store.begin()
    uow.put_agent(expert)
    uow.commit()
    routing.put_policy(platform.deps, ADMIN, routing.RoutingSettings(
        policy=RoutingPolicy(category_skills={"billing": "billing"}, round_robin_fallback=False)),
        expected_version=None)
    case = open_case(platform.deps, ADMIN, OpenCase(channel="email", subject="Charged twice", text="Twice!",
                                                     team_id=world.tech.id, category="billing",
                                                     requester=CustomerRef(customer_id=world.alice_id)))
    opened = next(envelope_from_item(i) for i in platform.table.scan()
                  if i.get("entity") == "outbox" and i.get("event_type") == "caseline.case.opened")
    handler = load_handler(FUNCTIONS_DIR, "routing_events")

    for _ in range(2):
        assert handler(_bridge(opened), LocalLambdaContext(function_name="routing_events",
                                                           aws_request_id=str(uuid.uuid4()))) == {"event_id": opened.id}

    routed = platform.deps.store.get_case(case.id)
    assert routed.assignee_id == expert.id and routed.version == 2
    assert routing.routing_store(platform.deps).load(expert.id).open_cases == 1
    trail = platform.deps.store.audit_trail("case", case.id, limit=20, cursor=None).items
    assert [r.action for r in trail].count("routing.decided") == 1
