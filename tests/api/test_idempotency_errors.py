"""The idempotency middleware turns Powertools' errors into our own, which the error handlers answer."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from caseline.adapters.embedded.sqlite_idempotency import SqliteIdempotencyPersistence
from caseline.api.errors import IdempotencyInProgress, IdempotencyKeyReused
from caseline.api.idempotency import idempotency_middleware
from caseline.api.resolver import build_resolver


class FakeLambdaContext:
    function_name = "cases_api"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture(autouse=True)
def idempotency_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POWERTOOLS_IDEMPOTENCY_DISABLED", raising=False)


def _app(body: str) -> Any:
    event = APIGatewayProxyEvent({"httpMethod": "POST", "path": "/cases", "body": body,
                                  "headers": {"Idempotency-Key": "k-1"}, "requestContext": {}})
    return SimpleNamespace(current_event=event, lambda_context=FakeLambdaContext())


def test_a_key_still_in_progress_becomes_idempotency_in_progress(tmp_path: Path) -> None:
    store = SqliteIdempotencyPersistence(tmp_path / "idempotency.db")
    middleware = idempotency_middleware(lambda: store)
    app = _app('{"a": 1}')

    def reenter(app: Any) -> Response:  # the same request again while the first one runs
        return middleware(app, lambda _: Response(status_code=201, body="{}"))

    with pytest.raises(IdempotencyInProgress):
        middleware(app, reenter)


def test_a_key_reused_with_another_body_becomes_idempotency_key_reused(tmp_path: Path) -> None:
    store = SqliteIdempotencyPersistence(tmp_path / "idempotency.db")
    middleware = idempotency_middleware(lambda: store)
    created = middleware(_app('{"a": 1}'), lambda _: Response(status_code=201, body="{}"))
    assert created.status_code == 201
    with pytest.raises(IdempotencyKeyReused):
        middleware(_app('{"a": 2}'), lambda _: Response(status_code=201, body="{}"))


@pytest.mark.parametrize(("error", "status", "slug"), [(IdempotencyInProgress, 409, "idempotency-in-progress"),
                                                       (IdempotencyKeyReused, 422, "idempotency-key-reused")])
def test_the_error_handlers_answer_them(tmp_path: Path, error: type[Exception], status: int, slug: str) -> None:
    router = APIGatewayRouter()

    @router.get("/boom")
    def boom() -> dict:
        raise error

    app = build_resolver([router], max_body_bytes=lambda: 1000,
                         idempotency_store=lambda: SqliteIdempotencyPersistence(tmp_path / "idempotency.db"))
    response = app.resolve({"httpMethod": "GET", "path": "/boom", "headers": {}, "requestContext": {},
                            "body": None, "isBase64Encoded": False}, FakeLambdaContext())
    assert response["statusCode"] == status
    assert json.loads(response["body"])["type"].endswith(slug)
    if status == 409:
        assert response["multiValueHeaders"]["Retry-After"] == ["1"]
