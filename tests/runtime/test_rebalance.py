"""Connections of `caseline dev --workers N` end after a number of requests, so their load can move."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from caseline.runtime.rebalance import ConnectionRecycler


async def _answer(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"connection", b"keep-alive")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _request(app: ConnectionRecycler, client: tuple[str, int] | None) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app({"type": "http", "client": client}, receive, send))
    return sent


def _connection_header(sent: list[dict[str, Any]]) -> list[bytes]:
    return [value for name, value in sent[0]["headers"] if name == b"connection"]


def test_every_connection_is_told_to_close_at_its_nth_request_and_only_then() -> None:
    app = ConnectionRecycler(_answer, requests_per_connection=3)
    first, second = ("127.0.0.1", 50001), ("127.0.0.1", 50002)
    headers = [_connection_header(_request(app, first)) for _ in range(3)]
    assert headers == [[b"keep-alive"], [b"keep-alive"], [b"close"]]
    assert _connection_header(_request(app, second)) == [b"keep-alive"]  # counted on its own
    assert _connection_header(_request(app, first)) == [b"keep-alive"]  # a new connection from that address
    assert _request(app, first)[1] == {"type": "http.response.body", "body": b"ok"}


def test_counts_are_bounded_and_requests_without_a_peer_pass_through() -> None:
    app = ConnectionRecycler(_answer, requests_per_connection=2, remembered=10)
    for port in range(100):
        _request(app, ("127.0.0.1", 40000 + port))
    assert len(app._counts) == 10
    assert _connection_header(_request(app, None)) == [b"keep-alive"]
    with pytest.raises(ValueError):
        ConnectionRecycler(_answer, requests_per_connection=0)
