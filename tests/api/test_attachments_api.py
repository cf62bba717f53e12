"""Attachments over HTTP through the local gateway: the API routes and the signed `/blobs` URLs it serves."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from caseline import bootstrap
from caseline.bootstrap import Platform
from caseline.runtime.blob_routes import blob_routes
from starlette.testclient import TestClient

from ..conftest import World
from .conftest import Api, make_gateway

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
PROBLEM = "application/problem+json"


@pytest.fixture
def api(sqlite_platform: Platform, sqlite_world: World, tmp_path: Path) -> Iterator[Api]:
    gateway, tokens = make_gateway(sqlite_platform, tmp_path, extra_routes=blob_routes(sqlite_platform.deps.blobs))
    with TestClient(gateway.app()) as client:
        yield Api(client, tokens, sqlite_world)


def _ask(api: Api, case_id: str, who, data: bytes = PNG, **fields):
    body = {"filename": "screen shot.png", "content_type": "image/png", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), **fields}
    return api.request("POST", f"/cases/{case_id}/attachments/uploads", who, json=body)


def _put(api: Api, ticket: dict, data: bytes, **headers: str):
    return api.client.put(ticket["upload_url"], content=data, headers={**ticket["headers"], **headers})


def test_upload_reply_download_round_trip(api: Api) -> None:
    case = api.open_case(api.world.alice_id).json()
    asked = _ask(api, case["id"], api.world.alice_id)
    assert asked.status_code == 201, asked.text
    ticket = asked.json()
    assert set(ticket) == {"upload_url", "method", "headers", "expires_at", "attachment"}
    assert ticket["method"] == "PUT" and ticket["headers"] == {"Content-Type": "image/png"}
    sha = hashlib.sha256(PNG).hexdigest()
    assert ticket["attachment"] == {"key": f"cases/{case['id']}/{sha}/screen_shot.png", "filename": "screen shot.png",
                                    "content_type": "image/png", "size": len(PNG), "sha256": sha}
    stored = _put(api, ticket, PNG)
    assert stored.status_code == 200 and stored.headers["etag"] == f'"{sha}"'

    reply = api.request("POST", f"/cases/{case['id']}/replies", api.world.alice_id,
                        json={"text": "Here is what I see", "attachments": [ticket["attachment"]]})
    assert reply.status_code == 201, reply.text
    assert reply.json()["attachments"] == [ticket["attachment"]]

    link = api.request("GET", f"/cases/{case['id']}/attachments/{sha}", api.world.agent)
    assert link.status_code == 200, link.text
    body = link.json()
    assert set(body) == {"url", "expires_at", "filename", "content_type"}
    assert (body["filename"], body["content_type"]) == ("screen shot.png", "image/png")
    fetched = api.client.get(body["url"])  # no Authorization header: the signature is the permission
    assert fetched.status_code == 200 and fetched.content == PNG
    assert fetched.headers["content-type"] == "image/png"
    assert fetched.headers["content-disposition"] == (
        "inline; filename=\"screen shot.png\"; filename*=UTF-8''screen%20shot.png")
    assert fetched.headers["x-content-type-options"] == "nosniff"
    assert api.client.head(body["url"]).status_code == 200


def test_html_files_download_as_attachments_in_a_sandbox(api: Api) -> None:
    page = b"<script>alert(1)</script>"
    case = api.open_case(api.world.agent).json()
    ticket = _ask(api, case["id"], api.world.agent, page, filename="page.html", content_type="text/html").json()
    assert _put(api, ticket, page).status_code == 200
    note = api.request("POST", f"/cases/{case['id']}/notes", api.world.agent,
                       json={"text": "customer sent this", "attachments": [ticket["attachment"]]})
    assert note.status_code == 201
    url = api.request("GET", f"/cases/{case['id']}/attachments/{ticket['attachment']['sha256']}",
                      api.world.agent).json()["url"]
    fetched = api.client.get(url)
    assert fetched.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in fetched.headers["content-security-policy"]


@pytest.mark.parametrize(("change", "status", "slug"), [
    ({"headers": {"Content-Type": "image/jpeg"}}, 415, "content-type-mismatch"),
    ({"data": PNG + b"x"}, 413, "payload-too-large"),
    ({"data": PNG[:-1]}, 400, "size-mismatch"),
    ({"data": PNG[:-1] + b"x"}, 400, "upload-rejected"),
    ({"query": {"size": str(len(PNG) + 1)}}, 403, "signature-rejected"),
    ({"query": {"sig": "0" * 64}}, 403, "signature-rejected"),
    ({"path": "/blobs/cases/%2e%2e/%2e%2e/escape.png"}, 403, "signature-rejected"),
])
def test_uploads_that_differ_from_what_was_signed_are_refused(api: Api, change: dict, status: int, slug: str) -> None:
    case = api.open_case(api.world.agent).json()
    ticket = _ask(api, case["id"], api.world.agent).json()
    parts = urlsplit(ticket["upload_url"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | change.get("query", {})
    url = f"{change.get('path', parts.path)}?{urlencode(query)}"
    response = api.client.put(url, content=change.get("data", PNG),
                              headers={**ticket["headers"], **change.get("headers", {})})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM and response.json()["type"].endswith(slug)
    key = ticket["attachment"]["key"]
    assert api.client.get(f"/blobs/{key}").status_code == 403
    assert bootstrap.deps().blobs.head(key) is None


def test_signed_urls_expire(api: Api, clock) -> None:
    case = api.open_case(api.world.agent).json()
    ticket = _ask(api, case["id"], api.world.agent).json()
    clock.advance(minutes=15, seconds=1)
    late = _put(api, ticket, PNG)
    assert late.status_code == 403 and "expired" in late.json()["detail"]
    ticket = _ask(api, case["id"], api.world.agent).json()
    assert _put(api, ticket, PNG).status_code == 200
    api.request("POST", f"/cases/{case['id']}/replies", api.world.agent,
                json={"text": "x", "attachments": [ticket["attachment"]]})
    url = api.request("GET", f"/cases/{case['id']}/attachments/{ticket['attachment']['sha256']}",
                      api.world.agent).json()["url"]
    clock.advance(minutes=5, seconds=1)
    assert api.client.get(url).status_code == 403


def test_bad_requests_get_problems_naming_the_field(api: Api) -> None:
    case = api.open_case(api.world.agent).json()
    exe = _ask(api, case["id"], api.world.agent, filename="setup.exe", content_type="application/octet-stream")
    assert exe.status_code == 422 and exe.headers["content-type"] == PROBLEM
    assert exe.json()["errors"][0]["field"] == "body.filename"
    huge = _ask(api, case["id"], api.world.agent, size=25 * 1024 * 1024 + 1)
    assert huge.status_code == 422 and huge.json()["errors"][0]["field"] == "body.size"
    ticket = _ask(api, case["id"], api.world.agent).json()
    early = api.request("POST", f"/cases/{case['id']}/replies", api.world.agent,
                        json={"text": "x", "attachments": [ticket["attachment"]]})
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "body.attachments.0"
    missing = api.request("GET", f"/cases/{case['id']}/attachments/{'0' * 64}", api.world.agent)
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    malformed = api.request("GET", f"/cases/{case['id']}/attachments/not-a-hash", api.world.agent)
    assert malformed.status_code == 422
    assert api.client.get("/blobs/cases/x.png").status_code == 403  # unsigned
    wrong_method = api.client.post("/blobs/cases/x.png")
    assert wrong_method.status_code == 405 and wrong_method.headers["content-type"] == PROBLEM
