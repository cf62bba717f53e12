"""The HTTP webhook sender against a real HTTP server on localhost: signature, headers, answers, timeouts."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from caseline.adapters.http_webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    HttpWebhookSender,
    verify,
)
from caseline.ports.webhooks import WebhookUnavailable

SECRET = b"s3cret-for-tests"
NOW = 1_790_000_000


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answer = 204
        self.delay = 0.0


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        if self.server.delay:
            time.sleep(self.server.delay)
        self.send_response(self.server.answer)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _sender(timeout: float = 5.0) -> HttpWebhookSender:
    return HttpWebhookSender(lambda: SECRET, timeout=timeout, clock=lambda: NOW)


def _url(receiver: Receiver) -> str:
    return f"http://127.0.0.1:{receiver.server_address[1]}/hook"


def test_a_delivery_is_signed_json_with_its_id_and_event(receiver: Receiver) -> None:
    result = _sender().send(_url(receiver), {"case": {"id": "c1"}, "rule_id": "r1"}, delivery_id="e1:r1:0",
                            event_type="caseline.rules.case_opened")
    assert (result.status, result.delivered) == (204, True)
    [(headers, body)] = receiver.received
    assert json.loads(body) == {"case": {"id": "c1"}, "rule_id": "r1"}
    assert headers["content-type"] == "application/json"
    assert headers[DELIVERY_HEADER.lower()] == "e1:r1:0"
    assert headers[EVENT_HEADER.lower()] == "caseline.rules.case_opened"
    signature = headers[SIGNATURE_HEADER.lower()]
    assert signature.startswith(f"t={NOW},v1=")
    assert verify(SECRET, signature, body, now=NOW + 10)
    assert not verify(b"another secret", signature, body, now=NOW)
    assert not verify(SECRET, signature, body + b" ", now=NOW)
    assert not verify(SECRET, signature, body, now=NOW + 3600)  # an old delivery replayed


def test_a_client_error_is_an_answer_and_a_server_error_is_worth_a_retry(receiver: Receiver) -> None:
    receiver.answer = 410
    refused = _sender().send(_url(receiver), {}, delivery_id="d", event_type="t")
    assert (refused.status, refused.delivered) == (410, False)
    receiver.answer = 503
    with pytest.raises(WebhookUnavailable, match="503"):
        _sender().send(_url(receiver), {}, delivery_id="d", event_type="t")


def test_an_unreachable_or_slow_receiver_is_worth_a_retry(receiver: Receiver) -> None:
    receiver.delay = 1.0
    with pytest.raises(WebhookUnavailable, match="Timeout"):
        _sender(timeout=0.2).send(_url(receiver), {}, delivery_id="d", event_type="t")
    with pytest.raises(WebhookUnavailable):
        _sender().send("http://127.0.0.1:9/nothing-listens-here", {}, delivery_id="d", event_type="t")


def test_without_a_secret_nothing_is_sent(receiver: Receiver) -> None:
    with pytest.raises(ValueError, match="signing secret"):
        HttpWebhookSender(lambda: b"").send(_url(receiver), {}, delivery_id="d", event_type="t")
    assert receiver.received == []
