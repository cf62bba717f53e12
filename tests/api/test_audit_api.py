"""Supervisors read a case's audit trail through the API."""

from __future__ import annotations

from .conftest import Api


def test_supervisors_read_the_trail_through_the_api(sqlite_api: Api) -> None:
    created = sqlite_api.open_case(sqlite_api.world.agent).json()
    response = sqlite_api.request("GET", f"/cases/{created['id']}/audit", sqlite_api.world.supervisor)
    assert response.status_code == 200
    assert [r["action"] for r in response.json()["items"]] == ["case.opened"]
