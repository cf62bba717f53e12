"""Whatever bytes arrive, parsing gives a ParsedMessage, and the rest of the pipeline accepts it."""

from __future__ import annotations

import hashlib

from caseline.mail import ParsedMessage, parse_message
from caseline.mail.classify import classify
from caseline.mail.quotes import split_reply
from caseline.mail.threading import find_thread
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import OURS
from .messages import generate

CORPUS = sorted(name for name in generate.MESSAGES if len(generate.MESSAGES[name]) < 20_000)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(raw: bytes) -> ParsedMessage:
    parsed = parse_message(raw)
    assert isinstance(parsed, ParsedMessage)
    assert parsed.size == len(raw)
    for attachment in parsed.attachments:
        assert attachment.size == len(attachment.data)
        assert attachment.sha256 == hashlib.sha256(attachment.data).hexdigest()
        assert attachment.filename and "/" not in attachment.filename and "\\" not in attachment.filename
    assert parsed.date is None or parsed.date.tzinfo is not None
    classify(parsed, [OURS], [f"support@{OURS}"])
    find_thread(parsed, [OURS])
    split_reply(parsed.text)
    ParsedMessage.model_validate_json(parsed.model_dump_json())
    return parsed


@SETTINGS
@given(st.binary(max_size=4000))
def test_arbitrary_bytes(raw: bytes) -> None:
    check(raw)


HEADERISH = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "From",
                "To",
                "Cc",
                "Subject",
                "Date",
                "Message-ID",
                "References",
                "Content-Type",
                "Content-Disposition",
                "Content-Transfer-Encoding",
                "MIME-Version",
                "X-Junk",
            ]
        ),
        st.binary(max_size=200),
    ),
    max_size=12,
)


@SETTINGS
@given(HEADERISH, st.binary(max_size=2000))
def test_arbitrary_headers_and_body(headers: list[tuple[str, bytes]], body: bytes) -> None:
    check(b"\r\n".join(name.encode() + b": " + value for name, value in headers) + b"\r\n\r\n" + body)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(generate.MESSAGES[draw(st.sampled_from(CORPUS))])
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        operation = draw(st.sampled_from(["flip", "cut", "insert", "delete", "duplicate"]))
        at = draw(st.integers(min_value=0, max_value=max(0, len(data) - 1)))
        if operation == "flip" and data:
            data[at] = draw(st.integers(min_value=0, max_value=255))
        elif operation == "cut":
            del data[at:]
        elif operation == "insert":
            data[at:at] = draw(
                st.sampled_from(
                    [
                        b"\r\n",
                        b"\n\n",
                        b"--",
                        b"=?",
                        b"?=",
                        b"\x00",
                        b"\xff\xfe",
                        b'"',
                        b"<",
                        b">",
                        b";",
                        b"=",
                        b"*0*=",
                        b"boundary=",
                        b"=\n",
                        b"\xe9",
                    ]
                )
            )
        elif operation == "delete":
            del data[at : at + draw(st.integers(min_value=1, max_value=40))]
        else:
            end = min(len(data), at + draw(st.integers(min_value=1, max_value=200)))
            data[at:at] = data[at:end]
    return bytes(data)


@SETTINGS
@given(mutated())
def test_mutated_real_messages(raw: bytes) -> None:
    check(raw)


def test_every_corpus_message_passes_the_checks() -> None:
    for name, raw in generate.MESSAGES.items():
        check(raw), name
