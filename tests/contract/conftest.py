"""Fixtures that hand each contract test one adapter at a time: SQLite, then DynamoDB on moto.

The AWS side asks for the shared `aws` fixture (fake credentials through monkeypatch, then `mock_aws()`)
and only then builds its clients, so nothing depends on import order or on the developer's AWS setup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from caseline.adapters.aws.dynamodb_table import DynamoDbTable, create_table
from caseline.adapters.embedded.sqlite_idempotency import SqliteIdempotencyPersistence
from caseline.adapters.embedded.sqlite_table import SqliteTable
from caseline.ports.table import Table

REGION = "eu-west-1"
BACKENDS = ["sqlite", pytest.param("dynamodb", marks=pytest.mark.aws)]


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    """One session for the whole run: a fresh one re-reads botocore's JSON models, 0.2 s a test.

    Created inside a fixture, after moto is imported, so its clients carry moto's request hook; they
    reach moto only while a test's `aws` fixture has `mock_aws()` running.
    """
    return boto3.session.Session()


@pytest.fixture
def dynamodb_client(request: pytest.FixtureRequest, boto_session: boto3.session.Session) -> Any:
    request.getfixturevalue("aws")  # tests/conftest.py: fake credentials, then mock_aws()
    return boto_session.client("dynamodb", region_name=REGION)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def table(backend: str, request: pytest.FixtureRequest) -> Iterator[Table]:
    if backend == "sqlite":
        sqlite = SqliteTable.memory()
        yield sqlite
        sqlite.close()
        return
    client = request.getfixturevalue("dynamodb_client")
    create_table(client, "caseline-contract")
    yield DynamoDbTable("caseline-contract", client=client)


@dataclass
class IdempotencyBackend:
    store: Any  # a Powertools BasePersistenceLayer
    expire_all: Callable[[], None]  # make every stored record look expired, without waiting


@pytest.fixture
def idempotency(backend: str, request: pytest.FixtureRequest) -> Iterator[IdempotencyBackend]:
    if backend == "sqlite":
        sqlite = SqliteIdempotencyPersistence.memory()

        def expire_sqlite() -> None:
            with sqlite._db.write() as conn:
                conn.execute("UPDATE idempotency SET expiration = 0")

        yield IdempotencyBackend(sqlite, expire_sqlite)
        sqlite.close()
        return
    client = request.getfixturevalue("dynamodb_client")
    client.create_table(
        TableName="idempotency",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )

    def expire_dynamodb() -> None:
        for item in client.scan(TableName="idempotency")["Items"]:
            client.update_item(
                TableName="idempotency",
                Key={"id": item["id"]},
                UpdateExpression="SET expiration = :past",
                ExpressionAttributeValues={":past": {"N": "0"}},
            )

    yield IdempotencyBackend(DynamoDBPersistenceLayer("idempotency", boto3_client=client), expire_dynamodb)
