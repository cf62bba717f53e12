"""Outgoing webhooks: a signed JSON POST to a URL a rule names.

Receivers check `Caseline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the shared
secret, and dedupe on `Caseline-Delivery` (one id per event and rule, the same on every retry).

Adapters: `adapters/http_webhooks.py` (HTTP with httpx) in both runtimes; tests may record deliveries instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class WebhookResult:
    status: int
    delivered: bool  # a 2xx answer


class WebhookUnavailable(Exception):
    """The receiver could not be reached, timed out or answered 5xx/429: worth trying again later."""


class WebhookSender(Protocol):
    def send(self, url: str, payload: dict[str, Any], *, delivery_id: str, event_type: str) -> WebhookResult:
        """POST the payload; a 4xx answer is a result, not an error (retrying would not change it)."""
        ...
