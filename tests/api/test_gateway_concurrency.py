"""Concurrent requests to one function through the local gateway each get their own answer.

Lambda gives a function instance one event at a time, and the Powertools resolver a handler module builds
keeps the current event, route and route arguments on itself. The local gateway runs handlers on a thread
pool, so two requests to the same function at once must not share that state: otherwise a case read runs
with another request's route arguments, a response is checked against the wrong schema, or a 500 comes
back. `bench/api_load.py` found this under load; a tiny GIL switch interval makes it show in a test.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator

import httpx
import pytest
from caseline.domain.common import Channel
from caseline.services import cases as case_service
from caseline.services.commands import CustomerRef, OpenCase

from .conftest import make_gateway

REQUESTS_PER_CASE = 60


@pytest.fixture
def eager_thread_switching() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_parallel_requests_to_one_function_do_not_mix(sqlite_platform, sqlite_world, tmp_path,
                                                       eager_thread_switching) -> None:
    world = sqlite_world
    staff = world.staff(world.agent)
    case_ids = [case_service.open_case(sqlite_platform.deps, staff, OpenCase(
        channel=Channel.EMAIL, subject=f"Case {n}", text="Hello", requester=CustomerRef(customer_id=world.alice_id),
        team_id=world.billing.id)).id for n in range(4)]
    gateway, tokens = make_gateway(sqlite_platform, tmp_path)
    token = tokens.issue(subject="sub-ada", role=world.agent.role, caseline_id=world.agent.id,
                         name=world.agent.name, email=world.agent.email)
    headers = {"Authorization": f"Bearer {token}"}

    async def one(client: httpx.AsyncClient, n: int) -> str | None:
        case_id = case_ids[n % len(case_ids)]
        if n % 3 == 2:
            response = await client.get(f"/queues/teams/{world.billing.id}/new", headers=headers)
            ok = response.status_code == 200 and {c["id"] for c in response.json()["items"]} == set(case_ids)
        elif n % 3 == 1:
            response = await client.post(f"/cases/{case_id}/notes", headers=headers, json={"text": f"note {n}"})
            ok = response.status_code == 201 and response.json()["case_id"] == case_id
        else:
            response = await client.get(f"/cases/{case_id}", headers=headers)
            ok = response.status_code == 200 and response.json()["case"]["id"] == case_id
        return None if ok else f"{response.request.method} {response.request.url.path}: {response.status_code} " \
                               f"{response.text[:160]}"

    async def run() -> list[str]:
        transport = httpx.ASGITransport(app=gateway.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            found = await asyncio.gather(*(one(client, n) for n in range(REQUESTS_PER_CASE * len(case_ids))))
        return [problem for problem in found if problem]

    assert asyncio.run(run()) == []
