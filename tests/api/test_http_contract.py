"""What a client of the HTTP API can rely on: status codes, headers, problem details, pagination."""

from __future__ import annotations

import json

from caseline.api.problems import PROBLEM_JSON

from .conftest import Api


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"].startswith("https://")
    return body


def test_create_answers_201_with_location_and_etag(api: Api) -> None:
    created = api.open_case(api.world.agent)
    case = created.json()
    assert created.headers["location"] == f"/cases/{case['id']}"
    assert created.headers["etag"] == '"1"'
    again = api.request("GET", created.headers["location"], api.world.agent)
    assert again.status_code == 200 and again.json()["case"]["number"] == case["number"]
    assert again.headers["etag"] == '"1"'


def test_malformed_json_is_400(api: Api) -> None:
    response = api.request("POST", "/cases", api.world.agent, content=b'{"subject": ',
                           headers={"Content-Type": "application/json"})
    assert "JSON" in _problem(response, 400)["detail"]


def test_schema_violations_are_422_naming_each_field(api: Api) -> None:
    response = api.request("POST", "/cases", api.world.agent,
                           json={"channel": "pigeon", "subject": "", "requester": {"email": "not-an-email"}})
    fields = {e["field"] for e in _problem(response, 422)["errors"]}
    assert {"body.channel", "body.subject", "body.text", "body.requester.email"} <= fields


def test_unknown_route_is_404_and_wrong_method_405(api: Api) -> None:
    _problem(api.request("GET", "/cases/01HZZZZZZZZZZZZZZZZZZZZZZZ/nothing", api.world.agent), 404)
    _problem(api.request("GET", "/nowhere", api.world.agent), 404)
    response = api.request("DELETE", "/cases", api.world.agent)
    _problem(response, 405)
    assert response.headers["allow"] == "POST"


def test_body_over_one_megabyte_is_413(api: Api) -> None:
    big = json.dumps({"channel": "email", "subject": "big", "text": "x" * 1_100_000})
    _problem(api.request("POST", "/cases", api.world.agent, content=big,
                         headers={"Content-Type": "application/json"}), 413)


def test_unknown_case_is_404(api: Api) -> None:
    _problem(api.request("GET", "/cases/01HZZZZZZZZZZZZZZZZZZZZZZZ", api.world.agent), 404)


def test_stale_if_match_is_412_and_changes_nothing(api: Api) -> None:
    case = api.open_case(api.world.agent).json()
    path = f"/cases/{case['id']}"
    first = api.request("PATCH", path, api.world.agent, json={"priority": "high"}, headers={"If-Match": '"1"'})
    assert first.status_code == 200 and first.headers["etag"] == '"2"'
    stale = api.request("PATCH", path, api.world.other_agent, json={"priority": "low"}, headers={"If-Match": '"1"'})
    assert _problem(stale, 412)["current_version"] == 2
    assert api.request("GET", path, api.world.agent).json()["case"]["priority"] == "high"
    _problem(api.request("PATCH", path, api.world.agent, json={"priority": "low"}), 428)
    _problem(api.request("PATCH", path, api.world.agent, json={"priority": "low"}, headers={"If-Match": "junk"}), 412)


def test_idempotency_key_replays_the_first_response(api: Api) -> None:
    body = {"channel": "email", "subject": "Twice?", "text": "once", "requester": {"email": "alice@example.com"}}
    headers = {"Idempotency-Key": "retry-1"}
    first = api.request("POST", "/cases", api.world.agent, json=body, headers=headers)
    second = api.request("POST", "/cases", api.world.agent, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and first.headers["location"] == second.headers["location"]
    other = api.request("POST", "/cases", api.world.agent, json={**body, "text": "changed"}, headers=headers)
    assert _problem(other, 422)["type"].endswith("idempotency-key-reused")
    queue = api.request("GET", "/queues/requesters/" + first.json()["requester_id"], api.world.agent).json()
    assert [c["subject"] for c in queue["items"]].count("Twice?") == 1
    _problem(api.request("POST", "/cases", api.world.agent, json=body, headers={"Idempotency-Key": "bad key"}), 400)


def test_cursor_pagination_walks_the_timeline_once(api: Api) -> None:
    for n in range(7):
        api.open_case(api.world.agent, subject=f"case {n}")
    path = f"/customers/{api.world.alice_id}/timeline"
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.request("GET", path, api.world.agent, params=params).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 14  # opened + first message per case
    assert seen == sorted(seen, reverse=True)
    _problem(api.request("GET", path, api.world.agent, params={"cursor": "eyJwayI6IkNBU0UjMSJ9"}), 400)


def test_missing_or_bad_token_is_401(api: Api) -> None:
    response = api.request("GET", "/cases/01HZZZZZZZZZZZZZZZZZZZZZZZ")
    _problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    _problem(api.client.get("/teams", headers={"Authorization": "Bearer not.a.jwt"}), 401)


def test_health_is_public(api: Api) -> None:
    response = api.request("GET", "/health")
    assert response.status_code == 200 and response.json() == {"status": "ok", "checks": {"table": "ok"}}
