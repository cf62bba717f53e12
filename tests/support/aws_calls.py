"""Count the requests a boto3 DynamoDB client sends, to assert "no Scan" and "one request per read".

    with count_dynamodb_calls(client) as calls:
        store.get_case(case_id)
    assert calls == ["GetItem"]

The handler hangs on the client's own event system (`before-call.dynamodb`), so it sees exactly what
would go over the wire, on moto or on AWS, and is unregistered when the block ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

EVENT = "before-call.dynamodb"


@contextmanager
def count_dynamodb_calls(client: Any) -> Iterator[list[str]]:
    """Yield a list that collects the operation name (GetItem, Query, ...) of each request, in order."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    client.meta.events.register(EVENT, record)
    try:
        yield calls
    finally:
        client.meta.events.unregister(EVENT, record)
