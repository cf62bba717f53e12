"""Key builders for inbound-mail records. The only module that writes their key strings.

- `MAILSRC#<source>`: one item per message source (SES message id, SMTP queue id, or the bytes' SHA-256),
  written in the transaction that stored what the message became, so the same source twice is seen as such.
- `MAILRATE#<sender>#<window>`: a per-sender counter for one rate-limit window, with a TTL.
- `MAILREJ#<id>`: a message we did not turn into a case or interaction, and why; listed newest first through
  `gsi1` (`MAILREJECTIONS`, sorted by the ULID).
"""

from __future__ import annotations

import hashlib

from ..ports.table import Key

REJECTION_LIST = "MAILREJECTIONS"
MAX_KEY_PART = 200


def _part(value: str) -> str:
    """Long or odd values (source ids, addresses) become a digest so that a key stays small."""
    if len(value) <= MAX_KEY_PART and value.isprintable():
        return value
    return "H" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def source(source_id: str) -> Key:
    return {"pk": f"MAILSRC#{_part(source_id)}", "sk": "MAILSRC"}


def rate_window(sender: str, window: int) -> Key:
    return {"pk": f"MAILRATE#{_part(sender.lower())}#{window}", "sk": "MAILRATE"}


def rejection(rejection_id: str) -> Key:
    return {"pk": f"MAILREJ#{rejection_id}", "sk": "MAILREJ"}
