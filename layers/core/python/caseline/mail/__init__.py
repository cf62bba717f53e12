"""The email channel's pure core: parse inbound mail, classify it, find its case, split quotes, detect language.

Plain Python with no I/O: the SMTP server, SES and the services call into it with bytes and get data back.
See docs/email.md.
"""

from .classify import Classification, MessageKind, classify
from .language import detect_language
from .models import Address, Attachment, HeaderField, ParsedMessage, Report
from .parse import parse_message, read_headers
from .quotes import SplitReply, split_reply
from .threading import ThreadHint, ThreadSource, find_thread, make_message_id

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
    "classify",
    "detect_language",
    "find_thread",
    "make_message_id",
    "parse_message",
    "read_headers",
    "split_reply",
]
