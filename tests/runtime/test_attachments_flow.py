"""Attachments on a real `caseline dev`: upload over HTTP, reply, download with the signed link."""

from __future__ import annotations

import hashlib

import httpx
from caseline.domain.auth import Role

from ..support.dev_server import DevServer

LOG = "".join(f"2026-11-02T09:{m:02d}:00Z WARN thermostat hub lost its connection\n" for m in range(60)).encode()


def test_customer_uploads_a_file_replies_with_it_and_the_agent_downloads_it(running_server: DevServer) -> None:
    url = running_server.url
    agent = {"Authorization": f"Bearer {running_server.token(Role.AGENT)}"}
    case = httpx.post(url + "/cases", headers=agent, json={
        "channel": "email", "subject": "Hub offline", "text": "My hub keeps going offline.",
        "requester": {"email": "hana.flow@example.com", "name": "Hana Flow"}}).json()
    customer = {"Authorization": f"Bearer {running_server.token(Role.CUSTOMER, case['requester_id'])}"}

    sha = hashlib.sha256(LOG).hexdigest()
    asked = httpx.post(f"{url}/cases/{case['id']}/attachments/uploads", headers=customer, json={
        "filename": "hub.log", "content_type": "text/plain", "size": len(LOG), "sha256": sha})
    assert asked.status_code == 201, asked.text
    ticket = asked.json()
    put = httpx.put(url + ticket["upload_url"], content=LOG, headers=ticket["headers"])
    assert put.status_code == 200, put.text
    again = httpx.put(url + ticket["upload_url"], content=LOG[:-1] + b"?", headers=ticket["headers"])
    assert again.status_code == 400 and again.headers["content-type"] == "application/problem+json"

    reply = httpx.post(f"{url}/cases/{case['id']}/replies", headers=customer,
                       json={"text": "Log from this morning attached.", "attachments": [ticket["attachment"]]})
    assert reply.status_code == 201, reply.text
    shown = httpx.get(f"{url}/cases/{case['id']}", headers=agent).json()
    assert shown["interactions"][-1]["attachments"] == [ticket["attachment"]]

    link = httpx.get(f"{url}/cases/{case['id']}/attachments/{sha}", headers=agent)
    assert link.status_code == 200, link.text
    download = httpx.get(url + link.json()["url"])
    assert download.status_code == 200 and download.content == LOG
    assert download.headers["content-type"].startswith("text/plain")
    assert 'filename="hub.log"' in download.headers["content-disposition"]
    stranger = {"Authorization": f"Bearer {running_server.token(Role.CUSTOMER)}"}
    assert httpx.get(f"{url}/cases/{case['id']}/attachments/{sha}", headers=stranger).status_code == 404
