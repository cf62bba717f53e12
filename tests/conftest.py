"""Shared fixtures: a platform on either storage adapter, a controllable clock, and a small world.

`platform` runs each test on SQLite and again on DynamoDB (moto) unless the test asks for `sqlite_platform`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from caseline import bootstrap
from caseline.adapters.aws.dynamodb_table import DynamoDbTable, create_table
from caseline.adapters.embedded.sqlite_idempotency import SqliteIdempotencyPersistence
from caseline.adapters.embedded.sqlite_table import SqliteTable
from caseline.domain.agents import Agent, Availability, Team
from caseline.domain.auth import Principal, Role
from caseline.ports.clock import FixedClock, UlidIds
from caseline.services.commands import CreateCustomer
from caseline.services.context import Request
from caseline.services.customers import create_customer
from caseline.settings import Settings
from moto import mock_aws

from .support.dev_server import DevServer, free_port

REGION = "eu-west-1"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday morning


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    with mock_aws():
        yield


def _sqlite_platform(tmp_path: Path, clock: FixedClock) -> bootstrap.Platform:
    settings = Settings(data_dir=tmp_path / "data")
    table = SqliteTable(tmp_path / "caseline.db", stream_filter=bootstrap.is_outbox_item)
    idempotency = SqliteIdempotencyPersistence(tmp_path / "idempotency.db")
    return bootstrap.build(settings, table=table, clock=clock, idempotency=idempotency)


def _dynamodb_platform(clock: FixedClock) -> bootstrap.Platform:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    client = boto3.client("dynamodb", region_name=REGION)
    create_table(client, "caseline")
    client.create_table(
        TableName="caseline-idempotency",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    settings = Settings(adapters="aws", table_name="caseline", region=REGION)
    idempotency = DynamoDBPersistenceLayer(table_name="caseline-idempotency", boto3_client=client)
    return bootstrap.build(settings, table=DynamoDbTable("caseline", client=client), clock=clock,
                           idempotency=idempotency)


@pytest.fixture(params=["sqlite", pytest.param("dynamodb", marks=pytest.mark.aws)])
def platform(request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock) -> Iterator[bootstrap.Platform]:
    if request.param == "sqlite":
        built = _sqlite_platform(tmp_path, clock)
    else:
        request.getfixturevalue("aws")
        built = _dynamodb_platform(clock)
    bootstrap.use(built)
    yield built
    bootstrap.use(None)


@pytest.fixture
def sqlite_platform(tmp_path: Path, clock: FixedClock) -> Iterator[bootstrap.Platform]:
    built = _sqlite_platform(tmp_path, clock)
    bootstrap.use(built)
    yield built
    bootstrap.use(None)


@dataclass
class World:
    """Two teams, one of each staff role, two customers — and the requests they would make."""

    billing: Team
    tech: Team
    agent: Agent
    other_agent: Agent
    supervisor: Agent
    admin: Agent
    alice_id: str
    bob_id: str

    def staff(self, who: Agent) -> Request:
        return Request(principal=Principal(subject=f"sub-{who.handle}", role=who.role, agent_id=who.id,
                                           name=who.name), request_id=f"req-{who.handle}")

    def customer(self, customer_id: str) -> Request:
        return Request(principal=Principal(subject=f"sub-{customer_id}", role=Role.CUSTOMER,
                                           customer_id=customer_id, name="Customer"), request_id="req-cust")


def make_world(platform: bootstrap.Platform) -> World:
    ids = UlidIds()
    uow = platform.deps.store.begin()
    billing = Team(id=ids.new(), name="Billing")
    tech = Team(id=ids.new(), name="Technical Support")
    people = []
    for name, handle, role in [("Ada Agent", "ada", Role.AGENT), ("Otto Other", "otto", Role.AGENT),
                               ("Sue Supervisor", "sue", Role.SUPERVISOR), ("Max Admin", "max", Role.ADMIN)]:
        people.append(Agent(id=ids.new(), name=name, email=f"{handle}@caseline.dev", handle=handle, role=role,
                            team_ids=[billing.id], availability=Availability.ONLINE))
    uow.put_team(billing)
    uow.put_team(tech)
    for person in people:
        uow.put_agent(person)
    uow.commit()
    admin_request = Request(principal=Principal(subject="setup", role=Role.ADMIN, agent_id=people[3].id))
    alice = create_customer(platform.deps, admin_request,
                            CreateCustomer(name="Alice Example", emails=["alice@example.com"]))
    bob = create_customer(platform.deps, admin_request,
                          CreateCustomer(name="Bob Example", emails=["bob@example.org"], phones=["+4930123456"]))
    return World(billing, tech, *people, alice_id=alice.id, bob_id=bob.id)


@pytest.fixture
def world(platform: bootstrap.Platform) -> World:
    return make_world(platform)


@pytest.fixture
def sqlite_world(sqlite_platform: bootstrap.Platform) -> World:
    return make_world(sqlite_platform)


def world_on_disk(data_dir: Path) -> World:
    """A data directory that already holds two teams, the staff and two customers, for a `caseline dev` to serve."""
    data_dir.mkdir(parents=True, exist_ok=True)
    table = SqliteTable(data_dir / "caseline.db", stream_filter=bootstrap.is_outbox_item)
    try:
        return make_world(bootstrap.build(Settings(data_dir=data_dir), table=table))
    finally:
        table.close()


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[DevServer]:
    server = DevServer(tmp_path / "data", free_port())
    yield server
    if server.process is not None and server.process.poll() is None:
        server.process.kill()


@pytest.fixture(scope="session")
def running_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    server = DevServer(tmp_path_factory.mktemp("live") / "data", free_port())
    server.start()
    yield server
    server.stop()
