"""Raw RFC 5322 / MIME bytes in, one `ParsedMessage` out, whatever the bytes are.

The stdlib `email` package (policy `default` with parsed headers reused, or `compat32` when the default policy
chokes on a broken part) reads the MIME tree; headers are decoded here (see headers.py) so odd senders get a
lenient reading. The parser never raises: anything it had to guess about is written to `ParsedMessage.defects`.
"""

from __future__ import annotations

import codecs
import email.message
import functools
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from io import BytesIO

from .charsets import decode_bytes, scrub
from .headers import decode_words, header_text, parse_addresses, parse_date, parse_msg_ids, recover_8bit, unfold
from .html import html_to_text, sanitize_html
from .models import Address, Attachment, HeaderField, ParsedMessage, Report

MAX_DEPTH = 40
MAX_REFERENCES = 100
OVERSIZED_HEADER = 64 * 1024
_REPORT_PARTS = {
    "message/delivery-status": "delivery-status",
    "message/global-delivery-status": "delivery-status",
    "message/disposition-notification": "disposition-notification",
    "message/global-disposition-notification": "disposition-notification",
    "message/feedback-report": "feedback-report",
}
_ATTACHED_MESSAGES = {"message/rfc822", "message/global"}
_RETURNED_HEADERS = {"text/rfc822-headers", "message/global-headers"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_COMPAT = policy.compat32
CACHED_HEADER_CHARS = 1000


class _ReusingPolicy(EmailPolicy):
    """`policy.default`, except that a header value is parsed once, not on every read.

    The stdlib builds a new header object, running its full structured parser, each time a header is read,
    and the parser and the walk below read Content-Type a dozen times per message. Header objects are
    immutable (a `str` with read-only attributes) and depend only on the name and the value, so one object
    serves every read of the same header, in this message and in the next ones (most messages carry the
    same few Content-Type and Content-Transfer-Encoding values).
    """

    def header_fetch_parse(self, name, value):  # type: ignore[no-untyped-def]
        if hasattr(value, "name") or len(value) > CACHED_HEADER_CHARS:
            return super().header_fetch_parse(name, value)
        return _parsed_header(self, name, value)


@functools.lru_cache(maxsize=1024)
def _parsed_header(policy_: EmailPolicy, name: str, value: str):  # type: ignore[no-untyped-def]
    return EmailPolicy.header_fetch_parse(policy_, name, value)


_DEFAULT = _ReusingPolicy()


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse one message. Never raises: a message nothing can be made of still comes back, with defects."""
    try:
        return _parse(bytes(raw))
    except Exception as exc:  # the promise is "never raises"; the failure is recorded, not hidden
        return ParsedMessage(size=len(raw), defects=[f"message unreadable: {type(exc).__name__}: {exc}"[:300]])


def read_headers(raw: bytes) -> list[HeaderField]:
    """The decoded header fields of a message (or of a bare header block, as in text/rfc822-headers)."""
    defects: list[str] = []
    try:
        message = BytesParser(policy=_COMPAT).parsebytes(_strip_preamble(raw, defects), headersonly=True)
        return _header_fields(message, defects)
    except Exception:  # same promise as parse_message
        return []


def _parse(raw: bytes) -> ParsedMessage:
    defects: list[str] = []
    data = _strip_preamble(raw, defects)
    try:
        message = BytesParser(policy=_DEFAULT).parsebytes(data)
        body = _Body(defects=[])
        body.walk(message, depth=0)
    except Exception as exc:  # the default policy raises on some broken headers; compat32 reads anything
        message = BytesParser(policy=_COMPAT).parsebytes(data)
        body = _Body(defects=[f"MIME read with compat32 after {type(exc).__name__}"])
        body.walk(message, depth=0)
    defects.extend(_parser_defects(message))
    fields = _header_fields(message, defects)
    values: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        values.setdefault(name.lower(), []).append(value)
    for name in ("from", "subject", "date", "message-id", "in-reply-to", "sender", "reply-to"):
        if len(values.get(name, [])) > 1:
            defects.append(f"{name} header appears {len(values[name])} times; the first one is used")

    def first(name: str) -> str | None:
        found = values.get(name)
        return found[0] if found else None

    senders = parse_addresses(first("from") or "", defects, "From")
    if not senders and first("sender"):
        senders = parse_addresses(first("sender") or "", defects, "Sender")
        defects.append("no usable From header; Sender used")
    if len(senders) > 1:
        defects.append(f"From header holds {len(senders)} mailboxes; the first is the sender")
    message_ids = parse_msg_ids(first("message-id") or "", defects, "Message-ID") if first("message-id") else []
    in_reply_to = parse_msg_ids(first("in-reply-to") or "", defects, "In-Reply-To") if first("in-reply-to") else []
    references = parse_msg_ids(" ".join(values.get("references", [])), defects, "References")
    if len(references) > MAX_REFERENCES:
        defects.append(f"References header lists {len(references)} ids; the first and the last ones kept")
        references = [references[0], *references[-(MAX_REFERENCES - 1) :]]

    text, from_html = body.text()
    html = "\n".join(body.htmls) if body.htmls else None
    defects.extend(body.defects)
    return ParsedMessage(
        subject=header_text(first("subject") or "", defects, "Subject"),
        sender=senders[0] if senders else None,
        to=_addresses(values, "to", defects),
        cc=_addresses(values, "cc", defects),
        reply_to=_addresses(values, "reply-to", defects),
        date=parse_date(first("date") or "", defects) if first("date") else None,
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=references,
        content_type=_content_type(message),
        text=text,
        text_from_html=from_html,
        html=sanitize_html(html) if html is not None else None,
        attachments=body.attachments,
        report=body.report(),
        headers=fields,
        defects=_unique(defects),
        size=len(raw),
    )


def _strip_preamble(raw: bytes, defects: list[str]) -> bytes:
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
        defects.append("UTF-8 byte order mark before the first header")
    if raw.startswith(b"From "):
        end = raw.find(b"\n")
        raw = raw[end + 1 :] if end >= 0 else b""
        defects.append("mbox 'From ' line before the first header")
    stripped = raw.lstrip(b"\r\n")
    if len(stripped) != len(raw):
        defects.append("blank lines before the first header")
    return stripped


def _header_fields(message: Message, defects: list[str]) -> list[HeaderField]:
    fields: list[HeaderField] = []
    for name, value in message.raw_items():
        if len(value) > OVERSIZED_HEADER:
            defects.append(f"oversized {name} header ({len(value)} characters)")
        name = scrub(str(name))
        fields.append(HeaderField(name=name, value=header_text(str(value), defects, name)))
    return fields


def _addresses(values: dict[str, list[str]], name: str, defects: list[str]) -> list[Address]:
    raw = values.get(name)
    if not raw:
        return []
    return parse_addresses(", ".join(str(v) for v in raw), defects, name.title())


def _content_type(message: Message) -> str:
    try:
        return scrub(message.get_content_type())
    except Exception:  # a header the default policy cannot parse
        return "text/plain"


def _parser_defects(message: Message) -> list[str]:
    found: list[str] = []
    try:
        for part in message.walk():
            for defect in getattr(part, "defects", []):
                detail = str(defect)
                found.append(type(defect).__name__ + (f": {detail}" if detail else ""))
    except Exception as exc:  # walking a broken tree can fail; what was found so far still counts
        found.append(f"MIME tree walk failed: {type(exc).__name__}")
    return found


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(scrub(item[:300]) for item in items))


def _raw_header(part: Message, name: str) -> str | None:
    wanted = name.lower()
    for key, value in part.raw_items():
        if key.lower() == wanted:
            return str(value)
    return None


@dataclass
class _Body:
    """Collects what the walk finds: text and HTML body parts, attachments and report parts."""

    defects: list[str]
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    report_type: str | None = None
    report_content_type: str | None = None
    report_fields: list[list[HeaderField]] = field(default_factory=list)
    returned_headers: list[HeaderField] = field(default_factory=list)
    in_report: bool = False

    def text(self) -> tuple[str, bool]:
        text = "\n".join(t.strip("\n") for t in self.texts).replace("\r\n", "\n").replace("\r", "\n").rstrip()
        if text.strip() or not self.htmls:
            return text, False
        return html_to_text("\n".join(self.htmls)), True

    def report(self) -> Report | None:
        if self.report_type is None and not self.report_fields:
            return None
        return Report(
            report_type=self.report_type or "",
            content_type=self.report_content_type or "",
            fields=self.report_fields,
            returned_headers=self.returned_headers,
        )

    def _child(self) -> _Body:
        return _Body(defects=self.defects, attachments=self.attachments, in_report=self.in_report)

    def _absorb(self, other: _Body, *, texts: bool = True, htmls: bool = True) -> None:
        if texts:
            self.texts.extend(other.texts)
        if htmls:
            self.htmls.extend(other.htmls)
        if other.report_fields or other.report_type:
            self.report_type = self.report_type or other.report_type
            self.report_content_type = self.report_content_type or other.report_content_type
            self.report_fields.extend(other.report_fields)
        self.returned_headers = self.returned_headers or other.returned_headers

    def walk(self, part: Message, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.defects.append(f"MIME parts nested deeper than {MAX_DEPTH}; the rest ignored")
            return
        ctype = _content_type(part)
        if ctype in _REPORT_PARTS:
            self._report_part(part, ctype)
        elif ctype in _ATTACHED_MESSAGES:
            self._attached_message(part)
        elif part.is_multipart():
            self._multipart(part, ctype, depth)
        elif ctype in _RETURNED_HEADERS:
            self.returned_headers = read_headers(_payload(part))
        else:
            self._leaf(part, ctype)

    def _multipart(self, part: Message, ctype: str, depth: int) -> None:
        children = [child for child in part.get_payload() if isinstance(child, Message)]
        if ctype == "multipart/alternative":
            subs = []
            for child in children:
                sub = self._child()
                sub.walk(child, depth + 1)
                subs.append(sub)
            with_text = [sub for sub in subs if any(t.strip() for t in sub.texts)]
            with_html = [sub for sub in subs if sub.htmls]
            for sub in subs:
                self._absorb(
                    sub, texts=bool(with_text) and sub is with_text[0], htmls=bool(with_html) and sub is with_html[-1]
                )
            return
        if ctype == "multipart/report":
            self.report_type = scrub(str(part.get_param("report-type") or "")).lower() or None
            self.in_report = True
            if self.report_type is None:
                self.defects.append("multipart/report without a report-type")
        for child in children:
            self.walk(child, depth + 1)

    def _leaf(self, part: Message, ctype: str) -> None:
        disposition = _disposition(part)
        filename = _filename(part, self.defects)
        data = _payload(part)
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            if ctype == "text/plain" and (b"\x00" in data or data.startswith(_OLE_MAGIC)):
                self.defects.append("binary data in a text/plain body; kept as an attachment")
                self._add_attachment(part, data, filename or _binary_name(data), _binary_type(data), "attachment")
                return
            decoded = decode_bytes(data, _charset(part))
            if decoded.defect:
                self.defects.append(f"{ctype} part: {decoded.defect}")
            if ctype == "text/html":
                self.htmls.append(decoded.text)
            elif str(part.get_param("format") or "").lower() == "flowed":
                self.texts.append(unflow(decoded.text, str(part.get_param("delsp") or "").lower() == "yes"))
            else:
                self.texts.append(decoded.text)
            return
        self._add_attachment(part, data, filename, ctype, disposition)

    def _add_attachment(
        self, part: Message, data: bytes, filename: str | None, ctype: str, disposition: str | None
    ) -> None:
        content_id = _content_id(part, self.defects)
        if not filename:
            extension = ".eml" if ctype in _ATTACHED_MESSAGES else (mimetypes.guess_extension(ctype) or ".bin")
            stem = "image" if ctype.startswith("image/") else "attachment"
            filename = f"{stem}-{len(self.attachments) + 1}{extension}"
        elif ctype == "application/octet-stream":
            ctype = mimetypes.guess_type(filename, strict=False)[0] or ctype
        inline = disposition == "inline" or (disposition is None and content_id is not None)
        self.attachments.append(
            Attachment(
                filename=filename,
                content_type=ctype,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                content_id=content_id,
                inline=inline,
                data=data,
            )
        )

    def _attached_message(self, part: Message) -> None:
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            data = _serialise(inner[0])
        else:
            data = _payload(part)
        headers = read_headers(data)
        filename = _filename(part, self.defects)
        if not filename:
            subject = next((h.value for h in headers if h.name.lower() == "subject"), "")
            filename = _safe_filename(subject, self.defects) or "message"
        if not filename.lower().endswith(".eml"):
            filename += ".eml"
        if self.in_report and not self.returned_headers:
            self.returned_headers = headers
        self._add_attachment(part, data, filename, "message/rfc822", _disposition(part) or "attachment")

    def _report_part(self, part: Message, ctype: str) -> None:
        if not self.in_report:
            self.defects.append(f"{ctype} part outside a multipart/report")
        self.report_type = self.report_type or _REPORT_PARTS[ctype]
        self.report_content_type = ctype
        payload = part.get_payload()
        encoding = (_raw_header(part, "content-transfer-encoding") or "").strip().lower()
        if isinstance(payload, list) and encoding in ("base64", "quoted-printable"):
            # The stdlib splits a message/* part into header blocks before undoing its transfer encoding,
            # which leaves an encoded report unreadable: rebuild the encoded text and decode it ourselves.
            self.defects.append(f"{ctype} part with {encoding} transfer encoding")
            holder = email.message.Message()
            holder["Content-Transfer-Encoding"] = encoding
            holder.set_payload("\n".join(_serialise(block).decode("ascii", "replace") for block in payload))
            payload = None
            part = holder
        if isinstance(payload, list):
            for block in payload:
                if not isinstance(block, Message):
                    continue
                fields = _header_fields(block, self.defects)
                if fields:
                    self.report_fields.append(fields)
                rest = block.get_payload()
                if isinstance(rest, str) and rest.strip():
                    self.report_fields.extend(_field_blocks(recover_8bit(rest, self.defects, ctype), self.defects))
        else:
            decoded = decode_bytes(_payload(part), _charset(part), default="utf-8")
            self.report_fields.extend(_field_blocks(decoded.text, self.defects))


def unflow(text: str, delete_space: bool = False) -> str:
    """Join the soft line breaks of format=flowed text (RFC 3676), keeping quote depth as "> " prefixes."""
    out: list[str] = []
    pending: str | None = None
    pending_depth = 0
    for line in text.replace("\r\n", "\n").split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        if pending is not None and depth != pending_depth:
            out.append(_quoted(pending, pending_depth))
            pending = None
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delete_space:
            content = content[:-1]
        pending = content if pending is None else pending + content
        pending_depth = depth
        if not flowed:
            out.append(_quoted(pending, depth))
            pending = None
    if pending is not None:
        out.append(_quoted(pending, pending_depth))
    return "\n".join(out)


def _quoted(content: str, depth: int) -> str:
    return ("> " * depth + content).rstrip() if depth else content


def _field_blocks(text: str, defects: list[str]) -> list[list[HeaderField]]:
    """Parse blank-line separated blocks of `Name: value` lines (the body of a DSN, MDN or ARF part)."""
    blocks: list[list[HeaderField]] = []
    for chunk in re.split(r"\r?\n\s*\r?\n", text.replace("\r\n", "\n")):
        fields: list[HeaderField] = []
        for line in chunk.split("\n"):
            if line[:1] in (" ", "\t") and fields:
                last = fields[-1]
                fields[-1] = HeaderField(name=last.name, value=f"{last.value} {line.strip()}".strip())
            elif ":" in line:
                name, _, value = line.partition(":")
                if name.strip() and " " not in name.strip():
                    fields.append(HeaderField(name=name.strip(), value=decode_words(value.strip(), defects)))
        if fields:
            blocks.append(fields)
    return blocks


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a transfer encoding the stdlib cannot undo: keep what is there
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _serialise(message: Message) -> bytes:
    buffer = BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, policy=_COMPAT.clone(max_line_length=0)).flatten(message)
    except Exception:  # fall back to the string form; an attached message is kept even if imperfect
        return message.as_string(policy=_COMPAT).encode("utf-8", "surrogateescape")
    return buffer.getvalue()


def _disposition(part: Message) -> str | None:
    raw = _raw_header(part, "content-disposition")
    if raw is None:
        return None
    value = unfold(raw).split(";", 1)[0].strip().lower()
    return value or None


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # an RFC 2231 charset parameter in an unknown charset
        return None


def _content_id(part: Message, defects: list[str]) -> str | None:
    raw = _raw_header(part, "content-id")
    if raw is None:
        return None
    ids = parse_msg_ids(raw, [], "Content-ID")
    value = ids[0] if ids else unfold(raw).strip().strip("<>").strip()
    return value or None


def _filename(part: Message, defects: list[str]) -> str | None:
    """The file name from Content-Disposition `filename` or Content-Type `name`, RFC 2231 and 2047 decoded."""
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        raw = _raw_header(part, header)
        if raw is None:
            continue
        holder = email.message.Message()
        holder[header] = unfold(recover_8bit(raw, defects, f"{header} {param}"))
        value = holder.get_param(param, header=header)
        if value is None:
            continue
        if isinstance(value, tuple):  # RFC 2231: (charset, language, text with bytes as Latin-1 characters)
            charset, _, text = value
            try:
                data = text.encode("latin-1")
            except UnicodeEncodeError:
                data = text.encode("utf-8")
            decoded = decode_bytes(data, charset or "utf-8", default="utf-8")
            if decoded.defect:
                defects.append(f"file name: {decoded.defect}")
            name = decoded.text
        else:
            name = str(value)
        if "=?" in name:
            decoded_name = decode_words(name, defects, "file name")
            if decoded_name != name:
                defects.append("file name written as RFC 2047 encoded words inside a quoted parameter")
            name = decoded_name
        safe = _safe_filename(name, defects)
        if safe:
            return safe
    return None


def _safe_filename(name: str, defects: list[str]) -> str | None:
    cleaned = _CONTROL.sub("", name).replace("\\", "/")
    base = cleaned.rsplit("/", 1)[-1].strip().strip(".").strip()
    if base != name.strip():
        defects.append(f"file name {name[:80]!r} cleaned to {base[:80]!r}")
    base = re.sub(r"\s+", " ", base)
    if len(base) > 200:
        stem, dot, extension = base.rpartition(".")
        base = (stem[: 200 - len(extension) - 1] + dot + extension) if dot and len(extension) <= 10 else base[:200]
    return base or None


def _binary_name(data: bytes) -> str:
    return "message.msg" if data.startswith(_OLE_MAGIC) else "body.bin"


def _binary_type(data: bytes) -> str:
    return "application/vnd.ms-outlook" if data.startswith(_OLE_MAGIC) else "application/octet-stream"
