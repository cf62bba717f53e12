"""Live updates and local sign-in as the agent SPA meets them: a real `caseline dev` process, real HTTP and a
real WebSocket client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from caseline.domain.auth import Role
from caseline.runtime.tokens import LocalTokens
from caseline.settings import Settings
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from ..conftest import World, world_on_disk
from ..support.dev_server import DevServer, free_port

WAIT = 15  # seconds a client waits for a frame before the test gives up (a guard, not a measurement)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevServer, World]]:
    """A dev server over a data directory that already holds a few staff members and customers."""
    data_dir = tmp_path_factory.mktemp("live-updates") / "data"
    world = world_on_disk(data_dir)
    server = DevServer(data_dir, free_port())
    server.start()
    yield server, world
    server.stop()


def _login(server: DevServer, email: str) -> str:
    answer = httpx.post(server.url + "/auth/dev-login", json={"email": email})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def _ws_url(server: DevServer, token: str | None) -> str:
    base = server.url.replace("http://", "ws://") + "/ws"
    return base if token is None else f"{base}?token={token}"


def _refusal(server: DevServer, token: str | None) -> int:
    with connect(_ws_url(server, token), open_timeout=WAIT) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=WAIT)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def test_dev_users_and_dev_login(live_server) -> None:
    server, world = live_server
    users = httpx.get(server.url + "/auth/dev-users").json()["items"]
    roles = {user["email"]: user["role"] for user in users}
    assert roles["ada@caseline.dev"] == "agent" and roles["sue@caseline.dev"] == "supervisor"
    assert roles["max@caseline.dev"] == "admin" and roles["alice@example.com"] == "customer"
    assert all(set(user) == {"email", "name", "role"} for user in users)

    answer = httpx.post(server.url + "/auth/dev-login", json={"email": "Ada@Caseline.dev"})
    assert answer.status_code == 200
    expires_at = datetime.fromisoformat(answer.json()["expires_at"])
    assert expires_at > datetime.now(UTC)
    me = httpx.get(server.url + "/agents/me", headers={"Authorization": f"Bearer {answer.json()['token']}"})
    assert me.status_code == 200 and me.json()["id"] == world.agent.id

    unknown = httpx.post(server.url + "/auth/dev-login", json={"email": "nobody@example.com"})
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["status"] == 404
    malformed = httpx.post(server.url + "/auth/dev-login", content=b"{nope",
                           headers={"content-type": "application/json"})
    assert malformed.status_code == 400 and malformed.headers["content-type"] == "application/problem+json"
    missing = httpx.post(server.url + "/auth/dev-login", json={"name": "Ada"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "body.email"


def test_config_json_points_the_spa_at_this_gateway(live_server) -> None:
    server, _ = live_server
    config = httpx.get(server.url + "/config.json")
    assert config.status_code == 200
    assert config.json() == {"api_base": "", "ws_url": f"ws://127.0.0.1:{server.port}/ws",
                             "auth": {"mode": "local"}, "default_locale": "en"}


def _patch_current(server, headers: dict, case_id: str, body: dict) -> dict:
    """PATCH against the case's current ETag. Automation (SLA clocks, rules, routing) changes new cases
    too, so a version read a moment ago may already be stale: read again and retry, as the SPA lets an
    agent do."""
    for _ in range(5):
        current = httpx.get(server.url + f"/cases/{case_id}", headers=headers)
        response = httpx.patch(server.url + f"/cases/{case_id}", json=body,
                               headers={**headers, "If-Match": current.headers["ETag"]})
        if response.status_code != 412:
            assert response.status_code == 200, response.text
            return response.json()
    raise AssertionError(f"case {case_id} kept changing")


def test_staff_socket_gets_case_changed_with_the_new_version_and_pong(live_server) -> None:
    server, world = live_server
    token = _login(server, "ada@caseline.dev")
    headers = {"Authorization": f"Bearer {token}"}
    with connect(_ws_url(server, token), open_timeout=WAIT) as ws:
        ws.send(json.dumps({"action": "ping"}))
        assert json.loads(ws.recv(timeout=WAIT)) == {"type": "pong"}
        opened = httpx.post(server.url + "/cases", headers=headers, json={
            "channel": "email", "subject": "Live and kicking", "text": "hello",
            "requester": {"customer_id": world.alice_id}})
        assert opened.status_code == 201, opened.text
        case = opened.json()
        changed = _patch_current(server, headers, case["id"], {"status": "pending"})
        new_version = changed["version"]
        assert new_version > case["version"]
        seen = []
        while not any(n["event_type"] == "caseline.case.status_changed" for n in seen):
            notice = json.loads(ws.recv(timeout=WAIT))
            assert notice["type"] == "case.changed"
            seen.append(notice)
    status_notice = next(n for n in seen if n["event_type"] == "caseline.case.status_changed")
    assert status_notice["case"]["id"] == case["id"] and status_notice["case"]["status"] == "pending"
    # the SLA clock may store its own change right after ours; the notice carries the case as it is then
    assert status_notice["case"]["version"] >= new_version
    assert seen[0]["event_type"] == "caseline.case.opened" and seen[0]["case"]["number"] == case["number"]


def test_customers_and_bad_tokens_are_refused_with_4401(live_server) -> None:
    server, world = live_server
    assert _refusal(server, _login(server, "alice@example.com")) == 4401
    assert _refusal(server, "not-a-token") == 4401
    assert _refusal(server, None) == 4401
    forged = LocalTokens(Settings(jwt_secret="not-the-secret-this-server-signs-its-tokens-with")).issue(
        subject="x", role=Role.ADMIN, caseline_id=world.admin.id, name="Max", email="max@caseline.dev")
    assert _refusal(server, forged) == 4401
    expired = LocalTokens(Settings(data_dir=server.data_dir)).issue(
        subject="x", role=Role.AGENT, caseline_id=world.agent.id, name="Ada", email="ada@caseline.dev", lifetime=-60)
    assert _refusal(server, expired) == 4401
