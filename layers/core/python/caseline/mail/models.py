"""What the parser hands on: one inbound message as plain data, with everything odd about it in `defects`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class MailModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_bytes="base64", val_json_bytes="base64",
                              defer_build=True)


class Address(MailModel):
    """One mailbox. `address` is the angle-addr (or bare) address with its domain lower-cased."""

    address: str
    name: str = ""

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    @property
    def local_part(self) -> str:
        return self.address.rpartition("@")[0]


class HeaderField(MailModel):
    """A header as received, unfolded and decoded (RFC 2047 and raw 8-bit) to text."""

    name: str
    value: str


class Attachment(MailModel):
    filename: str
    content_type: str
    size: int = Field(ge=0)
    sha256: str
    content_id: str | None = None
    inline: bool = False
    data: bytes = Field(repr=False)


class Report(MailModel):
    """The machine-readable part of a multipart/report (RFC 6522): a DSN, an MDN or an ARF feedback report.

    `fields` holds the part's header-like blocks (per-message first, then one per recipient for a DSN), and
    `returned_headers` the headers of the message it is about, when the report carried them.
    """

    report_type: str
    content_type: str
    fields: list[list[HeaderField]] = Field(default_factory=list)
    returned_headers: list[HeaderField] = Field(default_factory=list)


class ParsedMessage(MailModel):
    subject: str = ""
    sender: Address | None = None
    to: list[Address] = Field(default_factory=list)
    cc: list[Address] = Field(default_factory=list)
    reply_to: list[Address] = Field(default_factory=list)
    date: datetime | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = Field(default_factory=list)
    content_type: str = "text/plain"
    text: str = ""
    text_from_html: bool = False
    html: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    report: Report | None = None
    headers: list[HeaderField] = Field(default_factory=list)
    defects: list[str] = Field(default_factory=list)
    size: int = Field(default=0, ge=0)

    def header(self, name: str) -> str | None:
        """The first header called `name` (case-insensitive), or None."""
        wanted = name.lower()
        return next((h.value for h in self.headers if h.name.lower() == wanted), None)

    def header_values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [h.value for h in self.headers if h.name.lower() == wanted]

    @property
    def attached_messages(self) -> list[Attachment]:
        return [a for a in self.attachments if a.content_type == "message/rfc822"]
