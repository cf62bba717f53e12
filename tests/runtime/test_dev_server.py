"""`caseline dev` as a developer meets it: one process, real HTTP, data that survives a restart."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx

from ..support.dev_server import DevServer

OPENAPI = Path(__file__).resolve().parents[2] / "schemas" / "openapi.json"


def test_serves_docs_openapi_health_and_refuses_anonymous_calls(running_server: DevServer) -> None:
    url = running_server.url
    docs = httpx.get(url + "/api/docs")
    assert docs.status_code == 200 and "SwaggerUIBundle" in docs.text and "/api/openapi.json" in docs.text
    assert httpx.get(url + "/api/openapi.json").json() == json.loads(OPENAPI.read_text())
    assert httpx.get(url + "/health").json()["status"] == "ok"
    denied = httpx.get(url + "/teams")
    assert denied.status_code == 401 and denied.headers["content-type"] == "application/problem+json"
    assert httpx.get(url + "/metrics").json()["outbox"]["dead_lettered"] == 0


def test_data_survives_a_restart_and_ctrl_c_stops_cleanly(dev_server: DevServer) -> None:
    dev_server.start()
    headers = {"Authorization": f"Bearer {dev_server.token()}"}
    created = httpx.post(dev_server.url + "/customers", headers=headers,
                         json={"name": "Rita Restart", "emails": ["rita@example.com"]})
    assert created.status_code == 201
    assert dev_server.stop(signal.SIGINT) == 0
    assert "Caseline stopped." in dev_server.output[-1]
    dev_server.start()
    again = httpx.get(dev_server.url + created.headers["location"], headers=headers)
    assert again.status_code == 200 and again.json()["name"] == "Rita Restart"
    assert dev_server.stop(signal.SIGTERM) == 0
