"""The email channel's pure core: parse inbound mail, classify it, find its case, split quotes, detect language.

Plain Python with no I/O: the SMTP server, SES and the services call into it with bytes and get data back.
See docs/email.md.

The names below are imported on first use (PEP 562), not with the package: the functions that only compose
outgoing mail (outbound_email, rules_events) import `caseline.mail.compose`, which runs this file, and should
not pay for the parser and classifier (about 30 ms). `classify` the function lives in `caseline.mail.classify`,
which is also the submodule's name, so it is imported from there.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .classify import Classification, MessageKind
    from .language import detect_language
    from .models import Address, Attachment, HeaderField, ParsedMessage, Report
    from .parse import parse_message, read_headers
    from .quotes import SplitReply, split_reply
    from .threading import ThreadHint, ThreadSource, find_thread, make_message_id

_EXPORTS = {
    "Address": ".models",
    "Attachment": ".models",
    "Classification": ".classify",
    "HeaderField": ".models",
    "MessageKind": ".classify",
    "ParsedMessage": ".models",
    "Report": ".models",
    "SplitReply": ".quotes",
    "ThreadHint": ".threading",
    "ThreadSource": ".threading",
    "detect_language": ".language",
    "find_thread": ".threading",
    "make_message_id": ".threading",
    "parse_message": ".parse",
    "read_headers": ".parse",
    "split_reply": ".quotes",
}
__all__ = [
    "Address",
    "Attachment",
    "Classification",
    "HeaderField",
    "MessageKind",
    "ParsedMessage",
    "Report",
    "SplitReply",
    "ThreadHint",
    "ThreadSource",
    "detect_language",
    "find_thread",
    "make_message_id",
    "parse_message",
    "read_headers",
    "split_reply",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
