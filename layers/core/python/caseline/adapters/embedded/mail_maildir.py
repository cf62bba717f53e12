"""Mail on one machine: every message `caseline dev` sends lands in a maildir instead of the internet.

`<data_dir>/mail/outbox` is a standard maildir (`new/`, `cur/`, `tmp/`): mail clients and `mutt -f` read it,
and the local gateway's `/mail/outbox` page lists it. The envelope is kept in two headers placed above the
message, as a local delivery agent does with Return-Path and Delivered-To.
"""

from __future__ import annotations

import mailbox
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path

from ...ports.mail import MailSender, MailSendError, OutgoingMail

ENVELOPE_FROM = "X-Caseline-Envelope-From"
ENVELOPE_TO = "X-Caseline-Envelope-To"
CASE_HEADER = "X-Caseline-Case"
HEADER_READ_BYTES = 256 * 1024  # the header block of what we compose is a few KB; attachments are not read


@dataclass(frozen=True)
class SentMail:
    key: str
    sent_at: datetime
    sender: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str
    case_id: str | None


class MaildirMailSender(MailSender):
    provider = "maildir"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def _box(self) -> mailbox.Maildir:
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        return mailbox.Maildir(self.directory, create=True)

    def _send(self, message: OutgoingMail) -> str:
        envelope = f"{ENVELOPE_FROM}: {message.sender}\r\n{ENVELOPE_TO}: {', '.join(message.recipients)}\r\n"
        if message.case_id:
            envelope += f"{CASE_HEADER}: {message.case_id}\r\n"
        try:
            with self._lock:
                return self._box().add(envelope.encode("ascii") + message.raw)
        except OSError as exc:
            raise MailSendError(f"could not write to the maildir {self.directory}: {exc}") from exc

    # --- reading back (the /mail/outbox page, tests) --------------------------------------------------------
    def sent(self, limit: int = 100) -> list[SentMail]:
        """What was sent, newest first: the files are ordered by time first, and only `limit` are read."""
        if not self.directory.exists():
            return []
        box = self._box()
        stamped: list[tuple[float, str, Path]] = []
        for key in list(box.iterkeys()):
            try:
                path = self._path(box, key)
                stamped.append((path.stat().st_mtime, key, path))
            except (OSError, KeyError):
                continue  # removed while we listed
        stamped.sort(reverse=True)
        found: list[SentMail] = []
        for mtime, key, path in stamped[:limit]:
            try:
                with path.open("rb") as handle:
                    head = handle.read(HEADER_READ_BYTES).split(b"\r\n\r\n", 1)[0]
            except OSError:
                continue
            headers = BytesHeaderParser(policy=default_policy).parsebytes(head)
            recipients = tuple(r.strip() for r in str(headers.get(ENVELOPE_TO, "")).split(",") if r.strip())
            found.append(SentMail(key=key, sent_at=datetime.fromtimestamp(mtime, UTC),
                                  sender=str(headers.get(ENVELOPE_FROM, "")), recipients=recipients,
                                  subject=str(headers.get("Subject", "")),
                                  message_id=str(headers.get("Message-ID", "")),
                                  case_id=str(headers.get(CASE_HEADER)) if headers.get(CASE_HEADER) else None))
        return found

    def raw(self, key: str) -> bytes:
        """The stored message (envelope headers included); KeyError when there is none under `key`."""
        box = self._box()
        if key not in box:
            raise KeyError(key)
        return self._path(box, key).read_bytes()

    @staticmethod
    def _path(box: mailbox.Maildir, key: str) -> Path:
        return Path(box._path) / box._lookup(key)  # the stdlib keeps the file layout private
