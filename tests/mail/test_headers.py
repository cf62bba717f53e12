"""Header decoding, address lists and the charset fallback chain, piece by piece."""

from __future__ import annotations

import pytest
from caseline.mail import Address
from caseline.mail.charsets import codec_for, decode_bytes
from caseline.mail.headers import decode_words, header_text, parse_addresses


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("gb2312", "gb18030"),
        ("GBK", "gb18030"),
        ("Shift_JIS", "cp932"),
        ("ISO-2022-JP", "iso2022_jp_2"),
        ("euc-kr", "cp949"),
        ("ks_c_5601-1987", "cp949"),
        ("iso-8859-1", "cp1252"),
        ('"utf-8"', "utf-8"),
        ("utf-8*en", "utf-8"),
        ("x-unknown", None),
        ("rot13", None),
        ("base64", None),
        ("unicode_escape", None),
        ("", None),
    ],
)
def test_charset_labels(label: str, codec: str | None) -> None:
    assert codec_for(label) == codec


def test_decode_bytes_fallback_chain() -> None:
    assert decode_bytes("héllo".encode(), "utf-8").text == "héllo"
    assert decode_bytes(b"\xef\xbb\xbfhi", "utf-8").text == "hi"
    latin = decode_bytes("Preis 5 €".encode("cp1252"), "iso-8859-1")
    assert (latin.text, latin.defect) == ("Preis 5 €", None)  # ISO-8859-1 read as its superset windows-1252
    declared_ascii = decode_bytes("Grüße".encode(), "us-ascii")
    assert (declared_ascii.text, declared_ascii.defect) == ("Grüße", "text declared as us-ascii is UTF-8")
    unknown = decode_bytes(b"caf\xe9", "x-mac-klingon")
    assert (unknown.text, unknown.defect) == ("café", "unknown charset 'x-mac-klingon'; decoded as windows-1252")
    lossy = decode_bytes(b"\x81\x8d\x90", "utf-8")
    assert lossy.text == "\ufffd\ufffd\ufffd"
    assert lossy.defect == "text is not valid utf-8; decoded as windows-1252 with losses"


def test_encoded_words() -> None:
    defects: list[str] = []
    assert decode_words("=?utf-8?q?a_b?= =?utf-8?q?c?=", defects) == "a bc"
    assert decode_words("x =?utf-8?b?w6k=?= y", defects) == "x é y"
    assert decode_words("=?ISO-8859-1?Q?caf=E9?=, =?utf-8?q?ok?=", defects) == "café, ok"
    assert decode_words("=?utf-8?q?a?==?utf-8?q?b?=", defects) == "ab"  # no space between words
    assert decode_words("=?gb2312?b?zcvuXw==?=", defects) == decode_words("=?gbk?b?zcvuXw==?=", defects)
    assert defects == []
    assert decode_words("=?unknown-cs?q?caf=C3=A9?=", defects) == "café"
    assert defects == ["header: unknown charset 'unknown-cs'; decoded as UTF-8"]


def test_header_text_unfolds() -> None:
    assert header_text("Hello\r\n world\n\tagain", [], "Subject") == "Hello world\tagain"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ann@example.org", [Address(address="ann@example.org")]),
        ("Ann <ann@EXAMPLE.org>", [Address(address="ann@example.org", name="Ann")]),
        ("<ann@example.org>", [Address(address="ann@example.org")]),
        ('"Ann, Example" <ann@example.org>', [Address(address="ann@example.org", name="Ann, Example")]),
        ("ann@example.org (Ann Example)", [Address(address="ann@example.org", name="Ann Example")]),
        ("Ann (work) <ann@example.org>", [Address(address="ann@example.org", name="Ann")]),
        ('"ceo@example.com" <x@evil.example.net>', [Address(address="x@evil.example.net", name="ceo@example.com")]),
        ("ceo@example.com <x@evil.example.net>", [Address(address="x@evil.example.net", name="ceo@example.com")]),
        ("<@relay.example.net:ann@example.org>", [Address(address="ann@example.org")]),
        ("mailto:ann@example.org", [Address(address="ann@example.org")]),
        ("undisclosed-recipients:;", []),
        ("Team: a@example.org, b@example.org;", [Address(address="a@example.org"), Address(address="b@example.org")]),
        ("=?utf-8?q?Z=C3=BCrich=2C_AG?= <z@example.ch>", [Address(address="z@example.ch", name="Zürich, AG")]),
        (",,ann@example.org,,", [Address(address="ann@example.org")]),
    ],
)
def test_address_lists(value: str, expected: list[Address]) -> None:
    assert parse_addresses(value, [], "To") == expected


def test_unparseable_mailboxes_are_skipped_and_recorded() -> None:
    defects: list[str] = []
    assert parse_addresses("not an address, ann@example.org", defects, "To") == [Address(address="ann@example.org")]
    assert defects == ["To header: unparseable mailbox 'not an address'"]
