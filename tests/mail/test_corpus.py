"""The committed test messages are exactly what the generator writes (so nobody edits one by hand)."""

from __future__ import annotations

from pathlib import Path

from .conftest import MESSAGES
from .messages import generate


def test_committed_messages_match_the_generator(tmp_path: Path) -> None:
    written = {path.name: path.read_bytes() for path in generate.write(tmp_path)}
    committed = {path.name: path.read_bytes() for path in MESSAGES.glob("*.eml")}
    assert sorted(committed) == sorted(written)
    stale = [name for name, data in written.items() if committed[name] != data]
    assert stale == [], f"run tests/mail/messages/generate.py: {stale}"
