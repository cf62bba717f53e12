"""The live-updates Lambda functions on moto: the WebSocket routes and the EventBridge fan-out.

moto's management API accepts PostToConnection for any connection id and records the bytes, which is what
these tests read back; it never answers GoneException, so the gone path is covered in the pusher contract
suite (tests/contract/test_live_updates_contract.py) with botocore's modelled error.
"""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import quote

import boto3
import jwt
import pytest
from caseline import bootstrap
from caseline.adapters.aws.dynamodb_table import create_table
from caseline.domain.case import CaseStatus
from caseline.domain.common import Channel
from caseline.runtime.gateway import LocalLambdaContext, load_handler
from caseline.runtime.server import FUNCTIONS_DIR
from caseline.services import cases
from caseline.services.commands import CustomerRef, OpenCase, UpdateCase
from caseline.services.publishing import envelope_from_item
from caseline.settings import Settings
from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
from moto.core import DEFAULT_ACCOUNT_ID

from ..conftest import REGION, _dynamodb_platform, make_world
from ..support.cognito import CLIENT_ID, ISSUER, FakeUserPool

pytestmark = pytest.mark.aws
ENDPOINT = f"https://abc123.execute-api.{REGION}.amazonaws.com/live"


@pytest.fixture
def pool(monkeypatch) -> FakeUserPool:
    pool = FakeUserPool()
    fetched: list[str] = []

    def fetch_data(client: jwt.PyJWKClient) -> dict:
        fetched.append(client.uri)
        return pool.jwks

    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", fetch_data)
    pool.fetched = fetched
    return pool


@pytest.fixture
def platform(aws, monkeypatch, clock):
    create_table(boto3.client("dynamodb", region_name=REGION), "caseline-connections")
    for name, value in {"ADAPTERS": "aws", "TABLE_NAME": "caseline", "CONNECTIONS_TABLE_NAME": "caseline-connections",
                        "WEBSOCKET_ENDPOINT": ENDPOINT, "COGNITO_ISSUER": ISSUER,
                        "COGNITO_CLIENT_ID": CLIENT_ID}.items():
        monkeypatch.setenv(f"CASELINE_{name}", value)
    built = _dynamodb_platform(clock)
    bootstrap.use(built)
    yield built
    bootstrap.use(None)


def _context(name: str) -> LocalLambdaContext:
    return LocalLambdaContext(function_name=name, aws_request_id=str(uuid.uuid4()))


def _ws_event(route: str, connection_id: str, *, token: str | None = None, body: str | None = None) -> dict:
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    return {
        "headers": {"Host": f"abc123.execute-api.{REGION}.amazonaws.com"} if route == "$connect" else None,
        "queryStringParameters": {"token": token} if token is not None else None,
        "requestContext": {
            "routeKey": route, "eventType": event_type, "connectionId": connection_id, "stage": "live",
            "requestTimeEpoch": int(time.time() * 1000), "requestId": str(uuid.uuid4()),
            "domainName": f"abc123.execute-api.{REGION}.amazonaws.com", "apiId": "abc123",
            "messageDirection": "IN", "identity": {"sourceIp": "203.0.113.9"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def _posted(connection_id: str) -> list[dict]:
    """Frames posted to a connection, as moto recorded them: concatenated, and filed under the id as it
    appears in the request path (moto does not decode it; real ids end in "=")."""
    backend = apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID][REGION]
    data = backend.connections[quote(connection_id, safe="")].data.decode()
    decoder, frames, at = json.JSONDecoder(), [], 0
    while at < len(data):
        frame, at = decoder.raw_decode(data, at)
        frames.append(frame)
    return frames


def _live_ids() -> set[str]:
    live = bootstrap.live_updates(Settings.from_env())
    return {c.connection_id for c in live.registry.live_staff(now=int(time.time()))}


def test_connect_accepts_staff_tokens_and_refuses_the_rest(platform, pool) -> None:
    world = make_world(platform)
    connect = load_handler(FUNCTIONS_DIR, "realtime_connect")
    staff_id = pool.token(groups=["agent"], caseline_id=world.agent.id)
    access = pool.token(groups=["supervisor"], caseline_id=world.supervisor.id, token_use="access")
    assert connect(_ws_event("$connect", "c-agent=", token=staff_id), _context("c"))["statusCode"] == 200
    assert connect(_ws_event("$connect", "c-super=", token=access), _context("c"))["statusCode"] == 200
    assert pool.fetched == [f"{ISSUER}/.well-known/jwks.json"]  # fetched once, then cached

    other_pool = FakeUserPool(kid="test-key-1")  # same kid, another key: the signature must fail
    refused = {
        "customer": (pool.token(groups=["customer"], caseline_id=world.alice_id), 403),
        "other client": (pool.token(groups=["agent"], caseline_id=world.agent.id, client_id="someone-else"), 401),
        "other client (access)": (pool.token(groups=["agent"], caseline_id=world.agent.id, token_use="access",
                                             client_id="someone-else"), 401),
        "other issuer": (pool.token(groups=["agent"], caseline_id=world.agent.id, issuer=ISSUER + "x"), 401),
        "expired": (pool.token(groups=["agent"], caseline_id=world.agent.id, lifetime=-10), 401),
        "forged": (other_pool.token(groups=["admin"], caseline_id=world.admin.id), 401),
        "no role": (pool.token(groups=[], caseline_id=world.agent.id), 401),
        "garbage": ("not-a-jwt", 401),
        "missing": (None, 401),
    }
    for name, (token, status) in refused.items():
        answer = connect(_ws_event("$connect", f"c-{name}=", token=token), _context("c"))
        assert answer["statusCode"] == status, name
    assert _live_ids() == {"c-agent=", "c-super="}

    assert connect(_ws_event("$disconnect", "c-agent="), _context("c"))["statusCode"] == 200
    assert _live_ids() == {"c-super="}


def test_ping_is_answered_with_pong_through_the_management_api(platform, pool) -> None:
    world = make_world(platform)
    connect = load_handler(FUNCTIONS_DIR, "realtime_connect")
    connect(_ws_event("$connect", "c1=", token=pool.token(groups=["agent"], caseline_id=world.agent.id)),
            _context("c"))
    assert connect(_ws_event("$default", "c1=", body='{"action":"ping"}'), _context("c"))["statusCode"] == 200
    assert connect(_ws_event("$default", "c1=", body="{not json"), _context("c"))["statusCode"] == 200
    assert connect(_ws_event("$default", "c1=", body='{"action":"dance"}'), _context("c"))["statusCode"] == 200
    assert _posted("c1=") == [{"type": "pong"}]


def test_fanout_pushes_case_changed_with_the_current_version_to_staff_connections(platform, pool, clock) -> None:
    world = make_world(platform)
    connect = load_handler(FUNCTIONS_DIR, "realtime_connect")
    fanout = load_handler(FUNCTIONS_DIR, "realtime_fanout")
    for connection_id, who in (("a1=", world.agent), ("s1=", world.supervisor)):
        token = pool.token(groups=[who.role.value], caseline_id=who.id)
        assert connect(_ws_event("$connect", connection_id, token=token), _context("c"))["statusCode"] == 200
    agent = world.staff(world.agent)
    case = cases.open_case(platform.deps, agent, OpenCase(
        channel=Channel.EMAIL, subject="Printer on fire", text="help",
        requester=CustomerRef(customer_id=world.alice_id)))
    updated = cases.update_case(platform.deps, agent, case.id, UpdateCase(status=CaseStatus.PENDING),
                                expected_version=case.version)
    outbox = sorted((envelope_from_item(i) for i in platform.table.scan() if i.get("entity") == "outbox"),
                    key=lambda e: e.id)
    status_changed = next(e for e in outbox if e.type == "caseline.case.status_changed")
    customer_created = next(e for e in outbox if e.type == "caseline.customer.created")
    for envelope in (status_changed, customer_created):
        bridge_event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": envelope.type,
                        "source": envelope.source, "account": DEFAULT_ACCOUNT_ID, "time": "2026-11-02T09:00:00Z",
                        "region": REGION, "resources": [], "detail": envelope.model_dump(mode="json")}
        fanout(bridge_event, _context("f"))
    for connection_id in ("a1=", "s1="):
        frames = _posted(connection_id)
        assert len(frames) == 1  # the customer event is not a case event
        notice = frames[0]
        assert notice["type"] == "case.changed" and notice["event_type"] == "caseline.case.status_changed"
        assert notice["event_id"] == status_changed.id
        assert notice["case"]["id"] == case.id and notice["case"]["status"] == "pending"
        assert notice["case"]["version"] == updated.version > case.version
        assert notice["case"]["requester_id"] == world.alice_id and notice["case"]["number"] == case.number
        assert set(notice["case"]) == {"id", "number", "subject", "status", "priority", "assignee_id", "team_id",
                                       "requester_id", "requester_name", "channel", "due_at", "updated_at",
                                       "version", "merged_into"}
