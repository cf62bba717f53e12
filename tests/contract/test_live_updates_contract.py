"""The live-updates ports, each held to one contract on both of its adapters.

- The connection registry runs over the Table port, so it is checked on SQLite and on DynamoDB (moto).
- The pusher is checked on the local hub and on API Gateway's management API (moto). moto records every
  PostToConnection but never answers GoneException (it creates any connection it is asked about), so the
  API Gateway harness answers a post to a connection the test closed with the 410 GoneException response
  API Gateway sends, through botocore's own error parsing (a `before-call` hook, as botocore's Stubber
  does); everything else goes to moto.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import pytest
from botocore.awsrequest import AWSResponse
from caseline.adapters import connections as connections_module
from caseline.adapters.aws.apigateway_pusher import ApiGatewayPusher
from caseline.adapters.aws.dynamodb_table import DynamoDbTable
from caseline.adapters.connections import TableConnectionRegistry
from caseline.adapters.embedded.websocket_hub import WebSocketHub
from caseline.domain.auth import Role
from caseline.ports.connections import LiveConnection, Pusher, PushFailed
from caseline.ports.table import Table
from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
from moto.core import DEFAULT_ACCOUNT_ID

from ..support.aws_calls import count_dynamodb_calls
from .conftest import REGION

NOW = 1_800_000_000
ENDPOINT = f"https://abc123.execute-api.{REGION}.amazonaws.com/live"


def _conn(connection_id: str, role: Role = Role.AGENT, expires_at: int = NOW + 7200) -> LiveConnection:
    return LiveConnection(connection_id=connection_id, principal_id=f"P-{connection_id}", role=role,
                          expires_at=expires_at)


# --- connection registry ---------------------------------------------------------------------------------
@pytest.fixture
def registry(table: Table) -> TableConnectionRegistry:
    return TableConnectionRegistry(table, scope=REGION)


def test_added_staff_connections_are_live_until_removed(registry: TableConnectionRegistry) -> None:
    registry.add(_conn("a="))
    registry.add(_conn("b=", Role.SUPERVISOR))
    registry.add(_conn("c=", Role.ADMIN))
    live = {c.connection_id: c for c in registry.live_staff(now=NOW)}
    assert set(live) == {"a=", "b=", "c="}
    assert live["b="] == _conn("b=", Role.SUPERVISOR)
    registry.remove("b=")
    registry.remove("never-added=")  # not an error
    assert {c.connection_id for c in registry.live_staff(now=NOW)} == {"a=", "c="}


def test_customer_connections_are_never_listed_as_staff(registry: TableConnectionRegistry) -> None:
    registry.add(_conn("cust=", Role.CUSTOMER))
    registry.add(_conn("agent="))
    assert [c.connection_id for c in registry.live_staff(now=NOW)] == ["agent="]


def test_expired_connections_are_not_live_and_adding_again_refreshes(registry: TableConnectionRegistry) -> None:
    registry.add(_conn("old=", expires_at=NOW))
    registry.add(_conn("new=", expires_at=NOW + 1))
    assert [c.connection_id for c in registry.live_staff(now=NOW)] == ["new="]
    registry.add(_conn("old=", Role.SUPERVISOR, expires_at=NOW + 60))
    assert {c.connection_id: c.role for c in registry.live_staff(now=NOW)} == {"old=": Role.SUPERVISOR,
                                                                               "new=": Role.AGENT}


def test_listing_pages_through_the_partition_and_regions_are_separate(
    table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connections_module, "PAGE_SIZE", 2)
    here, there = TableConnectionRegistry(table, scope=REGION), TableConnectionRegistry(table, scope="us-east-1")
    for n in range(5):
        here.add(_conn(f"h{n}="))
    here.add(_conn("hc=", Role.CUSTOMER))
    there.add(_conn("t0="))
    assert sorted(c.connection_id for c in here.live_staff(now=NOW)) == [f"h{n}=" for n in range(5)]
    assert [c.connection_id for c in there.live_staff(now=NOW)] == ["t0="]


@pytest.mark.aws
def test_on_dynamodb_listing_is_a_query_never_a_scan(dynamodb_client: Any) -> None:
    from caseline.adapters.aws.dynamodb_table import create_table

    create_table(dynamodb_client, "connections")
    registry = TableConnectionRegistry(DynamoDbTable("connections", client=dynamodb_client), scope=REGION)
    registry.add(_conn("a="))
    with count_dynamodb_calls(dynamodb_client) as calls:
        registry.live_staff(now=NOW)
        registry.remove("a=")
    assert calls == ["Query", "DeleteItem"]


# --- pusher ------------------------------------------------------------------------------------------------
@dataclass
class PusherHarness:
    pusher: Pusher
    open: Callable[[], str]  # a connection a client holds open
    close: Callable[[str], None]  # the client goes away
    received: Callable[[str], list[bytes]]  # what reached the client, in order
    extra: dict[str, Any] = field(default_factory=dict)


class _HubClients:
    """Clients of a hub whose loop runs in its own thread, as uvicorn's does beside the dispatcher."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.hub = WebSocketHub(queue_size=16)
        self.frames: dict[str, list[str]] = {}

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    def open(self) -> str:
        connection_id = uuid.uuid4().hex
        frames = self.frames.setdefault(connection_id, [])

        async def attach() -> None:
            async def send(text: str) -> None:
                frames.append(text)

            async def close(code: int) -> None:
                return None

            self.hub.attach(connection_id, send, close)

        self.run(attach())
        return connection_id

    def close(self, connection_id: str) -> None:
        self.run(self.hub.detach(connection_id))

    def received(self, connection_id: str) -> list[bytes]:
        self.run(self.hub.flush(connection_id))
        return [frame.encode() for frame in self.frames[connection_id]]

    def stop(self) -> None:
        for connection_id in self.hub.connection_ids():
            self.close(connection_id)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


class _ApiGatewayClients:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.gone: set[str] = set()
        client.meta.events.register("before-call.apigatewaymanagementapi.PostToConnection", self._gone,
                                    unique_id="contract-gone-connections")

    def _gone(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        connection_id = unquote(params["url_path"].rsplit("/", 1)[-1])
        if connection_id not in self.gone:
            return None
        error = {"Error": {"Code": "GoneException", "Message": ""}, "ResponseMetadata": {"HTTPStatusCode": 410}}
        return AWSResponse(params["url"], 410, {}, None), error

    def open(self) -> str:
        return f"{uuid.uuid4().hex[:14]}="

    def close(self, connection_id: str) -> None:
        self.client.delete_connection(ConnectionId=connection_id)
        self.gone.add(connection_id)

    def received(self, connection_id: str) -> list[bytes]:
        connections = apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID][REGION].connections
        data = connections[quote(connection_id, safe="")].data
        return [data] if data else []


@pytest.fixture(params=["hub", pytest.param("apigateway", marks=pytest.mark.aws)])
def pushers(request: pytest.FixtureRequest) -> Iterator[PusherHarness]:
    if request.param == "hub":
        clients = _HubClients()
        yield PusherHarness(clients.hub, clients.open, clients.close, clients.received)
        clients.stop()
        return
    request.getfixturevalue("aws")
    client = request.getfixturevalue("boto_session").client("apigatewaymanagementapi", endpoint_url=ENDPOINT,
                                                            region_name=REGION)
    gateway = _ApiGatewayClients(client)
    yield PusherHarness(ApiGatewayPusher(ENDPOINT, client=client), gateway.open, gateway.close, gateway.received,
                        extra={"client": client})


def test_a_push_reaches_the_client_and_says_so(pushers: PusherHarness) -> None:
    first, second = pushers.open(), pushers.open()
    assert pushers.pusher.push(first, b'{"type":"case.changed","n":1}') is True
    assert pushers.received(first) == [b'{"type":"case.changed","n":1}']
    assert pushers.received(second) == []


def test_a_push_to_a_closed_connection_reports_it_gone(pushers: PusherHarness) -> None:
    connection = pushers.open()
    pushers.close(connection)
    assert pushers.pusher.push(connection, b'{"type":"pong"}') is False


def test_a_push_to_a_connection_that_never_existed_is_gone_on_the_hub() -> None:
    # API Gateway answers GoneException for an unknown id as it does for a closed one; moto cannot show it,
    # so this half of the contract is the hub's alone.
    clients = _HubClients()
    try:
        assert clients.hub.push("no-such-connection", b"{}") is False
    finally:
        clients.stop()


@pytest.mark.aws
def test_api_gateway_errors_other_than_gone_raise_push_failed(aws: None, boto_session: Any) -> None:
    client = boto_session.client("apigatewaymanagementapi", endpoint_url=ENDPOINT, region_name=REGION)

    def throttled(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Error": {"Code": "LimitExceededException", "Message": "slow down"},
                 "ResponseMetadata": {"HTTPStatusCode": 429}}
        return AWSResponse(params["url"], 429, {}, None), error

    client.meta.events.register("before-call.apigatewaymanagementapi.PostToConnection", throttled)
    with pytest.raises(PushFailed):
        ApiGatewayPusher(ENDPOINT, client=client).push("abc=", b"{}")

