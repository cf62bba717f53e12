"""An in-process HTTP client for the local gateway: the real routing, auth, size limit and handlers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from caseline.bootstrap import Platform
from caseline.domain.agents import Agent
from caseline.domain.auth import Role
from caseline.runtime.gateway import LocalGateway
from caseline.runtime.server import FUNCTIONS_DIR
from caseline.runtime.tokens import LocalTokens
from caseline.settings import Settings
from starlette.testclient import TestClient

from ..conftest import World


class Api:
    def __init__(self, client: TestClient, tokens: LocalTokens, world: World) -> None:
        self.client = client
        self.tokens = tokens
        self.world = world

    def token(self, who: Agent | str) -> str:
        if isinstance(who, Agent):
            return self.tokens.issue(subject=f"sub-{who.handle}", role=who.role, caseline_id=who.id,
                                     name=who.name, email=who.email)
        return self.tokens.issue(subject=f"sub-{who}", role=Role.CUSTOMER, caseline_id=who, name="Customer",
                                 email=f"{who.lower()}@example.com")

    def headers(self, who: Agent | str | None, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if who is not None:
            headers["Authorization"] = f"Bearer {self.token(who)}"
        return headers

    def request(self, method: str, path: str, who: Agent | str | None = None, *, headers: dict | None = None,
                **kwargs):
        return self.client.request(method, path, headers={**self.headers(who), **(headers or {})}, **kwargs)

    def open_case(self, who: Agent | str, **fields):
        body = {"channel": "email", "subject": "Printer on fire", "text": "It is on fire.",
                "requester": {"email": "alice@example.com"}, **fields}
        if isinstance(who, str):
            body.pop("requester")
            body["channel"] = "web"
        response = self.request("POST", "/cases", who, json=body)
        assert response.status_code == 201, response.text
        return response


def make_gateway(platform: Platform, tmp_path: Path, **overrides) -> tuple[LocalGateway, LocalTokens]:
    tokens = LocalTokens(Settings(data_dir=tmp_path / "tokens"))
    options = {"functions_dir": FUNCTIONS_DIR, "tokens": tokens, "max_body_bytes": platform.settings.max_body_bytes,
               "openapi": dict, "swagger_html": str, "metrics": dict}
    options.update(overrides)
    return LocalGateway(**options), tokens


@pytest.fixture
def api(platform: Platform, world: World, tmp_path: Path) -> Iterator[Api]:
    gateway, tokens = make_gateway(platform, tmp_path)
    with TestClient(gateway.app()) as client:
        yield Api(client, tokens, world)


@pytest.fixture
def sqlite_api(sqlite_platform: Platform, sqlite_world: World, tmp_path: Path) -> Iterator[Api]:
    gateway, tokens = make_gateway(sqlite_platform, tmp_path)
    with TestClient(gateway.app()) as client:
        yield Api(client, tokens, sqlite_world)
