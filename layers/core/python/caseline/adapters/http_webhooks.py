"""Webhooks over HTTP (httpx), signed with HMAC-SHA256. The same adapter in AWS and on one machine.

httpx is imported by the first delivery: every function's platform has a webhook sender, and only the rules
ever send (about 25 ms of import that the others would pay on their first request).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..ports.webhooks import WebhookResult, WebhookUnavailable

SIGNATURE_HEADER = "Caseline-Signature"
DELIVERY_HEADER = "Caseline-Delivery"
EVENT_HEADER = "Caseline-Event"
USER_AGENT = "Caseline-Webhooks/1"

if TYPE_CHECKING:
    import httpx


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: bytes, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: the signature matches and is recent (replays of old deliveries are refused)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


class HttpWebhookSender:
    """`secret` is read on first use; the client is created lazily. Redirects are not followed: a webhook URL is
    checked when the rule is saved, and a redirect could lead anywhere."""

    def __init__(self, secret: Callable[[], bytes], *, timeout: float = 5.0, client: httpx.Client | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._secret_source = secret
        self._secret: bytes | None = None
        self._timeout = timeout
        self._client = client
        self._clock = clock

    def _http(self) -> httpx.Client:
        import httpx

        if self._client is None:
            self._client = httpx.Client(timeout=httpx.Timeout(self._timeout), follow_redirects=False,
                                        headers={"User-Agent": USER_AGENT})
        return self._client

    def _signing_key(self) -> bytes:
        if self._secret is None:
            secret = self._secret_source()
            if not secret:
                raise ValueError("webhooks need a signing secret (CASELINE_WEBHOOK_SECRET)")
            self._secret = secret
        return self._secret

    def send(self, url: str, payload: dict[str, Any], *, delivery_id: str, event_type: str) -> WebhookResult:
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(self._signing_key(), int(self._clock()), body),
            DELIVERY_HEADER: delivery_id,
            EVENT_HEADER: event_type,
        }
        import httpx

        try:
            response = self._http().post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise WebhookUnavailable(f"{url}: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise WebhookUnavailable(f"{url} answered {response.status_code}")
        return WebhookResult(status=response.status_code, delivered=200 <= response.status_code < 300)
