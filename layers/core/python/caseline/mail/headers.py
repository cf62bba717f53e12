"""Header values: RFC 2047 encoded words, raw 8-bit bytes, address lists, message ids and dates.

These are written by hand rather than taken from the `email` package's header registry because inbound mail
needs the lenient reading: an address list with an unquoted `@` in a display name, an encoded word split in
the middle of a multi-byte character, a GB2312 label on GBK text. Nothing here raises on odd input; problems
go to the `defects` list the caller passes in.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from .charsets import decode_bytes, normalise_label
from .models import Address

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")
_MSG_ID = re.compile(r"<([^<>\s]+)>")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_SPACES = re.compile(r"\s+")


def recover_8bit(value: str, defects: list[str], where: str) -> str:
    """Undo the surrogate escapes the `email` parser leaves for raw 8-bit header bytes (usually UTF-8)."""
    if value.isascii() or not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    decoded = decode_bytes(raw, "utf-8")
    defects.append(f"raw 8-bit bytes in {where}" + (f" ({decoded.defect})" if decoded.defect else ""))
    return decoded.text


def unfold(value: str) -> str:
    return _FOLD.sub("", value).replace("\r", "").replace("\n", " ")


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    try:
        if encoding in "Bb":
            payload = payload.rstrip("=")
            return base64.b64decode(payload + "=" * (-len(payload) % 4), validate=False)
        data = payload.replace("_", " ").encode("ascii", "replace")
        return _QP_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), data)
    except (binascii.Error, ValueError):
        return None


def decode_words(value: str, defects: list[str], where: str = "header") -> str:
    """Decode RFC 2047 encoded words; whitespace between adjacent words goes, as the RFC says.

    Adjacent words in the same charset are joined as bytes before decoding, because senders split a
    multi-byte character across two words more often than they should.
    """
    if "=?" not in value:
        return value
    pieces: list[str] = []
    pending: bytes = b""
    pending_charset: str | None = None
    position = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending_charset is not None:
            decoded = decode_bytes(pending, pending_charset, default="utf-8")
            if decoded.defect:
                defects.append(f"{where}: {decoded.defect}")
            pieces.append(decoded.text)
        pending, pending_charset = b"", None

    after_word = False
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        position = match.end()
        charset = normalise_label(match.group(1))
        data = _word_bytes(match.group(2), match.group(3))
        adjacent = after_word and (not between or between.isspace())
        if data is None:
            flush()
            pieces.append(between + match.group(0))
            defects.append(f"{where}: undecodable encoded word")
            after_word = False
            continue
        if adjacent and charset == pending_charset:
            pending += data
        else:
            flush()
            if not adjacent:
                pieces.append(between)
            pending_charset, pending = charset, data
        after_word = True
    flush()
    pieces.append(value[position:])
    return "".join(pieces)


def header_text(raw: str, defects: list[str], name: str) -> str:
    """A header's raw value as display text: 8-bit recovered, unfolded, encoded words decoded."""
    value = recover_8bit(raw, defects, f"{name} header")
    return decode_words(unfold(value), defects, f"{name} header").strip()


def _split_top_level(value: str) -> list[str]:
    """Split an address list on commas (and group ends) outside quotes, angle brackets and comments."""
    chunks: list[str] = []
    current: list[str] = []
    quoted = False
    angle = 0
    comment = 0
    index = 0
    length = len(value)
    while index < length:
        ch = value[index]
        if ch == "\\" and (quoted or comment) and index + 1 < length:
            current.append(value[index : index + 2])
            index += 2
            continue
        if not quoted and not comment and ch == "=" and value.startswith("=?", index):
            match = _ENCODED_WORD.match(value, index)
            if match:
                current.append(match.group(0))
                index = match.end()
                continue
        if quoted:
            quoted = ch != '"'
        elif comment:
            comment += {"(": 1, ")": -1}.get(ch, 0)
        elif ch == '"':
            quoted = True
        elif ch == "(":
            comment = 1
        elif ch == "<":
            angle += 1
        elif ch == ">":
            angle = max(0, angle - 1)
        elif angle == 0 and ch in ",;":
            chunks.append("".join(current))
            current = []
            index += 1
            continue
        elif angle == 0 and ch == ":" and "@" not in "".join(current):
            # A group ("Team: a@x, b@y;"): the group name is no mailbox.
            current = []
            index += 1
            continue
        current.append(ch)
        index += 1
    chunks.append("".join(current))
    return [chunk.strip() for chunk in chunks if chunk.strip()]


def _strip_comments(text: str) -> tuple[str, list[str]]:
    out: list[str] = []
    comments: list[str] = []
    depth = 0
    quoted = False
    buffer: list[str] = []
    for ch in text:
        if depth:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    comments.append("".join(buffer).strip())
                    buffer = []
                    continue
            buffer.append(ch)
        elif ch == '"':
            quoted = not quoted
            out.append(ch)
        elif ch == "(" and not quoted:
            depth = 1
        else:
            out.append(ch)
    return "".join(out), comments


def _unquote_name(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    else:
        name = name.replace('"', "")
    return _SPACES.sub(" ", name).strip()


def _clean_address(address: str) -> str | None:
    address = address.strip().strip("<>").strip()
    if address.lower().startswith("mailto:"):
        address = address[7:]
    if ":" in address and address.startswith("@"):
        address = address.split(":", 1)[1]  # an obsolete source route (@relay,@relay:user@host)
    address = address.strip().strip('"').strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(ch.isspace() for ch in address) or "@" in domain:
        return None
    return f"{local}@{domain.rstrip('.').lower()}"


def parse_addresses(raw: str, defects: list[str], name: str = "address") -> list[Address]:
    """Parse an address list leniently: the angle-addr is the address, whatever the display name holds."""
    value = unfold(recover_8bit(raw, defects, f"{name} header"))
    result: list[Address] = []
    for chunk in _split_top_level(value):
        open_at = chunk.rfind("<")
        close_at = chunk.find(">", open_at + 1) if open_at >= 0 else -1
        if open_at >= 0 and close_at > open_at:
            address = _clean_address(chunk[open_at + 1 : close_at])
            display, _ = _strip_comments(chunk[:open_at] + " " + chunk[close_at + 1 :])
        else:
            bare, comments = _strip_comments(chunk)
            address = _clean_address(bare)
            display = " ".join(comments)
            if address is None and bare.strip():
                # "Name addr@x" without brackets: the last word holding an @ is the address.
                words = bare.split()
                for index in range(len(words) - 1, -1, -1):
                    address = _clean_address(words[index])
                    if address:
                        display = " ".join(words[:index] + words[index + 1 :])
                        defects.append(f"{name} header: address without angle brackets after a display name")
                        break
        if address is None:
            defects.append(f"{name} header: unparseable mailbox {chunk[:80]!r}")
            continue
        display_name = decode_words(_unquote_name(display), defects, f"{name} header")
        result.append(Address(address=address, name=_SPACES.sub(" ", display_name).strip()))
    return result


def parse_msg_ids(raw: str, defects: list[str], name: str) -> list[str]:
    """Message ids without their angle brackets; a bare token is accepted when no bracketed id is there."""
    value = unfold(recover_8bit(raw, defects, f"{name} header"))
    ids = _MSG_ID.findall(value)
    if not ids:
        bare = [token for token in value.split() if "@" in token]
        if bare:
            defects.append(f"{name} header: message id without angle brackets")
            ids = [token.strip("<>,;") for token in bare]
    return ids


def parse_date(raw: str, defects: list[str]) -> datetime | None:
    value = unfold(recover_8bit(raw, defects, "Date header")).strip()
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append(f"Date header unparseable: {value[:80]!r}")
        return None
    if parsed.tzinfo is None:
        # "-0000" means UTC with the sender's zone unknown (RFC 5322 3.3).
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
