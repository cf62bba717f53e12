"""SLA policies and team calendars over HTTP: versions as ETags, If-Match, and problem details for bad input."""

from __future__ import annotations

from .conftest import Api

PROBLEM = "application/problem+json"


def _policy(policy_id: str = "weekdays", minutes: int = 240) -> dict:
    return {"id": policy_id, "name": "Weekdays", "warning_ratio": 0.8,
            "targets": [{"priority": "normal", "first_response_minutes": minutes, "resolution_minutes": 960}],
            "escalations": [{"when": "breached", "notify_supervisor": True, "raise_priority_to": "high"}]}


def _calendar(policy_id: str | None = None, country: str = "DE") -> dict:
    body: dict = {"calendar": {"time_zone": "Europe/Berlin", "holiday_country": country,
                               "weekly_hours": {"mon": [{"start": "09:00", "end": "17:00"}],
                                                "tue": [{"start": "09:00", "end": "12:00"}]}}}
    if policy_id:
        body["sla_policy_id"] = policy_id
    return body


def test_the_built_in_default_policy_is_readable_before_anything_is_stored(sqlite_api: Api) -> None:
    response = sqlite_api.request("GET", "/sla-policies/default", sqlite_api.world.agent)
    assert response.status_code == 200
    assert response.headers["ETag"] == '"0"'
    assert response.json()["policy"]["name"] == "24x7"
    listing = sqlite_api.request("GET", "/sla-policies", sqlite_api.world.agent).json()
    assert [p["policy"]["id"] for p in listing["items"]] == ["default"]


def test_saving_a_policy_needs_if_match_once_it_exists(sqlite_api: Api) -> None:
    admin = sqlite_api.world.admin
    created = sqlite_api.request("PUT", "/sla-policies/weekdays", admin, json=_policy())
    assert created.status_code == 200 and created.headers["ETag"] == '"1"'
    again = sqlite_api.request("PUT", "/sla-policies/weekdays", admin, json=_policy(minutes=120))
    assert again.status_code == 428 and again.headers["content-type"].startswith(PROBLEM)
    changed = sqlite_api.request("PUT", "/sla-policies/weekdays", admin, json=_policy(minutes=120),
                                 headers={"If-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    stale = sqlite_api.request("PUT", "/sla-policies/weekdays", admin, json=_policy(minutes=60),
                               headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.headers["content-type"].startswith(PROBLEM)
    read = sqlite_api.request("GET", "/sla-policies/weekdays", sqlite_api.world.agent).json()
    assert read["version"] == 2 and read["policy"]["targets"][0]["first_response_minutes"] == 120
    trail = [p["policy"]["id"] for p in sqlite_api.request("GET", "/sla-policies", admin).json()["items"]]
    assert trail == ["default", "weekdays"]


def test_bad_policies_are_problem_details(sqlite_api: Api) -> None:
    admin = sqlite_api.world.admin
    mismatch = sqlite_api.request("PUT", "/sla-policies/weekdays", admin, json=_policy("other"))
    assert mismatch.status_code == 422 and mismatch.headers["content-type"].startswith(PROBLEM)
    twice = _policy()
    twice["targets"].append(dict(twice["targets"][0]))
    assert sqlite_api.request("PUT", "/sla-policies/weekdays", admin, json=twice).status_code == 422
    idle = _policy()
    idle["escalations"] = [{"when": "warning"}]
    response = sqlite_api.request("PUT", "/sla-policies/weekdays", admin, json=idle)
    assert response.status_code == 422 and response.headers["content-type"].startswith(PROBLEM)
    assert sqlite_api.request("PUT", "/sla-policies/Bad%20Id", admin, json=_policy()).status_code == 422
    assert sqlite_api.request("GET", "/sla-policies/nothing-here", admin).status_code == 404


def test_a_team_calendar_names_its_policy_and_its_holidays(sqlite_api: Api) -> None:
    admin, team = sqlite_api.world.admin, sqlite_api.world.billing
    before = sqlite_api.request("GET", f"/teams/{team.id}/calendar", sqlite_api.world.agent)
    assert before.status_code == 200 and before.json()["version"] == 0
    assert before.json()["calendar"]["name"] == "24x7"
    unknown_policy = sqlite_api.request("PUT", f"/teams/{team.id}/calendar", admin, json=_calendar("nope"))
    assert unknown_policy.status_code == 422 and unknown_policy.headers["content-type"].startswith(PROBLEM)
    unknown_country = sqlite_api.request("PUT", f"/teams/{team.id}/calendar", admin, json=_calendar(country="XX"))
    assert unknown_country.status_code == 422
    assert sqlite_api.request("PUT", "/teams/01J00000000000000000000000/calendar", admin,
                              json=_calendar()).status_code == 404
    assert sqlite_api.request("PUT", "/sla-policies/weekdays", admin, json=_policy()).status_code == 200
    saved = sqlite_api.request("PUT", f"/teams/{team.id}/calendar", admin, json=_calendar("weekdays"))
    assert saved.status_code == 200 and saved.headers["ETag"] == '"1"'
    read = sqlite_api.request("GET", f"/teams/{team.id}/calendar", sqlite_api.world.supervisor).json()
    assert read["sla_policy_id"] == "weekdays" and read["calendar"]["holiday_country"] == "DE"
    assert read["calendar"]["weekly_hours"]["tue"] == [{"start": "09:00", "end": "12:00"}]
