"""Shared by the mail tests: the committed test messages, parsed on demand."""

from __future__ import annotations

from pathlib import Path

from caseline.mail import ParsedMessage, parse_message

MESSAGES = Path(__file__).parent / "messages"
OURS = "help.example.com"
CASE_ID = "01JC2Q9W3S7K8M4N5P6R7T8V9X"
INTERACTION_ID = "01JC2QB4D6F8G0H2J4K6M8N0P2"
OUR_MESSAGE_ID = f"case-{CASE_ID}.{INTERACTION_ID}@{OURS}"


def raw(name: str) -> bytes:
    return (MESSAGES / name).read_bytes()


def parsed(name: str) -> ParsedMessage:
    return parse_message(raw(name))
