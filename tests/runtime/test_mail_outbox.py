"""Outbound email on a real `caseline dev`: an agent's reply over HTTP leaves through the dispatcher into the
maildir, `/mail/outbox` lists it, the raw message is readable, and the case shows it as sent."""

from __future__ import annotations

import email
import email.policy
import time

import httpx
from caseline.domain.auth import Role

from ..support.dev_server import DevServer

WAIT_SECONDS = 20  # how long the background dispatcher may take on a busy machine; not a performance bound


def _eventually(fetch, accept):
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        value = fetch()
        if accept(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_a_reply_over_http_is_listed_on_the_outbox_page_and_marked_sent(running_server: DevServer) -> None:
    url = running_server.url
    agent = {"Authorization": f"Bearer {running_server.token(Role.AGENT)}"}
    case = httpx.post(url + "/cases", headers=agent, json={
        "channel": "email", "subject": "Router <blinks> red", "text": "Since this morning.",
        "requester": {"email": "mo.outbox@example.com", "name": "Mo Outbox"}}).json()
    reply = httpx.post(f"{url}/cases/{case['id']}/replies", headers=agent,
                       json={"text": "Please hold the reset button for ten seconds."})
    assert reply.status_code == 201, reply.text
    assert reply.json()["delivery_status"] == "queued"

    def listed() -> list[dict]:
        items = httpx.get(url + "/mail/outbox", headers={"Accept": "application/json"}).json()["items"]
        return [i for i in items if i["case_id"] == case["id"]]

    [item] = _eventually(listed, bool)
    assert item["to"] == ["mo.outbox@example.com"]
    assert item["subject"] == f"Router <blinks> red [#{case['number']}]"
    assert item["case_url"] == f"/desk/cases/{case['id']}"

    page = httpx.get(url + "/mail/outbox", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"Router &lt;blinks&gt; red [#{case['number']}]" in page.text and "<blinks>" not in page.text
    assert item["raw_url"] in page.text

    raw = httpx.get(url + item["raw_url"])
    assert raw.status_code == 200 and raw.headers["x-content-type-options"] == "nosniff"
    message = email.message_from_bytes(raw.content, policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "mo.outbox@example.com"
    assert message["Message-ID"] == f"<case-{case['id']}.{reply.json()['id']}@caseline.localhost>"
    assert "Please hold the reset button" in message.get_body(("plain",)).get_content()

    def interaction() -> dict:
        shown = httpx.get(f"{url}/cases/{case['id']}", headers=agent).json()
        return next(i for i in shown["interactions"] if i["id"] == reply.json()["id"])

    sent = _eventually(interaction, lambda i: i["delivery_status"] == "sent")
    assert sent["delivery"]["status"] == "sent" and sent["delivery"]["provider_id"] == item["key"]

    missing = httpx.get(url + "/mail/outbox/no-such-message")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    escape = httpx.get(url + "/mail/outbox/..%2F..%2Fcaseline.db")  # not a key: never a file outside the maildir
    assert escape.status_code in (401, 404) and b"SQLite" not in escape.content
