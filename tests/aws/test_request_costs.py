"""On DynamoDB, no request path scans, and every read command is a fixed number of requests.

Counted on the boto3 client's own events, through the HTTP API, so everything a request does is seen.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from caseline.domain.common import Channel
from caseline.domain.timeline import TimelineKind
from caseline.services import cases
from caseline.services.commands import CustomerRef, OpenCase, RecordTimelineEvent
from caseline.services.customers import record_external_event

from ..api.conftest import Api, make_gateway
from ..conftest import World, _dynamodb_platform, make_world
from ..support.aws_calls import count_dynamodb_calls

pytestmark = pytest.mark.aws


@pytest.fixture
def dynamo_api(aws, clock, tmp_path):
    from caseline import bootstrap
    from starlette.testclient import TestClient

    platform = _dynamodb_platform(clock)
    bootstrap.use(platform)
    world = make_world(platform)
    gateway, tokens = make_gateway(platform, tmp_path)
    with TestClient(gateway.app()) as client:
        yield platform, Api(client, tokens, world)
    bootstrap.use(None)


def _open_cases(platform, world: World, customer_id: str, n: int) -> None:
    agent = world.staff(world.agent)
    for i in range(n):
        cases.open_case(platform.deps, agent, OpenCase(channel=Channel.EMAIL, subject=f"c{i}", text="t",
                                                       requester=CustomerRef(customer_id=customer_id),
                                                       team_id=world.billing.id))


def _grow(platform, world: World, cases_n: int, events_n: int, clock) -> None:
    """More cases in every queue (Bob's), and a longer timeline for Alice, whose reads are measured."""
    agent = world.staff(world.agent)
    _open_cases(platform, world, world.bob_id, cases_n)
    for n in range(events_n):
        clock.advance(minutes=1)
        record_external_event(platform.deps, agent, RecordTimelineEvent(
            customer=CustomerRef(customer_id=world.alice_id), kind=TimelineKind.ORDER, source="shop",
            external_id=f"o{n}", occurred_at=clock.now() - timedelta(seconds=1), summary=f"Order {n}"))


def _reads(api: Api, case_id: str, number: int) -> dict[str, tuple[str, str]]:
    w = api.world
    return {
        "case detail": ("GET", f"/cases/{case_id}"),
        "case by number": ("GET", f"/cases/by-number/{number}"),
        "team queue": ("GET", f"/queues/teams/{w.billing.id}/new"),
        "assignee queue": ("GET", "/queues/agents/none/new"),
        "requester queue": ("GET", f"/queues/requesters/{w.alice_id}"),
        "customer": ("GET", f"/customers/{w.alice_id}"),
        "customer 360": ("GET", f"/customers/{w.alice_id}/360"),
        "timeline": ("GET", f"/customers/{w.alice_id}/timeline"),
        "timeline by kind": ("GET", f"/customers/{w.alice_id}/timeline?kind=order"),
        "timeline by channel": ("GET", f"/customers/{w.alice_id}/timeline?channel=email"),
        "customers": ("GET", "/customers"),
        "agents": ("GET", "/agents"),
        "teams": ("GET", "/teams"),
    }


EXPECTED_REQUESTS = {"case by number": 2}  # number → id, then the case; everything else is one request


def _costs(platform, api: Api, case_id: str, number: int) -> dict[str, list[str]]:
    costs = {}
    for name, (method, path) in _reads(api, case_id, number).items():
        with count_dynamodb_calls(platform.table.client) as calls:
            response = api.request(method, path, api.world.agent)
        assert response.status_code == 200, (name, response.text)
        costs[name] = list(calls)
    return costs


def test_reads_cost_the_same_few_requests_at_any_size_and_never_scan(dynamo_api, clock) -> None:
    platform, api = dynamo_api
    case = api.open_case(api.world.agent, team_id=api.world.billing.id).json()
    small = _costs(platform, api, case["id"], case["number"])
    _grow(platform, api.world, cases_n=8, events_n=40, clock=clock)
    large = _costs(platform, api, case["id"], case["number"])
    assert small == large
    for name, calls in large.items():
        assert "Scan" not in calls
        assert len(calls) == EXPECTED_REQUESTS.get(name, 1), (name, calls)
    assert large["customer 360"] == ["Query"]


@pytest.mark.parametrize(("open_cases", "queries"), [(3, 1), (4, 2), (30, 2)])
def test_customer_360_reads_more_only_for_customers_with_many_open_cases(
    dynamo_api, clock, open_cases: int, queries: int
) -> None:
    """The first read leaves room for three open cases; past that a second Query reads on. 25 are shown."""
    platform, api = dynamo_api
    _open_cases(platform, api.world, api.world.alice_id, open_cases)
    _grow(platform, api.world, cases_n=0, events_n=30, clock=clock)
    with count_dynamodb_calls(platform.table.client) as calls:
        response = api.request("GET", f"/customers/{api.world.alice_id}/360?page_size=10", api.world.agent)
    assert response.status_code == 200, response.text
    assert list(calls) == ["Query"] * queries
    body = response.json()
    assert len(body["open_cases"]) == min(open_cases, 25)
    summaries = [entry["summary"] for entry in body["timeline"]["items"]]
    assert summaries[:3] == ["Order 29", "Order 28", "Order 27"] and len(summaries) == 10


def test_write_paths_never_scan(dynamo_api) -> None:
    platform, api = dynamo_api
    with count_dynamodb_calls(platform.table.client) as calls:
        case = api.open_case(api.world.agent).json()
        path = f"/cases/{case['id']}"
        api.request("POST", path + "/replies", api.world.agent, json={"text": "hi"})
        api.request("POST", path + "/notes", api.world.agent, json={"text": "@sue look"})
        current = api.request("GET", path, api.world.agent).headers["etag"]
        api.request("PATCH", path, api.world.agent, json={"status": "solved"}, headers={"If-Match": current})
        api.request("POST", path + "/reopen", api.world.agent)
    assert calls and "Scan" not in calls
    assert set(calls) <= {"GetItem", "Query", "TransactWriteItems", "UpdateItem"}
