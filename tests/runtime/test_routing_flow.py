"""Routing as people meet it: a real `caseline dev`, real HTTP. An admin saves a routing policy, a case is
opened, and the dispatcher's routing consumer hands it to the one online agent with the skill."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from caseline import bootstrap
from caseline.adapters.embedded.sqlite_table import SqliteTable
from caseline.domain.agents import Agent, Availability
from caseline.ports.clock import UlidIds
from caseline.settings import Settings

from ..conftest import World, make_world
from ..support.dev_server import DevServer, free_port

WAIT = 15  # seconds to wait for the consumer to act (a guard, not a measurement)


@pytest.fixture(scope="module")
def routed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevServer, World, dict[str, Agent]]]:
    data_dir = tmp_path_factory.mktemp("routing") / "data"
    data_dir.mkdir(parents=True)
    table = SqliteTable(data_dir / "caseline.db", stream_filter=bootstrap.is_outbox_item)
    platform = bootstrap.build(Settings(data_dir=data_dir), table=table)
    world = make_world(platform)
    ids = UlidIds()
    agents = {
        "expert": Agent(id=ids.new(), name="Erin Expert", email="erin@caseline.dev", handle="erin",
                        skills=["billing"], team_ids=[world.tech.id], availability=Availability.ONLINE),
        "away": Agent(id=ids.new(), name="Ari Away", email="ari@caseline.dev", handle="ari",
                      skills=["billing"], team_ids=[world.tech.id], availability=Availability.AWAY),
        "novice": Agent(id=ids.new(), name="Nia Novice", email="nia@caseline.dev", handle="nia",
                        team_ids=[world.tech.id], availability=Availability.ONLINE),
    }
    uow = platform.deps.store.begin()
    for agent in agents.values():
        uow.put_agent(agent)
    uow.commit()
    table.close()
    server = DevServer(data_dir, free_port())
    server.start()
    yield server, world, agents
    server.stop()


def _headers(server: DevServer, email: str) -> dict[str, str]:
    answer = httpx.post(server.url + "/auth/dev-login", json={"email": email})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _wait_for_assignee(server: DevServer, headers: dict[str, str], case_id: str) -> dict:
    deadline = time.monotonic() + WAIT
    while True:
        case = httpx.get(f"{server.url}/cases/{case_id}", headers=headers).json()["case"]
        if case.get("assignee_id") or time.monotonic() > deadline:
            return case
        time.sleep(0.1)


def test_an_opened_case_is_assigned_to_the_online_agent_with_the_skill(routed_server) -> None:
    server, world, agents = routed_server
    admin = _headers(server, "max@caseline.dev")
    supervisor = _headers(server, "sue@caseline.dev")
    agent = _headers(server, "ada@caseline.dev")

    assert httpx.get(server.url + "/routing/policy", headers=supervisor).json()["enabled"] is False
    refused = httpx.put(server.url + "/routing/policy", headers=supervisor, json={"policy": {}})
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    bad = httpx.put(server.url + "/routing/policy", headers=admin,
                    json={"policy": {"offline_grace_minutes": -1}})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    saved = httpx.put(server.url + "/routing/policy", headers={**admin, "If-Match": '"0"'},
                      json={"policy": {"category_skills": {"billing": "billing"}, "round_robin_fallback": False}})
    assert saved.status_code == 200, saved.text
    assert saved.headers["etag"] == '"1"'
    stale = httpx.put(server.url + "/routing/policy", headers={**admin, "If-Match": '"0"'}, json={"policy": {}})
    assert stale.status_code == 412

    opened = httpx.post(server.url + "/cases", headers=agent, json={
        "channel": "email", "subject": "Charged twice", "text": "My card was charged twice.",
        "requester": {"email": "alice@example.com"}, "team_id": world.tech.id, "category": "billing",
        "language": "en"})
    assert opened.status_code == 201, opened.text

    case = _wait_for_assignee(server, agent, opened.json()["id"])
    assert case["assignee_id"] == agents["expert"].id
    trail = httpx.get(f"{server.url}/cases/{case['id']}/audit", headers=supervisor).json()["items"]
    [decision] = [r for r in trail if r["action"] == "routing.decided"]
    assert decision["actor_id"] == "system"
    assert "category billing needs skill billing" in decision["changes"]["reasons"]["after"]
    assert any("1 not online" in r and "1 without skill billing" in r for r in decision["changes"]["reasons"]["after"])
