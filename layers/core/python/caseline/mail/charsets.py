"""Turning bytes that claim a charset into text, whatever the claim is worth.

Mail in the wild declares charsets that do not exist, declares Latin-1 for UTF-8 text, and uses labels whose
real-world meaning is a superset of the standard one (GB2312 senders write GBK/GB18030, Shift_JIS senders
write Microsoft's CP932). The order tried is: the declared charset (mapped to its superset), UTF-8, then
Windows-1252 with replacement characters, which cannot fail. Every step past the declared charset is reported
back so the parser can record it as a defect.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

# Labels whose real-world content is a superset of what the label names (as browsers decode them too).
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "csgb2312": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "iso-2022-jp": "iso2022_jp_2",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "unicode-1-1-utf-7": "utf-7",
}

# Labels whose bytes are all-ASCII or single-byte; valid multi-byte UTF-8 under them is almost surely UTF-8.
_SINGLE_BYTE_FAMILIES = ("us-ascii", "ascii", "iso-8859-", "iso8859-", "windows-125", "cp125", "latin", "l1")


_NOT_CHARSETS = {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"}


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str
    defect: str | None = None


def normalise_label(label: str | None) -> str:
    if not label:
        return ""
    # RFC 2231 allows a language suffix (utf-8*en); quotes and spaces appear in broken mail.
    return label.split("*", 1)[0].strip().strip("\"'").lower()


def codec_for(label: str) -> str | None:
    """The Python codec to decode `label` with, or None when nobody knows the label."""
    label = normalise_label(label)
    if not label:
        return None
    name = _SUPERSETS.get(label, label)
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    # Python knows codecs that are no charsets (rot13, base64, unicode_escape): a label naming one is unknown.
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    return info.name


def _is_single_byte(label: str) -> bool:
    return label.startswith(_SINGLE_BYTE_FAMILIES)


def decode_bytes(data: bytes, declared: str | None, *, default: str = "us-ascii") -> Decoded:
    """Decode `data`, trying the declared charset, then UTF-8, then Windows-1252 with replacement."""
    label = normalise_label(declared) or default
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        if label in ("utf-8", "utf8"):
            return Decoded(_strict(data, "utf-8") or data.decode("utf-8", "replace"), "utf-8")
    if not data or (data.isascii() and label in ("us-ascii", "ascii", "utf-8", "utf8", "")):
        return Decoded(data.decode("ascii", "replace"), label or "us-ascii")
    codec = codec_for(label)
    if codec is not None and codec != "utf-8" and _is_single_byte(label) and not data.isascii():
        as_utf8 = _strict(data, "utf-8")
        if as_utf8 is not None:
            return Decoded(as_utf8, "utf-8", f"text declared as {label} is UTF-8")
    if codec is not None:
        text = _strict(data, codec)
        if text is not None:
            return Decoded(text, label)
    problem = f"unknown charset {label!r}" if codec is None else f"text is not valid {label}"
    if codec != "utf-8":
        text = _strict(data, "utf-8")
        if text is not None:
            return Decoded(text, "utf-8", f"{problem}; decoded as UTF-8")
    text = _strict(data, "cp1252")
    if text is not None:
        return Decoded(text, "windows-1252", f"{problem}; decoded as windows-1252")
    return Decoded(data.decode("cp1252", "replace"), "windows-1252", f"{problem}; decoded as windows-1252 with losses")


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError, ValueError):
        return None


def scrub(text: str) -> str:
    """Replace lone surrogates (the stdlib's stand-ins for undecodable bytes) so the text can be encoded."""
    if text.isascii() or not any("\ud800" <= ch <= "\udfff" for ch in text):
        return text
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    return data.decode("utf-8", "replace")
