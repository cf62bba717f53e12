"""The email channel's pure core: parse inbound mail, classify it, find its case, split quotes, detect language.

Plain Python with no I/O: the SMTP server, SES and the services call into it with bytes and get data back.
"""

from .models import Address, Attachment, HeaderField, ParsedMessage, Report
from .parse import parse_message, read_headers

__all__ = ["Address", "Attachment", "HeaderField", "ParsedMessage", "Report", "parse_message", "read_headers"]
